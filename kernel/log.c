/* Serial log with sequence numbers, levels and a final summary (see log.h). */
#include "kernel/log.h"

#include <stdbool.h>
#include <stdint.h>

#include "kernel/lib/format.h"
#include "kernel/serial.h"

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

static void serial_sink(void *ctx, const char *bytes, size_t len) {
    (void)ctx;
    serial_write(bytes, len);
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

void log_message_va(enum log_level level, const char *format, va_list args) {
    log_prefix(level);
    format_va(serial_sink, NULL, format, args);
    serial_write("\n", 1);
}

void log_message(enum log_level level, const char *format, ...) {
    va_list args;
    va_start(args, format);
    log_message_va(level, format, args);
    va_end(args);
}

bool log_check(bool passed, const char *name, const char *format, ...) {
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
    format_va(serial_sink, NULL, format, args);
    va_end(args);
    serial_write("\n", 1);
    return passed;
}

bool log_summary(void) {
    bool passed = log_state.failed_checks == 0 && log_state.errors == 0;
    log_message(passed ? LOG_INFO : LOG_ERROR,
                "summary: checks=%u failed=%u warnings=%u errors=%u verdict=%s", log_state.checks,
                log_state.failed_checks, log_state.warnings, log_state.errors,
                passed ? "PASS" : "FAIL");
    return passed;
}
