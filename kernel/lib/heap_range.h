/* The kernel heap's virtual range, read from the boot command line and checked against the
 * machine's limits at run time, so one kernel image serves every heap range a test wants:
 *     heap_start=0x80000000 heap_pages=3000
 * Pure C, tested on the host; the limits come from the caller. */
#ifndef KERNEL_LIB_HEAP_RANGE_H
#define KERNEL_LIB_HEAP_RANGE_H

#include <stdint.h>

/* The command line's keys for the range's start and its number of pages. */
#define HEAP_RANGE_START_KEY "heap_start="
#define HEAP_RANGE_PAGES_KEY "heap_pages="

/* [start, start + pages * page_size) */
struct heap_range {
    uint64_t start;
    uint64_t pages;
};

/* What a range must respect. */
struct heap_range_limits {
    uint64_t page_size;    /* start is a multiple of it; not 0 */
    uint64_t lowest_start; /* below it lies what boot mapped (the identity map) */
    uint64_t highest_end;  /* the end of the lower canonical half */
    uint64_t max_pages;
};

/* HEAP_RANGE_OK is 0. heap_range_error_name() gives each a short English name. */
enum heap_range_error {
    HEAP_RANGE_OK = 0,
    HEAP_RANGE_ERR_BAD_NUMBER,       /* "bad number": not decimal or 0x hex, or above 2^64 - 1 */
    HEAP_RANGE_ERR_MISALIGNED_START, /* "start not page aligned" */
    HEAP_RANGE_ERR_NO_PAGES,         /* "no pages": heap_pages=0 */
    HEAP_RANGE_ERR_TOO_MANY_PAGES,   /* "too many pages": more than limits.max_pages */
    HEAP_RANGE_ERR_BELOW_START,      /* "overlaps the boot identity map": start < lowest_start */
    HEAP_RANGE_ERR_ABOVE_END,        /* "beyond the lower canonical half": end > highest_end */
};

/* Returns the name of an error, or "unknown error" for a value that is not one. Never NULL. */
const char *heap_range_error_name(enum heap_range_error error);

/* Starts from *range (the defaults), takes start and pages from the command line's heap_start= and
 * heap_pages= words when present (the first of each: the boot refuses a key given twice, see
 * cmdline.h; other words are ignored; a NULL command line has none) and checks the result against
 * limits. On error *range is left as it was. */
enum heap_range_error heap_range_from_cmdline(const char *cmdline,
                                              const struct heap_range_limits *limits,
                                              struct heap_range *range);

#endif
