/*
 * sim.c - test support: simulated physical memory, TLB and frame source, and a frame allocator
 * configuration over that memory (see sim.h).
 */
#include "paging/testing/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_init(struct sim *s, uint64_t size) {
    memset(s, 0, sizeof *s);
    s->mem = aligned_alloc(PAGING_PAGE_SIZE, size);
    if (s->mem == NULL) {
        fprintf(stderr, "sim_init: out of host memory\n");
        abort();
    }
    memset(s->mem, SIM_GARBAGE, size);
    s->mem_size = size;
}

void sim_destroy(struct sim *s) {
    free(s->mem);
    s->mem = NULL;
}

void *sim_phys_to_virt(void *ctx, uint64_t phys) {
    struct sim *s = ctx;
    if (phys >= s->mem_size) {
        fprintf(stderr, "sim_phys_to_virt: 0x%llx outside simulated memory of 0x%llx bytes\n",
                (unsigned long long)phys, (unsigned long long)s->mem_size);
        abort();
    }
    return s->mem + phys;
}

void *sim_null_phys_to_virt(void *ctx, uint64_t phys) {
    (void)ctx;
    (void)phys;
    return NULL;
}

/* Counts a hook called without sim_hw_locked's lock held (when that lock is in use). */
static void note_call(struct sim *s, const char *hook) {
    if (s->lock_watched && !s->lock_held) {
        if (s->unlocked_calls == 0) {
            s->first_unlocked_call = hook;
        }
        s->unlocked_calls++;
    }
}

/* phys_to_virt as the mapper's hw: noted; tests reading the tables call sim_phys_to_virt. */
static void *sim_hw_phys_to_virt(void *ctx, uint64_t phys) {
    note_call(ctx, "phys_to_virt");
    return sim_phys_to_virt(ctx, phys);
}

static void sim_flush(void *ctx, uint64_t virt) {
    struct sim *s = ctx;
    note_call(s, "flush_tlb_page");
    if (s->flush_count < SIM_MAX_FLUSHES) {
        s->flushes[s->flush_count] = virt;
    }
    s->flush_count++;
}

static void sim_flush_all(void *ctx) {
    struct sim *s = ctx;
    note_call(s, "flush_tlb_all");
    s->flush_all_count++;
}

void sim_panic(void *ctx, const char *message) {
    struct sim *s = ctx;
    s->panic_message = message;
    if (s->panic_jump != NULL) {
        longjmp(*s->panic_jump, 1);
    }
    fprintf(stderr, "panic: %s\n", message);
    abort();
}

struct paging_hw sim_hw(struct sim *s) {
    struct paging_hw hw = {
        .phys_to_virt = sim_hw_phys_to_virt,
        .flush_tlb_page = sim_flush,
        .flush_tlb_all = sim_flush_all,
        .panic = sim_panic,
        .ctx = s,
    };
    return hw;
}

static void sim_lock(void *ctx) {
    struct sim *s = ctx;
    if (s->lock_held && s->lock_holder != s->cpu) {
        s->lock_waits++;
        if (s->lock_wait_jump != NULL) {
            longjmp(*s->lock_wait_jump, 1);
        }
        fprintf(stderr, "sim_lock: CPU %u would wait for CPU %u forever\n", s->cpu, s->lock_holder);
        abort();
    }
    s->lock_misuses += s->lock_held;
    s->lock_held = true;
    s->lock_holder = s->cpu;
    s->locks++;
}

static void sim_unlock(void *ctx) {
    struct sim *s = ctx;
    s->lock_misuses += !s->lock_held || s->lock_holder != s->cpu;
    s->lock_held = false;
    s->unlocks++;
}

static bool sim_lock_held(void *ctx) {
    const struct sim *s = ctx;
    return s->lock_held && s->lock_holder == s->cpu;
}

struct paging_hw sim_hw_locked(struct sim *s) {
    struct paging_hw hw = sim_hw(s);
    hw.lock = (struct paging_lock){
        .lock = sim_lock, .unlock = sim_unlock, .held = sim_lock_held, .ctx = s};
    s->lock_watched = true;
    return hw;
}

