/* Host tests of the application processors' start-up (cpu_start.h): the choice of which MADT
 * entries to start, and the start-up sequence against a simulated CPU that takes a set time from
 * its start-up IPI to its C code. */
#include "kernel/lib/cpu_start.h"

#include "tests/support/check.h"

#define TIMEOUT_MS 500
#define NEVER      UINT64_MAX

/* One CPU and a clock in microseconds. INIT resets the CPU into waiting for a start-up IPI; the
 * first start-up IPI it gets then starts it booting, and it runs boot_us later. */
struct sim_cpu {
    uint32_t apic_id;
    uint64_t now;
    uint64_t boot_us;
    bool waiting_for_startup;
    bool booting;
    uint64_t up_at;
    unsigned inits;
    unsigned startups;
    unsigned wrong_target; /* IPIs sent to another APIC id */
};

/* Whether an IPI to apic_id reaches the simulated CPU; one aimed elsewhere is counted. */
static bool sim_targeted(struct sim_cpu *cpu, uint32_t apic_id) {
    if (apic_id != cpu->apic_id) {
        cpu->wrong_target++;
        return false;
    }
    return true;
}

static void sim_init(void *ctx, uint32_t apic_id) {
    struct sim_cpu *cpu = ctx;
    if (!sim_targeted(cpu, apic_id)) {
        return;
    }
    cpu->inits++;
    cpu->waiting_for_startup = true;
    cpu->booting = false;
}

static void sim_startup(void *ctx, uint32_t apic_id) {
    struct sim_cpu *cpu = ctx;
    if (!sim_targeted(cpu, apic_id)) {
        return;
    }
    cpu->startups++;
    if (cpu->waiting_for_startup) {
        cpu->waiting_for_startup = false;
        cpu->booting = cpu->boot_us != NEVER;
        cpu->up_at = cpu->now + cpu->boot_us;
    }
}

static void sim_delay(void *ctx, uint64_t microseconds) {
    struct sim_cpu *cpu = ctx;
    cpu->now += microseconds;
}

static bool sim_started(void *ctx) {
    const struct sim_cpu *cpu = ctx;
    return cpu->booting && cpu->now >= cpu->up_at;
}

static bool start(struct sim_cpu *cpu, bool withhold) {
    const struct cpu_start_ops ops = {sim_init, sim_startup, sim_delay, sim_started, cpu};
    return cpu_start_sequence(&ops, cpu->apic_id, withhold, TIMEOUT_MS);
}

/* A CPU that runs 50 us after its start-up IPI.
 * Expect it started after INIT, 10 ms and one start-up IPI, all to its APIC id. */
static int quick_cpu_check(void) {
    struct sim_cpu cpu = {.apic_id = 3, .boot_us = 50};
    ASSERT_TRUE(start(&cpu, false));
    ASSERT_EQ(1, cpu.inits);
    ASSERT_EQ(1, cpu.startups);
    ASSERT_EQ(0, cpu.wrong_target);
    ASSERT_TRUE(cpu.now >= 10000 + 50);
    return 0;
}

/* A CPU that runs 100 ms after its start-up IPI: past the 200 us before the second IPI, which it
 * ignores (it no longer waits for one), well inside the timeout.
 * Expect it started, with two start-up IPIs sent. */
static int slower_cpu_check(void) {
    struct sim_cpu cpu = {.apic_id = 1, .boot_us = 100000};
    ASSERT_TRUE(start(&cpu, false));
    ASSERT_EQ(1, cpu.inits);
    ASSERT_EQ(2, cpu.startups);
    return 0;
}

/* A CPU that runs 300 us after its first start-up IPI, just past the 200 us before the second;
 * then one that comes up at the very end of the wait, 200 us + the timeout after it.
 * Expect the first started with exactly two start-up IPIs sent; the second started too (the wait's
 * last look counts), with one INIT: no giving up. */
static int edge_timed_cpus_check(void) {
    struct sim_cpu after_second = {.apic_id = 1, .boot_us = 300};
    ASSERT_TRUE(start(&after_second, false));
    ASSERT_EQ(2, after_second.startups);
    struct sim_cpu at_the_end = {.apic_id = 1, .boot_us = 200 + (uint64_t)TIMEOUT_MS * 1000};
    ASSERT_TRUE(start(&at_the_end, false));
    ASSERT_EQ(1, at_the_end.inits);
    ASSERT_EQ(2, at_the_end.startups);
    return 0;
}

/* A CPU that would run 600 ms after its start-up IPI, past the 500 ms timeout; then 10 s pass.
 * Expect false, and the CPU still not running 10 s later: the caller has given up on it and
 * rewrites the trampoline's stack and argument for the next CPU, so a CPU that came up late would
 * run on another CPU's stack and per-CPU block. Giving up must leave it held in INIT. */
static int late_cpu_stays_down_check(void) {
    struct sim_cpu cpu = {.apic_id = 2, .boot_us = 600000};
    ASSERT_FALSE(start(&cpu, false));
    ASSERT_FALSE(sim_started(&cpu));
    cpu.now += 10 * 1000 * 1000;
    ASSERT_FALSE(sim_started(&cpu));
    ASSERT_EQ(0, cpu.wrong_target);
    return 0;
}

/* The start-up IPI withheld (the kernel's smp_test=withhold_startup), a CPU that would run 50 us
 * after one.
 * Expect false after exactly the INIT delay, the 200 us and the timeout, no start-up IPI sent, and
 * the CPU not running. */
static int withheld_startup_check(void) {
    struct sim_cpu cpu = {.apic_id = 1, .boot_us = 50};
    ASSERT_FALSE(start(&cpu, true));
    ASSERT_EQ(0, cpu.startups);
    ASSERT_EQ(10000 + 200 + (uint64_t)TIMEOUT_MS * 1000, cpu.now); /* INIT, 200 us, timeout */
    ASSERT_FALSE(sim_started(&cpu));
    return 0;
}

/* MADT CPU entries with the boot CPU at APIC id 0, one CPU of at most 4 online:
 *
 *   enabled  id          expect
 *   yes      1, 0xfe     start (0xfe: the highest xAPIC mode can name alone)
 *   no       1           skip
 *   yes      0           skip (the boot CPU)
 *   yes      0xff        needs x2APIC: the xAPIC broadcast, an INIT there would reset every CPU
 *   yes      0x100, 0xffffffff (the x2APIC broadcast)   needs x2APIC
 *
 * then with 4 of 4 online: full for an enabled other CPU, even one needing x2APIC; still skip for
 * a disabled entry or the boot CPU (they would not have started anyway).
 * Expect each choice as listed. */
static int choose_check(void) {
    ASSERT_EQ(CPU_START_GO, cpu_start_choose(true, 1, 0, 1, 4));
    ASSERT_EQ(CPU_START_GO, cpu_start_choose(true, 0xfe, 0, 1, 4));
    ASSERT_EQ(CPU_START_SKIP, cpu_start_choose(false, 1, 0, 1, 4));
    ASSERT_EQ(CPU_START_SKIP, cpu_start_choose(true, 0, 0, 1, 4));
    ASSERT_EQ(CPU_START_NEEDS_X2APIC, cpu_start_choose(true, ACPI_XAPIC_BROADCAST_ID, 0, 1, 4));
    ASSERT_EQ(CPU_START_NEEDS_X2APIC, cpu_start_choose(true, 0x100, 0, 1, 4));
    ASSERT_EQ(CPU_START_NEEDS_X2APIC, cpu_start_choose(true, 0xffffffffu, 0, 1, 4));
    ASSERT_EQ(CPU_START_FULL, cpu_start_choose(true, 1, 0, 4, 4));
    ASSERT_EQ(CPU_START_FULL, cpu_start_choose(true, 0xff, 0, 4, 4));
    ASSERT_EQ(CPU_START_SKIP, cpu_start_choose(false, 1, 0, 4, 4));
    ASSERT_EQ(CPU_START_SKIP, cpu_start_choose(true, 0, 0, 4, 4));
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, choose_check);
    RUN_CHECK(failures, quick_cpu_check);
    RUN_CHECK(failures, slower_cpu_check);
    RUN_CHECK(failures, edge_timed_cpus_check);
    RUN_CHECK(failures, late_cpu_stays_down_check);
    RUN_CHECK(failures, withheld_startup_check);
    return failures == 0 ? 0 : 1;
}
