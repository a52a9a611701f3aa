/* reset: a guest that resets or powers off its VM the way an OS does, as
 * chosen on the command line:
 *   via=cf9      write 0x06 (full reset, RST_CPU) to the reset control
 *                register at port 0xCF9
 *   via=kbd      pulse the reset line through the i8042 (command 0xFE at
 *                port 0x64), after checking its status says "no data"
 *   via=poweroff ACPI S5: SLP_TYPx = 5 with SLP_EN to the hardware-reduced
 *                sleep control register at port 0x600
 * Each boot prints "reset: boot via=X"; the write must not return: if the
 * guest is still running afterwards, that is a failure (QEMU-style exit 3).
 * Under crossguard the VM is rebuilt (a vm-reset marker and a new boot) or
 * ends with reason=poweroff. */
#include "guest.h"
#include "cpu.h"

#define PORT_RESET_CONTROL 0xCF9
#define RESET_CONTROL_FULL 0x06 /* SYS_RST | RST_CPU */
#define PORT_I8042_STATUS 0x64
#define I8042_PULSE_RESET 0xFE
#define I8042_STATUS_OUTPUT_FULL 0x01
#define I8042_STATUS_INPUT_FULL 0x02
#define PORT_SLEEP_CONTROL 0x600
#define SLEEP_TYPE_S5 (5u << 2)
#define SLEEP_ENABLE (1u << 5)

static bool via(const char *name)
{
	const char *c = mb_cmdline();
	size_t n = strlen(name);
	for (; *c; c++)
		if (!strncmp(c, "via=", 4) && !strncmp(c + 4, name, n) && (c[4 + n] == ' ' || !c[4 + n]))
			return true;
	return false;
}

int main(void)
{
	if (via("cf9")) {
		report_info("reset: boot via=cf9");
		outb(PORT_RESET_CONTROL, RESET_CONTROL_FULL);
	} else if (via("kbd")) {
		u8 st = inb(PORT_I8042_STATUS);
		report(!(st & (I8042_STATUS_OUTPUT_FULL | I8042_STATUS_INPUT_FULL)),
		       "i8042 status 0x%x: no data, input buffer empty", st);
		report_info("reset: boot via=kbd");
		outb(PORT_I8042_STATUS, I8042_PULSE_RESET);
	} else if (via("poweroff")) {
		report_info("reset: boot via=poweroff");
		outb(PORT_SLEEP_CONTROL, SLEEP_TYPE_S5 | SLEEP_ENABLE);
	} else {
		report(false, "give via=cf9, via=kbd or via=poweroff");
		return report_summary();
	}
	delay(100000);
	report(false, "still running after the reset or power-off write");
	return report_summary();
}
