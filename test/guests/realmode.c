/* realmode: drop from protected mode to real mode (through a 16-bit
 * segment, then CR0.PE = 0), do real-mode work (segment arithmetic, the
 * stack, a near call, a port write to COM1) and come back. Under
 * crossguard this needs VMX unrestricted guest. No BIOS: no INT; one
 * fault the monitor injects in real mode (#GP for an unknown MSR) reaches
 * an IVT handler of ours, with the real-mode frame (no error code).
 * loops=N adds a long loop (INT 0x50, a far call, a segment load), mix=N
 * what test kernels do in real mode (realmode.asm: unreal mode, A20 via
 * port 0x92, PIT, CMOS, data above 1 MiB, the APIC timer through the IVT). */
#include "guest.h"
#include "smp.h"

#define RM_BASE 0x9000u /* must match realmode.asm */
#define RM_BUF 0xA000u
#define MIX_AREA 0x3800000u /* must match realmode.asm */
#define MIX_TICK_VECTOR 0x60

extern const u8 rm_blob_start[], rm_blob_end[];
void realmode_enter(void);

/* The IVT slot of vector v at physical v * 4 (hidden from the compiler,
 * which takes addresses near 0 for NULL). */
static volatile u32 *ivt_entry(u32 v)
{
	uptr a = v * 4;
	__asm__("" : "+r"(a));
	return (volatile u32 *)a;
}

int main(void)
{
	u32 size = (u32)(rm_blob_end - rm_blob_start);
	volatile u8 *buf = (volatile u8 *)RM_BUF;

	report(size < 0x1000, "real-mode blob fits in a page (%u bytes)", size);
	memcpy((void *)RM_BASE, rm_blob_start, size);
	for (u32 i = 0; i < 0x40; i++)
		buf[i] = 0xCC;
	*(volatile u16 *)(RM_BUF + 0x16) = 0;
	u32 loops = cmdline_uint("loops", 0);
	/* The injected-#GP check: crossguard only (see realmode.asm); gp=0
	 * leaves it out, so the text is the same on QEMU (run-kernel.test). */
	bool gp = on_crossguard() && cmdline_uint("gp", 1);
	buf[0x24] = gp;
	*(volatile u32 *)(RM_BUF + 0x1C) = loops;
	u32 mix = cmdline_uint("mix", 0);
	*(volatile u32 *)(RM_BUF + 0x28) = mix;
	*(volatile u32 *)(RM_BUF + 0x2C) = 0;
	volatile u32 *mix_area = (volatile u32 *)MIX_AREA;
	if (mix) {
		memset((void *)MIX_AREA, 0, 256 * 4);
		/* The APIC timer interrupts the real-mode code through IVT
		 * 0x60: periodic, divide by 1 (the blob stops it). */
		apic_enable();
		apic_write(APIC_LVT_TIMER, LVT_PERIODIC | MIX_TICK_VECTOR);
		apic_write(APIC_TIMER_DIVIDE, 0xB); /* divide by 1 */
		apic_write(APIC_TIMER_INITIAL, 200000);
	}
	volatile u32 *gp_vector = ivt_entry(13);
	u32 ivt13 = *gp_vector;

	u64 t0 = rdtsc();
	realmode_enter();
	u64 t1 = rdtsc();
	if (loops) {
		u32 count = *(volatile u32 *)(RM_BUF + 0x20);
		report(count == loops, "real-mode loop ran %u of %u iterations", count, loops);
		report_info("real-mode excursion took %llu TSC ticks", t1 - t0);
	}
	if (mix) {
		u32 ticks = *(volatile u32 *)(RM_BUF + 0x2C), bad = 0;
		for (u32 i = 0; i < 256; i++)
			bad += mix_area[i] != mix;
		report(!bad, "%u unreal-mode passes over 256 dwords above 1 MiB (%u wrong)", mix, bad);
		report(ticks >= 1, "the APIC timer interrupted real mode through the IVT (%u ticks)", ticks);
		report_info("mixed real-mode excursion took %llu TSC ticks", t1 - t0);
	}
	report(true, "returned to protected mode");

	u16 cs = *(volatile u16 *)(RM_BUF + 0), es = *(volatile u16 *)(RM_BUF + 2);
	u16 stack = *(volatile u16 *)(RM_BUF + 4), call = *(volatile u16 *)(RM_BUF + 6);
	u32 cr0 = *(volatile u32 *)(RM_BUF + 8);
	u16 es_again = *(volatile u16 *)(RM_BUF + 0x14);
	report(cs == 0 && es == 0x09F0, "ES:DI 0x09F0:0x0100 wrote at 0xA000: CS 0x%x, ES 0x%x", cs, es);
	report(stack == 0xBEEF, "real-mode push/pop (0x%x)", stack);
	report(call == 0x55AA, "real-mode near call (0x%x)", call);
	report(!(cr0 & 1), "CR0.PE was clear in real mode (CR0 0x%x)", cr0);
	report(buf[0x10] == 'R' && buf[0x11] == 'E' && buf[0x12] == 'A' && buf[0x13] == 'L',
	       "REP MOVSB through 0x0A00:0x0010 reached 0xA010");
	report(es_again == 0x09F0, "0x0A00:0x0002 aliases 0x09F0:0x0102 (0x%x)", es_again);
	report(read_cr0() & 1, "CR0.PE set again");
	*gp_vector = ivt13;
	u16 gp_runs = *(volatile u16 *)(RM_BUF + 0x16);
	u16 sp_before = *(volatile u16 *)(RM_BUF + 0x18), sp_handler = *(volatile u16 *)(RM_BUF + 0x1A);
	if (gp) {
		report(gp_runs == 1, "real-mode RDMSR of an unknown MSR: #GP ran the IVT handler once (%u)",
		       gp_runs);
		report(sp_before - sp_handler == 6, "real-mode #GP frame is 6 bytes, no error code (%u)",
		       (u32)(u16)(sp_before - sp_handler));
	} else {
		report_skip("real-mode #GP from RDMSR (crossguard only; QEMU TCG reads unknown MSRs as 0)");
	}
	return report_summary();
}
