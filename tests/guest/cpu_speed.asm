; A fixed amount of guest work for measuring a CPU backend's speed: from the
; reset vector into flat 32-bit protected mode, then ITER rounds of a
; nine-instruction loop (ALU, loads and stores, push/pop, a taken branch),
; then "done" on the debug console and a pass through isa-debug-exit.
; tests/guest/cpu_speed.sh turns the run time into instructions per second.
bits 16
org 0xf000
%include "print16.inc"
%ifndef ITER
%define ITER 10000000
%endif

start:
    cli
    lgdt [cs:gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:(0xf0000 + pm)

bits 32
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x90000
    mov ecx, ITER
    xor eax, eax
    mov ebx, 0x1000
.loop:
    add eax, ecx
    mov [ebx], eax
    mov edx, [ebx]
    xor edx, eax
    push edx
    pop esi
    inc edi
    dec ecx
    jnz .loop
    cmp edx, 0              ; edx = 0 after the last round
    jne .bad
    mov esi, 0xf0000 + done_msg
.print:
    lodsb
    test al, al
    jz .pass
    out DEBUGCON, al
    jmp .print
.pass:
    mov al, 0x10
    out DEBUG_EXIT, al
    hlt
.bad:
    mov al, 0x11
    out DEBUG_EXIT, al
    hlt

done_msg: db "done", 10, 0
gdtr:
    dw 23
    dd 0xf0000 + gdt
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff   ; flat 32-bit code
    dq 0x00cf92000000ffff   ; flat data

    times 0xff0 - ($ - $$) db 0
bits 16
    jmp 0xf000:start
    times 0x1000 - ($ - $$) db 0
