/*
 * acpi_fuzzer.c - libFuzzer target: acpi_find_table() and acpi_parse_madt() on arbitrary bytes.
 *
 * Input: a control byte, the RSDP's size (one byte, 0 to 255), the RSDP, then the physical memory
 * the map function serves from address 0. The RSDP and the memory are each copied into a heap
 * buffer of their exact size, and map() hands out a fresh exact copy per call (see map), so
 * AddressSanitizer reports any read past what the parser was given or mapped, or through a
 * pointer mapped before. Signatures, lengths and checksums are what a fuzzer almost
 * never gets right by mutation, so when bit 0 of the control byte is set the harness repairs them
 * first (the RSDP, the root tables it names, the tables those list: see repair_all; bit 1 makes
 * the first listed table and the table at address 0 a MADT, bit 2 sets the XSDP's length) and the
 * search reaches the MADT's entries; the other inputs keep their own bytes and exercise the
 * refusals. The memory is also given whole to acpi_parse_madt as a table. Every accepted result
 * is checked against what acpi.h promises, and a broken promise aborts.
 * Run: bazel run --config=fuzz //acpi:acpi_fuzzer
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "acpi/testing/table_bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The simulated physical memory, and the copy the last map call handed out. */
struct memory {
    const uint8_t *bytes;
    size_t size;
    uint8_t *window;
};

/* Each call hands out a fresh heap copy of exactly the bytes asked for and frees the one before,
 * as acpi.h allows (the bytes need stay readable only until the next call): a read past the size
 * asked for, or through a pointer from an earlier call, is then one AddressSanitizer reports. */
static const void *map(void *ctx, uint64_t phys, uint64_t size) {
    struct memory *memory = ctx;
    free(memory->window);
    memory->window = NULL;
    if (phys > memory->size || size > memory->size - phys) {
        return NULL;
    }
    memory->window = malloc((size_t)size);
    if (memory->window == NULL) {
        abort(); /* at most the input's size */
    }
    memcpy(memory->window, memory->bytes + phys, (size_t)size);
    return memory->window;
}

/* Gives the table at phys the signature (when not NULL), a length no longer than the memory left
 * and, in whole entries when entry_size is not 0, and the right checksum; returns its length, 0
 * when not even its header lies in memory. A length below the header is left for the parser to
 * refuse. */
static size_t repair_table(uint8_t *memory, size_t memory_size, uint64_t phys,
                           const char *signature, size_t entry_size) {
    if (phys > memory_size || memory_size - phys < ACPI_HEADER_SIZE) {
        return 0;
    }
    uint8_t *table = memory + phys;
    if (signature != NULL) {
        table_put_text(table, signature, 4);
    }
    size_t length = table_get_u32(table + 4);
    if (length > memory_size - phys) {
        length = memory_size - phys;
    }
    if (entry_size != 0 && length > ACPI_HEADER_SIZE) {
        length -= (length - ACPI_HEADER_SIZE) % entry_size;
    }
    if (length >= ACPI_HEADER_SIZE) {
        table_put_u32(table + 4, (uint32_t)length);
    }
    table_seal(table, length < ACPI_HEADER_SIZE ? ACPI_HEADER_SIZE : length,
               ACPI_HEADER_CHECKSUM_OFFSET);
    return length;
}

/* Repairs the root table at phys (entries of entry_size bytes), then every table it lists, the
 * first of them made a MADT when madt is set; the root is sealed again last in case one of them
 * overlaps it. */
static void repair_root(uint8_t *memory, size_t memory_size, uint64_t phys, const char *signature,
                        size_t entry_size, bool madt) {
    size_t length = repair_table(memory, memory_size, phys, signature, entry_size);
    for (size_t offset = ACPI_HEADER_SIZE; offset + entry_size <= length; offset += entry_size) {
        const uint8_t *entry = memory + phys + offset;
        uint64_t table = entry_size == 8 ? table_get_u64(entry) : table_get_u32(entry);
        const char *listed = madt && offset == ACPI_HEADER_SIZE ? "APIC" : NULL;
        repair_table(memory, memory_size, table, listed, 0);
    }
    if (length != 0) {
        table_seal(memory + phys, length < ACPI_HEADER_SIZE ? ACPI_HEADER_SIZE : length,
                   ACPI_HEADER_CHECKSUM_OFFSET);
    }
}

