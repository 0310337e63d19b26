; A Multiboot v1 test kernel: prints what the loader handed over (magic,
; flags, memory sizes, command line, modules and their contents, the memory
; map) on the debug console and leaves through isa-debug-exit. Built two
; ways: nasm -f elf32 + ld (ELF), and nasm -f bin -DAOUT (the a.out kludge).
bits 32
%define MB_MAGIC 0x1badb002
%ifdef AOUT
%define MB_FLAGS 0x00010003
    org 0x100000
%else
%define MB_FLAGS 0x00000003
    section .text
    global start
%endif

mb_header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
%ifdef AOUT
    dd mb_header                ; header_addr
    dd mb_header                ; load_addr
    dd image_end                ; load_end_addr
    dd 0                        ; bss_end_addr
    dd start                    ; entry_addr
%endif

%include "print32.inc"

start:
    mov esp, stack_top          ; Multiboot leaves ESP undefined
    cmp eax, 0x2badb002
    jne fail
    PRINT "multiboot magic ok"
    NEWLINE
    mov ebp, ebx
    PRINT "flags "
    mov eax, [ebp]
    and eax, 0x24d
    call print_hex32
    NEWLINE
    PRINT "mem_lower "
    mov eax, [ebp + 4]
    call print_hex32
    NEWLINE
    PRINT "cmdline "
    mov esi, [ebp + 16]
    call print_str
    NEWLINE
    PRINT "mods "
    mov eax, [ebp + 20]
    call print_hex32
    NEWLINE
    mov ecx, [ebp + 20]
    mov edi, [ebp + 24]
.module:
    jecxz .modules_done
    PRINT "mod "
    mov esi, [edi + 8]          ; the module's string
    call print_str
    PRINT " = "
    mov esi, [edi]              ; its bytes, up to mod_end
.byte:
    cmp esi, [edi + 4]
    jae .next
    mov al, [esi]
    cmp al, 10
    je .next
    out DEBUGCON, al
    inc esi
    jmp .byte
.next:
    NEWLINE
    test dword [edi], 0xfff     ; page aligned (flag bit 0)
    jnz fail
    add edi, 16
    dec ecx
    jmp .module
.modules_done:
    PRINT "mmap entries "
    mov eax, [ebp + 44]
    xor edx, edx
    mov ebx, 24
    div ebx
    call print_hex32
    NEWLINE
    PASS
fail:
    PRINT "multiboot check failed"
    NEWLINE
    FAIL
image_end:
%ifdef AOUT
    times 4096 db 0
%else
    section .bss
    resb 4096
%endif
stack_top:
