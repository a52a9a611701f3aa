; realmode: the trip from 32-bit protected mode to real mode and back.
; The blob between rm_blob_start and rm_blob_end is copied to RM_BASE by
; realmode.c (real mode can only run below 1 MiB); only offsets relative
; to the blob's start are used inside it.

bits 32

RM_BASE equ 0x9000              ; must match realmode.c
RM_STACK equ 0x7000
SEL_CODE32 equ 0x08             ; selectors: lib/entry.asm's GDT
SEL_DATA32 equ 0x10
SEL_CODE16 equ 0x18
SEL_DATA16 equ 0x20
MIX_AREA equ 0x3800000          ; 256 dwords at 56 MiB (realmode.c checks them)

%define RM(label) (RM_BASE + (label) - rm_blob_start)

section .data
saved_esp: dd 0
saved_idt: dw 0
           dd 0

section .text
; void realmode_enter(void) -- runs the real-mode blob once and returns in
; protected mode with the general registers, EFLAGS and IDTR restored;
; interrupts stay off while away (no IVT handlers exist: no BIOS).
global realmode_enter
realmode_enter:
	pushad
	pushfd
	cli
	mov [saved_esp], esp
	sidt [saved_idt]
	; A 16-bit code segment first: CR0.PE may only be cleared from 16-bit
	; code for the next instruction fetches to make sense (SDM 9.9.2).
	jmp SEL_CODE16:RM(rm_pm16)

rm_back32:
	mov ax, SEL_DATA32
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	mov esp, [saved_esp]
	lidt [saved_idt]
	popfd
	popad
	ret

bits 16
global rm_blob_start, rm_blob_end
rm_blob_start:
rm_pm16:
	; 16-bit data segments give real-mode-like cached limits (64 KiB).
	mov ax, SEL_DATA16
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	lidt [RM(rm_ivt)]
	mov eax, cr0
	and eax, 0xFFFFFFFE
	mov cr0, eax
	jmp 0x0000:RM(rm_real)

rm_real:
	xor ax, ax
	mov ds, ax
	mov ss, ax
	mov sp, RM_STACK

	; A serial line straight from real mode.
	mov si, RM(rm_msg)
	mov dx, 0x3F8
.next:
	lodsb
	test al, al
	jz .done
	out dx, al
	jmp .next
.done:
	; A long excursion: loops=N iterations of a memory increment and a
	; count (realmode.c puts N at [0xA01C]; the count lands in [0xA020]).
	mov ecx, [0xA01C]
	mov dword [0xA020], 0
	test ecx, ecx
	jz .loop_done
	mov word [0x50 * 4], RM(rm_int50)   ; IVT 0x50: a software interrupt
	mov word [0x50 * 4 + 2], 0
.loop:
	inc dword [0xA020]
	int 0x50                    ; through the IVT and IRET
	pushf
	popf
	mov ax, es                  ; a segment load
	mov es, ax
	call 0x0000:RM(rm_far)      ; a far call and return
	dec ecx
	jnz .loop
.loop_done:
	; What test kernels do in real mode, mix=N times ([0xA028]): unreal
	; mode (CR0.PE 1 -> 0 around a load of the flat 4 GiB selector into
	; FS, which keeps its limit), fast A20 through port 0x92, the PIT and
	; the CMOS clock, 256 data accesses above 1 MiB through FS, a software
	; interrupt and a far call, with the local APIC timer interrupting
	; through IVT 0x60 (realmode.c arms it). The tick handler's EOI goes
	; through FS to 0xFEE000B0.
	mov ecx, [0xA028]
	test ecx, ecx
	jz .mix_done
	mov word [0x60 * 4], RM(rm_tick)
	mov word [0x60 * 4 + 2], 0
	mov word [0x50 * 4], RM(rm_int50)
	mov word [0x50 * 4 + 2], 0
.mix:
	cli                         ; no interrupt while PE = 1 with the IVT in IDTR
	mov eax, cr0
	or al, 1
	mov cr0, eax
	mov bx, SEL_DATA32
	mov fs, bx
	and al, 0xFE
	mov cr0, eax
	sti
	in al, 0x92
	or al, 2
	out 0x92, al
	xor al, al
	out 0x43, al                ; latch PIT channel 0
	in al, 0x40
	in al, 0x40
	xor al, al
	out 0x70, al                ; CMOS seconds
	in al, 0x71
	mov esi, MIX_AREA
	mov dx, 256
.mix_data:
	add dword [fs:esi], 1
	add esi, 4
	dec dx
	jnz .mix_data
	int 0x50
	call 0x0000:RM(rm_far)
	dec ecx
	jnz .mix
	sti
	hlt                         ; one tick at least, whatever the loop's speed
	cli
	mov edi, 0xFEE00380
	mov dword [fs:edi], 0       ; the timer stops (initial count 0)
.mix_done:
	; Segment arithmetic: ES:DI = 0x09F0:0x0100 is physical 0xA000.
	mov ax, 0x09F0
	mov es, ax
	mov di, 0x0100
	cld
	mov ax, cs                  ; [0xA000] CS, expected 0
	stosw
	mov ax, es                  ; [0xA002] ES, expected 0x09F0
	stosw
	push word 0xBEEF            ; [0xA004] through the real-mode stack
	pop ax
	stosw
	call rm_sub                 ; [0xA006] 0x55AA from a near call
	stosw
	mov eax, cr0                ; [0xA008] CR0 with PE clear
	stosd
	; The same physical bytes through a different segment:offset pair:
	; 0x0A00:0x0010 is 0xA010; copy a 4-byte tag there with MOVSB.
	mov ax, 0x0A00
	mov es, ax
	mov di, 0x0010
	mov si, RM(rm_tag)
	mov cx, 4
	rep movsb
	; Read back [0xA002] through ES = 0x0A00 (offset 2) into [0xA014].
	mov ax, [es:0x0002]
	mov [es:0x0014], ax

	; A fault the monitor injects in real mode: RDMSR of an MSR nobody
	; has raises #GP (injected by crossguard, which must not push an
	; error code there: real mode has none). Our IVT entry 13 counts it
	; and steps past the RDMSR. Only when [0xA024] = 1 (under crossguard,
	; unless gp=0): QEMU TCG reads unknown MSRs as 0, and its #GP for a
	; reserved CR4 bit in real mode loops inside QEMU 7.2.
	cmp byte [0xA024], 1
	jne .no_gp
	mov word [13 * 4], RM(rm_gp)
	mov word [13 * 4 + 2], 0
	mov [0xA018], sp            ; [0xA018] SP before the fault
	mov ecx, 0x12345678
	rdmsr
.no_gp:

	; Back to protected mode; the GDTR survived real mode unchanged.
	mov eax, cr0
	or eax, 1
	mov cr0, eax
	jmp dword SEL_CODE32:rm_back32

rm_sub:
	mov ax, 0x55AA
	ret

rm_int50:
	iret

rm_far:
	retf

; The local APIC timer's interrupt in real mode: count, EOI, IRET.
rm_tick:
	inc dword [0xA02C]          ; [0xA02C] ticks taken
	push edi
	mov edi, 0xFEE000B0
	mov dword [fs:edi], 0
	pop edi
	iret

; IVT handler for #GP: a real-mode frame is FLAGS, CS, IP (6 bytes, no
; error code); records SP and a tag, returns past the 2-byte RDMSR.
rm_gp:
	mov [0xA01A], sp            ; [0xA01A] SP in the handler
	inc word [0xA016]           ; [0xA016] times the handler ran
	push bp
	mov bp, sp
	add word [bp + 2], 2
	pop bp
	iret

align 4
rm_ivt:
	dw 0x3FF                    ; real-mode IVT; never used (no INT here)
	dd 0
rm_tag:
	db "REAL"
rm_msg:
	db "realmode: this line was written in real mode", 10, 0
rm_blob_end:

section .note.GNU-stack noalloc noexec nowrite progbits
