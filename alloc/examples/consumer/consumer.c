/*
 * consumer.c - a host program of a separate Bazel workspace that uses heapkernel's allocator
 * through local_repository: it builds a heap over a static buffer, uses both strategies and the
 * locked heap, checks the heap and prints "consumer: ok" (run.sh looks for that line).
 */
#include "alloc/heap.h"

#include <stdio.h>
#include <string.h>

static void noop(void *ctx) {
    (void)ctx;
}

static int exercise(enum alloc_strategy strategy) {
    static _Alignas(16) unsigned char region[64 * 1024];
    alloc_heap *heap;
    struct alloc_config cfg = {.strategy = strategy};
    if (alloc_heap_init(&heap, region, sizeof(region), &cfg) != ALLOC_OK)
        return 1;
    char *s = alloc_malloc(heap, 32);
    void *aligned = alloc_allocate(heap, 100, 256);
    if (s == NULL || aligned == NULL || (unsigned long)aligned % 256 != 0)
        return 1;
    static const char greeting[] = "hello from a consumer workspace";
    memcpy(s, greeting, sizeof(greeting));
    s = alloc_realloc(heap, s, 4000);
    if (s == NULL || strcmp(s, "hello from a consumer workspace") != 0)
        return 1;
    if (alloc_free(heap, s) != ALLOC_OK || alloc_free(heap, aligned) != ALLOC_OK)
        return 1;
    if (alloc_free(heap, aligned) != ALLOC_ERR_DOUBLE_FREE || alloc_heap_check(heap) != ALLOC_OK)
        return 1;
    struct alloc_stats st;
    alloc_heap_stats(heap, &st);
    printf("consumer: %s: %zu bytes managed, %zu free, %zu live\n", alloc_strategy_name(strategy),
           st.region_size, st.bytes_free, st.live_allocations);
    return st.live_allocations != 0;
}

int main(void) {
    int failed = exercise(ALLOC_STRATEGY_TLSF) + exercise(ALLOC_STRATEGY_FIRST_FIT);
    static _Alignas(16) unsigned char region[16 * 1024];
    struct alloc_locked_heap locked;
    struct alloc_lock lock = {.acquire = noop, .release = noop};
    if (alloc_locked_init(&locked, region, sizeof(region), NULL, &lock) != ALLOC_OK ||
        alloc_locked_free(&locked, alloc_locked_malloc(&locked, 10)) != ALLOC_OK)
        failed++;
    printf("consumer: %s\n", failed ? "FAILED" : "ok");
    return failed ? 1 : 0;
}
