/* vms.cfg VM blocks and disks (contracts in vmcfg_vm.h): vm ... end and
 * every key inside it (mem, vcpus, kernel, cmdline, module, disk, nic (vmcfg_net.c),
 * on_triple_fault, on_unassigned_access and the scheduler numbers), the checks at 'end', and the
 * top-level image lines that disk lines attach. */
#include "core/vmcfg_vm.h"
#include <cg/errno.h>
#include <cg/string.h>

bool vmcfg_is_vm_key(const char *k, size_t n, bool valued)
{
	if (vmcfg_word_is(k, n, "mem") || vmcfg_word_is(k, n, "vcpus") ||
	    vmcfg_word_is(k, n, "kernel") || vmcfg_word_is(k, n, "on_triple_fault") ||
	    vmcfg_word_is(k, n, "on_unassigned_access") ||
	    vmcfg_word_is(k, n, "weight") || vmcfg_word_is(k, n, "cap") ||
	    vmcfg_word_is(k, n, "rt_budget_us") || vmcfg_word_is(k, n, "rt_period_us") ||
	    vmcfg_word_is(k, n, "disk") || vmcfg_word_is(k, n, "nic"))
		return true;
	return !valued && (vmcfg_word_is(k, n, "cmdline") || vmcfg_word_is(k, n, "module"));
}

enum vmcfg_have {
	HAVE_MEM = 1 << 0,
	HAVE_VCPUS = 1 << 1,
	HAVE_KERNEL = 1 << 2,
	HAVE_CMDLINE = 1 << 3,
	HAVE_TRIPLE = 1 << 4,
	HAVE_WEIGHT = 1 << 5,
	HAVE_CAP = 1 << 6,
	HAVE_RT_BUDGET = 1 << 7,
	HAVE_RT_PERIOD = 1 << 8,
	HAVE_UNASSIGNED = 1 << 9,
};

/* The scheduler numbers a vm may carry (ranges as in policy_abi.h). */
#define VMCFG_WEIGHT_MAX 10000u
#define VMCFG_CAP_MAX 1000u
#define VMCFG_RT_PERIOD_MIN 100u
#define VMCFG_RT_PERIOD_MAX 10000000u

static int key_once(struct vmcfg_state *st, enum vmcfg_have bit, const char *key)
{
	if (st->have & bit) {
		vmcfg_msg_start(st->msg, st->line);
		vmcfg_msg_str(st->msg, key);
		vmcfg_msg_str(st->msg, " given twice in vm ");
		vmcfg_msg_str(st->msg, st->vm->name);
		vmcfg_msg_str(st->msg, "; keep one");
		return -CG_EINVAL;
	}
	st->have |= bit;
	return 0;
}

int vmcfg_begin_vm(struct vmcfg_state *st, const char *v, size_t n)
{
	struct vmcfg *c = st->out;

	if (st->vm)
		return vmcfg_bad_val(st, "vm inside vm ", st->vm->name, strlen(st->vm->name),
				     "; close it with 'end' first");
	if (!vmcfg_valid_vm_name(v, n))
		return vmcfg_bad_val(st, "vm name ", v, n,
				     " is not [a-z][a-z0-9_-]{0,30}; rename it");
	for (u32 i = 0; i < c->count; i++)
		if (vmcfg_word_is(v, n, c->vms[i].name))
			return vmcfg_bad_val(st, "vm name ", v, n, " is used twice; names must be unique");
	if (c->count >= VMCFG_MAX_VMS)
		return vmcfg_bad(st, "more than 16 vms; remove some");
	st->vm = &c->vms[c->count++];
	vmcfg_copy_str(st->vm->name, v, n);
	st->vm_line = st->line;
	st->have = 0;
	return 0;
}

int vmcfg_end_vm(struct vmcfg_state *st)
{
	static const struct { u32 bit; const char *key; } need[] = {
		{ HAVE_MEM, "mem" }, { HAVE_VCPUS, "vcpus" }, { HAVE_KERNEL, "kernel" },
	};

	struct vmcfg_vm *vm = st->vm;
	u32 rt = st->have & (HAVE_RT_BUDGET | HAVE_RT_PERIOD);

	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		if (!(st->have & need[i].bit)) {
			vmcfg_msg_start(st->msg, st->line);
			vmcfg_msg_str(st->msg, "vm ");
			vmcfg_msg_str(st->msg, vm->name);
			vmcfg_msg_str(st->msg, " has no ");
			vmcfg_msg_str(st->msg, need[i].key);
			vmcfg_msg_str(st->msg, "; add a '");
			vmcfg_msg_str(st->msg, need[i].key);
			vmcfg_msg_str(st->msg, "' line before 'end'");
			return -CG_EINVAL;
		}
	}
	/* A reservation is a pair: both lines or neither. */
	if (rt && rt != (HAVE_RT_BUDGET | HAVE_RT_PERIOD)) {
		bool budget = rt == HAVE_RT_BUDGET;
		vmcfg_msg_start(st->msg, st->line);
		vmcfg_msg_str(st->msg, "vm ");
		vmcfg_msg_str(st->msg, vm->name);
		vmcfg_msg_str(st->msg, budget ? " has rt_budget_us but no rt_period_us" : " has rt_period_us but no rt_budget_us");
		vmcfg_msg_str(st->msg, "; a reservation needs both, add the missing line before 'end' or remove the other");
		return -CG_EINVAL;
	}
	if (rt && vm->rt_budget_us > vm->rt_period_us) {
		vmcfg_msg_start(st->msg, st->line);
		vmcfg_msg_str(st->msg, "vm ");
		vmcfg_msg_str(st->msg, vm->name);
		vmcfg_msg_str(st->msg, " has rt_budget_us ");
		vmcfg_msg_num(st->msg, vm->rt_budget_us);
		vmcfg_msg_str(st->msg, " over its rt_period_us ");
		vmcfg_msg_num(st->msg, vm->rt_period_us);
		vmcfg_msg_str(st->msg, "; the budget must fit in the period, lower it or raise the period");
		return -CG_EINVAL;
	}
	st->vm = 0;
	return 0;
}

/* image NAME MODULE: top level, before the first vm. */
int vmcfg_add_image(struct vmcfg_state *st, const char *v, size_t vn)
{
	struct vmcfg *c = st->out;
	const char *f[2];
	size_t fn[2];

	if (st->vm)
		return vmcfg_bad_val(st, "image inside vm ", st->vm->name, strlen(st->vm->name),
				     "; 'image' is a top-level line, put it before the first 'vm'");
	if (c->count)
		return vmcfg_bad(st, "image after a vm block; put the 'image' lines before the first 'vm'");
	if (vmcfg_split_fields(v, vn, f, fn, 2) != 2)
		return vmcfg_bad(st, "'image' takes two values; write 'image <name> <module-name>'");
	if (!vmcfg_valid_vm_name(f[0], fn[0]))
		return vmcfg_bad_val(st, "image name ", f[0], fn[0], " is not [a-z][a-z0-9_-]{0,30}; rename it");
	if (!vmcfg_valid_module_name(f[1], fn[1]))
		return vmcfg_bad_val(st, "image module name ", f[1], fn[1],
				     " is not [A-Za-z0-9._-]{1,48}; use the name the toolchain assigned");
	for (u32 i = 0; i < c->image_count; i++)
		if (vmcfg_word_is(f[0], fn[0], c->images[i].name))
			return vmcfg_bad_val(st, "image name ", f[0], fn[0], " is used twice; names must be unique");
	if (c->image_count >= VMCFG_MAX_IMAGES)
		return vmcfg_bad(st, "more than 8 images; share images between VMs or remove some");
	struct vmcfg_image *img = &c->images[c->image_count++];
	vmcfg_copy_str(img->name, f[0], fn[0]);
	vmcfg_copy_str(img->module, f[1], fn[1]);
	return 0;
}

/* disk IMAGE ro|rw keep|discard IOPS BYTES_PER_S [OVERLAY_MAX_MIB], inside a vm. */
static int add_disk(struct vmcfg_state *st, const char *v, size_t vn)
{
	struct vmcfg *c = st->out;
	struct vmcfg_vm *vm = st->vm;
	const struct vmcfg_image *img = 0;
	struct vmcfg_disk *d;
	const char *f[6];
	size_t fn[6];
	u32 nf;
	u64 n;

	nf = vmcfg_split_fields(v, vn, f, fn, 6);
	/* Single spaces only: an empty field is a malformed line, not a value. */
	for (u32 i = 0; i < nf && i < 6; i++)
		if (!fn[i])
			nf = 0;
	if (nf != 5 && nf != 6)
		return vmcfg_bad(st, "'disk' takes five or six values; write 'disk <image> <ro|rw> <keep|discard> <iops> <bytes_per_s> [<overlay_max_mib>]'");
	for (u32 i = 0; i < c->image_count; i++)
		if (vmcfg_word_is(f[0], fn[0], c->images[i].name))
			img = &c->images[i];
	if (!img)
		return vmcfg_bad_val(st, "disk image ", f[0], fn[0],
				     " is not declared; add 'image <name> <module-name>' before the first 'vm'");
	if (vm->disk_count >= VMCFG_MAX_DISKS)
		return vmcfg_bad(st, "more than 4 disks in one vm; remove some");
	d = &vm->disks[vm->disk_count];
	memset(d, 0, sizeof(*d));
	d->image = (u32)(img - c->images);
	vmcfg_copy_str(d->image_name, img->name, strlen(img->name));
	vmcfg_copy_str(d->module, img->module, strlen(img->module));
	if (vmcfg_word_is(f[1], fn[1], "rw"))
		d->rw = true;
	else if (!vmcfg_word_is(f[1], fn[1], "ro"))
		return vmcfg_bad_val(st, "disk mode ", f[1], fn[1], " is not ro or rw; use one of those");
	if (vmcfg_word_is(f[2], fn[2], "discard"))
		d->discard = true;
	else if (!vmcfg_word_is(f[2], fn[2], "keep"))
		return vmcfg_bad_val(st, "disk overlay ", f[2], fn[2], " is not keep or discard; use one of those");
	if (d->discard && !d->rw)
		return vmcfg_bad(st, "a ro disk has no overlay to discard; write 'keep' for it");
	if (!vmcfg_parse_u64(f[3], fn[3], VMCFG_IOPS_MAX, &n))
		return vmcfg_bad_val(st, "disk iops ", f[3], fn[3],
				     " is not a whole number from 0 to 1000000; give one (0 = unlimited)");
	d->iops = (u32)n;
	if (!vmcfg_parse_u64(f[4], fn[4], VMCFG_BPS_MAX, &n) || (n && n < VMCFG_BPS_MIN))
		return vmcfg_bad_val(st, "disk bytes_per_s ", f[4], fn[4],
				     " is not 0 or a whole number from 512 to 1000000000000; give one (0 = unlimited)");
	d->bytes_per_s = n;
	if (nf == 6) {
		if (!vmcfg_parse_u64(f[5], fn[5], VMCFG_OVERLAY_MAX_MIB, &n))
			return vmcfg_bad_val(st, "disk overlay_max_mib ", f[5], fn[5],
					     " is not a whole number from 0 to 2053; give one (0 = the image's size)");
		if (n && !d->rw)
			return vmcfg_bad(st, "a ro disk has no overlay to cap; write 0 or drop the sixth value");
		d->overlay_max_mib = (u32)n;
	}
	vm->disk_count++;
	return 0;
}

int vmcfg_vm_key(struct vmcfg_state *st, const char *k, size_t kn, const char *v, size_t vn, bool has_val)
{
	struct vmcfg_vm *vm = st->vm;
	int err;

	if (vmcfg_word_is(k, kn, "mem")) {
		if ((err = key_once(st, HAVE_MEM, "mem")))
			return err;
		return vmcfg_number(st, "mem", v, vn, VMCFG_MEM_MIN, VMCFG_MEM_MAX, &vm->mem_mib);
	}
	if (vmcfg_word_is(k, kn, "vcpus")) {
		if ((err = key_once(st, HAVE_VCPUS, "vcpus")))
			return err;
		return vmcfg_number(st, "vcpus", v, vn, 1, VMCFG_VCPUS_MAX, &vm->vcpus);
	}
	if (vmcfg_word_is(k, kn, "kernel")) {
		if ((err = key_once(st, HAVE_KERNEL, "kernel")))
			return err;
		if (!vmcfg_valid_module_name(v, vn))
			return vmcfg_bad_val(st, "kernel module name ", v, vn,
					     " is not [A-Za-z0-9._-]{1,48}; use the name the toolchain assigned");
		vmcfg_copy_str(vm->kernel, v, vn);
		return 0;
	}
	if (vmcfg_word_is(k, kn, "cmdline")) {
		if ((err = key_once(st, HAVE_CMDLINE, "cmdline")))
			return err;
		if (vn >= VMCFG_CMDLINE_SIZE)
			return vmcfg_bad(st, "cmdline longer than 255 bytes; shorten it");
		vmcfg_copy_str(vm->cmdline, v, vn);
		return 0;
	}
	if (vmcfg_word_is(k, kn, "module")) {
		size_t nn = 0;
		while (nn < vn && v[nn] != ' ')
			nn++;
		const char *mc = nn < vn ? v + nn + 1 : v + vn;
		size_t mcn = nn < vn ? vn - nn - 1 : 0;
		if (!has_val || !vmcfg_valid_module_name(v, nn))
			return vmcfg_bad_val(st, "module name ", v, nn,
					     " is not [A-Za-z0-9._-]{1,48}; use the name the toolchain assigned");
		if (vm->module_count >= VMCFG_MAX_MODULES)
			return vmcfg_bad(st, "more than 8 modules in one vm; remove some");
		if (mcn >= VMCFG_MODCMDLINE_SIZE)
			return vmcfg_bad(st, "module cmdline longer than 127 bytes; shorten it");
		struct vmcfg_module *m = &vm->modules[vm->module_count++];
		vmcfg_copy_str(m->name, v, nn);
		vmcfg_copy_str(m->cmdline, mc, mcn);
		return 0;
	}
	if (vmcfg_word_is(k, kn, "disk"))
		return add_disk(st, v, vn);
	if (vmcfg_word_is(k, kn, "nic"))
		return vmcfg_add_nic(st, v, vn);
	if (vmcfg_word_is(k, kn, "on_triple_fault")) {
		if ((err = key_once(st, HAVE_TRIPLE, "on_triple_fault")))
			return err;
		if (vmcfg_word_is(v, vn, "stop"))
			vm->on_triple_fault = VMCFG_TRIPLE_STOP;
		else if (vmcfg_word_is(v, vn, "reset"))
			vm->on_triple_fault = VMCFG_TRIPLE_RESET;
		else
			return vmcfg_bad_val(st, "on_triple_fault ", v, vn, " is not stop or reset; use one of those");
		return 0;
	}
	if (vmcfg_word_is(k, kn, "on_unassigned_access")) {
		if ((err = key_once(st, HAVE_UNASSIGNED, "on_unassigned_access")))
			return err;
		if (vmcfg_word_is(v, vn, "ignore"))
			vm->on_unassigned = VMCFG_UNASSIGNED_IGNORE;
		else if (vmcfg_word_is(v, vn, "stop"))
			vm->on_unassigned = VMCFG_UNASSIGNED_STOP;
		else
			return vmcfg_bad_val(st, "on_unassigned_access ", v, vn,
					     " is not ignore or stop; use one of those (ignore is the default)");
		return 0;
	}
	if (vmcfg_word_is(k, kn, "weight")) {
		if ((err = key_once(st, HAVE_WEIGHT, "weight")))
			return err;
		return vmcfg_number(st, "weight", v, vn, 1, VMCFG_WEIGHT_MAX, &vm->weight);
	}
	if (vmcfg_word_is(k, kn, "cap")) {
		if ((err = key_once(st, HAVE_CAP, "cap")))
			return err;
		return vmcfg_number(st, "cap", v, vn, 0, VMCFG_CAP_MAX, &vm->cap_permille);
	}
	/* budget <= period and the pair are checked at 'end'. */
	if (vmcfg_word_is(k, kn, "rt_budget_us")) {
		if ((err = key_once(st, HAVE_RT_BUDGET, "rt_budget_us")))
			return err;
		return vmcfg_number(st, "rt_budget_us", v, vn, 1, VMCFG_RT_PERIOD_MAX, &vm->rt_budget_us);
	}
	if (vmcfg_word_is(k, kn, "rt_period_us")) {
		if ((err = key_once(st, HAVE_RT_PERIOD, "rt_period_us")))
			return err;
		return vmcfg_number(st, "rt_period_us", v, vn, VMCFG_RT_PERIOD_MIN, VMCFG_RT_PERIOD_MAX,
				    &vm->rt_period_us);
	}
	return -CG_ENOENT;
}
