/*
 * alloc/cpu_cache.h - per-CPU (or per-thread) caches of small blocks in front of a locked heap,
 * so that CPUs allocating and freeing small blocks at once rarely take the heap's lock.
 *
 * The layer is built on the public interface of alloc/heap.h only. It knows nothing of CPUs or
 * threads: the caller injects "which CPU am I" and one lock per cache (struct alloc_cpu_ops), so
 * the same code serves a kernel's CPUs (a per-CPU spinlock that disables interrupts) and a hosted
 * program's threads (an index in thread-local storage and a mutex per thread).
 *
 * How it works. Every block the layer hands out is a heap block with a 16-byte prefix in front
 * of the user's pointer: the block's size class, its state (live, cached, returned) and a check
 * value derived from the pointer, the layer's address and the heap's instance (new on every init
 * of the heap, alloc_heap_instance), which a stray write is unlikely to fix up and a pointer from
 * before a re-init of the heap and the layer does not carry. A request of at most
 * ALLOC_CPU_CACHE_MAX_SIZE bytes (alignment at most ALLOC_ALIGNMENT) is rounded up to one of
 * ALLOC_CPU_CACHE_CLASSES size classes and served from the calling CPU's cache for that class; an
 * empty class is refilled with half its depth of blocks under one acquisition of the heap's lock,
 * as one batch (alloc_allocate_batch): side by side, in cache lines no other CPU's batch writes to,
 * so CPUs working on their own blocks do not slow each other down by false sharing. The first
 * refill after the cache was set up or flushed (a CPU starting, or back from idle) also stocks
 * every other empty class with half its depth, under the same acquisition, until an allocation
 * fails: a CPU warms up with one acquisition instead of one per class it touches, which, with every
 * CPU warming up at once, is where they would collide. A kernel can do better still: it flushes an
 * idle CPU with alloc_cached_flush_idle, after which refills (the idle CPU's interrupt handlers)
 * fetch only the classes they use, and calls alloc_cached_warm when a CPU starts running a thread,
 * which warms a cold cache if the heap's lock is free at once and otherwise leaves it to warm up at
 * its first refill. A free of such a block goes to the calling CPU's cache (whichever CPU allocated
 * it); a full class first returns its oldest half to the heap under one acquisition. A realloc
 * within the block's class keeps it; one to another cached class moves it through the caches only.
 * Larger or more aligned requests go to the heap directly.
 *
 * Bound. A cache holds at most a class's depth of blocks per class (ALLOC_CPU_CACHE_CLASS_LIST),
 * so at most ALLOC_CPU_CACHE_MAX_BYTES bytes of heap (payloads, prefixes, the heap's block
 * overhead and up to ALLOC_BATCH_ALIGN bytes per block that the last block of a batch may carry:
 * the rounding to a whole cache line and a remainder too small to split): 213,600 bytes. The caches
 * go back to the heap when:
 *   - the caller says so: alloc_cached_flush(cpu) or alloc_cached_flush_idle(cpu) when a CPU
 *     goes idle (an empty cache costs only its own lock, not the heap's), alloc_cached_flush_all();
 *   - memory runs short: an allocation the heap cannot serve drains every cache (each under its
 *     own lock) and retries once, so a request the whole heap could serve never fails because
 *     another CPU's cache holds the space (unless other CPUs take that space in between). Not a
 *     request the heap refused for damage it found and reported (the locked heap counts its
 *     reports): asking again would report it again.
 *
 * Bad pointers reach the heap's error reporting. A pointer outside the heap, misaligned, or
 * whose prefix does not check out is passed to the heap's free as it is: the heap diagnoses it
 * (foreign pointer, misaligned pointer) and reports it through its hook. But for the heap block's
 * own address of one of the layer's blocks (16 bytes below its pointer, or an aligned block's
 * alignment below): the heap would take it for one of its blocks, so the layer reports it itself
 * as a foreign pointer, through the same hook (alloc_locked_report), and changes nothing. A free of
 * a block that sits in a cache is taken out of the cache and freed to the heap twice, so the heap
 * reports the double free (with the heap block's address, 16 bytes below the user's pointer). A
 * free of a block the layer already gave back to the heap is passed on: as the heap block's
 * address while its prefix still says given back, else as the user's pointer (the heap's links or
 * poison may have overwritten the prefix since); the heap reports it at that address, as a double
 * free, or as a foreign pointer where the user's pointer falls inside a run slot (the layer's
 * request, prefix included, of at most ALLOC_RUN_MAX_SIZE bytes) that it does not start.
 * Of two frees of one cached-size block on two CPUs at once, one wins and the other is reported (as
 * a double free, or a foreign pointer if it meets the prefix mid-change): it is cached once. A
 * cached block whose prefix was overwritten is reported (its user pointer passed to the heap's
 * free, as above) by the allocation or flush that meets it, then given back to the heap. If the
 * heap refuses it too (damage it finds at the block or a neighbour, which it reports), a flush
 * keeps it cached; an allocation keeps it out of every cache for good, live to the heap, counted
 * in quarantined_blocks, its prefix cleared (a later free of it is a foreign pointer to the heap).
 *
 * Poison. A cached block is free to its user, though live to the heap: on a heap initialised with
 * ALLOC_FLAG_POISON_ON_FREE every byte of it is filled with ALLOC_POISON_FREE_BYTE as it enters a
 * cache (freed, or fetched by a refill), and alloc_cached_check verifies that it still reads so; on
 * one with ALLOC_FLAG_POISON_ON_ALLOC every byte of a block a cache hands out is filled with
 * ALLOC_POISON_ALLOC_BYTE (alloc_cached_calloc then clears it), as the heap does with its own.
 *
 * Accounting. Cached blocks are live blocks to the heap. When nothing else allocates from the
 * heap directly: heap live_allocations == alloc_cached_stats().live_blocks + cached_blocks +
 * quarantined_blocks.
 */
