/* Switching guests' XSAVE-managed state (vcpu_fpu.h). The image always
 * covers every component a guest may enable, not only its current XCR0:
 * a guest that clears and sets an XCR0 bit again must find its own
 * registers, never the last vCPU's (SDM Vol 1 13.3 leaves them as they
 * were). The monitor itself never uses x87/SSE/AVX, so nothing is saved
 * on exits, only when another vCPU takes the CPU. */
#include <cg/errno.h>
#include "lib/mem.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/vmx/vcpu_fpu.h"
#include "arch/x86/vmx/xstate.h"

#define CPUID_1_ECX_XSAVE (1U << 26)
#define LEAF_XSTATE 0xDu

static struct xstate_layout layout;
static bool layout_ready;

const struct xstate_layout *vcpu_fpu_layout(void)
{
	if (__atomic_load_n(&layout_ready, __ATOMIC_ACQUIRE))
		return &layout;
	struct xstate_cpu c = { 0 };
	c.xsave = cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE;
	if (c.xsave) {
		struct cpuid_regs r = cpuid(LEAF_XSTATE, 0);
		c.supported = ((u64)r.edx << 32) | r.eax;
		for (u32 i = 2; i < XSTATE_MAX_COMPONENT; i++) {
			if (!(c.supported & (1ULL << i)))
				continue;
			r = cpuid(LEAF_XSTATE, i);
			c.size[i] = r.eax;
			c.offset[i] = r.ebx;
		}
	}
	/* Every CPU computes the same answer: a race only repeats it. */
	struct xstate_layout l;
	xstate_layout_compute(&c, &l);
	layout = l;
	__atomic_store_n(&layout_ready, true, __ATOMIC_RELEASE);
	return &layout;
}

int vcpu_fpu_create(struct vcpu_fpu *f)
{
	const struct xstate_layout *l = vcpu_fpu_layout();
	f->pages = (l->size + PAGE_SIZE - 1) / PAGE_SIZE;
	f->image_phys = mem_alloc_pages(f->pages);
	if (!f->image_phys)
		return -CG_ENOMEM;
	xstate_image_init(mem_ptr(f->image_phys), f->pages * PAGE_SIZE);
	f->xcr0 = XFEATURE_X87; /* the power-on value */
	return 0;
}

void vcpu_fpu_free(struct vcpu_fpu *f)
{
	if (f->image_phys)
		pmm_free(&mem_pmm, f->image_phys, f->pages);
	f->image_phys = 0;
}

static inline void xsetbv0(u64 value)
{
	__asm__ volatile("xsetbv" ::"c"(0), "a"((u32)value), "d"((u32)(value >> 32)) : "memory");
}

void vcpu_fpu_save(struct vcpu_fpu *f)
{
	const struct xstate_layout *l = vcpu_fpu_layout();
	void *img = mem_ptr(f->image_phys);
	if (!l->xsave) {
		__asm__ volatile("fxsave64 (%0)" ::"r"(img) : "memory");
		return;
	}
	/* XSAVE stores only what XCR0 enables: widen it first. */
	if (f->xcr0 != l->mask)
		xsetbv0(l->mask);
	__asm__ volatile("xsave64 (%0)" ::"r"(img), "a"((u32)l->mask), "d"((u32)(l->mask >> 32))
			 : "memory");
}

void vcpu_fpu_restore(const struct vcpu_fpu *f)
{
	const struct xstate_layout *l = vcpu_fpu_layout();
	void *img = mem_ptr(f->image_phys);
	if (!l->xsave) {
		__asm__ volatile("fxrstor64 (%0)" ::"r"(img) : "memory");
		return;
	}
	xsetbv0(l->mask);
	__asm__ volatile("xrstor64 (%0)" ::"r"(img), "a"((u32)l->mask), "d"((u32)(l->mask >> 32))
			 : "memory");
	if (f->xcr0 != l->mask)
		xsetbv0(f->xcr0);
}

bool vcpu_fpu_set_xcr0(struct vcpu_fpu *f, u64 value)
{
	const struct xstate_layout *l = vcpu_fpu_layout();
	if (!l->xsave || !xstate_xcr0_valid(value, l->mask))
		return false;
	f->xcr0 = value;
	xsetbv0(value);
	return true;
}
