/* A spinlock that also disables interrupts while held, so an interrupt handler can never spin on
 * a lock its own CPU holds. The kernel runs on one CPU: finding the lock taken on acquire means
 * the code re-entered itself, which is a bug, and panics instead of hanging. */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdint.h>

struct spinlock {
    const char *name;
    volatile uint32_t locked;
    uint64_t saved_rflags; /* interrupt flag to restore on release */
};

#define SPINLOCK_INIT(lock_name) {.name = (lock_name), .locked = 0, .saved_rflags = 0}

/* Disables interrupts and takes the lock; panics if this CPU already holds it. */
void spinlock_acquire(struct spinlock *lock);

/* Releases the lock and restores the interrupt flag saved by spinlock_acquire; panics if the lock
 * was not held. */
void spinlock_release(struct spinlock *lock);

#endif
