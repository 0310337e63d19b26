; Hardware task switches: JMP to a TSS descriptor and back, CALL to a TSS
; (NT and the back link) with IRET back, INT through a task gate in the IDT,
; and a #GP through a task gate with its error code on the new task's
; stack; the T bit (#DB on entry), the LDT named by the new TSS, #GP for a
; busy TSS, a JMP to a 16-bit TSS and back. Checks the registers saved in
; the old TSS, those loaded from the new one, TR and the busy bits. A
; Multiboot kernel (pm32.inc); task A is the harness's TSS; prints
; "step ok: NAME", then PASS.
%include "pm32.inc"

TSS_B    equ 0x30
TSS_C    equ 0x38
LDT_SEL  equ 0x40               ; an LDT with one data segment
TSS_D    equ 0x48               ; a 16-bit (286) TSS
STACK_D  equ 0x50000
LDT_DS   equ 0x04               ; its entry 0 (TI = 1)
CODE16_SEL equ 0x50             ; for the 16-bit task
DATA16_SEL equ 0x58
STACK_B  equ 0x60000
STACK_C  equ 0x58000
NT       equ 0x4000

; TYPE_IS selector, type byte, "what": the access byte of a GDT descriptor
%macro TYPE_IS 3
    movzx eax, byte [gdt + %1 + 5]
    CHECK eax, %2, %3
%endmacro

; SET_A tag: eax..edi (but esp) := 0xTAG0000N
%macro SET_REGS 1
    mov eax, %1 + 1
    mov ecx, %1 + 2
    mov edx, %1 + 3
    mov ebx, %1 + 4
    mov ebp, %1 + 5
    mov esi, %1 + 6
    mov edi, %1 + 7
%endmacro

%macro REGS_ARE 2               ; tag, "what"
    CHECK eax, %1 + 1, %2
    CHECK ecx, %1 + 2, %2
    CHECK edx, %1 + 3, %2
    CHECK ebx, %1 + 4, %2
    CHECK ebp, %1 + 5, %2
    CHECK esi, %1 + 6, %2
    CHECK edi, %1 + 7, %2
%endmacro

main:
    mov edi, gdt + TSS_B
    mov eax, tss_b
    call tss_desc
    mov edi, gdt + TSS_C
    mov eax, tss_c
    call tss_desc
    mov edi, gdt + LDT_SEL      ; LDT descriptor: base ldt, limit 7, type 2
    mov eax, ldt
    call tss_desc
    mov byte [gdt + LDT_SEL], 7
    mov byte [gdt + LDT_SEL + 5], 0x82
    mov edi, gdt + TSS_D        ; type 1: available 16-bit TSS, limit 0x2b
    mov eax, tss_d
    call tss_desc
    mov byte [gdt + TSS_D], 0x2b
    mov byte [gdt + TSS_D + 5], 0x81

    ; --- JMP to task B, JMP back ---
    mov edi, tss_b
    mov eax, task_b_jmp
    mov ebx, STACK_B
    mov ecx, 0xb0000000
    call init_tss
    SET_REGS 0xa0000000
    jmp TSS_B:0
.jmp_back:
    REGS_ARE 0xa0000000, "task A registers after JMP back"
    str ax
    movzx eax, ax
    CHECK eax, TSS_SEL, "TR after JMP back"
    TYPE_IS TSS_B, 0x89, "task B not busy after JMP away"
    TYPE_IS TSS_SEL, 0x8b, "task A busy again"
    CHECK [tss_b + 0x20], task_b_jmp.after, "EIP saved in TSS B"
    STEP "jmp back to task A"

    ; --- CALL to task B, IRET back through the back link ---
    mov edi, tss_b
    mov eax, task_b_call
    mov ebx, STACK_B
    mov ecx, 0xb1000000
    call init_tss
    mov word [tss_b + 0x60], LDT_SEL
    mov word [tss_b + 0x64], 1  ; T: #DB before task B's first instruction
    xor eax, eax
    mov dr6, eax
    mov dword [fault_count], 0
    EXPECT 1, 0                 ; the #DB handler returns with IRET
    SET_REGS 0xa1000000
    call TSS_B:0
.call_back:
    REGS_ARE 0xa1000000, "task A registers after IRET"
    pushfd
    pop eax
    and eax, NT
    CHECK eax, 0, "task A NT after IRET"
    TYPE_IS TSS_B, 0x89, "task B not busy after IRET"
    CHECK [tss_b + 0x20], task_b_call.after, "EIP saved in TSS B by IRET"
    sldt ax
    movzx eax, ax
    CHECK eax, 0, "task A LDT after IRET"
    STEP "iret back to task A"

    ; --- INT through a task gate ---
    mov edi, tss_c
    mov eax, task_c
    mov ebx, STACK_C
    mov ecx, 0xc0000000
    call init_tss
    mov dword [idt + 0x41 * 8], TSS_C << 16
    mov dword [idt + 0x41 * 8 + 4], 0x8500
    SET_REGS 0xa2000000
    int 0x41
.int_back:
    REGS_ARE 0xa2000000, "task A registers after the task gate"
    STEP "iret from the task gate"

    ; --- JMP to a 16-bit TSS and back ---
    mov word [tss_d + 0x0e], task_d - 0x100000     ; IP (CS base 0x100000)
    mov word [tss_d + 0x10], 2                      ; FLAGS
    mov word [tss_d + 0x12], 0xd001                 ; AX
    mov word [tss_d + 0x1a], STACK_D & 0xffff
    mov word [tss_d + 0x1c], 0xd005                 ; BP
    mov word [tss_d + 0x22], K_DS
    mov word [tss_d + 0x24], CODE16_SEL
    mov word [tss_d + 0x26], DATA16_SEL
    mov word [tss_d + 0x28], K_DS
    mov word [tss_d + 0x2a], 0
    mov dword [gdt + CODE16_SEL], 0x0000ffff        ; 16-bit code, base
    mov dword [gdt + CODE16_SEL + 4], 0x00009a10    ; 0x100000
    mov dword [gdt + DATA16_SEL], 0x0000ffff        ; 16-bit stack, base
    mov dword [gdt + DATA16_SEL + 4], 0x00009204    ; 0x40000
    SET_REGS 0xa3000000
    jmp TSS_D:0
.d_back:
    REGS_ARE 0xa3000000, "task A registers after the 16-bit task"
    movzx eax, word [tss_d + 0x0e]
    CHECK eax, task_d.after - 0x100000, "IP saved in the 16-bit TSS"
    movzx eax, word [tss_d + 0x12]
    CHECK eax, 0xd0d0, "AX saved in the 16-bit TSS"
    movzx eax, word [tss_d + 0x24]
    CHECK eax, CODE16_SEL, "CS saved in the 16-bit TSS"
    STEP "16-bit tss"

    ; --- #GP through a task gate: the error code goes on task C's stack ---
    mov edi, tss_c
    mov eax, task_gp
    mov ebx, STACK_C
    mov ecx, 0xc1000000
    call init_tss
    mov dword [idt + 13 * 8], TSS_C << 16
    mov dword [idt + 13 * 8 + 4], 0x8500
    mov bx, 0x1000
.gp_insn:
    mov ds, bx
    PRINT "task_switch: the faulting instruction ran again"
    NEWLINE
    FAIL
.gp_resume:
    mov ax, K_DS
    mov ds, ax
    STEP "exception through a task gate"
    PRINT "PASS"
    NEWLINE
    PASS

task_b_jmp:
    REGS_ARE 0xb0000000, "task B registers from its TSS"
    CHECK esp, STACK_B, "task B esp"
    str ax
    movzx eax, ax
    CHECK eax, TSS_B, "TR in task B"
    pushfd
    pop eax
    and eax, NT
    CHECK eax, 0, "NT after JMP"
    CHECK [tss + 0x20], main.jmp_back, "EIP saved in TSS A"
    CHECK [tss + 0x28], 0xa0000001, "EAX saved in TSS A"
    CHECK [tss + 0x44], 0xa0000007, "EDI saved in TSS A"
    CHECK [tss + 0x4c], K_CS, "CS saved in TSS A"
    CHECK [tss_b], 0, "no back link after JMP"
    TYPE_IS TSS_SEL, 0x89, "task A not busy after JMP"
    TYPE_IS TSS_B, 0x8b, "task B busy"
    STEP "jmp to task B"
    jmp TSS_SEL:0
.after:
    PRINT "task B resumed"
    FAIL

task_b_call:
    REGS_ARE 0xb1000000, "task B registers from its TSS"
    ; the T bit: a #DB trap before this first instruction, DR6.BT
    CHECK [fault_count], 1, "#DB for the T bit"
    CHECK [fault_eip], task_b_call, "#DB for the T bit: eip"
    mov eax, dr6
    and eax, 0x8000
    CHECK eax, 0x8000, "DR6.BT"
    STEP "debug trap on task switch"
    pushfd
    pop eax
    and eax, NT
    CHECK eax, NT, "NT after CALL"
    CHECK [tss_b], TSS_SEL, "back link after CALL"
    CHECK [tss + 0x20], main.call_back, "EIP saved in TSS A by CALL"
    TYPE_IS TSS_SEL, 0x8b, "task A still busy after CALL"
    TYPE_IS TSS_B, 0x8b, "task B busy after CALL"
    STEP "call to task B"
    ; the LDT named by TSS B
    sldt ax
    movzx eax, ax
    CHECK eax, LDT_SEL, "LDTR in task B"
    mov ax, LDT_DS
    mov fs, ax
    CHECK [fs:0], 0x4c44542e, "a load through the LDT segment"
    STEP "ldt from the new tss"
    ; a task cannot be entered while busy: #GP(selector)
    EXPECT 13, .busy
    jmp TSS_B:0
    NOFAULT "JMP to the busy task B"
.busy:
    CHECK [fault_err], TSS_B, "#GP error code for a busy TSS"
    pushfd                      ; the #GP handler resumed here with NT clear
    or dword [esp], NT
    popfd
    iret
.after:
    PRINT "task B resumed"
    FAIL

bits 16
task_d:                         ; 16-bit code: CS base 0x100000
    cmp ax, 0xd001
    jne .bad
    cmp bp, 0xd005
    jne .bad
    mov ax, ss
    cmp ax, DATA16_SEL
    jne .bad
    cmp sp, STACK_D & 0xffff
    jne .bad
    str ax
    cmp ax, TSS_D
    jne .bad
    mov ax, 0xd0d0
    jmp TSS_SEL:0
.after:
.bad:
    mov al, 0x11                ; FAIL (16-bit encoding)
    out DEBUG_EXIT, al
    hlt
bits 32

task_c:
    REGS_ARE 0xc0000000, "task C registers from its TSS"
    pushfd
    pop eax
    and eax, NT
    CHECK eax, NT, "NT after INT to a task gate"
    CHECK [tss_c], TSS_SEL, "back link after INT"
    CHECK [tss + 0x20], main.int_back, "EIP saved in TSS A by INT"
    STEP "int to a task gate"
    iret

task_gp:
    pop eax                     ; the error code, on the new task's stack
    CHECK eax, 0x1000, "#GP error code in the new task"
    CHECK esp, STACK_C, "task C esp after popping the error code"
    CHECK [tss + 0x20], main.gp_insn, "EIP of the fault saved in TSS A"
    mov dword [tss + 0x20], main.gp_resume
    iret

; GDT descriptor at edi := an available 32-bit TSS at eax, limit 0x67
tss_desc:
    mov edx, eax
    shl edx, 16
    or edx, 0x67
    mov [edi], edx
    mov edx, eax
    and edx, 0xff000000
    shr eax, 16
    movzx eax, al
    or edx, eax
    or edx, 0x8900
    mov [edi + 4], edx
    ret

; TSS at edi: EIP eax, ESP ebx, EAX..EDI = ecx + 1..7, flat ring 0 segments
init_tss:
    pushad
    push eax
    push edi
    xor eax, eax
    mov ecx, 0x68 / 4
    rep stosd
    pop edi
    pop eax
    mov [edi + 0x20], eax
    mov dword [edi + 0x24], 2
    mov [edi + 0x38], ebx
    mov ecx, [esp + 24]         ; the caller's ecx
    lea eax, [ecx + 1]
    mov [edi + 0x28], eax
    lea eax, [ecx + 2]
    mov [edi + 0x2c], eax
    lea eax, [ecx + 3]
    mov [edi + 0x30], eax
    lea eax, [ecx + 4]
    mov [edi + 0x34], eax
    lea eax, [ecx + 5]
    mov [edi + 0x3c], eax
    lea eax, [ecx + 6]
    mov [edi + 0x40], eax
    lea eax, [ecx + 7]
    mov [edi + 0x44], eax
    mov eax, K_DS
    mov [edi + 0x48], eax
    mov [edi + 0x50], eax
    mov [edi + 0x54], eax
    mov [edi + 0x58], eax
    mov [edi + 0x5c], eax
    mov dword [edi + 0x4c], K_CS
    mov eax, cr3
    mov [edi + 0x1c], eax
    mov word [edi + 0x66], 0x68
    popad
    ret

align 8
%define LDT_DATA_BASE (ldt_data - $$ + 0x100000)
ldt:                            ; one flat-limit data segment based at ldt_data
    dd ((LDT_DATA_BASE & 0xffff) << 16) | 0xffff
    dd (LDT_DATA_BASE & 0xff000000) | ((LDT_DATA_BASE >> 16) & 0xff) | 0x00cf9200
ldt_data: db ".TDL"
align 128
tss_b: times 0x68 db 0
align 128
tss_c: times 0x68 db 0
align 64
tss_d: times 0x2c db 0
image_end:
