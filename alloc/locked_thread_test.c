/*
 * alloc/locked_thread_test.c - several threads hammer one struct alloc_locked_heap guarded by a
 * pthread mutex, for each strategy.
 *
 * Each thread allocates, reallocates and frees blocks of random sizes and alignments, writes a
 * pattern unique to the thread and the block into each one, and verifies the pattern before
 * every realloc and free, so two threads handed overlapping memory, or a block corrupted by a
 * race, fail the test. Some blocks are passed to another thread to free (cross-thread free).
 * At the end the heap must pass alloc_heap_check with no live blocks, and the lock must have
 * been taken exactly once per operation.
 */
#include "alloc/heap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS        4
#define OPS_PER_THREAD 200000
#define SLOTS          64
#define REGION_SIZE    (8u << 20)
#define MAILBOX        256

struct mutex_lock {
    pthread_mutex_t mutex;
    unsigned long acquisitions; /* counted under the mutex */
};

static void mutex_acquire(void *ctx) {
    struct mutex_lock *l = ctx;
    pthread_mutex_lock(&l->mutex);
    l->acquisitions++;
}

static void mutex_release(void *ctx) {
    struct mutex_lock *l = ctx;
    pthread_mutex_unlock(&l->mutex);
}

static struct alloc_locked_heap heap;
static struct mutex_lock lock = {PTHREAD_MUTEX_INITIALIZER, 0};
static atomic_ulong operations;
static atomic_int failures;
static atomic_ulong reports;

/* Blocks handed from one thread to the next for a cross-thread free. */
static struct {
    pthread_mutex_t mutex;
    unsigned char *p[MAILBOX];
    size_t n[MAILBOX];
    unsigned tag[MAILBOX];
    size_t count;
} mailbox = {.mutex = PTHREAD_MUTEX_INITIALIZER};

static void hook(void *ctx, enum alloc_error error, const void *ptr) {
    (void)ctx;
    fprintf(stderr, "locked_thread_test: unexpected report %s at %p\n", alloc_error_name(error),
            ptr);
    atomic_fetch_add(&reports, 1);
}

static uint64_t next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill(unsigned char *p, size_t n, unsigned tag) {
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(tag + i * 7);
}

static int intact(const unsigned char *p, size_t n, unsigned tag) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != (unsigned char)(tag + i * 7))
            return 0;
    }
    return 1;
}

static void fail(const char *what, unsigned thread) {
    fprintf(stderr, "locked_thread_test: thread %u: %s\n", thread, what);
    atomic_fetch_add(&failures, 1);
}

static void *worker(void *arg) {
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (id + 1);
    unsigned char *p[SLOTS] = {0};
    size_t n[SLOTS] = {0};
    unsigned tag[SLOTS] = {0};
    unsigned long ops = 0;
    for (unsigned i = 0; i < OPS_PER_THREAD; i++) {
        unsigned k = (unsigned)(next(&rng) % SLOTS);
        unsigned r = (unsigned)(next(&rng) % 10);
        if (p[k] == NULL) {
            size_t size = 1 + next(&rng) % (r == 0 ? 16384 : 512);
            size_t align = r == 1 ? (size_t)64 << (next(&rng) % 4) : 16;
            p[k] = alloc_locked_allocate(&heap, size, align);
            ops++;
            if (p[k] == NULL) {
                fail("allocation failed", id);
                break;
            }
            if ((uintptr_t)p[k] % align != 0)
                fail("misaligned block", id);
            n[k] = size;
            tag[k] = id * 1000003u + i;
            fill(p[k], size, tag[k]);
        } else if (r < 3) {
            if (!intact(p[k], n[k], tag[k]))
                fail("block changed before realloc", id);
            size_t size = 1 + next(&rng) % 2048;
            unsigned char *q = alloc_locked_realloc(&heap, p[k], size);
            ops++;
            if (q == NULL) {
                fail("realloc failed", id);
                break;
            }
            size_t keep = size < n[k] ? size : n[k];
            if (!intact(q, keep, tag[k]))
                fail("contents lost by realloc", id);
            p[k] = q;
            n[k] = size;
            fill(q, size, tag[k]);
        } else if (r == 3) {
            /* Hand the block to whichever thread empties the mailbox next. */
            pthread_mutex_lock(&mailbox.mutex);
            if (mailbox.count < MAILBOX) {
                mailbox.p[mailbox.count] = p[k];
                mailbox.n[mailbox.count] = n[k];
                mailbox.tag[mailbox.count] = tag[k];
                mailbox.count++;
                p[k] = NULL;
            }
            pthread_mutex_unlock(&mailbox.mutex);
        } else {
            if (!intact(p[k], n[k], tag[k]))
                fail("block changed before free", id);
            if (alloc_locked_free(&heap, p[k]) != ALLOC_OK)
                fail("free failed", id);
            ops++;
            p[k] = NULL;
        }
        if (i % 64 == 0) {
            pthread_mutex_lock(&mailbox.mutex);
            while (mailbox.count > 0) {
                mailbox.count--;
                unsigned char *q = mailbox.p[mailbox.count];
                if (!intact(q, mailbox.n[mailbox.count], mailbox.tag[mailbox.count]))
                    fail("handed-over block changed", id);
                if (alloc_locked_free(&heap, q) != ALLOC_OK)
                    fail("cross-thread free failed", id);
                ops++;
            }
            pthread_mutex_unlock(&mailbox.mutex);
        }
    }
    for (unsigned k = 0; k < SLOTS; k++) {
        if (p[k] != NULL) {
            if (!intact(p[k], n[k], tag[k]))
                fail("block changed before final free", id);
            if (alloc_locked_free(&heap, p[k]) != ALLOC_OK)
                fail("final free failed", id);
            ops++;
        }
    }
    atomic_fetch_add(&operations, ops);
    return NULL;
}

static int run(enum alloc_strategy strategy) {
    static _Alignas(4096) unsigned char region[REGION_SIZE];
    struct alloc_config cfg = {.strategy = strategy, .error_hook = hook};
    struct alloc_lock l = {.acquire = mutex_acquire, .release = mutex_release, .ctx = &lock};
    atomic_store(&operations, 0);
    atomic_store(&failures, 0);
    atomic_store(&reports, 0);
    lock.acquisitions = 0;
    mailbox.count = 0;
    if (alloc_locked_init(&heap, region, sizeof(region), &cfg, &l) != ALLOC_OK) {
        fprintf(stderr, "locked_thread_test: init failed\n");
        return 1;
    }
    pthread_t threads[THREADS];
    for (unsigned t = 0; t < THREADS; t++)
        pthread_create(&threads[t], NULL, worker, (void *)(uintptr_t)t);
    for (unsigned t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    while (mailbox.count > 0) {
        if (alloc_locked_free(&heap, mailbox.p[--mailbox.count]) != ALLOC_OK) {
            fprintf(stderr, "locked_thread_test: free of a block left in the mailbox failed\n");
            atomic_fetch_add(&failures, 1);
        }
        atomic_fetch_add(&operations, 1);
    }

    struct alloc_stats s;
    alloc_locked_stats(&heap, &s);
    int bad = atomic_load(&failures) != 0 || atomic_load(&reports) != 0;
    if (alloc_locked_check(&heap) != ALLOC_OK) {
        fprintf(stderr, "locked_thread_test: heap check failed\n");
        bad = 1;
    }
    if (s.live_allocations != 0 || s.bytes_in_use != 0) {
        fprintf(stderr, "locked_thread_test: %zu blocks still live\n", s.live_allocations);
        bad = 1;
    }
    /* Every counted operation took the lock once; stats and check took it twice more. */
    if (lock.acquisitions != atomic_load(&operations) + 2) {
        fprintf(stderr, "locked_thread_test: %lu lock acquisitions for %lu operations\n",
                lock.acquisitions, atomic_load(&operations));
        bad = 1;
    }
    printf("%s %s: %d threads, %lu operations\n", bad ? "FAIL" : "ok  ",
           alloc_strategy_name(strategy), THREADS, atomic_load(&operations));
    return bad;
}

int main(void) {
    int failed = run(ALLOC_STRATEGY_TLSF);
    failed += run(ALLOC_STRATEGY_FIRST_FIT);
    printf("%d passed, %d failed\n", 2 - failed, failed);
    return failed == 0 ? 0 : 1;
}
