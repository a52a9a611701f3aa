/* vms.cfg parser (format in vmcfg.h and docs/vm-config.md). One pass over
 * the lines; every rejection names the line and says how to fix it. */
#include "vmcfg.h"
#include <cg/errno.h>
#include <cg/string.h>

/* ---- error text: "vms.cfg line N: " + pieces, bounded by err_size ---- */

struct vmcfg_msg {
	char *buf;
	size_t size;
	size_t len;
};

static void msg_str(struct vmcfg_msg *m, const char *s)
{
	while (*s && m->len + 1 < m->size)
		m->buf[m->len++] = *s++;
	if (m->size)
		m->buf[m->len] = 0;
}

static void msg_num(struct vmcfg_msg *m, u64 v)
{
	char s[24];
	int i = (int)sizeof(s) - 1;

	s[i] = 0;
	do {
		s[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	msg_str(m, s + i);
}

/* Quotes at most 24 bytes of a value (which is printable: checked first). */
static void msg_val(struct vmcfg_msg *m, const char *v, size_t n)
{
	char s[32];
	size_t k = n > 24 ? 24 : n;

	s[0] = '\'';
	memcpy(s + 1, v, k);
	s[1 + k] = 0;
	msg_str(m, s);
	msg_str(m, n > k ? "...'" : "'");
}

static void msg_start(struct vmcfg_msg *m, u32 line)
{
	m->len = 0;
	if (m->size)
		m->buf[0] = 0;
	msg_str(m, "vms.cfg line ");
	msg_num(m, line);
	msg_str(m, ": ");
}

/* ---- lexical helpers ---- */

static bool is_name_char(char c, bool module)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
		return true;
	return module && ((c >= 'A' && c <= 'Z') || c == '.');
}

/* VM names: [a-z][a-z0-9_-]{0,30}. */
static bool valid_vm_name(const char *s, size_t n)
{
	if (n < 1 || n >= VMCFG_NAME_SIZE || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_name_char(s[i], false))
			return false;
	return true;
}

/* Module names: [A-Za-z0-9._-]{1,48}. */
static bool valid_module_name(const char *s, size_t n)
{
	if (n < 1 || n >= VMCFG_MODNAME_SIZE)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(s[i], true))
			return false;
	return true;
}

/* Strict decimal (no sign, no spaces); false when not a number or > 10^9. */
static bool parse_u32(const char *s, size_t n, u32 *v)
{
	u64 x = 0;

	if (n < 1 || n > 9)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (u64)(s[i] - '0');
	}
	*v = (u32)x;
	return true;
}

/* Strict decimal up to 13 digits; false when not a number or > max. */
static bool parse_u64(const char *s, size_t n, u64 max, u64 *v)
{
	u64 x = 0;

	if (n < 1 || n > 13)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (u64)(s[i] - '0');
	}
	if (x > max)
		return false;
	*v = x;
	return true;
}

static void copy_str(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = 0;
}

static bool word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && !memcmp(w, lit, n);
}

/* Keys that belong inside vm ... end; valued = they need a value. */
static bool is_vm_key(const char *k, size_t n, bool valued)
{
	if (word_is(k, n, "mem") || word_is(k, n, "vcpus") || word_is(k, n, "kernel") ||
	    word_is(k, n, "on_triple_fault") || word_is(k, n, "weight") || word_is(k, n, "cap") ||
	    word_is(k, n, "rt_budget_us") || word_is(k, n, "rt_period_us") || word_is(k, n, "disk"))
		return true;
	return !valued && (word_is(k, n, "cmdline") || word_is(k, n, "module"));
}

/* ---- the parser ---- */

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
};

/* The scheduler numbers a vm may carry (ranges as in policy_abi.h). */
#define VMCFG_WEIGHT_MAX 10000u
#define VMCFG_CAP_MAX 1000u
#define VMCFG_RT_PERIOD_MIN 100u
#define VMCFG_RT_PERIOD_MAX 10000000u

#define VMCFG_KEYWORDS "policy, vm, mem, vcpus, kernel, cmdline, module, on_triple_fault, " \
	"weight, cap, rt_budget_us, rt_period_us, image, disk or end"

struct vmcfg_state {
	struct vmcfg *out;
	struct vmcfg_msg *msg;
	u32 line;
	bool header;
	struct vmcfg_vm *vm; /* inside vm ... end */
	u32 vm_line;
	u32 have;
};

static int bad(struct vmcfg_state *st, const char *what)
{
	msg_start(st->msg, st->line);
	msg_str(st->msg, what);
	return -CG_EINVAL;
}

static int bad_val(struct vmcfg_state *st, const char *pre, const char *v, size_t n, const char *post)
{
	msg_start(st->msg, st->line);
	msg_str(st->msg, pre);
	msg_val(st->msg, v, n);
	msg_str(st->msg, post);
	return -CG_EINVAL;
}

static int key_once(struct vmcfg_state *st, enum vmcfg_have bit, const char *key)
{
	if (st->have & bit) {
		msg_start(st->msg, st->line);
		msg_str(st->msg, key);
		msg_str(st->msg, " given twice in vm ");
		msg_str(st->msg, st->vm->name);
		msg_str(st->msg, "; keep one");
		return -CG_EINVAL;
	}
	st->have |= bit;
	return 0;
}

static int number(struct vmcfg_state *st, const char *key, const char *v, size_t n,
		  u32 lo, u32 hi, u32 *dst)
{
	u32 x = 0;

	if (!parse_u32(v, n, &x) || x < lo || x > hi) {
		msg_start(st->msg, st->line);
		msg_str(st->msg, key);
		msg_str(st->msg, " ");
		msg_val(st->msg, v, n);
		msg_str(st->msg, " is not a whole number from ");
		msg_num(st->msg, lo);
		msg_str(st->msg, " to ");
		msg_num(st->msg, hi);
		msg_str(st->msg, "; give one in that range");
		return -CG_EINVAL;
	}
	*dst = x;
	return 0;
}

static int begin_vm(struct vmcfg_state *st, const char *v, size_t n)
{
	struct vmcfg *c = st->out;

	if (st->vm)
		return bad_val(st, "vm inside vm ", st->vm->name, strlen(st->vm->name),
			       "; close it with 'end' first");
	if (!valid_vm_name(v, n))
		return bad_val(st, "vm name ", v, n,
			       " is not [a-z][a-z0-9_-]{0,30}; rename it");
	for (u32 i = 0; i < c->count; i++)
		if (word_is(v, n, c->vms[i].name))
			return bad_val(st, "vm name ", v, n, " is used twice; names must be unique");
	if (c->count >= VMCFG_MAX_VMS)
		return bad(st, "more than 16 vms; remove some");
	st->vm = &c->vms[c->count++];
	copy_str(st->vm->name, v, n);
	st->vm_line = st->line;
	st->have = 0;
	return 0;
}

static int end_vm(struct vmcfg_state *st)
{
	static const struct { u32 bit; const char *key; } need[] = {
		{ HAVE_MEM, "mem" }, { HAVE_VCPUS, "vcpus" }, { HAVE_KERNEL, "kernel" },
	};

	struct vmcfg_vm *vm = st->vm;
	u32 rt = st->have & (HAVE_RT_BUDGET | HAVE_RT_PERIOD);

	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		if (!(st->have & need[i].bit)) {
			msg_start(st->msg, st->line);
			msg_str(st->msg, "vm ");
			msg_str(st->msg, vm->name);
			msg_str(st->msg, " has no ");
			msg_str(st->msg, need[i].key);
			msg_str(st->msg, "; add a '");
			msg_str(st->msg, need[i].key);
			msg_str(st->msg, "' line before 'end'");
			return -CG_EINVAL;
		}
	}
	/* A reservation is a pair: both lines or neither. */
	if (rt && rt != (HAVE_RT_BUDGET | HAVE_RT_PERIOD)) {
		bool budget = rt == HAVE_RT_BUDGET;
		msg_start(st->msg, st->line);
		msg_str(st->msg, "vm ");
		msg_str(st->msg, vm->name);
		msg_str(st->msg, budget ? " has rt_budget_us but no rt_period_us" : " has rt_period_us but no rt_budget_us");
		msg_str(st->msg, "; a reservation needs both, add the missing line before 'end' or remove the other");
		return -CG_EINVAL;
	}
	if (rt && vm->rt_budget_us > vm->rt_period_us) {
		msg_start(st->msg, st->line);
		msg_str(st->msg, "vm ");
		msg_str(st->msg, vm->name);
		msg_str(st->msg, " has rt_budget_us ");
		msg_num(st->msg, vm->rt_budget_us);
		msg_str(st->msg, " over its rt_period_us ");
		msg_num(st->msg, vm->rt_period_us);
		msg_str(st->msg, "; the budget must fit in the period, lower it or raise the period");
		return -CG_EINVAL;
	}
	st->vm = 0;
	return 0;
}

/* policy NAME: top level, once, before the first vm. */
static int set_policy(struct vmcfg_state *st, const char *v, size_t n, bool has_val)
{
	struct vmcfg *c = st->out;

	if (st->vm)
		return bad_val(st, "policy inside vm ", st->vm->name, strlen(st->vm->name),
			       "; 'policy' is a top-level line, put it before the first 'vm'");
	if (c->count)
		return bad(st, "policy after a vm block; put the 'policy' line before the first 'vm'");
	if (c->policy[0])
		return bad(st, "policy given twice; keep one");
	if (!has_val)
		return bad(st, "'policy' needs a value; write 'policy <name>'");
	if (!valid_vm_name(v, n) || n >= VMCFG_POLICY_SIZE)
		return bad_val(st, "policy name ", v, n, " is not [a-z][a-z0-9_-]{0,30}; use a name such as fair or rt");
	copy_str(c->policy, v, n);
	return 0;
}

/* Split v into space-separated fields (single spaces, as the toolchain
 * writes them): at most max, each as pointer and length. Returns how many
 * there are (max + 1 when there are more). */
static u32 split_fields(const char *v, size_t vn, const char **f, size_t *fn, u32 max)
{
	u32 count = 0;
	size_t i = 0;

	while (i < vn) {
		size_t j = i;

		while (j < vn && v[j] != ' ')
			j++;
		if (count == max)
			return max + 1;
		f[count] = v + i;
		fn[count] = j - i;
		count++;
		i = j + 1;
		if (j < vn && i == vn) /* a trailing space: an empty last field */
			return max + 1;
	}
	return count;
}

/* image NAME MODULE: top level, before the first vm. */
static int add_image(struct vmcfg_state *st, const char *v, size_t vn)
{
	struct vmcfg *c = st->out;
	const char *f[2];
	size_t fn[2];

	if (st->vm)
		return bad_val(st, "image inside vm ", st->vm->name, strlen(st->vm->name),
			       "; 'image' is a top-level line, put it before the first 'vm'");
	if (c->count)
		return bad(st, "image after a vm block; put the 'image' lines before the first 'vm'");
	if (split_fields(v, vn, f, fn, 2) != 2)
		return bad(st, "'image' takes two values; write 'image <name> <module-name>'");
	if (!valid_vm_name(f[0], fn[0]))
		return bad_val(st, "image name ", f[0], fn[0], " is not [a-z][a-z0-9_-]{0,30}; rename it");
	if (!valid_module_name(f[1], fn[1]))
		return bad_val(st, "image module name ", f[1], fn[1],
			       " is not [A-Za-z0-9._-]{1,48}; use the name the toolchain assigned");
	for (u32 i = 0; i < c->image_count; i++)
		if (word_is(f[0], fn[0], c->images[i].name))
			return bad_val(st, "image name ", f[0], fn[0], " is used twice; names must be unique");
	if (c->image_count >= VMCFG_MAX_IMAGES)
		return bad(st, "more than 8 images; share images between VMs or remove some");
	struct vmcfg_image *img = &c->images[c->image_count++];
	copy_str(img->name, f[0], fn[0]);
	copy_str(img->module, f[1], fn[1]);
	return 0;
}

/* disk IMAGE ro|rw keep|discard IOPS BYTES_PER_S, inside a vm. */
static int add_disk(struct vmcfg_state *st, const char *v, size_t vn)
{
	struct vmcfg *c = st->out;
	struct vmcfg_vm *vm = st->vm;
	const struct vmcfg_image *img = 0;
	struct vmcfg_disk *d;
	const char *f[5];
	size_t fn[5];
	u64 n;

	if (split_fields(v, vn, f, fn, 5) != 5)
		return bad(st, "'disk' takes five values; write 'disk <image> <ro|rw> <keep|discard> <iops> <bytes_per_s>'");
	for (u32 i = 0; i < c->image_count; i++)
		if (word_is(f[0], fn[0], c->images[i].name))
			img = &c->images[i];
	if (!img)
		return bad_val(st, "disk image ", f[0], fn[0],
			       " is not declared; add 'image <name> <module-name>' before the first 'vm'");
	if (vm->disk_count >= VMCFG_MAX_DISKS)
		return bad(st, "more than 4 disks in one vm; remove some");
	d = &vm->disks[vm->disk_count];
	memset(d, 0, sizeof(*d));
	d->image = (u32)(img - c->images);
	copy_str(d->image_name, img->name, strlen(img->name));
	copy_str(d->module, img->module, strlen(img->module));
	if (word_is(f[1], fn[1], "rw"))
		d->rw = true;
	else if (!word_is(f[1], fn[1], "ro"))
		return bad_val(st, "disk mode ", f[1], fn[1], " is not ro or rw; use one of those");
	if (word_is(f[2], fn[2], "discard"))
		d->discard = true;
	else if (!word_is(f[2], fn[2], "keep"))
		return bad_val(st, "disk overlay ", f[2], fn[2], " is not keep or discard; use one of those");
	if (d->discard && !d->rw)
		return bad(st, "a ro disk has no overlay to discard; write 'keep' for it");
	if (!parse_u64(f[3], fn[3], VMCFG_IOPS_MAX, &n))
		return bad_val(st, "disk iops ", f[3], fn[3],
			       " is not a whole number from 0 to 1000000; give one (0 = unlimited)");
	d->iops = (u32)n;
	if (!parse_u64(f[4], fn[4], VMCFG_BPS_MAX, &n) || (n && n < VMCFG_BPS_MIN))
		return bad_val(st, "disk bytes_per_s ", f[4], fn[4],
			       " is not 0 or a whole number from 512 to 1000000000000; give one (0 = unlimited)");
	d->bytes_per_s = n;
	vm->disk_count++;
	return 0;
}

static int vm_key(struct vmcfg_state *st, const char *k, size_t kn, const char *v, size_t vn, bool has_val)
{
	struct vmcfg_vm *vm = st->vm;
	int err;

	if (word_is(k, kn, "mem")) {
		if ((err = key_once(st, HAVE_MEM, "mem")))
			return err;
		return number(st, "mem", v, vn, VMCFG_MEM_MIN, VMCFG_MEM_MAX, &vm->mem_mib);
	}
	if (word_is(k, kn, "vcpus")) {
		if ((err = key_once(st, HAVE_VCPUS, "vcpus")))
			return err;
		return number(st, "vcpus", v, vn, 1, VMCFG_VCPUS_MAX, &vm->vcpus);
	}
	if (word_is(k, kn, "kernel")) {
		if ((err = key_once(st, HAVE_KERNEL, "kernel")))
			return err;
		if (!valid_module_name(v, vn))
			return bad_val(st, "kernel module name ", v, vn,
				       " is not [A-Za-z0-9._-]{1,48}; use the name the toolchain assigned");
		copy_str(vm->kernel, v, vn);
		return 0;
	}
	if (word_is(k, kn, "cmdline")) {
		if ((err = key_once(st, HAVE_CMDLINE, "cmdline")))
			return err;
		if (vn >= VMCFG_CMDLINE_SIZE)
			return bad(st, "cmdline longer than 255 bytes; shorten it");
		copy_str(vm->cmdline, v, vn);
		return 0;
	}
	if (word_is(k, kn, "module")) {
		size_t nn = 0;
		while (nn < vn && v[nn] != ' ')
			nn++;
		const char *mc = nn < vn ? v + nn + 1 : v + vn;
		size_t mcn = nn < vn ? vn - nn - 1 : 0;
		if (!has_val || !valid_module_name(v, nn))
			return bad_val(st, "module name ", v, nn,
				       " is not [A-Za-z0-9._-]{1,48}; use the name the toolchain assigned");
		if (vm->module_count >= VMCFG_MAX_MODULES)
			return bad(st, "more than 8 modules in one vm; remove some");
		if (mcn >= VMCFG_MODCMDLINE_SIZE)
			return bad(st, "module cmdline longer than 127 bytes; shorten it");
		struct vmcfg_module *m = &vm->modules[vm->module_count++];
		copy_str(m->name, v, nn);
		copy_str(m->cmdline, mc, mcn);
		return 0;
	}
	if (word_is(k, kn, "disk"))
		return add_disk(st, v, vn);
	if (word_is(k, kn, "on_triple_fault")) {
		if ((err = key_once(st, HAVE_TRIPLE, "on_triple_fault")))
			return err;
		if (word_is(v, vn, "stop"))
			vm->on_triple_fault = VMCFG_TRIPLE_STOP;
		else if (word_is(v, vn, "reset"))
			vm->on_triple_fault = VMCFG_TRIPLE_RESET;
		else
			return bad_val(st, "on_triple_fault ", v, vn, " is not stop or reset; use one of those");
		return 0;
	}
	if (word_is(k, kn, "weight")) {
		if ((err = key_once(st, HAVE_WEIGHT, "weight")))
			return err;
		return number(st, "weight", v, vn, 1, VMCFG_WEIGHT_MAX, &vm->weight);
	}
	if (word_is(k, kn, "cap")) {
		if ((err = key_once(st, HAVE_CAP, "cap")))
			return err;
		return number(st, "cap", v, vn, 0, VMCFG_CAP_MAX, &vm->cap_permille);
	}
	/* budget <= period and the pair are checked at 'end'. */
	if (word_is(k, kn, "rt_budget_us")) {
		if ((err = key_once(st, HAVE_RT_BUDGET, "rt_budget_us")))
			return err;
		return number(st, "rt_budget_us", v, vn, 1, VMCFG_RT_PERIOD_MAX, &vm->rt_budget_us);
	}
	if (word_is(k, kn, "rt_period_us")) {
		if ((err = key_once(st, HAVE_RT_PERIOD, "rt_period_us")))
			return err;
		return number(st, "rt_period_us", v, vn, VMCFG_RT_PERIOD_MIN, VMCFG_RT_PERIOD_MAX,
			      &vm->rt_period_us);
	}
	return -CG_ENOENT;
}

/* One line without its '\n' (a trailing '\r' already removed). */
static int parse_line(struct vmcfg_state *st, const char *s, size_t n)
{
	size_t i = 0;

	for (size_t j = 0; j < n; j++) {
		u8 c = (u8)s[j];
		if (c == 0)
			return bad(st, "NUL byte; vms.cfg is text, regenerate it with crossguard");
		if (c < 0x20 || c >= 0x7f)
			return bad(st, "non-printable byte; vms.cfg is printable ASCII, regenerate it with crossguard");
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
		if (!word_is(k, kn, "cgvms"))
			return bad(st, "missing header; the first line must be 'cgvms 1'");
		if (!word_is(v, vn, "1"))
			return bad_val(st, "unknown version ", v, vn, "; this monitor reads 'cgvms 1', regenerate with its toolchain");
		st->header = true;
		return 0;
	}
	if (word_is(k, kn, "cgvms"))
		return bad(st, "second 'cgvms' header; keep only the first line");
	if (word_is(k, kn, "policy"))
		return set_policy(st, v, vn, has_val);
	if (word_is(k, kn, "image")) {
		if (!has_val)
			return bad(st, "'image' needs values; write 'image <name> <module-name>'");
		return add_image(st, v, vn);
	}
	if (word_is(k, kn, "vm"))
		return begin_vm(st, v, vn);
	if (word_is(k, kn, "end")) {
		if (!st->vm)
			return bad(st, "'end' outside a vm block; remove it or add 'vm <name>' before");
		if (has_val)
			return bad(st, "'end' takes no value; write just 'end'");
		return end_vm(st);
	}
	if (!st->vm) {
		if (is_vm_key(k, kn, false))
			return bad_val(st, "", k, kn, " outside a vm block; put it between 'vm <name>' and 'end'");
		return bad_val(st, "unknown keyword ", k, kn, "; expected " VMCFG_KEYWORDS);
	}
	if (!has_val && is_vm_key(k, kn, true))
		return bad_val(st, "", k, kn, " needs a value; write '<key> <value>'");
	int err = vm_key(st, k, kn, v, vn, has_val);
	if (err == -CG_ENOENT)
		return bad_val(st, "unknown keyword ", k, kn, "; expected " VMCFG_KEYWORDS);
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
		return bad(&st, "missing header; the first line must be 'cgvms 1'");
	}
	if (st.vm) {
		st.line = st.vm_line;
		return bad_val(&st, "vm ", st.vm->name, strlen(st.vm->name),
			       " has no 'end'; add a line 'end' after its keys");
	}
	if (!out->count)
		return bad(&st, "no vm; add at least one 'vm <name>' ... 'end' block");
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
	copy_str(buf, base, n);
	return buf;
}

const struct vmcfg_vm *vmcfg_find(const struct vmcfg *cfg, const char *name)
{
	for (u32 i = 0; i < cfg->count && i < VMCFG_MAX_VMS; i++)
		if (!strcmp(cfg->vms[i].name, name))
			return &cfg->vms[i];
	return 0;
}
