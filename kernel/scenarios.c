/* Deliberate failures for the fault tests (see scenarios.h). */
#include "kernel/scenarios.h"

#include <stddef.h>
#include <stdint.h>

#include "alloc/cpu_cache.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/heap.h"
#include "kernel/kmalloc.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/panic.h"

/* Touches the first byte after the heap's last mapped page: a page fault. */
static void touch_past_heap_end(void) {
    volatile uint8_t *past_end = (volatile uint8_t *)(uintptr_t)heap_range_end(heap_range());
    log_info("scenario: writing to %p, just past the heap end", (void *)past_end);
    *past_end = 1;
}

/*
 * The lowest non-canonical address: bits 63..47 not all equal. A read through it is a general
 * protection fault with error code 0, not a page fault: no page table is walked.
 */
#define NON_CANONICAL_ADDRESS 0x0000800000000000ull

static void read_non_canonical(void) {
    log_info("scenario: reading %p, a non-canonical address", (void *)NON_CANONICAL_ADDRESS);
    uint64_t value = cpu_read_u64(NON_CANONICAL_ADDRESS);
    log_error("scenario: read %p from a non-canonical address", (void *)value);
}

static void divide_by_zero(void) {
    log_info("scenario: dividing by zero");
    uint64_t quotient = cpu_divide(1, 0);
    log_error("scenario: 1 / 0 gave %p", (void *)quotient);
}

/*
 * Scenarios run before the APIC and threads register any handler (kernel/main.c): no vector from
 * INTERRUPTS_FIRST_IRQ_VECTOR up has one yet.
 */
#define UNHANDLED_VECTOR 0x21

static void raise_unhandled_interrupt(void) {
    log_info("scenario: raising interrupt vector %u, which has no handler", UNHANDLED_VECTOR);
    CPU_RAISE_INTERRUPT(UNHANDLED_VECTOR);
}

/* Recurses until the stack runs into its guard page. The volatile buffer and the use after the
 * call keep the compiler from turning this into a loop. */
__attribute__((noinline)) static uint64_t recurse(uint64_t depth) {
    if (depth == UINT64_MAX) { /* never reached: the stack ends long before */
        return 0;
    }
    volatile uint8_t frame[512];
    frame[0] = (uint8_t)depth;
    return recurse(depth + 1) + frame[0];
}

void scenario_recurse_until_overflow(void) {
    recurse(0);
}

static void overflow_stack(void) {
    log_info("scenario: recursing until the kernel stack overflows");
    scenario_recurse_until_overflow();
}

/* Writes a lone `ret` into a heap block and calls it: data pages are mapped no-execute, so the
 * call is a page fault on the instruction fetch, not a return. */
static void execute_heap(void) {
    uint8_t *block = kmalloc(16);
    if (block == NULL) {
        panic("execute_heap: no heap block");
    }
    block[0] = 0xc3; /* ret */
    log_info("scenario: calling the code written into heap block %p", (void *)block);
    void (*code)(void) = (void (*)(void))(uintptr_t)block;
    code();
    log_error("scenario: heap block %p ran as code: the heap is executable", (void *)block);
}

/* A `ret` in the kernel's data (.bss, identity-mapped: its address is its physical one), for the
 * two scenarios below. */
static uint8_t code_in_data[16];

/* Calls a `ret` written into the kernel's data: memory_init maps data no-execute (W^X). */
static void execute_data(void) {
    code_in_data[0] = 0xc3; /* ret */
    log_info("scenario: calling the code written into kernel data at %p", (void *)code_in_data);
    ((void (*)(void))(uintptr_t)code_in_data)();
    log_error("scenario: kernel data at %p ran as code", (void *)code_in_data);
}

/* A `ret` in the kernel's read-only data (.rodata, past the code's end): no-execute as data is. */
static const uint8_t code_in_rodata[16] = {0xc3};

/* Calls the `ret` in read-only data: memory_init maps only the code executable. */
static void execute_rodata(void) {
    if ((uintptr_t)code_in_rodata < (uintptr_t)kernel_code_end ||
        (uintptr_t)code_in_rodata >= (uintptr_t)kernel_rodata_end) {
        panic("execute_rodata: %p is not in read-only data [%p, %p)", (const void *)code_in_rodata,
              (void *)kernel_code_end, (void *)kernel_rodata_end);
    }
    log_info("scenario: calling the code in the kernel's read-only data at %p",
             (const void *)code_in_rodata);
    ((void (*)(void))(uintptr_t)code_in_rodata)();
    log_error("scenario: the kernel's read-only data at %p ran as code",
              (const void *)code_in_rodata);
}

/* The same `ret` through its alias in the physical map, which maps every frame (heap and stacks
 * too): no-execute as well, or W^X would be a matter of which address one uses. */
static void execute_physical_map(void) {
    code_in_data[0] = 0xc3; /* ret */
    uint8_t *alias = phys_to_virt((uint64_t)(uintptr_t)code_in_data);
    log_info("scenario: calling the code at %p, the physical map's alias of kernel data %p",
             (void *)alias, (void *)code_in_data);
    ((void (*)(void))(uintptr_t)alias)();
    log_error("scenario: the physical map at %p ran as code", (void *)alias);
}

