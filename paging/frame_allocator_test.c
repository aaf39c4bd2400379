/*
 * frame_allocator_test.c - host tests of the bitmap physical frame allocator.
 *
 * Most checks give the allocator caller-provided storage and memory maps whose addresses are
 * never dereferenced; the carving and poisoning checks use simulated physical memory (sim.h).
 * Expected counts are computed from the layout drawn above each check. frame_allocator_check()
 * runs after each step of counts_agree_with_shadow_check and at the end of most other checks that
 * change an allocator's state; check_detects_corruption_check also expects it to fail.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "paging/frame_allocator.h"
#include "paging/testing/sim.h"
#include "tests/support/check.h"

#define KiB   UINT64_C(0x400)
#define MiB   UINT64_C(0x100000)
#define GiB   UINT64_C(0x40000000)
#define FRAME UINT64_C(0x1000)

#define STORAGE_WORDS 65536 /* enough for a 4 GiB span */
static uint64_t storage[STORAGE_WORDS];
static struct frame_allocator fa;

/* A configuration over @usable and @reserved with its bitmaps in the test's storage. */
static struct frame_allocator_config
storage_config(const struct frame_allocator_usable_region *usable, size_t usable_count,
               const struct frame_allocator_reserved_range *reserved, size_t reserved_count) {
    struct frame_allocator_config cfg =
        sim_regions_config(usable, usable_count, reserved, reserved_count);
    cfg.storage = storage;
    cfg.storage_words = STORAGE_WORDS;
    return cfg;
}

static enum frame_allocator_error init_with(const struct frame_allocator_usable_region *usable,
                                            size_t usable_count,
                                            const struct frame_allocator_reserved_range *reserved,
                                            size_t reserved_count) {
    memset(storage, 0xA5, sizeof storage); /* garbage: init must not trust the storage */
    struct frame_allocator_config cfg =
        storage_config(usable, usable_count, reserved, reserved_count);
    return frame_allocator_init(&fa, &cfg);
}

static bool overlaps(uint64_t frame, const struct frame_allocator_reserved_range *r) {
    return frame < r->end && r->start < frame + FRAME;
}

/*
 * Usable [0, 2 MiB), nothing reserved by the caller:
 *
 *   0        1 MiB                2 MiB
 *   |xxxxxxxx|....................|       x: never handed out (first 1 MiB)
 *
 * Expect (2 MiB - 1 MiB) / 4 KiB frames, all in [1 MiB, 2 MiB), aligned, ascending, then
 * FRAME_ALLOCATOR_NO_FRAME.
 */
static int low_memory_never_returned_check(void) {
    struct frame_allocator_usable_region usable[] = {{0, 2 * MiB}};
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 1, NULL, 0));
    ASSERT_EQ((2 * MiB - MiB) / FRAME, frame_allocator_stats(&fa).usable_frames);

    uint64_t previous = 0;
    uint64_t count = 0;
    for (uint64_t f; (f = frame_allocator_allocate(&fa)) != FRAME_ALLOCATOR_NO_FRAME; count++) {
        ASSERT_TRUE(f >= FRAME_ALLOCATOR_LOW_LIMIT);
        ASSERT_TRUE(f + FRAME <= 2 * MiB);
        ASSERT_EQ(0, f % FRAME);
        ASSERT_TRUE(count == 0 || f > previous);
        previous = f;
    }
    ASSERT_EQ((2 * MiB - MiB) / FRAME, count);
    ASSERT_TRUE(frame_allocator_check(&fa));
    return 0;
}

/*
 * Usable [1 MiB, 8 MiB) with the ranges the kernel reserves, some unaligned:
 *
 *   1 MiB        0x2a3456   0x2c0010-0x2c0100   0x300000-0x303000       8 MiB
 *   |kernel image|.........|boot info|.........|boot page tables|.........|
 *
 * Reserved ranges grow outward to frame boundaries.
 * Expect no frame handed out to touch a reserved range, and the usable count to be the frames
 * of the region minus those the ranges touch.
 */
static int reserved_ranges_never_returned_check(void) {
    struct frame_allocator_usable_region usable[] = {{MiB, 7 * MiB}};
    struct frame_allocator_reserved_range reserved[] = {
        {MiB, 0x2a3456},      /* kernel image: frames [0x100000, 0x2a4000) */
        {0x2c0010, 0x2c0100}, /* boot information: frame 0x2c0000 */
        {0x300000, 0x303000}, /* boot page tables: 3 frames */
    };
    uint64_t excluded = (0x2a4000 - MiB) / FRAME + 1 + 3;
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 1, reserved, 3));
    ASSERT_EQ(7 * MiB / FRAME - excluded, frame_allocator_stats(&fa).usable_frames);

    uint64_t count = 0;
    for (uint64_t f; (f = frame_allocator_allocate(&fa)) != FRAME_ALLOCATOR_NO_FRAME; count++) {
        for (int r = 0; r < 3; r++) {
            ASSERT_FALSE(overlaps(f, &reserved[r]));
        }
    }
    ASSERT_EQ(7 * MiB / FRAME - excluded, count);
    ASSERT_TRUE(frame_allocator_check(&fa));
    return 0;
}

