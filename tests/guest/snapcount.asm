; A raw BIOS for the snapshot tests: PHASES rounds of a 32-bit LCG, each
; followed by a wait for TICKS PIT interrupts (1 kHz through the 8259), so
; that the result depends on RAM, registers and a running timer surviving a
; save/restore or a backend switch. Each round also rewrites the immediate
; of a small routine in RAM that the LCG steps call (self-modifying code:
; a backend must not run a stale translation of it after a switch or a
; load). Prints "phase N" per round and
; "result XXXXXXXX" at the end on the debug console, then passes.
bits 16
org 0xf000                      ; the image is 4 KiB: linear 0xFF000

%include "print16.inc"

%define PHASES 64
%define WORK 40000              ; LCG steps per phase
%define TICKS 4                 ; timer interrupts waited per phase
%define X 0x500                 ; the LCG state
%define TICKCOUNT 0x504
%define PHASE 0x506
%define ROUTINE 0x600           ; add eax, imm32 / retf, copied to RAM

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [8 * 4], irq0      ; IRQ 0 at vector 8
    mov word [8 * 4 + 2], 0xf000
    mov al, 0x11                ; 8259 master: ICW1-4, vectors 8-15
    out 0x20, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xfe                ; only IRQ 0
    out 0x21, al
    mov al, 0x34                ; PIT counter 0, mode 2, 1 kHz
    out 0x43, al
    mov al, 1193 & 0xff
    out 0x40, al
    mov al, 1193 >> 8
    out 0x40, al
    mov si, routine             ; copy the routine to 0000:ROUTINE
    mov di, ROUTINE
.copy:
    mov al, [cs:si]
    mov [di], al
    inc si
    inc di
    cmp si, routine_end
    jb .copy
    mov dword [X], 1
    mov word [PHASE], 0
.phase:
    mov si, phase_msg
    call print_str
    mov ax, [PHASE]
    call print_hex16
    mov al, 10
    out DEBUGCON, al
    mov ax, [PHASE]             ; the routine adds phase * 0x01010101
    mov ah, al
    mov [ROUTINE + 2], ax
    mov [ROUTINE + 4], ax
    mov cx, WORK
.work:
    mov eax, [X]
    imul eax, eax, 1103515245
    call 0:ROUTINE
    ror eax, 3
    mov [X], eax
    loop .work
    mov word [TICKCOUNT], 0
    sti
.wait:
    hlt
    cmp word [TICKCOUNT], TICKS
    jb .wait
    cli
    inc word [PHASE]
    cmp word [PHASE], PHASES
    jb .phase
    mov si, result_msg
    call print_str
    mov ax, [X + 2]
    call print_hex16
    mov ax, [X]
    call print_hex16
    mov al, 10
    out DEBUGCON, al
    PASS

irq0:
    push ax
    inc word [TICKCOUNT]
    mov al, 0x20                ; EOI
    out 0x20, al
    pop ax
    iret

routine:
    add eax, 12345              ; 66 05 imm32: the immediate at +2
    retf
routine_end:

phase_msg: db "phase ", 0
result_msg: db "result ", 0

    times 0xff0 - ($ - $$) db 0
reset:
    jmp 0xf000:start
    times 0x1000 - ($ - $$) db 0
