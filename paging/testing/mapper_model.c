/*
 * mapper_model.c - test support: random mapper operations checked against a reference model (see
 * mapper_model.h). The predictions come from mapper.h's contract, not from mapper.c: where the
 * contract leaves open which of several applicable errors a call returns (a misaligned address in a
 * range that also wraps), any of them is accepted, with the same outcome required (nothing
 * changed).
 */
#include "paging/testing/mapper_model.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE          PAGING_PAGE_SIZE
#define ROOT          UINT64_C(0x1000)
#define POOL_START    UINT64_C(0x100000)
#define NO_PAGE       (-1L)
#define UNLIMITED     (-1L)
#define TABLE_ENTRIES PAGING_ENTRIES_PER_TABLE

/* The clusters, in address order (the walk's), each straddling the boundary in its comment. */
static const struct cluster {
    uint64_t base;
    unsigned pages;
} clusters[] = {
    {UINT64_C(0x0000000000300000), 512}, /* 0x400000: PD entries 1 | 2, two PTs */
    {UINT64_C(0x000000003ff00000), 512}, /* 1 GiB: PDPT entries 0 | 1, two PDs */
    {UINT64_C(0x0000007ffff00000), 512}, /* 512 GiB: PML4 entries 0 | 1, two PDPTs */
    {UINT64_C(0x00007ffffff00000), 512}, /* end of the lower half; the upper 256 non-canonical */
    {UINT64_C(0xffff7ffffff00000), 512}, /* start of the higher half; the lower 256 non-canonical */
    {UINT64_C(0xfffffffffff00000), 256}, /* the last 1 MiB: ranges from here may wrap past 2^64 */
};
#define CLUSTERS (sizeof clusters / sizeof clusters[0])

_Static_assert(5 * 512 + 256 == MAPPER_MODEL_PAGES, "MAPPER_MODEL_PAGES is the clusters' sum");
_Static_assert(MAPPER_MODEL_PAGES <= UINT16_MAX, "page indices are uint16_t");

/* The hand-built tables of a machine started with @huge, parents first, each in a frame below
 * 1 MiB beside the root, and the rights of the entry that links it: all but H's (P|W|U, what the
 * mapper gives a user table) are rights the mapper never gives (it makes P|W, |U), so that maps
 * below them must widen them.
 *
 *   PML4[0]   -> A  P|U|NX  A[0]   -> B  P|W|NX   cluster 0's upper half, cluster 1's lower
 *                           A[511] -> H  P|W|U    only H[511], a 2 MiB leaf, is in a cluster
 *   PML4[255] -> C  P|NX    C[511] -> D  P|U      cluster 3's canonical half, below D[511]
 *   PML4[256] -> E  P|W|NX                        only E[0], a 1 GiB leaf, is in a cluster */
static const struct prebuilt {
    uint64_t phys;
    int level;
    uint64_t virt; /* an address the table maps */
    uint64_t entry_flags;
} prebuilt[] = {
    {UINT64_C(0x2000), 3, UINT64_C(0),
     PAGING_FLAG_PRESENT | PAGING_FLAG_USER | PAGING_FLAG_NO_EXECUTE},
    {UINT64_C(0x3000), 2, UINT64_C(0),
     PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE | PAGING_FLAG_NO_EXECUTE},
    {UINT64_C(0x4000), 2, UINT64_C(0x7fc0000000),
     PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE | PAGING_FLAG_USER},
    {UINT64_C(0x5000), 3, UINT64_C(0x7f8000000000), PAGING_FLAG_PRESENT | PAGING_FLAG_NO_EXECUTE},
    {UINT64_C(0x6000), 2, UINT64_C(0x7fffc0000000), PAGING_FLAG_PRESENT | PAGING_FLAG_USER},
    {UINT64_C(0x7000), 3, UINT64_C(0xffff800000000000),
     PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE | PAGING_FLAG_NO_EXECUTE},
};
_Static_assert(sizeof prebuilt / sizeof prebuilt[0] == MAPPER_MODEL_PREBUILT_TABLES,
               "MAPPER_MODEL_PREBUILT_TABLES counts prebuilt[]");

#define PS PAGING_FLAG_HUGE_PAGE
/* Bit 12 of a 2 MiB or 1 GiB leaf: PAT, a flag, not an address bit. */
#define BIG_PAT (UINT64_C(1) << 12)

/* The big leaves, in address order, each covering half of a cluster (translate and walk report
 * the flags without the address bits: PAT at bit 12 among them). */
static const struct mapper_model_huge huge_leaves[] = {
    /* B[1]: cluster 0's lower half */
    {UINT64_C(0x200000), PAGING_LARGE_PAGE_SIZE, UINT64_C(0x80000000),
     PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE | PAGING_FLAG_ACCESSED | PS | PAGING_FLAG_GLOBAL |
         BIG_PAT},
    /* A[1]: cluster 1's upper half */
    {UINT64_C(0x40000000), PAGING_HUGE_PAGE_SIZE, UINT64_C(0xc0000000),
     PAGING_FLAG_PRESENT | PAGING_FLAG_USER | PAGING_FLAG_ACCESSED | PAGING_FLAG_DIRTY | PS |
         PAGING_FLAG_NO_EXECUTE},
    /* H[511]: cluster 2's lower half */
    {UINT64_C(0x7fffe00000), PAGING_LARGE_PAGE_SIZE, UINT64_C(0x600000),
     PAGING_FLAG_PRESENT | PAGING_FLAG_USER | PS},
    /* E[0]: cluster 4's canonical half */
    {UINT64_C(0xffff800000000000), PAGING_HUGE_PAGE_SIZE, UINT64_C(0x40000000),
     PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE | PAGING_FLAG_DIRTY | PS | PAGING_FLAG_AVAILABLE_0 |
         PAGING_FLAG_NO_EXECUTE},
};
_Static_assert(sizeof huge_leaves / sizeof huge_leaves[0] == MAPPER_MODEL_HUGE_LEAVES,
               "MAPPER_MODEL_HUGE_LEAVES counts huge_leaves[]");

/* 1 << error, to say which return codes a prediction allows. */
#define ALLOW(error) (1u << (unsigned)(error))

static const char *const op_names[MAPPER_MODEL_OPS] = {"map_page", "map_range", "unmap_page",
                                                       "translate", "walk"};

