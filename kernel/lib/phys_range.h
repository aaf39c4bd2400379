/* Physical address ranges as (start, length) pairs, compared without wrapping: a range reaching
 * past 2^64 is treated as ending there. Pure C, tested on the host; smp.c uses it to keep the
 * start-up trampoline off the boot information. */
#ifndef KERNEL_LIB_PHYS_RANGE_H
#define KERNEL_LIB_PHYS_RANGE_H

#include <stdbool.h>
#include <stdint.h>

/* Whether [a_start, a_start + a_length) and [b_start, b_start + b_length) share a byte. An empty
 * range (length 0) shares none. */
bool phys_ranges_overlap(uint64_t a_start, uint64_t a_length, uint64_t b_start, uint64_t b_length);

#endif
