/* Ticket spinlock with a spin bound (see spinlock.h). */
#include "kernel/spinlock.h"

#include <stddef.h>

#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/cpu_local.h"
#include "kernel/lib/format.h"
#include "kernel/panic.h"

/* Waiters halt only once the wake-up interrupt has a handler and the timer runs (spinlock.h). */
static bool halting_allowed;

void spinlock_allow_halting(void) {
    __atomic_store_n(&halting_allowed, true, __ATOMIC_SEQ_CST);
}

void spinlock_init(struct spinlock *lock, const char *name) {
    *lock = (struct spinlock)SPINLOCK_INIT(name);
}

/* "\"a\", \"b\"" for the locks a CPU holds, or "nothing". Reads another CPU's list without a
 * lock: it is only for the report of a CPU that is stuck. */
static void describe_held(const struct cpu_local *cpu, char *out, size_t size) {
    size_t used = 0;
    out[0] = '\0';
    uint32_t count = cpu == NULL ? 0 : cpu->held_count;
    if (count > CPU_HELD_LOCKS_MAX) {
        count = CPU_HELD_LOCKS_MAX;
    }
    for (uint32_t i = 0; i < count && used < size; i++) {
        used +=
            format_string(out + used, size - used, "%s\"%s\"", i ? ", " : "", cpu->held_locks[i]);
    }
    if (count == 0) {
        format_string(out, size, "nothing");
    }
}

static __attribute__((noreturn)) void spin_bound_exceeded(struct spinlock *lock,
                                                          struct cpu_local *me) {
    int32_t holder = lock->holder;
    char holder_locks[160];
    char waiter_locks[160];
    describe_held(holder >= 0 ? cpu_by_index((uint32_t)holder) : NULL, holder_locks,
                  sizeof holder_locks);
    describe_held(me, waiter_locks, sizeof waiter_locks);
    panic("spinlock_acquire: \"%s\" spun on for more than %llu TSC ticks: held by CPU %d "
          "(holding %s), waited for by CPU %u (holding %s)",
          lock->name, SPINLOCK_SPIN_BOUND_TSC_TICKS, (int)holder, holder_locks, me->index,
          waiter_locks);
}

/* Spins before halting: a short critical section ends within this many pauses on a CPU that runs.
 */
#define SPIN_BEFORE_HALT 256

/* Waits for a ticket by halting, with interrupts on only inside the halt, until the releaser's
 * wake-up interrupt or the next timer tick. A CPU that only spins keeps a host core busy: under
 * an emulator with more virtual CPUs than host cores, the CPU whose turn it is may then not run
 * for a whole host time slice while the others spin, and a ticket lock hands over only in turn.
 * Interrupt handlers that take locks skip their work while a CPU waits (thread_timer_tick). The
 * release side (wake_next_in_line) reads waiting_lock after publishing now_serving and the
 * waiter reads now_serving after publishing waiting_lock, both behind a full fence, so one of
 * them sees the other: a wake-up is never lost. STI's one-instruction shadow makes "sti; hlt"
 * atomic: a wake-up that is already pending ends the halt at once. */
static void wait_halted(struct spinlock *lock, struct cpu_local *me, uint32_t ticket) {
    me->waiting_ticket = ticket;
    __atomic_store_n(&me->waiting_lock, lock, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&lock->now_serving, __ATOMIC_SEQ_CST) != ticket) {
        cpu_enable_interrupts_and_halt();
        cpu_disable_interrupts();
    }
    __atomic_store_n(&me->waiting_lock, NULL, __ATOMIC_SEQ_CST);
}

static void wake_next_in_line(struct spinlock *lock, uint32_t next_ticket) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t count = cpu_count();
    for (uint32_t i = 0; i < count; i++) {
        struct cpu_local *cpu = cpu_by_index(i);
        if (__atomic_load_n(&cpu->waiting_lock, __ATOMIC_SEQ_CST) == lock &&
            cpu->waiting_ticket == next_ticket) {
            apic_send_wakeup(cpu->apic_id);
        }
    }
}

/* Bookkeeping of a lock just taken by this CPU. */
static void note_taken(struct spinlock *lock, struct cpu_local *me, bool contended) {
    lock->holder = (int32_t)me->index;
    lock->acquires++;
    if (contended) {
        lock->contended++;
    }
    if (me->held_count < CPU_HELD_LOCKS_MAX) {
        me->held_locks[me->held_count] = lock->name;
    }
    me->held_count++;
}

static void refuse_reentry(const struct spinlock *lock, const struct cpu_local *me,
                           const char *caller) {
    if (lock->holder == (int32_t)me->index) {
        panic("%s: \"%s\" re-entered on CPU %u, which holds it", caller, lock->name, me->index);
    }
}

bool spinlock_try_acquire(struct spinlock *lock) {
    irq_save();
    struct cpu_local *me = cpu_this();
    refuse_reentry(lock, me, "spinlock_try_acquire");
    /* Free, with no one waiting, exactly when the next ticket is the one being served: draw it
     * only then. */
    uint32_t serving = __atomic_load_n(&lock->now_serving, __ATOMIC_ACQUIRE);
    uint32_t expected = serving;
    if (!__atomic_compare_exchange_n(&lock->next_ticket, &expected, serving + 1, false,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        irq_restore();
        return false;
    }
    note_taken(lock, me, false);
    return true;
}

void spinlock_acquire(struct spinlock *lock) {
    irq_save();
    struct cpu_local *me = cpu_this();
    refuse_reentry(lock, me, "spinlock_acquire");
    uint32_t ticket = __atomic_fetch_add(&lock->next_ticket, 1, __ATOMIC_RELAXED);
    bool contended = false;
    if (__atomic_load_n(&lock->now_serving, __ATOMIC_ACQUIRE) != ticket) {
        contended = true;
        uint64_t start = cpu_rdtsc();
        uint32_t spins = 0;
        while (__atomic_load_n(&lock->now_serving, __ATOMIC_ACQUIRE) != ticket) {
            if (spins < SPIN_BEFORE_HALT || !halting_allowed) {
                spins++;
                cpu_pause();
            } else {
                wait_halted(lock, me, ticket);
            }
            if (cpu_rdtsc() - start > SPINLOCK_SPIN_BOUND_TSC_TICKS) {
                spin_bound_exceeded(lock, me);
            }
        }
    }
    note_taken(lock, me, contended);
}

void spinlock_release(struct spinlock *lock) {
    struct cpu_local *me = cpu_this();
    if (lock->holder != (int32_t)me->index) {
        panic("spinlock_release: \"%s\" is not held by CPU %u (holder %d)", lock->name, me->index,
              (int)lock->holder);
    }
    /* Locks are mostly released in reverse order; remove this one wherever it is. */
    uint32_t count = me->held_count < CPU_HELD_LOCKS_MAX ? me->held_count : CPU_HELD_LOCKS_MAX;
    for (uint32_t i = count; i-- > 0;) {
        if (me->held_locks[i] == lock->name) {
            for (uint32_t j = i; j + 1 < count; j++) {
                me->held_locks[j] = me->held_locks[j + 1];
            }
            break;
        }
    }
    me->held_count--;
    lock->holder = SPINLOCK_NO_HOLDER;
    uint32_t next = lock->now_serving + 1;
    __atomic_store_n(&lock->now_serving, next, __ATOMIC_SEQ_CST);
    if (halting_allowed && __atomic_load_n(&lock->next_ticket, __ATOMIC_RELAXED) != next) {
        wake_next_in_line(lock, next); /* someone holds the next ticket: it may be halted */
    }
    irq_restore();
}

/* spinlock_widen_held_window_for_test's wait between spinlock_held_by_this_cpu's two reads (0
 * outside that check). */
static volatile uint64_t held_window_us;

void spinlock_widen_held_window_for_test(uint64_t microseconds) {
    held_window_us = microseconds;
}

bool spinlock_held_by_this_cpu(const struct spinlock *lock) {
    /*
     * Interrupts off between the two reads, so that the caller stays on the CPU it compares: with
     * them on, a thread preempted between reading the holder and its CPU's index, and moved to
     * the holder's CPU, would be told it holds a lock it does not (the mapper then refuses the
     * call as re-entered). Held by this CPU, the lock has interrupts off already.
     */
    irq_save();
    int32_t holder = lock->holder;
    if (held_window_us != 0) {
        apic_delay_us(held_window_us);
    }
    bool held = holder == (int32_t)cpu_this()->index;
    irq_restore();
    return held;
}

struct spinlock_stats spinlock_stats(struct spinlock *lock) {
    /* Aligned 64-bit loads are atomic on x86_64; taking the lock would count itself. */
    return (struct spinlock_stats){__atomic_load_n(&lock->acquires, __ATOMIC_RELAXED),
                                   __atomic_load_n(&lock->contended, __ATOMIC_RELAXED)};
}

void spinlock_reset_stats(struct spinlock *lock) {
    spinlock_acquire(lock);
    lock->acquires = 0;
    lock->contended = 0;
    spinlock_release(lock);
}

void spinlock_acquire_ctx(void *ctx) {
    spinlock_acquire(ctx);
}

bool spinlock_try_acquire_ctx(void *ctx) {
    return spinlock_try_acquire(ctx);
}

void spinlock_release_ctx(void *ctx) {
    spinlock_release(ctx);
}

bool spinlock_held_by_this_cpu_ctx(void *ctx) {
    return spinlock_held_by_this_cpu(ctx);
}
