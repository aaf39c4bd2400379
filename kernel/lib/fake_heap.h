/* Host stand-in for the kernel allocation API (kernel/kmalloc.h) in unit tests: kmalloc and friends
 * over the C library, counting live blocks, with a switch that makes allocation fail. krealloc
 * always moves a block it grows or shrinks and fills the old one with 0xa5 before freeing it, as
 * the kernel heap may move it: a caller still reading the old block reads that. */
#ifndef KERNEL_LIB_FAKE_HEAP_H
#define KERNEL_LIB_FAKE_HEAP_H

#include <stdbool.h>
#include <stddef.h>

/* After this many more successful allocations, every kmalloc/krealloc/kcalloc returns NULL;
 * a negative value means never fail (the default). */
void fake_heap_fail_after(long allocations);

/* Blocks allocated and not yet freed. */
size_t fake_heap_live_blocks(void);

#endif
