/* insn_decode: a table of real encodings (hand-encoded from SDM Vol 2 and
 * cross-checked against GNU as: each entry's text assembles to its bytes),
 * every truncation of each, unsupported forms, register merging, and a
 * fixed-seed fuzz. Inputs always live in exactly-sized heap buffers, so
 * AddressSanitizer catches any read past avail. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "arch/x86/vmx/insn_decode.h"

struct icase {
	const char *text; /* Intel syntax for the assembler; NULL: not assemblable */
	enum insn_mode mode;
	u8 b[INSN_MAX_LEN], n, size, dst, reg;
	enum mmio_dir dir;
	enum mmio_ext ext;
	bool hi8, has_imm;
	u64 imm;
};

#define BYTES(...) .b = { __VA_ARGS__ }, .n = sizeof((const u8[]){ __VA_ARGS__ })
#define R(sz, r) .size = sz, .dir = MMIO_READ, .dst = sz, .reg = r
#define W(sz, r) .size = sz, .dir = MMIO_WRITE, .dst = sz, .reg = r
#define RH(r) R(1, r), .hi8 = true
#define WH(r) W(1, r), .hi8 = true
#define WI(sz, v) W(sz, 0), .has_imm = true, .imm = v
#define XR(e, sz, d, r) .size = sz, .dir = MMIO_READ, .ext = e, .dst = d, .reg = r
#define M16 .mode = INSN_MODE_16
#define M32 .mode = INSN_MODE_32
#define M64 .mode = INSN_MODE_64
#define ZX MMIO_EXT_ZERO
#define SX MMIO_EXT_SIGN

