/*
 * alloc/worst_case_test.c - the worst-case instruction counts of allocate, free and realloc of the
 * default strategy (TLSF with quick lists), measured exactly: each scenario builds the heap state
 * that drives one of the longest paths, then a forked child performs the one call while the
 * parent single-steps it with ptrace and counts the instructions executed (minus the count of an
 * empty call, so only the allocator's instructions remain). Each count must stay within the bound
 * stated in alloc/README.md, so a change that lengthens a path fails here.
 *
 * The paths (see tlsf.c, runs.c): malloc and free fast paths (quick-list hit and push, run slot
 * taken and given back); a new run, and a run emptied and given back; the TLSF slow
 * path with a split whose remainder changes list; the aligned path that leaves a leading free
 * fragment; the fallback scan of TLSF_FALLBACK_SCAN blocks of the request's own list; free
 * merging with a free block on each side, each in another list; and, separately, the failing
 * allocation that first flushes every quick list, whose cost grows with the quick-listed blocks
 * (at most ALLOC_QUICK_MAX_SIZE / 16 x ALLOC_QUICK_BIN_LIMIT of them); and realloc's longest way
 * in place, a growth into a successor at the far end of a full quick list (ALLOC_QUICK_BIN_LIMIT
 * blocks walked to unlink it).
 *
 * x86_64 Linux only (ptrace single-step); on anything else the test reports that it cannot run
 * and fails, so it is declared for the host only.
 */
#include "alloc/config.h"
#include "alloc/heap.h"
#include "tests/support/check.h"
#include "tlsf.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#define REGION_SIZE (1u << 20)

/*
 * A sanitizer build (--config=asan, ubsan) runs its instrumentation inside every call: the
 * counts are 1.6 to 3.3 times the plain build's there (AddressSanitizer's slot free 130 against
 * 39), so the bounds are three times as large; the paths are still driven and bounded.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SANITIZED)
#define SANITIZED 1
#endif
#ifdef SANITIZED
#define SCALE 3
#else
#define SCALE 1
#endif

/*
 * Bounds stated in alloc/README.md (instructions per call, allocator only), one per path: the
 * larger of the counts measured at -O1 and -O2 on x86_64 plus 15%, rounded up to ten, so that a
 * change that lengthens a path by more than that fails here (the README's table has the counts).
 */
#define BOUND_QUICK_HIT  70     /* malloc, quick-list hit */
#define BOUND_QUICK_PUSH 70     /* free onto a quick list */
#define BOUND_SLOT_TAKE  60     /* malloc, run slot taken */
#define BOUND_SLOT_GIVE  50     /* free, run slot given back: after the header check slots fail */
#define BOUND_NEW_RUN    390    /* malloc, a full head leaves, a new run from an aligned request */
#define BOUND_SLOT_PUSH  320    /* free, a full run back on its list behind the head */
#define BOUND_RUN_RETURN 430    /* free, an emptied run given back (a merging free) */
#define BOUND_SPLIT      300    /* TLSF split, remainder re-filed */
#define BOUND_ALIGNED    440    /* aligned, leading gap left free */
#define BOUND_FALLBACK   330    /* scan of TLSF_FALLBACK_SCAN blocks of the request's list */
#define BOUND_MERGE      370    /* free merging both neighbours */
#define BOUND_FLUSH      160620 /* allocation failing after flushing 60 x 16 quick blocks */
#define BOUND_REALLOC    1380   /* realloc growing into a successor at a full quick list's end */

static unsigned char *region;
static alloc_heap *heap;

/* The operation the child performs under single-stepping. */
enum op_kind { OP_NONE, OP_MALLOC, OP_ALLOCATE, OP_FREE };
static volatile enum op_kind op_kind;
static volatile size_t op_size, op_align;
static void *volatile op_ptr;
/* The one path whose call must fail (the allocation after the flush): every other must succeed. */
static volatile bool op_must_fail;

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
 * count; not by alloc_heap_stats before it, which moves the largest free block of the highest
 * list to its head and so would change the path measured.
 */
static bool op_did_its_path(void (*op)(void)) {
    if (alloc_heap_check(heap) != ALLOC_OK)
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

/* The child's exit status when op_did_its_path says no. */
#define CHILD_WRONG_PATH 4

/*
 * Forks; the child stops itself, performs op() and stops again; the parent single-steps it in
 * between. Returns the number of instructions between the two stops, or -1 (after a line saying
 * why when the call did not do what its path expects: op_did_its_path, checked by the child after
 * the second stop, outside the count).
 */
static long count_op(void (*op)(void)) {
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
            _exit(3);
        raise(SIGSTOP);
        op();
        raise(SIGSTOP);
        _exit(op_did_its_path(op) ? 0 : CHILD_WRONG_PATH);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
        return -1;
    long steps = 0;
    for (;;) {
        if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) != 0)
            return -1;
        if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
            return -1;
        if (WSTOPSIG(status) == SIGSTOP)
            break;
        steps++;
    }
    ptrace(PTRACE_CONT, pid, NULL, NULL);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    if (WEXITSTATUS(status) != 0) {
        printf("worst_case: the measured call did not do what its path expects (child exit %d)\n",
               WEXITSTATUS(status));
        return -1;
    }
    return steps;
}

static long baseline;

/* Instructions of the allocator for the op set up in op_*, with the empty call's subtracted. */
static long measure(enum op_kind kind) {
    op_kind = kind;
    long n = count_op(run_op);
    return n < 0 ? -1 : n - baseline;
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

/*
 * A request that fails until every quick list is flushed: the quick-listed sizes above the runs'
 * (80 to 1024 bytes) x 16 blocks, each between live blocks, the rest of the heap in use, then a
 * request larger than any block.
 */
static int flush_then_fail(void) {
    ASSERT_EQ(0, fresh_heap());
    static void *q[64][16];
    for (unsigned i = 4; i < 64; i++) {
        for (unsigned j = 0; j < 16; j++) {
            q[i][j] = alloc_malloc(heap, (i + 1) * 16);
            ASSERT_TRUE(q[i][j] != NULL && alloc_malloc(heap, 80) != NULL);
        }
    }
    struct alloc_stats s;
    alloc_heap_stats(heap, &s);
    ASSERT_TRUE(alloc_malloc(heap, s.largest_free) != NULL);
    for (unsigned i = 4; i < 64; i++) {
        for (unsigned j = 0; j < 16; j++)
            ASSERT_EQ(ALLOC_OK, alloc_free(heap, q[i][j]));
    }
    op_size = 100000;
    op_must_fail = true;
    long n = measure(OP_MALLOC);
    op_must_fail = false;
    return report("malloc failing after flushing 960 quick blocks", n, (SCALE * BOUND_FLUSH), NULL);
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

/* The quick-listed blocks of the heap, by a walk. */
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
    int failed = 0;
    failed += fast_paths();
    failed += run_fast_paths();
    failed += run_slow_paths();
    failed += split_refile();
    failed += aligned_gap();
    failed += fallback_scan();
    failed += free_merge_both();
    failed += flush_then_fail();
    failed += realloc_into_quick();
    printf("worst_case: allocate %ld, free %ld instructions at most (flush excluded)\n",
           worst_alloc, worst_free);
    printf("%d passed, %d failed\n", 9 - failed, failed);
    return failed == 0 ? 0 : 1;
#endif
}
