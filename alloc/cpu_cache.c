/*
 * alloc/cpu_cache.c - per-CPU caches of small blocks in front of struct alloc_locked_heap (see
 * alloc/cpu_cache.h for the design). Uses only the public interface of alloc/heap.h.
 *
 * Locking: a cache's lock may be held while the heap's lock is taken (refill, returning a full
 * class, flush, a cached block freed twice), never the other way round, and no cache's lock is held
 * while another cache's is taken (a drain releases the caller's cache first): no cycle, so no
 * deadlock.
 */
#include "alloc/cpu_cache.h"

#include "alloc/config.h" /* the poison bytes */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PREFIX  ((size_t)ALLOC_CPU_CACHE_PREFIX)
#define CLASSES ALLOC_CPU_CACHE_CLASSES
#define DIRECT  0xffu /* the klass of a block sized by its request, never cached */

/* Checks over the class list; its terms are parts of a sum or a conjunction, not expressions. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define COUNT_CLASS(size, depth) +1
_Static_assert((0 ALLOC_CPU_CACHE_CLASS_LIST(COUNT_CLASS)) == CLASSES,
               "cpu_cache: ALLOC_CPU_CACHE_CLASSES disagrees with the class list");
#define DEPTH_FITS(size, depth) &&(depth) >= 2 && (depth) <= ALLOC_CPU_CACHE_MAX_DEPTH
_Static_assert(1 ALLOC_CPU_CACHE_CLASS_LIST(DEPTH_FITS),
               "cpu_cache: a class depth is outside 2..ALLOC_CPU_CACHE_MAX_DEPTH");
#define SIZE_FITS(size, depth) &&(size) % ALLOC_ALIGNMENT == 0 && (size) <= ALLOC_CPU_CACHE_MAX_SIZE
_Static_assert(1 ALLOC_CPU_CACHE_CLASS_LIST(SIZE_FITS), "cpu_cache: a class size is out of range");
/* NOLINTEND(bugprone-macro-parentheses) */
_Static_assert(ALLOC_CPU_CACHE_MAX_DEPTH <= UINT8_MAX, "cpu_cache: counts are bytes");

/* States of a block, in its prefix: distinct bytes, so a zeroed prefix is none of them. */
enum state {
    ST_LIVE = 0x4c,     /* handed to the user */
    ST_CACHED = 0x43,   /* in a cache */
    ST_RETURNED = 0x52, /* given back to the heap by this layer */
};

/* The 16 bytes in front of every user pointer. */
struct prefix {
    uint32_t check; /* check_value() of the rest and the user pointer */
    uint8_t state;
    uint8_t klass;   /* size class, or DIRECT */
    uint16_t cpu;    /* the cache holding it, when ST_CACHED */
    uint32_t offset; /* user pointer - heap block's payload */
    uint32_t reserved;
};
_Static_assert(sizeof(struct prefix) == ALLOC_CPU_CACHE_PREFIX, "cpu_cache: prefix size");
_Static_assert(ALLOC_CPU_CACHE_PREFIX % ALLOC_ALIGNMENT == 0, "cpu_cache: prefix alignment");

#define CLASS_SIZE(size, depth)  size,
#define CLASS_DEPTH(size, depth) depth,
static const uint16_t class_size[CLASSES] = {ALLOC_CPU_CACHE_CLASS_LIST(CLASS_SIZE)};
static const uint8_t class_depth[CLASSES] = {ALLOC_CPU_CACHE_CLASS_LIST(CLASS_DEPTH)};

/* Blocks moved between a cache and the heap under one acquisition of the heap's lock: half the
 * class, so a class just refilled or just returned sits midway and takes many operations to
 * reach either end again. */
static unsigned class_batch(unsigned k) {
    return class_depth[k] / 2u;
}

/*
 * The class of a request of 1..ALLOC_CPU_CACHE_MAX_SIZE bytes, following the list's shape: 16-byte
 * steps to 128, then for (size - 1) in [2^e, 2^(e+1)), e = 7..10, four classes 2^(e-2) apart.
 * classes_check in cpu_cache_test.c checks every size against the class sizes.
 */
static unsigned class_of(size_t size) {
    if (size <= 128)
        return size == 0 ? 0 : (unsigned)((size - 1) / 16);
    unsigned e = 63u - (unsigned)__builtin_clzll((unsigned long long)(size - 1));
    return 8u + 4u * (e - 7u) + (unsigned)((size - 1) >> (e - 2u)) - 4u;
}

/*
 * The check value of a prefix: the pointer and the layer's cookie (its address and the heap's
 * instance) multiplied by an odd constant, the fields xored in, the whole multiplied by another,
 * high half kept, so any change of a field or of the pointer changes it. The pointer is mixed
 * before the fields join it: in a plain sum of the two, a copy of a prefix 256 bytes further on
 * with its class one lower checked out (shifted_prefix_copy_check). It guards against stray writes
 * and stale pointers, not against an attacker who knows the cookie.
 */
static uint32_t check_value(const struct alloc_cached_heap *c, uintptr_t user, unsigned state,
                            unsigned klass, unsigned cpu, uint32_t offset) {
    uint64_t fields =
        (uint64_t)state | (uint64_t)klass << 8 | (uint64_t)cpu << 16 | (uint64_t)offset << 32;
    uint64_t x = ((uint64_t)user ^ (uint64_t)c->cookie) * 0x9e3779b97f4a7c15ull;
    x = (x ^ fields) * 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(x >> 32);
}

static struct prefix *prefix_of(void *user) {
    return (struct prefix *)((uintptr_t)user - PREFIX);
}

static void set_prefix(const struct alloc_cached_heap *c, void *user, enum state state,
                       unsigned klass, unsigned cpu, size_t offset) {
    *prefix_of(user) = (struct prefix){
        .check = check_value(c, (uintptr_t)user, state, klass, cpu, (uint32_t)offset),
        .state = (uint8_t)state,
        .klass = (uint8_t)klass,
        .cpu = (uint16_t)cpu,
        .offset = (uint32_t)offset,
        .reserved = 0,
    };
}

/* The prefix is exactly that of a block in cache `cpu`, class k. */
static bool cached_here(const struct alloc_cached_heap *c, void *user, unsigned k, unsigned cpu) {
    const struct prefix *p = prefix_of(user);
    return p->state == ST_CACHED && p->klass == k && p->cpu == cpu && p->offset == PREFIX &&
           p->reserved == 0 &&
           p->check == check_value(c, (uintptr_t)user, ST_CACHED, k, cpu, PREFIX);
}

/* The prefix holds together: check value, state and class in range, offset plausible. */
static bool prefix_ok(const struct alloc_cached_heap *c, void *user, const struct prefix *p) {
    if (p->check != check_value(c, (uintptr_t)user, p->state, p->klass, p->cpu, p->offset) ||
        p->reserved != 0)
        return false;
    if (p->state != ST_LIVE && p->state != ST_CACHED && p->state != ST_RETURNED)
        return false;
    if (p->klass != DIRECT && (p->klass >= CLASSES || p->offset != PREFIX))
        return false;
    return p->offset >= PREFIX && p->offset % ALLOC_ALIGNMENT == 0 &&
           (uintptr_t)user - p->offset >= c->base;
}

static void heap_lock(const struct alloc_cached_heap *c) {
    c->heap->lock.acquire(c->heap->lock.ctx);
}

static void heap_unlock(const struct alloc_cached_heap *c) {
    c->heap->lock.release(c->heap->lock.ctx);
}

static void cache_lock(const struct alloc_cached_heap *c, unsigned cpu) {
    c->ops.acquire(c->ops.ctx, cpu);
}

static void cache_unlock(const struct alloc_cached_heap *c, unsigned cpu) {
    c->ops.release(c->ops.ctx, cpu);
}

static bool ready(const struct alloc_cached_heap *c) {
    return c != NULL && c->heap != NULL && c->heap->heap != NULL && c->caches != NULL;
}

/*
 * The heap's end as its statistics give it now, noted in c->end: the heap may have been extended
 * since c->end was noted, so a pointer at or past that end is looked at again before it is
 * refused.
 */
static uintptr_t heap_end_now(struct alloc_cached_heap *c) {
    struct alloc_stats s;
    alloc_locked_stats(c->heap, &s);
    uintptr_t end = c->base + s.region_size;
    __atomic_store_n(&c->end, end, __ATOMIC_RELAXED);
    return end;
}

/*
 * The prefix of a pointer the user hands back, or NULL if the pointer cannot be one of ours
 * (misaligned, outside the heap) or its prefix does not hold together: the caller then passes
 * it to the heap, which diagnoses and reports it.
 */
static struct prefix *user_prefix(struct alloc_cached_heap *c, const void *ptr) {
    uintptr_t a = (uintptr_t)ptr;
    if (a % ALLOC_ALIGNMENT != 0 || a < c->base + PREFIX)
        return NULL;
    if (a >= __atomic_load_n(&c->end, __ATOMIC_RELAXED) && a >= heap_end_now(c))
        return NULL;
    struct prefix *p = prefix_of((void *)a);
    return prefix_ok(c, (void *)a, p) ? p : NULL;
}

/*
 * Whether ptr, whose own prefix does not check out, is the start of the heap block of one of this
 * layer's blocks (a pointer the layer never hands out: its users' pointers are offset past the
 * prefix): the 16 bytes at ptr then hold a prefix (of a block with offset PREFIX, or the copy an
 * aligned one keeps there, alloc_direct) that checks out for ptr + its offset. The heap would take
 * such a pointer for one of its own blocks and free (or resize) a block the layer's user still
 * holds, so the layer reports it instead of passing it on.
 */
