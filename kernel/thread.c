/* Kernel threads and the scheduler (see thread.h).
 *
 * The scheduler lock is held across every context switch and released by the thread switched
 * to, so no other CPU can pick a thread up before its registers are saved. A new thread starts
 * in thread_bootstrap (smp.asm), whose call to thread_start releases that lock for it. */
#include "kernel/thread.h"

#include <stddef.h>

#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/kmalloc.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/memory.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"

/* Thread stacks live in THREAD_SLOTS slots of THREAD_SLOT_SIZE bytes from THREAD_STACKS_VIRT
 * (layout.h): the first page of a slot is the guard page (never mapped), the next STACK_PAGES pages
 * are the stack; the rest of the slot stays unmapped. A slot keeps its pages when its thread is
 * joined and serves the next thread, so no mapping is ever removed and no other CPU's TLB needs
 * flushing. */
#define STACK_PAGES 4
_Static_assert((1 + STACK_PAGES) * PAGE_SIZE <= THREAD_SLOT_SIZE,
               "a slot must hold the guard page and the stack");

enum thread_state {
    THREAD_RUNNABLE,
    THREAD_RUNNING,
    THREAD_BLOCKED, /* in thread_join */
    THREAD_SLEEPING,
    THREAD_EXITED,
};

struct thread {
    uint64_t saved_rsp; /* while switched out; context_switch's frame is at this address */
    enum thread_state state;
    bool idle;
    int slot; /* stack slot, or -1 for "main" on the boot stack */
    uint32_t id;
    thread_fn fn;
    void *arg;
    struct thread *next; /* run queue or sleepers */
    struct thread *joiner;
    struct thread *joining; /* the thread this one waits for in thread_join, or NULL */
    uint64_t wake_tick;
    char name[THREAD_NAME_MAX];
};

/* smp.asm */
void context_switch(uint64_t *save_rsp, uint64_t load_rsp);
extern char thread_bootstrap[];

static struct spinlock sched_lock = SPINLOCK_INIT("scheduler");
static struct thread *run_head, *run_tail;
static struct thread *sleepers;
static uint64_t ticks;
static uint32_t next_id;
static void (*tick_hook)(void);

/* The stack slots: who owns each, and whether its pages are mapped. The mappings themselves are
 * serialised by the memory lock the mapper and memory_frame_allocate take (memory.h); a slot is
 * mapped by its owner only, outside stacks_lock. */
static struct spinlock stacks_lock = SPINLOCK_INIT("thread stacks");
static struct kernel_memory *stack_memory;
static struct thread *slot_owner[THREAD_SLOTS];
static bool slot_mapped[THREAD_SLOTS];

static uint64_t slot_base(int slot) {
    return THREAD_STACKS_VIRT + (uint64_t)slot * THREAD_SLOT_SIZE;
}

uint64_t thread_stack_top(const struct thread *t) {
    return thread_stack_bottom(t) + STACK_PAGES * PAGE_SIZE;
}

uint64_t thread_stack_bottom(const struct thread *t) {
    return slot_base(t->slot) + PAGE_SIZE;
}

static bool map_slot(int slot) {
    for (uint64_t page = 0; page < STACK_PAGES; page++) {
        uint64_t virt = slot_base(slot) + PAGE_SIZE * (1 + page);
        uint64_t phys = memory_frame_allocate(stack_memory);
        if (phys == FRAME_ALLOCATOR_NO_FRAME) {
            log_warn("thread: no frame left for a stack page at %p", (void *)virt);
            return false; /* pages mapped so far stay; the next use of the slot maps them again */
        }
        enum paging_error result =
            paging_map_page(&stack_memory->mapper, virt, phys, memory_data_page_flags());
        if (result == PAGING_OK) {
            continue;
        }
        enum frame_allocator_error freed = memory_frame_free(stack_memory, phys);
        if (freed != FRAME_ALLOCATOR_OK) { /* the allocator just handed it out */
            panic("map_slot: freeing frame %p: %s", (void *)phys,
                  frame_allocator_error_name(freed));
        }
        if (result != PAGING_ERR_ALREADY_MAPPED) {
            log_warn("thread: mapping stack page %p: %s", (void *)virt, paging_error_name(result));
            return false;
        }
    }
    return true;
}

