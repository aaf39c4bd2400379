/* Exit through QEMU's isa-debug-exit device at QEMU_DEBUG_EXIT_PORT: the runner gives it four
 * bytes of I/O space (tools/qemu_runner.py), and the code is written as one 32-bit value. */
#include "kernel/qemu_exit.h"

#include "kernel/arch/x86_64/cpu.h"

void qemu_exit(enum qemu_exit_code code) {
    cpu_outl(QEMU_DEBUG_EXIT_PORT, (uint32_t)code);
    cpu_halt_forever();
}
