/*
 * alloc/heap_test.c - unit tests of the heap allocator, one *_check per behaviour, in the style
 * of Linux tools/testing/memblock. Every check starts from a fresh heap (fixture_reset), draws
 * the memory it expects, states what it expects, and runs alloc_heap_check() after the steps whose
 * outcome it checks (the hostile cases that damage the heap: that it reports the damage after each
 * step and, the damaged bytes put back, nothing else, only_damaged). main() runs every check for
 * each variant of alloc/testing/fixture.c: TLSF (with runs, quick lists and a zeroed region), TLSF
 * without runs, TLSF without runs or quick lists, and first fit; a check that does not apply to a
 * variant or a target is reported skipped, with why.
 *
 * Notation in the diagrams: | ctrl | is the control structure, A, B... live blocks, (free) a
 * free block, [q] a block in a quick list, | END | the end marker.
 */
#include "alloc/heap.h"
#include "alloc/testing/check.h"
#include "alloc/testing/fixture.h"
#include "internal.h"
#include "runs.h"
#include "tlsf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_SIZE (64u * 1024u)

/* The run geometry fixture_walk_stats counts a run's unused end by is the library's. */
_Static_assert(FIXTURE_RUN_SPAN == RUN_BLOCK && FIXTURE_RUN_SPAN == RUN_ALIGN,
               "heap_test: the fixture's run span is not the library's");

/* Values outside the enums, for the checks that they are refused. */
static int not_a_strategy = 7;
static int not_an_error = 999;
#define BIG 2000u /* payload above ALLOC_QUICK_MAX_SIZE: never quick-listed */

/* Bytes of control structure in front of the first block for the current variant. */
static size_t ctrl_size(void) {
    return alloc_min_region_size(fx.variant->strategy) - ALLOC_MIN_BLOCK - ALLOC_BLOCK_OVERHEAD;
}

/* Payload of the single free block of a fresh heap of `size` bytes (size a multiple of 16). */
static size_t fresh_free(size_t size) {
    return size - ctrl_size() - 2 * ALLOC_BLOCK_OVERHEAD;
}

static size_t round16(size_t n) {
    return (n + 15) & ~(size_t)15;
}

/* The usable size of the block (not a run slot) that serves a request of n bytes. */
static size_t usable_for(size_t n) {
    return block_size_for(n) - ALLOC_BLOCK_OVERHEAD;
}

/* The usable size of a minimum block: 16 bytes on a 64-bit target, 8 on a 32-bit one. */
#define MIN_USABLE (ALLOC_MIN_BLOCK - ALLOC_BLOCK_OVERHEAD)

static struct alloc_stats stats(void) {
    struct alloc_stats s;
    alloc_heap_stats(fx.heap, &s);
    return s;
}

/* Whether the statistics of heap h are still those of @before: what ran since changed nothing. */
static bool stats_unchanged_of(alloc_heap *h, const struct alloc_stats *before) {
    struct alloc_stats now;
    alloc_heap_stats(h, &now);
    return memcmp(before, &now, sizeof(now)) == 0;
}

/* stats_unchanged_of(fx.heap, before). */
static bool stats_unchanged(const struct alloc_stats *before) {
    return stats_unchanged_of(fx.heap, before);
}

/*
 * Exactly one report since fx.reports was `reports`, and of `error`. Returns 0, or 1 after
 * printing the assertion that failed (the caller returns 1 in turn).
 */
static int reported_once(size_t reports, enum alloc_error error) {
    ASSERT_EQ(reports + 1, fx.reports);
    ASSERT_EQ(error, fx.report_error[fx.reports - 1]);
    return 0;
}

/* reported_once(reports, error), the report naming ptr. */
static int reported_once_at(size_t reports, enum alloc_error error, const void *ptr) {
    if (reported_once(reports, error) != 0)
        return 1;
    ASSERT_TRUE(fx.report_ptr[fx.reports - 1] == ptr);
    return 0;
}

/*
 * A call refused: reported_once_at(reports, error, ptr), and nothing changed since `before` (the
 * statistics, the heap intact).
 */
static int refused_at(size_t reports, enum alloc_error error, const void *ptr,
                      const struct alloc_stats *before) {
    if (reported_once_at(reports, error, ptr) != 0)
        return 1;
    ASSERT_TRUE(stats_unchanged(before));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * Nothing changed since `before` (the statistics, the heap intact), and a and b, live, then freed,
 * the heap intact. Returns 0, or 1 after printing the assertion that failed.
 */
static int unchanged_then_freed(const struct alloc_stats *before, void *a, void *b) {
    ASSERT_TRUE(stats_unchanged(before));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * Bends the next link of a free block, the first word of its payload at p, to a small number
 * outside every heap; returns the link it held, for unbend_link.
 */
static uintptr_t bend_link(void *p) {
    uintptr_t link, bent = 0x70;
    memcpy(&link, p, sizeof(link));
    memcpy(p, &bent, sizeof(bent));
    return link;
}

/* Puts back the link that bend_link(p) returned. */
static void unbend_link(void *p, uintptr_t link) {
    memcpy(p, &link, sizeof(link));
}

/*
 * A fresh heap whose first block A (a_size bytes) is free and followed by a live U (u_size):
 *   | ctrl | (free A) or [A] | U | (free) | END |
 * A is on its free list unless a_size is small enough for a quick list or a run. Returns 0 with
 * *a and *u set, or 1 after printing the assertion that failed.
 */
static int free_then_used(size_t a_size, size_t u_size, unsigned char **a, unsigned char **u) {
    fixture_reset(HEAP_SIZE, 0);
    *a = alloc_malloc(fx.heap, a_size);
    *u = alloc_malloc(fx.heap, u_size);
    ASSERT_TRUE(*a != NULL && *u != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, *a));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A fresh heap of HEAP_SIZE / 2 bytes (the region has room to extend it) whose last block F is
 * free, after one live block:
 *   | ctrl | A 100 | (free F) | END |
 * Returns 0 with *f set, or 1 after printing the assertion that failed.
 */
static int free_tail(block_t **f) {
    fixture_reset(HEAP_SIZE / 2, 0);
    ASSERT_TRUE(alloc_malloc(fx.heap, 100) != NULL);
    ASSERT_HEAP_OK(fx.heap);
    /* The free tail: the block in front of the end marker. */
    block_t *end = blk_at(fx.heap->end);
    ASSERT_TRUE(blk_prev_free(end));
    *f = blk_prev(end);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* init */

/*
 * alloc_heap_init() with a NULL region or a NULL out pointer.
 * Expect ALLOC_ERR_NULL_REGION and *out set to NULL; ALLOC_ERR_NULL_HEAP for a NULL out.
 */
static int init_null_region_check(void) {
    alloc_heap *h = (alloc_heap *)1;
    ASSERT_EQ(ALLOC_ERR_NULL_REGION, alloc_heap_init(&h, NULL, HEAP_SIZE, NULL));
    ASSERT_TRUE(h == NULL);
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_heap_init(NULL, fx.region, HEAP_SIZE, NULL));
    return 0;
}

/*
 * A region whose base is not 16-byte aligned:  region + 8 -> | ... |
 * Expect ALLOC_ERR_MISALIGNED_REGION and not a byte of the region written.
 */
static int init_misaligned_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    memset(fx.region, 0x5a, HEAP_SIZE);
    struct alloc_config cfg = {.strategy = fx.variant->strategy, .flags = fx.variant->flags};
    alloc_heap *h;
    ASSERT_EQ(ALLOC_ERR_MISALIGNED_REGION, alloc_heap_init(&h, fx.region + 8, 4096, &cfg));
    ASSERT_EQ(ALLOC_ERR_MISALIGNED_REGION, alloc_heap_init(&h, fx.region + 1, 4096, &cfg));
    ASSERT_TRUE(h == NULL);
    for (size_t i = 0; i < 8192; i++)
        ASSERT_EQ(0x5a, fx.region[i]);
    return 0;
}

/*
 * A region one byte smaller than alloc_min_region_size(): | ctrl | MIN_BLOCK | END | - 1.
 * Expect ALLOC_ERR_REGION_TOO_SMALL, region untouched; at exactly the minimum, expect a heap
 * with one free block of MIN_USABLE bytes that serves one such allocation and then no more.
 */
static int init_too_small_check(void) {
    size_t min = alloc_min_region_size(fx.variant->strategy);
    struct alloc_config cfg = {.strategy = fx.variant->strategy, .flags = fx.variant->flags};
    alloc_heap *h;
    ASSERT_TRUE(min > 0);
    memset(fx.region, 0x5a, min);
    ASSERT_EQ(ALLOC_ERR_REGION_TOO_SMALL, alloc_heap_init(&h, fx.region, min - 1, &cfg));
    ASSERT_EQ(ALLOC_ERR_REGION_TOO_SMALL, alloc_heap_init(&h, fx.region, 0, &cfg));
    for (size_t i = 0; i < min; i++)
        ASSERT_EQ(0x5a, fx.region[i]);
    ASSERT_EQ(ALLOC_OK, alloc_heap_init(&h, fx.region, min, &cfg));
    ASSERT_HEAP_OK(h);
    struct alloc_stats s;
    alloc_heap_stats(h, &s);
    ASSERT_EQ(MIN_USABLE, s.largest_free);
    void *p = alloc_malloc(h, MIN_USABLE);
    ASSERT_TRUE(p != NULL);
    ASSERT_TRUE(alloc_malloc(h, 1) == NULL);
    ASSERT_HEAP_OK(h);
    ASSERT_EQ(ALLOC_OK, alloc_free(h, p));
    ASSERT_HEAP_OK(h);
    return 0;
}

/*
 * An unknown strategy or flag.
 * Expect ALLOC_ERR_BAD_CONFIG; a region larger than ALLOC_MAX_HEAP bytes gives
 * ALLOC_ERR_REGION_TOO_LARGE; each with *out set to NULL and not a byte of the region written.
 */
static int init_bad_config_check(void) {
    alloc_heap *h = (alloc_heap *)fx.region;
    memset(fx.region, 0x5a, HEAP_SIZE);
    /* NOLINTNEXTLINE(clang-analyzer-optin.core.EnumCastOutOfRange): out of range on purpose */
    struct alloc_config bad_strategy = {.strategy = (enum alloc_strategy)not_a_strategy};
    struct alloc_config bad_flags = {.strategy = fx.variant->strategy, .flags = 1u << 20};
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG, alloc_heap_init(&h, fx.region, HEAP_SIZE, &bad_strategy));
    ASSERT_TRUE(h == NULL);
    h = (alloc_heap *)fx.region;
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG, alloc_heap_init(&h, fx.region, HEAP_SIZE, &bad_flags));
    ASSERT_TRUE(h == NULL);
    /* The variant's strategy: a zeroed config's, TLSF, is refused where it is not compiled in. */
    struct alloc_config good = {.strategy = fx.variant->strategy};
    h = (alloc_heap *)fx.region;
    ASSERT_EQ(ALLOC_ERR_REGION_TOO_LARGE,
              alloc_heap_init(&h, fx.region, ALLOC_MAX_HEAP + 4096, &good));
    ASSERT_TRUE(h == NULL);
    for (size_t i = 0; i < HEAP_SIZE; i++)
        ASSERT_EQ(0x5a, fx.region[i]);
    /* NOLINTNEXTLINE(clang-analyzer-optin.core.EnumCastOutOfRange): out of range on purpose */
    ASSERT_EQ(0, alloc_min_region_size((enum alloc_strategy)not_a_strategy));
    /* NOLINTNEXTLINE(clang-analyzer-optin.core.EnumCastOutOfRange): out of range on purpose */
    ASSERT_STREQ("unknown", alloc_strategy_name((enum alloc_strategy)not_a_strategy));
    return 0;
}

/*
 *   | ctrl | (free)                                                           | END |
 *   base   base + ctrl                                              base + size - HDR
 * Expect one free block holding everything but the control structure and two headers, the
 * statistics as the walk counts them, and the strategy and its name reported.
 */
static int init_layout_check(void) {
    ASSERT_TRUE(fixture_reset(HEAP_SIZE, 0) != NULL);
    ASSERT_HEAP_OK(fx.heap);
    struct alloc_stats s = stats();
    ASSERT_EQ(HEAP_SIZE, s.region_size);
    ASSERT_EQ(0, s.bytes_in_use);
    ASSERT_EQ(0, s.live_allocations);
    ASSERT_EQ(0, s.peak_in_use);
    ASSERT_EQ(1, s.free_blocks);
    ASSERT_EQ(fresh_free(HEAP_SIZE), s.bytes_free);
    ASSERT_EQ(fresh_free(HEAP_SIZE), s.largest_free);
    ASSERT_EQ(ctrl_size() + 2 * ALLOC_BLOCK_OVERHEAD, s.overhead_bytes);
    ASSERT_STATS_MATCH_WALK(fx.heap);
    struct walked_block w[4];
    ASSERT_EQ(1, fixture_walk(w, 4));
    ASSERT_TRUE((unsigned char *)w[0].payload == fx.region + ctrl_size() + ALLOC_BLOCK_OVERHEAD);
    ASSERT_EQ(ALLOC_BLOCK_FREE, w[0].state);
    ASSERT_EQ(fx.variant->strategy, alloc_heap_strategy(fx.heap));
    ASSERT_STREQ(fx.variant->strategy == ALLOC_STRATEGY_TLSF ? "tlsf" : "first_fit",
                 alloc_strategy_name(alloc_heap_strategy(fx.heap)));
    return 0;
}

/*
 * A size that is not a multiple of 16: | ctrl | (free) | END | 7 bytes |.
 * Expect region_size to report all of it, the 7 tail bytes counted as overhead.
 */
static int init_unaligned_size_check(void) {
    ASSERT_TRUE(fixture_reset(HEAP_SIZE + 7, 0) != NULL);
    ASSERT_HEAP_OK(fx.heap);
    struct alloc_stats s = stats();
    ASSERT_EQ(HEAP_SIZE + 7, s.region_size);
    ASSERT_EQ(fresh_free(HEAP_SIZE), s.bytes_free);
    ASSERT_STATS_MATCH_WALK(fx.heap);
    return 0;
}

/*
 * The config given to init lying at the start of the region it describes, built there by a
 * caller before handing the memory over:  | cfg ... | -> | ctrl | (free) | END |
 * Expect the heap to have the config's strategy, its flags (poison on free: a write after a free
 * is found) and its hook (a double free is reported).
 */
static int init_config_in_region_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    struct alloc_config *cfg = __builtin_assume_aligned(fx.region, _Alignof(struct alloc_config));
    *cfg = (struct alloc_config){.strategy = fx.variant->strategy,
                                 .flags = fx.variant->flags | ALLOC_FLAG_POISON_ON_FREE,
                                 .error_hook = fixture_hook};
    alloc_heap *h;
    ASSERT_EQ(ALLOC_OK, alloc_heap_init(&h, fx.region, HEAP_SIZE, cfg));
    ASSERT_EQ(fx.variant->strategy, alloc_heap_strategy(h));
    ASSERT_HEAP_OK(h);
    unsigned char *a = alloc_malloc(h, BIG);
    ASSERT_TRUE(a != NULL && alloc_malloc(h, BIG) != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(h, a));
    ASSERT_HEAP_OK(h);
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_free(h, a));
    ASSERT_EQ(1, fx.reports);
    a[BIG - 1] ^= 1;
    ASSERT_EQ(ALLOC_ERR_WRITE_AFTER_FREE, alloc_heap_check(h));
    return 0;
}

/*
 * Two heaps side by side in two buffers: | heap 1 |   | heap 2 |.
 * Expect both to work independently, and a pointer of heap 1 freed into heap 2 to be reported
 * as a foreign pointer by heap 2 with both heaps unchanged.
 */
static int many_heaps_check(void) {
    static _Alignas(16) unsigned char r1[32768], r2[32768];
    alloc_heap *h1, *h2;
    struct alloc_config cfg = {
        .strategy = fx.variant->strategy, .flags = fx.variant->flags, .error_hook = fixture_hook};
    fixture_reset(HEAP_SIZE, 0);
    ASSERT_EQ(ALLOC_OK, alloc_heap_init(&h1, r1, sizeof(r1), &cfg));
    ASSERT_EQ(ALLOC_OK, alloc_heap_init(&h2, r2, sizeof(r2), &cfg));
    void *a = alloc_malloc(h1, 100), *b = alloc_malloc(h2, 100);
    ASSERT_TRUE(a != NULL && b != NULL);
    ASSERT_TRUE((unsigned char *)a > r1 && (unsigned char *)a < r1 + sizeof(r1));
    ASSERT_TRUE((unsigned char *)b > r2 && (unsigned char *)b < r2 + sizeof(r2));
    ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, alloc_free(h2, a));
    ASSERT_EQ(1, fx.reports);
    ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, fx.report_error[0]);
    ASSERT_TRUE(fx.report_ptr[0] == a);
    ASSERT_HEAP_OK(h1);
    ASSERT_HEAP_OK(h2);
    ASSERT_EQ(ALLOC_OK, alloc_free(h1, a));
    ASSERT_EQ(ALLOC_OK, alloc_free(h2, b));
    ASSERT_HEAP_OK(h1);
    ASSERT_HEAP_OK(h2);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* allocate */

/*
 * The block layout of this target (alloc/heap.h): two address-sized header words.
 *   64-bit: | hdr 16 | A 112 | hdr 16 | B 112 |     32-bit: | hdr 8 | A 104 | hdr 8 | B 104 |
 * Expect the header, minimum block and largest heap of the target's address width, and two
 * 100-byte requests (blocks, not run slots) a block apart: 128 bytes on 64 bits, 112 on 32, both
 * payloads 16-byte aligned.
 */
static int layout_check(void) {
    bool wide = sizeof(void *) == 8;
    ASSERT_EQ(wide ? 16 : 8, ALLOC_BLOCK_OVERHEAD);
    ASSERT_EQ(2 * ALLOC_BLOCK_OVERHEAD, ALLOC_MIN_BLOCK);
    ASSERT_EQ(16, ALLOC_ALIGNMENT);
    ASSERT_EQ(wide ? (uint64_t)1 << 47 : (uint64_t)1 << 24, ALLOC_MAX_HEAP);
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 100), *b = alloc_malloc(fx.heap, 100);
    ASSERT_TRUE(a != NULL && b != NULL);
    ASSERT_EQ(wide ? 128 : 112, b - a);
    ASSERT_EQ(0, (uintptr_t)a % 16);
    ASSERT_EQ(0, (uintptr_t)b % 16);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 *   before: | ctrl | (free F)                          | END |
 *   after:  | ctrl | A 112 | (free F - 128)            | END |   (32-bit: A 104, F - 112)
 * Expect A 16-aligned right after the control structure and its header, usable 112 (104), the
 * rest one free block; in_use, live and peak follow.
 */
static int alloc_split_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 100);
    size_t usable = ALLOC_BLOCK_OVERHEAD == 16 ? 112 : 104;
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(a == fx.region + ctrl_size() + ALLOC_BLOCK_OVERHEAD);
    ASSERT_EQ(0, (uintptr_t)a % 16);
    ASSERT_EQ(usable, alloc_usable_size(fx.heap, a));
    struct alloc_stats s = stats();
    ASSERT_EQ(usable, s.bytes_in_use);
    ASSERT_EQ(1, s.live_allocations);
    ASSERT_EQ(usable, s.peak_in_use);
    ASSERT_EQ(1, s.free_blocks);
    ASSERT_EQ(fresh_free(HEAP_SIZE) - usable - ALLOC_BLOCK_OVERHEAD, s.bytes_free);
    ASSERT_EQ(fresh_free(HEAP_SIZE) - usable - ALLOC_BLOCK_OVERHEAD, s.largest_free);
    struct walked_block w[4];
    ASSERT_EQ(2, fixture_walk(w, 4));
    ASSERT_EQ(ALLOC_BLOCK_USED, w[0].state);
    ASSERT_EQ(usable, w[0].size);
    ASSERT_EQ(ALLOC_BLOCK_FREE, w[1].state);
    memset(a, 0xee, usable);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * Size 0 is served as size 1.
 * Expect two distinct non-NULL minimum blocks (MIN_USABLE bytes) that can be freed.
 */
static int alloc_size_zero_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    void *a = alloc_malloc(fx.heap, 0);
    void *b = alloc_allocate(fx.heap, 0, 64);
    ASSERT_TRUE(a != NULL && b != NULL && a != b);
    ASSERT_EQ(0, (uintptr_t)b % 64);
    ASSERT_EQ(fixture_runs() ? 16 : MIN_USABLE,
              alloc_usable_size(fx.heap, a)); /* a slot or a block */
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(0, stats().live_allocations);
    return 0;
}

/*
 * Alignments 1 to 4096, each after a 24-byte block so the natural position is misaligned:
 *   | ctrl | X | (gap, free) | A aligned | (free) |
 * Expect every pointer aligned as asked, writable over its usable size, and the heap sound.
 */
static int alloc_alignment_check(void) {
    fixture_reset(HEAP_SIZE * 4, 0);
    void *ptrs[26];
    size_t n = 0;
    for (size_t align = 1; align <= 4096; align <<= 1) {
        ptrs[n++] = alloc_malloc(fx.heap, 24);
        void *p = alloc_allocate(fx.heap, 40, align);
        ASSERT_TRUE(p != NULL);
        ASSERT_EQ(0, (uintptr_t)p % align);
        ASSERT_TRUE(alloc_usable_size(fx.heap, p) >= 40);
        memset(p, 0x11, alloc_usable_size(fx.heap, p));
        ptrs[n++] = p;
        ASSERT_HEAP_OK(fx.heap);
    }
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, ptrs[i]));
        ASSERT_HEAP_OK(fx.heap);
    }
    ASSERT_EQ(0, stats().bytes_in_use);
    return 0;
}

/*
 * Alignments that are not powers of two (0, 3, 24, 48, 2^(N-1) + 1 on an N-bit target) and
 * alignments too large. Expect NULL, no report, and the heap and its statistics exactly as they
 * were.
 */
static int alloc_bad_alignment_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    void *keep = alloc_malloc(fx.heap, 64);
    struct alloc_stats before = stats();
    size_t bad[] = {0, 3, 24, 48, (SIZE_MAX >> 1) + 2, (SIZE_MAX >> 1) + 1, ALLOC_MAX_REQUEST * 2};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_TRUE(alloc_allocate(fx.heap, 32, bad[i]) == NULL);
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_HEAP_OK(fx.heap);
    }
    ASSERT_EQ(0, fx.reports);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, keep));
    return 0;
}

/*
 * Sizes near SIZE_MAX, above ALLOC_MAX_REQUEST, and size + align that overflows.
 * Expect NULL and the heap and statistics unchanged.
 */
static int alloc_overflow_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    struct alloc_stats before = stats();
    ASSERT_TRUE(alloc_malloc(fx.heap, SIZE_MAX) == NULL);
    ASSERT_TRUE(alloc_malloc(fx.heap, SIZE_MAX - 15) == NULL);
    ASSERT_TRUE(alloc_allocate(fx.heap, SIZE_MAX - 8, 64) == NULL);
    ASSERT_TRUE(alloc_malloc(fx.heap, ALLOC_MAX_REQUEST + 1) == NULL);
    ASSERT_TRUE(alloc_allocate(fx.heap, ALLOC_MAX_REQUEST - 8, 64) == NULL);
    ASSERT_TRUE(alloc_allocate(fx.heap, ALLOC_MAX_REQUEST / 2 + 16, ALLOC_MAX_REQUEST / 2) == NULL);
    ASSERT_TRUE(alloc_calloc(fx.heap, SIZE_MAX / 2, 3) == NULL);
    ASSERT_TRUE(alloc_calloc(fx.heap, (size_t)1 << (sizeof(size_t) * 4),
                             (size_t)1 << (sizeof(size_t) * 4)) == NULL);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(0, fx.reports);
    return 0;
}

/*
 * A heap of ALLOC_MAX_HEAP bytes, the largest there is, which only a 32-bit target can have (16
 * MiB; 2^47 bytes on a 64-bit one).
 * Expect init to take it; its largest free block, above ALLOC_MAX_REQUEST, refused as a request;
 * the largest request, ALLOC_MAX_REQUEST - ALLOC_ALIGNMENT bytes at any alignment up to
 * ALLOC_ALIGNMENT, served and one byte more refused (an alignment of 1 is raised to
 * ALLOC_ALIGNMENT first), by allocate, by batches and by a realloc growing a block of 100 bytes
 * (which could grow in place: the top block follows it; refused, it keeps its size); a heap of
 * half the size extended to
 * exactly ALLOC_MAX_HEAP and no further; no report.
 */
static int max_heap_check(void) {
    if (sizeof(void *) > 4)
        SKIP_CHECK("a heap of ALLOC_MAX_HEAP bytes is 2^47 bytes on a 64-bit target");
    unsigned char *r = aligned_alloc(4096, ALLOC_MAX_HEAP);
    if (r == NULL)
        SKIP_CHECK("no ALLOC_MAX_HEAP bytes to be had for the region");
    fixture_reset(HEAP_SIZE, 0);
    struct alloc_config cfg = {.strategy = fx.variant->strategy,
                               .flags = fx.variant->flags & ~(unsigned)ALLOC_FLAG_ZEROED_REGION,
                               .error_hook = fixture_hook};
    alloc_heap *h;
    ASSERT_EQ(ALLOC_OK, alloc_heap_init(&h, r, ALLOC_MAX_HEAP, &cfg));
    struct alloc_stats s;
    alloc_heap_stats(h, &s);
    ASSERT_TRUE(s.largest_free > ALLOC_MAX_REQUEST);
    ASSERT_TRUE(alloc_malloc(h, s.largest_free) == NULL);
    const size_t largest = ALLOC_MAX_REQUEST - ALLOC_ALIGNMENT;
    ASSERT_TRUE(alloc_malloc(h, largest + 1) == NULL);
    ASSERT_TRUE(alloc_allocate(h, largest + 8, 1) == NULL);
    void *b[2];
    ASSERT_EQ(0, alloc_allocate_batch(h, largest + 1, b, 1));
    ASSERT_TRUE(stats_unchanged_of(h, &s));
    for (size_t align = 1; align <= ALLOC_ALIGNMENT; align *= 2) {
        void *p = alloc_allocate(h, largest, align);
        ASSERT_TRUE(p != NULL);
        ASSERT_EQ(ALLOC_OK, alloc_heap_check(h));
        ASSERT_EQ(ALLOC_OK, alloc_free(h, p));
    }
    ASSERT_EQ(1, alloc_allocate_batch(h, largest, b, 1));
    ASSERT_EQ(ALLOC_OK, alloc_free(h, b[0]));
    void *grown = alloc_malloc(h, 100);
    ASSERT_TRUE(grown != NULL);
    size_t usable = alloc_usable_size(h, grown);
    ASSERT_TRUE(alloc_realloc(h, grown, largest + 1) == NULL);
    ASSERT_TRUE(alloc_realloc(h, grown, ALLOC_MAX_REQUEST) == NULL);
    ASSERT_EQ(usable, alloc_usable_size(h, grown));
    grown = alloc_realloc(h, grown, largest);
    ASSERT_TRUE(grown != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(h, grown));
    ASSERT_EQ(2, alloc_allocate_batch(h, ALLOC_MAX_REQUEST / 2, b, 2));
    ASSERT_EQ(ALLOC_OK, alloc_free(h, b[0]));
    ASSERT_EQ(ALLOC_OK, alloc_free(h, b[1]));
    ASSERT_EQ(ALLOC_OK, alloc_heap_check(h));

    ASSERT_EQ(ALLOC_OK, alloc_heap_init(&h, r, ALLOC_MAX_HEAP / 2, &cfg));
    ASSERT_EQ(ALLOC_ERR_REGION_TOO_LARGE,
              alloc_heap_extend(h, ALLOC_MAX_HEAP / 2 + ALLOC_MIN_BLOCK));
    ASSERT_EQ(ALLOC_OK, alloc_heap_extend(h, ALLOC_MAX_HEAP / 2));
    ASSERT_EQ(ALLOC_ERR_REGION_TOO_LARGE, alloc_heap_extend(h, ALLOC_MIN_BLOCK));
    alloc_heap_stats(h, &s);
    ASSERT_EQ(ALLOC_MAX_HEAP, s.region_size);
    ASSERT_EQ(ALLOC_OK, alloc_heap_check(h));
    ASSERT_EQ(0, fx.reports);
    free(r);
    return 0;
}

/*
 * Allocate 64-byte blocks until the heap says no:
 *   | ctrl | A | A | A | ... | A | (free < 80) | END |
 * Expect the count to be what the free space allows, the failing call to leave the statistics
 * exactly as they were, and, after freeing everything, the whole free space usable again in one
 * block (quick-listed blocks are merged back when a request needs them).
 */
static int alloc_exhaust_check(void) {
    if (fixture_runs())
        SKIP_CHECK("64-byte requests are run slots: runs_exhaust_check counts those");
    fixture_reset(HEAP_SIZE, 0);
    static void *ptrs[HEAP_SIZE / 80 + 1];
    size_t n = 0;
    for (;;) {
        void *p = alloc_malloc(fx.heap, 64);
        if (p == NULL)
            break;
        ASSERT_TRUE(n < sizeof(ptrs) / sizeof(ptrs[0]));
        ptrs[n++] = p;
    }
    ASSERT_HEAP_OK(fx.heap);
    size_t avail = fresh_free(HEAP_SIZE) + ALLOC_BLOCK_OVERHEAD;
    ASSERT_TRUE(n >= avail / 80 - 1 && n <= avail / 80);
    struct alloc_stats before = stats();
    ASSERT_TRUE(alloc_malloc(fx.heap, 64) == NULL);
    ASSERT_TRUE(alloc_malloc(fx.heap, 1000) == NULL);
    ASSERT_TRUE(stats_unchanged(&before));
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, ptrs[i]));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(fresh_free(HEAP_SIZE),
              stats().bytes_free + ALLOC_BLOCK_OVERHEAD * (stats().free_blocks - 1));
    void *all = alloc_malloc(fx.heap, fresh_free(HEAP_SIZE));
    ASSERT_TRUE(all != NULL);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(0, stats().free_blocks);
    ASSERT_EQ(0, stats().bytes_free);
    return 0;
}

/*
 * alloc_allocate_batch() of 5 blocks of 70 bytes on a fresh heap poisoning new payloads:
 *   | ctrl | (gap) | A | B | C | D | E........ | (free) | END |   (A's payload on a 64-byte line)
 * Expect 5 more live allocations side by side (96-byte blocks; 80 on a 32-bit target), the last
 * one rounded up to the end of the batch's last cache line (512 bytes in all; 448), every usable
 * byte poisoned, each freed on its own until the whole heap is one block again. Then 8 blocks of
 * 100 bytes on a heap full but for 3 holes of 224 bytes (a 128-byte block each, not two; 32-bit:
 * 208 and 112): exactly 3, one per hole. 0 and nothing changed for a NULL heap or out, n == 0 and
 * an oversized request.
 */
static int alloc_batch_check(void) {
    fixture_reset(HEAP_SIZE, ALLOC_FLAG_POISON_ON_ALLOC);
    void *b[8];
    size_t bs = block_size_for(70);
    size_t lines = (5 * bs + ALLOC_BATCH_ALIGN - 1) & ~(size_t)(ALLOC_BATCH_ALIGN - 1);
    ASSERT_EQ(ALLOC_BLOCK_OVERHEAD == 16 ? 512 : 448, lines);
    ASSERT_EQ(5, alloc_allocate_batch(fx.heap, 70, b, 5));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(5, stats().live_allocations);
    ASSERT_EQ(0, (uintptr_t)b[0] % ALLOC_BATCH_ALIGN);
    for (size_t i = 0; i < 5; i++) {
        if (i + 1 < 5)
            ASSERT_EQ(bs, (uintptr_t)b[i + 1] - (uintptr_t)b[i]);
        size_t usable = alloc_usable_size(fx.heap, b[i]);
        ASSERT_EQ(i + 1 < 5 ? bs - ALLOC_BLOCK_OVERHEAD : lines - 4 * bs - ALLOC_BLOCK_OVERHEAD,
                  usable);
        for (size_t j = 0; j < usable; j++)
            ASSERT_EQ(ALLOC_POISON_ALLOC_BYTE, ((unsigned char *)b[i])[j]);
    }
    for (size_t i = 0; i < 5; i++) {
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b[(i * 3) % 5]));
        ASSERT_HEAP_OK(fx.heap);
    }
    void *all = alloc_malloc(fx.heap, fresh_free(HEAP_SIZE));
    ASSERT_TRUE(all != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, all));

    /* Filled with 200-byte blocks, then three of them freed, apart: holes of 224 (208) bytes. */
    static void *fill[HEAP_SIZE / 200 + 1];
    size_t n = 0;
    while ((fill[n] = alloc_malloc(fx.heap, 200)) != NULL)
        n++;
    ASSERT_TRUE(n > 20);
    while (alloc_malloc(fx.heap, 100) != NULL) /* the rest, left live */
        continue;
    for (size_t i = 2; i <= 18; i += 8)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, fill[i]));
    size_t live = stats().live_allocations;
    ASSERT_EQ(3, alloc_allocate_batch(fx.heap, 100, b, 8));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(live + 3, stats().live_allocations);
    for (size_t i = 0; i < 3; i++)
        ASSERT_TRUE(b[i] == fill[2 + 8 * i] || b[i] == fill[2 + 8 * (2 - i)]);
    ASSERT_TRUE(b[0] != b[1] && b[1] != b[2] && b[0] != b[2]);

    struct alloc_stats before = stats();
    ASSERT_EQ(0, alloc_allocate_batch(NULL, 70, b, 8));
    ASSERT_EQ(0, alloc_allocate_batch(fx.heap, 70, NULL, 8));
    ASSERT_EQ(0, alloc_allocate_batch(fx.heap, 70, b, 0));
    ASSERT_EQ(0, alloc_allocate_batch(fx.heap, ALLOC_MAX_REQUEST, b, 2));
    ASSERT_TRUE(stats_unchanged(&before));
    return 0;
}

/*
 * Batches of 0 to 300 bytes, of 2 to 6 blocks, each on a fresh heap (one free block holds them).
 * Expect every block but the last within alloc_usable_size()'s bound for any block, at most 16
 * bytes above its request rounded up to 16, and the last, which the batch rounds up to the end of
 * its cache line, at most ALLOC_BATCH_ALIGN above it.
 */
static int batch_usable_check(void) {
    void *b[6];
    for (size_t n = 2; n <= 6; n++) {
        for (size_t size = 0; size <= 300; size += 13) {
            fixture_reset(HEAP_SIZE, 0);
            ASSERT_EQ(n, alloc_allocate_batch(fx.heap, size, b, n));
            size_t want = size == 0 ? 1 : size;
            for (size_t i = 0; i < n; i++) {
                size_t u = alloc_usable_size(fx.heap, b[i]);
                ASSERT_TRUE(u >= want);
                ASSERT_TRUE(u <= round16(want) + (i + 1 < n ? 16 : ALLOC_BATCH_ALIGN));
            }
            ASSERT_HEAP_OK(fx.heap);
        }
    }
    return 0;
}

/*
 * calloc over dirty memory: A filled with 0xab, freed, then calloc of the same size.
 * Expect all usable bytes zero; calloc(0, n) to give a minimum block; count * size overflow to
 * give NULL with the statistics unchanged.
 */
static int calloc_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 300);
    memset(a, 0xab, alloc_usable_size(fx.heap, a));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    unsigned char *z = alloc_calloc(fx.heap, 30, 10);
    ASSERT_TRUE(z != NULL);
    ASSERT_HEAP_OK(fx.heap);
    for (size_t i = 0; i < alloc_usable_size(fx.heap, z); i++)
        ASSERT_EQ(0, z[i]);
    void *e = alloc_calloc(fx.heap, 0, 8);
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(fixture_runs() ? 16 : MIN_USABLE, alloc_usable_size(fx.heap, e));
    struct alloc_stats before = stats();
    ASSERT_TRUE(alloc_calloc(fx.heap, SIZE_MAX / 8, 16) == NULL);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * calloc's clearing, at every size from 1 to 2,400 bytes in steps of 8 (every count of words,
 * modulo the clearing loop's sixteen, on either layout) and a few of more than 4 KiB: A and its
 * neighbour B filled, A freed, then a calloc of A's size. Expect every usable byte of what calloc
 * returns zero, B's bytes unchanged (no store past the end) and the heap sound.
 */
static int calloc_clear_sizes_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    for (size_t n = 1; n <= 9000; n += n < 2400 ? 8 : 1531) {
        unsigned char *a = alloc_malloc(fx.heap, n);
        unsigned char *b = alloc_malloc(fx.heap, 48);
        ASSERT_TRUE(a != NULL && b != NULL);
        memset(a, 0xab, alloc_usable_size(fx.heap, a));
        memset(b, 0x5c, 48);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
        unsigned char *z = alloc_calloc(fx.heap, 1, n);
        ASSERT_TRUE(z != NULL);
        for (size_t i = 0; i < alloc_usable_size(fx.heap, z); i++)
            ASSERT_EQ(0, z[i]);
        for (size_t i = 0; i < 48; i++)
            ASSERT_EQ(0x5c, b[i]);
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, z));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    }
    return 0;
}

