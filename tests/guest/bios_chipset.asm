; A raw "BIOS" entered at the reset vector: checks the reset state and talks
; to the chipset the way firmware does (PCI configuration mechanism #1, CMOS,
; the 8259 mask register, the PIT, fw_cfg), printing each result on the
; debug console. Run as: tandem -bios bios_chipset.bin -m 64
bits 16
org 0xf000                      ; the image is 4 KiB: linear 0xFF000

%include "print16.inc"

start:
    mov bx, cs
    cmp bx, 0xf000
    jne fail
    mov ax, cs
    mov ds, ax
    PRINT "reset vector ok"

    ; PCI 00:00.0 vendor/device through 0xCF8/0xCFC
    mov dx, 0xcf8
    mov eax, 0x80000000
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0x12378086
    jne fail
    PRINT "pci host bridge 8086:1237"
    ; 00:01.0 is the PIIX3 ISA bridge
    mov dx, 0xcf8
    mov eax, 0x80000800
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0x70008086
    jne fail
    PRINT "pci isa bridge 8086:7000"

    ; CMOS 0x34/0x35: RAM above 16 MiB in 64 KiB units (-m 64: 48 MiB)
    mov al, 0x35
    out 0x70, al
    in al, 0x71
    mov ah, al
    mov al, 0x34
    out 0x70, al
    in al, 0x71
    cmp ax, (64 - 16) * 16
    jne fail
    PRINT "cmos memory size ok"

    ; 8259 master mask register reads back
    mov al, 0xa5
    out 0x21, al
    in al, 0x21
    cmp al, 0xa5
    jne fail
    PRINT "pic imr ok"

    ; PIT counter 0 in mode 2 counts down
    mov al, 0x34
    out 0x43, al
    xor al, al
    out 0x40, al
    out 0x40, al
    mov al, 0x00                ; latch counter 0
    out 0x43, al
    in al, 0x40
    mov ah, al
    in al, 0x40
    xchg al, ah
    mov bx, ax
    mov cx, 2000
.wait:
    in al, 0x80                 ; POST port: a slow read
    loop .wait
    mov al, 0x00
    out 0x43, al
    in al, 0x40
    mov ah, al
    in al, 0x40
    xchg al, ah
    cmp ax, bx
    je fail
    PRINT "pit counts"

    ; fw_cfg signature: select key 0, read 4 bytes from 0x511
    mov dx, 0x510
    xor ax, ax
    out dx, ax
    inc dx
    in al, dx
    cmp al, 'Q'
    jne fail
    in al, dx
    cmp al, 'E'
    jne fail
    in al, dx
    cmp al, 'M'
    jne fail
    in al, dx
    cmp al, 'U'
    jne fail
    PRINT "fw_cfg signature QEMU"
    PASS

fail:
    PRINT "chipset check failed"
    FAIL

    times 0xff0 - ($ - $$) db 0
reset:
    jmp 0xf000:start
    times 0x1000 - ($ - $$) db 0
