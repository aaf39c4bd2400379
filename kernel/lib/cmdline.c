/* The boot command line: its switches and values found, and its words checked against those the
 * kernel knows (see cmdline.h). */
#include "kernel/lib/cmdline.h"

#include <stdbool.h>

const char *cmdline_error_name(enum cmdline_error error) {
    switch (error) {
    case CMDLINE_OK:
        return "ok";
    case CMDLINE_ERR_UNKNOWN_WORD:
        return "unknown word";
    case CMDLINE_ERR_REPEATED_KEY:
        return "key given twice";
    }
    return "unknown error";
}

static size_t string_length(const char *string) {
    size_t len = 0;
    while (string[len] != '\0') {
        len++;
    }
    return len;
}

static bool same_bytes(const char *a, const char *b, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

static bool word_is_known(struct cmdline_word word, const char *const *known, size_t known_count) {
    for (size_t i = 0; i < known_count; i++) {
        size_t len = string_length(known[i]);
        bool is_key = len > 0 && known[i][len - 1] == '=';
        if ((is_key ? word.len >= len : word.len == len) && same_bytes(word.start, known[i], len)) {
            return true;
        }
    }
    return false;
}

/* The length of the word's key: through its first '=', or the whole word. */
static size_t key_length(struct cmdline_word word) {
    for (size_t i = 0; i < word.len; i++) {
        if (word.start[i] == '=') {
            return i + 1;
        }
    }
    return word.len;
}

/* The word starting at or after *cursor, skipping spaces; false at the end. */
static bool next_word(const char **cursor, struct cmdline_word *word) {
    const char *start = *cursor;
    while (*start == ' ') {
        start++;
    }
    const char *end = start;
    while (*end != '\0' && *end != ' ') {
        end++;
    }
    *cursor = end;
    *word = (struct cmdline_word){start, (size_t)(end - start)};
    return end != start;
}

bool cmdline_has(const char *cmdline, const char *word) {
    if (cmdline == NULL) {
        return false;
    }
    size_t len = string_length(word);
    struct cmdline_word found;
    for (const char *cursor = cmdline; next_word(&cursor, &found);) {
        if (found.len == len && same_bytes(found.start, word, len)) {
            return true;
        }
    }
    return false;
}

bool cmdline_value(const char *cmdline, const char *key, struct cmdline_word *value) {
    if (cmdline == NULL) {
        return false;
    }
    size_t len = string_length(key);
    struct cmdline_word found;
    for (const char *cursor = cmdline; next_word(&cursor, &found);) {
        if (found.len >= len && same_bytes(found.start, key, len)) {
            *value = (struct cmdline_word){found.start + len, found.len - len};
            return true;
        }
    }
    return false;
}

enum cmdline_error cmdline_check(const char *cmdline, const char *const *known, size_t known_count,
                                 struct cmdline_word *bad) {
    if (cmdline == NULL) {
        return CMDLINE_OK;
    }
    struct cmdline_word word;
    for (const char *cursor = cmdline; next_word(&cursor, &word);) {
        if (!word_is_known(word, known, known_count)) {
            *bad = word;
            return CMDLINE_ERR_UNKNOWN_WORD;
        }
        size_t key = key_length(word);
        struct cmdline_word earlier;
        for (const char *back = cmdline;
             next_word(&back, &earlier) && earlier.start != word.start;) {
            if (key_length(earlier) == key && same_bytes(earlier.start, word.start, key)) {
                *bad = word;
                return CMDLINE_ERR_REPEATED_KEY;
            }
        }
    }
    return CMDLINE_OK;
}
