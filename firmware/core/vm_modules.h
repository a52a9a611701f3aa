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
 * why) and the others still start. Returns the number started. */
u32 vm_modules_start(void);

#endif
