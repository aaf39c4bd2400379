/*
 * mapper.h - map, translate and unmap 4 KiB pages in x86_64 4-level page tables.
 *
 * A 48-bit virtual address selects one entry in each of four 512-entry tables:
 *
 *   63          48 47      39 38      30 29      21 20      12 11            0
 *  +--------------+----------+----------+----------+----------+---------------+
 *  | sign (=b47)  | PML4 idx | PDPT idx |  PD idx  |  PT idx  |  page offset  |
 *  +--------------+----------+----------+----------+----------+---------------+
 *       16 bits      9 bits     9 bits     9 bits     9 bits       12 bits
 *
 *  CR3 -> PML4 --entry--> PDPT --entry--> PD --entry--> PT --entry--> 4 KiB frame
 *                          |                |
 *                          PS=1: 1 GiB page PS=1: 2 MiB page (the walk stops here)
 *
 * Canonical addresses: bits 63..47 all equal, i.e. [0, 0x00007fffffffffff] (lower half) and
 * [0xffff800000000000, 0xffffffffffffffff] (higher half).
 *
 * Every table entry is 64 bits:
 *
 *   63  62..59 58..52 51                          12 11..9  8   7   6   5   4   3   2   1   0
 *  +--+------+------+-------------------------------+-----+---+---+---+---+---+---+---+---+---+
 *  |NX| PKEY | avl  | physical address of the next  | avl | G |PS | D | A |PCD|PWT| U | W | P |
 *  |  |      |      | table or the frame (4 KiB al.)|     |   |PAT|   |   |   |   |   |   |   |
 *  +--+------+------+-------------------------------+-----+---+---+---+---+---+---+---+---+---+
 *
 *   P present, W writable, U user-accessible, PWT write-through, PCD cache-disable, A accessed,
 *   D dirty (leaf), PS page size (PDPT/PD entries: the entry maps a 1 GiB / 2 MiB page; in a
 *   PT entry the same bit is PAT), G global (leaf), avl ignored by hardware, PKEY protection
 *   key (leaf, when CR4.PKE), NX no-execute (when EFER.NXE). For 2 MiB and 1 GiB pages bit 12 is
 *   PAT and the frame address starts at bit 21 / bit 30.
 *
 * Access rights along a walk combine: a page is writable (user-accessible) only when W (U) is
 * set at every level, and non-executable when NX is set at any level. So the mapper creates
 * intermediate entries as P|W (plus U when the leaf asks for U), widens an existing one that
 * lacks W or U or carries NX against what a new leaf asks for, and lets the leaf restrict.
 * A widened entry controls every page under it (2 MiB for a PD entry, up to 512 GiB for a PML4
 * entry), whose cached translations may still hold the narrower rights: the mapper then flushes
 * the whole TLB (flush_tlb_all), not only the page it mapped (see widen_path in mapper.c).
 *
 * Hardware access is injected (struct paging_hw): the mapper reads and writes tables through
 * phys_to_virt and never executes invlpg or reads CR3 itself. Page-table frames come from a
 * struct paging_frame_source. Calls on one mapper are serialised by the lock given in struct
 * paging_hw (struct paging_lock): every public call that takes @m takes it once, for its whole
 * run, so the frame source and the flushes are called under it. Without a lock the caller
 * serialises calls itself.
 *
 * Re-entry: the hooks (struct paging_hw's and the frame source's) and paging_walk()'s visitor
 * callbacks are the caller's code, run in the middle of a call, with the lock held. A public call
 * on the same mapper made from inside them would deadlock on the lock, or, without one, change
 * the tables under a walk or a half-done map (which holds pointers into them across the frame
 * source's allocate). So such a call returns PAGING_ERR_REENTERED before it touches anything,
 * the lock included. A call from another CPU that comes while a callback runs is no re-entry: it
 * must wait for the lock and then go ahead. So the test asks about the calling context: with a
 * lock, its held hook (does the caller hold it already?); without one, where no other context
 * may call meanwhile, the mapper's own mark of a call in progress (in_call).
 */
#ifndef PAGING_MAPPER_H
#define PAGING_MAPPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paging/frame_source.h"

/* PAGING_PAGE_SIZE, 4 KiB and mapped by a PT entry, is in frame_source.h. */
#define PAGING_LARGE_PAGE_SIZE   UINT64_C(0x200000)   /* 2 MiB, a PD entry with PS */
#define PAGING_HUGE_PAGE_SIZE    UINT64_C(0x40000000) /* 1 GiB, a PDPT entry with PS */
#define PAGING_ENTRIES_PER_TABLE 512u

/* Entry bits, at their hardware positions. */
#define PAGING_FLAG_PRESENT       (UINT64_C(1) << 0)
#define PAGING_FLAG_WRITABLE      (UINT64_C(1) << 1)
#define PAGING_FLAG_USER          (UINT64_C(1) << 2)
#define PAGING_FLAG_WRITE_THROUGH (UINT64_C(1) << 3)
#define PAGING_FLAG_CACHE_DISABLE (UINT64_C(1) << 4)
#define PAGING_FLAG_ACCESSED      (UINT64_C(1) << 5)
#define PAGING_FLAG_DIRTY         (UINT64_C(1) << 6)
#define PAGING_FLAG_HUGE_PAGE     (UINT64_C(1) << 7) /* PS in PDPT/PD entries, PAT in PT entries */
#define PAGING_FLAG_GLOBAL        (UINT64_C(1) << 8)
#define PAGING_FLAG_AVAILABLE_0   (UINT64_C(1) << 9) /* bits 9..11: free for the kernel */
#define PAGING_FLAG_AVAILABLE_1   (UINT64_C(1) << 10)
#define PAGING_FLAG_AVAILABLE_2   (UINT64_C(1) << 11)
#define PAGING_FLAG_NO_EXECUTE    (UINT64_C(1) << 63)

/* Bits 12..51 of an entry: the physical address of a 4 KiB frame or of the next table. */
#define PAGING_ADDRESS_MASK UINT64_C(0x000ffffffffff000)

/* Flags paging_map_page() accepts for a 4 KiB leaf; PRESENT is added if missing. */
#define PAGING_LEAF_FLAGS                                                                          \
    (PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE | PAGING_FLAG_USER | PAGING_FLAG_WRITE_THROUGH |   \
     PAGING_FLAG_CACHE_DISABLE | PAGING_FLAG_ACCESSED | PAGING_FLAG_DIRTY | PAGING_FLAG_GLOBAL |   \
     PAGING_FLAG_AVAILABLE_0 | PAGING_FLAG_AVAILABLE_1 | PAGING_FLAG_AVAILABLE_2 |                 \
     PAGING_FLAG_NO_EXECUTE)

/* Flags of the intermediate entries the mapper creates (USER is added for user leaves). */
#define PAGING_TABLE_FLAGS (PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE)

enum paging_error {
    PAGING_OK = 0,
    /* "frame allocation failed": the frame source had no frame for a new page table. Nothing was
     * changed by paging_map_page(); paging_map_range() keeps the tables it linked (see there). */
    PAGING_ERR_FRAME_ALLOCATION_FAILED,
    /* "already mapped": map: the 4 KiB page is already mapped. Nothing was changed. */
    PAGING_ERR_ALREADY_MAPPED,
    /* "huge page on the way": a PDPT or PD entry on the way is a 1 GiB or 2 MiB page; 4 KiB
     * operations refuse it. */
    PAGING_ERR_PARENT_HUGE_PAGE,
    /* "not mapped": unmap/translate: no present mapping covers the address. */
    PAGING_ERR_NOT_MAPPED,
    /* "misaligned address": a virtual or physical address (or a range size) is not
     * 4 KiB-aligned. */
    PAGING_ERR_MISALIGNED,
    /* "non-canonical address": the virtual address is not canonical (bits 63..47 differ). */
    PAGING_ERR_NON_CANONICAL,
    /* "physical address out of range": the physical address is not below PAGING_PHYS_LIMIT
     * (2^52). */
    PAGING_ERR_PHYS_OUT_OF_RANGE,
    /* "invalid flags": flags outside PAGING_LEAF_FLAGS (PS/PAT, an address bit 12..51 or one of
     * bits 52..62). */
    PAGING_ERR_INVALID_FLAGS,
    /* "invalid argument": NULL pointer, missing callback, or a range that wraps past 2^64. */
    PAGING_ERR_INVALID_ARGUMENT,
    /* "re-entered": called from a hook or a walk callback of a call in progress on the same
     * mapper (see Re-entry above). Nothing was read or changed, and the lock was not taken. */
    PAGING_ERR_REENTERED,
};

/* The lock that serialises calls on one mapper; all three hooks or none (no lock). It must not be
 * one the mapper's other hooks take: they are called with it held. */
struct paging_lock {
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    /* Whether the calling context holds the lock now (in the kernel the CPU: a spinlock holder
     * is not preempted). Only then is a call re-entry; any other caller waits in lock. */
    bool (*held)(void *ctx);
    void *ctx;
};

struct paging_hw {
    /* Pointer through which the 4 KiB page-table frame at @phys can be read and written. Must
     * not fail for frames of the tables or of the frame source. */
    void *(*phys_to_virt)(void *ctx, uint64_t phys);
    /* Invalidate the TLB entry (and paging-structure caches) of @virt: invlpg. */
    void (*flush_tlb_page)(void *ctx, uint64_t virt);
    /* Invalidate every TLB entry, global ones included, and the paging-structure caches: MOV to
     * CR4 toggling PGE when it is set, else MOV to CR3 (Intel SDM vol. 3A, 4.10.4.1). Both this
     * and flush_tlb_page must leave no stale entry on any CPU that uses the tables: the mapper
     * calls them once, on one CPU (the kernel's hooks shoot the entry down on the others as well,
     * kernel/memory.c). */
    void (*flush_tlb_all)(void *ctx);
    /* Called with "function: reason" when an invariant breaks (phys_to_virt returned NULL, the
     * frame source returned a misaligned frame or one at or above PAGING_PHYS_LIMIT). Must not
     * return; NULL means __builtin_trap(). */
    void (*panic)(void *ctx, const char *message);
    void *ctx;
    /* Taken around each public call on the mapper (paging_map_page, paging_map_range,
     * paging_identity_map_range, paging_unmap_page, paging_translate, paging_walk), error paths
     * included, once its held hook has said the call is not re-entry; not around the
     * PAGING_ERR_INVALID_ARGUMENT of a NULL mapper (any of them) or of paging_walk's NULL
     * visitor, returned before the lock, nor around a panic, which does not return. Optional:
     * all zero means no lock. */
    struct paging_lock lock;
};

/* All fields but in_call are read-only after paging_mapper_init(). */
struct paging_mapper {
    uint64_t root_phys; /* PML4 physical address (CR3 without its flag bits) */
    struct paging_hw hw;
    struct paging_frame_source frames;
    /* Set by each public call for its whole run, under the lock; read to refuse re-entry only
     * when there is no lock (with one, it may be another CPU's call that set it). */
    bool in_call;
};

/* What paging_translate() found. */
struct paging_translation {
    uint64_t phys;      /* physical address of the translated byte (page base + offset) */
    uint64_t page_size; /* PAGING_PAGE_SIZE, PAGING_LARGE_PAGE_SIZE or PAGING_HUGE_PAGE_SIZE */
    uint64_t flags;     /* the leaf entry without its address bits (PS set for 2M/1G pages) */
};

/* One present leaf, reported by paging_walk(). */
struct paging_leaf {
    uint64_t virt; /* canonical virtual address of the page */
    uint64_t phys;
    uint64_t size; /* 4 KiB, 2 MiB or 1 GiB */
    uint64_t flags;
};

struct paging_walk_visitor {
    /* Called for every page table reached, level 4 (PML4) down to 1 (PT). Optional. */
    bool (*table)(void *ctx, int level, uint64_t table_phys);
    /* Called for every present leaf. Optional. Either callback returns false to stop. */
    bool (*leaf)(void *ctx, const struct paging_leaf *leaf);
    void *ctx;
};

/*
 * paging_mapper_init - attach a mapper to the PML4 whose physical address is in @cr3 (flag and
 * PCID bits 0..11 and bits above 51 are ignored). Nothing is read or written yet.
 * Returns PAGING_OK, or PAGING_ERR_INVALID_ARGUMENT when a pointer or a required callback
 * (phys_to_virt, flush_tlb_page, flush_tlb_all, allocate, free) is NULL, or when some but not all
 * of hw->lock.lock, hw->lock.unlock and hw->lock.held are given. Not for a mapper in use.
 */
enum paging_error paging_mapper_init(struct paging_mapper *m, uint64_t cr3,
                                     const struct paging_hw *hw,
                                     const struct paging_frame_source *frames);

/*
 * paging_map_page - map the 4 KiB page at @virt to the frame at @phys with @flags (PRESENT is
 * implied), creating missing PDPT/PD/PT tables with frames from the frame source, zeroed before
 * they are linked. All frames are taken before anything is written: on any error the tables are
 * exactly as before and no frame is kept. If an existing intermediate entry lacks W or U that
 * @flags need, or has NX when @flags do not, it is widened (NX cleared) and the whole TLB
 * flushed (flush_tlb_all: the entry covers other pages too); otherwise there is no flush (a
 * not-present entry is never cached).
 * Returns PAGING_OK, or PAGING_ERR_NON_CANONICAL, _MISALIGNED, _PHYS_OUT_OF_RANGE,
 * _INVALID_FLAGS, _ALREADY_MAPPED, _PARENT_HUGE_PAGE, _FRAME_ALLOCATION_FAILED, _INVALID_ARGUMENT
 * (@m NULL), _REENTERED (called from a hook or walk callback of a call on @m: see Re-entry
 * above).
 */
enum paging_error paging_map_page(struct paging_mapper *m, uint64_t virt, uint64_t phys,
                                  uint64_t flags);

/*
 * paging_unmap_page - remove the 4 KiB mapping of @virt and flush its TLB entry. The frame is
 * not freed: it is returned in *phys_out (if not NULL) for the caller to free. Page tables that
 * become empty stay in place.
 * Returns PAGING_OK, or PAGING_ERR_NON_CANONICAL, _MISALIGNED, _NOT_MAPPED, _PARENT_HUGE_PAGE
 * (the address lies in a 2 MiB / 1 GiB page, which is left alone), _INVALID_ARGUMENT (@m NULL),
 * _REENTERED (as for paging_map_page()).
 */
enum paging_error paging_unmap_page(struct paging_mapper *m, uint64_t virt, uint64_t *phys_out);

/*
 * paging_translate - walk the tables for @virt (any alignment), through 4 KiB, 2 MiB and 1 GiB
 * pages alike, and fill *out. @m is not const: the call marks itself in progress (in_call).
 * Returns PAGING_OK, or PAGING_ERR_NON_CANONICAL, _NOT_MAPPED, _INVALID_ARGUMENT (@m or out NULL),
 * _REENTERED (as for paging_map_page()).
 */
enum paging_error paging_translate(struct paging_mapper *m, uint64_t virt,
                                   struct paging_translation *out);

/*
 * paging_map_range - map [virt, virt + size) to [phys, phys + size) page by page, as
 * paging_map_page() does, but in three passes, so that a failure writes no leaf entry: first
 * the arguments (those of the first page as paging_map_page() checks them, even for size 0,
 * then size, then the range's end) and every page's entry are checked, and any error returned
 * with nothing changed and no frame taken; then the tables every page needs are linked, page by
 * page, each page's frames taken before its tables are written; then every leaf is written, and
 * existing intermediate entries widened, with one whole-TLB flush if any entry was. So a page
 * already mapped (or in a 2 MiB or 1 GiB page) anywhere in the range is refused before any
 * frame is taken, a not-present entry keeps whatever the kernel keeps in it, and no page is
 * mapped and unmapped again. Only PAGING_ERR_FRAME_ALLOCATION_FAILED comes after a change: the
 * tables linked for the pages before the one that ran out of frames stay, empty, and are reused
 * by later maps (not leaked: mapping those pages takes no frame for them).
 * Returns PAGING_OK or one of paging_map_page()'s errors: PAGING_ERR_NON_CANONICAL when the
 * range runs into the non-canonical hole, _PHYS_OUT_OF_RANGE when it ends beyond
 * PAGING_PHYS_LIMIT, _MISALIGNED when size is not a multiple of 4 KiB, _ALREADY_MAPPED or
 * _PARENT_HUGE_PAGE for the first page in the range that is, _INVALID_ARGUMENT when @m is NULL
 * or a range wraps past 2^64; PAGING_ERR_REENTERED (as for paging_map_page()) with no page
 * mapped.
 */
enum paging_error paging_map_range(struct paging_mapper *m, uint64_t virt, uint64_t phys,
                                   uint64_t size, uint64_t flags);

/* paging_identity_map_range - paging_map_range(m, phys, phys, size, flags); same returns. */
enum paging_error paging_identity_map_range(struct paging_mapper *m, uint64_t phys, uint64_t size,
                                            uint64_t flags);

/*
 * paging_walk - visit every table and every present leaf reachable from the root, in address
 * order (a table is visited before what it maps). The callbacks run under the mapper's lock;
 * a call they make on @m returns PAGING_ERR_REENTERED (see Re-entry above) and the walk goes on
 * as the callback's answer says. @m is not const: the call marks itself in progress (in_call).
 * Returns PAGING_OK (also when a callback stopped the walk), PAGING_ERR_INVALID_ARGUMENT when
 * @m or @visitor is NULL (before the lock is taken), PAGING_ERR_REENTERED (as for
 * paging_map_page()) with no callback called.
 */
enum paging_error paging_walk(struct paging_mapper *m, const struct paging_walk_visitor *visitor);

/* paging_is_canonical - returns true when bits 63..47 of @virt are all equal. */
bool paging_is_canonical(uint64_t virt);

/* paging_error_name - the name of an error, quoted beside each value above ("ok" for PAGING_OK);
 * "unknown error" for a value outside the enum. A static string, never NULL. */
const char *paging_error_name(enum paging_error error);

#endif /* PAGING_MAPPER_H */
