/* Ties the multiboot2 library's copy of the specification's magics to the ones boot.asm uses
 * (kernel/arch/x86_64/machine.bzl): //multiboot2 depends on nothing, so it keeps its own
 * definitions, and a drift between the two stops the build here. */
#include "kernel/arch/x86_64/machine.h"
#include "multiboot2/multiboot2.h"

_Static_assert(BOOT_MULTIBOOT2_HEADER_MAGIC == MULTIBOOT2_HEADER_MAGIC,
               "boot.asm's multiboot2 header magic differs from multiboot2.h");
_Static_assert(BOOT_MULTIBOOT2_LOADER_MAGIC == MULTIBOOT2_BOOTLOADER_MAGIC,
               "the loader magic boot.asm checks differs from the one multiboot2_parse checks");
