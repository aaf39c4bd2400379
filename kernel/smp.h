/* Multiprocessor bring-up: the CPUs come from ACPI (the RSDP from the multiboot2 ACPI tags, then
 * the MADT, validated by //acpi); each application processor is started with INIT-SIPI-SIPI
 * through a trampoline below 1 MiB into long mode on the kernel's page tables, with its own stack
 * (its idle thread's), GDT, TSS, double-fault stack and per-CPU block, then runs threads from the
 * scheduler. A refused table leaves the kernel on the boot CPU; a CPU that does not come up within
 * SMP_START_TIMEOUT_MS is reported (with the mode and exception when it faulted in the
 * trampoline's 16- or 32-bit code, which halts it there), held in INIT (kernel/lib/cpu_start.h) and
 * its blocks given back (kernel/lib/cpu_blocks.h); the others go on. */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdint.h>

#include "multiboot2/multiboot2.h"

#define SMP_START_TIMEOUT_MS 500

/* The command line's switches for the fault tests (see smp_start). */
#define SMP_CORRUPT_MADT_WORD            "acpi_test=corrupt_madt"
#define SMP_MADT_BAD_ENTRY_WORD          "acpi_test=madt_bad_entry"
#define SMP_WITHHOLD_STARTUP_WORD        "smp_test=withhold_startup"
#define SMP_AP_EARLY_FAULT_WORD          "smp_test=ap_early_fault"
#define SMP_AP_EARLY_DOUBLE_FAULT_WORD   "smp_test=ap_early_double_fault"
#define SMP_AP_REAL_MODE_FAULT_WORD      "smp_test=ap_real_mode_fault"
#define SMP_AP_PROTECTED_MODE_FAULT_WORD "smp_test=ap_protected_mode_fault"
#define SMP_AP_FAULT_THEN_WITHHOLD_WORD  "smp_test=ap_fault_then_withhold"

/* Starts every other enabled CPU the MADT lists. For the fault tests, the command line switch
 * SMP_CORRUPT_MADT_WORD makes the kernel validate a copy of the MADT with one byte changed (a bad
 * checksum), SMP_MADT_BAD_ENTRY_WORD one whose first entry of a type the parser passes over claims
 * a length of 0 (its checksum made good again, so that only the entries' walk can refuse it),
 * SMP_WITHHOLD_STARTUP_WORD sends the first other CPU no start-up IPI, and SMP_AP_EARLY_FAULT_WORD
 * has the first other CPU meet an invalid opcode in the trampoline's 64-bit code, before any C code
 * (the report names that CPU, and the run ends in its panic); SMP_AP_EARLY_DOUBLE_FAULT_WORD has it
 * meet that invalid opcode with its stack pointer at the bottom of its stack, so that the
 * exception's frame falls on the guard page: a page fault, whose own frame faults again, a double
 * fault (reported from this CPU's IST stack, then a panic); SMP_AP_REAL_MODE_FAULT_WORD and
 * SMP_AP_PROTECTED_MODE_FAULT_WORD have it meet an invalid opcode in the trampoline's 16-bit resp.
 * 32-bit code, where the trampoline's own tables catch it: the CPU halts there, and when it does
 * not come up, an ERROR names it, the mode and the exception, and the others start as for a CPU
 * that does not come up; SMP_AP_FAULT_THEN_WITHHOLD_WORD has the first other CPU fault in its
 * 16-bit code and sends the second no start-up IPI, whose report must not be the first one's fault.
 * When the boot information lies over the trampoline's bytes, which the copy would overwrite, or
 * the memory map does not call them available, it starts none (a WARN line says why). Returns the
 * number of CPUs online (at least 1). */
uint32_t smp_start(const struct multiboot2_info *boot_info);

#endif
