/*
 * alloc/cpu_cache_test.c - tests of the per-CPU cache layer (alloc/cpu_cache.h), one *_check per
 * behaviour, each run over a fresh locked heap of every heap variant of alloc/testing/fixture.c
 * (fixture_variants).
 *
 * The injected environment is a fake: "the calling CPU" is a variable the checks set (or, in the
 * threaded checks, a per-thread index), each cache's lock is a pthread mutex that counts its
 * acquisitions, and the heap's lock is a counting mutex too, so a check can state how often the
 * heap's lock was taken. The error hook records what the heap reports.
 *
 * Notation: cache[c] is the cache of CPU c; "live to the heap" counts cached blocks, which the
 * heap sees as allocated.
 */
#include "alloc/config.h"
#include "alloc/cpu_cache.h"
#include "alloc/heap.h"
#include "alloc/testing/check.h"
#include "alloc/testing/fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_CPUS    4
#define REGION_SIZE (4u << 20)
#define SMALL_HEAP  (256u * 1024u)

static unsigned variant;
/* Blocks the check at hand expects the layer to have kept out of its caches (reconciled). */
static size_t quarantined_expected;
/* Flags setup adds to the variant's, for the check at hand (poison_check). */
static unsigned extra_flags;

/* The layer's classes, from its list: usable size and depth (the most blocks a cache keeps). */
#define TEST_CLASS_SIZE(size, depth)  size,
#define TEST_CLASS_DEPTH(size, depth) depth,
static const size_t class_size[ALLOC_CPU_CACHE_CLASSES] = {
    ALLOC_CPU_CACHE_CLASS_LIST(TEST_CLASS_SIZE)};
static const unsigned class_depth[ALLOC_CPU_CACHE_CLASSES] = {
    ALLOC_CPU_CACHE_CLASS_LIST(TEST_CLASS_DEPTH)};

/* The class drain_check and its kin fill a cache with: 128 bytes, 32 deep. */
#define FILL_CLASS 7u
#define FILL_SIZE  128u

/* ---- the fake environment ---- */

static struct {
    unsigned current; /* the CPU of the main thread */
    pthread_mutex_t cache_mutex[MAX_CPUS];
    atomic_ulong cache_acquired[MAX_CPUS];
    atomic_int bad_index; /* a lock asked for a cache that does not exist */
    pthread_mutex_t heap_mutex;
    atomic_ulong heap_acquired;
    /* Reports from the heap's hook (called under the heap's lock). */
    unsigned long reports;
    enum alloc_error last_error;
    const void *last_ptr;
    enum alloc_error error_at[16]; /* the first reports since setup, in order */
    const void *ptr_at[16];
    /* Called once, on the next acquisition of the heap's lock, before it is taken. */
    void (*on_heap_acquire)(void);
    /* The same, on the next acquisition of a cache's lock. */
    void (*on_cache_acquire)(void);
} env = {
    .cache_mutex = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                    PTHREAD_MUTEX_INITIALIZER},
    .heap_mutex = PTHREAD_MUTEX_INITIALIZER,
};

/* The threaded checks give each thread its CPU; -1 means "use env.current". */
static _Thread_local int thread_cpu = -1;

static unsigned fake_cpu_id(void *ctx) {
    (void)ctx;
    return thread_cpu >= 0 ? (unsigned)thread_cpu : env.current;
}

static void fake_acquire(void *ctx, unsigned cpu) {
    (void)ctx;
    void (*meanwhile)(void) = env.on_cache_acquire;
    if (meanwhile != NULL) { /* only single-threaded checks set it: the threads only read it */
        env.on_cache_acquire = NULL;
        meanwhile();
    }
    if (cpu >= MAX_CPUS) {
        atomic_store(&env.bad_index, 1);
        return;
    }
    pthread_mutex_lock(&env.cache_mutex[cpu]);
    atomic_fetch_add(&env.cache_acquired[cpu], 1);
}

static void fake_release(void *ctx, unsigned cpu) {
    (void)ctx;
    if (cpu < MAX_CPUS)
        pthread_mutex_unlock(&env.cache_mutex[cpu]);
}

static void heap_acquire(void *ctx) {
    (void)ctx;
    void (*meanwhile)(void) = env.on_heap_acquire;
    if (meanwhile != NULL) { /* only single-threaded checks set it: the threads only read it */
        env.on_heap_acquire = NULL;
        meanwhile();
    }
    pthread_mutex_lock(&env.heap_mutex);
    atomic_fetch_add(&env.heap_acquired, 1);
}

static void heap_release(void *ctx) {
    (void)ctx;
    pthread_mutex_unlock(&env.heap_mutex);
}

static bool heap_try_acquire(void *ctx) {
    (void)ctx;
    if (pthread_mutex_trylock(&env.heap_mutex) != 0)
        return false;
    atomic_fetch_add(&env.heap_acquired, 1);
    return true;
}

static void hook(void *ctx, enum alloc_error error, const void *ptr) {
    (void)ctx;
    if (env.reports < 16) {
        env.error_at[env.reports] = error;
        env.ptr_at[env.reports] = ptr;
    }
    env.reports++;
    env.last_error = error;
    env.last_ptr = ptr;
}

static const struct alloc_cpu_ops ops = {fake_cpu_id, fake_acquire, fake_release, NULL};

static _Alignas(4096) unsigned char region[REGION_SIZE];
static struct alloc_locked_heap locked;
static struct alloc_cpu_cache caches[MAX_CPUS];
static struct alloc_cached_heap ch;

/* A locked heap of the current variant over the region's first `size` bytes, and the layer. */
static int init_heap_and_layer(size_t size, unsigned ncpus) {
    struct alloc_config cfg = {
        .strategy = fixture_variants[variant].strategy,
        .flags = fixture_variants[variant].flags | extra_flags,
        .error_hook = hook,
    };
    struct alloc_lock lock = {
        .acquire = heap_acquire, .release = heap_release, .try_acquire = heap_try_acquire};
    ASSERT_EQ(ALLOC_OK, alloc_locked_init(&locked, region, size, &cfg, &lock));
    ASSERT_EQ(ALLOC_OK, alloc_cached_init(&ch, &locked, caches, ncpus, &ops));
    return 0;
}

/* A fresh locked heap of the current variant over `size` bytes, and the layer with ncpus. */
static int setup(size_t size, unsigned ncpus) {
    memset(region, 0x5a, size);
    if (init_heap_and_layer(size, ncpus) != 0)
        return 1;
    env.current = 0;
    env.reports = 0;
    env.last_error = ALLOC_OK;
    env.on_heap_acquire = NULL;
    env.on_cache_acquire = NULL;
    atomic_store(&env.bad_index, 0);
    quarantined_expected = 0;
    return 0;
}

/* setup() of a heap initialised with `flags` besides the variant's (poison_check). */
static int setup_with(unsigned flags, size_t size, unsigned ncpus) {
    extra_flags = flags;
    int set_up = setup(size, ncpus);
    extra_flags = 0;
    return set_up;
}

static struct alloc_cached_stats cstats(void) {
    struct alloc_cached_stats s;
    alloc_cached_stats(&ch, &s);
    return s;
}

static struct alloc_stats hstats(void) {
    struct alloc_stats s;
    alloc_locked_stats(&locked, &s);
    return s;
}

/*
 * Every block is accounted for: the heap's live blocks are the users' plus the cached ones plus
 * those kept out (none, unless the check expects them).
 */
static int reconciled(size_t user_live) {
    struct alloc_cached_stats c = cstats();
    struct alloc_stats h = hstats();
    ASSERT_EQ(user_live, c.live_blocks);
    ASSERT_EQ(c.allocations - c.frees, c.live_blocks);
    ASSERT_EQ(quarantined_expected, c.quarantined_blocks);
    ASSERT_EQ(h.live_allocations, c.live_blocks + c.cached_blocks + c.quarantined_blocks);
    ASSERT_EQ(ALLOC_OK, alloc_cached_check(&ch));
    ASSERT_EQ(0, atomic_load(&env.bad_index));
    return 0;
}

/*
 * Takes every free byte of the heap from the locked heap directly (fillers, not the layer's), into
 * fill[0..*n) (8 at most). Returns 0, or 1 after printing the assertion that failed.
 */
static int take_free_memory(void *fill[8], size_t *n) {
    *n = 0;
    for (size_t l; *n < 8 && (l = hstats().largest_free) > 0; (*n)++) {
        fill[*n] = alloc_locked_malloc(&locked, l);
        ASSERT_TRUE(fill[*n] != NULL);
    }
    return 0;
}

/* The blocks one warm-up stocks: half the depth of every class. */
static size_t warm_up_blocks(void) {
    size_t halves = 0;
    for (unsigned k = 0; k < ALLOC_CPU_CACHE_CLASSES; k++)
        halves += class_depth[k] / 2;
    return halves;
}

/* ------------------------------------------------------------------------------------------ */

/*
 * alloc_cached_init() with missing pieces.
 * Expect ALLOC_ERR_NULL_HEAP for a NULL layer or heap and for a locked heap that was never
 * initialised; ALLOC_ERR_BAD_CONFIG for no cache array, missing functions or a bad CPU count; and a
 * failed layer (or a NULL one) that allocates nothing, refuses frees, has zeroes for statistics,
 * nothing to warm or flush and no check to pass, and reports nothing.
 */
static int init_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    struct alloc_cached_heap c;
    struct alloc_locked_heap empty = {0};
    struct alloc_cpu_ops no_id = {NULL, fake_acquire, fake_release, NULL};
    struct alloc_cpu_ops no_release = {fake_cpu_id, fake_acquire, NULL, NULL};
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_cached_init(NULL, &locked, caches, 2, &ops));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_cached_init(&c, NULL, caches, 2, &ops));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_cached_init(&c, &empty, caches, 2, &ops));
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG, alloc_cached_init(&c, &locked, NULL, 2, &ops));
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG, alloc_cached_init(&c, &locked, caches, 0, &ops));
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG, alloc_cached_init(&c, &locked, caches, 65536, &ops));
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG, alloc_cached_init(&c, &locked, caches, 2, NULL));
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG, alloc_cached_init(&c, &locked, caches, 2, &no_id));
    ASSERT_EQ(ALLOC_ERR_BAD_CONFIG, alloc_cached_init(&c, &locked, caches, 2, &no_release));
    ASSERT_TRUE(alloc_cached_malloc(&c, 16) == NULL);
    ASSERT_TRUE(alloc_cached_calloc(&c, 2, 8) == NULL);
    int x = 0;
    ASSERT_TRUE(alloc_cached_realloc(&c, NULL, 16) == NULL);
    ASSERT_TRUE(alloc_cached_realloc(&c, &x, 16) == NULL);
    ASSERT_EQ(0, alloc_cached_usable_size(&c, &x));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_cached_free(&c, &x));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&c, NULL));
    ASSERT_FALSE(alloc_cached_warm(&c, 0));
    alloc_cached_flush(&c, 0);
    alloc_cached_flush_idle(&c, 0);
    alloc_cached_flush_all(&c);
    struct alloc_cached_stats s, zero = {0};
    memset(&s, 0xff, sizeof(s));
    alloc_cached_stats(&c, &s);
    ASSERT_TRUE(memcmp(&s, &zero, sizeof(s)) == 0);
    memset(&s, 0xff, sizeof(s));
    alloc_cached_stats(NULL, &s);
    ASSERT_TRUE(memcmp(&s, &zero, sizeof(s)) == 0);
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_cached_check(&c));
    ASSERT_EQ(ALLOC_ERR_NULL_HEAP, alloc_cached_check(NULL));
    ASSERT_EQ(0, env.reports);
    return 0;
}

/*
 * A small block freed and allocated again on one CPU.
 *
 *   malloc(40) -> A; free(A): A goes to cache[0]; malloc(33) -> A again, from cache[0]
 *
 * Expect the same block back, counted as a hit, and the heap's lock not taken at all by the
 * free and the second allocation: the point of the layer.
 */
static int reuse_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    void *a = alloc_cached_malloc(&ch, 40);
    ASSERT_TRUE(a != NULL);
    unsigned long before = atomic_load(&env.heap_acquired);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    void *b = alloc_cached_malloc(&ch, 33);
    ASSERT_EQ(before, atomic_load(&env.heap_acquired));
    ASSERT_TRUE(a == b);
    struct alloc_cached_stats s = cstats();
    ASSERT_EQ(1, s.hits);
    ASSERT_EQ(2, s.allocations);
    ASSERT_EQ(1, s.frees);
    if (reconciled(1) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
    return reconciled(0);
}

/*
 * Every request size from 0 to ALLOC_CPU_CACHE_MAX_SIZE + 100 bytes.
 * Expect at least the size requested, 16-byte alignment, and cached sizes rounded up to the
 * smallest class that holds them: the usable size stays the same while the request still fits the
 * previous one and is a class of the list otherwise, ALLOC_CPU_CACHE_CLASSES in all, summing to
 * ALLOC_CPU_CACHE_CLASS_BYTES. Larger requests are served from the heap and freed to it: no hit,
 * no block in or out of a cache, the heap's lock taken for each (counted in refills).
 */
static int classes_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    size_t sum = 0;
    unsigned classes = 0;
    size_t previous = 0;
    ASSERT_EQ(FILL_SIZE, class_size[FILL_CLASS]);
    for (size_t n = 0; n <= ALLOC_CPU_CACHE_MAX_SIZE + 100; n++) {
        struct alloc_cached_stats before = cstats();
        void *p = alloc_cached_malloc(&ch, n);
        ASSERT_TRUE(p != NULL);
        if (n > ALLOC_CPU_CACHE_MAX_SIZE) {
            struct alloc_cached_stats after = cstats();
            ASSERT_EQ(before.hits, after.hits);
            ASSERT_EQ(before.cached_blocks, after.cached_blocks);
            ASSERT_EQ(before.refills + 1, after.refills);
        }
        ASSERT_EQ(0, (uintptr_t)p % ALLOC_ALIGNMENT);
        size_t u = alloc_cached_usable_size(&ch, p);
        ASSERT_TRUE(u >= n && u >= 1);
        if (n >= 1 && n <= ALLOC_CPU_CACHE_MAX_SIZE) {
            if (n <= previous) {
                ASSERT_EQ(previous, u);
            } else {
                ASSERT_TRUE(classes < ALLOC_CPU_CACHE_CLASSES);
                ASSERT_EQ(class_size[classes], u);
                sum += u;
                classes++;
                previous = u;
            }
        }
        fixture_fill(p, n, (unsigned)n);
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p));
        if (n > ALLOC_CPU_CACHE_MAX_SIZE)
            ASSERT_EQ(before.cached_blocks, cstats().cached_blocks);
    }
    ASSERT_EQ(ALLOC_CPU_CACHE_CLASSES, classes);
    ASSERT_EQ(ALLOC_CPU_CACHE_CLASS_BYTES, sum);
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * Three times its depth of blocks of every class allocated, then all freed, on CPU 0.
 * Expect each class to keep at most its depth (the rest returned to the heap in batches of half
 * of it) and at least half of it, at most ALLOC_CPU_CACHE_MAX_BYTES in the cache, and every block
 * accounted for.
 */
static int bound_check(void) {
    if (setup(REGION_SIZE, 2) != 0)
        return 1;
    static void *p[ALLOC_CPU_CACHE_CLASSES][3 * ALLOC_CPU_CACHE_MAX_DEPTH];
    size_t blocks = 0, most = 0, least = 0;
    for (unsigned k = 0; k < ALLOC_CPU_CACHE_CLASSES; k++) {
        for (unsigned i = 0; i < 3 * class_depth[k]; i++) {
            p[k][i] = alloc_cached_malloc(&ch, class_size[k]);
            ASSERT_TRUE(p[k][i] != NULL);
            blocks++;
        }
    }
    if (reconciled(blocks) != 0)
        return 1;
    alloc_cached_flush(&ch, 0); /* the rest of the last refill of each class */
    for (unsigned k = 0; k < ALLOC_CPU_CACHE_CLASSES; k++) {
        for (unsigned i = 0; i < 3 * class_depth[k]; i++)
            ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[k][i]));
        most += class_depth[k];
        least += class_depth[k] / 2;
        ASSERT_TRUE(cstats().cached_blocks <= most);
        ASSERT_TRUE(cstats().cached_blocks >= least);
    }
    struct alloc_cached_stats s = cstats();
    ASSERT_TRUE(s.cached_bytes <= ALLOC_CPU_CACHE_MAX_BYTES);
    ASSERT_TRUE(s.returns >= ALLOC_CPU_CACHE_CLASSES);
    /* The heap really holds no more than that for the caches. */
    struct alloc_stats h = hstats();
    ASSERT_TRUE(h.bytes_in_use + h.live_allocations * ALLOC_BLOCK_OVERHEAD <=
                ALLOC_CPU_CACHE_MAX_BYTES);
    return reconciled(0);
}

/*
 * A cold cache warms up under one acquisition of the heap's lock.
 *
 *   fresh layer: malloc(48) -> heap lock once; every class stocked with half its depth
 *   one malloc of every class: no heap lock
 *   flush(0), malloc(2000): warms up again, one acquisition
 *   memory short (allocations until NULL: every cache drained), all freed: the next refill of a
 *   cold class fetches that class only
 *
 * Expect exactly those acquisitions and cached block counts.
 */
static int warm_up_check(void) {
    if (setup(REGION_SIZE, 2) != 0)
        return 1;
    size_t halves = warm_up_blocks();
    unsigned long before = atomic_load(&env.heap_acquired);
    void *first = alloc_cached_malloc(&ch, 48);
    ASSERT_TRUE(first != NULL);
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    ASSERT_EQ(halves - 1, cstats().cached_blocks);
    void *p[ALLOC_CPU_CACHE_CLASSES];
    before = atomic_load(&env.heap_acquired);
    for (unsigned k = 0; k < ALLOC_CPU_CACHE_CLASSES; k++) {
        p[k] = alloc_cached_malloc(&ch, class_size[k]);
        ASSERT_TRUE(p[k] != NULL);
    }
    ASSERT_EQ(before, atomic_load(&env.heap_acquired));
    for (unsigned k = 0; k < ALLOC_CPU_CACHE_CLASSES; k++)
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[k]));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, first));
    alloc_cached_flush(&ch, 0);
    before = atomic_load(&env.heap_acquired);
    first = alloc_cached_malloc(&ch, 2000);
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    ASSERT_EQ(halves - 1, cstats().cached_blocks);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, first));
    if (reconciled(0) != 0)
        return 1;

    if (setup(64 * 1024, 2) != 0)
        return 1;
    static void *q[1024];
    size_t n = 0;
    while (n < 1024 && (q[n] = alloc_cached_malloc(&ch, 200)) != NULL)
        n++;
    ASSERT_TRUE(n > 100 && n < 1024);
    ASSERT_TRUE(cstats().drains > 0);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, q[i]));
    size_t cached = cstats().cached_blocks;
    before = atomic_load(&env.heap_acquired);
    void *small = alloc_cached_malloc(&ch, 16);
    ASSERT_TRUE(small != NULL);
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    ASSERT_EQ(cached + class_depth[0] / 2 - 1, cstats().cached_blocks);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, small));
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * Another CPU in the heap: a thread that holds the heap's lock from heap_held_elsewhere() until
 * heap_released_elsewhere(). (Taking it on the calling thread would order the heap's lock before
 * a cache's, the reverse of the layer's order.)
 */
static atomic_int elsewhere_holding, elsewhere_release;
static pthread_t elsewhere;

static void *hold_heap_lock(void *arg) {
    (void)arg;
    pthread_mutex_lock(&env.heap_mutex);
    atomic_store(&elsewhere_holding, 1);
    while (!atomic_load(&elsewhere_release))
        ;
    pthread_mutex_unlock(&env.heap_mutex);
    return NULL;
}

static void heap_held_elsewhere(void) {
    atomic_store(&elsewhere_holding, 0);
    atomic_store(&elsewhere_release, 0);
    pthread_create(&elsewhere, NULL, hold_heap_lock, NULL);
    while (!atomic_load(&elsewhere_holding))
        ;
}

static void heap_released_elsewhere(void) {
    atomic_store(&elsewhere_release, 1);
    pthread_join(elsewhere, NULL);
}

/*
 * alloc_cached_warm stocks a cold cache ahead of need, but never waits for the heap's lock.
 *
 *   a CPU index out of range: false; the heap's lock held elsewhere: false, nothing fetched
 *   lock free: true, one acquisition (counted in refills), every class stocked with half its
 *   depth; then one malloc of every class: no heap lock; warm again: true, no lock; flush, warm:
 *   one acquisition again
 *   flush_idle (then flush), malloc(48): one acquisition fetches that class only; warm: one more,
 *   every other class; flush_idle, warm with the lock busy: false, and the first refill warms up
 *   a heap lock without try_acquire: false, nothing fetched
 */
static int warm_ahead_check(void) {
    if (setup(REGION_SIZE, 2) != 0)
        return 1;
    size_t halves = warm_up_blocks();
    ASSERT_TRUE(!alloc_cached_warm(&ch, 2));
    unsigned long before = atomic_load(&env.heap_acquired);
    heap_held_elsewhere();
    bool warmed = alloc_cached_warm(&ch, 0);
    heap_released_elsewhere();
    ASSERT_TRUE(!warmed);
    ASSERT_EQ(before, atomic_load(&env.heap_acquired));
    ASSERT_EQ(0, cstats().cached_blocks); /* reading the statistics takes the heap's lock */
    ASSERT_EQ(0, cstats().refills);
    before = atomic_load(&env.heap_acquired);
    ASSERT_TRUE(alloc_cached_warm(&ch, 0));
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    ASSERT_EQ(halves, cstats().cached_blocks);
    ASSERT_EQ(1, cstats().refills); /* a warm-up takes the heap's lock to allocate */
    void *p[ALLOC_CPU_CACHE_CLASSES];
    before = atomic_load(&env.heap_acquired);
    for (unsigned k = 0; k < ALLOC_CPU_CACHE_CLASSES; k++) {
        p[k] = alloc_cached_malloc(&ch, class_size[k]);
        ASSERT_TRUE(p[k] != NULL);
    }
    ASSERT_TRUE(alloc_cached_warm(&ch, 0));
    ASSERT_EQ(before, atomic_load(&env.heap_acquired));
    for (unsigned k = 0; k < ALLOC_CPU_CACHE_CLASSES; k++)
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[k]));
    alloc_cached_flush(&ch, 0);
    ASSERT_EQ(0, cstats().cached_blocks);
    before = atomic_load(&env.heap_acquired);
    ASSERT_TRUE(alloc_cached_warm(&ch, 0));
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    ASSERT_EQ(halves, cstats().cached_blocks);

    alloc_cached_flush_idle(&ch, 0); /* an idle CPU: its refills fetch their own class only */
    alloc_cached_flush(&ch, 0);      /* and it stays idle */
    ASSERT_EQ(0, cstats().cached_blocks);
    before = atomic_load(&env.heap_acquired);
    void *in_interrupt = alloc_cached_malloc(&ch, 48);
    ASSERT_TRUE(in_interrupt != NULL);
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    ASSERT_EQ(class_depth[2] / 2 - 1, cstats().cached_blocks);
    before = atomic_load(&env.heap_acquired);
    ASSERT_TRUE(alloc_cached_warm(&ch, 0)); /* running threads again: every other class */
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    ASSERT_EQ(halves - 1, cstats().cached_blocks);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, in_interrupt));

    alloc_cached_flush_idle(&ch, 0);
    heap_held_elsewhere(); /* a thread starts while another CPU is in the heap */
    warmed = alloc_cached_warm(&ch, 0);
    heap_released_elsewhere();
    ASSERT_TRUE(!warmed);
    before = atomic_load(&env.heap_acquired);
    void *first = alloc_cached_malloc(&ch, 48); /* so its first refill warms up */
    ASSERT_TRUE(first != NULL);
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    ASSERT_EQ(halves - 1, cstats().cached_blocks);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, first));
    if (reconciled(0) != 0)
        return 1;

    if (setup(REGION_SIZE, 2) != 0)
        return 1;
    locked.lock.try_acquire = NULL; /* a heap whose lock cannot be tried */
    before = atomic_load(&env.heap_acquired);
    ASSERT_TRUE(!alloc_cached_warm(&ch, 0));
    ASSERT_EQ(before, atomic_load(&env.heap_acquired));
    ASSERT_EQ(0, cstats().cached_blocks);
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * Blocks move between a warm cache and the heap in batches, class by class.
 *
 *   malloc: the warm-up; the rest of that class's half: no heap lock; the next malloc: one
 *   acquisition fetches half the depth of that class only; up to depth + 1 blocks: one more
 *   flush, free depth blocks: the class fills up without the heap lock; the next free returns
 *   the oldest half under one acquisition
 *
 * Expect exactly those acquisitions, for the smallest, a middle, an odd-depth (320 bytes, 25
 * deep: its half rounds down) and the largest class.
 */
static int batch_check(void) {
    enum { ODD_CLASS = 12 };
    ASSERT_EQ(1, class_depth[ODD_CLASS] % 2);
    static const unsigned tried[] = {0, FILL_CLASS, ODD_CLASS, ALLOC_CPU_CACHE_CLASSES - 1};
    for (unsigned t = 0; t < sizeof tried / sizeof tried[0]; t++) {
        if (setup(REGION_SIZE, 2) != 0)
            return 1;
        unsigned k = tried[t];
        unsigned half = class_depth[k] / 2;
        void *p[ALLOC_CPU_CACHE_MAX_DEPTH + 1];
        /* Heap lock acquisitions of each phase (alloc_cached_stats takes the lock too). */
        unsigned long before = atomic_load(&env.heap_acquired);
        p[0] = alloc_cached_malloc(&ch, class_size[k]);
        ASSERT_TRUE(p[0] != NULL);
        ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
        size_t warm = cstats().cached_blocks;
        before = atomic_load(&env.heap_acquired);
        for (unsigned i = 1; i < half; i++) {
            p[i] = alloc_cached_malloc(&ch, class_size[k]);
            ASSERT_TRUE(p[i] != NULL);
        }
        ASSERT_EQ(before, atomic_load(&env.heap_acquired));
        p[half] = alloc_cached_malloc(&ch, class_size[k]);
        ASSERT_TRUE(p[half] != NULL);
        ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
        ASSERT_EQ(warm, cstats().cached_blocks);
        before = atomic_load(&env.heap_acquired);
        for (unsigned i = half + 1; i <= class_depth[k]; i++) {
            p[i] = alloc_cached_malloc(&ch, class_size[k]);
            ASSERT_TRUE(p[i] != NULL);
        }
        ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
        alloc_cached_flush(&ch, 0);
        before = atomic_load(&env.heap_acquired);
        for (unsigned i = 0; i < class_depth[k]; i++)
            ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[i]));
        ASSERT_EQ(before, atomic_load(&env.heap_acquired));
        ASSERT_EQ(class_depth[k], cstats().cached_blocks);
        before = atomic_load(&env.heap_acquired);
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[class_depth[k]]));
        ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
        struct alloc_cached_stats s = cstats();
        ASSERT_EQ(class_depth[k] - half + 1, s.cached_blocks);
        ASSERT_EQ(1, s.returns);
        ASSERT_EQ(0, env.reports);
        if (reconciled(0) != 0)
            return 1;
    }
    return 0;
}

/* ---- cache lines: which CPU's live blocks (prefix and payload) lie in each 64-byte line ---- */

#define LINE 64u
static struct {
    uint8_t cpu[REGION_SIZE / LINE];     /* 1 + the CPU whose blocks lie in the line */
    uint16_t blocks[REGION_SIZE / LINE]; /* how many live blocks lie in it */
} lines;

/* The lines of a live block of class k at user pointer u: [u - prefix, u + class size). */
static size_t first_line(const void *u) {
    return ((uintptr_t)u - ALLOC_CPU_CACHE_PREFIX - (uintptr_t)region) / LINE;
}
static size_t end_line(const void *u, unsigned k) {
    return ((uintptr_t)u + class_size[k] - 1 - (uintptr_t)region) / LINE + 1;
}

/* Marks a block handed to `cpu`; fails if another CPU's live block shares a line with it. */
static int claim_lines(const void *u, unsigned k, unsigned cpu) {
    for (size_t l = first_line(u); l < end_line(u, k); l++) {
        if (lines.blocks[l] != 0 && lines.cpu[l] != cpu + 1) {
            fprintf(stderr, "line %p: blocks of CPU %u and CPU %u\n", (void *)(region + l * LINE),
                    lines.cpu[l] - 1u, cpu);
            return 1;
        }
        lines.cpu[l] = (uint8_t)(cpu + 1);
        lines.blocks[l]++;
    }
    return 0;
}

static void release_lines(const void *u, unsigned k) {
    for (size_t l = first_line(u); l < end_line(u, k); l++)
        lines.blocks[l]--;
}

/*
 * Two CPUs taking turns at refilling the same classes (each turn allocates exactly the half
 * class one refill fetches), on a fresh heap, then again after both freed everything and were
 * flushed, so each refills from memory the other CPU used:
 *   | A's batch | B's batch | A's batch | ...      each batch in whole 64-byte lines
 * Expect no 64-byte line ever to hold live blocks of both CPUs: what keeps two CPUs working on
 * their own blocks from writing to the same lines (blocks fetched one at a time sit side by
 * side, and the boundary lines are shared).
 */
static int lines_apart_check(void) {
    static const unsigned tried[] = {0, 2, 4, FILL_CLASS, 9, 13};
    enum { TURNS = 3, TRIED = sizeof tried / sizeof tried[0] };
    static void *live[2][TRIED][TURNS * ALLOC_CPU_CACHE_MAX_DEPTH / 2];
    if (setup(REGION_SIZE, 2) != 0)
        return 1;
    memset(&lines, 0, sizeof lines);
    for (int phase = 0; phase < 2; phase++) {
        for (unsigned turn = 0; turn < TURNS; turn++) {
            for (unsigned cpu = 0; cpu < 2; cpu++) {
                env.current = cpu;
                for (unsigned t = 0; t < TRIED; t++) {
                    unsigned k = tried[t], half = class_depth[k] / 2;
                    for (unsigned i = 0; i < half; i++) {
                        void *u = alloc_cached_malloc(&ch, class_size[k]);
                        ASSERT_TRUE(u != NULL);
                        live[cpu][t][turn * half + i] = u;
                        ASSERT_EQ(0, claim_lines(u, k, cpu));
                    }
                }
            }
        }
        for (unsigned cpu = 0; cpu < 2; cpu++) {
            env.current = cpu;
            for (unsigned t = 0; t < TRIED; t++) {
                for (unsigned i = 0; i < TURNS * (class_depth[tried[t]] / 2); i++) {
                    release_lines(live[cpu][t][i], tried[t]);
                    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, live[cpu][t][i]));
                }
            }
            alloc_cached_flush(&ch, cpu);
        }
    }
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * A CPU that idles again and again: alloc_cached_flush of a cache already empty.
 * Expect the first flush to take the heap's lock (blocks go back), the following ones not to
 * take it at all, and every cache flushed counted.
 */
static int idle_flush_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    void *a = alloc_cached_malloc(&ch, 40);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    unsigned long before = atomic_load(&env.heap_acquired);
    alloc_cached_flush(&ch, 0);
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    ASSERT_EQ(0, cstats().cached_blocks);
    before = atomic_load(&env.heap_acquired);
    for (int i = 0; i < 10; i++)
        alloc_cached_flush(&ch, 0);
    alloc_cached_flush_all(&ch);
    ASSERT_EQ(before, atomic_load(&env.heap_acquired));
    ASSERT_EQ(13, cstats().flushes); /* 11 of cache[0], then both */
    return reconciled(0);
}

/*
 * realloc between cached classes of a warm cache: 100 -> 1000 bytes (to the 1024 class) -> 90
 * (a shrink keeps the block) -> 1500 (to the 1536 class).
 * Expect no heap lock taken and the contents kept to the smaller size each time.
 */
static int realloc_local_check(void) {
    if (setup(REGION_SIZE, 2) != 0)
        return 1;
    unsigned char *p = alloc_cached_malloc(&ch, 100);
    fixture_fill(p, 100, 6);
    unsigned long before = atomic_load(&env.heap_acquired);
    unsigned char *q = alloc_cached_realloc(&ch, p, 1000);
    ASSERT_TRUE(q != NULL && q != p && fixture_pattern_ok(q, 100, 6));
    fixture_fill(q, 1000, 7);
    p = alloc_cached_realloc(&ch, q, 90);
    ASSERT_TRUE(p == q && fixture_pattern_ok(p, 90, 7));
    q = alloc_cached_realloc(&ch, p, 1500);
    ASSERT_TRUE(q != NULL && q != p && fixture_pattern_ok(q, 90, 7));
    ASSERT_EQ(before, atomic_load(&env.heap_acquired));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, q));
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * Blocks cached on CPU 0 and CPU 1, then alloc_cached_flush(0), then alloc_cached_flush_all().
 * Expect flush(0) to empty cache[0] only (a flush of a CPU at or past the layer's count, of 7 or of
 * 2, does nothing, the cache past the last unchanged), flush_all the rest, and then a heap with no
 * live block that passes its check: every cached block went back.
 */
static int flush_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    void *p[2][20];
    for (unsigned cpu = 0; cpu < 2; cpu++) {
        env.current = cpu;
        for (unsigned i = 0; i < 20; i++) {
            p[cpu][i] = alloc_cached_malloc(&ch, 16 + 12 * i);
            ASSERT_TRUE(p[cpu][i] != NULL);
        }
        for (unsigned i = 0; i < 20; i++)
            ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[cpu][i]));
    }
    size_t both = cstats().cached_blocks;
    ASSERT_TRUE(both >= 40);
    if (reconciled(0) != 0)
        return 1;
    alloc_cached_flush(&ch, 0);
    size_t one = cstats().cached_blocks;
    ASSERT_TRUE(one >= 20 && one < both);
    if (reconciled(0) != 0)
        return 1;
    alloc_cached_flush(&ch, 7); /* no such CPU: nothing happens */
    ASSERT_EQ(one, cstats().cached_blocks);
    /* Nor to the array's element just past the layer's CPUs (ncpus 2 of MAX_CPUS). */
    uint64_t past_flushes = caches[2].flushes;
    uint8_t past_warm_mode = caches[2].warm_mode;
    alloc_cached_flush(&ch, 2);
    alloc_cached_flush_idle(&ch, 2);
    ASSERT_EQ(past_flushes, caches[2].flushes);
    ASSERT_EQ(past_warm_mode, caches[2].warm_mode);
    ASSERT_EQ(one, cstats().cached_blocks);
    alloc_cached_flush_all(&ch);
    struct alloc_cached_stats s = cstats();
    ASSERT_EQ(0, s.cached_blocks);
    ASSERT_EQ(0, s.cached_bytes);
    ASSERT_EQ(3, s.flushes); /* cache[0], then cache[0] and cache[1] */
    struct alloc_stats h = hstats();
    ASSERT_EQ(0, h.live_allocations);
    ASSERT_EQ(0, h.bytes_in_use);
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/* CPU 1's part of drain_check, on its own thread: fill the heap with FILL_SIZE blocks, then free
 * them all to cache[1]. */
static void *fill_cache_1(void *arg) {
    size_t *count = arg;
    thread_cpu = 1;
    void *p[ALLOC_CPU_CACHE_MAX_DEPTH + 1];
    size_t n = 0;
    while (n <= class_depth[FILL_CLASS] && (p[n] = alloc_cached_malloc(&ch, FILL_SIZE)) != NULL)
        n++;
    for (size_t i = 0; i < n; i++)
        alloc_cached_free(&ch, p[i]);
    *count = n;
    return NULL;
}

/*
 * The space a request needs sits in another CPU's cache.
 *
 *   | ctrl | [1] [1] [1] ... [1] |   every block in cache[1]; the heap itself has ~nothing free
 *
 * CPU 0 (the main thread) asks for half of what cache[1] holds. Expect the heap alone to be
 * unable to serve it (checked first), and the request to succeed by draining cache[1].
 */
static int drain_check(void) {
    /* Room for fewer blocks than a cache keeps, so every freed block stays in cache[1]. */
    size_t size = alloc_min_region_size(fixture_variants[variant].strategy) +
                  (class_depth[FILL_CLASS] - 4) * (FILL_SIZE + 2 * ALLOC_CPU_CACHE_PREFIX);
    if (setup(size, 2) != 0)
        return 1;
    size_t n = 0;
    pthread_t t;
    ASSERT_EQ(0, pthread_create(&t, NULL, fill_cache_1, &n));
    ASSERT_EQ(0, pthread_join(t, NULL));
    ASSERT_TRUE(n >= class_depth[FILL_CLASS] / 2 && n <= class_depth[FILL_CLASS]);
    struct alloc_cached_stats s = cstats();
    ASSERT_EQ(n, s.cached_blocks);
    uint64_t drains = s.drains; /* CPU 1's last, failed allocation drained the empty caches */
    size_t want = n * FILL_SIZE / 2;
    ASSERT_TRUE(hstats().largest_free < want);
    env.current = 0;
    void *big = alloc_cached_malloc(&ch, want);
    ASSERT_TRUE(big != NULL);
    s = cstats();
    ASSERT_EQ(drains + 1, s.drains);
    ASSERT_EQ(0, s.cached_blocks);
    ASSERT_EQ(0, s.flushes); /* a drain is no flush: counted apart */
    fixture_fill(big, want, 3);
    if (reconciled(1) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, big));
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * A realloc that only fits once the caches are drained.
 * Expect it to succeed with the contents kept.
 */
static int drain_realloc_check(void) {
    enum { DIRECT_SIZE = ALLOC_CPU_CACHE_MAX_SIZE + 100 }; /* served by the heap: resizable */
    size_t size = alloc_min_region_size(fixture_variants[variant].strategy) + DIRECT_SIZE +
                  (class_depth[FILL_CLASS] - 4) * (FILL_SIZE + 2 * ALLOC_CPU_CACHE_PREFIX);
    if (setup(size, 2) != 0)
        return 1;
    void *small = alloc_cached_malloc(&ch, DIRECT_SIZE);
    ASSERT_TRUE(small != NULL);
    fixture_fill(small, DIRECT_SIZE, 5);
    size_t n = 0;
    pthread_t t;
    ASSERT_EQ(0, pthread_create(&t, NULL, fill_cache_1, &n));
    ASSERT_EQ(0, pthread_join(t, NULL));
    ASSERT_TRUE(n >= class_depth[FILL_CLASS] / 2);
    uint64_t drains = cstats().drains;
    size_t want = DIRECT_SIZE + n * FILL_SIZE / 2;
    ASSERT_TRUE(hstats().largest_free < want);
    void *big = alloc_cached_realloc(&ch, small, want);
    ASSERT_TRUE(big != NULL);
    ASSERT_TRUE(fixture_pattern_ok(big, DIRECT_SIZE, 5));
    ASSERT_EQ(drains + 1, cstats().drains);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, big));
    return reconciled(0);
}

/*
 * Memory exhausted for real: allocate 200-byte blocks until NULL, then free them all.
 * Expect NULL only when nothing is left (after a drain), no report, and a clean heap after a
 * flush.
 */
static int exhaust_check(void) {
    if (setup(64 * 1024, 2) != 0)
        return 1;
    static void *p[1024];
    size_t n = 0;
    while (n < 1024 && (p[n] = alloc_cached_malloc(&ch, 200)) != NULL)
        n++;
    ASSERT_TRUE(n > 100 && n < 1024);
    ASSERT_TRUE(hstats().largest_free <
                alloc_cached_usable_size(&ch, p[0]) + ALLOC_CPU_CACHE_PREFIX);
    ASSERT_EQ(0, cstats().cached_blocks);
    if (reconciled(n) != 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[i]));
    alloc_cached_flush_all(&ch);
    ASSERT_EQ(0, hstats().live_allocations);
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * A block freed twice: while it sits in cache[0], from another CPU, and after a flush returned
 * it to the heap; and a large block (never cached) freed twice.
 * Expect each second free to be reported by the heap's hook and returned as an error, and the
 * heap intact with every block accounted for.
 */
static int double_free_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    void *a = alloc_cached_malloc(&ch, 24);
    ASSERT_TRUE(a != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_cached_free(&ch, a));
    ASSERT_EQ(1, env.reports);
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, env.last_error);
    ASSERT_TRUE((uintptr_t)env.last_ptr == (uintptr_t)a - ALLOC_CPU_CACHE_PREFIX);
    if (reconciled(0) != 0)
        return 1;

    void *b = alloc_cached_malloc(&ch, 100);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
    env.current = 1;
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_cached_free(&ch, b));
    ASSERT_EQ(2, env.reports);
    if (reconciled(0) != 0)
        return 1;

    void *c = alloc_cached_malloc(&ch, 64);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, c));
    alloc_cached_flush_all(&ch);
    ASSERT_NE(ALLOC_OK, alloc_cached_free(&ch, c));
    ASSERT_EQ(3, env.reports);
    if (reconciled(0) != 0)
        return 1;

    void *d = alloc_cached_malloc(&ch, 5000);
    ASSERT_TRUE(d != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, d));
    ASSERT_NE(ALLOC_OK, alloc_cached_free(&ch, d));
    ASSERT_EQ(4, env.reports);
    return reconciled(0);
}

/*
 * Pointers that were never handed out: on the stack, misaligned, inside a block, a block whose
 * prefix was overwritten; free, realloc and usable_size of each.
 * Expect the heap to report each one (foreign, misaligned pointer), nothing to change, and the
 * layer to carry on.
 */
static int bad_pointer_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    void *a = alloc_cached_malloc(&ch, 64);
    ASSERT_TRUE(a != NULL);
    fixture_fill(a, 64, 9);
    _Alignas(16) unsigned char on_stack[64] = {0};
    unsigned long r = env.reports;

    ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, alloc_cached_free(&ch, on_stack + 16));
    ASSERT_EQ(++r, env.reports);
    ASSERT_EQ(ALLOC_ERR_MISALIGNED_POINTER, alloc_cached_free(&ch, (unsigned char *)a + 8));
    ASSERT_EQ(++r, env.reports);
    ASSERT_NE(ALLOC_OK, alloc_cached_free(&ch, (unsigned char *)a + 16));
    ASSERT_EQ(++r, env.reports);
    ASSERT_TRUE(alloc_cached_realloc(&ch, (unsigned char *)a + 32, 10) == NULL);
    ASSERT_EQ(++r, env.reports);
    ASSERT_EQ(0, alloc_cached_usable_size(&ch, on_stack + 16));
    ASSERT_EQ(++r, env.reports);
    ASSERT_TRUE(fixture_pattern_ok(a, 64, 9));
    if (reconciled(1) != 0)
        return 1;

    /* A write just below the block (an underflow) breaks its prefix: refused, reported. */
    void *b = alloc_cached_malloc(&ch, 64);
    ((unsigned char *)b)[-2] ^= 0x40;
    ASSERT_NE(ALLOC_OK, alloc_cached_free(&ch, b));
    ASSERT_EQ(++r, env.reports);
    ASSERT_EQ(ALLOC_OK, alloc_locked_check(&locked));
    ((unsigned char *)b)[-2] ^= 0x40; /* repaired: it frees normally */
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    return reconciled(0);
}

/*
 * Pointers outside the heap where nothing is mapped: 16 bytes past the heap's end, whose page is
 * made inaccessible (mprotect), then the heap's end itself (after the layer has looked past it),
 * then one in the lowest page of the address space; each freed, reallocated and sized.
 * Expect each passed to the heap, which reports it (free returns ALLOC_ERR_FOREIGN_POINTER,
 * realloc NULL, usable_size 0): the layer reads nothing outside the heap to judge a pointer.
 */
static int unmapped_neighbours_check(void) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = SMALL_HEAP + (page - (uintptr_t)(region + SMALL_HEAP) % page) % page;
    ASSERT_TRUE(size + page <= REGION_SIZE);
    if (setup(size, 2) != 0)
        return 1;
    unsigned char *end = region + size;
    void *bad[] = {end + ALLOC_CPU_CACHE_PREFIX, end, (void *)(uintptr_t)ALLOC_ALIGNMENT};
    enum alloc_error freed[3];
    void *moved[3];
    size_t usable[3];
    ASSERT_EQ(0, mprotect(end, page, PROT_NONE));
    for (int i = 0; i < 3; i++) {
        freed[i] = alloc_cached_free(&ch, bad[i]);
        moved[i] = alloc_cached_realloc(&ch, bad[i], 10);
        usable[i] = alloc_cached_usable_size(&ch, bad[i]);
    }
    ASSERT_EQ(0, mprotect(end, page, PROT_READ | PROT_WRITE));
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, freed[i]);
        ASSERT_TRUE(moved[i] == NULL);
        ASSERT_EQ(0, usable[i]);
    }
    ASSERT_EQ(9, env.reports);
    return reconciled(0);
}

/*
 * The heap block's own address of a block the layer handed out (16 bytes below a cached-size
 * block's pointer, or a heap-sized one's; an aligned one's alignment below its pointer), passed to
 * free, realloc and usable_size as if the layer had handed it out. The heap would take each for
 * one of its blocks: freed, the block would go to a second owner while its user still holds it.
 * Expect each refused as a foreign pointer and reported once, the blocks still live and intact,
 * then freed normally. With the layer passing them to the heap as they are, free returned ALLOC_OK
 * with no report.
 */
static int heap_block_address_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    enum { ALIGN = 256 };
    unsigned char *blocks[] = {alloc_cached_malloc(&ch, 100), alloc_cached_malloc(&ch, 10000),
                               alloc_cached_allocate(&ch, 3000, ALIGN)};
    size_t below[] = {16, 16, ALIGN};
    size_t sizes[] = {100, 10000, 3000};
    for (int i = 0; i < 3; i++) {
        ASSERT_TRUE(blocks[i] != NULL);
        fixture_fill(blocks[i], sizes[i], (unsigned)i + 20);
    }
    unsigned long r = env.reports;
    for (int i = 0; i < 3; i++) {
        unsigned char *heap_block = blocks[i] - below[i];
        ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, alloc_cached_free(&ch, heap_block));
        ASSERT_EQ(++r, env.reports);
        ASSERT_TRUE(alloc_cached_realloc(&ch, heap_block, 50) == NULL);
        ASSERT_EQ(++r, env.reports);
        ASSERT_EQ(0, alloc_cached_usable_size(&ch, heap_block));
        ASSERT_EQ(++r, env.reports);
        ASSERT_TRUE(alloc_cached_usable_size(&ch, blocks[i]) >= sizes[i]);
    }
    /* Nothing was freed: a new block of each size is none of those held. */
    for (int i = 0; i < 3; i++) {
        unsigned char *other = alloc_cached_malloc(&ch, sizes[i]);
        ASSERT_TRUE(other != NULL);
        for (int j = 0; j < 3; j++)
            ASSERT_TRUE(other + sizes[i] <= blocks[j] || blocks[j] + sizes[j] <= other);
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, other));
    }
    for (int i = 0; i < 3; i++) {
        ASSERT_TRUE(fixture_pattern_ok(blocks[i], sizes[i], (unsigned)i + 20));
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, blocks[i]));
    }
    ASSERT_EQ(r, env.reports);
    ASSERT_EQ(ALLOC_OK, alloc_locked_check(&locked));
    return reconciled(0);
}

/*
 * A cached-size block's pointer from before a plain re-init of the heap and the layer at the same
 * addresses (the region not cleared in between, so its prefix is still there), inside a block of
 * the new heap: freed, reallocated and sized.
 * Expect each refused and reported, the new heap's block still live and the next allocation of the
 * stale block's class none of its bytes. With the prefix's check keyed by the layer's address
 * only, the stale prefix checked out: free cached the block (ALLOC_OK, no report) and the next
 * allocation of its class handed out memory inside the live block.
 */
static int stale_pointer_after_reinit_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    unsigned char *stale = alloc_cached_malloc(&ch, 100);
    ASSERT_TRUE(stale != NULL);
    if (init_heap_and_layer(SMALL_HEAP, 2) != 0)
        return 1;
    size_t cover = (size_t)(stale - region) + 256;
    unsigned char *live = alloc_cached_malloc(&ch, cover);
    ASSERT_TRUE(live != NULL);
    ASSERT_TRUE(live <= stale - ALLOC_CPU_CACHE_PREFIX && stale + 128 <= live + cover);

    unsigned long r = env.reports;
    ASSERT_NE(ALLOC_OK, alloc_cached_free(&ch, stale));
    ASSERT_EQ(++r, env.reports);
    ASSERT_TRUE(alloc_cached_realloc(&ch, stale, 50) == NULL);
    ASSERT_EQ(++r, env.reports);
    ASSERT_EQ(0, alloc_cached_usable_size(&ch, stale));
    ASSERT_EQ(++r, env.reports);
    unsigned char *next = alloc_cached_malloc(&ch, 100);
    ASSERT_TRUE(next != NULL);
    ASSERT_TRUE(next + 100 <= live || live + cover <= next);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, next));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, live));
    ASSERT_EQ(r, env.reports);
    ASSERT_EQ(ALLOC_OK, alloc_locked_check(&locked));
    return reconciled(0);
}

/*
 * One CPU whose cache was flushed idle (so a refill stocks only the class asked for) asked for 16
 * bytes.
 * Expect the blocks the refill cached to count, in cached_bytes, their class size, the layer's
 * prefix and the heap's block overhead each.
 */
static int cached_bytes_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    alloc_cached_flush_idle(&ch, 0);
    void *a = alloc_cached_malloc(&ch, 16);
    ASSERT_TRUE(a != NULL);
    struct alloc_cached_stats s = cstats();
    ASSERT_TRUE(s.cached_blocks > 0);
    ASSERT_EQ(s.cached_blocks * (16 + ALLOC_CPU_CACHE_PREFIX + ALLOC_BLOCK_OVERHEAD),
              s.cached_bytes);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    return reconciled(0);
}

/*
 * A 64-byte block freed into the cache, then its 16-byte prefix overwritten; then the cache
 * flushed.
 * Expect the flush to report it once, as a foreign pointer at the user's pointer (the heap's free
 * of that pointer, as alloc/cpu_cache.h says), and to give the block back: nothing cached, nothing
 * live to the heap.
 */
static int flush_meets_overwritten_prefix_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    alloc_cached_flush_idle(&ch, 0);
    unsigned char *a = alloc_cached_malloc(&ch, 64);
    ASSERT_TRUE(a != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    memset(a - ALLOC_CPU_CACHE_PREFIX, 0x41, ALLOC_CPU_CACHE_PREFIX);
    alloc_cached_flush(&ch, 0);
    ASSERT_EQ(1, env.reports);
    ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, env.error_at[0]);
    ASSERT_TRUE(env.ptr_at[0] == a);
    ASSERT_EQ(0, cstats().cached_blocks);
    ASSERT_EQ(0, hstats().live_allocations);
    return reconciled(0);
}

/*
 * A block too large for the caches (4096 bytes, given by the heap with the layer's prefix), whose
 * heap block's header is then overwritten.
 * Expect its usable size 0 (a bad pointer's), with one report, not the heap's usable size less the
 * prefix wrapped below zero.
 */
static int usable_of_damaged_direct_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    unsigned char *p = alloc_cached_malloc(&ch, 4096);
    ASSERT_TRUE(p != NULL);
    unsigned char saved[ALLOC_BLOCK_OVERHEAD];
    unsigned char *header = p - ALLOC_CPU_CACHE_PREFIX - ALLOC_BLOCK_OVERHEAD;
    memcpy(saved, header, sizeof saved);
    memset(header, 0x41, sizeof saved);
    ASSERT_EQ(0, alloc_cached_usable_size(&ch, p));
    ASSERT_EQ(1, env.reports);
    memcpy(header, saved, sizeof saved);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p));
    return reconciled(0);
}

/*
 * A cached block's prefix overwritten while it sits in cache[0] (a write after free below it).
 * Expect alloc_cached_check() to report it, the next allocation of that class to report it and
 * still return a good block, and the block to be given back to the heap.
 */
static int corrupted_cached_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    void *a = alloc_cached_malloc(&ch, 48);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    ((unsigned char *)a)[-9] ^= 1;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_cached_check(&ch));
    ASSERT_EQ(1, env.reports);
    void *b = alloc_cached_malloc(&ch, 48);
    ASSERT_TRUE(b != NULL);
    ASSERT_EQ(2, env.reports);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
    alloc_cached_flush_all(&ch);
    ASSERT_EQ(0, hstats().live_allocations);
    return reconciled(0);
}

/*
 * Each of the 16 bytes of a cached block's prefix overwritten in turn (a bit flipped, then put
 * back): its check value, state, class, CPU, offset and reserved bytes.
 * Expect alloc_cached_check() to find each (ALLOC_ERR_CORRUPTED_HEADER, reported once) and to pass
 * again once the byte is back: every field is held to what the cache expects of it, not only
 * through the check value (which does not cover the reserved bytes).
 */
static int cached_prefix_every_byte_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    unsigned char *a = alloc_cached_malloc(&ch, 48);
    ASSERT_TRUE(a != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    for (unsigned char *byte = a - ALLOC_CPU_CACHE_PREFIX; byte < a; byte++) {
        unsigned long reports = env.reports;
        *byte ^= 0x20;
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEADER, alloc_cached_check(&ch));
        ASSERT_EQ(reports + 1, env.reports);
        *byte ^= 0x20;
        ASSERT_EQ(ALLOC_OK, alloc_cached_check(&ch));
    }
    return reconciled(0);
}

/*
 * Eight live 1,024-byte blocks, each with its prefix copied 256 bytes into its own payload, the
 * copy's class byte one lower, then one higher (the pointer 256 up, the class, 256 in the check
 * value's fields, down or up), and that interior pointer freed.
 * Expect each refused: passed to the heap, which reports it, the block still live and its bytes
 * outside the copy intact. The check value mixes the pointer and the fields apart, so that a shift
 * of one does not make up for a shift of the other (a sum of the two, multiplied once, took such a
 * copy for a live block of the class next to its own and cached its interior pointer).
 */
static int shifted_prefix_copy_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    enum { BLOCKS = 8, SIZE = 1024, INTO = 256, CLASS_BYTE = 5 }; /* struct prefix: check, state */
    unsigned char *b[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
        b[i] = alloc_cached_malloc(&ch, SIZE);
        ASSERT_TRUE(b[i] != NULL);
        fixture_fill(b[i], SIZE, 15 + i);
    }
    size_t live = hstats().live_allocations;
    for (int i = 0; i < BLOCKS; i++) {
        unsigned char *fake = b[i] + INTO, saved[ALLOC_CPU_CACHE_PREFIX];
        memcpy(saved, fake - ALLOC_CPU_CACHE_PREFIX, sizeof(saved));
        for (int shift = -1; shift <= 1; shift += 2) {
            memcpy(fake - ALLOC_CPU_CACHE_PREFIX, b[i] - ALLOC_CPU_CACHE_PREFIX,
                   ALLOC_CPU_CACHE_PREFIX);
            fake[CLASS_BYTE - (int)ALLOC_CPU_CACHE_PREFIX] =
                (unsigned char)(fake[CLASS_BYTE - (int)ALLOC_CPU_CACHE_PREFIX] + shift);
            unsigned long reports = env.reports;
            ASSERT_NE(ALLOC_OK, alloc_cached_free(&ch, fake));
            ASSERT_EQ(reports + 1, env.reports);
            ASSERT_EQ(live, hstats().live_allocations);
        }
        memcpy(fake - ALLOC_CPU_CACHE_PREFIX, saved, sizeof(saved));
    }
    for (int i = 0; i < BLOCKS; i++) {
        ASSERT_TRUE(fixture_pattern_ok(b[i], SIZE, 15 + i));
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b[i]));
    }
    return reconciled(0);
}

/*
 * A heap that poisons on free and on alloc, behind the layer: a 48-byte block freed into a cache
 * (a class of 48 bytes, the cache keeping nothing inside it) and the blocks the refill stocked it
 * with. Expect every byte of the freed block to read ALLOC_POISON_FREE_BYTE and the check to pass;
 * a byte written into it afterwards found by the check as a write after free, with no report;
 * the block handed out again to read ALLOC_POISON_ALLOC_BYTE in every byte and calloc's to read
 * zero; nothing reported and every block accounted for.
 */
static int poison_check(void) {
    if (setup_with(ALLOC_FLAG_POISON_ON_FREE | ALLOC_FLAG_POISON_ON_ALLOC, SMALL_HEAP, 1) != 0)
        return 1;
    unsigned char *a = alloc_cached_malloc(&ch, 48);
    ASSERT_TRUE(a != NULL);
    memset(a, 0x11, 48);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    for (size_t i = 0; i < 48; i++)
        ASSERT_EQ(ALLOC_POISON_FREE_BYTE, a[i]);
    ASSERT_EQ(ALLOC_OK, alloc_cached_check(&ch));
    a[47] = 0x11;
    ASSERT_EQ(ALLOC_ERR_WRITE_AFTER_FREE, alloc_cached_check(&ch));
    unsigned char *b = alloc_cached_malloc(&ch, 48);
    ASSERT_TRUE(b == a);
    for (size_t i = 0; i < 48; i++)
        ASSERT_EQ(ALLOC_POISON_ALLOC_BYTE, b[i]);
    ASSERT_EQ(ALLOC_OK, alloc_cached_check(&ch));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
    unsigned char *z = alloc_cached_calloc(&ch, 3, 16);
    ASSERT_TRUE(z == a);
    for (size_t i = 0; i < 48; i++)
        ASSERT_EQ(0, z[i]);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, z));
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * A heap that poisons on alloc only, behind the layer: a 48-byte block written, freed into a cache
 * and handed out again; then blocks over-aligned to 64 bytes (40 bytes and 0), filled to their
 * usable size and moved by realloc into a cached class.
 * Expect the block handed out again to read ALLOC_POISON_ALLOC_BYTE in every byte (only the alloc
 * poison can have put it there), and each moved block to keep its usable bytes with the rest of the
 * new block reading ALLOC_POISON_ALLOC_BYTE, as the heap poisons realloc's growth (alloc/heap.h):
 * realloc copies the old block's usable bytes, not what lies past them.
 */
static int poison_on_alloc_check(void) {
    if (setup_with(ALLOC_FLAG_POISON_ON_ALLOC, SMALL_HEAP, 1) != 0)
        return 1;
    unsigned char *a = alloc_cached_malloc(&ch, 48);
    ASSERT_TRUE(a != NULL);
    memset(a, 0x11, 48);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    ASSERT_TRUE(alloc_cached_malloc(&ch, 48) == a);
    for (size_t i = 0; i < 48; i++)
        ASSERT_EQ(ALLOC_POISON_ALLOC_BYTE, a[i]);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    static const size_t sizes[] = {40, 0};
    for (int t = 0; t < 2; t++) {
        unsigned char *b = alloc_cached_allocate(&ch, sizes[t], 64);
        ASSERT_TRUE(b != NULL);
        size_t old = alloc_cached_usable_size(&ch, b);
        fixture_fill(b, old, 12);
        unsigned char *q = alloc_cached_realloc(&ch, b, old + 16);
        ASSERT_TRUE(q != NULL && fixture_pattern_ok(q, old, 12));
        for (size_t i = old; i < alloc_cached_usable_size(&ch, q); i++)
            ASSERT_EQ(ALLOC_POISON_ALLOC_BYTE, q[i]);
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, q));
    }
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * A heap that poisons on alloc with every byte taken from the locked heap directly, then
 * malloc(48) on CPU 0.
 * Expect NULL with nothing reported: no block to hand out, none to poison.
 */
static int poison_exhausted_check(void) {
    if (setup_with(ALLOC_FLAG_POISON_ON_ALLOC, SMALL_HEAP, 1) != 0)
        return 1;
    void *fill[8];
    size_t nfill;
    if (take_free_memory(fill, &nfill) != 0)
        return 1;
    ASSERT_TRUE(alloc_cached_malloc(&ch, 48) == NULL);
    ASSERT_EQ(0, env.reports);
    for (size_t i = 0; i < nfill; i++)
        ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, fill[i]));
    return reconciled(0);
}

/*
 * A heap extended after the layer was set up, once it is full of 16 KiB blocks:
 *   | heap: 16 KiB blocks ... | extension: X (16 KiB), small blocks ... |
 * X and small blocks then come from the extension, beyond the heap's end the layer noted at init.
 * Expect them measured, resized and freed as any other, with no report (the layer looks at the
 * heap's end again before it takes a pointer for one outside the heap), and every block accounted
 * for.
 */
static int extended_heap_check(void) {
    enum { BIG = 16 * 1024, SMALL = 100, MAX_BIG = SMALL_HEAP / BIG, MAX_SMALL = 256 };
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    static void *big[MAX_BIG + 2], *small[MAX_SMALL];
    size_t nbig = 0, nsmall = 0;
    while (nbig < MAX_BIG && (big[nbig] = alloc_cached_malloc(&ch, BIG)) != NULL)
        nbig++;
    ASSERT_TRUE(nbig < MAX_BIG);
    ASSERT_EQ(ALLOC_OK, alloc_locked_extend(&locked, SMALL_HEAP));
    const unsigned char *old_end = region + SMALL_HEAP;
    unsigned char *x = NULL; /* the first may straddle the old end, with the free space before it */
    while (x == NULL || x < old_end) {
        ASSERT_TRUE(nbig <= MAX_BIG);
        x = alloc_cached_malloc(&ch, BIG);
        ASSERT_TRUE(x != NULL);
        big[nbig++] = x;
    }
    unsigned char *beyond = NULL;
    while (beyond == NULL && nsmall < MAX_SMALL) {
        unsigned char *p = alloc_cached_malloc(&ch, SMALL);
        ASSERT_TRUE(p != NULL);
        small[nsmall++] = p;
        if (p >= old_end)
            beyond = p;
    }
    ASSERT_TRUE(beyond != NULL);
    size_t klass = 0; /* the class that serves SMALL bytes: the first that holds them */
    while (class_size[klass] < SMALL)
        klass++;
    ASSERT_EQ(class_size[klass], alloc_cached_usable_size(&ch, beyond));
    ASSERT_TRUE(alloc_cached_usable_size(&ch, x) >= BIG);
    fixture_fill(x, BIG, 3);
    unsigned char *y = alloc_cached_realloc(&ch, x, BIG / 2);
    ASSERT_TRUE(y == x && fixture_pattern_ok(y, BIG / 2, 3));
    for (size_t i = 0; i < nsmall; i++)
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, small[i]));
    for (size_t i = 0; i < nbig; i++)
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, big[i]));
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * The heap block's address of a block at the old end of an extended heap, freed before the layer
 * has looked at a pointer past that end (so the end it noted is the old one):
 *   A: the heap full, extended, then a 5000-byte block: its heap block starts at the old end
 *   B: 64 bytes left free at the old end, extended, then one refill's batch of 16-byte blocks,
 *      carved from there on: the second one's user pointer is the old end
 * Expect each refused as a foreign pointer and reported once, the block still live and intact (as
 * heap_block_address_check), then freed normally.
 */
static int heap_block_at_old_end_check(void) {
    static const struct {
        size_t left, size, count; /* bytes left free, then count blocks of size bytes */
        size_t past;              /* the one whose user pointer lies this far past the old end */
    } cases[] = {{0, 5000, 1, ALLOC_CPU_CACHE_PREFIX}, {64, 16, ALLOC_CPU_CACHE_MAX_DEPTH / 2, 0}};
    for (int c = 0; c < 2; c++) {
        if (setup(SMALL_HEAP, 1) != 0)
            return 1;
        void *filler = alloc_locked_malloc(&locked, hstats().largest_free - cases[c].left);
        ASSERT_TRUE(filler != NULL);
        ASSERT_EQ(ALLOC_OK, alloc_locked_extend(&locked, SMALL_HEAP));
        unsigned char *p[ALLOC_CPU_CACHE_MAX_DEPTH / 2], *at = NULL;
        for (size_t i = 0; i < cases[c].count; i++) {
            p[i] = alloc_cached_malloc(&ch, cases[c].size);
            ASSERT_TRUE(p[i] != NULL);
            if (p[i] == region + SMALL_HEAP + cases[c].past)
                at = p[i];
        }
        ASSERT_TRUE(at != NULL);
        fixture_fill(at, cases[c].size, 13);
        unsigned long reports = env.reports;
        size_t live = hstats().live_allocations;
        ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, alloc_cached_free(&ch, at - ALLOC_CPU_CACHE_PREFIX));
        ASSERT_EQ(reports + 1, env.reports);
        ASSERT_EQ(live, hstats().live_allocations);
        ASSERT_TRUE(fixture_pattern_ok(at, cases[c].size, 13));
        for (size_t i = 0; i < cases[c].count; i++)
            ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[i]));
        ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, filler));
        ASSERT_EQ(reports + 1, env.reports);
        if (reconciled(0) != 0)
            return 1;
    }
    return 0;
}

/*
 * The heap block's address of an over-aligned block that straddles the heap's old end, freed
 * before the layer has looked at a pointer past that end: the heap's last bytes left free (16 to
 * 1,024 of them, the first count that gives this layout on the target), the heap extended, then
 * 3,000 bytes aligned to 256, whose heap block starts below the old end and whose pointer lies past
 * it (its prefix's offset reaches beyond the end the layer noted).
 * Expect it refused as a foreign pointer and reported once, the block still live and intact (as
 * heap_block_address_check), then freed normally.
 */
static int aligned_across_old_end_check(void) {
    unsigned char *old_end = region + SMALL_HEAP - 128, *y = NULL;
    void *filler = NULL;
    for (size_t left = 16; y == NULL && left <= 1024; left += 16) {
        if (setup(SMALL_HEAP - 128, 1) != 0)
            return 1;
        filler = alloc_locked_malloc(&locked, hstats().largest_free - left);
        ASSERT_TRUE(filler != NULL);
        ASSERT_EQ(ALLOC_OK, alloc_locked_extend(&locked, SMALL_HEAP));
        y = alloc_cached_allocate(&ch, 3000, 256);
        ASSERT_TRUE(y != NULL);
        if (y - 256 >= old_end || y <= old_end)
            y = NULL; /* not across the old end: try the next count */
    }
    ASSERT_TRUE(y != NULL);
    fixture_fill(y, 3000, 14);
    unsigned long reports = env.reports;
    size_t live = hstats().live_allocations;
    ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, alloc_cached_free(&ch, y - 256));
    ASSERT_EQ(reports + 1, env.reports);
    ASSERT_EQ(live, hstats().live_allocations);
    ASSERT_TRUE(fixture_pattern_ok(y, 3000, 14));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, y));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, filler));
    ASSERT_EQ(reports + 1, env.reports);
    return reconciled(0);
}

/*
 * A cache whose block count of a class was overwritten past the class's depth: the caller's
 * memory, not the heap's.
 * Expect alloc_cached_check to return ALLOC_ERR_CORRUPTED_HEAP and report nothing, and the layer
 * sound again once the count is restored.
 */
static int cache_count_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, alloc_cached_malloc(&ch, 100)));
    uint8_t count = caches[0].count[FILL_CLASS];
    ASSERT_TRUE(count > 0);
    caches[0].count[FILL_CLASS] = (uint8_t)(class_depth[FILL_CLASS] + 1);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_HEAP, alloc_cached_check(&ch));
    ASSERT_EQ(0, env.reports);
    caches[0].count[FILL_CLASS] = count;
    return reconciled(0);
}

/*
 * The blocks of the checks of a refused neighbour, Z, A, B and C: heap blocks of whole 64-byte
 * lines, so that at either alignment (16 or 64) each lies right after the one before.
 */
enum { NEIGHBOUR_SIZE = 48 * 64 - ALLOC_BLOCK_OVERHEAD - 64 };

/*
 * The end of those checks, with A's link restored: B, refused, still holding NEIGHBOUR_SIZE bytes
 * of pattern `seed`; Z, B and C the layer's three live blocks, every block accounted for
 * (reconciled); then the three freed, none left live. Returns 0, or 1 after printing the
 * assertion that failed.
 */
static int neighbours_kept_then_freed(void *z, void *b, void *c, unsigned seed) {
    ASSERT_TRUE(fixture_pattern_ok(b, NEIGHBOUR_SIZE, seed));
    if (reconciled(3) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, c));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, z));
    return reconciled(0);
}

/*
 * Frees and a realloc of blocks too large to cache (plain, and over-aligned: 64 bytes) whose
 * heap block has a free neighbour with its next link bent outside the heap:
 *   heap: | Z | (free A, link bent) | B | C |
 * each NEIGHBOUR_SIZE bytes from alloc_cached_allocate.
 * Expect the free of B to return ALLOC_ERR_CORRUPTED_FREE_LIST, reported once, and change
 * nothing: with A's link restored, the heap intact, B still live with its contents and counted as
 * before, and freed then. The same of a realloc of the over-aligned B to a cached size, which
 * moves it (copy, then free of B): NULL, reported once, B kept, nothing else live.
 */
static int free_damaged_neighbour_check(void) {
    for (size_t align = ALLOC_ALIGNMENT; align <= 64; align *= 4) {
        if (setup(SMALL_HEAP, 2) != 0)
            return 1;
        /* Z first: the gap an alignment may leave in front of the first block lies before it. */
        unsigned char *z = alloc_cached_allocate(&ch, NEIGHBOUR_SIZE, align);
        unsigned char *a = alloc_cached_allocate(&ch, NEIGHBOUR_SIZE, align);
        unsigned char *b = alloc_cached_allocate(&ch, NEIGHBOUR_SIZE, align);
        unsigned char *c = alloc_cached_allocate(&ch, NEIGHBOUR_SIZE, align);
        ASSERT_TRUE(z != NULL && a != NULL && b != NULL && c != NULL);
        fixture_fill(b, NEIGHBOUR_SIZE, 5);
        /* The realloc's new block from cache[0], warmed up now: no allocation meets A's link. */
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, alloc_cached_malloc(&ch, 100)));
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
        if (reconciled(3) != 0)
            return 1;
        /* A's heap payload starts at its block's front; its first word is its next link. */
        uintptr_t *link = (uintptr_t *)(a - (align > ALLOC_CPU_CACHE_PREFIX ? align : 16));
        uintptr_t saved = *link;
        struct alloc_cached_stats cbefore = cstats();
        struct alloc_stats hbefore = hstats();
        unsigned long reports = env.reports;
        *link = 0x70;
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_cached_free(&ch, b));
        ASSERT_EQ(reports + 1, env.reports);
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, env.last_error);
        if (align > ALLOC_ALIGNMENT) {
            /* Moved to a cached class: the copy made, the free of B refused, the copy dropped. */
            ASSERT_TRUE(alloc_cached_realloc(&ch, b, 100) == NULL);
            ASSERT_EQ(reports + 2, env.reports);
            ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, env.last_error);
        }
        *link = saved;
        struct alloc_cached_stats cnow = cstats();
        /* The move's copy was allocated and freed again: counted so, nothing else changed. */
        ASSERT_EQ(cbefore.live_blocks, cnow.live_blocks);
        ASSERT_EQ(cbefore.cached_blocks, cnow.cached_blocks);
        ASSERT_EQ(hbefore.live_allocations, hstats().live_allocations);
        ASSERT_TRUE(alloc_cached_usable_size(&ch, b) >= NEIGHBOUR_SIZE);
        if (neighbours_kept_then_freed(z, b, c, 5) != 0)
            return 1;
    }
    return 0;
}

/*
 * A flush whose blocks the heap refuses: cache[0] holds b0, b1, b2 of one 2048-byte batch
 * (b3, the last, is the user's), b3 is freed straight to the heap from a CPU without a cache and
 * its next link bent outside the heap:
 *   heap: | b0 | b1 | b2 | (free b3, link bent) | the warm-up's other batches ...
 * Expect the flush to give back what the heap takes and keep the rest cached (b2, whose free
 * would merge with b3, and any other the heap refuses), each refusal reported once and every
 * block accounted for; with the link restored, the next flush gives them back.
 */
static int flush_refused_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    unsigned char *b3 = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(b3 != NULL);
    ASSERT_EQ(3, class_depth[ALLOC_CPU_CACHE_CLASSES - 1] / 2 - 1);
    env.current = 7; /* no cache: straight to the heap */
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b3));
    env.current = 0;
    if (reconciled(0) != 0)
        return 1;
    size_t cached = cstats().cached_blocks;
    uintptr_t *link = (uintptr_t *)(b3 - ALLOC_CPU_CACHE_PREFIX);
    uintptr_t saved = *link;
    *link = 0x70;
    unsigned long reports = env.reports;
    alloc_cached_flush(&ch, 0);
    /* Each block refused once, reported once: b2, b3's successor, and with first fit every block
     * whose free walks the address-ordered list past b3. */
    size_t refused = cstats().cached_blocks;
    ASSERT_TRUE(refused >= 1 && refused < cached);
    ASSERT_EQ(reports + refused, env.reports);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, env.last_error);
    *link = saved;
    if (reconciled(0) != 0)
        return 1;
    alloc_cached_flush(&ch, 0);
    ASSERT_EQ(0, cstats().cached_blocks);
    ASSERT_EQ(0, hstats().live_allocations);
    return reconciled(0);
}

/*
 * The first blocks of a 2048-byte batch with the successor of the one an allocation takes next
 * freed straight to the heap and its next link bent outside the heap (flush_refused_check's
 * layout): cache[0] holds b0, b1, b2 (b2 at the top), b3 is free in the heap.
 *   heap: | b0 | b1 | b2 | (free b3, link bent) | ...
 * Returns b3 and, in *saved, its link's value.
 */
static unsigned char *bent_after_top(uintptr_t *saved) {
    unsigned char *b3 = alloc_cached_malloc(&ch, 2048);
    if (b3 == NULL)
        return NULL;
    env.current = 7; /* no cache: straight to the heap */
    if (alloc_cached_free(&ch, b3) != ALLOC_OK)
        return NULL;
    env.current = 0;
    uintptr_t *link = (uintptr_t *)(b3 - ALLOC_CPU_CACHE_PREFIX);
    *saved = *link;
    *link = 0x70;
    return b3;
}

static void unbend(unsigned char *b3, uintptr_t saved) {
    *(uintptr_t *)(b3 - ALLOC_CPU_CACHE_PREFIX) = saved;
}

/*
 * An allocation meets a cached block whose prefix was overwritten (a write below it after its
 * free) and whose heap block the heap refuses to take back too (its free successor's link is
 * bent): b2 in bent_after_top's layout, its prefix damaged.
 * Expect the allocation to succeed with another block, the damaged prefix reported once (with
 * b2's user pointer), the heap's refusal reported once, and b2 kept out of every cache on purpose:
 * counted in quarantined_blocks, live to the heap, its prefix no longer taken for one of the
 * layer's (a stale free of it is reported and changes nothing), and every block accounted for.
 */
static int pop_refused_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    uintptr_t saved;
    unsigned char *b3 = bent_after_top(&saved);
    ASSERT_TRUE(b3 != NULL);
    /* b2's address: taken from the top of the class and put back, the heap untouched. */
    unsigned char *b2 = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(b2 != NULL && b2 < b3);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b2));
    b2[-9] ^= 1;
    unsigned long reports = env.reports;
    void *got = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(got != NULL && got != b2);
    ASSERT_EQ(reports + 2, env.reports);
    ASSERT_TRUE(env.ptr_at[reports] == b2); /* its prefix, once */
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, env.last_error);
    ASSERT_EQ(1, cstats().quarantined_blocks);
    quarantined_expected = 1;
    unbend(b3, saved);
    if (reconciled(1) != 0)
        return 1;
    ASSERT_NE(ALLOC_OK, alloc_cached_free(&ch, b2));
    ASSERT_EQ(reports + 3, env.reports);
    if (reconciled(1) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, got));
    alloc_cached_flush_all(&ch);
    ASSERT_EQ(1, hstats().live_allocations); /* b2, kept out */
    return reconciled(0);
}

/*
 * The heap block's address of a block an allocation kept out of every cache (pop_refused_check's
 * b2, quarantined), asked for its usable size once the bent link is put back.
 * Expect the heap's answer (the heap block is live) with no report: the block's prefix was cleared,
 * so the layer no longer takes its heap block for one of its own (alloc/cpu_cache.h), where a
 * prefix left as it was would make it report a foreign pointer.
 */
static int quarantined_heap_block_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    uintptr_t saved;
    unsigned char *b3 = bent_after_top(&saved);
    unsigned char *b2 = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(b3 != NULL && b2 != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b2));
    b2[-9] ^= 1;
    void *got = alloc_cached_malloc(&ch, 2048);
    unbend(b3, saved);
    ASSERT_EQ(1, cstats().quarantined_blocks);
    quarantined_expected = 1;
    unsigned long reports = env.reports;
    unsigned char *block = b2 - ALLOC_CPU_CACHE_PREFIX;
    size_t heap_usable = alloc_locked_usable_size(&locked, block);
    ASSERT_TRUE(heap_usable >= 2048 + ALLOC_CPU_CACHE_PREFIX);
    ASSERT_EQ(heap_usable, alloc_cached_usable_size(&ch, block));
    ASSERT_EQ(reports, env.reports);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, got));
    return reconciled(0);
}

/* double_free_race_check's other CPU: fills cache[0]'s class while the heap's lock is awaited. */
static struct {
    void *fill[8];
    bool filled;
} race;

static void fill_class_meanwhile(void) {
    /* The layer holds cache[0]'s lock meanwhile: nothing can slip in. */
    if (pthread_mutex_trylock(&env.cache_mutex[0]) != 0)
        return;
    pthread_mutex_unlock(&env.cache_mutex[0]);
    for (unsigned i = 0; i < 8; i++)
        (void)alloc_cached_free(&ch, race.fill[i]);
    race.filled = true;
}

/*
 * A block freed twice while it sits in cache[0], whose heap block the heap refuses (b2 of
 * bent_after_top's layout), while another CPU fills its class (2048 bytes, 8 deep) in the
 * meantime, at the moment the layer takes the heap's lock.
 * Expect the refusal returned and reported once, and the block kept in its cache (never lost):
 * once the link is restored every block is accounted for.
 */
static int double_free_race_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    ASSERT_EQ(8, class_depth[ALLOC_CPU_CACHE_CLASSES - 1]);
    uintptr_t saved;
    unsigned char *b3 = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(b3 != NULL);
    unsigned char *b2 = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(b2 != NULL && b2 < b3);
    for (unsigned i = 0; i < 8; i++) {
        race.fill[i] = alloc_cached_malloc(&ch, 2048);
        ASSERT_TRUE(race.fill[i] != NULL);
    }
    race.filled = false;
    alloc_cached_flush(&ch, 0); /* the class empty */
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b2));
    env.current = 7;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b3));
    env.current = 0;
    uintptr_t *link = (uintptr_t *)(b3 - ALLOC_CPU_CACHE_PREFIX);
    saved = *link;
    *link = 0x70;
    unsigned long reports = env.reports;
    env.on_heap_acquire = fill_class_meanwhile;
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, alloc_cached_free(&ch, b2));
    env.on_heap_acquire = NULL;
    ASSERT_EQ(reports + 1, env.reports);
    *link = saved;
    if (!race.filled) {
        for (unsigned i = 0; i < 8; i++)
            ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, race.fill[i]));
    }
    return reconciled(0);
}

/* concurrent_double_free_check's other CPU: frees the same block on CPU 1, all of it. */
static void *freed_twice;
static enum alloc_error other_cpu_result;

static void free_on_cpu_1(void) {
    unsigned was = env.current;
    env.current = 1;
    other_cpu_result = alloc_cached_free(&ch, freed_twice);
    env.current = was;
}

/*
 * One block freed on two CPUs at once: CPU 0's free has read the block's prefix (live) and is
 * about to take cache[0]'s lock when CPU 1's free of the same block runs from start to end.
 * Expect one of the two frees to succeed and the other to be reported (through the heap's hook)
 * and returned as an error, the block in one cache only: the next allocation on each CPU does not
 * hand out the same block twice, no block is reported damaged, and every block is accounted for.
 */
static int concurrent_double_free_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    freed_twice = alloc_cached_malloc(&ch, 64);
    ASSERT_TRUE(freed_twice != NULL);
    size_t cached = cstats().cached_blocks;
    env.on_cache_acquire = free_on_cpu_1;
    enum alloc_error e = alloc_cached_free(&ch, freed_twice);
    env.on_cache_acquire = NULL;
    size_t cached_now = cstats().cached_blocks;
    void *a = alloc_cached_malloc(&ch, 64);
    env.current = 1;
    void *b = alloc_cached_malloc(&ch, 64);
    ASSERT_TRUE(a != NULL && b != NULL && a != b);
    ASSERT_TRUE((e == ALLOC_OK) != (other_cpu_result == ALLOC_OK));
    ASSERT_EQ(1, env.reports);
    ASSERT_EQ(cached + 1, cached_now);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
    env.current = 0;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    return reconciled(0);
}

/*
 * A full class whose oldest half the heap refuses whole: cache[0]'s 2048-byte class (8 deep)
 * filled with p[0..7], the heap headers of p[0..3] damaged, then p[8] freed.
 * Expect p[8] to go to the heap itself, each refusal reported once, the class still full, and no
 * batch counted as returned; with the headers restored, every block accounted for.
 */
static int returns_refused_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    ASSERT_EQ(8, class_depth[ALLOC_CPU_CACHE_CLASSES - 1]);
    unsigned char *p[9];
    for (unsigned i = 0; i < 9; i++) {
        p[i] = alloc_cached_malloc(&ch, 2048);
        ASSERT_TRUE(p[i] != NULL);
    }
    alloc_cached_flush(&ch, 0);
    for (unsigned i = 0; i < 8; i++)
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[i]));
    /* The heap header's own word (size and state) is the one just below the heap's payload. */
    for (unsigned i = 0; i < 4; i++)
        ((uintptr_t *)(p[i] - ALLOC_CPU_CACHE_PREFIX))[-1] ^= 0x100;
    uint64_t returns = cstats().returns;
    unsigned long reports = env.reports;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[8]));
    ASSERT_EQ(reports + 4, env.reports);
    struct alloc_cached_stats s = cstats();
    ASSERT_EQ(8, s.cached_blocks);
    ASSERT_EQ(returns, s.returns);
    for (unsigned i = 0; i < 4; i++)
        ((uintptr_t *)(p[i] - ALLOC_CPU_CACHE_PREFIX))[-1] ^= 0x100;
    return reconciled(0);
}

/*
 * Requests too large by their bounds alone, at every alignment from 1 to the largest the layer's
 * prefix can record: the heap refuses size + offset above ALLOC_MAX_REQUEST - align' for the
 * alignment it applies (align' = max(align, ALLOC_ALIGNMENT)), and the layer asks it for
 * size + offset at align', offset = max(align', ALLOC_CPU_CACHE_PREFIX).
 * Expect one byte over that bound refused at once (no drain: the caches keep their blocks) and the
 * bound itself handed to the heap (which has not the memory: one drain): the layer's bound is the
 * heap's, for the alignment the heap applies, not the one asked for.
 */
static int direct_bound_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    for (size_t align = 1; align <= ((size_t)1 << 31) && align <= ALLOC_MAX_REQUEST / 2;
         align *= 2) {
        size_t applied = align < ALLOC_ALIGNMENT ? ALLOC_ALIGNMENT : align;
        size_t offset = applied < ALLOC_CPU_CACHE_PREFIX ? ALLOC_CPU_CACHE_PREFIX : applied;
        size_t bound = ALLOC_MAX_REQUEST - applied - offset;
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, alloc_cached_malloc(&ch, 100)));
        uint64_t drains = cstats().drains;
        ASSERT_TRUE(alloc_cached_allocate(&ch, bound + 1, align) == NULL);
        ASSERT_EQ(drains, cstats().drains);
        ASSERT_TRUE(cstats().cached_blocks > 0);
        ASSERT_TRUE(alloc_cached_allocate(&ch, bound, align) == NULL);
        ASSERT_EQ(drains + 1, cstats().drains);
    }
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * A heap-sized block grown where its successor is a free block with its next link bent outside
 * the heap, with blocks in cache[0] and plenty of memory (free_damaged_neighbour_check's layout):
 *   heap: | cached ... | Z | B | (free A, link bent) | C | free ...
 * Expect NULL, B kept with its contents, and the damaged successor reported once: the heap
 * refused the request for what it found (the locked heap counted the report), not for want of
 * memory, so no drain and no second request, which would meet A again. With A's link restored,
 * every block accounted for.
 */
static int realloc_refused_once_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, alloc_cached_malloc(&ch, 100)));
    unsigned char *z = alloc_cached_malloc(&ch, NEIGHBOUR_SIZE);
    unsigned char *b = alloc_cached_malloc(&ch, NEIGHBOUR_SIZE);
    unsigned char *a = alloc_cached_malloc(&ch, NEIGHBOUR_SIZE);
    unsigned char *c = alloc_cached_malloc(&ch, NEIGHBOUR_SIZE);
    ASSERT_TRUE(z != NULL && b != NULL && a != NULL && c != NULL);
    fixture_fill(b, NEIGHBOUR_SIZE, 8);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    uintptr_t *link = (uintptr_t *)(a - ALLOC_CPU_CACHE_PREFIX);
    uintptr_t saved = *link;
    *link = 0x70;
    unsigned long reports = env.reports;
    uint64_t drains = cstats().drains;
    ASSERT_TRUE(alloc_cached_realloc(&ch, b, 2 * NEIGHBOUR_SIZE) == NULL);
    ASSERT_EQ(reports + 1, env.reports);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, env.last_error);
    ASSERT_EQ(drains, cstats().drains);
    *link = saved;
    return neighbours_kept_then_freed(z, b, c, 8);
}

/*
 * realloc of heap-sized blocks whose heap header was overwritten (a bit of its size word): one
 * with the plain prefix, grown (the heap's own realloc path), and one over-aligned (64 bytes),
 * moved to a cached class (copied, then freed).
 * Expect NULL, the damaged header reported once for each, and nothing changed: with the header
 * restored, the block is intact and frees normally.
 */
static int realloc_bad_header_check(void) {
    enum { SIZE = 3000 };
    for (size_t align = ALLOC_ALIGNMENT; align <= 64; align *= 4) {
        if (setup(SMALL_HEAP, 2) != 0)
            return 1;
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, alloc_cached_malloc(&ch, 100)));
        unsigned char *b = alloc_cached_allocate(&ch, SIZE, align);
        ASSERT_TRUE(b != NULL);
        fixture_fill(b, SIZE, 4);
        size_t offset = align > ALLOC_CPU_CACHE_PREFIX ? align : ALLOC_CPU_CACHE_PREFIX;
        /* The heap header's own word (size and state) is the one just below the heap's payload. */
        uintptr_t *word = (uintptr_t *)(b - offset) - 1;
        *word ^= 0x100;
        unsigned long reports = env.reports;
        ASSERT_TRUE(alloc_cached_realloc(&ch, b, align > ALLOC_ALIGNMENT ? 100 : 2 * SIZE) == NULL);
        ASSERT_EQ(reports + 1, env.reports);
        *word ^= 0x100;
        ASSERT_TRUE(fixture_pattern_ok(b, SIZE, 4));
        if (reconciled(1) != 0)
            return 1;
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
        if (reconciled(0) != 0)
            return 1;
    }
    return 0;
}

/*
 * Requests the heap refuses by their bounds alone (alloc/heap.h: size or size + alignment above
 * ALLOC_MAX_REQUEST), with blocks in cache[0]: malloc, an aligned allocate and a realloc of a
 * heap-sized block, each of ALLOC_MAX_REQUEST bytes, and a small request at the largest power of
 * two, an alignment whose prefix offset plus itself wraps a 32-bit size_t.
 * Expect NULL and nothing changed: no drain (the caches keep their blocks), no report, the block
 * kept.
 */
static int oversized_no_drain_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, alloc_cached_malloc(&ch, 100)));
    unsigned char *big = alloc_cached_malloc(&ch, 5000);
    ASSERT_TRUE(big != NULL);
    struct alloc_cached_stats before = cstats();
    ASSERT_TRUE(before.cached_blocks > 0);
    ASSERT_TRUE(alloc_cached_malloc(&ch, ALLOC_MAX_REQUEST) == NULL);
    ASSERT_TRUE(alloc_cached_allocate(&ch, ALLOC_MAX_REQUEST / 2, ALLOC_MAX_REQUEST / 2) == NULL);
    ASSERT_TRUE(alloc_cached_realloc(&ch, big, ALLOC_MAX_REQUEST) == NULL);
    ASSERT_TRUE(alloc_cached_allocate(&ch, 16, ~(SIZE_MAX >> 1)) == NULL);
    struct alloc_cached_stats now = cstats();
    ASSERT_EQ(0, now.drains);
    ASSERT_EQ(before.cached_blocks, now.cached_blocks);
    ASSERT_EQ(0, env.reports);
    ASSERT_TRUE(alloc_cached_usable_size(&ch, big) >= 5000);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, big));
    return reconciled(0);
}

/*
 * realloc through every path: within a class (in place), to a larger class, from a class to a
 * heap-sized block, a heap-sized block grown and shrunk, and over-aligned blocks; calloc.
 * Expect contents kept to the smaller size, the promised alignment, calloc memory zeroed to its
 * usable size (as the heap's calloc) even from a dirty cached block, and NULL for overflowing
 * sizes.
 */
static int realloc_calloc_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    unsigned char *p = alloc_cached_malloc(&ch, 20);
    fixture_fill(p, 20, 1);
    ASSERT_TRUE(alloc_cached_realloc(&ch, p, 32) == p);
    unsigned char *q = alloc_cached_realloc(&ch, p, 100);
    ASSERT_TRUE(q != NULL && fixture_pattern_ok(q, 20, 1));
    fixture_fill(q, 100, 2);
    p = alloc_cached_realloc(&ch, q, 3000);
    ASSERT_TRUE(p != NULL && fixture_pattern_ok(p, 100, 2));
    fixture_fill(p, 3000, 3);
    q = alloc_cached_realloc(&ch, p, 9000);
    ASSERT_TRUE(q != NULL && fixture_pattern_ok(q, 3000, 3));
    ASSERT_TRUE(alloc_cached_usable_size(&ch, q) >= 9000);
    p = alloc_cached_realloc(&ch, q, 10);
    ASSERT_TRUE(p != NULL && fixture_pattern_ok(p, 10, 3));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p));

    for (size_t align = 32; align <= 4096; align *= 2) {
        unsigned char *a = alloc_cached_allocate(&ch, 40, align);
        ASSERT_TRUE(a != NULL);
        ASSERT_EQ(0, (uintptr_t)a % align);
        ASSERT_TRUE(alloc_cached_usable_size(&ch, a) >= 40);
        fixture_fill(a, 40, 4);
        unsigned char *b = alloc_cached_realloc(&ch, a, 500);
        ASSERT_TRUE(b != NULL && fixture_pattern_ok(b, 40, 4));
        ASSERT_EQ(0, (uintptr_t)b % ALLOC_ALIGNMENT);
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
    }
    ASSERT_TRUE(alloc_cached_allocate(&ch, 16, 48) == NULL);
    ASSERT_TRUE(alloc_cached_allocate(&ch, 16, 0) == NULL);
    ASSERT_TRUE(alloc_cached_malloc(&ch, SIZE_MAX - 8) == NULL);

    unsigned char *d = alloc_cached_malloc(&ch, 100);
    size_t usable = alloc_cached_usable_size(&ch, d);
    ASSERT_TRUE(usable >
                100); /* the class's size: calloc must clear what it does not ask for too */
    memset(d, 0xff, usable);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, d));
    unsigned char *z = alloc_cached_calloc(&ch, 10, 10);
    ASSERT_TRUE(z == d);
    ASSERT_EQ(usable, alloc_cached_usable_size(&ch, z));
    for (size_t i = 0; i < usable; i++)
        ASSERT_EQ(0, z[i]);
    ASSERT_TRUE(alloc_cached_calloc(&ch, SIZE_MAX / 2, 3) == NULL);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, z));
    ASSERT_TRUE(alloc_cached_realloc(&ch, NULL, 50) != NULL);
    ASSERT_EQ(0, env.reports);
    return reconciled(1);
}

/*
 * A caller whose CPU index is out of range (cpu_id returns ncpus or more).
 * Expect its requests served straight from the heap, correctly, with nothing cached and no
 * cache lock asked for.
 */
static int uncached_cpu_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    env.current = 2;
    unsigned long cache_locks[MAX_CPUS];
    for (unsigned c = 0; c < MAX_CPUS; c++)
        cache_locks[c] = atomic_load(&env.cache_acquired[c]);
    void *p[10];
    for (int i = 0; i < 10; i++) {
        p[i] = alloc_cached_malloc(&ch, 16 * (size_t)(i + 1));
        ASSERT_TRUE(p[i] != NULL);
        fixture_fill(p[i], 16 * (size_t)(i + 1), (unsigned)i);
    }
    for (int i = 0; i < 10; i++) {
        ASSERT_TRUE(fixture_pattern_ok(p[i], 16 * (size_t)(i + 1), (unsigned)i));
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[i]));
    }
    for (unsigned c = 0; c < MAX_CPUS; c++) /* before cstats, which takes every cache's lock */
        ASSERT_EQ(cache_locks[c], atomic_load(&env.cache_acquired[c]));
    struct alloc_cached_stats s = cstats();
    ASSERT_EQ(0, s.cached_blocks);
    ASSERT_EQ(10, s.allocations);
    ASSERT_EQ(0, s.hits);
    return reconciled(0);
}

/*
 * A block freed into cache[1], then the layer set up again over the same heap with one CPU (the
 * same layer and heap, so the block's prefix still checks out), then the block freed.
 * Expect the free passed to the heap, which reports it: an error, one report, the heap's live
 * blocks as they were, and the cache past the layer's one untouched (as flush_check asserts of a
 * flush).
 */
static int reinit_fewer_cpus_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    env.current = 1;
    void *a = alloc_cached_malloc(&ch, 100);
    ASSERT_TRUE(a != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    env.current = 0;
    ASSERT_EQ(ALLOC_OK, alloc_cached_init(&ch, &locked, caches, 1, &ops));
    unsigned k = 0; /* the class that serves 100 bytes */
    while (class_size[k] < 100)
        k++;
    uint8_t count = caches[1].count[k];
    size_t live = hstats().live_allocations;
    ASSERT_NE(ALLOC_OK, alloc_cached_free(&ch, a));
    ASSERT_EQ(1, env.reports);
    ASSERT_EQ(live, hstats().live_allocations);
    ASSERT_EQ(count, caches[1].count[k]);
    ASSERT_EQ(0, atomic_load(&env.bad_index));
    return 0;
}

/* ---- refills the heap cannot serve in full, refused frees, double frees ---- */

/* The class short_refill_check refills: 2048 bytes, 8 deep, so a refill asks for 4 blocks. */
#define LAST_CLASS (ALLOC_CPU_CACHE_CLASSES - 1u)
/* The heap bytes one block of that class takes: its class size, the prefix, the heap's header. */
#define LAST_BLOCK (2048u + ALLOC_CPU_CACHE_PREFIX + ALLOC_BLOCK_OVERHEAD)
/* Free space left beside the blocks a short refill gets: a batch of the smallest class fits. */
#define SCRAPS 1024u

/*
 * A cold cache whose refills of the 2048-byte class (8 deep: a refill asks for 4 blocks) the heap
 * can serve only in part, its free space cut down by a block taken from the locked heap directly
 * (a filler, not the layer's):
 *   | filler  | free: 1 block + SCRAPS |            malloc(2048) -> p1: the refill gets 1 block
 *   | filler' | free: 2 blocks + SCRAPS | p1 | ... | malloc(2048) -> p2, then p3: it gets 2
 *   the filler freed:                               malloc(2048) -> p4: the next refill
 * Expect each short refill to take the heap's lock once and stock nothing else (the warm-up stops
 * at the first allocation that fails, though SCRAPS would hold a batch of the smallest class):
 * the first hands out the one block it got (no request of the heap's own, no drain), the second
 * one of its two, the other cached and handed out next without the heap's lock. Expect the cache
 * still cold (it has not warmed up), so its next refill, with memory back, fetches the class's
 * half under one acquisition and warms up every other class too.
 */
static int short_refill_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    ASSERT_EQ(2048, class_size[LAST_CLASS]);
    ASSERT_EQ(8, class_depth[LAST_CLASS]);
    size_t halves = warm_up_blocks();
    void *filler = alloc_locked_malloc(&locked, hstats().largest_free - (LAST_BLOCK + SCRAPS));
    ASSERT_TRUE(filler != NULL);
    unsigned long before = atomic_load(&env.heap_acquired);
    void *p1 = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(p1 != NULL);
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    struct alloc_cached_stats s = cstats();
    ASSERT_EQ(0, s.cached_blocks);
    ASSERT_EQ(1, s.refills);
    ASSERT_EQ(0, s.drains);

    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, filler));
    filler = alloc_locked_malloc(&locked, hstats().largest_free - (2 * LAST_BLOCK + SCRAPS));
    ASSERT_TRUE(filler != NULL);
    before = atomic_load(&env.heap_acquired);
    void *p2 = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(p2 != NULL);
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    s = cstats();
    ASSERT_EQ(1, s.cached_blocks);
    ASSERT_EQ(0, s.hits);
    before = atomic_load(&env.heap_acquired);
    void *p3 = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(p3 != NULL && p3 != p2);
    ASSERT_EQ(before, atomic_load(&env.heap_acquired));
    s = cstats();
    ASSERT_EQ(0, s.cached_blocks);
    ASSERT_EQ(1, s.hits);
    ASSERT_EQ(2, s.refills);
    ASSERT_EQ(0, s.drains);

    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, filler));
    before = atomic_load(&env.heap_acquired);
    void *p4 = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(p4 != NULL);
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    ASSERT_EQ(class_depth[LAST_CLASS] / 2 - 1, caches[0].count[LAST_CLASS]);
    ASSERT_EQ(halves - 1, cstats().cached_blocks);
    void *p[] = {p1, p2, p3, p4};
    for (unsigned i = 0; i < 4; i++)
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[i]));
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * A cold cache's first refill with no block left in the heap: every byte of it taken from the
 * locked heap directly (fillers, not the layer's), then malloc(48) on CPU 0.
 * Expect NULL with nothing reported (the heap reports no shortage), every cache drained once and
 * the counters as they were but for the refill (one acquisition of the heap's lock) and the drain:
 * no allocation, hit or flush counted, nothing cached or kept out. A drained cache needs no
 * warm-up: alloc_cached_warm says so without the heap's lock, and with the fillers freed the next
 * malloc(48) fetches its own class only, under one acquisition.
 */
static int first_refill_fails_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    void *fill[8];
    size_t nfill;
    if (take_free_memory(fill, &nfill) != 0)
        return 1;
    ASSERT_TRUE(alloc_locked_malloc(&locked, 48 + ALLOC_CPU_CACHE_PREFIX) == NULL);
    struct alloc_cached_stats was = cstats();
    ASSERT_EQ(0, was.refills);
    unsigned long before = atomic_load(&env.heap_acquired);
    ASSERT_TRUE(alloc_cached_malloc(&ch, 48) == NULL);
    ASSERT_TRUE(atomic_load(&env.heap_acquired) > before);
    ASSERT_EQ(0, env.reports);
    struct alloc_cached_stats s = cstats();
    ASSERT_EQ(was.allocations, s.allocations);
    ASSERT_EQ(was.frees, s.frees);
    ASSERT_EQ(0, s.live_blocks);
    ASSERT_EQ(0, s.hits);
    ASSERT_EQ(0, s.cached_blocks);
    ASSERT_EQ(0, s.cached_bytes);
    ASSERT_EQ(1, s.refills); /* the failed refill took the heap's lock; nothing served directly */
    ASSERT_EQ(was.drains + 1, s.drains);
    ASSERT_EQ(0, s.flushes);
    ASSERT_EQ(0, s.quarantined_blocks);
    ASSERT_EQ(ALLOC_OK, alloc_cached_check(&ch));
    before = atomic_load(&env.heap_acquired);
    ASSERT_TRUE(alloc_cached_warm(&ch, 0));
    ASSERT_TRUE(alloc_cached_warm(&ch, 1));
    ASSERT_EQ(before, atomic_load(&env.heap_acquired));
    for (size_t i = 0; i < nfill; i++)
        ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, fill[i]));
    before = atomic_load(&env.heap_acquired);
    void *a = alloc_cached_malloc(&ch, 48);
    ASSERT_TRUE(a != NULL);
    ASSERT_EQ(before + 1, atomic_load(&env.heap_acquired));
    ASSERT_EQ(class_depth[2] / 2 - 1, cstats().cached_blocks);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * A warm-up that cannot fill its first class: on a heap with runs, twenty 32-byte blocks taken
 * from the locked heap directly (one run of 32-byte slots, ten slots left free: 16-byte blocks and
 * their prefixes fit them), and two of 48 bytes, one freed again (a run of 48-byte slots with
 * free slots), then every other byte taken too; then alloc_cached_warm on CPU 0.
 * Expect the warm-up to stop at the first class it could not stock with half its depth: no class
 * after it gets a block (alloc/cpu_cache.h: "until an allocation fails"), though the 48-byte slots
 * could stock the next. (Without runs the 32-byte blocks are ordinary ones, and nothing is left.)
 */
static int warm_up_stops_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    void *small[20], *fill[8];
    for (unsigned i = 0; i < 20; i++) {
        small[i] = alloc_locked_malloc(&locked, 32);
        ASSERT_TRUE(small[i] != NULL);
    }
    void *kept = alloc_locked_malloc(&locked, 48);
    ASSERT_TRUE(kept != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, alloc_locked_malloc(&locked, 48)));
    size_t nfill;
    if (take_free_memory(fill, &nfill) != 0)
        return 1;
    ASSERT_TRUE(alloc_cached_warm(&ch, 0));
    unsigned k = 0;
    while (k < ALLOC_CPU_CACHE_CLASSES && caches[0].count[k] == class_depth[k] / 2)
        k++;
    for (k++; k < ALLOC_CPU_CACHE_CLASSES; k++)
        ASSERT_EQ(0, caches[0].count[k]);
    alloc_cached_flush(&ch, 0);
    for (unsigned i = 0; i < 20; i++)
        ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, small[i]));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, kept));
    for (size_t i = 0; i < nfill; i++)
        ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, fill[i]));
    ASSERT_EQ(0, env.reports);
    return reconciled(0);
}

/*
 * A free the heap refuses from a full class: cache[0]'s 2048-byte class (8 deep) filled with
 * p[0..7], the heap headers of p[0..3] (the oldest half) and of p[8] damaged, then p[8] freed
 * (returns_refused_check's layout, p[8] damaged too).
 * Expect the refusal returned and reported (five reports: the oldest half and p[8]), and no free
 * counted (alloc_cached_stats counts successful frees): p[8] still live, the user's, unchanged;
 * with the headers restored it is measured without a report, every block is accounted for, and it
 * frees normally.
 */
static int refused_full_free_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    ASSERT_EQ(8, class_depth[LAST_CLASS]);
    unsigned char *p[9];
    for (unsigned i = 0; i < 9; i++) {
        p[i] = alloc_cached_malloc(&ch, 2048);
        ASSERT_TRUE(p[i] != NULL);
    }
    alloc_cached_flush(&ch, 0);
    for (unsigned i = 0; i < 8; i++)
        ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[i]));
    fixture_fill(p[8], 2048, 11);
    /* The heap header's own word (size and state) is the one just below the heap's payload. */
    static const unsigned damaged[] = {0, 1, 2, 3, 8};
    for (unsigned i = 0; i < 5; i++)
        ((uintptr_t *)(p[damaged[i]] - ALLOC_CPU_CACHE_PREFIX))[-1] ^= 0x100;
    struct alloc_cached_stats was = cstats();
    ASSERT_EQ(1, was.live_blocks);
    unsigned long reports = env.reports;
    enum alloc_error e = alloc_cached_free(&ch, p[8]);
    ASSERT_NE(ALLOC_OK, e);
    ASSERT_EQ(reports + 5, env.reports);
    ASSERT_EQ(e, env.last_error);
    struct alloc_cached_stats s = cstats();
    ASSERT_EQ(was.frees, s.frees);
    ASSERT_EQ(1, s.live_blocks);
    ASSERT_EQ(8, s.cached_blocks);
    for (unsigned i = 0; i < 5; i++)
        ((uintptr_t *)(p[damaged[i]] - ALLOC_CPU_CACHE_PREFIX))[-1] ^= 0x100;
    ASSERT_EQ(2048, alloc_cached_usable_size(&ch, p[8]));
    ASSERT_EQ(reports + 5, env.reports);
    ASSERT_TRUE(fixture_pattern_ok(p[8], 2048, 11));
    if (reconciled(1) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p[8]));
    ASSERT_EQ(was.frees + 1, cstats().frees);
    return reconciled(0);
}

/*
 * A cached-size block freed on a CPU without a cache (cpu_id >= ncpus: straight to the heap) with
 * its heap header damaged.
 * Expect the refusal returned and reported once, no free counted, and the block the user's again,
 * unchanged: with the header restored it is measured (its class's size) without a report and
 * frees normally.
 */
static int uncached_refused_free_check(void) {
    if (setup(SMALL_HEAP, 2) != 0)
        return 1;
    env.current = 7;
    unsigned char *a = alloc_cached_malloc(&ch, 100);
    ASSERT_TRUE(a != NULL);
    uintptr_t *word = (uintptr_t *)(a - ALLOC_CPU_CACHE_PREFIX) - 1;
    *word ^= 0x100;
    uint64_t frees = cstats().frees;
    ASSERT_NE(ALLOC_OK, alloc_cached_free(&ch, a));
    ASSERT_EQ(1, env.reports);
    ASSERT_EQ(frees, cstats().frees);
    *word ^= 0x100;
    ASSERT_EQ(112, alloc_cached_usable_size(&ch, a)); /* the class 100 bytes round up to */
    ASSERT_EQ(1, env.reports);
    if (reconciled(1) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    ASSERT_EQ(1, env.reports);
    return reconciled(0);
}

/*
 * A double free of a cached block below the top of its class: a then b (100 bytes) freed into
 * cache[0], then a freed again.
 * Expect the double free reported once (at a's heap block, 16 bytes below a), a taken out of the
 * cache and b kept: the next allocation of the class hands out b, never a, and every block is
 * accounted for.
 */
static int double_free_below_top_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    unsigned char *a = alloc_cached_malloc(&ch, 100);
    unsigned char *b = alloc_cached_malloc(&ch, 100);
    ASSERT_TRUE(a != NULL && b != NULL && a != b);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
    size_t cached = cstats().cached_blocks;
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_cached_free(&ch, a));
    ASSERT_EQ(1, env.reports);
    ASSERT_TRUE(env.last_ptr == a - ALLOC_CPU_CACHE_PREFIX);
    ASSERT_EQ(cached - 1, cstats().cached_blocks);
    if (reconciled(0) != 0)
        return 1;
    void *c = alloc_cached_malloc(&ch, 100);
    ASSERT_TRUE(c == b);
    ASSERT_EQ(1, env.reports);
    if (reconciled(1) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, c));
    return reconciled(0);
}

/*
 * An allocation meets a cached block whose whole prefix was overwritten (a 64-byte block freed
 * into cache[0], its 16 bytes below then written with 0x41).
 * Expect the allocation to succeed with another block, the block reported once, as a foreign
 * pointer at its user pointer (the heap's free of that pointer), and given back to the heap: not
 * kept out (the heap takes it), every block accounted for.
 */
static int pop_meets_overwritten_prefix_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    unsigned char *a = alloc_cached_malloc(&ch, 64);
    ASSERT_TRUE(a != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    size_t cached = cstats().cached_blocks;
    memset(a - ALLOC_CPU_CACHE_PREFIX, 0x41, ALLOC_CPU_CACHE_PREFIX);
    void *b = alloc_cached_malloc(&ch, 64);
    ASSERT_TRUE(b != NULL && b != a);
    ASSERT_EQ(1, env.reports);
    ASSERT_EQ(ALLOC_ERR_FOREIGN_POINTER, env.error_at[0]);
    ASSERT_TRUE(env.ptr_at[0] == a);
    struct alloc_cached_stats s = cstats();
    ASSERT_EQ(cached - 2, s.cached_blocks);
    ASSERT_EQ(0, s.quarantined_blocks);
    if (reconciled(1) != 0)
        return 1;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
    return reconciled(0);
}

/*
 * A block the layer gave back to the heap, freed again while its prefix still says so: a and b,
 * blocks of one 2048-byte batch (too large for the heap's quick lists), freed into cache[0] and
 * flushed with the rest of the batch (b's heap block merges into a free neighbour, so the heap
 * writes nothing into b), then b freed.
 * Expect the free refused and reported once, as a double free at b's heap block (16 bytes below
 * b), as alloc/cpu_cache.h says of a block whose prefix still says given back; nothing else
 * changes.
 */
static int returned_block_freed_again_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    unsigned char *a = alloc_cached_malloc(&ch, 2048);
    unsigned char *b = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(a != NULL && b != NULL && a != b);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, a));
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, b));
    alloc_cached_flush(&ch, 0);
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, alloc_cached_free(&ch, b));
    ASSERT_EQ(1, env.reports);
    ASSERT_EQ(ALLOC_ERR_DOUBLE_FREE, env.last_error);
    ASSERT_TRUE(env.last_ptr == b - ALLOC_CPU_CACHE_PREFIX);
    ASSERT_EQ(0, hstats().live_allocations);
    return reconciled(0);
}

/*
 * A cold cache's first refill meets damage: the one free block the heap has (4,000 bytes, every
 * other byte taken from the locked heap directly) has its next link bent to 0x70, then
 * malloc(2048) on CPU 0.
 * Expect NULL, the damage reported as a corrupted free list, at most twice (alloc/cpu_cache.h: the
 * refill's batch request and the direct request after it each meet it), and no drain (the heap
 * was not short of memory). With the link put back, the same request succeeds.
 */
static int damaged_refill_reported_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    void *x = alloc_locked_malloc(&locked, 4000);
    void *guard = alloc_locked_malloc(&locked, 64);
    void *rest = alloc_locked_malloc(&locked, hstats().largest_free);
    ASSERT_TRUE(x != NULL && guard != NULL && rest != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, x));
    uintptr_t *link = x;
    uintptr_t saved = *link;
    *link = 0x70;
    uint64_t drains = cstats().drains;
    ASSERT_TRUE(alloc_cached_malloc(&ch, 2048) == NULL);
    ASSERT_TRUE(env.reports >= 1 && env.reports <= 2);
    for (unsigned long i = 0; i < env.reports; i++)
        ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, env.error_at[i]);
    ASSERT_EQ(drains, cstats().drains);
    unsigned long reports = env.reports;
    *link = saved;
    void *p = alloc_cached_malloc(&ch, 2048);
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ(reports, env.reports);
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, guard));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, rest));
    return reconciled(0);
}

/*
 * Damage only a refill's batch request meets: a free block of 32 bytes and one of 4,000 (its next
 * link bent to 0x70), every other byte taken from the locked heap directly, then malloc(16) on a
 * cold CPU 0. The batch asks the heap for one block to hold the whole batch, which only the
 * damaged one could; one block of the class fits the 32-byte one.
 * Expect the damage reported once, and the request served all the same, by the direct request
 * after the refill: a layer that gave up after the refill's report would return NULL here, though
 * the heap has the block.
 */
static int batch_damage_served_directly_check(void) {
    if (setup(SMALL_HEAP, 1) != 0)
        return 1;
    void *y = alloc_locked_malloc(&locked, 32);
    void *guard1 = alloc_locked_malloc(&locked, 64);
    void *x = alloc_locked_malloc(&locked, 4000);
    void *guard2 = alloc_locked_malloc(&locked, 64);
    void *rest = alloc_locked_malloc(&locked, hstats().largest_free);
    ASSERT_TRUE(y != NULL && guard1 != NULL && x != NULL && guard2 != NULL && rest != NULL);
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, y));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, x));
    uintptr_t *link = x;
    uintptr_t saved = *link;
    *link = 0x70;
    void *p = alloc_cached_malloc(&ch, 16);
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ(1, env.reports);
    ASSERT_EQ(ALLOC_ERR_CORRUPTED_FREE_LIST, env.last_error);
    *link = saved;
    ASSERT_EQ(ALLOC_OK, alloc_cached_free(&ch, p));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, guard1));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, guard2));
    ASSERT_EQ(ALLOC_OK, alloc_locked_free(&locked, rest));
    return reconciled(0);
}

/* ---- the threaded stress check ---- */

#define THREADS     4
#define STRESS_OPS  60000 /* per thread; argv[1] changes it (fewer under an emulator) */
#define SLOTS       48
#define MAILBOX_CAP 256

static struct {
    pthread_mutex_t mutex;
    unsigned char *p[MAILBOX_CAP];
    size_t n[MAILBOX_CAP];
    unsigned seed[MAILBOX_CAP];
    size_t count;
} mailbox = {.mutex = PTHREAD_MUTEX_INITIALIZER};

static atomic_int stress_failures;
static atomic_ulong stress_allocs, stress_frees;
static unsigned stress_cpus;
static unsigned long stress_ops = STRESS_OPS;

static void stress_fail(const char *what, unsigned id) {
    fprintf(stderr, "cpu_cache_test: stress thread %u: %s\n", id, what);
    atomic_fetch_add(&stress_failures, 1);
}

static uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void stress_free(unsigned char *p, size_t n, unsigned seed, unsigned id) {
    if (!fixture_pattern_ok(p, n, seed))
        stress_fail("block changed before free", id);
    if (alloc_cached_free(&ch, p) != ALLOC_OK)
        stress_fail("free failed", id);
    atomic_fetch_add(&stress_frees, 1);
}

static void *stress_worker(void *arg) {
    unsigned id = (unsigned)(uintptr_t)arg;
    thread_cpu = (int)(id % stress_cpus); /* with fewer CPUs than threads, caches are shared */
    uint64_t rng = 0x9e3779b97f4a7c15ull * (id + 1);
    unsigned char *p[SLOTS] = {0};
    size_t n[SLOTS] = {0};
    unsigned seed[SLOTS] = {0};
    for (unsigned i = 0; i < stress_ops; i++) {
        unsigned k = (unsigned)(xorshift(&rng) % SLOTS);
        unsigned r = (unsigned)(xorshift(&rng) % 16);
        if (p[k] == NULL) {
            size_t size = r == 0 ? 1 + xorshift(&rng) % 8192 : xorshift(&rng) % 257;
            size_t align = r == 1 ? (size_t)32 << (xorshift(&rng) % 4) : ALLOC_ALIGNMENT;
            p[k] = r == 2 ? alloc_cached_calloc(&ch, 1, size)
                          : alloc_cached_allocate(&ch, size, align);
            if (p[k] == NULL) {
                stress_fail("allocation failed", id);
                break;
            }
            atomic_fetch_add(&stress_allocs, 1);
            if ((uintptr_t)p[k] % align != 0)
                stress_fail("misaligned block", id);
            if (r == 2) {
                for (size_t b = 0; b < size; b++) {
                    if (p[k][b] != 0) {
                        stress_fail("calloc block not zeroed", id);
                        break;
                    }
                }
            }
            n[k] = size;
            seed[k] = id * 1000003u + i;
            fixture_fill(p[k], size, seed[k]);
        } else if (r < 4) {
            if (!fixture_pattern_ok(p[k], n[k], seed[k]))
                stress_fail("block changed before realloc", id);
            size_t size = r == 0 ? 1 + xorshift(&rng) % 4096 : xorshift(&rng) % 300;
            unsigned char *q = alloc_cached_realloc(&ch, p[k], size);
            if (q == NULL) {
                stress_fail("realloc failed", id);
                break;
            }
            if (!fixture_pattern_ok(q, n[k] < size ? n[k] : size, seed[k]))
                stress_fail("contents lost by realloc", id);
            p[k] = q;
            n[k] = size;
            fixture_fill(q, size, seed[k]);
        } else if (r == 4) {
            pthread_mutex_lock(&mailbox.mutex);
            if (mailbox.count < MAILBOX_CAP) {
                mailbox.p[mailbox.count] = p[k];
                mailbox.n[mailbox.count] = n[k];
                mailbox.seed[mailbox.count] = seed[k];
                mailbox.count++;
                p[k] = NULL;
            }
            pthread_mutex_unlock(&mailbox.mutex);
        } else {
            stress_free(p[k], n[k], seed[k], id);
            p[k] = NULL;
        }
        if (i % 64 == 0) {
            /* Free blocks other threads allocated: they land in this thread's cache. */
            pthread_mutex_lock(&mailbox.mutex);
            while (mailbox.count > 0) {
                mailbox.count--;
                stress_free(mailbox.p[mailbox.count], mailbox.n[mailbox.count],
                            mailbox.seed[mailbox.count], id);
            }
            pthread_mutex_unlock(&mailbox.mutex);
        }
        if (i % 10000 == 9999)
            alloc_cached_flush(&ch, (unsigned)thread_cpu); /* as a CPU going idle would */
    }
    for (unsigned k = 0; k < SLOTS; k++) {
        if (p[k] != NULL)
            stress_free(p[k], n[k], seed[k], id);
    }
    return NULL;
}

/*
 * THREADS threads on `cpus` caches doing random allocate (plain, aligned, zeroed, some large),
 * realloc and free with every block's contents checked, cross-thread frees, and an idle flush
 * now and then.
 * Expect no failure and no report; after every thread is joined and a full flush: nothing
 * cached, no live block in the heap, the heap's check passing, allocations == frees, and the
 * heap's lock taken far less often than once per operation.
 */
static int stress(unsigned cpus) {
    if (setup(REGION_SIZE, cpus) != 0)
        return 1;
    stress_cpus = cpus;
    atomic_store(&stress_failures, 0);
    atomic_store(&stress_allocs, 0);
    atomic_store(&stress_frees, 0);
    mailbox.count = 0;
    unsigned long heap_before = atomic_load(&env.heap_acquired);
    pthread_t t[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        ASSERT_EQ(0, pthread_create(&t[i], NULL, stress_worker, (void *)(uintptr_t)i));
    for (unsigned i = 0; i < THREADS; i++)
        ASSERT_EQ(0, pthread_join(t[i], NULL));
    while (mailbox.count > 0) {
        mailbox.count--;
        stress_free(mailbox.p[mailbox.count], mailbox.n[mailbox.count], mailbox.seed[mailbox.count],
                    99);
    }
    ASSERT_EQ(0, atomic_load(&stress_failures));
    ASSERT_EQ(0, env.reports);
    struct alloc_cached_stats s = cstats();
    ASSERT_EQ(atomic_load(&stress_allocs), atomic_load(&stress_frees));
    ASSERT_TRUE(s.allocations >= atomic_load(&stress_allocs));
    if (reconciled(0) != 0)
        return 1;
    alloc_cached_flush_all(&ch);
    struct alloc_stats h = hstats();
    ASSERT_EQ(0, h.live_allocations);
    ASSERT_EQ(0, h.bytes_in_use);
    ASSERT_EQ(0, cstats().cached_blocks);
    unsigned long heap_locks = atomic_load(&env.heap_acquired) - heap_before;
    unsigned long ops = s.allocations + s.frees;
    printf("     stress on %u caches: %lu allocations, %lu hits, heap lock taken %lu times for "
           "%lu operations\n",
           cpus, (unsigned long)s.allocations, (unsigned long)s.hits, heap_locks, ops);
    ASSERT_TRUE(heap_locks < ops / 2);
    return reconciled(0);
}

static int stress_per_cpu_check(void) {
    return stress(THREADS);
}

static int stress_shared_caches_check(void) {
    return stress(2);
}

int main(int argc, char **argv) {
    if (argc > 1)
        stress_ops = strtoul(argv[1], NULL, 10);
    int passed = 0, failed = 0;
    for (variant = 0; variant < FIXTURE_VARIANT_COUNT; variant++) {
        printf("== variant %s\n", fixture_variants[variant].name);
        RUN_COUNTED_CHECK(passed, failed, init_check);
        RUN_COUNTED_CHECK(passed, failed, reuse_check);
        RUN_COUNTED_CHECK(passed, failed, classes_check);
        RUN_COUNTED_CHECK(passed, failed, bound_check);
        RUN_COUNTED_CHECK(passed, failed, warm_up_check);
        RUN_COUNTED_CHECK(passed, failed, warm_ahead_check);
        RUN_COUNTED_CHECK(passed, failed, batch_check);
        RUN_COUNTED_CHECK(passed, failed, lines_apart_check);
        RUN_COUNTED_CHECK(passed, failed, idle_flush_check);
        RUN_COUNTED_CHECK(passed, failed, realloc_local_check);
        RUN_COUNTED_CHECK(passed, failed, flush_check);
        RUN_COUNTED_CHECK(passed, failed, drain_check);
        RUN_COUNTED_CHECK(passed, failed, drain_realloc_check);
        RUN_COUNTED_CHECK(passed, failed, exhaust_check);
        RUN_COUNTED_CHECK(passed, failed, double_free_check);
        RUN_COUNTED_CHECK(passed, failed, bad_pointer_check);
        RUN_COUNTED_CHECK(passed, failed, unmapped_neighbours_check);
        RUN_COUNTED_CHECK(passed, failed, heap_block_address_check);
        RUN_COUNTED_CHECK(passed, failed, stale_pointer_after_reinit_check);
        RUN_COUNTED_CHECK(passed, failed, corrupted_cached_check);
        RUN_COUNTED_CHECK(passed, failed, cached_prefix_every_byte_check);
        RUN_COUNTED_CHECK(passed, failed, shifted_prefix_copy_check);
        RUN_COUNTED_CHECK(passed, failed, cached_bytes_check);
        RUN_COUNTED_CHECK(passed, failed, flush_meets_overwritten_prefix_check);
        RUN_COUNTED_CHECK(passed, failed, usable_of_damaged_direct_check);
        RUN_COUNTED_CHECK(passed, failed, cache_count_check);
        RUN_COUNTED_CHECK(passed, failed, extended_heap_check);
        RUN_COUNTED_CHECK(passed, failed, heap_block_at_old_end_check);
        RUN_COUNTED_CHECK(passed, failed, aligned_across_old_end_check);
        RUN_COUNTED_CHECK(passed, failed, free_damaged_neighbour_check);
        RUN_COUNTED_CHECK(passed, failed, flush_refused_check);
        RUN_COUNTED_CHECK(passed, failed, pop_refused_check);
        RUN_COUNTED_CHECK(passed, failed, quarantined_heap_block_check);
        RUN_COUNTED_CHECK(passed, failed, double_free_race_check);
        RUN_COUNTED_CHECK(passed, failed, concurrent_double_free_check);
        RUN_COUNTED_CHECK(passed, failed, returns_refused_check);
        RUN_COUNTED_CHECK(passed, failed, direct_bound_check);
        RUN_COUNTED_CHECK(passed, failed, realloc_refused_once_check);
        RUN_COUNTED_CHECK(passed, failed, realloc_bad_header_check);
        RUN_COUNTED_CHECK(passed, failed, oversized_no_drain_check);
        RUN_COUNTED_CHECK(passed, failed, poison_check);
        RUN_COUNTED_CHECK(passed, failed, poison_on_alloc_check);
        RUN_COUNTED_CHECK(passed, failed, poison_exhausted_check);
        RUN_COUNTED_CHECK(passed, failed, realloc_calloc_check);
        RUN_COUNTED_CHECK(passed, failed, uncached_cpu_check);
        RUN_COUNTED_CHECK(passed, failed, reinit_fewer_cpus_check);
        RUN_COUNTED_CHECK(passed, failed, short_refill_check);
        RUN_COUNTED_CHECK(passed, failed, first_refill_fails_check);
        RUN_COUNTED_CHECK(passed, failed, warm_up_stops_check);
        RUN_COUNTED_CHECK(passed, failed, refused_full_free_check);
        RUN_COUNTED_CHECK(passed, failed, uncached_refused_free_check);
        RUN_COUNTED_CHECK(passed, failed, double_free_below_top_check);
        RUN_COUNTED_CHECK(passed, failed, pop_meets_overwritten_prefix_check);
        RUN_COUNTED_CHECK(passed, failed, returned_block_freed_again_check);
        RUN_COUNTED_CHECK(passed, failed, damaged_refill_reported_check);
        RUN_COUNTED_CHECK(passed, failed, batch_damage_served_directly_check);
        RUN_COUNTED_CHECK(passed, failed, stress_per_cpu_check);
        RUN_COUNTED_CHECK(passed, failed, stress_shared_caches_check);
    }
    PRINT_COUNTED_SUMMARY(passed, failed);
    return failed == 0 ? 0 : 1;
}
