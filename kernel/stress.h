/* The heap under real concurrency, and the concurrency faults, chosen on the kernel command line
 * (see tests/BUILD.bazel):
 *
 *   stress                 STRESS_THREADS_PER_CPU threads per online CPU do STRESS_OPS_TOTAL
 *                          random allocate/free/realloc operations in all (more while a CPU the
 *                          host holds off has done none yet), checking every block's
 *                          contents, while every CPU's timer interrupt allocates and frees a small
 *                          block on each tick; then one line "stress: cpus=N threads=T ops=O
 *                          irq_ops=I acquires=A contended=C verdict=ok"
 *   fault=thread_overflow  a thread recurses until it runs into its stack's guard page
 *   fault=deadlock         two threads on two CPUs take two locks in opposite order
 *   fault=lock_recursion   the main thread takes a spinlock it already holds
 *   fault=try_recursion    the main thread tries to take a spinlock it already holds
 *   fault=release_unheld   the main thread releases a spinlock no CPU holds
 *   fault=irq_restore_unpaired  irq_restore with no irq_save before it (interrupts off)
 *   fault=irq_restore_enabled   irq_restore after interrupts were turned on inside irq_save
 *   fault=main_exit        the main thread calls thread_exit
 *   fault=log_stuck        a thread takes the log and never gives it back, then the main thread
 *                          panics on another CPU (two CPUs)
 *   fault=log_stuck_fault  the same, but the main thread reads page 0: a page fault, reported
 *                          in ERROR lines and a PANIC line (two CPUs)
 *   fault=panic_while_logging  a thread logs without a pause while the main thread panics on
 *                          another CPU: the PANIC line must stay the last (two CPUs)
 *   fault=panic_stops_cpus a thread spins with interrupts off while the main thread panics on
 *                          another CPU: the panic stops every other CPU and counts them
 *   fault=panic_twice      two CPUs panic at once: one reports, the other stops, counted once
 *   fault=join_twice       a thread that has exited is joined, then joined again
 *   fault=join_idle        the main thread joins its CPU's idle thread, which never exits
 *   fault=join_cycle       two threads join each other
 *   fault=ipi_stuck        an IPI the local APIC never takes (its delivery status held pending)
 *   apic_test=icr_gap      check: a timer tick that sends an IPI between the two writes of
 *                          another IPI does not send that one elsewhere (two CPUs)
 *   thread_test=long_sleep check: a sleep of 2^64 - 1 ticks does not end at once
 *   thread_test=current    check: thread_current names the caller in threads preempted and moved
 *                          between CPUs (twice as many threads as CPUs)
 *   thread_test=fault_names check: two CPUs describing thread guard pages at once (as two
 *                          overflow reports do) each get their own thread's name (two CPUs)
 *   thread_test=idle_wake  check: a wake-up for a new thread that comes between the idle loop's
 *                          last look at the run queue and its halt ends the halt (two CPUs)
 *   thread_test=sleeper_wake check: of two sleepers woken by one tick of CPU 0, the one CPU 1
 *                          runs is handed over by a wake-up, not left for CPU 1's own tick (two
 *                          CPUs)
 *   thread_test=held_window check: threads asking, interrupts on, whether their CPU holds a lock
 *                          others take turns holding, with spinlock_held_by_this_cpu's two reads
 *                          kept apart, are never told yes (two CPUs)
 *   thread_test=halted_ticks check: the tick count goes on while CPU 0 halts waiting for a
 *                          lock another CPU holds (two CPUs)
 *   tlb_test=shootdown     a thread reads a page on one CPU, another CPU unmaps it, the thread
 *                          reads it again: a page fault (its report ends the run), not a stale
 *                          read (an ERROR line and a failed check) (two CPUs)
 *   tlb_test=unanswered    the same with the reader's interrupts off while it waits: the unmap's
 *                          TLB shootdown gets no answer and panics naming the reader's CPU
 *   paging_test=concurrent check: two threads per CPU map, translate and unmap pages through the
 *                          kernel's mapper at once, racing to make the same page tables; every
 *                          call succeeds and every page translates to its own frame (two CPUs)
 *   paging_test=reentry    check: a walk callback's translate on the walk's own mapper is refused
 *                          (PAGING_ERR_REENTERED), not the spinlock's recursion panic, and the
 *                          same translate after the walk succeeds
 */
#ifndef KERNEL_STRESS_H
#define KERNEL_STRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "paging/mapper.h"

#define STRESS_THREADS_PER_CPU 4
#define STRESS_OPS_TOTAL       16000

/* Whether the command line asks for one of the above. */
bool stress_requested(const char *cmdline);

/* The command line word of each choice above, by index from 0; NULL past the last. */
const char *stress_cmdline_word(size_t index);

/* Runs what the command line asks for (the faults do not return), the TLB and paging tests on
 * the kernel's mapper. Logs a check, so the summary's verdict follows the stress verdict. */
void stress_run(const char *cmdline, struct paging_mapper *mapper);

#endif
