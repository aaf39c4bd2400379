/* Host tests of the serial log's lock (log_lock.h) with simulated CPUs: a clock that each pause of
 * a waiting take moves on, and a holder, another CPU, that gives its hold back, or is taken over,
 * at a chosen pause. */
#include "kernel/lib/log_lock.h"

#include "tests/support/check.h"

#define BOUND 1000 /* the simulated clock's ticks a take that may take over waits */

/* A waiting take's world: the clock moves by tick each pause; at pause give_at (1-based; 0 for
 * never), the other CPU gives back one level of its hold, and CPU next, where next_depth is set,
 * takes the lock at once (a hand-over). */
struct sim {
    struct log_lock *lock;
    uint64_t now;
    uint64_t tick;
    unsigned pauses;
    unsigned give_at;
    int32_t other;
    uint32_t *other_depth;
    int32_t next;
    uint32_t *next_depth;
};

static struct log_lock_wait sim_wait(struct sim *sim);

static uint64_t sim_now(void *ctx) {
    const struct sim *sim = ctx;
    return sim->now;
}

static void sim_pause(void *ctx) {
    struct sim *sim = ctx;
    sim->now += sim->tick;
    if (++sim->pauses != sim->give_at) {
        return;
    }
    log_lock_give(sim->lock, sim->other, sim->other_depth);
    if (sim->next_depth != NULL) {
        struct sim at_once = {.lock = sim->lock};
        struct log_lock_wait no_wait = sim_wait(&at_once);
        (void)log_lock_take(sim->lock, sim->next, sim->next_depth, false, &no_wait);
    }
}

static struct log_lock_wait sim_wait(struct sim *sim) {
    return (struct log_lock_wait){sim_now, sim_pause, sim, BOUND};
}

/* CPU 0 takes a free lock and gives it back. Expect TAKEN with no pause, the lock held by 0 at
 * depth 1, then free at depth 0. */
static int free_lock_check(void) {
    struct log_lock lock = LOG_LOCK_INIT;
    struct sim sim = {.lock = &lock, .tick = 1};
    struct log_lock_wait wait = sim_wait(&sim);
    uint32_t depth = 0;
    ASSERT_EQ(LOG_LOCK_TAKEN, log_lock_take(&lock, 0, &depth, false, &wait));
    ASSERT_EQ(0, sim.pauses);
    ASSERT_EQ(0, lock.holder);
    ASSERT_EQ(1, depth);
    ASSERT_TRUE(log_lock_held_by(&lock, 0));
    log_lock_give(&lock, 0, &depth);
    ASSERT_EQ(LOG_LOCK_NO_HOLDER, lock.holder);
    ASSERT_EQ(0, depth);
    return 0;
}

/* CPU 3 takes the lock three times (a fault while it logs, a fault in that report). Expect the
 * second and third takes NESTED, and the lock held until the third give. */
static int nested_check(void) {
    struct log_lock lock = LOG_LOCK_INIT;
    struct sim sim = {.lock = &lock, .tick = 1};
    struct log_lock_wait wait = sim_wait(&sim);
    uint32_t depth = 0;
    ASSERT_EQ(LOG_LOCK_TAKEN, log_lock_take(&lock, 3, &depth, false, &wait));
    ASSERT_EQ(LOG_LOCK_NESTED, log_lock_take(&lock, 3, &depth, true, &wait));
    ASSERT_EQ(LOG_LOCK_NESTED, log_lock_take(&lock, 3, &depth, false, &wait));
    ASSERT_EQ(3, depth);
    log_lock_give(&lock, 3, &depth);
    log_lock_give(&lock, 3, &depth);
    ASSERT_EQ(3, lock.holder);
    ASSERT_EQ(1, depth);
    log_lock_give(&lock, 3, &depth);
    ASSERT_EQ(LOG_LOCK_NO_HOLDER, lock.holder);
    ASSERT_EQ(0, sim.pauses);
    return 0;
}

/* CPU 1 holds the lock and gives it back at the fifth pause of CPU 0's take. Expect TAKEN after
 * exactly five pauses, whether or not the take may take over. */
static int waits_for_holder_check(void) {
    for (int may_take_over = 0; may_take_over <= 1; may_take_over++) {
        struct log_lock lock = LOG_LOCK_INIT;
        uint32_t depth = 0, other_depth = 0;
        struct sim sim = {
            .lock = &lock, .tick = 1, .give_at = 5, .other = 1, .other_depth = &other_depth};
        struct log_lock_wait wait = sim_wait(&sim);
        ASSERT_EQ(LOG_LOCK_TAKEN, log_lock_take(&lock, 1, &other_depth, false, &wait));
        ASSERT_EQ(LOG_LOCK_TAKEN, log_lock_take(&lock, 0, &depth, may_take_over, &wait));
        ASSERT_EQ(5, sim.pauses);
        ASSERT_EQ(0, lock.holder);
        ASSERT_EQ(1, depth);
        ASSERT_EQ(0, other_depth);
    }
    return 0;
}

/* CPU 1 holds the lock; CPU 0's take may not take over, and the clock passes the bound ten times
 * over before CPU 1 gives the lock back. Expect TAKEN, at that give, not before. */
static int no_takeover_waits_past_bound_check(void) {
    struct log_lock lock = LOG_LOCK_INIT;
    uint32_t depth = 0, other_depth = 0;
    struct sim sim = {
        .lock = &lock, .tick = BOUND, .give_at = 10, .other = 1, .other_depth = &other_depth};
    struct log_lock_wait wait = sim_wait(&sim);
    ASSERT_EQ(LOG_LOCK_TAKEN, log_lock_take(&lock, 1, &other_depth, false, &wait));
    ASSERT_EQ(LOG_LOCK_TAKEN, log_lock_take(&lock, 0, &depth, false, &wait));
    ASSERT_EQ(10, sim.pauses);
    ASSERT_EQ(0, lock.holder);
    return 0;
}

/* CPU 1 takes the lock `levels` times and never gives it; CPU 0's take may take over, the clock
 * moving 1 a pause. Expect TAKEN_OVER at the first pause past the bound (BOUND + 1), CPU 0 the
 * holder at depth 1 and CPU 1's count left as it was. */
static int take_over(struct log_lock *lock, uint32_t *depth, uint32_t *other_depth,
                     unsigned levels) {
    struct sim sim = {.lock = lock, .tick = 1};
    struct log_lock_wait wait = sim_wait(&sim);
    for (unsigned i = 0; i < levels; i++) {
        ASSERT_EQ(i == 0 ? LOG_LOCK_TAKEN : LOG_LOCK_NESTED,
                  log_lock_take(lock, 1, other_depth, false, &wait));
    }
    ASSERT_EQ(LOG_LOCK_TAKEN_OVER, log_lock_take(lock, 0, depth, true, &wait));
    ASSERT_EQ(BOUND + 1, sim.pauses);
    ASSERT_EQ(0, lock->holder);
    ASSERT_EQ(1, *depth);
    ASSERT_EQ(levels, *other_depth);
    return 0;
}

static int takeover_after_bound_check(void) {
    struct log_lock lock = LOG_LOCK_INIT;
    uint32_t depth = 0, other_depth = 0;
    return take_over(&lock, &depth, &other_depth, 1);
}

/* CPU 1 holds the lock and hands it to CPU 2 at pause BOUND / 2 of CPU 0's take, which may take
 * over; CPU 2 never gives it back. Expect the bound to start again with CPU 2: TAKEN_OVER from CPU
 * 2 at pause BOUND / 2 + BOUND + 1, not at BOUND + 1, CPU 2 keeping its depth 1 to give back. */
static int new_holder_gets_whole_bound_check(void) {
    struct log_lock lock = LOG_LOCK_INIT;
    uint32_t depth = 0, other_depth = 0, next_depth = 0;
    struct sim sim = {.lock = &lock,
                      .tick = 1,
                      .other = 1,
                      .other_depth = &other_depth,
                      .give_at = BOUND / 2,
                      .next = 2,
                      .next_depth = &next_depth};
    struct log_lock_wait wait = sim_wait(&sim);
    ASSERT_EQ(LOG_LOCK_TAKEN, log_lock_take(&lock, 1, &other_depth, false, &wait));
    ASSERT_EQ(LOG_LOCK_TAKEN_OVER, log_lock_take(&lock, 0, &depth, true, &wait));
    ASSERT_EQ(BOUND / 2 + BOUND + 1, sim.pauses);
    ASSERT_EQ(0, lock.holder);
    ASSERT_EQ(0, other_depth);
    ASSERT_EQ(1, next_depth);
    return 0;
}

/* CPU 1, merely slow, holds the lock at depth 2 when CPU 0 takes it over; CPU 1 then gives back
 * both its levels while CPU 0 still writes. Expect CPU 0 to keep the lock, at its depth 1, until
 * its own give frees it (were the count shared, CPU 1's gives would end CPU 0's hold). */
static int taken_over_holder_gives_nothing_check(void) {
    struct log_lock lock = LOG_LOCK_INIT;
    uint32_t depth = 0, other_depth = 0;
    if (take_over(&lock, &depth, &other_depth, 2) != 0) {
        return 1;
    }
    log_lock_give(&lock, 1, &other_depth);
    log_lock_give(&lock, 1, &other_depth);
    ASSERT_EQ(0, other_depth);
    ASSERT_EQ(0, lock.holder);
    ASSERT_EQ(1, depth);
    log_lock_give(&lock, 0, &depth);
    ASSERT_EQ(LOG_LOCK_NO_HOLDER, lock.holder);
    /* A give with nothing to give back (CPU 1's third) leaves a later holder's lock alone. */
    struct sim sim = {.lock = &lock, .tick = 1};
    struct log_lock_wait wait = sim_wait(&sim);
    ASSERT_EQ(LOG_LOCK_TAKEN, log_lock_take(&lock, 0, &depth, false, &wait));
    log_lock_give(&lock, 1, &other_depth);
    ASSERT_EQ(0, lock.holder);
    ASSERT_EQ(0, other_depth);
    return 0;
}

/* CPU 1's hold at depth 1 is taken over by CPU 0; CPU 1, still mid-line, takes the lock again (a
 * fault as it logs) while CPU 0 gives its hold back at the third pause. Expect that take to wait
 * for CPU 0's give, not to nest into CPU 0's hold, and CPU 1's hold to end only at its second
 * give. */
static int taken_over_holder_takes_again_check(void) {
    struct log_lock lock = LOG_LOCK_INIT;
    uint32_t depth = 0, other_depth = 0;
    if (take_over(&lock, &depth, &other_depth, 1) != 0) {
        return 1;
    }
    struct sim sim = {.lock = &lock, .tick = 1, .give_at = 3, .other = 0, .other_depth = &depth};
    struct log_lock_wait wait = sim_wait(&sim);
    ASSERT_EQ(LOG_LOCK_TAKEN, log_lock_take(&lock, 1, &other_depth, false, &wait));
    ASSERT_EQ(3, sim.pauses);
    ASSERT_EQ(1, lock.holder);
    ASSERT_EQ(2, other_depth);
    log_lock_give(&lock, 1, &other_depth);
    ASSERT_EQ(1, lock.holder);
    log_lock_give(&lock, 1, &other_depth);
    ASSERT_EQ(LOG_LOCK_NO_HOLDER, lock.holder);
    return 0;
}

/* A CPU stopped mid-line abandons its hold: CPU 2 at depth 3 abandons, then CPU 1, which holds
 * nothing, abandons while CPU 0 holds. Expect the first to release (true, depth 0), the second to
 * release nothing (false) and leave CPU 0's hold as it was. */
static int abandon_check(void) {
    struct log_lock lock = LOG_LOCK_INIT;
    struct sim sim = {.lock = &lock, .tick = 1};
    struct log_lock_wait wait = sim_wait(&sim);
    uint32_t depth = 0, other_depth = 5, holder_depth = 0;
    for (int i = 0; i < 3; i++) {
        (void)log_lock_take(&lock, 2, &depth, false, &wait);
    }
    ASSERT_EQ(3, depth);
    ASSERT_TRUE(log_lock_abandon(&lock, 2, &depth));
    ASSERT_EQ(0, depth);
    ASSERT_EQ(LOG_LOCK_NO_HOLDER, lock.holder);
    ASSERT_EQ(LOG_LOCK_TAKEN, log_lock_take(&lock, 0, &holder_depth, false, &wait));
    ASSERT_FALSE(log_lock_abandon(&lock, 1, &other_depth));
    ASSERT_EQ(0, other_depth);
    ASSERT_EQ(0, lock.holder);
    ASSERT_EQ(1, holder_depth);
    ASSERT_FALSE(log_lock_held_by(&lock, 1));
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, free_lock_check);
    RUN_CHECK(failures, nested_check);
    RUN_CHECK(failures, waits_for_holder_check);
    RUN_CHECK(failures, no_takeover_waits_past_bound_check);
    RUN_CHECK(failures, takeover_after_bound_check);
    RUN_CHECK(failures, new_holder_gets_whole_bound_check);
    RUN_CHECK(failures, taken_over_holder_gives_nothing_check);
    RUN_CHECK(failures, taken_over_holder_takes_again_check);
    RUN_CHECK(failures, abandon_check);
    return failures == 0 ? 0 : 1;
}
