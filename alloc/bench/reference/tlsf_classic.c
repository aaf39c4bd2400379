/*
 * alloc/bench/reference/tlsf_classic.c - the classic TLSF (two-level segregated fit), this
 * project's own rendition for the replay benchmark (alloc/bench/replay.c), written from the TLSF
 * paper (Masmano, Ripoll, Crespo, Real, ECRTS 2004) and the design of mattconte/tlsf 3.1 as its
 * documentation and the TLSF 2.0/3.x notes describe it, not copied from either. Not part of
 * //alloc and not shipped: it is the unchecked baseline that //alloc is compared with.
 *
 * As in tlsf 3.1: free lists indexed by a first level (log2 of the size) and a second level of
 * 2^5 = 32 linear subdivisions, sizes below 256 bytes in one first-level row of 8-byte-wide
 * lists; one bitmap of non-empty rows and one per row of non-empty lists, searched with
 * find-first-set; good fit (the request is rounded up to the start of the next list, so that
 * every block of the list found fits, and the list's head is taken); immediate coalescing with
 * both neighbours through boundary tags (a pointer to the previous block, valid only while that
 * block is free, and the free and previous-free bits in the size word); a block header of one
 * size word, the previous-block pointer lying in the last word of the previous block's payload
 * (used only while that block is free); a zero-sized used block ending the pool; memalign by
 * asking for size + align + a header and cutting off the leading gap as a free block; realloc in
 * place when it shrinks or the next block is free and large enough; no integrity checks on any
 * path (tlsf_classic_check() is for tests only).
 *
 * Where it knowingly differs from tlsf 3.1:
 *   - payloads are 16-byte aligned (tlsf 3.1: 8 on 64-bit targets), as malloc's are on x86_64
 *     and as the replay checks: block sizes are kept at 8 modulo 16 (one size word of overhead
 *     then brings the next payload to a 16-byte boundary), so a request is rounded up to
 *     16k + 8 bytes (at least 24) rather than to a multiple of 8; the small lists stay 8 bytes
 *     wide as in 3.1, so half of them are never used;
 *   - malloc(0) returns the smallest block (tlsf 3.1 returns NULL), as the traces' zero-sized
 *     requests expect a pointer;
 *   - the lists end in NULL rather than in a shared null block;
 *   - one pool per heap, right after the control structure in the same region
 *     (tlsf_create_with_pool's layout); no tlsf_add_pool of further pools.
 */
#include "alloc/bench/reference/tlsf_classic.h"

#include <stdint.h>
#include <string.h>

enum {
    SL_LOG2 = 5,
    SL_COUNT = 1 << SL_LOG2,
    LINEAR_LOG2 = 3, /* tlsf 3.1's alignment on 64-bit targets: the small lists' width */
    FL_SHIFT = SL_LOG2 + LINEAR_LOG2,
    SMALL_BLOCK = 1 << FL_SHIFT,            /* sizes below: the linear first row */
    FL_MAX = sizeof(size_t) == 8 ? 32 : 30, /* block sizes below 2^FL_MAX, as tlsf 3.1 */
    FL_COUNT = FL_MAX - FL_SHIFT + 1,       /* rows of lists */
    ALIGN = TLSF_CLASSIC_ALIGNMENT,
};

struct block {
    struct block *prev_phys; /* the previous block, while it is free (its last payload word) */
    size_t size;             /* payload bytes | BLOCK_FREE | BLOCK_PREV_FREE */
    struct block *next_free; /* only while free */
    struct block *prev_free;
};

#define BLOCK_FREE      ((size_t)1)
#define BLOCK_PREV_FREE ((size_t)2)
#define OVERHEAD        sizeof(size_t) /* per used block: its size word */
#define PAYLOAD_OFFSET  (offsetof(struct block, size) + sizeof(size_t))
#define MIN_SIZE        (sizeof(struct block) - sizeof(struct block *))
#define MAX_SIZE        ((size_t)1 << FL_MAX)

struct tlsf_classic {
    uint32_t fl_bitmap;
    uint32_t sl_bitmap[FL_COUNT];
    struct block *lists[FL_COUNT][SL_COUNT];
    char *end; /* for tlsf_classic_check() only */
};

