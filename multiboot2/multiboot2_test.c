/*
 * multiboot2_test.c - host tests of the multiboot2 boot information parser.
 *
 * The checks build blobs with the builder (little_endian_bytes_check writes its own byte by byte),
 * corrupt at most one field of each (two in end_tag_wrong_size_check and
 * mmap_bad_entry_size_check, which adjust an enclosing size too so that the one field stays the
 * only fault; 1 to 4 random bytes in random_corruption_check), and expect exact results. The
 * reference blob ("good blob") is:
 *
 *   +0    fixed part    total_size, reserved
 *   +8    cmdline       "console=ttyS0 heap=4M"
 *   +40   name          "GRUB 2.06"
 *   +64   basic meminfo (unknown to the parser, 8-byte payload)
 *   +80   mmap          entry_size 24, 4 entries
 *   +192  ELF sections  entsize 64, 5 headers (null, .text, .rodata, .comment, .bss)
 *   +536  end tag
 *
 * (offsets are not hard-coded below: the builder returns them.)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multiboot2/multiboot2.h"
#include "multiboot2/testing/builder.h"
#include "tests/support/check.h"

#define BLOB_CAP      4096
#define MAX_SIZE      (64 * 1024)
#define INFO_PHYS     0x10000u
#define CMDLINE       "console=ttyS0 heap=4M"
#define LOADER_NAME   "GRUB 2.06"
#define KERNEL_START  0x100000u
#define KERNEL_TEXT   0x3000u
#define KERNEL_RODATA 0x1000u
#define KERNEL_BSS    0x5000u

static _Alignas(8) uint8_t blob[BLOB_CAP];

/* Offsets of the tags of the last blob built by build_good_blob(). */
static struct {
    size_t cmdline;
    size_t name;
    size_t meminfo;
    size_t mmap;
    size_t elf;
    size_t end;
    uint32_t total;
} good;

static const struct multiboot2_mmap_entry good_mmap[] = {
    {0x0, 0x9fc00, MULTIBOOT2_MEMORY_AVAILABLE},
    {0x9fc00, 0x400, MULTIBOOT2_MEMORY_RESERVED},
    {0x100000, 0x7ee0000, MULTIBOOT2_MEMORY_AVAILABLE},
    {0xfffc0000, 0x40000, MULTIBOOT2_MEMORY_RESERVED},
};

/* .text at 1 MiB, .rodata after it, a non-allocated .comment, and .bss (NOBITS) at the end. */
static const struct multiboot2_elf_section good_sections[] = {
    {0, 0 /* SHT_NULL */, 0, 0, 0},
    {1, 1 /* SHT_PROGBITS */, 0x6 /* ALLOC|EXEC */, KERNEL_START, KERNEL_TEXT},
    {2, 1, 0x2, KERNEL_START + KERNEL_TEXT, KERNEL_RODATA},
    {3, 1, 0x0 /* not loaded */, 0, 0x80},
    {4, 8 /* SHT_NOBITS */, 0x3, KERNEL_START + KERNEL_TEXT + KERNEL_RODATA, KERNEL_BSS},
};
#define GOOD_SECTIONS (sizeof good_sections / sizeof good_sections[0])

static struct mb2_builder b;

static void build_good_blob(void) {
    /* mem_lower 639 and mem_upper 129920 (KiB), little-endian like every field. */
    uint8_t meminfo[8];
    mb2_write_le32(meminfo, 639);
    mb2_write_le32(meminfo + 4, 129920);
    mb2_builder_init(&b, blob, sizeof blob);
    good.cmdline = mb2_builder_add_string(&b, MULTIBOOT2_TAG_TYPE_CMDLINE, CMDLINE);
    good.name = mb2_builder_add_string(&b, MULTIBOOT2_TAG_TYPE_BOOTLOADER_NAME, LOADER_NAME);
    good.meminfo =
        mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_BASIC_MEMINFO, meminfo, sizeof meminfo);
    good.mmap = mb2_builder_add_mmap(&b, 24, good_mmap, 4);
    good.elf = mb2_builder_add_elf(&b, 64, good_sections, GOOD_SECTIONS, 0);
    good.end = b.len;
    good.total = mb2_builder_finish(&b);
}

static enum multiboot2_error parse_blob(struct multiboot2_info *info) {
    return multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PHYS, blob, MAX_SIZE, info);
}

/*
 * A blob with every tag the parser reads, its memory map's entry_version 7.
 * Expect success, the strings, counts and entry_version read back, and the boot information's own
 * physical range [INFO_PHYS, INFO_PHYS + total_size).
 */
static int parse_good_blob_check(void) {
    struct multiboot2_info info;
    build_good_blob();
    mb2_write_le32(blob + good.mmap + 12, 7); /* entry_version, after type, size and entry_size */

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_EQ(good.total, info.total_size);
    ASSERT_EQ(INFO_PHYS, info.phys_start);
    ASSERT_EQ(INFO_PHYS + good.total, info.phys_end);
    ASSERT_STREQ(CMDLINE, info.cmdline);
    ASSERT_STREQ(LOADER_NAME, info.bootloader_name);
    /* Strings point into the blob, not into a copy. */
    ASSERT_TRUE((const uint8_t *)info.cmdline == blob + good.cmdline + 8);
    ASSERT_TRUE(info.mmap.present);
    ASSERT_EQ(24, info.mmap.entry_size);
    ASSERT_EQ(7, info.mmap.entry_version);
    ASSERT_EQ(4, info.mmap.count);
    ASSERT_TRUE(info.elf.present);
    ASSERT_EQ(GOOD_SECTIONS, info.elf.num);
    ASSERT_EQ(64, info.elf.entsize);
    ASSERT_EQ(0, info.elf.shndx);
    return 0;
}

/*
 * A blob written out byte by byte, not by the builder: an mmap tag with one entry and the end tag,
 * every field little-endian as the specification defines it.
 * Expect the same values on a little- and a big-endian host: total_size 56, entry base
 * 0x0000000100200000, length 0x0000000000300000, type 1.
 */
static int little_endian_bytes_check(void) {
    static _Alignas(8) const uint8_t bytes[56] = {
        56,   0,    0,    0,    0,    0, 0, 0, /* total_size 56, reserved */
        6,    0,    0,    0,    40,   0, 0, 0, /* mmap tag, size 16 + 24 */
        24,   0,    0,    0,    0,    0, 0, 0, /* entry_size 24, entry_version 0 */
        0x00, 0x00, 0x20, 0x00, 0x01, 0, 0, 0, /* base_addr 0x0000000100200000 */
        0x00, 0x00, 0x30, 0x00, 0x00, 0, 0, 0, /* length 0x300000 */
        1,    0,    0,    0,    0,    0, 0, 0, /* type available, reserved */
        0,    0,    0,    0,    8,    0, 0, 0, /* end tag */
    };
    struct multiboot2_info info;
    struct multiboot2_mmap_entry e;

    ASSERT_EQ(MULTIBOOT2_OK,
              multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PHYS, bytes, MAX_SIZE, &info));
    ASSERT_EQ(56, info.total_size);
    ASSERT_EQ(1, info.mmap.count);
    ASSERT_TRUE(multiboot2_mmap_get(&info, 0, &e));
    ASSERT_EQ(0x0000000100200000u, e.base);
    ASSERT_EQ(0x300000u, e.length);
    ASSERT_EQ(MULTIBOOT2_MEMORY_AVAILABLE, e.type);
    return 0;
}

/*
 * Walk the memory map of the good blob by index.
 * Expect each entry's base, length and type as built, and false one past the last entry.
 */
static int mmap_iterate_check(void) {
    struct multiboot2_info info;
    struct multiboot2_mmap_entry e;
    build_good_blob();

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    for (uint32_t i = 0; i < 4; i++) {
        ASSERT_TRUE(multiboot2_mmap_get(&info, i, &e));
        ASSERT_EQ(good_mmap[i].base, e.base);
        ASSERT_EQ(good_mmap[i].length, e.length);
        ASSERT_EQ(good_mmap[i].type, e.type);
    }
    ASSERT_FALSE(multiboot2_mmap_get(&info, 4, &e));
    return 0;
}

/*
 * A memory map whose entries are 40 bytes (a newer bootloader may grow the entry):
 *
 *   | base | length | type | rsvd | 16 unknown bytes | base | length | ...
 *
 * Expect the entries to be found at entry_size strides and the unknown bytes ignored.
 */
static int mmap_wide_entries_check(void) {
    struct multiboot2_info info;
    struct multiboot2_mmap_entry e;
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_mmap(&b, 40, good_mmap, 3);
    mb2_builder_finish(&b);

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_EQ(40, info.mmap.entry_size);
    ASSERT_EQ(3, info.mmap.count);
    ASSERT_TRUE(multiboot2_mmap_get(&info, 2, &e));
    ASSERT_EQ(good_mmap[2].base, e.base);
    ASSERT_EQ(good_mmap[2].length, e.length);
    ASSERT_EQ(good_mmap[2].type, e.type);
    return 0;
}

/*
 * ELF64 section headers: null, .text, .rodata, .comment (not SHF_ALLOC), .bss (NOBITS).
 *
 *   KERNEL_START  .text  | .rodata | .bss  end
 *
 * Expect the loaded range to cover .text through .bss and to skip .comment (address 0).
 */
static int elf64_loaded_range_check(void) {
    struct multiboot2_info info;
    struct multiboot2_elf_section s;
    uint64_t start = 0;
    uint64_t end = 0;
    build_good_blob();

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_TRUE(multiboot2_elf_section_get(&info, 4, &s));
    ASSERT_EQ(good_sections[4].addr, s.addr);
    ASSERT_EQ(good_sections[4].size, s.size);
    ASSERT_EQ(good_sections[4].flags, s.flags);
    ASSERT_EQ(good_sections[4].type, s.type);
    ASSERT_FALSE(multiboot2_elf_section_get(&info, GOOD_SECTIONS, &s));
    ASSERT_TRUE(multiboot2_elf_loaded_range(&info, &start, &end));
    ASSERT_EQ(KERNEL_START, start);
    ASSERT_EQ(KERNEL_START + KERNEL_TEXT + KERNEL_RODATA + KERNEL_BSS, end);
    return 0;
}

/*
 * The same sections as ELF32 headers (entsize 40, all fields u32).
 * Expect the same loaded range as with ELF64 headers.
 */
