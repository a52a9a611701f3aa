/* Physical frame allocator. The bitmap array holds two bitmaps of equal
 * size back to back: the first marks frames in use (or never RAM), the
 * second marks frames the allocator owns (usable at init). Ownership is what
 * lets pmm_free refuse a reserved frame, which the "in use" bit alone cannot
 * tell apart from an allocated one. */
#include <cg/errno.h>
#include <cg/spinlock.h>
#include <cg/string.h>
#include "lib/pmm.h"

#define PMM_WORD_BITS 64

static u64 pmm_words(const struct pmm *p)
{
	return (p->frames + PMM_WORD_BITS - 1) / PMM_WORD_BITS;
}

static u64 *pmm_owned(const struct pmm *p)
{
	return p->bitmap + pmm_words(p);
}

static bool pmm_bit(const u64 *map, u64 i)
{
	return (map[i / PMM_WORD_BITS] >> (i % PMM_WORD_BITS)) & 1;
}

/* Set or clear bits [first, first+count), whole words at a time where
 * possible so that init over large maps stays fast. */
static void pmm_bits_assign(u64 *map, u64 first, u64 count, bool set)
{
	while (count) {
		u64 w = first / PMM_WORD_BITS, b = first % PMM_WORD_BITS;
		u64 take = PMM_WORD_BITS - b;
		u64 mask;

		if (take > count)
			take = count;
		mask = take == PMM_WORD_BITS ? ~0ULL : ((1ULL << take) - 1) << b;
		if (set)
			map[w] |= mask;
		else
			map[w] &= ~mask;
		first += take;
		count -= take;
	}
}

/* ALIGN_UP that reports overflow instead of wrapping to a low address. */
static bool pmm_align_up(u64 x, u64 align, u64 *out)
{
	if (x > ~0ULL - (align - 1))
		return false;
	*out = ALIGN_UP(x, align);
	return true;
}

/* Usable part of e at or above low, page-trimmed; false if nothing is left. */
static bool pmm_clip(const struct memmap_entry *e, u64 low, u64 *base, u64 *end)
{
	u64 b = e->base, t = e->base + e->len;

	if (e->type != MEMMAP_USABLE || t < b)
		return false;
	if (b < low)
		b = low;
	if (!pmm_align_up(b, PAGE_SIZE, &b))
		return false;
	t = ALIGN_DOWN(t, PAGE_SIZE);
	if (t <= b)
		return false;
	*base = b;
	*end = t;
	return true;
}

/* pmm_init: see pmm.h. Returns 0; -CG_ENOENT when no usable page lies at
 * or above low_limit; -CG_ENOMEM when no usable range holds the bitmap,
 * map_rw refuses it, or reserving it overflows the map. */
int pmm_init(struct pmm *p, struct memmap *m, u64 low_limit,
	     void *(*map_rw)(u64 phys, u64 len, void *ctx), void *ctx)
{
	u64 low, lo = ~0ULL, hi = 0, words, bytes, spot = 0;
	bool found = false;
	void *host;
	u32 i;
	int err;

	memset(p, 0, sizeof(*p));
	/* Address 0 means failure to callers, so frame 0 is never covered. */
	low = low_limit > PAGE_SIZE ? low_limit : PAGE_SIZE;
	if (!pmm_align_up(low, PAGE_SIZE, &low))
		return -CG_ENOENT;

	for (i = 0; i < m->count; i++) {
		u64 b, t;

		if (!pmm_clip(&m->e[i], low, &b, &t))
			continue;
		if (b < lo)
			lo = b;
		if (t > hi)
			hi = t;
	}
	if (hi <= lo)
		return -CG_ENOENT;

	p->base = lo;
	p->frames = (hi - lo) / PAGE_SIZE;
	words = pmm_words(p);
	bytes = ALIGN_UP(2 * words * sizeof(u64), PAGE_SIZE);

	for (i = 0; i < m->count && !found; i++) {
		u64 b, t;

		if (pmm_clip(&m->e[i], low, &b, &t) && t - b >= bytes) {
			spot = b;
			found = true;
		}
	}
	if (!found)
		return -CG_ENOMEM;
	host = map_rw(spot, bytes, ctx);
	if (!host)
		return -CG_ENOMEM;
	err = memmap_reserve(m, spot, bytes, MEMMAP_MONITOR);
	if (err)
		return err;

	p->bitmap = host;
	memset(p->bitmap, 0xff, words * sizeof(u64));
	memset(pmm_owned(p), 0, words * sizeof(u64));
	for (i = 0; i < m->count; i++) {
		u64 b, t, first, n;

		if (!pmm_clip(&m->e[i], low, &b, &t))
			continue;
		/* Reserving the bitmap can split ranges, never extend them. */
		if (b < lo || t > hi)
			continue;
		first = (b - lo) / PAGE_SIZE;
		n = (t - b) / PAGE_SIZE;
		pmm_bits_assign(p->bitmap, first, n, false);
		pmm_bits_assign(pmm_owned(p), first, n, true);
		p->free_frames += n;
	}
	p->total_frames = p->free_frames;
	return 0;
}

/* pmm_alloc: lowest free frame at or after the hint, wrapping once; its
 * physical address, or 0 when every frame is taken. */
u64 pmm_alloc(struct pmm *p)
{
	u64 words, start, k, addr = 0;

	spin_lock(&p->lock);
	words = pmm_words(p);
	start = words ? (p->hint / PMM_WORD_BITS) % words : 0;
	for (k = 0; k < words && p->free_frames; k++) {
		u64 w = (start + k) % words;
		u64 bit, frame;

		if (p->bitmap[w] == ~0ULL)
			continue;
		/* Bits past the last frame were set at init, so this is real. */
		bit = (u64)__builtin_ctzll(~p->bitmap[w]);
		frame = w * PMM_WORD_BITS + bit;
		p->bitmap[w] |= 1ULL << bit;
		p->free_frames--;
		p->hint = frame + 1;
		addr = p->base + frame * PAGE_SIZE;
		break;
	}
	spin_unlock(&p->lock);
	return addr;
}

/* pmm_alloc_contig: first fit, lowest address first. Returns the physical
 * address of n free frames aligned to align, or 0 (also for n == 0 or an
 * align that is not a power of two of at least PAGE_SIZE). */
u64 pmm_alloc_contig(struct pmm *p, u64 n, u64 align)
{
	u64 addr = 0, cand;

	if (!n || align < PAGE_SIZE || (align & (align - 1)))
		return 0;
	spin_lock(&p->lock);
	if (n > p->free_frames || n > p->frames || !pmm_align_up(p->base, align, &cand))
		goto out;
	for (;;) {
		u64 first = (cand - p->base) / PAGE_SIZE, j;
		bool clear = true;

		if (first > p->frames - n)
			goto out;
		/* Scan from the top so a hit skips as far as possible. */
		for (j = n; j-- > 0;) {
			if (pmm_bit(p->bitmap, first + j)) {
				clear = false;
				break;
			}
		}
		if (clear) {
			pmm_bits_assign(p->bitmap, first, n, true);
			p->free_frames -= n;
			addr = cand;
			goto out;
		}
		if (!pmm_align_up(p->base + (first + j + 1) * PAGE_SIZE, align, &cand))
			goto out;
	}
out:
	spin_unlock(&p->lock);
	return addr;
}

/* pmm_free: see pmm.h. Every frame is checked before any bit changes, so an
 * error leaves the allocator as it was. n == 0 is a no-op returning 0. */
int pmm_free(struct pmm *p, u64 phys, u64 n)
{
	u64 first, j;
	int err = 0;

	if (phys % PAGE_SIZE)
		return -CG_EINVAL;
	if (!n)
		return 0;
	spin_lock(&p->lock);
	if (phys < p->base || n > p->frames ||
	    (phys - p->base) / PAGE_SIZE > p->frames - n) {
		err = -CG_ERANGE;
		goto out;
	}
	first = (phys - p->base) / PAGE_SIZE;
	for (j = 0; j < n; j++) {
		if (!pmm_bit(pmm_owned(p), first + j)) {
			err = -CG_ERANGE;
			goto out;
		}
	}
	for (j = 0; j < n; j++) {
		if (!pmm_bit(p->bitmap, first + j)) {
			err = -CG_EBUSY;
			goto out;
		}
	}
	pmm_bits_assign(p->bitmap, first, n, false);
	p->free_frames += n;
	if (first < p->hint)
		p->hint = first;
out:
	spin_unlock(&p->lock);
	return err;
}
