/* The JIT's system instructions (jit/jit_gen_sys.c) against the
 * interpreter: CLI/STI at CPL 0 and at CPL 3 with IOPL 0 (#GP) and 3,
 * STI's interrupt shadow with an interrupt waiting (taken after the
 * instruction that follows STI, whether that one is in the block, a jump
 * or a second STI), SWAPGS twice (and #GP at CPL 3, #UD in 32-bit code),
 * RD/WRFSBASE and RD/WRGSBASE (#UD without CR4.FSGSBASE, #GP for a
 * non-canonical base),
 * RDTSC/RDTSCP (EDX:EAX split, CR4.TSD at CPL 3), CPUID leaves and MOV
 * from CR0/CR2/CR3/CR4/CR8, with guest registers the block keeps cached
 * around them. Each also checks that the JIT ran them natively (no
 * interpreter fallback). */
#include "tests/unit/jit_diff.h"
#include "tests/unit/jit_intr.h"
#include "vm/vcpu_link.h"

extern unsigned long jit_stats_fallback[I_COUNT + 1][2];

#define HANDLER (CODE + 0x800)
#define TSS 0x22000
#define RSP0 0x280000

static unsigned long fallbacks(void)
{
    unsigned long n = 0;
    for (unsigned i = 0; i <= I_COUNT; i++)
        n += jit_stats_fallback[i][0];
    return n;
}

/* run both, compare, and check the JIT's fallbacks: at most `allowed`
 * (the HLT that ends the program, and the instructions that stay
 * fallbacks) */
static void run_native(const char *what, unsigned long allowed)
{
    unsigned long before = fallbacks();
    run_both(what);
    unsigned long n = fallbacks() - before;
    if (n > allowed)
        fail_msg("%s: %lu fallbacks, expected at most %lu", what, n, allowed);
}

/* apply f to the state of both machines */
static void edit_both(void (*f)(struct x86_state *s, uint64_t arg),
                      uint64_t arg)
{
    struct vm *vms[2] = { &vi, &vj };
    struct x86_state *s = malloc(sizeof(*s));
    for (int k = 0; k < 2; k++) {
        cpu_get_state(vms[k]->cpu, s);
        f(s, arg);
        cpu_set_state(vms[k]->cpu, s);
        interp_mode_changed(vms[k]->cpu);
    }
    free(s);
}

/* CPL 3 in 64-bit mode: user code and data segments, a TSS whose RSP0
 * takes the exception frames, rflags = arg */
static void to_user(struct x86_state *s, uint64_t rflags)
{
    for (int i = 0; i < 6; i++) {
        s->seg[i].selector = i == S_CS ? 0x1b : 0x23;
        s->seg[i].attr = i == S_CS ? 0xa0fb : 0xc0f3;
    }
    s->tr.selector = 0x28;
    s->tr.base = TSS;
    s->tr.limit = 0x67;
    s->tr.attr = 0x8b;
    s->rflags = rflags;
}

static void set_cr4_bits(struct x86_state *s, uint64_t bits)
{
    s->cr4 |= bits;
}

static void set_tsc(struct x86_state *s, uint64_t tsc)
{
    s->tsc = tsc;
    s->tsc_aux = 0x89abcdef;
}

static void set_gs_cr2(struct x86_state *s, uint64_t base)
{
    s->seg[S_GS].base = base;
    s->kernel_gs_base = DATA + 0x100;
    s->cr2 = 0x123456789abcdef0ull;
}

/* a program with exceptions ending in a HLT at HANDLER */
static void load_prog(enum mode mode, const uint8_t *code, size_t len,
                      const uint64_t *g)
{
    load_both(mode, code, len, g);
    idt_all_to(mode, HANDLER);
    uint64_t rsp0 = RSP0;
    for (int k = 0; k < 2; k++)
        memcpy((k ? &vj : &vi)->ram + TSS + 4, &rsp0, 8);
}

static const uint64_t regs[16] = {
    0xfedcba9876543210ull, 0x1111111111111111ull, 0x2222222222222222ull,
    0x3333333333333333ull, 0, 0x5555555555555555ull, DATA,
    0x7777777777777777ull, 8, 9, 10, 11, 12, 13, 14, 15,
};

/* --- CLI/STI --- */

/*
 * bits 64
 *     add rbx, rcx        ; registers cached across the system instructions
 *     cli
 *     pushfq
 *     pop rax
 *     add rbx, rax
 *     sti
 *     pushfq
 *     pop rdx
 *     sti                 ; IF set already
 *     add rbx, rdx
 *     cli
 *     sti                 ; the shadow instruction is a jump
 *     jmp .l
 * .l: cli
 *     sti
 *     hlt
 */
