/*
 * alloc/bench/reference/halffit.h - a half-fit allocator after o1heap's design, this project's own
 * rendition for the replay benchmark only (not part of //alloc, not shipped): a baseline to
 * measure //alloc against. Written from o1heap's published design (its README, v2.x: fragments of
 * power-of-two sizes, one bin per power of two, one bitmap, constant-time allocate and free) and
 * Ogasawara's half-fit ("An algorithm with constant execution time for dynamic storage
 * allocation", RTCSA 1995), not from o1heap's code; halffit.c says where it knowingly differs.
 *
 * One heap over one caller-given region; the instance lives at the region's start. Every block
 * is HALFFIT_ALIGNMENT-aligned, and no other alignment is offered.
 */
#ifndef ALLOC_BENCH_REFERENCE_HALFFIT_H
#define ALLOC_BENCH_REFERENCE_HALFFIT_H

#include <stdbool.h>
#include <stddef.h>

/* The fixed alignment, and the header every fragment carries: four pointers (o1heap's). */
#define HALFFIT_ALIGNMENT (4 * sizeof(void *))

typedef struct halffit halffit;

/*
 * Sets up a heap over [mem, mem + bytes). Returns it, or NULL if mem is not
 * HALFFIT_ALIGNMENT-aligned or bytes is below halffit_min_region().
 */
halffit *halffit_create(void *mem, size_t bytes);

/* The smallest region halffit_create() accepts. */
size_t halffit_min_region(void);

/* A block of at least amount bytes (amount 0: one byte), or NULL when no fragment of the power of
 * two that holds amount plus the header is free. */
void *halffit_allocate(halffit *h, size_t amount);

/* Gives the block at ptr back (NULL: nothing). ptr must come from this heap: nothing checks it. */
void halffit_free(halffit *h, void *ptr);

/*
 * Resizes the block at ptr to at least amount bytes, keeping its contents up to the smaller size:
 * in place when its fragment holds amount, else moved. Returns the block, or NULL with ptr
 * untouched when no fragment is free; ptr NULL is halffit_allocate, amount 0 frees ptr and
 * returns NULL.
 */
void *halffit_realloc(halffit *h, void *ptr, size_t amount);

/* The usable bytes of the block at ptr (its fragment less the header). */
size_t halffit_usable_size(const void *ptr);

struct halffit_stats {
    size_t used_fragments, free_fragments, free_bytes, largest_free;
};

/*
 * Walks every fragment and every bin (for tests and the replay's end check, never on the
 * allocation paths): returns true and fills *out if the neighbour links, the sizes, the bins and
 * the bitmap agree and no two free fragments are neighbours, else false.
 */
bool halffit_check(const halffit *h, struct halffit_stats *out);

#endif /* ALLOC_BENCH_REFERENCE_HALFFIT_H */
