/* Physical address ranges as (start, length) pairs, compared without wrapping: a range reaching
 * past 2^64 is treated as ending there. Pure C, tested on the host; smp.c uses it to keep the
 * start-up trampoline off the boot information and on memory the memory map calls available. */
#ifndef KERNEL_LIB_PHYS_RANGE_H
#define KERNEL_LIB_PHYS_RANGE_H

#include <stdbool.h>
#include <stdint.h>

/* Whether [a_start, a_start + a_length) and [b_start, b_start + b_length) share a byte. An empty
 * range (length 0) shares none. */
bool phys_ranges_overlap(uint64_t a_start, uint64_t a_length, uint64_t b_start, uint64_t b_length);

/* A range checked against a memory map, entry by entry: phys_range_in_map_add for each entry, then
 * phys_range_in_map_available. */
struct phys_range_in_map {
    uint64_t start;
    uint64_t length;
    bool held;      /* one available entry holds every byte of it */
    bool contested; /* an entry of another type shares a byte with it */
};

/* A check of [start, start + length) against no entry yet. */
struct phys_range_in_map phys_range_in_map_start(uint64_t start, uint64_t length);

/* Adds the map entry [base, base + length), available memory or not. */
void phys_range_in_map_add(struct phys_range_in_map *check, uint64_t base, uint64_t length,
                           bool available);

/* Whether the map says all of the range is available memory: one available entry holds it and no
 * entry of another type shares a byte with it (firmware maps overlap; where they do, the type that
 * is not available wins, as the frame allocator's reservations have it). Not for an empty range,
 * one whose end passes 2^64, or one that only two adjacent available entries hold together (the
 * one use, a page below 1 MiB, lies in a single entry on any firmware: refusing costs nothing). */
bool phys_range_in_map_available(const struct phys_range_in_map *check);

#endif
