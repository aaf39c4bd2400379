/*
 * alloc/bench/bench.c - the allocator benchmark driver: `bazel run -c opt //alloc/bench`.
 *
 * Runs every workload on every allocator, each (workload, allocator) in a fresh process of the
 * matching worker (bench_worker.c): this library's default (TLSF) and first-fit strategies, and
 * the TLSF strategy without quick lists, in bench_worker_ours; glibc malloc, jemalloc and
 * mimalloc in workers of their own, because jemalloc and mimalloc replace malloc process-wide.
 * Rounds are interleaved (round 1: every workload on every allocator, in an order that rotates;
 * then round 2 ...) so that noise on the machine hits all allocators alike; each figure is the
 * median over rounds of the per-run median.
 *
 * Then it runs the trace replay (replay.c, next to this binary) on its default traces and takes
 * the replay's summary into its own. So that the whole benchmark stays within about five minutes
 * on a busy 2-core machine (CI), the replay runs here with --rounds 3, --callgrind-ops 100000
 * (instructions are counted over the first 100,000 operations of each trace) and
 * --first-fit-ops 50000. Later --replay arguments override these (--replay --callgrind-ops
 * --replay 0 counts whole traces).
 *
 * Options: --rounds N (default 5), --scale F (multiplies every workload's length, default 1),
 * --workers DIR (where the bench_worker_* binaries are; default: next to this binary),
 * --no-replay, and --replay ARG (repeatable: passed on to the replay, e.g. --replay
 * --callgrind-ops --replay 300000).
 *
 * The last line is machine-readable:
 *   summary: default_vs_glibc=X default_vs_first_fit=Y scaling_10k_vs_100=Z
 *            replay_instr_per_op_max=A replay_region_vs_peak_max=B   (one line)
 * X: the largest over workloads 1-3 (pairs, random, realloc) of default ns/op / glibc ns/op,
 *    so X <= 1 means at least as fast as glibc on each of them.
 * Y: default ns/op / first_fit ns/op on workload 2 (random); 0.05 means 20 times faster.
 * Z: default ns/op with 10,000 live blocks / with 100 (live10k / live100: same working set).
 * A, B: the worst over the replayed traces of the default strategy's instructions per operation
 *    inside the allocator and smallest region / peak live bytes (see replay.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/bench/die.h"
#include "alloc/bench/process.h"

struct allocator {
    const char *name;   /* as printed and passed to the worker */
    const char *worker; /* bench_worker_<worker> */
};

static const struct allocator allocators[] = {
    {"default", "ours"}, {"first_fit", "ours"},    {"tlsf_no_quick", "ours"},
    {"glibc", "glibc"},  {"jemalloc", "jemalloc"}, {"mimalloc", "mimalloc"},
};
#define NALLOC (sizeof(allocators) / sizeof(allocators[0]))

static const struct {
    const char *name;
    const char *what;
} workloads[] = {
    {"pairs", "1: alloc/free pairs of 64 B"},
    {"random", "2: random sizes 16 B-4 KiB log-uniform, 10,000 live blocks"},
    {"realloc", "3: vector grown by doubling realloc from 16 B to 1 MiB"},
    {"churn", "4: 5,000 long-lived blocks with short-lived churn"},
    {"live100", "scaling: hot set of 100 blocks, 100 live"},
    {"live10k", "scaling: same hot set, 10,000 live (9,900 fragmented)"},
    {"ws100", "working set: random replacement among 100 live blocks"},
    {"ws10k", "working set: random replacement among 10,000 live blocks"},
};
#define NWORK      (sizeof(workloads) / sizeof(workloads[0]))
#define MAX_ROUNDS 50

struct result {
    double median_ns;
    unsigned long long max_ns, ops, footprint, peak_in_use, largest_free, bytes_free, free_blocks;
    unsigned long long largest_hole, hole_bytes;
    long maxrss_kb;
    int ours;
    char impl[128];
};

static struct result results[NWORK][NALLOC][MAX_ROUNDS];
static char worker_dir[PATH_MAX];

/*
 * Runs the replay driver with the given extra arguments, passing its output through, and returns
 * the text after "replay summary: " of its last such line (static buffer); dies if it fails.
 */
