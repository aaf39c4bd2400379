/*
 * mapper_test.c - host tests of the 4-level page-table mapper over simulated physical memory.
 *
 * Every check starts from the same machine (setup()) but heap_over_frame_allocator_check, which
 * builds its own (8 MiB, a frame allocator for frame source), and error_names_check, which needs
 * none. setup()'s machine:
 *
 *   phys 0x000000 +--------------------------+
 *                 | 0x001000  root PML4      |  zeroed
 *                 | 0x002000+ tables a check |  crafts by hand (huge-page entries, NX tables)
 *   phys 0x100000 +--------------------------+
 *                 | frame source pool        |  256 frames for new tables, handed out full of
 *                 |                          |  SIM_GARBAGE, counted, optionally failing
 *   phys 0x200000 +--------------------------+
 *
 * Mapped physical addresses are never dereferenced by the mapper, so most (FRAME_A, 0x40000000,
 * and up) lie outside the simulated memory on purpose: touching one would abort the test.
 * identity_map_range_check maps [1 MiB, 1.5 MiB), inside it (the pool), and
 * heap_over_frame_allocator_check maps frames of its own machine.
 * raw_entry() reads the tables independently of the mapper's own walk.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "paging/frame_allocator.h"
#include "paging/mapper.h"
#include "paging/testing/sim.h"
#include "tests/support/check.h"

#define MEM_SIZE   UINT64_C(0x200000)
#define ROOT       UINT64_C(0x1000)
#define POOL_START UINT64_C(0x100000)
#define POOL_END   UINT64_C(0x200000)
#define FRAME_A    UINT64_C(0x40000000)
#define FRAME_B    UINT64_C(0x40001000)
#define KiB        UINT64_C(0x400)
#define MiB        UINT64_C(0x100000)
#define GiB        UINT64_C(0x40000000)

static struct sim sim;
static struct sim_frames frames;
static struct paging_mapper m;

static void teardown(void) {
    if (sim.mem != NULL) {
        sim_frames_destroy(&frames);
        sim_destroy(&sim);
    }
}

static void setup(void) {
    teardown();
    sim_init(&sim, MEM_SIZE);
    sim_zero_table(&sim, ROOT);
    sim_frames_init(&frames, &sim, POOL_START, POOL_END);
    struct paging_hw hw = sim_hw(&sim);
    struct paging_frame_source source = sim_frames_source(&frames);
    if (paging_mapper_init(&m, ROOT, &hw, &source) != PAGING_OK) {
        abort();
    }
}

static uint64_t *table(uint64_t phys) {
    return sim_phys_to_virt(&sim, phys);
}

static unsigned idx(uint64_t virt, int level) {
    return (unsigned)(virt >> (12 + 9 * (level - 1))) & 511u;
}

/* The entry for @virt in the table of @level (4 = PML4 .. 1 = PT), found by reading the tables
 * directly; NULL when a table on the way is missing. */
static uint64_t *raw_entry(uint64_t virt, int level) {
    uint64_t t = ROOT;
    for (int l = 4; l > level; l--) {
        uint64_t e = table(t)[idx(virt, l)];
        if ((e & PAGING_FLAG_PRESENT) == 0) {
            return NULL;
        }
        t = e & PAGING_ADDRESS_MASK;
    }
    return &table(t)[idx(virt, level)];
}

struct census {
    size_t tables;
    size_t leaves;
    struct paging_leaf leaf[16];
    size_t stop_after; /* leaf callback returns false after this many leaves (0: never) */
};

static bool count_table(void *ctx, int level, uint64_t phys) {
    (void)level;
    (void)phys;
    ((struct census *)ctx)->tables++;
    return true;
}

static bool count_leaf(void *ctx, const struct paging_leaf *leaf) {
    struct census *c = ctx;
    if (c->leaves < 16) {
        c->leaf[c->leaves] = *leaf;
    }
    c->leaves++;
    return c->stop_after == 0 || c->leaves < c->stop_after;
}

static struct census take_census(void) {
    struct census c;
    memset(&c, 0, sizeof c);
    struct paging_walk_visitor v = {count_table, count_leaf, &c};
    paging_walk(&m, &v);
    return c;
}

/* Copies of every table reachable from the root, in walk order, to compare before and after. */
struct snapshot {
    size_t count;
    uint64_t phys[32];
    uint8_t bytes[32][4096];
};

static bool snap_table(void *ctx, int level, uint64_t phys) {
    struct snapshot *s = ctx;
    (void)level;
    if (s->count < 32) {
        s->phys[s->count] = phys;
        memcpy(s->bytes[s->count], table(phys), 4096);
    }
    s->count++;
    return true;
}

static void take_snapshot(struct snapshot *s) {
    s->count = 0;
    struct paging_walk_visitor v = {snap_table, NULL, s};
    paging_walk(&m, &v);
}

static bool same_snapshot(const struct snapshot *a, const struct snapshot *b) {
    if (a->count != b->count) {
        return false;
    }
    for (size_t i = 0; i < a->count && i < 32; i++) {
        if (a->phys[i] != b->phys[i] || memcmp(a->bytes[i], b->bytes[i], 4096) != 0) {
            return false;
        }
    }
    return true;
}

/*
 * Map one page:  virt 0x400000 (PML4 0, PDPT 0, PD 2, PT 0) -> FRAME_A.
 * Expect translate to give FRAME_A + offset for bytes of that page, a 4 KiB page size, and
 * NOT_MAPPED for the pages just below and above.
 */
static int map_then_translate_check(void) {
    struct paging_translation t;
    setup();

    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, PAGING_FLAG_WRITABLE));
    ASSERT_EQ(PAGING_OK, paging_translate(&m, 0x400000, &t));
    ASSERT_EQ(FRAME_A, t.phys);
    ASSERT_EQ(PAGING_PAGE_SIZE, t.page_size);
    ASSERT_EQ(PAGING_OK, paging_translate(&m, 0x400fff, &t));
    ASSERT_EQ(FRAME_A + 0xfff, t.phys);
    ASSERT_EQ(PAGING_ERR_NOT_MAPPED, paging_translate(&m, 0x401000, &t));
    ASSERT_EQ(PAGING_ERR_NOT_MAPPED, paging_translate(&m, 0x3ff000, &t));
    return 0;
}

/*
 * Map a user page with every leaf flag, and a kernel page elsewhere.
 * Expect the leaf entry to be exactly phys | flags | PRESENT (PRESENT added by the mapper),
 * translate to report those flags, intermediates of the user page to be P|W|U, and
 * intermediates of the kernel page P|W without U.
 */
static int leaf_flags_check(void) {
    const uint64_t flags = PAGING_FLAG_WRITABLE | PAGING_FLAG_USER | PAGING_FLAG_WRITE_THROUGH |
                           PAGING_FLAG_CACHE_DISABLE | PAGING_FLAG_GLOBAL | PAGING_FLAG_NO_EXECUTE |
                           PAGING_FLAG_AVAILABLE_1;
    const uint64_t user = 0x00007f0000000000;
    const uint64_t kernel = 0x400000;
    struct paging_translation t;
    setup();

    ASSERT_EQ(PAGING_OK, paging_map_page(&m, user, FRAME_A, flags));
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, kernel, FRAME_B, 0));
    ASSERT_EQ(FRAME_A | flags | PAGING_FLAG_PRESENT, *raw_entry(user, 1));
    ASSERT_EQ(FRAME_B | PAGING_FLAG_PRESENT, *raw_entry(kernel, 1));
    ASSERT_EQ(PAGING_OK, paging_translate(&m, user, &t));
    ASSERT_EQ(flags | PAGING_FLAG_PRESENT, t.flags);
    for (int level = 4; level >= 2; level--) {
        ASSERT_EQ(PAGING_TABLE_FLAGS | PAGING_FLAG_USER,
                  *raw_entry(user, level) & ~PAGING_ADDRESS_MASK);
        ASSERT_EQ(PAGING_TABLE_FLAGS, *raw_entry(kernel, level) & ~PAGING_ADDRESS_MASK);
    }
    return 0;
}

/*
 * Five pages placed to share more or less of their path:
 *
 *   A 0x000000400000  PML4 0   PDPT 0  PD 2  PT 0    new PDPT, PD, PT
 *   B 0x000000401000  PML4 0   PDPT 0  PD 2  PT 1    nothing new
 *   C 0x000000600000  PML4 0   PDPT 0  PD 3  PT 0    new PT
 *   D 0x000040000000  PML4 0   PDPT 1  PD 0  PT 0    new PD, PT
 *   E 0xffff800000000000 PML4 256 ...                new PDPT, PD, PT
 *
 * Expect each map to take exactly the frames listed, A and B to share their PT, and the walk to
 * find 1 + 9 tables and 5 leaves.
 */
static int intermediate_tables_shared_check(void) {
    const uint64_t virt[5] = {0x400000, 0x401000, 0x600000, 0x40000000, 0xffff800000000000};
    const size_t new_tables[5] = {3, 0, 1, 2, 3};
    setup();

    for (int i = 0; i < 5; i++) {
        size_t before = frames.allocations;
        ASSERT_EQ(PAGING_OK, paging_map_page(&m, virt[i], FRAME_A + (uint64_t)i * 0x1000, 0));
        ASSERT_EQ(new_tables[i], frames.allocations - before);
    }
    ASSERT_EQ(*raw_entry(virt[0], 2), *raw_entry(virt[1], 2));
    ASSERT_TRUE(*raw_entry(virt[0], 2) != *raw_entry(virt[2], 2));
    struct census c = take_census();
    ASSERT_EQ(10, c.tables);
    ASSERT_EQ(5, c.leaves);
    ASSERT_EQ(9, frames.outstanding);
    return 0;
}

/*
 * The frame source hands out frames full of SIM_GARBAGE (0xA5: present and PS bits set).
 * Expect every entry of the three new tables to be zero except the one on the path.
 */
static int new_tables_zeroed_check(void) {
    const uint64_t virt = 0x0000123456789000;
    setup();

    ASSERT_EQ(PAGING_OK, paging_map_page(&m, virt, FRAME_A, 0));
    for (int level = 3; level >= 1; level--) {
        uint64_t *t = raw_entry(virt, level) - idx(virt, level);
        for (unsigned i = 0; i < 512; i++) {
            if (i != idx(virt, level)) {
                ASSERT_EQ(0, t[i]);
            }
        }
    }
    return 0;
}

/*
 * Map 0x400000 twice, to FRAME_A then FRAME_B.
 * Expect the second map to fail with PAGING_ERR_ALREADY_MAPPED, take no frame, and leave the
 * page on FRAME_A.
 */