/*
 * Usable size for every request from 0 to 2100 bytes.
 * Expect at least the request (1 for 0), at most 16 more than it rounded up to 16, and 0 with
 * no report for NULL.
 */
static int usable_size_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    for (size_t n = 0; n <= 2100; n++) {
        void *p = alloc_malloc(fx.heap, n);
        ASSERT_TRUE(p != NULL);
        size_t u = alloc_usable_size(fx.heap, p);
        size_t want = n == 0 ? 1 : n;
        ASSERT_TRUE(u >= want);
        ASSERT_TRUE(u <= round16(want) + 16);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
    }
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(0, alloc_usable_size(fx.heap, NULL));
    ASSERT_EQ(0, fx.reports);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* free */

/*
 * free(NULL).
 * Expect ALLOC_OK, no report, nothing changed.
 */
static int free_null_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    struct alloc_stats before = stats();
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, NULL));
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_EQ(0, fx.reports);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * Coalescing, with blocks too large for the quick lists:
 *   | A | B | C | D | (tail) |
 *   free B:  | A | (B) | C | D | (tail) |
 *   free C:  | A | (B + C)  | D | (tail) |      merged with the previous free block
 *   free A:  | (A + B + C)      | D | (tail) |   merged with the next free block
 *   free D:  | (everything)                  |  merged on both sides
 * Expect after each step exactly the free blocks drawn, of the sizes drawn (each absorbed
 * header adds its bytes), and finally the heap as fresh.
 */
static int free_coalesce_check(void) {
    const size_t big = usable_for(BIG);
    fixture_reset(HEAP_SIZE, 0);
    void *a = alloc_malloc(fx.heap, BIG), *b = alloc_malloc(fx.heap, BIG);
    void *c = alloc_malloc(fx.heap, BIG), *d = alloc_malloc(fx.heap, BIG);
    struct walked_block w[8];
    ASSERT_EQ(5, fixture_walk(w, 8));

    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(5, fixture_walk(w, 8));
    ASSERT_EQ(ALLOC_BLOCK_FREE, w[1].state);
    ASSERT_EQ(big, w[1].size);

    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(4, fixture_walk(w, 8));
    ASSERT_TRUE(w[1].payload == b);
    ASSERT_EQ(ALLOC_BLOCK_FREE, w[1].state);
    ASSERT_EQ(2 * big + ALLOC_BLOCK_OVERHEAD, w[1].size);

    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(3, fixture_walk(w, 8));
    ASSERT_TRUE(w[0].payload == a);
    ASSERT_EQ(3 * big + 2 * ALLOC_BLOCK_OVERHEAD, w[0].size);
    ASSERT_EQ(ALLOC_BLOCK_USED, w[1].state);

    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, d));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(1, fixture_walk(w, 8));
    ASSERT_EQ(fresh_free(HEAP_SIZE), w[0].size);
    ASSERT_EQ(0, stats().bytes_in_use);
    ASSERT_EQ(0, fx.reports);
    return 0;
}

/*
 * p, freed, freed again on a heap that has reported nothing yet: expect ALLOC_ERR_DOUBLE_FREE,
 * the heap's one report, naming p, and nothing changed; then `keep`, live, freed. Returns 0, or 1
 * after printing the assertion that failed.
 */
static int double_free_refused(void *p, void *keep) {
    struct alloc_stats before = stats();
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_free(fx.heap, p));
    if (refused_at(0, ALLOC_ERR_DOUBLE_FREE, p, &before) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, keep));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * Double free of a block that is still a block of its own (quick-listed, or free):
 *   | A | (free) |  free A, free A
 * Expect the second free to return and report ALLOC_ERR_DOUBLE_FREE with A, and nothing to
 * change.
 */
static int free_double_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    void *a = alloc_malloc(fx.heap, 64);
    void *keep = alloc_malloc(fx.heap, 64);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    return double_free_refused(a, keep);
}

/*
 * Double free of a block that has been merged into its free neighbour:
 *   | A | B | C |  free A, free B:  | (A + B) | C |  free B again
 * B's header no longer exists. Expect ALLOC_ERR_DOUBLE_FREE (B points into a free block),
 * reported with B, and nothing changed.
 */
static int free_double_merged_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    void *a = alloc_malloc(fx.heap, BIG), *b = alloc_malloc(fx.heap, BIG);
    void *c = alloc_malloc(fx.heap, BIG);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    return double_free_refused(b, c);
}

/*
 * Pointers that are not from this heap or not at a block start:
 *   a stack object; the control structure; one past the end; inside A's payload (A zeroed);
 *   the last 16-aligned pointer of the same heap's region before the first payload.
 * Expect ALLOC_ERR_FOREIGN_POINTER for each, reported with the pointer, and nothing changed;
 * realloc and usable_size report the same (one report each, with the pointer) and return NULL / 0.
 */
static int free_foreign_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    _Alignas(16) unsigned char local[64];
    unsigned char *a = alloc_malloc(fx.heap, 256);
    memset(a, 0, 256);
    void *bad[] = {local,  fx.region + 64, fx.region + HEAP_SIZE,
                   a + 32, a + 128,        fx.region + ctrl_size() + ALLOC_BLOCK_OVERHEAD - 16};
    struct alloc_stats before = stats();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fx.reports = 0; /* three reports a pointer, six pointers: more than the fixture keeps */
        ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, alloc_free(fx.heap, bad[i]));
        if (reported_once_at(0, ALLOC_ERR_FOREIGN_POINTER, bad[i]) != 0)
            return 1;
        ASSERT_TRUE(alloc_realloc(fx.heap, bad[i], 10) == NULL);
        if (reported_once_at(1, ALLOC_ERR_FOREIGN_POINTER, bad[i]) != 0)
            return 1;
        ASSERT_EQ(0, alloc_usable_size(fx.heap, bad[i]));
        if (reported_once_at(2, ALLOC_ERR_FOREIGN_POINTER, bad[i]) != 0)
            return 1;
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_HEAP_OK(fx.heap);
    }
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    return 0;
}

/*
 * Pointers that are not 16-byte aligned: A + 1, A + 8, and S + 8 for a 16-byte request S (a run
 * slot where there are runs).
 * Expect ALLOC_ERR_MISALIGNED_POINTER from free, NULL from realloc and 0 from usable_size, each
 * call reporting it once at the pointer, nothing changed.
 */
static int free_misaligned_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 100), *s = alloc_malloc(fx.heap, 16);
    ASSERT_TRUE(a != NULL && s != NULL);
    struct alloc_stats before = stats();
    unsigned char *bad[] = {a + 1, a + 8, s + 8};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_ERR_MISALIGNED_POINTER, alloc_free(fx.heap, bad[i]));
        if (reported_once_at(reports, ALLOC_ERR_MISALIGNED_POINTER, bad[i]) != 0)
            return 1;
        ASSERT_TRUE(alloc_realloc(fx.heap, bad[i], 50) == NULL);
        if (reported_once_at(reports + 1, ALLOC_ERR_MISALIGNED_POINTER, bad[i]) != 0)
            return 1;
        ASSERT_EQ(0, alloc_usable_size(fx.heap, bad[i]));
        if (reported_once_at(reports + 2, ALLOC_ERR_MISALIGNED_POINTER, bad[i]) != 0)
            return 1;
    }
    return unchanged_then_freed(&before, a, s);
}

/*
 * Corrupted headers:
 *   (1) A's size word zeroed:           | A hdr=0 | B | ...
 *   (2) A overflows into B's prev word: | A ......|xx B | ...
 *   (3) A's size grown by 16 (tag intact)
 * Expect ALLOC_ERR_CORRUPTED_HEADER from free of the damaged block (for (2), of A, whose boundary
 * tag it is) and from realloc of it ((2) and (3)), each reported once at A, and from
 * alloc_heap_check, reported once at the damaged header (A's; for (2), B's), with nothing
 * changed; once the header is restored everything works.
 */
static int free_corrupted_header_check(void) {
    if (fixture_runs())
        SKIP_CHECK(
            "48-byte requests are run slots, which have no header: see runs_corrupted_check");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 48), *b = alloc_malloc(fx.heap, 48);
    hword_t *a_hdr = (hword_t *)(a - HDR), *b_hdr = (hword_t *)(b - HDR);
    hword_t a_size = a_hdr[1], b_prev = b_hdr[0];
    struct alloc_stats before = stats();

    size_t reports = fx.reports;
    a_hdr[1] = 0;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_free(fx.heap, a));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, a) != 0)
        return 1;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_check(fx.heap));
    if (reported_once_at(reports + 1, ALLOC_ERR_CORRUPTED_HEADER, a_hdr) != 0)
        return 1;
    a_hdr[1] = a_size;
    ASSERT_HEAP_OK(fx.heap);

    reports = fx.reports;
    memset(a + alloc_usable_size(fx.heap, a), 0x41, sizeof(hword_t)); /* into B's header */
    /* B's prev word is A's boundary tag: checked when A is freed (B's free does not use it). */
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_free(fx.heap, a));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, a) != 0)
        return 1;
    ASSERT_TRUE(alloc_realloc(fx.heap, a, 4000) == NULL);
    if (reported_once_at(reports + 1, ALLOC_ERR_CORRUPTED_HEADER, a) != 0)
        return 1;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_check(fx.heap));
    if (reported_once_at(reports + 2, ALLOC_ERR_CORRUPTED_HEADER, b_hdr) != 0)
        return 1;
    b_hdr[0] = b_prev;
    ASSERT_HEAP_OK(fx.heap);

    reports = fx.reports;
    a_hdr[1] = a_size + 16;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_free(fx.heap, a));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, a) != 0)
        return 1;
    ASSERT_TRUE(alloc_realloc(fx.heap, a, 10) == NULL);
    if (reported_once_at(reports + 1, ALLOC_ERR_CORRUPTED_HEADER, a) != 0)
        return 1;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_check(fx.heap));
    if (reported_once_at(reports + 2, ALLOC_ERR_CORRUPTED_HEADER, a_hdr) != 0)
        return 1;
    a_hdr[1] = a_size;
    return unchanged_then_freed(&before, a, b);
}

/*
 *   | ctrl | A | B (USED, PREV_FREE forged, prev word a sealed 0) | ...
 * B's header says its predecessor is free and 0 bytes long, both words correctly sealed: no
 * block is 0 bytes long, so the prev word is a corrupted header, whatever the build makes of it
 * (a build for size checks the predecessor as a block ps bytes before B, here B itself).
 * Expect ALLOC_ERR_CORRUPTED_HEADER from free, realloc and usable_size of B, reported at B, in
 * every build, with nothing changed; once the header is restored everything works.
 */
static int free_prev_size_zero_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, BIG), *b = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(a != NULL && b != NULL);
    hword_t *b_hdr = (hword_t *)(b - HDR);
    hword_t b_prev = b_hdr[0], b_size = b_hdr[1];
    struct alloc_stats before = stats();

    word_set(fx.heap, &b_hdr[0], 0);
    word_set(fx.heap, &b_hdr[1], (b_size & ~TAG_MASK) | PREV_FREE);
    enum alloc_error checked = alloc_heap_check(fx.heap);
    ASSERT_NE(ALLOC_OK, checked);
    size_t reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_free(fx.heap, b));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, b) != 0)
        return 1;
    ASSERT_TRUE(alloc_realloc(fx.heap, b, 2 * BIG) == NULL);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, fx.report_error[fx.reports - 1]);
    ASSERT_EQ(0, alloc_usable_size(fx.heap, b));
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, fx.report_error[fx.reports - 1]);
    ASSERT_EQ(reports + 3, fx.reports);
    ASSERT_EQ(checked, alloc_heap_check(fx.heap));

    b_hdr[0] = b_prev;
    b_hdr[1] = b_size;
    return unchanged_then_freed(&before, b, a);
}

/*
 * The names of the errors.
 * Expect the documented names, the project's naming rule (ASSERT_ERROR_NAMES), and "unknown
 * error" for a value outside the enum.
 */
static int error_name_check(void) {
    ASSERT_STREQ("double free", alloc_error_name(ALLOC_ERR_DOUBLE_FREE));
    ASSERT_STREQ("foreign pointer", alloc_error_name(ALLOC_ERR_FOREIGN_POINTER));
    ASSERT_STREQ("misaligned pointer", alloc_error_name(ALLOC_ERR_MISALIGNED_POINTER));
    ASSERT_STREQ("corrupted block header", alloc_error_name(ALLOC_ERR_CORRUPTED_HEADER));
    ASSERT_STREQ("region too small", alloc_error_name(ALLOC_ERR_REGION_TOO_SMALL));
    /* NOLINTNEXTLINE(clang-analyzer-optin.core.EnumCastOutOfRange): out of range on purpose */
    ASSERT_STREQ("unknown error", alloc_error_name((enum alloc_error)not_an_error));
    ASSERT_ERROR_NAMES(alloc_error_name, enum alloc_error, ALLOC_OK, ALLOC_ERR_NULL_HEAP);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* realloc */

/*
 * realloc(NULL, n) is malloc(n).
 * Expect a live block of n bytes.
 */
static int realloc_null_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    void *p = alloc_realloc(fx.heap, NULL, 40);
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ(fixture_runs() ? 48 : usable_for(40), alloc_usable_size(fx.heap, p));
    ASSERT_EQ(1, stats().live_allocations);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * On a fresh heap, its first block A of `from` bytes, filled with a pattern, realloc'd to `to`:
 *   | A from (pattern) | (free) |  ->  | A to | (free) |
 * Expect the same pointer, its first min(from, to) bytes preserved, the usable size and in_use of a
 * `to`-byte block, and one free block after A. Returns 0, or 1 after printing the assertion that
 * failed.
 */
static int realloc_in_place(size_t from, size_t to, unsigned seed) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, from);
    fixture_fill(a, from, seed);
    unsigned char *q = alloc_realloc(fx.heap, a, to);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(q == a);
    ASSERT_TRUE(fixture_pattern_ok(q, from < to ? from : to, seed));
    ASSERT_EQ(usable_for(to), alloc_usable_size(fx.heap, q));
    ASSERT_EQ(usable_for(to), stats().bytes_in_use);
    ASSERT_EQ(1, stats().free_blocks);
    return 0;
}

/*
 *   before: | A 3008 (pattern)          | (free) |
 *   after:  | A 112 | (free, merged)            |   (32-bit: 3000 and 104)
 * Expect the same pointer, the first 100 bytes preserved, in_use down to 112 (104) and the cut
 * tail merged into the following free block.
 */
static int realloc_shrink_check(void) {
    if (realloc_in_place(3000, 100, 7) != 0)
        return 1;
    ASSERT_EQ(usable_for(3000), stats().peak_in_use);
    ASSERT_EQ(fresh_free(HEAP_SIZE) - block_size_for(100), stats().largest_free);
    return 0;
}

/*
 *   before: | A 112 (pattern) | (free)          |
 *   after:  | A 512                | (free)     |   (32-bit: 104 and 504)
 * Expect growth in place into the following free block: same pointer, contents preserved.
 */
static int realloc_grow_in_place_check(void) {
    return realloc_in_place(100, 500, 3);
}

/*
 *   before: | A 112 (pattern) | B | (free)                       |
 *   after:  | [A] or (A)      | B | A' 3008       | (free)       |
 * Expect a new pointer after B, the 100 bytes copied, the old block freed (live stays 2).
 */
static int realloc_move_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 100);
    unsigned char *b = alloc_malloc(fx.heap, 100);
    fixture_fill(a, 100, 9);
    unsigned char *q = alloc_realloc(fx.heap, a, 3000);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(q != NULL && q != a);
    ASSERT_TRUE(q > b);
    ASSERT_TRUE(fixture_pattern_ok(q, 100, 9));
    ASSERT_EQ(2, stats().live_allocations);
    ASSERT_EQ(usable_for(100) + usable_for(3000), stats().bytes_in_use);
    struct walked_block w[8];
    ASSERT_EQ(4, fixture_walk(w, 8));
    ASSERT_EQ(fixture_quick() ? ALLOC_BLOCK_QUICK : ALLOC_BLOCK_FREE, w[0].state);
    return 0;
}

/*
 * realloc to more than the heap holds.
 * Expect NULL, the block untouched (same contents, still live) and the statistics unchanged.
 */
static int realloc_fail_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 200);
    fixture_fill(a, 200, 5);
    struct alloc_stats before = stats();
    ASSERT_TRUE(alloc_realloc(fx.heap, a, HEAP_SIZE) == NULL);
    ASSERT_TRUE(alloc_realloc(fx.heap, a, SIZE_MAX) == NULL);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_TRUE(fixture_pattern_ok(a, 200, 5));
    ASSERT_EQ(usable_for(200), alloc_usable_size(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * realloc and usable_size of blocks already freed:
 *   | A | B | C | (free) |   free B, then C (the heap's last block, which a realloc may grow)
 * B and C quick-listed, or C merged with B and the free tail and B the start of that free block.
 * Expect NULL from realloc to a smaller, the same, a larger and no size, and 0 from usable_size,
 * each reported as a double free at the pointer, with nothing changed.
 */
static int realloc_freed_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 100), *b = alloc_malloc(fx.heap, 100);
    unsigned char *c = alloc_malloc(fx.heap, 100);
    ASSERT_TRUE(a != NULL && b != NULL && c != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
    ASSERT_HEAP_OK(fx.heap);
    struct alloc_stats before = stats();
    unsigned char *freed[] = {c, b};
    const size_t sizes[] = {50, 100, 3000, 0};
    for (size_t i = 0; i < sizeof(freed) / sizeof(freed[0]); i++) {
        for (size_t j = 0; j <= sizeof(sizes) / sizeof(sizes[0]); j++) {
            size_t reports = fx.reports;
            if (j < sizeof(sizes) / sizeof(sizes[0]))
                ASSERT_TRUE(alloc_realloc(fx.heap, freed[i], sizes[j]) == NULL);
            else
                ASSERT_EQ(0, alloc_usable_size(fx.heap, freed[i]));
            if (refused_at(reports, ALLOC_ERR_DOUBLE_FREE, freed[i], &before) != 0)
                return 1;
        }
    }
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 *   | A 2000: ... [forged USED header, size reaching the free block] ... | (free) | END |
 * realloc, to grow, of the payload of a header forged inside the last block A, so that the
 * forged block seems to end where the free block begins.
 * Expect NULL and ALLOC_ERR_FOREIGN_POINTER reported at that pointer (the free block's
 * boundary tag names A's size, not the forged one, and the walk that names the error finds the
 * pointer inside A); A and the statistics unchanged.
 */
static int realloc_forged_header_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, BIG);
    fixture_fill(a, BIG, 6);
    /* Sealed with the heap's own secret: only the boundary tags can tell it from a block. */
    block_t *forged = blk_from_payload(a + 272);
    word_set(fx.heap, &forged->prev, 272);
    word_set(fx.heap, &forged->size,
             (hword_t)(block_size_for(BIG) - 272) | ST_USED); /* to A's end */
    struct alloc_stats before = stats();
    size_t reports = fx.reports;
    ASSERT_TRUE(alloc_realloc(fx.heap, a + 272, 3 * BIG) == NULL);
    if (refused_at(reports, ALLOC_ERR_FOREIGN_POINTER, a + 272, &before) != 0)
        return 1;
    ASSERT_EQ(usable_for(BIG), alloc_usable_size(fx.heap, a));
    fixture_fill(a, BIG, 6);
    unsigned char *q = alloc_realloc(fx.heap, a, 3 * BIG);
    ASSERT_TRUE(q != NULL && fixture_pattern_ok(q, BIG, 6));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * realloc(p, 0) shrinks p to the minimum block.
 * Expect the same pointer with MIN_USABLE bytes, still live, those bytes preserved.
 */
static int realloc_zero_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 500);
    fixture_fill(a, 500, 1);
    unsigned char *q = alloc_realloc(fx.heap, a, 0);
    ASSERT_TRUE(q == a);
    ASSERT_EQ(MIN_USABLE, alloc_usable_size(fx.heap, q));
    ASSERT_TRUE(fixture_pattern_ok(q, MIN_USABLE, 1));
    ASSERT_EQ(1, stats().live_allocations);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * realloc(p, 0) of a 64-byte run slot: the minimum is the smallest slot, another class.
 *   run of 64-byte slots: | S | ...      run of 16-byte slots: | T | ...
 * Expect a 16-byte slot T (none of S's bytes kept: min(64, 0)), S's slot freed (a second free of it
 * is a double free), one live allocation still; and, with no slot or block left to move to, S
 * itself returned for 0 and for 40 bytes, contents and statistics unchanged, where growing T to 200
 * bytes gives NULL, T unchanged.
 */
static int realloc_slot_zero_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *s = alloc_malloc(fx.heap, 64);
    ASSERT_TRUE(s != NULL);
    unsigned char *t = alloc_realloc(fx.heap, s, 0);
    ASSERT_TRUE(t != NULL && t != s);
    ASSERT_EQ(16, alloc_usable_size(fx.heap, t));
    fixture_fill(t, 16, 4);
    ASSERT_EQ(1, stats().live_allocations);
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_free(fx.heap, s));
    ASSERT_HEAP_OK(fx.heap);

    s = alloc_malloc(fx.heap, 64);
    ASSERT_TRUE(s != NULL);
    while (alloc_malloc(fx.heap, 16) != NULL)
        continue;
    while (alloc_malloc(fx.heap, 0) != NULL) /* a minimum block of 8 bytes on a 32-bit target */
        continue;
    fixture_fill(s, 64, 5);
    struct alloc_stats before = stats();
    ASSERT_TRUE(alloc_realloc(fx.heap, s, 0) == s);
    ASSERT_TRUE(alloc_realloc(fx.heap, s, 40) == s);
    ASSERT_TRUE(alloc_realloc(fx.heap, t, 200) == NULL);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_TRUE(fixture_pattern_ok(s, 64, 5));
    ASSERT_TRUE(fixture_pattern_ok(t, 16, 4));
    ASSERT_EQ(64, alloc_usable_size(fx.heap, s));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* extend */

/*
 *   before: | ctrl | A ... (fills the heap) | END |
 *   extend: | ctrl | A ...                  | (new free)        | END |
 * Expect ALLOC_OK, region_size grown by the extension, a new free block of exactly the
 * extension's size (the old end marker became its header), usable at once.
 */
static int extend_after_used_check(void) {
    size_t half = HEAP_SIZE / 2;
    fixture_reset(half, 0);
    void *all = alloc_malloc(fx.heap, fresh_free(half));
    ASSERT_TRUE(all != NULL);
    ASSERT_TRUE(alloc_malloc(fx.heap, 16) == NULL);
    ASSERT_EQ(ALLOC_OK, alloc_heap_extend(fx.heap, 4096));
    ASSERT_HEAP_OK(fx.heap);
    struct alloc_stats s = stats();
    ASSERT_EQ(half + 4096, s.region_size);
    ASSERT_EQ(1, s.free_blocks);
    ASSERT_EQ(4096 - ALLOC_BLOCK_OVERHEAD, s.largest_free);
    void *p = alloc_malloc(fx.heap, 4096 - ALLOC_BLOCK_OVERHEAD);
    ASSERT_TRUE(p != NULL);
    ASSERT_TRUE((unsigned char *)p >= fx.region + half);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 *   before: | ctrl | A | (free F)                  | END |
 *   extend: | ctrl | A | (free F + extension)                 | END |
 * Expect the extension merged into the free tail: still one free block, larger by exactly the
 * extension.
 */
static int extend_merges_check(void) {
    size_t half = HEAP_SIZE / 2;
    fixture_reset(half, 0);
    ASSERT_TRUE(alloc_malloc(fx.heap, 100) != NULL);
    size_t before = stats().largest_free;
    ASSERT_EQ(ALLOC_OK, alloc_heap_extend(fx.heap, half));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(1, stats().free_blocks);
    ASSERT_EQ(before + half, stats().largest_free);
    ASSERT_TRUE(alloc_malloc(fx.heap, before + 100) != NULL);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * Extensions too small to hold a block (0, half and all but one byte of ALLOC_MIN_BLOCK), too
 * large, and on a NULL heap.
 * Expect the documented errors and nothing changed; a later ALLOC_MIN_BLOCK-byte extension still
 * starts at the old end.
 */
static int extend_errors_check(void) {
    size_t half = HEAP_SIZE / 2;
    fixture_reset(half, 0);
    struct alloc_stats before = stats();
    ASSERT_EQ(ALLOC_ERR_REGION_TOO_SMALL, alloc_heap_extend(fx.heap, 0));
    ASSERT_EQ(ALLOC_ERR_REGION_TOO_SMALL, alloc_heap_extend(fx.heap, ALLOC_MIN_BLOCK / 2));
    ASSERT_EQ(ALLOC_ERR_REGION_TOO_SMALL, alloc_heap_extend(fx.heap, ALLOC_MIN_BLOCK - 1));
    ASSERT_EQ(ALLOC_ERR_REGION_TOO_LARGE, alloc_heap_extend(fx.heap, ALLOC_MAX_HEAP));
    ASSERT_EQ(ALLOC_ERR_REGION_TOO_LARGE, alloc_heap_extend(fx.heap, SIZE_MAX));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_heap_extend(NULL, 4096));
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_heap_extend(fx.heap, ALLOC_MIN_BLOCK));
    ASSERT_EQ(half + ALLOC_MIN_BLOCK, stats().region_size);
    ASSERT_EQ(before.largest_free + ALLOC_MIN_BLOCK, stats().largest_free);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A heap whose size is not a multiple of 16, extended by sizes that are not either:
 *   | ctrl | A | (free) | END | tail |  + ext  ->  | ctrl | A | (free, grown)        | END | tail'
 * | The extension starts at the end of the tail, which the heap had left unused and takes in now.
 * Expect region_size to count every byte handed over; the free block to grow by the whole
 * granules the tail and the extension make together (an extension that makes a minimum block only
 * with the tail accepted, one byte less refused with nothing changed); and the largest free block,
 * requested and filled, to end within the bytes handed over: the byte after them is never written.
 */
static int extend_unaligned_tail_check(void) {
    const size_t half = HEAP_SIZE / 2;
    for (size_t tail = 1; tail < 16; tail += 7) {
        for (size_t ext = ALLOC_MIN_BLOCK - tail - 1; ext < 100;
             ext += ext < ALLOC_MIN_BLOCK ? 1 : 23) {
            fixture_reset(half + tail, 0);
            ASSERT_TRUE(alloc_malloc(fx.heap, 100) != NULL);
            size_t total = half + tail + ext;
            memset(fx.region + total, 0xa5, 64);
            struct alloc_stats before = stats();
            size_t grown = ((half + tail + ext) & ~(size_t)15) - half;
            if (grown < ALLOC_MIN_BLOCK) {
                ASSERT_EQ(ALLOC_ERR_REGION_TOO_SMALL, alloc_heap_extend(fx.heap, ext));
                ASSERT_TRUE(stats_unchanged(&before));
                continue;
            }
            ASSERT_EQ(ALLOC_OK, alloc_heap_extend(fx.heap, ext));
            ASSERT_HEAP_OK(fx.heap);
            struct alloc_stats s = stats();
            ASSERT_EQ(total, s.region_size);
            ASSERT_EQ(before.largest_free + grown, s.largest_free);
            ASSERT_STATS_MATCH_WALK(fx.heap);
            unsigned char *p = alloc_malloc(fx.heap, s.largest_free);
            ASSERT_TRUE(p != NULL);
            size_t usable = alloc_usable_size(fx.heap, p);
            ASSERT_TRUE(p + usable <= fx.region + total);
            memset(p, 0xee, usable);
            for (size_t i = 0; i < 64; i++)
                ASSERT_EQ(0xa5, fx.region[total + i]);
            ASSERT_HEAP_OK(fx.heap);
        }
    }
    return 0;
}

/*
 * Extensions of a heap whose end marker or last block a stray write has damaged, one word at a
 * time (a bit flipped, put back before the next):
 *   | ctrl | A ... (fills the heap) | END |   and   | ctrl | A | (free F) | END |
 * the end marker's size word, its prev word (the last block's boundary tag), and on the second
 * heap F's size word (a used last block is not read: the extension merges with no used block).
 * Expect ALLOC_ERR_CORRUPTED_HEADER, reported once at the end marker, and nothing changed: with the
 * word put back, the statistics (region_size among them) as before, the heap intact, and the same
 * extension then made.
 */
static int extend_damaged_end_check(void) {
    const size_t half = HEAP_SIZE / 2;
    for (unsigned way = 0; way < 5; way++) {
        block_t *f = NULL;
        if (way < 2) {
            fixture_reset(half, 0);
            ASSERT_TRUE(alloc_malloc(fx.heap, fresh_free(half)) != NULL);
        } else if (free_tail(&f) != 0) {
            return 1;
        }
        struct alloc_stats before = stats();
        block_t *end = blk_at(fx.heap->end);
        hword_t *word = way == 4 ? &f->size : (way & 1) == 0 ? &end->size : &end->prev;
        hword_t saved = *word;
        *word ^= (hword_t)1 << 9;
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_extend(fx.heap, 4096));
        if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, end) != 0)
            return 1;
        *word = saved;
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(ALLOC_OK, alloc_heap_extend(fx.heap, 4096));
        ASSERT_EQ(half + 4096, stats().region_size);
        ASSERT_HEAP_OK(fx.heap);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* statistics, check, walk, poison */

/*
 * A sequence of allocations, frees and reallocs.
 * Expect after each: live_allocations and bytes_in_use those of the blocks the check holds (their
 * count, their usable sizes); the statistics as the heap's walk counts them (bytes_in_use and
 * live_allocations over its USED entries, bytes_free over its FREE and QUICK ones and the runs'
 * unused ends, free_blocks its FREE and QUICK blocks: fixture_stats_mismatch); peak never below
 * in_use and never falling; largest_free within bytes_free.
 */
static int stats_identity_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    void *p[16] = {0};
    size_t peak = 0;
    for (unsigned i = 0; i < 200; i++) {
        unsigned k = (i * 7) % 16;
        if (p[k] != NULL) {
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p[k]));
            p[k] = NULL;
        } else {
            p[k] = alloc_malloc(fx.heap, 16 + (i * 37) % 1500);
            ASSERT_TRUE(p[k] != NULL);
        }
        if (i % 5 == 0 && p[(k + 3) % 16] != NULL)
            p[(k + 3) % 16] = alloc_realloc(fx.heap, p[(k + 3) % 16], (i * 13) % 2000);
        ASSERT_HEAP_OK(fx.heap);
        struct alloc_stats s = stats();
        size_t live = 0, in_use = 0;
        for (unsigned j = 0; j < 16; j++) {
            if (p[j] != NULL) {
                live++;
                in_use += alloc_usable_size(fx.heap, p[j]);
            }
        }
        ASSERT_EQ(live, s.live_allocations);
        ASSERT_EQ(in_use, s.bytes_in_use);
        ASSERT_STATS_MATCH_WALK(fx.heap);
        ASSERT_TRUE(s.peak_in_use >= peak && s.peak_in_use >= s.bytes_in_use);
        ASSERT_TRUE(s.largest_free <= s.bytes_free);
        peak = s.peak_in_use;
    }
    return 0;
}

/*
 * alloc_heap_check on deliberately broken heaps (each restored afterwards):
 *   control magic flipped; live counter off by one; a free block's list link pointing at a live
 *   block; two free neighbours (B marked free by hand beside free A); a header's check bits
 * inverted. Expect respectively CORRUPTED_HEAP, STATS_MISMATCH, CORRUPTED_FREE_LIST, UNCOALESCED,
 * CORRUPTED_HEADER, each also reported through the hook but the first in a build with fast paths,
 * whose magic word seals the hook (a damaged one is not called); ALLOC_OK once restored.
 */
static int check_detects_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    alloc_heap *h = fx.heap;
    unsigned char *a = alloc_malloc(h, BIG), *b = alloc_malloc(h, BIG);
    unsigned char *c = alloc_malloc(h, BIG);
    ASSERT_EQ(ALLOC_OK, alloc_free(h, a));
    ASSERT_HEAP_OK(h);

    size_t before = fx.reports;
    h->magic ^= 1;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEAP, alloc_heap_check(h));
    h->magic ^= 1;
    ASSERT_EQ(before + (ALLOC_FAST_PATHS ? 0 : 1), fx.reports);

    h->taken_blocks++;
    ASSERT_EQ(ALLOC_ERR_STATS_MISMATCH, alloc_heap_check(h));
    h->taken_blocks--;

    void **link = (void **)a; /* A is free: its first payload word is its next link */
    void *saved = *link;
    *link = b - 16;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_heap_check(h));
    *link = saved;
    ASSERT_HEAP_OK(h);

    hword_t *b_hdr = (hword_t *)(b - HDR), *c_hdr = (hword_t *)(c - HDR);
    hword_t b_size = b_hdr[1], c_size = c_hdr[1];
    /* Validly sealed (the heap's secret), so only the neighbour checks can find it. */
    word_set(h, &b_hdr[1], (b_size & ~(TAG_MASK | STATE_MASK)) | ST_FREE);
    word_set(h, &c_hdr[1], (c_size & ~TAG_MASK) | PREV_FREE);
    ASSERT_EQ(ALLOC_ERR_UNCOALESCED, alloc_heap_check(h));
    b_hdr[1] = b_size;
    c_hdr[1] = c_size;
    ASSERT_HEAP_OK(h);

    hword_t c_prev = c_hdr[0];
    c_hdr[0] ^= TAG_MASK; /* cleared, they might match by chance: 1 in 256 on 32 bits */
    before = fx.reports;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_check(h));
    if (reported_once_at(before, ALLOC_ERR_CORRUPTED_HEADER, c_hdr) != 0)
        return 1;
    c_hdr[0] = c_prev;
    ASSERT_HEAP_OK(h);
    ASSERT_EQ(ALLOC_FAST_PATHS ? 4 : 5, fx.reports);
    return 0;
}

/*
 * Poison on free: A freed, then written through the dangling pointer.
 * Expect alloc_heap_check to pass before the write and to report ALLOC_ERR_WRITE_AFTER_FREE
 * after it; with poison on alloc, a new block reads ALLOC_POISON_ALLOC_BYTE throughout.
 */
static int poison_check(void) {
    fixture_reset(HEAP_SIZE, ALLOC_FLAG_POISON_ON_FREE | ALLOC_FLAG_POISON_ON_ALLOC);
    ASSERT_HEAP_OK(fx.heap);
    unsigned char *a = alloc_malloc(fx.heap, 200);
    for (size_t i = 0; i < usable_for(200); i++)
        ASSERT_EQ(ALLOC_POISON_ALLOC_BYTE, a[i]);
    unsigned char *b = alloc_malloc(fx.heap, BIG);
    memset(a, 1, usable_for(200));
    memset(b, 1, BIG);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_HEAP_OK(fx.heap);
    a[150] = 0; /* use after free */
    ASSERT_EQ(ALLOC_ERR_WRITE_AFTER_FREE, alloc_heap_check(fx.heap));
    a[150] = ALLOC_POISON_FREE_BYTE;
    ASSERT_HEAP_OK(fx.heap);
    b[BIG - 1] = 7;
    ASSERT_EQ(ALLOC_ERR_WRITE_AFTER_FREE, alloc_heap_check(fx.heap));
    b[BIG - 1] = ALLOC_POISON_FREE_BYTE;
    ASSERT_HEAP_OK(fx.heap);
    /* Shrinking, growing and extending keep the free space poisoned. */
    unsigned char *c = alloc_malloc(fx.heap, 3000);
    ASSERT_TRUE(alloc_realloc(fx.heap, c, 1000) == c);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(alloc_realloc(fx.heap, c, 1500) == c);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_heap_extend(fx.heap, 4096));
    ASSERT_HEAP_OK(fx.heap);
    void *d = alloc_allocate(fx.heap, 100, 256);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, d));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * With poison on free, every freed byte that holds no link is checked: on a quick-listed block Q
 * past its one link, on a block on a free list past its two, and on the TLSF top block (on no
 * list, TOP_BLOCK) from its first byte:
 *   | ctrl | [Q] or (Q) | U | (top) | END |
 * Expect a write to the first byte past Q's links, and to the top block's bytes 0 and 3 where
 * that block has no links (else the first byte past its two), each reported by the check as
 * ALLOC_ERR_WRITE_AFTER_FREE at the block's header, once, and the heap intact once it is put back.
 */
