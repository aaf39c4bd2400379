/*
 * frame_allocator.c - bitmap physical frame allocator (design notes in frame_allocator.h).
 *
 * Internally everything is counted in frame numbers (address >> 12) so that aligning a range
 * inward or outward can never overflow a 64-bit address.
 */
#include "paging/frame_allocator.h"

#define BITS_PER_WORD   64u
#define LOW_LIMIT_FRAME (FRAME_ALLOCATOR_LOW_LIMIT >> PAGING_PAGE_SHIFT)
#define PHYS_END_FRAME  (PAGING_PHYS_LIMIT >> PAGING_PAGE_SHIFT)

/* Frame numbers [first, end) of the whole frames inside a usable region, clamped to
 * [1 MiB, PAGING_PHYS_LIMIT). Returns false when the region holds no such frame. */
static bool usable_frames(const struct frame_allocator_usable_region *r, uint64_t *first,
                          uint64_t *end) {
    uint64_t f = (r->base >> PAGING_PAGE_SHIFT) + ((r->base & (PAGING_PAGE_SIZE - 1)) != 0);
    uint64_t e = (r->base + r->length) >> PAGING_PAGE_SHIFT; /* caller checked the sum */
    if (f < LOW_LIMIT_FRAME) {
        f = LOW_LIMIT_FRAME;
    }
    if (e > PHYS_END_FRAME) {
        e = PHYS_END_FRAME;
    }
    *first = f;
    *end = e;
    return f < e;
}

/* Frame numbers [first, end) touched by a reserved range (grown outward). Returns false when
 * the range is empty: grown outward, its one point inside a frame would take that frame. */
static bool reserved_frames(const struct frame_allocator_reserved_range *r, uint64_t *first,
                            uint64_t *end) {
    *first = r->start >> PAGING_PAGE_SHIFT;
    *end = (r->end >> PAGING_PAGE_SHIFT) + ((r->end & (PAGING_PAGE_SIZE - 1)) != 0);
    return r->start < r->end;
}

static bool region_wraps(const struct frame_allocator_usable_region *r) {
    return r->length > UINT64_MAX - r->base;
}

/* Span [*first, *end) in frame numbers over every usable region. Returns false if none. */
static bool usable_span(const struct frame_allocator_usable_region *usable, size_t count,
                        uint64_t *first, uint64_t *end) {
    uint64_t lo = UINT64_MAX;
    uint64_t hi = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t f;
        uint64_t e;
        if (region_wraps(&usable[i]) || !usable_frames(&usable[i], &f, &e)) {
            continue;
        }
        lo = f < lo ? f : lo;
        hi = e > hi ? e : hi;
    }
    *first = lo;
    *end = hi;
    return lo < hi;
}

/* Words in each bitmap for a span of @frames. Counted in 64 bits: a span reaches 2^40 frames,
 * 2^34 words, more than a 32-bit size_t holds. */
static uint64_t words_for(uint64_t frames) {
    return (frames + BITS_PER_WORD - 1) / BITS_PER_WORD;
}

/* Whether both bitmaps of @words words each fit in the address space: their size in bytes is a
 * size_t. Always true on a 64-bit host; false on a 32-bit one for a span of 2^34 frames or more. */
static bool bitmaps_addressable(uint64_t words) {
    return words <= SIZE_MAX / (2 * sizeof(uint64_t));
}

size_t frame_allocator_storage_words(const struct frame_allocator_usable_region *usable,
                                     size_t count) {
    uint64_t first;
    uint64_t end;
    if (usable == NULL) {
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        if (region_wraps(&usable[i])) {
            return 0;
        }
    }
    if (!usable_span(usable, count, &first, &end)) {
        return 0;
    }
    uint64_t words = words_for(end - first);
    return bitmaps_addressable(words) ? (size_t)(2 * words) : SIZE_MAX;
}

