/* Host tests of //acpi over forged tables in a simulated physical memory: good ACPI 1.0 (RSDT)
 * and 2.0 (XSDT) chains, and every refusal with its named reason. */
#include "acpi/acpi.h"
#include "acpi/testing/table_bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check.h"

#define MEMORY_SIZE 8192
#define RSDT_PHYS   0x100
#define XSDT_PHYS   0x200
#define FACP_PHYS   0x400
#define MADT_PHYS   0x800
/* A second MADT, for the root tables to list different ones. */
#define MADT_COPY_PHYS 0xc00

static uint8_t memory[MEMORY_SIZE];
static uint8_t rsdp[ACPI_RSDP_V2_SIZE];

/* Calls of map, for the checks that nothing is mapped. */
static unsigned map_calls;

static const void *map(void *ctx, uint64_t phys, uint64_t size) {
    (void)ctx;
    map_calls++;
    return phys <= MEMORY_SIZE && size <= MEMORY_SIZE - phys ? memory + phys : NULL;
}

static const struct acpi_memory simulated = {map, NULL};

/* A table header at phys with the given length (the whole table's, header included); the checksum
 * is fixed by seal(). */
static uint8_t *header(uint64_t phys, const char *signature, uint32_t length) {
    uint8_t *t = memory + phys;
    table_put_text(t, signature, 4);
    table_put_u32(t + 4, length);
    t[8] = 1;
    table_put_text(t + 10, "FORGED", 6);
    return t;
}

/* The checksum of the table at table over its length field's bytes. */
static void seal(uint8_t *table) {
    table_seal(table, table_get_u32(table + 4), ACPI_HEADER_CHECKSUM_OFFSET);
}

/* Appends an entry of the given type and length (its other bytes zero) to the table of `length`
 * bytes at table, and seals it; returns the new length. */
static uint32_t append_entry(uint8_t *table, uint32_t length, uint8_t type, uint8_t entry_length) {
    memset(table + length, 0, entry_length);
    table[length] = type;
    table[length + 1] = entry_length;
    table_put_u32(table + 4, length + entry_length);
    seal(table);
    return length + entry_length;
}

/* The MADT of a 4-CPU machine, CPU 2 disabled, plus an I/O APIC and an x2APIC entry. */
static uint32_t build_madt(void) {
    uint32_t length = ACPI_MADT_FIXED_SIZE + 4 * 8 + 12 + 16;
    uint8_t *t = header(MADT_PHYS, "APIC", length);
    table_put_u32(t + 36, 0xfee00000u);
    table_put_u32(t + 40, 1);
    uint8_t *e = t + ACPI_MADT_FIXED_SIZE;
    for (int cpu = 0; cpu < 4; cpu++, e += 8) {
        e[0] = 0;
        e[1] = 8;
        e[2] = (uint8_t)cpu;
        e[3] = (uint8_t)(cpu * 2);
        table_put_u32(e + 4, cpu == 2 ? 0 : 1);
    }
    e[0] = 1;
    e[1] = 12;
    e += 12;
    e[0] = 9;
    e[1] = 16;
    table_put_u32(e + 4, 300);
    table_put_u32(e + 8, 1);
    table_put_u32(e + 12, 77);
    seal(t);
    return length;
}

static void build_tables(int revision) {
    memset(memory, 0, sizeof memory);
    memset(rsdp, 0, sizeof rsdp);
    seal(header(FACP_PHYS, "FACP", ACPI_HEADER_SIZE + 8));
    build_madt();
    uint8_t *rsdt = header(RSDT_PHYS, "RSDT", ACPI_HEADER_SIZE + 8);
    table_put_u32(rsdt + ACPI_HEADER_SIZE, FACP_PHYS);
    table_put_u32(rsdt + ACPI_HEADER_SIZE + 4, MADT_PHYS);
    seal(rsdt);
    uint8_t *xsdt = header(XSDT_PHYS, "XSDT", ACPI_HEADER_SIZE + 16);
    table_put_u64(xsdt + ACPI_HEADER_SIZE, FACP_PHYS);
    table_put_u64(xsdt + ACPI_HEADER_SIZE + 8, MADT_PHYS);
    seal(xsdt);

    table_put_text(rsdp, "RSD PTR ", 8);
    table_put_text(rsdp + 9, "FORGED", 6);
    rsdp[15] = (uint8_t)revision;
    table_put_u32(rsdp + 16, RSDT_PHYS);
    if (revision >= 2) {
        table_put_u32(rsdp + 20, ACPI_RSDP_V2_SIZE);
        table_put_u64(rsdp + 24, XSDT_PHYS);
    }
    table_seal(rsdp, ACPI_RSDP_V1_SIZE, 8);
    if (revision >= 2) {
        table_seal(rsdp, ACPI_RSDP_V2_SIZE, 32);
    }
}

static int check_madt_contents(const struct acpi_table *table) {
    struct acpi_madt madt;
    ASSERT_EQ(ACPI_OK, acpi_parse_madt(table->data, table->length, &madt));
    ASSERT_EQ(0xfee00000u, madt.local_apic_phys);
    ASSERT_EQ(5, madt.cpus_listed);
    ASSERT_EQ(5, madt.cpus_stored);
    ASSERT_EQ(1, madt.io_apics);
    ASSERT_EQ(4, madt.cpus[2].apic_id);
    ASSERT_FALSE(madt.cpus[2].enabled);
    ASSERT_TRUE(madt.cpus[3].enabled);
    ASSERT_EQ(6, madt.cpus[3].apic_id);
    ASSERT_EQ(300, madt.cpus[4].apic_id);
    ASSERT_EQ(77, madt.cpus[4].processor_uid);
    return 0;
}

static int rsdt_chain_check(void) {
    build_tables(0);
    struct acpi_table table;
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(MADT_PHYS, table.phys);
    return check_madt_contents(&table);
}

static int xsdt_chain_check(void) {
    build_tables(2);
    /* Break the RSDT: a 2.0 RSDP must lead to the XSDT instead. */
    memory[RSDT_PHYS] = 'X';
    struct acpi_table table;
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    return check_madt_contents(&table);
}

/* The 2.0 chain with both root tables good but listing different MADTs: the XSDT the one at
 * MADT_PHYS, the RSDT (its second entry changed, sealed again) a copy at MADT_COPY_PHYS.
 * Expect the copy from the RSDP's first 20 bytes (read as 1.0: the RSDT alone), and the MADT at
 * MADT_PHYS from all 36: the XSDT of a 2.0 RSDP is used when it is good, and the RSDT only when
 * the XSDT is refused (acpi.h), not whenever the RSDT is good too. */
static int good_xsdt_preferred_to_good_rsdt_check(void) {
    struct acpi_table table = {0};
    build_tables(2);
    memcpy(memory + MADT_COPY_PHYS, memory + MADT_PHYS, table_get_u32(memory + MADT_PHYS + 4));
    uint8_t *rsdt = memory + RSDT_PHYS;
    table_put_u32(rsdt + ACPI_HEADER_SIZE + 4, MADT_COPY_PHYS);
    seal(rsdt);
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(MADT_COPY_PHYS, table.phys);
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(MADT_PHYS, table.phys);
    return 0;
}

/* A 2.0 RSDP: 19 bytes given; its first 20 bytes alone (a loader's ACPI 1.0 tag), with its RSDT
 * good and then broken, and the whole 36 with the RSDT broken, then both with the RSDT's address 0
 * (sealed); a reserved byte only the extended
 * checksum covers changed; a byte of the RSDT address; the signature; no RSDP at all.
 * Expect ACPI_ERR_RSDP_TOO_SHORT; from 20 bytes the MADT through the RSDT, and the RSDT's refusal
 * once it is broken (the XSDT, named past those 20 bytes, is not read), where the 36 bytes find the
 * MADT through the XSDT; with the RSDT's address 0, ACPI_ERR_RSDP_NO_ROOT from 20 bytes (address 0
 * is not read as a table) and the MADT through the XSDT from 36; ACPI_ERR_XSDP_BAD_CHECKSUM;
 * ACPI_ERR_RSDP_BAD_CHECKSUM; ACPI_ERR_RSDP_BAD_SIGNATURE; ACPI_ERR_NULL. */
static int rsdp_refusals_check(void) {
    struct acpi_table table;
    build_tables(2);
    ASSERT_EQ(ACPI_ERR_RSDP_TOO_SHORT, acpi_find_table(rsdp, 19, &simulated, "APIC", &table));
    /* Its first 20 bytes alone: read as 1.0, through the RSDT, and the RSDT alone, so that with
     * the RSDT broken they find nothing where the whole 36 find the MADT through the XSDT. */
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(MADT_PHYS, table.phys);
    memory[RSDT_PHYS] = 'X';
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_SIGNATURE,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    memory[RSDT_PHYS] = 'R';
    /* Its RSDT address 0, sealed: from 20 bytes no root at all, from 36 the XSDT. */
    table_put_u32(rsdp + 16, 0);
    table_seal(rsdp, ACPI_RSDP_V1_SIZE, 8);
    table_seal(rsdp, ACPI_RSDP_V2_SIZE, 32);
    map_calls = 0;
    ASSERT_EQ(ACPI_ERR_RSDP_NO_ROOT,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(0, map_calls);
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    build_tables(2);
    rsdp[33] ^= 1; /* reserved byte: only the extended checksum covers it */
    ASSERT_EQ(ACPI_ERR_XSDP_BAD_CHECKSUM,
              acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    rsdp[33] ^= 1;
    rsdp[16] ^= 1;
    ASSERT_EQ(ACPI_ERR_RSDP_BAD_CHECKSUM,
              acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    rsdp[16] ^= 1;
    rsdp[0] = 'r';
    ASSERT_EQ(ACPI_ERR_RSDP_BAD_SIGNATURE,
              acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(ACPI_ERR_NULL, acpi_find_table(NULL, 20, &simulated, "APIC", &table));
    return 0;
}

/* acpi_find_table with each argument but rsdp NULL in turn: memory->map, signature, out, then
 * memory itself; first behind a sealed 2.0 RSDP whose RSDT and XSDT addresses are both 0 (one the
 * search refuses with ACPI_ERR_RSDP_NO_ROOT, mapping nothing, so that a NULL let past the check
 * ends there rather than in a NULL dereference), then behind the good 2.0 chain.
 * Expect ACPI_ERR_RSDP_NO_ROOT from the first RSDP with every argument given, then ACPI_ERR_NULL
 * for each NULL argument (acpi.h names all five) behind either RSDP, with no map call. */
static int find_table_null_arguments_check(void) {
    const struct acpi_memory no_map = {NULL, NULL};
    struct acpi_table table;
    build_tables(2);
    table_put_u32(rsdp + 16, 0);
    table_put_u64(rsdp + 24, 0);
    table_seal(rsdp, ACPI_RSDP_V1_SIZE, 8);
    table_seal(rsdp, ACPI_RSDP_V2_SIZE, 32);
    ASSERT_EQ(ACPI_ERR_RSDP_NO_ROOT,
              acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    for (int chain = 0; chain < 2; chain++) {
        if (chain == 1) {
            build_tables(2);
        }
        map_calls = 0;
        ASSERT_EQ(ACPI_ERR_NULL, acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &no_map, "APIC", &table));
        ASSERT_EQ(ACPI_ERR_NULL,
                  acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, NULL, &table));
        ASSERT_EQ(ACPI_ERR_NULL,
                  acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", NULL));
        ASSERT_EQ(ACPI_ERR_NULL, acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, NULL, "APIC", &table));
        ASSERT_EQ(0, map_calls);
    }
    return 0;
}

static int bad_madt_checksum_check(void) {
    build_tables(0);
    memory[MADT_PHYS + ACPI_MADT_FIXED_SIZE + 3] ^= 0x40; /* one APIC id */
    struct acpi_table table = {0};
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_CHECKSUM,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    ASSERT_TRUE(table.data == NULL);
    struct acpi_madt madt;
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_CHECKSUM, acpi_parse_madt(memory + MADT_PHYS, 200, &madt));
    return 0;
}

static int bad_lengths_check(void) {
    struct acpi_table table;
    struct acpi_madt madt;
    build_tables(0);
    /* A length past the memory the map function can reach. */
    table_put_u32(memory + MADT_PHYS + 4, MEMORY_SIZE);
    ASSERT_EQ(ACPI_ERR_TABLE_UNREACHABLE,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    /*
     * A length above ACPI_TABLE_MAX_SIZE is refused before the table is mapped (the map would
     * fail, ACPI_ERR_TABLE_UNREACHABLE); one of exactly that size is mapped.
     */
    table_put_u32(memory + MADT_PHYS + 4, ACPI_TABLE_MAX_SIZE + 1);
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_LENGTH,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    table_put_u32(memory + MADT_PHYS + 4, ACPI_TABLE_MAX_SIZE);
    ASSERT_EQ(ACPI_ERR_TABLE_UNREACHABLE,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    /* A length below the header. */
    table_put_u32(memory + MADT_PHYS + 4, 10);
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_LENGTH,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    /* A table longer than the bytes given to the parser. */
    uint32_t length = build_madt();
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_LENGTH, acpi_parse_madt(memory + MADT_PHYS, length - 1, &madt));
    /* A MADT valid as a table but shorter than the MADT's fixed part. */
    uint8_t *short_madt = header(MADT_PHYS, "APIC", ACPI_MADT_FIXED_SIZE - 4);
    seal(short_madt);
    ASSERT_EQ(ACPI_OK, acpi_validate_table(short_madt, ACPI_MADT_FIXED_SIZE - 4, "APIC"));
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_LENGTH,
              acpi_parse_madt(short_madt, ACPI_MADT_FIXED_SIZE - 4, &madt));
    /* An RSDT whose entries are not whole. */
    uint8_t *rsdt = memory + RSDT_PHYS;
    table_put_u32(rsdt + 4, ACPI_HEADER_SIZE + 6);
    seal(rsdt);
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_LENGTH,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    return 0;
}

/* Tables under another name (those renamed sealed again, so that only the signature is wrong): the
 * FACP checked as "APIC", an RSDT signed "XSDT" behind an ACPI 1.0 RSDP, the same RSDT with a
 * length below the header as well, then with a length past what the map function reaches, and
 * the MADT signed "APIX".
 * Expect ACPI_ERR_TABLE_BAD_SIGNATURE each time, no table found and nothing of the MADT in the
 * result: a table is used only under the signature asked for, and a wrong one is named even when
 * the length is wrong too. */
static int bad_signature_check(void) {
    struct acpi_table table = {0};
    struct acpi_madt madt;
    build_tables(0);
    ASSERT_EQ(ACPI_OK, acpi_validate_table(memory + FACP_PHYS, ACPI_HEADER_SIZE + 8, "FACP"));
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_SIGNATURE,
              acpi_validate_table(memory + FACP_PHYS, ACPI_HEADER_SIZE + 8, "APIC"));

    uint8_t *rsdt = memory + RSDT_PHYS;
    table_put_text(rsdt, "XSDT", 4);
    seal(rsdt);
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_SIGNATURE,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    ASSERT_TRUE(table.data == NULL);
    table_put_u32(rsdt + 4, 10);
    seal(rsdt);
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_SIGNATURE,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    ASSERT_TRUE(table.data == NULL);
    table_put_u32(rsdt + 4, MEMORY_SIZE); /* a length the map function cannot reach, unsealed */
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_SIGNATURE,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    ASSERT_TRUE(table.data == NULL);

    uint32_t length = build_madt();
    uint8_t *t = memory + MADT_PHYS;
    t[3] = 'X';
    seal(t);
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_SIGNATURE, acpi_parse_madt(t, length, &madt));
    ASSERT_EQ(0, madt.cpus_listed);
    ASSERT_EQ(0, madt.local_apic_phys);
    return 0;
}

