/* The kernel's virtual address space, as set up by boot.asm. The numbers come from
 * kernel/arch/x86_64/machine.bzl (through the generated machine.h), the one list that boot.asm and
 * linker.ld read too. */
#ifndef KERNEL_ARCH_X86_64_LAYOUT_H
#define KERNEL_ARCH_X86_64_LAYOUT_H

#include <stdint.h>

#include "kernel/arch/x86_64/machine.h"

/* Addresses from here up are not canonical in the lower half (48-bit virtual addresses). */
#define LOWER_HALF_END 0x800000000000ull

/* [0, IDENTITY_MAP_END): identity-mapped for the kernel image, its stacks and boot tables.
 * [PHYS_MAP_BASE, PHYS_MAP_BASE + PHYS_MAP_SIZE): all physical memory below 8 GiB, so page tables
 * and the boot information can be read wherever the boot loader or the frame allocator put them.
 * Both from machine.h. */

/* Linker-script and boot.asm symbols; only their addresses mean anything. */
extern char kernel_image_start[], kernel_image_end[];
extern char boot_page_tables_start[], boot_page_tables_end[];
extern char kernel_stack_guard[], kernel_stack_bottom[], kernel_stack_top[];

/* Physical memory through the boot map. Only valid for phys < PHYS_MAP_SIZE. */
static inline void *phys_to_virt(uint64_t phys) {
    return (void *)(uintptr_t)(PHYS_MAP_BASE + phys);
}

#endif
