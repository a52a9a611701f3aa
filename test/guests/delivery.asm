; delivery: the handlers and ring-3 code of delivery.c, where the exact
; frame layout, the privilege level or the stack alignment matters.

bits 32

RFLAGS_AC equ 0x40000
APIC_EOI equ 0xFEE000B0
APIC_ICR_LO equ 0xFEE00300
IOAPIC_IOWIN equ 0xFEC00010
; ICR: fixed, level assert, shorthand self, vector 0x50 (delivery.c's
; USER_VECTOR)
ICR_SELF_0x50 equ (1 << 18) | (1 << 14) | 0x50
USER_WAIT equ 200000

section .data
global ac_count, ac_eip, user_irq_count, user_waited
ac_count: dd 0
ac_eip: dd 0
user_irq_count: dd 0
user_waited: dd 0

section .text
; #AC from ring 3 (error code, EIP, CS, EFLAGS, ESP, SS on the ring-0
; stack): counts, keeps the EIP, and returns with AC off.
global ac_fix_handler
ac_fix_handler:
	push eax
	inc dword [ac_count]
	mov eax, [esp + 8]
	mov [ac_eip], eax
	and dword [esp + 16], ~RFLAGS_AC
	pop eax
	add esp, 4
	iretd

; Vector 0x50 through a conforming code segment: the CPU stays at CPL 3
; and pushes EIP, CS, EFLAGS on the interrupted (user) stack. EOI at CPL 3
; is fine: paging is off and the data segment is flat.
global user_irq_handler
user_irq_handler:
	inc dword [user_irq_count]
	mov dword [APIC_EOI], 0
	iretd

; Ring 3, AC set, on an odd stack: a self-IPI through the APIC. Its
; delivery (to user_irq_handler, same privilege) pushes on the odd stack:
; #AC while delivering the interrupt. Then wait, without touching the
; stack, for the interrupt to be handled after all.
global user_ipi_ac
user_ipi_ac:
	mov dword [APIC_ICR_LO], ICR_SELF_0x50
	mov ecx, USER_WAIT
.wait:
	cmp dword [user_irq_count], 0
	jne .done
	dec ecx
	jnz .wait
.done:
	mov [user_waited], ecx
	int 0x81

; void mmio_then_bp(void) -- a read of the IOAPIC window (emulated by the
; monitor), then the instruction at mmio_bp_target, where delivery.c puts
; an instruction breakpoint.
global mmio_then_bp, mmio_bp_target
mmio_then_bp:
	mov eax, [IOAPIC_IOWIN]
mmio_bp_target:
	nop
	ret

section .note.GNU-stack noalloc noexec nowrite progbits
