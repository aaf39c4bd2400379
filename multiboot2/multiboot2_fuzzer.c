/*
 * multiboot2_fuzzer.c - libFuzzer target: multiboot2_parse() on arbitrary bytes.
 *
 * The input (at least 8 bytes; when bit 0 of its byte 4 is clear, its first u32 is forced to the
 * input length so the tag walk is exercised rather than rejected up front) is copied into an
 * exact-size heap buffer, so AddressSanitizer reports any read outside [info, info + total_size).
 * Accepted results are walked completely.
 * Run: bazel run --config=fuzz //multiboot2:multiboot2_fuzzer
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multiboot2/multiboot2.h"
#include "multiboot2/testing/builder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 8 || size > 65536) {
        return 0;
    }
    uint8_t *copy = malloc(size); /* 16-aligned */
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    /* Half the inputs keep their own total_size to exercise the size checks too. */
    if ((data[4] & 1) == 0) {
        mb2_write_le32(copy, (uint32_t)size); /* little-endian, as the parser reads it */
    }
    struct multiboot2_info info;
    if (multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, 0x10000, copy, (uint32_t)size, &info) ==
        MULTIBOOT2_OK) {
        struct multiboot2_mmap_entry entry;
        struct multiboot2_elf_section section;
        uint64_t start;
        uint64_t end;
        size_t sum = 0;
        for (uint32_t i = 0; multiboot2_mmap_get(&info, i, &entry); i++) {
            sum += entry.type;
        }
        for (uint32_t i = 0; multiboot2_elf_section_get(&info, i, &section); i++) {
            sum += section.type;
        }
        if (info.cmdline != NULL) {
            sum += strlen(info.cmdline);
        }
        if (info.bootloader_name != NULL) {
            sum += strlen(info.bootloader_name);
        }
        (void)multiboot2_elf_loaded_range(&info, &start, &end);
        if (info.phys_end - info.phys_start != info.total_size || sum == SIZE_MAX) {
            abort();
        }
    }
    free(copy);
    return 0;
}