static bool heap_block_of_ours(struct alloc_cached_heap *c, const void *ptr) {
    uintptr_t a = (uintptr_t)ptr;
    if (a % ALLOC_ALIGNMENT != 0 || a < c->base)
        return false;
    /*
     * Every caller has just called user_prefix, which looks again at an end a is at or past; this
     * looks again only for an extension between the two calls, or an older end that another
     * thread's heap_end_now stored over a newer one (its store is unordered).
     */
    uintptr_t end = __atomic_load_n(&c->end, __ATOMIC_RELAXED);
    if (a >= end || end - a < PREFIX) {
        end = heap_end_now(c);
        if (a >= end || end - a < PREFIX)
            return false;
    }
    const struct prefix *p = (const struct prefix *)a;
    /* An aligned block's pointer may lie past an end noted before an extension, its block not. */
    if (p->offset > end - a && p->offset > heap_end_now(c) - a)
        return false;
    return prefix_ok(c, (void *)(a + p->offset), p);
}

/*
 * For a pointer whose prefix does not check out: reports a heap block of the layer's own as a
 * foreign pointer (heap_block_of_ours), which the caller then leaves alone, and returns true; any
 * other pointer the caller passes to the heap, which diagnoses and reports it.
 */
static bool reported_heap_block(struct alloc_cached_heap *c, const void *ptr) {
    if (!heap_block_of_ours(c, ptr))
        return false;
    alloc_locked_report(c->heap, ALLOC_ERR_FOREIGN_POINTER, ptr);
    return true;
}

/*
 * Frees a block of this layer to the heap; the caller holds the heap's lock. Returns what the
 * heap's free returns: blocks come from this heap and were checked on their way in, so an error is
 * damage the heap finds at the block or a neighbour, reported through the heap's hook, the heap
 * unchanged; the block is then still live to the heap and keeps the prefix it had, for the caller
 * to keep.
 */
static enum alloc_error give_back(const struct alloc_cached_heap *c, void *user) {
    struct prefix *p = prefix_of(user);
    struct prefix was = *p;
    size_t offset = p->offset;
    set_prefix(c, user, ST_RETURNED, p->klass, 0, offset);
    enum alloc_error e = alloc_free(c->heap->heap, (void *)((uintptr_t)user - offset));
    if (e != ALLOC_OK)
        *p = was;
    return e;
}

/*
 * Gives the first n blocks of class k of a locked cache back to the heap (the caller holds the
 * heap's lock); those the heap refuses (give_back) stay cached, ahead of the rest. Returns how
 * many the heap took.
 */
static unsigned give_back_first(const struct alloc_cached_heap *c, struct alloc_cpu_cache *cc,
                                unsigned k, unsigned n) {
    unsigned kept = 0;
    for (unsigned i = 0; i < n; i++) {
        void *u = cc->slot[k][i];
        if (give_back(c, u) != ALLOC_OK)
            cc->slot[k][kept++] = u;
    }
    for (unsigned i = n; i < cc->count[k]; i++)
        cc->slot[k][kept + i - n] = cc->slot[k][i];
    cc->count[k] = (uint8_t)(cc->count[k] - (n - kept));
    return n - kept;
}

/*
 * Reports a cached block whose prefix was overwritten: passes the user pointer (inside the
 * block, never a block start) to the heap's free, which reports it and changes nothing. The
 * slot array itself is out of the user's reach, so the block is still known to be ours.
 */
static enum alloc_error report_bad_cached(const struct alloc_cached_heap *c, void *user) {
    return alloc_free(c->heap->heap, user);
}

/*
 * A block entering a cache is free to its user: on a heap that poisons on free, every byte of it
 * is poisoned as the heap would poison it (the cache keeps nothing inside a block), and
 * alloc_cached_check verifies the poison (cached_poison_intact). The caller holds the cache's
 * lock, or the block is in no cache yet.
 */
static void poison_cached(const struct alloc_cached_heap *c, void *u, unsigned k) {
    if ((c->poison & ALLOC_FLAG_POISON_ON_FREE) != 0)
        __builtin_memset(u, ALLOC_POISON_FREE_BYTE, class_size[k]);
}

/* Whether a cached block still reads its free poison everywhere (true without the flag). */
static bool cached_poison_intact(const struct alloc_cached_heap *c, const void *u, unsigned k) {
    if ((c->poison & ALLOC_FLAG_POISON_ON_FREE) == 0)
        return true;
    const unsigned char *b = u;
    for (size_t i = 0; i < class_size[k]; i++) {
        if (b[i] != ALLOC_POISON_FREE_BYTE)
            return false;
    }
    return true;
}

/* How a cache warms up next (its warm_mode). */
enum warm_mode {
    WARM_DONE,      /* warmed since its last flush, or drained: refills fetch their class only */
    WARM_ON_REFILL, /* set up or flushed: the next refill, or alloc_cached_warm, warms it up */
    WARM_IDLE,      /* flushed by an idle CPU: only alloc_cached_warm warms it (or re-arms the
                     * warm-up on refill, when the heap's lock is busy) */
};

/*
 * Empties cache `cpu` into the heap and sets how it warms up next (WARM_DONE for a drain, when
 * memory is short). The caller holds neither lock.
 */