/* Sets (value true) or clears bits [from, to) of a bitmap. */
static void assign_bits(uint64_t *bits, uint64_t from, uint64_t to, bool value) {
    while (from < to) {
        uint64_t w = from / BITS_PER_WORD;
        uint64_t bit = from % BITS_PER_WORD;
        uint64_t n = BITS_PER_WORD - bit;
        if (n > to - from) {
            n = to - from;
        }
        uint64_t mask = (n == BITS_PER_WORD ? ~UINT64_C(0) : ((UINT64_C(1) << n) - 1)) << bit;
        if (value) {
            bits[w] |= mask;
        } else {
            bits[w] &= ~mask;
        }
        from += n;
    }
}

/* Clears the bits of frames [first, end) that fall inside the span. */
static void exclude_frames(struct frame_allocator *fa, uint64_t first, uint64_t end) {
    uint64_t span_first = fa->span_start >> PAGING_PAGE_SHIFT;
    uint64_t span_end = fa->span_end >> PAGING_PAGE_SHIFT;
    first = first < span_first ? span_first : first;
    end = end > span_end ? span_end : end;
    if (first < end) {
        assign_bits(fa->usable_bits, first - span_first, end - span_first, false);
    }
}

/* The end of the frames usable from frame @from on without a gap, at least @from: the usable
 * regions (whole frames, as the bitmaps take them) may touch or overlap, so one run of frames can
 * cross from one into the next, in whatever order the map lists them. Stops once past @goal. */
static uint64_t usable_run_end(const struct frame_allocator_config *cfg, uint64_t from,
                               uint64_t goal) {
    uint64_t end = from;
    bool extended = true;
    while (extended && end < goal) {
        extended = false;
        for (size_t i = 0; i < cfg->usable_count; i++) {
            uint64_t f;
            uint64_t e;
            if (usable_frames(&cfg->usable[i], &f, &e) && f <= end && end < e) {
                end = e;
                extended = true;
            }
        }
    }
    return end;
}

/* Whether frames [first, first + needed) are all usable and touch no reserved range. */
static bool storage_run_fits(const struct frame_allocator_config *cfg, uint64_t first,
                             uint64_t needed) {
    if (usable_run_end(cfg, first, first + needed) < first + needed) {
        return false;
    }
    for (size_t j = 0; j < cfg->reserved_count; j++) {
        uint64_t rf;
        uint64_t re;
        if (reserved_frames(&cfg->reserved[j], &rf, &re) && rf < first + needed && first < re) {
            return false;
        }
    }
    return true;
}

/* Takes frame @first as the lowest start found so far (*best, 0 for none yet) if it is lower and
 * a run of @needed frames from it fits. */
static void try_storage_start(const struct frame_allocator_config *cfg, uint64_t first,
                              uint64_t needed, uint64_t *best) {
    if ((*best == 0 || first < *best) && storage_run_fits(cfg, first, needed)) {
        *best = first;
    }
}

/* Finds the lowest run of @needed usable frames that touches no reserved range, within one usable
 * region or across touching or overlapping ones. The lowest such run starts where the frame before
 * it is not usable (at the first frame of some region) or is reserved (at the end of a reserved
 * range), so only those frames are tried. Returns its first frame number, or 0 when there is none
 * (frame 0 is never usable). */
static uint64_t find_storage_run(const struct frame_allocator_config *cfg, uint64_t needed) {
    uint64_t best = 0;
    for (size_t i = 0; i < cfg->usable_count; i++) {
        uint64_t first;
        uint64_t end;
        if (usable_frames(&cfg->usable[i], &first, &end)) {
            try_storage_start(cfg, first, needed, &best);
        }
    }
    for (size_t j = 0; j < cfg->reserved_count; j++) {
        uint64_t first;
        uint64_t end;
        if (reserved_frames(&cfg->reserved[j], &first, &end)) {
            try_storage_start(cfg, end, needed, &best);
        }
    }
    return best;
}

/* A pointer through which the @needed frames from frame number @run can all be written, or NULL.
 * The bitmaps are written as one array, so every frame of the run must be reached, at the address
 * the first one's pointer implies: a direct map that ends (or jumps) inside the run would
 * otherwise have the bitmaps written past it. */
static uint64_t *reach_run(const struct frame_allocator_config *cfg, uint64_t run,
                           uint64_t needed) {
    void *base = cfg->phys_to_virt(cfg->ctx, run << PAGING_PAGE_SHIFT);
    if (base == NULL) {
        return NULL;
    }
    for (uint64_t i = 1; i < needed; i++) {
        void *frame = cfg->phys_to_virt(cfg->ctx, (run + i) << PAGING_PAGE_SHIFT);
        /* Compared as integers: base + i frames need not lie inside any object. */
        if (frame == NULL || (uintptr_t)frame != (uintptr_t)base + i * PAGING_PAGE_SIZE) {
            return NULL;
        }
    }
    return base;
}

static enum frame_allocator_error validate_config(const struct frame_allocator_config *cfg) {
    if ((cfg->usable == NULL && cfg->usable_count > 0) ||
        (cfg->reserved == NULL && cfg->reserved_count > 0)) {
        return FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT;
    }
    if ((cfg->storage == NULL || cfg->poison_on_free) && cfg->phys_to_virt == NULL) {
        return FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < cfg->usable_count; i++) {
        if (region_wraps(&cfg->usable[i])) {
            return FRAME_ALLOCATOR_ERR_BAD_RANGE;
        }
    }
    for (size_t i = 0; i < cfg->reserved_count; i++) {
        if (cfg->reserved[i].start > cfg->reserved[i].end) {
            return FRAME_ALLOCATOR_ERR_BAD_RANGE;
        }
    }
    return FRAME_ALLOCATOR_OK;
}

enum frame_allocator_error frame_allocator_init(struct frame_allocator *fa,
                                                const struct frame_allocator_config *cfg) {
    if (fa == NULL || cfg == NULL) {
        return FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT;
    }
    __builtin_memset(fa, 0, sizeof *fa);
    enum frame_allocator_error err = validate_config(cfg);
    if (err != FRAME_ALLOCATOR_OK) {
        return err;
    }
    uint64_t span_first;
    uint64_t span_end;
    if (!usable_span(cfg->usable, cfg->usable_count, &span_first, &span_end)) {
        return FRAME_ALLOCATOR_ERR_NO_USABLE_MEMORY;
    }
    uint64_t span_words = words_for(span_end - span_first);
    if (!bitmaps_addressable(span_words)) {
        /* No storage this size can exist here, given or carved (32-bit hosts only). */
        return cfg->storage != NULL ? FRAME_ALLOCATOR_ERR_STORAGE_TOO_SMALL
                                    : FRAME_ALLOCATOR_ERR_NO_ROOM_FOR_STORAGE;
    }
    size_t words = (size_t)span_words;

    uint64_t *storage = cfg->storage;
    if (storage != NULL) {
        if (cfg->storage_words < 2 * words) {
            return FRAME_ALLOCATOR_ERR_STORAGE_TOO_SMALL;
        }
    } else {
        uint64_t bytes = (uint64_t)words * 2 * sizeof(uint64_t);
        uint64_t needed = (bytes + PAGING_PAGE_SIZE - 1) / PAGING_PAGE_SIZE;
        uint64_t run = find_storage_run(cfg, needed);
        if (run == 0) {
            /* Not a single frame is what is missing when no run of one exists either. */
            return find_storage_run(cfg, 1) == 0 ? FRAME_ALLOCATOR_ERR_NO_USABLE_MEMORY
                                                 : FRAME_ALLOCATOR_ERR_NO_ROOM_FOR_STORAGE;
        }
        storage = reach_run(cfg, run, needed);
        if (storage == NULL) {
            return FRAME_ALLOCATOR_ERR_NO_ROOM_FOR_STORAGE;
        }
        fa->storage_start = run << PAGING_PAGE_SHIFT;
        fa->storage_end = (run + needed) << PAGING_PAGE_SHIFT;
    }

    fa->free_bits = storage;
    fa->usable_bits = storage + words;
    fa->words = words;
    fa->span_start = span_first << PAGING_PAGE_SHIFT;
    fa->span_end = span_end << PAGING_PAGE_SHIFT;
    fa->phys_to_virt = cfg->phys_to_virt;
    fa->ctx = cfg->ctx;
    fa->poison_on_free = cfg->poison_on_free;
    fa->panic = cfg->panic;

    __builtin_memset(fa->usable_bits, 0, words * sizeof(uint64_t));
    for (size_t i = 0; i < cfg->usable_count; i++) {
        uint64_t f;
        uint64_t e;
        if (usable_frames(&cfg->usable[i], &f, &e)) {
            assign_bits(fa->usable_bits, f - span_first, e - span_first, true);
        }
    }
    for (size_t i = 0; i < cfg->reserved_count; i++) {
        uint64_t f;
        uint64_t e;
        if (reserved_frames(&cfg->reserved[i], &f, &e)) {
            exclude_frames(fa, f, e);
        }
    }
    if (fa->storage_end != 0) {
        exclude_frames(fa, fa->storage_start >> PAGING_PAGE_SHIFT,
                       fa->storage_end >> PAGING_PAGE_SHIFT);
    }
    __builtin_memcpy(fa->free_bits, fa->usable_bits, words * sizeof(uint64_t));

    for (size_t w = 0; w < words; w++) {
        fa->usable_frames += (uint64_t)__builtin_popcountll(fa->usable_bits[w]);
    }
    if (fa->usable_frames == 0) {
        return FRAME_ALLOCATOR_ERR_NO_USABLE_MEMORY;
    }
    return FRAME_ALLOCATOR_OK;
}

