/* A VM's console (vm_console.h): its share of the operator line, the
 * "@cg" guard, the per-VM line buffer and ring, and which VM the operator
 * line is attached to. Lock order: a console's lock, then the log lock. */
#include "core/vm_console.h"
#include "core/vm.h"
#include "core/vm_io.h"
#include "lib/log.h"
#include <cg/spinlock.h>

static struct vm *console_attached;

struct vm *vm_console_attached(void)
{
	return __atomic_load_n(&console_attached, __ATOMIC_ACQUIRE);
}

u64 vm_console_byte_ns(void)
{
	/* Every VM that exists gets an equal share, whether it writes or not:
	 * together they never ask more of the line than it carries. */
	u32 vms = vm_active_count();
	return 1000000000ull / VM_CONSOLE_LINE_BPS * (vms ? vms : 1);
}

bool vm_console_reserve(struct vm *vm, u64 n, u64 now_ns)
{
	struct vm_console *con = &vm->dev.console;
	u64 bt = vm_console_byte_ns();
	bool ok;
	spin_lock(&con->lock);
	u64 start = con->free_ns > now_ns ? con->free_ns : now_ns;
	ok = start - now_ns <= VM_CONSOLE_BURST * bt;
	if (ok)
		con->free_ns = start + n * bt;
	spin_unlock(&con->lock);
	return ok;
}

/* Guarded bytes s[0..n) onward (console lock held): into the ring, then
 * raw to the line when attached and the replay has caught up, else into
 * the tagged line. One call's bytes reach the line in one piece, as
 * marker_guard_feed requires. */
static void con_emit(struct vm *vm, struct vm_console *con, const char *s, u32 n)
{
	for (u32 i = 0; i < n; i++)
		con->ring[con->ring_total++ % VM_CONSOLE_RING] = s[i];
	if (vm == vm_console_attached()) {
		if (!con->replaying)
			klog_guest_write(s, n);
		return;
	}
	for (u32 i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\n' || con->len == VM_CONSOLE_LINE - 1) {
			con->line[con->len] = 0;
			klog_line("[%s] %s\n", vm->name, con->line);
			con->len = 0;
			if (c == '\n')
				continue;
		}
		/* Carriage returns and other control bytes would garble the
		 * shared operator line; tabs become spaces. */
		if (c == '\t')
			c = ' ';
		if ((u8)c >= 0x20 && (u8)c < 0x7F)
			con->line[con->len++] = c;
	}
}

void vm_console_putc(struct vm *vm, char c)
{
	struct vm_console *con = &vm->dev.console;
	char out[MARKER_GUARD_OUT_MAX];
	spin_lock(&con->lock);
	u32 n = marker_guard_feed(&con->guard, c, out);
	con_emit(vm, con, out, n);
	spin_unlock(&con->lock);
}

bool vm_console_putc_paced(struct vm *vm, char c)
{
	if (!vm_console_reserve(vm, 1, vm_now_ns()))
		return false;
	vm_console_putc(vm, c);
	return true;
}

void vm_console_flush(struct vm *vm)
{
	struct vm_console *con = &vm->dev.console;
	char out[MARKER_GUARD_OUT_MAX];
	spin_lock(&con->lock);
	con_emit(vm, con, out, marker_guard_end(&con->guard, out));
	if (con->len) {
		con->line[con->len] = 0;
		klog_line("[%s] %s\n", vm->name, con->line);
		con->len = 0;
	}
	spin_unlock(&con->lock);
}

/* Copy up to max ring bytes from position at (console lock held). */
static u32 ring_copy(const struct vm_console *con, u64 at, char *dst, u32 max)
{
	u64 left = con->ring_total - at;
	u32 n = left < max ? (u32)left : max;
	for (u32 i = 0; i < n; i++)
		dst[i] = con->ring[(at + i) % VM_CONSOLE_RING];
	return n;
}

/* Where a replay may begin when the ring no longer holds what came
 * before position at: a line start (console lock held). */
static u64 ring_resume(const struct vm_console *con, u64 at)
{
	if (at == 0)
		return 0; /* the VM's very first byte: nothing was cut */
	char text[VM_CONSOLE_RING];
	u32 n = ring_copy(con, at, text, sizeof(text));
	return at + marker_guard_resume(text, n);
}

/* Bound on the replay's rounds: the VM may write while it runs, but no
 * faster than its share of the line, which the replay drains at the
 * whole line's rate. */
#define REPLAY_ROUNDS (4 * VM_CONSOLE_RING / VM_CONSOLE_REPLAY_PIECE)

void vm_console_attach(struct vm *vm)
{
	if (!vm) {
		__atomic_store_n(&console_attached, NULL, __ATOMIC_RELEASE);
		return;
	}
	struct vm_console *con = &vm->dev.console;
	spin_lock(&con->lock);
	u64 oldest = con->ring_total > VM_CONSOLE_RING ? con->ring_total - VM_CONSOLE_RING : 0;
	con->replay_at = ring_resume(con, oldest);
	con->replaying = true;
	__atomic_store_n(&console_attached, vm, __ATOMIC_RELEASE);
	spin_unlock(&con->lock);

	for (u32 round = 0;; round++) {
		char piece[VM_CONSOLE_REPLAY_PIECE + 1];
		spin_lock(&con->lock);
		if (con->ring_total - con->replay_at > VM_CONSOLE_RING) /* overrun */
			con->replay_at = ring_resume(con, con->ring_total - VM_CONSOLE_RING);
		if (round == REPLAY_ROUNDS)
			con->replay_at = con->ring_total; /* give up on the rest */
		u32 have = ring_copy(con, con->replay_at, piece, sizeof(piece));
		u32 n = marker_guard_cut(piece, have, VM_CONSOLE_REPLAY_PIECE);
		con->replay_at += n;
		if (con->replay_at == con->ring_total) {
			/* The last piece goes out before the VM's next byte. */
			klog_guest_write(piece, n);
			con->replaying = false;
			spin_unlock(&con->lock);
			return;
		}
		spin_unlock(&con->lock);
		klog_guest_write(piece, n);
	}
}
