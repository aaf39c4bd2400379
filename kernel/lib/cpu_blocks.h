/* The three blocks an application processor needs before it starts: its per-CPU block, its
 * descriptor tables (with the double-fault stack after them) and its idle thread. All three or
 * none, and all three given back for a CPU that does not start: the allocations and releases are
 * injected, pure C, tested on the host with each allocation made to fail. */
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
    void *(*create_idle)(void *ctx);      /* made last: only an idle thread that never ran can go */
    void (*free)(void *ctx, void *block); /* for the local block and the tables */
    void (*destroy_idle)(void *ctx, void *idle); /* an idle thread that never ran */
    void *ctx;
};

/* Allocates the per-CPU block, then the tables, then the idle thread. Returns true with all three
 * in *out; when one fails, frees those made before it (in reverse order), sets *out to all NULL
 * and returns false. */
bool cpu_blocks_alloc(const struct cpu_blocks_ops *ops, struct cpu_blocks *out);

/* Gives back the three blocks of a CPU that never ran on them (one held in INIT after its start
 * timed out), in the reverse order of their allocation: the idle thread, the tables, the per-CPU
 * block. Sets *blocks to all NULL. */
void cpu_blocks_release(const struct cpu_blocks_ops *ops, struct cpu_blocks *blocks);

#endif
