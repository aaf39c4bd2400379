/* The regions the kernel knows by name (see address_name.h). */
#include "kernel/address_name.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/heap.h"
#include "kernel/thread.h"

const char *kernel_address_name(uint64_t address, char *buffer, size_t size) {
    uint64_t guard = (uint64_t)(uintptr_t)kernel_stack_guard;
    struct heap_range heap = heap_range();
    uint64_t heap_end = heap_range_end(heap);
    if (thread_describe_address(address, buffer, size)) {
        return buffer;
    }
    if (address >= guard && address < guard + PAGE_SIZE) {
        return "kernel stack guard page: kernel stack overflow";
    }
    if (address < PAGE_SIZE) {
        return "NULL page";
    }
    if (heap.pages != 0 && address >= heap.start && address < heap_end) {
        return "inside the heap";
    }
    if (heap.pages != 0 && address >= heap_end && address < heap_end + PAGE_SIZE) {
        return "just past the heap end";
    }
    return "unmapped or protected";
}
