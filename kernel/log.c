/* Serial log with sequence numbers, levels and a final summary (see log.h). */
#include "kernel/log.h"

#include <stdbool.h>
#include <stdint.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/cpu_local.h"
#include "kernel/lib/format.h"
#include "kernel/lib/log_lock.h"
#include "kernel/serial.h"
#include "kernel/spinlock.h"

static struct {
    uint32_t sequence;
    uint32_t checks;
    uint32_t failed_checks;
    uint32_t warnings;
    uint32_t errors;
} log_state;

static const char *const level_names[] = {
    [LOG_DEBUG] = "DEBUG", [LOG_INFO] = "INFO ",  [LOG_WARN] = "WARN ",
    [LOG_ERROR] = "ERROR", [LOG_PANIC] = "PANIC",
};

/* One line at a time from any CPU (kernel/lib/log_lock.h: a hold nests, and an ERROR or PANIC
 * line waits at most the spin bound for a CPU that holds the log and is stuck, then writes
 * anyway). Each CPU's nesting count is in its block. */
static struct log_lock log_lock_state = LOG_LOCK_INIT;

static const struct log_lock_wait log_wait = {.now = cpu_rdtsc_ctx,
                                              .pause = cpu_pause_ctx,
                                              .ctx = NULL,
                                              .bound = SPINLOCK_SPIN_BOUND_TSC_TICKS};

/* Interrupts stay off while the log is held: the holder cannot be moved to another CPU, whose
 * count its give would then change. */
static void log_lock(enum log_level level) {
    irq_save();
    struct cpu_local *cpu = cpu_this();
    (void)log_lock_take(&log_lock_state, (int32_t)cpu->index, &cpu->log_depth, level >= LOG_ERROR,
                        &log_wait);
}

static void log_unlock(void) {
    struct cpu_local *cpu = cpu_this();
    log_lock_give(&log_lock_state, (int32_t)cpu->index, &cpu->log_depth);
    irq_restore();
}

/* A message's text, which may carry strings from outside (the boot loader's command line, firmware
 * tables): a control byte in it is written as \xNN, so that a newline cannot end the line early
 * and print a next one that reads as the kernel's own. */
static void message_sink(void *ctx, const char *bytes, size_t len) {
    (void)ctx;
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char byte = (unsigned char)bytes[i];
        if (byte >= 0x20 && byte != 0x7f) {
            continue;
        }
        serial_write(bytes + run, i - run);
        const char escaped[4] = {'\\', 'x', hex[byte >> 4], hex[byte & 0xf]};
        serial_write(escaped, sizeof escaped);
        run = i + 1;
    }
    serial_write(bytes + run, len - run);
}

static void log_prefix(enum log_level level) {
    char prefix[24];
    size_t len = format_string(prefix, sizeof prefix, "[%04u] %s ", log_state.sequence++,
                               level_names[level]);
    serial_write(prefix, len);
    if (level == LOG_WARN) {
        log_state.warnings++;
    } else if (level >= LOG_ERROR) {
        log_state.errors++;
    }
}

/* One line, the log held. */
static void write_line(enum log_level level, const char *format, va_list args) {
    log_prefix(level);
    format_va(message_sink, NULL, format, args);
    serial_write("\n", 1);
}

void log_message_va(enum log_level level, const char *format, va_list args) {
    log_lock(level);
    write_line(level, format, args);
    log_unlock();
}

static void log_last_line_va(enum log_level level, const char *format, va_list args) {
    log_lock(level);
    write_line(level, format, args);
    /* Kept: another CPU's line after this one would take its place as the run's last. */
}

void log_message(enum log_level level, const char *format, ...) {
    va_list args;
    va_start(args, format);
    log_message_va(level, format, args);
    va_end(args);
}

bool log_check(bool passed, const char *name, const char *format, ...) {
    log_lock(passed ? LOG_INFO : LOG_ERROR); /* a failed check is an ERROR line, bounded as one */
    log_state.checks++;
    if (!passed) {
        log_state.failed_checks++;
    }
    log_prefix(passed ? LOG_INFO : LOG_ERROR);
    char head[96];
    size_t len = format_string(head, sizeof head, "check %s: %s ", name, passed ? "ok" : "FAILED");
    serial_write(head, len < sizeof head ? len : sizeof head - 1);
    va_list args;
    va_start(args, format);
    format_va(message_sink, NULL, format, args);
    va_end(args);
    serial_write("\n", 1);
    log_unlock();
    return passed;
}

void log_abandon_line(void) {
    struct cpu_local *cpu = cpu_this();
    if (log_lock_held_by(&log_lock_state, (int32_t)cpu->index)) {
        serial_write("\n", 1); /* whatever the line held so far stays a line of its own */
    }
    (void)log_lock_abandon(&log_lock_state, (int32_t)cpu->index, &cpu->log_depth);
}

void log_hold_forever(volatile int32_t *holder) {
    log_lock(LOG_INFO);
    *holder = log_lock_state.holder;
    for (;;) {
        cpu_pause();
    }
}

void log_last_line(enum log_level level, const char *format, ...) {
    va_list args;
    va_start(args, format);
    log_last_line_va(level, format, args);
    va_end(args);
}

bool log_summary(void) {
    bool passed = log_state.failed_checks == 0 && log_state.errors == 0;
    log_last_line(passed ? LOG_INFO : LOG_ERROR,
                  "summary: checks=%u failed=%u warnings=%u errors=%u verdict=%s", log_state.checks,
                  log_state.failed_checks, log_state.warnings, log_state.errors,
                  passed ? "PASS" : "FAIL");
    return passed;
}
