/*
 * alloc/worst_case_test.c - the worst-case instruction counts of allocate, free and realloc of the
 * default strategy (TLSF with quick lists), measured exactly: each scenario builds the heap state
 * that drives one of the longest paths, then a forked child performs the one call while the
 * parent single-steps it with ptrace and counts the instructions executed (minus the count of an
 * empty call, so only the allocator's instructions remain). Each count must stay within the bound
 * stated in alloc/README.md, so a change that lengthens a path fails here.
 *
 * The paths (see tlsf.c, runs.c): malloc and free fast paths (quick-list hit and push, run slot
 * taken and given back); a new run, and a run emptied and given back; the TLSF slow path with a
 * split whose remainder changes list; the aligned path that leaves a leading free fragment, from
 * good fit, from the top block and from the head of the search's own list (a new run's request from
 * there too); the fallback scan of TLSF_FALLBACK_SCAN blocks of a plain request's own list; a
 * request of a run's size that gets no run, served by a block; free merging with a free block on
 * each side, each in another list; and, separately, the failing allocations: the one that first
 * flushes every quick list, whose cost grows with the quick-listed blocks (at most
 * ALLOC_QUICK_MAX_SIZE / 16 x ALLOC_QUICK_BIN_LIMIT of them, each merged with both neighbours), and
 * the one that gives back the runs with no slot in use before its second try; and realloc's longest
 * way in place, a growth into a successor at the far end of a full quick list
 * (ALLOC_QUICK_BIN_LIMIT blocks walked to unlink it).
 *
 * x86_64 Linux only (ptrace single-step); on anything else the test reports that it cannot run
 * and fails, so it is declared for the host only.
 */
#include "alloc/config.h"
#include "alloc/heap.h"
#include "alloc/testing/step_count.h"
#include "runs.h"
#include "tests/support/check.h"
#include "tlsf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGION_SIZE (1u << 20)

/*
 * A sanitizer build (--config=asan, ubsan) runs its instrumentation inside every call: the
 * counts are 1.6 to 3.4 times the plain build's there (AddressSanitizer's slot free 130 against
 * 38), so the bounds are three times as large; with both sanitizers in one build (as CI runs
 * them) up to 4.1 times (the slot free 154 against 38), so five times. The paths are still
 * driven and bounded.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED_ADDRESS 1
#endif
#if __has_feature(undefined_behavior_sanitizer)
#define SANITIZED_UNDEFINED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SANITIZED_ADDRESS)
#define SANITIZED_ADDRESS 1
#endif
#if defined(SANITIZED_ADDRESS) && defined(SANITIZED_UNDEFINED)
#define SCALE 5
#elif defined(SANITIZED_ADDRESS) || defined(SANITIZED_UNDEFINED)
#define SCALE 3
#else
#define SCALE 1
#endif

/*
 * Bounds stated in alloc/README.md (instructions per call, allocator only), one per path: the
 * larger of the counts measured at -O1 and -O2 on x86_64 plus 15%, rounded up to ten, so that a
 * change that lengthens a path by more than that fails here (the README's table has the counts).
 */
#define BOUND_QUICK_HIT    70  /* malloc, quick-list hit */
#define BOUND_QUICK_PUSH   70  /* free onto a quick list */
#define BOUND_SLOT_TAKE    60  /* malloc, run slot taken */
#define BOUND_SLOT_GIVE    50  /* free, run slot given back: after the header check slots fail */
#define BOUND_NEW_RUN      400 /* malloc, a full head leaves, a new run from an aligned request */
#define BOUND_SLOT_PUSH    320 /* free, a full run back on its list behind the head */
#define BOUND_RUN_RETURN   440 /* free, an emptied run given back (a merging free) */
#define BOUND_SPLIT        280 /* TLSF split, remainder re-filed */
#define BOUND_ALIGNED      440 /* aligned, good fit, leading gap left free */
#define BOUND_FALLBACK     340 /* scan of TLSF_FALLBACK_SCAN blocks of the request's list */
#define BOUND_MERGE        370 /* free merging both neighbours */
#define BOUND_FLUSH        406040 /* allocation failing after flushing 64 x 16 quick blocks */
#define BOUND_ALIGNED_TOP  390    /* aligned, from the top block, leading gap left free */
#define BOUND_ALIGNED_HEAD 560    /* aligned, its own list's head, leading gap left free */
#define BOUND_NEW_RUN_HEAD 650    /* malloc, a new run from its own list's head */
#define BOUND_RUN_MISSED   700    /* malloc, no run to be had (no flush), a block instead */
#define BOUND_SPARE_RUNS   3210   /* allocation failing after giving back a spare run a class */
#define BOUND_REALLOC      1390   /* realloc growing into a successor at a full quick list's end */

