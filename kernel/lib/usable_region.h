/* What the frame allocator may use of one multiboot2 memory map entry: its available memory below
 * the limit of what the kernel can reach (the physical map). Pure C, tested on the host. */
#ifndef KERNEL_LIB_USABLE_REGION_H
#define KERNEL_LIB_USABLE_REGION_H

#include <stdint.h>

#include "multiboot2/multiboot2.h"
#include "paging/frame_allocator.h"

enum usable_region_kind {
    USABLE_REGION_NONE,    /* not available memory, or none of it below the limit */
    USABLE_REGION_WHOLE,   /* available and wholly below the limit: *out is the entry */
    USABLE_REGION_CLIPPED, /* available and running past the limit: *out is its part below */
};

/* Classifies entry against limit and, unless it is USABLE_REGION_NONE, fills *out with the usable
 * region [entry base, min(entry end, limit)). An entry whose end lies past 2^64 (base + length
 * wraps) runs past the limit like any other: it is clipped, never kept with its wrapping length. */
enum usable_region_kind usable_region_of(const struct multiboot2_mmap_entry *entry, uint64_t limit,
                                         struct frame_allocator_usable_region *out);

#endif
