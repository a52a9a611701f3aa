/* MMIO instruction decoder. The bytes come from guest memory and may be
 * anything, so every byte read goes through insn_need: nothing is read at or
 * past avail, and nothing past the architectural 15-byte limit. Encodings
 * follow SDM Vol 2A chapter 2 (2.1 format, 2.2.1 REX) and the MOV, MOVZX,
 * MOVSX/MOVSXD pages in chapter 4. */
#include <cg/errno.h>
#include "arch/x86/vmx/insn_decode.h"

/* REX bits (SDM Vol 2A 2.2.1.2, Table 2-4). REX.X and REX.B only select
 * index and base registers, which only matter for the effective address the
 * caller already has from the EPT violation. */
#define REX_W 0x08
#define REX_R 0x04

struct insn_cursor {
	const u8 *b;
	size_t avail;
	size_t pos;
};

/* Whether n more bytes may be read: -CG_EINVAL if they run past what the
 * caller fetched or past the 15-byte limit (a longer instruction #GPs on
 * hardware, Vol 2A 2.3.11, so it cannot have caused an EPT violation). */
static int insn_need(const struct insn_cursor *c, size_t n)
{
	if (c->pos + n > INSN_MAX_LEN || c->pos + n > c->avail)
		return -CG_EINVAL;
	return 0;
}

/* Little-endian n-byte field at the cursor; insn_need(c, n) came first. */
static u64 insn_take(struct insn_cursor *c, size_t n)
{
	u64 v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (u64)c->b[c->pos + i] << (8 * i);
	c->pos += n;
	return v;
}

struct insn_prefixes {
	bool opsize;   /* 66 */
	bool addrsize; /* 67 */
	u8 rex;        /* 0 when absent */
};

/* Consume legacy prefixes and REX. Legacy prefixes come in any order and
 * number (Vol 2A 2.1.1); a REX only counts if the opcode follows it
 * directly, one followed by a legacy prefix is ignored (2.2.1). REX exists
 * only in 64-bit mode: elsewhere 40-4F are INC/DEC and end the loop as an
 * unsupported opcode. Returns 0 with the cursor on the opcode, or an error. */
static int insn_prefixes(struct insn_cursor *c, enum insn_mode mode, struct insn_prefixes *p)
{
	for (;;) {
		int err = insn_need(c, 1);

		if (err)
			return err;
		u8 b = c->b[c->pos];
		switch (b) {
		case 0x66:
			p->opsize = true;
			break;
		case 0x67:
			p->addrsize = true;
			break;
		case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:
			/* Segment overrides only change the linear address, which
			 * the EPT violation already resolved. */
		case 0xF0:
			/* LOCK on MOV is #UD on hardware; the instruction that
			 * exited cannot have it, so accepting it is harmless. */
			break;
		case 0xF2: case 0xF3:
			/* REP/REPNE or a mandatory SSE prefix: whatever follows,
			 * it is not one of the forms emulated here. */
			return -CG_ENOTSUP;
		default:
			if (mode == INSN_MODE_64 && (b & 0xF0) == 0x40) {
				p->rex = b;
				c->pos++;
				continue;
			}
			return 0;
		}
		p->rex = 0;
		c->pos++;
	}
}

/* Skip SIB and displacement after a memory ModRM (Vol 2A 2.1.5, Tables 2-1
 * and 2-2; 2.2.1.6 for RIP-relative, which has the same length as the
 * 32-bit mod=0 rm=5 absolute form it replaces). addr is the address size. */
