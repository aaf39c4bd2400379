/* x86_64 instructions the kernel needs, as static inline functions. This is the only place that
 * writes inline assembly; everything else calls these. */
#ifndef KERNEL_ARCH_X86_64_CPU_H
#define KERNEL_ARCH_X86_64_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/arch/x86_64/machine.h"

static inline void cpu_outb(uint16_t port, uint8_t value) {
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t cpu_inb(uint16_t port) {
    uint8_t value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline void cpu_outl(uint16_t port, uint32_t value) {
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint64_t cpu_rdtsc(void) {
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return ((uint64_t)high << 32) | low;
}

static inline uint64_t cpu_read_cr2(void) {
    uint64_t value;
    __asm__ volatile("mov %%cr2, %0" : "=r"(value));
    return value;
}

static inline uint64_t cpu_read_cr3(void) {
    uint64_t value;
    __asm__ volatile("mov %%cr3, %0" : "=r"(value));
    return value;
}

static inline void cpu_write_cr3(uint64_t value) {
    __asm__ volatile("mov %0, %%cr3" : : "r"(value) : "memory");
}

static inline void cpu_invlpg(uint64_t virtual_address) {
    __asm__ volatile("invlpg (%0)" : : "r"(virtual_address) : "memory");
}

static inline uint64_t cpu_read_cr4(void) {
    uint64_t value;
    __asm__ volatile("mov %%cr4, %0" : "=r"(value));
    return value;
}

static inline void cpu_write_cr4(uint64_t value) {
    __asm__ volatile("mov %0, %%cr4" : : "r"(value) : "memory");
}

#define CPU_CR4_PGE (1u << 7) /* global pages: their TLB entries survive a CR3 load */

/* Drops every TLB entry of this CPU, global ones included, and its paging-structure caches: a
 * write of CR4 that changes PGE does (Intel SDM vol. 3A, 4.10.4.1), so with PGE on it is turned
 * off and on again; with PGE off there are no global entries and a CR3 load does it. */
static inline void cpu_flush_tlb_all(void) {
    uint64_t cr4 = cpu_read_cr4();
    if ((cr4 & CPU_CR4_PGE) != 0) {
        cpu_write_cr4(cr4 & ~(uint64_t)CPU_CR4_PGE);
        cpu_write_cr4(cr4);
    } else {
        cpu_write_cr3(cpu_read_cr3());
    }
}

static inline uint64_t cpu_read_rflags(void) {
    uint64_t rflags;
    __asm__ volatile("pushfq; popq %0" : "=r"(rflags));
    return rflags;
}

static inline void cpu_disable_interrupts(void) {
    __asm__ volatile("cli" : : : "memory");
}

static inline void cpu_enable_interrupts(void) {
    __asm__ volatile("sti" : : : "memory");
}

static inline void cpu_pause(void) {
    __asm__ volatile("pause");
}

/* cpu_rdtsc and cpu_pause in the shape of an injected clock and pause, whose context they do not
 * use: for the operations tables of the kernel's pure parts (kernel/lib/tlb_shootdown.h,
 * kernel/lib/log_lock.h). */
static inline uint64_t cpu_rdtsc_ctx(void *ctx) {
    (void)ctx;
    return cpu_rdtsc();
}

static inline void cpu_pause_ctx(void *ctx) {
    (void)ctx;
    cpu_pause();
}

static inline void cpu_breakpoint(void) {
    __asm__ volatile("int3");
}

/* Raises interrupt `vector` (a constant) by software, as the fault tests need. */
#define CPU_RAISE_INTERRUPT(vector) __asm__ volatile("int %0" : : "i"(vector))

/* Reads the 8 bytes at `address` (a fault test's deliberate bad read). */
static inline uint64_t cpu_read_u64(uint64_t address) {
    uint64_t value;
    __asm__ volatile("mov (%1), %0" : "=r"(value) : "r"(address) : "memory");
    return value;
}

/* Divides rdx:rax = `dividend` by `divisor` with div: a divide error (#DE) when divisor is 0. */
static inline uint64_t cpu_divide(uint64_t dividend, uint64_t divisor) {
    uint64_t high = 0;
    __asm__ volatile("div %2" : "+a"(dividend), "+d"(high) : "r"(divisor));
    return dividend;
}

static inline uint64_t cpu_read_rsp(void) {
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    return rsp;
}

static inline __attribute__((noreturn)) void cpu_halt_forever(void) {
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

/* The operand of lgdt and lidt: the table's size minus one and its address. */
struct __attribute__((packed)) cpu_descriptor_pointer {
    uint16_t limit;
    uint64_t base;
};

/* Loads a GDT, then reloads CS (by a far return) and the data segment registers from it, since
 * the CPU keeps using the old descriptors until a segment register is written. */
static inline void cpu_load_gdt(const struct cpu_descriptor_pointer *gdt, uint16_t code_selector,
                                uint16_t data_selector) {
    __asm__ volatile("lgdt %0\n"
                     "pushq %1\n"
                     "leaq 1f(%%rip), %%rax\n"
                     "pushq %%rax\n"
                     "lretq\n"
                     "1:\n"
                     "movw %w2, %%ds\n"
                     "movw %w2, %%es\n"
                     "movw %w2, %%ss\n"
                     :
                     : "m"(*gdt), "r"((uint64_t)code_selector), "r"(data_selector)
                     : "rax", "memory");
}

static inline void cpu_load_task_register(uint16_t selector) {
    __asm__ volatile("ltr %0" : : "r"(selector) : "memory");
}

static inline void cpu_load_idt(const struct cpu_descriptor_pointer *idt) {
    __asm__ volatile("lidt %0" : : "m"(*idt) : "memory");
}

static inline uint64_t cpu_read_msr(uint32_t msr) {
    uint32_t low, high;
    __asm__ volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr));
    return ((uint64_t)high << 32) | low;
}

static inline void cpu_write_msr(uint32_t msr, uint64_t value) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

/* Reads the 64-bit word at offset 0 of the GS segment: the per-CPU block's self pointer. */
static inline uint64_t cpu_read_gs_word0(void) {
    uint64_t value;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(value));
    return value;
}

/* Enables interrupts and halts until the next one; STI's one-instruction shadow makes the pair
 * atomic, so an interrupt arriving in between is not lost. */
static inline void cpu_enable_interrupts_and_halt(void) {
    __asm__ volatile("sti; hlt" : : : "memory");
}

/* CPU_MSR_EFER and CPU_MSR_GS_BASE come from machine.h, shared with the assembly. */
#define CPU_MSR_APIC_BASE 0x1bu

#define CPU_RFLAGS_INTERRUPT_ENABLE (1u << 9)

/* Interrupts are enabled on this CPU (RFLAGS.IF). */
static inline bool cpu_interrupts_enabled(void) {
    return (cpu_read_rflags() & CPU_RFLAGS_INTERRUPT_ENABLE) != 0;
}

#endif
