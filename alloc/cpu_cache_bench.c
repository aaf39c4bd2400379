/*
 * alloc/cpu_cache_bench.c - host benchmark of the per-CPU cache layer: throughput of 1 and 2
 * threads allocating and freeing small blocks, through the layer (one cache per thread) and
 * through the plain locked heap, and the scaling ratio 2 threads / 1 thread of each.
 *
 * Each thread runs the same workload on its own slots: OPS operations, each a malloc of 16 to 256
 * bytes into an empty slot (touching the block's first and last byte) or a free of a full one.
 * The layer and the locked heap use the same lock, a test-and-test-and-set spinlock as a kernel
 * would, for the heap and for each cache. A third way, the machine's own ceiling, gives each
 * thread a heap of its own (no lock, no memory shared between the threads): its ratio is what two
 * threads of the same allocator work get from this machine's cores (two virtual CPUs may share a
 * physical core, and other work may share them), the most the layer can reach here. The six
 * configurations (each of the three with 1 and with 2 threads) run interleaved, on a fresh heap
 * each time, for --rounds rounds; the figures are medians.
 *
 * Two views per configuration: throughput, operations of all threads per wall-clock second (the
 * figure the ratio is about); and operations per CPU-second of the threads, which shows whether
 * a slow-down comes from the lock (it drops) or from the machine not giving the threads two
 * whole cores (it does not); 2 x its ratio is what the throughput ratio would be with a core
 * per thread. The last line is a one-line summary:
 *   summary: cached_ratio=X locked_ratio=Y cached_cpu_ratio=Z locked_cpu_ratio=W ...
 *   ... machine_ratio=M cached_vs_machine=X/M
 *
 *   bazel run -c opt //alloc:cpu_cache_bench [-- --rounds N --ops N]
 */
#include "alloc/cpu_cache.h"
#include "alloc/heap.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define REGION_SIZE (64u << 20)
#define SLOTS       512
#define MAX_THREADS 2

/* ---- a test-and-test-and-set spinlock counting acquisitions and contended ones ---- */

/* Two cache lines of its own: x86 cores fetch 64-byte lines in pairs (the adjacent-line
 * prefetcher), so two locks 64 bytes apart would still pull each other's line over. */
struct spinlock {
    alignas(128) atomic_int held;
    unsigned long acquired;
    unsigned long contended;
};

static void spin_acquire(struct spinlock *l) {
    bool waited = false;
    for (;;) {
        if (!atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
            break;
        waited = true;
        while (atomic_load_explicit(&l->held, memory_order_relaxed)) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }
    l->acquired++;
    l->contended += waited;
}

static void spin_release(struct spinlock *l) {
    atomic_store_explicit(&l->held, 0, memory_order_release);
}

static struct spinlock heap_lock;
static struct spinlock cache_lock[MAX_THREADS];

static void heap_acquire(void *ctx) {
    (void)ctx;
    spin_acquire(&heap_lock);
}

static void heap_release(void *ctx) {
    (void)ctx;
    spin_release(&heap_lock);
}

static _Thread_local unsigned thread_index;

static unsigned cpu_id(void *ctx) {
    (void)ctx;
    return thread_index;
}

static void cache_acquire(void *ctx, unsigned cpu) {
    (void)ctx;
    spin_acquire(&cache_lock[cpu]);
}

static void cache_release(void *ctx, unsigned cpu) {
    (void)ctx;
    spin_release(&cache_lock[cpu]);
}

/* ---- the workload ---- */

static unsigned char *region;
static struct alloc_locked_heap locked;
static struct alloc_cpu_cache caches[MAX_THREADS];
static struct alloc_cached_heap cached;
/* What a worker allocates from. */
enum source { FROM_CACHE, FROM_LOCKED_HEAP, FROM_OWN_HEAP };
static enum source source;
/* FROM_OWN_HEAP: thread i's heap, over part i of the region. */
static alloc_heap *own_heap[MAX_THREADS];
/* About a quarter of a second per thread and round through the layer: long enough that thread
 * start-up and the scheduler's ticks, which the 2-thread runs suffer and the 1-thread runs hardly,
 * do not set the ratio (the top-level README.md has the figures of both lengths). */
static unsigned long ops_per_thread = 10000000;
static atomic_int start_flag;
static atomic_int ready_count;
static atomic_int failures;

struct thread_result {
    unsigned index;
    double cpu_seconds;
};

static double now(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A worker's malloc and free, from `source` (thread: the worker's index, for FROM_OWN_HEAP). */
static unsigned char *source_malloc(unsigned thread, size_t n) {
    switch (source) {
    case FROM_CACHE:
        return alloc_cached_malloc(&cached, n);
    case FROM_LOCKED_HEAP:
        return alloc_locked_malloc(&locked, n);
    default:
        return alloc_malloc(own_heap[thread], n);
    }
}

static enum alloc_error source_free(unsigned thread, void *p) {
    switch (source) {
    case FROM_CACHE:
        return alloc_cached_free(&cached, p);
    case FROM_LOCKED_HEAP:
        return alloc_locked_free(&locked, p);
    default:
        return alloc_free(own_heap[thread], p);
    }
}

static void *worker(void *arg) {
    struct thread_result *r = arg;
    thread_index = r->index;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (r->index + 1);
    unsigned char *slot[SLOTS] = {0};
    atomic_fetch_add(&ready_count, 1);
    while (!atomic_load(&start_flag))
        ;
    double cpu0 = now(CLOCK_THREAD_CPUTIME_ID);
    for (unsigned long i = 0; i < ops_per_thread; i++) {
        uint64_t x = xorshift(&rng);
        unsigned k = (unsigned)(x % SLOTS);
        if (slot[k] == NULL) {
            size_t n = 16 + (size_t)((x >> 32) % 241);
            unsigned char *p = source_malloc(r->index, n);
            if (p == NULL) {
                atomic_fetch_add(&failures, 1);
                break;
            }
            p[0] = (unsigned char)i;
            p[n - 1] = (unsigned char)i;
            slot[k] = p;
        } else {
            if (source_free(r->index, slot[k]) != ALLOC_OK)
                atomic_fetch_add(&failures, 1);
            slot[k] = NULL;
        }
    }
    r->cpu_seconds = now(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    for (unsigned k = 0; k < SLOTS; k++) {
        if (slot[k] != NULL)
            (void)source_free(r->index, slot[k]);
    }
    return NULL;
}

struct figures {
    double mops;         /* million operations per wall-clock second, all threads */
    double mops_per_cpu; /* million operations per CPU-second of the threads */
    double contended;    /* contended / acquisitions of the heap's lock */
    double heap_per_op;  /* heap lock acquisitions per operation */
};

/* The live blocks of the heaps of run(), and whether their checks pass. */
static bool heaps_intact(size_t *live) {
    struct alloc_stats s;
    if (source == FROM_OWN_HEAP) {
        *live = 0;
        for (unsigned i = 0; i < MAX_THREADS; i++) {
            alloc_heap_stats(own_heap[i], &s);
            *live += s.live_allocations;
            if (alloc_heap_check(own_heap[i]) != ALLOC_OK)
                return false;
        }
        return true;
    }
    alloc_cached_flush_all(&cached);
    alloc_locked_stats(&locked, &s);
    *live = s.live_allocations;
    return alloc_locked_check(&locked) == ALLOC_OK;
}

/* One run on fresh heaps: `threads` threads, through the layer, the locked heap or their own. */
static struct figures run(enum source from, unsigned threads) {
    struct alloc_lock lock = {.acquire = heap_acquire, .release = heap_release};
    struct alloc_cpu_ops cpu_ops = {cpu_id, cache_acquire, cache_release, NULL};
    bool ready = true;
    if (from == FROM_OWN_HEAP) {
        for (unsigned i = 0; i < MAX_THREADS; i++)
            ready = ready && alloc_heap_init(&own_heap[i], region + i * (REGION_SIZE / MAX_THREADS),
                                             REGION_SIZE / MAX_THREADS, NULL) == ALLOC_OK;
    } else {
        ready = alloc_locked_init(&locked, region, REGION_SIZE, NULL, &lock) == ALLOC_OK &&
                alloc_cached_init(&cached, &locked, caches, MAX_THREADS, &cpu_ops) == ALLOC_OK;
    }
    if (!ready) {
        fprintf(stderr, "cpu_cache_bench: init failed\n");
        exit(1);
    }
    source = from;
    heap_lock.acquired = heap_lock.contended = 0;
    atomic_store(&start_flag, 0);
    atomic_store(&ready_count, 0);
    pthread_t t[MAX_THREADS];
    struct thread_result res[MAX_THREADS];
    for (unsigned i = 0; i < threads; i++) {
        res[i].index = i;
        pthread_create(&t[i], NULL, worker, &res[i]);
    }
    while (atomic_load(&ready_count) != (int)threads)
        ;
    double wall0 = now(CLOCK_MONOTONIC);
    atomic_store(&start_flag, 1);
    for (unsigned i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double wall = now(CLOCK_MONOTONIC) - wall0;
    size_t live;
    if (!heaps_intact(&live) || live != 0 || atomic_load(&failures) != 0) {
        fprintf(stderr, "cpu_cache_bench: the run went wrong (%zu blocks left, %d failures)\n",
                live, atomic_load(&failures));
        exit(1);
    }
    double ops = (double)ops_per_thread * threads;
    double cpu = 0;
    for (unsigned i = 0; i < threads; i++)
        cpu += res[i].cpu_seconds;
    struct figures f = {
        .mops = ops / wall / 1e6,
        .mops_per_cpu = ops / cpu / 1e6,
        .contended =
            heap_lock.acquired ? (double)heap_lock.contended / (double)heap_lock.acquired : 0,
        .heap_per_op = (double)heap_lock.acquired / ops,
    };
    return f;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, unsigned n) {
    qsort(v, n, sizeof(v[0]), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_ROUNDS 101

int main(int argc, char **argv) {
    unsigned rounds = 9;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rounds") == 0)
            rounds = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--ops") == 0)
            ops_per_thread = strtoul(argv[i + 1], NULL, 10);
    }
    if (rounds == 0 || rounds > MAX_ROUNDS || ops_per_thread == 0) {
        fprintf(stderr, "usage: cpu_cache_bench [--rounds 1..%d] [--ops N]\n", MAX_ROUNDS);
        return 2;
    }
    region = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        perror("cpu_cache_bench: mmap");
        return 1;
    }
    memset(region, 0, REGION_SIZE); /* fault the pages in before the first measurement */

    enum { CACHED_1, CACHED_2, LOCKED_1, LOCKED_2, MACHINE_1, MACHINE_2, CONFIGS };
    static const char *const names[CONFIGS] = {"cached 1 thread",    "cached 2 threads",
                                               "locked 1 thread",    "locked 2 threads",
                                               "own heaps 1 thread", "own heaps 2 threads"};
    static const enum source sources[CONFIGS] = {FROM_CACHE,       FROM_CACHE,    FROM_LOCKED_HEAP,
                                                 FROM_LOCKED_HEAP, FROM_OWN_HEAP, FROM_OWN_HEAP};
    static double mops[CONFIGS][MAX_ROUNDS], per_cpu[CONFIGS][MAX_ROUNDS];
    static double contended[CONFIGS][MAX_ROUNDS], heap_per_op[CONFIGS][MAX_ROUNDS];
    static double ratio_cached[MAX_ROUNDS], ratio_locked[MAX_ROUNDS], ratio_machine[MAX_ROUNDS];
    static double cpu_ratio_cached[MAX_ROUNDS], cpu_ratio_locked[MAX_ROUNDS];
    printf("cpu_cache_bench: %lu operations per thread (malloc 16..256 B / free, %d slots), "
           "%u rounds, interleaved\n",
           ops_per_thread, SLOTS, rounds);
    for (unsigned r = 0; r < rounds; r++) {
        for (int c = 0; c < CONFIGS; c++) {
            struct figures f = run(sources[c], c % 2 == 1 ? 2 : 1);
            mops[c][r] = f.mops;
            per_cpu[c][r] = f.mops_per_cpu;
            contended[c][r] = f.contended;
            heap_per_op[c][r] = f.heap_per_op;
        }
        ratio_cached[r] = mops[CACHED_2][r] / mops[CACHED_1][r];
        ratio_locked[r] = mops[LOCKED_2][r] / mops[LOCKED_1][r];
        ratio_machine[r] = mops[MACHINE_2][r] / mops[MACHINE_1][r];
        cpu_ratio_cached[r] = 2 * per_cpu[CACHED_2][r] / per_cpu[CACHED_1][r];
        cpu_ratio_locked[r] = 2 * per_cpu[LOCKED_2][r] / per_cpu[LOCKED_1][r];
    }
    double m[CONFIGS];
    printf("%-18s %12s %16s %16s %18s\n", "configuration", "Mops/s", "Mops/CPU-s", "heap lock/op",
           "heap contended");
    for (int c = 0; c < CONFIGS; c++) {
        m[c] = median(mops[c], rounds);
        printf("%-18s %12.2f %16.2f %16.4f %17.2f%%\n", names[c], m[c], median(per_cpu[c], rounds),
               median(heap_per_op[c], rounds), 100 * median(contended[c], rounds));
    }
    double rc = median(ratio_cached, rounds), rl = median(ratio_locked, rounds);
    double cc = median(cpu_ratio_cached, rounds), cl = median(cpu_ratio_locked, rounds);
    printf("throughput 2 threads / 1 thread (median of per-round ratios): cached %.2f, locked "
           "heap %.2f (goal for cached: 1.8)\n",
           rc, rl);
    /* What the ratio would be if each thread had a core to itself: 2 x the per-CPU-second
     * efficiency of 2 threads over 1. Only the lock and shared cache lines lower it. */
    printf("per-CPU-second view, 2 x (Mops/CPU-s 2 threads / 1 thread): cached %.2f, locked heap "
           "%.2f (the wall-clock ratio reaches this only on two otherwise idle cores)\n",
           cc, cl);
    double rm = median(ratio_machine, rounds);
    printf("the machine's own ceiling, each thread on a heap of its own: %.2f; cached reaches %.0f "
           "%% of "
           "it\n",
           rm, 100 * rc / rm);
    printf("summary: cached_ratio=%.2f locked_ratio=%.2f cached_cpu_ratio=%.2f "
           "locked_cpu_ratio=%.2f cached_1t_mops=%.2f cached_2t_mops=%.2f locked_1t_mops=%.2f "
           "locked_2t_mops=%.2f machine_ratio=%.2f cached_vs_machine=%.2f\n",
           rc, rl, cc, cl, m[CACHED_1], m[CACHED_2], m[LOCKED_1], m[LOCKED_2], rm, rc / rm);
    return 0;
}