static const char *run_replay(char **extra, int nextra) {
    static char output[1 << 18];
    static char summary[256];
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/replay", worker_dir);
    char *argv[64];
    int n = 0;
    argv[n++] = path;
    argv[n++] = "--rounds";
    argv[n++] = "3";
    argv[n++] = "--callgrind-ops";
    argv[n++] = "100000";
    argv[n++] = "--first-fit-ops";
    argv[n++] = "50000";
    for (int i = 0; i < nextra && n < 63; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    int status = process_run_capture("bench", argv, output, sizeof(output), stdout);
    const char *key = "replay summary: ";
    const char *found = NULL;
    for (const char *line = output; line != NULL && *line != '\0';) {
        if (strncmp(line, key, strlen(key)) == 0)
            found = line + strlen(key);
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    if (status != 0 || found == NULL)
        die("the trace replay failed");
    snprintf(summary, sizeof(summary), "%.*s", (int)strcspn(found, "\n"), found);
    return summary;
}

static unsigned long long field_ull(const char *line, const char *key) {
    const char *p = strstr(line, key);
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* Runs one worker and parses its result line. */
static void run_one(size_t w, size_t a, int round, double scale) {
    char path[PATH_MAX + 64], scale_arg[32];
    snprintf(path, sizeof(path), "%s/bench_worker_%s", worker_dir, allocators[a].worker);
    snprintf(scale_arg, sizeof(scale_arg), "%g", scale);
    char *argv[] = {path, (char *)allocators[a].name, (char *)workloads[w].name, scale_arg, NULL};
    char buf[4096];
    int status = process_run_capture("bench", argv, buf, sizeof(buf), NULL);
    char *line = strstr(buf, "result ");
    if (status != 0 || line == NULL) {
        fprintf(stderr, "bench: %s %s %s failed: %s\n", path, allocators[a].name, workloads[w].name,
                buf);
        exit(1);
    }
    struct result *r = &results[w][a][round];
    const char *m = strstr(line, "median_ns=");
    r->median_ns = m ? strtod(m + 10, NULL) : 0;
    r->max_ns = field_ull(line, "max_ns=");
    r->ops = field_ull(line, "ops=");
    r->maxrss_kb = (long)field_ull(line, "maxrss_kb=");
    r->ours = strstr(line, "footprint=") != NULL;
    r->footprint = field_ull(line, "footprint=");
    r->peak_in_use = field_ull(line, "peak_in_use=");
    r->largest_free = field_ull(line, "largest_free=");
    r->bytes_free = field_ull(line, "bytes_free=");
    r->free_blocks = field_ull(line, "free_blocks=");
    r->largest_hole = field_ull(line, "largest_hole=");
    r->hole_bytes = field_ull(line, "hole_bytes=");
    const char *impl = strstr(line, "impl=");
    if (impl != NULL)
        sscanf(impl + 5, "%127s", r->impl);
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Median over rounds of the per-run medians. */
static double median_of(size_t w, size_t a, int rounds) {
    double v[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++)
        v[r] = results[w][a][r].median_ns;
    qsort(v, (size_t)rounds, sizeof(double), cmp_double);
    return rounds % 2 ? v[rounds / 2] : (v[rounds / 2 - 1] + v[rounds / 2]) / 2;
}

static unsigned long long max_of(size_t w, size_t a, int rounds) {
    unsigned long long m = 0;
    for (int r = 0; r < rounds; r++) {
        if (results[w][a][r].max_ns > m)
            m = results[w][a][r].max_ns;
    }
    return m;
}

static size_t index_of(const char *name, int workload) {
    size_t n = workload ? NWORK : NALLOC;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(workload ? workloads[i].name : allocators[i].name, name) == 0)
            return i;
    }
    die("unknown name %s", name);
    return 0;
}

int main(int argc, char **argv) {
    int rounds = 5;
    double scale = 1.0;
    bool replay = true;
    char *replay_args[60];
    int nreplay_args = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            scale = atof(argv[++i]);
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            snprintf(worker_dir, sizeof(worker_dir), "%s", argv[++i]);
        else if (strcmp(argv[i], "--no-replay") == 0)
            replay = false;
        else if (strcmp(argv[i], "--replay") == 0 && i + 1 < argc && nreplay_args < 60)
            replay_args[nreplay_args++] = argv[++i];
        else
            die("usage: bench [--rounds N] [--scale F] [--workers DIR] [--no-replay] "
                "[--replay ARG]... (got %s)",
                argv[i]);
    }
    if (rounds < 1 || rounds > MAX_ROUNDS || !(scale > 0))
        die("bad --rounds or --scale");
    if (worker_dir[0] == '\0' &&
        !process_find_workers(argv[0], "bench_worker_ours", worker_dir, sizeof(worker_dir)))
        die("cannot find bench_worker_ours (use --workers DIR)");

    printf("alloc benchmark: %d interleaved rounds, scale %g, workers in %s\n", rounds, scale,
           worker_dir);
    printf("first_fit runs 1/10 of the steps of pairs and realloc and 1/100 of the others (its "
           "per-op cost grows with fragments); per-op figures stay comparable.\n");
    fflush(stdout);
    for (int r = 0; r < rounds; r++) {
        for (size_t w = 0; w < NWORK; w++) {
            for (size_t k = 0; k < NALLOC; k++)
                run_one(w, (k + (size_t)r + w) % NALLOC, r, scale);
        }
        fprintf(stderr, "bench: round %d of %d done\n", r + 1, rounds);
    }

    printf("\nallocators:");
    for (size_t a = 0; a < NALLOC; a++)
        printf(" %s=%s", allocators[a].name, results[0][a][0].impl);
    printf("\n");
    for (size_t w = 0; w < NWORK; w++) {
        printf("\nworkload %s (%s)\n", workloads[w].name, workloads[w].what);
        printf("  %-14s %12s %14s %13s %14s %14s %13s %12s\n", "allocator", "median ns/op",
               "slowest op ns", "ops per run", "peak footprint", "largest free", "largest hole",
               "max RSS KiB");
        for (size_t a = 0; a < NALLOC; a++) {
            const struct result *last = &results[w][a][rounds - 1];
            char fp[32] = "-", lf[32] = "-", lh[32] = "-";
            if (last->ours) {
                snprintf(fp, sizeof(fp), "%llu", last->footprint);
                snprintf(lf, sizeof(lf), "%llu", last->largest_free);
                snprintf(lh, sizeof(lh), "%llu", last->largest_hole);
            }
            long rss = 0;
            for (int r = 0; r < rounds; r++)
                rss = results[w][a][r].maxrss_kb > rss ? results[w][a][r].maxrss_kb : rss;
            printf("  %-14s %12.2f %14llu %13llu %14s %14s %13s %12ld\n", allocators[a].name,
                   median_of(w, a, rounds), max_of(w, a, rounds), last->ops, fp, lf, lh, rss);
        }
    }
    printf("\npeak footprint: highest byte of the 1 GiB region handed out in the worker's second "
           "pass (the one that times each operation alone: a quarter of the steps, on the heap "
           "the first pass used and freed), in bytes from the region's start. At the end of that "
           "pass, the workload's long-lived blocks still live: largest free = the largest free "
           "block (the untouched rest of the region); largest hole = the largest free block "
           "below the topmost live block (fragmentation).\n");

    size_t def = index_of("default", 0), glibc = index_of("glibc", 0);
    size_t ff = index_of("first_fit", 0);
    double x = 0;
    printf("\ndefault / glibc ns/op:");
    for (size_t w = 0; w < NWORK; w++) {
        double ratio = median_of(w, def, rounds) / median_of(w, glibc, rounds);
        printf(" %s=%.3f", workloads[w].name, ratio);
        if (w < 3 && ratio > x)
            x = ratio;
    }
    printf("\ndefault / first_fit ns/op:");
    for (size_t w = 0; w < NWORK; w++)
        printf(" %s=%.4f", workloads[w].name, median_of(w, def, rounds) / median_of(w, ff, rounds));
    printf("\n");
    size_t l100 = index_of("live100", 1), l10k = index_of("live10k", 1);
    size_t w100 = index_of("ws100", 1), w10k = index_of("ws10k", 1);
    printf("10k / 100 live blocks, ns/op ratio (population | working set):");
    for (size_t a = 0; a < NALLOC; a++)
        printf(" %s=%.2f|%.2f", allocators[a].name,
               median_of(l10k, a, rounds) / median_of(l100, a, rounds),
               median_of(w10k, a, rounds) / median_of(w100, a, rounds));
    printf("\n");
    double y = median_of(index_of("random", 1), def, rounds) /
               median_of(index_of("random", 1), ff, rounds);
    double z = median_of(l10k, def, rounds) / median_of(l100, def, rounds);
    const char *replay_summary = "replay=skipped";
    if (replay) {
        printf("\n");
        replay_summary = run_replay(replay_args, nreplay_args);
    }
    printf("summary: default_vs_glibc=%.3f default_vs_first_fit=%.4f scaling_10k_vs_100=%.3f %s\n",
           x, y, z, replay_summary);
    return 0;
}
