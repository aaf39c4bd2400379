/* The TLB shootdown's decisions, with its hardware injected: pure C, tested on the host with a
 * simulated set of CPUs.
 *
 * All CPUs share one set of page tables, and invlpg or a CR3/CR4 reload reaches only the CPU that
 * runs it. So after a change to the tables that needs a flush (an entry unmapped, an intermediate
 * entry widened), the changing CPU, the initiator, flushes its own TLB, posts a request (the page,
 * or everything) naming every other online CPU, sends each an IPI, and waits until each has
 * flushed and cleared its name from the request. A CPU answers in its IPI handler
 * (tlb_shootdown_answer), which looks at every initiator's request.
 *
 * Deadlocks, and the rule that avoids them. A CPU answers only while its interrupts are on.
 *  - Two initiators at once would each wait, interrupts off, for the other: an initiator answers
 *    every request naming it while it waits, so both go on.
 *  - A CPU waiting for a spinlock the initiator holds: the kernel's spinlocks halt their waiters
 *    with interrupts on (kernel/spinlock.c), where they take the IPI. So the mapper's callers may
 *    hold spinlocks.
 *  - A CPU that keeps its interrupts off without waiting for a lock, for longer than the wait's
 *    bound: tlb_shootdown_run gives up after the bound and names the first CPU that did not answer;
 *    the kernel panics with it. A deadlock ends in a report, never a silent hang.
 */
#ifndef KERNEL_LIB_TLB_SHOOTDOWN_H
#define KERNEL_LIB_TLB_SHOOTDOWN_H

#include <stdint.h>

/* CPUs a request can name: one bit each in its pending mask. */
#define TLB_SHOOTDOWN_CPUS_MAX 64u

enum tlb_flush {
    TLB_FLUSH_PAGE, /* the one page at virt */
    TLB_FLUSH_ALL,  /* every entry, global ones included, and the paging-structure caches */
};

/* One initiator's request; the initiator writes kind and virt before it publishes pending. */
struct tlb_shootdown_request {
    uint64_t pending; /* bit i: CPU i has not flushed yet; read and written atomically */
    enum tlb_flush kind;
    uint64_t virt;
};

/* Every CPU's request, by the index of the CPU that posts it. Zero-initialised: nothing pending. */
struct tlb_shootdown {
    struct tlb_shootdown_request requests[TLB_SHOOTDOWN_CPUS_MAX];
};

/* The hardware, for the CPU that calls. */
struct tlb_shootdown_ops {
    void (*flush_local)(void *ctx, enum tlb_flush kind, uint64_t virt); /* on the calling CPU */
    void (*send_ipi)(void *ctx, uint32_t cpu_index); /* the shootdown IPI to that CPU */
    uint64_t (*now)(void *ctx);                      /* a clock, in the unit of the bound */
    void (*relax)(void *ctx);                        /* one round of the wait (a pause) */
    void *ctx;
};

enum tlb_shootdown_result {
    TLB_SHOOTDOWN_OK = 0,
    /* "not answered": a CPU did not flush within the bound; the request was withdrawn. */
    TLB_SHOOTDOWN_UNANSWERED,
    /* "bad CPU index": the caller's index is not below cpus_online, or cpus_online is 0 or above
     * TLB_SHOOTDOWN_CPUS_MAX. Nothing was flushed or sent. */
    TLB_SHOOTDOWN_BAD_CPU,
};

/* A short English name of a result ("ok" for TLB_SHOOTDOWN_OK, "unknown error" outside the enum).
 */
const char *tlb_shootdown_result_name(enum tlb_shootdown_result result);

/* The CPUs a shootdown by CPU self waits for when CPUs [0, cpus_online) run: every one but self,
 * as a mask (bit i for CPU i). 0 for bad input (see TLB_SHOOTDOWN_BAD_CPU). */
uint64_t tlb_shootdown_targets(uint32_t self, uint32_t cpus_online);

/* Flushes (kind, virt) on the calling CPU self, then on every other of the cpus_online CPUs by a
 * request and an IPI each, and waits until each has flushed, answering requests that name self
 * meanwhile. Returns TLB_SHOOTDOWN_OK once all have; TLB_SHOOTDOWN_UNANSWERED when bound (in
 * ops->now's unit) passes first, with *unanswered the lowest index of a CPU that had not flushed;
 * TLB_SHOOTDOWN_BAD_CPU for bad input. The caller must stay on CPU self throughout (interrupts
 * off) and run one shootdown at a time per CPU. */
enum tlb_shootdown_result tlb_shootdown_run(struct tlb_shootdown *shootdown,
                                            const struct tlb_shootdown_ops *ops, uint32_t self,
                                            uint32_t cpus_online, enum tlb_flush kind,
                                            uint64_t virt, uint64_t bound, uint32_t *unanswered);

/* CPU self flushes what every request naming it asks for and clears its name from each: the IPI
 * handler's work, and an initiator's while it waits. Self at or above TLB_SHOOTDOWN_CPUS_MAX is
 * named by no request: nothing happens. */
void tlb_shootdown_answer(struct tlb_shootdown *shootdown, const struct tlb_shootdown_ops *ops,
                          uint32_t self);

#endif
