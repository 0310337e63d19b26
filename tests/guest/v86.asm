; Virtual-8086 mode: entered with IRET (EFLAGS.VM), real-mode code with
; segment arithmetic runs at 0800:xxxx. With IOPL 0 a small monitor in the
; #GP handler reflects INT n through the real-mode IVT and emulates the
; handler's IRET, CLI, STI, PUSHF and POPF; with IOPL 3 INT n goes straight
; through the IDT to a protected-mode handler that sees the v86 frame. Port
; 0xE9 is open in the TSS I/O bitmap and works from v86 code without a
; fault, port 0x80 is not and faults at either IOPL; HLT faults and returns
; to protected mode.
; A Multiboot kernel (pm32.inc); prints "step ok: NAME", then PASS.
%include "pm32.inc"

V86_SEG  equ 0x0800             ; the v86 code is copied to linear 0x8000
V86_DATA equ 0x0900             ; its DS: linear 0x9000
V86_SP   equ 0x7000             ; SS = V86_SEG: stack top at linear 0xf000
%define V(x) ((x) - v86_code)
; the #GP frame as the monitor (fault_hook) sees it, from ebp = the
; registers saved by PUSHAD
F_ECX    equ 24
F_ERR    equ 36
F_EIP    equ 40
F_CS     equ 44
F_EFL    equ 48
F_ESP    equ 52
F_SS     equ 56

main:
    mov esi, v86_code
    mov edi, V86_SEG * 16
    mov ecx, v86_end - v86_code
    rep movsb
    mov word [0x42 * 4], V(v86_int42)   ; the real-mode IVT entry
    mov word [0x42 * 4 + 2], V86_SEG
    mov edi, V86_DATA * 16
    xor eax, eax
    mov ecx, 4
    rep stosd

    ; --- IOPL 0: INT, IRET and OUT 0x80 fault to the monitor ---
    mov dword [fault_hook], v86_monitor
    mov dword [v86_exit], .exit0
    EXPECT 13, 0
    mov eax, 0x20002            ; VM, IOPL 0
    mov ebx, V(v86_iopl0)
    jmp enter_v86
.exit0:
    call back_in_pm
    CHECK [fault_ecx], 0x4242, "cx from the reflected INT 0x42"
    CHECK [reflected], 1, "INT reflected by the monitor"
    CHECK [iret_emulated], 1, "IRET emulated by the monitor"
    movzx eax, word [V86_DATA * 16]
    CHECK eax, 0x1234, "v86 store through DS=0x900"
    movzx eax, word [V86_DATA * 16 + 2]
    CHECK eax, 0x4242, "cx stored after the INT"
    STEP "v86 entered with iret"
    STEP "int reflected through the #GP monitor"
    CHECK [sensitive], 5, "CLI, STI, PUSHF, POPF trapped with IOPL 0"
    movzx eax, word [V86_DATA * 16 + 8]
    and eax, 1
    CHECK eax, 1, "CF through the emulated PUSHF/POPF"
    STEP "iopl-sensitive instructions trapped"
    CHECK [trapped_port], 0x80, "port 0x80 trapped (IOPL 0)"
    STEP "io bitmap honoured"

    ; --- IOPL 3: INT n through the IDT directly ---
    GATE 0x42, pm_int42, 0xee
    mov dword [trapped_port], 0
    mov dword [fault_hook], v86_monitor
    mov dword [v86_exit], .exit3
    EXPECT 13, 0
    mov eax, 0x23002            ; VM, IOPL 3
    mov ebx, V(v86_iopl3)
    jmp enter_v86
.exit3:
    call back_in_pm
    CHECK [pm_int_count], 1, "INT 0x42 through the IDT"
    mov eax, [pm_int_efl]
    and eax, 0x23000
    CHECK eax, 0x23000, "VM and IOPL in the INT frame"
    CHECK [pm_int_cs], V86_SEG, "v86 CS in the INT frame"
    CHECK [pm_int_ds], V86_DATA, "v86 DS in the INT frame"
    CHECK [pm_int_seg0], 0, "DS and FS zero inside the handler"
    movzx eax, word [V86_DATA * 16 + 6]
    CHECK eax, 0x4343, "dx from the protected-mode handler"
    movzx eax, word [V86_DATA * 16 + 4]
    and eax, 0x3000
    CHECK eax, 0x3000, "PUSHF sees IOPL 3"
    CHECK [reflected], 1, "nothing more reflected with IOPL 3"
    CHECK [sensitive], 5, "PUSHF and CLI run directly with IOPL 3"
    CHECK [trapped_port], 0x80, "port 0x80 trapped (IOPL 3)"
    STEP "int through the idt with iopl 3"
    STEP "back in protected mode"
    PRINT "PASS"
    NEWLINE
    PASS

; IRET to v86 code at V86_SEG:ebx with EFLAGS eax
enter_v86:
    push 0                      ; gs
    push 0                      ; fs
    push V86_DATA               ; ds
    push 0                      ; es
    push V86_SEG                ; ss
    push V86_SP                 ; sp
    push eax
    push V86_SEG                ; cs
    push ebx                    ; ip
    iret

back_in_pm:
    mov ax, K_DS
    mov fs, ax
    mov gs, ax
    mov dword [fault_hook], 0
    CHECK [fault_err], 0, "#GP error code in v86"
    ret

; the v86 monitor, called by the #GP handler of pm32.inc
v86_monitor:
    lea ebp, [esp + 4]
    mov eax, [ebp + F_EFL]
    test eax, 0x20000
    jnz .v86
    PRINT "#GP outside v86 mode"
    NEWLINE
    FAIL
.v86:
    CHECK [ebp + F_ERR], 0, "#GP error code in v86"
    movzx esi, word [ebp + F_CS]
    shl esi, 4
    movzx eax, word [ebp + F_EIP]
    add esi, eax                ; linear CS:IP
    movzx edi, word [ebp + F_SS]
    shl edi, 4
    movzx eax, word [ebp + F_ESP]
    add edi, eax                ; linear SS:SP
    mov al, [esi]
    cmp al, 0xcd
    je .int
    cmp al, 0xcf
    je .iret
    cmp al, 0xe6
    je .out
    cmp al, 0xf4
    je .hlt
    cmp al, 0xfa                ; CLI, STI: IF is the monitor's business
    je .skip1
    cmp al, 0xfb
    je .skip1
    cmp al, 0x9c
    je .pushf
    cmp al, 0x9d
    je .popf
    PRINT "v86 monitor: unexpected opcode "
    movzx eax, al
    call print_hex32
    NEWLINE
    FAIL
.int:                           ; push FLAGS, CS, IP+2; CS:IP := IVT[n]
    movzx ebx, byte [esi + 1]
    sub word [ebp + F_ESP], 6
    mov ax, [ebp + F_EIP]
    add ax, 2
    mov [edi - 6], ax
    mov ax, [ebp + F_CS]
    mov [edi - 4], ax
    mov ax, [ebp + F_EFL]
    mov [edi - 2], ax
    movzx eax, word [ebx * 4]
    mov [ebp + F_EIP], eax
    movzx eax, word [ebx * 4 + 2]
    mov [ebp + F_CS], eax
    inc dword [reflected]
    ret
.iret:                          ; pop IP, CS, FLAGS (IOPL stays)
    movzx eax, word [edi]
    mov [ebp + F_EIP], eax
    movzx eax, word [edi + 2]
    mov [ebp + F_CS], eax
    movzx eax, word [edi + 4]
    and eax, ~0x3000
    and dword [ebp + F_EFL], ~0xcfff
    or [ebp + F_EFL], eax
    add word [ebp + F_ESP], 6
    inc dword [iret_emulated]
    ret
.skip1:
    inc dword [sensitive]
    inc dword [ebp + F_EIP]
    ret
.pushf:                         ; FLAGS with the virtual IOPL 0
    inc dword [sensitive]
    sub word [ebp + F_ESP], 2
    mov ax, [ebp + F_EFL]
    and ax, ~0x3000
    mov [edi - 2], ax
    inc dword [ebp + F_EIP]
    ret
.popf:                          ; arithmetic flags only
    inc dword [sensitive]
    mov ax, [edi]
    and eax, 0x8d5
    and dword [ebp + F_EFL], ~0x8d5
    or [ebp + F_EFL], eax
    add word [ebp + F_ESP], 2
    inc dword [ebp + F_EIP]
    ret
.out:
    movzx eax, byte [esi + 1]
    mov [trapped_port], eax
    add dword [ebp + F_EIP], 2
    ret
.hlt:
    mov dword [expect_vec], -1
    mov esp, [resume_esp]
    jmp [v86_exit]

; INT 0x42 from v86 with IOPL 3 (a DPL 3 interrupt gate to ring 0)
pm_int42:                       ; [esp] EIP CS EFLAGS ESP SS ES DS FS GS
    push eax
    push ds
    mov ax, K_DS
    mov ds, ax
    inc dword [pm_int_count]
    mov eax, [esp + 8 + 4]
    mov [pm_int_cs], eax
    mov eax, [esp + 8 + 8]
    mov [pm_int_efl], eax
    mov eax, [esp + 8 + 24]
    mov [pm_int_ds], eax
    mov eax, [esp]              ; DS as the handler found it
    mov [pm_int_seg0], eax
    xor eax, eax
    mov ax, fs
    or [pm_int_seg0], eax
    mov edx, 0x4343
    pop ds
    pop eax
    iret

; real-mode code, run at V86_SEG:V(x) with DS = V86_DATA
bits 16
v86_code:
v86_iopl0:
    mov ax, 0x1234
    mov [0], ax
    mov si, V(v86_msg)
.print:
    cs lodsb
    test al, al
    jz .printed
    out DEBUGCON, al            ; open in the I/O bitmap: no fault
    jmp .print
.printed:
    xor cx, cx
    int 0x42                    ; IOPL 0: #GP, reflected by the monitor
    mov [2], cx
    cli                         ; IOPL 0: CLI, STI, PUSHF and POPF fault
    sti
    stc
    pushf
    clc
    popf                        ; CF back from the stack
    pushf                       ; (5 faults in all)
    pop ax
    mov [8], ax
    out 0x80, al                ; closed in the I/O bitmap: #GP
    hlt                         ; #GP: the monitor ends v86 mode
v86_int42:
    mov cx, 0x4242
    iret
v86_iopl3:
    pushf
    pop ax
    mov [4], ax
    cli
    xor dx, dx
    int 0x42                    ; IOPL 3: the IDT gate
    mov [6], dx
    out 0x80, al
    hlt
v86_msg: db "v86 hello via port e9", 10, 0
v86_end:
bits 32

align 4
v86_exit:      dd 0
reflected:     dd 0
iret_emulated: dd 0
trapped_port:  dd 0
sensitive:     dd 0
pm_int_count:  dd 0
pm_int_cs:     dd 0
pm_int_efl:    dd 0
pm_int_ds:     dd 0
pm_int_seg0:   dd 0
image_end:
