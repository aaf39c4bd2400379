/*
 * mapper_fuzzer_seeds.c - writes the mapper fuzzer's checked-in seed corpus
 * (paging/mapper_fuzzer_seeds/), a few long inputs, so that a short fuzzing run starts from long
 * sequences of operations: from an empty corpus libFuzzer grows its inputs a few bytes at a time
 * (48 bytes, some 5 operations, after 60 s), and it takes its length limit from the largest seed.
 *
 *   bazel run //paging:mapper_fuzzer_seeds -- "$PWD/paging/mapper_fuzzer_seeds"
 *
 * Each seed is what mapper_fuzzer.c reads: a first byte choosing the pool (bits 0..5: frames - 1)
 * and the hand-built big pages (bit 7), then SEED_BYTES - 1 pseudo-random bytes (xorshift64*, as
 * paging/model_test.c draws its operations) decoding into some 115 operations (the
 * mapper_fuzz_seeds_test prints each seed's count).
 */
#include <stdint.h>
#include <stdio.h>

/* 1 KiB: in 60 s of fuzzing, seeds of 1 KiB gave more features than seeds of 4 KiB (3763 against
 * 3343, at 67 executions a second against 15) or than two of each (3607, 19 a second). */
#define SEED_BYTES 1024

static const struct seed {
    const char *name;
    unsigned pool_frames;
    unsigned huge; /* 1: start from the hand-built big pages */
    uint64_t state;
} seeds[] = {
    {"pool64", 64, 0, UINT64_C(0x5eed0001)},
    {"pool64_huge", 64, 1, UINT64_C(0x5eed0002)},
    {"pool14_huge", 14, 1, UINT64_C(0x5eed0003)},
    {"pool8", 8, 0, UINT64_C(0x5eed0004)},
};

static unsigned next_byte(uint64_t *x) {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return (unsigned)((*x * UINT64_C(0x2545f4914f6cdd1d)) >> 56);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mapper_fuzzer_seeds DIR (an existing directory)\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], seeds[i].name);
        FILE *f = fopen(path, "wb");
        if (f == NULL) {
            fprintf(stderr, "mapper_fuzzer_seeds: cannot write %s\n", path);
            return 1;
        }
        uint64_t x = seeds[i].state;
        fputc((int)((seeds[i].pool_frames - 1) | seeds[i].huge << 7), f);
        for (int b = 1; b < SEED_BYTES; b++) {
            fputc((int)next_byte(&x), f);
        }
        if (fclose(f) != 0) {
            fprintf(stderr, "mapper_fuzzer_seeds: cannot write %s\n", path);
            return 1;
        }
        printf("mapper_fuzzer_seeds: %s\n", path);
    }
    return 0;
}