static bool fail(struct mapper_model *mm, int line, const char *cond, const char *fmt, ...) {
    int n = snprintf(mm->failure, sizeof mm->failure,
                     "%s: line %d: %s: ", mm->op_name != NULL ? mm->op_name : "set-up", line, cond);
    if (n >= 0 && (size_t)n < sizeof mm->failure) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(mm->failure + n, sizeof mm->failure - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Fails the step unless @cond holds; the message gives the condition and fmt's details. */
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return fail(mm, __LINE__, #cond, __VA_ARGS__);                                         \
        }                                                                                          \
    } while (0)

/* --- addresses -------------------------------------------------------------------------------- */

static uint64_t page_virt(long index) {
    for (size_t c = 0; c < CLUSTERS; c++) {
        if (index < (long)clusters[c].pages) {
            return clusters[c].base + (uint64_t)index * PAGE;
        }
        index -= (long)clusters[c].pages;
    }
    abort(); /* unreachable: indices are below MAPPER_MODEL_PAGES */
}

/* The index of the cluster page at @virt (4 KiB-aligned), or NO_PAGE. */
static long page_index(uint64_t virt) {
    long first = 0;
    for (size_t c = 0; c < CLUSTERS; c++) {
        if (virt >= clusters[c].base && (virt - clusters[c].base) / PAGE < clusters[c].pages) {
            return first + (long)((virt - clusters[c].base) / PAGE);
        }
        first += (long)clusters[c].pages;
    }
    return NO_PAGE;
}

/* Canonical as mapper.h defines it, written independently of paging_is_canonical: bit 47
 * sign-extended gives the address back. */
static bool canonical(uint64_t virt) {
    return (uint64_t)((int64_t)(virt << 16) >> 16) == virt;
}

/* The errors paging_map_page's arguments alone call for. */
static unsigned argument_errors(uint64_t virt, uint64_t phys, uint64_t flags) {
    unsigned errors = 0;
    if (!canonical(virt)) {
        errors |= ALLOW(PAGING_ERR_NON_CANONICAL);
    }
    if ((virt | phys) % PAGE != 0) {
        errors |= ALLOW(PAGING_ERR_MISALIGNED);
    }
    if (phys >= PAGING_PHYS_LIMIT) {
        errors |= ALLOW(PAGING_ERR_PHYS_OUT_OF_RANGE);
    }
    if ((flags & ~PAGING_LEAF_FLAGS) != 0) {
        errors |= ALLOW(PAGING_ERR_INVALID_FLAGS);
    }
    return errors;
}

/* Whether [start, start + size) runs past 2^64 (size > 0). */
static bool wraps(uint64_t start, uint64_t size) {
    return start + (size - 1) < start;
}

/* --- the model's tables and pages ------------------------------------------------------------- */

static uint64_t table_key(int level, uint64_t virt) {
    return virt >> (12u + 9u * (unsigned)level);
}

static struct mapper_model_table *find_table(struct mapper_model *mm, int level, uint64_t virt) {
    uint64_t key = table_key(level, virt);
    for (size_t i = 0; i < mm->table_count; i++) {
        if (mm->table[i].level == level && mm->table[i].key == key) {
            return &mm->table[i];
        }
    }
    return NULL;
}

/* The big leaf that covers @virt (any alignment), or NULL. */
static const struct mapper_model_huge *huge_at(const struct mapper_model *mm, uint64_t virt) {
    for (size_t i = 0; i < mm->huge_count; i++) {
        if (virt - mm->huge[i].virt < mm->huge[i].size) {
            return &mm->huge[i];
        }
    }
    return NULL;
}

/* Tables (PDPT, PD, PT) a 4 KiB map of @virt must create. */
static unsigned missing_tables(struct mapper_model *mm, uint64_t virt) {
    unsigned missing = 0;
    for (int level = 3; level >= 1; level--) {
        missing += find_table(mm, level, virt) == NULL;
    }
    return missing;
}

/* Creates the missing tables on @virt's path, their entries U when @user. */
static void create_tables(struct mapper_model *mm, uint64_t virt, bool user) {
    for (int level = 3; level >= 1; level--) {
        if (find_table(mm, level, virt) == NULL) {
            struct mapper_model_table t = {level, table_key(level, virt),
                                           PAGING_TABLE_FLAGS | (user ? PAGING_FLAG_USER : 0), 0};
            mm->table[mm->table_count++] = t;
            mm->free_frames--;
        }
    }
}

/* Widens the entries on @virt's path for a leaf with @flags (mapper.h): each gets the W and U the
 * leaf asks for, and loses NX unless the leaf is NX too. The mapper makes its entries P|W without
 * NX, so only U can be missing there; a hand-built entry can lack W or carry NX as well. Counts in
 * *w and *nx whether W was added, NX cleared; returns whether an entry changed. */
static bool widen_tables(struct mapper_model *mm, uint64_t virt, uint64_t flags, bool *w,
                         bool *nx) {
    uint64_t needs = PAGING_FLAG_PRESENT | (flags & (PAGING_FLAG_WRITABLE | PAGING_FLAG_USER));
    uint64_t forbids = (flags & PAGING_FLAG_NO_EXECUTE) != 0 ? 0 : PAGING_FLAG_NO_EXECUTE;
    bool widened = false;
    for (int level = 3; level >= 1; level--) {
        struct mapper_model_table *t = find_table(mm, level, virt);
        if (t == NULL) {
            continue;
        }
        uint64_t wide = (t->entry_flags | needs) & ~forbids;
        if (wide != t->entry_flags) {
            *w |=
                (t->entry_flags & PAGING_FLAG_WRITABLE) == 0 && (wide & PAGING_FLAG_WRITABLE) != 0;
            *nx |= (t->entry_flags & PAGING_FLAG_NO_EXECUTE) != 0 &&
                   (wide & PAGING_FLAG_NO_EXECUTE) == 0;
            t->entry_flags = wide;
            widened = true;
        }
    }
    return widened;
}

static void model_map(struct mapper_model *mm, long index, uint64_t phys, uint64_t flags) {
    mm->page[index].phys = phys;
    mm->page[index].flags = flags | PAGING_FLAG_PRESENT;
    mm->mapped_pos[index] = (uint16_t)mm->mapped_count;
    mm->mapped[mm->mapped_count++] = (uint16_t)index;
}

static void model_unmap(struct mapper_model *mm, long index) {
    mm->page[index].flags = 0;
    uint16_t last = mm->mapped[--mm->mapped_count];
    mm->mapped[mm->mapped_pos[index]] = last;
    mm->mapped_pos[last] = mm->mapped_pos[index];
}

static bool is_mapped(const struct mapper_model *mm, long index) {
    return index != NO_PAGE && mm->page[index].flags != 0;
}

/* --- the frame source ------------------------------------------------------------------------- */

/* The nested call of a hook told to re-enter: a translate of an address the tables may map,
 * which must be refused with nothing written and no lock taken; counted in *refused or faults. */
static void hook_reenter(struct mapper_model_reentry *re, size_t *refused) {
    struct paging_translation t;
    memset(&t, 0x5a, sizeof t);
    struct paging_translation untouched = t;
    size_t locks = re->sim->locks;
    enum paging_error r = paging_translate(re->mapper, UINT64_C(0x400000), &t);
    bool ok = r == PAGING_ERR_REENTERED && memcmp(&t, &untouched, sizeof t) == 0 &&
              re->sim->locks == locks;
    *refused += ok;
    re->faults += !ok;
}

static bool frames_allocate(void *ctx, uint64_t *phys_out) {
    struct mapper_model_frames *f = ctx;
    f->unlocked_calls += !f->sim->lock_held;
    if (f->reentry->on) {
        hook_reenter(f->reentry, &f->reentry->from_allocate);
    }
    if (f->budget == 0) {
        return false;
    }
    uint64_t phys = frame_allocator_allocate(f->allocator);
    if (phys == FRAME_ALLOCATOR_NO_FRAME) {
        return false;
    }
    if (f->budget > 0) {
        f->budget--;
    }
    if (f->outstanding < MAPPER_MODEL_MAX_POOL_FRAMES) {
        f->out[f->outstanding++] = phys;
    }
    *phys_out = phys;
    return true;
}

static void frames_free(void *ctx, uint64_t phys) {
    struct mapper_model_frames *f = ctx;
    f->unlocked_calls += !f->sim->lock_held;
    for (size_t i = 0; i < f->outstanding; i++) {
        if (f->out[i] == phys) {
            f->out[i] = f->out[--f->outstanding];
            f->frees++;
            /* A frame the allocator refuses is an invariant broken: its panic hook. */
            frame_allocator_free(f->allocator, phys);
            return;
        }
    }
    f->bad_frees++;
}

static long frame_slot(const struct mapper_model_frames *f, uint64_t phys) {
    for (size_t i = 0; i < f->outstanding; i++) {
        if (f->out[i] == phys) {
            return (long)i;
        }
    }
    return -1;
}

/* The mapper's flush hooks: the simulated machine's (the hw's ctx is the sim, the first member of
 * struct mapper_model), then a nested call when told to re-enter. */
static struct mapper_model *model_of_sim(void *sim) {
    return (struct mapper_model *)((char *)sim - offsetof(struct mapper_model, sim));
}

static void model_flush_page(void *ctx, uint64_t virt) {
    struct mapper_model *mm = model_of_sim(ctx);
    mm->sim_hw.flush_tlb_page(ctx, virt);
    if (mm->reentry.on) {
        hook_reenter(&mm->reentry, &mm->reentry.from_flush);
    }
}

static void model_flush_all(void *ctx) {
    struct mapper_model *mm = model_of_sim(ctx);
    mm->sim_hw.flush_tlb_all(ctx);
    if (mm->reentry.on) {
        hook_reenter(&mm->reentry, &mm->reentry.from_flush);
    }
}

/* Builds the hand-built tables and big leaves (prebuilt[], huge_leaves[]) under the zeroed root,
 * and enters them in the model. */
static void build_huge_layout(struct mapper_model *mm) {
    for (size_t i = 0; i < MAPPER_MODEL_PREBUILT_TABLES; i++) {
        const struct prebuilt *p = &prebuilt[i];
        uint64_t parent = ROOT;
        if (p->level < 3) {
            parent = find_table(mm, p->level + 1, p->virt)->phys; /* parents come first */
        }
        sim_zero_table(&mm->sim, p->phys);
        uint64_t *entries = sim_phys_to_virt(&mm->sim, parent);
        entries[(p->virt >> (12u + 9u * (unsigned)p->level)) % TABLE_ENTRIES] =
            p->phys | p->entry_flags;
        struct mapper_model_table t = {p->level, table_key(p->level, p->virt), p->entry_flags,
                                       p->phys};
        mm->table[mm->table_count++] = t;
    }
    mm->prebuilt_count = mm->table_count;
    for (size_t i = 0; i < MAPPER_MODEL_HUGE_LEAVES; i++) {
        const struct mapper_model_huge *h = &huge_leaves[i];
        int level = h->size == PAGING_HUGE_PAGE_SIZE ? 3 : 2; /* the table holding the leaf */
        uint64_t *entries = sim_phys_to_virt(&mm->sim, find_table(mm, level, h->virt)->phys);
        entries[(h->virt >> (12u + 9u * (unsigned)(level - 1))) % TABLE_ENTRIES] =
            h->phys | h->flags;
        mm->huge[mm->huge_count++] = *h;
    }
}

void mapper_model_init(struct mapper_model *mm, unsigned pool_frames, bool huge) {
    memset(mm, 0, sizeof *mm);
    if (pool_frames < 2) {
        pool_frames = 2;
    }
    if (pool_frames > MAPPER_MODEL_MAX_POOL_FRAMES) {
        pool_frames = MAPPER_MODEL_MAX_POOL_FRAMES;
    }
    mm->pool_frames = pool_frames;
    sim_init(&mm->sim, POOL_START + pool_frames * PAGE);
    sim_zero_table(&mm->sim, ROOT);
    if (huge) {
        build_huge_layout(mm);
    }

    struct frame_allocator_usable_region pool = {POOL_START, pool_frames * PAGE};
    struct frame_allocator_config cfg = sim_carving_config(&mm->sim, &pool, 1, NULL, 0);
    cfg.poison_on_free = true; /* a table frame given back comes again full of poison */
    cfg.panic = sim_panic;     /* its ctx is the sim, as for its phys_to_virt */
    mm->frames.allocator = &mm->allocator;
    mm->frames.sim = &mm->sim;
    mm->frames.budget = UNLIMITED;
    mm->frames.reentry = &mm->reentry;
    mm->reentry.mapper = &mm->mapper;
    mm->reentry.sim = &mm->sim;
    mm->sim_hw = sim_hw_locked(&mm->sim);
    struct paging_hw hw = mm->sim_hw;
    hw.flush_tlb_page = model_flush_page;
    hw.flush_tlb_all = model_flush_all;
    struct paging_frame_source source = {frames_allocate, frames_free, &mm->frames};
    if (frame_allocator_init(&mm->allocator, &cfg) != FRAME_ALLOCATOR_OK ||
        paging_mapper_init(&mm->mapper, ROOT, &hw, &source) != PAGING_OK) {
        fprintf(stderr, "mapper_model_init: set-up failed\n");
        abort();
    }
    mm->free_frames = frame_allocator_stats(&mm->allocator).free_frames;
}

void mapper_model_destroy(struct mapper_model *mm) {
    sim_destroy(&mm->sim);
}

/* --- the operations' parameters --------------------------------------------------------------- */

static unsigned byte(struct mapper_model_bytes *in) {
    return in->next(in->ctx) & 0xffu;
}

static unsigned u16(struct mapper_model_bytes *in) {
    unsigned low = byte(in);
    return low | byte(in) << 8;
}

/* A cluster page: often a mapped one or a neighbour of one (shared tables, already-mapped cases),
 * else any. */
static long draw_page(struct mapper_model *mm, struct mapper_model_bytes *in) {
    unsigned how = byte(in) % 8;
    unsigned pick = u16(in);
    if (mm->mapped_count > 0 && how < 4) {
        long index = mm->mapped[pick % mm->mapped_count];
        if (how >= 2) {
            index += (long)(pick >> 12) - 8;
            index = index < 0                           ? 0
                    : index >= (long)MAPPER_MODEL_PAGES ? MAPPER_MODEL_PAGES - 1
                                                        : index;
        }
        return index;
    }
    return (long)(pick % MAPPER_MODEL_PAGES);
}

static uint64_t draw_phys(struct mapper_model_bytes *in) {
    uint64_t frame = u16(in);
    frame |= (uint64_t)byte(in) << 16;
    return frame * PAGE;
}

/* Any leaf flags but PS/PAT (PRESENT too, which is implied). */
static uint64_t draw_flags(struct mapper_model_bytes *in) {
    unsigned r = u16(in);
    uint64_t flags = r & 0xf7fu;
    return (r & 0x1000u) != 0 ? flags | PAGING_FLAG_NO_EXECUTE : flags;
}

/* A bit outside PAGING_LEAF_FLAGS: PS/PAT, an address bit (12..51) or one of bits 52..62. */
static uint64_t draw_bad_flag(struct mapper_model_bytes *in) {
    unsigned b = byte(in);
    return (b & 1) != 0 ? PAGING_FLAG_HUGE_PAGE : UINT64_C(1) << (12 + (b >> 1) % 51);
}

/* A non-canonical address far from the clusters: bits 63..47 neither all 0 nor all 1. */
static uint64_t draw_non_canonical(struct mapper_model_bytes *in) {
    uint64_t bits17 = u16(in) | (uint64_t)(byte(in) & 1) << 16;
    uint64_t top = 1 + bits17 % 0x1fffe;
    return top << 47 | (uint64_t)u16(in) * PAGE;
}

static uint64_t draw_misalignment(struct mapper_model_bytes *in) {
    return 1 + u16(in) % (PAGE - 1);
}

/* Frames the source gives this operation: mostly all it has, sometimes 0..3. */
static long draw_budget(struct mapper_model_bytes *in) {
    unsigned b = byte(in);
    return b < 40 ? (long)(b % 4) : UNLIMITED;
}

/* --- one operation ---------------------------------------------------------------------------- */

/* What an operation should do, beyond its return code. */
struct expect {
    unsigned allowed; /* ALLOW() bits of the return codes the model accepts */
    long flushed[MAPPER_MODEL_MAX_RANGE + 1];
    size_t flush_count;
    bool flush_all;
    bool widened_w;                           /* an entry got W (flush_all too) */
    bool widened_nx;                          /* an entry lost NX (flush_all too) */
    long touched[MAPPER_MODEL_MAX_RANGE + 1]; /* cluster pages to translate afterwards */
    size_t touched_count;
};

static void touch(struct expect *e, long index) {
    if (index != NO_PAGE && e->touched_count < MAPPER_MODEL_MAX_RANGE + 1) {
        e->touched[e->touched_count++] = index;
    }
}

/* The names of the codes in @allowed, quoted and separated by " or ", into @buf. */
static const char *allowed_names(unsigned allowed, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned r = 0; r <= PAGING_ERR_REENTERED && n < size; r++) {
        if ((allowed & ALLOW(r)) != 0) {
            int k = snprintf(buf + n, size - n, "%s\"%s\"", n > 0 ? " or " : "",
                             paging_error_name((enum paging_error)r));
            n += k > 0 ? (size_t)k : 0;
        }
    }
    return buf;
}

/* Fails unless @r is in @allowed. */
static bool check_result(struct mapper_model *mm, unsigned allowed, enum paging_error r,
                         const char *call) {
    char names[160];
    EXPECT((unsigned)r <= PAGING_ERR_REENTERED, "%s returned %d, outside the enum", call, (int)r);
    EXPECT((allowed & ALLOW(r)) != 0, "%s returned \"%s\"; the model expects %s", call,
           paging_error_name(r), allowed_names(allowed, names, sizeof names));
    return true;
}

static bool check_code(struct mapper_model *mm, const struct expect *e, enum paging_error r,
                       const char *call) {
    return check_result(mm, e->allowed, r, call);
}

/* Frames a map can take now: @budget's (UNLIMITED: no limit), and the allocator's as the model
 * counts them. */
static uint64_t available(const struct mapper_model *mm, long budget) {
    return budget >= 0 && (uint64_t)budget < mm->free_frames ? (uint64_t)budget : mm->free_frames;
}

/* The model's part of mapping the page @index at @virt: the code it allows, given @errors from the
 * arguments and @budget frames at most; on success the tables and page are made, and *budget is
 * what is left of it. Returns whether the page was mapped. */
static bool model_map_page(struct mapper_model *mm, long index, uint64_t virt, uint64_t phys,
                           uint64_t flags, long *budget, unsigned *allowed) {
    unsigned errors = argument_errors(virt, phys, flags);
    if (errors != 0) {
        *allowed = errors;
        return false;
    }
    if (huge_at(mm, virt) != NULL) {
        *allowed = ALLOW(PAGING_ERR_PARENT_HUGE_PAGE);
        return false;
    }
    if (is_mapped(mm, index)) {
        *allowed = ALLOW(PAGING_ERR_ALREADY_MAPPED);
        return false;
    }
    unsigned missing = missing_tables(mm, virt);
    if (missing > available(mm, *budget)) {
        *allowed = ALLOW(PAGING_ERR_FRAME_ALLOCATION_FAILED);
        return false;
    }
    create_tables(mm, virt, (flags & PAGING_FLAG_USER) != 0);
    if (*budget != UNLIMITED) {
        *budget -= (long)missing;
    }
    model_map(mm, index, phys, flags);
    *allowed = ALLOW(PAGING_OK);
    return true;
}