static int already_mapped_check(void) {
    struct paging_translation t;
    setup();

    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, 0));
    size_t taken = frames.allocations;
    ASSERT_EQ(PAGING_ERR_ALREADY_MAPPED,
              paging_map_page(&m, 0x400000, FRAME_B, PAGING_FLAG_WRITABLE));
    ASSERT_EQ(taken, frames.allocations);
    ASSERT_EQ(PAGING_OK, paging_translate(&m, 0x400000, &t));
    ASSERT_EQ(FRAME_A, t.phys);
    ASSERT_EQ(PAGING_FLAG_PRESENT, t.flags);
    ASSERT_EQ(0, sim.flush_count);
    return 0;
}

/*
 * A hand-made 2 MiB page:
 *
 *   PML4[0] -> PDPT@0x2000 [0] -> PD@0x3000 [1] = 0x80000000 | PAT | P | W | PS
 *                                            (virt [0x200000, 0x400000) -> 2 MiB at 0x80000000)
 *
 * (bit 12 is PAT in a 2 MiB entry: translate must not take it for an address bit.)
 * Expect map and unmap of a 4 KiB page inside it to fail with PAGING_ERR_PARENT_HUGE_PAGE
 * without taking a frame or touching the entry, and translate to go through it.
 */
static int parent_huge_page_2m_check(void) {
    struct paging_translation t;
    uint64_t phys;
    setup();
    table(ROOT)[0] = 0x2000 | PAGING_TABLE_FLAGS;
    sim_zero_table(&sim, 0x2000)[0] = 0x3000 | PAGING_TABLE_FLAGS;
    const uint64_t pat = UINT64_C(1) << 12; /* PAT of a 2 MiB page, not an address bit */
    uint64_t huge = 0x80000000 | pat | PAGING_TABLE_FLAGS | PAGING_FLAG_HUGE_PAGE;
    sim_zero_table(&sim, 0x3000)[1] = huge;

    ASSERT_EQ(PAGING_ERR_PARENT_HUGE_PAGE, paging_map_page(&m, 0x201000, FRAME_A, 0));
    ASSERT_EQ(PAGING_ERR_PARENT_HUGE_PAGE, paging_unmap_page(&m, 0x201000, &phys));
    ASSERT_EQ(0, frames.allocations);
    ASSERT_EQ(huge, table(0x3000)[1]);
    ASSERT_EQ(0, sim.flush_count);
    ASSERT_EQ(PAGING_OK, paging_translate(&m, 0x234567, &t));
    ASSERT_EQ(0x80034567, t.phys);
    ASSERT_EQ(PAGING_LARGE_PAGE_SIZE, t.page_size);
    ASSERT_EQ(pat | PAGING_TABLE_FLAGS | PAGING_FLAG_HUGE_PAGE, t.flags);
    return 0;
}

/*
 * A hand-made 1 GiB page:  PML4[0] -> PDPT@0x2000 [1] = 0x140000000 | P | W | PS
 * (virt [1 GiB, 2 GiB) -> [5 GiB, 6 GiB)).
 * Expect PAGING_ERR_PARENT_HUGE_PAGE for a 4 KiB map inside it and a 1 GiB translation.
 */
static int parent_huge_page_1g_check(void) {
    struct paging_translation t;
    setup();
    table(ROOT)[0] = 0x2000 | PAGING_TABLE_FLAGS;
    sim_zero_table(&sim, 0x2000)[1] = 0x140000000 | PAGING_TABLE_FLAGS | PAGING_FLAG_HUGE_PAGE;

    ASSERT_EQ(PAGING_ERR_PARENT_HUGE_PAGE, paging_map_page(&m, GiB + 0x5000, FRAME_A, 0));
    ASSERT_EQ(0, frames.allocations);
    ASSERT_EQ(PAGING_OK, paging_translate(&m, GiB + 0x12345678, &t));
    ASSERT_EQ(0x140000000 + 0x12345678, t.phys);
    ASSERT_EQ(PAGING_HUGE_PAGE_SIZE, t.page_size);
    return 0;
}

/*
 * The frame source fails after 0, 1 or 2 frames while a map needs 3 (PDPT, PD, PT), then after
 * 0 or 1 while a map needs 2 (PD, PT) under an existing PDPT:
 *
 *   budget 0: fails at the PDPT    budget 1: fails at the PD    budget 2: fails at the PT
 *
 * Expect PAGING_ERR_FRAME_ALLOCATION_FAILED each time, every frame taken given back, the tables
 * byte for byte as before, and no TLB flush; with enough budget the map succeeds.
 */
static int frame_failure_at_each_level_check(void) {
    static struct snapshot before_storage;
    static struct snapshot after_storage;
    struct snapshot *before = &before_storage;
    struct snapshot *after = &after_storage;
    setup();

    for (long budget = 0; budget < 3; budget++) {
        take_snapshot(before);
        frames.budget = budget;
        ASSERT_EQ(PAGING_ERR_FRAME_ALLOCATION_FAILED, paging_map_page(&m, 0x400000, FRAME_A, 0));
        ASSERT_EQ(0, frames.outstanding);
        ASSERT_EQ((size_t)(budget * (budget + 1) / 2), frames.allocations); /* 0, 1, 3 */
        take_snapshot(after);
        ASSERT_TRUE(same_snapshot(before, after));
    }

    frames.budget = SIM_UNLIMITED;
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, 0));
    size_t outstanding = frames.outstanding;
    for (long budget = 0; budget < 2; budget++) {
        take_snapshot(before);
        frames.budget = budget;
        ASSERT_EQ(PAGING_ERR_FRAME_ALLOCATION_FAILED,
                  paging_map_page(&m, 0x40000000, FRAME_B, 0)); /* PDPT 1: new PD + PT */
        ASSERT_EQ(outstanding, frames.outstanding);
        take_snapshot(after);
        ASSERT_TRUE(same_snapshot(before, after));
    }
    frames.budget = 2;
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x40000000, FRAME_B, 0));
    ASSERT_EQ(outstanding + 2, frames.outstanding);
    ASSERT_EQ(0, frames.bad_frees);
    ASSERT_EQ(0, sim.flush_count);
    return 0;
}

/*
 * Map 0x400000 -> FRAME_A, then unmap it.
 * Expect FRAME_A back, exactly one TLB flush and of 0x400000, the page no longer translated,
 * and a second map there to take no new table.
 */
static int unmap_returns_frame_and_flushes_check(void) {
    struct paging_translation t;
    uint64_t phys = 0;
    setup();
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, PAGING_FLAG_WRITABLE));

    ASSERT_EQ(PAGING_OK, paging_unmap_page(&m, 0x400000, &phys));
    ASSERT_EQ(FRAME_A, phys);
    ASSERT_EQ(1, sim.flush_count);
    ASSERT_EQ(1, sim_flush_count_of(&sim, 0x400000));
    ASSERT_EQ(PAGING_ERR_NOT_MAPPED, paging_translate(&m, 0x400000, &t));
    ASSERT_EQ(0, *raw_entry(0x400000, 1));
    size_t taken = frames.allocations;
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_B, 0));
    ASSERT_EQ(taken, frames.allocations);
    return 0;
}

/*
 * Unmap where nothing is mapped: first with no tables at all, then next to a mapped page
 * (tables present, PT entry empty), then the same page twice.
 * Expect PAGING_ERR_NOT_MAPPED each time and no flush beyond the one real unmap.
 */
static int unmap_not_mapped_check(void) {
    setup();

    ASSERT_EQ(PAGING_ERR_NOT_MAPPED, paging_unmap_page(&m, 0x400000, NULL));
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, 0));
    ASSERT_EQ(PAGING_ERR_NOT_MAPPED, paging_unmap_page(&m, 0x401000, NULL));
    ASSERT_EQ(PAGING_OK, paging_unmap_page(&m, 0x400000, NULL));
    ASSERT_EQ(PAGING_ERR_NOT_MAPPED, paging_unmap_page(&m, 0x400000, NULL));
    ASSERT_EQ(1, sim.flush_count);
    return 0;
}

/*
 * Addresses in the non-canonical hole [0x0000800000000000, 0xffff800000000000), and the two
 * canonical addresses beside it.
 * Expect PAGING_ERR_NON_CANONICAL from map, unmap and translate with no frame taken; the last
 * lower-half page and the first higher-half page map, into PML4 entries 255 and 256.
 */
static int non_canonical_rejected_check(void) {
    const uint64_t hole[3] = {0x0000800000000000, 0x1234000000000000, 0xffff7ffffffff000};
    struct paging_translation t;
    setup();

    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(PAGING_ERR_NON_CANONICAL, paging_map_page(&m, hole[i], FRAME_A, 0));
        ASSERT_EQ(PAGING_ERR_NON_CANONICAL, paging_unmap_page(&m, hole[i], NULL));
        ASSERT_EQ(PAGING_ERR_NON_CANONICAL, paging_translate(&m, hole[i], &t));
        ASSERT_FALSE(paging_is_canonical(hole[i]));
    }
    ASSERT_EQ(0, frames.allocations);
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x00007ffffffff000, FRAME_A, 0));
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0xffff800000000000, FRAME_B, 0));
    ASSERT_TRUE((table(ROOT)[255] & PAGING_FLAG_PRESENT) != 0);
    ASSERT_TRUE((table(ROOT)[256] & PAGING_FLAG_PRESENT) != 0);
    ASSERT_EQ(PAGING_OK, paging_translate(&m, 0xffff800000000abc, &t));
    ASSERT_EQ(FRAME_B + 0xabc, t.phys);
    return 0;
}

/*
 * Virtual or physical address off by 0x800, and an unmap of an unaligned address.
 * Expect PAGING_ERR_MISALIGNED with no frame taken.
 */
static int misaligned_rejected_check(void) {
    setup();

    ASSERT_EQ(PAGING_ERR_MISALIGNED, paging_map_page(&m, 0x400800, FRAME_A, 0));
    ASSERT_EQ(PAGING_ERR_MISALIGNED, paging_map_page(&m, 0x400000, FRAME_A + 0x800, 0));
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, 0));
    ASSERT_EQ(PAGING_ERR_MISALIGNED, paging_unmap_page(&m, 0x400800, NULL));
    ASSERT_EQ(3, frames.allocations);
    return 0;
}

/*
 * Physical address 2^52 (one past the last) and 2^52 - 4 KiB (the last frame).
 * Expect PAGING_ERR_PHYS_OUT_OF_RANGE for the first; the second maps.
 */
static int phys_out_of_range_check(void) {
    setup();

    ASSERT_EQ(PAGING_ERR_PHYS_OUT_OF_RANGE, paging_map_page(&m, 0x400000, PAGING_PHYS_LIMIT, 0));
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, PAGING_PHYS_LIMIT - 0x1000, 0));
    return 0;
}

