/*
 * alloc/internal.h - block layout and control structure shared by the strategies of the heap
 * allocator. Not part of the public interface.
 *
 * The region given to alloc_heap_init() is laid out as
 *
 *   base                first                                          end         raw_end
 *   |  struct alloc_heap | block | block | ...              | block | END |  unused  |
 *                        [first, end) is tiled by blocks      [end, end + HDR) is the end marker
 *
 * Every block's payload starts on a GRANULE (16-byte) boundary, after a header of two words of
 * hword_t, 64 bits on a 64-bit target and 32 on a 32-bit one (alloc/heap.h has the limits each
 * layout gives), so a block starts BLOCK_PHASE bytes past a granule boundary (0 or 8):
 *
 *   64-bit word 0 (prev):  63..48 check | 47..0 size of the physically previous block (0 for the
 *                          first)
 *          word 1 (size):  63..48 check | 47..4 size of this block (header included) | 3 RUN |
 *                          2 PREV_FREE | 1..0 state (END 0, USED 1, FREE 2, QUICK 3)
 *   32-bit word 0 (prev):  31..24 check | 23..0 size of the previous block
 *          word 1 (size):  31..24 check | 23..4 size of this block | 3..0 as above
 *
 * The check bits (see seal_bits) depend on the rest of the word, its address and a per-heap
 * secret, so a header can be told from payload bytes, from a damaged header and from another
 * heap's header, and a heap's headers from those of an earlier heap in the same region. A FREE
 * block keeps its free-list links (two pointers) at the start of its payload; a QUICK block keeps
 * one link there. RUN marks a USED block that holds small-block slots
 * (runs.h); it is zero on every other block. The END marker is a header of size 0 whose prev word
 * is the size of the last block.
 *
 * Invariants (verified by alloc_heap_check):
 *   - sizes are multiples of 16, at least ALLOC_MIN_BLOCK, and the blocks tile [first, end);
 *   - a header's prev word equals the size of the previous block;
 *   - PREV_FREE is set exactly when the previous block is FREE;
 *   - no two FREE blocks are neighbours (QUICK blocks count as used for coalescing);
 *   - TLSF: a FREE block that ends at the END marker is the top block, which is on no list (in
 *     a build with TOP_BLOCK, tlsf.h; else it is on its list like any other);
 *   - the free lists hold exactly the other FREE blocks, the quick lists exactly the QUICK blocks.
 */
#ifndef ALLOC_INTERNAL_H
#define ALLOC_INTERNAL_H

#include "alloc/config.h"
#include "alloc/heap.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

_Static_assert(sizeof(size_t) == sizeof(uintptr_t), "alloc: size_t and uintptr_t differ");

#define HDR         ((size_t)ALLOC_BLOCK_OVERHEAD)
#define MIN_BLOCK   ((size_t)ALLOC_MIN_BLOCK)
#define GRANULE     ((size_t)ALLOC_ALIGNMENT)
#define BLOCK_PHASE ((GRANULE - HDR) % GRANULE) /* a block's address modulo GRANULE */

/* A header word, and the check bits it keeps at its top (TAG_SHIFT and up). */
#if ALLOC_BLOCK_OVERHEAD == 16
typedef uint64_t hword_t;
typedef uint16_t tag_t;
#define TAG_SHIFT 48
#elif ALLOC_BLOCK_OVERHEAD == 8
typedef uint32_t hword_t;
typedef uint8_t tag_t;
#define TAG_SHIFT 24
#else
#error "alloc: no block layout for this ALLOC_BLOCK_OVERHEAD"
#endif
_Static_assert(2 * sizeof(hword_t) == ALLOC_BLOCK_OVERHEAD, "alloc: a header is two words");
_Static_assert(8 * sizeof(hword_t) - TAG_SHIFT == 8 * sizeof(tag_t), "alloc: tag width");
_Static_assert(2 * sizeof(void *) <= MIN_BLOCK - HDR,
               "alloc: two links must fit in a minimum payload");
_Static_assert(ALLOC_MAX_HEAP <= (size_t)1 << TAG_SHIFT,
               "alloc: every size in a heap must fit below the check bits");

#define ST_END     0u
#define ST_USED    1u
#define ST_FREE    2u
#define ST_QUICK   3u
#define STATE_MASK ((hword_t)3)
#define PREV_FREE  ((hword_t)4)
#define RUN_FLAG   ((hword_t)8) /* a USED block that holds small-block slots (runs.h) */
/*
 * The low bits of a sound FREE block's size word, which must read ST_FREE: its state, PREV_FREE
 * (no two free neighbours) and RUN_FLAG too, because taking a checked free block flips its state to
 * USED (word_flip, blk_set_state), which would carry a stray RUN_FLAG over and make it a run.
 */
#define FREE_WORD_MASK (PREV_FREE | STATE_MASK | RUN_FLAG)
#define TAG_MASK       ((hword_t) ~(hword_t)0 << TAG_SHIFT)
#define PREV_MASK      ((hword_t)~TAG_MASK)
#define SIZE_MASK      ((hword_t)(PREV_MASK & ~(hword_t)(GRANULE - 1)))
#define MAX_HEAP_SIZE  ALLOC_MAX_HEAP

/* The strategies compiled in (ALLOC_STRATEGIES), for #if and for conditions that must fold away. */
#define TLSF_COMPILED_IN      ((ALLOC_STRATEGIES & ALLOC_STRATEGY_BIT_TLSF) != 0)
#define FIRST_FIT_COMPILED_IN ((ALLOC_STRATEGIES & ALLOC_STRATEGY_BIT_FIRST_FIT) != 0)
/* TLSF is the one strategy compiled in: heap.c may then do some of its work itself. */
#define TLSF_ALONE (ALLOC_STRATEGIES == ALLOC_STRATEGY_BIT_TLSF)
_Static_assert(ALLOC_STRATEGIES != 0 && (ALLOC_STRATEGIES & ~(ALLOC_STRATEGY_BIT_TLSF |
                                                              ALLOC_STRATEGY_BIT_FIRST_FIT)) == 0,
               "alloc: ALLOC_STRATEGIES must name at least one strategy and only known ones");
_Static_assert(ALLOC_STRATEGY_BIT_TLSF == 1u << ALLOC_STRATEGY_TLSF &&
                   ALLOC_STRATEGY_BIT_FIRST_FIT == 1u << ALLOC_STRATEGY_FIRST_FIT,
               "alloc: bit n of ALLOC_STRATEGIES stands for strategy n");

/* For the few helpers of the call-free fast paths, which compilers may otherwise not inline. */
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Inlined into every caller where the build asks for speed (ALLOC_FAST_PATHS), else left to
 * the compiler, which keeps one copy. */
#if ALLOC_FAST_PATHS
#define FAST_INLINE ALWAYS_INLINE
#else
#define FAST_INLINE inline
#endif

/*
 * For a rare report called from the middle of a hot path (a damaged list head met by a filing, a
 * damaged clean met by a hand-out): the callee saves every register it uses (clang's preserve_most
 * convention, x86_64), so that the hot path keeps its values in the caller-saved registers across
 * the call and saves none itself for a call it almost never makes. Elsewhere, the ordinary
 * convention.
 */
#if defined(__clang__) && defined(__x86_64__) && ALLOC_FAST_PATHS
#define COLD_KEEPS_REGS __attribute__((preserve_most))
#else
#define COLD_KEEPS_REGS
#endif

/*
 * A helper used at several places: inlined for the fast paths, or one copy per file called
 * everywhere in a build without them (ALLOC_FAST_PATHS 0), for size.
 */
#if ALLOC_FAST_PATHS
#define INLINE_FOR_SPEED inline
#else
#define INLINE_FOR_SPEED inline __attribute__((noinline))
#endif

/*
 * Inlined into every caller where the build asks for speed, and one called copy in a build for
 * size, where the compiler would inline it into each caller all the same.
 */
#if ALLOC_FAST_PATHS
#define INLINE_OR_ONE_COPY ALWAYS_INLINE
#else
#define INLINE_OR_ONE_COPY __attribute__((noinline))
#endif

typedef struct block {
    hword_t prev;
    hword_t size;
} block_t;

/* For probe_word: ThreadSanitizer's attribute where the build has it. */
#if defined(__SANITIZE_THREAD__)
#define NO_THREAD_SANITIZER __attribute__((no_sanitize("thread")))
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NO_THREAD_SANITIZER __attribute__((no_sanitize("thread")))
#endif
#endif
#ifndef NO_THREAD_SANITIZER
#define NO_THREAD_SANITIZER
#endif

/*
 * Reads a word that is a header (or a run's meta) only if its check bits say so: the word in
 * front of a pointer handed to free or realloc, or at the start of the run it may lie in. When it
 * is not, it is payload bytes of a live block, which their owner may be writing on another thread
 * at this very moment; the caller only compares them with check bits that no one without this
 * heap's key can produce, so a torn or changing value is as good as any other bytes that are not
 * a header. ThreadSanitizer is told not to report this one read.
 */
static inline NO_THREAD_SANITIZER uint64_t probe_word(const uint64_t *word) {
    return *word;
}
/* probe_word for a header word. */
static inline NO_THREAD_SANITIZER hword_t probe_hword(const hword_t *word) {
    return *word;
}

struct free_links {
    block_t *next;
    block_t *prev;
};

struct alloc_strategy_ops;

/* "allochea", as much of it as an address holds */
#define HEAP_MAGIC ((uintptr_t)0x616c6c6f63686561ull)

