/*
 * frame_source.h - the interface through which paging code obtains and returns 4 KiB frames.
 *
 * The mapper takes page-table frames from a struct paging_frame_source rather than from a
 * concrete allocator, so the kernel passes frame_allocator_frame_source() while host tests pass
 * a fake that can be told to fail. Also home of the constants both halves of paging/ share.
 */
#ifndef PAGING_FRAME_SOURCE_H
#define PAGING_FRAME_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

/* Size and alignment of a physical frame and of a page mapped by a page-table entry: 4 KiB. The
 * one page-size constant of //paging (the kernel ties its own PAGE_SIZE to it). */
#define PAGING_PAGE_SHIFT 12u
#define PAGING_PAGE_SIZE  (UINT64_C(1) << PAGING_PAGE_SHIFT)

/* Physical addresses are at most 52 bits wide on x86_64: [0, PAGING_PHYS_LIMIT). */
#define PAGING_PHYS_LIMIT (UINT64_C(1) << 52)

struct paging_frame_source {
    /* Stores the physical address of a fresh, PAGING_PAGE_SIZE-aligned frame below
     * PAGING_PHYS_LIMIT in *phys_out and returns true; returns false when no frame is left.
     * The frame's contents are undefined. */
    bool (*allocate)(void *ctx, uint64_t *phys_out);
    /* Takes back a frame that allocate() returned. */
    void (*free)(void *ctx, uint64_t phys);
    void *ctx;
};

#endif /* PAGING_FRAME_SOURCE_H */
