/* GDT, TSS, IDT and the exception handler (see interrupts.h). */
#include "kernel/arch/x86_64/interrupts.h"

#include <stdbool.h>
#include <stddef.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/heap_config.h"
#include "kernel/log.h"
#include "kernel/panic.h"

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

struct __attribute__((packed)) descriptor_pointer {
    uint16_t limit;
    uint64_t base;
};

struct __attribute__((packed)) idt_entry {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attributes;
    uint16_t offset_middle;
    uint32_t offset_high;
    uint32_t reserved;
};

#define GDT_KERNEL_CODE GDT_KERNEL_CODE_SELECTOR /* the same entries as boot.asm's GDT */
#define GDT_KERNEL_DATA GDT_KERNEL_DATA_SELECTOR
#define GDT_TSS         0x18

#define IDT_INTERRUPT_GATE 0x8e /* present, ring 0, 64-bit interrupt gate */
#define DOUBLE_FAULT_IST   1

#define DOUBLE_FAULT_STACK_SIZE (16 * 1024)

static struct task_state_segment tss;
static uint64_t gdt[5];
static struct idt_entry idt[32];
static _Alignas(16) uint8_t double_fault_stack[DOUBLE_FAULT_STACK_SIZE];

extern const uint64_t exception_stubs[32];

static const char *const exception_names[32] = {
    "divide error",
    "debug",
    "non-maskable interrupt",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection fault",
    "page fault",
    "reserved",
    "x87 floating-point error",
    "alignment check",
    "machine check",
    "SIMD floating-point error",
    "virtualization",
    "control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "hypervisor injection",
    "VMM communication",
    "security exception",
    "reserved",
};

static void load_gdt_and_tss(void) {
    uint64_t tss_base = (uint64_t)(uintptr_t)&tss;
    uint64_t tss_limit = sizeof tss - 1;
    tss.ist[DOUBLE_FAULT_IST - 1] =
        (uint64_t)(uintptr_t)(double_fault_stack + sizeof double_fault_stack);
    tss.iomap_base = sizeof tss;

    gdt[0] = 0;
    gdt[GDT_KERNEL_CODE / 8] = GDT_KERNEL_CODE_DESCRIPTOR;
    gdt[GDT_KERNEL_DATA / 8] = GDT_KERNEL_DATA_DESCRIPTOR;
    /* 16-byte TSS descriptor: type 9 (available 64-bit TSS), present. */
    gdt[3] = (tss_limit & 0xffff) | ((tss_base & 0xffffff) << 16) | (0x9ull << 40) | (1ull << 47) |
             (((tss_limit >> 16) & 0xf) << 48) | (((tss_base >> 24) & 0xff) << 56);
    gdt[4] = tss_base >> 32;

    struct descriptor_pointer pointer = {sizeof gdt - 1, (uint64_t)(uintptr_t)gdt};
    __asm__ volatile("lgdt %0\n"
                     "pushq %1\n"
                     "leaq 1f(%%rip), %%rax\n"
                     "pushq %%rax\n"
                     "lretq\n"
                     "1:\n"
                     "movw %w2, %%ax\n"
                     "movw %%ax, %%ds\n"
                     "movw %%ax, %%es\n"
                     "movw %%ax, %%ss\n"
                     "ltr %w3\n"
                     :
                     : "m"(pointer), "i"(GDT_KERNEL_CODE), "i"(GDT_KERNEL_DATA), "r"(GDT_TSS)
                     : "rax", "memory");
}

static void load_idt(void) {
    for (size_t vector = 0; vector < 32; vector++) {
        uint64_t handler = exception_stubs[vector];
        idt[vector] = (struct idt_entry){
            .offset_low = handler & 0xffff,
            .selector = GDT_KERNEL_CODE,
            .ist = vector == EXCEPTION_DOUBLE_FAULT ? DOUBLE_FAULT_IST : 0,
            .type_attributes = IDT_INTERRUPT_GATE,
            .offset_middle = (handler >> 16) & 0xffff,
            .offset_high = (uint32_t)(handler >> 32),
            .reserved = 0,
        };
    }
    struct descriptor_pointer pointer = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(pointer) : "memory");
}

void interrupts_init(void) {
    load_gdt_and_tss();
    load_idt();
}

/* Names the region an address falls in, to make a fault report self-explanatory. */
static const char *describe_address(uint64_t address) {
    uint64_t guard = (uint64_t)(uintptr_t)kernel_stack_guard;
    uint64_t heap_end = KERNEL_HEAP_START + KERNEL_HEAP_SIZE;
    if (address >= guard && address < guard + PAGE_SIZE) {
        return "kernel stack guard page: kernel stack overflow";
    }
    if (address < PAGE_SIZE) {
        return "NULL page";
    }
    if (address >= KERNEL_HEAP_START && address < heap_end) {
        return "inside the heap";
    }
    if (address >= heap_end && address < heap_end + PAGE_SIZE) {
        return "just past the heap end";
    }
    return "unmapped or protected";
}

static void log_registers(const struct interrupt_frame *frame) {
    log_error("exception: rip %p rsp %p rflags %p cs %x", (void *)frame->rip, (void *)frame->rsp,
              (void *)frame->rflags, (unsigned)frame->cs);
}

static void handle_page_fault(const struct interrupt_frame *frame) {
    uint64_t address = cpu_read_cr2();
    uint64_t code = frame->error_code;
    log_error("exception: page fault at address %p (%s)", (void *)address,
              describe_address(address));
    log_error("exception: error code %x: %s, %s, %s mode, %s%s", (unsigned)code,
              (code & 1) ? "protection violation" : "page not present",
              (code & 2) ? "write" : "read", (code & 4) ? "user" : "kernel",
              (code & 16) ? "instruction fetch" : "data access",
              (code & 8) ? ", reserved bit set" : "");
    log_registers(frame);
    panic("interrupt_dispatch: page fault at %p, rip %p", (void *)address, (void *)frame->rip);
}

static void handle_double_fault(const struct interrupt_frame *frame) {
    uint64_t address = cpu_read_cr2();
    log_error("exception: double fault (on its own stack, IST %d); last page fault address %p (%s)",
              DOUBLE_FAULT_IST, (void *)address, describe_address(address));
    log_registers(frame);
    panic("interrupt_dispatch: double fault, rsp %p", (void *)frame->rsp);
}

void interrupt_dispatch(struct interrupt_frame *frame) {
    switch (frame->vector) {
    case EXCEPTION_BREAKPOINT:
        log_info("exception: breakpoint at rip %p, resuming", (void *)(frame->rip - 1));
        return;
    case EXCEPTION_PAGE_FAULT:
        handle_page_fault(frame);
        break;
    case EXCEPTION_DOUBLE_FAULT:
        handle_double_fault(frame);
        break;
    default:
        log_error("exception: %s (vector %u), error code %x", exception_names[frame->vector & 31],
                  (unsigned)frame->vector, (unsigned)frame->error_code);
        log_registers(frame);
        panic("interrupt_dispatch: %s at rip %p", exception_names[frame->vector & 31],
              (void *)frame->rip);
    }
}