struct alloc_heap {
    /*
     * heap_magic(heap, hook, hook_ctx): marks the region as a heap (alloc_heap_check) and, in a
     * build with ALLOC_FAST_PATHS, seals the error hook and its context, so that a stray write into
     * either is never called through (alloc_report). In this word rather than one of its own: a
     * word more moved every block, and the perl trace's smallest region past its goal; and a seal
     * in a word with other checked fields, damaged with them, would silence the report of their
     * damage.
     */
    uintptr_t magic;
    /*
     * The three switches below are 0 or 1, kept in bytes rather than bools and tested against 0:
     * a stray write may leave any value in them, and a bool holding another is undefined (the
     * compiler may take its low bit alone; UndefinedBehaviorSanitizer reports the load).
     */
    uint8_t quick_enabled;
    uint8_t fast_grow;    /* TLSF, no poisoning, ALLOC_FAST_PATHS: alloc_realloc's fast path */
    uint8_t runs_enabled; /* TLSF without ALLOC_FLAG_NO_SMALL_RUNS: small requests from runs */
    uint8_t strategy;     /* enum alloc_strategy, a byte: the switches, it and flags fill a word */
    uint32_t flags;
    /*
     * Half a word each, sharing one: fast_run_end is ALLOC_RUN_MAX_SIZE + 1 on a heap with runs
     * and no poison on alloc, whose requests of at most ALLOC_RUN_MAX_SIZE bytes take
     * alloc_malloc's run fast path, else 0: the fast path's size test (size below it) is then its
     * test of the heap too. fast_quick_mask is the quick lists' second word (see fast_quick_end),
     * kept in another word than fast_quick_end so that one stray word cannot write both; beside
     * fast_run_end, so that the pair takes the place of one word (a word more in the control
     * structure moved every block, and the perl trace's smallest region past its goal).
     */
    uint32_t fast_run_end;
    uint32_t fast_quick_mask;
    alloc_error_hook hook;
    void *hook_ctx;
    uintptr_t key;          /* the secret of the check bits, a multiplier of addresses: odd, new on
                               every init (the next init mixes this word in: make_key) */
    uintptr_t fast_free_lo; /* first + HDR, the lowest payload, on a heap whose frees take
                               alloc_free's leaf fast path (quick lists on, no poison on free);
                               else UINTPTR_MAX: the fast path's range test compares a pointer
                               with it in memory and so refuses every pointer where there is no
                               fast path, with no test of a flag of its own */
    uintptr_t fast_free_hi; /* the range's other end: end on such a heap, else 0, so that a
                               stray write into one of the two words cannot open the path
                               (a TLSF quick list's push) on a heap that has none */
    uintptr_t first;        /* first block */
    uintptr_t end;          /* the END marker */
    uintptr_t raw_end;      /* region end as given: its start (the heap) + size + extensions */
    uintptr_t clean;        /* payload bytes at or above this address were never handed out: with
                               ALLOC_FLAG_ZEROED_REGION they are zero; else UINTPTR_MAX */
    uintptr_t clean_check;  /* ~clean, compared before calloc trusts clean and before it is raised:
                               a stray write that lowered clean would have calloc return bytes
                               handed out before without clearing them */
    size_t in_use;          /* sum of usable sizes of USED blocks */
    size_t peak;            /* high-water mark of in_use */
    size_t taken_blocks;    /* blocks taken off the strategy's lists and not given back to them:
                               live allocations that are blocks (USED blocks other than runs)
                               and QUICK blocks, so that a quick push or pop changes no count of
                               blocks (the live ones are this less quick_held, tlsf.h) */
    size_t free_blocks;     /* number of FREE blocks */
    size_t fast_quick_end;  /* ALLOC_QUICK_MAX_SIZE on a heap with quick lists and no poison on
                               alloc, whose requests of 1 to that many bytes take alloc_malloc's
                               leaf fast path, else 0: the fast path's size test (size - 1 below
                               it) is then its test of the heap too. fast_quick_mask holds the
                               same value, or 0: the fast paths test against the two and-ed
                               (fast_quick_bound), so that a stray word can neither open them on
                               a heap without quick lists (first fit's state has none) nor let a
                               larger size index past the lists */
    size_t runs;            /* number of runs */
    size_t live_slots;      /* live allocations that are run slots */
    uintptr_t run_head[ALLOC_RUN_MAX_SIZE / 16 + 1]; /* [c]: runs of class c with a free slot
                                                        (the head may be full) */
#if ALLOC_RUN_MAX_SIZE > 0
    /*
     * [c]: the run of class c that a free emptied and kept (runs.c, run_give), or 0: the one run
     * of its class that may have every slot free, so that a request's release of empty runs finds
     * each class's in one look rather than by a walk of every listed run. It may have taken slots
     * since; a run given back to the strategy is no longer named here.
     */
    uintptr_t run_spare[ALLOC_RUN_MAX_SIZE / 16 + 1];
#endif
    const struct alloc_strategy_ops *ops; /* the strategy's slow paths, chosen at init */
    /* The strategy's own state (struct tlsf_state, struct ff_state): ops->state_size bytes. */
    uint64_t state[];
};

/*
 * The magic word of a heap at base with that hook and context: HEAP_MAGIC ^ base, and in a build
 * with ALLOC_FAST_PATHS a product of the hook and its context with an odd constant folded in, so
 * that a stray word in any of the three matches with probability 2^-64 (2^-32 on a 32-bit target).
 * Not keyed: a damaged key, which every header check then refuses, must not silence the hook.
 */
static inline uintptr_t heap_magic(uintptr_t base, alloc_error_hook hook, const void *ctx) {
#if ALLOC_FAST_PATHS
    const uintptr_t odd = (uintptr_t)0x9e3779b97f4a7c15ull;
    base ^= ((uintptr_t)hook * odd ^ (uintptr_t)ctx) * odd;
#else
    (void)hook, (void)ctx;
#endif
    return HEAP_MAGIC ^ base;
}

/* h's magic word matches h, its hook and its context. */
static inline bool magic_intact(const alloc_heap *h) {
    return h->magic == heap_magic((uintptr_t)h, h->hook, h->hook_ctx);
}

/* The hook and its context, and the magic word that seals them, written together. */
static inline void hook_set(alloc_heap *h, alloc_error_hook hook, void *ctx) {
    h->hook = hook;
    h->hook_ctx = ctx;
    h->magic = heap_magic((uintptr_t)h, hook, ctx);
}

/* ---- header accessors ---- */

/*
 * The check bits of a header word: the top bits of every header word (16 of 64, 8 of 32) are
 *
 *     fold((data) ^ (address of the word) * key)
 *
 * where data is the rest of the word, key the heap's secret (odd, derived at init from the
 * region's address and from the previous heap's secret found there, so it changes on every
 * re-init) and fold the xor of the word's four quarters. Every bit of data lands on exactly one
 * check bit, so any single-bit flip, in data or in the check bits, is always detected; a word
 * written by anything that does not know the key (a stray write, an overrun, a header copied to
 * another address, a header of another heap or of this heap before a re-init) passes with
 * probability 2^-16 (2^-8 on a 32-bit target), and the boundary-tag cross-checks make that a
 * conjunction of two such events.
 */
static inline hword_t tag_fold(hword_t x) {
    x ^= x >> (4 * sizeof(hword_t));
    x ^= x >> (2 * sizeof(hword_t));
    return x; /* the fold in its low sizeof(tag_t) bytes */
}
static inline hword_t keyed(const alloc_heap *h, const hword_t *w) {
    return (hword_t)(uintptr_t)w * (hword_t)h->key;
}
static inline hword_t seal_bits(const alloc_heap *h, const hword_t *w, hword_t data) {
    return (hword_t)(tag_fold(data ^ keyed(h, w)) << TAG_SHIFT);
}
/*
 * v, the value of the header word at w, carries valid check bits. The fold is linear and takes
 * the check bits themselves to their own place, so v is sealed exactly when the fold of
 * v ^ (w * key) is zero: no need to strip and rebuild the check bits to compare them.
 */
static inline bool seal_ok(const alloc_heap *h, const hword_t *w, hword_t v) {
    return (tag_t)tag_fold(v ^ keyed(h, w)) == 0;
}

/*
 * The check-bit helpers used at every header access: inlined for the fast paths; a build
 * without them (ALLOC_FAST_PATHS 0), for size, calls one copy of each in the library (heap.c).
 */
#if ALLOC_FAST_PATHS
/* data (with its check bits clear) sealed for the word at w. */
static inline hword_t sealed(const alloc_heap *h, const hword_t *w, hword_t data) {
    return data | seal_bits(h, w, data);
}
/* The header word at w carries valid check bits. */
static inline bool word_ok(const alloc_heap *h, const hword_t *w) {
    return seal_ok(h, w, *w);
}
/* Stores data, sealed, at w. */
static inline void word_set(const alloc_heap *h, hword_t *w, hword_t data) {
    *w = sealed(h, w, data);
}
#else
hword_t alloc_sealed(const alloc_heap *h, const hword_t *w, hword_t data);
bool alloc_word_ok(const alloc_heap *h, const hword_t *w);
void alloc_word_set(const alloc_heap *h, hword_t *w, hword_t data);
static inline hword_t sealed(const alloc_heap *h, const hword_t *w, hword_t data) {
    return alloc_sealed(h, w, data);
}
static inline bool word_ok(const alloc_heap *h, const hword_t *w) {
    return alloc_word_ok(h, w);
}
static inline void word_set(const alloc_heap *h, hword_t *w, hword_t data) {
    alloc_word_set(h, w, data);
}
#endif

static inline block_t *blk_at(uintptr_t a) {
    return (block_t *)a;
}
static inline size_t blk_size(const block_t *b) {
    return (size_t)(b->size & SIZE_MASK);
}
/*
 * The size bits of a size word, as blk_size takes them; in a build for size with the 32-bit layout
 * by two shifts (a ubfx and a lsl on a Cortex-M4, 6 bytes), kept apart by empty asms, else clang
 * folds them back into the and with SIZE_MASK, which Thumb-2 cannot encode as an immediate: a
 * movw/movt pair and the and, 10 to 12 bytes. Used where that mask would be built for one read;
 * where a function keeps it in a register for several, blk_size's and is shorter (each use
 * measured: 2,550 -> 2,512 bytes of core text on the Cortex-M4 in all). Only on ARM: x86 encodes
 * the mask in its and (there the shifts made the minimal build on i386 92 bytes longer). The
 * default build, the 64-bit layout and other targets keep the and, as macros: the same code at
 * every optimisation level.
 */
