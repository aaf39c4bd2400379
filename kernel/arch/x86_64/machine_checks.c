/* Ties the libraries' own copies of machine facts (the multiboot2 magics, the page size) to the
 * ones boot.asm uses (kernel/arch/x86_64/machine.bzl): //multiboot2 and //paging depend on
 * nothing, so they keep their own definitions, and a drift between them stops the build here. */
#include "kernel/arch/x86_64/machine.h"
#include "multiboot2/multiboot2.h"
#include "paging/mapper.h"

_Static_assert(BOOT_MULTIBOOT2_HEADER_MAGIC == MULTIBOOT2_HEADER_MAGIC,
               "boot.asm's multiboot2 header magic differs from multiboot2.h");
_Static_assert(BOOT_MULTIBOOT2_LOADER_MAGIC == MULTIBOOT2_BOOTLOADER_MAGIC,
               "the loader magic boot.asm checks differs from the one multiboot2_parse checks");

/* //paging maps x86_64 4 KiB pages with its own constant; the boot tables use the same page. */
_Static_assert(PAGE_SIZE == PAGING_PAGE_SIZE, "machine.bzl's PAGE_SIZE differs from //paging's");
