/* The kernel's virtual address space: what boot.asm maps and the windows the kernel maps later,
 * each checked at compile time against the others. The numbers boot.asm, linker.ld or the boot
 * tests read too come from kernel/arch/x86_64/machine.bzl (through the generated machine.h); the
 * others are defined here. */
#ifndef KERNEL_ARCH_X86_64_LAYOUT_H
#define KERNEL_ARCH_X86_64_LAYOUT_H

#include <stdint.h>

#include "kernel/arch/x86_64/machine.h"
#include "paging/mapper.h"

/* Addresses from here up are not canonical in the lower half (48-bit virtual addresses). */
#define LOWER_HALF_END 0x800000000000ull
/* The upper canonical half: [UPPER_HALF_START, 2^64). */
#define UPPER_HALF_START 0xffff800000000000ull

/* What one PML4 entry maps: 512 GiB. */
#define PML4_SLOT_SIZE (PAGING_ENTRIES_PER_TABLE * PAGING_HUGE_PAGE_SIZE)

/*
 * The kernel's virtual windows, each [X_VIRT, X_VIRT + X_SIZE).
 *
 * In the lower half:
 *   identity map   [0, IDENTITY_MAP_END) (machine.h): the kernel image, its stacks, boot tables.
 *   heap           anywhere above the identity map, as heap.c's limits on heap_start= and
 *                  heap_pages= allow; HEAP_DEFAULT_START and HEAP_DEFAULT_PAGES (machine.h) where
 *                  the command line does not move it.
 * In the upper half, fixed, so that no heap range the kernel accepts can overlap one:
 *   PHYS_MAP       all physical memory below PHYS_MAP_SIZE (machine.h), mapped by boot.asm, so
 *                  page tables and the boot information can be read wherever they are.
 *   APIC_MMIO      the local APIC's registers, uncached, on every CPU (apic.c).
 *   TLB_TEST       the page the tlb_test= checks map, read and unmap (stress.c; machine.h, as
 *                  the boot tests read it too).
 *   THREAD_STACKS  THREAD_SLOTS slots of THREAD_SLOT_SIZE bytes, each a guard page and a thread's
 *                  stack (thread.c).
 *   MAPPER_TEST    the pages paging_test=concurrent maps (stress.c): one page directory's reach,
 *                  in a PML4 slot nothing else uses, so its workers race to create every table.
 * The checks below the list hold each to its half and keep them apart.
 */
#define PHYS_MAP_VIRT PHYS_MAP_BASE /* PHYS_MAP_BASE under the name the checks below read */
/* PHYS_MAP_SIZE: machine.h */

#define APIC_MMIO_VIRT 0xffffc00000000000ull
#define APIC_MMIO_SIZE PAGE_SIZE

/* TLB_TEST_VIRT: machine.h */
#define TLB_TEST_SIZE PAGE_SIZE

#define THREAD_STACKS_VIRT 0xffffc00100000000ull
#define THREAD_SLOT_SIZE   (64 * 1024ull)
#define THREAD_SLOTS       256
#define THREAD_STACKS_SIZE (THREAD_SLOTS * THREAD_SLOT_SIZE)

#define MAPPER_TEST_VIRT 0xffffc08000000000ull
#define MAPPER_TEST_SIZE PAGING_HUGE_PAGE_SIZE

/* The last byte of window W: its end may be 2^64, which does not fit. */
#define LAYOUT_LAST(W) (W##_VIRT + (W##_SIZE - 1))

