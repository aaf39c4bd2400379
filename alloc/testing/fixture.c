/*
 * alloc/testing/fixture.c - the heap fixture, recording error hook and counting lock of the
 * allocator's host tests (see fixture.h).
 */
#include "alloc/testing/fixture.h"

#include "alloc/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The header's size makes a table with more or fewer entries than FIXTURE_VARIANT_COUNT an error.
 */
const struct variant fixture_variants[FIXTURE_VARIANT_COUNT] = {
    {"tlsf", ALLOC_STRATEGY_TLSF, ALLOC_FLAG_ZEROED_REGION},
    {"tlsf_no_runs", ALLOC_STRATEGY_TLSF, ALLOC_FLAG_NO_SMALL_RUNS},
    {"tlsf_no_quick", ALLOC_STRATEGY_TLSF, ALLOC_FLAG_NO_QUICK_CACHE | ALLOC_FLAG_NO_SMALL_RUNS},
    {"first_fit", ALLOC_STRATEGY_FIRST_FIT, 0},
};

struct fixture fx;

void fixture_select(const struct variant *v) {
    fx.variant = v;
}

void fixture_hook(void *ctx, enum alloc_error error, const void *ptr) {
    (void)ctx;
    if (fx.reports < FIXTURE_MAX_REPORTS) {
        fx.report_error[fx.reports] = error;
        fx.report_ptr[fx.reports] = ptr;
    }
    fx.reports++;
}

alloc_heap *fixture_reset(size_t size, unsigned extra_flags) {
    if (fx.region == NULL) {
        fx.region = aligned_alloc(4096, FIXTURE_REGION_CAP);
        if (fx.region == NULL)
            abort();
    }
    if (fx.variant == NULL)
        fx.variant = &fixture_variants[0];
    /* A zeroed region where the variant promises one; else a pattern that zero tracking would trip.
     */
    memset(fx.region, ((fx.variant->flags | extra_flags) & ALLOC_FLAG_ZEROED_REGION) ? 0 : 0x5a,
           FIXTURE_REGION_CAP);
    fx.size = size;
    fx.reports = 0;
    struct alloc_config cfg = {
        .strategy = fx.variant->strategy,
        .flags = fx.variant->flags | extra_flags,
        .error_hook = fixture_hook,
        .error_ctx = NULL,
    };
    if (alloc_heap_init(&fx.heap, fx.region, size, &cfg) != ALLOC_OK)
        fx.heap = NULL;
    return fx.heap;
}

bool variant_quick(const struct variant *v) {
    return ALLOC_QUICK_MAX_SIZE > 0 && v->strategy == ALLOC_STRATEGY_TLSF &&
           (v->flags & ALLOC_FLAG_NO_QUICK_CACHE) == 0;
}

const char *variant_absent(const struct variant *v) {
    if (((ALLOC_STRATEGIES >> v->strategy) & 1u) == 0)
        return "its strategy is not compiled in (ALLOC_STRATEGIES)";
    if (v->strategy == ALLOC_STRATEGY_TLSF && (v->flags & ALLOC_FLAG_NO_QUICK_CACHE) == 0 &&
        ALLOC_QUICK_MAX_SIZE == 0)
        return "quick lists are not compiled in (ALLOC_QUICK_MAX_SIZE 0)";
    if (v->strategy == ALLOC_STRATEGY_TLSF && (v->flags & ALLOC_FLAG_NO_SMALL_RUNS) == 0 &&
        ALLOC_RUN_MAX_SIZE == 0)
        return "runs are not compiled in (ALLOC_RUN_MAX_SIZE 0)";
    return NULL;
}

bool fixture_quick(void) {
    return variant_quick(fx.variant);
}

bool variant_runs(const struct variant *v) {
    return ALLOC_RUN_MAX_SIZE > 0 && v->strategy == ALLOC_STRATEGY_TLSF &&
           (v->flags & ALLOC_FLAG_NO_SMALL_RUNS) == 0;
}

bool fixture_runs(void) {
    return variant_runs(fx.variant);
}

struct walk_ctx {
    struct walked_block *out;
    size_t cap;
    size_t n;
};

static void walk_one(void *ctx, void *payload, size_t size, enum alloc_block_state state) {
    struct walk_ctx *w = ctx;
    if (w->n < w->cap) {
        w->out[w->n].payload = payload;
        w->out[w->n].size = size;
        w->out[w->n].state = state;
    }
    w->n++;
}

size_t fixture_walk(struct walked_block *out, size_t cap) {
    struct walk_ctx w = {out, cap, 0};
    if (alloc_heap_walk(fx.heap, walk_one, &w) != ALLOC_OK)
        return (size_t)-1;
    return w.n;
}

