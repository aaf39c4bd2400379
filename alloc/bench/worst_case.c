/*
 * alloc/bench/worst_case.c - the instructions of one allocate or free in the same heap state, for
 * the default strategy and for the allocators it is compared with: the classic TLSF and half-fit
 * (this project's renditions, alloc/bench/reference) and first fit (//alloc's first_fit strategy,
 * FreeRTOS heap_4's algorithm). Each call is counted exactly (step_count: single-stepped in a
 * forked child, the count of an empty call subtracted), so the figures are repeatable to the
 * instruction.
 *
 * The states are those of the TLSF papers' longest paths, built by the same calls on every
 * allocator: a request that splits a block of a higher list and files the rest elsewhere, an
 * aligned request that leaves a leading gap, a free that merges with both neighbours; and, for
 * first fit's linear paths, a request and a free with LONG_LIST free blocks listed before the
 * place they need. The default strategy's own longer paths (its runs, its quick lists' flush) have
 * no counterpart here: //alloc:worst_case_test bounds them.
 *
 *   bazel run -c opt //alloc/bench:worst_case        (-O2; without -c opt, -O1 as in bazel test)
 *
 * Exits 1 if a count fails or a call did not do what its state is there for (a NULL, an unsound
 * heap afterwards, free blocks not changed as its path changes them, a split's block taken from
 * elsewhere): such a count would be of some other path. A count includes the call through this
 * program's table of allocators, which the empty call's does not: a few instructions, so these
 * counts are not //alloc:worst_case_test's. x86_64 Linux only.
 */
#include "alloc/bench/reference/halffit.h"
#include "alloc/bench/reference/tlsf_classic.h"
#include "alloc/config.h"
#include "alloc/heap.h"
#include "alloc/testing/step_count.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define REGION_SIZE (16u << 20)

/*
 * Free blocks listed ahead of first fit's place in the list states: a short list and a long one.
 * An allocator whose paths are bounded counts the same at both.
 */
#define SHORT_LIST 10
#define LONG_LIST  1000

/*
 * Block sizes: above the default strategy's quick-list and run sizes (ALLOC_QUICK_MAX_SIZE 1,024),
 * so that every allocator's blocks go to its general lists and the paths are alike.
 */
#define SPLIT_SOURCE 65536 /* the block the split's request is cut from */
#define REQUEST      3000  /* the request that splits it, and the aligned one */
#define ALIGNMENT    4096
#define LISTED       2000 /* each block of the long list, and each used block between two */

/* One allocator behind a common interface. */
struct allocator {
    const char *name;
    void *(*create)(void *region, size_t size);
    void *(*malloc)(void *heap, size_t size);
    void *(*memalign)(void *heap, size_t size, size_t align); /* NULL: no aligned requests */
    void (*free)(void *heap, void *ptr);
    size_t (*usable)(void *heap, const void *ptr);
    bool (*sound)(void *heap);
    size_t (*free_blocks)(void *heap); /* free blocks (fragments) in the heap, read-only */
    bool bounded; /* claims paths whose length does not grow with the free blocks listed */
};

static void *ours_create(void *region, size_t size, enum alloc_strategy strategy) {
    alloc_heap *h;
    struct alloc_config config = {.strategy = strategy, .flags = ALLOC_DEFAULT_FLAGS};
    return alloc_heap_init(&h, region, size, &config) == ALLOC_OK ? h : NULL;
}
static void *default_create(void *region, size_t size) {
    return ours_create(region, size, ALLOC_STRATEGY_TLSF);
}
static void *first_fit_create(void *region, size_t size) {
    return ours_create(region, size, ALLOC_STRATEGY_FIRST_FIT);
}
static void *ours_malloc(void *heap, size_t size) {
    return alloc_malloc(heap, size);
}
static void *ours_memalign(void *heap, size_t size, size_t align) {
    return alloc_allocate(heap, size, align);
}
static void ours_free(void *heap, void *ptr) {
    (void)alloc_free(heap, ptr);
}
static size_t ours_usable(void *heap, const void *ptr) {
    return alloc_usable_size(heap, ptr);
}
static bool ours_sound(void *heap) {
    return alloc_heap_check(heap) == ALLOC_OK;
}
static void count_free(void *ctx, void *payload, size_t usable_size, enum alloc_block_state state) {
    (void)payload;
    (void)usable_size;
    *(size_t *)ctx += state == ALLOC_BLOCK_FREE;
}
/* By the walk, which changes nothing (alloc_heap_stats would move the largest free block). */
static size_t ours_free_blocks(void *heap) {
    size_t n = 0;
    return alloc_heap_walk(heap, count_free, &n) == ALLOC_OK ? n : SIZE_MAX;
}

static void *tlsf_create(void *region, size_t size) {
    return tlsf_classic_create(region, size);
}
static void *tlsf_malloc(void *heap, size_t size) {
    return tlsf_classic_malloc(heap, size);
}
static void *tlsf_memalign(void *heap, size_t size, size_t align) {
    return tlsf_classic_memalign(heap, align, size);
}
static void tlsf_free(void *heap, void *ptr) {
    tlsf_classic_free(heap, ptr);
}
static size_t tlsf_usable(void *heap, const void *ptr) {
    (void)heap;
    return tlsf_classic_usable_size(ptr);
}
static bool tlsf_sound(void *heap) {
    struct tlsf_classic_stats stats;
    return tlsf_classic_check(heap, &stats);
}
static size_t tlsf_free_blocks(void *heap) {
    struct tlsf_classic_stats stats;
    return tlsf_classic_check(heap, &stats) ? stats.free_blocks : SIZE_MAX;
}

static void *halffit_create_any(void *region, size_t size) {
    return halffit_create(region, size);
}
static void *halffit_malloc(void *heap, size_t size) {
    return halffit_allocate(heap, size);
}
static void halffit_free_any(void *heap, void *ptr) {
    halffit_free(heap, ptr);
}
static size_t halffit_usable(void *heap, const void *ptr) {
    (void)heap;
    return halffit_usable_size(ptr);
}
static bool halffit_sound(void *heap) {
    struct halffit_stats stats;
    return halffit_check(heap, &stats);
}
static size_t halffit_free_blocks(void *heap) {
    struct halffit_stats stats;
    return halffit_check(heap, &stats) ? stats.free_fragments : SIZE_MAX;
}

static const struct allocator allocators[] = {
    {"default", default_create, ours_malloc, ours_memalign, ours_free, ours_usable, ours_sound,
     ours_free_blocks, true},
    {"tlsf_classic", tlsf_create, tlsf_malloc, tlsf_memalign, tlsf_free, tlsf_usable, tlsf_sound,
     tlsf_free_blocks, true},
    {"halffit", halffit_create_any, halffit_malloc, NULL, halffit_free_any, halffit_usable,
     halffit_sound, halffit_free_blocks, true},
    {"first_fit", first_fit_create, ours_malloc, ours_memalign, ours_free, ours_usable, ours_sound,
     ours_free_blocks, false},
};
#define ALLOCATOR_COUNT (sizeof allocators / sizeof allocators[0])

/* The call the child makes under single-stepping, and what it must have done. */
enum op_kind { OP_NONE, OP_MALLOC, OP_MEMALIGN, OP_FREE };
static const struct allocator *op_allocator;
static void *op_heap;
static volatile enum op_kind op_kind;
static volatile size_t op_size;
static void *volatile op_ptr;
/*
 * What tells the call's path apart, checked after it: the change in free blocks it must make (a
 * split 0, a leading gap left free +1, a merge with both neighbours -1), counted before it by
 * measure; and for a split, the block the result must lie in (NULL: any).
 */
static long op_free_change;
static size_t op_free_before;
static const unsigned char *op_inside;
static size_t op_inside_size;

static __attribute__((noinline)) void run_op(void) {
    switch (op_kind) {
    case OP_NONE:
        break;
    case OP_MALLOC:
        op_ptr = op_allocator->malloc(op_heap, op_size);
        break;
    case OP_MEMALIGN:
        op_ptr = op_allocator->memalign(op_heap, op_size, ALIGNMENT);
        break;
    case OP_FREE:
        op_allocator->free(op_heap, op_ptr);
        break;
    }
}

/*
 * In the child, after the count: the call gave what was asked (or freed), the heap is sound, its
 * free blocks changed by op_free_change, and a split's result lies in its source block.
 */
static bool op_did_its_path(void (*call)(void)) {
    (void)call;
    if (!op_allocator->sound(op_heap))
        return false;
    size_t after = op_allocator->free_blocks(op_heap);
    if (op_free_before == SIZE_MAX || after == SIZE_MAX ||
        (long)(after - op_free_before) != op_free_change)
        return false;
    const unsigned char *p = op_ptr;
    if (op_inside != NULL && (p < op_inside || p >= op_inside + op_inside_size))
        return false;
    switch (op_kind) {
    case OP_NONE:
    case OP_FREE:
        return true;
    case OP_MEMALIGN:
        if (((uintptr_t)op_ptr & (ALIGNMENT - 1)) != 0)
            return false;
        /* fall through */
    case OP_MALLOC:
        return op_ptr != NULL && op_allocator->usable(op_heap, op_ptr) >= op_size;
    }
    return false;
}

static long baseline;
static bool failed;

/*
 * The instructions of the op set up in op_*, less the empty call's, the call to change the free
 * blocks by free_change; -1 (with a line) if none.
 */
static long measure(enum op_kind kind, long free_change) {
    op_kind = kind;
    op_free_change = free_change;
    op_free_before = op_allocator->free_blocks(op_heap);
    long n = step_count(run_op, op_did_its_path);
    op_inside = NULL;
    if (n < 0) {
        printf("worst_case: %s: the call %s\n", op_allocator->name,
               n == STEP_COUNT_WRONG_PATH ? "did not do what its state is there for"
                                          : "could not be counted");
        failed = true;
        return -1;
    }
    return n - baseline;
}

static unsigned char *region;

/* A fresh heap of allocator a over the region, set as the one the ops use. */
static bool fresh_heap(const struct allocator *a) {
    op_allocator = a;
    op_heap = a->create(region, REGION_SIZE);
    if (op_heap == NULL) {
        printf("worst_case: %s: no heap over %u bytes\n", a->name, REGION_SIZE);
        failed = true;
    }
    return op_heap != NULL;
}

/* Allocates or fails the run (a state that cannot be built measures nothing). */
static void *must_malloc(size_t size) {
    void *p = op_allocator->malloc(op_heap, size);
    if (p == NULL) {
        printf("worst_case: %s: malloc(%zu) failed while building a state\n", op_allocator->name,
               size);
        failed = true;
    }
    return p;
}

/*
 * A request cut from a block of a higher list, its rest filed elsewhere: the block of SPLIT_SOURCE
 * bytes at the heap's start, freed with a used block between it and the rest of the region, is
 * the smallest free block that holds it (the result must lie in it, the free blocks as many).
 */
static long split(unsigned listed) {
    (void)listed;
    void *source = must_malloc(SPLIT_SOURCE);
    void *fence = must_malloc(LISTED);
    if (source == NULL || fence == NULL)
        return -1;
    op_allocator->free(op_heap, source);
    op_size = REQUEST;
    op_inside = source;
    op_inside_size = SPLIT_SOURCE;
    return measure(OP_MALLOC, 0);
}

/*
 * An aligned request whose block must leave a leading gap (a used block of 100 bytes, never freed,
 * ends off the boundary): one free block more.
 */
static long aligned(unsigned listed) {
    (void)listed;
    if (op_allocator->memalign == NULL)
        return -2;
    if (must_malloc(100) == NULL)
        return -1;
    op_size = REQUEST;
    return measure(OP_MEMALIGN, 1);
}

/* A free whose block merges with a free neighbour on each side: one free block fewer. */
static long merge_both(unsigned listed) {
    (void)listed;
    void *before = must_malloc(LISTED + 1000);
    void *middle = must_malloc(LISTED);
    void *after = must_malloc(LISTED + 3000);
    void *fence = must_malloc(LISTED);
    if (before == NULL || middle == NULL || after == NULL || fence == NULL)
        return -1;
    op_allocator->free(op_heap, before);
    op_allocator->free(op_heap, after);
    op_ptr = middle;
    return measure(OP_FREE, -1);
}

/*
 * `listed` free blocks of LISTED bytes, each followed by a used one (all allocated before any is
 * freed, else each request would take the block freed before it); returns the last used one (the
 * last free block is its predecessor, the rest of the region its successor), or NULL.
 */
static void *list_of(unsigned listed) {
    static void *blocks[2 * LONG_LIST];
    for (unsigned i = 0; i < 2 * listed; i++) {
        blocks[i] = must_malloc(LISTED);
        if (blocks[i] == NULL)
            return NULL;
    }
    for (unsigned i = 0; i < 2 * listed; i += 2)
        op_allocator->free(op_heap, blocks[i]);
    return blocks[2 * listed - 1];
}

/* A request larger than every listed block: first fit passes all of them. */
static long list_malloc(unsigned listed) {
    if (list_of(listed) == NULL)
        return -1;
    op_size = 2 * LISTED;
    return measure(OP_MALLOC, 0);
}

/* A free at the far end of the list: first fit's address order has it walk to its place. */
static long list_free(unsigned listed) {
    op_ptr = list_of(listed);
    if (op_ptr == NULL)
        return -1;
    return measure(OP_FREE, -1);
}

