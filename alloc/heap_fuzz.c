/*
 * alloc/heap_fuzz.c - libFuzzer target: the input bytes choose a strategy, a region size and a
 * sequence of heap operations (allocate, aligned allocate, batch, calloc, free, realloc, extend,
 * and bad frees: misaligned, interior (aligned, inside a live block), double, foreign). After
 * every operation it traps if alloc_heap_check fails, two live blocks overlap, a block is
 * misaligned, a block's contents changed, the statistics disagree with the live blocks or the
 * heap's walk, or a bad free was not reported (as the error expected, once, the statistics
 * unchanged).
 *
 *   bazel run --config=fuzz //alloc:heap_fuzzer -- -max_total_time=60
 *
 * Built with -DALLOC_FUZZ_STANDALONE it has its own main() that runs the inputs named on the
 * command line, or else a fixed number of pseudo-random inputs (the heap_fuzz_smoke_test).
 */
#include "alloc/config.h"
#include "alloc/heap.h"
#include "alloc/testing/fixture.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGION_CAP (192u * 1024u)
#define SLOTS      64

struct slot {
    unsigned char *p;
    size_t n;
    unsigned char tag;
};

static _Alignas(4096) unsigned char region[REGION_CAP];
static struct slot slots[SLOTS];
static alloc_heap *heap;
static size_t reports;
static enum alloc_error last_error;

static void hook(void *ctx, enum alloc_error error, const void *ptr) {
    (void)ctx;
    (void)ptr;
    reports++;
    last_error = error;
}

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "heap_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond);                  \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

struct input {
    const uint8_t *data;
    size_t size;
    size_t pos;
};

static unsigned byte(struct input *in) {
    return in->pos < in->size ? in->data[in->pos++] : 0;
}

static size_t size16(struct input *in) {
    size_t v = byte(in);
    v |= (size_t)byte(in) << 8;
    return v >> (v & 7); /* favour small sizes */
}

static void fill(struct slot *s) {
    for (size_t i = 0; i < s->n; i++)
        s->p[i] = (unsigned char)(s->tag + i);
}

static int intact(const struct slot *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s->p[i] != (unsigned char)(s->tag + i))
            return 0;
    }
    return 1;
}

/* Whether this input's heap serves small requests from header-less run slots. */
static bool runs_on;

/* Bytes of header in front of a live block of usable size u. */
static size_t header_bytes(size_t u) {
    return runs_on && u <= ALLOC_RUN_MAX_SIZE ? 0 : ALLOC_BLOCK_OVERHEAD;
}

static void verify_all(size_t region_size) {
    REQUIRE(alloc_heap_check(heap) == ALLOC_OK);
    REQUIRE(reports == 0);
    struct alloc_stats st;
    alloc_heap_stats(heap, &st);
    size_t live = 0, in_use = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        const struct slot *a = &slots[i];
        if (a->p == NULL)
            continue;
        live++;
        size_t ua = alloc_usable_size(heap, a->p);
        in_use += ua;
        REQUIRE(ua >= a->n);
        REQUIRE((uintptr_t)a->p % 16 == 0);
        REQUIRE(a->p >= region && a->p + ua <= region + region_size);
        for (size_t j = i + 1; j < SLOTS; j++) {
            const struct slot *b = &slots[j];
            if (b->p == NULL)
                continue;
            size_t ub = alloc_usable_size(heap, b->p);
            /* Payload plus the header in front of it (run slots have none) must not overlap. */
            REQUIRE(a->p + ua <= b->p - header_bytes(ub) || b->p + ub <= a->p - header_bytes(ua));
        }
    }
    REQUIRE(st.live_allocations == live);
    REQUIRE(st.bytes_in_use == in_use);
    REQUIRE(st.region_size == region_size);
    /* Free bytes and free blocks as the heap's walk counts them (overhead is what is left). */
    char why[320];
    const char *mismatch = fixture_stats_mismatch(heap, why, sizeof(why));
    if (mismatch != NULL) {
        fprintf(stderr, "heap_fuzz: %s\n", mismatch);
        __builtin_trap();
    }
}

static void expect_report(void *p, enum alloc_error want) {
    struct alloc_stats before, after;
    alloc_heap_stats(heap, &before);
    REQUIRE(alloc_free(heap, p) == want);
    REQUIRE(reports == 1 && last_error == want);
    reports = 0;
    alloc_heap_stats(heap, &after);
    REQUIRE(memcmp(&before, &after, sizeof(after)) == 0);
}

/* A batch of up to 3 blocks of n bytes into empty slot s and the next empty ones; returns the next
 * tag. */
static unsigned allocate_batch(struct slot *s, size_t n, unsigned tag) {
    struct slot *into[3];
    size_t want = 0;
    for (size_t i = 0; i < SLOTS && want < 3; i++) {
        struct slot *c = &slots[((size_t)(s - slots) + i) % SLOTS];
        if (c->p == NULL)
            into[want++] = c;
    }
    void *got[3];
    size_t k = alloc_allocate_batch(heap, n, got, want);
    REQUIRE(k <= want);
    for (size_t i = 0; i < k; i++) {
        into[i]->p = got[i];
        into[i]->n = n;
        into[i]->tag = (unsigned char)tag++;
        fill(into[i]);
    }
    return tag;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct input in = {data, size, 0};
    unsigned mode = byte(&in);
    struct alloc_config cfg = {
        .strategy = (mode & 1) ? ALLOC_STRATEGY_FIRST_FIT : ALLOC_STRATEGY_TLSF,
        .flags = ((mode & 2) ? ALLOC_FLAG_NO_QUICK_CACHE : 0) |
                 ((mode & 4) ? ALLOC_FLAG_POISON_ON_FREE : 0) |
                 ((mode & 8) ? ALLOC_FLAG_NO_SMALL_RUNS : 0),
        .error_hook = hook,
    };
    runs_on = cfg.strategy == ALLOC_STRATEGY_TLSF && (cfg.flags & ALLOC_FLAG_NO_SMALL_RUNS) == 0;
    size_t region_size = alloc_min_region_size(cfg.strategy) + size16(&in) * 2 + byte(&in);
    if (region_size > REGION_CAP / 2)
        region_size = REGION_CAP / 2;
    memset(slots, 0, sizeof(slots));
    reports = 0;
    if (alloc_heap_init(&heap, region, region_size, &cfg) != ALLOC_OK)
        __builtin_trap();
    unsigned char *last_freed = NULL;
    unsigned tag = 1;

    while (in.pos < in.size) {
        unsigned op = byte(&in);
        struct slot *s = &slots[byte(&in) % SLOTS];
        switch (op % 8) {
        case 0:
        case 1:
        case 2:
            if (s->p == NULL && op % 8 == 0 && (op & 0x80) != 0) {
                tag = allocate_batch(s, size16(&in), tag);
            } else if (s->p == NULL) {
                size_t n = size16(&in);
                if (op % 8 == 0) {
                    s->p = alloc_malloc(heap, n);
                } else if (op % 8 == 1) {
                    size_t align = (size_t)1 << (byte(&in) % 14);
                    s->p = alloc_allocate(heap, n, align);
                    REQUIRE(s->p == NULL || (uintptr_t)s->p % align == 0);
                } else {
                    size_t count = byte(&in) % 16;
                    n = count == 0 ? 0 : n / count * count;
                    s->p = alloc_calloc(heap, count, count == 0 ? 0 : n / count);
                    for (size_t i = 0; s->p != NULL && i < n; i++)
                        REQUIRE(s->p[i] == 0);
                }
                s->n = n;
                s->tag = (unsigned char)tag++;
                if (s->p != NULL)
                    fill(s);
            }
            break;
        case 3:
            if (s->p != NULL) {
                REQUIRE(intact(s, s->n));
                REQUIRE(alloc_free(heap, s->p) == ALLOC_OK);
                last_freed = s->p;
                s->p = NULL;
            }
            break;
        case 4:
            if (s->p != NULL) {
                size_t n = size16(&in);
                REQUIRE(intact(s, s->n));
                unsigned char *q = alloc_realloc(heap, s->p, n);
                if (q != NULL) {
                    s->p = q;
                    REQUIRE(intact(s, n < s->n ? n : s->n));
                    s->n = n;
                    fill(s);
                } else {
                    REQUIRE(intact(s, s->n));
                }
            }
            break;
        case 5: {
            size_t grow = size16(&in);
            if (region_size + grow <= REGION_CAP) {
                enum alloc_error e = alloc_heap_extend(heap, grow);
                REQUIRE(e == ALLOC_OK || e == ALLOC_ERR_REGION_TOO_SMALL);
                if (e == ALLOC_OK)
                    region_size += grow;
            }
            break;
        }
        case 6: {
            size_t usable = s->p != NULL ? alloc_usable_size(heap, s->p) : 0;
            if ((op & 0x80) != 0 && usable > 16) {
                /* Interior: an aligned pointer inside the live block, whose would-be header (the
                 * 16 bytes before it, payload) is zeroed, as a fresh block's contents may be. */
                size_t granules = (usable - 1) / 16;
                unsigned char *interior = s->p + 16 * (1 + byte(&in) % granules);
                unsigned char saved[16];
                memcpy(saved, interior - 16, 16);
                memset(interior - 16, 0, 16);
                expect_report(interior, ALLOC_ERR_FOREIGN_POINTER);
                memcpy(interior - 16, saved, 16);
            } else if (s->p != NULL) {
                expect_report(s->p + 1 + byte(&in) % 15, ALLOC_ERR_MISALIGNED_POINTER);
            } else {
                _Alignas(16) unsigned char local[32];
                expect_report(local, ALLOC_ERR_FOREIGN_POINTER);
            }
            break;
        }
        case 7:
            if (last_freed != NULL) {
                /* Skip if the address is live again (then the free would be legitimate). */
                int live = 0;
                for (size_t i = 0; i < SLOTS; i++) {
                    if (slots[i].p != NULL && last_freed >= slots[i].p - 16 &&
                        last_freed < slots[i].p + alloc_usable_size(heap, slots[i].p))
                        live = 1;
                }
                if (!live) {
                    enum alloc_error e = alloc_free(heap, last_freed);
                    REQUIRE(e == ALLOC_ERR_DOUBLE_FREE || e == ALLOC_ERR_FOREIGN_POINTER);
                    REQUIRE(reports == 1);
                    reports = 0;
                }
            }
            break;
        default: /* unreachable: op % 8 */
            break;
        }
        verify_all(region_size);
    }
    for (size_t i = 0; i < SLOTS; i++) {
        if (slots[i].p != NULL) {
            REQUIRE(intact(&slots[i], slots[i].n));
            REQUIRE(alloc_free(heap, slots[i].p) == ALLOC_OK);
            slots[i].p = NULL;
        }
    }
    verify_all(region_size);
    return 0;
}

#ifdef ALLOC_FUZZ_STANDALONE
/* Runs the files named in argv, or 300 pseudo-random inputs of up to 2 KiB. */
int main(int argc, char **argv) {
    static uint8_t buf[1 << 16];
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            FILE *f = fopen(argv[i], "rb");
            if (f == NULL)
                return 2;
            size_t n = fread(buf, 1, sizeof(buf), f);
            fclose(f);
            LLVMFuzzerTestOneInput(buf, n);
        }
        printf("%d passed, 0 failed\n", argc - 1);
        return 0;
    }
    uint64_t x = 0x243f6a8885a308d3ull;
    int runs = 300;
    for (int r = 0; r < runs; r++) {
        size_t n = 1 + (size_t)(x % 2048);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("heap_fuzz: %d pseudo-random inputs ok\n%d passed, 0 failed\n", runs, runs);
    return 0;
}
#endif
