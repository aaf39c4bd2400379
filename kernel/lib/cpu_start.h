/* The start-up sequence of one application processor (Intel SDM vol. 3, 8.4.4.1): INIT, 10 ms,
 * start-up IPI, up to 200 us, a second start-up IPI, then up to a timeout for the CPU to say it
 * runs. The IPIs, the delay and the CPU's "started" flag are injected: pure C, tested on the host
 * with a simulated CPU. */
#ifndef KERNEL_LIB_CPU_START_H
#define KERNEL_LIB_CPU_START_H

#include <stdbool.h>
#include <stdint.h>

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
