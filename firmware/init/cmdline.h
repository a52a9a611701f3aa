/* The monitor's own command line (from the loader): space-separated
 * "key=value" words; unknown words are reported, never fatal. */
#ifndef CG_CMDLINE_H
#define CG_CMDLINE_H

#include <cg/types.h>

enum cmdline_test { CMDLINE_TEST_NONE = 0, CMDLINE_TEST_FAULT };
enum cmdline_spec { CMDLINE_SPEC_AUTO = 0, CMDLINE_SPEC_ON, CMDLINE_SPEC_OFF };

/* The PC's standard UART ports (COM1, COM2) and the 16550's fastest rate:
 * its 1.8432 MHz clock divided by 16, so a rate is valid when it divides
 * 115200 into a 16-bit divisor. */
#define CMDLINE_SERIAL_COM1 0x3F8
#define CMDLINE_SERIAL_COM2 0x2F8
#define CMDLINE_SERIAL_BAUD 115200

struct cmdline_opts {
	enum cmdline_test test; /* cg.test=fault: a deliberate monitor fault */
	bool shell;             /* cg.shell=0 turns the operator shell off */
	bool apicv;             /* cg.apicv=1: use the CPU's APIC virtualization
				 * where offered (default: emulate from exits) */
	enum cmdline_spec spec;  /* cg.spec=auto|on|off: speculative-execution
				  * barriers between VMs (docs/spec-ctrl.md) */
	u16 serial_port;         /* cg.serial=com1|com2|0xPORT[,baud]: the operator */
	u32 serial_baud;         /* line's UART (default COM1 at 115200) */
	bool serial_bad;         /* a cg.serial word was malformed: defaults kept */
};

/* cmdline_serial: parse the value of cg.serial= (v, n bytes, not
 * NUL-terminated): "com1", "com2" or "0x" and 1-4 hex digits (a 16550's
 * eight ports must fit below 0x10000, port 0 is refused), optionally
 * ",BAUD" with BAUD a decimal divisor of 115200. Returns true and sets
 * *port and *baud (115200 when not given), or false leaving them alone. */
bool cmdline_serial(const char *v, size_t n, u16 *port, u32 *baud);

/* cmdline_parse: fill opts from s. Words that are not crossguard options
 * (no "cg." prefix: e.g. the kernel path GRUB/QEMU put first) are ignored;
 * a "cg." word that is unknown or has a bad value is copied into bad (the
 * first one) and parsing continues. Returns the number of bad words. A
 * malformed cg.serial= word is not counted there: it sets serial_bad and
 * the default port and rate are used (the caller says so on that port). */
int cmdline_parse(const char *s, struct cmdline_opts *opts, char *bad, size_t bad_size);

#endif
