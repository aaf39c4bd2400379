/*
 * alloc/bench/family.h - the foreign allocators a benchmark worker can be built against, and the
 * proof that the one linked in really serves malloc; for family ours, the configuration of each
 * variant of this library a worker runs. Included by the workers (bench_worker.c,
 * replay_worker.c), each built once per family with one of:
 *   BENCH_OURS      this library (the worker sets up its own heaps)
 *   BENCH_REFERENCE this project's renditions of the classic TLSF and of o1heap's half-fit
 *                   (alloc/bench/reference), for comparison only (the worker sets up their heaps)
 *   BENCH_GLIBC     glibc malloc
 *   BENCH_JEMALLOC  jemalloc, linked with -ljemalloc so that it replaces malloc process-wide
 *   BENCH_MIMALLOC  mimalloc, linked with -lmimalloc so that it replaces malloc process-wide
 *   BENCH_TCMALLOC  tcmalloc (gperftools), linked with -ltcmalloc_minimal, likewise
 *   BENCH_BROKEN    deliberately wrong allocators over glibc, for testing the replay's checks
 */
#ifndef ALLOC_BENCH_FAMILY_H
#define ALLOC_BENCH_FAMILY_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(BENCH_OURS)
#include "alloc/heap.h"
#elif defined(BENCH_REFERENCE)
#include "alloc/bench/reference/halffit.h"
#include "alloc/bench/reference/tlsf_classic.h"
#elif defined(BENCH_JEMALLOC)
#include <jemalloc/jemalloc.h>
#elif defined(BENCH_MIMALLOC)
#include <mimalloc.h>
#elif defined(BENCH_TCMALLOC)
#include <gperftools/malloc_extension_c.h>
#include <gperftools/tcmalloc.h>
#elif defined(BENCH_GLIBC)
#include <gnu/libc-version.h>
#elif !defined(BENCH_BROKEN)
#error                                                                                             \
    "define one of BENCH_OURS, BENCH_REFERENCE, BENCH_GLIBC, BENCH_JEMALLOC, BENCH_MIMALLOC, BENCH_TCMALLOC"
#endif

#if defined(BENCH_OURS)
/* The variants of this library a worker runs, by the names the drivers pass. */
#define FAMILY_OURS_VARIANTS "default, tlsf_no_quick, tlsf_no_runs, first_fit"

/* Sets the strategy or flags of *cfg for the variant @name; false for a name not among
 * FAMILY_OURS_VARIANTS. */
static bool family_ours_config(const char *name, struct alloc_config *cfg) {
    if (strcmp(name, "default") == 0)
        cfg->strategy = ALLOC_STRATEGY_TLSF;
    else if (strcmp(name, "tlsf_no_quick") == 0)
        cfg->flags = ALLOC_FLAG_NO_QUICK_CACHE | ALLOC_FLAG_NO_SMALL_RUNS;
    else if (strcmp(name, "tlsf_no_runs") == 0)
        cfg->flags = ALLOC_FLAG_NO_SMALL_RUNS;
    else if (strcmp(name, "first_fit") == 0)
        cfg->strategy = ALLOC_STRATEGY_FIRST_FIT;
    else
        return false;
    return true;
}
#endif

#if defined(BENCH_REFERENCE)
/* The reference allocators a worker runs, by the names the drivers pass. */
#define FAMILY_REFERENCE_VARIANTS "tlsf_classic, halffit"

enum family_reference { REFERENCE_TLSF_CLASSIC, REFERENCE_HALFFIT };

/* Sets *out to the variant @name and *impl to what it is, as the replay's table names it; false
 * for a name not among FAMILY_REFERENCE_VARIANTS. */
static bool family_reference_variant(const char *name, enum family_reference *out,
                                     const char **impl) {
    if (strcmp(name, "tlsf_classic") == 0) {
        *out = REFERENCE_TLSF_CLASSIC;
        *impl = "our_rendition_of_tlsf_3.1";
    } else if (strcmp(name, "halffit") == 0) {
        *out = REFERENCE_HALFFIT;
        *impl = "our_rendition_of_o1heap_2";
    } else {
        return false;
    }
    return true;
}
#endif

#if !defined(BENCH_OURS) && !defined(BENCH_REFERENCE) && !defined(BENCH_BROKEN)
/*
 * Checks that name is the allocator this worker was built with and that malloc really is that
 * allocator; returns its name and version ("jemalloc_5.3.0-0-g..."), or NULL with a reason in
 * *why.
 */
static const char *family_setup(const char *name, const char **why) {
    static char desc[128];
#if defined(BENCH_JEMALLOC)
    if (strcmp(name, "jemalloc") != 0) {
        *why = "this worker runs jemalloc";
        return NULL;
    }
    const char *version = "?";
    /* mallctl("version") writes a const char *: its size is the pointer's. */
    size_t len = sizeof(version); // NOLINT(bugprone-sizeof-expression)
    mallctl("version", &version, &len, NULL, 0);
    void *p = malloc(100);
    size_t cls = sallocx(p, 0); /* crashes unless malloc is jemalloc's */
    free(p);
    if (cls < 100) {
        *why = "malloc is not jemalloc";
        return NULL;
    }
    snprintf(desc, sizeof(desc), "jemalloc_%s", version);
#elif defined(BENCH_MIMALLOC)
    if (strcmp(name, "mimalloc") != 0) {
        *why = "this worker runs mimalloc";
        return NULL;
    }
    void *p = malloc(100);
    int owned = mi_is_in_heap_region(p);
    free(p);
    if (!owned) {
        *why = "malloc is not mimalloc";
        return NULL;
    }
    snprintf(desc, sizeof(desc), "mimalloc_%d", mi_version());
#elif defined(BENCH_TCMALLOC)
    if (strcmp(name, "tcmalloc") != 0) {
        *why = "this worker runs tcmalloc";
        return NULL;
    }
    void *p = malloc(100);
    int owned = MallocExtension_GetOwnership(p) == MallocExtension_kOwned;
    free(p);
    if (!owned) {
        *why = "malloc is not tcmalloc";
        return NULL;
    }
    int major = 0, minor = 0;
    const char *patch = "";
    const char *version = tc_version(&major, &minor, &patch);
    snprintf(desc, sizeof(desc), "%s", version);
    for (char *c = desc; *c != '\0'; c++) {
        if (*c == ' ')
            *c = '_';
    }
#else
    if (strcmp(name, "glibc") != 0) {
        *why = "this worker runs glibc";
        return NULL;
    }
    snprintf(desc, sizeof(desc), "glibc_%s", gnu_get_libc_version());
#endif
    return desc;
}
#endif

#endif /* ALLOC_BENCH_FAMILY_H */
