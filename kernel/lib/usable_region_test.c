/* Host tests of the usable part of a memory map entry and of the regions of a whole map
 * (usable_region.h), against the kernel's 8 GiB physical map. */
#include "kernel/lib/usable_region.h"

#include "tests/support/check.h"

#define MiB   UINT64_C(0x100000)
#define GiB   UINT64_C(0x40000000)
#define LIMIT (8 * GiB)
#define KiB   UINT64_C(0x400)

/* Available [1 MiB, 1 GiB), reserved [1 GiB, 2 GiB), available [3 GiB, 3 GiB) (zero length).
 * Expect the first whole, the second none, the third whole and empty (the frame allocator finds no
 * frame in it). */
static int entries_below_the_limit_check(void) {
    struct frame_allocator_usable_region r = {0, 0};
    struct multiboot2_mmap_entry low = {MiB, GiB - MiB, MULTIBOOT2_MEMORY_AVAILABLE};
    ASSERT_EQ(USABLE_REGION_WHOLE, usable_region_of(&low, LIMIT, &r));
    ASSERT_EQ(MiB, r.base);
    ASSERT_EQ(GiB - MiB, r.length);
    struct multiboot2_mmap_entry reserved = {GiB, GiB, MULTIBOOT2_MEMORY_RESERVED};
    ASSERT_EQ(USABLE_REGION_NONE, usable_region_of(&reserved, LIMIT, &r));
    struct multiboot2_mmap_entry empty = {3 * GiB, 0, MULTIBOOT2_MEMORY_AVAILABLE};
    ASSERT_EQ(USABLE_REGION_WHOLE, usable_region_of(&empty, LIMIT, &r));
    ASSERT_EQ(3 * GiB, r.base);
    ASSERT_EQ(0, r.length);
    return 0;
}

/* Available [4 GiB, 12 GiB), across the limit; available [8 GiB, 9 GiB), at it; available
 * [7 GiB, 8 GiB), up to it.
 * Expect [4 GiB, 8 GiB) clipped, none, and [7 GiB, 8 GiB) whole. */
static int entries_at_the_limit_check(void) {
    struct frame_allocator_usable_region r = {0, 0};
    struct multiboot2_mmap_entry across = {4 * GiB, 8 * GiB, MULTIBOOT2_MEMORY_AVAILABLE};
    ASSERT_EQ(USABLE_REGION_CLIPPED, usable_region_of(&across, LIMIT, &r));
    ASSERT_EQ(4 * GiB, r.base);
    ASSERT_EQ(4 * GiB, r.length);
    struct multiboot2_mmap_entry above = {LIMIT, GiB, MULTIBOOT2_MEMORY_AVAILABLE};
    ASSERT_EQ(USABLE_REGION_NONE, usable_region_of(&above, LIMIT, &r));
    struct multiboot2_mmap_entry up_to = {7 * GiB, GiB, MULTIBOOT2_MEMORY_AVAILABLE};
    ASSERT_EQ(USABLE_REGION_WHOLE, usable_region_of(&up_to, LIMIT, &r));
    ASSERT_EQ(GiB, r.length);
    return 0;
}

/* Available entries whose end wraps past 2^64: [1 MiB, 1 MiB + 2^64 - 1) (a length of all ones)
 * and [2 GiB, 2^64) (base + length exactly 2^64, which reads as 0).
 * Expect each clipped to [base, 8 GiB), as any entry running past the limit is, never kept whole
 * with its wrapping length (which the frame allocator refuses as a bad range, for the whole map).
 */
static int entries_wrapping_past_2_64_check(void) {
    struct frame_allocator_usable_region r = {0, 0};
    struct multiboot2_mmap_entry ones = {MiB, UINT64_MAX, MULTIBOOT2_MEMORY_AVAILABLE};
    ASSERT_EQ(USABLE_REGION_CLIPPED, usable_region_of(&ones, LIMIT, &r));
    ASSERT_EQ(MiB, r.base);
    ASSERT_EQ(LIMIT - MiB, r.length);
    struct multiboot2_mmap_entry to_2_64 = {2 * GiB, 0 - 2 * GiB, MULTIBOOT2_MEMORY_AVAILABLE};
    ASSERT_EQ(USABLE_REGION_CLIPPED, usable_region_of(&to_2_64, LIMIT, &r));
    ASSERT_EQ(2 * GiB, r.base);
    ASSERT_EQ(LIMIT - 2 * GiB, r.length);
    return 0;
}

/* Adds each of @count entries to @regions; fails the check on an entry left out. */
static int add_all(struct memory_regions *regions, const struct multiboot2_mmap_entry *entries,
                   size_t count) {
    for (size_t i = 0; i < count; i++) {
        enum memory_regions_added added = memory_regions_add(regions, &entries[i], LIMIT);
        ASSERT_TRUE(added != MEMORY_REGIONS_USABLE_NO_ROOM &&
                    added != MEMORY_REGIONS_RESERVED_NO_ROOM);
    }
    return 0;
}

/* Firmware maps can overlap: available [1 MiB, 8 MiB) with, inside or across it, reserved
 * [2 MiB, 3 MiB), ACPI reclaimable [7 MiB, 9 MiB) (where ACPI tables lie) and one page of a type
 * this kernel does not know at 4 MiB; the kernel reserves [0, 1 MiB) first, as memory_init does.
 * Expect a frame allocator over the regions to hand out every frame of the available entry outside
 * the other three, and none inside them: what the map calls not available is never given away. */
static int overlapping_entries_not_handed_out_check(void) {
    static struct memory_regions regions;
    const struct multiboot2_mmap_entry entries[] = {
        {MiB, 7 * MiB, MULTIBOOT2_MEMORY_AVAILABLE},
        {2 * MiB, MiB, MULTIBOOT2_MEMORY_RESERVED},
        {7 * MiB, 2 * MiB, MULTIBOOT2_MEMORY_ACPI_RECLAIMABLE},
        {4 * MiB, 4 * KiB, 77},
    };
    regions = (struct memory_regions){.usable_count = 0};
    ASSERT_TRUE(memory_regions_reserve(&regions, 0, MiB));
    if (add_all(&regions, entries, sizeof entries / sizeof entries[0]) != 0) {
        return 1;
    }
    static uint64_t storage[256];
    struct frame_allocator_config config = {
        .usable = regions.usable,
        .usable_count = regions.usable_count,
        .reserved = regions.reserved,
        .reserved_count = regions.reserved_count,
        .storage = storage,
        .storage_words = sizeof storage / sizeof storage[0],
    };
    struct frame_allocator frames;
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&frames, &config));
    uint64_t handed_out = 0;
    for (uint64_t frame; (frame = frame_allocator_allocate(&frames)) != FRAME_ALLOCATOR_NO_FRAME;
         handed_out++) {
        for (size_t i = 1; i < sizeof entries / sizeof entries[0]; i++) {
            ASSERT_FALSE(frame >= entries[i].base && frame < entries[i].base + entries[i].length);
        }
    }
    ASSERT_EQ((7 * MiB - MiB - MiB - 4 * KiB) / (4 * KiB), handed_out);
    return 0;
}

/* A map whose every usable slot's worth of empty available entries (zero length, as some firmware
 * lists) comes before available [1 MiB, 1 GiB). Expect each empty entry to add nothing and take no
 * slot, and the real entry to be stored: empty entries must not push memory out of the map. */
static int empty_entries_take_no_slot_check(void) {
    static struct memory_regions regions;
    regions = (struct memory_regions){.usable_count = 0};
    const struct multiboot2_mmap_entry empty = {2 * GiB, 0, MULTIBOOT2_MEMORY_AVAILABLE};
    for (size_t i = 0; i < MEMORY_REGIONS_MAX_USABLE; i++) {
        ASSERT_EQ(MEMORY_REGIONS_NOTHING, memory_regions_add(&regions, &empty, LIMIT));
    }
    const struct multiboot2_mmap_entry low = {MiB, GiB - MiB, MULTIBOOT2_MEMORY_AVAILABLE};
    ASSERT_EQ(MEMORY_REGIONS_USABLE, memory_regions_add(&regions, &low, LIMIT));
    ASSERT_EQ(1, regions.usable_count);
    ASSERT_EQ(MiB, regions.usable[0].base);
    ASSERT_EQ(GiB - MiB, regions.usable[0].length);
    return 0;
}

/* Entries that are not available: one wholly below the limit, one across it, one above it, one
 * whose end wraps past 2^64; then reserved entries until the slots run out.
 * Expect the first kept whole, the second and the fourth cut at the limit (the frame allocator has
 * nothing above it to protect), the third to add nothing; once every slot is taken an entry to
 * reserve is refused (MEMORY_REGIONS_RESERVED_NO_ROOM, for memory_init to stop on) and so is a
 * fixed range, while an available entry still finds room. */
