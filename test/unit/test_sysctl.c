/* dev_sysctl: the reset control register 0xCF9 (bit 2 resets, byte access
 * only, reads back), the i8042's status, reset pulse commands and the
 * output-port reset, the ACPI sleep control/status registers (S5 powers
 * off, other types wake at once with WAK_STS, write-1-to-clear), every
 * command byte and every sleep value decoded exhaustively. */
#include "check.h"
#include "devices/dev_sysctl.h"

static void check_cf9(void)
{
	struct sysctl s;

	sysctl_reset(&s);
	CHECK(sysctl_read(&s, SYSCTL_PORT_RST_CNT, 1) == 0, "0xCF9 reads 0 after reset");
	CHECK(sysctl_write(&s, SYSCTL_PORT_RST_CNT, 1, 0x02) == SYSCTL_NONE, "0x02: no reset yet");
	CHECK(sysctl_read(&s, SYSCTL_PORT_RST_CNT, 1) == 0x02, "reads the last value");
	CHECK(sysctl_write(&s, SYSCTL_PORT_RST_CNT, 1, SYSCTL_RESET_VALUE) == SYSCTL_RESET,
	      "FADT RESET_VALUE 0x06 resets");
	int bad = 0;
	for (u32 v = 0; v < 256; v++)
		bad += sysctl_write(&s, SYSCTL_PORT_RST_CNT, 1, v) !=
		       ((v & 4) ? SYSCTL_RESET : SYSCTL_NONE);
	CHECK(!bad, "exactly the values with bit 2 reset");
	CHECK(sysctl_write(&s, SYSCTL_PORT_RST_CNT, 2, 0x0606) == SYSCTL_NONE &&
	      sysctl_write(&s, SYSCTL_PORT_RST_CNT, 4, 0x06060606) == SYSCTL_NONE,
	      "wider writes are not RST_CNT");
	CHECK(sysctl_read(&s, SYSCTL_PORT_RST_CNT, 2) == 0xFFFF, "wider reads: all ones");
}

static void check_i8042(void)
{
	struct sysctl s;
	int bad = 0;

	sysctl_reset(&s);
	CHECK(sysctl_read(&s, SYSCTL_PORT_KBD_CMD, 1) == 0x1C, "status 0x1C at power-on");
	CHECK(sysctl_read(&s, SYSCTL_PORT_KBD_DATA, 1) == 0x00, "data reads 0");
	CHECK(sysctl_write(&s, SYSCTL_PORT_KBD_DATA, 1, 0xF4) == SYSCTL_NONE, "keyboard byte ignored");
	CHECK(sysctl_read(&s, SYSCTL_PORT_KBD_CMD, 1) == 0x14, "bit 3 clear after a data write");
	CHECK(sysctl_write(&s, SYSCTL_PORT_KBD_CMD, 1, SYSCTL_KBD_PULSE_RESET) == SYSCTL_RESET,
	      "0xFE pulses reset");
	CHECK(sysctl_read(&s, SYSCTL_PORT_KBD_CMD, 1) == 0x1C, "bit 3 set after a command");
	CHECK((sysctl_read(&s, SYSCTL_PORT_KBD_CMD, 1) & 3) == 0, "buffers empty: IBF, OBF clear");
	for (u32 c = 0; c < 256; c++) {
		bool resets = c >= 0xF0 && !(c & 1);
		bad += sysctl_write(&s, SYSCTL_PORT_KBD_CMD, 1, c) != (resets ? SYSCTL_RESET : SYSCTL_NONE);
		sysctl_write(&s, SYSCTL_PORT_KBD_DATA, 1, 0xFF); /* end any 0xD1 */
	}
	CHECK(!bad, "only 0xF0-0xFE with bit 0 clear pulse reset");

	CHECK(sysctl_write(&s, SYSCTL_PORT_KBD_CMD, 1, SYSCTL_KBD_WRITE_OUTPUT) == SYSCTL_NONE, "0xD1");
	CHECK(sysctl_write(&s, SYSCTL_PORT_KBD_DATA, 1, 0x03) == SYSCTL_NONE,
	      "output port with reset high (A20 on)");
	CHECK(sysctl_write(&s, SYSCTL_PORT_KBD_DATA, 1, 0x00) == SYSCTL_NONE,
	      "a second data byte is not the output port");
	sysctl_write(&s, SYSCTL_PORT_KBD_CMD, 1, SYSCTL_KBD_WRITE_OUTPUT);
	CHECK(sysctl_write(&s, SYSCTL_PORT_KBD_DATA, 1, 0x02) == SYSCTL_RESET,
	      "output port bit 0 low: reset");
	sysctl_write(&s, SYSCTL_PORT_KBD_CMD, 1, SYSCTL_KBD_WRITE_OUTPUT);
	sysctl_write(&s, SYSCTL_PORT_KBD_CMD, 1, 0x20);
	CHECK(sysctl_write(&s, SYSCTL_PORT_KBD_DATA, 1, 0x00) == SYSCTL_NONE,
	      "another command cancels 0xD1");
	CHECK(sysctl_read(&s, SYSCTL_PORT_KBD_CMD, 2) == 0xFF14, "16-bit read: high byte ones");
}

static void check_sleep(void)
{
	struct sysctl s;
	int bad = 0;

	sysctl_reset(&s);
	CHECK(sysctl_read(&s, SYSCTL_PORT_SLEEP_STS, 1) == 0, "WAK_STS clear");
	/* What Linux's hardware-reduced S5 entry writes: SLP_TYPa << 2 | SLP_EN. */
	CHECK(sysctl_write(&s, SYSCTL_PORT_SLEEP_CTL, 1, SYSCTL_SLP_TYP_S5 << 2 | 0x20) ==
	      SYSCTL_POWEROFF, "S5 powers off");
	for (u32 v = 0; v < 256; v++) {
		enum sysctl_action want = !(v & 0x20) ? SYSCTL_NONE :
					  ((v >> 2) & 7) == SYSCTL_SLP_TYP_S5 ? SYSCTL_POWEROFF :
					  SYSCTL_SLEEP_IGNORED;
		sysctl_reset(&s);
		bad += sysctl_write(&s, SYSCTL_PORT_SLEEP_CTL, 1, v) != want;
		bad += (sysctl_read(&s, SYSCTL_PORT_SLEEP_STS, 1) == 0x80) != (want == SYSCTL_SLEEP_IGNORED);
	}
	CHECK(!bad, "every control value: SLP_EN, SLP_TYPx decoded; WAK_STS after ignored sleeps");
	sysctl_reset(&s);
	CHECK(sysctl_write(&s, SYSCTL_PORT_SLEEP_CTL, 1, 3 << 2 | 0x20) == SYSCTL_SLEEP_IGNORED &&
	      s.sleep_typ == 3, "S3-like request ignored, type kept for the log");
	CHECK(sysctl_read(&s, SYSCTL_PORT_SLEEP_CTL, 1) == 0, "control reads 0");
	sysctl_write(&s, SYSCTL_PORT_SLEEP_STS, 1, 0x7F);
	CHECK(sysctl_read(&s, SYSCTL_PORT_SLEEP_STS, 1) == 0x80, "writing 0 to WAK_STS keeps it");
	sysctl_write(&s, SYSCTL_PORT_SLEEP_STS, 1, 0x80);
	CHECK(sysctl_read(&s, SYSCTL_PORT_SLEEP_STS, 1) == 0, "writing 1 clears it");
}

int main(void)
{
	check_cf9();
	check_i8042();
	check_sleep();
	return check_summary();
}
