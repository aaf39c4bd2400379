/* COM1 serial console driver (16550 UART), output only and polled. Interrupts are on once the
 * timers start, but the UART's would reach no CPU (the legacy PICs are masked and the kernel
 * programs no I/O APIC), and every write comes from the log, which holds its lock with interrupts
 * off (log.c): a write waits for the UART, a panic's too. */
#include "kernel/serial.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/machine.h"

#define COM1 COM1_PORT

/* Register offsets from the base port. */
#define UART_DATA          0
#define UART_INTERRUPT     1
#define UART_FIFO_CONTROL  2
#define UART_LINE_CONTROL  3
#define UART_MODEM_CONTROL 4
#define UART_LINE_STATUS   5

#define LINE_CONTROL_DLAB     0x80
#define LINE_CONTROL_8N1      0x03
#define LINE_STATUS_THR_EMPTY 0x20
#define BAUD_DIVISOR_115200   1

void serial_init(void) {
    cpu_outb(COM1 + UART_INTERRUPT, 0x00);
    cpu_outb(COM1 + UART_LINE_CONTROL, LINE_CONTROL_DLAB);
    cpu_outb(COM1 + UART_DATA, BAUD_DIVISOR_115200 & 0xff);
    cpu_outb(COM1 + UART_INTERRUPT, BAUD_DIVISOR_115200 >> 8);
    cpu_outb(COM1 + UART_LINE_CONTROL, LINE_CONTROL_8N1);
    cpu_outb(COM1 + UART_FIFO_CONTROL, 0xc7);  /* enable and clear FIFOs, 14-byte threshold */
    cpu_outb(COM1 + UART_MODEM_CONTROL, 0x03); /* DTR and RTS */
}

static void serial_put_byte(char byte) {
    while ((cpu_inb(COM1 + UART_LINE_STATUS) & LINE_STATUS_THR_EMPTY) == 0) {
        cpu_pause();
    }
    cpu_outb(COM1 + UART_DATA, (unsigned char)byte);
}

void serial_write(const char *bytes, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (bytes[i] == '\n') {
            serial_put_byte('\r');
        }
        serial_put_byte(bytes[i]);
    }
}
