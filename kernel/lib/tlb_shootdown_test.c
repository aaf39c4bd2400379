/* Host tests of the TLB shootdown's decisions (tlb_shootdown.h) on a simulated set of CPUs: each
 * has its interrupts on or off, an IPI pending or not, and a log of its flushes; a clock in ticks
 * advances one tick per round of the initiator's wait, in which every CPU with interrupts on and
 * an IPI pending takes it (answers), and a CPU that is itself waiting in a shootdown answers too.
 */
#include "kernel/lib/tlb_shootdown.h"

#include <stdbool.h>

#include "tests/support/check.h"

#define SIM_CPUS 8
#define BOUND    1000 /* ticks */
#define PAGE     UINT64_C(0xffffc00000200000)

struct sim_cpu {
    bool interrupts_off; /* takes no IPI */
    bool waiting_in_own; /* an initiator itself, interrupts off, answering as its wait does */
    unsigned ipis_pending;
    unsigned ipis_sent; /* IPIs sent to this CPU */
    unsigned flushes;
    enum tlb_flush last_kind;
    uint64_t last_virt;
};

struct sim {
    struct tlb_shootdown shootdown;
    struct sim_cpu cpus[SIM_CPUS];
    uint32_t running; /* whose flush_local this is */
    uint64_t now;
    unsigned ipis_to_absent; /* IPIs to an index past SIM_CPUS */
};

static void sim_flush(void *ctx, enum tlb_flush kind, uint64_t virt) {
    struct sim *sim = ctx;
    struct sim_cpu *cpu = &sim->cpus[sim->running];
    cpu->flushes++;
    cpu->last_kind = kind;
    cpu->last_virt = virt;
}

static void sim_send_ipi(void *ctx, uint32_t index) {
    struct sim *sim = ctx;
    if (index >= SIM_CPUS) {
        sim->ipis_to_absent++;
        return;
    }
    sim->cpus[index].ipis_pending++;
    sim->cpus[index].ipis_sent++;
}

static uint64_t sim_now(void *ctx) {
    const struct sim *sim = ctx;
    return sim->now;
}

static struct tlb_shootdown_ops sim_ops(struct sim *sim);

/* One tick: the other CPUs run. */
static void sim_relax(void *ctx) {
    struct sim *sim = ctx;
    sim->now++;
    uint32_t initiator = sim->running;
    const struct tlb_shootdown_ops ops = sim_ops(sim);
    for (uint32_t i = 0; i < SIM_CPUS; i++) {
        struct sim_cpu *cpu = &sim->cpus[i];
        if (i == initiator) {
            continue;
        }
        bool takes_ipi = !cpu->interrupts_off && cpu->ipis_pending > 0;
        if (takes_ipi || cpu->waiting_in_own) {
            if (takes_ipi) {
                cpu->ipis_pending--;
            }
            sim->running = i;
            tlb_shootdown_answer(&sim->shootdown, &ops, i);
        }
    }
    sim->running = initiator;
}

static struct tlb_shootdown_ops sim_ops(struct sim *sim) {
    return (struct tlb_shootdown_ops){sim_flush, sim_send_ipi, sim_now, sim_relax, sim};
}

static enum tlb_shootdown_result run(struct sim *sim, uint32_t self, uint32_t online,
                                     enum tlb_flush kind, uint64_t virt, uint32_t *unanswered) {
    const struct tlb_shootdown_ops ops = sim_ops(sim);
    sim->running = self;
    return tlb_shootdown_run(&sim->shootdown, &ops, self, online, kind, virt, BOUND, unanswered);
}

/* One CPU online. Expect its own flush and nothing else: no IPI, no wait. */
static int single_cpu_check(void) {
    static struct sim sim;
    sim = (struct sim){0};
    uint32_t unanswered = 99;
    ASSERT_EQ(TLB_SHOOTDOWN_OK, run(&sim, 0, 1, TLB_FLUSH_PAGE, PAGE, &unanswered));
    ASSERT_EQ(1, sim.cpus[0].flushes);
    ASSERT_EQ(PAGE, sim.cpus[0].last_virt);
    ASSERT_EQ(0, sim.cpus[1].ipis_sent);
    ASSERT_EQ(0, sim.now);
    ASSERT_EQ(99, unanswered);
    return 0;
}

/*   CPU   0    1    2    3    4..7
 *         me   on   on   on   not online
 * Expect one IPI to each of 1..3 and a flush of the page there, none for 4..7, and the request
 * empty when the run returns. */
static int all_answer_check(void) {
    static struct sim sim;
    sim = (struct sim){0};
    uint32_t unanswered = 99;
    ASSERT_EQ(TLB_SHOOTDOWN_OK, run(&sim, 0, 4, TLB_FLUSH_PAGE, PAGE, &unanswered));
    for (uint32_t i = 0; i < 4; i++) {
        ASSERT_EQ(i == 0 ? 0 : 1, sim.cpus[i].ipis_sent);
        ASSERT_EQ(1, sim.cpus[i].flushes);
        ASSERT_EQ(TLB_FLUSH_PAGE, sim.cpus[i].last_kind);
        ASSERT_EQ(PAGE, sim.cpus[i].last_virt);
    }
    for (uint32_t i = 4; i < SIM_CPUS; i++) {
        ASSERT_EQ(0, sim.cpus[i].ipis_sent);
        ASSERT_EQ(0, sim.cpus[i].flushes);
    }
    ASSERT_EQ(0, sim.shootdown.requests[0].pending);
    ASSERT_EQ(99, unanswered);
    return 0;
}

/* CPU 2 of 3 flushes everything. Expect CPUs 0 and 1 asked and flushing everything, CPU 2 once. */
static int other_initiator_all_check(void) {
    static struct sim sim;
    sim = (struct sim){0};
    uint32_t unanswered = 99;
    ASSERT_EQ(TLB_SHOOTDOWN_OK, run(&sim, 2, 3, TLB_FLUSH_ALL, 0, &unanswered));
    ASSERT_EQ(1, sim.cpus[0].ipis_sent);
    ASSERT_EQ(1, sim.cpus[1].ipis_sent);
    ASSERT_EQ(0, sim.cpus[2].ipis_sent);
    for (uint32_t i = 0; i < 3; i++) {
        ASSERT_EQ(1, sim.cpus[i].flushes);
        ASSERT_EQ(TLB_FLUSH_ALL, sim.cpus[i].last_kind);
    }
    ASSERT_EQ(0, sim.cpus[3].flushes);
    return 0;
}

/*   CPU   0    1    2               3
 *         me   on   interrupts off  interrupts off
 * Expect the run to give up once BOUND ticks have passed (not before, and no hang), naming CPU 2,
 * the lowest that did not answer; CPU 1 flushed; the request withdrawn, so a late IPI taken by CPU
 * 2 flushes nothing. */
static int unanswered_check(void) {
    static struct sim sim;
    sim = (struct sim){0};
    sim.cpus[2].interrupts_off = true;
    sim.cpus[3].interrupts_off = true;
    uint32_t unanswered = 99;
    ASSERT_EQ(TLB_SHOOTDOWN_UNANSWERED, run(&sim, 0, 4, TLB_FLUSH_PAGE, PAGE, &unanswered));
    ASSERT_EQ(2, unanswered);
    ASSERT_EQ(BOUND, sim.now);
    ASSERT_EQ(1, sim.cpus[1].flushes);
    ASSERT_EQ(0, sim.cpus[2].flushes);
    ASSERT_EQ(0, sim.shootdown.requests[0].pending);
    sim.running = 2;
    const struct tlb_shootdown_ops ops = sim_ops(&sim);
    tlb_shootdown_answer(&sim.shootdown, &ops, 2);
    ASSERT_EQ(0, sim.cpus[2].flushes);
    return 0;
}

/* CPU 1, interrupts off, waits in its own shootdown of everything for CPU 0, which starts one of
 * the page: each would wait for the other for ever if a waiting initiator answered nothing.
 * Expect CPU 0's run to succeed, CPU 1 having flushed the page (answering as it waits), and CPU
 * 0 to have answered CPU 1's request (flushed everything; its name gone from it). */
static int two_initiators_check(void) {
    static struct sim sim;
    sim = (struct sim){0};
    sim.cpus[1].interrupts_off = true;
    sim.cpus[1].waiting_in_own = true;
    sim.shootdown.requests[1] = (struct tlb_shootdown_request){
        .pending = UINT64_C(1) << 0, .kind = TLB_FLUSH_ALL, .virt = 0};
    uint32_t unanswered = 99;
    ASSERT_EQ(TLB_SHOOTDOWN_OK, run(&sim, 0, 2, TLB_FLUSH_PAGE, PAGE, &unanswered));
    ASSERT_EQ(1, sim.cpus[1].flushes);
    ASSERT_EQ(PAGE, sim.cpus[1].last_virt);
    ASSERT_EQ(2, sim.cpus[0].flushes); /* its own page, then CPU 1's everything */
    ASSERT_EQ(TLB_FLUSH_ALL, sim.cpus[0].last_kind);
    ASSERT_EQ(0, sim.shootdown.requests[1].pending);
    return 0;
}

/* Bad input: self not below cpus_online, cpus_online 0 or above TLB_SHOOTDOWN_CPUS_MAX; then
 * answers from CPUs TLB_SHOOTDOWN_CPUS_MAX and one above, while a request names CPU 1.
 * Expect TLB_SHOOTDOWN_BAD_CPU, no flush and no IPI; no targets either. The targets of CPU 63 of
 * all 64: every other CPU. The answers flush nothing and leave the request as it was (a shift by
 * 65 would wrap to CPU 1's bit on x86_64, and answer for it). */
static int bad_cpu_check(void) {
    static struct sim sim;
    sim = (struct sim){0};
    uint32_t unanswered = 99;
    ASSERT_EQ(TLB_SHOOTDOWN_BAD_CPU, run(&sim, 2, 2, TLB_FLUSH_PAGE, PAGE, &unanswered));
    ASSERT_EQ(TLB_SHOOTDOWN_BAD_CPU, run(&sim, 0, 0, TLB_FLUSH_PAGE, PAGE, &unanswered));
    ASSERT_EQ(TLB_SHOOTDOWN_BAD_CPU,
              run(&sim, 0, TLB_SHOOTDOWN_CPUS_MAX + 1, TLB_FLUSH_PAGE, PAGE, &unanswered));
    for (uint32_t i = 0; i < SIM_CPUS; i++) {
        ASSERT_EQ(0, sim.cpus[i].flushes);
        ASSERT_EQ(0, sim.cpus[i].ipis_sent);
    }
    ASSERT_EQ(0, sim.ipis_to_absent);
    ASSERT_EQ(99, unanswered);
    ASSERT_EQ(0, tlb_shootdown_targets(2, 2));
    ASSERT_EQ(0, tlb_shootdown_targets(0, TLB_SHOOTDOWN_CPUS_MAX + 1));
    ASSERT_EQ(UINT64_MAX >> 1, tlb_shootdown_targets(63, TLB_SHOOTDOWN_CPUS_MAX));
    ASSERT_EQ(0x6, tlb_shootdown_targets(0, 3));

    /* CPU 0's request names CPU 1; answers from 64 and 65, which no request can name. */
    sim.shootdown.requests[0] = (struct tlb_shootdown_request){
        .pending = UINT64_C(1) << 1, .kind = TLB_FLUSH_PAGE, .virt = PAGE};
    const struct tlb_shootdown_ops ops = sim_ops(&sim);
    sim.running = 0;
    tlb_shootdown_answer(&sim.shootdown, &ops, TLB_SHOOTDOWN_CPUS_MAX);
    tlb_shootdown_answer(&sim.shootdown, &ops, TLB_SHOOTDOWN_CPUS_MAX + 1);
    ASSERT_EQ(0, sim.cpus[0].flushes);
    ASSERT_EQ(UINT64_C(1) << 1, sim.shootdown.requests[0].pending);
    return 0;
}

/* Each result's name. */
static int result_names_check(void) {
    ASSERT_ERROR_NAMES(tlb_shootdown_result_name, enum tlb_shootdown_result, TLB_SHOOTDOWN_OK,
                       TLB_SHOOTDOWN_BAD_CPU);
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, single_cpu_check);
    RUN_CHECK(failures, all_answer_check);
    RUN_CHECK(failures, other_initiator_all_check);
    RUN_CHECK(failures, unanswered_check);
    RUN_CHECK(failures, two_initiators_check);
    RUN_CHECK(failures, bad_cpu_check);
    RUN_CHECK(failures, result_names_check);
    return failures == 0 ? 0 : 1;
}
