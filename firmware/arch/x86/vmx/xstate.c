/* XSAVE components, image size and XCR0 rules (xstate.h). */
#include <cg/string.h>
#include "arch/x86/vmx/xstate.h"

#define FXSAVE_FCW 0          /* x87 control word (FXSAVE layout, SDM Vol 1 10.5.1) */
#define FXSAVE_MXCSR 24
#define FCW_INIT 0x037Fu      /* FNINIT's control word: all exceptions masked */
#define MXCSR_INIT 0x1F80u    /* all SIMD exceptions masked, round to nearest */

void xstate_layout_compute(const struct xstate_cpu *c, struct xstate_layout *out)
{
	out->xsave = c->xsave;
	out->size = XSTATE_LEGACY_SIZE;
	out->mask = XFEATURE_X87 | XFEATURE_SSE;
	if (!c->xsave)
		return;
	u64 mask = c->supported & XSTATE_SWITCHABLE;
	mask |= XFEATURE_X87 | XFEATURE_SSE; /* always present with XSAVE */
	if ((mask & XFEATURE_AVX512) != XFEATURE_AVX512 || !(mask & XFEATURE_AVX))
		mask &= ~XFEATURE_AVX512;
	u32 size = XSTATE_MIN_SIZE;
	for (u32 i = 2; i < XSTATE_MAX_COMPONENT; i++) {
		if (!(mask & (1ULL << i)))
			continue;
		u32 end = c->offset[i] + c->size[i];
		/* A component the CPU describes badly is not switched. */
		if (!c->size[i] || c->offset[i] < XSTATE_MIN_SIZE || end < c->offset[i]) {
			mask &= ~(1ULL << i);
			continue;
		}
		if (end > size)
			size = end;
	}
	/* Dropping one AVX-512 part above drops the set. */
	if ((mask & XFEATURE_AVX512) != XFEATURE_AVX512)
		mask &= ~XFEATURE_AVX512;
	out->mask = mask;
	out->size = size;
}

bool xstate_xcr0_valid(u64 value, u64 allowed)
{
	if (!(value & XFEATURE_X87) || (value & ~allowed))
		return false;
	if ((value & XFEATURE_AVX) && !(value & XFEATURE_SSE))
		return false;
	if ((value & XFEATURE_MPX) && (value & XFEATURE_MPX) != XFEATURE_MPX)
		return false;
	if (value & XFEATURE_AVX512) {
		if ((value & XFEATURE_AVX512) != XFEATURE_AVX512 || !(value & XFEATURE_AVX))
			return false;
	}
	if ((value & XFEATURE_AMX) && (value & XFEATURE_AMX) != XFEATURE_AMX)
		return false;
	return true;
}

void xstate_image_init(void *img, u32 size)
{
	u8 *p = img;
	memset(p, 0, size);
	/* XSTATE_BV = 0 in the header: XRSTOR puts every component in its
	 * initial configuration. FXRSTOR (and XRSTOR's MXCSR) read these: */
	*(u16 *)(p + FXSAVE_FCW) = FCW_INIT;
	*(u32 *)(p + FXSAVE_MXCSR) = MXCSR_INIT;
}
