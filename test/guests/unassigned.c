/* unassigned: guest-physical addresses with neither RAM nor a device
 * let the guest go on as on QEMU's PC: a read of 1, 2, 4 or 8 bytes gives
 * all ones of its size, a PC bus's master abort (the rest of the register
 * is kept as MOV defines it; QEMU 7.2 reads 0: status 3 there), a write
 * is dropped, and the instruction completes. Tried at RAM's end + 16 MiB,
 * at 3 GiB and (8 bytes, from 64-bit mode) above 4 GiB.
 *
 * Under crossguard with "on_unassigned_access": "stop" the first read
 * stops the VM (manifest entry unassigned_stop). hold=1: instead of
 * exiting, print how many unassigned accesses were made and halt for good
 * (the console test then reads the VM's stats). */
#include "guest.h"
#include "long_mode.h"

#define GAP (16u << 20)
#define LOW_3G 0xC0000000u
#define ABOVE_4G 0x100001000ull
#define PAGE_PS (1ull << 7) /* 2 MiB page (SDM Vol 3A 4.5, table 4-17) */
#define PAGE_RW 0x3ull       /* present, writable */

/* What lm_access64 (unassigned.asm) reads; offsets fixed there. */
struct lm_req {
	u32 op; /* 0 read, 1 write */
	u32 pad;
	u64 addr;
	u64 value;
} __attribute__((packed));

void lm_access64(struct lm_req *r);

static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096)));
static u64 pd_low[512] __attribute__((aligned(4096)));  /* [0, 1 GiB): identity */
static u64 pd_high[512] __attribute__((aligned(4096))); /* [4 GiB, 5 GiB) */
static u32 accesses;

static void paging_build(void)
{
	lm_map_low_1g(pml4, pdpt, pd_low);
	pdpt[4] = (u32)pd_high | PAGE_RW;
	for (u32 i = 0; i < 512; i++)
		pd_high[i] = ((4ull << 30) + ((u64)i << 21)) | PAGE_PS | PAGE_RW;
}

static void long_mode_access(struct lm_req *r)
{
	struct lm_call c = { (u32)pml4, (u32)lm_access64, (u32)r, 0 };
	long_mode_call(&c);
}

static u64 read64(u64 addr)
{
	struct lm_req r = { 0, 0, addr, 0 };
	long_mode_access(&r);
	accesses++;
	return r.value;
}

static void write64(u64 addr, u64 v)
{
	struct lm_req r = { 1, 0, addr, v };
	long_mode_access(&r);
	accesses++;
}

/* 8A /r into AL: bits 31:8 of EAX must stay. */
static u32 read8(u32 addr)
{
	u32 v = 0x12345600u;
	__asm__ volatile("movb (%1), %%al" : "+a"(v) : "r"(addr) : "memory");
	accesses++;
	return v;
}

/* 66 8B /r into AX: bits 31:16 of EAX must stay. */
static u32 read16(u32 addr)
{
	u32 v = 0x12340000u;
	__asm__ volatile("movw (%1), %%ax" : "+a"(v) : "r"(addr) : "memory");
	accesses++;
	return v;
}

static u32 read32(u32 addr)
{
	u32 v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	accesses++;
	return v;
}

/* 0F B6 /r: the byte's all ones zero-extended. */
static u32 read8_movzx(u32 addr)
{
	u32 v;
	__asm__ volatile("movzbl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	accesses++;
	return v;
}

static void write32(u32 addr, u32 v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
	accesses++;
}

static void write8(u32 addr, u8 v)
{
	__asm__ volatile("movb %0, (%1)" : : "q"(v), "r"(addr) : "memory");
	accesses++;
}

static void check_at(u32 a)
{
	u32 v;
	v = read8(a);
	report(v == 0x123456FFu, "1-byte read at 0x%x: all ones in AL, the rest of EAX kept (0x%x)", a, v);
	v = read16(a);
	report(v == 0x1234FFFFu, "2-byte read at 0x%x: all ones in AX, the rest of EAX kept (0x%x)", a, v);
	v = read32(a);
	report(v == 0xFFFFFFFFu, "4-byte read at 0x%x: all ones (0x%x)", a, v);
	v = read8_movzx(a);
	report(v == 0xFFu, "movzx byte read at 0x%x: 0xff (0x%x)", a, v);
	write32(a, 0x5A5A5A5Au);
	write8(a + 1, 0);
	v = read32(a);
	report(v == 0xFFFFFFFFu, "writes at 0x%x were dropped: it still reads all ones (0x%x)", a, v);
}

int main(void)
{
	u32 ram_end = mb_ram_end();
	if (!ram_end) {
		report(false, "loader gave mem_upper");
		return report_summary();
	}
	u32 beyond = ram_end + GAP;
	report_info("RAM ends at 0x%x; probing 0x%x, 0x%x and 0x%llx", ram_end, beyond, LOW_3G, ABOVE_4G);

	check_at(beyond);
	check_at(LOW_3G);

	paging_build();
	u64 q = read64(beyond);
	report(q == ~0ull, "8-byte read at 0x%x (64-bit mode): all ones (0x%llx)", beyond, q);
	q = read64(ABOVE_4G);
	report(q == ~0ull, "8-byte read above 4 GiB: all ones (0x%llx)", q);
	write64(ABOVE_4G, 0x0123456789ABCDEFull);
	q = read64(ABOVE_4G);
	report(q == ~0ull, "8-byte write above 4 GiB was dropped (0x%llx)", q);

	/* RAM itself is untouched by all that: the page tables still hold. */
	report(pd_low[1] == ((1ull << 21) | PAGE_PS | PAGE_RW), "RAM next to the probes unchanged");

	if (cmdline_uint("hold", 0)) {
		printf("unassigned: %u accesses, holding\n", accesses);
		cli();
		for (;;)
			__asm__ volatile("hlt");
	}
	return report_summary();
}
