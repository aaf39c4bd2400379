/*
 * alloc/runs.c - small-block runs (see runs.h): the slow paths that create, list, release, check
 * and walk runs. Runs are ordinary blocks obtained from and returned to the heap's strategy: TLSF,
 * the one heap.c enables them on, whose entries for them are called directly (run_strategy_alloc).
 */
/* runs.h defines alloc_run_tables here, its one copy. */
#define RUN_DEFINE_TABLES
#include "runs.h"
#include "tlsf.h"

/* A build without runs (ALLOC_RUN_MAX_SIZE 0) compiles none of this: runs.h stands in. */
#if RUN_CLASSES > 0

/* The free-slot mask of run r. */
static uint64_t run_free_mask(uintptr_t r) {
    return run_meta(r)[RUN_STATE] & ~((uint64_t)7 << RUN_CLASS_SHIFT);
}

/* Stores run r's state (class c, free mask) with its check word. */
static void run_set_state(const alloc_heap *h, uintptr_t r, unsigned c, uint64_t mask) {
    uint64_t state = (uint64_t)c << RUN_CLASS_SHIFT | mask;
    run_meta(r)[RUN_STATE] = state;
    run_meta(r)[RUN_CHECK] = run_check_of(h, r, state);
}

/*
 * r is where a run's meta may be in this heap: its words can be read. r < end need not be tested:
 * an aligned r is at most 2^64 - RUN_ALIGN, so r + RUN_BLOCK - HDR does not wrap, and its bound
 * at end puts r below end.
 */
static bool run_in_heap(const alloc_heap *h, uintptr_t r) {
    return (r & (RUN_ALIGN - 1)) == 0 && r - HDR >= h->first && r + RUN_BLOCK - HDR <= h->end;
}

/*
 * r is the meta address of a sealed run of class c in this heap (a list link may point there).
 * `check_made`: the caller has found r as run_find does, a pointer masked to RUN_ALIGN and above
 * first (r - HDR >= first, see run_find), and r's check word to match its state (run_check_ok),
 * and nothing has written r's meta since: those comparisons are not made a second time on the same
 * values (r's block end at end, its header, its class and state bits are).
 */
static ALWAYS_INLINE bool run_sound_as(const alloc_heap *h, uintptr_t r, unsigned c,
                                       bool check_made) {
    if (check_made ? r + RUN_BLOCK - HDR > h->end : !run_in_heap(h, r))
        return false;
    const block_t *b = blk_at(r - HDR);
    hword_t w = b->size;
    const uint64_t *m = run_meta(r);
    uint64_t state = m[RUN_STATE];
    /*
     * The state is of class c with no bit outside c's slots': (state & ~full[c]) == c << 61, which
     * is state in [c << 61, emptied[c]] (emptied[c] = c << 61 | full[c], full[c] = 2^k - 1), one
     * subtraction and one comparison with rows of run_tables, not a mask's complement, a shift and
     * a comparison. For c = 0 or 5 .. 7 (full[c] 0), both ask state == c << 61; a c up to 4
     * above RUN_CLASSES keeps its rows (the tables are the same in every build).
     */
    const struct run_tables *t = run_tables();
    return (w & ~(TAG_MASK | PREV_FREE)) == RUN_SIZE_WORD && seal_ok(h, &b->size, w) &&
           (check_made || m[RUN_CHECK] == run_check_of(h, r, state)) &&
           t->emptied[c] - state <= t->full[c];
}

static bool run_sound(const alloc_heap *h, uintptr_t r, unsigned c) {
    return run_sound_as(h, r, c, false);
}

/*
 * The strategy's allocation of a new run's block and release of an emptied run's: runs are a TLSF
 * heap's alone (heap.c's runs_enabled), so where TLSF's entries for them are compiled (tlsf.h) they
 * are called directly, with no load of h->ops, indirect call and dispatch on the alignment or
 * try_cache (tlsf_alloc_op, tlsf_release_op); else through h->ops.
 *
 * The direct call does not flush the quick lists where the lists and the top block hold no room
 * for a run (through h->ops, a build for size's request flushes them as any does): the request is
 * then served by a block (alloc_run_missed), whose own search flushes them only if it finds none
 * either. A flush first made a small request that a block could serve give every quick-listed
 * block back to the lists (up to 1,024 of them), and sum the lists' counts where they held none;
 * the smallest regions of every trace are the same to the byte either way (alloc/HISTORY.md,
 * "Worst case").
 */
static ALWAYS_INLINE block_t *run_strategy_alloc(alloc_heap *h) {
#if TLSF_COMPILED_IN && ALLOC_FAST_PATHS
    return tlsf_alloc_aligned(h, RUN_BLOCK, RUN_ALIGN, false);
#else
    return heap_ops(h)->alloc(h, RUN_BLOCK, RUN_ALIGN, true);
#endif
}
static ALWAYS_INLINE bool run_strategy_release(alloc_heap *h, block_t *b) {
#if TLSF_COMPILED_IN && ALLOC_FAST_PATHS
    return tlsf_release_run(h, b);
#else
    return heap_ops(h)->release(h, b, false);
#endif
}

static bool run_unlink(alloc_heap *h, uintptr_t r, unsigned c);
static enum alloc_error run_push_full_head(alloc_heap *h, uintptr_t r, unsigned c, uint64_t bit);
static ALWAYS_INLINE bool run_link(alloc_heap *h, uintptr_t r, unsigned c, bool behind,
                                   uintptr_t head);

/*
 * Reports error e at p and returns it: out of line and reached by tail calls, so that run_give and
 * run_push save no register for the call.
 */
static __attribute__((noinline)) enum alloc_error run_report(alloc_heap *h, enum alloc_error e,
                                                             uintptr_t p) {
    alloc_report(h, e, (const void *)p);
    /*
     * Opaque (an empty asm): a caller that knew the result is e would keep e across the call
     * rather than make it a tail call, and save registers for it.
     */
    __asm__("" : "+r"(e));
    return e;
}

/*
 * run_gave's case that calls: a heap that poisons on free. The slot given back as
 * run_give_slot_bit gives it, poisoned, its address found again from the bit; ALLOC_OK.
 */
static __attribute__((noinline)) enum alloc_error run_gave_poisoned(alloc_heap *h, uintptr_t r,
                                                                    unsigned c, uint64_t bit) {
    uintptr_t p = r + RUN_META + (unsigned)__builtin_ctzll(bit) * run_slot_size(c);
    run_give_slot_bit(h, r, p, c, bit, true);
    enum alloc_error e = ALLOC_OK;
    __asm__("" : "+r"(e)); /* opaque, as in run_report */
    return e;
}

/*
 * The slot of run r (class c) whose bit of the state word is `bit` given back as the fast path
 * gives it: its bit set in the state and in the check word (run_give has checked the one against
 * the other; run_push and run_unlink write only link words), poisoned on a heap that poisons (by a
 * tail call: the caller then keeps nothing across the memset), accounted; ALLOC_OK. The bit rather
 * than the slot's address and index: one value fewer for run_push to keep across its checks.
 */
static ALWAYS_INLINE enum alloc_error run_gave(alloc_heap *h, uintptr_t r, unsigned c,
                                               uint64_t bit) {
    if (poison_free(h))
        return run_gave_poisoned(h, r, c, bit);
    run_give_slot_bit(h, r, 0, c, bit, false); /* the address is only poisoning's */
    return ALLOC_OK;
}

/*
 * Lists run r (of class c, sound, full, off the list), which gets back the slot of state bit `bit`,
 * behind its list's head, or at the head of an empty list; a full head (left there by the take
 * that filled it) leaves the list first, as only the head may be full. Then gives the slot back
 * (run_gave). ALLOC_OK, or ALLOC_ERR_CORRUPTED_FREE_LIST, reported, if the head or the run after
 * r's place is damaged: nothing changed, but where a full head has left the list before the damage
 * is met (run_push_full_head), it stays off it, as a full run may.
 *
 * A run that has got back its first free slot goes behind the head. Put first, it would fill at
 * the next take and leave the list at the one after: two list changes per slot, over and over.
 * Behind the head it gathers more free slots while the takes go on filling the head (the Perl
 * trace: 263,000 such pushes and 259,000 unlinks -> 65,000 and 59,000), and every free slot is
 * still on a list.
 *
 * Out of line, and reached by a tail call from run_give, its one caller, which then keeps no
 * register across it: the slot is given back here, after the list's change, not there.
 */
static __attribute__((noinline)) enum alloc_error run_push(alloc_heap *h, uintptr_t r, unsigned c,
                                                           uint64_t bit) {
    uintptr_t head = h->run_head[c];
    if (head != 0 && (!run_sound(h, head, c) || run_meta(head)[RUN_PREV] != 0))
        return run_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, head);
    /*
     * A full head leaves first, by a tail call: the call to run_unlink it makes would otherwise
     * have every push save and restore the registers that live across it.
     */
    if (head != 0 && run_free_mask(head) == 0)
        return run_push_full_head(h, r, c, bit);
    if (!run_link(h, r, c, true, head))
        return run_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, h->run_head[c]);
    return run_gave(h, r, c, bit);
}

