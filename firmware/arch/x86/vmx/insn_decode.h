/* Decoding the guest instruction behind an EPT violation on an MMIO page.
 * Only the MOV forms guests use on device registers are understood; the
 * caller already has the guest-physical address from the exit
 * qualification, so the decoder reports lengths, direction, access size,
 * register and immediate, never an effective address. */
#ifndef CG_INSN_DECODE_H
#define CG_INSN_DECODE_H

#include <cg/types.h>

/* Default operand/address size in bytes, from CS.D, CS.L and EFER.LMA
 * (SDM Vol 1 3.6; Vol 3A 5.2.1). 64-bit mode defaults to 32-bit operands
 * and 64-bit addresses. */
enum insn_mode { INSN_MODE_16 = 2, INSN_MODE_32 = 4, INSN_MODE_64 = 8 };

enum mmio_dir { MMIO_READ, MMIO_WRITE };
enum mmio_ext { MMIO_EXT_NONE, MMIO_EXT_ZERO, MMIO_EXT_SIGN };

/* Longest legal instruction (SDM Vol 2A 2.3.11). */
#define INSN_MAX_LEN 15

struct mmio_insn {
	u8 len;             /* instruction length: RIP advance */
	u8 size;            /* bytes accessed in the device: 1, 2, 4 or 8 */
	enum mmio_dir dir;
	enum mmio_ext ext;  /* movzx / movsx / movsxd on reads */
	u8 dst_size;        /* register width a read writes: size, or 2/4/8
			     * for the extending forms */
	bool reg_is_high8;  /* AH, CH, DH, BH: bits 15:8 of GPR reg (0..3) */
	u8 reg;             /* GPR in encoding order: 0 rax .. 7 rdi, 8..15
			     * r8..r15; rax for moffs forms; 0 with has_imm */
	bool has_imm;       /* write of an immediate, not a register */
	u64 imm;            /* the immediate (C7 in 64-bit: sign-extended) */
};

/* insn_decode_mmio: decode the instruction at bytes[0..avail). Reads no byte
 * at or past avail. Returns 0 with *out filled; -CG_EINVAL when the
 * instruction needs more than avail bytes or more than 15 bytes, or for a
 * bad mode; -CG_ENOTSUP for any opcode, prefix (F2/F3) or register operand
 * form this decoder does not emulate: the caller stops the VM and prints
 * the bytes. *out is only meaningful on 0. */
int insn_decode_mmio(const u8 *bytes, size_t avail, enum insn_mode mode, struct mmio_insn *out);

/* mmio_read_result: the full 64-bit value register i->reg holds once a read
 * of value (from the device, low i->size bytes used) completes, given its
 * old value: 8/16-bit destinations merge (a high8 one into bits 15:8),
 * 32-bit ones zero-extend to 64 (SDM Vol 1 3.4.1.1), movzx/movsx extend
 * to dst_size first. Cannot fail. */
u64 mmio_read_result(u64 old_reg, const struct mmio_insn *i, u64 value);

/* mmio_write_value: the value a write stores to the device, truncated to
 * i->size: the immediate, or reg_value (the full GPR i->reg, shifted for a
 * high8 register). Cannot fail. */
u64 mmio_write_value(u64 reg_value, const struct mmio_insn *i);

#endif
