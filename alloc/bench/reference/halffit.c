/*
 * alloc/bench/reference/halffit.c - half-fit after o1heap's design (v2.x), this project's own
 * rendition for the replay benchmark (alloc/bench/replay.c), written from o1heap's README and
 * Ogasawara's half-fit paper (RTCSA 1995), not copied from o1heap. Not part of //alloc and not
 * shipped.
 *
 * As o1heap describes it: a request of r bytes takes a fragment of 2^ceil(log2(r + a)) bytes,
 * a = HALFFIT_ALIGNMENT (four pointers: 32 bytes on 64-bit targets), the fragment's header taking
 * the first a bytes, so every block is a-aligned and the smallest fragment is 2a; free fragments
 * sit in one bin per power of two (bin i: sizes in [2^i * 2a, 2^(i+1) * 2a)), one bitmap marks
 * the non-empty bins, so the smallest bin whose every fragment fits is one find-first-set away
 * and its head is taken (LIFO: the most recently freed, for the cache); what the fragment has
 * beyond the request goes back as a fragment of its own when it holds the smallest; free merges
 * with both neighbours, found through the header's links to the previous and next fragment.
 * Allocate and free are constant time; nothing is checked on either (halffit_check() is for
 * tests only).
 *
 * Where it knowingly differs from o1heap 2.x:
 *   - halffit_allocate(0) returns a block (o1heap returns NULL), as the traces' zero-sized
 *     requests expect a pointer;
 *   - halffit_realloc: o1heap 2.x has none (a caller allocates, copies and frees); this one keeps
 *     the block when its fragment already holds the new size (never splitting a shrink) and
 *     otherwise allocates, copies and frees;
 *   - no diagnostics counters (capacity, peak, out-of-memory count), no assertions.
 */
#include "alloc/bench/reference/halffit.h"

#include <stdint.h>
#include <string.h>

struct fragment {
    struct fragment *next; /* physical neighbours; NULL at the ends of the arena */
    struct fragment *prev;
    size_t size; /* the whole fragment, header included: a multiple of FRAGMENT_MIN */
    bool used;
    /* A free fragment's bin links, in its payload (the fragment's second HALFFIT_ALIGNMENT). */
    _Alignas(HALFFIT_ALIGNMENT) struct fragment *next_free;
    struct fragment *prev_free;
};

#define FRAGMENT_MIN (2 * HALFFIT_ALIGNMENT)
#define NUM_BINS     (sizeof(size_t) * 8)

_Static_assert(offsetof(struct fragment, next_free) == HALFFIT_ALIGNMENT,
               "the header is one alignment unit");
_Static_assert(sizeof(struct fragment) <= FRAGMENT_MIN, "a free fragment's links fit");

struct halffit {
    struct fragment *bins[NUM_BINS];
    size_t nonempty; /* bit i: bins[i] is not empty */
    struct fragment *first;
    size_t capacity; /* bytes of fragments: the arena after the instance */
};

static inline unsigned log2_floor(size_t x) {
    return (unsigned)(sizeof(unsigned long long) * 8 - 1) - (unsigned)__builtin_clzll(x);
}

static inline unsigned bin_of(size_t fragment_size) {
    return log2_floor(fragment_size / FRAGMENT_MIN);
}

static void rebin(halffit *h, struct fragment *f) {
    unsigned i = bin_of(f->size);
    f->next_free = h->bins[i];
    f->prev_free = NULL;
    if (h->bins[i] != NULL)
        h->bins[i]->prev_free = f;
    h->bins[i] = f;
    h->nonempty |= (size_t)1 << i;
}

static void unbin(halffit *h, struct fragment *f) {
    unsigned i = bin_of(f->size);
    if (f->next_free != NULL)
        f->next_free->prev_free = f->prev_free;
    if (f->prev_free != NULL)
        f->prev_free->next_free = f->next_free;
    if (h->bins[i] == f) {
        h->bins[i] = f->next_free;
        if (h->bins[i] == NULL)
            h->nonempty &= ~((size_t)1 << i);
    }
}

static inline void interlink(struct fragment *left, struct fragment *right) {
    if (left != NULL)
        left->next = right;
    if (right != NULL)
        right->prev = left;
}

static size_t instance_bytes(void) {
    return (sizeof(struct halffit) + HALFFIT_ALIGNMENT - 1) & ~(HALFFIT_ALIGNMENT - 1);
}

size_t halffit_min_region(void) {
    return instance_bytes() + FRAGMENT_MIN;
}

