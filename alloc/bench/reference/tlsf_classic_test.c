/*
 * alloc/bench/reference/tlsf_classic_test.c - the reference TLSF's own behaviour: coalescing with
 * both neighbours, good fit, alignment, realloc, exhaustion. The heap is walked
 * (tlsf_classic_check) after every call of the allocator: the checks make them through the macros
 * below.
 */
#include <stdint.h>
#include <string.h>

#include "alloc/bench/reference/tlsf_classic.h"
#include "tests/support/check.h"

#define REGION_BYTES (64 * 1024)
static _Alignas(4096) unsigned char region[REGION_BYTES];

/* Each allocator call, then a walk of the heap that fails the check there if it is unsound. */
#define WALKED(t)                                                                                  \
    do {                                                                                           \
        struct tlsf_classic_stats walk_;                                                           \
        ASSERT_TRUE(tlsf_classic_check((t), &walk_));                                              \
    } while (0)
#define MALLOC(t, n)                                                                               \
    ({                                                                                             \
        void *allocated_ = tlsf_classic_malloc((t), (n));                                          \
        WALKED(t);                                                                                 \
        allocated_;                                                                                \
    })
#define MEMALIGN(t, align, n)                                                                      \
    ({                                                                                             \
        void *allocated_ = tlsf_classic_memalign((t), (align), (n));                               \
        WALKED(t);                                                                                 \
        allocated_;                                                                                \
    })
#define REALLOC(t, p, n)                                                                           \
    ({                                                                                             \
        void *moved_ = tlsf_classic_realloc((t), (p), (n));                                        \
        WALKED(t);                                                                                 \
        moved_;                                                                                    \
    })
#define FREE(t, p)                                                                                 \
    do {                                                                                           \
        tlsf_classic_free((t), (p));                                                               \
        WALKED(t);                                                                                 \
    } while (0)

static struct tlsf_classic_stats stats_of(const tlsf_classic *t) {
    struct tlsf_classic_stats s = {0, 0, 0, 0};
    if (!tlsf_classic_check(t, &s))
        s.free_blocks = SIZE_MAX; /* fails any ASSERT on it */
    return s;
}

/*
 *  [ a | b | c | d | rest ]   free a, free c, then free b
 *  [ a+b+c (one free) | d | rest ]   then free d
 *  [ one free block: the whole pool ]
 * Expect b merged with both neighbours, then everything back into the block the heap began with.
 */
static int coalesce_both_check(void) {
    tlsf_classic *t = tlsf_classic_create(region, REGION_BYTES);
    ASSERT_TRUE(t != NULL);
    struct tlsf_classic_stats whole = stats_of(t);
    ASSERT_EQ(1, whole.free_blocks);
    ASSERT_EQ(0, whole.used_blocks);
    char *a = MALLOC(t, 100), *b = MALLOC(t, 200);
    char *c = MALLOC(t, 300), *d = MALLOC(t, 400);
    ASSERT_TRUE(a && b && c && d);
    /* Sizes are 8 modulo 16 (16-byte aligned payloads after one size word). */
    ASSERT_EQ(104, tlsf_classic_usable_size(a));
    ASSERT_EQ(200, tlsf_classic_usable_size(b));
    ASSERT_EQ(312, tlsf_classic_usable_size(c));
    ASSERT_TRUE(a < b && b < c && c < d); /* carved in address order from the one block */
    FREE(t, a);
    FREE(t, c);
    ASSERT_EQ(3, stats_of(t).free_blocks); /* a, c, the rest */
    FREE(t, b);
    struct tlsf_classic_stats s = stats_of(t);
    ASSERT_EQ(2, s.free_blocks); /* a+b+c, the rest */
    ASSERT_EQ(1, s.used_blocks);
    /* The free block at a spans all three: their payloads and b's and c's size words. */
    ASSERT_EQ(104 + 200 + 312 + 2 * sizeof(size_t), tlsf_classic_usable_size(a));
    FREE(t, d);
    s = stats_of(t);
    ASSERT_EQ(1, s.free_blocks);
    ASSERT_EQ(0, s.used_blocks);
    ASSERT_EQ(whole.largest_free, s.largest_free);
    return 0;
}

/*
 * Two free blocks in one list (sizes 1,032 and 1,048 both lie in [1,024, 1,056)), the smaller at
 * its head. Expect a request of 1,040 not to be given the head (1,032 bytes), nor any block
 * smaller than asked, for every size from 1 to 5,000 on a heap with free blocks of many sizes.
 */
static int good_fit_check(void) {
    tlsf_classic *t = tlsf_classic_create(region, REGION_BYTES);
    ASSERT_TRUE(t != NULL);
    char *x = MALLOC(t, 1048), *sep1 = MALLOC(t, 16);
    char *y = MALLOC(t, 1032), *sep2 = MALLOC(t, 16);
    ASSERT_TRUE(x && sep1 && y && sep2);
    ASSERT_EQ(1048, tlsf_classic_usable_size(x));
    ASSERT_EQ(1032, tlsf_classic_usable_size(y));
    FREE(t, x);
    FREE(t, y); /* the head of the list [1024, 1056) */
    char *p = MALLOC(t, 1040);
    ASSERT_TRUE(p != NULL && p != y);
    ASSERT_TRUE(tlsf_classic_usable_size(p) >= 1040);
    FREE(t, p);
    /* Free blocks of many sizes, then every size. */
    char *held[64];
    for (int i = 0; i < 64; i++) {
        held[i] = MALLOC(t, 24 + 24 * (size_t)i);
        ASSERT_TRUE(held[i] != NULL);
    }
    for (int i = 0; i < 64; i += 2)
        FREE(t, held[i]);
    for (size_t n = 1; n <= 5000; n++) {
        char *q = MALLOC(t, n);
        ASSERT_TRUE(q != NULL);
        ASSERT_TRUE(tlsf_classic_usable_size(q) >= n);
        ASSERT_EQ(0, (uintptr_t)q % TLSF_CLASSIC_ALIGNMENT);
        memset(q, 0xab, n);
        FREE(t, q);
    }
    ASSERT_TRUE(stats_of(t).free_blocks != SIZE_MAX);
    return 0;
}

/*
 * A filler block of 24 + 16k bytes moves the free block after it through every 16-byte offset
 * from each alignment boundary, so that the gap before the aligned block is each size, the ones
 * too small for a free block (16) included. Expect memalign to honour 32 to 4096 from each, the
 * heap sound, and every block to come back.
 */
static int alignment_check(void) {
    for (size_t align = 32; align <= 4096; align *= 2) {
        for (size_t k = 0; k < align / 16; k++) {
            tlsf_classic *t = tlsf_classic_create(region, REGION_BYTES);
            ASSERT_TRUE(t != NULL);
            struct tlsf_classic_stats whole = stats_of(t);
            char *filler = MALLOC(t, 24 + 16 * k);
            char *p = MEMALIGN(t, align, 72);
            ASSERT_TRUE(filler != NULL && p != NULL);
            ASSERT_EQ(0, (uintptr_t)p % align);
            ASSERT_TRUE(tlsf_classic_usable_size(p) >= 72);
            memset(p, 0x5a, 72);
            char *q = MALLOC(t, 40); /* may land in the gap */
            ASSERT_TRUE(q != NULL);
            ASSERT_TRUE(stats_of(t).free_blocks != SIZE_MAX);
            FREE(t, p);
            FREE(t, filler);
            FREE(t, q);
            struct tlsf_classic_stats s = stats_of(t);
            ASSERT_EQ(1, s.free_blocks);
            ASSERT_EQ(whole.largest_free, s.largest_free);
        }
    }
    tlsf_classic *t = tlsf_classic_create(region, REGION_BYTES);
    ASSERT_TRUE(MEMALIGN(t, 48, 16) == NULL); /* not a power of two */
    return 0;
}

/* Expect realloc to grow in place into a free successor, to shrink in place, to move when it
 * must, and to keep the contents each time. */
static int realloc_check(void) {
    tlsf_classic *t = tlsf_classic_create(region, REGION_BYTES);
    ASSERT_TRUE(t != NULL);
    unsigned char *a = MALLOC(t, 100), *b = MALLOC(t, 100);
    unsigned char *guard = MALLOC(t, 100);
    for (int i = 0; i < 100; i++)
        a[i] = (unsigned char)i;
    FREE(t, b);
    ASSERT_TRUE(REALLOC(t, a, 200) == a); /* into b */
    ASSERT_TRUE(REALLOC(t, a, 40) == a);
    unsigned char *m = REALLOC(t, a, 2000); /* past the guard: moves */
    ASSERT_TRUE(m != NULL && m != a);
    for (int i = 0; i < 40; i++)
        ASSERT_EQ(i, m[i]);
    FREE(t, m);
    FREE(t, guard);
    ASSERT_EQ(1, stats_of(t).free_blocks);
    return 0;
}

/* Expect exhaustion to return NULL and leave the heap as it was, and every block to come back. */
static int exhaustion_check(void) {
    tlsf_classic *t = tlsf_classic_create(region, REGION_BYTES);
    ASSERT_TRUE(t != NULL);
    struct tlsf_classic_stats whole = stats_of(t);
    ASSERT_TRUE(MALLOC(t, REGION_BYTES) == NULL);
    ASSERT_TRUE(MALLOC(t, SIZE_MAX) == NULL);
    static void *blocks[REGION_BYTES / 32];
    size_t n = 0;
    void *p;
    while ((p = MALLOC(t, 500)) != NULL)
        blocks[n++] = p;
    ASSERT_TRUE(n > 100);
    struct tlsf_classic_stats full = stats_of(t);
    ASSERT_TRUE(MALLOC(t, 500) == NULL);
    ASSERT_TRUE(REALLOC(t, blocks[0], 5000) == NULL);
    struct tlsf_classic_stats after = stats_of(t);
    ASSERT_EQ(full.used_blocks, after.used_blocks);
    ASSERT_EQ(full.free_bytes, after.free_bytes);
    for (size_t i = 0; i < n; i++)
        FREE(t, blocks[n - 1 - i]);
    struct tlsf_classic_stats s = stats_of(t);
    ASSERT_EQ(1, s.free_blocks);
    ASSERT_EQ(whole.largest_free, s.largest_free);
    return 0;
}

/* Expect a region that is misaligned, too small or NULL to be refused. */
static int create_refuses_check(void) {
    ASSERT_TRUE(tlsf_classic_create(region + 8, REGION_BYTES - 8) == NULL);
    ASSERT_TRUE(tlsf_classic_create(region, tlsf_classic_min_region() - 1) == NULL);
    ASSERT_TRUE(tlsf_classic_create(NULL, REGION_BYTES) == NULL);
    tlsf_classic *t = tlsf_classic_create(region, tlsf_classic_min_region());
    ASSERT_TRUE(t != NULL);
    void *p = MALLOC(t, 1);
    ASSERT_TRUE(p != NULL);
    ASSERT_TRUE(MALLOC(t, 1) == NULL);
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, coalesce_both_check);
    RUN_CHECK(failures, good_fit_check);
    RUN_CHECK(failures, alignment_check);
    RUN_CHECK(failures, realloc_check);
    RUN_CHECK(failures, exhaustion_check);
    RUN_CHECK(failures, create_refuses_check);
    return failures != 0;
}
