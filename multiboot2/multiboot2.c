/*
 * multiboot2.c - validation and parsing of the multiboot2 boot information.
 *
 * The parser walks the tag list once, checking every size against total_size before reading the
 * bytes it covers; nothing outside [info, info + total_size) is ever read. Fields are read byte
 * by byte as the little-endian values the format defines, so the parser gives the same result on
 * a big-endian host; byte reads also need no alignment (ELF section headers start only 4-aligned
 * inside their tag). Clang turns each read into a single load on a little-endian target.
 */
#include "multiboot2/multiboot2.h"

/* Byte offsets of the fields the parser reads, from the specification's layouts. */
#define TAG_TYPE_OFFSET           0u  /* every tag: type u32 */
#define TAG_SIZE_OFFSET           4u  /* every tag: size u32 */
#define MMAP_ENTRY_SIZE_OFFSET    8u  /* memory map tag: entry_size u32 */
#define MMAP_ENTRY_VERSION_OFFSET 12u /* memory map tag: entry_version u32 */
#define MMAP_ENTRY_BASE_OFFSET    0u  /* memory map entry: base_addr u64 */
#define MMAP_ENTRY_LENGTH_OFFSET  8u  /* memory map entry: length u64 */
#define MMAP_ENTRY_TYPE_OFFSET    16u /* memory map entry: type u32 */
#define ELF_TAG_NUM_OFFSET        8u  /* ELF sections tag: num u32 */
#define ELF_TAG_ENTSIZE_OFFSET    12u /* ELF sections tag: entsize u32 */
#define ELF_TAG_SHNDX_OFFSET      16u /* ELF sections tag: shndx u32 */
#define SHDR_NAME_OFFSET          0u  /* Elf32_Shdr and Elf64_Shdr: sh_name u32 */
#define SHDR_TYPE_OFFSET          4u  /* Elf32_Shdr and Elf64_Shdr: sh_type u32 */
#define SHDR_FLAGS_OFFSET         8u  /* Elf32_Shdr and Elf64_Shdr: sh_flags */
#define SHDR64_ADDR_OFFSET        16u /* Elf64_Shdr: sh_addr u64 */
#define SHDR64_SIZE_OFFSET        32u /* Elf64_Shdr: sh_size u64 */
#define SHDR32_ADDR_OFFSET        12u /* Elf32_Shdr: sh_addr u32 */
#define SHDR32_SIZE_OFFSET        20u /* Elf32_Shdr: sh_size u32 */
#define MMAP_ENTRY_SIZE_MULTIPLE  8u  /* entry_size is a multiple of 8 */

static uint32_t read_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t read_u64(const uint8_t *p) {
    return (uint64_t)read_u32(p) | (uint64_t)read_u32(p + sizeof(uint32_t)) << 32;
}

/* True when a NUL byte lies in [s, s + len). */
static bool has_nul(const uint8_t *s, uint32_t len) {
    for (uint32_t i = 0; i < len; i++) {
        if (s[i] == 0) {
            return true;
        }
    }
    return false;
}

/* Checks a string tag (cmdline, bootloader name) and returns its string through *out. */
static enum multiboot2_error parse_string(const uint8_t *tag, uint32_t size, const char **out) {
    if (*out != NULL) {
        return MULTIBOOT2_ERR_DUPLICATE_TAG;
    }
    if (!has_nul(tag + MULTIBOOT2_TAG_HEADER_SIZE, size - MULTIBOOT2_TAG_HEADER_SIZE)) {
        return MULTIBOOT2_ERR_UNTERMINATED_STRING;
    }
    *out = (const char *)(tag + MULTIBOOT2_TAG_HEADER_SIZE);
    return MULTIBOOT2_OK;
}

static enum multiboot2_error parse_mmap(const uint8_t *tag, uint32_t size,
                                        struct multiboot2_info *out) {
    if (out->mmap.present) {
        return MULTIBOOT2_ERR_DUPLICATE_TAG;
    }
    if (size < MULTIBOOT2_MMAP_TAG_HEADER_SIZE) {
        return MULTIBOOT2_ERR_BAD_TAG_SIZE;
    }
    uint32_t entry_size = read_u32(tag + MMAP_ENTRY_SIZE_OFFSET);
    if (entry_size < MULTIBOOT2_MMAP_ENTRY_MIN_SIZE || entry_size % MMAP_ENTRY_SIZE_MULTIPLE != 0) {
        return MULTIBOOT2_ERR_BAD_MMAP_ENTRY_SIZE;
    }
    uint32_t payload = size - MULTIBOOT2_MMAP_TAG_HEADER_SIZE;
    if (payload % entry_size != 0) {
        return MULTIBOOT2_ERR_BAD_MMAP_LENGTH;
    }
    out->mmap.present = true;
    out->mmap.entry_size = entry_size;
    out->mmap.entry_version = read_u32(tag + MMAP_ENTRY_VERSION_OFFSET);
    out->mmap.count = payload / entry_size;
    out->mmap.entries = tag + MULTIBOOT2_MMAP_TAG_HEADER_SIZE;
    return MULTIBOOT2_OK;
}

static enum multiboot2_error parse_elf(const uint8_t *tag, uint32_t size,
                                       struct multiboot2_info *out) {
    if (out->elf.present) {
        return MULTIBOOT2_ERR_DUPLICATE_TAG;
    }
    if (size < MULTIBOOT2_ELF_TAG_HEADER_SIZE) {
        return MULTIBOOT2_ERR_BAD_TAG_SIZE;
    }
    uint32_t num = read_u32(tag + ELF_TAG_NUM_OFFSET);
    uint32_t entsize = read_u32(tag + ELF_TAG_ENTSIZE_OFFSET);
    uint32_t shndx = read_u32(tag + ELF_TAG_SHNDX_OFFSET);
    if (num > 0) {
        if (entsize != MULTIBOOT2_ELF64_SHDR_SIZE && entsize != MULTIBOOT2_ELF32_SHDR_SIZE) {
            return MULTIBOOT2_ERR_BAD_ELF_SECTIONS;
        }
        /* 64-bit product: num * entsize cannot wrap. */
        if ((uint64_t)num * entsize > size - MULTIBOOT2_ELF_TAG_HEADER_SIZE) {
            return MULTIBOOT2_ERR_BAD_ELF_SECTIONS;
        }
        if (shndx >= num) {
            return MULTIBOOT2_ERR_BAD_ELF_SECTIONS;
        }
    }
    out->elf.present = true;
    out->elf.num = num;
    out->elf.entsize = entsize;
    out->elf.shndx = shndx;
    out->elf.headers = tag + MULTIBOOT2_ELF_TAG_HEADER_SIZE;
    return MULTIBOOT2_OK;
}

/* ACPI old (14) carries a 20-byte RSDP, ACPI new (15) a 36-byte or longer one. The new one wins
 * whichever comes first; a second tag of the same type is a duplicate. */
static enum multiboot2_error parse_acpi(const uint8_t *tag, uint32_t size, bool extended,
                                        bool *seen, struct multiboot2_info *out) {
    if (*seen) {
        return MULTIBOOT2_ERR_DUPLICATE_TAG;
    }
    *seen = true;
    uint32_t rsdp_size = size - MULTIBOOT2_TAG_HEADER_SIZE;
    if (rsdp_size < (extended ? MULTIBOOT2_ACPI_NEW_RSDP_MIN : MULTIBOOT2_ACPI_OLD_RSDP_SIZE)) {
        return MULTIBOOT2_ERR_BAD_TAG_SIZE;
    }
    if (out->acpi.extended && !extended) {
        return MULTIBOOT2_OK;
    }
    out->acpi.present = true;
    out->acpi.extended = extended;
    out->acpi.size = rsdp_size;
    out->acpi.rsdp = tag + MULTIBOOT2_TAG_HEADER_SIZE;
    return MULTIBOOT2_OK;
}