/*
 * fixture_walk_stats' walk. An entry is known to be a slot or a block only once the entry after it
 * is seen (a slot may be the first of its run, back to back with the next entry only), so each
 * entry waits as `pending` until then.
 */
struct stats_walk {
    struct walk_stats *out;
    bool any;            /* an entry is pending */
    uintptr_t payload;   /* the pending entry */
    size_t usable;       /* its usable size */
    bool used;           /* its state is USED (else FREE or QUICK) */
    bool after_adjacent; /* it follows the entry before it back to back */
    uintptr_t run_first; /* the first slot of the run it belongs to, if it is a slot */
};

/* Counts the pending entry, now that whether the next one follows it back to back is known. */
static void stats_settle(struct stats_walk *w, bool before_adjacent) {
    struct walk_stats *o = w->out;
    bool slot = w->after_adjacent || before_adjacent;
    if (w->used) {
        o->bytes_in_use += w->usable;
        o->live_allocations++;
    } else {
        o->bytes_free += w->usable;
        o->free_blocks += !slot;
    }
    if (slot && !w->after_adjacent)
        o->runs++;
    if (slot && !before_adjacent) {
        /* The run's last slot: the bytes from its end to the run's end are free too. */
        uintptr_t run = w->run_first & ~(uintptr_t)(FIXTURE_RUN_SPAN - 1);
        o->bytes_free += run + FIXTURE_RUN_SPAN - ALLOC_BLOCK_OVERHEAD - (w->payload + w->usable);
    }
}

static void stats_one(void *ctx, void *payload, size_t usable, enum alloc_block_state state) {
    struct stats_walk *w = ctx;
    uintptr_t p = (uintptr_t)payload;
    bool adjacent = w->any && w->payload + w->usable == p;
    if (w->any)
        stats_settle(w, adjacent);
    w->run_first = adjacent ? w->run_first : p;
    w->any = true;
    w->payload = p;
    w->usable = usable;
    w->used = state == ALLOC_BLOCK_USED;
    w->after_adjacent = adjacent;
}

bool fixture_walk_stats(const alloc_heap *heap, struct walk_stats *out) {
    memset(out, 0, sizeof(*out));
    struct stats_walk w = {.out = out};
    if (alloc_heap_walk(heap, stats_one, &w) != ALLOC_OK)
        return false;
    if (w.any)
        stats_settle(&w, false);
    return true;
}

const char *fixture_stats_mismatch(const alloc_heap *heap, char *why, size_t n) {
    struct walk_stats want;
    if (!fixture_walk_stats(heap, &want)) {
        snprintf(why, n, "alloc_heap_walk failed");
        return why;
    }
    struct alloc_stats s;
    alloc_heap_stats(heap, &s);
    if (s.bytes_in_use == want.bytes_in_use && s.live_allocations == want.live_allocations &&
        s.bytes_free == want.bytes_free && s.free_blocks == want.free_blocks)
        return NULL;
    snprintf(why, n,
             "alloc_heap_stats disagrees with the walk (%zu runs): bytes_in_use %zu (walk %zu), "
             "live_allocations %zu (walk %zu), bytes_free %zu (walk %zu), free_blocks %zu (walk "
             "%zu)",
             want.runs, s.bytes_in_use, want.bytes_in_use, s.live_allocations,
             want.live_allocations, s.bytes_free, want.bytes_free, s.free_blocks, want.free_blocks);
    return why;
}

static unsigned char pattern_byte(size_t i, unsigned seed) {
    return (unsigned char)((i * 131u + seed * 7u + (i >> 8)) ^ (seed >> 3));
}

size_t fixture_scaled(size_t count) {
    const char *v = getenv("ALLOC_TEST_SCALE");
    unsigned long long scale = v != NULL && *v != '\0' ? strtoull(v, NULL, 0) : 1;
    if (scale <= 1)
        return count;
    return count / scale > 0 ? (size_t)(count / scale) : 1;
}

void fixture_fill(void *p, size_t n, unsigned seed) {
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        c[i] = pattern_byte(i, seed);
}

bool fixture_pattern_ok(const void *p, size_t n, unsigned seed) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        if (c[i] != pattern_byte(i, seed))
            return false;
    }
    return true;
}

void counting_lock_acquire(void *ctx) {
    struct counting_lock *l = ctx;
    if (l->held)
        l->misuse = true;
    l->held = true;
    l->acquired++;
}

void counting_lock_release(void *ctx) {
    struct counting_lock *l = ctx;
    if (!l->held)
        l->misuse = true;
    l->held = false;
    l->released++;
}
