/*
 * alloc/heap.c - the public interface of the heap allocator: init and extend, pointer
 * validation and error reporting, the bookkeeping of live blocks, statistics, the integrity
 * check and the block walk. The strategies (tlsf.c, first_fit.c) only move free space around.
 */
#include "runs.h"
#include "tlsf.h"

const char *alloc_error_name(enum alloc_error error) {
    switch (error) {
    case ALLOC_OK:
        return "ok";
    case ALLOC_ERR_NULL_REGION:
        return "null region";
    case ALLOC_ERR_MISALIGNED_REGION:
        return "misaligned region";
    case ALLOC_ERR_REGION_TOO_SMALL:
        return "region too small";
    case ALLOC_ERR_REGION_TOO_LARGE:
        return "region too large";
    case ALLOC_ERR_BAD_CONFIG:
        return "bad config";
    case ALLOC_ERR_DOUBLE_FREE:
        return "double free";
    case ALLOC_ERR_FOREIGN_POINTER:
        return "foreign pointer";
    case ALLOC_ERR_MISALIGNED_POINTER:
        return "misaligned pointer";
    case ALLOC_ERR_CORRUPTED_HEADER:
        return "corrupted block header";
    case ALLOC_ERR_CORRUPTED_FREE_LIST:
        return "corrupted free list";
    case ALLOC_ERR_UNCOALESCED:
        return "uncoalesced free blocks";
    case ALLOC_ERR_STATS_MISMATCH:
        return "statistics mismatch";
    case ALLOC_ERR_WRITE_AFTER_FREE:
        return "write after free";
    case ALLOC_ERR_CORRUPTED_HEAP:
        return "corrupted heap control";
    case ALLOC_ERR_NULL_HEAP:
        return "null heap";
    }
    return "unknown error";
}

const char *alloc_strategy_name(enum alloc_strategy strategy) {
    switch (strategy) {
    case ALLOC_STRATEGY_TLSF:
        return "tlsf";
    case ALLOC_STRATEGY_FIRST_FIT:
        return "first_fit";
    }
    return "unknown";
}

#if !TLSF_ALONE
/* Per strategy, its operations; NULL for one not compiled in (ALLOC_STRATEGIES). */
static const struct alloc_strategy_ops *const strategies[ALLOC_STRATEGY_FIRST_FIT + 1] = {
#if TLSF_COMPILED_IN
    [ALLOC_STRATEGY_TLSF] = &alloc_tlsf_ops,
#endif
#if FIRST_FIT_COMPILED_IN
    [ALLOC_STRATEGY_FIRST_FIT] = &alloc_ff_ops,
#endif
};
#endif

/* The operations of a strategy, or NULL for an unknown one or one not compiled in. */
static const struct alloc_strategy_ops *strategy_ops(enum alloc_strategy s) {
#if TLSF_ALONE
    /* One comparison rather than a bounds check and a table load. */
    return s == ALLOC_STRATEGY_TLSF ? &alloc_tlsf_ops : NULL;
#else
    return (unsigned)s < sizeof(strategies) / sizeof(strategies[0]) ? strategies[s] : NULL;
#endif
}

/*
 * The inspection operations of a strategy (statistics, integrity check), or NULL as for
 * strategy_ops. Only alloc_heap_stats and alloc_heap_check look them up, so a program calling
 * neither links none of them.
 */
static const struct alloc_strategy_inspect *strategy_inspect(enum alloc_strategy s) {
    static const struct alloc_strategy_inspect *const inspect[ALLOC_STRATEGY_FIRST_FIT + 1] = {
#if TLSF_COMPILED_IN
        [ALLOC_STRATEGY_TLSF] = &alloc_tlsf_inspect,
#endif
#if FIRST_FIT_COMPILED_IN
        [ALLOC_STRATEGY_FIRST_FIT] = &alloc_ff_inspect,
#endif
    };
    return (unsigned)s < sizeof(inspect) / sizeof(inspect[0]) ? inspect[s] : NULL;
}

size_t alloc_control_size(enum alloc_strategy s) {
#if TLSF_ALONE
    /* The one strategy compiled in: its state's size is a constant here, not a load. */
    (void)s;
    size_t n = offsetof(struct alloc_heap, state) + sizeof(struct tlsf_state);
#else
    size_t n = offsetof(struct alloc_heap, state) + strategy_ops(s)->state_size;
#endif
    return (n + GRANULE - 1) & ~(GRANULE - 1);
}

size_t alloc_min_region_size(enum alloc_strategy strategy) {
    if (strategy_ops(strategy) == NULL)
        return 0;
    return alloc_control_size(strategy) + BLOCK_PHASE + MIN_BLOCK + HDR;
}

#if ALLOC_FAST_PATHS
/*
 * The call of a heap's hook, where the magic word still seals it. Out of line: inlined into every
 * report, its check took 368 bytes more of the Cortex-M4's core text.
 */
static __attribute__((noinline)) void call_sealed_hook(const alloc_heap *h, enum alloc_error e,
                                                       const void *ptr) {
    if (magic_intact(h))
        h->hook(h->hook_ctx, e, ptr);
}
#endif

/* A build for size calls it from this file too: a call is less code than the test and call. */
#if !ALLOC_FAST_PATHS
__attribute__((noinline))
#endif
void alloc_report(const alloc_heap *h, enum alloc_error e, const void *ptr) {
#if ALLOC_FAST_PATHS
    if (h->hook != NULL)
        call_sealed_hook(h, e, ptr);
#else
    if (h->hook != NULL)
        h->hook(h->hook_ctx, e, ptr);
#endif
}

#if ALLOC_FAST_PATHS && !TLSF_ALONE
/* The operations of a damaged table (heap_ops): each has nothing to do, but to have reported. */
static block_t *damaged_alloc(alloc_heap *h, size_t size, size_t align, bool try_cache) {
    (void)h, (void)size, (void)align, (void)try_cache;
    return REFUSED;
}
static bool damaged_release(alloc_heap *h, block_t *b, bool try_cache) {
    (void)h, (void)b, (void)try_cache;
    return false;
}
static int damaged_resize(alloc_heap *h, block_t *b, size_t size) {
    (void)h, (void)b, (void)size;
    return -1;
}
static const struct alloc_strategy_ops damaged_ops = {
    .alloc = damaged_alloc,
    .release = damaged_release,
    .resize = damaged_resize,
};

__attribute__((cold, noinline)) const struct alloc_strategy_ops *
alloc_damaged_ops(const alloc_heap *h) {
    alloc_report(h, ALLOC_ERR_CORRUPTED_HEAP, &h->ops);
    return &damaged_ops;
}
#endif

#if !ALLOC_FAST_PATHS
/*
 * The check-bit helpers of a build for size (internal.h): one copy for the whole library, which
 * this file calls as the others do.
 */
__attribute__((noinline)) hword_t alloc_sealed(const alloc_heap *h, const hword_t *w,
                                               hword_t data) {
    return data | seal_bits(h, w, data);
}
__attribute__((noinline)) bool alloc_word_ok(const alloc_heap *h, const hword_t *w) {
    return seal_ok(h, w, *w);
}
__attribute__((noinline)) void alloc_word_set(const alloc_heap *h, hword_t *w, hword_t data) {
    *w = alloc_sealed(h, w, data);
}
__attribute__((noinline)) bool alloc_in_heap(const alloc_heap *h, const block_t *b) {
    return block_in_heap(h, b);
}
__attribute__((noinline)) size_t alloc_block_sound(const alloc_heap *h, const block_t *b,
                                                   hword_t mask, hword_t want) {
    if (!in_heap(h, b))
        return 0;
    hword_t w = b->size;
    size_t s = word_size_shifts(w);
    const block_t *next = blk_at((uintptr_t)b + s);
    if ((w & mask) != want || s < MIN_BLOCK || s > h->end - (uintptr_t)b || !hdr_ok(h, b) ||
        !prev_word_is(h, next, s) || !word_ok(h, &next->size))
        return 0;
    return s;
}
#endif

/*
 * A mixer of an address-wide word: every input bit affects every output bit. The key multiplies
 * addresses, so a 32-bit target needs 32 bits of it and mixes them in 32-bit arithmetic.
 */
