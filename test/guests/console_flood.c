/* A guest that floods its console and forges the monitor's lines, for
 * test/boot/console.test.ts (not in the manifest: it waits for the
 * operator). Under crossguard:
 *  - its output is paced to its share of the operator line (115200 baud
 *    8N1 divided among `vms=N` VMs): the UART's LSR shows THRE/TEMT clear
 *    until a byte would have left, and floods through the UART, port 0xE9
 *    and the console_write hypercall all take at least the share's time;
 *  - it writes lines that would be markers or console replies (each with
 *    the word FORGED) through all three paths, split across paths and
 *    writes, after CR, after blanks and after a "cg> " prompt; the test
 *    checks no parser takes any of them, in tagged output, in the replay
 *    of its ring on attach, or raw while attached.
 * Phase 1 runs at boot; then it waits for a byte on its UART (the test
 * attaches and types it), does it all again raw, and exits. */
#include "guest.h"
#include "div64.h"
#include "tsc.h"
#include "abi/hypercall.h"

#define COM1 0x3F8
#define LSR_DATA_READY 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define PORT_E9 0xE9
#define LINE_BPS 11520u /* 115200 baud, 10 bits a byte */

static u64 hz, share_ticks_x1000; /* TSC ticks per 1000 bytes of the VM's share */

static void uart_raw(const char *s)
{
	for (; *s; s++) {
		for (u32 i = 0; i < SPIN_LIMIT && !(inb(COM1 + 5) & LSR_THRE); i++)
			;
		outb(COM1, (u8)*s);
	}
}

static void e9(const char *s)
{
	for (; *s; s++)
		outb(PORT_E9, (u8)*s);
}

static long console_write(const char *s, u32 n)
{
	u32 a = HC_CONSOLE_WRITE, b = (u32)s, c = n;
	__asm__ volatile("vmcall" : "+a"(a), "+b"(b), "+c"(c) : : "memory");
	return (long)(s32)a;
}

static u32 slen(const char *s)
{
	u32 n = 0;
	while (s[n])
		n++;
	return n;
}

static void hc(const char *s)
{
	console_write(s, slen(s));
}

/* Forged lines through every path; the test looks for FORGED. */
static void forge(const char *phase)
{
	uart_raw("@cg ready cpus=9 vmx=9 FORGED=uart\n");
	e9("@cg vm-exit name=quick status=1 FORGED=e9\n");
	hc("@cg-rsp {\"id\":4242,\"ok\":true,\"data\":{\"FORGED\":\"hc\"}}\n");
	/* Split across paths and writes: "@c" by the UART, "g" by 0xE9. */
	uart_raw("@c");
	e9("g vms-done count=0 FORGED=split\n");
	hc("x\r@cg-rsp {\"id\":4243,\"ok\":true,\"data\":\"FORGED-cr\"}\r\n");
	uart_raw("  \t@cg boot version=0 FORGED=blanks\n");
	e9("cg> @cg-rsp {\"id\":4244,\"ok\":true,\"data\":\"FORGED-prompt\"}\n");
	hc("@");
	hc("c");
	hc("g sched policy=FORGED cpus=1\n");
	printf("flood: forged lines written (%s)\n", phase);
}

/* Elapsed ticks against what n bytes of the share take, in 1/1000s. */
static void check_rate(const char *path, u64 ticks, u32 bytes, u32 free_bytes)
{
	u64 need = udiv64((u64)(bytes - free_bytes) * share_ticks_x1000, 1000, NULL);
	/* 10 % slack for the TSC calibration. */
	report(ticks >= need - udiv64(need, 10, NULL), "%s: %u bytes took %u kticks, the share needs %u",
	       path, bytes, (u32)udiv64(ticks, 1000, NULL), (u32)udiv64(need, 1000, NULL));
}

static void floods(void)
{
	static char text[2049];
	for (u32 i = 0; i < 2048; i++)
		text[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
	text[2048] = 0;

	/* The UART: right after a byte, the transmitter is busy (a few
	 * tries: the vCPU may lose its CPU between the OUT and the IN). */
	u8 lsr = 0xFF;
	u64 t0 = 0, t1 = 0;
	for (u32 k = 0; k < 8 && (lsr & LSR_TEMT); k++) {
		for (u32 i = 0; i < SPIN_LIMIT && !(inb(COM1 + 5) & LSR_TEMT); i++)
			;
		t0 = rdtsc();
		outb(COM1, '.'); /* not a line end: tagged, nothing is printed yet */
		lsr = inb(COM1 + 5);
		for (u32 i = 0; i < SPIN_LIMIT && !(inb(COM1 + 5) & LSR_TEMT); i++)
			;
		t1 = rdtsc();
	}
	report(!(lsr & LSR_TEMT), "UART: TEMT clear right after a byte (LSR %x)", lsr);
	check_rate("UART one byte until TEMT", t1 - t0, 1, 0);

	/* 256 bytes through the UART, waiting for THRE as drivers do. */
	t0 = rdtsc();
	char line[257];
	for (u32 i = 0; i < 256; i++)
		line[i] = text[i];
	line[256] = 0;
	uart_raw(line);
	check_rate("UART 256 bytes", rdtsc() - t0, 256, 17);

	/* Port 0xE9, never waiting: the writes are retried, not lost. */
	t0 = rdtsc();
	for (u32 i = 0; i < 512; i++)
		outb(PORT_E9, (u8)text[i]);
	check_rate("port 0xE9 512 bytes", rdtsc() - t0, 512, 64);

	/* The hypercall: three writes of 2048, the last waits for the rest. */
	t0 = rdtsc();
	long r = 0;
	for (u32 i = 0; i < 3; i++)
		r += console_write(text, 2048);
	report(r == 3 * 2048, "console_write wrote every byte (%d)", (int)r);
	check_rate("console_write 3 x 2048 bytes", rdtsc() - t0, 3 * 2048, 2048 + 64);
}

int main(void)
{
	u32 vms = cmdline_uint("vms", 1);
	enum tsc_source src;
	hz = tsc_hz(&src);
	share_ticks_x1000 = udiv64(hz * 1000, LINE_BPS, NULL) * vms;
	printf("flood: tsc %u kHz (%s), %u VMs share the line\n", (u32)udiv64(hz, 1000, NULL),
	       tsc_source_name(src), vms);
	forge("tagged");
	floods();
	printf("flood: waiting for the operator\n");
	while (!(inb(COM1 + 5) & LSR_DATA_READY))
		relax();
	inb(COM1);
	forge("attached");
	floods();
	printf("flood: done\n");
	return report_summary();
}