/* run_push's rarer case: its checked head is full and leaves the list before r is linked. */
static __attribute__((noinline)) enum alloc_error run_push_full_head(alloc_heap *h, uintptr_t r,
                                                                     unsigned c, uint64_t bit) {
    /* Checked by run_unlink as the old head's successor; its prev is now 0. */
    if (!run_unlink(h, h->run_head[c], c) || !run_link(h, r, c, true, h->run_head[c]))
        return run_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, h->run_head[c]);
    return run_gave(h, r, c, bit);
}

/*
 * Links r (off the list) behind head where `behind` and head is not 0, else at the list's head:
 * head is 0 or the list's head, which the caller has found sound; it may be full where run_refused
 * links r behind it (run_push's full head leaves first). False, changing nothing, if the run after
 * head is damaged.
 */
static ALWAYS_INLINE bool run_link(alloc_heap *h, uintptr_t r, unsigned c, bool behind,
                                   uintptr_t head) {
    uint64_t *m = run_meta(r);
    if (behind && head != 0) {
        /*
         * h made opaque (an empty asm): the check of next reads h's fields again rather than
         * keeping them in registers from the head's check, which run_push would save and restore.
         */
        __asm__("" : "+r"(h));
        uintptr_t next = (uintptr_t)run_meta(head)[RUN_NEXT];
        if (next != 0 && (!run_sound(h, next, c) || run_meta(next)[RUN_PREV] != head))
            return false;
        m[RUN_NEXT] = next;
        m[RUN_PREV] = head;
        run_meta(head)[RUN_NEXT] = r;
        if (next != 0)
            run_meta(next)[RUN_PREV] = r;
        return true;
    }
    m[RUN_NEXT] = head;
    m[RUN_PREV] = 0;
    if (head != 0)
        run_meta(head)[RUN_PREV] = r;
    h->run_head[c] = r;
    return true;
}

/*
 * Takes run r (of class c, sound) off its class's list, after checking that its neighbours are
 * sound runs that point back at it (safe unlinking). False, changing nothing, if not.
 * `read_at_head`: the caller has read r from run_head[c] and written nothing since, so that a run
 * with no predecessor is not compared with run_head[c] a second time.
 */
static ALWAYS_INLINE bool run_unlink_as(alloc_heap *h, uintptr_t r, unsigned c, bool read_at_head) {
    uint64_t *m = run_meta(r);
    uintptr_t next = (uintptr_t)m[RUN_NEXT], prev = (uintptr_t)m[RUN_PREV];
    if (next != 0 && (!run_sound(h, next, c) || run_meta(next)[RUN_PREV] != r))
        return false;
    if (prev != 0 ? !run_sound(h, prev, c) || run_meta(prev)[RUN_NEXT] != r
                  : !read_at_head && h->run_head[c] != r)
        return false;
    if (next != 0)
        run_meta(next)[RUN_PREV] = prev;
    if (prev != 0)
        run_meta(prev)[RUN_NEXT] = next;
    else
        h->run_head[c] = next;
    m[RUN_NEXT] = 0;
    m[RUN_PREV] = 0;
    return true;
}

static bool run_unlink(alloc_heap *h, uintptr_t r, unsigned c) {
    return run_unlink_as(h, r, c, false);
}

/*
 * The RUN flag of block b's size word flipped, with its check bit (as blk_set_state flips a state,
 * internal.h): the word of a USED block of RUN_BLOCK bytes, validly sealed, becomes the run's, and
 * the run's the plain block's, with PREV_FREE kept; one xor where sealing the word afresh reads the
 * key, multiplies and folds. Every caller has the word as one of those two, sealed: written by the
 * strategy that has just handed the block out (run_made), or checked by run_sound before the run's
 * release (run_destroy).
 */
static inline void run_flag_flip(block_t *b) {
    b->size ^= flip_low_bits(RUN_FLAG);
}
_Static_assert(RUN_FLAG < (hword_t)1 << (8 * sizeof(tag_t)),
               "alloc: RUN_FLAG must lie in the lowest quarter of a word to flip its check bit");

/*
 * Makes USED block b, of RUN_BLOCK bytes, just taken from the strategy, a new run of class c, the
 * only one on its list (which is empty: alloc_run_take makes one only then, and the strategy's
 * calls touch no run list), and takes its first slot.
 */
static ALWAYS_INLINE void *run_made(alloc_heap *h, unsigned c, block_t *b) {
    uintptr_t r = (uintptr_t)blk_payload(b);
    mark_handed_out(h, r + RUN_BLOCK - HDR);
    run_flag_flip(b); /* the strategy's word, RUN_BLOCK | ST_USED: the RUN flag set */
    run_set_state(h, r, c, run_full_mask(c));
    /* run_push's link at an empty list's head, with no head to check: both links 0. */
    (void)run_link(h, r, c, false, 0);
    h->runs++;
    /* Its state just written with its check word, every slot free (not read back). */
    return run_take_lowest(h, r, c, (uint64_t)c << RUN_CLASS_SHIFT | run_full_mask(c));
}