static int insn_skip_modrm_mem(struct insn_cursor *c, u8 modrm, u8 addr)
{
	u8 mod = modrm >> 6, rm = modrm & 7;
	size_t disp;
	int err;

	if (addr == 2) {
		/* 16-bit: no SIB; mod 0 rm 6 is a bare disp16. */
		disp = mod == 1 ? 1 : mod == 2 ? 2 : rm == 6 ? 2 : 0;
	} else {
		disp = mod == 1 ? 1 : mod == 2 ? 4 : rm == 5 ? 4 : 0;
		if (rm == 4) {
			if ((err = insn_need(c, 1)))
				return err;
			u8 sib = (u8)insn_take(c, 1);
			/* SIB base 5 with mod 0: no base, disp32 (Table 2-3);
			 * REX.B does not change this (Table 2-5 note). */
			if (mod == 0 && (sib & 7) == 5)
				disp = 4;
		}
	}
	if ((err = insn_need(c, disp)))
		return err;
	c->pos += disp;
	return 0;
}

/* What the opcode says before ModRM is looked at. */
struct insn_form {
	u8 size;
	u8 dst_size;
	enum mmio_dir dir;
	enum mmio_ext ext;
	bool byte_reg; /* the reg field names a byte register (88, 8A) */
	u8 imm_len;    /* C6/C7 */
	bool moffs;    /* A0-A3: no ModRM, address-size offset */
};

/* Fill f from the opcode at the cursor (one or two bytes, consumed).
 * osz is the effective operand size. Returns 0, -CG_EINVAL or -CG_ENOTSUP. */
static int insn_opcode(struct insn_cursor *c, u8 osz, u8 rex, struct insn_form *f)
{
	int err;
	u8 op = (u8)insn_take(c, 1); /* insn_prefixes checked this byte */

	f->size = osz;
	f->ext = MMIO_EXT_NONE;
	switch (op) {
	case 0x88: /* MOV r/m8, r8 */
	case 0x8A: /* MOV r8, r/m8 */
		f->size = 1;
		f->byte_reg = true;
		f->dir = op == 0x88 ? MMIO_WRITE : MMIO_READ;
		break;
	case 0x89: /* MOV r/m, r */
	case 0x8B: /* MOV r, r/m */
		f->dir = op == 0x89 ? MMIO_WRITE : MMIO_READ;
		break;
	case 0xC6: /* MOV r/m8, imm8 */
		f->size = 1;
		f->imm_len = 1;
		f->dir = MMIO_WRITE;
		break;
	case 0xC7: /* MOV r/m, imm16/32; REX.W: imm32 sign-extended */
		f->imm_len = osz == 2 ? 2 : 4;
		f->dir = MMIO_WRITE;
		break;
	case 0xA0: case 0xA1: /* MOV AL/rAX, moffs */
	case 0xA2: case 0xA3: /* MOV moffs, AL/rAX */
		f->size = op & 1 ? osz : 1;
		f->dir = op >= 0xA2 ? MMIO_WRITE : MMIO_READ;
		f->moffs = true;
		break;
	case 0x63: /* MOVSXD r64, r/m32; without REX.W it is ARPL (or a plain
		    * 32-bit move the SDM discourages): not emulated */
		if (!(rex & REX_W))
			return -CG_ENOTSUP;
		f->size = 4;
		f->dst_size = 8;
		f->ext = MMIO_EXT_SIGN;
		f->dir = MMIO_READ;
		break;
	case 0x0F:
		if ((err = insn_need(c, 1)))
			return err;
		op = (u8)insn_take(c, 1);
		if (op != 0xB6 && op != 0xB7 && op != 0xBE && op != 0xBF)
			return -CG_ENOTSUP;
		/* MOVZX (B6/B7), MOVSX (BE/BF): source byte or word. */
		f->size = op & 1 ? 2 : 1;
		f->dst_size = osz;
		f->ext = op & 8 ? MMIO_EXT_SIGN : MMIO_EXT_ZERO;
		f->dir = MMIO_READ;
		break;
	default:
		return -CG_ENOTSUP;
	}
	if (f->ext == MMIO_EXT_NONE)
		f->dst_size = f->size;
	return 0;
}

