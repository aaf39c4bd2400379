/* The kernel's way out when an invariant is broken: the other CPUs stopped (an NMI each, so that
 * none goes on with what broke, interrupts off or not), one "PANIC" line with the reason, then the
 * failure exit. Messages read "function: reason"; on a machine of several CPUs the line ends with
 * how many of the others stopped, "(1 of 1 other CPUs stopped)", those registered while the panic
 * stops them included (kernel/lib/cpu_stop.h). Of two CPUs that panic at once the first reports;
 * the second stops as the others do. */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdbool.h>

/* The reason's buffer: a reason of PANIC_REASON_SIZE bytes or more keeps its first
 * PANIC_REASON_SIZE - 1 and ends in "... (cut from N bytes)", N its whole length, so that a cut
 * reason is never read as the whole one. On the panicking CPU's stack, which may be a fault's
 * own small one. */
#define PANIC_REASON_SIZE 256

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *format, ...);

/* For the NMI handler: whether another CPU's panic is stopping this one. */
bool panic_stops_this_cpu(void);

/* Stops the calling CPU for good, for a panic on another: ends a log line it was writing, then
 * halts with interrupts off. */
__attribute__((noreturn)) void panic_stop_here(void);

#endif
