/* Multiprocessor bring-up (see smp.h). */
#include "kernel/smp.h"

#include <stddef.h>

#include "acpi/acpi.h"
#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/interrupts.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/cpu_local.h"
#include "kernel/kmalloc.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/cpu_blocks.h"
#include "kernel/lib/cpu_start.h"
#include "kernel/lib/phys_range.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/thread.h"
#include "paging/frame_allocator.h"

/* The trampoline's page, TRAMPOLINE_PHYS (a machine constant, machine.bzl, shared with smp.asm):
 * one a start-up IPI can name (its 8-bit vector is the page number: a real-mode page) and
 * identity-mapped by the boot page tables so the code goes on running at the same address once
 * paging is on. The frame allocator hands out nothing below FRAME_ALLOCATOR_LOW_LIMIT, so the
 * kernel allocates nothing there; but the boot loader may have put things there before the kernel
 * ran (GRUB places the boot information as low as 0x1000), and firmware may keep memory there that
 * the map does not call available; so before the copy smp_start checks that the boot information,
 * still read afterwards (the command line), is clear of the trampoline's bytes and that the memory
 * map calls them available. */
_Static_assert(TRAMPOLINE_PHYS % PAGE_SIZE == 0 && TRAMPOLINE_PHYS / PAGE_SIZE <= UINT8_MAX,
               "a start-up IPI's 8-bit vector names the trampoline's page");
_Static_assert(TRAMPOLINE_PHYS < FRAME_ALLOCATOR_LOW_LIMIT,
               "the frame allocator must never hand out the trampoline's page");

/* smp.asm */
extern const char trampoline_start[], trampoline_end[];
extern const char trampoline_cr3[], trampoline_efer[], trampoline_stack[], trampoline_entry[],
    trampoline_argument[], trampoline_idt[], trampoline_cpu_gdt[], trampoline_fault_stack[],
    trampoline_test_fault[];
/* The fault report a CPU writes when it faults in the trampoline's 16- or 32-bit code, then halts
 * there (smp.asm): the mode (TRAMPOLINE_FAULT_16BIT or _32BIT, machine.bzl), written last, the
 * vector and the error code. */
extern const char trampoline_fault_mode[], trampoline_fault_vector[], trampoline_fault_error_code[];

static volatile bool ap_started;

/* What the first other CPU meets in the trampoline for the tests of early faults (smp.h). */
enum early_fault {
    EARLY_FAULT_NONE,
    EARLY_FAULT_INVALID_OPCODE, /* SMP_AP_EARLY_FAULT_WORD */
    EARLY_FAULT_DOUBLE,         /* SMP_AP_EARLY_DOUBLE_FAULT_WORD */
    EARLY_FAULT_REAL_MODE,      /* SMP_AP_REAL_MODE_FAULT_WORD */
    EARLY_FAULT_PROTECTED_MODE, /* SMP_AP_PROTECTED_MODE_FAULT_WORD */
};

static const void *acpi_map(void *ctx, uint64_t phys, uint64_t size) {
    (void)ctx;
    return phys < PHYS_MAP_SIZE && size <= PHYS_MAP_SIZE - phys ? phys_to_virt(phys) : NULL;
}

/* First C code of an application processor, on its idle thread's stack, with the shared IDT, its
 * own GDT and TSS (cpu->tables) loaded and its GS base at cpu: the trampoline did all that, so that
 * a fault before here, even a double fault, is reported. */
static __attribute__((noreturn)) void ap_main(struct cpu_local *cpu) {
    apic_init_cpu();
    cpu->current = cpu->idle;
    apic_timer_start(thread_timer_tick);
    __atomic_store_n(&ap_started, true, __ATOMIC_RELEASE);
    /* Threads only once the boot CPU has seen the start and registered this CPU: if it gave up
     * first, its INIT (cpu_start_sequence) finds this CPU here, holding no thread and no lock. */
    while (!__atomic_load_n(&cpu->online, __ATOMIC_ACQUIRE)) {
        cpu_pause();
    }
    /* TLB shootdowns name this CPU from its registration on (cpu_register, before online); one
     * made before may have missed what it cached since its CR3 load in the trampoline. */
    cpu_flush_tlb_all();
    thread_idle_loop();
}

static void write_parameter(const char *symbol, uint64_t value) {
    uint8_t *copy = phys_to_virt(TRAMPOLINE_PHYS);
    memcpy(copy + (symbol - trampoline_start), &value, sizeof value);
}

/* A field of the copy that an application processor writes (each 8-byte aligned, smp.asm). The
 * acquire orders the reads after it behind it: the CPU writes the report's mode last. */
static uint64_t read_parameter(const char *symbol) {
    const uint64_t *field = phys_to_virt(TRAMPOLINE_PHYS + (uint64_t)(symbol - trampoline_start));
    return __atomic_load_n(field, __ATOMIC_ACQUIRE);
}

/* Tells why the CPU with apic_id_of_cpu did not come up: an ERROR naming the mode and the
 * exception when the trampoline's fault report (cleared before its start) says it faulted in
 * the 16- or 32-bit code, else a WARN that it did not arrive in time. */
static void report_not_started(uint32_t apic_id_of_cpu) {
    uint64_t mode = read_parameter(trampoline_fault_mode);
    uint32_t vector = (uint32_t)read_parameter(trampoline_fault_vector);
    if (mode == TRAMPOLINE_FAULT_16BIT) {
        log_error("smp: CPU with APIC id %u faulted in the trampoline's 16-bit code: %s (vector "
                  "%u); going on without it",
                  apic_id_of_cpu, interrupts_exception_name(vector), vector);
    } else if (mode == TRAMPOLINE_FAULT_32BIT) {
        log_error("smp: CPU with APIC id %u faulted in the trampoline's 32-bit code: %s (vector "
                  "%u), error code %x; going on without it",
                  apic_id_of_cpu, interrupts_exception_name(vector), vector,
                  (uint32_t)read_parameter(trampoline_fault_error_code));
    } else {
        log_warn("smp: CPU with APIC id %u did not come up within %u ms; going on without it",
                 apic_id_of_cpu, SMP_START_TIMEOUT_MS);
    }
}

static void send_init(void *ctx, uint32_t target_apic_id) {
    (void)ctx;
    apic_send_init(target_apic_id);
}

static void send_startup(void *ctx, uint32_t target_apic_id) {
    (void)ctx;
    apic_send_startup(target_apic_id, TRAMPOLINE_PHYS / PAGE_SIZE);
}

static void delay_us(void *ctx, uint64_t microseconds) {
    (void)ctx;
    apic_delay_us(microseconds);
}

static bool ap_has_started(void *ctx) {
    (void)ctx;
    return __atomic_load_n(&ap_started, __ATOMIC_ACQUIRE);
}

/* The blocks of start_cpu, for cpu_blocks_alloc. */
static void *alloc_local(void *ctx) {
    (void)ctx;
    return kcalloc(1, sizeof(struct cpu_local));
}

/* The descriptor tables with the double-fault stack right after them, one heap block. */
static void *alloc_tables(void *ctx) {
    (void)ctx;
    return kmalloc_aligned(
        sizeof(struct cpu_descriptor_tables) + INTERRUPTS_DOUBLE_FAULT_STACK_SIZE, 16);
}

static void *create_idle(void *ctx) {
    const uint32_t *index = ctx;
    return thread_create_idle(*index);
}

static void free_block(void *ctx, void *block) {
    (void)ctx;
    kfree(block);
}

static void destroy_idle(void *ctx, void *idle) {
    (void)ctx;
    thread_destroy_unstarted_idle(idle);
}

/* Starts one CPU; false (after a WARN line, or an ERROR one if it faulted in the trampoline's 16-
 * or 32-bit code) if its blocks cannot be allocated or it does not come up in time, with nothing
 * kept either way. withhold_startup sends INIT but no start-up IPI, so the CPU never comes up (for
 * the test of that report); early_fault has it meet an invalid opcode in the trampoline, in its
 * 16-bit or 32-bit code, or in its 64-bit code on its stack or at its stack's bottom (for the
 * tests of early faults). */
