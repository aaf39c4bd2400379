/* The memory map report's arithmetic (see memory_report.h). */
#include "kernel/lib/memory_report.h"

bool memory_range_end(uint64_t base, uint64_t length, uint64_t *end) {
    if (length > UINT64_MAX - base) {
        return false; /* base + length would be 2^64 or more */
    }
    *end = base + length;
    return true;
}

void memory_total_add(struct memory_total *total, uint64_t bytes) {
    if (total->saturated) {
        return;
    }
    /* Whole KiB and leftover bytes apart: neither sum can pass 2^64 unnoticed. */
    uint64_t kib = bytes >> 10;
    uint64_t rest = total->rest + (bytes & 1023); /* below 2048 */
    if (rest >= 1024) {
        rest -= 1024;
        kib++; /* at most 2^54 */
    }
    if (kib > UINT64_MAX - total->kib) {
        total->kib = UINT64_MAX;
        total->saturated = true;
        return;
    }
    total->kib += kib;
    total->rest = rest;
}