static int elf32_loaded_range_check(void) {
    struct multiboot2_info info;
    uint64_t start = 0;
    uint64_t end = 0;
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_elf(&b, 40, good_sections, GOOD_SECTIONS, 0);
    mb2_builder_finish(&b);

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_EQ(40, info.elf.entsize);
    ASSERT_TRUE(multiboot2_elf_loaded_range(&info, &start, &end));
    ASSERT_EQ(KERNEL_START, start);
    ASSERT_EQ(KERNEL_START + KERNEL_TEXT + KERNEL_RODATA + KERNEL_BSS, end);
    return 0;
}

/*
 * An ELF64 sections tag of `count` sections (section names in section `names`), then
 * multiboot2_elf_loaded_range: expects no loaded range and its outputs untouched.
 */
static int expect_no_loaded_range(const struct multiboot2_elf_section *sections, uint32_t count,
                                  uint32_t names) {
    struct multiboot2_info info;
    uint64_t start = 7;
    uint64_t end = 9;
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_elf(&b, 64, sections, count, names);
    mb2_builder_finish(&b);

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_FALSE(multiboot2_elf_loaded_range(&info, &start, &end));
    ASSERT_EQ(7, start);
    ASSERT_EQ(9, end);
    return 0;
}

/*
 * ELF sections tag with only the null section and .comment.
 * Expect no loaded range and the output untouched.
 */
static int elf_nothing_loaded_check(void) {
    struct multiboot2_elf_section unloaded[2] = {good_sections[0], good_sections[3]};
    return expect_no_loaded_range(unloaded, 2, 1);
}

/*
 * ELF64 sections: the good ones, and an allocated section of 0 bytes at 4 KiB, below them all.
 * Expect the good sections' range: an empty section loads nothing, wherever it claims to be.
 */
static int elf_empty_section_check(void) {
    struct multiboot2_info info;
    uint64_t start = 0;
    uint64_t end = 0;
    struct multiboot2_elf_section sections[GOOD_SECTIONS + 1];
    memcpy(sections, good_sections, sizeof good_sections);
    sections[GOOD_SECTIONS] = (struct multiboot2_elf_section){5, 1, 0x2 /* ALLOC */, 0x1000, 0};
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_elf(&b, 64, sections, GOOD_SECTIONS + 1, 0);
    mb2_builder_finish(&b);

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_TRUE(multiboot2_elf_loaded_range(&info, &start, &end));
    ASSERT_EQ(KERNEL_START, start);
    ASSERT_EQ(KERNEL_START + KERNEL_TEXT + KERNEL_RODATA + KERNEL_BSS, end);
    return 0;
}

/*
 * ELF64 sections: .text at KERNEL_START, then an allocated section at 2^64 - 4 KiB of 8 KiB,
 * whose addr + size wraps past 2^64 (to 4 KiB).
 * Expect no loaded range and the output untouched (multiboot2.h): the section's end has no
 * 64-bit value, and a range without the section would leave it out.
 */
static int elf_section_end_overflow_check(void) {
    struct multiboot2_elf_section sections[2] = {
        good_sections[1],
        {5, 1, 0x2 /* ALLOC */, UINT64_C(0xfffffffffffff000), 0x2000},
    };
    return expect_no_loaded_range(sections, 2, 0);
}

/*
 * The smallest valid blob: fixed part + end tag (16 bytes).
 * Expect success with every optional part absent.
 */
static int only_end_tag_check(void) {
    struct multiboot2_info info;
    struct multiboot2_mmap_entry e;
    uint64_t start;
    uint64_t end;
    mb2_builder_init(&b, blob, sizeof blob);
    ASSERT_EQ(16, mb2_builder_finish(&b));

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_TRUE(info.cmdline == NULL);
    ASSERT_TRUE(info.bootloader_name == NULL);
    ASSERT_FALSE(info.mmap.present);
    ASSERT_FALSE(info.elf.present);
    ASSERT_FALSE(multiboot2_mmap_get(&info, 0, &e));
    ASSERT_FALSE(multiboot2_elf_loaded_range(&info, &start, &end));
    return 0;
}

/*
 * Unknown tag types with sizes that are not multiples of 8 (padding follows them).
 * Expect them skipped and the tag after the padding parsed.
 */
static int unknown_tags_skipped_check(void) {
    struct multiboot2_info info;
    uint8_t odd[5] = {1, 2, 3, 4, 5};
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, 0x1234, odd, sizeof odd); /* size 13, padded to 16 */
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_SMBIOS, odd, 1);
    mb2_builder_add_string(&b, MULTIBOOT2_TAG_TYPE_CMDLINE, "x");
    mb2_builder_finish(&b);

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_STREQ("x", info.cmdline);
    return 0;
}

/*
 * Garbage after the end tag, inside total_size.
 * Expect it ignored: the end tag ends the list.
 */
static int tags_after_end_ignored_check(void) {
    struct multiboot2_info info;
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_END, NULL, 0);
    size_t bad = mb2_builder_add_string(&b, MULTIBOOT2_TAG_TYPE_CMDLINE, "after end");
    mb2_builder_put_u32(&b, bad + 4, 3); /* would be BAD_TAG_SIZE if it were read */
    mb2_builder_finish(&b);

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_TRUE(info.cmdline == NULL);
    return 0;
}