static unsigned char *region;
static alloc_heap *heap;

/* The operation the child performs under single-stepping. */
enum op_kind { OP_NONE, OP_MALLOC, OP_ALLOCATE, OP_FREE };
static volatile enum op_kind op_kind;
static volatile size_t op_size, op_align;
static void *volatile op_ptr;
/* The one path whose call must fail (the allocation after the flush): every other must succeed. */
static volatile bool op_must_fail;
/*
 * Where a path is told apart by what the call leaves (the block it returns, the runs it gives
 * back), the scenario's test of that, made by op_did_its_path after the others; NULL where none.
 */
static bool (*volatile op_after)(void);

static __attribute__((noinline)) void run_op(void) {
    switch (op_kind) {
    case OP_NONE:
        break;
    case OP_MALLOC:
        op_ptr = alloc_malloc(heap, op_size);
        break;
    case OP_ALLOCATE:
        op_ptr = alloc_allocate(heap, op_size, op_align);
        break;
    case OP_FREE:
        (void)alloc_free(heap, op_ptr);
        break;
    }
}

/*
 * The realloc, a function of its own: a fifth case in run_op's switch changed the code clang made
 * for the other four (every count above 4 to 11 instructions higher at -O1).
 */
static __attribute__((noinline)) void run_realloc(void) {
    op_ptr = alloc_realloc(heap, op_ptr, op_size);
}

/*
 * Whether the call the child just made did what its path is there to measure: a count of a call
 * that failed, or that left the heap unsound, measures some other path. A malloc, allocate or
 * realloc returns a live block unless op_must_fail; after a free its pointer is no longer one (the
 * result of free is not kept by run_op: that would be a store in the counted call). Judged by
 * alloc_usable_size (0 for a pointer that is not a live block) and alloc_heap_check, after the
 * count, and by the scenario's op_after where it has one; not by alloc_heap_stats before it, which
 * moves the largest free block of the highest list to its head and so would change the path
 * measured.
 */
static bool op_did_its_path(void (*op)(void)) {
    if (alloc_heap_check(heap) != ALLOC_OK || (op_after != NULL && !op_after()))
        return false;
    if (op != run_op)
        return op_ptr != NULL && alloc_usable_size(heap, op_ptr) >= op_size;
    switch (op_kind) {
    case OP_NONE:
        return true;
    case OP_MALLOC:
    case OP_ALLOCATE:
        if (op_must_fail)
            return op_ptr == NULL;
        return op_ptr != NULL && alloc_usable_size(heap, op_ptr) >= op_size;
    case OP_FREE:
        return alloc_usable_size(heap, op_ptr) == 0;
    }
    return false;
}

/*
 * The instructions of op() (step_count, with op_did_its_path asked after it), or -1 after a line
 * saying why when the call did not do what its path expects.
 */
static long count_op(void (*op)(void)) {
    long n = step_count(op, op_did_its_path);
    if (n == STEP_COUNT_WRONG_PATH)
        printf("worst_case: the measured call did not do what its path expects\n");
    return n < 0 ? -1 : n;
}

static long baseline;

/* Instructions of the allocator for the op set up in op_*, with the empty call's subtracted. */
static long measure(enum op_kind kind) {
    op_kind = kind;
    long n = count_op(run_op);
    return n < 0 ? -1 : n - baseline;
}

/*
 * measure for a path told apart by what the call leaves: op_after set to `after` (NULL: none) and
 * op_must_fail to must_fail for this call alone.
 */
static long measure_path(enum op_kind kind, bool must_fail, bool (*after)(void)) {
    op_must_fail = must_fail;
    op_after = after;
    long n = measure(kind);
    op_must_fail = false;
    op_after = NULL;
    return n;
}

/* The same for the realloc set up in op_ptr and op_size. */
static long measure_realloc(void) {
    long n = count_op(run_realloc);
    return n < 0 ? -1 : n - baseline;
}

static int fresh_heap(void) {
    ASSERT_EQ(ALLOC_OK, alloc_heap_init(&heap, region, REGION_SIZE, NULL));
    return 0;
}

static long worst_alloc = 0, worst_free = 0;

static int report(const char *name, long n, long bound, long *worst) {
    printf("worst_case: %-44s %6ld instructions (bound %ld)\n", name, n, bound);
    if (worst != NULL && n > *worst)
        *worst = n;
    ASSERT_TRUE(n > 0);
    ASSERT_TRUE(n <= bound);
    return 0;
}

/* A quick-list hit, and a free onto a quick list with room (sizes above the runs'). */
static int fast_paths(void) {
    ASSERT_EQ(0, fresh_heap());
    void *a = alloc_malloc(heap, 100);
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, a));
    op_size = 100;
    if (report("malloc, quick-list hit", measure(OP_MALLOC), (SCALE * BOUND_QUICK_HIT),
               &worst_alloc) != 0)
        return 1;
    op_ptr = alloc_malloc(heap, 100);
    return report("free, onto a quick list", measure(OP_FREE), (SCALE * BOUND_QUICK_PUSH),
                  &worst_free);
}

/* A slot from a run with free slots, and a free that leaves the run neither full nor empty. */
static int run_fast_paths(void) {
    ASSERT_EQ(0, fresh_heap());
    void *keep = alloc_malloc(heap, 32);
    ASSERT_TRUE(keep != NULL);
    op_size = 32;
    if (report("malloc, run slot", measure(OP_MALLOC), (SCALE * BOUND_SLOT_TAKE), &worst_alloc) !=
        0)
        return 1;
    op_ptr = alloc_malloc(heap, 32);
    return report("free, run slot", measure(OP_FREE), (SCALE * BOUND_SLOT_GIVE), &worst_free);
}

enum { RUN64_SLOTS = 15 }; /* 64-byte slots in a run */

/*
 * Fills a new run with 15 requests of 64 bytes: the class has no run with a free slot (none, or a
 * full head, which leaves the list), so the first request makes one.
 */
static int fill_run64(void *slot[RUN64_SLOTS]) {
    for (unsigned i = 0; i < RUN64_SLOTS; i++) {
        slot[i] = alloc_malloc(heap, 64);
        ASSERT_TRUE(slot[i] != NULL);
        ASSERT_EQ((uintptr_t)slot[0] & ~(uintptr_t)1023, (uintptr_t)slot[i] & ~(uintptr_t)1023);
    }
    return 0;
}

/*
 * The runs' slow paths: a request whose class has no run with a free slot (only a full one, left at
 * the head of the list by the take that filled it, which leaves the list first) makes a new run (an
 * aligned request to the strategy); a free into a full run off the list, which goes back on it
 * behind the head, after a full head has left (its successor and the run after that are checked);
 * and the free that empties a run behind the head, which is checked to have a free slot, gives the
 * run back (a merging free).
 *   | full run of 48-byte slots | run with 1 slot used | ... then malloc(48) / free(that slot).
 */
static int run_slow_paths(void) {
    ASSERT_EQ(0, fresh_heap());
    static void *slot[64];
    unsigned n = 0;
    void *first = alloc_malloc(heap, 48);
    ASSERT_TRUE(first != NULL);
    uintptr_t run = (uintptr_t)first & ~(uintptr_t)1023;
    /* Fill the first run: the next request then needs a new one. */
    for (;;) {
        void *p = alloc_malloc(heap, 48);
        ASSERT_TRUE(p != NULL && n < 64);
        if (((uintptr_t)p & ~(uintptr_t)1023) != run) {
            ASSERT_EQ(ALLOC_OK, alloc_free(heap, p)); /* its run stays, as the spare */
            break;
        }
        slot[n++] = p;
    }
    ASSERT_TRUE(alloc_malloc(heap, 3000) != NULL); /* the spare run is not at the top */
    void *other = alloc_malloc(heap, 48);          /* the spare run, now in use */
    /* Fill that run too, so the next request makes a third run. */
    while (((uintptr_t)alloc_malloc(heap, 48) & ~(uintptr_t)1023) ==
           ((uintptr_t)other & ~(uintptr_t)1023))
        ;
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, slot[0])); /* the first run gets a free slot again */
    (void)other;
    /* Fill one run A of another class (15 slots of 64 bytes): it stays, full, at its list's head.
     */
    void *a[RUN64_SLOTS];
    ASSERT_EQ(0, fill_run64(a));
    op_size = 64;
    if (report("malloc, new run", measure(OP_MALLOC), (SCALE * BOUND_NEW_RUN), &worst_alloc) != 0)
        return 1;
    /* Three more full runs, B, S and T, each taking A's place at the head, which leaves the list.
     */
    void *b[RUN64_SLOTS], *s[RUN64_SLOTS], *t[RUN64_SLOTS];
    ASSERT_EQ(0, fill_run64(b));
    ASSERT_EQ(0, fill_run64(s));
    ASSERT_EQ(0, fill_run64(t));
    /* S gets a slot back (T, full, leaves: S alone), then T and B, which go behind the head: S ->
     * B -> T; the next request fills S, which stays at the head. */
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, s[0]));
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, t[0]));
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, b[0]));
    ASSERT_TRUE(alloc_malloc(heap, 64) == s[0]);
    /* A, full and off the list, gets a slot back: S leaves (B checked), A goes behind B (T
     * checked). */
    op_ptr = a[0];
    if (report("free, full run back behind the head", measure(OP_FREE), (SCALE * BOUND_SLOT_PUSH),
               &worst_free) != 0)
        return 1;
    /* Empty the first run but for one slot, then free that one: the run goes back. */
    for (unsigned i = 1; i < n; i++)
        ASSERT_EQ(ALLOC_OK, alloc_free(heap, slot[i]));
    op_ptr = first;
    return report("free, emptied run given back", measure(OP_FREE), (SCALE * BOUND_RUN_RETURN),
                  &worst_free);
}

/* A fresh heap with a free block of `size` bytes between live ones:  | A | (free) | B | top | */
static int free_between(size_t size) {
    ASSERT_EQ(0, fresh_heap());
    void *a = alloc_malloc(heap, 100), *f = alloc_malloc(heap, size), *b = alloc_malloc(heap, 100);
    ASSERT_TRUE(a != NULL && f != NULL && b != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, f));
    return 0;
}

/*
 * A request the quick lists cannot serve, from a free block of another list whose remainder is
 * re-filed in a third:  | A | (free 8000) | B | top |  then malloc(3000).
 */
static int split_refile(void) {
    ASSERT_EQ(0, free_between(8000));
    op_size = 3000;
    return report("malloc, TLSF split, remainder re-filed", measure(OP_MALLOC),
                  (SCALE * BOUND_SPLIT), &worst_alloc);
}

/*
 * An aligned request whose leading gap stays free:  | A | (free 20000) | B | top |  then
 * allocate(3000, 4096).
 */
static int aligned_gap(void) {
    ASSERT_EQ(0, free_between(20000));
    op_size = 3000;
    op_align = 4096;
    return report("allocate, aligned with a leading free gap", measure(OP_ALLOCATE),
                  (SCALE * BOUND_ALIGNED), &worst_alloc);
}

/*
 * The fallback scan: TLSF_FALLBACK_SCAN free blocks of one list (2208 bytes), the only one that
 * fits the request (2272 bytes) freed first so it is the last one the scan tries, the top block
 * too small:
 *   | F0 | s | F1 | s | F2 | s | F3 | s | rest (used) | ... then allocate its exact size.
 * (With more blocks than the scan tries, the request fails: until 2026-12-06 this scenario had 20,
 * from when the scan tried 16, and counted a failing malloc; op_did_its_path now refuses that.)
 */
static int fallback_scan(void) {
    ASSERT_EQ(0, fresh_heap());
    enum { N = TLSF_FALLBACK_SCAN };
    void *big[N];
    for (unsigned i = 0; i < N; i++) {
        big[i] = alloc_malloc(heap, i + 1 < N ? 2180 : 2256);
        ASSERT_TRUE(alloc_malloc(heap, 100) != NULL);
    }
    struct alloc_stats s;
    alloc_heap_stats(heap, &s);
    ASSERT_TRUE(alloc_malloc(heap, s.largest_free) != NULL);
    /* The fitting block pushed first, then the rest: it is deepest in the list. */
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, big[N - 1]));
    for (unsigned i = 0; i + 1 < N; i++)
        ASSERT_EQ(ALLOC_OK, alloc_free(heap, big[i]));
    op_size = 2256;
    return report("malloc, fallback scan of its own list", measure(OP_MALLOC),
                  (SCALE * BOUND_FALLBACK), &worst_alloc);
}

