/* Fuzz target: the MMIO instruction decoder (arch/x86/vmx/insn_decode.c),
 * which reads instruction bytes a guest controls.
 * Input: one byte picking the mode (16/32/64-bit), then the bytes fetched
 * from guest memory (at most 32; the decoder must stop at 15).
 * Invariants beyond "no crash, no read past avail":
 *  - only the documented results (0, -CG_EINVAL, -CG_ENOTSUP);
 *  - on success: 1 <= len <= 15 and len <= avail; size and the destination
 *    width are 1, 2, 4 or 8 with dst >= size; reg < 16; a high-8 register
 *    is AH..BH of a byte access; an immediate is a write; an extension is a
 *    read;
 *  - the length does not depend on what follows: exactly len bytes decode
 *    to the same result, len - 1 bytes are -CG_EINVAL (need more);
 *  - mmio_write_value fits the access size; mmio_read_result keeps the
 *    register bits a narrow read must keep and zero-extends 32-bit ones. */
#include <cg/errno.h>
#include "fuzz.h"
#include "arch/x86/vmx/insn_decode.h"

static bool width_ok(u8 w)
{
	return w == 1 || w == 2 || w == 4 || w == 8;
}

/* Decode the first n bytes of src from an exactly-sized heap copy. */
static int decode_exact(const u8 *src, size_t n, enum insn_mode mode, struct mmio_insn *out)
{
	struct fuzz_in sub = { src, n };
	size_t got;
	u8 *copy = fuzz_bytes(&sub, n, &got);
	int rc = insn_decode_mmio(copy, got, mode, out);

	free(copy);
	return rc;
}

static void check_values(const struct mmio_insn *i, u64 old, u64 val)
{
	u64 mask = i->size >= 8 ? ~0ull : (1ull << (8 * i->size)) - 1;
	u64 w = mmio_write_value(old, i);
	u64 r = mmio_read_result(old, i, val);

	FUZZ_CHECK((w & ~mask) == 0, "write value wider than the access");
	if (i->dir != MMIO_READ)
		return;
	if (i->dst_size == 4)
		FUZZ_CHECK(r >> 32 == 0, "32-bit destination not zero-extended");
	if (i->dst_size == 2)
		FUZZ_CHECK((r & ~0xFFFFull) == (old & ~0xFFFFull), "16-bit read changed bits 63:16");
	if (i->dst_size == 1 && !i->reg_is_high8)
		FUZZ_CHECK((r & ~0xFFull) == (old & ~0xFFull), "8-bit read changed bits 63:8");
	if (i->dst_size == 1 && i->reg_is_high8)
		FUZZ_CHECK((r & ~0xFF00ull) == (old & ~0xFF00ull), "high-8 read changed other bits");
	if (i->ext == MMIO_EXT_ZERO && i->dst_size > i->size) {
		u64 dmask = i->dst_size >= 8 ? ~0ull : (1ull << (8 * i->dst_size)) - 1;
		FUZZ_CHECK((r & dmask & ~mask) == 0, "movzx left high bits set");
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const enum insn_mode modes[3] = { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };
	struct fuzz_in in = { data, size };
	u8 sel = fuzz_u8(&in);
	enum insn_mode mode = modes[sel % 3];
	u64 old = 0x1122334455667788ull ^ ((u64)sel << 56);
	size_t n;
	u8 *bytes = fuzz_bytes(&in, 32, &n);
	struct mmio_insn a, b;
	int rc;

	memset(&a, 0xA5, sizeof(a));
	rc = insn_decode_mmio(bytes, n, mode, &a);
	FUZZ_CHECK(rc == 0 || rc == -CG_EINVAL || rc == -CG_ENOTSUP, "undocumented result");
	if (rc == 0) {
		FUZZ_CHECK(a.len >= 1 && a.len <= INSN_MAX_LEN && a.len <= n, "length out of bounds");
		FUZZ_CHECK(width_ok(a.size) && width_ok(a.dst_size), "access or register width");
		FUZZ_CHECK(a.dir == MMIO_READ || a.dir == MMIO_WRITE, "direction");
		FUZZ_CHECK(a.reg < 16, "register number");
		FUZZ_CHECK(!a.reg_is_high8 || (a.reg < 4 && a.size == 1 && a.dst_size == 1), "high-8 register");
		FUZZ_CHECK(!a.has_imm || (a.dir == MMIO_WRITE && a.reg == 0), "immediate only on writes");
		FUZZ_CHECK(a.ext == MMIO_EXT_NONE || a.dir == MMIO_READ,
			   "extension only on reads");
		FUZZ_CHECK(a.dst_size >= a.size, "destination narrower than the access");
		FUZZ_CHECK(a.ext != MMIO_EXT_NONE || a.dst_size == a.size, "plain move changes width");

		memset(&b, 0x5A, sizeof(b));
		FUZZ_CHECK(decode_exact(bytes, a.len, mode, &b) == 0, "exact-length decode failed");
		FUZZ_CHECK(a.len == b.len && a.size == b.size && a.dir == b.dir && a.ext == b.ext &&
				   a.dst_size == b.dst_size && a.reg_is_high8 == b.reg_is_high8 &&
				   a.reg == b.reg && a.has_imm == b.has_imm && (!a.has_imm || a.imm == b.imm),
			   "result depends on bytes after the instruction");
		FUZZ_CHECK(decode_exact(bytes, a.len - 1u, mode, &b) == -CG_EINVAL,
			   "one byte short is not 'need more'");
		check_values(&a, old, ~old);
		check_values(&a, ~old, old * 3);
	}
	free(bytes);
	return 0;
}
