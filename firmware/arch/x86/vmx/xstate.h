/* The guest's XSAVE-managed state (x87, SSE, AVX, AVX-512, PKRU): which
 * components the monitor switches, how big their image is, and which XCR0
 * values a guest may set. Pure: the CPU's answers are passed in, so the
 * rules are host-tested (test/unit/test_xstate.c). */
#ifndef X86_VMX_XSTATE_H
#define X86_VMX_XSTATE_H

#include <cg/types.h>

/* XCR0 / XSAVE state components (SDM Vol 1 13.1, table 13-1) */
#define XFEATURE_X87 (1ULL << 0)
#define XFEATURE_SSE (1ULL << 1)
#define XFEATURE_AVX (1ULL << 2)
#define XFEATURE_BNDREGS (1ULL << 3)
#define XFEATURE_BNDCSR (1ULL << 4)
#define XFEATURE_OPMASK (1ULL << 5)
#define XFEATURE_ZMM_HI256 (1ULL << 6)
#define XFEATURE_HI16_ZMM (1ULL << 7)
#define XFEATURE_PKRU (1ULL << 9)
#define XFEATURE_TILECFG (1ULL << 17)
#define XFEATURE_TILEDATA (1ULL << 18)
#define XFEATURE_AVX512 (XFEATURE_OPMASK | XFEATURE_ZMM_HI256 | XFEATURE_HI16_ZMM)
#define XFEATURE_MPX (XFEATURE_BNDREGS | XFEATURE_BNDCSR)
#define XFEATURE_AMX (XFEATURE_TILECFG | XFEATURE_TILEDATA)

/* What the monitor can switch for a guest: state the CPU keeps in plain
 * registers. MPX (deprecated, hidden in CPUID.7) and AMX (8 KiB of tiles,
 * a permission MSR) are never offered. */
#define XSTATE_SWITCHABLE (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX | XFEATURE_AVX512 | \
			   XFEATURE_PKRU)

/* The legacy region and the XSAVE header: the smallest image (SDM 13.4) */
#define XSTATE_LEGACY_SIZE 512u
#define XSTATE_HEADER_SIZE 64u
#define XSTATE_MIN_SIZE (XSTATE_LEGACY_SIZE + XSTATE_HEADER_SIZE)
#define XSTATE_MAX_COMPONENT 19u

/* What the CPU reports: CPUID.1:ECX.XSAVE, CPUID.(0xD,0) EDX:EAX, and for
 * each user component i >= 2 its size and offset, CPUID.(0xD,i) EAX, EBX. */
struct xstate_cpu {
	bool xsave;
	u64 supported;
	u32 size[XSTATE_MAX_COMPONENT];
	u32 offset[XSTATE_MAX_COMPONENT];
};

/* What the monitor switches: mask (the components every vCPU's image
 * holds, and the most a guest may put in XCR0) and the standard-format
 * image's size in bytes. */
struct xstate_layout {
	bool xsave;   /* XSAVE/XRSTOR; false: FXSAVE/FXRSTOR (x87 and SSE) */
	u64 mask;
	u32 size;
};

/* xstate_layout_compute: the components of c that are switchable and
 * complete (AVX-512 only with all three parts and AVX), and the image
 * size: the end of the last one, at least the legacy region and header. */
void xstate_layout_compute(const struct xstate_cpu *c, struct xstate_layout *out);

/* xstate_xcr0_valid: whether value is an XCR0 a guest may set, given the
 * components it may enable (SDM Vol 1 13.3 and XSETBV): x87 always on,
 * AVX needs SSE, MPX's two parts together, AVX-512's three parts together
 * and with AVX, AMX's two parts together, nothing outside allowed. */
bool xstate_xcr0_valid(u64 value, u64 allowed);

/* xstate_image_init: the image a vCPU starts from (as after power-on:
 * every register zero, x87 control word 0x37F, MXCSR 0x1F80): XRSTOR or
 * FXRSTOR of it loads no other vCPU's values. img is size bytes. */
void xstate_image_init(void *img, u32 size);

#endif
