/* QEMU's fw_cfg, legacy I/O interface (dev_fwcfg.h). */
#include "devices/dev_fwcfg.h"
#include <cg/string.h>

#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID 0x0001
#define FW_CFG_UUID 0x0002
#define FW_CFG_RAM_SIZE 0x0003
#define FW_CFG_NOGRAPHIC 0x0004
#define FW_CFG_NB_CPUS 0x0005
#define FW_CFG_MAX_CPUS 0x000F

/* fwcfg_item: bytes of the selected item into buf; returns its length. */
static u32 fwcfg_item(const struct fwcfg_machine *m, u16 key, u8 *buf)
{
	u64 v;
	switch (key) {
	case FW_CFG_SIGNATURE:
		memcpy(buf, "QEMU", 4);
		return 4;
	case FW_CFG_ID:
		v = 1; /* traditional interface only, no DMA */
		memcpy(buf, &v, 4);
		return 4;
	case FW_CFG_UUID:
		memset(buf, 0, 16);
		return 16;
	case FW_CFG_RAM_SIZE:
		memcpy(buf, &m->ram_bytes, 8);
		return 8;
	case FW_CFG_NOGRAPHIC:
		v = 1;
		memcpy(buf, &v, 2);
		return 2;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		memcpy(buf, &m->cpus, 2);
		return 2;
	default:
		return 0;
	}
}

enum dev_result fwcfg_io(struct fwcfg *f, const struct fwcfg_machine *m, u16 port, bool in,
			 u32 size, u32 *val)
{
	if (port == FWCFG_PORT_SELECTOR) {
		if (in) {
			*val = size == 1 ? 0xFF : 0xFFFF;
		} else {
			f->selector = (u16)*val;
			f->offset = 0;
		}
		return DEV_OK;
	}
	if (!in)
		return DEV_OK; /* writes through the data port are not supported, as in QEMU 2.4+ */
	u8 item[16];
	u32 len = fwcfg_item(m, f->selector, item);
	u32 out = 0;
	for (u32 i = 0; i < size; i++) {
		u8 b = f->offset < len ? item[f->offset] : 0;
		f->offset++;
		out |= (u32)b << (8 * i);
	}
	*val = out;
	return DEV_OK;
}