/* Around a mapper call that may take frames: the frame source gives at most @budget of them
 * (UNLIMITED: no limit), and its hooks call the mapper back when @reenter; disarm_hooks after. */
static void arm_hooks(struct mapper_model *mm, long budget, bool reenter) {
    mm->frames.budget = budget;
    mm->reentry.on = reenter;
}

static void disarm_hooks(struct mapper_model *mm) {
    mm->reentry.on = false;
    mm->frames.budget = UNLIMITED;
}

static bool op_map_page(struct mapper_model *mm, struct mapper_model_bytes *in, struct expect *e,
                        enum paging_error *result) {
    uint64_t virt = page_virt(draw_page(mm, in));
    uint64_t phys = draw_phys(in);
    uint64_t flags = draw_flags(in);
    long budget = draw_budget(in);
    unsigned how = byte(in);
    bool reenter = how >= 240; /* the frame source and the flushes, if called, call translate */
    switch (how % 24) {
    case 0:
        virt += draw_misalignment(in);
        break;
    case 1:
        phys += draw_misalignment(in);
        break;
    case 2:
        phys += PAGING_PHYS_LIMIT;
        break;
    case 3:
        flags |= draw_bad_flag(in);
        break;
    case 4:
        virt = draw_non_canonical(in);
        break;
    default:
        break;
    }
    long index = page_index(virt);
    touch(e, index);
    char call[160];
    snprintf(call, sizeof call, "paging_map_page(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ")",
             virt, phys, flags);

    long model_budget = budget;
    if (model_map_page(mm, index, virt, phys, flags, &model_budget, &e->allowed)) {
        /* The tables it made carry U as the leaf does: only older entries can need widening. */
        e->flush_all = widen_tables(mm, virt, flags, &e->widened_w, &e->widened_nx);
    }

    arm_hooks(mm, budget, reenter);
    *result = paging_map_page(&mm->mapper, virt, phys, flags);
    disarm_hooks(mm);
    return check_code(mm, e, *result, call);
}

static bool op_map_range(struct mapper_model *mm, struct mapper_model_bytes *in, struct expect *e,
                         enum paging_error *result) {
    long index = draw_page(mm, in);
    unsigned pages = byte(in) % (MAPPER_MODEL_MAX_RANGE + 1);
    uint64_t virt = page_virt(index);
    /* Keep the range inside its cluster, but for the last, whose ranges may wrap past 2^64. */
    long cluster_end = 0;
    for (size_t c = 0; c < CLUSTERS; c++) {
        cluster_end += (long)clusters[c].pages;
        if (index < cluster_end) {
            if (c + 1 < CLUSTERS && index + (long)pages > cluster_end) {
                virt -= (uint64_t)(index + (long)pages - cluster_end) * PAGE;
            }
            break;
        }
    }
    uint64_t phys = draw_phys(in);
    uint64_t size = (uint64_t)pages * PAGE;
    uint64_t flags = draw_flags(in);
    long budget = draw_budget(in);
    unsigned how = byte(in);
    bool reenter = how >= 240; /* as for map_page: the widening's flush too */
    switch (how % 24) {
    case 0:
        virt += draw_misalignment(in);
        break;
    case 1:
        phys += draw_misalignment(in);
        break;
    case 2:
        size += draw_misalignment(in);
        break;
    case 3: /* the range crosses PAGING_PHYS_LIMIT: its later pages are out of range */
        phys = PAGING_PHYS_LIMIT - (1 + byte(in) % (pages > 0 ? pages : 1)) * PAGE;
        break;
    case 4: /* the physical range wraps past 2^64 */
        phys = 0 - (1 + byte(in) % MAPPER_MODEL_MAX_RANGE) * PAGE;
        break;
    case 5:
        flags |= draw_bad_flag(in);
        break;
    case 6:
        virt = draw_non_canonical(in);
        break;
    case 7:
    case 8:
    case 9:
    case 10: /* across its cluster's middle, where its tables change: frames may run out there */
        for (size_t c = 0; c < CLUSTERS && pages >= 2; c++) {
            uint64_t middle = clusters[c].base + (uint64_t)(clusters[c].pages / 2) * PAGE;
            if (clusters[c].pages == 512 && virt >= clusters[c].base &&
                virt < middle + middle - clusters[c].base) {
                virt = middle - (1 + byte(in) % (pages - 1)) * PAGE;
            }
        }
        break;
    default:
        break;
    }
    char call[192];
    snprintf(call, sizeof call,
             "paging_map_range(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ")", virt,
             phys, size, flags);
    for (uint64_t offset = 0; offset < size && offset < MAPPER_MODEL_MAX_RANGE * PAGE;
         offset += PAGE) {
        touch(e, page_index(virt + offset));
    }

    /* Argument errors, nothing done: those of any page (so of the whole range: the first page's,
     * the size's, the wrap's, the end's); where several apply, any of them. */
    unsigned errors = argument_errors(virt, phys, flags);
    if (size % PAGE != 0) {
        errors |= ALLOW(PAGING_ERR_MISALIGNED);
    }
    if (size > 0 && (wraps(virt, size) || wraps(phys, size))) {
        errors |= ALLOW(PAGING_ERR_INVALID_ARGUMENT);
    }
    for (uint64_t offset = PAGE; offset < size; offset += PAGE) {
        errors |= argument_errors(virt + offset, phys + offset, flags);
    }
    e->allowed = errors != 0 ? errors : ALLOW(PAGING_OK);
    /* Then every page's entry, in order, nothing done: the first mapped (or huge) page refuses. */
    for (uint64_t offset = 0; e->allowed == ALLOW(PAGING_OK) && offset < size; offset += PAGE) {
        uint64_t v = virt + offset;
        long i = page_index(v);
        if (i == NO_PAGE) {
            return fail(mm, __LINE__, "page_index(v) != NO_PAGE",
                        "%s: page 0x%" PRIx64 " outside the model", call, v);
        }
        if (huge_at(mm, v) != NULL) {
            e->allowed = ALLOW(PAGING_ERR_PARENT_HUGE_PAGE);
        } else if (is_mapped(mm, i)) {
            e->allowed = ALLOW(PAGING_ERR_ALREADY_MAPPED);
        }
    }
    /* Then every page's tables, in order, each page's frames all or none: the tables linked for
     * the pages before one that runs out of frames stay. */
    long model_budget = budget;
    bool user = (flags & PAGING_FLAG_USER) != 0;
    for (uint64_t offset = 0; e->allowed == ALLOW(PAGING_OK) && offset < size; offset += PAGE) {
        unsigned missing = missing_tables(mm, virt + offset);
        if (missing > available(mm, model_budget)) {
            e->allowed = ALLOW(PAGING_ERR_FRAME_ALLOCATION_FAILED);
            mm->tables_kept += offset > 0; /* past the first page, which had its tables */
        } else {
            create_tables(mm, virt + offset, user);
            model_budget -= model_budget != UNLIMITED ? (long)missing : 0;
        }
    }
    /* Then every leaf, and the widening. */
    for (uint64_t offset = 0; e->allowed == ALLOW(PAGING_OK) && offset < size; offset += PAGE) {
        long i = page_index(virt + offset);
        model_map(mm, i, phys + offset, flags);
        e->flush_all |= widen_tables(mm, virt + offset, flags, &e->widened_w, &e->widened_nx);
    }

    arm_hooks(mm, budget, reenter);
    *result = paging_map_range(&mm->mapper, virt, phys, size, flags);
    disarm_hooks(mm);
    return check_code(mm, e, *result, call);
}

static bool op_unmap_page(struct mapper_model *mm, struct mapper_model_bytes *in, struct expect *e,
                          enum paging_error *result) {
    uint64_t virt = page_virt(draw_page(mm, in));
    unsigned how = byte(in);
    switch (how % 16) {
    case 0:
        virt += draw_misalignment(in);
        break;
    case 1:
        virt = draw_non_canonical(in);
        break;
    default:
        break;
    }
    bool want_phys = (how & 0x80) != 0;  /* else phys_out is NULL */
    bool reenter = (how & 0x70) == 0x70; /* the flush calls translate */
    long index = page_index(virt);
    touch(e, index);
    char call[96];
    snprintf(call, sizeof call, "paging_unmap_page(0x%" PRIx64 ", %s)", virt,
             want_phys ? "&phys" : "NULL");

    unsigned errors = argument_errors(virt, 0, 0);
    uint64_t expected_phys = 0;
    if (errors != 0) {
        e->allowed = errors;
    } else if (huge_at(mm, virt) != NULL) {
        e->allowed = ALLOW(PAGING_ERR_PARENT_HUGE_PAGE);
    } else if (!is_mapped(mm, index)) {
        e->allowed = ALLOW(PAGING_ERR_NOT_MAPPED);
    } else {
        e->allowed = ALLOW(PAGING_OK);
        expected_phys = mm->page[index].phys;
        model_unmap(mm, index);
        e->flushed[e->flush_count++] = index;
    }

    uint64_t phys = ~UINT64_C(0);
    mm->reentry.on = reenter;
    *result = paging_unmap_page(&mm->mapper, virt, want_phys ? &phys : NULL);
    mm->reentry.on = false;
    if (!check_code(mm, e, *result, call)) {
        return false;
    }
    EXPECT(*result != PAGING_OK || !want_phys || phys == expected_phys,
           "%s gave frame 0x%" PRIx64 ", the model 0x%" PRIx64, call, phys, expected_phys);
    return true;
}

/* Translates @virt (any alignment; with a NULL out when @null_out) and compares the code and
 * the translation with the model; *result (if not NULL) gets the code. */
