/*
 * alloc/runs.h - small-block runs: the private header of runs.c, and the fast paths heap.c inlines
 * into alloc_malloc and alloc_free. Not part of the public interface.
 *
 * On a TLSF heap (unless initialised with ALLOC_FLAG_NO_SMALL_RUNS), requests of at most
 * ALLOC_RUN_MAX_SIZE bytes are served from runs: ordinary USED blocks of exactly RUN_BLOCK bytes,
 * marked by the RUN bit of their (sealed) size word, whose payload starts on a RUN_ALIGN boundary
 * and is cut into equal slots of one size class without per-slot headers. A 10-byte request then
 * costs 16 bytes, not a 32-byte block, and is a bit flip in a mask rather than a list operation.
 *
 *   r - HDR       r            r + 32                                     r + 1024 - HDR
 *   | TLSF header | run meta   | slot 0 | slot 1 | ...                       | next block
 *                 state, check, next, prev
 *
 * Run meta (in the run, after the block header, so an overrun of the block before the run reaches
 * only the sealed header; an overrun of a slot reaches only the next slot or the next block's
 * sealed header):
 *   state  the size class (bits 63..61) and one bit per slot, set when the slot is free;
 *   check  state ^ (r * key): a flipped or overwritten state (or check) no longer matches, and
 *          only this heap's key makes a check that matches at r;
 *   next, prev   the run's neighbours on its class's list of runs with a free slot (0: none);
 *          the take that fills a run leaves it at the head, the one place a full run may be, and
 *          it leaves the list when a take finds it full (the take goes on from the next run, or
 *          from a new run if there is none) or a run getting back its first free slot joins the
 *          list (behind the next run, the new head, or alone), so that a run that fills and gets a
 *          slot back, over and over, never changes lists.
 * A slot pointer finds its run by masking (p & ~(RUN_ALIGN - 1)); the run is trusted only when its
 * check word matches, so a pointer into any other block is never taken for a slot. A free of a slot
 * whose bit is already set is a double free, detected exactly.
 */
#ifndef ALLOC_RUNS_H
#define ALLOC_RUNS_H

#include "internal.h"

#define RUN_ALIGN       ((size_t)1024)
#define RUN_BLOCK       RUN_ALIGN /* header + meta + slots: consecutive runs tile without gaps */
#define RUN_META        ((size_t)32)
#define RUN_SLOTS       (RUN_BLOCK - HDR - RUN_META) /* 976 bytes of slots (984 on 32 bits) */
#define RUN_CLASSES     (ALLOC_RUN_MAX_SIZE / 16)
#define RUN_SIZE_WORD   ((hword_t)RUN_BLOCK | RUN_FLAG | ST_USED)
#define RUN_CLASS_SHIFT 61 /* the state word: class << 61 | free-slot mask */

_Static_assert(ALLOC_RUN_MAX_SIZE % 16 == 0 && ALLOC_RUN_MAX_SIZE <= 64,
               "alloc: ALLOC_RUN_MAX_SIZE must be 0, 16, 32, 48 or 64");
_Static_assert(RUN_SLOTS / 16 <= RUN_CLASS_SHIFT, "alloc: a run's slot mask must fit its bits");

enum run_word { RUN_STATE, RUN_CHECK, RUN_NEXT, RUN_PREV };

/*
 * Slot bytes of size class c (1 .. RUN_CLASSES) and the slots a run of that class holds; the
 * count also as a constant expression, for the tables below.
 */
#define RUN_SLOT_COUNT(c) (RUN_SLOTS / (16 * (c)))
static inline size_t run_slot_size(size_t c) {
    return (size_t)c * 16;
}
static inline unsigned run_slot_count(unsigned c) {
    return (unsigned)RUN_SLOT_COUNT(c);
}
/*
 * The tables of the runs' fast paths, run_full_mask's, run_slot_bit's, the states that
 * run_take_fast, run_give_fast_ok and run_sound compare with, run_slot_mask's bits and
 * run_class_of's classes (filled in by RUN_TABLES_INIT, below), in one object:
 * a path that looks up several (free_unchecked: the slot's bit, then two states) then computes
 * one address of them, not one each (a lea fewer each).
 */
