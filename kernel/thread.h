/* Kernel threads and the scheduler. A thread runs a function with one argument on its own stack
 * (STACK_PAGES pages mapped through //paging, with an unmapped guard page below, so an overflow is
 * a page fault on that thread's guard page, reported with the thread's name); its control block
 * is on the heap. One run queue serves every CPU, first in first out; a timer tick preempts the
 * running thread when another is runnable (not while its CPU waits in a lock's queue); a CPU with
 * nothing to run halts in its idle thread until the next interrupt. Threads can yield, sleep for
 * a number of ticks, exit and be joined. */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/cpu_local.h"
#include "kernel/memory.h"

#define THREAD_NAME_MAX 24

struct thread;
typedef void (*thread_fn)(void *arg);

/* Adopts the running boot flow as thread "main" on the boot CPU and makes the boot CPU's idle
 * thread. Stacks are mapped through memory's mapper onto frames from memory_frame_allocate, both
 * serialised by the memory lock (memory.h). Returns false, after an ERROR line, when memory runs
 * out. */
bool threads_init(struct kernel_memory *memory);

/* A new runnable thread running fn(arg), named name (cut to THREAD_NAME_MAX - 1 characters).
 * Returns NULL, after a WARN line, when no stack slot, frame or heap block is left. */
struct thread *thread_create(const char *name, thread_fn fn, void *arg);

/* Waits until t has exited, then frees its control block and stack slot. Each thread is joined
 * once, by one other thread: a second join (at the same time or after the first), a join of the
 * caller itself, of an idle thread or of "main" (which never exit), or of a thread that waits
 * (directly or through a chain of joins) for the caller (a deadlock) panics with its reason. */
void thread_join(struct thread *t);

/* Ends the calling thread (returning from its function does the same). An idle thread or "main"
 * may not exit: that panics with its name. */
__attribute__((noreturn)) void thread_exit(void);

/* Gives the CPU to the next runnable thread, if any. */
void thread_yield(void);

/* Sleeps for at least ticks timer ticks (1 / APIC_TIMER_HZ s each); one that would end past tick
 * 2^64 - 1 ends there, which is never. */
void thread_sleep(uint64_t ticks);

struct thread *thread_current(void);
const char *thread_name(const struct thread *t);
/* Timer ticks counted by the boot CPU since its timer started: every tick it takes, those that come
 * while it halts waiting for a lock too. */
uint64_t thread_ticks(void);

/* The timer interrupt of every CPU: counts the tick; unless the CPU waits in a lock's queue, wakes
 * due sleepers (CPU 0), runs the tick hook and preempts when another thread is runnable. */
void thread_timer_tick(void);
/* Runs on every timer tick of every CPU, in the interrupt handler, before preemption; skipped on
 * ticks that come while the CPU waits in a lock's queue. */
void thread_set_tick_hook(void (*hook)(void));

/* For the start of another CPU: its idle thread, with a stack whose top the CPU starts on. */
struct thread *thread_create_idle(uint32_t cpu_index);
/* Frees an idle thread made by thread_create_idle that never ran and never will (its CPU did not
 * start): its control block goes back to the heap, its stack slot (the pages stay mapped, as for
 * a joined thread) serves the next thread created. */
void thread_destroy_unstarted_idle(struct thread *t);
/* Stack slots taken by a thread and not yet given back: for the test that a CPU which does not
 * start keeps none (smp_test=withhold_startup). */
size_t thread_slots_in_use(void);
uint64_t thread_stack_top(const struct thread *t);
/* The lowest address of t's stack: the guard page ends here (smp_test=ap_early_double_fault). */
uint64_t thread_stack_bottom(const struct thread *t);
/* Makes every idle loop wait this long between its last look at the run queue and its halt, the
 * window a wake-up for a new thread must not be spent in (thread_test=idle_wake); 0 to stop. Sets
 * the counts below to zero. */
void thread_widen_idle_window_for_test(uint64_t microseconds);
/* The wake-ups that came in those windows: taken there (the halt after it then waits for the next
 * tick with a thread queued), or kept pending until the halt, which they end. */
void thread_idle_window_wakeups_for_test(uint32_t *taken, uint32_t *kept);

/* The calling CPU becomes its idle thread (cpu->idle, already current): never returns. */
__attribute__((noreturn)) void thread_idle_loop(void);

/* Longest description thread_describe_address writes, with its terminating NUL. */
#define THREAD_DESCRIPTION_MAX 96

/* For fault reports: writes "guard page of thread \"name\": thread stack overflow" or the like for
 * an address in a thread's stack slot into out (size bytes, cut to fit) and returns true; false,
 * writing nothing, for any other address. The caller's buffer, not a shared one, because two CPUs
 * may report faults at once. */
bool thread_describe_address(uint64_t address, char *out, size_t size);

#endif
