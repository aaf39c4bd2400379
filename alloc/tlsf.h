/*
 * alloc/tlsf.h - the private header of the TLSF strategy (tlsf.c): its state, and the fast paths
 * that heap.c inlines so that they call nothing: the quick lists' into alloc_malloc, alloc_calloc
 * and alloc_free, realloc's growth into the top block (tlsf_grow_top) into realloc_grow. Not part
 * of the public interface.
 */
#ifndef ALLOC_TLSF_H
#define ALLOC_TLSF_H

#include "internal.h"

_Static_assert(ALLOC_QUICK_MAX_SIZE % 16 == 0, "alloc: ALLOC_QUICK_MAX_SIZE % 16 != 0");
_Static_assert(ALLOC_QUICK_MAX_SIZE <= 0xffffffffu,
               "alloc: ALLOC_QUICK_MAX_SIZE must fit the control structure's 32-bit words");

/*
 * TLSF geometry: 16 second-level lists per power of two; sizes below 256 map linearly. The first
 * levels reach the largest block a heap can hold (below ALLOC_MAX_HEAP): first-level 0 holds
 * [0, 256), level i > 0 holds [2^(i+7), 2^(i+8)).
 */
#define SL_LOG2  4
#define SL_COUNT (1u << SL_LOG2)
#define FL_SHIFT (SL_LOG2 + 4)
#if ALLOC_BLOCK_OVERHEAD == 16
#define FL_COUNT 41 /* up to 2^48: sizes below 2^47, and aligned requests' searches above them */
#else
#define FL_COUNT 18 /* up to 2^25 */
#endif
/* One bit per first level, in a word the CPU scans in one instruction. */
typedef unsigned long fl_map_t;
_Static_assert(FL_COUNT <= 8 * sizeof(fl_map_t), "alloc: the first levels must fit fl_map");

/*
 * The quick lists: one per block size from MIN_BLOCK to the one a request of ALLOC_QUICK_MAX_SIZE
 * bytes takes, 16 bytes apart; none in a build without TLSF (ALLOC_STRATEGIES) or with
 * ALLOC_QUICK_MAX_SIZE 0. Written for #if: HDR and MIN_BLOCK are casts.
 */
#define QUICK_MAX_BLOCK ((ALLOC_QUICK_MAX_SIZE + ALLOC_BLOCK_OVERHEAD + 15) / 16 * 16)
#if TLSF_COMPILED_IN && ALLOC_QUICK_MAX_SIZE > 0
#define QUICK_BINS ((QUICK_MAX_BLOCK - ALLOC_MIN_BLOCK) / 16 + 1)
#else
#define QUICK_BINS 0
#endif
/* The quick list of block size `size` (MIN_BLOCK .. QUICK_MAX_BLOCK), and back. */
static inline unsigned quick_index(size_t size) {
    return (unsigned)(size >> 4) - (unsigned)(MIN_BLOCK >> 4);
}
static inline size_t quick_block_size(size_t i) {
    return MIN_BLOCK + i * 16;
}
/*
 * The quick list of the block a request of n bytes takes, quick_index(block_size_for(n)), or
 * QUICK_BINS or more when that block is larger than the quick sizes. With a header of one granule
 * and a minimum block of two (64-bit) that is (n - 1) / 16 in one shift, which tests the size too:
 * n = 0 wraps past the lists, and the slow path serves it as 1 byte, from the same list.
 */
static inline size_t quick_index_for(size_t n) {
    if (HDR == GRANULE && MIN_BLOCK == 2 * GRANULE)
        return (n - 1) / GRANULE;
    return n <= ALLOC_QUICK_MAX_SIZE ? quick_index(block_size_for(n)) : QUICK_BINS;
}

/*
 * TOP_BLOCK: whether the FREE block that ends at the END marker is kept off the lists as the top
 * block (struct tlsf_state), or filed on its list like any other free block. The first lets the
 * last block grow and the untouched rest of the region be carved without list work (alloc_realloc's
 * fast path grows into it); the second saves the code of one more case in filing, unfiling and
 * allocation, which a build for size (ALLOC_FAST_PATHS 0) prefers. Either way, as that block is
 * usually the largest, good fit reaches its list after every lower one that has a block.
 */
#define TOP_BLOCK ALLOC_FAST_PATHS