uint64_t frame_allocator_allocate(struct frame_allocator *fa) {
    for (size_t w = fa->hint; w < fa->words; w++) {
        uint64_t bits = fa->free_bits[w];
        if (bits != 0) {
            unsigned bit = (unsigned)__builtin_ctzll(bits);
            fa->free_bits[w] = bits & (bits - 1);
            fa->hint = w;
            fa->allocated_frames++;
            return fa->span_start + (((uint64_t)w * BITS_PER_WORD + bit) << PAGING_PAGE_SHIFT);
        }
    }
    fa->hint = fa->words;
    return FRAME_ALLOCATOR_NO_FRAME;
}

/* Calls the configured panic hook (which must not return), or traps. */
_Noreturn static void fail(const struct frame_allocator *fa, const char *message) {
    if (fa->panic != NULL) {
        fa->panic(fa->ctx, message);
    }
    __builtin_trap();
}

/* Bit index of the frame holding @phys, or false when it lies outside the span. */
static bool bit_of(const struct frame_allocator *fa, uint64_t phys, uint64_t *bit) {
    if (phys < fa->span_start || phys >= fa->span_end) {
        return false;
    }
    *bit = (phys - fa->span_start) >> PAGING_PAGE_SHIFT;
    return true;
}

static bool test_bit(const uint64_t *bits, uint64_t bit) {
    return (bits[bit / BITS_PER_WORD] >> (bit % BITS_PER_WORD)) & 1u;
}

enum frame_allocator_error frame_allocator_free(struct frame_allocator *fa, uint64_t phys) {
    uint64_t bit;
    if (phys % PAGING_PAGE_SIZE != 0) {
        return FRAME_ALLOCATOR_ERR_MISALIGNED;
    }
    if (!bit_of(fa, phys, &bit) || !test_bit(fa->usable_bits, bit)) {
        return FRAME_ALLOCATOR_ERR_FOREIGN_FRAME;
    }
    if (test_bit(fa->free_bits, bit)) {
        return FRAME_ALLOCATOR_ERR_DOUBLE_FREE;
    }
    if (fa->poison_on_free) {
        void *frame = fa->phys_to_virt(fa->ctx, phys);
        if (frame == NULL) {
            fail(fa, "frame_allocator_free: phys_to_virt returned NULL for the frame to poison");
        }
        __builtin_memset(frame, FRAME_ALLOCATOR_POISON_BYTE, PAGING_PAGE_SIZE);
    }
    size_t w = (size_t)(bit / BITS_PER_WORD);
    fa->free_bits[w] |= UINT64_C(1) << (bit % BITS_PER_WORD);
    fa->allocated_frames--;
    if (w < fa->hint) {
        fa->hint = w;
    }
    return FRAME_ALLOCATOR_OK;
}

