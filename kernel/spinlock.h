/* A ticket spinlock that is correct across CPUs and disables interrupts while held, so an
 * interrupt handler never spins on a lock its own CPU holds. Interrupt disabling nests (see
 * irq_save in cpu_local.h): interrupts come back on only when the last lock a CPU holds is
 * released, and only if they were on before the first.
 *
 * Each lock counts its acquisitions and the contended ones (the ticket drawn was not the one
 * being served). A CPU that spins longer than SPINLOCK_SPIN_BOUND_TSC_TICKS panics, naming the
 * lock, the CPU holding it and the locks each CPU holds: a deadlock ends in a report, not a hang.
 * Taking a lock the same CPU already holds panics at once. */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* About three seconds at the 3 GHz TSC of the machines the tests run on: far above any honest
 * wait (the longest critical section is a heap operation; TCG may deschedule a virtual CPU for
 * tens of milliseconds), short enough that a deadlock test ends quickly. */
#define SPINLOCK_SPIN_BOUND_TSC_TICKS 10000000000ull

#define SPINLOCK_NO_HOLDER (-1)

struct spinlock {
    const char *name;
    volatile uint32_t next_ticket; /* the ticket the next arrival draws */
    volatile uint32_t now_serving; /* the ticket that owns the lock */
    volatile int32_t holder;       /* CPU index of the holder, or SPINLOCK_NO_HOLDER */
    uint64_t acquires;             /* written only by the holder */
    uint64_t contended;
};

#define SPINLOCK_INIT(lock_name)                                                                   \
    {.name = (lock_name),                                                                          \
     .next_ticket = 0,                                                                             \
     .now_serving = 0,                                                                             \
     .holder = SPINLOCK_NO_HOLDER,                                                                 \
     .acquires = 0,                                                                                \
     .contended = 0}

void spinlock_init(struct spinlock *lock, const char *name);

/* From here on a CPU that has spun a little for a lock halts until the releaser wakes it with an
 * interrupt (or the next timer tick), instead of spinning on: call once the local APIC's wake-up
 * vector is handled and the timers tick. */
void spinlock_allow_halting(void);

/* Disables interrupts (nesting) and takes the lock, in arrival order. Panics on re-entry by the
 * holder CPU and when the spin bound runs out. */
void spinlock_acquire(struct spinlock *lock);

/* Takes the lock only if no CPU holds it or waits for it, as spinlock_acquire would at once (an
 * acquisition, never a contended one); returns false, changing nothing, otherwise. Panics on
 * re-entry by the holder CPU. */
bool spinlock_try_acquire(struct spinlock *lock);

/* Releases the lock and undoes spinlock_acquire's interrupt disabling; panics if this CPU does
 * not hold it. */
void spinlock_release(struct spinlock *lock);

bool spinlock_held_by_this_cpu(const struct spinlock *lock);

/* For the test of spinlock_held_by_this_cpu: a wait of that many microseconds between its read of
 * the holder and its read of this CPU's index (0: none), the window a preemption would need. */
void spinlock_widen_held_window_for_test(uint64_t microseconds);

/* The four above for a lock handed to a library as a function and a void *ctx (the heap's
 * struct alloc_lock, the mapper's struct paging_lock, whose held hook is
 * spinlock_held_by_this_cpu_ctx): ctx is the struct spinlock. */
void spinlock_acquire_ctx(void *ctx);
bool spinlock_try_acquire_ctx(void *ctx);
void spinlock_release_ctx(void *ctx);
bool spinlock_held_by_this_cpu_ctx(void *ctx);

struct spinlock_stats {
    uint64_t acquires;
    uint64_t contended;
};

/* The counters, read without taking the lock (which would count itself): each is read whole, but
 * the two are not one snapshot, as an acquire may come between the reads. And a reset, under the
 * lock. */
struct spinlock_stats spinlock_stats(struct spinlock *lock);
void spinlock_reset_stats(struct spinlock *lock);

#endif
