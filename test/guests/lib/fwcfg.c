/* QEMU fw_cfg through its legacy I/O ports (QEMU docs/specs/fw_cfg.rst):
 * a 16-bit selector write to 0x510, then data bytes from 0x511. */
#include "guest.h"

#define FWCFG_SELECTOR 0x510
#define FWCFG_DATA 0x511

void fwcfg_read(u16 key, void *buf, u32 len)
{
	u8 *p = buf;

	outw(FWCFG_SELECTOR, key);
	while (len--)
		*p++ = inb(FWCFG_DATA);
}

bool fwcfg_present(void)
{
	char sig[4];

	fwcfg_read(FWCFG_SIGNATURE, sig, sizeof(sig));
	return !memcmp(sig, "QEMU", 4);
}

u32 fwcfg_cpu_count(void)
{
	u8 n[2];

	if (!fwcfg_present())
		return 0;
	fwcfg_read(FWCFG_NB_CPUS, n, sizeof(n));
	return n[0] | (u32)n[1] << 8;
}
