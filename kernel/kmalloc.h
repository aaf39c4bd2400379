/* The kernel's allocation API: what code that allocates includes. Implemented over the kernel heap
 * by heap.c (brought up by heap_init, kernel/heap.h) and over the C library by :fake_heap in host
 * tests. Out of memory is a NULL return; misuse (double free, foreign pointer, corrupted header)
 * panics with the misuse and the address. */
#ifndef KERNEL_KMALLOC_H
#define KERNEL_KMALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/heap.h"

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
/* Per-CPU caches of small blocks in front of the heap's lock (//alloc:cpu_cache). Switched on once,
 * before threads and other CPUs run, and never off (their blocks carry the layer's prefix).
 * Returns false, after an ERROR line, if the layer refuses the heap. */
bool kheap_cpu_caches_enable(void);
bool kheap_cpu_caches_on(void);
/* Gives the calling CPU's cached blocks back to the heap (a CPU going idle); until
 * kheap_cpu_cache_warm, its interrupt handlers' refills fetch their own size class only. */
void kheap_cpu_cache_flush(void);
/* Stocks the calling CPU's cache if it is cold (after a flush), only if the heap's lock is free at
 * once: the scheduler calls it when a CPU starts running a thread, so CPUs starting work together
 * do not all take the heap's lock at their first allocation. */
void kheap_cpu_cache_warm(void);
/* The caches' figures as they stand, none given back first (unlike kheap_stats); all zero while
 * the caches are off. (alloc/cpu_cache.h defines the struct.) */
struct alloc_cached_stats;
void kheap_cpu_cache_stats(struct alloc_cached_stats *out);
/* Acquisitions of the heap lock, and the contended ones, since boot or the last reset. */
void kheap_lock_counts(uint64_t *acquires, uint64_t *contended);
void kheap_lock_reset_counts(void);
/* Logs one line with the statistics, prefixed by why. */
void kheap_log_stats(const char *why);

#endif