/*
 * The blocks of a plain request's own list that the fallback scan tries (plain_scan, tlsf.c), when
 * neither the list's head, good fit nor the top block serves it; a build for size (scan_list)
 * tries them first, for aligned requests too. The scan is a long path (about 45 instructions a
 * block): 4 blocks and not more, as the smallest regions of every trace in alloc/README.md are the
 * same to the byte with a scan of 16, 4, 2 or none, and 16 made it the worst case (811
 * instructions). An aligned request in a build for speed tries only the head of its search's own
 * list (locate_free says why). Here, not in tlsf.c, for worst_case_test, which builds a list whose
 * only fitting block is the last one scanned.
 */
#define TLSF_FALLBACK_SCAN 4

struct tlsf_state {
    /*
     * The FREE block that ends at the END marker, or NULL: kept off the lists and used only when
     * no list above a request's own holds a block (as dlmalloc's top chunk; before the deeper look
     * at the request's own list, tlsf.c's locate_free), so that growing the last block and carving
     * from the untouched rest of the region touch no list. Always NULL without TOP_BLOCK, where
     * that block is on its list.
     */
    block_t *top;
    fl_map_t fl_map;
    uint32_t sl_map[FL_COUNT];
    block_t *heads[FL_COUNT * SL_COUNT]; /* in one row: see LIST_HEAD */
#if QUICK_BINS > 0
    block_t *quick[QUICK_BINS]; /* quick[i]: blocks of size quick_block_size(i), LIFO */
    uint32_t quick_count[QUICK_BINS];
#endif
};

/*
 * The head of list (fl, sl). The heads are kept in one row, which the list's number
 * fl * SL_COUNT + sl indexes as it is (LIST_AT): a build for size (ALLOC_FAST_PATHS 0) maps a size
 * to that number in one called copy (list_index, tlsf.c), and the compiler then drops the split
 * into fl and sl and the address arithmetic of two indices wherever only the head is needed (-26
 * bytes on the Cortex-M4); the default's allocation maps a request to it (mapping_request, tlsf.c).
 */
#define LIST_HEAD(t, fl, sl) ((t)->heads[(fl) * SL_COUNT + (sl)])
#define LIST_AT(t, n)        ((t)->heads[n])

/* The bits of fl_map and of each sl_map that stand for lists there are. */
#define FL_MAP_BITS (~(fl_map_t)0 >> (8 * sizeof(fl_map_t) - FL_COUNT))
#define SL_MAP_BITS (~(uint32_t)0 >> (32 - SL_COUNT))

/* The TLSF state of a heap whose ops are alloc_tlsf_ops. */
static inline struct tlsf_state *tlsf_of(const alloc_heap *h) {
    return (struct tlsf_state *)(uintptr_t)h->state;
}

#if QUICK_BINS > 0
/*
 * A quick list's node: a sealed QUICK header of its list's size, at a block's place between the
 * heap's own address and its end. The lower bound is the heap's address, in a register, rather
 * than first: that is read from the control structure, where a stray write that zeroed it let an
 * empty list's NULL through to be read; a node in the control area fails the header's check.
 */
static inline bool quick_node_ok(const alloc_heap *h, const block_t *b, size_t size) {
    uintptr_t a = (uintptr_t)b;
    return a > (uintptr_t)h && a < h->end && (a & (GRANULE - 1)) == BLOCK_PHASE &&
           (b->size & ~(TAG_MASK | PREV_FREE)) == ((hword_t)size | ST_QUICK) &&
           word_ok(h, &b->size);
}
#endif

/*
 * Pops a block off quick list i (below QUICK_BINS), of block size quick_block_size(i), and marks
 * it USED. Returns NULL if the list is empty or its head is corrupted; the corruption is reported
 * through the hook only when `report` is set (a constant at every call, so the silent variant
 * compiles to code that calls nothing).
 */
static inline block_t *quick_take(alloc_heap *h, size_t i, bool report) {
#if QUICK_BINS > 0
    struct tlsf_state *t = tlsf_of(h);
    size_t size = quick_block_size(i);
    block_t *b = t->quick[i];
    /*
     * An empty list, NULL: the reporting variant returns before the checks; the silent one lets
     * quick_node_ok's first test refuse it (the heap is above 0), one test and branch fewer on
     * its hit.
     */
    if (report && b == NULL)
        return NULL;
    if (__builtin_expect(!quick_node_ok(h, b, size), 0)) {
        if (report && h->hook != NULL)
            h->hook(h->hook_ctx, ALLOC_ERR_CORRUPTED_FREE_LIST, b);
        return NULL;
    }
    /*
     * QUICK to USED as blk_set_state does it, one xor, made in memory: the empty asm makes the
     * compiler forget the word quick_node_ok has just read, so that it xors the word where it is
     * (one instruction) rather than the copy it kept and stores that back (two). Nothing else it
     * holds is read again below.
     */
    __asm__("" ::: "memory");
    b->size ^= flip_low_bits(ST_QUICK ^ ST_USED);
    t->quick[i] = blk_links(b)->next;
    t->quick_count[i]--;
    return b;
#else
    (void)h;
    (void)i;
    (void)report;
    return NULL;
#endif
}

