/* Host tests of the usable part of a memory map entry (usable_region.h), against the kernel's
 * 8 GiB physical map. */
#include "kernel/lib/usable_region.h"

#include "tests/support/check.h"

#define MiB   UINT64_C(0x100000)
#define GiB   UINT64_C(0x40000000)
#define LIMIT (8 * GiB)

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

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, entries_below_the_limit_check);
    RUN_CHECK(failures, entries_at_the_limit_check);
    RUN_CHECK(failures, entries_wrapping_past_2_64_check);
    return failures == 0 ? 0 : 1;
}