static const struct icase cases[] = {
	/* 64-bit mode */
	{ "mov eax, dword ptr [rip+0x100]", M64, BYTES(0x8B, 0x05, 0x00, 0x01, 0x00, 0x00), R(4, 0) },
	{ "mov dword ptr [rbx+0x10], ecx", M64, BYTES(0x89, 0x4B, 0x10), W(4, 1) },
	{ "mov qword ptr [rdi], r9", M64, BYTES(0x4C, 0x89, 0x0F), W(8, 9) },
	{ "mov r10, qword ptr [rsp+8]", M64, BYTES(0x4C, 0x8B, 0x54, 0x24, 0x08), R(8, 10) },
	{ "mov ax, word ptr [rsi]", M64, BYTES(0x66, 0x8B, 0x06), R(2, 0) },
	{ "mov byte ptr [rax], ah", M64, BYTES(0x88, 0x20), WH(0) },
	{ "mov byte ptr [rax], spl", M64, BYTES(0x40, 0x88, 0x20), W(1, 4) },
	{ "mov bh, byte ptr [rcx+rdx*4+0x12345678]", M64,
	  BYTES(0x8A, 0xBC, 0x91, 0x78, 0x56, 0x34, 0x12), RH(3) },
	{ "mov sil, byte ptr [rax]", M64, BYTES(0x40, 0x8A, 0x30), R(1, 6) },
	{ "mov r11b, byte ptr [r12]", M64, BYTES(0x45, 0x8A, 0x1C, 0x24), R(1, 11) },
	{ "mov byte ptr [rax], r8b", M64, BYTES(0x44, 0x88, 0x00), W(1, 8) },
	{ "mov dword ptr [r13], 0x12345678", M64,
	  BYTES(0x41, 0xC7, 0x45, 0x00, 0x78, 0x56, 0x34, 0x12), WI(4, 0x12345678) },
	{ "mov qword ptr [rax], -2", M64, BYTES(0x48, 0xC7, 0x00, 0xFE, 0xFF, 0xFF, 0xFF),
	  WI(8, 0xFFFFFFFFFFFFFFFEull) },
	{ "mov word ptr [rax], 0x1234", M64, BYTES(0x66, 0xC7, 0x00, 0x34, 0x12), WI(2, 0x1234) },
	{ "mov byte ptr [rip+0x10], 0x5a", M64, BYTES(0xC6, 0x05, 0x10, 0x00, 0x00, 0x00, 0x5A),
	  WI(1, 0x5A) },
	{ "movzx eax, byte ptr [rdx]", M64, BYTES(0x0F, 0xB6, 0x02), XR(ZX, 1, 4, 0) },
	{ "movzx r8, word ptr [rdx]", M64, BYTES(0x4C, 0x0F, 0xB7, 0x02), XR(ZX, 2, 8, 8) },
	{ "movzx ax, byte ptr [rdx]", M64, BYTES(0x66, 0x0F, 0xB6, 0x02), XR(ZX, 1, 2, 0) },
	{ "movsx ecx, byte ptr [rbx]", M64, BYTES(0x0F, 0xBE, 0x0B), XR(SX, 1, 4, 1) },
	{ "movsx rax, word ptr [rbx]", M64, BYTES(0x48, 0x0F, 0xBF, 0x03), XR(SX, 2, 8, 0) },
	{ "movsxd rdx, dword ptr [rsi+4]", M64, BYTES(0x48, 0x63, 0x56, 0x04), XR(SX, 4, 8, 2) },
	{ "movsxd r15, dword ptr [rsi]", M64, BYTES(0x4C, 0x63, 0x3E), XR(SX, 4, 8, 15) },
	{ "movabs eax, dword ptr [0xfee00020]", M64,
	  BYTES(0xA1, 0x20, 0x00, 0xE0, 0xFE, 0x00, 0x00, 0x00, 0x00), R(4, 0) },
	{ "movabs byte ptr [0x1000], al", M64,
	  BYTES(0xA2, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00), W(1, 0) },
	{ "movabs rax, qword ptr [0xfee00000]", M64,
	  BYTES(0x48, 0xA1, 0x00, 0x00, 0xE0, 0xFE, 0x00, 0x00, 0x00, 0x00), R(8, 0) },
	{ "movabs word ptr [0x1000], ax", M64,
	  BYTES(0x66, 0xA3, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00), W(2, 0) },
	{ "addr32 mov eax, dword ptr [0x1000]", M64, BYTES(0x67, 0xA1, 0x00, 0x10, 0x00, 0x00),
	  R(4, 0) },
	{ "mov eax, dword ptr [eax]", M64, BYTES(0x67, 0x8B, 0x00), R(4, 0) },
	{ "mov dword ptr fs:[rax], edx", M64, BYTES(0x64, 0x89, 0x10), W(4, 2) },
	{ "mov dword ptr [rbp*2+0x10], eax", M64,
	  BYTES(0x89, 0x04, 0x6D, 0x10, 0x00, 0x00, 0x00), W(4, 0) },
	{ "mov eax, dword ptr [r13+rax]", M64, BYTES(0x41, 0x8B, 0x44, 0x05, 0x00), R(4, 0) },
	{ "mov rax, qword ptr [rax+0x12345678]", M64,
	  BYTES(0x48, 0x8B, 0x80, 0x78, 0x56, 0x34, 0x12), R(8, 0) },
	{ "mov r12d, dword ptr [r13+r14*8-8]", M64, BYTES(0x47, 0x8B, 0x64, 0xF5, 0xF8), R(4, 12) },
	/* Exactly 15 bytes: three redundant CS overrides on a 12-byte MOV. */
	{ ".byte 0x2e, 0x2e; cs mov qword ptr [rax+rbx+0x12345678], 0x12345678", M64,
	  BYTES(0x2E, 0x2E, 0x2E, 0x48, 0xC7, 0x84, 0x18, 0x78, 0x56, 0x34, 0x12, 0x78, 0x56,
		0x34, 0x12),
	  WI(8, 0x12345678) },
	/* Hand-built, no assembler spelling: REX.W beats 66; a REX followed by
	 * a legacy prefix is ignored (Vol 2A 2.2.1); LOCK is tolerated. */
	{ NULL, M64, BYTES(0x66, 0x48, 0x8B, 0x00), R(8, 0) },
	{ NULL, M64, BYTES(0x48, 0x66, 0x8B, 0x00), R(2, 0) },
	{ NULL, M64, BYTES(0x4C, 0x2E, 0x88, 0x20), WH(0) },
	{ NULL, M64, BYTES(0xF0, 0x89, 0x00), W(4, 0) },
	/* nasm's spellings of entries above: 66 before 67, [rbp+rbp*1+disp8]. */
	{ NULL, M16, BYTES(0x66, 0x67, 0x8B, 0x44, 0x24, 0x08), R(4, 0) },
	{ NULL, M32, BYTES(0x66, 0x67, 0x8B, 0x00), R(2, 0) },
	{ NULL, M64, BYTES(0x89, 0x44, 0x2D, 0x10), W(4, 0) },

	/* 32-bit mode */
	{ "mov eax, dword ptr ds:0xfee00020", M32, BYTES(0xA1, 0x20, 0x00, 0xE0, 0xFE), R(4, 0) },
	{ "mov ecx, dword ptr ds:0xfee00020", M32, BYTES(0x8B, 0x0D, 0x20, 0x00, 0xE0, 0xFE),
	  R(4, 1) },
	{ "mov dword ptr ds:0xfee000b0, 0", M32,
	  BYTES(0xC7, 0x05, 0xB0, 0x00, 0xE0, 0xFE, 0x00, 0x00, 0x00, 0x00), WI(4, 0) },
	{ "mov dword ptr [ebx+esi*4+0x10], edx", M32, BYTES(0x89, 0x54, 0xB3, 0x10), W(4, 2) },
	{ "mov word ptr [eax], 0x1234", M32, BYTES(0x66, 0xC7, 0x00, 0x34, 0x12), WI(2, 0x1234) },
	{ "mov dword ptr [eax], 0x80000000", M32, BYTES(0xC7, 0x00, 0x00, 0x00, 0x00, 0x80),
	  WI(4, 0x80000000) },
	{ "mov ax, word ptr [bx+si]", M32, BYTES(0x67, 0x66, 0x8B, 0x00), R(2, 0) },
	{ "addr16 mov al, byte ptr ds:0x1234", M32, BYTES(0x67, 0xA0, 0x34, 0x12), R(1, 0) },
	{ "mov dh, byte ptr [ebp-4]", M32, BYTES(0x8A, 0x75, 0xFC), RH(2) },
	{ "mov byte ptr [esp], ch", M32, BYTES(0x88, 0x2C, 0x24), WH(1) },
	{ "movzx eax, word ptr [ecx]", M32, BYTES(0x0F, 0xB7, 0x01), XR(ZX, 2, 4, 0) },
	{ "movsx edi, byte ptr [ebp+0x100]", M32, BYTES(0x0F, 0xBE, 0xBD, 0x00, 0x01, 0x00, 0x00),
	  XR(SX, 1, 4, 7) },
	{ "mov dword ptr [eax*8], ebx", M32, BYTES(0x89, 0x1C, 0xC5, 0x00, 0x00, 0x00, 0x00),
	  W(4, 3) },

	/* 16-bit mode */
	{ "mov ax, word ptr [bx+si]", M16, BYTES(0x8B, 0x00), R(2, 0) },
	{ "mov ax, word ptr ds:0x1234", M16, BYTES(0xA1, 0x34, 0x12), R(2, 0) },
	{ "mov word ptr ds:0x1234, cx", M16, BYTES(0x89, 0x0E, 0x34, 0x12), W(2, 1) },
	{ "mov eax, dword ptr [bp+2]", M16, BYTES(0x66, 0x8B, 0x46, 0x02), R(4, 0) },
	{ "mov dl, byte ptr [bp+di-0x1000]", M16, BYTES(0x8A, 0x93, 0x00, 0xF0), R(1, 2) },
	{ "mov byte ptr [bx+di+0x1234], 0x7f", M16, BYTES(0xC6, 0x81, 0x34, 0x12, 0x7F),
	  WI(1, 0x7F) },
	{ "mov word ptr [si], 0xbeef", M16, BYTES(0xC7, 0x04, 0xEF, 0xBE), WI(2, 0xBEEF) },
	{ "mov dword ptr [eax], ecx", M16, BYTES(0x67, 0x66, 0x89, 0x08), W(4, 1) },
	{ "mov dword ptr ds:0x1234, 0x11223344", M16,
	  BYTES(0x66, 0xC7, 0x06, 0x34, 0x12, 0x44, 0x33, 0x22, 0x11), WI(4, 0x11223344) },
	{ "mov eax, dword ptr [esp+8]", M16, BYTES(0x67, 0x66, 0x8B, 0x44, 0x24, 0x08), R(4, 0) },
	{ "movzx eax, byte ptr [si]", M16, BYTES(0x66, 0x0F, 0xB6, 0x04), XR(ZX, 1, 4, 0) },
	{ "addr32 mov eax, dword ptr ds:0x12345678", M16,
	  BYTES(0x67, 0x66, 0xA1, 0x78, 0x56, 0x34, 0x12), R(4, 0) },
};

