/* The 8254 programmable interval timer (ports 0x40-0x43) and the port 0x61
 * NMI status/control register, as Linux uses them: channel 2 for TSC
 * calibration (pit_calibrate_tsc, quick_pit_calibrate), channel 0 as a
 * legacy periodic or one-shot timer on IRQ0.
 *
 * A pure model: time is an input. Every call takes now_ns, the VM's virtual
 * time in nanoseconds; the input clock is PIT_HZ (1193182 Hz). Each channel
 * counts from the instant its count was loaded (its own tick phase), so a
 * count of N takes exactly pit_ticks_to_ns(N) nanoseconds. Time going
 * backwards is clamped (a channel never counts before its load instant).
 *
 * Modelled: control word (channel, access mode lobyte / hibyte / lobyte-
 * then-hibyte with the write and read flip-flops, mode), counter latch
 * command, read-back command (count and/or status), initial count 0 meaning
 * 65536, OUT per mode, channel 2's gate from port 0x61 bit 0 and its OUT in
 * port 0x61 bit 5, bit 4 (refresh) toggling on each read.
 *   Mode 0: OUT low while counting, high from count 0 on; gate low pauses.
 *   Mode 2: period N, OUT low for the last clock of each period.
 *   Mode 3: period N, OUT high for ceil(N/2) clocks, low for the rest.
 *   Modes 2 and 3: gate low stops counting and forces OUT high; a rising
 *   gate reloads the count. A count of 1 acts as 2 (1 is illegal there).
 *   Mode 4: OUT high, low for one clock at count 0; gate low pauses.
 *   Modes 1 and 5 act as 0 and 4 started when the count is written (not
 *   on a gate edge); a rising gate restarts them. Modes 6 and 7 are 2, 3.
 * Simplifications: the datasheet's one-clock delay loading the count is
 * not modelled; the BCD bit is kept for the status byte but counting is
 * always binary; a new count written in modes 2/3 takes effect at once,
 * not at the end of the period; counting does not stop between the two
 * bytes of a lobyte-then-hibyte count. After pit_reset no channel counts
 * (the guest must program it; there is no BIOS 18.2 Hz default).
 *
 * Not locked: the caller serialises access to one struct pit. */
#ifndef CG_DEV_PIT_H
#define CG_DEV_PIT_H

#include <cg/types.h>

#define PIT_HZ 1193182u
#define PIT_PORT_CH0 0x40
#define PIT_PORT_CH1 0x41
#define PIT_PORT_CH2 0x42
#define PIT_PORT_CTRL 0x43
#define PIT_PORT_SYS 0x61	/* NMI status and control */

#define PIT_SYS_GATE2 0x01	/* channel 2 gate */
#define PIT_SYS_SPEAKER 0x02	/* speaker data enable */
#define PIT_SYS_REFRESH 0x10	/* toggles on every read */
#define PIT_SYS_OUT2 0x20	/* channel 2 OUT */

#define PIT_NEVER (~(u64)0)

struct pit_channel {
	u32 reload;		/* initial count, 1..65536 */
	u8 mode;		/* behaviour: 0..5 */
	u8 ctrl;		/* status bits 5-0: access, mode, BCD as written */
	u8 access;		/* control word bits 5-4: 1 lo, 2 hi, 3 lo then hi */
	u8 write_lsb;		/* lobyte waiting for its hibyte */
	bool write_hi;		/* write flip-flop: next byte is the hibyte */
	bool read_hi;		/* read flip-flop: next byte is the hibyte */
	bool latched;		/* count latch holds latch */
	bool status_latched;	/* status latch holds status */
	u16 latch;
	u8 status;
	bool armed;		/* a count was loaded since the control word */
	bool gate;		/* GATE input (always high for channels 0, 1) */
	bool running;		/* counting now */
	u64 origin_ns;		/* when the current run started */
	u64 base_ticks;		/* clocks counted in earlier runs (gate pauses) */
};

struct pit {
	struct pit_channel ch[3];
	u8 sys;			/* port 0x61 bits 3-0 as written */
	bool refresh;
};

/* pit_ns_to_ticks: input clocks in ns nanoseconds (floor); no overflow for
 * any u64. pit_ticks_to_ns: the least ns with pit_ns_to_ticks(ns) >= t, or
 * PIT_NEVER when that is beyond u64. */
u64 pit_ns_to_ticks(u64 ns);
u64 pit_ticks_to_ns(u64 t);

/* pit_reset: power-on state at now_ns: no channel counting, gate 2 low. */
void pit_reset(struct pit *p, u64 now_ns);

/* pit_read: a 1-byte IN from port 0x40-0x43 or 0x61. Port 0x43 and other
 * ports read 0xFF. Reading can change state (flip-flops, latches, bit 4). */
u8 pit_read(struct pit *p, u16 port, u64 now_ns);

/* pit_write: a 1-byte OUT to port 0x40-0x43 or 0x61; other ports are
 * ignored. */
void pit_write(struct pit *p, u16 port, u8 value, u64 now_ns);

/* pit_ch0_next_irq: the first time strictly after now_ns at which channel
 * 0's OUT rises (IRQ0 is edge-triggered on it), or PIT_NEVER when it will
 * not rise again without new programming. */
u64 pit_ch0_next_irq(const struct pit *p, u64 now_ns);

#endif
