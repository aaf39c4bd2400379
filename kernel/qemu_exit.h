/* Ending a run under QEMU: the isa-debug-exit device turns a value written to its port into
 * QEMU's exit status, (value << 1) | 1. Tests read the verdict from it (tools/qemu.bzl hands the
 * runner the statuses these two codes make). */
#ifndef KERNEL_QEMU_EXIT_H
#define KERNEL_QEMU_EXIT_H

#include "kernel/arch/x86_64/machine.h"

enum qemu_exit_code {
    QEMU_EXIT_SUCCESS = QEMU_DEBUG_EXIT_SUCCESS,
    QEMU_EXIT_FAILURE = QEMU_DEBUG_EXIT_FAILURE,
};

/* Asks QEMU to exit; on a machine without the device, halts forever instead. */
__attribute__((noreturn)) void qemu_exit(enum qemu_exit_code code);

#endif