/*
 * Flags carrying an address bit (bit 12), the PS/PAT bit, or a protection-key bit.
 * Expect PAGING_ERR_INVALID_FLAGS with no frame taken.
 */
static int invalid_flags_rejected_check(void) {
    setup();

    ASSERT_EQ(PAGING_ERR_INVALID_FLAGS, paging_map_page(&m, 0x400000, FRAME_A, 0x1000));
    ASSERT_EQ(PAGING_ERR_INVALID_FLAGS,
              paging_map_page(&m, 0x400000, FRAME_A, PAGING_FLAG_HUGE_PAGE));
    ASSERT_EQ(PAGING_ERR_INVALID_FLAGS, paging_map_page(&m, 0x400000, FRAME_A, UINT64_C(1) << 59));
    ASSERT_EQ(0, frames.allocations);
    return 0;
}

/*
 * A kernel page at 0x400000 creates P|W intermediates; a user page at 0x401000 then needs U on
 * them.
 * Expect the user map to set U on the PML4, PDPT and PD entries, flush the whole TLB once (no
 * single page), and leave the kernel leaf without U. A second user page under the same entries
 * needs no flush.
 */
static int widen_intermediates_for_user_check(void) {
    struct paging_translation t;
    setup();
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, PAGING_FLAG_WRITABLE));
    ASSERT_EQ(0, *raw_entry(0x400000, 4) & PAGING_FLAG_USER);

    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x401000, FRAME_B, PAGING_FLAG_USER));
    for (int level = 4; level >= 2; level--) {
        ASSERT_TRUE((*raw_entry(0x401000, level) & PAGING_FLAG_USER) != 0);
    }
    ASSERT_EQ(1, sim.flush_all_count);
    ASSERT_EQ(0, sim.flush_count);
    ASSERT_EQ(PAGING_OK, paging_translate(&m, 0x400000, &t));
    ASSERT_EQ(0, t.flags & PAGING_FLAG_USER);
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x402000, FRAME_B, PAGING_FLAG_USER));
    ASSERT_EQ(1, sim.flush_all_count);
    ASSERT_EQ(0, sim.flush_count);
    return 0;
}

/* True when a walk for @virt forbids execution: the CPU does when NX is set at any level. */
static bool walk_forbids_execution(uint64_t virt) {
    for (int level = 4; level >= 1; level--) {
        uint64_t *e = raw_entry(virt, level);
        if (e == NULL || (*e & PAGING_FLAG_PRESENT) == 0) {
            abort();
        }
        if ((*e & PAGING_FLAG_NO_EXECUTE) != 0) {
            return true;
        }
    }
    return false;
}

/*
 * A non-executable page at 0x400000, then executable pages beside it: 0x40000000 (same PML4
 * entry, a new PD and PT), 0x600000 (same PDPT entry, a new PT) and 0x401000 (same PD entry).
 * First through the mapper's own tables, then under a PML4, PDPT and PD entry that were built
 * with NX by someone else (as a loader or an earlier kernel may leave them).
 * Expect the walk to forbid execution of 0x400000 and allow it for every executable page: the
 * leaf decides. In the second round each executable page clears the NX of one more level, each
 * time with a whole-TLB flush; a later executable page under the same entries needs no flush.
 */
static int leaf_decides_execution_check(void) {
    const uint64_t data = 0x400000;
    const uint64_t code[3] = {0x40000000, 0x600000, 0x401000};
    for (int prebuilt = 0; prebuilt < 2; prebuilt++) {
        setup();
        if (prebuilt) {
            uint64_t *pdpt = sim_zero_table(&sim, 0x2000);
            uint64_t *pd = sim_zero_table(&sim, 0x3000);
            uint64_t *pt = sim_zero_table(&sim, 0x4000);
            const uint64_t nx_table = PAGING_TABLE_FLAGS | PAGING_FLAG_NO_EXECUTE;
            table(ROOT)[0] = 0x2000 | nx_table;
            pdpt[0] = 0x3000 | nx_table;
            pd[2] = 0x4000 | nx_table;
            pt[0] = FRAME_A | PAGING_FLAG_PRESENT | PAGING_FLAG_NO_EXECUTE;
        } else {
            ASSERT_EQ(PAGING_OK, paging_map_page(&m, data, FRAME_A, PAGING_FLAG_NO_EXECUTE));
        }
        ASSERT_TRUE(walk_forbids_execution(data));
        for (int i = 0; i < 3; i++) {
            ASSERT_EQ(PAGING_OK, paging_map_page(&m, code[i], FRAME_B, 0));
            ASSERT_FALSE(walk_forbids_execution(code[i]));
            ASSERT_TRUE(walk_forbids_execution(data));
            ASSERT_EQ(prebuilt ? (size_t)i + 1 : 0, sim.flush_all_count);
        }
        ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x402000, FRAME_B, 0));
        ASSERT_EQ(prebuilt ? 3 : 0, sim.flush_all_count);
        ASSERT_EQ(0, sim.flush_count);
    }
    return 0;
}

/* True when a walk for @virt allows writes: the CPU does only when W is set at every level. */
static bool walk_allows_writes(uint64_t virt) {
    for (int level = 4; level >= 1; level--) {
        uint64_t *e = raw_entry(virt, level);
        if (e == NULL || (*e & PAGING_FLAG_PRESENT) == 0) {
            abort();
        }
        if ((*e & PAGING_FLAG_WRITABLE) == 0) {
            return false;
        }
    }
    return true;
}

/*
 * A PML4, PDPT and PD entry built read-only by someone else, write-protecting everything under
 * them, among it a leaf at 0x400000 that carries W itself:
 *
 *   PML4[0] P -> PDPT@0x2000 [0] P -> PD@0x3000 [2] P -> PT@0x4000 [0] = FRAME_A | P | W
 *
 * Map read-only pages beside it: 0x401000 (same PT), 0x600000 (new PT), 0x40000000 (new PD, PT).
 * Expect the old entries untouched (a read-only leaf needs no W above it), so 0x400000 stays
 * write-protected, no TLB flush, and each new page read-only; then a writable page at 0x402000
 * widens the three entries (its W is what it asks for), with one whole-TLB flush.
 */
static int read_only_leaf_keeps_tables_read_only_check(void) {
    const uint64_t read_only[3] = {0x401000, 0x600000, 0x40000000};
    setup();
    table(ROOT)[0] = 0x2000 | PAGING_FLAG_PRESENT;
    sim_zero_table(&sim, 0x2000)[0] = 0x3000 | PAGING_FLAG_PRESENT;
    sim_zero_table(&sim, 0x3000)[2] = 0x4000 | PAGING_FLAG_PRESENT;
    sim_zero_table(&sim, 0x4000)[0] = FRAME_A | PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE;
    ASSERT_FALSE(walk_allows_writes(0x400000));

    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(PAGING_OK, paging_map_page(&m, read_only[i], FRAME_B, 0));
        ASSERT_FALSE(walk_allows_writes(read_only[i]));
        ASSERT_FALSE(walk_allows_writes(0x400000));
    }
    ASSERT_EQ(0x2000 | PAGING_FLAG_PRESENT, table(ROOT)[0]);
    ASSERT_EQ(0x3000 | PAGING_FLAG_PRESENT, table(0x2000)[0]);
    ASSERT_EQ(0x4000 | PAGING_FLAG_PRESENT, table(0x3000)[2]);
    ASSERT_EQ(0, sim.flush_count);
    ASSERT_EQ(0, sim.flush_all_count);

    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x402000, FRAME_B, PAGING_FLAG_WRITABLE));
    ASSERT_TRUE(walk_allows_writes(0x402000));
    ASSERT_EQ(1, sim.flush_all_count);
    ASSERT_EQ(0, sim.flush_count);
    return 0;
}

/*
 * Read-only entries built by someone else at each level, over writable leaves that they
 * write-protect; the CPU may have cached those leaves' translations read-only:
 *
 *   PML4[0] P -> PDPT@0x2000
 *     PDPT[0] P -> PD@0x3000
 *       PD[2] P   -> PT@0x4000 [0] = FRAME_A | P | W   0x400000    under PML4[0], PDPT[0], PD[2]
 *       PD[3] P|W -> PT@0x5000 [0] = FRAME_A | P | W   0x600000    under PML4[0], PDPT[0]
 *     PDPT[1] P|W -> PD@0x6000 [0] P|W -> PT@0x7000
 *                                [0] = FRAME_A | P | W   0x40000000  under PML4[0]
 *
 * A writable page at 0x402000 widens PML4[0], PDPT[0] and PD[2]: each of the three old pages
 * becomes writable, though none was mapped by this call. A write to one through a stale
 * read-only translation would be a spurious page fault (Intel SDM vol. 3A, 4.10.4.3), which the
 * kernel takes as fatal.
 * Expect every old page writable now and its cached translation invalidated (a whole-TLB flush,
 * or a flush of that page); then a range of two writable pages whose walk widens PD[3]: one
 * whole-TLB flush for the range; a writable page under entries already wide: no flush at all.
 */
static int widening_invalidates_pages_under_the_entry_check(void) {
    const uint64_t old_pages[3] = {0x400000, 0x600000, 0x40000000};
    const uint64_t writable_leaf = FRAME_A | PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE;
    setup();
    table(ROOT)[0] = 0x2000 | PAGING_FLAG_PRESENT;
    uint64_t *pdpt = sim_zero_table(&sim, 0x2000);
    uint64_t *pd = sim_zero_table(&sim, 0x3000);
    pdpt[0] = 0x3000 | PAGING_FLAG_PRESENT;
    pd[2] = 0x4000 | PAGING_FLAG_PRESENT;
    sim_zero_table(&sim, 0x4000)[0] = writable_leaf;
    pd[3] = 0x5000 | PAGING_TABLE_FLAGS;
    sim_zero_table(&sim, 0x5000)[0] = writable_leaf;
    pdpt[1] = 0x6000 | PAGING_TABLE_FLAGS;
    sim_zero_table(&sim, 0x6000)[0] = 0x7000 | PAGING_TABLE_FLAGS;
    sim_zero_table(&sim, 0x7000)[0] = writable_leaf;
    for (int i = 0; i < 3; i++) {
        ASSERT_FALSE(walk_allows_writes(old_pages[i]));
    }

    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x402000, FRAME_B, PAGING_FLAG_WRITABLE));
    for (int i = 0; i < 3; i++) {
        ASSERT_TRUE(walk_allows_writes(old_pages[i]));
        ASSERT_TRUE(sim_tlb_invalidated(&sim, old_pages[i]));
    }

    pd[3] = 0x5000 | PAGING_FLAG_PRESENT; /* read-only again, as if built so */
    sim.flush_count = 0;
    sim.flush_all_count = 0;
    ASSERT_EQ(PAGING_OK, paging_map_range(&m, 0x601000, FRAME_B, 0x2000, PAGING_FLAG_WRITABLE));
    ASSERT_TRUE(walk_allows_writes(0x600000));
    ASSERT_TRUE(sim_tlb_invalidated(&sim, 0x600000));
    ASSERT_EQ(1, sim.flush_all_count);
    ASSERT_EQ(0, sim.flush_count);

    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x403000, FRAME_B, PAGING_FLAG_WRITABLE));
    ASSERT_EQ(1, sim.flush_all_count);
    ASSERT_EQ(0, sim.flush_count);
    return 0;
}