/*
 * run_take_new's rarer case: the strategy handed out a little more than asked, its rest less than
 * MIN_BLOCK, too small to split (so a resize to RUN_BLOCK would change nothing): given back, and
 * NULL returned. Where the release refuses it (a damaged neighbour, which it reports), b is the
 * request's block, handed out as allocate hands out a block: accounted, then the report made,
 * which finds the heap consistent.
 */
static __attribute__((noinline)) void *run_take_cut(alloc_heap *h, block_t *b, size_t size,
                                                    bool block) {
    struct held_report held;
    if (alloc_release_held(h, b, &held))
        return block ? alloc_run_missed(h, size, NULL) : NULL;
    size_t s = blk_size(b);
    mark_handed_out(h, (uintptr_t)b + s);
    account_taken(h, s - HDR);
    alloc_report(h, held.error, held.ptr);
    return blk_payload(b);
}

/*
 * alloc_run_take's slot from a new run of class c (its list is empty), or NULL if the strategy has
 * no room for one, or REFUSED if it met a damaged block (reported); nothing changed. Where `block`
 * (a constant: alloc_run_take_or_block's copy), the NULL is alloc_run_missed's result for the
 * request of `size` bytes instead, and the REFUSED its NULL. Out of line, reached by a tail call,
 * so that a take from a listed run keeps nothing across the strategy's calls; its rare case apart
 * (run_take_cut), so that it keeps only h and c (and, 32-bit, size) across the strategy's
 * allocation.
 */
/*
 * The size alloc_run_missed asks a block for: where HDR is a multiple of GRANULE (64-bit), the
 * class's slot size, as block_size_for serves every size of a class (and 0, of class 1, as 16:
 * MIN_BLOCK) with the block it serves that slot size, so that the request's size is not kept
 * across the strategy's call (nor passed: a dead argument); else (an 8-byte header, 32-bit) the
 * request's own, as a class's sizes then take two block sizes (1 to 8 bytes 16, 9 to 16 32).
 */
#define RUN_MISS_SIZE(c, size) (HDR % GRANULE == 0 ? run_slot_size(c) : (size))
static ALWAYS_INLINE void *run_take_new_as(alloc_heap *h, unsigned c, size_t size, bool block) {
    block_t *b = run_strategy_alloc(h);
    if (!got_block(b))
        return block ? alloc_run_missed(h, RUN_MISS_SIZE(c, size), b) : b;
    if (blk_size(b) != RUN_BLOCK)
        return run_take_cut(h, b, RUN_MISS_SIZE(c, size), block);
    return run_made(h, c, b);
}
static __attribute__((noinline)) void *run_take_new(alloc_heap *h, unsigned c) {
    return run_take_new_as(h, c, 0, false);
}
static __attribute__((noinline)) void *run_take_new_block(alloc_heap *h, unsigned c, size_t size) {
    return run_take_new_as(h, c, size, true);
}

/*
 * Puts run r (rc as run_destroy's), which run_release has taken off its list and the strategy
 * refused (e ALLOC_ERR_CORRUPTED_FREE_LIST, reported by it) or run_destroy would not hand to it
 * (e ALLOC_ERR_CORRUPTED_HEADER, its free predecessor's header damaged, reported here), back as it
 * was: the check word and header that run_destroy erased written again from its state word (which
 * it keeps), listed behind the head as run_push lists it (or at the head of an empty list); nothing
 * accounted. Where the head, or the run after it, fails run_push's checks, that is reported too and
 * r goes in front of the head, whose links are not written: r stays on a list, its slots served,
 * and the damage is met again (and reported) where the list is walked past r. Returns e. Out of
 * line, reached by tail calls: rare.
 */
static __attribute__((noinline, cold)) enum alloc_error run_refused(alloc_heap *h, uintptr_t rc,
                                                                    enum alloc_error e) {
    uintptr_t r = rc & ~(RUN_ALIGN - 1);
    block_t *b = blk_at(r - HDR);
    uint64_t *m = run_meta(r);
    unsigned c = run_class(m[RUN_STATE]);
    if (e == ALLOC_ERR_CORRUPTED_HEADER) {
        alloc_report(h, e, b);
    } else {
        word_set(h, &b->size, RUN_SIZE_WORD | (b->size & PREV_FREE));
        m[RUN_CHECK] = run_check_of(h, r, m[RUN_STATE]);
    }
    m[RUN_NEXT] = 0;
    m[RUN_PREV] = 0;
    uintptr_t head = h->run_head[c];
    if (head == 0) {
        (void)run_link(h, r, c, false, 0);
    } else if (!run_sound(h, head, c) || run_meta(head)[RUN_PREV] != 0 ||
               !run_link(h, r, c, true, head)) {
        /* The head as run_push checks it, the run after it as run_link does (false: no change). */
        alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, (const void *)head);
        m[RUN_NEXT] = head;
        h->run_head[c] = r;
    }
    /*
     * Opaque (an empty asm), as in run_report: a caller that knew the result is e would keep e
     * across its calls rather than make this a tail call.
     */
    __asm__("" : "+r"(e));
    return e;
}

/*
 * Returns run r (sound, off every list, at most one slot in use: `rc` is r | c where c is the
 * class of that slot, which is accounted as given once the run is released, or r | 0 for none)
 * to the strategy: ALLOC_OK, or the error found, reported, with r relisted and nothing else
 * changed (run_refused). A free predecessor's header must match the run's prev word first: the
 * strategy relies on the checks free makes of a block's predecessor having been made. r and its
 * class in one word: one register fewer kept across the strategy's call.
 */
static ALWAYS_INLINE enum alloc_error run_destroy_as(alloc_heap *h, uintptr_t rc) {
    uintptr_t r = rc & ~(RUN_ALIGN - 1);
    block_t *b = blk_at(r - HDR);
    if (blk_prev_free(b) && !free_prev_ok(h, b))
        return run_refused(h, rc, ALLOC_ERR_CORRUPTED_HEADER);
    /*
     * Erase the check word and links first, so that a stale slot pointer can never find this run
     * again; the state word stays for run_refused (a state whose check word is gone finds nothing).
     * Zeroes on every heap: on one that poisons, the strategy's release poisons them over, as it
     * poisons the payload of every block it releases (but the links it files there).
     */
    __builtin_memset((void *)(r + sizeof(uint64_t)), 0, RUN_META - sizeof(uint64_t));
    run_flag_flip(b); /* a plain USED block again (RUN flag off), for the strategy */
    /* The strategy reports what it finds, and then changes nothing. */
    if (!run_strategy_release(h, b))
        return run_refused(h, rc, ALLOC_ERR_CORRUPTED_FREE_LIST);
    h->runs--;
    unsigned c = (unsigned)(rc & (RUN_ALIGN - 1));
    if (c != 0)
        run_slot_given(h, 0, run_slot_size(c), false);
    return ALLOC_OK;
}
static __attribute__((noinline)) enum alloc_error run_destroy(alloc_heap *h, uintptr_t rc) {
    return run_destroy_as(h, rc);
}

/*
 * Takes run r (of class c, sound) off its list if `listed` and returns it to the strategy
 * (run_destroy, `given` its rc's class part): ALLOC_OK, or the error found, reported, with nothing
 * changed. `inlined` (a constant): run_destroy's body inlined, for run_give_release, the free's
 * worst case (measured: -O1 371 -> 369 instructions, -O2 366 -> 364: no jump, no rc made and taken
 * apart again); the release of empty runs calls its one copy.
 */
static ALWAYS_INLINE enum alloc_error run_release(alloc_heap *h, uintptr_t r, unsigned c,
                                                  bool listed, unsigned given, bool inlined) {
    if (listed && !run_unlink_as(h, r, c, false))
        return run_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, r);
    return inlined ? run_destroy_as(h, r | given) : run_destroy(h, r | given);
}

/*
 * alloc_run_take's report of a damaged list at r: REFUSED, not NULL, so that the request is not
 * served by a block instead (a request refused for damage it reported is refused), nor, where no
 * block can be had, retried after the release of empty runs, whose checks of a kept run and its
 * neighbours on the list may meet the damage and report it again. Out of line, reached by tail
 * calls, so that alloc_run_take saves no register for the call (the result opaque, as
 * run_report's).
 */
static __attribute__((noinline)) void *run_take_report(alloc_heap *h, uintptr_t r) {
    alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, (const void *)r);
    void *p = REFUSED;
    __asm__("" : "+r"(p));
    return p;
}

/* run_take_report for alloc_run_take_or_block: the same report, and NULL, malloc's refusal. */
static __attribute__((noinline)) void *run_take_report_null(alloc_heap *h, uintptr_t r) {
    alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, (const void *)r);
    void *p = NULL;
    __asm__("" : "+r"(p));
    return p;
}

/*
 * alloc_run_take, and alloc_run_take_or_block where `block` (a constant): its misses by the tail
 * calls of run_take_new_block and run_take_report_null.
 */
#define RUN_TAKE_NEW(h, c, size, block)                                                            \
    ((block) ? run_take_new_block(h, c, size) : run_take_new(h, c))
