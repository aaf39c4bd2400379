/*
 * alloc/testing/check.h - the allocator tests' additions to the shared ASSERT_* macros
 * (tests/support/check.h): a heap integrity assertion, and RUN_COUNTED_CHECK(), which counts
 * passes as well as failures for the "N passed, N failed" line every test binary ends with.
 */
#ifndef ALLOC_TESTING_CHECK_H
#define ALLOC_TESTING_CHECK_H

#include "alloc/heap.h"
#include "tests/support/check.h"

/* The heap passes alloc_heap_check(); the tests call it after every operation. */
#define ASSERT_HEAP_OK(heap) ASSERT_EQ(ALLOC_OK, alloc_heap_check(heap))

#define RUN_COUNTED_CHECK(passed, failed, check)                                                   \
    do {                                                                                           \
        int r_ = check();                                                                          \
        printf("%s %s\n", r_ == 0 ? "ok  " : "FAIL", #check);                                      \
        if (r_ == 0)                                                                               \
            (passed)++;                                                                            \
        else                                                                                       \
            (failed)++;                                                                            \
    } while (0)

#endif /* ALLOC_TESTING_CHECK_H */