static bool check_translate(struct mapper_model *mm, uint64_t virt, bool null_out,
                            enum paging_error *result) {
    long index = page_index(virt & ~(PAGE - 1));
    const struct mapper_model_huge *h = huge_at(mm, virt);
    unsigned allowed = canonical(virt) ? 0 : ALLOW(PAGING_ERR_NON_CANONICAL);
    if (null_out) {
        allowed |= ALLOW(PAGING_ERR_INVALID_ARGUMENT);
    } else if (allowed == 0) {
        allowed =
            h != NULL || is_mapped(mm, index) ? ALLOW(PAGING_OK) : ALLOW(PAGING_ERR_NOT_MAPPED);
    }
    struct paging_translation t;
    memset(&t, 0, sizeof t);
    enum paging_error r = paging_translate(&mm->mapper, virt, null_out ? NULL : &t);
    if (result != NULL) {
        *result = r;
    }
    char call[64];
    snprintf(call, sizeof call, "paging_translate(0x%" PRIx64 ", %s)", virt,
             null_out ? "NULL" : "&t");
    if (!check_result(mm, allowed, r, call)) {
        return false;
    }
    if (r == PAGING_OK && h != NULL) {
        EXPECT(
            t.phys == h->phys + (virt - h->virt) && t.page_size == h->size && t.flags == h->flags,
            "paging_translate(0x%" PRIx64 ") gave phys 0x%" PRIx64 " size 0x%" PRIx64
            " flags 0x%" PRIx64 "; the model's big leaf 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64,
            virt, t.phys, t.page_size, t.flags, h->phys + (virt - h->virt), h->size, h->flags);
        mm->huge_translated[h->size == PAGING_HUGE_PAGE_SIZE]++;
    } else if (r == PAGING_OK) {
        const struct mapper_model_page *p = &mm->page[index];
        EXPECT(t.phys == p->phys + virt % PAGE && t.page_size == PAGE && t.flags == p->flags,
               "paging_translate(0x%" PRIx64 ") gave phys 0x%" PRIx64 " size 0x%" PRIx64
               " flags 0x%" PRIx64 "; the model 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64,
               virt, t.phys, t.page_size, t.flags, p->phys + virt % PAGE, PAGE, p->flags);
    }
    return true;
}

static bool op_translate(struct mapper_model *mm, struct mapper_model_bytes *in, struct expect *e,
                         enum paging_error *result) {
    uint64_t virt = page_virt(draw_page(mm, in)) + u16(in) % PAGE;
    unsigned how = byte(in) % 16;
    if (how == 0) {
        virt = draw_non_canonical(in) + u16(in) % PAGE;
    } else if (how == 2 && mm->huge_count > 0) {
        /* Anywhere in a big leaf, far beyond the clusters: the offset's high bits count too. */
        const struct mapper_model_huge *h = &mm->huge[byte(in) % mm->huge_count];
        uint64_t high = u16(in);
        virt = h->virt + (high << 16 | u16(in)) % h->size;
    }
    e->allowed = ~0u; /* check_translate checks the code */
    return check_translate(mm, virt, how == 1, result);
}

/* --- walks ------------------------------------------------------------------------------------ */

/* A call a walk's callback makes on the mapper it walks, with arguments that would change or
 * read something were it not refused (drawn before the walk). */
struct nested_call {
    enum mapper_model_op op;
    bool identity; /* map_range as paging_identity_map_range */
    uint64_t virt;
    uint64_t phys;
    uint64_t pages;
    uint64_t flags;
};

/* A walk compared leaf by leaf with the model's pages and big leaves, in address order. */
struct walk_check {
    struct mapper_model *mm;
    long next;        /* the model's page to look from for the next leaf */
    size_t next_huge; /* the model's big leaf to look from */
    size_t leaves;
    size_t tables;
    size_t stop_after; /* leaf returns false after this many (0: never) */
    /* Re-entry: the callback makes @nested at the root table (@at_leaf 0) or at leaf @at_leaf,
     * then answers @answer (and'ed with stop_after's); @reentered counts the calls made. */
    const struct nested_call *nested;
    size_t at_leaf;
    bool answer;
    size_t reentered;
    bool bad;
    char why[256];
};

static long next_mapped(const struct mapper_model *mm, long from) {
    while (from < (long)MAPPER_MODEL_PAGES && mm->page[from].flags == 0) {
        from++;
    }
    return from;
}

/* Whether @phys is a hand-built table of @level. */
static bool prebuilt_at(const struct mapper_model *mm, int level, uint64_t phys) {
    for (size_t i = 0; i < mm->prebuilt_count; i++) {
        if (mm->table[i].phys == phys && mm->table[i].level == level) {
            return true;
        }
    }
    return false;
}

/* A visitor callback of a nested walk, which must never run: it notes that it did. */
static bool nested_walk_table(void *ctx, int level, uint64_t phys) {
    (void)level;
    (void)phys;
    *(bool *)ctx = true;
    return false;
}

/* Makes w->nested from inside a callback of a walk in progress: it must return "re-entered",
 * having taken no lock, called no hook (no flush, no frame) and written no output. */
static void reenter(struct walk_check *w) {
    struct mapper_model *mm = w->mm;
    const struct nested_call *n = w->nested;
    struct paging_mapper *m = &mm->mapper;
    const struct sim *s = &mm->sim;
    size_t locks = s->locks, flushes = s->flush_count + s->flush_all_count;
    size_t frames = mm->frames.outstanding + mm->frames.frees;
    bool wrote = false;
    enum paging_error r = PAGING_OK;
    switch (n->op) {
    case MAPPER_MODEL_MAP_PAGE:
        r = paging_map_page(m, n->virt, n->phys, n->flags);
        break;
    case MAPPER_MODEL_MAP_RANGE:
        r = n->identity ? paging_identity_map_range(m, n->virt, n->pages * PAGE, n->flags)
                        : paging_map_range(m, n->virt, n->phys, n->pages * PAGE, n->flags);
        break;
    case MAPPER_MODEL_UNMAP_PAGE: {
        uint64_t phys = ~UINT64_C(0);
        r = paging_unmap_page(m, n->virt, &phys);
        wrote = phys != ~UINT64_C(0);
        break;
    }
    case MAPPER_MODEL_TRANSLATE: {
        struct paging_translation t, untouched;
        memset(&t, 0x5a, sizeof t);
        untouched = t;
        r = paging_translate(m, n->virt, &t);
        wrote = memcmp(&t, &untouched, sizeof t) != 0;
        break;
    }
    default: {
        struct paging_walk_visitor v = {nested_walk_table, NULL, &wrote};
        r = paging_walk(m, &v);
        break;
    }
    }
    w->reentered++;
    if (r != PAGING_ERR_REENTERED || wrote || s->locks != locks ||
        s->flush_count + s->flush_all_count != flushes ||
        mm->frames.outstanding + mm->frames.frees != frames) {
        snprintf(w->why, sizeof w->why,
                 "%s(0x%" PRIx64 ") from a walk's callback returned \"%s\"%s%s%s%s; the model "
                 "expects \"re-entered\" and nothing done",
                 op_names[n->op], n->virt, paging_error_name(r),
                 wrote ? ", wrote its output (or ran the visitor)" : "",
                 s->locks != locks ? ", took the lock" : "",
                 s->flush_count + s->flush_all_count != flushes ? ", flushed" : "",
                 mm->frames.outstanding + mm->frames.frees != frames ? ", moved frames" : "");
        w->bad = true;
    }
    mm->reentries[n->op]++;
}

/* Counts the tables; the root is the one table of level 4, every other one a hand-built table or
 * a frame of the source. */
static bool walk_table(void *ctx, int level, uint64_t phys) {
    struct walk_check *w = ctx;
    if ((level == 4) != (phys == ROOT) ||
        (level != 4 && frame_slot(&w->mm->frames, phys) < 0 && !prebuilt_at(w->mm, level, phys))) {
        snprintf(w->why, sizeof w->why,
                 "table of level %d at 0x%" PRIx64
                 ": not the root, a hand-built table or a frame of the source",
                 level, phys);
        w->bad = true;
        return false;
    }
    w->tables++;
    if (w->nested != NULL && w->at_leaf == 0 && level == 4) {
        reenter(w);
        return w->answer && !w->bad;
    }
    return true;
}

static bool walk_leaf(void *ctx, const struct paging_leaf *leaf) {
    struct walk_check *w = ctx;
    struct mapper_model *mm = w->mm;
    long index = next_mapped(mm, w->next);
    const struct mapper_model_huge *h =
        w->next_huge < mm->huge_count ? &mm->huge[w->next_huge] : NULL;
    if (h != NULL && index < (long)MAPPER_MODEL_PAGES && page_virt(index) < h->virt) {
        h = NULL; /* the 4 KiB page comes first */
    }
    if (h == NULL && index >= (long)MAPPER_MODEL_PAGES) {
        snprintf(w->why, sizeof w->why, "leaf 0x%" PRIx64 " -> 0x%" PRIx64 " beyond the model's",
                 leaf->virt, leaf->phys);
        w->bad = true;
        return false;
    }
    struct mapper_model_huge want = {0, PAGE, 0, 0};
    if (h != NULL) {
        want = *h;
    } else {
        want.virt = page_virt(index);
        want.phys = mm->page[index].phys;
        want.flags = mm->page[index].flags;
    }
    if (leaf->virt != want.virt || leaf->phys != want.phys || leaf->size != want.size ||
        leaf->flags != want.flags) {
        snprintf(w->why, sizeof w->why,
                 "leaf %zu is 0x%" PRIx64 " -> 0x%" PRIx64 " size 0x%" PRIx64 " flags 0x%" PRIx64
                 "; the model's 0x%" PRIx64 " -> 0x%" PRIx64 " size 0x%" PRIx64 " flags 0x%" PRIx64,
                 w->leaves, leaf->virt, leaf->phys, leaf->size, leaf->flags, want.virt, want.phys,
                 want.size, want.flags);
        w->bad = true;
        return false;
    }
    if (h != NULL) {
        w->next_huge++;
        mm->huge_walked[h->size == PAGING_HUGE_PAGE_SIZE]++;
    } else {
        w->next = index + 1;
    }
    w->leaves++;
    bool go_on = w->stop_after == 0 || w->leaves < w->stop_after;
    if (w->nested != NULL && w->at_leaf == w->leaves) {
        reenter(w);
        go_on = go_on && w->answer && !w->bad;
    }
    return go_on;
}

/* Draws the nested call of a re-entering walk: any operation (a walk too), on a cluster page, often
 * one the call would change were it not refused (draw_page: a mapped page, or a neighbour). */
static void draw_nested(struct mapper_model *mm, struct mapper_model_bytes *in,
                        struct nested_call *n) {
    unsigned how = byte(in);
    n->op = (enum mapper_model_op)(how % MAPPER_MODEL_OPS);
    n->identity = (how & 0x80) != 0;
    n->virt = page_virt(draw_page(mm, in));
    n->phys = n->identity ? n->virt : draw_phys(in);
    n->pages = 1 + byte(in) % MAPPER_MODEL_MAX_RANGE;
    n->flags = draw_flags(in);
}

static bool op_walk(struct mapper_model *mm, struct mapper_model_bytes *in, struct expect *e,
                    enum paging_error *result) {
    unsigned how = byte(in);
    e->allowed = ALLOW(PAGING_OK);
    if (how % 16 == 0) {
        e->allowed = ALLOW(PAGING_ERR_INVALID_ARGUMENT);
        *result = paging_walk(&mm->mapper, NULL);
        return check_code(mm, e, *result, "paging_walk(NULL)");
    }
    struct walk_check w = {.mm = mm, .stop_after = 1 + how % 8};
    struct paging_walk_visitor v = {NULL, walk_leaf, &w};
    struct nested_call nested;
    size_t leaves = mm->mapped_count + mm->huge_count;
    size_t want = leaves < w.stop_after ? leaves : w.stop_after;
    bool reentering = how % 4 == 1;
    if (reentering) {
        draw_nested(mm, in, &nested);
        unsigned where = byte(in);
        w.nested = &nested;
        w.answer = (where & 0x80) != 0;
        /* At the root (its table callback) now and then, else at one of the leaves it will see. */
        w.at_leaf = where % 8 == 0 || want == 0 ? 0 : 1 + (where >> 3) % want;
        v.table = walk_table;
        if (!w.answer) {
            want = w.at_leaf; /* the walk stops where the callback said so */
        }
    }
    *result = paging_walk(&mm->mapper, &v);
    if (!check_code(mm, e, *result,
                    reentering ? "paging_walk(re-entering)" : "paging_walk(stopping)")) {
        return false;
    }
    EXPECT(!w.bad, "%s", w.why);
    EXPECT(w.leaves == want, "a walk stopped after %zu leaves saw %zu (%zu mapped, %zu big)%s",
           w.stop_after, w.leaves, mm->mapped_count, mm->huge_count,
           reentering ? (w.answer ? ", its callback re-entering and going on"
                                  : ", its callback re-entering and stopping")
                      : "");
    EXPECT(w.reentered == (reentering ? 1u : 0u), "the walk's callback re-entered %zu times",
           w.reentered);
    return true;
}

/* --- the checks after each operation ---------------------------------------------------------- */

static bool check_flushes(struct mapper_model *mm, const struct expect *e) {
    const struct sim *s = &mm->sim;
    EXPECT(s->flush_count == e->flush_count, "%zu page flushes, the model expects %zu",
           s->flush_count, e->flush_count);
    for (size_t k = 0; k < e->flush_count; k++) {
        uint64_t virt = page_virt(e->flushed[k]);
        EXPECT(sim_flush_count_of(s, virt) == 1, "page 0x%" PRIx64 " flushed %zu times, not once",
               virt, sim_flush_count_of(s, virt));
    }
    EXPECT(s->flush_all_count == (e->flush_all ? 1u : 0u),
           "%zu whole-TLB flushes; the model expects %d (an entry widened)", s->flush_all_count,
           e->flush_all ? 1 : 0);
    return true;
}

/* Reads the tables directly (not through the mapper): every present PDPT or PD entry with PS is one
 * of the model's big leaves, unchanged; every other present non-leaf entry leads to one of the
 * model's tables, with the model's flags and nothing else, in its hand-built frame or in a frame
 * the source handed out and no other entry uses. Counts the tables in *count. */
static bool check_raw_table(struct mapper_model *mm, uint64_t table_phys, int level,
                            uint64_t virt_base, bool *frame_used, size_t *count) {
    const uint64_t *table = sim_phys_to_virt(&mm->sim, table_phys);
    for (unsigned i = 0; i < TABLE_ENTRIES; i++) {
        uint64_t entry = table[i];
        if ((entry & PAGING_FLAG_PRESENT) == 0) {
            continue;
        }
        uint64_t virt = virt_base | (uint64_t)i << (12u + 9u * (unsigned)(level - 1));
        if (level == 4 && i >= TABLE_ENTRIES / 2) {
            virt |= UINT64_C(0xffff000000000000);
        }
        if (level == 1) {
            continue; /* a leaf: the walk compares those */
        }
        if (level <= 3 && (entry & PAGING_FLAG_HUGE_PAGE) != 0) {
            const struct mapper_model_huge *h = huge_at(mm, virt);
            EXPECT(h != NULL && h->virt == virt && entry == (h->phys | h->flags) &&
                       h->size == UINT64_C(1) << (12u + 9u * (unsigned)(level - 1)),
                   "level %d entry %u (0x%" PRIx64 ") = 0x%" PRIx64
                   ": not one of the model's big leaves as built",
                   level, i, virt, entry);
            continue;
        }
        const struct mapper_model_table *t = find_table(mm, level - 1, virt);
        EXPECT(t != NULL,
               "level %d entry %u (0x%" PRIx64 ") = 0x%" PRIx64 ": no such table in the model",
               level, i, virt, entry);
        EXPECT((entry & ~PAGING_ADDRESS_MASK) == t->entry_flags,
               "level %d entry %u (0x%" PRIx64 ") = 0x%" PRIx64 ": flags should be 0x%" PRIx64,
               level, i, virt, entry, t->entry_flags);
        uint64_t child = entry & PAGING_ADDRESS_MASK;
        if (t->phys != 0) {
            EXPECT(child == t->phys,
                   "level %d entry %u (0x%" PRIx64 ") -> table 0x%" PRIx64
                   ", not the hand-built 0x%" PRIx64,
                   level, i, virt, child, t->phys);
        } else {
            long slot = frame_slot(&mm->frames, child);
            EXPECT(slot >= 0 && !frame_used[slot],
                   "level %d entry %u (0x%" PRIx64 ") -> table 0x%" PRIx64
                   " is not a frame the source handed out, or another entry's",
                   level, i, virt, child);
            frame_used[slot] = true;
        }
        (*count)++;
        if (!check_raw_table(mm, child, level - 1, virt, frame_used, count)) {
            return false;
        }
    }
    return true;
}

static bool check_state(struct mapper_model *mm, const struct expect *e) {
    if (!check_flushes(mm, e)) {
        return false;
    }
    for (size_t k = 0; k < e->touched_count; k++) {
        uint64_t virt = page_virt(e->touched[k]) + (uint64_t)(e->touched[k] * 0x9e5) % PAGE;
        if (!check_translate(mm, virt, false, NULL)) {
            return false;
        }
    }

    struct walk_check w = {.mm = mm};
    struct paging_walk_visitor v = {walk_table, walk_leaf, &w};
    enum paging_error r = paging_walk(&mm->mapper, &v);
    EXPECT(r == PAGING_OK, "paging_walk returned \"%s\"", paging_error_name(r));
    EXPECT(!w.bad, "%s", w.why);
    EXPECT(w.leaves == mm->mapped_count + mm->huge_count,
           "the walk saw %zu leaves, the model has %zu and %zu big ones", w.leaves,
           mm->mapped_count, mm->huge_count);
    EXPECT(w.tables == mm->table_count + 1,
           "the walk saw %zu tables, the model has %zu and the root", w.tables, mm->table_count);

    bool frame_used[MAPPER_MODEL_MAX_POOL_FRAMES] = {false};
    size_t raw_tables = 0;
    if (!check_raw_table(mm, ROOT, 4, 0, frame_used, &raw_tables)) {
        return false;
    }
    EXPECT(raw_tables == mm->table_count, "%zu tables linked, the model has %zu", raw_tables,
           mm->table_count);

    /* Tables are never freed (mapper.h): every frame taken is a table the mapper made. */
    size_t made = mm->table_count - mm->prebuilt_count;
    struct frame_allocator_stats st = frame_allocator_stats(&mm->allocator);
    EXPECT(mm->frames.outstanding == made, "%zu frames outstanding at the source, %zu tables made",
           mm->frames.outstanding, made);
    EXPECT(st.allocated_frames == made && st.free_frames == mm->free_frames,
           "allocator: %" PRIu64 " allocated, %" PRIu64
           " free; the model: %zu tables made, %" PRIu64 " free",
           st.allocated_frames, st.free_frames, made, mm->free_frames);
    EXPECT(mm->reentry.faults == 0,
           "a translate from the frame source or a flush was not refused as re-entry (or wrote its "
           "output, or took the lock)");
    EXPECT(frame_allocator_check(&mm->allocator), "frame_allocator_check failed");
    EXPECT(mm->frames.bad_frees == 0, "%zu frees of frames not handed out", mm->frames.bad_frees);

    const struct sim *s = &mm->sim;
    EXPECT(!s->lock_held && s->locks == s->unlocks && s->lock_misuses == 0,
           "lock: held %d, %zu locks, %zu unlocks, %zu misuses", s->lock_held, s->locks, s->unlocks,
           s->lock_misuses);
    EXPECT(s->unlocked_calls == 0 && mm->frames.unlocked_calls == 0,
           "%zu hw hook calls (first: %s) and %zu frame source calls without the lock",
           s->unlocked_calls, s->first_unlocked_call != NULL ? s->first_unlocked_call : "-",
           mm->frames.unlocked_calls);
    return true;
}

/* Runs one decoded operation; split from mapper_model_step so that the setjmp there holds no
 * state the operation changes. */
static bool run_op(struct mapper_model *mm, struct mapper_model_bytes *in) {
    static bool (*const ops[MAPPER_MODEL_OPS])(struct mapper_model *, struct mapper_model_bytes *,
                                               struct expect *, enum paging_error *) = {
        op_map_page, op_map_range, op_unmap_page, op_translate, op_walk};
    /* Weights out of 16: map_page 6, map_range 2, unmap_page 4, translate 3, walk 1. */
    static const uint8_t op_of[16] = {0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4};
    unsigned op = op_of[byte(in) % 16];
    mm->op_name = op_names[op];

    struct expect e;
    memset(&e, 0, sizeof e);
    mm->sim.flush_count = 0;
    mm->sim.flush_all_count = 0;
    size_t frees_before = mm->frames.frees;
    enum paging_error r = PAGING_OK;
    if (!ops[op](mm, in, &e, &r)) {
        return false;
    }
    mm->ops++;
    mm->results[op][r]++; /* r is in the enum: the op checked it against the model */
    mm->dry_refusals += r == PAGING_ERR_FRAME_ALLOCATION_FAILED && mm->frames.frees > frees_before;
    mm->widenings += e.flush_all;
    mm->widened_w += e.widened_w;
    mm->widened_nx += e.widened_nx;
    return check_state(mm, &e);
}

bool mapper_model_step(struct mapper_model *mm, struct mapper_model_bytes *in) {
    jmp_buf jump;
    mm->sim.panic_jump = &jump;
    if (setjmp(jump) != 0) {
        mm->sim.panic_jump = NULL;
        return fail(mm, __LINE__, "no panic", "panic: %s", mm->sim.panic_message);
    }
    bool ok = run_op(mm, in);
    mm->sim.panic_jump = NULL;
    return ok;
}
