/* The TLB shootdown's decisions: which CPUs, the acknowledgements, the bounded wait (see
 * tlb_shootdown.h). */
#include "kernel/lib/tlb_shootdown.h"

#include <stdbool.h>
#include <stddef.h>

const char *tlb_shootdown_result_name(enum tlb_shootdown_result result) {
    switch (result) {
    case TLB_SHOOTDOWN_OK:
        return "ok";
    case TLB_SHOOTDOWN_UNANSWERED:
        return "not answered";
    case TLB_SHOOTDOWN_BAD_CPU:
        return "bad CPU index";
    }
    return "unknown error";
}

static bool valid(uint32_t self, uint32_t cpus_online) {
    return cpus_online > 0 && cpus_online <= TLB_SHOOTDOWN_CPUS_MAX && self < cpus_online;
}

uint64_t tlb_shootdown_targets(uint32_t self, uint32_t cpus_online) {
    if (!valid(self, cpus_online)) {
        return 0;
    }
    uint64_t online = cpus_online == 64 ? UINT64_MAX : (UINT64_C(1) << cpus_online) - 1;
    return online & ~(UINT64_C(1) << self);
}

void tlb_shootdown_answer(struct tlb_shootdown *shootdown, const struct tlb_shootdown_ops *ops,
                          uint32_t self) {
    if (self >= TLB_SHOOTDOWN_CPUS_MAX) {
        return;
    }
    uint64_t bit = UINT64_C(1) << self;
    for (uint32_t i = 0; i < TLB_SHOOTDOWN_CPUS_MAX; i++) {
        struct tlb_shootdown_request *request = &shootdown->requests[i];
        /* Acquire: kind and virt, written before pending was published, are this request's. They
         * stay so until this CPU clears its bit: the initiator posts nothing new before that. */
        if ((__atomic_load_n(&request->pending, __ATOMIC_ACQUIRE) & bit) == 0) {
            continue;
        }
        ops->flush_local(ops->ctx, request->kind, request->virt);
        /* Release: the flush is done before the initiator sees the answer. */
        __atomic_fetch_and(&request->pending, ~bit, __ATOMIC_RELEASE);
    }
}

/* The lowest set bit's index; mask is not 0. */
static uint32_t lowest_bit(uint64_t mask) {
    uint32_t index = 0;
    while ((mask & 1) == 0) {
        mask >>= 1;
        index++;
    }
    return index;
}

enum tlb_shootdown_result tlb_shootdown_run(struct tlb_shootdown *shootdown,
                                            const struct tlb_shootdown_ops *ops, uint32_t self,
                                            uint32_t cpus_online, enum tlb_flush kind,
                                            uint64_t virt, uint64_t bound, uint32_t *unanswered) {
    if (!valid(self, cpus_online)) {
        return TLB_SHOOTDOWN_BAD_CPU;
    }
    ops->flush_local(ops->ctx, kind, virt);
    uint64_t targets = tlb_shootdown_targets(self, cpus_online);
    if (targets == 0) {
        return TLB_SHOOTDOWN_OK;
    }
    struct tlb_shootdown_request *request = &shootdown->requests[self];
    request->kind = kind;
    request->virt = virt;
    /* Release: kind and virt before the names; seq_cst also orders the table change the caller
     * made before this against the targets' later walks. */
    __atomic_store_n(&request->pending, targets, __ATOMIC_SEQ_CST);
    for (uint64_t left = targets; left != 0; left &= left - 1) {
        ops->send_ipi(ops->ctx, lowest_bit(left));
    }
    uint64_t start = ops->now(ops->ctx);
    for (;;) {
        if (__atomic_load_n(&request->pending, __ATOMIC_ACQUIRE) == 0) {
            return TLB_SHOOTDOWN_OK;
        }
        tlb_shootdown_answer(shootdown, ops, self); /* another initiator may wait for this CPU */
        if (ops->now(ops->ctx) - start >= bound) {
            /* Withdrawn, so that a late answer finds nothing; an answer that came meanwhile
             * counts. */
            uint64_t left = __atomic_exchange_n(&request->pending, 0, __ATOMIC_ACQ_REL);
            if (left == 0) {
                return TLB_SHOOTDOWN_OK;
            }
            *unanswered = lowest_bit(left);
            return TLB_SHOOTDOWN_UNANSWERED;
        }
        ops->relax(ops->ctx);
    }
}
