/*
 * alloc/testing/step_count.h - the exact number of instructions one call executes, counted by
 * single-stepping it with ptrace in a forked child: repeatable to the instruction, unlike a
 * time (a string instruction counts once an iteration, as a step traps on each).
 * Used by the worst-case test, which bounds the allocator's longest paths, and by the benchmark
 * that counts the same kind of paths in the reference allocators. x86_64 Linux only.
 */
#ifndef ALLOC_TESTING_STEP_COUNT_H
#define ALLOC_TESTING_STEP_COUNT_H

#include <stdbool.h>

/* step_count's results that are not counts. */
enum {
    STEP_COUNT_FAILED = -1,     /* fork, ptrace or the child itself failed */
    STEP_COUNT_WRONG_PATH = -2, /* the call ran, but `after` said it did not take its path */
};

/*
 * Forks; the child stops itself, calls call(), stops again, then exits with after(call)'s verdict
 * (after NULL: none asked); the parent single-steps the child between the two stops. Returns the
 * number of instructions between them (the call and the few of its own caller: subtract the count
 * of an empty call), STEP_COUNT_WRONG_PATH when after() said no, or STEP_COUNT_FAILED. The state
 * the call changes is the child's: the caller's process is unchanged, so each count starts from the
 * same heap.
 */
long step_count(void (*call)(void), bool (*after)(void (*call)(void)));

#endif /* ALLOC_TESTING_STEP_COUNT_H */
