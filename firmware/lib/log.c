#include "lib/log.h"
#include <cg/arch_base.h>
#include "lib/fmt.h"
#include <cg/spinlock.h>
#include <stdarg.h>

static u32 log_lock;
static bool log_mid_line; /* the last byte sent was not a newline */

/* The log ring: the last LOG_RING_SIZE bytes the monitor itself printed
 * (not raw guest output), for the console's `log` command. */
static char log_ring[LOG_RING_SIZE];
static u64 log_ring_total;

static void log_write(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			arch_serial_putc('\r');
		arch_serial_putc(*s);
		log_mid_line = *s != '\n';
		log_ring[log_ring_total++ % LOG_RING_SIZE] = *s;
	}
}

/* Lines that programs read (markers, tagged guest output) must start a
 * line even when a prompt or an echoed keystroke is pending. */
static void log_line_start(void)
{
	if (log_mid_line)
		log_write("\n");
}

/* One formatted piece onto the line under the lock: on a line of its own
 * (a marker, a log line) or wherever the line is (kprintf). */
static void log_put(const char *text, bool own_line, bool newline)
{
	spin_lock(&log_lock);
	if (own_line)
		log_line_start();
	log_write(text);
	if (newline)
		log_write("\n");
	spin_unlock(&log_lock);
}

size_t log_ring_copy(char *dst, size_t size)
{
	spin_lock(&log_lock);
	u64 have = log_ring_total < LOG_RING_SIZE ? log_ring_total : LOG_RING_SIZE;
	if (have > size - 1)
		have = size - 1;
	u64 start = log_ring_total - have;
	for (u64 i = 0; i < have; i++)
		dst[i] = log_ring[(start + i) % LOG_RING_SIZE];
	dst[have] = 0;
	spin_unlock(&log_lock);
	return (size_t)have;
}

void klog_raw(const char *s, bool line)
{
	log_put(s, line, false);
}

void klog_guest_write(const char *s, size_t n)
{
	spin_lock(&log_lock);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		/* The line's own CR comes with each LF: the guest's would double it. */
		if (c == '\r')
			continue;
		if (c == '\n')
			arch_serial_putc('\r');
		arch_serial_putc(c);
		log_mid_line = c != '\n';
	}
	spin_unlock(&log_lock);
}

void klog_reply(const char *prefix, const char *body)
{
	spin_lock(&log_lock);
	log_line_start();
	log_write(prefix);
	log_write(body);
	log_write("\n");
	spin_unlock(&log_lock);
}


void kprintf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_put(buf, false, false);
}

void cg_marker(const char *kind, const char *fields, ...)
{
	char buf[1024]; /* the longest is vm-stats */
	int n = fmt_snprintf(buf, sizeof(buf), "@cg %s ", kind);
	va_list ap;
	va_start(ap, fields);
	fmt_vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fields, ap);
	va_end(ap);
	log_put(buf, true, true);
}

void klog_line(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_put(buf, true, false);
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
