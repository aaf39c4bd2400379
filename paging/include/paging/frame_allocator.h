/*
 * frame_allocator.h - physical frame allocator over the usable regions of a memory map.
 *
 * Hands out 4 KiB frames, lowest address first, from usable regions (shrunk inward to frame
 * boundaries) minus reserved ranges (grown outward to frame boundaries; an empty one, start ==
 * end, reserves nothing) minus the first 1 MiB, which is never handed out whatever the caller
 * passes. Frames can be freed and counted.
 *
 * Design: two bitmaps over the span [lowest usable frame, highest usable frame end):
 *
 *   usable_bits  1 = this frame may ever be handed out (usable, not reserved, not storage)
 *   free_bits    1 = this frame is free now                  invariant: free_bits ⊆ usable_bits
 *
 *   bit i <-> frame span_start + i * 4 KiB;  word w holds bits [64w, 64w + 64)
 *
 * Two bits per frame (64 KiB of bitmap per GiB of span) buy exact, O(1) checks on free: a frame
 * outside usable_bits is foreign, a frame already in free_bits is a double free. A bump pointer
 * with a free stack would need no storage up front but could only detect a double free by
 * walking the stack, and an intrusive free list (xv6 kalloc) writes into every freed frame.
 * Allocation scans words from a hint below which no bit is free, so it costs O(1) amortised
 * while memory is being handed out in order.
 *
 * Storage: the caller passes `storage` (frame_allocator_storage_words() words), or leaves it
 * NULL and passes phys_to_virt; the allocator then carves the bitmaps from the lowest usable,
 * unreserved run of frames big enough, and never hands those frames out. A run may cross from one
 * usable region into another that touches or overlaps it, in whatever order the map lists them
 * (firmware maps split one stretch of memory into several entries).
 *
 * Not thread-safe: the caller serialises calls. No global state: everything is in the struct.
 */
#ifndef PAGING_FRAME_ALLOCATOR_H
#define PAGING_FRAME_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paging/frame_source.h"

/* frame_allocator_allocate() returns this when no frame is left (never a valid frame). */
#define FRAME_ALLOCATOR_NO_FRAME UINT64_MAX

/* [0, FRAME_ALLOCATOR_LOW_LIMIT) is never handed out: real-mode IVT, BDA, EBDA, VGA, BIOS. */
#define FRAME_ALLOCATOR_LOW_LIMIT UINT64_C(0x100000)

/* Byte written over a freed frame when poison_on_free is set, so a stale pointer shows. */
#ifndef FRAME_ALLOCATOR_POISON_BYTE
#define FRAME_ALLOCATOR_POISON_BYTE 0x6b
#endif

/* A usable region of the memory map: [base, base + length). */
struct frame_allocator_usable_region {
    uint64_t base;
    uint64_t length;
};

/* A range that must never be handed out: [start, end). */
struct frame_allocator_reserved_range {
    uint64_t start;
    uint64_t end;
};

enum frame_allocator_error {
    FRAME_ALLOCATOR_OK = 0,
    /* "invalid argument": NULL allocator or config, NULL array with a non-zero count, or no
     * phys_to_virt when there is no storage (nothing to carve it with) or poison_on_free is set
     * (nothing to poison with). */
    FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT,
    /* "bad range": a usable region's base + length is above UINT64_MAX (the region would end at
     * or past 2^64), or a reserved range has start > end. Nothing else: a reserved range's end is
     * an address like its start, so it cannot wrap, and any end at or above its start is taken. */
    FRAME_ALLOCATOR_ERR_BAD_RANGE,
    /* "no usable memory": no whole usable, unreserved frame at or above 1 MiB, or, carving, none
     * left once the bitmaps' frames are taken. */
    FRAME_ALLOCATOR_ERR_NO_USABLE_MEMORY,
    /* "storage too small": the caller's storage has fewer words than
     * frame_allocator_storage_words(), or the bitmaps are too large for the address space. */
    FRAME_ALLOCATOR_ERR_STORAGE_TOO_SMALL,
    /* "no room for storage": carving: no usable, unreserved run of frames holds the bitmaps, the
     * bitmaps are too large for the address space, or phys_to_virt does not reach every frame
     * of the run (NULL, or not at consecutive addresses). */
    FRAME_ALLOCATOR_ERR_NO_ROOM_FOR_STORAGE,
    /* "misaligned frame": free: the address is not 4 KiB-aligned. */
    FRAME_ALLOCATOR_ERR_MISALIGNED,
    /* "foreign frame": free: the frame is not one this allocator can hand out (reserved, hole,
     * outside). */
    FRAME_ALLOCATOR_ERR_FOREIGN_FRAME,
    /* "double free": free: the frame is already free. */
    FRAME_ALLOCATOR_ERR_DOUBLE_FREE,
};

