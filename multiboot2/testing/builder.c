/*
 * builder.c - test support: writes multiboot2 boot information blobs (see builder.h). Every field
 * is written little-endian, as the format defines, whatever the host's byte order.
 */
#include "multiboot2/testing/builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void need(const struct mb2_builder *b, size_t bytes) {
    if (bytes > b->cap - b->len) {
        fprintf(stderr, "mb2_builder: buffer of %zu bytes too small\n", b->cap);
        abort();
    }
}

static void put(struct mb2_builder *b, size_t offset, const void *src, size_t n) {
    memcpy(b->buf + offset, src, n);
}

void mb2_write_le32(uint8_t *at, uint32_t value) {
    for (int i = 0; i < 4; i++) {
        at[i] = (uint8_t)(value >> (8 * i));
    }
}

void mb2_builder_put_u32(struct mb2_builder *b, size_t offset, uint32_t value) {
    mb2_write_le32(b->buf + offset, value);
}

uint32_t mb2_builder_get_u32(const struct mb2_builder *b, size_t offset) {
    const uint8_t *at = b->buf + offset;
    return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

static void put_u64(struct mb2_builder *b, size_t offset, uint64_t value) {
    mb2_builder_put_u32(b, offset, (uint32_t)value);
    mb2_builder_put_u32(b, offset + 4, (uint32_t)(value >> 32));
}

void mb2_builder_init(struct mb2_builder *b, void *buf, size_t cap) {
    if (cap < MULTIBOOT2_FIXED_PART_SIZE || (uintptr_t)buf % 8 != 0) {
        fprintf(stderr, "mb2_builder: bad buffer\n");
        abort();
    }
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    memset(buf, 0, cap);
    b->len = MULTIBOOT2_FIXED_PART_SIZE;
}

/* Reserves a tag of @size bytes (header included), padded to 8; returns its offset. */
static size_t begin_tag(struct mb2_builder *b, uint32_t type, uint32_t size) {
    size_t padded = ((size_t)size + 7) & ~(size_t)7;
    need(b, padded);
    size_t offset = b->len;
    memset(b->buf + offset, 0, padded);
    mb2_builder_put_u32(b, offset, type);
    mb2_builder_put_u32(b, offset + 4, size);
    b->len += padded;
    return offset;
}

size_t mb2_builder_add_tag(struct mb2_builder *b, uint32_t type, const void *payload,
                           uint32_t payload_len) {
    size_t offset = begin_tag(b, type, MULTIBOOT2_TAG_HEADER_SIZE + payload_len);
    if (payload_len > 0) {
        put(b, offset + MULTIBOOT2_TAG_HEADER_SIZE, payload, payload_len);
    }
    return offset;
}

size_t mb2_builder_add_string(struct mb2_builder *b, uint32_t type, const char *s) {
    return mb2_builder_add_tag(b, type, s, (uint32_t)strlen(s) + 1);
}

size_t mb2_builder_add_mmap(struct mb2_builder *b, uint32_t entry_size,
                            const struct multiboot2_mmap_entry *entries, size_t count) {
    uint32_t size = MULTIBOOT2_MMAP_TAG_HEADER_SIZE + entry_size * (uint32_t)count;
    size_t offset = begin_tag(b, MULTIBOOT2_TAG_TYPE_MMAP, size);
    mb2_builder_put_u32(b, offset + 8, entry_size);
    mb2_builder_put_u32(b, offset + 12, 0); /* entry_version */
    for (size_t i = 0; i < count; i++) {
        size_t e = offset + MULTIBOOT2_MMAP_TAG_HEADER_SIZE + i * entry_size;
        put_u64(b, e, entries[i].base);
        put_u64(b, e + 8, entries[i].length);
        mb2_builder_put_u32(b, e + 16, entries[i].type);
    }
    return offset;
}

size_t mb2_builder_add_elf(struct mb2_builder *b, uint32_t entsize,
                           const struct multiboot2_elf_section *sections, uint32_t count,
                           uint32_t shndx) {
    uint32_t size = MULTIBOOT2_ELF_TAG_HEADER_SIZE + entsize * count;
    size_t offset = begin_tag(b, MULTIBOOT2_TAG_TYPE_ELF_SECTIONS, size);
    mb2_builder_put_u32(b, offset + 8, count);
    mb2_builder_put_u32(b, offset + 12, entsize);
    mb2_builder_put_u32(b, offset + 16, shndx);
    for (uint32_t i = 0; i < count; i++) {
        size_t h = offset + MULTIBOOT2_ELF_TAG_HEADER_SIZE + (size_t)i * entsize;
        mb2_builder_put_u32(b, h, sections[i].name);
        mb2_builder_put_u32(b, h + 4, sections[i].type);
        if (entsize == MULTIBOOT2_ELF64_SHDR_SIZE) {
            put_u64(b, h + 8, sections[i].flags);
            put_u64(b, h + 16, sections[i].addr);
            put_u64(b, h + 24, sections[i].addr); /* sh_offset: any value */
            put_u64(b, h + 32, sections[i].size);
        } else {
            mb2_builder_put_u32(b, h + 8, (uint32_t)sections[i].flags);
            mb2_builder_put_u32(b, h + 12, (uint32_t)sections[i].addr);
            mb2_builder_put_u32(b, h + 16, (uint32_t)sections[i].addr);
            mb2_builder_put_u32(b, h + 20, (uint32_t)sections[i].size);
        }
    }
    return offset;
}

uint32_t mb2_builder_finish(struct mb2_builder *b) {
    begin_tag(b, MULTIBOOT2_TAG_TYPE_END, MULTIBOOT2_TAG_HEADER_SIZE);
    mb2_builder_put_u32(b, 0, (uint32_t)b->len);
    return (uint32_t)b->len;
}
