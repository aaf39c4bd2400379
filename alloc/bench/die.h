/*
 * alloc/bench/die.h - how the benchmark's programs (drivers and workers) stop on an error: one
 * line on stderr, prefixed with the program's name, and exit status 1, which the drivers report
 * as the worker's failure. Header-only: each program is one source file and links nothing else
 * for it. The includer defines _GNU_SOURCE first (program_invocation_short_name).
 */
#ifndef ALLOC_BENCH_DIE_H
#define ALLOC_BENCH_DIE_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", program_invocation_short_name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

#endif /* ALLOC_BENCH_DIE_H */
