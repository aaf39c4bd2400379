/* Heap stress under threads, CPUs and interrupts; deliberate concurrency faults (see stress.h). */
#include "kernel/stress.h"

#include <stddef.h>
#include <stdint.h>

#include "kernel/address_name.h"
#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/cpu_local.h"
#include "kernel/kmalloc.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/memory.h"
#include "kernel/panic.h"
#include "kernel/scenarios.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "paging/mapper.h"

#define SLOTS_PER_THREAD 16
#define MAX_BLOCK        2048
#define SMALL_BLOCK      256
#define SMALL_ODDS       16
#define IRQ_BLOCK_MAX    128

struct block {
    uint8_t *data;
    size_t size;
    uint8_t tag;
};

struct worker {
    struct thread *thread; /* for the joins: the creator sets it, perhaps after the worker starts */
    uint64_t seed;
    uint64_t ops;
    uint64_t failures; /* a block whose contents changed, or a NULL from a heap with room */
    struct block blocks[SLOTS_PER_THREAD];
};

static volatile bool irq_stress_on;
static uint32_t
    irq_stress_in_flight; /* handlers between their check of irq_stress_on and the end */
static uint64_t irq_ops;
static uint64_t irq_failures;

/* xorshift64: each thread its own sequence, so a run is the same operations whatever the timing. */
static uint64_t next_random(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

static void fill(uint8_t *data, size_t size, uint8_t tag) {
    for (size_t i = 0; i < size; i++) {
        data[i] = (uint8_t)(tag + i * 31);
    }
}

static bool intact(const uint8_t *data, size_t size, uint8_t tag) {
    for (size_t i = 0; i < size; i++) {
        if (data[i] != (uint8_t)(tag + i * 31)) {
            return false;
        }
    }
    return true;
}

static void count_op_on_this_cpu(void) {
    irq_save();
    cpu_this()->stress_ops++;
    irq_restore();
}

static void one_operation(struct worker *w) {
    struct block *b = &w->blocks[next_random(&w->seed) % SLOTS_PER_THREAD];
    uint64_t choice = next_random(&w->seed);
    /* Mostly small blocks, as kernel objects are; one in SMALL_ODDS up to MAX_BLOCK. */
    uint64_t size_draw = next_random(&w->seed);
    size_t limit = (size_draw >> 32) % SMALL_ODDS == 0 ? MAX_BLOCK : SMALL_BLOCK;
    size_t size = 1 + (size_t)(size_draw % limit);
    uint8_t tag = (uint8_t)choice;
    if (b->data == NULL) {
        b->data = kmalloc(size);
        if (b->data == NULL) {
            w->failures++;
            return;
        }
        b->size = size;
        b->tag = tag;
        fill(b->data, size, tag);
    } else if (!intact(b->data, b->size, b->tag)) {
        w->failures++;
        log_error("stress: thread \"%s\": block %p of %zu bytes changed under it",
                  thread_name(thread_current()), (void *)b->data, b->size);
        b->data = NULL; /* leaked on purpose: it cannot be trusted */
        return;
    } else if (choice & 0x100) {
        kfree(b->data);
        b->data = NULL;
    } else {
        uint8_t *moved = krealloc(b->data, size);
        if (moved == NULL) {
            w->failures++;
            return;
        }
        size_t kept = size < b->size ? size : b->size;
        if (!intact(moved, kept, b->tag)) {
            w->failures++;
            log_error("stress: realloc of %zu to %zu bytes lost the contents", b->size, size);
        }
        b->data = moved;
        b->size = size;
        b->tag = tag;
        fill(moved, size, tag);
    }
    w->ops++;
    count_op_on_this_cpu();
}

/*
 * The start barrier: workers begin their operations once a worker has run on every CPU (or after
 * STRESS_WAIT_TICKS timer ticks, when the check then names the CPU that never ran one). Without
 * it, a CPU the host schedules late can find every operation already done, and the run proves
 * nothing about it. STRESS_WAIT_TICKS also bounds the wait at the end (await_irq_operation).
 */
#define STRESS_WAIT_TICKS 200
static uint32_t cpus_joined;

/* Counts the CPU this thread runs on as joined, once per CPU. */
static void join_this_cpu(void) {
    irq_save();
    struct cpu_local *cpu = cpu_this();
    if (!cpu->stress_joined) {
        cpu->stress_joined = true;
        __atomic_fetch_add(&cpus_joined, 1, __ATOMIC_SEQ_CST);
    }
    irq_restore();
}

/*
 * A waiting worker may resume on another CPU after each yield (one run queue for all), so it
 * counts the CPU it is on every time round: a CPU that only ever picks up waiting workers joins
 * too.
 */
static void join_start_barrier(void) {
    uint64_t start = thread_ticks();
    join_this_cpu();
    while (__atomic_load_n(&cpus_joined, __ATOMIC_SEQ_CST) < cpu_count() &&
           thread_ticks() - start < STRESS_WAIT_TICKS) {
        thread_yield();
        join_this_cpu();
    }
}

/*
 * A worker done with its operations keeps its blocks until the timer handler has allocated and
 * freed at least once during the run (or STRESS_WAIT_TICKS ticks, when the check then fails on
 * irq_ops=0): the run takes only a few ticks, and could otherwise end before the first, so the
 * handler's allocations would never meet the workers' heap.
 */
static void await_irq_operation(void) {
    uint64_t start = thread_ticks();
    while (__atomic_load_n(&irq_ops, __ATOMIC_RELAXED) == 0 &&
           thread_ticks() - start < STRESS_WAIT_TICKS) {
        thread_yield();
    }
}

/* Whether every online CPU has done at least one operation of this run. */
static bool every_cpu_operated(void) {
    for (uint32_t i = 0; i < cpu_count(); i++) {
        if (__atomic_load_n(&cpu_by_index(i)->stress_ops, __ATOMIC_RELAXED) == 0) {
            return false;
        }
    }
    return true;
}

/*
 * A worker done with its quota goes on while some CPU has done no operation yet (or for
 * STRESS_WAIT_TICKS ticks, when the check then names that CPU): a CPU that joined at the barrier
 * can still be held off by a loaded host until the others have done every operation, and the run
 * would prove nothing about it. It yields after each operation, so that a worker waits in the run
 * queue for that CPU to pick up.
 */
static void operate_until_every_cpu_has(struct worker *w) {
    uint64_t start = thread_ticks();
    while (w->failures == 0 && !every_cpu_operated() &&
           thread_ticks() - start < STRESS_WAIT_TICKS) {
        one_operation(w);
        thread_yield();
    }
}

static void worker_main(void *arg) {
    struct worker *w = arg;
    uint64_t quota = w->ops; /* set by the creator */
    w->ops = 0;
    join_start_barrier();
    while (w->ops < quota && w->failures == 0) {
        one_operation(w);
    }
    operate_until_every_cpu_has(w);
    await_irq_operation();
    for (size_t i = 0; i < SLOTS_PER_THREAD; i++) {
        struct block *b = &w->blocks[i];
        if (b->data != NULL) {
            if (!intact(b->data, b->size, b->tag)) {
                w->failures++;
            }
            kfree(b->data);
            b->data = NULL;
        }
    }
}

static void irq_stress_block(void);

/* The timer interrupt of every CPU, while the stress runs. */
static void irq_stress_tick(void) {
    if (!irq_stress_on) {
        return;
    }
    __atomic_fetch_add(&irq_stress_in_flight, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&irq_stress_on, __ATOMIC_SEQ_CST)) {
        __atomic_fetch_sub(&irq_stress_in_flight, 1, __ATOMIC_SEQ_CST);
        return;
    }
    irq_stress_block();
    __atomic_fetch_sub(&irq_stress_in_flight, 1, __ATOMIC_SEQ_CST);
}

/* Stops the interrupt-time allocations and waits for those under way on other CPUs, so the live
 * block count afterwards is the kernel's own. */
static void irq_stress_stop(void) {
    __atomic_store_n(&irq_stress_on, false, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&irq_stress_in_flight, __ATOMIC_SEQ_CST) != 0) {
        cpu_pause();
    }
}

static void irq_stress_block(void) {
    uint64_t n = cpu_this()->ticks;
    size_t size = 16 + (size_t)(n * 37 % (IRQ_BLOCK_MAX - 16));
    uint8_t *block = kmalloc(size);
    if (block == NULL) {
        __atomic_fetch_add(&irq_failures, 1, __ATOMIC_RELAXED);
        return;
    }
    fill(block, size, (uint8_t)n);
    if (!intact(block, size, (uint8_t)n)) {
        __atomic_fetch_add(&irq_failures, 1, __ATOMIC_RELAXED);
    }
    kfree(block);
    __atomic_fetch_add(&irq_ops, 1, __ATOMIC_RELAXED);
}

