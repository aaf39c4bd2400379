/* The boot command line read word by word: whether it has a switch, the value of a key, and a
 * check against the words the kernel knows, so that a misspelt word or a key given twice is refused
 * with its reason instead of booting the defaults:
 *     heap_start=0x80000000 heap_pages=3000 stress
 * Words are separated by spaces. Pure C, tested on the host; the known words come from the caller,
 * each from the code that reads it. */
#ifndef KERNEL_LIB_CMDLINE_H
#define KERNEL_LIB_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/* CMDLINE_OK is 0. cmdline_error_name() gives each a short English name. */
enum cmdline_error {
    CMDLINE_OK = 0,
    CMDLINE_ERR_UNKNOWN_WORD, /* "unknown word": none of the known words */
    CMDLINE_ERR_REPEATED_KEY, /* "key given twice": the same word, or two with one key, which
                                 leaves unclear which one the kernel should follow */
};

/* Returns the name of an error, or "unknown error" for a value that is not one. Never NULL. */
const char *cmdline_error_name(enum cmdline_error error);

/* A word of the command line: [start, start + len). */
struct cmdline_word {
    const char *start;
    size_t len;
};

/* Whether word appears as a whole word in cmdline (NULL reads as empty): the switches a reader
 * looks for, such as "stress". */
bool cmdline_has(const char *cmdline, const char *word);

/* Whether cmdline (NULL reads as empty) has a word starting with key, a key ending in '=' such as
 * "heap_pages=": then *value is the rest of that word, possibly empty, for its reader to check.
 * The first such word is taken; cmdline_check refuses a line that gives a key twice. */
bool cmdline_value(const char *cmdline, const char *key, struct cmdline_word *value);

/* Checks every word of cmdline (NULL has none) against known[0, known_count). A known word ending
 * in '=' is a key: every word starting with it is known, whatever its value (its reader checks
 * that). Any other known word is known only as written. A word's key is what it has up to its first
 * '=' and that '=' (fault=deadlock and fault=join_idle share fault=), or the whole word without
 * one; no key may come twice. On error *bad is the first offending word. */
enum cmdline_error cmdline_check(const char *cmdline, const char *const *known, size_t known_count,
                                 struct cmdline_word *bad);

#endif
