/* The guest platform's system controls: how a guest resets or powers off
 * its VM.
 *   0xCF9       reset control register (Intel chipsets' RST_CNT, the FADT's
 *               RESET_REG with RESET_VALUE 0x06): a byte write with bit 2
 *               (RST_CPU) set resets; reads return the last value written.
 *   0x60, 0x64  a minimal i8042 keyboard controller, there for its reset
 *               line: status 0x1C (output and input buffers empty, system
 *               flag, keyboard not inhibited, bit 3 = last write was a
 *               command), data reads 0. Command 0xFE (and any pulse-output
 *               command 0xF0-0xFF with bit 0 clear) pulses the reset line;
 *               0xD1 then a data byte with bit 0 clear (write output port,
 *               system reset low) resets too. Other commands are accepted
 *               and ignored: no keyboard or mouse answers.
 *   SYSCTL_PORT_SLEEP_CTL / _STS  the hardware-reduced ACPI sleep control
 *               and status registers (ACPI 6.0 4.8.3.7-8, FADT
 *               SLEEP_CONTROL_REG and SLEEP_STATUS_REG, 8-bit): writing
 *               SLP_EN (bit 5) with SLP_TYPx (bits 4:2) = SYSCTL_SLP_TYP_S5
 *               powers off; SLP_EN with another type is not a state this
 *               platform has and wakes at once (WAK_STS, status bit 7, is
 *               set so the guest's wait for it ends; writing 1 clears it).
 * A pure model: the caller carries out the action a write returns.
 * Not locked: the caller serialises access to one struct sysctl. */
#ifndef CG_DEV_SYSCTL_H
#define CG_DEV_SYSCTL_H

#include <cg/types.h>

#define SYSCTL_PORT_KBD_DATA 0x60
#define SYSCTL_PORT_KBD_CMD 0x64   /* status on reads */
#define SYSCTL_PORT_RST_CNT 0xCF9
/* Free ISA ports below the PCI I/O window (0xC000-0xFFFF). */
#define SYSCTL_PORT_SLEEP_CTL 0x600
#define SYSCTL_PORT_SLEEP_STS 0x601

#define SYSCTL_RST_CPU 0x04        /* RST_CNT bit 2: reset */
#define SYSCTL_RESET_VALUE 0x06    /* FADT RESET_VALUE: full reset + CPU */
#define SYSCTL_KBD_STATUS_SYS 0x04 /* system flag: self-test passed */
#define SYSCTL_KBD_STATUS_CMD 0x08 /* last write went to port 0x64 */
#define SYSCTL_KBD_STATUS_UNLOCKED 0x10
#define SYSCTL_KBD_WRITE_OUTPUT 0xD1
#define SYSCTL_KBD_PULSE_RESET 0xFE
#define SYSCTL_SLP_EN 0x20
#define SYSCTL_SLP_TYP_SHIFT 2
#define SYSCTL_SLP_TYP_MASK 0x1C
#define SYSCTL_SLP_TYP_S5 5        /* the value \_S5 in the DSDT names */
#define SYSCTL_WAK_STS 0x80

enum sysctl_action {
	SYSCTL_NONE = 0,
	SYSCTL_RESET,        /* reset the VM */
	SYSCTL_POWEROFF,     /* S5: the VM ends, cleanly */
	SYSCTL_SLEEP_IGNORED /* a sleep state we do not have; woke at once */
};

struct sysctl {
	u8 rst_cnt;        /* last value written to 0xCF9 */
	bool kbd_data_last; /* status bit 3 clear: last write went to 0x60 */
	bool kbd_output_next; /* 0xD1 seen: the next data byte is the output port */
	u8 wak_sts;        /* sleep status register */
	u8 sleep_typ;      /* SLP_TYPx of the last sleep request (for the log) */
};

/* sysctl_reset: power-on state (status reads 0x1C, 0xCF9 reads 0); the
 * all-zero struct is that state too. */
void sysctl_reset(struct sysctl *s);

/* sysctl_read: an IN of size 1, 2 or 4 from port; bytes past the first
 * register read as all ones. */
u32 sysctl_read(struct sysctl *s, u16 port, u32 size);

/* sysctl_write: an OUT of size 1, 2 or 4 to port. Only byte writes reach
 * 0xCF9 (wider ones belong to PCI's CONFIG_ADDRESS at 0xCF8 and are
 * ignored here); wider writes to the other registers use the low byte.
 * Returns what the caller must do. */
enum sysctl_action sysctl_write(struct sysctl *s, u16 port, u32 size, u32 value);

#endif
