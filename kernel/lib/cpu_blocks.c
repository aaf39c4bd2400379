/* The blocks of an application processor (see cpu_blocks.h). */
#include "kernel/lib/cpu_blocks.h"

#include <stddef.h>

bool cpu_blocks_alloc(const struct cpu_blocks_ops *ops, struct cpu_blocks *out) {
    *out = (struct cpu_blocks){NULL, NULL, NULL};
    void *local = ops->alloc_local(ops->ctx);
    if (local == NULL) {
        return false;
    }
    void *tables = ops->alloc_tables(ops->ctx);
    if (tables == NULL) {
        ops->free(ops->ctx, local);
        return false;
    }
    void *idle = ops->create_idle(ops->ctx);
    if (idle == NULL) {
        ops->free(ops->ctx, tables);
        ops->free(ops->ctx, local);
        return false;
    }
    *out = (struct cpu_blocks){local, tables, idle};
    return true;
}

void cpu_blocks_release(const struct cpu_blocks_ops *ops, struct cpu_blocks *blocks) {
    ops->destroy_idle(ops->ctx, blocks->idle);
    ops->free(ops->ctx, blocks->tables);
    ops->free(ops->ctx, blocks->local);
    *blocks = (struct cpu_blocks){NULL, NULL, NULL};
}