static int poison_unlinked_bytes_check(void) {
    fixture_reset(HEAP_SIZE, ALLOC_FLAG_POISON_ON_FREE);
    unsigned char *q = alloc_malloc(fx.heap, 100), *u = alloc_malloc(fx.heap, 100);
    ASSERT_TRUE(q != NULL && u != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, q));
    ASSERT_HEAP_OK(fx.heap);
    struct walked_block w[4];
    ASSERT_EQ(3, fixture_walk(w, 4));
    ASSERT_TRUE(w[0].payload == q && w[2].state == ALLOC_BLOCK_FREE);
    ASSERT_EQ(fixture_quick() ? ALLOC_BLOCK_QUICK : ALLOC_BLOCK_FREE, w[0].state);
    bool top_unlinked = fx.variant->strategy == ALLOC_STRATEGY_TLSF && TOP_BLOCK;
    size_t q_links = fixture_quick() ? sizeof(void *) : 2 * sizeof(void *);
    size_t top_links = top_unlinked ? 0 : 2 * sizeof(void *);
    unsigned char *top = w[2].payload;
    struct {
        unsigned char *byte;
        const void *block;
    } writes[] = {
        {q + q_links, blk_from_payload(q)},
        {top + top_links, blk_from_payload(top)},
        {top + top_links + 3, blk_from_payload(top)},
    };
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        ASSERT_EQ(ALLOC_POISON_FREE_BYTE, *writes[i].byte);
        *writes[i].byte = 0;
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_ERR_WRITE_AFTER_FREE, alloc_heap_check(fx.heap));
        if (reported_once_at(reports, ALLOC_ERR_WRITE_AFTER_FREE, writes[i].block) != 0)
            return 1;
        *writes[i].byte = ALLOC_POISON_FREE_BYTE;
        ASSERT_HEAP_OK(fx.heap);
    }
    return 0;
}

/* Bytes [from, to) of p all read `byte`. */
static bool all_bytes(const unsigned char *p, size_t from, size_t to, unsigned char byte) {
    for (size_t i = from; i < to; i++) {
        if (p[i] != byte)
            return false;
    }
    return true;
}

/*
 * Poison on alloc through a realloc that grows in place: B into its freed neighbour C (C's bytes
 * 0x07, and its free-list links), and A, the heap's last block, into the free space after it.
 *   | B | (C) | E | A | (free) |  ->  | B ............ | E | A .............. | (free) |
 * Expect the same pointers, their old bytes kept, and every byte past the old usable size reading
 * ALLOC_POISON_ALLOC_BYTE, as in a block just allocated or a realloc that moves: not what the
 * space held before.
 */
static int realloc_poison_check(void) {
    fixture_reset(HEAP_SIZE, ALLOC_FLAG_POISON_ON_ALLOC);
    unsigned char *b = alloc_malloc(fx.heap, BIG), *c = alloc_malloc(fx.heap, BIG);
    unsigned char *e = alloc_malloc(fx.heap, 100), *a = alloc_malloc(fx.heap, 100);
    ASSERT_TRUE(b != NULL && c != NULL && e != NULL && a != NULL);
    memset(c, 7, BIG);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
    unsigned char *grown[] = {b, a};
    const size_t sizes[] = {BIG + BIG / 2, 3000};
    for (size_t i = 0; i < sizeof(grown) / sizeof(grown[0]); i++) {
        size_t old = alloc_usable_size(fx.heap, grown[i]);
        memset(grown[i], 1, old);
        unsigned char *q = alloc_realloc(fx.heap, grown[i], sizes[i]);
        ASSERT_TRUE(q == grown[i]);
        ASSERT_HEAP_OK(fx.heap);
        size_t now = alloc_usable_size(fx.heap, q);
        ASSERT_TRUE(now >= sizes[i]);
        ASSERT_TRUE(all_bytes(q, 0, old, 1));
        ASSERT_TRUE(all_bytes(q, old, now, ALLOC_POISON_ALLOC_BYTE));
    }
    return 0;
}

/*
 *   | A 112 | B 2000 | C 112 | (tail) |   then free B, then free A   (32-bit: 104, 2008, 104)
 * Expect the walk to list the blocks in address order with their usable sizes and states: B
 * free; A then quick-listed (TLSF with quick lists) or merged with B into one free block.
 */
static int walk_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    void *a = alloc_malloc(fx.heap, 100), *b = alloc_malloc(fx.heap, BIG);
    void *c = alloc_malloc(fx.heap, 100);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    struct walked_block w[8];
    ASSERT_EQ(4, fixture_walk(w, 8));
    size_t small = usable_for(100), big = usable_for(BIG);
    ASSERT_TRUE(w[0].payload == a && w[0].size == small && w[0].state == ALLOC_BLOCK_USED);
    ASSERT_TRUE(w[1].payload == b && w[1].size == big && w[1].state == ALLOC_BLOCK_FREE);
    ASSERT_TRUE(w[2].payload == c && w[2].size == small && w[2].state == ALLOC_BLOCK_USED);
    ASSERT_EQ(ALLOC_BLOCK_FREE, w[3].state);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    if (fixture_quick()) {
        ASSERT_EQ(4, fixture_walk(w, 8));
        ASSERT_EQ(ALLOC_BLOCK_QUICK, w[0].state);
    } else {
        ASSERT_EQ(3, fixture_walk(w, 8));
        ASSERT_TRUE(w[0].payload == a && w[0].size == small + ALLOC_BLOCK_OVERHEAD + big);
        ASSERT_EQ(ALLOC_BLOCK_FREE, w[0].state);
    }
    return 0;
}

/* Counts the blocks alloc_heap_walk() calls it for, in the size_t at ctx. */
static void count_walked(void *ctx, void *payload, size_t usable_size,
                         enum alloc_block_state state) {
    (void)payload;
    (void)usable_size;
    (void)state;
    (*(size_t *)ctx)++;
}

/*
 *   | A | B (check bits of its size word flipped) | C | (free) |
 * Expect the walk to call fn for A alone, then stop with ALLOC_ERR_CORRUPTED_HEADER and report
 * nothing, where alloc_heap_check reports it through the hook; restored, the walk sees all four.
 */
static int walk_corrupted_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, BIG), *b = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(a != NULL && b != NULL && alloc_malloc(fx.heap, BIG) != NULL);
    hword_t *b_hdr = (hword_t *)(b - HDR);
    hword_t b_size = b_hdr[1];
    b_hdr[1] ^= TAG_MASK;
    size_t seen = 0;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_walk(fx.heap, count_walked, &seen));
    ASSERT_EQ(1, seen);
    ASSERT_EQ(0, fx.reports);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_check(fx.heap));
    ASSERT_EQ(1, fx.reports);
    b_hdr[1] = b_size;
    ASSERT_HEAP_OK(fx.heap);
    struct walked_block w[8];
    ASSERT_EQ(4, fixture_walk(w, 8));
    ASSERT_TRUE(w[0].payload == a && w[1].payload == b);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* strategy-specific */

/*
 *   | S1 (free, 8000) | U1 | S2 (free, 2000) | U2 | (tail) |   request 1500
 * Expect first fit to take the lowest block that fits (S1), TLSF to take the smallest size
 * class that fits (S2).
 */
static int fit_policy_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    void *s1 = alloc_malloc(fx.heap, 8000), *u1 = alloc_malloc(fx.heap, 100);
    void *s2 = alloc_malloc(fx.heap, BIG), *u2 = alloc_malloc(fx.heap, 100);
    ASSERT_TRUE(u1 != NULL && u2 != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, s1));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, s2));
    void *p = alloc_malloc(fx.heap, 1500);
    ASSERT_HEAP_OK(fx.heap);
    if (fx.variant->strategy == ALLOC_STRATEGY_FIRST_FIT)
        ASSERT_TRUE(p == s1);
    else
        ASSERT_TRUE(p == s2);
    return 0;
}

/*
 * The free block that ends fx.heap (NULL if the last block is not free) is `b`, and it is what a
 * TLSF heap keeps apart as the top block with TOP_BLOCK; without, it is on its list (no top).
 */
static bool ends_heap_free(const block_t *b) {
    const block_t *end = blk_at(fx.heap->end);
    const block_t *last_free = blk_prev_free(end) ? blk_prev(end) : NULL;
    return last_free == b && tlsf_of(fx.heap)->top == (TOP_BLOCK ? b : NULL);
}

/*
 * TLSF top block: the free block that ends the heap is kept off the lists and used last. (A build
 * without TOP_BLOCK files that block on its list like any other: the same blocks are served, grown
 * and merged, through the lists, and a top pointer that is not NULL is reported.)
 *   fresh:         | (top)                                        | END |   lists empty
 *   A, B, C, D:    | A | B | C | D | (top)                        | END |
 *   free A, C:     | (A) | B | (C) | D | (top)                    | END |   A, C on lists
 * Expect a request that C can hold to be served from C, not the top; D to grow in place into the
 * top without touching a list; the block carved from C to grow in place into the rest of C (a
 * list block); freeing D to merge it, with the rest of C before it, into the top. A top pointer
 * that is NULL, or that points at a live block, is reported as CORRUPTED_FREE_LIST by the integrity
 * check; an allocation that needs the top then returns NULL, reports once and changes nothing: a
 * NULL top (a lost top block, heap.h: the END marker says the block before it is free) is damage
 * of the control structure, ALLOC_ERR_CORRUPTED_HEAP at the pointer (tlsf.c, no_block); a top at a
 * live block is CORRUPTED_FREE_LIST at that block. Freeing everything leaves one free block, the
 * top.
 */
static int top_block_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF)
        SKIP_CHECK("only TLSF keeps a top block");
    fixture_reset(HEAP_SIZE, 0);
    struct tlsf_state *t = tlsf_of(fx.heap);
    ASSERT_TRUE(ends_heap_free(blk_at(fx.heap->first)));
    ASSERT_EQ(TOP_BLOCK, t->fl_map == 0);
    ASSERT_EQ(fresh_free(HEAP_SIZE), blk_size(blk_at(fx.heap->first)) - ALLOC_BLOCK_OVERHEAD);
    unsigned char *a = alloc_malloc(fx.heap, BIG), *b = alloc_malloc(fx.heap, BIG);
    unsigned char *c = alloc_malloc(fx.heap, BIG), *d = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(d != NULL);
    ASSERT_EQ(TOP_BLOCK, t->fl_map == 0);
    ASSERT_TRUE(ends_heap_free(blk_at((uintptr_t)d + usable_for(BIG))));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(t->fl_map != 0);
    ASSERT_EQ(3, stats().free_blocks);

    unsigned char *freed_c = c;
    a = alloc_malloc(fx.heap, BIG / 2); /* C's list is A's, and C went on it last */
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(a == freed_c);

    fixture_fill(d, BIG, 4);
    block_t *top_before = blk_at((uintptr_t)d + usable_for(BIG));
    ASSERT_TRUE(alloc_realloc(fx.heap, d, 3 * BIG) == d);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(fixture_pattern_ok(d, BIG, 4));
    ASSERT_TRUE(ends_heap_free(blk_at((uintptr_t)top_before + 2 * BIG)));

    fixture_fill(a, BIG / 2, 5);
    ASSERT_TRUE(alloc_realloc(fx.heap, a, BIG - 500) == a);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(fixture_pattern_ok(a, BIG / 2, 5));

    struct alloc_stats before = stats();
    block_t *top = t->top;
    if (TOP_BLOCK) {
        t->top = NULL;
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_heap_check(fx.heap));
        size_t reports = fx.reports;
        ASSERT_TRUE(alloc_malloc(fx.heap, 8 * BIG) == NULL);
        if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, &t->top) != 0)
            return 1;
    }
    t->top = blk_from_payload(d);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_heap_check(fx.heap));
    if (TOP_BLOCK) {
        size_t reports = fx.reports;
        ASSERT_TRUE(alloc_malloc(fx.heap, 8 * BIG) == NULL);
        if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, blk_from_payload(d)) != 0)
            return 1;
    }
    t->top = top;
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(stats_unchanged(&before));

    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, d));
    ASSERT_HEAP_OK(fx.heap);
    block_t *rest_of_c = blk_at((uintptr_t)a + usable_for(BIG - 500));
    ASSERT_TRUE(ends_heap_free(rest_of_c));
    ASSERT_EQ(fx.heap->end, (uintptr_t)rest_of_c + blk_size(rest_of_c));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(1, stats().free_blocks);
    ASSERT_TRUE(ends_heap_free(blk_at(fx.heap->first)));
    ASSERT_EQ(TOP_BLOCK, t->fl_map == 0);
    return 0;
}

/*
 * TLSF quick lists: free two 64-byte neighbours; a request of the same size reuses the last
 * freed (LIFO) without merging; when a large request cannot be met otherwise, the quick blocks
 * are merged back. R takes the whole rest of the heap (its largest free block):
 *   | A | B | R | END |  free A, free B  ->  | [A] | [B] | R | END |
 * Expect the two quick blocks to be the heap's only free blocks (free_blocks 2, their bytes
 * bytes_free and one of them largest_free); malloc(64) == B; with B freed again, a request of the
 * whole A + B span (both payloads and B's header) to succeed at A, leaving no free block.
 */
static int quick_lists_check(void) {
    if (!fixture_quick() || fixture_runs())
        SKIP_CHECK("this variant has no quick lists for 64-byte requests");
    size_t size = 8192;
    fixture_reset(size, 0);
    unsigned char *a = alloc_malloc(fx.heap, 64), *b = alloc_malloc(fx.heap, 64);
    void *rest = alloc_malloc(fx.heap, stats().largest_free);
    ASSERT_TRUE(rest != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_HEAP_OK(fx.heap);
    struct alloc_stats s = stats();
    ASSERT_EQ(2, s.free_blocks);
    ASSERT_EQ(usable_for(64), s.largest_free);
    ASSERT_EQ(2 * usable_for(64), s.bytes_free);
    ASSERT_TRUE(alloc_malloc(fx.heap, 64) == b);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    void *big = alloc_malloc(fx.heap, 2 * usable_for(64) + ALLOC_BLOCK_OVERHEAD);
    ASSERT_TRUE(big == a);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(0, stats().free_blocks);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* locked heap */

/*
 * The locked heap with a counting lock.
 * Expect every operation (a batch allocation too) but free(NULL) to take and release the lock
 * exactly once, never nested; a report to be counted in reports and passed to the caller's hook;
 * an empty (zeroed) locked heap to return NULL / 0 / ALLOC_ERR_NULL_HEAP from every call without
 * touching a lock; init with a missing or incomplete lock (no release, no acquire) to fail with
 * ALLOC_ERR_BAD_CONFIG, and an init that fails to leave the heap empty; init with no config to give
 * the defaults (TLSF), where a report is counted with no caller's hook to call.
 */
static int locked_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    struct counting_lock cl = {0};
    struct alloc_lock lock = {
        .acquire = counting_lock_acquire, .release = counting_lock_release, .ctx = &cl};
    struct alloc_config cfg = {
        .strategy = fx.variant->strategy, .flags = fx.variant->flags, .error_hook = fixture_hook};
    struct alloc_locked_heap lh;

    struct alloc_lock half = {.acquire = counting_lock_acquire, .release = NULL, .ctx = &cl};
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG, alloc_locked_init(&lh, fx.region, HEAP_SIZE, &cfg, &half));
    ASSERT_TRUE(lh.heap == NULL);
    ASSERT_TRUE(alloc_locked_malloc(&lh, 10) == NULL);
    ASSERT_EQ(0, cl.acquired);

    ASSERT_EQ(ALLOC_OK, alloc_locked_init(&lh, fx.region, HEAP_SIZE, &cfg, &lock));
    void *p = alloc_locked_malloc(&lh, 100);
    void *q = alloc_locked_allocate(&lh, 100, 128);
    void *z = alloc_locked_calloc(&lh, 10, 10);
    void *batch[3];
    ASSERT_EQ(3, alloc_locked_allocate_batch(&lh, 40, batch, 3));
    ASSERT_TRUE(p != NULL && q != NULL && z != NULL);
    ASSERT_EQ(0, (uintptr_t)q % 128);
    for (size_t i = 0; i < 3; i++)
        ASSERT_EQ(ALLOC_OK, alloc_locked_free(&lh, batch[i]));
    p = alloc_locked_realloc(&lh, p, 1000);
    ASSERT_TRUE(p != NULL);
    ASSERT_TRUE(alloc_locked_usable_size(&lh, p) >= 1000);
    struct alloc_stats s;
    alloc_locked_stats(&lh, &s);
    ASSERT_EQ(3, s.live_allocations);
    ASSERT_EQ(ALLOC_OK, alloc_locked_check(&lh));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&lh, p));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&lh, q));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&lh, z));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&lh, NULL));
    /* A report is counted by the locked heap and reaches the caller's hook. */
    ASSERT_EQ(0, lh.reports);
    size_t reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_locked_free(&lh, z));
    ASSERT_EQ(1, lh.reports);
    ASSERT_EQ(reports + 1, fx.reports);
    ASSERT_EQ(ALLOC_ERR_REGION_TOO_SMALL, alloc_locked_extend(&lh, 8));
    ASSERT_EQ(16, cl.acquired); /* 16 operations: free(NULL) returns before locking */
    ASSERT_EQ(16, cl.released);
    ASSERT_FALSE(cl.misuse);
    ASSERT_FALSE(cl.held);

    struct alloc_locked_heap empty = {0};
    ASSERT_TRUE(alloc_locked_malloc(&empty, 8) == NULL);
    ASSERT_TRUE(alloc_locked_allocate(&empty, 8, 64) == NULL);
    ASSERT_TRUE(alloc_locked_calloc(&empty, 2, 8) == NULL);
    ASSERT_TRUE(alloc_locked_realloc(&empty, NULL, 8) == NULL);
    ASSERT_TRUE(alloc_locked_realloc(&empty, p, 8) == NULL);
    ASSERT_EQ(0, alloc_locked_usable_size(&empty, p));
    ASSERT_EQ(0, alloc_locked_allocate_batch(&empty, 8, batch, 3));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&empty, NULL));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_locked_free(&empty, p));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_locked_extend(&empty, 4096));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_locked_check(&empty));
    alloc_locked_stats(&empty, &s);
    ASSERT_EQ(0, s.region_size);

    /* No locked heap at all is empty as well. */
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_locked_init(NULL, fx.region, HEAP_SIZE, &cfg, &lock));
    ASSERT_TRUE(alloc_locked_malloc(NULL, 8) == NULL);
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_locked_free(NULL, p));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_locked_check(NULL));

    /* A failed init, for want of a lock or of a good region, leaves a heap empty too. */
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG, alloc_locked_init(&lh, fx.region, HEAP_SIZE, &cfg, NULL));
    ASSERT_TRUE(lh.heap == NULL);
    ASSERT_EQ(ALLOC_OK, alloc_locked_init(&lh, fx.region, HEAP_SIZE, &cfg, &lock));
    ASSERT_EQ(ALLOC_ERR_MISALIGNED_REGION,
              alloc_locked_init(&lh, fx.region + 8, HEAP_SIZE, &cfg, &lock));
    ASSERT_TRUE(lh.heap == NULL);
    ASSERT_TRUE(alloc_locked_malloc(&lh, 8) == NULL);
    ASSERT_EQ(16, cl.acquired);

    /* A lock missing its acquire is incomplete too. */
    struct alloc_lock no_acquire = {.acquire = NULL, .release = counting_lock_release, .ctx = &cl};
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG,
              alloc_locked_init(&lh, fx.region, HEAP_SIZE, &cfg, &no_acquire));
    ASSERT_TRUE(lh.heap == NULL);
    /* No config: the defaults, with no hook of the caller's; a report is still counted. */
    size_t reports_before = fx.reports;
    ASSERT_EQ(ALLOC_OK, alloc_locked_init(&lh, fx.region, HEAP_SIZE, NULL, &lock));
    ASSERT_EQ(ALLOC_STRATEGY_TLSF, alloc_heap_strategy(lh.heap));
    void *once = alloc_locked_malloc(&lh, 100);
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&lh, once));
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_locked_free(&lh, once));
    ASSERT_EQ(1, lh.reports);
    ASSERT_EQ(reports_before, fx.reports);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* hostile input: each of these once broke the heap's promises */

/* [a, a + an) and [b, b + bn) overlap. */
static bool overlaps(const void *a, size_t an, const void *b, size_t bn) {
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y + bn && y < x + an;
}

/*
 * Twenty free blocks of one size class, separated by live 100-byte blocks (blocks on every
 * variant: above ALLOC_RUN_MAX_SIZE, so no run slots), the largest (F19) freed first (so it is last
 * in a LIFO list), and the rest of the heap in use:
 *   | ctrl | F0 | s | F1 | s | ... | F19 | s | rest (used) | END |
 * Expect stats.largest_free to be F19's payload and alloc_allocate(heap, largest_free, 16) to
 * return it: the largest free block can always be requested exactly.
 */
static int largest_free_exact_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    enum { N = 20 };
    void *big[N], *sep[N];
    for (unsigned i = 0; i < N; i++) {
        /*
         * One size class holds blocks of 2176 to 2303 bytes: 2208 bytes (2192 on a 32-bit
         * target), the last 2272 bytes.
         */
        big[i] = alloc_malloc(fx.heap, i + 1 < N ? 2180 : 2256);
        sep[i] = alloc_malloc(fx.heap, 100);
        ASSERT_TRUE(big[i] != NULL && sep[i] != NULL);
        ASSERT_TRUE((char *)sep[i] ==
                    (char *)big[i] + usable_for(i + 1 < N ? 2180 : 2256) + ALLOC_BLOCK_OVERHEAD);
        ASSERT_HEAP_OK(fx.heap);
    }
    void *rest = alloc_malloc(fx.heap, stats().largest_free);
    ASSERT_TRUE(rest != NULL);
    ASSERT_HEAP_OK(fx.heap);
    for (unsigned i = N; i-- > 0;) {
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, big[i]));
        ASSERT_HEAP_OK(fx.heap);
    }
    struct alloc_stats s = stats();
    ASSERT_EQ(N, s.free_blocks);
    ASSERT_EQ(usable_for(2256), s.largest_free);
    void *p = alloc_allocate(fx.heap, s.largest_free, ALLOC_ALIGNMENT);
    ASSERT_TRUE(p == big[N - 1]);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * The list of largest_free_exact_check, its head F0 damaged as a stray write into a free payload
 * would: F0's prev link (the second word of its payload) made to point at F5.
 * Expect alloc_heap_stats to report nothing and to leave the list as it is (it moves the largest
 * block to the head only behind a head that a block may be filed before; a build for size trusts
 * its heads and moves it, writing F0's link); once the link is put back, the heap to check whole
 * with 20 free blocks, and the largest, found again by a second stats, to be requested exactly.
 */
static int largest_free_damaged_head_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF)
        SKIP_CHECK("only TLSF moves the largest block to its list's head");
    fixture_reset(HEAP_SIZE, 0);
    enum { N = 20 };
    void *big[N];
    for (unsigned i = 0; i < N; i++) {
        big[i] = alloc_malloc(fx.heap, i + 1 < N ? 2180 : 2256);
        ASSERT_TRUE(big[i] != NULL && alloc_malloc(fx.heap, 100) != NULL);
    }
    ASSERT_TRUE(alloc_malloc(fx.heap, stats().largest_free) != NULL);
    for (unsigned i = N; i-- > 0;)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, big[i]));
    ASSERT_HEAP_OK(fx.heap);
    void **f0_links = big[0];
    ASSERT_TRUE(f0_links[1] == NULL); /* F0 heads its list: no predecessor */
    f0_links[1] = big[5];
    size_t reports = fx.reports;
    struct alloc_stats s = stats();
    ASSERT_EQ(reports, fx.reports);
    ASSERT_EQ(usable_for(2256), s.largest_free);
    if (ALLOC_FAST_PATHS) {
        ASSERT_TRUE(f0_links[1] == big[5]); /* the list as it was */
        f0_links[1] = NULL;
    } else {
        /* A build for size trusts its heads: the largest block moved in front of F0. */
        ASSERT_TRUE(f0_links[1] == (char *)big[N - 1] - ALLOC_BLOCK_OVERHEAD);
    }
    ASSERT_HEAP_OK(fx.heap);
    s = stats();
    ASSERT_EQ(N, s.free_blocks);
    ASSERT_TRUE(alloc_allocate(fx.heap, s.largest_free, ALLOC_ALIGNMENT) == big[N - 1]);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A grows by realloc into B, freed a moment before (onto a quick list where there is one), with
 * the rest of the heap in use:  | ctrl | A | [B] | rest (used) | END |
 * Expect realloc(A, 200) to succeed in place at the first call.
 */
static int realloc_into_quick_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 100), *b = alloc_malloc(fx.heap, 100);
    void *rest = alloc_malloc(fx.heap, stats().largest_free);
    ASSERT_TRUE(a != NULL && b != NULL && rest != NULL);
    fixture_fill(a, 100, 3);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    void *q = alloc_realloc(fx.heap, a, 200);
    ASSERT_TRUE(q == a);
    ASSERT_TRUE(fixture_pattern_ok(q, 100, 3));
    ASSERT_TRUE(alloc_usable_size(fx.heap, q) >= 200);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * alloc_heap_check() with the n bytes at p put back to saved[0..n) for the time of the check, the
 * damage then written again: ALLOC_OK says that nothing but those bytes is wrong with the heap.
 */
static enum alloc_error check_without_damage(void *p, const void *saved, size_t n) {
    unsigned char damage[2 * ALLOC_BLOCK_OVERHEAD];
    if (n > sizeof(damage))
        abort();
    memcpy(damage, p, n);
    memcpy(p, saved, n);
    enum alloc_error e = alloc_heap_check(fx.heap);
    memcpy(p, damage, n);
    return e;
}

/*
 * The heap after damage to the n bytes at p (saved[0..n) their bytes before): the check reports
 * ALLOC_ERR_CORRUPTED_HEADER at `at`, once, and finds the heap intact with the bytes put back.
 * With n 0 (a write that changed nothing) nothing is damaged: the heap is intact. Returns 0, or 1
 * after printing the assertion that failed.
 */
static int only_damaged(const void *at, void *p, const void *saved, size_t n) {
    if (n == 0) {
        ASSERT_HEAP_OK(fx.heap);
        return 0;
    }
    size_t reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_check(fx.heap));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, at) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, check_without_damage(p, saved, n));
    return 0;
}

/* only_damaged for the header hdr, whose bytes were saved. */
static int only_header_damaged(block_t *hdr, const block_t *saved) {
    return only_damaged(hdr, hdr, saved, sizeof(*saved));
}

/*
 * The steps after a freed A's state was flipped back to "in use" (the n damaged bytes at p, saved[]
 * their bytes before; the check reports the damage at `at`), shared by the block's and the run
 * slot's case: A freed again, refused with `error` reported once at A; two allocations of A's
 * size, each a block or NULL with the damage reported, neither A nor one another, neither
 * overlapping B; the damage still alone after each step. Then the bytes put back, x, y and B freed,
 * the heap intact and empty. Returns 0, or 1 after printing the assertion that failed.
 */
static int second_free_refused(unsigned char *a, unsigned char *b, size_t size,
                               enum alloc_error error, const void *at, void *p, const void *saved,
                               size_t n) {
    size_t reports = fx.reports;
    ASSERT_EQ(error, alloc_free(fx.heap, a));
    if (reported_once_at(reports, error, a) != 0)
        return 1;
    if (only_damaged(at, p, saved, n) != 0)
        return 1;
    reports = fx.reports;
    unsigned char *x = alloc_malloc(fx.heap, size);
    ASSERT_TRUE(x != NULL || fx.reports > reports); /* a NULL is the damage, reported */
    if (only_damaged(at, p, saved, n) != 0)
        return 1;
    reports = fx.reports;
    unsigned char *y = alloc_malloc(fx.heap, size);
    ASSERT_TRUE(y != NULL || fx.reports > reports);
    if (only_damaged(at, p, saved, n) != 0)
        return 1;
    ASSERT_TRUE(x == NULL || y == NULL || x != y);
    ASSERT_TRUE(x != a && y != a);
    ASSERT_FALSE(x != NULL && overlaps(x, size, b, size));
    ASSERT_FALSE(y != NULL && overlaps(y, size, b, size));
    memcpy(p, saved, n);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, x));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, y));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(0, stats().live_allocations);
    return 0;
}

/*
 * A freed block whose header then has one bit of its state flipped (each bit in turn), freed
 * again; A 100 bytes (quick-listed where there are quick lists) and BIG (on a free list), a block
 * on every variant (runs_double_free_state_flip_check has the run slot's case):
 *   | ctrl | A (freed, state bit flipped) | B | (free) | END |
 * Expect the check to report A's header after the flip and after each step that follows, with the
 * heap intact once the bit is put back; the second free refused with ALLOC_ERR_CORRUPTED_HEADER,
 * reported once; the next two allocations of A's size distinct blocks that are not A (damaged) and
 * do not overlap B, or NULL with the damage reported; and, the bit put back, every block freed and
 * the heap intact.
 */
static int double_free_state_flip_check(void) {
    static const size_t sizes[] = {100, BIG};
    for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t n = sizes[si];
        for (unsigned bit = 0; bit < 8 * sizeof(hword_t); bit++) {
            if (((STATE_MASK >> bit) & 1u) == 0)
                continue;
            fixture_reset(HEAP_SIZE, 0);
            unsigned char *a = alloc_malloc(fx.heap, n), *b = alloc_malloc(fx.heap, n);
            ASSERT_TRUE(a != NULL && b != NULL);
            ASSERT_HEAP_OK(fx.heap);
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
            ASSERT_HEAP_OK(fx.heap);
            block_t *ha = blk_from_payload(a);
            block_t saved = *ha;
            ha->size ^= (hword_t)1 << bit;
            if (only_header_damaged(ha, &saved) != 0)
                return 1;
            if (second_free_refused(a, b, n, ALLOC_ERR_CORRUPTED_HEADER, ha, ha, &saved,
                                    sizeof(saved)) != 0)
                return 1;
        }
    }
    return 0;
}

/*
 * Writes n bytes of `pattern` past block (or slot) a, of au usable bytes, into the header of F, a
 * freed block of BIG bytes at f that follows, with B live after F:
 *   | ... A |xx F (free) | B | rest (free) | END |
 * Expect the check to report F's header after the write and after each allocation that follows
 * (with the heap intact once the damaged bytes are put back), and no allocation to overlap A, B or
 * an earlier one: each succeeds (F itself where only its prev word, A's boundary tag, is damaged)
 * or fails with the damage reported; and, the bytes put back, every block freed and the heap
 * intact. Returns 0, or 1 after printing the assertion that failed.
 */
static int overrun_into_free(unsigned char *a, size_t au, unsigned char *f, unsigned char *b,
                             unsigned char pattern, size_t n) {
    unsigned char *hf = (unsigned char *)blk_from_payload(f);
    ASSERT_TRUE(a + au == hf && n <= sizeof(block_t));
    ASSERT_TRUE(b == f + usable_for(BIG) + ALLOC_BLOCK_OVERHEAD); /* F (freed) of BIG bytes */
    unsigned char saved[sizeof(block_t)];
    memcpy(saved, hf, n);
    memset(hf, pattern, n);
    /*
     * The damage: the bytes [lo, hi) from the first to the last that the write changed. Only those
     * are put back for a check (check_without_damage): the allocator may rewrite the header's
     * words that the write left as they were (handing F out). A write that changed nothing
     * damages nothing: the heap must then stay intact (only_damaged of no bytes).
     */
    size_t lo = 0, hi = n;
    while (lo < n && hf[lo] == saved[lo])
        lo++;
    while (hi > lo && hf[hi - 1] == saved[hi - 1])
        hi--;
    if (only_damaged(hf, hf + lo, saved + lo, hi - lo) != 0)
        return 1;
    static const size_t sizes[] = {BIG, 64, BIG / 2, 4000, BIG};
    enum { K = sizeof(sizes) / sizeof(sizes[0]) };
    void *got[K];
    for (size_t i = 0; i < K; i++) {
        size_t reports = fx.reports;
        got[i] = alloc_malloc(fx.heap, sizes[i]);
        /* A NULL is the damage found: reported. */
        ASSERT_TRUE(got[i] != NULL || fx.reports > reports);
        if (only_damaged(hf, hf + lo, saved + lo, hi - lo) != 0)
            return 1;
        if (got[i] == NULL)
            continue;
        ASSERT_FALSE(overlaps(got[i], sizes[i], a, au));
        ASSERT_FALSE(overlaps(got[i], sizes[i], b, alloc_usable_size(fx.heap, b)));
        for (size_t j = 0; j < i; j++)
            ASSERT_FALSE(got[j] != NULL && overlaps(got[i], sizes[i], got[j], sizes[j]));
    }
    memcpy(hf + lo, saved + lo, hi - lo);
    ASSERT_HEAP_OK(fx.heap);
    for (size_t i = 0; i < K; i++)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, got[i]));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/* The write patterns of the overrun checks. */
static const unsigned char overrun_patterns[] = {0xf2, 0x22, 0x02, 0x41, 0xff, 0x00};

/*
 * A client writes 1 to 16 bytes (1 to 8 on a 32-bit target: the header's size) in several
 * patterns past its block A, 100 bytes (a block on every variant), into the header of the free
 * block F that follows (overrun_into_free; runs_overrun_into_free_check has a run's last slot):
 *   | ctrl | A |xx F (free) | B | rest (free) | END |
 */
static int overrun_into_free_check(void) {
    for (size_t pi = 0; pi < sizeof(overrun_patterns); pi++) {
        for (size_t n = 1; n <= sizeof(block_t); n++) {
            fixture_reset(HEAP_SIZE, 0);
            unsigned char *a = alloc_malloc(fx.heap, 100), *f = alloc_malloc(fx.heap, BIG);
            unsigned char *b = alloc_malloc(fx.heap, 100);
            ASSERT_TRUE(a != NULL && f != NULL && b != NULL);
            ASSERT_HEAP_OK(fx.heap);
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, f));
            ASSERT_HEAP_OK(fx.heap);
            if (overrun_into_free(a, alloc_usable_size(fx.heap, a), f, b, overrun_patterns[pi],
                                  n) != 0) {
                fprintf(stderr, "  ^ %zu bytes of %#x\n", n, overrun_patterns[pi]);
                return 1;
            }
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
            ASSERT_HEAP_OK(fx.heap);
            ASSERT_EQ(0, stats().live_allocations);
        }
    }
    return 0;
}

/*
 * A heap re-initialised over the same region, then handed pointers to blocks of the earlier
 * heap:  before: | ctrl | A | B | (free) |      after re-init: | ctrl | A' | (free ...) |
 * A stale A is indistinguishable from the live A' at the same address, so the check is on B,
 * which the new heap has not handed out although B's old header is still there, intact.
 * Expect B to be refused by free, usable_size and realloc, the new heap intact, and the heap's
 * instance (alloc_heap_instance) changed by the re-init.
 */
static int stale_pointer_after_reinit_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    void *a = alloc_malloc(fx.heap, 200), *b = alloc_malloc(fx.heap, 300);
    ASSERT_TRUE(a != NULL && b != NULL);
    uintptr_t instance = alloc_heap_instance(fx.heap);
    ASSERT_EQ(instance, alloc_heap_instance(fx.heap)); /* constant between inits */
    alloc_heap *h;
    struct alloc_config config = {.strategy = fx.variant->strategy, .error_hook = fixture_hook};
    ASSERT_EQ(ALLOC_OK, alloc_heap_init(&h, fx.region, fx.size, &config));
    ASSERT_TRUE(h == fx.heap);
    ASSERT_NE(instance, alloc_heap_instance(h)); /* what layers on the heap key their checks by */
    void *a2 = alloc_malloc(h, 100); /* smaller: B's old header stays inside a free block */
    ASSERT_TRUE(a2 == a);
    /* B's old header is still in the region, intact, but sealed with the earlier secret. */
    size_t reports = fx.reports;
    ASSERT_NE(ALLOC_OK, alloc_free(h, b));
    ASSERT_EQ(0, alloc_usable_size(h, b));
    ASSERT_TRUE(alloc_realloc(h, b, 10) == NULL);
    ASSERT_TRUE(fx.reports >= reports + 3);
    ASSERT_HEAP_OK(h);
    ASSERT_EQ(ALLOC_OK, alloc_free(h, a2));
    ASSERT_HEAP_OK(h);
    return 0;
}

/*
 * A heap nested in a block A of another, A freed (the outer heap's free writes its links over the
 * inner heap's magic, but not over the word of its secret), had again at the same address and a
 * heap initialised there again:
 *   | ctrl | A: [ inner ctrl | X | Y | (free) ] |  ->  free A, A' = malloc: A' == A, re-init inner
 * Expect Y, a block of the earlier inner heap whose header is still there, intact, to be refused
 * by the new inner heap, and two blocks of it not to overlap. (With the secret derived from the
 * address alone where the magic was gone, Y was freed without a report, and the next two blocks
 * overlapped.)
 */
