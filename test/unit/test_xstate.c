/* xstate.c: which XSAVE components the monitor switches and the image
 * size, from CPUID.(0xD,*) as three real CPU generations report it, and
 * the XCR0 rules a guest's XSETBV is checked against (issue 11 item 3:
 * a lone MPX bit, part of AVX-512 or one AMX bit took the machine down;
 * both AMX bits overran the 4 KiB save page). */
#include <string.h>
#include "check.h"
#include "arch/x86/vmx/xstate.h"

static struct xstate_cpu cpu_haswell(void)
{
	struct xstate_cpu c;
	memset(&c, 0, sizeof(c));
	c.xsave = true;
	c.supported = 0x7;
	c.size[2] = 256, c.offset[2] = 576;
	return c;
}

/* Skylake-SP: MPX, AVX-512 and PKRU; Sapphire Rapids adds AMX's tiles. */
static struct xstate_cpu cpu_skylake_sp(bool amx)
{
	struct xstate_cpu c = cpu_haswell();
	c.supported = 0x2FF | (amx ? 0x60000 : 0);
	c.size[3] = 64, c.offset[3] = 960;
	c.size[4] = 64, c.offset[4] = 1024;
	c.size[5] = 64, c.offset[5] = 1088;
	c.size[6] = 512, c.offset[6] = 1152;
	c.size[7] = 1024, c.offset[7] = 1664;
	c.size[9] = 8, c.offset[9] = 2688;
	if (amx) {
		c.size[17] = 64, c.offset[17] = 2752;
		c.size[18] = 8192, c.offset[18] = 2816;
	}
	return c;
}

static void test_layouts(void)
{
	struct xstate_layout l;
	struct xstate_cpu c = cpu_haswell();
	xstate_layout_compute(&c, &l);
	CHECK(l.xsave && l.mask == 0x7 && l.size == 832, "haswell: x87, SSE, AVX in 832 bytes");

	c = cpu_skylake_sp(false);
	xstate_layout_compute(&c, &l);
	CHECK(l.mask == 0x2E7, "skylake-sp: AVX-512 and PKRU switched, MPX never");
	CHECK(l.size == 2696, "skylake-sp: the image ends after PKRU");

	c = cpu_skylake_sp(true);
	xstate_layout_compute(&c, &l);
	CHECK(l.mask == 0x2E7 && l.size == 2696, "sapphire rapids: AMX's tiles never offered");
	CHECK(l.size <= 4096, "the image fits the page the vCPU allocates for it");

	/* A CPU with a part of AVX-512 only (a bad hypervisor below us): none */
	c = cpu_skylake_sp(false);
	c.supported &= ~(1ULL << 6);
	xstate_layout_compute(&c, &l);
	CHECK(l.mask == 0x207, "a partial AVX-512 set is not offered at all");

	/* A component reported inside the legacy area is not trusted */
	c = cpu_haswell();
	c.offset[2] = 100;
	xstate_layout_compute(&c, &l);
	CHECK(l.mask == 0x3 && l.size == XSTATE_MIN_SIZE, "a bad AVX offset drops AVX");

	memset(&c, 0, sizeof(c));
	xstate_layout_compute(&c, &l);
	CHECK(!l.xsave && l.mask == 0x3 && l.size == 512, "no XSAVE: FXSAVE's 512 bytes");
}

static void test_xcr0_rules(void)
{
	u64 hsw = 0x7, skx = 0x2E7, all = 0x602FF;
	CHECK(xstate_xcr0_valid(1, hsw), "x87 alone");
	CHECK(xstate_xcr0_valid(3, hsw) && xstate_xcr0_valid(7, hsw), "x87+SSE, +AVX");
	CHECK(!xstate_xcr0_valid(0, hsw), "x87 cleared: #GP");
	CHECK(!xstate_xcr0_valid(2, hsw), "SSE without x87: #GP");
	CHECK(!xstate_xcr0_valid(5, hsw), "AVX without SSE: #GP");
	CHECK(!xstate_xcr0_valid(0xF, hsw), "a component the monitor does not switch: #GP");
	CHECK(xstate_xcr0_valid(0xE7, skx) && xstate_xcr0_valid(0x2E7, skx), "AVX-512, PKRU");
	CHECK(!xstate_xcr0_valid(0x27, skx) && !xstate_xcr0_valid(0x67, skx) &&
		      !xstate_xcr0_valid(0xC7, skx),
	      "part of AVX-512: #GP");
	CHECK(!xstate_xcr0_valid(0xE3, skx), "AVX-512 without AVX: #GP");
	/* The rules themselves, with everything allowed (what the CPU refuses) */
	CHECK(!xstate_xcr0_valid(0xB, all) && !xstate_xcr0_valid(0x13, all), "a lone MPX bit");
	CHECK(xstate_xcr0_valid(0x1B, all), "both MPX bits");
	CHECK(!xstate_xcr0_valid(0x20007, all) && !xstate_xcr0_valid(0x40007, all), "one AMX bit");
	CHECK(xstate_xcr0_valid(0x60007, all), "both AMX bits");
	CHECK(!xstate_xcr0_valid(0x60007, skx), "AMX where the monitor does not switch it");
}

static void test_image(void)
{
	u8 img[1024];
	memset(img, 0xA5, sizeof(img));
	xstate_image_init(img, sizeof(img));
	CHECK(img[0] == 0x7F && img[1] == 0x03, "x87 control word 0x37F");
	CHECK(img[24] == 0x80 && img[25] == 0x1F && img[26] == 0 && img[27] == 0, "MXCSR 0x1F80");
	bool rest_zero = true;
	for (u32 i = 0; i < sizeof(img); i++)
		if (i != 0 && i != 1 && i != 24 && i != 25 && img[i])
			rest_zero = false;
	CHECK(rest_zero, "every register, XSTATE_BV and XCOMP_BV zero (no old bytes)");
}

int main(void)
{
	test_layouts();
	test_xcr0_rules();
	test_image();
	return check_summary();
}
