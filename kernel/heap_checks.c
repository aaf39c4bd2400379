/* In-kernel checks that the heap really works, each printing one line (see heap_checks.h). */
#include "kernel/heap_checks.h"

#include <stdint.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/heap.h"
#include "kernel/kmalloc.h"
#include "kernel/lib/string.h"
#include "kernel/lib/vec.h"
#include "kernel/log.h"

struct point {
    int64_t x;
    int64_t y;
    const char *label;
};

static void check_boxed_struct(void) {
    struct point *point = box_new(struct point, {.x = 13, .y = -7, .label = "boxed"});
    bool ok =
        point != NULL && point->x == 13 && point->y == -7 && strcmp(point->label, "boxed") == 0;
    log_check(ok, "box", "struct point at %p reads back x=%lld y=%lld label=%s", (void *)point,
              point ? (long long)point->x : 0, point ? (long long)point->y : 0,
              point ? point->label : "-");
    box_drop(point);
}

static void check_vector_of_strings(void) {
    struct vec letters = VEC_INIT(const char *);
    static const char *const source[] = {"a", "b", "c"};
    bool pushed = true;
    for (size_t i = 0; i < 3; i++) {
        pushed = pushed && vec_push(&letters, &source[i]);
    }
    bool ok = pushed && letters.len == 3 && strcmp(VEC_AT(&letters, const char *, 0), "a") == 0 &&
              strcmp(VEC_AT(&letters, const char *, 1), "b") == 0 &&
              strcmp(VEC_AT(&letters, const char *, 2), "c") == 0 && vec_at(&letters, 3) == NULL;
    log_check(ok, "vec-strings", "vector [%s, %s, %s] of %zu items at %p",
              ok ? VEC_AT(&letters, const char *, 0) : "?",
              ok ? VEC_AT(&letters, const char *, 1) : "?",
              ok ? VEC_AT(&letters, const char *, 2) : "?", letters.len, letters.items);
    vec_drop(&letters);
}

static void check_vector_of_integers(void) {
    enum { COUNT = 1000 };
    struct vec numbers = VEC_INIT(uint64_t);
    bool pushed = true;
    for (uint64_t i = 0; i < COUNT && pushed; i++) {
        pushed = vec_push(&numbers, &i);
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < numbers.len; i++) {
        sum += VEC_AT(&numbers, uint64_t, i);
    }
    const uint64_t expected = (uint64_t)COUNT * (COUNT - 1) / 2;
    log_check(pushed && numbers.len == COUNT && sum == expected, "vec-sum",
              "vector of %zu integers (capacity %zu) sums to %llu, expected %llu", numbers.len,
              numbers.capacity, (unsigned long long)sum, (unsigned long long)expected);
    vec_drop(&numbers);
}

/* Allocates and frees blocks until twice the heap size has passed through: possible only if freed
 * memory is reused. Each block is freed only once the next is allocated and filled, and must still
 * hold its own fill then: two blocks of one size that overlapped at all would overwrite the first
 * or the last byte of one of them. */
static void check_memory_reuse(void) {
    const size_t block = PAGE_SIZE;
    const uint64_t heap_size = heap_range().pages * PAGE_SIZE;
    const uint64_t total_target = 2 * heap_size;
    uint64_t total = 0;
    uint64_t count = 0;
    uint64_t overwritten = 0;
    uint8_t *previous = NULL;
    bool allocated = true;
    while (total < total_target) {
        uint8_t *p = kmalloc(block);
        if (p == NULL) {
            allocated = false;
            break;
        }
        memset(p, (uint8_t)count, block);
        if (previous != NULL) {
            const uint8_t fill = (uint8_t)(count - 1);
            overwritten += previous[0] != fill || previous[block - 1] != fill;
            kfree(previous);
        }
        previous = p;
        total += block;
        count++;
    }
    kfree(previous);
    log_check(allocated && overwritten == 0 && total > heap_size, "reuse",
              "%llu short-lived blocks, %llu KiB in total, %llu%% of the %llu KiB heap; %llu "
              "overwritten by the next",
              (unsigned long long)count, (unsigned long long)(total / 1024),
              (unsigned long long)(total * 100 / heap_size), (unsigned long long)(heap_size / 1024),
              (unsigned long long)overwritten);
}

/* One long-lived block keeps its contents while many short-lived ones come and go around it. */
static void check_long_lived_block(void) {
    enum { LONG_LIVED_SIZE = 256, ROUNDS = 10000 };
    uint8_t *long_lived = kmalloc(LONG_LIVED_SIZE);
    if (long_lived == NULL) {
        log_check(false, "long-lived", "could not allocate the long-lived block");
        return;
    }
    for (size_t i = 0; i < LONG_LIVED_SIZE; i++) {
        long_lived[i] = (uint8_t)(i * 7 + 3);
    }
    /* The rounds made: fewer than ROUNDS when an allocation failed, which the line then says. */
    unsigned rounds = 0;
    for (; rounds < ROUNDS; rounds++) {
        size_t size = 16 + (size_t)((rounds * 2654435761u) % 1024);
        uint8_t *short_lived = kmalloc(size);
        if (short_lived == NULL) {
            break;
        }
        memset(short_lived, 0xa5, size);
        kfree(short_lived);
    }
    bool intact = true;
    for (size_t i = 0; i < LONG_LIVED_SIZE && intact; i++) {
        intact = long_lived[i] == (uint8_t)(i * 7 + 3);
    }
    log_check(intact && rounds == ROUNDS, "long-lived",
              "block at %p %s after %u short-lived allocations%s", (void *)long_lived,
              intact ? "intact" : "changed", rounds,
              rounds == ROUNDS ? "" : ", the next of them refused");
    kfree(long_lived);
}

