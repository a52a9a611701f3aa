/* Fuzz target: the guest page-table walker (arch/x86/vmx/guest_walk.c),
 * whose tables are guest memory.
 * Input: cr0, cr3, cr4, efer (8 bytes each), gla (8), access (1), a read
 * length (1); the rest is guest RAM from guest-physical 0 (at most 64 KiB,
 * held in an exactly-sized heap block, so a walker that strays past it
 * trips AddressSanitizer; RAM past the input does not exist).
 * Invariants beyond "no crash":
 *  - only the documented results; a failed walk leaves *gpa alone;
 *  - a translation keeps the byte offset within the 4 KiB page, stays
 *    below 2^52, is the identity (bits 31:0) with paging off, and is
 *    refused for 5-level paging and non-canonical 4-level addresses;
 *  - rights are monotonic: where a write or a fetch translates, a read
 *    translates to the same address;
 *  - guest_read copies exactly what per-page walks and RAM say, from
 *    inside the fake RAM only. */
#include <cg/errno.h>
#include "fuzz.h"
#include "arch/x86/vmx/guest_walk.h"

#define RAM_MAX (64 * 1024)
#define CR0_PG (1ull << 31)
#define CR4_LA57 (1ull << 12)
#define CR4_PAE (1ull << 5)
#define EFER_LMA (1ull << 10)

struct fake_ram {
	const u8 *b;
	u64 size;
};

static const void *ram_map(const struct guest_mem *gm, u64 gpa, u64 len)
{
	const struct fake_ram *r = gm->ctx;

	if (gpa > r->size || len > r->size - gpa)
		return NULL;
	return r->b + gpa;
}

static bool documented(int rc)
{
	return rc == 0 || rc == -CG_ENOENT || rc == -CG_ERANGE || rc == -CG_EINVAL || rc == -CG_ENOTSUP;
}

static int walk(const struct guest_mem *gm, const struct guest_paging *p, u64 gla, enum walk_access acc,
		u64 *gpa)
{
	u64 out = 0xDEADBEEFull;
	int rc = guest_walk(gm, p, gla, acc, &out);

	FUZZ_CHECK(documented(rc), "undocumented walk result");
	FUZZ_CHECK(rc == 0 || out == 0xDEADBEEFull, "failed walk wrote *gpa");
	*gpa = out;
	return rc;
}

/* The bytes guest_read must produce, one page at a time. */
static int reference_read(const struct guest_mem *gm, const struct guest_paging *p, u64 gla, u8 *dst,
			  size_t n)
{
	while (n) {
		u64 gpa, chunk = PAGE_SIZE - (gla & (PAGE_SIZE - 1));
		const void *src;

		if (chunk > n)
			chunk = n;
		if (walk(gm, p, gla, WALK_READ, &gpa))
			return -1;
		src = gm->map(gm, gpa, chunk);
		if (!src)
			return -1;
		memcpy(dst, src, chunk);
		dst += chunk;
		gla += chunk;
		n -= chunk;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct guest_paging p;
	struct fake_ram ram;
	struct guest_mem gm = { ram_map, &ram };
	u64 gla, gpa, rgpa;
	enum walk_access acc;
	size_t len, ram_size;
	u8 *mem, got[512], want[512];
	int rc;

	p.cr0 = fuzz_u64(&in);
	p.cr3 = fuzz_u64(&in);
	p.cr4 = fuzz_u64(&in);
	p.efer = fuzz_u64(&in);
	gla = fuzz_u64(&in);
	acc = (enum walk_access)(fuzz_u8(&in) % 3);
	len = fuzz_u8(&in) * 2u;
	mem = fuzz_bytes(&in, RAM_MAX, &ram_size);
	ram.b = mem;
	ram.size = ram_size;

	rc = walk(&gm, &p, gla, acc, &gpa);
	if (rc == 0) {
		FUZZ_CHECK((gpa & 0xFFF) == (gla & 0xFFF), "page offset not kept");
		FUZZ_CHECK(gpa < (1ull << 52), "address past MAXPHYADDR");
		if (!(p.cr0 & CR0_PG))
			FUZZ_CHECK(gpa == (u32)gla, "paging off is not the identity");
		if ((p.cr0 & CR0_PG) && (p.efer & EFER_LMA) && (p.cr4 & CR4_PAE)) {
			FUZZ_CHECK(!(p.cr4 & CR4_LA57), "5-level paging walked");
			FUZZ_CHECK((u64)((s64)(gla << 16) >> 16) == gla, "non-canonical address walked");
		}
		if (acc != WALK_READ) {
			FUZZ_CHECK(walk(&gm, &p, gla, WALK_READ, &rgpa) == 0 && rgpa == gpa,
				   "writable or executable but not readable");
		}
	}

	memset(got, 0xCC, sizeof(got));
	rc = guest_read(&gm, &p, gla, got, len);
	FUZZ_CHECK(documented(rc), "undocumented read result");
	if (rc == 0) {
		FUZZ_CHECK(reference_read(&gm, &p, gla, want, len) == 0, "read succeeded where a walk fails");
		FUZZ_CHECK(!memcmp(got, want, len), "read bytes differ from the page walks");
	}
	free(mem);
	return 0;
}
