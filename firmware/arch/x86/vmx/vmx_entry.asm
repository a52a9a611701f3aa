; The world switch. Enter the guest with its general registers from
; struct vcpu, and come back here on every VM exit with them saved again.
;   int vmx_enter(struct vcpu *v, u32 launched);
;   int vmx_enter_spec(struct vcpu *v, u32 launched);
; Returns 0 after a VM exit that core must see, 1 when VMLAUNCH/VMRESUME
; itself failed (the caller reads the VM-instruction error). Exits the
; monitor handles on the spot go straight back into the guest:
;   bool vmx_exit_fast(struct vcpu *v);   /* true: resume the guest */
; RSP, RIP and everything else of the guest live in the VMCS.
;
; The common exit is dispatched here, not in C: the reason read and
; range-checked, the vCPU's counter for it, the table's handler (vmexit.h:
; handler(v) returns an enum exit_action), then the checks that let the
; guest go straight back in (vmx_run.c's vmx_inject_pending, the same
; four): what is not a plain resume goes to vmx_exit_acted and back to
; core, an unusual reason to vmx_exit_fast, which does it all in C.
;
; Three copies of the same stub, made by one macro: vmx_enter/vmx_exit_entry
; with nothing added, vmx_enter_rsb/vmx_exit_entry_rsb with the RSB fill
; only (on the paths back to core), and vmx_enter_spec/vmx_exit_entry_spec
; with every barrier this CPU's percpu.spec_flags asks for (spec_ctrl.c
; picks the copy per CPU: the VMCS host RIP and the C entry). A CPU runs
; not one instruction for a barrier it does not need: one that needs only
; the fill (no L1D flush, no VERW) has no flag tests before VM entry.

%include "asm_offsets.inc"

global vmx_enter, vmx_exit_entry, vmx_enter_rsb, vmx_exit_entry_rsb
global vmx_enter_spec, vmx_exit_entry_spec
extern vmx_exit_fast, vmx_exit_acted, vmx_inject_slow, vmexit_table

section .rodata
; VERW's operand: a writable data segment (the monitor's own), so the
; instruction's own check passes; the buffer clearing is its side effect.
spec_verw_sel: dw SEL_KERNEL_DATA

section .text
bits 64

; The quick way back in after an exit handled on the spot: vmx_exit_fast
; kept RBP and R12-R15 as the guest left them (the C ABI preserves them
; across the call), so only the registers C may have clobbered are
; loaded, and RBX (CPUID's answer). A handler that changed one of the
; others in struct vcpu (vmexit_gpr_write) set gpr_callee_dirty: then
; everything is loaded, as after an exit that went back to core.
%macro LOAD_GUEST_QUICK 0               ; rdi = vcpu; rdi itself last
	mov rax, [rdi + VCPU_RAX]
	mov rcx, [rdi + VCPU_RCX]
	mov rdx, [rdi + VCPU_RDX]
	mov rbx, [rdi + VCPU_RBX]
	mov rsi, [rdi + VCPU_RSI]
	mov r8,  [rdi + VCPU_R8]
	mov r9,  [rdi + VCPU_R9]
	mov r10, [rdi + VCPU_R10]
	mov r11, [rdi + VCPU_R11]
	mov rdi, [rdi + VCPU_RDI]
%endmacro

; Every guest register (rdi = vcpu; rdi itself last).
%macro LOAD_GUEST 0
	mov rbp, [rdi + VCPU_RBP]
	mov r12, [rdi + VCPU_R12]
	mov r13, [rdi + VCPU_R13]
	mov r14, [rdi + VCPU_R14]
	mov r15, [rdi + VCPU_R15]
	LOAD_GUEST_QUICK
%endmacro

; Whether the next entry needs vmx_inject_slow (rdi = vcpu; jumps to %1,
; clobbers rcx): vmx_run.c's vmx_inject_pending, the same four checks: a
; queued event, the vLAPIC's recheck, NMI blocking, an open interrupt or
; NMI window.
%macro NEED_INJECT 1
	mov rcx, [rdi + VCPU_ARCH]
	cmp byte [rcx + ARCH_EVENT_VALID], 0
	jne %1
	cmp dword [rcx + ARCH_LAPIC_RECHECK], 0
	jne %1
	cmp byte [rcx + ARCH_NMI_BLOCKED], 0
	jne %1
	test dword [rcx + ARCH_PROC], PROC_WINDOWS
	jnz %1
%endmacro

; Before VMLAUNCH/VMRESUME (%1 = 2: with the entry barriers; %2: the
; LOAD_GUEST macro to use). The L1D flush goes
; before the guest registers are loaded (WRMSR needs rax, rcx, rdx); VERW
; comes last, after the monitor's final loads, and takes a memory operand
; (RIP-relative: no register is free then). Flags are the monitor's here:
; the guest's RFLAGS come from the VMCS.
%macro ENTER_GUEST 2
%if %1 == 2
	test byte [gs:PERCPU_SPEC_FLAGS], SPEC_F_L1D_FLUSH
	jz %%no_flush
	mov ecx, MSR_FLUSH_CMD
	mov eax, 1                      ; L1D_FLUSH
	xor edx, edx
	wrmsr
%%no_flush:
%endif
	%2
%if %1 == 2
	test byte [gs:PERCPU_SPEC_FLAGS], SPEC_F_VERW
	jz %%no_verw
	verw [rel spec_verw_sel]
%%no_verw:
%endif
%endmacro

; One return-stack entry that points at a speculation trap: the CALL's
; return address is never returned to (the caller drops it from the
; stack), so a RET predicted from it spins harmlessly on PAUSE/LFENCE.
%macro RSB_ENTRY 0
	call %%next
%%trap:
	pause
	lfence
	jmp %%trap
%%next:
%endmacro

; After a VM exit, before the first RET that has no CALL of its own since
; the exit: the stub's return to core (arch_vcpu_run). The guest's CALLs
; left their return addresses in the return stack buffer; a monitor RET
; could speculatively go there. An exit handled on the spot never executes
; such a RET: every RET in vmx_exit_fast and below returns from a CALL made
; after the exit (the stub's own CALL at the bottom; their depth is far
; below the RSB's 16 entries, so none underflows into the guest's), and
; the stub then jumps to VMRESUME. So the fill sits on the paths to core
; only, which every way to that RET (taken or speculated) passes through:
; after an exit that goes back to core, and after a VMRESUME that failed
; (the stub's RET then returns over the guest's entries too).
;   full: 32 trap entries overwrite every RSB entry (unrolled: no loop
;         branch to mispredict into writing fewer), then the stack
;         pointer is put back and LFENCE waits for it all.
;   one:  with enhanced IBRS only the last guest CALL can still be used
;         (post-barrier RSB predictions): one trap entry over it.
; Clobbers flags only (the guest's are in the VMCS).
%macro RSB_FILL 0
	test byte [gs:PERCPU_SPEC_FLAGS], SPEC_F_RSB_FULL
	jz %%one
%rep 32
	RSB_ENTRY
%endrep
	add rsp, 32 * 8
	lfence
	jmp %%done
%%one:
	test byte [gs:PERCPU_SPEC_FLAGS], SPEC_F_RSB_ONE
	jz %%done
	RSB_ENTRY
	add rsp, 8
	lfence
%%done:
%endmacro

; %1 enter label, %2 exit label, %3: 0 plain, 1 the RSB fill, 2 the fill
; and the entry barriers
%macro WORLD_SWITCH 3
%1:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rdi                        ; the vcpu, found again at exit
	mov rax, VMCS_FIELD_HOST_RSP
	vmwrite rax, rsp
	test esi, esi
	jz .launch
.resume:
	ENTER_GUEST %3, LOAD_GUEST
	vmresume
	jmp .failed
.launch:
	ENTER_GUEST %3, LOAD_GUEST
	vmlaunch
.failed:
%if %3
	; VMRESUME may fail after an exit handled on the spot, which jumped
	; back to .resume: the guest's return addresses are then still in
	; the RSB, and the RET below is the first without a CALL since that
	; exit. Only failures pay for it.
	RSB_FILL
%endif
	pop rdi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	mov eax, 1
	ret

%2:
	push rdi                        ; guest rdi; the vcpu is at [rsp + 8]
	mov rdi, [rsp + 8]
	mov [rdi + VCPU_RAX], rax
	mov [rdi + VCPU_RCX], rcx
	mov [rdi + VCPU_RDX], rdx
	mov [rdi + VCPU_RBX], rbx
	mov [rdi + VCPU_RBP], rbp
	mov [rdi + VCPU_RSI], rsi
	mov [rdi + VCPU_R8],  r8
	mov [rdi + VCPU_R9],  r9
	mov [rdi + VCPU_R10], r10
	mov [rdi + VCPU_R11], r11
	mov [rdi + VCPU_R12], r12
	mov [rdi + VCPU_R13], r13
	mov [rdi + VCPU_R14], r14
	mov [rdi + VCPU_R15], r15
	pop rax
	mov [rdi + VCPU_RDI], rax
	mov esi, VMCS_FIELD_EXIT_REASON
	vmread rsi, rsi                 ; 32 bits, zero-extended
	cmp rsi, VM_EXIT_STATS          ; entry failure, flag bits, past the table
	jae .unusual
	inc qword [rdi + VCPU_EXIT_STATS + rsi * 8] ; only this CPU writes it
	call [vmexit_table + rsi * 8]   ; the stack is 16-byte aligned here
	mov rdi, [rsp]
	test eax, eax                   ; EXIT_ACT_RESUME?
	jnz .acted
	cmp word [rdi + VCPU_EXIT_FLAGS], 0 ; gpr_callee_dirty, attention
	jne .flagged
	NEED_INJECT .inject
	ENTER_GUEST %3, LOAD_GUEST_QUICK
	vmresume
	jmp %1.failed
.flagged:
	cmp byte [rdi + VCPU_ATTENTION], 0
	jne .acted
	NEED_INJECT .inject             ; gpr_callee_dirty alone: .inject goes on at .quick
	jmp .reload_all
.quick:                                 ; after C that may have set gpr_callee_dirty
	cmp byte [rdi + VCPU_GPR_CALLEE_DIRTY], 0
	jne .reload_all
	ENTER_GUEST %3, LOAD_GUEST_QUICK
	vmresume
	jmp %1.failed
.reload_all:
	mov byte [rdi + VCPU_GPR_CALLEE_DIRTY], 0
	jmp %1.resume
.inject:
	call vmx_inject_slow            ; (v): something to deliver, or to recheck
	mov rdi, [rsp]
	jmp .quick
.unusual:
	call vmx_exit_fast              ; (v): the whole exit in C
	test al, al
	jz .to_core
	mov rdi, [rsp]
	jmp .quick
.acted:
	mov esi, eax
	call vmx_exit_acted             ; (v, action): left for arch_vcpu_run
.to_core:
%if %3
	RSB_FILL
%endif
	pop rdi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	xor eax, eax
	ret
%endmacro

WORLD_SWITCH vmx_enter, vmx_exit_entry, 0
WORLD_SWITCH vmx_enter_rsb, vmx_exit_entry_rsb, 1
WORLD_SWITCH vmx_enter_spec, vmx_exit_entry_spec, 2
