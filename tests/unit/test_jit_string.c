/* The JIT's string instructions against the interpreter (tests/unit/
 * jit_diff.h): random sequences of MOVS, STOS, LODS, CMPS and SCAS of
 * every size, with and without REP (REPE/REPNE CMPS/SCAS too), either
 * direction, 16-, 32- and 64-bit address sizes, a segment override on the
 * source, counts from 0 up, and flag consumers after them, in 64-bit and
 * 32-bit mode. Then targeted cases: REP STOS and REP MOVS running into an
 * unmapped page (the #PF leaves RCX/RSI/RDI at the faulting element), a
 * REP longer than one run of the interpreter's budget in both directions
 * with overlap, the 16-bit address wrap, string stores over code the
 * JIT has translated, and an interrupt taken between two runs of a REP
 * (RIP at the REP, RCX/RSI/RDI where the run ended). */
#include "jit/emit_x86.h"
#include "tests/unit/jit_diff.h"
#include "vm/vcpu_link.h"

#define HANDLER (CODE + 0xf000)   /* HLT (load_both fills with it) */

static void bytes(struct emit *e, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        emit_byte(e, (uint8_t)s[i]);
}

static void random_string_insn(struct emit *e, enum mode mode)
{
    static const uint8_t ops[] = { 0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xad,
                                   0xa6, 0xa7, 0xae, 0xaf };
    uint8_t op = ops[pick(10)];
    bool rep = pick(3) == 0;
    /* the destination near the source */
    if (mode == M64)
        emit_byte(e, 0x48);
    bytes(e, "\x8d\x7e", 2);
    emit_byte(e, (uint8_t)(int8_t)(pick(200) - 100));   /* lea rdi, [rsi+d] */
    if (rep || pick(4) == 0) {
        emit_byte(e, 0xb9);                              /* mov ecx, n */
        uint32_t n = pick(4) == 0 ? 0 : pick(40);
        for (int i = 0; i < 4; i++)
            emit_byte(e, (uint8_t)(n >> (8 * i)));
    }
    if (pick(3) == 0)
        emit_byte(e, pick(2) ? 0xfd : 0xfc);             /* STD / CLD */
    if (pick(4) == 0)
        emit_byte(e, 0x67);                              /* address size */
    if (pick(5) == 0)
        emit_byte(e, mode == M64 ? 0x64 : 0x3e);         /* FS: / DS: */
    if (rep)
        emit_byte(e, pick(4) ? 0xf3 : 0xf2);
    if ((op & 1) && pick(3) == 0)
        emit_byte(e, 0x66);
    if ((op & 1) && mode == M64 && pick(2))
        emit_byte(e, 0x48);
    emit_byte(e, op);
    switch (pick(4)) {   /* a flag consumer */
    case 0: bytes(e, "\x0f\x94\xc3", 3); break;          /* setz bl */
    case 1: bytes(e, "\x11\xdd", 2); break;              /* adc ebp, ebx */
    case 2: bytes(e, "\x72\x02\x31\xed", 4); break;      /* jb +2; xor */
    default: break;
    }
}

static void string_gprs(uint64_t *g)
{
    for (int r = 0; r < 16; r++)
        g[r] = rnd() & (pick(2) ? 0xffffffffffffffffull : 0xff);
}

static void test_random(enum mode mode, unsigned programs)
{
    uint8_t code[4096];
    uint64_t g[16];
    for (unsigned p = 0; p < programs; p++) {
        struct emit e;
        emit_init(&e, code, 4000);
        emit_mov_ri(&e, 4, HR_RSI, DATA + 0x800);
        for (unsigned i = 0; i < 30; i++)
            random_string_insn(&e, mode);
        emit_byte(&e, 0xf4);
        assert_false(e.overflow);
        string_gprs(g);
        load_both(mode, code, e.pos, g);
        idt_all_to(mode, HANDLER);
        char what[64];
        snprintf(what, sizeof(what), "string program %u (mode %d)", p, mode);
        run_both(what);
        if (vj.cpu->s.rip != CODE + e.pos)
            fail_msg("%s: stopped at %llx", what,
                     (unsigned long long)vj.cpu->s.rip);
    }
}