/*
 * EAX holds the multiboot1 magic.
 * Expect MULTIBOOT2_ERR_BAD_MAGIC and a zeroed result.
 */
static int bad_magic_check(void) {
    struct multiboot2_info info;
    build_good_blob();
    memset(&info, 0xAB, sizeof info);

    ASSERT_EQ(MULTIBOOT2_ERR_BAD_MAGIC,
              multiboot2_parse(0x2BADB002u, INFO_PHYS, blob, MAX_SIZE, &info));
    ASSERT_EQ(0, info.total_size);
    ASSERT_TRUE(info.cmdline == NULL);
    ASSERT_FALSE(info.mmap.present);
    return 0;
}

/*
 * NULL boot information pointer or NULL output.
 * Expect MULTIBOOT2_ERR_NULL.
 */
static int null_pointer_check(void) {
    struct multiboot2_info info;
    build_good_blob();

    ASSERT_EQ(MULTIBOOT2_ERR_NULL,
              multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, 0, NULL, MAX_SIZE, &info));
    ASSERT_EQ(MULTIBOOT2_ERR_NULL,
              multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PHYS, blob, MAX_SIZE, NULL));
    return 0;
}

/*
 * Boot information at blob + 4, or a physical address that is 4 mod 8.
 * Expect MULTIBOOT2_ERR_MISALIGNED for both.
 */
static int misaligned_check(void) {
    struct multiboot2_info info;
    static _Alignas(8) uint8_t shifted[BLOB_CAP + 8];
    build_good_blob();
    memcpy(shifted + 4, blob, good.total);

    ASSERT_EQ(MULTIBOOT2_ERR_MISALIGNED, multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PHYS,
                                                          shifted + 4, MAX_SIZE, &info));
    ASSERT_EQ(MULTIBOOT2_ERR_MISALIGNED,
              multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PHYS + 4, blob, MAX_SIZE, &info));
    return 0;
}

/*
 * total_size 4: smaller than the fixed part.
 * Expect MULTIBOOT2_ERR_TRUNCATED.
 */
static int total_size_below_fixed_part_check(void) {
    struct multiboot2_info info;
    build_good_blob();
    mb2_builder_put_u32(&b, 0, 4);

    ASSERT_EQ(MULTIBOOT2_ERR_TRUNCATED, parse_blob(&info));
    return 0;
}

/*
 * total_size one byte above the caller's bound, and a range that would wrap past 2^64.
 * Expect MULTIBOOT2_ERR_TOO_LARGE for both; exactly the bound is accepted.
 */
static int total_size_above_bound_check(void) {
    struct multiboot2_info info;
    build_good_blob();

    ASSERT_EQ(MULTIBOOT2_OK,
              multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PHYS, blob, good.total, &info));
    ASSERT_EQ(MULTIBOOT2_ERR_TOO_LARGE, multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PHYS,
                                                         blob, good.total - 1, &info));
    ASSERT_EQ(MULTIBOOT2_ERR_TOO_LARGE,
              multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, UINT64_MAX - 7, blob, MAX_SIZE, &info));
    return 0;
}

/*
 * The boot information at the top of the address space: the blob of only the end tag followed by
 * 7 bytes more inside total_size (23), at physical address UINT64_MAX - 23 (8-aligned), so that
 * info_phys + total_size is UINT64_MAX; then total_size 24 at the same address, one byte more.
 * Expect success with phys_start UINT64_MAX - 23 and phys_end UINT64_MAX (the range ends below
 * 2^64 and does not wrap); then MULTIBOOT2_ERR_TOO_LARGE, as the range would end at 2^64, whose
 * phys_end wraps to 0 (multiboot2.h: "the range wraps around").
 */
static int range_at_top_of_address_space_check(void) {
    struct multiboot2_info info;
    const uint64_t phys = UINT64_MAX - 23;
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_finish(&b);
    mb2_builder_put_u32(&b, 0, 23);

    ASSERT_EQ(MULTIBOOT2_OK,
              multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, phys, blob, MAX_SIZE, &info));
    ASSERT_EQ(23, info.total_size);
    ASSERT_EQ(phys, info.phys_start);
    ASSERT_EQ(UINT64_MAX, info.phys_end);

    mb2_builder_put_u32(&b, 0, 24);
    ASSERT_EQ(MULTIBOOT2_ERR_TOO_LARGE,
              multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, phys, blob, MAX_SIZE, &info));
    return 0;
}

/*
 * total_size cuts the ELF tag in the middle:
 *
 *   ... | ELF tag header | headers ...|... | end |
 *                                     ^ total_size
 *
 * Expect MULTIBOOT2_ERR_TRUNCATED.
 */
static int tag_past_total_size_check(void) {
    struct multiboot2_info info;
    build_good_blob();
    mb2_builder_put_u32(&b, 0, (uint32_t)good.elf + 64);

    ASSERT_EQ(MULTIBOOT2_ERR_TRUNCATED, parse_blob(&info));
    return 0;
}

/*
 * total_size leaves 4 bytes after the last full tag: half a tag header.
 * Expect MULTIBOOT2_ERR_TRUNCATED.
 */