static const uint8_t prog_cli_sti[] = {
    0x48, 0x01, 0xcb, 0xfa, 0x9c, 0x58, 0x48, 0x01, 0xc3, 0xfb, 0x9c, 0x5a,
    0xfb, 0x48, 0x01, 0xd3, 0xfa, 0xfb, 0xeb, 0x00, 0xfa, 0xfb, 0xf4,
};

static void test_cli_sti(void **state)
{
    load_prog(M64, prog_cli_sti, sizeof(prog_cli_sti), regs);
    run_native("CLI/STI 64", 1);
    assert_int_equal(vj.cpu->s.gpr[R_AX] & FL_IF, 0);
    assert_int_equal(vj.cpu->s.gpr[R_DX] & FL_IF, FL_IF);
    assert_int_equal(vj.cpu->s.rflags & FL_IF, FL_IF);
    /* the same bytes as 32-bit code (REX.W as DEC eax) */
    load_prog(M32, prog_cli_sti, sizeof(prog_cli_sti), regs);
    run_native("CLI/STI 32", 1);
    assert_int_equal(vj.cpu->s.rflags & FL_IF, FL_IF);
}

/*
 * bits 64  (CPL 3)
 *     add rbx, rcx
 *     sti
 *     add rbx, rcx
 *     cli
 *     add rbx, rcx
 *     hlt                 ; #GP at CPL 3 as well
 */
static const uint8_t prog_user_cli[] = {
    0x48, 0x01, 0xcb, 0xfb, 0x48, 0x01, 0xcb, 0xfa, 0x48, 0x01, 0xcb, 0xf4,
};

static void test_cli_sti_user(void **state)
{
    /* IOPL 3: allowed, then the HLT faults */
    load_prog(M64, prog_user_cli, sizeof(prog_user_cli), regs);
    edit_both(to_user, 0x3202);
    assert_int_equal(vj.cpu->cpl, 3);
    run_native("CLI/STI at IOPL 3", 2);
    assert_int_equal(vj.cpu->s.rip, HANDLER + 1);
    assert_int_equal(vj.cpu->s.gpr[R_BX], regs[R_BX] + 3 * regs[R_CX]);
    /* IOPL 0: STI faults, IF clear */
    load_prog(M64, prog_user_cli, sizeof(prog_user_cli), regs);
    edit_both(to_user, 0x0002);
    run_native("STI at IOPL 0", 1);
    assert_int_equal(vj.cpu->s.gpr[R_BX], regs[R_BX] + regs[R_CX]);
    /* IOPL 0, IF set: CLI faults after the STI did nothing */
    load_prog(M64, prog_user_cli, sizeof(prog_user_cli), regs);
    edit_both(to_user, 0x0202);
    run_native("CLI at IOPL 0", 1);
    assert_int_equal(vj.cpu->s.gpr[R_BX], regs[R_BX] + regs[R_CX]);
}

/* --- STI's interrupt shadow --- */

/* run code on both machines with the interrupt source; the handler
 * records RBX in R8 and the RIP the interrupt came at in R9, which must
 * be want_rip */
static void run_intr(const char *what, const uint8_t *code, size_t len,
                     uint64_t want_rip)
{
    static const uint8_t handler[] = {
        0x49, 0x89, 0xd8,          /* mov r8, rbx */
        0x4c, 0x8b, 0x0c, 0x24,    /* mov r9, [rsp] */
        0x48, 0xcf,                /* iretq */
    };
    struct vm *vms[2] = { &vi, &vj };
    load_prog(M64, code, len, regs);
    for (int k = 0; k < 2; k++) {
        struct vm *vm = vms[k];
        memcpy(vm->ram + CODE + 0x900, handler, sizeof(handler));
        idt_gate64(vm, 0x40, CODE + 0x900);
    }
    for (int k = 0; k < 2; k++) {
        struct vm *vm = vms[k];
        intr_source_attach(vm);
        vm_run(vm);
        assert_int_equal(intr_count, 1);
        intr_source_detach(vm);
    }
    compare(what);
    assert_int_equal(vi.cpu->s.gpr[R_R9], want_rip);
}

/*
 * bits 64
 *     cli
 *     out 0x80, al        ; the interrupt waits for IF
 *     mov ebx, 1
 *     sti
 *     add rbx, 2          ; runs in STI's shadow
 *     add rbx, 4          ; the interrupt comes before this one
 *     add rbx, 8
 *     hlt
 */
