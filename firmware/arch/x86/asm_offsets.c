/* Compiled to assembly only: each OFFSET line becomes "%define NAME value" in
 * build/gen/asm_offsets.inc, so assembly never types a struct offset. */
#include <stddef.h>
#include "trap.h"
#include "smp.h"

#define OFFSET(name, value) __asm__ volatile("\n.ascii \"@@define " #name " %c0\"" ::"i"(value))

void asm_offsets(void);
void asm_offsets(void)
{
	OFFSET(TRAP_FRAME_VECTOR, offsetof(struct trap_frame, vector));
	OFFSET(TRAP_FRAME_HW_OFFSET, offsetof(struct trap_frame, rip));
	OFFSET(TRAP_FRAME_SIZE, sizeof(struct trap_frame));
	OFFSET(AP_BOOT_BASE, AP_TRAMPOLINE_BASE);
	OFFSET(AP_PARAMS_OFFSET, AP_PARAMS_OFFSET_VALUE);
	OFFSET(AP_PARAMS_CR3, offsetof(struct ap_boot_params, cr3));
	OFFSET(AP_PARAMS_STACK, offsetof(struct ap_boot_params, stack_top));
	OFFSET(AP_PARAMS_ENTRY, offsetof(struct ap_boot_params, entry));
	OFFSET(AP_PARAMS_INDEX, offsetof(struct ap_boot_params, cpu_index));
	OFFSET(AP_PARAMS_ARRIVED, offsetof(struct ap_boot_params, arrived));
}
