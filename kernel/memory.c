/* Memory bring-up and the TLB shootdown (see memory.h). */
#include "kernel/memory.h"

#include <stddef.h>
#include <stdint.h>

#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/interrupts.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/cpu_local.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/format.h"
#include "kernel/lib/image_protection.h"
#include "kernel/lib/tlb_shootdown.h"
#include "kernel/lib/usable_region.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"

/*
 * The one lock of the page tables and of the frame allocator, which the mapper takes frames from:
 * the mapper takes it around each of its calls (its struct paging_lock), and memory_frame_allocate,
 * memory_frame_free and memory_frame_stats around theirs, so every kernel caller is serialised
 * whichever it uses.
 * The mapper's flushes run under it, and they shoot the TLB down on every other CPU, waiting for
 * each to answer an IPI. That stays free of deadlocks: a CPU waiting for this lock (a spinlock)
 * halts with interrupts on once halting is allowed (spinlock.c, wait_halted; main.c allows it
 * before the other CPUs start), so it takes the IPI and answers while it waits; before that only
 * the boot CPU runs and nothing is sent. Under the lock nothing takes another lock (the frame
 * allocator, the tables and the shootdown take none): it is the innermost, so no lock order
 * involving it can close a cycle.
 */
static struct spinlock memory_lock = SPINLOCK_INIT("page tables and frames");

uint64_t memory_frame_allocate(struct kernel_memory *memory) {
    spinlock_acquire(&memory_lock);
    uint64_t phys = frame_allocator_allocate(&memory->frames);
    spinlock_release(&memory_lock);
    return phys;
}

enum frame_allocator_error memory_frame_free(struct kernel_memory *memory, uint64_t phys) {
    spinlock_acquire(&memory_lock);
    enum frame_allocator_error result = frame_allocator_free(&memory->frames, phys);
    spinlock_release(&memory_lock);
    return result;
}

struct frame_allocator_stats memory_frame_stats(struct kernel_memory *memory) {
    spinlock_acquire(&memory_lock);
    struct frame_allocator_stats stats = frame_allocator_stats(&memory->frames);
    spinlock_release(&memory_lock);
    return stats;
}

static void *kernel_phys_to_virt(void *ctx, uint64_t phys) {
    (void)ctx;
    return phys < PHYS_MAP_SIZE ? phys_to_virt(phys) : NULL;
}

/* The TLB shootdown (kernel/lib/tlb_shootdown.h): every CPU's request, one bit per CPU index. */
_Static_assert(CPU_MAX <= TLB_SHOOTDOWN_CPUS_MAX, "a shootdown request names at most 64 CPUs");
static struct tlb_shootdown shootdown;

static void flush_this_cpu(void *ctx, enum tlb_flush kind, uint64_t virt) {
    (void)ctx;
    if (kind == TLB_FLUSH_PAGE) {
        cpu_invlpg(virt);
    } else {
        cpu_flush_tlb_all();
    }
}

static void send_shootdown_ipi(void *ctx, uint32_t cpu_index) {
    (void)ctx;
    apic_send_tlb_shootdown(cpu_by_index(cpu_index)->apic_id);
}

static const struct tlb_shootdown_ops shootdown_ops = {flush_this_cpu, send_shootdown_ipi,
                                                       cpu_rdtsc_ctx, cpu_pause_ctx, NULL};

/* A CPU asked to flush: it does, and says so. */
static void handle_tlb_shootdown(struct interrupt_frame *frame) {
    (void)frame;
    tlb_shootdown_answer(&shootdown, &shootdown_ops, cpu_this_index());
    apic_eoi();
}

/* Flushes on this CPU and, once other CPUs run, on each of them, waiting up to
 * MEMORY_TLB_SHOOTDOWN_TIMEOUT_MS for all; a CPU that does not answer by then is a deadlock (see
 * memory.h): a panic naming it. Interrupts off throughout, so the caller stays on one CPU. With one
 * CPU online nothing is sent: the APIC, and its calibrated TSC, may not be up yet. */
