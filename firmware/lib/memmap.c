/* The physical memory map. Loader maps are untrusted: ranges may overlap,
 * repeat, nest or arrive unsorted. Normalisation therefore does not patch
 * neighbours pairwise; it sweeps the address space from boundary to boundary
 * and asks, for each elementary piece, which reported range wins there. With
 * at most MEMMAP_MAX + 1 inputs that is quadratic in a small constant and
 * needs no allocation. */
#include <cg/errno.h>
#include "lib/memmap.h"

/* Precedence when ranges overlap: USABLE loses to everything, otherwise the
 * higher type number wins, so MEMMAP_MONITOR beats anything the loader said.
 * An overriding range (memmap_reserve) beats every rank. */
#define MEMMAP_RANK_OVERRIDE 0xFFFFFFFFu

static u32 memmap_rank(u32 type)
{
	return type == MEMMAP_USABLE ? 0 : type;
}

/* Exclusive end; a wrapping entry (only possible if the table was written
 * by hand, memmap_add refuses them) is clamped to the top of the space. */
static u64 memmap_entry_end(const struct memmap_entry *e)
{
	u64 end = e->base + e->len;

	return end < e->base ? ~0ULL : end;
}

static bool memmap_type_known(u32 type)
{
	return (type >= MEMMAP_USABLE && type <= MEMMAP_BAD) || type == MEMMAP_MONITOR;
}

/* Output of a sweep. The last range stays pending until the next piece shows
 * whether it merges, because usable ranges may only be trimmed to page
 * boundaries once their final extent is known. */
struct memmap_builder {
	struct memmap_entry out[MEMMAP_MAX];
	u32 count;
	bool overflow;
	bool pending;
	u64 pend_base;
	u64 pend_end;
	u32 pend_type;
};

static void memmap_builder_flush(struct memmap_builder *b)
{
	u64 base = b->pend_base, end = b->pend_end;

	if (!b->pending)
		return;
	b->pending = false;
	if (b->pend_type == MEMMAP_USABLE) {
		/* Trim inward: a partial page is never handed out as RAM. */
		if (base > ~0ULL - (PAGE_SIZE - 1))
			return;
		base = ALIGN_UP(base, PAGE_SIZE);
		end = ALIGN_DOWN(end, PAGE_SIZE);
		if (end <= base)
			return;
	}
	if (b->count == MEMMAP_MAX) {
		b->overflow = true;
		return;
	}
	b->out[b->count].base = base;
	b->out[b->count].len = end - base;
	b->out[b->count].type = b->pend_type;
	b->count++;
}

static void memmap_builder_emit(struct memmap_builder *b, u64 base, u64 end, u32 type)
{
	if (b->pending && b->pend_end == base && b->pend_type == type) {
		b->pend_end = end;
		return;
	}
	memmap_builder_flush(b);
	b->pending = true;
	b->pend_base = base;
	b->pend_end = end;
	b->pend_type = type;
}

/* Sweep m's ranges plus an optional extra range (extra_len 0: none) which,
 * when override is set, wins over everything it covers. On success the
 * result replaces m; on overflow m is left untouched. The builder is about
 * 3 KiB of stack. */
static int memmap_rebuild(struct memmap *m, u64 extra_base, u64 extra_len,
			  u32 extra_type, bool override)
{
	struct memmap_builder b;
	u32 n = m->count < MEMMAP_MAX ? m->count : MEMMAP_MAX;
	u64 extra_end = extra_base + extra_len;
	u64 cursor = ~0ULL;
	bool any = false;
	u32 i;

	b.count = 0;
	b.overflow = false;
	b.pending = false;

	for (i = 0; i < n; i++) {
		if (m->e[i].base < cursor)
			cursor = m->e[i].base;
		any = true;
	}
	if (extra_len) {
		if (extra_base < cursor)
			cursor = extra_base;
		any = true;
	}

	while (any) {
		u64 next = cursor;
		bool have_next = false;
		u32 best_rank = 0, best_type = 0;
		bool covered = false;

		/* The nearest boundary above the cursor ends this piece. */
		for (i = 0; i <= n; i++) {
			u64 base, end;

			if (i == n) {
				if (!extra_len)
					break;
				base = extra_base;
				end = extra_end;
			} else {
				base = m->e[i].base;
				end = memmap_entry_end(&m->e[i]);
			}
			if (base > cursor && (!have_next || base < next)) {
				next = base;
				have_next = true;
			}
			if (end > cursor && (!have_next || end < next)) {
				next = end;
				have_next = true;
			}
		}
		if (!have_next)
			break;

		for (i = 0; i <= n; i++) {
			u64 base, end;
			u32 type, rank;

			if (i == n) {
				if (!extra_len)
					break;
				base = extra_base;
				end = extra_end;
				type = extra_type;
				rank = override ? MEMMAP_RANK_OVERRIDE : memmap_rank(type);
			} else {
				base = m->e[i].base;
				end = memmap_entry_end(&m->e[i]);
				type = m->e[i].type;
				rank = memmap_rank(type);
			}
			if (base <= cursor && cursor < end && (!covered || rank >= best_rank)) {
				covered = true;
				best_rank = rank;
				best_type = type;
			}
		}
		if (covered)
			memmap_builder_emit(&b, cursor, next, best_type);
		else
			memmap_builder_flush(&b);
		cursor = next;
	}
	memmap_builder_flush(&b);

	if (b.overflow)
		return -CG_ENOMEM;
	for (i = 0; i < b.count; i++)
		m->e[i] = b.out[i];
	m->count = b.count;
	return 0;
}

/* memmap_init: empty map. */
void memmap_init(struct memmap *m)
{
	m->count = 0;
}

/* memmap_add: append a reported range unchanged apart from mapping unknown
 * types to RESERVED. Returns 0 (also for an ignored zero-length range),
 * -CG_EINVAL when base + len passes 2^64, -CG_ENOMEM when the table is full. */
int memmap_add(struct memmap *m, u64 base, u64 len, u32 type)
{
	if (!len)
		return 0;
	/* End addresses are kept exclusive in a u64, so 2^64 itself is out. */
	if (base + len < base)
		return -CG_EINVAL;
	if (m->count >= MEMMAP_MAX)
		return -CG_ENOMEM;
	if (!memmap_type_known(type))
		type = MEMMAP_RESERVED;
	m->e[m->count].base = base;
	m->e[m->count].len = len;
	m->e[m->count].type = type;
	m->count++;
	return 0;
}

/* memmap_normalize: sorted, disjoint, merged, usable ranges page-trimmed.
 * Returns 0, or -CG_ENOMEM (map unchanged) when the result has more than
 * MEMMAP_MAX ranges. */
int memmap_normalize(struct memmap *m)
{
	return memmap_rebuild(m, 0, 0, 0, false);
}

/* memmap_reserve: overwrite [base, base+len) with type and renormalise.
 * Returns 0 (zero len: nothing to do), -CG_EINVAL for a range wrapping past
 * 2^64, -CG_ENOMEM (map unchanged) when the result does not fit. */
int memmap_reserve(struct memmap *m, u64 base, u64 len, u32 type)
{
	if (base + len < base)
		return -CG_EINVAL;
	if (!memmap_type_known(type))
		type = MEMMAP_RESERVED;
	return memmap_rebuild(m, base, len, type, true);
}

/* memmap_usable_bytes: sum of USABLE lengths; 0 for an empty map. */
u64 memmap_usable_bytes(const struct memmap *m)
{
	u64 sum = 0;
	u32 i;

	for (i = 0; i < m->count && i < MEMMAP_MAX; i++)
		if (m->e[i].type == MEMMAP_USABLE)
			sum += m->e[i].len;
	return sum;
}

/* memmap_top: highest exclusive end of any range; 0 for an empty map. */
u64 memmap_top(const struct memmap *m)
{
	u64 top = 0;
	u32 i;

	for (i = 0; i < m->count && i < MEMMAP_MAX; i++)
		if (memmap_entry_end(&m->e[i]) > top)
			top = memmap_entry_end(&m->e[i]);
	return top;
}

/* memmap_type_name: printable name of a type; "unknown" for other values. */
const char *memmap_type_name(u32 type)
{
	switch (type) {
	case MEMMAP_USABLE: return "usable";
	case MEMMAP_RESERVED: return "reserved";
	case MEMMAP_ACPI_RECLAIMABLE: return "acpi-reclaim";
	case MEMMAP_ACPI_NVS: return "acpi-nvs";
	case MEMMAP_BAD: return "bad";
	case MEMMAP_MONITOR: return "monitor";
	default: return "unknown";
	}
}