static int partial_tag_header_check(void) {
    struct multiboot2_info info;
    build_good_blob();
    mb2_builder_put_u32(&b, 0, (uint32_t)good.end + 4);

    ASSERT_EQ(MULTIBOOT2_ERR_TRUNCATED, parse_blob(&info));
    return 0;
}

/*
 * total_size ends exactly before the end tag, so every tag is whole but the list never ends.
 * Expect MULTIBOOT2_ERR_NO_END_TAG.
 */
static int no_end_tag_check(void) {
    struct multiboot2_info info;
    build_good_blob();
    mb2_builder_put_u32(&b, 0, (uint32_t)good.end);

    ASSERT_EQ(MULTIBOOT2_ERR_NO_END_TAG, parse_blob(&info));
    return 0;
}

/*
 * total_size 8: the fixed part alone, no tag at all, in a heap buffer of exactly 8 bytes.
 * Expect MULTIBOOT2_ERR_NO_END_TAG (the list ends at total_size without an end tag), not
 * MULTIBOOT2_ERR_TRUNCATED: no tag header is cut short, there is none.
 */
static int fixed_part_alone_check(void) {
    struct multiboot2_info info;
    uint8_t *copy = malloc(MULTIBOOT2_FIXED_PART_SIZE); /* glibc malloc is 16-aligned */
    ASSERT_TRUE(copy != NULL);
    memset(copy, 0, MULTIBOOT2_FIXED_PART_SIZE);
    mb2_write_le32(copy, MULTIBOOT2_FIXED_PART_SIZE);
    enum multiboot2_error err =
        multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PHYS, copy, MAX_SIZE, &info);
    free(copy);

    ASSERT_EQ(MULTIBOOT2_ERR_NO_END_TAG, err);
    return 0;
}

/*
 * The basic meminfo tag's size field is 4 (below the 8-byte tag header), then 0.
 * Expect MULTIBOOT2_ERR_BAD_TAG_SIZE for both (0 would otherwise loop forever).
 */
static int tag_size_below_header_check(void) {
    struct multiboot2_info info;
    build_good_blob();
    mb2_builder_put_u32(&b, good.meminfo + 4, 4);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_TAG_SIZE, parse_blob(&info));

    mb2_builder_put_u32(&b, good.meminfo + 4, 0);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_TAG_SIZE, parse_blob(&info));
    return 0;
}

/*
 * An end tag whose size is 16 (with total_size grown to hold it).
 * Expect MULTIBOOT2_ERR_BAD_TAG_SIZE.
 */
static int end_tag_wrong_size_check(void) {
    struct multiboot2_info info;
    build_good_blob();
    mb2_builder_put_u32(&b, good.end + 4, 16);
    mb2_builder_put_u32(&b, 0, good.total + 8);

    ASSERT_EQ(MULTIBOOT2_ERR_BAD_TAG_SIZE, parse_blob(&info));
    return 0;
}

/*
 * A second tag of each type the parser records but ACPI (acpi_tags_check): cmdline, boot loader
 * name, memory map and ELF sections, each after a first one of its type.
 * Expect MULTIBOOT2_ERR_DUPLICATE_TAG each time.
 */
static int duplicate_tag_check(void) {
    struct multiboot2_info info;
    for (int twice = 0; twice < 4; twice++) {
        mb2_builder_init(&b, blob, sizeof blob);
        for (int copy = 0; copy < 2; copy++) {
            switch (twice) {
            case 0:
                mb2_builder_add_string(&b, MULTIBOOT2_TAG_TYPE_CMDLINE, "one");
                break;
            case 1:
                mb2_builder_add_string(&b, MULTIBOOT2_TAG_TYPE_BOOTLOADER_NAME, LOADER_NAME);
                break;
            case 2:
                mb2_builder_add_mmap(&b, 24, good_mmap, 4);
                break;
            default:
                mb2_builder_add_elf(&b, 64, good_sections, GOOD_SECTIONS, 0);
                break;
            }
        }
        mb2_builder_finish(&b);
        ASSERT_EQ(MULTIBOOT2_ERR_DUPLICATE_TAG, parse_blob(&info));
    }
    return 0;
}

/*
 * The ACPI tags: an old (20-byte RSDP) tag alone, a new (36-byte) one after an old one, the new
 * one first, duplicates and tags too short for their RSDP.
 * Expect the RSDP bytes of the new tag whenever there is one, the old one's otherwise, and
 * MULTIBOOT2_ERR_DUPLICATE_TAG / MULTIBOOT2_ERR_BAD_TAG_SIZE for the malformed cases.
 */
