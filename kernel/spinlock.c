/* Interrupt-disabling spinlock (see spinlock.h). */
#include "kernel/spinlock.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/panic.h"

void spinlock_acquire(struct spinlock *lock) {
    uint64_t rflags = cpu_read_rflags();
    cpu_disable_interrupts();
    if (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE) != 0) {
        /* One CPU, interrupts off: nobody else can release it. */
        panic("spinlock_acquire: %s is already held (re-entered)", lock->name);
    }
    lock->saved_rflags = rflags;
}

void spinlock_release(struct spinlock *lock) {
    if (lock->locked == 0) {
        panic("spinlock_release: %s is not held", lock->name);
    }
    uint64_t rflags = lock->saved_rflags;
    __atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
    if (rflags & CPU_RFLAGS_INTERRUPT_ENABLE) {
        cpu_enable_interrupts();
    }
}
