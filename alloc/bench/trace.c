/*
 * alloc/bench/trace.c - parses text malloc traces into the compact array of trace.h, and saves
 * and loads that array as a binary file. See trace.h for the format. Built with
 * TRACE_BINARY_ONLY, it only saves and loads (the replay workers, which any target can run).
 */
#define _GNU_SOURCE
#include "alloc/bench/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if !defined(TRACE_BINARY_ONLY)
#include <zlib.h>
#endif

#define MAX_SLOTS  ((uint32_t)1 << 30) /* slot_kind keeps 30 bits for the slot */
#define LINE_BYTES 256

static void set_error(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *trace_kind_name(enum trace_kind kind) {
    static const char *const names[] = {"alloc", "calloc", "realloc", "free"};
    return (unsigned)kind < 4 ? names[kind] : "unknown";
}

/* ---- live IDs: an open-addressing map from ID to slot ---- */

/* The text parser, left out of a build that only loads binary traces (no zlib needed). */
#if !defined(TRACE_BINARY_ONLY)
struct id_map {
    uint64_t *keys; /* ID + 1; 0 = empty */
    uint32_t *slots;
    size_t cap, used; /* cap is a power of two */
};

static size_t id_hash(uint64_t key, size_t cap) {
    return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static bool id_map_grow(struct id_map *m) {
    size_t cap = m->cap ? m->cap * 2 : 1 << 12;
    uint64_t *keys = calloc(cap, sizeof(*keys));
    uint32_t *slots = malloc(cap * sizeof(*slots));
    if (keys == NULL || slots == NULL) {
        free(keys);
        free(slots);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == 0)
            continue;
        size_t j = id_hash(m->keys[i], cap);
        while (keys[j] != 0)
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        slots[j] = m->slots[i];
    }
    free(m->keys);
    free(m->slots);
    m->keys = keys;
    m->slots = slots;
    m->cap = cap;
    return true;
}

/* Returns the index of key in the map, or of the empty entry where it would go. */
static size_t id_map_find(const struct id_map *m, uint64_t key) {
    size_t i = id_hash(key, m->cap);
    while (m->keys[i] != 0 && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

/* Removes entry i, shifting later entries of its probe run back so lookups still find them. */
static void id_map_remove(struct id_map *m, size_t i) {
    size_t mask = m->cap - 1;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (m->keys[j] == 0)
            break;
        size_t home = id_hash(m->keys[j], m->cap);
        /* Entry j may move to i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            m->keys[i] = m->keys[j];
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    m->used--;
}

/* ---- parsing ---- */

struct parser {
    struct trace *t;
    size_t ops_cap;
    struct id_map ids;
    uint32_t *free_slots; /* stack of slots whose block was freed */
    uint32_t nfree;
    size_t free_cap;
    uint64_t *slot_bytes; /* requested bytes of the live block in each slot */
    size_t slot_cap;
    uint64_t live;
};

/* Reads an unsigned decimal number at *p (after spaces); false if none or it overflows. */
static bool read_number(const char **p, uint64_t *out) {
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        s++;
    }
    if (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
        return false;
    *p = s;
    *out = v;
    return true;
}

static bool at_line_end(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return *p == '\0';
}

/* Makes room in an array of *cap elements of @size bytes each by realloc, doubling it (@first
 * elements when it has none). Returns the array, *cap updated, or NULL, the array as it was, when
 * out of memory. */
static void *grow_array(void *array, size_t *cap, size_t size, size_t first) {
    size_t n = *cap ? *cap * 2 : first;
    void *grown = realloc(array, n * size);
    if (grown != NULL)
        *cap = n;
    return grown;
}

static bool push_op(struct parser *ps, uint32_t slot, enum trace_kind kind, uint32_t aux,
                    uint64_t size) {
    struct trace *t = ps->t;
    if (t->nops == ps->ops_cap) {
        struct trace_op *grown = grow_array(t->ops, &ps->ops_cap, sizeof(*grown), 1 << 16);
        if (grown == NULL)
            return false;
        t->ops = grown;
    }
    t->ops[t->nops++] = (struct trace_op){slot << 2 | (uint32_t)kind, aux, size};
    t->count[kind]++;
    return true;
}

/* A new block: takes a free slot or a new one and records the ID as live. */
static const char *new_block(struct parser *ps, uint64_t id, uint64_t bytes, uint32_t *slot) {
    if (ps->ids.used * 2 >= ps->ids.cap && !id_map_grow(&ps->ids))
        return "out of memory";
    size_t i = id_map_find(&ps->ids, id + 1);
    if (ps->ids.keys[i] != 0)
        return "ID allocated while it is live";
    uint32_t s;
    if (ps->nfree > 0) {
        s = ps->free_slots[--ps->nfree];
    } else {
        if (ps->t->nslots == MAX_SLOTS)
            return "too many live blocks";
        s = ps->t->nslots++;
    }
    if (s >= ps->slot_cap || ps->slot_bytes == NULL) {
        uint64_t *grown = grow_array(ps->slot_bytes, &ps->slot_cap, sizeof(*grown), 1 << 12);
        if (grown == NULL)
            return "out of memory";
        ps->slot_bytes = grown;
    }
    ps->ids.keys[i] = id + 1;
    ps->ids.slots[i] = s;
    ps->ids.used++;
    ps->slot_bytes[s] = bytes;
    ps->live += bytes;
    *slot = s;
    return NULL;
}

static const char *parse_line(struct parser *ps, const char *line) {
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#')
        return ""; /* nothing to do */
    char op = *p++;
    if (*p != ' ' && *p != '\t')
        return "unknown operation (expected a, z, r or f followed by a space)";
    uint64_t id, x = 0, y = 0;
    if (!read_number(&p, &id) || id >= (uint64_t)1 << 62)
        return "bad ID (expected a decimal number below 2^62)";
    uint32_t slot;
    const char *why;
    switch (op) {
    case 'a':
        if (!read_number(&p, &x) || x > TRACE_MAX_SIZE)
            return "bad SIZE (expected a decimal number up to 2^40)";
        if (!read_number(&p, &y) || y == 0 || (y & (y - 1)) != 0 || y > ((uint64_t)1 << 31))
            return "bad ALIGN (expected a power of two up to 2^31)";
        if (!at_line_end(p))
            return "extra fields after a ID SIZE ALIGN";
        if ((why = new_block(ps, id, x, &slot)) != NULL)
            return why;
        return push_op(ps, slot, TRACE_ALLOC, (uint32_t)y, x) ? NULL : "out of memory";
    case 'z':
        if (!read_number(&p, &x) || x > UINT32_MAX)
            return "bad COUNT (expected a decimal number below 2^32)";
        if (!read_number(&p, &y) || y > TRACE_MAX_SIZE || (x > 0 && y > TRACE_MAX_SIZE / x))
            return "bad SIZE (expected a decimal number, COUNT * SIZE up to 2^40)";
        if (!at_line_end(p))
            return "extra fields after z ID COUNT SIZE";
        if ((why = new_block(ps, id, x * y, &slot)) != NULL)
            return why;
        return push_op(ps, slot, TRACE_CALLOC, (uint32_t)x, y) ? NULL : "out of memory";
    case 'r':
    case 'f': {
        if (op == 'r') {
            if (!read_number(&p, &x) || x == 0 || x > TRACE_MAX_SIZE)
                return "bad SIZE (expected a decimal number from 1 to 2^40; record realloc to 0 "
                       "as f)";
        }
        if (!at_line_end(p))
            return op == 'r' ? "extra fields after r ID SIZE" : "extra fields after f ID";
        if (ps->ids.cap == 0)
            return op == 'r' ? "realloc of an ID that is not live"
                             : "free of an ID that is not live";
        size_t i = id_map_find(&ps->ids, id + 1);
        if (ps->ids.keys[i] == 0)
            return op == 'r' ? "realloc of an ID that is not live"
                             : "free of an ID that is not live";
        slot = ps->ids.slots[i];
        ps->live -= ps->slot_bytes[slot];
        if (op == 'r') {
            ps->slot_bytes[slot] = x;
            ps->live += x;
            return push_op(ps, slot, TRACE_REALLOC, 0, x) ? NULL : "out of memory";
        }
        id_map_remove(&ps->ids, i);
        if (ps->nfree == ps->free_cap) {
            uint32_t *grown = grow_array(ps->free_slots, &ps->free_cap, sizeof(*grown), 1 << 12);
            if (grown == NULL)
                return "out of memory";
            ps->free_slots = grown;
        }
        ps->free_slots[ps->nfree++] = slot;
        return push_op(ps, slot, TRACE_FREE, 0, 0) ? NULL : "out of memory";
    }
    default:
        return "unknown operation (expected a, z, r or f)";
    }
}

int trace_parse_file(const char *path, uint64_t max_ops, struct trace *out, char *err,
                     size_t errlen) {
    memset(out, 0, sizeof(*out));
    gzFile in = gzopen(path, "rb");
    if (in == NULL) {
        set_error(err, errlen, "%s: cannot open: %s", path, strerror(errno ? errno : ENOMEM));
        return -1;
    }
    gzbuffer(in, 1 << 18);
    struct parser ps = {.t = out};
    char line[LINE_BYTES];
    uint64_t lineno = 0;
    int status = 0;
    while (max_ops == 0 || out->nops < max_ops) {
        if (gzgets(in, line, sizeof(line)) == NULL) {
            /* zlib's Z_BUF_ERROR here is "unexpected end of file": a stream cut short (a copy
             * that stopped, say), whose lines so far would pass for a shorter trace. */
            int code;
            const char *msg = gzerror(in, &code);
            if (code != Z_OK) {
                set_error(err, errlen, "%s: read error after line %llu: %s%s", path,
                          (unsigned long long)lineno, msg,
                          code == Z_BUF_ERROR ? " (the compressed file is cut short)" : "");
                status = -1;
            }
            break;
        }
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n' && !gzeof(in)) {
            set_error(err, errlen, "%s:%llu: line longer than %d bytes", path,
                      (unsigned long long)lineno, LINE_BYTES - 2);
            status = -1;
            break;
        }
        int code = Z_OK;
        if (len > 0 && line[len - 1] != '\n')
            (void)gzerror(in, &code); /* a last line without its newline: whole, or cut short? */
        if (code == Z_BUF_ERROR) {
            set_error(err, errlen, "%s:%llu: the compressed file is cut short by here", path,
                      (unsigned long long)lineno);
            status = -1;
            break;
        }
        const char *why = parse_line(&ps, line);
        if (why != NULL && why[0] != '\0') {
            len = strcspn(line, "\r\n");
            set_error(err, errlen, "%s:%llu: %s: \"%.*s\"", path, (unsigned long long)lineno, why,
                      (int)(len > 60 ? 60 : len), line);
            status = -1;
            break;
        }
        if (ps.live > out->peak_live)
            out->peak_live = ps.live;
        if (why == NULL) {
            const struct trace_op *op = &out->ops[out->nops - 1];
            if (trace_op_kind(op) == TRACE_CALLOC)
                out->total_bytes += op->size * op->aux;
            else
                out->total_bytes += op->size;
        }
    }
    gzclose(in);
    out->live_at_end = ps.ids.used;
    free(ps.ids.keys);
    free(ps.ids.slots);
    free(ps.free_slots);
    free(ps.slot_bytes);
    if (status == 0 && out->nops == 0) {
        set_error(err, errlen, "%s: no operations", path);
        status = -1;
    }
    if (status != 0)
        trace_free(out);
    return status;
}
#endif /* !TRACE_BINARY_ONLY */

int trace_truncate(struct trace *t, uint64_t n) {
    uint64_t *bytes = calloc((size_t)t->nslots + 1, sizeof(*bytes));
    if (bytes == NULL)
        return -1;
    uint64_t live = 0, peak = 0, total = 0, blocks = 0;
    memset(t->count, 0, sizeof(t->count));
    for (uint64_t i = 0; i < n && i < t->nops; i++) {
        const struct trace_op *op = &t->ops[i];
        uint32_t s = trace_op_slot(op);
        enum trace_kind kind = trace_op_kind(op);
        uint64_t size = kind == TRACE_CALLOC ? op->size * op->aux : op->size;
        t->count[kind]++;
        live -= bytes[s];
        bytes[s] = kind == TRACE_FREE ? 0 : size;
        live += bytes[s];
        total += size;
        blocks += kind == TRACE_ALLOC || kind == TRACE_CALLOC;
        blocks -= kind == TRACE_FREE;
        peak = live > peak ? live : peak;
    }
    free(bytes);
    t->nops = n < t->nops ? n : t->nops;
    t->peak_live = peak;
    t->total_bytes = total;
    t->live_at_end = blocks;
    return 0;
}

/* ---- binary files ---- */

#define TRACE_MAGIC "HKTRACE1"

struct trace_file_header {
    char magic[8];
    uint64_t nops, nslots, peak_live, count[4], total_bytes, live_at_end;
};

int trace_save(const struct trace *t, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        set_error(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    struct trace_file_header h = {.nops = t->nops,
                                  .nslots = t->nslots,
                                  .peak_live = t->peak_live,
                                  .total_bytes = t->total_bytes,
                                  .live_at_end = t->live_at_end};
    memcpy(h.magic, TRACE_MAGIC, 8);
    memcpy(h.count, t->count, sizeof(h.count));
    bool ok =
        fwrite(&h, sizeof(h), 1, f) == 1 && fwrite(t->ops, sizeof(*t->ops), t->nops, f) == t->nops;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        set_error(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int trace_load(const char *path, struct trace *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        set_error(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(struct trace_file_header)) {
        close(fd);
        set_error(err, errlen, "%s: not a binary trace (too short)", path);
        return -1;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        set_error(err, errlen, "%s: mmap: %s", path, strerror(errno));
        return -1;
    }
    const struct trace_file_header *h = map;
    uint64_t sum = h->count[0] + h->count[1] + h->count[2] + h->count[3];
    if (memcmp(h->magic, TRACE_MAGIC, 8) != 0 || h->nops != sum || h->nslots > MAX_SLOTS ||
        (size_t)st.st_size != sizeof(*h) + h->nops * sizeof(struct trace_op)) {
        munmap(map, (size_t)st.st_size);
        set_error(err, errlen, "%s: not a binary trace of this version, or truncated", path);
        return -1;
    }
    out->ops = (struct trace_op *)(h + 1);
    out->nops = h->nops;
    out->nslots = (uint32_t)h->nslots;
    out->peak_live = h->peak_live;
    memcpy(out->count, h->count, sizeof(out->count));
    out->total_bytes = h->total_bytes;
    out->live_at_end = h->live_at_end;
    out->mapping = map;
    out->mapping_size = (size_t)st.st_size;
    return 0;
}

void trace_free(struct trace *t) {
    if (t->mapping != NULL)
        munmap(t->mapping, t->mapping_size);
    else
        free(t->ops);
    memset(t, 0, sizeof(*t));
}
