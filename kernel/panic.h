/* The kernel's way out when an invariant is broken: one "PANIC" line with the reason, then the
 * failure exit. Messages read "function: reason". */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *format, ...);

#endif