_Static_assert(FL_COUNT <= 32 && SL_COUNT <= 32, "the bitmaps are 32-bit words");
_Static_assert((MIN_SIZE + OVERHEAD) % ALIGN == 0, "the smallest block keeps payloads aligned");

static inline size_t size_of(const struct block *b) {
    return b->size & ~(BLOCK_FREE | BLOCK_PREV_FREE);
}

static inline char *to_ptr(const struct block *b) {
    return (char *)b + PAYLOAD_OFFSET;
}

static inline struct block *block_at(char *p) {
    return (struct block *)(uintptr_t)p;
}

static inline struct block *from_ptr(const void *p) {
    return block_at((char *)p - PAYLOAD_OFFSET);
}

/* The physical successor: its header starts in the last word of this block's payload. */
static inline struct block *next_phys(const struct block *b) {
    return block_at(to_ptr(b) + size_of(b) - OVERHEAD);
}

static inline int fls_size(size_t x) {
    return (int)(sizeof(unsigned long long) * 8 - 1) - __builtin_clzll((unsigned long long)x);
}

/* The list a block of this size belongs to. */
static void mapping_insert(size_t size, int *fl, int *sl) {
    if (size < SMALL_BLOCK) {
        *fl = 0;
        *sl = (int)(size >> LINEAR_LOG2);
    } else {
        int f = fls_size(size);
        *sl = (int)((size >> (f - SL_LOG2)) ^ SL_COUNT);
        *fl = f - (FL_SHIFT - 1);
    }
}

/* The first list all of whose blocks hold size bytes: size rounded up past its own list. */
static void mapping_search(size_t size, int *fl, int *sl) {
    if (size >= SMALL_BLOCK)
        size += ((size_t)1 << (fls_size(size) - SL_LOG2)) - 1;
    mapping_insert(size, fl, sl);
}

/* A request's block size (8 modulo 16, at least MIN_SIZE), or 0 if it is too large. */
static size_t adjust(size_t size) {
    if (size >= MAX_SIZE)
        return 0;
    size_t a = ((size + OVERHEAD + ALIGN - 1) & ~(size_t)(ALIGN - 1)) - OVERHEAD;
    return a < MIN_SIZE ? MIN_SIZE : a;
}

static void insert(tlsf_classic *t, struct block *b) {
    int fl, sl;
    mapping_insert(size_of(b), &fl, &sl);
    struct block *head = t->lists[fl][sl];
    b->next_free = head;
    b->prev_free = NULL;
    if (head != NULL)
        head->prev_free = b;
    t->lists[fl][sl] = b;
    t->fl_bitmap |= 1u << fl;
    t->sl_bitmap[fl] |= 1u << sl;
}

static void remove_free(tlsf_classic *t, struct block *b) {
    int fl, sl;
    mapping_insert(size_of(b), &fl, &sl);
    if (b->next_free != NULL)
        b->next_free->prev_free = b->prev_free;
    if (b->prev_free != NULL) {
        b->prev_free->next_free = b->next_free;
    } else {
        t->lists[fl][sl] = b->next_free;
        if (b->next_free == NULL) {
            t->sl_bitmap[fl] &= ~(1u << sl);
            if (t->sl_bitmap[fl] == 0)
                t->fl_bitmap &= ~(1u << fl);
        }
    }
}

/* Takes the head of the first non-empty list at or after (fl, sl) off its list, or NULL. */
static struct block *locate_free(tlsf_classic *t, size_t size) {
    int fl, sl;
    mapping_search(size, &fl, &sl);
    if (fl >= FL_COUNT)
        return NULL;
    uint32_t sl_map = t->sl_bitmap[fl] & (~0u << sl);
    if (sl_map == 0) {
        uint32_t fl_map = fl + 1 < 32 ? t->fl_bitmap & (~0u << (fl + 1)) : 0;
        if (fl_map == 0)
            return NULL;
        fl = __builtin_ctz(fl_map);
        sl_map = t->sl_bitmap[fl];
    }
    sl = __builtin_ctz(sl_map);
    struct block *b = t->lists[fl][sl];
    remove_free(t, b);
    return b;
}

