/*
 * alloc/heap.h - a heap allocator over a caller-provided region of memory.
 *
 * The library owns no memory, keeps no global state and calls nothing outside itself: the caller
 * hands alloc_heap_init() a region [base, base + size), the heap's control structure is placed at
 * the start of that region, and every other call takes the heap handle. Any number of heaps can
 * coexist. It is pure C11 and builds unchanged for a hosted program and for a freestanding
 * kernel (it uses only __builtin_memcpy/__builtin_memset, which a kernel provides as memcpy and
 * memset).
 *
 * Two strategies sit behind the one interface, chosen per heap at runtime:
 *   ALLOC_STRATEGY_TLSF       the default: two-level segregated fit (TLSF). Free blocks are kept
 *                             in 41 x 16 size-class lists (18 x 16 on a 32-bit target) indexed
 *                             by two bitmaps, so allocate and free are O(1): their cost does not
 *                             grow with the number of live blocks or free fragments. A request
 *                             is served by the first block of its own class if that one is big
 *                             enough, else (good fit) from the smallest non-empty class whose
 *                             every block is big enough, else from the first of at most 4 blocks
 *                             of its own class that fits. alloc_heap_stats() moves the largest
 *                             free block to the head of its class, so the largest free block it
 *                             reports can always be requested exactly (when it is no larger than
 *                             the largest request, ALLOC_MAX_REQUEST - ALLOC_ALIGNMENT).
 *                             Recently freed small blocks are kept in bounded per-size quick
 *                             lists (ALLOC_QUICK_MAX_SIZE, ALLOC_QUICK_BIN_LIMIT in
 *                             alloc/config.h), merged back when a request needs the space.
 *   ALLOC_STRATEGY_FIRST_FIT  an address-ordered singly linked free list, first fit, neighbours
 *                             coalesced on free: the design of Rust's linked_list_allocator 0.9.
 *                             O(free fragments) per allocate and free.
 *
 * Blocks: every block has a header of two address-sized words (size of the previous block, own
 * size and state, with check bits keyed by a per-heap secret that changes on every init, the
 * earlier secret's word mixed into the next: see alloc/README.md, "Hardening") followed
 * by its payload; payloads are 16-byte aligned and block sizes a multiple of 16 bytes. Per-block
 * overhead is ALLOC_BLOCK_OVERHEAD bytes: 16 on a 64-bit target (smallest block 32 bytes, usable
 * 16), 8 on a 32-bit one (smallest block 16 bytes, usable 8), see the limits below.
 *
 * Size 0: alloc_allocate(heap, 0, align) behaves like a request for 1 byte: it returns a unique
 * minimum-size block that must be freed. alloc_realloc(heap, p, 0) likewise shrinks p to the
 * minimum block and returns it; it does not free it. A run slot (see ALLOC_FLAG_NO_SMALL_RUNS)
 * above the smallest size is not shrunk in place: it moves to a smallest slot, which is returned
 * (p's slot freed; min(old, 0) bytes are kept, so its contents need not be), or stays p if none
 * can be had.
 *
 * Bad input never corrupts the heap silently. free(NULL) does nothing. A double free, a pointer
 * that is not from this heap or not at the start of a block, a misaligned pointer and a corrupted
 * block header are detected, reported through the error hook given at init (if any) and returned
 * as an enum alloc_error; the heap is left as it was. A request whose size plus alignment
 * overflows, an alignment that is not a power of two, and a request the heap cannot satisfy
 * return NULL and leave the live blocks and the statistics as they were, with one exception:
 * before failing, the TLSF strategy returns its quick-listed blocks and its runs with no slot in
 * use (ALLOC_FLAG_NO_SMALL_RUNS) to the free lists (merging them with free neighbours), which can
 * only raise bytes_free and largest_free, lower overhead_bytes by what bytes_free gains, and change
 * free_blocks.
 *
 * The control structure at the start of the region is checked where a stray write into it would
 * otherwise send the heap astray (in a build with ALLOC_FAST_PATHS, the default; a build for size
 * trusts it): a list head is checked as a node before it is used (as a block, before it is
 * written through, and against the size its list promises), the bit maps are read only where
 * they stand for lists (other bits are ignored; alloc_heap_check() reports them), the strategy's
 * table is compared with the strategies' (and with the strategy the heap was made with) before a
 * call through it, and a request that finds no block checks that the top block has not been lost.
 * The words the fast paths test a request against are bounded, so that no value sends a request
 * past the lists, and a path they open on a heap that lacks it (runs, quick lists, realloc's
 * growth into TLSF's top block on a first-fit heap) is refused where it would act. The watermark
 * above which no byte was ever handed out (so alloc_calloc() need not clear it, with
 * ALLOC_FLAG_ZEROED_REGION) is compared with a copy of its complement before calloc trusts it and
 * before it is raised. The error hook and its context are sealed by the control structure's
 * magic word, compared before every call of the hook: a damaged hook is not called.
 * alloc_heap_extend() compares the words that name the heap's bounds (its strategy, first block,
 * end marker and end) with one another before it writes from them; a mismatch is reported at the
 * heap's address, as alloc_heap_check() reports it, since either of two words that disagree may
 * be the damaged one.
 *
 * Each of these is reported as ALLOC_ERR_CORRUPTED_HEAP (ptr: the damaged word), at once, from
 * inside the call, except a list head found damaged before use, which is damage of the list's
 * node (ALLOC_ERR_CORRUPTED_FREE_LIST, below). A damaged table, a lost top block, a fast path's
 * word opening a path the heap lacks: met before anything changes, and the call fails as on a
 * damaged block (below). A head found damaged while a block is being filed in front of it: the
 * call goes on with that block as its list's only one, and the list's old blocks are left on no
 * list, lost to allocation, where alloc_heap_check() finds them. A damaged watermark: the call
 * goes on and succeeds, and calloc clears every byte from then on. A damaged hook, context or
 * magic word: the report is dropped, and the call returns its error as ever. alloc_heap_check()
 * also checks these of the control structure's fields: the magic word, the strategy's table, the
 * first block's address and the fast paths' words against what init and extensions set (the run
 * and quick-list bounds 0 or init's one value), the heap's end marker exactly where its end puts
 * it and its size within ALLOC_MAX_HEAP, and the watermark against its copy; and it compares its
 * counts with the blocks.
 *
 * Not thread-safe: wrap a shared heap in struct alloc_locked_heap (below).
 */
