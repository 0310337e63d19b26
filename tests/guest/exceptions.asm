; Each processor exception raised on purpose, with its vector, error code
; and saved state (EIP, CS, CR2, registers) checked in the handler of
; pm32.inc: #DE, #DB (TF single step, INT1; with -DDR_BREAKPOINTS also
; DR0-DR3 data and instruction breakpoints), #BP, #OF, #BR, #UD, #NM, #TS,
; #NP, #SS, #GP with selector error codes (and the EXT bit), #PF with CR2
; and the P/W/U/RSVD/I bits under PAE paging with NX, #AC in ring 3, #MF
; with CR0.NE, #XM with CR4.OSXMMEXCPT, and a double fault from a #GP whose
; gate is not present; then in 64-bit mode #GP and #SS for non-canonical
; addresses, #PF, #DE from IDIV and #UD for opcodes 64-bit mode lacks.
; A Multiboot kernel; prints "step ok: NAME" per exception, then PASS.
%include "pm32.inc"

PDPT     equ 0x20000
PD       equ 0x21000
PT       equ 0x22000
TP_NP    equ 0x1f0000           ; not present
TP_RO    equ 0x1f1000           ; present, read-only, supervisor
TP_NX    equ 0x1f2000           ; present, user, no-execute
TP_RSVD  equ 0x1f3000           ; present, a reserved bit (62) set
SEL_TSS_SHORT equ 0x30          ; TSS descriptor with a limit below 0x67
SEL_NP_DATA   equ 0x38          ; data segment, not present
SEL_NP_STACK  equ 0x40          ; writable data segment, not present
SEL_U_SMALL   equ 0x4b          ; ring 3 data, limit 0xfff (RPL 3)
SEL_CODE64    equ 0x50          ; 64-bit ring 0 code
PML4     equ 0x23000            ; IA-32e: PML4 -> PDPT64 -> the PAE PD
PDPT64   equ 0x24000
IDT64    equ 0x25000

; DESC selector, low dword, high dword: write a GDT descriptor
%macro DESC 3
    mov dword [gdt + (%1 & ~7)], %2
    mov dword [gdt + (%1 & ~7) + 4], %3
%endmacro

; ring 3 code starts with its data segments (IRET nulled the ring 0 ones)
%macro USER_SEGS 0
    mov ax, U_DS
    mov ds, ax
    mov es, ax
%endmacro

main:
    call setup_paging
    DESC SEL_TSS_SHORT, 0x10000060, 0x00008900
    DESC SEL_NP_DATA, 0x0000ffff, 0x00cf1200
    DESC SEL_NP_STACK, 0x0000ffff, 0x00cf1200
    DESC SEL_U_SMALL, 0x00000fff, 0x0040f200

    ; #DE: DIV by zero is a fault at the DIV, registers unchanged
    mov eax, 0x1234
    xor edx, edx
    xor ecx, ecx
    EXPECT 0, .de
.de_insn:
    div ecx
    NOFAULT "#DE"
.de:
    CHECK [fault_eip], .de_insn, "#DE eip"
    CHECK [fault_cs], K_CS, "#DE cs"
    CHECK [fault_eax], 0x1234, "#DE eax"
    STEP "#DE"

    ; #DB: TF set by POPFD traps after the next instruction, DR6.BS
    xor eax, eax
    mov dr6, eax
    EXPECT 1, .db_tf
    pushfd
    or dword [esp], 0x100
    popfd
    nop
.db_after:
    NOFAULT "#DB single step"
.db_tf:
    CHECK [fault_eip], .db_after, "#DB TF eip"
    mov eax, [fault_efl]
    and eax, 0x100
    CHECK eax, 0x100, "#DB saved TF"
    mov eax, dr6
    and eax, 0x4000
    CHECK eax, 0x4000, "#DB DR6.BS"
    ; INT1 (ICEBP, F1) is a trap after the instruction
    EXPECT 1, .db_int1
    db 0xf1
.int1_after:
    NOFAULT "INT1"
.db_int1:
    CHECK [fault_eip], .int1_after, "INT1 eip"
    STEP "#DB"

%ifdef DR_BREAKPOINTS
    ; Left out of the default run: tandem's CPU does not match DR0-DR3
    ; yet (tests/guest/exceptions.sh builds this with
    ; TANDEM_TEST_DR_BREAKPOINTS=1).
    ; a data breakpoint (DR0, write, 4 bytes) is a trap after the write
    xor eax, eax
    mov dr6, eax
    mov eax, watched
    mov dr0, eax
    mov eax, 0x000d0001         ; L0, R/W0 = write, LEN0 = 4 bytes
    mov dr7, eax
    mov eax, [watched]          ; a read does not trigger it
    EXPECT 1, .db_data
    mov dword [watched], 5
.db_data_after:
    NOFAULT "#DB data breakpoint"
.db_data:
    CHECK [fault_eip], .db_data_after, "#DB data breakpoint eip"
    mov eax, dr6
    and eax, 0x400f
    CHECK eax, 1, "#DB data breakpoint DR6"
    ; an instruction breakpoint (DR1, execute) is a fault before it
    xor eax, eax
    mov dr6, eax
    mov eax, .db_insn_bp
    mov dr1, eax
    mov eax, 0x00000004         ; L1, R/W1 = execute, LEN1 = 1
    mov dr7, eax
    EXPECT 1, .db_exec
.db_insn_bp:
    nop
    NOFAULT "#DB instruction breakpoint"
.db_exec:
    CHECK [fault_eip], .db_insn_bp, "#DB instruction breakpoint eip"
    mov eax, dr6
    and eax, 0x400f
    CHECK eax, 2, "#DB instruction breakpoint DR6"
    xor eax, eax
    mov dr7, eax
    STEP "#DB breakpoints"
%endif

    ; #BP: INT3 is a trap, EIP after the CC byte
    EXPECT 3, .bp
    int3
.bp_after:
    NOFAULT "#BP"
.bp:
    CHECK [fault_eip], .bp_after, "#BP eip"
    CHECK [fault_err], 0, "#BP no error code"
    STEP "#BP"

    ; #OF: INTO with OF set traps after INTO; with OF clear it does nothing
    mov al, 1
    add al, 1
    into
    mov al, 0x7f
    EXPECT 4, .of
    add al, 1
    into
.of_after:
    NOFAULT "#OF"
.of:
    CHECK [fault_eip], .of_after, "#OF eip"
    STEP "#OF"

    ; #BR: BOUND with an index above the upper bound is a fault at BOUND
    mov eax, 10
    bound eax, [bounds]         ; inside: no fault
    mov eax, 21
    EXPECT 5, .br
.br_insn:
    bound eax, [bounds]
    NOFAULT "#BR"
.br:
    CHECK [fault_eip], .br_insn, "#BR eip"
    CHECK [fault_eax], 21, "#BR eax"
    STEP "#BR"

    ; #UD: UD2, LOCK on NOP, LOCK on a register destination
    EXPECT 6, .ud1
.ud_insn1:
    ud2
    NOFAULT "UD2"
.ud1:
    CHECK [fault_eip], .ud_insn1, "UD2 eip"
    EXPECT 6, .ud2
.ud_insn2:
    db 0xf0, 0x90               ; lock nop
    NOFAULT "LOCK NOP"
.ud2:
    CHECK [fault_eip], .ud_insn2, "LOCK NOP eip"
    EXPECT 6, .ud3
.ud_insn3:
    db 0xf0, 0x01, 0xd8         ; lock add eax, ebx
    NOFAULT "LOCK ADD reg"
.ud3:
    CHECK [fault_eip], .ud_insn3, "LOCK ADD reg eip"
    STEP "#UD"

    ; #NM: CR0.TS and an x87 instruction
    mov eax, cr0
    or eax, 8
    mov cr0, eax
    EXPECT 7, .nm
.nm_insn:
    fld1
    NOFAULT "#NM"
.nm:
    CHECK [fault_eip], .nm_insn, "#NM eip"
    clts
    fld1                        ; fine again
    fstp st0
    STEP "#NM"

    ; #TS: a task switch to a TSS whose limit is below 0x67
    EXPECT 10, .ts
.ts_insn:
    jmp SEL_TSS_SHORT:0
    NOFAULT "#TS"
.ts:
    CHECK [fault_err], SEL_TSS_SHORT, "#TS error code"
    CHECK [fault_eip], .ts_insn, "#TS eip"
    str ax
    movzx eax, ax
    CHECK eax, TSS_SEL, "task register after #TS"
    STEP "#TS"

    ; #NP: DS := a not-present segment; INT through a not-present gate
    mov bx, SEL_NP_DATA
    EXPECT 11, .np1
