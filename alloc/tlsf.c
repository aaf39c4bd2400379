/*
 * alloc/tlsf.c - the default strategy: two-level segregated fit (TLSF) with bounded quick lists.
 *
 * Free blocks sit in FL_COUNT x SL_COUNT doubly linked lists. A block of size s belongs to list
 * (fl, sl) where, for s >= 256, fl = msb(s) - 7 and sl is the next SL_LOG2 bits below the most
 * significant one; sizes below 256 map linearly with fl = 0 and sl = s / 16:
 *
 *   size  1 0 1 1 0 x x x x x x      fl = msb - 7 (here msb = 10, fl = 3)
 *           \_____/                  sl = 0b0110 = 6
 *
 * fl_map has bit fl set when any list of level fl is non-empty, sl_map[fl] has bit sl set when
 * list (fl, sl) is non-empty. A plain request takes the head of its own list, not rounded up,
 * where that holds it: the closest fit at O(1) cost. Else the request is rounded up to the next
 * list boundary and served from the first non-empty list at or above it (two find-first-set
 * instructions), so any block found fits: good fit in O(1). (locate_free gives the order for each
 * request and build.) Free coalesces with both neighbours through the boundary tags in O(1).
 *
 * The free block that ends the heap, the top block, is kept off the lists and serves a request
 * only when no list above the request's own can, before the last look at that own list: the
 * untouched rest of the region is used after every list that surely holds the request, and the
 * last block (a buffer growing by realloc, say) grows into it without any list work. A build for
 * size files it on its list instead (TOP_BLOCK, tlsf.h).
 *
 * In front of that sit QUICK_BINS quick lists: a freed block of payload <= ALLOC_QUICK_MAX_SIZE
 * is pushed, unmerged, on the LIFO list of its exact size (at most ALLOC_QUICK_BIN_LIMIT deep)
 * and a request of that size pops it. They are flushed into the TLSF lists when an allocation
 * fails, so they never make a request fail.
 */
#include "tlsf.h"

/* Compiled only when ALLOC_STRATEGIES includes it (alloc/config.h). */
#if TLSF_COMPILED_IN

/*
 * The most significant set bit of x (> 0), from the word scan a 32- or 64-bit CPU has. On x86,
 * where the bit scan (bsr) gives it as it is, opaque in a build for speed: else clang folds its
 * callers' subtractions into the scan's 63 - clz and computes 59 - clz and 56 - clz to map a list,
 * four instructions more (x86_64, measured). Elsewhere (a count of leading zeros) and in a build
 * for size, as written.
 */
#if ALLOC_FAST_PATHS && (defined(__x86_64__) || defined(__i386__))
#define MSB_OPAQUE 1
#else
#define MSB_OPAQUE 0
#endif
static inline unsigned msb(size_t x) {
    unsigned m = (unsigned)(8 * sizeof(unsigned long) - 1) - (unsigned)__builtin_clzl(x);
    return MSB_OPAQUE ? (unsigned)opaque_size(m) : m;
}
_Static_assert(sizeof(unsigned long) >= sizeof(size_t), "alloc: msb needs size_t in a long");

/* The list a free block of `size` bytes belongs to. */
#if ALLOC_FAST_PATHS
static inline void mapping_insert(size_t size, unsigned *fl, unsigned *sl) {
    if (size < ((size_t)1 << FL_SHIFT)) {
        *fl = 0;
        *sl = (unsigned)(size >> 4);
    } else {
        unsigned m = msb(size);
        *sl = (unsigned)(size >> (m - SL_LOG2)) ^ SL_COUNT;
        *fl = m - FL_SHIFT + 1;
    }
}
#else
/*
 * In a build for size, one called copy that returns the list as one number, fl * SL_COUNT + sl. It
 * takes the size bits of its argument, so that a block's callers pass its size word as it is (a
 * request's size, below ALLOC_MAX_HEAP and a multiple of GRANULE, has no other bits).
 */
static __attribute__((noinline)) unsigned list_index(size_t size) {
    size = word_size_shifts(size);
    if (size < ((size_t)1 << FL_SHIFT))
        return (unsigned)(size >> 4);
    unsigned m = msb(size);
    return (m - FL_SHIFT + 1) << SL_LOG2 | ((unsigned)(size >> (m - SL_LOG2)) ^ SL_COUNT);
}
static inline void mapping_insert(size_t size, unsigned *fl, unsigned *sl) {
    unsigned i = list_index(size);
    *fl = i >> SL_LOG2;
    *sl = i & (SL_COUNT - 1);
}
#endif

/* The list of free block b. A build for size passes its size word as it is: list_index masks it. */
static inline void block_list(const block_t *b, unsigned *fl, unsigned *sl) {
    mapping_insert(ALLOC_FAST_PATHS ? blk_size(b) : (size_t)b->size, fl, sl);
}

/*
 * A size word's low bits those of a FREE block, (w & FREE_WORD_MASK) == ST_FREE, tested as
 * ((w - ST_FREE) & that mask) == 0 (w - ST_FREE has its low four bits clear exactly where w's are
 * ST_FREE): a lea and a test, not a copy of w, a mask and a comparison. The difference is opaque
 * (an empty asm), else clang folds the test back into the mask and comparison.
 */
static inline bool state_free_ok(hword_t w) {
    _Static_assert(FREE_WORD_MASK == 15 && FREE_WORD_MASK < GRANULE,
                   "alloc: state_free_ok needs the low four bits, below every size");
    return (opaque_u64(w - ST_FREE) & FREE_WORD_MASK) == 0;
}

#if ALLOC_FAST_PATHS
/*
 * in_heap for a node that the allocation's checks read (a list head's successor, a good fit's head
 * in an aligned request, the top block), its tests as branches: the empty asm before the phase test
 * keeps clang from joining them into flag arithmetic (setbe, setne, or, one branch). The logic is
 * in_heap's, and in_heap serves where that form measured no longer: links_ok, which the releases
 * share (release_next, merge_neighbours: a little longer with node_in_heap), the fallback scan's
 * loop (worst case -O2 215 -> 237 with it), and tlsf_alloc_plain's tests of a list's head (with
 * node_in_heap there clang 81.085 -> 81.172, git 170.343 -> 170.441 instructions per operation,
 * worst case split and fallback scan 1 longer). Everywhere (in_heap alone), the worst case's new
 * run was 1 instruction longer at -O1 and -O2, its aligned request 1 at -O2.
 */
static inline bool node_in_heap(const alloc_heap *h, const block_t *b) {
    uintptr_t a = (uintptr_t)b;
    if (a < h->first || a >= h->end)
        return false;
    __asm__("" : "+r"(a));
    return (a & (GRANULE - 1)) == BLOCK_PHASE;
}
#else
static inline bool node_in_heap(const alloc_heap *h, const block_t *b) {
    return in_heap(h, b);
}
#endif

/*
 * A list node is sound: inside the heap, with a validly sealed FREE header whose size stays in
 * the heap and agrees with the boundary tag of its successor (a build for size also checks its prev
 * word and its successor's size word, as pointer validation does, and that the successor is not
 * FREE). Left to the compiler in every build: a build for size checks nodes on the allocation
 * paths in check_unlink alone (there is no top block to check apart, TOP_BLOCK), and inlines it
 * there.
 */
#if ALLOC_FAST_PATHS
/*
 * free_node_ok's checks of a block that lies in the heap: a validly sealed FREE header whose size
 * stays in the heap and agrees with the boundary tag of its successor.
 */
static inline bool free_header_ok(const alloc_heap *h, const block_t *b) {
    hword_t w = b->size;
    size_t s = (size_t)(w & SIZE_MASK);
    return state_free_ok(w) && s >= MIN_BLOCK && s <= h->end - (uintptr_t)b &&
           seal_ok(h, &b->size, w) && prev_word_is(h, blk_at((uintptr_t)b + s), s);
}
#endif

static inline bool free_node_ok(const alloc_heap *h, const block_t *b) {
#if ALLOC_FAST_PATHS
    return node_in_heap(h, b) && free_header_ok(h, b);
#else
    /*
     * The checks a used block's pointer passes too, in their one copy (and its prev word's); then
     * that its successor is not FREE, as coalescing leaves none: so an allocation's shrink, which
     * releases b's tail into that successor, never meets it damaged with b taken and not yet
     * handed out (the report would find the heap half changed). Tested here, 8 bytes on a
     * Cortex-M4; in alloc_block_sound, 10. With quick lists the successor may be QUICK, whose
     * state shares FREE's bit (a quick block counts as used for coalescing): the whole state is
     * compared then; without them, the one bit.
     */
    size_t s = alloc_block_sound(h, b, FREE_WORD_MASK, ST_FREE);
    const block_t *next = blk_at((uintptr_t)b + s);
    return s != 0 && (QUICK_BINS > 0 ? blk_state(next) != ST_FREE : (next->size & ST_FREE) == 0);
#endif
}

/*
 * b (a FREE block) can be unlinked safely: its links lead inside the heap to nodes that point
 * back at it, so the two stores of the unlink land where they belong. (The neighbours' headers
 * are checked when those blocks are themselves used.)
 */
static inline bool links_ok(const alloc_heap *h, const block_t *b, unsigned fl, unsigned sl) {
    const struct free_links *l = blk_links(b);
    if (l->prev != NULL) {
        if (!in_heap(h, l->prev) || blk_links(l->prev)->next != b)
            return false;
    } else if (LIST_HEAD(tlsf_of(h), fl, sl) != b) {
        return false;
    }
    if (l->next != NULL && (!in_heap(h, l->next) || blk_links(l->next)->prev != b))
        return false;
    return true;
}

#if ALLOC_FAST_PATHS
/*
 * links_ok for b read from the head of its list: its prev link must be NULL (links_ok would also
 * take a prev node that points back at it, which no head has, and compare the head with b, which
 * it is). So the check is stronger, and shorter.
 */
static inline bool head_links_ok(const alloc_heap *h, const block_t *b) {
    const struct free_links *l = blk_links(b);
    /*
     * h opaque (an empty asm): the successor's range test reads first and end from memory, not
     * from registers kept from b's test, which clang then had to keep across the header checks.
     */
    __asm__("" : "+r"(h));
    return l->prev == NULL &&
           (l->next == NULL || (node_in_heap(h, l->next) && blk_links(l->next)->prev == b));
}
#endif

/*
 * free_node_ok for the top block, and that it ends at the END marker: in the heap, a validly
 * sealed FREE header whose size is at least MIN_BLOCK and reaches exactly to the END marker (so it
 * stays in the heap: free_node_ok's test of that is left out), whose prev word repeats it.
 */
static inline bool top_block_ok(const alloc_heap *h, const block_t *b) {
    if (!node_in_heap(h, b))
        return false;
    hword_t w = b->size;
    size_t s = (size_t)(w & SIZE_MASK);
    return state_free_ok(w) && s >= MIN_BLOCK && (uintptr_t)b + s == h->end &&
           seal_ok(h, &b->size, w) && prev_word_is(h, blk_at(h->end), s);
}

/*
 * Whether a split or merge relocates the list node (replace_free) when the block stays in its
 * list, or re-files it (remove_free, insert_free) like any other: the first saves stores and
 * bit-map updates, the second the code of one more case per path, which a build for size
 * (ALLOC_FAST_PATHS 0) prefers. The lists hold the same blocks either way.
 */
#define RELOCATE_NODES ALLOC_FAST_PATHS

/*
 * Whether the checks of a block's links before an unlink (check_unlink_links, unlink_links_sound,
 * listed_links_sound) hand the block's list (fl, sl) on to the unlink (remove_free, unfile_free),
 * or remove_free finds it again from the block's size: the first saves the mapping, the second the
 * code of carrying it through every caller, which a build for size prefers. Without CARRY_LIST the
 * (fl, sl) a caller passes to remove_free are not used, and the compiler drops them and the code
 * that would compute them.
 */
#define CARRY_LIST ALLOC_FAST_PATHS
_Static_assert(!RELOCATE_NODES || CARRY_LIST,
               "alloc: merge_neighbours' re-file needs the list carried");

/*
 * Moves the list node of FREE block `from` (in list fl, sl) to `to`, which takes its place in
 * the same list: the cheap way to file a block that shrank or grew without changing class.
 * If `from` is the top block, `to` (which then also ends the heap) becomes the top block.
 */
static inline void replace_node(alloc_heap *h, block_t *from, block_t *to, unsigned fl,
                                unsigned sl);
static inline void replace_free(alloc_heap *h, block_t *from, block_t *to, unsigned fl,
                                unsigned sl) {
    if (from == tlsf_of(h)->top) {
        tlsf_of(h)->top = to;
        return;
    }
    replace_node(h, from, to, fl, sl);
}

/* replace_free's list work, for a `from` on list (fl, sl): not the top block. */
static inline void replace_node(alloc_heap *h, block_t *from, block_t *to, unsigned fl,
                                unsigned sl) {
    struct free_links *lf = blk_links(from);
    block_t *next = lf->next, *prev = lf->prev;
    struct free_links *lt = blk_links(to);
    lt->next = next;
    lt->prev = prev;
    if (next != NULL)
        blk_links(next)->prev = to;
    if (prev != NULL)
        blk_links(prev)->next = to;
    else
        LIST_HEAD(tlsf_of(h), fl, sl) = to;
}

/*
 * True when free blocks of sizes a and b (both >= MIN_BLOCK) belong to the same list: their bits
 * from a's second level up agree (where b's most significant bit is not a's, the higher of the two
 * differs).
 */
static inline bool same_list(size_t a, size_t b) {
    unsigned shift = a < ((size_t)1 << FL_SHIFT) ? 4u : msb(a) - SL_LOG2;
    return ((a ^ b) >> shift) == 0;
}

#if ALLOC_FAST_PATHS
/*
 * A request's two lists (of a search size, a multiple of GRANULE and at least MIN_BLOCK) as list
 * numbers, fl * SL_COUNT + sl: its own (mapping_insert's, returned) and the first all of whose
 * blocks hold it (in *fit: the own list when the size is its lower bound, else the next one), with
 * no branch. With m the most significant bit of size | 1 << FL_SHIFT (m >= FL_SHIFT: sizes below it
 * take m = FL_SHIFT, whose formula is their linear one, size / 16), the own list is
 * (m - FL_SHIFT) * SL_COUNT + (size >> (m - SL_LOG2)): above FL_SHIFT the second term lies in
 * [SL_COUNT, 2 * SL_COUNT) and carries the first level's +1 with the second level's bits. The fit
 * rounds the size up to its list's width instead, and a round up past the last second level
 * carries into list 0 of the next first level, as it should.
 */
static inline unsigned mapping_request(size_t size, unsigned *fit) {
    unsigned m = msb(size | ((size_t)1 << FL_SHIFT));
    unsigned base = (m - FL_SHIFT) << SL_LOG2, shift = m - SL_LOG2;
    *fit = base + (unsigned)((size - 1) >> shift) + 1;
    return base + (unsigned)(size >> shift);
}
#endif

#if ALLOC_FAST_PATHS
/*
 * A list's head can have a block filed before it: a node in the heap with a validly sealed FREE
 * header and no predecessor. The heads live in the control structure, where a stray write leaves
 * no check bits to fail: the filing checks the head it would write through, as the links in
 * blocks are checked before theirs (links_ok). A build for size trusts its heads: the check took
 * 182 bytes of a Cortex-M4's text, over the minimal build's budget (alloc/README.md).
 */
static inline bool head_linkable(const alloc_heap *h, const block_t *head) {
    if (!node_in_heap(h, head))
        return false;
    hword_t w = head->size;
    return state_free_ok(w) && seal_ok(h, &head->size, w) && blk_links(head)->prev == NULL;
}

/*
 * link_free_body for list (fl, sl) whose head fails head_linkable: b is filed as the list's only
 * block, as though the list were empty, and the damage reported at once, from inside the call
 * that files it (which goes on as though the list had been empty). The list's old blocks stay
 * FREE on no list: lost to allocation, and found by alloc_heap_check.
 */
static COLD_KEEPS_REGS __attribute__((cold, noinline)) void
link_past_damaged_head(alloc_heap *h, block_t *b, unsigned fl, unsigned sl) {
    struct tlsf_state *t = tlsf_of(h);
    blk_links(b)->next = NULL;
    LIST_HEAD(t, fl, sl) = b;
    t->fl_map |= (fl_map_t)1 << fl;
    t->sl_map[fl] |= 1u << sl;
    alloc_report(h, ALLOC_ERR_CORRUPTED_HEAP, &LIST_HEAD(t, fl, sl));
}
#endif

/* head_linkable where the filing checks it; a build for size trusts its heads (see above). */
static inline bool head_may_be_filed_before(const alloc_heap *h, const block_t *head) {
#if ALLOC_FAST_PATHS
    return head_linkable(h, head);
#else
    (void)h;
    (void)head;
    return true;
#endif
}

