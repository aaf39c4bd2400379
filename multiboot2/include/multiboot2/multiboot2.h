/*
 * multiboot2.h - validate and parse the multiboot2 boot information.
 *
 * A multiboot2 bootloader (GRUB) jumps to the kernel with EAX = MULTIBOOT2_BOOTLOADER_MAGIC and
 * EBX = physical address of the boot information: an 8-byte fixed part followed by a list of
 * 8-aligned tags that ends with an end tag (type 0, size 8).
 *
 *   info + 0   +------------------+------------------+
 *              | total_size (u32) | reserved (u32)   |
 *   info + 8   +------------------+------------------+   <- first tag, 8-aligned
 *              | type (u32)       | size (u32)       |      size counts the 8-byte tag header
 *              | payload ... (size - 8 bytes)        |
 *              +-------------------------------------+   <- next tag at align_up(tag + size, 8)
 *              | ...                                 |
 *              +------------------+------------------+
 *              | type = 0         | size = 8         |   <- end tag
 *   info + total_size ---------------------------------
 *
 * multiboot2_parse() checks the whole structure before any field is used and fills a
 * struct multiboot2_info whose pointers point into the caller's boot information (nothing is
 * copied, so the boot information must stay mapped and unmodified while the result is used).
 * Every failure is a value of enum multiboot2_error; multiboot2_error_name() names it.
 *
 * Pure C11, no libc, no global state: the same source builds for host tests and the kernel.
 */
#ifndef MULTIBOOT2_MULTIBOOT2_H
#define MULTIBOOT2_MULTIBOOT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value of EAX when a multiboot2 bootloader enters the kernel. */
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289u

/* Multiboot2 header (in the kernel image, within its first 32 KiB, 8-aligned). */
#define MULTIBOOT2_HEADER_MAGIC            0xe85250d6u
#define MULTIBOOT2_HEADER_ARCH_I386        0u /* 32-bit protected mode entry */
#define MULTIBOOT2_HEADER_ALIGN            8u
#define MULTIBOOT2_HEADER_SEARCH_LIMIT     32768u
#define MULTIBOOT2_HEADER_TAG_END          0u
#define MULTIBOOT2_HEADER_TAG_INFO_REQUEST 1u
#define MULTIBOOT2_HEADER_TAG_ADDRESS      2u
#define MULTIBOOT2_HEADER_TAG_ENTRY        3u
#define MULTIBOOT2_HEADER_TAG_CONSOLE      4u
#define MULTIBOOT2_HEADER_TAG_FRAMEBUFFER  5u
#define MULTIBOOT2_HEADER_TAG_MODULE_ALIGN 6u
#define MULTIBOOT2_HEADER_TAG_EFI_BS       7u
#define MULTIBOOT2_HEADER_TAG_ENTRY_EFI32  8u
#define MULTIBOOT2_HEADER_TAG_ENTRY_EFI64  9u
#define MULTIBOOT2_HEADER_TAG_RELOCATABLE  10u
#define MULTIBOOT2_HEADER_TAG_OPTIONAL     1u /* flags bit 0 of a header tag */

/* The checksum field makes magic + architecture + header_length + checksum == 0 (mod 2^32). */
#define MULTIBOOT2_HEADER_CHECKSUM(arch, length)                                                   \
    ((uint32_t)(0u - (MULTIBOOT2_HEADER_MAGIC + (uint32_t)(arch) + (uint32_t)(length))))

/* Boot information tag types. */
#define MULTIBOOT2_TAG_ALIGN                8u
#define MULTIBOOT2_TAG_TYPE_END             0u
#define MULTIBOOT2_TAG_TYPE_CMDLINE         1u
#define MULTIBOOT2_TAG_TYPE_BOOTLOADER_NAME 2u
#define MULTIBOOT2_TAG_TYPE_MODULE          3u
#define MULTIBOOT2_TAG_TYPE_BASIC_MEMINFO   4u
#define MULTIBOOT2_TAG_TYPE_BOOTDEV         5u
#define MULTIBOOT2_TAG_TYPE_MMAP            6u
#define MULTIBOOT2_TAG_TYPE_VBE             7u
#define MULTIBOOT2_TAG_TYPE_FRAMEBUFFER     8u
#define MULTIBOOT2_TAG_TYPE_ELF_SECTIONS    9u
#define MULTIBOOT2_TAG_TYPE_APM             10u
#define MULTIBOOT2_TAG_TYPE_EFI32           11u
#define MULTIBOOT2_TAG_TYPE_EFI64           12u
#define MULTIBOOT2_TAG_TYPE_SMBIOS          13u
#define MULTIBOOT2_TAG_TYPE_ACPI_OLD        14u
#define MULTIBOOT2_TAG_TYPE_ACPI_NEW        15u
#define MULTIBOOT2_TAG_TYPE_NETWORK         16u
#define MULTIBOOT2_TAG_TYPE_EFI_MMAP        17u
#define MULTIBOOT2_TAG_TYPE_EFI_BS          18u
#define MULTIBOOT2_TAG_TYPE_EFI32_IH        19u
#define MULTIBOOT2_TAG_TYPE_EFI64_IH        20u
#define MULTIBOOT2_TAG_TYPE_LOAD_BASE_ADDR  21u