static void test_random64(void **state)
{
    test_random(M64, 300);
}

static void test_random32(void **state)
{
    test_random(M32, 300);
}

/* --- targeted cases --- */

static void load_with(enum mode mode, const uint8_t *code, size_t len,
                      const uint64_t *g)
{
    load_both(mode, code, len, g);
    idt_all_to(mode, HANDLER);
}

/* 6-8 MiB unmapped in the 64-bit page tables */
static void unmap_high(void)
{
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        put64(vms[k], PML4 + 0x2000 + 8 * 3, 0);
        mmu_flush(vms[k]->cpu, true);
    }
}

/* rep stosq / rep stosd / rep movsb / std; rep movsd / a16 rep stosb */
static const uint8_t prog_rep_stosq[] = { 0xf3, 0x48, 0xab, 0xf4 };
static const uint8_t prog_rep_stosd[] = { 0xf3, 0xab, 0xf4 };
static const uint8_t prog_rep_movsb[] = { 0xf3, 0xa4, 0xf4 };
static const uint8_t prog_std_rep_movsd[] = { 0xfd, 0xf3, 0xa5, 0xf4 };
static const uint8_t prog_rep_stosb_a16[] = { 0x67, 0xf3, 0xaa, 0xf4 };

static void test_fault_midway(void **state)
{
    uint64_t g[16] = { 0 };
    g[R_DI] = 0x5fffc0;
    g[R_CX] = 0x100;
    g[R_AX] = 0x1122334455667788ull;
    load_with(M64, prog_rep_stosq, sizeof(prog_rep_stosq), g);
    unmap_high();
    run_both("rep stosq into an unmapped page");
    assert_int_equal(vj.cpu->s.rip, HANDLER + 1);
    assert_int_equal(vj.cpu->s.cr2, 0x600000);
    assert_int_equal(vj.cpu->s.gpr[R_CX], 0x100 - 8);
    assert_int_equal(vj.cpu->s.gpr[R_DI], 0x600000);

    /* the source runs out first: RSI/RDI/RCX at the faulting element */
    memset(g, 0, sizeof(g));
    g[R_SI] = 0x5ff001;
    g[R_DI] = 0x300000;
    g[R_CX] = 0x3000;
    load_with(M64, prog_rep_movsb, sizeof(prog_rep_movsb), g);
    unmap_high();
    run_both("rep movsb from an unmapped page");
    assert_int_equal(vj.cpu->s.gpr[R_CX], 0x3000 - 0xfff);
    assert_int_equal(vj.cpu->s.gpr[R_SI], 0x600000);
    assert_int_equal(vj.cpu->s.gpr[R_DI], 0x300fff);
}

static void test_count_zero(void **state)
{
    uint64_t g[16] = { 0 };
    g[R_DI] = DATA;
    g[R_SI] = DATA + 0x100;
    g[R_AX] = 0x55;
    for (int m = 0; m < 2; m++) {
        load_with(m ? M32 : M64, prog_rep_stosd, sizeof(prog_rep_stosd), g);
        run_both("rep with rcx = 0");
        assert_int_equal(vj.cpu->s.gpr[R_DI], DATA);
        load_with(m ? M32 : M64, prog_rep_movsb, sizeof(prog_rep_movsb), g);
        run_both("rep movsb with rcx = 0");
        assert_int_equal(vj.cpu->s.gpr[R_SI], DATA + 0x100);
    }
}