#if ALLOC_FAST_PATHS || ALLOC_BLOCK_OVERHEAD != 8 || !defined(__arm__)
#define word_size_shifts(w) ((size_t)((w) & SIZE_MASK))
#define blk_size_shifts     blk_size
#else
static inline size_t word_size_shifts(hword_t w) {
    size_t x = (size_t)((w & PREV_MASK) / GRANULE);
    __asm__("" : "+r"(x));
    x *= GRANULE;
    __asm__("" : "+r"(x));
    return x;
}
static inline size_t blk_size_shifts(const block_t *b) {
    return word_size_shifts(b->size);
}
#endif
static inline unsigned blk_state(const block_t *b) {
    return (unsigned)(b->size & STATE_MASK);
}
static inline bool blk_prev_free(const block_t *b) {
    return (b->size & PREV_FREE) != 0;
}
static inline size_t blk_prev_size(const block_t *b) {
    return (size_t)(b->prev & PREV_MASK);
}
static inline block_t *blk_next(const block_t *b) {
    return blk_at((uintptr_t)b + blk_size(b));
}
static inline block_t *blk_prev(const block_t *b) {
    return blk_at((uintptr_t)b - blk_prev_size(b));
}
static inline void *blk_payload(const block_t *b) {
    return (void *)((uintptr_t)b + HDR);
}
static inline block_t *blk_from_payload(const void *p) {
    return blk_at((uintptr_t)p - HDR);
}
static inline struct free_links *blk_links(const block_t *b) {
    return (struct free_links *)((uintptr_t)b + HDR);
}
/* Both header words of b carry valid check bits. */
static inline bool hdr_ok(const alloc_heap *h, const block_t *b) {
    return word_ok(h, &b->size) && word_ok(h, &b->prev);
}
/* b's size word is exactly `data` (size, PREV_FREE and state), validly sealed. */
static inline bool size_word_is(const alloc_heap *h, const block_t *b, hword_t data) {
    return b->size == sealed(h, &b->size, data);
}
/* b's prev word says `prev_size`, validly sealed: the boundary tag of a predecessor. */
static inline bool prev_word_is(const alloc_heap *h, const block_t *b, size_t prev_size) {
    return b->prev == sealed(h, &b->prev, (hword_t)prev_size);
}

/*
 * For a block b whose PREV_FREE is set: its prev word is sealed, in range, a multiple of a granule
 * (two bits flipped in matching places of two quarters of the word keep its check bits), and
 * names a FREE predecessor whose size word says so. Free relies on this before it merges b with
 * it.
 */
static FAST_INLINE bool free_prev_ok(const alloc_heap *h, const block_t *b) {
    size_t ps = blk_prev_size(b);
    return word_ok(h, &b->prev) && ps >= MIN_BLOCK && ps <= (uintptr_t)b - h->first &&
           (ps & (GRANULE - 1)) == 0 &&
           size_word_is(h, blk_at((uintptr_t)b - ps), (hword_t)ps | ST_FREE);
}

/*
 * A build without fast paths (ALLOC_FAST_PATHS 0), for size: one called copy (heap.c) of the
 * checks of a block's own header that pointer validation (heap.c) and a free-list node's check
 * (tlsf.c) share: b is in the heap (in_heap), both of its header words are sealed, its size word
 * says (word & mask) == want and a size in [MIN_BLOCK, end - b], which its successor's prev word
 * (the boundary tag) repeats, and its successor's size word is sealed. Returns that size, or 0. The
 * default makes these checks inline, in the forms its fast paths need (without the last two for a
 * free-list node).
 */
#if !ALLOC_FAST_PATHS
size_t alloc_block_sound(const alloc_heap *h, const block_t *b, hword_t mask, hword_t want);
#endif

/* b is a plausible block address in this heap: inside [first, end), BLOCK_PHASE past a granule. */
static inline bool block_in_heap(const alloc_heap *h, const block_t *b) {
    uintptr_t a = (uintptr_t)b;
    return a >= h->first && a < h->end && (a & (GRANULE - 1)) == BLOCK_PHASE;
}
/*
 * block_in_heap where it is used: inlined for the fast paths; one called copy for the whole library
 * (heap.c) in a build without them, which alloc_block_sound calls as tlsf.c does.
 */
#if ALLOC_FAST_PATHS
static inline bool in_heap(const alloc_heap *h, const block_t *b) {
    return block_in_heap(h, b);
}
#else
bool alloc_in_heap(const alloc_heap *h, const block_t *b);
static inline bool in_heap(const alloc_heap *h, const block_t *b) {
    return alloc_in_heap(h, b);
}
#endif

/* Writes a whole header. */
static inline void blk_set(const alloc_heap *h, block_t *b, size_t prev_size, size_t size,
                           unsigned state, bool prev_free) {
    word_set(h, &b->prev, (hword_t)prev_size);
    word_set(h, &b->size, (hword_t)size | (prev_free ? PREV_FREE : 0) | state);
}
/* Changes size and state, keeping PREV_FREE and the prev word. */
static INLINE_FOR_SPEED void blk_set_size_state(const alloc_heap *h, block_t *b, size_t size,
                                                unsigned state) {
    word_set(h, &b->size, (hword_t)size | (b->size & PREV_FREE) | state);
}
/*
 * The check bits are linear in the data: flipping data bits d (all in the lowest quarter of the
 * word) flips check bits d. So a change of state or PREV_FREE is one xor, needs no key, and keeps
 * a damaged word damaged rather than sealing it afresh.
 */
static inline hword_t flip_low_bits(hword_t d) {
    return d | (d << TAG_SHIFT);
}
/*
 * The header word at w, whose data the caller has checked, changed by the same linearity to that
 * data xor d (no check bits in d): one xor of d and its fold, no key to read and multiply (a word
 * that was damaged would stay damaged).
 */
