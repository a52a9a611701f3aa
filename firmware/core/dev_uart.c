/* A 16550 at 0x3F8 as guests probe and use it: transmit always ready;
 * received bytes are what the operator types while attached (polled: no
 * interrupts yet). */
#include "dev.h"
#include "vm.h"
#include <cg/spinlock.h>

#define UART_LCR_DLAB 0x80
#define UART_LSR_THRE_TEMT 0x60
#define UART_LSR_DATA_READY 0x01
#define UART_IIR_NO_INTERRUPT 0x01
#define UART_MSR_CTS_DSR_DCD 0xB0

void dev_uart_rx_push(struct vm *vm, u8 b)
{
	struct dev_uart *u = &vm->dev.uart;
	spin_lock(&u->rx_lock);
	if (u->rx_head - u->rx_tail < DEV_UART_RX)
		u->rx[u->rx_head++ % DEV_UART_RX] = b;
	spin_unlock(&u->rx_lock);
}

static int uart_rx_pop(struct dev_uart *u)
{
	int b = -1;
	spin_lock(&u->rx_lock);
	if (u->rx_head != u->rx_tail)
		b = u->rx[u->rx_tail++ % DEV_UART_RX];
	spin_unlock(&u->rx_lock);
	return b;
}

enum dev_result dev_uart_io(struct vcpu *v, u16 off, bool in, u32 size, u32 *val)
{
	struct dev_uart *u = &v->vm->dev.uart;
	bool dlab = u->lcr & UART_LCR_DLAB;
	u8 b = (u8)*val;
	if (!in) {
		switch (off) {
		case 0:
			if (dlab)
				u->dll = b;
			else
				dev_console_putc(v->vm, (char)b);
			break;
		case 1:
			if (dlab)
				u->dlm = b;
			else
				u->ier = b & 0x0F;
			break;
		case 3:
			u->lcr = b;
			break;
		case 4:
			u->mcr = b & 0x1F;
			break;
		case 7:
			u->scr = b;
			break;
		default: /* FCR, and the read-only LSR/MSR */
			break;
		}
		return DEV_OK;
	}
	switch (off) {
	case 0:
		if (dlab) {
			b = u->dll;
		} else {
			int r = uart_rx_pop(u);
			b = r < 0 ? 0 : (u8)r;
		}
		break;
	case 1:
		b = dlab ? u->dlm : u->ier;
		break;
	case 2:
		b = UART_IIR_NO_INTERRUPT | 0xC0; /* FIFOs enabled */
		break;
	case 3:
		b = u->lcr;
		break;
	case 4:
		b = u->mcr;
		break;
	case 5:
		b = UART_LSR_THRE_TEMT | (u->rx_head != u->rx_tail ? UART_LSR_DATA_READY : 0);
		break;
	case 6:
		b = UART_MSR_CTS_DSR_DCD;
		break;
	default:
		b = u->scr;
		break;
	}
	*val = size == 1 ? b : (b | (size == 2 ? 0xFF00u : 0xFFFFFF00u));
	return DEV_OK;
}
