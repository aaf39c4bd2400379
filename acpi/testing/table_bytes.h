/*
 * table_bytes.h - test support: read and write the little-endian fields of forged ACPI tables, and
 * seal their checksums. Shared by acpi_test.c (tables built field by field) and acpi_fuzzer.c
 * (arbitrary tables repaired just enough to reach the parser's later checks). Test-only: never
 * linked into the kernel.
 */
#ifndef ACPI_TESTING_TABLE_BYTES_H
#define ACPI_TESTING_TABLE_BYTES_H

#include <stddef.h>
#include <stdint.h>

uint32_t table_get_u32(const uint8_t *p);
uint64_t table_get_u64(const uint8_t *p);
void table_put_u32(uint8_t *p, uint32_t value);
void table_put_u64(uint8_t *p, uint64_t value);

/* Signatures and OEM ids are fixed-width byte fields, not strings: the size bytes of text are
 * copied, no terminator. */
void table_put_text(uint8_t *p, const char *text, size_t size);

/* Sets the byte at p[checksum] so that the size bytes at p sum to zero. */
void table_seal(uint8_t *p, size_t size, size_t checksum);

#endif