/*
 * Links FREE block b at the head of list (fl, sl), its own, which the caller has mapped (from a
 * size it holds, so that b's size word, just written, is not read again). Counts nothing. The
 * bits of an empty list are set in registers (see below): also for the aligned path's leading
 * fragment, which set them in memory while the new run's aligned request went through the same
 * filing (in registers, that path was one instruction longer at -O1); since carve_aligned files
 * the fragment, in registers the aligned path is 1 instruction shorter at -O1, 2 at -O2.
 * Returns true; false where the list's head fails head_linkable, with nothing written but b's
 * links: the caller then files b past it and reports (link_past_damaged_head), at once (link_free)
 * or by a tail call to a function that ends its work after that report.
 */
static FAST_INLINE bool link_free_sound(alloc_heap *h, block_t *b, unsigned fl, unsigned sl) {
    struct tlsf_state *t = tlsf_of(h);
    block_t *head = LIST_HEAD(t, fl, sl);
    struct free_links *l = blk_links(b);
    l->next = head;
    l->prev = NULL;
    /*
     * The block that ends the heap is filed here too without TOP_BLOCK, and its links may be the
     * first bytes ever written above what was handed out: alloc_calloc must not take them for
     * zero (ALLOC_FLAG_ZEROED_REGION).
     */
    if (!TOP_BLOCK)
        mark_handed_out(h, (uintptr_t)(l + 1));
#if ALLOC_FAST_PATHS
    /*
     * A list that has a head has its bits set: only an empty one's are set here. (The head's
     * store first: fewer instructions.)
     */
    if (head != NULL) {
        if (__builtin_expect(!head_linkable(h, head), 0))
            return false;
        LIST_HEAD(t, fl, sl) = b;
        blk_links(head)->prev = b;
        return true;
    }
    LIST_HEAD(t, fl, sl) = b;
    /*
     * The two maps read into registers, their bits set there and stored back: each read made
     * opaque (an empty asm), else clang sets each bit in memory with a shift of a 1 in cl (two
     * moves to cl and two constants), where set in a register it is one bts: 7 instructions, not 9.
     */
    fl_map_t fm = (fl_map_t)opaque_size(t->fl_map);
    t->fl_map = fm | (fl_map_t)1 << fl;
    uint32_t sm = (uint32_t)opaque_size(t->sl_map[fl]);
    t->sl_map[fl] = sm | 1u << sl;
#else
    /* A build for size sets the bits always, in less code, and trusts the head (see above). */
    if (head != NULL)
        blk_links(head)->prev = b;
    LIST_HEAD(t, fl, sl) = b;
    t->fl_map |= (fl_map_t)1 << fl;
    t->sl_map[fl] |= 1u << sl;
#endif
    return true;
}

/*
 * link_free_sound, and where it finds the head damaged link_past_damaged_head's filing and report:
 * every filing but those that reach that report by a tail call (carve_block, the merges of free,
 * tlsf_free_block, file_resized_tail), so that they call nothing.
 */
static inline void link_free(alloc_heap *h, block_t *b, unsigned fl, unsigned sl) {
#if ALLOC_FAST_PATHS
    if (!link_free_sound(h, b, fl, sl))
        link_past_damaged_head(h, b, fl, sl);
#else
    (void)link_free_sound(h, b, fl, sl);
#endif
}

/*
 * Files FREE block b of s bytes, whose size word the caller has written, and counts it: as the top
 * block if it ends the heap (with TOP_BLOCK: next, its successor, is the END marker), else on its
 * list, mapped from s (the word just written is not read back), by link_free. A block that takes
 * the place of one that left a list, and so neither ends the heap nor changes the count (a split's
 * rest, a merged block, the aligned path's leading fragment: take, carve_block, carve_aligned,
 * release_next_relink, merge_neighbours), is filed by link_free directly.
 */
static ALWAYS_INLINE void file_free(alloc_heap *h, block_t *b, size_t s, const block_t *next) {
    h->free_blocks++;
    if (TOP_BLOCK && (uintptr_t)next == h->end) {
        tlsf_of(h)->top = b;
    } else {
        unsigned fl, sl;
        mapping_insert(s, &fl, &sl);
        link_free(h, b, fl, sl);
    }
}

#if ALLOC_FAST_PATHS
/*
 * file_free by link_free_sound, for a filing whose damaged head is reported by a tail call to a
 * function that ends the caller's work after that report (tlsf_free_block, file_resized_tail), so
 * that the caller calls nothing. Returns true; false where the head of b's list, (*fl, *sl), fails
 * head_linkable, b not linked yet. (file_free itself does not call this: at -O1 the aligned
 * paths that file through it grew by 2 or 3 instructions when it did.)
 */
static ALWAYS_INLINE bool file_free_sound(alloc_heap *h, block_t *b, size_t s, const block_t *next,
                                          unsigned *fl, unsigned *sl) {
    h->free_blocks++;
    if (TOP_BLOCK && (uintptr_t)next == h->end) {
        tlsf_of(h)->top = b;
        return true;
    }
    mapping_insert(s, fl, sl);
    return link_free_sound(h, b, *fl, *sl);
}
#endif

/* file_free for a block whose size is read from its size word: out of line, for rarer paths. */
static void insert_free(alloc_heap *h, block_t *b) {
    /* A build for size passes the size word as it is: list_index masks it (see block_list). */
    size_t s = ALLOC_FAST_PATHS ? blk_size(b) : (size_t)b->size;
    file_free(h, b, s, blk_at((uintptr_t)b + blk_size(b)));
}

/* List (fl, sl) has just lost its last block: its bit, and its level's if that is now empty. */
static inline void list_emptied(struct tlsf_state *t, unsigned fl, unsigned sl) {
    t->sl_map[fl] &= ~(1u << sl);
    if (t->sl_map[fl] == 0)
        t->fl_map &= ~((fl_map_t)1 << fl);
}

/* Takes FREE block b off list (fl, sl), its own: b is not the top block. Counts nothing. */
static inline void unlink_free(alloc_heap *h, block_t *b, unsigned fl, unsigned sl) {
    struct tlsf_state *t = tlsf_of(h);
    struct free_links *l = blk_links(b);
#if ALLOC_FAST_PATHS
    /*
     * Both links read once, before the stores (which clang cannot tell from them: it read them
     * again after each).
     */
    block_t *next = l->next, *prev = l->prev;
    if (next != NULL)
        blk_links(next)->prev = prev;
    if (prev != NULL) {
        blk_links(prev)->next = next;
        return;
    }
    LIST_HEAD(t, fl, sl) = next;
    if (next != NULL)
        return;
#else
    /* A build for size reads the links where it uses them: 10 bytes less code. */
    if (l->next != NULL)
        blk_links(l->next)->prev = l->prev;
    if (l->prev != NULL) {
        blk_links(l->prev)->next = l->next;
        return;
    }
    LIST_HEAD(t, fl, sl) = l->next;
    if (l->next != NULL)
        return;
#endif
    list_emptied(t, fl, sl);
}

/*
 * Takes FREE block b off list (fl, sl), its own, or off the top block (which it may be, no longer
 * at the end, in an extend). Counts nothing, and reads no header word: the caller may have written
 * b's size word already (merge_neighbours' re-file).
 */
static inline void unfile_free(alloc_heap *h, block_t *b, unsigned fl, unsigned sl) {
    if (TOP_BLOCK && b == tlsf_of(h)->top)
        tlsf_of(h)->top = NULL;
    else
        unlink_free(h, b, fl, sl);
}

/*
 * Unfiles a FREE block and counts it: from list (fl, sl), its own (found here again from its size
 * word without CARRY_LIST, a build that has no top block), or as the top block.
 */
static void remove_free(alloc_heap *h, block_t *b, unsigned fl, unsigned sl) {
    h->free_blocks--;
    if (!CARRY_LIST)
        block_list(b, &fl, &sl);
    unfile_free(h, b, fl, sl);
}
_Static_assert(CARRY_LIST || !TOP_BLOCK, "alloc: remove_free maps the list before the top test");

/*
 * unlink_links_sound for a block known not to be the top block (on a list): its list, and its
 * links checked with ALLOC_CHECK_LINKS. For merge_neighbours too, whose caller has compared the
 * neighbour with the top block.
 */
static ALWAYS_INLINE bool listed_links_sound(alloc_heap *h, const block_t *b, unsigned *fl,
                                             unsigned *sl) {
    unsigned bfl, bsl;
    block_list(b, &bfl, &bsl);
    if (CARRY_LIST) {
        *fl = bfl;
        *sl = bsl;
    }
    /* b's size has been checked to lie in the heap, so its list is below FL_COUNT (asserted below).
     */
    return !ALLOC_CHECK_LINKS || links_ok(h, b, bfl, bsl);
}

/*
 * The links part of check_unlink, for a FREE block whose header and boundary tag have been checked
 * (by check_unlink, or by the caller: the predecessor of a block being released, see
 * release_coalesce): with ALLOC_CHECK_LINKS, its list neighbours point back at it (the top block,
 * with TOP_BLOCK, has none). Returns its list in *fl, *sl (with CARRY_LIST); returns false, without
 * reporting, if not (check_unlink_links reports).
 */
static ALWAYS_INLINE bool unlink_links_sound(alloc_heap *h, const block_t *b, unsigned *fl,
                                             unsigned *sl) {
    /* The top block is on no list (and may no longer end the heap during extend). */
    if (TOP_BLOCK && b == tlsf_of(h)->top) {
        if (CARRY_LIST)
            *fl = *sl = 0; /* unused: the list helpers know the top block */
        return true;
    }
    return listed_links_sound(h, b, fl, sl);
}
_Static_assert(MAX_HEAP_SIZE <= (size_t)1 << (FL_COUNT + FL_SHIFT - 1),
               "alloc: every size in a heap maps to a first level below FL_COUNT");

/* unlink_links_sound, which reports and returns false if the links are not sound. */
static FAST_INLINE bool check_unlink_links(alloc_heap *h, const block_t *b, unsigned *fl,
                                           unsigned *sl) {
    if (unlink_links_sound(h, b, fl, sl))
        return true;
    alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, b);
    return false;
}

#if ALLOC_FAST_PATHS
/*
 * Reports a corrupted free-list node b and returns false: out of line, so that a path that returns
 * its result by a tail call (release_next) calls nothing of its own and needs no stack frame. The
 * false is opaque (an empty asm), else clang, knowing it, calls and returns false itself.
 */
static __attribute__((noinline, cold)) bool report_free_list(const alloc_heap *h,
                                                             const block_t *b) {
    alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, b);
    return opaque_size(0) != 0;
}
#endif

#if !ALLOC_FAST_PATHS
/*
 * Checks that FREE block b, a neighbour or the block an allocation found, can be unlinked: its
 * header and boundary tag, then its links (check_unlink_links). Reports and returns false if not.
 * The build for size's one copy of these checks; the default makes them in its paths' own forms.
 */
static FAST_INLINE bool check_unlink(alloc_heap *h, const block_t *b, unsigned *fl, unsigned *sl) {
    if (!free_node_ok(h, b)) {
        alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, b);
        return false;
    }
    return check_unlink_links(h, b, fl, sl);
}
#endif

/*
 * check_unlink for the successor of a block whose size the caller has checked to stay within the
 * heap (b + size <= end, a multiple of GRANULE: a block being released or resized): so b lies in
 * [first, end] at a block's phase, and the range test of free_node_ok is left out. b == end (the
 * END marker's word corrupted into a FREE one) fails the size test: no size fits in end - b = 0.
 * A build for size makes every check through its one copy.
 */
static FAST_INLINE bool check_unlink_next(alloc_heap *h, const block_t *b, unsigned *fl,
                                          unsigned *sl) {
#if ALLOC_FAST_PATHS
    if (!free_header_ok(h, b)) {
        alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, b);
        return false;
    }
    return check_unlink_links(h, b, fl, sl);
#else
    return check_unlink(h, b, fl, sl);
#endif
}

/*
 * Bytes in front of b's payload to skip for a payload aligned to align (a power of two, at least
 * GRANULE: a plain request's, GRANULE in a build for size, gives 0).
 */
static INLINE_FOR_SPEED size_t align_gap(const block_t *b, size_t align) {
    uintptr_t payload = (uintptr_t)b + HDR;
    uintptr_t aligned = (payload + align - 1) & ~(uintptr_t)(align - 1);
    /*
     * Too small a gap to be a block grows by align. Payload and align are multiples of GRANULE, so
     * is the gap: it can be that small only where MIN_BLOCK exceeds GRANULE (64-bit).
     */
    if (MIN_BLOCK > GRANULE && aligned != payload && aligned - payload < MIN_BLOCK)
        aligned += align;
    return aligned - payload;
}

/*
 * Finds a free block that holds `size` bytes at alignment `align` (plain: align <= GRANULE) and
 * returns it with its list in *fl_out, *sl_out (with CARRY_LIST), still on that list, and in
 * *gap_out its alignment gap (align_gap): 0 for a plain request, SIZE_MAX where the caller is to
 * compute it (good fit, and an aligned request's own list's head), else as computed here for the
 * size test (the top block), which the caller then does not compute again. First the head of the
 * request's own list, if it is big enough: the closest fit there is at O(1) cost, which keeps
 * large blocks whole (on the gcc trace it took the smallest region from 1.40 to 1.13 x peak).
 * Else good fit: the head of the first non-empty list at or above the request rounded up to its
 * list's upper bound, found with two bit scans, fits whatever its address. If there is none, the
 * top block (with TOP_BLOCK) serves it if it can; failing that, a plain request tries the first
 * TLSF_FALLBACK_SCAN blocks of its own list as well, an aligned one the head of its search's own
 * list. (A request for exactly the largest free block finds it at the head of its list, where
 * alloc_tlsf_largest_free puts it.) Returns NULL if none of these finds a block, or if a list or
 * the top block is corrupted: the default then leaves the corrupted node in *bad for its caller to
 * report (tlsf_alloc_none). A build for size returns the block it found unchecked, for
 * alloc_tlsf_alloc to check (check_unlink) and refuse. In a build for speed a plain request is
 * served by tlsf_alloc_plain, which makes this search for it, in the same order, in pieces reached
 * by tail calls (with the look at the head of the request's own list first); locate_free serves
 * the aligned ones there.
 *
 * An aligned request in a build for speed tries only the head of its search's own list, not its
 * first TLSF_FALLBACK_SCAN blocks: a block deeper in that list that happens to hold it at its
 * alignment serves it only once the flush has merged that block into a larger one, or not at all.
 * The scan (an alignment gap computed for each block) was allocate's longest way: 528
 * instructions at -O1 to the fourth block, 603 for a new run's request, where good fit's with a
 * leading gap took 355; the smallest regions of every trace are the same to the byte with a scan
 * of 4, 2, 1 or no blocks (alloc/HISTORY.md, "Worst case"). Without the head, an aligned request
 * failed where the largest free block held it (model_test's bound).
 *
 * A build for size (ALLOC_FAST_PATHS 0) looks at the request's own list once, first: the first
 * of its first TLSF_FALLBACK_SCAN blocks that fits, else good fit. That is less code; it may take
 * a block of the request's own list where the default takes one of a larger list, and it pays for
 * the scan whenever that list cannot serve the request.
 *
 * TLSF_FALLBACK_SCAN (tlsf.h) says why the scan stops at 4 blocks.
 */
#if !ALLOC_FAST_PATHS
/*
 * locate_free's first look in a build for size: the first TLSF_FALLBACK_SCAN blocks of list number
 * `list` (list_index, of a request's search: it exists, see locate_free), for one that holds `size`
 * bytes at alignment `align`. Returns that block, or the first node found outside the heap, or
 * NULL.
 */
static inline block_t *scan_list(alloc_heap *h, unsigned list, size_t size, size_t align) {
    unsigned n = TLSF_FALLBACK_SCAN;
    for (block_t *b = tlsf_of(h)->heads[list]; b != NULL && n > 0; b = blk_links(b)->next, n--) {
        /* Only where a node is may be trusted before reading it (see locate_free). */
        if (!node_in_heap(h, b) || blk_size(b) >= size + align_gap(b, align))
            return b;
    }
    return NULL;
}
#endif

_Static_assert(ALLOC_MAX_REQUEST + MIN_BLOCK < (size_t)1 << (FL_COUNT + FL_SHIFT - 2),
               "alloc: a request's search maps to a first level below FL_COUNT - 1");

/* The map bits good fit reads: all of them in a build for size, which trusts its maps. */
#define GOOD_FIT_FL_BITS (ALLOC_FAST_PATHS ? FL_MAP_BITS : ~(fl_map_t)0)
#define GOOD_FIT_SL_BITS (ALLOC_FAST_PATHS ? SL_MAP_BITS : ~0u)

/*
 * Good fit: the head of the first non-empty list at or after list (*fl, *sl), found with two bit
 * scans, its list left in *fl and *sl; NULL if every such list is empty. The head is not checked
 * (a bit map that says a list has a block is not trusted to): the caller checks it. The list
 * after a request's own exists (see locate_free), so no test of *fl against FL_COUNT.
 */
