/*
 * alloc/model_test.c - randomized model-based test of the heap allocator.
 *
 * A random sequence of allocate (plain, aligned, zeroed), free, realloc, extend and bad
 * operations (double free, interior and misaligned pointers) runs against the heap and against
 * a model: the live blocks with their requested sizes, alignments, fill patterns and usable
 * sizes, a shadow map of which live block owns each 8-byte unit of the region (its payload, or its
 * header: slots have none), and the expected statistics. After every step it checks that no two
 * live blocks overlap (nor a live block's header another's payload), alignment holds, contents
 * survive realloc, the statistics agree with the model and (every fourth step) with the heap's walk
 * (bytes in use, live allocations, free bytes and free blocks counted from alloc_heap_walk:
 * fixture_stats_mismatch), and alloc_heap_check() passes. Failed allocations must leave the
 * statistics as they were and be justified by the largest free block.
 *
 * Each run is 1,000,000 operations (ALLOC_TEST_OPS or argv[1] to change; divided by
 * ALLOC_TEST_SCALE, fixture_scaled, which the AddressSanitizer configuration sets), split into
 * epochs, each on a fresh heap, that cycle through the strategy variants of the test fixture
 * (alloc/testing) that the build has (all in the default build; TLSF without quick lists in
 * :alloc_minimal), one round of the variants with each poison setting in turn (poison_flags: none,
 * on free, on free and on alloc; with poison on alloc, a block handed out and a realloc's growth
 * must read the poison): 50,000 operations an epoch, 1,000 with poison on free (POISON_EPOCH_OPS).
 * A run shorter than one such cycle (the cross targets' 20,000 and 5,000) scales both lengths down
 * alike, so every run covers every variant with every poison setting, and the test fails if one did
 * not. Runs: the fixed seeds below, then one seed from ALLOC_TEST_SEED (random if unset), one shard
 * of them each when Bazel shards the test (shard_of). A failure prints the seed, variant, poison
 * flags and operation number.
 */
#include "alloc/config.h"
#include "alloc/heap.h"
#include "alloc/testing/fixture.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REGION_CAP   (1u << 20)
#define INITIAL_SIZE (256u * 1024u)
#define MAX_LIVE     1024
#define EPOCH_OPS    50000
/* An epoch with poison on free is shorter: every check then reads every free byte of the heap. */
#define POISON_EPOCH_OPS 1000
/*
 * The shadow map's unit: 8 bytes, as every usable size is a multiple of 8 (16-byte granules of
 * payload, plus 8 in a 32-bit block whose header is 8 bytes).
 */
#define UNIT  8
#define UNITS (REGION_CAP / UNIT)

static const uint64_t fixed_seeds[] = {0x5eed0001, 0xa110c8ed};

/*
 * The poison flags the epochs take in turn, a round of the variants each: none, poison on free
 * (every check then reads every freed byte that holds no link), and poison on free and on alloc.
 */
static const unsigned poison_flags[] = {
    0,
    ALLOC_FLAG_POISON_ON_FREE,
    ALLOC_FLAG_POISON_ON_FREE | ALLOC_FLAG_POISON_ON_ALLOC,
};
#define POISON_SETTINGS (sizeof(poison_flags) / sizeof(poison_flags[0]))

struct live {
    unsigned char *p;
    size_t requested;
    size_t usable;
    uint32_t pattern;
};

static struct {
    uint64_t seed;
    uint64_t rng;
    size_t op;
    const char *variant;
    bool quick;
    bool first_fit;
    bool runs;       /* small requests are run slots, which have no header */
    unsigned poison; /* the epoch's ALLOC_FLAG_POISON_ON_FREE and _ON_ALLOC (poison_flags) */
    /* Operations run per variant (fixture_variants index) and poison_flags index, this run. */
    size_t covered[FIXTURE_VARIANT_COUNT][POISON_SETTINGS];
    size_t *covered_now; /* the count of the epoch running */
    unsigned char *region;
    size_t region_size;
    alloc_heap *heap;
    struct live live[MAX_LIVE];
    size_t nlive;
    uint16_t owner[UNITS]; /* 0: nothing live; else index + 1 into live[], | HEADER_MARK */
    size_t in_use;
    size_t peak;
    size_t checks; /* check_state calls so far */
    size_t reports;
    enum alloc_error last_error;
    const void *last_ptr;
    unsigned char *last_freed;
    uint32_t next_pattern;
} m;

static void fail(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "model_test: FAILED seed=%" PRIu64 " variant=%s poison=%#x op=%zu: ", m.seed,
            m.variant != NULL ? m.variant : "-", m.poison, m.op);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nmodel_test: rerun with ALLOC_TEST_SEED=%" PRIu64 "\n", m.seed);
    exit(1);
}

static uint64_t rnd(void) {
    /* splitmix64 */
    uint64_t z = (m.rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t below(size_t n) {
    return (size_t)(rnd() % n);
}

/* Log-uniform in [1, 2^bits), sometimes 0. */
static size_t random_size(unsigned bits) {
    if (below(64) == 0)
        return 0;
    unsigned b = (unsigned)below(bits) + 1;
    return (size_t)(rnd() & (((uint64_t)1 << b) - 1)) | ((size_t)1 << (b - 1));
}

static void hook(void *ctx, enum alloc_error error, const void *ptr) {
    (void)ctx;
    m.reports++;
    m.last_error = error;
    m.last_ptr = ptr;
}

static size_t round16(size_t n) {
    return (n + 15) & ~(size_t)15;
}

static unsigned char pattern_byte(uint32_t pattern, size_t i) {
    return (unsigned char)(pattern * 0x9du + i * 0x3bu + (i >> 7));
}

static void fill(struct live *l, size_t from, size_t to) {
    for (size_t i = from; i < to; i++)
        l->p[i] = pattern_byte(l->pattern, i);
}

static void verify(const struct live *l, size_t n, const char *when) {
    for (size_t i = 0; i < n; i++) {
        if (l->p[i] != pattern_byte(l->pattern, i))
            fail("contents of %p changed at byte %zu (%s)", (void *)l->p, i, when);
    }
}

static size_t unit(const void *p) {
    return (size_t)((const unsigned char *)p - m.region) / UNIT;
}

/*
 * The shadow map's mark of a unit of a live block's header (the ALLOC_BLOCK_OVERHEAD bytes before
 * its payload: 2 units on a 64-bit layout, 1 on a 32-bit one), or-ed with the block's index + 1; a
 * unit of its payload holds the index + 1 alone.
 */
#define HEADER_MARK 0x8000u
_Static_assert(MAX_LIVE < HEADER_MARK, "model_test: a live index must leave HEADER_MARK clear");

/* The live block whose payload or header holds unit g (which is marked). */
static const unsigned char *owner_of(size_t g) {
    return m.live[(m.owner[g] & ~HEADER_MARK) - 1].p;
}

/*
 * Whether live block l has a header of its own: every block but a run slot (a request of at most
 * ALLOC_RUN_MAX_SIZE bytes on a heap with runs; a block that small, from an aligned request, is
 * taken for a slot too, and its header left unmarked).
 */
static bool has_header(const struct live *l) {
    return !(m.runs && l->usable <= ALLOC_RUN_MAX_SIZE);
}

/*
 * Claims the units of a live block in the shadow map, its header's too (has_header); fails if any
 * of them is already a live block's payload or header.
 */
static void claim(size_t idx) {
    const struct live *l = &m.live[idx];
    if (l->p < m.region + 16 || l->p + l->usable > m.region + m.region_size)
        fail("block %p + %zu outside the heap", (void *)l->p, l->usable);
    if (l->usable % UNIT != 0)
        fail("block %p has a usable size of %zu, not a multiple of %d", (void *)l->p, l->usable,
             UNIT);
    if (has_header(l)) {
        for (size_t g = unit(l->p - ALLOC_BLOCK_OVERHEAD); g < unit(l->p); g++) {
            if (m.owner[g] != 0)
                fail("header of %p lies inside live block %p%s", (void *)l->p,
                     (const void *)owner_of(g), (m.owner[g] & HEADER_MARK) ? "'s header" : "");
            m.owner[g] = (uint16_t)(HEADER_MARK | (idx + 1));
        }
    }
    for (size_t g = unit(l->p); g < unit(l->p + l->usable); g++) {
        if (m.owner[g] != 0)
            fail((m.owner[g] & HEADER_MARK) ? "block %p covers the header of live block %p"
                                            : "block %p overlaps live block %p",
                 (void *)l->p, (const void *)owner_of(g));
        m.owner[g] = (uint16_t)(idx + 1);
    }
}

static void release(size_t idx) {
    const struct live *l = &m.live[idx];
    size_t from = unit(has_header(l) ? l->p - ALLOC_BLOCK_OVERHEAD : l->p);
    for (size_t g = from; g < unit(l->p + l->usable); g++)
        m.owner[g] = 0;
}

/* Moves the last live entry into slot idx, keeping the shadow map's indices right. */
static void drop(size_t idx) {
    size_t last = m.nlive - 1;
    if (idx != last) {
        release(last);
        m.live[idx] = m.live[last];
        claim(idx);
    }
    m.nlive--;
}

/* slack: bytes a block may have beyond the usual rounding (the last block of a batch). */
static void check_usable(size_t requested, size_t usable, size_t slack) {
    size_t want = requested == 0 ? 1 : requested;
    if (usable < want || usable > round16(want) + 16 + slack)
        fail("usable size %zu for a request of %zu", usable, requested);
}

static struct alloc_stats stats(void) {
    struct alloc_stats s;
    alloc_heap_stats(m.heap, &s);
    return s;
}

static void check_state(void) {
    enum alloc_error e = alloc_heap_check(m.heap);
    if (e != ALLOC_OK)
        fail("alloc_heap_check: %s", alloc_error_name(e));
    struct alloc_stats s = stats();
    if (s.live_allocations != m.nlive)
        fail("live_allocations %zu, model %zu", s.live_allocations, m.nlive);
    if (s.bytes_in_use != m.in_use)
        fail("bytes_in_use %zu, model %zu", s.bytes_in_use, m.in_use);
    if (s.peak_in_use != m.peak)
        fail("peak_in_use %zu, model %zu", s.peak_in_use, m.peak);
    if (s.region_size != m.region_size)
        fail("region_size %zu, model %zu", s.region_size, m.region_size);
    /*
     * Every fourth check, the statistics against the heap's walk: a walk of every block and slot,
     * called back for each, would make the whole test 70% slower if made every time.
     */
    char why[320];
    if (m.checks++ % 4 == 0 && fixture_stats_mismatch(m.heap, why, sizeof(why)) != NULL)
        fail("%s", why);
    if (s.largest_free > s.bytes_free || (s.free_blocks == 0) != (s.bytes_free == 0))
        fail("largest_free %zu, bytes_free %zu, free_blocks %zu", s.largest_free, s.bytes_free,
             s.free_blocks);
    if (m.reports != 0)
        fail("unexpected report: %s", alloc_error_name(m.last_error));
}

/*
 * The figures a failed allocation must not change. (With quick lists the heap may merge its
 * quick-listed blocks first, which changes only bytes_free, free_blocks and largest_free, and
 * only for the better.)
 */
static bool same_counts(const struct alloc_stats *a, const struct alloc_stats *b) {
    return a->region_size == b->region_size && a->bytes_in_use == b->bytes_in_use &&
           a->live_allocations == b->live_allocations && a->peak_in_use == b->peak_in_use &&
           b->bytes_free >= a->bytes_free && b->largest_free >= a->largest_free;
}

/*
 * A request of size at align that failed with the heap's statistics at `now` was justified: no free
 * block holds it, up to what the strategy's search promises. First fit finds any block that holds
 * it; TLSF's good fit may miss one that holds it by less than a sixteenth of its size, deeper than
 * the fourth block of the request's own class (alloc/heap.h).
 */
static void check_failure_justified(const struct alloc_stats *now, size_t size, size_t align) {
    size_t block = round16(size == 0 ? 1 : size) + 16;
    size_t bound = m.first_fit ? block : block + block / 16;
    if (align > 16)
        bound += align + 32;
    if (now->largest_free + 16 >= bound)
        fail("allocation of %zu (align %zu) failed with a free block of %zu", size, align,
             now->largest_free);
}

/* A failed request left the statistics as they were (`before`) and was justified. */
static void check_failure(const struct alloc_stats *before, size_t size, size_t align) {
    struct alloc_stats after = stats();
    if (!same_counts(before, &after) || (!m.quick && memcmp(before, &after, sizeof(after)) != 0))
        fail("a failed allocation of %zu changed the statistics", size);
    check_failure_justified(&after, size, align);
}

/* With poison on alloc, bytes [from, to) of a block just handed out read its poison. */
static void check_alloc_poison(const unsigned char *p, size_t from, size_t to) {
    if ((m.poison & ALLOC_FLAG_POISON_ON_ALLOC) == 0)
        return;
    for (size_t i = from; i < to; i++) {
        if (p[i] != ALLOC_POISON_ALLOC_BYTE)
            fail("block %p handed out without the poison at byte %zu", (void *)p, i);
    }
}

static void add_live(unsigned char *p, size_t requested, bool zeroed, size_t slack) {
    struct live *l = &m.live[m.nlive];
    l->p = p;
    l->requested = requested;
    l->usable = alloc_usable_size(m.heap, p);
    l->pattern = m.next_pattern++;
    check_usable(requested, l->usable, slack);
    if (zeroed) {
        for (size_t i = 0; i < l->usable; i++) {
            if (p[i] != 0)
                fail("calloc block %p not zero at %zu", (void *)p, i);
        }
    } else {
        check_alloc_poison(p, 0, l->usable);
    }
    claim(m.nlive);
    fill(l, 0, requested);
    m.nlive++;
    m.in_use += l->usable;
    if (m.in_use > m.peak)
        m.peak = m.in_use;
}

/*
 * A batch of 2 to 7 blocks: each an ordinary live block; fewer than asked only where one more
 * request would fail, justified as any failed request is (check_failure_justified).
 */
static void op_alloc_batch(size_t size) {
    void *got[7];
    size_t n = below(6) + 2;
    if (m.nlive + n > MAX_LIVE)
        return;
    size_t k = alloc_allocate_batch(m.heap, size, got, n);
    if (k > n)
        fail("a batch of %zu blocks of %zu returned %zu", n, size, k);
    for (size_t i = 0; i < k; i++) {
        if ((uintptr_t)got[i] % 16 != 0)
            fail("batch block %p misaligned", got[i]);
        /* The last block of a batch ends its last cache line. */
        add_live(got[i], size, false, i + 1 == k ? ALLOC_BATCH_ALIGN : 0);
    }
    if (k < n) {
        /*
         * The one-by-one request after the k-th failed: justified as any failed request. (A
         * malloc now may succeed where it failed: stats() moves the largest free block to the
         * head of its class, where the search looks first.)
         */
        struct alloc_stats now = stats();
        check_failure_justified(&now, size, 16);
    }
}

static void op_alloc(void) {
    if (m.nlive == MAX_LIVE)
        return;
    size_t size = random_size(below(32) == 0 ? 16 : 12);
    size_t align = 16;
    unsigned kind = (unsigned)below(20);
    struct alloc_stats before = stats();
    unsigned char *p;
    if (kind < 2) {
        align = (size_t)1 << below(13);
        p = alloc_allocate(m.heap, size, align);
    } else if (kind == 2) {
        size_t count = below(8) + 1;
        size /= count;
        p = alloc_calloc(m.heap, count, size);
        size *= count;
    } else if (kind == 3) {
        op_alloc_batch(size);
        return;
    } else {
        p = alloc_malloc(m.heap, size);
    }
    if (p == NULL) {
        check_failure(&before, size, align);
        return;
    }
    if ((uintptr_t)p % (align < 16 ? 16 : align) != 0)
        fail("%p not aligned to %zu", (void *)p, align);
    add_live(p, size, kind == 2, 0);
}

static void op_free(void) {
    if (m.nlive == 0)
        return;
    size_t idx = below(m.nlive);
    struct live *l = &m.live[idx];
    verify(l, l->requested, "before free");
    enum alloc_error e = alloc_free(m.heap, l->p);
    if (e != ALLOC_OK)
        fail("free(%p): %s", (void *)l->p, alloc_error_name(e));
    m.in_use -= l->usable;
    m.last_freed = l->p;
    release(idx);
    drop(idx);
}

static void op_realloc(void) {
    if (m.nlive == 0)
        return;
    size_t idx = below(m.nlive);
    struct live *l = &m.live[idx];
    size_t size = random_size(below(16) == 0 ? 15 : 12);
    struct alloc_stats before = stats();
    unsigned char *q = alloc_realloc(m.heap, l->p, size);
    if (q == NULL) {
        check_failure(&before, size, 16);
        verify(l, l->requested, "after failed realloc");
        return;
    }
    release(idx);
    bool moved = q != l->p;
    size_t old_usable = l->usable;
    size_t keep = l->requested < size ? l->requested : size;
    l->p = q;
    verify(l, keep, "after realloc");
    l->requested = size;
    l->usable = alloc_usable_size(m.heap, q);
    check_usable(size, l->usable, 0);
    /* What a realloc gives beyond the old usable size is new, in place or moved. */
    check_alloc_poison(q, old_usable, l->usable);
    if ((uintptr_t)q % 16 != 0)
        fail("realloc result %p misaligned", (void *)q);
    claim(idx);
    fill(l, keep, size);
    /* A moving realloc allocates the new block before it frees the old one. */
    if (moved && m.in_use + l->usable > m.peak)
        m.peak = m.in_use + l->usable;
    m.in_use = m.in_use - old_usable + l->usable;
    if (m.in_use > m.peak)
        m.peak = m.in_use;
}

static void op_extend(void) {
    size_t grow = (below(16) + 1) * 4096 + below(4) * 16;
    if (m.region_size + grow > REGION_CAP)
        return;
    enum alloc_error e = alloc_heap_extend(m.heap, grow);
    if (e != ALLOC_OK)
        fail("extend by %zu: %s", grow, alloc_error_name(e));
    m.region_size += grow;
}

/* A bad pointer must be reported once, with the expected error, and change nothing. */
static void expect_bad(void *p, enum alloc_error want) {
    struct alloc_stats before = stats();
    m.reports = 0;
    enum alloc_error e = alloc_free(m.heap, p);
    if (e != want || m.reports != 1 || m.last_error != want || m.last_ptr != p)
        fail("free(%p) gave %s (%zu reports), expected %s", p, alloc_error_name(e), m.reports,
             alloc_error_name(want));
    m.reports = 0;
    struct alloc_stats after = stats();
    if (memcmp(&before, &after, sizeof(after)) != 0)
        fail("bad free(%p) changed the statistics", p);
}

static void op_bad(void) {
    unsigned kind = (unsigned)below(3);
    if (kind == 0 && m.nlive != 0) {
        struct live *l = &m.live[below(m.nlive)];
        expect_bad(l->p + 1 + below(15), ALLOC_ERR_MISALIGNED_POINTER);
    } else if (kind == 1 && m.nlive != 0) {
        struct live *l = &m.live[below(m.nlive)];
        if (l->usable >= 48) {
            /* An interior pointer whose would-be header is zeroed payload. */
            size_t off = 32 + 16 * below((l->usable - 32) / 16);
            unsigned char saved[16];
            memcpy(saved, l->p + off - 16, 16);
            memset(l->p + off - 16, 0, 16);
            expect_bad(l->p + off, ALLOC_ERR_FOREIGN_POINTER);
            memcpy(l->p + off - 16, saved, 16);
        }
    } else if (kind == 2 && m.last_freed != NULL) {
        /* Double free, unless the address has been handed out again since. */
        size_t g = unit(m.last_freed);
        if (m.owner[g] == 0 && m.owner[g - 1] == 0) {
            m.reports = 0;
            struct alloc_stats before = stats();
            enum alloc_error e = alloc_free(m.heap, m.last_freed);
            struct alloc_stats after = stats();
            /* In free space it is a double free; if the address now lies in a live block's
             * padding or header it may be reported as foreign; either way nothing changes. */
            if ((e != ALLOC_ERR_DOUBLE_FREE && e != ALLOC_ERR_FOREIGN_POINTER) || m.reports != 1 ||
                memcmp(&before, &after, sizeof(after)) != 0)
                fail("double free of %p gave %s", (void *)m.last_freed, alloc_error_name(e));
            m.reports = 0;
        }
    }
}

/* The fixture's variants that this build has, in order, into present; returns how many. */
static size_t present_variants(size_t present[FIXTURE_VARIANT_COUNT]) {
    size_t n = 0;
    for (size_t i = 0; i < FIXTURE_VARIANT_COUNT; i++) {
        if (variant_absent(&fixture_variants[i]) == NULL)
            present[n++] = i;
    }
    if (n == 0)
        fail("this build has none of the fixture's variants");
    return n;
}

/*
 * The variant of an epoch (its fixture_variants index), the fixture's variants that this build
 * has in turn, and its poison setting (*poison, an index into poison_flags), one setting per
 * round of the variants.
 */
static size_t epoch_variant(size_t epoch, size_t *poison) {
    size_t present[FIXTURE_VARIANT_COUNT];
    size_t n = present_variants(present);
    *poison = epoch / n % POISON_SETTINGS;
    return present[epoch % n];
}

/*
 * The operations of an epoch without poison (*plain) and with it (*poisoned) in a run of ops:
 * EPOCH_OPS and POISON_EPOCH_OPS, or both scaled down alike (at least 1) when the run is shorter
 * than one cycle through every variant with every poison setting, so that it still makes the
 * whole cycle.
 */
static void epoch_lengths(size_t ops, size_t *plain, size_t *poisoned) {
    size_t present[FIXTURE_VARIANT_COUNT];
    uint64_t cycle = (uint64_t)present_variants(present) *
                     (EPOCH_OPS + (POISON_SETTINGS - 1) * (uint64_t)POISON_EPOCH_OPS);
    *plain = EPOCH_OPS;
    *poisoned = POISON_EPOCH_OPS;
    if (ops < cycle) {
        *plain = (size_t)((uint64_t)EPOCH_OPS * ops / cycle);
        *poisoned = (size_t)((uint64_t)POISON_EPOCH_OPS * ops / cycle);
        *plain += *plain == 0;
        *poisoned += *poisoned == 0;
    }
}

/* Fails unless each variant this build has ran an operation with every poison setting. */
static void check_coverage(size_t ops) {
    size_t present[FIXTURE_VARIANT_COUNT];
    size_t n = present_variants(present);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < POISON_SETTINGS; j++) {
            if (m.covered[present[i]][j] == 0)
                fail("%zu operations left variant %s with poison flags %#x untested", ops,
                     fixture_variants[present[i]].name, poison_flags[j]);
        }
    }
}

