/*
 * mapper.c - x86_64 4-level page-table mapper (address and entry layout in mapper.h).
 *
 *   level 4: PML4   index = virt[47:39]    entry -> PDPT
 *   level 3: PDPT   index = virt[38:30]    entry -> PD,  or a 1 GiB page when PS
 *   level 2: PD     index = virt[29:21]    entry -> PT,  or a 2 MiB page when PS
 *   level 1: PT     index = virt[20:12]    entry -> 4 KiB frame
 *
 * Table entries are read and written through volatile pointers: the CPU's page walker reads
 * them (and sets A/D bits) behind the compiler's back, and each update must be a single
 * aligned 64-bit store.
 *
 * Locking: each public function that takes a mapper runs its body between enter() and leave(),
 * which take hw.lock once; the body is static code that never locks (map_page, map_range,
 * unmap_page, translate, walk_table), and none calls another public function while it holds the
 * lock (paging_identity_map_range is paging_map_range, called without it), so one call never
 * takes the lock twice. Only the caller's code can call back in (mapper.h, Re-entry), and enter()
 * refuses that before it locks.
 */
#include "paging/mapper.h"

#define LEVEL_PML4 4
#define LEVEL_PT   1

/* Bit position of the lowest virtual-address bit that indexes a table of @level. */
static unsigned level_shift(int level) {
    return 12u + 9u * (unsigned)(level - 1);
}

static unsigned index_at(uint64_t virt, int level) {
    return (unsigned)(virt >> level_shift(level)) & (PAGING_ENTRIES_PER_TABLE - 1);
}

/* Size of the page a leaf at @level maps: 4 KiB, 2 MiB or 1 GiB. */
static uint64_t leaf_size(int level) {
    return UINT64_C(1) << level_shift(level);
}

static bool is_leaf(uint64_t entry, int level) {
    return level == LEVEL_PT || (level <= 3 && (entry & PAGING_FLAG_HUGE_PAGE) != 0);
}

_Noreturn static void fail(const struct paging_mapper *m, const char *message) {
    if (m->hw.panic != NULL) {
        m->hw.panic(m->hw.ctx, message);
    }
    __builtin_trap();
}

/* Starts a public call on @m. PAGING_ERR_INVALID_ARGUMENT when @m is NULL: every public call on a
 * mapper starts here, so this one check refuses it for all of them before anything reads it.
 * PAGING_ERR_REENTERED, having touched nothing, when the caller is already inside one (mapper.h,
 * Re-entry): with a lock its held hook knows, as another CPU's call may be in progress too;
 * without one in_call does. Else takes the lock and marks the call. */
static enum paging_error enter(struct paging_mapper *m) {
    if (m == NULL) {
        return PAGING_ERR_INVALID_ARGUMENT;
    }
    const struct paging_lock *l = &m->hw.lock;
    if (l->held != NULL ? l->held(l->ctx) : m->in_call) {
        return PAGING_ERR_REENTERED;
    }
    if (l->lock != NULL) {
        l->lock(l->ctx);
    }
    m->in_call = true;
    return PAGING_OK;
}

/* Ends a public call that enter() started. */
static void leave(struct paging_mapper *m) {
    m->in_call = false;
    if (m->hw.lock.unlock != NULL) {
        m->hw.lock.unlock(m->hw.lock.ctx);
    }
}

static volatile uint64_t *table_at(const struct paging_mapper *m, uint64_t phys) {
    void *table = m->hw.phys_to_virt(m->hw.ctx, phys);
    if (table == NULL) {
        fail(m, "table_at: phys_to_virt returned NULL for a page table");
    }
    return table;
}

bool paging_is_canonical(uint64_t virt) {
    uint64_t top = virt >> 47;
    return top == 0 || top == 0x1ffff;
}

/* Where a walk for @virt stopped: at a PT entry, a huge-page entry or a non-present entry. */
struct stop {
    int level;
    volatile uint64_t *entry;
};

/* The one walk of the tables for @virt: path[level] points at the entry for @virt in the table of
 * each level visited, down to the level returned, where the walk stopped (see struct stop). */
static int walk_path(const struct paging_mapper *m, uint64_t virt, volatile uint64_t **path) {
    uint64_t table = m->root_phys;
    for (int level = LEVEL_PML4;; level--) {
        path[level] = &table_at(m, table)[index_at(virt, level)];
        uint64_t e = *path[level];
        if ((e & PAGING_FLAG_PRESENT) == 0 || is_leaf(e, level)) {
            return level;
        }
        table = e & PAGING_ADDRESS_MASK;
    }
}

static struct stop walk_to(const struct paging_mapper *m, uint64_t virt) {
    volatile uint64_t *path[LEVEL_PML4 + 1];
    int level = walk_path(m, virt, path);
    struct stop s = {level, path[level]};
    return s;
}

enum paging_error paging_mapper_init(struct paging_mapper *m, uint64_t cr3,
                                     const struct paging_hw *hw,
                                     const struct paging_frame_source *frames) {
    if (m == NULL || hw == NULL || frames == NULL || hw->phys_to_virt == NULL ||
        hw->flush_tlb_page == NULL || hw->flush_tlb_all == NULL || frames->allocate == NULL ||
        frames->free == NULL || (hw->lock.lock == NULL) != (hw->lock.unlock == NULL) ||
        (hw->lock.lock == NULL) != (hw->lock.held == NULL)) {
        return PAGING_ERR_INVALID_ARGUMENT;
    }
    m->root_phys = cr3 & PAGING_ADDRESS_MASK;
    m->hw = *hw;
    m->frames = *frames;
    m->in_call = false;
    return PAGING_OK;
}

static enum paging_error check_page_args(uint64_t virt, uint64_t phys, uint64_t flags) {
    if (!paging_is_canonical(virt)) {
        return PAGING_ERR_NON_CANONICAL;
    }
    if ((virt | phys) % PAGING_PAGE_SIZE != 0) {
        return PAGING_ERR_MISALIGNED;
    }
    if (phys >= PAGING_PHYS_LIMIT) {
        return PAGING_ERR_PHYS_OUT_OF_RANGE;
    }
    if ((flags & ~PAGING_LEAF_FLAGS) != 0) {
        return PAGING_ERR_INVALID_FLAGS;
    }
    return PAGING_OK;
}

/* Widens the existing intermediate entries path[LEVEL_PML4] down to path[lowest] that lack W or
 * U the leaf's @flags need, or that carry NX an executable leaf does not: rights combine along
 * the walk, so an intermediate that forbids what the leaf asks for would overrule it. Only the
 * rights the leaf asks for, so that a read-only leaf never lifts the write protection an old
 * entry puts on its neighbours. Returns whether an entry changed; the caller must then flush the
 * whole TLB (flush_tlb_all). A widened entry is a PD, PDPT or PML4 entry: it controls every page
 * of the 2 MiB, 1 GiB or 512 GiB under it, not only the one being mapped, and the TLB may hold
 * any of them with the narrower rights, which would raise a spurious page fault (Intel SDM vol.
 * 3A, 4.10.4.3: R/W or U/S changed from 0 to 1, XD from 1 to 0), fatal in the kernel. For an
 * entry that references another paging structure, 4.10.4.2 recommends INVLPG of every page
 * number under it, or MOV to CR3 (no global pages), or MOV to CR4 toggling PGE: INVLPG would be
 * 512 instructions at the least, so one whole flush it is. Widening is rare (entries the mapper
 * creates are P|W and carry no NX), so the cost of refilling the TLB is too. */
static bool widen_path(volatile uint64_t *const *path, int lowest, uint64_t flags) {
    uint64_t needs = PAGING_FLAG_PRESENT | (flags & (PAGING_FLAG_WRITABLE | PAGING_FLAG_USER));
    uint64_t forbids = (flags & PAGING_FLAG_NO_EXECUTE) != 0 ? 0 : PAGING_FLAG_NO_EXECUTE;
    bool widened = false;
    for (int level = LEVEL_PML4; level >= lowest; level--) {
        uint64_t e = *path[level];
        if ((e & needs) != needs || (e & forbids) != 0) {
            *path[level] = (e | needs) & ~forbids;
            widened = true;
        }
    }
    return widened;
}

/* Refuses the 4 KiB page at @virt when it is mapped or lies in a 2 MiB or 1 GiB page. Reads only.
 */