static void shoot_down(enum tlb_flush kind, uint64_t virt) {
    irq_save();
    uint64_t bound =
        apic_calibration().tsc_ticks_per_second / 1000 * MEMORY_TLB_SHOOTDOWN_TIMEOUT_MS;
    uint32_t unanswered = 0;
    enum tlb_shootdown_result result = tlb_shootdown_run(
        &shootdown, &shootdown_ops, cpu_this_index(), cpu_count(), kind, virt, bound, &unanswered);
    if (result == TLB_SHOOTDOWN_UNANSWERED) {
        char what[40];
        if (kind == TLB_FLUSH_PAGE) {
            format_string(what, sizeof what, "page %p", (void *)virt);
        } else {
            format_string(what, sizeof what, "the whole TLB");
        }
        panic("shoot_down: CPU %u did not answer the TLB shootdown of %s from CPU %u within %u ms: "
              "its interrupts were off that long",
              unanswered, what, cpu_this_index(), (unsigned)MEMORY_TLB_SHOOTDOWN_TIMEOUT_MS);
    }
    if (result != TLB_SHOOTDOWN_OK) {
        panic("shoot_down: TLB shootdown from CPU %u of %u online: %s", cpu_this_index(),
              cpu_count(), tlb_shootdown_result_name(result));
    }
    irq_restore();
}

static void kernel_flush_tlb_page(void *ctx, uint64_t virt) {
    (void)ctx;
    shoot_down(TLB_FLUSH_PAGE, virt);
}

static void kernel_flush_tlb_all(void *ctx) {
    (void)ctx;
    shoot_down(TLB_FLUSH_ALL, 0);
}

static void kernel_paging_panic(void *ctx, const char *message) {
    (void)ctx;
    panic("%s", message);
}

/* [0, FRAME_ALLOCATOR_LOW_LIMIT), the kernel image and the boot information, reserved before the
 * map's entries. */
#define MEMORY_FIXED_RESERVED 3

/* Gathers the frame allocator's regions from the memory map, after the ranges it must never hand
 * out whatever the map says: [0, FRAME_ALLOCATOR_LOW_LIMIT), the kernel image and the boot
 * information (the first slots of an empty list: no room for them is a broken invariant, a panic).
 * False, after an ERROR line, when an entry to reserve finds no room: the frame allocator would
 * hand it out. */
static bool collect_regions(const struct multiboot2_info *boot_info,
                            struct memory_regions *regions) {
    *regions = (struct memory_regions){.usable_count = 0};
    bool fixed = memory_regions_reserve(regions, 0, FRAME_ALLOCATOR_LOW_LIMIT) &&
                 memory_regions_reserve(regions, (uint64_t)(uintptr_t)kernel_image_start,
                                        (uint64_t)(uintptr_t)kernel_image_end) &&
                 memory_regions_reserve(regions, boot_info->phys_start, boot_info->phys_end);
    if (!fixed) {
        panic("collect_regions: no room for the %d fixed reserved ranges", MEMORY_FIXED_RESERVED);
    }
    struct multiboot2_mmap_entry entry;
    for (uint32_t i = 0; multiboot2_mmap_get(boot_info, i, &entry); i++) {
        switch (memory_regions_add(regions, &entry, PHYS_MAP_SIZE)) {
        case MEMORY_REGIONS_NOTHING:
        case MEMORY_REGIONS_USABLE:
        case MEMORY_REGIONS_RESERVED:
            break;
        case MEMORY_REGIONS_USABLE_CLIPPED:
            log_warn("memory: entry at %p (%p bytes) cut at %p, the physical map's end",
                     (void *)entry.base, (void *)entry.length, (void *)PHYS_MAP_SIZE);
            break;
        case MEMORY_REGIONS_USABLE_NO_ROOM:
            log_warn("memory: more than %d usable regions; ignoring the entry at %p (%p bytes)",
                     MEMORY_REGIONS_MAX_USABLE, (void *)entry.base, (void *)entry.length);
            break;
        case MEMORY_REGIONS_RESERVED_NO_ROOM:
            log_error("memory: more than %d reserved ranges; no room for the entry at %p (%p "
                      "bytes), which the frame allocator must not hand out",
                      MEMORY_REGIONS_MAX_RESERVED, (void *)entry.base, (void *)entry.length);
            return false;
        }
    }
    return true;
}