static void test_long_runs(void **state)
{
    uint64_t g[16] = { 0 };
    /* 640 KiB upwards: several budgets of the run loop */
    g[R_DI] = 0x400003;
    g[R_CX] = 0xa0000 / 8;
    g[R_AX] = 0xfeedfacecafebeefull;
    load_with(M64, prog_rep_stosq, sizeof(prog_rep_stosq), g);
    run_both("long rep stosq");
    assert_int_equal(vj.cpu->s.gpr[R_CX], 0);
    /* overlapping copy downwards (pattern fill) over 3 pages */
    for (int m = 0; m < 2; m++) {
        memset(g, 0, sizeof(g));
        g[R_SI] = DATA + 0x3000;
        g[R_DI] = DATA + 0x3002;
        g[R_CX] = 0xc00;
        load_with(m ? M32 : M64, prog_std_rep_movsd,
                  sizeof(prog_std_rep_movsd), g);
        for (int k = 0; k < 2; k++)
            for (unsigned i = 0; i < 0x4000; i++)
                (k ? vj.ram : vi.ram)[DATA + i] = (uint8_t)(i * 7);
        run_both("overlapping rep movsd, DF = 1");
        assert_int_equal(vj.cpu->s.gpr[R_CX], 0);
        assert_int_equal(vj.cpu->s.gpr[R_DI], DATA + 0x3002 - 0x3000);
        /* downwards with the destination above: a memmove */
        for (unsigned j = 0; j < 0x3000; j++)
            if (vj.ram[DATA + 6 + j] != (uint8_t)((4 + j) * 7))
                fail_msg("movsd DF=1: byte %x", j);
        /* forward, overlapping the other way */
        memset(g, 0, sizeof(g));
        g[R_SI] = DATA;
        g[R_DI] = DATA + 3;
        g[R_CX] = 0x2345;
        load_with(m ? M32 : M64, prog_rep_movsb, sizeof(prog_rep_movsb), g);
        run_both("overlapping rep movsb");
        assert_int_equal(vj.ram[DATA + 0x2000], vj.ram[DATA + 0x2003]);
    }
}

/* a 16-bit address size in 32-bit code: DI wraps at 64 KiB */
static void test_wrap16(void **state)
{
    uint64_t g[16] = { 0 };
    g[R_DI] = 0x1234fff0;
    g[R_CX] = 0xffff0020;
    g[R_AX] = 0x99;
    load_with(M32, prog_rep_stosb_a16, sizeof(prog_rep_stosb_a16), g);
    run_both("rep stosb a16");
    assert_int_equal(vj.cpu->s.gpr[R_DI], 0x12340010);
    assert_int_equal(vj.cpu->s.gpr[R_CX], 0xffff0000);
    assert_int_equal(vj.ram[0xfff0], 0x99);
    assert_int_equal(vj.ram[0x000f], 0x99);
}

/*
 * bits 64                 ; string stores over translated code
 *     call f ; call g     ; both translated
 *     mov edi, f ; mov eax, 0x90909090 ; mov ecx, 5 ; rep stosb
 *     xor eax, eax
 *     call f              ; now NOPs: eax stays 0
 *     mov ebx, eax
 *     mov edi, g ; mov al, 0x90 ; xor ecx, ecx ; stosb x5
 *     call g              ; NOPs: ecx stays 0
 *     hlt
 * f (+0x40): mov eax, 1 ; ret
 * g (+0x50): mov ecx, 7 ; ret
 */
static const uint8_t prog_smc[] = {
    0xe8, 0x3b, 0x00, 0x00, 0x00,                   /* call f */
    0xe8, 0x46, 0x00, 0x00, 0x00,                   /* call g */
    0xbf, 0x40, 0x00, 0x10, 0x00,                   /* mov edi, f */
    0xb8, 0x90, 0x90, 0x90, 0x90,                   /* mov eax, ... */
    0xb9, 0x05, 0x00, 0x00, 0x00,                   /* mov ecx, 5 */
    0xf3, 0xaa,                                     /* rep stosb */
    0x31, 0xc0,                                     /* xor eax, eax */
    0xe8, 0x1e, 0x00, 0x00, 0x00,                   /* call f */
    0x89, 0xc3,                                     /* mov ebx, eax */
    0xbf, 0x50, 0x00, 0x10, 0x00,                   /* mov edi, g */
    0xb0, 0x90,                                     /* mov al, 0x90 */
    0x31, 0xc9,                                     /* xor ecx, ecx */
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa,                   /* stosb x5 */
    0xe8, 0x19, 0x00, 0x00, 0x00,                   /* call g */
    0xf4,
};