static enum paging_error check_unmapped(const struct paging_mapper *m, uint64_t virt) {
    struct stop s = walk_to(m, virt);
    if ((*s.entry & PAGING_FLAG_PRESENT) == 0) {
        return PAGING_OK;
    }
    return s.level == LEVEL_PT ? PAGING_ERR_ALREADY_MAPPED : PAGING_ERR_PARENT_HUGE_PAGE;
}

/* Links the PDPT, PD and PT missing on the way to the PT entry of @virt, which check_unmapped()
 * passed. Every frame is taken and zeroed before anything is written, so that on
 * PAGING_ERR_FRAME_ALLOCATION_FAILED no frame is kept and no entry changed; the new tables are
 * linked bottom-up and published with one store into the existing table, so the walker never
 * sees a half-built path. */
static enum paging_error link_tables(struct paging_mapper *m, uint64_t virt, uint64_t table_flags) {
    volatile uint64_t *path[LEVEL_PML4 + 1];
    int missing_level = walk_path(m, virt, path);
    /* new_tables[i] becomes the table of level missing_level - 1 - i; the last one is the PT. */
    int missing = missing_level - LEVEL_PT;
    uint64_t new_tables[LEVEL_PML4 - 1];
    for (int i = 0; i < missing; i++) {
        if (!m->frames.allocate(m->frames.ctx, &new_tables[i])) {
            while (i > 0) {
                m->frames.free(m->frames.ctx, new_tables[--i]);
            }
            return PAGING_ERR_FRAME_ALLOCATION_FAILED;
        }
        if (new_tables[i] % PAGING_PAGE_SIZE != 0 || new_tables[i] >= PAGING_PHYS_LIMIT) {
            fail(m, "paging_map_page, paging_map_range: the frame source returned a misaligned or "
                    "out-of-range frame");
        }
        __builtin_memset((void *)table_at(m, new_tables[i]), 0, PAGING_PAGE_SIZE);
    }
    for (int i = missing - 1; i > 0; i--) {
        int parent_level = missing_level - i;
        table_at(m, new_tables[i - 1])[index_at(virt, parent_level)] = new_tables[i] | table_flags;
    }
    if (missing > 0) {
        *path[missing_level] = new_tables[0] | table_flags;
    }
    return PAGING_OK;
}

/* Writes @leaf into the PT entry of @virt, whose tables link_tables() linked, after widening the
 * intermediate entries above it for @flags. Returns whether one was widened: the caller must
 * then flush the whole TLB. (The tables the mapper creates need no widening: they are P|W, with
 * U for a user leaf, and carry no NX.) */
static bool set_leaf(const struct paging_mapper *m, uint64_t virt, uint64_t leaf, uint64_t flags) {
    volatile uint64_t *path[LEVEL_PML4 + 1];
    if (walk_path(m, virt, path) != LEVEL_PT || (*path[LEVEL_PT] & PAGING_FLAG_PRESENT) != 0) {
        fail(m, "paging_map_page, paging_map_range: the tables linked for a page vanished");
    }
    bool widened = widen_path(path, LEVEL_PT + 1, flags);
    *path[LEVEL_PT] = leaf;
    return widened;
}

static enum paging_error map_page(struct paging_mapper *m, uint64_t virt, uint64_t phys,
                                  uint64_t flags) {
    enum paging_error r = check_page_args(virt, phys, flags);
    if (r == PAGING_OK) {
        r = check_unmapped(m, virt);
    }
    flags |= PAGING_FLAG_PRESENT;
    if (r == PAGING_OK) {
        r = link_tables(m, virt, PAGING_TABLE_FLAGS | (flags & PAGING_FLAG_USER));
    }
    if (r == PAGING_OK && set_leaf(m, virt, phys | flags, flags)) {
        m->hw.flush_tlb_all(m->hw.ctx);
    }
    return r;
}

enum paging_error paging_map_page(struct paging_mapper *m, uint64_t virt, uint64_t phys,
                                  uint64_t flags) {
    enum paging_error r = enter(m);
    if (r == PAGING_OK) {
        r = map_page(m, virt, phys, flags);
        leave(m);
    }
    return r;
}