.np_insn:
    mov ds, bx
    NOFAULT "#NP segment"
.np1:
    CHECK [fault_err], SEL_NP_DATA, "#NP segment error code"
    CHECK [fault_eip], .np_insn, "#NP eip"
    mov byte [idt + 0x40 * 8 + 5], 0x0e     ; not present, DPL 0
    EXPECT 11, .np2
    int 0x40
    NOFAULT "#NP gate"
.np2:
    CHECK [fault_err], 0x40 * 8 + 2, "#NP gate error code (IDT bit)"
    ; a processor exception (#UD) through a not-present gate: EXT is set
    mov byte [idt + 6 * 8 + 5], 0x0e
    EXPECT 11, .np3
    ud2
    NOFAULT "#NP for #UD"
.np3:
    mov byte [idt + 6 * 8 + 5], 0x8e
    CHECK [fault_err], 6 * 8 + 3, "#NP gate error code (IDT and EXT bits)"
    STEP "#NP"

    ; #SS: SS := a not-present segment
    mov bx, SEL_NP_STACK
    EXPECT 12, .ss1
    mov ss, bx
    NOFAULT "#SS load"
.ss1:
    CHECK [fault_err], SEL_NP_STACK, "#SS load error code"
    ; a push below a stack segment's limit, in ring 3 (the handler gets
    ; the ring 0 stack): #SS(0)
    EXPECT 12, .ss2
    TO_RING3 .ss_user
.ss_user:
    USER_SEGS
    mov ax, SEL_U_SMALL
    mov ss, ax
    mov esp, 0x1002
.ss_push:
    push eax
    NOFAULT "#SS limit"
.ss2:
    CHECK [fault_err], 0, "#SS limit error code"
    CHECK [fault_eip], .ss_push, "#SS limit eip"
    CHECK [fault_ss], SEL_U_SMALL, "#SS limit saved ss"
    CHECK [fault_esp], 0x1002, "#SS limit saved esp"
    CHECK [fault_cs], U_CS, "#SS limit saved cs"
    STEP "#SS"

    ; #GP: a selector past the GDT limit, a system descriptor as data, a
    ; DPL 0 segment from ring 3 (error code without the RPL), a write to
    ; a code segment, a privileged instruction in ring 3
    mov bx, 0x1000
    EXPECT 13, .gp1
    mov ds, bx
    NOFAULT "#GP limit"
.gp1:
    CHECK [fault_err], 0x1000, "#GP past the GDT limit"
    mov bx, TSS_SEL
    EXPECT 13, .gp2
    mov es, bx
    NOFAULT "#GP system descriptor"
.gp2:
    CHECK [fault_err], TSS_SEL, "#GP system descriptor"
    EXPECT 13, .gp3
.gp_insn3:
    mov [cs:bounds], eax
    NOFAULT "#GP code write"
.gp3:
    CHECK [fault_err], 0, "#GP code write"
    CHECK [fault_eip], .gp_insn3, "#GP code write eip"
    EXPECT 13, .gp4
    TO_RING3 .gp_user
.gp_user:
    USER_SEGS
    mov ax, K_DS | 3
    mov fs, ax
    NOFAULT "#GP DPL"
.gp4:
    CHECK [fault_err], K_DS, "#GP DPL 0 from ring 3"
    CHECK [fault_cs], U_CS, "#GP DPL saved cs"
    EXPECT 13, .gp5
    TO_RING3 .gp_user2
.gp_user2:
    USER_SEGS
.gp_hlt:
    hlt
    NOFAULT "#GP HLT"
.gp5:
    CHECK [fault_err], 0, "#GP HLT in ring 3"
    CHECK [fault_eip], .gp_hlt, "#GP HLT eip"
    STEP "#GP"

    ; #PF: not-present read and write, supervisor write to a read-only page
    ; (CR0.WP), user read and write of a supervisor page, NX fetch
    EXPECT 14, .pf1
    mov eax, [TP_NP + 0x10]
    NOFAULT "#PF read"
.pf1:
    CHECK [fault_err], 0, "#PF not-present read"
    CHECK [fault_cr2], TP_NP + 0x10, "#PF read cr2"
    EXPECT 14, .pf2
.pf_insn2:
    mov [TP_NP + 0x24], eax
    NOFAULT "#PF write"
.pf2:
    CHECK [fault_err], 2, "#PF not-present write"
    CHECK [fault_cr2], TP_NP + 0x24, "#PF write cr2"
    CHECK [fault_eip], .pf_insn2, "#PF write eip"
    mov eax, [TP_RO]            ; supervisor read of the page works
    EXPECT 14, .pf3
    mov dword [TP_RO + 8], 1
    NOFAULT "#PF WP"
.pf3:
    CHECK [fault_err], 3, "#PF supervisor write with WP"
    CHECK [fault_cr2], TP_RO + 8, "#PF WP cr2"
    EXPECT 14, .pf4
    TO_RING3 .pf_user
.pf_user:
    USER_SEGS
    mov eax, [TP_RO + 0x30]
    NOFAULT "#PF user read"
.pf4:
    CHECK [fault_err], 5, "#PF user read of a supervisor page"
    CHECK [fault_cr2], TP_RO + 0x30, "#PF user cr2"
    EXPECT 14, .pf5
    TO_RING3 .pf_user2
.pf_user2:
    USER_SEGS
    mov dword [TP_NP], 0
    NOFAULT "#PF user write"
.pf5:
    CHECK [fault_err], 6, "#PF user write, not present"
    EXPECT 14, .pf6
    call TP_NX
    NOFAULT "#PF NX"
.pf6:
    CHECK [fault_err], 0x11, "#PF NX fetch"
    CHECK [fault_cr2], TP_NX, "#PF NX cr2"
    CHECK [fault_eip], TP_NX, "#PF NX eip"
    EXPECT 14, .pf7
    mov eax, [TP_RSVD + 0x40]
    NOFAULT "#PF reserved bit"
.pf7:
    CHECK [fault_err], 9, "#PF reserved bit (P|RSVD)"
    CHECK [fault_cr2], TP_RSVD + 0x40, "#PF reserved bit cr2"
    STEP "#PF"

    ; #AC: CR0.AM, EFLAGS.AC and a misaligned access in ring 3
    mov eax, cr0
    or eax, 1 << 18
    mov cr0, eax
    mov eax, [bounds + 1]       ; ring 0: no check
    EXPECT 17, .ac
    TO_RING3 .ac_user
.ac_user:
    USER_SEGS
    mov eax, [bounds + 1]       ; AC still clear: no check
    pushfd
    or dword [esp], 1 << 18
    popfd
.ac_insn:
    mov eax, [bounds + 1]
    NOFAULT "#AC"
.ac:
    CHECK [fault_err], 0, "#AC error code"
    CHECK [fault_eip], .ac_insn, "#AC eip"
    mov eax, cr0
    and eax, ~(1 << 18)
    mov cr0, eax
    STEP "#AC"

    ; #MF: an unmasked zero divide is reported at the next waiting x87
    ; instruction when CR0.NE is set
    mov eax, cr0
    or eax, 0x20                ; NE
    mov cr0, eax
    fninit
    fldcw [fcw_zm_clear]
    fld1
    fldz
    fdivp st1, st0              ; sets ZE and ES, no fault yet
    EXPECT 16, .mf
.mf_insn:
    fwait
    NOFAULT "#MF"
.mf:
    CHECK [fault_eip], .mf_insn, "#MF eip"
    fnstsw ax
    and eax, 0x84
    CHECK eax, 0x84, "#MF status ZE|ES"
    fninit
    STEP "#MF"

    ; #XM: an unmasked SSE zero divide with CR4.OSXMMEXCPT; #UD without it
    mov eax, cr4
    or eax, 0x600               ; OSFXSR, OSXMMEXCPT
    mov cr4, eax
    ldmxcsr [mxcsr_zm_clear]
    movss xmm0, [one]
    xorps xmm1, xmm1
    EXPECT 19, .xm
.xm_insn:
    divss xmm0, xmm1
    NOFAULT "#XM"
.xm:
    CHECK [fault_eip], .xm_insn, "#XM eip"
    stmxcsr [mxcsr_out]
    mov eax, [mxcsr_out]
    and eax, 4
    CHECK eax, 4, "#XM MXCSR.ZE"
    ldmxcsr [mxcsr_zm_clear]
    mov eax, cr4
    and eax, ~0x400
    mov cr4, eax
    EXPECT 6, .xm_ud
    divss xmm0, xmm1
    NOFAULT "#XM without OSXMMEXCPT"
