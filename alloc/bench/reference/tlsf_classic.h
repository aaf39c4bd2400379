/*
 * alloc/bench/reference/tlsf_classic.h - the classic TLSF allocator, this project's own rendition
 * for the replay benchmark only (not part of //alloc, not shipped): an unchecked baseline to
 * measure //alloc against. Written from the published descriptions (Masmano, Ripoll, Crespo,
 * Real, "TLSF: a new dynamic memory allocator for real-time systems", ECRTS 2004, and the design
 * of mattconte/tlsf 3.1), not from its code; tlsf_classic.c says where it knowingly differs.
 *
 * One heap over one caller-given region; the control structure lives at the region's start.
 * Payloads are TLSF_CLASSIC_ALIGNMENT-aligned.
 */
#ifndef ALLOC_BENCH_REFERENCE_TLSF_CLASSIC_H
#define ALLOC_BENCH_REFERENCE_TLSF_CLASSIC_H

#include <stdbool.h>
#include <stddef.h>

/* What every payload is aligned to (malloc's on x86_64; tlsf 3.1 gives 8 on 64-bit targets). */
#define TLSF_CLASSIC_ALIGNMENT 16

typedef struct tlsf_classic tlsf_classic;

/*
 * Sets up a heap over [mem, mem + bytes). Returns it, or NULL if mem is not
 * TLSF_CLASSIC_ALIGNMENT-aligned or bytes is below tlsf_classic_min_region() or above
 * tlsf_classic_max_region().
 */
tlsf_classic *tlsf_classic_create(void *mem, size_t bytes);

/* The smallest and the largest region tlsf_classic_create() accepts. */
size_t tlsf_classic_min_region(void);
size_t tlsf_classic_max_region(void);

/* A block of at least size bytes (size 0: the smallest block), or NULL when none is free. */
void *tlsf_classic_malloc(tlsf_classic *t, size_t size);

/* A block of at least size bytes aligned to align (a power of two), or NULL when none is free or
 * align is not a power of two. */
void *tlsf_classic_memalign(tlsf_classic *t, size_t align, size_t size);

/*
 * Resizes the block at ptr to at least size bytes, keeping its contents up to the smaller size:
 * in place when it shrinks or its successor is free and large enough, else moved. Returns the
 * block, or NULL with ptr untouched when no block is free; ptr NULL is malloc, size 0 frees ptr
 * and returns NULL.
 */
void *tlsf_classic_realloc(tlsf_classic *t, void *ptr, size_t size);

/* Gives the block at ptr back (NULL: nothing). ptr must come from this heap: nothing checks it. */
void tlsf_classic_free(tlsf_classic *t, void *ptr);

/* The usable bytes of the block at ptr. */
size_t tlsf_classic_usable_size(const void *ptr);

struct tlsf_classic_stats {
    size_t used_blocks, free_blocks, free_bytes, largest_free;
};

/*
 * Walks every block and every list (for tests and the replay's end check, never on the
 * allocation paths): returns true and fills *out if the boundary tags, the free bits, the lists
 * and both bitmaps agree and no two free blocks are neighbours, else false.
 */
bool tlsf_classic_check(const tlsf_classic *t, struct tlsf_classic_stats *out);

#endif /* ALLOC_BENCH_REFERENCE_TLSF_CLASSIC_H */