static inline void word_flip(hword_t *w, hword_t d) {
    *w ^= d | (hword_t)(tag_fold(d) << TAG_SHIFT);
}
static inline void blk_set_state(const alloc_heap *h, block_t *b, unsigned state) {
    (void)h;
    b->size ^= flip_low_bits((b->size ^ state) & STATE_MASK);
}
static INLINE_FOR_SPEED void blk_set_prev_free(const alloc_heap *h, block_t *b, bool prev_free) {
    (void)h;
    b->size ^= flip_low_bits((b->size & PREV_FREE) ^ (prev_free ? PREV_FREE : 0));
}
static inline void blk_set_prev_size(const alloc_heap *h, block_t *b, size_t prev_size) {
    word_set(h, &b->prev, (hword_t)prev_size);
}

/*
 * Reports a clean that does not match its check word (a stray write into the control structure)
 * and gives up the zero tracking: from then on calloc clears every byte. Returns the new clean,
 * UINTPTR_MAX (heap.c).
 */
COLD_KEEPS_REGS uintptr_t alloc_clean_damaged(alloc_heap *h);

/*
 * clean and its check word, ~clean, written together: the one place that keeps the pair. A build
 * for size trusts its control structure (heap.h) and keeps clean alone.
 */
static inline void clean_set(alloc_heap *h, uintptr_t clean) {
#if ALLOC_FAST_PATHS
    h->clean_check = ~clean;
#endif
    h->clean = clean;
}

/* clean, read from h, matches its check word (always, in a build for size). */
static inline bool clean_intact(const alloc_heap *h, uintptr_t clean) {
    return !ALLOC_FAST_PATHS || h->clean_check == ~clean;
}

/*
 * Records that [.., end) has been handed out (the caller may write it): alloc_calloc must zero
 * bytes below h->clean and may skip those above. clean is checked before it is raised: a raise
 * would otherwise launder a value a stray write had lowered. Returns true; false, with nothing
 * written, where clean is damaged: the caller reports it (alloc_clean_damaged), at once
 * (mark_handed_out) or by a tail call (hand_out_unpoisoned_to).
 */
static ALWAYS_INLINE bool clean_raised(alloc_heap *h, uintptr_t end) {
    uintptr_t clean = h->clean;
    if (end > clean) {
        if (!clean_intact(h, clean))
            return false;
        clean_set(h, end);
    }
    return true;
}

/* clean_raised, a damaged clean reported at once. */
static FAST_INLINE void mark_handed_out(alloc_heap *h, uintptr_t end) {
    if (!clean_raised(h, end))
        (void)alloc_clean_damaged(h);
}

/*
 * mark_handed_out where this call has checked clean already (calloc_clean, calloc_clear_fast):
 * calloc's own mark, which a call to the report would otherwise give a frame.
 */
static inline void mark_handed_out_checked(alloc_heap *h, uintptr_t end) {
    if (end > h->clean)
        clean_set(h, end);
}

/*
 * h->clean for calloc, checked against its check word first. A build for size trusts its control
 * structure (heap.h), and checks neither here nor in mark_handed_out.
 */
static inline uintptr_t calloc_clean(alloc_heap *h) {
    uintptr_t clean = h->clean;
    if (!clean_intact(h, clean))
        return alloc_clean_damaged(h);
    return clean;
}

/*
 * The bounds the fast paths test a size against, read from the control structure where a stray
 * write may leave any value. Each is and-ed with what bounds it (fast_run_end with its only value
 * but 0, fast_quick_end with fast_quick_mask, which is that value or 0), so that no larger size
 * takes a path, where its class or list would index past the heads; a heap without quick lists
 * keeps both quick words 0, so one of them written cannot open the quick lists' path there.
 * Legitimate values pass unchanged.
 */
static inline size_t fast_run_bound(const alloc_heap *h) {
    return h->fast_run_end & (ALLOC_RUN_MAX_SIZE + 1);
}
static inline size_t fast_quick_bound(const alloc_heap *h) {
    return h->fast_quick_end & h->fast_quick_mask;
}

/*
 * x, as a value the compiler cannot see into: it then neither re-derives it nor folds its
 * arithmetic into that of its uses, where doing so costs instructions (the fast paths' counts).
 * An empty asm, no instruction of its own.
 */
static inline size_t opaque_size(size_t x) {
    __asm__("" : "+r"(x));
    return x;
}

/* opaque_size for a 64-bit word: the asm only where a register holds one. */
static inline uint64_t opaque_u64(uint64_t x) {
#if UINTPTR_MAX > 0xffffffffu
    __asm__("" : "+r"(x));
#endif
    return x;
}

/*
 * The error of a strategy's release that returned ok (false: it has reported the damage):
 * ALLOC_OK (0) or ALLOC_ERR_CORRUPTED_FREE_LIST, as arithmetic on ok kept opaque (else the
 * compiler makes it a branch to each constant again, and a caller keeps both constants across the
 * release), for free_block (heap.c).
 */
static inline size_t release_error(bool ok) {
    _Static_assert(ALLOC_OK == 0, "alloc: ALLOC_OK is 0");
    return opaque_size((size_t)ok - 1) & (size_t)ALLOC_ERR_CORRUPTED_FREE_LIST;
}