struct run_tables {
    uint64_t full[8];      /* run_full_mask's, one per value of a state's class bits */
    uint8_t index[64][16]; /* run_slot_bit's, by granule, then class: rows of 16 bytes, the
                              last eight unused, so that a row's offset is off masked (no
                              shift) */
    uint64_t lowest[8];    /* c << RUN_CLASS_SHIFT | 1, the least state of class c with a free slot
                              (UINT64_MAX for c = 0: no state), for run_take_fast and
                              run_give_fast_ok */
    uint64_t emptied[8];   /* c << RUN_CLASS_SHIFT | run_full_mask(c): class c's state with every
                              slot free, for run_give_fast_ok and runs.c's run_sound */
    uint64_t bit[64][8];   /* run_slot_mask's, 1 << index's entry, by granule, then class: the
                              slot's bit of a state word, for the free of a slot (free_unchecked),
                              which then makes no shift of its own */
    uint8_t class_of[65];  /* run_class_for(n), n <= 64, for run_class_of */
};
static inline const struct run_tables *run_tables(void);
#if RUN_CLASSES > 0
/*
 * The one copy of the tables, defined in runs.c (heap.c's fast paths and runs.c's slow paths read
 * it): a static object here would be copied into each. Hidden: a PIC build reaches it directly, not
 * through the GOT.
 */
extern __attribute__((visibility("hidden"))) const struct run_tables alloc_run_tables;
#endif
/*
 * The mask with one bit per slot of class c (1 .. RUN_CLASSES), from a table: no division. Of the
 * other values of a state's class bits (0 .. 7), 0 and 5 .. 7 give 0, but a value up to 4 above
 * RUN_CLASSES gives its mask (the table is the same in every build).
 */
static inline uint64_t run_full_mask(unsigned c) {
    return run_tables()->full[c];
}
/* The words of run meta at r. */
static inline uint64_t *run_meta(uintptr_t r) {
    return (uint64_t *)r;
}
/*
 * A word of the meta of the run a list head names, at address a, which a stray write into the head
 * may have misaligned: a misaligned 64-bit load is undefined, and faults on a strict-alignment
 * target (the Cortex-M4's LDRD). Read as bytes, from the address as an integer (through a uint64_t
 * pointer the compiler may take it to be aligned): one load where the target loads a misaligned
 * word as it loads an aligned one (x86, Arm). Where it avoids them (RISC-V, whose bytes would be
 * eight loads and seven merges), from a's 8-byte boundary instead: the run's check word, keyed by
 * the address the head names, then refuses the place all the same.
 */
static inline uint64_t run_meta_load(uintptr_t a) {
#if defined(__riscv_misaligned_avoid) || defined(__riscv_misaligned_slow)
    return *(const uint64_t *)(a & ~(uintptr_t)7);
#else
    uint64_t v;
    __builtin_memcpy(&v, (const void *)a, sizeof(v));
    return v;
#endif
}
/* The check word of a run at r whose state word is `state`. */
static inline uint64_t run_check_of(const alloc_heap *h, uintptr_t r, uint64_t state) {
    return state ^ ((uint64_t)r * h->key);
}
static inline unsigned run_class(uint64_t state) {
    return (unsigned)(state >> RUN_CLASS_SHIFT);
}
/* The size class request n (<= ALLOC_RUN_MAX_SIZE) is served from. */
static inline unsigned run_class_for(size_t n) {
    unsigned c = (unsigned)((n + 15) >> 4);
    return c + (c == 0);
}
/*
 * run_class_for for the fast paths' look at a list: 0 for a request of 0 bytes, whose list
 * (run_head[0], never written) is always empty, so that they leave it to the slow path, which
 * serves it from class 1 as run_class_for says: the same slot, and two instructions fewer for the
 * others.
 */
static inline size_t run_class_fast(size_t n) {
    return (n + 15) >> 4;
}
/*
 * run_class_for from a row of run_tables, for n <= ALLOC_RUN_MAX_SIZE: one load where the
 * arithmetic takes four instructions (a round, a shift and the raise of 0 to class 1).
 */