#define RUN_TAKE_REPORT(h, r, block) ((block) ? run_take_report_null(h, r) : run_take_report(h, r))

/*
 * run_take_as's full head r with a neighbour on its list: it leaves it (run_unlink's checks), and
 * the take goes on from the new head. r was read from run_head[c], and run_sound writes nothing:
 * run_unlink's comparison of a first run with run_head[c] is not made again. h made opaque (an
 * empty asm): the unlink's checks read h's fields again rather than keeping them in registers from
 * the head's check.
 */
static ALWAYS_INLINE void *run_take_full_head_as(alloc_heap *h, uintptr_t r, unsigned c,
                                                 size_t size, bool block) {
    __asm__("" : "+r"(h));
    if (!run_unlink_as(h, r, c, true))
        return RUN_TAKE_REPORT(h, r, block);
    r = h->run_head[c]; /* sound: run_unlink checked it */
    if (r == 0)
        return RUN_TAKE_NEW(h, c, size, block);
    if (run_free_mask(r) == 0)
        return RUN_TAKE_REPORT(h, r, block); /* only the head may be full */
    return run_take_lowest(h, r, c, run_meta(r)[RUN_STATE]);
}
static __attribute__((noinline)) void *run_take_full_head(alloc_heap *h, uintptr_t r, unsigned c) {
    return run_take_full_head_as(h, r, c, 0, false);
}
static __attribute__((noinline)) void *run_take_full_head_block(alloc_heap *h, uintptr_t r,
                                                                unsigned c, size_t size) {
    return run_take_full_head_as(h, r, c, size, true);
}
#define RUN_TAKE_FULL_HEAD(h, r, c, size, block)                                                   \
    ((block) ? run_take_full_head_block(h, r, c, size) : run_take_full_head(h, r, c))
static ALWAYS_INLINE void *run_take_as(alloc_heap *h, unsigned c, size_t size, bool block) {
    uintptr_t r = h->run_head[c];
    if (r == 0)
        return RUN_TAKE_NEW(h, c, size, block);
    if (!run_sound(h, r, c))
        return RUN_TAKE_REPORT(h, r, block);
    if (run_free_mask(r) == 0) {
        /*
         * Filled by earlier takes and left at the head: it leaves the list now. Alone on it (no
         * link either way), inlined here, it needs no check: run_unlink's writes reduce to the
         * empty list's head (its links are 0 already), and the list is then empty, so the take
         * goes to a new run without reading the head again. With a neighbour, by a tail call
         * (RUN_TAKE_FULL_HEAD): the neighbour's checks need registers that every take through
         * here saved and restored, and the head read again (measured: the new run's worst case,
         * a full head alone, -O1 358 -> 338 instructions, -O2 337 -> 314).
         */
        uint64_t *m = run_meta(r);
        if ((m[RUN_NEXT] | m[RUN_PREV]) != 0)
            return RUN_TAKE_FULL_HEAD(h, r, c, size, block);
        h->run_head[c] = 0;
        return RUN_TAKE_NEW(h, c, size, block);
    }
    /*
     * r's state has been checked with its check word (run_sound, of the head or of the new head as
     * run_unlink's successor) and has a free slot. If taking it fills r, r stays at the head.
     */
    return run_take_lowest(h, r, c, run_meta(r)[RUN_STATE]);
}

void *alloc_run_take(alloc_heap *h, unsigned c) {
    return run_take_as(h, c, 0, false);
}

void *alloc_run_take_or_block(alloc_heap *h, unsigned c, size_t size) {
    return run_take_as(h, c, size, true);
}

/*
 * Finds slot p of run r (run_of's, or alloc_realloc's) in use: its class and index. Returns
 * ALLOC_OK or the error: a damaged run, a pointer inside a slot, a slot already free. (run_give
 * makes the same checks, each failure reported by a tail call of its own.)
 */
static enum alloc_error run_slot(const alloc_heap *h, uintptr_t r, uintptr_t p, unsigned *class,
                                 unsigned *index) {
    unsigned c = run_class(run_meta(r)[RUN_STATE]);
    if (c - 1 >= RUN_CLASSES || !run_sound(h, r, c))
        return ALLOC_ERR_CORRUPTED_HEADER;
    int i = run_slot_index(c, p - r - RUN_META);
    if (i < 0)
        return ALLOC_ERR_FOREIGN_POINTER;
    if ((run_free_mask(r) >> i) & 1)
        return ALLOC_ERR_DOUBLE_FREE;
    *class = c;
    *index = (unsigned)i;
    return ALLOC_OK;
}

