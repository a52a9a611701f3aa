/* exitcode: exits with `code=N` from the command line (default 0) and
 * checks nothing, for the harness's exit-status plumbing: under QEMU the
 * status is (N << 1) | 1. */
#include "guest.h"

int main(void)
{
	u32 code = cmdline_uint("code", 0);

	printf("exitcode: exiting with %u\n", code);
	return (int)code;
}
