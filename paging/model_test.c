/*
 * model_test.c - randomized model-based test of the mapper over the real frame allocator.
 *
 * Each run feeds pseudo-random bytes from a fixed seed to mapper_model_step (paging/testing/
 * mapper_model.h), which decodes them into map_page, map_range, unmap_page, translate and walk
 * calls on clustered addresses, with bad arguments and a frame source told to run dry now and then,
 * and checks every result and the whole state against its model after each one. Every EPOCH_OPS
 * operations the machine starts again, empty or (every other epoch) from hand-built tables with
 * 2 MiB and 1 GiB leaves and entries the maps must widen (mapper_model.h): the clusters need at
 * most 21 tables, all made within the first few hundred operations, and making them (and running
 * dry while making them) should recur. The runs differ in seed and in the frame allocator's pool:
 * 64 frames (room for every table the clusters need), and 14 and 8 (the pool itself runs out, for
 * good). A failure prints the seed, pool and operation number, and the command that replays that
 * run alone.
 *
 * At the end it checks that the runs together met every return code the model predicts (ok,
 * already mapped, not mapped, misaligned, non-canonical, physical address out of range, invalid
 * flags, invalid argument, frame allocation failed, huge page on the way), a map_range failing
 * after it linked tables for its first pages (which keep them),
 * a map widened an entry (and one added W, one cleared NX), a map given back frames it had taken
 * when the source ran dry, translations through and walks over 2 MiB and 1 GiB leaves, and each
 * kind of call refused as re-entry from a walk's callback, and translate from the frame source's
 * allocate and from a flush: a generator that
 * drifted away from a case would make the test fail rather than silently stop testing it (as
 * would runs too short: the first epoch from hand-built tables starts at operation EPOCH_OPS, so
 * runs of EPOCH_OPS operations or fewer never meet its cases; DEFAULT_OPS per seed meet them all).
 *
 * Usage: model_test [ops per run, default DEFAULT_OPS] [seed pool]: with a seed and a pool (2 to
 * MAPPER_MODEL_MAX_POOL_FRAMES frames), that one run alone and no coverage check.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "paging/mapper.h"
#include "paging/testing/mapper_model.h"

#define DEFAULT_OPS 4000
#define EPOCH_OPS   500

static const struct run {
    uint64_t seed;
    unsigned pool_frames;
} fixed_runs[] = {
    {UINT64_C(0x9a61e0001), 64}, {UINT64_C(0x9a61e0002), 64}, {UINT64_C(0x9a61e0003), 64},
    {UINT64_C(0x9a61e0004), 14}, {UINT64_C(0x9a61e0005), 8},
};

/* xorshift64*: the byte source of a run. */
static unsigned next_byte(void *ctx) {
    uint64_t *x = ctx;
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return (unsigned)((*x * UINT64_C(0x2545f4914f6cdd1d)) >> 56);
}

static struct mapper_model mm;
static size_t results[MAPPER_MODEL_OPS][PAGING_ERR_REENTERED + 1];
static size_t tables_kept, widenings, dry_refusals, peak_tables;
static size_t widened_w, widened_nx, huge_translated[2], huge_walked[2];
static size_t reentries[MAPPER_MODEL_OPS], from_allocate, from_flush;

/* Adds what the epoch that ends saw to the totals. */
static void collect(void) {
    for (int o = 0; o < MAPPER_MODEL_OPS; o++) {
        for (int r = 0; r <= PAGING_ERR_REENTERED; r++) {
            results[o][r] += mm.results[o][r];
        }
    }
    tables_kept += mm.tables_kept;
    widenings += mm.widenings;
    dry_refusals += mm.dry_refusals;
    widened_w += mm.widened_w;
    widened_nx += mm.widened_nx;
    for (int big = 0; big < 2; big++) {
        huge_translated[big] += mm.huge_translated[big];
        huge_walked[big] += mm.huge_walked[big];
    }
    for (int o = 0; o < MAPPER_MODEL_OPS; o++) {
        reentries[o] += mm.reentries[o];
    }
    from_allocate += mm.reentry.from_allocate;
    from_flush += mm.reentry.from_flush;
    peak_tables = mm.table_count > peak_tables ? mm.table_count : peak_tables;
}

static bool run(uint64_t seed, unsigned pool_frames, long ops) {
    uint64_t state = seed != 0 ? seed : 1; /* xorshift's state must not be 0 */
    struct mapper_model_bytes in = {next_byte, &state};
    for (long op = 0; op < ops; op++) {
        if (op % EPOCH_OPS == 0) {
            if (op > 0) {
                collect();
                mapper_model_destroy(&mm);
            }
            mapper_model_init(&mm, pool_frames, (op / EPOCH_OPS) % 2 == 1);
        }
        if (!mapper_model_step(&mm, &in)) {
            fprintf(stderr,
                    "model_test: FAILED seed=0x%" PRIx64 " pool=%u op=%ld: %s\n"
                    "model_test: replay: model_test %ld 0x%" PRIx64 " %u\n",
                    seed, mm.pool_frames, op, mm.failure, op + 1, seed, mm.pool_frames);
            return false;
        }
    }
    collect();
    printf("model_test: seed=0x%" PRIx64 " pool=%u: %ld operations ok, %zu pages mapped, %zu "
           "tables at the end of the last epoch\n",
           seed, mm.pool_frames, ops, mm.mapped_count, mm.table_count);
    mapper_model_destroy(&mm);
    return true;
}

