/* kernel_main: the C entry point, called by boot.asm in long mode on the boot stack. It brings
 * the machine up step by step, reporting each on the serial console, then exits QEMU with the
 * run's verdict. */
#include <stdint.h>

#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/qemu_exit.h"
#include "kernel/serial.h"

#define KERNEL_NAME "heapkernel"

__attribute__((noreturn)) void kernel_main(uint32_t multiboot2_magic, uint32_t boot_info_phys);

void kernel_main(uint32_t multiboot2_magic, uint32_t boot_info_phys) {
    serial_init();
    log_info("%s: booting (x86_64, long mode, serial COM1)", KERNEL_NAME);
    log_info("boot: multiboot2 magic %x, boot information at %x", multiboot2_magic,
             boot_info_phys);
    qemu_exit(log_summary() ? QEMU_EXIT_SUCCESS : QEMU_EXIT_FAILURE);
}