/* Writes into the kernel's code: memory_init maps it read-only (and CR0.WP holds the kernel to
 * it). */
static void write_code(void) {
    volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)scenario_run;
    log_info("scenario: writing into the kernel's code at %p", (void *)(uintptr_t)code);
    code[0] = code[0];
    log_error("scenario: the kernel's code at %p was written", (void *)(uintptr_t)code);
}

/* The same write through the code's alias in the physical map: read-only there too. */
static void write_code_alias(void) {
    volatile uint8_t *alias = phys_to_virt((uint64_t)(uintptr_t)scenario_run);
    log_info("scenario: writing into the kernel's code through its alias %p", (void *)alias);
    alias[0] = alias[0];
    log_error("scenario: the kernel's code was written through its alias %p", (void *)alias);
}

static void free_twice(void) {
    void *block = kmalloc(64);
    log_info("scenario: freeing block %p twice", block);
    kfree(block);
    kfree(block); // NOLINT(clang-analyzer-unix.Malloc): the double free is the point
}

/* The same with the per-CPU caches on: the first free caches the block, and the second is the
 * layer's to catch (alloc/cpu_cache.h), which reports it with the heap block's address, its
 * prefix below the user's pointer. */
static void free_twice_cached(void) {
    if (!kheap_cpu_caches_enable()) {
        panic("free_twice_cached: the per-CPU caches did not start");
    }
    uint8_t *block = kmalloc(64);
    log_info("scenario: freeing cached block %p (heap block %p) twice", (void *)block,
             (void *)(block - ALLOC_CPU_CACHE_PREFIX));
    kfree(block);
    struct alloc_cached_stats stats;
    kheap_cpu_cache_stats(&stats);
    log_info("scenario: after the first free, %zu blocks cached", stats.cached_blocks);
    kfree(block); // NOLINT(clang-analyzer-unix.Malloc): the double free is the point
}

static void free_foreign_pointer(void) {
    static uint8_t not_from_the_heap[64];
    log_info("scenario: freeing %p, which the heap never handed out", (void *)not_from_the_heap);
    kfree(not_from_the_heap); // NOLINT(clang-analyzer-unix.Malloc): the foreign free is the point
}

/*
 * A buffer underrun: the ALLOC_BLOCK_OVERHEAD bytes before a block are its header. 256 bytes:
 * a block of its own (requests of at most ALLOC_RUN_MAX_SIZE are header-less run slots).
 */
static void corrupt_block_header(void) {
    uint8_t *block = kmalloc(256);
    log_info("scenario: overwriting the header of block %p, then freeing it", (void *)block);
    memset(block - ALLOC_BLOCK_OVERHEAD, 0x41, ALLOC_BLOCK_OVERHEAD);
    kfree(block);
}

/* The blocks exhaust_heap takes until the heap says no: 64 KiB, each a request no cache serves. */
#define EXHAUSTION_BLOCK ((size_t)64 * 1024)

/*
 * Takes EXHAUSTION_BLOCK-byte blocks until the heap refuses one, chained through their first word;
 * returns the chain (newest first) and sets *count.
 */
static void **take_until_refused(size_t *count) {
    void **chain = NULL;
    *count = 0;
    for (void **next; (next = kmalloc(EXHAUSTION_BLOCK)) != NULL; chain = next) {
        *next = chain;
        (*count)++;
    }
    return chain;
}

static void give_back(void **chain) {
    while (chain != NULL) {
        void **older = *chain;
        kfree(chain);
        chain = older;
    }
}

/*
 * No memory left: a request larger than the free bytes is refused with the heap unchanged; then
 * EXHAUSTION_BLOCK blocks until the heap says no, as a caller that cannot go on would. The blocks
 * are given back, and the heap must be as it was (statistics and its check), so that exhaustion is
 * shown to lose nothing, before the caller's panic.
 */
static void exhaust_heap(void) {
    struct alloc_stats before, after;
    kheap_stats(&before);
    size_t too_large = before.bytes_free + 1;
    void *refused = kmalloc(too_large);
    kheap_stats(&after);
    log_check(refused == NULL && after.bytes_free == before.bytes_free &&
                  after.live_allocations == before.live_allocations,
              "oversized-request", "kmalloc(%zu) with %zu bytes free returned %p, heap unchanged",
              too_large, before.bytes_free, refused);

    size_t blocks;
    void **chain = take_until_refused(&blocks);
    log_error("out of memory: request of %zu bytes failed after %zu blocks", EXHAUSTION_BLOCK,
              blocks);
    kheap_log_stats("out of memory");

    give_back(chain);
    kheap_stats(&after);
    enum alloc_error check = kheap_check();
    log_check(check == ALLOC_OK && after.bytes_free == before.bytes_free &&
                  after.live_allocations == before.live_allocations,
              "exhaustion-undone", "%zu blocks given back: %zu bytes free (%zu before), heap %s",
              blocks, after.bytes_free, before.bytes_free, alloc_error_name(check));
    panic("exhaust_heap: out of memory");
}

/* The small blocks exhaust_heap_cached leaves in this CPU's cache: a class the caches serve. */
#define CACHED_BLOCKS     64
#define CACHED_BLOCK_SIZE 64

/*
 * No memory left with the per-CPU caches on and holding blocks: a request the heap cannot serve
 * drains every cache and is tried again (alloc/cpu_cache.h), so that memory a cache holds is not
 * lost to it. EXHAUSTION_BLOCK blocks are counted until the heap says no, first with the caches
 * empty, then with CACHED_BLOCKS small blocks freed into this CPU's cache: the second count must
 * equal the first, the failure must have drained the caches (none cached after it), and the heap
 * must check whole once everything is given back.
 */
static void exhaust_heap_cached(void) {
    if (!kheap_cpu_caches_enable()) {
        panic("exhaust_heap_cached: the per-CPU caches did not start");
    }
    size_t empty_count;
    give_back(take_until_refused(&empty_count));

    void *small[CACHED_BLOCKS];
    for (size_t i = 0; i < CACHED_BLOCKS; i++) {
        small[i] = kmalloc(CACHED_BLOCK_SIZE);
    }
    for (size_t i = 0; i < CACHED_BLOCKS; i++) {
        kfree(small[i]);
    }
    struct alloc_cached_stats before, after;
    kheap_cpu_cache_stats(&before);
    size_t held_count;
    void **chain = take_until_refused(&held_count);
    kheap_cpu_cache_stats(&after);
    give_back(chain);
    enum alloc_error check = kheap_check();
    log_check(before.cached_blocks > 0 && after.cached_blocks == 0 &&
                  after.drains > before.drains && held_count == empty_count && check == ALLOC_OK,
              "exhaustion-drains-caches",
              "%zu blocks cached (%zu bytes), drains %llu -> %llu, %zu left cached; %zu blocks of "
              "%zu bytes with them held, %zu with the caches empty; heap %s",
              before.cached_blocks, before.cached_bytes, (unsigned long long)before.drains,
              (unsigned long long)after.drains, after.cached_blocks, held_count, EXHAUSTION_BLOCK,
              empty_count, alloc_error_name(check));
    panic("exhaust_heap_cached: out of memory");
}

/* For the test rule's own tests: a kernel that goes silent and never exits. */
static void hang(void) {
    log_info("scenario: hanging with interrupts off");
    cpu_halt_forever();
}

/* For the test rule's own tests: an empty IDT turns the breakpoint into a triple fault, which
 * resets the machine without a word. */
static void triple_fault(void) {
    log_info("scenario: loading an empty IDT, then a breakpoint");
    const struct cpu_descriptor_pointer empty = {0, 0};
    cpu_load_idt(&empty);
    cpu_breakpoint();
}

/* A panic whose reason is longer than panic keeps (PANIC_REASON_SIZE): its line must say it was
 * cut, and from how many bytes, which the line before gives. */
#define LONG_REASON_PREFIX "long_panic_reason: "
#define LONG_REASON_XS     (2 * PANIC_REASON_SIZE)

static void long_panic_reason(void) {
    static char xs[LONG_REASON_XS + 1];
    memset(xs, 'x', LONG_REASON_XS);
    log_info("scenario: panicking with a reason of %zu bytes",
             strlen(LONG_REASON_PREFIX) + strlen(xs));
    panic(LONG_REASON_PREFIX "%s", xs);
}

static const struct {
    const char *name;
    void (*run)(void);
} scenarios[] = {
    {"page_fault_past_heap", touch_past_heap_end},
    {"stack_overflow", overflow_stack},
    {"execute_heap", execute_heap},
    {"execute_data", execute_data},
    {"execute_rodata", execute_rodata},
    {"execute_physical_map", execute_physical_map},
    {"write_code", write_code},
    {"write_code_alias", write_code_alias},
    {"general_protection", read_non_canonical},
    {"divide_error", divide_by_zero},
    {"unhandled_interrupt", raise_unhandled_interrupt},
    {"double_free", free_twice},
    {"double_free_cached", free_twice_cached},
    {"foreign_free", free_foreign_pointer},
    {"corrupt_header", corrupt_block_header},
    {"heap_exhaustion", exhaust_heap},
    {"heap_exhaustion_cached", exhaust_heap_cached},
    {"long_panic_reason", long_panic_reason},
    {"hang", hang},
    {"triple_fault", triple_fault},
};

enum scenario_result scenario_run(const char *cmdline) {
    struct cmdline_word wanted;
    if (!cmdline_value(cmdline, SCENARIO_KEY, &wanted)) {
        return SCENARIO_NONE;
    }
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (strlen(scenarios[i].name) == wanted.len &&
            strncmp(scenarios[i].name, wanted.start, wanted.len) == 0) {
            log_info("scenario: %s", scenarios[i].name);
            scenarios[i].run();
            panic("scenario_run: %s returned instead of faulting", scenarios[i].name);
        }
    }
    log_error("scenario: unknown scenario in command line \"%s\"", cmdline);
    return SCENARIO_UNKNOWN;
}
