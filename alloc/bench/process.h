/*
 * alloc/bench/process.h - how the benchmark drivers (bench.c, replay.c) find and run their
 * workers: each measurement runs in a fresh process, so one allocator's state (or its
 * replacement of malloc) never reaches the next measurement.
 */
#ifndef ALLOC_BENCH_PROCESS_H
#define ALLOC_BENCH_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Finds the directory holding the worker binaries, one of which is named `probe`: the directory
 * of the running binary, else its runfiles tree ($RUNFILES_DIR, then argv0.runfiles), else
 * alloc/bench below the current directory. Writes it to dir (cap bytes) and returns true, or
 * returns false when none holds an executable `probe`.
 */
bool process_find_workers(const char *argv0, const char *probe, char *dir, size_t cap);

/*
 * Runs argv[0] with argv and waits for it. Its stdout is collected into buf (cap bytes, always
 * NUL-terminated; what does not fit is read and dropped) and, when echo is not NULL, copied to
 * echo as it arrives; its stderr passes through. Returns its exit status: 127 when the forked
 * child could not execute argv[0] (the shell's code); -1 when no child could be forked (no pipe,
 * no fork), its output could not be read or its status collected, or it died of a signal. Each
 * failure of its own (exec, pipe, fork, read, wait) is printed, prefixed with `who`.
 */
int process_run_capture(const char *who, char *const argv[], char *buf, size_t cap, FILE *echo);

#endif /* ALLOC_BENCH_PROCESS_H */
