/* Host tests of the command line check (cmdline.h): known words and keys among spaces, unknown and
 * misspelt words, prefixes of known words, keys given twice, and the word each error names. */
#include "kernel/lib/cmdline.h"

#include <stdbool.h>
#include <string.h>

#include "tests/support/check.h"

/* A stand-in for the kernel's list: keys and exact words, two of them sharing the key fault=. */
static const char *const known[] = {
    "heap_start=", "heap_pages=", "scenario=", "stress", "fault=deadlock", "fault=join_idle",
};

static enum cmdline_error check(const char *cmdline, struct cmdline_word *bad) {
    return cmdline_check(cmdline, known, sizeof known / sizeof known[0], bad);
}

/* Expect error on cmdline, naming the word expected_word. */
static int expect_refused(const char *cmdline, enum cmdline_error error,
                          const char *expected_word) {
    struct cmdline_word bad = {NULL, 0};
    ASSERT_EQ(error, check(cmdline, &bad));
    ASSERT_EQ(strlen(expected_word), bad.len);
    ASSERT_TRUE(bad.start != NULL && strncmp(bad.start, expected_word, bad.len) == 0);
    ASSERT_TRUE(bad.start >= cmdline && bad.start + bad.len <= cmdline + strlen(cmdline));
    return 0;
}

/* No command line, an empty one, only spaces, and known words with any spacing. */
static int known_words_accepted_check(void) {
    struct cmdline_word bad = {NULL, 0};
    ASSERT_EQ(CMDLINE_OK, check(NULL, &bad));
    ASSERT_EQ(CMDLINE_OK, check("", &bad));
    ASSERT_EQ(CMDLINE_OK, check("   ", &bad));
    ASSERT_EQ(CMDLINE_OK, check("heap_start=0x80000000 heap_pages=3000", &bad));
    ASSERT_EQ(CMDLINE_OK, check("  stress   fault=deadlock ", &bad));
    /* A key's value is its reader's to check, an empty one too. */
    ASSERT_EQ(CMDLINE_OK, check("heap_pages= scenario=no_such_scenario", &bad));
    ASSERT_TRUE(bad.start == NULL);
    return 0;
}

/* Misspelt keys and words, a known word with more or less after it, a word with a tab. */
static int unknown_words_refused_check(void) {
    ASSERT_EQ(0, expect_refused("heap_page=3000", CMDLINE_ERR_UNKNOWN_WORD, "heap_page=3000"));
    ASSERT_EQ(0, expect_refused("heap_start=0x80000000 fault=deadlok", CMDLINE_ERR_UNKNOWN_WORD,
                                "fault=deadlok"));
    ASSERT_EQ(
        0, expect_refused("stress fault=deadlocks", CMDLINE_ERR_UNKNOWN_WORD, "fault=deadlocks"));
    ASSERT_EQ(0, expect_refused("stres", CMDLINE_ERR_UNKNOWN_WORD, "stres"));
    ASSERT_EQ(0, expect_refused("stressed", CMDLINE_ERR_UNKNOWN_WORD, "stressed"));
    ASSERT_EQ(0, expect_refused("heap_pages", CMDLINE_ERR_UNKNOWN_WORD, "heap_pages"));
    ASSERT_EQ(0, expect_refused("fault=", CMDLINE_ERR_UNKNOWN_WORD, "fault="));
    ASSERT_EQ(0, expect_refused("stress\tx", CMDLINE_ERR_UNKNOWN_WORD, "stress\tx"));
    return 0;
}

/* The same word twice, one key with two values, two exact words sharing a key: the second is
 * named. */
static int repeated_keys_refused_check(void) {
    ASSERT_EQ(0, expect_refused("stress stress", CMDLINE_ERR_REPEATED_KEY, "stress"));
    ASSERT_EQ(0, expect_refused("heap_pages=2048 stress heap_pages=3000", CMDLINE_ERR_REPEATED_KEY,
                                "heap_pages=3000"));
    ASSERT_EQ(
        0, expect_refused("heap_pages=1 heap_pages=1", CMDLINE_ERR_REPEATED_KEY, "heap_pages=1"));
    ASSERT_EQ(0, expect_refused("fault=deadlock fault=join_idle", CMDLINE_ERR_REPEATED_KEY,
                                "fault=join_idle"));
    /* An unknown word before the repeat is the first offence. */
    ASSERT_EQ(0, expect_refused("stress nope stress", CMDLINE_ERR_UNKNOWN_WORD, "nope"));
    return 0;
}