/*
 * The bytes in use (and their peak) as an allocation of `usable` bytes is handed out or given
 * back; the caller counts it in taken_blocks or live_slots, so that each path updates one count
 * (none, a quick list's push or pop: the block stays in taken_blocks).
 */
static inline void account_bytes_taken(alloc_heap *h, size_t usable) {
    h->in_use += usable;
    /*
     * The count made opaque in memory (an empty asm): the add is then made there, one instruction,
     * and the sum read back for the peak, where the compiler would load, add and store it. Not in
     * a build for size (ALLOC_FAST_PATHS 0), whose Cortex-M4 code it makes 6 bytes longer.
     */
    if (ALLOC_FAST_PATHS)
        __asm__("" : "+m"(h->in_use));
    if (h->in_use > h->peak)
        h->peak = h->in_use;
}
static inline void account_bytes_given(alloc_heap *h, size_t usable) {
    h->in_use -= usable;
}
/*
 * The statistics of a block of `usable` bytes taken off the strategy's lists and handed out, or
 * given back to them (a quick list's push or pop: account_bytes_taken and account_bytes_given
 * alone).
 */
static inline void account_taken(alloc_heap *h, size_t usable) {
    account_bytes_taken(h, usable);
    h->taken_blocks++;
}
static inline void account_given(alloc_heap *h, size_t usable) {
    account_bytes_given(h, usable);
    h->taken_blocks--;
}

/*
 * A USED block b of s bytes handed out on a heap that does not poison on alloc: its bytes marked
 * handed out, its usable size accounted, its payload returned (heap.c's hand_out, tlsf.c's
 * carvings that hand out themselves). s - HDR opaque: else the compiler adds s to the count and
 * subtracts HDR from the sum, which it then stores, not the one add in memory that
 * account_bytes_taken asks for.
 */
void *alloc_hand_out_clean_damaged(alloc_heap *h, block_t *b, size_t s);
/* hand_out_unpoisoned with b's end, b + s, at hand in the caller (`end`, one register fewer). */
static ALWAYS_INLINE void *hand_out_unpoisoned_to(alloc_heap *h, block_t *b, size_t s,
                                                  uintptr_t end) {
#if ALLOC_FAST_PATHS
    /*
     * mark_handed_out's work, with its report (a damaged clean) and the rest of the hand-out made
     * by a tail call (alloc_hand_out_clean_damaged: the report, then the accounting, as here), so
     * that the carvings that hand out call nothing and need no stack frame.
     */
    if (!clean_raised(h, end))
        return alloc_hand_out_clean_damaged(h, b, s);
#else
    mark_handed_out(h, end);
#endif
    account_taken(h, opaque_size(s - HDR));
    return blk_payload(b);
}
static ALWAYS_INLINE void *hand_out_unpoisoned(alloc_heap *h, block_t *b, size_t s) {
    return hand_out_unpoisoned_to(h, b, s, (uintptr_t)b + s);
}

/*
 * Header and payload of a request of n bytes (n <= ALLOC_MAX_REQUEST) rounded up to a granule.
 * With a header of whole granules (64-bit), the payload rounded up plus the header: the form the
 * fast paths' index arithmetic folds best.
 */
static inline size_t header_and_payload(size_t n) {
    if (HDR % GRANULE == 0)
        return ((n + GRANULE - 1) & ~(GRANULE - 1)) + HDR;
    return (n + HDR + GRANULE - 1) & ~(GRANULE - 1);
}
/*
 * The block size that serves a request of n bytes (n <= ALLOC_MAX_REQUEST). Size 0 is served as
 * 1 byte would be: both round to at most one granule's block, which the minimum block holds.
 */
static inline size_t block_size_for(size_t n) {
    size_t s = header_and_payload(n);
    /* Where 0 bytes round up to a minimum block already (32-bit), no size is raised. */
    if (header_and_payload(0) >= MIN_BLOCK)
        return s;
    return s < MIN_BLOCK ? MIN_BLOCK : s;
}

static inline bool poison_free(const alloc_heap *h) {
    return (h->flags & ALLOC_FLAG_POISON_ON_FREE) != 0;
}

/*
 * Overwrites the header (and, with poisoning, the links) of a block that has just been absorbed
 * into a neighbour, so the stale header can never again pass for a block start. len is HDR for a
 * block that had no links in use, HDR plus the links for a free block.
 */
static INLINE_FOR_SPEED void blk_erase(const alloc_heap *h, block_t *b, size_t len) {
    if (poison_free(h))
        __builtin_memset(b, ALLOC_POISON_FREE_BYTE, len);
    else
        __builtin_memset(b, 0, HDR);
}

/* ---- the strategy seam ---- */

/*
 * The operations of a strategy (tlsf.c, first_fit.c): they move free space around and keep
 * their own state; heap.c validates pointers, keeps the statistics of live blocks and calls
 * these through the table chosen at init. Only the fast paths (tlsf.h) are inlined instead.
 */