static int stale_pointer_after_nested_reinit_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    enum { INNER = 16384 };
    unsigned char *a = alloc_malloc(fx.heap, INNER);
    ASSERT_TRUE(a != NULL && alloc_malloc(fx.heap, 100) != NULL); /* A merges with nothing */
    alloc_heap *inner;
    struct alloc_config config = {.strategy = fx.variant->strategy, .error_hook = fixture_hook};
    ASSERT_EQ(ALLOC_OK, alloc_heap_init(&inner, a, INNER, &config));
    ASSERT_TRUE(alloc_malloc(inner, 300) != NULL);
    void *y = alloc_malloc(inner, 300);
    ASSERT_TRUE(y != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_TRUE(alloc_malloc(fx.heap, INNER) == a);
    ASSERT_EQ(ALLOC_OK, alloc_heap_init(&inner, a, INNER, &config));
    size_t reports = fx.reports;
    ASSERT_NE(ALLOC_OK, alloc_free(inner, y));
    ASSERT_EQ(reports + 1, fx.reports);
    unsigned char *p = alloc_malloc(inner, 300), *q = alloc_malloc(inner, 2000);
    ASSERT_TRUE(p != NULL && q != NULL);
    ASSERT_TRUE(p + alloc_usable_size(inner, p) <= q || q + alloc_usable_size(inner, q) <= p);
    ASSERT_EQ(ALLOC_OK, alloc_heap_check(inner));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A heap nested inside a block of another:  | ctrl | A: [ inner ctrl | X | (free) ] | (free) |
 * Expect the outer heap to refuse X (a real block, but of the inner heap) without changing
 * anything, and the inner heap to refuse A.
 */
static int nested_heap_pointer_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 8192);
    ASSERT_TRUE(a != NULL);
    alloc_heap *inner;
    struct alloc_config config = {.strategy = fx.variant->strategy, .error_hook = fixture_hook};
    ASSERT_EQ(ALLOC_OK, alloc_heap_init(&inner, a, 8192, &config));
    void *x = alloc_malloc(inner, 64);
    ASSERT_TRUE(x != NULL);
    struct alloc_stats before = stats();
    size_t reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, alloc_free(fx.heap, x));
    ASSERT_TRUE(alloc_realloc(fx.heap, x, 100000) == NULL);
    ASSERT_EQ(0, alloc_usable_size(fx.heap, x));
    ASSERT_EQ(reports + 3, fx.reports);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, alloc_free(inner, a));
    ASSERT_EQ(ALLOC_OK, alloc_heap_check(inner));
    ASSERT_EQ(ALLOC_OK, alloc_free(inner, x));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * Requests refused by their size alone: a batch of SIZE_MAX and of SIZE_MAX - 15 bytes, calloc of
 * one element of SIZE_MAX bytes (no product to overflow), on every variant.
 * Expect 0 blocks and NULL, nothing reported, the heap as it was.
 */
static int size_alone_refused_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    struct alloc_stats before = stats();
    void *out[2] = {NULL, NULL};
    ASSERT_EQ(0, alloc_allocate_batch(fx.heap, SIZE_MAX, out, 2));
    ASSERT_EQ(0, alloc_allocate_batch(fx.heap, SIZE_MAX - 15, out, 2));
    ASSERT_TRUE(out[0] == NULL && out[1] == NULL);
    ASSERT_TRUE(alloc_calloc(fx.heap, 1, SIZE_MAX) == NULL);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_EQ(0, fx.reports);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * calloc on a heap told its region is zero (ALLOC_FLAG_ZEROED_REGION): a block of BIG bytes from
 * calloc filled with 0xab and freed, then calloc of the same size again.
 * Expect every usable byte of the second block zero, wherever it lies: bytes handed out once are
 * cleared however often they come back (the watermark is raised past them).
 */
static int calloc_again_zero_check(void) {
    fixture_reset(HEAP_SIZE, ALLOC_FLAG_ZEROED_REGION);
    unsigned char *a = alloc_calloc(fx.heap, 1, BIG);
    ASSERT_TRUE(a != NULL);
    memset(a, 0xab, alloc_usable_size(fx.heap, a));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    unsigned char *b = alloc_calloc(fx.heap, 1, BIG);
    ASSERT_TRUE(b != NULL);
    size_t usable = alloc_usable_size(fx.heap, b);
    for (size_t i = 0; i < usable; i++)
        ASSERT_EQ(0, b[i]);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A fresh heap with a block of BIG bytes freed between two used ones, on the strategy's free lists:
 * *freed, its payload. Not the heap's first block, so that its header's address is a payload
 * address of the heap's range. Returns 0, or 1 (the failed assertion reported) where the heap
 * cannot be set up.
 */
static int freed_between_used(unsigned char **freed) {
    fixture_reset(HEAP_SIZE, 0);
    void *before_a = alloc_malloc(fx.heap, BIG);
    unsigned char *a = alloc_malloc(fx.heap, BIG);
    void *fence = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(before_a != NULL && a != NULL && fence != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    *freed = a;
    return 0;
}

/*
 * Pointers into a block freed before passed to free: its header's address (its payload less
 * ALLOC_BLOCK_OVERHEAD, on a 64-bit target, where that is aligned) and 16 bytes into its payload;
 * then a strategy one past the last init knows.
 * Expect ALLOC_ERR_DOUBLE_FREE for each pointer (a pointer into free memory), reported once with
 * nothing changed; ALLOC_ERR_BAD_CONFIG for the second, with nothing read past the strategies'
 * table (AddressSanitizer, with --config=asan).
 */
static int freed_header_and_next_strategy_check(void) {
    unsigned char *a;
    if (freed_between_used(&a) != 0)
        return 1;
    struct alloc_stats before = stats();
    /* Its header's address (aligned on a 64-bit target only), and 16 bytes into its payload. */
    unsigned char *inside[2] = {ALLOC_BLOCK_OVERHEAD == 16 ? a - ALLOC_BLOCK_OVERHEAD : a + 16,
                                a + 16};
    for (int i = 0; i < 2; i++) {
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_free(fx.heap, inside[i]));
        if (refused_at(reports, ALLOC_ERR_DOUBLE_FREE, inside[i], &before) != 0)
            return 1;
    }
    /* A value outside the enum, on purpose. */
    // NOLINTNEXTLINE(clang-analyzer-optin.core.EnumCastOutOfRange)
    struct alloc_config cfg = {.strategy = (enum alloc_strategy)(ALLOC_STRATEGY_FIRST_FIT + 1)};
    alloc_heap *h;
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG, alloc_heap_init(&h, fx.region, HEAP_SIZE, &cfg));
    return 0;
}

/*
 * The control structure's checked words, each damaged in turn as a stray write would leave it, on
 * the default variant (TLSF with quick lists and runs, a zeroed region), each then put back: the
 * strategy's table set to first fit's, the fast free range's low end lowered to the first block
 * and its high end lowered by a KiB, the realloc switch cleared, the runs' word 1, the quick
 * lists' second word and then both words 512, the calloc watermark's complement changed.
 * Expect alloc_heap_check to return ALLOC_ERR_CORRUPTED_HEAP for each, reported once with the
 * heap's address, and the heap whole once the word is put back.
 */
static int control_words_checked_check(void) {
    if (!ALLOC_FAST_PATHS || ALLOC_QUICK_MAX_SIZE == 0 || ALLOC_RUN_MAX_SIZE == 0)
        SKIP_CHECK("the fast paths' words exist only with fast paths, quick lists and runs");
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF || !variant_quick(fx.variant) ||
        (fx.variant->flags & ALLOC_FLAG_ZEROED_REGION) == 0)
        SKIP_CHECK("the default variant's words (quick lists, runs, a zeroed region)");
    fixture_reset(HEAP_SIZE, 0);
    alloc_heap *h = fx.heap;
    const alloc_heap saved = *h;
    for (int kind = 0; kind < 8; kind++) {
        switch (kind) {
        case 0:
            h->ops = &alloc_ff_ops;
            break;
        case 1:
            h->fast_free_lo = h->first;
            break;
        case 2:
            h->fast_free_hi = h->end - 1024;
            break;
        case 3:
            h->fast_grow = 0;
            break;
        case 4:
            h->fast_run_end = 1;
            break;
        case 5:
            h->fast_quick_mask = 512;
            break;
        case 6:
            h->fast_quick_end = 512;
            h->fast_quick_mask = 512;
            break;
        default:
            h->clean_check ^= 16;
            break;
        }
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEAP, alloc_heap_check(h));
        if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, h) != 0)
            return 1;
        *h = saved;
        ASSERT_HEAP_OK(h);
    }
    return 0;
}

/*
 * Damage the check bits cannot see, each on a sound heap and then put back: the heap's count of
 * bytes in use raised by 16, and PREV_FREE set, sealed (a state change made as the heap makes
 * one), on a used block whose predecessor is used too.
 * Expect alloc_heap_check to return ALLOC_ERR_STATS_MISMATCH reported with the heap's address,
 * then ALLOC_ERR_CORRUPTED_HEADER (internal.h: PREV_FREE is set exactly when the previous block
 * is FREE); the heap whole once each is put back.
 */
static int unsealed_damage_checked_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    void *a = alloc_malloc(fx.heap, BIG);
    void *b = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(a != NULL && b != NULL);
    size_t reports = fx.reports;
    fx.heap->in_use += 16;
    ASSERT_EQ(ALLOC_ERR_STATS_MISMATCH, alloc_heap_check(fx.heap));
    if (reported_once_at(reports, ALLOC_ERR_STATS_MISMATCH, fx.heap) != 0)
        return 1;
    fx.heap->in_use -= 16;
    ASSERT_HEAP_OK(fx.heap);
    block_t *bb = blk_from_payload(b);
    word_flip(&bb->size, PREV_FREE);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_check(fx.heap));
    word_flip(&bb->size, PREV_FREE);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * TLSF: a free block on its list (BIG bytes, before a used one) whose size word has one check bit
 * flipped, then a request of its size.
 * Expect NULL and ALLOC_ERR_CORRUPTED_FREE_LIST reported once (a damaged node ends the request,
 * the block is not handed out), and nothing else changed.
 */
static int flipped_listed_block_refused_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF)
        SKIP_CHECK("TLSF's lists");
    unsigned char *a;
    if (freed_between_used(&a) != 0)
        return 1;
    block_t *ab = blk_from_payload(a);
    struct alloc_stats before = stats();
    ab->size ^= (hword_t)1 << TAG_SHIFT;
    size_t reports = fx.reports;
    ASSERT_TRUE(alloc_malloc(fx.heap, BIG) == NULL);
    if (reported_once(reports, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
        return 1;
    ab->size ^= (hword_t)1 << TAG_SHIFT;
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * flipped_listed_block_refused_check's damaged free block, with calloc's watermark damaged too
 * (its check word's complement changed), then a calloc of the block's size.
 * Expect NULL with one report, ALLOC_ERR_CORRUPTED_FREE_LIST, and the watermark left as it was: a
 * refused request changes nothing (alloc/heap.h), the damaged watermark included, which a calloc
 * that gets a block reports and resets.
 */
static int refused_calloc_keeps_watermark_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF)
        SKIP_CHECK("TLSF's lists");
    unsigned char *a;
    if (freed_between_used(&a) != 0)
        return 1;
    block_t *ab = blk_from_payload(a);
    ab->size ^= (hword_t)1 << TAG_SHIFT;
    fx.heap->clean_check ^= 16;
    const uintptr_t clean = fx.heap->clean, check = fx.heap->clean_check;
    size_t reports = fx.reports;
    ASSERT_TRUE(alloc_calloc(fx.heap, 1, BIG) == NULL);
    if (reported_once(reports, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
        return 1;
    ASSERT_TRUE(fx.heap->clean == clean && fx.heap->clean_check == check);
    ab->size ^= (hword_t)1 << TAG_SHIFT;
    fx.heap->clean_check ^= 16;
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A stray write into the control structure over the strategy's table of operations (first fit,
 * whose every allocation and free outside the fast paths goes through it).
 * Expect an allocation to return NULL and a free to return CORRUPTED_FREE_LIST, each after one
 * report of CORRUPTED_HEAP at the table's word, and nothing changed: with the table put back, the
 * heap intact, the block freed.
 */
static int damaged_ops_check(void) {
    if (!ALLOC_FAST_PATHS)
        SKIP_CHECK("a build for size trusts its control structure");
    if (fx.variant->strategy != ALLOC_STRATEGY_FIRST_FIT)
        SKIP_CHECK("TLSF's allocations and frees mostly call TLSF directly, not through the table");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(a != NULL);
    const struct alloc_strategy_ops *ops = fx.heap->ops;
    fx.heap->ops = (const struct alloc_strategy_ops *)(uintptr_t)0x70;
    struct alloc_stats before = stats();
    size_t reports = fx.reports;
    ASSERT_TRUE(alloc_malloc(fx.heap, BIG) == NULL);
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, &fx.heap->ops) != 0)
        return 1;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_free(fx.heap, a));
    if (reported_once_at(reports + 1, ALLOC_ERR_CORRUPTED_HEAP, &fx.heap->ops) != 0)
        return 1;
    ASSERT_TRUE(stats_unchanged(&before));
    fx.heap->ops = ops;
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * damaged_ops_check's stray write over the strategy's table, met by an extension and by a realloc
 * of a block A that a live B follows (not the top block's neighbour, so that realloc's fast path
 * leaves it to the strategy's resize), on either strategy: both call the strategy through the
 * table.
 *   | ctrl | A | B | (free) | END |
 * Expect alloc_heap_extend to return ALLOC_ERR_CORRUPTED_FREE_LIST and alloc_realloc NULL, each
 * after one report of CORRUPTED_HEAP at the table's word, and nothing changed: the statistics
 * (region_size among them) as before; with the table put back, the heap intact, A's contents kept,
 * and the same extension and realloc made.
 */
static int damaged_ops_extend_realloc_check(void) {
    if (!ALLOC_FAST_PATHS)
        SKIP_CHECK("a build for size trusts its control structure");
    if (TLSF_ALONE)
        SKIP_CHECK("a build of TLSF alone calls TLSF directly, not through the table");
    const size_t half = HEAP_SIZE / 2;
    fixture_reset(half, 0);
    unsigned char *a = alloc_malloc(fx.heap, BIG), *b = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(a != NULL && b != NULL);
    fixture_fill(a, BIG, 3);
    struct alloc_stats before = stats();
    const struct alloc_strategy_ops *ops = fx.heap->ops;
    fx.heap->ops = (const struct alloc_strategy_ops *)(uintptr_t)0x70;
    size_t reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_heap_extend(fx.heap, 4096));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, &fx.heap->ops) != 0)
        return 1;
    ASSERT_TRUE(alloc_realloc(fx.heap, a, 2 * BIG) == NULL);
    if (reported_once_at(reports + 1, ALLOC_ERR_CORRUPTED_HEAP, &fx.heap->ops) != 0)
        return 1;
    ASSERT_TRUE(stats_unchanged(&before));
    fx.heap->ops = ops;
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(fixture_pattern_ok(a, BIG, 3));
    ASSERT_EQ(ALLOC_OK, alloc_heap_extend(fx.heap, 4096));
    ASSERT_EQ(half + 4096, stats().region_size);
    unsigned char *moved = alloc_realloc(fx.heap, a, 2 * BIG);
    ASSERT_TRUE(moved != NULL && fixture_pattern_ok(moved, BIG, 3));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * Stray writes into the words that name the heap's bounds, which alloc_heap_extend writes its new
 * block and END marker from: end raised by a granule, raw_end raised by 8 KiB (the extension would
 * then reach past the region), first lowered by a granule. Expect each time
 * ALLOC_ERR_CORRUPTED_FREE_LIST from the extension, one ALLOC_ERR_CORRUPTED_HEAP report at the
 * heap, the statistics unchanged, and ALLOC_ERR_CORRUPTED_HEAP from alloc_heap_check(); put back,
 * the heap checks whole and the same extension succeeds.
 */
static int damaged_bounds_extend_check(void) {
    const size_t half = HEAP_SIZE / 2;
    const uintptr_t changes[] = {GRANULE, 8192, (uintptr_t)0 - GRANULE};
    for (size_t k = 0; k < sizeof(changes) / sizeof(changes[0]); k++) {
        fixture_reset(half, 0);
        uintptr_t *words[] = {&fx.heap->end, &fx.heap->raw_end, &fx.heap->first};
        unsigned char *a = alloc_malloc(fx.heap, BIG);
        ASSERT_TRUE(a != NULL);
        fixture_fill(a, BIG, 5);
        struct alloc_stats before = stats();
        *words[k] += changes[k];
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_heap_extend(fx.heap, 4096));
        if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, fx.heap) != 0)
            return 1;
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEAP, alloc_heap_check(fx.heap));
        *words[k] -= changes[k];
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_TRUE(fixture_pattern_ok(a, BIG, 5));
        ASSERT_EQ(ALLOC_OK, alloc_heap_extend(fx.heap, 4096));
        ASSERT_EQ(half + 4096, stats().region_size);
        ASSERT_HEAP_OK(fx.heap);
    }
    return 0;
}

/* A hook a stray write put in the control structure: must never be called. */
static size_t stray_hook_calls;
static void stray_hook(void *ctx, enum alloc_error error, const void *ptr) {
    (void)ctx, (void)error, (void)ptr;
    stray_hook_calls++;
}

/*
 * Stray writes into the hook's words (heap.h, "The control structure"): the hook replaced by
 * another function, its context replaced, the magic word that seals them with one bit flipped.
 * Each time a double free still returns ALLOC_ERR_DOUBLE_FREE, no hook is called (neither the
 * stray one nor the fixture's) and alloc_heap_check() returns ALLOC_ERR_CORRUPTED_HEAP; put back,
 * the heap checks whole and a report reaches the fixture's hook again.
 */
static int damaged_hook_check(void) {
    if (!ALLOC_FAST_PATHS)
        SKIP_CHECK("a build for size trusts its control structure");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(a != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    stray_hook_calls = 0;
    for (int damage = 0; damage < 3; damage++) {
        alloc_error_hook hook = fx.heap->hook;
        void *ctx = fx.heap->hook_ctx;
        uintptr_t magic = fx.heap->magic;
        if (damage == 0)
            fx.heap->hook = stray_hook;
        else if (damage == 1)
            fx.heap->hook_ctx = &stray_hook_calls;
        else
            fx.heap->magic ^= 1;
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_free(fx.heap, a));
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEAP, alloc_heap_check(fx.heap));
        ASSERT_EQ(reports, fx.reports);
        ASSERT_EQ(0, stray_hook_calls);
        fx.heap->hook = hook;
        fx.heap->hook_ctx = ctx;
        fx.heap->magic = magic;
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_free(fx.heap, a));
        if (reported_once_at(reports, ALLOC_ERR_DOUBLE_FREE, a) != 0)
            return 1;
    }
    return 0;
}

/*
 * Stray writes into the words the fast paths trust (heap.h, "The control structure"), each put
 * back before the heap is checked:
 * - clean lowered to the first block (on a heap that tracks no zeroed memory, from UINTPTR_MAX):
 *   a calloc over a freed block filled with 0xab. Expect every byte zero and one report of
 *   CORRUPTED_HEAP at clean, which then holds UINTPTR_MAX (every byte cleared from then on) and
 *   passes the integrity check as it is;
 * - fast_run_end set on a heap without runs: expect malloc(48) NULL, one report of CORRUPTED_HEAP
 *   at that word, nothing changed; on a heap with runs, all ones: malloc(500) served as a block,
 *   with no report (the bound is masked);
 * - fast_quick_end set on a heap without quick lists: malloc(100) served, no report;
 * - fast_grow flipped (opening or closing realloc's growth into the top block): expect the
 *   integrity check to return CORRUPTED_HEAP, with one report naming the heap;
 * - first fit: its table word pointing at TLSF's (a near value away), expect malloc(BIG) NULL
 *   with one report at the table's word; fast_grow set, a realloc growing the block that ends at
 *   the lowest free block (where TLSF's top block would lie) NULL, one report at fast_grow.
 */
static int damaged_fast_words_check(void) {
    if (!ALLOC_FAST_PATHS)
        SKIP_CHECK("a build for size trusts its control structure");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *x = alloc_malloc(fx.heap, 200);
    ASSERT_TRUE(x != NULL);
    memset(x, 0xab, alloc_usable_size(fx.heap, x));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, x));
    size_t reports = fx.reports;
    fx.heap->clean = fx.heap->first;
    unsigned char *z = alloc_calloc(fx.heap, 1, 200);
    ASSERT_TRUE(z != NULL);
    for (size_t i = 0; i < 200; i++)
        ASSERT_EQ(0, z[i]);
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, &fx.heap->clean) != 0)
        return 1;
    ASSERT_TRUE(fx.heap->clean == UINTPTR_MAX);
    ASSERT_HEAP_OK(fx.heap);

    struct alloc_stats before = stats();
    reports = fx.reports;
    uint32_t saved_run_end = fx.heap->fast_run_end;
    if (!fixture_runs()) {
        fx.heap->fast_run_end = ALLOC_RUN_MAX_SIZE + 1;
        ASSERT_TRUE(alloc_malloc(fx.heap, 48) == NULL);
        if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, &fx.heap->fast_run_end) != 0)
            return 1;
        ASSERT_TRUE(stats_unchanged(&before));
    } else {
        fx.heap->fast_run_end = UINT32_MAX;
        unsigned char *b = alloc_malloc(fx.heap, 500);
        ASSERT_TRUE(b != NULL && fx.reports == reports);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    }
    fx.heap->fast_run_end = saved_run_end;
    ASSERT_HEAP_OK(fx.heap);

    reports = fx.reports;
    if (!variant_quick(fx.variant)) {
        size_t saved = fx.heap->fast_quick_end;
        fx.heap->fast_quick_end = ALLOC_QUICK_MAX_SIZE;
        unsigned char *b = alloc_malloc(fx.heap, 100);
        ASSERT_TRUE(b != NULL && fx.reports == reports);
        fx.heap->fast_quick_end = saved;
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
        ASSERT_HEAP_OK(fx.heap);
    }

    reports = fx.reports;
    fx.heap->fast_grow ^= 1;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEAP, alloc_heap_check(fx.heap));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, fx.heap) != 0)
        return 1;
    fx.heap->fast_grow ^= 1;
    ASSERT_HEAP_OK(fx.heap);

    if (fx.variant->strategy != ALLOC_STRATEGY_FIRST_FIT || !TLSF_COMPILED_IN)
        return 0;
    const struct alloc_strategy_ops *ops = fx.heap->ops;
    fx.heap->ops = &alloc_tlsf_ops;
    reports = fx.reports;
    before = stats();
    ASSERT_TRUE(alloc_malloc(fx.heap, BIG) == NULL);
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, &fx.heap->ops) != 0)
        return 1;
    ASSERT_TRUE(stats_unchanged(&before));
    fx.heap->ops = ops;
    ASSERT_HEAP_OK(fx.heap);

    /* Fresh, so that the block after a is the lowest free one, first fit's head. */
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(a != NULL);
    memset(a, 0x3c, BIG);
    reports = fx.reports;
    before = stats();
    fx.heap->fast_grow = 1;
    ASSERT_TRUE(alloc_realloc(fx.heap, a, 2 * BIG) == NULL);
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, &fx.heap->fast_grow) != 0)
        return 1;
    ASSERT_TRUE(stats_unchanged(&before));
    fx.heap->fast_grow = 0;
    for (size_t i = 0; i < BIG; i++)
        ASSERT_EQ(0x3c, a[i]);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * The word of the TLSF control structure that heads the free list whose head is the block of
 * `payload` (the word a stray write then damages), or NULL if no list is headed by it.
 */
static block_t **list_head_word_of(alloc_heap *heap, const void *payload) {
    struct tlsf_state *t = tlsf_of(heap);
    for (size_t list = 0; list < sizeof(t->heads) / sizeof(t->heads[0]); list++) {
        if (t->heads[list] == blk_from_payload(payload))
            return &t->heads[list];
    }
    return NULL;
}

/*
 * A stray write into the control structure over the head of a TLSF free list that holds one
 * block, A: a small number outside every heap, then the payload of a live block (in the heap, at
 * a node's alignment, but no free block's header). C, of A's size, is then freed onto that list.
 * Expect the free to succeed with one report of CORRUPTED_HEAP at the head's word, C to head the
 * list alone, C's block and the live block intact, and the integrity check to find A lost.
 */
static int damaged_list_head_check(void) {
    if (!ALLOC_FAST_PATHS)
        SKIP_CHECK("a build for size trusts its control structure");
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF)
        SKIP_CHECK("only TLSF keeps lists headed in the control structure");
    for (int bad = 0; bad < 2; bad++) {
        fixture_reset(HEAP_SIZE, 0);
        unsigned char *a = alloc_malloc(fx.heap, BIG), *b = alloc_malloc(fx.heap, BIG);
        unsigned char *c = alloc_malloc(fx.heap, BIG), *d = alloc_malloc(fx.heap, BIG);
        ASSERT_TRUE(d != NULL);
        fixture_fill(b, BIG, 1);
        fixture_fill(d, BIG, 2);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
        block_t **head = list_head_word_of(fx.heap, a);
        ASSERT_TRUE(head != NULL);
        *head = bad == 0 ? (block_t *)(uintptr_t)0x70 : (block_t *)(uintptr_t)d;
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
        if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, head) != 0)
            return 1;
        ASSERT_TRUE(*head == blk_from_payload(c));
        ASSERT_TRUE(blk_links(blk_from_payload(c))->next == NULL);
        ASSERT_TRUE(fixture_pattern_ok(b, BIG, 1));
        ASSERT_TRUE(fixture_pattern_ok(d, BIG, 2));
        ASSERT_NE(ALLOC_OK, alloc_heap_check(fx.heap));
    }
    return 0;
}

/*
 * damaged_list_head_check's stray write over the head of a TLSF free list L that holds one block,
 * G, met by a request that a larger free block F serves, F's remainder belonging to L. L lies below
 * the request's own list, so that the search does not look at it; every block is above
 * ALLOC_QUICK_MAX_SIZE, so that none is quick-listed:
 *   | ctrl | (free F) | U1 | (free G, on L) | U2 | (top) | END |
 * made by alloc_malloc and by alloc_allocate at ALLOC_ALIGNMENT, the head a small number outside
 * every heap, then U2's payload.
 * Expect F's payload returned, with one report of CORRUPTED_HEAP at L's head word; F's remainder
 * heading L alone; U1 and U2 intact; and the integrity check to find G lost to its list,
 * ALLOC_ERR_CORRUPTED_FREE_LIST (list membership).
 */
static int damaged_head_remainder_check(void) {
    if (!ALLOC_FAST_PATHS)
        SKIP_CHECK("a build for size trusts its control structure");
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF)
        SKIP_CHECK("only TLSF keeps lists headed in the control structure");
    const size_t request = 3000, f_size = 4500;
    const size_t rest = block_size_for(f_size) - block_size_for(request);
    for (int op = 0; op < 2; op++) {
        for (int bad = 0; bad < 2; bad++) {
            fixture_reset(HEAP_SIZE, 0);
            unsigned char *f = alloc_malloc(fx.heap, f_size), *u1 = alloc_malloc(fx.heap, BIG);
            unsigned char *g = alloc_malloc(fx.heap, rest - ALLOC_BLOCK_OVERHEAD);
            unsigned char *u2 = alloc_malloc(fx.heap, BIG);
            ASSERT_TRUE(f != NULL && u1 != NULL && g != NULL && u2 != NULL);
            fixture_fill(u1, BIG, 1);
            fixture_fill(u2, BIG, 2);
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, f));
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, g));
            ASSERT_HEAP_OK(fx.heap);
            block_t **head = list_head_word_of(fx.heap, g);
            ASSERT_TRUE(head != NULL);
            *head = bad == 0 ? (block_t *)(uintptr_t)0x70 : (block_t *)(uintptr_t)u2;
            size_t reports = fx.reports;
            unsigned char *p = op == 0 ? alloc_malloc(fx.heap, request)
                                       : alloc_allocate(fx.heap, request, ALLOC_ALIGNMENT);
            ASSERT_TRUE(p == f);
            if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEAP, head) != 0)
                return 1;
            ASSERT_TRUE(alloc_usable_size(fx.heap, p) >= request);
            block_t *remainder = blk_at((uintptr_t)blk_from_payload(f) + block_size_for(request));
            ASSERT_TRUE(*head == remainder);
            ASSERT_TRUE(blk_links(remainder)->next == NULL);
            ASSERT_TRUE(fixture_pattern_ok(u1, BIG, 1));
            ASSERT_TRUE(fixture_pattern_ok(u2, BIG, 2));
            ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_heap_check(fx.heap));
        }
    }
    return 0;
}

/*
 * A stray write over the head of the quick list that holds Q, a freed 100-byte block: a small
 * number outside every heap, then the header of the live block B (sound, but no quick one):
 *   | ctrl | [Q] | B | (free) | END |
 * Expect alloc_malloc(100), which that list serves, to report CORRUPTED_FREE_LIST once, at the
 * damaged head, and to be served still, from the free lists (a block that is not Q), the head left
 * as it was; the integrity check then to return CORRUPTED_FREE_LIST (the quick lists do not hold
 * exactly the quick blocks), reported at the damaged head too. With the head put back, the heap
 * intact and Q served by the next malloc(100).
 */
static int damaged_quick_head_check(void) {
#if QUICK_BINS > 0
    if (!fixture_quick())
        SKIP_CHECK("this variant has no quick lists");
    for (int bad = 0; bad < 2; bad++) {
        fixture_reset(HEAP_SIZE, 0);
        unsigned char *q = alloc_malloc(fx.heap, 100), *b = alloc_malloc(fx.heap, BIG);
        ASSERT_TRUE(q != NULL && b != NULL);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, q));
        ASSERT_HEAP_OK(fx.heap);
        struct tlsf_state *t = tlsf_of(fx.heap);
        size_t i = quick_index_for(100);
        ASSERT_TRUE(t->quick[i] == blk_from_payload(q));
        block_t *damaged = bad == 0 ? (block_t *)(uintptr_t)0x70 : blk_from_payload(b);
        t->quick[i] = damaged;
        size_t reports = fx.reports;
        unsigned char *p = alloc_malloc(fx.heap, 100);
        if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, damaged) != 0)
            return 1;
        ASSERT_TRUE(p != NULL && p != q);
        ASSERT_TRUE(alloc_usable_size(fx.heap, p) >= 100);
        ASSERT_TRUE(t->quick[i] == damaged);
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_heap_check(fx.heap));
        if (reported_once_at(reports + 1, ALLOC_ERR_CORRUPTED_FREE_LIST, damaged) != 0)
            return 1;
        t->quick[i] = blk_from_payload(q);
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_TRUE(alloc_malloc(fx.heap, 100) == q);
        ASSERT_HEAP_OK(fx.heap);
    }
    return 0;
#else
    SKIP_CHECK("quick lists are not compiled in (ALLOC_QUICK_MAX_SIZE 0)");
#endif
}

/*
 * Every call on a NULL heap.
 * Expect ALLOC_ERR_NULL_HEAP from those that return an error, NULL / 0 / zeroed stats from the
 * others, TLSF as its strategy and 0 as its flags.
 */
static int null_heap_check(void) {
    int dummy;
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_free(NULL, &dummy));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_heap_check(NULL));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_heap_extend(NULL, 4096));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_heap_walk(NULL, NULL, NULL));
    ASSERT_TRUE(alloc_malloc(NULL, 8) == NULL);
    ASSERT_TRUE(alloc_allocate(NULL, 8, 64) == NULL);
    ASSERT_TRUE(alloc_calloc(NULL, 2, 8) == NULL);
    ASSERT_TRUE(alloc_realloc(NULL, &dummy, 8) == NULL);
    ASSERT_EQ(0, alloc_usable_size(NULL, &dummy));
    ASSERT_EQ(ALLOC_STRATEGY_TLSF, alloc_heap_strategy(NULL));
    ASSERT_EQ(0, alloc_heap_flags(NULL));
    ASSERT_EQ(0, alloc_heap_instance(NULL));
    struct alloc_stats s, zero = {0};
    memset(&s, 0xff, sizeof(s));
    alloc_heap_stats(NULL, &s);
    ASSERT_TRUE(memcmp(&s, &zero, sizeof(s)) == 0);
    ASSERT_STREQ("null heap", alloc_error_name(ALLOC_ERR_NULL_HEAP));
    return 0;
}

/*
 * ALLOC_FLAG_ZEROED_REGION: calloc skips only memory never handed out; whatever was handed out
 * before (freed, grown into by realloc, quick-listed, a run's slot) comes back zeroed, and so do
 * the links of a free block that lies beyond it. With poisoning asked for as well, the poison
 * written as a block is handed out or freed never reaches a calloc's caller: on a fresh heap, a
 * calloc of a slot and of a block returns zeros throughout.
 */
static int calloc_zeroed_region_check(void) {
    const unsigned poisons[] = {ALLOC_FLAG_POISON_ON_ALLOC, ALLOC_FLAG_POISON_ON_FREE,
                                ALLOC_FLAG_POISON_ON_ALLOC | ALLOC_FLAG_POISON_ON_FREE};
    for (size_t p = 0; p < sizeof(poisons) / sizeof(poisons[0]); p++) {
        for (size_t n = 8; n < 4000; n = n * 3 + 16) {
            fixture_reset(HEAP_SIZE, ALLOC_FLAG_ZEROED_REGION | poisons[p]);
            unsigned char *z = alloc_calloc(fx.heap, 1, n);
            ASSERT_TRUE(z != NULL);
            for (size_t i = 0; i < n; i++)
                ASSERT_EQ(0, z[i]);
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, z));
            z = alloc_calloc(fx.heap, 1, n);
            ASSERT_TRUE(z != NULL);
            for (size_t i = 0; i < n; i++)
                ASSERT_EQ(0, z[i]);
            ASSERT_HEAP_OK(fx.heap);
        }
    }

    fixture_reset(HEAP_SIZE, ALLOC_FLAG_ZEROED_REGION);
    unsigned char *a = alloc_malloc(fx.heap, 100);
    ASSERT_TRUE(a != NULL);
    memset(a, 0xff, alloc_usable_size(fx.heap, a));
    unsigned char *g = alloc_realloc(fx.heap, a, 3000); /* grows into the untouched rest */
    ASSERT_TRUE(g != NULL);
    memset(g, 0xee, alloc_usable_size(fx.heap, g));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, g));
    for (size_t n = 1; n < 4000; n = n * 3 + 5) {
        unsigned char *z = alloc_calloc(fx.heap, 1, n);
        ASSERT_TRUE(z != NULL);
        for (size_t i = 0; i < n; i++)
            ASSERT_EQ(0, z[i]);
        memset(z, 0xdd, n);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, z));
    }
    ASSERT_HEAP_OK(fx.heap);

    /*
     * Links written above everything handed out (a build without TOP_BLOCK files the block that
     * ends the heap on its list): X freed, then the end of the heap cut to X's size, which files
     * the rest in front of X with a link to it. A calloc of X's size takes that rest, zeroed.
     */
    fixture_reset(HEAP_SIZE, ALLOC_FLAG_ZEROED_REGION);
    unsigned char *x = alloc_malloc(fx.heap, BIG / 2);
    ASSERT_TRUE(x != NULL && alloc_malloc(fx.heap, 16) != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, x));
    size_t x_block = usable_for(BIG / 2) + ALLOC_BLOCK_OVERHEAD;
    ASSERT_TRUE(alloc_malloc(fx.heap, stats().largest_free - x_block) != NULL);
    unsigned char *z = alloc_calloc(fx.heap, 1, BIG / 2);
    ASSERT_TRUE(z != NULL);
    for (size_t i = 0; i < BIG / 2; i++)
        ASSERT_EQ(0, z[i]);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * What this build compiles in (alloc/config.h), seen through the interface: a strategy left out
 * of ALLOC_STRATEGIES is refused at init with ALLOC_ERR_BAD_CONFIG and has no minimum region (a
 * NULL config asks for TLSF, without a hook: a double free is returned, and reported to no one);
 * with ALLOC_QUICK_MAX_SIZE 0 a freed 64-byte TLSF block is coalesced at once, never QUICK; with
 * ALLOC_RUN_MAX_SIZE 0, a default TLSF heap serves two 16-byte requests with ordinary 32-byte
 * blocks instead of neighbouring 16-byte slots.
 */