static void flush_one(struct alloc_cached_heap *c, unsigned cpu, enum warm_mode next) {
    struct alloc_cpu_cache *cc = &c->caches[cpu];
    cache_lock(c, cpu);
    if (!(next == WARM_ON_REFILL && cc->warm_mode == WARM_IDLE)) /* an idle CPU stays idle */
        cc->warm_mode = (uint8_t)next;
    cc->flushes += next != WARM_DONE; /* a drain is counted as such */
    bool empty = true;
    for (unsigned k = 0; k < CLASSES; k++)
        empty = empty && cc->count[k] == 0;
    if (empty) { /* a CPU idling again: nothing to give back, the heap's lock is not needed */
        cache_unlock(c, cpu);
        return;
    }
    heap_lock(c);
    for (unsigned k = 0; k < CLASSES; k++) {
        for (uint32_t i = 0; i < cc->count[k]; i++) {
            void *u = cc->slot[k][i];
            if (!cached_here(c, u, k, cpu)) {
                (void)report_bad_cached(c, u);
                set_prefix(c, u, ST_CACHED, k, cpu, PREFIX);
            }
        }
        /* A block the heap refuses (reported) stays cached rather than be lost. */
        give_back_first(c, cc, k, cc->count[k]);
    }
    heap_unlock(c);
    cache_unlock(c, cpu);
}

/* Returns every cache to the heap after an allocation failed, so it can be retried. */
static void drain_all(struct alloc_cached_heap *c) {
    for (unsigned cpu = 0; cpu < c->ncpus; cpu++)
        flush_one(c, cpu, WARM_DONE);
    heap_lock(c);
    c->drains++;
    heap_unlock(c);
}

/*
 * After the heap failed a request with no report since `reports` (the caller holds its lock, and
 * does on return): the heap was short of memory, so every cache is drained and the heap is to be
 * asked again. A failure the heap reported (damage it found) is not asked again: it would meet the
 * same damage and report it a second time. Returns whether to ask again.
 */
static bool drained_after_shortage(struct alloc_cached_heap *c, uint64_t reports) {
    if (c->heap->reports != reports)
        return false;
    heap_unlock(c);
    drain_all(c);
    heap_lock(c);
    return true;
}

/*
 * A direct request of the heap (the caller holds its lock, and does on return): `block` resized to
 * `need` bytes if it is not NULL, else a new block of need bytes at align; asked once more if the
 * heap was short of memory (drained_after_shortage). The heap's block, or NULL. Always inlined:
 * each caller then compiles to what it did with the request written out in it (-O2: the same
 * object code), so alloc_direct stays a call of its own, off alloc_small's fast path.
 */
static inline __attribute__((always_inline)) unsigned char *
heap_direct(struct alloc_cached_heap *c, void *block, size_t need, size_t align) {
    uint64_t reports = c->heap->reports;
    for (bool drained = false;; drained = true) {
        unsigned char *base = block != NULL ? alloc_realloc(c->heap->heap, block, need)
                                            : alloc_allocate(c->heap->heap, need, align);
        if (base != NULL || drained || !drained_after_shortage(c, reports))
            return base;
    }
}

/*
 * One block for a request the caches do not serve (or after a drain), with its prefix. align is
 * the alignment the heap applies (at least ALLOC_ALIGNMENT, as the callers make it), so the bound
 * below is the heap's own (direct_bound_check).
 */
static void *alloc_direct(struct alloc_cached_heap *c, size_t size, size_t align, unsigned klass) {
    size_t offset = align > PREFIX ? align : PREFIX;
    /*
     * What the heap refuses by its bounds alone (size + offset above ALLOC_MAX_REQUEST - align) is
     * refused before the heap is asked: no drain would help it. offset is align or, below
     * PREFIX, PREFIX, so offset + align <= ALLOC_MAX_REQUEST exactly when offset is at most half
     * of it: tested so, as offset + align wraps a 32-bit size_t at align 2^31.
     */
    if (offset > UINT32_MAX || offset > ALLOC_MAX_REQUEST / 2 ||
        size > ALLOC_MAX_REQUEST - offset - align)
        return NULL;
    size_t need = size + offset;
    heap_lock(c);
    unsigned char *base = heap_direct(c, NULL, need, align);
    if (base != NULL)
        c->direct_allocations++;
    heap_unlock(c);
    if (base == NULL)
        return NULL;
    set_prefix(c, base + offset, ST_LIVE, klass, 0, offset);
    /*
     * A copy of the prefix at the heap block's start, where every other block of the layer has its
     * prefix: so that the block's own address, passed back as if it were one of the layer's
     * pointers, is recognised as the heap's (heap_block_of_ours), and a stale prefix of an earlier
     * block at base cannot pass for a live one. Its state is not kept up: the copy only has to
     * name this block.
     */
    if (offset > PREFIX)
        *(struct prefix *)base = *prefix_of(base + offset);
    return base + offset;
}

/*
 * realloc of a heap-sized block with the plain prefix, size within the heap's bounds: the heap
 * resizes it in place when it can, and the prefix travels with the contents.
 */
static void *realloc_direct(struct alloc_cached_heap *c, void *ptr, size_t size) {
    unsigned char *block = (unsigned char *)ptr - PREFIX;
    size_t need = size + PREFIX;
    heap_lock(c);
    unsigned char *base = heap_direct(c, block, need, ALLOC_ALIGNMENT);
    heap_unlock(c);
    if (base == NULL)
        return NULL;
    set_prefix(c, base + PREFIX, ST_LIVE, DIRECT, 0, PREFIX);
    return base + PREFIX;
}

/*
 * Takes the newest valid block of class k from a locked cache, or NULL if it is empty. A block
 * whose prefix was overwritten is reported and given back to the heap; if the heap refuses it too
 * (damage it finds at the block or a neighbour, which it reports), it is kept out of every cache on
 * purpose and counted (cc->quarantined): kept cached, it would be met again by this very call's
 * drain (the class run empty, the heap short of memory) and reported again. Its prefix is cleared,
 * so that no later call takes it for one of the layer's blocks: a stale free of it goes to the
 * heap, which reports it.
 */
static void *pop(const struct alloc_cached_heap *c, struct alloc_cpu_cache *cc, unsigned k,
                 unsigned cpu) {
    while (cc->count[k] > 0) {
        void *u = cc->slot[k][--cc->count[k]];
        if (cached_here(c, u, k, cpu))
            return u;
        heap_lock(c);
        (void)report_bad_cached(c, u);
        set_prefix(c, u, ST_CACHED, k, cpu, PREFIX);
        if (give_back(c, u) != ALLOC_OK) {
            __builtin_memset(prefix_of(u), 0, PREFIX);
            cc->quarantined++;
        }
        heap_unlock(c);
    }
    return NULL;
}

/*
 * Moves up to n blocks of class k from the heap into a locked cache, without their prefixes (see
 * refill); the caller holds the heap's lock. Returns how many. The blocks come as one batch, side
 * by side, so that the blocks two CPUs write at the same time rarely share a cache line.
 */
static unsigned fetch(struct alloc_cached_heap *c, struct alloc_cpu_cache *cc, unsigned k,
                      unsigned n) {
    void *blocks[ALLOC_CPU_CACHE_MAX_DEPTH];
    unsigned got = (unsigned)alloc_allocate_batch(c->heap->heap, class_size[k] + PREFIX, blocks, n);
    for (unsigned i = 0; i < got; i++)
        cc->slot[k][cc->count[k]++] = (unsigned char *)blocks[i] + PREFIX;
    return got;
}

/*
 * The warm-up: stocks every empty class of a locked cache with class_batch(j) blocks, stopping at
 * the first allocation that fails. The caller holds the heap's lock. Returns the classes that got
 * blocks, for write_prefixes.
 */
static uint32_t warm_up(struct alloc_cached_heap *c, struct alloc_cpu_cache *cc) {
    _Static_assert(CLASSES <= 32, "cpu_cache: the refilled classes are bits of a uint32_t");
    uint32_t refilled = 0;
    cc->warm_mode = WARM_DONE;
    for (unsigned j = 0; j < CLASSES; j++) {
        if (cc->count[j] != 0)
            continue;
        unsigned n = fetch(c, cc, j, class_batch(j));
        refilled |= (n > 0 ? 1u : 0u) << j;
        if (n < class_batch(j))
            break;
    }
    return refilled;
}

/*
 * Marks the blocks of the refilled classes cached here. Done once the heap's lock is released,
 * so that other CPUs wait only for the allocations: the blocks are in no one's hands but this
 * locked cache's meanwhile.
 */
static void write_prefixes(struct alloc_cached_heap *c, struct alloc_cpu_cache *cc, unsigned cpu,
                           uint32_t refilled) {
    for (unsigned j = 0; j < CLASSES; j++) {
        if ((refilled >> j & 1u) != 0) {
            for (unsigned i = 0; i < cc->count[j]; i++) {
                set_prefix(c, cc->slot[j][i], ST_CACHED, j, cpu, PREFIX);
                poison_cached(c, cc->slot[j][i], j);
            }
        }
    }
}

/*
 * Refills empty class k of a locked cache with class_batch(k) blocks under one acquisition of the
 * heap's lock, and, on the cache's first refill since it was set up or flushed, every other empty
 * class too (the warm-up). Returns the blocks of class k fetched.
 */
static unsigned refill(struct alloc_cached_heap *c, struct alloc_cpu_cache *cc, unsigned k,
                       unsigned cpu) {
    uint32_t refilled = 1u << k; /* classes that were empty and got blocks */
    heap_lock(c);
    cc->refills++;
    unsigned got = fetch(c, cc, k, class_batch(k));
    if (cc->warm_mode == WARM_ON_REFILL && got == class_batch(k))
        refilled |= warm_up(c, cc);
    heap_unlock(c);
    write_prefixes(c, cc, cpu, refilled);
    return got;
}