/* Fails unless the runs met each return code the model predicts, and each rarer path. */
static int check_coverage(void) {
    static const enum paging_error wanted[] = {
        PAGING_OK,
        PAGING_ERR_ALREADY_MAPPED,
        PAGING_ERR_NOT_MAPPED,
        PAGING_ERR_MISALIGNED,
        PAGING_ERR_NON_CANONICAL,
        PAGING_ERR_PHYS_OUT_OF_RANGE,
        PAGING_ERR_INVALID_FLAGS,
        PAGING_ERR_INVALID_ARGUMENT,
        PAGING_ERR_FRAME_ALLOCATION_FAILED,
        PAGING_ERR_PARENT_HUGE_PAGE,
    };
    static const char *const op_names[MAPPER_MODEL_OPS] = {"map_page", "map_range", "unmap_page",
                                                           "translate", "walk"};
    int missing = 0;
    for (size_t w = 0; w < sizeof wanted / sizeof wanted[0]; w++) {
        size_t seen = 0;
        printf("model_test: %-30s", paging_error_name(wanted[w]));
        for (int o = 0; o < MAPPER_MODEL_OPS; o++) {
            printf(" %s %zu", op_names[o], results[o][wanted[w]]);
            seen += results[o][wanted[w]];
        }
        printf("\n");
        if (seen == 0) {
            fprintf(stderr, "model_test: FAILED: no operation returned \"%s\"\n",
                    paging_error_name(wanted[w]));
            missing++;
        }
    }
    printf("model_test: %zu map_range failures keeping tables, %zu widenings, %zu dry refusals "
           "that gave frames "
           "back, at most %zu tables\n",
           tables_kept, widenings, dry_refusals, peak_tables);
    if (tables_kept == 0 || widenings == 0 || dry_refusals == 0) {
        fprintf(stderr, "model_test: FAILED: a map_range failure keeping tables, a widening and a "
                        "dry refusal expected\n");
        missing++;
    }
    printf("model_test: widenings that added W %zu, that cleared NX %zu; translations through "
           "2 MiB leaves %zu, 1 GiB leaves %zu; walked 2 MiB leaves %zu, 1 GiB leaves %zu\n",
           widened_w, widened_nx, huge_translated[0], huge_translated[1], huge_walked[0],
           huge_walked[1]);
    if (widened_w == 0 || widened_nx == 0 || huge_translated[0] == 0 || huge_translated[1] == 0 ||
        huge_walked[0] == 0 || huge_walked[1] == 0) {
        fprintf(stderr, "model_test: FAILED: widenings of W and NX, and translations and walks "
                        "through 2 MiB and 1 GiB leaves expected\n");
        missing++;
    }
    bool reentry_missing = from_allocate == 0 || from_flush == 0;
    printf("model_test: calls refused as re-entry:");
    for (int o = 0; o < MAPPER_MODEL_OPS; o++) {
        printf(" %s %zu", op_names[o], reentries[o]);
        reentry_missing |= reentries[o] == 0;
    }
    printf(" (from a walk's callback); translate %zu from the frame source, %zu from a flush\n",
           from_allocate, from_flush);
    if (reentry_missing) {
        fprintf(stderr, "model_test: FAILED: each kind of call refused as re-entry expected\n");
        missing++;
    }
    return missing;
}

/* Parses @text, a whole number (decimal, or hex with 0x) in [min, max], into *out. */
static bool parse_number(const char *text, unsigned long long min, unsigned long long max,
                         unsigned long long *out) {
    char *end;
    *out = strtoull(text, &end, 0);
    return end != text && *end == '\0' && text[0] != '-' && *out >= min && *out <= max;
}

int main(int argc, char **argv) {
    unsigned long long ops = DEFAULT_OPS, seed = 0, pool = 0;
    if (argc == 3 || argc > 4 || (argc > 1 && !parse_number(argv[1], 1, LONG_MAX, &ops)) ||
        (argc == 4 && (!parse_number(argv[2], 0, UINT64_MAX, &seed) ||
                       !parse_number(argv[3], 2, MAPPER_MODEL_MAX_POOL_FRAMES, &pool)))) {
        fprintf(stderr, "usage: model_test [ops >= 1] [seed pool (2..%u frames)]\n",
                MAPPER_MODEL_MAX_POOL_FRAMES);
        return 2;
    }
    if (argc == 4) {
        return run(seed, (unsigned)pool, (long)ops) ? 0 : 1;
    }
    for (size_t i = 0; i < sizeof fixed_runs / sizeof fixed_runs[0]; i++) {
        if (!run(fixed_runs[i].seed, fixed_runs[i].pool_frames, (long)ops)) {
            return 1;
        }
    }
    int missing = check_coverage();
    printf("model_test: %s\n", missing == 0 ? "ok" : "FAILED");
    return missing == 0 ? 0 : 1;
}
