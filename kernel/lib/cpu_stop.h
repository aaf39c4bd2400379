/* A panic's stop of the other CPUs, its NMIs, the CPUs' registration and stopped flags and its
 * wait injected: pure C, tested on the host with a simulated set of CPUs.
 *
 * CPUs register while a panic runs: the boot CPU may be starting application processors when one
 * of those already running panics. The registrar publishes a CPU (its block, then the count, a
 * release store) before it goes on, and the panic's NMI stops the registrar too; so a count read
 * once, before the NMIs, misses a CPU registered between that read and the registrar's stop, which
 * then runs on after the panic. cpu_stop_others reads the count again on every round of its wait
 * and sends an NMI to each CPU it has not covered yet, and it ends only when every covered CPU has
 * stopped and a count read after that adds none: a registrar whose stop it has seen (an acquire of
 * its flag, set after its last registration's release) can register no more. */
#ifndef KERNEL_LIB_CPU_STOP_H
#define KERNEL_LIB_CPU_STOP_H

#include <stdbool.h>
#include <stdint.h>

struct cpu_stop_ops {
    uint32_t (*count)(void *ctx); /* the CPUs registered now: indices [0, count) */
    /* An NMI to the CPU with that index; false when the local APIC takes no IPI, after which no
     * other is sent (none would go either). */
    bool (*send_nmi)(void *ctx, uint32_t index);
    bool (*stopped)(void *ctx, uint32_t index); /* the CPU has stopped for the panic */
    void (*wait)(void *ctx);                    /* one round of the bounded wait */
    void *ctx;
};

/* How a stop ended: of the others (every registered CPU but the caller), how many had stopped. */
struct cpu_stop_tally {
    uint32_t others;
    uint32_t stopped;
};

/* Sends an NMI to every registered CPU but self, those registered meanwhile included, and waits,
 * at most rounds rounds of ops->wait, until each has stopped. Returns the tally of the CPUs
 * registered at its end (a self not registered yet is not among them, and every registered CPU is
 * one of the others); stopped < others when the bound passed first. One CPU alone returns {0, 0}
 * without a send or a round. */
struct cpu_stop_tally cpu_stop_others(const struct cpu_stop_ops *ops, uint32_t self,
                                      uint32_t rounds);

#endif
