/* vms.cfg lexing and error text (contracts in vmcfg_lex.h): the strict
 * names, numbers and fields every line is made of, and the one-line
 * messages that name the line and say how to fix it. */
#include "core/vmcfg_lex.h"
#include <cg/errno.h>
#include <cg/string.h>

/* ---- error text: "vms.cfg line N: " + pieces, bounded by err_size ---- */

void vmcfg_msg_str(struct vmcfg_msg *m, const char *s)
{
	while (*s && m->len + 1 < m->size)
		m->buf[m->len++] = *s++;
	if (m->size)
		m->buf[m->len] = 0;
}

void vmcfg_msg_num(struct vmcfg_msg *m, u64 v)
{
	char s[24];
	int i = (int)sizeof(s) - 1;

	s[i] = 0;
	do {
		s[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	vmcfg_msg_str(m, s + i);
}

/* Quotes at most 24 bytes of a value (which is printable: checked first). */
static void msg_val(struct vmcfg_msg *m, const char *v, size_t n)
{
	char s[32];
	size_t k = n > 24 ? 24 : n;

	s[0] = '\'';
	memcpy(s + 1, v, k);
	s[1 + k] = 0;
	vmcfg_msg_str(m, s);
	vmcfg_msg_str(m, n > k ? "...'" : "'");
}

void vmcfg_msg_start(struct vmcfg_msg *m, u32 line)
{
	m->len = 0;
	if (m->size)
		m->buf[0] = 0;
	vmcfg_msg_str(m, "vms.cfg line ");
	vmcfg_msg_num(m, line);
	vmcfg_msg_str(m, ": ");
}

int vmcfg_bad(struct vmcfg_state *st, const char *what)
{
	vmcfg_msg_start(st->msg, st->line);
	vmcfg_msg_str(st->msg, what);
	return -CG_EINVAL;
}

int vmcfg_bad_val(struct vmcfg_state *st, const char *pre, const char *v, size_t n, const char *post)
{
	vmcfg_msg_start(st->msg, st->line);
	vmcfg_msg_str(st->msg, pre);
	msg_val(st->msg, v, n);
	vmcfg_msg_str(st->msg, post);
	return -CG_EINVAL;
}

/* ---- lexical helpers ---- */

static bool is_name_char(char c, bool module)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
		return true;
	return module && ((c >= 'A' && c <= 'Z') || c == '.');
}

bool vmcfg_valid_vm_name(const char *s, size_t n)
{
	if (n < 1 || n >= VMCFG_NAME_SIZE || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_name_char(s[i], false))
			return false;
	return true;
}

bool vmcfg_valid_module_name(const char *s, size_t n)
{
	if (n < 1 || n >= VMCFG_MODNAME_SIZE)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(s[i], true))
			return false;
	return true;
}

bool vmcfg_parse_u64(const char *s, size_t n, u64 max, u64 *v)
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

int vmcfg_number(struct vmcfg_state *st, const char *key, const char *v, size_t n,
		 u32 lo, u32 hi, u32 *dst)
{
	u32 x = 0;

	if (!cg_parse_u32(v, n, &x) || x < lo || x > hi) {
		vmcfg_msg_start(st->msg, st->line);
		vmcfg_msg_str(st->msg, key);
		vmcfg_msg_str(st->msg, " ");
		msg_val(st->msg, v, n);
		vmcfg_msg_str(st->msg, " is not a whole number from ");
		vmcfg_msg_num(st->msg, lo);
		vmcfg_msg_str(st->msg, " to ");
		vmcfg_msg_num(st->msg, hi);
		vmcfg_msg_str(st->msg, "; give one in that range");
		return -CG_EINVAL;
	}
	*dst = x;
	return 0;
}

void vmcfg_copy_str(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = 0;
}

bool vmcfg_word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && !memcmp(w, lit, n);
}

u32 vmcfg_split_fields(const char *v, size_t vn, const char **f, size_t *fn, u32 max)
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