/*
 * The blocks below are carved in order from the top of a fresh heap, which has no other free
 * block: a live separator, then a live filler of at least `min` block bytes (above the runs' sizes,
 * so a block and not a slot), sized so that the next block carved from the top has its payload at
 * `phase` modulo `align` (a power of two); the filler's payload in *filler if filler is not NULL.
 */
static int place_top(uintptr_t align, uintptr_t phase, size_t min, void **filler) {
    void *s = alloc_malloc(heap, 100);
    ASSERT_TRUE(s != NULL);
    uintptr_t next = (uintptr_t)s + alloc_usable_size(heap, s) + HDR; /* the top's payload */
    size_t d = (phase - next) & (align - 1);
    while (d < min)
        d += align;
    void *f = alloc_malloc(heap, d - HDR);
    ASSERT_TRUE(f != NULL && (uintptr_t)f == next && alloc_usable_size(heap, f) == d - HDR);
    if (filler != NULL)
        *filler = f;
    return 0;
}

/* Takes what is left of the top block, so that no request is served from it. */
static int take_rest(void) {
    struct alloc_stats s;
    alloc_heap_stats(heap, &s);
    ASSERT_TRUE(alloc_malloc(heap, s.largest_free) != NULL);
    return 0;
}

/* What a call must return where op_after is returned_expected. */
static uintptr_t expect_ptr;
/* The runs the heap must have after the call, where op_after compares them. */
static size_t runs_expected;
static bool returned_expected(void) {
    return (uintptr_t)op_ptr == expect_ptr;
}

/*
 * An aligned request served by the top block, the only free block, with a leading gap of 4080
 * bytes (its payload 16 bytes past a 4096 boundary) left free:  | s | filler | top |  then
 * allocate(3000, 4096).
 */
static int aligned_from_top(void) {
    ASSERT_EQ(0, fresh_heap());
    ASSERT_EQ(0, place_top(4096, 16, 96, NULL));
    ASSERT_TRUE(tlsf_of(heap)->top != NULL);
    expect_ptr = ((uintptr_t)tlsf_of(heap)->top + HDR + 4095) & ~(uintptr_t)4095;
    op_size = 3000;
    op_align = 4096;
    long n = measure_path(OP_ALLOCATE, false, returned_expected);
    return report("allocate, aligned, top block, leading gap", n, (SCALE * BOUND_ALIGNED_TOP),
                  &worst_alloc);
}

/*
 * The state of an aligned request's longest way to a block: one free block F of `block` bytes
 * whose payload lies at `phase` modulo `align`, on the list that the search of a request of its
 * size maps to (its block size + align + MIN_BLOCK), no block on a list above that, and a top
 * block of 512 bytes, too small:
 *   | s | filler | F (free) | s | used | top 512 |
 * F's payload in *f.
 */
static int own_list_head(size_t block, uintptr_t align, uintptr_t phase, uintptr_t *f) {
    ASSERT_EQ(0, place_top(align, phase, 96, NULL));
    void *p = alloc_malloc(heap, block - HDR);
    ASSERT_TRUE(p != NULL && ((uintptr_t)p & (align - 1)) == phase);
    ASSERT_TRUE(alloc_malloc(heap, 100) != NULL);
    block_t *top = tlsf_of(heap)->top;
    ASSERT_TRUE(top != NULL && alloc_malloc(heap, blk_size(top) - HDR - 512) != NULL);
    ASSERT_TRUE(tlsf_of(heap)->top != NULL && blk_size(tlsf_of(heap)->top) == 512);
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, p));
    *f = (uintptr_t)p;
    return 0;
}

/*
 * An aligned request that good fit and the top block cannot serve, served by the head of its
 * search's own list with a leading gap of 64 bytes left free and the rest re-filed:
 * allocate(3984, 4096) (a block of 4000 bytes, its search 8128) over a free block of 8000 whose
 * payload lies 64 bytes before a 4096 boundary.
 */
static int aligned_own_head(void) {
    ASSERT_EQ(0, fresh_heap());
    uintptr_t f;
    ASSERT_EQ(0, own_list_head(8000, 4096, 4096 - 64, &f));
    op_size = 3984;
    op_align = 4096;
    expect_ptr = f + 64;
    long n = measure_path(OP_ALLOCATE, false, returned_expected);
    return report("allocate, aligned, own list's head, leading gap", n,
                  (SCALE * BOUND_ALIGNED_HEAD), &worst_alloc);
}