static void start_epoch(size_t epoch) {
    size_t setting;
    size_t index = epoch_variant(epoch, &setting);
    const struct variant *v = &fixture_variants[index];
    m.variant = v->name;
    m.poison = poison_flags[setting];
    m.covered_now = &m.covered[index][setting];
    m.quick = variant_quick(v);
    m.first_fit = v->strategy == ALLOC_STRATEGY_FIRST_FIT;
    m.runs = variant_runs(v);
    /* The region is zero where the variant promises it (calloc then skips never-used memory). */
    memset(m.region, (v->flags & ALLOC_FLAG_ZEROED_REGION) ? 0 : 0xa5, REGION_CAP);
    memset(m.owner, 0, sizeof(m.owner));
    m.nlive = 0;
    m.in_use = 0;
    m.peak = 0;
    m.reports = 0;
    m.last_freed = NULL;
    m.region_size = INITIAL_SIZE + 16 * below(64) + below(16);
    struct alloc_config cfg = {
        .strategy = v->strategy, .flags = v->flags | m.poison, .error_hook = hook};
    enum alloc_error e = alloc_heap_init(&m.heap, m.region, m.region_size, &cfg);
    if (e != ALLOC_OK)
        fail("init: %s", alloc_error_name(e));
    check_state();
}

static void end_epoch(void) {
    while (m.nlive != 0) {
        op_free();
        check_state();
    }
    struct alloc_stats s = stats();
    if (s.bytes_in_use != 0 || s.live_allocations != 0)
        fail("heap not empty after freeing everything");
}

