/* Which CPUs to start, and the start-up sequence of one application processor (see
 * cpu_start.h). */
#include "kernel/lib/cpu_start.h"

#define INIT_DELAY_US    10000 /* INIT to the first start-up IPI */
#define STARTUP_DELAY_US 200   /* first start-up IPI to the second */
#define POLL_US          10

enum cpu_start_choice cpu_start_choose(bool enabled, uint32_t apic_id, uint32_t boot_apic_id,
                                       uint32_t cpus_online, uint32_t cpus_max) {
    if (!enabled || apic_id == boot_apic_id) {
        return CPU_START_SKIP;
    }
    if (cpus_online >= cpus_max) {
        return CPU_START_FULL;
    }
    if (apic_id >= ACPI_XAPIC_BROADCAST_ID) {
        return CPU_START_NEEDS_X2APIC;
    }
    return CPU_START_GO;
}

static bool wait_started(const struct cpu_start_ops *ops, uint64_t microseconds) {
    for (uint64_t waited = 0; waited < microseconds; waited += POLL_US) {
        if (ops->started(ops->ctx)) {
            return true;
        }
        ops->delay_us(ops->ctx, POLL_US);
    }
    return ops->started(ops->ctx);
}

bool cpu_start_sequence(const struct cpu_start_ops *ops, uint32_t apic_id, bool withhold_startup,
                        uint32_t timeout_ms) {
    ops->send_init(ops->ctx, apic_id);
    ops->delay_us(ops->ctx, INIT_DELAY_US);
    if (!withhold_startup) {
        ops->send_startup(ops->ctx, apic_id);
    }
    if (wait_started(ops, STARTUP_DELAY_US)) {
        return true;
    }
    if (!withhold_startup) {
        ops->send_startup(ops->ctx, apic_id);
    }
    if (wait_started(ops, (uint64_t)timeout_ms * 1000)) {
        return true;
    }
    /* Giving up: a CPU that is only slow would come up later on the trampoline's stack and
     * argument, which the next CPU's start rewrites. INIT resets it, wherever it is, into waiting
     * for a start-up IPI that no one sends it again. */
    ops->send_init(ops->ctx, apic_id);
    return false;
}
