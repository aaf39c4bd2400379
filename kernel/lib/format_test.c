/* Host tests for the kernel's printf-style formatter: each case formats into a buffer and
 * compares with the text the conversion must produce. */
#include "kernel/lib/format.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "tests/support/check.h"

/* Formats into a buffer; the text and the returned length must be the expected ones. */
#define EXPECT_FORMAT(expected, ...)                                                               \
    do {                                                                                           \
        char buffer[128];                                                                          \
        size_t len = format_string(buffer, sizeof buffer, __VA_ARGS__);                            \
        ASSERT_STREQ(expected, buffer);                                                            \
        ASSERT_EQ(strlen(expected), len);                                                          \
    } while (0)

static int integers_check(void) {
    EXPECT_FORMAT("0", "%d", 0);
    EXPECT_FORMAT("-42 42", "%d %u", -42, 42u);
    EXPECT_FORMAT("-2147483648", "%d", INT32_MIN);
    EXPECT_FORMAT("-9223372036854775808", "%lld", (long long)INT64_MIN);
    EXPECT_FORMAT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
    EXPECT_FORMAT("4096", "%zu", (size_t)4096);
    return 0;
}

static int hex_and_pointer_check(void) {
    EXPECT_FORMAT("ff FF", "%x %X", 255u, 255u);
    EXPECT_FORMAT("0x0000000008000000", "%p", (void *)0x8000000);
    EXPECT_FORMAT("ffffffffffffffff", "%lx", (unsigned long)UINT64_MAX);
    return 0;
}

static int width_and_padding_check(void) {
    EXPECT_FORMAT("[0007]", "[%04u]", 7u);
    EXPECT_FORMAT("[   7]", "[%4u]", 7u);
    EXPECT_FORMAT("[-07]", "[%03d]", -7);
    EXPECT_FORMAT("[ab   ]", "[%5s]", "ab");
    EXPECT_FORMAT("12345", "%3u", 12345u);
    EXPECT_FORMAT("[x  |y]", "[%3c|%c]", 'x', 'y');
    EXPECT_FORMAT("[      0x0000000008000000|]", "[%24p|]", (void *)0x8000000);
    EXPECT_FORMAT("[0x0000000008000000]", "[%4p]", (void *)0x8000000);
    EXPECT_FORMAT("[        7]", "[%9u]", 7u); /* every digit a width may have */
    EXPECT_FORMAT("[x ]", "[%2c]", 'x');       /* the smallest width that pads a character */
    return 0;
}

/* A width above FORMAT_WIDTH_MAX, up to one that wraps 32 bits (4294967297 is 2^32 + 1), is no
 * directive of format.c's: copied through with the rest, no argument read, nothing padded. */
static int width_too_large_check(void) {
    char buffer[2048];
    size_t len = format_string(buffer, sizeof buffer, "[%1024u]", 7u);
    ASSERT_EQ(1026, len);
    ASSERT_EQ(']', buffer[1025]);
    ASSERT_EQ('7', buffer[1024]);
    EXPECT_FORMAT("[%1025u] %d", "[%1025u] %d", 7u, 8);
    EXPECT_FORMAT("[%10240u] %d", "[%10240u] %d", 7u, 8); /* ten times the limit: no clamp to it */
    EXPECT_FORMAT("[%4294967297u]", "[%4294967297u]", 7u);
    EXPECT_FORMAT("[%99999999999999999999s]", "[%99999999999999999999s]", "s");
    return 0;
}

static int strings_and_characters_check(void) {
    EXPECT_FORMAT("heap ok", "%s %s", "heap", "ok");
    EXPECT_FORMAT("(null)", "%s", (const char *)NULL);
    EXPECT_FORMAT("a%b", "%c%%%c", 'a', 'b');
    return 0;
}

/* An unknown directive is copied through, with the rest of the format, rather than consuming an
 * argument. */
static int unknown_directive_check(void) {
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat"
#pragma clang diagnostic ignored "-Wformat-invalid-specifier"
    EXPECT_FORMAT("%q %d", "%q %d", 5);
    EXPECT_FORMAT("end%", "end%");
#pragma clang diagnostic pop
    return 0;
}

/* Directives of C's printf that format.c does not implement: the '-' flag, a precision, %o, the h
 * modifier, %ls and %lc, and %p with a length modifier. The compiler's format check accepts each
 * with its argument, so the directives after one must not read that argument as their own: the rest
 * of the format is copied as written. */
static int unimplemented_directive_check(void) {
    EXPECT_FORMAT("[%-4d|%d]", "[%-4d|%d]", 1, 2);
    EXPECT_FORMAT("%o then %u", "%o then %u", 8u, 9u);
    EXPECT_FORMAT("%hu then %u", "%hu then %u", (unsigned short)8, 9u);
    EXPECT_FORMAT("x=7 %.3s then %s", "x=%d %.3s then %s", 7, "abcdef", "gh");
    /* C's wide string and character: their arguments are no char's, so they are not %s and %c. */
    EXPECT_FORMAT("%ls|%d", "%ls|%d", L"hi", 5);
    EXPECT_FORMAT("%lc|%d", "%lc|%d", (wint_t)L'e', 5);
    /* A pointer with a length modifier is no %p of format.c's either. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat"
    EXPECT_FORMAT("%lp|%d", "%lp|%d", (void *)0x1000, 5);
    EXPECT_FORMAT("%llp|%d", "%llp|%d", (void *)0x1000, 5);
#pragma clang diagnostic pop
    return 0;
}

/* Expect the output cut at size - 1 with a NUL, and the full length returned. */
static int truncation_check(void) {
    char buffer[6];
    size_t len = format_string(buffer, sizeof buffer, "%s", "0123456789");
    ASSERT_EQ(10, len);
    ASSERT_STREQ("01234", buffer);
    /* Output of exactly the buffer's size: its last byte is the NUL, nothing written past it. */
    char exact[4];
    ASSERT_EQ(4, format_string(exact, sizeof exact, "abcd"));
    ASSERT_STREQ("abc", exact);
    /* Size 0 must still count. */
    ASSERT_EQ(3, format_string(NULL, 0, "%d", 123));
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, integers_check);
    RUN_CHECK(failures, hex_and_pointer_check);
    RUN_CHECK(failures, width_and_padding_check);
    RUN_CHECK(failures, width_too_large_check);
    RUN_CHECK(failures, strings_and_characters_check);
    RUN_CHECK(failures, unknown_directive_check);
    RUN_CHECK(failures, unimplemented_directive_check);
    RUN_CHECK(failures, truncation_check);
    return failures == 0 ? 0 : 1;
}
