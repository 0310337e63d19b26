; The CPU's system architecture end to end, as a raw firmware image entered
; at the reset vector: an interrupt through the real-mode IVT; protected
; mode with #NP and #GP error codes from segment loads; 32-bit paging with
; a #PF on a not-present page (fixed up and retried), accessed and dirty
; bits, CR0.WP; ring 3 through IRET and a TSS, INT through a DPL-3 trap
; gate with the stack switch, a user #PF on a supervisor page and #GP from
; a DPL-0 gate; then IA-32e mode with a #GP for a non-canonical address and
; a #PF taken on an IST stack. Each expected fault is checked (vector, error
; code, CR2) by a handler that then resumes or retries.
bits 16
org 0xf000
%include "print16.inc"
%define LIN(x) (0xf0000 + (x))

; RAM layout
GDT_RAM   equ 0x0800
EXP_VEC   equ 0x0600          ; what the next fault must be
EXP_ERR   equ 0x0604
EXP_CR2   equ 0x0608
HITS      equ 0x060c          ; expected faults taken
RESUME    equ 0x0610          ; where a handler resumes (0: retry)
FIX       equ 0x0614          ; routine the handler calls before a retry
IDT32     equ 0x1000
IDT64     equ 0x2000
TSS32     equ 0x3000
TSS64     equ 0x3200
PD32      equ 0x4000
PT32      equ 0x5000
TESTPAGE  equ 0x8000
PTE_TEST  equ PT32 + (TESTPAGE >> 12) * 4
PML4      equ 0xa000
PDPT      equ 0xb000
PD64      equ 0xc000
IST1_TOP  equ 0xe008          ; aligned down to 0xe000 on delivery

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov es, ax
    mov ax, cs
    mov ds, ax
    mov si, gdt                 ; the GDT goes to RAM (busy and accessed bits)
    mov di, GDT_RAM
    mov cx, gdt_end - gdt
    rep movsb
    xor ax, ax
    mov ds, ax
    mov word [0x30 * 4], int30
    mov word [0x30 * 4 + 2], 0xf000
    xor bx, bx
    stc
    int 0x30
    cmp bx, 0x1234
    je .real_ok
    PRINT "real-mode INT: wrong result"
    FAIL
