/*
 * alloc/testing/check.h - the allocator tests' additions to the shared ASSERT_* macros
 * (tests/support/check.h): a heap integrity assertion, an assertion that the statistics agree with
 * the heap's walk, and RUN_COUNTED_CHECK(), which counts passes as well as failures, and
 * PRINT_COUNTED_SUMMARY(), the "N passed, N failed, N skipped" line every such test binary ends
 * with. A skipped check (SKIP_CHECK) counts as neither pass nor failure: it prints "skip" and adds
 * to checks_skipped, which the summary line reports.
 */
#ifndef ALLOC_TESTING_CHECK_H
#define ALLOC_TESTING_CHECK_H

#include "alloc/heap.h"
#include "alloc/testing/fixture.h"
#include "tests/support/check.h"

/* The heap passes alloc_heap_check(); the tests call it after every operation. */
#define ASSERT_HEAP_OK(heap) ASSERT_EQ(ALLOC_OK, alloc_heap_check(heap))

/*
 * alloc_heap_stats(heap) agrees with the heap's walk: bytes in use, live allocations, free bytes
 * and free blocks counted from alloc_heap_walk (fixture_stats_mismatch).
 */
#define ASSERT_STATS_MATCH_WALK(heap)                                                              \
    do {                                                                                           \
        char why_[320];                                                                            \
        if (fixture_stats_mismatch((heap), why_, sizeof(why_)) != NULL) {                          \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, __func__, why_);                \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* Checks that did not apply to the variant they ran in (SKIP_CHECK), in this test binary. */
static int checks_skipped;

#define RUN_COUNTED_CHECK(passed, failed, check)                                                   \
    do {                                                                                           \
        int r_ = check();                                                                          \
        printf("%s %s\n", CHECK_RESULT_WORD(r_), #check);                                          \
        if (r_ == 0)                                                                               \
            (passed)++;                                                                            \
        else if (r_ == CHECK_SKIPPED)                                                              \
            checks_skipped++;                                                                      \
        else                                                                                       \
            (failed)++;                                                                            \
    } while (0)

/*
 * RUN_COUNTED_CHECK, unless `absent` is a reason the check cannot run in this build (the
 * feature it exercises is not compiled in): then the check is reported skipped with that reason.
 */
#define RUN_COUNTED_CHECK_UNLESS(passed, failed, check, absent)                                    \
    do {                                                                                           \
        if ((absent) != NULL) {                                                                    \
            printf("skipped: %s: %s\n", #check, (absent));                                         \
            printf("%s %s\n", CHECK_RESULT_WORD(CHECK_SKIPPED), #check);                           \
            checks_skipped++;                                                                      \
        } else {                                                                                   \
            RUN_COUNTED_CHECK(passed, failed, check);                                              \
        }                                                                                          \
    } while (0)

/* The last line of a test binary that runs its checks with RUN_COUNTED_CHECK. */
#define PRINT_COUNTED_SUMMARY(passed, failed)                                                      \
    printf("%d passed, %d failed, %d skipped\n", (passed), (failed), checks_skipped)

#endif /* ALLOC_TESTING_CHECK_H */