#ifndef ALLOC_CPU_CACHE_H
#define ALLOC_CPU_CACHE_H

#include "alloc/heap.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The size classes, smallest first: X(usable bytes, most blocks one cache keeps of the class).
 * Steps of 16 bytes up to 128, then four classes per power of two up to 2048 (a request above
 * 128 bytes is rounded up by less than 25 %). Depth: min(32, max(8, 8192 / size)), about 8 KiB
 * of payload per class; half of it moves between a cache and the heap under one acquisition of
 * the heap's lock.
 */
/* clang-format off */
#define ALLOC_CPU_CACHE_CLASS_LIST(X)                                                              \
    X(16, 32) X(32, 32) X(48, 32) X(64, 32) X(80, 32) X(96, 32) X(112, 32) X(128, 32)              \
    X(160, 32) X(192, 32) X(224, 32) X(256, 32)                                                    \
    X(320, 25) X(384, 21) X(448, 18) X(512, 16)                                                    \
    X(640, 12) X(768, 10) X(896, 9) X(1024, 8)                                                     \
    X(1280, 8) X(1536, 8) X(1792, 8) X(2048, 8)
/* clang-format on */
#define ALLOC_CPU_CACHE_CLASSES  24u
#define ALLOC_CPU_CACHE_MAX_SIZE 2048u
/* The deepest class: the size of a cache's slot array per class. */
#define ALLOC_CPU_CACHE_MAX_DEPTH 32u
/* Bytes of the layer's prefix in front of every user pointer. */
#define ALLOC_CPU_CACHE_PREFIX 16u

/* Terms of the sums below, one per class. */
/* NOLINTBEGIN(bugprone-macro-parentheses): a term of a sum is not an expression on its own */
#define ALLOC_CPU_CACHE_PLUS_SIZE_(size, depth) +(size)
#define ALLOC_CPU_CACHE_PLUS_BYTES_(size, depth)                                                   \
    +(depth) * ((size) + ALLOC_CPU_CACHE_PREFIX + ALLOC_BLOCK_OVERHEAD + ALLOC_BATCH_ALIGN)
/* NOLINTEND(bugprone-macro-parentheses) */
/* Sum of the usable sizes of the classes. */
#define ALLOC_CPU_CACHE_CLASS_BYTES (0u ALLOC_CPU_CACHE_CLASS_LIST(ALLOC_CPU_CACHE_PLUS_SIZE_))
/* The most heap bytes one cache holds: payloads, prefixes, block overhead, rounding. */
#define ALLOC_CPU_CACHE_MAX_BYTES (0u ALLOC_CPU_CACHE_CLASS_LIST(ALLOC_CPU_CACHE_PLUS_BYTES_))

/*
 * The injected environment. cpu_id returns the calling CPU's (or thread's) index; an index
 * >= ncpus is served straight from the heap (correct, uncached). acquire/release lock the cache
 * of the given index: they must exclude every other user of that cache, including interrupt
 * handlers on the same CPU that allocate (a kernel disables interrupts while the lock is held).
 * A thread may be moved to another CPU between cpu_id and acquire: that is harmless, the cache
 * it locks is still consistent.
 */