/*
 * The fast path of the TLSF strategy: pops a block of exactly `size` bytes (block size) off its
 * quick list and marks it USED. Returns NULL if the heap has no quick lists, the size has none or
 * the list is empty. A corrupted list head is reported and NULL returned.
 */
static inline block_t *quick_pop(alloc_heap *h, size_t size) {
#if QUICK_BINS > 0
    if (size > QUICK_MAX_BLOCK)
        return NULL;
#endif
    return quick_take(h, quick_index(size), true);
}

/*
 * quick_pop without reporting (so it calls nothing), from quick list i (below QUICK_BINS, as
 * quick_index_for finds it): NULL also for a corrupted list head, which the caller's slow path
 * then finds again and reports.
 */
static inline block_t *quick_pop_silent(alloc_heap *h, size_t i) {
    return quick_take(h, i, false);
}

/*
 * Pushes a USED block on the quick list of its size, on a heap with quick lists (quick_enabled,
 * which the caller tests: alloc_free's fast path knows it from fast_free_lo), poisoning its payload
 * first if `poison` (pass poison_free(h); a constant false lets the fast path call nothing).
 * Returns false, changing nothing, if the size has no quick list or that list is full.
 */
static inline bool quick_push(alloc_heap *h, block_t *b, bool poison) {
#if QUICK_BINS > 0
    hword_t w = b->size;
    size_t s = (size_t)(w & SIZE_MASK);
    if (s > QUICK_MAX_BLOCK)
        return false;
    struct tlsf_state *t = tlsf_of(h);
    unsigned i = quick_index(s);
    if (t->quick_count[i] >= ALLOC_QUICK_BIN_LIMIT)
        return false;
    /*
     * Forget what memory held: the count is then tested and incremented in memory (one instruction
     * each) rather than loaded, kept in a register and stored back. An empty asm.
     */
    __asm__("" ::: "memory");
    /*
     * USED to QUICK as blk_set_state does it, one xor, made in memory (forgotten above): one
     * instruction, where xoring the copy read above and storing it takes two.
     */
    b->size ^= flip_low_bits(ST_USED ^ ST_QUICK);
    if (poison)
        __builtin_memset(blk_payload(b), ALLOC_POISON_FREE_BYTE, s - HDR);
    blk_links(b)->next = t->quick[i];
    t->quick[i] = b;
    t->quick_count[i]++;
    return true;
#else
    (void)h;
    (void)b;
    (void)poison;
    return false;
#endif
}

/*
 * The QUICK blocks of heap h, its quick lists' counts summed: kept by no counter of its own, which
 * every quick push and pop would update, for the rare paths that ask (a failing request's flush,
 * the statistics, the heap check). 0 on a heap of another strategy, which has no quick lists.
 */
static inline size_t quick_held(const alloc_heap *h) {
#if QUICK_BINS > 0
    if (h->strategy != ALLOC_STRATEGY_TLSF)
        return 0;
    const struct tlsf_state *t = tlsf_of(h);
    size_t n = 0;
    for (unsigned i = 0; i < QUICK_BINS; i++)
        n += t->quick_count[i];
    return n;
#else
    (void)h;
    return 0;
#endif
}

/* True when quick list i (below QUICK_BINS) is empty. */
static inline bool quick_empty(const alloc_heap *h, size_t i) {
#if QUICK_BINS > 0
    return tlsf_of(h)->quick[i] == NULL;
#else
    (void)h;
    (void)i;
    return true;
#endif
}

/*
 * The fast path of alloc_realloc (TLSF, no poisoning): the heap's last block grows in place
 * into the top block, which keeps at least MIN_BLOCK: a growing buffer's common case. The top
 * block's prev word is the size of the block before it, so b + size(b) == top together with
 * top->prev == size(b) makes b that block, a real block start, whatever ptr was; its header
 * must then say USED with this heap's tag and no PREV_FREE (a free predecessor is left to the
 * general path), and its prev word carry the tag. Touches no list and calls nothing. Returns
 * false, changing nothing, for anything else: the general path handles it, and reports misuse.
 */
static ALWAYS_INLINE bool tlsf_grow_top(alloc_heap *h, void *ptr, size_t size) {
    if (!ALLOC_FAST_PATHS)
        return false; /* the strategy's resize grows into a free successor as well */
    uintptr_t p = (uintptr_t)ptr, lo = h->first + HDR;
    if ((p & (GRANULE - 1)) != 0 || p - lo >= h->end - lo) /* also refuses NULL */
        return false;
    block_t *b = blk_from_payload(ptr);
    block_t *top = tlsf_of(h)->top;
    hword_t w = b->size;
    size_t cur = (size_t)(w & SIZE_MASK);
    if ((w & (PREV_FREE | STATE_MASK)) != ST_USED || (uintptr_t)b + cur != (uintptr_t)top ||
        !seal_ok(h, &b->size, w) || !word_ok(h, &b->prev) || !prev_word_is(h, top, cur))
        return false;
    /* block_size_for(size) whenever that exceeds cur (>= MIN_BLOCK): growth. */
    size_t need = header_and_payload(size);
    hword_t tw = top->size;
    size_t ts = (size_t)(tw & SIZE_MASK);
    size_t total = cur + ts;
    if (need <= cur || total < need + MIN_BLOCK || (tw & (PREV_FREE | STATE_MASK)) != ST_FREE ||
        ts > h->end - (uintptr_t)top || !seal_ok(h, &top->size, tw))
        return false;
    size_t rest = total - need;
    block_t *tail = blk_at((uintptr_t)b + need);
    top->prev = 0; /* the old top header is now b's payload: erase it */
    top->size = 0;
    word_set(h, &tail->prev, (hword_t)need);
    word_set(h, &tail->size, (hword_t)rest | ST_FREE);                 /* no PREV_FREE: b is USED */
    word_set(h, &blk_at((uintptr_t)tail + rest)->prev, (hword_t)rest); /* the END marker */
    word_set(h, &b->size, (hword_t)need | ST_USED);
    tlsf_of(h)->top = tail;
    mark_handed_out(h, (uintptr_t)tail);
    h->in_use += need - cur;
    if (h->in_use > h->peak)
        h->peak = h->in_use;
    return true;
}

#if TLSF_COMPILED_IN && ALLOC_FAST_PATHS
/*
 * The strategy's calls of a run (runs.c), made directly: runs are a TLSF heap's alone (heap.c's
 * runs_enabled), whose ops would only pass them on. A USED block of `size` bytes aligned to `align`
 * (above GRANULE), or where none fits NULL, after the quick lists are flushed and the lists tried
 * again if may_flush (alloc_tlsf_ops' alloc sets it whatever try_cache; runs.c does not), or
 * REFUSED where it met damage and reported it (got_block tells a block from both); and the release
 * of a USED block (as its release without try_cache): false, after reporting, where a neighbour or
 * a list is corrupted.
 */
block_t *tlsf_alloc_aligned(alloc_heap *h, size_t size, size_t align, bool may_flush);
bool tlsf_release_run(alloc_heap *h, block_t *b);

/*
 * A block of bs bytes (a block size, at least MIN_BLOCK) for a plain malloc that no run serves
 * on a TLSF heap that does not poison on alloc (heap.c calls it where fast_quick_end is set, which
 * says both), from the lists as the strategy's alloc finds it without a quick list, and handed out
 * (its bytes marked handed out, its usable size accounted): its payload. Where the lists hold none,
 * after the flush of the quick lists, heap.c's alloc_malloc_missed has the last word: what a
 * malloc that got no block from the strategy returns (NULL, or a block found after releasing
 * empty runs), given the strategy's result, NULL or REFUSED.
 */
void *tlsf_malloc_block(alloc_heap *h, size_t bs);
void *alloc_malloc_missed(alloc_heap *h, size_t bs, const block_t *first);
#endif

#if QUICK_BINS > 0 && ALLOC_FAST_PATHS
/*
 * Frees b, a USED block of usable + HDR bytes (its size word checked by the caller), on a TLSF heap
 * that does not poison on free, into the lists (merged with its FREE neighbours), and accounts it:
 * ALLOC_OK, or ALLOC_ERR_CORRUPTED_FREE_LIST where a neighbour's check failed (reported, nothing
 * accounted). alloc_free's fast path calls it for a block its quick list has no room for.
 */
enum alloc_error tlsf_free_block(alloc_heap *h, block_t *b, size_t usable);
#endif

#endif /* ALLOC_TLSF_H */