/*
 * Identity-map [1 MiB, 1.5 MiB): 128 pages.
 * Expect each page to translate to itself, 3 tables besides the root, and 128 leaves.
 */
static int identity_map_range_check(void) {
    struct paging_translation t;
    setup();

    ASSERT_EQ(PAGING_OK, paging_identity_map_range(&m, MiB, 512 * KiB, PAGING_FLAG_WRITABLE));
    for (uint64_t a = MiB; a < MiB + 512 * KiB; a += 0x1000) {
        ASSERT_EQ(PAGING_OK, paging_translate(&m, a + 0x10, &t));
        ASSERT_EQ(a + 0x10, t.phys);
    }
    ASSERT_EQ(PAGING_ERR_NOT_MAPPED, paging_translate(&m, MiB + 512 * KiB, &t));
    struct census c = take_census();
    ASSERT_EQ(4, c.tables);
    ASSERT_EQ(128, c.leaves);
    return 0;
}

/*
 * Map [0x1ff000, 0x201000): two pages on either side of a 2 MiB boundary, with a frame budget
 * of 3. The first page's tables take PDPT, PD and PT; the second needs a new PT and fails:
 *
 *   0x1ff000  PD[0] -> PT#1  linked, the page never mapped
 *   0x200000  PD[1] -> (no frame left)
 *
 * Expect PAGING_ERR_FRAME_ALLOCATION_FAILED, no page mapped and none flushed (the leaves are
 * written only once every page's tables are linked), and the three tables kept (documented):
 * mapping the first page again takes no frame.
 */
static int map_range_frames_run_out_check(void) {
    struct paging_translation t;
    setup();
    frames.budget = 3;

    ASSERT_EQ(PAGING_ERR_FRAME_ALLOCATION_FAILED,
              paging_map_range(&m, 0x1ff000, FRAME_A, 0x2000, PAGING_FLAG_WRITABLE));
    ASSERT_EQ(PAGING_ERR_NOT_MAPPED, paging_translate(&m, 0x1ff000, &t));
    ASSERT_EQ(0, sim.flush_count);
    ASSERT_EQ(3, frames.outstanding);
    ASSERT_EQ(0, take_census().leaves);
    frames.budget = 0;
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x1ff000, FRAME_A, 0));
    return 0;
}

/*
 * A PML4, PDPT and PD entry built with NX by someone else, so that nothing under them runs, over
 * a PT holding a leaf without NX of its own (0x402000) and a mapped page (0x401000):
 *
 *   PML4[0] P|W|NX -> PDPT@0x2000 [0] P|W|NX -> PD@0x3000 [2] P|W|NX -> PT@0x4000
 *     PT[1] = FRAME_B | P | NX       PT[2] = FRAME_A | P       (virt 0x401000, 0x402000)
 *
 * An executable map_range of [0x400000, 0x402000): its first page would need the NX above it
 * cleared, its second is already mapped, so the call fails. Then the same with the frame source
 * empty, over [0x5ff000, 0x601000): the first page under the old PD entry, the second needing a
 * new PT under PD[3].
 * Expect PAGING_ERR_ALREADY_MAPPED with the tables byte for byte as before, then
 * PAGING_ERR_FRAME_ALLOCATION_FAILED with the three old entries as before; 0x402000 still not
 * executable after each failure. With frames again the second range maps, both its pages
 * executable, with one whole-TLB flush for the entries the first page's walk widened (the second
 * page's path, under a new PT, widened nothing).
 */
static int map_range_failure_keeps_rights_check(void) {
    static struct snapshot before_storage;
    static struct snapshot after_storage;
    const uint64_t nx_table = PAGING_TABLE_FLAGS | PAGING_FLAG_NO_EXECUTE;
    setup();
    table(ROOT)[0] = 0x2000 | nx_table;
    sim_zero_table(&sim, 0x2000)[0] = 0x3000 | nx_table;
    sim_zero_table(&sim, 0x3000)[2] = 0x4000 | nx_table;
    uint64_t *pt = sim_zero_table(&sim, 0x4000);
    pt[1] = FRAME_B | PAGING_FLAG_PRESENT | PAGING_FLAG_NO_EXECUTE;
    pt[2] = FRAME_A | PAGING_FLAG_PRESENT;
    ASSERT_TRUE(walk_forbids_execution(0x402000));
    take_snapshot(&before_storage);

    ASSERT_EQ(PAGING_ERR_ALREADY_MAPPED, paging_map_range(&m, 0x400000, FRAME_A, 0x2000, 0));
    take_snapshot(&after_storage);
    ASSERT_TRUE(same_snapshot(&before_storage, &after_storage));
    ASSERT_TRUE(walk_forbids_execution(0x402000));

    frames.budget = 0;
    ASSERT_EQ(PAGING_ERR_FRAME_ALLOCATION_FAILED,
              paging_map_range(&m, 0x5ff000, FRAME_A, 0x2000, 0));
    ASSERT_EQ(0x2000 | nx_table, table(ROOT)[0]);
    ASSERT_EQ(0x3000 | nx_table, table(0x2000)[0]);
    ASSERT_EQ(0x4000 | nx_table, table(0x3000)[2]);
    ASSERT_TRUE(walk_forbids_execution(0x402000));
    ASSERT_EQ(0, frames.outstanding);

    frames.budget = SIM_UNLIMITED;
    size_t flushed = sim.flush_count;
    ASSERT_EQ(0, sim.flush_all_count);
    ASSERT_EQ(PAGING_OK, paging_map_range(&m, 0x5ff000, FRAME_A, 0x2000, 0));
    ASSERT_FALSE(walk_forbids_execution(0x5ff000));
    ASSERT_FALSE(walk_forbids_execution(0x600000));
    ASSERT_EQ(1, sim.flush_all_count);
    ASSERT_EQ(flushed, sim.flush_count);
    return 0;
}

/*
 * A not-present PT entry holding the kernel's own bits (P clear, the rest free for software: a
 * swap slot, say) at 0x5ff000, the first page of two ranges that fail on their second page:
 *
 *   PT[511] of PD[2] = 0x12345e00 (P = 0)     0x5ff000
 *   [0x600000, ...) mapped (0x600000), or under PD[3] with no PT yet and no frame to make one
 *
 * Expect PAGING_ERR_ALREADY_MAPPED, then PAGING_ERR_FRAME_ALLOCATION_FAILED, the entry holding
 * 0x12345e00 after each (the leaves are written only once nothing can fail), as after the same
 * refusal by paging_map_page().
 */
static int map_range_failure_keeps_not_present_entries_check(void) {
    const uint64_t kept = UINT64_C(0x12345e00);
    setup();
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x5fe000, FRAME_A, 0));
    *raw_entry(0x5ff000, 1) = kept;
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x600000, FRAME_B, 0));

    ASSERT_EQ(PAGING_ERR_ALREADY_MAPPED, paging_map_range(&m, 0x5ff000, FRAME_A, 0x2000, 0));
    ASSERT_EQ(kept, *raw_entry(0x5ff000, 1));
    ASSERT_EQ(PAGING_OK, paging_unmap_page(&m, 0x600000, NULL));

    /* Now 0x600000's PT exists but 0x800000's does not: a range over both runs out of frames. */
    frames.budget = 0;
    size_t flushed = sim.flush_count;
    ASSERT_EQ(PAGING_ERR_FRAME_ALLOCATION_FAILED,
              paging_map_range(&m, 0x5ff000, FRAME_A, 0x202000, 0));
    ASSERT_EQ(kept, *raw_entry(0x5ff000, 1));
    ASSERT_EQ(flushed, sim.flush_count);
    ASSERT_EQ(PAGING_ERR_ALREADY_MAPPED, paging_map_page(&m, 0x5fe000, FRAME_A, 0));
    ASSERT_EQ(kept, *raw_entry(0x5ff000, 1));
    return 0;
}

/*
 * A range of two pages whose first frame is the last below PAGING_PHYS_LIMIT (2^52) and whose
 * second is PAGING_PHYS_LIMIT itself: the first page maps, the second is out of range.
 * Expect PAGING_ERR_PHYS_OUT_OF_RANGE, as paging_map_page() gives for the second page, before
 * anything is done: no frame taken, no page mapped, nothing flushed.
 */
static int map_range_phys_out_of_range_check(void) {
    struct paging_translation t;
    setup();

    ASSERT_EQ(PAGING_ERR_PHYS_OUT_OF_RANGE,
              paging_map_range(&m, 0x400000, PAGING_PHYS_LIMIT - 0x1000, 0x2000, 0));
    ASSERT_EQ(PAGING_ERR_NOT_MAPPED, paging_translate(&m, 0x400000, &t));
    ASSERT_EQ(0, frames.allocations);
    ASSERT_EQ(0, sim.flush_count);
    return 0;
}

/*
 * A range of two pages with the PS/PAT bit in its flags, which no 4 KiB leaf takes. The flags
 * are the same for every page, so the first page already fails.
 * Expect PAGING_ERR_INVALID_FLAGS, as paging_map_page() gives, before any page is mapped: no
 * frame taken for a table.
 */
static int map_range_invalid_flags_check(void) {
    setup();

    ASSERT_EQ(PAGING_ERR_INVALID_FLAGS,
              paging_map_range(&m, 0x400000, FRAME_A, 0x2000, PAGING_FLAG_HUGE_PAGE));
    ASSERT_EQ(0, frames.allocations);
    return 0;
}

/*
 * A hand-made 2 MiB page at PD[1] under read-only PML4 and PDPT entries:
 *
 *   PML4[0] P -> PDPT@0x2000 [0] P -> PD@0x3000 [1] = 0x80000000 | P | W | PS
 *                                               (virt [0x200000, 0x400000) -> 2 MiB page)
 *
 * A writable range [0x1ff000, 0x201000): its first page maps under PD[0] (a new PT), its second
 * lies in the 2 MiB page.
 * Expect PAGING_ERR_PARENT_HUGE_PAGE, as paging_map_page() gives for the second page, before
 * anything is done: no frame taken for the first page's PT, no page mapped, nothing flushed, the
 * read-only PML4 and PDPT entries not widened.
 */
