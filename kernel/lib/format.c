/* printf-style formatting without libc (see format.h). */
#include "kernel/lib/format.h"

#include <stdbool.h>
#include <stdint.h>

enum length_modifier { LENGTH_INT, LENGTH_LONG, LENGTH_LONG_LONG, LENGTH_SIZE };

struct conversion {
    bool zero_pad;
    unsigned width;
    enum length_modifier length;
};

static void emit_padding(format_sink sink, void *ctx, char pad, unsigned count, size_t *produced) {
    for (unsigned i = 0; i < count; i++) {
        sink(ctx, &pad, 1);
    }
    *produced += count;
}

/* Emits magnitude in base (10 or 16), with a leading '-' when negative, padded to the width. */
static void emit_number(format_sink sink, void *ctx, uint64_t magnitude, bool negative,
                        unsigned base, bool upper, struct conversion conversion, size_t *produced) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char reversed[24];
    unsigned count = 0;
    do {
        reversed[count++] = digits[magnitude % base];
        magnitude /= base;
    } while (magnitude != 0);

    unsigned total = count + (negative ? 1 : 0);
    unsigned padding = conversion.width > total ? conversion.width - total : 0;
    if (!conversion.zero_pad) {
        emit_padding(sink, ctx, ' ', padding, produced);
    }
    if (negative) {
        sink(ctx, "-", 1);
        *produced += 1;
    }
    if (conversion.zero_pad) {
        emit_padding(sink, ctx, '0', padding, produced);
    }
    while (count > 0) {
        sink(ctx, &reversed[--count], 1);
        *produced += 1;
    }
}

static int64_t take_signed(va_list *args, enum length_modifier length) {
    switch (length) {
    case LENGTH_LONG:
        return va_arg(*args, long);
    case LENGTH_LONG_LONG:
        return va_arg(*args, long long);
    case LENGTH_SIZE:
        return (int64_t)va_arg(*args, size_t);
    default:
        return va_arg(*args, int);
    }
}

static uint64_t take_unsigned(va_list *args, enum length_modifier length) {
    switch (length) {
    case LENGTH_LONG:
        return va_arg(*args, unsigned long);
    case LENGTH_LONG_LONG:
        return va_arg(*args, unsigned long long);
    case LENGTH_SIZE:
        return va_arg(*args, size_t);
    default:
        return va_arg(*args, unsigned int);
    }
}

size_t format_va(format_sink sink, void *ctx, const char *format, va_list args_in) {
    va_list args;
    va_copy(args, args_in);
    size_t produced = 0;
    const char *cursor = format;
    while (*cursor != '\0') {
        if (*cursor != '%') {
            const char *run = cursor;
            while (*cursor != '\0' && *cursor != '%') {
                cursor++;
            }
            sink(ctx, run, (size_t)(cursor - run));
            produced += (size_t)(cursor - run);
            continue;
        }
        const char *directive = cursor++;
        struct conversion conversion = {false, 0, LENGTH_INT};
        if (*cursor == '0') {
            conversion.zero_pad = true;
            cursor++;
        }
        while (*cursor >= '0' && *cursor <= '9') {
            /* Stops growing once above FORMAT_WIDTH_MAX (at most 10 * FORMAT_WIDTH_MAX + 9): a
             * longer run of digits must not wrap. */
            unsigned digit = (unsigned)(*cursor++ - '0');
            conversion.width = conversion.width > FORMAT_WIDTH_MAX ? conversion.width
                                                                   : conversion.width * 10 + digit;
        }
        if (*cursor == 'l') {
            cursor++;
            conversion.length = LENGTH_LONG;
            if (*cursor == 'l') {
                cursor++;
                conversion.length = LENGTH_LONG_LONG;
            }
        } else if (*cursor == 'z') {
            cursor++;
            conversion.length = LENGTH_SIZE;
        }
        char kind = *cursor;
        if (kind != '\0') {
            cursor++;
        }
        if (conversion.width > FORMAT_WIDTH_MAX ||
            (conversion.length != LENGTH_INT && (kind == 's' || kind == 'c' || kind == 'p'))) {
            /* Not a directive of this file's: copied through, as below. %ls and %lc are C's wide
             * string and character, whose arguments are no char's. */
            kind = '\0';
        }
        switch (kind) {
        case 'd':
        case 'i': {
            int64_t value = take_signed(&args, conversion.length);
            uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
            emit_number(sink, ctx, magnitude, value < 0, 10, false, conversion, &produced);
            break;
        }
        case 'u':
            emit_number(sink, ctx, take_unsigned(&args, conversion.length), false, 10, false,
                        conversion, &produced);
            break;
        case 'x':
        case 'X':
            emit_number(sink, ctx, take_unsigned(&args, conversion.length), false, 16, kind == 'X',
                        conversion, &produced);
            break;
        case 'p': {
            /* Right-justified in its width, as numbers are: "0x" and 16 digits. */
            unsigned digits = 2 + 16;
            emit_padding(sink, ctx, ' ', conversion.width > digits ? conversion.width - digits : 0,
                         &produced);
            sink(ctx, "0x", 2);
            produced += 2;
            struct conversion pointer = {true, 16, LENGTH_LONG};
            emit_number(sink, ctx, (uintptr_t)va_arg(args, void *), false, 16, false, pointer,
                        &produced);
            break;
        }
        case 's': {
            const char *string = va_arg(args, const char *);
            if (string == NULL) {
                string = "(null)";
            }
            size_t len = 0;
            while (string[len] != '\0') {
                len++;
            }
            unsigned padding = conversion.width > len ? conversion.width - (unsigned)len : 0;
            sink(ctx, string, len);
            emit_padding(sink, ctx, ' ', padding, &produced);
            produced += len;
            break;
        }
        case 'c': {
            /* Left-justified in its width, as a string of one character. */
            char character = (char)va_arg(args, int);
            sink(ctx, &character, 1);
            produced += 1;
            emit_padding(sink, ctx, ' ', conversion.width > 1 ? conversion.width - 1 : 0,
                         &produced);
            break;
        }
        case '%':
            sink(ctx, "%", 1);
            produced += 1;
            break;
        default: {
            /* A directive not implemented here may still be C's (%-5d, %.*s, %o), which the
             * compiler's format check lets through with its argument, of a type unknown here: no
             * later directive could tell which argument is its own, so none reads any. */
            const char *end = directive;
            while (*end != '\0') {
                end++;
            }
            sink(ctx, directive, (size_t)(end - directive));
            produced += (size_t)(end - directive);
            cursor = end;
            break;
        }
        }
    }
    va_end(args);
    return produced;
}

struct string_sink {
    char *buffer;
    size_t size;
    size_t used;
};

static void string_sink_write(void *ctx, const char *bytes, size_t len) {
    struct string_sink *sink = ctx;
    for (size_t i = 0; i < len; i++) {
        if (sink->used + 1 < sink->size) {
            sink->buffer[sink->used] = bytes[i];
        }
        sink->used++;
    }
}

size_t format_string_va(char *buffer, size_t size, const char *format, va_list args) {
    struct string_sink sink = {buffer, size, 0};
    size_t produced = format_va(string_sink_write, &sink, format, args);
    if (size > 0) {
        buffer[sink.used < size ? sink.used : size - 1] = '\0';
    }
    return produced;
}

size_t format_string(char *buffer, size_t size, const char *format, ...) {
    va_list args;
    va_start(args, format);
    size_t produced = format_string_va(buffer, size, format, args);
    va_end(args);
    return produced;
}
