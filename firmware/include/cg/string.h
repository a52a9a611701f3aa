/* The few string and memory routines the monitor needs. The monitor links its
 * own (firmware/lib/string.c); host unit tests get the C library's, which
 * have the same contracts. */
#ifndef CG_STRING_H
#define CG_STRING_H

#include <cg/types.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* cg_strlcpy: copy at most size-1 bytes of src (stopping at NUL or at
 * src_max bytes, whichever is first) and always NUL-terminate dst.
 * Returns the number of bytes copied. */
static inline size_t cg_strlcpy(char *dst, const char *src, size_t src_max, size_t size)
{
	size_t i = 0;
	if (!size)
		return 0;
	while (i + 1 < size && i < src_max && src[i]) {
		dst[i] = src[i];
		i++;
	}
	dst[i] = 0;
	return i;
}

/* cg_parse_u32: s[0..n) as strict decimal (digits only: no sign, no
 * spaces), 1 to 9 digits so it cannot overflow; false otherwise. */
static inline bool cg_parse_u32(const char *s, size_t n, u32 *v)
{
	u32 x = 0;
	if (n < 1 || n > 9)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (u32)(s[i] - '0');
	}
	*v = x;
	return true;
}

#endif
