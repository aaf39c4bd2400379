/* The serial log's lock (see log_lock.h). */
#include "kernel/lib/log_lock.h"

/* Releases the lock if me holds it, and says whether it did; a CPU whose hold was taken over
 * releases nothing. */
static bool release_if_held(struct log_lock *lock, int32_t me) {
    int32_t expected = me;
    return __atomic_compare_exchange_n(&lock->holder, &expected, LOG_LOCK_NO_HOLDER, false,
                                       __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

bool log_lock_held_by(const struct log_lock *lock, int32_t me) {
    return __atomic_load_n(&lock->holder, __ATOMIC_RELAXED) == me;
}

enum log_lock_taken log_lock_take(struct log_lock *lock, int32_t me, uint32_t *depth,
                                  bool may_take_over, const struct log_lock_wait *wait) {
    if (log_lock_held_by(lock, me)) {
        ++*depth;
        return LOG_LOCK_NESTED;
    }
    /* The bound runs from when the holder now seen was first seen: a lock that changes hands
     * while the caller waits is not stuck, and its new holder gets the whole bound. */
    enum log_lock_taken how = LOG_LOCK_TAKEN;
    int32_t seen = LOG_LOCK_NO_HOLDER;
    uint64_t seen_since = 0;
    for (;;) {
        int32_t expected = LOG_LOCK_NO_HOLDER;
        if (__atomic_compare_exchange_n(&lock->holder, &expected, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            break;
        }
        if (expected != seen) {
            seen = expected;
            seen_since = wait->now(wait->ctx);
        }
        wait->pause(wait->ctx);
        /* Taken from the holder seen only: one that gave the lock up meanwhile is not robbed. */
        int32_t stuck = seen;
        if (may_take_over && wait->now(wait->ctx) - seen_since > wait->bound &&
            __atomic_compare_exchange_n(&lock->holder, &stuck, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            how = LOG_LOCK_TAKEN_OVER;
            break;
        }
    }
    /* The levels of a hold taken over from this CPU are still its own to give back. */
    ++*depth;
    return how;
}

void log_lock_give(struct log_lock *lock, int32_t me, uint32_t *depth) {
    if (*depth == 0) {
        return;
    }
    if (--*depth == 0) {
        release_if_held(lock, me);
    }
}

bool log_lock_abandon(struct log_lock *lock, int32_t me, uint32_t *depth) {
    *depth = 0;
    return release_if_held(lock, me);
}
