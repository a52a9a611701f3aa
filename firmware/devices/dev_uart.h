/* A 16550A UART model: transmit is always ready (each byte goes out at
 * once through env->putc), received bytes are what the caller pushes
 * (uart_rx_push). The model knows neither the VM nor the interrupt
 * controller: env says where output and the IRQ line go. */
#ifndef CG_DEV_UART_H
#define CG_DEV_UART_H

#include <cg/types.h>
#include "devices/dev_access.h"

struct vm;

#define UART_RX_SIZE 64
#define UART_PORTS 8 /* THR/RBR .. SCR */

/* How the UART reaches the rest of the monitor (fakes in host tests). */
struct uart_env {
	/* A byte the guest transmitted (not in loopback mode). */
	void (*putc)(struct vm *vm, char c);
	/* The UART's interrupt line changed to level (called with the
	 * UART's lock held: the callee's locks nest inside it). */
	void (*irq)(struct vm *vm, bool level);
	struct vm *vm; /* passed to both */
};

struct uart {
	u8 ier, lcr, mcr, scr, dll, dlm;
	bool thre_pending;    /* "transmitter empty" interrupt not yet taken */
	bool irq_level;       /* what env->irq was last told */
	u8 rx[UART_RX_SIZE];  /* bytes pushed by uart_rx_push, not yet read */
	u32 rx_head, rx_tail;
	u32 lock;             /* the whole UART */
};

/* uart_io: a guest IN or OUT of size 1, 2 or 4 at register off (0-7) of
 * u; INs of more than a byte read ones above it. Output and
 * IRQ changes go through env. Always DEV_OK. Safe from any CPU. */
enum dev_result uart_io(struct uart *u, const struct uart_env *env, u16 off, bool in, u32 size,
			u32 *val);

/* uart_rx_push: one received byte for u (dropped when its receive buffer
 * is full); raises the IRQ through env when the guest enabled it. */
void uart_rx_push(struct uart *u, const struct uart_env *env, u8 b);

#endif
