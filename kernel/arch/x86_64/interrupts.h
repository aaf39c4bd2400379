/* CPU exceptions: the GDT with a TSS (for the double-fault stack), the IDT, and the C handler
 * every exception stub calls. A page fault reports the faulting address, the decoded error code
 * and RIP; a double fault runs on its own stack (IST 1), so a kernel stack overflow is reported
 * instead of triple-faulting; a breakpoint is logged and returns; everything else panics. */
#ifndef KERNEL_ARCH_X86_64_INTERRUPTS_H
#define KERNEL_ARCH_X86_64_INTERRUPTS_H

#include <stdint.h>

/* What interrupt_stubs.asm pushes, lowest address first, followed by the CPU's own frame. */
struct interrupt_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

#define EXCEPTION_BREAKPOINT   3
#define EXCEPTION_DOUBLE_FAULT 8
#define EXCEPTION_PAGE_FAULT   14

/* Loads the kernel's GDT and TSS and the IDT. Call once, early, before anything can fault. */
void interrupts_init(void);

/* Called by the stubs; returns only for exceptions the kernel recovers from (breakpoint). */
void interrupt_dispatch(struct interrupt_frame *frame);

#endif
