/* Host tests for the 16550A model (firmware/devices/dev_uart.c) through a
 * fake env: transmit, loopback, receive, and the interrupt line as the
 * 16550 rules and MCR.OUT2 decide it; and fw_cfg (dev_fwcfg.c). */
#include "check.h"
#include "devices/dev_uart.h"
#include "devices/dev_fwcfg.h"
#include <string.h>

static char out[64];
static u32 out_len;
static bool line;
static u32 line_changes;
static struct vm *seen_vm;

static void fake_putc(struct vm *vm, char c)
{
	seen_vm = vm;
	if (out_len < sizeof(out))
		out[out_len++] = c;
}

static void fake_irq(struct vm *vm, bool level)
{
	seen_vm = vm;
	line = level;
	line_changes++;
}

static struct uart u;
static const struct uart_env env = { fake_putc, fake_irq, (struct vm *)&u };

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
	CHECK((rd(5) & 0x60) == 0x60, "LSR: THR and TEMT empty");
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
	check_loopback();
	check_fwcfg();
	return check_summary();
}