static ALWAYS_INLINE block_t *good_fit_head(const struct tlsf_state *t, unsigned *fl,
                                            unsigned *sl) {
    /*
     * Only the maps' bits of lists there are: a stray write may set others, which would index
     * past the maps and the heads (a build for size trusts its control structure: all bits).
     */
    uint32_t sl_map = t->sl_map[*fl] & (~0u << *sl) & GOOD_FIT_SL_BITS;
    if (sl_map == 0) {
        fl_map_t fl_map = t->fl_map & (~(fl_map_t)0 << (*fl + 1)) & GOOD_FIT_FL_BITS;
        if (fl_map == 0)
            return NULL;
        *fl = (unsigned)__builtin_ctzl(fl_map);
        sl_map = t->sl_map[*fl] & GOOD_FIT_SL_BITS;
    }
    if (sl_map == 0)
        return NULL;
    *sl = (unsigned)__builtin_ctz(sl_map);
    return LIST_HEAD(t, *fl, *sl);
}

static FAST_INLINE block_t *locate_free(alloc_heap *h, size_t size, size_t align, bool plain,
                                        unsigned *fl_out, unsigned *sl_out, size_t *gap_out,
                                        const block_t **bad) {
    struct tlsf_state *t = tlsf_of(h);
    size_t search = plain ? size : size + align + MIN_BLOCK;
    unsigned fl, sl;
#if ALLOC_FAST_PATHS
    /* Good fit at once: a plain request, whose own list's head comes first, is not served here. */
    block_t *b = NULL;
    unsigned fit;
    (void)mapping_request(search, &fit);
    fl = fit / SL_COUNT;
    sl = fit % SL_COUNT;
#else
    /*
     * The one look at the request's own list, then good fit from the next list: when every block
     * of its own list holds the request (its size is the list's lower bound), the scan has met
     * the first of them. One copy of both for plain and aligned requests.
     */
    unsigned list = list_index(search);
    block_t *b = scan_list(h, list, size, align);
    fl = (list + 1) / SL_COUNT; /* the next list, which may be the first of the next level */
    sl = (list + 1) % SL_COUNT;
#endif
    /*
     * A request's search maps below the last level (asserted above), so the list after its own
     * exists: no test of fl against FL_COUNT is needed here, nor for its own list.
     */
    if (b == NULL)
        b = good_fit_head(t, &fl, &sl);
    if (!ALLOC_FAST_PATHS) {
        /* Nothing else to try; alloc_tlsf_alloc checks b (check_unlink, the one copy). */
        *gap_out = 0; /* unused: alloc_tlsf_alloc computes it */
        return b;
    }
#if ALLOC_FAST_PATHS
    if (b != NULL) {
        /* Good fit: b heads its list. h opaque (an empty asm), as in take: measured shorter. */
        __asm__("" : "+r"(h));
        /* Smaller than the search: another list's block (see tlsf_alloc_plain_as). */
        if (!free_node_ok(h, b) || blk_size(b) < search ||
            (ALLOC_CHECK_LINKS && !head_links_ok(h, b))) {
            *bad = b;
            return NULL;
        }
        *fl_out = fl;
        *sl_out = sl;
        *gap_out = plain ? 0 : SIZE_MAX; /* computed by the caller */
        return b;
    }
#endif
    /* No list above the request's holds a block: the top block, then its own list's head. */
    if (TOP_BLOCK && t->top != NULL) {
        block_t *top = t->top;
        if (!top_block_ok(h, top)) {
            *bad = top;
            return NULL;
        }
        size_t gap = plain ? 0 : align_gap(top, align);
        if (blk_size(top) >= size + gap) {
            *fl_out = *sl_out = 0; /* unused: the list helpers and take() know the top block */
            *gap_out = gap;
            return top;
        }
    }
    /*
     * The head of the search's own list, where it holds the request at its alignment (a block of
     * at least the search's size does at any address, and alloc_tlsf_largest_free puts the
     * largest free block at its list's head), taken as good fit's head is; no deeper block of that
     * list is tried (see above). Only where a node is may be trusted before reading its size: it
     * is checked in full before it is taken.
     */
#if ALLOC_FAST_PATHS
    mapping_insert(search, &fl, &sl);
    b = LIST_HEAD(t, fl, sl);
    if (b == NULL || (in_heap(h, b) && blk_size(b) < size + (plain ? 0 : align_gap(b, align))))
        return NULL;
    if (!free_node_ok(h, b) || (ALLOC_CHECK_LINKS && !head_links_ok(h, b))) {
        *bad = b;
        return NULL;
    }
    *fl_out = fl;
    *sl_out = sl;
    *gap_out = plain ? 0 : SIZE_MAX; /* computed by the caller, as for good fit */
    return b;
#else
    return NULL; /* not reached: a build for size has returned above */
#endif
}

static block_t *tlsf_alloc_flushed(alloc_heap *h, size_t size, size_t align);

/*
 * Cuts USED block b at offset `at` (a block size, with at least MIN_BLOCK bytes left) into b of
 * `at` bytes and a USED block of the rest, which it returns, for the caller to release: a shrink's
 * tail or, in a build for size, an alignment's leading fragment (b itself).
 */
static INLINE_FOR_SPEED block_t *cut_used(alloc_heap *h, block_t *b, size_t at) {
    size_t cur = blk_size_shifts(b);
    block_t *tail = blk_at((uintptr_t)b + at);
    blk_set(h, tail, at, cur - at, ST_USED, false);
    blk_set_prev_size(h, blk_at((uintptr_t)b + cur), cur - at);
    blk_set_size_state(h, b, at, ST_USED);
    return tail;
}

/*
 * blk_set_prev_free(h, b, true) in fewer instructions (the releases'): where the bit is clear,
 * the flip of PREV_FREE and its check bit is a constant; where it is set already, nothing changes,
 * as blk_set_prev_free changes nothing. Like every flip, it keeps a damaged word damaged. (The
 * same for clearing the bit in take cost tlsf_alloc_plain one instruction a call: left out there;
 * clear_prev_free, in carve_block.)
 */
static inline void set_prev_free(block_t *b) {
    if ((b->size & PREV_FREE) == 0)
        b->size ^= flip_low_bits(PREV_FREE);
}

#if RELOCATE_NODES
/*
 * blk_set_prev_free(h, b, false) as set_prev_free sets it: a test and a constant flip where the bit
 * is set, nothing where it is clear already. For carve_block's whole block, whose successor's
 * PREV_FREE clears (4 instructions where the flip computed from the word took 8).
 */
static inline void clear_prev_free(block_t *b) {
    if ((b->size & PREV_FREE) != 0)
        b->size ^= flip_low_bits(PREV_FREE);
}
/*
 * b is a FREE block on list (fl, sl) with at least `size` bytes, whose size word has no PREV_FREE
 * (the block locate_free has checked). Makes it a USED block of `size` bytes; the tail, if it can
 * hold a block, stays free: in b's place on the same list when it maps to the same list (the
 * common case of carving from a large block), else re-filed.
 */
static ALWAYS_INLINE void take(alloc_heap *h, block_t *b, unsigned fl, unsigned sl, size_t size) {
    /*
     * h opaque (an empty asm): the list work reads h's fields (the key, the top block, the heads)
     * from it afresh rather than from registers kept since locate_free (measured: fewer
     * instructions, clang keeps fewer values across the checks).
     */
    __asm__("" : "+r"(h));
    size_t bs = blk_size(b);
    block_t *next = blk_at((uintptr_t)b + bs);
    if (bs - size >= MIN_BLOCK) {
        size_t rest = bs - size;
        /* Opaque (an empty asm): clang otherwise adds b and size again for r's size word. */
        block_t *r = blk_at(opaque_size((uintptr_t)b + size));
        blk_set(h, r, size, rest, ST_FREE, false);
        /* next's boundary tag, checked by locate_free to say bs, flipped to say rest. */
        word_flip(&next->prev, (hword_t)(bs ^ rest));
        /*
         * blk_set_size_state's word, without reading b's PREV_FREE (clear) back: b's word, checked
         * to be bs | ST_FREE, flipped to size | ST_USED (word_flip: no key to read and multiply).
         * Written with the other headers, before the list work, which reads no size word: clang
         * keeps fewer values across that work (measured: fewer instructions than writing it
         * after).
         */
        word_flip(&b->size, (hword_t)(bs ^ size) ^ (ST_FREE ^ ST_USED));
        if (b == tlsf_of(h)->top) {
            tlsf_of(h)->top = r; /* the rest still ends the heap: no list to look up */
        } else {
            unsigned rfl, rsl;
            mapping_insert(rest, &rfl, &rsl);
            if (rfl == fl && rsl == sl) {
                replace_free(h, b, r, fl, sl);
            } else {
                /*
                 * b, not the top block, does not end the heap, nor does r: r goes on the list just
                 * mapped, and the count of free blocks stays as it is. r is filed before b leaves:
                 * the two lists differ, so the order changes no link or bit left behind (where
                 * rfl == fl, the first level's bit, which the unlink would clear and the link set
                 * again, stays set), and clang's code for it is shorter.
                 */
                link_free(h, r, rfl, rsl);
                unlink_free(h, b, fl, sl);
            }
        }
    } else {
        /*
         * The headers before the list work, as in a split (measured: fewer instructions than
         * after it); the unlink reads no header word but the list it is given.
         */
        blk_set_prev_free(h, next, false);
        /* blk_set_state's flip, a constant: b's state bits are FREE, as locate_free checked. */
        b->size ^= flip_low_bits(ST_FREE ^ ST_USED);
        remove_free(h, b, fl, sl);
    }
}

/*
 * unlink_free for b, the head of list (fl, sl) whose prev link has been checked to be NULL
 * (head_links_ok): the same stores, without reading and testing that link.
 */
static inline void unlink_head(alloc_heap *h, block_t *b, unsigned fl, unsigned sl) {
    struct tlsf_state *t = tlsf_of(h);
    block_t *next = blk_links(b)->next;
    LIST_HEAD(t, fl, sl) = next;
    if (next != NULL) {
        blk_links(next)->prev = NULL;
        return;
    }
    list_emptied(t, fl, sl);
}

#if TOP_BLOCK
/*
 * No block for a request, after every try: NULL, unless the top block is missing, its pointer
 * NULL while the END marker says the block before it is FREE. A stray write into the control
 * structure that cleared the pointer would otherwise fail, silently, every request the lists
 * cannot serve: reported, as the pointer's damage (REFUSED). A rare path, so the check costs the
 * others nothing.
 */
static __attribute__((noinline)) block_t *no_block(alloc_heap *h) {
    uintptr_t e = h->end;
    if (tlsf_of(h)->top != NULL || e <= (uintptr_t)h || e >= h->raw_end)
        return NULL;
    const block_t *m = blk_at(e);
    if (!hdr_ok(h, m) || blk_state(m) != ST_END || !blk_prev_free(m))
        return NULL;
    alloc_report(h, ALLOC_ERR_CORRUPTED_HEAP, &tlsf_of(h)->top);
    return REFUSED;
}
#else
static block_t *no_block(alloc_heap *h) {
    (void)h;
    return NULL;
}
#endif

/*
 * What an allocation does when its search finds no block (tlsf_alloc_at's, or the plain pieces'
 * below, directly or through tlsf_malloc_none): reports the corrupted node it met, if any (`bad`),
 * and refuses (REFUSED: a try after a flush would meet it again and report it again); else, if
 * `may_flush`, merges the quick-listed blocks into the lists and tries once more
 * (tlsf_alloc_flushed), and failing that returns no_block's answer. Out of line and reached by a
 * tail call, so that the searches call nothing and keep nothing across a call: they need fewer
 * saved registers.
 */
static __attribute__((noinline)) block_t *
tlsf_alloc_none(alloc_heap *h, const block_t *bad, size_t size, size_t align, bool may_flush) {
    if (bad != NULL) {
        alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, bad);
        return REFUSED;
    }
    block_t *b = may_flush && quick_held(h) != 0 ? tlsf_alloc_flushed(h, size, align) : NULL;
    return b != NULL ? b : no_block(h);
}

/*
 * tlsf_alloc_at's carving of an aligned block of `size` bytes with a leading gap of `gap` bytes
 * (not 0) from FREE block b, found by locate_free and taken off its list (or the top block) by the
 * caller: as a head of its list (unlink_head, without reading its prev link nor comparing it with
 * the top block) where good fit or the look at the search's own list found it, with its prev link
 * checked to be NULL (head_links_ok, with ALLOC_CHECK_LINKS), else by unfile_free. Returns the
 * aligned block.
 */
static ALWAYS_INLINE block_t *carve_aligned(alloc_heap *h, block_t *b, size_t size, size_t gap) {
    /*
     * The leading fragment stays free; the aligned block u starts after it and is carved here
     * without being filed first: its rest, if it can hold a block, is filed as file_free
     * files any block (at its list's head, or as the top block if it ends the heap), which is
     * where filing u and taking it again (take) left it, with the same headers and count.
     * The fragment and the rest are filed inline, from the sizes and successors known here
     * (insert_free, a call, read the size words just written back: measured longer); the
     * fragment's list bits set in registers (see link_free_body). The fragment, followed by u, not
     * by the END marker, goes on its list (link_free, with no test of the END marker, which
     * file_free makes): the count of free blocks stays as it is (b's unfiling by remove_free and
     * the fragment's filing by file_free would count one less and one more).
     */
    size_t bs = blk_size(b), us = bs - gap;
    block_t *u = blk_at((uintptr_t)b + gap);
    block_t *next = blk_at((uintptr_t)u + us);
    /*
     * blk_set_size_state's word, b's PREV_FREE not read back: locate_free checked the word to be
     * bs | ST_FREE, flipped to gap | ST_FREE (word_flip).
     */
    word_flip(&b->size, (hword_t)(bs ^ gap));
    unsigned gfl, gsl;
    mapping_insert(gap, &gfl, &gsl);
    link_free(h, b, gfl, gsl);
    if (us - size >= MIN_BLOCK) {
        block_t *r = blk_at((uintptr_t)u + size);
        blk_set(h, u, gap, size, ST_USED, true);
        blk_set(h, r, size, us - size, ST_FREE, false);
        /* next's boundary tag, checked by locate_free to say bs: flipped (word_flip). */
        word_flip(&next->prev, (hword_t)(bs ^ (us - size)));
        file_free(h, r, us - size, next);
    } else {
        blk_set(h, u, gap, us, ST_USED, true);
        word_flip(&next->prev, (hword_t)(bs ^ us));
        blk_set_prev_free(h, next, false);
    }
    return u;
}

/*
 * A USED block of `size` bytes at alignment `align` from the TLSF lists (or the top block), or
 * NULL, or REFUSED where damage was met and reported (tlsf_alloc_none). If none fits and
 * `may_flush`, the quick-listed blocks are merged into the lists and the lists tried once more:
 * the retry is a tail call, so the first try is a call level of its own. Inlined into the copy for
 * aligned requests (tlsf_alloc_aligned; a plain request takes tlsf_alloc_plain, which makes the
 * same search and the same carving in pieces); `plain` is a constant false there (align <=
 * GRANULE, which clang did not fold though every caller of the copy tests align or passes a
 * constant above GRANULE: the copy computed the plain request's search size and own list and
 * tested align for them).
 */
static ALWAYS_INLINE block_t *tlsf_alloc_at(alloc_heap *h, size_t size, size_t align, bool plain,
                                            bool may_flush) {
    unsigned fl, sl;
    const block_t *bad = NULL;
    size_t gap;
    block_t *b = locate_free(h, size, align, plain, &fl, &sl, &gap, &bad);
    if (b == NULL)
        return tlsf_alloc_none(h, bad, size, align, may_flush);
    /* The unfiling of b apart for a list's head: written in carve_aligned, it cost a flag. */
    if (!plain && gap == SIZE_MAX) {
        gap = align_gap(b, align);
        if (gap != 0) {
            if (ALLOC_CHECK_LINKS)
                unlink_head(h, b, fl, sl);
            else
                unfile_free(h, b, fl, sl);
        }
    } else if (gap != 0) {
        unfile_free(h, b, fl, sl);
    }
    if (gap == 0) {
        take(h, b, fl, sl, size);
        return b;
    }
    return carve_aligned(h, b, size, gap);
}

/*
 * The plain request's path (tlsf_alloc_plain, below) in pieces, each reached by a tail call: the
 * search, the checks of the block it found (plain_take_head, plain_from_top, plain_scan) and the
 * carving (take_head_block, take_head_alone, take_top_block, take_block). Each piece keeps few
 * values, so that none of the common ones saves a register: as one function it saved six (12
 * instructions a call), where the checks of one node and the four header words of a split never
 * needed them together. plain_take_head and the carvings it reaches (take_head_block,
 * take_head_alone) take the block, the size and the list in the same registers, so that the tail
 * call from one to the other moves one argument (the tail's size, passed for the block's: one
 * subtraction fewer).
 */

/* unlink_head, for a head known (alone) to have no next node: the list empties. */
static inline void unlink_head_as(alloc_heap *h, block_t *b, unsigned fl, unsigned sl, bool alone) {
    if (!alone) {
        unlink_head(h, b, fl, sl);
        return;
    }
    LIST_HEAD(tlsf_of(h), fl, sl) = NULL;
    list_emptied(tlsf_of(h), fl, sl);
}

/*
 * What carve_block returns: b, or with `out` (a constant, tlsf_malloc_block's pieces) b handed out
 * (hand_out_unpoisoned: tlsf_malloc_block serves only heaps that do not poison on alloc), its
 * payload; s is b's size, known to the caller.
 */
static ALWAYS_INLINE void *carved_out(alloc_heap *h, block_t *b, size_t s, bool out) {
    /*
     * b opaque (an empty asm) where not handed out: else clang, seeing take_head_block and
     * take_head_alone return b, calls them from plain_take_head and returns b itself, with a stack
     * frame, rather than jumping to them (an opaque result around the whole carving, as
     * take_head_alone had, made its own tail call to carved_past_damaged_head a call, and gave it a
     * frame).
     */
    return out ? hand_out_unpoisoned(h, b, s) : (void *)opaque_size((uintptr_t)b);
}
/* carved_out for a split b, whose rest r (at b + s) the caller holds: b's end. */
static ALWAYS_INLINE void *carved_out_to(alloc_heap *h, block_t *b, size_t s, const block_t *r,
                                         bool out) {
    return out ? hand_out_unpoisoned_to(h, b, s, (uintptr_t)r) : (void *)opaque_size((uintptr_t)b);
}

/* replace_free for such a head `from`, not the top block: the same stores, as unlink_head. */
static inline void replace_head(alloc_heap *h, block_t *from, block_t *to, unsigned fl,
                                unsigned sl) {
    block_t *next = blk_links(from)->next;
    struct free_links *lt = blk_links(to);
    lt->next = next;
    lt->prev = NULL;
    if (next != NULL)
        blk_links(next)->prev = to;
    LIST_HEAD(tlsf_of(h), fl, sl) = to;
}

/*
 * carve_block's end where the head of the list its rest r (at b + size) goes on fails
 * head_linkable (link_free_sound): r filed past it and the damage reported
 * (link_past_damaged_head), then b off its list and the result, as carve_block's own way. mode:
 * r's list number and carve_block's constants (CARVE_MODE). Cold, out of line, reached by a tail
 * call, so that the carvings call nothing and save no register for it.
 */
#define CARVE_HEAD (1u << 16)
_Static_assert(FL_COUNT *SL_COUNT <= CARVE_HEAD, "alloc: a list number fits below CARVE_HEAD");
#define CARVE_ALONE (1u << 17)
#define CARVE_OUT   (1u << 18)
#define CARVE_MODE(head, alone, out)                                                               \
    (((head) ? CARVE_HEAD : 0u) | ((alone) ? CARVE_ALONE : 0u) | ((out) ? CARVE_OUT : 0u))
static __attribute__((cold, noinline)) void *
carved_past_damaged_head(alloc_heap *h, block_t *b, size_t size, unsigned list, unsigned mode) {
    unsigned rlist = mode & (CARVE_HEAD - 1);
    link_past_damaged_head(h, blk_at((uintptr_t)b + size), rlist / SL_COUNT, rlist % SL_COUNT);
    if ((mode & CARVE_HEAD) == 0)
        unlink_free(h, b, list / SL_COUNT, list % SL_COUNT);
    else if ((mode & CARVE_ALONE) != 0)
        unlink_head_as(h, b, list / SL_COUNT, list % SL_COUNT, true);
    else
        unlink_head_as(h, b, list / SL_COUNT, list % SL_COUNT, false);
    return carved_out(h, b, size, (mode & CARVE_OUT) != 0);
}

/*
 * take for a plain request: the FREE block b of size + rest bytes (its size read from its header
 * by the caller's checks, not read again) on list number `list` (fl * SL_COUNT + sl; unused for
 * the top block) becomes a USED block of `size` bytes; its tail of rest bytes, if it can hold a
 * block, stays free as take leaves it. b's size word is written first and the tail's headers after
 * it, so that no address is kept across the seals (take's order, the tail's first, kept b + 8 in a
 * register). `head`: b heads its list with a prev link checked to be NULL (a constant), so that
 * its unlink need not read that link. `top` (a constant): b is the top block, else a node read
 * from a list (its head, or one the fallback scan met), which is not the top block, as the top
 * block is on no list (alloc_tlsf_check reports a top block met on a list): b is not compared with
 * the top block. `alone` (a constant, with head): head_links_ok has read b's next link NULL, b is
 * the one block of its list, whose list work then reads and updates no next node. Returns b, or
 * with `out` (a constant) b handed out (carved_out).
 */
static ALWAYS_INLINE void *carve_block(alloc_heap *h, block_t *b, size_t size, unsigned list,
                                       size_t rest, bool head, bool top, bool alone, bool out) {
    if (rest < MIN_BLOCK) {
        /* As take: the successor's PREV_FREE cleared, b's state flipped, b unfiled. */
        clear_prev_free(blk_at((uintptr_t)b + size + rest));
        b->size ^= flip_low_bits(ST_FREE ^ ST_USED);
        /* remove_free's work, its unfiling as b is filed. */
        h->free_blocks--;
        if (top)
            tlsf_of(h)->top = NULL;
        else if (!head)
            unlink_free(h, b, list / SL_COUNT, list % SL_COUNT);
        else
            unlink_head_as(h, b, list / SL_COUNT, list % SL_COUNT, alone);
        return carved_out(h, b, size + rest, out);
    }
    /*
     * b's size word and its successor's prev word, checked just before as (size + rest) | ST_FREE
     * (PREV_FREE clear) and size + rest, changed by flips (word_flip) rather than sealed afresh:
     * no key to read and multiply.
     */
    word_flip(&b->size, (hword_t)((size + rest) ^ size) ^ (ST_FREE ^ ST_USED));
    /* Opaque (an empty asm): clang otherwise adds b and size again for r's size word. */
    block_t *r = blk_at(opaque_size((uintptr_t)b + size));
    word_flip(&blk_at((uintptr_t)r + rest)->prev, (hword_t)((size + rest) ^ rest));
    word_set(h, &r->prev, (hword_t)size);
    word_set(h, &r->size, (hword_t)rest | ST_FREE);
    if (top) {
        tlsf_of(h)->top = r; /* the rest still ends the heap: no list to look up */
        return carved_out_to(h, b, size, r, out);
    }
    unsigned rfl, rsl;
    mapping_insert(rest, &rfl, &rsl);
    if (rfl * SL_COUNT + rsl == list) {
        if (head && alone) {
            /* replace_head's stores, with no next node. */
            struct free_links *lr = blk_links(r);
            lr->next = NULL;
            lr->prev = NULL;
            LIST_HEAD(tlsf_of(h), list / SL_COUNT, list % SL_COUNT) = r;
        } else if (head) {
            replace_head(h, b, r, list / SL_COUNT, list % SL_COUNT);
        } else {
            replace_node(h, b, r, list / SL_COUNT, list % SL_COUNT);
        }
    } else {
        /*
         * As take: r filed before b leaves, the count of free blocks unchanged. A damaged head of
         * r's list: the filing past it, its report and the rest of this work by a tail call.
         */
        if (!link_free_sound(h, r, rfl, rsl))
            return carved_past_damaged_head(h, b, size, list,
                                            (rfl * SL_COUNT + rsl) | CARVE_MODE(head, alone, out));
        if (head)
            unlink_head_as(h, b, list / SL_COUNT, list % SL_COUNT, alone);
        else
            unlink_free(h, b, list / SL_COUNT, list % SL_COUNT);
    }
    return carved_out_to(h, b, size, r, out);
}

/*
 * Most of the pieces below come in two copies with `out` a constant, from one inline body (named
 * _as) or from carve_block itself (take_head_alone): the strategy's (out false), which return the
 * block, and tlsf_malloc_block's (out true, named _out, and tlsf_malloc_block itself), which hand
 * it out themselves (carved_out) and return its payload, a failure going to tlsf_malloc_none. The
 * fallback scan, rarer, has one copy (plain_scan, carving by take_block), whose result
 * plain_scan_out hands on through plain_hand_out.
 */

/* carve_block out of line for a block the fallback scan found on list number `list`. */
static __attribute__((noinline)) block_t *take_block(alloc_heap *h, block_t *b, size_t size,
                                                     unsigned list, size_t rest) {
    return carve_block(h, b, size, list, rest, false, false, false, false);
}

/* carve_block out of line for the top block: no list work. */
static ALWAYS_INLINE void *take_top_block_as(alloc_heap *h, block_t *b, size_t size, size_t rest,
                                             bool out) {
    return carve_block(h, b, size, 0, rest, false, true, false, out);
}
static __attribute__((noinline)) block_t *take_top_block(alloc_heap *h, block_t *b, size_t size,
                                                         size_t rest) {
    return take_top_block_as(h, b, size, rest, false);
}
static __attribute__((noinline)) void *take_top_block_out(alloc_heap *h, block_t *b, size_t size,
                                                          size_t rest) {
    return take_top_block_as(h, b, size, rest, true);
}

/*
 * carve_block out of line for the head of a list whose links head_links_ok has checked (with
 * ALLOC_CHECK_LINKS; else as take_block): unlinked without reading its prev link, 3 instructions
 * fewer where the block leaves its list.
 */
static ALWAYS_INLINE void *take_head_block_as(alloc_heap *h, block_t *b, size_t size, unsigned list,
                                              size_t rest, bool out) {
    return carve_block(h, b, size, list, rest, ALLOC_CHECK_LINKS, false, false, out);
}
static __attribute__((noinline)) block_t *take_head_block(alloc_heap *h, block_t *b, size_t size,
                                                          unsigned list, size_t rest) {
    return take_head_block_as(h, b, size, list, rest, false);
}
static __attribute__((noinline)) void *take_head_block_out(alloc_heap *h, block_t *b, size_t size,
                                                           unsigned list, size_t rest) {
    return take_head_block_as(h, b, size, list, rest, true);
}

/*
 * take_head_block for a head whose next link head_links_ok's checks have found NULL, the one block
 * of its list: its list work with no next node to read or update (the list empties where b leaves
 * it).
 */
static __attribute__((noinline)) block_t *take_head_alone(alloc_heap *h, block_t *b, size_t size,
                                                          unsigned list, size_t rest) {
    return carve_block(h, b, size, list, rest, true, false, true, false); /* b opaque: carved_out */
}
static __attribute__((noinline)) void *take_head_alone_out(alloc_heap *h, block_t *b, size_t size,
                                                           unsigned list, size_t rest) {
    return carve_block(h, b, size, list, rest, true, false, true, true);
}

/*
 * tlsf_alloc_none for a plain request of `size` bytes that may flush, or for tlsf_malloc_none
 * (out).
 */
static __attribute__((noinline)) void *tlsf_malloc_none(alloc_heap *h, const block_t *bad,
                                                        size_t size);
static ALWAYS_INLINE void *plain_none(alloc_heap *h, const block_t *bad, size_t size,
                                      bool may_flush, bool out) {
    return out ? tlsf_malloc_none(h, bad, size) : tlsf_alloc_none(h, bad, size, GRANULE, may_flush);
}

/*
 * b, the head of list number `list`, found in the heap (in_heap) and holding the request: the
 * rest of free_node_ok's checks and head_links_ok (locate_free's), then take_head_block, or
 * take_head_alone for the one block of its list; a corrupted node is left to tlsf_alloc_none.
 */
static ALWAYS_INLINE void *plain_take_head_as(alloc_heap *h, block_t *b, size_t size, unsigned list,
                                              size_t flush, bool out) {
    if (!free_header_ok(h, b) || (ALLOC_CHECK_LINKS && !head_links_ok(h, b)))
        return plain_none(h, b, size, flush != 0, out);
    /* The one block of its list (head_links_ok has read its next link NULL): take_head_alone. */
    if (ALLOC_CHECK_LINKS && blk_links(b)->next == NULL)
        return out ? take_head_alone_out(h, b, size, list, blk_size(b) - size)
                   : take_head_alone(h, b, size, list, blk_size(b) - size);
    return out ? take_head_block_out(h, b, size, list, blk_size(b) - size)
               : take_head_block(h, b, size, list, blk_size(b) - size);
}
static __attribute__((noinline)) block_t *plain_take_head(alloc_heap *h, block_t *b, size_t size,
                                                          unsigned list, size_t flush) {
    return plain_take_head_as(h, b, size, list, flush, false);
}
static __attribute__((noinline)) void *plain_take_head_out(alloc_heap *h, block_t *b, size_t size,
                                                           unsigned list, size_t flush) {
    return plain_take_head_as(h, b, size, list, flush, true);
}

/*
 * locate_free's fallback scan for a plain request: the first TLSF_FALLBACK_SCAN blocks of its own
 * list, with their checks; else tlsf_alloc_none. own_flush is that list's number times 2 * GRANULE
 * plus tlsf_alloc_plain's flush (GRANULE or 0): one value less to keep in plain_from_top, which
 * then saves no register (it saved one at -O2, three at -O1). size is the third argument here and
 * in plain_from_top, as in plain_take_head, where tlsf_alloc_plain keeps it (as the second, it
 * cost the fallback scan's worst case 3 instructions at -O2).
 */
static __attribute__((noinline)) block_t *plain_scan(alloc_heap *h, unsigned own_flush,
                                                     size_t size) {
    unsigned own = own_flush / (2 * GRANULE);
    bool may_flush = (own_flush & GRANULE) != 0;
    unsigned n = 0;
    block_t *b;
    for (b = LIST_AT(tlsf_of(h), own); b != NULL && n < TLSF_FALLBACK_SCAN;
         b = blk_links(b)->next) {
        /* Only where a node is may be trusted before reading it, as in locate_free. */
        if (!in_heap(h, b) || blk_size(b) >= size)
            break; /* a node outside the heap is reported below */
        n++;
    }
    if (b == NULL || n == TLSF_FALLBACK_SCAN)
        return tlsf_alloc_none(h, NULL, size, GRANULE, may_flush);
    if (!free_node_ok(h, b) ||
        (ALLOC_CHECK_LINKS && !links_ok(h, b, own / SL_COUNT, own % SL_COUNT)))
        return tlsf_alloc_none(h, b, size, GRANULE, may_flush);
    return take_block(h, b, size, own, blk_size(b) - size);
}

/*
 * tlsf_malloc_block's result from what the strategy's pieces found, b: handed out, or what a
 * malloc returns where they found none (alloc_malloc_missed, heap.c). For the rarer ways, which
 * have no copy of their own that hands out (the fallback scan, a failed search): less code, for a
 * frame.
 */
static __attribute__((noinline)) void *plain_hand_out(alloc_heap *h, block_t *b, size_t size) {
    if (got_block(b))
        return carved_out(h, b, blk_size(b), true);
    return alloc_malloc_missed(h, size, b);
}

/* plain_scan for tlsf_malloc_block: the block it finds handed out. */
static __attribute__((noinline)) void *plain_scan_out(alloc_heap *h, unsigned own_flush,
                                                      size_t size) {
    return plain_hand_out(h, plain_scan(h, own_flush, size), size);
}

/*
 * No list above a plain request's own holds a block: the top block (top_block_ok), then the
 * fallback scan of its own list (own_flush as plain_scan's), as locate_free tries them.
 */
static ALWAYS_INLINE void *plain_from_top_as(alloc_heap *h, unsigned own_flush, size_t size,
                                             bool out) {
    block_t *top = tlsf_of(h)->top;
    if (TOP_BLOCK && top != NULL) {
        if (!top_block_ok(h, top))
            return plain_none(h, top, size, (own_flush & GRANULE) != 0, out);
        if (blk_size(top) >= size)
            return out ? take_top_block_out(h, top, size, blk_size(top) - size)
                       : take_top_block(h, top, size, blk_size(top) - size);
    }
    return out ? plain_scan_out(h, own_flush, size) : plain_scan(h, own_flush, size);
}
static __attribute__((noinline)) block_t *plain_from_top(alloc_heap *h, unsigned own_flush,
                                                         size_t size) {
    return plain_from_top_as(h, own_flush, size, false);
}
static __attribute__((noinline)) void *plain_from_top_out(alloc_heap *h, unsigned own_flush,
                                                          size_t size) {
    return plain_from_top_as(h, own_flush, size, true);
}

