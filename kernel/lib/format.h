/* printf-style formatting for the kernel, without libc: the kernel's log and panic messages are
 * built here. Pure code, tested on the host (kernel/lib/format_test.c).
 *
 * Conversions: %d %i %u %x %X %p %s %c %%, with an optional '0' flag, a field width of at most
 * FORMAT_WIDTH_MAX, and the length modifiers l, ll, z on the integer conversions. Strings and
 * characters are left-justified in their width (log columns line up); numbers and pointers are
 * right-justified. Any other directive (a wider width among them, and %ls, %lc, %lp) is copied
 * through as written with the rest of the format, and no argument is read for them: the compiler
 * accepts C directives this file does not implement (%-5d, %.*s, %o) with arguments of types
 * unknown here, and reading on would hand later directives the wrong ones. */
#ifndef KERNEL_LIB_FORMAT_H
#define KERNEL_LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* The widest field a directive may ask for: more is no log column, only a typo or a number that
 * would wrap (and a serial console padded for minutes). */
#define FORMAT_WIDTH_MAX 1024u

/* Receives formatted output in pieces. */
typedef void (*format_sink)(void *ctx, const char *bytes, size_t len);

/* Formats into sink; returns the number of bytes produced. */
size_t format_va(format_sink sink, void *ctx, const char *format, va_list args);

/* Formats into buffer[0, size), always NUL-terminated when size > 0; returns the length the whole
 * output would have had (as snprintf), so a return value >= size means it was cut short. */
size_t format_string(char *buffer, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
size_t format_string_va(char *buffer, size_t size, const char *format, va_list args);

#endif