static int map_range_parent_huge_page_check(void) {
    struct paging_translation t;
    setup();
    table(ROOT)[0] = 0x2000 | PAGING_FLAG_PRESENT;
    sim_zero_table(&sim, 0x2000)[0] = 0x3000 | PAGING_FLAG_PRESENT;
    sim_zero_table(&sim, 0x3000)[1] = 0x80000000 | PAGING_TABLE_FLAGS | PAGING_FLAG_HUGE_PAGE;

    ASSERT_EQ(PAGING_ERR_PARENT_HUGE_PAGE,
              paging_map_range(&m, 0x1ff000, FRAME_A, 0x2000, PAGING_FLAG_WRITABLE));
    ASSERT_EQ(PAGING_ERR_NOT_MAPPED, paging_translate(&m, 0x1ff000, &t));
    ASSERT_EQ(0, frames.allocations);
    ASSERT_EQ(0, sim.flush_count);
    ASSERT_EQ(0x2000 | PAGING_FLAG_PRESENT, table(ROOT)[0]);
    ASSERT_EQ(0x3000 | PAGING_FLAG_PRESENT, table(0x2000)[0]);
    return 0;
}

/*
 * Range arguments: size not a multiple of 4 KiB, a virtual and a physical range wrapping past 2^64
 * (the latter by its size, as a frame that high is out of range first), size 0, a range
 * running from the last lower-half page into the non-canonical hole and one across the whole hole
 * (its first and last pages canonical), and arguments with more
 * than one error (a non-canonical address and a misaligned frame; size 0 with a non-canonical
 * address; a wrapping range whose frame is out of range).
 * Expect PAGING_ERR_MISALIGNED, PAGING_ERR_INVALID_ARGUMENT, PAGING_OK with nothing mapped,
 * PAGING_ERR_NON_CANONICAL with no frame taken, and for the others the error paging_map_page()
 * gives for the first page's arguments (its order: canonical, alignment, frame, flags).
 */
static int map_range_arguments_check(void) {
    setup();

    ASSERT_EQ(PAGING_ERR_MISALIGNED, paging_map_range(&m, 0x400000, FRAME_A, 0x1800, 0));
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT,
              paging_map_range(&m, 0xfffffffffffff000, FRAME_A, 0x2000, 0));
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_map_range(&m, 0, 0x2000, 0 - 0x1000, 0));
    ASSERT_EQ(PAGING_OK, paging_map_range(&m, 0x400000, FRAME_A, 0, 0));
    ASSERT_EQ(0, frames.allocations);
    ASSERT_EQ(PAGING_ERR_NON_CANONICAL,
              paging_map_range(&m, 0x00007ffffffff000, FRAME_A, 0x2000, 0));
    /* Across the whole hole, both ends canonical. */
    ASSERT_EQ(PAGING_ERR_NON_CANONICAL,
              paging_map_range(&m, 0x00007ffffffff000, FRAME_A,
                               0xffff800000001000 - 0x00007ffffffff000, 0));
    ASSERT_EQ(0, take_census().leaves);
    ASSERT_EQ(0, frames.allocations);

    const uint64_t hole = UINT64_C(0x0000800000000000);
    ASSERT_EQ(PAGING_ERR_NON_CANONICAL, paging_map_page(&m, hole, FRAME_A + 1, 0));
    ASSERT_EQ(PAGING_ERR_NON_CANONICAL, paging_map_range(&m, hole, FRAME_A + 1, 0x1000, 0));
    ASSERT_EQ(PAGING_ERR_NON_CANONICAL, paging_map_range(&m, hole, FRAME_A, 0, 0));
    ASSERT_EQ(PAGING_ERR_PHYS_OUT_OF_RANGE,
              paging_map_page(&m, 0xfffffffffffff000, PAGING_PHYS_LIMIT, 0));
    ASSERT_EQ(PAGING_ERR_PHYS_OUT_OF_RANGE,
              paging_map_range(&m, 0xfffffffffffff000, PAGING_PHYS_LIMIT, 0x2000, 0));
    ASSERT_EQ(0, frames.allocations);
    return 0;
}

/*
 * The last two pages of the address space, [2^64 - 8 KiB, 2^64): PML4, PDPT, PD and PT entry 511
 * each, a range that ends exactly at 2^64 (virt + size wraps to 0), then one page further.
 * Expect the range to map (its end is not a wrap), the last byte to translate, the walk to report
 * the last page at 0xfffffffffffff000, unmap to give its frame back, and a range of 2 pages from
 * the last page to be PAGING_ERR_INVALID_ARGUMENT with nothing mapped.
 */
static int map_range_to_top_of_address_space_check(void) {
    const uint64_t last = 0xfffffffffffff000;
    struct paging_translation t;
    uint64_t phys = 0;
    setup();

    ASSERT_EQ(PAGING_OK, paging_map_range(&m, last - 0x1000, FRAME_A, 0x2000, 0));
    ASSERT_EQ(PAGING_OK, paging_translate(&m, UINT64_MAX, &t));
    ASSERT_EQ(FRAME_B + 0xfff, t.phys);
    for (int level = 4; level >= 1; level--) {
        ASSERT_EQ(511, idx(last, level));
        ASSERT_TRUE((*raw_entry(last, level) & PAGING_FLAG_PRESENT) != 0);
    }
    struct census c = take_census();
    ASSERT_EQ(2, c.leaves);
    ASSERT_EQ(last, c.leaf[1].virt);
    ASSERT_EQ(PAGING_OK, paging_unmap_page(&m, last, &phys));
    ASSERT_EQ(FRAME_B, phys);

    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_map_range(&m, last, FRAME_A, 0x2000, 0));
    ASSERT_EQ(1, take_census().leaves);
    return 0;
}

/*
 * Tables holding a 4 KiB page, a hand-made 2 MiB page, a hand-made 1 GiB page and a higher-half
 * page.
 * Expect paging_walk to report the four leaves in address order with their virtual address,
 * physical address and size, and to stop when the callback returns false.
 */
static int walk_reports_leaves_check(void) {
    setup();
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, 0)); /* PML4 0, PDPT 0, PD 2 */
    uint64_t pd = *raw_entry(0x400000, 3) & PAGING_ADDRESS_MASK;     /* PDPT entry -> PD */
    table(pd)[3] = 0x80000000 | PAGING_TABLE_FLAGS | PAGING_FLAG_HUGE_PAGE; /* 0x600000 */
    uint64_t pdpt = *raw_entry(0x400000, 4) & PAGING_ADDRESS_MASK;          /* PML4 entry -> PDPT */
    table(pdpt)[2] = 0x100000000 | PAGING_TABLE_FLAGS | PAGING_FLAG_HUGE_PAGE; /* 2 GiB */
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0xffffffff80000000, FRAME_B, 0));

    struct census c = take_census();
    ASSERT_EQ(4, c.leaves);
    ASSERT_EQ(0x400000, c.leaf[0].virt);
    ASSERT_EQ(FRAME_A, c.leaf[0].phys);
    ASSERT_EQ(PAGING_PAGE_SIZE, c.leaf[0].size);
    ASSERT_EQ(0x600000, c.leaf[1].virt);
    ASSERT_EQ(0x80000000, c.leaf[1].phys);
    ASSERT_EQ(PAGING_LARGE_PAGE_SIZE, c.leaf[1].size);
    ASSERT_EQ(2 * GiB, c.leaf[2].virt);
    ASSERT_EQ(0x100000000, c.leaf[2].phys);
    ASSERT_EQ(PAGING_HUGE_PAGE_SIZE, c.leaf[2].size);
    ASSERT_EQ(0xffffffff80000000, c.leaf[3].virt);
    ASSERT_EQ(FRAME_B, c.leaf[3].phys);

    struct census partial;
    memset(&partial, 0, sizeof partial);
    partial.stop_after = 2;
    struct paging_walk_visitor v = {NULL, count_leaf, &partial};
    ASSERT_EQ(PAGING_OK, paging_walk(&m, &v));
    ASSERT_EQ(2, partial.leaves);
    return 0;
}

/*
 * 5000 random operations on 24 addresses chosen to share or split every level (two PML4
 * halves, several PDPT/PD/PT slots), with the frame source failing at random:
 *
 *   map (random budget 0..3) | unmap | translate      checked against a shadow array
 *
 * Expect after every step: each address translates exactly as the shadow says; the frames the
 * source has outstanding equal the tables the walk finds minus the root (no leak, no table
 * lost); no bad free; unmap flushes exactly once.
 */
static int random_operations_match_model_check(void) {
    enum { N = 24 };
    static const uint64_t base[6] = {0x0,          0x200000,           0x40000000,
                                     0x8000000000, 0xffff800000000000, 0xffffffff80000000};
    uint64_t addr[N];
    uint64_t shadow[N]; /* mapped frame, or 0 */
    for (int i = 0; i < N; i++) {
        addr[i] = base[i % 6] + (uint64_t)(i / 6) * 0x1000;
        shadow[i] = 0;
    }
    uint64_t state = 0xDEADBEEF;
    setup();

    for (int step = 0; step < 5000; step++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        int i = (int)(state % N);
        unsigned op = (unsigned)(state >> 8) % 3;
        uint64_t frame = FRAME_A + ((state >> 16) % 64) * 0x1000;
        if (op == 0) {
            frames.budget = (long)((state >> 32) % 4);
            enum paging_error r = paging_map_page(&m, addr[i], frame, PAGING_FLAG_WRITABLE);
            frames.budget = SIM_UNLIMITED;
            if (shadow[i] != 0) {
                ASSERT_EQ(PAGING_ERR_ALREADY_MAPPED, r);
            } else if (r == PAGING_OK) {
                shadow[i] = frame;
            } else {
                ASSERT_EQ(PAGING_ERR_FRAME_ALLOCATION_FAILED, r);
            }
        } else if (op == 1) {
            uint64_t phys = 0;
            size_t flushes = sim.flush_count;
            enum paging_error r = paging_unmap_page(&m, addr[i], &phys);
            if (shadow[i] != 0) {
                ASSERT_EQ(PAGING_OK, r);
                ASSERT_EQ(shadow[i], phys);
                ASSERT_EQ(flushes + 1, sim.flush_count);
                shadow[i] = 0;
            } else {
                ASSERT_EQ(PAGING_ERR_NOT_MAPPED, r);
                ASSERT_EQ(flushes, sim.flush_count);
            }
        }
        for (int j = 0; j < N; j++) {
            struct paging_translation t;
            enum paging_error r = paging_translate(&m, addr[j] + 0x123, &t);
            if (shadow[j] != 0) {
                ASSERT_EQ(PAGING_OK, r);
                ASSERT_EQ(shadow[j] + 0x123, t.phys);
            } else {
                ASSERT_EQ(PAGING_ERR_NOT_MAPPED, r);
            }
        }
        struct census c = take_census();
        ASSERT_EQ(c.tables - 1, frames.outstanding);
        ASSERT_EQ(0, frames.bad_frees);
    }
    return 0;
}

