/* An interactive guest for the operator console: it reads lines from its
 * UART (what the operator types while attached) and answers each with
 * "echo: <line>". It never exits by itself; "quit" ends it with status 1
 * (QEMU convention: code 0). */
#include "guest.h"

#define COM1 0x3F8
#define LSR_DATA_READY 0x01

static int getc_poll(void)
{
	while (!(inb(COM1 + 5) & LSR_DATA_READY))
		relax();
	return inb(COM1);
}

int main(void)
{
	char line[80];
	u32 n = 0;
	printf("echo: ready; type a line\n");
	for (;;) {
		int c = getc_poll();
		if (c == '\r' || c == '\n') {
			line[n] = 0;
			if (n == 4 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' && line[3] == 't')
				exit(0);
			if (n)
				printf("echo: %s\n", line);
			n = 0;
		} else if (c >= 0x20 && c < 0x7F && n + 1 < sizeof(line)) {
			line[n++] = (char)c;
		}
	}
}