static int acpi_tags_check(void) {
    struct multiboot2_info info;
    uint8_t old_rsdp[20], new_rsdp[36];
    memset(old_rsdp, 0x11, sizeof old_rsdp);
    memset(new_rsdp, 0x22, sizeof new_rsdp);

    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_finish(&b);
    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_FALSE(info.acpi.present);

    mb2_builder_init(&b, blob, sizeof blob);
    size_t old_tag = mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_ACPI_OLD, old_rsdp, 20);
    mb2_builder_finish(&b);
    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_TRUE(info.acpi.present);
    ASSERT_FALSE(info.acpi.extended);
    ASSERT_EQ(20, info.acpi.size);
    ASSERT_TRUE(info.acpi.rsdp == blob + old_tag + 8);

    for (int new_first = 0; new_first < 2; new_first++) {
        mb2_builder_init(&b, blob, sizeof blob);
        size_t new_tag = 0;
        if (new_first) {
            new_tag = mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_ACPI_NEW, new_rsdp, 36);
        }
        mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_ACPI_OLD, old_rsdp, 20);
        if (!new_first) {
            new_tag = mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_ACPI_NEW, new_rsdp, 36);
        }
        mb2_builder_finish(&b);
        ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
        ASSERT_TRUE(info.acpi.extended);
        ASSERT_EQ(36, info.acpi.size);
        ASSERT_TRUE(info.acpi.rsdp == blob + new_tag + 8);
        ASSERT_EQ(0x22, info.acpi.rsdp[35]);
    }

    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_ACPI_NEW, new_rsdp, 36);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_ACPI_NEW, new_rsdp, 36);
    mb2_builder_finish(&b);
    ASSERT_EQ(MULTIBOOT2_ERR_DUPLICATE_TAG, parse_blob(&info));

    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_ACPI_OLD, old_rsdp, 19);
    mb2_builder_finish(&b);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_TAG_SIZE, parse_blob(&info));

    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_ACPI_NEW, new_rsdp, 20);
    mb2_builder_finish(&b);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_TAG_SIZE, parse_blob(&info));
    return 0;
}

/*
 * Memory map entry_size 16 (below 24) and 28 (not a multiple of 8), tag size adjusted so the
 * entries still fill the payload exactly.
 * Expect MULTIBOOT2_ERR_BAD_MMAP_ENTRY_SIZE for both.
 */
static int mmap_bad_entry_size_check(void) {
    struct multiboot2_info info;
    mb2_builder_init(&b, blob, sizeof blob);
    size_t tag = mb2_builder_add_mmap(&b, 28, good_mmap, 2);
    mb2_builder_finish(&b);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_MMAP_ENTRY_SIZE, parse_blob(&info));

    mb2_builder_put_u32(&b, tag + 8, 16);
    mb2_builder_put_u32(&b, tag + 4, 16 + 16 * 3);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_MMAP_ENTRY_SIZE, parse_blob(&info));
    return 0;
}

/*
 * The mmap tag's size claims 2.5 entries:
 *
 *   | hdr 16 | entry 24 | entry 24 | half 12 |
 *
 * Expect MULTIBOOT2_ERR_BAD_MMAP_LENGTH: entries must fit the tag exactly.
 */
static int mmap_entries_overflow_tag_check(void) {
    struct multiboot2_info info;
    build_good_blob();
    mb2_builder_put_u32(&b, good.mmap + 4, 16 + 24 * 2 + 12);

    ASSERT_EQ(MULTIBOOT2_ERR_BAD_MMAP_LENGTH, parse_blob(&info));
    return 0;
}

/*
 * An mmap tag of 12 bytes: too short for entry_size and entry_version.
 * Expect MULTIBOOT2_ERR_BAD_TAG_SIZE.
 */
static int mmap_tag_too_short_check(void) {
    struct multiboot2_info info;
    uint32_t entry_size = 24;
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_MMAP, &entry_size, sizeof entry_size);
    mb2_builder_finish(&b);

    ASSERT_EQ(MULTIBOOT2_ERR_BAD_TAG_SIZE, parse_blob(&info));
    return 0;
}

/*
 * An mmap tag of exactly 16 bytes, its fixed part alone (entry_size 24, entry_version 0, no
 * entry); then one of 15 bytes, one short of that fixed part (entry_size 24 and 3 bytes of
 * entry_version).
 * Expect success with an empty memory map (present, entry_size 24, count 0, no entry 0); then
 * MULTIBOOT2_ERR_BAD_TAG_SIZE.
 */
static int mmap_tag_least_size_check(void) {
    struct multiboot2_info info;
    struct multiboot2_mmap_entry e;
    uint8_t fields[8] = {0};
    mb2_write_le32(fields, 24);
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_MMAP, fields, 8);
    mb2_builder_finish(&b);

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_TRUE(info.mmap.present);
    ASSERT_EQ(24, info.mmap.entry_size);
    ASSERT_EQ(0, info.mmap.count);
    ASSERT_FALSE(multiboot2_mmap_get(&info, 0, &e));

    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_MMAP, fields, 7);
    mb2_builder_finish(&b);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_TAG_SIZE, parse_blob(&info));
    return 0;
}

/*
 * The cmdline's NUL (last byte inside the tag) replaced by 'x'; the padding after the tag is
 * still zero, so a parser that reads past the tag would wrongly accept it.
 * Expect MULTIBOOT2_ERR_UNTERMINATED_STRING.
 */
static int cmdline_unterminated_check(void) {
    struct multiboot2_info info;
    build_good_blob();
    size_t nul = good.cmdline + 8 + strlen(CMDLINE);
    ASSERT_EQ(0, blob[nul]);
    blob[nul] = 'x';

    ASSERT_EQ(MULTIBOOT2_ERR_UNTERMINATED_STRING, parse_blob(&info));
    return 0;
}

/*
 * A bootloader name tag with an empty payload (size 8): no room for a NUL.
 * Expect MULTIBOOT2_ERR_UNTERMINATED_STRING.
 */