static void test_smc(void **state)
{
    uint8_t code[0x60];
    memset(code, 0xf4, sizeof(code));
    memcpy(code, prog_smc, sizeof(prog_smc));
    memcpy(code + 0x40, "\xb8\x01\x00\x00\x00\xc3", 6);
    memcpy(code + 0x50, "\xb9\x07\x00\x00\x00\xc3", 6);
    uint64_t g[16] = { 0 };
    load_with(M64, code, sizeof(code), g);
    run_both("string stores over code");
    assert_int_equal(vj.cpu->s.gpr[R_BX], 0);
    assert_int_equal(vj.cpu->s.gpr[R_CX], 0);
}

/* --- an interrupt between the runs of a long REP --- */

static struct vcpu_link *test_link;
static int intr_count;

static int fake_ack(void *ic)
{
    vcpu_link_set_intr(test_link, false);
    intr_count++;
    return 0x40;
}

/* MMIO whose first read raises the interrupt line */
static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    if (!intr_count)
        vcpu_link_set_intr(test_link, true);
    return (off * 3) & 0xff;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
}

static const struct io_ops mmio_ops = { .read = mmio_read,
                                        .write = mmio_write };

/*
 * bits 32
 *     mov esi, 0x900000       ; MMIO: element by element
 *     mov edi, 0x280000
 *     mov ecx, 10000
 *     sti
 *     nop
 *     rep movsb               ; +17: interrupted where a run ends
 *     hlt
 * handler (+0x800): mov ebp, ecx ; mov edx, [esp] ; iretd
 */
static const uint8_t prog_rep_intr[] = {
    0xbe, 0x00, 0x00, 0x90, 0x00, 0xbf, 0x00, 0x00, 0x28, 0x00, 0xb9, 0x10,
    0x27, 0x00, 0x00, 0xfb, 0x90, 0xf3, 0xa4, 0xf4
};

static void test_interrupted_rep(void **state)
{
    static const uint8_t handler[] = { 0x89, 0xcd, 0x8b, 0x14, 0x24, 0xcf };
    uint64_t gate = ((CODE + 0x800) & 0xffff) | (0x08ull << 16) |
                    (0x8eull << 40) | ((uint64_t)(CODE + 0x800) >> 16) << 48;
    load_with(M32, prog_rep_intr, sizeof(prog_rep_intr), NULL);
    struct vm *vms[2] = { &vi, &vj };
    struct mem_region *r[2];
    for (int k = 0; k < 2; k++) {
        struct vm *vm = vms[k];
        memcpy(vm->ram + CODE + 0x800, handler, sizeof(handler));
        put64(vm, IDT + 8 * 0x40, gate);
        r[k] = mem_map_add_mmio(vm->m.mem, "test", 0x900000, 0x10000,
                                &mmio_ops, vm, 0);
        mmu_flush(vm->cpu, true);
    }
    for (int k = 0; k < 2; k++) {
        test_link = vms[k]->cpu->link;
        test_link->ic = vms[k];
        test_link->intr_ack = fake_ack;
        intr_count = 0;
        vm_run(vms[k]);
        assert_int_equal(intr_count, 1);
        test_link->intr_ack = NULL;
    }
    compare("interrupted rep movsb");
    /* taken where the first run ended, RIP at the REP */
    assert_int_equal(vj.cpu->s.gpr[R_DX], CODE + 17);
    assert_true(vj.cpu->s.gpr[R_BP] > 0 && vj.cpu->s.gpr[R_BP] < 10000);
    assert_int_equal(vj.cpu->s.gpr[R_CX], 0);
    assert_int_equal(vj.ram[0x280000 + 9999], (9999 * 3) & 0xff);
    for (int k = 0; k < 2; k++)
        mem_map_remove(vms[k]->m.mem, r[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random64),
        cmocka_unit_test(test_random32),
        cmocka_unit_test(test_fault_midway),
        cmocka_unit_test(test_count_zero),
        cmocka_unit_test(test_long_runs),
        cmocka_unit_test(test_wrap16),
        cmocka_unit_test(test_smc),
        cmocka_unit_test(test_interrupted_rep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