#if UINTPTR_MAX > 0xffffffffu
static uint64_t mix_key(uint64_t x) {
    /* splitmix64's finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
#else
/*
 * Out of line where make_key calls it twice (ALLOC_FAST_PATHS): a second inlined copy costs more
 * than a call. A build for size calls it once.
 */
#if ALLOC_FAST_PATHS
#define MIX_KEY_INLINE __attribute__((noinline))
#else
#define MIX_KEY_INLINE inline
#endif
static MIX_KEY_INLINE uint32_t mix_key(uint32_t x) {
    /* murmur3's 32-bit finaliser */
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    return x ^ (x >> 16);
}
#endif

/*
 * The secret of a new heap's header check bits: from the region's address and the word where a
 * heap at that address keeps its secret, so that every init at one address gets a new one and the
 * headers (and pointers) of the earlier heap fail the checks. That word is mixed in whether or not
 * the control structure's magic still names a heap: a heap nested in another heap's block has its
 * magic overwritten by the outer heap's free, which leaves the secret's word as it was, and the
 * inner heap's next init must not get its first secret back. Odd, so that multiplying an address
 * by it loses no address bit.
 */
static uintptr_t make_key(const alloc_heap *old, uintptr_t base) {
#if ALLOC_FAST_PATHS
    uintptr_t k = mix_key(base ^ (uintptr_t)0x616c6c6f636b6579ull);
    k = mix_key(old->key + k);
#else
    /*
     * A build for size mixes once, the address and the earlier secret together: mix_key is a
     * bijection, so at one address distinct earlier secret words give distinct mixes, and a
     * re-init's mix is never that of an init over a 0 word (the earlier secret is odd, never 0).
     */
    uintptr_t k = mix_key((HEAP_MAGIC ^ base) ^ old->key);
#endif
    return k | 1u;
}

/*
 * fast_free_lo's value on heap h (its quick_enabled, flags and first set): first + HDR where its
 * frees take alloc_free's fast path (quick lists on, no poison on free), else UINTPTR_MAX.
 */
static uintptr_t fast_free_lo_for(const alloc_heap *h) {
#if QUICK_BINS > 0 && ALLOC_FAST_PATHS
    if (h->quick_enabled && !poison_free(h))
        return h->first + HDR;
#endif
    (void)h;
    return UINTPTR_MAX;
}

/*
 * fast_grow's value on a heap of that strategy and those flags: 1 where alloc_realloc may grow a
 * block into TLSF's top block by its fast path, else 0. Not with poison on alloc either:
 * realloc_general poisons what a block grows by. Init passes its configuration's, the heap check
 * the control structure's (the values init copied there).
 */
static uint8_t fast_grow_for(unsigned strategy, unsigned flags) {
    return ALLOC_FAST_PATHS && strategy == ALLOC_STRATEGY_TLSF &&
           (flags & (ALLOC_FLAG_POISON_ON_FREE | ALLOC_FLAG_POISON_ON_ALLOC)) == 0;
}

/*
 * fast_free_hi's value on heap h (as fast_free_lo_for's, and its end set). Stored only where a
 * build has the fast path: elsewhere it is the 0 that init's memset left.
 */
static uintptr_t fast_free_hi_for(const alloc_heap *h) {
    return fast_free_lo_for(h) == UINTPTR_MAX ? 0 : h->end;
}
static void set_fast_free_hi(alloc_heap *h) {
#if QUICK_BINS > 0 && ALLOC_FAST_PATHS
    h->fast_free_hi = fast_free_hi_for(h);
#else
    (void)h;
#endif
}

enum alloc_error alloc_heap_init(alloc_heap **out, void *region, size_t size,
                                 const struct alloc_config *config) {
    static const struct alloc_config defaults = {.strategy = ALLOC_STRATEGY_TLSF,
                                                 .flags = ALLOC_DEFAULT_FLAGS};
    if (out == NULL)
        return ALLOC_ERR_NULL_HEAP;
    *out = NULL;
    if (config == NULL)
        config = &defaults;
    if (region == NULL)
        return ALLOC_ERR_NULL_REGION;
    uintptr_t base = (uintptr_t)region;
    if ((base & (GRANULE - 1)) != 0)
        return ALLOC_ERR_MISALIGNED_REGION;
    const struct alloc_strategy_ops *ops = strategy_ops(config->strategy);
    if (ops == NULL)
        return ALLOC_ERR_BAD_CONFIG;
    unsigned known = ALLOC_FLAG_POISON_ON_FREE | ALLOC_FLAG_POISON_ON_ALLOC |
                     ALLOC_FLAG_NO_QUICK_CACHE | ALLOC_FLAG_NO_SMALL_RUNS |
                     ALLOC_FLAG_ZEROED_REGION;
    if ((config->flags & ~known) != 0)
        return ALLOC_ERR_BAD_CONFIG;
    size_t ctrl = alloc_control_size(config->strategy);
    if (size < ctrl + BLOCK_PHASE + MIN_BLOCK + HDR)
        return ALLOC_ERR_REGION_TOO_SMALL;
    if (size > MAX_HEAP_SIZE || base + size < base)
        return ALLOC_ERR_REGION_TOO_LARGE;

    /*
     * Read before the region is written: a caller may have built its config in the memory it
     * hands over, which the control structure then overwrites.
     */
    const struct alloc_config cfg = *config;
    alloc_heap *h = (alloc_heap *)region;
    uintptr_t key = make_key(h, base);
    __builtin_memset(h, 0, ctrl);
    /* With TLSF alone, the checks above have left one strategy: TLSF, 0, as the memset left it. */
    _Static_assert(ALLOC_STRATEGY_TLSF == 0, "alloc: a zeroed control structure says TLSF");
    if (!TLSF_ALONE)
        h->strategy = (uint8_t)cfg.strategy;
    h->flags = cfg.flags;
    hook_set(h, cfg.error_hook, cfg.error_ctx);
    h->key = key;
    h->ops = ops;
    h->first = base + ctrl + BLOCK_PHASE;
    h->raw_end = base + size;
    h->end = ((base + size) & ~(uintptr_t)(GRANULE - 1)) - HDR;
    /*
     * The switches of what a build leaves out (quick lists, runs, fast paths) stay false as the
     * memset left them: stores of a constant false cost a small board's flash for nothing.
     */
#if QUICK_BINS > 0
    h->quick_enabled = cfg.strategy == ALLOC_STRATEGY_TLSF && QUICK_BINS > 0 &&
                       (cfg.flags & ALLOC_FLAG_NO_QUICK_CACHE) == 0;
    if (h->quick_enabled && (cfg.flags & ALLOC_FLAG_POISON_ON_ALLOC) == 0)
        h->fast_quick_end = h->fast_quick_mask = ALLOC_QUICK_MAX_SIZE;
#endif
    h->fast_free_lo = fast_free_lo_for(h);
    set_fast_free_hi(h);
    /*
     * Zero tracking: the TLSF top block carries no links, so nothing but headers is ever written
     * above the highest payload handed out (a build without it, TOP_BLOCK 0, marks the links
     * it writes there as handed out); first fit writes links into its last free block. Not with
     * poison on free, which fills the first block, the whole region, as it is released below. Nor
     * with poison on alloc: malloc raises the mark before it poisons, but calloc_slow's slot or
     * block (alloc_malloc's, from allocate's run path or hand_out) and calloc_retry's block
     * (allocate_retry's hand_out) are poisoned as they are handed out, above the clean that calloc
     * read before, below which alone calloc_clear clears (calloc_hand_out poisons nothing).
     */
    bool zeroed = (cfg.flags & ALLOC_FLAG_ZEROED_REGION) != 0 &&
                  (TLSF_ALONE || cfg.strategy == ALLOC_STRATEGY_TLSF) &&
                  (cfg.flags & (ALLOC_FLAG_POISON_ON_FREE | ALLOC_FLAG_POISON_ON_ALLOC)) == 0;
    clean_set(h, zeroed ? h->first + HDR : UINTPTR_MAX);
#if RUN_CLASSES > 0
    h->runs_enabled = RUN_CLASSES > 0 && cfg.strategy == ALLOC_STRATEGY_TLSF &&
                      (cfg.flags & ALLOC_FLAG_NO_SMALL_RUNS) == 0;
    if (h->runs_enabled && (cfg.flags & ALLOC_FLAG_POISON_ON_ALLOC) == 0)
        h->fast_run_end = ALLOC_RUN_MAX_SIZE + 1;
#endif
    h->fast_grow = fast_grow_for(cfg.strategy, cfg.flags);

    block_t *first = blk_at(h->first);
    size_t fs = h->end - h->first;
    /*
     * The first block is written USED and released as a free releases a block, which poisons it,
     * files it with the strategy (its state as the memset left it: no free block) and sets the
     * END marker's PREV_FREE (and, in a build without fast paths, writes its prev word: the
     * default's TLSF release of a block that merges with nothing leaves its successor's prev word,
     * the boundary tag its callers have checked, as it is, so it is written here). It has no
     * neighbour to merge, so the release cannot fail.
     */
    blk_set(h, first, 0, fs, ST_USED, false);
    if (ALLOC_FAST_PATHS)
        blk_set_prev_size(h, blk_at(h->end), fs);
    word_set(h, &blk_at(h->end)->size, ST_END);
    (void)ops->release(h, first, false);
    *out = h;
    return ALLOC_OK;
}

/*
 * Walks the heap from the first block to find what ptr (whose header failed the quick checks)
 * points into. O(blocks); only used to name an error.
 */
static enum alloc_error diagnose(const alloc_heap *h, uintptr_t p) {
    uintptr_t a = h->first;
    size_t prev = 0;
    while (a < h->end) {
        const block_t *b = blk_at(a);
        if (!hdr_ok(h, b) || blk_prev_size(b) != prev)
            return ALLOC_ERR_CORRUPTED_HEADER;
        size_t s = blk_size_shifts(b);
        if (blk_state(b) == ST_END || s < MIN_BLOCK || s > h->end - a)
            return ALLOC_ERR_CORRUPTED_HEADER;
        if (p >= a && p < a + s) {
            if (p == a + HDR)
                return ALLOC_ERR_CORRUPTED_HEADER;
            return blk_state(b) == ST_USED ? ALLOC_ERR_FOREIGN_POINTER : ALLOC_ERR_DOUBLE_FREE;
        }
        prev = s;
        a += s;
    }
    return ALLOC_ERR_FOREIGN_POINTER;
}

/*
 * Checks that ptr is the payload of a USED block of this heap with a sound header and sound
 * neighbour boundary tags. O(1) when it is. A ptr misaligned or out of range is named from its
 * address, and a header that passes the checks of itself and its successor names its own error (a
 * double free where it is not USED, a foreign pointer where it starts a run). A header that fails
 * them, or a predecessor's tag that fails, is named by the walk (diagnose), not by what the word
 * in front of ptr says: that word may be a stale or zeroed header, or payload, whose check bits
 * pass by chance (1 in 2^16 for a header on a 32-bit target), and the walk still tells a double
 * free and a foreign pointer from a corrupted header.
 */
static enum alloc_error validate_used(const alloc_heap *h, const void *ptr, block_t **out) {
    uintptr_t p = (uintptr_t)ptr;
    if ((p & (GRANULE - 1)) != 0)
        return ALLOC_ERR_MISALIGNED_POINTER;
    /* p > first is p >= first + HDR for a granule-aligned p (first is BLOCK_PHASE past one). */
    if (p <= h->first || p >= h->end)
        return ALLOC_ERR_FOREIGN_POINTER;
    block_t *b = blk_from_payload(ptr);
#if ALLOC_FAST_PATHS
    if (!hdr_ok(h, b))
        return diagnose(h, p);
    hword_t w = b->size;
    size_t s = (size_t)(w & SIZE_MASK);
    unsigned st = (unsigned)(w & STATE_MASK);
    if (st == ST_END || s < MIN_BLOCK || s > h->end - (uintptr_t)b)
        return diagnose(h, p);
    const block_t *next = blk_at((uintptr_t)b + s);
    if (!prev_word_is(h, next, s) || !word_ok(h, &next->size))
        return diagnose(h, p);
#else
    /* The same checks, through the copy shared with the checks of a free-list node. */
    size_t s = alloc_block_sound(h, b, 0, 0);
    hword_t w = b->size;
    unsigned st = (unsigned)(w & STATE_MASK);
    if (s == 0 || st == ST_END)
        return diagnose(h, p);
#endif
    if (st != ST_USED)
        return ALLOC_ERR_DOUBLE_FREE;
    if ((w & RUN_FLAG) != 0)
        return ALLOC_ERR_FOREIGN_POINTER; /* the start of a run: its slots are the allocations */
    if ((w & PREV_FREE) != 0) {
        size_t ps = blk_prev_size(b);
#if ALLOC_FAST_PATHS
        /*
         * A multiple of a granule too: two flipped bits in matching places of two quarters of the
         * word keep its check bits (the fold is linear), and a predecessor's header read at a
         * place that is not a block's is a misaligned read.
         */
        if (ps < MIN_BLOCK || ps > (uintptr_t)b - h->first || (ps & (GRANULE - 1)) != 0)
            return diagnose(h, p);
        const block_t *pb = blk_at((uintptr_t)b - ps);
        if (!size_word_is(h, pb, (hword_t)ps | ST_FREE))
            return diagnose(h, p);
#else
        /*
         * A FREE block that says size ps, checked as a free-list node is, so that it ends where b
         * starts: a ps below MIN_BLOCK fails there, and one beyond the first block its in_heap.
         * But for ps 0, which would be b itself, and whose failure (0) would then match ps.
         */
        if (ps == 0 ||
            alloc_block_sound(h, blk_at((uintptr_t)b - ps), PREV_FREE | STATE_MASK, ST_FREE) != ps)
            return diagnose(h, p);
#endif
    }
    *out = b;
    return ALLOC_OK;
}

/*
 * The common case of validate_used in a few instructions: a USED block with sound tags, a
 * successor whose boundary tag matches and, if PREV_FREE is set, a FREE predecessor of the
 * recorded size. Returns NULL for anything else, which validate_used then examines.
 */
static ALWAYS_INLINE bool fast_range_ok(const alloc_heap *h, uintptr_t p);
static ALWAYS_INLINE bool block_fast_ok(const alloc_heap *h, uintptr_t p);
static ALWAYS_INLINE block_t *validate_fast(const alloc_heap *h, const void *ptr) {
    if (!ALLOC_FAST_PATHS)
        return NULL; /* validate_used makes every check, in one copy */
    uintptr_t p = (uintptr_t)ptr;
    if (!fast_range_ok(h, p))
        return NULL;
    return block_fast_ok(h, p) ? blk_from_payload((const void *)p) : NULL;
}

/*
 * validate_fast's first test: p is granule-aligned and in [first + HDR, end) (p > first is
 * p >= first + HDR for a granule-aligned p, first being BLOCK_PHASE past a granule).
 */
static ALWAYS_INLINE bool fast_range_ok(const alloc_heap *h, uintptr_t p) {
    return (p & (GRANULE - 1)) == 0 && p > h->first && p < h->end;
}

/*
 * alloc_free's first test: fast_range_ok on a heap whose frees take its fast path, false on any
 * other (fast_free_lo is then UINTPTR_MAX, above every pointer, and fast_free_hi 0).
 */
static ALWAYS_INLINE bool free_range_ok(const alloc_heap *h, uintptr_t p) {
    return (p & (GRANULE - 1)) == 0 && p >= h->fast_free_lo && p < h->fast_free_hi;
}

/*
 * The rest of validate_fast, for a p that fast_range_ok accepts: p's block passes. A truth value
 * rather than the block or NULL, so that a caller branches on it with no test of a pointer that
 * is either (which clang -O1 makes, behind a stack frame that both of its paths then pay for).
 */
static ALWAYS_INLINE bool block_fast_ok(const alloc_heap *h, uintptr_t p) {
    const block_t *b = blk_from_payload((const void *)p);
    hword_t w = probe_hword(&b->size); /* a run slot's is the previous slot's payload */
    size_t s = (size_t)(w & SIZE_MASK);
    /*
     * USED and no RUN flag, (w & (STATE_MASK | RUN_FLAG)) == ST_USED, tested as ((w - 1) & that
     * mask) == 0: where bit 0 is set, w - 1 clears it and keeps bits 1 and 3; where it is clear,
     * the borrow sets it. A lea and a test, not a copy of w, a mask and a comparison.
     */
    _Static_assert(ST_USED == 1 && STATE_MASK == 3 && RUN_FLAG == 8,
                   "alloc: block_fast_ok's state test needs USED in bit 0 of the mask's bits");
    /*
     * MIN_BLOCK <= s <= end - b in one comparison with end - p, which the range test has just
     * computed: s - MIN_BLOCK < end - p, a wrapped s - MIN_BLOCK for s below MIN_BLOCK being above
     * every end - p. For s >= MIN_BLOCK, s and end - b multiples of GRANULE, s - MIN_BLOCK <
     * end - b - HDR is s < end - b + (MIN_BLOCK - HDR), which, with 0 < MIN_BLOCK - HDR <= GRANULE,
     * is s <= end - b.
     */
    _Static_assert(MIN_BLOCK > HDR && MIN_BLOCK - HDR <= GRANULE,
                   "alloc: block_fast_ok's size bound needs MIN_BLOCK - HDR in (0, GRANULE]");
    if (((w - ST_USED) & (STATE_MASK | RUN_FLAG)) != 0 || s - MIN_BLOCK >= h->end - p ||
        !seal_ok(h, &b->size, w))
        return false;
    /* The boundary tag: a stray write cannot change b's size and its successor's copy at once. */
    if (!prev_word_is(h, blk_at((uintptr_t)b + s), s))
        return false;
    /* The prev word is used (and so checked) only when the predecessor is free. */
    if ((w & PREV_FREE) != 0) {
        /*
         * h made opaque (an empty asm): this branch reads h's fields again, so that no register
         * keeps them across the tests above, which alloc_free would have to save; b's size word,
         * which the path after reads, stays where it is.
         */
        __asm__("" : "+r"(h));
        /*
         * free_prev_ok's range and granule tests, made first in a branch of their own
         * (free_prev_ok makes them again, folded away): merged with its other tests into flag
         * arithmetic, they would take one more saved register in alloc_free, whose every call
         * would push and pop it.
         */
        size_t ps = blk_prev_size(b);
        if (ps > (uintptr_t)b - h->first || (ps & (GRANULE - 1)) != 0)
            return false;
        if (!free_prev_ok(h, b))
            return false;
    }
    return true;
}

/*
 * The USED block whose payload ptr is, for free, realloc and usable_size: validate_fast's few
 * instructions, else every check of validate_used, whose error is reported here, once for the
 * three, and set in *err (NULL returned). Inlined into each where the build asks for speed: a call
 * would cost the slow paths of realloc and free 0.1 to 0.6 instructions per operation on the traces
 * of alloc/README.md.
 */
static INLINE_OR_ONE_COPY block_t *used_block(alloc_heap *h, const void *ptr,
                                              enum alloc_error *err) {
    block_t *b = validate_fast(h, ptr);
    if (b != NULL)
        return b;
    enum alloc_error e = validate_used(h, ptr, &b);
    if (e == ALLOC_OK)
        return b;
    alloc_report(h, e, ptr);
    *err = e;
    return NULL;
}

/*
 * A general path that is out of line so that a fast path calls nothing; in a build without fast
 * paths there is nothing to keep apart, and it is left to the compiler, which inlines it into its
 * one caller rather than pay for a call and a frame more.
 */
#if ALLOC_FAST_PATHS
#define SLOW_PATH __attribute__((noinline))
#else
#define SLOW_PATH inline
#endif

/* The usable size of p, a pointer this heap has just handed out for a request of n bytes. */
static size_t usable_of(const alloc_heap *h, const void *p, size_t n) {
    /* Only a request a run can serve may have been served by one. */
    uintptr_t r = runs_on(h) && n <= ALLOC_RUN_MAX_SIZE ? run_of(h, (uintptr_t)p) : 0;
    if (r != 0)
        return run_slot_size(run_class(run_meta(r)[RUN_STATE]));
    return blk_size_shifts(blk_from_payload(p)) - HDR;
}

/*
 * Hands out USED block b, just taken from the strategy: marks its bytes handed out, accounts it,
 * poisons its payload if the heap asks for it. Returns the payload. b's size is read once: to the
 * compiler, the stores to h's counts in between may write b's header, which it would otherwise
 * read and mask again.
 */
static FAST_INLINE void *hand_out_as(alloc_heap *h, block_t *b, bool no_poison) {
    size_t s = blk_size_shifts(b);
    if (no_poison)
        return hand_out_unpoisoned(h, b, s);
    /*
     * Where the poison's memset may follow, the compiler keeps s - HDR for its length, and adds
     * that (an opaque copy, as hand_out_unpoisoned's, would take a move more).
     */
    mark_handed_out(h, (uintptr_t)b + s);
    account_taken(h, s - HDR);
    void *p = blk_payload(b);
    if ((h->flags & ALLOC_FLAG_POISON_ON_ALLOC) != 0)
        __builtin_memset(p, ALLOC_POISON_ALLOC_BYTE, s - HDR);
    return p;
}
static FAST_INLINE void *hand_out(alloc_heap *h, block_t *b) {
    return hand_out_as(h, b, false);
}

/* alloc_calloc's retry and hand-out (after calloc_clear, below), for allocate_bs_as. */
static __attribute__((noinline)) void *calloc_retry(alloc_heap *h, size_t bs, bool try_quick,
                                                    const block_t *first);
static ALWAYS_INLINE void *calloc_hand_out(alloc_heap *h, block_t *b);

/*
 * Runs with no slot in use are free space too: allocate_block's second try, after the strategy has
 * found no block of bs bytes (`first`, the first try's NULL), releases them and asks once more; not
 * after a refusal (`first` REFUSED), whose damage the second try would meet and report again. Out
 * of line, so that allocate_block keeps nothing across its first call but what hand_out needs; the
 * refusal tested here, on the first try's result passed on as it is.
 */
static __attribute__((noinline)) void *allocate_retry(alloc_heap *h, size_t bs, size_t align,
                                                      bool try_quick, const block_t *first) {
    if (first != NULL || !alloc_run_release_empty(h))
        return NULL;
    block_t *b = heap_ops(h)->alloc(h, bs, align, try_quick);
    return got_block(b) ? hand_out(h, b) : NULL;
}

#if TLSF_COMPILED_IN && ALLOC_FAST_PATHS
/*
 * What allocate_bs does where the strategy found no block of bs bytes (first, NULL or REFUSED),
 * for tlsf_malloc_block (tlsf.h), which has handed out what it found itself: no quick list to try
 * again (alloc_malloc sends it no size whose list holds a block).
 */
void *alloc_malloc_missed(alloc_heap *h, size_t bs, const block_t *first) {
    if (RUN_CLASSES == 0 || h->runs == 0)
        return NULL;
    return allocate_retry(h, bs, GRANULE, false, first);
}
#endif

/*
 * allocate's block of bs bytes (a block size): from the strategy, once more after releasing empty
 * runs (allocate_retry), handed out. no_poison: the caller knows the heap does not poison on alloc
 * (fast_quick_end), a constant that drops the test. `zeroed`, a constant: alloc_calloc's block
 * (calloc_bs), retried by calloc_retry and handed out by calloc_hand_out, which clear it (malloc's
 * way named first in each choice: the order clang then emits the two retries in is as before
 * calloc_bs shared this code, every object the same).
 */
static FAST_INLINE void *allocate_bs_as(alloc_heap *h, size_t bs, size_t align, bool try_quick,
                                        bool no_poison, bool zeroed) {
    /*
     * What the retry needs across the first call: bs with try_quick in its low bit (bs is a
     * multiple of GRANULE), kept opaque so that the compiler keeps this one word rather than both,
     * one saved register fewer.
     */
    size_t retry = opaque_size(bs | try_quick);
    block_t *b = heap_ops(h)->alloc(h, bs, align, try_quick);
    /*
     * Expected to be a block, as a pointer is expected not to be NULL: else clang laid the hit out
     * behind a jump, one instruction more a call.
     */
    if (__builtin_expect(!got_block(b), 0)) {
        if (RUN_CLASSES == 0 || h->runs == 0)
            return NULL;
        bs = retry & ~(size_t)1;
        try_quick = (retry & 1) != 0;
        return !zeroed ? allocate_retry(h, bs, align, try_quick, b)
                       : calloc_retry(h, bs, try_quick, b);
    }
    return !zeroed ? hand_out_as(h, b, no_poison) : calloc_hand_out(h, b);
}
static FAST_INLINE void *allocate_bs(alloc_heap *h, size_t bs, size_t align, bool try_quick,
                                     bool no_poison) {
    return allocate_bs_as(h, bs, align, try_quick, no_poison, false);
}
/* allocate_bs for a request of size bytes. */
static FAST_INLINE void *allocate_block(alloc_heap *h, size_t size, size_t align, bool try_quick) {
    return allocate_bs(h, block_size_for(size), align, try_quick, false);
}

/*
 * A request of size bytes aligned to align (a power of two in [GRANULE, ALLOC_MAX_REQUEST]) is
 * refused as too large: the one definition of that bound, for allocate, alloc_allocate_batch,
 * alloc_malloc, malloc_large, calloc_large and realloc (align GRANULE, in place or not).
 */
static inline bool request_too_large(size_t size, size_t align) {
    return size > ALLOC_MAX_REQUEST - align;
}

/*
 * allocate's block after its run path found no slot: `missed` NULL (no run to be had), or REFUSED
 * (a damaged list of runs, or a damaged block the strategy met for a new run, reported), where NULL
 * is returned at once: the request is refused, and a block, or the release of empty runs where
 * none can be had, would meet the same damage and report it again. Out of line: tested inline, the
 * refusal gave the take's hit 2 instructions more at -O1 (a flag clang kept for the two ways).
 */
static __attribute__((noinline)) void *allocate_missed(alloc_heap *h, size_t size, size_t align,
                                                       bool try_quick, const void *missed);

/*
 * Allocation once align is known to be a power of two in [GRANULE, ALLOC_MAX_REQUEST]. Skips
 * the quick list if try_quick is false (for a caller that found it empty). `run_known`, a
 * constant: the caller has found a heap with fast_run_end set (runs, no poison on alloc) and a
 * size below it, for align GRANULE: the tests of the request's bound, of runs_on, of the size, of
 * align and of the poison flag are then not made. No caller passes try_quick false or run_known
 * true now: malloc_run, which passed run_known, takes its slot through alloc_run_take_or_block.
 */
static FAST_INLINE void *allocate_as(alloc_heap *h, size_t size, size_t align, bool try_quick,
                                     bool run_known) {
    if (!run_known && request_too_large(size, align))
        return NULL;
    if (run_known || (runs_on(h) && size <= ALLOC_RUN_MAX_SIZE && align == GRANULE)) {
        void *p = alloc_run_take(h, run_class_of(size));
        if (got_block(p)) {
            if (!run_known && (h->flags & ALLOC_FLAG_POISON_ON_ALLOC) != 0)
                __builtin_memset(p, ALLOC_POISON_ALLOC_BYTE, run_slot_size(run_class_for(size)));
            return p;
        }
        return allocate_missed(h, size, align, try_quick, p);
    }
    return allocate_block(h, size, align, try_quick);
}
static FAST_INLINE void *allocate(alloc_heap *h, size_t size, size_t align, bool try_quick) {
    return allocate_as(h, size, align, try_quick, false);
}

static __attribute__((noinline)) void *allocate_missed(alloc_heap *h, size_t size, size_t align,
                                                       bool try_quick, const void *missed) {
    return missed == NULL ? allocate_block(h, size, align, try_quick) : NULL;
}

void *alloc_run_missed(alloc_heap *h, size_t size, const void *missed) {
    return allocate_missed(h, size, GRANULE, true, missed);
}

void *alloc_allocate(alloc_heap *h, size_t size, size_t align) {
    if (h == NULL)
        return NULL;
#if ALLOC_FAST_PATHS
    if (align <= GRANULE) {
        /* Bits 1, 2, 4, 8 and 16: the powers of two up to GRANULE (no popcount needed). */
        if (((0x10116u >> align) & 1u) == 0)
            return NULL;
        align = GRANULE;
    } else if ((align & opaque_size(align - 1)) != 0 || align > ALLOC_MAX_REQUEST) {
        /*
         * align - 1 opaque (an empty asm): else clang makes the test a popcount, which x86-64
         * without POPCNT expands into about 20 instructions, where the and takes 3.
         */
        return NULL;
    }
#else
    /*
     * The same powers of two in one test for all, less code: a power of two has its one bit at
     * the top once shifted by its leading zeros (a clz, where clang makes (x & (x - 1)) a
     * popcount, a long sequence on a target without one).
     */
    if (align - 1 >= ALLOC_MAX_REQUEST ||
        (unsigned long)align << __builtin_clzl(align) != ~(~0ul >> 1))
        return NULL;
    if (align < GRANULE)
        align = GRANULE;
#endif
    return allocate(h, size, align, true);
}

/*
 * Cuts USED block b into n >= 2 blocks, the first n - 1 of block size bs and the last the rest,
 * and hands each out: they are freed one by one.
 */
static void carve(alloc_heap *h, block_t *b, size_t bs, size_t n, void **out) {
    size_t last = blk_size(b) - (n - 1) * bs;
    block_t *after = blk_next(b);
    blk_set_size_state(h, b, bs, ST_USED);
    for (size_t i = 1; i < n; i++)
        blk_set(h, blk_at((uintptr_t)b + i * bs), bs, i + 1 < n ? bs : last, ST_USED, false);
    blk_set_prev_size(h, after, last);
    for (size_t i = 0; i < n; i++)
        out[i] = hand_out(h, blk_at((uintptr_t)b + i * bs));
}

size_t alloc_allocate_batch(alloc_heap *h, size_t size, void **out, size_t n) {
    if (h == NULL || out == NULL || n == 0 || request_too_large(size, GRANULE))
        return 0;
    size_t bs = block_size_for(size);
    if (n > 1 && bs <= (ALLOC_MAX_REQUEST - 2 * ALLOC_BATCH_ALIGN) / n) {
        /* Whole cache lines from the first payload on: no other batch writes into them. */
        size_t lines = (n * bs + ALLOC_BATCH_ALIGN - 1) & ~(size_t)(ALLOC_BATCH_ALIGN - 1);
        block_t *b = heap_ops(h)->alloc(h, lines, ALLOC_BATCH_ALIGN, true);
        if (got_block(b)) {
            carve(h, b, bs, n, out);
            return n;
        }
        /* Refused: the damage met is reported, and the blocks one by one would meet it again. */
        if (b != NULL)
            return 0;
    }
    /* No free block holds them all: one at a time, wherever each fits. */
    size_t got = 0;
    while (got < n && (out[got] = alloc_allocate(h, size, GRANULE)) != NULL)
        got++;
    return got;
}

/*
 * The general case of alloc_malloc, kept out of line so that the fast path calls nothing. Its one
 * caller passes try_quick true: no fast path has tried the quick list of a size it sends here.
 */
static __attribute__((noinline)) void *malloc_slow(alloc_heap *h, size_t size, bool try_quick) {
    return h == NULL ? NULL : allocate(h, size, GRANULE, try_quick);
}

/*
 * malloc_slow for a request that a run cannot serve (h not NULL, size at most ALLOC_QUICK_MAX_SIZE
 * and above the runs' sizes, or on a heap without runs): alloc_malloc's quick-list miss where the
 * list is not empty, its head refused (quick_pop_silent; an empty list's miss goes to
 * tlsf_malloc_block). try_quick is then true, so that the strategy's alloc meets that head again,
 * reports it and goes on to its lists (tlsf.c, quick_report_plain). Called only where
 * fast_quick_end is set, so on a heap that does not poison on alloc: no test of the flag. bs is the
 * block size of the quick list that missed, quick_block_size(quick_index_for(size)), which
 * alloc_malloc has computed: block_size_for(size) for a size of 1 or more (no size is rounded
 * again here).
 */
static __attribute__((noinline)) void *malloc_block(alloc_heap *h, size_t bs, bool try_quick) {
    return allocate_bs(h, bs, GRANULE, try_quick, true);
}

/*
 * malloc_slow for a request above the runs' sizes (h not NULL) that alloc_malloc does not send to
 * tlsf_malloc_block: any such size on a heap whose fast_quick_end is 0 (first fit, no quick lists,
 * or poison on alloc, where the strategy may still serve a quick size from its quick list), and one
 * too large on any heap.
 */
static __attribute__((noinline)) void *malloc_large(alloc_heap *h, size_t size) {
    if (request_too_large(size, GRANULE))
        return NULL;
    /*
     * block_size_for without its raise to MIN_BLOCK, which only a request of 0 bytes needs: this
     * one is above the runs' sizes, so at least 1 byte (three instructions fewer a call).
     */
    _Static_assert(((1 + HDR + GRANULE - 1) & ~(GRANULE - 1)) >= MIN_BLOCK,
                   "alloc: a request of 1 byte or more needs no raise to MIN_BLOCK");
    return allocate_bs(h, header_and_payload(size), GRANULE, true, false);
}

/*
 * Reports a word of the control structure that a fast path found it could not be holding (a
 * stray write), as ALLOC_ERR_CORRUPTED_HEAP at that word; returns NULL, the call's failure, having
 * changed nothing.
 */
static __attribute__((noinline)) void *fast_word_damaged(alloc_heap *h, const void *word) {
    alloc_report(h, ALLOC_ERR_CORRUPTED_HEAP, word);
    return NULL;
}

/* Out of line: inlined, its call of the hook gave every calloc a frame and four saves. */
COLD_KEEPS_REGS __attribute__((noinline)) uintptr_t alloc_clean_damaged(alloc_heap *h) {
    alloc_report(h, ALLOC_ERR_CORRUPTED_HEAP, &h->clean);
    clean_set(h, UINTPTR_MAX);
    return UINTPTR_MAX;
}

/*
 * hand_out_unpoisoned's way where clean is damaged: the report (alloc_clean_damaged), then the
 * accounting and the payload, as hand_out_unpoisoned's own way. Out of line, reached by a tail
 * call.
 */
__attribute__((noinline)) void *alloc_hand_out_clean_damaged(alloc_heap *h, block_t *b, size_t s) {
    (void)alloc_clean_damaged(h);
    account_taken(h, s - HDR);
    return blk_payload(b);
}

/*
 * malloc_slow for a run size whose fast take found no slot, sent here by fast_run_end (masked,
 * fast_run_bound), which says runs and no poison on alloc: alloc_run_take_or_block's take, from
 * the class table, with none of allocate's tests of the request's bound, of the size and of the
 * poison flag, then alloc_run_missed's block if no run serves it. runs_on and fast_run_end's one
 * value are tested first: on a heap without runs, where a stray write set it, no run is made (a
 * slot there would be taken for a block by every path that tests runs_on).
 */
static __attribute__((noinline)) void *malloc_run(alloc_heap *h, size_t size) {
    if (!runs_on(h) || h->fast_run_end != ALLOC_RUN_MAX_SIZE + 1)
        return fast_word_damaged(h, &h->fast_run_end);
    return alloc_run_take_or_block(h, run_class_of(size), size);
}

void *alloc_malloc(alloc_heap *h, size_t size) {
    /* Without the fast paths, the one copy of allocate's code, in alloc_allocate, serves it. */
    if (!ALLOC_FAST_PATHS)
        return alloc_allocate(h, size, GRANULE);
    /* Fast paths: a run slot or a quick-list hit. They make no call, so need no stack frame. */
    if (h == NULL)
        return NULL;
    if (RUN_CLASSES > 0 && size < fast_run_bound(h)) {
        /*
         * The class as a size_t (no zero extension for the list's index), kept opaque: else the
         * compiler keeps size + 15 for the slot's bytes, a copy more than the class's shift back.
         */
        size_t c = opaque_size(run_class_fast(size));
        void *p = ALLOC_FAST_PATHS ? run_take_fast(h, c) : NULL;
        return p != NULL ? p : malloc_run(h, size);
    }
    if (QUICK_BINS > 0 && ALLOC_FAST_PATHS && size - 1 < fast_quick_bound(h)) {
        /*
         * Opaque: else the compiler keeps a copy of size - 1 for the block's size, an instruction
         * more on the way to a miss.
         */
        size_t i = opaque_size(quick_index_for(size));
        size_t bs = quick_block_size(i);
        block_t *b = quick_pop_silent(h, i);
        if (b != NULL) {
            /*
             * A quick list holds blocks of exactly its size. Opaque: else the compiler folds the
             * - HDR into the count's update, an add more than the lea that makes it. Its bytes
             * alone: a QUICK block is in taken_blocks already.
             */
            account_bytes_taken(h, opaque_size(bs - HDR));
            return blk_payload(b);
        }
        /*
         * A block: fast_quick_end and no fast_run_end leave no runs (a size the quick lists serve,
         * above the runs' sizes or on a heap without runs). The list empty: straight from TLSF's
         * lists, handed out there (fast_quick_end says TLSF, and no poison on alloc), with no
         * frame, no call through the ops and no quick list to try (tlsf_malloc_block); a
         * corrupted head, which the slow path reports: malloc_block.
         */
#if QUICK_BINS > 0 && ALLOC_FAST_PATHS
        /*
         * The list's head read again (memory forgotten, an empty asm): else clang jumps to
         * malloc_block from each failed test of a head it knows is there, and computes bs for it
         * before them all, on the hit's way too.
         */
        __asm__("" ::: "memory");
        if (quick_empty(h, i))
            return tlsf_malloc_block(h, bs);
#endif
        return malloc_block(h, bs, !quick_empty(h, i));
    }
    if (size > ALLOC_RUN_MAX_SIZE) {
        /*
         * Above the runs' sizes (and so the quick lists', where fast_quick_end is set: a TLSF heap
         * that does not poison on alloc): straight from TLSF's lists, as above. Else a block,
         * which malloc_large finds with no run path's frame.
         */
#if QUICK_BINS > 0 && ALLOC_FAST_PATHS
        /*
         * fast_quick_end read again (memory forgotten, an empty asm): else clang keeps it in a
         * register from the quick test, an instruction more on the quick-list hit.
         */
        __asm__("" ::: "memory");
        if (fast_quick_bound(h) != 0 && !request_too_large(size, GRANULE))
            return tlsf_malloc_block(h, header_and_payload(size));
#endif
        return malloc_large(h, size);
    }
    return malloc_slow(h, size, true);
}

/* Clears a slot of class c (1 .. RUN_CLASSES): stores of a size known here, not a call. */
static ALWAYS_INLINE void slot_clear(void *p, unsigned c) {
    switch (c) {
    case 1:
        __builtin_memset(p, 0, 16);
        break;
    case 2:
        __builtin_memset(p, 0, 32);
        break;
    case 3:
        __builtin_memset(p, 0, 48);
        break;
    default:
        __builtin_memset(p, 0, 64);
        break;
    }
}

/*
 * memset(p, 0, n) for calloc, p and n multiples of a word (a payload and its usable size, or the
 * part of it below clean: all multiples of 8 bytes on both layouts). The heap's own stores rather
 * than the platform's memset, whose cost the heap cannot bound: the kernel's stores a byte at a
 * time, and glibc's clears more than 2 KiB with `rep stosb`, which callgrind counts as one
 * instruction a byte (the replay's calloc of 4 KiB and more). Thirty-two words a turn, to an end
 * pointer (the loop's own work one add, compare and branch a turn), which the compiler may widen
 * to vector stores, then the remainder by 16, 8, 4, 2 and 1; below 16 words straight to the
 * remainder, as the 16-word loop did (measured: git 120.08 -> 118.80 instructions per operation,
 * no trace worse). no_builtin keeps it from turning the loop back into a call to memset. A build
 * for size keeps memset (fewer bytes).
 */
static __attribute__((noinline, no_builtin("memset"))) void *clear_words(void *p, size_t n) {
    uintptr_t *w = p;
    size_t words = n / sizeof(uintptr_t);
    if (words >= 16) {
        for (uintptr_t *end = w + (words & ~(size_t)31); w != end; w += 32) {
            w[0] = 0, w[1] = 0, w[2] = 0, w[3] = 0, w[4] = 0, w[5] = 0, w[6] = 0, w[7] = 0;
            w[8] = 0, w[9] = 0, w[10] = 0, w[11] = 0, w[12] = 0, w[13] = 0, w[14] = 0, w[15] = 0;
            w[16] = 0, w[17] = 0, w[18] = 0, w[19] = 0, w[20] = 0, w[21] = 0, w[22] = 0, w[23] = 0;
            w[24] = 0, w[25] = 0, w[26] = 0, w[27] = 0, w[28] = 0, w[29] = 0, w[30] = 0, w[31] = 0;
        }
        if (words & 16) {
            w[0] = 0, w[1] = 0, w[2] = 0, w[3] = 0, w[4] = 0, w[5] = 0, w[6] = 0, w[7] = 0;
            w[8] = 0, w[9] = 0, w[10] = 0, w[11] = 0, w[12] = 0, w[13] = 0, w[14] = 0, w[15] = 0;
            w += 16;
        }
    }
    if (words & 8) {
        w[0] = 0, w[1] = 0, w[2] = 0, w[3] = 0, w[4] = 0, w[5] = 0, w[6] = 0, w[7] = 0;
        w += 8;
    }
    if (words & 4) {
        w[0] = 0, w[1] = 0, w[2] = 0, w[3] = 0;
        w += 4;
    }
    if (words & 2) {
        w[0] = 0, w[1] = 0;
        w += 2;
    }
    if (words & 1)
        w[0] = 0;
    /*
     * p, opaque (an empty asm): else clang, seeing that p comes back, has each caller keep p for
     * itself across the call, which then cannot be a tail call (a frame and three saves more).
     */
    __asm__("" : "+r"(p));
    return p;
}

/*
 * Clears p, `usable` bytes just handed out, where they may have been handed out before: below
 * clean, h->clean as it was before p was handed out (bytes at or above it had never been, so they
 * are zero). Marks p's end handed out, as the fast paths hand out quick-listed blocks and slots
 * without a mark of their own; without them, what alloc_malloc returns is marked already (a block
 * by hand_out, a slot with its whole run when the run was made). Returns p, by a tail call to
 * clear_words (memset in a build for size) where it clears.
 */
static ALWAYS_INLINE void *calloc_clear(alloc_heap *h, void *p, size_t usable, uintptr_t clean) {
    uintptr_t start = (uintptr_t)p, end = start + usable;
    if (end > clean) { /* never, without a zeroed region: every byte was handed out before */
        if (ALLOC_FAST_PATHS)
            mark_handed_out_checked(h, end);
        if (clean <= start)
            return p;
        usable = clean - start;
    }
    if (ALLOC_FAST_PATHS)
        return clear_words(p, usable);
    return __builtin_memset(p, 0, usable);
}

/*
 * calloc_clear for the fast path's block, which found clean not matching its check word: reported
 * (alloc_clean_damaged), then every byte cleared. Out of line, reached by a tail call, so that the
 * fast path makes no call of its own and keeps no frame.
 */
static __attribute__((noinline)) void *calloc_clear_damaged(alloc_heap *h, void *p, size_t usable) {
    (void)alloc_clean_damaged(h);
    return clear_words(p, usable);
}

/* calloc_clear for the fast path: clean read and checked here. */
static ALWAYS_INLINE void *calloc_clear_fast(alloc_heap *h, void *p, size_t usable) {
    uintptr_t clean = h->clean;
    if (!clean_intact(h, clean))
        return calloc_clear_damaged(h, p, usable);
    return calloc_clear(h, p, usable, clean);
}

/*
 * The general case of alloc_calloc, for n bytes (h not NULL): alloc_malloc's block or slot, cleared
 * where it may have been handed out before. Out of line, so that the fast paths call nothing but
 * clear_words.
 */
static SLOW_PATH void *calloc_slow(alloc_heap *h, size_t n) {
    /* Read before alloc_malloc, whose hand_out may raise it. */
    uintptr_t clean = calloc_clean(h);
    void *p = alloc_malloc(h, n);
    if (p == NULL)
        return NULL;
    return calloc_clear(h, p, usable_of(h, p, n), clean);
}

/*
 * hand_out_as for alloc_calloc's block b, just taken from the strategy: accounted (the count's
 * operand opaque, as in hand_out_as where no memset follows), then cleared by calloc_clear, which
 * marks its end handed out (hand_out_as's mark, made there once). Never poisoned: calloc's
 * payloads are not (alloc/heap.h), and on a heap that poisons on alloc, which tracks no zeroed
 * memory, calloc_clear clears every byte, so a poison would be written only to be overwritten.
 * h->clean is read here, after the strategy's call, where calloc_slow reads it before
 * alloc_malloc: with TOP_BLOCK the strategy never moves it (it writes only headers above it, the
 * top block carrying no links; only a build without TOP_BLOCK marks the links it files there), so
 * it is the value from before the request, and no register keeps it across the call.
 */
static ALWAYS_INLINE void *calloc_hand_out(alloc_heap *h, block_t *b) {
    _Static_assert(!ALLOC_FAST_PATHS || TOP_BLOCK, "alloc: calloc_hand_out reads clean after the "
                                                   "strategy's call, which needs TOP_BLOCK");
    size_t s = blk_size(b);
    uintptr_t clean = calloc_clean(h);
    account_taken(h, opaque_size(s - HDR));
    return calloc_clear(h, blk_payload(b), s - HDR, clean);
}

/*
 * allocate_retry for calloc_bs (empty runs released, the strategy asked once more), then cleared
 * as calloc_slow clears: clean read before, as there (a rare path: allocate_retry's code, not a
 * copy of its own).
 */
static __attribute__((noinline)) void *calloc_retry(alloc_heap *h, size_t bs, bool try_quick,
                                                    const block_t *first) {
    uintptr_t clean = calloc_clean(h);
    void *p = allocate_retry(h, bs, GRANULE, try_quick, first);
    return p != NULL ? calloc_clear(h, p, blk_size(blk_from_payload(p)) - HDR, clean) : NULL;
}

/*
 * allocate_bs_as for alloc_calloc's block of bs bytes: the block malloc_block or malloc_large would
 * hand out for the request, cleared as calloc_slow clears it, with no second dispatch through
 * alloc_malloc, no usable_of and no frame of calloc_slow's around the allocation.
 */
static ALWAYS_INLINE void *calloc_bs(alloc_heap *h, size_t bs, bool try_quick) {
    return allocate_bs_as(h, bs, GRANULE, try_quick, true, true);
}

#if QUICK_BINS > 0 && ALLOC_FAST_PATHS
/*
 * A block of bs bytes for calloc where alloc_malloc would take it from tlsf_malloc_block (a heap
 * whose fast_quick_end is set: TLSF, no poison on alloc; a size above the quick lists', or a quick
 * size whose list is empty): from tlsf_malloc_block, with no call through the ops, which hands the
 * block out (its end marked handed out, its bytes accounted) or retries after the release of empty
 * runs (alloc_malloc_missed); cleared as calloc_slow clears alloc_malloc's block.
 */
static ALWAYS_INLINE void *calloc_tlsf(alloc_heap *h, size_t bs) {
    /*
     * clean and its check word read before the hand-out raises clean, judged after it: a refused
     * or failed request leaves a damaged watermark unreported and unchanged, as calloc_bs did.
     */
    uintptr_t clean = h->clean, check = h->clean_check;
    void *p = tlsf_malloc_block(h, bs);
    if (p == NULL)
        return NULL;
    size_t usable = blk_size(blk_from_payload(p)) - HDR;
    if (__builtin_expect(check != ~clean, 0)) {
        /* Damaged before the request: reported here unless the hand-out met it and reported. */
        if (!clean_intact(h, h->clean))
            (void)alloc_clean_damaged(h);
        return clear_words(p, usable);
    }
    return calloc_clear(h, p, usable, clean);
}
#endif

/*
 * calloc_slow for a quick size whose list missed, empty or its head refused (alloc_malloc sends
 * the first to tlsf_malloc_block, which does not clear, and the second alone to malloc_block):
 * try_quick false for an empty list, which the strategy then skips, true for a refused head, which
 * it meets again and reports. bs as for malloc_block.
 */
static __attribute__((noinline)) void *calloc_block(alloc_heap *h, size_t bs, bool try_quick) {
#if QUICK_BINS > 0 && ALLOC_FAST_PATHS
    /* An empty list: malloc's way, tlsf_malloc_block, cleared as calloc_large clears its block. */
    if (!try_quick)
        return calloc_tlsf(h, bs);
#endif
    return calloc_bs(h, bs, try_quick);
}

/*
 * calloc_slow for a request above the runs' sizes that the quick lists' fast path did not take:
 * where fast_quick_end is set, one above the quick sizes (which alloc_malloc sends to
 * tlsf_malloc_block, which does not clear); where it is 0, any, a quick size among them (which
 * alloc_malloc sends to malloc_large).
 */
static __attribute__((noinline)) void *calloc_large(alloc_heap *h, size_t n) {
    if (request_too_large(n, GRANULE))
        return NULL;
#if QUICK_BINS > 0 && ALLOC_FAST_PATHS
    /* Where fast_quick_end is set, malloc's own way for such a size (calloc_tlsf). */
    if (fast_quick_bound(h) != 0)
        return calloc_tlsf(h, header_and_payload(n));
#endif
    return calloc_bs(h, header_and_payload(n), true); /* see malloc_large */
}

void *alloc_calloc(alloc_heap *h, size_t count, size_t size) {
    /*
     * h first: tested after the product, the two tests become one flag arithmetic (two set
     * instructions and an or) before one branch.
     */
    if (h == NULL)
        return NULL;
    size_t n;
    if (__builtin_mul_overflow(count, size, &n))
        return NULL;
    if (!ALLOC_FAST_PATHS)
        return calloc_slow(h, n);
    /*
     * Fast paths, alloc_malloc's: a slot of a run with free slots, cleared in place, or a
     * quick-list hit, whose usable size its list gives (no header to read back, as usable_of
     * would). They call nothing but clear_words (or, on a damaged watermark,
     * calloc_clear_damaged), by a tail call where it returns p.
     */
    if (RUN_CLASSES > 0 && n < fast_run_bound(h)) {
        /* 0 bytes: the slow path, as in alloc_malloc; opaque, as there. */
        size_t c = opaque_size(run_class_fast(n));
        void *p = run_take_fast(h, c);
        if (p == NULL)
            return calloc_slow(h, n);
        slot_clear(p, (unsigned)c);
        return p;
    }
    if (QUICK_BINS > 0 && n - 1 < fast_quick_bound(h)) {
        size_t i = quick_index_for(n);
        block_t *b = quick_pop_silent(h, i);
        if (b != NULL) {
            size_t usable = quick_block_size(i) - HDR;
            account_bytes_taken(h, usable); /* as alloc_malloc's hit: the bytes alone */
            return calloc_clear_fast(h, blk_payload(b), usable);
        }
        /* A block for an empty list and a refused head alike, try_quick telling them apart. */
        return calloc_block(h, quick_block_size(i), !quick_empty(h, i));
    }
    /* As alloc_malloc: above the runs' sizes, malloc_large's block. */
    if (n > ALLOC_RUN_MAX_SIZE)
        return calloc_large(h, n);
    return calloc_slow(h, n);
}

/*
 * Frees validated USED block b, of `usable` bytes, through the strategy (onto a quick list only if
 * try_quick) and accounts it. Out of line, so that the fast path calls nothing; alloc_free's fast
 * path calls tlsf_free_block instead for a sound block its quick list has no room for.
 */
static SLOW_PATH enum alloc_error free_block(alloc_heap *h, block_t *b, size_t usable,
                                             bool try_quick) {
    bool ok = heap_ops(h)->release(h, b, try_quick); /* false: the strategy reported it */
    if (!ALLOC_FAST_PATHS) { /* a build for size: the branches are 2 bytes less on a Cortex-M4 */
        if (!ok)
            return ALLOC_ERR_CORRUPTED_FREE_LIST;
        account_given(h, usable);
        return ALLOC_OK;
    }
    /* release_error's arithmetic, and the branch on its flags: one instruction fewer a free. */
    size_t e = release_error(ok);
    if (e == 0)
        account_given(h, usable);
    return (enum alloc_error)e;
}

/*
 * The end of free_slow, for ptr (not NULL, h not NULL) that is no run slot: a block, validated in
 * full, freed by free_block, or the error. free_unchecked, which has found ptr is no slot, calls
 * it directly: no tests of NULL nor of the run for it.
 */
static SLOW_PATH enum alloc_error free_no_slot(alloc_heap *h, void *ptr) {
    enum alloc_error e; /* set by used_block where it returns NULL */
    block_t *b = used_block(h, ptr, &e);
    /*
     * used_block returns NULL only after setting e: validate_used's ALLOC_OK comes with ptr's
     * block, which is above first, never NULL (the analyzer does not see it).
     */
    /* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.UndefReturn) */
    return b != NULL ? free_block(h, b, blk_size_shifts(b) - HDR, true) : e;
}

/* The general case of alloc_free, kept out of line so that the fast path calls nothing. */
static SLOW_PATH enum alloc_error free_slow(alloc_heap *h, void *ptr) {
    if (ptr == NULL)
        return ALLOC_OK;
    if (h == NULL)
        return ALLOC_ERR_NULL_HEAP;
    if (runs_on(h)) {
        uintptr_t r = run_of(h, (uintptr_t)ptr);
        if (r != 0)
            return run_give_fast(h, r, (uintptr_t)ptr, poison_free(h))
                       ? ALLOC_OK
                       : alloc_run_give_checked(h, r, (uintptr_t)ptr);
    }
    return free_no_slot(h, ptr);
}

/*
 * Frees ptr, which alloc_free's fast path found granule-aligned and in [first + HDR, end) and
 * whose block checks it refused: most often a run slot; anything else goes on to free_no_slot.
 * run_find's checks, less those already made: ptr's alignment and its range (which leaves r < end);
 * as for alloc_realloc, which makes run_find's tests itself, a table look-up tests the slot area's
 * bounds and the class's existence: here run_slot_mask's bit table with run_give_fast_ok_bit (a
 * run found here whose slot they refuse is named by alloc_run_give_checked). Out of line, so that
 * the quick-list path keeps its small frame. Reached only on a heap whose frees take alloc_free's
 * fast path, which does not poison on free: the slot's path calls nothing, so needs no saved
 * registers.
 *
 * Also reached on a heap without runs (ALLOC_FLAG_NO_SMALL_RUNS): its key, new at its init, has
 * sealed no run meta (only a heap with runs writes any), so the check word fails at every r as it
 * fails at an r that holds no run on a heap with runs, and ptr goes to free_no_slot. The paths
 * after a check word has passed are those a run's meta takes; the slow one tests runs_on as well.
 */
static __attribute__((noinline)) enum alloc_error free_unchecked(alloc_heap *h, void *ptr) {
    uintptr_t p = (uintptr_t)ptr, r = p & ~(RUN_ALIGN - 1);
    if (r <= h->first) /* r >= first + HDR, the room for a run's header (see run_find) */
        return free_no_slot(h, ptr);
    if (!run_check_ok(h, r))
        return free_no_slot(h, ptr);
    uint64_t state = run_meta(r)[RUN_STATE];
    unsigned c = run_class(state);
    /*
     * No slot at p: run_give_fast_ok_bit refuses the table's bit of RUN_NO_SLOT(c) (no test of its
     * own). The slot's bit from the table, no shift of an index.
     */
    uint64_t bit = run_slot_mask(c, p - r - RUN_META);
    if (!run_give_fast_ok_bit(h, r, state, c, bit))
        return runs_on(h) ? alloc_run_give_checked(h, r, p) : free_no_slot(h, ptr);
    run_give_slot_bit(h, r, p, c, bit, false);
    return ALLOC_OK;
}

enum alloc_error alloc_free(alloc_heap *h, void *ptr) {
    /*
     * Fast path, which calls nothing: a sound block that goes on a quick list with room. A run
     * slot fails the block checks (it has no header), mostly at the first test, and goes straight
     * to the slot's path rather than through free_slow's. A NULL ptr fails the range test
     * (fast_free_lo is above 0) and is free_slow's first case: no test of its own here.
     */
    if (QUICK_BINS > 0 && ALLOC_FAST_PATHS && h != NULL && free_range_ok(h, (uintptr_t)ptr)) {
        if (block_fast_ok(h, (uintptr_t)ptr)) {
            block_t *b = blk_from_payload(ptr);
            /*
             * Read before the push, whose stores the compiler must assume may alias b's size, and
             * kept opaque: else the compiler folds the - HDR into the count's update, a load, two
             * adds, a negation and a store where a subtraction from memory does.
             */
            size_t usable = opaque_size(blk_size(b) - HDR);
            if (quick_push(h, b, false)) {
                account_bytes_given(h, usable); /* still in taken_blocks, as QUICK */
                return ALLOC_OK;
            }
            /*
             * Its quick list is full, or it is too large for one: no point trying again. A heap
             * whose frees take this path has TLSF's ops (only they turn quick lists on) and does
             * not poison on free (see fast_free_lo_for): released and accounted by TLSF at once,
             * with the usable size read here, through no ops table and no frame of free_block's.
             */
#if QUICK_BINS > 0 && ALLOC_FAST_PATHS
            return tlsf_free_block(h, b, usable);
#else
            return free_block(h, b, usable, false); /* not reached: no fast path */
#endif
        }
        /*
         * ptr is aligned and in range, as free_unchecked relies on. On a heap without runs too, in
         * a build with them: no run's check word is found there (see free_unchecked), and the
         * test of runs_on is left to its rare paths, two instructions fewer on a slot's free.
         */
        if (RUN_CLASSES > 0)
            return free_unchecked(h, ptr);
    }
    return free_slow(h, ptr);
}

/*
 * The general case of alloc_realloc for ptr and h not NULL (realloc_slow's, and realloc_block's
 * for a ptr in the heap's range), kept out of line so that the fast path calls nothing.
 */
static SLOW_PATH void *realloc_general(alloc_heap *h, void *ptr, size_t size) {
    enum alloc_error e;
    block_t *b = used_block(h, ptr, &e);
    if (b == NULL)
        return NULL;
    if (request_too_large(size, GRANULE)) /* as alloc_malloc refuses it, in place or not */
        return NULL;
    size_t old = blk_size(b) - HDR;
    size_t need = block_size_for(size);
    int resized = heap_ops(h)->resize(h, b, need);
    if (resized < 0)
        return NULL; /* the strategy reported it */
    if (resized > 0) {
        size_t s = blk_size(b); /* b's new size, read once as hand_out does */
        mark_handed_out(h, (uintptr_t)b + s);
        /* The bytes it grew by are new to the caller, as a new block's are. */
        if ((h->flags & ALLOC_FLAG_POISON_ON_ALLOC) != 0 && s - HDR > old)
            __builtin_memset((unsigned char *)ptr + old, ALLOC_POISON_ALLOC_BYTE, s - HDR - old);
        h->in_use = h->in_use - old + (s - HDR);
        if (h->in_use > h->peak)
            h->peak = h->in_use;
        return ptr;
    }
    /*
     * alloc_malloc's block or slot, through its fast paths: a quick-list hit or a slot of a run
     * with free slots calls nothing there, where allocate's own code (inlined here) reached them
     * through the strategy's call or alloc_run_take; the same block or slot either way. A build
     * without fast paths keeps one copy of allocate's code, which alloc_malloc calls.
     */
    void *q = alloc_malloc(h, size);
    if (q == NULL)
        return NULL;
    __builtin_memcpy(q, ptr, old < size ? old : size);
    if (alloc_free(h, ptr) != ALLOC_OK) {
        /*
         * ptr was checked above, so a free neighbour it would merge with is damaged (reported,
         * nothing changed): ptr stays the caller's, unchanged, and q goes back, as when no block
         * can be had.
         */
        (void)alloc_free(h, q);
        return NULL;
    }
    return q;
}

/*
 * Copies what a slot of class c keeps across a move to q: min(size, its bytes) rounded up to HDR,
 * which is within the old slot (a multiple of 16) and within q, whose usable size is at least size
 * and, slot or block, a multiple of HDR. Sizes known here per case: moves, not a call.
 */
static ALWAYS_INLINE void slot_copy(void *q, const void *ptr, size_t size, unsigned c) {
    size_t old = run_slot_size(c);
    size_t n = size < old ? (size + HDR - 1) & ~(HDR - 1) : old;
    if (HDR < 16 && (n & 8) != 0) /* the last 8 bytes of a 32-bit block's payload */
        __builtin_memcpy((char *)q + (n & ~(size_t)15), (const char *)ptr + (n & ~(size_t)15), 8);
    switch (n >> 4) {
    case 0:
        break;
    case 1:
        __builtin_memcpy(q, ptr, 16);
        break;
    case 2:
        __builtin_memcpy(q, ptr, 32);
        break;
    case 3:
        __builtin_memcpy(q, ptr, 48);
        break;
    case 4:
        __builtin_memcpy(q, ptr, 64);
        break;
    default:
        /*
         * n is at most the old slot's bytes, 16 * c, and c a class (1 .. RUN_CLASSES, which
         * realloc_slot's table look-up has checked): so n / 16 <= 4, and the jump table needs no
         * range test (two instructions a move).
         */
        __builtin_unreachable();
    }
}

/*
 * slot_moved's case where the old slot's free fails (reported; nothing changed): r, emptied by it,
 * would leave its list and go back to the strategy, which a damaged list neighbour or free
 * neighbour refuses, or r, full, would join its list, which a damaged head of the list, or run
 * after r's place, refuses. ptr stays the caller's, unchanged, and q goes back, as in
 * realloc_general: NULL.
 */
static __attribute__((noinline, cold)) void *slot_move_refused(alloc_heap *h, void *q) {
    (void)alloc_free(h, q);
    return NULL;
}

/*
 * Frees slot ptr of run r, validated by realloc_slot, once its contents are in q; returns q, or
 * NULL if the free fails (slot_move_refused). The allocation of q took no slot of r (another
 * class) nor released r (it has a slot in use): the slot is freed without finding and checking it
 * again. Only r's state is read again, which the allocation may have changed for all the compiler
 * knows.
 */
static ALWAYS_INLINE void *slot_moved(alloc_heap *h, uintptr_t r, void *ptr, unsigned c, unsigned i,
                                      void *q) {
    uint64_t state = run_meta(r)[RUN_STATE];
    if (run_give_fast_ok(h, r, state, c, i))
        run_give_slot(h, r, (uintptr_t)ptr, c, i, poison_free(h));
    else if (alloc_run_give(h, r, (uintptr_t)ptr) != ALLOC_OK)
        return slot_move_refused(h, q);
    return q;
}

/*
 * realloc_slot's move through alloc_malloc: to a block (a request above the run sizes), or to a
 * slot of another class that realloc_slot_move's fast path could not take; the old slot is freed
 * after the copy.
 */
static __attribute__((noinline)) void *realloc_slot_malloc(alloc_heap *h, void *ptr, size_t size) {
    void *q = alloc_malloc(h, size);
    /*
     * The slot's run, class and index found from ptr after the call rather than passed and kept
     * across it (two saved registers fewer): the allocation took no slot of r (another class, or a
     * block) and did not release it (ptr's slot is in use), so its class bits are those
     * realloc_slot checked.
     */
    uintptr_t r = (uintptr_t)ptr & ~(RUN_ALIGN - 1);
    unsigned c = run_class(run_meta(r)[RUN_STATE]);
    if (q == NULL)
        return size <= run_slot_size(c) ? ptr : NULL; /* a shrink that cannot move still succeeds */
    slot_copy(q, ptr, size, c);
    return slot_moved(h, r, ptr, c, run_slot_bit(c, (uintptr_t)ptr - r - RUN_META), q);
}

/*
 * slot_moved's case that calls: poison, or a slot the fast path may not free. The empty asm hides
 * that the result is q: a caller that knew it would keep q across the call instead of making it a
 * tail call, and so save registers on its path that calls nothing.
 */
static __attribute__((noinline)) void *slot_moved_slow(alloc_heap *h, void *ptr, void *q,
                                                       unsigned i, uintptr_t r, unsigned c) {
    q = slot_moved(h, r, ptr, c, i, q);
    __asm__("" : "+r"(q));
    return q;
}

/*
 * realloc_slot's move of slot ptr (index i, class c) of run r, validated, to a request of `size`
 * bytes (at most ALLOC_RUN_MAX_SIZE) that another class serves. When a slot of that class comes
 * from the fast path and the old one may be freed by it, this calls nothing (the rest is tail
 * calls), so it saves no registers for a call.
 */
static __attribute__((noinline)) void *realloc_slot_move(alloc_heap *h, void *ptr, size_t size,
                                                         unsigned i, uintptr_t r, unsigned c) {
    if (RUN_CLASSES == 0 || !ALLOC_FAST_PATHS || h->fast_run_end == 0)
        return realloc_slot_malloc(h, ptr, size);
    /*
     * From the table, not arithmetic: one register fewer to save. A request of 0 bytes (here from
     * a slot of class 2 or more) takes the class-1 slot that alloc_malloc's slow path would take.
     */
    unsigned nc = run_class_of(size);
    void *q = run_take_fast(h, nc); /* another class: not a slot of r */
    if (q == NULL)
        return realloc_slot_malloc(h, ptr, size);
    /*
     * A whole slot of the smaller class: within both slots, and at least the min(size, old bytes)
     * that a move keeps; a class is known, where size would be rounded and compared first.
     */
    slot_copy(q, ptr, run_slot_size(nc < c ? nc : c), c);
    uint64_t state = run_meta(r)[RUN_STATE];
    if (poison_free(h) || !run_give_fast_ok(h, r, state, c, i))
        return slot_moved_slow(h, ptr, q, i, r, c);
    run_give_slot(h, r, (uintptr_t)ptr, c, i, false);
    return q;
}

/* The general case of alloc_realloc: its NULL cases, then realloc_general. */
static SLOW_PATH void *realloc_slow(alloc_heap *h, void *ptr, size_t size) {
    if (ptr == NULL)
        return alloc_malloc(h, size);
    if (h == NULL)
        return NULL;
    return realloc_general(h, ptr, size);
}

/*
 * realloc of a block that tlsf_grow_top may grow: its fast path, which grows the heap's last block
 * into the top block and calls nothing, else the general path.
 */
static __attribute__((noinline)) void *realloc_grow(alloc_heap *h, void *ptr, size_t size) {
    /* fast_grow, one byte, set on a first-fit heap by a stray write: its state has no top block. */
    if (!TLSF_ALONE && h->strategy != ALLOC_STRATEGY_TLSF)
        return fast_word_damaged(h, &h->fast_grow);
    if (tlsf_grow_top(h, ptr, size))
        return ptr;
    return realloc_slow(h, ptr, size);
}

/*
 * tlsf_grow_top's first tests, which most blocks fail: ptr aligned and in range (so that the word
 * before it can be read; also refuses NULL), and the size in that word putting the block's end at
 * the top block. Nothing is trusted from them: tlsf_grow_top makes them again with all of its
 * checks. `aligned`: the caller has found ptr granule-aligned.
 */
static ALWAYS_INLINE bool grow_range_ok(const alloc_heap *h, const void *ptr, bool aligned) {
    uintptr_t p = (uintptr_t)ptr, lo = h->first + HDR;
    return (aligned || (p & (GRANULE - 1)) == 0) && p - lo < h->end - lo;
}
static ALWAYS_INLINE bool grow_top_may(const alloc_heap *h, const void *ptr) {
    hword_t w = probe_hword(&blk_from_payload(ptr)->size);
    return (uintptr_t)ptr - HDR + (size_t)(w & SIZE_MASK) == (uintptr_t)tlsf_of(h)->top;
}

/*
 * realloc of a block (or of anything but a run slot): realloc_grow where the block may grow into
 * the top block, else the general path. Apart from alloc_realloc, so that a slot's realloc does
 * not pay for the registers these paths save; and a block that is not the top's predecessor, most
 * of them, goes to realloc_general with no frame made for tlsf_grow_top's registers. realloc_slow
 * takes what those tests refuse, a NULL h or ptr among it.
 */
static ALWAYS_INLINE void *realloc_block_as(alloc_heap *h, void *ptr, size_t size,
                                            bool aligned_in_heap) {
    /*
     * Without fast paths, tlsf_grow_top grows nothing: all of this folds away. A ptr in range is
     * not NULL: realloc_general, with no tests of NULL. aligned_in_heap: the caller has found h
     * not NULL and ptr granule-aligned (alloc_realloc, where run_place_refused has let run_check_ok
     * read a run's words for it), so those two tests are not made again.
     */
    if (TLSF_COMPILED_IN && ALLOC_FAST_PATHS && (aligned_in_heap || h != NULL) && h->fast_grow &&
        !request_too_large(size, GRANULE) && grow_range_ok(h, ptr, aligned_in_heap))
        return grow_top_may(h, ptr) ? realloc_grow(h, ptr, size) : realloc_general(h, ptr, size);
    return realloc_slow(h, ptr, size);
}
static SLOW_PATH void *realloc_block(alloc_heap *h, void *ptr, size_t size) {
    return realloc_block_as(h, ptr, size, false);
}
/* realloc_block for a ptr that alloc_realloc has found granule-aligned on a heap h (not NULL). */
static SLOW_PATH void *realloc_block_aligned(alloc_heap *h, void *ptr, size_t size) {
    return realloc_block_as(h, ptr, size, true);
}

/* realloc of a pointer into run r that is no slot in use: reports the error, returns NULL. */
static __attribute__((noinline)) void *realloc_slot_refused(alloc_heap *h, void *ptr, uintptr_t r) {
    (void)alloc_run_usable(h, r, (uintptr_t)ptr); /* names and reports the error */
    return NULL;
}

/*
 * realloc of slot ptr of run r: in place while the size keeps its class (a smaller class moves,
 * so usable stays close), else moved by realloc_slot_move (another class) or realloc_slot_malloc
 * (a block). Inlined into alloc_realloc, so that the case in place calls nothing and saves no
 * registers. The helpers take ptr and size first, in the registers alloc_realloc (and
 * realloc_block) receives them in, so that no argument is moved before their tail calls, and
 * realloc_slot_move the slot's index next, in the register a variable shift takes its count from on
 * x86-64 (realloc_slot_malloc finds the slot again itself).
 */
static ALWAYS_INLINE void *realloc_slot(alloc_heap *h, uintptr_t r, void *ptr, size_t size) {
    uint64_t state = run_meta(r)[RUN_STATE];
    unsigned c = run_class(state);
    int i = run_slot_index(c, (uintptr_t)ptr - r - RUN_META);
    if (i < 0 || ((state >> i) & 1) != 0)
        return realloc_slot_refused(h, ptr, r);
    if (size > ALLOC_RUN_MAX_SIZE)
        return realloc_slot_malloc(h, ptr, size);
    if (run_class_of(size) == c)
        return ptr;
    return realloc_slot_move(h, ptr, size, (unsigned)i, r, c);
}

void *alloc_realloc(alloc_heap *h, void *ptr, size_t size) {
    /*
     * A NULL ptr has no test of its own: run_place_refused's range test refuses it (first is above
     * 0), and realloc_block's general path serves it as malloc.
     */
    if (h == NULL || !runs_on(h))
        return realloc_block(h, ptr, size);
    /*
     * run_find's tests, apart: a ptr that is aligned and whose run's place is in range but holds no
     * run (most blocks) goes to realloc_block_aligned, which does not test h and the alignment
     * again. realloc_slot looks the slot up in the table that refuses the slot area's bounds and
     * the classes that do not exist, which run_find leaves to run_of.
     */
    uintptr_t p = (uintptr_t)ptr, r = p & ~(RUN_ALIGN - 1);
    if (run_place_refused(h, p, r))
        return realloc_block(h, ptr, size);
    if (!run_check_ok(h, r))
        return realloc_block_aligned(h, ptr, size);
    return realloc_slot(h, r, ptr, size);
}

size_t alloc_usable_size(alloc_heap *h, const void *ptr) {
    if (ptr == NULL || h == NULL)
        return 0;
    uintptr_t r = runs_on(h) ? run_of(h, (uintptr_t)ptr) : 0;
    if (r != 0)
        return alloc_run_usable(h, r, (uintptr_t)ptr);
    enum alloc_error e;
    block_t *b = used_block(h, ptr, &e);
    return b != NULL ? blk_size(b) - HDR : 0;
}

/* The hook alloc_release_held gives the heap for the release: keeps the (last) report. */
static void hold_report(void *ctx, enum alloc_error error, const void *ptr) {
    struct held_report *held = ctx;
    held->error = error;
    held->ptr = ptr;
}

bool alloc_release_held(alloc_heap *h, block_t *b, struct held_report *held) {
    /* The caller's hook put back as it was, magic word and all: a damaged one is not resealed. */
    alloc_error_hook hook = h->hook;
    void *hook_ctx = h->hook_ctx;
    uintptr_t magic = h->magic;
    held->error = ALLOC_OK;
    held->ptr = NULL;
    hook_set(h, hold_report, held);
    bool ok = heap_ops(h)->release(h, b, false);
    h->hook = hook;
    h->hook_ctx = hook_ctx;
    h->magic = magic;
    /* A damaged list head that a release filed past (tlsf.c): reported now, the heap whole. */
    if (ALLOC_FAST_PATHS && ok && held->error != ALLOC_OK)
        alloc_report(h, held->error, held->ptr);
    return ok;
}

/*
 * h's bounds as init and the extensions set them: first just past the control structure, end (the
 * END marker) the last whole granule below raw_end less a header, and the heap within
 * MAX_HEAP_SIZE. alloc_heap_extend writes a block and an END marker from them, so a stray write
 * into one must be refused, not followed out of the region.
 */
static bool bounds_ok(const alloc_heap *h) {
    /* The strategy first: a byte no strategy has names no control size. */
    if (strategy_ops((enum alloc_strategy)h->strategy) == NULL)
        return false;
    return h->first ==
               (uintptr_t)h + alloc_control_size((enum alloc_strategy)h->strategy) + BLOCK_PHASE &&
           h->end >= h->first + MIN_BLOCK &&
           h->end == (h->raw_end & ~(uintptr_t)(GRANULE - 1)) - HDR &&
           h->raw_end - (uintptr_t)h <= MAX_HEAP_SIZE;
}

enum alloc_error alloc_heap_extend(alloc_heap *h, size_t size) {
    if (h == NULL)
        return ALLOC_ERR_NULL_HEAP;
    if (!bounds_ok(h)) {
        /* As a damaged strategy table: reported as the control structure's, nothing changed. */
        alloc_report(h, ALLOC_ERR_CORRUPTED_HEAP, h);
        return ALLOC_ERR_CORRUPTED_FREE_LIST;
    }
    if (size > MAX_HEAP_SIZE || h->raw_end + size - (uintptr_t)h > MAX_HEAP_SIZE)
        return ALLOC_ERR_REGION_TOO_LARGE;
    uintptr_t raw_end = h->raw_end + size;
    uintptr_t end = (raw_end & ~(uintptr_t)(GRANULE - 1)) - HDR;
    if (end < h->end + MIN_BLOCK)
        return ALLOC_ERR_REGION_TOO_SMALL;
    /* The old end marker becomes the header of a new block that is released like a free. */
    block_t *nb = blk_at(h->end);
    size_t ps = blk_prev_size(nb);
    if (!hdr_ok(h, nb) || blk_state(nb) != ST_END || ps < MIN_BLOCK || ps > h->end - h->first ||
        (ps & (GRANULE - 1)) != 0 ||
        (blk_prev_free(nb) && !size_word_is(h, blk_prev(nb), (hword_t)ps | ST_FREE))) {
        alloc_report(h, ALLOC_ERR_CORRUPTED_HEADER, nb);
        return ALLOC_ERR_CORRUPTED_HEADER;
    }
    size_t ns = end - h->end;
    block_t old = *nb;
    uintptr_t old_end = h->end, old_raw_end = h->raw_end;
    blk_set_size_state(h, nb, ns, ST_USED);
    blk_set(h, blk_at(end), ns, 0, ST_END, false);
    h->end = end;
    set_fast_free_hi(h);
    h->raw_end = raw_end;
    /*
     * The strategy reports what its release refuses with the heap half extended (a new block and
     * end marker, neither accounted): its report is held back and made once the heap is as it was.
     */
    struct held_report held;
    if (!alloc_release_held(h, nb, &held)) {
        /* The strategy changed nothing: the old end marker and end come back, then the report. */
        *nb = old;
        h->end = old_end;
        set_fast_free_hi(h);
        h->raw_end = old_raw_end;
        alloc_report(h, held.error, held.ptr);
        return ALLOC_ERR_CORRUPTED_FREE_LIST;
    }
    return ALLOC_OK;
}

void alloc_heap_stats(const alloc_heap *h, struct alloc_stats *out) {
    if (h == NULL) {
        __builtin_memset(out, 0, sizeof(*out));
        return;
    }
    size_t quick = quick_held(h);
    size_t blocks = h->taken_blocks + h->runs + h->free_blocks;
    out->region_size = h->raw_end - (uintptr_t)h;
    out->bytes_in_use = h->in_use;
    out->bytes_free = (h->end - h->first) - h->in_use - HDR * blocks - RUN_META * h->runs;
    /* The TLSF strategy may reorder a list (see alloc_tlsf_largest_free); h is not const. */
    const struct alloc_strategy_inspect *inspect =
        strategy_inspect((enum alloc_strategy)h->strategy);
    out->largest_free = inspect != NULL ? inspect->largest_free((alloc_heap *)(uintptr_t)h) : 0;
    out->live_allocations = h->taken_blocks - quick + h->live_slots;
    out->peak_in_use = h->peak;
    out->free_blocks = h->free_blocks + quick;
    out->overhead_bytes = out->region_size - out->bytes_in_use - out->bytes_free;
}

enum alloc_strategy alloc_heap_strategy(const alloc_heap *h) {
    return h == NULL ? ALLOC_STRATEGY_TLSF : (enum alloc_strategy)h->strategy;
}

unsigned alloc_heap_flags(const alloc_heap *h) {
    return h == NULL ? 0 : h->flags;
}

uintptr_t alloc_heap_instance(const alloc_heap *h) {
    return h == NULL ? 0 : mix_key(h->key ^ (uintptr_t)0x696e7374616e6365ull);
}

/* The control structure is plausible, so that a walk stays inside the region. */
static bool control_ok(const alloc_heap *h) {
    if (!magic_intact(h))
        return false;
    const struct alloc_strategy_ops *ops = strategy_ops((enum alloc_strategy)h->strategy);
    if (ops == NULL || h->ops != ops)
        return false;
    if (!bounds_ok(h) || h->fast_free_lo != fast_free_lo_for(h) ||
        h->fast_free_hi != fast_free_hi_for(h) ||
        h->fast_grow != fast_grow_for(h->strategy, h->flags))
        return false;
    /* The fast paths' words: each 0 or the one value init gives it, the quick pair equal. */
    if ((h->fast_run_end != 0 && h->fast_run_end != ALLOC_RUN_MAX_SIZE + 1) ||
        h->fast_quick_end != h->fast_quick_mask ||
        (h->fast_quick_end != 0 && h->fast_quick_end != ALLOC_QUICK_MAX_SIZE))
        return false;
    return clean_intact(h, h->clean);
}

/*
 * A FREE or QUICK block b's payload still holds the free poison in every byte but the links kept
 * there: two on a block on a free list, one on a quick-list block, none on the TLSF top block,
 * which is on no list (TOP_BLOCK; a build without it files that block on its list). Read a word at
 * a time (the links end and the block ends on a word boundary), as a check reads every free byte.
 */
static bool poison_intact(const alloc_heap *h, const block_t *b) {
    size_t links = blk_state(b) == ST_QUICK ? sizeof(block_t *) : sizeof(struct free_links);
    if (h->strategy == ALLOC_STRATEGY_TLSF && tlsf_of(h)->top == b)
        links = 0;
    const uintptr_t poison = UINTPTR_MAX / 0xff * (unsigned char)ALLOC_POISON_FREE_BYTE;
    for (uintptr_t p = (uintptr_t)b + HDR + links, e = (uintptr_t)b + blk_size(b); p < e;
         p += sizeof(uintptr_t)) {
        uintptr_t w;
        __builtin_memcpy(&w, (const void *)p, sizeof(w));
        if (w != poison)
            return false;
    }
    return true;
}

enum alloc_error alloc_heap_check(alloc_heap *h) {
    if (h == NULL)
        return ALLOC_ERR_NULL_HEAP;
    if (!control_ok(h)) {
        alloc_report(h, ALLOC_ERR_CORRUPTED_HEAP, h);
        return ALLOC_ERR_CORRUPTED_HEAP;
    }
    size_t nused = 0, nfree = 0, nquick = 0, used_bytes = 0, prev_size = 0;
    size_t nslots = 0, nruns = 0, nlisted = 0;
    unsigned prev_state = ST_USED;
    uintptr_t a = h->first;
    enum alloc_error e = ALLOC_OK;
    const void *bad = NULL;
    for (;;) {
        const block_t *b = blk_at(a);
        bad = b;
        if (!hdr_ok(h, b) || blk_prev_size(b) != prev_size ||
            blk_prev_free(b) != (prev_state == ST_FREE) ||
            ((b->size & RUN_FLAG) != 0 &&
             (!runs_on(h) || (b->size & ~(TAG_MASK | PREV_FREE)) != RUN_SIZE_WORD))) {
            e = ALLOC_ERR_CORRUPTED_HEADER;
            break;
        }
        unsigned st = blk_state(b);
        size_t s = blk_size(b);
        if (a == h->end) {
            if (st != ST_END || s != 0)
                e = ALLOC_ERR_CORRUPTED_HEADER;
            break;
        }
        if (st == ST_END || s < MIN_BLOCK || s > h->end - a) {
            e = ALLOC_ERR_CORRUPTED_HEADER;
            break;
        }
        if (st == ST_FREE && prev_state == ST_FREE) {
            e = ALLOC_ERR_UNCOALESCED;
            break;
        }
        if ((b->size & RUN_FLAG) != 0) {
            bool listed = false;
            e = alloc_run_check_one(h, a + HDR, &nslots, &used_bytes, &listed);
            if (e != ALLOC_OK)
                break;
            nruns++;
            nlisted += listed;
        } else if (st == ST_USED) {
            nused++;
            used_bytes += s - HDR;
        } else {
            if (st == ST_FREE)
                nfree++;
            else
                nquick++;
            if (poison_free(h) && !poison_intact(h, b)) {
                e = ALLOC_ERR_WRITE_AFTER_FREE;
                break;
            }
        }
        prev_state = st;
        prev_size = s;
        a += s;
    }
    if (e == ALLOC_OK) {
        bad = h;
        if (nused + nquick != h->taken_blocks || nslots != h->live_slots || nruns != h->runs ||
            used_bytes != h->in_use || h->peak < h->in_use || nfree != h->free_blocks ||
            nquick != quick_held(h))
            e = ALLOC_ERR_STATS_MISMATCH;
    }
    if (e == ALLOC_OK)
        e = alloc_run_check_lists(h, nlisted, &bad);
    if (e == ALLOC_OK)
        e = strategy_inspect((enum alloc_strategy)h->strategy)->check(h, nfree, nquick, &bad);
    if (e != ALLOC_OK)
        alloc_report(h, e, bad);
    return e;
}

enum alloc_error alloc_heap_walk(const alloc_heap *h, alloc_walk_fn fn, void *ctx) {
    if (h == NULL)
        return ALLOC_ERR_NULL_HEAP;
    uintptr_t a = h->first;
    size_t prev_size = 0;
    while (a < h->end) {
        const block_t *b = blk_at(a);
        size_t s = blk_size(b);
        if (!word_ok(h, &b->size) || blk_prev_size(b) != prev_size || blk_state(b) == ST_END ||
            s < MIN_BLOCK || s > h->end - a)
            return ALLOC_ERR_CORRUPTED_HEADER;
        if ((b->size & RUN_FLAG) != 0 && runs_on(h) && s == RUN_BLOCK) {
            if (!alloc_run_walk(h, a + HDR, fn, ctx))
                return ALLOC_ERR_CORRUPTED_HEADER;
        } else
            fn(ctx, blk_payload(b), s - HDR, (enum alloc_block_state)blk_state(b));
        prev_size = s;
        a += s;
    }
    return a == h->end ? ALLOC_OK : ALLOC_ERR_CORRUPTED_HEADER;
}