/*
 * tlsf_alloc_at for a plain request, almost every one, and locate_free's search for it: the head
 * of the request's own list if it holds the request, else good fit, else the top block and the
 * fallback scan (plain_from_top), the same blocks in the same order; the checks and the carving in
 * the pieces above, reached by tail calls. With align a constant, no search size, alignment gap or
 * leading fragment to compute or test. flush: GRANULE where a failing search may flush the quick
 * lists and try again, 0 where not (the retry), rather than a flag: tlsf_alloc_op passes its
 * plain request's align, GRANULE, as it is, with no constant to load (one instruction fewer a
 * call), and the pieces take it on as it is.
 */
static ALWAYS_INLINE void *tlsf_alloc_plain_as(alloc_heap *h, size_t size, size_t flush, bool out) {
    struct tlsf_state *t = tlsf_of(h);
    unsigned fit, own = mapping_request(size, &fit);
    /* The head of the request's own list, when it fits: the closest fit at O(1) cost. */
    block_t *b = LIST_AT(t, own); /* it exists, as the list after it does (see locate_free) */
    if (b != NULL && in_heap(h, b) && blk_size(b) >= size)
        return out ? plain_take_head_out(h, b, size, own, flush)
                   : plain_take_head(h, b, size, own, flush);
    /* Good fit, as locate_free's: a bit map that says a list has a block is not trusted to. */
    unsigned fl = fit / SL_COUNT, sl = fit % SL_COUNT;
    b = good_fit_head(t, &fl, &sl);
    /* One call, not one a test: clang at -O1 made one of three an ordinary call. */
    if (b == NULL)
        return out ? plain_from_top_out(h, own * (2 * GRANULE) + (unsigned)flush, size)
                   : plain_from_top(h, own * (2 * GRANULE) + (unsigned)flush, size);
    /*
     * Every block of a list good fit finds holds the request, as the lists are filed; its head,
     * read from the control structure, is checked to: a stray write may have made it another
     * list's block, smaller.
     */
    if (!in_heap(h, b) || blk_size(b) < size)
        return plain_none(h, b, size, flush != 0, out);
    return out ? plain_take_head_out(h, b, size, fl * SL_COUNT + sl, flush)
               : plain_take_head(h, b, size, fl * SL_COUNT + sl, flush);
}
static __attribute__((noinline)) block_t *tlsf_alloc_plain(alloc_heap *h, size_t size,
                                                           size_t flush) {
    return tlsf_alloc_plain_as(h, size, flush, false);
}

void *tlsf_malloc_block(alloc_heap *h, size_t bs) {
    return tlsf_alloc_plain_as(h, bs, GRANULE, true);
}

/*
 * tlsf_malloc_block's way when the lists hold no block for it: tlsf_alloc_none's (the damage met
 * reported, else the quick lists flushed and the lists tried again), the block found then handed
 * out here, else heap.c's retry after releasing empty runs (alloc_malloc_missed), which refuses at
 * once where tlsf_alloc_none has (REFUSED), as allocate_bs's does.
 */
static __attribute__((noinline)) void *tlsf_malloc_none(alloc_heap *h, const block_t *bad,
                                                        size_t size) {
    return plain_hand_out(h, tlsf_alloc_none(h, bad, size, GRANULE, true), size);
}

/* tlsf_alloc_at for an aligned request (align > GRANULE); runs.c calls it too (tlsf.h). */
__attribute__((noinline)) block_t *tlsf_alloc_aligned(alloc_heap *h, size_t size, size_t align,
                                                      bool may_flush) {
    return tlsf_alloc_at(h, size, align, false, may_flush);
}

static inline block_t *alloc_tlsf_alloc(alloc_heap *h, size_t size, size_t align, bool may_flush) {
    return align <= GRANULE ? tlsf_alloc_plain(h, size, may_flush ? GRANULE : 0)
                            : tlsf_alloc_aligned(h, size, align, may_flush);
}
#else
static bool release_coalesce(alloc_heap *h, block_t *b);
static int alloc_tlsf_resize(alloc_heap *h, block_t *b, size_t size);

/*
 * alloc_tlsf_alloc in less code, for a build for size: the block found leaves its list whole and
 * becomes USED, then an alignment's leading fragment is cut off and released as a free releases a
 * block, and the tail as a shrink in place does: one copy of the code that splits blocks.
 */
static block_t *alloc_tlsf_alloc(alloc_heap *h, size_t size, size_t align, bool may_flush) {
    unsigned fl = 0, sl = 0;   /* not set by locate_free nor used by remove_free: no CARRY_LIST */
    const block_t *bad = NULL; /* not set either: the checks of the one copy report */
    size_t unused_gap;
    block_t *b = locate_free(h, size, align, align <= GRANULE, &fl, &sl, &unused_gap, &bad);
    if (b == NULL)
        return may_flush && quick_held(h) != 0 ? tlsf_alloc_flushed(h, size, align) : NULL;
    /*
     * Damage met is reported here, and the request REFUSED: a caller's second try (a batch's
     * blocks one by one) would meet it and report it again. Checked here rather than in
     * locate_free, whose caller would then test its result for REFUSED as well (4 bytes more).
     */
    if (!check_unlink(h, b, &fl, &sl))
        return REFUSED;
    size_t bs = blk_size_shifts(b);
    /* The successor first, so that its address is not kept across the calls below. */
    blk_set_prev_free(h, blk_at((uintptr_t)b + bs), false);
    remove_free(h, b, fl, sl);
    /* Sealed afresh, by the called copy, rather than flipped inline: check_unlink checked it. */
    blk_set_size_state(h, b, bs, ST_USED);
    size_t gap = align_gap(b, align); /* 0 for a plain request: every payload is GRANULE-aligned */
    if (gap != 0) {
        block_t *u = cut_used(h, b, gap);
        /* Its neighbours are USED (check_unlink saw no PREV_FREE on b): it merges with neither. */
        (void)release_coalesce(h, b);
        b = u;
    }
    /*
     * The tail's release merges with nothing and meets no damage: check_unlink has found b's
     * successor sealed and not FREE (free_node_ok).
     */
    (void)alloc_tlsf_resize(h, b, size);
    return b;
}
#endif

#if !RELOCATE_NODES
/* Fills a block's payload with the free poison (release_merge_poisoning's, with RELOCATE_NODES). */
static inline void poison_payload(const alloc_heap *h, block_t *b) {
    if (poison_free(h))
        __builtin_memset(blk_payload(b), ALLOC_POISON_FREE_BYTE, blk_size(b) - HDR);
}
#endif

/*
 * Coalesces a USED (or QUICK) block with its FREE neighbours and files it in the TLSF lists.
 * With RELOCATE_NODES, when only the successor merges and the sum stays in its list, the merged
 * block simply takes the successor's place; when only the predecessor merges and stays in its
 * list, no list changes at all.
 */
#if QUICK_BINS > 0
/*
 * A quick-list node (whose size word quick_node_ok has checked) is sound enough to coalesce:
 * its size stays in the heap, its successor's boundary tag agrees and, if its predecessor is
 * free, its prev word and that predecessor's header agree: what free's pointer validation checks
 * for a block freed directly. Reports and returns false if not.
 */
static bool quick_block_sound(alloc_heap *h, block_t *b) {
    size_t s = blk_size(b);
    if (s < MIN_BLOCK || s > h->end - (uintptr_t)b ||
        !prev_word_is(h, blk_at((uintptr_t)b + s), s) ||
        (blk_prev_free(b) && !free_prev_ok(h, b))) {
        alloc_report(h, ALLOC_ERR_CORRUPTED_HEADER, b);
        return false;
    }
    return true;
}
#endif

#if RELOCATE_NODES
/*
 * Files b, a block of s bytes whose neighbours are not FREE, as a FREE block: on its list, or as
 * the top block if it ends the heap (next, its successor, is the END marker). next's prev word
 * already says s (the boundary tag checked or written by release_coalesce's caller); the caller
 * sets its PREV_FREE. For merge_dispatch (a build without RELOCATE_NODES files such a block with
 * the merged ones, in release_merge).
 */
static ALWAYS_INLINE void file_alone(alloc_heap *h, block_t *b, size_t s, block_t *next) {
    word_set(h, &b->size, (hword_t)s | ST_FREE); /* no PREV_FREE: the predecessor is not free */
    file_free(h, b, s, next);
}
#endif

#if ALLOC_FAST_PATHS
/*
 * blk_erase with the header zeroed first, on every heap, and poisoned over after on a heap that
 * poisons: the same bytes in the end, and clang's code for a heap that does not poison falls
 * through to the zeroing with no jump around the poisoning (one instruction fewer an erase).
 */
static ALWAYS_INLINE void erase_absorbed(const alloc_heap *h, block_t *b, size_t len) {
    __builtin_memset(b, 0, HDR);
    if (poison_free(h))
        __builtin_memset(b, ALLOC_POISON_FREE_BYTE, len);
}
#else
#define erase_absorbed blk_erase
#endif

/*
 * The merges' `usable`: NO_ACCOUNT (a constant, or passed by a release) for a release that
 * accounts nothing; else the freed block's usable bytes, which tlsf_free_block has accounted before
 * the merge, as given back (its one copy of the accounting, before every way; the merges are then
 * shared with the releases, which pass NO_ACCOUNT). A merge whose check fails gives that back
 * first (merge_failed), so that the hook called by the report sees the statistics as they were,
 * and nothing stays accounted.
 */
#define NO_ACCOUNT SIZE_MAX
#if RELOCATE_NODES
/*
 * A merge's report of a corrupted neighbour b, as report_free_list, with tlsf_free_block's
 * accounting of the freed block given back first where `usable` is not NO_ACCOUNT. Out of line and
 * cold, reached by a tail call, as report_free_list: its test of usable is made only on a failure.
 */
static __attribute__((noinline, cold)) bool merge_failed(alloc_heap *h, const block_t *b,
                                                         size_t usable) {
    if (usable != NO_ACCOUNT)
        account_taken(h, usable);
    return report_free_list(h, b);
}

/*
 * merge_failed for the merges that return free's error (free_next_listed, free_next_top, free_prev,
 * free_both, free_both_top): ALLOC_ERR_CORRUPTED_FREE_LIST, opaque (an empty asm) as
 * report_free_list's false, so that they reach it by a tail call. With merge_failed's bool, each
 * made it an error after the call, and so needed a stack frame (on every call but free_next_top's,
 * which clang set up only on its failure path).
 */
static __attribute__((noinline, cold)) enum alloc_error
merge_failed_error(alloc_heap *h, const block_t *b, size_t usable) {
    (void)merge_failed(h, b, usable);
    return (enum alloc_error)opaque_size(ALLOC_ERR_CORRUPTED_FREE_LIST);
}

/* merge_neighbours' report of a corrupted neighbour, as its result (MERGED). */
#define MERGE_FAILED(h, b, usable, as_error)                                                       \
    ((as_error) ? (int)merge_failed_error(h, b, usable) : (int)merge_failed(h, b, usable))
#endif

/*
 * merge_neighbours' result: free's error where `as_error` (a constant at every call), ALLOC_OK or
 * ALLOC_ERR_CORRUPTED_FREE_LIST; else the releases' bool (true, false).
 */
#define MERGED(as_error, ok)                                                                       \
    ((as_error) ? (int)((ok) ? ALLOC_OK : ALLOC_ERR_CORRUPTED_FREE_LIST) : (int)(ok))

#if RELOCATE_NODES
/*
 * The end of a merge of b with its FREE successor next, once next is off its list (its links read):
 * next's header zeroed (on a heap that poisons, release_merge_poisoning, release_next's one
 * caller there, then poisons it over with next's links: erase_absorbed's bytes, and no test of
 * the heap's poisoning here), b's size word written as the merged FREE block of s bytes. b's
 * PREV_FREE is clear (release_next's blocks have no free predecessor). Inlined into each of
 * the ways of a merge with the successor alone (free_next_top, and each list case of
 * free_next_listed): written once after their list work, it cost 2 instructions a call (clang's
 * code for the joined tail reloads the key, and each way then jumps to it).
 */
static ALWAYS_INLINE void absorb_free_next(alloc_heap *h, block_t *b, size_t s, block_t *next) {
    __builtin_memset(next, 0, HDR);
    word_set(h, &b->size, (hword_t)s | ST_FREE);
}

/*
 * The end of a filing of free's (the merges of free, tlsf_free_block's lone block) where the head
 * of b's list, number `list`, fails head_linkable (link_free_sound): b filed past it and the damage
 * reported (link_past_damaged_head), then what the caller does after its filing: next's boundary
 * tag flipped by d (word_flip; none where d is 0) and, where set_pf, next's PREV_FREE set. Free's
 * ALLOC_OK, opaque (else clang calls this and returns the constant itself). Cold, out of line,
 * reached by a tail call, so that those callers call nothing and save no register for it.
 */
static __attribute__((cold, noinline)) enum alloc_error
freed_past_damaged_head(alloc_heap *h, block_t *b, unsigned list, block_t *next, size_t d,
                        bool set_pf) {
    link_past_damaged_head(h, b, list / SL_COUNT, list % SL_COUNT);
    if (d != 0)
        word_flip(&next->prev, (hword_t)d);
    if (set_pf)
        set_prev_free(next);
    return (enum alloc_error)opaque_size(ALLOC_OK);
}

/* freed_past_damaged_head for the releases' merges (release_prev), which return true. */
static __attribute__((cold, noinline)) bool released_past_damaged_head(alloc_heap *h, block_t *b,
                                                                       unsigned list) {
    link_past_damaged_head(h, b, list / SL_COUNT, list % SL_COUNT);
    return opaque_size(1) != 0;
}

/*
 * The end of free_next_listed for a successor next of ns bytes on list (nfl, nsl), checked (with
 * the boundary tag after it, which says ns): the merged block of s bytes takes next's place when it
 * stays in that list, else next leaves it and the merged block is filed on its own. `head`: next
 * heads its list with a prev link checked to be NULL (a constant), so that it leaves the list
 * without that link read and tested again (unlink_head, replace_head).
 */
static ALWAYS_INLINE enum alloc_error release_next_relink(alloc_heap *h, block_t *b, size_t s,
                                                          size_t ns, block_t *next, unsigned nfl,
                                                          unsigned nsl, bool head) {
    /*
     * The merged block's successor's boundary tag, checked to say ns, flipped to say s: first, so
     * that ns is not kept across the list work (the stores go to other words).
     */
    word_flip(&blk_at((uintptr_t)b + s)->prev, (hword_t)(ns ^ s));
    unsigned fl, sl;
    mapping_insert(s, &fl, &sl);
    if (fl == nfl && sl == nsl) {
        if (head)
            replace_head(h, next, b, fl, sl);
        else
            replace_free(h, next, b, fl, sl);
        absorb_free_next(h, b, s, next);
    } else {
        /* next, on a list, does not end the heap, nor does b now: the count stays. */
        if (head)
            unlink_head(h, next, nfl, nsl);
        else
            unlink_free(h, next, nfl, nsl);
        absorb_free_next(h, b, s, next);
        if (!link_free_sound(h, b, fl, sl))
            return freed_past_damaged_head(h, b, fl * SL_COUNT + sl, NULL, 0, false);
    }
    return ALLOC_OK;
}

/*
 * release_coalesce for the most common merge: b, a block of s bytes whose predecessor is not FREE,
 * with its FREE successor next, which is checked here, on a list (next_listed_body) or the top
 * block (next_top_body), as the caller (release_next, tlsf_free_block) has compared it with the
 * top block (neither compares it again: the same values, nothing written since). The merged
 * block's size word is written as s | ST_FREE, not through blk_set_size_state: b's PREV_FREE is
 * clear. Its list is mapped once; it takes next's place when it stays in next's list, and absorbs
 * the top block, on no list, by becoming it. A successor that heads its list (most) leaves it as a
 * head, in a copy of its own of the list work (release_next_relink). Inlined into free_next_listed
 * and free_next_top (below, with the other merges), which call nothing (the report of a corrupted
 * successor is a tail call, merge_failed_error) and have fewer values to keep: free_next_listed
 * saves three registers (x86-64, clang -O2) where free_both saves six; free_next_top, with no list
 * work, none. `usable` as merge_neighbours'.
 */
static ALWAYS_INLINE enum alloc_error next_listed_body(alloc_heap *h, block_t *b, size_t s,
                                                       block_t *next, size_t usable) {
    unsigned nfl, nsl;
    /* check_unlink_next, with its report reached by a tail call. */
    if (!free_header_ok(h, next))
        return merge_failed_error(h, next, usable);
    /*
     * The merged block's successor is found at the end as b + s (next is b's, at b + s before the
     * sum), not kept from next + its size: one register fewer to keep across the list work.
     */
    size_t ns = blk_size(next);
    s += ns; /* ns kept for the flip of the boundary tag after next (release_next_relink) */
    /*
     * unlink_links_sound's check (but its comparison with the top block), its two cases apart: a
     * head of its list (the common case) then leaves it as a head does.
     */
    block_list(next, &nfl, &nsl);
    if (ALLOC_CHECK_LINKS && blk_links(next)->prev == NULL) {
        if (!links_ok(h, next, nfl, nsl))
            return merge_failed_error(h, next, usable);
        /*
         * Memory forgotten (an empty asm), here and below: the list work reads next's links
         * afresh rather than keeping the ones the check read across it (measured when the
         * release had a copy of its own of this merge: it saved one register, not two).
         */
        __asm__("" ::: "memory");
        return release_next_relink(h, b, s, ns, next, nfl, nsl, true);
    }
    if (ALLOC_CHECK_LINKS && !links_ok(h, next, nfl, nsl))
        return merge_failed_error(h, next, usable);
    __asm__("" ::: "memory");
    return release_next_relink(h, b, s, ns, next, nfl, nsl, false);
}

/* next_listed_body's merge for a successor that is the top block: b becomes it. */
static ALWAYS_INLINE enum alloc_error next_top_body(alloc_heap *h, block_t *b, size_t s,
                                                    block_t *next, size_t usable) {
    if (!free_header_ok(h, next))
        return merge_failed_error(h, next, usable);
    size_t ns = blk_size(next);
    s += ns;
    /* No list to look up (nor links to check). */
    tlsf_of(h)->top = b;
    absorb_free_next(h, b, s, next);
    word_flip(&blk_at((uintptr_t)b + s)->prev, (hword_t)(ns ^ s)); /* as release_next_relink's */
    return ALLOC_OK;
}

/* The releases' merges of b with its FREE successor next alone (below, with the other merges). */
static __attribute__((noinline)) bool release_next_listed(alloc_heap *h, block_t *b, size_t s,
                                                          block_t *next);
static __attribute__((noinline)) bool release_next_top(alloc_heap *h, block_t *b, size_t s,
                                                       block_t *next);

/* The merge of b with its FREE successor next alone, by one of the two above. */
static ALWAYS_INLINE bool release_next(alloc_heap *h, block_t *b, size_t s, block_t *next) {
    return next == tlsf_of(h)->top ? release_next_top(h, b, s, next)
                                   : release_next_listed(h, b, s, next);
}
#endif

#if RELOCATE_NODES
static __attribute__((noinline)) bool release_prev(alloc_heap *h, block_t *b, size_t s,
                                                   block_t *next);
static __attribute__((noinline)) bool release_both(alloc_heap *h, block_t *b, size_t s,
                                                   block_t *next);
static __attribute__((noinline)) bool release_both_top(alloc_heap *h, block_t *b, size_t s,
                                                       block_t *next);

/*
 * The merge of b (of s bytes), whose predecessor is FREE, by release_prev, release_both or
 * release_both_top, as its successor next is FREE, and the top block or not; its size and
 * successor passed on, not found again there.
 */
static ALWAYS_INLINE bool release_with_prev(alloc_heap *h, block_t *b, size_t s, block_t *next) {
    if (blk_state(next) != ST_FREE)
        return release_prev(h, b, s, next);
    return next == tlsf_of(h)->top ? release_both_top(h, b, s, next) : release_both(h, b, s, next);
}
static __attribute__((noinline)) bool release_merge_poisoning(alloc_heap *h, block_t *b);

/*
 * The merge of b with its FREE neighbours and its filing, on a heap that does not poison on free
 * (or before release_merge_poisoning poisons): a free predecessor's merge by release_prev,
 * release_both or release_both_top (release_with_prev), the successor's alone by release_next,
 * each a tail call; a block that merges with neither filed here by file_alone, for
 * release_coalesce's callers (a shrink's tail, a quick-list flush, a quick-listed successor a
 * realloc grows into: alloc_tlsf_unquick) and release_merge_poisoning (release_block and
 * tlsf_free_block file such a block themselves).
 */
static ALWAYS_INLINE bool merge_dispatch(alloc_heap *h, block_t *b) {
    size_t s = blk_size(b);
    block_t *next = blk_at((uintptr_t)b + s);
    if (blk_prev_free(b))
        return release_with_prev(h, b, s, next);
    if (blk_state(next) == ST_FREE)
        return release_next(h, b, s, next);
    file_alone(h, b, s, next);
    set_prev_free(next);
    return true;
}

/* merge_dispatch out of line, for release_merge_poisoning. */
static __attribute__((noinline)) bool release_merge(alloc_heap *h, block_t *b) {
    return merge_dispatch(h, b);
}

/*
 * release_coalesce on a heap that poisons on free: the merge (by release_next for the successor
 * alone, else by release_merge (release_prev, release_both, release_both_top, or b filed alone),
 * each of which checks the neighbours first and changes nothing if a check fails), then b's payload
 * poisoned, but for b's links where b is filed on a list, with b's header where a free predecessor
 * absorbed it, and the absorbed successor's header and links (the merges zero those headers only):
 * the bytes that poisoning first, before the merge, and erase_absorbed left, as the merge writes
 * nothing else there (a predecessor's links lie in its own payload). Apart, so that the merges
 * (free_next_top, free_next_listed, free_both, free_both_top, release_prev) call nothing and need
 * no stack frame.
 */
static __attribute__((noinline)) bool release_merge_poisoning(alloc_heap *h, block_t *b) {
    size_t s = blk_size(b);
    block_t *next = blk_at((uintptr_t)b + s);
    bool prev_free = blk_prev_free(b), merge_next = blk_state(next) == ST_FREE;
    bool next_alone = merge_next && !prev_free;
    /*
     * The merged block ends the heap, where it becomes the top block (on no list): merged with a
     * successor that is the top block, or followed by the END marker.
     */
    bool ends_heap = merge_next ? next == tlsf_of(h)->top : (uintptr_t)next == h->end;
    /* Without a free predecessor b heads the merged block, filed on a list with its links. */
    size_t keep = !prev_free && !ends_heap ? sizeof(struct free_links) : 0;
    /*
     * A free predecessor that the merge makes the top block has no links any more: they are
     * poisoned too, so that every byte of the top block holds the poison.
     */
    block_t *unlinked_prev = prev_free && ends_heap ? blk_prev(b) : NULL;
    if (!(next_alone ? release_next(h, b, s, next) : release_merge(h, b)))
        return false;
    if (unlinked_prev != NULL)
        __builtin_memset(blk_payload(unlinked_prev), ALLOC_POISON_FREE_BYTE,
                         sizeof(struct free_links));
    /* Absorbed by a free predecessor, b's header too (erase_merged zeroed it). */
    char *from = prev_free ? (char *)b : (char *)blk_payload(b) + keep;
    __builtin_memset(from, ALLOC_POISON_FREE_BYTE, (size_t)((char *)next - from));
    if (merge_next)
        __builtin_memset(next, ALLOC_POISON_FREE_BYTE, HDR + sizeof(struct free_links));
    return true;
}

/*
 * Called by the rarer releases (release_block, for free and realloc, makes the same dispatch
 * itself, see there). A release on a heap that poisons is release_merge_poisoning's; else
 * merge_dispatch's, whose merges are reached at once by tail calls. Apart, so that each merge
 * saves only the registers its own work needs (free_next_listed three, free_both six), not
 * those of another.
 */
static __attribute__((noinline)) bool release_coalesce(alloc_heap *h, block_t *b) {
    if (poison_free(h))
        return release_merge_poisoning(h, b);
    return merge_dispatch(h, b);
}
#else
#define release_merge release_coalesce /* one function, for less code */
#endif

/*
 * release_merge's erase of an absorbed header (len bytes with its links): with RELOCATE_NODES the
 * header zeroed only, on every heap, and poisoned over after by release_merge_poisoning on a heap
 * that poisons (no test of it here); else blk_erase.
 */
static ALWAYS_INLINE void erase_merged(const alloc_heap *h, block_t *b, size_t len) {
#if RELOCATE_NODES
    (void)h;
    (void)len;
    __builtin_memset(b, 0, HDR);
#else
    blk_erase(h, b, len);
#endif
}

#define NEXT_TESTED 0 /* merge_neighbours tests the successor's state itself */
#define NEXT_USED   1 /* its caller has found the successor not FREE */
#define NEXT_LISTED 2 /* its caller has found the successor FREE, and not the top block */
#define NEXT_TOP    3 /* its caller has found the successor FREE, and the top block */

/*
 * unfile_free for merge_neighbours' free predecessor p: with NEXT_TOP the top block is its
 * successor's successor, not p, so p leaves its list with no comparison with the top block.
 */
static ALWAYS_INLINE void unfile_prev(alloc_heap *h, block_t *p, unsigned pfl, unsigned psl,
                                      unsigned next_known) {
    if (next_known == NEXT_TOP)
        unlink_free(h, p, pfl, psl);
    else
        unfile_free(h, p, pfl, psl);
}

/*
 * The merges with a free predecessor, with RELOCATE_NODES (release_prev, release_both,
 * release_both_top), and all of release_coalesce's without (release_merge, which it then is).
 * next_known (a constant): NEXT_TESTED, the successor's state and b's PREV_FREE tested here; else
 * the caller has found PREV_FREE set and the successor not FREE (NEXT_USED), FREE and on a list
 * (NEXT_LISTED) or FREE and the top block (NEXT_TOP), and none of it is tested again.
 * b's header, its boundary tags and (if PREV_FREE) its predecessor's header have been checked by
 * the caller (free's pointer validation, quick_block_sound, extend, a run given back) or written by
 * it (a new run handed back, a shrink's tail): so the predecessor's header is not checked again,
 * only its links. The successor and its links are checked here before use. With RELOCATE_NODES it
 * poisons nothing (release_merge_poisoning does, after it) and calls nothing: its reports are tail
 * calls (merge_failed, or merge_failed_error where `as_error`), so it needs no stack frame.
 * `as_error` (a constant): the result is free's error, for free_prev, free_both and free_both_top
 * (MERGED). `usable`: NO_ACCOUNT, or the usable bytes of the block freed by tlsf_free_block,
 * accounted already (see NO_ACCOUNT).
 */
static ALWAYS_INLINE int merge_neighbours(alloc_heap *h, block_t *b, size_t s, block_t *next,
                                          unsigned next_known, size_t usable, bool as_error) {
    bool merge_next = next_known == NEXT_TESTED
                          ? blk_state(next) == ST_FREE
                          : next_known == NEXT_LISTED || next_known == NEXT_TOP;
    bool merge_prev = next_known == NEXT_TESTED ? blk_prev_free(b) : true;
    /*
     * Set where used (the lists by the checks of the neighbour that merges; none with CARRY_LIST
     * 0, where remove_free maps them itself): no zeros to write on entry (3 instructions a call).
     */
    unsigned nfl, nsl, pfl, psl, fl, sl;
    /*
     * What the merged block's successor's boundary tag says, as checked: b's size, or the absorbed
     * successor's (its successor's tag, checked by free_header_ok); flipped to the merged size at
     * the end (word_flip, no key to read and multiply), with RELOCATE_NODES.
     */
    size_t tag = s;
    /*
     * The predecessor, used only where merge_prev: with RELOCATE_NODES its address computed once,
     * for its check and its merge (its prev word read again after the successor's unlink cost 5
     * instructions); a build for size reads it where it uses it, for less code.
     */
    block_t *p = blk_prev(b);
#if ALLOC_FAST_PATHS
    /*
     * check_unlink_next and check_unlink_links, with their reports reached by a tail call. Where
     * the caller has compared next with the top block (NEXT_LISTED, NEXT_TOP), unlink_links_sound's
     * comparison is not made again: the top block has no links to check, any other its list's.
     */
    bool next_ok;
    if (next_known == NEXT_TOP) {
        next_ok = free_header_ok(h, next);
    } else if (next_known == NEXT_LISTED) {
        next_ok = free_header_ok(h, next);
        if (next_ok)
            next_ok = listed_links_sound(h, next, &nfl, &nsl);
    } else {
        next_ok =
            !merge_next || (free_header_ok(h, next) && unlink_links_sound(h, next, &nfl, &nsl));
    }
    if (!next_ok)
        return MERGE_FAILED(h, next, usable, as_error);
    /*
     * p is not the top block where next is (NEXT_TOP): unlink_links_sound's comparison with it, a
     * choice between no links and p's, is not made; p's links are checked.
     */
    bool prev_ok;
    if (next_known == NEXT_TOP) {
        prev_ok = listed_links_sound(h, p, &pfl, &psl);
    } else {
        prev_ok = !merge_prev || unlink_links_sound(h, p, &pfl, &psl);
    }
    if (!prev_ok)
        return MERGE_FAILED(h, p, usable, as_error);
#else
    /*
     * A build for size checks the predecessor in full again, through the one copy it has, which
     * reports; its one release accounts nothing (usable is NO_ACCOUNT).
     */
    (void)usable;
    if (merge_next && !check_unlink_next(h, next, &nfl, &nsl))
        return MERGED(as_error, false);
    if (merge_prev && !check_unlink(h, blk_prev(b), &pfl, &psl))
        return MERGED(as_error, false);
#endif
#if !RELOCATE_NODES
    poison_payload(h, b);
#endif
    /*
     * With RELOCATE_NODES the merged block's size word becomes s | ST_FREE by a flip of its start's
     * (word_flip), not through blk_set_size_state: that start, a free predecessor, has no
     * PREV_FREE (its size word is exactly its size and FREE, as the caller has checked). Its list
     * is mapped once, from s, and the filing does not read back the word just written.
     */
    if (merge_next) {
        /* remove_free, without its comparison with the top block where the caller has made it. */
        if (next_known == NEXT_TOP) {
            h->free_blocks--;
            tlsf_of(h)->top = NULL;
        } else if (next_known == NEXT_LISTED) {
            h->free_blocks--;
            unlink_free(h, next, nfl, nsl);
        } else {
            remove_free(h, next, nfl, nsl);
        }
        tag = blk_size(next);
        s += tag;
        erase_merged(h, next, HDR + sizeof(struct free_links));
        next = blk_at((uintptr_t)b + s);
    }
    if (!RELOCATE_NODES) {
        /* Filed afresh whichever neighbours it absorbed: one copy of the filing, in less code. */
        if (merge_prev) {
            size_t ps = blk_prev_size(b); /* p's size, as the caller has checked */
            p = blk_at((uintptr_t)b - ps);
            s += ps;
            blk_erase(h, b, HDR);
            remove_free(h, p, pfl, psl);
            b = p;
        }
        blk_set_size_state(h, b, s, ST_FREE);
        insert_free(h, b);
        blk_set_prev_size(h, next, s);
        blk_set_prev_free(h, next, true);
        return MERGED(as_error, true);
    }
    /*
     * With RELOCATE_NODES a free predecessor always merges here (release_prev, release_both,
     * release_both_top): a block with none is filed by release_block or merge_dispatch, or merged
     * by release_next.
     */
    bool last = (uintptr_t)next == h->end; /* the merged block ends the heap: the top block */
    /* p's size, as the caller has checked: its word, ps | ST_FREE, flipped to s | ST_FREE. */
    size_t ps = (uintptr_t)b - (uintptr_t)p;
    s += ps;
    erase_merged(h, b, HDR);
    b = p;
    /*
     * The boundary tag, checked to say `tag`, flipped to say s, and next's PREV_FREE set
     * (set_prev_free: a test and a constant flip, two instructions fewer than blk_set_prev_free's
     * flip computed from the word; measured on this merge, whose values no longer live across a
     * call: worst case -O1, merging free 369 -> 364; it had cost the emptied run given back 558 ->
     * 562 when clang kept b in memory across the function): before the list work, which writes
     * other words, so that `tag` and next are not kept across it.
     */
    word_flip(&next->prev, (hword_t)(tag ^ s));
    set_prev_free(next);
    /*
     * Re-filed, unless it stays in its list and is not the top block (on no list). The top block
     * first: it needs no list, so its size is not mapped (on git most merges with a free
     * predecessor end the heap; written as one test of a flag, the mapping's or the top block's, it
     * was longer). Each way: remove_free and file_free without their counts, which cancel: p leaves
     * its list, or the top block (which it may be, no longer at the end, in an extend), by
     * unfile_free with the list checked above (this path is RELOCATE_NODES', which carries the
     * list: remove_free would otherwise map it from the size word written here), and the merged
     * block is filed as the top block, or with the list mapped here (file_free maps it again: clang
     * does not reuse this mapping, a branch, and the path was 12 instructions longer). Its size
     * word first: the unlink reads only its links. It is p's word, checked by the caller, changed
     * by a flip of the sizes' difference (word_flip, whose fold costs less than the key's
     * multiply): worst case -O1, merging both neighbours 333 -> 329.
     */
    if (TOP_BLOCK && last) {
        word_flip(&b->size, (hword_t)(ps ^ s));
        unfile_prev(h, p, pfl, psl, next_known);
        tlsf_of(h)->top = b;
    } else if (mapping_insert(s, &fl, &sl), fl != pfl || sl != psl) {
        word_flip(&b->size, (hword_t)(ps ^ s));
        unfile_prev(h, p, pfl, psl, next_known);
#if RELOCATE_NODES
        /* A filing past a damaged head, and its report, by a tail call. */
        if (!link_free_sound(h, b, fl, sl))
            return as_error ? (int)freed_past_damaged_head(h, b, fl * SL_COUNT + sl, NULL, 0, false)
                            : (int)released_past_damaged_head(h, b, fl * SL_COUNT + sl);
#endif
    } else {
        word_flip(&b->size, (hword_t)(ps ^ s));
    }
    return MERGED(as_error, true);
}

