/* ACPI table validation and the MADT (see acpi.h). Multi-byte fields are read byte by byte as the
 * little-endian values ACPI defines, so the tables may sit at any alignment. */
#include "acpi/acpi.h"

#define MADT_CPU_ENABLED        1u
#define MADT_CPU_ONLINE_CAPABLE 2u
/* The x2APIC destination that addresses every CPU at once (ACPI_XAPIC_BROADCAST_ID is xAPIC's):
 * an entry naming it names no CPU. */
#define X2APIC_BROADCAST_ID 0xffffffffu

static uint32_t read_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t read_u64(const uint8_t *p) {
    return (uint64_t)read_u32(p) | (uint64_t)read_u32(p + 4) << 32;
}

static uint8_t sum_bytes(const uint8_t *p, size_t size) {
    uint8_t sum = 0;
    for (size_t i = 0; i < size; i++) {
        sum = (uint8_t)(sum + p[i]);
    }
    return sum;
}

static bool same_bytes(const uint8_t *p, const char *text, size_t size) {
    for (size_t i = 0; i < size; i++) {
        if (p[i] != (uint8_t)text[i]) {
            return false;
        }
    }
    return true;
}

enum acpi_error acpi_validate_table(const uint8_t *table, size_t available, const char *signature) {
    if (table == NULL || signature == NULL) {
        return ACPI_ERR_NULL;
    }
    if (available < ACPI_HEADER_SIZE) {
        return ACPI_ERR_TABLE_BAD_LENGTH;
    }
    if (!same_bytes(table, signature, 4)) {
        return ACPI_ERR_TABLE_BAD_SIGNATURE;
    }
    uint32_t length = read_u32(table + 4);
    if (length < ACPI_HEADER_SIZE || length > available || length > ACPI_TABLE_MAX_SIZE) {
        return ACPI_ERR_TABLE_BAD_LENGTH;
    }
    if (sum_bytes(table, length) != 0) {
        return ACPI_ERR_TABLE_BAD_CHECKSUM;
    }
    return ACPI_OK;
}

/* Maps the header to learn the length, then the whole table, and validates it. */
static enum acpi_error load_table(const struct acpi_memory *memory, uint64_t phys,
                                  const char *signature, struct acpi_table *out) {
    const uint8_t *header = memory->map(memory->ctx, phys, ACPI_HEADER_SIZE);
    if (header == NULL) {
        return ACPI_ERR_TABLE_UNREACHABLE;
    }
    /* The signature first, on the header alone: a table of the wrong kind is named so whatever
     * its length says, and whether or not the whole of it can be mapped. */
    if (!same_bytes(header, signature, 4)) {
        return ACPI_ERR_TABLE_BAD_SIGNATURE;
    }
    uint32_t length = read_u32(header + 4);
    if (length < ACPI_HEADER_SIZE || length > ACPI_TABLE_MAX_SIZE) {
        return ACPI_ERR_TABLE_BAD_LENGTH;
    }
    const uint8_t *table = memory->map(memory->ctx, phys, length);
    if (table == NULL) {
        return ACPI_ERR_TABLE_UNREACHABLE;
    }
    enum acpi_error error = acpi_validate_table(table, length, signature);
    if (error == ACPI_OK) {
        *out = (struct acpi_table){phys, table, length};
    }
    return error;
}

/* Checks the RSDP and returns the RSDT's address and the XSDT's (0 when there is none: ACPI 1.0,
 * or a 2.0 RSDP that names none). */
static enum acpi_error validate_rsdp(const uint8_t *rsdp, size_t rsdp_size, uint64_t *rsdt_phys,
                                     uint64_t *xsdt_phys) {
    if (rsdp_size < ACPI_RSDP_V1_SIZE) {
        return ACPI_ERR_RSDP_TOO_SHORT;
    }
    if (!same_bytes(rsdp, "RSD PTR ", 8)) {
        return ACPI_ERR_RSDP_BAD_SIGNATURE;
    }
    if (sum_bytes(rsdp, ACPI_RSDP_V1_SIZE) != 0) {
        return ACPI_ERR_RSDP_BAD_CHECKSUM;
    }
    uint8_t revision = rsdp[15];
    *rsdt_phys = read_u32(rsdp + 16);
    *xsdt_phys = 0;
    /* A 2.0 RSDP given in fewer than its 36 bytes (a loader's ACPI 1.0 tag copies the first 20
     * whatever the revision) is read as 1.0: its RSDT address is under the checksum just passed. */
    if (revision >= 2 && rsdp_size >= ACPI_RSDP_V2_SIZE) {
        uint32_t length = read_u32(rsdp + 20);
        if (length < ACPI_RSDP_V2_SIZE || length > rsdp_size) {
            return ACPI_ERR_XSDP_BAD_LENGTH;
        }
        if (sum_bytes(rsdp, length) != 0) {
            return ACPI_ERR_XSDP_BAD_CHECKSUM;
        }
        *xsdt_phys = read_u64(rsdp + 24);
    }
    return ACPI_OK;
}

/* Loads and validates a root table (RSDT or XSDT) whose entries are entry_size bytes each. */
static enum acpi_error load_root(const struct acpi_memory *memory, uint64_t phys,
                                 const char *signature, size_t entry_size, struct acpi_table *out) {
    enum acpi_error error = load_table(memory, phys, signature, out);
    if (error == ACPI_OK && (out->length - ACPI_HEADER_SIZE) % entry_size != 0) {
        error = ACPI_ERR_TABLE_BAD_LENGTH;
    }
    return error;
}

enum acpi_error acpi_find_table(const uint8_t *rsdp, size_t rsdp_size,
                                const struct acpi_memory *memory, const char *signature,
                                struct acpi_table *out) {
    if (rsdp == NULL || memory == NULL || memory->map == NULL || signature == NULL || out == NULL) {
        return ACPI_ERR_NULL;
    }
    uint64_t rsdt_phys;
    uint64_t xsdt_phys;
    enum acpi_error error = validate_rsdp(rsdp, rsdp_size, &rsdt_phys, &xsdt_phys);
    if (error != ACPI_OK) {
        return error;
    }
    if (xsdt_phys == 0 && rsdt_phys == 0) {
        return ACPI_ERR_RSDP_NO_ROOT; /* not physical address 0 read as a table */
    }
    struct acpi_table root;
    size_t entry_size = 8;
    error = xsdt_phys != 0 ? load_root(memory, xsdt_phys, "XSDT", entry_size, &root)
                           : ACPI_ERR_NOT_FOUND;
    if (error != ACPI_OK && (xsdt_phys == 0 || rsdt_phys != 0)) {
        /* No XSDT, or a refused one: the RSDT lists the same tables with 32-bit addresses, and a
         * bad XSDT is no reason to do without them. A refused XSDT's error stands when the RSDT
         * is refused too. */
        entry_size = 4;
        enum acpi_error rsdt_error = load_root(memory, rsdt_phys, "RSDT", entry_size, &root);
        error = xsdt_phys == 0 || rsdt_error == ACPI_OK ? rsdt_error : error;
    }
    if (error != ACPI_OK) {
        return error;
    }
    bool unreachable = false;
    for (size_t offset = ACPI_HEADER_SIZE; offset < root.length; offset += entry_size) {
        /* Mapped again for each entry, since the last entry's header may have taken the root's
         * place (acpi.h); the root was mapped whole before, so this can fail only with a map
         * function that changed its mind. */
        const uint8_t *entry = memory->map(memory->ctx, root.phys + offset, entry_size);
        if (entry == NULL) {
            return ACPI_ERR_TABLE_UNREACHABLE;
        }
        uint64_t phys = entry_size == 8 ? read_u64(entry) : read_u32(entry);
        const uint8_t *header = memory->map(memory->ctx, phys, ACPI_HEADER_SIZE);
        if (header == NULL) {
            unreachable = true; /* perhaps the table searched for: said if no other entry is */
            continue;
        }
        if (same_bytes(header, signature, 4)) {
            error = load_table(memory, phys, signature, out);
            if (error != ACPI_ERR_TABLE_UNREACHABLE) {
                return error;
            }
            unreachable = true; /* its header, not its whole length: passed over as above */
        }
    }
    return unreachable ? ACPI_ERR_TABLE_UNREACHABLE : ACPI_ERR_NOT_FOUND;
}

/* Whether an enabled CPU already stored has this APIC id. */
static bool enabled_apic_id_stored(const struct acpi_madt *out, uint32_t apic_id) {
    for (uint32_t i = 0; i < out->cpus_stored; i++) {
        if (out->cpus[i].enabled && out->cpus[i].apic_id == apic_id) {
            return true;
        }
    }
    return false;
}

/* Makes room at the end of a full array by removing its first disabled entry (the later ones move
 * down one, keeping table order); false when every stored entry is enabled. */
static bool drop_first_disabled(struct acpi_madt *out) {
    for (uint32_t i = 0; i < out->cpus_stored; i++) {
        if (!out->cpus[i].enabled) {
            for (uint32_t j = i + 1; j < out->cpus_stored; j++) {
                out->cpus[j - 1] = out->cpus[j];
            }
            out->cpus_stored--;
            return true;
        }
    }
    return false;
}

static void add_cpu(struct acpi_madt *out, uint32_t apic_id, uint32_t broadcast_id, uint32_t uid,
                    uint32_t flags) {
    bool enabled = (flags & MADT_CPU_ENABLED) != 0;
    out->cpus_listed++;
    if (apic_id == broadcast_id) {
        out->cpus_bad_id++; /* an INIT there would reset every CPU, the running ones too */
        return;
    }
    if (enabled && enabled_apic_id_stored(out, apic_id)) {
        out->cpus_duplicate++; /* firmware's error: one CPU, started once */
        return;
    }
    if (out->cpus_stored == ACPI_MADT_MAX_CPUS) {
        /* Full: an enabled CPU, which the kernel would start, goes before a disabled one. */
        if (!enabled) {
            return;
        }
        if (!drop_first_disabled(out)) {
            out->cpus_enabled_unstored++;
            return;
        }
    }
    out->cpus[out->cpus_stored++] = (struct acpi_madt_cpu){
        .apic_id = apic_id,
        .processor_uid = uid,
        .enabled = enabled,
        .online_capable = (flags & MADT_CPU_ONLINE_CAPABLE) != 0,
    };
}

/* Every MADT entry's first two bytes: its type and its length. */
#define MADT_ENTRY_HEADER 2u

/* The length an entry of this type needs: the bytes read_madt reads of it, or its type and length
 * bytes alone for a type it passes over. */
static uint8_t entry_min_length(uint8_t type) {
    switch (type) {
    case ACPI_MADT_ENTRY_LOCAL_APIC:
        return 8;
    case ACPI_MADT_ENTRY_IO_APIC:
    case ACPI_MADT_ENTRY_LOCAL_APIC_OVERRIDE:
        return 12;
    case ACPI_MADT_ENTRY_LOCAL_X2APIC:
        return 16;
    default:
        return MADT_ENTRY_HEADER;
    }
}

bool acpi_madt_reads_entry_type(uint8_t type) {
    return entry_min_length(type) > MADT_ENTRY_HEADER;
}

/* The MADT entry at offset (below table_length): its type and length bytes lie within the table,
 * its length is at least what its type needs (so it moves past it), and it does not leave the
 * table; NULL where not. */
static const uint8_t *entry_at(const uint8_t *madt, uint32_t table_length, uint32_t offset) {
    if (table_length - offset < MADT_ENTRY_HEADER) {
        return NULL;
    }
    const uint8_t *entry = madt + offset;
    return entry[1] < entry_min_length(entry[0]) || entry[1] > table_length - offset ? NULL : entry;
}

uint32_t acpi_madt_first_skipped_entry(const uint8_t *madt, uint32_t length) {
    for (uint32_t offset = ACPI_MADT_FIXED_SIZE; offset < length;) {
        const uint8_t *entry = entry_at(madt, length, offset);
        if (entry == NULL) {
            return 0;
        }
        if (!acpi_madt_reads_entry_type(entry[0])) {
            return offset;
        }
        offset += entry[1];
    }
    return 0;
}

/* Reads the entries of a validated MADT of table_length bytes into *out (zeroed by the caller);
 * entry_at has checked each entry's length against its type. */
static enum acpi_error read_madt(const uint8_t *madt, uint32_t table_length,
                                 struct acpi_madt *out) {
    out->local_apic_phys = read_u32(madt + 36);
    out->flags = read_u32(madt + 40);
    for (uint32_t offset = ACPI_MADT_FIXED_SIZE; offset < table_length;) {
        const uint8_t *entry = entry_at(madt, table_length, offset);
        if (entry == NULL) {
            return ACPI_ERR_MADT_BAD_ENTRY;
        }
        uint8_t type = entry[0];
        uint8_t entry_length = entry[1];
        switch (type) {
        case ACPI_MADT_ENTRY_LOCAL_APIC:
            add_cpu(out, entry[3], ACPI_XAPIC_BROADCAST_ID, entry[2], read_u32(entry + 4));
            break;
        case ACPI_MADT_ENTRY_LOCAL_X2APIC:
            add_cpu(out, read_u32(entry + 4), X2APIC_BROADCAST_ID, read_u32(entry + 12),
                    read_u32(entry + 8));
            break;
        case ACPI_MADT_ENTRY_IO_APIC:
            out->io_apics++;
            break;
        case ACPI_MADT_ENTRY_LOCAL_APIC_OVERRIDE:
            out->local_apic_phys = read_u64(entry + 4);
            break;
        default:
            break; /* a type acpi_madt_reads_entry_type names not: passed over */
        }
        offset += entry_length;
    }
    return ACPI_OK;
}

enum acpi_error acpi_parse_madt(const uint8_t *madt, size_t length, struct acpi_madt *out) {
    if (out == NULL) {
        return ACPI_ERR_NULL;
    }
    *out = (struct acpi_madt){0}; /* before any error, a NULL table's too */
    if (madt == NULL) {
        return ACPI_ERR_NULL;
    }
    enum acpi_error error = acpi_validate_table(madt, length, "APIC");
    if (error != ACPI_OK) {
        return error;
    }
    uint32_t table_length = read_u32(madt + 4);
    if (table_length < ACPI_MADT_FIXED_SIZE) {
        return ACPI_ERR_TABLE_BAD_LENGTH;
    }
    error = read_madt(madt, table_length, out);
    if (error != ACPI_OK) {
        *out = (struct acpi_madt){0}; /* nothing from a refused table, not the entries before */
    }
    return error;
}

const char *acpi_error_name(enum acpi_error error) {
    switch (error) {
    case ACPI_OK:
        return "ok";
    case ACPI_ERR_NULL:
        return "null argument";
    case ACPI_ERR_RSDP_TOO_SHORT:
        return "RSDP too short";
    case ACPI_ERR_RSDP_BAD_SIGNATURE:
        return "RSDP bad signature";
    case ACPI_ERR_RSDP_BAD_CHECKSUM:
        return "RSDP bad checksum";
    case ACPI_ERR_XSDP_BAD_LENGTH:
        return "XSDP bad length";
    case ACPI_ERR_XSDP_BAD_CHECKSUM:
        return "XSDP bad extended checksum";
    case ACPI_ERR_RSDP_NO_ROOT:
        return "RSDP names no root table";
    case ACPI_ERR_TABLE_UNREACHABLE:
        return "table unreachable";
    case ACPI_ERR_TABLE_BAD_SIGNATURE:
        return "table bad signature";
    case ACPI_ERR_TABLE_BAD_LENGTH:
        return "table bad length";
    case ACPI_ERR_TABLE_BAD_CHECKSUM:
        return "table bad checksum";
    case ACPI_ERR_NOT_FOUND:
        return "table not found";
    case ACPI_ERR_MADT_BAD_ENTRY:
        return "MADT bad entry";
    }
    return "unknown error";
}
