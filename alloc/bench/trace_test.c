/*
 * alloc/bench/trace_test.c - the replay benchmark's own checks: the trace parser (format, slots,
 * peak, bad lines rejected with the line and the reason), the binary files, and the replay
 * worker, which must pass a correct allocator and catch broken ones.
 *
 * Usage (from the BUILD file): trace_test <replay_worker_ours> <replay_worker_broken>
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "alloc/bench/trace.h"
#include "alloc/heap.h"
#include "tests/support/check.h"

static const char *worker_ours, *worker_broken;
static char dir[512];

/* Writes text to dir/name, gzip'ed if gz; returns the path (static buffer). */
static const char *write_file(const char *name, const char *text, int gz) {
    static char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (f == NULL || gzputs(f, text) < 0 || gzclose(f) != Z_OK)
            return NULL;
    } else {
        FILE *f = fopen(path, "w");
        if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
            return NULL;
    }
    return path;
}

/*
 *  ops:   a1(100) a2(200) f1 a3(50) r2->400 z4(3x10) f2 f3
 *  live:  100     300     200 250    450      480     80 30      peak 480
 *  slots: 0       1       -   0      1        2                   3 slots
 */
static const char tiny[] = "# a hand-written trace\n"
                           "a 1 100 16\n"
                           "a 2 200 16\n"
                           "f 1\n"
                           "\n"
                           "a 3 50 64\n"
                           "r 2 400\n"
                           "z 4 3 10\n"
                           "f 2\n"
                           "f 3\n";

static int parse_tiny_check(void) {
    for (int gz = 0; gz <= 1; gz++) {
        const char *path = write_file(gz ? "tiny.ops.gz" : "tiny.ops", tiny, gz);
        ASSERT_TRUE(path != NULL);
        struct trace t;
        char err[256] = "";
        ASSERT_EQ(0, trace_parse_file(path, 0, &t, err, sizeof(err)));
        ASSERT_EQ(8, t.nops);
        ASSERT_EQ(3, t.count[TRACE_ALLOC]);
        ASSERT_EQ(1, t.count[TRACE_CALLOC]);
        ASSERT_EQ(1, t.count[TRACE_REALLOC]);
        ASSERT_EQ(3, t.count[TRACE_FREE]);
        ASSERT_EQ(480, t.peak_live);
        ASSERT_EQ(3, t.nslots);
        ASSERT_EQ(1, t.live_at_end);
        ASSERT_EQ(100 + 200 + 50 + 400 + 30, t.total_bytes);
        /* a 3 reuses the slot a 1 freed; its alignment and calloc's count are kept. */
        ASSERT_EQ(TRACE_ALLOC, trace_op_kind(&t.ops[3]));
        ASSERT_EQ(0, trace_op_slot(&t.ops[3]));
        ASSERT_EQ(64, t.ops[3].aux);
        ASSERT_EQ(TRACE_CALLOC, trace_op_kind(&t.ops[5]));
        ASSERT_EQ(2, trace_op_slot(&t.ops[5]));
        ASSERT_EQ(3, t.ops[5].aux);
        ASSERT_EQ(10, t.ops[5].size);
        trace_free(&t);
    }
    return 0;
}

/* A prefix, parsed as such or cut from the whole trace, has the prefix's figures. */
static int prefix_check(void) {
    const char *path = write_file("tiny.ops", tiny, 0);
    struct trace t, u;
    char err[256];
    ASSERT_EQ(0, trace_parse_file(path, 3, &t, err, sizeof(err)));
    ASSERT_EQ(3, t.nops);
    ASSERT_EQ(300, t.peak_live);
    ASSERT_EQ(1, t.live_at_end);
    trace_free(&t);
    ASSERT_EQ(0, trace_parse_file(path, 0, &u, err, sizeof(err)));
    for (uint64_t n = 1; n <= 8; n++) {
        ASSERT_EQ(0, trace_parse_file(path, n, &t, err, sizeof(err)));
        struct trace cut = u;
        ASSERT_EQ(0, trace_truncate(&cut, n));
        ASSERT_EQ(t.nops, cut.nops);
        ASSERT_EQ(t.peak_live, cut.peak_live);
        ASSERT_EQ(t.total_bytes, cut.total_bytes);
        ASSERT_EQ(t.live_at_end, cut.live_at_end);
        ASSERT_EQ(0, memcmp(t.count, cut.count, sizeof(t.count)));
        trace_free(&t);
    }
    trace_free(&u);
    return 0;
}

