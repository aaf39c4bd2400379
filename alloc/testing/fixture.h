/*
 * alloc/testing/fixture.h - the heap under test, reset between cases, and fakes for the
 * injected interfaces (an error hook that records reports, a counting lock).
 *
 * Every unit check runs once per variant (fixture_variants): TLSF with runs, quick lists and a
 * zeroed region (the default), TLSF without runs, TLSF without runs or quick lists, and first fit.
 * fixture_reset() gives a fresh heap of the current variant over a region filled anew (all zero
 * where the heap is told it is, ALLOC_FLAG_ZEROED_REGION, else a pattern), so no state leaks from
 * one check into the next.
 */
#ifndef ALLOC_TESTING_FIXTURE_H
#define ALLOC_TESTING_FIXTURE_H

#include "alloc/heap.h"

#include <stdbool.h>
#include <stddef.h>

struct variant {
    const char *name;
    enum alloc_strategy strategy;
    unsigned flags;
};

/* How many variants there are: a constant, so a test can size its per-variant tables by it. */
#define FIXTURE_VARIANT_COUNT 4

extern const struct variant fixture_variants[FIXTURE_VARIANT_COUNT];

/* True when variant v keeps quick lists (freed small blocks are not coalesced). */
bool variant_quick(const struct variant *v);

/*
 * Why variant v cannot be tested in this build, or NULL if it can: its strategy is not compiled in
 * (ALLOC_STRATEGIES), or the feature it exists for is not (quick lists with ALLOC_QUICK_MAX_SIZE
 * 0, runs with ALLOC_RUN_MAX_SIZE 0), which would make it a repeat of another variant.
 */
const char *variant_absent(const struct variant *v);

#define FIXTURE_REGION_CAP  (1u << 20)
#define FIXTURE_MAX_REPORTS 16

struct fixture {
    const struct variant *variant;
    unsigned char *region; /* FIXTURE_REGION_CAP bytes, 4096-aligned */
    size_t size;           /* bytes given to alloc_heap_init */
    alloc_heap *heap;
    /* Reports received by the hook since the last reset. */
    size_t reports;
    enum alloc_error report_error[FIXTURE_MAX_REPORTS];
    const void *report_ptr[FIXTURE_MAX_REPORTS];
};

extern struct fixture fx;

/* Selects the variant the following resets use. */
void fixture_select(const struct variant *v);

/*
 * Re-initialises fx.heap over the first `size` bytes of the region with the current variant, the
 * recording hook and `extra_flags`, the whole region filled first: with zeroes where the flags
 * include ALLOC_FLAG_ZEROED_REGION, else with 0x5a. Returns the heap, or NULL if alloc_heap_init
 * failed.
 */
alloc_heap *fixture_reset(size_t size, unsigned extra_flags);

/* variant_quick() of the current variant. */
bool fixture_quick(void);

/* True when variant v serves small requests from runs (slots without headers). */
bool variant_runs(const struct variant *v);

/* True when the current variant serves small requests from runs. */
bool fixture_runs(void);

/* The recording error hook installed by fixture_reset (ctx is ignored). */
void fixture_hook(void *ctx, enum alloc_error error, const void *ptr);

/* One block as seen by alloc_heap_walk. */
struct walked_block {
    void *payload;
    size_t size;
    enum alloc_block_state state;
};

/* Walks fx.heap into out[0..cap); returns the number of blocks (may exceed cap). */
size_t fixture_walk(struct walked_block *out, size_t cap);

/*
 * A run's span (alloc/heap.h, ALLOC_FLAG_NO_SMALL_RUNS: runs are 1 KiB blocks cut into slots): a
 * run's payload is FIXTURE_RUN_SPAN-aligned, and its slots end where the next block's header
 * starts, ALLOC_BLOCK_OVERHEAD bytes before the next FIXTURE_RUN_SPAN boundary. heap_test ties it
 * to the library's RUN_BLOCK and RUN_ALIGN.
 */
#define FIXTURE_RUN_SPAN 1024u

/*
 * What alloc_heap_stats() must say of a heap, counted from its walk (alloc_heap_walk) rather than
 * from the heap's own counters. The walk reports each block, and each slot of each run (free or
 * used: a run itself is not reported); a slot lies back to back with another slot of its run (every
 * run has more than one), where a block has a header between it and the entry before and after it.
 */
struct walk_stats {
    size_t bytes_in_use;     /* usable bytes of the USED entries: live blocks and live slots */
    size_t live_allocations; /* USED entries */
    /*
     * Usable bytes of the FREE and QUICK entries (free and quick-listed blocks, free slots), plus
     * each run's bytes that no slot covers (after its last slot: RUN_SLOTS % the slot size).
     */
    size_t bytes_free;
    size_t free_blocks; /* FREE and QUICK entries that are blocks, not slots */
    size_t runs;        /* runs: maximal sequences of back-to-back entries */
};

/* Counts heap's walk into *out; false if the walk failed (a damaged header). */
bool fixture_walk_stats(const alloc_heap *heap, struct walk_stats *out);

/*
 * Whether alloc_heap_stats(heap) agrees with fixture_walk_stats(heap) on bytes_in_use,
 * live_allocations, bytes_free and free_blocks: NULL if it does, else what differs (or that the
 * walk failed), written into why[0..n). overhead_bytes is what region_size leaves of the others,
 * by definition, and is not compared.
 */
const char *fixture_stats_mismatch(const alloc_heap *heap, char *why, size_t n);

/*
 * count divided by ALLOC_TEST_SCALE from the environment (count itself where it is unset or 1; at
 * least 1): the randomized tests' operations and trials, however they were given. The
 * AddressSanitizer configuration sets it (.bazelrc), as its instrumentation makes each operation 2
 * to 4 times slower; the plain build runs every one.
 */
size_t fixture_scaled(size_t count);

/* Fills [p, p + n) with a pattern derived from seed; fixture_pattern_ok checks it. */
void fixture_fill(void *p, size_t n, unsigned seed);
bool fixture_pattern_ok(const void *p, size_t n, unsigned seed);

/* A lock that counts acquire/release calls and fails a check if they nest or unbalance. */
struct counting_lock {
    unsigned acquired;
    unsigned released;
    bool held;
    bool misuse;
};
void counting_lock_acquire(void *ctx);
void counting_lock_release(void *ctx);

#endif /* ALLOC_TESTING_FIXTURE_H */