static int build_config_check(void) {
    ASSERT_TRUE(fixture_reset(HEAP_SIZE, 0) != NULL);
    const enum alloc_strategy strategies[] = {ALLOC_STRATEGY_TLSF, ALLOC_STRATEGY_FIRST_FIT};
    for (size_t i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++) {
        bool compiled = ((ALLOC_STRATEGIES >> strategies[i]) & 1u) != 0;
        struct alloc_config cfg = {.strategy = strategies[i], .error_hook = fixture_hook};
        ASSERT_EQ(compiled ? ALLOC_OK : ALLOC_ERR_BAD_CONFIG,
                  alloc_heap_init(&fx.heap, fx.region, HEAP_SIZE, &cfg));
        ASSERT_EQ(compiled, alloc_min_region_size(strategies[i]) != 0);
    }
    /* No config: TLSF with ALLOC_DEFAULT_FLAGS and no hook, where TLSF is compiled in. */
    bool tlsf = (ALLOC_STRATEGIES & ALLOC_STRATEGY_BIT_TLSF) != 0;
    ASSERT_EQ(tlsf ? ALLOC_OK : ALLOC_ERR_BAD_CONFIG,
              alloc_heap_init(&fx.heap, fx.region, HEAP_SIZE, NULL));
    if (tlsf) {
        ASSERT_EQ(ALLOC_STRATEGY_TLSF, alloc_heap_strategy(fx.heap));
        void *p = alloc_malloc(fx.heap, 100);
        ASSERT_TRUE(p != NULL);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_free(fx.heap, p));
        ASSERT_EQ(reports, fx.reports);
        ASSERT_HEAP_OK(fx.heap);
    }
    if ((ALLOC_STRATEGIES & ALLOC_STRATEGY_BIT_TLSF) != 0) {
        ASSERT_TRUE(fixture_reset(HEAP_SIZE, 0) != NULL);
        struct alloc_config cfg = {.strategy = ALLOC_STRATEGY_TLSF,
                                   .flags = ALLOC_FLAG_NO_SMALL_RUNS,
                                   .error_hook = fixture_hook};
        ASSERT_EQ(ALLOC_OK, alloc_heap_init(&fx.heap, fx.region, HEAP_SIZE, &cfg));
        void *a = alloc_malloc(fx.heap, 64);
        ASSERT_TRUE(a != NULL && alloc_malloc(fx.heap, 64) != NULL);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
        ASSERT_HEAP_OK(fx.heap);
        struct walked_block w[4];
        ASSERT_EQ(3, fixture_walk(w, 4));
        ASSERT_TRUE(w[0].payload == a);
        ASSERT_EQ(ALLOC_QUICK_MAX_SIZE >= 64 ? ALLOC_BLOCK_QUICK : ALLOC_BLOCK_FREE, w[0].state);
    }
    if ((ALLOC_STRATEGIES & ALLOC_STRATEGY_BIT_TLSF) != 0) {
        ASSERT_TRUE(fixture_reset(HEAP_SIZE, 0) != NULL);
        struct alloc_config cfg = {.strategy = ALLOC_STRATEGY_TLSF, .error_hook = fixture_hook};
        ASSERT_EQ(ALLOC_OK, alloc_heap_init(&fx.heap, fx.region, HEAP_SIZE, &cfg));
        unsigned char *a = alloc_malloc(fx.heap, 16), *b = alloc_malloc(fx.heap, 16);
        ASSERT_TRUE(a != NULL && b != NULL);
        ASSERT_EQ(ALLOC_RUN_MAX_SIZE >= 16 ? 16 : 32, b - a);
        ASSERT_HEAP_OK(fx.heap);
    }
    return 0;
}

/*
 * The statistics never follow a damaged free-list link: a free block whose next link was
 * overwritten with a small number leaves alloc_heap_stats sound (the check reports the damage).
 */
static int stats_bent_link_check(void) {
    /* Blocks too large for a quick list or a run: a is freed onto the free list proper. */
    unsigned char *a, *b;
    if (free_then_used(512, 512, &a, &b) != 0)
        return 1;
    (void)bend_link(a);
    struct alloc_stats s = stats();
    ASSERT_TRUE(s.largest_free <= s.bytes_free);
    ASSERT_TRUE(alloc_heap_check(fx.heap) != ALLOC_OK);
    return 0;
}

/*
 * A free whose merge finds its free neighbour's links bent:
 *   | A | B | C | D | (top) |   blocks too large for a quick list or a run
 * with A free (B merges with its predecessor), C free (with its successor on a list) or both, and
 * the free neighbour's next link (its payload's first word) pointing outside the heap. Expect
 * each free of B to report CORRUPTED_FREE_LIST once and change nothing: B still live, the
 * statistics as they were (a free that accounts B before its merge gives that back); with the
 * link restored, B's free succeeds and the heap is intact. The same of a realloc of B that would
 * grow into a bent C, or move and free B next to a bent A: NULL, B's contents kept.
 */
static int free_merge_bent_link_check(void) {
    static const bool free_prev[] = {true, false, true}, free_next[] = {false, true, true};
    for (size_t way = 0; way < sizeof(free_prev) / sizeof(free_prev[0]); way++) {
        fixture_reset(HEAP_SIZE, 0);
        unsigned char *a = alloc_malloc(fx.heap, BIG), *b = alloc_malloc(fx.heap, BIG);
        unsigned char *c = alloc_malloc(fx.heap, BIG), *d = alloc_malloc(fx.heap, BIG);
        ASSERT_TRUE(a != NULL && b != NULL && c != NULL && d != NULL);
        if (free_prev[way])
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
        if (free_next[way])
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
        ASSERT_HEAP_OK(fx.heap);
        unsigned char *bent_block = free_prev[way] ? a : c;
        /* The statistics before the link is bent: first fit's largest_free walks the list. */
        struct alloc_stats before = stats();
        uintptr_t link = bend_link(bent_block);
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_free(fx.heap, b));
        if (reported_once(reports, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
            return 1;
        unbend_link(bent_block, link);
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_EQ(usable_for(BIG), alloc_usable_size(fx.heap, b));
        if (!free_next[way] || bent_block == c) {
            /*
             * The link bent again, under a realloc of B that would grow into C (bent), or move,
             * C being used, and then free B, which would merge with A (bent).
             */
            (void)bend_link(bent_block);
            fixture_fill(b, BIG, 6);
            ASSERT_TRUE(alloc_realloc(fx.heap, b, free_next[way] ? BIG + BIG / 2 : 3 * BIG) ==
                        NULL);
            if (reported_once(reports + 1, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
                return 1;
            unbend_link(bent_block, link);
            ASSERT_HEAP_OK(fx.heap);
            /* A move had its new block in use for a moment: the peak may rise, nothing else. */
            struct alloc_stats now = stats();
            ASSERT_TRUE(now.peak_in_use >= before.peak_in_use);
            before.peak_in_use = now.peak_in_use;
            ASSERT_TRUE(stats_unchanged(&before));
            ASSERT_TRUE(fixture_pattern_ok(b, BIG, 6));
        }
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(before.live_allocations - 1, stats().live_allocations);
    }
    return 0;
}

/* The run slot p is in (its meta words, enum run_word, at the start). */
static uintptr_t run_of_slot(const void *p) {
    return (uintptr_t)p & ~(uintptr_t)(RUN_ALIGN - 1);
}

/*
 * The free block F that the alignment of the run of slot p left before it:
 *   | (free F) | run: p ... |
 * (the run's block starts a header before its meta). Returns 0 with *f set, or 1 after printing
 * the assertion that failed.
 */
static int free_before_run(const void *p, block_t **f) {
    block_t *run_block = blk_from_payload((const void *)run_of_slot(p));
    ASSERT_TRUE(blk_prev_free(run_block));
    *f = blk_prev(run_block);
    return 0;
}

/*
 * Runs: small requests are slots of a run, packed without headers; every misuse of a slot is
 * named exactly and changes nothing.
 */
static int runs_slots_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 10), *b = alloc_malloc(fx.heap, 16);
    unsigned char *c = alloc_malloc(fx.heap, 33);
    ASSERT_TRUE(a != NULL && b != NULL && c != NULL);
    ASSERT_EQ(16, b - a); /* neighbours in one run: no header between them */
    ASSERT_EQ(16, alloc_usable_size(fx.heap, a));
    ASSERT_EQ(48, alloc_usable_size(fx.heap, c));
    memset(a, 0x11, 16);
    memset(b, 0x22, 16);
    ASSERT_HEAP_OK(fx.heap);
    struct alloc_stats before = stats();
    ASSERT_EQ(3, before.live_allocations);
    ASSERT_EQ(16 + 16 + 48, before.bytes_in_use);

    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_free(fx.heap, a));
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, fx.report_error[0]);
    ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, alloc_free(fx.heap, c + 16)); /* inside a 48-byte slot */
    ASSERT_EQ(ALLOC_ERR_MISALIGNED_POINTER, alloc_free(fx.heap, b + 8));
    /* The run's own start (its meta) is no allocation. */
    ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, alloc_free(fx.heap, (void *)run_of_slot(b)));
    ASSERT_TRUE(alloc_realloc(fx.heap, a, 8) == NULL);
    ASSERT_EQ(0, alloc_usable_size(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(2, stats().live_allocations);
    for (int i = 0; i < 16; i++)
        ASSERT_EQ(0x22, b[i]);

    /* realloc keeps a slot while the class fits, moves it (contents kept) when it does not. */
    ASSERT_TRUE(alloc_realloc(fx.heap, b, 12) == b);
    unsigned char *big = alloc_realloc(fx.heap, b, 200);
    ASSERT_TRUE(big != NULL && big != b);
    for (int i = 0; i < 16; i++)
        ASSERT_EQ(0x22, big[i]);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, big));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(0, stats().live_allocations);
    return 0;
}

/*
 * A run's edges, for each class of 32, 48 and 64 bytes: the part-slot past its last slot (too
 * short for one more) passed to free, and a 32-byte slot's middle to usable_size; then, on a heap
 * that poisons on free, a write into the last byte of a freed slot 0 and into the last slot of a
 * full run of 16-byte slots.
 * Expect ALLOC_ERR_FOREIGN_POINTER from the free and 0 from usable_size, each reported once with
 * nothing changed; alloc_heap_check to find each write after free (ALLOC_ERR_WRITE_AFTER_FREE),
 * and the heap whole again once the poison is put back.
 */
static int runs_edges_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    static const size_t sizes[] = {32, 48, 64};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        fixture_reset(HEAP_SIZE, 0);
        unsigned char *slot = alloc_malloc(fx.heap, sizes[k]);
        ASSERT_TRUE(slot != NULL);
        uintptr_t r = run_of_slot(slot);
        unsigned char *past = (unsigned char *)(r + RUN_META + RUN_SLOTS / sizes[k] * sizes[k]);
        struct alloc_stats before = stats();
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, alloc_free(fx.heap, past));
        if (refused_at(reports, ALLOC_ERR_FOREIGN_POINTER, past, &before) != 0)
            return 1;
        if (sizes[k] == 32) {
            reports = fx.reports;
            ASSERT_EQ(0, alloc_usable_size(fx.heap, slot + 16));
            if (refused_at(reports, ALLOC_ERR_FOREIGN_POINTER, slot + 16, &before) != 0)
                return 1;
        }
    }

    fixture_reset(HEAP_SIZE, ALLOC_FLAG_POISON_ON_FREE);
    enum { SLOTS16 = RUN_SLOTS / 16 };
    static unsigned char *slot16[SLOTS16];
    for (size_t i = 0; i < SLOTS16; i++) {
        slot16[i] = alloc_malloc(fx.heap, 16);
        ASSERT_TRUE(slot16[i] != NULL);
        ASSERT_EQ(run_of_slot(slot16[0]), run_of_slot(slot16[i]));
    }
    unsigned char *ends[2] = {slot16[0], slot16[SLOTS16 - 1]};
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, ends[i]));
        ends[i][15] = 0x77;
        ASSERT_EQ(ALLOC_ERR_WRITE_AFTER_FREE, alloc_heap_check(fx.heap));
        ends[i][15] = (unsigned char)ALLOC_POISON_FREE_BYTE;
        ASSERT_HEAP_OK(fx.heap);
    }
    return 0;
}

/*
 * First fit: a, b and c of 48 bytes, b freed, then a grown by exactly b's block (its usable bytes
 * and its header).
 * Expect a grown in place (the same pointer), its contents kept: "in place when it can".
 */
static int first_fit_grow_exactly_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_FIRST_FIT)
        SKIP_CHECK("first fit's resize");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 48), *b = alloc_malloc(fx.heap, 48);
    void *c = alloc_malloc(fx.heap, 48);
    ASSERT_TRUE(a != NULL && b != NULL && c != NULL);
    size_t ua = alloc_usable_size(fx.heap, a), ub = alloc_usable_size(fx.heap, b);
    memset(a, 0x5c, ua);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    unsigned char *grown = alloc_realloc(fx.heap, a, ua + ub + ALLOC_BLOCK_OVERHEAD);
    ASSERT_TRUE(grown == a);
    for (size_t i = 0; i < ua; i++)
        ASSERT_EQ(0x5c, grown[i]);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/* A flipped bit in a run's state or check word is reported, and nothing is handed out twice. */
static int runs_corrupted_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    for (unsigned word = RUN_STATE; word <= RUN_CHECK; word++) {
        for (unsigned bit = 0; bit < 64; bit += 7) {
            fixture_reset(HEAP_SIZE, 0);
            unsigned char *a = alloc_malloc(fx.heap, 32), *b = alloc_malloc(fx.heap, 32);
            ASSERT_TRUE(a != NULL && b != NULL);
            uint64_t *meta = (uint64_t *)run_of_slot(a);
            meta[word] ^= (uint64_t)1 << bit;
            ASSERT_TRUE(alloc_heap_check(fx.heap) != ALLOC_OK);
            /* The run is no longer recognised: its slots are refused, never re-issued. */
            ASSERT_TRUE(alloc_free(fx.heap, a) != ALLOC_OK);
            unsigned char *c = alloc_malloc(fx.heap, 32);
            ASSERT_TRUE(c != a && c != b);
            meta[word] ^= (uint64_t)1 << bit;
        }
    }
    return 0;
}

/*
 * The run slot's case of double_free_state_flip_check: a freed slot A whose bit in its run's
 * state word is then flipped back to "in use", freed again:
 *   | run: meta (A's bit flipped) | A (freed) | B | ... |
 * Expect the check to report the run's block after the flip and after each step that follows,
 * with the heap intact once the bit is put back; the second free refused as a foreign pointer (the
 * run is no longer recognised), reported once; the next two allocations of A's size neither A nor
 * B nor one another, or NULL with the damage reported; and, the bit put back, every slot freed and
 * the heap intact.
 */
static int runs_double_free_state_flip_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 32), *b = alloc_malloc(fx.heap, 32);
    ASSERT_TRUE(a != NULL && b != NULL && run_of_slot(a) == run_of_slot(b));
    ASSERT_HEAP_OK(fx.heap);
    uint64_t *meta = (uint64_t *)run_of_slot(a);
    block_t *run_block = blk_from_payload(meta);
    uint64_t live = meta[RUN_STATE];
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    uint64_t saved = meta[RUN_STATE], bit = saved ^ live;
    ASSERT_TRUE(bit != 0 && (bit & (bit - 1)) == 0); /* A's bit alone */
    meta[RUN_STATE] ^= bit;
    if (only_damaged(run_block, &meta[RUN_STATE], &saved, sizeof(saved)) != 0)
        return 1;
    /* An unrecognised run: A is no block's start. */
    return second_free_refused(a, b, 32, ALLOC_ERR_FOREIGN_POINTER, run_block, &meta[RUN_STATE],
                               &saved, sizeof(saved));
}

/*
 * The run slot's case of overrun_into_free_check: 1 to 16 bytes written past the last slot of a
 * run of 16-byte slots, which ends where the next block's header starts, into the header of the
 * free block F that follows (overrun_into_free):
 *   | run: meta | s0 | ... | A (last slot) |xx F (free) | B | rest (free) | END |
 */
static int runs_overrun_into_free_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    if (RUN_SLOT_COUNT(1) * 16 != RUN_SLOTS)
        SKIP_CHECK("no slot of this layout ends where the next block's header starts");
    enum { SLOTS = RUN_SLOT_COUNT(1) };
    for (size_t pi = 0; pi < sizeof(overrun_patterns); pi++) {
        for (size_t n = 1; n <= sizeof(block_t); n++) {
            fixture_reset(HEAP_SIZE, 0);
            unsigned char *s[SLOTS];
            for (size_t i = 0; i < SLOTS; i++) {
                s[i] = alloc_malloc(fx.heap, 16);
                ASSERT_TRUE(s[i] != NULL && run_of_slot(s[i]) == run_of_slot(s[0]));
            }
            /* B too large for the free block the run's alignment left before it. */
            unsigned char *a = s[SLOTS - 1], *f = alloc_malloc(fx.heap, BIG);
            unsigned char *b = alloc_malloc(fx.heap, BIG);
            ASSERT_TRUE(f != NULL && b != NULL);
            ASSERT_TRUE(a == (unsigned char *)run_of_slot(a) + RUN_META + RUN_SLOTS - 16);
            ASSERT_HEAP_OK(fx.heap);
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, f));
            ASSERT_HEAP_OK(fx.heap);
            if (overrun_into_free(a, 16, f, b, overrun_patterns[pi], n) != 0) {
                fprintf(stderr, "  ^ %zu bytes of %#x\n", n, overrun_patterns[pi]);
                return 1;
            }
            for (size_t i = 0; i < SLOTS; i++)
                ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, s[i]));
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
            ASSERT_HEAP_OK(fx.heap);
            ASSERT_EQ(0, stats().live_allocations);
        }
    }
    return 0;
}

/*
 * Filling the heap with slots, then freeing them all, gives the space back: emptied runs return
 * to the strategy, and the few kept for reuse are released when a request needs them.
 */
static int runs_exhaust_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    size_t largest = stats().largest_free;
    static void *ptrs[HEAP_SIZE / 16];
    size_t n = 0;
    for (;;) {
        void *p = alloc_malloc(fx.heap, 1 + n % 64);
        if (p == NULL)
            break;
        ASSERT_TRUE(n < sizeof(ptrs) / sizeof(ptrs[0]));
        ptrs[n++] = p;
    }
    ASSERT_HEAP_OK(fx.heap);
    /* Packed: more slots than 32-byte blocks of the 1..64-byte sizes would give. */
    ASSERT_TRUE(n > HEAP_SIZE / 64);
    for (size_t i = 0; i < n; i += 2)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, ptrs[i]));
    ASSERT_HEAP_OK(fx.heap);
    for (size_t i = 1; i < n; i += 2)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, ptrs[i]));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(0, stats().live_allocations);
    void *all = alloc_malloc(fx.heap, largest);
    ASSERT_TRUE(all != NULL);
    ASSERT_HEAP_OK(fx.heap);
    /* A stale slot pointer into the released runs is refused. */
    ASSERT_TRUE(alloc_free(fx.heap, ptrs[0]) != ALLOC_OK);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, all));
    return 0;
}

/*
 * A run's next link bent back to an earlier run of the same list (B -> A -> B), A the run kept with
 * every slot free, is refused when the empty runs are released for a request that does not fit:
 * A's unlink checks that its neighbours point back at it, so the release neither loops nor follows
 * the damaged link.
 */
static int runs_list_cycle_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    /* Fill one run A of 16-byte slots and start a second, B: the request that finds A full takes
     * it off the list. */
    static unsigned char *slot_a[64];
    unsigned na = 0;
    slot_a[na++] = alloc_malloc(fx.heap, 16);
    ASSERT_TRUE(slot_a[0] != NULL);
    uintptr_t run_a = run_of_slot(slot_a[0]), run_b;
    for (;;) {
        unsigned char *p = alloc_malloc(fx.heap, 16);
        ASSERT_TRUE(p != NULL && na < 64);
        run_b = run_of_slot(p);
        if (run_b != run_a)
            break;
        slot_a[na++] = p;
    }
    ASSERT_EQ(run_slot_count(1), na);
    /* A gets a free slot back and goes behind the head: B -> A; then B fills and stays the head. */
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, slot_a[--na]));
    for (unsigned i = 1; i < run_slot_count(1); i++)
        ASSERT_EQ(run_b, run_of_slot(alloc_malloc(fx.heap, 16)));
    /* A empties behind its full head: it is kept, the one run of its class with free slots. */
    while (na > 0)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, slot_a[--na]));
    ASSERT_HEAP_OK(fx.heap);
    uint64_t *meta_a = (uint64_t *)run_a, *meta_b = (uint64_t *)run_b;
    ASSERT_EQ(run_a, meta_b[RUN_NEXT]);
    ASSERT_EQ(0, meta_a[RUN_NEXT]);
#if ALLOC_RUN_MAX_SIZE > 0
    ASSERT_EQ(run_a, fx.heap->run_spare[1]); /* what the release looks at */
#endif
    size_t too_big = stats().largest_free + 16;
    meta_a[RUN_NEXT] = run_b;
    /* Nothing fits this request, so the heap releases empty runs before failing it. */
    ASSERT_TRUE(alloc_malloc(fx.heap, too_big) == NULL);
    ASSERT_EQ(1, fx.reports);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, fx.report_error[0]);
    ASSERT_TRUE(alloc_heap_check(fx.heap) != ALLOC_OK);
    return 0;
}

enum { RUN_SLOTS_64 = 15 }; /* 64-byte slots in a run */

/*
 * On a fresh heap with runs, the first two steps of
 *   | (free F) | run A: a[0] live, every other slot free | run B: *b live |
 * run A of 64-byte slots filled and *b taken from the run B that follows once A is full
 * (full_run_then_next); then A's other slots freed, and F, the free block the run's alignment left
 * before A, in *f (free_all_but_first).
 */
static int full_run_then_next(unsigned char *a[RUN_SLOTS_64], unsigned char **b) {
    for (int i = 0; i < RUN_SLOTS_64; i++) {
        a[i] = alloc_malloc(fx.heap, 64);
        ASSERT_TRUE(a[i] != NULL && run_of_slot(a[i]) == run_of_slot(a[0]));
    }
    *b = alloc_malloc(fx.heap, 64); /* run A is full: a second run B */
    ASSERT_TRUE(*b != NULL && run_of_slot(*b) != run_of_slot(a[0]));
    return 0;
}
static int free_all_but_first(unsigned char *a[RUN_SLOTS_64], block_t **f) {
    for (int i = 1; i < RUN_SLOTS_64; i++)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a[i]));
    ASSERT_HEAP_OK(fx.heap);
    return free_before_run(a[0], f);
}

/*
 * The take that fills a run leaves it at the head of its list: a slot freed into it is handed out
 * next, with no list change. A run that gets a slot back while off the list goes behind the head,
 * which serves the takes until it is full; a full head leaves the list first. The lists are
 * checked after every step.
 */
static int runs_full_head_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a[RUN_SLOTS_64], *b[RUN_SLOTS_64];
    for (int i = 0; i < RUN_SLOTS_64; i++) {
        a[i] = alloc_malloc(fx.heap, 64);
        ASSERT_TRUE(a[i] != NULL && run_of_slot(a[i]) == run_of_slot(a[0]));
        ASSERT_HEAP_OK(fx.heap);
    }
    /* A is full, at the head: a slot freed into it comes back first. */
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a[7]));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(alloc_malloc(fx.heap, 64) == a[7]);
    ASSERT_HEAP_OK(fx.heap);
    /* The next request finds A full: A leaves the list and a new run B serves it. */
    for (int i = 0; i < RUN_SLOTS_64; i++) {
        b[i] = alloc_malloc(fx.heap, 64);
        ASSERT_TRUE(b[i] != NULL && run_of_slot(b[i]) == run_of_slot(b[0]));
        ASSERT_HEAP_OK(fx.heap);
    }
    ASSERT_TRUE(run_of_slot(b[0]) != run_of_slot(a[0]));
    /* A gets a slot back off the list: B, full, leaves the list, and A is its only run. */
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a[3]));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(alloc_malloc(fx.heap, 64) == a[3]);
    ASSERT_HEAP_OK(fx.heap);
    /* And the other way round: B back at the head, then full there. */
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b[0]));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(alloc_malloc(fx.heap, 64) == b[0]);
    ASSERT_HEAP_OK(fx.heap);
    /* B, the head, gets a slot back, then A, off the list: A goes behind B, whose slot is taken
     * first; the take after that finds B full, takes it off the list and serves from A. */
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b[1]));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a[0]));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(alloc_malloc(fx.heap, 64) == b[1]);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(alloc_malloc(fx.heap, 64) == a[0]);
    ASSERT_HEAP_OK(fx.heap);
    for (int i = 0; i < RUN_SLOTS_64; i++) {
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a[i]));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b[i]));
        ASSERT_HEAP_OK(fx.heap);
    }
    ASSERT_EQ(0, stats().live_allocations);
    return 0;
}

/*
 * A run given back with a free block before it: that block's header is checked against the run's
 * prev word before the run is merged with it, as free checks a block's free predecessor. A flipped
 * bit there is reported as a corrupted header and the run stays where it is.
 * Expect the free of the run's last slot to report CORRUPTED_HEADER once, at the run's block (the
 * block being given back, whose prev word the damaged header no longer matches), and
 * alloc_heap_check to report it at the damaged block; with the bit restored, the heap intact with
 * its statistics as before, the slot still a live 64-byte slot of its run, whose free then
 * succeeds.
 */
static int runs_release_prev_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a[RUN_SLOTS_64], *b;
    block_t *before;
    if (full_run_then_next(a, &b) != 0 || free_all_but_first(a, &before) != 0)
        return 1;
    struct alloc_stats was = stats();
    size_t reports = fx.reports;
    before->size ^= (hword_t)1 << 9;
    /* A's last slot: A would go back to the strategy and merge with the damaged block. */
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_free(fx.heap, a[0]));
    const block_t *run_block = blk_from_payload((const void *)run_of_slot(a[0]));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, run_block) != 0)
        return 1;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_check(fx.heap));
    if (reported_once_at(reports + 1, ALLOC_ERR_CORRUPTED_HEADER, before) != 0)
        return 1;
    before->size ^= (hword_t)1 << 9;
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(stats_unchanged(&was));
    ASSERT_EQ(64, alloc_usable_size(fx.heap, a[0]));
    ASSERT_EQ(reports + 2, fx.reports);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a[0]));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(0, stats().live_allocations);
    return 0;
}

/*
 * The last slot of a run freed when the run, going back to the strategy, would merge with a
 * damaged free block before it:
 *   | (free F) | run A: a[0] live, every other slot free | run B |
 * with F's header flipped (as runs_release_prev_check) or F's next link bent outside the heap.
 * Expect the free of a[0] to report CORRUPTED_HEADER or CORRUPTED_FREE_LIST once and change
 * nothing: with F repaired, the heap is intact, the statistics as before, a[0] still a live 64-byte
 * slot with its contents, and its free then succeeds. Also with poisoning on free.
 */
static int runs_release_damaged_neighbour_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    for (unsigned way = 0; way < 4; way++) {
        bool bent = (way & 1) != 0;
        fixture_reset(HEAP_SIZE, (way & 2) != 0 ? ALLOC_FLAG_POISON_ON_FREE : 0);
        unsigned char *a[RUN_SLOTS_64], *b;
        block_t *f;
        if (full_run_then_next(a, &b) != 0 || free_all_but_first(a, &f) != 0)
            return 1;
        fixture_fill(a[0], 64, 9);
        struct alloc_stats before = stats();
        hword_t saved_size = f->size;
        uintptr_t link = 0;
        if (bent)
            link = bend_link(blk_payload(f));
        else
            f->size ^= (hword_t)1 << 9;
        size_t reports = fx.reports;
        ASSERT_EQ(bent ? ALLOC_ERR_CORRUPTED_FREE_LIST : ALLOC_ERR_CORRUPTED_HEADER,
                  alloc_free(fx.heap, a[0]));
        ASSERT_EQ(reports + 1, fx.reports);
        f->size = saved_size;
        if (bent)
            unbend_link(blk_payload(f), link);
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_EQ(64, alloc_usable_size(fx.heap, a[0]));
        ASSERT_TRUE(fixture_pattern_ok(a[0], 64, 9));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a[0]));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(0, stats().live_allocations);
    }
    return 0;
}

/*
 * A realloc that moves the last slot in use of a run, which, emptied by the move, would go back to
 * the strategy and merge with a damaged free block before it:
 *   | (free F, next link bent) | run A: a[0] live, every other slot free | run B |
 * moved to a block (200 bytes) and to a slot of another class (16 bytes), each new block to be had
 * without a search that meets F (a 200-byte block freed onto its quick list, a run of 16-byte
 * slots made before). Expect NULL, reported once, and nothing changed: with F repaired, a[0] live
 * with its contents, the heap intact, the statistics as before (but the peak, which the moment the
 * new block was live may raise).
 */
static int runs_realloc_damaged_neighbour_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    static const size_t sizes[] = {200, 16};
    for (size_t way = 0; way < sizeof(sizes) / sizeof(sizes[0]); way++) {
        fixture_reset(HEAP_SIZE, 0);
        unsigned char *a[RUN_SLOTS_64], *b;
        block_t *f;
        if (full_run_then_next(a, &b) != 0)
            return 1;
        unsigned char *small = alloc_malloc(fx.heap, 16); /* a run of 16-byte slots */
        ASSERT_TRUE(small != NULL);
        if (free_all_but_first(a, &f) != 0)
            return 1;
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, alloc_malloc(fx.heap, 200)));
        fixture_fill(a[0], 64, 9);
        ASSERT_HEAP_OK(fx.heap);
        /* F as the 200-byte block's take and free have left it. */
        if (free_before_run(a[0], &f) != 0)
            return 1;
        struct alloc_stats before = stats();
        uintptr_t link = bend_link(blk_payload(f));
        size_t reports = fx.reports;
        ASSERT_TRUE(alloc_realloc(fx.heap, a[0], sizes[way]) == NULL);
        if (reported_once(reports, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
            return 1;
        unbend_link(blk_payload(f), link);
        ASSERT_HEAP_OK(fx.heap);
        struct alloc_stats now = stats();
        ASSERT_TRUE(now.peak_in_use >= before.peak_in_use);
        before.peak_in_use = now.peak_in_use;
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_EQ(64, alloc_usable_size(fx.heap, a[0]));
        ASSERT_TRUE(fixture_pattern_ok(a[0], 64, 9));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a[0]));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, small));
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(0, stats().live_allocations);
    }
    return 0;
}

/*
 * A request the heap cannot serve, made when a run with no slot in use is kept (the only run of
 * its class; variants with runs) and no block is quick-listed (elsewhere the 64-byte block may be):
 *   | ctrl | (gap) | run A: every slot free | (free) | END |
 * Expect NULL with the live blocks and the statistics as they were, but for what heap.h allows:
 * the empty run released (bytes_free and largest_free may rise, free_blocks change, overhead_bytes
 * fall by what bytes_free gains: the rest of an unchanged region_size and bytes_in_use), and the
 * statistics as the walk counts them before and after. A request that fails its bounds first
 * changes nothing.
 */
static int failed_request_stats_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    void *p = alloc_malloc(fx.heap, 64);
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_STATS_MATCH_WALK(fx.heap);
    struct alloc_stats before = stats();
    ASSERT_TRUE(alloc_malloc(fx.heap, ALLOC_MAX_REQUEST + 1) == NULL);
    ASSERT_TRUE(alloc_allocate(fx.heap, 64, 3) == NULL);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_TRUE(alloc_malloc(fx.heap, HEAP_SIZE) == NULL);
    ASSERT_HEAP_OK(fx.heap);
    struct alloc_stats now = stats();
    ASSERT_EQ(before.region_size, now.region_size);
    ASSERT_EQ(before.bytes_in_use, now.bytes_in_use);
    ASSERT_EQ(before.live_allocations, now.live_allocations);
    ASSERT_EQ(before.peak_in_use, now.peak_in_use);
    ASSERT_TRUE(now.bytes_free >= before.bytes_free && now.largest_free >= before.largest_free);
    ASSERT_STATS_MATCH_WALK(fx.heap);
    /* With runs, the empty run went back: its meta and header are free bytes now. */
    if (fixture_runs())
        ASSERT_TRUE(now.bytes_free > before.bytes_free);
    return 0;
}

/*
 * A request the heap cannot serve, which releases the runs with no slot in use before it fails,
 * when the strategy refuses the one run kept (the only run of its class with free slots) for the
 * damaged free block before it:
 *   | (free F, next link bent) | run A: every slot free | (free) | END |
 * Expect NULL, the damage reported once, and nothing changed: with F repaired, the heap intact,
 * its statistics as before (A kept, listed) and A's slots served again.
 */
