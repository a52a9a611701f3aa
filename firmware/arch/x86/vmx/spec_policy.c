/* Which speculative-execution barriers a CPU needs between VMs, from what
 * it enumerates (docs/spec-ctrl.md). Pure: no MSR, no CPUID here, so the
 * host tests feed it the enumeration of real CPU models. */
#include "arch/x86/vmx/spec_ctrl.h"
#include "lib/fmt.h"
#include <cg/string.h>

/* What c is affected by (SPEC_EXPOSED_* bits, before any mitigation).
 * Intel enumerates no "not affected" bit for branch target injection, so
 * both BTI kinds always count. L1TF: unless RDCL_NO, or SKIP_L1DFL_VMENTRY
 * (the CPU, or the VMM below this one, needs no flush on VM entry). MDS:
 * unless MDS_NO; TSX async abort: with RTM unless TAA_NO (VERW covers
 * both). */
static u32 spec_affected(const struct spec_cpu *c)
{
	u32 a = SPEC_EXPOSED_BTI | SPEC_EXPOSED_VM_BTI;
	if (!(c->arch_cap & (ARCH_CAP_RDCL_NO | ARCH_CAP_SKIP_L1DFL_VMENTRY)))
		a |= SPEC_EXPOSED_L1TF;
	if (!(c->arch_cap & ARCH_CAP_MDS_NO) ||
	    ((c->leaf7_ebx & SPEC_L7_EBX_RTM) && !(c->arch_cap & ARCH_CAP_TAA_NO)))
		a |= SPEC_EXPOSED_MDS;
	return a;
}

/* IBPB is the only barrier between two guests' branch training: used
 * wherever the CPU has it. Enhanced IBRS (ARCH_CAP.IBRS_ALL, with
 * IA32_SPEC_CTRL) keeps a guest's training from steering the monitor's
 * indirect branches once IBRS is set, at no cost per exit. Without it the
 * guest's CALLs leave RSB entries a monitor RET would follow (and with
 * RSBA an empty RSB falls back to the BTB): overwrite all of them. With
 * it, only the last CALL before the exit can still be predicted across
 * it (post-barrier RSB predictions), unless PBRSB_NO. */
static void decide_branches(const struct spec_cpu *c, enum spec_mode m, struct spec_decision *d)
{
	bool spec_ctrl = c->leaf7_edx & SPEC_L7_EDX_IBRS_IBPB;
	d->ibpb = spec_ctrl;
	d->eibrs = spec_ctrl && (c->arch_cap & ARCH_CAP_IBRS_ALL);
	if (!d->eibrs || m == SPEC_MODE_ON)
		d->rsb = SPEC_RSB_FULL;
	else
		d->rsb = (c->arch_cap & ARCH_CAP_PBRSB_NO) ? SPEC_RSB_NONE : SPEC_RSB_ONE;
}

/* L1D flush on entry where affected by L1TF; VERW where affected by
 * MDS/TAA. VERW clears the buffers only where MD_CLEAR is enumerated;
 * there the L1D flush command clears them as well, so an entry that
 * flushes L1D needs no VERW after it. */
static void decide_buffers(const struct spec_cpu *c, u32 affected, enum spec_mode m,
			   struct spec_decision *d)
{
	bool on = m == SPEC_MODE_ON;
	d->l1d_flush = (c->leaf7_edx & SPEC_L7_EDX_L1D_FLUSH) && (on || (affected & SPEC_EXPOSED_L1TF));
	d->verw = (c->leaf7_edx & SPEC_L7_EDX_MD_CLEAR) && (on || (affected & SPEC_EXPOSED_MDS)) &&
		  !d->l1d_flush;
}

void spec_decide(const struct spec_cpu *c, enum spec_mode m, struct spec_decision *d)
{
	memset(d, 0, sizeof(*d));
	u32 affected = spec_affected(c);
	if (m != SPEC_MODE_OFF) {
		decide_branches(c, m, d);
		decide_buffers(c, affected, m, d);
	}
	u32 covered = 0;
	if (d->eibrs)
		covered |= SPEC_EXPOSED_BTI;
	if (d->ibpb)
		covered |= SPEC_EXPOSED_VM_BTI;
	if (d->l1d_flush)
		covered |= SPEC_EXPOSED_L1TF;
	if (d->verw || (d->l1d_flush && (c->leaf7_edx & SPEC_L7_EDX_MD_CLEAR)))
		covered |= SPEC_EXPOSED_MDS;
	d->exposed = affected & ~covered;
}

u8 spec_flags(const struct spec_decision *d)
{
	u8 f = 0;
	if (d->rsb == SPEC_RSB_FULL)
		f |= SPEC_F_RSB_FULL;
	else if (d->rsb == SPEC_RSB_ONE)
		f |= SPEC_F_RSB_ONE;
	if (d->l1d_flush)
		f |= SPEC_F_L1D_FLUSH;
	if (d->verw)
		f |= SPEC_F_VERW;
	if (d->ibpb)
		f |= SPEC_F_IBPB;
	return f;
}

const char *spec_mode_name(enum spec_mode m)
{
	return m == SPEC_MODE_ON ? "on" : m == SPEC_MODE_OFF ? "off" : "auto";
}

const char *spec_rsb_name(enum spec_rsb r)
{
	return r == SPEC_RSB_FULL ? "full" : r == SPEC_RSB_ONE ? "one" : "none";
}

const char *spec_exposed_list(u32 exposed, char *buf, size_t size)
{
	static const char *const names[] = { "bti", "vm-bti", "mds", "l1tf" };
	size_t at = 0;
	if (!size)
		return buf;
	buf[0] = 0;
	for (u32 i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(exposed & (1U << i)))
			continue;
		int n = fmt_snprintf(buf + at, size - at, "%s%s", at ? "," : "", names[i]);
		if (n < 0 || (size_t)n >= size - at) {
			buf[at] = 0; /* whole words only */
			break;
		}
		at += (size_t)n;
	}
	if (!at)
		fmt_snprintf(buf, size, "none");
	return buf;
}
