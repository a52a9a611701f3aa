/* String I/O's element loop (io_string.h): translate, then port, then
 * memory, through the one translation. */
#include "arch/x86/vmx/io_string.h"
#include <cg/errno.h>

/* Host pointers for the size bytes of the element at a, one walk per
 * byte (an element may straddle two pages mapped anywhere). Fills r and
 * returns false on failure. */
static bool io_string_translate(const struct io_string *s, const struct guest_mem *gm,
				const struct guest_paging *pg, u64 a, u8 *ptr[4],
				struct io_string_result *r)
{
	for (u32 b = 0; b < s->size; b++) {
		u64 gpa = 0;
		int rc = guest_walk(gm, pg, a + b, s->in ? WALK_WRITE : WALK_READ, &gpa);
		if (rc == -CG_ENOENT || rc == -CG_ERANGE) {
			r->end = IO_STRING_FAULT;
			r->fault_gla = a + b;
			r->fault_error = (rc == -CG_ERANGE ? PF_ERR_PRESENT : 0) |
					 (s->in ? PF_ERR_WRITE : 0);
			return false;
		}
		/* The walker only reads guest memory, hence const; guest RAM
		 * itself is the guest's to write. */
		const void *p = rc ? NULL : gm->map(gm, gpa, 1);
		if (!p) {
			r->end = IO_STRING_BAD_MEMORY;
			return false;
		}
		ptr[b] = (u8 *)(uintptr_t)p;
	}
	return true;
}

struct io_string_result io_string_run(const struct io_string *s, const struct guest_mem *gm,
				      const struct guest_paging *pg, io_string_port_fn port,
				      void *ctx)
{
	struct io_string_result r = { 0, IO_STRING_DONE, 0, 0, 0 };
	if (s->size < 1 || s->size > 4)
		return (struct io_string_result){ 0, IO_STRING_BAD_MEMORY, 0, 0, 0 };
	for (; r.done < s->count; r.done++) {
		u64 a = s->gla + (u64)((s64)r.done * s->step);
		u8 *ptr[4];
		if (!io_string_translate(s, gm, pg, a, ptr, &r))
			break;
		u32 val = 0;
		if (!s->in)
			for (u32 b = 0; b < s->size; b++)
				val |= (u32)*ptr[b] << (8 * b);
		enum io_string_port_result pr = port(ctx, s->in, s->size, &val);
		if (pr == IO_STRING_PORT_RETRY) {
			r.end = IO_STRING_RETRY;
			break;
		}
		if (pr == IO_STRING_PORT_VM_ENDED) {
			r.done++;
			r.end = IO_STRING_VM_ENDED;
			break;
		}
		if (s->in)
			for (u32 b = 0; b < s->size; b++)
				*ptr[b] = (u8)(val >> (8 * b));
		u32 hits = s->bp ? bp_match(s->bp, s->in ? BP_DATA_WRITE : BP_DATA_READ, a, s->size)
				 : 0;
		if (hits) {
			r.done++;
			r.end = IO_STRING_WATCHED;
			r.bp_hits = hits;
			break;
		}
	}
	return r;
}