.real_ok:
    PRINT "real int ok"
    lgdt [cs:gdt_ptr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:LIN(pm32)

int30:                          ; CF must be set in the pushed FLAGS
    push bp
    mov bp, sp
    test byte [ss:bp + 6], 1
    pop bp
    jz .bad
    mov bx, 0x1234
.bad:
    iret

gdt:
    dq 0
    dq 0x00cf9b000000ffff       ; 0x08 code32, ring 0
    dq 0x00cf93000000ffff       ; 0x10 data32, ring 0
    dq 0x00cffb000000ffff       ; 0x18 code32, ring 3
    dq 0x00cff3000000ffff       ; 0x20 data32, ring 3
    dq 0x0000890030000067       ; 0x28 32-bit TSS at 0x3000
    dq 0x00af9b000000ffff       ; 0x30 code64, ring 0
    dq 0x00cf13000000ffff       ; 0x38 data, not present
    dq 0x0000890032000067       ; 0x40 64-bit TSS at 0x3200 (16 bytes)
    dq 0
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd GDT_RAM
idt32_ptr:
    dw 256 * 8 - 1
    dd IDT32
idt64_ptr:
    dw 256 * 16 - 1
    dq IDT64

; --- 32-bit protected mode ---
bits 32

%macro PRINT32 1
    jmp %%over
%%msg: db %1, 10, 0
%%over:
    push esi
    mov esi, LIN(%%msg)
    call print32
    pop esi
%endmacro

; EXPECT vector, error, resume label (or 0 and a fix-up routine: retry)
%macro EXPECT 3-4 0
    mov dword [EXP_VEC], %1
    mov dword [EXP_ERR], %2
    mov dword [RESUME], %3
    mov dword [FIX], %4
%endmacro

%macro FAILIF32 2               ; condition, what failed
    j%-1 %%ok
    PRINT32 %2
    jmp fail32
%%ok:
%endmacro

%macro GATE32 3                 ; vector, handler, type/attr word
    mov edi, IDT32 + (%1) * 8
    mov eax, LIN(%2)
    mov bx, %3
    call set_gate32
%endmacro

print32:
    push eax
.next:
    mov al, [esi]
    inc esi
    test al, al
    jz .done
    out DEBUGCON, al
    jmp .next
.done:
    pop eax
    ret

fail32:
    PRINT32 "cpu_sys: FAILED"
    FAIL

hex32:                          ; print eax in hex and a newline
    push ecx
    push eax
    mov ecx, 8
.digit:
    rol eax, 4
    push eax
    and al, 0xf
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '0' - 10
.out:
    out DEBUGCON, al
    pop eax
    loop .digit
    mov al, 10
    out DEBUGCON, al
    pop eax
    pop ecx
    ret

set_gate32:                     ; edi: entry, eax: handler, bx: attributes
    mov [edi], ax
    mov word [edi + 2], 0x08
    mov [edi + 4], bx
    shr eax, 16
    mov [edi + 6], ax
    ret

isr_unexpected:
    PRINT32 "unexpected exception or interrupt"
    jmp fail32

isr_np:
    push dword 11
    jmp expect32
isr_gp:
    push dword 13
    jmp expect32
isr_pf:
    push dword 14
    jmp expect32
expect32:                       ; [esp+4] vector, [esp+8] error, [esp+12] EIP
    push eax
    mov eax, [esp + 4]
    cmp eax, [EXP_VEC]
    je .vector_ok
    PRINT32 "unexpected fault: vector, error code, EIP:"
    call hex32
    mov eax, [esp + 8]
    call hex32
    mov eax, [esp + 12]
    call hex32
    jmp fail32
.vector_ok:
    mov eax, [esp + 8]
    cmp eax, [EXP_ERR]
    FAILIF32 ne, "check failed: cmp eax, [EXP_ERR]"
    cmp dword [EXP_VEC], 14
    jne .counted
    mov eax, cr2
    cmp eax, [EXP_CR2]
    FAILIF32 ne, "check failed: cmp eax, [EXP_CR2]"
.counted:
    inc dword [HITS]
    mov dword [EXP_VEC], -1
    mov eax, [RESUME]
    test eax, eax
    jz .retry
    mov [esp + 12], eax
    jmp .out
.retry:
    call [FIX]
.out:
    pop eax
    add esp, 8
    iret

fix_present:
    or dword [PTE_TEST], 1
    invlpg [TESTPAGE]
    ret
fix_writable:
    or dword [PTE_TEST], 2
    invlpg [TESTPAGE]
    ret
fix_user:
    or dword [PTE_TEST], 4
    invlpg [TESTPAGE]
    ret

pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7000
    mov dword [HITS], 0
    mov dword [EXP_VEC], -1
    mov ecx, 0
.fill:
    lea edi, [IDT32 + ecx * 8]
    mov eax, LIN(isr_unexpected)
    mov bx, 0x8e00
    call set_gate32
    inc ecx
    cmp ecx, 256
    jne .fill
    GATE32 11, isr_np, 0x8e00
    GATE32 13, isr_gp, 0x8e00
    GATE32 14, isr_pf, 0x8e00
    lidt [LIN(idt32_ptr)]

    EXPECT 11, 0x38, LIN(.np_done)
    mov ax, 0x38                ; not present: #NP(0x38)
    mov ds, ax
    jmp fail32
.np_done:
    EXPECT 13, 0x1230, LIN(.gp_done)
    mov ax, 0x1230              ; past the GDT limit: #GP(0x1230)
    mov es, ax
    jmp fail32
.gp_done:
    PRINT32 "segment faults ok"

    ; identity-map the first 4 MiB with 4 KiB pages; TESTPAGE not present
    mov edi, PD32
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PD32], PT32 | 7
    mov edi, PT32
    mov eax, 7
    mov ecx, 1024
