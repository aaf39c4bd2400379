/*
 * alloc/testing/check.h - assertion and runner macros of the allocator's host tests.
 *
 * In the manner of Linux tools/testing/memblock: each behaviour is one `static int
 * name_check(void)` returning 0 on success; a failed ASSERT_* prints the file, line, expression and
 * both values, and makes the check return 1. RUN_CHECK() runs one check, prints "ok"/"FAIL" and
 * counts. Every test binary ends with the line "N passed, N failed".
 */
#ifndef ALLOC_TESTING_CHECK_H
#define ALLOC_TESTING_CHECK_H

#include <stdio.h>
#include <string.h>

#define ASSERT_EQ(expected, seen)                                                                  \
    do {                                                                                           \
        unsigned long long e_ = (unsigned long long)(expected);                                    \
        unsigned long long s_ = (unsigned long long)(seen);                                        \
        if (e_ != s_) {                                                                            \
            fprintf(stderr, "%s:%d: %s: expected %s == %s (%llu != %llu)\n", __FILE__, __LINE__,   \
                    __func__, #expected, #seen, e_, s_);                                           \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#define ASSERT_NE(unexpected, seen)                                                                \
    do {                                                                                           \
        unsigned long long e_ = (unsigned long long)(unexpected);                                  \
        unsigned long long s_ = (unsigned long long)(seen);                                        \
        if (e_ == s_) {                                                                            \
            fprintf(stderr, "%s:%d: %s: expected %s != %s (both %llu)\n", __FILE__, __LINE__,      \
                    __func__, #unexpected, #seen, e_);                                             \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#define ASSERT_TRUE(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: expected %s\n", __FILE__, __LINE__, __func__, #cond);      \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#define ASSERT_FALSE(cond) ASSERT_TRUE(!(cond))

#define ASSERT_STREQ(expected, seen)                                                               \
    do {                                                                                           \
        const char *e_ = (expected);                                                               \
        const char *s_ = (seen);                                                                   \
        if (e_ == NULL || s_ == NULL || strcmp(e_, s_) != 0) {                                     \
            fprintf(stderr, "%s:%d: %s: expected \"%s\" == \"%s\"\n", __FILE__, __LINE__,          \
                    __func__, e_ ? e_ : "(null)", s_ ? s_ : "(null)");                             \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* The heap passes alloc_heap_check(); the tests call it after every operation. */
#define ASSERT_HEAP_OK(heap) ASSERT_EQ(ALLOC_OK, alloc_heap_check(heap))

#define RUN_CHECK(passed, failed, check)                                                           \
    do {                                                                                           \
        int r_ = check();                                                                          \
        printf("%s %s\n", r_ == 0 ? "ok  " : "FAIL", #check);                                      \
        if (r_ == 0)                                                                               \
            (passed)++;                                                                            \
        else                                                                                       \
            (failed)++;                                                                            \
    } while (0)

#endif /* ALLOC_TESTING_CHECK_H */