static const uint8_t prog_shadow[] = {
    0xfa, 0xe6, 0x80, 0xbb, 0x01, 0x00, 0x00, 0x00, 0xfb, 0x48, 0x83, 0xc3,
    0x02, 0x48, 0x83, 0xc3, 0x04, 0x48, 0x83, 0xc3, 0x08, 0xf4,
};

/* the same with a jump in the shadow: sti / jmp .l / .l: add rbx, 4 ... */
static const uint8_t prog_shadow_jmp[] = {
    0xfa, 0xe6, 0x80, 0xbb, 0x01, 0x00, 0x00, 0x00, 0xfb, 0xeb, 0x00, 0x48,
    0x83, 0xc3, 0x04, 0x48, 0x83, 0xc3, 0x08, 0xf4,
};

/* sti / sti / add rbx, 2 ...: the second STI is the shadow instruction */
static const uint8_t prog_shadow_sti[] = {
    0xfa, 0xe6, 0x80, 0xbb, 0x01, 0x00, 0x00, 0x00, 0xfb, 0xfb, 0x48, 0x83,
    0xc3, 0x02, 0x48, 0x83, 0xc3, 0x04, 0xf4,
};

/* sti / cpuid / add rbx, 2: a helper call in the shadow */
static const uint8_t prog_shadow_cpuid[] = {
    0xfa, 0xe6, 0x80, 0xbb, 0x01, 0x00, 0x00, 0x00, 0xfb, 0x0f, 0xa2, 0x48,
    0x83, 0xc3, 0x02, 0xf4,
};

static void test_sti_shadow(void **state)
{
    run_intr("STI shadow", prog_shadow, sizeof(prog_shadow), CODE + 13);
    assert_int_equal(vj.cpu->s.gpr[R_R8], 3);
    assert_int_equal(vj.cpu->s.gpr[R_BX], 15);
    run_intr("STI then JMP", prog_shadow_jmp, sizeof(prog_shadow_jmp),
             CODE + 11);
    assert_int_equal(vj.cpu->s.gpr[R_R8], 1);
    run_intr("STI STI", prog_shadow_sti, sizeof(prog_shadow_sti), CODE + 10);
    run_intr("STI CPUID", prog_shadow_cpuid, sizeof(prog_shadow_cpuid),
             CODE + 11);
}

/* --- SWAPGS --- */

/*
 * bits 64
 *     add rbx, rcx
 *     swapgs
 *     mov rax, [gs:0]
 *     add rbx, rax
 *     swapgs
 *     mov rdx, [gs:8]
 *     swapgs
 *     swapgs
 *     hlt
 */
static const uint8_t prog_swapgs[] = {
    0x48, 0x01, 0xcb, 0x0f, 0x01, 0xf8, 0x65, 0x48, 0x8b, 0x04, 0x25, 0x00,
    0x00, 0x00, 0x00, 0x48, 0x01, 0xc3, 0x0f, 0x01, 0xf8, 0x65, 0x48, 0x8b,
    0x14, 0x25, 0x08, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xf8, 0x0f, 0x01, 0xf8,
    0xf4,
};

static void test_swapgs(void **state)
{
    uint64_t at100, at208;
    load_prog(M64, prog_swapgs, sizeof(prog_swapgs), regs);
    edit_both(set_gs_cr2, DATA + 0x200);
    run_native("SWAPGS", 1);
    memcpy(&at100, vi.ram + DATA + 0x100, 8);
    memcpy(&at208, vi.ram + DATA + 0x208, 8);
    assert_int_equal(vj.cpu->s.gpr[R_AX], at100);
    assert_int_equal(vj.cpu->s.gpr[R_DX], at208);
    assert_int_equal(vj.cpu->s.seg[S_GS].base, DATA + 0x200);
    assert_int_equal(vj.cpu->s.kernel_gs_base, DATA + 0x100);
    /* CPL 3: #GP before anything changes */
    load_prog(M64, prog_swapgs, sizeof(prog_swapgs), regs);
    edit_both(set_gs_cr2, DATA + 0x200);
    edit_both(to_user, 0x0202);
    run_native("SWAPGS at CPL 3", 2);
    assert_int_equal(vj.cpu->s.rip, HANDLER + 1);
    assert_int_equal(vj.cpu->s.seg[S_GS].base, DATA + 0x200);
    /* not an instruction in 32-bit code: #UD */
    load_prog(M32, prog_swapgs + 3, sizeof(prog_swapgs) - 3, regs);
    run_both("SWAPGS in 32-bit code");
    assert_int_equal(vj.cpu->s.rip, HANDLER + 1);
}

