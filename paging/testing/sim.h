/*
 * sim.h - test support: a simulated machine for running the real mapper and frame allocator.
 *
 *   struct sim          "physical memory": a 4 KiB-aligned malloc'd buffer, phys_to_virt =
 *                       base + phys (aborting outside it), a TLB that records every flushed
 *                       address and counts whole flushes, and a panic hook that can longjmp
 *                       back into the test; with sim_hw_locked, a lock that counts and notes
 *                       every hook call made while it is not held, and knows which simulated
 *                       CPU holds it (a test may switch CPUs to make a call from another).
 *   struct sim_frames   a fake frame source handing out frames of [start, end) inside the
 *                       simulated memory, filled with garbage (SIM_GARBAGE) so that a mapper
 *                       that forgets to zero a table is caught; it can be told to fail after N
 *                       frames and counts outstanding frames so leaks show.
 *   sim_regions_config  a frame allocator configuration of regions only, which the tests
 *                       complete with their storage, and sim_carving_config, one that carves its
 *                       bitmaps from the simulated memory.
 *   sim_null_phys_to_virt  a phys_to_virt that reaches no frame, for the panic checks.
 *
 * Test-only: never linked into the kernel.
 */
#ifndef PAGING_TESTING_SIM_H
#define PAGING_TESTING_SIM_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paging/frame_allocator.h"
#include "paging/frame_source.h"
#include "paging/mapper.h"

#define SIM_GARBAGE     0xA5 /* as a table entry: present, PS, address bits set */
#define SIM_MAX_FLUSHES 1024
#define SIM_UNLIMITED   (-1L)

struct sim {
    uint8_t *mem;
    uint64_t mem_size;
    uint64_t flushes[SIM_MAX_FLUSHES];
    size_t flush_count;        /* flush_tlb_page calls (flushes[] holds the first ones) */
    size_t flush_all_count;    /* flush_tlb_all calls */
    const char *panic_message; /* last message given to the panic hook */
    jmp_buf *panic_jump;       /* if set, the panic hook longjmps here */
    /* The lock of sim_hw_locked, and what it saw. */
    bool lock_watched;       /* set by sim_hw_locked: the hooks below note unlocked calls */
    bool lock_held;          /* between a lock and its unlock */
    unsigned cpu;            /* the simulated CPU calling now: 0 unless a test switches it */
    unsigned lock_holder;    /* the CPU that took the lock, while lock_held */
    size_t locks;            /* lock calls that took the lock */
    size_t unlocks;          /* unlock calls */
    size_t lock_misuses;     /* lock while this CPU holds it (a deadlock), unlock while not held */
    size_t lock_waits;       /* lock calls while another CPU held it */
    jmp_buf *lock_wait_jump; /* such a call, which would wait, longjmps here (else aborts) */
    size_t unlocked_calls;   /* phys_to_virt, flush, frame allocate or free while not held */
    const char *first_unlocked_call; /* the hook of the first of them, for the report */
};

struct sim_frames {
    struct sim *sim;
    uint64_t start; /* frames are handed out from [start, end) */
    uint64_t end;
    uint64_t next;       /* bump pointer */
    uint64_t freed[512]; /* stack of freed frames, reused first */
    size_t freed_count;
    long budget;            /* frames left before allocate fails; SIM_UNLIMITED by default */
    size_t outstanding;     /* allocated and not freed */
    size_t allocations;     /* successful allocate calls */
    size_t bad_frees;       /* frees of frames that were not outstanding */
    uint8_t *is_out;        /* per-frame outstanding flag */
    uint64_t misalign_next; /* if non-zero, added to the next frame handed out (panic tests) */
};

/* Allocates @size bytes (multiple of 4 KiB) of simulated memory filled with SIM_GARBAGE. */
void sim_init(struct sim *s, uint64_t size);
void sim_destroy(struct sim *s);

/* Pointer to simulated physical address @phys; aborts when phys is outside the memory. */
void *sim_phys_to_virt(void *sim, uint64_t phys);

/* A phys_to_virt (of the mapper's hw or a frame allocator configuration) that reaches no frame:
 * always NULL, which the library must take for a broken invariant, not a pointer. */
void *sim_null_phys_to_virt(void *ctx, uint64_t phys);

/* The panic hook of sim_hw (ctx: the struct sim): notes the message and longjmps to panic_jump
 * when it is set, else prints it and aborts. Also a frame allocator configuration's panic hook. */
void sim_panic(void *ctx, const char *message);

/* The struct paging_hw of the simulated machine (phys_to_virt, recording TLB, panic hook). */
struct paging_hw sim_hw(struct sim *s);

/* sim_hw with a lock: lock and unlock count themselves and flag misuse, held answers whether
 * s->cpu holds the lock, and from then on each call of the hw's phys_to_virt and flushes, and of
 * the frame source's allocate and free (a struct sim_frames over @s), made without the lock is
 * counted in unlocked_calls. A lock call while another CPU holds the lock is counted in
 * lock_waits and, as a single-threaded test cannot wait, longjmps to lock_wait_jump. */
struct paging_hw sim_hw_locked(struct sim *s);

/* Number of recorded flushes of @virt. */
size_t sim_flush_count_of(const struct sim *s, uint64_t virt);

/* Whether a translation of the page at @virt cached before the recorded flushes is gone: @virt was
 * flushed or the whole TLB was. Reset flush_count and flush_all_count to look from a later point.
 */
bool sim_tlb_invalidated(const struct sim *s, uint64_t virt);

/* Zeroes the 4 KiB frame at @phys and returns a pointer to its 512 entries. */
uint64_t *sim_zero_table(struct sim *s, uint64_t phys);

/* Hands out frames of [start, end) (inside the simulated memory). */
void sim_frames_init(struct sim_frames *f, struct sim *s, uint64_t start, uint64_t end);
void sim_frames_destroy(struct sim_frames *f);
struct paging_frame_source sim_frames_source(struct sim_frames *f);

/* A frame allocator configuration over @usable and @reserved and nothing else: no storage, no
 * phys_to_virt, no poisoning, no panic hook, for the caller to add what its check needs. */
struct frame_allocator_config
sim_regions_config(const struct frame_allocator_usable_region *usable, size_t usable_count,
                   const struct frame_allocator_reserved_range *reserved, size_t reserved_count);

/* sim_regions_config with no storage given: the allocator carves its bitmaps from the simulated
 * memory of @s, reached through sim_phys_to_virt. */
struct frame_allocator_config
sim_carving_config(struct sim *s, const struct frame_allocator_usable_region *usable,
                   size_t usable_count, const struct frame_allocator_reserved_range *reserved,
                   size_t reserved_count);

#endif /* PAGING_TESTING_SIM_H */