static enum paging_error unmap_page(struct paging_mapper *m, uint64_t virt, uint64_t *phys_out) {
    if (!paging_is_canonical(virt)) {
        return PAGING_ERR_NON_CANONICAL;
    }
    if (virt % PAGING_PAGE_SIZE != 0) {
        return PAGING_ERR_MISALIGNED;
    }
    struct stop s = walk_to(m, virt);
    uint64_t e = *s.entry;
    if ((e & PAGING_FLAG_PRESENT) == 0) {
        return PAGING_ERR_NOT_MAPPED;
    }
    if (s.level != LEVEL_PT) {
        return PAGING_ERR_PARENT_HUGE_PAGE;
    }
    *s.entry = 0;
    m->hw.flush_tlb_page(m->hw.ctx, virt);
    if (phys_out != NULL) {
        *phys_out = e & PAGING_ADDRESS_MASK;
    }
    return PAGING_OK;
}

enum paging_error paging_unmap_page(struct paging_mapper *m, uint64_t virt, uint64_t *phys_out) {
    enum paging_error r = enter(m);
    if (r == PAGING_OK) {
        r = unmap_page(m, virt, phys_out);
        leave(m);
    }
    return r;
}

static enum paging_error translate(const struct paging_mapper *m, uint64_t virt,
                                   struct paging_translation *out) {
    if (out == NULL) {
        return PAGING_ERR_INVALID_ARGUMENT;
    }
    if (!paging_is_canonical(virt)) {
        return PAGING_ERR_NON_CANONICAL;
    }
    struct stop s = walk_to(m, virt);
    uint64_t e = *s.entry;
    if ((e & PAGING_FLAG_PRESENT) == 0) {
        return PAGING_ERR_NOT_MAPPED;
    }
    uint64_t size = leaf_size(s.level);
    uint64_t address_bits = PAGING_ADDRESS_MASK & ~(size - 1);
    out->phys = (e & address_bits) | (virt & (size - 1));
    out->page_size = size;
    out->flags = e & ~address_bits;
    return PAGING_OK;
}

enum paging_error paging_translate(struct paging_mapper *m, uint64_t virt,
                                   struct paging_translation *out) {
    enum paging_error r = enter(m);
    if (r == PAGING_OK) {
        r = translate(m, virt, out);
        leave(m);
    }
    return r;
}

/* The arguments of paging_map_range(): its first page's as paging_map_page() checks them, then
 * the size, then the range's end (wrap, canonical hole, PAGING_PHYS_LIMIT), so that every page's
 * arguments are good before anything is done. */
static enum paging_error check_range_args(uint64_t virt, uint64_t phys, uint64_t size,
                                          uint64_t flags) {
    enum paging_error r = check_page_args(virt, phys, flags);
    if (r != PAGING_OK || size % PAGING_PAGE_SIZE != 0) {
        return r != PAGING_OK ? r : PAGING_ERR_MISALIGNED;
    }
    if (size == 0) {
        return PAGING_OK;
    }
    if (size - 1 > UINT64_MAX - virt || size - 1 > UINT64_MAX - phys) {
        return PAGING_ERR_INVALID_ARGUMENT;
    }
    uint64_t last_byte = virt + size - 1;
    /* From the lower half, the range reaches the upper one only through the hole. */
    if (!paging_is_canonical(last_byte) || ((virt ^ last_byte) >> 63) != 0) {
        return PAGING_ERR_NON_CANONICAL;
    }
    if (phys + size - 1 >= PAGING_PHYS_LIMIT) {
        return PAGING_ERR_PHYS_OUT_OF_RANGE;
    }
    return PAGING_OK;
}

/* In three passes, so that an error leaves every leaf entry as it was: arguments and every
 * page's entry checked (nothing written), every page's tables linked (the only pass that can
 * run out of frames: the tables linked before stay), every leaf written. */
static enum paging_error map_range(struct paging_mapper *m, uint64_t virt, uint64_t phys,
                                   uint64_t size, uint64_t flags) {
    enum paging_error r = check_range_args(virt, phys, size, flags);
    for (uint64_t offset = 0; r == PAGING_OK && offset < size; offset += PAGING_PAGE_SIZE) {
        r = check_unmapped(m, virt + offset);
    }
    flags |= PAGING_FLAG_PRESENT;
    uint64_t table_flags = PAGING_TABLE_FLAGS | (flags & PAGING_FLAG_USER);
    for (uint64_t offset = 0; r == PAGING_OK && offset < size; offset += PAGING_PAGE_SIZE) {
        r = link_tables(m, virt + offset, table_flags);
    }
    if (r != PAGING_OK) {
        return r;
    }
    bool widened = false;
    for (uint64_t offset = 0; offset < size; offset += PAGING_PAGE_SIZE) {
        widened |= set_leaf(m, virt + offset, (phys + offset) | flags, flags);
    }
    if (widened) {
        m->hw.flush_tlb_all(m->hw.ctx);
    }
    return PAGING_OK;
}

enum paging_error paging_map_range(struct paging_mapper *m, uint64_t virt, uint64_t phys,
                                   uint64_t size, uint64_t flags) {
    enum paging_error r = enter(m);
    if (r == PAGING_OK) {
        r = map_range(m, virt, phys, size, flags);
        leave(m);
    }
    return r;
}

enum paging_error paging_identity_map_range(struct paging_mapper *m, uint64_t phys, uint64_t size,
                                            uint64_t flags) {
    return paging_map_range(m, phys, phys, size, flags);
}

/* Visits the table at @table_phys of @level, which maps virtual addresses from @virt_base. */
static bool walk_table(const struct paging_mapper *m, const struct paging_walk_visitor *v,
                       uint64_t table_phys, int level, uint64_t virt_base) {
    if (v->table != NULL && !v->table(v->ctx, level, table_phys)) {
        return false;
    }
    volatile uint64_t *table = table_at(m, table_phys);
    for (unsigned i = 0; i < PAGING_ENTRIES_PER_TABLE; i++) {
        uint64_t e = table[i];
        if ((e & PAGING_FLAG_PRESENT) == 0) {
            continue;
        }
        uint64_t virt = virt_base | ((uint64_t)i << level_shift(level));
        if (level == LEVEL_PML4 && i >= PAGING_ENTRIES_PER_TABLE / 2) {
            virt |= UINT64_C(0xffff000000000000); /* sign-extend bit 47 */
        }
        if (is_leaf(e, level)) {
            uint64_t size = leaf_size(level);
            uint64_t address_bits = PAGING_ADDRESS_MASK & ~(size - 1);
            struct paging_leaf leaf = {virt, e & address_bits, size, e & ~address_bits};
            if (v->leaf != NULL && !v->leaf(v->ctx, &leaf)) {
                return false;
            }
        } else if (!walk_table(m, v, e & PAGING_ADDRESS_MASK, level - 1, virt)) {
            return false;
        }
    }
    return true;
}

enum paging_error paging_walk(struct paging_mapper *m, const struct paging_walk_visitor *visitor) {
    if (visitor == NULL) {
        return PAGING_ERR_INVALID_ARGUMENT;
    }
    enum paging_error r = enter(m); /* refuses a NULL @m */
    if (r == PAGING_OK) {
        walk_table(m, visitor, m->root_phys, LEVEL_PML4, 0);
        leave(m);
    }
    return r;
}

const char *paging_error_name(enum paging_error error) {
    switch (error) {
    case PAGING_OK:
        return "ok";
    case PAGING_ERR_FRAME_ALLOCATION_FAILED:
        return "frame allocation failed";
    case PAGING_ERR_ALREADY_MAPPED:
        return "already mapped";
    case PAGING_ERR_PARENT_HUGE_PAGE:
        return "huge page on the way";
    case PAGING_ERR_NOT_MAPPED:
        return "not mapped";
    case PAGING_ERR_MISALIGNED:
        return "misaligned address";
    case PAGING_ERR_NON_CANONICAL:
        return "non-canonical address";
    case PAGING_ERR_PHYS_OUT_OF_RANGE:
        return "physical address out of range";
    case PAGING_ERR_INVALID_FLAGS:
        return "invalid flags";
    case PAGING_ERR_INVALID_ARGUMENT:
        return "invalid argument";
    case PAGING_ERR_REENTERED:
        return "re-entered";
    }
    return "unknown error";
}
