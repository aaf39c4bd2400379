/* The usable part of a memory map entry (see usable_region.h). */
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
