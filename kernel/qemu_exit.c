/* Exit through QEMU's isa-debug-exit device (iobase 0xf4, see tools/qemu_runner.py). */
#include "kernel/qemu_exit.h"

#include "kernel/arch/x86_64/cpu.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4

void qemu_exit(enum qemu_exit_code code) {
    cpu_outl(QEMU_DEBUG_EXIT_PORT, (uint32_t)code);
    cpu_halt_forever();
}
