/* The kernel's serial log. Every line reads
 *     [0042] INFO  smp: 2 CPUs online
 * a sequence number (the order is the only clock that means the same under TCG and on hardware),
 * a level, then the message, whose control bytes are written as \xNN (one message, one line). The
 * last line of a run is a summary (log_summary) that a test or a human reads at a glance. */
#ifndef KERNEL_LOG_H
#define KERNEL_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_PANIC };

void log_message(enum log_level level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void log_message_va(enum log_level level, const char *format, va_list args);

/* The run's last line (a panic's, the summary): written as log_message writes one, then the log is
 * kept for good by the calling CPU, which leaves the run next, so that no other CPU's line comes
 * after it (but an ERROR or PANIC line after the spin bound, which takes a stuck log: the run's
 * exit is then overdue). The calling CPU may still log: it holds the log. */
void log_last_line(enum log_level level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* For a CPU a panic elsewhere stops (panic.h): if it holds the log, mid-line, ends the line and
 * gives the log up, so that the panic's line starts a line of its own and need not wait. */
void log_abandon_line(void);

#define log_debug(...) log_message(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_message(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_message(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_message(LOG_ERROR, __VA_ARGS__)

/* Counts a named in-kernel check and logs "check <name>: ok|FAILED <detail>". Returns passed. */
_Bool log_check(_Bool passed, const char *name, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* For the test that a PANIC line still comes while another CPU is stuck holding the log
 * (fault=log_stuck): takes the log, writes the calling CPU's index to *holder, and never gives it
 * back, interrupts off. */
__attribute__((noreturn)) void log_hold_forever(volatile int32_t *holder);

/* Logs the final line, as log_last_line_va does (the log kept): "summary: checks=N failed=M
 * warnings=W errors=E verdict=PASS|FAIL". Returns true when no check failed and no error was
 * logged. */
_Bool log_summary(void);

#endif
