/* vms.cfg parser (format in vmcfg.h and docs/vm-config.md): the one pass
 * over the lines, the header and policy lines, and the lookups the monitor
 * uses on a parsed set. The vm blocks, image and disk lines are in
 * vmcfg_vm.c; lexing and error text in vmcfg_lex.c. Every rejection names
 * the line and says how to fix it. */
#include "core/vmcfg_vm.h"
#include <cg/errno.h>
#include <cg/string.h>

#define VMCFG_KEYWORDS "policy, vm, mem, vcpus, kernel, cmdline, module, on_triple_fault, " \
	"on_unassigned_access, weight, cap, rt_budget_us, rt_period_us, image, disk, network, nic or end"

/* policy NAME: top level, once, before the first vm. */
static int set_policy(struct vmcfg_state *st, const char *v, size_t n, bool has_val)
{
	struct vmcfg *c = st->out;

	if (st->vm)
		return vmcfg_bad_val(st, "policy inside vm ", st->vm->name, strlen(st->vm->name),
				     "; 'policy' is a top-level line, put it before the first 'vm'");
	if (c->count)
		return vmcfg_bad(st, "policy after a vm block; put the 'policy' line before the first 'vm'");
	if (c->policy[0])
		return vmcfg_bad(st, "policy given twice; keep one");
	if (!has_val)
		return vmcfg_bad(st, "'policy' needs a value; write 'policy <name>'");
	if (!vmcfg_valid_vm_name(v, n) || n >= VMCFG_POLICY_SIZE)
		return vmcfg_bad_val(st, "policy name ", v, n, " is not [a-z][a-z0-9_-]{0,30}; use a name such as fair or rt");
	vmcfg_copy_str(c->policy, v, n);
	return 0;
}

/* One line without its '\n' (a trailing '\r' already removed). */
static int parse_line(struct vmcfg_state *st, const char *s, size_t n)
{
	size_t i = 0;

	for (size_t j = 0; j < n; j++) {
		u8 c = (u8)s[j];
		if (c == 0)
			return vmcfg_bad(st, "NUL byte; vms.cfg is text, regenerate it with crossguard");
		if (c < 0x20 || c >= 0x7f)
			return vmcfg_bad(st, "non-printable byte; vms.cfg is printable ASCII, regenerate it with crossguard");
	}
	while (i < n && s[i] == ' ')
		i++;
	if (i == n || s[i] == '#')
		return 0;
	const char *k = s + i;
	size_t kn = 0;
	while (i + kn < n && s[i + kn] != ' ')
		kn++;
	bool has_val = i + kn < n;
	const char *v = has_val ? k + kn + 1 : k + kn;
	size_t vn = has_val ? n - i - kn - 1 : 0;

	if (!st->header) {
		if (!vmcfg_word_is(k, kn, "cgvms"))
			return vmcfg_bad(st, "missing header; the first line must be 'cgvms 1'");
		if (!vmcfg_word_is(v, vn, "1"))
			return vmcfg_bad_val(st, "unknown version ", v, vn, "; this monitor reads 'cgvms 1', regenerate with its toolchain");
		st->header = true;
		return 0;
	}
	if (vmcfg_word_is(k, kn, "cgvms"))
		return vmcfg_bad(st, "second 'cgvms' header; keep only the first line");
	if (vmcfg_word_is(k, kn, "policy"))
		return set_policy(st, v, vn, has_val);
	if (vmcfg_word_is(k, kn, "image")) {
		if (!has_val)
			return vmcfg_bad(st, "'image' needs values; write 'image <name> <module-name>'");
		return vmcfg_add_image(st, v, vn);
	}
	if (vmcfg_word_is(k, kn, "network")) {
		if (!has_val)
			return vmcfg_bad(st, "'network' needs a value; write 'network <name>'");
		return vmcfg_add_network(st, v, vn);
	}
	if (vmcfg_word_is(k, kn, "vm"))
		return vmcfg_begin_vm(st, v, vn);
	if (vmcfg_word_is(k, kn, "end")) {
		if (!st->vm)
			return vmcfg_bad(st, "'end' outside a vm block; remove it or add 'vm <name>' before");
		if (has_val)
			return vmcfg_bad(st, "'end' takes no value; write just 'end'");
		return vmcfg_end_vm(st);
	}
	if (!st->vm) {
		if (vmcfg_is_vm_key(k, kn, false))
			return vmcfg_bad_val(st, "", k, kn, " outside a vm block; put it between 'vm <name>' and 'end'");
		return vmcfg_bad_val(st, "unknown keyword ", k, kn, "; expected " VMCFG_KEYWORDS);
	}
	if (!has_val && vmcfg_is_vm_key(k, kn, true))
		return vmcfg_bad_val(st, "", k, kn, " needs a value; write '<key> <value>'");
	int err = vmcfg_vm_key(st, k, kn, v, vn, has_val);
	if (err == -CG_ENOENT)
		return vmcfg_bad_val(st, "unknown keyword ", k, kn, "; expected " VMCFG_KEYWORDS);
	return err;
}

int vmcfg_parse(const char *text, size_t len, struct vmcfg *out, char *err, size_t err_size)
{
	struct vmcfg_msg msg = { .buf = err, .size = err_size, .len = 0 };
	struct vmcfg_state st = { .out = out, .msg = &msg, .line = 0 };
	size_t pos = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (err_size)
		err[0] = 0;
	while (pos < len) {
		size_t n = 0;
		while (pos + n < len && text[pos + n] != '\n')
			n++;
		st.line++;
		size_t ln = n;
		if (ln && text[pos + ln - 1] == '\r')
			ln--;
		if ((rc = parse_line(&st, text + pos, ln)))
			return rc;
		pos += n + (pos + n < len ? 1 : 0);
	}
	if (!st.header) {
		st.line = st.line ? st.line : 1;
		return vmcfg_bad(&st, "missing header; the first line must be 'cgvms 1'");
	}
	if (st.vm) {
		st.line = st.vm_line;
		return vmcfg_bad_val(&st, "vm ", st.vm->name, strlen(st.vm->name),
				     " has no 'end'; add a line 'end' after its keys");
	}
	if (!out->count)
		return vmcfg_bad(&st, "no vm; add at least one 'vm <name>' ... 'end' block");
	return 0;
}

const char *vmcfg_basename(const char *cmdline, char *buf, size_t size)
{
	const char *w = cmdline, *base;
	size_t n = 0;

	if (!cmdline || !buf || !size)
		return 0;
	while (*w == ' ' || *w == '\t')
		w++;
	while (w[n] && w[n] != ' ' && w[n] != '\t')
		n++;
	base = w;
	for (size_t i = 0; i < n; i++)
		if (w[i] == '/')
			base = w + i + 1;
	n -= (size_t)(base - w);
	if (!n || n + 1 > size)
		return 0;
	vmcfg_copy_str(buf, base, n);
	return buf;
}

const struct vmcfg_vm *vmcfg_find(const struct vmcfg *cfg, const char *name)
{
	for (u32 i = 0; i < cfg->count && i < VMCFG_MAX_VMS; i++)
		if (!strcmp(cfg->vms[i].name, name))
			return &cfg->vms[i];
	return 0;
}