#ifndef ALLOC_HEAP_H
#define ALLOC_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The block layout, chosen per target by its address width:
 *
 *   target   header (ALLOC_BLOCK_OVERHEAD)   smallest block (usable)   largest request   heap
 *   64-bit   2 x 64-bit words: 16 bytes       32 (16)                   2^46 - 16         2^47
 *   32-bit   2 x 32-bit words:  8 bytes       16 (8)                    2^23 - 16         2^24
 *
 * Payloads are ALLOC_ALIGNMENT (16) aligned on both, so a 32-bit block starts 8 bytes before a
 * 16-byte boundary. Each header word keeps its top bits as check bits (16 of 64, 8 of 32), which
 * is what bounds a 32-bit heap to 16 MiB.
 */
#if SIZE_MAX > 0xffffffffu
#define ALLOC_BLOCK_OVERHEAD 16u
#define ALLOC_MIN_BLOCK      32u
#define ALLOC_MAX_REQUEST    ((size_t)1 << 46)
#else
#define ALLOC_BLOCK_OVERHEAD 8u
#define ALLOC_MIN_BLOCK      16u
#define ALLOC_MAX_REQUEST    ((size_t)1 << 23)
#endif
/* Alignment of every payload, of the region given to alloc_heap_init() and of block sizes. */
#define ALLOC_ALIGNMENT 16u
/*
 * ALLOC_MAX_REQUEST bounds every request: a size above ALLOC_MAX_REQUEST - align (align
 * ALLOC_ALIGNMENT for malloc, calloc, realloc and batches) returns NULL at once, whether or not a
 * realloc could grow in place; it is also the largest alignment; ALLOC_MAX_HEAP the largest region
 * a heap manages (init region plus extensions).
 */
