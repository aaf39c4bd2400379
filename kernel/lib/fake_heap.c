/* Host stand-in for the kernel heap (see fake_heap.h). */
#include "kernel/lib/fake_heap.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kmalloc.h"

static long allocations_left = -1;
static size_t live_blocks;

void fake_heap_fail_after(long allocations) {
    allocations_left = allocations;
}

size_t fake_heap_live_blocks(void) {
    return live_blocks;
}

static bool may_allocate(void) {
    if (allocations_left == 0) {
        return false;
    }
    if (allocations_left > 0) {
        allocations_left--;
    }
    return true;
}

void *kmalloc(size_t size) {
    void *p = may_allocate() ? malloc(size) : NULL;
    live_blocks += p != NULL;
    return p;
}

void *kmalloc_aligned(size_t size, size_t align) {
    void *p = may_allocate() ? aligned_alloc(align, (size + align - 1) / align * align) : NULL;
    live_blocks += p != NULL;
    return p;
}

void *kcalloc(size_t count, size_t size) {
    void *p = may_allocate() ? calloc(count, size) : NULL;
    live_blocks += p != NULL;
    return p;
}

void *krealloc(void *ptr, size_t size) {
    if (!may_allocate()) {
        return NULL;
    }
    void *p = malloc(size);
    if (p == NULL) {
        return NULL;
    }
    if (ptr == NULL) {
        live_blocks++;
        return p;
    }
    size_t old_size = malloc_usable_size(ptr);
    memcpy(p, ptr, old_size < size ? old_size : size);
    memset(ptr, 0xa5, old_size);
    free(ptr);
    return p;
}

void kfree(void *ptr) {
    live_blocks -= ptr != NULL;
    free(ptr);
}
