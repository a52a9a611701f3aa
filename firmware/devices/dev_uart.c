/* A 16550A (dev_uart.h); core puts it at 0x3F8 on ISA IRQ 4, sends its
 * output to the VM's console and pushes what the operator types while
 * attached. Interrupts follow the 16550 rules: the highest-priority
 * source shows in IIR; "transmitter empty" is raised when THR empties or
 * ETBEI is enabled and cleared by reading IIR or writing THR; "data
 * available" lasts while bytes wait. MCR.OUT2 gates the IRQ line as on a
 * PC, and MCR.LOOP turns the loopback on that drivers use to probe the
 * port. */
#include "devices/dev_uart.h"
#include <cg/spinlock.h>

#define UART_LCR_DLAB 0x80
#define UART_LSR_THRE_TEMT 0x60
#define UART_LSR_DATA_READY 0x01
#define UART_IIR_NO_INTERRUPT 0x01
#define UART_IIR_RDA 0x04
#define UART_IIR_THRE 0x02
#define UART_IIR_FIFO 0xC0
#define UART_IER_RDA 0x01
#define UART_IER_THRE 0x02
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_MSR_CTS_DSR_DCD 0xB0

static bool rx_ready(const struct uart *u)
{
	return u->rx_head != u->rx_tail;
}

/* The interrupt identification the guest would read now. */
static u8 uart_iir(const struct uart *u)
{
	if ((u->ier & UART_IER_RDA) && rx_ready(u))
		return UART_IIR_RDA;
	if ((u->ier & UART_IER_THRE) && u->thre_pending)
		return UART_IIR_THRE;
	return UART_IIR_NO_INTERRUPT;
}

/* Tell env when the line changes (called with the lock held; the
 * interrupt controller's own lock nests inside). */
static void uart_update_irq(struct uart *u, const struct uart_env *env)
{
	bool level = (u->mcr & UART_MCR_OUT2) && !(u->mcr & UART_MCR_LOOP) &&
		     uart_iir(u) != UART_IIR_NO_INTERRUPT;
	if (level != u->irq_level) {
		u->irq_level = level;
		env->irq(env->vm, level);
	}
}

static void rx_push_locked(struct uart *u, u8 b)
{
	if (u->rx_head - u->rx_tail < UART_RX_SIZE)
		u->rx[u->rx_head++ % UART_RX_SIZE] = b;
}

void uart_rx_push(struct uart *u, const struct uart_env *env, u8 b)
{
	spin_lock(&u->lock);
	rx_push_locked(u, b);
	uart_update_irq(u, env);
	spin_unlock(&u->lock);
}

static u8 uart_msr(const struct uart *u)
{
	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_CTS_DSR_DCD;
	/* Loopback: CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2 */
	return (u8)(((u->mcr & UART_MCR_RTS) ? 0x10 : 0) | ((u->mcr & UART_MCR_DTR) ? 0x20 : 0) |
		    ((u->mcr & UART_MCR_OUT1) ? 0x40 : 0) | ((u->mcr & UART_MCR_OUT2) ? 0x80 : 0));
}

static void uart_out(struct uart *u, const struct uart_env *env, u16 off, u8 b)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (off) {
	case 0:
		if (dlab) {
			u->dll = b;
		} else {
			if (u->mcr & UART_MCR_LOOP)
				rx_push_locked(u, b);
			else
				env->putc(env->vm, (char)b);
			u->thre_pending = true; /* sent at once: THR is empty again */
		}
		break;
	case 1:
		if (dlab) {
			u->dlm = b;
		} else {
			if ((b & UART_IER_THRE) && !(u->ier & UART_IER_THRE))
				u->thre_pending = true;
			u->ier = b & 0x0F;
		}
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
}

static u8 uart_in(struct uart *u, u16 off)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (off) {
	case 0:
		if (dlab)
			return u->dll;
		return rx_ready(u) ? u->rx[u->rx_tail++ % UART_RX_SIZE] : 0;
	case 1:
		return dlab ? u->dlm : u->ier;
	case 2: {
		u8 iir = uart_iir(u);
		if (iir == UART_IIR_THRE)
			u->thre_pending = false; /* reading IIR takes it */
		return iir | UART_IIR_FIFO;
	}
	case 3:
		return u->lcr;
	case 4:
		return u->mcr;
	case 5:
		return UART_LSR_THRE_TEMT | (rx_ready(u) ? UART_LSR_DATA_READY : 0);
	case 6:
		return uart_msr(u);
	default:
		return u->scr;
	}
}

enum dev_result uart_io(struct uart *u, const struct uart_env *env, u16 off, bool in, u32 size,
			u32 *val)
{
	spin_lock(&u->lock);
	if (in) {
		u8 b = uart_in(u, off);
		*val = size == 1 ? b : (b | (size == 2 ? 0xFF00u : 0xFFFFFF00u));
	} else {
		uart_out(u, env, off, (u8)*val);
	}
	uart_update_irq(u, env);
	spin_unlock(&u->lock);
	return DEV_OK;
}