/* Whole words only, among any spaces; no command line has none. */
static int cmdline_has_check(void) {
    ASSERT_TRUE(cmdline_has("stress", "stress"));
    ASSERT_TRUE(cmdline_has("  heap_cache=off   stress ", "stress"));
    ASSERT_TRUE(cmdline_has("stress heap_cache=off", "heap_cache=off"));
    ASSERT_FALSE(cmdline_has("stresses", "stress"));
    ASSERT_FALSE(cmdline_has("no_stress", "stress"));
    ASSERT_FALSE(cmdline_has("fault=deadlock", "fault="));
    ASSERT_FALSE(cmdline_has("", "stress"));
    ASSERT_FALSE(cmdline_has(NULL, "stress"));
    return 0;
}

/* Expect cmdline_value(cmdline, key) to find a word whose value is expected (NULL: no such word).
 */
static int expect_value(const char *cmdline, const char *key, const char *expected) {
    struct cmdline_word value = {NULL, 0};
    bool found = cmdline_value(cmdline, key, &value);
    ASSERT_EQ(expected != NULL, found);
    if (expected != NULL) {
        ASSERT_EQ(strlen(expected), value.len);
        ASSERT_TRUE(strncmp(value.start, expected, value.len) == 0);
        ASSERT_TRUE(value.start >= cmdline && value.start + value.len <= cmdline + strlen(cmdline));
    }
    return 0;
}

/* A key's value is the rest of its word, empty too; the key must start a word; the first of two
 * is taken (cmdline_check refuses such a line before any reader runs). */
static int cmdline_value_check(void) {
    ASSERT_EQ(0, expect_value("heap_pages=20", "heap_pages=", "20"));
    ASSERT_EQ(0, expect_value("  stress heap_pages=0x10  scenario=hang ", "heap_pages=", "0x10"));
    ASSERT_EQ(0, expect_value("stress scenario=hang", "scenario=", "hang"));
    ASSERT_EQ(0, expect_value("scenario= stress", "scenario=", ""));
    ASSERT_EQ(0, expect_value("heap_pages=1 heap_pages=2", "heap_pages=", "1"));
    ASSERT_EQ(0, expect_value("xheap_pages=5 heap_pagesize=1", "heap_pages=", NULL));
    ASSERT_EQ(0, expect_value("heap_pages", "heap_pages=", NULL));
    ASSERT_EQ(0, expect_value("", "heap_pages=", NULL));
    ASSERT_EQ(0, expect_value(NULL, "heap_pages=", NULL));
    return 0;
}

/* Keys told apart by their '=' and by their length, with a list of their own: "stress" and
 * "stress=" (a word and a key of the same letters), "stress" and "stress_more" (one a prefix of
 * the other); and a list with an empty known word.
 * Expect each pair of words accepted (the key of "stress=1" is "stress=", not "stress"; that of
 * "stress_more" is all of it), and a word that is not known refused against the empty one, which
 * matches only an empty word (there is none: spaces separate words) and is read no further. */
static int keys_told_apart_check(void) {
    struct cmdline_word bad = {NULL, 0};
    static const char *const word_and_key[] = {"stress", "stress="};
    ASSERT_EQ(CMDLINE_OK, cmdline_check("stress stress=1", word_and_key, 2, &bad));
    ASSERT_EQ(CMDLINE_OK, cmdline_check("stress=1 stress", word_and_key, 2, &bad));
    static const char *const prefix[] = {"stress", "stress_more"};
    ASSERT_EQ(CMDLINE_OK, cmdline_check("stress_more stress", prefix, 2, &bad));
    ASSERT_EQ(CMDLINE_OK, cmdline_check("stress stress_more", prefix, 2, &bad));
    static const char *const with_empty[] = {"x=", ""};
    ASSERT_EQ(CMDLINE_ERR_UNKNOWN_WORD, cmdline_check("stress", with_empty, 2, &bad));
    ASSERT_EQ(6, bad.len);
    return 0;
}

static int error_names_check(void) {
    ASSERT_ERROR_NAMES(cmdline_error_name, enum cmdline_error, CMDLINE_OK,
                       CMDLINE_ERR_REPEATED_KEY);
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, known_words_accepted_check);
    RUN_CHECK(failures, unknown_words_refused_check);
    RUN_CHECK(failures, repeated_keys_refused_check);
    RUN_CHECK(failures, cmdline_has_check);
    RUN_CHECK(failures, cmdline_value_check);
    RUN_CHECK(failures, keys_told_apart_check);
    RUN_CHECK(failures, error_names_check);
    return failures == 0 ? 0 : 1;
}
