; The whole round trip through the x86 operating modes, as a raw firmware
; image entered at the reset vector: real mode -> 16-bit protected mode ->
; 32-bit protected mode -> 32-bit paging with 4 KiB pages, then a 4 MiB PSE
; page -> PAE paging -> IA-32e mode (4-level tables, EFER.LME, 64-bit code,
; RIP-relative addressing, 64-bit stack operations) -> compatibility mode ->
; protected mode with paging off -> real mode again. A value written at
; physical TEST_PHYS is read back through a second mapping in each paging
; mode. Back in real mode, FS keeps the 4 GiB limit it had (unreal mode)
; and DS's 64 KiB limit gives #GP. Prints "step ok: NAME" at each step,
; then PASS.
; Run as: tandem -bios mode_switch.bin -m 16
bits 16
org 0xc000                      ; 16 KiB image: linear 0xfc000 .. 0xfffff
%include "print16.inc"
%define LIN(x) (0xf0000 + (x))

CODE32   equ 0x08
DATA32   equ 0x10
CODE16   equ 0x18               ; base 0xf0000: the offsets of this image
DATA16   equ 0x20
CODE64   equ 0x28
TEST_PHYS equ 0x5000
TEST_VAL  equ 0xcafebabe
HIGH_PHYS equ 0x300000
HIGH_VAL  equ 0x600dcafe
PD32     equ 0x10000            ; 32-bit paging
PT32     equ 0x11000            ; identity, first 4 MiB
PT32_ALIAS equ 0x12000          ; linear 0x400000 -> TEST_PHYS
PDPT_PAE equ 0x13000
PD_PAE   equ 0x14000
PT_PAE   equ 0x15000            ; linear 0x200000 -> TEST_PHYS
PML4     equ 0x16000
PDPT64   equ 0x17000
STACK    equ 0x7000

%macro STEP16 1
    PRINT "step ok: " %+ %1
%endmacro

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov sp, STACK
    mov ds, ax
    mov ax, cs
    cmp ax, 0xf000
    je .cs_ok
    PRINT "not entered at F000"
    FAIL
.cs_ok:
    ; segment arithmetic: 0500:0000 is TEST_PHYS
    mov ax, TEST_PHYS >> 4
    mov es, ax
    mov dword [es:0], TEST_VAL
    cmp dword [TEST_PHYS], TEST_VAL
    je .rm_ok
    PRINT "real mode: segment arithmetic"
    FAIL
.rm_ok:
    PRINT "step ok: real mode"
    lgdt [cs:gdt_ptr]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp CODE16:pm16

pm16:                           ; 16-bit protected mode
    mov ax, DATA16
    mov ds, ax
    mov ss, ax
    mov es, ax
    mov eax, cr0
    test al, 1
    jnz .pe
    FAIL
.pe:
    cmp dword [TEST_PHYS], TEST_VAL
    je .pm16_ok
    PRINT "16-bit protected mode: read"
    FAIL
.pm16_ok:
    PRINT "step ok: 16-bit protected mode"
    jmp dword CODE32:LIN(pm32)

bits 32
%macro P32 1                    ; print a line from 32-bit code
    jmp %%over
%%msg: db %1, 10, 0
%%over:
    mov esi, LIN(%%msg)
    call print32
%endmacro

%macro FAIL32 1
    P32 %1
    FAIL
%endmacro

print32:
    mov al, [esi]
    inc esi
    test al, al
    jz .done
    out DEBUGCON, al
    jmp print32
.done:
    ret

pm32:
    mov ax, DATA32
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, STACK
    cmp dword [TEST_PHYS], TEST_VAL
    je .ok
    FAIL32 "32-bit protected mode: read"
.ok:
    P32 "step ok: 32-bit protected mode"

    ; --- 32-bit paging, 4 KiB pages: identity + one alias page ---
    mov edi, PD32
    xor eax, eax
    mov ecx, 0x3000 / 4
    rep stosd
    mov dword [PD32], PT32 | 3
    mov dword [PD32 + 4], PT32_ALIAS | 3
    xor ecx, ecx
