/* The usable part of a memory map entry and the regions of a whole map (see usable_region.h). */
#include "kernel/lib/usable_region.h"

enum usable_region_kind usable_region_of(const struct multiboot2_mmap_entry *entry, uint64_t limit,
                                         struct frame_allocator_usable_region *out) {
    if (entry->type != MULTIBOOT2_MEMORY_AVAILABLE || entry->base >= limit) {
        return USABLE_REGION_NONE;
    }
    /* base < limit: limit - base cannot wrap, and compared with the length it tells whether the
     * entry runs past the limit without computing base + length, which wraps for a huge one. */
    if (entry->length > limit - entry->base) {
        *out = (struct frame_allocator_usable_region){entry->base, limit - entry->base};
        return USABLE_REGION_CLIPPED;
    }
    *out = (struct frame_allocator_usable_region){entry->base, entry->length};
    return USABLE_REGION_WHOLE;
}

bool memory_regions_reserve(struct memory_regions *regions, uint64_t start, uint64_t end) {
    if (regions->reserved_count == MEMORY_REGIONS_MAX_RESERVED) {
        return false;
    }
    regions->reserved[regions->reserved_count++] =
        (struct frame_allocator_reserved_range){start, end};
    return true;
}

enum memory_regions_added memory_regions_add(struct memory_regions *regions,
                                             const struct multiboot2_mmap_entry *entry,
                                             uint64_t limit) {
    if (entry->length == 0) {
        return MEMORY_REGIONS_NOTHING; /* no frame in it, and no slot taken from real entries */
    }
    if (entry->type != MULTIBOOT2_MEMORY_AVAILABLE) {
        /* Firmware maps may overlap: memory the map calls anything but available (ACPI tables,
         * MMIO, bad RAM) is reserved even where an available entry also covers it. */
        if (entry->base >= limit) {
            return MEMORY_REGIONS_NOTHING;
        }
        uint64_t end = entry->length > limit - entry->base ? limit : entry->base + entry->length;
        return memory_regions_reserve(regions, entry->base, end) ? MEMORY_REGIONS_RESERVED
                                                                 : MEMORY_REGIONS_RESERVED_NO_ROOM;
    }
    struct frame_allocator_usable_region region;
    enum usable_region_kind kind = usable_region_of(entry, limit, &region);
    if (kind == USABLE_REGION_NONE) {
        return MEMORY_REGIONS_NOTHING;
    }
    if (regions->usable_count == MEMORY_REGIONS_MAX_USABLE) {
        return MEMORY_REGIONS_USABLE_NO_ROOM;
    }
    regions->usable[regions->usable_count++] = region;
    return kind == USABLE_REGION_CLIPPED ? MEMORY_REGIONS_USABLE_CLIPPED : MEMORY_REGIONS_USABLE;
}