.xm_ud:
    ldmxcsr [mxcsr_default]
    STEP "#XM"

    ; #DF: #GP through a not-present gate raises #NP while delivering it
    mov byte [idt + 13 * 8 + 5], 0x0e
    mov bx, 0x1000
    EXPECT 8, .df
    mov ds, bx
    NOFAULT "#DF"
.df:
    CHECK [fault_err], 0, "#DF error code"
    mov byte [idt + 13 * 8 + 5], 0x8e
    STEP "#DF"

    ; --- the same kind of faults in 64-bit mode ---
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    mov dword [PML4], PDPT64 | 7
    mov dword [PDPT64], PD | 7
    mov dword [gdt + SEL_CODE64], 0x0000ffff
    mov dword [gdt + SEL_CODE64 + 4], 0x00af9a00
    xor ecx, ecx
.idt64:
    mov eax, [stub64_table + ecx * 4]
    mov edi, ecx
    shl edi, 4
    add edi, IDT64
    mov [edi], ax
    mov word [edi + 2], SEL_CODE64
    mov word [edi + 4], 0x8e00
    shr eax, 16
    mov [edi + 6], ax
    mov dword [edi + 8], 0
    mov dword [edi + 12], 0
    inc ecx
    cmp ecx, 32
    jne .idt64
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x100               ; LME (NXE is still set)
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp SEL_CODE64:long_mode

bits 64
%macro STEP64 1
    jmp %%over
%%msg: db "step ok: ", %1, 10, 0
%%over:
    mov esi, %%msg
    call print64
%endmacro

; CHECK64 value, expected, "what" (clobbers rax and r15)
%macro CHECK64 3
    mov rax, %1
    mov r15, %2
    cmp rax, r15
    je %%ok
    jmp %%over
%%msg: db %3, ": wrong value", 10, 0
%%over:
    mov esi, %%msg
    call print64
    FAIL
%%ok:
%endmacro

%macro EXPECT64 2
    mov dword [expect_vec], %1
    lea rax, [rel %2]
    mov [resume_rip], rax
    mov [resume_rsp], rsp
%endmacro

%macro NOFAULT64 1
    jmp %%over
%%msg: db %1, ": no exception", 10, 0
%%over:
    mov esi, %%msg
    call print64
    FAIL
%endmacro

print64:
    mov al, [rsi]
    inc rsi
    test al, al
    jz .done
    out DEBUGCON, al
    jmp print64
.done:
    ret

; stubs push (error code), vector; the common part records them and the
; frame and resumes at resume_rip with resume_rsp
exc64_common:
    pop qword [fault_vec64]
    pop qword [fault_err64]
    mov rax, [rsp]
    mov [fault_rip64], rax
    mov rax, [rsp + 8]
    mov [fault_cs64], rax
    mov rax, cr2
    mov [fault_cr2_64], rax
    mov eax, [fault_vec64]
    cmp eax, [expect_vec]
    jne .unexpected
    mov dword [expect_vec], -1
    mov rsp, [resume_rsp]
    jmp [resume_rip]
.unexpected:
    jmp .over
.msg: db "unexpected exception in 64-bit mode, vector ", 0
.over:
    mov esi, .msg
    call print64
    mov eax, [fault_vec64]
    call print_hex32            ; (32-bit code that is also valid here)
    mov al, 10
    out DEBUGCON, al
    FAIL

%macro STUB64 1
stub64_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17
%else
    push 0
%endif
    push %1
    jmp exc64_common
%endmacro
%assign v 0
%rep 32
    STUB64 v
%assign v v + 1
%endrep

long_mode:
    mov ax, K_DS
    mov ds, ax
    mov ss, ax
    lidt [idt64_ptr]
    ; #GP(0): a non-canonical data address
    mov rbx, 0x0000800000000000
    EXPECT64 13, .gp
.gp_insn:
    mov rax, [rbx]
    NOFAULT64 "64-bit #GP"