struct alloc_cpu_ops {
    unsigned (*cpu_id)(void *ctx);
    void (*acquire)(void *ctx, unsigned cpu);
    void (*release)(void *ctx, unsigned cpu);
    void *ctx;
};

/*
 * One CPU's cache. The caller provides an array of ncpus of them; the members are private. The
 * block counts and the counters share the first cache line, the one every operation writes;
 * caches of different CPUs share no line.
 */
struct alloc_cpu_cache {
    alignas(64) uint8_t count[ALLOC_CPU_CACHE_CLASSES];
    uint8_t warm_mode;    /* how the cache warms up next (cpu_cache.c: enum warm_mode) */
    uint64_t allocations; /* user allocations made on this CPU */
    uint64_t frees;       /* user frees made on this CPU */
    uint64_t hits;        /* allocations served from this cache */
    void *slot[ALLOC_CPU_CACHE_CLASSES][ALLOC_CPU_CACHE_MAX_DEPTH];
    uint64_t refills; /* refills and alloc_cached_warm's warm-ups: heap lock taken to stock it */
    uint64_t returns; /* batches returned to the heap from a full class (not refused whole) */
    uint64_t flushes; /* times alloc_cached_flush/_flush_all emptied this cache */
    /* Blocks kept out of every cache: prefix overwritten, and refused by the heap. */
    uint64_t quarantined;
};

/* The layer: a locked heap, the caches and the environment. Members are private. */
struct alloc_cached_heap {
    struct alloc_locked_heap *heap;
    struct alloc_cpu_cache *caches;
    unsigned ncpus;
    struct alloc_cpu_ops ops;
    uintptr_t cookie; /* mixed into every prefix's check value: address, heap's instance */
    uintptr_t base;   /* the heap's range [base, end), for checking pointers before reading */
    uintptr_t end;    /* refreshed from the heap's statistics when a pointer lies beyond it */
    unsigned poison;  /* the heap's ALLOC_FLAG_POISON_ON_FREE and _ON_ALLOC, kept by the caches */
    /* Counted under the heap's lock: */
    uint64_t direct_allocations; /* user allocations served by the heap, not a cache */
    uint64_t direct_frees;       /* user frees passed to the heap, not a cache */
    uint64_t drains;             /* drains of every cache after a failed allocation */
};

/* Figures from alloc_cached_stats(). */
struct alloc_cached_stats {
    size_t live_blocks;   /* blocks handed to users and not freed */
    size_t cached_blocks; /* blocks held in the caches (live to the heap) */
    size_t cached_bytes;  /* their class sizes plus prefixes and the heap's block overhead */
    uint64_t allocations; /* successful user allocations */
    uint64_t frees;       /* successful user frees */
    uint64_t hits;        /* allocations served from a cache without the heap's lock */
    /* Refills, alloc_cached_warm's warm-ups and allocations the heap served directly: each took
     * the heap's lock once. */
    uint64_t refills;
    uint64_t returns; /* batches returned to the heap from a full class, not refused whole */
    uint64_t drains;  /* drains of every cache after a failed allocation */
    uint64_t flushes; /* caches emptied by alloc_cached_flush/_flush_all */
    /* Blocks an allocation kept out of the caches for good (see above), live to the heap. */
    size_t quarantined_blocks;
};

/*
 * Sets up the layer over an initialised locked heap with ncpus caches (caches[0..ncpus), which
 * must stay valid as long as the layer is used). Returns ALLOC_OK, ALLOC_ERR_NULL_HEAP if
 * cached or heap is NULL or the heap is not initialised, or ALLOC_ERR_BAD_CONFIG if caches, ops
 * or one of its functions is NULL, ncpus is 0 or more than 65535.
 */
enum alloc_error alloc_cached_init(struct alloc_cached_heap *cached, struct alloc_locked_heap *heap,
                                   struct alloc_cpu_cache *caches, unsigned ncpus,
                                   const struct alloc_cpu_ops *ops);

/*
 * As alloc_allocate(): a pointer to at least size bytes aligned to align, or NULL (align not a
 * power of two, size too large, no memory even after draining every cache, or damage the heap
 * found in its free lists and reported through its hook: at most twice, as a cold class's refill
 * asks the heap for a batch and, refused, for the one block directly, and both may meet the same
 * damage; the direct request is made all the same, as it may be served where the batch was not).
 */
void *alloc_cached_allocate(struct alloc_cached_heap *cached, size_t size, size_t align);
void *alloc_cached_malloc(struct alloc_cached_heap *cached, size_t size);
/* A block of at least count * size bytes with every usable byte (alloc_cached_usable_size) zero,
 * as alloc_calloc() clears its blocks, or NULL (overflow, or the failures of the above). */
