/* Internals of the vms.cfg parser, shared by vmcfg.c (the line loop and
 * top-level keys) and vmcfg_vm.c (vm blocks, image and disk lines): the
 * parse state, the bounded error text and the strict lexing of names,
 * numbers and fields. Not for other callers: they use vmcfg.h. */
#ifndef CG_VMCFG_LEX_H
#define CG_VMCFG_LEX_H

#include "core/vmcfg.h"

/* The error text being built: "vms.cfg line N: " + pieces, always
 * NUL-terminated within size (nothing is written when size is 0). */
struct vmcfg_msg {
	char *buf;
	size_t size;
	size_t len;
};

struct vmcfg_state {
	struct vmcfg *out;
	struct vmcfg_msg *msg;
	u32 line;
	bool header;
	struct vmcfg_vm *vm; /* inside vm ... end */
	u32 vm_line;
	u32 have;            /* the keys this vm has given (vmcfg_vm.c) */
};

/* vmcfg_msg_start: restart m as "vms.cfg line <line>: ". */
void vmcfg_msg_start(struct vmcfg_msg *m, u32 line);

/* vmcfg_msg_str: append s to m, cut at the buffer's end. */
void vmcfg_msg_str(struct vmcfg_msg *m, const char *s);

/* vmcfg_msg_num: append v in decimal to m. */
void vmcfg_msg_num(struct vmcfg_msg *m, u64 v);

/* vmcfg_bad: set the error to "line N: what". Returns -CG_EINVAL. */
int vmcfg_bad(struct vmcfg_state *st, const char *what);

/* vmcfg_bad_val: set the error to "line N: pre'v'post", v (n bytes,
 * printable) quoted and cut to 24 bytes. Returns -CG_EINVAL. */
int vmcfg_bad_val(struct vmcfg_state *st, const char *pre, const char *v, size_t n, const char *post);

/* vmcfg_number: parse v (n bytes) as a strict decimal in lo..hi into *dst.
 * Returns 0, or -CG_EINVAL with an error naming key and the range (*dst
 * then untouched). */
int vmcfg_number(struct vmcfg_state *st, const char *key, const char *v, size_t n,
		 u32 lo, u32 hi, u32 *dst);

/* vmcfg_parse_u64: strict decimal (no sign, no spaces) of at most 13
 * digits into *v. Returns false, *v untouched, when s is not one or the
 * value is over max. */
bool vmcfg_parse_u64(const char *s, size_t n, u64 max, u64 *v);

/* vmcfg_valid_vm_name: s (n bytes) is [a-z][a-z0-9_-]{0,30}. Also used for
 * image and policy names. */
bool vmcfg_valid_vm_name(const char *s, size_t n);

/* vmcfg_valid_module_name: s (n bytes) is [A-Za-z0-9._-]{1,48}. */
bool vmcfg_valid_module_name(const char *s, size_t n);

/* vmcfg_word_is: the n bytes at w are exactly the string lit. */
bool vmcfg_word_is(const char *w, size_t n, const char *lit);

/* vmcfg_copy_str: copy n bytes and a NUL to dst (which has n + 1 bytes;
 * the callers check the length first). */
void vmcfg_copy_str(char *dst, const char *src, size_t n);

/* vmcfg_split_fields: split v into space-separated fields (single spaces,
 * as the toolchain writes them): at most max, each as pointer and length.
 * Returns how many there are (max + 1 when there are more, or when there
 * is an empty last field). */
u32 vmcfg_split_fields(const char *v, size_t vn, const char **f, size_t *fn, u32 max);

#endif