/* Fixed sizes of the parts the parser reads. */
#define MULTIBOOT2_FIXED_PART_SIZE      8u  /* total_size + reserved */
#define MULTIBOOT2_TAG_HEADER_SIZE      8u  /* type + size */
#define MULTIBOOT2_MMAP_TAG_HEADER_SIZE 16u /* type, size, entry_size, entry_version */
#define MULTIBOOT2_MMAP_ENTRY_MIN_SIZE  24u /* base_addr u64, length u64, type u32, reserved u32 */
/* type, size, num, entsize, shndx: GRUB writes three u32 fields (the spec text shows u16). */
#define MULTIBOOT2_ELF_TAG_HEADER_SIZE 20u
/* RSDP sizes the ACPI tags must hold at least: ACPI 1.0's 20 bytes, ACPI 2.0's 36. */
#define MULTIBOOT2_ACPI_OLD_RSDP_SIZE 20u
#define MULTIBOOT2_ACPI_NEW_RSDP_MIN  36u
#define MULTIBOOT2_ELF64_SHDR_SIZE    64u
#define MULTIBOOT2_ELF32_SHDR_SIZE    40u

/* Memory map entry types. */
#define MULTIBOOT2_MEMORY_AVAILABLE        1u
#define MULTIBOOT2_MEMORY_RESERVED         2u
#define MULTIBOOT2_MEMORY_ACPI_RECLAIMABLE 3u
#define MULTIBOOT2_MEMORY_NVS              4u
#define MULTIBOOT2_MEMORY_BADRAM           5u

/* ELF section header values the parser looks at. */
#define MULTIBOOT2_ELF_SHT_NULL  0u
#define MULTIBOOT2_ELF_SHF_ALLOC 0x2u

enum multiboot2_error {
    MULTIBOOT2_OK = 0,
    /* "null pointer": the boot information pointer (or the output pointer) is NULL. */
    MULTIBOOT2_ERR_NULL,
    /* "bad magic": EAX did not hold MULTIBOOT2_BOOTLOADER_MAGIC. */
    MULTIBOOT2_ERR_BAD_MAGIC,
    /* "misaligned boot information": the boot information address is not 8-aligned. */
    MULTIBOOT2_ERR_MISALIGNED,
    /* "truncated": total_size < 8, or a tag (header or payload) runs past total_size. */
    MULTIBOOT2_ERR_TRUNCATED,
    /* "too large": total_size is larger than the caller's upper bound, or the range
     * [info_phys, info_phys + total_size) would end at or past 2^64 (its phys_end would wrap), or
     * the buffer [info, info + total_size) would run past the end of the address space. */
    MULTIBOOT2_ERR_TOO_LARGE,
    /* "bad tag size": a tag's size is below 8 or below the fixed part of its type, or an end
     * tag's size != 8. */
    MULTIBOOT2_ERR_BAD_TAG_SIZE,
    /* "no end tag": the tags reach total_size without an end tag. */
    MULTIBOOT2_ERR_NO_END_TAG,
    /* "duplicate tag": a tag type the parser records (cmdline, name, mmap, ELF sections, ACPI
     * old or new) appears twice. */
    MULTIBOOT2_ERR_DUPLICATE_TAG,
    /* "bad memory map entry size": memory map entry_size is below 24 or not a multiple of 8. */
    MULTIBOOT2_ERR_BAD_MMAP_ENTRY_SIZE,
    /* "bad memory map length": memory map entries do not exactly fill the tag payload. */
    MULTIBOOT2_ERR_BAD_MMAP_LENGTH,
    /* "unterminated string": a string tag has no NUL byte inside the tag. */
    MULTIBOOT2_ERR_UNTERMINATED_STRING,
    /* "bad ELF sections": ELF sections tag with num > 0: entsize is neither 40 nor 64, headers
     * overflow the tag, or shndx is not below num (a tag of no sections is taken as it is). */
    MULTIBOOT2_ERR_BAD_ELF_SECTIONS,
};

