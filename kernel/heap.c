/* The kernel heap: its bring-up (heap.h) and the allocation API over it (kmalloc.h). */
#include "kernel/heap.h"

#include "alloc/cpu_cache.h"
#include "kernel/cpu_local.h"
#include "kernel/kmalloc.h"
#include "kernel/lib/format.h"
#include "kernel/log.h"
#include "kernel/memory.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"

static struct spinlock heap_lock = SPINLOCK_INIT("kernel heap");
static struct alloc_locked_heap kernel_heap;
static struct heap_range kernel_heap_range;

/* The per-CPU caches in front of the locked heap (//alloc:cpu_cache), once kheap_cpu_caches_enable
 * has switched them on: one cache per possible CPU, each behind its own interrupt-disabling lock
 * (an interrupt handler on the same CPU allocates too). */
static struct alloc_cpu_cache heap_caches[CPU_MAX];
static struct spinlock heap_cache_locks[CPU_MAX];
static struct alloc_cached_heap cached_heap;
static bool caches_on;

/* Misuse found by the allocator is a kernel bug: stop with what and where. The heap lock is still
 * held here, so this must not allocate. */
static void heap_misuse(void *ctx, enum alloc_error error, const void *ptr) {
    (void)ctx;
    panic("heap_misuse: %s at %p", alloc_error_name(error), ptr);
}

bool heap_range_from_boot(const char *cmdline, struct heap_range *range) {
    static const struct heap_range_limits limits = {
        .page_size = PAGE_SIZE,
        .lowest_start = IDENTITY_MAP_END,
        .highest_end = LOWER_HALF_END,
        .max_pages = 1ull << 20, /* 4 GiB */
    };
    /* Where no command line moves it: HEAP_DEFAULT_START and HEAP_DEFAULT_PAGES (machine.bzl). */
    *range = (struct heap_range){HEAP_DEFAULT_START, HEAP_DEFAULT_PAGES};
    enum heap_range_error error = heap_range_from_cmdline(cmdline, &limits, range);
    if (error != HEAP_RANGE_OK) {
        log_error("heap: range from command line \"%s\" rejected: %s", cmdline ? cmdline : "",
                  heap_range_error_name(error));
        return false;
    }
    return true;
}

struct heap_range heap_range(void) {
    return kernel_heap_range;
}

bool heap_init(struct kernel_memory *memory, struct heap_range range) {
    const uint64_t start = range.start;
    const uint64_t pages = range.pages;
    kernel_heap_range = range;
    uint64_t frames_before = memory_frame_stats(memory).allocated_frames;
    const uint64_t flags = memory_data_page_flags();
    for (uint64_t page = 0; page < pages; page++) {
        uint64_t virt = start + page * PAGE_SIZE;
        uint64_t phys = memory_frame_allocate(memory);
        if (phys == FRAME_ALLOCATOR_NO_FRAME) {
            log_error("heap: no frame left for page %llu of %llu at %p", (unsigned long long)page,
                      (unsigned long long)pages, (void *)virt);
            return false;
        }
        enum paging_error result = paging_map_page(&memory->mapper, virt, phys, flags);
        if (result != PAGING_OK) {
            log_error("heap: mapping page %p to frame %p: %s", (void *)virt, (void *)phys,
                      paging_error_name(result));
            enum frame_allocator_error freed = memory_frame_free(memory, phys);
            if (freed != FRAME_ALLOCATOR_OK) { /* the allocator just handed it out */
                panic("heap_init: freeing frame %p: %s", (void *)phys,
                      frame_allocator_error_name(freed));
            }
            return false;
        }
    }
    uint64_t frames_used = memory_frame_stats(memory).allocated_frames - frames_before;

    const struct alloc_config config = {
        .strategy = ALLOC_STRATEGY_TLSF,
        .flags = ALLOC_FLAG_POISON_ON_FREE,
        .error_hook = heap_misuse,
    };
    const struct alloc_lock lock = {.acquire = spinlock_acquire_ctx,
                                    .release = spinlock_release_ctx,
                                    .ctx = &heap_lock,
                                    .try_acquire = spinlock_try_acquire_ctx};
    enum alloc_error error = alloc_locked_init(&kernel_heap, (void *)(uintptr_t)start,
                                               pages * PAGE_SIZE, &config, &lock);
    if (error != ALLOC_OK) {
        log_error("heap: allocator init over [%p, %p): %s", (void *)start,
                  (void *)(start + pages * PAGE_SIZE), alloc_error_name(error));
        return false;
    }
    log_info("heap: initialised [%p, %p), %llu KiB, %llu pages, %llu frames used (%llu for page "
             "tables), allocator %s",
             (void *)start, (void *)(start + pages * PAGE_SIZE),
             (unsigned long long)(pages * PAGE_SIZE / 1024), (unsigned long long)pages,
             (unsigned long long)frames_used, (unsigned long long)(frames_used - pages),
             alloc_strategy_name(config.strategy));
    return true;
}