/* Makes the input's tables well-formed enough to get past the signatures, the lengths and the
 * checksums, which a fuzzer almost never gets right by mutation; the addresses, the entries and
 * every field the control byte leaves alone stay the input's. */
static void repair_all(uint8_t control, uint8_t *rsdp, size_t rsdp_size, uint8_t *memory,
                       size_t memory_size) {
    bool madt = (control & 2) != 0;
    if (rsdp_size >= ACPI_RSDP_V2_SIZE) {
        repair_root(memory, memory_size, table_get_u64(rsdp + 24), "XSDT", 8, madt);
    }
    if (rsdp_size >= ACPI_RSDP_V1_SIZE) {
        repair_root(memory, memory_size, table_get_u32(rsdp + 16), "RSDT", 4, madt);
        table_put_text(rsdp, "RSD PTR ", 8);
        table_seal(rsdp, ACPI_RSDP_V1_SIZE, 8);
    }
    if (rsdp_size >= ACPI_RSDP_V2_SIZE) {
        if ((control & 4) != 0) {
            table_put_u32(rsdp + 20, (uint32_t)rsdp_size);
        }
        size_t length = table_get_u32(rsdp + 20);
        table_seal(rsdp, length < ACPI_RSDP_V2_SIZE || length > rsdp_size ? rsdp_size : length, 32);
    }
}

/* What acpi.h promises of an accepted MADT. */
static void check_madt(const struct acpi_madt *madt) {
    if (madt->cpus_stored > ACPI_MADT_MAX_CPUS || (uint64_t)madt->cpus_stored +
                                                          madt->cpus_duplicate + madt->cpus_bad_id +
                                                          madt->cpus_enabled_unstored >
                                                      madt->cpus_listed) {
        abort();
    }
    /* Entries are left out unstored only when the array is full of enabled ones. */
    if (madt->cpus_enabled_unstored > 0 && madt->cpus_stored != ACPI_MADT_MAX_CPUS) {
        abort();
    }
    for (uint32_t i = 0; i < madt->cpus_stored; i++) {
        if (madt->cpus[i].apic_id == 0xffffffffu) { /* 0xff may be an x2APIC entry's */
            abort();
        }
        if (madt->cpus_enabled_unstored > 0 && !madt->cpus[i].enabled) {
            abort();
        }
        for (uint32_t j = 0; j < i; j++) {
            if (madt->cpus[i].enabled && madt->cpus[j].enabled &&
                madt->cpus[i].apic_id == madt->cpus[j].apic_id) {
                abort();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > 65536 || size - 2 < data[1]) {
        return 0;
    }
    bool repaired = (data[0] & 1) != 0;
    size_t rsdp_size = data[1];
    size_t memory_size = size - 2 - rsdp_size;
    /* Exact sizes, 0 too: AddressSanitizer gives malloc(0) a chunk that no read may touch. */
    uint8_t *rsdp = malloc(rsdp_size);
    uint8_t *memory = malloc(memory_size);
    if (rsdp == NULL || memory == NULL) {
        free(rsdp);
        free(memory);
        return 0;
    }
    memcpy(rsdp, data + 2, rsdp_size);
    memcpy(memory, data + 2 + rsdp_size, memory_size);
    if (repaired) {
        repair_all(data[0], rsdp, rsdp_size, memory, memory_size);
    }

    struct memory context = {memory, memory_size, NULL};
    const struct acpi_memory simulated = {map, &context};
    struct acpi_table table;
    struct acpi_madt madt;
    if (acpi_find_table(rsdp, rsdp_size, &simulated, "APIC", &table) == ACPI_OK) {
        if (table.phys > memory_size || table.length > memory_size - table.phys ||
            memcmp(table.data, memory + table.phys, table.length) != 0) {
            abort();
        }
        if (acpi_parse_madt(table.data, table.length, &madt) == ACPI_OK) {
            check_madt(&madt);
        }
    }
    if (repaired) { /* after the search: this may overwrite a table it read */
        repair_table(memory, memory_size, 0, (data[0] & 2) != 0 ? "APIC" : NULL, 0);
    }
    if (acpi_parse_madt(memory, memory_size, &madt) == ACPI_OK) {
        check_madt(&madt);
    }
    free(context.window);
    free(rsdp);
    free(memory);
    return 0;
}