/*
 * run_give's release of run r, which the give of its slot (class c) empties: off its list if it is
 * on it (it has a free slot, or heads the list), to the strategy, and only then the slot accounted
 * as given (run_destroy; its bit need not be set, the meta being gone, nor its bytes poisoned: the
 * strategy poisons the block on a heap that poisons). A release refused changes nothing, the slot
 * still in use. Out of line, reached by a tail call, so that run_give saves no register for its
 * calls.
 */
static __attribute__((noinline)) enum alloc_error run_give_release(alloc_heap *h, uintptr_t r,
                                                                   unsigned c) {
    /*
     * Listed as run_give finds it, from r's state (not changed since: the slot's bit is not set)
     * and the list's head: found here, so that run_give keeps no flag for it (measured: fewer
     * instructions, and at -O2 no saved register).
     */
    bool listed = run_free_mask(r) != 0 || h->run_head[c] == r;
    /*
     * Kept empty once, then given slots: named no longer (if the release is refused, r keeps its
     * slot in use, as a run that is not empty may be named or not).
     */
    if (h->run_spare[c] == r)
        h->run_spare[c] = 0;
    return run_release(h, r, c, listed, c, true);
}

/*
 * alloc_run_give and alloc_run_give_checked: `check_made` as run_sound_as. Its paths that call are
 * tail calls (run_report, run_push, run_give_release, run_gave's poisoning), so that it saves no
 * register.
 */
static ALWAYS_INLINE enum alloc_error run_give(alloc_heap *h, uintptr_t r, uintptr_t p,
                                               bool check_made) {
    /*
     * run_slot's checks (the run's, with check_made as run_sound_as), each failure reported at once
     * by a tail call of its own (run_report) rather than through an error code tested again
     * (measured: -O1 13 instructions fewer, -O2 3, on the worst case's slow gives).
     */
    unsigned c = run_class(run_meta(r)[RUN_STATE]);
    if (c - 1 >= RUN_CLASSES || !run_sound_as(h, r, c, check_made))
        return run_report(h, ALLOC_ERR_CORRUPTED_HEADER, p);
    int slot = run_slot_index(c, p - r - RUN_META);
    if (slot < 0)
        return run_report(h, ALLOC_ERR_FOREIGN_POINTER, p);
    unsigned i = (unsigned)slot;
    if ((run_free_mask(r) >> i) & 1)
        return run_report(h, ALLOC_ERR_DOUBLE_FREE, p);
    /*
     * h made opaque (an empty asm): what follows reads h's fields again rather than keeping them in
     * registers from those checks (alloc_run_give_checked saves one register fewer).
     */
    __asm__("" : "+r"(h));
    uint64_t mask = run_free_mask(r), now = mask | ((uint64_t)1 << i);
    uintptr_t head = h->run_head[c];
    /*
     * An emptied run goes back to the strategy unless it is the only run with a free slot: the
     * head, or second behind a full head, with no successor. Whether the head is full is only read
     * here: the unlink that a release makes checks the head (r's predecessor then) in full, and a
     * run kept is as sound as it was.
     */
    bool release = now == run_full_mask(c) &&
                   (mask == 0 || run_meta(r)[RUN_NEXT] != 0 ||
                    (head != r && ((uintptr_t)run_meta(r)[RUN_PREV] != head ||
                                   !run_in_heap(h, head) || run_free_mask(head) != 0)));
    if (release)
        return run_give_release(h, r, c);
    if (now == run_full_mask(c))
        h->run_spare[c] = r;    /* kept with every slot free: the class's one such run */
    if (mask == 0 && head != r) /* not listed: a full run off the list */
        return run_push(h, r, c, (uint64_t)1 << i);
    return run_gave(h, r, c, (uint64_t)1 << i);
}

enum alloc_error alloc_run_give_checked(alloc_heap *h, uintptr_t r, uintptr_t p) {
    return run_give(h, r, p, true);
}

/*
 * r's place above first and its check word compared first (r, slot_moved's, is a pointer masked to
 * RUN_ALIGN where run meta may be: its words can be read), then the rest: a run that fails them is
 * named ALLOC_ERR_CORRUPTED_HEADER at p, as run_give names every other fault of the run's meta.
 */
enum alloc_error alloc_run_give(alloc_heap *h, uintptr_t r, uintptr_t p) {
    if (r <= h->first || !run_check_ok(h, r)) {
        alloc_report(h, ALLOC_ERR_CORRUPTED_HEADER, (const void *)p);
        return ALLOC_ERR_CORRUPTED_HEADER;
    }
    return alloc_run_give_checked(h, r, p);
}

size_t alloc_run_usable(alloc_heap *h, uintptr_t r, uintptr_t p) {
    unsigned c, i;
    enum alloc_error e = run_slot(h, r, p, &c, &i);
    if (e != ALLOC_OK) {
        alloc_report(h, e, (const void *)p);
        return 0;
    }
    return run_slot_size(c);
}

