/* mmio: LAPIC register access through many MOV encodings, because each
 * one is a different path through crossguard's instruction decoder
 * (moffs, ModRM absolute, base+disp8/disp32, SIB, MOVZX, immediates, the
 * 0x66 operand-size prefix). All are checked against each other and
 * against known values: ID from CPUID, version low byte non-zero, TPR
 * read/write. */
#include "guest.h"
#include "smp.h"

#define LAPIC 0xFEE00000u

static u32 abs_moffs(void) /* A1 moffs32: mov eax, [abs] */
{
	u32 v;
	__asm__ volatile("movl 0xFEE00030, %0" : "=a"(v));
	return v;
}

static u32 abs_modrm(void) /* 8B /r, ModRM mod=00 rm=101: mov ebx, [disp32] */
{
	u32 v;
	__asm__ volatile("movl 0xFEE00030, %0" : "=b"(v));
	return v;
}

static u32 base_disp8(void) /* mov ebx, [esi + 0x30] */
{
	u32 v;
	__asm__ volatile("movl 0x30(%%esi), %0" : "=b"(v) : "S"(LAPIC));
	return v;
}

static u32 base_index(void) /* SIB: mov ecx, [esi + edi*4] */
{
	u32 v;
	__asm__ volatile("movl (%%esi,%%edi,4), %0" : "=c"(v) : "S"(LAPIC), "D"(APIC_VERSION / 4));
	return v;
}

static u32 movzx_word(void) /* movzx ecx, word [esi + 0x30] */
{
	u32 v;
	__asm__ volatile("movzwl 0x30(%%esi), %0" : "=c"(v) : "S"(LAPIC));
	return v;
}

static u32 movzx_byte(void) /* movzx ecx, byte [esi + 0x30] */
{
	u32 v;
	__asm__ volatile("movzbl 0x30(%%esi), %0" : "=c"(v) : "S"(LAPIC));
	return v;
}

static u32 mov16(void) /* 66 8B: mov ax, [esi + 0x30] */
{
	u16 v;
	__asm__ volatile("movw 0x30(%%esi), %0" : "=a"(v) : "S"(LAPIC));
	return v;
}

/* mov ebp, [esi + 0x30]: a callee-saved register of the monitor's C,
 * which its quick way back into the guest reloads only when an emulated
 * load changed it (vmx_entry.asm). EBP is this guest's frame pointer,
 * so it is kept around the load. */
static u32 load_ebp(void)
{
	u32 v;
	__asm__ volatile("push %%ebp\n\tmovl 0x30(%%esi), %%ebp\n\tmovl %%ebp, %0\n\tpop %%ebp"
			 : "=a"(v) : "S"(LAPIC) : "memory");
	return v;
}

static u32 read_tpr(void) /* mov eax, [abs] on TPR */
{
	u32 v;
	__asm__ volatile("movl 0xFEE00080, %0" : "=a"(v));
	return v;
}

static void tpr_imm(void) /* C7 /0 with disp32: mov dword [esi + 0x80], imm32 */
{
	__asm__ volatile("movl $0x20, 0x80(%%esi)" : : "S"(LAPIC) : "memory");
}

static void tpr_reg(u32 v) /* 89 /r: mov [esi + 0x80], edx */
{
	__asm__ volatile("movl %%edx, 0x80(%%esi)" : : "S"(LAPIC), "d"(v) : "memory");
}

int main(void)
{
	u32 id_moffs, id_cpuid = cpuid(1, 0).ebx >> 24;

	__asm__ volatile("movl 0xFEE00020, %0" : "=a"(id_moffs));
	report(id_moffs >> 24 == id_cpuid, "ID register [0xFEE00020] = 0x%x, APIC ID matches CPUID.1:EBX[31:24] = %u",
	       id_moffs, id_cpuid);
	u32 id_disp;
	__asm__ volatile("movl 0x20(%%esi), %0" : "=b"(id_disp) : "S"(LAPIC));
	report(id_disp == id_moffs, "ID register via [esi+0x20] agrees (0x%x)", id_disp);

	u32 ver = abs_moffs();
	report_info("version register 0x%x", ver);
	report((ver & 0xFF) != 0, "version register low byte non-zero (0x%x)", ver & 0xFF);
	report(abs_modrm() == ver, "version via mov ebx, [disp32]");
	report(base_disp8() == ver, "version via mov ebx, [esi+0x30]");
	report(base_index() == ver, "version via mov ecx, [esi+edi*4]");
	report(load_ebp() == ver, "version via mov ebp, [esi+0x30] (a register the monitor's C preserves)");
	/* The SDM (10.4.1) only defines aligned 32-bit APIC accesses; QEMU
	 * reads narrower ones as 0. crossguard decodes them like any MOV, so
	 * the narrow forms are asserted under crossguard only. */
	u32 zw = movzx_word(), zb = movzx_byte(), w16 = mov16();
	if (on_crossguard()) {
		report(zw == (ver & 0xFFFF), "version via movzx ecx, word [esi+0x30] (0x%x)", zw);
		report(zb == (ver & 0xFF), "version via movzx ecx, byte [esi+0x30] (0x%x)", zb);
		report(w16 == (ver & 0xFFFF), "version via 16-bit mov ax, [esi+0x30] (0x66 prefix) (0x%x)", w16);
	} else {
		report_skip("narrow APIC reads: movzx word 0x%x, movzx byte 0x%x, 0x66 mov 0x%x (not under crossguard)",
			    zw, zb, w16);
	}

	u32 old = read_tpr();
	tpr_imm();
	u32 t1 = read_tpr();
	report((t1 & 0xFF) == 0x20, "TPR after mov [esi+0x80], imm32 0x20 reads 0x%x", t1);
	tpr_reg(0x30);
	u32 t2 = read_tpr();
	report((t2 & 0xFF) == 0x30, "TPR after mov [esi+0x80], edx = 0x30 reads 0x%x", t2);
	tpr_reg(old);
	report((read_tpr() & 0xFF) == (old & 0xFF), "TPR restored to 0x%x", old);
	return report_summary();
}