struct frame_allocator_config {
    const struct frame_allocator_usable_region *usable;
    size_t usable_count;
    const struct frame_allocator_reserved_range *reserved;
    size_t reserved_count;
    /* Bitmap storage, or NULL to carve it from usable memory through phys_to_virt. */
    uint64_t *storage;
    size_t storage_words;
    /* Turns a physical address into a pointer the allocator can write (carving, poisoning);
     * the frames of a carved run must come out at consecutive addresses, as the bitmaps are one
     * array. May be NULL when storage is given and poison_on_free is false. */
    void *(*phys_to_virt)(void *ctx, uint64_t phys);
    void *ctx;
    /* Fill every freed frame with FRAME_ALLOCATOR_POISON_BYTE (needs phys_to_virt). */
    bool poison_on_free;
    /* Called with "function: reason" when an invariant breaks (the frame source adapter is
     * handed a frame it cannot free; phys_to_virt gives NULL for a frame to poison). Must not
     * return; NULL means __builtin_trap(). */
    void (*panic)(void *ctx, const char *message);
};

/* All fields are read-only for callers; they are public so the kernel can report them. */
struct frame_allocator {
    uint64_t *free_bits;
    uint64_t *usable_bits;
    size_t words;           /* words in each bitmap */
    uint64_t span_start;    /* physical address of bit 0 */
    uint64_t span_end;      /* [span_start, span_end) covers every usable frame */
    uint64_t usable_frames; /* frames that may be handed out */
    uint64_t allocated_frames;
    size_t hint;            /* no free bit in words below hint */
    uint64_t storage_start; /* carved bitmap frames [storage_start, storage_end), or 0, 0 */
    uint64_t storage_end;
    void *(*phys_to_virt)(void *ctx, uint64_t phys);
    void *ctx;
    bool poison_on_free;
    void (*panic)(void *ctx, const char *message);
};

struct frame_allocator_stats {
    uint64_t usable_frames;    /* frames the allocator may hand out at all */
    uint64_t allocated_frames; /* handed out and not freed */
    uint64_t free_frames;      /* usable_frames - allocated_frames */
};

/*
 * frame_allocator_storage_words - number of uint64_t words of storage frame_allocator_init()
 * needs for these usable regions (both bitmaps).
 * Returns 0 when no region holds a whole frame at or above 1 MiB, or a region's base + length is
 * above UINT64_MAX (as frame_allocator_init()'s FRAME_ALLOCATOR_ERR_BAD_RANGE);
 * SIZE_MAX when the bitmaps' size in bytes does not fit in a size_t (a span of 2^34 frames or
 * more on a 32-bit host: no storage can hold them, and frame_allocator_init() refuses the map).
 */
size_t frame_allocator_storage_words(const struct frame_allocator_usable_region *usable,
                                     size_t count);

/*
 * frame_allocator_init - set up *fa over cfg's regions; every usable frame starts free.
 * Returns FRAME_ALLOCATOR_OK, or FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT, _BAD_RANGE,
 * _NO_USABLE_MEMORY, _STORAGE_TOO_SMALL, _NO_ROOM_FOR_STORAGE (then *fa must not be used).
 */
enum frame_allocator_error frame_allocator_init(struct frame_allocator *fa,
                                                const struct frame_allocator_config *cfg);

/*
 * frame_allocator_allocate - take the lowest free frame.
 * Returns its physical address (4 KiB-aligned, contents undefined), or FRAME_ALLOCATOR_NO_FRAME
 * when every usable frame is allocated.
 */
uint64_t frame_allocator_allocate(struct frame_allocator *fa);

/*
 * frame_allocator_free - give back a frame that frame_allocator_allocate() returned.
 * Returns FRAME_ALLOCATOR_OK; FRAME_ALLOCATOR_ERR_MISALIGNED, _FOREIGN_FRAME or _DOUBLE_FREE leave
 * the allocator unchanged. With poison_on_free, a frame phys_to_virt cannot reach (NULL) is an
 * invariant broken: cfg.panic is called (or it traps), the frame still allocated.
 */
enum frame_allocator_error frame_allocator_free(struct frame_allocator *fa, uint64_t phys);

/*
 * frame_allocator_is_allocated - whether @phys (any address inside the frame) is allocated now.
 * Returns false for free frames and for frames the allocator does not manage.
 */
bool frame_allocator_is_allocated(const struct frame_allocator *fa, uint64_t phys);

/* frame_allocator_stats - returns the usable, allocated and free frame counts. */
struct frame_allocator_stats frame_allocator_stats(const struct frame_allocator *fa);

/*
 * frame_allocator_check - verify the allocator's invariants: free ⊆ usable, counters equal the
 * bitmaps' population counts, no bit past the span, no free bit below the hint.
 * Returns true when they hold; false means memory corruption or a bug.
 */
bool frame_allocator_check(const struct frame_allocator *fa);

/*
 * frame_allocator_frame_source - a struct paging_frame_source over *fa, for the mapper.
 * Returns the adapter; its allocate fails when fa is exhausted, and its free calls cfg.panic
 * (or traps) if fa rejects the frame.
 */
struct paging_frame_source frame_allocator_frame_source(struct frame_allocator *fa);

/* frame_allocator_error_name - the name of an error, quoted beside each value above ("ok" for
 * FRAME_ALLOCATOR_OK); "unknown error" for a value outside the enum. Never NULL. */
const char *frame_allocator_error_name(enum frame_allocator_error error);

#endif /* PAGING_FRAME_ALLOCATOR_H */
