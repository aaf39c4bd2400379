/* Per-CPU blocks and nested interrupt disabling (see cpu_local.h). */
#include "kernel/cpu_local.h"

#include <stddef.h>

#include "kernel/panic.h"

static struct cpu_local boot_cpu;
static struct cpu_local *cpus[CPU_MAX];
static uint32_t cpus_online;

void cpu_local_prepare(struct cpu_local *cpu, uint32_t index) {
    cpu->self = cpu;
    cpu->index = index;
}

void cpu_local_init_boot(void) {
    cpu_local_prepare(&boot_cpu, 0);
    cpu_write_msr(CPU_MSR_GS_BASE, (uint64_t)(uintptr_t)&boot_cpu);
    cpus[0] = &boot_cpu;
    cpus_online = 1;
    boot_cpu.online = true;
}

struct cpu_local *cpu_by_index(uint32_t index) {
    return index < __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE) ? cpus[index] : NULL;
}

uint32_t cpu_count(void) {
    return __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE);
}

int cpu_register(struct cpu_local *cpu) {
    /* Only the boot CPU registers CPUs, one at a time, before it starts the next one. */
    if (cpus_online == CPU_MAX) {
        return -1;
    }
    uint32_t index = cpus_online;
    cpus[index] = cpu;
    cpu->index = index;
    __atomic_store_n(&cpus_online, index + 1, __ATOMIC_RELEASE);
    return (int)index;
}

void irq_save(void) {
    bool were_enabled = cpu_interrupts_enabled();
    cpu_disable_interrupts();
    struct cpu_local *cpu = cpu_this();
    if (cpu->irq_off_depth++ == 0) {
        cpu->irq_were_enabled = were_enabled;
    }
}

void irq_restore(void) {
    struct cpu_local *cpu = cpu_this();
    if (cpu_interrupts_enabled()) {
        panic("irq_restore: interrupts are on inside an irq_save section on CPU %u", cpu->index);
    }
    if (cpu->irq_off_depth == 0) {
        panic("irq_restore: without irq_save on CPU %u", cpu->index);
    }
    if (--cpu->irq_off_depth == 0 && cpu->irq_were_enabled) {
        cpu_enable_interrupts();
    }
}