#define ALLOC_MAX_HEAP ((size_t)ALLOC_MAX_REQUEST << 1)

/* The allocation strategy of a heap, chosen at init. */
enum alloc_strategy {
    ALLOC_STRATEGY_TLSF = 0,      /* default: O(1) two-level segregated fit */
    ALLOC_STRATEGY_FIRST_FIT = 1, /* address-ordered first fit (linked_list_allocator 0.9) */
};

/* Flags for struct alloc_config.flags. */
enum alloc_flags {
    ALLOC_FLAG_POISON_ON_FREE = 1u << 0,  /* fill freed payloads; alloc_heap_check verifies */
    ALLOC_FLAG_POISON_ON_ALLOC = 1u << 1, /* fill new payloads, realloc's growth (not calloc's) */
    ALLOC_FLAG_NO_QUICK_CACHE = 1u << 2,  /* TLSF: free blocks go straight to the TLSF lists */
    /*
     * TLSF: no small-block runs. By default, requests of at most ALLOC_RUN_MAX_SIZE bytes are
     * served from runs: 1 KiB blocks cut into equal 16/32/48/64-byte slots without a header each
     * (16 bytes for a 10-byte request instead of a 32-byte block). A run with no slot in use goes
     * back to the strategy unless it is the only one of its size with a free slot; those few are
     * released when a request would fail.
     */
    ALLOC_FLAG_NO_SMALL_RUNS = 1u << 3,
    /*
     * The region (and every extension) is all zero when handed over, as fresh anonymous memory or
     * .bss is. TLSF: alloc_calloc() then zeroes only bytes that were handed out before; memory
     * never handed out is trusted to be zero, not read: a stray write into it (into the free
     * block that ends the heap, say) reaches a later calloc's caller. Ignored by first fit and
     * with ALLOC_FLAG_POISON_ON_FREE (both write into free memory), and with
     * ALLOC_FLAG_POISON_ON_ALLOC (which fills a block as it is handed out, before calloc clears
     * it).
     */
    ALLOC_FLAG_ZEROED_REGION = 1u << 4,
};

/*
 * Errors. ALLOC_OK is 0. The first group is returned by init (extend returns its two size errors);
 * the second is detected on a pointer passed to free/realloc/usable_size, its last two also on a
 * damaged block that an allocation, a merge or an extension meets, and reported through the hook
 * (free and extend return them too); the third is found by alloc_heap_check(). ALLOC_ERR_NULL_HEAP
 * is returned for a NULL heap by every call that returns an enum alloc_error, except a free of a
 * NULL ptr, which does nothing whatever the heap (ALLOC_OK), and by init for a NULL out. Each
 * call below lists the errors it returns and reports; alloc_error_name() gives each a short English
 * name.
 */
enum alloc_error {
    ALLOC_OK = 0,
    ALLOC_ERR_NULL_REGION,       /* "null region": the region given to init is NULL */
    ALLOC_ERR_MISALIGNED_REGION, /* "misaligned region": base not ALLOC_ALIGNMENT aligned */
    ALLOC_ERR_REGION_TOO_SMALL,  /* "region too small": see alloc_min_region_size() */
    ALLOC_ERR_REGION_TOO_LARGE,  /* "region too large": more than ALLOC_MAX_HEAP bytes */
    ALLOC_ERR_BAD_CONFIG,        /* "bad config": unknown strategy or flag */
    /* "double free": pointer into free memory: to a block already freed, or into one (a freed
     * block merged with a free predecessor starts inside it, so the two are not told apart) */
    ALLOC_ERR_DOUBLE_FREE,
    /* "foreign pointer": outside the heap, or into a live block but not at its start */
    ALLOC_ERR_FOREIGN_POINTER,
    ALLOC_ERR_MISALIGNED_POINTER,  /* "misaligned pointer": not ALLOC_ALIGNMENT aligned */
    ALLOC_ERR_CORRUPTED_HEADER,    /* "corrupted block header": a header fails its checks */
    ALLOC_ERR_CORRUPTED_FREE_LIST, /* "corrupted free list": links, bitmaps or list membership */
    ALLOC_ERR_UNCOALESCED,         /* "uncoalesced free blocks": two free neighbours */
    ALLOC_ERR_STATS_MISMATCH,      /* "statistics mismatch": counters disagree with the blocks */
    ALLOC_ERR_WRITE_AFTER_FREE,    /* "write after free": poison of a free block was overwritten */
    ALLOC_ERR_CORRUPTED_HEAP,      /* "corrupted heap control": the control structure is damaged */
    ALLOC_ERR_NULL_HEAP,           /* "null heap": the heap (or init's out pointer) is NULL */
};