/*
 * spinlock_try_acquire on a lock another holder has (its ticket drawn as a CPU in
 * spinlock_acquire would), then on the same lock once that holder lets go: refused at once with
 * nothing changed (no acquisition counted, interrupts as they were), then taken as an uncontended
 * acquisition by this CPU, interrupts off while held and as they were after the release. The
 * per-CPU cache's warm-up relies on both answers.
 */
static void check_try_acquire(void) {
    static struct spinlock probe = SPINLOCK_INIT("try-acquire probe");
    bool interrupts_before = cpu_interrupts_enabled();
    uint32_t other_ticket = __atomic_fetch_add(&probe.next_ticket, 1, __ATOMIC_RELAXED);
    bool refused = !spinlock_try_acquire(&probe);
    bool unchanged = probe.acquires == 0 && probe.next_ticket == other_ticket + 1 &&
                     !spinlock_held_by_this_cpu(&probe) &&
                     cpu_interrupts_enabled() == interrupts_before;
    __atomic_store_n(&probe.now_serving, other_ticket + 1, __ATOMIC_RELEASE); /* it lets go */
    bool taken = spinlock_try_acquire(&probe);
    bool held = taken && spinlock_held_by_this_cpu(&probe) && !cpu_interrupts_enabled();
    if (taken) {
        spinlock_release(&probe);
    }
    bool restored = cpu_interrupts_enabled() == interrupts_before;
    log_check(refused && unchanged && taken && held && restored && probe.acquires == 1 &&
                  probe.contended == 0,
              "spinlock-try",
              "refused while held elsewhere (nothing counted), taken once free: acquires=%llu "
              "contended=%llu, interrupts off while held, %s after",
              (unsigned long long)probe.acquires, (unsigned long long)probe.contended,
              restored ? "restored" : "NOT restored");
}

static void run_heap_stress(void) {
    uint32_t cpus = cpu_count();
    uint32_t threads = cpus * STRESS_THREADS_PER_CPU;
    uint64_t start_ticks = thread_ticks();
    uint64_t start_tsc = cpu_rdtsc();
    struct alloc_stats before;
    kheap_stats(&before);
    for (uint32_t i = 0; i < cpus; i++) {
        cpu_by_index(i)->stress_ops = 0;
        cpu_by_index(i)->stress_joined = false;
    }
    __atomic_store_n(&cpus_joined, 0, __ATOMIC_SEQ_CST);

    struct worker *workers = kcalloc(threads, sizeof *workers);
    if (workers == NULL) {
        panic("stress: no memory for %u workers", threads);
    }
    size_t live_before = before.live_allocations + 1; /* the workers array */
    kheap_lock_reset_counts();
    thread_set_tick_hook(irq_stress_tick);
    irq_stress_on = true;
    for (uint32_t i = 0; i < threads; i++) {
        char name[THREAD_NAME_MAX];
        format_string(name, sizeof name, "stress-%u", i);
        workers[i].seed = 0x9e3779b97f4a7c15ull * (i + 1);
        workers[i].ops = STRESS_OPS_TOTAL / threads + (i < STRESS_OPS_TOTAL % threads);
        workers[i].thread = thread_create(name, worker_main, &workers[i]);
        if (workers[i].thread == NULL) {
            panic("stress: cannot create thread %u of %u", i, threads);
        }
    }
    uint64_t ops = 0;
    uint64_t failures = 0;
    for (uint32_t i = 0; i < threads; i++) {
        thread_join(workers[i].thread);
        ops += workers[i].ops;
        failures += workers[i].failures;
    }
    irq_stress_stop();
    uint64_t acquires, contended;
    kheap_lock_counts(&acquires, &contended);
    uint64_t elapsed_tsc = cpu_rdtsc() - start_tsc;
    uint64_t irq_count = __atomic_load_n(&irq_ops, __ATOMIC_RELAXED);
    failures += __atomic_load_n(&irq_failures, __ATOMIC_RELAXED);
    kfree(workers);

    struct alloc_stats after;
    kheap_stats(&after);
    enum alloc_error integrity = kheap_check();
    uint32_t idle_cpus = 0;
    for (uint32_t i = 0; i < cpus; i++) {
        struct cpu_local *cpu = cpu_by_index(i);
        log_info("stress: CPU %u did %llu operations, took %llu timer ticks", i,
                 (unsigned long long)cpu->stress_ops, (unsigned long long)cpu->ticks);
        idle_cpus += cpu->stress_ops == 0;
    }
    log_info("stress: per-CPU heap caches %s", kheap_cpu_caches_on() ? "on" : "off");
    bool ok = failures == 0 && ops >= STRESS_OPS_TOTAL && integrity == ALLOC_OK &&
              after.live_allocations == live_before - 1 && idle_cpus == 0 && irq_count > 0;
    log_info("stress: %llu timer ticks, %llu million TSC ticks; live blocks before %zu, after %zu; "
             "heap check %s; %llu failures; %u CPUs without operations",
             (unsigned long long)(thread_ticks() - start_ticks),
             (unsigned long long)(elapsed_tsc / 1000000), live_before - 1, after.live_allocations,
             integrity == ALLOC_OK ? "ok" : alloc_error_name(integrity),
             (unsigned long long)failures, idle_cpus);
    log_check(ok, "stress",
              "stress: cpus=%u threads=%u ops=%llu irq_ops=%llu acquires=%llu contended=%llu "
              "verdict=%s",
              cpus, threads, (unsigned long long)ops, (unsigned long long)irq_count,
              (unsigned long long)acquires, (unsigned long long)contended, ok ? "ok" : "FAILED");
}

/* The CPUs a scenario that needs another CPU runs on. */
enum cpus_needed {
    CPUS_TWO_OR_MORE,
    /* For the checks that count what happens between CPU 0 and the one other CPU: a third would
     * take part unasked (run their threads, take their wake-ups) and blur the count. */
    CPUS_EXACTLY_TWO,
};

/* Panics, naming scenario (its command-line word) and the CPUs online, unless they are as many as
 * needed: on one CPU the scenario would wait for ever for its thread on another, or check
 * nothing. */
static void require_two_cpus(const char *scenario, enum cpus_needed needed) {
    uint32_t online = cpu_count();
    if (online < 2 || (needed == CPUS_EXACTLY_TWO && online != 2)) {
        panic("%s: needs %stwo CPUs; %u online", scenario,
              needed == CPUS_EXACTLY_TWO ? "exactly " : "", online);
    }
}

/* fault=thread_overflow */

static void overflow_main(void *arg) {
    (void)arg;
    log_info("fault: thread \"%s\" recursing until its stack overflows",
             thread_name(thread_current()));
    scenario_recurse_until_overflow();
}

static __attribute__((noreturn)) void thread_overflow(void) {
    struct thread *t = thread_create("overflower", overflow_main, NULL);
    if (t == NULL) {
        panic("fault: cannot create the thread");
    }
    thread_join(t);
    panic("fault: the overflowing thread exited");
}

/* fault=deadlock */

static struct spinlock deadlock_a = SPINLOCK_INIT("deadlock A");
static struct spinlock deadlock_b = SPINLOCK_INIT("deadlock B");
static volatile uint32_t first_locks_taken;

static void take_in_order(struct spinlock *first, struct spinlock *second) {
    spinlock_acquire(first);
    log_info("fault: CPU %u took \"%s\", now taking \"%s\"", cpu_this()->index, first->name,
             second->name);
    __atomic_fetch_add(&first_locks_taken, 1, __ATOMIC_ACQ_REL);
    uint64_t start = cpu_rdtsc();
    while (__atomic_load_n(&first_locks_taken, __ATOMIC_ACQUIRE) < 2) {
        cpu_pause();
        if (cpu_rdtsc() - start > SPINLOCK_SPIN_BOUND_TSC_TICKS) {
            panic("fault: the other thread never took its first lock (one CPU only?)");
        }
    }
    spinlock_acquire(second);
    panic("fault: CPU %u took both locks: no deadlock", cpu_this()->index);
}

static void deadlock_ab(void *arg) {
    (void)arg;
    take_in_order(&deadlock_a, &deadlock_b);
}

static void deadlock_ba(void *arg) {
    (void)arg;
    take_in_order(&deadlock_b, &deadlock_a);
}

static __attribute__((noreturn)) void deadlock(void) {
    require_two_cpus("fault=deadlock", CPUS_TWO_OR_MORE);
    struct thread *ab = thread_create("deadlock-ab", deadlock_ab, NULL);
    struct thread *ba = thread_create("deadlock-ba", deadlock_ba, NULL);
    if (ab == NULL || ba == NULL) {
        panic("fault: cannot create the threads");
    }
    thread_join(ab);
    panic("fault: the deadlocking thread exited");
}