/* acpi_validate_table called directly on the FACP (44 bytes, sealed): with no table or no
 * signature; with 3 bytes available, asked for as "FACE", whose first three bytes match and whose
 * fourth, past the bytes given, does not; with one byte fewer available than its length; with a
 * byte of its body changed; and with its length field 10, below the header, sealed over those 10
 * bytes so that only the length is wrong.
 * Expect ACPI_ERR_NULL twice; ACPI_ERR_TABLE_BAD_LENGTH for the 3 bytes, as for any count below the
 * header, whatever the bytes past them hold; ACPI_ERR_TABLE_BAD_LENGTH;
 * ACPI_ERR_TABLE_BAD_CHECKSUM; ACPI_ERR_TABLE_BAD_LENGTH. */
static int validate_table_refusals_check(void) {
    build_tables(0);
    uint8_t *facp = memory + FACP_PHYS;
    const size_t facp_length = ACPI_HEADER_SIZE + 8;
    ASSERT_EQ(ACPI_ERR_NULL, acpi_validate_table(NULL, facp_length, "FACP"));
    ASSERT_EQ(ACPI_ERR_NULL, acpi_validate_table(facp, facp_length, NULL));
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_LENGTH, acpi_validate_table(facp, 3, "FACE"));
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_LENGTH, acpi_validate_table(facp, facp_length - 1, "FACP"));
    facp[ACPI_HEADER_SIZE] ^= 1;
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_CHECKSUM, acpi_validate_table(facp, facp_length, "FACP"));
    facp[ACPI_HEADER_SIZE] ^= 1;
    table_put_u32(facp + 4, 10);
    seal(facp);
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_LENGTH, acpi_validate_table(facp, facp_length, "FACP"));
    return 0;
}

/* A table of its header alone ("SSDT", length 36, sealed) in a buffer of exactly 36 bytes, checked
 * with those 36 available; the same header with its length field 35, one below the header, sealed
 * over those 35 bytes; then an RSDT of its header alone (no entries) behind an ACPI 1.0 RSDP.
 * Expect ACPI_OK (the header is the least a table may be), ACPI_ERR_TABLE_BAD_LENGTH, and
 * ACPI_ERR_NOT_FOUND: the empty root table is valid, and lists nothing. */
static int header_only_table_check(void) {
    struct acpi_table table;
    uint8_t ssdt[ACPI_HEADER_SIZE] = {0};
    table_put_text(ssdt, "SSDT", 4);
    table_put_u32(ssdt + 4, ACPI_HEADER_SIZE);
    table_seal(ssdt, ACPI_HEADER_SIZE, ACPI_HEADER_CHECKSUM_OFFSET);
    ASSERT_EQ(ACPI_OK, acpi_validate_table(ssdt, sizeof ssdt, "SSDT"));
    table_put_u32(ssdt + 4, ACPI_HEADER_SIZE - 1);
    table_seal(ssdt, ACPI_HEADER_SIZE - 1, ACPI_HEADER_CHECKSUM_OFFSET);
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_LENGTH, acpi_validate_table(ssdt, sizeof ssdt, "SSDT"));

    build_tables(0);
    seal(header(RSDT_PHYS, "RSDT", ACPI_HEADER_SIZE));
    ASSERT_EQ(ACPI_ERR_NOT_FOUND,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    return 0;
}