/*
 * On a fresh heap, a full run of 64-byte slots alone on its list (the next 64-byte request makes it
 * leave and asks for a new run), then own_list_head's state for that run's aligned request: a free
 * block of 2048 bytes whose payload lies `gap` bytes before a 1024 boundary, its payload in *f.
 */
static int full_run64_then_own_head(uintptr_t gap, uintptr_t *f) {
    ASSERT_EQ(0, fresh_heap());
    ASSERT_EQ(0, place_top(RUN_ALIGN, 0, 96, NULL));
    void *a[RUN64_SLOTS];
    ASSERT_EQ(0, fill_run64(a));
    return own_list_head(2048, RUN_ALIGN, RUN_ALIGN - gap, f);
}

/*
 * A new run from the head of its search's own list (1024 + 1024 + 32): a full run of 64-byte slots
 * alone on its list (it leaves), then the run's aligned request served by a free block of 2048
 * bytes whose payload lies 64 bytes before a 1024 boundary (the run behind a leading gap of 64);
 * then malloc(64).
 */
static int new_run_own_head(void) {
    uintptr_t f;
    ASSERT_EQ(0, full_run64_then_own_head(64, &f));
    op_size = 64;
    expect_ptr = f + 64 + RUN_META; /* the new run's first slot */
    long n = measure_path(OP_MALLOC, false, returned_expected);
    return report("malloc, new run from its own list's head", n, (SCALE * BOUND_NEW_RUN_HEAD),
                  &worst_alloc);
}

/*
 * A request of a run's size for which no run can be had, served by a block instead: a full run of
 * 64-byte slots alone on its list (it leaves), then the new run's aligned request, which good fit,
 * the top block and the head of its search's own list cannot serve (a block of 2048 bytes whose
 * payload lies 16 bytes before a 1024 boundary: 2064 bytes needed); then a block of 80 bytes, good
 * fit's, cut from that one, the rest re-filed in another list; malloc(64). (The new run's request
 * does not flush the quick lists: runs.c says why.)
 */
static bool returned_a_block(void) {
    return heap->runs == runs_expected && alloc_usable_size(heap, op_ptr) == 64;
}

static int run_missed_block(void) {
    uintptr_t f;
    ASSERT_EQ(0, full_run64_then_own_head(16, &f));
    runs_expected = heap->runs; /* no new run */
    op_size = 64;
    long n = measure_path(OP_MALLOC, false, returned_a_block);
    return report("malloc, no run to be had, a block instead", n, (SCALE * BOUND_RUN_MISSED),
                  &worst_alloc);
}

/*
 * Free merging both neighbours, each in a list of its own, the sum in a third:
 *   | s | (free 3000) | A 5000 | (free 9000) | s | top |  then free(A).
 */
static int free_merge_both(void) {
    ASSERT_EQ(0, fresh_heap());
    void *s0 = alloc_malloc(heap, 100), *p = alloc_malloc(heap, 3000);
    void *a = alloc_malloc(heap, 5000), *n = alloc_malloc(heap, 9000);
    void *s1 = alloc_malloc(heap, 100);
    (void)s0;
    (void)s1;
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, p));
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, n));
    op_ptr = a;
    return report("free, merging both neighbours, re-filed", measure(OP_FREE),
                  (SCALE * BOUND_MERGE), &worst_free);
}

/* The quick-listed blocks of the heap, by a walk (the realloc's scenario and the flush's). */
static size_t quick_blocks(void);
static bool no_quick_blocks(void) {
    return quick_blocks() == 0;
}

enum { QUICK_LISTS = ALLOC_QUICK_MAX_SIZE / 16 };

/*
 * A request that fails until every quick list is flushed: every quick-listed size (16 to 1024
 * bytes) x ALLOC_QUICK_BIN_LIMIT blocks, each between two free blocks (of 80 bytes and more,
 * freed once the quick lists are full: filed on the TLSF lists), so that each block the flush
 * gives back merges with both neighbours, the rest of the heap in use, then a request larger than
 * any block:  | F | Q | F | Q | ... | Q | F | rest (used) |. The sizes of the runs (16 to 64 bytes)
 * are quick-listed blocks too where an aligned request made them (allocate(16, 32)): the free
 * block before each such one sized so that its payload is aligned already (no leading fragment).
 */
static int flush_then_fail(void) {
    ASSERT_EQ(0, fresh_heap());
    static void *q[QUICK_LISTS][ALLOC_QUICK_BIN_LIMIT], *f[QUICK_LISTS][ALLOC_QUICK_BIN_LIMIT];
    for (unsigned i = 0; i < QUICK_LISTS; i++) {
        for (unsigned j = 0; j < ALLOC_QUICK_BIN_LIMIT; j++) {
            size_t size = (i + 1) * 16;
            if (size <= ALLOC_RUN_MAX_SIZE) {
                ASSERT_EQ(0, place_top(32, 0, 96, &f[i][j]));
                q[i][j] = alloc_allocate(heap, size, 32);
            } else {
                f[i][j] = alloc_malloc(heap, 80);
                q[i][j] = alloc_malloc(heap, size);
            }
            ASSERT_TRUE(f[i][j] != NULL && q[i][j] != NULL &&
                        alloc_usable_size(heap, q[i][j]) == size);
        }
    }
    void *last = alloc_malloc(heap, 80);
    ASSERT_TRUE(last != NULL);
    ASSERT_EQ(0, take_rest());
    for (unsigned i = 0; i < QUICK_LISTS; i++) {
        for (unsigned j = 0; j < ALLOC_QUICK_BIN_LIMIT; j++)
            ASSERT_EQ(ALLOC_OK, alloc_free(heap, q[i][j]));
    }
    ASSERT_EQ((size_t)QUICK_LISTS * ALLOC_QUICK_BIN_LIMIT, quick_blocks());
    for (unsigned i = 0; i < QUICK_LISTS; i++) {
        for (unsigned j = 0; j < ALLOC_QUICK_BIN_LIMIT; j++)
            ASSERT_EQ(ALLOC_OK, alloc_free(heap, f[i][j]));
    }
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, last));
    ASSERT_EQ((size_t)QUICK_LISTS * ALLOC_QUICK_BIN_LIMIT, quick_blocks());
    op_size = REGION_SIZE; /* more than the flush merges them all into */
    long n = measure_path(OP_MALLOC, true, no_quick_blocks);
    return report("malloc failing after flushing 1,024 quick blocks", n, (SCALE * BOUND_FLUSH),
                  NULL);
}

/*
 * A request that fails after the runs with no slot in use are given back: in each run class, the
 * one run kept with every slot free (the spare), between free blocks of two lists, which it merges
 * with as it goes back, and behind it on its list RUNS_LISTED runs with one free slot each; no
 * quick-listed block. Per class:
 *   | s | X (free 2000) | S (spare run) | Y (free 3000) | s |   and full runs R0 .. R(k-1),
 * each then given one slot back (it joins the list behind S). Then a request larger than any block.
 */
enum { RUNS_LISTED = 150 };
static bool runs_released(void) {
    return heap->runs == runs_expected;
}

static int release_spare_runs(void) {
    ASSERT_EQ(0, fresh_heap());
    enum { CLASSES = ALLOC_RUN_MAX_SIZE / 16 };
    static void *one[CLASSES][RUNS_LISTED];
    void *x[CLASSES], *y[CLASSES];
    for (unsigned c = 1; c <= CLASSES; c++) {
        size_t size = c * 16, slots = RUN_SLOTS / size;
        /* The runs tile from a run's alignment: no leading fragment to serve the blocks below. */
        ASSERT_EQ(0, place_top(RUN_ALIGN, 0, 96, NULL));
        for (unsigned k = 0; k < RUNS_LISTED; k++) {
            for (size_t j = 0; j < slots; j++) {
                void *p = alloc_malloc(heap, size);
                ASSERT_TRUE(p != NULL);
                if (j == 0)
                    one[c - 1][k] = p;
                ASSERT_EQ((uintptr_t)one[c - 1][k] & ~(RUN_ALIGN - 1),
                          (uintptr_t)p & ~(RUN_ALIGN - 1));
            }
        }
        /* X ends where the next run's block begins, at a run's alignment: no leading gap. */
        ASSERT_EQ(0, place_top(RUN_ALIGN, 0, 2000, &x[c - 1]));
        void *spare = alloc_malloc(heap, size);
        ASSERT_TRUE(spare != NULL && ((uintptr_t)spare & (RUN_ALIGN - 1)) == RUN_META);
        y[c - 1] = alloc_malloc(heap, 3000);
        ASSERT_TRUE(y[c - 1] != NULL && alloc_malloc(heap, 100) != NULL);
        ASSERT_EQ(ALLOC_OK, alloc_free(heap, spare)); /* kept: the only run with a free slot */
        for (unsigned k = 0; k < RUNS_LISTED; k++)
            ASSERT_EQ(ALLOC_OK, alloc_free(heap, one[c - 1][k]));
    }
    ASSERT_EQ(0, take_rest());
    for (unsigned c = 0; c < CLASSES; c++) {
        ASSERT_EQ(ALLOC_OK, alloc_free(heap, x[c]));
        ASSERT_EQ(ALLOC_OK, alloc_free(heap, y[c]));
    }
    ASSERT_EQ((size_t)CLASSES * (RUNS_LISTED + 1), heap->runs);
    ASSERT_EQ(0, quick_blocks());
    runs_expected = heap->runs - CLASSES;
    op_size = 100000;
    long n = measure_path(OP_MALLOC, true, runs_released);
    return report("malloc failing after giving back 4 spare runs", n, (SCALE * BOUND_SPARE_RUNS),
                  NULL);
}