/* fault=lock_recursion */

/* Takes a lock its CPU already holds: a ticket lock would wait for itself for ever (until the spin
 * bound); the re-entry must be refused at once, naming the lock and the CPU. */
static __attribute__((noreturn)) void lock_recursion(void) {
    static struct spinlock probe = SPINLOCK_INIT("recursion probe");
    spinlock_acquire(&probe);
    log_info("fault: CPU %u holds \"%s\"; taking it again", cpu_this()->index, probe.name);
    spinlock_acquire(&probe);
    panic("fault: \"%s\" was taken twice by one CPU", probe.name);
}

/* fault=try_recursion */

/* spinlock_try_acquire of a lock its CPU already holds: refused at once too, not answered "busy"
 * (a caller would then wait for itself) nor taken a second time. */
static __attribute__((noreturn)) void try_recursion(void) {
    static struct spinlock probe = SPINLOCK_INIT("try probe");
    spinlock_acquire(&probe);
    log_info("fault: CPU %u holds \"%s\"; trying to take it again", cpu_this()->index, probe.name);
    bool taken = spinlock_try_acquire(&probe);
    panic("fault: spinlock_try_acquire of \"%s\", held by its CPU, returned %s", probe.name,
          taken ? "true" : "false");
}

/* fault=release_unheld */

/* Releases a lock no CPU holds: refused, naming the lock, rather than serving the next ticket,
 * which would let a waiter in beside whoever takes the lock next. */
static __attribute__((noreturn)) void release_unheld(void) {
    static struct spinlock probe = SPINLOCK_INIT("release probe");
    log_info("fault: CPU %u releasing \"%s\", which no CPU holds", cpu_this()->index, probe.name);
    spinlock_release(&probe);
    panic("fault: \"%s\" was released by a CPU that did not hold it", probe.name);
}

/* fault=irq_restore_unpaired and fault=irq_restore_enabled */

/* An irq_restore with no irq_save before it: refused, not a depth that wraps below zero and leaves
 * interrupts off for ever. */
static __attribute__((noreturn)) void irq_restore_unpaired(void) {
    cpu_disable_interrupts();
    log_info("fault: CPU %u calling irq_restore with no irq_save", cpu_this()->index);
    irq_restore();
    panic("fault: an irq_restore without irq_save returned");
}

/* Interrupts turned on inside an irq_save section: refused at its irq_restore, which would
 * otherwise count on interrupts being off. */
static __attribute__((noreturn)) void irq_restore_enabled(void) {
    /* Said first: the log's own lock, taken inside the section, would turn interrupts off again. */
    log_info("fault: CPU %u turning interrupts on inside irq_save, then calling irq_restore",
             cpu_this()->index);
    irq_save();
    cpu_enable_interrupts();
    irq_restore();
    panic("fault: irq_restore with interrupts on returned");
}

/* fault=main_exit */

/* The main thread exits: refused, as for an idle thread, since nothing would run the rest of the
 * boot (and nothing may free the boot stack it runs on). */
static __attribute__((noreturn)) void main_exit(void) {
    log_info("fault: \"%s\" calling thread_exit", thread_name(thread_current()));
    thread_exit();
}

/*
 * For the faults that need a second CPU: makes the thread `name` running fn, whose own flag the
 * caller then waits for, yielding (if the thread takes the caller's CPU, the caller goes on on
 * another). Panics, naming `fault` (its command-line word), with one CPU online or no thread to be
 * had.
 */
static void start_second_cpu_thread(const char *fault, const char *name, thread_fn fn) {
    require_two_cpus(fault, CPUS_TWO_OR_MORE);
    if (thread_create(name, fn, NULL) == NULL) {
        panic("%s: cannot create the thread \"%s\"", fault, name);
    }
}

/* fault=log_stuck */

/* The CPU that holds the log for good, once it does. */
static volatile int32_t log_holder = SPINLOCK_NO_HOLDER;

static void hold_log(void *arg) {
    (void)arg;
    log_info("fault: CPU %u taking the log for good", cpu_this()->index);
    log_hold_forever(&log_holder);
}

/* Returns once a thread on another CPU holds the log for good; fault names the caller's scenario.
 */
static void wait_for_stuck_log_holder(const char *fault) {
    start_second_cpu_thread(fault, "log-holder", hold_log);
    while (log_holder == SPINLOCK_NO_HOLDER) {
        thread_yield();
    }
}

/* A CPU stuck while it holds the log (here on purpose, interrupts off): a panic on another CPU
 * must still write its line and end the run, rather than wait for ever (the panic's NMI stops the
 * holder, which gives the log up; were it not stopped, the line would wait the spin bound). */
static __attribute__((noreturn)) void log_stuck(void) {
    wait_for_stuck_log_holder("fault=log_stuck");
    panic("fault: CPU %u panics while CPU %d holds the log", cpu_this()->index, (int)log_holder);
}

/* fault=log_stuck_fault: the same, with a page fault (a read of page 0, never mapped) where the
 * panic was: its report's ERROR lines come first, and each must get past the stuck holder too. */
static __attribute__((noreturn)) void log_stuck_fault(void) {
    wait_for_stuck_log_holder("fault=log_stuck_fault");
    (void)cpu_read_u64(0);
    panic("fault: reading page 0 did not fault");
}

/* fault=panic_while_logging */

/* Lines the chatter has logged: the panic waits for some, so that it comes while they flow. */
static volatile uint32_t chatter_lines;

static __attribute__((noreturn)) void chatter(void *arg) {
    (void)arg;
    for (;;) {
        log_info("fault: chatter line %u from CPU %u", chatter_lines, cpu_this()->index);
        __atomic_fetch_add(&chatter_lines, 1, __ATOMIC_SEQ_CST);
    }
}

/* A panic on one CPU while another logs without a pause: the PANIC line must stay the run's last
 * (the panicking CPU keeps the log), not be followed by the other CPU's next line. */
static __attribute__((noreturn)) void panic_while_logging(void) {
    start_second_cpu_thread("fault=panic_while_logging", "chatter", chatter);
    while (chatter_lines < 20) {
        thread_yield();
    }
    panic("fault: CPU %u panics while another CPU logs", cpu_this()->index);
}

/* fault=panic_stops_cpus */

static volatile bool spinner_running;

/* Spins with interrupts off for good: only an NMI reaches this CPU. */
static __attribute__((noreturn)) void spin_interrupts_off(void *arg) {
    (void)arg;
    irq_save();
    log_info("fault: CPU %u spinning with interrupts off", cpu_this()->index);
    __atomic_store_n(&spinner_running, true, __ATOMIC_SEQ_CST);
    for (;;) {
        cpu_pause();
    }
}

/* A panic while another CPU spins with interrupts off (and any others idle): the panic stops every
 * other CPU, which its line counts, "(N of N other CPUs stopped)". */
static __attribute__((noreturn)) void panic_stops_cpus(void) {
    start_second_cpu_thread("fault=panic_stops_cpus", "spinner", spin_interrupts_off);
    while (!spinner_running) {
        thread_yield();
    }
    panic("fault: CPU %u panics while another spins with interrupts off", cpu_this()->index);
}

/* fault=panic_twice */

static volatile uint32_t panickers_ready;

/* Meets the other panicker, then panics at the same moment. */
static __attribute__((noreturn)) void panic_at_once(void) {
    irq_save();
    __atomic_fetch_add(&panickers_ready, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&panickers_ready, __ATOMIC_SEQ_CST) < 2) {
        cpu_pause();
    }
    panic("fault: CPU %u panics at once with another", cpu_this()->index);
}

static __attribute__((noreturn)) void second_panicker(void *arg) {
    (void)arg;
    panic_at_once();
}

/* Two CPUs panic at once: one reports, counting the other, which stops (counted once, though the
 * first one's NMI reaches it after its own panic has stopped it). */
static __attribute__((noreturn)) void panic_twice(void) {
    start_second_cpu_thread("fault=panic_twice", "second-panicker", second_panicker);
    /* Until the other thread runs elsewhere: on this CPU it would spin in the barrier. */
    while (__atomic_load_n(&panickers_ready, __ATOMIC_SEQ_CST) == 0) {
        thread_yield();
    }
    panic_at_once();
}

/* fault=join_twice and fault=join_idle */

static void return_at_once(void *arg) {
    (void)arg;
}

/* Joins a thread that has exited, then joins it again: the second join must be refused with a
 * panic, not read the control block the first one freed. */
static __attribute__((noreturn)) void join_twice(void) {
    struct thread *t = thread_create("joined-twice", return_at_once, NULL);
    if (t == NULL) {
        panic("fault: cannot create the thread");
    }
    thread_join(t);
    log_info("fault: joined thread %p once; joining it again", (void *)t);
    thread_join(t);
    panic("fault: the second join of thread %p returned", (void *)t);
}

