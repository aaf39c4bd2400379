/*
 * builder.h - test support: build multiboot2 boot information blobs byte by byte.
 *
 * Host tests use it to craft a good blob with every tag the parser reads, then corrupt single
 * fields (through the returned tag offsets) to produce each malformed variant. Test-only: it is
 * never linked into the kernel.
 */
#ifndef MULTIBOOT2_TESTING_BUILDER_H
#define MULTIBOOT2_TESTING_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "multiboot2/multiboot2.h"

struct mb2_builder {
    uint8_t *buf; /* 8-aligned storage owned by the test */
    size_t cap;
    size_t len; /* bytes written so far, always 8-aligned between calls */
};

/* Starts a blob in [buf, buf + cap): writes the fixed part with total_size 0. Aborts if cap < 8
 * or buf is not 8-aligned. */
void mb2_builder_init(struct mb2_builder *b, void *buf, size_t cap);

/* Appends a tag with the given payload (copied as bytes), padded to 8 bytes. Returns the tag's
 * offset in the blob. Aborts when the buffer is too small (a test bug, not a parser result). */
size_t mb2_builder_add_tag(struct mb2_builder *b, uint32_t type, const void *payload,
                           uint32_t payload_len);

/* Appends a string tag (cmdline or bootloader name) including its NUL. Returns its offset. */
size_t mb2_builder_add_string(struct mb2_builder *b, uint32_t type, const char *s);

/* Appends an mmap tag with entries of entry_size bytes (>= 24, extra bytes zero). Returns its
 * offset. */
size_t mb2_builder_add_mmap(struct mb2_builder *b, uint32_t entry_size,
                            const struct multiboot2_mmap_entry *entries, size_t count);

/* Appends an ELF sections tag with Elf64_Shdr (entsize 64) or Elf32_Shdr (entsize 40) headers.
 * Returns its offset. */
size_t mb2_builder_add_elf(struct mb2_builder *b, uint32_t entsize,
                           const struct multiboot2_elf_section *sections, uint32_t count,
                           uint32_t shndx);

/* Appends the end tag and writes total_size. Returns total_size. */
uint32_t mb2_builder_finish(struct mb2_builder *b);

/* Writes @value at @at as 4 little-endian bytes (the byte order of every multiboot2 field). */
void mb2_write_le32(uint8_t *at, uint32_t value);

/* Overwrites the u32 at blob offset @offset (to corrupt a size or type field). */
void mb2_builder_put_u32(struct mb2_builder *b, size_t offset, uint32_t value);

/* Reads the little-endian u32 at blob offset @offset. */
uint32_t mb2_builder_get_u32(const struct mb2_builder *b, size_t offset);

#endif /* MULTIBOOT2_TESTING_BUILDER_H */