.pte:
    mov eax, ecx
    shl eax, 12
    or eax, 3
    mov [PT32 + ecx * 4], eax
    inc ecx
    cmp ecx, 1024
    jne .pte
    mov dword [PT32_ALIAS], TEST_PHYS | 3
    mov eax, PD32
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .paged
.paged:
    cmp dword [0x400000], TEST_VAL
    je .alias_ok
    FAIL32 "4 KiB paging: the alias does not show the value"
.alias_ok:
    mov dword [0x400004], 0x12345678    ; write through the alias
    cmp dword [TEST_PHYS + 4], 0x12345678
    je .alias_w_ok
    FAIL32 "4 KiB paging: a write through the alias"
.alias_w_ok:
    P32 "step ok: paging 4k pages"

    ; --- a 4 MiB page (CR4.PSE): linear 0x800000 -> physical 0 ---
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    mov dword [PD32 + 8], 0x83
    mov eax, cr3
    mov cr3, eax
    cmp dword [0x800000 + TEST_PHYS], TEST_VAL
    je .pse_ok
    FAIL32 "4 MiB page: the value"
.pse_ok:
    P32 "step ok: paging 4m pse page"

    ; --- PAE: paging off, CR4.PAE, PDPT -> PD (2 MiB identity) + PT ---
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    mov edi, PDPT_PAE
    xor eax, eax
    mov ecx, 0x5000 / 4
    rep stosd
    mov dword [PDPT_PAE], PD_PAE | 1
    mov dword [PD_PAE], 0x83
    mov dword [PD_PAE + 8], PT_PAE | 3
    mov dword [PT_PAE], TEST_PHYS | 3
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov eax, PDPT_PAE
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .pae
.pae:
    cmp dword [0x200000], TEST_VAL
    je .pae_ok
    FAIL32 "PAE paging: the alias"
.pae_ok:
    P32 "step ok: pae paging"

    ; --- IA-32e: paging off, EFER.LME, 4-level tables, paging on ---
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    mov dword [PML4], PDPT64 | 3
    mov dword [PDPT64], PD_PAE | 3
    mov dword [PDPT64 + 256 * 8], PD_PAE | 3    ; also at 256 GiB
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x100
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov ecx, 0xc0000080
    rdmsr
    test eax, 0x400             ; LMA
    jnz .lma
    FAIL32 "EFER.LMA not set"
.lma:
    jmp CODE64:LIN(lm64)

bits 64
%macro P64 1
    jmp %%over
%%msg: db %1, 10, 0
%%over:
    lea rsi, [rel %%msg]
    call print64
%endmacro

%macro FAIL64 1
    P64 %1
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

lm64:
    mov ax, DATA32
    mov ds, ax
    mov ss, ax
    mov rsp, STACK
    P64 "step ok: long mode"
    lea rax, [rel lm64]
    mov rbx, LIN(lm64)
    cmp rax, rbx
    je .lea_ok
    FAIL64 "rip-relative lea"
.lea_ok:
    mov rax, [rel qword_const]
    mov rbx, 0x0123456789abcdef
    cmp rax, rbx
    je .load_ok
    FAIL64 "rip-relative load"
.load_ok:
    P64 "step ok: rip-relative addressing"
    mov rax, 0xfedcba9876543210
    push rax
    push -2                     ; sign-extended to 64 bits
    cmp rsp, STACK - 16
    je .rsp_ok
    FAIL64 "rsp after two pushes"
.rsp_ok:
    pop rcx
    cmp rcx, -2
    je .imm_ok
    FAIL64 "push imm sign extension"
.imm_ok:
    pop rdx
    cmp rdx, rax
    je .stack_ok
    FAIL64 "64-bit push/pop"
.stack_ok:
    call .callee
.ret_addr:
    jmp .called
.callee:
    mov rax, [rsp]
    lea rbx, [rel .ret_addr]
    cmp rax, rbx
    je .ret_ok
    FAIL64 "64-bit return address"
.ret_ok:
    ret
.called:
    P64 "step ok: 64-bit stack"
    mov rax, 0x4000200000       ; PDPT entry 256 -> PD -> PT -> TEST_PHYS
    cmp dword [rax], TEST_VAL
    je .alias64_ok
    FAIL64 "long mode: the alias above 4 GiB"
