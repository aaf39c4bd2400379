/* Host tests of the memory map report's arithmetic (memory_report.h): entry ends at and past 2^64,
 * and totals past 2^64 bytes and past 2^64 KiB. */
#include "kernel/lib/memory_report.h"

#include "tests/support/check.h"

/* Ordinary entries, an empty one at the top, one ending on the last byte.
 * Expect their ends. */
static int range_ends_check(void) {
    uint64_t end = 0;
    ASSERT_TRUE(memory_range_end(0x100000, 0x7ee0000, &end));
    ASSERT_EQ(0x7fe0000, end);
    ASSERT_TRUE(memory_range_end(UINT64_MAX, 0, &end));
    ASSERT_EQ(UINT64_MAX, end);
    ASSERT_TRUE(memory_range_end(UINT64_MAX - 0xfff, 0xfff, &end));
    ASSERT_EQ(UINT64_MAX, end);
    return 0;
}

/* Entries reaching 2^64 exactly and past it (a corrupt or hostile map).
 * Expect false and *end untouched: no wrapped end near 0. */
static int range_past_top_check(void) {
    uint64_t end = 42;
    ASSERT_FALSE(memory_range_end(UINT64_MAX - 0xfff, 0x1000, &end));
    ASSERT_FALSE(memory_range_end(0x100000, UINT64_MAX, &end));
    ASSERT_FALSE(memory_range_end(UINT64_MAX, UINT64_MAX, &end));
    ASSERT_EQ(42, end);
    return 0;
}

/* Sizes in bytes that are no multiple of a KiB, below 2^64 in total; then 1000 and 24 bytes.
 * Expect the total's whole KiB and the bytes left over; 1 KiB and none left over. */
static int small_total_check(void) {
    struct memory_total total = {0};
    memory_total_add(&total, 0x9fc00);
    memory_total_add(&total, 1000);
    memory_total_add(&total, 100);
    ASSERT_EQ(0x9fc00 / 1024 + 1, total.kib);
    ASSERT_EQ(1100 - 1024, total.rest);
    ASSERT_FALSE(total.saturated);
    /* Leftover bytes that make exactly a KiB carry it: 1000 + 24 is 1 KiB and 0 bytes. */
    struct memory_total exact = {0};
    memory_total_add(&exact, 1000);
    memory_total_add(&exact, 24);
    ASSERT_EQ(1, exact.kib);
    ASSERT_EQ(0, exact.rest);
    return 0;
}

/* Two entries of 2^63 bytes, then three of UINT64_MAX bytes (2^54 - 1 KiB and 1023 bytes each).
 * Expect 2^54 KiB, then 2^54 + 3 * (2^54 - 1) KiB plus the 3 * 1023 bytes carried: no wrap to 0. */
static int total_past_2_64_bytes_check(void) {
    struct memory_total total = {0};
    memory_total_add(&total, UINT64_C(1) << 63);
    memory_total_add(&total, UINT64_C(1) << 63);
    ASSERT_EQ(UINT64_C(1) << 54, total.kib);
    ASSERT_EQ(0, total.rest);
    for (int i = 0; i < 3; i++) {
        memory_total_add(&total, UINT64_MAX);
    }
    ASSERT_EQ((UINT64_C(1) << 54) + 3 * ((UINT64_C(1) << 54) - 1) + 2, total.kib);
    ASSERT_EQ(3 * 1023 - 2 * 1024, total.rest);
    ASSERT_FALSE(total.saturated);
    return 0;
}

/* 1024 entries of UINT64_MAX bytes: exactly 2^64 - 1 KiB, the largest total, and no byte over.
 * Expect UINT64_MAX KiB, 0 bytes, not saturated: exact up to 2^64 KiB. */
static int total_at_the_top_check(void) {
    struct memory_total total = {0};
    for (int i = 0; i < 1024; i++) {
        memory_total_add(&total, UINT64_MAX);
    }
    ASSERT_EQ(UINT64_MAX, total.kib);
    ASSERT_EQ(0, total.rest);
    ASSERT_FALSE(total.saturated);
    return 0;
}

/* 1100 entries of UINT64_MAX bytes: more than 2^64 KiB.
 * Expect the total saturated at UINT64_MAX KiB, and staying there on a further add. */
static int total_saturates_check(void) {
    struct memory_total total = {0};
    for (int i = 0; i < 1100; i++) {
        memory_total_add(&total, UINT64_MAX);
    }
    ASSERT_TRUE(total.saturated);
    ASSERT_EQ(UINT64_MAX, total.kib);
    memory_total_add(&total, 4096);
    ASSERT_TRUE(total.saturated);
    ASSERT_EQ(UINT64_MAX, total.kib);
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, range_ends_check);
    RUN_CHECK(failures, range_past_top_check);
    RUN_CHECK(failures, small_total_check);
    RUN_CHECK(failures, total_at_the_top_check);
    RUN_CHECK(failures, total_past_2_64_bytes_check);
    RUN_CHECK(failures, total_saturates_check);
    return failures == 0 ? 0 : 1;
}
