/* CPU exceptions: the GDT with a TSS (for the double-fault stack), the IDT, and the C handler
 * every exception stub calls. A page fault reports the faulting address, the decoded error code
 * and RIP; a double fault runs on its own stack (IST 1), so a kernel stack overflow is reported
 * instead of triple-faulting; a breakpoint is logged and returns; everything else panics.
 * Vectors 32 and up are interrupts, routed to the handler registered for each. */
#ifndef KERNEL_ARCH_X86_64_INTERRUPTS_H
#define KERNEL_ARCH_X86_64_INTERRUPTS_H

#include <stdint.h>

#include "kernel/arch/x86_64/cpu.h"

#define INTERRUPTS_VECTORS                 256
#define INTERRUPTS_FIRST_IRQ_VECTOR        32
#define INTERRUPTS_DOUBLE_FAULT_STACK_SIZE (16 * 1024)

/* Task state segment: long mode keeps only stack pointers in it. */
struct __attribute__((packed)) task_state_segment {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7]; /* interrupt stack table: IST n is ist[n - 1] */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

/* Each CPU's own GDT (null, kernel code, kernel data, its 16-byte TSS descriptor), TSS, and the
 * GDT's pointer for LGDT (read by the trampoline, smp.asm, which loads them on an application
 * processor). */
struct cpu_descriptor_tables {
    uint64_t gdt[5];
    struct task_state_segment tss;
    struct cpu_descriptor_pointer gdt_pointer;
};

/* What interrupt_stubs.asm pushes, lowest address first, followed by the CPU's own frame. */
struct interrupt_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

#define EXCEPTION_NMI          2
#define EXCEPTION_BREAKPOINT   3
#define EXCEPTION_DOUBLE_FAULT 8
#define EXCEPTION_PAGE_FAULT   14

/* Builds the IDT and loads it with the boot CPU's GDT and TSS. Call once, early, before anything
 * can fault. */
void interrupts_init(void);

/* Fills in tables (every byte): a GDT whose TSS descriptor (GDT_TSS_SELECTOR) names a TSS whose
 * double faults switch to double_fault_stack_top, and the GDT's pointer. Loads nothing: the boot
 * CPU's are loaded by interrupts_init; an application processor's are filled in by the boot CPU
 * before its start-up IPI and loaded by the trampoline first thing in long mode (smp.asm), with the
 * IDT from interrupts_idt_pointer, so that even a double fault there has its stack. */
void interrupts_prepare_cpu(struct cpu_descriptor_tables *tables, uint64_t double_fault_stack_top);

/* The shared IDT's limit and base, for LIDT; valid once interrupts_init has run. */
struct cpu_descriptor_pointer;
const struct cpu_descriptor_pointer *interrupts_idt_pointer(void);

/* The name of CPU exception vector (0..31), as the handler's reports give it ("invalid opcode");
 * "not an exception" for any other vector. */
const char *interrupts_exception_name(uint32_t vector);

/* Handlers for vectors 32..255, called with interrupts off on the interrupted stack. A vector
 * without one panics. */
typedef void (*interrupt_handler)(struct interrupt_frame *frame);
void interrupts_set_handler(uint8_t vector, interrupt_handler handler);

/* Called by the stubs; returns after each handled interrupt (vectors 32..255) and the one
 * exception the kernel recovers from (breakpoint); the other exceptions panic. */
void interrupt_dispatch(struct interrupt_frame *frame);

#endif
