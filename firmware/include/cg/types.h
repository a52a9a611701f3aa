/* Fixed-width types shared by the monitor and the host unit tests.
 * Only freestanding headers: the same file compiles in both worlds. */
#ifndef CG_TYPES_H
#define CG_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define PACKED __attribute__((packed))
#define NORETURN __attribute__((noreturn))
#define UNUSED __attribute__((unused))

#define PAGE_SIZE UINT64_C(4096)
#define PAGE_SHIFT 12
#define MIB (UINT64_C(1024) * 1024)
#define GIB (UINT64_C(1024) * MIB)

#endif
