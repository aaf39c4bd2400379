/* The three blocks an application processor needs before it starts: its per-CPU block, its
 * descriptor tables (with the double-fault stack after them) and its idle thread. All three or
 * none: the allocations are injected, pure C, tested on the host with each one made to fail. */
#ifndef KERNEL_LIB_CPU_BLOCKS_H
#define KERNEL_LIB_CPU_BLOCKS_H

#include <stdbool.h>

struct cpu_blocks {
    void *local;  /* struct cpu_local */
    void *tables; /* struct cpu_descriptor_tables and the double-fault stack */
    void *idle;   /* struct thread */
};

/* Each allocation returns NULL when it fails. */
struct cpu_blocks_ops {
    void *(*alloc_local)(void *ctx);
    void *(*alloc_tables)(void *ctx);
    void *(*create_idle)(void *ctx);      /* made last: an idle thread is never destroyed */
    void (*free)(void *ctx, void *block); /* for the local block and the tables */
    void *ctx;
};

/* Allocates the per-CPU block, then the tables, then the idle thread. Returns true with all three
 * in *out; when one fails, frees those made before it (in reverse order), sets *out to all NULL
 * and returns false. */
bool cpu_blocks_alloc(const struct cpu_blocks_ops *ops, struct cpu_blocks *out);

#endif