size_t sim_flush_count_of(const struct sim *s, uint64_t virt) {
    size_t n = 0;
    for (size_t i = 0; i < s->flush_count && i < SIM_MAX_FLUSHES; i++) {
        n += s->flushes[i] == virt;
    }
    return n;
}

bool sim_tlb_invalidated(const struct sim *s, uint64_t virt) {
    return s->flush_all_count > 0 || sim_flush_count_of(s, virt) > 0;
}

uint64_t *sim_zero_table(struct sim *s, uint64_t phys) {
    uint64_t *table = sim_phys_to_virt(s, phys);
    memset(table, 0, PAGING_PAGE_SIZE);
    return table;
}

void sim_frames_init(struct sim_frames *f, struct sim *s, uint64_t start, uint64_t end) {
    memset(f, 0, sizeof *f);
    if (start % PAGING_PAGE_SIZE != 0 || end > s->mem_size || start >= end) {
        fprintf(stderr, "sim_frames_init: bad range\n");
        abort();
    }
    f->sim = s;
    f->start = start;
    f->end = end;
    f->next = start;
    f->budget = SIM_UNLIMITED;
    f->is_out = calloc((end - start) / PAGING_PAGE_SIZE, 1);
}

void sim_frames_destroy(struct sim_frames *f) {
    free(f->is_out);
    f->is_out = NULL;
}

static bool sim_frames_allocate(void *ctx, uint64_t *phys_out) {
    struct sim_frames *f = ctx;
    note_call(f->sim, "allocate");
    if (f->budget == 0) {
        return false;
    }
    uint64_t phys;
    if (f->freed_count > 0) {
        phys = f->freed[--f->freed_count];
    } else if (f->next + PAGING_PAGE_SIZE <= f->end) {
        phys = f->next;
        f->next += PAGING_PAGE_SIZE;
    } else {
        return false;
    }
    if (f->budget > 0) {
        f->budget--;
    }
    f->is_out[(phys - f->start) / PAGING_PAGE_SIZE] = 1;
    f->outstanding++;
    f->allocations++;
    memset(sim_phys_to_virt(f->sim, phys), SIM_GARBAGE, PAGING_PAGE_SIZE);
    *phys_out = phys + f->misalign_next;
    f->misalign_next = 0;
    return true;
}

static void sim_frames_free(void *ctx, uint64_t phys) {
    struct sim_frames *f = ctx;
    note_call(f->sim, "free");
    if (phys < f->start || phys >= f->end || phys % PAGING_PAGE_SIZE != 0 ||
        !f->is_out[(phys - f->start) / PAGING_PAGE_SIZE]) {
        f->bad_frees++;
        return;
    }
    f->is_out[(phys - f->start) / PAGING_PAGE_SIZE] = 0;
    f->outstanding--;
    if (f->freed_count < sizeof f->freed / sizeof f->freed[0]) {
        f->freed[f->freed_count++] = phys;
    }
}

struct paging_frame_source sim_frames_source(struct sim_frames *f) {
    struct paging_frame_source source = {
        .allocate = sim_frames_allocate,
        .free = sim_frames_free,
        .ctx = f,
    };
    return source;
}

struct frame_allocator_config
sim_regions_config(const struct frame_allocator_usable_region *usable, size_t usable_count,
                   const struct frame_allocator_reserved_range *reserved, size_t reserved_count) {
    struct frame_allocator_config cfg = {
        .usable = usable,
        .usable_count = usable_count,
        .reserved = reserved,
        .reserved_count = reserved_count,
    };
    return cfg;
}

struct frame_allocator_config
sim_carving_config(struct sim *s, const struct frame_allocator_usable_region *usable,
                   size_t usable_count, const struct frame_allocator_reserved_range *reserved,
                   size_t reserved_count) {
    struct frame_allocator_config cfg =
        sim_regions_config(usable, usable_count, reserved, reserved_count);
    cfg.phys_to_virt = sim_phys_to_virt;
    cfg.ctx = s;
    return cfg;
}
