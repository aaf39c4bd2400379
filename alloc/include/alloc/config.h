/*
 * alloc/config.h - compile-time settings of the heap allocator library.
 *
 * Every setting is a macro guarded by #ifndef, so a build can override it on the command line
 * (-DALLOC_POISON_FREE_BYTE=0x6b). There is no assertion hook: every broken invariant the
 * allocator can meet is caused by its input (a bad pointer, a corrupted header or list), so it
 * is reported through the error hook as an enum alloc_error, and the kernel's hook panics.
 *
 * Per-heap runtime choices (strategy, poisoning on/off, the error hook) are not here: they are
 * passed to alloc_heap_init() in struct alloc_config, see alloc/heap.h.
 */
#ifndef ALLOC_CONFIG_H
#define ALLOC_CONFIG_H

/*
 * ALLOC_POISON_FREE_BYTE: the byte written over the payload of a block when it is freed, on a
 * heap initialised with ALLOC_FLAG_POISON_ON_FREE. alloc_heap_check() then verifies that free
 * blocks still hold it and reports ALLOC_ERR_WRITE_AFTER_FREE otherwise, so a dangling pointer
 * shows.
 */
#ifndef ALLOC_POISON_FREE_BYTE
#define ALLOC_POISON_FREE_BYTE 0xdd
#endif

/*
 * ALLOC_POISON_ALLOC_BYTE: the byte written over a freshly allocated payload on a heap
 * initialised with ALLOC_FLAG_POISON_ON_ALLOC (never for alloc_calloc(), which zeroes), and over
 * the bytes a realloc adds to a block, in place or moved, so a read of uninitialised memory shows.
 */
#ifndef ALLOC_POISON_ALLOC_BYTE
#define ALLOC_POISON_ALLOC_BYTE 0xcd
#endif

/*
 * ALLOC_DEFAULT_FLAGS: the flags used when alloc_heap_init() is given no struct alloc_config.
 * 0 means no poisoning.
 */
#ifndef ALLOC_DEFAULT_FLAGS
#define ALLOC_DEFAULT_FLAGS 0u
#endif

/*
 * ALLOC_STRATEGIES: the strategies compiled in, an | of ALLOC_STRATEGY_BIT_TLSF and
 * ALLOC_STRATEGY_BIT_FIRST_FIT (bit n stands for enum alloc_strategy value n). Both by default; a
 * small board that uses one builds with -DALLOC_STRATEGIES=ALLOC_STRATEGY_BIT_TLSF and links the
 * code of that one only. alloc_heap_init() refuses a strategy that is not compiled in with
 * ALLOC_ERR_BAD_CONFIG (also the default TLSF, for a NULL config, in a build without it), and
 * alloc_min_region_size() returns 0 for it.
 */
#define ALLOC_STRATEGY_BIT_TLSF      1u
#define ALLOC_STRATEGY_BIT_FIRST_FIT 2u
#ifndef ALLOC_STRATEGIES
#define ALLOC_STRATEGIES (ALLOC_STRATEGY_BIT_TLSF | ALLOC_STRATEGY_BIT_FIRST_FIT)
#endif

/*
 * ALLOC_QUICK_MAX_SIZE: the default (TLSF) strategy keeps recently freed blocks up to the size of
 * the block a request of this many bytes takes (a payload of at most this many bytes on a 64-bit
 * target, 8 more on a 32-bit one) in small per-size LIFO caches ("quick lists") and hands them
 * out again without splitting or coalescing. Must be a multiple of 16; 0 disables the caches at
 * compile time (their code too: a build that never wants them saves it). A heap can also disable
 * them at runtime with ALLOC_FLAG_NO_QUICK_CACHE.
 */
#ifndef ALLOC_QUICK_MAX_SIZE
#define ALLOC_QUICK_MAX_SIZE 1024
#endif

/*
 * ALLOC_RUN_MAX_SIZE: on a TLSF heap (unless initialised with ALLOC_FLAG_NO_SMALL_RUNS), requests
 * of at most this many bytes are served from runs: 1 KiB blocks cut into equal slots of 16, 32, 48
 * or 64 bytes, with no header per slot. One of 0 (no runs), 16, 32, 48, 64. With 0 the runs' code
 * is not compiled in and every heap serves the same requests from ordinary blocks (runs only
 * save memory).
 */
#ifndef ALLOC_RUN_MAX_SIZE
#define ALLOC_RUN_MAX_SIZE 64
#endif

/*
 * ALLOC_QUICK_BIN_LIMIT: the most blocks one quick list holds; a free beyond that goes straight
 * to the TLSF lists. The caches are bounded (ALLOC_QUICK_MAX_SIZE / 16 lists of this many blocks
 * on a 64-bit target, one list more on a 32-bit one) and are flushed back into the coalesced free
 * lists whenever an allocation cannot otherwise be satisfied, so they cost no memory that a
 * request could need.
 */
#ifndef ALLOC_QUICK_BIN_LIMIT
#define ALLOC_QUICK_BIN_LIMIT 16
#endif

/*
 * ALLOC_FAST_PATHS: 1 (the default) gives malloc, free and realloc call-free fast paths (a quick
 * list hit, a validated free onto a quick list, the last block growing in place) and inlines the
 * header check bits wherever a header is read or written. 0 leaves the fast paths out and keeps
 * one out-of-line copy of the check-bit helpers for the library: every call takes the general
 * path, which makes the same checks, in less code and more instructions per call (for a small
 * board whose flash matters more than its allocator's speed). The general paths are then written
 * for size too: a block that is split or merged leaves its free list and is filed again, where
 * the default moves its list node when it stays in its list; the free block that ends the heap
 * is filed on its list like any other, where the default keeps it apart as the top block; and an
 * allocation tries the first 4 blocks of its own list before good fit, where the default tries
 * that list's head before and those 4 blocks after. Those two cost memory on some programs (the
 * smallest region of a Perl trace 1.2155 -> 1.2437 x peak, of a gcc trace 1.0550 -> 1.0641:
 * alloc/HISTORY.md, "Size"). The heap's secret is derived with one mix instead of two, with the
 * same properties (make_key, alloc/heap.c).
 */
#ifndef ALLOC_FAST_PATHS
#define ALLOC_FAST_PATHS 1
#endif

/*
 * ALLOC_CHECK_LINKS: 1 to check, before unlinking a free block from a TLSF list, that its list
 * neighbours point back at it ("safe unlinking"), reporting ALLOC_ERR_CORRUPTED_FREE_LIST
 * instead of writing through a corrupted link. It costs loads of two more blocks' memory on
 * coalescing paths. alloc_heap_check() verifies every link either way.
 */
#ifndef ALLOC_CHECK_LINKS
#define ALLOC_CHECK_LINKS 1
#endif

#endif /* ALLOC_CONFIG_H */
