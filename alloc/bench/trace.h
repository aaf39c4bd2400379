/*
 * alloc/bench/trace.h - malloc traces for the replay benchmark: parsed once from text into a
 * compact array of operations, saved to and loaded from a binary file so that every replay
 * process maps the same array without parsing.
 *
 * Text format (optionally gzip'ed; one operation a line, numbers in decimal):
 *   a ID SIZE ALIGN    allocate SIZE bytes aligned to ALIGN (a power of two) as block ID
 *   z ID COUNT SIZE    calloc(COUNT, SIZE) as block ID
 *   r ID SIZE          realloc block ID to SIZE bytes (SIZE > 0; a realloc to 0 is recorded as f)
 *   f ID               free block ID
 * IDs name blocks instead of addresses: an ID is live from its a/z to its f and may be used
 * again after that. Blank lines and lines starting with '#' are ignored. Anything else (an
 * unknown op, a missing or extra field, a number out of range, an ID allocated while live or
 * freed or reallocated while not live, an alignment that is not a power of two) is rejected with
 * the line number and the reason.
 *
 * Parsing renames IDs to dense slots (a slot is reused once its block is freed), so a replay
 * keeps its live blocks in an array of nslots entries.
 */
#ifndef ALLOC_BENCH_TRACE_H
#define ALLOC_BENCH_TRACE_H

#include <stddef.h>
#include <stdint.h>

enum trace_kind {
    TRACE_ALLOC = 0,   /* a: size, aux = alignment */
    TRACE_CALLOC = 1,  /* z: size per element, aux = count */
    TRACE_REALLOC = 2, /* r: size */
    TRACE_FREE = 3,    /* f */
};

/* One operation: 16 bytes. */
struct trace_op {
    uint32_t slot_kind; /* slot << 2 | enum trace_kind */
    uint32_t aux;       /* alignment (TRACE_ALLOC) or element count (TRACE_CALLOC), else 0 */
    uint64_t size;      /* bytes (per element for TRACE_CALLOC) */
};

static inline enum trace_kind trace_op_kind(const struct trace_op *op) {
    return (enum trace_kind)(op->slot_kind & 3u);
}

static inline uint32_t trace_op_slot(const struct trace_op *op) {
    return op->slot_kind >> 2;
}

/* The largest size one operation may request (2^40 bytes); larger is rejected as bad input. */
#define TRACE_MAX_SIZE ((uint64_t)1 << 40)

struct trace {
    struct trace_op *ops;
    uint64_t nops;
    uint32_t nslots;      /* most blocks live at once: replays need this many slots */
    uint64_t peak_live;   /* most requested bytes live at once (calloc: count * size) */
    uint64_t count[4];    /* operations per enum trace_kind */
    uint64_t total_bytes; /* bytes requested by a, z and r operations */
    uint64_t live_at_end; /* blocks never freed */
    void *mapping;        /* internal: what trace_free() releases */
    size_t mapping_size;
};

/*
 * Parses the text trace at path (gzip'ed or plain), at most max_ops operations (0: all).
 * Returns 0 and fills *out, or -1 with a message "path:line: reason" in err (errlen bytes) and
 * *out empty.
 */
int trace_parse_file(const char *path, uint64_t max_ops, struct trace *out, char *err,
                     size_t errlen);

/*
 * Keeps only the first n operations of t (n <= t->nops) and recomputes its counts, peak and
 * totals for them; the operations themselves are not touched (a loaded trace stays mapped
 * read-only). Returns 0, or -1 if out of memory.
 */
int trace_truncate(struct trace *t, uint64_t n);

/* Writes the parsed trace to path in the binary format. Returns 0, or -1 with a message. */
int trace_save(const struct trace *t, const char *path, char *err, size_t errlen);

/*
 * Maps a binary trace written by trace_save(). Returns 0, or -1 with a message (not a binary
 * trace, truncated, or inconsistent counts).
 */
int trace_load(const char *path, struct trace *out, char *err, size_t errlen);

/* Releases what trace_parse_file() or trace_load() allocated; *t becomes empty. */
void trace_free(struct trace *t);

/* Short names of the operation kinds: "alloc", "calloc", "realloc", "free". */
const char *trace_kind_name(enum trace_kind kind);

#endif /* ALLOC_BENCH_TRACE_H */
