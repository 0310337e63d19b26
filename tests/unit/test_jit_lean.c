/* What the translator remembers within a block, against the interpreter
 * (tests/unit/jit_diff.h): the lazy-flags record's op and size it skips
 * storing again (random runs of producers of the same and of other kinds
 * and sizes, with the interpreter's fallbacks, helper calls, COMISD and
 * shifts by a CL of 0 in between, and consumers that read the record from
 * memory: PUSHF, SETcc, Jcc), 32-bit results stored without another
 * zero-extension (the same programs compare every register), and the
 * guest MXCSR kept on the host across runs of SSE instructions (random
 * runs of floating-point and other SSE instructions mixed with GPR
 * instructions (some of which call helpers), memory operands that miss
 * the TLB or fault on an unmapped page, random rounding, DAZ, FTZ,
 * sticky and unmasked exceptions; afterwards the host's own MXCSR must
 * be what it was). */
#include "tests/unit/jit_diff.h"
#include <xmmintrin.h>
#include "cpu/fpu_internal.h"

#define HANDLER (CODE + 0x8000ull)   /* a HLT of the filler */
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* a register operand: never rSP or rSI (the data pointer) */
static unsigned reg(const struct prog *p)
{
    static const uint8_t r[] = { 0, 1, 2, 3, 5, 7, 8, 9, 10, 13, 15 };
    return r[pick(p->mode == M64 ? N(r) : 6)];
}

/* mostly 4 bytes, so that records of one size follow each other */
static unsigned osize(const struct prog *p)
{
    static const unsigned s[] = { 4, 4, 4, 1, 2, 8 };
    return s[pick(p->mode == M64 ? 6 : 5)];
}

/* [66] [REX] op... modrm(reg, rm register); size 1 takes opcode op8 */
static void enc(struct prog *p, unsigned size, const uint8_t *op,
                unsigned oplen, unsigned r, unsigned rm)
{
    if (size == 2)
        put(p, 0x66);
    unsigned rex = (size == 8 ? 8 : 0) | (r & 8 ? 4 : 0) | (rm & 8 ? 1 : 0);
    if (p->mode == M64 && (rex || (size == 1 && pick(2))))
        put(p, (uint8_t)(0x40 | rex));
    for (unsigned i = 0; i < oplen; i++)
        put(p, op[i]);
    put(p, (uint8_t)(0xc0 | (r & 7) << 3 | (rm & 7)));
}

static void put_cl(struct prog *p)
{
    static const uint8_t c[] = { 0, 0, 1, 3, 7, 31, 32, 63, 64 };
    put(p, 0xb1);   /* MOV CL, imm8 */
    put(p, c[pick(N(c))]);
}

/* one instruction that writes the flags record */
static void producer(struct prog *p)
{
    static const uint8_t alu[] = { 0x01, 0x29, 0x21, 0x09, 0x31, 0x39, 0x85,
                                   0x11, 0x19 };
    unsigned size = osize(p), w = size != 1;
    uint8_t op[3];
    switch (pick(14)) {
    case 0: case 1: case 2: case 3:   /* the same kinds again and again */
        op[0] = (uint8_t)(alu[pick(pick(2) ? 3 : N(alu))] - 1 + w);
        enc(p, size, op, 1, reg(p), reg(p));
        break;
    case 4:   /* INC, DEC, NEG */
        op[0] = (uint8_t)((pick(3) ? 0xfe : 0xf6) + w);
        enc(p, size, op, 1, op[0] >= 0xfe ? pick(2) : 3, reg(p));
        break;
    case 5:   /* SHL/SHR/SAR by imm8 */
        op[0] = (uint8_t)(0xc0 + w);
        enc(p, size, op, 1, 4 + pick(4), reg(p));
        put(p, (uint8_t)pick(40));
        break;
    case 6:   /* shift or rotate by CL (0 now and then: no record) */
        put_cl(p);
        op[0] = (uint8_t)(0xd2 + w);
        enc(p, size, op, 1, pick(2) ? 4 + pick(4) : pick(2), reg(p));
        break;
    case 7:   /* BT/BTS r, imm8; POPCNT; BSF */
        if (size == 1)
            size = 4;
        if (pick(2)) {
            op[0] = 0x0f;
            op[1] = 0xba;
            enc(p, size, op, 2, 4 + pick(2), reg(p));
            put(p, (uint8_t)pick(64));
            break;
        }
        bool rep = pick(2);
        if (rep)
            put(p, 0xf3);   /* POPCNT, TZCNT */
        op[0] = 0x0f;
        op[1] = rep && pick(2) ? 0xb8 : 0xbc;
        enc(p, size, op, 2, reg(p), reg(p));
        break;
    case 8:   /* the interpreter's: RCL/RCR */
        op[0] = (uint8_t)(0xd0 + w);
        enc(p, size, op, 1, 2 + pick(2), reg(p));
        break;
    case 9:   /* helpers: MUL (flags through cc_update), IMUL r, r */
        if (size == 1 || pick(2)) {
            op[0] = (uint8_t)(0xf6 + w);
            enc(p, size, op, 1, 4, reg(p));
        } else {
            op[0] = 0x0f;
            op[1] = 0xaf;
            enc(p, size, op, 2, reg(p), reg(p));
        }
        break;
    case 10:   /* CLC, STC, CMC, SAHF */
        put(p, (uint8_t[]){ 0xf8, 0xf9, 0xf5, 0x9e }[pick(4)]);
        break;
    case 11:   /* COMISD/UCOMISD xmm, xmm: an EAGER record */
        put(p, 0x66);
        put(p, 0x0f);
        put(p, (uint8_t)(0x2e + pick(2)));
        put(p, (uint8_t)(0xc0 | pick(8) << 3 | pick(8)));
        break;
    case 12:   /* ADD or CMP r, imm8 */
        op[0] = size == 1 ? 0x80 : 0x83;
        enc(p, size, op, 1, pick(4) ? 0 : 7, reg(p));
        put(p, (uint8_t)rnd());
        break;
    default:   /* MOVZX, MOVSX: no flags */
        if (size == 1)
            size = 4;
        op[0] = 0x0f;
        op[1] = (uint8_t)(0xb6 + 8 * pick(2) + pick(2));
        enc(p, size, op, 2, reg(p), reg(p));
        break;
    }
}

/* something that reads the record */
static void consumer(struct prog *p)
{
    unsigned r = reg(p);
    switch (pick(4)) {
    case 0:
        put_pushf_pop(p, (unsigned)r);
        break;
    case 1: {   /* SETcc */
        uint8_t op[2] = { 0x0f, (uint8_t)(0x90 | pick(16)) };
        enc(p, 1, op, 2, 0, r);
        break;
    }
    case 2:   /* Jcc over a NOP: the next block starts unknown */
        put(p, (uint8_t)(0x70 | pick(16)));
        put(p, 1);
        put(p, 0x90);
        break;
    default: {   /* ADC r, r */
        uint8_t op = 0x11;
        unsigned size = osize(p);
        enc(p, size == 1 ? 4 : size, &op, 1, reg(p), r);
        break;
    }
    }
}

static void flags_program(struct prog *p, enum mode mode, unsigned n)
{
    p->n = 0;
    p->mode = mode;
    for (unsigned i = 0; i < n; i++) {
        producer(p);
        if (pick(5) == 0)
            consumer(p);
    }
    consumer(p);
    put(p, 0xf4);
}

/* same code, registers and XMM contents on both; SSE enabled */
static void load_prog(const struct prog *p, uint32_t mxcsr)
{
    uint64_t g[16];
    uint8_t xmm[16][16];
    for (int r = 0; r < 16; r++) {
        g[r] = pick(4) ? rnd() : pick(2) ? (uint32_t)rnd() : pick(64);
        for (int i = 0; i < 16; i += 8) {
            /* doubles near 1, tiny (denormal) and huge, or random bits */
            static const uint64_t d[] = { 0x3ff0000000000001ull,
                                          0x0000000000000003ull,
                                          0x7fe0000000000000ull,
                                          0x4008000000000000ull };
            uint64_t v = pick(3) ? d[pick(N(d))] ^ pick(16) : rnd();
            memcpy(xmm[r] + i, &v, 8);
        }
    }
    g[R_SI] = DATA;
    load_both(p->mode, p->b, p->n, g);
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        struct cpu *cpu = vms[k]->cpu;
        for (unsigned i = 0; i < 0x4000; i++)
            vms[k]->ram[DATA + i] = (uint8_t)(i * 131 + (i >> 8) * 7);
        if (p->mode == M64)
            put64(vms[k], PML4 + 0x2000 + 8 * 3, 0);   /* 6-8 MiB unmapped */
        memcpy(cpu->s.xsave + FX_XMM, xmm, sizeof(xmm));
        memcpy(cpu->s.xsave + FX_MXCSR, &mxcsr, 4);
        cpu->s.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
        interp_mode_changed(cpu);
        mmu_flush(cpu, true);
    }
    idt_all_to(p->mode, HANDLER);
}

static void test_flag_records(void **state)
{
    static struct prog p;
    for (unsigned i = 0; i < 1200; i++) {
        enum mode mode = i & 1 ? M32 : M64;
        flags_program(&p, mode, 6 + pick(30));
        load_prog(&p, 0x1f80);
        char what[64];
        snprintf(what, sizeof(what), "flags program %u (mode %d)", i, mode);
        run_both(what);
    }
}

/* --- runs of SSE instructions --- */

/* [rSI + disp32] over four pages (each missing the TLB at first), now and
 * then (64-bit) on the unmapped 6-8 MiB */
static void mem_operand(struct prog *p, unsigned r)
{
    uint32_t d = (uint32_t)pick(0x3ff0) & ~7u;
    if (p->mode == M64 && pick(40) == 0)
        d = 0x400000;   /* DATA + 4 MiB: unmapped */
    put(p, (uint8_t)(0x86 | (r & 7) << 3));
    put32(p, d);
}

/* pfx [REX] 0F op modrm: xmm reg, xmm rm or memory */
static void sse_op(struct prog *p, uint8_t pfx, uint8_t op, bool wide,
                   unsigned r, unsigned rm, bool mem)
{
    if (pfx)
        put(p, pfx);
    unsigned rex = (wide ? 8 : 0) | (r & 8 ? 4 : 0) | (!mem && rm & 8 ? 1 : 0);
    if (p->mode == M64 && rex)
        put(p, (uint8_t)(0x40 | rex));
    put(p, 0x0f);
    put(p, op);
    if (mem)
        mem_operand(p, r);
    else
        put(p, (uint8_t)(0xc0 | (r & 7) << 3 | (rm & 7)));
}

static void sse_insn(struct prog *p)
{
    static const uint8_t fp_ops[] = { 0x58, 0x59, 0x5c, 0x5e, 0x51, 0x5d,
                                      0x5f, 0x5a };
    unsigned nx = p->mode == M64 ? 16 : 8;
    unsigned x = pick(nx), y = pick(nx);
    bool mem = pick(3) == 0, wide = p->mode == M64 && pick(2);
    switch (pick(10)) {
    case 0: case 1: case 2: case 3:   /* scalar and packed arithmetic */
        sse_op(p, (uint8_t[]){ 0xf2, 0xf3, 0x66, 0 }[pick(4)],
               fp_ops[pick(N(fp_ops))], false, x, y, mem);
        break;
    case 4:   /* CVTSI2SD/SS xmm, r/m */
        sse_op(p, pick(2) ? 0xf2 : 0xf3, 0x2a, wide, x, reg(p), mem);
        break;
    case 5:   /* CVTTSD2SI/CVTSD2SI r, xmm/m */
        sse_op(p, 0xf2, (uint8_t)(0x2c + pick(2)), wide, reg(p), y, mem);
        break;
    case 6:   /* COMISD/UCOMISD */
        sse_op(p, 0x66, (uint8_t)(0x2e + pick(2)), false, x, y, mem);
        break;
    case 7:   /* MOVSD load or store */
        sse_op(p, 0xf2, (uint8_t)(0x10 + pick(2)), false, x, y, mem);
        break;
    case 8:   /* XORPS, PXOR, MOVAPS (register forms) */
        sse_op(p, pick(2) ? 0x66 : 0, (uint8_t[]){ 0x57, 0xef, 0x28 }[pick(3)],
               false, x, y, false);
        break;
    default:   /* MOVD/MOVQ xmm, r */
        sse_op(p, 0x66, 0x6e, wide, x, reg(p), false);
        break;
    }
}

/* GPR instructions among the SSE ones: ADD; MOV r, [mem] and MOV [mem], r
 * (slow paths out of line, the store's exit check); IMUL r, r (a helper
 * for its flags when they are live); PUSH/POP; the consumers (PUSHF,
 * SETcc or ADC that may ask a helper, Jcc) */
static void gpr_insn(struct prog *p)
{
    unsigned r = reg(p);
    uint8_t op[2];
    switch (pick(6)) {
    case 0:
        op[0] = 0x01;
        enc(p, 4, op, 1, reg(p), r);
        break;
    case 1: case 2:
        if (r & 8)
            put(p, 0x44);
        put(p, pick(2) ? 0x8b : 0x89);
        mem_operand(p, r);
        break;
    case 3:
        op[0] = 0x0f;
        op[1] = 0xaf;
        enc(p, 4, op, 2, r, reg(p));
        break;
    case 4:   /* PUSH r; POP r */
        if (r & 8)
            put(p, 0x41);
        put(p, (uint8_t)(0x50 | (r & 7)));
        if (r & 8)
            put(p, 0x41);
        put(p, (uint8_t)(0x58 | (r & 7)));
        break;
    default:
        consumer(p);
        break;
    }
}

static void test_mxcsr_runs(void **state)
{
    static struct prog p;
    unsigned host = _mm_getcsr();
    for (unsigned i = 0; i < 1000; i++) {
        p.mode = i & 1 ? M32 : M64;
        p.n = 0;
        for (unsigned k = 0, n = 4 + pick(24); k < n; k++) {
            if (pick(5) == 0)
                gpr_insn(&p);
            else
                sse_insn(&p);
        }
        put(&p, 0xf4);
        load_prog(&p, random_mxcsr(10));
        char what[64];
        snprintf(what, sizeof(what), "sse run %u (mode %d)", i, p.mode);
        run_both(what);
        assert_int_equal(_mm_getcsr(), host);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flag_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mxcsr_runs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