/*
 * The error hook: called with the hook context given at init, the error and the offending
 * pointer (the user pointer for a bad free, the block header for a check failure) every time
 * the heap detects bad input or a broken invariant. The heap is consistent when it is called:
 * unchanged, or, where the call goes on past the damage, with what it has done by then complete
 * (a request's block handed out). It may panic; it must not call back into the same heap.
 */
typedef void (*alloc_error_hook)(void *ctx, enum alloc_error error, const void *ptr);

/* Per-heap settings for alloc_heap_init(). Zero-initialised means: TLSF, no flags, no hook. */
struct alloc_config {
    enum alloc_strategy strategy;
    unsigned flags; /* enum alloc_flags, or-ed */
    alloc_error_hook error_hook;
    void *error_ctx;
};

/* The heap. Opaque; it lives at the start of the region given to alloc_heap_init(). */
typedef struct alloc_heap alloc_heap;

/*
 * Statistics. Every byte of the managed range is either control structure, a block header, a
 * live payload or a free payload:
 *   region_size == overhead_bytes + bytes_in_use + bytes_free
 */
struct alloc_stats {
    size_t region_size;      /* bytes managed: the init region plus every extension */
    size_t bytes_in_use;     /* sum of alloc_usable_size() over live allocations */
    size_t bytes_free;       /* payloads of free (and quick-listed) blocks, free slots of runs
                                and the bytes at a run's end that no slot covers (under 64) */
    size_t largest_free;     /* payload size of the largest free block */
    size_t live_allocations; /* number of live allocations */
    size_t peak_in_use;      /* highest bytes_in_use since init (a realloc that moves counts
                                its old and new blocks together: both are live at that moment) */
    size_t free_blocks;      /* number of free (and quick-listed) blocks: fragments */
    size_t overhead_bytes;   /* the rest: control structure, block headers, runs' meta, and
                                the region's end beyond its last whole granule */
};

/* The state of a block reported by alloc_heap_walk(). */
enum alloc_block_state {
    ALLOC_BLOCK_USED = 1,
    ALLOC_BLOCK_FREE = 2,
    ALLOC_BLOCK_QUICK = 3, /* freed, held in a TLSF quick list: free to the user */
};

/* Called by alloc_heap_walk() once per block, in address order. */
typedef void (*alloc_walk_fn)(void *ctx, void *payload, size_t usable_size,
                              enum alloc_block_state state);

/*
 * Returns the name of an error ("double free", "foreign pointer", ...), or "unknown error" for a
 * value that is not an enum alloc_error. Never NULL.
 */
const char *alloc_error_name(enum alloc_error error);

/*
 * Returns the smallest region alloc_heap_init() accepts for the given strategy (control
 * structure, the 8 bytes a 32-bit target leaves before the first block so that its payload is
 * ALLOC_ALIGNMENT aligned, one minimum block and the end marker), or 0 for an unknown strategy.
 */
size_t alloc_min_region_size(enum alloc_strategy strategy);