.pt:
    stosd
    add eax, 0x1000
    loop .pt
    and dword [PTE_TEST], ~1
    mov eax, PD32
    mov cr3, eax
    mov eax, cr0
    and eax, 0x9fffffff         ; caches on, as an OS runs
    or eax, 0x80010000          ; PG, WP
    mov cr0, eax
    mov dword [EXP_CR2], TESTPAGE

    EXPECT 14, 0, 0, LIN(fix_present)
    mov eax, [TESTPAGE]         ; #PF(0), then the retry reads
    mov eax, [PTE_TEST]
    and eax, 0x60
    cmp eax, 0x20               ; accessed, not dirty
    FAILIF32 ne, "check failed: cmp eax, 0x20"
    mov dword [TESTPAGE], 1
    test dword [PTE_TEST], 0x40 ; now dirty
    FAILIF32 z, "check failed: test dword [PTE_TEST], 0x40"
    and dword [PTE_TEST], ~2    ; read-only: with CR0.WP ring 0 faults too
    invlpg [TESTPAGE]
    EXPECT 14, 3, 0, LIN(fix_writable)
    mov dword [TESTPAGE], 2
    cmp dword [TESTPAGE], 2
    FAILIF32 ne, "check failed: cmp dword [TESTPAGE], 2"
    PRINT32 "paging ok"

    ; ring 3 through IRET, back through gates and the TSS stack
    mov edi, TSS32
    xor eax, eax
    mov ecx, 0x68 / 4
    rep stosd
    mov dword [TSS32 + 4], 0x7000
    mov dword [TSS32 + 8], 0x10
    mov word [TSS32 + 0x66], 0x68
    mov ax, 0x28
    ltr ax
    GATE32 0x80, isr_80, 0xef00 ; trap gate, DPL 3
    GATE32 0x82, isr_82, 0xee00 ; interrupt gate, DPL 3
    and dword [PTE_TEST], ~4    ; supervisor only
    invlpg [TESTPAGE]
    push dword 0x23
    push dword 0x9000
    push dword 0x2
    push dword 0x1b
    push dword LIN(ring3)
    iret

ring3:
    mov ax, 0x23
    mov ds, ax
    mov es, ax
    xor eax, eax
    int 0x80
    cmp eax, 0x5678
    je .int80_ok
    ud2
.int80_ok:
    mov dword [EXP_CR2], TESTPAGE
    EXPECT 14, 5, 0, LIN(fix_user)
    mov eax, [TESTPAGE]         ; user read of a supervisor page: #PF(5)
    EXPECT 13, 0x81 * 8 + 2, LIN(.int81_done)
    int 0x81                    ; DPL-0 gate: #GP(0x40a)
    ud2
.int81_done:
    int 0x82                    ; to ring 0 for good

isr_80:                         ; frame: EIP, CS, EFLAGS, ESP, SS of ring 3
    cmp dword [esp + 4], 0x1b
    FAILIF32 ne, "check failed: cmp dword [esp + 4], 0x1b"
    cmp dword [esp + 12], 0x9000
    FAILIF32 ne, "check failed: cmp dword [esp + 12], 0x9000"
    cmp dword [esp + 16], 0x23
    FAILIF32 ne, "check failed: cmp dword [esp + 16], 0x23"
    cmp esp, 0x7000 - 20
    FAILIF32 ne, "check failed: cmp esp, 0x7000 - 20"
    mov eax, 0x5678
    iret

isr_82:
    mov esp, 0x7000
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    cmp dword [HITS], 6
    FAILIF32 ne, "check failed: cmp dword [HITS], 6"
    PRINT32 "ring 3 ok"

    ; IA-32e mode: 2 MiB pages for the first 4 MiB
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    mov edi, PML4
    xor eax, eax
    mov ecx, 3 * 1024
    rep stosd
    mov dword [PML4], PDPT | 3
    mov dword [PDPT], PD64 | 3
    mov dword [PD64], 0x83
    mov dword [PD64 + 8], 0x200083
    mov eax, cr4
    or eax, 0x20                ; PAE
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x100               ; LME
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp 0x30:LIN(lm64)

