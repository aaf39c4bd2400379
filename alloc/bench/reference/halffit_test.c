/*
 * alloc/bench/reference/halffit_test.c - the reference half-fit's own behaviour: fragment sizes,
 * coalescing with both neighbours, bins never giving a fragment too small, alignment, realloc,
 * exhaustion. The heap is walked (halffit_check) after every call of the allocator: the checks
 * make them through the macros below.
 */
#include <stdint.h>
#include <string.h>

#include "alloc/bench/reference/halffit.h"
#include "tests/support/check.h"

#define REGION_BYTES (64 * 1024)
#define A            HALFFIT_ALIGNMENT
static _Alignas(4096) unsigned char region[REGION_BYTES];

/* Each allocator call, then a walk of the heap that fails the check there if it is unsound. */
#define WALKED(h)                                                                                  \
    do {                                                                                           \
        struct halffit_stats walk_;                                                                \
        ASSERT_TRUE(halffit_check((h), &walk_));                                                   \
    } while (0)
#define ALLOCATE(h, n)                                                                             \
    ({                                                                                             \
        void *allocated_ = halffit_allocate((h), (n));                                             \
        WALKED(h);                                                                                 \
        allocated_;                                                                                \
    })
#define REALLOC(h, p, n)                                                                           \
    ({                                                                                             \
        void *moved_ = halffit_realloc((h), (p), (n));                                             \
        WALKED(h);                                                                                 \
        moved_;                                                                                    \
    })
#define FREE(h, p)                                                                                 \
    do {                                                                                           \
        halffit_free((h), (p));                                                                    \
        WALKED(h);                                                                                 \
    } while (0)

static struct halffit_stats stats_of(const halffit *h) {
    struct halffit_stats s = {0, 0, 0, 0};
    if (!halffit_check(h, &s))
        s.free_fragments = SIZE_MAX; /* fails any ASSERT on it */
    return s;
}

/* Expect a request's fragment to be the power of two holding it and the header: usable bytes
 * 2^k - A, at least 2A - A. */
static int fragment_size_check(void) {
    halffit *h = halffit_create(region, REGION_BYTES);
    ASSERT_TRUE(h != NULL);
    static const size_t cases[][2] = {
        {0, A},           {1, A}, {A, A}, {A + 1, 3 * A}, {3 * A, 3 * A}, {3 * A + 1, 7 * A},
        {1000, 2048 - A},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        void *p = ALLOCATE(h, cases[i][0]);
        ASSERT_TRUE(p != NULL);
        ASSERT_EQ(cases[i][1], halffit_usable_size(p));
        FREE(h, p);
    }
    ASSERT_EQ(1, stats_of(h).free_fragments);
    return 0;
}

/*
 *  [ a | b | c | d | rest ]   free a, free c, then free b
 *  [ a+b+c (one free) | d | rest ]   then free d
 *  [ one free fragment: the whole arena ]
 * Expect b merged with both neighbours, then everything back into the fragment the heap began
 * with.
 */
static int coalesce_both_check(void) {
    halffit *h = halffit_create(region, REGION_BYTES);
    ASSERT_TRUE(h != NULL);
    struct halffit_stats whole = stats_of(h);
    ASSERT_EQ(1, whole.free_fragments);
    char *a = ALLOCATE(h, 100), *b = ALLOCATE(h, 200);
    char *c = ALLOCATE(h, 300), *d = ALLOCATE(h, 400);
    ASSERT_TRUE(a && b && c && d);
    ASSERT_TRUE(a < b && b < c && c < d);
    FREE(h, a);
    FREE(h, c);
    ASSERT_EQ(3, stats_of(h).free_fragments);
    FREE(h, b);
    struct halffit_stats s = stats_of(h);
    ASSERT_EQ(2, s.free_fragments);
    ASSERT_EQ(1, s.used_fragments);
    /* The free fragment at a spans all three: 256 + 256 + 512 bytes, the header included. */
    ASSERT_EQ(256 + 256 + 512 - A, halffit_usable_size(a));
    FREE(h, d);
    s = stats_of(h);
    ASSERT_EQ(1, s.free_fragments);
    ASSERT_EQ(0, s.used_fragments);
    ASSERT_EQ(whole.largest_free, s.largest_free);
    return 0;
}

/*
 * A free fragment of 3 * 2A bytes (two merged, in the bin [4A, 8A)) and a request that needs a
 * fragment of 8A. Expect the request not to be given the smaller fragment, nor any block smaller
 * than asked, for every size from 1 to 5,000 on a heap with free fragments of many sizes.
 */