.alias64_ok:
    P64 "step ok: long mode alias mapping"
    ; to compatibility mode: a far return to the 32-bit code segment
    push CODE32
    lea rax, [rel compat]
    push rax
    o64 retf

qword_const: dq 0x0123456789abcdef

bits 32
compat:
    mov ecx, 0xc0000080
    rdmsr
    test eax, 0x400
    jnz .still_lma
    FAIL32 "compatibility mode: LMA clear"
.still_lma:
    cmp dword [0x200000], TEST_VAL
    je .compat_ok
    FAIL32 "compatibility mode: the alias"
.compat_ok:
    P32 "step ok: compatibility mode"
    ; leave IA-32e mode: paging off, then LME and PAE off
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    mov ecx, 0xc0000080
    rdmsr
    and eax, ~0x100
    wrmsr
    rdmsr
    test eax, 0x500
    jz .efer_ok
    FAIL32 "EFER.LME/LMA still set"
.efer_ok:
    mov eax, cr4
    and eax, ~0x30
    mov cr4, eax
    cmp dword [TEST_PHYS], TEST_VAL
    je .pm_ok
    FAIL32 "protected mode, paging off: the value"
.pm_ok:
    cmp dword [TEST_PHYS + 4], 0x12345678
    je .pm_ok2
    FAIL32 "protected mode: the write made through the alias"
.pm_ok2:
    mov dword [HIGH_PHYS], HIGH_VAL     ; above 1 MiB, for unreal mode
    P32 "step ok: protected mode paging off"
    ; back to real mode through a 16-bit code segment
    jmp CODE16:pm16_back

bits 16
pm16_back:
    mov ax, DATA16              ; 64 KiB limits for real mode
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov ax, DATA32              ; but FS keeps a 4 GiB one: unreal mode
    mov fs, ax
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp 0xf000:real_again

real_again:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, STACK
    mov word [0x31 * 4], int31
    mov word [0x31 * 4 + 2], 0xf000
    xor bx, bx
    int 0x31                    ; through the real-mode IVT again
    cmp bx, 0x3131
    je .int_ok
    PRINT "real mode again: INT"
    FAIL
.int_ok:
    mov ax, TEST_PHYS >> 4
    mov es, ax
    cmp dword [es:0], TEST_VAL
    je .val_ok
    PRINT "real mode again: the value"
    FAIL
.val_ok:
    PRINT "step ok: real mode again"
    ; FS still has the 4 GiB limit cached from protected mode
    xor ax, ax
    mov fs, ax
    cmp dword [fs:dword HIGH_PHYS], HIGH_VAL
    je .unreal_ok
    PRINT "unreal mode: the value above 1 MiB"
    FAIL
.unreal_ok:
    PRINT "step ok: unreal mode"
    ; DS has a 64 KiB limit: a 32-bit offset past it is #GP (vector 13
    ; through the IVT, no error code)
    mov word [13 * 4], gp_real
    mov word [13 * 4 + 2], 0xf000
    mov word [gp_resume], .gp_done
    mov word [gp_hits], 0
    mov ebx, 0x10000
    mov eax, [ebx]
    PRINT "real mode: no #GP past the 64 KiB limit"
    FAIL
.gp_done:
    cmp word [gp_hits], 1
    je .gp_ok
    FAIL
.gp_ok:
    PRINT "step ok: real mode segment limit"
    PRINT "PASS"
    PASS

int31:
    mov bx, 0x3131
    iret

gp_hits   equ 0x600             ; in RAM (DS = 0)
gp_resume equ 0x602
gp_real:                        ; #GP in real mode: resume at [gp_resume]
    push bp
    mov bp, sp
    inc word [gp_hits]
    push ax
    mov ax, [gp_resume]
    mov [bp + 2], ax
    pop ax
    pop bp
    iret

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff       ; 0x08 32-bit code
    dq 0x00cf92000000ffff       ; 0x10 32-bit data
    dq 0x00009a0f0000ffff       ; 0x18 16-bit code, base 0xf0000
    dq 0x000092000000ffff       ; 0x20 16-bit data, base 0
    dq 0x00af9a000000ffff       ; 0x28 64-bit code
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd LIN(gdt)

    times 0x3ff0 - ($ - $$) db 0
reset:
    jmp 0xf000:start
    times 0x4000 - ($ - $$) db 0
