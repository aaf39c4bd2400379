/* The start-up of application processors: which CPUs of the MADT to start (cpu_start_choose), and
 * the start-up sequence of one (Intel SDM vol. 3, 8.4.4.1): INIT, 10 ms, start-up IPI, up to
 * 200 us, a second start-up IPI, then up to a timeout for the CPU to say it runs. The IPIs, the
 * delay and the CPU's "started" flag are injected: pure C, tested on the host with a simulated
 * CPU. */
#ifndef KERNEL_LIB_CPU_START_H
#define KERNEL_LIB_CPU_START_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi/acpi.h"

/* The local APIC runs in xAPIC mode, whose broadcast destination is ACPI_XAPIC_BROADCAST_ID: an
 * IPI to it reaches every CPU, and an INIT there would reset the running ones too. //acpi leaves
 * out a local APIC entry naming it, but an x2APIC entry's 32-bit id may be it or above. So: what to
 * do with one CPU entry of the MADT, checked in this order. */
enum cpu_start_choice {
    CPU_START_SKIP,         /* disabled, or the boot CPU itself: nothing to report */
    CPU_START_FULL,         /* cpus_max online already: this and every later entry stay halted */
    CPU_START_NEEDS_X2APIC, /* id ACPI_XAPIC_BROADCAST_ID or above: xAPIC mode cannot name
                               it alone, so it is left halted */
    CPU_START_GO,           /* start it */
};

/* The choice for a CPU entry (enabled flag, APIC id) while cpus_online of at most cpus_max CPUs
 * run, the boot CPU having boot_apic_id. */
enum cpu_start_choice cpu_start_choose(bool enabled, uint32_t apic_id, uint32_t boot_apic_id,
                                       uint32_t cpus_online, uint32_t cpus_max);

struct cpu_start_ops {
    void (*send_init)(void *ctx, uint32_t apic_id);
    void (*send_startup)(void *ctx, uint32_t apic_id); /* the trampoline's page is the caller's */
    void (*delay_us)(void *ctx, uint64_t microseconds);
    bool (*started)(void *ctx); /* the CPU has reached its C code and runs */
    void *ctx;
};

/* Runs the sequence for the CPU with apic_id; withhold_startup sends INIT but no start-up IPI (for
 * the test of a CPU that never comes up). Returns true once started() says so, false when
 * timeout_ms pass without it: the CPU has then been sent INIT again, which holds it down for good
 * (a late start would find the trampoline set up for another CPU). */
bool cpu_start_sequence(const struct cpu_start_ops *ops, uint32_t apic_id, bool withhold_startup,
                        uint32_t timeout_ms);

#endif
