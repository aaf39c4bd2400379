/*
 * check.h - the assertion and runner macros every host unit test of the project shares.
 *
 * Modelled on Linux tools/testing/memblock: each behaviour is one `static int name_check(void)`
 * that returns 0 on success; a failed ASSERT_* prints the file, line, expression and both values,
 * and makes the check return 1. A check that does not apply to the variant under test says so
 * with SKIP_CHECK(why), which returns CHECK_SKIPPED. RUN_CHECK() runs one check, prints
 * "ok"/"FAIL"/"skip" and counts the failures.
 */
#ifndef TESTS_SUPPORT_CHECK_H
#define TESTS_SUPPORT_CHECK_H

#include <stdio.h>
#include <string.h>

/* What a check returns when it does not apply here: neither a pass nor a failure. */
#define CHECK_SKIPPED 77

/* Ends the check as skipped, printing why on the line RUN_CHECK prints next. */
#define SKIP_CHECK(why)                                                                            \
    do {                                                                                           \
        printf("skipped: %s: %s\n", __func__, (why));                                              \
        return CHECK_SKIPPED;                                                                      \
    } while (0)

/* The word RUN_CHECK prints for a check's result. */
#define CHECK_RESULT_WORD(r) ((r) == 0 ? "ok  " : (r) == CHECK_SKIPPED ? "skip" : "FAIL")

#define ASSERT_EQ(expected, seen)                                                                  \
    do {                                                                                           \
        unsigned long long e_ = (unsigned long long)(expected);                                    \
        unsigned long long s_ = (unsigned long long)(seen);                                        \
        if (e_ != s_) {                                                                            \
            fprintf(stderr, "%s:%d: %s: expected %s == %s (%llu != %llu, 0x%llx != 0x%llx)\n",     \
                    __FILE__, __LINE__, __func__, #expected, #seen, e_, s_, e_, s_);               \
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

/*
 * The project's rule for error names, checked for an error enum whose values run from `ok` (0) to
 * `last`: name_of gives `ok` the name "ok" and every other value a name of its own (distinct
 * strings), a short English phrase rather than the enumerator's identifier (no '_'), that is
 * neither "ok" nor "unknown error", the name of every value outside the enum. `last` is given by
 * hand, so the value after it must be named "unknown error": a value added after `last` (which
 * name_of's switch must name, or -Wswitch fails the build) fails here until the test passes the
 * new last, so its name is checked too.
 */
#define ASSERT_ERROR_NAMES(name_of, enum_type, ok, last)                                           \
    do {                                                                                           \
        ASSERT_STREQ("ok", name_of(ok));                                                           \
        /* NOLINTNEXTLINE(clang-analyzer-optin.core.EnumCastOutOfRange): out of range */           \
        const char *past_last_ = name_of((enum_type)((int)(last) + 1));                            \
        ASSERT_STREQ("unknown error", past_last_);                                                 \
        for (int i_ = (int)(ok) + 1; i_ <= (int)(last); i_++) {                                    \
            const char *n_ = name_of((enum_type)i_);                                               \
            if (n_ == NULL || n_[0] == '\0' || strchr(n_, '_') != NULL || strcmp(n_, "ok") == 0 || \
                strcmp(n_, "unknown error") == 0) {                                                \
                fprintf(stderr, "%s:%d: %s: %s(%d) is \"%s\", not a phrase of its own\n",          \
                        __FILE__, __LINE__, __func__, #name_of, i_, n_ ? n_ : "(null)");           \
                return 1;                                                                          \
            }                                                                                      \
            for (int j_ = (int)(ok) + 1; j_ < i_; j_++) {                                          \
                if (strcmp(n_, name_of((enum_type)j_)) == 0) {                                     \
                    fprintf(stderr, "%s:%d: %s: %s(%d) and %s(%d) are both \"%s\"\n", __FILE__,    \
                            __LINE__, __func__, #name_of, j_, #name_of, i_, n_);                   \
                    return 1;                                                                      \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#define RUN_CHECK(failures, check)                                                                 \
    do {                                                                                           \
        int r_ = check();                                                                          \
        printf("%s %s\n", CHECK_RESULT_WORD(r_), #check);                                          \
        fflush(stdout); /* LeakSanitizer exits without flushing stdio */                           \
        (failures) += r_ != 0 && r_ != CHECK_SKIPPED;                                              \
    } while (0)

#endif /* TESTS_SUPPORT_CHECK_H */
