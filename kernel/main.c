/* kernel_main: the C entry point, called by boot.asm in long mode on the boot stack. It brings
 * the machine up step by step, reporting each on the serial console, runs the heap checks or the
 * scenario the command line names, then exits QEMU with the run's verdict. */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/interrupts.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/cpu_local.h"
#include "kernel/heap.h"
#include "kernel/heap_checks.h"
#include "kernel/kmalloc.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/memory_report.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/memory.h"
#include "kernel/panic.h"
#include "kernel/qemu_exit.h"
#include "kernel/scenarios.h"
#include "kernel/serial.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/stress.h"
#include "kernel/thread.h"
#include "multiboot2/multiboot2.h"

#define KERNEL_NAME "heapkernel"
/* GRUB's boot information is a few KiB; anything near this bound is corrupt. */
#define BOOT_INFO_MAX_SIZE (1u << 20)

__attribute__((noreturn)) void kernel_main(uint32_t multiboot2_magic, uint32_t boot_info_phys);

static const char *memory_type_name(uint32_t type) {
    switch (type) {
    case MULTIBOOT2_MEMORY_AVAILABLE:
        return "available";
    case MULTIBOOT2_MEMORY_RESERVED:
        return "reserved";
    case MULTIBOOT2_MEMORY_ACPI_RECLAIMABLE:
        return "ACPI reclaimable";
    case MULTIBOOT2_MEMORY_NVS:
        return "ACPI NVS";
    case MULTIBOOT2_MEMORY_BADRAM:
        return "bad RAM";
    default:
        return "unknown";
    }
}

/* Each entry, then the available total. An entry reaching 2^64 or past it (a corrupt map) is shown
 * with its length, its end having no 64-bit value; a total past 2^64 KiB is shown as at least
 * that. */
static void report_memory_map(const struct multiboot2_info *info) {
    struct memory_total available = {0};
    struct multiboot2_mmap_entry entry;
    for (uint32_t i = 0; multiboot2_mmap_get(info, i, &entry); i++) {
        uint64_t end;
        if (memory_range_end(entry.base, entry.length, &end)) {
            log_info("memory map: [%p, %p) %s", (void *)entry.base, (void *)end,
                     memory_type_name(entry.type));
        } else {
            log_info("memory map: [%p, +0x%llx bytes) %s, reaching 2^64 or past it",
                     (void *)entry.base, (unsigned long long)entry.length,
                     memory_type_name(entry.type));
        }
        if (entry.type == MULTIBOOT2_MEMORY_AVAILABLE) {
            memory_total_add(&available, entry.length);
        }
    }
    log_info("memory map: %u entries, %s%llu KiB available", info->mmap.count,
             available.saturated ? "at least " : "", (unsigned long long)available.kib);
}

/* Checks and reads the boot information GRUB left at boot_info_phys. */
static bool boot_info_init(uint32_t multiboot2_magic, uint32_t boot_info_phys,
                           struct multiboot2_info *boot_info) {
    enum multiboot2_error error =
        multiboot2_parse(multiboot2_magic, boot_info_phys, phys_to_virt(boot_info_phys),
                         BOOT_INFO_MAX_SIZE, boot_info);
    if (error != MULTIBOOT2_OK) {
        log_error("boot: information at %x rejected: %s", boot_info_phys,
                  multiboot2_error_name(error));
        return false;
    }
    log_info("boot: information at [%p, %p), %u bytes", (void *)boot_info->phys_start,
             (void *)boot_info->phys_end, boot_info->total_size);
    log_info("boot: loader \"%s\"", boot_info->bootloader_name ? boot_info->bootloader_name : "");
    log_info("boot: command line \"%s\"", boot_info->cmdline ? boot_info->cmdline : "");
    if (!boot_info->mmap.present) {
        log_error("boot: the boot loader gave no memory map");
        return false;
    }
    report_memory_map(boot_info);
    return true;
}

/* The command line's switch that leaves the per-CPU heap caches off (start_concurrency). */
#define HEAP_CACHE_OFF_WORD "heap_cache=off"

/* Room for every word the kernel reads from the command line; each is named by the code that
 * reads it. */
#define CMDLINE_KNOWN_MAX 48

/* Refuses a command line with a word that no part of the kernel reads, or a key given twice: a
 * misspelt word would otherwise boot the defaults, and of two values one would be ignored. */
static bool cmdline_init(const char *cmdline) {
    /* Code that reads a new word names it in its header and adds it here (stress.c's choices come
     * from stress_cmdline_word): the boot refuses a word this list does not have. */
    static const char *const fixed[] = {
        HEAP_RANGE_START_KEY,
        HEAP_RANGE_PAGES_KEY,
        SCENARIO_KEY,
        HEAP_CACHE_OFF_WORD,
        MEMORY_NO_FRAMES_WORD,
        SMP_CORRUPT_MADT_WORD,
        SMP_MADT_BAD_ENTRY_WORD,
        SMP_WITHHOLD_STARTUP_WORD,
        SMP_AP_EARLY_FAULT_WORD,
        SMP_AP_EARLY_DOUBLE_FAULT_WORD,
        SMP_AP_REAL_MODE_FAULT_WORD,
        SMP_AP_PROTECTED_MODE_FAULT_WORD,
        SMP_AP_FAULT_THEN_WITHHOLD_WORD,
    };
    _Static_assert(sizeof fixed / sizeof fixed[0] <= CMDLINE_KNOWN_MAX, "no room for the words");
    const char *known[CMDLINE_KNOWN_MAX];
    size_t count = 0;
    for (; count < sizeof fixed / sizeof fixed[0]; count++) {
        known[count] = fixed[count];
    }
    for (size_t i = 0; stress_cmdline_word(i) != NULL; i++) {
        if (count == CMDLINE_KNOWN_MAX) {
            panic("cmdline_init: more than %d known command line words", CMDLINE_KNOWN_MAX);
        }
        known[count++] = stress_cmdline_word(i);
    }
    struct cmdline_word bad;
    enum cmdline_error error = cmdline_check(cmdline, known, count, &bad);
    if (error != CMDLINE_OK) {
        char word[64];
        size_t len = bad.len < sizeof word - 1 ? bad.len : sizeof word - 1;
        memcpy(word, bad.start, len);
        word[len] = '\0';
        log_error("boot: command line word \"%s%s\" refused: %s", word, len < bad.len ? "..." : "",
                  cmdline_error_name(error));
        return false;
    }
    return true;
}

/* Each step logs one ERROR line with its reason and returns false when it fails; the first
 * failure ends the bring-up. */
static bool bring_up(uint32_t multiboot2_magic, uint32_t boot_info_phys,
                     struct multiboot2_info *boot_info, struct kernel_memory *memory) {
    struct heap_range heap;
    return boot_info_init(multiboot2_magic, boot_info_phys, boot_info) &&
           cmdline_init(boot_info->cmdline) && memory_init(memory, boot_info) &&
           heap_range_from_boot(boot_info->cmdline, &heap) && heap_init(memory, heap);
}

/* The per-CPU heap caches unless the command line says heap_cache=off, then interrupts on: the
 * local APIC and its timer, threads, then the other CPUs. */
static bool start_concurrency(struct kernel_memory *memory, const struct multiboot2_info *info) {
    if (cmdline_has(info->cmdline, HEAP_CACHE_OFF_WORD)) {
        log_info("heap: per-CPU caches off (heap_cache=off): every request takes the heap's lock");
    } else if (!kheap_cpu_caches_enable()) {
        return false;
    }
    if (!apic_init_boot(&memory->mapper) || !threads_init(memory)) {
        return false;
    }
    apic_timer_start(thread_timer_tick);
    spinlock_allow_halting();
    cpu_enable_interrupts();
    log_info("interrupts: on; timer at %u Hz on every CPU", APIC_TIMER_HZ);
    smp_start(info);
    return true;
}

void kernel_main(uint32_t multiboot2_magic, uint32_t boot_info_phys) {
    cpu_local_init_boot(); /* first: locks and the log find their CPU through it */
    serial_init();
    log_info("%s: booting (x86_64, long mode, serial COM1)", KERNEL_NAME);

    interrupts_init();
    log_info("interrupts: GDT, TSS and IDT loaded; double faults use their own stack");
    cpu_breakpoint();

    struct multiboot2_info boot_info;
    static struct kernel_memory memory;
    if (bring_up(multiboot2_magic, boot_info_phys, &boot_info, &memory)) {
        /* The heap checks expect a heap with nothing else in it: they run before threads. */
        bool stress = stress_requested(boot_info.cmdline);
        enum scenario_result scenario = scenario_run(boot_info.cmdline);
        if (scenario == SCENARIO_NONE && !stress) {
            heap_checks_run();
        }
        if (scenario == SCENARIO_NONE && start_concurrency(&memory, &boot_info) && stress) {
            stress_run(boot_info.cmdline, &memory.mapper);
        }
    }
    /* The one way out: the summary's verdict, from the checks and the ERROR lines, picks the code.
     */
    qemu_exit(log_summary() ? QEMU_EXIT_SUCCESS : QEMU_EXIT_FAILURE);
}
