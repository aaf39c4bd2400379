/*
 * alloc/bench/bench_worker.c - runs one benchmark workload on one allocator and prints one
 * "result ..." line for the driver (bench.c) to collect.
 *
 * The same source is built once per allocator family (family.h), so every call is a direct call;
 * family ours is this library (argv[1] one of FAMILY_OURS_VARIANTS, family.h) over a 1 GiB
 * mmap'd region. Each foreign allocator lives in its own process, and the worker proves at start
 * that malloc really is the allocator it claims (family_setup).
 *
 * Usage: bench_worker_<family> <allocator> <workload> [scale]
 * Workloads (all driven by a fixed seed, identical for every allocator):
 *   pairs     alloc/free pairs of 64 bytes
 *   random    10,000 live blocks of 16 B..4 KiB (log-uniform), each step frees a random one and
 *             allocates a new one
 *   realloc   a vector grown from 16 B to 1 MiB by doubling realloc, then freed; repeated
 *   churn     5,000 long-lived blocks; each round allocates 16 short-lived blocks, replaces one
 *             long-lived block, frees the 16 in shuffled order
 *   live100   population scaling: a hot set of 100 blocks (16..512 B) with random replacement
 *   live10k   the same hot set on a heap that also holds 9,900 long-lived blocks separated by
 *             9,900 free fragments: 10,000 live blocks, same working set
 *   ws100     working-set scaling: random replacement among all of 100 live blocks (16..512 B)
 *   ws10k     ... among all of 10,000 live blocks (the touched memory grows 100x too, so
 *             cache misses grow with it for every allocator)
 * Two passes: the median comes from timing batches of operations (so the clock's cost is
 * spread over the batch); the slowest single operation from a second pass that times every
 * operation on its own and runs a quarter of the steps, on the heap the first pass used and
 * freed. For our allocators the second pass also records its peak footprint (the highest byte of
 * the region that its allocations, untimed ones included, reached, from the region's start: not
 * recorded in the first pass, where it would add a call to every batch's time) and, at the end of
 * the workload with its long-lived blocks still live, the largest free block (always the
 * untouched rest of the 1 GiB region) and the fragmentation below the topmost live block: the
 * largest hole and the free bytes in holes there.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "alloc/bench/die.h"
#include "alloc/bench/family.h"

/* ---- the allocator under test ---- */

#if defined(BENCH_OURS)
#define REGION_SIZE ((size_t)1 << 30)
static alloc_heap *heap;
static unsigned char *region;
static inline void *b_malloc(size_t n) {
    return alloc_malloc(heap, n);
}
static inline void b_free(void *p) {
    enum alloc_error e = alloc_free(heap, p);
    if (e != ALLOC_OK)
        die("free(%p) refused: %s", p, alloc_error_name(e));
}
static inline void *b_realloc(void *p, size_t n) {
    return alloc_realloc(heap, p, n);
}
#else
static inline void *b_malloc(size_t n) {
    return malloc(n);
}
static inline void b_free(void *p) {
    free(p);
}
static inline void *b_realloc(void *p, size_t n) {
    return realloc(p, n);
}
#endif

/* Sets up the allocator named on the command line; returns a description of it. */
static const char *setup(const char *name) {
#if defined(BENCH_OURS)
    static char desc[128];
    struct alloc_config cfg = {0};
    if (!family_ours_config(name, &cfg))
        die("unknown allocator (" FAMILY_OURS_VARIANTS ")");
    region = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region == MAP_FAILED || alloc_heap_init(&heap, region, REGION_SIZE, &cfg) != ALLOC_OK)
        die("cannot set up the heap");
    snprintf(desc, sizeof(desc), "alloc_%s", alloc_strategy_name(cfg.strategy));
    return desc;
#else
    const char *why = NULL;
    const char *desc = family_setup(name, &why);
    if (desc == NULL)
        die("%s", why);
    return desc;
#endif
}

/* ---- measurement ---- */

static inline uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/*
 * One pass collects either batch times (ns per op of each batch of ops) or single-op times. In
 * single-op mode op_begin/op_end around each call time it alone; in batch mode they only count
 * operations and close a batch every BATCH ops.
 */
#define BATCH 512
static struct {
    int per_op;
    uint64_t t0;
    unsigned in_batch;
    double *samples;
    size_t nsamples, cap;
    uint64_t max_op;
    uint64_t ops;
    int record_top;      /* our heaps: note() records the footprint (the second pass only) */
    uintptr_t footprint; /* the highest byte handed out while it did, from the region's start */
} m;

static void sample(double v) {
    if (m.nsamples == m.cap) {
        size_t cap = m.cap ? m.cap * 2 : 1 << 16;
        double *grown = realloc(m.samples, cap * sizeof(double));
        if (grown == NULL)
            die("out of memory for samples");
        m.samples = grown;
        m.cap = cap;
    }
    m.samples[m.nsamples++] = v;
}

static inline void op_begin(void) {
    if (m.per_op)
        m.t0 = now_ns();
}

static inline void op_end(void) {
    m.ops++;
    if (m.per_op) {
        uint64_t d = now_ns() - m.t0;
        if (d > m.max_op)
            m.max_op = d;
    } else if (++m.in_batch == BATCH) {
        uint64_t t = now_ns();
        sample((double)(t - m.t0) / BATCH);
        m.in_batch = 0;
        m.t0 = now_ns();
    }
}

static void pass_begin(int per_op) {
    m.per_op = per_op;
    m.in_batch = 0;
    m.ops = 0;
    m.t0 = now_ns();
}

#if defined(BENCH_OURS)
/* Fragmentation below the topmost live block: free space there is in holes between blocks. */
struct holes {
    size_t pending, pending_largest; /* free since the last live block */
    size_t bytes, largest;           /* committed once a live block follows */
};

static void count_hole(void *ctx, void *payload, size_t size, enum alloc_block_state state) {
    struct holes *h = ctx;
    (void)payload;
    if (state == ALLOC_BLOCK_USED) {
        h->bytes += h->pending;
        if (h->pending_largest > h->largest)
            h->largest = h->pending_largest;
        h->pending = h->pending_largest = 0;
    } else {
        h->pending += size;
        if (size > h->pending_largest)
            h->pending_largest = size;
    }
}

static inline void note(const void *p) {
    if (m.record_top && p != NULL) {
        uintptr_t top = (uintptr_t)p + alloc_usable_size(heap, p) - (uintptr_t)region;
        if (top > m.footprint)
            m.footprint = top;
    }
}
#else
static inline void note(const void *p) {
    (void)p;
}
#endif

/*
 * Makes p escape, so the compiler cannot pair up and delete a malloc and its free (clang does
 * that for the C library's functions when the memory is not otherwise used).
 */
static inline void *escape(void *p) {
    __asm__ volatile("" : : "r"(p) : "memory");
    return p;
}

/* Timed wrappers: each is one operation. */
static inline void *t_malloc(size_t n) {
    op_begin();
    void *p = escape(b_malloc(n));
    op_end();
    if (p == NULL)
        die("allocation failed");
    note(p);
    return p;
}

static inline void t_free(void *p) {
    op_begin();
    b_free(p);
    op_end();
}

static inline void *t_realloc(void *p, size_t n) {
    op_begin();
    void *q = escape(b_realloc(p, n));
    op_end();
    if (q == NULL)
        die("reallocation failed");
    note(q);
    return q;
}

/* ---- inputs ---- */

static uint64_t rng_state;
static inline uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Log-uniform in [lo, hi]. */
static size_t log_uniform(size_t lo, size_t hi) {
    double u = (double)(rnd() >> 11) / 9007199254740992.0;
    double v = exp(log((double)lo) + u * (log((double)hi + 1) - log((double)lo)));
    size_t n = (size_t)v;
    return n < lo ? lo : n > hi ? hi : n;
}

/* ---- workloads ---- */

static void w_pairs(size_t steps) {
    for (size_t i = 0; i < steps; i++) {
        volatile unsigned char *p = t_malloc(64);
        p[0] = (unsigned char)i;
        t_free((void *)p);
    }
}

/* Blocks a workload leaves live at its end, freed by teardown(). */
static void **left;
static size_t nleft;

static void teardown(void) {
    int per_op = m.per_op;
    m.per_op = 2; /* not timed */
    for (size_t i = 0; i < nleft; i++)
        b_free(left[i]);
    m.per_op = per_op;
    free(left);
    left = NULL;
    nleft = 0;
}

/* Random replacement in a working set of `live` blocks of sizes lo..hi. */
static void w_random(size_t live, size_t lo, size_t hi, size_t steps) {
    unsigned char **set = calloc(live, sizeof(*set));
    uint32_t *victim = malloc(steps * sizeof(*victim));
    uint32_t *size = malloc((steps + live) * sizeof(*size));
    if (set == NULL || victim == NULL || size == NULL)
        die("out of memory for inputs");
    for (size_t i = 0; i < steps; i++)
        victim[i] = (uint32_t)(rnd() % live);
    for (size_t i = 0; i < steps + live; i++)
        size[i] = (uint32_t)log_uniform(lo, hi);
    /* Filling the working set is not timed. */
    int per_op = m.per_op;
    m.per_op = 2;
    for (size_t i = 0; i < live; i++) {
        set[i] = escape(b_malloc(size[i]));
        if (set[i] == NULL)
            die("allocation failed");
        set[i][0] = 1;
        note(set[i]);
    }
    pass_begin(per_op);
    for (size_t i = 0; i < steps; i++) {
        uint32_t k = victim[i];
        t_free(set[k]);
        set[k] = t_malloc(size[live + i]);
        set[k][0] = (unsigned char)i;
    }
    m.per_op = per_op;
    left = (void **)set;
    nleft = live;
    free(victim);
    free(size);
}

/*
 * Heap population without a bigger working set: `passive` long-lived blocks (16..512 B) are
 * allocated two at a time and one of each pair freed again, leaving as many free fragments
 * between them; then the timed loop replaces random blocks of a hot set of 100.
 */
static void w_population(size_t passive, size_t steps) {
    void **keep = calloc(passive + 1, sizeof(void *));
    if (keep == NULL)
        die("out of memory for inputs");
    int per_op = m.per_op;
    m.per_op = 2;
    for (size_t i = 0; i < passive; i++) {
        keep[i] = escape(b_malloc(log_uniform(16, 512)));
        void *gap = escape(b_malloc(log_uniform(16, 512)));
        if (keep[i] == NULL || gap == NULL)
            die("allocation failed");
        note(keep[i]);
        b_free(gap);
    }
    m.per_op = per_op;
    w_random(100, 16, 512, steps);
    /* w_random left its 100 hot blocks in `left`; add the passive ones. */
    void **all = realloc(left, (nleft + passive) * sizeof(void *));
    if (all == NULL)
        die("out of memory");
    memcpy(all + nleft, keep, passive * sizeof(void *));
    left = all;
    nleft += passive;
    free(keep);
}

static void w_realloc(size_t vectors) {
    for (size_t v = 0; v < vectors; v++) {
        unsigned char *p = t_malloc(16);
        p[0] = 1;
        for (size_t cap = 32; cap <= ((size_t)1 << 20); cap *= 2) {
            p = t_realloc(p, cap);
            p[cap - 1] = (unsigned char)cap; /* append at the new end */
        }
        t_free(p);
    }
}

/*
 * Its inputs (every size, the long-lived block each round replaces, the order of its frees) are
 * drawn before the workload starts, in the order the workload uses them, so that the timed
 * operations are the allocator's calls alone, as in w_random.
 */
static void w_churn(size_t rounds) {
    enum { LONG = 5000, SHORT = 16, FIRST = LONG + (LONG + 3) / 4 };
    void **long_lived = calloc(LONG, sizeof(void *));
    uint16_t *first = malloc(FIRST * sizeof(*first)); /* the long-lived and in-between sizes */
    struct churn_round {
        uint16_t size[SHORT]; /* the short-lived blocks' sizes */
        uint16_t victim;      /* the long-lived block replaced */
        uint16_t long_size;   /* its replacement's size */
        uint8_t order[SHORT]; /* which short-lived block the i-th free frees */
    } *in = malloc((rounds + 1) * sizeof(*in));
    void *tmp[SHORT];
    if (long_lived == NULL || first == NULL || in == NULL)
        die("out of memory for inputs");
    for (size_t i = 0, k = 0; i < LONG; i++) {
        first[k++] = (uint16_t)log_uniform(32, 512);
        if (i % 4 == 0)
            first[k++] = (uint16_t)log_uniform(16, 1024);
    }
    for (size_t r = 0; r < rounds; r++) {
        struct churn_round *c = &in[r];
        for (unsigned i = 0; i < SHORT; i++) {
            c->size[i] = (uint16_t)log_uniform(16, 2048);
            c->order[i] = (uint8_t)i;
        }
        c->victim = (uint16_t)(rnd() % LONG);
        c->long_size = (uint16_t)log_uniform(32, 512);
        for (unsigned i = SHORT; i > 1; i--) { /* shuffle the order of the frees */
            unsigned j = (unsigned)(rnd() % i);
            uint8_t t = c->order[i - 1];
            c->order[i - 1] = c->order[j];
            c->order[j] = t;
        }
    }
    for (size_t i = 0, k = 0; i < LONG; i++) {
        long_lived[i] = t_malloc(first[k++]);
        if (i % 4 == 0) { /* a short-lived block in between, freed at once */
            tmp[0] = t_malloc(first[k++]);
            t_free(tmp[0]);
        }
    }
    for (size_t r = 0; r < rounds; r++) {
        const struct churn_round *c = &in[r];
        for (unsigned i = 0; i < SHORT; i++) {
            tmp[i] = t_malloc(c->size[i]);
            ((unsigned char *)tmp[i])[0] = 1;
        }
        t_free(long_lived[c->victim]);
        long_lived[c->victim] = t_malloc(c->long_size);
        for (unsigned i = 0; i < SHORT; i++)
            t_free(tmp[c->order[i]]);
    }
    free(first);
    free(in);
    left = long_lived;
    nleft = LONG;
}

/* Runs a workload at a given scale; the first-fit allocator gets fewer steps. */
static void run(const char *workload, double scale) {
    rng_state = 0x9e3779b97f4a7c15ull;
    if (strcmp(workload, "pairs") == 0)
        w_pairs((size_t)(1000000 * scale));
    else if (strcmp(workload, "random") == 0)
        w_random(10000, 16, 4096, (size_t)(1000000 * scale));
    else if (strcmp(workload, "realloc") == 0)
        w_realloc((size_t)(20000 * scale));
    else if (strcmp(workload, "churn") == 0)
        w_churn((size_t)(60000 * scale));
    else if (strcmp(workload, "live100") == 0)
        w_population(0, (size_t)(1000000 * scale));
    else if (strcmp(workload, "live10k") == 0)
        w_population(9900, (size_t)(1000000 * scale));
    else if (strcmp(workload, "ws100") == 0)
        w_random(100, 16, 512, (size_t)(1000000 * scale));
    else if (strcmp(workload, "ws10k") == 0)
        w_random(10000, 16, 512, (size_t)(1000000 * scale));
    else
        die("unknown workload");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 3)
        die("usage: bench_worker <allocator> <workload> [scale]");
    const char *impl = setup(argv[1]);
    const char *workload = argv[2];
    double scale = argc > 3 ? atof(argv[3]) : 1.0;
    if (strcmp(argv[1], "first_fit") == 0)
        scale *= strcmp(workload, "pairs") == 0 || strcmp(workload, "realloc") == 0 ? 0.1 : 0.01;

    /* Pass 1: batches, for the median. The same allocator state carries into pass 2. */
    pass_begin(0);
    run(workload, scale);
    uint64_t ops = m.ops;
    if (m.nsamples == 0)
        die("too few operations for one batch");
    qsort(m.samples, m.nsamples, sizeof(double), cmp_double);
    double median = m.samples[m.nsamples / 2];
    teardown();

    /* Pass 2: every operation timed alone, for the slowest one (and our footprint). */
    m.record_top = 1;
    pass_begin(1);
    run(workload, scale * 0.25);

    char extra[256] = "";
#if defined(BENCH_OURS)
    struct alloc_stats st;
    alloc_heap_stats(heap, &st);
    struct holes holes = {0};
    alloc_heap_walk(heap, count_hole, &holes);
    snprintf(extra, sizeof(extra),
             " footprint=%zu peak_in_use=%zu largest_free=%zu bytes_free=%zu free_blocks=%zu"
             " largest_hole=%zu hole_bytes=%zu",
             (size_t)m.footprint, st.peak_in_use, st.largest_free, st.bytes_free, st.free_blocks,
             holes.largest, holes.bytes);
    if (alloc_heap_check(heap) != ALLOC_OK)
        die("heap check failed after the workload");
#endif
    teardown();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("result allocator=%s impl=%s workload=%s ops=%llu median_ns=%.2f max_ns=%llu "
           "maxrss_kb=%ld%s\n",
           argv[1], impl, workload, (unsigned long long)ops, median, (unsigned long long)m.max_op,
           ru.ru_maxrss, extra);
    return 0;
}