/*
 * The tiny trace gzip'ed, then cut short: by its last 10 bytes (gzip's trailer, a CRC and the
 * length), and in the middle of its compressed data.
 * Expect each refused as cut short, not read as a shorter trace; the whole file still parses.
 */
static int truncated_gzip_check(void) {
    const char *path = write_file("cut.ops.gz", tiny, 1);
    ASSERT_TRUE(path != NULL);
    FILE *f = fopen(path, "rb");
    ASSERT_TRUE(f != NULL);
    unsigned char bytes[4096];
    size_t size = fread(bytes, 1, sizeof(bytes), f);
    fclose(f);
    ASSERT_TRUE(size > 20 && size < sizeof(bytes));
    struct trace t;
    char err[256] = "";
    ASSERT_EQ(0, trace_parse_file(path, 0, &t, err, sizeof(err)));
    trace_free(&t);
    size_t cuts[] = {size - 10, size / 2};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        f = fopen(path, "wb");
        ASSERT_TRUE(f != NULL && fwrite(bytes, 1, cuts[i], f) == cuts[i] && fclose(f) == 0);
        err[0] = '\0';
        ASSERT_EQ(-1, trace_parse_file(path, 0, &t, err, sizeof(err)));
        ASSERT_TRUE(strstr(err, "cut short") != NULL);
        ASSERT_TRUE(t.ops == NULL && t.nops == 0);
    }
    return 0;
}

/* Each bad line is rejected with the file, its line number and the reason. */
static int bad_lines_check(void) {
    static const struct {
        const char *text, *expect;
    } cases[] = {
        {"a 1 16 16\nx 2 3\n", ":2: unknown operation"},
        {"a 1 16\n", ":1: bad ALIGN"},
        {"a 1 16 24\n", ":1: bad ALIGN"},
        {"a 1 16 16 7\n", ":1: extra fields"},
        {"a 1 16 16\na 1 32 16\n", ":2: ID allocated while it is live"},
        {"a 1 16 16\nf 2\n", ":2: free of an ID that is not live"},
        {"a 1 16 16\nf 1\nf 1\n", ":3: free of an ID that is not live"},
        {"r 5 10\n", ":1: realloc of an ID that is not live"},
        {"a 1 16 16\nr 1 0\n", ":2: bad SIZE"},
        {"a 1 99999999999999999999999 16\n", ":1: bad SIZE"},
        {"a 1 1x 16\n", ":1: bad SIZE"},
        {"z 1 4294967296 1\n", ":1: bad COUNT"},
        {"z 1 2000000 2000000\n", ":1: bad SIZE"},
        {"a -1 16 16\n", ":1: bad ID"},
        {"f\n", ":1: unknown operation"},
        {"# nothing\n", ": no operations"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = write_file("bad.ops", cases[i].text, 0);
        struct trace t;
        char err[256] = "";
        if (trace_parse_file(path, 0, &t, err, sizeof(err)) != -1 ||
            strstr(err, cases[i].expect) == NULL || strstr(err, "bad.ops") == NULL) {
            fprintf(stderr, "case %zu (%s): expected an error with \"%s\", got \"%s\"\n", i,
                    cases[i].text, cases[i].expect, err);
            return 1;
        }
        ASSERT_TRUE(t.ops == NULL && t.nops == 0);
    }
    struct trace t;
    char err[256] = "";
    ASSERT_EQ(-1, trace_parse_file("/nonexistent/x.ops.gz", 0, &t, err, sizeof(err)));
    ASSERT_TRUE(strstr(err, "cannot open") != NULL);
    return 0;
}

static int binary_round_trip_check(void) {
    const char *path = write_file("tiny.ops", tiny, 0);
    struct trace t, u;
    char err[256], bin[1024];
    ASSERT_EQ(0, trace_parse_file(path, 0, &t, err, sizeof(err)));
    snprintf(bin, sizeof(bin), "%s/tiny.bin", dir);
    ASSERT_EQ(0, trace_save(&t, bin, err, sizeof(err)));
    ASSERT_EQ(0, trace_load(bin, &u, err, sizeof(err)));
    ASSERT_EQ(t.nops, u.nops);
    ASSERT_EQ(t.nslots, u.nslots);
    ASSERT_EQ(t.peak_live, u.peak_live);
    ASSERT_EQ(0, memcmp(t.ops, u.ops, t.nops * sizeof(*t.ops)));
    trace_free(&u);
    /* A truncated file and a text trace are refused. */
    ASSERT_EQ(0, truncate(bin, 40 + 16 * 8 + 8));
    ASSERT_EQ(-1, trace_load(bin, &u, err, sizeof(err)));
    ASSERT_TRUE(strstr(err, "truncated") != NULL);
    ASSERT_EQ(-1, trace_load(path, &u, err, sizeof(err)));
    trace_free(&t);
    return 0;
}

/* Runs a worker on a binary trace; returns its exit status and its stdout+stderr in out. */
static int run_worker(const char *worker, const char *allocator, const char *mode, const char *bin,
                      char *out, size_t cap) {
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        dup2(fd[1], 2);
        close(fd[0]);
        close(fd[1]);
        execl(worker, worker, allocator, mode, bin, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t got;
    while (len < cap - 1 && (got = read(fd[0], out + len, cap - 1 - len)) > 0)
        len += (size_t)got;
    out[len] = '\0';
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A trace that exercises each defect of the broken workers: growing reallocs, a calloc, and a
 * third allocation while the second is live. */
static const char exercise[] = "a 1 40 16\n"
                               "a 2 40 16\n"
                               "a 3 40 16\n"
                               "z 4 8 8\n"
                               "r 1 4000\n"
                               "f 3\n"
                               "f 2\n"
                               "f 4\n"
                               "f 1\n";

static const char *binary_of(const char *text, const char *name) {
    static char bin[1024];
    struct trace t;
    char err[256];
    const char *path = write_file(name, text, 0);
    if (path == NULL || trace_parse_file(path, 0, &t, err, sizeof(err)) != 0)
        return NULL;
    snprintf(bin, sizeof(bin), "%s/%s.bin", dir, name);
    int r = trace_save(&t, bin, err, sizeof(err));
    trace_free(&t);
    return r == 0 ? bin : NULL;
}

static int worker_verifies_check(void) {
    const char *bin = binary_of(exercise, "exercise.ops");
    ASSERT_TRUE(bin != NULL);
    char out[4096];
    static const char *const ours[] = {"default", "first_fit", "tlsf_no_quick"};
    for (size_t i = 0; i < 3; i++) {
        int status = run_worker(worker_ours, ours[i], "verify", bin, out, sizeof(out));
        if (status != 0 || strstr(out, "result ") == NULL || strstr(out, "free_n=4") == NULL) {
            fprintf(stderr, "%s: status %d: %s\n", ours[i], status, out);
            return 1;
        }
    }
    static const struct {
        const char *allocator, *expect;
    } broken[] = {
        {"broken_realloc", "operation 4 (realloc): realloc did not preserve the contents"},
        {"broken_calloc", "operation 3 (calloc): calloc'd byte not zero at offset 0"},
        {"broken_overlap", "block contents changed before free"},
    };
    for (size_t i = 0; i < 3; i++) {
        int status =
            run_worker(worker_broken, broken[i].allocator, "verify", bin, out, sizeof(out));
        if (status == 0 || strstr(out, broken[i].expect) == NULL) {
            fprintf(stderr, "%s: expected failure \"%s\", status %d: %s\n", broken[i].allocator,
                    broken[i].expect, status, out);
            return 1;
        }
    }
    return 0;
}

/*
 * The smallest region for the tiny trace holds its peak (480 B), and no more than the heap's
 * control structure, a header and rounding per block and the search's granularity on top.
 */
static int min_region_check(void) {
    const char *bin = binary_of(tiny, "tiny.ops");
    ASSERT_TRUE(bin != NULL);
    char out[4096];
    ASSERT_EQ(0, run_worker(worker_ours, "default", "minregion", bin, out, sizeof(out)));
    const char *p = strstr(out, "min_region=");
    ASSERT_TRUE(p != NULL);
    unsigned long long region = strtoull(p + 11, NULL, 10);
    ASSERT_TRUE(region > 480);
    ASSERT_TRUE(region < alloc_min_region_size(ALLOC_STRATEGY_TLSF) + 480 + 512);
    ASSERT_TRUE(strstr(out, "peak_live=480 ") != NULL);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: trace_test <replay_worker_ours> <replay_worker_broken>\n");
        return 2;
    }
    worker_ours = argv[1];
    worker_broken = argv[2];
    const char *tmp = getenv("TEST_TMPDIR");
    snprintf(dir, sizeof(dir), "%s", tmp ? tmp : "/tmp");
    int failures = 0;
    RUN_CHECK(failures, parse_tiny_check);
    RUN_CHECK(failures, prefix_check);
    RUN_CHECK(failures, bad_lines_check);
    RUN_CHECK(failures, truncated_gzip_check);
    RUN_CHECK(failures, binary_round_trip_check);
    RUN_CHECK(failures, worker_verifies_check);
    RUN_CHECK(failures, min_region_check);
    return failures != 0;
}
