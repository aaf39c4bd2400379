/* Memory bring-up (see memory.h). */
#include "kernel/memory.h"

#include <stddef.h>
#include <stdint.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/lib/usable_region.h"
#include "kernel/log.h"
#include "kernel/panic.h"

/* Enough for any memory map seen from BIOS or UEFI firmware under QEMU; extra entries are
 * reported and ignored rather than overflowing. */
#define MAX_USABLE_REGIONS 128

static void *kernel_phys_to_virt(void *ctx, uint64_t phys) {
    (void)ctx;
    return phys < PHYS_MAP_SIZE ? phys_to_virt(phys) : NULL;
}

static void kernel_flush_tlb_page(void *ctx, uint64_t virt) {
    (void)ctx;
    cpu_invlpg(virt);
}

static void kernel_paging_panic(void *ctx, const char *message) {
    (void)ctx;
    panic("%s", message);
}

/* Collects the available entries of the memory map that the physical map can reach. */
static size_t collect_usable_regions(const struct multiboot2_info *boot_info,
                                     struct frame_allocator_usable_region *regions) {
    size_t count = 0;
    struct multiboot2_mmap_entry entry;
    for (uint32_t i = 0; multiboot2_mmap_get(boot_info, i, &entry); i++) {
        struct frame_allocator_usable_region region;
        enum usable_region_kind kind = usable_region_of(&entry, PHYS_MAP_SIZE, &region);
        if (kind == USABLE_REGION_NONE) {
            continue;
        }
        if (kind == USABLE_REGION_CLIPPED) {
            log_warn("memory: entry at %p (%p bytes) cut at %p, the physical map's end",
                     (void *)entry.base, (void *)entry.length, (void *)PHYS_MAP_SIZE);
        }
        if (count == MAX_USABLE_REGIONS) {
            log_warn("memory: more than %d usable regions; ignoring [%p, %p)", MAX_USABLE_REGIONS,
                     (void *)region.base, (void *)(region.base + region.length));
            continue;
        }
        regions[count++] = region;
    }
    return count;
}

bool memory_init(struct kernel_memory *memory, const struct multiboot2_info *boot_info) {
    static struct frame_allocator_usable_region usable[MAX_USABLE_REGIONS];
    size_t usable_count = collect_usable_regions(boot_info, usable);

    const struct frame_allocator_reserved_range reserved[] = {
        {0, FRAME_ALLOCATOR_LOW_LIMIT},
        {(uint64_t)(uintptr_t)kernel_image_start, (uint64_t)(uintptr_t)kernel_image_end},
        {boot_info->phys_start, boot_info->phys_end},
    };
    struct frame_allocator_config config = {
        .usable = usable,
        .usable_count = usable_count,
        .reserved = reserved,
        .reserved_count = sizeof reserved / sizeof reserved[0],
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
             (unsigned long long)(stats.usable_frames * PAGE_SIZE / 1024), usable_count,
             (void *)memory->frames.storage_start, (void *)memory->frames.storage_end);
    log_info("memory: reserved [0, 1 MiB), kernel [%p, %p), boot information [%p, %p)",
             (void *)kernel_image_start, (void *)kernel_image_end, (void *)boot_info->phys_start,
             (void *)boot_info->phys_end);

    const struct paging_hw hw = {
        .phys_to_virt = kernel_phys_to_virt,
        .flush_tlb_page = kernel_flush_tlb_page,
        .panic = kernel_paging_panic,
    };
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
    return true;
}