#if RELOCATE_NODES
/*
 * The merges, one copy each, out of line: b (of s bytes) with its FREE successor next alone, on a
 * list (free_next_listed) or the top block (free_next_top); or with its FREE predecessor, its
 * successor not FREE (free_prev), FREE on a list (free_both) or FREE and the top block
 * (free_both_top). Their callers have made those tests (release_next and release_with_prev, or
 * tlsf_free_block): none is made again (the same words, read just before with nothing written
 * since). Apart, so that each saves only the registers its own work needs (x86-64, clang -O2):
 * free_next_listed three, free_prev four, free_both_top five, free_both six; free_next_top none.
 * Each returns free's error (ALLOC_OK, or merge_failed_error's, reached by a tail call: no stack
 * frame) by a tail call from tlsf_free_block, which passes the freed block's `usable` bytes,
 * accounted already (merge_failed_error gives them back); the releases
 * reach them through release_next_listed, release_next_top, release_both and release_both_top,
 * which pass NO_ACCOUNT and make the error their bool. Not release_prev, the worst case's emptied
 * run given back, which keeps its own copy: through free_prev that path was 15 instructions longer
 * at -O1, 9 at -O2; free_prev is then tlsf_free_block's alone (with quick lists).
 */
static __attribute__((noinline)) enum alloc_error
free_next_listed(alloc_heap *h, block_t *b, size_t s, block_t *next, size_t usable) {
    return next_listed_body(h, b, s, next, usable);
}
static __attribute__((noinline)) enum alloc_error free_next_top(alloc_heap *h, block_t *b, size_t s,
                                                                block_t *next, size_t usable) {
    return next_top_body(h, b, s, next, usable);
}
#if QUICK_BINS > 0
static __attribute__((noinline)) enum alloc_error free_prev(alloc_heap *h, block_t *b, size_t s,
                                                            block_t *next, size_t usable) {
    return (enum alloc_error)merge_neighbours(h, b, s, next, NEXT_USED, usable, true);
}
#endif
static __attribute__((noinline)) enum alloc_error free_both(alloc_heap *h, block_t *b, size_t s,
                                                            block_t *next, size_t usable) {
    return (enum alloc_error)merge_neighbours(h, b, s, next, NEXT_LISTED, usable, true);
}
static __attribute__((noinline)) enum alloc_error free_both_top(alloc_heap *h, block_t *b, size_t s,
                                                                block_t *next, size_t usable) {
    return (enum alloc_error)merge_neighbours(h, b, s, next, NEXT_TOP, usable, true);
}

/*
 * The merges for the releases, which account nothing: out of line, so that release_block,
 * merge_dispatch and release_with_prev reach them by tail calls and need no stack frame (the
 * callers of free_* have one, on these rarer paths).
 */
static __attribute__((noinline)) bool release_next_listed(alloc_heap *h, block_t *b, size_t s,
                                                          block_t *next) {
    return free_next_listed(h, b, s, next, NO_ACCOUNT) == ALLOC_OK;
}
static __attribute__((noinline)) bool release_next_top(alloc_heap *h, block_t *b, size_t s,
                                                       block_t *next) {
    return free_next_top(h, b, s, next, NO_ACCOUNT) == ALLOC_OK;
}
static __attribute__((noinline)) bool release_prev(alloc_heap *h, block_t *b, size_t s,
                                                   block_t *next) {
    return merge_neighbours(h, b, s, next, NEXT_USED, NO_ACCOUNT, false) != 0;
}
static __attribute__((noinline)) bool release_both(alloc_heap *h, block_t *b, size_t s,
                                                   block_t *next) {
    return free_both(h, b, s, next, NO_ACCOUNT) == ALLOC_OK;
}
static __attribute__((noinline)) bool release_both_top(alloc_heap *h, block_t *b, size_t s,
                                                       block_t *next) {
    return free_both_top(h, b, s, next, NO_ACCOUNT) == ALLOC_OK;
}
#else
/* Every merge, in one copy. */
static bool release_merge(alloc_heap *h, block_t *b) {
    size_t s = blk_size(b);
    return merge_neighbours(h, b, s, blk_at((uintptr_t)b + s), NEXT_TESTED, NO_ACCOUNT, false) != 0;
}
#endif

/*
 * Releases b as release_coalesce does, with its dispatch (each way a tail call: a heap that poisons
 * to release_merge_poisoning, a free predecessor to release_prev, release_both or
 * release_both_top, the successor alone to release_next); a block that merges with nothing, on a
 * heap that does not poison on free, the short way: no check to make and no call, so inlined into
 * its caller it needs none of the six registers that free_both saves; one that merges with its
 * successor alone, there, by a tail call from release_next, to release_next_listed or
 * release_next_top (which call free_next_listed, saving three, or free_next_top, saving none).
 * For the releases of free and realloc (tlsf_release_op, and release_cached for a block no quick
 * list takes) and of a run's block, in one copy (tlsf_release_run, with RELOCATE_NODES); the rarer
 * ones (a shrink's tail, a quick list's flush, a quick-listed successor a realloc grows into:
 * alloc_tlsf_unquick) call release_coalesce, which files such blocks too (in merge_dispatch), for
 * less code.
 */
static FAST_INLINE bool release_block(alloc_heap *h, block_t *b) {
#if RELOCATE_NODES
    size_t s = blk_size(b);
    block_t *next = blk_at((uintptr_t)b + s);
    /*
     * release_coalesce's dispatch made here, where its tests are: a free predecessor goes at once,
     * not through release_coalesce, which tested the poisoning and PREV_FREE a second time (5
     * instructions a call), to release_prev, release_both or release_both_top (release_with_prev),
     * which do not test it and the successor's state again.
     */
    if (poison_free(h))
        return release_merge_poisoning(h, b);
    if (!blk_prev_free(b)) {
        if (blk_state(next) != ST_FREE) {
            /*
             * file_alone's size word s | ST_FREE by a flip of the state, a constant: b's word is
             * s | ST_USED, validly sealed, as its caller has checked it (free's pointer validation)
             * or written it (a heap's first block, an extend's new block, a run handed back), and
             * PREV_FREE is clear (tested above), so the flip stores the word file_alone seals
             * afresh, with no key to read, multiply and fold (12 instructions fewer).
             */
            b->size ^= flip_low_bits(ST_USED ^ ST_FREE);
            file_free(h, b, s, next);
            set_prev_free(next);
            return true;
        }
        return release_next(h, b, s, next);
    }
    return release_with_prev(h, b, s, next);
#else
    return release_coalesce(h, b);
#endif
}

#if QUICK_BINS > 0
static bool alloc_tlsf_unquick(alloc_heap *h, block_t *b) {
    struct tlsf_state *t = tlsf_of(h);
    size_t size = blk_size(b);
    if (size < MIN_BLOCK || size > QUICK_MAX_BLOCK)
        return false;
    unsigned i = quick_index(size);
    block_t **link = &t->quick[i];
    for (unsigned n = 0; n < t->quick_count[i] && *link != NULL; n++) {
        block_t *q = *link;
        if (!quick_node_ok(h, q, size)) {
            alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, q);
            return false;
        }
        if (q == b) {
            block_t *rest = blk_links(b)->next;
            if (!quick_block_sound(h, b))
                return false;
            /* Still QUICK: a refusal's report then finds it as it was (see the flush). */
            if (!release_coalesce(h, b))
                return false;
            *link = rest;
            t->quick_count[i]--;
            h->taken_blocks--; /* given back to the lists: no longer QUICK */
            return true;
        }
        link = &blk_links(q)->next;
    }
    return false;
}
#endif

static bool alloc_tlsf_flush_quick(alloc_heap *h) {
    bool any = false;
#if QUICK_BINS > 0
    struct tlsf_state *t = tlsf_of(h);
    for (unsigned i = 0; i < QUICK_BINS; i++) {
        size_t size = quick_block_size(i);
        while (t->quick[i] != NULL) {
            block_t *b = t->quick[i];
            if (!quick_node_ok(h, b, size)) {
                alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, b);
                return any;
            }
            block_t *rest = blk_links(b)->next;
            if (!quick_block_sound(h, b))
                return any;
            /*
             * Released as it is, QUICK (release_coalesce writes the merged block's word afresh,
             * whatever b's state): where a neighbour's check refuses it, the report then finds b
             * on its quick list as it was, not a USED block that no count holds.
             */
            if (!release_coalesce(h, b))
                return any;
            t->quick[i] = rest;
            t->quick_count[i]--;
            h->taken_blocks--; /* given back to the lists: no longer QUICK */
            any = true;
        }
    }
#else
    (void)h;
#endif
    return any;
}

#if QUICK_BINS > 0
static int resize_into_quick(alloc_heap *h, block_t *b, size_t size);
#endif

static int alloc_tlsf_resize(alloc_heap *h, block_t *b, size_t size);

/* resize's three helpers below: out of line in a build for speed, reached by tail calls. */
#if RELOCATE_NODES
#define SHRINK_APART __attribute__((noinline))
#else
#define SHRINK_APART inline
#endif

/*
 * resize_with_next's result, 1, opaque (an empty asm) with RELOCATE_NODES: else clang, knowing it,
 * calls resize_with_next and returns the 1 itself, and its callers need a stack frame where a tail
 * call needs none.
 */
#define RESIZED (RELOCATE_NODES ? (int)opaque_size(1) : 1)

#if ALLOC_FAST_PATHS
/*
 * Reports a corrupted successor met by a resize and returns -1 (opaque, as RESIZED): out of line
 * and reached by a tail call, as report_free_list, so that the resize calls nothing of its own.
 */
static __attribute__((noinline, cold)) int report_resize_next(const alloc_heap *h,
                                                              const block_t *b) {
    alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, b);
    return -(int)opaque_size(1);
}
#endif

#if RELOCATE_NODES
/*
 * resize_with_next's filing of b on list number `list` where that list's head fails
 * head_linkable (link_free_sound): b filed past it and the damage reported
 * (link_past_damaged_head), then the resize's result (RESIZED, opaque). Cold, out of line, reached
 * by a tail call.
 */
static __attribute__((cold, noinline)) int resized_past_damaged_head(alloc_heap *h, block_t *b,
                                                                     unsigned list) {
    link_past_damaged_head(h, b, list / SL_COUNT, list % SL_COUNT);
    return RESIZED;
}
#endif

#if RELOCATE_NODES
/*
 * file_free_sound of a resize's tail (rest bytes, its successor at after), a damaged head's filing
 * and report reached by a tail call: the resize then calls nothing. Returns RESIZED, or
 * resized_past_damaged_head's result.
 */
static ALWAYS_INLINE int file_resized_tail(alloc_heap *h, block_t *tail, size_t rest,
                                           const block_t *after) {
    unsigned fl, sl;
    if (!file_free_sound(h, tail, rest, after, &fl, &sl))
        return resized_past_damaged_head(h, tail, fl * SL_COUNT + sl);
    return RESIZED;
}
#endif

/*
 * The end of a resize of USED block b to `size` bytes with its FREE successor next (on list nfl,
 * nsl), checked (check_unlink_next), when the two hold size: b takes what it needs of the
 * successor, or gives what it does not need to it. Returns 1 (or, in a build for size, what the
 * shrink that follows returns).
 */
static SHRINK_APART int resize_with_next(alloc_heap *h, block_t *b, size_t size, block_t *next,
                                         unsigned nfl, unsigned nsl) {
    size_t cur = (uintptr_t)next - (uintptr_t)b, ns = blk_size(next);
    /*
     * Block stores may alias *h as far as the compiler knows: read what is needed once. With
     * RELOCATE_NODES b's size word is not read again: realloc's validation has checked it to be
     * cur | ST_USED with b's PREV_FREE, and it is flipped to its new size at the end (word_flip,
     * as after's boundary tag, checked to say ns); the size build's copy reads it in
     * blk_set_size_state, as it did.
     */
    size_t total = cur + ns;
    block_t *after = blk_at((uintptr_t)b + total);
    /*
     * b takes all of the successor when the rest could not be a block, and always in a build for
     * size, where it then gives back what it does not need as a shrink does (no list relocation).
     */
    if (!RELOCATE_NODES || total - size < MIN_BLOCK) {
        remove_free(h, next, nfl, nsl);
        erase_absorbed(h, next, HDR + sizeof(struct free_links));
        if (RELOCATE_NODES) {
            /*
             * Flips (word_flip), not fresh seals: after's boundary tag, checked to say ns
             * (free_header_ok), says total; b's word, checked by realloc's validation to be
             * cur | ST_USED with b's PREV_FREE, says total the same way (its PREV_FREE not read).
             */
            word_flip(&after->prev, (hword_t)(ns ^ total));
            blk_set_prev_free(h, after, false);
            word_flip(&b->size, (hword_t)(cur ^ total));
        } else { /* b's word as read above, through the called copy a build for size has */
            word_set(h, &after->prev, (hword_t)total);
            blk_set_prev_free(h, after, false);
            blk_set_size_state(h, b, total, ST_USED);
        }
        return RELOCATE_NODES ? RESIZED : alloc_tlsf_resize(h, b, size);
    }
    /*
     * Grow into the successor, or shrink with it (resize_shrink); what is left of it, with a
     * shrink's tail, stays free. Usually (a large free block shrinking or growing a little) it
     * stays on the same list and simply takes the successor's place. next's links are read before
     * tail's header (tail >= next + 16 in a growth) may overwrite them; a shrink's tail ends
     * MIN_BLOCK or more before next, its links too.
     */
    block_t *tail = blk_at((uintptr_t)b + size);
    size_t rest = total - size;
    /*
     * b's word and after's boundary tag, both checked (see above), flipped to their new sizes
     * first, so that cur, ns and after are not kept across the list work, which writes other words
     * (next's links, read before tail's header may overwrite them, and tail's header).
     */
    word_flip(&after->prev, (hword_t)(ns ^ rest));
    word_flip(&b->size, (hword_t)(cur ^ size));
    if (RELOCATE_NODES && same_list(ns, rest)) {
        replace_free(h, next, tail, nfl, nsl);
        erase_absorbed(h, next, HDR); /* next's header is now inside b's payload, or tail's */
        word_set(h, &tail->prev, (hword_t)size);
        word_set(h, &tail->size, (hword_t)rest | ST_FREE);
    } else {
        remove_free(h, next, nfl, nsl);
        erase_absorbed(h, next, HDR);
        word_set(h, &tail->prev, (hword_t)size);
        word_set(h, &tail->size, (hword_t)rest | ST_FREE);
#if RELOCATE_NODES
        return file_resized_tail(h, tail, rest, after);
#else
        insert_free(h, tail);
#endif
    }
    return RESIZED;
}

/*
 * A resize's FREE successor next checked (check_unlink_next, its report in a build for speed
 * reached by a tail call), then resize_with_next: for a growth (alloc_tlsf_resize) and a shrink
 * on a heap that does not poison (resize_shrink).
 */
static ALWAYS_INLINE int resize_next_checked(alloc_heap *h, block_t *b, size_t size,
                                             block_t *next) {
    unsigned nfl, nsl; /* neither set nor used without CARRY_LIST */
#if ALLOC_FAST_PATHS
    if (!free_header_ok(h, next) || !unlink_links_sound(h, next, &nfl, &nsl))
        return report_resize_next(h, next);
#else
    if (!check_unlink_next(h, next, &nfl, &nsl))
        return -1;
#endif
    return resize_with_next(h, b, size, next, nfl, nsl);
}

/*
 * resize_shrink's shrink on a heap that poisons on free (on every heap in a build for size): the
 * tail cut off as a USED block and released, merging with a FREE successor next (whose size word
 * is nw), checked first. Apart with RELOCATE_NODES, reached by a tail call: its calls would give
 * resize_shrink a stack frame on every shrink.
 */
static SHRINK_APART int resize_shrink_released(alloc_heap *h, block_t *b, size_t size,
                                               block_t *next, hword_t nw) {
    unsigned nfl, nsl; /* neither set nor used without CARRY_LIST */
    if ((nw & STATE_MASK) == ST_FREE && !check_unlink_next(h, next, &nfl, &nsl))
        return -1;
    return release_coalesce(h, cut_used(h, b, size)) ? 1 : -1;
}

/*
 * alloc_tlsf_resize's shrink of USED block b (cur bytes, its successor next) to `size` bytes, by
 * MIN_BLOCK or more. The tail is cut off as a USED block and released, merging with a FREE
 * successor (resize_shrink_released); on a heap that does not poison, with RELOCATE_NODES, it is
 * filed here instead, where the release would file it: alone as merge_dispatch files it
 * (file_alone) when the successor is not FREE, else as resize_with_next files what is left of the
 * successor, which is what release_next makes of the merge (in the successor's place when it stays
 * in its list, else at the head of its own; the top block as the top block), with the successor
 * checked once, not again by the release. Apart from the growth, whose path then stays as short as
 * it was.
 */
static SHRINK_APART int resize_shrink(alloc_heap *h, block_t *b, size_t size) {
    size_t cur = blk_size(b);
    block_t *next = blk_at((uintptr_t)b + cur);
    hword_t nw = next->size;
#if RELOCATE_NODES
    if (!poison_free(h)) {
        if ((nw & STATE_MASK) != ST_FREE) {
            size_t rest = cur - size;
            block_t *tail = blk_at((uintptr_t)b + size);
            word_set(h, &tail->prev, (hword_t)size);
            word_set(h, &tail->size, (hword_t)rest | ST_FREE); /* no PREV_FREE: b is USED */
            /*
             * next's boundary tag and b's word, checked by realloc's validation to say cur,
             * flipped (word_flip) to say rest and size.
             */
            word_flip(&next->prev, (hword_t)(cur ^ rest));
            set_prev_free(next); /* clear, b being USED */
            word_flip(&b->size, (hword_t)(cur ^ size));
            /* file_free, a damaged head's filing and report reached by a tail call. */
            return file_resized_tail(h, tail, rest, next);
        }
        return resize_next_checked(h, b, size, next);
    }
#endif
    return resize_shrink_released(h, b, size, next, nw);
}

static int alloc_tlsf_resize(alloc_heap *h, block_t *b, size_t size) {
    size_t cur = blk_size(b);
    if (size <= cur)
        return cur - size < MIN_BLOCK ? 1 : resize_shrink(h, b, size);
    block_t *next = blk_at((uintptr_t)b + cur);
    hword_t nw = next->size;
    size_t ns = (size_t)(nw & SIZE_MASK);
#if QUICK_BINS > 0
    /* A successor freed onto a quick list is free space too: merged, then tried again. */
    if ((nw & STATE_MASK) == ST_QUICK)
        return resize_into_quick(h, b, size);
#endif
    if ((nw & STATE_MASK) != ST_FREE || cur + ns < size)
        return 0;
    return resize_next_checked(h, b, size, next);
}

/*
 * Also moves the largest block of the highest list to the head of that list, so that a request
 * of exactly the size reported is found by the look at the head of the request's own list however
 * many blocks that list holds. (The order of a list is not observable; the heap is const to the
 * caller of alloc_heap_stats in every other respect.) A head that could not be filed before
 * (head_linkable) leaves the list as it is: the move would report the head and lose the list's
 * other blocks (link_past_damaged_head), where alloc_heap_stats reports nothing and changes
 * nothing a caller can see.
 */
static size_t alloc_tlsf_largest_free(alloc_heap *h) {
    struct tlsf_state *t = tlsf_of(h);
    /* The top block as the allocation takes it: checked first (alloc_heap_check reports it). */
    size_t best = t->top != NULL && top_block_ok(h, t->top) ? blk_size(t->top) : 0;
    /*
     * Bit maps with a bit past the lists, or a level's bit without its lists' bits: not read
     * further (alloc_heap_check reports them).
     */
    fl_map_t fl_map = t->fl_map;
    unsigned fl = fl_map != 0 && (fl_map & ~FL_MAP_BITS) == 0 ? msb(fl_map) : FL_COUNT;
    uint32_t sl_map = fl < FL_COUNT ? t->sl_map[fl] : 0;
    if (sl_map != 0 && (sl_map & ~SL_MAP_BITS) == 0) {
        unsigned sl = 31u - (unsigned)__builtin_clz(sl_map);
        size_t n = 0;
        block_t *max = NULL;
        for (block_t *b = LIST_HEAD(t, fl, sl); b != NULL && n <= h->free_blocks;
             b = blk_links(b)->next, n++) {
            if (!free_node_ok(h, b))
                break; /* alloc_heap_check reports it */
            if (max == NULL || blk_size(b) > blk_size(max))
                max = b;
        }
        if (max != NULL && blk_size(max) > best) {
            best = blk_size(max);
            block_t *head = LIST_HEAD(t, fl, sl);
            if (max != head && head_may_be_filed_before(h, head) &&
                (!ALLOC_CHECK_LINKS || links_ok(h, max, fl, sl))) {
                remove_free(h, max, fl, sl);
                insert_free(h, max);
            }
        }
    }
#if QUICK_BINS > 0
    for (unsigned i = QUICK_BINS; i-- > 0;) {
        if (t->quick[i] != NULL) {
            size_t qs = quick_block_size(i);
            if (qs > best)
                best = qs;
            break;
        }
    }
#endif
    return best != 0 ? best - HDR : 0;
}

static enum alloc_error alloc_tlsf_check(alloc_heap *h, size_t nfree, size_t nquick,
                                         const void **bad) {
    const struct tlsf_state *t = tlsf_of(h);
    size_t seen = 0;
    *bad = h;
    if ((t->fl_map & ~FL_MAP_BITS) != 0)
        return ALLOC_ERR_CORRUPTED_FREE_LIST;
    /*
     * The walk has checked that the END marker's prev word is the last block's size and its
     * PREV_FREE bit that block's state: the top block is that block exactly when it is FREE
     * (with TOP_BLOCK; else there is none, and that block is on its list).
     */
    const block_t *end = blk_at(h->end);
    const block_t *last_free = blk_prev_free(end) ? blk_prev(end) : NULL;
    if (t->top != (TOP_BLOCK ? last_free : NULL)) {
        *bad = t->top != NULL ? (const void *)t->top : (const void *)last_free;
        return ALLOC_ERR_CORRUPTED_FREE_LIST;
    }
    if (t->top != NULL)
        seen++;
    for (unsigned fl = 0; fl < FL_COUNT; fl++) {
        bool fl_bit = (t->fl_map >> fl) & 1u;
        if (fl_bit != (t->sl_map[fl] != 0) || (t->sl_map[fl] & ~SL_MAP_BITS) != 0)
            return ALLOC_ERR_CORRUPTED_FREE_LIST;
        for (unsigned sl = 0; sl < SL_COUNT; sl++) {
            bool sl_bit = (t->sl_map[fl] >> sl) & 1u;
            const block_t *b = LIST_HEAD(t, fl, sl);
            if (sl_bit != (b != NULL))
                return ALLOC_ERR_CORRUPTED_FREE_LIST;
            const block_t *prev = NULL;
            for (; b != NULL; prev = b, b = blk_links(b)->next) {
                unsigned bfl, bsl;
                if (!free_node_ok(h, b)) {
                    *bad = b;
                    return ALLOC_ERR_CORRUPTED_FREE_LIST;
                }
                block_list(b, &bfl, &bsl);
                if (bfl != fl || bsl != sl || blk_links(b)->prev != prev || b == t->top ||
                    ++seen > nfree) {
                    *bad = b;
                    return ALLOC_ERR_CORRUPTED_FREE_LIST;
                }
            }
        }
    }
    if (seen != nfree)
        return ALLOC_ERR_CORRUPTED_FREE_LIST;
    size_t quick_seen = 0;
#if QUICK_BINS > 0
    for (unsigned i = 0; i < QUICK_BINS; i++) {
        size_t size = quick_block_size(i), count = 0;
        if (t->quick_count[i] > ALLOC_QUICK_BIN_LIMIT || (!h->quick_enabled && t->quick[i]))
            return ALLOC_ERR_CORRUPTED_FREE_LIST;
        for (const block_t *b = t->quick[i]; b != NULL; b = blk_links(b)->next) {
            if (!quick_node_ok(h, b, size) || ++count > t->quick_count[i]) {
                *bad = b;
                return ALLOC_ERR_CORRUPTED_FREE_LIST;
            }
        }
        if (count != t->quick_count[i])
            return ALLOC_ERR_CORRUPTED_FREE_LIST;
        quick_seen += count;
    }
#endif
    if (quick_seen != nquick)
        return ALLOC_ERR_CORRUPTED_FREE_LIST;
    return ALLOC_OK;
}

/*
 * With quick lists, their part of a path is kept apart from the rest, so that a call that skips
 * them saves none of the registers they need; without, there is nothing to keep apart.
 */
#if QUICK_BINS > 0
#define QUICK_APART __attribute__((noinline))
#else
#define QUICK_APART inline
#endif

/*
 * The TLSF lists again once the quick lists are flushed into them: out of line, so that the
 * flush's loop does not make every call of alloc_tlsf_alloc save the registers it needs. A flush
 * that leaves quick blocks has stopped at a damaged one, reported: no block then is REFUSED, so
 * that no retry of the caller's meets it and reports it again.
 */
static __attribute__((noinline)) block_t *tlsf_alloc_flushed(alloc_heap *h, size_t size,
                                                             size_t align) {
    block_t *b = alloc_tlsf_flush_quick(h) ? alloc_tlsf_alloc(h, size, align, false) : NULL;
    return QUICK_BINS > 0 && b == NULL && quick_held(h) != 0 ? REFUSED : b;
}

/*
 * A quick list's block b, taken by tlsf_alloc_op for a caller that hands it out as any block of the
 * lists (account_taken): taken off taken_blocks, where a QUICK block is counted already, so that
 * the hand-out's count leaves it as it was. Returns b.
 */
static inline block_t *quick_handed(alloc_heap *h, block_t *b) {
    h->taken_blocks--;
    return b;
}

#if ALLOC_FAST_PATHS
#if QUICK_BINS > 0
/*
 * tlsf_alloc_op's report of the corrupted head of quick list i, which quick_pop_silent has refused
 * (changing nothing), then the request's TLSF lists, as quick_pop's report and the lists after it
 * do in the build for size's tlsf_alloc_op: out of line and reached by a tail call, so that this
 * tlsf_alloc_op calls nothing of its own and needs no stack frame. No flush (it would meet the
 * damaged list and report it again), and no block is REFUSED, so that no retry of the caller's
 * meets it either.
 */
static __attribute__((noinline, cold)) block_t *quick_report_plain(alloc_heap *h, size_t size,
                                                                   size_t i) {
    alloc_report(h, ALLOC_ERR_CORRUPTED_FREE_LIST, tlsf_of(h)->quick[i]);
    block_t *b = tlsf_alloc_plain(h, size, 0);
    return b != NULL ? b : REFUSED;
}
#endif

/*
 * The allocation slow path: an aligned request (align above GRANULE: every align is a power of two
 * of at least GRANULE) to tlsf_alloc_aligned at once, a plain one to its quick list if try_cache,
 * then to tlsf_alloc_plain, each by a tail call: no trampoline between (as the build for size's
 * tlsf_alloc_lists is, whose alloc_tlsf_alloc tests the alignment a second time). The quick list's
 * head is taken silently (quick_pop_silent) and a list it leaves not empty, its head corrupted,
 * reported by quick_report_plain, a tail call. The tests (the alignment, the size, try_cache) are
 * kept apart by empty asms: else clang joins them into flag arithmetic (setcc, and, one branch),
 * longer on every way.
 */
static block_t *tlsf_alloc_op(alloc_heap *h, size_t size, size_t align, bool try_cache) {
    if (align > GRANULE)
        return tlsf_alloc_aligned(h, size, align, true);
#if QUICK_BINS > 0
    __asm__("" : "+r"(size));
    if (size <= QUICK_MAX_BLOCK) {
        __asm__("" : "+r"(size));
        if (try_cache) {
            size_t i = quick_index(size);
            block_t *b = quick_pop_silent(h, i);
            if (b != NULL)
                return quick_handed(h, b);
            if (!quick_empty(h, i))
                return quick_report_plain(h, size, i);
        }
    }
#else
    (void)try_cache;
#endif
    return tlsf_alloc_plain(h, size, align); /* GRANULE: flush (see tlsf_alloc_plain) */
}
#else
/* The TLSF lists, then again after a flush; apart from a quick-list hit (QUICK_APART). */
static QUICK_APART block_t *tlsf_alloc_lists(alloc_heap *h, size_t size, size_t align) {
    return alloc_tlsf_alloc(h, size, align, true);
}

/* The allocation slow path: quick list, then the TLSF lists. */
static block_t *tlsf_alloc_op(alloc_heap *h, size_t size, size_t align, bool try_cache) {
    block_t *b = align == GRANULE && try_cache ? quick_pop(h, size) : NULL;
    return b != NULL ? quick_handed(h, b) : tlsf_alloc_lists(h, size, align);
}
#endif

#if RELOCATE_NODES
/*
 * release_block's one copy, out of line: the release of tlsf_release_op and release_cached without
 * a quick list, and of a run's block given back (tlsf.h), which calls it directly.
 */
__attribute__((noinline)) bool tlsf_release_run(alloc_heap *h, block_t *b) {
    return release_block(h, b);
}
#define release_uncached tlsf_release_run
#else
#define release_uncached release_block
#endif

/*
 * A release that may go on a quick list; else release_block's, by a tail call: one copy of its
 * dispatch (it had one of its own here, inlined, 522 bytes of x86-64 code at -O2, for a path that
 * free's fast path leaves to heap.c's quick_push and no trace takes).
 */
static QUICK_APART bool release_cached(alloc_heap *h, block_t *b) {
    if (h->quick_enabled && quick_push(h, b, poison_free(h))) {
        /* Still taken, as QUICK: the count the caller's account_given takes it off again. */
        h->taken_blocks++;
        return true;
    }
    return release_uncached(h, b);
}

/* The strategy's release. */
static __attribute__((noinline)) bool tlsf_release_op(alloc_heap *h, block_t *b, bool try_cache) {
    return try_cache && QUICK_BINS > 0 ? release_cached(h, b) : release_uncached(h, b);
}

#if QUICK_BINS > 0 && ALLOC_FAST_PATHS
/*
 * release_block's dispatch for alloc_free's fast path (tlsf.h), with no test of the poisoning (its
 * heap does not poison on free) and b's size from the caller's `usable`, not read again: a block
 * that merges with nothing filed here as release_block files it, each merge reached by a tail call
 * (free_next_listed, free_next_top, free_prev, free_both, free_both_top). The block is accounted
 * first, for every way, and a merge whose check fails gives it back before it reports
 * (merge_failed_error: the hook sees the statistics as they were, and nothing stays accounted), so
 * that the release needs no frame to account after the merge, and the merges account nothing.
 */
enum alloc_error tlsf_free_block(alloc_heap *h, block_t *b, size_t usable) {
    size_t s = usable + HDR;
    block_t *next = blk_at((uintptr_t)b + s);
    account_given(h, usable); /* given back by merge_failed_error where a merge's check fails */
    if (!blk_prev_free(b)) {
        if (blk_state(next) != ST_FREE) {
            /* As release_block files it (b's word checked by free's pointer validation). */
            b->size ^= flip_low_bits(ST_USED ^ ST_FREE);
            /* A damaged head's filing ended by a tail call. */
            unsigned fl, sl;
            if (!file_free_sound(h, b, s, next, &fl, &sl))
                return freed_past_damaged_head(h, b, fl * SL_COUNT + sl, next, 0, true);
            set_prev_free(next);
            return ALLOC_OK;
        }
        return next == tlsf_of(h)->top ? free_next_top(h, b, s, next, usable)
                                       : free_next_listed(h, b, s, next, usable);
    }
    if (blk_state(next) != ST_FREE)
        return free_prev(h, b, s, next, usable);
    return next == tlsf_of(h)->top ? free_both_top(h, b, s, next, usable)
                                   : free_both(h, b, s, next, usable);
}
#endif

#if QUICK_BINS > 0
/*
 * alloc_tlsf_resize's growth into a successor on a quick list: merges that block into the lists
 * (with its free neighbours) and tries again, or returns 0. Out of line and reached by a tail
 * call, so that a resize that never meets a quick-listed successor pays nothing for it (no
 * wrapper around every resize, as the strategy's resize had before).
 */
static __attribute__((noinline)) int resize_into_quick(alloc_heap *h, block_t *b, size_t size) {
    return alloc_tlsf_unquick(h, blk_next(b)) ? alloc_tlsf_resize(h, b, size) : 0;
}
#endif

const struct alloc_strategy_ops alloc_tlsf_ops = {
    .strategy = ALLOC_STRATEGY_TLSF,
    .state_size = sizeof(struct tlsf_state),
    .alloc = tlsf_alloc_op,
    .release = tlsf_release_op,
    .resize = alloc_tlsf_resize,
};

const struct alloc_strategy_inspect alloc_tlsf_inspect = {
    .largest_free = alloc_tlsf_largest_free,
    .check = alloc_tlsf_check,
};

#endif /* TLSF_COMPILED_IN */
