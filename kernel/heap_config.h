/* The kernel heap's virtual range, chosen at build time (the heap_start and heap_pages of the
 * kernel_image macro in tools/kernel.bzl define the two macros below) and validated here at
 * compile time, so a bad choice never builds.
 * Defaults: [0x8000000, 0x8000000 + 1000 * 4 KiB), like the classic hobby-kernel tutorial. */
#ifndef KERNEL_HEAP_CONFIG_H
#define KERNEL_HEAP_CONFIG_H

#include "kernel/arch/x86_64/layout.h"

#ifndef KERNEL_HEAP_START
#define KERNEL_HEAP_START 0x8000000ull
#endif
#ifndef KERNEL_HEAP_PAGES
#define KERNEL_HEAP_PAGES 1000ull
#endif

#define KERNEL_HEAP_SIZE ((unsigned long long)(KERNEL_HEAP_PAGES) * PAGE_SIZE)

_Static_assert(KERNEL_HEAP_START % PAGE_SIZE == 0, "KERNEL_HEAP_START must be page aligned");
_Static_assert(KERNEL_HEAP_PAGES > 0, "KERNEL_HEAP_PAGES must be at least 1");
_Static_assert(KERNEL_HEAP_PAGES <= (1ull << 20), "KERNEL_HEAP_PAGES above 4 GiB of heap");
_Static_assert(KERNEL_HEAP_START >= IDENTITY_MAP_END,
               "the heap must not overlap the boot identity map [0, 32 MiB)");
_Static_assert(KERNEL_HEAP_START + KERNEL_HEAP_SIZE <= (1ull << 47),
               "the heap must lie in the lower canonical half");

#endif
