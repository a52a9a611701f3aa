/* The PC CMOS real-time clock (Motorola MC146818A and its successors):
 * index port 0x70, data port 0x71, IRQ 8, 128 bytes of which 14 are the
 * clock and 114 battery-backed RAM.
 *
 * A pure model: time is an input. Every call takes now_ns, the VM's clock
 * in nanoseconds (vm_now_ns); rtc_reset sets the wall-clock time at that
 * instant and the clock then advances one second per 10^9 ns. Time going
 * backwards is clamped.
 *
 * Modelled: seconds, minutes, hours (24-hour, or 12-hour with bit 7 = PM),
 * day of week (1 = Sunday; an independent counter as on the chip: a value
 * written to it stays offset from the date), day of month, month, year
 * and the century byte at 0x32 (the FADT's CENTURY field), in BCD or
 * binary per register B. Register A: UIP reads 1 for the 244 us before
 * each second's update (the chip's guarantee: UIP read 0 means no update
 * for 244 us), divider bits DV and rate bits RS kept; DV = 11x holds the
 * clock. Register B: SET holds the clock (writing SET clears UIE, as the
 * chip does), then the time registers read back what was written and the
 * clock restarts from them when SET (and the divider reset) is released.
 * Time written while the clock runs takes effect at once, keeping the
 * sub-second phase; out-of-range values count on (day 31 of a 30-day month
 * is the 1st of the next). Register C: PF (periodic, rate from RS), AF
 * (alarm: hour/minute/second, 0xC0-0xFF = any), UF (update ended) set
 * whether enabled or not, IRQF = PF.PIE + AF.AIE + UF.UIE; reading C
 * clears it. Register D: VRT (bit 7) always 1.
 * Simplifications: the update is instantaneous at the second boundary
 * (UIP is not high after it); DV values other than 11x all count at the
 * 32.768 kHz rate; square-wave output and daylight saving (DSE) are not
 * modelled (the bits are kept); port 0x70 reads 0xFF (write-only on PCs).
 * After rtc_reset: A = 0x26 (DV 010, 1024 Hz), B = 0x02 (24-hour, BCD, as
 * a PC BIOS leaves it), RAM zero.
 *
 * Not locked: the caller serialises access to one struct rtc. */
#ifndef CG_DEV_RTC_H
#define CG_DEV_RTC_H

#include <cg/types.h>

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA 0x71
#define RTC_IRQ 8

/* Register indexes (MC146818A datasheet, register map). */
#define RTC_SEC 0x00
#define RTC_SEC_ALARM 0x01
#define RTC_MIN 0x02
#define RTC_MIN_ALARM 0x03
#define RTC_HOUR 0x04
#define RTC_HOUR_ALARM 0x05
#define RTC_WDAY 0x06
#define RTC_MDAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0A
#define RTC_REG_B 0x0B
#define RTC_REG_C 0x0C
#define RTC_REG_D 0x0D
#define RTC_CENTURY 0x32 /* IBM PC/AT convention, named by the FADT */
#define RTC_SIZE 128

#define RTC_A_UIP 0x80
#define RTC_A_DV 0x70
#define RTC_A_RS 0x0F
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_B_DSE 0x01
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80

#define RTC_NEVER (~(u64)0)

struct rtc {
	u8 reg[RTC_SIZE];  /* A, B, alarms, RAM; the time while held */
	u8 index;          /* port 0x70, NMI bit dropped */
	u8 flags;          /* register C: PF, AF, UF since it was last read */
	u8 wday_adj;       /* day-of-week register minus the date's, mod 7 */
	bool running;      /* not held by SET or the divider reset */
	u64 base_sec;      /* calendar seconds (calendar.h) at base_ns */
	u64 base_ns;
	u64 div_ns;        /* the divider chain's start: phase of PF */
	u64 flags_ns;      /* flags hold every event up to this instant */
	u64 last_ns;       /* the latest now_ns seen: time never goes back */
};

/* rtc_reset: power-on state at now_ns showing unix_seconds (seconds since
 * 1970-01-01 00:00:00 UTC); the RAM is cleared. */
void rtc_reset(struct rtc *r, u64 now_ns, u64 unix_seconds);

/* rtc_read: a 1-byte IN from RTC_PORT_INDEX (0xFF) or RTC_PORT_DATA (the
 * indexed register; reading C clears it). Other ports read 0xFF. */
u8 rtc_read(struct rtc *r, u16 port, u64 now_ns);

/* rtc_write: a 1-byte OUT: RTC_PORT_INDEX selects a register (bit 7, the
 * PC's NMI mask, is ignored), RTC_PORT_DATA writes it (C and D are read
 * only). Other ports are ignored. */
void rtc_write(struct rtc *r, u16 port, u8 value, u64 now_ns);

/* rtc_irq_level: IRQF at now_ns: the level of the interrupt line. */
bool rtc_irq_level(struct rtc *r, u64 now_ns);

/* rtc_next_irq: the first instant strictly after now_ns at which IRQF
 * rises, given no further access; RTC_NEVER when it is already high (it
 * falls when C is read) or no enabled event will come. */
u64 rtc_next_irq(struct rtc *r, u64 now_ns);

/* rtc_seconds: the time the clock shows (held or running) in calendar
 * seconds (calendar.h: since 1900-01-01); for the operator and the tests. */
u64 rtc_seconds(struct rtc *r, u64 now_ns);

#endif
