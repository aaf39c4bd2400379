/* Host tests of the boot mappings' rights (image_protection.h): a layout like the kernel's, each
 * kind of page checked with NX on and off. */
#include "kernel/lib/image_protection.h"

#include "paging/mapper.h"
#include "tests/support/check.h"

#define PAGE       UINT64_C(0x1000)
#define RW         (PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE)
#define NX         PAGING_FLAG_NO_EXECUTE
#define CODE       UINT64_C(0x100000)
#define RODATA     UINT64_C(0x140000)
#define DATA       UINT64_C(0x150000)
#define TRAMPOLINE UINT64_C(0x8000)

static const struct image_layout with_nx = {
    .code_start = CODE,
    .code_end = RODATA,
    .rodata_end = DATA,
    .executable_page = TRAMPOLINE,
    .no_execute = NX,
};

/* The boot entry of the page at phys: present, writable, executable, the address in it. */
static uint64_t boot_entry(uint64_t phys) {
    return phys | RW;
}

/* Expect code read-only and executable (first and last page), read-only data read-only and
 * no-execute, data, bss and low memory writable and no-execute, the trampoline page unchanged, an
 * entry that is not present unchanged, and the address kept in each. */
static int small_pages_check(void) {
    const struct image_layout *l = &with_nx;
    ASSERT_EQ(CODE | PAGING_FLAG_PRESENT, image_protection_small_page(l, CODE, boot_entry(CODE)));
    ASSERT_EQ((RODATA - PAGE) | PAGING_FLAG_PRESENT,
              image_protection_small_page(l, RODATA - PAGE, boot_entry(RODATA - PAGE)));
    ASSERT_EQ(RODATA | PAGING_FLAG_PRESENT | NX,
              image_protection_small_page(l, RODATA, boot_entry(RODATA)));
    ASSERT_EQ((DATA - PAGE) | PAGING_FLAG_PRESENT | NX,
              image_protection_small_page(l, DATA - PAGE, boot_entry(DATA - PAGE)));
    ASSERT_EQ(DATA | RW | NX, image_protection_small_page(l, DATA, boot_entry(DATA)));
    ASSERT_EQ((CODE - PAGE) | RW | NX,
              image_protection_small_page(l, CODE - PAGE, boot_entry(CODE - PAGE)));
    ASSERT_EQ(TRAMPOLINE | RW, image_protection_small_page(l, TRAMPOLINE, boot_entry(TRAMPOLINE)));
    ASSERT_EQ(0, image_protection_small_page(l, PAGE, 0));
    /* A code page some earlier writer gave NX loses it: code must run. */
    ASSERT_EQ(CODE | PAGING_FLAG_PRESENT,
              image_protection_small_page(l, CODE, boot_entry(CODE) | NX));
    return 0;
}

/* Without NX (the CPU lacks it, EFER.NXE off, where bit 63 would be reserved): no NX anywhere, the
 * code and read-only data still read-only. */
static int without_nx_check(void) {
    struct image_layout l = with_nx;
    l.no_execute = 0;
    ASSERT_EQ(CODE | PAGING_FLAG_PRESENT, image_protection_small_page(&l, CODE, boot_entry(CODE)));
    ASSERT_EQ(RODATA | PAGING_FLAG_PRESENT,
              image_protection_small_page(&l, RODATA, boot_entry(RODATA)));
    ASSERT_EQ(DATA | RW, image_protection_small_page(&l, DATA, boot_entry(DATA)));
    ASSERT_EQ(UINT64_C(0x200000) | RW | PAGING_FLAG_HUGE_PAGE,
              image_protection_data_page(&l, UINT64_C(0x200000) | RW | PAGING_FLAG_HUGE_PAGE));
    return 0;
}

/* Expect the physical map's alias of the code and read-only data read-only, every alias
 * no-execute, and the others (the trampoline's, data, low memory) writable; without NX none gets
 * NX. */
static int alias_pages_check(void) {
    ASSERT_EQ(CODE | PAGING_FLAG_PRESENT | NX, image_protection_alias_page(&with_nx, CODE));
    ASSERT_EQ(RODATA | PAGING_FLAG_PRESENT | NX, image_protection_alias_page(&with_nx, RODATA));
    ASSERT_EQ((DATA - PAGE) | PAGING_FLAG_PRESENT | NX,
              image_protection_alias_page(&with_nx, DATA - PAGE));
    ASSERT_EQ(DATA | RW | NX, image_protection_alias_page(&with_nx, DATA));
    ASSERT_EQ(TRAMPOLINE | RW | NX, image_protection_alias_page(&with_nx, TRAMPOLINE));
    ASSERT_EQ(0 | RW | NX, image_protection_alias_page(&with_nx, 0));
    struct image_layout l = with_nx;
    l.no_execute = 0;
    ASSERT_EQ(CODE | PAGING_FLAG_PRESENT, image_protection_alias_page(&l, CODE));
    return 0;
}

/* Expect a 2 MiB page no-execute and otherwise as it was; one not present unchanged. */
static int data_pages_check(void) {
    uint64_t big = UINT64_C(0x1c0000000) | RW | PAGING_FLAG_HUGE_PAGE;
    ASSERT_EQ(big | NX, image_protection_data_page(&with_nx, big));
    ASSERT_EQ(0, image_protection_data_page(&with_nx, 0));
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, small_pages_check);
    RUN_CHECK(failures, without_nx_check);
    RUN_CHECK(failures, data_pages_check);
    RUN_CHECK(failures, alias_pages_check);
    return failures == 0 ? 0 : 1;
}