/* Hands out the free block b (off its list) as a block of size bytes, its tail going back as a
 * free block when a header and the smallest block fit there. */
static void *use_block(tlsf_classic *t, struct block *b, size_t size) {
    if (size_of(b) >= sizeof(struct block) + size) {
        struct block *rest = block_at(to_ptr(b) + size - OVERHEAD);
        rest->size = (size_of(b) - size - OVERHEAD) | BLOCK_FREE;
        b->size = size | (b->size & BLOCK_PREV_FREE);
        next_phys(rest)->prev_phys = rest; /* its previous-free bit is set: b was free */
        insert(t, rest);
    } else {
        next_phys(b)->size &= ~BLOCK_PREV_FREE;
        b->size &= ~BLOCK_FREE;
    }
    return to_ptr(b);
}

static size_t first_payload_offset(void) {
    return (sizeof(struct tlsf_classic) + OVERHEAD + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

size_t tlsf_classic_min_region(void) {
    return first_payload_offset() + MIN_SIZE + OVERHEAD;
}

size_t tlsf_classic_max_region(void) {
    return first_payload_offset() + MAX_SIZE - 1;
}

static struct block *first_block(const tlsf_classic *t) {
    return from_ptr((const char *)t + first_payload_offset());
}

tlsf_classic *tlsf_classic_create(void *mem, size_t bytes) {
    if (mem == NULL || (uintptr_t)mem % ALIGN != 0 || bytes < tlsf_classic_min_region() ||
        bytes > tlsf_classic_max_region())
        return NULL;
    tlsf_classic *t = mem;
    memset(t, 0, sizeof(*t));
    t->end = (char *)mem + bytes;
    /* The pool's one free block, then the sentinel's size word right after its payload. */
    size_t avail = bytes - first_payload_offset();
    struct block *first = first_block(t);
    first->size = ((avail & ~(size_t)(ALIGN - 1)) - OVERHEAD) | BLOCK_FREE;
    struct block *sentinel = next_phys(first);
    sentinel->size = BLOCK_PREV_FREE;
    sentinel->prev_phys = first;
    insert(t, first);
    return t;
}

void *tlsf_classic_malloc(tlsf_classic *t, size_t size) {
    size_t want = adjust(size);
    if (want == 0)
        return NULL;
    struct block *b = locate_free(t, want);
    return b == NULL ? NULL : use_block(t, b, want);
}

void tlsf_classic_free(tlsf_classic *t, void *ptr) {
    if (ptr == NULL)
        return;
    struct block *b = from_ptr(ptr);
    size_t size = size_of(b);
    if (b->size & BLOCK_PREV_FREE) {
        struct block *prev = b->prev_phys;
        remove_free(t, prev);
        size += size_of(prev) + OVERHEAD;
        b = prev;
    }
    struct block *next = block_at(to_ptr(b) + size - OVERHEAD);
    if (next->size & BLOCK_FREE) {
        remove_free(t, next);
        size += size_of(next) + OVERHEAD;
        next = block_at(to_ptr(b) + size - OVERHEAD);
    }
    b->size = size | BLOCK_FREE; /* its predecessor is used: free blocks are never neighbours */
    next->prev_phys = b;
    next->size |= BLOCK_PREV_FREE;
    insert(t, b);
}

void *tlsf_classic_memalign(tlsf_classic *t, size_t align, size_t size) {
    if (align == 0 || (align & (align - 1)) != 0)
        return NULL;
    if (align <= ALIGN)
        return tlsf_classic_malloc(t, size);
    size_t want = adjust(size);
    const size_t gap_min = sizeof(struct block); /* a leading gap must hold a free block */
    if (want == 0 || want > MAX_SIZE - align - gap_min)
        return NULL;
    size_t with_gap = adjust(want + align + gap_min);
    struct block *b = with_gap == 0 ? NULL : locate_free(t, with_gap);
    if (b == NULL)
        return NULL;
    uintptr_t p = (uintptr_t)to_ptr(b);
    uintptr_t aligned = (p + align - 1) & ~(uintptr_t)(align - 1);
    if (aligned != p && aligned - p < gap_min) /* too small a gap for a block: the next boundary */
        aligned += align;
    size_t gap = aligned - p;
    if (gap != 0) {
        struct block *rest = from_ptr((void *)aligned);
        rest->size = (size_of(b) - gap) | BLOCK_PREV_FREE;
        rest->prev_phys = b;
        b->size = (gap - OVERHEAD) | BLOCK_FREE;
        insert(t, b);
        b = rest;
    }
    return use_block(t, b, want);
}

void *tlsf_classic_realloc(tlsf_classic *t, void *ptr, size_t size) {
    if (ptr == NULL)
        return tlsf_classic_malloc(t, size);
    if (size == 0) {
        tlsf_classic_free(t, ptr);
        return NULL;
    }
    struct block *b = from_ptr(ptr);
    size_t cur = size_of(b), want = adjust(size);
    if (want == 0)
        return NULL;
    struct block *next = next_phys(b);
    if (want > cur) {
        size_t combined = (next->size & BLOCK_FREE) ? cur + size_of(next) + OVERHEAD : 0;
        if (want > combined) {
            void *p = tlsf_classic_malloc(t, size);
            if (p != NULL) {
                memcpy(p, ptr, cur < size ? cur : size);
                tlsf_classic_free(t, ptr);
            }
            return p;
        }
        remove_free(t, next);
        cur = combined;
        b->size = cur | (b->size & BLOCK_PREV_FREE);
        next = next_phys(b);
        next->size &= ~BLOCK_PREV_FREE;
    }
    if (cur >= sizeof(struct block) + want) { /* the tail goes back, merged with a free next */
        struct block *rest = block_at((char *)ptr + want - OVERHEAD);
        size_t rest_size = cur - want - OVERHEAD;
        b->size = want | (b->size & BLOCK_PREV_FREE);
        if (next->size & BLOCK_FREE) {
            remove_free(t, next);
            rest_size += size_of(next) + OVERHEAD;
        }
        rest->size = rest_size | BLOCK_FREE;
        next = next_phys(rest);
        next->prev_phys = rest;
        next->size |= BLOCK_PREV_FREE;
        insert(t, rest);
    }
    return ptr;
}

size_t tlsf_classic_usable_size(const void *ptr) {
    return size_of(from_ptr(ptr));
}

bool tlsf_classic_check(const tlsf_classic *t, struct tlsf_classic_stats *out) {
    struct tlsf_classic_stats s = {0, 0, 0, 0};
    const struct block *b = first_block(t), *prev = NULL;
    bool prev_free = false;
    for (;;) {
        if ((const char *)b + PAYLOAD_OFFSET > t->end)
            return false;
        bool pf = (b->size & BLOCK_PREV_FREE) != 0;
        if (pf != prev_free || (pf && b->prev_phys != prev))
            return false;
        size_t size = size_of(b);
        if (size == 0)
            break; /* the sentinel */
        if ((size + OVERHEAD) % ALIGN != 0 || size < MIN_SIZE)
            return false;
        prev_free = (b->size & BLOCK_FREE) != 0;
        if (prev_free && pf)
            return false; /* two free neighbours: a merge was missed */
        if (prev_free) {
            s.free_blocks++;
            s.free_bytes += size;
            if (size > s.largest_free)
                s.largest_free = size;
        } else {
            s.used_blocks++;
        }
        prev = b;
        b = next_phys(b);
    }
    size_t listed = 0;
    for (int fl = 0; fl < FL_COUNT; fl++) {
        if (((t->fl_bitmap >> fl) & 1u) != (t->sl_bitmap[fl] != 0))
            return false;
        for (int sl = 0; sl < SL_COUNT; sl++) {
            const struct block *n = t->lists[fl][sl];
            if ((n != NULL) != ((t->sl_bitmap[fl] >> sl) & 1u) || (n && n->prev_free != NULL))
                return false;
            for (; n != NULL; n = n->next_free) {
                int f, l;
                mapping_insert(size_of(n), &f, &l);
                if (!(n->size & BLOCK_FREE) || f != fl || l != sl ||
                    (n->next_free != NULL && n->next_free->prev_free != n) ||
                    ++listed > s.free_blocks)
                    return false;
            }
        }
    }
    if (listed != s.free_blocks)
        return false;
    if (out != NULL)
        *out = s;
    return true;
}