static int reserved_ranges_check(void) {
    static struct memory_regions regions;
    regions = (struct memory_regions){.usable_count = 0};
    const struct multiboot2_mmap_entry below = {GiB, MiB, MULTIBOOT2_MEMORY_NVS};
    const struct multiboot2_mmap_entry across = {7 * GiB, 2 * GiB, MULTIBOOT2_MEMORY_RESERVED};
    const struct multiboot2_mmap_entry above = {LIMIT, GiB, MULTIBOOT2_MEMORY_BADRAM};
    const struct multiboot2_mmap_entry wrapping = {4 * GiB, UINT64_MAX, MULTIBOOT2_MEMORY_RESERVED};
    ASSERT_EQ(MEMORY_REGIONS_RESERVED, memory_regions_add(&regions, &below, LIMIT));
    ASSERT_EQ(MEMORY_REGIONS_RESERVED, memory_regions_add(&regions, &across, LIMIT));
    ASSERT_EQ(MEMORY_REGIONS_NOTHING, memory_regions_add(&regions, &above, LIMIT));
    ASSERT_EQ(MEMORY_REGIONS_RESERVED, memory_regions_add(&regions, &wrapping, LIMIT));
    ASSERT_EQ(3, regions.reserved_count);
    ASSERT_EQ(GiB, regions.reserved[0].start);
    ASSERT_EQ(GiB + MiB, regions.reserved[0].end);
    ASSERT_EQ(7 * GiB, regions.reserved[1].start);
    ASSERT_EQ(LIMIT, regions.reserved[1].end);
    ASSERT_EQ(4 * GiB, regions.reserved[2].start);
    ASSERT_EQ(LIMIT, regions.reserved[2].end);
    while (regions.reserved_count < MEMORY_REGIONS_MAX_RESERVED) {
        ASSERT_EQ(MEMORY_REGIONS_RESERVED, memory_regions_add(&regions, &below, LIMIT));
    }
    ASSERT_EQ(MEMORY_REGIONS_RESERVED_NO_ROOM, memory_regions_add(&regions, &below, LIMIT));
    ASSERT_FALSE(memory_regions_reserve(&regions, 0, MiB));
    ASSERT_EQ(MEMORY_REGIONS_MAX_RESERVED, regions.reserved_count);
    const struct multiboot2_mmap_entry available = {MiB, MiB, MULTIBOOT2_MEMORY_AVAILABLE};
    ASSERT_EQ(MEMORY_REGIONS_USABLE, memory_regions_add(&regions, &available, LIMIT));
    return 0;
}

/* Available entries until every usable slot is taken, then one more, and a reserved entry.
 * Expect MEMORY_REGIONS_USABLE for each that fits, MEMORY_REGIONS_USABLE_NO_ROOM for the one past
 * them with the count and the last region unchanged (it is left out, for memory_init to say so),
 * and the reserved entry still stored: the two kinds have slots of their own. */
static int usable_slots_run_out_check(void) {
    static struct memory_regions regions;
    regions = (struct memory_regions){.usable_count = 0};
    for (size_t i = 0; i < MEMORY_REGIONS_MAX_USABLE; i++) {
        const struct multiboot2_mmap_entry e = {MiB + 2 * i * MiB, MiB,
                                                MULTIBOOT2_MEMORY_AVAILABLE};
        ASSERT_EQ(MEMORY_REGIONS_USABLE, memory_regions_add(&regions, &e, LIMIT));
    }
    const struct multiboot2_mmap_entry one_more = {GiB, MiB, MULTIBOOT2_MEMORY_AVAILABLE};
    ASSERT_EQ(MEMORY_REGIONS_USABLE_NO_ROOM, memory_regions_add(&regions, &one_more, LIMIT));
    ASSERT_EQ(MEMORY_REGIONS_MAX_USABLE, regions.usable_count);
    ASSERT_EQ(MiB + 2 * (MEMORY_REGIONS_MAX_USABLE - 1) * MiB,
              regions.usable[MEMORY_REGIONS_MAX_USABLE - 1].base);
    const struct multiboot2_mmap_entry reserved = {2 * GiB, MiB, MULTIBOOT2_MEMORY_RESERVED};
    ASSERT_EQ(MEMORY_REGIONS_RESERVED, memory_regions_add(&regions, &reserved, LIMIT));
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, entries_below_the_limit_check);
    RUN_CHECK(failures, entries_at_the_limit_check);
    RUN_CHECK(failures, entries_wrapping_past_2_64_check);
    RUN_CHECK(failures, overlapping_entries_not_handed_out_check);
    RUN_CHECK(failures, empty_entries_take_no_slot_check);
    RUN_CHECK(failures, reserved_ranges_check);
    RUN_CHECK(failures, usable_slots_run_out_check);
    return failures == 0 ? 0 : 1;
}