static inline unsigned run_class_of(size_t n) {
    return run_tables()->class_of[n];
}

/*
 * The meta at r, a place in this heap where run meta may be (r > first, r < end,
 * RUN_ALIGN-aligned), carries this heap's check word for its state: only this heap's key produces
 * it at r (a pointer into any other block finds payload bytes there, an erased run zeroes). The
 * words are probed: at an r that is no run they are a live block's payload.
 */
static inline bool run_check_ok(const alloc_heap *h, uintptr_t r) {
    const uint64_t *m = run_meta(r);
    uint64_t state = probe_word(&m[RUN_STATE]);
    return probe_word(&m[RUN_CHECK]) == run_check_of(h, r, state);
}

/*
 * p can be no slot by its place alone: it is not granule-aligned, or r, p masked to RUN_ALIGN, is
 * not in (first, end), where a run's meta may be and its words can be read. The tests run_find
 * makes before it reads r's words, apart for alloc_realloc, which sends a pointer that fails them
 * and one whose place holds no run different ways. An r above first is at least first + HDR (r is
 * on a granule, first BLOCK_PHASE = GRANULE - HDR past one, or on one when HDR is a granule), the
 * room for the run's header; tested so, it also tells the compiler that a run found is never 0,
 * which callers test for.
 */
static inline bool run_place_refused(const alloc_heap *h, uintptr_t p, uintptr_t r) {
    return (p & (GRANULE - 1)) != 0 || r <= h->first || r >= h->end;
}

/*
 * The run p may be a slot of: p's place (run_place_refused) and r's check word are tested here,
 * not the slot area's bounds nor the class's existence, which run_of, its caller, tests. Returns r,
 * or 0 if p is in no run.
 */
static inline uintptr_t run_find(const alloc_heap *h, uintptr_t p) {
    uintptr_t r = p & ~(RUN_ALIGN - 1);
    if (run_place_refused(h, p, r))
        return 0; /* a misaligned pointer is named by the general path */
    return run_check_ok(h, r) ? r : 0;
}

/*
 * If p lies in the slot area of a run of this heap, returns that run's meta address; else 0:
 * run_find, with the slot area's bounds and the class's existence tested here (usable_of takes the
 * class's slot size from the state with no other test).
 */
static inline uintptr_t run_of(const alloc_heap *h, uintptr_t p) {
    if ((p & (RUN_ALIGN - 1)) - RUN_META >= RUN_SLOTS)
        return 0;
    uintptr_t r = run_find(h, p);
    if (r == 0 || run_class(run_meta(r)[RUN_STATE]) - 1 >= RUN_CLASSES)
        return 0;
    return r;
}

/* Slot i of run r (class c), just marked in use: its statistics, and its address. */
static inline void *run_slot_taken(alloc_heap *h, uintptr_t r, size_t c, unsigned i) {
    size_t s = run_slot_size(c);
    account_bytes_taken(h, s);
    h->live_slots++;
    uintptr_t p = r + RUN_META + i * s;
    if (p == 0)
        __builtin_unreachable(); /* a slot is never at 0: the callers' tests of NULL fold away */
    return (void *)p;
}

/*
 * Slot p of s bytes, just marked free: poisoned if `poison` (pass poison_free(h); a constant false
 * lets a fast path call nothing), and its statistics.
 */
static inline void run_slot_given(alloc_heap *h, uintptr_t p, size_t s, bool poison) {
    if (poison)
        __builtin_memset((void *)p, ALLOC_POISON_FREE_BYTE, s);
    account_bytes_given(h, s);
    h->live_slots--;
}

/*
 * Takes the lowest free slot of run r (class c), whose state word `state` the caller has just read
 * and found, with its check word, to hold one: the state's lowest bit, the bits above the slots'
 * being the class's. The bit is cleared in the state and in the check word, which is linear in the
 * state, not made again from the state with a multiply.
 */
static inline void *run_take_lowest(alloc_heap *h, uintptr_t r, size_t c, uint64_t state) {
    uint64_t *m = run_meta(r);
    unsigned i = (unsigned)__builtin_ctzll(state);
    uint64_t taken = state & (state - 1);
    m[RUN_STATE] = taken;
    /*
     * The bit taken, state ^ taken, xored into the check word in memory (kept opaque: else the
     * compiler reassociates the xors, one instruction more).
     */
    m[RUN_CHECK] ^= opaque_u64(state ^ taken);
    return run_slot_taken(h, r, c, i);
}

/*
 * The fast path of a small allocation: takes the lowest free slot of the first run on class c's
 * list (a run it fills stays there). Returns NULL (changing nothing) when the list is empty (as
 * class 0's always is), the run is damaged or full: the slow path (runs.c) handles those.
 */
static inline void *run_take_fast(alloc_heap *h, size_t c) {
    uintptr_t r = h->run_head[c];
    /*
     * No run (0), or a place outside (h, end): read from the control structure, a stray write may
     * have left any value there, whose meta is not to be read (the slow path reports it). The
     * heap's own address, in a register, is the lower bound, below every run and above 0.
     */
    if (r <= (uintptr_t)h || r >= h->end)
        return NULL;
    /*
     * A place inside may still be misaligned: its state and check word are read by run_meta_load,
     * from addresses kept as integers (a misaligned uint64_t pointer is undefined even unread),
     * one load each on x86_64, where a test of the alignment would cost an instruction a take;
     * the check refuses the place.
     */
    uint64_t state = run_meta_load(r + RUN_STATE * sizeof(uint64_t));
    /*
     * Of class c with a free slot: state's class bits are c and its slot bits m are not all clear,
     * 1 <= m <= run_full_mask(c), which is state - (c << RUN_CLASS_SHIFT | 1) < run_full_mask(c)
     * in one subtraction and one comparison (a state of another class is below or far above; a
     * state with a bit between its slots' and its class's, which no run has, is refused too).
     */
    const struct run_tables *t = run_tables();
    if (run_meta_load(r + RUN_CHECK * sizeof(uint64_t)) != run_check_of(h, r, state) ||
        state - t->lowest[c] >= t->full[c])
        return NULL; /* damaged (the slow path reports it), or full */
    /*
     * Forget what memory held (an empty asm): the check word is then updated in memory rather
     * than kept in a register from the test, one register fewer where a caller keeps many.
     */
    __asm__("" ::: "memory");
    return run_take_lowest(h, r, c, state);
}

/*
 * The index of the slot of class c at offset off from the first slot, or -1 if off is not the
 * start of a slot of a run of that class (inside a slot, or the part-slot after a run's last one),
 * or if c is no class (0, or above RUN_CLASSES: any value of a state word's class bits, 0 .. 7, may
 * be passed). off is a multiple of 16, as p - r - RUN_META for a granule-aligned p: below RUN_SLOTS
 * (as run_of found it) it is one of 64 granules at most; else, the payload-aligned places of the
 * window that are no slot (p - r of 0, 16 or RUN_BLOCK - 16, in the run's header and meta or in
 * the next block's header) wrap to granules 62, 63 and 61, which no class has a slot at. One
 * look-up in a table of 64 rows of 16 bytes (8 used), no division and no check after.
 *
 * Where there is no slot, the table holds RUN_NO_SLOT(c), 61 .. 63, above every slot's index (class
 * 1's last is 60): the bit of a state word of class bits c that those bits set, so that the test of
 * a slot in use (its bit clear) refuses the place by itself (run_slot_bit); for c = 0, bit 63 is
 * clear, but run_slot_index gives -1 for it as for any RUN_NO_SLOT, and run_give_fast_ok_bit
 * refuses it by its last test (no state is at least lowest[0], and run_head[0] is always empty).
 */
#define RUN_NO_SLOT(c)    ((c) == 0 || (c) == 4 ? 63 : (c) == 2 || (c) == 6 ? 62 : 61)
#define RUN_NO_SLOT_FIRST 61
/* c as a divisor: 1 for c = 0, whose entries the first test decides (a file-scope initialiser
   may not divide by 0 even where it is not evaluated). */
#define RUN_DIV(c) ((c) + ((c) == 0))
#define RUN_IDX(c, k)                                                                              \
    ((c) >= 1 && (c) <= RUN_CLASSES && (k) % RUN_DIV(c) == 0 &&                                    \
             (k) / RUN_DIV(c) < RUN_SLOT_COUNT(RUN_DIV(c))                                         \
         ? (k) / RUN_DIV(c)                                                                        \
         : RUN_NO_SLOT(c))
/*
 * Granule k's entries of a table, E(c, k) for each value c of the class bits; eight granules' rows.
 * E is RUN_IDX (the slot-index table) or RUN_BIT (the same entries as bits of a state word, for
 * run_slot_mask's table).
 */
#define RUN_BIT(c, k) ((uint64_t)1 << RUN_IDX(c, k))
#define RUN_ROW(E, k) {E(0, k), E(1, k), E(2, k), E(3, k), E(4, k), E(5, k), E(6, k), E(7, k)}
#define RUN_ROW8(E, k)                                                                             \
    RUN_ROW(E, (k) + 0), RUN_ROW(E, (k) + 1), RUN_ROW(E, (k) + 2), RUN_ROW(E, (k) + 3),            \
        RUN_ROW(E, (k) + 4), RUN_ROW(E, (k) + 5), RUN_ROW(E, (k) + 6), RUN_ROW(E, (k) + 7)
_Static_assert(RUN_SLOTS / 16 <= 64, "alloc: a run's granules must fit the slot-index table");
_Static_assert(RUN_SLOTS / 16 == 61 && RUN_META == 32 && RUN_BLOCK == 1024,
               "alloc: granules 61 .. 63, where the window's places that are no slot wrap, must "
               "hold no slot start");
_Static_assert(RUN_SLOT_COUNT(1) <= RUN_NO_SLOT_FIRST && RUN_CLASS_SHIFT == RUN_NO_SLOT_FIRST,
               "alloc: every slot's index must be below RUN_NO_SLOT(c), a bit of the class");
/*
 * The contents of struct run_tables: run_full_mask's masks, the slot-index table above, the states
 * of each class that the fast paths compare with, run_slot_mask's bits and run_class_of's classes.
 * Defined here, where its macros are, for runs.c alone (which defines RUN_DEFINE_TABLES); a build
 * without runs reads no table once its dead paths fold away, and keeps a static copy for an
 * unoptimised build's calls.
 */
#define RUN_FULL(c)    ((((uint64_t)1) << RUN_SLOT_COUNT(c)) - 1)
#define RUN_LOWEST(c)  ((c) == 0 ? UINT64_MAX : (uint64_t)(c) << RUN_CLASS_SHIFT | 1)
#define RUN_EMPTIED(c) ((uint64_t)(c) << RUN_CLASS_SHIFT | ((c) <= 4 ? RUN_FULL(c) : 0))
/* Class c sixteen times: run_class_for's of the sixteen sizes 16 * c - 15 .. 16 * c. */
#define RUN_REP16(c) c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c
/*
 * Its rows: full, eight, one per value of a state's class bits (0 for 0 and 5 .. 7; classes 1 .. 4
 * have theirs whatever RUN_CLASSES is); index, by granule, then class (a row's offset is off
 * masked, no shift of the class); lowest and emptied, one per value of the class bits; bit, as
 * index, each entry as its bit of a state word; class_of, by size (0 served from class 1).
 */
#define RUN_TABLES_INIT                                                                            \
    {                                                                                              \
        {0, RUN_FULL(1), RUN_FULL(2), RUN_FULL(3), RUN_FULL(4)},                                   \
        {RUN_ROW8(RUN_IDX, 0), RUN_ROW8(RUN_IDX, 8), RUN_ROW8(RUN_IDX, 16), RUN_ROW8(RUN_IDX, 24), \
         RUN_ROW8(RUN_IDX, 32), RUN_ROW8(RUN_IDX, 40), RUN_ROW8(RUN_IDX, 48),                      \
         RUN_ROW8(RUN_IDX, 56)},                                                                   \
        {RUN_LOWEST(0), RUN_LOWEST(1), RUN_LOWEST(2), RUN_LOWEST(3), RUN_LOWEST(4), RUN_LOWEST(5), \
         RUN_LOWEST(6), RUN_LOWEST(7)},                                                            \
        {0, RUN_EMPTIED(1), RUN_EMPTIED(2), RUN_EMPTIED(3), RUN_EMPTIED(4), RUN_EMPTIED(5),        \
         RUN_EMPTIED(6), RUN_EMPTIED(7)},                                                          \
        {RUN_ROW8(RUN_BIT, 0), RUN_ROW8(RUN_BIT, 8), RUN_ROW8(RUN_BIT, 16), RUN_ROW8(RUN_BIT, 24), \
         RUN_ROW8(RUN_BIT, 32), RUN_ROW8(RUN_BIT, 40), RUN_ROW8(RUN_BIT, 48),                      \
         RUN_ROW8(RUN_BIT, 56)},                                                                   \
        {1, RUN_REP16(1), RUN_REP16(2), RUN_REP16(3), RUN_REP16(4)},                               \
    }
#if RUN_CLASSES > 0 && defined(RUN_DEFINE_TABLES)
const struct run_tables alloc_run_tables = RUN_TABLES_INIT;
#endif
static inline const struct run_tables *run_tables(void) {
#if RUN_CLASSES > 0
    return &alloc_run_tables;
#else
    static const struct run_tables t = RUN_TABLES_INIT;
    return &t;
#endif
}
#undef RUN_TABLES_INIT
#undef RUN_REP16
#undef RUN_EMPTIED
#undef RUN_LOWEST
#undef RUN_FULL
/*
 * The table's entry for class c at offset off: the slot's index, or RUN_NO_SLOT(c) where there is
 * no slot (see above), for run_give_fast_ok, whose first test then refuses it.
 */
static inline unsigned run_slot_bit(unsigned c, size_t off) {
    /* The masks keep any other value in the table. */
    return run_tables()->index[(off >> 4) & 63][c & 7];
}
static inline int run_slot_index(unsigned c, size_t off) {
    unsigned i = run_slot_bit(c, off);
    return i >= RUN_NO_SLOT_FIRST ? -1 : (int)i;
}
/*
 * 1 << run_slot_bit(c, off), from a table of those bits: the load of a row (off's granule, 64
 * bytes, off masked and scaled by 4) and of c's entry in it, with no shift made after.
 */
static inline uint64_t run_slot_mask(unsigned c, size_t off) {
    const char *row = (const char *)run_tables()->bit + (off & (63 << 4)) * 4;
    return ((const uint64_t *)row)[c & 7];
}
#undef RUN_ROW8
#undef RUN_ROW
#undef RUN_BIT
#undef RUN_DIV
#undef RUN_NO_SLOT
#undef RUN_IDX

/*
 * run_give_fast_ok for the slot's bit of the state word (from run_slot_mask, or 1 << its index):
 * the tests it describes, the first a test of state's bit (the table's bit of RUN_NO_SLOT(c) where
 * p is no slot).
 */
static inline bool run_give_fast_ok_bit(const alloc_heap *h, uintptr_t r, uint64_t state,
                                        unsigned c, uint64_t bit) {
    const struct run_tables *t = run_tables();
    return (state & bit) == 0 && state + bit != t->emptied[c] &&
           (state >= t->lowest[c] || h->run_head[c] == r);
}

/*
 * Slot i of class c in run r, whose state word is `state`, is in use and the fast path may free
 * it: freeing it neither gives a run off the list its first free slot (the run would join the
 * list) nor empties the run (it may be released).
 */
static inline bool run_give_fast_ok(const alloc_heap *h, uintptr_t r, uint64_t state, unsigned c,
                                    unsigned i) {
    /*
     * p's slot is in use: its bit is clear (i is below c's slot count, as the slot-index table
     * gives it; the table's RUN_NO_SLOT(c), where p is no slot, is a bit set by c, or, for c = 0,
     * refused below: no state is at least lowest[0], and class 0's list, run_head[0], is always
     * empty). Freeing it leaves a slot in use: the state after, state + bit where the bit is clear
     * as the first test asks (else the result is false whatever the second gives), is not class c's
     * with every slot free, emptied[c] (a sound state has no bit between its slots' and its
     * class's). And a full run (no slot's bit set: state below lowest[c]) only at the head of the
     * list. Each a comparison with a row of run_tables, with the address of the slot-index table's.
     */
    return run_give_fast_ok_bit(h, r, state, c, (uint64_t)1 << i);
}

/*
 * Frees slot p (its bit of the state word `bit`, class c) of run r, whose state word the caller
 * has just read and checked (run_give_fast_ok, or run_give's checks with the check word).
 */
static inline void run_give_slot_bit(alloc_heap *h, uintptr_t r, uintptr_t p, unsigned c,
                                     uint64_t bit, bool poison) {
    uint64_t *m = run_meta(r);
    /*
     * Forget what memory held (an empty asm): the state and check words, which the caller has just
     * read and tested, are then xored in memory, one instruction each, not kept in a register from
     * the test, xored and stored back.
     */
    __asm__("" ::: "memory");
    m[RUN_STATE] ^= bit;
    /*
     * The check is linear in the state. The bit kept opaque here: else the compiler makes the two
     * xors one of a vector register, which takes four instructions to set up and store.
     */
    m[RUN_CHECK] ^= opaque_u64(bit);
    run_slot_given(h, p, run_slot_size(c), poison);
}

/* run_give_slot_bit for slot p of index i. */
static inline void run_give_slot(alloc_heap *h, uintptr_t r, uintptr_t p, unsigned c, unsigned i,
                                 bool poison) {
    run_give_slot_bit(h, r, p, c, (uint64_t)1 << i, poison);
}

/*
 * The fast path of freeing slot p of run r (from run_of): when run_give_fast_ok allows it, frees
 * it and returns true. Returns false, changing nothing, otherwise. `poison` is poison_free(h), or
 * a constant false where the caller knows the heap does not poison.
 */
static inline bool run_give_fast(alloc_heap *h, uintptr_t r, uintptr_t p, bool poison) {
    uint64_t state = run_meta(r)[RUN_STATE];
    unsigned c = run_class(state);
    int i = run_slot_index(c, p - r - RUN_META);
    if (i < 0 || !run_give_fast_ok(h, r, state, c, (unsigned)i))
        return false;
    run_give_slot(h, r, p, c, (unsigned)i, poison);
    return true;
}

/*
 * The heap serves small requests from runs. A constant false in a build without runs
 * (ALLOC_RUN_MAX_SIZE 0), so that every path behind it folds away.
 */
static inline bool runs_on(const alloc_heap *h) {
    return RUN_CLASSES > 0 && h->runs_enabled;
}

/*
 * The block of a request of `size` bytes (a run size, no alignment above GRANULE) for which
 * alloc_run_take_or_block found no slot (heap.c): a block where `missed` is NULL (no run to be
 * had), NULL where it is REFUSED (damage reported: the request is refused).
 */
void *alloc_run_missed(alloc_heap *h, size_t size, const void *missed);

#if RUN_CLASSES > 0
/* Slow paths (runs.c). */

/*
 * A slot of class c, from a new run if needed; NULL if no run can be had, REFUSED (internal.h) if
 * the list was found damaged or the strategy met a damaged block for a new run (reported); nothing
 * changed either way.
 */
void *alloc_run_take(alloc_heap *h, unsigned c);
/*
 * malloc's take of a slot of class c for a request of `size` bytes (heap.c's malloc_run): a slot
 * as alloc_run_take's, else alloc_run_missed's result (a block, or NULL), by a tail call, so that
 * malloc_run makes a tail call too and needs no stack frame.
 */
void *alloc_run_take_or_block(alloc_heap *h, unsigned c, size_t size);
/*
 * Frees slot p of run r (slot_moved's, heap.c: r found by alloc_realloc's run_place_refused and
 * run_check_ok, or by masking in realloc_slot_malloc): ALLOC_OK or the error found, reported,
 * nothing changed.
 */