; --- 64-bit mode ---
bits 64

%macro PRINT64 1
    jmp %%over
%%msg: db %1, 10, 0
%%over:
    mov esi, LIN(%%msg)
    call print64
%endmacro

%macro FAILIF64 2
    j%-1 %%ok
    PRINT64 %2
    jmp fail64
%%ok:
%endmacro

%macro GATE64 4                 ; vector, handler, attributes, IST
    mov edi, IDT64 + (%1) * 16
    mov eax, LIN(%2)
    mov bx, %3
    mov cl, %4
    call set_gate64
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

fail64:
    PRINT64 "cpu_sys: FAILED in 64-bit mode"
    FAIL

set_gate64:                     ; rdi: entry, eax: handler, bx: attr, cl: IST
    mov [rdi], ax
    mov word [rdi + 2], 0x30
    mov [rdi + 4], cl
    mov [rdi + 5], bh
    shr eax, 16
    mov [rdi + 6], ax
    mov qword [rdi + 8], 0
    ret

isr64_unexpected:
    PRINT64 "unexpected exception in 64-bit mode"
    jmp fail64

isr64_gp:
    push 13
    jmp expect64
isr64_pf:
    push 14
    jmp expect64
expect64:                       ; [rsp+8] vector, [rsp+16] error, [rsp+24] RIP
    push rax
    mov eax, [rsp + 8]
    cmp eax, [EXP_VEC]
    FAILIF64 ne, "check failed: cmp eax, [EXP_VEC]"
    mov eax, [rsp + 16]
    cmp eax, [EXP_ERR]
    FAILIF64 ne, "check failed: cmp eax, [EXP_ERR]"
    cmp dword [EXP_VEC], 14
    jne .counted
    mov rax, cr2
    cmp eax, [EXP_CR2]
    FAILIF64 ne, "check failed: cmp eax, [EXP_CR2]"
    cmp rsp, 0xe000 - 48 - 16   ; on IST1, aligned, after our two pushes
    FAILIF64 ne, "check failed: cmp rsp, 0xe000 - 48 - 16"
.counted:
    inc dword [HITS]
    mov eax, [RESUME]
    mov [rsp + 24], rax
    pop rax
    add rsp, 16
    iretq

lm64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, 0x7000
    xor ecx, ecx
.fill:
    mov edi, ecx
    shl edi, 4
    add edi, IDT64
    mov eax, LIN(isr64_unexpected)
    push rcx
    mov bx, 0x8e00
    xor cl, cl
    call set_gate64
    pop rcx
    inc ecx
    cmp ecx, 256
    jne .fill
    GATE64 13, isr64_gp, 0x8e00, 0
    GATE64 14, isr64_pf, 0x8e00, 1
    mov edi, TSS64
    xor eax, eax
    mov ecx, 0x68 / 4
    rep stosd
    mov qword [TSS64 + 4], 0x7000
    mov qword [TSS64 + 0x24], IST1_TOP
    mov ax, 0x40
    ltr ax
    lidt [LIN(idt64_ptr)]

    mov rax, 0x0000800000000000
    EXPECT 13, 0, LIN(.gp_done)
    mov rbx, [rax]              ; non-canonical: #GP(0)
    jmp fail64
.gp_done:
    mov dword [EXP_CR2], 0x40000000
    EXPECT 14, 0, LIN(.pf_done)
    mov rbx, [0x40000000]       ; PDPT entry 1 is not present: #PF(0)
    jmp fail64
.pf_done:
    cmp dword [HITS], 8
    FAILIF64 ne, "check failed: cmp dword [HITS], 8"
    PRINT64 "long mode ok"
    PASS

    times 0xff0 - ($ - $$) db 0
bits 16
    jmp 0xf000:start
    times 0x1000 - ($ - $$) db 0
