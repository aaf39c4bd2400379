/* The heap range from the boot command line (see heap_range.h). */
#include "kernel/lib/heap_range.h"

#include "kernel/lib/cmdline.h"

#include <stdbool.h>
#include <stddef.h>

const char *heap_range_error_name(enum heap_range_error error) {
    switch (error) {
    case HEAP_RANGE_OK:
        return "ok";
    case HEAP_RANGE_ERR_BAD_NUMBER:
        return "bad number";
    case HEAP_RANGE_ERR_MISALIGNED_START:
        return "start not page aligned";
    case HEAP_RANGE_ERR_NO_PAGES:
        return "no pages";
    case HEAP_RANGE_ERR_TOO_MANY_PAGES:
        return "too many pages";
    case HEAP_RANGE_ERR_BELOW_START:
        return "overlaps the boot identity map";
    case HEAP_RANGE_ERR_ABOVE_END:
        return "beyond the lower canonical half";
    }
    return "unknown error";
}

static int digit_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Parses [text, end) as a decimal or 0x-prefixed hex number that fits in 64 bits. */
static bool parse_number(const char *text, const char *end, uint64_t *out) {
    uint64_t base = 10;
    if (end - text > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
    }
    if (text == end) {
        return false;
    }
    uint64_t value = 0;
    for (; text < end; text++) {
        int digit = digit_value(*text);
        if (digit < 0 || (uint64_t)digit >= base || value > (UINT64_MAX - (uint64_t)digit) / base) {
            return false;
        }
        value = value * base + (uint64_t)digit;
    }
    *out = value;
    return true;
}

/* Reads key's value from cmdline into *number when the key is there; false on a bad number. */
static bool read_number(const char *cmdline, const char *key, uint64_t *number) {
    struct cmdline_word value;
    return !cmdline_value(cmdline, key, &value) ||
           parse_number(value.start, value.start + value.len, number);
}

enum heap_range_error heap_range_from_cmdline(const char *cmdline,
                                              const struct heap_range_limits *limits,
                                              struct heap_range *range) {
    struct heap_range wanted = *range;
    if (!read_number(cmdline, HEAP_RANGE_START_KEY, &wanted.start) ||
        !read_number(cmdline, HEAP_RANGE_PAGES_KEY, &wanted.pages)) {
        return HEAP_RANGE_ERR_BAD_NUMBER;
    }

    if (wanted.start % limits->page_size != 0) {
        return HEAP_RANGE_ERR_MISALIGNED_START;
    }
    if (wanted.pages == 0) {
        return HEAP_RANGE_ERR_NO_PAGES;
    }
    if (wanted.pages > limits->max_pages) {
        return HEAP_RANGE_ERR_TOO_MANY_PAGES;
    }
    if (wanted.start < limits->lowest_start) {
        return HEAP_RANGE_ERR_BELOW_START;
    }
    /* In pages, so that neither start + size nor pages * page_size can overflow, whatever
     * max_pages allows. */
    if (wanted.start > limits->highest_end ||
        wanted.pages > (limits->highest_end - wanted.start) / limits->page_size) {
        return HEAP_RANGE_ERR_ABOVE_END;
    }
    *range = wanted;
    return HEAP_RANGE_OK;
}
