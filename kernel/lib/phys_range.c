/* Physical address ranges (see phys_range.h). */
#include "kernel/lib/phys_range.h"

bool phys_ranges_overlap(uint64_t a_start, uint64_t a_length, uint64_t b_start, uint64_t b_length) {
    if (a_length == 0 || b_length == 0) {
        return false;
    }
    /* The later range starts inside the earlier one: a difference and a length, never an end. */
    if (a_start <= b_start) {
        return b_start - a_start < a_length;
    }
    return a_start - b_start < b_length;
}

struct phys_range_in_map phys_range_in_map_start(uint64_t start, uint64_t length) {
    return (struct phys_range_in_map){start, length, false, false};
}

void phys_range_in_map_add(struct phys_range_in_map *check, uint64_t base, uint64_t length,
                           bool available) {
    if (!available) {
        check->contested |= phys_ranges_overlap(check->start, check->length, base, length);
        return;
    }
    /* Held: it starts inside the entry and fits in what is left of it, by differences only, so an
     * entry reaching past 2^64 ends there as everywhere in this file. */
    if (check->start >= base && check->start - base < length &&
        check->length <= length - (check->start - base)) {
        check->held = true;
    }
}

bool phys_range_in_map_available(const struct phys_range_in_map *check) {
    bool wraps = check->length - 1 > UINT64_MAX - check->start;
    return check->length > 0 && !wraps && check->held && !check->contested;
}
