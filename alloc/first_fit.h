/*
 * alloc/first_fit.h - the private header of the first-fit strategy (first_fit.c): its state.
 * Not part of the public interface.
 */
#ifndef ALLOC_FIRST_FIT_H
#define ALLOC_FIRST_FIT_H

#include "internal.h"

struct ff_state {
    block_t *head; /* the free block of lowest address */
};

/* The first-fit state of a heap whose ops are alloc_ff_ops. */
static inline struct ff_state *ff_of(const alloc_heap *h) {
    return (struct ff_state *)(uintptr_t)h->state;
}

#endif /* ALLOC_FIRST_FIT_H */
