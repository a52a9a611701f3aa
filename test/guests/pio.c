/* pio: port I/O emulation. Plain IN/OUT of every width, the string forms
 * (REP OUTSB/INSB/INSW/INSD: counts and pointers must advance as on
 * hardware), unknown ports reading all ones (asserted under crossguard
 * only), fw_cfg's signature through both INB and REP INSB, and the 8259
 * pair answering a probe (IMR read back; poll, IRR and ELCR under
 * crossguard only, where nothing drives the PICs). */
#include "guest.h"

#define PORT_POST 0x80      /* POST code port: writes are harmless anywhere */
#define PORT_UNKNOWN 0x1234 /* nothing decodes it on a PC or in crossguard */
#define PORT_COM2 0x2F8     /* not present: QEMU gets only -serial stdio */
#define COM1 0x3F8
#define FWCFG_SELECTOR 0x510
#define FWCFG_DATA 0x511
#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_IMR 0x21
#define PIC_SLAVE_IMR 0xA1
#define PIC_OCW3_POLL 0x0C
#define PIC_OCW3_READ_IRR 0x0A
#define ELCR1 0x4D0
#define ELCR2 0x4D1

static void out_post(void *arg)
{
	(void)arg;
	outb(PORT_POST, 0x42);
	outw(PORT_POST, 0x4242);
	outl(PORT_POST, 0x42424242);
}

static bool all_ff(const u8 *p, u32 n)
{
	for (u32 i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

static void check_ins(const char *name, u32 size)
{
	static u8 buf[64];
	const u32 count = 8;
	u32 left;
	void *end;

	memset(buf, 0, sizeof(buf));
	if (size == 1)
		rep_insb(PORT_UNKNOWN, buf, count, &left, &end);
	else if (size == 2)
		rep_insw(PORT_UNKNOWN, buf, count, &left, &end);
	else
		rep_insl(PORT_UNKNOWN, buf, count, &left, &end);
	report(left == 0 && end == buf + count * size, "REP %s x%u from 0x%x: ECX = %u, EDI advanced by %u", name,
	       count, PORT_UNKNOWN, left, (u32)((u8 *)end - buf));
	/* The byte after the transfer must be untouched: no overrun. */
	bool fenced = buf[count * size] == 0;
	if (on_crossguard())
		report(all_ff(buf, count * size) && fenced, "REP %s from an unknown port fills all ones, no overrun", name);
	else
		report(fenced, "REP %s wrote no byte past its count", name);
}

/* The probe OSes run on the 8259 pair: a mask written to the IMR reads
 * back (all-ones from an absent device fails it). The BIOS's masks are
 * restored under QEMU, whose PICs are live. */
static void check_pic(void)
{
	u8 old_m = inb(PIC_MASTER_IMR), old_s = inb(PIC_SLAVE_IMR);
	outb(PIC_SLAVE_IMR, 0xFF);
	outb(PIC_MASTER_IMR, 0xFB);
	u8 m = inb(PIC_MASTER_IMR);
	outb(PIC_MASTER_IMR, 0xFF);
	u8 all = inb(PIC_MASTER_IMR);
	report(m == 0xFB && all == 0xFF, "8259 master IMR reads back 0xFB and 0xFF (got 0x%x, 0x%x)", m, all);
	if (on_crossguard()) {
		outb(PIC_MASTER_CMD, PIC_OCW3_POLL);
		u8 poll = inb(PIC_MASTER_CMD);
		outb(PIC_MASTER_CMD, PIC_OCW3_READ_IRR);
		u8 irr = inb(PIC_MASTER_CMD);
		report(poll == 0 && irr == 0, "8259 poll and IRR read 0: nothing connected (got 0x%x, 0x%x)", poll,
		       irr);
		outb(ELCR1, 0xFF);
		outb(ELCR2, 0xFF);
		u8 e1 = inb(ELCR1), e2 = inb(ELCR2);
		outb(ELCR1, 0);
		outb(ELCR2, 0);
		report(e1 == 0xF8 && e2 == 0xDE, "ELCR reserved bits read 0 (got 0x%x, 0x%x)", e1, e2);
	} else {
		report_skip("8259 poll, IRR and ELCR: not under crossguard");
	}
	outb(PIC_MASTER_IMR, old_m);
	outb(PIC_SLAVE_IMR, old_s);
}

int main(void)
{
	int v = catch_exception(out_post, NULL);
	report(v == NO_EXCEPTION, "OUT byte/word/dword to port 0x80 (got vector %d)", v);

	u8 b = inb(PORT_COM2 + 7);
	u16 w = inw(PORT_UNKNOWN);
	u32 d = inl(PORT_UNKNOWN);
	if (on_crossguard()) {
		report(b == 0xFF, "IN byte from 0x2FF reads 0xFF (got 0x%x)", b);
		report(w == 0xFFFF, "IN word from 0x1234 reads 0xFFFF (got 0x%x)", w);
		report(d == 0xFFFFFFFFu, "IN dword from 0x1234 reads 0xFFFFFFFF (got 0x%x)", d);
	} else {
		report_skip("unknown ports read all ones: got 0x%x 0x%x 0x%x (not under crossguard)", b, w, d);
	}

	static const char msg[] = "pio: this line was written by REP OUTSB\n";
	u32 n = sizeof(msg) - 1, left;
	const void *end;
	rep_outsb(COM1, msg, n, &left, &end);
	report(left == 0 && end == msg + n, "REP OUTSB of %u bytes to 0x3F8: ECX = %u, ESI advanced by %u", n, left,
	       (u32)((const char *)end - msg));

	check_ins("INSB", 1);
	check_ins("INSW", 2);
	check_ins("INSD", 4);

	/* fw_cfg key 0 is the signature "QEMU", under QEMU and crossguard. */
	char sig[5] = { 0 };
	outw(FWCFG_SELECTOR, FWCFG_SIGNATURE);
	for (u32 i = 0; i < 4; i++)
		sig[i] = (char)inb(FWCFG_DATA);
	report(!memcmp(sig, "QEMU", 4), "fw_cfg signature by INB is \"QEMU\" (got \"%s\")", sig);

	char sig2[5] = { 0 };
	void *dend;
	outw(FWCFG_SELECTOR, FWCFG_SIGNATURE);
	rep_insb(FWCFG_DATA, sig2, 4, &left, &dend);
	report(!memcmp(sig2, "QEMU", 4) && left == 0 && dend == sig2 + 4,
	       "fw_cfg signature by REP INSB is \"QEMU\" (got \"%s\")", sig2);
	check_pic();
	return report_summary();
}
