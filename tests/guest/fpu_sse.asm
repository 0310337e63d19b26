; x87 and SSE..SSE4.2 results printed as hex, for tests/guest/fpu_sse.sh to
; compare with the same instructions run on the host (fpu_sse_host.c, same
; inputs, same line format "name=HEX", HEX being the result's bytes from
; the last to the first). A Multiboot kernel (pm32.inc).
%include "pm32.inc"

; SHOW "name", bytes: print "name=" and the first bytes of res
%macro SHOW 2
    PRINT %1
    PRINT "="
    mov ecx, %2
    call print_res
    NEWLINE
%endmacro

; rounding control in the FCW (all exceptions masked)
%macro FPU_RC 1
    mov word [cw], 0x037f | (%1 << 10)
    fldcw [cw]
%endmacro

%macro SSE_RC 1
    mov dword [mxcsr], 0x1f80 | (%1 << 13)
    ldmxcsr [mxcsr]
%endmacro


; XOP "name", op, a, b[, imm]: xmm0 := a; op xmm0, [b][, imm]; show xmm0
%macro XOP 4
    movdqu xmm0, [%3]
    %2 xmm0, [%4]
    movdqu [res], xmm0
    SHOW %1, 16
%endmacro
%macro XOP 5
    movdqu xmm0, [%3]
    %2 xmm0, [%4], %5
    movdqu [res], xmm0
    SHOW %1, 16
%endmacro
; XSH "name", op, a, imm: xmm0 := a; op xmm0, imm; show xmm0
%macro XSH 4
    movdqu xmm0, [%3]
    %2 xmm0, %4
    movdqu [res], xmm0
    SHOW %1, 16
%endmacro

main:
    mov eax, cr0
    and eax, ~0x0c              ; EM, TS off
    or eax, 0x22                ; MP, NE
    mov cr0, eax
    mov eax, cr4
    or eax, 0x600               ; OSFXSR, OSXMMEXCPT
    mov cr4, eax
    fninit

    ; --- x87 ---
    fld qword [c_two]
    fsqrt
    fstp tword [res]
    SHOW "fsqrt", 10
    fld qword [c_one]
    fsin
    fstp tword [res]
    SHOW "fsin", 10
    fld qword [c_one]
    fld qword [c_two]
    fpatan
    fstp tword [res]
    SHOW "fpatan", 10
    fld qword [c_three]
    fld qword [c_ten]
    fyl2x
    fstp tword [res]
    SHOW "fyl2x", 10
    fld qword [c_bcd]
    fbstp [res]
    SHOW "fbstp", 10
    fld tword [c_ext]
    fstp tword [res]
    SHOW "fld80", 10
    FPU_RC 0
    call x87_rounding
    SHOW "x87 rc0", 18
    FPU_RC 1
    call x87_rounding
    SHOW "x87 rc1", 18
    FPU_RC 2
    call x87_rounding
    SHOW "x87 rc2", 18
    FPU_RC 3
    call x87_rounding
    SHOW "x87 rc3", 18
    FPU_RC 0
    ; FSAVE: the environment and the stack, then FNINIT; FRSTOR brings both back
    fld qword [c_two]
    fld qword [c_three]
    mov word [cw], 0x0e7f
    fldcw [cw]
    fsave [fsave_buf]
    fnstcw [res]
    fnstsw [res + 2]
    SHOW "after fsave", 4
    mov eax, [fsave_buf]
    mov [res], ax
    mov eax, [fsave_buf + 4]
    mov [res + 2], ax
    mov eax, [fsave_buf + 8]
    mov [res + 4], ax
    SHOW "fsave cw sw tw", 6
    frstor [fsave_buf]
    fnstcw [res]
    fstp tword [res + 2]
    fstp tword [res + 12]
    SHOW "frstor", 22
    fninit


    ; more x87: partial remainder, 2^x-1, scale, extract, tangent,
    ; sine and cosine, pi in two rounding modes, a FIST that overflows
    fninit
    fld qword [c_three]
    fld qword [c_10_5]
    fprem
    fnstsw ax
    and eax, 0x4700
    mov [res + 10], ax
    fstp tword [res]
    fstp st0
    SHOW "fprem", 12
    fld qword [c_half]
    f2xm1
    fstp tword [res]
    SHOW "f2xm1", 10
    fld qword [c_three]
    fld qword [c_1_5]
    fscale
    fstp tword [res]
    fstp st0
    SHOW "fscale", 10
    fld qword [c_ten]
    fxtract
    fstp tword [res]
    fstp tword [res + 10]
    SHOW "fxtract", 20
    fld qword [c_one]
    fptan
    fstp tword [res]
    fstp tword [res + 10]
    SHOW "fptan", 20
    fld qword [c_half]
    fsincos
    fstp tword [res]
    fstp tword [res + 10]
    SHOW "fsincos", 20
    FPU_RC 1
    fldpi
    fstp tword [res]
    FPU_RC 2
    fldpi
    fstp tword [res + 10]
    FPU_RC 0
    SHOW "fldpi rc1 rc2", 20
    fninit
    fld qword [c_big]
    fistp word [res]
    fnstsw [res + 2]
    SHOW "fist overflow", 4
    fninit

    ; --- SSE, SSE2 ---
    movups xmm0, [ps_a]
    addps xmm0, [ps_b]
    movups [res], xmm0
    SHOW "addps", 16
    movsd xmm0, [c_1_1]
    mulsd xmm0, [c_3_3]
    movsd [res], xmm0
    SHOW "mulsd", 8
    SSE_RC 0
    call sse_rounding
    SHOW "cvtsd2si rc0", 8
    SSE_RC 1
    call sse_rounding
    SHOW "cvtsd2si rc1", 8
    SSE_RC 2
    call sse_rounding
    SHOW "cvtsd2si rc2", 8
    SSE_RC 3
    call sse_rounding
    SHOW "cvtsd2si rc3", 8
    SSE_RC 0
    cvttsd2si eax, [c_m2_7]
    mov [res], eax
    cvtsd2si eax, [c_big]       ; out of range: the integer indefinite
    mov [res + 4], eax
    SHOW "cvttsd2si", 8
    ; --- SSSE3 ---
    movdqu xmm0, [bytes_a]
    pshufb xmm0, [shuf_mask]
    movdqu [res], xmm0
    SHOW "pshufb", 16
    movdqu xmm0, [bytes_a]
    pmaddubsw xmm0, [bytes_b]
    movdqu [res], xmm0
    SHOW "pmaddubsw", 16
    ; --- SSE4.1 ---
    movdqu xmm0, [shuf_mask]    ; the blend mask (top bits)
    movdqu xmm1, [bytes_a]
    pblendvb xmm1, [bytes_b]
    movdqu [res], xmm1
    SHOW "pblendvb", 16
    movsd xmm1, [c_m2_5]
    roundsd xmm0, xmm1, 0
    movsd [res], xmm0
    roundsd xmm0, xmm1, 1
    movsd [res + 8], xmm0
    roundsd xmm0, xmm1, 2
    movsd [res + 16], xmm0
    roundsd xmm0, xmm1, 3
    movsd [res + 24], xmm0
    SHOW "roundsd", 32
    ; --- SSE4.2 ---
    movdqu xmm1, [str_needle]
    pcmpistri xmm1, [str_hay], 0x0c
    mov [res], ecx
    pushfd
    pop eax
    and eax, 0x8d5
    mov [res + 4], eax
    SHOW "pcmpistri", 8
    mov eax, 0xffffffff
    crc32 eax, dword [bytes_a]
    crc32 eax, byte [bytes_b]
    crc32 eax, word [bytes_b + 2]
    mov [res], eax
    SHOW "crc32", 4
    popcnt eax, [bytes_b]
    mov [res], eax
    popcnt ax, [bytes_a + 4]
    mov [res + 4], eax
    SHOW "popcnt", 8

    ; more SSE..SSE4.1: NaN and signed-zero rules of MAX/MIN, horizontal
    ; and dot products, conversions, integer multiplies, packs, blends
    XOP "maxps", maxps, ps_c, ps_d
    XOP "minps", minps, ps_c, ps_d
    XOP "minsd", minsd, ps_d, ps_c
    XOP "dpps", dpps, ps_a, ps_b, 0xf1
    XOP "haddps", haddps, ps_a, ps_b
    XOP "addsubpd", addsubpd, pd_a, pd_b
    XOP "sqrtps", sqrtps, ps_e, ps_e
    XOP "cvtps2dq", cvtps2dq, ps_f, ps_f
    XOP "cvttps2dq", cvttps2dq, ps_f, ps_f
    XOP "cvtpd2ps", cvtpd2ps, pd_a, pd_a
    XOP "cvtdq2pd", cvtdq2pd, bytes_b, bytes_b
    XOP "roundps", roundps, ps_f, ps_f, 0
    XOP "roundps floor", roundps, ps_f, ps_f, 9
    XOP "pmulhrsw", pmulhrsw, bytes_a, bytes_b
    XOP "pmuldq", pmuldq, bytes_a, bytes_b
    XOP "pmulld", pmulld, bytes_a, bytes_b
    XOP "packusdw", packusdw, bytes_a, bytes_b
    XOP "packsswb", packsswb, bytes_a, bytes_b
    XOP "pminud", pminud, bytes_a, bytes_b
    XOP "pmaxsb", pmaxsb, bytes_a, bytes_b
    XOP "psadbw", psadbw, bytes_a, bytes_b
    XOP "pavgb", pavgb, bytes_a, bytes_b
    XOP "mpsadbw", mpsadbw, bytes_a, bytes_b, 5
    XOP "phminposuw", phminposuw, bytes_b, bytes_b
    XOP "pmovsxbw", pmovsxbw, bytes_b, bytes_b
    XOP "pmovzxbd", pmovzxbd, bytes_b, bytes_b
    XOP "palignr", palignr, bytes_a, bytes_b, 5
    XOP "insertps", insertps, ps_a, ps_b + 4, 0x29
    XOP "pshufd", pshufd, bytes_a, bytes_b, 0x1b
    XOP "punpckhbw", punpckhbw, bytes_a, bytes_b
    XSH "psrad", psrad, bytes_b, 3
    XSH "pslldq", pslldq, bytes_b, 5
    movdqu xmm0, [bytes_b]
    pmovmskb eax, xmm0
    mov [res], eax
    SHOW "pmovmskb", 4
    movdqu xmm0, [bytes_a]
    ptest xmm0, [bytes_b]
    pushfd
    pop eax
    and eax, 0x8d5
    mov [res], eax
    movdqu xmm0, [shuf_mask]
    ptest xmm0, [shuf_mask]
    pushfd
    pop eax
    and eax, 0x8d5
    mov [res + 4], eax
    SHOW "ptest", 8
    mov eax, 4
    mov edx, 11
    movdqu xmm1, [str_needle]
    pcmpestrm xmm1, [str_hay], 0x44
    movdqu [res], xmm0
    SHOW "pcmpestrm", 16

    PRINT "PASS"
    NEWLINE
    PASS

; res: FIST of 2.5 and -2.5, then 1/3 as 80 bits, in the current RC
x87_rounding:
    fld qword [c_2_5]
    fistp dword [res]
    fld qword [c_m2_5]
    fistp dword [res + 4]
    fld1
    fdiv qword [c_three]
    fstp tword [res + 8]
    ret

sse_rounding:
    cvtsd2si eax, [c_2_5]
    mov [res], eax
    cvtsd2si eax, [c_m2_5]
    mov [res + 4], eax
    ret

; print ecx bytes of res, the last one first
print_res:
    pushad
    mov esi, res
.byte:
    mov al, [esi + ecx - 1]
    mov ah, al
    shr al, 4
    call .nibble
    mov al, ah
    and al, 15
    call .nibble
    loop .byte
    popad
    ret
.nibble:
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '0' - 10
.out:
    out DEBUGCON, al
    ret

align 16
c_one:      dq 1.0
c_two:      dq 2.0
c_three:    dq 3.0
c_ten:      dq 10.0
c_bcd:      dq -12345678.5
c_2_5:      dq 2.5
c_m2_5:     dq -2.5
c_m2_7:     dq -2.7
c_big:      dq 3.0e10
c_1_1:      dq 1.1
c_3_3:      dq 3.3
c_ext:      dq 0xc90fdaa22168c235
            dw 0xc000
c_10_5:     dq 10.5
c_half:     dq 0.5
c_1_5:      dq 1.5
align 16
ps_c:       dd 0x7fc00000, 0x80000000, 1.0, -1.0
ps_d:       dd 1.0, 0.0, 0x7fc00001, -2.0
ps_e:       dd 2.0, 9.0, 0.5, 1.0e-3
ps_f:       dd 2.5, -2.5, 3.5, 1.0e10
pd_a:       dq 1.5, -2.25
pd_b:       dq 0.25, 4.0
align 16
ps_a:       dd 1.5, 2.25, -3.0, 1.0e10
ps_b:       dd 0.25, 1.0e-3, 7.5, -1.0e10
bytes_a:    db 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77
            db 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
bytes_b:    db 0x01, 0x80, 0x7f, 0xff, 0x02, 0xfe, 0x10, 0x20
            db 0x03, 0xfd, 0x40, 0xc0, 0x55, 0x0f, 0x81, 0x7e
shuf_mask:  db 0x0f, 0x80, 0x03, 0x03, 0x85, 0x00, 0x0a, 0x91
            db 0x01, 0x02, 0xff, 0x07, 0x0c, 0x0d, 0x0e, 0x40
str_needle: db "lo w", 0
            times 11 db 0
str_hay:    db "hello world", 0
            times 4 db 0
cw:         dw 0
align 4
mxcsr:      dd 0
res:        times 32 db 0
fsave_buf:  times 108 db 0
image_end:
