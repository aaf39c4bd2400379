/* Panic: log the reason, then leave QEMU with the failure code (see panic.h). */
#include "kernel/panic.h"

#include <stdarg.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/log.h"
#include "kernel/qemu_exit.h"

void panic(const char *format, ...) {
    cpu_disable_interrupts();
    va_list args;
    va_start(args, format);
    log_last_line_va(LOG_PANIC, format, args);
    va_end(args);
    qemu_exit(QEMU_EXIT_FAILURE);
}