.gp:
    CHECK64 [fault_err64], 0, "64-bit #GP error code"
    lea rax, [rel .gp_insn]
    CHECK64 [fault_rip64], rax, "64-bit #GP rip"
    CHECK64 [fault_cs64], SEL_CODE64, "64-bit #GP cs"
    STEP64 "64-bit #GP non-canonical"
    ; #SS(0): a non-canonical address through RBP (the stack segment)
    mov rbp, 0xffff700000000000
    EXPECT64 12, .ss
    mov rax, [rbp]
    NOFAULT64 "64-bit #SS"
.ss:
    CHECK64 [fault_err64], 0, "64-bit #SS error code"
    STEP64 "64-bit #SS non-canonical"
    ; #PF: a write to a read-only page (WP), a fetch from an NX page
    EXPECT64 14, .pf1
    mov dword [TP_RO + 0x10], 1
    NOFAULT64 "64-bit #PF write"
.pf1:
    CHECK64 [fault_err64], 3, "64-bit #PF write error code"
    CHECK64 [fault_cr2_64], TP_RO + 0x10, "64-bit #PF write cr2"
    EXPECT64 14, .pf2
    mov eax, TP_NX
    call rax
    NOFAULT64 "64-bit #PF NX"
.pf2:
    CHECK64 [fault_err64], 0x11, "64-bit #PF NX error code"
    CHECK64 [fault_rip64], TP_NX, "64-bit #PF NX rip"
    STEP64 "64-bit #PF"
    ; #DE: the 64-bit IDIV overflow
    mov rax, 0x8000000000000000
    cqo
    mov rcx, -1
    EXPECT64 0, .de
.de_insn:
    idiv rcx
    NOFAULT64 "64-bit #DE"
.de:
    lea rax, [rel .de_insn]
    CHECK64 [fault_rip64], rax, "64-bit #DE rip"
    STEP64 "64-bit #DE"
    ; #UD: opcodes that do not exist in 64-bit mode (AAA, INTO)
    EXPECT64 6, .ud1
    db 0x37
    NOFAULT64 "AAA in 64-bit mode"
.ud1:
    EXPECT64 6, .ud2
    db 0xce
    NOFAULT64 "INTO in 64-bit mode"
.ud2:
    STEP64 "64-bit #UD"
    jmp .pass
.pass_msg: db "PASS", 10, 0
.pass:
    mov esi, .pass_msg
    call print64
    PASS
bits 32

; PAE paging with NX: identity map of the first 32 MiB, 4 KiB pages in
; the first 2 MiB (user, writable) except the three test pages
setup_paging:
    mov edi, PDPT
    xor eax, eax
    mov ecx, 0x5000 / 4
    rep stosd
    mov dword [PDPT], PD | 1
    mov dword [PD], PT | 7
    mov ecx, 1
.pde:
    mov eax, ecx
    shl eax, 21
    or eax, 0x87
    mov [PD + ecx * 8], eax
    inc ecx
    cmp ecx, 16
    jne .pde
    xor ecx, ecx
.pte:
    mov eax, ecx
    shl eax, 12
    or eax, 7
    mov [PT + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jne .pte
    mov dword [PT + (TP_NP >> 12) * 8], 0
    mov dword [PT + (TP_RO >> 12) * 8], TP_RO | 1
    mov dword [PT + (TP_NX >> 12) * 8 + 4], 0x80000000
    mov dword [PT + (TP_RSVD >> 12) * 8 + 4], 0x40000000
    mov byte [TP_NX], 0xc3      ; ret
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x800               ; NXE
    wrmsr
    mov eax, cr4
    or eax, 0x20                ; PAE
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80010000          ; PG, WP
    mov cr0, eax
    ret

align 8
bounds:         dd 0, 20
watched:        dd 0
one:            dd 1.0
fcw_zm_clear:   dw 0x037b
align 4
mxcsr_zm_clear: dd 0x1d80
mxcsr_default:  dd 0x1f80
mxcsr_out:      dd 0
align 8
stub64_table:
%assign v 0
%rep 32
    dd stub64_ %+ v
%assign v v + 1
%endrep
idt64_ptr:
    dw 32 * 16 - 1
    dq IDT64
resume_rip:     dq 0
resume_rsp:     dq 0
fault_vec64:    dq 0
fault_err64:    dq 0
fault_rip64:    dq 0
fault_cs64:     dq 0
fault_cr2_64:   dq 0
image_end:
