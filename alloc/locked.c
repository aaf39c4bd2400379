/*
 * alloc/locked.c - struct alloc_locked_heap: every heap operation under an injected lock, the
 * equivalent of the tutorial's LockedHeap. The lock is whatever the caller provides: a spinlock
 * with interrupts disabled in the kernel, a mutex in host tests.
 */
#include "internal.h"

/* The heap's hook: counts the report (the heap's lock is held), then passes it on. */
static void count_report(void *ctx, enum alloc_error error, const void *ptr) {
    struct alloc_locked_heap *locked = ctx;
    locked->reports++;
    if (locked->error_hook != NULL)
        locked->error_hook(locked->error_ctx, error, ptr);
}

enum alloc_error alloc_locked_init(struct alloc_locked_heap *locked, void *region, size_t size,
                                   const struct alloc_config *config,
                                   const struct alloc_lock *lock) {
    if (locked == NULL)
        return ALLOC_ERR_NULL_HEAP;
    locked->heap = NULL;
    if (lock == NULL || lock->acquire == NULL || lock->release == NULL)
        return ALLOC_ERR_BAD_CONFIG;
    locked->lock = *lock;
    struct alloc_config counted = {.strategy = ALLOC_STRATEGY_TLSF, .flags = ALLOC_DEFAULT_FLAGS};
    if (config != NULL)
        counted = *config;
    locked->error_hook = counted.error_hook;
    locked->error_ctx = counted.error_ctx;
    locked->reports = 0;
    counted.error_hook = count_report;
    counted.error_ctx = locked;
    alloc_heap *h;
    enum alloc_error e = alloc_heap_init(&h, region, size, &counted);
    if (e == ALLOC_OK)
        locked->heap = h;
    return e;
}

/* An empty (never or unsuccessfully initialised) locked heap has no lock to take. */
static bool lock(struct alloc_locked_heap *l) {
    if (l == NULL || l->heap == NULL)
        return false;
    l->lock.acquire(l->lock.ctx);
    return true;
}

static void unlock(struct alloc_locked_heap *l) {
    l->lock.release(l->lock.ctx);
}

void *alloc_locked_allocate(struct alloc_locked_heap *l, size_t size, size_t align) {
    if (!lock(l))
        return NULL;
    void *p = alloc_allocate(l->heap, size, align);
    unlock(l);
    return p;
}

size_t alloc_locked_allocate_batch(struct alloc_locked_heap *l, size_t size, void **out, size_t n) {
    if (!lock(l))
        return 0;
    size_t got = alloc_allocate_batch(l->heap, size, out, n);
    unlock(l);
    return got;
}

void *alloc_locked_malloc(struct alloc_locked_heap *l, size_t size) {
    return alloc_locked_allocate(l, size, ALLOC_ALIGNMENT);
}

void *alloc_locked_calloc(struct alloc_locked_heap *l, size_t count, size_t size) {
    if (!lock(l))
        return NULL;
    void *p = alloc_calloc(l->heap, count, size);
    unlock(l);
    return p;
}

enum alloc_error alloc_locked_free(struct alloc_locked_heap *l, void *ptr) {
    if (ptr == NULL)
        return ALLOC_OK;
    if (!lock(l))
        return ALLOC_ERR_NULL_HEAP;
    enum alloc_error e = alloc_free(l->heap, ptr);
    unlock(l);
    return e;
}

void *alloc_locked_realloc(struct alloc_locked_heap *l, void *ptr, size_t size) {
    if (!lock(l))
        return NULL;
    void *p = alloc_realloc(l->heap, ptr, size);
    unlock(l);
    return p;
}

size_t alloc_locked_usable_size(struct alloc_locked_heap *l, const void *ptr) {
    if (!lock(l))
        return 0;
    size_t n = alloc_usable_size(l->heap, ptr);
    unlock(l);
    return n;
}

enum alloc_error alloc_locked_extend(struct alloc_locked_heap *l, size_t size) {
    if (!lock(l))
        return ALLOC_ERR_NULL_HEAP;
    enum alloc_error e = alloc_heap_extend(l->heap, size);
    unlock(l);
    return e;
}

void alloc_locked_stats(struct alloc_locked_heap *l, struct alloc_stats *out) {
    if (!lock(l)) {
        alloc_heap_stats(NULL, out);
        return;
    }
    alloc_heap_stats(l->heap, out);
    unlock(l);
}

enum alloc_error alloc_locked_check(struct alloc_locked_heap *l) {
    if (!lock(l))
        return ALLOC_ERR_NULL_HEAP;
    enum alloc_error e = alloc_heap_check(l->heap);
    unlock(l);
    return e;
}

void alloc_locked_report(struct alloc_locked_heap *l, enum alloc_error error, const void *ptr) {
    if (!lock(l))
        return;
    count_report(l, error, ptr);
    unlock(l);
}