/*
 * CR3 with PWT, PCD and a PCID in bits 0..11 and bit 63 (no-flush) set.
 * Expect the mapper to use the PML4 at ROOT all the same.
 */
static int cr3_flag_bits_ignored_check(void) {
    setup();
    struct paging_hw hw = sim_hw(&sim);
    struct paging_frame_source source = sim_frames_source(&frames);
    ASSERT_EQ(PAGING_OK,
              paging_mapper_init(&m, ROOT | 0x18 | 0x5 | (UINT64_C(1) << 63), &hw, &source));

    ASSERT_EQ(ROOT, m.root_phys);
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, 0));
    ASSERT_TRUE((table(ROOT)[0] & PAGING_FLAG_PRESENT) != 0);
    return 0;
}

/*
 * paging_mapper_init with a NULL mapper, hw or source, or a missing callback.
 * Expect PAGING_ERR_INVALID_ARGUMENT each time.
 */
static int init_rejects_missing_callbacks_check(void) {
    setup();
    struct paging_mapper other;
    struct paging_hw hw = sim_hw(&sim);
    struct paging_frame_source source = sim_frames_source(&frames);

    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_mapper_init(NULL, ROOT, &hw, &source));
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_mapper_init(&other, ROOT, NULL, &source));
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_mapper_init(&other, ROOT, &hw, NULL));
    hw.flush_tlb_page = NULL;
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_mapper_init(&other, ROOT, &hw, &source));
    hw = sim_hw(&sim);
    hw.flush_tlb_all = NULL;
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_mapper_init(&other, ROOT, &hw, &source));
    hw = sim_hw(&sim);
    hw.phys_to_virt = NULL;
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_mapper_init(&other, ROOT, &hw, &source));
    hw = sim_hw(&sim);
    source.free = NULL;
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_mapper_init(&other, ROOT, &hw, &source));
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_translate(&m, 0, NULL));
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_walk(&m, NULL));
    return 0;
}

/*
 * Each public call on a mapper given a NULL mapper and otherwise valid arguments: an aligned,
 * canonical page and frame, a translation to fill, a visitor.
 * Expect PAGING_ERR_INVALID_ARGUMENT from each (mapper.h), not a NULL dereference.
 */
static int null_mapper_rejected_check(void) {
    struct paging_translation t;
    struct census c;
    memset(&c, 0, sizeof c);
    struct paging_walk_visitor v = {count_table, count_leaf, &c};
    uint64_t phys = 0;

    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_map_page(NULL, 0x400000, FRAME_A, 0));
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_unmap_page(NULL, 0x400000, &phys));
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_translate(NULL, 0x400000, &t));
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_map_range(NULL, 0x400000, FRAME_A, 0x2000, 0));
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_identity_map_range(NULL, MiB, 0x2000, 0));
    ASSERT_EQ(PAGING_ERR_INVALID_ARGUMENT, paging_walk(NULL, &v));
    return 0;
}

/*
 * The frame source returns a frame 8 bytes off alignment, then an aligned one PAGING_PHYS_LIMIT
 * above a good frame (a broken source), each for a fresh mapper.
 * Expect the panic hook to be called each time with a message naming paging_map_page.
 */
static int misaligned_table_frame_panics_check(void) {
    static const uint64_t broken[] = {8, PAGING_PHYS_LIMIT};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        jmp_buf jump;
        setup();
        sim.panic_jump = &jump;
        frames.misalign_next = broken[i];
        if (setjmp(jump) == 0) {
            paging_map_page(&m, 0x400000, FRAME_A, 0);
            ASSERT_TRUE(!"paging_map_page returned instead of panicking");
        }
        sim.panic_jump = NULL; /* jump dies with this iteration */
        ASSERT_TRUE(sim.panic_message != NULL);
        ASSERT_TRUE(strstr(sim.panic_message, "paging_map_page") != NULL);
    }
    return 0;
}

/* The simulated memory's phys_to_virt, but NULL outside that memory (where sim_phys_to_virt
 * aborts): a frame the mapper should have refused then ends in its panic hook, through table_at,
 * rather than in an abort of the whole test. */
static void *bounded_phys_to_virt(void *ctx, uint64_t phys) {
    struct sim *s = ctx;
    return phys < s->mem_size ? sim_phys_to_virt(s, phys) : NULL;
}

/*
 * The frame source returns an aligned frame at exactly PAGING_PHYS_LIMIT (2^52), the first address
 * past the 52-bit range, for the PDPT of a fresh mapper's first mapping (the source's first frame,
 * POOL_START, moved there with misalign_next), with phys_to_virt NULL outside the simulated memory.
 * Expect the panic hook called with a message naming paging_map_page: frame_source.h promises
 * frames below PAGING_PHYS_LIMIT, so one at it is refused as out of range before the mapper
 * zeroes it, as one above it is (misaligned_table_frame_panics_check), and not left to fail in
 * phys_to_virt ("table_at: phys_to_virt returned NULL").
 */
static int table_frame_at_phys_limit_panics_check(void) {
    jmp_buf jump;
    setup();
    struct paging_hw hw = sim_hw(&sim);
    hw.phys_to_virt = bounded_phys_to_virt;
    struct paging_frame_source source = sim_frames_source(&frames);
    ASSERT_EQ(PAGING_OK, paging_mapper_init(&m, ROOT, &hw, &source));
    ASSERT_EQ(POOL_START, frames.next);
    sim.panic_jump = &jump;
    frames.misalign_next = PAGING_PHYS_LIMIT - POOL_START;

    if (setjmp(jump) == 0) {
        paging_map_page(&m, 0x400000, FRAME_A, 0);
        ASSERT_TRUE(!"paging_map_page returned instead of panicking");
    }
    sim.panic_jump = NULL; /* jump dies with this frame */
    ASSERT_TRUE(sim.panic_message != NULL);
    ASSERT_TRUE(strstr(sim.panic_message, "paging_map_page") != NULL);
    return 0;
}

/*
 * phys_to_virt returns NULL for the root table.
 * Expect the panic hook to be called rather than a NULL dereference.
 */
static int null_phys_to_virt_panics_check(void) {
    jmp_buf jump;
    struct paging_translation t;
    setup();
    struct paging_hw hw = sim_hw(&sim);
    hw.phys_to_virt = sim_null_phys_to_virt;
    struct paging_frame_source source = sim_frames_source(&frames);
    ASSERT_EQ(PAGING_OK, paging_mapper_init(&m, ROOT, &hw, &source));
    sim.panic_jump = &jump;

    if (setjmp(jump) == 0) {
        paging_translate(&m, 0x400000, &t);
        ASSERT_TRUE(!"paging_translate returned instead of panicking");
    }
    sim.panic_jump = NULL; /* jump dies with this frame */
    ASSERT_TRUE(sim.panic_message != NULL);
    ASSERT_TRUE(strstr(sim.panic_message, "table_at: phys_to_virt returned NULL") ==
                sim.panic_message);
    return 0;
}

/*
 * The kernel's heap_init in miniature: a frame allocator over simulated memory
 *
 *   [0, 1 MiB) low memory   [1 MiB, 1.5 MiB) "kernel" (reserved)   [1.5 MiB, 8 MiB) usable
 *
 * is the mapper's frame source, and also gives the 1000 data frames that back the heap pages
 * [0x8000000, 0x8000000 + 1000 * 4 KiB).
 * Expect every heap page to translate to the frame it was given, the allocator to count the
 * 1000 data frames plus 4 tables (PDPT, PD, 2 PTs), and unmapping + freeing every page to bring
 * the count back to the 4 tables with frame_allocator_check() passing throughout.
 */
static int heap_over_frame_allocator_check(void) {
    const uint64_t heap = 0x8000000;
    const uint64_t pages = 1000;
    struct frame_allocator fa;
    struct frame_allocator_usable_region usable[] = {{0, 0x9f000}, {MiB, 7 * MiB}};
    struct frame_allocator_reserved_range reserved[] = {{MiB, MiB + 512 * KiB}};
    struct sim big;
    sim_init(&big, 8 * MiB);
    sim_zero_table(&big, ROOT);
    struct frame_allocator_config cfg = sim_carving_config(&big, usable, 2, reserved, 1);
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&fa, &cfg));
    struct paging_hw hw = sim_hw(&big);
    struct paging_frame_source source = frame_allocator_frame_source(&fa);
    struct paging_mapper heap_mapper;
    ASSERT_EQ(PAGING_OK, paging_mapper_init(&heap_mapper, ROOT, &hw, &source));
    uint64_t tables_before = frame_allocator_stats(&fa).allocated_frames;

    for (uint64_t i = 0; i < pages; i++) {
        uint64_t frame = frame_allocator_allocate(&fa);
        ASSERT_TRUE(frame != FRAME_ALLOCATOR_NO_FRAME);
        ASSERT_EQ(PAGING_OK, paging_map_page(&heap_mapper, heap + i * 0x1000, frame,
                                             PAGING_FLAG_WRITABLE | PAGING_FLAG_NO_EXECUTE));
        struct paging_translation t;
        ASSERT_EQ(PAGING_OK, paging_translate(&heap_mapper, heap + i * 0x1000 + 8, &t));
        ASSERT_EQ(frame + 8, t.phys);
    }
    ASSERT_EQ(tables_before + pages + 4, frame_allocator_stats(&fa).allocated_frames);
    ASSERT_TRUE(frame_allocator_check(&fa));
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t frame;
        ASSERT_EQ(PAGING_OK, paging_unmap_page(&heap_mapper, heap + i * 0x1000, &frame));
        ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_free(&fa, frame));
    }
    ASSERT_EQ(tables_before + 4, frame_allocator_stats(&fa).allocated_frames);
    ASSERT_TRUE(frame_allocator_check(&fa));
    ASSERT_EQ(pages, big.flush_count);
    sim_destroy(&big);
    return 0;
}

/*
 * Every error value.
 * Expect the documented names, the project's naming rule (ASSERT_ERROR_NAMES), and "unknown
 * error" outside the enum.
 */
static int error_names_check(void) {
    ASSERT_STREQ("huge page on the way", paging_error_name(PAGING_ERR_PARENT_HUGE_PAGE));
    ASSERT_STREQ("re-entered", paging_error_name(PAGING_ERR_REENTERED));
    /* A value outside the enum, on purpose. */
    // NOLINTNEXTLINE(clang-analyzer-optin.core.EnumCastOutOfRange)
    ASSERT_STREQ("unknown error", paging_error_name((enum paging_error)77));
    ASSERT_ERROR_NAMES(paging_error_name, enum paging_error, PAGING_OK, PAGING_ERR_REENTERED);
    return 0;
}

