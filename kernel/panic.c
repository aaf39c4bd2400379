/* Panic: stop the other CPUs, log the reason, then leave QEMU with the failure code (see
 * panic.h). */
#include "kernel/panic.h"

#include <stdarg.h>
#include <stdint.h>

#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/cpu_local.h"
#include "kernel/lib/format.h"
#include "kernel/log.h"
#include "kernel/qemu_exit.h"

/* The CPU whose panic is in progress, or -1. */
static volatile int32_t panicking_cpu = -1;
/* CPUs that have stopped for it (panic_stop_here), each counted once: a CPU whose own panic came
 * second stops before the first one's NMI reaches it, and that NMI enters panic_stop_here again. */
static volatile bool cpu_stopped[CPU_MAX];
static volatile uint32_t cpus_stopped;

/* How long a panic waits for the other CPUs to stop, in steps of PANIC_STOP_STEP_US. */
#define PANIC_STOP_STEP_US 100
#define PANIC_STOP_STEPS   1000

bool panic_stops_this_cpu(void) {
    int32_t panicking = __atomic_load_n(&panicking_cpu, __ATOMIC_ACQUIRE);
    return panicking >= 0 && panicking != (int32_t)cpu_this()->index;
}

void panic_stop_here(void) {
    uint32_t me = cpu_this()->index;
    if (me < CPU_MAX && !__atomic_exchange_n(&cpu_stopped[me], true, __ATOMIC_SEQ_CST)) {
        log_abandon_line();
        __atomic_fetch_add(&cpus_stopped, 1, __ATOMIC_SEQ_CST);
    }
    cpu_halt_forever();
}

/* Sends an NMI to every other registered CPU (each has its IDT from its start on) and waits, for a
 * bounded time, until each has stopped. Returns how many did, of *others. */
static uint32_t stop_other_cpus(uint32_t *others) {
    uint32_t me = cpu_this()->index;
    uint32_t count = cpu_count();
    *others = count - 1;
    for (uint32_t i = 0; i < count; i++) {
        if (i != me && !apic_send_nmi(cpu_by_index(i)->apic_id)) {
            break; /* the local APIC takes no IPI: no use trying the others */
        }
    }
    for (int step = 0; step < PANIC_STOP_STEPS && cpus_stopped < *others; step++) {
        apic_delay_us(PANIC_STOP_STEP_US);
    }
    return cpus_stopped;
}

void panic(const char *format, ...) {
    cpu_disable_interrupts();
    int32_t me = (int32_t)cpu_this()->index;
    int32_t expected = -1;
    if (!__atomic_compare_exchange_n(&panicking_cpu, &expected, me, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST) &&
        expected != me) {
        panic_stop_here(); /* the other CPU's NMI is on its way, or already missed: stop anyway */
    }
    char reason[256];
    va_list args;
    va_start(args, format);
    format_string_va(reason, sizeof reason, format, args);
    va_end(args);
    /* Not again in a panic within this one (a fault while stopping or logging). */
    uint32_t others = 0;
    uint32_t stopped = expected == me || cpu_count() < 2 ? 0 : stop_other_cpus(&others);
    if (others == 0) {
        log_last_line(LOG_PANIC, "%s", reason);
    } else {
        log_last_line(LOG_PANIC, "%s (%u of %u other CPUs stopped)", reason, stopped, others);
    }
    qemu_exit(QEMU_EXIT_FAILURE);
}