/* Joins this CPU's idle thread, which never exits: refused, not a wait without end. */
static __attribute__((noreturn)) void join_idle(void) {
    struct thread *idle = cpu_this()->idle;
    log_info("fault: joining \"%s\", which never exits", thread_name(idle));
    thread_join(idle);
    panic("fault: the join of an idle thread returned");
}

/* fault=join_cycle */

static struct thread *volatile cycle_threads[2];

/* Waits until both handles are known, then joins the other thread of the pair. */
static void join_partner(void *arg) {
    uintptr_t me = (uintptr_t)arg;
    while (__atomic_load_n(&cycle_threads[0], __ATOMIC_ACQUIRE) == NULL ||
           __atomic_load_n(&cycle_threads[1], __ATOMIC_ACQUIRE) == NULL) {
        thread_yield();
    }
    thread_join(cycle_threads[1 - me]);
}

/* Two threads join each other: neither can ever exit. The second join must be refused with the
 * reason, not leave both blocked for ever. The main thread joins neither (a third joiner would be
 * refused for another reason); it waits 200 ticks and reports a cycle that was let through. */
static __attribute__((noreturn)) void join_cycle(void) {
    const char *names[2] = {"cycle-a", "cycle-b"};
    for (uintptr_t i = 0; i < 2; i++) {
        struct thread *t = thread_create(names[i], join_partner, (void *)i);
        if (t == NULL) {
            panic("fault: cannot create the threads");
        }
        __atomic_store_n(&cycle_threads[i], t, __ATOMIC_RELEASE);
    }
    log_info("fault: \"cycle-a\" and \"cycle-b\" join each other");
    thread_sleep(200);
    panic("fault: two threads joining each other were both let wait: a deadlock without a report");
}

/* fault=ipi_stuck */

/* A wake-up IPI to this CPU with the local APIC's delivery status held at "pending": the send must
 * end in a panic naming it once the delivery bound has passed, not spin for ever. */
static __attribute__((noreturn)) void ipi_stuck(void) {
    log_info("fault: every IPI now reads as pending; sending a wake-up to APIC id %u",
             cpu_this()->apic_id);
    apic_hold_ipis_pending_for_test();
    apic_send_wakeup(cpu_this()->apic_id);
    panic("fault: an IPI that stayed pending was taken as sent");
}

/* apic_test=icr_gap */

static volatile bool icr_gap_armed;

/* Once, on the boot CPU's tick: an interrupt handler that sends an IPI of its own (to itself, as a
 * releaser wakes a halted waiter), arriving between the two writes of the IPI it interrupted. */
static void icr_gap_tick(void) {
    if (cpu_this()->index == 0 && __atomic_exchange_n(&icr_gap_armed, false, __ATOMIC_ACQ_REL)) {
        apic_send_wakeup(cpu_this()->apic_id);
    }
}

/* A wake-up IPI to CPU 1 whose two writes are 30 ms apart, so that at least one timer tick of
 * the sender (10 ms) falls between them, and that tick sends an IPI itself. CPU 1 must still get
 * its wake-up: the tick's IPI may not overwrite the destination of the one it interrupted. */
static void check_icr_gap(void) {
    require_two_cpus("apic_test=icr_gap", CPUS_TWO_OR_MORE);
    struct cpu_local *target = cpu_by_index(1);
    uint64_t before = __atomic_load_n(&target->wakeups, __ATOMIC_RELAXED);
    __atomic_store_n(&icr_gap_armed, true, __ATOMIC_RELEASE);
    thread_set_tick_hook(icr_gap_tick);
    apic_send_wakeup_with_gap(target->apic_id, 30000);
    apic_delay_us(50000); /* the tick's own IPI has been sent and both have arrived */
    thread_set_tick_hook(NULL);
    uint64_t taken = __atomic_load_n(&target->wakeups, __ATOMIC_RELAXED) - before;
    bool ticked = !__atomic_load_n(&icr_gap_armed, __ATOMIC_ACQUIRE);
    log_check(taken > 0 && ticked, "ipi-icr",
              "a wake-up IPI to CPU 1 with a timer tick sending an IPI between its two writes: CPU "
              "1 took %llu wake-ups, the tick's IPI %s",
              (unsigned long long)taken, ticked ? "sent" : "NOT sent");
}

/* thread_test=long_sleep */

static volatile bool long_sleeper_woke;

static void sleep_nearly_for_ever(void *arg) {
    (void)arg;
    thread_sleep(UINT64_MAX);
    __atomic_store_n(&long_sleeper_woke, true, __ATOMIC_RELEASE);
}

/* A sleep of 2^64 - 1 ticks, longer than the machine will run, started after tick 1 so that the
 * tick it would wake at lies past 2^64 (now + count wraps to the past): it must not end while the
 * main thread sleeps 20 ticks. The sleeper is left asleep. */
static void check_long_sleep(void) {
    thread_sleep(2);
    if (thread_create("long-sleeper", sleep_nearly_for_ever, NULL) == NULL) {
        panic("thread_test=long_sleep: cannot create the thread");
    }
    uint64_t start = thread_ticks();
    thread_sleep(20);
    bool woke = __atomic_load_n(&long_sleeper_woke, __ATOMIC_ACQUIRE);
    log_check(!woke, "long-sleep",
              "a thread sleeping 2^64 - 1 ticks from tick %llu %s within 20 ticks",
              (unsigned long long)start, woke ? "WOKE" : "still sleeps");
}

/* thread_test=fault_names */

/* Descriptions each thread asks for: enough that two CPUs asking at once overlap many times. */
#define FAULT_NAME_ROUNDS 100000

struct describer {
    struct thread *thread; /* set by the creator, perhaps after the thread has started */
    uint32_t cpu;          /* where it made its descriptions */
    uint64_t wrong;        /* descriptions that were not of its own guard page */
    char expected[THREAD_DESCRIPTION_MAX];
};

static volatile uint32_t describers_ready;

/* The guard page below this thread's stack: the highest page under the stack's top that fault
 * reports call a guard page. */
static uint64_t own_guard_page(void) {
    uint64_t top = thread_stack_top(thread_current());
    for (uint64_t page = top - PAGE_SIZE; page > top - 64 * PAGE_SIZE; page -= PAGE_SIZE) {
        char description[THREAD_DESCRIPTION_MAX];
        if (thread_describe_address(page, description, sizeof description) &&
            strncmp(description, "guard page", 10) == 0) {
            return page;
        }
    }
    panic("thread_test=fault_names: no guard page below the stack of \"%s\"",
          thread_name(thread_current()));
}

/* Describes its own guard page over and over, as a fault report on its CPU would, while the other
 * describer does the same on another CPU; counts the descriptions that are not its own. */
static void describe_own_guard(void *arg) {
    struct describer *d = arg;
    uint64_t guard = own_guard_page();
    format_string(d->expected, sizeof d->expected,
                  "guard page of thread \"%s\": thread stack overflow",
                  thread_name(thread_current()));
    __atomic_fetch_add(&describers_ready, 1, __ATOMIC_SEQ_CST);
    uint64_t start = cpu_rdtsc();
    while (__atomic_load_n(&describers_ready, __ATOMIC_SEQ_CST) < 2) {
        cpu_pause();
        if (cpu_rdtsc() - start > SPINLOCK_SPIN_BOUND_TSC_TICKS) {
            panic("thread_test=fault_names: the other describer never started");
        }
    }
    d->cpu = cpu_this_index();
    for (uint32_t i = 0; i < FAULT_NAME_ROUNDS; i++) {
        char name[KERNEL_ADDRESS_NAME_MAX];
        if (strcmp(kernel_address_name(guard, name, sizeof name), d->expected) != 0) {
            d->wrong++;
        }
    }
}

/* Two threads on two CPUs describe their own guard pages at the same time, as two CPUs reporting
 * stack overflows at once do: every description must name the thread asking. */
static void check_fault_names(void) {
    require_two_cpus("thread_test=fault_names", CPUS_TWO_OR_MORE);
    static struct describer describers[2];
    const char *names[2] = {"describer-a", "describer-b"};
    for (int i = 0; i < 2; i++) {
        describers[i].thread = thread_create(names[i], describe_own_guard, &describers[i]);
        if (describers[i].thread == NULL) {
            panic("thread_test=fault_names: cannot create the threads");
        }
    }
    for (int i = 0; i < 2; i++) {
        thread_join(describers[i].thread);
    }
    bool ok = describers[0].wrong == 0 && describers[1].wrong == 0 &&
              describers[0].cpu != describers[1].cpu;
    log_check(ok, "fault-names",
              "two threads on CPUs %u and %u each described their own guard page %u times: %llu "
              "and %llu descriptions named another thread",
              describers[0].cpu, describers[1].cpu, FAULT_NAME_ROUNDS,
              (unsigned long long)describers[0].wrong, (unsigned long long)describers[1].wrong);
}