/* A 2.0 RSDP of 36 bytes whose own length field (bytes 20..23) is out of range: 20, the 1.0 size,
 * whose 20 bytes pass the 1.0 checksum; then 37, one byte more than the caller gave, in a buffer
 * whose 37th byte makes those 37 bytes sum to zero.
 * Expect ACPI_ERR_XSDP_BAD_LENGTH both times: the extended checksum covers at least the 36 bytes
 * that hold the XSDT's address, and no byte past the rsdp_size the caller gave. */
static int xsdp_bad_length_field_check(void) {
    struct acpi_table table;
    uint8_t longer[ACPI_RSDP_V2_SIZE + 1];
    build_tables(2);
    table_put_u32(rsdp + 20, ACPI_RSDP_V1_SIZE);
    ASSERT_EQ(ACPI_ERR_XSDP_BAD_LENGTH,
              acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));

    build_tables(2);
    memcpy(longer, rsdp, ACPI_RSDP_V2_SIZE);
    table_put_u32(longer + 20, ACPI_RSDP_V2_SIZE + 1);
    table_seal(longer, ACPI_RSDP_V2_SIZE + 1, ACPI_RSDP_V2_SIZE);
    ASSERT_EQ(ACPI_ERR_XSDP_BAD_LENGTH,
              acpi_find_table(longer, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    return 0;
}

/* The MADT of build_madt with one entry broken at a time: the I/O APIC entry retyped to one the
 * parser does not know (0x7f) and its length set to 0; CPU 0's entry 6 bytes long, below its 8;
 * the last entry running past the table; an entry of 1 byte at the end, followed by what reads as
 * an I/O APIC entry if the 1 is taken; then one entry more at the end, one byte shorter than its
 * type's fields: an x2APIC entry of 15 bytes, an I/O APIC entry of 11, a local APIC address
 * override of 11. Then the good table copied into a buffer of exactly its
 * length plus one byte, that byte counted by the table's length: an entry too short for its own
 * type and length bytes.
 * Expect ACPI_ERR_MADT_BAD_ENTRY each time: an entry of a type the parser skips is still checked
 * for a length that moves past it (0 would loop forever), an entry of a known type for the bytes
 * the parser reads of it, and no byte past the table is read (AddressSanitizer, with
 * --config=asan, catches a read of the byte after the copy). */
static int bad_entries_check(void) {
    struct acpi_madt madt;
    build_tables(0);
    uint8_t *t = memory + MADT_PHYS;
    uint32_t length = build_madt();
    uint8_t *io_apic = t + ACPI_MADT_FIXED_SIZE + 4 * 8;
    /* Type and length of an entry one byte shorter than its type's fields. */
    static const uint8_t short_entries[][2] = {{9, 15}, {1, 11}, {5, 11}};
    io_apic[0] = 0x7f;
    io_apic[1] = 0;
    seal(t);
    ASSERT_EQ(ACPI_ERR_MADT_BAD_ENTRY, acpi_parse_madt(t, length, &madt));
    build_madt();
    t[ACPI_MADT_FIXED_SIZE + 1] = 6;
    seal(t);
    ASSERT_EQ(ACPI_ERR_MADT_BAD_ENTRY, acpi_parse_madt(t, length, &madt));
    build_madt();
    t[length - 15] = 200;
    seal(t);
    ASSERT_EQ(ACPI_ERR_MADT_BAD_ENTRY, acpi_parse_madt(t, length, &madt));
    /* An entry of 1 byte, whose length byte then reads as an I/O APIC entry of 12 bytes: a walk
     * that took the 1 would end cleanly, one I/O APIC more. */
    build_madt();
    uint32_t longer = append_entry(t, length, 0x7f, 13);
    t[length + 1] = 1;
    t[length + 2] = 12;
    seal(t);
    ASSERT_EQ(ACPI_ERR_MADT_BAD_ENTRY, acpi_parse_madt(t, longer, &madt));
    for (size_t i = 0; i < sizeof short_entries / sizeof short_entries[0]; i++) {
        build_madt();
        longer = append_entry(t, length, short_entries[i][0], short_entries[i][1]);
        ASSERT_EQ(ACPI_ERR_MADT_BAD_ENTRY, acpi_parse_madt(t, longer, &madt));
    }
    build_madt();
    table_put_u32(t + 4, length + 1);
    t[length] = 0;
    seal(t);
    uint8_t *exact = malloc(length + 1);
    ASSERT_TRUE(exact != NULL);
    memcpy(exact, t, length + 1);
    enum acpi_error error = acpi_parse_madt(exact, length + 1, &madt);
    free(exact);
    ASSERT_EQ(ACPI_ERR_MADT_BAD_ENTRY, error);
    return 0;
}

/* build_madt's table with an entry of a type the parser passes over (0x7f) appended: 2 bytes, its
 * type and length alone, the last two of the table; parsed from a copy of exactly the table's
 * length.
 * Expect ACPI_OK with build_madt's contents (5 CPUs listed, 1 I/O APIC), and
 * acpi_madt_first_skipped_entry to give the 2-byte entry's offset: an entry as short as its type
 * allows that ends exactly where the table does is whole. */
static int two_byte_entry_at_table_end_check(void) {
    struct acpi_madt madt;
    build_tables(0);
    uint8_t *t = memory + MADT_PHYS;
    uint32_t length = build_madt();
    uint32_t longer = append_entry(t, length, 0x7f, 2);
    uint8_t *exact = malloc(longer);
    ASSERT_TRUE(exact != NULL);
    memcpy(exact, t, longer);
    enum acpi_error error = acpi_parse_madt(exact, longer, &madt);
    uint32_t skipped = acpi_madt_first_skipped_entry(exact, longer);
    free(exact);
    ASSERT_EQ(ACPI_OK, error);
    ASSERT_EQ(5, madt.cpus_listed);
    ASSERT_EQ(1, madt.io_apics);
    ASSERT_EQ(length, skipped);
    return 0;
}

/* A MADT of its fixed part alone (44 bytes: header, local APIC address 0xfee00000, flags 1) with
 * no entries, in a buffer of exactly 44 bytes, parsed into a result full of 0xA5 bytes.
 * Expect ACPI_OK with the header's address and flags, and nothing else: no CPU listed or stored,
 * no I/O APIC, no duplicate, broadcast or unstored entry; and no entry passed over
 * (acpi_madt_first_skipped_entry 0). */
static int madt_without_entries_check(void) {
    struct acpi_madt madt;
    uint8_t t[ACPI_MADT_FIXED_SIZE] = {0};
    table_put_text(t, "APIC", 4);
    table_put_u32(t + 4, ACPI_MADT_FIXED_SIZE);
    table_put_u32(t + 36, 0xfee00000u);
    table_put_u32(t + 40, 1);
    table_seal(t, ACPI_MADT_FIXED_SIZE, ACPI_HEADER_CHECKSUM_OFFSET);
    memset(&madt, 0xA5, sizeof madt);
    ASSERT_EQ(ACPI_OK, acpi_parse_madt(t, sizeof t, &madt));
    ASSERT_EQ(0xfee00000u, madt.local_apic_phys);
    ASSERT_EQ(1, madt.flags);
    ASSERT_EQ(0, madt.cpus_listed);
    ASSERT_EQ(0, madt.cpus_stored);
    ASSERT_EQ(0, madt.io_apics);
    ASSERT_EQ(0, madt.cpus_duplicate);
    ASSERT_EQ(0, madt.cpus_bad_id);
    ASSERT_EQ(0, madt.cpus_enabled_unstored);
    ASSERT_EQ(0, acpi_madt_first_skipped_entry(t, sizeof t));
    return 0;
}

/* The MADT of build_madt with a local APIC address override (type 5, 12 bytes, a 64-bit address)
 * after its entries, and CPU 2, disabled, marked online-capable (flags bit 1).
 * Expect the override's address in place of the header's, the header's flags (1, PC-AT
 * compatible) read from their own field, CPU 2 online-capable and still not enabled, and CPU 1
 * neither online-capable nor disabled. */
static int override_and_flags_check(void) {
    struct acpi_madt madt;
    build_tables(0);
    uint8_t *t = memory + MADT_PHYS;
    uint32_t length = build_madt();
    table_put_u32(t + ACPI_MADT_FIXED_SIZE + 2 * 8 + 4, 2); /* CPU 2: online-capable, disabled */
    length = append_entry(t, length, 5, 12);
    table_put_u64(t + length - 12 + 4, 0x1234567000ull);
    seal(t);
    ASSERT_EQ(ACPI_OK, acpi_parse_madt(t, length, &madt));
    ASSERT_EQ(0x1234567000ull, madt.local_apic_phys);
    ASSERT_EQ(1, madt.flags);
    ASSERT_TRUE(madt.cpus[2].online_capable);
    ASSERT_FALSE(madt.cpus[2].enabled);
    ASSERT_FALSE(madt.cpus[1].online_capable);
    ASSERT_TRUE(madt.cpus[1].enabled);
    return 0;
}

/* A MADT refused part-way: its first entry, CPU 0, is whole, and the last one runs past the table;
 * then a MADT refused by its checksum, parsed into the result of a good one.
 * Expect ACPI_ERR_MADT_BAD_ENTRY and ACPI_ERR_TABLE_BAD_CHECKSUM, with nothing of either table in
 * the result (no CPU, no I/O APIC, no local APIC address): a refused table is not used, and a
 * caller that reads the result anyway finds it empty rather than half-filled or stale. */
static int refused_madt_leaves_nothing_check(void) {
    struct acpi_madt madt;
    build_tables(0);
    uint8_t *t = memory + MADT_PHYS;
    uint32_t length = build_madt();
    t[length - 15] = 200; /* last entry runs past the table */
    seal(t);
    memset(&madt, 0xA5, sizeof madt);
    ASSERT_EQ(ACPI_ERR_MADT_BAD_ENTRY, acpi_parse_madt(t, length, &madt));
    ASSERT_EQ(0, madt.cpus_listed);
    ASSERT_EQ(0, madt.cpus_stored);
    ASSERT_EQ(0, madt.io_apics);
    ASSERT_EQ(0, madt.local_apic_phys);

    build_madt();
    ASSERT_EQ(ACPI_OK, acpi_parse_madt(t, length, &madt));
    t[ACPI_MADT_FIXED_SIZE + 3] ^= 0x40; /* one APIC id */
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_CHECKSUM, acpi_parse_madt(t, length, &madt));
    ASSERT_EQ(0, madt.cpus_listed);
    ASSERT_EQ(0, madt.cpus_stored);
    ASSERT_EQ(0, madt.local_apic_phys);
    return 0;
}

/* No table (NULL), parsed into the result of a good one.
 * Expect ACPI_ERR_NULL and the result all zero, as acpi.h says of any error with out not NULL. */
static int null_madt_leaves_nothing_check(void) {
    struct acpi_madt madt;
    build_tables(0);
    uint32_t length = build_madt();
    ASSERT_EQ(ACPI_OK, acpi_parse_madt(memory + MADT_PHYS, length, &madt));
    ASSERT_TRUE(madt.cpus_listed > 0);
    ASSERT_EQ(ACPI_ERR_NULL, acpi_parse_madt(NULL, length, &madt));
    ASSERT_EQ(0, madt.cpus_listed);
    ASSERT_EQ(0, madt.cpus_stored);
    ASSERT_EQ(0, madt.io_apics);
    ASSERT_EQ(0, madt.local_apic_phys);
    return 0;
}

/* The 4-CPU MADT with CPU 3 (enabled) naming APIC id 2, which CPU 1 (enabled) has, and the
 * disabled CPU 2 naming it too; the x2APIC entry naming 6 (enabled CPU 3's former id, now free)
 * stays unique.
 * Expect ACPI_OK with every CPU counted as listed (5), but no two enabled CPUs stored with the same
 * APIC id: the kernel starts each stored enabled CPU with INIT, and a second INIT to an APIC id
 * resets the CPU that already runs there. The disabled duplicate is harmless and stays stored;
 * the enabled one is counted in cpus_duplicate instead. */
static int duplicate_apic_id_check(void) {
    struct acpi_madt madt;
    build_tables(0);
    uint8_t *t = memory + MADT_PHYS;
    uint32_t length = build_madt();
    t[ACPI_MADT_FIXED_SIZE + 2 * 8 + 3] = 2; /* CPU 2, disabled */
    t[ACPI_MADT_FIXED_SIZE + 3 * 8 + 3] = 2; /* CPU 3, enabled */
    table_put_u32(t + length - 12, 6);       /* the x2APIC entry */
    seal(t);
    ASSERT_EQ(ACPI_OK, acpi_parse_madt(t, length, &madt));
    ASSERT_EQ(5, madt.cpus_listed);
    for (uint32_t i = 0; i < madt.cpus_stored; i++) {
        for (uint32_t j = 0; j < i; j++) {
            ASSERT_FALSE(madt.cpus[i].enabled && madt.cpus[j].enabled &&
                         madt.cpus[i].apic_id == madt.cpus[j].apic_id);
        }
    }
    ASSERT_EQ(1, madt.cpus_duplicate);
    ASSERT_EQ(4, madt.cpus_stored);
    ASSERT_EQ(2, madt.cpus[2].apic_id);
    ASSERT_FALSE(madt.cpus[2].enabled);
    ASSERT_EQ(6, madt.cpus[3].apic_id);
    ASSERT_EQ(77, madt.cpus[3].processor_uid);
    return 0;
}

/* The 4-CPU MADT with enabled CPU 1 naming APIC id 0xff and the enabled x2APIC entry naming
 * 0xffffffff: the broadcast destinations of xAPIC and x2APIC, which no one CPU has.
 * Expect ACPI_OK with both counted as listed (5) and in cpus_bad_id (2), neither stored, and the
 * other three CPUs stored as before: the kernel sends INIT to every stored enabled CPU, and an
 * INIT to the broadcast destination resets every CPU already running. */
static int broadcast_apic_id_check(void) {
    struct acpi_madt madt;
    build_tables(0);
    uint8_t *t = memory + MADT_PHYS;
    uint32_t length = build_madt();
    t[ACPI_MADT_FIXED_SIZE + 1 * 8 + 3] = 0xff;  /* CPU 1, enabled */
    table_put_u32(t + length - 12, 0xffffffffu); /* the x2APIC entry, enabled */
    seal(t);
    ASSERT_EQ(ACPI_OK, acpi_parse_madt(t, length, &madt));
    ASSERT_EQ(5, madt.cpus_listed);
    for (uint32_t i = 0; i < madt.cpus_stored; i++) {
        ASSERT_TRUE(madt.cpus[i].apic_id != 0xff && madt.cpus[i].apic_id != 0xffffffffu);
    }
    ASSERT_EQ(3, madt.cpus_stored);
    ASSERT_EQ(2, madt.cpus_bad_id);
    ASSERT_EQ(0, madt.cpus[0].apic_id);
    ASSERT_EQ(4, madt.cpus[1].apic_id);
    ASSERT_FALSE(madt.cpus[1].enabled);
    ASSERT_EQ(6, madt.cpus[2].apic_id);
    ASSERT_TRUE(madt.cpus[2].enabled);
    return 0;
}

/* Builds at MADT_PHYS a MADT of cpus local APIC entries (APIC id and processor UID i for entry i),
 * the first `disabled` of them disabled and the rest enabled, then an I/O APIC; returns its
 * length. */
static uint32_t build_madt_of_cpus(uint32_t cpus, uint32_t disabled) {
    build_tables(0);
    uint32_t length = ACPI_MADT_FIXED_SIZE + cpus * 8 + 12;
    uint8_t *t = header(MADT_PHYS, "APIC", length);
    table_put_u32(t + 36, 0xfee00000u);
    uint8_t *e = t + ACPI_MADT_FIXED_SIZE;
    for (uint32_t cpu = 0; cpu < cpus; cpu++, e += 8) {
        e[0] = 0;
        e[1] = 8;
        e[2] = (uint8_t)cpu;
        e[3] = (uint8_t)cpu;
        table_put_u32(e + 4, cpu < disabled ? 0 : 1);
    }
    e[0] = 1;
    e[1] = 12;
    seal(t);
    return length;
}

/* A MADT of ACPI_MADT_MAX_CPUS + 6 enabled local APIC entries (APIC ids 0, 1, ...) and an I/O
 * APIC after them.
 * Expect ACPI_OK with every CPU counted (cpus_listed = ACPI_MADT_MAX_CPUS + 6), the first
 * ACPI_MADT_MAX_CPUS stored in table order, the 6 others counted in cpus_enabled_unstored,
 * nothing written past the array (the I/O APIC, read after the overflow, still counted once),
 * and cpus_duplicate 0. */
static int more_cpus_than_stored_check(void) {
    struct acpi_madt madt;
    const uint32_t cpus = ACPI_MADT_MAX_CPUS + 6;
    uint32_t length = build_madt_of_cpus(cpus, 0);
    ASSERT_EQ(ACPI_OK, acpi_parse_madt(memory + MADT_PHYS, length, &madt));
    ASSERT_EQ(cpus, madt.cpus_listed);
    ASSERT_EQ(ACPI_MADT_MAX_CPUS, madt.cpus_stored);
    ASSERT_EQ(6, madt.cpus_enabled_unstored);
    ASSERT_EQ(0, madt.cpus_duplicate);
    ASSERT_EQ(1, madt.io_apics);
    for (uint32_t i = 0; i < ACPI_MADT_MAX_CPUS; i++) {
        ASSERT_EQ(i, madt.cpus[i].apic_id);
        ASSERT_TRUE(madt.cpus[i].enabled);
    }
    return 0;
}

/* A MADT of ACPI_MADT_MAX_CPUS - 1 disabled local APIC entries, then 4 enabled ones (a firmware
 * that lists every possible socket first).
 * Expect all 4 enabled CPUs stored, in table order, at the end of the array: the first in the last
 * place, still free, and each of the other 3 in the place of one of the first 3 disabled entries
 * (dropped); the disabled rest kept in table order, and none counted in cpus_enabled_unstored. */
static int enabled_cpus_stored_in_preference_check(void) {
    struct acpi_madt madt;
    const uint32_t disabled = ACPI_MADT_MAX_CPUS - 1;
    uint32_t length = build_madt_of_cpus(disabled + 4, disabled);
    ASSERT_EQ(ACPI_OK, acpi_parse_madt(memory + MADT_PHYS, length, &madt));
    ASSERT_EQ(disabled + 4, madt.cpus_listed);
    ASSERT_EQ(ACPI_MADT_MAX_CPUS, madt.cpus_stored);
    ASSERT_EQ(0, madt.cpus_enabled_unstored);
    uint32_t enabled = 0;
    for (uint32_t i = 0; i < madt.cpus_stored; i++) {
        enabled += madt.cpus[i].enabled;
    }
    ASSERT_EQ(4, enabled);
    for (uint32_t i = 0; i < ACPI_MADT_MAX_CPUS - 4; i++) {
        ASSERT_EQ(i + 3, madt.cpus[i].apic_id); /* disabled ids 3 ... */
        ASSERT_FALSE(madt.cpus[i].enabled);
    }
    for (uint32_t i = 0; i < 4; i++) {
        const struct acpi_madt_cpu *cpu = &madt.cpus[ACPI_MADT_MAX_CPUS - 4 + i];
        ASSERT_EQ(disabled + i, cpu->apic_id);
        ASSERT_EQ(disabled + i, cpu->processor_uid);
        ASSERT_TRUE(cpu->enabled);
    }
    return 0;
}

/* A MADT of ACPI_MADT_MAX_CPUS enabled local APIC entries (APIC ids 0, 1, ...), then four more
 * enabled ones past the array: APIC id 200 twice, 201, and 5 (a stored CPU's).
 * Expect the four counted as listed, the last in cpus_duplicate (its id is stored), and 3 in
 * cpus_enabled_unstored: it counts entries, and 200 is looked for among the stored entries only
 * (acpi.h), so it counts twice though it names one CPU. Nonzero all the same, as 2 CPUs are left
 * out. */
static int unstored_entries_counted_per_entry_check(void) {
    struct acpi_madt madt;
    uint32_t length = build_madt_of_cpus(ACPI_MADT_MAX_CPUS + 4, 0);
    uint8_t *past = memory + MADT_PHYS + ACPI_MADT_FIXED_SIZE + ACPI_MADT_MAX_CPUS * 8;
    const uint8_t ids[4] = {200, 200, 201, 5};
    for (uint32_t i = 0; i < 4; i++) {
        past[i * 8 + 3] = ids[i];
    }
    seal(memory + MADT_PHYS);
    ASSERT_EQ(ACPI_OK, acpi_parse_madt(memory + MADT_PHYS, length, &madt));
    ASSERT_EQ(ACPI_MADT_MAX_CPUS + 4, madt.cpus_listed);
    ASSERT_EQ(ACPI_MADT_MAX_CPUS, madt.cpus_stored);
    ASSERT_EQ(1, madt.cpus_duplicate);
    ASSERT_EQ(3, madt.cpus_enabled_unstored);
    return 0;
}

static int missing_table_check(void) {
    build_tables(0);
    struct acpi_table table;
    ASSERT_EQ(ACPI_ERR_NOT_FOUND,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "HPET", &table));
    memory[MADT_PHYS] = 'Z'; /* the RSDT entry now points at a "ZPIC" */
    ASSERT_EQ(ACPI_ERR_NOT_FOUND,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    return 0;
}

/* An RSDT of three entries: one pointing past the memory the map function reaches (a table the
 * kernel's physical map does not cover), the FACP, then the MADT; then an RSDT of the unreachable
 * entry and the FACP only.
 * Expect the MADT found through the first: the entry nothing can be read of is passed over, as an
 * entry with another signature is, rather than the search refused for a table it does not need.
 * Expect ACPI_ERR_TABLE_UNREACHABLE from the second: the table searched for may be the one that
 * cannot be read, so "not found" would claim more than is known. The same for an "APIC" entry whose
 * header can be read but not its whole length, listed before the MADT and then alone. */
static int unreachable_entry_passed_over_check(void) {
    build_tables(0);
    uint8_t *rsdt = header(RSDT_PHYS, "RSDT", ACPI_HEADER_SIZE + 12);
    table_put_u32(rsdt + ACPI_HEADER_SIZE, MEMORY_SIZE + 0x1000);
    table_put_u32(rsdt + ACPI_HEADER_SIZE + 4, FACP_PHYS);
    table_put_u32(rsdt + ACPI_HEADER_SIZE + 8, MADT_PHYS);
    seal(rsdt);
    struct acpi_table table = {0};
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(MADT_PHYS, table.phys);

    table_put_u32(rsdt + 4, ACPI_HEADER_SIZE + 8);
    seal(rsdt);
    ASSERT_EQ(ACPI_ERR_TABLE_UNREACHABLE,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));

    /* An "APIC" whose header the map function reaches and whose length runs past what it does,
     * listed before the good MADT; then alone. */
    const uint64_t stale_phys = MEMORY_SIZE - ACPI_HEADER_SIZE;
    header(stale_phys, "APIC", 4096);
    rsdt = header(RSDT_PHYS, "RSDT", ACPI_HEADER_SIZE + 8);
    table_put_u32(rsdt + ACPI_HEADER_SIZE, (uint32_t)stale_phys);
    table_put_u32(rsdt + ACPI_HEADER_SIZE + 4, MADT_PHYS);
    seal(rsdt);
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(MADT_PHYS, table.phys);
    table_put_u32(rsdt + 4, ACPI_HEADER_SIZE + 4);
    seal(rsdt);
    ASSERT_EQ(ACPI_ERR_TABLE_UNREACHABLE,
              acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &simulated, "APIC", &table));
    return 0;
}

/* A 2.0 RSDP whose XSDT is refused while its RSDT is good: the XSDT's checksum broken, its address
 * past the memory the map function reaches, its length not whole 8-byte entries. Then the XSDT
 * broken with the RSDT broken too, and with an RSDT address of 0.
 * Expect the MADT found through the RSDT each time the RSDT is good (a bad XSDT is no reason to
 * run without the CPUs the RSDT lists), and the XSDT's own refusal when there is no good RSDT to
 * fall back on. */
static int bad_xsdt_falls_back_to_rsdt_check(void) {
    struct acpi_table table = {0};
    build_tables(2);
    memory[XSDT_PHYS + ACPI_HEADER_SIZE] ^= 1;
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(MADT_PHYS, table.phys);
    if (check_madt_contents(&table) != 0) {
        return 1;
    }

    build_tables(2);
    table_put_u64(rsdp + 24, MEMORY_SIZE + 0x1000);
    table_seal(rsdp, ACPI_RSDP_V2_SIZE, 32);
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(MADT_PHYS, table.phys);

    build_tables(2);
    table_put_u32(memory + XSDT_PHYS + 4, ACPI_HEADER_SIZE + 12);
    seal(memory + XSDT_PHYS);
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    ASSERT_EQ(MADT_PHYS, table.phys);

    build_tables(2);
    memory[XSDT_PHYS + ACPI_HEADER_SIZE] ^= 1;
    memory[RSDT_PHYS] = 'X';
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_CHECKSUM,
              acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));

    build_tables(2);
    memory[XSDT_PHYS + ACPI_HEADER_SIZE] ^= 1;
    table_put_u32(rsdp + 16, 0);
    table_seal(rsdp, ACPI_RSDP_V1_SIZE, 8);
    table_seal(rsdp, ACPI_RSDP_V2_SIZE, 32);
    ASSERT_EQ(ACPI_ERR_TABLE_BAD_CHECKSUM,
              acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &simulated, "APIC", &table));
    return 0;
}

/* A map function with one window, as a kernel without a map of all physical memory has: each call
 * copies the bytes asked for into the same buffer, so a pointer it returned reads other bytes
 * once it is called again. */
static uint8_t window[MEMORY_SIZE];

static const void *map_through_window(void *ctx, uint64_t phys, uint64_t size) {
    (void)ctx;
    if (map(NULL, phys, size) == NULL) {
        return NULL;
    }
    memset(window, 0, sizeof window);
    memcpy(window, memory + phys, (size_t)size);
    return window;
}

/* The ACPI 1.0 and 2.0 chains read through a one-window map function.
 * Expect the MADT found and its contents as through the map of all memory: acpi.h promises the
 * bytes a map call returns for as long as nothing else is mapped, not for the whole search, so
 * the search may not read the root table's entries through a pointer it mapped before the entry
 * tables' headers. */
static int one_window_map_check(void) {
    const struct acpi_memory windowed = {map_through_window, NULL};
    struct acpi_table table = {0};
    build_tables(0);
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V1_SIZE, &windowed, "APIC", &table));
    ASSERT_EQ(MADT_PHYS, table.phys);
    if (check_madt_contents(&table) != 0) {
        return 1;
    }
    build_tables(2);
    ASSERT_EQ(ACPI_OK, acpi_find_table(rsdp, ACPI_RSDP_V2_SIZE, &windowed, "APIC", &table));
    ASSERT_EQ(MADT_PHYS, table.phys);
    return check_madt_contents(&table);
}

/* acpi_madt_reads_entry_type over every byte value; then acpi_madt_first_skipped_entry, which the
 * kernel's madt_bad_entry test uses to find the entry it breaks, over build_madt's table as it is,
 * with its I/O APIC entry retyped 2, and with an entry of length 0 before that one.
 * Expect true for exactly the four types acpi_parse_madt reads (0, 1, 5, 9), each of which a
 * one-byte-short entry of it refuses (bad_entries_check); offsets 0, the I/O APIC entry's, 0. */
static int entry_types_read_check(void) {
    for (unsigned type = 0; type < 256; type++) {
        bool read = type == 0 || type == 1 || type == 5 || type == 9;
        ASSERT_EQ(read, acpi_madt_reads_entry_type((uint8_t)type));
    }
    /* build_madt's entries are all read; its I/O APIC entry retyped 2 is the first passed over,
     * and with CPU 1's entry given length 0 before it, none is found. */
    build_tables(0);
    uint8_t *t = memory + MADT_PHYS;
    uint32_t length = build_madt();
    ASSERT_EQ(0, acpi_madt_first_skipped_entry(t, length));
    const uint32_t io_apic = ACPI_MADT_FIXED_SIZE + 4 * 8;
    t[io_apic] = 2;
    ASSERT_EQ(io_apic, acpi_madt_first_skipped_entry(t, length));
    t[ACPI_MADT_FIXED_SIZE + 8 + 1] = 0;
    ASSERT_EQ(0, acpi_madt_first_skipped_entry(t, length));
    return 0;
}

/* build_madt's table with two entries appended: an x2APIC entry of 15 bytes, one short of the 16
 * its type needs, then an entry of a type the parser passes over (0x7f, 8 bytes).
 * Expect acpi_parse_madt to refuse the table at the short entry (ACPI_ERR_MADT_BAD_ENTRY) and
 * acpi_madt_first_skipped_entry, which walks the entries as acpi_parse_madt does, to give 0: an
 * entry before the one passed over is bad (acpi.h), so the walk never reaches it. */
static int first_skipped_entry_after_short_entry_check(void) {
    struct acpi_madt madt;
    build_tables(0);
    uint8_t *t = memory + MADT_PHYS;
    uint32_t length = build_madt();
    length = append_entry(t, length, 9, 15);
    length = append_entry(t, length, 0x7f, 8);
    ASSERT_EQ(ACPI_ERR_MADT_BAD_ENTRY, acpi_parse_madt(t, length, &madt));
    ASSERT_EQ(0, acpi_madt_first_skipped_entry(t, length));
    return 0;
}

static int error_names_check(void) {
    ASSERT_STREQ("table bad checksum", acpi_error_name(ACPI_ERR_TABLE_BAD_CHECKSUM));
    ASSERT_ERROR_NAMES(acpi_error_name, enum acpi_error, ACPI_OK, ACPI_ERR_MADT_BAD_ENTRY);
    /* A value outside the enum, on purpose. */
    // NOLINTNEXTLINE(clang-analyzer-optin.core.EnumCastOutOfRange)
    ASSERT_STREQ("unknown error", acpi_error_name((enum acpi_error)(ACPI_ERR_MADT_BAD_ENTRY + 1)));
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, rsdt_chain_check);
    RUN_CHECK(failures, xsdt_chain_check);
    RUN_CHECK(failures, good_xsdt_preferred_to_good_rsdt_check);
    RUN_CHECK(failures, rsdp_refusals_check);
    RUN_CHECK(failures, find_table_null_arguments_check);
    RUN_CHECK(failures, bad_madt_checksum_check);
    RUN_CHECK(failures, bad_lengths_check);
    RUN_CHECK(failures, bad_signature_check);
    RUN_CHECK(failures, validate_table_refusals_check);
    RUN_CHECK(failures, header_only_table_check);
    RUN_CHECK(failures, xsdp_bad_length_field_check);
    RUN_CHECK(failures, bad_entries_check);
    RUN_CHECK(failures, two_byte_entry_at_table_end_check);
    RUN_CHECK(failures, madt_without_entries_check);
    RUN_CHECK(failures, override_and_flags_check);
    RUN_CHECK(failures, refused_madt_leaves_nothing_check);
    RUN_CHECK(failures, null_madt_leaves_nothing_check);
    RUN_CHECK(failures, duplicate_apic_id_check);
    RUN_CHECK(failures, broadcast_apic_id_check);
    RUN_CHECK(failures, more_cpus_than_stored_check);
    RUN_CHECK(failures, enabled_cpus_stored_in_preference_check);
    RUN_CHECK(failures, unstored_entries_counted_per_entry_check);
    RUN_CHECK(failures, missing_table_check);
    RUN_CHECK(failures, unreachable_entry_passed_over_check);
    RUN_CHECK(failures, bad_xsdt_falls_back_to_rsdt_check);
    RUN_CHECK(failures, one_window_map_check);
    RUN_CHECK(failures, entry_types_read_check);
    RUN_CHECK(failures, first_skipped_entry_after_short_entry_check);
    RUN_CHECK(failures, error_names_check);
    return failures != 0;
}