/* W is made of whole pages and lies in the upper half without wrapping past 2^64. */
#define LAYOUT_UPPER_WINDOW(W)                                                                     \
    (W##_VIRT % PAGE_SIZE == 0 && W##_SIZE % PAGE_SIZE == 0 && W##_SIZE != 0 &&                    \
     W##_VIRT >= UPPER_HALF_START && LAYOUT_LAST(W) >= W##_VIRT)

/* A and B share no byte. */
#define LAYOUT_DISJOINT(A, B) (LAYOUT_LAST(A) < B##_VIRT || LAYOUT_LAST(B) < A##_VIRT)

/* No byte of W lies in the PML4 slot of MAPPER_TEST. */
#define LAYOUT_OUTSIDE_MAPPER_TEST_SLOT(W)                                                         \
    (W##_VIRT / PML4_SLOT_SIZE > MAPPER_TEST_VIRT / PML4_SLOT_SIZE ||                              \
     LAYOUT_LAST(W) / PML4_SLOT_SIZE < MAPPER_TEST_VIRT / PML4_SLOT_SIZE)

_Static_assert(IDENTITY_MAP_END % PAGE_SIZE == 0 && IDENTITY_MAP_END <= LOWER_HALF_END,
               "the identity map must be whole pages in the lower half");
_Static_assert(HEAP_DEFAULT_START % PAGE_SIZE == 0 && HEAP_DEFAULT_START >= IDENTITY_MAP_END &&
                   HEAP_DEFAULT_PAGES != 0 &&
                   HEAP_DEFAULT_PAGES <= (LOWER_HALF_END - HEAP_DEFAULT_START) / PAGE_SIZE,
               "the default heap must be whole pages between the identity map and the lower "
               "half's end, where heap.c accepts a heap");

_Static_assert(LAYOUT_UPPER_WINDOW(PHYS_MAP), "the physical map must be pages in the upper half");
_Static_assert(LAYOUT_UPPER_WINDOW(APIC_MMIO), "the APIC window must be pages in the upper half");
_Static_assert(LAYOUT_UPPER_WINDOW(TLB_TEST), "the TLB test page must be in the upper half");
_Static_assert(LAYOUT_UPPER_WINDOW(THREAD_STACKS),
               "the thread stacks must be pages in the upper half");
_Static_assert(LAYOUT_UPPER_WINDOW(MAPPER_TEST),
               "the mapper test window must be pages in the upper half");

_Static_assert(LAYOUT_DISJOINT(PHYS_MAP, APIC_MMIO), "the physical map overlaps the APIC window");
_Static_assert(LAYOUT_DISJOINT(PHYS_MAP, TLB_TEST), "the physical map overlaps the TLB test page");
_Static_assert(LAYOUT_DISJOINT(PHYS_MAP, THREAD_STACKS),
               "the physical map overlaps the thread stacks");
_Static_assert(LAYOUT_DISJOINT(APIC_MMIO, TLB_TEST), "the APIC window overlaps the TLB test page");
_Static_assert(LAYOUT_DISJOINT(APIC_MMIO, THREAD_STACKS),
               "the APIC window overlaps the thread stacks");
_Static_assert(LAYOUT_DISJOINT(TLB_TEST, THREAD_STACKS),
               "the TLB test page overlaps the thread stacks");

/* Each is disjoint from MAPPER_TEST too, as that has its PML4 slot to itself. */
_Static_assert(MAPPER_TEST_VIRT % PAGING_HUGE_PAGE_SIZE == 0,
               "the mapper test window must be one page directory's reach, aligned to it");
_Static_assert(LAYOUT_OUTSIDE_MAPPER_TEST_SLOT(PHYS_MAP),
               "the physical map is in the mapper test's PML4 slot");
_Static_assert(LAYOUT_OUTSIDE_MAPPER_TEST_SLOT(APIC_MMIO),
               "the APIC window is in the mapper test's PML4 slot");
_Static_assert(LAYOUT_OUTSIDE_MAPPER_TEST_SLOT(TLB_TEST),
               "the TLB test page is in the mapper test's PML4 slot");
_Static_assert(LAYOUT_OUTSIDE_MAPPER_TEST_SLOT(THREAD_STACKS),
               "the thread stacks are in the mapper test's PML4 slot");

/* Linker-script and boot.asm symbols; only their addresses mean anything. */
extern char kernel_image_start[], kernel_image_end[], kernel_code_end[], kernel_rodata_end[];
extern char boot_page_tables_start[], boot_page_tables_end[];
extern char kernel_stack_guard[], kernel_stack_bottom[], kernel_stack_top[];

/* Physical memory through the boot map. Only valid for phys < PHYS_MAP_SIZE. */
static inline void *phys_to_virt(uint64_t phys) {
    return (void *)(uintptr_t)(PHYS_MAP_BASE + phys);
}

#endif
