/* Names the region of the kernel's address space an address falls in, so a fault report says what
 * was hit ("just past the heap end") without the reporter knowing the layout. */
#ifndef KERNEL_ADDRESS_NAME_H
#define KERNEL_ADDRESS_NAME_H

#include <stddef.h>
#include <stdint.h>

/* Room for any name kernel_address_name gives, with its terminating NUL. */
#define KERNEL_ADDRESS_NAME_MAX 96

/* A short phrase, never NULL: "kernel stack guard page: kernel stack overflow", "NULL page",
 * "inside the heap", "just past the heap end", a thread's stack or guard page (thread.h) or
 * "unmapped or protected". A thread's is written into buffer (size bytes, the caller's: two CPUs
 * may name addresses at once), and buffer returned; the others are constants. */
const char *kernel_address_name(uint64_t address, char *buffer, size_t size);

#endif