/*
 * The default strategy must beat first fit by at least this factor on the fragmented heap below.
 * Measured under TCG on a loaded 2-core host, 2026-12-04, 11 boots of heap_test: default 353 to
 * 731 cycles per pair, first_fit/default 121 to 271; 10 boots of the allocator of the day
 * before, of this one before alloc_free moved, and of this one with alloc_free moved back off the
 * boundary by a 0x200-byte pad (an experiment, not kept): 210 to 448, ratios 303 to 502. Under TCG
 * a jump into another 4 KiB guest page is looked up rather than chained, and alloc_free had come to
 * straddle a page boundary: the figure depends on where the linker puts the fast paths, by up
 * to 1.7 times, and a busy host at times doubles the fastest batch too (13 boots of an earlier
 * version: 223 to 530). A default strategy whose allocate or free walked the fragments (a ratio
 * near 1), or that became five times slower than 353, falls below 50; layout and noise together,
 * about 2.5 times, cannot.
 */
#define BENCH_MIN_RATIO 50

/* The fragmented heap: BENCH_FILL small blocks, every other one then freed, leaves BENCH_HOLES
 * holes between the blocks still taken. */
enum { BENCH_FILL = 2000, BENCH_HOLES = BENCH_FILL / 2 };

/*
 * Cycles per allocate+free pair on the fragmented heap, whose holes the requests do not fit. TLSF
 * finds a fit in O(1); first fit walks the holes. The figure is the fastest of BATCHES batches of
 * PAIRS pairs: an interrupt or the host descheduling QEMU only ever adds cycles, so the minimum is
 * the figure a busy machine disturbs least (under TCG it still doubles at times: see
 * BENCH_MIN_RATIO).
 */
static uint64_t cycles_per_pair(enum alloc_strategy strategy, void *region, size_t size) {
    enum { BATCHES = 20, PAIRS = 100 };
    alloc_heap *heap;
    const struct alloc_config config = {.strategy = strategy};
    if (alloc_heap_init(&heap, region, size, &config) != ALLOC_OK) {
        return 0;
    }
    static void *fill[BENCH_FILL];
    for (size_t i = 0; i < BENCH_FILL; i++) {
        fill[i] = alloc_malloc(heap, 16 + (i * 37) % 240);
    }
    for (size_t i = 0; i < BENCH_FILL; i += 2) {
        alloc_free(heap, fill[i]);
    }
    uint64_t best = UINT64_MAX;
    for (size_t batch = 0; batch < BATCHES; batch++) {
        uint64_t start = cpu_rdtsc();
        for (size_t i = 0; i < PAIRS; i++) {
            void *p = alloc_malloc(heap, 300 + ((batch * PAIRS + i) * 53) % 200);
            alloc_free(heap, p);
        }
        uint64_t cycles = cpu_rdtsc() - start;
        best = cycles < best ? cycles : best;
    }
    return best / PAIRS;
}

static void run_benchmark(void) {
    const size_t region_size = 1u << 20;
    void *region = kmalloc_aligned(region_size, PAGE_SIZE);
    if (region == NULL) {
        log_check(false, "bench", "no room for a %zu KiB benchmark region", region_size / 1024);
        return;
    }
    uint64_t tlsf = cycles_per_pair(ALLOC_STRATEGY_TLSF, region, region_size);
    uint64_t first_fit = cycles_per_pair(ALLOC_STRATEGY_FIRST_FIT, region, region_size);
    log_check(tlsf != 0 && first_fit >= tlsf * BENCH_MIN_RATIO, "bench",
              "cycles per allocate+free pair on %d fragments: default (tlsf) %llu, first_fit "
              "%llu, first_fit/default %llu.%02llu (at least %d)",
              BENCH_HOLES, (unsigned long long)tlsf, (unsigned long long)first_fit,
              (unsigned long long)(tlsf ? first_fit / tlsf : 0),
              (unsigned long long)(tlsf ? (first_fit * 100 / tlsf) % 100 : 0), BENCH_MIN_RATIO);
    kfree(region);
}

static void check_everything_freed(void) {
    struct alloc_stats stats;
    kheap_stats(&stats);
    enum alloc_error integrity = kheap_check();
    log_check(stats.live_allocations == 0 && stats.bytes_in_use == 0 && integrity == ALLOC_OK,
              "all-freed", "live %zu, in use %zu, integrity %s", stats.live_allocations,
              stats.bytes_in_use, integrity == ALLOC_OK ? "ok" : alloc_error_name(integrity));
    kheap_log_stats("final statistics");
}

void heap_checks_run(void) {
    check_boxed_struct();
    check_vector_of_strings();
    check_vector_of_integers();
    check_memory_reuse();
    check_long_lived_block();
    run_benchmark();
    check_everything_freed();
}
