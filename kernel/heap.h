/* The kernel heap: a virtual range mapped page by page onto frames from the frame allocator, with
 * the //alloc allocator on it behind an interrupt-disabling spinlock, and the allocation API the
 * rest of the kernel uses. Out of memory is a NULL return; misuse (double free, foreign pointer,
 * corrupted header) panics with the misuse and the address. */
#ifndef KERNEL_HEAP_H
#define KERNEL_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/heap.h"
#include "paging/frame_allocator.h"
#include "paging/mapper.h"

/* Maps [start, start + pages * 4 KiB) present+writable, each page onto a fresh frame, and puts the
 * global allocator on it. Returns false, after logging an ERROR line with the page and the reason,
 * when a frame cannot be had or a page cannot be mapped (frames already taken for the failed page
 * are given back; pages mapped before it stay mapped). */
bool init_heap(struct paging_mapper *mapper, struct frame_allocator *frames, uint64_t start,
               uint64_t pages);

/* Each returns NULL when the heap cannot satisfy the request (see alloc/heap.h). */
void *kmalloc(size_t size);
void *kmalloc_aligned(size_t size, size_t align);
void *kcalloc(size_t count, size_t size);
void *krealloc(void *ptr, size_t size);
/* kfree(NULL) does nothing; a pointer the heap rejects panics. */
void kfree(void *ptr);

/* Heap statistics and the full integrity check (ALLOC_OK when every invariant holds). */
void kheap_stats(struct alloc_stats *out);
enum alloc_error kheap_check(void);
/* Logs one line with the statistics, prefixed by why. */
void kheap_log_stats(const char *why);

#endif
