/* Host tests of the heap range read from the boot command line (heap_range.h). */
#include "kernel/lib/heap_range.h"

#include "tests/support/check.h"

/* Limits and defaults of the x86_64 kernel's shape (4 KiB pages, a 32 MiB identity map, a 47-bit
 * lower half), written out as the cases below need them: the parser takes its limits as an
 * argument, and the kernel's own (kernel/heap.c, from machine.bzl) are checked by the boot tests
 * that move the heap with heap_start= and heap_pages=. */
static const struct heap_range_limits limits = {
    .page_size = 4096,
    .lowest_start = 0x2000000,
    .highest_end = 1ull << 47,
    .max_pages = 1ull << 20,
};

static const struct heap_range defaults = {.start = 0x8000000, .pages = 1000};

/* Parses cmdline over the defaults; returns the error and leaves the range in *out. */
static enum heap_range_error parse(const char *cmdline, struct heap_range *out) {
    *out = defaults;
    return heap_range_from_cmdline(cmdline, &limits, out);
}

static int defaults_without_words_check(void) {
    struct heap_range range;
    ASSERT_EQ(HEAP_RANGE_OK, parse(NULL, &range));
    ASSERT_EQ(defaults.start, range.start);
    ASSERT_EQ(defaults.pages, range.pages);
    ASSERT_EQ(HEAP_RANGE_OK, parse("", &range));
    ASSERT_EQ(defaults.start, range.start);
    ASSERT_EQ(HEAP_RANGE_OK, parse("scenario=double_free quiet", &range));
    ASSERT_EQ(defaults.start, range.start);
    ASSERT_EQ(defaults.pages, range.pages);
    return 0;
}

static int moved_range_check(void) {
    struct heap_range range;
    ASSERT_EQ(HEAP_RANGE_OK, parse("heap_start=0x80000000 heap_pages=3000", &range));
    ASSERT_EQ(0x80000000ull, range.start);
    ASSERT_EQ(3000, range.pages);
    return 0;
}

static int one_key_keeps_the_other_default_check(void) {
    struct heap_range range;
    ASSERT_EQ(HEAP_RANGE_OK, parse("heap_pages=20480", &range));
    ASSERT_EQ(defaults.start, range.start);
    ASSERT_EQ(20480, range.pages);
    ASSERT_EQ(HEAP_RANGE_OK, parse("heap_start=0X4000000", &range));
    ASSERT_EQ(0x4000000ull, range.start);
    ASSERT_EQ(defaults.pages, range.pages);
    return 0;
}

/* Other words, and words that only look like the keys, are ignored; of a key given twice the first
 * is read (the boot refuses such a line before: cmdline_check). */
static int words_among_others_and_first_taken_check(void) {
    struct heap_range range;
    ASSERT_EQ(
        HEAP_RANGE_OK,
        parse("scenario=x xheap_pages=7 heap_pagesize=1 heap_pages=2048 heap_pages=5", &range));
    ASSERT_EQ(2048, range.pages);
    ASSERT_EQ(HEAP_RANGE_OK, parse("heap_start=268435456", &range));
    ASSERT_EQ(0x10000000ull, range.start);
    return 0;
}

static int bad_numbers_check(void) {
    static const char *const bad[] = {
        "heap_pages=",
        "heap_pages=12k",
        "heap_pages=-1",
        "heap_start=0x",
        "heap_start=0x8g000000",
        "heap_start=18446744073709551616",
        "heap_start=0x10000000000000000",
        "heap_pages=1a", /* a hex digit in a decimal number */
        "heap_pages=0x1g",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct heap_range range;
        enum heap_range_error error = parse(bad[i], &range);
        if (error != HEAP_RANGE_ERR_BAD_NUMBER) {
            fprintf(stderr, "\"%s\": %s\n", bad[i], heap_range_error_name(error));
        }
        ASSERT_EQ(HEAP_RANGE_ERR_BAD_NUMBER, error);
        ASSERT_EQ(defaults.start, range.start);
        ASSERT_EQ(defaults.pages, range.pages);
    }
    return 0;
}