static int runs_release_empty_refused_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *p = alloc_malloc(fx.heap, 64);
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
    ASSERT_HEAP_OK(fx.heap);
    block_t *f;
    if (free_before_run(p, &f) != 0)
        return 1;
    struct alloc_stats before = stats();
    uintptr_t link = bend_link(blk_payload(f));
    size_t reports = fx.reports;
    ASSERT_TRUE(alloc_malloc(fx.heap, HEAP_SIZE) == NULL);
    if (reported_once(reports, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
        return 1;
    unbend_link(blk_payload(f), link);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_TRUE(alloc_malloc(fx.heap, 64) == p);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * An extension whose new space would merge with the heap's last block, free, whose next link
 * is bent outside the heap:  | ctrl | A | (free F, link bent) | END | + extension.
 * Expect ALLOC_ERR_CORRUPTED_FREE_LIST, reported once, and nothing changed: with the link
 * restored, the heap is intact with its statistics and size as before, and the same extension
 * then succeeds and merges with F. Where F is the TLSF top block (TOP_BLOCK), which is on no list
 * and has no links, the bent word is payload that nothing reads: expect the extension to succeed
 * at once, with no report, F grown by it as the top block.
 */
static int extend_bent_link_check(void) {
    block_t *f;
    if (free_tail(&f) != 0)
        return 1;
    bool top = fx.variant->strategy == ALLOC_STRATEGY_TLSF && TOP_BLOCK;
    ASSERT_TRUE(!top || tlsf_of(fx.heap)->top == f);
    struct alloc_stats before = stats();
    uintptr_t link = bend_link(blk_payload(f));
    size_t reports = fx.reports;
    enum alloc_error e = alloc_heap_extend(fx.heap, 4096);
    unbend_link(blk_payload(f), link);
    if (top) {
        ASSERT_EQ(ALLOC_OK, e);
        ASSERT_EQ(reports, fx.reports);
        ASSERT_TRUE(tlsf_of(fx.heap)->top == f);
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(before.largest_free + 4096, stats().largest_free);
        return 0;
    }
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, e);
    ASSERT_EQ(reports + 1, fx.reports);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_EQ(ALLOC_OK, alloc_heap_extend(fx.heap, 4096));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(before.largest_free + 4096, stats().largest_free);
    return 0;
}

/*
 * A request that meets a damaged free block, retried nowhere:
 *   | S (a run, where there are runs) | (free A, next link bent) | G | [q] (quick, where there are
 *   quick lists) | (free) | END |
 * Expect alloc_malloc of a size that only A's list serves (good fit) to return NULL with the
 * damage reported once: not again by the retry after the quick lists' flush, nor by the one after
 * the release of empty runs. The same of alloc_allocate_batch, whose blocks one by one would
 * meet A too: 0, one report. With A's link restored, the heap is intact.
 */
static int refused_request_reports_once_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *s = alloc_malloc(fx.heap, 16);
    unsigned char *a = alloc_malloc(fx.heap, 4000), *g = alloc_malloc(fx.heap, BIG);
    unsigned char *q = alloc_malloc(fx.heap, 100);
    ASSERT_TRUE(s != NULL && a != NULL && g != NULL && q != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, q));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    uintptr_t link = bend_link(a);
    size_t reports = fx.reports;
    ASSERT_TRUE(alloc_malloc(fx.heap, 3000) == NULL);
    if (reported_once(reports, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
        return 1;
    void *out[4];
    ASSERT_EQ(0, alloc_allocate_batch(fx.heap, 700, out, 4));
    if (reported_once(reports + 1, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
        return 1;
    unbend_link(a, link);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(alloc_malloc(fx.heap, 3000) != NULL);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * An error hook that looks at the heap it reports on (alloc_heap_stats, then alloc_heap_check,
 * whose own report it lets through without looking again), for the checks that a report finds
 * the heap as it was. It records what it saw at the first report.
 */
static struct {
    bool inside;
    size_t reports;
    struct alloc_stats stats;
    enum alloc_error check;
} seen;

static void looking_hook(void *ctx, enum alloc_error error, const void *ptr) {
    fixture_hook(ctx, error, ptr);
    if (seen.inside || seen.reports++ != 0)
        return;
    seen.inside = true;
    alloc_heap_stats(fx.heap, &seen.stats);
    seen.check = alloc_heap_check(fx.heap);
    seen.inside = false;
}

/* Makes fx.heap report to looking_hook (sealed as init seals a hook), with nothing seen yet. */
static void look_at_reports(void) {
    memset(&seen, 0, sizeof(seen));
    hook_set(fx.heap, looking_hook, fx.heap->hook_ctx);
}

/*
 * extend_bent_link_check's extension, the heap's last block free with its next link bent, under
 * a hook that looks at the heap. Expect the extension refused, reported once, and the hook to find
 * the heap as it was: the statistics of before the call (not those of a heap half extended), and
 * alloc_heap_check naming the bent link, ALLOC_ERR_CORRUPTED_FREE_LIST. Not where that block is
 * the TLSF top block, which has no links: the extension is not refused there (see
 * extend_bent_link_check), and there is no report to look at.
 */
static int extend_refused_hook_check(void) {
    if (fx.variant->strategy == ALLOC_STRATEGY_TLSF && TOP_BLOCK)
        SKIP_CHECK("the heap's last free block is the TLSF top block (TOP_BLOCK), which has no "
                   "links to bend: the extension is not refused, no report to look at");
    block_t *f;
    if (free_tail(&f) != 0)
        return 1;
    struct alloc_stats before = stats();
    uintptr_t link = bend_link(blk_payload(f));
    look_at_reports();
    enum alloc_error e = alloc_heap_extend(fx.heap, 4096);
    unbend_link(blk_payload(f), link);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, e);
    ASSERT_EQ(1, seen.reports);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, seen.check);
    ASSERT_TRUE(memcmp(&before, &seen.stats, sizeof(before)) == 0);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(stats_unchanged(&before));
    return 0;
}

/*
 * An allocation from a free block A whose successor U reads FREE, sealed (two free neighbours,
 * which no sound heap has) and fails the checks of a free-list node (its PREV_FREE set, its links
 * payload bytes):  | (free A) | U, sealed FREE | (free) | END |, a request A serves with room to
 * spare. A build without fast paths (ALLOC_FAST_PATHS 0: :alloc_minimal, :alloc_general_paths),
 * whose shrink of A would merge the spare room into U, checks that a free block's successor is not
 * FREE before taking it (tlsf.c, free_node_ok) and reports the damage: expect one report, and the
 * hook to find the heap as it was: the statistics of before the call and alloc_heap_check naming
 * the damage (not a statistics mismatch of a block half handed out). A build with fast paths checks
 * a free block's own header and boundary tag alone (free_header_ok), not its successor's state:
 * expect no report and A handed out, its spare room not merged into U. With U restored, the heap
 * is intact either way.
 */
static int alloc_refused_hook_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF)
        SKIP_CHECK("first fit looks at no successor of the block it takes");
    unsigned char *a, *u;
    if (free_then_used(BIG, BIG, &a, &u) != 0)
        return 1;
    block_t *ub = blk_from_payload(u);
    ASSERT_TRUE(blk_prev_free(ub));
    hword_t word = ub->size;
    word_set(fx.heap, &ub->size, (word & ~TAG_MASK & ~STATE_MASK) | ST_FREE);
    struct alloc_stats before = stats();
    look_at_reports();
    void *p = alloc_malloc(fx.heap, BIG / 2);
    ub->size = word;
    if (ALLOC_FAST_PATHS) {
        ASSERT_EQ(0, seen.reports);
        ASSERT_TRUE(p == a);
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
        ASSERT_HEAP_OK(fx.heap);
        return 0;
    }
    ASSERT_EQ(1, seen.reports);
    ASSERT_TRUE(memcmp(&before, &seen.stats, sizeof(before)) == 0);
    ASSERT_TRUE(seen.check != ALLOC_OK && seen.check != ALLOC_ERR_STATS_MISMATCH);
    ASSERT_HEAP_OK(fx.heap);
    if (p != NULL)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 *   | (free A, on its list) | U | (top) | END |, A's size word sealed with RUN_FLAG set besides its
 * FREE state: a forged word, which a carving's flip of the state to USED (word_flip, blk_set_state)
 * would carry over, making A a run to the next free. A request A alone would serve.
 * Expect the damage reported as ALLOC_ERR_CORRUPTED_FREE_LIST and A not handed out; with A's word
 * restored, the heap intact.
 */
static int free_word_run_flag_check(void) {
    unsigned char *a, *u;
    if (free_then_used(BIG, BIG, &a, &u) != 0)
        return 1;
    block_t *ab = blk_from_payload(a);
    hword_t word = ab->size;
    ASSERT_EQ(ST_FREE, word & STATE_MASK);
    word_set(fx.heap, &ab->size, (word & ~TAG_MASK) | RUN_FLAG);
    size_t reports = fx.reports;
    void *p = alloc_malloc(fx.heap, BIG);
    ab->size = word;
    ASSERT_TRUE(p != a);
    if (reported_once(reports, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
        return 1;
    ASSERT_HEAP_OK(fx.heap);
    if (p != NULL)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, u));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A new run whose block the strategy hands out 16 bytes longer than a run (the rest too small to
 * split), which goes back to the strategy, whose release refuses it for a damaged successor:
 *   | X | (free, 48) | (top: a run's block at a RUN_ALIGN payload, and 16 bytes) | END, its size
 *   word reading FREE |
 * Expect the small request to be served, the damage reported once, with the heap consistent when
 * the hook looks (the request's block handed out, not a block taken and not accounted): its
 * statistics those after the call, one allocation more than before; and, with the END marker
 * repaired, the heap intact and the block freed.
 */
static int run_block_refused_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    if (!TOP_BLOCK)
        SKIP_CHECK("the run's block is carved from the top block here");
    if (ALLOC_BLOCK_OVERHEAD != 16)
        SKIP_CHECK("every rest of a run's block splits where MIN_BLOCK is 16: none is handed out "
                   "longer");
    /* The END marker 1024-aligned: a run's payload can then end the heap 16 bytes before it. */
    fixture_reset(HEAP_SIZE + ALLOC_BLOCK_OVERHEAD, 0);
    uintptr_t end = fx.heap->end;
    ASSERT_EQ(0, end % 1024);
    uintptr_t payload =
        end - 1024; /* a run's payload (a run is 1024 bytes, so aligned), 1040 to end */
    /* X leaves a top block of 64 bytes in front of it: a gap of 48, the first aligned payload. */
    size_t x = payload - 64 - fx.heap->first - ALLOC_BLOCK_OVERHEAD;
    ASSERT_TRUE(alloc_malloc(fx.heap, x) != NULL);
    ASSERT_HEAP_OK(fx.heap);
    block_t *end_marker = blk_at(end);
    end_marker->size ^= ST_FREE; /* reads FREE, its check bits no longer match */
    struct alloc_stats before = stats();
    look_at_reports();
    void *p = alloc_malloc(fx.heap, 16);
    end_marker->size ^= ST_FREE;
    struct alloc_stats after = stats();
    ASSERT_EQ(1, seen.reports);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, fx.report_error[0]);
    ASSERT_TRUE(memcmp(&after, &seen.stats, sizeof(after)) == 0);
    ASSERT_TRUE(seen.check != ALLOC_OK && seen.check != ALLOC_ERR_STATS_MISMATCH);
    ASSERT_TRUE(p != NULL);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(before.live_allocations + 1, after.live_allocations);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A quick-listed block Q merged into the lists, whose free neighbour A (a block too large for a
 * quick list, its next link bent) the merge refuses:
 *   | A (free, link bent) | [Q] | B |     (the flush of a request that fails)
 *   | B | [Q] | A (free, link bent) | G | (a realloc of B that would grow into Q)
 * under a hook that looks at the heap. Expect one report, the hook finding the heap as it was
 * (Q still a quick block on its list: the statistics of before, alloc_heap_check naming the bent
 * link, ALLOC_ERR_CORRUPTED_FREE_LIST, not a statistics mismatch), and with the link restored the
 * heap intact and Q still quick-listed; the failed request NULL, the realloc a move.
 */
static int quick_merge_refused_hook_check(void) {
    if (!fixture_quick())
        SKIP_CHECK("this variant has no quick lists");
    for (int way = 0; way < 2; way++) {
        fixture_reset(HEAP_SIZE, 0);
        unsigned char *first = alloc_malloc(fx.heap, BIG);
        unsigned char *q = alloc_malloc(fx.heap, 100);
        unsigned char *last = alloc_malloc(fx.heap, BIG);
        unsigned char *g = alloc_malloc(fx.heap, BIG);
        ASSERT_TRUE(first != NULL && q != NULL && last != NULL && g != NULL);
        unsigned char *a = way == 0 ? first : last, *b = way == 0 ? last : first;
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, q));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(ST_QUICK, blk_state(blk_from_payload(q)));
        struct alloc_stats before = stats();
        uintptr_t link = bend_link(a);
        look_at_reports();
        void *p = way == 0 ? alloc_malloc(fx.heap, HEAP_SIZE) : alloc_realloc(fx.heap, b, BIG + 64);
        unbend_link(a, link);
        ASSERT_EQ(1, seen.reports);
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, seen.check);
        ASSERT_TRUE(memcmp(&before, &seen.stats, sizeof(before)) == 0);
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(ST_QUICK, blk_state(blk_from_payload(q)));
        if (way == 0) {
            ASSERT_TRUE(p == NULL);
            ASSERT_TRUE(stats_unchanged(&before));
        } else {
            /* Not grown in place: moved, as a realloc whose successor is in use. */
            ASSERT_TRUE(p != NULL && p != b);
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
            ASSERT_HEAP_OK(fx.heap);
        }
    }
    return 0;
}

/*
 * A run emptied by a free, given back to the strategy, which refuses it (the free block before it
 * damaged), while the head of its class's list is damaged too:
 *   | (free F, next link bent) | run A: a[0] live | run B: b[0] live | run C: c live |
 * with the list C -> B -> A and C's prev link not 0. A, refused, can go behind no damaged head.
 * Expect the free of a[0] to fail with CORRUPTED_FREE_LIST, both faults reported (F by the
 * strategy, C here), and A kept on its list, in front of C (whose links are not written): its
 * slots are served again, the next 64-byte request from A; alloc_heap_check names the list.
 */
static int runs_refused_damaged_head_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a[RUN_SLOTS_64], *b[RUN_SLOTS_64], *c;
    for (int i = 0; i < RUN_SLOTS_64; i++) {
        a[i] = alloc_malloc(fx.heap, 64);
        ASSERT_TRUE(a[i] != NULL && run_of_slot(a[i]) == run_of_slot(a[0]));
    }
    for (int i = 0; i < RUN_SLOTS_64; i++) {
        b[i] = alloc_malloc(fx.heap, 64);
        ASSERT_TRUE(b[i] != NULL && run_of_slot(b[i]) == run_of_slot(b[0]));
    }
    c = alloc_malloc(fx.heap, 64);
    ASSERT_TRUE(c != NULL && run_of_slot(c) != run_of_slot(b[0]));
    /* A, then B, get slots back: each goes behind the head C. */
    for (int i = 1; i < RUN_SLOTS_64; i++)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a[i]));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b[1]));
    ASSERT_HEAP_OK(fx.heap);
    block_t *f;
    if (free_before_run(a[0], &f) != 0)
        return 1;
    uintptr_t link = bend_link(blk_payload(f));
    /* C's prev link, as a stray write. */
    uint64_t *c_meta = (uint64_t *)run_of_slot(c);
    c_meta[RUN_PREV] = run_of_slot(b[0]);
    size_t reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_free(fx.heap, a[0]));
    unbend_link(blk_payload(f), link);
    ASSERT_EQ(reports + 2, fx.reports);
    ASSERT_TRUE(fx.report_error[fx.reports - 1] == ALLOC_ERR_CORRUPTED_FREE_LIST &&
                fx.report_ptr[fx.reports - 1] == (const void *)run_of_slot(c));
    unsigned char *again = alloc_malloc(fx.heap, 64);
    ASSERT_TRUE(again != NULL && run_of_slot(again) == run_of_slot(a[0]));
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_heap_check(fx.heap));
    return 0;
}

/*
 * A small request that a new run would serve, on a heap whose one listed free block, which good
 * fit finds for the run's block and for a block of the request alike, has its next link bent:
 *   | (free A, link bent) | G | (top) |     no run made yet, so no free block a run's alignment
 *                                         left, which would serve the block
 * Expect NULL and the damage reported once: not again by the block asked for after the run's.
 * With A's link restored, the heap is intact and the request served.
 */
static int run_block_then_block_reports_once_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    unsigned char *a, *g;
    if (free_then_used(4000, BIG, &a, &g) != 0)
        return 1;
    uintptr_t link = bend_link(a);
    size_t reports = fx.reports;
    ASSERT_TRUE(alloc_malloc(fx.heap, 16) == NULL);
    if (reported_once(reports, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
        return 1;
    unbend_link(a, link);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(alloc_malloc(fx.heap, 16) != NULL);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A heap filled with 64-byte requests after a BIG block P and a 16-byte slot S: runs X, Y, W, ...
 * of 64-byte slots, every slot in use, then 64-byte blocks once no run's block can be had, until
 * not even a block can (class 4's list then empty: the take that found its last run full took it
 * off). P is then freed where `room` asks for it: room for a 64-byte block, none for a run.
 *   | P (free if room) | S's run | X | Y | W | ... | 64-byte blocks | END |
 * Then class 4's list is damaged one of RUN_LIST_DAMAGES ways, with X given a slot back:
 *   0  X alone on the list, the class bits of its state word flipped (4 -> 5);
 *   1  X alone on the list, a bit of its check word flipped;
 *   2  X full at the head (its slot taken again) and Y behind it with a slot free, Y's prev link
 *      bent to W.
 * *d gets S, a slot of W (a full run off the list), the damaged word and its value, and the
 * statistics and report count from just before the damage.
 */
enum { RUN_LIST_DAMAGES = 3 };

struct damaged_run_list {
    unsigned char *s, *in_w;
    uint64_t *word, saved;
    struct alloc_stats before;
    size_t reports;
};

static void *filled[HEAP_SIZE / 64];

static int damage_run_list(unsigned damage, bool room, struct damaged_run_list *d) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *p = alloc_malloc(fx.heap, BIG);
    d->s = alloc_malloc(fx.heap, 16);
    ASSERT_TRUE(p != NULL && d->s != NULL);
    fixture_fill(d->s, 16, 5);
    size_t n = 0;
    for (void *q; (q = alloc_malloc(fx.heap, 64)) != NULL;) {
        ASSERT_TRUE(n < sizeof(filled) / sizeof(filled[0]));
        filled[n++] = q;
    }
    ASSERT_EQ(0, fx.reports);
    ASSERT_TRUE(n > 3 * RUN_SLOTS_64);
    uintptr_t x = run_of_slot(filled[0]), y = run_of_slot(filled[RUN_SLOTS_64]);
    uintptr_t w = run_of_slot(filled[2 * RUN_SLOTS_64]);
    ASSERT_TRUE(x != y && y != w && w == run_of_slot(filled[3 * RUN_SLOTS_64 - 1]));
    d->in_w = filled[2 * RUN_SLOTS_64];
    ASSERT_EQ(0, fx.heap->run_head[4]);
    if (room)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
    uint64_t *meta_x = (uint64_t *)x, *meta_y = (uint64_t *)y;
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, filled[0]));
    ASSERT_EQ(x, fx.heap->run_head[4]);
    ASSERT_EQ(0, meta_x[RUN_NEXT]);
    if (damage == 2) {
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, filled[RUN_SLOTS_64]));
        ASSERT_TRUE(alloc_malloc(fx.heap, 64) == filled[0]);
        ASSERT_EQ(y, meta_x[RUN_NEXT]);
        ASSERT_EQ(x, meta_y[RUN_PREV]);
    }
    ASSERT_HEAP_OK(fx.heap);
    d->before = stats();
    d->reports = fx.reports;
    d->word = damage == 0   ? &meta_x[RUN_STATE]
              : damage == 1 ? &meta_x[RUN_CHECK]
                            : &meta_y[RUN_PREV];
    d->saved = *d->word;
    *d->word = damage == 0   ? d->saved ^ (uint64_t)1 << 61
               : damage == 1 ? d->saved ^ (uint64_t)1 << 7
                             : (uint64_t)w;
    return 0;
}

/*
 * After the one operation on a damaged run list: one report, CORRUPTED_FREE_LIST; with the word
 * repaired, the heap intact, its statistics as before the damage, S live with its contents, and a
 * 64-byte request served again from the list.
 */
static int damaged_run_list_after(const struct damaged_run_list *d) {
    if (reported_once(d->reports, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
        return 1;
    *d->word = d->saved;
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(stats_unchanged(&d->before));
    ASSERT_EQ(16, alloc_usable_size(fx.heap, d->s));
    ASSERT_TRUE(fixture_pattern_ok(d->s, 16, 5));
    ASSERT_TRUE(alloc_malloc(fx.heap, 64) != NULL);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

enum { TAKE_MALLOC, TAKE_CALLOC, TAKE_ALLOCATE, TAKE_REALLOC, TAKE_BATCH, TAKE_OPS };
static const char *const take_op_name[TAKE_OPS] = {"malloc", "calloc", "allocate", "realloc",
                                                   "batch"};

/* One case of runs_damaged_list_take_reports_once_check. */
static int damaged_run_list_take(unsigned damage, bool room, unsigned op) {
    struct damaged_run_list d;
    if (damage_run_list(damage, room, &d) != 0)
        return 1;
    void *out[2];
    switch (op) {
    case TAKE_MALLOC:
        ASSERT_TRUE(alloc_malloc(fx.heap, 64) == NULL);
        break;
    case TAKE_CALLOC:
        ASSERT_TRUE(alloc_calloc(fx.heap, 4, 16) == NULL);
        break;
    case TAKE_ALLOCATE:
        ASSERT_TRUE(alloc_allocate(fx.heap, 64, 16) == NULL);
        break;
    case TAKE_REALLOC: /* S, a 16-byte slot, grown to another class */
        ASSERT_TRUE(alloc_realloc(fx.heap, d.s, 64) == NULL);
        break;
    default:
        ASSERT_EQ(0, alloc_allocate_batch(fx.heap, 64, out, 2));
        break;
    }
    return damaged_run_list_after(&d);
}

/*
 * The head of a class's run list with a low bit set by a stray write (the run's address + 4, then
 * + 1): the fast paths of malloc and calloc must not load the run's meta as words from the
 * misaligned place, which UndefinedBehaviorSanitizer reports and a strict-alignment target (the
 * Cortex-M4's 64-bit loads) faults on. Expect each refused (NULL) with the damaged list reported,
 * ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_heap_check to report it too, and the heap whole, serving
 * that class again, once the word is put back.
 */
static int runs_misaligned_head_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    unsigned c = run_class_of(48);
    unsigned char *a = alloc_malloc(fx.heap, 48);
    ASSERT_TRUE(a != NULL);
    uintptr_t run = fx.heap->run_head[c];
    ASSERT_TRUE(run != 0 && run_of_slot(a) == run);
    static const uintptr_t low_bits[] = {4, 1};
    for (size_t i = 0; i < sizeof(low_bits) / sizeof(low_bits[0]); i++) {
        fx.heap->run_head[c] = run + low_bits[i];
        size_t reports = fx.reports;
        ASSERT_TRUE(alloc_malloc(fx.heap, 48) == NULL);
        ASSERT_TRUE(alloc_calloc(fx.heap, 1, 48) == NULL);
        ASSERT_EQ(reports + 2, fx.reports);
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, fx.report_error[reports]);
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, fx.report_error[reports + 1]);
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_heap_check(fx.heap));
        fx.heap->run_head[c] = run;
        ASSERT_HEAP_OK(fx.heap);
        unsigned char *p = alloc_malloc(fx.heap, 48);
        ASSERT_TRUE(p != NULL && run_of_slot(p) == run);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, p));
    }
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A 64-byte request on a damaged list of runs of 64-byte slots (damage_run_list's three ways),
 * made by alloc_malloc, alloc_calloc, alloc_allocate at 16, alloc_realloc of a 16-byte slot and
 * alloc_allocate_batch of two (with no room only: with room its one block of whole lines is had
 * without the list), each with room for a 64-byte block and without.
 * Expect each to be refused (NULL, or 0 from the batch) with the damage reported once: not again
 * by the block that serves the request when no run does, nor by the release of empty runs that
 * follows when no block can be had either; and nothing changed (damaged_run_list_after).
 * Every case runs; each that fails is named.
 */
static int runs_damaged_list_take_reports_once_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    int failures = 0;
    for (unsigned damage = 0; damage < RUN_LIST_DAMAGES; damage++) {
        for (unsigned room = 0; room < 2; room++) {
            for (unsigned op = 0; op < TAKE_OPS; op++) {
                if (op == TAKE_BATCH && room)
                    continue;
                if (damaged_run_list_take(damage, room, op) != 0) {
                    fprintf(stderr, "  ^ %s, damage %u, %s\n", take_op_name[op], damage,
                            room ? "room for a block" : "no room");
                    failures++;
                }
            }
        }
    }
    ASSERT_EQ(0, failures);
    return 0;
}

/*
 * The free of a slot of W, a full run off the list, on a damaged list of runs of 64-byte slots
 * (damage_run_list's three ways, room or not): W, getting its first free slot back, would join the
 * list behind its head (X), which is damaged (0, 1) or, full, would leave the list first but for
 * Y's bent prev link (2).
 * Expect ALLOC_ERR_CORRUPTED_FREE_LIST, reported once, and nothing changed: the slot still live
 * (64 usable bytes, its free then succeeds) and damaged_run_list_after's checks.
 */
static int runs_damaged_list_free_reports_once_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    for (unsigned damage = 0; damage < RUN_LIST_DAMAGES; damage++) {
        for (unsigned room = 0; room < 2; room++) {
            struct damaged_run_list d;
            if (damage_run_list(damage, room, &d) != 0)
                return 1;
            fixture_fill(d.in_w, 64, 6);
            ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_free(fx.heap, d.in_w));
            if (damaged_run_list_after(&d) != 0)
                return 1;
            ASSERT_EQ(64, alloc_usable_size(fx.heap, d.in_w));
            ASSERT_TRUE(fixture_pattern_ok(d.in_w, 64, 6));
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, d.in_w));
            ASSERT_HEAP_OK(fx.heap);
        }
    }
    return 0;
}

/* With poisoning, a write to a freed slot is found by the check. */
static int runs_poison_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, ALLOC_FLAG_POISON_ON_FREE);
    unsigned char *a = alloc_malloc(fx.heap, 24), *b = alloc_malloc(fx.heap, 24);
    ASSERT_TRUE(a != NULL && b != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    for (int i = 0; i < 32; i++)
        ASSERT_EQ(ALLOC_POISON_FREE_BYTE, a[i]);
    ASSERT_HEAP_OK(fx.heap);
    a[5] = 0;
    ASSERT_EQ(ALLOC_ERR_WRITE_AFTER_FREE, alloc_heap_check(fx.heap));
    return 0;
}

/*
 * A refused call's heap, its one fault the n bytes at p (saved[0..n) their bytes before): the
 * integrity check returns `error`, reported once, and finds the heap intact with the bytes put back
 * (check_without_damage). Returns 0, or 1 after printing the assertion that failed.
 */
static int damage_alone(enum alloc_error error, void *p, const void *saved, size_t n) {
    size_t reports = fx.reports;
    ASSERT_EQ(error, alloc_heap_check(fx.heap));
    if (reported_once(reports, error) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, check_without_damage(p, saved, n));
    return 0;
}

/*
 * Runs a check's case for each of its `ways` ways, every one even after one fails, naming on
 * stderr each that fails (way_name[way]), so that one failure does not hide another. Returns 0,
 * or 1 after printing the assertion that failed.
 */
static int every_way(int (*run)(unsigned way), const char *const way_name[], unsigned ways) {
    int failures = 0;
    for (unsigned way = 0; way < ways; way++) {
        if (run(way) != 0) {
            fprintf(stderr, "  ^ %s\n", way_name[way]);
            failures++;
        }
    }
    ASSERT_EQ(0, failures);
    return 0;
}

/*
 * The ways damage_free_prev damages the size of a free predecessor P as its successor S finds it:
 * P's size word sealed afresh a granule smaller (P's list unchanged), or one of its check bits
 * flipped; S's prev word, P's boundary tag, sealed afresh a granule larger (naming a block that
 * would start in the block before P), or one of its check bits flipped.
 */
#define PREV_DAMAGES 4
static const char *const prev_damage_name[PREV_DAMAGES] = {
    "size word resealed smaller", "size word check bit", "boundary tag resealed larger",
    "boundary tag check bit"};

/* Damages P's size as S finds it, the way `way`; returns the word damaged, its value in *saved. */
static hword_t *damage_free_prev(block_t *p, block_t *s, unsigned way, hword_t *saved) {
    hword_t *w = way < 2 ? &p->size : &s->prev;
    *saved = *w;
    if (way == 0)
        word_set(fx.heap, w, (hword_t)(blk_size(p) - GRANULE) | ST_FREE);
    else if (way == 2)
        word_set(fx.heap, w, (hword_t)(blk_size(p) + GRANULE));
    else
        *w ^= (hword_t)1 << TAG_SHIFT;
    return w;
}

/*
 * free_prev_damaged_refused_check's case `way`: B, whose free predecessor A it would merge with,
 * freed with A's size damaged as B finds it (damage_free_prev).
 */
static int free_prev_damaged_refused(unsigned way) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *x = alloc_malloc(fx.heap, BIG), *a = alloc_malloc(fx.heap, BIG);
    unsigned char *b = alloc_malloc(fx.heap, BIG), *c = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(x != NULL && a != NULL && b != NULL && c != NULL);
    fixture_fill(x, BIG, 1);
    fixture_fill(b, BIG, 2);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    block_t *ab = blk_from_payload(a), *bb = blk_from_payload(b);
    ASSERT_EQ(ST_FREE, blk_state(ab));
    ASSERT_TRUE(blk_prev_free(bb));
    size_t a_size = blk_size(ab), b_size = blk_size(bb);
    struct alloc_stats before = stats();
    hword_t saved;
    hword_t *w = damage_free_prev(ab, bb, way, &saved);
    const block_t a_damaged = *ab, b_damaged = *bb;
    size_t reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_free(fx.heap, b));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, b) != 0)
        return 1;
    /* No merge made, on the damaged size or any other: both headers and B's bytes as they were. */
    ASSERT_TRUE(memcmp(ab, &a_damaged, sizeof(*ab)) == 0);
    ASSERT_TRUE(memcmp(bb, &b_damaged, sizeof(*bb)) == 0);
    ASSERT_TRUE(fixture_pattern_ok(x, BIG, 1));
    ASSERT_TRUE(fixture_pattern_ok(b, BIG, 2));
    if (damage_alone(ALLOC_ERR_CORRUPTED_HEADER, w, &saved, sizeof(saved)) != 0)
        return 1;
    *w = saved;
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_EQ(a_size + b_size, blk_size(ab));
    ASSERT_EQ(before.live_allocations - 1, stats().live_allocations);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A free whose block B would merge with its free predecessor A, A's size as B finds it damaged
 * (damage_free_prev's four ways: A's size word, or B's prev word that names A):
 *   | ctrl | X | (free A) | B | C | (top) | END |   blocks too large for a quick list or a run
 * Expect alloc_free(B) to return ALLOC_ERR_CORRUPTED_HEADER, reported once at B, and nothing
 * changed: no merge on a wrong size (A's and B's headers, X's and B's bytes as they were), the
 * damaged word the heap's one fault; with it put back, the statistics as before, the heap intact,
 * and B's free merging it into A. Every way runs; each that fails is named.
 */
static int free_prev_damaged_refused_check(void) {
    return every_way(free_prev_damaged_refused, prev_damage_name, PREV_DAMAGES);
}

#if QUICK_BINS > 0
/*
 * The end of quick_prev_damaged_refused and quick_next_damaged_refused, once the flush has refused
 * Q: w, the damaged word, the heap's one fault (damage_alone), put back (saved); then the
 * statistics as before, the heap intact, and q, Q's payload, served by the next request of its
 * size and freed. Returns 0, or 1 after printing the assertion that failed.
 */
static int quick_damage_put_back(hword_t *w, hword_t saved, const struct alloc_stats *before,
                                 void *q) {
    if (damage_alone(ALLOC_ERR_CORRUPTED_HEADER, w, &saved, sizeof(saved)) != 0)
        return 1;
    *w = saved;
    ASSERT_TRUE(stats_unchanged(before));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(alloc_malloc(fx.heap, 100) == q);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, q));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * quick_prev_damaged_refused_check's case `way`: Q, quick-listed, whose free predecessor A the
 * flush would merge it with, A's size damaged as Q finds it (damage_free_prev).
 */
static int quick_prev_damaged_refused(unsigned way) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *x = alloc_malloc(fx.heap, BIG), *a = alloc_malloc(fx.heap, BIG);
    unsigned char *q = alloc_malloc(fx.heap, 100), *u = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(x != NULL && a != NULL && q != NULL && u != NULL);
    fixture_fill(x, BIG, 1);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, q));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    block_t *ab = blk_from_payload(a), *qb = blk_from_payload(q);
    struct tlsf_state *t = tlsf_of(fx.heap);
    size_t i = quick_index_for(100);
    ASSERT_TRUE(t->quick[i] == qb);
    ASSERT_EQ(ST_QUICK, blk_state(qb));
    ASSERT_TRUE(blk_prev_free(qb));
    struct alloc_stats before = stats();
    hword_t saved;
    hword_t *w = damage_free_prev(ab, qb, way, &saved);
    const block_t a_damaged = *ab, q_damaged = *qb;
    size_t reports = fx.reports;
    ASSERT_TRUE(alloc_malloc(fx.heap, HEAP_SIZE) == NULL);
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, qb) != 0)
        return 1;
    /* Q not merged: still on its quick list, both headers and X's bytes as they were. */
    ASSERT_TRUE(t->quick[i] == qb);
    ASSERT_TRUE(memcmp(ab, &a_damaged, sizeof(*ab)) == 0);
    ASSERT_TRUE(memcmp(qb, &q_damaged, sizeof(*qb)) == 0);
    ASSERT_TRUE(fixture_pattern_ok(x, BIG, 1));
    return quick_damage_put_back(w, saved, &before, q);
}
#endif

/*
 * A quick-listed block Q merged into the lists by the flush of a request that fails, its free
 * predecessor A's size as Q finds it damaged (damage_free_prev's four ways):
 *   | ctrl | X | (free A) | [Q] | U | (top) | END |
 * Expect the request to return NULL with one report of ALLOC_ERR_CORRUPTED_HEADER at Q's header,
 * and nothing changed: Q still on its quick list, A's and Q's headers and X's bytes as they were,
 * the damaged word the heap's one fault; with it put back, the statistics as before, the heap
 * intact and Q served by the next request of its size. Every way runs; each that fails is named.
 */
static int quick_prev_damaged_refused_check(void) {
#if QUICK_BINS > 0
    if (!fixture_quick())
        SKIP_CHECK("this variant has no quick lists");
    return every_way(quick_prev_damaged_refused, prev_damage_name, PREV_DAMAGES);
#else
    SKIP_CHECK("quick lists are not compiled in");
#endif
}

/*
 * list_head_smaller_block_refused_check's case: the request made by alloc_malloc (op 0) or by
 * alloc_allocate at 64 bytes (op 1).
 */
static int list_head_smaller_block_refused(unsigned op) {
    const size_t request = 3000, f_size = 4500;
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *f = alloc_malloc(fx.heap, f_size), *u1 = alloc_malloc(fx.heap, BIG);
    unsigned char *g = alloc_malloc(fx.heap, BIG), *u2 = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(f != NULL && u1 != NULL && g != NULL && u2 != NULL);
    fixture_fill(u1, BIG, 1);
    fixture_fill(u2, BIG, 2);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, f));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, g));
    ASSERT_HEAP_OK(fx.heap);
    block_t *gb = blk_from_payload(g);
    block_t **head = list_head_word_of(fx.heap, f), **g_head = list_head_word_of(fx.heap, g);
    ASSERT_TRUE(head != NULL && g_head != NULL && g_head < head);
    ASSERT_TRUE(blk_size(gb) < block_size_for(request));
    const block_t g_hdr = *gb;
    struct alloc_stats before = stats();
    block_t *saved = *head;
    *head = gb;
    size_t reports = fx.reports;
    unsigned char *p =
        op == 0 ? alloc_malloc(fx.heap, request) : alloc_allocate(fx.heap, request, 64);
    ASSERT_TRUE(p == NULL);
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, gb) != 0)
        return 1;
    ASSERT_TRUE(*g_head == gb && *head == gb);
    ASSERT_TRUE(memcmp(gb, &g_hdr, sizeof(g_hdr)) == 0);
    ASSERT_TRUE(fixture_pattern_ok(u1, BIG, 1));
    ASSERT_TRUE(fixture_pattern_ok(u2, BIG, 2));
    if (damage_alone(ALLOC_ERR_CORRUPTED_FREE_LIST, head, &saved, sizeof(block_t *)) != 0)
        return 1;
    *head = saved;
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    p = op == 0 ? alloc_malloc(fx.heap, request) : alloc_allocate(fx.heap, request, 64);
    ASSERT_TRUE(p != NULL && p >= f && p + request <= f + usable_for(f_size));
    ASSERT_EQ(reports + 2, fx.reports);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A stray write into the control structure over the head of the TLSF free list L that holds F, a
 * free block of 4500 bytes: the address of G, a genuine free block of BIG bytes that heads its own
 * list, below L (a sound header, no prev link):
 *   | ctrl | (free F, on L) | U1 | (free G) | U2 | (top) | END |
 * then a 3000-byte request, whose own list is empty and which good fit serves from L, made by
 * alloc_malloc and by alloc_allocate at 64 bytes.
 * Expect NULL with one report of ALLOC_ERR_CORRUPTED_FREE_LIST at G (too small for any block of L:
 * taken, it would overlap U2), and nothing changed: U1 and U2 intact, G heading its own list with
 * its header as it was, the head the heap's one fault; with the head put back, the statistics as
 * before, the heap intact and the request served from F. Both requests run; each that fails is
 * named.
 */
static int list_head_smaller_block_refused_check(void) {
    if (!ALLOC_FAST_PATHS)
        SKIP_CHECK("a build for size trusts its control structure");
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF)
        SKIP_CHECK("only TLSF keeps lists headed in the control structure");
    static const char *const op_name[] = {"malloc", "allocate at 64"};
    return every_way(list_head_smaller_block_refused, op_name, 2);
}

/*
 * free_next_damaged_refused_check's case `way`: B, whose free successor C it would merge with,
 * freed with C's size damaged as the merge finds it: C's size word (way 0) or D's prev word (1).
 */