/*
 * Initialises a heap over [region, region + size) and stores its handle in *out. config may be
 * NULL for the defaults (TLSF, ALLOC_DEFAULT_FLAGS, no hook); it is read before the region is
 * written, so it may lie in the region. region must be aligned to
 * ALLOC_ALIGNMENT; size need not be a multiple of it (the tail is unused).
 * Returns ALLOC_OK, or ALLOC_ERR_NULL_HEAP (out NULL), ALLOC_ERR_NULL_REGION (region NULL),
 * ALLOC_ERR_MISALIGNED_REGION,
 * ALLOC_ERR_REGION_TOO_SMALL, ALLOC_ERR_REGION_TOO_LARGE or ALLOC_ERR_BAD_CONFIG; on error *out
 * (if out is not NULL) is set to NULL and the region is not written.
 */
enum alloc_error alloc_heap_init(alloc_heap **out, void *region, size_t size,
                                 const struct alloc_config *config);

/*
 * Adds [end, end + size) to the heap, where end is the current end of the heap (region + size
 * given to init plus earlier extensions): the memory must immediately follow the heap.
 * The new space merges with a free block at the old end. size need not be a multiple of
 * ALLOC_ALIGNMENT: the bytes past the heap's last whole granule (the tail init or an extension
 * left unused) go to the next extension.
 * Returns ALLOC_OK, ALLOC_ERR_NULL_HEAP for a NULL heap, ALLOC_ERR_REGION_TOO_SMALL if the
 * extension, with that unused tail, cannot hold a minimum block (so an extension of
 * ALLOC_MIN_BLOCK bytes always can), or ALLOC_ERR_REGION_TOO_LARGE if the heap would exceed
 * ALLOC_MAX_HEAP bytes; on those errors nothing changes. ALLOC_ERR_CORRUPTED_HEADER (the end
 * marker or the last block is damaged) or ALLOC_ERR_CORRUPTED_FREE_LIST (the free block the
 * extension would merge with is), both also reported through the hook (nothing changes), mean the
 * heap was already corrupted. The new space files no block on a list where list heads are checked
 * (it becomes, or grows, TLSF's top block, which is on none), so no damaged head is met there. A
 * damaged strategy table, and bounds a stray write changed (the words naming the heap's first
 * block, its end marker and its end, which the extension writes from), are reported as
 * ALLOC_ERR_CORRUPTED_HEAP and returned as ALLOC_ERR_CORRUPTED_FREE_LIST (nothing changes).
 */
enum alloc_error alloc_heap_extend(alloc_heap *heap, size_t size);

/*
 * Returns a pointer to at least size bytes aligned to align (and always to ALLOC_ALIGNMENT), or
 * NULL if align is not a power of two, size or size + align (an align below ALLOC_ALIGNMENT raised
 * to it) exceeds ALLOC_MAX_REQUEST, heap is NULL, the search finds no free block that fits (a
 * TLSF heap's looks at no more than the first 4 blocks of the request's own class, see above), or
 * it meets a damaged free block (reported through the hook, once, as
 * ALLOC_ERR_CORRUPTED_FREE_LIST or ALLOC_ERR_CORRUPTED_HEADER), a damaged strategy table or a
 * lost top block (ALLOC_ERR_CORRUPTED_HEAP, see above). A damaged quick-list head (TLSF, align at
 * most ALLOC_ALIGNMENT) is reported as ALLOC_ERR_CORRUPTED_FREE_LIST too, but the request then goes
 * on to the free lists and returns a block if they hold one that fits. A damaged list head met
 * filing a remainder, and a damaged watermark, are reported as ALLOC_ERR_CORRUPTED_HEAP, and the
 * block is still returned. Size 0 is served as size 1 (but counts as 0 in the test of size + align
 * against ALLOC_MAX_REQUEST: alloc_allocate(heap, 0, ALLOC_MAX_REQUEST) may return a block where a
 * request of 1 byte at that alignment returns NULL).
 */
void *alloc_allocate(alloc_heap *heap, size_t size, size_t align);

/* The cache line alloc_allocate_batch() gives each batch whole lines of. */
#define ALLOC_BATCH_ALIGN 64u

