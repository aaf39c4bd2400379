/* COM1 serial console: the kernel's only output device, read by humans and by the QEMU tests. */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

#include <stddef.h>

/* Programs COM1 for 115200 baud, 8 data bits, no parity, one stop bit. */
void serial_init(void);

/* Writes len bytes, turning "\n" into "\r\n" for terminals. Blocks until the UART takes them. */
void serial_write(const char *bytes, size_t len);

#endif