/* Takes a free slot for t, mapping its stack on first use; -1 when none is left or its stack
 * cannot be mapped. The slot is t's while it is mapped, so no other creator maps it at once. */
static int slot_take(struct thread *t) {
    spinlock_acquire(&stacks_lock);
    int found = -1;
    for (int slot = 0; slot < THREAD_SLOTS; slot++) {
        if (slot_owner[slot] == NULL) {
            found = slot;
            break;
        }
    }
    bool needs_map = found >= 0 && !slot_mapped[found];
    if (found >= 0) {
        slot_owner[found] = t;
    }
    spinlock_release(&stacks_lock);
    if (!needs_map) {
        return found;
    }
    bool mapped = map_slot(found);
    spinlock_acquire(&stacks_lock);
    slot_mapped[found] = mapped;
    if (!mapped) {
        slot_owner[found] = NULL;
    }
    spinlock_release(&stacks_lock);
    return mapped ? found : -1;
}

static void slot_give_back(int slot) {
    spinlock_acquire(&stacks_lock);
    slot_owner[slot] = NULL;
    spinlock_release(&stacks_lock);
}

size_t thread_slots_in_use(void) {
    spinlock_acquire(&stacks_lock);
    size_t in_use = 0;
    for (int slot = 0; slot < THREAD_SLOTS; slot++) {
        in_use += slot_owner[slot] != NULL;
    }
    spinlock_release(&stacks_lock);
    return in_use;
}

/* How often thread_describe_address tries stacks_lock: it is held for a few hundred instructions
 * (never across a stack mapping, slot_take), so this is many holds' worth. */
#define DESCRIBE_LOCK_TRIES 100000

bool thread_describe_address(uint64_t address, char *out, size_t size) {
    if (address < THREAD_STACKS_VIRT || address >= THREAD_STACKS_VIRT + THREAD_STACKS_SIZE) {
        return false;
    }
    uint64_t slot = (address - THREAD_STACKS_VIRT) / THREAD_SLOT_SIZE;
    uint64_t offset = (address - THREAD_STACKS_VIRT) % THREAD_SLOT_SIZE;
    /* The owner's name is copied under stacks_lock: a joiner on another CPU frees the owner as
     * soon as it has given the slot back (thread_join). A fault report must not wait for ever, as
     * this CPU or a stuck one may hold the lock: it tries for a while, then names no owner. */
    char name[THREAD_NAME_MAX] = "(unknown: lock busy)";
    for (int tries = 0; tries < DESCRIBE_LOCK_TRIES && !spinlock_held_by_this_cpu(&stacks_lock);
         tries++) {
        if (spinlock_try_acquire(&stacks_lock)) {
            const struct thread *owner = slot_owner[slot];
            format_string(name, sizeof name, "%s", owner != NULL ? owner->name : "(none)");
            spinlock_release(&stacks_lock);
            break;
        }
        cpu_pause();
    }
    if (offset < PAGE_SIZE) {
        format_string(out, size, "guard page of thread \"%s\": thread stack overflow", name);
    } else if (offset < PAGE_SIZE * (1 + STACK_PAGES)) {
        format_string(out, size, "stack of thread \"%s\"", name);
    } else {
        format_string(out, size, "unmapped gap above the stack of \"%s\"", name);
    }
    return true;
}

/* Run queue and scheduling; all under sched_lock. */

static void run_queue_push(struct thread *t) {
    t->next = NULL;
    if (run_tail != NULL) {
        run_tail->next = t;
    } else {
        run_head = t;
    }
    run_tail = t;
}

static struct thread *run_queue_pop(void) {
    struct thread *t = run_head;
    if (t != NULL) {
        run_head = t->next;
        if (run_head == NULL) {
            run_tail = NULL;
        }
        t->next = NULL;
    }
    return t;
}

/* Switches to the next runnable thread, or to the idle thread when there is none and the current
 * one cannot go on. The caller holds sched_lock and no other lock, and has set the current
 * thread's state (and queued it if it stays runnable). */
static void schedule(void) {
    struct cpu_local *cpu = cpu_this();
    if (cpu->irq_off_depth != 1 || !spinlock_held_by_this_cpu(&sched_lock)) {
        panic("schedule: on CPU %u with %u nested lock levels; only the scheduler lock may be held",
              cpu->index, cpu->irq_off_depth);
    }
    struct thread *prev = cpu->current;
    struct thread *next = run_queue_pop();
    if (next == NULL) {
        if (prev->state == THREAD_RUNNING) {
            return;
        }
        next = cpu->idle;
    }
    next->state = THREAD_RUNNING;
    if (next == prev) {
        return;
    }
    cpu->current = next;
    /* Whether interrupts were on belongs to the thread, not the CPU it resumes on. */
    bool were_enabled = cpu->irq_were_enabled;
    context_switch(&prev->saved_rsp, next->saved_rsp);
    cpu_this()->irq_were_enabled = were_enabled;
}

/*
 * A thread starts or resumes running on this CPU: a heap cache left cold by an idle flush is
 * stocked now, if the heap's lock is free at once, rather than at the thread's first allocation,
 * when the CPUs woken together with this one would all take the heap's lock at the same moment.
 * (A thread that moves to another CPU between the check and the warm-up warms that CPU's cache:
 * as good.)
 */
static void running_again(void) {
    if (!thread_current()->idle) {
        kheap_cpu_cache_warm();
    }
}

/* First code of every new thread, entered from thread_bootstrap with sched_lock held. */
__attribute__((noreturn)) void thread_start(struct thread *t);
void thread_start(struct thread *t) {
    spinlock_release(&sched_lock);
    cpu_enable_interrupts();
    running_again();
    t->fn(t->arg);
    thread_exit();
}

static struct thread *thread_alloc(const char *name, thread_fn fn, void *arg, bool idle) {
    struct thread *t = kcalloc(1, sizeof *t);
    if (t == NULL) {
        log_warn("thread: no heap memory for the control block of \"%s\"", name);
        return NULL;
    }
    size_t len = strlen(name);
    if (len >= THREAD_NAME_MAX) {
        len = THREAD_NAME_MAX - 1;
    }
    memcpy(t->name, name, len);
    t->name[len] = '\0';
    t->fn = fn;
    t->arg = arg;
    t->idle = idle;
    t->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    t->slot = slot_take(t);
    if (t->slot < 0) {
        log_warn("thread: no stack for \"%s\"", name);
        kfree(t);
        return NULL;
    }
    /* The frame context_switch pops (r15 first, rbp last; r12 holds the thread), then returns to
     * thread_bootstrap with the stack 8 mod 16, as after a call; thread_bootstrap aligns it. */
    uint64_t *sp = (uint64_t *)(uintptr_t)thread_stack_top(t);
    *--sp = 0; /* keeps the bootstrap's stack aligned as a call would */
    *--sp = (uint64_t)(uintptr_t)thread_bootstrap;
    *--sp = 0;                      /* rbp */
    *--sp = 0;                      /* rbx */
    *--sp = (uint64_t)(uintptr_t)t; /* r12 */
    *--sp = 0;                      /* r13 */
    *--sp = 0;                      /* r14 */
    *--sp = 0;                      /* r15 */
    t->saved_rsp = (uint64_t)(uintptr_t)sp;
    return t;
}

/* An idle CPU halts until its next timer tick; a thread made runnable (new, woken from a sleep,
 * or a joiner whose thread exited) should not wait that long. */
static void wake_idle_cpus(void) {
    /* Interrupts off, so that the caller stays on the CPU it skips as its own (as thread_current):
     * preempted and moved, it would skip the CPU it left, which may then idle, and not wake it. */
    irq_save();
    uint32_t count = cpu_count();
    struct cpu_local *me = cpu_this();
    for (uint32_t i = 0; i < count; i++) {
        struct cpu_local *cpu = cpu_by_index(i);
        if (cpu != me && cpu->current == cpu->idle) {
            apic_send_wakeup(cpu->apic_id);
        }
    }
    irq_restore();
}