#define EFER_NXE (UINT64_C(1) << 11)

uint64_t memory_data_page_flags(void) {
    uint64_t flags = PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE;
    if ((cpu_read_msr(CPU_MSR_EFER) & EFER_NXE) != 0) {
        flags |= PAGING_FLAG_NO_EXECUTE;
    }
    return flags;
}

/* boot.asm's tables: the identity map's PT (its first 2 MiB) and PD, the physical map's PDs. */
extern volatile uint64_t boot_pt_low[], boot_pd_low[], boot_pd_phys_map[];

/*
 * W^X over the boot mappings (image_protection.h): the kernel's code read-only, its read-only data
 * read-only and no-execute, every other page of the identity map but the start-up trampoline's, and
 * the whole physical map (through which every frame, heap and stacks included, has an alias),
 * no-execute. The physical map's first 2 MiB, which hold the image, become 4 KiB pages (a page
 * table from the frame allocator) so that the code's and read-only data's alias there is read-only
 * too. Runs on the boot CPU alone, before any other starts, so one local flush suffices. False,
 * with the reason logged and nothing changed, when no frame is left for that page table.
 */
static bool protect_boot_mappings(struct kernel_memory *memory) {
    const struct image_layout layout = {
        .code_start = (uint64_t)(uintptr_t)kernel_image_start,
        .code_end = (uint64_t)(uintptr_t)kernel_code_end,
        .rodata_end = (uint64_t)(uintptr_t)kernel_rodata_end,
        .executable_page = TRAMPOLINE_PHYS,
        .no_execute = memory_data_page_flags() & PAGING_FLAG_NO_EXECUTE,
    };
    uint64_t alias_table = memory_frame_allocate(memory);
    if (alias_table == FRAME_ALLOCATOR_NO_FRAME) {
        log_error("memory: no frame for the page table of the physical map's first 2 MiB");
        return false;
    }
    uint64_t *alias = phys_to_virt(alias_table);
    for (uint64_t i = 0; i < PAGING_ENTRIES_PER_TABLE; i++) {
        alias[i] = image_protection_alias_page(&layout, i * PAGE_SIZE);
    }
    for (uint64_t i = 0; i < IDENTITY_SMALL_PAGES_END / PAGE_SIZE; i++) {
        boot_pt_low[i] = image_protection_small_page(&layout, i * PAGE_SIZE, boot_pt_low[i]);
    }
    /* boot_pd_low[0] links the PT above: not a leaf, and no NX there, which would rule its pages.
     */
    for (uint64_t i = IDENTITY_SMALL_PAGES_END / PAGING_LARGE_PAGE_SIZE;
         i < IDENTITY_MAP_END / PAGING_LARGE_PAGE_SIZE; i++) {
        boot_pd_low[i] = image_protection_data_page(&layout, boot_pd_low[i]);
    }
    /* The first 2 MiB of the physical map through the new table, the rest data pages. */
    boot_pd_phys_map[0] = alias_table | PAGING_TABLE_FLAGS;
    for (uint64_t i = 1; i < PHYS_MAP_SIZE / PAGING_LARGE_PAGE_SIZE; i++) {
        boot_pd_phys_map[i] = image_protection_data_page(&layout, boot_pd_phys_map[i]);
    }
    cpu_flush_tlb_all();
    log_info("memory: code [%p, %p) read-only and executable, read-only data [%p, %p), both "
             "read-only at their physical-map alias too; the rest of the identity map but the "
             "trampoline page %p, and the physical map, %s",
             (void *)(uintptr_t)layout.code_start, (void *)(uintptr_t)layout.code_end,
             (void *)(uintptr_t)layout.code_end, (void *)(uintptr_t)layout.rodata_end,
             (void *)(uintptr_t)TRAMPOLINE_PHYS,
             layout.no_execute != 0 ? "no-execute" : "executable: this CPU has no NX");
    return true;
}

bool memory_init(struct kernel_memory *memory, const struct multiboot2_info *boot_info) {
    static struct memory_regions regions;
    if (!collect_regions(boot_info, &regions)) {
        return false;
    }
    struct frame_allocator_config config = {
        .usable = regions.usable,
        .usable_count = regions.usable_count,
        .reserved = regions.reserved,
        .reserved_count = regions.reserved_count,
        .storage = NULL, /* carved from usable memory */
        .phys_to_virt = kernel_phys_to_virt,
        .poison_on_free = true,
        .panic = kernel_paging_panic,
    };
    enum frame_allocator_error frame_result = frame_allocator_init(&memory->frames, &config);
    if (frame_result != FRAME_ALLOCATOR_OK) {
        log_error("memory: frame allocator: %s", frame_allocator_error_name(frame_result));
        return false;
    }
    struct frame_allocator_stats stats = frame_allocator_stats(&memory->frames);
    log_info("memory: frame allocator: %llu usable frames (%llu KiB) in %zu regions, "
             "bitmaps at [%p, %p)",
             (unsigned long long)stats.usable_frames,
             (unsigned long long)(stats.usable_frames * PAGE_SIZE / 1024), regions.usable_count,
             (void *)memory->frames.storage_start, (void *)memory->frames.storage_end);
    log_info("memory: reserved [0, %p), kernel [%p, %p), boot information [%p, %p), and %zu "
             "ranges the memory map does not call available",
             (void *)(uintptr_t)FRAME_ALLOCATOR_LOW_LIMIT, (void *)kernel_image_start,
             (void *)kernel_image_end, (void *)boot_info->phys_start, (void *)boot_info->phys_end,
             regions.reserved_count - MEMORY_FIXED_RESERVED);

    interrupts_set_handler(APIC_TLB_SHOOTDOWN_VECTOR, handle_tlb_shootdown);
    const struct paging_hw hw = {
        .phys_to_virt = kernel_phys_to_virt,
        .flush_tlb_page = kernel_flush_tlb_page,
        .flush_tlb_all = kernel_flush_tlb_all,
        .panic = kernel_paging_panic,
        .lock = {.lock = spinlock_acquire_ctx,
                 .unlock = spinlock_release_ctx,
                 .held = spinlock_held_by_this_cpu_ctx,
                 .ctx = &memory_lock},
    };
    /* The allocator itself: the mapper calls it under memory_lock already. */
    const struct paging_frame_source frame_source = frame_allocator_frame_source(&memory->frames);
    enum paging_error paging_result =
        paging_mapper_init(&memory->mapper, cpu_read_cr3(), &hw, &frame_source);
    if (paging_result != PAGING_OK) {
        log_error("memory: mapper: %s", paging_error_name(paging_result));
        return false;
    }
    log_info("memory: mapper on PML4 at %p", (void *)memory->mapper.root_phys);

    uint64_t guard = (uint64_t)(uintptr_t)kernel_stack_guard;
    paging_result = paging_unmap_page(&memory->mapper, guard, NULL);
    if (paging_result != PAGING_OK) {
        log_error("memory: unmapping the stack guard page %p: %s", (void *)guard,
                  paging_error_name(paging_result));
        return false;
    }
    log_info("memory: kernel stack [%p, %p), guard page %p unmapped", (void *)kernel_stack_bottom,
             (void *)kernel_stack_top, (void *)guard);
    if (cmdline_has(boot_info->cmdline, MEMORY_NO_FRAMES_WORD)) {
        uint64_t taken = 0;
        while (memory_frame_allocate(memory) != FRAME_ALLOCATOR_NO_FRAME) {
            taken++;
        }
        log_info("memory: memory_test=no_frames: %llu frames taken, none left",
                 (unsigned long long)taken);
    }
    return protect_boot_mappings(memory);
}
