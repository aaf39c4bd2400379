/*
 * alloc/bench/trace_to_bin.c - converts a text malloc trace (trace.h, gzip'ed or plain) into the
 * binary form the replay workers load, at build time: the tests that replay a trace on another
 * target get the binary file as data, as the parser (and zlib) exist on the host only.
 *   trace_to_bin IN.ops.gz OUT.bin
 */
#include "alloc/bench/trace.h"

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: trace_to_bin IN.ops.gz OUT.bin\n");
        return 2;
    }
    struct trace t;
    char err[512];
    if (trace_parse_file(argv[1], 0, &t, err, sizeof(err)) != 0 ||
        trace_save(&t, argv[2], err, sizeof(err)) != 0) {
        fprintf(stderr, "trace_to_bin: %s\n", err);
        return 1;
    }
    trace_free(&t);
    return 0;
}