/*
 * Allocates up to n blocks of at least size bytes each (aligned to ALLOC_ALIGNMENT) into
 * out[0..n): for n > 1, when one free block can hold them all, side by side in whole cache lines
 * of their own (the first payload on an ALLOC_BATCH_ALIGN boundary, the last block rounded up to
 * the end of its line), else one by one wherever each fits; a batch of one is an ordinary
 * allocation. Each is an ordinary allocation, freed on its
 * own. Returns how many it allocated: n, fewer when memory runs short or a request meets a damaged
 * free block (reported once through the hook), and 0 for a NULL heap or out, n == 0, size above
 * ALLOC_MAX_REQUEST - ALLOC_ALIGNMENT, or when the search for the one free block meets a damaged
 * one (reported once; none is then allocated one by one). A per-CPU cache that refills
 * in batches thus gets blocks whose payloads share no cache line with another CPU's batch.
 */
size_t alloc_allocate_batch(alloc_heap *heap, size_t size, void **out, size_t n);

/*
 * Returns alloc_allocate(heap, size, ALLOC_ALIGNMENT): NULL on the same failures, and when a fast
 * path's word has opened a path the heap lacks (ALLOC_ERR_CORRUPTED_HEAP, see above).
 */
void *alloc_malloc(alloc_heap *heap, size_t size);

/*
 * Returns a block of count * size bytes aligned to ALLOC_ALIGNMENT with every usable byte
 * (alloc_usable_size) zero, or NULL if count * size overflows or on the failures of
 * alloc_malloc(). A damaged watermark is reported
 * (ALLOC_ERR_CORRUPTED_HEAP, see above), and the block returned cleared whole.
 */
void *alloc_calloc(alloc_heap *heap, size_t count, size_t size);

/*
 * Frees ptr. Returns ALLOC_OK (also for ptr == NULL, which does nothing), ALLOC_ERR_NULL_HEAP for
 * a NULL heap, or one of these errors, each also reported through the hook, with ptr still
 * allocated and the heap as it was (but for a damaged list of runs, whose runs may be left in
 * another order, a full one off it):
 *   ALLOC_ERR_DOUBLE_FREE, ALLOC_ERR_FOREIGN_POINTER, ALLOC_ERR_MISALIGNED_POINTER or
 *   ALLOC_ERR_CORRUPTED_HEADER: detected on ptr (its block's header and boundary tags, or the meta
 *   of the run whose slot it is); where the header of the block after ptr's fails its checks, a
 *   ptr whose header reads freed is ALLOC_ERR_CORRUPTED_HEADER, not ALLOC_ERR_DOUBLE_FREE;
 *   ALLOC_ERR_CORRUPTED_HEADER also when ptr is the last slot in use of a run that goes back to the
 *   strategy (see ALLOC_FLAG_NO_SMALL_RUNS) and the free block before the run has a damaged header;
 *   ALLOC_ERR_CORRUPTED_FREE_LIST when a free neighbour it would merge with is damaged (the run's,
 *   where its run goes back), or the list of runs that its run is on or would join.
 * A damaged strategy table is reported as ALLOC_ERR_CORRUPTED_HEAP and returned as
 * ALLOC_ERR_CORRUPTED_FREE_LIST (nothing changed); a damaged list head met filing the block is
 * reported as ALLOC_ERR_CORRUPTED_HEAP, and the free done (see above). ALLOC_ERR_CORRUPTED_HEAP is
 * never returned.
 */
enum alloc_error alloc_free(alloc_heap *heap, void *ptr);

/*
 * Resizes the block at ptr to at least size bytes, in place when it can, else by allocating a
 * new block, copying min(old, new) bytes and freeing the old one. ptr == NULL behaves as
 * alloc_malloc(); size 0 shrinks to the minimum block. A run slot (see ALLOC_FLAG_NO_SMALL_RUNS)
 * shrinks by moving to a smaller slot; where none can be had, the call returns ptr, its slot and
 * usable size as they were (a shrink never fails). The result is aligned to ALLOC_ALIGNMENT
 * (not to a larger alignment ptr may have been allocated with).
 * Returns the new pointer, or NULL if no block of that size can be had or size is above the
 * largest request, ALLOC_MAX_REQUEST - ALLOC_ALIGNMENT (ptr stays valid and unchanged), or ptr is
 * bad or a free neighbour it would grow into or merge with is damaged
 * (reported through the hook as alloc_free() does; nothing changes, ptr stays valid), or the search
 * for a new block meets a damaged free block (reported as alloc_allocate() does). A damaged
 * control structure is reported as alloc_malloc() and alloc_free() report it; a fast path's word
 * opening growth into a top block on a first-fit heap, as ALLOC_ERR_CORRUPTED_HEAP with NULL
 * returned (nothing changes, ptr stays valid).
 */
