/* Panic: stop the other CPUs, log the reason, then leave QEMU with the failure code (see
 * panic.h). */
#include "kernel/panic.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/cpu_local.h"
#include "kernel/lib/cpu_stop.h"
#include "kernel/lib/format.h"
#include "kernel/log.h"
#include "kernel/qemu_exit.h"

/* The CPU whose panic is in progress, or -1. */
static volatile int32_t panicking_cpu = -1;
/* CPUs in panic_stop_here, by index: a CPU whose own panic came second stops before the first
 * one's NMI reaches it, and that NMI enters panic_stop_here again, which must do nothing twice. */
static volatile bool cpu_stopping[CPU_MAX];
/* CPUs that have stopped for it, by index, set once each has given up the log (the panicking CPU's
 * line must not wait for it). A release after everything the CPU did before, its registrations of
 * CPUs among it: cpu_stop_others relies on that to know the count is final. */
static volatile bool cpu_stopped[CPU_MAX];

/* How long a panic waits for the other CPUs to stop, in steps of PANIC_STOP_STEP_US. */
#define PANIC_STOP_STEP_US 100
#define PANIC_STOP_STEPS   1000

bool panic_stops_this_cpu(void) {
    int32_t panicking = __atomic_load_n(&panicking_cpu, __ATOMIC_ACQUIRE);
    return panicking >= 0 && panicking != (int32_t)cpu_this()->index;
}

void panic_stop_here(void) {
    uint32_t me = cpu_this()->index;
    if (me < CPU_MAX && !__atomic_exchange_n(&cpu_stopping[me], true, __ATOMIC_SEQ_CST)) {
        log_abandon_line();
        __atomic_store_n(&cpu_stopped[me], true, __ATOMIC_RELEASE);
    }
    cpu_halt_forever();
}

/* The hardware of cpu_stop_others. A CPU has its IDT from its start on, before its registration,
 * so an NMI finds a handler on every CPU the count names. */
static uint32_t stop_count(void *ctx) {
    (void)ctx;
    return cpu_count(); /* an acquire: the block of every CPU it counts is visible */
}

static bool stop_send_nmi(void *ctx, uint32_t index) {
    (void)ctx;
    return apic_send_nmi(cpu_by_index(index)->apic_id);
}

static bool stop_stopped(void *ctx, uint32_t index) {
    (void)ctx;
    return index < CPU_MAX && __atomic_load_n(&cpu_stopped[index], __ATOMIC_ACQUIRE);
}

static void stop_wait(void *ctx) {
    (void)ctx;
    apic_delay_us(PANIC_STOP_STEP_US);
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
    char reason[PANIC_REASON_SIZE];
    va_list args;
    va_start(args, format);
    size_t length = format_string_va(reason, sizeof reason, format, args);
    va_end(args);
    char cut[48] = ""; /* "... (cut from N bytes)", N up to 20 digits */
    if (length >= sizeof reason) {
        format_string(cut, sizeof cut, "... (cut from %zu bytes)", length);
    }
    /* Not again in a panic within this one (a fault while stopping or logging). */
    struct cpu_stop_tally tally = {0, 0};
    if (expected != me) {
        const struct cpu_stop_ops ops = {stop_count, stop_send_nmi, stop_stopped, stop_wait, NULL};
        tally = cpu_stop_others(&ops, (uint32_t)me, PANIC_STOP_STEPS);
    }
    if (tally.others == 0) {
        log_last_line(LOG_PANIC, "%s%s", reason, cut);
    } else {
        log_last_line(LOG_PANIC, "%s%s (%u of %u other CPUs stopped)", reason, cut, tally.stopped,
                      tally.others);
    }
    qemu_exit(QEMU_EXIT_FAILURE);
}
