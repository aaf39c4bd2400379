/* Exit through QEMU's isa-debug-exit device (QEMU_DEBUG_EXIT_PORT, see tools/qemu_runner.py). */
#include "kernel/qemu_exit.h"

#include "kernel/arch/x86_64/cpu.h"

void qemu_exit(enum qemu_exit_code code) {
    cpu_outl(QEMU_DEBUG_EXIT_PORT, (uint32_t)code);
    cpu_halt_forever();
}