/* Decode from an exactly-sized heap copy of the first avail bytes. */
static int decode_exact(const u8 *b, size_t avail, enum insn_mode mode, struct mmio_insn *out)
{
	u8 *p = malloc(avail ? avail : 1);
	int rc;

	if (!p)
		abort();
	memcpy(p, b, avail);
	rc = insn_decode_mmio(avail ? p : p + 1, avail, mode, out); /* p+1: ASan redzone */
	free(p);
	return rc;
}

static bool matches(const struct icase *c, const struct mmio_insn *m)
{
	return m->len == c->n && m->size == c->size && m->dir == c->dir && m->ext == c->ext &&
	       m->dst_size == c->dst && m->reg_is_high8 == c->hi8 && m->reg == c->reg &&
	       m->has_imm == c->has_imm && m->imm == c->imm;
}

static void test_table(void)
{
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		const struct icase *c = &cases[k];
		struct mmio_insn m;
		char msg[160];
		u8 padded[INSN_MAX_LEN + 4];
		int rc;

		snprintf(msg, sizeof(msg), "case %zu: %s", k, c->text ? c->text : "(hand-built)");
		rc = decode_exact(c->b, c->n, c->mode, &m);
		CHECK(rc == 0 && matches(c, &m), msg);

		/* Trailing bytes (the next instruction) change nothing. */
		memset(padded, 0x90, sizeof(padded));
		memcpy(padded, c->b, c->n);
		rc = decode_exact(padded, sizeof(padded), c->mode, &m);
		CHECK(rc == 0 && matches(c, &m), msg);

		/* Every truncation is "need more bytes", never a guess. */
		bool all_short = true;
		for (size_t a = 0; a < c->n; a++)
			if (decode_exact(c->b, a, c->mode, &m) != -CG_EINVAL)
				all_short = false;
		CHECK(all_short, msg);
	}
}