static bool start_cpu(uint32_t apic_id_of_cpu, bool withhold_startup,
                      enum early_fault early_fault) {
    uint32_t index = cpu_count();
    const struct cpu_blocks_ops alloc_ops = {alloc_local, alloc_tables, create_idle,
                                             free_block,  destroy_idle, &index};
    struct cpu_blocks blocks;
    if (!cpu_blocks_alloc(&alloc_ops, &blocks)) { /* frees what it got before a failure */
        log_warn("smp: no memory to start CPU with APIC id %u", apic_id_of_cpu);
        return false;
    }
    struct cpu_local *cpu = blocks.local;
    struct cpu_descriptor_tables *tables = blocks.tables;
    struct thread *idle = blocks.idle;
    interrupts_prepare_cpu(tables, (uint64_t)(uintptr_t)tables + sizeof *tables +
                                       INTERRUPTS_DOUBLE_FAULT_STACK_SIZE);
    cpu_local_prepare(cpu, index); /* the trampoline points the CPU's GS base at it */
    cpu->apic_id = apic_id_of_cpu;
    cpu->tables = tables;
    cpu->idle = idle;

    write_parameter(trampoline_stack, thread_stack_top(idle));
    write_parameter(trampoline_entry, (uint64_t)(uintptr_t)ap_main);
    write_parameter(trampoline_argument, (uint64_t)(uintptr_t)cpu);
    write_parameter(trampoline_cpu_gdt, (uint64_t)(uintptr_t)&tables->gdt_pointer);
    /* At the bottom, the invalid opcode's frame falls on the guard page below: a page fault. */
    write_parameter(trampoline_fault_stack,
                    early_fault == EARLY_FAULT_DOUBLE ? thread_stack_bottom(idle) : 0);
    write_parameter(trampoline_test_fault,
                    early_fault == EARLY_FAULT_REAL_MODE        ? TRAMPOLINE_FAULT_16BIT
                    : early_fault == EARLY_FAULT_PROTECTED_MODE ? TRAMPOLINE_FAULT_32BIT
                    : early_fault == EARLY_FAULT_INVALID_OPCODE ? TRAMPOLINE_FAULT_64BIT
                                                                : 0);
    /* A report left by a CPU started before must not be read as this one's. */
    write_parameter(trampoline_fault_mode, 0);
    write_parameter(trampoline_fault_vector, 0);
    write_parameter(trampoline_fault_error_code, 0);
    __atomic_store_n(&ap_started, false, __ATOMIC_RELEASE);

    const struct cpu_start_ops ops = {send_init, send_startup, delay_us, ap_has_started, NULL};
    if (!cpu_start_sequence(&ops, apic_id_of_cpu, withhold_startup, SMP_START_TIMEOUT_MS)) {
        report_not_started(apic_id_of_cpu);
        /* The sequence's last INIT, delivered when send_ipi returns, holds the CPU in wait for a
         * start-up IPI wherever it was. A CPU that came up late went no further than ap_main's
         * wait for cpu->online (set only below), interrupts off since the trampoline's cli: it
         * ran no thread, took no lock, allocated nothing. Nor is it in the CPU table (cpu_register
         * comes below). Nothing touches its blocks again, so they go back. */
        cpu_blocks_release(&alloc_ops, &blocks);
        return false;
    }
    /* smp_start starts a CPU only while fewer than CPU_MAX run (cpu_start_choose), and only the
     * boot CPU registers them: the table has room, and the index is the one the blocks got. */
    int registered = cpu_register(cpu);
    if (registered != (int)index) {
        panic("start_cpu: cpu_register gave the CPU with APIC id %u index %d, not %u (CPU_MAX %u)",
              apic_id_of_cpu, registered, index, CPU_MAX);
    }
    __atomic_store_n(&cpu->online, true, __ATOMIC_RELEASE); /* lets it into the scheduler */
    return true;
}

/*
 * For the ACPI refusal tests (SMP_CORRUPT_MADT_WORD, SMP_MADT_BAD_ENTRY_WORD): a corrupted copy of
 * the MADT *table, which *table then names, for the caller to free after parsing; NULL, *table
 * left alone, where the command line asks for neither. The firmware's own table is never written.
 */
static uint8_t *madt_test_copy(const char *cmdline, struct acpi_table *table) {
    bool bad_checksum = cmdline_has(cmdline, SMP_CORRUPT_MADT_WORD);
    bool bad_entry = cmdline_has(cmdline, SMP_MADT_BAD_ENTRY_WORD);
    if (!bad_checksum && !bad_entry) {
        return NULL;
    }
    /* QEMU lists interrupt source overrides (type 2), which the parser passes over. */
    uint32_t skipped = bad_entry ? acpi_madt_first_skipped_entry(table->data, table->length) : 0;
    if (bad_entry && skipped == 0) {
        panic("madt_test_copy: the MADT (%u bytes) has no entry of a type the parser passes over",
              table->length);
    }
    uint8_t *copy = kmalloc(table->length);
    if (copy == NULL) {
        panic("madt_test_copy: no memory for the corrupted MADT copy");
    }
    memcpy(copy, table->data, table->length);
    if (bad_checksum) {
        copy[table->length - 1] ^= 0x5a; /* the last entry byte: only the checksum sees it */
        log_info("smp: acpi_test=corrupt_madt: validating a copy of the MADT with its last byte "
                 "changed");
    } else {
        /* That entry's length byte to 0; the checksum byte takes up the difference so that the
         * bytes still sum to zero. */
        uint8_t *entry_length = &copy[skipped + 1];
        copy[ACPI_HEADER_CHECKSUM_OFFSET] += *entry_length;
        *entry_length = 0;
        log_info("smp: acpi_test=madt_bad_entry: validating a copy of the MADT whose entry of type "
                 "%u at offset %u claims 0 bytes, its checksum made good",
                 copy[skipped], skipped);
    }
    table->data = copy;
    return copy;
}

uint32_t smp_start(const struct multiboot2_info *boot_info) {
    struct cpu_local *boot_cpu = cpu_this();
    boot_cpu->apic_id = apic_id();
    if (!boot_info->acpi.present) {
        log_warn("smp: the boot loader gave no ACPI RSDP; running on the boot CPU only");
        return 1;
    }
    const struct acpi_memory memory = {acpi_map, NULL};
    struct acpi_table table;
    enum acpi_error error =
        acpi_find_table(boot_info->acpi.rsdp, boot_info->acpi.size, &memory, "APIC", &table);
    static struct acpi_madt madt;
    if (error == ACPI_OK) {
        uint8_t *corrupt_copy = madt_test_copy(boot_info->cmdline, &table);
        error = acpi_parse_madt(table.data, table.length, &madt);
        kfree(corrupt_copy);
    }
    if (error != ACPI_OK) {
        log_warn("smp: MADT refused: %s; running on the boot CPU only", acpi_error_name(error));
        return 1;
    }
    log_info("smp: MADT at %p (ACPI %s RSDP): %u CPUs listed, local APIC at %p, boot CPU APIC "
             "id %u",
             (void *)table.phys, boot_info->acpi.extended ? "2.0+" : "1.0", madt.cpus_listed,
             (void *)madt.local_apic_phys, boot_cpu->apic_id);
    if (madt.cpus_duplicate > 0) {
        log_warn("smp: MADT: %u enabled CPUs repeat an earlier APIC id; each id starts once",
                 madt.cpus_duplicate);
    }
    if (madt.cpus_bad_id > 0) {
        log_warn("smp: MADT: %u CPU entries name the broadcast APIC id; left out",
                 madt.cpus_bad_id);
    }
    if (madt.cpus_enabled_unstored > 0) {
        /* Entries, not CPUs: an APIC id repeated among them counts each time (acpi.h). */
        log_warn("smp: MADT: %u enabled CPU entries past the %u stored; their CPUs stay halted",
                 madt.cpus_enabled_unstored, (unsigned)ACPI_MADT_MAX_CPUS);
    }

    size_t trampoline_size = (size_t)(trampoline_end - trampoline_start);
    if (phys_ranges_overlap(TRAMPOLINE_PHYS, trampoline_size, boot_info->phys_start,
                            boot_info->phys_end - boot_info->phys_start)) {
        log_warn("smp: the boot information at [%p, %p) overlaps the trampoline's [%p, %p); "
                 "running on the boot CPU only",
                 (void *)boot_info->phys_start, (void *)boot_info->phys_end,
                 (void *)(uintptr_t)TRAMPOLINE_PHYS,
                 (void *)(uintptr_t)(TRAMPOLINE_PHYS + trampoline_size));
        return 1;
    }
    struct phys_range_in_map in_map = phys_range_in_map_start(TRAMPOLINE_PHYS, trampoline_size);
    struct multiboot2_mmap_entry entry;
    for (uint32_t i = 0; multiboot2_mmap_get(boot_info, i, &entry); i++) {
        phys_range_in_map_add(&in_map, entry.base, entry.length,
                              entry.type == MULTIBOOT2_MEMORY_AVAILABLE);
    }
    if (!phys_range_in_map_available(&in_map)) {
        log_warn("smp: the memory map does not call the trampoline's [%p, %p) available memory "
                 "(firmware or the boot loader may hold it); running on the boot CPU only",
                 (void *)(uintptr_t)TRAMPOLINE_PHYS,
                 (void *)(uintptr_t)(TRAMPOLINE_PHYS + trampoline_size));
        return 1;
    }
    memcpy(phys_to_virt(TRAMPOLINE_PHYS), trampoline_start, trampoline_size);
    write_parameter(trampoline_cr3, cpu_read_cr3());
    write_parameter(trampoline_efer, cpu_read_msr(CPU_MSR_EFER));
    write_parameter(trampoline_idt, (uint64_t)(uintptr_t)interrupts_idt_pointer());

    bool withhold = cmdline_has(boot_info->cmdline, SMP_WITHHOLD_STARTUP_WORD);
    if (withhold) {
        log_info("smp: smp_test=withhold_startup: the first other CPU gets no start-up IPI");
    }
    bool withhold_next = false; /* the second other CPU's, after the first's fault */
    enum early_fault fault = EARLY_FAULT_NONE;
    if (cmdline_has(boot_info->cmdline, SMP_AP_EARLY_FAULT_WORD)) {
        fault = EARLY_FAULT_INVALID_OPCODE;
        log_info("smp: smp_test=ap_early_fault: the first other CPU meets an invalid opcode in the "
                 "trampoline's 64-bit code, right after it loads the kernel's IDT");
    } else if (cmdline_has(boot_info->cmdline, SMP_AP_EARLY_DOUBLE_FAULT_WORD)) {
        fault = EARLY_FAULT_DOUBLE;
        log_info("smp: smp_test=ap_early_double_fault: the first other CPU meets an invalid opcode "
                 "in the trampoline's 64-bit code with its stack pointer at its stack's bottom");
    } else if (cmdline_has(boot_info->cmdline, SMP_AP_REAL_MODE_FAULT_WORD)) {
        fault = EARLY_FAULT_REAL_MODE;
        log_info("smp: smp_test=ap_real_mode_fault: the first other CPU meets an invalid opcode in "
                 "the trampoline's 16-bit code");
    } else if (cmdline_has(boot_info->cmdline, SMP_AP_PROTECTED_MODE_FAULT_WORD)) {
        fault = EARLY_FAULT_PROTECTED_MODE;
        log_info("smp: smp_test=ap_protected_mode_fault: the first other CPU meets an invalid "
                 "opcode in the trampoline's 32-bit code");
    } else if (cmdline_has(boot_info->cmdline, SMP_AP_FAULT_THEN_WITHHOLD_WORD)) {
        fault = EARLY_FAULT_REAL_MODE;
        withhold_next = true;
        log_info(
            "smp: smp_test=ap_fault_then_withhold: the first other CPU meets an invalid opcode "
            "in the trampoline's 16-bit code, the second gets no start-up IPI");
    }
    for (uint32_t i = 0; i < madt.cpus_stored; i++) {
        const struct acpi_madt_cpu *entry = &madt.cpus[i];
        enum cpu_start_choice choice = cpu_start_choose(entry->enabled, entry->apic_id,
                                                        boot_cpu->apic_id, cpu_count(), CPU_MAX);
        if (choice == CPU_START_SKIP) {
            continue;
        }
        if (choice == CPU_START_FULL) {
            log_warn("smp: more than %u CPUs; APIC id %u and later stay halted", CPU_MAX,
                     entry->apic_id);
            break;
        }
        if (choice == CPU_START_NEEDS_X2APIC) {
            log_warn("smp: APIC id %u needs x2APIC mode; left halted", entry->apic_id);
            continue;
        }
        bool withheld = withhold;
        withhold = withhold_next;
        withhold_next = false;
        enum early_fault faulting = fault;
        fault = EARLY_FAULT_NONE;
        struct alloc_stats before;
        size_t slots_before = 0;
        if (withheld) {
            kheap_stats(&before);
            slots_before = thread_slots_in_use();
        }
        if (start_cpu(entry->apic_id, withheld, faulting)) {
            log_info("smp: CPU %u (APIC id %u) online", cpu_count() - 1, entry->apic_id);
        }
        if (withheld) { /* for the test that a CPU which does not start keeps no block or slot */
            struct alloc_stats after;
            kheap_stats(&after);
            log_info("smp: heap across the withheld CPU's start: live %zu -> %zu blocks, in use "
                     "%zu -> %zu bytes; thread stack slots in use %zu -> %zu",
                     before.live_allocations, after.live_allocations, before.bytes_in_use,
                     after.bytes_in_use, slots_before, thread_slots_in_use());
        }
    }
    log_info("smp: %u CPUs online; INIT went to %u APIC ids, start-up IPIs to %u", cpu_count(),
             apic_init_targets(), apic_startup_targets());
    return cpu_count();
}