/* Reinitialises the mapper of setup() with sim_hw_locked's counting lock. */
static void setup_locked(void) {
    setup();
    struct paging_hw hw = sim_hw_locked(&sim);
    struct paging_frame_source source = sim_frames_source(&frames);
    if (paging_mapper_init(&m, ROOT, &hw, &source) != PAGING_OK) {
        abort();
    }
}

/* Asserts that @call returned @expected having taken the lock exactly once, released it, and
 * called no hook (phys_to_virt, flush, frame allocate or free) outside it. */
#define ASSERT_LOCKED_ONCE(expected, call)                                                         \
    do {                                                                                           \
        size_t locks_ = sim.locks;                                                                 \
        ASSERT_EQ((expected), (call));                                                             \
        if (sim.unlocked_calls != 0) {                                                             \
            fprintf(stderr, "%s:%d: %s called without the lock\n", __FILE__, __LINE__,             \
                    sim.first_unlocked_call);                                                      \
        }                                                                                          \
        ASSERT_EQ(0, sim.unlocked_calls);                                                          \
        ASSERT_EQ(locks_ + 1, sim.locks);                                                          \
        ASSERT_EQ(sim.locks, sim.unlocks);                                                         \
        ASSERT_TRUE(!sim.lock_held);                                                               \
        ASSERT_EQ(0, sim.lock_misuses);                                                            \
    } while (0)

/*
 * A mapper with a lock (sim_hw_locked). Every public operation, on its success and its error
 * paths, in an order that makes each path reach the hooks it can: new tables (frame allocate),
 * a frame shortage after one frame (allocate, then free of that frame), a widening (flush_tlb_all),
 * an unmap (flush_tlb_page), a map_range that runs out of frames, a walk and translations.
 * Expect each call to take the lock once and release it, every hook call to come while it is held,
 * and the hooks really reached (allocations, frees, both flushes counted). A frame source call
 * made by the test itself, outside the mapper, is seen as unlocked: the watch works.
 */
static int lock_held_around_each_operation_check(void) {
    struct paging_translation t;
    setup_locked();

    ASSERT_LOCKED_ONCE(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, PAGING_FLAG_WRITABLE));
    ASSERT_EQ(3, frames.allocations);
    ASSERT_LOCKED_ONCE(PAGING_ERR_ALREADY_MAPPED, paging_map_page(&m, 0x400000, FRAME_B, 0));
    ASSERT_LOCKED_ONCE(PAGING_ERR_MISALIGNED, paging_map_page(&m, 0x400800, FRAME_B, 0));
    frames.budget = 1; /* a new PD and PT under the existing PDPT: the second frame fails */
    ASSERT_LOCKED_ONCE(PAGING_ERR_FRAME_ALLOCATION_FAILED,
                       paging_map_page(&m, 0x40000000, FRAME_B, 0));
    ASSERT_EQ(0, frames.outstanding - 3);
    frames.budget = SIM_UNLIMITED;
    ASSERT_LOCKED_ONCE(PAGING_OK, paging_map_page(&m, 0x401000, FRAME_B, PAGING_FLAG_USER));
    ASSERT_EQ(1, sim.flush_all_count); /* the widening */

    ASSERT_LOCKED_ONCE(PAGING_OK, paging_translate(&m, 0x401234, &t));
    ASSERT_LOCKED_ONCE(PAGING_ERR_NOT_MAPPED, paging_translate(&m, 0x402000, &t));
    ASSERT_LOCKED_ONCE(PAGING_ERR_INVALID_ARGUMENT, paging_translate(&m, 0x401000, NULL));

    ASSERT_LOCKED_ONCE(PAGING_OK, paging_unmap_page(&m, 0x401000, NULL));
    ASSERT_EQ(1, sim_flush_count_of(&sim, 0x401000));
    ASSERT_LOCKED_ONCE(PAGING_ERR_NOT_MAPPED, paging_unmap_page(&m, 0x401000, NULL));
    ASSERT_LOCKED_ONCE(PAGING_ERR_NON_CANONICAL,
                       paging_unmap_page(&m, UINT64_C(0x0000800000000000), NULL));

    /* [0x5ff000, 0x601000): the second page needs a new PT, which the empty source refuses; the
     * first page was never mapped, so nothing is flushed. */
    frames.budget = 0;
    ASSERT_LOCKED_ONCE(PAGING_ERR_FRAME_ALLOCATION_FAILED,
                       paging_map_range(&m, 0x5ff000, FRAME_A, 0x2000, 0));
    ASSERT_EQ(0, sim_flush_count_of(&sim, 0x5ff000));
    frames.budget = SIM_UNLIMITED;
    ASSERT_LOCKED_ONCE(PAGING_OK, paging_map_range(&m, 0x5ff000, FRAME_A, 0x2000, 0));
    ASSERT_LOCKED_ONCE(PAGING_ERR_MISALIGNED, paging_map_range(&m, 0x700000, FRAME_A, 0x800, 0));
    ASSERT_LOCKED_ONCE(PAGING_OK,
                       paging_map_range(&m, 0x600000 + 0x2000, FRAME_A, 0x1000, PAGING_FLAG_USER));
    ASSERT_EQ(2, sim.flush_all_count); /* the range's widening */
    ASSERT_LOCKED_ONCE(PAGING_OK, paging_identity_map_range(&m, 0x800000, 0x2000, 0));
    ASSERT_LOCKED_ONCE(PAGING_ERR_ALREADY_MAPPED,
                       paging_identity_map_range(&m, 0x800000, 0x1000, 0));

    struct census c;
    memset(&c, 0, sizeof c);
    struct paging_walk_visitor v = {count_table, count_leaf, &c};
    ASSERT_LOCKED_ONCE(PAGING_OK, paging_walk(&m, &v));
    ASSERT_EQ(6, c.leaves);

    struct paging_frame_source source = sim_frames_source(&frames);
    uint64_t frame;
    ASSERT_TRUE(source.allocate(source.ctx, &frame));
    ASSERT_EQ(1, sim.unlocked_calls);
    return 0;
}

static void dummy_lock(void *ctx) {
    (void)ctx;
}

static bool dummy_held(void *ctx) {
    (void)ctx;
    return false;
}

/*
 * Every choice of the lock's three hooks (lock, unlock, held), each given or not.
 * Expect paging_mapper_init to refuse with PAGING_ERR_INVALID_ARGUMENT each choice of one or two
 * of them, and to accept all three or none.
 */
static int init_rejects_half_lock_check(void) {
    setup();
    struct paging_frame_source source = sim_frames_source(&frames);
    struct paging_hw hw = sim_hw(&sim);
    for (unsigned given = 0; given < 8; given++) {
        hw.lock = (struct paging_lock){
            .lock = (given & 1) != 0 ? dummy_lock : NULL,
            .unlock = (given & 2) != 0 ? dummy_lock : NULL,
            .held = (given & 4) != 0 ? dummy_held : NULL,
        };
        enum paging_error expected =
            given == 0 || given == 7 ? PAGING_OK : PAGING_ERR_INVALID_ARGUMENT;
        ASSERT_EQ(expected, paging_mapper_init(&m, ROOT, &hw, &source));
    }
    return 0;
}

/* What the callbacks of a walk that re-enters the mapper did and got (reentry_walk_check). */
struct reentry {
    size_t tables;     /* table callbacks */
    size_t leaves;     /* leaf callbacks */
    size_t stop_after; /* the leaf callback stops the walk after this many leaves (0: never) */
    size_t calls;      /* public calls the callbacks made on the mapper */
    size_t refused;    /* those of them that returned PAGING_ERR_REENTERED */
    enum paging_error first_other; /* the first other result, for the report */
    size_t nested_visits;          /* callbacks of the walks the callbacks started */
    uint64_t phys;                 /* unmap's *phys_out */
    struct paging_translation t;   /* translate's *out */
};

#define UNTOUCHED UINT64_C(0x5a5a5a5a5a5a5a5a) /* in r.phys and r.t: no call wrote them */

static bool count_nested_visit(void *ctx, const struct paging_leaf *leaf) {
    (void)leaf;
    ((struct reentry *)ctx)->nested_visits++;
    return true;
}

static void note_reentry(struct reentry *r, enum paging_error got) {
    if (got == PAGING_ERR_REENTERED) {
        r->refused++;
    } else if (r->refused == r->calls) {
        r->first_other = got;
    }
    r->calls++;
}

/* Calls every public function on the mapper, each with arguments that would change or read the
 * tables of reentry_walk_check: a page needing a new PD and PT, a range, an identity range, the
 * unmap and the translation of a mapped page, a walk. */
static void call_every_function(struct reentry *r) {
    struct paging_walk_visitor nested = {NULL, count_nested_visit, r};
    note_reentry(r, paging_map_page(&m, 0x40000000, FRAME_B, PAGING_FLAG_WRITABLE));
    note_reentry(r, paging_map_range(&m, 0x600000, FRAME_B, 0x2000, 0));
    note_reentry(r, paging_identity_map_range(&m, 0x800000, 0x1000, 0));
    note_reentry(r, paging_unmap_page(&m, 0x400000, &r->phys));
    note_reentry(r, paging_translate(&m, 0x401000, &r->t));
    note_reentry(r, paging_walk(&m, &nested));
}

#define REENTRY_FUNCTIONS 6 /* the calls of call_every_function */

static bool reenter_from_table(void *ctx, int level, uint64_t phys) {
    (void)level;
    (void)phys;
    struct reentry *r = ctx;
    r->tables++;
    call_every_function(r);
    return true;
}

static bool reenter_from_leaf(void *ctx, const struct paging_leaf *leaf) {
    (void)leaf;
    struct reentry *r = ctx;
    r->leaves++;
    call_every_function(r);
    return r->stop_after == 0 || r->leaves < r->stop_after;
}

/* The body of the two re-entry checks below: the walk they describe, once to the end and once
 * stopped after the first leaf, each on a fresh machine (with sim_hw_locked's lock if @locked). */