static int bins_fit_check(void) {
    halffit *h = halffit_create(region, REGION_BYTES);
    ASSERT_TRUE(h != NULL);
    char *x = ALLOCATE(h, A), *y = ALLOCATE(h, 3 * A);
    char *guard = ALLOCATE(h, 1);
    ASSERT_TRUE(x && y && guard);
    FREE(h, x);
    FREE(h, y);
    ASSERT_EQ(6 * A - A, halffit_usable_size(x)); /* merged: 2A + 4A */
    char *p = ALLOCATE(h, 6 * A);                 /* needs 7A: a fragment of 8A */
    ASSERT_TRUE(p != NULL && p != x);
    ASSERT_TRUE(halffit_usable_size(p) >= 6 * A);
    FREE(h, p);
    char *held[32];
    for (int i = 0; i < 32; i++) {
        held[i] = ALLOCATE(h, 8 + 24 * (size_t)i);
        ASSERT_TRUE(held[i] != NULL);
    }
    for (int i = 0; i < 32; i += 2)
        FREE(h, held[i]);
    for (size_t n = 1; n <= 5000; n++) {
        char *q = ALLOCATE(h, n);
        ASSERT_TRUE(q != NULL);
        ASSERT_TRUE(halffit_usable_size(q) >= n);
        ASSERT_EQ(0, (uintptr_t)q % A);
        memset(q, 0xab, n);
        FREE(h, q);
    }
    ASSERT_TRUE(stats_of(h).free_fragments != SIZE_MAX);
    return 0;
}

/* Expect realloc to stay in place while the fragment holds the size, to move beyond it, and to
 * keep the contents. */
static int realloc_check(void) {
    halffit *h = halffit_create(region, REGION_BYTES);
    ASSERT_TRUE(h != NULL);
    unsigned char *a = ALLOCATE(h, 100);
    ASSERT_TRUE(a != NULL);
    for (int i = 0; i < 100; i++)
        a[i] = (unsigned char)i;
    ASSERT_TRUE(REALLOC(h, a, 256 - A) == a); /* 100 + A took a fragment of 256 */
    ASSERT_TRUE(REALLOC(h, a, 10) == a);
    unsigned char *m = REALLOC(h, a, 256 - A + 1);
    ASSERT_TRUE(m != NULL && m != a);
    for (int i = 0; i < 100; i++)
        ASSERT_EQ(i, m[i]);
    FREE(h, m);
    ASSERT_EQ(1, stats_of(h).free_fragments);
    return 0;
}

/* Expect exhaustion to return NULL and leave the heap as it was, and every block to come back. */
static int exhaustion_check(void) {
    halffit *h = halffit_create(region, REGION_BYTES);
    ASSERT_TRUE(h != NULL);
    struct halffit_stats whole = stats_of(h);
    ASSERT_TRUE(ALLOCATE(h, REGION_BYTES) == NULL);
    ASSERT_TRUE(ALLOCATE(h, SIZE_MAX) == NULL);
    static void *blocks[REGION_BYTES / 64];
    size_t n = 0;
    void *p;
    while ((p = ALLOCATE(h, 500)) != NULL)
        blocks[n++] = p;
    ASSERT_TRUE(n > 50);
    struct halffit_stats full = stats_of(h);
    ASSERT_TRUE(REALLOC(h, blocks[0], 5000) == NULL);
    struct halffit_stats after = stats_of(h);
    ASSERT_EQ(full.used_fragments, after.used_fragments);
    ASSERT_EQ(full.free_bytes, after.free_bytes);
    for (size_t i = 0; i < n; i += 2) /* every other block first: merges on both sides next */
        FREE(h, blocks[i]);
    for (size_t i = 1; i < n; i += 2)
        FREE(h, blocks[i]);
    struct halffit_stats s = stats_of(h);
    ASSERT_EQ(1, s.free_fragments);
    ASSERT_EQ(whole.largest_free, s.largest_free);
    return 0;
}

/* Expect a region that is misaligned, too small or NULL to be refused. */
static int create_refuses_check(void) {
    ASSERT_TRUE(halffit_create(region + 16, REGION_BYTES - 16) == NULL);
    ASSERT_TRUE(halffit_create(region, halffit_min_region() - 1) == NULL);
    ASSERT_TRUE(halffit_create(NULL, REGION_BYTES) == NULL);
    halffit *h = halffit_create(region, halffit_min_region());
    ASSERT_TRUE(h != NULL);
    ASSERT_TRUE(ALLOCATE(h, A + 1) == NULL);
    void *p = ALLOCATE(h, A);
    ASSERT_TRUE(p != NULL);
    ASSERT_TRUE(ALLOCATE(h, 1) == NULL);
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, fragment_size_check);
    RUN_CHECK(failures, coalesce_both_check);
    RUN_CHECK(failures, bins_fit_check);
    RUN_CHECK(failures, realloc_check);
    RUN_CHECK(failures, exhaustion_check);
    RUN_CHECK(failures, create_refuses_check);
    return failures != 0;
}