static int free_next_damaged_refused(unsigned way) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, BIG), *b = alloc_malloc(fx.heap, BIG);
    unsigned char *c = alloc_malloc(fx.heap, BIG), *d = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(a != NULL && b != NULL && c != NULL && d != NULL);
    fixture_fill(b, BIG, 2);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
    ASSERT_HEAP_OK(fx.heap);
    block_t *bb = blk_from_payload(b), *cb = blk_from_payload(c), *db = blk_from_payload(d);
    ASSERT_EQ(ST_FREE, blk_state(cb));
    size_t b_size = blk_size(bb), c_size = blk_size(cb);
    struct alloc_stats before = stats();
    hword_t *w = way == 0 ? &cb->size : &db->prev;
    hword_t saved = *w;
    if (way == 0)
        word_set(fx.heap, w, (hword_t)(c_size - GRANULE) | ST_FREE);
    else
        *w ^= (hword_t)1 << TAG_SHIFT;
    const block_t c_damaged = *cb, d_damaged = *db;
    size_t reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_free(fx.heap, b));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, cb) != 0)
        return 1;
    ASSERT_TRUE(memcmp(cb, &c_damaged, sizeof(*cb)) == 0);
    ASSERT_TRUE(memcmp(db, &d_damaged, sizeof(*db)) == 0);
    ASSERT_TRUE(fixture_pattern_ok(b, BIG, 2));
    ASSERT_EQ(usable_for(BIG), alloc_usable_size(fx.heap, b));
    if (damage_alone(ALLOC_ERR_CORRUPTED_HEADER, w, &saved, sizeof(saved)) != 0)
        return 1;
    *w = saved;
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_EQ(b_size + c_size, blk_size(bb));
    ASSERT_EQ(before.live_allocations - 1, stats().live_allocations);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A free whose block B would merge with its free successor C, C's size as the merge finds it
 * damaged: C's size word sealed afresh a granule smaller (C's list unchanged), or a check bit of
 * the boundary tag after C (D's prev word) flipped:
 *   | ctrl | A | B | (free C) | D | (top) | END |   blocks too large for a quick list or a run
 * Expect alloc_free(B) to return ALLOC_ERR_CORRUPTED_FREE_LIST, reported once at C, and nothing
 * changed: B live, C's and D's headers and B's bytes as they were, the damaged word the heap's one
 * fault; with it put back, the statistics as before, the heap intact and B's free merging C into
 * it. Both ways run; each that fails is named.
 */
static int free_next_damaged_refused_check(void) {
    static const char *const way_name[] = {"size word resealed smaller", "boundary tag check bit"};
    return every_way(free_next_damaged_refused, way_name, 2);
}

/*
 * merge_unlink_bent_link_check's case `way`: C's next link bent to U's header (0), its prev link
 * bent to U's header (1) or to NULL (2), then B freed.
 */
static int merge_unlink_bent_link(unsigned way) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, BIG), *b = alloc_malloc(fx.heap, BIG);
    unsigned char *c = alloc_malloc(fx.heap, BIG), *d = alloc_malloc(fx.heap, BIG);
    unsigned char *e = alloc_malloc(fx.heap, BIG), *u = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(a != NULL && b != NULL && c != NULL && d != NULL && e != NULL && u != NULL);
    fixture_fill(b, BIG, 2);
    fixture_fill(u, BIG, 5);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, e));
    ASSERT_HEAP_OK(fx.heap);
    block_t *bb = blk_from_payload(b), *cb = blk_from_payload(c), *eb = blk_from_payload(e);
    block_t **head = list_head_word_of(fx.heap, e);
    struct free_links *cl = blk_links(cb);
    ASSERT_TRUE(head != NULL && cl->prev == eb && cl->next == NULL);
    ASSERT_TRUE(blk_links(eb)->next == cb);
    size_t b_size = blk_size(bb), c_size = blk_size(cb);
    struct alloc_stats before = stats();
    block_t **link = way == 0 ? &cl->next : &cl->prev;
    block_t *saved = *link;
    *link = way == 2 ? NULL : blk_from_payload(u);
    size_t reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_free(fx.heap, b));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, cb) != 0)
        return 1;
    ASSERT_TRUE(fixture_pattern_ok(u, BIG, 5));
    ASSERT_TRUE(fixture_pattern_ok(b, BIG, 2));
    ASSERT_TRUE(*head == eb && blk_links(eb)->next == cb && blk_links(eb)->prev == NULL);
    ASSERT_EQ(ST_FREE, blk_state(cb));
    if (damage_alone(ALLOC_ERR_CORRUPTED_FREE_LIST, link, &saved, sizeof(block_t *)) != 0)
        return 1;
    *link = saved;
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_EQ(b_size + c_size, blk_size(bb));
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * A free whose merge unlinks B's free successor C from its TLSF list, E -> C (both free, BIG
 * bytes), with a link of C bent to somewhere inside the heap that does not link back: C's next link
 * (NULL) to the header of the live block U, C's prev link (E) to U's header, or C's prev link to
 * NULL (C then looks like its list's head, which it is not):
 *   | ctrl | A | B | (free C) | D | (free E) | U | (top) | END |
 * Expect alloc_free(B) to return ALLOC_ERR_CORRUPTED_FREE_LIST, reported once at C, and nothing
 * changed: U's bytes (nothing written through the bent link), E still heading the list with C
 * after it, B live; with the link put back, the statistics as before, the heap intact and B's free
 * merging C into it. Every way runs; each that fails is named.
 */
static int merge_unlink_bent_link_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF)
        SKIP_CHECK("TLSF's doubly linked lists");
    static const char *const way_name[] = {"next link to a live block", "prev link to a live block",
                                           "prev link NULL, not the head"};
    return every_way(merge_unlink_bent_link, way_name, 3);
}

/*
 * A request served by the head H of its own TLSF list, H the list's one block (BIG bytes), whose
 * next link (NULL), or prev link (NULL: H heads its list), is bent to the header of the live block
 * U, which does not link back:
 *   | ctrl | (free H) | U | (top) | END |
 * Expect alloc_malloc(BIG) to return NULL with one report of ALLOC_ERR_CORRUPTED_FREE_LIST at H,
 * and nothing changed: U's bytes (the unlink of H would write through the link), H heading its
 * list; with the link put back, the statistics as before, the heap intact and the request served
 * by H.
 */
static int head_bent_link_refused(bool prev) {
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF)
        SKIP_CHECK("TLSF's doubly linked lists");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *h = alloc_malloc(fx.heap, BIG), *u = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(h != NULL && u != NULL);
    fixture_fill(u, BIG, 5);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, h));
    ASSERT_HEAP_OK(fx.heap);
    block_t *hb = blk_from_payload(h);
    block_t **head = list_head_word_of(fx.heap, h);
    block_t **link = prev ? &blk_links(hb)->prev : &blk_links(hb)->next;
    ASSERT_TRUE(head != NULL && *link == NULL);
    struct alloc_stats before = stats();
    block_t *saved = *link;
    *link = blk_from_payload(u);
    size_t reports = fx.reports;
    ASSERT_TRUE(alloc_malloc(fx.heap, BIG) == NULL);
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, hb) != 0)
        return 1;
    ASSERT_TRUE(fixture_pattern_ok(u, BIG, 5));
    ASSERT_TRUE(*head == hb);
    ASSERT_EQ(ST_FREE, blk_state(hb));
    if (damage_alone(ALLOC_ERR_CORRUPTED_FREE_LIST, link, &saved, sizeof(block_t *)) != 0)
        return 1;
    *link = saved;
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(alloc_malloc(fx.heap, BIG) == h);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

static int head_bent_next_refused_check(void) {
    return head_bent_link_refused(false);
}

static int head_bent_prev_refused_check(void) {
    return head_bent_link_refused(true);
}

/*
 * s[0..n) <- n 64-byte slots from fx.heap, each run's slots in one run (RUN_SLOTS_64 a run, made
 * one run after another), for the checks that damage run lists.
 */
static int slots_64(unsigned char **s, int n) {
    for (int i = 0; i < n; i++) {
        s[i] = alloc_malloc(fx.heap, 64);
        ASSERT_TRUE(s[i] != NULL);
        ASSERT_EQ(run_of_slot(s[i - i % RUN_SLOTS_64]), run_of_slot(s[i]));
    }
    return 0;
}

/*
 * Safe unlinking of a run from its class's list: the run's neighbours must be sound runs of its
 * class that point back at it, and a run with no predecessor must be the list's head. On
 *   class 4's list: X -> Z -> Y,   W full and off the list
 * (runs of 64-byte slots, made in the order X, Y, Z, W; Z with one slot in use, Z's last), the free
 * of that slot, which empties Z and unlinks it to give it back, is made with the list damaged one
 * of RUN_UNLINK_DAMAGES ways:
 *   0  Z's prev link bent to W, a sound run whose next link does not point back at Z;
 *   1  X's next link bent to Y, past Z;
 *   2  Z's prev link bent to 0, as if Z, which is not, headed the list;
 *   3  Y's prev link bent to X, past Z;
 *   4  a bit of X's check word flipped: Z's predecessor is no sound run;
 *   5  a bit of Y's check word flipped: Z's successor is no sound run.
 * Expect that free to return ALLOC_ERR_CORRUPTED_FREE_LIST, reported once at Z, and to change
 * nothing: the slot still a live 64-byte slot with its contents; with the word put back, the heap
 * intact, its statistics as before and Z still between X and Y, and the slot's free then succeeds,
 * Z given back and the list X -> Y.
 */
enum { RUN_UNLINK_DAMAGES = 6 };

static int runs_unlink_refused_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    static unsigned char *s[4 * RUN_SLOTS_64];
    unsigned c = run_class_of(64);
    for (unsigned damage = 0; damage < RUN_UNLINK_DAMAGES; damage++) {
        fixture_reset(HEAP_SIZE, 0);
        if (slots_64(s, 4 * RUN_SLOTS_64) != 0)
            return 1;
        uintptr_t x = run_of_slot(s[0]), y = run_of_slot(s[RUN_SLOTS_64]);
        uintptr_t z = run_of_slot(s[2 * RUN_SLOTS_64]), w = run_of_slot(s[3 * RUN_SLOTS_64]);
        /* X gets a slot back (W, full at the head, leaves the list), then Y and Z go behind it. */
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, s[0]));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, s[RUN_SLOTS_64]));
        for (int i = 2 * RUN_SLOTS_64; i < 3 * RUN_SLOTS_64 - 1; i++)
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, s[i]));
        unsigned char *last = s[3 * RUN_SLOTS_64 - 1];
        uint64_t *mx = (uint64_t *)x, *my = (uint64_t *)y, *mz = (uint64_t *)z;
        uint64_t *mw = (uint64_t *)w;
        ASSERT_EQ(x, fx.heap->run_head[c]);
        ASSERT_TRUE(mx[RUN_PREV] == 0 && mx[RUN_NEXT] == z);
        ASSERT_TRUE(mz[RUN_PREV] == x && mz[RUN_NEXT] == y);
        ASSERT_TRUE(my[RUN_PREV] == z && my[RUN_NEXT] == 0);
        ASSERT_TRUE(mw[RUN_PREV] == 0 && mw[RUN_NEXT] == 0);
        ASSERT_HEAP_OK(fx.heap);
        fixture_fill(last, 64, 7);
        struct alloc_stats before = stats();
        static const enum run_word word_of[RUN_UNLINK_DAMAGES] = {RUN_PREV, RUN_NEXT,  RUN_PREV,
                                                                  RUN_PREV, RUN_CHECK, RUN_CHECK};
        uint64_t *meta_of[RUN_UNLINK_DAMAGES] = {mz, mx, mz, my, mx, my};
        uint64_t *word = &meta_of[damage][word_of[damage]], saved = *word;
        uint64_t bent[RUN_UNLINK_DAMAGES] = {
            w, y, 0, x, saved ^ (uint64_t)1 << 5, saved ^ (uint64_t)1 << 5};
        *word = bent[damage];
        size_t reports = fx.reports;
        enum alloc_error e = alloc_free(fx.heap, last);
        if (e != ALLOC_ERR_CORRUPTED_FREE_LIST ||
            reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, (const void *)z) != 0) {
            fprintf(stderr, "  ^ damage %u: the free gave %s\n", damage, alloc_error_name(e));
            return 1;
        }
        ASSERT_EQ(64, alloc_usable_size(fx.heap, last));
        ASSERT_TRUE(fixture_pattern_ok(last, 64, 7));
        *word = saved;
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_TRUE(mx[RUN_NEXT] == z && mz[RUN_PREV] == x && mz[RUN_NEXT] == y);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, last));
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_TRUE(fx.heap->run_head[c] == x && mx[RUN_NEXT] == y && my[RUN_PREV] == x);
        ASSERT_EQ(reports + 1, fx.reports);
    }
    return 0;
}

/*
 * A run list's head bent to a place outside the heap, where a run is forged that is sound in every
 * other way (its header sealed and its check word made with this heap's key, every slot free), so
 * that only its place refuses it: below the heap (in the region, the heap initialised 2 KiB into
 * it), past the heap's end (in the region) and in a buffer outside the region. The list's head was
 * a real run with a slot in use.
 * Expect each 64-byte request (malloc, calloc, allocate at 16) refused: NULL, with
 * ALLOC_ERR_CORRUPTED_FREE_LIST reported once at the forged run, no slot of it handed out (its
 * state word as forged) and the statistics unchanged; alloc_heap_check to report the list; with the
 * head put back, the heap intact and a 64-byte request served from the real run.
 */
static int runs_head_outside_heap_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    static _Alignas(RUN_ALIGN) unsigned char outside[2 * RUN_ALIGN];
    unsigned c = run_class_of(64);
    for (unsigned place = 0; place < 3; place++) {
        fixture_reset(HEAP_SIZE, 0);
        struct alloc_config cfg = {.strategy = fx.variant->strategy,
                                   .flags = fx.variant->flags,
                                   .error_hook = fixture_hook};
        unsigned char *base = fx.region + 2 * RUN_ALIGN;
        ASSERT_EQ(ALLOC_OK, alloc_heap_init(&fx.heap, base, HEAP_SIZE, &cfg));
        alloc_heap *h = fx.heap;
        unsigned char *live = alloc_malloc(h, 64);
        ASSERT_TRUE(live != NULL);
        uintptr_t head = h->run_head[c];
        ASSERT_EQ(run_of_slot(live), head);
        uintptr_t r = place == 0   ? (uintptr_t)fx.region + RUN_ALIGN
                      : place == 1 ? (uintptr_t)base + HEAP_SIZE + RUN_ALIGN
                                   : (uintptr_t)outside + RUN_ALIGN;
        ASSERT_TRUE(r < (uintptr_t)h || r - HDR > h->end);
        block_t *b = blk_at(r - HDR);
        uint64_t *m = (uint64_t *)r;
        uint64_t state = (uint64_t)c << RUN_CLASS_SHIFT | run_full_mask(c);
        word_set(h, &b->prev, 0);
        word_set(h, &b->size, RUN_SIZE_WORD);
        m[RUN_STATE] = state;
        m[RUN_CHECK] = run_check_of(h, r, state);
        m[RUN_NEXT] = 0;
        m[RUN_PREV] = 0;
        ASSERT_TRUE(run_check_ok(h, r));
        ASSERT_HEAP_OK(h);
        struct alloc_stats before = stats();
        h->run_head[c] = r;
        for (int op = 0; op < 3; op++) {
            size_t reports = fx.reports;
            void *p = op == 0   ? alloc_malloc(h, 64)
                      : op == 1 ? alloc_calloc(h, 1, 64)
                                : alloc_allocate(h, 64, 16);
            if (p != NULL ||
                reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, (const void *)r) != 0) {
                fprintf(stderr, "  ^ place %u, op %d: %p\n", place, op, p);
                return 1;
            }
            ASSERT_EQ(state, m[RUN_STATE]);
            ASSERT_TRUE(stats_unchanged(&before));
        }
        size_t reports = fx.reports;
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_heap_check(h));
        if (reported_once(reports, ALLOC_ERR_CORRUPTED_FREE_LIST) != 0)
            return 1;
        h->run_head[c] = head;
        ASSERT_HEAP_OK(h);
        unsigned char *p = alloc_malloc(h, 64);
        ASSERT_TRUE(p != NULL && run_of_slot(p) == head);
        ASSERT_EQ(ALLOC_OK, alloc_free(h, p));
        ASSERT_EQ(ALLOC_OK, alloc_free(h, live));
        ASSERT_HEAP_OK(h);
    }
    return 0;
}

/*
 * First fit's count of free blocks, which its list walks compare with the nodes they pass:
 *   | ctrl | (free A) | U1 | (free C) | U2 | U3 | U4 | (free T) | END |   list A -> C -> T
 * with the count damaged (lowered to 1: the walk passes more nodes than it says) or A's next link
 * overwritten with NULL (C and T hidden: the walk ends with fewer). Then a request that only C or T
 * fits (200 bytes, A holds 100) and the free of U3 (its neighbours live, so that the boundary tags
 * agree with any list), each walking past A.
 * Expect each refused with ALLOC_ERR_CORRUPTED_FREE_LIST, reported once: at C, the node past the
 * count, or at the heap, whose count the list fell short of; NULL from the request, U3 still live
 * with its contents. With the damage repaired, the heap intact with its statistics as before, and
 * U3's free then succeeds.
 */
static int first_fit_count_refused_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_FIRST_FIT)
        SKIP_CHECK("first fit's list and count");
    for (unsigned way = 0; way < 2; way++) {
        fixture_reset(HEAP_SIZE, 0);
        unsigned char *a = alloc_malloc(fx.heap, 100), *u1 = alloc_malloc(fx.heap, 100);
        unsigned char *c = alloc_malloc(fx.heap, 300), *u2 = alloc_malloc(fx.heap, 100);
        unsigned char *u3 = alloc_malloc(fx.heap, 100), *u4 = alloc_malloc(fx.heap, 100);
        ASSERT_TRUE(a != NULL && u1 != NULL && c != NULL && u2 != NULL && u3 != NULL && u4 != NULL);
        ASSERT_TRUE(a < u1 && u1 < c && c < u2 && u2 < u3 && u3 < u4);
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(3, fx.heap->free_blocks);
        struct free_links *links_a = blk_links(blk_from_payload(a));
        ASSERT_TRUE(links_a->next == blk_from_payload(c));
        fixture_fill(u3, 100, 8);
        struct alloc_stats before = stats();
        block_t *saved_next = links_a->next;
        if (way == 0)
            fx.heap->free_blocks = 1;
        else
            links_a->next = NULL;
        const void *at = way == 0 ? (const void *)blk_from_payload(c) : (const void *)fx.heap;
        size_t reports = fx.reports;
        void *q = alloc_malloc(fx.heap, 200);
        if (q != NULL || reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, at) != 0) {
            fprintf(stderr, "  ^ malloc, way %u: %p\n", way, q);
            return 1;
        }
        enum alloc_error e = alloc_free(fx.heap, u3);
        if (e != ALLOC_ERR_CORRUPTED_FREE_LIST ||
            reported_once_at(reports + 1, ALLOC_ERR_CORRUPTED_FREE_LIST, at) != 0) {
            fprintf(stderr, "  ^ free, way %u: %s\n", way, alloc_error_name(e));
            return 1;
        }
        ASSERT_EQ(usable_for(100), alloc_usable_size(fx.heap, u3));
        ASSERT_TRUE(fixture_pattern_ok(u3, 100, 8));
        fx.heap->free_blocks = 3;
        links_a->next = saved_next;
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, u3));
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(reports + 2, fx.reports);
    }
    return 0;
}

/*
 * First fit's free checks that the boundary tags and its list agree on which neighbours are free:
 *   | ctrl | (free A) | U | (free P) | B | (free N) | V | (free C) | W | (free T) | END |
 * list A -> P -> N -> C -> T, then one link bent past a free neighbour of B (a link is no sealed
 * word): A's to N, so that the walk finds A below B where B's tags say P is free (B would merge
 * with A, over U and P); or P's to C, so that it finds C above B where B's tags say N is free (B
 * would merge with N, which the list no longer holds). Nothing else is damaged: the walk stops
 * above B with the count unchecked, and B's predecessor P is a sound free block.
 * Expect B's free to return ALLOC_ERR_CORRUPTED_FREE_LIST, reported once at B's block, B still
 * live with its contents; then nothing handed out overlaps U, B or V (a request of as many bytes
 * as lie from A's payload to V's fails or lies elsewhere). With the link put back and that block
 * freed, the heap intact with its statistics as before, and B's free merges it with P and N.
 */
static int first_fit_tags_refused_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_FIRST_FIT)
        SKIP_CHECK("first fit's list and boundary tags");
    for (unsigned way = 0; way < 2; way++) {
        fixture_reset(HEAP_SIZE, 0);
        unsigned char *p[9]; /* A, U, P, B, N, V, C, W, and one past W to keep T apart */
        for (int i = 0; i < 9; i++) {
            p[i] = alloc_malloc(fx.heap, 100);
            ASSERT_TRUE(p[i] != NULL && (i == 0 || p[i - 1] < p[i]));
        }
        unsigned char *a = p[0], *u = p[1], *pf = p[2], *b = p[3], *n = p[4], *v = p[5];
        unsigned char *c = p[6];
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, pf));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, n));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, c));
        ASSERT_HEAP_OK(fx.heap);
        block_t *block_b = blk_from_payload(b);
        ASSERT_TRUE(blk_prev_free(block_b) && blk_state(blk_next(block_b)) == ST_FREE);
        struct free_links *links = blk_links(blk_from_payload(way == 0 ? a : pf));
        ASSERT_TRUE(links->next == blk_from_payload(way == 0 ? pf : n));
        block_t *saved = links->next;
        links->next = blk_from_payload(way == 0 ? n : c);
        fixture_fill(b, 100, 9);
        fixture_fill(u, 100, 10);
        fixture_fill(v, 100, 11);
        struct alloc_stats before = stats();
        size_t reports = fx.reports;
        enum alloc_error e = alloc_free(fx.heap, b);
        if (e != ALLOC_ERR_CORRUPTED_FREE_LIST ||
            reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, block_b) != 0) {
            fprintf(stderr, "  ^ way %u: the free gave %s\n", way, alloc_error_name(e));
            return 1;
        }
        ASSERT_EQ(usable_for(100), alloc_usable_size(fx.heap, b));
        /* Every byte from A's payload to V's: no block handed out may hold any of them. */
        size_t span = (size_t)(v - a);
        unsigned char *q = alloc_malloc(fx.heap, span);
        ASSERT_TRUE(q == NULL || q >= v + 100 || q + span <= a);
        ASSERT_TRUE(fixture_pattern_ok(b, 100, 9) && fixture_pattern_ok(u, 100, 10) &&
                    fixture_pattern_ok(v, 100, 11));
        links->next = saved;
        ASSERT_HEAP_OK(fx.heap);
        if (q != NULL)
            ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, q));
        ASSERT_HEAP_OK(fx.heap);
        /* The request's block, live for a moment, may have raised the peak: nothing else. */
        struct alloc_stats now = stats();
        ASSERT_TRUE(now.peak_in_use >= before.peak_in_use);
        before.peak_in_use = now.peak_in_use;
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_TRUE(blk_size(blk_from_payload(pf)) == (size_t)(v - pf));
    }
    return 0;
}

/*
 * The link of a run that gets back its first free slot behind its list's head checks the run it
 * goes in front of, as an unlink checks a run's neighbours (a sound run of the class whose prev
 * link points back at the head), and run_push checks the head as an unlink checks a run's
 * predecessor (a sound run of the class with no predecessor of its own). On
 *   class 4's list: X -> Y,   W full and off the list
 * (runs of 64-byte slots, made in the order X, Y, W), the free of a slot of W, which would link W
 * between X and Y, is made with one of RUN_LINK_DAMAGES words damaged:
 *   0  Y's prev link bent to W (a sound run, not the head);
 *   1  a bit of Y's check word flipped;
 *   2  X's prev link bent to W, 3 to Y (sound runs, X's check word intact).
 * Expect that free to return ALLOC_ERR_CORRUPTED_FREE_LIST, reported once at the head X, and to
 * change nothing: the slot still a live 64-byte slot with its contents, X -> Y, W off the list;
 * with the word put back, the heap intact with its statistics as before, and the slot's free then
 * links W: X -> W -> Y.
 */
enum { RUN_LINK_DAMAGES = 4 };

static int runs_link_refused_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    static unsigned char *s[3 * RUN_SLOTS_64];
    unsigned c = run_class_of(64);
    for (unsigned damage = 0; damage < RUN_LINK_DAMAGES; damage++) {
        fixture_reset(HEAP_SIZE, 0);
        if (slots_64(s, 3 * RUN_SLOTS_64) != 0)
            return 1;
        uintptr_t x = run_of_slot(s[0]), y = run_of_slot(s[RUN_SLOTS_64]);
        uintptr_t w = run_of_slot(s[2 * RUN_SLOTS_64]);
        /* X gets a slot back (W, full at the head, leaves the list), then Y goes behind it. */
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, s[0]));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, s[RUN_SLOTS_64]));
        uint64_t *mx = (uint64_t *)x, *my = (uint64_t *)y, *mw = (uint64_t *)w;
        ASSERT_EQ(x, fx.heap->run_head[c]);
        ASSERT_TRUE(mx[RUN_PREV] == 0 && mx[RUN_NEXT] == y);
        ASSERT_TRUE(my[RUN_PREV] == x && my[RUN_NEXT] == 0);
        ASSERT_TRUE(mw[RUN_PREV] == 0 && mw[RUN_NEXT] == 0);
        ASSERT_HEAP_OK(fx.heap);
        unsigned char *in_w = s[2 * RUN_SLOTS_64 + 3];
        fixture_fill(in_w, 64, 12);
        struct alloc_stats before = stats();
        uint64_t *words[RUN_LINK_DAMAGES] = {&my[RUN_PREV], &my[RUN_CHECK], &mx[RUN_PREV],
                                             &mx[RUN_PREV]};
        uint64_t *word = words[damage], saved = *word;
        uint64_t bent[RUN_LINK_DAMAGES] = {w, saved ^ (uint64_t)1 << 5, w, y};
        *word = bent[damage];
        size_t reports = fx.reports;
        enum alloc_error e = alloc_free(fx.heap, in_w);
        if (e != ALLOC_ERR_CORRUPTED_FREE_LIST ||
            reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, (const void *)x) != 0) {
            fprintf(stderr, "  ^ damage %u: the free gave %s\n", damage, alloc_error_name(e));
            return 1;
        }
        ASSERT_EQ(64, alloc_usable_size(fx.heap, in_w));
        ASSERT_TRUE(fixture_pattern_ok(in_w, 64, 12));
        ASSERT_TRUE(fx.heap->run_head[c] == x && mx[RUN_NEXT] == y);
        ASSERT_TRUE(word == &my[RUN_PREV] || my[RUN_PREV] == x);
        ASSERT_TRUE(mw[RUN_PREV] == 0 && mw[RUN_NEXT] == 0);
        *word = saved;
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, in_w));
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_TRUE(mx[RUN_NEXT] == w && mw[RUN_PREV] == x && mw[RUN_NEXT] == y &&
                    my[RUN_PREV] == w);
        ASSERT_EQ(reports + 1, fx.reports);
    }
    return 0;
}

/*
 * A take that finds its list's head full takes it off the list and goes on from the run after it,
 * which must have a free slot: only the head may be full. On
 *   class 4's list: H (full)     F full and off the list
 * (runs of 64-byte slots, every slot in use, made in the order F, H), H's next link and F's prev
 * link are bent to make the list H -> F (two link words, neither sealed nor keyed), and a 64-byte
 * slot asked for, by alloc_malloc or by alloc_allocate at 16.
 * Expect NULL, with ALLOC_ERR_CORRUPTED_FREE_LIST reported once at F, no slot of F or H handed out
 * (their state words as they were) and the statistics unchanged; the take has left H off the list
 * and F, full, at its head, as a full run may be, so the heap is intact as it stands; the next
 * 64-byte request is served from a new run, neither F nor H.
 */
static int runs_full_after_full_head_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    static unsigned char *s[2 * RUN_SLOTS_64];
    unsigned c = run_class_of(64);
    for (int op = 0; op < 2; op++) {
        fixture_reset(HEAP_SIZE, 0);
        if (slots_64(s, 2 * RUN_SLOTS_64) != 0)
            return 1;
        uintptr_t f = run_of_slot(s[0]), hd = run_of_slot(s[RUN_SLOTS_64]);
        uint64_t *mf = (uint64_t *)f, *mh = (uint64_t *)hd;
        ASSERT_EQ(hd, fx.heap->run_head[c]);
        ASSERT_TRUE((mh[RUN_NEXT] | mh[RUN_PREV] | mf[RUN_NEXT] | mf[RUN_PREV]) == 0);
        ASSERT_HEAP_OK(fx.heap);
        struct alloc_stats before = stats();
        uint64_t state_f = mf[RUN_STATE], state_h = mh[RUN_STATE];
        mh[RUN_NEXT] = f;
        mf[RUN_PREV] = hd;
        size_t reports = fx.reports;
        void *p = op == 0 ? alloc_malloc(fx.heap, 64) : alloc_allocate(fx.heap, 64, 16);
        if (p != NULL ||
            reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, (const void *)f) != 0) {
            fprintf(stderr, "  ^ op %d: %p\n", op, p);
            return 1;
        }
        ASSERT_TRUE(mf[RUN_STATE] == state_f && mh[RUN_STATE] == state_h);
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_EQ(f, fx.heap->run_head[c]);
        ASSERT_TRUE((mh[RUN_NEXT] | mh[RUN_PREV] | mf[RUN_NEXT] | mf[RUN_PREV]) == 0);
        ASSERT_HEAP_OK(fx.heap);
        unsigned char *q = alloc_malloc(fx.heap, 64);
        ASSERT_TRUE(q != NULL && run_of_slot(q) != f && run_of_slot(q) != hd);
        ASSERT_HEAP_OK(fx.heap);
        ASSERT_EQ(reports + 1, fx.reports);
    }
    return 0;
}

/*
 * First fit's check of a free list node: its successor's prev word (the boundary tag) must repeat
 * its size. On
 *   | ctrl | (free A) | U1 | U2 | U3 | (free T) | END |   list A -> T
 * a bit of U1's prev word, A's boundary tag, is flipped; then a request A fits (100 bytes) and the
 * free of U2 (its neighbours live), each of which walks the list from A.
 * Expect each refused with ALLOC_ERR_CORRUPTED_FREE_LIST, reported once at A's block: NULL from the
 * request, U2 still live with its contents. With the bit put back, the heap intact with its
 * statistics as before, and U2's free then succeeds.
 */
static int first_fit_node_tag_refused_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_FIRST_FIT)
        SKIP_CHECK("first fit's list");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, 100), *u1 = alloc_malloc(fx.heap, 100);
    unsigned char *u2 = alloc_malloc(fx.heap, 100), *u3 = alloc_malloc(fx.heap, 100);
    ASSERT_TRUE(a != NULL && u1 != NULL && u2 != NULL && u3 != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a));
    ASSERT_HEAP_OK(fx.heap);
    block_t *block_a = blk_from_payload(a), *block_u1 = blk_from_payload(u1);
    ASSERT_TRUE(blk_next(block_a) == block_u1 && blk_prev_free(block_u1));
    fixture_fill(u2, 100, 13);
    struct alloc_stats before = stats();
    block_u1->prev ^= (hword_t)1 << 4;
    size_t reports = fx.reports;
    void *q = alloc_malloc(fx.heap, 100);
    if (q != NULL || reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, block_a) != 0) {
        fprintf(stderr, "  ^ malloc: %p\n", q);
        return 1;
    }
    enum alloc_error e = alloc_free(fx.heap, u2);
    if (e != ALLOC_ERR_CORRUPTED_FREE_LIST ||
        reported_once_at(reports + 1, ALLOC_ERR_CORRUPTED_FREE_LIST, block_a) != 0) {
        fprintf(stderr, "  ^ free: %s\n", alloc_error_name(e));
        return 1;
    }
    ASSERT_EQ(usable_for(100), alloc_usable_size(fx.heap, u2));
    ASSERT_TRUE(fixture_pattern_ok(u2, 100, 13));
    block_u1->prev ^= (hword_t)1 << 4;
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, u2));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(reports + 2, fx.reports);
    return 0;
}

/*
 * run_refused, relisting a run whose release the strategy refused, checks the list's head in full,
 * as run_push does. runs_refused_damaged_head_check's heap:
 *   class 4's list: C -> B -> A    | (free F) | A | ...   A with one slot in use
 * F, the free block the alignment of A's run left before it, with its next link bent, and a bit of
 * C's check word flipped (C's prev link intact; the unlink of A checks B and not C). Then the free
 * of A's last slot in use, which empties A: A leaves the list and the strategy refuses its block.
 * Expect ALLOC_ERR_CORRUPTED_FREE_LIST, reported twice: by the strategy, then at C, the damaged
 * head; A put in front of C (A -> C -> B), C's links not written. With F's link and C's check word
 * put back and C's prev link pointed at A, the heap intact, and A's slot served again.
 */
static int runs_refused_unsound_head_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    unsigned k = run_class_of(64);
    unsigned char *a[RUN_SLOTS_64], *b[RUN_SLOTS_64], *c;
    for (int i = 0; i < RUN_SLOTS_64; i++) {
        a[i] = alloc_malloc(fx.heap, 64);
        ASSERT_TRUE(a[i] != NULL && run_of_slot(a[i]) == run_of_slot(a[0]));
    }
    for (int i = 0; i < RUN_SLOTS_64; i++) {
        b[i] = alloc_malloc(fx.heap, 64);
        ASSERT_TRUE(b[i] != NULL && run_of_slot(b[i]) == run_of_slot(b[0]));
    }
    c = alloc_malloc(fx.heap, 64);
    ASSERT_TRUE(c != NULL && run_of_slot(c) != run_of_slot(b[0]));
    for (int i = 1; i < RUN_SLOTS_64; i++)
        ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, a[i]));
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b[1]));
    ASSERT_HEAP_OK(fx.heap);
    uintptr_t ra = run_of_slot(a[0]), rb = run_of_slot(b[0]), rc = run_of_slot(c);
    uint64_t *ma = (uint64_t *)ra, *mb = (uint64_t *)rb, *mc = (uint64_t *)rc;
    ASSERT_EQ(rc, fx.heap->run_head[k]);
    ASSERT_TRUE(mc[RUN_PREV] == 0 && mc[RUN_NEXT] == rb && mb[RUN_NEXT] == ra);
    block_t *f;
    if (free_before_run(a[0], &f) != 0)
        return 1;
    uintptr_t link = bend_link(blk_payload(f));
    mc[RUN_CHECK] ^= (uint64_t)1 << 5;
    size_t reports = fx.reports;
    enum alloc_error e = alloc_free(fx.heap, a[0]);
    if (e != ALLOC_ERR_CORRUPTED_FREE_LIST || fx.reports != reports + 2 ||
        fx.report_error[fx.reports - 1] != ALLOC_ERR_CORRUPTED_FREE_LIST ||
        fx.report_ptr[fx.reports - 1] != (const void *)rc) {
        fprintf(stderr, "  ^ the free gave %s, %zu reports\n", alloc_error_name(e),
                fx.reports - reports);
        return 1;
    }
    ASSERT_TRUE(fx.heap->run_head[k] == ra && ma[RUN_PREV] == 0 && ma[RUN_NEXT] == rc);
    ASSERT_TRUE(mc[RUN_PREV] == 0 && mc[RUN_NEXT] == rb && mb[RUN_PREV] == rc);
    unbend_link(blk_payload(f), link);
    mc[RUN_CHECK] ^= (uint64_t)1 << 5;
    mc[RUN_PREV] = ra;
    ASSERT_HEAP_OK(fx.heap);
    unsigned char *again = alloc_malloc(fx.heap, 64);
    ASSERT_TRUE(again != NULL && run_of_slot(again) == ra);
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(reports + 2, fx.reports);
    return 0;
}

/*
 * A run forged in the payload of a live block L that reaches the heap's end, at the last
 * RUN_ALIGN boundary below the end marker: its header sealed and its check word made with this
 * heap's key, every slot in use, but its block would run past the end (the heap RUN_ALIGN / 2
 * bytes short of a multiple of RUN_ALIGN):
 *   | ctrl | L: ... [hdr | meta | slot 0 ...  | END |  ...]
 * The free of its slot 0, which free's run lookup finds (its place below the end, its check word
 * matching) and hands to the slot's checks.
 * Expect ALLOC_ERR_CORRUPTED_HEADER, reported once at the slot, and nothing changed: the forged
 * state word as it was, no run listed; with L's bytes put back, the heap intact with its
 * statistics as before, and L's free then succeeds.
 */
static int runs_give_past_end_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    size_t size = HEAP_SIZE - RUN_ALIGN / 2;
    fixture_reset(size, 0);
    alloc_heap *h = fx.heap;
    unsigned c = run_class_of(64);
    unsigned char *l = alloc_malloc(h, fresh_free(size));
    ASSERT_TRUE(l != NULL);
    block_t *lb = blk_from_payload(l);
    ASSERT_TRUE(blk_next(lb) == blk_at(h->end));
    uintptr_t r = h->end & ~(uintptr_t)(RUN_ALIGN - 1);
    ASSERT_TRUE(r - HDR >= (uintptr_t)l && r + RUN_META + 64 <= h->end);
    ASSERT_TRUE(r + RUN_BLOCK - HDR > h->end);
    unsigned char saved[2 * HDR + RUN_META];
    memcpy(saved, (void *)(r - HDR), sizeof(saved));
    block_t *b = blk_at(r - HDR);
    uint64_t *m = (uint64_t *)r;
    uint64_t state = (uint64_t)c << RUN_CLASS_SHIFT;
    word_set(h, &b->prev, 0);
    word_set(h, &b->size, RUN_SIZE_WORD);
    m[RUN_STATE] = state;
    m[RUN_CHECK] = run_check_of(h, r, state);
    m[RUN_NEXT] = 0;
    m[RUN_PREV] = 0;
    ASSERT_TRUE(run_check_ok(h, r));
    ASSERT_EQ(0, h->run_head[c]);
    struct alloc_stats before = stats();
    void *p = (void *)(r + RUN_META);
    size_t reports = fx.reports;
    enum alloc_error e = alloc_free(h, p);
    if (e != ALLOC_ERR_CORRUPTED_HEADER ||
        reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, p) != 0) {
        fprintf(stderr, "  ^ the free gave %s\n", alloc_error_name(e));
        return 1;
    }
    ASSERT_TRUE(m[RUN_STATE] == state && m[RUN_NEXT] == 0 && m[RUN_PREV] == 0);
    ASSERT_EQ(0, h->run_head[c]);
    ASSERT_TRUE(stats_unchanged(&before));
    memcpy((void *)(r - HDR), saved, sizeof(saved));
    ASSERT_HEAP_OK(h);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_EQ(ALLOC_OK, alloc_free(h, l));
    ASSERT_HEAP_OK(h);
    ASSERT_EQ(reports + 1, fx.reports);
    return 0;
}