static enum multiboot2_error parse_tags(const uint8_t *base, uint32_t total_size,
                                        struct multiboot2_info *out) {
    /* 64-bit so that offset + align_up(size, 8) cannot wrap; offset is always 8-aligned. */
    uint64_t offset = MULTIBOOT2_FIXED_PART_SIZE;
    bool seen_acpi_old = false;
    bool seen_acpi_new = false;
    for (;;) {
        if (offset >= total_size) {
            return MULTIBOOT2_ERR_NO_END_TAG;
        }
        if (total_size - offset < MULTIBOOT2_TAG_HEADER_SIZE) {
            return MULTIBOOT2_ERR_TRUNCATED;
        }
        const uint8_t *tag = base + offset;
        uint32_t type = read_u32(tag + TAG_TYPE_OFFSET);
        uint32_t size = read_u32(tag + TAG_SIZE_OFFSET);
        if (size < MULTIBOOT2_TAG_HEADER_SIZE) {
            return MULTIBOOT2_ERR_BAD_TAG_SIZE;
        }
        if (size > total_size - offset) {
            return MULTIBOOT2_ERR_TRUNCATED;
        }

        enum multiboot2_error err = MULTIBOOT2_OK;
        switch (type) {
        case MULTIBOOT2_TAG_TYPE_END:
            return size == MULTIBOOT2_TAG_HEADER_SIZE ? MULTIBOOT2_OK : MULTIBOOT2_ERR_BAD_TAG_SIZE;
        case MULTIBOOT2_TAG_TYPE_CMDLINE:
            err = parse_string(tag, size, &out->cmdline);
            break;
        case MULTIBOOT2_TAG_TYPE_BOOTLOADER_NAME:
            err = parse_string(tag, size, &out->bootloader_name);
            break;
        case MULTIBOOT2_TAG_TYPE_MMAP:
            err = parse_mmap(tag, size, out);
            break;
        case MULTIBOOT2_TAG_TYPE_ELF_SECTIONS:
            err = parse_elf(tag, size, out);
            break;
        case MULTIBOOT2_TAG_TYPE_ACPI_OLD:
            err = parse_acpi(tag, size, false, &seen_acpi_old, out);
            break;
        case MULTIBOOT2_TAG_TYPE_ACPI_NEW:
            err = parse_acpi(tag, size, true, &seen_acpi_new, out);
            break;
        default:
            break; /* size already checked; contents not needed */
        }
        if (err != MULTIBOOT2_OK) {
            return err;
        }
        offset +=
            ((uint64_t)size + (MULTIBOOT2_TAG_ALIGN - 1)) & ~(uint64_t)(MULTIBOOT2_TAG_ALIGN - 1);
    }
}

enum multiboot2_error multiboot2_parse(uint32_t magic, uint64_t info_phys, const void *info,
                                       uint32_t max_size, struct multiboot2_info *out) {
    if (out == NULL) {
        return MULTIBOOT2_ERR_NULL;
    }
    __builtin_memset(out, 0, sizeof *out);
    if (info == NULL) {
        return MULTIBOOT2_ERR_NULL;
    }
    if (magic != MULTIBOOT2_BOOTLOADER_MAGIC) {
        return MULTIBOOT2_ERR_BAD_MAGIC;
    }
    if ((uintptr_t)info % MULTIBOOT2_TAG_ALIGN != 0 || info_phys % MULTIBOOT2_TAG_ALIGN != 0) {
        return MULTIBOOT2_ERR_MISALIGNED;
    }
    const uint8_t *base = info;
    uint32_t total_size = read_u32(base);
    if (total_size < MULTIBOOT2_FIXED_PART_SIZE) {
        return MULTIBOOT2_ERR_TRUNCATED;
    }
    if (total_size > max_size || info_phys > UINT64_MAX - total_size ||
        (uintptr_t)info > UINTPTR_MAX - total_size) {
        return MULTIBOOT2_ERR_TOO_LARGE;
    }

    struct multiboot2_info result;
    __builtin_memset(&result, 0, sizeof result);
    enum multiboot2_error err = parse_tags(base, total_size, &result);
    if (err != MULTIBOOT2_OK) {
        return err;
    }
    result.total_size = total_size;
    result.phys_start = info_phys;
    result.phys_end = info_phys + total_size;
    *out = result;
    return MULTIBOOT2_OK;
}

const char *multiboot2_error_name(enum multiboot2_error error) {
    switch (error) {
    case MULTIBOOT2_OK:
        return "ok";
    case MULTIBOOT2_ERR_NULL:
        return "null pointer";
    case MULTIBOOT2_ERR_BAD_MAGIC:
        return "bad magic";
    case MULTIBOOT2_ERR_MISALIGNED:
        return "misaligned boot information";
    case MULTIBOOT2_ERR_TRUNCATED:
        return "truncated";
    case MULTIBOOT2_ERR_TOO_LARGE:
        return "too large";
    case MULTIBOOT2_ERR_BAD_TAG_SIZE:
        return "bad tag size";
    case MULTIBOOT2_ERR_NO_END_TAG:
        return "no end tag";
    case MULTIBOOT2_ERR_DUPLICATE_TAG:
        return "duplicate tag";
    case MULTIBOOT2_ERR_BAD_MMAP_ENTRY_SIZE:
        return "bad memory map entry size";
    case MULTIBOOT2_ERR_BAD_MMAP_LENGTH:
        return "bad memory map length";
    case MULTIBOOT2_ERR_UNTERMINATED_STRING:
        return "unterminated string";
    case MULTIBOOT2_ERR_BAD_ELF_SECTIONS:
        return "bad ELF sections";
    }
    return "unknown error";
}

bool multiboot2_mmap_get(const struct multiboot2_info *info, uint32_t index,
                         struct multiboot2_mmap_entry *out) {
    if (!info->mmap.present || index >= info->mmap.count) {
        return false;
    }
    const uint8_t *e = info->mmap.entries + (size_t)index * info->mmap.entry_size;
    out->base = read_u64(e + MMAP_ENTRY_BASE_OFFSET);
    out->length = read_u64(e + MMAP_ENTRY_LENGTH_OFFSET);
    out->type = read_u32(e + MMAP_ENTRY_TYPE_OFFSET);
    return true;
}

bool multiboot2_elf_section_get(const struct multiboot2_info *info, uint32_t index,
                                struct multiboot2_elf_section *out) {
    if (!info->elf.present || index >= info->elf.num) {
        return false;
    }
    const uint8_t *h = info->elf.headers + (size_t)index * info->elf.entsize;
    out->name = read_u32(h + SHDR_NAME_OFFSET);
    out->type = read_u32(h + SHDR_TYPE_OFFSET);
    if (info->elf.entsize == MULTIBOOT2_ELF64_SHDR_SIZE) {
        /* Elf64_Shdr: name u32, type u32, flags u64, addr u64, offset u64, size u64, ... */
        out->flags = read_u64(h + SHDR_FLAGS_OFFSET);
        out->addr = read_u64(h + SHDR64_ADDR_OFFSET);
        out->size = read_u64(h + SHDR64_SIZE_OFFSET);
    } else {
        /* Elf32_Shdr: name, type, flags, addr, offset, size, ... all u32. */
        out->flags = read_u32(h + SHDR_FLAGS_OFFSET);
        out->addr = read_u32(h + SHDR32_ADDR_OFFSET);
        out->size = read_u32(h + SHDR32_SIZE_OFFSET);
    }
    return true;
}

bool multiboot2_elf_loaded_range(const struct multiboot2_info *info, uint64_t *start,
                                 uint64_t *end) {
    uint64_t lo = UINT64_MAX;
    uint64_t hi = 0;
    bool found = false;
    struct multiboot2_elf_section s;
    for (uint32_t i = 0; multiboot2_elf_section_get(info, i, &s); i++) {
        if (s.type == MULTIBOOT2_ELF_SHT_NULL || (s.flags & MULTIBOOT2_ELF_SHF_ALLOC) == 0 ||
            s.size == 0) {
            continue;
        }
        if (s.addr > UINT64_MAX - s.size) {
            return false;
        }
        if (s.addr < lo) {
            lo = s.addr;
        }
        if (s.addr + s.size > hi) {
            hi = s.addr + s.size;
        }
        found = true;
    }
    if (!found) {
        return false;
    }
    *start = lo;
    *end = hi;
    return true;
}
