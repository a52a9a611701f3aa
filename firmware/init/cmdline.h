/* The monitor's own command line (from the loader): space-separated
 * "key=value" words; unknown words are reported, never fatal. */
#ifndef CG_CMDLINE_H
#define CG_CMDLINE_H

#include <cg/types.h>

enum cmdline_test { CMDLINE_TEST_NONE = 0, CMDLINE_TEST_FAULT };
enum cmdline_spec { CMDLINE_SPEC_AUTO = 0, CMDLINE_SPEC_ON, CMDLINE_SPEC_OFF };

struct cmdline_opts {
	enum cmdline_test test; /* cg.test=fault: a deliberate monitor fault */
	bool shell;             /* cg.shell=0 turns the operator shell off */
	bool apicv;             /* cg.apicv=1: use the CPU's APIC virtualization
				 * where offered (default: emulate from exits) */
	enum cmdline_spec spec;  /* cg.spec=auto|on|off: speculative-execution
				  * barriers between VMs (docs/spec-ctrl.md) */
};

/* cmdline_parse: fill opts from s. Words that are not crossguard options
 * (no "cg." prefix: e.g. the kernel path GRUB/QEMU put first) are ignored;
 * a "cg." word that is unknown or has a bad value is copied into bad (the
 * first one) and parsing continues. Returns the number of bad words. */
int cmdline_parse(const char *s, struct cmdline_opts *opts, char *bad, size_t bad_size);

#endif
