; CPUID and MSRs as system software uses them: the leaves stay the same from
; call to call, the vendor and maximum leaves, the XSAVE area sizes of leaf
; 0xD against what XCR0 enables, RDMSR/WRMSR round trips of EFER, STAR and
; PAT, #GP(0) for an MSR that does not exist, a TSC that moves forward and
; RDTSCP returning IA32_TSC_AUX. A Multiboot kernel (tests/guest/pm32.inc).
%include "pm32.inc"

main:
    ; leaf 0: maximum leaf and vendor, the same on a second call
    xor eax, eax
    cpuid
    mov [max_leaf], eax
    mov [vendor], ebx
    mov [vendor + 4], edx
    mov [vendor + 8], ecx
    xor eax, eax
    cpuid
    CHECK eax, [max_leaf], "leaf 0 eax again"
    CHECK ebx, [vendor], "leaf 0 ebx again"
    CHECK ecx, [vendor + 8], "leaf 0 ecx again"
    cmp dword [max_leaf], 0xd
    jae .max_ok
    PRINT "max leaf below 0xd"
    FAIL
.max_ok:
    PRINT "vendor "
    mov esi, vendor
    call print_str
    NEWLINE
    STEP "leaf 0"

    ; leaf 1 twice: the feature bits do not change
    mov eax, 1
    cpuid
    mov [feat_ecx], ecx
    mov [feat_edx], edx
    mov [feat_eax], eax
    mov eax, 1
    cpuid
    CHECK eax, [feat_eax], "leaf 1 eax again"
    CHECK ecx, [feat_ecx], "leaf 1 ecx again"
    CHECK edx, [feat_edx], "leaf 1 edx again"
    ; what every x86-64 CPU has: FPU, TSC, MSR, PAE, CX8, CMOV, FXSR, SSE, SSE2
    mov eax, [feat_edx]
    and eax, 0x0700c171
    CHECK eax, 0x0700c171, "leaf 1 edx base features"
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jae .ext_ok
    PRINT "no leaf 0x80000001"
    FAIL
.ext_ok:
    mov eax, 0x80000001
    cpuid
    mov [ext_edx], edx
    test edx, 1 << 29           ; long mode
    jnz .lm_ok
    PRINT "no long mode bit"
    FAIL
.lm_ok:
    STEP "feature bits stable"

    ; leaf 0xD with XCR0 = x87 | SSE: 512 legacy bytes + 64 header
    test dword [feat_ecx], 1 << 26
    jnz .xsave_ok
    PRINT "no XSAVE"
    FAIL
.xsave_ok:
    mov eax, cr4
    or eax, 1 << 18 | 1 << 9    ; OSXSAVE, OSFXSR
    mov cr4, eax
    xor ecx, ecx
    mov eax, 3
    xor edx, edx
    xsetbv
    mov eax, 0xd
    xor ecx, ecx
    cpuid
    mov [xcr0_mask], eax
    mov [xsize_max], ecx
    CHECK ebx, 0x240, "leaf 0xd ebx with xcr0=3"
    test dword [xcr0_mask], 3
    jnz .mask_ok
    PRINT "leaf 0xd: x87/SSE not supported in XCR0"
    FAIL
.mask_ok:
    cmp dword [xsize_max], 0x240
    jae .max_size_ok
    PRINT "leaf 0xd: max size below 0x240"
    FAIL
.max_size_ok:
    ; with AVX: component 2 is 256 bytes at offset 576 and XCR0=7 grows EBX
    test dword [xcr0_mask], 4
    jz .no_avx
    mov eax, 0xd
    mov ecx, 2
    cpuid
    CHECK eax, 0x100, "leaf 0xd.2 size"
    CHECK ebx, 0x240, "leaf 0xd.2 offset"
    xor ecx, ecx
    mov eax, 7
    xor edx, edx
    xsetbv
    mov eax, 0xd
    xor ecx, ecx
    cpuid
    CHECK ebx, 0x340, "leaf 0xd ebx with xcr0=7"
    xor ecx, ecx
    xgetbv
    CHECK eax, 7, "xgetbv"
.no_avx:
    STEP "leaf 0xd sizes"

    ; EFER: set SCE and NXE, read back, restore
    mov ecx, 0xc0000080
    rdmsr
    mov [saved], eax
    or eax, 0x801
    wrmsr
    xor eax, eax
    rdmsr
    and eax, 0x801
    CHECK eax, 0x801, "EFER after wrmsr"
    mov eax, [saved]
    wrmsr
    rdmsr
    CHECK eax, [saved], "EFER restored"
    ; STAR
    mov ecx, 0xc0000081
    mov edx, 0x00230010
    mov eax, 0x12345678
    wrmsr
    xor eax, eax
    xor edx, edx
    rdmsr
    CHECK eax, 0x12345678, "STAR low"
    CHECK edx, 0x00230010, "STAR high"
    ; PAT: the reset value, then a new one
    mov ecx, 0x277
    rdmsr
    CHECK eax, 0x00070406, "PAT reset low"
    CHECK edx, 0x00070406, "PAT reset high"
    mov eax, 0x01050006
    mov edx, 0x07040100
    wrmsr
    xor eax, eax
    xor edx, edx
    rdmsr
    CHECK eax, 0x01050006, "PAT low"
    CHECK edx, 0x07040100, "PAT high"
    ; a PAT with a reserved memory type (2) is refused
    EXPECT 13, .pat_gp
    mov eax, 0x02
    xor edx, edx
    wrmsr
    NOFAULT "PAT type 2"
.pat_gp:
    CHECK [fault_err], 0, "PAT #GP error code"
    STEP "msr round trips"

    ; IA32_APIC_BASE: the default base, enabled, this is the BSP
    mov ecx, 0x1b
    rdmsr
    and eax, 0xfffff900
    CHECK eax, 0xfee00900, "IA32_APIC_BASE"
    STEP "apic base msr"

    ; an MSR that does not exist: #GP(0) on both RDMSR and WRMSR
    EXPECT 13, .rd_gp
    mov ecx, 0x4d4d4d4d
.rd_insn:
    rdmsr
    NOFAULT "rdmsr 0x4d4d4d4d"
.rd_gp:
    CHECK [fault_err], 0, "rdmsr #GP error code"
    CHECK [fault_eip], .rd_insn, "rdmsr #GP eip"
    EXPECT 13, .wr_gp
    mov ecx, 0x4d4d4d4d
    wrmsr
    NOFAULT "wrmsr 0x4d4d4d4d"
.wr_gp:
    CHECK [fault_err], 0, "wrmsr #GP error code"
    STEP "unknown msr gp"

    ; the TSC counts up, and IA32_TIME_STAMP_COUNTER (0x10) reads it too
    rdtsc
    mov [tsc1], eax
    mov [tsc1 + 4], edx
    mov ecx, 100
.spin:
    loop .spin
    rdtsc
    sub eax, [tsc1]
    sbb edx, [tsc1 + 4]
    jc .tsc_back
    or eax, edx
    jnz .tsc_ok
.tsc_back:
    PRINT "rdtsc did not increase"
    FAIL
.tsc_ok:
    mov ecx, 0x10
    rdmsr
    sub eax, [tsc1]
    sbb edx, [tsc1 + 4]
    jc .tsc_back
    STEP "rdtsc increases"

    ; RDTSCP: ECX = IA32_TSC_AUX
    test dword [ext_edx], 1 << 27
    jnz .rdtscp_ok
    PRINT "no RDTSCP"
    FAIL
.rdtscp_ok:
    mov ecx, 0xc0000103
    mov eax, 0xabcd1234
    xor edx, edx
    wrmsr
    xor ecx, ecx
    rdtscp
    sub eax, [tsc1]
    sbb edx, [tsc1 + 4]
    jc .tsc_back
    CHECK ecx, 0xabcd1234, "rdtscp ecx"
    STEP "rdtscp tsc_aux"
    PRINT "PASS"
    NEWLINE
    PASS

align 4
max_leaf:  dd 0
vendor:    times 13 db 0
align 4
feat_eax:  dd 0
feat_ecx:  dd 0
feat_edx:  dd 0
ext_edx:   dd 0
xcr0_mask: dd 0
xsize_max: dd 0
saved:     dd 0
tsc1:      dq 0
image_end:
