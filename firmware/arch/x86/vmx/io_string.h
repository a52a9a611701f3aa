/* String I/O (INS and OUTS, with or without REP): the element loop, with
 * the guest's memory and the port passed in, so that the host tests run it
 * against page tables that change while it works (another vCPU of the VM
 * may rewrite them at any moment). */
#ifndef X86_IO_STRING_H
#define X86_IO_STRING_H

#include <cg/types.h>
#include "arch/x86/vmx/guest_walk.h"
#include "arch/x86/vmx/bp_match.h"

/* #PF error code bits (SDM Vol 3A 4.7) */
#define PF_ERR_PRESENT (1U << 0)
#define PF_ERR_WRITE (1U << 1)

struct io_string {
	u64 gla;   /* linear address of the first element (the exit's) */
	s64 step;  /* +size, or -size with RFLAGS.DF set */
	u64 count; /* elements to move in this exit */
	u32 size;  /* bytes per element: 1, 2 or 4 */
	bool in;   /* INS (port to memory); else OUTS */
	const struct bp_regs *bp; /* the guest's breakpoints, or NULL: none enabled */
};

enum io_string_end {
	IO_STRING_DONE,       /* all count elements moved */
	IO_STRING_FAULT,      /* an element's page is not present or not
			       * writable: inject #PF (fault_gla, fault_error) */
	IO_STRING_BAD_MEMORY, /* an element maps outside guest RAM, or its page
			       * tables are broken: the VM must stop */
	IO_STRING_VM_ENDED,   /* the port access ended the VM */
	IO_STRING_RETRY,      /* the port is busy (a paced UART): element
			       * done is not moved; the vCPU yields and the
			       * instruction runs again from there */
	IO_STRING_WATCHED,    /* element done - 1 (moved) hit a data
			       * breakpoint with its memory access (bp_hits):
			       * the CPU traps after that iteration, so the
			       * loop ends there (SDM Vol 3A 17.3.1.2) */
};

struct io_string_result {
	u64 done; /* elements moved (the registers advance by this many) */
	enum io_string_end end;
	u64 fault_gla;
	u32 fault_error;
	u32 bp_hits; /* IO_STRING_WATCHED: B0-B3 the last element's memory
		      * access hit (INS writes, OUTS reads; bp_match) */
};

/* What the port side of one element did. */
enum io_string_port_result {
	IO_STRING_PORT_OK,
	IO_STRING_PORT_VM_ENDED, /* the access ended the VM */
	IO_STRING_PORT_RETRY,    /* busy: nothing happened, try again later */
};

/* The port side of one element: IN fills *val, OUT reads it. */
typedef enum io_string_port_result (*io_string_port_fn)(void *ctx, bool in, u32 size, u32 *val);

/* io_string_run: move s->count elements between the port and guest memory
 * at s->gla, s->gla + step, ... Each byte is translated once, before the
 * port access, and that very host pointer is the one read (OUTS) or
 * written (INS): a page table rewritten meanwhile cannot redirect the
 * write, and no failure ever turns into a write through NULL. An element
 * that fails translation is not started (its port access does not
 * happen). With s->bp, each element's memory access is matched against
 * the guest's data breakpoints, and the first that hits is the last one
 * moved (IO_STRING_WATCHED). Bounded: s->count elements, at most 4 walks
 * and one bp_match each. */
struct io_string_result io_string_run(const struct io_string *s, const struct guest_mem *gm,
				      const struct guest_paging *pg, io_string_port_fn port,
				      void *ctx);

#endif