static void run(uint64_t seed, size_t ops) {
    m.seed = seed;
    m.rng = seed;
    size_t epoch = 0, epoch_end = 0, plain, poisoned;
    epoch_lengths(ops, &plain, &poisoned);
    memset(m.covered, 0, sizeof(m.covered));
    m.variant = "-";
    for (m.op = 0; m.op < ops; m.op++) {
        if (m.op == epoch_end) {
            if (m.op != 0)
                end_epoch();
            start_epoch(epoch++);
            epoch_end = m.op + (m.poison != 0 ? poisoned : plain);
        }
        ++*m.covered_now;
        unsigned r = (unsigned)below(1000);
        if (r < 420)
            op_alloc();
        else if (r < 780)
            op_free();
        else if (r < 960)
            op_realloc();
        else if (r < 962)
            op_extend();
        else
            op_bad();
        check_state();
    }
    end_epoch();
    check_coverage(ops);
    printf("model_test: seed %" PRIu64 ": %zu operations ok (epochs of %zu, %zu with poison)\n",
           seed, ops, plain, poisoned);
}

/*
 * Bazel's test sharding (shard_count in BUILD.bazel): shard i of n makes the runs whose number
 * (the fixed seeds in order, then the last one) is i modulo n, so the seeds run side by side.
 * Without sharding, one shard makes them all. *shard and *shards are set from the environment;
 * a shard that would make no run fails, as it would pass without testing anything.
 */
