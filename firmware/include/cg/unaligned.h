/* Little-endian reads at any alignment, for parsing images and tables
 * (kernels, boot headers, virtio requests) that the monitor did not lay out. */
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

#endif
