/* In-kernel proof that the heap works: a boxed struct, vectors, reuse of freed memory, a
 * long-lived block among short-lived ones, a TSC benchmark of both allocator strategies, and the
 * final statistics. Each prints one "check <name>: ok|FAILED ..." line; tests/heap_test asserts
 * them in order. */
#ifndef KERNEL_HEAP_CHECKS_H
#define KERNEL_HEAP_CHECKS_H

void heap_checks_run(void);

#endif
