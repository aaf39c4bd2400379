/* ACPI tables, as far as the kernel needs them to find its CPUs: the RSDP (ACPI 1.0, 20 bytes,
 * or 2.0+, 36 bytes, as the multiboot2 ACPI tags carry it), the root table it points to (RSDT with
 * 32-bit entries or XSDT with 64-bit ones), and the MADT ("APIC") with its local APIC and x2APIC
 * entries.
 *
 * Pure C: table memory is reached through an injected map function, so the host tests hand it
 * forged tables. Every table is checked before use: signature, a length that covers its header and
 * its entries, and the checksum (all bytes sum to zero). A bad table is refused with a named
 * error; nothing from it is used. */
#ifndef ACPI_ACPI_H
#define ACPI_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_RSDP_V1_SIZE 20u
#define ACPI_RSDP_V2_SIZE 36u
#define ACPI_HEADER_SIZE  36u
/* The header's checksum byte: the one a writer sets so that the table's bytes sum to zero. */
#define ACPI_HEADER_CHECKSUM_OFFSET 9u
#define ACPI_MADT_FIXED_SIZE        44u /* header, local APIC address, flags */
/* The MADT entry types acpi_parse_madt reads (ACPI 6.5, table 5.21); it passes over the others
 * (acpi_madt_reads_entry_type), checking only that each one's length moves past it and stays
 * within the table. */
#define ACPI_MADT_ENTRY_LOCAL_APIC          0u
#define ACPI_MADT_ENTRY_IO_APIC             1u
#define ACPI_MADT_ENTRY_LOCAL_APIC_OVERRIDE 5u
#define ACPI_MADT_ENTRY_LOCAL_X2APIC        9u
/* Larger than any table the kernel reads; a length above it is refused as corrupt. */
#define ACPI_TABLE_MAX_SIZE (1u << 20)
/* CPU entries stored from the MADT; more are counted (cpus_listed, cpus_enabled_unstored) but not
 * stored. */
#define ACPI_MADT_MAX_CPUS 64

enum acpi_error {
    ACPI_OK = 0,
    ACPI_ERR_NULL,                /* "null argument" */
    ACPI_ERR_RSDP_TOO_SHORT,      /* "RSDP too short" */
    ACPI_ERR_RSDP_BAD_SIGNATURE,  /* "RSDP bad signature" */
    ACPI_ERR_RSDP_BAD_CHECKSUM,   /* "RSDP bad checksum" */
    ACPI_ERR_XSDP_BAD_LENGTH,     /* "XSDP bad length" */
    ACPI_ERR_XSDP_BAD_CHECKSUM,   /* "XSDP bad extended checksum" */
    ACPI_ERR_RSDP_NO_ROOT,        /* "RSDP names no root table": its RSDT and XSDT addresses 0 */
    ACPI_ERR_TABLE_UNREACHABLE,   /* "table unreachable": the map function refused */
    ACPI_ERR_TABLE_BAD_SIGNATURE, /* "table bad signature" */
    ACPI_ERR_TABLE_BAD_LENGTH,    /* "table bad length" */
    ACPI_ERR_TABLE_BAD_CHECKSUM,  /* "table bad checksum" */
    ACPI_ERR_NOT_FOUND,           /* "table not found" */
    ACPI_ERR_MADT_BAD_ENTRY,      /* "MADT bad entry" */
};

/* Returns a pointer through which size bytes at physical address phys can be read, or NULL. The
 * bytes need stay readable only until the next call (one mapping window will do): the parser
 * keeps no pointer from one call across the next. */
struct acpi_memory {
    const void *(*map)(void *ctx, uint64_t phys, uint64_t size);
    void *ctx;
};

struct acpi_table {
    uint64_t phys;
    const uint8_t *data; /* length bytes, validated; from the search's last map call */
    uint32_t length;
};

/* Checks a table of at most available bytes: signature (4 characters), length (at least the header,
 * at most available and ACPI_TABLE_MAX_SIZE) and checksum. ACPI_ERR_NULL when table or signature
 * is NULL; ACPI_ERR_TABLE_BAD_LENGTH, with no byte read, when available is below the header. */
enum acpi_error acpi_validate_table(const uint8_t *table, size_t available, const char *signature);

/* Validates the RSDP (rsdp_size bytes: 20 for ACPI 1.0, 36 or more for 2.0+; a 2.0+ RSDP given in
 * fewer than 36 is read as 1.0, its RSDT alone), then its root table (the XSDT when the RSDP is
 * 2.0+, given whole and naming one, else the RSDT; the RSDT too when the XSDT is
 * refused, and then the XSDT's error stands if the RSDT is refused as well or its address is 0),
 * then finds the table with the given signature among the root's entries and validates it. An
 * RSDP that names neither root (each address it gives, as read, is 0) is ACPI_ERR_RSDP_NO_ROOT, and
 * nothing is mapped. A bad
 * entry table is refused even when another entry would match. An entry the map function cannot
 * reach (its header, or a matching table's whole length) is passed over; when no other entry
 * matches, the result is ACPI_ERR_TABLE_UNREACHABLE rather than ACPI_ERR_NOT_FOUND. ACPI_ERR_NULL
 * when rsdp, memory, memory->map, signature or out is NULL. */
enum acpi_error acpi_find_table(const uint8_t *rsdp, size_t rsdp_size,
                                const struct acpi_memory *memory, const char *signature,
                                struct acpi_table *out);

struct acpi_madt_cpu {
    uint32_t apic_id;
    uint32_t processor_uid;
    bool enabled;        /* usable now */
    bool online_capable; /* may be enabled later; not started by the kernel */
};

/* The 8-bit destination that addresses every CPU at once in xAPIC mode: a local APIC entry naming
 * it names no CPU (and is not stored), and an x2APIC entry's 32-bit id at or above it is one xAPIC
 * mode cannot name alone. */
#define ACPI_XAPIC_BROADCAST_ID 0xffu

struct acpi_madt {
    uint64_t local_apic_phys; /* the 64-bit override entry if present, else the header's field */
    uint32_t flags;
    uint32_t cpus_listed; /* local APIC and x2APIC entries in the table */
    /* Enabled entries naming the APIC id of an enabled CPU already stored: not stored again (an
     * APIC id names one CPU, and starting it twice would reset it). */
    uint32_t cpus_duplicate;
    /* Entries naming an APIC id that is the broadcast destination rather than one CPU's (0xff in
     * a local APIC entry, 0xffffffff in an x2APIC one): not stored, since an INIT sent there
     * would reset every other CPU. */
    uint32_t cpus_bad_id;
    /* The other entries, in table order, up to ACPI_MADT_MAX_CPUS; no two enabled ones share an
     * APIC id, and none has a broadcast one. When more are listed, enabled entries are kept in
     * preference: a later enabled entry takes the place of the first disabled one stored (the
     * others move down one). */
    uint32_t cpus_stored;
    struct acpi_madt_cpu cpus[ACPI_MADT_MAX_CPUS];
    /* Enabled entries (not duplicates, not broadcast ids) that found every stored entry enabled:
     * entries, not CPUs. Each names a usable CPU left out, which the kernel cannot start, but an
     * APIC id listed more than once among them counts once per entry: duplicates are looked for
     * among the stored entries only, since looking among these would mean reading the table again
     * for each, a cost quadratic in a table that may list a hundred thousand entries. So it is 0
     * exactly when no usable CPU is left out, and otherwise at least the number of those CPUs. */
    uint32_t cpus_enabled_unstored;
    uint32_t io_apics;
};

/* Whether acpi_parse_madt reads entries of this type (the ACPI_MADT_ENTRY_* above) rather than
 * passing over them. */
bool acpi_madt_reads_entry_type(uint8_t type);

/* The offset of the first entry of the validated MADT of `length` bytes at madt whose type
 * acpi_parse_madt passes over, walked as acpi_parse_madt walks its entries; 0 if it has none (a
 * table shorter than ACPI_MADT_FIXED_SIZE has none), or an entry before it is bad. For tests that
 * break such an entry, whose length alone keeps the walk moving. */
uint32_t acpi_madt_first_skipped_entry(const uint8_t *madt, uint32_t length);

/* Validates the MADT (as acpi_validate_table with "APIC"; a valid table shorter than
 * ACPI_MADT_FIXED_SIZE is ACPI_ERR_TABLE_BAD_LENGTH) and reads its entries. An entry shorter than
 * 2 bytes, running past the table, or shorter than its type requires is ACPI_ERR_MADT_BAD_ENTRY.
 * Unknown entry types are skipped. ACPI_ERR_NULL when madt or out is NULL. On any error *out is
 * all zero (when out is not NULL): nothing of a refused table, not even the entries before the
 * bad one. */
enum acpi_error acpi_parse_madt(const uint8_t *madt, size_t length, struct acpi_madt *out);

/* The name of an error, quoted beside each value of enum acpi_error ("ok" for ACPI_OK); "unknown
 * error" for a value outside the enum. A static string, never NULL. */
const char *acpi_error_name(enum acpi_error error);

#endif
