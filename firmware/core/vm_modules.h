/* The boot modules that carry guest kernels and the VM descriptions,
 * found by the basename of the first word of their Multiboot cmdline. */
#ifndef CG_VM_MODULES_H
#define CG_VM_MODULES_H

#include <cg/types.h>

struct boot_info;

/* vm_modules_init: remember the loader's module list. */
void vm_modules_init(const struct boot_info *bi);

/* vm_module_find: data and size of the module called name. Returns 0 or
 * -CG_ENOENT. */
int vm_module_find(const char *name, const u8 **data, u64 *size);

/* vm_modules_start: parse vms.cfg (if any module has that name), create
 * and start every VM it describes. A VM that cannot be created is
 * reported ("@cg vm-stop name=N reason=create-failed" and a line saying
 * why) and the others still start. With no CPU in VMX root, no VM is
 * built: each is reported that way. Returns the number started. */
u32 vm_modules_start(void);

struct vm;
struct vmcfg_vm;

/* How a configured VM stands, for the console. */
struct vm_status {
	const char *name;
	const char *state;  /* running, paused, ending, exited, stopped, not-started */
	struct vm *vm;      /* when it exists now */
	u32 vcpus, mem_mib;
	bool has_status;
	u64 status;         /* exit status (exited) */
	const char *reason; /* stop reason (stopped), else "" */
};

/* vm_modules_count / vm_modules_status: the configured VMs, in order. */
u32 vm_modules_count(void);
bool vm_modules_status(u32 i, struct vm_status *out);

/* vm_modules_find: index of the configured VM called name, or -1. */
int vm_modules_find(const char *name);

/* vm_modules_record_end: remember how vm ended (called as it is freed). */
void vm_modules_record_end(const struct vm *vm);

/* vm_modules_restart: build and start configured VM i again (it must not
 * exist now). Returns 0 or -CG_EBUSY / -CG_ENOMEM with err set. */
int vm_modules_restart(u32 i, char *err, size_t err_size);

#endif
