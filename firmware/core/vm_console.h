/* A VM's console: what the guest writes (UART, port 0xE9, the
 * console_write hypercall) goes to the operator line, collected per line
 * and tagged with the VM's name, or raw while the operator is attached to
 * the VM; a ring keeps the recent output for the next attach.
 *
 * Two rules hold on every path (docs/markers.md, "Guest output"):
 * - Rate: each VM has its share of the operator line (115200 baud 8N1,
 *   11520 bytes/s, divided among the VMs that exist) and a clock of when
 *   its share is free again; a write that finds the clock more than
 *   VM_CONSOLE_BURST bytes ahead is refused and the vCPU retries it later
 *   (the UART shows the same clock in its line status). Nothing is
 *   dropped, and no VM can hold the line, or the log lock, for long.
 * - Markers: the bytes pass a marker_guard (lib/marker_guard.h) before
 *   anything else sees them, so "@cg" reaches the line, the ring and its
 *   replay only as "\@cg". */
#ifndef CG_VM_CONSOLE_H
#define CG_VM_CONSOLE_H

#include <cg/types.h>
#include "lib/marker_guard.h"

struct vm;

#define VM_CONSOLE_LINE 160
#define VM_CONSOLE_RING 2048
#define VM_CONSOLE_LINE_BPS 11520ull /* COM1: 115200 baud, 10 bits a byte */
#define VM_CONSOLE_BURST 64          /* bytes a VM may write ahead of its clock */
#define VM_CONSOLE_REPLAY_PIECE 64   /* replay bytes sent under the log lock at once */

struct vm_console {
	char line[VM_CONSOLE_LINE];
	u32 len;
	u32 lock;
	char ring[VM_CONSOLE_RING]; /* the VM's recent output, escaped, as sent raw */
	u64 ring_total;
	struct marker_guard guard;
	u64 free_ns;   /* the VM's share of the line is free from then on */
	u64 replay_at; /* ring position the attach replay has sent up to */
	bool replaying; /* attach replay not caught up: raw output waits in the ring */
};

/* vm_console_byte_ns: how long one byte of a VM's output takes on its
 * share of the operator line now (ns). */
u64 vm_console_byte_ns(void);

/* vm_console_reserve: charge n bytes that vm is about to write at now_ns
 * to its share of the line. false (nothing charged) when its clock is
 * more than VM_CONSOLE_BURST bytes ahead: the caller refuses the write and
 * the guest retries it. Safe from any CPU. */
bool vm_console_reserve(struct vm *vm, u64 n, u64 now_ns);

/* vm_console_putc: one byte of guest console output, already reserved;
 * complete lines go to the operator line as "[<vm>] <text>". Safe from
 * any CPU. */
void vm_console_putc(struct vm *vm, char c);

/* vm_console_putc_paced: reserve one byte at the current time and write
 * it; false (nothing written) when vm's share of the line is used up. */
bool vm_console_putc_paced(struct vm *vm, char c);

/* vm_console_flush: print what is held back (a partial line, the start of
 * a possible "@cg"): the VM is ending. */
void vm_console_flush(struct vm *vm);

/* vm_console_attach: the operator line now belongs to vm's console (NULL:
 * back to the shell). While attached, vm's output goes out raw and
 * untagged, after the recent output kept in its ring is replayed (in
 * pieces, from a line start, in order with what the VM writes meanwhile).
 * Returns once the replay has caught up. */
void vm_console_attach(struct vm *vm);

/* vm_console_attached: the VM the line is attached to, or NULL. */
struct vm *vm_console_attached(void);

#endif
