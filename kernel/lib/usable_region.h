/* What the frame allocator may use of the multiboot2 memory map: the available memory of each entry
 * below the limit of what the kernel can reach (the physical map), and the ranges it must never
 * hand out. Pure C, tested on the host. */
#ifndef KERNEL_LIB_USABLE_REGION_H
#define KERNEL_LIB_USABLE_REGION_H

#include <stdbool.h>
#include <stddef.h>
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

/* Room for the regions of one memory map: more than any firmware under QEMU gives. */
#define MEMORY_REGIONS_MAX_USABLE   128
#define MEMORY_REGIONS_MAX_RESERVED 128

/* The frame allocator's usable regions and reserved ranges, gathered entry by entry. */
struct memory_regions {
    struct frame_allocator_usable_region usable[MEMORY_REGIONS_MAX_USABLE];
    size_t usable_count;
    struct frame_allocator_reserved_range reserved[MEMORY_REGIONS_MAX_RESERVED];
    size_t reserved_count;
};

/* What memory_regions_add did with an entry. */
enum memory_regions_added {
    MEMORY_REGIONS_NOTHING,         /* nothing of the entry lies below the limit, or it is empty */
    MEMORY_REGIONS_USABLE,          /* its usable region was stored whole */
    MEMORY_REGIONS_USABLE_CLIPPED,  /* its part below the limit was stored */
    MEMORY_REGIONS_USABLE_NO_ROOM,  /* usable, but every usable slot is taken: left out */
    MEMORY_REGIONS_RESERVED,        /* its range below the limit was stored as reserved */
    MEMORY_REGIONS_RESERVED_NO_ROOM /* to be reserved, but every reserved slot is taken */
};

/* Adds the reserved range [start, end) (start <= end); false when every reserved slot is taken. */
bool memory_regions_reserve(struct memory_regions *regions, uint64_t start, uint64_t end);

/* Adds what entry gives the frame allocator below limit, and says what that was: the usable region
 * of an available entry, or the range below limit of any other entry as reserved, so that no
 * available entry overlapping it can hand its frames out. */
enum memory_regions_added memory_regions_add(struct memory_regions *regions,
                                             const struct multiboot2_mmap_entry *entry,
                                             uint64_t limit);

#endif