/* thread_test=current */

/* Ticks the threads of the check ask "who am I?" for: 300 preemptions on each CPU. */
#define CURRENT_CHECK_TICKS 300

struct asker {
    struct thread *volatile thread; /* set by the creator, perhaps after the thread has started */
    uint64_t asked;
    uint64_t wrong; /* answers of thread_current that were another thread */
};

static void ask_who_am_i(void *arg) {
    struct asker *a = arg;
    while (a->thread == NULL) {
        thread_yield();
    }
    uint64_t start = thread_ticks();
    while (thread_ticks() - start < CURRENT_CHECK_TICKS) {
        if (thread_current() != a->thread) {
            a->wrong++;
        }
        a->asked++;
    }
}

/* Twice as many threads as CPUs, so that every tick preempts one and it may resume on another CPU,
 * each asking thread_current over and over: every answer must be the thread asking, wherever it
 * was preempted. */
static void check_thread_current(void) {
    static struct asker askers[2 * CPU_MAX];
    uint32_t count = 2 * cpu_count();
    for (uint32_t i = 0; i < count; i++) {
        char name[THREAD_NAME_MAX];
        format_string(name, sizeof name, "asker-%u", i);
        struct thread *t = thread_create(name, ask_who_am_i, &askers[i]);
        if (t == NULL) {
            panic("thread_test=current: cannot create thread %u", i);
        }
        askers[i].thread = t;
    }
    uint64_t asked = 0;
    uint64_t wrong = 0;
    for (uint32_t i = 0; i < count; i++) {
        thread_join(askers[i].thread);
        asked += askers[i].asked;
        wrong += askers[i].wrong;
    }
    log_check(wrong == 0 && asked > 0, "thread-current",
              "%u threads on %u CPUs asked thread_current %llu times over %u ticks each: %llu "
              "answers were another thread",
              count, cpu_count(), (unsigned long long)asked, CURRENT_CHECK_TICKS,
              (unsigned long long)wrong);
}

/* thread_test=idle_wake */

/* Wake-ups the check needs in the window, or it proves nothing; threads are made one after the
 * other until that many have landed there, at most IDLE_WAKE_MAX_ROUNDS (a loaded host delays the
 * virtual CPUs, and fewer land). */
#define IDLE_WAKE_NEEDED     10
#define IDLE_WAKE_MAX_ROUNDS 400

/* The idle loops' window between their last look at the run queue and their halt, widened: a
 * quarter of a tick, longer than a thread takes to make. */
#define IDLE_WAKE_WINDOW_US (1000000 / APIC_TIMER_HZ / 4)

/*
 * A wake-up sent to an idle CPU for a new thread must end its halt, even when it arrives between
 * the idle loop's last look at the run queue and the halt: taken there, it is spent, and the CPU
 * halts until its next tick with the thread queued. The window is widened, and each thread made
 * just after the other CPU's tick, which that CPU's idle loop answers with its look and its
 * window, so that the wake-up lands in it. Counted there, not timed: a loaded host delays the
 * virtual CPUs by more than a tick, whatever the kernel does.
 */
static void check_idle_wake(void) {
    require_two_cpus("thread_test=idle_wake", CPUS_EXACTLY_TWO);
    thread_widen_idle_window_for_test(IDLE_WAKE_WINDOW_US);
    uint32_t taken = 0;
    uint32_t kept = 0;
    uint32_t rounds = 0;
    for (; rounds < IDLE_WAKE_MAX_ROUNDS && taken + kept < IDLE_WAKE_NEEDED; rounds++) {
        const struct cpu_local *other = cpu_by_index(1 - cpu_this_index());
        uint64_t ticks = __atomic_load_n(&other->ticks, __ATOMIC_RELAXED);
        while (__atomic_load_n(&other->ticks, __ATOMIC_RELAXED) == ticks) {
            cpu_pause();
        }
        struct thread *t = thread_create("idle-waker", return_at_once, NULL);
        if (t == NULL) {
            panic("thread_test=idle_wake: cannot create thread %u", rounds);
        }
        thread_join(t);
        thread_idle_window_wakeups_for_test(&taken, &kept);
    }
    thread_widen_idle_window_for_test(0);
    log_check(taken == 0 && taken + kept >= IDLE_WAKE_NEEDED, "idle-wake",
              "%u threads made just after the idle CPU's tick; %u wake-ups came between the idle "
              "loop's last look at the run queue and its halt: %u taken there (the halt then waits "
              "for a tick), %u kept to end the halt",
              rounds, taken + kept, taken, kept);
}

/* thread_test=sleeper_wake */

/* Rounds in which a sleeper must resume on CPU 1, or the check proves nothing, and the most rounds
 * made to get them (a sleeper runs on CPU 0 when CPU 0 gets to it first). */
#define SLEEPER_WAKE_NEEDED     10
#define SLEEPER_WAKE_MAX_ROUNDS 100
/* Ticks from a round's start to its sleepers' tick: time to make both and see them asleep. */
#define SLEEPER_WAKE_LEAD_TICKS 5
/* How long a woken sleeper keeps its CPU at most, waiting for the other to resume: two ticks, so
 * that CPU 0, which takes one of them at its tick, is still busy when the other is there to be
 * taken by CPU 1, and no sleeper exits (an exit wakes the joiner, and with it an idle CPU) before
 * both have resumed. */
#define SLEEPER_WAKE_WAIT_STEPS 200
#define SLEEPER_WAKE_STEP_US    (2 * 1000000 / APIC_TIMER_HZ / SLEEPER_WAKE_WAIT_STEPS)
/* A sleeper that resumed on CPU 1 without a wake-up this soon after CPU 0's tick found CPU 1 awake:
 * CPU 1's own tick came with CPU 0's, and CPU 1 took the sleeper before CPU 0 looked for an idle
 * CPU to wake. A twentieth of a tick, where a CPU 1 left to its own next tick would wait half a
 * tick on average. */
#define SLEEPER_WAKE_AWAKE_US (1000000 / APIC_TIMER_HZ / 20)

/* One round: the tick both sleepers wake at; how many are asleep and how many have resumed; CPU 1's
 * wake-ups counted at the tick before, on CPU 0 (SLEEPER_WAKE_UNSET until then); the TSC at CPU
 * 0's tick that woke them; what a sleeper that resumed on CPU 1 read of the wake-ups and the TSC.
 */
#define SLEEPER_WAKE_UNSET UINT64_MAX
static volatile uint64_t sleeper_wake_tick;
static volatile uint32_t sleepers_asleep;
static volatile uint32_t sleepers_resumed;
static volatile uint64_t sleeper_wakeups_before;
static volatile uint64_t sleeper_wakeups_on_cpu1;
static volatile bool sleeper_resumed_on_cpu1;
static volatile uint64_t sleeper_woken_tsc;
static volatile uint64_t sleeper_resumed_tsc;

/* At CPU 0's tick before the sleepers', once both sleep: CPU 1's wake-ups so far. At the sleepers'
 * tick, after it woke them: the TSC. */
static void sleeper_wake_tick_hook(void) {
    if (cpu_this_index() != 0) {
        return;
    }
    if (thread_ticks() + 1 == sleeper_wake_tick &&
        __atomic_load_n(&sleepers_asleep, __ATOMIC_ACQUIRE) == 2 &&
        sleeper_wakeups_before == SLEEPER_WAKE_UNSET) {
        sleeper_wakeups_before = __atomic_load_n(&cpu_by_index(1)->wakeups, __ATOMIC_RELAXED);
    } else if (thread_ticks() == sleeper_wake_tick && sleeper_woken_tsc == 0) {
        sleeper_woken_tsc = cpu_rdtsc();
    }
}

static void sleep_to_round_tick(void *arg) {
    (void)arg;
    irq_save(); /* counted asleep with the tick read its sleep starts from */
    __atomic_fetch_add(&sleepers_asleep, 1, __ATOMIC_RELEASE);
    uint64_t now = thread_ticks();
    irq_restore();
    if (now < sleeper_wake_tick) {
        thread_sleep(sleeper_wake_tick - now);
    }
    irq_save();
    if (cpu_this_index() == 1) {
        sleeper_wakeups_on_cpu1 = __atomic_load_n(&cpu_this()->wakeups, __ATOMIC_RELAXED);
        sleeper_resumed_tsc = cpu_rdtsc();
        __atomic_store_n(&sleeper_resumed_on_cpu1, true, __ATOMIC_RELEASE);
    }
    __atomic_fetch_add(&sleepers_resumed, 1, __ATOMIC_RELEASE);
    irq_restore();
    for (unsigned step = 0;
         step < SLEEPER_WAKE_WAIT_STEPS && __atomic_load_n(&sleepers_resumed, __ATOMIC_ACQUIRE) < 2;
         step++) {
        apic_delay_us(SLEEPER_WAKE_STEP_US);
    }
}

/*
 * Two threads that sleep to the same tick, with both CPUs idle: CPU 0's tick wakes them and takes
 * one, and the other must not wait for CPU 1's next tick to run: CPU 1, halted, is sent a wake-up.
 * Counted, not timed (a loaded host delays the virtual CPUs by more than a tick, whatever the
 * kernel does): in each round where a sleeper resumed on CPU 1, CPU 1 must have taken a wake-up
 * between the tick before the sleepers' and that resumption (no other thread runs then, and
 * neither sleeper exits before both have resumed, within two ticks). Without one, it resumed at its
 * own tick. Rounds where both ran on CPU 0, where the sleepers were not both asleep a tick early,
 * or where CPU 1 took its sleeper without a wake-up within SLEEPER_WAKE_AWAKE_US of CPU 0's tick
 * (it was awake then, at a tick of its own), prove nothing and are made again.
 */
static void check_sleeper_wake(void) {
    require_two_cpus("thread_test=sleeper_wake", CPUS_EXACTLY_TWO);
    thread_set_tick_hook(sleeper_wake_tick_hook);
    uint32_t counted = 0, woken = 0, awake = 0, rounds = 0;
    uint64_t awake_ticks = apic_tsc_ticks_for_us(SLEEPER_WAKE_AWAKE_US);
    for (; rounds < SLEEPER_WAKE_MAX_ROUNDS && counted < SLEEPER_WAKE_NEEDED; rounds++) {
        sleeper_wakeups_before = SLEEPER_WAKE_UNSET;
        sleeper_resumed_on_cpu1 = false;
        sleeper_woken_tsc = 0;
        __atomic_store_n(&sleepers_asleep, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&sleepers_resumed, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&sleeper_wake_tick, thread_ticks() + SLEEPER_WAKE_LEAD_TICKS,
                         __ATOMIC_RELEASE);
        struct thread *first = thread_create("sleeper-a", sleep_to_round_tick, NULL);
        struct thread *second = thread_create("sleeper-b", sleep_to_round_tick, NULL);
        if (first == NULL || second == NULL) {
            panic("thread_test=sleeper_wake: cannot create the sleepers of round %u", rounds);
        }
        thread_join(first);
        thread_join(second);
        uint64_t before = sleeper_wakeups_before;
        if (before == SLEEPER_WAKE_UNSET ||
            !__atomic_load_n(&sleeper_resumed_on_cpu1, __ATOMIC_ACQUIRE)) {
            continue;
        }
        bool wake_up = sleeper_wakeups_on_cpu1 > before;
        uint64_t woken_at = sleeper_woken_tsc, resumed_at = sleeper_resumed_tsc;
        uint64_t gap = resumed_at > woken_at ? resumed_at - woken_at : woken_at - resumed_at;
        if (!wake_up && woken_at != 0 && gap < awake_ticks) {
            awake++;
            continue;
        }
        counted++;
        woken += wake_up;
    }
    thread_set_tick_hook(NULL);
    log_check(counted >= SLEEPER_WAKE_NEEDED && woken == counted, "sleeper-wake",
              "%u rounds of two sleepers woken by CPU 0's tick; in %u one resumed on CPU 1, which "
              "had taken a wake-up in %u of them (else it waited for its own tick); %u rounds "
              "left out, CPU 1 awake at CPU 0's tick",
              rounds, counted, woken, awake);
}

/* thread_test=held_window */

/* The wait spinlock_held_by_this_cpu makes between its two reads, and how long a holder keeps the
 * probe: each a fraction of a tick, so that ticks often preempt an asker in its wait. */
#define HELD_WINDOW_US      (1000000 / APIC_TIMER_HZ / 5)
#define HELD_WINDOW_HOLD_US (1000000 / APIC_TIMER_HZ / 5)
#define HELD_WINDOW_ASKS    1000 /* each asker's questions */

static struct spinlock held_probe = SPINLOCK_INIT("held probe");
static volatile bool held_window_done;

/* Takes the probe in turns with the other holder until the askers are done. */
static void hold_held_probe(void *arg) {
    (void)arg;
    while (!__atomic_load_n(&held_window_done, __ATOMIC_ACQUIRE)) {
        spinlock_acquire(&held_probe);
        apic_delay_us(HELD_WINDOW_HOLD_US);
        spinlock_release(&held_probe);
        thread_yield();
    }
}

/* Asks, interrupts on, whether this CPU holds the probe, which this thread never takes: each yes is
 * a wrong answer, counted in *arg. */
static void ask_held_probe(void *arg) {
    uint32_t *wrong = arg;
    for (uint32_t i = 0; i < HELD_WINDOW_ASKS; i++) {
        *wrong += spinlock_held_by_this_cpu(&held_probe);
    }
}

/*
 * spinlock_held_by_this_cpu reads the lock's holder, then its CPU's index. Two threads take turns
 * holding a probe lock while two others, interrupts on, ask whether their CPU holds it, with the
 * check waiting between its two reads: an asker preempted there and moved to the CPU that held the
 * lock at the first read would be told yes (the mapper, asking so through its held hook, would
 * then refuse a call as re-entered). Every answer must be no.
 */
static void check_held_window(void) {
    require_two_cpus("thread_test=held_window", CPUS_EXACTLY_TWO);
    spinlock_widen_held_window_for_test(HELD_WINDOW_US);
    __atomic_store_n(&held_window_done, false, __ATOMIC_RELEASE);
    static uint32_t wrong[2];
    struct thread *holders[2];
    struct thread *askers[2];
    for (int i = 0; i < 2; i++) {
        wrong[i] = 0;
        holders[i] = thread_create("probe-holder", hold_held_probe, NULL);
        askers[i] = thread_create("probe-asker", ask_held_probe, &wrong[i]);
        if (holders[i] == NULL || askers[i] == NULL) {
            panic("thread_test=held_window: cannot create threads");
        }
    }
    for (int i = 0; i < 2; i++) {
        thread_join(askers[i]);
    }
    __atomic_store_n(&held_window_done, true, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++) {
        thread_join(holders[i]);
    }
    spinlock_widen_held_window_for_test(0);
    log_check(
        wrong[0] + wrong[1] == 0, "held-window",
        "2 threads asked %u times each, interrupts on, whether their CPU held a lock 2 others "
        "took turns holding, the check waiting %u us between its two reads: %u answers were "
        "yes",
        HELD_WINDOW_ASKS, HELD_WINDOW_US, wrong[0] + wrong[1]);
}

/* thread_test=halted_ticks */

/* How long the other CPU holds the lock CPU 0 waits for, in timer ticks. */
#define HALTED_TICKS_HOLD 20

static struct spinlock tick_probe = SPINLOCK_INIT("tick probe");
static volatile bool tick_probe_held;

static void hold_tick_probe(void *arg) {
    (void)arg;
    spinlock_acquire(&tick_probe);
    __atomic_store_n(&tick_probe_held, true, __ATOMIC_RELEASE);
    apic_delay_us((uint64_t)HALTED_TICKS_HOLD * 1000000 / APIC_TIMER_HZ);
    spinlock_release(&tick_probe);
}

/* Rounds of a tick's sleep the main thread may take to land on CPU 0. */
#define HALTED_TICKS_MOVES 100

/*
 * CPU 0, which counts the ticks (thread_ticks), waits for a lock the other CPU holds for
 * HALTED_TICKS_HOLD ticks, halted in the lock's queue once it has spun a little. Its interrupts are
 * off but for the halts, so each tick it takes in between, counted in its own cpu->ticks, comes in
 * a halt: the tick count must go up by as many, or every wait the count bounds (thread_sleep, the
 * stress's STRESS_WAIT_TICKS) lasts longer than it says whenever CPU 0 waits for a lock.
 */
static void check_halted_ticks(void) {
    require_two_cpus("thread_test=halted_ticks", CPUS_EXACTLY_TWO);
    /* On CPU 0 with interrupts off, so that no preemption moves the waiter away. */
    irq_save();
    for (uint32_t round = 0; cpu_this_index() != 0; round++) {
        if (round == HALTED_TICKS_MOVES) {
            panic("thread_test=halted_ticks: not on CPU 0 after %u sleeps", HALTED_TICKS_MOVES);
        }
        irq_restore();
        thread_sleep(1);
        irq_save();
    }
    struct thread *holder = thread_create("tick-probe-holder", hold_tick_probe, NULL);
    if (holder == NULL) {
        panic("thread_test=halted_ticks: cannot create the holder");
    }
    uint64_t start = cpu_rdtsc();
    while (!__atomic_load_n(&tick_probe_held, __ATOMIC_ACQUIRE)) {
        cpu_pause();
        if (cpu_rdtsc() - start > SPINLOCK_SPIN_BOUND_TSC_TICKS) {
            panic("thread_test=halted_ticks: the holder never took the lock");
        }
    }
    const struct cpu_local *cpu0 = cpu_this();
    uint64_t counted = thread_ticks();
    uint64_t taken = cpu0->ticks;
    spinlock_acquire(&tick_probe);
    counted = thread_ticks() - counted;
    taken = cpu0->ticks - taken;
    spinlock_release(&tick_probe);
    irq_restore();
    thread_join(holder);
    log_check(counted == taken && taken > 0, "halted-ticks",
              "CPU 0 took %llu timer ticks halted for a lock CPU 1 held for %u ticks; the tick "
              "count went up %llu",
              (unsigned long long)taken, HALTED_TICKS_HOLD, (unsigned long long)counted);
}

/* tlb_test=shootdown and tlb_test=unanswered */

/* The test page is at TLB_TEST_VIRT, one of the windows of layout.h (its value from machine.bzl,
 * where the boot tests read it too). */
#define TLB_TEST_MARK 0x7eadbeef5eedf00dull

static struct paging_mapper *stress_mapper; /* the kernel's, from stress_run */
static volatile uint32_t tlb_reader_cpu;    /* its CPU once the reader has read the page */
static volatile bool tlb_unmapped;
static bool tlb_reader_answers; /* false: the reader keeps its interrupts off, answering nothing */

/* Loads the test page into this CPU's TLB by reading it, waits until another CPU has unmapped it,
 * then reads it again on the same CPU: with every TLB shot down that is a page fault; a value read
 * is a stale TLB entry. Interrupts stay off but for the wait (no preemption moves it to another
 * CPU, whose TLB never held the page); tlb_test=unanswered keeps them off in the wait too. */
static void tlb_reader(void *arg) {
    (void)arg;
    volatile const uint64_t *page = (volatile const uint64_t *)(uintptr_t)TLB_TEST_VIRT;
    irq_save();
    uint32_t cpu = cpu_this_index();
    uint64_t first = *page;
    if (first != TLB_TEST_MARK) {
        panic("tlb_test: CPU %u read %llx at %p, not the mark written there", cpu,
              (unsigned long long)first, (void *)page);
    }
    __atomic_store_n(&tlb_reader_cpu, cpu, __ATOMIC_RELEASE);
    if (tlb_reader_answers) {
        irq_restore();
    }
    uint64_t start = cpu_rdtsc();
    while (!__atomic_load_n(&tlb_unmapped, __ATOMIC_ACQUIRE)) {
        cpu_pause();
        if (cpu_rdtsc() - start > SPINLOCK_SPIN_BOUND_TSC_TICKS) {
            panic("tlb_test: CPU %u waited %llu TSC ticks for the unmap (interrupts %s): the "
                  "shootdown neither ended nor gave up",
                  cpu, SPINLOCK_SPIN_BOUND_TSC_TICKS, tlb_reader_answers ? "on" : "off");
        }
    }
    if (tlb_reader_answers) {
        irq_save();
    }
    if (cpu_this_index() != cpu) {
        log_error("tlb_test: the reader moved from CPU %u to CPU %u while it waited: no test of "
                  "CPU %u's TLB",
                  cpu, cpu_this_index(), cpu);
        irq_restore();
        return;
    }
    log_info("tlb_test: CPU %u reading %p again, now unmapped", cpu, (void *)page);
    uint64_t again = *page;
    log_error("tlb_test: CPU %u read %llx at %p after its unmap: a stale TLB entry", cpu,
              (unsigned long long)again, (void *)page);
    irq_restore();
}

/*
 * One CPU (the reader) reads a page, so that its TLB holds it; another unmaps it. With the
 * shootdown the reader's next read is a page fault (the run ends in its report); without, it reads
 * the stale page (an ERROR line and a failed check). With the reader's interrupts off, the unmap's
 * shootdown gets no answer and ends, after its bound, in a panic naming the reader's CPU.
 * The page aliases a heap block's frame, which stays the block's throughout. The map and unmap
 * may run while another CPU maps a thread's stack: the mapper's lock serialises them (memory.c).
 */
static void check_tlb_shootdown(bool answers) {
    require_two_cpus(answers ? "tlb_test=shootdown" : "tlb_test=unanswered", CPUS_TWO_OR_MORE);
    uint64_t *block = kmalloc_aligned(PAGE_SIZE, PAGE_SIZE);
    struct paging_translation where;
    if (block == NULL ||
        paging_translate(stress_mapper, (uint64_t)(uintptr_t)block, &where) != PAGING_OK) {
        panic("tlb_test: no heap page to alias");
    }
    *block = TLB_TEST_MARK;
    enum paging_error result =
        paging_map_page(stress_mapper, TLB_TEST_VIRT, where.phys, memory_data_page_flags());
    if (result != PAGING_OK) {
        panic("tlb_test: mapping %p: %s", (void *)TLB_TEST_VIRT, paging_error_name(result));
    }
    tlb_reader_answers = answers;
    __atomic_store_n(&tlb_reader_cpu, UINT32_MAX, __ATOMIC_RELEASE);
    struct thread *reader = thread_create("tlb-reader", tlb_reader, NULL);
    if (reader == NULL) {
        panic("tlb_test: cannot create the reader");
    }
    uint64_t start = cpu_rdtsc();
    while (__atomic_load_n(&tlb_reader_cpu, __ATOMIC_ACQUIRE) == UINT32_MAX) {
        cpu_pause(); /* interrupts on: the reader may take this CPU, this thread another */
        if (cpu_rdtsc() - start > SPINLOCK_SPIN_BOUND_TSC_TICKS) {
            panic("tlb_test: the reader never read the page");
        }
    }
    irq_save(); /* on one CPU from here to the unmap's end */
    uint32_t reader_cpu = tlb_reader_cpu;
    if (cpu_this_index() == reader_cpu) {
        panic("tlb_test: the reader's CPU %u is the unmapping one", reader_cpu);
    }
    log_info("tlb_test: CPU %u read the page at %p (interrupts %s); CPU %u unmapping it",
             reader_cpu, (void *)TLB_TEST_VIRT, answers ? "on" : "off", cpu_this_index());
    result = paging_unmap_page(stress_mapper, TLB_TEST_VIRT, NULL);
    irq_restore();
    if (result != PAGING_OK) {
        panic("tlb_test: unmapping %p: %s", (void *)TLB_TEST_VIRT, paging_error_name(result));
    }
    __atomic_store_n(&tlb_unmapped, true, __ATOMIC_RELEASE);
    thread_join(reader);
    kfree(block);
    log_check(false, "tlb-shootdown",
              "CPU %u went on after the unmap of %p on another CPU: no page fault", reader_cpu,
              (void *)TLB_TEST_VIRT);
}

static void check_tlb_shootdown_answered(void) {
    check_tlb_shootdown(true);
}

static void check_tlb_shootdown_unanswered(void) {
    check_tlb_shootdown(false);
}

/* paging_test=concurrent */

/* The window [MAPPER_TEST_VIRT, +MAPPER_TEST_SIZE) is one page directory's reach in a PML4 slot
 * nothing else maps (layout.h): the workers' first maps race to create its PDPT and PD. */
#define MAPPER_TEST_CHUNK  PAGING_LARGE_PAGE_SIZE /* what one PT maps */
#define MAPPER_TEST_CHUNKS 64                     /* per round: 64 PTs made */
#define MAPPER_TEST_ROUNDS                        /* as many as fill the window */                 \
    ((uint32_t)(MAPPER_TEST_SIZE / (MAPPER_TEST_CHUNK * MAPPER_TEST_CHUNKS)))
#define MAPPER_TEST_PER_CPU    2
#define MAPPER_TEST_PHYS_LIMIT (1024 * 1024ull) /* frames [0, 1 MiB): mapped, never touched */
_Static_assert(MAPPER_TEST_SIZE % (MAPPER_TEST_CHUNK * MAPPER_TEST_CHUNKS) == 0,
               "the rounds must cover the mapper test window exactly");
_Static_assert(CPU_MAX <= MAPPER_TEST_CHUNK / PAGE_SIZE / MAPPER_TEST_PER_CPU,
               "each worker's page must lie in its chunk");

struct mapper_worker {
    uint32_t index;
    uint64_t maps;
    uint64_t failures; /* a map or unmap that failed, or a translation to another frame */
};

static volatile bool mapper_test_go;

/* Page @index of chunk @chunk, and the frame it maps: one of the 256 below MAPPER_TEST_PHYS_LIMIT,
 * shared by many (index, chunk) and never touched; the translation check compares with this
 * function. */
static uint64_t mapper_test_virt(uint32_t chunk, uint32_t index) {
    return MAPPER_TEST_VIRT + chunk * MAPPER_TEST_CHUNK + index * PAGE_SIZE;
}

static uint64_t mapper_test_phys(uint32_t chunk, uint32_t index) {
    return (chunk * 64ull + index) * PAGE_SIZE % MAPPER_TEST_PHYS_LIMIT;
}

/* Each round maps this worker's page of every chunk of the round (each chunk's first map makes
 * its PT: the workers race for it), checks every page translates to its frame, and unmaps them
 * (each unmap a TLB shootdown under the mapper's lock, while other CPUs wait for it). */
static void mapper_worker_main(void *arg) {
    struct mapper_worker *w = arg;
    while (!__atomic_load_n(&mapper_test_go, __ATOMIC_ACQUIRE)) {
        cpu_pause();
    }
    const uint64_t flags =
        PAGING_FLAG_PRESENT | (memory_data_page_flags() & PAGING_FLAG_NO_EXECUTE);
    for (uint32_t round = 0; round < MAPPER_TEST_ROUNDS; round++) {
        uint32_t first = round * MAPPER_TEST_CHUNKS;
        for (uint32_t chunk = first; chunk < first + MAPPER_TEST_CHUNKS; chunk++) {
            w->maps++;
            w->failures += paging_map_page(stress_mapper, mapper_test_virt(chunk, w->index),
                                           mapper_test_phys(chunk, w->index), flags) != PAGING_OK;
        }
        for (uint32_t chunk = first; chunk < first + MAPPER_TEST_CHUNKS; chunk++) {
            struct paging_translation where;
            w->failures += paging_translate(stress_mapper, mapper_test_virt(chunk, w->index),
                                            &where) != PAGING_OK ||
                           where.phys != mapper_test_phys(chunk, w->index);
        }
        for (uint32_t chunk = first; chunk < first + MAPPER_TEST_CHUNKS; chunk++) {
            w->failures += paging_unmap_page(stress_mapper, mapper_test_virt(chunk, w->index),
                                             NULL) != PAGING_OK;
        }
    }
}

/*
 * Two workers per CPU map, translate and unmap pages at once through the kernel's mapper, so
 * that calls from several CPUs meet in the same tables: without the mapper's lock two of them
 * make the same missing table, and the one linked last loses the other's page (or the frame
 * allocator hands both the same frame).
 */
static void check_mapper_concurrent(void) {
    require_two_cpus("paging_test=concurrent", CPUS_TWO_OR_MORE);
    static struct mapper_worker workers[MAPPER_TEST_PER_CPU * CPU_MAX];
    static struct thread *threads[MAPPER_TEST_PER_CPU * CPU_MAX];
    uint32_t count = MAPPER_TEST_PER_CPU * cpu_count();
    for (uint32_t i = 0; i < count; i++) {
        char name[THREAD_NAME_MAX];
        format_string(name, sizeof name, "mapper-%u", i);
        workers[i] = (struct mapper_worker){.index = i};
        threads[i] = thread_create(name, mapper_worker_main, &workers[i]);
        if (threads[i] == NULL) {
            panic("paging_test=concurrent: cannot create worker %u", i);
        }
    }
    __atomic_store_n(&mapper_test_go, true, __ATOMIC_RELEASE);
    uint64_t maps = 0;
    uint64_t failures = 0;
    for (uint32_t i = 0; i < count; i++) {
        thread_join(threads[i]);
        maps += workers[i].maps;
        failures += workers[i].failures;
    }
    log_check(failures == 0 && maps == (uint64_t)count * MAPPER_TEST_ROUNDS * MAPPER_TEST_CHUNKS,
              "paging-concurrent",
              "%u threads on %u CPUs mapped, translated and unmapped %llu pages in %u fresh 2 MiB "
              "ranges at once: %llu failed",
              count, cpu_count(), (unsigned long long)maps, MAPPER_TEST_ROUNDS * MAPPER_TEST_CHUNKS,
              (unsigned long long)failures);
}

/* paging_test=reentry */

struct reentry_probe {
    uint32_t tables;               /* tables the walk reached */
    enum paging_error from_nested; /* what the callback's own mapper call returned */
    enum paging_error after_walk;  /* the same call once the walk is over */
    uint64_t virt;                 /* a mapped address to translate: the check's own code */
};

/* The walk's table callback: a translate on the mapper the walk holds. In the kernel the mapper's
 * lock is memory_lock, a spinlock this CPU already holds: the call must be refused before it
 * spins on it, not end the boot with the spinlock's recursion panic. */
static bool reentry_table(void *ctx, int level, uint64_t table_phys) {
    (void)level;
    (void)table_phys;
    struct reentry_probe *probe = ctx;
    struct paging_translation where;
    probe->tables++;
    probe->from_nested = paging_translate(stress_mapper, probe->virt, &where);
    return false; /* one table is enough */
}

/*
 * A walk callback that calls the kernel's mapper again gets PAGING_ERR_REENTERED from the
 * library (its held hook asks memory_lock whether this CPU holds it) and the walk stops as the
 * callback says; the same call after the walk succeeds, so the lock was released and nothing is
 * left marked in progress.
 */
static void check_mapper_reentry(void) {
    struct reentry_probe probe = {
        .from_nested = PAGING_OK,
        .after_walk = PAGING_ERR_NOT_MAPPED,
        .virt = (uint64_t)(uintptr_t)check_mapper_reentry,
    };
    const struct paging_walk_visitor visitor = {.table = reentry_table, .ctx = &probe};
    enum paging_error walked = paging_walk(stress_mapper, &visitor);
    struct paging_translation where;
    probe.after_walk = paging_translate(stress_mapper, probe.virt, &where);
    log_check(walked == PAGING_OK && probe.tables == 1 &&
                  probe.from_nested == PAGING_ERR_REENTERED && probe.after_walk == PAGING_OK,
              "paging-reentry",
              "a walk callback's translate on the walk's own mapper: \"%s\"; the walk: \"%s\" "
              "after %u table; the same translate after the walk: \"%s\"",
              paging_error_name(probe.from_nested), paging_error_name(walked), probe.tables,
              paging_error_name(probe.after_walk));
}

/* stress */

static void stress(void) {
    check_try_acquire();
    run_heap_stress();
}

/* Each word of the command line this file answers, and what it runs, in the order stress_run
 * runs them (the faults do not return). */
static const struct {
    const char *word;
    void (*run)(void);
} choices[] = {
    {"fault=thread_overflow", thread_overflow},
    {"fault=deadlock", deadlock},
    {"fault=lock_recursion", lock_recursion},
    {"fault=try_recursion", try_recursion},
    {"fault=release_unheld", release_unheld},
    {"fault=irq_restore_unpaired", irq_restore_unpaired},
    {"fault=irq_restore_enabled", irq_restore_enabled},
    {"fault=main_exit", main_exit},
    {"fault=log_stuck", log_stuck},
    {"fault=log_stuck_fault", log_stuck_fault},
    {"fault=panic_while_logging", panic_while_logging},
    {"fault=panic_stops_cpus", panic_stops_cpus},
    {"fault=panic_twice", panic_twice},
    {"fault=join_twice", join_twice},
    {"fault=join_idle", join_idle},
    {"fault=join_cycle", join_cycle},
    {"fault=ipi_stuck", ipi_stuck},
    {"apic_test=icr_gap", check_icr_gap},
    {"thread_test=long_sleep", check_long_sleep},
    {"thread_test=fault_names", check_fault_names},
    {"thread_test=current", check_thread_current},
    {"thread_test=idle_wake", check_idle_wake},
    {"thread_test=sleeper_wake", check_sleeper_wake},
    {"thread_test=halted_ticks", check_halted_ticks},
    {"thread_test=held_window", check_held_window},
    {"tlb_test=shootdown", check_tlb_shootdown_answered},
    {"tlb_test=unanswered", check_tlb_shootdown_unanswered},
    {"paging_test=concurrent", check_mapper_concurrent},
    {"paging_test=reentry", check_mapper_reentry},
    {"stress", stress},
};

bool stress_requested(const char *cmdline) {
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        if (cmdline_has(cmdline, choices[i].word)) {
            return true;
        }
    }
    return false;
}

const char *stress_cmdline_word(size_t index) {
    return index < sizeof choices / sizeof choices[0] ? choices[index].word : NULL;
}

void stress_run(const char *cmdline, struct paging_mapper *mapper) {
    stress_mapper = mapper;
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        if (cmdline_has(cmdline, choices[i].word)) {
            choices[i].run();
        }
    }
}
