/* Serial console on COM1 (0x3F8). The UART is not programmed: QEMU's and
 * crossguard's defaults are fine, and a crossguard UART model may treat
 * every write to 0x3F8 as data, so divisor writes would print garbage. */
#include "guest.h"
#include "internal.h"

#define COM1 0x3F8
#define COM1_LSR (COM1 + 5)
#define LSR_THR_EMPTY 0x20

static volatile u32 console_lock;

static void lock(void)
{
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		pause();
}

static void unlock(void)
{
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

static bool serial_wedged;

static void serial_write(char c)
{
	/* Bounded (a missing UART reads 0xFF, which also says "empty"), but
	 * long: an emulator's UART keeps THRE clear while the host end of its
	 * line is not read, and a byte written then is lost. After one wait
	 * ran out the line counts as wedged and waits briefly until THRE
	 * shows again. */
	u32 spins = serial_wedged ? 1000 : 20000000;
	u32 i = 0;
	while (i < spins && !(inb(COM1_LSR) & LSR_THR_EMPTY)) {
		pause();
		i++;
	}
	serial_wedged = i == spins;
	outb(COM1, (u8)c);
}

void putc(char c)
{
	lock();
	serial_write(c);
	unlock();
}

void puts(const char *s)
{
	lock();
	while (*s)
		serial_write(*s++);
	unlock();
}

static void put_num(u64 v, u32 base, bool neg, u32 width, char pad)
{
	char buf[24];
	u32 n = 0;

	/* 64-bit values only come with base 16 (shifts, no __udivdi3). */
	do {
		u32 d;
		if (base == 16) {
			d = (u32)v & 15;
			v >>= 4;
		} else {
			d = (u32)v % 10;
			v = (u32)v / 10;
		}
		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
	} while (v);
	if (neg)
		buf[n++] = '-';
	while (n < width && n < sizeof(buf))
		serial_write(pad), width--;
	while (n)
		serial_write(buf[--n]);
}

static void format(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			serial_write(*fmt);
			continue;
		}
		char pad = ' ';
		u32 width = 0;
		int longs = 0;
		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (u32)(*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;
		switch (*fmt) {
		case 'd': {
			s32 v = va_arg(ap, s32);
			put_num(v < 0 ? -(u32)v : (u32)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
			put_num(va_arg(ap, u32), 10, false, width, pad);
			break;
		case 'x':
			put_num(longs >= 2 ? va_arg(ap, u64) : va_arg(ap, u32), 16, false, width, pad);
			break;
		case 'c':
			serial_write((char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s; s++)
				serial_write(*s);
			break;
		}
		case '%':
			serial_write('%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			serial_write('%');
			serial_write(*fmt);
		}
	}
}

void console_vprint(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
	lock();
	while (*prefix)
		serial_write(*prefix++);
	format(fmt, ap);
	while (*suffix)
		serial_write(*suffix++);
	unlock();
}

int vprintf(const char *fmt, va_list ap)
{
	console_vprint("", fmt, ap, "");
	return 0;
}

int printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	return 0;
}