static int reentry_walk_check(bool locked) {
    static struct snapshot before;
    static struct snapshot after;
    for (size_t stop_after = 0; stop_after < 2; stop_after++) {
        if (locked) {
            setup_locked();
        } else {
            setup();
        }
        ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, 0));
        ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x401000, FRAME_B, 0));
        take_snapshot(&before);
        size_t allocations = frames.allocations;
        size_t flushes = sim.flush_count;
        size_t locks = sim.locks;
        struct reentry r;
        memset(&r, 0, sizeof r);
        memset(&r.t, 0x5a, sizeof r.t);
        r.phys = UNTOUCHED;
        r.stop_after = stop_after;

        struct paging_walk_visitor v = {reenter_from_table, reenter_from_leaf, &r};
        ASSERT_EQ(PAGING_OK, paging_walk(&m, &v));
        if (r.refused != r.calls) {
            fprintf(stderr, "%s: a re-entering call returned \"%s\"\n", __func__,
                    paging_error_name(r.first_other));
        }
        ASSERT_EQ(4, r.tables);
        ASSERT_EQ(stop_after == 0 ? 2 : stop_after, r.leaves);
        ASSERT_EQ(REENTRY_FUNCTIONS * (r.tables + r.leaves), r.calls);
        ASSERT_EQ(r.calls, r.refused);
        ASSERT_EQ(0, r.nested_visits);
        ASSERT_EQ(UNTOUCHED, r.phys);
        ASSERT_EQ(UNTOUCHED, r.t.phys);
        ASSERT_EQ(UNTOUCHED, r.t.page_size);
        ASSERT_EQ(UNTOUCHED, r.t.flags);
        ASSERT_EQ(allocations, frames.allocations);
        ASSERT_EQ(flushes, sim.flush_count);
        ASSERT_EQ(0, sim.flush_all_count);
        if (locked) {
            ASSERT_EQ(locks + 1, sim.locks); /* the walk's own: no nested acquire */
            ASSERT_EQ(sim.locks, sim.unlocks);
            ASSERT_EQ(0, sim.lock_misuses);
            ASSERT_EQ(0, sim.lock_waits);
            ASSERT_FALSE(sim.lock_held);
        }
        take_snapshot(&after);
        ASSERT_TRUE(same_snapshot(&before, &after));

        /* The call over, the mapper takes calls again. */
        ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x40000000, FRAME_B, PAGING_FLAG_WRITABLE));
        ASSERT_EQ(PAGING_OK, paging_unmap_page(&m, 0x400000, NULL));
    }
    return 0;
}

/*
 * No lock. Two mapped pages, 0x400000 and 0x401000 under one PML4, PDPT, PD and PT, and a walk
 * whose table and leaf callbacks each call every public function on the mapper: map a page
 * needing new tables, map a range, identity-map a range, unmap and translate a mapped page, walk.
 * Expect every such call to return PAGING_ERR_REENTERED having done nothing: no frame taken, no
 * flush, the tables byte for byte as before, unmap's and translate's outputs unwritten, the
 * nested walk's callback never called; the walk itself to visit the 4 tables and both leaves, or
 * to stop after the first leaf when its callback says so; afterwards the mapper maps and unmaps.
 */
static int walk_callback_reentry_refused_check(void) {
    return reentry_walk_check(false);
}

/*
 * The same with a lock (sim_hw_locked), whose held hook says the walking CPU holds it.
 * Expect the same, and the lock taken once, by the walk: the refused calls never asked for it (a
 * spinlock would deadlock), so it saw no nested acquire, no wait, and is free afterwards.
 */
static int walk_callback_reentry_refused_locked_check(void) {
    return reentry_walk_check(true);
}

/* What the leaf callback of other_cpu_call_waits_for_lock_check saw. */
struct other_cpu {
    size_t leaves;
    enum paging_error own;   /* the walking CPU's call */
    bool other_returned;     /* whether CPU 1's call returned rather than wait */
    enum paging_error other; /* what it returned, then */
    struct paging_translation t;
};

static bool call_from_other_cpu(void *ctx, const struct paging_leaf *leaf) {
    struct other_cpu *o = ctx;
    jmp_buf wait;
    o->leaves++;
    o->own = paging_translate(&m, leaf->virt, &o->t);
    sim.cpu = 1;
    sim.lock_wait_jump = &wait;
    if (setjmp(wait) == 0) {
        o->other = paging_translate(&m, leaf->virt, &o->t);
        o->other_returned = true;
    }
    sim.lock_wait_jump = NULL; /* wait dies with this frame */
    sim.cpu = 0;
    return true;
}

/*
 * With a lock: while the leaf callback of a walk on CPU 0, which holds the lock, runs, CPU 1 (the
 * sim's cpu switched for the call) translates the same page: a concurrent call, not re-entry,
 * though the mapper is in the middle of a call.
 * Expect CPU 1's call to go for the lock and wait there (the sim lock counts the wait and
 * longjmps back, as one thread cannot wait), not to return PAGING_ERR_REENTERED; CPU 0's own call
 * from the same callback to be refused; the walk to finish, having taken the lock once.
 */
static int other_cpu_call_waits_for_lock_check(void) {
    setup_locked();
    ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, 0));
    size_t locks = sim.locks;
    struct other_cpu o;
    memset(&o, 0, sizeof o);

    struct paging_walk_visitor v = {NULL, call_from_other_cpu, &o};
    ASSERT_EQ(PAGING_OK, paging_walk(&m, &v));
    ASSERT_EQ(1, o.leaves);
    ASSERT_EQ(PAGING_ERR_REENTERED, o.own);
    if (o.other_returned) {
        fprintf(stderr, "%s: CPU 1's call returned \"%s\"\n", __func__, paging_error_name(o.other));
    }
    ASSERT_FALSE(o.other_returned);
    ASSERT_EQ(1, sim.lock_waits);
    ASSERT_EQ(locks + 1, sim.locks);
    ASSERT_EQ(sim.locks, sim.unlocks);
    ASSERT_EQ(0, sim.lock_misuses);
    return 0;
}

/* The hooks of hook_reentry_refused_check: the sim's, each calling the mapper first. */
static struct paging_hw plain_hw;
static struct paging_frame_source plain_source;
static enum paging_error from_allocate;
static enum paging_error from_flush;

static bool reentering_allocate(void *ctx, uint64_t *phys_out) {
    struct paging_translation t;
    from_allocate = paging_translate(&m, 0x400000, &t);
    return plain_source.allocate(ctx, phys_out);
}

static void reentering_flush(void *ctx, uint64_t virt) {
    from_flush = paging_map_page(&m, 0x800000, FRAME_B, 0);
    plain_hw.flush_tlb_page(ctx, virt);
}

/*
 * Without a lock, then with one: a frame source whose allocate translates a page, and a
 * flush_tlb_page that maps one, both through the mapper they serve. A map at 0x400000 (3 new
 * tables) calls allocate mid-way, holding pointers into the tables; its unmap calls the flush.
 * Expect both nested calls refused with PAGING_ERR_REENTERED, the outer map and unmap to succeed,
 * 0x800000 not mapped, and the lock (when there is one) to see no nested acquire.
 */
static int hook_reentry_refused_check(void) {
    struct paging_translation t;
    for (int locked = 0; locked < 2; locked++) {
        setup();
        plain_hw = locked ? sim_hw_locked(&sim) : sim_hw(&sim);
        plain_source = sim_frames_source(&frames);
        struct paging_hw hw = plain_hw;
        hw.flush_tlb_page = reentering_flush;
        struct paging_frame_source source = plain_source;
        source.allocate = reentering_allocate;
        ASSERT_EQ(PAGING_OK, paging_mapper_init(&m, ROOT, &hw, &source));
        from_allocate = PAGING_OK;
        from_flush = PAGING_OK;

        ASSERT_EQ(PAGING_OK, paging_map_page(&m, 0x400000, FRAME_A, 0));
        ASSERT_EQ(3, frames.allocations);
        ASSERT_EQ(PAGING_ERR_REENTERED, from_allocate);
        ASSERT_EQ(PAGING_OK, paging_unmap_page(&m, 0x400000, NULL));
        ASSERT_EQ(1, sim.flush_count);
        ASSERT_EQ(PAGING_ERR_REENTERED, from_flush);
        ASSERT_EQ(PAGING_ERR_NOT_MAPPED, paging_translate(&m, 0x800000, &t));
        ASSERT_EQ(0, sim.lock_misuses);
        ASSERT_EQ(locked ? 3 : 0, sim.locks);
    }
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, map_then_translate_check);
    RUN_CHECK(failures, leaf_flags_check);
    RUN_CHECK(failures, intermediate_tables_shared_check);
    RUN_CHECK(failures, new_tables_zeroed_check);
    RUN_CHECK(failures, already_mapped_check);
    RUN_CHECK(failures, parent_huge_page_2m_check);
    RUN_CHECK(failures, parent_huge_page_1g_check);
    RUN_CHECK(failures, frame_failure_at_each_level_check);
    RUN_CHECK(failures, unmap_returns_frame_and_flushes_check);
    RUN_CHECK(failures, unmap_not_mapped_check);
    RUN_CHECK(failures, non_canonical_rejected_check);
    RUN_CHECK(failures, misaligned_rejected_check);
    RUN_CHECK(failures, phys_out_of_range_check);
    RUN_CHECK(failures, invalid_flags_rejected_check);
    RUN_CHECK(failures, widen_intermediates_for_user_check);
    RUN_CHECK(failures, leaf_decides_execution_check);
    RUN_CHECK(failures, read_only_leaf_keeps_tables_read_only_check);
    RUN_CHECK(failures, widening_invalidates_pages_under_the_entry_check);
    RUN_CHECK(failures, identity_map_range_check);
    RUN_CHECK(failures, map_range_frames_run_out_check);
    RUN_CHECK(failures, map_range_failure_keeps_not_present_entries_check);
    RUN_CHECK(failures, map_range_failure_keeps_rights_check);
    RUN_CHECK(failures, map_range_phys_out_of_range_check);
    RUN_CHECK(failures, map_range_invalid_flags_check);
    RUN_CHECK(failures, map_range_parent_huge_page_check);
    RUN_CHECK(failures, map_range_arguments_check);
    RUN_CHECK(failures, map_range_to_top_of_address_space_check);
    RUN_CHECK(failures, walk_reports_leaves_check);
    RUN_CHECK(failures, random_operations_match_model_check);
    RUN_CHECK(failures, cr3_flag_bits_ignored_check);
    RUN_CHECK(failures, init_rejects_missing_callbacks_check);
    RUN_CHECK(failures, null_mapper_rejected_check);
    RUN_CHECK(failures, init_rejects_half_lock_check);
    RUN_CHECK(failures, lock_held_around_each_operation_check);
    RUN_CHECK(failures, walk_callback_reentry_refused_check);
    RUN_CHECK(failures, walk_callback_reentry_refused_locked_check);
    RUN_CHECK(failures, other_cpu_call_waits_for_lock_check);
    RUN_CHECK(failures, hook_reentry_refused_check);
    RUN_CHECK(failures, misaligned_table_frame_panics_check);
    RUN_CHECK(failures, table_frame_at_phys_limit_panics_check);
    RUN_CHECK(failures, null_phys_to_virt_panics_check);
    RUN_CHECK(failures, heap_over_frame_allocator_check);
    RUN_CHECK(failures, error_names_check);
    teardown();
    printf("%d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
