; A CPU-bound guest program for the speed benchmarks: a Multiboot kernel
; whose inner loop is a mix of register ALU work, loads and stores through
; a small table, a call/ret pair and a taken branch: 16 instructions per
; iteration, ITERATIONS times, then it leaves through isa-debug-exit.
bits 32
%define MB_MAGIC 0x1badb002
%define MB_FLAGS 0x00010000
%ifndef ITERATIONS
%define ITERATIONS 25000000
%endif
    org 0x100000
mb_header:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd mb_header, mb_header, image_end, bss_end, start

start:
    mov esp, stack_top
    mov ecx, ITERATIONS
    xor eax, eax
    mov ebx, 0x12345678
    xor edx, edx
    mov edi, table
.loop:
    add eax, ebx                ; 1
    xor ebx, eax                ; 2
    rol ebx, 5                  ; 3
    mov esi, eax                ; 4
    and esi, 63                 ; 5
    add edx, [edi + esi * 4]    ; 6
    mov [edi + esi * 4], ebx    ; 7
    lea eax, [eax + edx * 2 + 1]; 8
    call mix                    ; 9 (+3 in mix)
    sub ecx, 1                  ; 13
    cmp ecx, 0                  ; 14
    nop                         ; 15
    jne .loop                   ; 16
    mov [result], eax
    mov al, 0x10
    out 0xf4, al
    hlt
mix:
    shr edx, 1                  ; 10
    inc ebx                     ; 11
    ret                         ; 12

image_end:
    align 4096                  ; data on its own page, as compilers lay it out
result: dd 0
table: times 64 dd 0
    times 1024 dd 0
stack_top:
bss_end:
