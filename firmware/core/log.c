#include "log.h"
#include "arch.h"
#include "fmt.h"
#include <cg/spinlock.h>
#include <stdarg.h>

static u32 log_lock;
static bool log_mid_line; /* the last byte sent was not a newline */

static void log_write(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			arch_console_putc('\r');
		arch_console_putc(*s);
		log_mid_line = *s != '\n';
	}
}

/* Lines that programs read (markers, tagged guest output) must start a
 * line even when a prompt or an echoed keystroke is pending. */
static void log_line_start(void)
{
	if (log_mid_line)
		log_write("\n");
}

void kprintf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	spin_lock(&log_lock);
	log_write(buf);
	spin_unlock(&log_lock);
}

void cg_marker(const char *kind, const char *fields, ...)
{
	char buf[512];
	int n = fmt_snprintf(buf, sizeof(buf), "@cg %s ", kind);
	va_list ap;
	va_start(ap, fields);
	fmt_vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fields, ap);
	va_end(ap);
	spin_lock(&log_lock);
	log_line_start();
	log_write(buf);
	log_write("\n");
	spin_unlock(&log_lock);
}

void klog_line(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	spin_lock(&log_lock);
	log_line_start();
	log_write(buf);
	spin_unlock(&log_lock);
}

void log_force_unlock(void)
{
	spin_unlock(&log_lock);
}

const char *cg_quote(char *dst, size_t size, const char *src)
{
	size_t n = 0;
	for (; *src && n + 3 <= size; src++) {
		char c = *src;
		if (c == '"' || c == '\\')
			dst[n++] = '\\';
		dst[n++] = ((unsigned char)c < 0x20 || c == 0x7F) ? '?' : c;
	}
	if (size)
		dst[n < size ? n : size - 1] = 0;
	return dst;
}