static int limits_check(void) {
    struct heap_range range;
    ASSERT_EQ(HEAP_RANGE_ERR_MISALIGNED_START, parse("heap_start=0x8000010", &range));
    ASSERT_EQ(HEAP_RANGE_ERR_NO_PAGES, parse("heap_pages=0", &range));
    ASSERT_EQ(HEAP_RANGE_ERR_TOO_MANY_PAGES, parse("heap_pages=1048577", &range));
    ASSERT_EQ(HEAP_RANGE_ERR_BELOW_START, parse("heap_start=0x100000", &range));
    ASSERT_EQ(HEAP_RANGE_ERR_ABOVE_END, parse("heap_start=0x7ffffffff000 heap_pages=2", &range));
    ASSERT_EQ(HEAP_RANGE_ERR_ABOVE_END, parse("heap_start=0xfffffffffffff000", &range));
    /* A failed parse leaves the defaults. */
    ASSERT_EQ(defaults.start, range.start);
    ASSERT_EQ(defaults.pages, range.pages);
    return 0;
}

/*
 * Limits whose max_pages allows a page count that, times the page size, wraps 2^64: 2^52 pages
 * (a size of 0 once wrapped) and 2^52 + 1 (4 KiB), from high in the lower half.
 * Expect each refused as beyond the end, the range left as it was.
 */
static int wrapping_size_check(void) {
    struct heap_range_limits unbounded = limits;
    unbounded.max_pages = UINT64_MAX;
    struct heap_range range = defaults;
    ASSERT_EQ(HEAP_RANGE_ERR_ABOVE_END,
              heap_range_from_cmdline("heap_start=0x7fff00000000 heap_pages=0x10000000000000",
                                      &unbounded, &range));
    ASSERT_EQ(HEAP_RANGE_ERR_ABOVE_END,
              heap_range_from_cmdline("heap_start=0x7fff00000000 heap_pages=0x10000000000001",
                                      &unbounded, &range));
    ASSERT_EQ(defaults.start, range.start);
    ASSERT_EQ(defaults.pages, range.pages);
    ASSERT_EQ(HEAP_RANGE_OK,
              heap_range_from_cmdline("heap_start=0x7fff00000000 heap_pages=0x100000", &unbounded,
                                      &range));
    return 0;
}

static int edges_accepted_check(void) {
    struct heap_range range;
    ASSERT_EQ(HEAP_RANGE_OK, parse("heap_start=0x2000000 heap_pages=1", &range));
    ASSERT_EQ(HEAP_RANGE_OK, parse("heap_start=0x7ffffffff000 heap_pages=1", &range));
    ASSERT_EQ(HEAP_RANGE_OK, parse("heap_pages=1048576", &range));
    /* The highest decimal digit, and upper-case hex digits from A to F. */
    ASSERT_EQ(HEAP_RANGE_OK, parse("heap_pages=9 heap_start=0x7FFF00000000", &range));
    ASSERT_EQ(9, range.pages);
    ASSERT_EQ(0x7fff00000000ull, range.start);
    ASSERT_EQ(HEAP_RANGE_OK, parse("heap_pages=0x1", &range));
    ASSERT_EQ(1, range.pages);
    ASSERT_EQ(HEAP_RANGE_OK, parse("heap_pages=0xA", &range));
    ASSERT_EQ(10, range.pages);
    /* 2^64 - 1, in decimal and hex, is a number: refused as a start for its alignment, not read
     * as an overflow. */
    ASSERT_EQ(HEAP_RANGE_ERR_MISALIGNED_START, parse("heap_start=18446744073709551615", &range));
    ASSERT_EQ(HEAP_RANGE_ERR_MISALIGNED_START, parse("heap_start=0xffffffffffffffff", &range));
    return 0;
}

static int error_names_check(void) {
    ASSERT_STREQ("too many pages", heap_range_error_name(HEAP_RANGE_ERR_TOO_MANY_PAGES));
    ASSERT_ERROR_NAMES(heap_range_error_name, enum heap_range_error, HEAP_RANGE_OK,
                       HEAP_RANGE_ERR_ABOVE_END);
    ASSERT_STREQ("unknown error", heap_range_error_name((enum heap_range_error)99));
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, defaults_without_words_check);
    RUN_CHECK(failures, moved_range_check);
    RUN_CHECK(failures, one_key_keeps_the_other_default_check);
    RUN_CHECK(failures, words_among_others_and_first_taken_check);
    RUN_CHECK(failures, bad_numbers_check);
    RUN_CHECK(failures, limits_check);
    RUN_CHECK(failures, wrapping_size_check);
    RUN_CHECK(failures, edges_accepted_check);
    RUN_CHECK(failures, error_names_check);
    return failures == 0 ? 0 : 1;
}
