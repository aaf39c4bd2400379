/* Host tests of the allocation and release of an application processor's blocks (cpu_blocks.h)
 * over a fake allocator that counts its live blocks and can be told which allocation fails. */
#include "kernel/lib/cpu_blocks.h"

#include <stdint.h>
#include <stdlib.h>

#include "tests/support/check.h"

enum kind { LOCAL, TABLES, IDLE, KINDS };

struct fake {
    int fail;         /* the kind whose allocation returns NULL, or -1 */
    int calls[KINDS]; /* allocations asked for, by kind */
    int live[KINDS];  /* allocated and not freed, by kind */
    int order[KINDS]; /* the kinds in the order they were asked for */
    int asked;
    int freed_order[KINDS];
    int freed;
    int bad_frees; /* free of an idle thread or destroy of a non-idle one, or of a block not live */
    void *blocks[KINDS];
};

static void *fake_alloc(struct fake *f, enum kind kind) {
    f->calls[kind]++;
    f->order[f->asked++ % KINDS] = kind;
    if ((int)kind == f->fail) {
        return NULL;
    }
    f->live[kind]++;
    f->blocks[kind] = malloc(16);
    return f->blocks[kind];
}

static void *fake_local(void *ctx) {
    return fake_alloc(ctx, LOCAL);
}
static void *fake_tables(void *ctx) {
    return fake_alloc(ctx, TABLES);
}
static void *fake_idle(void *ctx) {
    return fake_alloc(ctx, IDLE);
}

static void fake_free(void *ctx, void *block) {
    struct fake *f = ctx;
    for (int kind = LOCAL; kind < IDLE; kind++) {
        if (block != NULL && block == f->blocks[kind] && f->live[kind] > 0) {
            f->live[kind]--;
            f->freed_order[f->freed++ % KINDS] = kind;
            f->blocks[kind] = NULL;
            free(block);
            return;
        }
    }
    f->bad_frees++;
}

static void fake_destroy_idle(void *ctx, void *idle) {
    struct fake *f = ctx;
    if (idle != NULL && idle == f->blocks[IDLE] && f->live[IDLE] > 0) {
        f->live[IDLE]--;
        f->freed_order[f->freed++ % KINDS] = IDLE;
        f->blocks[IDLE] = NULL;
        free(idle);
        return;
    }
    f->bad_frees++;
}

static const struct cpu_blocks_ops *ops_for(struct fake *f, struct cpu_blocks_ops *ops) {
    *ops = (struct cpu_blocks_ops){fake_local, fake_tables,       fake_idle,
                                   fake_free,  fake_destroy_idle, f};
    return ops;
}

static bool alloc_with(struct fake *f, struct cpu_blocks *out) {
    struct cpu_blocks_ops ops;
    return cpu_blocks_alloc(ops_for(f, &ops), out);
}

static void release(struct fake *f) {
    for (int kind = LOCAL; kind < KINDS; kind++) {
        free(f->blocks[kind]);
    }
}

/* Nothing fails.
 * Expect true, the three blocks in *out, each allocated once, the idle thread last, none freed. */
static int all_succeed_check(void) {
    struct fake f = {.fail = -1};
    struct cpu_blocks out;
    ASSERT_TRUE(alloc_with(&f, &out));
    ASSERT_TRUE(out.local == f.blocks[LOCAL] && out.tables == f.blocks[TABLES] &&
                out.idle == f.blocks[IDLE]);
    for (int kind = LOCAL; kind < KINDS; kind++) {
        ASSERT_EQ(1, f.calls[kind]);
        ASSERT_EQ(1, f.live[kind]);
    }
    ASSERT_EQ(IDLE, f.order[2]);
    ASSERT_EQ(0, f.freed);
    release(&f);
    return 0;
}

/* Each of the three allocations made to fail in turn.
 * Expect false, *out all NULL, nothing left live (no idle thread made once an earlier block
 * failed), the blocks made before the failure freed in reverse order, no bad free. */
static int each_failure_leaves_nothing_check(void) {
    for (int fail = LOCAL; fail < KINDS; fail++) {
        struct fake f = {.fail = fail};
        /* Not NULL before: the call itself must clear what a caller may read after a failure. */
        struct cpu_blocks out = {(void *)1, (void *)1, (void *)1};
        ASSERT_FALSE(alloc_with(&f, &out));
        ASSERT_EQ(0, f.live[LOCAL]);
        ASSERT_EQ(0, f.live[TABLES]);
        ASSERT_EQ(0, f.live[IDLE]);
        ASSERT_TRUE(out.local == NULL && out.tables == NULL && out.idle == NULL);
        ASSERT_EQ(0, f.bad_frees);
        ASSERT_EQ(fail, f.freed);
        if (fail == IDLE) {
            ASSERT_EQ(TABLES, f.freed_order[0]);
            ASSERT_EQ(LOCAL, f.freed_order[1]);
        }
        release(&f);
    }
    return 0;
}

/* The three blocks allocated, then released (a CPU that did not start).
 * Expect nothing left live, the idle thread destroyed first, then the tables, then the per-CPU
 * block (the reverse of their allocation), each exactly once and no bad free, *blocks all NULL. */
static int release_gives_back_all_in_reverse_check(void) {
    struct fake f = {.fail = -1};
    struct cpu_blocks blocks;
    ASSERT_TRUE(alloc_with(&f, &blocks));
    struct cpu_blocks_ops ops;
    cpu_blocks_release(ops_for(&f, &ops), &blocks);
    for (int kind = LOCAL; kind < KINDS; kind++) {
        ASSERT_EQ(0, f.live[kind]);
    }
    ASSERT_EQ(3, f.freed);
    ASSERT_EQ(IDLE, f.freed_order[0]);
    ASSERT_EQ(TABLES, f.freed_order[1]);
    ASSERT_EQ(LOCAL, f.freed_order[2]);
    ASSERT_EQ(0, f.bad_frees);
    ASSERT_TRUE(blocks.local == NULL && blocks.tables == NULL && blocks.idle == NULL);
    release(&f);
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, all_succeed_check);
    RUN_CHECK(failures, each_failure_leaves_nothing_check);
    RUN_CHECK(failures, release_gives_back_all_in_reverse_check);
    return failures == 0 ? 0 : 1;
}
