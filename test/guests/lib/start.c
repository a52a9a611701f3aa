/* C side of the entry: everything a guest's main() may assume. */
#include "guest.h"
#include "internal.h"

/* Called by _start (entry.asm) on the boot stack; never returns. */
void guest_start(u32 magic, u32 info) NORETURN;
void guest_start(u32 magic, u32 info)
{
	mb_init(magic, info);
	idt_init();
	exit(main());
}