void *alloc_realloc(alloc_heap *heap, void *ptr, size_t size);

/*
 * Returns the number of bytes usable at ptr (at least the size requested, at most 16 more than
 * it rounded up to 16; the last block of an alloc_allocate_batch(), rounded up to the end of its
 * cache line, at most ALLOC_BATCH_ALIGN more; a run slot that alloc_realloc() shrank but could not
 * move to a smaller slot, no smaller one to be had, its old size), or 0 for ptr == NULL, a NULL
 * heap, or a bad pointer (reported through the hook as alloc_free() reports it:
 * ALLOC_ERR_DOUBLE_FREE, ALLOC_ERR_FOREIGN_POINTER, ALLOC_ERR_MISALIGNED_POINTER or
 * ALLOC_ERR_CORRUPTED_HEADER).
 */
size_t alloc_usable_size(alloc_heap *heap, const void *ptr);

/*
 * Fills *out with the heap's statistics. O(1) except largest_free, which costs O(free blocks)
 * for the first-fit strategy and O(blocks in the largest TLSF class) for TLSF. A NULL heap gives
 * all zeroes. Reports nothing: a damaged free block that largest_free's search meets ends the
 * search, and is left to alloc_heap_check().
 */
void alloc_heap_stats(const alloc_heap *heap, struct alloc_stats *out);

/*
 * Walks every block and verifies every invariant: header tags, sizes and boundary tags, that
 * the blocks tile the heap exactly, that no two free blocks are neighbours, that the free lists
 * (TLSF bitmaps and size classes, first-fit address order) hold exactly the free blocks, that
 * the quick lists hold exactly the quick blocks, that the statistics agree with the blocks and,
 * with ALLOC_FLAG_POISON_ON_FREE, that free payloads still hold the poison.
 * Returns ALLOC_OK, or the first violation found: ALLOC_ERR_CORRUPTED_HEAP,
 * ALLOC_ERR_CORRUPTED_HEADER, ALLOC_ERR_CORRUPTED_FREE_LIST, ALLOC_ERR_UNCOALESCED,
 * ALLOC_ERR_STATS_MISMATCH, ALLOC_ERR_WRITE_AFTER_FREE; ALLOC_ERR_NULL_HEAP for a NULL heap. Each
 * is also reported through the hook: with the heap for a damaged control structure, for
 * ALLOC_ERR_STATS_MISMATCH and for a list wrong as a whole (a bit map, a count), with a run's meta
 * for a damaged list of runs, else with the offending block. O(heap blocks), plus
 * O(free bytes) with poisoning.
 */
enum alloc_error alloc_heap_check(alloc_heap *heap);

/*
 * Calls fn(ctx, payload, usable_size, state) for each block in address order. Stops at a
 * corrupted header. Returns ALLOC_OK, ALLOC_ERR_CORRUPTED_HEADER (not reported through the hook;
 * use alloc_heap_check() for a diagnosis) or ALLOC_ERR_NULL_HEAP for a NULL heap.
 */
enum alloc_error alloc_heap_walk(const alloc_heap *heap, alloc_walk_fn fn, void *ctx);

/* Returns the strategy the heap was initialised with (ALLOC_STRATEGY_TLSF for a NULL heap). */
enum alloc_strategy alloc_heap_strategy(const alloc_heap *heap);

/* Returns the enum alloc_flags the heap was initialised with (0 for a NULL heap). */
unsigned alloc_heap_flags(const alloc_heap *heap);

