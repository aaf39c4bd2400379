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
