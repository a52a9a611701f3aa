/* Multiboot1 info (Multiboot spec 0.6.96, section 3.3), copied at entry:
 * the loader may have put it in low memory that the AP trampoline and the
 * real-mode test reuse. */
#include "guest.h"
#include "internal.h"

#define MB_BOOT_MAGIC 0x2BADB002
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MMAP (1u << 6)
#define MMAP_MAX 32
#define CMDLINE_MAX 512

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
	u32 mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

struct mb_mmap_raw {
	u32 size; /* of the rest of the entry */
	u32 base_lo, base_hi, len_lo, len_hi, type;
} __attribute__((packed));

static u32 mem_lower, mem_upper;
static char cmdline[CMDLINE_MAX];
static struct mb_mmap_entry mmap[MMAP_MAX];
static u32 mmap_count;

void mb_init(u32 magic, u32 info)
{
	const struct mb_info *mbi = (const struct mb_info *)info;

	if (magic != MB_BOOT_MAGIC || !info) {
		printf("INFO: not started by a Multiboot loader (eax 0x%x)\n", magic);
		return;
	}
	if (mbi->flags & MBI_MEM) {
		mem_lower = mbi->mem_lower;
		mem_upper = mbi->mem_upper;
	}
	if (mbi->flags & MBI_CMDLINE) {
		const char *s = (const char *)mbi->cmdline;
		u32 i;
		for (i = 0; i + 1 < CMDLINE_MAX && s[i]; i++)
			cmdline[i] = s[i];
		cmdline[i] = 0;
	}
	if (mbi->flags & MBI_MMAP) {
		u32 p = mbi->mmap_addr, end = p + mbi->mmap_length;
		while (p < end && mmap_count < MMAP_MAX) {
			const struct mb_mmap_raw *r = (const void *)p;
			mmap[mmap_count].base = ((u64)r->base_hi << 32) | r->base_lo;
			mmap[mmap_count].len = ((u64)r->len_hi << 32) | r->len_lo;
			mmap[mmap_count].type = r->type;
			mmap_count++;
			p += r->size + 4;
		}
	}
}

const char *mb_cmdline(void) { return cmdline; }
u32 mb_mem_upper_kb(void) { return mem_upper; }
u32 mb_mem_lower_kb(void) { return mem_lower; }
/* mem_upper counts KiB from 1 MiB up to the first hole. */
u32 mb_ram_end(void) { return mem_upper ? (1u << 20) + mem_upper * 1024 : 0; }
u32 mb_mmap_count(void) { return mmap_count; }

bool mb_mmap_get(u32 i, struct mb_mmap_entry *e)
{
	if (i >= mmap_count)
		return false;
	*e = mmap[i];
	return true;
}

/* Parses a decimal or 0x-hex number that ends at a space or NUL. */
static bool parse_uint(const char *s, u32 *out)
{
	u32 v = 0, base = 10;
	bool any = false;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	for (; *s && *s != ' '; s++, any = true) {
		u32 d;
		if (*s >= '0' && *s <= '9')
			d = (u32)(*s - '0');
		else if (base == 16 && (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			d = (u32)((*s | 0x20) - 'a' + 10);
		else
			return false;
		v = v * base + d;
	}
	*out = v;
	return any;
}

u32 cmdline_uint(const char *key, u32 def)
{
	size_t klen = strlen(key);
	const char *s = cmdline;

	/* Token by token; the first token (kernel path) never has "key=". */
	while (*s) {
		while (*s == ' ')
			s++;
		u32 v;
		if (!strncmp(s, key, klen) && s[klen] == '=' && parse_uint(s + klen + 1, &v))
			return v;
		while (*s && *s != ' ')
			s++;
	}
	return def;
}