/*
 * Returns a value new on every init of a heap at its address, as the heap's secret is (derived
 * from it by a one-to-one mix, so that the secret itself is not handed out), for a layer built on
 * the heap that keys its own checks per init, so that its pointers from before a re-init are
 * refused (alloc/cpu_cache.h); 0 for a NULL heap. Constant between inits.
 */
uintptr_t alloc_heap_instance(const alloc_heap *heap);

/* Returns the name of a strategy: "tlsf", "first_fit", or "unknown". */
const char *alloc_strategy_name(enum alloc_strategy strategy);

/*
 * The locked heap (the tutorial's LockedHeap): the same operations, each under an injected lock.
 * The kernel gives it a spinlock that disables interrupts; host tests give it a mutex. A locked
 * heap that is zero-initialised (or whose init failed), or NULL, is empty: allocation returns NULL,
 * free of a non-NULL pointer returns ALLOC_ERR_NULL_HEAP.
 */
struct alloc_lock {
    void (*acquire)(void *ctx);
    void (*release)(void *ctx);
    void *ctx;
    /* Optional (may be NULL): takes the lock only if it is free at once, returning whether it
     * did. Used by work that is worth doing only without waiting (alloc_cached_warm). */
    bool (*try_acquire)(void *ctx);
};

struct alloc_locked_heap {
    alloc_heap *heap; /* NULL until alloc_locked_init() succeeds */
    struct alloc_lock lock;
    /* The caller's hook, which the heap's reports reach through this structure (counted first). */
    alloc_error_hook error_hook;
    void *error_ctx;
    /*
     * How many errors the heap has reported, counted under the lock: a layer above (the per-CPU
     * cache) tells by it a request the heap refused for damage it reported from one it could not
     * serve for want of memory, which a drain of the caches may help.
     */
    uint64_t reports;
};

/*
 * Initialises the heap as alloc_heap_init() does and stores it with the lock (whose functions
 * must not be NULL). The heap reports through locked, which counts each report in
 * locked->reports and passes it to config's hook, so locked must stay where it is while the heap
 * is in use. Returns what alloc_heap_init() returns (ALLOC_ERR_NULL_HEAP for a NULL locked, as for
 * its NULL out), or ALLOC_ERR_BAD_CONFIG for a NULL or incomplete lock; on error locked->heap (if
 * locked is not NULL) is NULL.
 */
enum alloc_error alloc_locked_init(struct alloc_locked_heap *locked, void *region, size_t size,
                                   const struct alloc_config *config,
                                   const struct alloc_lock *lock);

/* Each of these takes the lock, calls the function of the same name and returns its result. */
void *alloc_locked_allocate(struct alloc_locked_heap *locked, size_t size, size_t align);
size_t alloc_locked_allocate_batch(struct alloc_locked_heap *locked, size_t size, void **out,
                                   size_t n);
void *alloc_locked_malloc(struct alloc_locked_heap *locked, size_t size);
void *alloc_locked_calloc(struct alloc_locked_heap *locked, size_t count, size_t size);
enum alloc_error alloc_locked_free(struct alloc_locked_heap *locked, void *ptr);
void *alloc_locked_realloc(struct alloc_locked_heap *locked, void *ptr, size_t size);
size_t alloc_locked_usable_size(struct alloc_locked_heap *locked, const void *ptr);
enum alloc_error alloc_locked_extend(struct alloc_locked_heap *locked, size_t size);
void alloc_locked_stats(struct alloc_locked_heap *locked, struct alloc_stats *out);
enum alloc_error alloc_locked_check(struct alloc_locked_heap *locked);

/*
 * Reports, under the lock, a misuse that a layer above the heap finds and the heap cannot see
 * (the per-CPU cache layer: a heap block's own address, which the layer never hands out, passed
 * back as if it were one of its pointers): counted in locked->reports and passed to the hook, as
 * the heap's own reports are. Does nothing for a NULL or uninitialised locked.
 */
void alloc_locked_report(struct alloc_locked_heap *locked, enum alloc_error error, const void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_HEAP_H */
