/* The rights of the boot page tables' mappings once the kernel runs: no page both writable and
 * executable (W^X). boot.asm maps everything present and writable, without NX (it runs before the
 * kernel knows its sections); memory_init then rewrites each leaf with these functions: the
 * kernel's code read-only and executable, its read-only data read-only and no-execute, every other
 * page writable and no-execute, but for one page that must stay both (the start-up trampoline the
 * boot CPU writes and application processors run and write their reports into). Pure code, tested
 * on the host (kernel/lib/image_protection_test.c). */
#ifndef KERNEL_LIB_IMAGE_PROTECTION_H
#define KERNEL_LIB_IMAGE_PROTECTION_H

#include <stdint.h>

/* The kernel image's sections, page-aligned physical (= identity) addresses. */
struct image_layout {
    uint64_t code_start;      /* the image's start: the boot code, then .text */
    uint64_t code_end;        /* read-only data from here */
    uint64_t rodata_end;      /* data and bss from here */
    uint64_t executable_page; /* the one page outside the code left writable and executable */
    uint64_t no_execute;      /* PAGING_FLAG_NO_EXECUTE where the CPU has NX turned on, else 0 */
};

/* The 4 KiB leaf `entry` of the identity map for the page at `phys`, with its rights: W cleared
 * and NX cleared in the code; W cleared and NX set in the read-only data; NX set elsewhere, but on
 * layout->executable_page, left as it is. Address and other bits are kept; an entry that is not
 * present is returned as it is. */
uint64_t image_protection_small_page(const struct image_layout *layout, uint64_t phys,
                                     uint64_t entry);

/* The 4 KiB leaf of the physical map's alias of the page at `phys` (its first 2 MiB, where the
 * image lies, get 4 KiB pages): writable and no-execute, but read-only over the code and the
 * read-only data, so that no address writes them; the trampoline page's alias too is writable (the
 * boot CPU writes the copy and its parameters through it) and no-execute. */
uint64_t image_protection_alias_page(const struct image_layout *layout, uint64_t phys);

/* A 2 MiB leaf of the identity map beyond its 4 KiB part, or of the physical map: data only, so
 * NX set (where the CPU has it). An entry that is not present is returned as it is. */
uint64_t image_protection_data_page(const struct image_layout *layout, uint64_t entry);

#endif
