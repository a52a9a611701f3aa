/* A 16550A UART model. Transmit takes the time a real one does: each
 * byte is handed to env->putc when written, and the transmitter (16-byte
 * FIFO and shift register) stays busy for one frame per byte at the
 * divisor's baud rate, never faster than the VM's line (env->byte_ns):
 * LSR's THRE and TEMT and the "transmitter empty" interrupt follow that
 * clock, so a guest that waits for them is paced, and a write into a full
 * FIFO is refused (DEV_RETRY: retried, never dropped). Received bytes are
 * what the caller pushes (uart_rx_push). The model knows neither the VM,
 * the clock nor the interrupt controller: env says. */
#ifndef CG_DEV_UART_H
#define CG_DEV_UART_H

#include <cg/types.h>
#include "devices/dev_access.h"

struct vm;

#define UART_RX_SIZE 64
#define UART_PORTS 8 /* THR/RBR .. SCR */
#define UART_TX_FIFO 16

/* How the UART reaches the rest of the monitor (fakes in host tests). */
struct uart_env {
	/* A byte the guest transmitted (not in loopback mode): false when
	 * the VM's console cannot take it yet; the write is then refused. */
	bool (*putc)(struct vm *vm, char c);
	/* The UART's interrupt line changed to level (called with the
	 * UART's lock held: the callee's locks nest inside it). */
	void (*irq)(struct vm *vm, bool level);
	struct vm *vm; /* passed to both */
	u64 now_ns;    /* the time of this access (monotonic) */
	u64 byte_ns;   /* the VM's line rate: a byte takes at least this long */
};

struct uart {
	u8 ier, lcr, mcr, scr, dll, dlm;
	bool thre_pending;    /* "transmitter empty" interrupt not yet taken */
	bool thre_armed;      /* it becomes pending at thre_ns */
	u64 thre_ns;          /* the FIFO is empty from then on (LSR.THRE) */
	u64 tx_done_ns;       /* the last byte has left from then on (LSR.TEMT) */
	bool irq_level;       /* what env->irq was last told */
	u8 rx[UART_RX_SIZE];  /* bytes pushed by uart_rx_push, not yet read */
	u32 rx_head, rx_tail;
	u32 lock;             /* the whole UART */
};

/* uart_io: a guest IN or OUT of size 1, 2 or 4 at register off (0-7) of
 * u at env->now_ns; INs of more than a byte read ones above it. Output
 * and IRQ changes go through env. DEV_OK, or DEV_RETRY for a THR write
 * the transmitter or env->putc cannot take yet (nothing changed). Safe
 * from any CPU. */
enum dev_result uart_io(struct uart *u, const struct uart_env *env, u16 off, bool in, u32 size,
			u32 *val);

/* uart_rx_push: one received byte for u (dropped when its receive buffer
 * is full); raises the IRQ through env when the guest enabled it. */
void uart_rx_push(struct uart *u, const struct uart_env *env, u8 b);

/* uart_tick: bring u's transmitter up to env->now_ns (a "transmitter
 * empty" interrupt that came due is raised through env). Returns when it
 * next needs a tick (ns), 0 when it does not. */
u64 uart_tick(struct uart *u, const struct uart_env *env);

/* uart_frame_ns: how long one frame takes with divisor dl (0 counts as 1)
 * and line control lcr (data, parity and stop bits), at 1.8432 MHz / 16. */
u64 uart_frame_ns(u32 dl, u8 lcr);

#endif
