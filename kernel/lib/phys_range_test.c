/* Host tests of the physical range comparison (phys_range.h): the trampoline's bytes against boot
 * information placed below, over and above them, and ranges at the top of the 64-bit space, where
 * start + length wraps. */
#include "kernel/lib/phys_range.h"

#include "tests/support/check.h"

#define TRAMPOLINE      0x8000u
#define TRAMPOLINE_SIZE 0x100u

/* Both argument orders must agree; a disagreement reads as an overlap to fail the check. */
static bool overlaps_trampoline(uint64_t start, uint64_t length) {
    bool ab = phys_ranges_overlap(TRAMPOLINE, TRAMPOLINE_SIZE, start, length);
    bool ba = phys_ranges_overlap(start, length, TRAMPOLINE, TRAMPOLINE_SIZE);
    return ab || ba;
}

static bool misses_trampoline(uint64_t start, uint64_t length) {
    bool ab = phys_ranges_overlap(TRAMPOLINE, TRAMPOLINE_SIZE, start, length);
    bool ba = phys_ranges_overlap(start, length, TRAMPOLINE, TRAMPOLINE_SIZE);
    return !ab && !ba;
}

/* Boot information from GRUB's lowest address (0x1000) up, ending just before, reaching into,
 * covering, inside and starting just after [0x8000, 0x8100).
 * Expect an overlap exactly when they share a byte. */
static int boot_info_placements_check(void) {
    ASSERT_TRUE(misses_trampoline(0x1000, 0x7000));   /* ends where the trampoline starts */
    ASSERT_TRUE(overlaps_trampoline(0x1000, 0x7001)); /* its last byte is the first one */
    ASSERT_TRUE(overlaps_trampoline(0x8000, 0x10));   /* same start */
    ASSERT_TRUE(overlaps_trampoline(0x8080, 0x10));   /* inside */
    ASSERT_TRUE(overlaps_trampoline(0x7000, 0x2000)); /* covers it */
    ASSERT_TRUE(overlaps_trampoline(0x80ff, 0x1000)); /* starts on its last byte */
    ASSERT_TRUE(misses_trampoline(0x8100, 0x1000));   /* starts right after */
    ASSERT_TRUE(misses_trampoline(0x3a000, 0x2000));  /* the UEFI boot test's placement */
    return 0;
}

/* Empty ranges, on the trampoline's start and inside it.
 * Expect no overlap: an empty range holds no byte. */
static int empty_range_check(void) {
    ASSERT_TRUE(misses_trampoline(0x8000, 0));
    ASSERT_TRUE(misses_trampoline(0x8080, 0));
    ASSERT_FALSE(phys_ranges_overlap(0x8000, 0, 0x8000, 0));
    return 0;
}

/* Ranges whose start + length passes 2^64.
 * Expect them to end at 2^64: no overlap with low addresses the wrapped end would reach, and the
 * overlap at the top that a wrapped end of 0 would hide. */
static int no_wrap_check(void) {
    ASSERT_TRUE(misses_trampoline(UINT64_MAX - 0xfff, 0x9080)); /* wrapped end 0x8080 */
    ASSERT_TRUE(phys_ranges_overlap(UINT64_MAX - 0xfff, 0x1000, UINT64_MAX, 1));
    ASSERT_FALSE(phys_ranges_overlap(UINT64_MAX, 1, 0, UINT64_MAX));
    ASSERT_TRUE(phys_ranges_overlap(UINT64_MAX, UINT64_MAX, UINT64_MAX - 1, 2));
    ASSERT_TRUE(phys_ranges_overlap(0, UINT64_MAX, 0x8000, UINT64_MAX));
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, boot_info_placements_check);
    RUN_CHECK(failures, empty_range_check);
    RUN_CHECK(failures, no_wrap_check);
    return failures == 0 ? 0 : 1;
}
