/* Fuzz target: the vms.cfg parser (core/vmcfg.c, vmcfg_lex.c, vmcfg_vm.c),
 * which reads the VM set packed into the boot image.
 * Input: the size of the error buffer (1 byte: 1..256), then the text, in
 * an exactly-sized heap block with no terminating NUL.
 * Invariants beyond "no crash, nothing read past len":
 *  - 0 or -CG_EINVAL; the error text is NUL-terminated inside its buffer,
 *    empty on success, and starts "vms.cfg line " on failure;
 *  - on success every field is within the documented limits: names and
 *    module names valid and terminated, VM names unique (vmcfg_find
 *    finds each), memory, vCPUs, modules, disks, rates and reservations
 *    in range, each disk naming a listed image;
 *  - vmcfg_basename returns NULL or a terminated word with no '/' or ' '. */
#include <cg/errno.h>
#include "fuzz.h"
#include "core/vmcfg.h"
#include "core/vmcfg_lex.h"

static struct vmcfg cfg;

static bool terminated(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

static void check_vm(const struct vmcfg_vm *v)
{
	FUZZ_CHECK(terminated(v->name, sizeof(v->name)) && vmcfg_valid_vm_name(v->name, strlen(v->name)),
		   "VM name");
	FUZZ_CHECK(vmcfg_find(&cfg, v->name) == v, "VM names not unique");
	FUZZ_CHECK(v->mem_mib >= VMCFG_MEM_MIN && v->mem_mib <= VMCFG_MEM_MAX, "mem out of range");
	FUZZ_CHECK(v->vcpus >= 1 && v->vcpus <= VMCFG_VCPUS_MAX, "vcpus out of range");
	FUZZ_CHECK(terminated(v->kernel, sizeof(v->kernel)) && vmcfg_valid_module_name(v->kernel, strlen(v->kernel)),
		   "kernel module name");
	FUZZ_CHECK(terminated(v->cmdline, sizeof(v->cmdline)), "cmdline not terminated");
	FUZZ_CHECK(v->module_count <= VMCFG_MAX_MODULES, "too many modules");
	for (u32 i = 0; i < v->module_count; i++) {
		const struct vmcfg_module *m = &v->modules[i];

		FUZZ_CHECK(terminated(m->name, sizeof(m->name)) && vmcfg_valid_module_name(m->name, strlen(m->name)),
			   "module name");
		FUZZ_CHECK(terminated(m->cmdline, sizeof(m->cmdline)), "module cmdline not terminated");
	}
	FUZZ_CHECK(v->on_triple_fault == VMCFG_TRIPLE_STOP || v->on_triple_fault == VMCFG_TRIPLE_RESET,
		   "on_triple_fault");
	FUZZ_CHECK(v->weight <= 10000 && v->cap_permille <= 1000, "weight or cap out of range");
	FUZZ_CHECK(!v->rt_budget_us == !v->rt_period_us && v->rt_budget_us <= v->rt_period_us,
		   "reservation inconsistent");
	FUZZ_CHECK(v->disk_count <= VMCFG_MAX_DISKS, "too many disks");
	for (u32 i = 0; i < v->disk_count; i++) {
		const struct vmcfg_disk *d = &v->disks[i];

		FUZZ_CHECK(d->image < cfg.image_count, "disk names no listed image");
		FUZZ_CHECK(!strcmp(d->image_name, cfg.images[d->image].name) &&
				   !strcmp(d->module, cfg.images[d->image].module), "disk's image copy differs");
		FUZZ_CHECK(d->rw || !d->discard, "a read-only disk discards");
		FUZZ_CHECK(d->iops <= VMCFG_IOPS_MAX, "iops out of range");
		FUZZ_CHECK(!d->bytes_per_s || (d->bytes_per_s >= VMCFG_BPS_MIN && d->bytes_per_s <= VMCFG_BPS_MAX),
			   "bytes_per_s out of range");
	}
}

static void check_basename(const u8 *data, size_t size)
{
	char cmd[300], buf[VMCFG_MODNAME_SIZE];
	size_t n = size < sizeof(cmd) - 1 ? size : sizeof(cmd) - 1;
	const char *b;

	memcpy(cmd, data, n);
	cmd[n] = 0;
	b = vmcfg_basename(cmd, buf, sizeof(buf));
	if (b) {
		FUZZ_CHECK(b == buf && terminated(buf, sizeof(buf)), "basename not in buf");
		FUZZ_CHECK(buf[0] && !strchr(buf, '/') && !strchr(buf, ' '), "basename is not one word");
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t err_size = 1 + fuzz_u8(&in), n;
	char *err = malloc(err_size);
	u8 *text = fuzz_bytes(&in, 1 << 16, &n);
	int rc;

	if (!err)
		abort();
	memset(err, 'x', err_size);
	rc = vmcfg_parse((const char *)text, n, &cfg, err, err_size);
	FUZZ_CHECK(rc == 0 || rc == -CG_EINVAL, "undocumented result");
	FUZZ_CHECK(terminated(err, err_size), "error text not terminated");
	if (rc) {
		static const char pre[] = "vms.cfg line ";
		size_t k = err_size - 1 < sizeof(pre) - 1 ? err_size - 1 : sizeof(pre) - 1;

		FUZZ_CHECK(!memcmp(err, pre, k), "error text does not name the line");
	} else {
		FUZZ_CHECK(err[0] == 0, "error text on success");
		FUZZ_CHECK(cfg.count <= VMCFG_MAX_VMS && cfg.image_count <= VMCFG_MAX_IMAGES, "table overrun");
		FUZZ_CHECK(terminated(cfg.policy, sizeof(cfg.policy)), "policy not terminated");
		for (u32 i = 0; i < cfg.image_count; i++)
			FUZZ_CHECK(terminated(cfg.images[i].name, sizeof(cfg.images[i].name)) &&
					   vmcfg_valid_vm_name(cfg.images[i].name, strlen(cfg.images[i].name)) &&
					   vmcfg_valid_module_name(cfg.images[i].module, strlen(cfg.images[i].module)),
				   "image names");
		for (u32 i = 0; i < cfg.count; i++)
			check_vm(&cfg.vms[i]);
	}
	check_basename(text, n);
	free(text);
	free(err);
	return 0;
}
