/* The JIT's read-modify-write memory instructions (one TLB probe for the
 * load and the store, jit/jit_gen_mem.c) against the interpreter: random
 * loops of [LOCK] ADD..XOR/ADC/SBB [mem], reg/imm, INC/DEC/NOT/NEG [mem],
 * XCHG/XADD/CMPXCHG [mem], the shifts and rotates by 1, imm8 and CL,
 * SHLD/SHRD and BTS/BTR/BTC of memory, in all operand sizes, mixed with
 * plain reads of the same memory (CMP, TEST, ADD reg, [mem]...), with
 * flag producers and consumers, in 64-bit and 32-bit mode (with paging),
 * on ordinary RAM, across a page boundary, on a read-only page (the write
 * faults, the read before it does not), on a page that is not present
 * (the read faults), across into either, on the page of the running
 * block, through a read-only data segment (#GP at the write) and FS. Registers, RIP, RFLAGS, CR2 and memory (the exception frame
 * included) must come out equal. Then self-modifying code through RMW
 * instructions, checked against the architecture: the block sees each
 * new immediate. */
#include "tests/unit/jit_diff.h"

#define MEM (-1)   /* the r/m operand is [rSI + disp8] */
#define HANDLER 0x10f000   /* every exception: a HLT of load_both's fill */

/* where rSI points */
enum target { T_RAM, T_CROSS, T_RO, T_NP, T_RO_CROSS, T_NP_CROSS, T_CODE,
              T_RO_SEG, T_COUNT };

/* the region paging makes read-only or not present (the rest maps RAM
 * read/write): 6-8 MiB (64-bit, 2 MiB pages), 4-8 MiB (32-bit, 4 MiB) */
static uint64_t special(enum mode mode)
{
    return mode == M64 ? 0x600000 : 0x400000;
}

struct gen {
    struct prog p;
    enum target target;
    int disp_lo, disp_n;   /* disp8 of memory operands: lo + pick(n) */
    uint8_t seg;           /* a segment prefix of memory operands, or 0 */
};

