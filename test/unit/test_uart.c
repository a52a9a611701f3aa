/* Host tests for the 16550A model (firmware/devices/dev_uart.c) through a
 * fake env: transmit, loopback, receive, and the interrupt line as the
 * 16550 rules and MCR.OUT2 decide it; the transmitter's clock (THRE and
 * TEMT busy until the bytes would have left at the line rate, a full FIFO
 * refused rather than lost, the "empty" interrupt when it drains); and
 * fw_cfg (dev_fwcfg.c). */
#include "check.h"
#include "devices/dev_uart.h"
#include "devices/dev_fwcfg.h"
#include <string.h>

static char out[64];
static u32 out_len;
static bool line;
static u32 line_changes;
static struct vm *seen_vm;

static bool console_full; /* the fake VM console refuses bytes */

static bool fake_putc(struct vm *vm, char c)
{
	seen_vm = vm;
	if (console_full)
		return false;
	if (out_len < sizeof(out))
		out[out_len++] = c;
	return true;
}

static void fake_irq(struct vm *vm, bool level)
{
	seen_vm = vm;
	line = level;
	line_changes++;
}

static struct uart u;
static struct uart_env env = { fake_putc, fake_irq, (struct vm *)&u, 0, 0 };

static void wr(u16 off, u8 b)
{
	u32 v = b;
	CHECK(uart_io(&u, &env, off, false, 1, &v) == DEV_OK, "OUT accepted");
}

static u8 rd(u16 off)
{
	u32 v = 0;
	CHECK(uart_io(&u, &env, off, true, 1, &v) == DEV_OK, "IN accepted");
	return (u8)v;
}

static void check_transmit(void)
{
	memset(&u, 0, sizeof(u));
	wr(0, 'h');
	wr(0, 'i');
	CHECK(out_len == 2 && !memcmp(out, "hi", 2), "THR bytes go to env->putc");
	CHECK(seen_vm == env.vm, "env->vm passed back");
	env.now_ns += 1000000;
	CHECK((rd(5) & 0x60) == 0x60, "LSR: THR and TEMT empty once sent");
	CHECK(line_changes == 0, "no IRQ without IER and OUT2");
	u32 v = 0;
	uart_io(&u, &env, 5, true, 2, &v);
	CHECK(v == 0xFF60, "wider IN: ones above the byte");
}

static void check_irq(void)
{
	memset(&u, 0, sizeof(u));
	line = false;
	line_changes = 0;
	wr(4, 0x08); /* OUT2 */
	wr(1, 0x02); /* ETBEI: THR empty interrupts at once */
	CHECK(line && line_changes == 1, "THRE raises the line with OUT2");
	CHECK((rd(2) & 0x0F) == 0x02, "IIR: THRE");
	CHECK(!line, "reading IIR takes THRE");
	wr(1, 0x01); /* ERBFI */
	uart_rx_push(&u, &env, 'x');
	CHECK(line, "received byte raises the line");
	CHECK((rd(5) & 1) && (rd(2) & 0x0F) == 0x04, "LSR data ready, IIR: RDA");
	CHECK(rd(0) == 'x' && !line, "reading RBR lowers it");
	for (u32 i = 0; i < UART_RX_SIZE + 5; i++)
		uart_rx_push(&u, &env, (u8)i);
	u32 n = 0;
	while (rd(5) & 1) {
		rd(0);
		n++;
	}
	CHECK(n == UART_RX_SIZE, "receive buffer keeps UART_RX_SIZE bytes");
	wr(4, 0x00);
	uart_rx_push(&u, &env, 'y');
	CHECK(!line, "OUT2 clear: line stays low");
}

static enum dev_result wr_r(u16 off, u8 b)
{
	u32 v = b;
	return uart_io(&u, &env, off, false, 1, &v);
}

static void check_frame(void)
{
	CHECK(uart_frame_ns(1, 0x03) == 86805, "8N1 at 115200: 10 bits, 86.8 us");
	CHECK(uart_frame_ns(0, 0x03) == 86805, "divisor 0 counts as 1");
	CHECK(uart_frame_ns(12, 0x03) == 1041666, "9600 baud");
	CHECK(uart_frame_ns(1, 0x1F) == 104166, "8 data, parity, 2 stop: 12 bits");
	CHECK(uart_frame_ns(1, 0x04) == 65104, "5 data, 1.5 stop: 7.5 bits");
	CHECK(uart_frame_ns(0xFFFF, 0x1F) == 6826562500ull, "slowest: no overflow");
}

/* The transmitter's clock: the guest sees it busy until the bytes would
 * have left, at the VM's line rate when that is slower than the UART's. */
static void check_tx_clock(void)
{
	memset(&u, 0, sizeof(u));
	out_len = 0;
	line = false;
	env.now_ns = 5000000;
	env.byte_ns = 200000; /* the VM's share of the line: 5000 bytes/s */
	CHECK((rd(5) & 0x60) == 0x60, "idle: THRE and TEMT");
	CHECK(wr_r(0, 'a') == DEV_OK, "first byte taken");
	CHECK((rd(5) & 0x60) == 0x20, "byte in the shift register: THRE set, TEMT clear");
	CHECK(wr_r(0, 'b') == DEV_OK, "second byte into the FIFO");
	CHECK((rd(5) & 0x60) == 0x00, "FIFO holds a byte: THRE and TEMT clear");
	env.now_ns += 199999;
	CHECK((rd(5) & 0x60) == 0x00, "one ns before the first byte has left: still busy");
	env.now_ns += 1;
	CHECK((rd(5) & 0x60) == 0x20, "first byte gone, second in the shift register: THRE");
	env.now_ns += 200000;
	CHECK((rd(5) & 0x60) == 0x60, "both gone: TEMT");
	/* The UART's own divisor is slower than the line: it decides. */
	wr(3, 0x83);
	wr(0, 12); /* 9600 baud */
	wr(3, 0x03);
	CHECK(wr_r(0, 'c') == DEV_OK && wr_r(0, 'd') == DEV_OK, "two bytes at 9600");
	env.now_ns += 1041665;
	CHECK(!(rd(5) & 0x20), "9600 baud: busy for 1.04 ms a byte");
	env.now_ns += 1;
	CHECK(rd(5) & 0x20, "then the FIFO is empty");
	env.now_ns += 1041666;
	wr(3, 0x83);
	wr(0, 1);
	wr(3, 0x03);
	/* A guest that never waits: 1 + UART_TX_FIFO bytes fit, the next is
	 * refused (not lost) until a byte has left. */
	out_len = 0;
	u32 taken = 0;
	while (wr_r(0, 'x') == DEV_OK && taken < 100)
		taken++;
	CHECK(taken == 1 + UART_TX_FIFO, "shift register and FIFO fill");
	CHECK(out_len == taken, "a refused byte does not reach the console");
	env.now_ns += 200000;
	CHECK(wr_r(0, 'y') == DEV_OK, "one byte later, one more fits");
	CHECK(wr_r(0, 'z') == DEV_RETRY, "and no more");
	/* Over 1 s of a guest writing as fast as it is let: the line rate. */
	env.now_ns += 100000000;
	u64 t0 = env.now_ns, sent = 0;
	out_len = 0;
	while (env.now_ns - t0 < 1000000000ull) {
		if (wr_r(0, 'r') == DEV_OK)
			sent++;
		env.now_ns += 1000; /* one exit per microsecond */
	}
	CHECK(sent >= 5000 && sent <= 5000 + 1 + UART_TX_FIFO, "a second of flooding: 5000 bytes/s");
	/* The VM's console may refuse too (another path used the line). */
	env.now_ns += 100000000;
	console_full = true;
	CHECK(wr_r(0, 'q') == DEV_RETRY, "console full: refused");
	console_full = false;
	CHECK((rd(5) & 0x60) == 0x60, "a refused byte leaves the transmitter idle");
	env.byte_ns = 0;
}

/* The "transmitter empty" interrupt comes when the FIFO drains, from
 * uart_tick when nobody touches the UART, and not before. */
static void check_tx_irq(void)
{
	memset(&u, 0, sizeof(u));
	line = false;
	env.now_ns = 1000000;
	env.byte_ns = 0;
	wr(3, 0x03); /* 8N1 */
	wr(4, 0x08); /* OUT2 */
	wr(1, 0x02); /* ETBEI */
	CHECK(line, "empty at once: THRE interrupt");
	CHECK((rd(2) & 0x0F) == 0x02, "IIR: THRE, taken");
	CHECK(wr_r(0, '1') == DEV_OK && wr_r(0, '2') == DEV_OK && wr_r(0, '3') == DEV_OK, "three bytes");
	CHECK(!line, "FIFO not empty: no interrupt");
	CHECK(uart_tick(&u, &env) == 1000000 + 2 * 86805, "tick: due when the third byte moves out of the FIFO");
	env.now_ns = 1000000 + 2 * 86805 - 1;
	uart_tick(&u, &env);
	CHECK(!line, "not before");
	env.now_ns += 1;
	CHECK(uart_tick(&u, &env) == 0 && line, "tick raises it, then nothing is due");
	CHECK((rd(2) & 0x0F) == 0x02 && !line, "IIR takes it");
	CHECK((rd(5) & 0x60) == 0x20, "the last byte still in the shift register");
}

static void check_loopback(void)
{
	memset(&u, 0, sizeof(u));
	out_len = 0;
	wr(4, 0x10 | 0x02); /* LOOP, RTS */
	wr(0, 'L');
	CHECK(out_len == 0, "loopback: nothing transmitted");
	CHECK(rd(0) == 'L', "loopback: byte comes back");
	CHECK((rd(6) & 0xF0) == 0x10, "MSR: CTS follows RTS");
}

static void check_fwcfg(void)
{
	struct fwcfg f = { 0 };
	const struct fwcfg_machine m = { 256ull << 20, 3 };
	u32 v = 0x0005; /* FW_CFG_NB_CPUS */
	fwcfg_io(&f, &m, FWCFG_PORT_SELECTOR, false, 2, &v);
	fwcfg_io(&f, &m, FWCFG_PORT_SELECTOR + 1, true, 2, &v);
	CHECK(v == 3, "NB_CPUS");
	v = 0x0003; /* FW_CFG_RAM_SIZE */
	fwcfg_io(&f, &m, FWCFG_PORT_SELECTOR, false, 2, &v);
	u64 ram = 0;
	for (u32 i = 0; i < 8; i++) {
		fwcfg_io(&f, &m, FWCFG_PORT_SELECTOR + 1, true, 1, &v);
		ram |= (u64)(v & 0xFF) << (8 * i);
	}
	CHECK(ram == m.ram_bytes, "RAM_SIZE, byte by byte");
	v = 0;
	fwcfg_io(&f, &m, FWCFG_PORT_SELECTOR, false, 2, &v);
	fwcfg_io(&f, &m, FWCFG_PORT_SELECTOR + 1, true, 4, &v);
	CHECK(!memcmp(&v, "QEMU", 4), "signature");
}

int main(void)
{
	check_transmit();
	check_irq();
	check_frame();
	check_tx_clock();
	check_tx_irq();
	check_loopback();
	check_fwcfg();
	return check_summary();
}
