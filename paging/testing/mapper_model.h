/*
 * mapper_model.h - test support: random operations on the real mapper, each checked against a
 * reference model, shared by paging/model_test.c (seeded pseudo-random bytes) and
 * paging/mapper_fuzzer.c (libFuzzer's bytes).
 *
 * The machine: the simulated memory of sim.h with sim_hw_locked's lock, the root PML4 below
 * 1 MiB, and the real frame allocator over a small pool above it (its bitmaps carved from the
 * pool, poison on free), reached through a frame source that can be told to run dry after a given
 * number of frames:
 *
 *   phys 0x000000 +-----------------------+
 *                 | 0x001000  root PML4   |  zeroed; not the allocator's
 *   phys 0x100000 +-----------------------+
 *                 | frame allocator pool  |  pool_frames frames (one holds its bitmaps), full of
 *                 |                       |  SIM_GARBAGE at first, poisoned when freed
 *                 +-----------------------+
 *
 * The real allocator rather than sim_frames: it is the kernel's pairing, it refuses a double or
 * foreign free (its panic hook ends the step), and it poisons what it takes back, so a table frame
 * the mapper gives back on a failed map comes again full of poison, as its first use came full of
 * SIM_GARBAGE, for a mapper that forgot to zero a table to link. The wrapper adds what sim_frames
 * would have given: the budget, the frames outstanding, and a check that each call holds the lock.
 *
 * Virtual addresses are drawn from a few clusters of pages, each straddling a boundary of the
 * tables (a PT, a PD, a PDPT, the lower half's end at the canonical hole, the higher half's start,
 * the top of the address space), so tables are shared, created on both sides, and some pages are
 * non-canonical; plus misaligned and far non-canonical addresses, misaligned, out-of-range and
 * wrapping physical addresses, invalid flags and ranges that wrap past 2^64.
 *
 * The model: virt -> (phys, flags) for every page of the clusters, and the set of page tables
 * (level, the virtual bits above what the table maps, and the flags of the entry that links it).
 * Each operation's return code, flushes and table changes are predicted from mapper.h's contract
 * alone; after every operation the whole state is compared (see mapper_model_step).
 *
 * A machine may start from hand-built tables, as the kernel's mapper starts from the boot tables
 * that map memory with 2 MiB pages (mapper_model_init's @huge): frames below 1 MiB, beside the
 * root, hold a few PDPTs and PDs linked, all but one (P|W|U, as the mapper links a user table),
 * by entries with rights the mapper never gives (read-only or NX, some supervisor as well), and
 * 2 MiB and 1 GiB leaves that cover part of four clusters (mapper_model.c, prebuilt[] and
 * huge_leaves[]). Maps and unmaps there must be refused with "huge page on the way", translate
 * and walk must report the big pages, and maps below the hand-built entries must widen them (W
 * added, NX cleared, U added) with one whole-TLB flush.
 *
 * Now and then a walk's callback calls the mapper again (map_page, map_range,
 * identity_map_range, unmap_page, translate or walk, with arguments that would change or read
 * something), and a map's frame source, or the flush of a map or an unmap, calls translate: each
 * nested call must return "re-entered", having taken no lock, called no hook and written no output,
 * and the walk must go on or stop as the callback answers.
 *
 * Test-only: never linked into the kernel.
 */
#ifndef PAGING_TESTING_MAPPER_MODEL_H
#define PAGING_TESTING_MAPPER_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paging/frame_allocator.h"
#include "paging/mapper.h"
#include "paging/testing/sim.h"

/* Frames of the allocator's pool, at most; one of them holds its bitmaps. */
#define MAPPER_MODEL_MAX_POOL_FRAMES 64u
/* Pages of all clusters together (see mapper_model.c, clusters[]). */
#define MAPPER_MODEL_PAGES 2816u
/* Pages a map_range operation covers, at most. */
#define MAPPER_MODEL_MAX_RANGE 16u
/* Hand-built tables and big leaves of a machine started with @huge (mapper_model.c). */
#define MAPPER_MODEL_PREBUILT_TABLES 6u
#define MAPPER_MODEL_HUGE_LEAVES     4u

/* The operations, for the counts in struct mapper_model. */
enum mapper_model_op {
    MAPPER_MODEL_MAP_PAGE,
    MAPPER_MODEL_MAP_RANGE,
    MAPPER_MODEL_UNMAP_PAGE,
    MAPPER_MODEL_TRANSLATE,
    MAPPER_MODEL_WALK,
    MAPPER_MODEL_OPS,
};

/* Where the operations' parameters come from: a byte (0..255) per call. */
struct mapper_model_bytes {
    unsigned (*next)(void *ctx);
    void *ctx;
};

struct mapper_model_page {
    uint64_t phys;
    uint64_t flags; /* as the leaf holds them, PRESENT included; 0 when not mapped */
};

/* A page table: the table of @level (3 PDPT, 2 PD, 1 PT) mapping the virtual addresses whose
 * bits above 12 + 9 * level equal @key, linked by an entry with @entry_flags; @phys: the frame of
 * a hand-built table, 0 for one the mapper made (in a frame of the source). */
struct mapper_model_table {
    int level;
    uint64_t key;
    uint64_t entry_flags;
    uint64_t phys;
};

/* A hand-built 2 MiB or 1 GiB leaf: [virt, virt + size) -> [phys, phys + size), its entry
 * phys | flags (PS included). */
struct mapper_model_huge {
    uint64_t virt;
    uint64_t size;
    uint64_t phys;
    uint64_t flags;
};

/* The frame source the mapper is given: the allocator's, failing once @budget frames are taken in
 * one operation (-1: never), with the frames handed out and not given back. */
struct mapper_model_frames {
    struct frame_allocator *allocator;
    struct sim *sim;
    long budget;
    uint64_t out[MAPPER_MODEL_MAX_POOL_FRAMES];
    size_t outstanding;
    size_t unlocked_calls; /* allocate or free called without the mapper's lock held */
    size_t frees;          /* frames given back */
    size_t bad_frees;      /* free of a frame not outstanding */
    struct mapper_model_reentry *reentry; /* allocate re-enters when told to */
};

/* Hooks told to call the mapper again: while @on (for one map, map_range or unmap), the frame
 * source's allocate and the hw's flushes each call translate on @mapper, which must refuse it. */
struct mapper_model_reentry {
    bool on;
    struct paging_mapper *mapper;
    const struct sim *sim;
    size_t from_allocate; /* calls refused with "re-entered", nothing written, no lock taken */
    size_t from_flush;
    size_t faults; /* calls that returned anything else, wrote their output or took the lock */
};

struct mapper_model {
    struct sim sim;
    struct frame_allocator allocator;
    struct mapper_model_frames frames;
    struct mapper_model_reentry reentry;
    struct paging_hw sim_hw; /* the simulated machine's hooks, which the mapper's wrap */
    struct paging_mapper mapper;
    unsigned pool_frames;
    uint64_t free_frames; /* frames the allocator has left, as the model counts them */

    struct mapper_model_page page[MAPPER_MODEL_PAGES];
    uint16_t mapped[MAPPER_MODEL_PAGES];     /* indices of the mapped pages, in no order */
    uint16_t mapped_pos[MAPPER_MODEL_PAGES]; /* page i is mapped[mapped_pos[i]] when mapped */
    size_t mapped_count;
    struct mapper_model_table table[MAPPER_MODEL_MAX_POOL_FRAMES + MAPPER_MODEL_PREBUILT_TABLES];
    size_t table_count;    /* hand-built ones included */
    size_t prebuilt_count; /* the hand-built tables, table[0..prebuilt_count) */
    struct mapper_model_huge huge[MAPPER_MODEL_HUGE_LEAVES]; /* in address order */
    size_t huge_count;

    /* What the runs saw: operations, and results per operation (index: enum paging_error). */
    size_t ops;
    size_t results[MAPPER_MODEL_OPS][PAGING_ERR_REENTERED + 1];
    size_t tables_kept;        /* map_range out of frames past its first page (tables kept) */
    size_t widenings;          /* operations that widened an entry (a whole-TLB flush expected) */
    size_t dry_refusals;       /* FRAME_ALLOCATION_FAILED with frames given back to the source */
    size_t widened_w;          /* operations that added W to a (hand-built) entry */
    size_t widened_nx;         /* operations that cleared NX in a (hand-built) entry */
    size_t huge_translated[2]; /* translations through a 2 MiB [0] and a 1 GiB [1] leaf */
    size_t huge_walked[2];     /* 2 MiB and 1 GiB leaves a walk reported */
    size_t reentries[MAPPER_MODEL_OPS]; /* nested calls from a walk's callback, by operation */

    const char *op_name; /* the operation running or last run, for the failure report */
    char failure[512];   /* why mapper_model_step returned false */
};

/* Sets up the machine with a pool of @pool_frames frames, clamped to [2,
 * MAPPER_MODEL_MAX_POOL_FRAMES], and an empty model, or with @huge the hand-built tables and big
 * leaves above; aborts if the set-up itself fails. */
void mapper_model_init(struct mapper_model *mm, unsigned pool_frames, bool huge);
void mapper_model_destroy(struct mapper_model *mm);

/*
 * mapper_model_step - decodes one operation from @in (map_page, map_range, unmap_page, translate,
 * or a walk stopped after a few leaves, whose callback may call the mapper again), runs it on the
 * mapper and on the model, then checks:
 * the return code is one the model allows; the flushes are the ones predicted (each unmapped page
 * once, one whole-TLB flush when an entry was widened (a failed map_range maps no page),
 * nothing else); the pages the operation touched translate as the model says; a full walk visits
 * exactly the model's leaves, big ones included, in order, and its tables (the root, the
 * hand-built ones, frames the source handed out); the tables, read directly, are exactly the
 * model's, their entries' flags the model's (P|W, |U, for those the mapper made), each in its
 * hand-built frame or in a frame the source handed out and linked once, and the big leaves are
 * untouched; frames outstanding at the source and at the allocator equal the tables the mapper
 * made (none is freed); the allocator's check passes; the lock was taken and released around
 * every call and every hook ran under it; a nested call made during the operation was refused.
 * Returns false, with mm->failure saying why, at the first disagreement (a panic included).
 */
bool mapper_model_step(struct mapper_model *mm, struct mapper_model_bytes *in);

#endif /* PAGING_TESTING_MAPPER_MODEL_H */
