/* Per-CPU data: one block per CPU, found through the GS base register, which each CPU points at
 * its own block before any C code runs (cpu_local_init_boot, first in kernel_main, on the boot CPU;
 * on the others the trampoline in smp.asm, after it has loaded the IDT, its GDT and TSS and its
 * stack). The first field points at the block itself so that one GS-relative load
 * yields a plain pointer; cpu_local_prepare alone sets it, for every block. */
#ifndef KERNEL_CPU_LOCAL_H
#define KERNEL_CPU_LOCAL_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/machine.h" /* CPU_MAX */

/* Locks one CPU can hold at once, remembered to name them in a deadlock report. */
#define CPU_HELD_LOCKS_MAX 8

struct thread;
struct cpu_descriptor_tables;

struct cpu_local {
    struct cpu_local *self; /* must stay first: cpu_this() reads it at %gs:0 */
    uint32_t index;         /* 0 for the boot CPU, then in start-up order */
    uint32_t apic_id;
    /* Interrupt disabling nests (spinlocks inside spinlocks): the depth and whether interrupts
     * were on before the outermost level. */
    uint32_t irq_off_depth;
    bool irq_were_enabled;
    uint32_t log_depth; /* this CPU's nesting of the log's lock (kernel/lib/log_lock.h) */
    const char *held_locks[CPU_HELD_LOCKS_MAX];
    uint32_t held_count;
    struct thread *current;
    struct thread *idle;
    uint64_t ticks;      /* timer interrupts taken on this CPU */
    uint64_t stress_ops; /* heap operations of the stress run done on this CPU */
    bool stress_joined;  /* a stress worker has started on this CPU (the start barrier) */
    struct cpu_descriptor_tables *tables;
    /* While this CPU halts waiting for a spinlock: the lock and its ticket (spinlock.c). */
    const volatile void *waiting_lock;
    volatile uint32_t waiting_ticket;
    volatile bool online;
    volatile uint64_t wakeups; /* wake-up interrupts taken (apic.c), for the check of IPIs */
};

static inline struct cpu_local *cpu_this(void) {
    return (struct cpu_local *)(uintptr_t)cpu_read_gs_word0();
}

/* The index of the CPU the caller runs on. Needs no interrupts off, unlike reading a field that
 * changes (thread_current): a preemption between finding the block and reading its index can move
 * the caller to another CPU, but the index read is then still that of the block found, which never
 * changes. The caller may move right after, as it may once interrupts are back on. */
static inline uint32_t cpu_this_index(void) {
    return cpu_this()->index;
}

/* Fills in cpu's self pointer and index, which a GS base pointing at it needs: for the boot CPU's
 * block (cpu_local_init_boot) and, by the boot CPU, for another CPU's before its start, whose
 * trampoline points its GS base there (smp.c, smp.asm). Writes no register. */
void cpu_local_prepare(struct cpu_local *cpu, uint32_t index);

/* The boot CPU's block, prepared and its GS base pointed at it, first thing in kernel_main. */
void cpu_local_init_boot(void);

/* Every CPU that came online, by index; cpu_count() of them. */
struct cpu_local *cpu_by_index(uint32_t index);
uint32_t cpu_count(void);
/* Registers a started CPU (smp.c); returns its index, or -1 when CPU_MAX are online. */
int cpu_register(struct cpu_local *cpu);

/* Interrupts off, nesting: interrupts come back on at the matching outermost irq_restore only if
 * they were on at the outermost irq_save. */
void irq_save(void);
void irq_restore(void);

#endif
