/*
 * alloc/first_fit.c - the first-fit strategy: one singly linked list of the free blocks in
 * address order, searched from the lowest address for the first block that fits (with room for
 * alignment), and a free that walks the list to its place and merges with the neighbouring free
 * blocks. This is the design of Rust's linked_list_allocator 0.9 (the "hole list" of the classic
 * hobby-kernel tutorial), on this library's block headers so that free needs no size argument.
 * Allocate and free cost O(free blocks).
 *
 *   head -> [free A] -> [free B] -> [free C] -> NULL      A < B < C, never adjacent
 */
#include "first_fit.h"

/* Compiled only when ALLOC_STRATEGIES includes it (alloc/config.h). */
#if FIRST_FIT_COMPILED_IN

static inline block_t *ff_next(const block_t *b) {
    return blk_links(b)->next;
}

/* A list node is plausible: inside the heap, above the previous node, with a FREE header. */
static inline bool node_ok(const alloc_heap *h, const block_t *b, const block_t *after) {
    if (!in_heap(h, b) || (uintptr_t)b <= (uintptr_t)after)
        return false;
    hword_t w = b->size;
    size_t s = (size_t)(w & SIZE_MASK);
    return (w & FREE_WORD_MASK) == ST_FREE && s >= MIN_BLOCK && s <= h->end - (uintptr_t)b &&
           word_ok(h, &b->size) && prev_word_is(h, blk_at((uintptr_t)b + s), s);
}

/*
 * b's link, for a caller that takes b off the list and files the link elsewhere: checked as a walk
 * checks a node (NULL ends the list), so that a bent link is reported before anything is written,
 * not copied where only a later walk would find it. False, after reporting, if it is not plausible.
 */
static bool ff_next_checked(alloc_heap *h, const block_t *b, block_t **out) {
    block_t *next = ff_next(b);
    if (next != NULL && !node_ok(h, next, b)) {
        alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, b);
        return false;
    }
    *out = next;
    return true;
}

/*
 * Splits @b (@total bytes, already out of the list) into a USED block of @size bytes and a free
 * tail of the rest (at least MIN_BLOCK), filed at *link, which points at the first free block
 * above @b: the link that held @b or the neighbour it absorbed, or its free front's; @after follows
 * @b.
 */
static inline void split_tail(alloc_heap *h, block_t *b, size_t total, size_t size, block_t *after,
                              block_t **link) {
    block_t *tail = blk_at((uintptr_t)b + size);
    blk_set(h, tail, size, total - size, ST_FREE, false);
    blk_set_prev_size(h, after, total - size);
    blk_links(tail)->next = *link;
    blk_links(tail)->prev = NULL;
    *link = tail;
    h->free_blocks++;
    blk_set_size_state(h, b, size, ST_USED);
}

static block_t *alloc_ff_alloc(alloc_heap *h, size_t size, size_t align, bool try_cache) {
    (void)try_cache; /* no cache */
    block_t **link = &ff_of(h)->head;
    const block_t *after = NULL;
    block_t *b;
    size_t gap = 0, n = 0;
    for (b = *link; b != NULL; link = &blk_links(b)->next, after = b, b = *link) {
        if (!node_ok(h, b, after) || ++n > h->free_blocks) {
            alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, b);
            return REFUSED;
        }
        uintptr_t payload = (uintptr_t)b + HDR;
        uintptr_t aligned = (payload + align - 1) & ~(uintptr_t)(align - 1);
        if (aligned != payload && aligned - payload < MIN_BLOCK)
            aligned += align;
        gap = aligned - payload;
        if (blk_size(b) >= gap + size)
            break;
    }
    if (b == NULL) {
        /* A link overwritten with NULL or with a later node would hide free blocks. */
        if (n != h->free_blocks) {
            alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, h);
            return REFUSED;
        }
        return NULL;
    }

    block_t *rest; /* b's link: the front's, or the tail's, or *link's */
    if (!ff_next_checked(h, b, &rest))
        return REFUSED;
    size_t bs = blk_size(b);
    if (gap != 0) {
        /* The front stays in the list as a smaller free block; the rest follows it. */
        block_t *u = blk_at((uintptr_t)b + gap);
        blk_set(h, u, gap, bs - gap, ST_USED, true);
        blk_set_prev_size(h, blk_at((uintptr_t)u + bs - gap), bs - gap);
        blk_set_size_state(h, b, gap, ST_FREE);
        link = &blk_links(b)->next;
        b = u;
        bs -= gap;
    } else {
        *link = rest;
        h->free_blocks--;
    }
    block_t *next = blk_at((uintptr_t)b + bs);
    if (bs - size >= MIN_BLOCK) {
        split_tail(h, b, bs, size, next, link);
    } else {
        blk_set_prev_free(h, next, false);
        blk_set_state(h, b, ST_USED);
    }
    return b;
}

/*
 * Finds where a block at address b belongs in the list: *link_out is the link that points at
 * the first free block at or above b (*cur_out, or NULL), *prev_out the free block below it (or
 * NULL). Returns false, after reporting, if the list is broken on the way.
 */
static bool ff_find(alloc_heap *h, const block_t *b, block_t ***link_out, block_t **prev_out,
                    block_t **cur_out) {
    block_t **link = &ff_of(h)->head;
    block_t *prev = NULL, *cur = *link;
    size_t n = 0;
    while (cur != NULL) {
        if (!node_ok(h, cur, prev) || ++n > h->free_blocks) {
            alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, cur);
            return false;
        }
        if ((uintptr_t)cur >= (uintptr_t)b)
            break;
        prev = cur;
        link = &blk_links(cur)->next;
        cur = *link;
    }
    if (cur == NULL && n != h->free_blocks) {
        alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, h);
        return false;
    }
    *link_out = link;
    *prev_out = prev;
    *cur_out = cur;
    return true;
}

static bool ff_release(alloc_heap *h, block_t *b) {
    block_t **link, *prev, *cur;
    if (!ff_find(h, b, &link, &prev, &cur))
        return false;
    size_t s = blk_size(b);
    block_t *next = blk_at((uintptr_t)b + s);
    bool merge_next = blk_state(next) == ST_FREE;
    bool merge_prev = blk_prev_free(b);
    /* The boundary tags and the list must agree on who the free neighbours are. */
    if (merge_next != (cur == next) || cur == b ||
        merge_prev != (prev != NULL && (uintptr_t)prev + blk_size(prev) == (uintptr_t)b)) {
        alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, b);
        return false;
    }
    block_t *rest = cur; /* the merged block's link */
    if (merge_next && !ff_next_checked(h, next, &rest))
        return false;
    if (poison_free(h))
        __builtin_memset(blk_payload(b), ALLOC_POISON_FREE_BYTE, s - HDR);
    if (merge_next) {
        s += blk_size(next);
        blk_erase(h, next, HDR + sizeof(struct free_links));
        h->free_blocks--;
        next = blk_at((uintptr_t)b + s);
    }
    if (merge_prev) {
        s += blk_size(prev);
        blk_erase(h, b, HDR);
        b = prev;
        blk_set_size_state(h, b, s, ST_FREE);
        blk_links(b)->next = rest;
    } else {
        blk_set_size_state(h, b, s, ST_FREE);
        blk_links(b)->next = rest;
        blk_links(b)->prev = NULL;
        *link = b;
        h->free_blocks++;
    }
    blk_set_prev_size(h, next, s);
    blk_set_prev_free(h, next, true);
    return true;
}

static int alloc_ff_resize(alloc_heap *h, block_t *b, size_t size) {
    size_t cur_size = blk_size(b);
    block_t *next = blk_at((uintptr_t)b + cur_size);
    if (size <= cur_size) {
        if (cur_size - size < MIN_BLOCK)
            return 1;
        block_t **link, *prev, *cur;
        if (!ff_find(h, b, &link, &prev, &cur))
            return -1;
        /* Cut the tail off as a USED block and release it: it merges with a free successor. */
        block_t *tail = blk_at((uintptr_t)b + size);
        blk_set(h, tail, size, cur_size - size, ST_USED, false);
        blk_set_prev_size(h, next, cur_size - size);
        blk_set_size_state(h, b, size, ST_USED);
        return ff_release(h, tail) ? 1 : -1;
    }
    if (blk_state(next) != ST_FREE || cur_size + blk_size(next) < size)
        return 0;
    block_t **link, *prev, *cur;
    if (!ff_find(h, next, &link, &prev, &cur))
        return -1;
    if (cur != next) {
        alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, next);
        return -1;
    }
    block_t *rest;
    if (!ff_next_checked(h, next, &rest))
        return -1;
    size_t total = cur_size + blk_size(next);
    *link = rest;
    h->free_blocks--;
    blk_erase(h, next, HDR + sizeof(struct free_links));
    block_t *after = blk_at((uintptr_t)b + total);
    if (total - size >= MIN_BLOCK) {
        split_tail(h, b, total, size, after, link);
    } else {
        blk_set_prev_size(h, after, total);
        blk_set_prev_free(h, after, false);
        blk_set_size_state(h, b, total, ST_USED);
    }
    return 1;
}

static size_t alloc_ff_largest_free(alloc_heap *h) {
    size_t best = 0, n = 0;
    const block_t *prev = NULL;
    for (const block_t *b = ff_of(h)->head; b != NULL && n <= h->free_blocks;
         prev = b, b = ff_next(b), n++) {
        if (!node_ok(h, b, prev))
            break; /* a damaged link is never followed; alloc_heap_check reports it */
        if (blk_size(b) > best)
            best = blk_size(b);
    }
    return best != 0 ? best - HDR : 0;
}

static enum alloc_error alloc_ff_check(alloc_heap *h, size_t nfree, size_t nquick,
                                       const void **bad) {
    if (nquick != 0) {
        *bad = h;
        return ALLOC_ERR_CORRUPTED_FREE_LIST; /* first fit has no quick lists */
    }
    size_t n = 0;
    const block_t *prev = NULL;
    for (const block_t *b = ff_of(h)->head; b != NULL; prev = b, b = ff_next(b)) {
        if (!node_ok(h, b, prev) || ++n > nfree) {
            *bad = b;
            return ALLOC_ERR_CORRUPTED_FREE_LIST;
        }
    }
    if (n != nfree) {
        *bad = h;
        return ALLOC_ERR_CORRUPTED_FREE_LIST;
    }
    return ALLOC_OK;
}

static bool ff_release_op(alloc_heap *h, block_t *b, bool try_cache) {
    (void)try_cache; /* no cache */
    return ff_release(h, b);
}

const struct alloc_strategy_ops alloc_ff_ops = {
    .strategy = ALLOC_STRATEGY_FIRST_FIT,
    .state_size = sizeof(struct ff_state),
    .alloc = alloc_ff_alloc,
    .release = ff_release_op,
    .resize = alloc_ff_resize,
};

const struct alloc_strategy_inspect alloc_ff_inspect = {
    .largest_free = alloc_ff_largest_free,
    .check = alloc_ff_check,
};

#endif /* FIRST_FIT_COMPILED_IN */