int insn_decode_mmio(const u8 *bytes, size_t avail, enum insn_mode mode, struct mmio_insn *out)
{
	struct insn_cursor c = { bytes, avail, 0 };
	struct insn_prefixes p = { false, false, 0 };
	struct insn_form f = { 0 };
	int err;

	if (mode != INSN_MODE_16 && mode != INSN_MODE_32 && mode != INSN_MODE_64)
		return -CG_EINVAL;
	if ((err = insn_prefixes(&c, mode, &p)))
		return err;

	/* Effective sizes (Vol 1 3.6, Table 3-4): 66 and 67 toggle between the
	 * 16- and 32-bit defaults; in 64-bit mode REX.W forces 64-bit operands
	 * over 66, and 67 selects 32-bit addresses. */
	bool mode16 = mode == INSN_MODE_16;
	u8 osz = p.rex & REX_W ? 8 : mode16 != p.opsize ? 2 : 4;
	u8 asz = mode == INSN_MODE_64 ? (p.addrsize ? 4 : 8) : mode16 != p.addrsize ? 2 : 4;

	if ((err = insn_opcode(&c, osz, p.rex, &f)))
		return err;

	u8 reg = 0;
	bool high8 = false;
	if (f.moffs) {
		/* The offset is as wide as the address size. */
		if ((err = insn_need(&c, asz)))
			return err;
		c.pos += asz;
	} else {
		if ((err = insn_need(&c, 1)))
			return err;
		u8 modrm = (u8)insn_take(&c, 1);
		u8 field = (modrm >> 3) & 7;
		/* A register operand (mod 3) never reaches an MMIO page. */
		if (modrm >> 6 == 3)
			return -CG_ENOTSUP;
		/* C6/C7 with reg != 0 are other instructions (XABORT, XBEGIN). */
		if (f.imm_len && field)
			return -CG_ENOTSUP;
		if ((err = insn_skip_modrm_mem(&c, modrm, asz)))
			return err;
		if (!f.imm_len) {
			reg = field | (p.rex & REX_R ? 8 : 0);
			/* Without any REX, byte registers 4-7 are AH, CH, DH,
			 * BH; with one they are SPL, BPL, SIL, DIL (2.2.1.2). */
			if (f.byte_reg && !p.rex && field >= 4) {
				high8 = true;
				reg = field - 4;
			}
		}
	}

	u64 imm = 0;
	if (f.imm_len) {
		if ((err = insn_need(&c, f.imm_len)))
			return err;
		imm = insn_take(&c, f.imm_len);
		if (f.size == 8 && (imm & 0x80000000u))
			imm |= 0xFFFFFFFF00000000ull;
	}

	out->len = (u8)c.pos;
	out->size = f.size;
	out->dir = f.dir;
	out->ext = f.ext;
	out->dst_size = f.dst_size;
	out->reg_is_high8 = high8;
	out->reg = reg;
	out->has_imm = f.imm_len != 0;
	out->imm = imm;
	return 0;
}

/* All-ones in the low size bytes. */
static u64 insn_size_mask(u8 size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

u64 mmio_read_result(u64 old_reg, const struct mmio_insn *i, u64 value)
{
	u64 v = value & insn_size_mask(i->size);
	u8 dst = i->ext == MMIO_EXT_NONE ? i->size : i->dst_size;

	if (i->ext == MMIO_EXT_SIGN && i->size && i->size < 8) {
		u64 sign = 1ull << (8 * i->size - 1);
		v = (v ^ sign) - sign;
	}
	switch (dst) {
	case 1:
		if (i->reg_is_high8)
			return (old_reg & ~0xFF00ull) | (v & 0xFF) << 8;
		return (old_reg & ~0xFFull) | (v & 0xFF);
	case 2:
		return (old_reg & ~0xFFFFull) | (v & 0xFFFF);
	case 4:
		/* A 32-bit destination clears bits 63:32 (Vol 1 3.4.1.1). */
		return v & 0xFFFFFFFFull;
	default:
		return v;
	}
}

u64 mmio_write_value(u64 reg_value, const struct mmio_insn *i)
{
	u64 v = i->has_imm ? i->imm : i->reg_is_high8 ? reg_value >> 8 : reg_value;

	return v & insn_size_mask(i->size);
}