/*
 * A realloc growing in place into a successor that sits on a quick list, at the far end of a full
 * one (alloc_tlsf_unquick walks ALLOC_QUICK_BIN_LIMIT blocks, each checked, to unlink it), whose
 * own successor is free and listed (the unquicked block merges with it), the growth leaving a
 * rest re-filed in another list:
 *   | B 200 | Q 400 (quick, deepest) | (free 3000) | s | Q 400 | s | ... 15 more ... | top |
 * then realloc(B, 2000). The parent makes the same call afterwards, on the same heap as the
 * child's, to check that the scenario grew B in place.
 */
static size_t quick_seen;

static void count_quick(void *ctx, void *payload, size_t usable_size,
                        enum alloc_block_state state) {
    (void)ctx;
    (void)payload;
    (void)usable_size;
    quick_seen += state == ALLOC_BLOCK_QUICK;
}

static size_t quick_blocks(void) {
    quick_seen = 0;
    (void)alloc_heap_walk(heap, count_quick, NULL);
    return quick_seen;
}

static int realloc_into_quick(void) {
    ASSERT_EQ(0, fresh_heap());
    enum { N = ALLOC_QUICK_BIN_LIMIT };
    void *b = alloc_malloc(heap, 200), *q[N], *f;
    q[0] = alloc_malloc(heap, 400);
    f = alloc_malloc(heap, 3000);
    ASSERT_TRUE(b != NULL && q[0] != NULL && f != NULL && alloc_malloc(heap, 100) != NULL);
    for (unsigned i = 1; i < N; i++) {
        q[i] = alloc_malloc(heap, 400);
        ASSERT_TRUE(q[i] != NULL && alloc_malloc(heap, 100) != NULL);
    }
    ASSERT_EQ(ALLOC_OK, alloc_free(heap, f));
    /* q[0] pushed first: the deepest of the full list's blocks. */
    for (unsigned i = 0; i < N; i++)
        ASSERT_EQ(ALLOC_OK, alloc_free(heap, q[i]));
    ASSERT_EQ((size_t)N, quick_blocks());
    op_ptr = b;
    op_size = 2000;
    if (report("realloc, into the deepest of a full quick list", measure_realloc(),
               (SCALE * BOUND_REALLOC), NULL) != 0)
        return 1;
    ASSERT_TRUE(alloc_realloc(heap, b, 2000) == b);
    ASSERT_EQ((size_t)N - 1, quick_blocks());
    return 0;
}

int main(void) {
#if !defined(__x86_64__) || !defined(__linux__)
    printf("worst_case: needs x86_64 Linux (ptrace single-step)\n");
    return 1;
#else
    region = aligned_alloc(4096, REGION_SIZE);
    if (region == NULL)
        return 2;
    if (fresh_heap() != 0)
        return 2;
    op_kind = OP_NONE;
    baseline = count_op(run_op);
    if (baseline < 0) {
        printf("worst_case: ptrace single-stepping is not available here\n");
        return 1;
    }
    static int (*const scenarios[])(void) = {
        fast_paths,       run_fast_paths,  run_slow_paths,     split_refile,       aligned_gap,
        fallback_scan,    free_merge_both, aligned_from_top,   aligned_own_head,   new_run_own_head,
        run_missed_block, flush_then_fail, release_spare_runs, realloc_into_quick,
    };
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        if (scenarios[i]() == 0)
            passed++;
        else
            failed++;
    }
    printf("worst_case: allocate %ld, free %ld instructions at most (flush excluded)\n",
           worst_alloc, worst_free);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
#endif
}
