/* The rights of the boot page tables' mappings (see image_protection.h). */
#include "kernel/lib/image_protection.h"

#include "paging/mapper.h"

uint64_t image_protection_small_page(const struct image_layout *layout, uint64_t phys,
                                     uint64_t entry) {
    if ((entry & PAGING_FLAG_PRESENT) == 0 || phys == layout->executable_page) {
        return entry;
    }
    if (phys >= layout->code_start && phys < layout->code_end) {
        return entry & ~(PAGING_FLAG_WRITABLE | PAGING_FLAG_NO_EXECUTE);
    }
    if (phys >= layout->code_end && phys < layout->rodata_end) {
        return (entry & ~PAGING_FLAG_WRITABLE) | layout->no_execute;
    }
    return entry | layout->no_execute;
}

uint64_t image_protection_alias_page(const struct image_layout *layout, uint64_t phys) {
    uint64_t entry = phys | PAGING_FLAG_PRESENT | PAGING_FLAG_WRITABLE | layout->no_execute;
    if (phys >= layout->code_start && phys < layout->rodata_end) {
        entry &= ~PAGING_FLAG_WRITABLE;
    }
    return entry;
}

uint64_t image_protection_data_page(const struct image_layout *layout, uint64_t entry) {
    return (entry & PAGING_FLAG_PRESENT) != 0 ? entry | layout->no_execute : entry;
}
