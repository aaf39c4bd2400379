/*
 * alloc/bench/replay_worker.c - replays one binary trace (trace.h, written by the replay
 * driver) through one allocator and prints one "result ..." line for the driver.
 *
 * Built once per allocator family (family.h), so every allocator call is a direct call in a
 * process of its own. Usage:
 *   replay_worker_<family> <allocator> <mode> <binary trace> [region bytes]
 * allocator: default, first_fit, tlsf_no_quick, tlsf_no_runs (family ours; over one mmap'd
 * region), tlsf_classic, halffit (family reference: this project's renditions of the classic TLSF
 * and of o1heap's half-fit, over one mmap'd region likewise) or glibc, jemalloc, mimalloc,
 * tcmalloc. Modes:
 *   verify     fills every block with a pattern derived from its allocation and checks it before
 *              each free and realloc (and the preserved prefix after a realloc, and calloc's
 *              zeroes); times every call alone with the cycle counter, outside the filling;
 *              prints p99.9, p99.99 and max cycles per operation type.
 *   time       replays without touching the blocks and prints ns per operation of the loop.
 *   count      replays without touching the blocks: run under callgrind with
 *              --toggle-collect='measured_*', which counts the calls of the measured_*
 *              functions below, i.e. the allocator calls (the driver subtracts the wrappers' own
 *              instructions).
 *   minregion  (ours, reference) binary search for the smallest region the trace replays in
 *              without a NULL; prints it and its ratio to the trace's peak live bytes.
 * Any NULL (except during minregion) or failed verification exits non-zero with the operation's
 * index and what went wrong. Blocks still live at the end are freed, untimed; then family ours
 * checks its heap, and family reference walks its heap and requires one free block of it all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "alloc/bench/die.h"
#include "alloc/bench/family.h"
#include "alloc/bench/trace.h"

#if defined(BENCH_OURS) || defined(BENCH_REFERENCE)
#define BENCH_REGION 1 /* the allocator serves one region that the worker maps */
#endif

/* ---- the allocator under test ---- */

#if defined(BENCH_OURS)
static alloc_heap *heap;
static unsigned char *region;
static size_t region_cap;
static struct alloc_config config;

static inline void *a_alloc(size_t size, size_t align) {
    return align <= ALLOC_ALIGNMENT ? alloc_malloc(heap, size) : alloc_allocate(heap, size, align);
}
static inline void *a_calloc(size_t count, size_t size) {
    return alloc_calloc(heap, count, size);
}
static inline void *a_realloc(void *p, size_t size) {
    return alloc_realloc(heap, p, size);
}
/* A free the heap refuses (it found damage) stops the replay: its figures would be of a heap that
 * kept a block it was told to take back. Under callgrind the test is the wrapper's own cost,
 * which the driver subtracts. */
static inline void a_free(void *p) {
    enum alloc_error e = alloc_free(heap, p);
    if (e != ALLOC_OK)
        die("free(%p) refused: %s", p, alloc_error_name(e));
}

/*
 * (Re)initialises the heap over the first size bytes of the region; false if init refuses. The
 * region is handed over zeroed, as fresh anonymous memory is (the pages of an earlier replay are
 * dropped first), and the heap is told so (ALLOC_FLAG_ZEROED_REGION), as a program with fresh
 * memory would: calloc then skips memory never handed out, as glibc's does for fresh pages.
 */
static bool heap_over(size_t size) {
    if (madvise(region, size, MADV_DONTNEED) != 0)
        die("madvise: %s", strerror(errno));
    config.flags |= ALLOC_FLAG_ZEROED_REGION;
    return alloc_heap_init(&heap, region, size, &config) == ALLOC_OK;
}
#elif defined(BENCH_REFERENCE)
static enum family_reference reference;
static tlsf_classic *tlsf;
static halffit *hf;
static unsigned char *region;
static size_t region_cap;

/*
 * halffit has one alignment (HALFFIT_ALIGNMENT, as o1heap, which offers no other). A request for
 * more is served from a block over-allocated by the alignment, the pointer moved up to the
 * boundary within it; the pair is kept here, so that free and realloc find the block, and
 * counted (the result line's overaligned=N, which the driver prints). None of the traces in use
 * asks for more than 16.
 */
struct overaligned {
    void *aligned, *block;
};
static struct overaligned *overaligned_live;
static size_t overaligned_n, overaligned_cap;
static unsigned long long overaligned_served;

static void *halffit_overaligned(size_t size, size_t align) {
    overaligned_served++;
    if (size > SIZE_MAX - align)
        return NULL;
    char *block = halffit_allocate(hf, size + align);
    if (block == NULL)
        return NULL;
    uintptr_t aligned = ((uintptr_t)block + align - 1) & ~(uintptr_t)(align - 1);
    if (aligned == (uintptr_t)block)
        return block;
    if (overaligned_n == overaligned_cap) {
        size_t cap = overaligned_cap ? overaligned_cap * 2 : 16;
        struct overaligned *grown = realloc(overaligned_live, cap * sizeof(*grown));
        if (grown == NULL) {
            halffit_free(hf, block);
            return NULL;
        }
        overaligned_live = grown;
        overaligned_cap = cap;
    }
    overaligned_live[overaligned_n++] = (struct overaligned){(void *)aligned, block};
    return (void *)aligned;
}

/* The entry for p among the over-aligned blocks, or NULL (always, while there are none). */
static struct overaligned *overaligned_find(const void *p) {
    for (size_t i = 0; i < overaligned_n; i++) {
        if (overaligned_live[i].aligned == p)
            return &overaligned_live[i];
    }
    return NULL;
}

static inline void *a_alloc(size_t size, size_t align) {
    if (reference == REFERENCE_TLSF_CLASSIC)
        return align <= TLSF_CLASSIC_ALIGNMENT ? tlsf_classic_malloc(tlsf, size)
                                               : tlsf_classic_memalign(tlsf, align, size);
    return align <= HALFFIT_ALIGNMENT ? halffit_allocate(hf, size)
                                      : halffit_overaligned(size, align);
}
/* Neither library has a calloc: a malloc and a memset of every byte, as their callers do. */
static inline void *a_calloc(size_t count, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(count, size, &bytes))
        return NULL;
    void *p = a_alloc(bytes, 16);
    if (p != NULL)
        memset(p, 0, bytes);
    return p;
}
static inline void a_free(void *p) {
    if (reference == REFERENCE_TLSF_CLASSIC) {
        tlsf_classic_free(tlsf, p);
        return;
    }
    struct overaligned *o = overaligned_find(p);
    if (o != NULL) {
        p = o->block;
        *o = overaligned_live[--overaligned_n];
    }
    halffit_free(hf, p);
}
static inline void *a_realloc(void *p, size_t size) {
    if (reference == REFERENCE_TLSF_CLASSIC)
        return tlsf_classic_realloc(tlsf, p, size);
    struct overaligned *o = overaligned_find(p);
    if (o == NULL)
        return halffit_realloc(hf, p, size);
    /* An over-aligned block moves to a plain one (realloc keeps malloc's alignment only). */
    size_t usable = halffit_usable_size(o->block) - (size_t)((char *)p - (char *)o->block);
    void *q = halffit_allocate(hf, size);
    if (q != NULL) {
        memcpy(q, p, usable < size ? usable : size);
        a_free(p);
    }
    return q;
}

/* (Re)initialises the heap over the first size bytes of the region, handed over zeroed as for
 * family ours (the pages of an earlier replay dropped); false if the allocator refuses it. */
static bool heap_over(size_t size) {
    if (madvise(region, size, MADV_DONTNEED) != 0)
        die("madvise: %s", strerror(errno));
    overaligned_n = 0;
    if (reference == REFERENCE_TLSF_CLASSIC)
        return (tlsf = tlsf_classic_create(region, size)) != NULL;
    return (hf = halffit_create(region, size)) != NULL;
}

/* Whether the heap is sound and, with everything freed, one free block of the whole pool. */
static bool reference_all_free(void) {
    if (reference == REFERENCE_TLSF_CLASSIC) {
        struct tlsf_classic_stats st;
        return tlsf_classic_check(tlsf, &st) && st.used_blocks == 0 && st.free_blocks == 1;
    }
    struct halffit_stats st;
    return halffit_check(hf, &st) && st.used_fragments == 0 && st.free_fragments == 1;
}
#elif defined(BENCH_BROKEN)
/*
 * Allocators with one defect each, over glibc, for trace_test: the verification must catch them.
 *   broken_realloc  realloc moves every block without copying its contents
 *   broken_calloc   calloc does not zero
 *   broken_overlap  the third allocation returns the second one's block again
 */
static enum { BROKEN_REALLOC, BROKEN_CALLOC, BROKEN_OVERLAP } broken;
static unsigned long allocations;
static void *previous;

static void *a_alloc(size_t size, size_t align) {
    (void)align;
    /* The third allocation of broken_overlap hands out the second block again. */
    if (broken == BROKEN_OVERLAP && ++allocations == 3 && previous != NULL)
        return previous;
    previous = malloc(size < 16 ? 16 : size);
    return previous;
}
static void *a_calloc(size_t count, size_t size) {
    if (broken != BROKEN_CALLOC)
        return calloc(count, size);
    void *p = a_alloc(count * size, 16);
    if (p != NULL)
        memset(p, 0xa5, count * size);
    return p;
}
static void *a_realloc(void *p, size_t size) {
    if (broken != BROKEN_REALLOC)
        return realloc(p, size);
    void *q = malloc(size);
    free(p);
    return q;
}
static void a_free(void *p) {
    if (broken == BROKEN_OVERLAP && p == previous && allocations >= 3)
        return; /* the twice-handed block is freed once only */
    free(p);
}
#else
static inline void *a_alloc(size_t size, size_t align) {
    if (align <= 16)
        return malloc(size);
    void *p;
    return posix_memalign(&p, align, size) == 0 ? p : NULL;
}
static inline void *a_calloc(size_t count, size_t size) {
    return calloc(count, size);
}
static inline void *a_realloc(void *p, size_t size) {
    return realloc(p, size);
}
static inline void a_free(void *p) {
    free(p);
}
#endif

/*
 * The measured calls. Not inlined and not tail calls (the empty asm after the call), so that
 * under callgrind each allocator call runs inside exactly one measured_* frame; their own few
 * instructions are subtracted by the driver. External names, so that the symbol table keeps them.
 */
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")
__attribute__((noinline)) void *measured_alloc(size_t size, size_t align) {
    void *p = a_alloc(size, align);
    KEEP(p);
    return p;
}
__attribute__((noinline)) void *measured_calloc(size_t count, size_t size) {
    void *p = a_calloc(count, size);
    KEEP(p);
    return p;
}
__attribute__((noinline)) void *measured_realloc(void *old, size_t size) {
    void *p = a_realloc(old, size);
    KEEP(p);
    return p;
}
__attribute__((noinline)) void measured_free(void *p) {
    a_free(p);
    KEEP(p);
}

/* ---- replay state ---- */

static struct trace trace;
static void **ptrs;     /* per slot: the live block */
static uint64_t *seeds; /* per slot: the pattern seed of the live block */
static uint64_t *sizes; /* per slot: requested bytes */

/* Frees every block still live (not measured) and clears the slots. */
static void free_live(void) {
    for (uint32_t s = 0; s < trace.nslots; s++) {
        if (ptrs[s] != NULL)
            a_free(ptrs[s]);
        ptrs[s] = NULL;
    }
}

/*
 * Replays without touching the blocks. Returns the index of the first operation that got NULL,
 * or trace.nops if none did. With stop_on_null false a NULL is fatal.
 */
static uint64_t replay_plain(bool stop_on_null) {
    const struct trace_op *ops = trace.ops;
    uint64_t n = trace.nops;
    for (uint64_t i = 0; i < n; i++) {
        const struct trace_op *op = &ops[i];
        uint32_t s = trace_op_slot(op);
        void *p;
        switch (trace_op_kind(op)) {
        case TRACE_ALLOC:
            p = measured_alloc(op->size, op->aux);
            break;
        case TRACE_CALLOC:
            p = measured_calloc(op->aux, op->size);
            break;
        case TRACE_REALLOC:
            p = measured_realloc(ptrs[s], op->size);
            break;
        default:
            measured_free(ptrs[s]);
            ptrs[s] = NULL;
            continue;
        }
        if (p == NULL) {
            if (stop_on_null)
                return i;
            die("operation %llu (%s of %llu bytes) returned NULL", (unsigned long long)i,
                trace_kind_name(trace_op_kind(op)), (unsigned long long)op->size);
        }
        ptrs[s] = p;
    }
    return n;
}

/* ---- verification: a pattern per block, a function of the allocation and the offset ---- */

static inline uint64_t pattern_word(uint64_t seed, size_t word) {
    return seed + word * 0x9e3779b97f4a7c15ull;
}

static inline unsigned char pattern_byte(uint64_t seed, size_t offset) {
    return (unsigned char)(pattern_word(seed, offset >> 3) >> ((offset & 7) * 8));
}

/* Writes the pattern over bytes [from, to) of the block at p. */
static void fill(unsigned char *p, size_t from, size_t to, uint64_t seed) {
    size_t k = from;
    for (; k < to && (k & 7) != 0; k++)
        p[k] = pattern_byte(seed, k);
    for (; k + 8 <= to; k += 8) {
        uint64_t w = pattern_word(seed, k >> 3);
        memcpy(p + k, &w, 8);
    }
    for (; k < to; k++)
        p[k] = pattern_byte(seed, k);
}

/* Returns the first offset in [0, to) that does not hold the pattern, or SIZE_MAX. */
static size_t check(const unsigned char *p, size_t to, uint64_t seed) {
    size_t k = 0;
    for (; k + 8 <= to; k += 8) {
        uint64_t w;
        memcpy(&w, p + k, 8);
        if (w != pattern_word(seed, k >> 3))
            break;
    }
    for (; k < to; k++) {
        if (p[k] != pattern_byte(seed, k))
            return k;
    }
    return SIZE_MAX;
}

static inline uint64_t cycles(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
#endif
}

/*
 * The alignment a block must have: what was asked for beyond 16; else malloc's guarantee, which
 * for a block smaller than 16 bytes covers only objects that fit in it (jemalloc gives 8-byte
 * blocks 8-byte alignment).
 */
static size_t required_alignment(size_t align, uint64_t bytes) {
    if (align > 16)
        return align;
    size_t a = 16;
    while (a > 1 && a > bytes)
        a /= 2;
    return a < align ? a : align;
}

static uint32_t *op_cycles[4]; /* per kind: cycles of each call */
static uint64_t op_count[4];

static void record(enum trace_kind kind, uint64_t c) {
    op_cycles[kind][op_count[kind]++] = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

static void verify_fail(uint64_t i, const char *what, size_t offset) {
    die("operation %llu (%s): %s at offset %zu", (unsigned long long)i,
        trace_kind_name(trace_op_kind(&trace.ops[i])), what, offset);
}

static void replay_verify(void) {
    for (int k = 0; k < 4; k++) {
        op_cycles[k] = malloc((trace.count[k] + 1) * sizeof(uint32_t));
        if (op_cycles[k] == NULL)
            die("out of memory for timings");
    }
    const struct trace_op *ops = trace.ops;
    for (uint64_t i = 0; i < trace.nops; i++) {
        const struct trace_op *op = &ops[i];
        uint32_t s = trace_op_slot(op);
        enum trace_kind kind = trace_op_kind(op);
        unsigned char *p;
        uint64_t t0, t1;
        size_t bad;
        switch (kind) {
        case TRACE_ALLOC:
        case TRACE_CALLOC: {
            uint64_t bytes = kind == TRACE_ALLOC ? op->size : op->size * op->aux;
            t0 = cycles();
            p = kind == TRACE_ALLOC ? measured_alloc(op->size, op->aux)
                                    : measured_calloc(op->aux, op->size);
            t1 = cycles();
            if (p == NULL)
                die("operation %llu (%s of %llu bytes) returned NULL", (unsigned long long)i,
                    trace_kind_name(kind), (unsigned long long)bytes);
            if ((uintptr_t)p % required_alignment(kind == TRACE_ALLOC ? op->aux : 16, bytes) != 0)
                verify_fail(i, "block not aligned as requested", 0);
            if (kind == TRACE_CALLOC) {
                for (size_t k = 0; k < bytes; k++) {
                    if (p[k] != 0)
                        verify_fail(i, "calloc'd byte not zero", k);
                }
            }
            seeds[s] = (i + 1) * 0xd1b54a32d192ed03ull;
            sizes[s] = bytes;
            fill(p, 0, bytes, seeds[s]);
            break;
        }
        case TRACE_REALLOC: {
            if ((bad = check(ptrs[s], sizes[s], seeds[s])) != SIZE_MAX)
                verify_fail(i, "block contents changed before realloc", bad);
            t0 = cycles();
            p = measured_realloc(ptrs[s], op->size);
            t1 = cycles();
            if (p == NULL)
                die("operation %llu (realloc to %llu bytes) returned NULL", (unsigned long long)i,
                    (unsigned long long)op->size);
            if ((uintptr_t)p % required_alignment(16, op->size) != 0)
                verify_fail(i, "block not aligned for its size", 0);
            size_t kept = sizes[s] < op->size ? sizes[s] : op->size;
            if ((bad = check(p, kept, seeds[s])) != SIZE_MAX)
                verify_fail(i, "realloc did not preserve the contents", bad);
            if (op->size > sizes[s])
                fill(p, sizes[s], op->size, seeds[s]);
            sizes[s] = op->size;
            break;
        }
        default:
            if ((bad = check(ptrs[s], sizes[s], seeds[s])) != SIZE_MAX)
                verify_fail(i, "block contents changed before free", bad);
            t0 = cycles();
            measured_free(ptrs[s]);
            t1 = cycles();
            p = NULL;
            break;
        }
        record(kind, t1 - t0);
        ptrs[s] = p;
    }
    /* Blocks never freed must still hold their pattern too. */
    for (uint32_t s = 0; s < trace.nslots; s++) {
        size_t bad;
        if (ptrs[s] != NULL && (bad = check(ptrs[s], sizes[s], seeds[s])) != SIZE_MAX)
            die("block in slot %u changed by the end of the trace at offset %zu", s, bad);
    }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The value below which a fraction q of the sorted samples lies. */
static uint32_t quantile(const uint32_t *v, uint64_t n, double q) {
    if (n == 0)
        return 0;
    uint64_t i = (uint64_t)(q * (double)n);
    return v[i >= n ? n - 1 : i];
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 4)
        die("usage: replay_worker <allocator> <verify|time|count|minregion> <binary trace> "
            "[region bytes]");
    const char *name = argv[1], *mode = argv[2];
    char err[512];
    if (trace_load(argv[3], &trace, err, sizeof(err)) != 0)
        die("%s", err);
    ptrs = calloc(trace.nslots + 1, sizeof(*ptrs));
    seeds = calloc(trace.nslots + 1, sizeof(*seeds));
    sizes = calloc(trace.nslots + 1, sizeof(*sizes));
    if (ptrs == NULL || seeds == NULL || sizes == NULL)
        die("out of memory for %u slots", trace.nslots);

    const char *impl;
#if defined(BENCH_OURS)
    if (!family_ours_config(name, &config))
        die("unknown allocator %s (" FAMILY_OURS_VARIANTS ")", name);
    /* Room for the region search's upper bound; pages are only touched as the heap uses them. */
    region_cap = (size_t)trace.peak_live * 64 + ((size_t)64 << 20);
    if (argc > 4)
        region_cap = strtoull(argv[4], NULL, 0);
    if (region_cap > ALLOC_MAX_HEAP) /* a 32-bit target's heaps are smaller than that */
        region_cap = ALLOC_MAX_HEAP;
    region = mmap(NULL, region_cap, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region == MAP_FAILED)
        die("cannot map a region of %zu bytes", region_cap);
    static char desc[64];
    snprintf(desc, sizeof(desc), "alloc_%s", alloc_strategy_name(config.strategy));
    impl = desc;
    if (strcmp(mode, "minregion") != 0 && !heap_over(region_cap))
        die("cannot set up the heap over %zu bytes", region_cap);
#elif defined(BENCH_REFERENCE)
    if (!family_reference_variant(name, &reference, &impl))
        die("unknown allocator %s (" FAMILY_REFERENCE_VARIANTS ")", name);
    region_cap = (size_t)trace.peak_live * 64 + ((size_t)64 << 20);
    if (argc > 4)
        region_cap = strtoull(argv[4], NULL, 0);
    if (reference == REFERENCE_TLSF_CLASSIC && region_cap > tlsf_classic_max_region())
        region_cap = tlsf_classic_max_region() & ~(size_t)4095;
    region = mmap(NULL, region_cap, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region == MAP_FAILED)
        die("cannot map a region of %zu bytes", region_cap);
    if (strcmp(mode, "minregion") != 0 && !heap_over(region_cap))
        die("cannot set up the heap over %zu bytes", region_cap);
#elif defined(BENCH_BROKEN)
    if (strcmp(name, "broken_realloc") == 0)
        broken = BROKEN_REALLOC;
    else if (strcmp(name, "broken_calloc") == 0)
        broken = BROKEN_CALLOC;
    else if (strcmp(name, "broken_overlap") == 0)
        broken = BROKEN_OVERLAP;
    else
        die("unknown allocator %s (broken_realloc, broken_calloc, broken_overlap)", name);
    impl = name;
#else
    const char *why = "";
    impl = family_setup(name, &why);
    if (impl == NULL)
        die("%s", why);
#endif

    printf("result allocator=%s impl=%s mode=%s ops=%llu", name, impl, mode,
           (unsigned long long)trace.nops);
    if (strcmp(mode, "time") == 0) {
        uint64_t t0 = now_ns();
        replay_plain(false);
        uint64_t t1 = now_ns();
        printf(" ns_per_op=%.3f", (double)(t1 - t0) / (double)trace.nops);
    } else if (strcmp(mode, "count") == 0) {
        replay_plain(false);
    } else if (strcmp(mode, "verify") == 0) {
        replay_verify();
        for (int k = 0; k < 4; k++) {
            qsort(op_cycles[k], op_count[k], sizeof(uint32_t), cmp_u32);
            printf(" %s_n=%llu %s_p50=%u %s_p999=%u %s_p9999=%u %s_max=%u", trace_kind_name(k),
                   (unsigned long long)op_count[k], trace_kind_name(k),
                   quantile(op_cycles[k], op_count[k], 0.5), trace_kind_name(k),
                   quantile(op_cycles[k], op_count[k], 0.999), trace_kind_name(k),
                   quantile(op_cycles[k], op_count[k], 0.9999), trace_kind_name(k),
                   op_count[k] ? op_cycles[k][op_count[k] - 1] : 0);
        }
    } else if (strcmp(mode, "minregion") == 0) {
#if defined(BENCH_REGION)
        /* f(size): the trace replays without a NULL in a region of size bytes. Invariant: f(hi)
         * holds and f(lo) does not (lo = 0 is no region at all). */
        size_t lo = 0, hi = (size_t)trace.peak_live * 2 + ((size_t)1 << 20);
        int probes = 0;
        for (;;) {
            if (hi > region_cap)
                die("the trace does not replay even in %zu bytes", region_cap);
            probes++;
            bool ok = heap_over(hi) && replay_plain(true) == trace.nops;
            for (uint32_t s = 0; s < trace.nslots; s++)
                ptrs[s] = NULL; /* the heap is thrown away, not freed block by block */
            if (ok)
                break;
            lo = hi;
            hi *= 2;
        }
        /* Within 1/65536 of peak (1.1 KB on the Perl trace): the ratio printed to 4 decimals is
         * then the smallest region's own, not a step of the search above it (1/4096, the step
         * until 2026-12-03, printed the Perl trace's 1.14996 as 1.1501). */
        size_t step = trace.peak_live / 65536 > 64 ? trace.peak_live / 65536 : 64;
        while (hi - lo > step) {
            size_t mid = lo + (hi - lo) / 2;
            probes++;
            bool ok = heap_over(mid) && replay_plain(true) == trace.nops;
            for (uint32_t s = 0; s < trace.nslots; s++)
                ptrs[s] = NULL;
            if (ok)
                hi = mid;
            else
                lo = mid;
        }
        printf(" min_region=%zu peak_live=%llu region_vs_peak=%.4f probes=%d", hi,
               (unsigned long long)trace.peak_live, (double)hi / (double)trace.peak_live, probes);
        heap_over(region_cap);
#else
        die("minregion needs a region-based allocator");
#endif
    } else {
        die("unknown mode %s (verify, time, count, minregion)", mode);
    }
    free_live();
#if defined(BENCH_OURS)
    if (alloc_heap_check(heap) != ALLOC_OK)
        die("heap check failed after the replay");
#elif defined(BENCH_REFERENCE)
    if (!reference_all_free())
        die("after the replay, with every block freed, the heap is not one free block");
    if (reference == REFERENCE_HALFFIT)
        printf(" overaligned=%llu", overaligned_served);
#endif
    printf("\n");
    return 0;
}