bool frame_allocator_is_allocated(const struct frame_allocator *fa, uint64_t phys) {
    uint64_t bit;
    return bit_of(fa, phys & ~(uint64_t)(PAGING_PAGE_SIZE - 1), &bit) &&
           test_bit(fa->usable_bits, bit) && !test_bit(fa->free_bits, bit);
}

struct frame_allocator_stats frame_allocator_stats(const struct frame_allocator *fa) {
    struct frame_allocator_stats s = {
        .usable_frames = fa->usable_frames,
        .allocated_frames = fa->allocated_frames,
        .free_frames = fa->usable_frames - fa->allocated_frames,
    };
    return s;
}

bool frame_allocator_check(const struct frame_allocator *fa) {
    uint64_t usable = 0;
    uint64_t free = 0;
    uint64_t span_bits = (fa->span_end - fa->span_start) >> PAGING_PAGE_SHIFT;
    for (size_t w = 0; w < fa->words; w++) {
        uint64_t u = fa->usable_bits[w];
        uint64_t f = fa->free_bits[w];
        if ((f & ~u) != 0) {
            return false; /* a free frame that may not be handed out */
        }
        if (w < fa->hint && f != 0) {
            return false; /* allocate() would skip it */
        }
        if (w == fa->words - 1 && span_bits % BITS_PER_WORD != 0 &&
            (u >> (span_bits % BITS_PER_WORD)) != 0) {
            return false; /* bits past the span */
        }
        usable += (uint64_t)__builtin_popcountll(u);
        free += (uint64_t)__builtin_popcountll(f);
    }
    return usable == fa->usable_frames && fa->allocated_frames <= usable &&
           free == usable - fa->allocated_frames;
}

static bool source_allocate(void *ctx, uint64_t *phys_out) {
    uint64_t phys = frame_allocator_allocate(ctx);
    if (phys == FRAME_ALLOCATOR_NO_FRAME) {
        return false;
    }
    *phys_out = phys;
    return true;
}

static void source_free(void *ctx, uint64_t phys) {
    struct frame_allocator *fa = ctx;
    if (frame_allocator_free(fa, phys) != FRAME_ALLOCATOR_OK) {
        fail(fa, "frame_allocator_frame_source: free of a frame not allocated");
    }
}

struct paging_frame_source frame_allocator_frame_source(struct frame_allocator *fa) {
    struct paging_frame_source source = {
        .allocate = source_allocate,
        .free = source_free,
        .ctx = fa,
    };
    return source;
}

const char *frame_allocator_error_name(enum frame_allocator_error error) {
    switch (error) {
    case FRAME_ALLOCATOR_OK:
        return "ok";
    case FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT:
        return "invalid argument";
    case FRAME_ALLOCATOR_ERR_BAD_RANGE:
        return "bad range";
    case FRAME_ALLOCATOR_ERR_NO_USABLE_MEMORY:
        return "no usable memory";
    case FRAME_ALLOCATOR_ERR_STORAGE_TOO_SMALL:
        return "storage too small";
    case FRAME_ALLOCATOR_ERR_NO_ROOM_FOR_STORAGE:
        return "no room for storage";
    case FRAME_ALLOCATOR_ERR_MISALIGNED:
        return "misaligned frame";
    case FRAME_ALLOCATOR_ERR_FOREIGN_FRAME:
        return "foreign frame";
    case FRAME_ALLOCATOR_ERR_DOUBLE_FREE:
        return "double free";
    }
    return "unknown error";
}