/*
 * Empty reserved ranges [x, x) over usable [1 MiB, 1 MiB + 4 frames): one inside a frame
 * (0x101800), one on a frame boundary (0x102000); then, carving, an empty range at the start of
 * the only run that holds the bitmaps.
 * Expect all 4 frames usable (an empty range reserves nothing, though grown outward its one
 * point lies in a frame), and the bitmaps carved at 1 MiB.
 */
static int empty_reserved_ranges_reserve_nothing_check(void) {
    struct frame_allocator_usable_region usable[] = {{MiB, 4 * FRAME}};
    struct frame_allocator_reserved_range empty[] = {{0x101800, 0x101800}, {0x102000, 0x102000}};
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 1, empty, 2));
    ASSERT_EQ(4, frame_allocator_stats(&fa).usable_frames);
    ASSERT_TRUE(frame_allocator_check(&fa));

    struct sim sim;
    sim_init(&sim, 2 * MiB);
    struct frame_allocator_reserved_range at_run[] = {{MiB + 0x10, MiB + 0x10}};
    struct frame_allocator_config cfg = sim_carving_config(&sim, usable, 1, at_run, 1);
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&fa, &cfg));
    ASSERT_EQ(MiB, fa.storage_start);
    ASSERT_EQ(3, frame_allocator_stats(&fa).usable_frames);
    sim_destroy(&sim);
    return 0;
}

/*
 * A usable region [0x100800, 0x105800) that starts and ends inside frames:
 *
 *   0x100000  0x101000  0x102000  0x103000  0x104000  0x105000  0x106000
 *   |  ..xxxx |xxxxxxxx |xxxxxxxx |xxxxxxxx |xxxxxxxx | xxxx..  |
 *
 * Expect only the 4 whole frames 0x101000 .. 0x104000, in order.
 */
static int regions_aligned_inward_check(void) {
    struct frame_allocator_usable_region usable[] = {{0x100800, 0x5000}};
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 1, NULL, 0));

    ASSERT_EQ(4, frame_allocator_stats(&fa).usable_frames);
    for (uint64_t want = 0x101000; want <= 0x104000; want += FRAME) {
        ASSERT_EQ(want, frame_allocator_allocate(&fa));
    }
    ASSERT_EQ(FRAME_ALLOCATOR_NO_FRAME, frame_allocator_allocate(&fa));
    return 0;
}

/*
 * Regions out of order, overlapping, with holes, one entirely below 1 MiB and one above 4 GiB:
 *
 *   [0x500000, 0x600000)  [0x100000, 0x180000)  [0x140000, 0x200000)  [0, 0x9f000)
 *   [4 GiB, 4 GiB + 64 KiB)
 *
 * Expect overlapping frames counted once, frames handed out in ascending order, and none from
 * the holes [0x200000, 0x500000) and [0x600000, 4 GiB).
 */
static int unsorted_overlapping_regions_check(void) {
    struct frame_allocator_usable_region usable[] = {
        {0x500000, MiB}, {0x100000, 0x80000}, {0x140000, 0xc0000},
        {0, 0x9f000},    {4 * GiB, 64 * KiB},
    };
    uint64_t expected = (0x200000 - 0x100000) / FRAME + MiB / FRAME + 64 * KiB / FRAME;
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 5, NULL, 0));
    ASSERT_EQ(expected, frame_allocator_stats(&fa).usable_frames);

    uint64_t previous = 0;
    for (uint64_t f; (f = frame_allocator_allocate(&fa)) != FRAME_ALLOCATOR_NO_FRAME;) {
        ASSERT_TRUE(f > previous);
        ASSERT_FALSE(f >= 0x200000 && f < 0x500000);
        ASSERT_FALSE(f >= 0x600000 && f < 4 * GiB);
        previous = f;
    }
    ASSERT_EQ(expected, frame_allocator_stats(&fa).allocated_frames);
    ASSERT_TRUE(frame_allocator_check(&fa));
    return 0;
}

/*
 * Eight usable frames, all allocated.
 * Expect FRAME_ALLOCATOR_NO_FRAME on every further call, 0 free frames, and check() passing.
 */
static int exhaustion_returns_failure_check(void) {
    struct frame_allocator_usable_region usable[] = {{MiB, 8 * FRAME}};
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 1, NULL, 0));
    for (int i = 0; i < 8; i++) {
        ASSERT_TRUE(frame_allocator_allocate(&fa) != FRAME_ALLOCATOR_NO_FRAME);
    }

    ASSERT_EQ(FRAME_ALLOCATOR_NO_FRAME, frame_allocator_allocate(&fa));
    ASSERT_EQ(FRAME_ALLOCATOR_NO_FRAME, frame_allocator_allocate(&fa));
    ASSERT_EQ(0, frame_allocator_stats(&fa).free_frames);
    ASSERT_EQ(8, frame_allocator_stats(&fa).allocated_frames);
    ASSERT_TRUE(frame_allocator_check(&fa));
    return 0;
}