static void shard_of(size_t runs, size_t *shard, size_t *shards) {
    const char *total = getenv("TEST_TOTAL_SHARDS"), *index = getenv("TEST_SHARD_INDEX");
    const char *status = getenv("TEST_SHARD_STATUS_FILE");
    *shard = 0;
    *shards = 1;
    if (total == NULL || *total == '\0')
        return;
    *shards = strtoull(total, NULL, 10);
    *shard = index != NULL ? strtoull(index, NULL, 10) : 0;
    if (*shards == 0 || *shard >= *shards || *shard >= runs)
        fail("shard %zu of %zu makes none of the %zu runs", *shard, *shards, runs);
    if (status != NULL && *status != '\0') {
        FILE *f = fopen(status, "w"); /* tells Bazel that the test shards */
        if (f == NULL || fclose(f) != 0)
            fail("cannot write %s", status);
    }
}

int main(int argc, char **argv) {
    size_t ops = 1000000;
    const char *env_ops = getenv("ALLOC_TEST_OPS");
    if (argc > 1)
        ops = strtoull(argv[1], NULL, 0);
    else if (env_ops != NULL && *env_ops != '\0')
        ops = strtoull(env_ops, NULL, 0);
    size_t given = ops;
    ops = fixture_scaled(ops);
    setvbuf(stdout, NULL, _IOLBF, 0);
    m.region = aligned_alloc(4096, REGION_CAP);
    if (m.region == NULL)
        return 2;

    uint64_t env_seed;
    const char *env = getenv("ALLOC_TEST_SEED");
    if (env != NULL && *env != '\0')
        env_seed = strtoull(env, NULL, 0);
    else
        env_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    printf("model_test: %zu operations per seed (of %zu: ALLOC_TEST_SCALE); seed from %s: %" PRIu64
           "\n",
           ops, given, env != NULL && *env != '\0' ? "ALLOC_TEST_SEED" : "the clock", env_seed);

    size_t nfixed = sizeof(fixed_seeds) / sizeof(fixed_seeds[0]), shard, shards;
    shard_of(nfixed + 1, &shard, &shards);
    if (shards > 1)
        printf("model_test: shard %zu of %zu\n", shard, shards);
    int passed = 0;
    for (size_t i = shard; i <= nfixed; i += shards) {
        run(i < nfixed ? fixed_seeds[i] : env_seed, ops);
        passed++;
    }
    printf("%d passed, 0 failed\n", passed);
    return 0;
}
