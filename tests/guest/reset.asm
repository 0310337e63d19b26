; Resets the machine one of four ways (chosen with -DMETHOD=n at build
; time): 1 the PIIX3 reset control register 0xCF9, 2 fast reset through port
; 0x92, 3 the keyboard controller's pulse-reset command 0xFE, 4 a triple
; fault. A CMOS RAM byte survives the reset and tells the second run apart:
; it prints "after reset" and passes.
bits 16
org 0xf000
%include "print16.inc"
%define CMOS_MARK 0x40

start:
    mov ax, cs
    mov ds, ax
    mov al, CMOS_MARK
    out 0x70, al
    in al, 0x71
    cmp al, 0x5a
    je second_run
    mov al, CMOS_MARK
    out 0x70, al
    mov al, 0x5a
    out 0x71, al
    PRINT "resetting"
%if METHOD == 1
    mov dx, 0xcf9
    mov al, 0x06
    out dx, al
%elif METHOD == 2
    in al, 0x92
    or al, 1
    out 0x92, al
%elif METHOD == 3
    mov al, 0xfe
    out 0x64, al
%else
    lidt [cs:null_idt]          ; no IDT: #GP, #DF, then shutdown
    int 3
%endif
    PRINT "still running after the reset request"
    FAIL

second_run:
    mov al, CMOS_MARK
    out 0x70, al
    xor al, al
    out 0x71, al
    PRINT "after reset"
    PASS

null_idt:
    dw 0
    dd 0

    times 0xff0 - ($ - $$) db 0
    jmp 0xf000:start
    times 0x1000 - ($ - $$) db 0