/*
 * bits 64
 *     add rbx, rcx
 *     mov rax, 0x201000
 *     wrfsbase rax
 *     rdfsbase rdx
 *     add rbx, rdx
 *     rdgsbase r9d
 *     wrfsbase edi
 *     rdfsbase r10
 *     wrgsbase rbp        ; not canonical: #GP
 *     hlt
 */
static const uint8_t prog_fsgsbase[] = {
    0x48, 0x01, 0xcb, 0x48, 0xc7, 0xc0, 0x00, 0x10, 0x20, 0x00, 0xf3, 0x48,
    0x0f, 0xae, 0xd0, 0xf3, 0x48, 0x0f, 0xae, 0xc2, 0x48, 0x01, 0xd3, 0xf3,
    0x41, 0x0f, 0xae, 0xc9, 0xf3, 0x0f, 0xae, 0xd7, 0xf3, 0x49, 0x0f, 0xae,
    0xc2, 0xf3, 0x48, 0x0f, 0xae, 0xdd, 0xf4,
};

static void test_fsgsbase(void **state)
{
    load_prog(M64, prog_fsgsbase, sizeof(prog_fsgsbase), regs);
    edit_both(set_gs_cr2, DATA + 0x200);
    edit_both(set_cr4_bits, CR4_FSGSBASE);
    run_native("RD/WRFSBASE, RD/WRGSBASE", 1);
    assert_int_equal(vj.cpu->s.rip, HANDLER + 1);
    assert_int_equal(vj.cpu->s.gpr[R_DX], 0x201000);
    assert_int_equal(vj.cpu->s.gpr[R_R9], DATA + 0x200);
    assert_int_equal(vj.cpu->s.gpr[R_R10], 0x77777777);
    assert_int_equal(vj.cpu->s.seg[S_FS].base, vi.cpu->s.seg[S_FS].base);
    assert_int_equal(vj.cpu->s.seg[S_FS].base, 0x77777777);
    assert_int_equal(vj.cpu->s.seg[S_GS].base, DATA + 0x200);
    /* without CR4.FSGSBASE: #UD */
    load_prog(M64, prog_fsgsbase, sizeof(prog_fsgsbase), regs);
    run_native("WRFSBASE without CR4.FSGSBASE", 1);
    assert_int_equal(vj.cpu->s.rip, HANDLER + 1);
    assert_int_equal(vj.cpu->s.gpr[R_AX], 0x201000);
    assert_int_equal(vj.cpu->s.seg[S_FS].base, 0);
}

/* --- RDTSC, RDTSCP, CPUID, MOV from CRn --- */

/*
 * bits 64
 *     add rbx, rcx
 *     rdtsc
 *     add rbx, rax
 *     mov r8, rax
 *     mov r9, rdx
 *     rdtscp
 *     add rbx, rdx
 *     mov r10, rcx
 *     hlt
 */
static const uint8_t prog_rdtsc[] = {
    0x48, 0x01, 0xcb, 0x0f, 0x31, 0x48, 0x01, 0xc3, 0x49, 0x89, 0xc0, 0x49,
    0x89, 0xd1, 0x0f, 0x01, 0xf9, 0x48, 0x01, 0xd3, 0x49, 0x89, 0xca, 0xf4,
};

static void test_rdtsc(void **state)
{
    const uint64_t tsc = 0x0123456789abcdefull;
    load_prog(M64, prog_rdtsc, sizeof(prog_rdtsc), regs);
    edit_both(set_tsc, tsc);
    run_native("RDTSC", 1);
    /* EDX:EAX, the upper halves cleared; later reads are no earlier */
    uint64_t first = vj.cpu->s.gpr[R_R9] << 32 | vj.cpu->s.gpr[R_R8];
    uint64_t second = vj.cpu->s.gpr[R_DX] << 32 | vj.cpu->s.gpr[R_AX];
    assert_true(vj.cpu->s.gpr[R_R8] <= 0xffffffffu);
    assert_true(first >= tsc && first - tsc < 1000000);
    assert_true(second >= first);
    assert_int_equal(vj.cpu->s.gpr[R_R10], 0x89abcdef);
    /* CPL 3: allowed, then #GP with CR4.TSD */
    load_prog(M64, prog_rdtsc, sizeof(prog_rdtsc), regs);
    edit_both(set_tsc, tsc);
    edit_both(to_user, 0x0202);
    run_native("RDTSC at CPL 3", 2);
    assert_int_equal(vj.cpu->s.gpr[R_R10], 0x89abcdef);
    load_prog(M64, prog_rdtsc, sizeof(prog_rdtsc), regs);
    edit_both(set_cr4_bits, CR4_TSD);
    edit_both(to_user, 0x0202);
    run_native("RDTSC at CPL 3 with CR4.TSD", 1);
    assert_int_equal(vj.cpu->s.rip, HANDLER + 1);
    assert_int_equal(vj.cpu->s.gpr[R_R8], regs[R_R8]);
    /* 32-bit code */
    load_prog(M32, prog_rdtsc, sizeof(prog_rdtsc), regs);
    edit_both(set_tsc, tsc);
    run_both("RDTSC 32");
}

/*
 * bits 64
 *     add rbx, rcx
 *     mov eax, 0 / cpuid / mov r8, rax / mov r9, rbx
 *     mov eax, 1 / cpuid / mov r10, rcx / mov r11, rdx
 *     mov eax, 7 / xor ecx, ecx / cpuid / add rbx, r9
 *     mov eax, 0x80000001 / cpuid / add rdx, r10
 *     hlt
 */
static const uint8_t prog_cpuid[] = {
    0x48, 0x01, 0xcb, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0x49, 0x89,
    0xc0, 0x49, 0x89, 0xd9, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0x49,
    0x89, 0xca, 0x49, 0x89, 0xd3, 0xb8, 0x07, 0x00, 0x00, 0x00, 0x31, 0xc9,
    0x0f, 0xa2, 0x4c, 0x01, 0xcb, 0xb8, 0x01, 0x00, 0x00, 0x80, 0x0f, 0xa2,
    0x4c, 0x01, 0xd2, 0xf4,
};

static void test_cpuid(void **state)
{
    load_prog(M64, prog_cpuid, sizeof(prog_cpuid), regs);
    run_native("CPUID", 1);
    assert_true(vj.cpu->s.gpr[R_R8] >= 7);   /* the highest leaf */
    assert_int_equal(vj.cpu->s.gpr[R_R9], 0x756e6547);   /* "Genu" */
}

/*
 * bits 64
 *     add rbx, rcx
 *     mov rax, cr0
 *     mov rcx, cr2
 *     add rbx, rcx
 *     mov rdx, cr3
 *     mov r9, cr4
 *     mov r10, cr8        ; a fallback
 *     hlt
 */
static const uint8_t prog_movcr[] = {
    0x48, 0x01, 0xcb, 0x0f, 0x20, 0xc0, 0x0f, 0x20, 0xd1, 0x48, 0x01, 0xcb,
    0x0f, 0x20, 0xda, 0x41, 0x0f, 0x20, 0xe1, 0x45, 0x0f, 0x20, 0xc2, 0xf4,
};

static void test_movcr(void **state)
{
    load_prog(M64, prog_movcr, sizeof(prog_movcr), regs);
    edit_both(set_gs_cr2, 0);   /* and CR2 */
    run_native("MOV from CRn", 2);
    assert_int_equal(vj.cpu->s.gpr[R_AX], vj.cpu->s.cr0);
    assert_int_equal(vj.cpu->s.gpr[R_CX], 0x123456789abcdef0ull);
    assert_int_equal(vj.cpu->s.gpr[R_DX], PML4);
    assert_int_equal(vj.cpu->s.gpr[R_R9], vj.cpu->s.cr4);
    /* 32-bit code, up to the CR3 read: the low halves */
    load_prog(M32, prog_movcr, 15, regs);
    edit_both(set_gs_cr2, 0);
    run_both("MOV from CRn 32");
    assert_int_equal(vj.cpu->s.gpr[R_CX], 0x9abcdef0);
    /* CPL 3: #GP */
    load_prog(M64, prog_movcr, sizeof(prog_movcr), regs);
    edit_both(to_user, 0x0202);
    run_both("MOV from CR0 at CPL 3");
    assert_int_equal(vj.cpu->s.rip, HANDLER + 1);
    assert_int_equal(vj.cpu->s.gpr[R_AX], regs[R_AX]);
}

int main(void)
{
    jit_stats_on = true;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_sti),
        cmocka_unit_test(test_cli_sti_user),
        cmocka_unit_test(test_sti_shadow),
        cmocka_unit_test(test_swapgs),
        cmocka_unit_test(test_fsgsbase),
        cmocka_unit_test(test_rdtsc),
        cmocka_unit_test(test_cpuid),
        cmocka_unit_test(test_movcr),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