static unsigned cache_cpu_id(void *ctx) {
    (void)ctx;
    return cpu_this()->index;
}

static void cache_acquire(void *ctx, unsigned cpu) {
    (void)ctx;
    spinlock_acquire(&heap_cache_locks[cpu]);
}

static void cache_release(void *ctx, unsigned cpu) {
    (void)ctx;
    spinlock_release(&heap_cache_locks[cpu]);
}

bool kheap_cpu_caches_enable(void) {
    static char names[CPU_MAX][24];
    for (unsigned cpu = 0; cpu < CPU_MAX; cpu++) {
        format_string(names[cpu], sizeof names[cpu], "heap cache of CPU %u", cpu);
        spinlock_init(&heap_cache_locks[cpu], names[cpu]);
    }
    const struct alloc_cpu_ops ops = {cache_cpu_id, cache_acquire, cache_release, NULL};
    enum alloc_error error =
        alloc_cached_init(&cached_heap, &kernel_heap, heap_caches, CPU_MAX, &ops);
    if (error != ALLOC_OK) {
        log_error("heap: per-CPU caches: %s", alloc_error_name(error));
        return false;
    }
    caches_on = true;
    log_info("heap: per-CPU caches on: blocks up to %u bytes in %u size classes, at most %u bytes "
             "of heap per CPU",
             ALLOC_CPU_CACHE_MAX_SIZE, ALLOC_CPU_CACHE_CLASSES, ALLOC_CPU_CACHE_MAX_BYTES);
    return true;
}

bool kheap_cpu_caches_on(void) {
    return caches_on;
}

void kheap_cpu_cache_flush(void) {
    if (caches_on) {
        alloc_cached_flush_idle(&cached_heap, cpu_this()->index);
    }
}

void kheap_cpu_cache_stats(struct alloc_cached_stats *out) {
    if (caches_on) {
        alloc_cached_stats(&cached_heap, out);
    } else {
        *out = (struct alloc_cached_stats){0};
    }
}

void kheap_cpu_cache_warm(void) {
    if (caches_on) {
        alloc_cached_warm(&cached_heap, cpu_this()->index);
    }
}

void *kmalloc(size_t size) {
    return caches_on ? alloc_cached_malloc(&cached_heap, size)
                     : alloc_locked_malloc(&kernel_heap, size);
}

void *kmalloc_aligned(size_t size, size_t align) {
    return caches_on ? alloc_cached_allocate(&cached_heap, size, align)
                     : alloc_locked_allocate(&kernel_heap, size, align);
}

void *kcalloc(size_t count, size_t size) {
    return caches_on ? alloc_cached_calloc(&cached_heap, count, size)
                     : alloc_locked_calloc(&kernel_heap, count, size);
}

void *krealloc(void *ptr, size_t size) {
    return caches_on ? alloc_cached_realloc(&cached_heap, ptr, size)
                     : alloc_locked_realloc(&kernel_heap, ptr, size);
}

void kfree(void *ptr) {
    /* Errors reach heap_misuse first, which panics; this covers a heap that never initialised. */
    enum alloc_error error =
        caches_on ? alloc_cached_free(&cached_heap, ptr) : alloc_locked_free(&kernel_heap, ptr);
    if (error != ALLOC_OK) {
        panic("kfree: %s at %p", alloc_error_name(error), ptr);
    }
}

/* With the caches on, cached blocks are live to the heap: they go back first, so the figures
 * count what the kernel holds. */
void kheap_stats(struct alloc_stats *out) {
    if (caches_on) {
        alloc_cached_flush_all(&cached_heap);
    }
    alloc_locked_stats(&kernel_heap, out);
}

enum alloc_error kheap_check(void) {
    return caches_on ? alloc_cached_check(&cached_heap) : alloc_locked_check(&kernel_heap);
}

void kheap_lock_counts(uint64_t *acquires, uint64_t *contended) {
    struct spinlock_stats stats = spinlock_stats(&heap_lock);
    *acquires = stats.acquires;
    *contended = stats.contended;
}

void kheap_lock_reset_counts(void) {
    spinlock_reset_stats(&heap_lock);
}

void kheap_log_stats(const char *why) {
    struct alloc_stats stats;
    kheap_stats(&stats);
    log_info("heap: %s: region %zu, in use %zu, free %zu, largest free %zu, live %zu, peak %zu, "
             "fragments %zu",
             why, stats.region_size, stats.bytes_in_use, stats.bytes_free, stats.largest_free,
             stats.live_allocations, stats.peak_in_use, stats.free_blocks);
}