/*
 * Allocate A < B < C, free B, then allocate again; then exhaust, free A, allocate again.
 *
 *   | A | B | C | ...        free B  ->  | A | . | C |  ->  allocate gives B
 *
 * Expect the lowest free frame each time: B, then A after exhaustion.
 */
static int free_then_reuse_check(void) {
    struct frame_allocator_usable_region usable[] = {{MiB, 200 * FRAME}};
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 1, NULL, 0));
    uint64_t a = frame_allocator_allocate(&fa);
    uint64_t b = frame_allocator_allocate(&fa);
    uint64_t c = frame_allocator_allocate(&fa);
    ASSERT_TRUE(a < b && b < c);

    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_free(&fa, b));
    ASSERT_TRUE(frame_allocator_check(&fa));
    ASSERT_EQ(b, frame_allocator_allocate(&fa));
    while (frame_allocator_allocate(&fa) != FRAME_ALLOCATOR_NO_FRAME) {
    }
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_free(&fa, a));
    ASSERT_EQ(a, frame_allocator_allocate(&fa));
    ASSERT_TRUE(frame_allocator_check(&fa));
    return 0;
}

/*
 * 20000 random allocations and frees over 300 frames (spanning several bitmap words), tracked
 * in a shadow array.
 * Expect the counts to match the shadow after every step, every allocation to return a frame
 * the shadow says is free, and check() to pass after every step.
 */
static int counts_agree_with_shadow_check(void) {
    struct frame_allocator_usable_region usable[] = {{MiB, 300 * FRAME}};
    static bool out[300];
    uint64_t allocated = 0;
    uint64_t state = 12345;
    memset(out, 0, sizeof out);
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 1, NULL, 0));

    for (int step = 0; step < 20000; step++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        size_t pick = (size_t)(state >> 33) % 300;
        if ((state >> 20) % 2 == 0) {
            uint64_t f = frame_allocator_allocate(&fa);
            if (allocated == 300) {
                ASSERT_EQ(FRAME_ALLOCATOR_NO_FRAME, f);
            } else {
                size_t i = (size_t)((f - MiB) / FRAME);
                ASSERT_TRUE(i < 300 && !out[i]);
                out[i] = true;
                allocated++;
            }
        } else if (out[pick]) {
            ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_free(&fa, MiB + pick * FRAME));
            out[pick] = false;
            allocated--;
        } else {
            ASSERT_EQ(FRAME_ALLOCATOR_ERR_DOUBLE_FREE,
                      frame_allocator_free(&fa, MiB + pick * FRAME));
        }
        struct frame_allocator_stats s = frame_allocator_stats(&fa);
        ASSERT_EQ(300, s.usable_frames);
        ASSERT_EQ(allocated, s.allocated_frames);
        ASSERT_EQ(300 - allocated, s.free_frames);
        ASSERT_EQ(out[pick], frame_allocator_is_allocated(&fa, MiB + pick * FRAME));
        ASSERT_TRUE(frame_allocator_check(&fa));
    }
    return 0;
}

/*
 * Free the same frame twice.
 * Expect FRAME_ALLOCATOR_ERR_DOUBLE_FREE the second time with the counts unchanged.
 */
static int double_free_detected_check(void) {
    struct frame_allocator_usable_region usable[] = {{MiB, 16 * FRAME}};
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 1, NULL, 0));
    uint64_t f = frame_allocator_allocate(&fa);
    frame_allocator_allocate(&fa);
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_free(&fa, f));
    struct frame_allocator_stats before = frame_allocator_stats(&fa);

    ASSERT_EQ(FRAME_ALLOCATOR_ERR_DOUBLE_FREE, frame_allocator_free(&fa, f));
    ASSERT_EQ(before.allocated_frames, frame_allocator_stats(&fa).allocated_frames);
    ASSERT_EQ(before.free_frames, frame_allocator_stats(&fa).free_frames);
    ASSERT_TRUE(frame_allocator_check(&fa));
    return 0;
}

/*
 * Frees of frames the allocator never manages:
 *
 *   0x1000 (low memory)  |  [1 MiB, 1 MiB+16K) usable, 0x102000 reserved  |  hole  |
 *   [2 MiB, 2 MiB+16K) usable  |  3 MiB (above the span)
 *
 * Expect FRAME_ALLOCATOR_ERR_FOREIGN_FRAME for the low frame, the reserved frame, the hole and the
 * frame above, FRAME_ALLOCATOR_ERR_MISALIGNED for an unaligned address, and the counts unchanged.
 */
static int foreign_frame_detected_check(void) {
    struct frame_allocator_usable_region usable[] = {{MiB, 4 * FRAME}, {2 * MiB, 4 * FRAME}};
    struct frame_allocator_reserved_range reserved[] = {{0x102000, 0x103000}};
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 2, reserved, 1));
    while (frame_allocator_allocate(&fa) != FRAME_ALLOCATOR_NO_FRAME) {
    }
    uint64_t allocated = frame_allocator_stats(&fa).allocated_frames;
    ASSERT_EQ(7, allocated);

    ASSERT_EQ(FRAME_ALLOCATOR_ERR_FOREIGN_FRAME, frame_allocator_free(&fa, 0x1000));
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_FOREIGN_FRAME, frame_allocator_free(&fa, 0x102000));
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_FOREIGN_FRAME, frame_allocator_free(&fa, 0x180000));
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_FOREIGN_FRAME, frame_allocator_free(&fa, 3 * MiB));
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_MISALIGNED, frame_allocator_free(&fa, 2 * MiB + 8));
    ASSERT_EQ(allocated, frame_allocator_stats(&fa).allocated_frames);
    ASSERT_FALSE(frame_allocator_is_allocated(&fa, 0x102000));
    ASSERT_TRUE(frame_allocator_check(&fa));
    return 0;
}

/*
 * Storage sizes: 64 frames fit one word per bitmap, 65 need two; one word short of the need.
 * Expect 2 and 4 words, and FRAME_ALLOCATOR_ERR_STORAGE_TOO_SMALL when a word is missing.
 */
static int storage_size_check(void) {
    struct frame_allocator_usable_region r64[] = {{MiB, 64 * FRAME}};
    struct frame_allocator_usable_region r65[] = {{MiB, 65 * FRAME}};
    ASSERT_EQ(2, frame_allocator_storage_words(r64, 1));
    ASSERT_EQ(4, frame_allocator_storage_words(r65, 1));

    uint64_t small[3];
    struct frame_allocator_config cfg = {
        .usable = r65,
        .usable_count = 1,
        .storage = small,
        .storage_words = 3,
    };
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_STORAGE_TOO_SMALL, frame_allocator_init(&fa, &cfg));
    uint64_t enough[4];
    cfg.storage = enough;
    cfg.storage_words = 4;
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&fa, &cfg));
    ASSERT_EQ(65, frame_allocator_stats(&fa).usable_frames);
    ASSERT_TRUE(frame_allocator_check(&fa));
    return 0;
}

/*
 * A huge usable region: [1 MiB, 1 MiB + (2^38 + 64) frames), a span of 2^38 + 64 frames (1 PiB and
 * a bit), 2^32 + 1 bitmap words each: more words than a 32-bit size_t counts.
 * Expect frame_allocator_storage_words to give the true 2 * (2^32 + 1) words where size_t holds
 * their size in bytes and SIZE_MAX where it does not (no storage that size can exist), and init
 * with the test's storage to be FRAME_ALLOCATOR_ERR_STORAGE_TOO_SMALL on every host, with no
 * bitmap word written.
 */
static int huge_span_storage_check(void) {
    const uint64_t frames = (UINT64_C(1) << 38) + 64;
    struct frame_allocator_usable_region huge[] = {{MiB, frames * FRAME}};
    const uint64_t need = 2 * ((frames + 63) / 64);
    ASSERT_EQ(need <= SIZE_MAX / sizeof(uint64_t) ? (size_t)need : SIZE_MAX,
              frame_allocator_storage_words(huge, 1));
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_STORAGE_TOO_SMALL, init_with(huge, 1, NULL, 0));
    ASSERT_EQ(UINT64_C(0xA5A5A5A5A5A5A5A5), storage[0]);
    ASSERT_EQ(UINT64_C(0xA5A5A5A5A5A5A5A5), storage[STORAGE_WORDS - 1]);
    return 0;
}

/*
 * No storage given: the bitmaps are carved from memory. The span is [1 MiB, 260 MiB), so the
 * two bitmaps take 2 bits x 66304 frames = 16.2 KiB = 5 frames:
 *
 *   1 MiB   +4K                             8 MiB    256 MiB        260 MiB
 *   |.|rsvd|[ bitmaps: 5 frames ]|..........|  hole  |...............|
 *
 * The first frame at 1 MiB is free but too small a run; the reserved frame at 1 MiB + 4 KiB
 * must be skipped.
 * Expect the storage at 1 MiB + 8 KiB, its frames never handed out, frees of them rejected as
 * foreign, and the usable count to exclude them.
 */
static int carve_storage_check(void) {
    struct sim sim;
    sim_init(&sim, 8 * MiB);
    struct frame_allocator_usable_region usable[] = {{MiB, 7 * MiB}, {256 * MiB, 4 * MiB}};
    struct frame_allocator_reserved_range reserved[] = {{MiB + FRAME, MiB + 2 * FRAME}};
    struct frame_allocator_config cfg = sim_carving_config(&sim, usable, 2, reserved, 1);
    uint64_t words = frame_allocator_storage_words(usable, 2);
    uint64_t storage_frames = (words * 8 + FRAME - 1) / FRAME;
    ASSERT_EQ(5, storage_frames);

    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&fa, &cfg));
    ASSERT_EQ(MiB + 2 * FRAME, fa.storage_start);
    ASSERT_EQ(MiB + (2 + storage_frames) * FRAME, fa.storage_end);
    ASSERT_TRUE((uint8_t *)fa.free_bits == sim.mem + fa.storage_start);
    ASSERT_EQ((7 * MiB + 4 * MiB) / FRAME - 1 - storage_frames,
              frame_allocator_stats(&fa).usable_frames);
    for (uint64_t f; (f = frame_allocator_allocate(&fa)) != FRAME_ALLOCATOR_NO_FRAME;) {
        ASSERT_FALSE(f >= fa.storage_start && f < fa.storage_end);
    }
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_FOREIGN_FRAME, frame_allocator_free(&fa, fa.storage_start));
    ASSERT_TRUE(frame_allocator_check(&fa));
    sim_destroy(&sim);
    return 0;
}

/*
 * No storage given and no run big enough: 2 free frames at 1 MiB, 1 frame at 1 TiB, so the
 * bitmaps need 64 MiB.
 * Expect FRAME_ALLOCATOR_ERR_NO_ROOM_FOR_STORAGE (and phys_to_virt never called: it would abort).
 */
static int carve_without_room_fails_check(void) {
    struct sim sim;
    sim_init(&sim, 2 * MiB);
    struct frame_allocator_usable_region usable[] = {{MiB, 2 * FRAME}, {1024 * GiB, FRAME}};
    struct frame_allocator_config cfg = sim_carving_config(&sim, usable, 2, NULL, 0);

    ASSERT_EQ(FRAME_ALLOCATOR_ERR_NO_ROOM_FOR_STORAGE, frame_allocator_init(&fa, &cfg));
    sim_destroy(&sim);
    return 0;
}

/*
 * No storage given, one stretch of usable memory, [1 MiB, 1 MiB + 136 KiB) or 34 frames, listed as
 * several regions, as a fragmented map lists it: out of order, touching and overlapping. With one
 * frame more at 1 GiB, the bitmaps need 16 frames (2 x 32 KiB); no single region holds 16.
 *
 *   regions listed:  A [+24K, +64K)   B [+64K, +136K)   C [1 MiB, +40K)   D: 1 frame at 1 GiB
 *
 * Expect the storage at the lowest run, 1 MiB; with frame 2 (1 MiB + 8 KiB) reserved, at frame 3,
 * the run still crossing from C into A and B; with frame 18 (+72 KiB) reserved too, no room: the
 * runs left are frames [3, 18) and [19, 34), 15 frames each.
 */
static int carve_across_regions_check(void) {
    struct sim sim;
    sim_init(&sim, 2 * MiB);
    struct frame_allocator_usable_region usable[] = {{MiB + 24 * KiB, 40 * KiB},
                                                     {MiB + 64 * KiB, 72 * KiB},
                                                     {MiB, 40 * KiB},
                                                     {1024 * MiB, FRAME}};
    ASSERT_EQ(16, (frame_allocator_storage_words(usable, 4) * 8 + FRAME - 1) / FRAME);
    struct frame_allocator_config cfg = sim_carving_config(&sim, usable, 4, NULL, 0);
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&fa, &cfg));
    ASSERT_EQ(MiB, fa.storage_start);
    ASSERT_EQ(MiB + 16 * FRAME, fa.storage_end);
    ASSERT_EQ(MiB + 16 * FRAME, frame_allocator_allocate(&fa));
    ASSERT_TRUE(frame_allocator_check(&fa));

    struct frame_allocator_reserved_range reserved[] = {{MiB + 2 * FRAME, MiB + 3 * FRAME},
                                                        {MiB + 72 * KiB, MiB + 73 * KiB}};
    cfg = sim_carving_config(&sim, usable, 4, reserved, 1);
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&fa, &cfg));
    ASSERT_EQ(MiB + 3 * FRAME, fa.storage_start);
    ASSERT_EQ(MiB, frame_allocator_allocate(&fa));
    ASSERT_EQ(MiB + FRAME, frame_allocator_allocate(&fa));
    ASSERT_EQ(MiB + 19 * FRAME, frame_allocator_allocate(&fa));
    ASSERT_TRUE(frame_allocator_check(&fa));

    cfg = sim_carving_config(&sim, usable, 4, reserved, 2);
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_NO_ROOM_FOR_STORAGE, frame_allocator_init(&fa, &cfg));
    sim_destroy(&sim);
    return 0;
}

/* The simulated memory, reached only below short_map_end (a direct map that ends there). */
static uint64_t short_map_end;

static void *short_phys_to_virt(void *ctx, uint64_t phys) {
    return phys < short_map_end ? sim_phys_to_virt(ctx, phys) : NULL;
}

/* The simulated memory with a jump at short_map_end: each frame from there on is reached one frame
 * further on than the frames before it imply (a direct map with a hole in its virtual range). */
static void *jumping_phys_to_virt(void *ctx, uint64_t phys) {
    uint8_t *p = sim_phys_to_virt(ctx, phys);
    return p != NULL && phys >= short_map_end ? p + FRAME : p;
}

/*
 * No storage given, over usable [1 MiB, 1 MiB + 2 GiB): the bitmaps take 2 x 64 KiB, 32 frames
 * from 1 MiB. phys_to_virt reaches only [0, 1 MiB + 8 KiB): the first 2 frames of that run; then
 * it reaches every frame, but those from 1 MiB + 8 KiB on one frame further on than the first
 * two imply.
 *
 *   1 MiB   +8 KiB                          +128 KiB
 *   |reached|....... not reached ...........|
 *
 * Expect FRAME_ALLOCATOR_ERR_NO_ROOM_FOR_STORAGE and no byte written past the reach; the same,
 * with no byte of the run written, where it jumps (the bitmaps are one array: written from the
 * first frame's pointer, they would miss the frames' real places); with the reach widened to the
 * whole run, init succeeds.
 */
static int carve_beyond_phys_to_virt_fails_check(void) {
    struct sim sim;
    sim_init(&sim, 2 * MiB);
    struct frame_allocator_usable_region usable[] = {{MiB, 2 * GiB}};
    struct frame_allocator_config cfg = sim_carving_config(&sim, usable, 1, NULL, 0);
    cfg.phys_to_virt = short_phys_to_virt;
    ASSERT_EQ(32, (frame_allocator_storage_words(usable, 1) * 8 + FRAME - 1) / FRAME);
    short_map_end = MiB + 2 * FRAME;

    ASSERT_EQ(FRAME_ALLOCATOR_ERR_NO_ROOM_FOR_STORAGE, frame_allocator_init(&fa, &cfg));
    for (uint64_t a = short_map_end; a < MiB + 32 * FRAME; a++) {
        ASSERT_EQ(SIM_GARBAGE, sim.mem[a]);
    }
    cfg.phys_to_virt = jumping_phys_to_virt;
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_NO_ROOM_FOR_STORAGE, frame_allocator_init(&fa, &cfg));
    for (uint64_t a = MiB; a < MiB + 34 * FRAME; a++) {
        ASSERT_EQ(SIM_GARBAGE, sim.mem[a]);
    }
    cfg.phys_to_virt = short_phys_to_virt;
    short_map_end = MiB + 32 * FRAME;
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&fa, &cfg));
    ASSERT_EQ(MiB, fa.storage_start);
    ASSERT_TRUE(frame_allocator_check(&fa));
    sim_destroy(&sim);
    return 0;
}

/*
 * poison_on_free with simulated memory: allocate a frame, zero it, free it.
 * Expect every byte of the freed frame to read FRAME_ALLOCATOR_POISON_BYTE and its neighbour to
 * be untouched.
 */
static int poison_on_free_check(void) {
    struct sim sim;
    sim_init(&sim, 2 * MiB);
    struct frame_allocator_usable_region usable[] = {{MiB, 16 * FRAME}};
    struct frame_allocator_config cfg = storage_config(usable, 1, NULL, 0);
    cfg.phys_to_virt = sim_phys_to_virt;
    cfg.ctx = &sim;
    cfg.poison_on_free = true;
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&fa, &cfg));
    uint64_t f = frame_allocator_allocate(&fa);
    uint64_t g = frame_allocator_allocate(&fa);
    memset(sim.mem + f, 0, 2 * FRAME);

    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_free(&fa, f));
    for (uint64_t i = 0; i < FRAME; i++) {
        ASSERT_EQ(FRAME_ALLOCATOR_POISON_BYTE, sim.mem[f + i]);
        ASSERT_EQ(0, sim.mem[g + i]);
    }
    sim_destroy(&sim);
    return 0;
}

/*
 * Ranges that wrap past 2^64 or run backwards.
 * Expect FRAME_ALLOCATOR_ERR_BAD_RANGE, and 0 storage words for a wrapping region.
 */
static int bad_ranges_rejected_check(void) {
    struct frame_allocator_usable_region wraps[] = {{MiB, 4 * MiB},
                                                    {UINT64_MAX - FRAME, 2 * FRAME}};
    struct frame_allocator_usable_region fine[] = {{MiB, 4 * MiB}};
    struct frame_allocator_reserved_range backwards[] = {{0x300000, 0x200000}};

    ASSERT_EQ(FRAME_ALLOCATOR_ERR_BAD_RANGE, init_with(wraps, 2, NULL, 0));
    ASSERT_EQ(0, frame_allocator_storage_words(wraps, 2));
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_BAD_RANGE, init_with(fine, 1, backwards, 1));
    return 0;
}

/*
 * A region crossing the 52-bit physical limit: [2^52 - 8 KiB, 2^52 + 8 KiB).
 * Expect only the 2 frames below 2^52.
 */
static int physical_limit_clamped_check(void) {
    struct frame_allocator_usable_region usable[] = {{PAGING_PHYS_LIMIT - 2 * FRAME, 4 * FRAME}};
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 1, NULL, 0));

    ASSERT_EQ(2, frame_allocator_stats(&fa).usable_frames);
    ASSERT_EQ(PAGING_PHYS_LIMIT - 2 * FRAME, frame_allocator_allocate(&fa));
    ASSERT_EQ(PAGING_PHYS_LIMIT - FRAME, frame_allocator_allocate(&fa));
    ASSERT_EQ(FRAME_ALLOCATOR_NO_FRAME, frame_allocator_allocate(&fa));
    return 0;
}

/*
 * Maps with nothing to hand out: empty; only low memory; usable frames all reserved (with storage
 * given, and carving it: no frame at all, not too few for the bitmaps); a region too small to hold
 * a whole frame.
 * Expect FRAME_ALLOCATOR_ERR_NO_USABLE_MEMORY each time.
 */
static int no_usable_memory_check(void) {
    struct frame_allocator_usable_region low[] = {{0, 0x9f000}};
    struct frame_allocator_usable_region some[] = {{MiB, 4 * FRAME}};
    struct frame_allocator_reserved_range all[] = {{0, 2 * MiB}};
    struct frame_allocator_usable_region sliver[] = {{MiB + 1, FRAME}};

    ASSERT_EQ(FRAME_ALLOCATOR_ERR_NO_USABLE_MEMORY, init_with(low, 0, NULL, 0));
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_NO_USABLE_MEMORY, init_with(low, 1, NULL, 0));
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_NO_USABLE_MEMORY, init_with(some, 1, all, 1));
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_NO_USABLE_MEMORY, init_with(sliver, 1, NULL, 0));
    struct sim sim;
    sim_init(&sim, 2 * MiB);
    struct frame_allocator_config carving = sim_carving_config(&sim, some, 1, all, 1);
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_NO_USABLE_MEMORY, frame_allocator_init(&fa, &carving));
    sim_destroy(&sim);
    return 0;
}

/*
 * Configurations missing a pointer: NULL config, NULL regions with a count, no storage and no
 * phys_to_virt, poisoning without phys_to_virt.
 * Expect FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT each time.
 */
static int invalid_arguments_check(void) {
    struct frame_allocator_usable_region usable[] = {{MiB, 4 * FRAME}};
    struct frame_allocator_config cfg = {
        .usable = NULL, .usable_count = 1, .storage = storage, .storage_words = STORAGE_WORDS};

    ASSERT_EQ(FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT, frame_allocator_init(&fa, NULL));
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT, frame_allocator_init(&fa, &cfg));
    cfg.usable = usable;
    cfg.reserved_count = 1;
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT, frame_allocator_init(&fa, &cfg));
    cfg.reserved_count = 0;
    cfg.storage = NULL;
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT, frame_allocator_init(&fa, &cfg));
    cfg.storage = storage;
    cfg.poison_on_free = true;
    ASSERT_EQ(FRAME_ALLOCATOR_ERR_INVALID_ARGUMENT, frame_allocator_init(&fa, &cfg));
    cfg.poison_on_free = false;
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&fa, &cfg));
    return 0;
}

/*
 * Corrupt the allocator behind its back, one invariant at a time, each undone before the next:
 * mark a reserved frame free; raise the hint above word 0, which still holds free frames (the
 * counters still agree); mark a usable, allocated frame past the span (bit 104 of a 100-frame span,
 * in the last word), with both counters raised to match; then make the allocated counter disagree
 * with the bits.
 * Expect frame_allocator_check() to pass before and to fail each time, each corruption alone.
 */
static int check_detects_corruption_check(void) {
    struct frame_allocator_usable_region usable[] = {{MiB, 100 * FRAME}};
    struct frame_allocator_reserved_range reserved[] = {{MiB + 10 * FRAME, MiB + 11 * FRAME}};
    ASSERT_EQ(FRAME_ALLOCATOR_OK, init_with(usable, 1, reserved, 1));
    frame_allocator_allocate(&fa);
    ASSERT_TRUE(frame_allocator_check(&fa));

    fa.free_bits[0] |= UINT64_C(1) << 10;
    ASSERT_FALSE(frame_allocator_check(&fa));
    fa.free_bits[0] &= ~(UINT64_C(1) << 10);
    ASSERT_TRUE(frame_allocator_check(&fa));

    fa.hint = 1;
    ASSERT_FALSE(frame_allocator_check(&fa));
    fa.hint = 0;

    fa.usable_bits[1] |= UINT64_C(1) << (104 - 64);
    fa.usable_frames++;
    fa.allocated_frames++;
    ASSERT_FALSE(frame_allocator_check(&fa));
    fa.usable_bits[1] &= ~(UINT64_C(1) << (104 - 64));
    fa.usable_frames--;
    fa.allocated_frames--;

    fa.allocated_frames++;
    ASSERT_FALSE(frame_allocator_check(&fa));
    return 0;
}

static jmp_buf panic_jump;
static const char *panic_message;

static void jump_panic(void *ctx, const char *message) {
    (void)ctx;
    panic_message = message;
    longjmp(panic_jump, 1);
}

/* A config over one usable region in the test's storage, whose panic hook is jump_panic. */
static struct frame_allocator_config
panicking_config(const struct frame_allocator_usable_region *usable) {
    struct frame_allocator_config cfg = storage_config(usable, 1, NULL, 0);
    cfg.panic = jump_panic;
    return cfg;
}

/*
 * The paging_frame_source adapter over 2 frames.
 * Expect allocate to give both frames then report failure, free to return a frame for reuse,
 * and a free the allocator rejects (double free) to call the panic hook.
 */
static int frame_source_adapter_check(void) {
    struct frame_allocator_usable_region usable[] = {{MiB, 2 * FRAME}};
    struct frame_allocator_config cfg = panicking_config(usable);
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&fa, &cfg));
    struct paging_frame_source source = frame_allocator_frame_source(&fa);
    uint64_t a = 0;
    uint64_t b = 0;
    uint64_t c = 0;

    ASSERT_TRUE(source.allocate(source.ctx, &a));
    ASSERT_TRUE(source.allocate(source.ctx, &b));
    ASSERT_FALSE(source.allocate(source.ctx, &c));
    ASSERT_EQ(MiB, a);
    ASSERT_EQ(MiB + FRAME, b);
    source.free(source.ctx, a);
    ASSERT_EQ(1, frame_allocator_stats(&fa).allocated_frames);
    ASSERT_TRUE(source.allocate(source.ctx, &c));
    ASSERT_EQ(a, c);
    source.free(source.ctx, c);
    panic_message = NULL;
    if (setjmp(panic_jump) == 0) {
        source.free(source.ctx, c);
        ASSERT_TRUE(!"double free through the adapter did not panic");
    }
    ASSERT_TRUE(panic_message != NULL && strstr(panic_message, "frame_source") != NULL);
    return 0;
}

/*
 * Poisoning on free with a phys_to_virt that reaches no frame (returns NULL), over 2 frames in
 * caller storage.
 * Expect the free of an allocated frame to call the panic hook with a message naming phys_to_virt
 * rather than write through NULL, the frame still allocated and the allocator consistent.
 */
static int poison_without_mapping_panics_check(void) {
    struct frame_allocator_usable_region usable[] = {{MiB, 2 * FRAME}};
    struct frame_allocator_config cfg = panicking_config(usable);
    cfg.phys_to_virt = sim_null_phys_to_virt;
    cfg.poison_on_free = true;
    ASSERT_EQ(FRAME_ALLOCATOR_OK, frame_allocator_init(&fa, &cfg));
    uint64_t f = frame_allocator_allocate(&fa);
    ASSERT_EQ(MiB, f);
    panic_message = NULL;
    if (setjmp(panic_jump) == 0) {
        frame_allocator_free(&fa, f);
        ASSERT_TRUE(!"a free with nothing to poison through did not panic");
    }
    ASSERT_TRUE(panic_message != NULL && strstr(panic_message, "phys_to_virt") != NULL);
    ASSERT_TRUE(frame_allocator_is_allocated(&fa, f));
    ASSERT_EQ(1, frame_allocator_stats(&fa).allocated_frames);
    ASSERT_TRUE(frame_allocator_check(&fa));
    return 0;
}

/*
 * Every error value.
 * Expect the documented names, the project's naming rule (ASSERT_ERROR_NAMES), and "unknown
 * error" outside the enum.
 */
static int error_names_check(void) {
    ASSERT_STREQ("double free", frame_allocator_error_name(FRAME_ALLOCATOR_ERR_DOUBLE_FREE));
    /* A value outside the enum, on purpose. */
    // NOLINTNEXTLINE(clang-analyzer-optin.core.EnumCastOutOfRange)
    ASSERT_STREQ("unknown error", frame_allocator_error_name((enum frame_allocator_error)99));
    ASSERT_ERROR_NAMES(frame_allocator_error_name, enum frame_allocator_error, FRAME_ALLOCATOR_OK,
                       FRAME_ALLOCATOR_ERR_DOUBLE_FREE);
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, low_memory_never_returned_check);
    RUN_CHECK(failures, reserved_ranges_never_returned_check);
    RUN_CHECK(failures, empty_reserved_ranges_reserve_nothing_check);
    RUN_CHECK(failures, regions_aligned_inward_check);
    RUN_CHECK(failures, unsorted_overlapping_regions_check);
    RUN_CHECK(failures, exhaustion_returns_failure_check);
    RUN_CHECK(failures, free_then_reuse_check);
    RUN_CHECK(failures, counts_agree_with_shadow_check);
    RUN_CHECK(failures, double_free_detected_check);
    RUN_CHECK(failures, foreign_frame_detected_check);
    RUN_CHECK(failures, storage_size_check);
    RUN_CHECK(failures, huge_span_storage_check);
    RUN_CHECK(failures, carve_storage_check);
    RUN_CHECK(failures, carve_without_room_fails_check);
    RUN_CHECK(failures, carve_across_regions_check);
    RUN_CHECK(failures, carve_beyond_phys_to_virt_fails_check);
    RUN_CHECK(failures, poison_on_free_check);
    RUN_CHECK(failures, bad_ranges_rejected_check);
    RUN_CHECK(failures, physical_limit_clamped_check);
    RUN_CHECK(failures, no_usable_memory_check);
    RUN_CHECK(failures, invalid_arguments_check);
    RUN_CHECK(failures, check_detects_corruption_check);
    RUN_CHECK(failures, frame_source_adapter_check);
    RUN_CHECK(failures, poison_without_mapping_panics_check);
    RUN_CHECK(failures, error_names_check);
    printf("%d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