static int empty_string_tag_check(void) {
    struct multiboot2_info info;
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_BOOTLOADER_NAME, NULL, 0);
    mb2_builder_finish(&b);

    ASSERT_EQ(MULTIBOOT2_ERR_UNTERMINATED_STRING, parse_blob(&info));
    return 0;
}

/*
 * ELF sections tag: entsize 48; num one larger than the headers present; shndx == num.
 * Expect MULTIBOOT2_ERR_BAD_ELF_SECTIONS for each.
 */
static int elf_bad_sections_check(void) {
    struct multiboot2_info info;
    build_good_blob();
    mb2_builder_put_u32(&b, good.elf + 12, 48);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_ELF_SECTIONS, parse_blob(&info));

    build_good_blob();
    mb2_builder_put_u32(&b, good.elf + 8, GOOD_SECTIONS + 1);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_ELF_SECTIONS, parse_blob(&info));

    build_good_blob();
    mb2_builder_put_u32(&b, good.elf + 16, GOOD_SECTIONS);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_ELF_SECTIONS, parse_blob(&info));

    build_good_blob();
    mb2_builder_put_u32(&b, good.elf + 4, MULTIBOOT2_ELF_TAG_HEADER_SIZE - 4);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_TAG_SIZE, parse_blob(&info));
    return 0;
}

/*
 * An ELF sections tag of exactly 20 bytes, its fixed part alone (num 0, entsize 64, shndx 0);
 * then one of 19 bytes, one short of it (num, entsize and 3 bytes of shndx).
 * Expect success with the tag present and no section; then MULTIBOOT2_ERR_BAD_TAG_SIZE.
 */
static int elf_tag_least_size_check(void) {
    struct multiboot2_info info;
    struct multiboot2_elf_section s;
    uint8_t fields[12] = {0};
    mb2_write_le32(fields + 4, MULTIBOOT2_ELF64_SHDR_SIZE);
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_ELF_SECTIONS, fields, 12);
    mb2_builder_finish(&b);

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_TRUE(info.elf.present);
    ASSERT_EQ(0, info.elf.num);
    ASSERT_FALSE(multiboot2_elf_section_get(&info, 0, &s));

    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_ELF_SECTIONS, fields, 11);
    mb2_builder_finish(&b);
    ASSERT_EQ(MULTIBOOT2_ERR_BAD_TAG_SIZE, parse_blob(&info));
    return 0;
}

/*
 * An ELF sections tag of no sections (num 0) with entsize 48, neither 40 nor 64, and shndx 3, not
 * below num: fields the parser refuses when there are sections.
 * Expect success with the tag taken as it is (multiboot2.h): present, num 0, entsize 48 and shndx
 * 3 as given, no section to read and no loaded range.
 */
static int elf_no_sections_taken_as_is_check(void) {
    struct multiboot2_info info;
    struct multiboot2_elf_section s;
    uint64_t start = 7;
    uint64_t end = 9;
    uint8_t fields[12] = {0};
    mb2_write_le32(fields + 4, 48);
    mb2_write_le32(fields + 8, 3);
    mb2_builder_init(&b, blob, sizeof blob);
    mb2_builder_add_tag(&b, MULTIBOOT2_TAG_TYPE_ELF_SECTIONS, fields, sizeof fields);
    mb2_builder_finish(&b);

    ASSERT_EQ(MULTIBOOT2_OK, parse_blob(&info));
    ASSERT_TRUE(info.elf.present);
    ASSERT_EQ(0, info.elf.num);
    ASSERT_EQ(48, info.elf.entsize);
    ASSERT_EQ(3, info.elf.shndx);
    ASSERT_FALSE(multiboot2_elf_section_get(&info, 0, &s));
    ASSERT_FALSE(multiboot2_elf_loaded_range(&info, &start, &end));
    ASSERT_EQ(7, start);
    ASSERT_EQ(9, end);
    return 0;
}

/*
 * Every total_size from 0 to the good size - 1, with the blob copied into a heap buffer of
 * exactly max(total_size, 8) bytes (AddressSanitizer catches any read past it).
 * Expect every one rejected and no read outside the buffer.
 */
static int every_truncation_rejected_check(void) {
    struct multiboot2_info info;
    build_good_blob();

    for (uint32_t size = 0; size < good.total; size++) {
        size_t alloc = size < 8 ? 8 : size;
        uint8_t *copy = malloc(alloc); /* glibc malloc is 16-aligned */
        ASSERT_TRUE(copy != NULL);
        memcpy(copy, blob, alloc);
        mb2_write_le32(copy, size);
        enum multiboot2_error err =
            multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PHYS, copy, MAX_SIZE, &info);
        free(copy);
        if (err == MULTIBOOT2_OK) {
            fprintf(stderr, "total_size %u accepted\n", size);
        }
        ASSERT_TRUE(err != MULTIBOOT2_OK);
    }
    return 0;
}

/* Whether @s is NULL or a string that lies in [lo, hi), its NUL included. */
static bool string_inside(const char *s, const uint8_t *lo, const uint8_t *hi) {
    const uint8_t *p = (const uint8_t *)s;
    return s == NULL || (p >= lo && p < hi && memchr(p, 0, (size_t)(hi - p)) != NULL);
}

