/*
 * alloc/corruption_test.c - corruption injection: random single-bit flips and single-word
 * overwrites of block headers, free-list links and boundary tags, and client writes of 1 to 16
 * bytes past a live block, each followed by a fixed sequence of ordinary operations; in a build
 * with ALLOC_FAST_PATHS, flips and overwrites of the control area too (the region's bytes below
 * the first block's header: list heads, bit maps, counters, the strategy's table). The heap
 * must either carry on intact or report the corruption; it must never hand out memory that
 * overlaps a live block (payload or header) or the control area, damage a live block the
 * corruption did not touch, loop, crash, or return or report an error that the call's
 * documentation in alloc/include/alloc/heap.h does not list (calls[]).
 *
 * The test is black-box on purpose, so it survives a redesign of the block layout: it learns
 * where payloads are and what state each block is in from alloc_heap_walk() before corrupting,
 * and names the bytes it corrupts only through public facts (ALLOC_BLOCK_OVERHEAD bytes of
 * header before a payload, two address-sized words, the first the size of the previous block: a
 * block's boundary tag is the first word of the header that follows its payload; a free block's
 * links in the first two pointer-sized words of its payload; alloc_usable_size() bytes usable).
 *
 * On a heap with runs (TLSF's default), requests of at most ALLOC_RUN_MAX_SIZE bytes are slots
 * of runs: 1 KiB blocks whose payload is 1 KiB-aligned, so a slot's run starts at p & ~1023.
 * Slots have no header (the walk reports them back to back, where blocks have a header between
 * them), so a slot is corrupted through its run instead: the run's meta (its first RUN_META bytes:
 * four 64-bit words on every target, state, check, next and prev), the run's own block header, and
 * writes past a slot, into the next slot or past the run's last slot into the next block's header.
 * The run's geometry is the one fact taken from the library's private header (runs.h), so that the
 * test follows it: RUN_META, and the span checked against RUN_BLOCK and RUN_ALIGN.
 *
 * Each trial runs in a forked child, bounded by alarm() so a loop is caught, and ends with one
 * outcome (the child's exit status, or the signal that killed it):
 *   benign    no report, every operation succeeded, alloc_heap_check() passes, contents intact;
 *   detected  an error was reported (hook or return value): the trial stops there, as a kernel
 *             whose hook panics would;
 *   by_check  detected too, but first by one of the sequence's alloc_heap_check() calls: the
 *             operations before it neither reported the damage nor were led astray by it (no
 *             failure below), and the check found it. Counted apart, so that a change that drops
 *             one of the calls' own checks shows as detections moving here.
 *   missed    nothing reported, nothing damaged, but an allocation that must succeed returned
 *             NULL or the statistics went wrong: the corruption was silently accepted, which
 *             fails the test as the failures below do (the goal is 100% detected);
 *   zero_trusted  a calloc returned bytes that the corruption itself wrote into memory never
 *             handed out (at or above the end of the highest payload the heap has handed out in
 *             the trial, which the test tracks: handed_out), on a heap given a zeroed region,
 *             whose calloc trusts that memory to be zero without reading it
 *             (alloc/include/alloc/heap.h, ALLOC_FLAG_ZEROED_REGION): the documented limit of
 *             that flag, counted and printed apart, not a failure and not in the detection rate;
 * and the failures, which the test asserts never happen:
 *   overlap   a returned block overlaps a live block's header or payload (a slot's payload, or its
 *             run's header and meta);
 *   bad block a returned block lies outside the heap, over its control area, or is misaligned;
 *   contents  a live block the corruption did not touch changed, or a calloc returned a byte
 *             that is not zero (but for zero_trusted: below the highest payload end handed out,
 *             calloc must clear whatever wrote the byte);
 *   loop      the trial ran past its time bound;
 *   crash     any other signal or exit (a wild access, a sanitizer report);
 *   harness   the uncorrupted set-up itself failed (a bug here or in the heap);
 *   unlisted  a call returned, or reported through the hook, an error outside its documented list.
 * The first trials corrupt nothing: each must be benign, which proves the sequence itself is
 * sound. The detection rate is detected / (corrupted - benign - zero_trusted); the goal is 100%.
 *
 *   ALLOC_INJECT_TRIALS=n   trials (default 12300: 300 uncorrupted, then 12,000 corrupted, the
 *                           variants the build has taking turns, 3,000 each in the default build,
 *                           each cycling through the kinds its heap has; the minimal build has
 *                           one variant, TLSF without quick lists, which takes all 12,000),
 *                           divided by ALLOC_TEST_SCALE (fixture_scaled; the AddressSanitizer
 *                           configuration sets it), the first 300 uncorrupted all the same
 *   ALLOC_INJECT_SEED=s     base seed (default fixed, so runs are reproducible)
 *   ALLOC_INJECT_TRIAL=i    run only trial i, in this process, printing every step
 *   ALLOC_INJECT_KIND=name  every corrupted trial of that kind (kind_names), every variant
 */
#include "alloc/config.h"
#include "alloc/heap.h"
#include "alloc/testing/fixture.h"
#include "runs.h" /* RUN_META, RUN_BLOCK, RUN_ALIGN: a run's geometry */

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define REGION_SIZE  (128u * 1024u)
#define REGION_SLACK 64u /* an overrun past the last block stays inside the buffer */
#define SETUP_BLOCKS 48
#define MAX_LIVE     512
#define MAX_WALK     2048
/*
 * The heap is given the region less EXTEND_SIZE at init, and grows by alloc_heap_extend into the
 * rest after the corruption, as the first step of each trial's sequence.
 */
#define EXTEND_SIZE (8u * 1024u)
/* alloc_allocate_batch's blocks in the sequence: above the runs' sizes, blocks and never slots. */
#define BATCH_SIZE      (ALLOC_RUN_MAX_SIZE + 72u)
#define BATCH_COUNT     4u
#define DEFAULT_TRIALS  12300u
#define BASELINE_TRIALS 300u
#define DEFAULT_SEED    0xc0ffee5eedull
#define TIMEOUT_SECONDS 2
#define MAX_PRINTED     20
#define WORD            sizeof(void *)
/* A run (runs heap only): a RUN_SPAN-byte block, its payload RUN_SPAN-aligned, the payload
 * starting with RUN_META bytes of run meta (runs.h: 32, four uint64_t, also where a pointer is 4
 * bytes); its slots end where the next block's header starts, ALLOC_BLOCK_OVERHEAD bytes before
 * the next RUN_SPAN boundary. */
#define RUN_SPAN RUN_BLOCK /* runs.h: RUN_ALIGN, a run's block and its payload's alignment */
_Static_assert(RUN_META % WORD == 0, "corruption_test: a run's meta is a whole number of words");

enum kind {
    K_NONE,
    K_HDR_BIT,   /* one bit of the header of any block (a run's too) */
    K_HDR_WORD,  /* one word there */
    K_LINK_BIT,  /* one bit of the first two words of a free (or quick) block's payload */
    K_LINK_WORD, /* one of those words */
    K_TAG_BIT,   /* one bit of a free (or quick) block's boundary tag */
    K_TAG_WORD,  /* that word */
    K_OVERRUN,   /* 1 to 16 bytes written just past a live block's usable size */
    /* Runs heaps only. */
    K_META_BIT,     /* one bit of the meta of a run with a live slot */
    K_META_WORD,    /* one address-sized word of it, as every *_WORD kind */
    K_SLOT_OVERRUN, /* 1 to 16 bytes past a live slot: the next slot, or the next block's header */
    /* Builds with ALLOC_FAST_PATHS only: a build for size trusts its control structure. */
    K_CTRL_BIT,  /* one bit of the control area: the region's bytes before the first header */
    K_CTRL_WORD, /* one word there */
    K_COUNT
};

static const char *const kind_names[K_COUNT] = {
    "none",    "hdr_bit",  "hdr_word",  "link_bit",     "link_word", "tag_bit",   "tag_word",
    "overrun", "meta_bit", "meta_word", "slot_overrun", "ctrl_bit",  "ctrl_word",
};

enum outcome {
    O_BENIGN,
    O_DETECTED,
    O_DETECTED_BY_CHECK,
    O_MISSED,
    O_ZERO_TRUSTED,
    O_OVERLAP,
    O_BAD_BLOCK,
    O_CONTENTS,
    O_LOOP,
    O_CRASH,
    O_HARNESS,
    O_UNLISTED,
    O_COUNT
};

static const char *const outcome_names[O_COUNT] = {
    "benign",   "detected", "by_check", "missed", "zero_trusted", "overlap",
    "badblock", "contents", "loop",     "crash",  "harness",      "unlisted",
};

/*
 * The errors each call the test makes may return and may report through the hook, as
 * alloc/include/alloc/heap.h lists them (sets of 1 << enum alloc_error).
 */
#define E(name) (1u << ALLOC_ERR_##name)
/* A bad pointer, as alloc_free() finds it (and alloc_realloc() and alloc_usable_size()). */
#define POINTER_ERRORS                                                                             \
    (E(DOUBLE_FREE) | E(FOREIGN_POINTER) | E(MISALIGNED_POINTER) | E(CORRUPTED_HEADER))
/* A damaged free block that a search or a merge meets, or a damaged control structure: a list
 * head that a filing would write through, the strategy's table of operations. */
#define DAMAGE_ERRORS (E(CORRUPTED_HEADER) | E(CORRUPTED_FREE_LIST) | E(CORRUPTED_HEAP))
#define CHECK_ERRORS                                                                               \
    (E(CORRUPTED_HEAP) | E(CORRUPTED_HEADER) | E(CORRUPTED_FREE_LIST) | E(UNCOALESCED) |           \
     E(STATS_MISMATCH) | E(WRITE_AFTER_FREE))
enum call {
    C_INIT,
    C_ALLOCATE,
    C_MALLOC,
    C_CALLOC,
    C_FREE,
    C_REALLOC,
    C_USABLE_SIZE,
    C_STATS,
    C_CHECK,
    C_WALK,
    C_EXTEND,
    C_BATCH,
    C_COUNT
};
static const struct {
    const char *name;
    unsigned returns; /* besides ALLOC_OK, for a call that returns an enum alloc_error */
    unsigned reports;
} calls[C_COUNT] = {
    [C_INIT] = {"alloc_heap_init",
                E(NULL_HEAP) | E(NULL_REGION) | E(MISALIGNED_REGION) | E(REGION_TOO_SMALL) |
                    E(REGION_TOO_LARGE) | E(BAD_CONFIG),
                0},
    [C_ALLOCATE] = {"alloc_allocate", 0, DAMAGE_ERRORS},
    [C_MALLOC] = {"alloc_malloc", 0, DAMAGE_ERRORS}, /* alloc_allocate's */
    [C_CALLOC] = {"alloc_calloc", 0, DAMAGE_ERRORS}, /* alloc_allocate's */
    /*
     * Returns a damaged neighbour or list as CORRUPTED_FREE_LIST; a damaged control structure is
     * only reported as CORRUPTED_HEAP (a damaged table returned as CORRUPTED_FREE_LIST).
     */
    [C_FREE] = {"alloc_free", POINTER_ERRORS | E(CORRUPTED_FREE_LIST) | E(NULL_HEAP),
                POINTER_ERRORS | DAMAGE_ERRORS},
    /* A bad pointer or damaged neighbour, as alloc_free(); a new block's search, as allocate. */
    [C_REALLOC] = {"alloc_realloc", 0, POINTER_ERRORS | DAMAGE_ERRORS},
    [C_USABLE_SIZE] = {"alloc_usable_size", 0, POINTER_ERRORS},
    [C_STATS] = {"alloc_heap_stats", 0, 0},
    [C_CHECK] = {"alloc_heap_check", CHECK_ERRORS | E(NULL_HEAP), CHECK_ERRORS},
    [C_WALK] = {"alloc_heap_walk", E(CORRUPTED_HEADER) | E(NULL_HEAP), 0},
    /*
     * A damaged end marker or last block, or a damaged free block at the old end; a damaged
     * strategy table or bounds reported as CORRUPTED_HEAP and returned as CORRUPTED_FREE_LIST.
     */
    [C_EXTEND] = {"alloc_heap_extend",
                  E(NULL_HEAP) | E(REGION_TOO_SMALL) | E(REGION_TOO_LARGE) | E(CORRUPTED_HEADER) |
                      E(CORRUPTED_FREE_LIST),
                  DAMAGE_ERRORS},
    [C_BATCH] = {"alloc_allocate_batch", 0, DAMAGE_ERRORS}, /* a count; alloc_allocate's reports */
};

/* Outcomes a child reports through its exit status, offset so a sanitizer's exit 1 is a crash. */
#define EXIT_BASE 40

struct live {
    unsigned char *p;
    size_t n;      /* bytes requested, all filled with the block's pattern */
    uint32_t seed; /* pattern seed */
    bool touched;  /* the corruption wrote into [p, p + n): its contents are not checked */
    bool slot;     /* a run slot: no header before p, its run's header and meta at p & ~1023 */
    /*
     * The walk of the uncorrupted heap showed it a slot. A slot allocated after the corruption is
     * one by its request alone (slot_request), which a corruption may have changed (a switch of
     * the heap's cleared, the request served by a block): its run's header and meta are not
     * counted as its bytes, which would make a block at that run's place an overlap that is not.
     */
    bool run_known;
};

struct walked {
    unsigned char *payload;
    size_t usable;
    enum alloc_block_state state;
    bool slot; /* a run slot (no header between it and the walked entry before it) */
};

/*
 * The heap's region, mapped at a fixed address when the system allows it: the heap's header tags
 * derive from its address and a wild access depends on what is mapped around it, so a trial
 * rerun alone (ALLOC_INJECT_TRIAL) behaves as it did in the full run.
 */
#define REGION_ADDRESS ((void *)0x200000000000ull)
static unsigned char *region;

/* State of the one trial this process runs. */
static struct {
    bool verbose;
    enum call call; /* the heap call in progress, or the last one */
    bool runs;      /* the heap serves small requests from runs */
    bool zeroed;    /* the heap was handed a zeroed region (ALLOC_FLAG_ZEROED_REGION) */
    alloc_heap *heap;
    uint64_t rng;
    uintptr_t lo, hi; /* every payload must lie in [lo, hi) */
    struct live live[MAX_LIVE];
    size_t nlive;
    uint32_t next_seed;
    unsigned allocations; /* made so far: every other one of ALLOC_ALIGNMENT goes by malloc */
    size_t reports;
    uintptr_t bad_lo, bad_hi; /* the bytes the corruption wrote */
    uintptr_t handed_hi;      /* on a zeroed heap, the end of the highest payload handed out */
    struct walked walk[MAX_WALK];
    size_t nwalk;
    char what[160]; /* the corruption, for the failure message */
} t;

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t n) {
    return splitmix(&t.rng) % n;
}

/* Prints a step of the trial, in the verbose single-trial mode only. */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...) {
    if (!t.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* Ends the trial with an outcome (a child's exit status). */
static _Noreturn void finish(enum outcome o, const char *why) {
    say("  outcome: %s (%s)", outcome_names[o], why);
    fflush(stdout);
    _exit(EXIT_BASE + (int)o);
}

/* An error that call c returned (`how` "returned") or reported: on its list, or the trial fails. */
static void listed(enum call c, enum alloc_error error, unsigned list, const char *how) {
    if ((unsigned)error < 32 && ((list >> error) & 1u) != 0)
        return;
    char why[160];
    snprintf(why, sizeof(why), "%s %s %s, not on its list in alloc/heap.h", calls[c].name, how,
             alloc_error_name(error));
    finish(O_UNLISTED, why);
}

static void hook(void *ctx, enum alloc_error error, const void *ptr) {
    (void)ctx;
    t.reports++;
    say("  report: %s at %p", alloc_error_name(error), ptr);
    listed(t.call, error, calls[t.call].reports, "reported");
}

/* Before every heap call: the call about to be made, whose lists its errors are checked on. */
static void calling(enum call c) {
    t.call = c;
}

/* What call c returned, other than ALLOC_OK: on its list, or the trial fails. */
static enum alloc_error returned(enum call c, enum alloc_error e) {
    if (e != ALLOC_OK)
        listed(c, e, calls[c].returns, "returned");
    return e;
}

/* After every heap call: a report (through the hook or a returned error) ends the trial. */
static void after(enum alloc_error returned) {
    if (t.reports > 0 || returned != ALLOC_OK)
        finish(t.call == C_CHECK ? O_DETECTED_BY_CHECK : O_DETECTED, alloc_error_name(returned));
}

static unsigned char pattern_byte(uint32_t seed, size_t i) {
    return (unsigned char)(seed * 0x9du + i * 7u + (i >> 8));
}

static void fill(struct live *b) {
    for (size_t i = 0; i < b->n; i++)
        b->p[i] = pattern_byte(b->seed, i);
}

static bool intact(const struct live *b, size_t n) {
    if (b->touched)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (b->p[i] != pattern_byte(b->seed, i))
            return false;
    }
    return true;
}

static bool intersects(uintptr_t a, uintptr_t a_end, uintptr_t b, uintptr_t b_end) {
    return a < b_end && b < a_end;
}

/* The run slot p lies in (its run's meta address). */
static uintptr_t run_of_slot(uintptr_t p) {
    return p & ~(uintptr_t)(RUN_SPAN - 1);
}

/* Whether a new allocation of n bytes at alignment align on this heap is a run slot. */
static bool slot_request(size_t n, size_t align) {
    return t.runs && n <= ALLOC_RUN_MAX_SIZE && align == ALLOC_ALIGNMENT;
}

/* Whether [a, a_end) overlaps live block b: its header and payload, or a slot's run's header and
 * meta (which the slot depends on) and the slot itself. */
static bool overlaps_live(uintptr_t a, uintptr_t a_end, const struct live *b) {
    uintptr_t p = (uintptr_t)b->p;
    if (!b->slot)
        return intersects(a, a_end, p - ALLOC_BLOCK_OVERHEAD, p + b->n);
    if (!b->run_known)
        return intersects(a, a_end, p, p + b->n);
    uintptr_t r = run_of_slot(p);
    return intersects(a, a_end, p, p + b->n) ||
           intersects(a, a_end, r - ALLOC_BLOCK_OVERHEAD, r + RUN_META);
}

/*
 * Checks a block just returned for n bytes at alignment align against the heap's bounds and
 * every live block (its header, or its run's header and meta, included), skipping live[skip] (a
 * realloc's old block).
 */
static void check_new(const unsigned char *q, size_t n, size_t align, size_t skip) {
    uintptr_t a = (uintptr_t)q;
    if (a % align != 0 || a < t.lo || a + n > t.hi || a + n < a)
        finish(O_BAD_BLOCK, "block outside the heap, over its control area, or misaligned");
    for (size_t i = 0; i < t.nlive; i++) {
        if (i == skip)
            continue;
        if (overlaps_live(a, a + n, &t.live[i])) {
            say("  [%p, +%zu) overlaps the live %s at %p (%zu bytes)", (const void *)q, n,
                t.live[i].slot ? "slot (or its run's meta)" : "block (or its header)",
                (void *)t.live[i].p, t.live[i].n);
            finish(O_OVERLAP, "block overlaps a live block");
        }
    }
}

/*
 * Records that the payload at q, just returned for n bytes, has been handed out: its usable bytes
 * and every byte below them may hold anything now, which a later calloc must clear (on a zeroed
 * heap it trusts only the bytes above all of them to be zero). Only on a zeroed heap, where it
 * matters. The usable size is the harness's own look, not one of the trial's operations: a report
 * it draws is not counted (the trial goes on as it would without the look), and if it draws one
 * the n bytes requested stand for the payload.
 */
static void handed_out(const unsigned char *q, size_t n) {
    if (!t.zeroed)
        return;
    enum call call = t.call;
    size_t reports = t.reports;
    calling(C_USABLE_SIZE);
    size_t usable = alloc_usable_size(t.heap, q);
    if (t.reports != reports || usable < n)
        usable = n;
    t.reports = reports;
    t.call = call;
    if ((uintptr_t)q + usable > t.handed_hi)
        t.handed_hi = (uintptr_t)q + usable;
}

static size_t track(unsigned char *q, size_t n, bool slot) {
    if (t.nlive == MAX_LIVE)
        finish(O_HARNESS, "too many live blocks");
    struct live *b = &t.live[t.nlive];
    b->p = q;
    b->n = n;
    b->seed = t.next_seed++;
    b->touched = false;
    b->slot = slot;
    b->run_known = false;
    handed_out(q, n);
    fill(b);
    return t.nlive++;
}

static void untrack(size_t i) {
    t.live[i] = t.live[--t.nlive];
}

/*
 * What every allocation the test makes must meet: q, the new block of n bytes at align
 * just returned, came with no report, is not NULL (`null_why` otherwise) and is sound (check_new).
 */
static void returned_new(const unsigned char *q, size_t n, size_t align, const char *null_why) {
    after(ALLOC_OK);
    if (q == NULL)
        finish(O_MISSED, null_why);
    check_new(q, n, align, SIZE_MAX);
}

/*
 * An allocation of n bytes at align: every other one of ALLOC_ALIGNMENT by alloc_malloc, whose
 * fast paths test the control structure's words themselves, the rest by alloc_allocate.
 */
static void op_alloc(size_t n, size_t align) {
    unsigned char *q;
    if (align == ALLOC_ALIGNMENT && t.allocations++ % 2 != 0) {
        calling(C_MALLOC);
        q = alloc_malloc(t.heap, n);
        say("  malloc(%zu) = %p", n, (void *)q);
    } else {
        calling(C_ALLOCATE);
        q = alloc_allocate(t.heap, n, align);
        say("  allocate(%zu, %zu) = %p", n, align, (void *)q);
    }
    returned_new(q, n, align, "an allocation that fits returned NULL");
    track(q, n, slot_request(n, align));
}

/*
 * The heap grown into the EXTEND_SIZE bytes of the region past its end: a damaged end marker, last
 * block or free block there, or damaged words naming the heap's bounds, must be reported, and a
 * heap that grew serves blocks up to the new end.
 */
static void op_extend(void) {
    calling(C_EXTEND);
    enum alloc_error e = alloc_heap_extend(t.heap, EXTEND_SIZE);
    say("  extend(%u) = %s", EXTEND_SIZE, alloc_error_name(e));
    after(returned(C_EXTEND, e));
    t.hi += EXTEND_SIZE;
}

/* BATCH_COUNT blocks of BATCH_SIZE bytes in one call, each checked as an allocation's block. */
static void op_batch(void) {
    void *out[BATCH_COUNT];
    calling(C_BATCH);
    size_t got = alloc_allocate_batch(t.heap, BATCH_SIZE, out, BATCH_COUNT);
    say("  allocate_batch(%u, %u) = %zu", BATCH_SIZE, BATCH_COUNT, got);
    after(ALLOC_OK);
    if (got != BATCH_COUNT)
        finish(O_MISSED, "a batch that fits returned fewer blocks");
    for (size_t k = 0; k < BATCH_COUNT; k++) {
        check_new(out[k], BATCH_SIZE, ALLOC_ALIGNMENT, SIZE_MAX);
        track(out[k], BATCH_SIZE, false);
    }
}

/* A calloc, whose every byte must read zero: on any heap, bytes handed out before are cleared. */
static void op_calloc(size_t n) {
    calling(C_CALLOC);
    unsigned char *q = alloc_calloc(t.heap, 1, n);
    say("  calloc(1, %zu) = %p", n, (void *)q);
    returned_new(q, n, ALLOC_ALIGNMENT, "a calloc that fits returned NULL");
    for (size_t k = 0; k < n; k++) {
        if (q[k] == 0)
            continue;
        /*
         * A byte the corruption itself wrote, into memory never handed out (at or above every
         * payload handed out so far) that a zeroed region's calloc trusts to be zero (heap.h,
         * ALLOC_FLAG_ZEROED_REGION): counted apart. Below that, calloc must clear it.
         */
        uintptr_t a = (uintptr_t)&q[k];
        if (t.zeroed && a >= t.bad_lo && a < t.bad_hi && a >= t.handed_hi)
            finish(O_ZERO_TRUSTED, "calloc returned a byte the corruption wrote into memory "
                                   "never handed out");
        finish(O_CONTENTS, "calloc returned a byte that is not zero");
    }
    track(q, n, slot_request(n, ALLOC_ALIGNMENT));
}

static void op_free(size_t i) {
    if (!intact(&t.live[i], t.live[i].n))
        finish(O_CONTENTS, "a live block changed before its free");
    say("  free(%p) n=%zu", (void *)t.live[i].p, t.live[i].n);
    calling(C_FREE);
    enum alloc_error e = returned(C_FREE, alloc_free(t.heap, t.live[i].p));
    after(e);
    untrack(i);
}

/*
 * A request larger than the largest free block, which a heap may serve only by first giving
 * back space it keeps (a runs heap releases its empty runs, walking its lists of runs) and
 * which makes a strategy search all of its free blocks: it fails cleanly, or succeeds with a
 * sound block, which is freed again.
 */
static void op_alloc_too_big(void) {
    struct alloc_stats s;
    calling(C_STATS);
    alloc_heap_stats(t.heap, &s);
    after(ALLOC_OK);
    size_t n = s.largest_free + ALLOC_ALIGNMENT;
    calling(C_ALLOCATE);
    unsigned char *q = alloc_allocate(t.heap, n, ALLOC_ALIGNMENT);
    say("  allocate(%zu, %zu) = %p (more than the largest free block)", n, (size_t)ALLOC_ALIGNMENT,
        (void *)q);
    after(ALLOC_OK);
    if (q != NULL) {
        check_new(q, n, ALLOC_ALIGNMENT, SIZE_MAX);
        op_free(track(q, n, false)); /* it would leave no room for the requests that follow */
    }
}

static void op_realloc(size_t i, size_t n) {
    struct live *b = &t.live[i];
    if (!intact(b, b->n))
        finish(O_CONTENTS, "a live block changed before its realloc");
    say("  realloc(%p, %zu)", (void *)b->p, n);
    calling(C_REALLOC);
    unsigned char *q = alloc_realloc(t.heap, b->p, n);
    after(ALLOC_OK);
    if (q == NULL)
        finish(O_MISSED, "a realloc that fits returned NULL");
    check_new(q, n, ALLOC_ALIGNMENT, i);
    size_t keep = n < b->n ? n : b->n;
    struct live moved = *b;
    moved.p = q;
    if (!intact(&moved, keep))
        finish(O_CONTENTS, "realloc lost the contents");
    /* Resized in place, a block stays what it was; moved, it is what a new request gets. */
    if (q != b->p) {
        b->slot = slot_request(n, ALLOC_ALIGNMENT);
        b->run_known = false;
    }
    b->p = q;
    b->n = n;
    b->touched = false;
    handed_out(q, n);
    fill(b);
}

static void op_check(void) {
    say("  check");
    calling(C_CHECK);
    after(returned(C_CHECK, alloc_heap_check(t.heap)));
}

static void verify_all(void) {
    for (size_t i = 0; i < t.nlive; i++) {
        if (!intact(&t.live[i], t.live[i].n))
            finish(O_CONTENTS, "a live block the corruption did not touch changed");
    }
}

static size_t find_live(const unsigned char *p) {
    for (size_t i = 0; i < t.nlive; i++) {
        if (t.live[i].p == p)
            return i;
    }
    return SIZE_MAX;
}

static void walk_fn(void *ctx, void *payload, size_t usable, enum alloc_block_state state) {
    (void)ctx;
    if (t.nwalk < MAX_WALK)
        t.walk[t.nwalk] = (struct walked){payload, usable, state, false};
    t.nwalk++;
}

/* Walks the (uncorrupted) heap into t.walk, without telling slots from blocks. */
static void walk_entries(void) {
    t.nwalk = 0;
    calling(C_WALK);
    if (returned(C_WALK, alloc_heap_walk(t.heap, walk_fn, NULL)) != ALLOC_OK || t.nwalk == 0 ||
        t.nwalk > MAX_WALK)
        finish(O_HARNESS, "walk of the uncorrupted heap failed");
}

/*
 * Walks the (uncorrupted) heap into t.walk, telling slots from blocks. A block's payload starts
 * ALLOC_BLOCK_OVERHEAD bytes after the entry before it ends (the first block's where the empty
 * heap's first payload, t.lo, does), or, after a run whose slots leave a few bytes unused, on
 * the RUN_SPAN boundary where that run ends. A slot does neither: it follows the slot before
 * it back to back, or the first of its run follows the run's header and meta.
 */
static void walk(void) {
    walk_entries();
    uintptr_t end = t.lo - ALLOC_BLOCK_OVERHEAD;
    for (size_t i = 0; i < t.nwalk; i++) {
        struct walked *w = &t.walk[i];
        w->slot = (uintptr_t)w->payload - end != ALLOC_BLOCK_OVERHEAD &&
                  (uintptr_t)w->payload % RUN_SPAN != 0;
        if (w->slot && (!t.runs || w->usable > ALLOC_RUN_MAX_SIZE))
            finish(O_HARNESS, "a walked block without a header that is no run slot");
        end = (uintptr_t)w->payload + w->usable;
    }
}

/* The first slot of a run (the walk reports every slot of a run, free or used, in order). */
static bool first_slot(const struct walked *w) {
    return w->slot && (uintptr_t)w->payload == run_of_slot((uintptr_t)w->payload) + RUN_META;
}

/* The header of walked entry i's block: before its payload, or before its run's meta. */
static uintptr_t header_of(size_t i) {
    uintptr_t p = (uintptr_t)t.walk[i].payload;
    return (t.walk[i].slot ? run_of_slot(p) : p) - ALLOC_BLOCK_OVERHEAD;
}

/* Whether walked entry i is the last slot of its run: no slot follows it back to back. */
static bool last_slot(size_t i) {
    const struct walked *w = &t.walk[i];
    return w->slot && (i + 1 == t.nwalk || !t.walk[i + 1].slot ||
                       t.walk[i + 1].payload != w->payload + w->usable);
}

/*
 * Checks that every live block's slot flag (from its request) matches what the walk shows, and
 * marks the slots it shows as known to be slots (run_known).
 */
static void check_slot_flags(void) {
    for (size_t i = 0; i < t.nwalk; i++) {
        size_t j = find_live(t.walk[i].payload);
        if (j != SIZE_MAX && t.live[j].slot != t.walk[i].slot)
            finish(O_HARNESS, "a live block is not the kind (slot or block) its request implies");
        if (j != SIZE_MAX)
            t.live[j].run_known = t.walk[i].slot;
    }
}

static size_t setup_size(void) {
    uint64_t r = rnd(100);
    if (r < 70)
        return 1 + rnd(128);
    if (r < 95)
        return 129 + rnd(896);
    return 1025 + rnd(3072);
}

/* A random heap: live blocks and free (and quick-listed) blocks of many sizes; on a runs heap,
 * also bursts of slots of two sizes, so that after the frees below each size has several runs
 * on its list of runs with a free slot (and their links between them to corrupt). */
static void build_heap(const unsigned variant) {
    struct alloc_config cfg = {
        .strategy = fixture_variants[variant].strategy,
        .flags = fixture_variants[variant].flags,
        .error_hook = hook,
    };
    t.runs = variant_runs(&fixture_variants[variant]);
    /* A region promised zeroed (ALLOC_FLAG_ZEROED_REGION) is; any other is filled, as if used. */
    memset(region, 0x5a, REGION_SIZE + REGION_SLACK);
    t.zeroed = (cfg.flags & ALLOC_FLAG_ZEROED_REGION) != 0;
    t.handed_hi = 0;
    if (t.zeroed)
        memset(region, 0, REGION_SIZE);
    calling(C_INIT);
    if (returned(C_INIT, alloc_heap_init(&t.heap, region, REGION_SIZE - EXTEND_SIZE, &cfg)) !=
        ALLOC_OK)
        finish(O_HARNESS, "init failed");
    walk_entries();
    /* Below the first payload lie the control area and the first header. */
    t.lo = (uintptr_t)t.walk[0].payload;
    t.hi = (uintptr_t)region + REGION_SIZE - EXTEND_SIZE;
    for (int i = 0; i < SETUP_BLOCKS; i++)
        op_alloc(setup_size(), rnd(10) == 0 ? (size_t)64 << rnd(3) : ALLOC_ALIGNMENT);
    for (int burst = 0; t.runs && burst < 2; burst++) {
        size_t n = 1 + rnd(ALLOC_RUN_MAX_SIZE), count = 16 + rnd(96);
        for (size_t i = 0; i < count; i++)
            op_alloc(n, ALLOC_ALIGNMENT);
    }
    for (size_t i = 0; i < t.nlive;) {
        if (rnd(100) < 40)
            op_free(i);
        else
            i++;
    }
    for (int i = 0; i < 4 && t.nlive > 0; i++)
        op_realloc(rnd(t.nlive), setup_size());
    op_check();
    if (t.reports != 0)
        finish(O_HARNESS, "set-up reported an error");
}

/* What a corruption aims at, among the walked entries. */
enum target {
    T_HEADER,    /* a block's header: any block, or (through its first slot) a run */
    T_FREE,      /* a free block (not a slot) with room for its links */
    T_USED,      /* a used block (not a slot) */
    T_SLOT,      /* a used slot */
    T_LAST_SLOT, /* a used slot that is the last of its run */
};

static bool is_target(size_t i, enum target want) {
    const struct walked *w = &t.walk[i];
    bool is_free = w->state != ALLOC_BLOCK_USED;
    switch (want) {
    case T_HEADER:
        return !w->slot || first_slot(w);
    case T_FREE:
        return !w->slot && is_free && w->usable >= 2 * WORD;
    case T_USED:
        return !w->slot && !is_free;
    case T_SLOT:
        return w->slot && !is_free;
    case T_LAST_SLOT:
        return last_slot(i) && !is_free;
    }
    return false;
}

/* A random walked entry of the kind wanted, or SIZE_MAX if there is none. */
static size_t pick_block(enum target want) {
    size_t candidates[MAX_WALK];
    size_t n = 0;
    for (size_t i = 0; i < t.nwalk; i++) {
        if (is_target(i, want))
            candidates[n++] = i;
    }
    return n == 0 ? SIZE_MAX : candidates[rnd(n)];
}

/*
 * A used slot that is the last of its run, made if there is none: slots of one size are
 * allocated (ordinary requests, tracked like any) until one ends too near its run's end for
 * another to follow. Returns its walk index, or SIZE_MAX if no run filled up.
 */
static size_t pick_last_slot(void) {
    size_t i = pick_block(T_LAST_SLOT);
    if (i != SIZE_MAX)
        return i;
    size_t n = 16 * (1 + rnd(ALLOC_RUN_MAX_SIZE / 16));
    for (size_t k = 0; k < RUN_SPAN / 16; k++) {
        op_alloc(n, ALLOC_ALIGNMENT);
        uintptr_t q = (uintptr_t)t.live[t.nlive - 1].p;
        if (q + 2 * n > run_of_slot(q) + RUN_SPAN - ALLOC_BLOCK_OVERHEAD)
            break;
    }
    walk();
    check_slot_flags();
    return pick_block(T_LAST_SLOT);
}

/* A value a stray write might leave in a word: random, zero, all ones, near the old value, or a
 * pointer into the heap. */
static uint64_t hostile_word(uint64_t old) {
    switch (rnd(6)) {
    case 0:
        return splitmix(&t.rng);
    case 1:
        return 0;
    case 2:
        return ~(uint64_t)0;
    case 3:
        return old + (uint64_t)(int64_t)(((int)rnd(16) - 8) * 16 + (rnd(2) ? 0 : 8));
    case 4: {
        /* A payload, a header or a run's meta: where a link could point. */
        const struct walked *w = &t.walk[rnd(t.nwalk)];
        uintptr_t p = (uintptr_t)w->payload;
        return (uint64_t)(rnd(2) ? p : w->slot ? run_of_slot(p) : p - ALLOC_BLOCK_OVERHEAD);
    }
    default:
        return old ^ ((uint64_t)1 << rnd(64)) ^ ((uint64_t)1 << rnd(64));
    }
}

static void corrupt_bit(uintptr_t lo, size_t bytes) {
    size_t bit = rnd(bytes * 8);
    unsigned char *p = (unsigned char *)(lo + bit / 8);
    *p ^= (unsigned char)(1u << (bit % 8));
    t.bad_lo = (uintptr_t)p;
    t.bad_hi = t.bad_lo + 1;
    snprintf(t.what, sizeof(t.what), "bit %zu of byte %#lx", bit % 8, (unsigned long)t.bad_lo);
}

static void corrupt_word(uintptr_t lo, size_t words) {
    uintptr_t a = lo + rnd(words) * WORD;
    uint64_t old = 0;
    memcpy(&old, (void *)a, WORD);
    uint64_t v = hostile_word(old);
    memcpy((void *)a, &v, WORD);
    t.bad_lo = a;
    t.bad_hi = a + WORD;
    snprintf(t.what, sizeof(t.what), "word %#lx: %#" PRIx64 " -> %#" PRIx64, (unsigned long)a, old,
             v);
}

/* One bit of the `words` words at lo (a K_*_BIT kind), or one of those words (K_*_WORD). */
static void corrupt_bit_or_word(bool bit, uintptr_t lo, size_t words) {
    if (bit)
        corrupt_bit(lo, words * WORD);
    else
        corrupt_word(lo, words);
}

/* A client's write of 1 to 16 bytes just past its live block (or slot) p. */
static void overrun(unsigned char *p) {
    calling(C_USABLE_SIZE);
    size_t usable = alloc_usable_size(t.heap, p);
    after(ALLOC_OK);
    size_t n = 1 + rnd(16);
    /* Random bytes, zeroes, text, or (the hostile case) the bytes that were there with
     * only the last one changed, so everything before it still checks out. */
    unsigned byte_kind = (unsigned)rnd(4);
    for (size_t k = 0; k < n; k++) {
        unsigned char *q = &p[usable + k];
        *q = byte_kind == 0   ? (unsigned char)rnd(256)
             : byte_kind == 1 ? 0
             : byte_kind == 2 ? (unsigned char)('A' + k % 26)
             : k + 1 < n      ? *q
                              : (unsigned char)(*q ^ (1 + rnd(255)));
    }
    t.bad_lo = (uintptr_t)p + usable;
    t.bad_hi = t.bad_lo + n;
    snprintf(t.what, sizeof(t.what), "%zu bytes past %#lx (usable %zu)", n,
             (unsigned long)(uintptr_t)p, usable);
}

/* Corrupts according to kind; returns the walk index of the block aimed at (SIZE_MAX if none). */
static size_t corrupt(enum kind kind) {
    size_t i = SIZE_MAX;
    switch (kind) {
    case K_NONE:
        snprintf(t.what, sizeof(t.what), "nothing");
        return SIZE_MAX;
    case K_HDR_BIT:
    case K_HDR_WORD:
        i = pick_block(T_HEADER);
        corrupt_bit_or_word(kind == K_HDR_BIT, header_of(i), ALLOC_BLOCK_OVERHEAD / WORD);
        return i;
    case K_LINK_BIT:
    case K_LINK_WORD:
        i = pick_block(T_FREE);
        if (i == SIZE_MAX)
            break;
        corrupt_bit_or_word(kind == K_LINK_BIT, (uintptr_t)t.walk[i].payload, 2);
        return i;
    case K_TAG_BIT:
    case K_TAG_WORD:
        i = pick_block(T_FREE);
        if (i == SIZE_MAX)
            break;
        /* The first word of the header after the payload: the next block's, or the end marker. */
        corrupt_bit_or_word(kind == K_TAG_BIT, (uintptr_t)t.walk[i].payload + t.walk[i].usable, 1);
        return i;
    case K_OVERRUN:
        i = pick_block(T_USED);
        if (i == SIZE_MAX)
            break;
        overrun(t.walk[i].payload);
        return i;
    case K_CTRL_BIT:
    case K_CTRL_WORD:
        corrupt_bit_or_word(kind == K_CTRL_BIT, (uintptr_t)region,
                            (t.lo - ALLOC_BLOCK_OVERHEAD - (uintptr_t)region) / WORD);
        return SIZE_MAX;
    case K_META_BIT:
    case K_META_WORD:
        i = pick_block(T_SLOT);
        if (i == SIZE_MAX)
            break;
        corrupt_bit_or_word(kind == K_META_BIT, run_of_slot((uintptr_t)t.walk[i].payload),
                            RUN_META / WORD);
        return i;
    case K_SLOT_OVERRUN:
        /* Half past a run's last slot (into the next block's header), half past any slot. */
        i = rnd(2) ? pick_last_slot() : pick_block(T_SLOT);
        if (i == SIZE_MAX)
            break;
        overrun(t.walk[i].payload);
        return i;
    case K_COUNT:
        break;
    }
    /* No block of the kind wanted (rare): overrun a used block or slot instead. */
    i = pick_block(T_USED);
    if (i == SIZE_MAX)
        i = pick_block(T_SLOT);
    if (i == SIZE_MAX)
        finish(O_HARNESS, "no live block to overrun");
    overrun(t.walk[i].payload);
    return i;
}

/* The fixed sequence of ordinary operations that follows the corruption. */
static void exercise(size_t target) {
    unsigned char *tp = target == SIZE_MAX ? NULL : t.walk[target].payload;
    unsigned char *prev = target == SIZE_MAX || target == 0 ? NULL : t.walk[target - 1].payload;
    unsigned char *next =
        target == SIZE_MAX || target + 1 >= t.nwalk ? NULL : t.walk[target + 1].payload;
    size_t ti = find_live(tp);

    op_extend();
    if (ti != SIZE_MAX) {
        calling(C_USABLE_SIZE);
        size_t n = alloc_usable_size(t.heap, tp);
        say("  usable_size(%p) = %zu", (void *)tp, n);
        after(ALLOC_OK);
        if (n < t.live[ti].n)
            finish(O_MISSED, "usable size below the size requested");
    }
    size_t i = find_live(next);
    if (i != SIZE_MAX)
        op_free(i);
    i = find_live(prev);
    if (i != SIZE_MAX)
        op_free(i);

    static const size_t first[] = {1, 16, 17, 40, 64, 100, 200, 300, 500, 1000, 1500, 2500};
    size_t first_at = t.nlive;
    for (size_t k = 0; k < sizeof(first) / sizeof(first[0]); k++)
        op_alloc(first[k], k == 3 ? 64 : k == 8 ? 256 : ALLOC_ALIGNMENT);

    op_alloc_too_big();
    op_batch();

    ti = find_live(tp);
    if (ti != SIZE_MAX)
        op_realloc(ti, t.live[ti].n + 100);
    size_t j = rnd(t.nlive);
    op_realloc(j, 1 + t.live[j].n / 2);

    ti = find_live(tp);
    if (ti != SIZE_MAX)
        op_free(ti);
    for (size_t k = first_at; k < t.nlive; k += 2)
        op_free(k);

    /* Half of them by calloc, over bytes the frees above handed back. */
    static const size_t second[] = {24, 48, 96, 192, 384, 768, 1536, 3072};
    for (size_t k = 0; k < sizeof(second) / sizeof(second[0]); k++) {
        if (k % 2 != 0)
            op_calloc(second[k]);
        else
            op_alloc(second[k], ALLOC_ALIGNMENT);
    }
    op_check();
    verify_all();

    while (t.nlive > 0)
        op_free(t.nlive - 1);
    struct alloc_stats s;
    calling(C_STATS);
    alloc_heap_stats(t.heap, &s);
    after(ALLOC_OK);
    if (s.live_allocations != 0 || s.bytes_in_use != 0)
        finish(O_MISSED, "statistics show live blocks after every block was freed");
    if (s.largest_free < REGION_SIZE / 2)
        finish(O_MISSED, "most of the empty heap is not free");
    op_alloc(s.largest_free, ALLOC_ALIGNMENT);
    op_free(0);
    op_check();
}

static enum outcome run_trial(uint64_t base_seed, unsigned trial, enum kind kind,
                              unsigned variant) {
    uint64_t s = base_seed ^ ((uint64_t)trial * 0xd1b54a32d192ed03ull);
    t.rng = splitmix(&s);
    t.next_seed = (uint32_t)trial * 1000u;
    t.allocations = 0;
    build_heap(variant);
    walk();
    check_slot_flags();
    size_t target = corrupt(kind);
    say("  corrupted: %s", t.what);
    for (size_t i = 0; i < t.nlive; i++) {
        uintptr_t p = (uintptr_t)t.live[i].p;
        t.live[i].touched = intersects(p, p + t.live[i].n, t.bad_lo, t.bad_hi);
    }
    exercise(target);
    finish(O_BENIGN, "every operation succeeded and the heap is intact");
}

/*
 * The variants this build has (fixture_variants' indices; variant_absent names why one is left
 * out, as heap_test reports it): the minimal build has no quick lists, runs or first fit.
 */
static unsigned present[FIXTURE_VARIANT_COUNT];
static unsigned present_count;

static void find_present_variants(void) {
    for (unsigned v = 0; v < FIXTURE_VARIANT_COUNT; v++) {
        const char *absent = variant_absent(&fixture_variants[v]);
        if (absent == NULL)
            present[present_count++] = v;
        else
            printf("variant %s: not in this build, %s\n", fixture_variants[v].name, absent);
    }
}

/* The variants this build has take turns, trial by trial. */
static unsigned variant_of(unsigned trial) {
    return present[trial % present_count];
}

/* ALLOC_INJECT_KIND: the one kind every corrupted trial takes, or K_NONE for all of them. */
static enum kind only_kind;

/*
 * Each variant cycles through the kinds its heap has: the header kinds; the run kinds on a runs
 * heap; the control kinds in a build with fast paths.
 */
static enum kind kind_of(unsigned trial) {
    if (trial < BASELINE_TRIALS)
        return K_NONE;
    if (only_kind != K_NONE)
        return only_kind;
    enum kind kinds[K_COUNT];
    unsigned n = 0;
    for (enum kind k = K_HDR_BIT; k <= K_OVERRUN; k++)
        kinds[n++] = k;
    if (variant_runs(&fixture_variants[variant_of(trial)])) {
        for (enum kind k = K_META_BIT; k <= K_SLOT_OVERRUN; k++)
            kinds[n++] = k;
    }
    if (ALLOC_FAST_PATHS) {
        kinds[n++] = K_CTRL_BIT;
        kinds[n++] = K_CTRL_WORD;
    }
    return kinds[(trial - BASELINE_TRIALS) / present_count % n];
}

static enum outcome classify(int status) {
    if (WIFEXITED(status)) {
        int code = WEXITSTATUS(status) - EXIT_BASE;
        return code >= 0 && code < O_COUNT ? (enum outcome)code : O_CRASH;
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGALRM)
            return O_LOOP;
    }
    return O_CRASH;
}

/* The outcomes the test asserts never happen. */
static bool is_failure(enum outcome o) {
    return o >= O_OVERLAP;
}

/* The outcomes that fail the test: the failures, and a corruption missed. */
static bool fails_test(enum outcome o) {
    return o == O_MISSED || is_failure(o);
}

static uint64_t env_u64(const char *name, uint64_t fallback) {
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? strtoull(v, NULL, 0) : fallback;
}

int main(void) {
    region = mmap(REGION_ADDRESS, REGION_SIZE + REGION_SLACK, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        perror("corruption_test: mmap");
        return 1;
    }
    find_present_variants();
    if (present_count == 0) {
        printf("corruption_test: this build has none of the fixture's variants\n");
        return 1;
    }
    uint64_t seed = env_u64("ALLOC_INJECT_SEED", DEFAULT_SEED);
    const char *kind = getenv("ALLOC_INJECT_KIND");
    if (kind != NULL && *kind != '\0') {
        while (only_kind + 1 < K_COUNT && strcmp(kind_names[only_kind], kind) != 0)
            only_kind++;
        if (strcmp(kind_names[only_kind], kind) != 0 || only_kind == K_NONE) {
            printf("corruption_test: ALLOC_INJECT_KIND=%s is no kind of corruption\n", kind);
            return 1;
        }
    }
    unsigned trials = (unsigned)fixture_scaled(env_u64("ALLOC_INJECT_TRIALS", DEFAULT_TRIALS));
    const char *one = getenv("ALLOC_INJECT_TRIAL");
    if (one != NULL && *one != '\0') {
        unsigned trial = (unsigned)strtoul(one, NULL, 0);
        t.verbose = true;
        setvbuf(stdout, NULL, _IONBF, 0); /* a crash must not lose the steps before it */
        printf("trial %u: kind %s, variant %s, seed %#" PRIx64 "\n", trial,
               kind_names[kind_of(trial)], fixture_variants[variant_of(trial)].name, seed);
        run_trial(seed, trial, kind_of(trial), variant_of(trial));
    }

    unsigned count[K_COUNT][O_COUNT] = {{0}};
    unsigned by_variant[FIXTURE_VARIANT_COUNT][O_COUNT] = {{0}};
    unsigned printed = 0;
    for (unsigned trial = 0; trial < trials; trial++) {
        enum kind kind = kind_of(trial);
        unsigned variant = variant_of(trial);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("corruption_test: fork");
            return 1;
        }
        if (pid == 0) {
            alarm(TIMEOUT_SECONDS);
            run_trial(seed, trial, kind, variant);
        }
        int status = 0;
        if (waitpid(pid, &status, 0) != pid) {
            perror("corruption_test: waitpid");
            return 1;
        }
        enum outcome o = classify(status);
        /* An uncorrupted trial that does not end benign is a harness failure. */
        if (kind == K_NONE && o != O_BENIGN)
            o = O_HARNESS;
        count[kind][o]++;
        by_variant[variant][o]++;
        if (fails_test(o) && printed++ < MAX_PRINTED)
            printf("FAIL trial %u: %s (kind %s, variant %s); rerun with ALLOC_INJECT_TRIAL=%u "
                   "ALLOC_INJECT_SEED=%#" PRIx64 "\n",
                   trial, outcome_names[o], kind_names[kind], fixture_variants[variant].name, trial,
                   seed);
    }

    printf("\n%-14s %7s", "kind", "trials");
    for (int o = 0; o < O_COUNT; o++)
        printf(" %9s", outcome_names[o]);
    printf("\n");
    unsigned total[O_COUNT] = {0};
    unsigned all = 0;
    for (int k = 0; k < K_COUNT; k++) {
        unsigned n = 0;
        for (int o = 0; o < O_COUNT; o++)
            n += count[k][o];
        printf("%-14s %7u", kind_names[k], n);
        for (int o = 0; o < O_COUNT; o++) {
            printf(" %9u", count[k][o]);
            if (k != K_NONE)
                total[o] += count[k][o];
        }
        printf("\n");
        if (k != K_NONE)
            all += n;
    }
    for (unsigned i = 0; i < present_count; i++) {
        unsigned v = present[i], n = 0;
        for (int o = 0; o < O_COUNT; o++)
            n += by_variant[v][o];
        printf("%-14s %7u", fixture_variants[v].name, n);
        for (int o = 0; o < O_COUNT; o++)
            printf(" %9u", by_variant[v][o]);
        printf("\n");
    }
    unsigned failures = 0;
    for (int o = O_OVERLAP; o < O_COUNT; o++)
        failures += total[o] + count[K_NONE][o];
    /* A missed corruption fails the test too: the goal is that every one is detected. */
    bool ok = failures == 0 && total[O_MISSED] == 0;
    unsigned effective = all - total[O_BENIGN] - total[O_ZERO_TRUSTED];
    unsigned detected = total[O_DETECTED] + total[O_DETECTED_BY_CHECK];
    printf("\ncorruption_test: trials=%u corrupted=%u benign=%u detected=%u (at the call %u, by "
           "alloc_heap_check %u) missed=%u zero_trusted=%u failures=%u detection_rate=%.2f%% "
           "(detected / (corrupted - benign - zero_trusted); goal 100%%) verdict=%s\n",
           trials, all, total[O_BENIGN], detected, total[O_DETECTED], total[O_DETECTED_BY_CHECK],
           total[O_MISSED], total[O_ZERO_TRUSTED], failures,
           effective == 0 ? 100.0 : 100.0 * detected / effective, ok ? "ok" : "FAIL");
    return ok ? 0 : 1;
}
