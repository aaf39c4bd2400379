/* Kernel heap bring-up: a virtual range mapped page by page onto frames from the frame allocator,
 * with the //alloc allocator on it behind an interrupt-disabling spinlock. The allocation API over
 * it is kernel/kmalloc.h. */
#ifndef KERNEL_HEAP_H
#define KERNEL_HEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/arch/x86_64/layout.h"
#include "kernel/lib/heap_range.h"
#include "kernel/memory.h"

/* Picks the heap range: HEAP_DEFAULT_PAGES pages from HEAP_DEFAULT_START (machine.bzl) unless the
 * boot command line's heap_start= and heap_pages= say otherwise (kernel/lib/heap_range.h). Returns
 * false, after logging an ERROR line with the command line and the reason, when the range they give
 * is unusable. */
bool heap_range_from_boot(const char *cmdline, struct heap_range *range);

/* Maps the range with memory_data_page_flags (present, writable, no-execute when the CPU has NX),
 * each page onto a fresh frame from memory_frame_allocate, and puts the global allocator on it.
 * Returns false, after logging an ERROR line with the page and the reason, when a frame cannot be
 * had or a page cannot be mapped (frames already taken for the failed page are given back; pages
 * mapped before it stay mapped). */
bool heap_init(struct kernel_memory *memory, struct heap_range range);

/* The range heap_init was given; {0, 0} before it was called. */
struct heap_range heap_range(void);

/* The first byte past the range. */
static inline uint64_t heap_range_end(struct heap_range range) {
    return range.start + range.pages * PAGE_SIZE;
}

#endif
