/* The serial log's lock, its clock and its pause injected: pure C, tested on the host with
 * simulated CPUs.
 *
 * One line at a time from any CPU. Not a struct spinlock, whose misuse panics (and a panic logs):
 * a CPU may re-enter the log (a fault while it logs), so a hold nests; and a line that must get out
 * (an ERROR or PANIC line: a fault's report is ERROR lines before its PANIC line) waits at most a
 * bound for a holder that keeps the lock all that time, taken for stuck, then takes the lock from
 * it and writes anyway.
 *
 * Each CPU keeps its own nesting count. A holder whose lock was taken over may be merely slow, and
 * it goes on to give its levels back: those gives must leave the new holder's hold alone. So the
 * count is the caller's, not the lock's (one count for whoever held the lock let the old holder's
 * give end the new holder's hold, mid-line, or leave its count wrong), and the outermost give
 * releases the lock only if the caller still holds it (a compare-and-swap, so that a takeover
 * between the test and the release is not undone). */
#ifndef KERNEL_LIB_LOG_LOCK_H
#define KERNEL_LIB_LOG_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#define LOG_LOCK_NO_HOLDER (-1)

struct log_lock {
    volatile int32_t holder; /* the holding CPU's index, or LOG_LOCK_NO_HOLDER */
};

#define LOG_LOCK_INIT {.holder = LOG_LOCK_NO_HOLDER}

/* How a take waits for the holder: a clock, one pause of the spin, and the bound (in the clock's
 * unit) after which a take that may take over does. */
struct log_lock_wait {
    uint64_t (*now)(void *ctx);
    void (*pause)(void *ctx);
    void *ctx;
    uint64_t bound;
};

/* How a take got the lock. */
enum log_lock_taken {
    LOG_LOCK_TAKEN,      /* it was free, or given back while the caller waited */
    LOG_LOCK_NESTED,     /* the caller held it already */
    LOG_LOCK_TAKEN_OVER, /* taken from a holder that kept it past the bound */
};

/* Whether CPU me holds the lock. */
bool log_lock_held_by(const struct log_lock *lock, int32_t me);

/* Takes the lock for CPU me, whose nesting count is *depth (zero before its first take). A take
 * that may_take_over takes the lock from a holder it has seen keep it for more than wait->bound
 * (a new holder starts the bound again); any other waits for as long as it takes. A CPU whose hold
 * was taken over waits again before it nests. */
enum log_lock_taken log_lock_take(struct log_lock *lock, int32_t me, uint32_t *depth,
                                  bool may_take_over, const struct log_lock_wait *wait);

/* Gives back one level of CPU me's hold; the outermost releases the lock if me still holds it. A
 * give with *depth zero (no take to match) changes nothing. */
void log_lock_give(struct log_lock *lock, int32_t me, uint32_t *depth);

/* Ends every level of CPU me's hold at once (a CPU stopped mid-line), and releases the lock if me
 * holds it. Returns whether it did. */
bool log_lock_abandon(struct log_lock *lock, int32_t me, uint32_t *depth);

#endif