/*
 * alloc_heap_check's checks of the run lists and of the runs kept empty, each way from a fresh
 * heap whose first run X (64-byte slots) has one slot in use:
 *   0  X, emptied by a free and kept (the class's run_spare), named no longer (run_spare 0);
 *   1  class 1's run_spare naming X, a run of class 4;
 *   2  runs X, F, Z made full in that order, then class 4's list X -> Z (a slot of each freed), F
 *      full and off it, relinked X -> F -> Z (four link words);
 *   3  a run forged in the payload of a live block of 3 * RUN_ALIGN bytes (sealed header, check
 *      word made with this heap's key, every slot free) linked behind X, the list's one run.
 * Expect alloc_heap_check to return ALLOC_ERR_CORRUPTED_FREE_LIST, reported once at the fault: X's
 * block (0), X (1), F, the full run behind the head (2), the forged run, one run more than the
 * heap's blocks hold (3). With the words put back, the heap intact.
 */
static int runs_lists_checked_check(void) {
#if ALLOC_RUN_MAX_SIZE > 0 /* a build without runs has no run_spare to damage */
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    static unsigned char *s[3 * RUN_SLOTS_64];
    unsigned c = run_class_of(64);
    for (unsigned way = 0; way < 4; way++) {
        fixture_reset(HEAP_SIZE, 0);
        alloc_heap *h = fx.heap;
        int n = way == 2 ? 3 * RUN_SLOTS_64 : 1;
        if (slots_64(s, n) != 0)
            return 1;
        uintptr_t x = run_of_slot(s[0]), f = 0, z = 0;
        uint64_t *mx = (uint64_t *)x, *mf = NULL, *mz = NULL;
        const void *at;
        if (way == 0) {
            ASSERT_EQ(ALLOC_OK, alloc_free(h, s[0]));
            ASSERT_EQ(x, h->run_spare[c]);
            ASSERT_HEAP_OK(h);
            h->run_spare[c] = 0;
            at = blk_from_payload((const void *)x);
        } else if (way == 1) {
            ASSERT_TRUE(c != 1 && h->run_spare[1] == 0);
            ASSERT_HEAP_OK(h);
            h->run_spare[1] = x;
            at = (const void *)x;
        } else if (way == 2) {
            f = run_of_slot(s[RUN_SLOTS_64]);
            z = run_of_slot(s[2 * RUN_SLOTS_64]);
            mf = (uint64_t *)f;
            mz = (uint64_t *)z;
            ASSERT_EQ(ALLOC_OK, alloc_free(h, s[1]));
            ASSERT_EQ(ALLOC_OK, alloc_free(h, s[2 * RUN_SLOTS_64 + 1]));
            ASSERT_TRUE(h->run_head[c] == x && mx[RUN_NEXT] == z && mz[RUN_PREV] == x);
            ASSERT_TRUE(mf[RUN_NEXT] == 0 && mf[RUN_PREV] == 0);
            ASSERT_HEAP_OK(h);
            mx[RUN_NEXT] = f;
            mf[RUN_PREV] = x;
            mf[RUN_NEXT] = z;
            mz[RUN_PREV] = f;
            at = (const void *)f;
        } else {
            unsigned char *big = alloc_malloc(h, 3 * RUN_ALIGN);
            ASSERT_TRUE(big != NULL);
            f = ((uintptr_t)big + HDR + RUN_ALIGN - 1) & ~(uintptr_t)(RUN_ALIGN - 1);
            ASSERT_TRUE(f + RUN_BLOCK - HDR <= (uintptr_t)big + 3 * RUN_ALIGN);
            ASSERT_TRUE(h->run_head[c] == x && mx[RUN_NEXT] == 0);
            ASSERT_HEAP_OK(h);
            block_t *b = blk_at(f - HDR);
            mf = (uint64_t *)f;
            uint64_t state = (uint64_t)c << RUN_CLASS_SHIFT | run_full_mask(c);
            word_set(h, &b->prev, 0);
            word_set(h, &b->size, RUN_SIZE_WORD);
            mf[RUN_STATE] = state;
            mf[RUN_CHECK] = run_check_of(h, f, state);
            mf[RUN_NEXT] = 0;
            mf[RUN_PREV] = x;
            ASSERT_HEAP_OK(h);
            mx[RUN_NEXT] = f;
            at = (const void *)f;
        }
        size_t reports = fx.reports;
        enum alloc_error e = alloc_heap_check(h);
        if (e != ALLOC_ERR_CORRUPTED_FREE_LIST ||
            reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, at) != 0) {
            fprintf(stderr, "  ^ way %u: the check gave %s\n", way, alloc_error_name(e));
            return 1;
        }
        if (way == 0)
            h->run_spare[c] = x;
        else if (way == 1)
            h->run_spare[1] = 0;
        else if (way == 2) {
            mx[RUN_NEXT] = z;
            mf[RUN_PREV] = 0;
            mf[RUN_NEXT] = 0;
            mz[RUN_PREV] = x;
        } else
            mx[RUN_NEXT] = 0;
        ASSERT_HEAP_OK(h);
        ASSERT_EQ(reports + 1, fx.reports);
    }
    return 0;
#else
    SKIP_CHECK("this build has no runs");
#endif
}

/*
 * A run whose state word names no size class, RUN_CLASSES + 1, with no slot free (the one state of
 * that class the tables let through) and its check word made afresh with this heap's key, so that
 * the run is sound but for its class: the run of two live 64-byte slots P and Q.
 * Expect realloc of Q to return NULL and, where free reaches the slot's checks with the run (the
 * fast paths' builds), free of Q to return ALLOC_ERR_CORRUPTED_HEADER, each reported once at Q;
 * alloc_heap_walk to refuse the run (ALLOC_ERR_CORRUPTED_HEADER, no report) and alloc_heap_check
 * to report it at the run's block. Nothing changed: with the state and check words put back, the
 * heap intact with its statistics as before, and P and Q freed.
 */
static int runs_no_class_refused_check(void) {
    if (!fixture_runs())
        SKIP_CHECK("this variant has no runs");
    fixture_reset(HEAP_SIZE, 0);
    alloc_heap *h = fx.heap;
    unsigned char *p = alloc_malloc(h, 64), *q = alloc_malloc(h, 64);
    ASSERT_TRUE(p != NULL && q != NULL && run_of_slot(p) == run_of_slot(q));
    fixture_fill(p, 64, 15);
    fixture_fill(q, 64, 16);
    ASSERT_HEAP_OK(h);
    uintptr_t r = run_of_slot(q);
    uint64_t *m = (uint64_t *)r;
    uint64_t state = m[RUN_STATE], check = m[RUN_CHECK];
    uint64_t forged = (uint64_t)(RUN_CLASSES + 1) << RUN_CLASS_SHIFT;
    m[RUN_STATE] = forged;
    m[RUN_CHECK] = run_check_of(h, r, forged);
    ASSERT_TRUE(run_check_ok(h, r));
    struct alloc_stats before = stats();
    size_t reports = fx.reports;
    void *n = alloc_realloc(h, q, 32);
    if (n != NULL || reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, q) != 0) {
        fprintf(stderr, "  ^ realloc: %p\n", n);
        return 1;
    }
    reports = fx.reports;
    if (ALLOC_FAST_PATHS) {
        enum alloc_error e = alloc_free(h, q);
        if (e != ALLOC_ERR_CORRUPTED_HEADER ||
            reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, q) != 0) {
            fprintf(stderr, "  ^ free: %s\n", alloc_error_name(e));
            return 1;
        }
        reports = fx.reports;
    }
    size_t walked = 0;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_walk(h, count_walked, &walked));
    ASSERT_EQ(reports, fx.reports);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_check(h));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, blk_from_payload((void *)r)) != 0)
        return 1;
    ASSERT_TRUE(m[RUN_STATE] == forged && stats_unchanged(&before));
    ASSERT_TRUE(fixture_pattern_ok(p, 64, 15) && fixture_pattern_ok(q, 64, 16));
    m[RUN_STATE] = state;
    m[RUN_CHECK] = check;
    ASSERT_HEAP_OK(h);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_EQ(ALLOC_OK, alloc_free(h, q));
    ASSERT_EQ(ALLOC_OK, alloc_free(h, p));
    ASSERT_HEAP_OK(h);
    return 0;
}

/*
 * First fit's check of a free list node's own size word, on
 *   | ctrl | (free A) | U1 | U2 | U3 | (free T) | END |   list A -> T
 * A's size word damaged three ways: sealed afresh with size 0 (A is the first block: its own prev
 * word, 0, is the tag of a 0-byte block), sealed afresh with a size that reaches a RUN_ALIGN past
 * the heap's end (a matching tag sealed there, in the region), or one of its check bits flipped
 * (the size and its tag intact). Then a request A fits (100 bytes) and the free of U2, each of
 * which walks the list from A.
 * Expect each refused with ALLOC_ERR_CORRUPTED_FREE_LIST, reported once at A's block: NULL from the
 * request, U2 still live with its contents. With the words put back, the heap intact with its
 * statistics as before, and U2's free then succeeds.
 */
static int first_fit_node_size_refused_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_FIRST_FIT)
        SKIP_CHECK("first fit's list");
    for (unsigned way = 0; way < 3; way++) {
        fixture_reset(HEAP_SIZE, 0);
        alloc_heap *h = fx.heap;
        unsigned char *a = alloc_malloc(h, 100), *u1 = alloc_malloc(h, 100);
        unsigned char *u2 = alloc_malloc(h, 100), *u3 = alloc_malloc(h, 100);
        ASSERT_TRUE(a != NULL && u1 != NULL && u2 != NULL && u3 != NULL);
        ASSERT_EQ(ALLOC_OK, alloc_free(h, a));
        ASSERT_HEAP_OK(h);
        block_t *block_a = blk_from_payload(a);
        ASSERT_TRUE((uintptr_t)block_a == h->first && blk_next(block_a) == blk_from_payload(u1));
        fixture_fill(u2, 100, 17);
        struct alloc_stats before = stats();
        hword_t saved = block_a->size;
        block_t *past = NULL;
        hword_t past_saved = 0;
        if (way == 0) {
            word_set(h, &block_a->size, ST_FREE);
        } else if (way == 1) {
            size_t s = h->end - (uintptr_t)block_a + RUN_ALIGN;
            past = blk_at((uintptr_t)block_a + s);
            past_saved = past->prev;
            word_set(h, &past->prev, (hword_t)s);
            word_set(h, &block_a->size, (hword_t)s | ST_FREE);
        } else {
            block_a->size ^= (hword_t)1 << TAG_SHIFT;
        }
        size_t reports = fx.reports;
        void *q = alloc_malloc(h, 100);
        if (q != NULL || reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, block_a) != 0) {
            fprintf(stderr, "  ^ malloc, way %u: %p\n", way, q);
            return 1;
        }
        enum alloc_error e = alloc_free(h, u2);
        if (e != ALLOC_ERR_CORRUPTED_FREE_LIST ||
            reported_once_at(reports + 1, ALLOC_ERR_CORRUPTED_FREE_LIST, block_a) != 0) {
            fprintf(stderr, "  ^ free, way %u: %s\n", way, alloc_error_name(e));
            return 1;
        }
        ASSERT_EQ(usable_for(100), alloc_usable_size(h, u2));
        ASSERT_TRUE(fixture_pattern_ok(u2, 100, 17));
        block_a->size = saved;
        if (past != NULL)
            past->prev = past_saved;
        ASSERT_HEAP_OK(h);
        ASSERT_TRUE(stats_unchanged(&before));
        ASSERT_EQ(ALLOC_OK, alloc_free(h, u2));
        ASSERT_HEAP_OK(h);
        ASSERT_EQ(reports + 2, fx.reports);
    }
    return 0;
}

/*
 * First fit's growth of a block A in place into its free successor N, N missing from the list:
 *   | ctrl | (free P) | U | A | (free N) | V | (free T) | END |   list P -> N -> T
 * P's next link bent to T, past N (the count of free blocks unchanged), then A grown by realloc to
 * 150 bytes, which A and N together hold.
 * Expect NULL, with ALLOC_ERR_CORRUPTED_FREE_LIST reported once at N's block, and nothing changed:
 * A live with its size and contents, N free. With P's link put back, the heap intact with its
 * statistics as before, and the realloc then grows A in place.
 */
static int first_fit_resize_unlisted_next_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_FIRST_FIT)
        SKIP_CHECK("first fit's list");
    fixture_reset(HEAP_SIZE, 0);
    alloc_heap *h = fx.heap;
    unsigned char *p[5]; /* P, U, A, N, V */
    for (int i = 0; i < 5; i++) {
        p[i] = alloc_malloc(h, 100);
        ASSERT_TRUE(p[i] != NULL && (i == 0 || p[i - 1] < p[i]));
    }
    unsigned char *a = p[2];
    ASSERT_EQ(ALLOC_OK, alloc_free(h, p[0]));
    ASSERT_EQ(ALLOC_OK, alloc_free(h, p[3]));
    ASSERT_HEAP_OK(h);
    block_t *block_n = blk_from_payload(p[3]);
    struct free_links *links_p = blk_links(blk_from_payload(p[0]));
    ASSERT_TRUE(links_p->next == block_n && blk_next(blk_from_payload(a)) == block_n);
    ASSERT_TRUE(blk_size(blk_from_payload(a)) + blk_size(block_n) >= block_size_for(150));
    block_t *t = blk_links(block_n)->next;
    ASSERT_TRUE(t != NULL);
    fixture_fill(a, 100, 18);
    struct alloc_stats before = stats();
    links_p->next = t;
    size_t reports = fx.reports;
    void *q = alloc_realloc(h, a, 150);
    if (q != NULL || reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, block_n) != 0) {
        fprintf(stderr, "  ^ realloc: %p\n", q);
        return 1;
    }
    ASSERT_EQ(usable_for(100), alloc_usable_size(h, a));
    ASSERT_TRUE(fixture_pattern_ok(a, 100, 18));
    ASSERT_TRUE(blk_state(block_n) == ST_FREE && blk_links(block_n)->next == t);
    links_p->next = block_n;
    ASSERT_HEAP_OK(h);
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_TRUE(alloc_realloc(h, a, 150) == a);
    ASSERT_TRUE(fixture_pattern_ok(a, 100, 18));
    ASSERT_HEAP_OK(h);
    ASSERT_EQ(reports + 1, fx.reports);
    return 0;
}

/*
 * alloc_heap_check's count of first fit's list against the free blocks the walk of the heap finds:
 *   | ctrl | (free A) | U1 | (free C) | U2 | (free T) | END |   list A -> C -> T
 * A's next link overwritten with NULL (C and T hidden) or with T (C hidden), a link being no
 * sealed word.
 * Expect ALLOC_ERR_CORRUPTED_FREE_LIST, reported once at the heap, whose count the list falls short
 * of; with the link put back, the heap intact.
 */
static int first_fit_check_count_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_FIRST_FIT)
        SKIP_CHECK("first fit's list");
    for (unsigned way = 0; way < 2; way++) {
        fixture_reset(HEAP_SIZE, 0);
        alloc_heap *h = fx.heap;
        unsigned char *a = alloc_malloc(h, 100), *u1 = alloc_malloc(h, 100);
        unsigned char *c = alloc_malloc(h, 100), *u2 = alloc_malloc(h, 100);
        ASSERT_TRUE(a != NULL && u1 != NULL && c != NULL && u2 != NULL);
        ASSERT_EQ(ALLOC_OK, alloc_free(h, a));
        ASSERT_EQ(ALLOC_OK, alloc_free(h, c));
        ASSERT_HEAP_OK(h);
        ASSERT_EQ(3, h->free_blocks);
        struct free_links *links_a = blk_links(blk_from_payload(a));
        block_t *saved = links_a->next;
        ASSERT_TRUE(saved == blk_from_payload(c) && blk_links(saved)->next != NULL);
        links_a->next = way == 0 ? NULL : blk_links(saved)->next;
        size_t reports = fx.reports;
        enum alloc_error e = alloc_heap_check(h);
        if (e != ALLOC_ERR_CORRUPTED_FREE_LIST ||
            reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, h) != 0) {
            fprintf(stderr, "  ^ way %u: the check gave %s\n", way, alloc_error_name(e));
            return 1;
        }
        links_a->next = saved;
        ASSERT_HEAP_OK(h);
        ASSERT_EQ(reports + 1, fx.reports);
    }
    return 0;
}

/*
 * A request served by the head F of its own TLSF list (BIG bytes, the list's one block), F's size
 * word sealed afresh to reach 4 KiB past the end marker, and the boundary tag that repeats it
 * forged where that size ends (in the region, past the heap):
 *   | ctrl | (free F) | U | (top) | END | ... | forged tag |
 * Expect alloc_malloc(BIG) to return NULL with one report of ALLOC_ERR_CORRUPTED_FREE_LIST at F,
 * and nothing changed: U's bytes (a split of F would write a header into U), F heading its list
 * with its header as damaged, F's size word the heap's one fault; with it and the forged bytes put
 * back, the statistics as before, the heap intact and the request served by F.
 */
static int free_size_past_end_refused_check(void) {
    if (fx.variant->strategy != ALLOC_STRATEGY_TLSF)
        SKIP_CHECK("TLSF's free lists");
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *f = alloc_malloc(fx.heap, BIG), *u = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(f != NULL && u != NULL);
    fixture_fill(u, BIG, 5);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, f));
    ASSERT_HEAP_OK(fx.heap);
    block_t *fb = blk_from_payload(f);
    block_t **head = list_head_word_of(fx.heap, f);
    ASSERT_TRUE(head != NULL && blk_links(fb)->next == NULL);
    size_t s = fx.heap->end - (uintptr_t)fb + 4096;
    block_t *past = blk_at((uintptr_t)fb + s);
    ASSERT_TRUE((unsigned char *)(past + 1) <= fx.region + FIXTURE_REGION_CAP);
    struct alloc_stats before = stats();
    const block_t past_saved = *past;
    hword_t saved = fb->size;
    word_set(fx.heap, &fb->size, (hword_t)s | (saved & FREE_WORD_MASK));
    word_set(fx.heap, &past->prev, (hword_t)s);
    const block_t f_damaged = *fb;
    size_t reports = fx.reports;
    ASSERT_TRUE(alloc_malloc(fx.heap, BIG) == NULL);
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_FREE_LIST, fb) != 0)
        return 1;
    ASSERT_TRUE(fixture_pattern_ok(u, BIG, 5));
    ASSERT_TRUE(*head == fb);
    ASSERT_TRUE(memcmp(fb, &f_damaged, sizeof(*fb)) == 0);
    if (damage_alone(ALLOC_ERR_CORRUPTED_HEADER, &fb->size, &saved, sizeof(saved)) != 0)
        return 1;
    fb->size = saved;
    *past = past_saved;
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_TRUE(alloc_malloc(fx.heap, BIG) == f);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

#if QUICK_BINS > 0
/*
 * quick_next_damaged_refused_check's case `way`: Q's boundary tag in U's prev word sealed afresh a
 * granule larger (0) or smaller (1), or one of its check bits flipped (2).
 */
static int quick_next_damaged_refused(unsigned way) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *x = alloc_malloc(fx.heap, BIG), *q = alloc_malloc(fx.heap, 100);
    unsigned char *u = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(x != NULL && q != NULL && u != NULL);
    fixture_fill(x, BIG, 1);
    fixture_fill(u, BIG, 3);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, q));
    ASSERT_HEAP_OK(fx.heap);
    block_t *qb = blk_from_payload(q), *ub = blk_from_payload(u);
    struct tlsf_state *t = tlsf_of(fx.heap);
    size_t i = quick_index_for(100);
    ASSERT_TRUE(t->quick[i] == qb);
    ASSERT_EQ(ST_QUICK, blk_state(qb));
    ASSERT_TRUE(!blk_prev_free(qb) && !blk_prev_free(ub));
    struct alloc_stats before = stats();
    hword_t *w = &ub->prev;
    hword_t saved = *w;
    if (way < 2)
        word_set(fx.heap, w, (hword_t)(way == 0 ? blk_size(qb) + GRANULE : blk_size(qb) - GRANULE));
    else
        *w ^= (hword_t)1 << TAG_SHIFT;
    const block_t q_hdr = *qb, u_damaged = *ub;
    size_t reports = fx.reports;
    ASSERT_TRUE(alloc_malloc(fx.heap, HEAP_SIZE) == NULL);
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, qb) != 0)
        return 1;
    /* Q not merged: still on its quick list, both headers and X's and U's bytes as they were. */
    ASSERT_TRUE(t->quick[i] == qb);
    ASSERT_TRUE(memcmp(qb, &q_hdr, sizeof(*qb)) == 0);
    ASSERT_TRUE(memcmp(ub, &u_damaged, sizeof(*ub)) == 0);
    ASSERT_TRUE(fixture_pattern_ok(x, BIG, 1));
    ASSERT_TRUE(fixture_pattern_ok(u, BIG, 3));
    return quick_damage_put_back(w, saved, &before, q);
}
#endif

/*
 * A quick-listed block Q merged into the lists by the flush of a request that fails, its
 * boundary tag (the prev word of its live successor U) damaged: sealed afresh a granule larger or
 * smaller, or one of its check bits flipped; Q's predecessor X is live, so Q merges with neither:
 *   | ctrl | X | [Q] | U | (top) | END |
 * Expect the request to return NULL with one report of ALLOC_ERR_CORRUPTED_HEADER at Q's header,
 * and nothing changed: Q still on its quick list, Q's and U's headers and X's and U's bytes as they
 * were, the damaged word the heap's one fault; with it put back, the statistics as before, the heap
 * intact and Q served by the next request of its size. Every way runs; each that fails is named.
 */
static int quick_next_damaged_refused_check(void) {
#if QUICK_BINS > 0
    if (!fixture_quick())
        SKIP_CHECK("this variant has no quick lists");
    static const char *const way_name[] = {
        "boundary tag resealed larger", "boundary tag resealed smaller", "boundary tag check bit"};
    return every_way(quick_next_damaged_refused, way_name, 3);
#else
    SKIP_CHECK("quick lists are not compiled in");
#endif
}

/*
 * A second free of B, a free block of its own between live ones, whose successor C's size word has
 * one of its check bits flipped (B's own header and C's boundary tag are sound):
 *   | ctrl | A | (free B) | C | (top) | END |   blocks too large for a quick list or a run
 * Expect alloc_free(B) to return ALLOC_ERR_CORRUPTED_HEADER, not ALLOC_ERR_DOUBLE_FREE (a header
 * whose successor fails its checks is named by the walk), reported once at B, and nothing changed:
 * B's and C's headers and A's and C's bytes as they were, C's size word the heap's one fault; with
 * it put back, the statistics as before, the heap intact and the same free a double free.
 */
static int double_free_damaged_next_check(void) {
    fixture_reset(HEAP_SIZE, 0);
    unsigned char *a = alloc_malloc(fx.heap, BIG), *b = alloc_malloc(fx.heap, BIG);
    unsigned char *c = alloc_malloc(fx.heap, BIG);
    ASSERT_TRUE(a != NULL && b != NULL && c != NULL);
    fixture_fill(a, BIG, 1);
    fixture_fill(c, BIG, 3);
    ASSERT_EQ(ALLOC_OK, alloc_free(fx.heap, b));
    ASSERT_HEAP_OK(fx.heap);
    block_t *bb = blk_from_payload(b), *cb = blk_from_payload(c);
    ASSERT_EQ(ST_FREE, blk_state(bb));
    ASSERT_TRUE(blk_prev_free(cb));
    struct alloc_stats before = stats();
    hword_t saved = cb->size;
    cb->size ^= (hword_t)1 << TAG_SHIFT;
    const block_t b_hdr = *bb, c_damaged = *cb;
    size_t reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_free(fx.heap, b));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, b) != 0)
        return 1;
    ASSERT_TRUE(memcmp(bb, &b_hdr, sizeof(*bb)) == 0);
    ASSERT_TRUE(memcmp(cb, &c_damaged, sizeof(*cb)) == 0);
    ASSERT_TRUE(fixture_pattern_ok(a, BIG, 1));
    ASSERT_TRUE(fixture_pattern_ok(c, BIG, 3));
    if (damage_alone(ALLOC_ERR_CORRUPTED_HEADER, &cb->size, &saved, sizeof(saved)) != 0)
        return 1;
    cb->size = saved;
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_free(fx.heap, b));
    if (refused_at(reports, ALLOC_ERR_DOUBLE_FREE, b, &before) != 0)
        return 1;
    return 0;
}

/*
 * extend_end_tag_off_granule_check's case `way`: the end marker's prev word sealed afresh half a
 * granule larger (0) or smaller (1).
 */
static int extend_end_tag_off_granule(unsigned way) {
    const size_t half = HEAP_SIZE / 2;
    fixture_reset(half, 0);
    unsigned char *x = alloc_malloc(fx.heap, BIG);
    unsigned char *a = alloc_malloc(fx.heap, fresh_free(half) - block_size_for(BIG));
    ASSERT_TRUE(x != NULL && a != NULL);
    fixture_fill(a, BIG, 1);
    ASSERT_HEAP_OK(fx.heap);
    block_t *end = blk_at(fx.heap->end);
    ASSERT_TRUE(blk_prev(end) == blk_from_payload(a) && !blk_prev_free(end));
    struct alloc_stats before = stats();
    hword_t saved = end->prev;
    size_t ps = blk_prev_size(end);
    word_set(fx.heap, &end->prev, (hword_t)(way == 0 ? ps + GRANULE / 2 : ps - GRANULE / 2));
    ASSERT_TRUE(blk_prev_size(end) >= MIN_BLOCK &&
                blk_prev_size(end) <= fx.heap->end - fx.heap->first);
    const block_t end_damaged = *end;
    size_t reports = fx.reports;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_heap_extend(fx.heap, 4096));
    if (reported_once_at(reports, ALLOC_ERR_CORRUPTED_HEADER, end) != 0)
        return 1;
    ASSERT_TRUE(end == blk_at(fx.heap->end));
    ASSERT_TRUE(memcmp(end, &end_damaged, sizeof(*end)) == 0);
    ASSERT_TRUE(fixture_pattern_ok(a, BIG, 1));
    if (damage_alone(ALLOC_ERR_CORRUPTED_HEADER, &end->prev, &saved, sizeof(saved)) != 0)
        return 1;
    end->prev = saved;
    ASSERT_TRUE(stats_unchanged(&before));
    ASSERT_HEAP_OK(fx.heap);
    ASSERT_EQ(ALLOC_OK, alloc_heap_extend(fx.heap, 4096));
    ASSERT_EQ(half + 4096, stats().region_size);
    ASSERT_HEAP_OK(fx.heap);
    return 0;
}

/*
 * An extension of a heap whose last block A is live, after another live block X, the end marker's
 * prev word (A's boundary tag) sealed afresh half a granule larger or smaller: a size in range but
 * a block's in neither, naming a predecessor at an address that no block has:
 *   | ctrl | X | A (the rest of the heap) | END |
 * Expect ALLOC_ERR_CORRUPTED_HEADER, reported once at the end marker, and nothing changed: the end
 * marker where it was and as damaged, A's bytes, the word the heap's one fault; with it put back,
 * the statistics (region_size among them) as before, the heap intact, and the same extension then
 * made. Both ways run; each that fails is named.
 */
static int extend_end_tag_off_granule_check(void) {
    static const char *const way_name[] = {"half a granule larger", "half a granule smaller"};
    return every_way(extend_end_tag_off_granule, way_name, 2);
}

/* One check of main's current variant, reported skipped (with why) when this build lacks it. */
#define RUN_VARIANT_CHECK(check) RUN_COUNTED_CHECK_UNLESS(passed, failed, check, absent)

int main(void) {
    int passed = 0, failed = 0;
    for (size_t v = 0; v < FIXTURE_VARIANT_COUNT; v++) {
        fixture_select(&fixture_variants[v]);
        /* A variant this build cannot have: each of its checks is reported skipped, with why. */
        const char *absent = variant_absent(&fixture_variants[v]);
        printf("== variant %s\n", fixture_variants[v].name);
        RUN_VARIANT_CHECK(init_null_region_check);
        RUN_VARIANT_CHECK(init_misaligned_check);
        RUN_VARIANT_CHECK(init_too_small_check);
        RUN_VARIANT_CHECK(init_bad_config_check);
        RUN_VARIANT_CHECK(init_layout_check);
        RUN_VARIANT_CHECK(init_unaligned_size_check);
        RUN_VARIANT_CHECK(init_config_in_region_check);
        RUN_VARIANT_CHECK(many_heaps_check);
        RUN_VARIANT_CHECK(layout_check);
        RUN_VARIANT_CHECK(alloc_split_check);
        RUN_VARIANT_CHECK(alloc_size_zero_check);
        RUN_VARIANT_CHECK(alloc_alignment_check);
        RUN_VARIANT_CHECK(alloc_bad_alignment_check);
        RUN_VARIANT_CHECK(alloc_overflow_check);
        RUN_VARIANT_CHECK(alloc_exhaust_check);
        RUN_VARIANT_CHECK(max_heap_check);
        RUN_VARIANT_CHECK(alloc_batch_check);
        RUN_VARIANT_CHECK(batch_usable_check);
        RUN_VARIANT_CHECK(calloc_check);
        RUN_VARIANT_CHECK(calloc_clear_sizes_check);
        RUN_VARIANT_CHECK(usable_size_check);
        RUN_VARIANT_CHECK(free_null_check);
        RUN_VARIANT_CHECK(free_coalesce_check);
        RUN_VARIANT_CHECK(free_double_check);
        RUN_VARIANT_CHECK(free_double_merged_check);
        RUN_VARIANT_CHECK(free_foreign_check);
        RUN_VARIANT_CHECK(free_misaligned_check);
        RUN_VARIANT_CHECK(free_corrupted_header_check);
        RUN_VARIANT_CHECK(free_prev_size_zero_check);
        RUN_VARIANT_CHECK(error_name_check);
        RUN_VARIANT_CHECK(realloc_null_check);
        RUN_VARIANT_CHECK(realloc_shrink_check);
        RUN_VARIANT_CHECK(realloc_grow_in_place_check);
        RUN_VARIANT_CHECK(realloc_move_check);
        RUN_VARIANT_CHECK(realloc_fail_check);
        RUN_VARIANT_CHECK(realloc_freed_check);
        RUN_VARIANT_CHECK(realloc_forged_header_check);
        RUN_VARIANT_CHECK(realloc_zero_check);
        RUN_VARIANT_CHECK(realloc_slot_zero_check);
        RUN_VARIANT_CHECK(extend_after_used_check);
        RUN_VARIANT_CHECK(extend_merges_check);
        RUN_VARIANT_CHECK(extend_errors_check);
        RUN_VARIANT_CHECK(extend_unaligned_tail_check);
        RUN_VARIANT_CHECK(extend_damaged_end_check);
        RUN_VARIANT_CHECK(stats_identity_check);
        RUN_VARIANT_CHECK(check_detects_check);
        RUN_VARIANT_CHECK(poison_check);
        RUN_VARIANT_CHECK(poison_unlinked_bytes_check);
        RUN_VARIANT_CHECK(realloc_poison_check);
        RUN_VARIANT_CHECK(walk_check);
        RUN_VARIANT_CHECK(walk_corrupted_check);
        RUN_VARIANT_CHECK(fit_policy_check);
        RUN_VARIANT_CHECK(top_block_check);
        RUN_VARIANT_CHECK(quick_lists_check);
        RUN_VARIANT_CHECK(locked_check);
        RUN_VARIANT_CHECK(largest_free_exact_check);
        RUN_VARIANT_CHECK(largest_free_damaged_head_check);
        RUN_VARIANT_CHECK(realloc_into_quick_check);
        RUN_VARIANT_CHECK(double_free_state_flip_check);
        RUN_VARIANT_CHECK(overrun_into_free_check);
        RUN_VARIANT_CHECK(stale_pointer_after_reinit_check);
        RUN_VARIANT_CHECK(stale_pointer_after_nested_reinit_check);
        RUN_VARIANT_CHECK(nested_heap_pointer_check);
        RUN_VARIANT_CHECK(null_heap_check);
        RUN_VARIANT_CHECK(size_alone_refused_check);
        RUN_VARIANT_CHECK(calloc_again_zero_check);
        RUN_VARIANT_CHECK(freed_header_and_next_strategy_check);
        RUN_VARIANT_CHECK(control_words_checked_check);
        RUN_VARIANT_CHECK(runs_edges_check);
        RUN_VARIANT_CHECK(first_fit_grow_exactly_check);
        RUN_VARIANT_CHECK(unsealed_damage_checked_check);
        RUN_VARIANT_CHECK(flipped_listed_block_refused_check);
        RUN_VARIANT_CHECK(refused_calloc_keeps_watermark_check);
        RUN_VARIANT_CHECK(damaged_ops_check);
        RUN_VARIANT_CHECK(damaged_ops_extend_realloc_check);
        RUN_VARIANT_CHECK(damaged_bounds_extend_check);
        RUN_VARIANT_CHECK(damaged_list_head_check);
        RUN_VARIANT_CHECK(damaged_head_remainder_check);
        RUN_VARIANT_CHECK(damaged_quick_head_check);
        RUN_VARIANT_CHECK(damaged_fast_words_check);
        RUN_VARIANT_CHECK(damaged_hook_check);
        RUN_VARIANT_CHECK(stats_bent_link_check);
        RUN_VARIANT_CHECK(free_merge_bent_link_check);
        RUN_VARIANT_CHECK(build_config_check);
        RUN_VARIANT_CHECK(calloc_zeroed_region_check);
        RUN_VARIANT_CHECK(runs_slots_check);
        RUN_VARIANT_CHECK(runs_corrupted_check);
        RUN_VARIANT_CHECK(runs_double_free_state_flip_check);
        RUN_VARIANT_CHECK(runs_overrun_into_free_check);
        RUN_VARIANT_CHECK(runs_exhaust_check);
        RUN_VARIANT_CHECK(runs_poison_check);
        RUN_VARIANT_CHECK(runs_list_cycle_check);
        RUN_VARIANT_CHECK(runs_full_head_check);
        RUN_VARIANT_CHECK(runs_release_prev_check);
        RUN_VARIANT_CHECK(runs_release_damaged_neighbour_check);
        RUN_VARIANT_CHECK(extend_bent_link_check);
        RUN_VARIANT_CHECK(runs_realloc_damaged_neighbour_check);
        RUN_VARIANT_CHECK(failed_request_stats_check);
        RUN_VARIANT_CHECK(runs_release_empty_refused_check);
        RUN_VARIANT_CHECK(refused_request_reports_once_check);
        RUN_VARIANT_CHECK(extend_refused_hook_check);
        RUN_VARIANT_CHECK(alloc_refused_hook_check);
        RUN_VARIANT_CHECK(free_word_run_flag_check);
        RUN_VARIANT_CHECK(run_block_refused_check);
        RUN_VARIANT_CHECK(quick_merge_refused_hook_check);
        RUN_VARIANT_CHECK(runs_refused_damaged_head_check);
        RUN_VARIANT_CHECK(run_block_then_block_reports_once_check);
        RUN_VARIANT_CHECK(runs_damaged_list_take_reports_once_check);
        RUN_VARIANT_CHECK(runs_misaligned_head_check);
        RUN_VARIANT_CHECK(runs_damaged_list_free_reports_once_check);
        RUN_VARIANT_CHECK(free_prev_damaged_refused_check);
        RUN_VARIANT_CHECK(quick_prev_damaged_refused_check);
        RUN_VARIANT_CHECK(list_head_smaller_block_refused_check);
        RUN_VARIANT_CHECK(free_next_damaged_refused_check);
        RUN_VARIANT_CHECK(merge_unlink_bent_link_check);
        RUN_VARIANT_CHECK(head_bent_next_refused_check);
        RUN_VARIANT_CHECK(runs_unlink_refused_check);
        RUN_VARIANT_CHECK(runs_head_outside_heap_check);
        RUN_VARIANT_CHECK(first_fit_count_refused_check);
        RUN_VARIANT_CHECK(first_fit_tags_refused_check);
        RUN_VARIANT_CHECK(runs_link_refused_check);
        RUN_VARIANT_CHECK(runs_full_after_full_head_check);
        RUN_VARIANT_CHECK(first_fit_node_tag_refused_check);
        RUN_VARIANT_CHECK(runs_refused_unsound_head_check);
        RUN_VARIANT_CHECK(runs_give_past_end_check);
        RUN_VARIANT_CHECK(runs_lists_checked_check);
        RUN_VARIANT_CHECK(runs_no_class_refused_check);
        RUN_VARIANT_CHECK(first_fit_node_size_refused_check);
        RUN_VARIANT_CHECK(first_fit_resize_unlisted_next_check);
        RUN_VARIANT_CHECK(first_fit_check_count_check);
        RUN_VARIANT_CHECK(free_size_past_end_refused_check);
        RUN_VARIANT_CHECK(head_bent_prev_refused_check);
        RUN_VARIANT_CHECK(quick_next_damaged_refused_check);
        RUN_VARIANT_CHECK(double_free_damaged_next_check);
        RUN_VARIANT_CHECK(extend_end_tag_off_granule_check);
    }
    PRINT_COUNTED_SUMMARY(passed, failed);
    return failed == 0 ? 0 : 1;
}
