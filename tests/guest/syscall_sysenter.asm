; Fast system calls: SYSENTER/SYSEXIT in 32-bit protected mode
; (IA32_SYSENTER_CS/ESP/EIP), then in IA-32e mode SYSCALL/SYSRET between
; 64-bit ring 3 and ring 0 (STAR, LSTAR, SFMASK, RCX and R11), SYSRET to
; compatibility mode, #GP in ring 0 for SYSRET to a non-canonical RIP, and
; SYSCALL from compatibility mode, which is #UD on this (Intel) CPU. CS
; and SS are checked on each side of each transition.
; A Multiboot kernel (pm32.inc); prints "step ok: NAME", then PASS.
%include "pm32.inc"

SYSENTER_STACK equ 0x70000
PML4     equ 0x20000
PDPT     equ 0x21000
PD       equ 0x22000
TSS64    equ 0x30000
IDT64    equ 0x31000
K_CS64   equ 0x30
K_SS64   equ 0x38
STAR_USER equ 0x40              ; compat CS 0x43, SS 0x4b, 64-bit CS 0x53
U_SS64   equ 0x4b
U_CS32   equ 0x43
U_CS64   equ 0x53
TSS64_SEL equ 0x58

%macro DESC 3
    mov dword [gdt + %1], %2
    mov dword [gdt + %1 + 4], %3
%endmacro

; SEG_IS sreg, selector, "what" (32-bit code; clobbers eax)
%macro SEG_IS 3
    xor eax, eax
    mov ax, %1
    CHECK eax, %2, %3
%endmacro

main:
    ; --- SYSENTER / SYSEXIT: CS from the MSR, SS = CS + 8; back to
    ; CS + 16 and CS + 24 with RPL 3 (our K_CS, K_DS, U_CS, U_DS) ---
    mov ecx, 0x174
    mov eax, K_CS
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, SYSENTER_STACK
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_entry
    wrmsr
    rdmsr
    CHECK eax, sysenter_entry, "IA32_SYSENTER_EIP"
    EXPECT 0x80, .back_in_ring0
    TO_RING3 .user32
.user32:
    mov ax, U_DS
    mov ds, ax
    mov es, ax
    SEG_IS cs, U_CS, "cs before sysenter"
    mov ebx, 0xfeedbeef
    mov ecx, esp                ; where SYSEXIT puts ESP and EIP
    mov edx, .after_sysexit
    mov [user_esp], esp
    sysenter
    NOFAULT "sysenter"
.after_sysexit:
    mov esi, esp
    SEG_IS cs, U_CS, "cs after sysexit"
    SEG_IS ss, U_DS, "ss after sysexit"
    CHECK esi, [user_esp], "esp after sysexit"
    CHECK ebx, 0xfeedbeef, "ebx across sysenter"
    STEP "sysexit to ring 3"
    int 0x80                    ; back to ring 0 (the harness resumes below)
.back_in_ring0:
    CHECK [fault_cs], U_CS, "int 0x80 from ring 3"

    ; --- IA-32e mode ---
    mov edi, PML4
    xor eax, eax
    mov ecx, 3 * 0x1000 / 4
    rep stosd
    mov dword [PML4], PDPT | 7
    mov dword [PDPT], PD | 7
    xor ecx, ecx
.pde:
    mov eax, ecx
    shl eax, 21
    or eax, 0x87
    mov [PD + ecx * 8], eax
    inc ecx
    cmp ecx, 16
    jne .pde
    DESC K_CS64, 0x0000ffff, 0x00af9a00
    DESC K_SS64, 0x0000ffff, 0x00cf9200
    DESC STAR_USER, 0x0000ffff, 0x00cffa00
    DESC STAR_USER + 8, 0x0000ffff, 0x00cff200
    DESC STAR_USER + 16, 0x0000ffff, 0x00affa00
    DESC TSS64_SEL, ((TSS64 & 0xffff) << 16) | 0x67, 0x00008900 | (TSS64 >> 16)
    DESC TSS64_SEL + 8, 0, 0
    mov edi, TSS64
    xor eax, eax
    mov ecx, 0x68 / 4
    rep stosd
    mov dword [TSS64 + 4], KSTACK_TOP           ; RSP0
    ; IDT64: every vector of 0-31 unexpected, but #UD
    xor ecx, ecx
.idt:
    mov eax, unexpected64
    cmp ecx, 6
    jne .gate
    mov eax, ud64
.gate:
    mov edi, ecx
    shl edi, 4
    add edi, IDT64
    mov [edi], ax
    mov word [edi + 2], K_CS64
    mov word [edi + 4], 0x8e00
    shr eax, 16
    mov [edi + 6], ax
    mov dword [edi + 8], 0
    mov dword [edi + 12], 0
    inc ecx
    cmp ecx, 32
    jne .idt
    mov eax, gp64               ; and #GP
    mov edi, IDT64 + 13 * 16
    mov [edi], ax
    shr eax, 16
    mov [edi + 6], ax
    mov eax, cr4
    or eax, 0x20                ; PAE
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x101               ; LME, SCE
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp K_CS64:lm64

bits 64
%macro PRINT64 1
    jmp %%over
%%msg: db %1, 0
%%over:
    mov esi, %%msg
    call print64
%endmacro

%macro STEP64 1
    PRINT64 "step ok: "
    PRINT64 %1
    mov al, 10
    out DEBUGCON, al
%endmacro

; CHECK64 value, expected, "what" (clobbers rax and r15)
%macro CHECK64 3
    mov rax, %1
    mov r15, %2
    cmp rax, r15
    je %%ok
    PRINT64 %3
    PRINT64 ": wrong value"
    mov al, 10
    out DEBUGCON, al
    FAIL
%%ok:
%endmacro

%macro SEG_IS64 3
    xor eax, eax
    mov ax, %1
    CHECK64 rax, %2, %3
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

unexpected64:
    PRINT64 "unexpected exception in IA-32e mode"
    FAIL

lm64:
    mov ax, K_SS64
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, KSTACK_TOP
    lidt [idt64_ptr]
    mov ax, TSS64_SEL
    ltr ax
    mov ecx, 0xc0000081         ; STAR
    mov edx, (STAR_USER << 16) | K_CS64
    xor eax, eax
    wrmsr
    mov ecx, 0xc0000082         ; LSTAR
    mov eax, syscall64
    xor edx, edx
    wrmsr
    mov ecx, 0xc0000084         ; SFMASK: DF, IF, TF
    mov eax, 0x700
    wrmsr
    ; into 64-bit ring 3 with SYSRET: RIP := RCX, RFLAGS := R11
    mov ecx, user64
    mov r11d, 0x402             ; DF
    o64 sysret

user64:
    mov rsp, USTACK_TOP         ; SYSRET leaves RSP alone
    SEG_IS64 cs, U_CS64, "cs after sysretq"
    SEG_IS64 ss, U_SS64, "ss after sysretq"
    pushfq
    pop rax
    and eax, 0x400
    CHECK64 rax, 0x400, "rflags.DF from r11"
    ; 64-bit stack and RIP-relative addressing in ring 3
    mov rbx, 0x1122334455667788
    push rbx
    pop rdx
    CHECK64 rdx, rbx, "64-bit push/pop"
    lea rax, [rel user64]
    CHECK64 rax, user64, "rip-relative lea"
    STEP64 "sysret to 64-bit ring 3"
    xor eax, eax                ; "system call 0": return here
    syscall
.after_syscall:
    SEG_IS64 cs, U_CS64, "cs after the second sysretq"
    CHECK64 rbx, 0x1122334455667788, "rbx across syscall"
    CHECK64 rcx, .after_syscall, "rcx after sysret"
    pushfq
    pop rax
    and eax, 0x400
    CHECK64 rax, 0x400, "rflags.DF restored by sysret"
    STEP64 "syscall round trip"
    mov eax, 1                  ; "system call 1": SYSRET to a non-canonical
    syscall                     ; RIP, then on to compatibility mode
    PRINT64 "system call 1 returned to 64-bit mode"
    FAIL

syscall64:
    mov r12, rcx
    mov r13, r11
    mov r14, rax                ; the system call number
    SEG_IS64 cs, K_CS64, "cs after syscall"
    SEG_IS64 ss, K_SS64, "ss after syscall"
    pushfq
    pop rax
    and eax, 0x700
    CHECK64 rax, 0, "rflags after SFMASK"
    mov rax, r13
    and eax, 0x400
    CHECK64 rax, 0x400, "r11 holds the user rflags"
    cmp r14, 1
    je .to_compat
    CHECK64 r12, user64.after_syscall, "rcx after syscall"
    STEP64 "syscall to ring 0"
    mov rcx, r12
    mov r11, r13
    o64 sysret
.to_compat:
    mov rcx, 0x0000800000000000 ; non-canonical: #GP(0) in ring 0 (Intel)
.sysret_bad:
    o64 sysret
    PRINT64 "sysret to a non-canonical rip did not fault"
    FAIL

gp64:                           ; [rsp] error code, RIP, CS, RFLAGS, RSP, SS
    CHECK64 [rsp], 0, "#GP error code"
    CHECK64 [rsp + 8], syscall64.sysret_bad, "#GP rip"
    CHECK64 [rsp + 16], K_CS64, "#GP cs: still ring 0"
    STEP64 "sysret to a non-canonical rip is #GP in ring 0"
    mov ecx, user_compat
    mov r11d, 0x002
    sysret                      ; 32-bit operand size: compatibility mode

ud64:                           ; [rsp] RIP, CS, RFLAGS, RSP, SS
    CHECK64 [rsp + 8], U_CS32, "#UD from compatibility mode: cs"
    CHECK64 [rsp], user_compat.syscall, "#UD rip"
    CHECK64 [rsp + 32], U_SS64, "#UD ss"
    STEP64 "syscall in compatibility mode is #UD"
    PRINT64 "PASS"
    mov al, 10
    out DEBUGCON, al
    PASS

bits 32
user_compat:
    mov eax, U_SS64
    mov ds, ax
    mov es, ax
    SEG_IS cs, U_CS32, "cs after sysretl"
    SEG_IS ss, U_SS64, "ss after sysretl"
    STEP "sysret to compatibility mode"
.syscall:
    syscall
    NOFAULT "syscall in compatibility mode"

sysenter_entry:
    mov esi, esp
    SEG_IS cs, K_CS, "cs after sysenter"
    SEG_IS ss, K_DS, "ss after sysenter"
    CHECK esi, SYSENTER_STACK, "esp after sysenter"
    pushfd
    pop eax
    and eax, 0x20200            ; VM, IF
    CHECK eax, 0, "eflags after sysenter"
    STEP "sysenter to ring 0"
    sysexit

align 8
idt64_ptr:
    dw 32 * 16 - 1
    dq IDT64
user_esp: dd 0
image_end:
