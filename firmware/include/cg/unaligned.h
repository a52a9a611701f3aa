/* Little-endian reads and writes at any alignment: for parsing images and
 * tables the monitor did not lay out (kernels, boot headers, virtio
 * requests) and for building the ones guests read (ACPI, PCI config
 * space, virtio structures). */
#ifndef CG_UNALIGNED_H
#define CG_UNALIGNED_H

#include <cg/types.h>

static inline u16 le16_at(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static inline u32 le32_at(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static inline u64 le64_at(const u8 *p)
{
	return (u64)le32_at(p) | (u64)le32_at(p + 4) << 32;
}

static inline void le16_put(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static inline void le32_put(u8 *p, u32 v)
{
	le16_put(p, (u16)v);
	le16_put(p + 2, (u16)(v >> 16));
}

static inline void le64_put(u8 *p, u64 v)
{
	le32_put(p, (u32)v);
	le32_put(p + 4, (u32)(v >> 32));
}

#endif