halffit *halffit_create(void *mem, size_t bytes) {
    if (mem == NULL || (uintptr_t)mem % HALFFIT_ALIGNMENT != 0 || bytes < halffit_min_region())
        return NULL;
    halffit *h = mem;
    memset(h, 0, sizeof(*h));
    h->capacity = (bytes - instance_bytes()) / FRAGMENT_MIN * FRAGMENT_MIN;
    struct fragment *f = (struct fragment *)((uintptr_t)mem + instance_bytes());
    f->next = NULL;
    f->prev = NULL;
    f->size = h->capacity;
    f->used = false;
    h->first = f;
    rebin(h, f);
    return h;
}

void *halffit_allocate(halffit *h, size_t amount) {
    if (amount > h->capacity - HALFFIT_ALIGNMENT)
        return NULL; /* also keeps the rounding below from overflowing */
    size_t need = (amount == 0 ? 1 : amount) + HALFFIT_ALIGNMENT;
    size_t fragment_size = need <= FRAGMENT_MIN ? FRAGMENT_MIN : (size_t)2 << log2_floor(need - 1);
    /* Bins from the fragment size's own up: every fragment there is at least that large. */
    size_t suitable = h->nonempty & ~(((size_t)1 << bin_of(fragment_size)) - 1);
    if (suitable == 0)
        return NULL;
    struct fragment *f = h->bins[__builtin_ctzll(suitable)];
    unbin(h, f);
    size_t leftover = f->size - fragment_size;
    f->size = fragment_size;
    if (leftover >= FRAGMENT_MIN) {
        struct fragment *rest = (struct fragment *)((uintptr_t)f + fragment_size);
        rest->size = leftover;
        rest->used = false;
        interlink(rest, f->next);
        interlink(f, rest);
        rebin(h, rest);
    } else {
        f->size += leftover;
    }
    f->used = true;
    return (char *)f + HALFFIT_ALIGNMENT;
}

void halffit_free(halffit *h, void *ptr) {
    if (ptr == NULL)
        return;
    struct fragment *f = (struct fragment *)((uintptr_t)ptr - HALFFIT_ALIGNMENT);
    f->used = false;
    struct fragment *prev = f->prev, *next = f->next;
    bool join_left = prev != NULL && !prev->used;
    bool join_right = next != NULL && !next->used;
    if (join_right) {
        unbin(h, next);
        f->size += next->size;
        interlink(f, next->next);
    }
    if (join_left) {
        unbin(h, prev);
        prev->size += f->size;
        interlink(prev, f->next);
        f = prev;
    }
    rebin(h, f);
}

void *halffit_realloc(halffit *h, void *ptr, size_t amount) {
    if (ptr == NULL)
        return halffit_allocate(h, amount);
    if (amount == 0) {
        halffit_free(h, ptr);
        return NULL;
    }
    size_t usable = halffit_usable_size(ptr);
    if (amount <= usable)
        return ptr;
    void *p = halffit_allocate(h, amount);
    if (p != NULL) {
        memcpy(p, ptr, usable);
        halffit_free(h, ptr);
    }
    return p;
}

size_t halffit_usable_size(const void *ptr) {
    const struct fragment *f = (const struct fragment *)((uintptr_t)ptr - HALFFIT_ALIGNMENT);
    return f->size - HALFFIT_ALIGNMENT;
}

bool halffit_check(const halffit *h, struct halffit_stats *out) {
    struct halffit_stats s = {0, 0, 0, 0};
    size_t total = 0;
    const struct fragment *prev = NULL;
    for (const struct fragment *f = h->first; f != NULL; prev = f, f = f->next) {
        if (f->prev != prev || f->size < FRAGMENT_MIN || f->size % FRAGMENT_MIN != 0 ||
            (prev != NULL && (const char *)prev + prev->size != (const char *)f) ||
            total + f->size > h->capacity)
            return false;
        total += f->size;
        if (f->used) {
            s.used_fragments++;
            continue;
        }
        if (prev != NULL && !prev->used)
            return false; /* two free neighbours: a merge was missed */
        s.free_fragments++;
        s.free_bytes += f->size;
        if (f->size > s.largest_free)
            s.largest_free = f->size;
    }
    if (total != h->capacity)
        return false;
    size_t binned = 0;
    for (unsigned i = 0; i < NUM_BINS; i++) {
        const struct fragment *f = h->bins[i];
        if ((f != NULL) != ((h->nonempty >> i) & 1u) || (f != NULL && f->prev_free != NULL))
            return false;
        for (; f != NULL; f = f->next_free) {
            if (f->used || bin_of(f->size) != i ||
                (f->next_free != NULL && f->next_free->prev_free != f) ||
                ++binned > s.free_fragments)
                return false;
        }
    }
    if (binned != s.free_fragments)
        return false;
    if (out != NULL)
        *out = s;
    return true;
}
