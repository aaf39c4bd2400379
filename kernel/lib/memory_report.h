/* The arithmetic of the boot log's memory map report (kernel/main.c), without wrapping: the end of
 * an entry that may reach past 2^64, and the running total of available memory in KiB. Pure C,
 * tested on the host. */
#ifndef KERNEL_LIB_MEMORY_REPORT_H
#define KERNEL_LIB_MEMORY_REPORT_H

#include <stdbool.h>
#include <stdint.h>

/* The end of [base, base + length) in *end; false, *end untouched, when the range reaches 2^64 or
 * past it (its end has no 64-bit value). */
bool memory_range_end(uint64_t base, uint64_t length, uint64_t *end);

/* A sum of byte counts kept as whole KiB and the bytes left over, exact up to 2^64 KiB; past that
 * kib stays at UINT64_MAX and saturated is set. Start from all zero. */
struct memory_total {
    uint64_t kib;
    uint64_t rest; /* bytes, below 1024 */
    bool saturated;
};

void memory_total_add(struct memory_total *total, uint64_t bytes);

#endif
