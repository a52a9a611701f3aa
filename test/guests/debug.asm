; debug: the #DB handler and the instruction sequences of debug.c. Each
; sequence is written here so the instruction the monitor completes and
; the address right after it (the RIP a trap-class #DB pushes) are ours:
; the `*_next` labels are the EIPs debug.c expects in the #DB frames.

bits 32

RFLAGS_TF equ 0x100
RFLAGS_IF equ 0x200
DR6_INIT equ 0xFFFF0FF0
LOG_MAX equ 4

section .data
global db_count, db_eip, db_dr6, db_dr7, db_ecx, db_seq, event_seq
db_count: dd 0
event_seq: dd 0                 ; shared with debug.c's interrupt handler
db_eip: times LOG_MAX dd 0
db_dr6: times LOG_MAX dd 0
db_dr7: times LOG_MAX dd 0
db_ecx: times LOG_MAX dd 0
db_seq: times LOG_MAX dd 0

section .text
; #DB handler (ring 0 to ring 0: EIP, CS, EFLAGS on the stack). Logs the
; first LOG_MAX #DBs (EIP of the frame, DR6, DR7 as the handler finds it,
; ECX, and the order among all events), clears DR6 and returns with TF
; off, so that a single step stops after one #DB.
global db_handler
db_handler:
	push eax
	push ebx
	mov ebx, [db_count]
	cmp ebx, LOG_MAX
	jae .counted
	mov eax, [esp + 8]
	mov [db_eip + ebx * 4], eax
	mov eax, dr6
	mov [db_dr6 + ebx * 4], eax
	mov eax, dr7
	mov [db_dr7 + ebx * 4], eax
	mov [db_ecx + ebx * 4], ecx
	lock inc dword [event_seq]
	mov eax, [event_seq]
	mov [db_seq + ebx * 4], eax
.counted:
	inc dword [db_count]
	mov eax, DR6_INIT
	mov dr6, eax
	and dword [esp + 16], ~RFLAGS_TF
	pop ebx
	pop eax
	iretd

; Sets TF (and keeps IF as it was): POPF's TF takes effect one
; instruction late, so the instruction after the macro is the first one
; single-stepped (SDM Vol 3A 17.3.1.4).
%macro TF_ON 0
	pushfd
	or dword [esp], RFLAGS_TF
	popfd
%endmacro

; void step_cpuid(void) -- CPUID (always exits) with TF set.
global step_cpuid, step_cpuid_next
step_cpuid:
	push ebx
	xor eax, eax
	xor ecx, ecx
	TF_ON
	cpuid
step_cpuid_next:
	pop ebx
	ret

; void step_out(void) -- OUT to the UART's scratch register, with TF set.
global step_out, step_out_next
step_out:
	mov dx, 0x3FF
	mov al, 0x5A
	TF_ON
	out dx, al
step_out_next:
	ret

; void step_rdmsr(void) -- RDMSR of IA32_APIC_BASE, with TF set.
global step_rdmsr, step_rdmsr_next
step_rdmsr:
	mov ecx, 0x1B
	TF_ON
	rdmsr
step_rdmsr_next:
	ret

; void step_hlt(void) -- HLT with TF and IF set by the same POPF; the
; caller armed an interrupt to end the halt. Returns with IF clear.
global step_hlt, step_hlt_next
step_hlt:
	pushfd
	or dword [esp], RFLAGS_TF | RFLAGS_IF
	popfd
	hlt
step_hlt_next:
	cli
	ret

; void step_store_irq(u32 *icr, u32 value) -- with TF and IF set, the one
; store that sends a fixed self-IPI (the vLAPIC's ICR). Returns with IF
; clear.
global step_store_irq, step_store_irq_next
step_store_irq:
	mov edx, [esp + 4]
	mov eax, [esp + 8]
	pushfd
	or dword [esp], RFLAGS_TF | RFLAGS_IF
	popfd
	mov [edx], eax
step_store_irq_next:
	cli
	ret

; void step_movss_cpuid(const u16 *ss) -- MOV SS from memory (a data
; breakpoint may watch it), then CPUID in its shadow, with TF set.
global step_movss_cpuid, step_movss_cpuid_next
step_movss_cpuid:
	push ebx
	mov edx, [esp + 8]
	xor eax, eax
	xor ecx, ecx
	TF_ON
	mov ss, [edx]
	cpuid
step_movss_cpuid_next:
	pop ebx
	ret

; void step_popss_cpuid(void) -- POP SS, then CPUID in its shadow, with TF
; set.
global step_popss_cpuid, step_popss_cpuid_next
step_popss_cpuid:
	push ebx
	xor eax, eax
	xor ecx, ecx
	push ss
	TF_ON
	pop ss
	cpuid
step_popss_cpuid_next:
	pop ebx
	ret

; void step_sti(void) -- STI (interrupts were off: it opens a shadow) with
; TF set: the #DB after it comes inside the shadow (a #DB is not an
; interrupt), and the entry that gives it to the guest must carry the
; single step VM entry wants there (SDM Vol 3C 27.3.1.5).
global step_sti, step_sti_next
step_sti:
	cli
	TF_ON
	sti
step_sti_next:
	cli
	ret

; void step_movss_mmio(const u16 *ss, u32 *mmio) -- MOV SS, then a store
; to device memory (emulated by the monitor) in its shadow, with TF set;
; then one more instruction, which must run untraced.
global step_movss_mmio, step_movss_mmio_next
step_movss_mmio:
	mov edx, [esp + 4]
	mov ecx, [esp + 8]
	xor eax, eax
	TF_ON
	mov ss, [edx]
	mov [ecx], eax
step_movss_mmio_next:
	nop
	ret

; u32 load32(const u32 *p) and void store32(u32 *p, u32 v) -- one MOV
; each, and the address after it.
global load32, load32_next, store32, store32_next
load32:
	mov edx, [esp + 4]
	mov eax, [edx]
load32_next:
	ret
store32:
	mov edx, [esp + 4]
	mov eax, [esp + 8]
	mov [edx], eax
store32_next:
	ret

; u8 port_in(u16 port) and void port_out(u16 port, u8 v) -- IN AL, DX
; and OUT DX, AL.
global port_in, port_in_next, port_out, port_out_next
port_in:
	mov edx, [esp + 4]
	in al, dx
port_in_next:
	movzx eax, al
	ret
port_out:
	mov edx, [esp + 4]
	mov eax, [esp + 8]
	out dx, al
port_out_next:
	ret

; void rep_insb_at(u16 port, u8 *dst, u32 n) -- REP INSB; rep_insb_insn
; is the instruction, which a #DB between iterations points at.
global rep_insb_at, rep_insb_insn
rep_insb_at:
	push edi
	mov edx, [esp + 8]
	mov edi, [esp + 12]
	mov ecx, [esp + 16]
	cld
rep_insb_insn:
	rep insb
	pop edi
	ret

; void gd_probe(void) -- sets DR7.GD, then reads DR0: #DB (BD), a fault
; on gd_mov; the CPU clears GD as it delivers it, so the read then runs.
global gd_probe, gd_mov
gd_probe:
	mov eax, 0x2400
	mov dr7, eax
gd_mov:
	mov eax, dr0
	mov eax, 0x400
	mov dr7, eax
	ret

section .note.GNU-stack noalloc noexec nowrite progbits