struct alloc_strategy_ops {
    enum alloc_strategy strategy;
    size_t state_size; /* bytes of strategy state after the common control structure */
    /*
     * Returns a USED block of at least `size` bytes (block size) aligned as asked, NULL if none
     * fits, or REFUSED after reporting a damaged block it met (nothing changed).
     * try_cache is false when the caller already found the strategy's cache empty.
     */
    block_t *(*alloc)(alloc_heap *h, size_t size, size_t align, bool try_cache);
    /*
     * Frees a validated USED block (into a cache if try_cache and the strategy has one).
     * Returns false, after reporting, if a neighbour or a list is corrupted: nothing changed.
     */
    bool (*release)(alloc_heap *h, block_t *b, bool try_cache);
    /*
     * Resizes a USED block in place to block size `size`. Returns 1 if done, 0 if it cannot be
     * done in place, -1 after reporting a corruption.
     */
    int (*resize)(alloc_heap *h, block_t *b, size_t size);
};

/*
 * What a strategy's alloc returns, never a block, when it has met a damaged block and reported it
 * (and alloc_run_take, when that happened to a new run's block, or when it found its list of runs
 * damaged): no block, and no second try either, which would meet the damage again and report it a
 * second time (a retry after a flush or after releasing empty runs, a batch's blocks one by one, a
 * plain block after a run's); the build for size's TLSF too (alloc_tlsf_alloc). got_block tells a
 * block from both NULL and REFUSED in one comparison, as a test of NULL alone takes.
 */
#define REFUSED ((block_t *)(uintptr_t)1)
static inline bool got_block(const void *b) {
    return (uintptr_t)b > (uintptr_t)REFUSED;
}

/*
 * The operations of a strategy that only statistics and the integrity check use. A table apart
 * from struct alloc_strategy_ops (which init stores in the heap), looked up by strategy where
 * they are called, so that a program that never calls alloc_heap_stats or alloc_heap_check
 * links none of them (section garbage collection drops the table and what it points to).
 */
struct alloc_strategy_inspect {
    /* Payload size of the largest free (or cached) block. */
    size_t (*largest_free)(alloc_heap *h);
    /* Verifies the strategy's lists; nfree/nquick are the counts from the block walk. */
    enum alloc_error (*check)(alloc_heap *h, size_t nfree, size_t nquick, const void **bad);
};

extern const struct alloc_strategy_ops alloc_tlsf_ops;
extern const struct alloc_strategy_ops alloc_ff_ops;
extern const struct alloc_strategy_inspect alloc_tlsf_inspect;
extern const struct alloc_strategy_inspect alloc_ff_inspect;

/*
 * Reports ALLOC_ERR_CORRUPTED_HEAP at h->ops, a table of operations that is none of the
 * strategies' or not the heap's strategy's, and returns a table whose operations do what a
 * strategy's do after reporting a damaged block: nothing (heap.c).
 */
const struct alloc_strategy_ops *alloc_damaged_ops(const alloc_heap *h);

/*
 * The strategy's operations, from the table init stored in the control structure: compared with
 * the tables there are before a call through it, since a stray write into the control area must
 * not send the call anywhere; a table that is neither, or the other strategy's than the strategy
 * byte names (the two tables lie close together, a near value away), is reported, and the call
 * changes nothing (alloc_damaged_ops). A build with TLSF alone has one table, and reads none. A
 * build for size trusts its control structure (as its list heads, tlsf.c): the minimal build's
 * calls through the one table took 24 bytes more on a Cortex-M4 than through the heap's pointer.
 */
static inline const struct alloc_strategy_ops *heap_ops(const alloc_heap *h) {
#if !ALLOC_FAST_PATHS
    return h->ops;
#elif TLSF_ALONE
    (void)h;
    return &alloc_tlsf_ops;
#else
    const struct alloc_strategy_ops *ops = h->ops;
#if TLSF_COMPILED_IN
    if (ops == &alloc_tlsf_ops && h->strategy == ALLOC_STRATEGY_TLSF)
        return ops;
#endif
#if FIRST_FIT_COMPILED_IN
    if (ops == &alloc_ff_ops && h->strategy == ALLOC_STRATEGY_FIRST_FIT)
        return ops;
#endif
    return alloc_damaged_ops(h);
#endif
}

/*
 * Sends an error to the heap's hook, if it has one and (with ALLOC_FAST_PATHS) the magic word
 * still seals it; else the report is dropped, and the call returns its error as ever (heap.c).
 */
void alloc_report(const alloc_heap *h, enum alloc_error e, const void *ptr);

/* A report held back (alloc_release_held). */
struct held_report {
    enum alloc_error error;
    const void *ptr;
};

/*
 * The strategy's release of USED block b (no cache), its report, where it refuses, held in *held
 * rather than made: for a caller whose heap is half changed during the release (a block not
 * accounted), which puts it right and then reports (alloc_report(h, held->error, held->ptr)), so
 * that the hook finds a consistent heap. Returns the release's result (heap.c). A release that
 * succeeds leaves the heap whole: what it held (a damaged list head it filed past, tlsf.c) is
 * reported before the return.
 */
bool alloc_release_held(alloc_heap *h, block_t *b, struct held_report *held);

/* Size of the control structure for a strategy, rounded up to 16. */
size_t alloc_control_size(enum alloc_strategy s);

#endif /* ALLOC_INTERNAL_H */
