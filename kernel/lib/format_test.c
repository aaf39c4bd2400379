/* Host tests for the kernel's printf-style formatter: each case formats into a buffer and
 * compares with the text the conversion must produce. */
#include "kernel/lib/format.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define EXPECT_FORMAT(expected, ...)                                                               \
    do {                                                                                           \
        char buffer[128];                                                                          \
        size_t len = format_string(buffer, sizeof buffer, __VA_ARGS__);                            \
        if (strcmp(buffer, expected) != 0 || len != strlen(expected)) {                            \
            fprintf(stderr, "%s:%d: expected \"%s\" (%zu), got \"%s\" (%zu)\n", __FILE__,          \
                    __LINE__, expected, strlen(expected), buffer, len);                            \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void integers_check(void) {
    EXPECT_FORMAT("0", "%d", 0);
    EXPECT_FORMAT("-42 42", "%d %u", -42, 42u);
    EXPECT_FORMAT("-2147483648", "%d", INT32_MIN);
    EXPECT_FORMAT("-9223372036854775808", "%lld", (long long)INT64_MIN);
    EXPECT_FORMAT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
    EXPECT_FORMAT("4096", "%zu", (size_t)4096);
}

static void hex_and_pointer_check(void) {
    EXPECT_FORMAT("ff FF", "%x %X", 255u, 255u);
    EXPECT_FORMAT("0x0000000008000000", "%p", (void *)0x8000000);
    EXPECT_FORMAT("ffffffffffffffff", "%lx", (unsigned long)UINT64_MAX);
}

static void width_and_padding_check(void) {
    EXPECT_FORMAT("[0007]", "[%04u]", 7u);
    EXPECT_FORMAT("[   7]", "[%4u]", 7u);
    EXPECT_FORMAT("[-07]", "[%03d]", -7);
    EXPECT_FORMAT("[ab   ]", "[%5s]", "ab");
    EXPECT_FORMAT("12345", "%3u", 12345u);
}

static void strings_and_characters_check(void) {
    EXPECT_FORMAT("heap ok", "%s %s", "heap", "ok");
    EXPECT_FORMAT("(null)", "%s", (const char *)NULL);
    EXPECT_FORMAT("a%b", "%c%%%c", 'a', 'b');
}

/* An unknown directive is copied through rather than consuming an argument. */
static void unknown_directive_check(void) {
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat"
#pragma clang diagnostic ignored "-Wformat-invalid-specifier"
    EXPECT_FORMAT("%q 5", "%q %d", 5);
    EXPECT_FORMAT("end%", "end%");
#pragma clang diagnostic pop
}

/* Expect the output cut at size - 1 with a NUL, and the full length returned. */
static void truncation_check(void) {
    char buffer[6];
    size_t len = format_string(buffer, sizeof buffer, "%s", "0123456789");
    if (len != 10 || strcmp(buffer, "01234") != 0) {
        fprintf(stderr, "truncation: got \"%s\" (%zu)\n", buffer, len);
        failures++;
    }
    if (format_string(NULL, 0, "%d", 123) != 3) {
        fprintf(stderr, "truncation: size 0 must still count\n");
        failures++;
    }
}

int main(void) {
    integers_check();
    hex_and_pointer_check();
    width_and_padding_check();
    strings_and_characters_check();
    unknown_directive_check();
    truncation_check();
    if (failures != 0) {
        fprintf(stderr, "format_test: %d failures\n", failures);
        return 1;
    }
    printf("format_test: all cases passed\n");
    return 0;
}