enum alloc_error alloc_run_give(alloc_heap *h, uintptr_t r, uintptr_t p);
/*
 * alloc_run_give for a caller that has found r as run_find does (p masked to RUN_ALIGN, r above
 * first) with its check word matching its state (run_check_ok), and has written nothing in r's
 * meta since: those comparisons are not made again.
 */
enum alloc_error alloc_run_give_checked(alloc_heap *h, uintptr_t r, uintptr_t p);
/* Usable bytes of slot p of run r, or 0 (reported) if p is not a slot in use. */
size_t alloc_run_usable(alloc_heap *h, uintptr_t r, uintptr_t p);
/*
 * Releases every run with no slot in use back to the strategy, at most one a class (run_spare);
 * false, reported, if such a run or its list is damaged or its release is refused (a damaged free
 * neighbour; the run is kept).
 */
bool alloc_run_release_empty(alloc_heap *h);
/*
 * alloc_heap_check's part: run r's meta is sound, and r, if every slot is free, is its class's
 * run_spare; adds its slots in use and their bytes to *used and *used_bytes; sets *listed when it
 * is on its list (it has a free slot, or heads the list).
 */
enum alloc_error alloc_run_check_one(const alloc_heap *h, uintptr_t r, size_t *used,
                                     size_t *used_bytes, bool *listed);
/*
 * alloc_heap_check's part: the lists hold exactly the `listed` runs (those with a free slot, and a
 * full one only at a list's head), linked soundly, and each class's run_spare is 0 or a run of
 * that class.
 */
enum alloc_error alloc_run_check_lists(const alloc_heap *h, size_t listed, const void **bad);
/*
 * alloc_heap_walk's part: reports every slot of run r; false (nothing reported) if r is damaged.
 */
bool alloc_run_walk(const alloc_heap *h, uintptr_t r, alloc_walk_fn fn, void *ctx);
#else
/*
 * A build without runs: no heap has one (runs_on() is false and alloc_heap_check refuses a block
 * marked RUN), so the slow paths are never reached with a run; these stand in for runs.c.
 */
static inline void *alloc_run_take(alloc_heap *h, unsigned c) {
    (void)h;
    (void)c;
    return NULL;
}
static inline void *alloc_run_take_or_block(alloc_heap *h, unsigned c, size_t size) {
    (void)c;
    return alloc_run_missed(h, size, NULL);
}
static inline enum alloc_error alloc_run_give(alloc_heap *h, uintptr_t r, uintptr_t p) {
    (void)h;
    (void)r;
    (void)p;
    return ALLOC_ERR_FOREIGN_POINTER;
}
static inline enum alloc_error alloc_run_give_checked(alloc_heap *h, uintptr_t r, uintptr_t p) {
    (void)h;
    (void)r;
    (void)p;
    return ALLOC_ERR_FOREIGN_POINTER;
}
static inline size_t alloc_run_usable(alloc_heap *h, uintptr_t r, uintptr_t p) {
    (void)h;
    (void)r;
    (void)p;
    return 0;
}
static inline bool alloc_run_release_empty(alloc_heap *h) {
    (void)h;
    return false;
}
static inline enum alloc_error alloc_run_check_one(const alloc_heap *h, uintptr_t r, size_t *used,
                                                   size_t *used_bytes, bool *listed) {
    (void)h;
    (void)r;
    (void)used;
    (void)used_bytes;
    (void)listed;
    return ALLOC_ERR_CORRUPTED_HEADER;
}
static inline enum alloc_error alloc_run_check_lists(const alloc_heap *h, size_t listed,
                                                     const void **bad) {
    (void)h;
    (void)listed;
    (void)bad;
    return ALLOC_OK;
}
static inline bool alloc_run_walk(const alloc_heap *h, uintptr_t r, alloc_walk_fn fn, void *ctx) {
    (void)h;
    (void)r;
    (void)fn;
    (void)ctx;
    return false;
}
#endif

#endif /* ALLOC_RUNS_H */