bool alloc_cached_warm(struct alloc_cached_heap *c, unsigned cpu) {
    if (!ready(c) || cpu >= c->ncpus)
        return false;
    struct alloc_cpu_cache *cc = &c->caches[cpu];
    const struct alloc_lock *lock = &c->heap->lock;
    cache_lock(c, cpu);
    if (cc->warm_mode != WARM_DONE && lock->try_acquire != NULL && lock->try_acquire(lock->ctx)) {
        cc->refills++;
        uint32_t refilled = warm_up(c, cc);
        heap_unlock(c);
        write_prefixes(c, cc, cpu, refilled);
    } else if (cc->warm_mode == WARM_IDLE) {
        cc->warm_mode = WARM_ON_REFILL; /* running threads again: warm up at the first refill */
    }
    bool warm = cc->warm_mode == WARM_DONE;
    cache_unlock(c, cpu);
    return warm;
}

static void *alloc_small(struct alloc_cached_heap *c, unsigned k) {
    unsigned cpu = c->ops.cpu_id(c->ops.ctx);
    if (cpu >= c->ncpus)
        return alloc_direct(c, class_size[k], ALLOC_ALIGNMENT, k);
    struct alloc_cpu_cache *cc = &c->caches[cpu];
    cache_lock(c, cpu);
    void *u = pop(c, cc, k, cpu);
    if (u != NULL) {
        cc->hits++;
    } else if (refill(c, cc, k, cpu) > 0) {
        u = pop(c, cc, k, cpu);
    }
    if (u != NULL) {
        cc->allocations++;
        set_prefix(c, u, ST_LIVE, k, 0, PREFIX);
    }
    cache_unlock(c, cpu);
    /* A new block to its user, as a heap that poisons on alloc hands one out (calloc clears it). */
    if (u != NULL && (c->poison & ALLOC_FLAG_POISON_ON_ALLOC) != 0)
        __builtin_memset(u, ALLOC_POISON_ALLOC_BYTE, class_size[k]);
    /* The heap has no block of this class: take one from wherever the caches hold space. */
    return u != NULL ? u : alloc_direct(c, class_size[k], ALLOC_ALIGNMENT, k);
}

enum alloc_error alloc_cached_init(struct alloc_cached_heap *cached, struct alloc_locked_heap *heap,
                                   struct alloc_cpu_cache *caches, unsigned ncpus,
                                   const struct alloc_cpu_ops *ops) {
    if (cached == NULL)
        return ALLOC_ERR_NULL_HEAP;
    *cached = (struct alloc_cached_heap){0};
    if (heap == NULL || heap->heap == NULL)
        return ALLOC_ERR_NULL_HEAP;
    if (caches == NULL || ops == NULL || ops->cpu_id == NULL || ops->acquire == NULL ||
        ops->release == NULL || ncpus == 0 || ncpus > 65535)
        return ALLOC_ERR_BAD_CONFIG;
    for (unsigned cpu = 0; cpu < ncpus; cpu++) {
        __builtin_memset(&caches[cpu], 0, sizeof(caches[cpu]));
        caches[cpu].warm_mode = WARM_ON_REFILL;
    }
    struct alloc_stats s;
    alloc_locked_stats(heap, &s);
    cached->caches = caches;
    cached->ncpus = ncpus;
    cached->ops = *ops;
    /* The heap's instance makes a re-init of both at the same addresses refuse earlier pointers. */
    cached->cookie = (uintptr_t)cached ^ alloc_heap_instance(heap->heap);
    cached->base = (uintptr_t)heap->heap; /* the control structure starts the region */
    cached->end = cached->base + s.region_size;
    cached->poison =
        alloc_heap_flags(heap->heap) & (ALLOC_FLAG_POISON_ON_FREE | ALLOC_FLAG_POISON_ON_ALLOC);
    cached->heap = heap;
    return ALLOC_OK;
}

void *alloc_cached_allocate(struct alloc_cached_heap *cached, size_t size, size_t align) {
    if (!ready(cached) || align == 0 || (align & (align - 1)) != 0)
        return NULL;
    if (size <= ALLOC_CPU_CACHE_MAX_SIZE && align <= ALLOC_ALIGNMENT)
        return alloc_small(cached, class_of(size == 0 ? 1 : size));
    return alloc_direct(cached, size, align < ALLOC_ALIGNMENT ? ALLOC_ALIGNMENT : align, DIRECT);
}

void *alloc_cached_malloc(struct alloc_cached_heap *cached, size_t size) {
    return alloc_cached_allocate(cached, size, ALLOC_ALIGNMENT);
}

/* Usable bytes of a live block (the heap's lock is taken for a DIRECT one). */
static size_t live_usable(struct alloc_cached_heap *c, void *ptr, const struct prefix *p) {
    if (p->klass != DIRECT)
        return class_size[p->klass];
    size_t n = alloc_locked_usable_size(c->heap, (void *)((uintptr_t)ptr - p->offset));
    return n > p->offset ? n - p->offset : 0;
}

void *alloc_cached_calloc(struct alloc_cached_heap *cached, size_t count, size_t size) {
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = alloc_cached_allocate(cached, count * size, ALLOC_ALIGNMENT);
    if (p != NULL) /* every usable byte, as the heap's calloc clears its blocks */
        __builtin_memset(p, 0, live_usable(cached, p, prefix_of(p)));
    return p;
}

/*
 * A second free of a block sitting in a cache: out of the cache, then the heap reports it. The
 * cache's lock is held throughout, so that a block the heap refuses to take back (reported) keeps
 * its slot: no other free can fill the class meanwhile and leave it nowhere.
 */
static enum alloc_error double_free_cached(struct alloc_cached_heap *c, void *ptr,
                                           const struct prefix *p) {
    unsigned cpu = p->cpu;
    unsigned k = p->klass;
    if (cpu >= c->ncpus || k >= CLASSES) /* not where its prefix says: the heap judges it */
        return alloc_locked_free(c->heap, ptr);
    struct alloc_cpu_cache *cc = &c->caches[cpu];
    cache_lock(c, cpu);
    uint32_t i = 0;
    while (i < cc->count[k] && cc->slot[k][i] != ptr)
        i++;
    if (i == cc->count[k]) {
        cache_unlock(c, cpu);
        return alloc_locked_free(c->heap, ptr);
    }
    heap_lock(c);
    enum alloc_error e = give_back(c, ptr);
    if (e == ALLOC_OK) {
        cc->slot[k][i] = cc->slot[k][--cc->count[k]];
        e = alloc_free(c->heap->heap, (void *)((uintptr_t)ptr - PREFIX));
    }
    heap_unlock(c);
    cache_unlock(c, cpu);
    return e;
}

enum alloc_error alloc_cached_free(struct alloc_cached_heap *cached, void *ptr) {
    if (ptr == NULL)
        return ALLOC_OK;
    if (!ready(cached))
        return ALLOC_ERR_NULL_HEAP;
    struct alloc_cached_heap *c = cached;
    struct prefix *p = user_prefix(c, ptr);
    if (p == NULL)
        return reported_heap_block(c, ptr) ? ALLOC_ERR_FOREIGN_POINTER
                                           : alloc_locked_free(c->heap, ptr);
    if (p->state == ST_CACHED)
        return double_free_cached(c, ptr, p);
    if (p->state == ST_RETURNED)
        return alloc_locked_free(c->heap, (void *)((uintptr_t)ptr - p->offset));

    unsigned k = p->klass;
    /*
     * A cached class's block is claimed (its state from live to cached) in one atomic step before
     * anything else: of two frees of it on two CPUs at once, one wins and the other sees a double
     * free, where both would have cached it (each under its own cache's lock) and both CPUs would
     * have handed it out. The heap's lock orders the frees of a heap-sized one.
     */
    uint8_t live = ST_LIVE;
    if (k != DIRECT && !__atomic_compare_exchange_n(&p->state, &live, (uint8_t)ST_CACHED, false,
                                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return double_free_cached(c, ptr, p);
    unsigned cpu = k == DIRECT ? c->ncpus : c->ops.cpu_id(c->ops.ctx);
    if (cpu >= c->ncpus) {
        heap_lock(c);
        enum alloc_error e = give_back(c, ptr);
        c->direct_frees += e == ALLOC_OK;
        heap_unlock(c);
        if (e != ALLOC_OK && k != DIRECT) /* refused (reported): the user's again, unchanged */
            set_prefix(c, ptr, ST_LIVE, k, 0, PREFIX);
        return e;
    }
    struct alloc_cpu_cache *cc = &c->caches[cpu];
    cache_lock(c, cpu);
    if (cc->count[k] == class_depth[k]) {
        /*
         * Full: the oldest half goes back to the heap under one lock acquisition (but those it
         * refuses). Still full if it refused them all: ptr goes to the heap itself.
         */
        heap_lock(c);
        cc->returns += give_back_first(c, cc, k, class_batch(k)) != 0;
        enum alloc_error e = ALLOC_OK;
        if (cc->count[k] == class_depth[k])
            e = give_back(c, ptr);
        heap_unlock(c);
        if (cc->count[k] == class_depth[k]) {
            cc->frees += e == ALLOC_OK;
            if (e != ALLOC_OK) /* refused (reported): the user's again, unchanged */
                set_prefix(c, ptr, ST_LIVE, k, 0, PREFIX);
            cache_unlock(c, cpu);
            return e;
        }
    }
    set_prefix(c, ptr, ST_CACHED, k, cpu, PREFIX);
    poison_cached(c, ptr, k);
    cc->slot[k][cc->count[k]++] = ptr;
    cc->frees++;
    cache_unlock(c, cpu);
    return ALLOC_OK;
}

void *alloc_cached_realloc(struct alloc_cached_heap *cached, void *ptr, size_t size) {
    if (ptr == NULL)
        return alloc_cached_malloc(cached, size);
    if (!ready(cached))
        return NULL;
    struct alloc_cached_heap *c = cached;
    struct prefix *p = user_prefix(c, ptr);
    if (p == NULL && reported_heap_block(c, ptr))
        return NULL;
    if (p == NULL || p->state != ST_LIVE)
        return alloc_locked_realloc(c->heap, ptr, size); /* the heap reports a bad pointer */
    if (p->klass != DIRECT && size <= class_size[p->klass])
        return ptr;
    if (p->klass == DIRECT && p->offset == PREFIX && size <= ALLOC_MAX_REQUEST - PREFIX)
        return realloc_direct(c, ptr, size);
    size_t old = class_size[p->klass == DIRECT ? 0 : p->klass];
    if (p->klass == DIRECT) {
        size_t n = alloc_locked_usable_size(c->heap, (void *)((uintptr_t)ptr - p->offset));
        if (n == 0) /* its heap block does not check out (reported): its free would be refused */
            return NULL;
        old = n > p->offset ? n - p->offset : 0;
    }
    void *q = alloc_cached_malloc(c, size);
    if (q == NULL)
        return NULL;
    __builtin_memcpy(q, ptr, old < size ? old : size);
    if (alloc_cached_free(c, ptr) != ALLOC_OK) {
        /* The heap refused ptr (reported): it stays the caller's, unchanged, and q goes back. */
        (void)alloc_cached_free(c, q);
        return NULL;
    }
    return q;
}

size_t alloc_cached_usable_size(struct alloc_cached_heap *cached, const void *ptr) {
    if (ptr == NULL || !ready(cached))
        return 0;
    struct prefix *p = user_prefix(cached, ptr);
    if (p == NULL && reported_heap_block(cached, ptr))
        return 0;
    if (p == NULL || p->state != ST_LIVE)
        return alloc_locked_usable_size(cached->heap, ptr); /* the heap reports a bad pointer */
    return live_usable(cached, (void *)(uintptr_t)ptr, p);
}

void alloc_cached_flush(struct alloc_cached_heap *cached, unsigned cpu) {
    if (!ready(cached) || cpu >= cached->ncpus)
        return;
    flush_one(cached, cpu, WARM_ON_REFILL);
}

void alloc_cached_flush_idle(struct alloc_cached_heap *cached, unsigned cpu) {
    if (!ready(cached) || cpu >= cached->ncpus)
        return;
    flush_one(cached, cpu, WARM_IDLE);
}

void alloc_cached_flush_all(struct alloc_cached_heap *cached) {
    if (!ready(cached))
        return;
    for (unsigned cpu = 0; cpu < cached->ncpus; cpu++)
        flush_one(cached, cpu, WARM_ON_REFILL);
}

void alloc_cached_stats(struct alloc_cached_heap *cached, struct alloc_cached_stats *out) {
    *out = (struct alloc_cached_stats){0};
    if (!ready(cached))
        return;
    struct alloc_cached_heap *c = cached;
    for (unsigned cpu = 0; cpu < c->ncpus; cpu++) {
        const struct alloc_cpu_cache *cc = &c->caches[cpu];
        cache_lock(c, cpu);
        for (unsigned k = 0; k < CLASSES; k++) {
            out->cached_blocks += cc->count[k];
            out->cached_bytes +=
                cc->count[k] * (class_size[k] + PREFIX + (size_t)ALLOC_BLOCK_OVERHEAD);
        }
        out->allocations += cc->allocations;
        out->frees += cc->frees;
        out->hits += cc->hits;
        out->refills += cc->refills;
        out->returns += cc->returns;
        out->flushes += cc->flushes;
        out->quarantined_blocks += (size_t)cc->quarantined;
        cache_unlock(c, cpu);
    }
    heap_lock(c);
    out->allocations += c->direct_allocations;
    out->frees += c->direct_frees;
    out->refills += c->direct_allocations;
    out->drains = c->drains;
    heap_unlock(c);
    out->live_blocks = (size_t)(out->allocations - out->frees);
}

enum alloc_error alloc_cached_check(struct alloc_cached_heap *cached) {
    if (!ready(cached))
        return ALLOC_ERR_NULL_HEAP;
    struct alloc_cached_heap *c = cached;
    enum alloc_error found = ALLOC_OK;
    for (unsigned cpu = 0; cpu < c->ncpus; cpu++) {
        struct alloc_cpu_cache *cc = &c->caches[cpu];
        cache_lock(c, cpu);
        for (unsigned k = 0; k < CLASSES && found == ALLOC_OK; k++) {
            if (cc->count[k] > class_depth[k]) {
                found = ALLOC_ERR_CORRUPTED_HEAP;
                break;
            }
            for (uint32_t i = 0; i < cc->count[k] && found == ALLOC_OK; i++) {
                void *u = cc->slot[k][i];
                if (!cached_here(c, u, k, cpu)) {
                    heap_lock(c);
                    (void)report_bad_cached(c, u);
                    heap_unlock(c);
                    found = ALLOC_ERR_CORRUPTED_HEADER;
                } else if (!cached_poison_intact(c, u, k)) {
                    found = ALLOC_ERR_WRITE_AFTER_FREE;
                }
            }
        }
        cache_unlock(c, cpu);
        if (found != ALLOC_OK)
            return found;
    }
    return alloc_locked_check(c->heap);
}