/* One memory map entry: the range [base, base + length) has the given MULTIBOOT2_MEMORY_* type. */
struct multiboot2_mmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
};

/* One ELF section header, widened to 64 bits whatever the ELF class. */
struct multiboot2_elf_section {
    uint32_t name;
    uint32_t type;
    uint64_t flags;
    uint64_t addr;
    uint64_t size;
};

struct multiboot2_info {
    /* [phys_start, phys_end): physical range of the boot information itself. */
    uint64_t phys_start;
    uint64_t phys_end;
    uint32_t total_size;

    /* NUL-terminated strings inside the boot information, or NULL when the tag is absent. */
    const char *cmdline;
    const char *bootloader_name;

    /* Memory map; present is false when there is no mmap tag (then count is 0). */
    struct {
        bool present;
        uint32_t entry_size;
        uint32_t entry_version;
        uint32_t count;
        const uint8_t *entries; /* count entries of entry_size bytes */
    } mmap;

    /* ELF section headers of the kernel image; present is false when the tag is absent. */
    struct {
        bool present;
        uint32_t num;
        uint32_t entsize; /* 64 (ELF64) or 40 (ELF32) when num > 0 */
        uint32_t shndx;
        const uint8_t *headers; /* num headers of entsize bytes, only 4-aligned */
    } elf;

    /* The copy of the ACPI RSDP the loader puts in the boot information: from the "ACPI new"
     * tag (ACPI 2.0+, 36 bytes or more) when there is one, else from the "ACPI old" tag (1.0, 20
     * bytes or more). present is false when neither tag is there. The bytes are not validated
     * here (that is //acpi's job), only that the tag holds at least the RSDP's size. */
    struct {
        bool present;
        bool extended; /* from the "ACPI new" tag */
        uint32_t size;
        const uint8_t *rsdp; /* size bytes */
    } acpi;
};

/*
 * multiboot2_parse - validate the boot information and fill *out.
 * @magic:     the EAX value at kernel entry.
 * @info_phys: the EBX value at kernel entry (physical address of the boot information).
 * @info:      a pointer through which the boot information can be read (info_phys itself when
 *             identity-mapped, a higher-half alias otherwise).
 * @max_size:  upper bound the caller accepts for total_size (e.g. 64 KiB).
 * @out:       result; fully written on success, zeroed on failure.
 *
 * Returns MULTIBOOT2_OK, or the first problem found: MULTIBOOT2_ERR_NULL, _BAD_MAGIC,
 * _MISALIGNED (info or info_phys not 8-aligned), _TRUNCATED, _TOO_LARGE, _BAD_TAG_SIZE,
 * _NO_END_TAG, _DUPLICATE_TAG, _BAD_MMAP_ENTRY_SIZE, _BAD_MMAP_LENGTH, _UNTERMINATED_STRING,
 * _BAD_ELF_SECTIONS. Unknown tag types are skipped after their size is checked; tags after the
 * end tag are ignored.
 */
enum multiboot2_error multiboot2_parse(uint32_t magic, uint64_t info_phys, const void *info,
                                       uint32_t max_size, struct multiboot2_info *out);

/*
 * multiboot2_error_name - the name of an error, quoted beside each value of enum multiboot2_error
 * ("ok" for MULTIBOOT2_OK); "unknown error" for a value outside the enum. A static string, never
 * NULL.
 */
const char *multiboot2_error_name(enum multiboot2_error error);

/*
 * multiboot2_mmap_get - read memory map entry @index into *out.
 * Returns true on success; false when @index >= info->mmap.count (or the map is absent).
 */
bool multiboot2_mmap_get(const struct multiboot2_info *info, uint32_t index,
                         struct multiboot2_mmap_entry *out);

/*
 * multiboot2_elf_section_get - read ELF section header @index into *out.
 * Returns true on success; false when @index >= info->elf.num (or the tag is absent).
 */
bool multiboot2_elf_section_get(const struct multiboot2_info *info, uint32_t index,
                                struct multiboot2_elf_section *out);

/*
 * multiboot2_elf_loaded_range - [*start, *end) spanning every section that occupies memory
 * (type not SHT_NULL, SHF_ALLOC set, size > 0). Addresses are the link addresses (sh_addr) as
 * the ELF file states them: physical for an identity-linked kernel, virtual for a higher-half one.
 * Returns true on success; false when the ELF tag is absent, no section is loaded, or a
 * section's addr + size overflows (then *start and *end are left unchanged).
 */
bool multiboot2_elf_loaded_range(const struct multiboot2_info *info, uint64_t *start,
                                 uint64_t *end);

#endif /* MULTIBOOT2_MULTIBOOT2_H */