/* [66] [REX] opcode modrm [disp8] [imm of imm_len bytes] */
static void enc(struct gen *g, unsigned size, const uint8_t *op,
                unsigned oplen, unsigned reg, int rm, uint32_t imm,
                unsigned imm_len)
{
    struct prog *p = &g->p;
    if (size == 2)
        put(p, 0x66);
    if (rm == MEM && g->seg && pick(2))   /* else DS fills the TLB */
        put(p, g->seg);
    else if (rm == MEM && p->mode == M64 && pick(4) == 0)
        put(p, 0x64);   /* FS (base 0): the linear address in RSI */
    unsigned rex = (size == 8 ? 8 : 0) | (reg & 8 ? 4 : 0) |
                   (rm != MEM && (rm & 8) ? 1 : 0);
    if (rex)
        put(p, (uint8_t)(0x40 | rex));
    for (unsigned i = 0; i < oplen; i++)
        put(p, op[i]);
    if (rm == MEM) {
        put(p, (uint8_t)(0x46 | (reg & 7) << 3));
        put(p, (uint8_t)(g->disp_lo + (int)pick((unsigned)g->disp_n)));
    } else {
        put(p, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
    }
    for (unsigned i = 0; i < imm_len; i++)
        put(p, (uint8_t)(imm >> (8 * i)));
}

/* a register to write: never rSP, rBP (the loop counter) or rSI */
static int dst(const struct gen *g)
{
    static const int r64[] = { 0, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    static const int r32[] = { 0, 1, 2, 3, 7 };
    return g->p.mode == M64 ? r64[pick(13)] : r32[pick(5)];
}

static unsigned src(const struct gen *g)
{
    return pick(g->p.mode == M64 ? 16 : 8);
}

static unsigned any_size(const struct gen *g)
{
    static const unsigned s[] = { 1, 2, 4, 8 };
    return s[pick(g->p.mode == M64 ? 4 : 3)];
}

static unsigned wide_size(const struct gen *g)
{
    static const unsigned s[] = { 2, 4, 8 };
    return s[pick(g->p.mode == M64 ? 3 : 2)];
}

static uint8_t count(void)
{
    static const uint8_t c[] = { 0, 1, 2, 7, 8, 15, 16, 31, 32, 63, 64 };
    return pick(2) ? c[pick(sizeof(c))] : (uint8_t)rnd();
}

/* one in four of the forms that allow it locked */
static void maybe_lock(struct gen *g)
{
    if (pick(4) == 0)
        put(&g->p, 0xf0);
}

/* [LOCK] ADD..XOR [mem], reg or imm; CMP; reg, [mem] (a read) */
static void alu_insn(struct gen *g)
{
    unsigned size = any_size(g), alu = pick(8), form = pick(4);
    uint8_t w = size == 1 ? 0 : 1, op;
    if (form != 1 && alu != 7)
        maybe_lock(g);
    switch (form) {
    case 0:
        op = (uint8_t)(alu << 3 | w);
        enc(g, size, &op, 1, src(g), MEM, 0, 0);
        break;
    case 1:
        op = (uint8_t)(alu << 3 | 2 | w);
        enc(g, size, &op, 1, (unsigned)dst(g), MEM, 0, 0);
        break;
    case 2:
        op = size == 1 ? 0x80 : 0x83;
        enc(g, size, &op, 1, alu, MEM, (uint32_t)rnd(), 1);
        break;
    default:
        op = size == 1 ? 0x80 : 0x81;
        enc(g, size, &op, 1, alu, MEM, (uint32_t)rnd(),
            size == 1 ? 1 : size == 2 ? 2 : 4);
        break;
    }
}

/* [LOCK] INC/DEC/NOT/NEG [mem], TEST [mem], imm */
static void unary_insn(struct gen *g)
{
    unsigned size = any_size(g), form = pick(3);
    uint8_t w = size == 1 ? 0 : 1, op;
    if (form != 2)
        maybe_lock(g);
    switch (form) {
    case 0:
        op = (uint8_t)(0xfe | w);
        enc(g, size, &op, 1, pick(2), MEM, 0, 0);
        break;
    case 1:
        op = (uint8_t)(0xf6 | w);
        enc(g, size, &op, 1, 2 + pick(2), MEM, 0, 0);
        break;
    default:
        op = (uint8_t)(0xf6 | w);
        enc(g, size, &op, 1, 0, MEM, (uint32_t)rnd(),
            size == 1 ? 1 : size == 2 ? 2 : 4);
        break;
    }
}

/* ROL..SAR [mem] by 1, imm8, CL; SHLD/SHRD; BT/BTS/BTR/BTC imm */
static void bits_insn(struct gen *g)
{
    static const unsigned digits[] = { 0, 1, 2, 3, 4, 5, 7, 4, 5 };
    unsigned size = any_size(g), digit = digits[pick(9)];
    uint8_t w = size == 1 ? 0 : 1, op;
    switch (pick(6)) {
    case 0:
        op = (uint8_t)(0xd0 | w);
        enc(g, size, &op, 1, digit, MEM, 0, 0);
        break;
    case 1:
        op = (uint8_t)(0xc0 | w);
        enc(g, size, &op, 1, digit, MEM, count(), 1);
        break;
    case 2:
        put(&g->p, 0xb1);   /* MOV CL, imm8 */
        put(&g->p, count());
        op = (uint8_t)(0xd2 | w);
        enc(g, size, &op, 1, digit, MEM, 0, 0);
        break;
    case 3: {
        bool cl = pick(2);
        uint8_t o[2] = { 0x0f, (uint8_t)((pick(2) ? 0xa4 : 0xac) + cl) };
        size = wide_size(g);
        /* 16-bit counts above 15 differ between CPUs: keep them small */
        unsigned c = size == 2 ? pick(16) : count();
        if (cl) {
            put(&g->p, 0xb1);
            put(&g->p, (uint8_t)c);
        }
        enc(g, size, o, 2, src(g), MEM, c, cl ? 0 : 1);
        break;
    }
    default: {
        uint8_t o[2] = { 0x0f, 0xba };
        enc(g, wide_size(g), o, 2, 4 + pick(4), MEM, pick(256), 1);
        break;
    }
    }
}

/* [LOCK] XCHG/XADD/CMPXCHG [mem], reg */
static void xchg_insn(struct gen *g)
{
    unsigned size = any_size(g);
    uint8_t w = size == 1 ? 0 : 1;
    maybe_lock(g);
    switch (pick(3)) {
    case 0: {
        uint8_t op = (uint8_t)(0x86 | w);
        enc(g, size, &op, 1, (unsigned)dst(g), MEM, 0, 0);
        break;
    }
    case 1: {
        uint8_t o[2] = { 0x0f, (uint8_t)(0xc0 | w) };
        enc(g, size, o, 2, (unsigned)dst(g), MEM, 0, 0);
        break;
    }
    default: {
        uint8_t o[2] = { 0x0f, (uint8_t)(0xb0 | w) };
        enc(g, size, o, 2, src(g), MEM, 0, 0);
        break;
    }
    }
}

/* flag producers on registers, and consumers */
static void flags_insn(struct gen *g)
{
    static const uint8_t alu[] = { 0x01, 0x29, 0x39, 0x85, 0x21, 0x11, 0x19 };
    struct prog *p = &g->p;
    uint8_t op;
    switch (pick(6)) {
    case 0:
        op = alu[pick(sizeof(alu))];
        enc(g, wide_size(g), &op, 1, src(g), dst(g), 0, 0);
        break;
    case 1: {   /* SETcc */
        uint8_t o[2] = { 0x0f, (uint8_t)(0x90 | pick(16)) };
        enc(g, 1, o, 2, 0, (int)pick(4), 0, 0);
        break;
    }
    case 2: {   /* Jcc over the next instruction: ends the block */
        put(p, (uint8_t)(0x70 | pick(16)));
        size_t at = p->n;
        put(p, 0);
        alu_insn(g);
        p->b[at] = (uint8_t)(p->n - at - 1);
        break;
    }
    case 3:
        put_pushf_pop(p, (unsigned)dst(g));
        break;
    default:
        put(p, pick(2) ? 0xf9 : 0xf8);   /* STC, CLC */
        break;
    }
}

/* ESI = the data, EBP = 3 rounds of n instructions */
static void random_program(struct gen *g, enum mode mode, enum target tg,
                           unsigned n)
{
    struct prog *p = &g->p;
    uint64_t s = special(mode);
    static const uint64_t base[T_COUNT] = {
        [T_RAM] = DATA + 0x100, [T_CROSS] = DATA + 0x1000 - 8,
        [T_CODE] = CODE + 0x800, [T_RO_SEG] = DATA + 0x100,
    };
    uint64_t rsi = tg == T_RO || tg == T_NP ? s + 0x100
                   : tg == T_RO_CROSS || tg == T_NP_CROSS ? s - 8
                                                          : base[tg];
    bool cross = tg == T_CROSS || tg == T_RO_CROSS || tg == T_NP_CROSS;
    g->target = tg;
    g->seg = tg == T_RO_SEG ? 0x26 : 0;   /* ES */
    g->disp_lo = cross ? 1 : 0;
    g->disp_n = cross ? 7 : 0x70;
    p->n = 0;
    p->mode = mode;
    put(p, 0xbe);   /* MOV ESI, imm32 */
    put32(p, (uint32_t)rsi);
    put(p, 0xbd);   /* MOV EBP, 3 */
    put32(p, 3);
    size_t loop = p->n;
    for (unsigned i = 0; i < n; i++) {
        switch (pick(9)) {
        case 0: case 1: case 2: alu_insn(g); break;
        case 3: case 4: unary_insn(g); break;
        case 5: case 6: bits_insn(g); break;
        case 7: xchg_insn(g); break;
        default: flags_insn(g); break;
        }
    }
    put(p, 0xff);   /* DEC EBP */
    put(p, 0xcd);
    put(p, 0x0f);   /* JNZ rel32 loop */
    put(p, 0x85);
    put32(p, (uint32_t)((int64_t)loop - (int64_t)(p->n + 4)));
    put(p, 0xf4);   /* HLT */
}

static void put32_at(struct vm *vm, uint64_t gpa, uint32_t v)
{
    memcpy(vm->ram + gpa, &v, 4);
}

/* the special region read-only, not present or (else) read/write, and
 * the memory around it filled; 32-bit mode gets paging with 4 MiB pages */
static void map_target(struct vm *vm, enum mode mode, enum target tg)
{
    uint64_t s = special(mode);
    bool ro = tg == T_RO || tg == T_RO_CROSS;
    bool np = tg == T_NP || tg == T_NP_CROSS;
    for (unsigned i = 0; i < 0x2000; i++)
        vm->ram[s - 0x1000 + i] = (uint8_t)(i * 53 + 7);
    /* GDT 0x18: read-only data, ES's for T_RO_SEG (ignored in 64-bit) */
    put64(vm, GDT + 24, 0x00cf91000000ffffull);
    uint64_t flags = np ? 0 : ro ? 0x85 : 0x87;   /* P, W, U, PS */
    if (mode == M64) {
        put64(vm, PML4 + 0x2000 + 8 * 3, np ? 0 : s | flags);
    } else {
        put32_at(vm, PML4, 0x87);
        put32_at(vm, PML4 + 4, np ? 0 : (uint32_t)(s | flags));
        struct x86_state *st = malloc(sizeof(*st));
        cpu_get_state(vm->cpu, st);
        st->cr3 = PML4;
        st->cr4 |= 0x10;           /* PSE */
        st->cr0 |= 0x80010000u;    /* PG, WP */
        if (tg == T_RO_SEG) {
            st->seg[S_ES].selector = 0x18;
            st->seg[S_ES].attr = 0xc091;
        }
        cpu_set_state(vm->cpu, st);
        free(st);
        interp_mode_changed(vm->cpu);
    }
    mmu_flush(vm->cpu, true);
}

static void test_random(enum mode mode, unsigned programs)
{
    static struct gen g;
    static const char *names[T_COUNT] = {
        "ram", "cross", "read-only", "not present", "into read-only",
        "into not present", "code page", "read-only segment"
    };
    uint64_t regs[16];
    unsigned faults = 0;
    for (unsigned i = 0; i < programs; i++) {
        enum target tg = (enum target)(i % T_COUNT);
        random_program(&g, mode, tg, 12);
        random_gprs(regs, NULL);
        load_both(mode, g.p.b, g.p.n, regs);
        idt_all_to(mode, HANDLER);
        map_target(&vi, mode, tg);
        map_target(&vj, mode, tg);
        char what[96];
        snprintf(what, sizeof(what), "rmw program %u (mode %d, %s)", i, mode,
                 names[tg]);
        run_both(what);
        bool faulted = vj.cpu->s.rip == HANDLER + 1;
        faults += faulted;
        if (!faulted && vj.cpu->s.rip != CODE + g.p.n)
            fail_msg("%s: stopped at %llx", what,
                     (unsigned long long)vj.cpu->s.rip);
        if ((tg == T_NP || (tg == T_RO_SEG && mode == M32)) && !faulted)
            fail_msg("%s: no fault", what);
    }
    assert_true(faults > programs / 4);
}

static void test_random64(void **state)
{
    test_random(M64, 700);
}

static void test_random32(void **state)
{
    test_random(M32, 700);
}

/* --- self-modifying code --- */

/* an RMW on the immediate of a later instruction of its own block:
 *     mov ecx, 4
 *     xor edx, edx
 * l:  <rmw> [next + 1] (absolute in 32-bit mode, RIP-relative in 64-bit)
 * next: mov eax, 0x100
 *     add edx, eax
 *     dec ecx
 *     jnz l
 *     hlt
 * EDX ends as the sum of the four new immediates. */
struct smc_case {
    uint8_t op[3];        /* [66] opcode, ModRM reg field in op[2] */
    unsigned oplen, reg;
    int imm_len;
    uint32_t imm;
    uint32_t (*step)(uint32_t v, uint32_t imm);
};

static uint32_t add_step(uint32_t v, uint32_t imm) { return v + imm; }
static uint32_t xor_step(uint32_t v, uint32_t imm) { return v ^ imm; }
static uint32_t shl_step(uint32_t v, uint32_t imm) { return v << imm; }
static uint32_t inc_step(uint32_t v, uint32_t imm)
{
    (void)imm;
    return v + 1;
}
static uint32_t not_step(uint32_t v, uint32_t imm)
{
    (void)imm;
    return ~v;
}
static uint32_t byte_sub_step(uint32_t v, uint32_t imm)
{
    return (v & ~0xffu) | ((v - imm) & 0xff);
}

static const struct smc_case smc_cases[] = {
    { { 0x83 }, 1, 0, 1, 0x10, add_step },            /* add dword, imm8 */
    { { 0x81 }, 1, 6, 4, 0x01020304, xor_step },      /* xor dword, imm32 */
    { { 0xff }, 1, 0, 0, 0, inc_step },               /* inc dword */
    { { 0xf7 }, 1, 2, 0, 0, not_step },               /* not dword */
    { { 0xc1 }, 1, 4, 1, 1, shl_step },               /* shl dword, 1 */
    { { 0x80 }, 1, 5, 1, 3, byte_sub_step },          /* sub byte, imm8 */
};

static void smc_run(enum mode mode, const struct smc_case *c)
{
    struct prog p = { .n = 0, .mode = mode };
    put(&p, 0xb9);
    put32(&p, 4);
    put(&p, 0x31);   /* XOR EDX, EDX */
    put(&p, 0xd2);
    size_t loop = p.n;
    for (unsigned i = 0; i < c->oplen; i++)
        put(&p, c->op[i]);
    put(&p, (uint8_t)(0x05 | c->reg << 3));   /* [disp32] or [RIP+disp32] */
    size_t disp_at = p.n;
    put32(&p, 0);
    for (int i = 0; i < c->imm_len; i++)
        put(&p, (uint8_t)(c->imm >> (8 * i)));
    size_t next = p.n;
    /* RIP-relative: from the end of the instruction, which is `next` */
    uint32_t target = mode == M64 ? 1 : (uint32_t)(CODE + next + 1);
    memcpy(p.b + disp_at, &target, 4);
    put(&p, 0xb8);
    put32(&p, 0x100);
    put(&p, 0x01);   /* ADD EDX, EAX */
    put(&p, 0xc2);
    put(&p, 0xff);   /* DEC ECX */
    put(&p, 0xc9);
    put(&p, 0x75);
    put(&p, (uint8_t)(loop - (p.n + 1)));
    put(&p, 0xf4);
    load_both(mode, p.b, p.n, NULL);
    assert_int_equal(vm_run(&vj), RUN_HALT);
    uint32_t v = 0x100, sum = 0;
    for (int i = 0; i < 4; i++) {
        v = c->step(v, c->imm);
        sum += v;
    }
    assert_int_equal(vj.cpu->s.rip, CODE + p.n);
    assert_int_equal((uint32_t)vj.cpu->s.gpr[R_DX], sum);
    assert_int_equal((uint32_t)vj.cpu->s.gpr[R_AX], v);
}

static void test_smc(void **state)
{
    for (size_t i = 0; i < sizeof(smc_cases) / sizeof(smc_cases[0]); i++) {
        smc_run(M64, &smc_cases[i]);
        smc_run(M32, &smc_cases[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random64),
        cmocka_unit_test(test_random32),
        cmocka_unit_test(test_smc),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
