/* What a guest access to a device returns. The device models (devices/)
 * never end or reset a VM themselves: they say what the guest asked for
 * in their own terms (dev_sysctl's enum sysctl_action), and core's I/O
 * router (core/vm_io.c) acts on it and answers the exit with one of
 * these. */
#ifndef CG_DEV_ACCESS_H
#define CG_DEV_ACCESS_H

enum dev_result {
	DEV_OK = 0,      /* access done, guest continues */
	DEV_VM_ENDED,    /* core ended the VM during the access (debug-exit, reset, S5) */
	DEV_UNHANDLED,   /* nothing there: caller decides (MMIO: stop the VM) */
	DEV_BAD_ACCESS,  /* malformed access to a device: stop the VM */
	DEV_RETRY,       /* the device cannot take the access yet (its transmitter
			  * is full): nothing happened; the vCPU gives up its CPU
			  * and executes the instruction again */
};

#endif