struct thread *thread_create(const char *name, thread_fn fn, void *arg) {
    struct thread *t = thread_alloc(name, fn, arg, false);
    if (t == NULL) {
        return NULL;
    }
    spinlock_acquire(&sched_lock);
    t->state = THREAD_RUNNABLE;
    run_queue_push(t);
    spinlock_release(&sched_lock);
    wake_idle_cpus();
    return t;
}

static void idle_thread_main(void *arg) {
    (void)arg;
    thread_idle_loop();
}

struct thread *thread_create_idle(uint32_t cpu_index) {
    char name[THREAD_NAME_MAX];
    format_string(name, sizeof name, "idle-%u", cpu_index);
    struct thread *t = thread_alloc(name, idle_thread_main, NULL, true);
    if (t != NULL) {
        t->state = THREAD_RUNNABLE;
    }
    return t;
}

void thread_destroy_unstarted_idle(struct thread *t) {
    if (!t->idle || t->state != THREAD_RUNNABLE || t->slot < 0) {
        panic("thread_destroy_unstarted_idle: \"%s\" is not an idle thread that never ran",
              t->name);
    }
    slot_give_back(t->slot);
    kfree(t);
}

/* Timer ticks (APIC_TIMER_HZ a second) a CPU stays idle before its cached heap blocks go back: a
 * CPU that idles only between two threads keeps its cache warm, and a flush never comes in the
 * middle of work. */
#define IDLE_TICKS_BEFORE_CACHE_FLUSH 2

/* thread_widen_idle_window_for_test's window (0 outside that check), and the wake-ups that came
 * in it: taken there (the halt after it then waits for a tick), or kept pending to end the halt. */
static volatile uint64_t idle_window_us;
static uint32_t idle_window_wakeups_taken;
static uint32_t idle_window_wakeups_kept;

void thread_widen_idle_window_for_test(uint64_t microseconds) {
    __atomic_store_n(&idle_window_wakeups_taken, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&idle_window_wakeups_kept, 0, __ATOMIC_RELAXED);
    idle_window_us = microseconds;
}

void thread_idle_window_wakeups_for_test(uint32_t *taken, uint32_t *kept) {
    *taken = __atomic_load_n(&idle_window_wakeups_taken, __ATOMIC_RELAXED);
    *kept = __atomic_load_n(&idle_window_wakeups_kept, __ATOMIC_RELAXED);
}

static void idle_window_for_test(const struct cpu_local *cpu) {
    uint64_t wakeups = __atomic_load_n(&cpu->wakeups, __ATOMIC_RELAXED);
    apic_delay_us(idle_window_us);
    if (__atomic_load_n(&cpu->wakeups, __ATOMIC_RELAXED) != wakeups) {
        __atomic_fetch_add(&idle_window_wakeups_taken, 1, __ATOMIC_RELAXED);
    } else if (apic_wakeup_pending()) {
        __atomic_fetch_add(&idle_window_wakeups_kept, 1, __ATOMIC_RELAXED);
    }
}

void thread_idle_loop(void) {
    struct cpu_local *cpu = cpu_this();
    uint64_t idle_since = __atomic_load_n(&cpu->ticks, __ATOMIC_RELAXED);
    bool flushed = false;
    for (;;) {
        if (__atomic_load_n(&run_head, __ATOMIC_RELAXED) != NULL) {
            thread_yield();
            idle_since = __atomic_load_n(&cpu->ticks, __ATOMIC_RELAXED);
            flushed = false;
        }
        /* Still nothing to run: this CPU's cached heap blocks go back where other CPUs can use
         * them, once per idle spell (what interrupt handlers allocate meanwhile stays cached). */
        if (!flushed && __atomic_load_n(&cpu->ticks, __ATOMIC_RELAXED) - idle_since >=
                            IDLE_TICKS_BEFORE_CACHE_FLUSH) {
            kheap_cpu_cache_flush();
            flushed = true;
        }
        /*
         * The last look at the run queue, with interrupts off until the halt (STI's shadow makes
         * enabling them and halting one step): a wake-up sent after this look stays pending and
         * ends the halt, where with interrupts on it would be taken before the halt, and the CPU
         * would sleep until its next tick with a thread waiting.
         */
        cpu_disable_interrupts();
        if (__atomic_load_n(&run_head, __ATOMIC_RELAXED) != NULL) {
            cpu_enable_interrupts();
            continue;
        }
        if (idle_window_us != 0) {
            idle_window_for_test(cpu);
        }
        cpu_enable_interrupts_and_halt();
    }
}

bool threads_init(struct kernel_memory *memory) {
    stack_memory = memory;
    struct thread *main_thread = kcalloc(1, sizeof *main_thread);
    if (main_thread == NULL) {
        log_error("thread: no heap memory for the main thread");
        return false;
    }
    memcpy(main_thread->name, "main", 5);
    main_thread->slot = -1;
    main_thread->state = THREAD_RUNNING;
    main_thread->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    struct cpu_local *cpu = cpu_this();
    cpu->current = main_thread;
    cpu->idle = thread_create_idle(cpu->index);
    if (cpu->idle == NULL) {
        log_error("thread: no idle thread for CPU %u", cpu->index);
        return false;
    }
    log_info("thread: main thread adopted on CPU %u; stacks of %u pages with a guard page, in "
             "slots of %llu KiB from %p",
             cpu->index, STACK_PAGES, THREAD_SLOT_SIZE / 1024, (void *)THREAD_STACKS_VIRT);
    return true;
}

void thread_exit(void) {
    spinlock_acquire(&sched_lock);
    struct thread *self = cpu_this()->current;
    if (self->idle || self->slot < 0) {
        panic("thread_exit: \"%s\" may not exit", self->name);
    }
    self->state = THREAD_EXITED;
    if (self->joiner != NULL) {
        self->joiner->state = THREAD_RUNNABLE;
        run_queue_push(self->joiner);
        /* Under sched_lock: a CPU woken waits for it, then finds the joiner queued. */
        wake_idle_cpus();
    }
    schedule();
    panic("thread_exit: \"%s\" ran again after exiting", self->name);
}

/* Refuses a join that would wait for ever or touch freed memory, and takes t for the caller: from
 * here on no other join may have it. Called with sched_lock held. t is looked up among the slot
 * owners, comparing pointers, before it is read: a joined thread's control block is freed, and
 * its slot given back (under stacks_lock, held here) before that, so a thread found there is
 * still allocated. A handle whose block the heap has since given to a new thread is that thread's
 * now: a pointer cannot tell them apart. */
static void claim_for_join(struct thread *self, struct thread *t) {
    spinlock_acquire(&stacks_lock);
    bool owner = false;
    for (int slot = 0; slot < THREAD_SLOTS && !owner; slot++) {
        owner = t != NULL && slot_owner[slot] == t;
    }
    if (!owner) {
        panic("thread_join: %p is not a thread that thread_create made and no join has taken",
              (void *)t);
    }
    if (t == self || t->idle) {
        panic("thread_join: \"%s\" cannot join \"%s\", which never exits", self->name, t->name);
    }
    if (t->joiner != NULL) {
        panic("thread_join: \"%s\" cannot join \"%s\", which \"%s\" joins", self->name, t->name,
              t->joiner->name);
    }
    /* t may itself wait in a join, and that thread in another: if the chain leads back to the
     * caller, no thread in it can ever exit. Each join is checked here, so the chains never hold
     * a cycle and the walk ends; each thread in one is blocked or still allocated (a joined
     * thread is freed only once its joiner has stopped waiting). */
    for (const struct thread *waiter = t; waiter->joining != NULL; waiter = waiter->joining) {
        if (waiter->joining == self) {
            panic("thread_join: \"%s\" cannot join \"%s\", which waits for \"%s\" to exit: a "
                  "deadlock",
                  self->name, t->name, self->name);
        }
    }
    t->joiner = self;
    spinlock_release(&stacks_lock);
}

void thread_join(struct thread *t) {
    spinlock_acquire(&sched_lock);
    struct thread *self = cpu_this()->current;
    claim_for_join(self, t);
    self->joining = t;
    while (t->state != THREAD_EXITED) {
        self->state = THREAD_BLOCKED;
        schedule();
    }
    self->joining = NULL;
    spinlock_release(&sched_lock);
    running_again();
    slot_give_back(t->slot);
    kfree(t);
}

void thread_yield(void) {
    spinlock_acquire(&sched_lock);
    struct thread *self = cpu_this()->current;
    if (!self->idle) {
        self->state = THREAD_RUNNABLE;
        run_queue_push(self);
    }
    schedule();
    spinlock_release(&sched_lock);
    running_again();
}

void thread_sleep(uint64_t count) {
    spinlock_acquire(&sched_lock);
    struct thread *self = cpu_this()->current;
    uint64_t now = thread_ticks();
    /* A wake tick past 2^64 would wrap into the past and wake at once: the last tick is as good as
     * never. */
    self->wake_tick = count > UINT64_MAX - now ? UINT64_MAX : now + count;
    self->state = THREAD_SLEEPING;
    self->next = sleepers;
    sleepers = self;
    schedule();
    spinlock_release(&sched_lock);
    running_again();
}

struct thread *thread_current(void) {
    /* Finding this CPU and reading its thread are two loads: a preemption between them can move
     * the caller to another CPU, and the second load would then read the thread now running on the
     * CPU it left. With interrupts off the caller stays where it is. */
    irq_save();
    struct thread *self = cpu_this()->current;
    irq_restore();
    return self;
}

const char *thread_name(const struct thread *t) {
    return t->name;
}

uint64_t thread_ticks(void) {
    return __atomic_load_n(&ticks, __ATOMIC_RELAXED);
}

void thread_set_tick_hook(void (*hook)(void)) {
    __atomic_store_n(&tick_hook, hook, __ATOMIC_RELEASE);
}

static void wake_sleepers(void) {
    spinlock_acquire(&sched_lock);
    uint64_t now = thread_ticks();
    bool woken = false;
    struct thread **link = &sleepers;
    while (*link != NULL) {
        struct thread *t = *link;
        if (t->wake_tick <= now) {
            *link = t->next;
            t->state = THREAD_RUNNABLE;
            run_queue_push(t);
            woken = true;
        } else {
            link = &t->next;
        }
    }
    spinlock_release(&sched_lock);
    if (woken) {
        wake_idle_cpus();
    }
}

void thread_timer_tick(void) {
    struct cpu_local *cpu = cpu_this();
    cpu->ticks++;
    if (cpu->index == 0) {
        /* Counted even while halted in a lock's queue (below): the count is the clock of every
         * wait bounded in ticks, and adding to it takes no lock. */
        __atomic_fetch_add(&ticks, 1, __ATOMIC_RELAXED);
    }
    if (cpu->waiting_lock != NULL) {
        /* The tick came while this CPU halts in a lock's queue, perhaps a lock this handler would
         * take: only the spin bound's clock check runs (in spinlock_acquire). Sleepers due now
         * wake at CPU 0's next tick outside a lock's queue. */
        return;
    }
    if (cpu->index == 0 && __atomic_load_n(&sleepers, __ATOMIC_RELAXED) != NULL) {
        wake_sleepers();
    }
    void (*hook)(void) = __atomic_load_n(&tick_hook, __ATOMIC_ACQUIRE);
    if (hook != NULL) {
        hook();
    }
    /* Preempt only when another thread waits: an unlocked peek, since a thread queued just after
     * it is picked up at the next tick or by an idle CPU's next look. */
    if (cpu->current != NULL && __atomic_load_n(&run_head, __ATOMIC_RELAXED) != NULL) {
        thread_yield();
    }
}