struct bad_case {
	enum insn_mode mode;
	u8 b[8], n;
	int rc;
	const char *what;
};

static const struct bad_case bad_cases[] = {
	{ M64, BYTES(0xF3, 0xA4), -CG_ENOTSUP, "rep movsb" },
	{ M64, BYTES(0xF3), -CG_ENOTSUP, "lone F3: nothing after can be emulated" },
	{ M64, BYTES(0xF3, 0x0F, 0x6F, 0x00), -CG_ENOTSUP, "movdqu" },
	{ M64, BYTES(0xF2, 0x89, 0x00), -CG_ENOTSUP, "F2 on mov" },
	{ M64, BYTES(0x66, 0xF3, 0xA5), -CG_ENOTSUP, "rep movsw" },
	{ M64, BYTES(0xA4), -CG_ENOTSUP, "movsb" },
	{ M64, BYTES(0x8B, 0xC0), -CG_ENOTSUP, "mov eax, eax: register operand" },
	{ M64, BYTES(0x0F, 0xB6, 0xC0), -CG_ENOTSUP, "movzx eax, al" },
	{ M64, BYTES(0xC6, 0xF8, 0x00), -CG_ENOTSUP, "xabort" },
	{ M64, BYTES(0xC7, 0x08, 0, 0, 0, 0), -CG_ENOTSUP, "C7 /1" },
	{ M64, BYTES(0x63, 0x00), -CG_ENOTSUP, "63 without REX.W" },
	{ M32, BYTES(0x63, 0x00), -CG_ENOTSUP, "arpl" },
	{ M32, BYTES(0x48, 0x8B, 0x00), -CG_ENOTSUP, "48 is dec eax outside 64-bit" },
	{ M64, BYTES(0x01, 0x00), -CG_ENOTSUP, "add" },
	{ M64, BYTES(0x86, 0x00), -CG_ENOTSUP, "xchg" },
	{ M64, BYTES(0x8E, 0x00), -CG_ENOTSUP, "mov sreg" },
	{ M64, BYTES(0xFF, 0x00), -CG_ENOTSUP, "inc/call group" },
	{ M64, BYTES(0x0F, 0x6F, 0x00), -CG_ENOTSUP, "movq mm" },
	{ M64, BYTES(0xC5, 0xF9, 0x6F, 0x00), -CG_ENOTSUP, "VEX" },
	{ M64, BYTES(0x40), -CG_EINVAL, "lone REX" },
	{ M64, BYTES(0x0F), -CG_EINVAL, "lone 0F" },
};

static void test_bad(void)
{
	struct mmio_insn m;
	u8 b[INSN_MAX_LEN + 1];

	for (size_t k = 0; k < ARRAY_SIZE(bad_cases); k++) {
		const struct bad_case *c = &bad_cases[k];

		CHECK(decode_exact(c->b, c->n, c->mode, &m) == c->rc, c->what);
	}
	/* 14 prefixes and a 2-byte MOV is 16 bytes: past the limit even when
	 * every byte is there. 13 prefixes fit. */
	memset(b, 0x3E, sizeof(b));
	b[14] = 0x8B;
	b[15] = 0x00;
	CHECK(decode_exact(b, 16, INSN_MODE_64, &m) == -CG_EINVAL, "16 bytes");
	memset(b, 0x3E, sizeof(b));
	CHECK(decode_exact(b, 16, INSN_MODE_64, &m) == -CG_EINVAL, "prefixes only");
	b[13] = 0x8B;
	b[14] = 0x00;
	CHECK(decode_exact(b, 15, INSN_MODE_64, &m) == 0 && m.len == 15, "15 bytes");
	CHECK(decode_exact(b, 15, (enum insn_mode)3, &m) == -CG_EINVAL, "bad mode");
}

/* A read into a register holding 0x1122334455667788. */
struct rcase {
	u8 size;
	enum mmio_ext ext;
	u8 dst;
	bool hi8;
	u64 value, want;
	const char *what;
};

#define NX MMIO_EXT_NONE
static const struct rcase rcases[] = {
	{ 1, NX, 1, false, 0xABCD, 0x11223344556677CDull, "8-bit merges low" },
	{ 1, NX, 1, true, 0xAB, 0x112233445566AB88ull, "AH keeps other bits" },
	{ 2, NX, 2, false, 0xFFFFBEEF, 0x112233445566BEEFull, "16-bit merges" },
	{ 4, NX, 4, false, 0xFFFFFFFFDEADBEEFull, 0xDEADBEEFull, "32-bit zero-extends" },
	{ 8, NX, 8, false, 0x8000000000000001ull, 0x8000000000000001ull, "64-bit replaces" },
	{ 1, SX, 4, false, 0x80, 0xFFFFFF80ull, "movsx r32, byte 0x80" },
	{ 1, SX, 2, false, 0x80, 0x112233445566FF80ull, "movsx r16 merges" },
	{ 2, SX, 8, false, 0x8001, 0xFFFFFFFFFFFF8001ull, "movsx r64, word" },
	{ 4, SX, 8, false, 0x80000000, 0xFFFFFFFF80000000ull, "movsxd negative" },
	{ 4, SX, 8, false, 0x7FFFFFFF, 0x7FFFFFFFull, "movsxd positive" },
	{ 1, ZX, 4, false, 0x1FF, 0xFFull, "movzx r32, byte" },
	{ 2, ZX, 8, false, 0xFFFF8000, 0x8000ull, "movzx r64, word" },
	{ 1, ZX, 2, false, 0x80, 0x1122334455660080ull, "movzx r16 merges" },
};

static void test_results(void)
{
	const u64 old = 0x1122334455667788ull;
	struct mmio_insn i;

	for (size_t k = 0; k < ARRAY_SIZE(rcases); k++) {
		const struct rcase *c = &rcases[k];
		struct mmio_insn r = { .size = c->size, .dir = MMIO_READ, .ext = c->ext,
				       .dst_size = c->dst, .reg_is_high8 = c->hi8 };

		CHECK(mmio_read_result(old, &r, c->value) == c->want, c->what);
	}

	/* Writes: register (low or high byte) or immediate, truncated. */
	static const struct { u8 size; bool hi8, imm; u64 want; } wc[] = {
		{ 1, true, false, 0x77 }, { 1, false, false, 0x88 }, { 2, false, false, 0x7788 },
		{ 4, false, false, 0x55667788 }, { 8, false, false, 0x1122334455667788ull },
		{ 8, false, true, 0xFFFFFFFFFFFFFFFEull }, { 2, false, true, 0xFFFE },
	};
	for (size_t k = 0; k < ARRAY_SIZE(wc); k++) {
		struct mmio_insn w = { .size = wc[k].size, .dir = MMIO_WRITE,
				       .reg_is_high8 = wc[k].hi8, .has_imm = wc[k].imm,
				       .imm = 0xFFFFFFFFFFFFFFFEull };

		CHECK(mmio_write_value(old, &w) == wc[k].want, "write value");
	}

	/* End to end: decode, then apply. */
	static const u8 movsx[] = { 0x0F, 0xBE, 0x0B };
	static const u8 mov_ah[] = { 0x8A, 0x20 };
	CHECK(decode_exact(movsx, sizeof(movsx), INSN_MODE_64, &i) == 0 &&
	      mmio_read_result(old, &i, 0x80) == 0xFFFFFF80ull, "decoded movsx ecx, byte");
	CHECK(decode_exact(mov_ah, sizeof(mov_ah), INSN_MODE_64, &i) == 0 && i.reg == 0 &&
	      mmio_read_result(old, &i, 0x5A) == 0x1122334455665A88ull, "decoded mov ah, [rax]");
}

/* Bytes that steer the decoder into its interesting paths. */
static const u8 interesting[] = {
	0x66, 0x67, 0x2E, 0x3E, 0x64, 0xF0, 0xF3, 0x40, 0x44, 0x48, 0x4C, 0x88, 0x89, 0x8A,
	0x8B, 0xC6, 0xC7, 0xA0, 0xA1, 0xA2, 0xA3, 0x0F, 0xB6, 0xB7, 0xBE, 0xBF, 0x63, 0x04,
	0x05, 0x24, 0x25, 0x84, 0x06, 0x00, 0xFF,
};

static void fuzz(unsigned rounds)
{
	static const enum insn_mode modes[] = { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };
	unsigned ok = 0, bad = 0;

	for (unsigned r = 0; r < rounds; r++) {
		size_t n = (size_t)check_rand_below(20);
		enum insn_mode mode = modes[check_rand_below(3)];
		u8 *b = malloc(n ? n : 1);
		struct mmio_insn m, m2;
		bool steer = check_rand() & 1;

		if (!b)
			abort();
		for (size_t k = 0; k < n; k++)
			b[k] = steer ? interesting[check_rand_below(sizeof(interesting))]
				     : (u8)check_rand();
		int rc = insn_decode_mmio(b, n, mode, &m);
		if (rc == 0) {
			ok++;
			bool sane = m.len >= 1 && m.len <= INSN_MAX_LEN && m.len <= n &&
				    (m.size == 1 || m.size == 2 || m.size == 4 || m.size == 8) &&
				    m.dst_size >= m.size && m.reg < 16 &&
				    (!m.reg_is_high8 || m.reg < 4);
			/* The answer depends on exactly len bytes. */
			sane = sane && insn_decode_mmio(b, m.len, mode, &m2) == 0 && m2.len == m.len &&
			       insn_decode_mmio(b, m.len - 1u, mode, &m2) == -CG_EINVAL;
			if (!sane)
				CHECK(sane, "fuzz: sane success");
		} else if (rc != -CG_EINVAL && rc != -CG_ENOTSUP) {
			bad++;
		}
		free(b);
	}
	printf("insn fuzz: %u decoded, %u rejected\n", ok, rounds - ok);
	CHECK(bad == 0, "fuzz: only EINVAL or ENOTSUP as errors");
	CHECK(ok > rounds / 100, "fuzz: the steered inputs reach successful decodes");
}

int main(void)
{
	test_table();
	test_bad();
	test_results();
	fuzz(100000);
	return check_summary();
}
