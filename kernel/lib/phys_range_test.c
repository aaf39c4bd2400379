/* Host tests of the physical range comparison (phys_range.h): the trampoline's bytes against boot
 * information placed below, over and above them, and ranges at the top of the 64-bit space, where
 * start + length wraps; and the trampoline's bytes against memory maps that do and do not call
 * them available. */
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

struct map_entry {
    uint64_t base;
    uint64_t length;
    bool available;
};

/* Whether the map of `count` entries calls [start, start + length) available. */
static bool available_in(const struct map_entry *map, size_t count, uint64_t start,
                         uint64_t length) {
    struct phys_range_in_map check = phys_range_in_map_start(start, length);
    for (size_t i = 0; i < count; i++) {
        phys_range_in_map_add(&check, map[i].base, map[i].length, map[i].available);
    }
    return phys_range_in_map_available(&check);
}

#define COUNT(map) (sizeof(map) / sizeof(map)[0])

/* QEMU's map below 1 MiB (available [0, 0x9fc00), reserved [0x9fc00, 0xa0000) and
 * [0xf0000, 0x100000)); the same with a reserved entry ending just before and one starting just
 * after the trampoline.
 * Expect the trampoline available in both. */
static int available_map_check(void) {
    const struct map_entry qemu[] = {
        {0, 0x9fc00, true}, {0x9fc00, 0x400, false}, {0xf0000, 0x10000, false}};
    ASSERT_TRUE(available_in(qemu, COUNT(qemu), TRAMPOLINE, TRAMPOLINE_SIZE));
    const struct map_entry beside[] = {
        {0x7000, 0x1000, false}, {0, 0x9fc00, true}, {TRAMPOLINE + TRAMPOLINE_SIZE, 0x100, false}};
    ASSERT_TRUE(available_in(beside, COUNT(beside), TRAMPOLINE, TRAMPOLINE_SIZE));
    return 0;
}

/* Maps where the trampoline's page is missing (cut out, as GRUB's cutmem does), where the available
 * entry ends inside the trampoline, where a reserved entry (bad RAM, say) overlaps it by one byte
 * before or after the available entry that holds it, where only two adjacent available entries
 * hold it, an empty map, and one whose only available entry, [0, 4 KiB), lies wholly below it
 * (its start minus the entry's base is past the entry's length).
 * Expect none to call it available. */
static int unavailable_map_check(void) {
    const struct map_entry cut[] = {{0, 0x8000, true}, {0x9000, 0x96c00, true}};
    ASSERT_FALSE(available_in(cut, COUNT(cut), TRAMPOLINE, TRAMPOLINE_SIZE));
    const struct map_entry short_entry[] = {{0, TRAMPOLINE + TRAMPOLINE_SIZE - 1, true}};
    ASSERT_FALSE(available_in(short_entry, COUNT(short_entry), TRAMPOLINE, TRAMPOLINE_SIZE));
    const struct map_entry bad_after[] = {{0, 0x9fc00, true}, {TRAMPOLINE + 0xff, 1, false}};
    ASSERT_FALSE(available_in(bad_after, COUNT(bad_after), TRAMPOLINE, TRAMPOLINE_SIZE));
    const struct map_entry bad_before[] = {{0x7000, 0x1001, false}, {0, 0x9fc00, true}};
    ASSERT_FALSE(available_in(bad_before, COUNT(bad_before), TRAMPOLINE, TRAMPOLINE_SIZE));
    const struct map_entry halves[] = {{0, 0x8080, true}, {0x8080, 0x97b80, true}};
    ASSERT_FALSE(available_in(halves, COUNT(halves), TRAMPOLINE, TRAMPOLINE_SIZE));
    ASSERT_FALSE(available_in(NULL, 0, TRAMPOLINE, TRAMPOLINE_SIZE));
    const struct map_entry below_only[] = {{0, 0x1000, true}};
    ASSERT_FALSE(available_in(below_only, COUNT(below_only), TRAMPOLINE, TRAMPOLINE_SIZE));
    return 0;
}

/* An empty range inside an available entry; an entry exactly the range; a range whose end passes
 * 2^64 inside an entry that does too; a range ending exactly at 2^64 in an entry reaching past it.
 * Expect the first refused, the second available, the third refused, the fourth available. */
static int edge_ranges_in_map_check(void) {
    const struct map_entry low[] = {{0, 0x9fc00, true}};
    ASSERT_FALSE(available_in(low, COUNT(low), TRAMPOLINE, 0));
    const struct map_entry exact[] = {{TRAMPOLINE, TRAMPOLINE_SIZE, true}};
    ASSERT_TRUE(available_in(exact, COUNT(exact), TRAMPOLINE, TRAMPOLINE_SIZE));
    const struct map_entry top[] = {{UINT64_MAX - 0xfff, 0x2000, true}};
    ASSERT_FALSE(available_in(top, COUNT(top), UINT64_MAX - 0xff, 0x200));
    ASSERT_TRUE(available_in(top, COUNT(top), UINT64_MAX - 0xff, 0x100));
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, boot_info_placements_check);
    RUN_CHECK(failures, empty_range_check);
    RUN_CHECK(failures, no_wrap_check);
    RUN_CHECK(failures, available_map_check);
    RUN_CHECK(failures, unavailable_map_check);
    RUN_CHECK(failures, edge_ranges_in_map_check);
    return failures == 0 ? 0 : 1;
}