/*
 * 20000 copies of the good blob with 1-4 random bytes changed, parsed from an exact-size heap
 * buffer (AddressSanitizer watches the reads).
 * Expect no crash and no read outside [info, info + total_size); every accepted result's
 * strings (cmdline, bootloader name, each with its NUL) lie inside the blob and its memory map
 * ends inside it.
 */
static int random_corruption_check(void) {
    struct multiboot2_info info;
    uint64_t state = 0x9E3779B97F4A7C15u;
    build_good_blob();

    for (int round = 0; round < 20000; round++) {
        uint8_t *copy = malloc(good.total);
        ASSERT_TRUE(copy != NULL);
        memcpy(copy, blob, good.total);
        int flips = 1 + (int)(state % 4);
        for (int i = 0; i < flips; i++) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            size_t at = 8 + (size_t)(state % (good.total - 8)); /* keep total_size */
            copy[at] = (uint8_t)(state >> 32);
        }
        enum multiboot2_error err =
            multiboot2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PHYS, copy, MAX_SIZE, &info);
        if (err == MULTIBOOT2_OK) {
            const uint8_t *lo = copy;
            const uint8_t *hi = copy + good.total;
            struct multiboot2_mmap_entry e;
            ASSERT_TRUE(string_inside(info.cmdline, lo, hi));
            ASSERT_TRUE(string_inside(info.bootloader_name, lo, hi));
            ASSERT_TRUE(!info.mmap.present ||
                        info.mmap.entries + (size_t)info.mmap.count * info.mmap.entry_size <= hi);
            for (uint32_t i = 0; multiboot2_mmap_get(&info, i, &e); i++) {
            }
            uint64_t s;
            uint64_t en;
            (void)multiboot2_elf_loaded_range(&info, &s, &en);
        }
        free(copy);
    }
    return 0;
}

/*
 * Every error value.
 * Expect the documented names, the project's naming rule (ASSERT_ERROR_NAMES), and "unknown
 * error" outside the enum.
 */
static int error_names_check(void) {
    ASSERT_STREQ("truncated", multiboot2_error_name(MULTIBOOT2_ERR_TRUNCATED));
    ASSERT_STREQ("bad memory map entry size",
                 multiboot2_error_name(MULTIBOOT2_ERR_BAD_MMAP_ENTRY_SIZE));
    /* A value outside the enum, on purpose. */
    // NOLINTNEXTLINE(clang-analyzer-optin.core.EnumCastOutOfRange)
    ASSERT_STREQ("unknown error", multiboot2_error_name((enum multiboot2_error)999));
    ASSERT_ERROR_NAMES(multiboot2_error_name, enum multiboot2_error, MULTIBOOT2_OK,
                       MULTIBOOT2_ERR_BAD_ELF_SECTIONS);
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, parse_good_blob_check);
    RUN_CHECK(failures, little_endian_bytes_check);
    RUN_CHECK(failures, mmap_iterate_check);
    RUN_CHECK(failures, mmap_wide_entries_check);
    RUN_CHECK(failures, elf64_loaded_range_check);
    RUN_CHECK(failures, elf32_loaded_range_check);
    RUN_CHECK(failures, elf_nothing_loaded_check);
    RUN_CHECK(failures, elf_empty_section_check);
    RUN_CHECK(failures, elf_section_end_overflow_check);
    RUN_CHECK(failures, only_end_tag_check);
    RUN_CHECK(failures, unknown_tags_skipped_check);
    RUN_CHECK(failures, tags_after_end_ignored_check);
    RUN_CHECK(failures, bad_magic_check);
    RUN_CHECK(failures, null_pointer_check);
    RUN_CHECK(failures, misaligned_check);
    RUN_CHECK(failures, total_size_below_fixed_part_check);
    RUN_CHECK(failures, total_size_above_bound_check);
    RUN_CHECK(failures, range_at_top_of_address_space_check);
    RUN_CHECK(failures, tag_past_total_size_check);
    RUN_CHECK(failures, partial_tag_header_check);
    RUN_CHECK(failures, no_end_tag_check);
    RUN_CHECK(failures, fixed_part_alone_check);
    RUN_CHECK(failures, tag_size_below_header_check);
    RUN_CHECK(failures, end_tag_wrong_size_check);
    RUN_CHECK(failures, duplicate_tag_check);
    RUN_CHECK(failures, acpi_tags_check);
    RUN_CHECK(failures, mmap_bad_entry_size_check);
    RUN_CHECK(failures, mmap_entries_overflow_tag_check);
    RUN_CHECK(failures, mmap_tag_too_short_check);
    RUN_CHECK(failures, mmap_tag_least_size_check);
    RUN_CHECK(failures, cmdline_unterminated_check);
    RUN_CHECK(failures, empty_string_tag_check);
    RUN_CHECK(failures, elf_bad_sections_check);
    RUN_CHECK(failures, elf_tag_least_size_check);
    RUN_CHECK(failures, elf_no_sections_taken_as_is_check);
    RUN_CHECK(failures, every_truncation_rejected_check);
    RUN_CHECK(failures, random_corruption_check);
    RUN_CHECK(failures, error_names_check);
    printf("%d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