/*
 * A run has every slot free only where a free emptied it and kept it (run_give), as the one run of
 * its class with a free slot (its list then holds it alone, or behind a full head), and named it in
 * run_spare. Every other run of its class is full then; while the kept one has a free slot, no new
 * run is made and another run that a free empties is given back (it is not alone on the list). So
 * a class has at most one run with every slot free, the one named, and one look a class finds it
 * however many runs are listed (the walk of every list this replaced read each one: a request
 * failing with 604 runs listed took 34,434 instructions at -O1, 41,762 at -O2).
 */
bool alloc_run_release_empty(alloc_heap *h) {
    for (unsigned c = 1; c <= RUN_CLASSES; c++) {
        uintptr_t r = h->run_spare[c];
        if (r == 0)
            continue;
        if (!run_sound(h, r, c)) {
            alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, (const void *)r);
            return false;
        }
        if (run_free_mask(r) != run_full_mask(c))
            continue; /* slots taken since it was kept */
        if (run_release(h, r, c, true, 0, false) != ALLOC_OK)
            return false; /* reported, r kept (and named): its unlink refused, or run_refused */
        h->run_spare[c] = 0;
    }
    return true;
}

enum alloc_error alloc_run_check_one(const alloc_heap *h, uintptr_t r, size_t *used,
                                     size_t *used_bytes, bool *listed) {
    unsigned c = run_class(run_meta(r)[RUN_STATE]);
    if ((r & (RUN_ALIGN - 1)) != 0 || c - 1 >= RUN_CLASSES || !run_sound(h, r, c))
        return ALLOC_ERR_CORRUPTED_HEADER;
    uint64_t mask = run_free_mask(r);
    size_t s = run_slot_size(c);
    unsigned n = run_slot_count(c), nfree = (unsigned)__builtin_popcountll(mask);
    if (poison_free(h)) {
        for (unsigned i = 0; i < n; i++) {
            if (((mask >> i) & 1) == 0)
                continue;
            const unsigned char *p = (const unsigned char *)(r + RUN_META + i * s);
            for (size_t k = 0; k < s; k++) {
                if (p[k] != (unsigned char)ALLOC_POISON_FREE_BYTE)
                    return ALLOC_ERR_WRITE_AFTER_FREE;
            }
        }
    }
    if (mask == run_full_mask(c) && h->run_spare[c] != r)
        return ALLOC_ERR_CORRUPTED_FREE_LIST; /* every slot free, and not the one run kept so */
    *used += n - nfree;
    *used_bytes += (size_t)(n - nfree) * s;
    *listed = mask != 0 || h->run_head[c] == r; /* a full run may stay at the head */
    return ALLOC_OK;
}

enum alloc_error alloc_run_check_lists(const alloc_heap *h, size_t listed, const void **bad) {
    size_t seen = 0;
    for (unsigned c = 1; c <= RUN_CLASSES; c++) {
        /* The run named as kept empty is a run of its class (none given back is named). */
        *bad = (const void *)h->run_spare[c];
        if (h->run_spare[c] != 0 && !run_sound(h, h->run_spare[c], c))
            return ALLOC_ERR_CORRUPTED_FREE_LIST;
        uintptr_t prev = 0;
        for (uintptr_t r = h->run_head[c]; r != 0; r = (uintptr_t)run_meta(r)[RUN_NEXT]) {
            *bad = (const void *)r;
            if (!run_sound(h, r, c) || run_meta(r)[RUN_PREV] != prev ||
                (run_free_mask(r) == 0 && prev != 0) || ++seen > listed)
                return ALLOC_ERR_CORRUPTED_FREE_LIST;
            prev = r;
        }
    }
    *bad = h;
    return seen == listed ? ALLOC_OK : ALLOC_ERR_CORRUPTED_FREE_LIST;
}

bool alloc_run_walk(const alloc_heap *h, uintptr_t r, alloc_walk_fn fn, void *ctx) {
    unsigned c = run_class(run_meta(r)[RUN_STATE]);
    if (c - 1 >= RUN_CLASSES || !run_sound(h, r, c))
        return false;
    uint64_t mask = run_free_mask(r);
    size_t s = run_slot_size(c);
    for (unsigned i = 0; i < run_slot_count(c); i++) {
        bool is_free = ((mask >> i) & 1) != 0;
        fn(ctx, (void *)(r + RUN_META + i * s), s, is_free ? ALLOC_BLOCK_FREE : ALLOC_BLOCK_USED);
    }
    return true;
}

#endif /* RUN_CLASSES > 0 */
