/* The operator serial line: a 16550 at COM1, 115200 8N1, polled. */
#include <cg/arch_base.h>
#include "arch/x86/cpu_ops.h"
#include <cg/errno.h>

#define COM1 0x3F8
#define UART_DATA 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCRATCH 7
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
/* 115200 baud = 1.8432 MHz / 16 / divisor 1 */
#define UART_DIVISOR 1
/* Bound the transmit wait so a missing or wedged UART cannot hang the
 * monitor: at 115200 baud a byte takes ~87 us. */
#define UART_TX_SPINS 100000

static bool uart_present;

int arch_serial_init(void)
{
	outb(COM1 + UART_SCRATCH, 0x5A);
	if (inb(COM1 + UART_SCRATCH) != 0x5A)
		return -CG_ENOENT;
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, UART_DIVISOR & 0xFF);
	outb(COM1 + UART_IER, UART_DIVISOR >> 8);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0xC7); /* FIFOs on, cleared, 14-byte trigger */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
	uart_present = true;
	return 0;
}

void arch_serial_putc(char c)
{
	if (!uart_present)
		return;
	for (u32 i = 0; i < UART_TX_SPINS; i++) {
		if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
			break;
		cpu_pause();
	}
	outb(COM1 + UART_DATA, (u8)c);
}

int arch_serial_getc(void)
{
	if (!uart_present || !(inb(COM1 + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(COM1 + UART_DATA);
}