void *alloc_cached_calloc(struct alloc_cached_heap *cached, size_t count, size_t size);

/*
 * Frees ptr. Returns ALLOC_OK (also for NULL), the error the heap detected and reported
 * through its hook for a bad pointer or a double free (see above; nothing else changes), or for a
 * block it would merge with a damaged free neighbour when the block goes to the heap
 * (ALLOC_ERR_CORRUPTED_FREE_LIST; ptr stays live, nothing changes), or ALLOC_ERR_NULL_HEAP for an
 * uninitialised layer.
 */
enum alloc_error alloc_cached_free(struct alloc_cached_heap *cached, void *ptr);

/*
 * As alloc_realloc(): the block at ptr resized to at least size bytes (in place when it still
 * fits), or NULL with ptr untouched if no memory (after draining the caches, see above), ptr is
 * bad, or the heap refuses to resize ptr or take it back after a move (damage it found, reported
 * once as alloc_cached_free reports). The result is aligned to ALLOC_ALIGNMENT.
 */
void *alloc_cached_realloc(struct alloc_cached_heap *cached, void *ptr, size_t size);

/* Usable bytes at ptr, or 0 for NULL or a bad pointer (reported through the heap's hook). */
size_t alloc_cached_usable_size(struct alloc_cached_heap *cached, const void *ptr);

/*
 * Returns every block in cache `cpu` to the heap (but those the heap refuses for damage it finds
 * at the block or a neighbour, reported through its hook, which stay cached), and lets its next
 * refill (or alloc_cached_warm) warm it up again; a cache flushed by alloc_cached_flush_idle stays
 * as that left it. No-op for cpu >= ncpus. An empty cache takes no lock but its own.
 */
void alloc_cached_flush(struct alloc_cached_heap *cached, unsigned cpu);

/*
 * Warms cache `cpu` ahead of need if it is cold (set up or flushed, and not warmed up since):
 * stocks every empty class with half its depth, as the first refill would, but only if
 * the heap's lock is free at once (struct alloc_lock's try_acquire). Warming is speculative, so
 * it never waits for the heap's lock: a kernel can call it whenever a CPU starts running a
 * thread, so that CPUs starting work together do not all wait for the heap's lock at their first
 * allocation. When the lock is busy, the cache warms up at its first refill instead (also after
 * alloc_cached_flush_idle). Returns false if the cache still awaits its warm-up (the lock was
 * busy, or the heap's lock has no try_acquire) or cpu >= ncpus; true if it was warmed now or
 * needs no warm-up (warmed before, or drained because memory ran short, after which only refills
 * fetch blocks).
 */
bool alloc_cached_warm(struct alloc_cached_heap *cached, unsigned cpu);

/*
 * As alloc_cached_flush, for a CPU going idle: until alloc_cached_warm says the CPU runs threads
 * again, a refill (an interrupt handler allocating on the idle CPU) fetches its own class only,
 * so an idle CPU holds no more than its interrupt handlers use.
 */
void alloc_cached_flush_idle(struct alloc_cached_heap *cached, unsigned cpu);

/* Returns every block in every cache to the heap, as alloc_cached_flush on each. */
void alloc_cached_flush_all(struct alloc_cached_heap *cached);

/* Fills *out (all zeroes for a NULL or uninitialised layer). Takes each cache's lock in turn. */
void alloc_cached_stats(struct alloc_cached_heap *cached, struct alloc_cached_stats *out);

/*
 * Verifies every cached block (its prefix says cached, in this cache and class; the check value
 * holds) and then the heap (alloc_locked_check). Returns ALLOC_OK, ALLOC_ERR_CORRUPTED_HEADER
 * for a bad cached block (also reported through the heap's hook, by passing the block's pointer
 * to the heap's free, which reports it as a foreign pointer and changes nothing),
 * ALLOC_ERR_CORRUPTED_HEAP for a cache whose block count is out of range (not reported: the
 * cache is the caller's memory, not the heap's), ALLOC_ERR_WRITE_AFTER_FREE for a cached block
 * whose free poison was overwritten on a heap that poisons on free (not reported: the block is
 * the cache's until it is handed out again), what the heap's check returns, or
 * ALLOC_ERR_NULL_HEAP for an uninitialised layer.
 */
enum alloc_error alloc_cached_check(struct alloc_cached_heap *cached);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_CPU_CACHE_H */
