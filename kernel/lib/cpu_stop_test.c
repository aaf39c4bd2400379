/* Host tests of a panic's stop of the other CPUs (cpu_stop.h) on a simulated set of CPUs: an NMI
 * sent to a CPU is taken at the next round of the wait (later for a registrar told to be late,
 * never for a deaf CPU), and CPU 0, the registrar, registers the next CPU at a chosen moment while
 * it runs: as its NMI is sent, at a round of the wait, or as its stopped flag is read. */
#include "kernel/lib/cpu_stop.h"

#include "tests/support/check.h"

#define SIM_CPUS 8
#define ROUNDS   50

struct sim {
    uint32_t count;
    bool stopped[SIM_CPUS];
    bool pending[SIM_CPUS]; /* an NMI sent, not taken yet */
    bool deaf[SIM_CPUS];    /* takes no NMI */
    bool nmi_fails;         /* the local APIC takes no IPI: every send fails */
    unsigned late;          /* rounds CPU 0 takes to answer its NMI, beyond the first */
    unsigned nmis[SIM_CPUS];
    unsigned sends; /* sends tried, failed ones included */
    unsigned waits;
    /* When CPU 0 registers the next CPU (1-based; 0 for never): at the send of its NMI, at the
     * nth round of the wait, at the nth read of its stopped flag (after which it stops, had it an
     * NMI pending: it registered, then took the NMI, between the count's read and its flag's). */
    bool register_at_send;
    unsigned register_at_wait;
    unsigned register_at_flag_read;
    unsigned flag_reads;
};

static void sim_register(struct sim *sim) {
    if (!sim->stopped[0] && sim->count < SIM_CPUS) {
        sim->count++;
    }
}

static uint32_t sim_count(void *ctx) {
    const struct sim *sim = ctx;
    return sim->count;
}

static bool sim_send_nmi(void *ctx, uint32_t index) {
    struct sim *sim = ctx;
    sim->sends++;
    if (sim->nmi_fails || index >= SIM_CPUS) {
        return false;
    }
    sim->nmis[index]++;
    sim->pending[index] = true;
    if (index == 0 && sim->register_at_send) {
        sim_register(sim);
    }
    return true;
}

static bool sim_stopped(void *ctx, uint32_t index) {
    struct sim *sim = ctx;
    if (index == 0 && ++sim->flag_reads == sim->register_at_flag_read) {
        sim_register(sim);
        if (sim->pending[0] && !sim->deaf[0]) {
            sim->stopped[0] = true;
        }
    }
    return index < SIM_CPUS && sim->stopped[index];
}

static void sim_wait(void *ctx) {
    struct sim *sim = ctx;
    if (++sim->waits == sim->register_at_wait) {
        sim_register(sim);
    }
    for (uint32_t i = 0; i < sim->count; i++) {
        if (!sim->pending[i] || sim->deaf[i] || sim->stopped[i]) {
            continue;
        }
        if (i == 0 && sim->late > 0) {
            sim->late--;
            continue;
        }
        sim->stopped[i] = true;
    }
}

static struct cpu_stop_ops sim_ops(struct sim *sim) {
    return (struct cpu_stop_ops){sim_count, sim_send_nmi, sim_stopped, sim_wait, sim};
}

/* One CPU: nothing to send, nothing to wait for. Expect {0, 0}, no send, no round. */
static int lone_cpu_check(void) {
    struct sim sim = {.count = 1};
    const struct cpu_stop_ops ops = sim_ops(&sim);
    struct cpu_stop_tally tally = cpu_stop_others(&ops, 0, ROUNDS);
    ASSERT_EQ(0, tally.others);
    ASSERT_EQ(0, tally.stopped);
    ASSERT_EQ(0, sim.sends);
    ASSERT_EQ(0, sim.waits);
    return 0;
}

/*
 *   CPU:  0    1    2    3
 *         NMI  NMI  self NMI    -> each stops at the first round
 *
 * Expect {3, 3}, one NMI to each other CPU and none to self, one round.
 */
static int all_stop_check(void) {
    struct sim sim = {.count = 4};
    const struct cpu_stop_ops ops = sim_ops(&sim);
    struct cpu_stop_tally tally = cpu_stop_others(&ops, 2, ROUNDS);
    ASSERT_EQ(3, tally.others);
    ASSERT_EQ(3, tally.stopped);
    ASSERT_EQ(1, sim.nmis[0]);
    ASSERT_EQ(1, sim.nmis[1]);
    ASSERT_EQ(0, sim.nmis[2]);
    ASSERT_EQ(1, sim.nmis[3]);
    ASSERT_EQ(1, sim.waits);
    return 0;
}

/* The end of a stop by CPU 1 of the two CPUs first registered, during which CPU 0 registered
 * CPU 2: CPU 2 had an NMI of its own and stopped, and the tally is {2, 2}. Returns 0, or 1 after
 * printing the assertion that failed. */
static int registered_meanwhile_stopped(const struct sim *sim, struct cpu_stop_tally tally) {
    ASSERT_EQ(3, sim->count);
    ASSERT_EQ(1, sim->nmis[2]);
    ASSERT_TRUE(sim->stopped[2]);
    ASSERT_EQ(2, tally.others);
    ASSERT_EQ(2, tally.stopped);
    return 0;
}

/* CPU 1 panics with two CPUs registered; CPU 0 registers CPU 2 as its NMI is on its way, after
 * the count was read. Expect CPU 2 to get an NMI of its own and {2, 2}: a count read once gives
 * {1, 1} and leaves CPU 2 running. */
static int registered_during_send_check(void) {
    struct sim sim = {.count = 2, .register_at_send = true};
    const struct cpu_stop_ops ops = sim_ops(&sim);
    return registered_meanwhile_stopped(&sim, cpu_stop_others(&ops, 1, ROUNDS));
}

/* The same, with CPU 0 taking its NMI late (at the third round) and registering CPU 2 at the
 * second, while the panicking CPU waits. Expect CPU 2's NMI and {2, 2}. */
static int registered_during_wait_check(void) {
    struct sim sim = {.count = 2, .late = 2, .register_at_wait = 2};
    const struct cpu_stop_ops ops = sim_ops(&sim);
    return registered_meanwhile_stopped(&sim, cpu_stop_others(&ops, 1, ROUNDS));
}

/* CPU 0 registers CPU 2 and stops between the panicking CPU's read of the count and its read of
 * CPU 0's flag: every CPU it counted has stopped, but the count read after the flags has grown.
 * Expect the wait to go on for CPU 2: its NMI, and {2, 2}. */
static int registered_as_registrar_stops_check(void) {
    struct sim sim = {.count = 2, .register_at_flag_read = 1};
    const struct cpu_stop_ops ops = sim_ops(&sim);
    return registered_meanwhile_stopped(&sim, cpu_stop_others(&ops, 1, ROUNDS));
}

/* CPU 2 of three takes no NMI. Expect the wait to end at the bound, ROUNDS rounds, with {2, 1}. */
static int deaf_cpu_check(void) {
    struct sim sim = {.count = 3, .deaf = {[2] = true}};
    const struct cpu_stop_ops ops = sim_ops(&sim);
    struct cpu_stop_tally tally = cpu_stop_others(&ops, 1, ROUNDS);
    ASSERT_EQ(2, tally.others);
    ASSERT_EQ(1, tally.stopped);
    ASSERT_EQ(ROUNDS, sim.waits);
    ASSERT_EQ(1, sim.nmis[2]);
    return 0;
}

/* A local APIC that takes no IPI: the first send fails and no other is tried. Expect one send,
 * the bound's ROUNDS rounds, and {3, 0}. */
static int nmi_fails_check(void) {
    struct sim sim = {.count = 4, .nmi_fails = true};
    const struct cpu_stop_ops ops = sim_ops(&sim);
    struct cpu_stop_tally tally = cpu_stop_others(&ops, 0, ROUNDS);
    ASSERT_EQ(1, sim.sends);
    ASSERT_EQ(ROUNDS, sim.waits);
    ASSERT_EQ(3, tally.others);
    ASSERT_EQ(0, tally.stopped);
    return 0;
}

/* A CPU that panics before its registration, with the index it is to get (2 of 2 registered).
 * Expect every registered CPU to be an other: NMIs to CPUs 0 and 1, {2, 2}. */
static int unregistered_self_check(void) {
    struct sim sim = {.count = 2};
    const struct cpu_stop_ops ops = sim_ops(&sim);
    struct cpu_stop_tally tally = cpu_stop_others(&ops, 2, ROUNDS);
    ASSERT_EQ(1, sim.nmis[0]);
    ASSERT_EQ(1, sim.nmis[1]);
    ASSERT_EQ(2, tally.others);
    ASSERT_EQ(2, tally.stopped);
    return 0;
}

/* CPU 0 never takes its NMI and registers CPU 2 as its flag is read in the last round, past
 * which there is no wait. Expect CPU 2's NMI all the same, and the tally to count it: {2, 0}. */
static int registered_past_bound_check(void) {
    struct sim sim = {.count = 2, .deaf = {[0] = true}, .register_at_flag_read = ROUNDS + 1};
    const struct cpu_stop_ops ops = sim_ops(&sim);
    struct cpu_stop_tally tally = cpu_stop_others(&ops, 1, ROUNDS);
    ASSERT_EQ(ROUNDS, sim.waits);
    ASSERT_EQ(3, sim.count);
    ASSERT_EQ(1, sim.nmis[2]);
    ASSERT_EQ(2, tally.others);
    ASSERT_EQ(0, tally.stopped);
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, lone_cpu_check);
    RUN_CHECK(failures, all_stop_check);
    RUN_CHECK(failures, registered_during_send_check);
    RUN_CHECK(failures, registered_during_wait_check);
    RUN_CHECK(failures, registered_as_registrar_stops_check);
    RUN_CHECK(failures, deaf_cpu_check);
    RUN_CHECK(failures, nmi_fails_check);
    RUN_CHECK(failures, unregistered_self_check);
    RUN_CHECK(failures, registered_past_bound_check);
    return failures == 0 ? 0 : 1;
}
