/* Ticket spinlock with a spin bound (see spinlock.h). */
#include "kernel/spinlock.h"

#include <stddef.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/cpu_local.h"
#include "kernel/lib/format.h"
#include "kernel/panic.h"

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
    panic("spinlock: \"%s\" spun on for more than %llu TSC ticks: held by CPU %d (holding %s), "
          "waited for by CPU %u (holding %s)",
          lock->name, SPINLOCK_SPIN_BOUND_TSC_TICKS, (int)holder, holder_locks, me->index,
          waiter_locks);
}

void spinlock_acquire(struct spinlock *lock) {
    irq_save();
    struct cpu_local *me = cpu_this();
    if (lock->holder == (int32_t)me->index) {
        panic("spinlock_acquire: \"%s\" re-entered on CPU %u, which holds it", lock->name,
              me->index);
    }
    uint32_t ticket = __atomic_fetch_add(&lock->next_ticket, 1, __ATOMIC_RELAXED);
    bool contended = false;
    if (__atomic_load_n(&lock->now_serving, __ATOMIC_ACQUIRE) != ticket) {
        contended = true;
        uint64_t start = cpu_rdtsc();
        while (__atomic_load_n(&lock->now_serving, __ATOMIC_ACQUIRE) != ticket) {
            cpu_pause();
            if (cpu_rdtsc() - start > SPINLOCK_SPIN_BOUND_TSC_TICKS) {
                spin_bound_exceeded(lock, me);
            }
        }
    }
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
    __atomic_store_n(&lock->now_serving, lock->now_serving + 1, __ATOMIC_RELEASE);
    irq_restore();
}

bool spinlock_held_by_this_cpu(const struct spinlock *lock) {
    return lock->holder == (int32_t)cpu_this()->index;
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
