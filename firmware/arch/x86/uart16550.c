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
 * monitor. A real 16550 at 115200 baud takes ~87 us a byte, but an
 * emulator's UART holds THRE clear for as long as the host end of its line
 * is not read (a busy host: tens of ms and more), and a byte written before
 * THRE is set is lost. So the first wait is long (seconds under an
 * emulator, where each LSR read is a trip to the device model); only after
 * it ran out is the line taken as wedged and each byte waits briefly, until
 * the UART shows THRE again. */
#define UART_TX_SPINS 20000000u
#define UART_TX_SPINS_WEDGED 1000u

static bool uart_present;
static bool uart_wedged;
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
	uart_wedged = false;
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
	u32 spins = uart_wedged ? UART_TX_SPINS_WEDGED : UART_TX_SPINS;
	bool empty = false;
	for (u32 i = 0; i < spins; i++) {
		if (inb(uart_port + UART_LSR) & LSR_THR_EMPTY) {
			empty = true;
			break;
		}
		cpu_pause();
	}
	uart_wedged = !empty;
	outb(uart_port + UART_DATA, (u8)c);
}

int arch_serial_getc(void)
{
	if (!uart_present || !(inb(uart_port + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(uart_port + UART_DATA);
}
