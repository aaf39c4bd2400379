/* Physical and virtual memory bring-up: the frame allocator over the boot memory map and the
 * page-table mapper over the boot page tables, with the kernel's hardware access plugged in: its
 * TLB flushes shot down on every CPU (below), and one lock serialising the mapper's calls and
 * the frame allocator's (memory.c, memory_lock). */
#ifndef KERNEL_MEMORY_H
#define KERNEL_MEMORY_H

#include <stdbool.h>

#include "multiboot2/multiboot2.h"
#include "paging/frame_allocator.h"
#include "paging/mapper.h"

/* The mapper's TLB flushes (flush_tlb_page, flush_tlb_all) reach every online CPU: the calling
 * CPU flushes, then each other one flushes in the handler of an IPI at APIC_TLB_SHOOTDOWN_VECTOR,
 * and the caller waits for all (kernel/lib/tlb_shootdown.h). The rule that keeps this free of
 * deadlocks: the mapper's callers may hold spinlocks (a CPU waiting for one halts with interrupts
 * on, where it takes the IPI; two CPUs shooting down at once answer each other while they wait),
 * but no CPU keeps its interrupts off for MEMORY_TLB_SHOOTDOWN_TIMEOUT_MS without waiting for a
 * lock: a CPU that does not answer within it ends the run in a panic naming it. The bound is far
 * above an honest interrupts-off stretch (a heap operation, a thread switch; the longest deliberate
 * one, thread_test=halted_ticks's lock held for 20 ticks, is 200 ms) and below the spinlocks' spin
 * bound (SPINLOCK_SPIN_BOUND_TSC_TICKS, kernel/spinlock.h), so the report names the CPU that does
 * not answer, not one waiting behind it.
 */
#define MEMORY_TLB_SHOOTDOWN_TIMEOUT_MS 1000

/* Outside memory.c, call the mapper freely (it takes the memory lock itself), but reach the frame
 * allocator only through memory_frame_allocate, memory_frame_free and memory_frame_stats, never
 * frames directly: the mapper takes its page tables from it under that lock, and a caller that
 * runs before the other CPUs today (heap_init) may not tomorrow. */
struct kernel_memory {
    struct frame_allocator frames;
    struct paging_mapper mapper;
};

/* frame_allocator_allocate under the memory lock: a frame's physical address, or
 * FRAME_ALLOCATOR_NO_FRAME when none is left. */
uint64_t memory_frame_allocate(struct kernel_memory *memory);

/* frame_allocator_free under the memory lock; returns what it returns. */
enum frame_allocator_error memory_frame_free(struct kernel_memory *memory, uint64_t phys);

/* frame_allocator_stats under the memory lock. */
struct frame_allocator_stats memory_frame_stats(struct kernel_memory *memory);

/* Builds the frame allocator from the available memory map entries (never below
 * FRAME_ALLOCATOR_LOW_LIMIT, the kernel image with its stacks and boot page tables, the boot
 * information, or what any other entry of the map covers), attaches the mapper to the live page
 * tables and unmaps the guard page below the kernel stack. Logs each step. Returns false, after
 * logging an ERROR line with the reason, when any step fails. */
bool memory_init(struct kernel_memory *memory, const struct multiboot2_info *boot_info);

/* The command line's switch for the test of a bring-up that runs out of frames: memory_init takes
 * every frame left before it makes the physical map's first page table, which must then fail with
 * its reason rather than use "no frame" as a frame's address. */
#define MEMORY_NO_FRAMES_WORD "memory_test=no_frames"

/* The leaf flags of a page of kernel data (heap, thread stacks, device registers): present,
 * writable and, when boot.asm could turn on EFER.NXE (the CPU has NX), no-execute, so that a jump
 * into data faults. Without NXE the NX bit is reserved and would fault every access: left out. */
uint64_t memory_data_page_flags(void);

#endif