struct scenario {
    const char *name;
    long (*run)(unsigned listed); /* from a fresh heap: the count, -1 failed, -2 not offered */
    unsigned listed;              /* the list states' free blocks; 0 for the others */
    bool is_free;
};

static const struct scenario scenarios[] = {
    {"allocate, split, rest filed in another list", split, 0, false},
    {"allocate, aligned 4096, leading gap left free", aligned, 0, false},
    {"free, merging both neighbours", merge_both, 0, true},
    {"allocate past 10 listed free blocks", list_malloc, SHORT_LIST, false},
    {"allocate past 1000 listed free blocks", list_malloc, LONG_LIST, false},
    {"free behind 10 listed free blocks", list_free, SHORT_LIST, true},
    {"free behind 1000 listed free blocks", list_free, LONG_LIST, true},
};
#define SCENARIO_COUNT (sizeof scenarios / sizeof scenarios[0])
_Static_assert(SHORT_LIST == 10 && LONG_LIST == 1000, "the list scenarios' names say 10 and 1000");

/* The count of scenario s on allocator a, from a fresh heap: -1 failed, -2 not offered. */
static long count_scenario(size_t s, size_t a) {
    if (!fresh_heap(&allocators[a]))
        return -1;
    op_kind = OP_NONE;
    baseline = step_count(run_op, NULL);
    if (baseline < 0) {
        printf("worst_case: the empty call could not be counted\n");
        failed = true;
        return -1;
    }
    return scenarios[s].run(scenarios[s].listed);
}

/*
 * The claim the list states test: a bounded allocator counts the same behind SHORT_LIST free blocks
 * as behind LONG_LIST, first fit at least ten times as many. False (with a line) where not.
 */
static bool list_claims_hold(long counts[SCENARIO_COUNT][ALLOCATOR_COUNT]) {
    bool hold = true;
    for (size_t s = 0; s < SCENARIO_COUNT; s++) {
        if (scenarios[s].listed != LONG_LIST)
            continue;
        /* The short list's state of the same call precedes it in the table. */
        size_t short_s = s - 1;
        for (size_t a = 0; a < ALLOCATOR_COUNT; a++) {
            long few = counts[short_s][a], many = counts[s][a];
            bool holds = allocators[a].bounded ? many == few : many >= 10 * few;
            if (few < 0 || many < 0 || !holds) {
                printf("worst_case: %s: %s counts %ld, %s %ld: %s\n", allocators[a].name,
                       scenarios[short_s].name, few, scenarios[s].name, many,
                       allocators[a].bounded ? "not the same" : "not ten times as many");
                hold = false;
            }
        }
    }
    return hold;
}

int main(void) {
#if !defined(__x86_64__) || !defined(__linux__)
    printf("worst_case: needs x86_64 Linux (ptrace single-step)\n");
    return 1;
#else
    region = aligned_alloc(4096, REGION_SIZE);
    if (region == NULL) {
        printf("worst_case: no region of %u bytes\n", REGION_SIZE);
        return 1;
    }
    static long counts[SCENARIO_COUNT][ALLOCATOR_COUNT];
    long worst[ALLOCATOR_COUNT][2] = {{0}};
    printf("%-46s", "instructions per call");
    for (size_t a = 0; a < ALLOCATOR_COUNT; a++)
        printf(" %12s", allocators[a].name);
    printf("\n");
    for (size_t s = 0; s < SCENARIO_COUNT; s++) {
        printf("%-46s", scenarios[s].name);
        for (size_t a = 0; a < ALLOCATOR_COUNT; a++) {
            long n = counts[s][a] = count_scenario(s, a);
            if (n < 0) {
                printf(" %12s", n == -2 ? "n/a" : "failed");
                continue;
            }
            printf(" %12ld", n);
            long *w = &worst[a][scenarios[s].is_free];
            if (n > *w)
                *w = n;
        }
        printf("\n");
    }
    for (int is_free = 0; is_free < 2; is_free++) {
        printf("%-46s", is_free ? "longest free" : "longest allocate");
        for (size_t a = 0; a < ALLOCATOR_COUNT; a++)
            printf(" %12ld", worst[a][is_free]);
        printf("\n");
    }
    free(region);
    if (!list_claims_hold(counts) || failed) {
        printf("worst_case: FAILED (see above)\n");
        return 1;
    }
    printf("worst_case: every state built and counted; default, tlsf_classic and halffit count the "
           "same behind %u listed free blocks as behind %u, first fit ten times as many or more\n",
           LONG_LIST, SHORT_LIST);
    return 0;
#endif
}
