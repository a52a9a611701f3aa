/* QEMU's fw_cfg, legacy I/O interface (selector at FWCFG_PORT_SELECTOR,
 * 8-bit data port after it): the keys test kernels read to learn their
 * CPU count and RAM size. */
#ifndef CG_DEV_FWCFG_H
#define CG_DEV_FWCFG_H

#include <cg/types.h>
#include "devices/dev_access.h"

#define FWCFG_PORT_SELECTOR 0x510
#define FWCFG_PORTS 2

struct fwcfg {
	u16 selector;
	u32 offset; /* next byte of the selected item */
};

/* What the items describe: the machine the guest runs on. */
struct fwcfg_machine {
	u64 ram_bytes;
	u16 cpus;
};

/* fwcfg_io: a guest IN or OUT of size 1, 2 or 4 at port (selector or
 * data); reads of the data port step through the selected item of m.
 * Not locked: the caller serialises. Always DEV_OK. */
enum dev_result fwcfg_io(struct fwcfg *f, const struct fwcfg_machine *m, u16 port, bool in,
			 u32 size, u32 *val);

#endif
