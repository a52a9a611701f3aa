/* A 16550A (dev_uart.h); core puts it at 0x3F8 on ISA IRQ 4, sends its
 * output to the VM's console and pushes what the operator types while
 * attached. Interrupts follow the 16550 rules: the highest-priority
 * source shows in IIR; "transmitter empty" is raised when THR empties or
 * ETBEI is enabled and cleared by reading IIR or writing THR; "data
 * available" lasts while bytes wait. MCR.OUT2 gates the IRQ line as on a
 * PC, and MCR.LOOP turns the loopback on that drivers use to probe the
 * port. The transmitter keeps time (dev_uart.h): THRE is set when the
 * FIFO is empty (the last byte moved into the shift register), TEMT when
 * the shift register is empty too; both are computed from env->now_ns,
 * and uart_tick raises a "transmitter empty" interrupt that came due
 * while nobody touched the UART. */
#include "devices/dev_uart.h"
#include <cg/spinlock.h>

#define UART_LCR_DLAB 0x80
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LCR_WLS 0x03  /* word length - 5 */
#define UART_LCR_STB 0x04  /* 2 stop bits (1.5 with 5-bit words) */
#define UART_LCR_PEN 0x08  /* parity bit */
#define UART_BAUD_MAX 115200ull /* 1.8432 MHz / 16 / divisor 1 */
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

u64 uart_frame_ns(u32 dl, u8 lcr)
{
	u64 data = 5 + (lcr & UART_LCR_WLS);
	/* In half bits: start, data, parity, then 1, 1.5 or 2 stop bits. */
	u64 half = 2 * (1 + data + ((lcr & UART_LCR_PEN) ? 1 : 0));
	half += !(lcr & UART_LCR_STB) ? 2 : data == 5 ? 3 : 4;
	return half * (dl ? dl : 1) * 1000000000ull / (2 * UART_BAUD_MAX);
}

/* One byte's time on this UART: its own frame, but never faster than
 * the VM's share of the operator line. */
static u64 uart_byte_ns(const struct uart *u, const struct uart_env *env)
{
	u64 f = uart_frame_ns(((u32)u->dlm << 8) | u->dll, u->lcr);
	return f > env->byte_ns ? f : env->byte_ns;
}

/* Let time pass: a "transmitter empty" interrupt armed for a moment
 * that has come is pending now. */
static void uart_clock(struct uart *u, u64 now)
{
	if (u->thre_armed && now >= u->thre_ns) {
		u->thre_armed = false;
		u->thre_pending = true;
	}
}

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
	uart_clock(u, env->now_ns);
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

/* A byte written to THR: into the FIFO behind what is still being sent,
 * or refused when the FIFO is full or env cannot take it (a real 16550
 * would lose it; here the guest retries, so nothing is lost). */
static enum dev_result uart_transmit(struct uart *u, const struct uart_env *env, u8 b)
{
	u64 now = env->now_ns, bt = uart_byte_ns(u, env);
	u64 start = u->tx_done_ns > now ? u->tx_done_ns : now;
	if (start - now > UART_TX_FIFO * bt)
		return DEV_RETRY;
	if (!env->putc(env->vm, (char)b))
		return DEV_RETRY;
	/* The byte enters the shift register at start: the FIFO is empty
	 * then, and the line when the byte has left. */
	u->tx_done_ns = start + bt;
	u->thre_ns = start;
	u->thre_pending = false; /* writing THR takes the interrupt */
	u->thre_armed = true;
	uart_clock(u, now);
	return DEV_OK;
}

static enum dev_result uart_out(struct uart *u, const struct uart_env *env, u16 off, u8 b)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (off) {
	case 0:
		if (dlab) {
			u->dll = b;
		} else if (u->mcr & UART_MCR_LOOP) {
			rx_push_locked(u, b);
			u->thre_pending = true; /* looped back at once */
		} else {
			return uart_transmit(u, env, b);
		}
		break;
	case 1:
		if (dlab) {
			u->dlm = b;
		} else {
			/* Enabling it with the FIFO empty raises it at once. */
			if ((b & UART_IER_THRE) && !(u->ier & UART_IER_THRE) && !u->thre_armed)
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
	return DEV_OK;
}

static u8 uart_lsr(const struct uart *u, u64 now)
{
	u8 lsr = rx_ready(u) ? UART_LSR_DATA_READY : 0;
	if (now >= u->thre_ns)
		lsr |= UART_LSR_THRE;
	if (now >= u->tx_done_ns)
		lsr |= UART_LSR_TEMT;
	return lsr;
}

static u8 uart_in(struct uart *u, u16 off, u64 now)
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
		return uart_lsr(u, now);
	case 6:
		return uart_msr(u);
	default:
		return u->scr;
	}
}

enum dev_result uart_io(struct uart *u, const struct uart_env *env, u16 off, bool in, u32 size,
			u32 *val)
{
	enum dev_result r = DEV_OK;
	spin_lock(&u->lock);
	uart_clock(u, env->now_ns);
	if (in) {
		u8 b = uart_in(u, off, env->now_ns);
		*val = size == 1 ? b : (b | (size == 2 ? 0xFF00u : 0xFFFFFF00u));
	} else {
		r = uart_out(u, env, off, (u8)*val);
	}
	uart_update_irq(u, env);
	spin_unlock(&u->lock);
	return r;
}

u64 uart_tick(struct uart *u, const struct uart_env *env)
{
	spin_lock(&u->lock);
	uart_clock(u, env->now_ns);
	uart_update_irq(u, env);
	u64 next = u->thre_armed ? u->thre_ns : 0;
	spin_unlock(&u->lock);
	return next;
}
