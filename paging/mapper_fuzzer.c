/*
 * mapper_fuzzer.c - libFuzzer target: the input's bytes, decoded by the model test's own
 * mapper_model_step (paging/testing/mapper_model.h), choose the frame allocator's pool and whether
 * the tables start with hand-built big pages (the first byte: bits 0..5, bit 7) and a sequence of
 * map_page, map_range, unmap_page, translate and walk calls; after each one the model's checks run,
 * and a disagreement traps with the operation number and what differed. Bytes past the end read as
 * 0.
 *
 *   bazel run --config=fuzz //paging:mapper_fuzzer -- -max_total_time=60 "$(mktemp -d)" \
 *       "$PWD/paging/mapper_fuzzer_seeds"
 *
 * The seed corpus holds a few long inputs (paging/testing/mapper_fuzzer_seeds.c, which writes them,
 * says how long); new inputs go to the first directory, not into the tree.
 *
 * Built with -DPAGING_FUZZ_STANDALONE it has its own main() that runs the inputs named on the
 * command line (the mapper_fuzz_seeds_test: the seed corpus, paging/mapper_fuzzer_seeds/), or else
 * a fixed set of pseudo-random inputs (the mapper_fuzz_smoke_test).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "paging/testing/mapper_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    const uint8_t *data;
    size_t size;
    size_t pos;
};

static unsigned input_byte(void *ctx) {
    struct input *in = ctx;
    return in->pos < in->size ? in->data[in->pos++] : 0;
}

/* The machine of the input running or last run (its operation count is kept until the next). */
static struct mapper_model mm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct input in = {data, size, 0};
    struct mapper_model_bytes bytes = {input_byte, &in};
    unsigned first = input_byte(&in);
    mapper_model_init(&mm, first % MAPPER_MODEL_MAX_POOL_FRAMES + 1, (first & 0x80) != 0);
    while (in.pos < in.size) {
        if (!mapper_model_step(&mm, &bytes)) {
            fprintf(stderr, "mapper_fuzzer: pool=%u op=%zu: %s\n", mm.pool_frames, mm.ops,
                    mm.failure);
            __builtin_trap();
        }
    }
    mapper_model_destroy(&mm);
    return 0;
}

#ifdef PAGING_FUZZ_STANDALONE
#include <stdlib.h>

#define SMOKE_INPUTS 200

/* Runs the files named in argv, or SMOKE_INPUTS pseudo-random inputs of up to 1 KiB. */
int main(int argc, char **argv) {
    static uint8_t buf[1 << 16];
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            FILE *f = fopen(argv[i], "rb");
            if (f == NULL) {
                fprintf(stderr, "mapper_fuzzer: cannot open %s\n", argv[i]);
                return 2;
            }
            size_t n = fread(buf, 1, sizeof buf, f);
            fclose(f);
            LLVMFuzzerTestOneInput(buf, n);
            printf("mapper_fuzzer: %s: %zu bytes, %zu operations ok\n", argv[i], n, mm.ops);
        }
        printf("mapper_fuzzer: %d inputs ok\n", argc - 1);
        return 0;
    }
    uint64_t x = UINT64_C(0x6a09e667f3bcc908);
    for (int r = 0; r < SMOKE_INPUTS; r++) {
        size_t n = 1 + (size_t)(x % 1024);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("mapper_fuzzer: %d pseudo-random inputs ok\n", SMOKE_INPUTS);
    return 0;
}
#endif
