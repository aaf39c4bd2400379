/* A panic's stop of the other CPUs (see cpu_stop.h). */
#include "kernel/lib/cpu_stop.h"

/* What a stop has sent so far. */
struct cover {
    uint32_t covered;  /* CPUs [0, covered) have had their NMI (or none could go) */
    bool nmi_delivers; /* no send has failed */
};

/* Reads the count and sends an NMI to each CPU registered since the last read but self; returns
 * the count. */
static uint32_t cover_registered(const struct cpu_stop_ops *ops, uint32_t self,
                                 struct cover *cover) {
    uint32_t count = ops->count(ops->ctx);
    for (; cover->covered < count; cover->covered++) {
        if (cover->covered != self && cover->nmi_delivers) {
            cover->nmi_delivers = ops->send_nmi(ops->ctx, cover->covered);
        }
    }
    return count;
}

/* The tally of CPUs [0, count) but self. */
static struct cpu_stop_tally tally(const struct cpu_stop_ops *ops, uint32_t self, uint32_t count) {
    struct cpu_stop_tally result = {0, 0};
    for (uint32_t i = 0; i < count; i++) {
        if (i != self) {
            result.others++;
            result.stopped += ops->stopped(ops->ctx, i);
        }
    }
    return result;
}

struct cpu_stop_tally cpu_stop_others(const struct cpu_stop_ops *ops, uint32_t self,
                                      uint32_t rounds) {
    struct cover cover = {0, true};
    for (uint32_t round = 0;; round++) {
        uint32_t count = cover_registered(ops, self, &cover);
        struct cpu_stop_tally now = tally(ops, self, count);
        /* The count read after the flags: once the registrar's flag is seen, so is its last
         * registration. */
        if ((now.stopped == now.others && ops->count(ops->ctx) == count) || round == rounds) {
            break;
        }
        ops->wait(ops->ctx);
    }
    /* Past the bound, a CPU registered since the last read still gets its NMI, and is counted
     * (as stopped only if it has). */
    return tally(ops, self, cover_registered(ops, self, &cover));
}
