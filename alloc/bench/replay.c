/*
 * alloc/bench/replay.c - the trace replay benchmark driver:
 *   bazel run -c opt //alloc/bench:replay -- [options] [trace.ops.gz ...]
 *
 * Replays real programs' malloc traces (trace.h) through every allocator, each run in a fresh
 * process of the matching worker (replay_worker.c): this library's strategies over one region,
 * this project's renditions of the classic TLSF and of o1heap's half-fit (alloc/bench/reference,
 * for comparison: Debian packages neither) over one region likewise, glibc, jemalloc, mimalloc
 * and tcmalloc. Each trace is parsed once, here, into a binary file the workers map. Per trace
 * and allocator it measures:
 *   - instructions per operation inside the allocator calls, from callgrind (valgrind): the
 *     figure to judge speed by, repeatable on a noisy machine;
 *   - the smallest region the trace replays in without a NULL (binary search), as a ratio to the
 *     trace's peak live requested bytes (the region-based allocators only: the others take
 *     memory from the OS);
 *   - median ns per operation over interleaved rounds (round 1: every trace on every allocator in
 *     a rotating order, then round 2 ...), so noise hits all allocators alike;
 *   - p50, p99.9, p99.99 and max cycles per call, per operation type, from a run that fills every
 *     block with a pattern and verifies it (a failed verification stops the benchmark).
 *
 * Options:
 *   --allocators a,b,..  which (default: all; see `allocators` below)
 *   --rounds N           timing rounds (default 5; 0 skips timing)
 *   --max-ops N          replay only the first N operations of each trace (default: all)
 *   --callgrind-ops N    count instructions over the first N operations only (default: all);
 *                        the output says which prefix was counted
 *   --first-fit-ops N    first_fit replays the first N operations only (default 100000; 0: all):
 *                        its cost grows with the free fragments, to minutes per trace
 *   --no-callgrind, --no-region, --no-verify   skip that measurement
 *   --out DIR            where the binary traces, results.tsv and the chart go
 *                        (default: $TMPDIR or /tmp, in heapkernel-replay/)
 *   --workers DIR        where the replay_worker_* binaries are (default: next to this binary)
 * Traces: the paths given (relative to the directory bazel run was started from), else every
 * .ops.gz file of alloc/bench/traces in the tree, plus those of ../shared/traces beside the
 * checkout when that directory exists.
 *
 * The last line is machine-readable:
 *   replay summary: replay_instr_per_op_max=X replay_region_vs_peak_max=Y
 * the worst over all traces of the default strategy's instructions per operation and smallest
 * region / peak live bytes (n/a where that figure was not measured).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc/bench/die.h"
#include "alloc/bench/process.h"
#include "alloc/bench/trace.h"

#ifndef BENCH_VALGRIND
#error "BENCH_VALGRIND: the pinned valgrind path, from the BUILD file"
#endif
#ifndef BENCH_GNUPLOT
#error "BENCH_GNUPLOT: the pinned gnuplot path, from the BUILD file"
#endif

struct allocator {
    const char *name;   /* as printed and passed to the worker */
    const char *worker; /* replay_worker_<worker> */
    bool region;        /* ours and reference: replays over one region */
};

static const struct allocator allocators[] = {
    {"default", "ours", true},           {"first_fit", "ours", true},
    {"tlsf_no_quick", "ours", true},     {"tlsf_no_runs", "ours", true},
    {"tlsf_classic", "reference", true}, {"halffit", "reference", true},
    {"glibc", "glibc", false},           {"jemalloc", "jemalloc", false},
    {"mimalloc", "mimalloc", false},     {"tcmalloc", "tcmalloc", false},
};
#define NALLOC     (sizeof(allocators) / sizeof(allocators[0]))
#define MAX_TRACES 32
#define MAX_ROUNDS 50

/* Per-op-type cycle figures from the verify run. */
struct tail {
    unsigned long long n, p50, p999, p9999, max;
};

struct cell {
    bool run;
    char impl[96];
    double ns[MAX_ROUNDS];
    char bin[PATH_MAX];       /* what this allocator replays: the trace or a prefix */
    char count_bin[PATH_MAX]; /* what callgrind counts on: the same or a shorter prefix */
    unsigned long long ops, counted_ops, peak;
    double instr_per_op;   /* < 0: not measured */
    double region_vs_peak; /* < 0: not measured or n/a */
    unsigned long long min_region;
    unsigned long long overaligned; /* halffit: requests beyond its alignment (verify run) */
    struct tail tail[4];
};

struct trace_entry {
    char path[PATH_MAX];
    char name[128];
    char bin[PATH_MAX]; /* binary of all its operations */
    unsigned long long nops, peak, nslots, count[4], total_bytes;
    unsigned long long prefix_ops[4]; /* prefixes written next to bin, as <name>.<ops>.bin */
};

static struct trace_entry traces[MAX_TRACES];
static size_t ntraces;
static struct cell cells[MAX_TRACES][NALLOC];
static bool enabled[NALLOC];
static char worker_dir[PATH_MAX];
static char out_dir[PATH_MAX];

static unsigned long long field_ull(const char *line, const char *key) {
    const char *p = strstr(line, key);
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static double field_double(const char *line, const char *key) {
    const char *p = strstr(line, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

/* Runs one worker in a mode; returns its result line (static buffer); dies if it failed. */
static const char *run_worker(size_t a, const char *mode, const char *bin,
                              const char *valgrind_out) {
    static char buf[8192];
    char worker[PATH_MAX + 64], toggle[] = "--toggle-collect=measured_*", outfile[PATH_MAX + 32];
    snprintf(worker, sizeof(worker), "%s/replay_worker_%s", worker_dir, allocators[a].worker);
    char *argv[16];
    int n = 0;
    if (valgrind_out != NULL) {
        snprintf(outfile, sizeof(outfile), "--callgrind-out-file=%s", valgrind_out);
        argv[n++] = BENCH_VALGRIND;
        argv[n++] = "--tool=callgrind";
        argv[n++] = "--quiet";
        argv[n++] = "--collect-atstart=no";
        argv[n++] = toggle;
        argv[n++] = "--compress-strings=no";
        argv[n++] = "--compress-pos=no";
        argv[n++] = outfile;
    }
    argv[n++] = worker;
    argv[n++] = (char *)allocators[a].name;
    argv[n++] = (char *)mode;
    argv[n++] = (char *)bin;
    argv[n] = NULL;
    int status = process_run_capture("replay", argv, buf, sizeof(buf), NULL);
    char *line = strstr(buf, "result ");
    if (status != 0 || line == NULL)
        die("%s %s %s %s failed (exit %d): %s", valgrind_out ? "callgrind:" : "", worker,
            allocators[a].name, mode, status, buf);
    char *nl = strchr(line, '\n');
    if (nl != NULL)
        *nl = '\0';
    return line;
}

/*
 * Reads a callgrind output file (written with --compress-strings=no --compress-pos=no) and
 * returns the instructions collected minus those of the measured_* wrappers themselves: the
 * instructions inside the allocator calls. A cost line right after calls= is the call's
 * inclusive cost, not the caller's own.
 */
static unsigned long long callgrind_allocator_instructions(const char *path) {
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die("cannot read %s: %s", path, strerror(errno));
    char line[4096];
    bool measured = false, after_calls = false, have_total = false;
    unsigned long long total = 0, wrappers = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "fn=", 3) == 0) {
            measured = strncmp(line + 3, "measured_", 9) == 0;
        } else if (strncmp(line, "calls=", 6) == 0) {
            after_calls = true;
        } else if (strncmp(line, "totals:", 7) == 0 || strncmp(line, "summary:", 8) == 0) {
            total = strtoull(strchr(line, ':') + 1, NULL, 10);
            have_total = true;
        } else if ((line[0] >= '0' && line[0] <= '9') || line[0] == '+' || line[0] == '-' ||
                   line[0] == '*') {
            if (after_calls) {
                after_calls = false;
                continue;
            }
            if (measured) {
                char *end;
                strtoull(line, &end, 10); /* the position */
                wrappers += strtoull(end, NULL, 10);
            }
        }
    }
    fclose(f);
    if (!have_total)
        die("%s: no totals line; not a callgrind output file?", path);
    if (wrappers > total)
        die("%s: wrappers cost more than the total", path);
    return total - wrappers;
}

static size_t allocator_index(const char *name) {
    for (size_t a = 0; a < NALLOC; a++) {
        if (strcmp(allocators[a].name, name) == 0)
            return a;
    }
    die("unknown allocator %s", name);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void add_trace(const char *path) {
    if (ntraces == MAX_TRACES)
        die("more than %d traces", MAX_TRACES);
    struct trace_entry *t = &traces[ntraces++];
    snprintf(t->path, sizeof(t->path), "%s", path);
    const char *base = strrchr(path, '/');
    snprintf(t->name, sizeof(t->name), "%s", base ? base + 1 : path);
    char *dot = strstr(t->name, ".ops");
    if (dot != NULL)
        *dot = '\0';
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every *.ops.gz in dir, sorted; returns how many. */
static int add_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    char *names[MAX_TRACES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < MAX_TRACES) {
        if (ends_with(e->d_name, ".ops.gz"))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(char *), cmp_str);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%.2000s/%.1000s", dir, names[i]);
        add_trace(path);
        free(names[i]);
    }
    return n;
}

/* Parses each trace once and writes the binary files the workers map. */
static void prepare_traces(unsigned long long max_ops) {
    for (size_t i = 0; i < ntraces; i++) {
        struct trace_entry *e = &traces[i];
        struct trace t;
        char err[1024];
        if (trace_parse_file(e->path, max_ops, &t, err, sizeof(err)) != 0)
            die("%s", err);
        snprintf(e->bin, sizeof(e->bin), "%.3000s/%s.bin", out_dir, e->name);
        if (trace_save(&t, e->bin, err, sizeof(err)) != 0)
            die("%s", err);
        e->nops = t.nops;
        e->peak = t.peak_live;
        e->nslots = t.nslots;
        e->total_bytes = t.total_bytes;
        for (int k = 0; k < 4; k++)
            e->count[k] = t.count[k];
        trace_free(&t);
        printf("trace %s: %llu ops (alloc %llu, calloc %llu, realloc %llu, free %llu), peak live "
               "%llu B, at most %llu blocks live, %llu B requested in all\n",
               e->name, e->nops, e->count[0], e->count[1], e->count[2], e->count[3], e->peak,
               e->nslots, e->total_bytes);
        fflush(stdout);
    }
}

/*
 * Writes the binary of the first n operations of trace e (once) into path; n == 0 or n >= all
 * means the whole trace. Returns the prefix's peak live bytes.
 */
static unsigned long long prefix_binary(struct trace_entry *e, unsigned long long n, char *path) {
    if (n == 0 || n >= e->nops) {
        snprintf(path, PATH_MAX, "%s", e->bin);
        return e->peak;
    }
    snprintf(path, PATH_MAX, "%.3000s/%s.%llu.bin", out_dir, e->name, n);
    struct trace t;
    char err[1024];
    if (trace_load(e->bin, &t, err, sizeof(err)) != 0 || trace_truncate(&t, n) != 0)
        die("%s: cannot cut a prefix: %s", e->bin, err);
    unsigned long long peak = t.peak_live;
    bool written = false;
    for (int k = 0; k < 4 && !written; k++)
        written = e->prefix_ops[k] == n;
    for (int k = 0; k < 4 && !written; k++) {
        if (e->prefix_ops[k] == 0) {
            if (trace_save(&t, path, err, sizeof(err)) != 0)
                die("%s", err);
            e->prefix_ops[k] = n;
            written = true;
        }
    }
    trace_free(&t);
    if (!written)
        die("%s: too many prefixes", e->name);
    return peak;
}

/* Seconds since the start, for the progress lines on stderr. */
static double elapsed(void) {
    static struct timespec start;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (start.tv_sec == 0)
        start = now;
    return (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(const double *v, int n) {
    double s[MAX_ROUNDS];
    memcpy(s, v, (size_t)n * sizeof(double));
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Writes a gnuplot `plot` of one series per trace from results.tsv (@data): the trace's column of
 * @first_column's kind, 2 for instructions/op or 3 for region/peak, each trace having two. */
static void write_plot(FILE *f, const char *data, size_t first_column) {
    fprintf(f, "plot ");
    for (size_t t = 0; t < ntraces; t++)
        fprintf(f, "%s'%s' every ::1 using %zu:xtic(1) title '%s'", t ? ", " : "", data,
                first_column + 2 * t, traces[t].name);
}

/* Writes results.tsv and the chart (PNG, gnuplot): instructions/op and region/peak. */
static void write_chart(void) {
    char data[PATH_MAX + 32], script[PATH_MAX + 32], png[PATH_MAX + 32];
    snprintf(data, sizeof(data), "%s/results.tsv", out_dir);
    snprintf(script, sizeof(script), "%s/chart.gp", out_dir);
    snprintf(png, sizeof(png), "%s/replay.png", out_dir);
    FILE *f = fopen(data, "w");
    if (f == NULL)
        die("cannot write %s", data);
    /* One row per allocator, two columns per trace: instructions/op, region/peak (NaN: n/a). */
    fprintf(f, "allocator");
    for (size_t t = 0; t < ntraces; t++)
        fprintf(f, "\t%s_instr\t%s_region", traces[t].name, traces[t].name);
    fprintf(f, "\n");
    for (size_t a = 0; a < NALLOC; a++) {
        if (!enabled[a])
            continue;
        /* An allocator that replayed only a prefix of some trace (first_fit) says so in its name,
         * which the chart shows too: its figures are not the whole traces'. */
        unsigned long long prefix = 0;
        for (size_t t = 0; t < ntraces; t++) {
            const struct cell *c = &cells[t][a];
            if (c->ops < traces[t].nops && c->ops > prefix)
                prefix = c->ops;
        }
        if (prefix != 0)
            fprintf(f, "%s (first %llu ops)", allocators[a].name, prefix);
        else
            fprintf(f, "%s", allocators[a].name);
        for (size_t t = 0; t < ntraces; t++) {
            const struct cell *c = &cells[t][a];
            if (c->instr_per_op >= 0)
                fprintf(f, "\t%.1f", c->instr_per_op);
            else
                fprintf(f, "\tNaN");
            if (c->region_vs_peak >= 0)
                fprintf(f, "\t%.4f", c->region_vs_peak);
            else
                fprintf(f, "\tNaN");
        }
        fprintf(f, "\n");
    }
    fclose(f);
    bool any_instr = false, any_region = false;
    for (size_t t = 0; t < ntraces; t++) {
        for (size_t a = 0; a < NALLOC; a++) {
            any_instr |= cells[t][a].instr_per_op >= 0;
            any_region |= cells[t][a].region_vs_peak >= 0;
        }
    }
    if (!any_instr && !any_region) {
        printf("\nresults: %s (no instruction counts or regions: no chart)\n", data);
        return;
    }
    f = fopen(script, "w");
    if (f == NULL)
        die("cannot write %s", script);
    fprintf(f,
            "set terminal pngcairo size 1200,%d font 'sans,10' noenhanced\n"
            "set output '%s'\n"
            "set datafile separator tab\n"
            "set style data histograms\n"
            "set style histogram clustered gap 1\n"
            "set style fill solid 0.8 border -1\n"
            "set key outside right top\n"
            "set grid ytics\n"
            "set xtics rotate by -20\n"
            "set multiplot layout %d,1\n",
            any_instr && any_region ? 900 : 450, png, any_instr && any_region ? 2 : 1);
    if (any_instr) {
        fprintf(f, "set title 'instructions per operation inside the allocator (callgrind), log "
                   "scale'\n"
                   "set logscale y\n");
        write_plot(f, data, 2);
        fprintf(f, "\nunset logscale y\n");
    }
    if (any_region) {
        fprintf(f, "set yrange [1:*]\n"
                   "set title 'smallest region / peak live bytes (region-based allocators)'\n");
        write_plot(f, data, 3);
    }
    fprintf(f, "\nunset multiplot\n");
    fclose(f);
    char buf[4096];
    char *argv[] = {BENCH_GNUPLOT, script, NULL};
    int status = process_run_capture("replay", argv, buf, sizeof(buf), NULL);
    if (status != 0)
        die("gnuplot failed (exit %d) on %s", status, script);
    printf("\nresults: %s\nchart: %s\n", data, png);
}

int main(int argc, char **argv) {
    int rounds = 5;
    unsigned long long max_ops = 0, callgrind_ops = 0, first_fit_ops = 100000;
    bool do_count = true, do_region = true, do_verify = true;
    const char *wd = getenv("BUILD_WORKING_DIRECTORY");
    for (size_t a = 0; a < NALLOC; a++)
        enabled[a] = true;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(arg, "--rounds") == 0 && more) {
            rounds = atoi(argv[++i]);
        } else if (strcmp(arg, "--max-ops") == 0 && more) {
            max_ops = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(arg, "--callgrind-ops") == 0 && more) {
            callgrind_ops = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(arg, "--first-fit-ops") == 0 && more) {
            first_fit_ops = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(arg, "--no-callgrind") == 0) {
            do_count = false;
        } else if (strcmp(arg, "--no-region") == 0) {
            do_region = false;
        } else if (strcmp(arg, "--no-verify") == 0) {
            do_verify = false;
        } else if (strcmp(arg, "--out") == 0 && more) {
            snprintf(out_dir, sizeof(out_dir), "%s", argv[++i]);
        } else if (strcmp(arg, "--workers") == 0 && more) {
            snprintf(worker_dir, sizeof(worker_dir), "%s", argv[++i]);
        } else if (strcmp(arg, "--allocators") == 0 && more) {
            for (size_t a = 0; a < NALLOC; a++)
                enabled[a] = false;
            char *list = strdup(argv[++i]);
            for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ","))
                enabled[allocator_index(tok)] = true;
            free(list);
        } else if (arg[0] == '-') {
            die("usage: replay [--allocators a,b] [--rounds N] [--max-ops N] [--callgrind-ops N] "
                "[--first-fit-ops N] [--no-callgrind] [--no-region] [--no-verify] [--out DIR] "
                "[--workers DIR] "
                "[trace.ops.gz ...] (got %s)",
                arg);
        } else {
            char path[PATH_MAX];
            if (arg[0] != '/' && wd != NULL)
                snprintf(path, sizeof(path), "%.2000s/%.2000s", wd, arg);
            else
                snprintf(path, sizeof(path), "%s", arg);
            add_trace(path);
        }
    }
    if (rounds < 0 || rounds > MAX_ROUNDS)
        die("--rounds must be 0 to %d", MAX_ROUNDS);
    if (worker_dir[0] == '\0' &&
        !process_find_workers(argv[0], "replay_worker_ours", worker_dir, sizeof(worker_dir)))
        die("cannot find replay_worker_ours (use --workers DIR)");
    if (ntraces == 0) {
        add_dir("alloc/bench/traces");
        const char *ws = getenv("BUILD_WORKSPACE_DIRECTORY");
        char shared[PATH_MAX];
        snprintf(shared, sizeof(shared), "%.3000s/../shared/traces", ws ? ws : ".");
        if (add_dir(shared) == 0)
            printf("no traces in %s (the large shared traces are not part of the tree)\n", shared);
    }
    if (ntraces == 0)
        die("no traces: give trace files, or run from the tree (alloc/bench/traces)");
    if (out_dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(out_dir, sizeof(out_dir), "%.3000s/heapkernel-replay", tmp ? tmp : "/tmp");
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST)
        die("cannot create %s: %s", out_dir, strerror(errno));

    printf("trace replay: %zu traces, %d interleaved timing rounds, workers in %s\n", ntraces,
           rounds, worker_dir);
    elapsed();
    prepare_traces(max_ops);
    for (size_t t = 0; t < ntraces; t++) {
        for (size_t a = 0; a < NALLOC; a++) {
            struct cell *c = &cells[t][a];
            c->instr_per_op = -1;
            c->region_vs_peak = -1;
            if (!enabled[a])
                continue;
            unsigned long long n = traces[t].nops;
            if (strcmp(allocators[a].name, "first_fit") == 0 && first_fit_ops != 0 &&
                first_fit_ops < n)
                n = first_fit_ops;
            c->ops = n;
            c->peak = prefix_binary(&traces[t], n, c->bin);
            c->counted_ops = callgrind_ops != 0 && callgrind_ops < n ? callgrind_ops : n;
            prefix_binary(&traces[t], c->counted_ops, c->count_bin);
        }
    }

    /* Verification first: a broken allocator stops the benchmark before any figure. */
    for (size_t t = 0; do_verify && t < ntraces; t++) {
        for (size_t a = 0; a < NALLOC; a++) {
            if (!enabled[a])
                continue;
            const char *line = run_worker(a, "verify", cells[t][a].bin, NULL);
            struct cell *c = &cells[t][a];
            c->run = true;
            const char *impl = strstr(line, "impl=");
            if (impl != NULL)
                sscanf(impl + 5, "%95s", c->impl);
            c->overaligned = field_ull(line, "overaligned=");
            for (int k = 0; k < 4; k++) {
                char key[32];
                const char *kn = trace_kind_name((enum trace_kind)k);
                snprintf(key, sizeof(key), "%s_n=", kn);
                c->tail[k].n = field_ull(line, key);
                snprintf(key, sizeof(key), "%s_p50=", kn);
                c->tail[k].p50 = field_ull(line, key);
                snprintf(key, sizeof(key), "%s_p999=", kn);
                c->tail[k].p999 = field_ull(line, key);
                snprintf(key, sizeof(key), "%s_p9999=", kn);
                c->tail[k].p9999 = field_ull(line, key);
                snprintf(key, sizeof(key), "%s_max=", kn);
                c->tail[k].max = field_ull(line, key);
            }
        }
        fprintf(stderr, "replay: %.0f s: %s verified on every allocator\n", elapsed(),
                traces[t].name);
    }

    for (int r = 0; r < rounds; r++) {
        for (size_t t = 0; t < ntraces; t++) {
            for (size_t k = 0; k < NALLOC; k++) {
                size_t a = (k + (size_t)r + t) % NALLOC;
                if (!enabled[a])
                    continue;
                const char *line = run_worker(a, "time", cells[t][a].bin, NULL);
                cells[t][a].ns[r] = field_double(line, "ns_per_op=");
            }
        }
        fprintf(stderr, "replay: %.0f s: timing round %d of %d done\n", elapsed(), r + 1, rounds);
    }

    for (size_t t = 0; do_count && t < ntraces; t++) {
        for (size_t a = 0; a < NALLOC; a++) {
            if (!enabled[a])
                continue;
            char out[PATH_MAX + 64];
            snprintf(out, sizeof(out), "%.3000s/callgrind.%s.%s", out_dir, traces[t].name,
                     allocators[a].name);
            run_worker(a, "count", cells[t][a].count_bin, out);
            cells[t][a].instr_per_op =
                (double)callgrind_allocator_instructions(out) / (double)cells[t][a].counted_ops;
        }
        fprintf(stderr, "replay: %.0f s: %s counted on every allocator\n", elapsed(),
                traces[t].name);
    }

    for (size_t t = 0; do_region && t < ntraces; t++) {
        for (size_t a = 0; a < NALLOC; a++) {
            if (!enabled[a] || !allocators[a].region)
                continue;
            const char *line = run_worker(a, "minregion", cells[t][a].bin, NULL);
            cells[t][a].region_vs_peak = field_double(line, "region_vs_peak=");
            cells[t][a].min_region = field_ull(line, "min_region=");
        }
        fprintf(stderr, "replay: %.0f s: %s smallest regions found\n", elapsed(), traces[t].name);
    }

    double instr_max = 0, region_max = 0;
    size_t def = allocator_index("default");
    for (size_t t = 0; t < ntraces; t++) {
        const struct trace_entry *e = &traces[t];
        printf("\ntrace %s: %llu ops, peak live %llu B\n", e->name, e->nops, e->peak);
        printf("  %-14s %9s %9s %10s %9s %11s %12s  %s\n", "allocator", "ops", "counted", "ns/op",
               "instr/op", "region/peak", "min region", "implementation");
        for (size_t a = 0; a < NALLOC; a++) {
            if (!enabled[a])
                continue;
            const struct cell *c = &cells[t][a];
            char ns[32] = "-", ins[32] = "-", reg[32] = "n/a", mr[32] = "n/a";
            if (rounds > 0)
                snprintf(ns, sizeof(ns), "%.2f", median(c->ns, rounds));
            if (c->instr_per_op >= 0)
                snprintf(ins, sizeof(ins), "%.1f", c->instr_per_op);
            if (c->region_vs_peak >= 0) {
                snprintf(reg, sizeof(reg), "%.4f", c->region_vs_peak);
                snprintf(mr, sizeof(mr), "%llu", c->min_region);
            } else if (allocators[a].region) {
                snprintf(reg, sizeof(reg), "-");
                snprintf(mr, sizeof(mr), "-");
            }
            printf("  %-14s %9llu %9llu %10s %9s %11s %12s  %s\n", allocators[a].name, c->ops,
                   do_count ? c->counted_ops : 0, ns, ins, reg, mr, c->impl[0] ? c->impl : "-");
        }
        if (do_verify) {
            printf("  cycles per call (p50 / p99.9 / p99.99 / max), contents verified:\n");
            for (size_t a = 0; a < NALLOC; a++) {
                if (!enabled[a])
                    continue;
                printf("  %-14s", allocators[a].name);
                for (int k = 0; k < 4; k++) {
                    const struct tail *tl = &cells[t][a].tail[k];
                    if (tl->n == 0)
                        printf(" %8s -", trace_kind_name((enum trace_kind)k));
                    else
                        printf(" %8s %llu/%llu/%llu/%llu", trace_kind_name((enum trace_kind)k),
                               tl->p50, tl->p999, tl->p9999, tl->max);
                }
                printf("\n");
            }
        }
        if (enabled[def]) {
            if (cells[t][def].instr_per_op > instr_max)
                instr_max = cells[t][def].instr_per_op;
            if (cells[t][def].region_vs_peak > region_max)
                region_max = cells[t][def].region_vs_peak;
        }
    }
    size_t hf = allocator_index("halffit");
    if (enabled[allocator_index("tlsf_classic")] || enabled[hf]) {
        unsigned long long overaligned = 0;
        for (size_t t = 0; t < ntraces; t++)
            overaligned += cells[t][hf].overaligned;
        printf("\ntlsf_classic and halffit are this project's own renditions of the classic "
               "TLSF's algorithm (mattconte/tlsf 3.1) and of o1heap 2's half-fit, written from "
               "their published descriptions (alloc/bench/reference; Debian packages neither "
               "library), not those libraries' code; neither has a calloc (malloc and a memset "
               "of every byte here). halffit has one alignment, 32 bytes: a request for more is "
               "served from a block over-allocated by the alignment, %s.\n",
               !enabled[hf] || !do_verify ? "counted in the verify run (skipped here)"
               : overaligned == 0         ? "which none of these traces asks for"
                                          : "and these traces asked for it");
        if (enabled[hf] && do_verify && overaligned != 0)
            printf("halffit: %llu requests aligned beyond 32 bytes, served over-allocated.\n",
                   overaligned);
    }
    /* first_fit's operations: cut to --first-fit-ops on every trace, on some, or on none (0, or
     * no shorter than any trace). */
    size_t ffi = allocator_index("first_fit");
    size_t cut = 0;
    for (size_t t = 0; t < ntraces; t++)
        cut += enabled[ffi] && cells[t][ffi].ops < traces[t].nops;
    char ff_text[192] = "";
    if (cut > 0)
        snprintf(ff_text, sizeof(ff_text),
                 " (first_fit: the first %llu only%s, as its cost grows with the fragments; "
                 "--first-fit-ops)",
                 first_fit_ops, cut < ntraces ? " of the traces that have more" : "");
    else if (enabled[ffi])
        snprintf(ff_text, sizeof(ff_text), " (first_fit's too: --first-fit-ops %llu%s)",
                 first_fit_ops, first_fit_ops == 0 ? " replays all" : " cuts none of these traces");
    printf(
        "ops: the operations replayed%s. counted: the prefix callgrind counted "
        "(--callgrind-ops). instr/op: callgrind instructions inside the allocator calls per "
        "operation (driver and contents checks excluded). region/peak: smallest region "
        "replaying those ops without a NULL (binary search, within 1/65536 of peak) / their peak "
        "live requested bytes. ns/op: median over rounds of the replay loop's time per op "
        "(blocks untouched). Cycles: each call timed alone with rdtsc while every block is "
        "filled and verified.\n",
        ff_text);
    write_chart();
    /* A figure that was not measured (default not replayed, --no-callgrind, --no-region) reads
     * n/a: a 0.0 there would read as a measurement. */
    char instr_text[32] = "n/a", region_text[32] = "n/a";
    if (enabled[def] && do_count)
        snprintf(instr_text, sizeof(instr_text), "%.1f", instr_max);
    if (enabled[def] && do_region)
        snprintf(region_text, sizeof(region_text), "%.4f", region_max);
    printf("replay summary: replay_instr_per_op_max=%s replay_region_vs_peak_max=%s\n", instr_text,
           region_text);
    return 0;
}
