/* GDT, TSS, IDT and the exception handler (see interrupts.h). */
#include "kernel/arch/x86_64/interrupts.h"

#include <stdbool.h>
#include <stddef.h>

#include "kernel/address_name.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/machine.h"
#include "kernel/cpu_local.h"
#include "kernel/log.h"
#include "kernel/panic.h"

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
#define GDT_TSS         GDT_TSS_SELECTOR /* also loaded by the trampoline (smp.asm) */
/* A selector's index bits (3 and up) count 8-byte descriptors; the low 3 bits are RPL and TI. */
#define GDT_INDEX(selector) ((selector) >> 3)

#define IDT_INTERRUPT_GATE 0x8e /* present, ring 0, 64-bit interrupt gate */
#define DOUBLE_FAULT_IST   1

/* The bits of a page fault's error code. */
#define PAGE_FAULT_PROTECTION        (1u << 0) /* clear: the page was not present */
#define PAGE_FAULT_WRITE             (1u << 1)
#define PAGE_FAULT_USER              (1u << 2)
#define PAGE_FAULT_RESERVED_BIT      (1u << 3)
#define PAGE_FAULT_INSTRUCTION_FETCH (1u << 4)

static struct cpu_descriptor_tables boot_tables;
static _Alignas(16) uint8_t boot_double_fault_stack[INTERRUPTS_DOUBLE_FAULT_STACK_SIZE];
static struct idt_entry idt[INTERRUPTS_VECTORS]; /* one IDT, shared by every CPU */
static struct cpu_descriptor_pointer idt_pointer;
static interrupt_handler interrupt_handlers[INTERRUPTS_VECTORS];

extern const uint64_t exception_stubs[INTERRUPTS_VECTORS];

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

const char *interrupts_exception_name(uint32_t vector) {
    return vector < sizeof exception_names / sizeof exception_names[0] ? exception_names[vector]
                                                                       : "not an exception";
}

void interrupts_prepare_cpu(struct cpu_descriptor_tables *tables, uint64_t double_fault_stack_top) {
    *tables = (struct cpu_descriptor_tables){0};
    struct task_state_segment *tss = &tables->tss;
    uint64_t *gdt = tables->gdt;
    uint64_t tss_base = (uint64_t)(uintptr_t)tss;
    uint64_t tss_limit = sizeof *tss - 1;
    tss->ist[DOUBLE_FAULT_IST - 1] = double_fault_stack_top;
    tss->iomap_base = sizeof *tss;

    gdt[0] = 0;
    gdt[GDT_INDEX(GDT_KERNEL_CODE)] = GDT_KERNEL_CODE_DESCRIPTOR;
    gdt[GDT_INDEX(GDT_KERNEL_DATA)] = GDT_KERNEL_DATA_DESCRIPTOR;
    /* 16-byte TSS descriptor: type 9 (available 64-bit TSS), present. */
    gdt[GDT_INDEX(GDT_TSS)] = (tss_limit & 0xffff) | ((tss_base & 0xffffff) << 16) |
                              (0x9ull << 40) | (1ull << 47) | (((tss_limit >> 16) & 0xf) << 48) |
                              (((tss_base >> 24) & 0xff) << 56);
    gdt[GDT_INDEX(GDT_TSS) + 1] = tss_base >> 32;

    tables->gdt_pointer =
        (struct cpu_descriptor_pointer){sizeof tables->gdt - 1, (uint64_t)(uintptr_t)gdt};
}

static void build_idt(void) {
    for (size_t vector = 0; vector < INTERRUPTS_VECTORS; vector++) {
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
}

void interrupts_init(void) {
    build_idt();
    idt_pointer = (struct cpu_descriptor_pointer){sizeof idt - 1, (uint64_t)(uintptr_t)idt};
    interrupts_prepare_cpu(&boot_tables, (uint64_t)(uintptr_t)(boot_double_fault_stack +
                                                               sizeof boot_double_fault_stack));
    cpu_load_gdt(&boot_tables.gdt_pointer, GDT_KERNEL_CODE, GDT_KERNEL_DATA);
    cpu_load_task_register(GDT_TSS);
    cpu_load_idt(&idt_pointer);
}

const struct cpu_descriptor_pointer *interrupts_idt_pointer(void) {
    return &idt_pointer;
}

void interrupts_set_handler(uint8_t vector, interrupt_handler handler) {
    interrupt_handlers[vector] = handler;
}

static void log_registers(const struct interrupt_frame *frame) {
    log_error("exception: rip %p rsp %p rflags %p cs %x on CPU %u", (void *)frame->rip,
              (void *)frame->rsp, (void *)frame->rflags, (unsigned)frame->cs, cpu_this_index());
}

static void handle_page_fault(const struct interrupt_frame *frame) {
    uint64_t address = cpu_read_cr2();
    uint64_t code = frame->error_code;
    char name[KERNEL_ADDRESS_NAME_MAX];
    log_error("exception: page fault at address %p (%s)", (void *)address,
              kernel_address_name(address, name, sizeof name));
    log_error("exception: error code %x: %s, %s, %s mode, %s%s", (unsigned)code,
              (code & PAGE_FAULT_PROTECTION) ? "protection violation" : "page not present",
              (code & PAGE_FAULT_WRITE) ? "write" : "read",
              (code & PAGE_FAULT_USER) ? "user" : "kernel",
              (code & PAGE_FAULT_INSTRUCTION_FETCH) ? "instruction fetch" : "data access",
              (code & PAGE_FAULT_RESERVED_BIT) ? ", reserved bit set" : "");
    log_registers(frame);
    panic("interrupt_dispatch: page fault at %p, rip %p", (void *)address, (void *)frame->rip);
}

static void handle_double_fault(const struct interrupt_frame *frame) {
    uint64_t address = cpu_read_cr2();
    char name[KERNEL_ADDRESS_NAME_MAX];
    const char *region = kernel_address_name(address, name, sizeof name);
    if (region == name) {
        /* A thread's stack slot: the page fault on its guard page could not push its frame
         * there. Report it as the page fault it was. */
        log_error("exception: page fault at address %p (%s)", (void *)address, region);
    }
    log_error("exception: double fault (on its own stack, IST %d); last page fault address %p (%s)",
              DOUBLE_FAULT_IST, (void *)address, region);
    log_registers(frame);
    panic("interrupt_dispatch: double fault, rsp %p", (void *)frame->rsp);
}

void interrupt_dispatch(struct interrupt_frame *frame) {
    uint64_t vector = frame->vector & (INTERRUPTS_VECTORS - 1);
    if (vector >= INTERRUPTS_FIRST_IRQ_VECTOR) {
        if (interrupt_handlers[vector] == NULL) {
            panic("interrupt_dispatch: interrupt vector %u has no handler", (unsigned)vector);
        }
        interrupt_handlers[vector](frame);
        return;
    }
    switch (vector) {
    case EXCEPTION_NMI:
        if (panic_stops_this_cpu()) {
            panic_stop_here(); /* another CPU panics: this one stops, its report stands alone */
        }
        log_error("exception: NMI on CPU %u, no panic in progress", cpu_this()->index);
        log_registers(frame);
        panic("interrupt_dispatch: unexpected NMI at rip %p", (void *)frame->rip);
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
