/* The operator serial line: a 16550, polled, 8N1, at the port and rate the
 * command line chose (cg.serial=: COM1 and 115200 by default; many BMCs
 * carry serial-over-LAN on COM2). */
#include <cg/arch_base.h>
#include "arch/x86/cpu_ops.h"
#include <cg/errno.h>

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
/* The divisor latch counts the 1.8432 MHz clock / 16 = 115200 Hz. */
#define UART_BASE_BAUD 115200
/* Bound the transmit wait so a missing or wedged UART cannot hang the
 * monitor: at 115200 baud a byte takes ~87 us. */
#define UART_TX_SPINS 100000

static bool uart_present;
static u16 uart_port;

int arch_serial_init(u16 port, u32 baud)
{
	if (!baud || UART_BASE_BAUD % baud || UART_BASE_BAUD / baud > 0xFFFF || port > 0xFFF8)
		return -CG_EINVAL;
	u32 divisor = UART_BASE_BAUD / baud;
	outb(port + UART_SCRATCH, 0x5A);
	if (inb(port + UART_SCRATCH) != 0x5A)
		return -CG_ENOENT;
	/* Output goes nowhere while the line is being switched. */
	uart_present = false;
	uart_port = port;
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DATA, divisor & 0xFF);
	outb(port + UART_IER, divisor >> 8);
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, 0xC7); /* FIFOs on, cleared, 14-byte trigger */
	outb(port + UART_MCR, 0x03); /* DTR, RTS */
	uart_present = true;
	return 0;
}

void arch_serial_putc(char c)
{
	if (!uart_present)
		return;
	for (u32 i = 0; i < UART_TX_SPINS; i++) {
		if (inb(uart_port + UART_LSR) & LSR_THR_EMPTY)
			break;
		cpu_pause();
	}
	outb(uart_port + UART_DATA, (u8)c);
}

int arch_serial_getc(void)
{
	if (!uart_present || !(inb(uart_port + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(uart_port + UART_DATA);
}
