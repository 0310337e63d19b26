/* The JIT's SSE translations (jit/jit_gen_sse.c) against the interpreter
 * (tests/unit/jit_diff.h): random sequences of SSE/SSE2/SSSE3/SSE4
 * instructions in 64-bit and 32-bit code on random XMM contents (NaNs,
 * denormals, infinities, zeros in the floating-point lanes), random MXCSR
 * (rounding modes, DAZ, FTZ, sticky flags, now and then an unmasked
 * exception), register and memory operands (aligned, misaligned, crossing
 * a page, on an unmapped page), flags consumed afterwards, and CR0.TS /
 * CR4.OSFXSR states that forbid SSE. Every fault lands in a handler that
 * halts, so the frame is compared too. Then: a hot loop must run without
 * interpreter fallbacks, and the new encodings against Capstone. */
#include "tests/unit/jit_diff.h"

#define x86_insn cs_x86_insn
#include <capstone/capstone.h>
#undef x86_insn

#include "cpu/fpu_internal.h"
#include "jit/emit_x86_sse.h"

extern unsigned long jit_stats_fallback[I_COUNT + 1][2];

#define HANDLER (CODE + 0x8000ull)   /* a HLT of the filler */

/* --- instruction templates --- */

enum tkind {
    T_XX,    /* xmm, xmm/m */
    T_XM,    /* xmm, m */
    T_XG,    /* xmm, r/m32/64 */
    T_GX,    /* r32/64, xmm/m */
    T_GXR,   /* r32, xmm */
    T_SHIFT, /* /digit xmm, imm8 */
};

struct tmpl {
    uint8_t pfx, map, opc, kind, imm;
};

#define X(p, m, o) { p, m, o, T_XX, 0 }
#define XI(p, m, o) { p, m, o, T_XX, 1 }
#define XM(p, m, o) { p, m, o, T_XM, 0 }

static const struct tmpl moves[] = {
    X(0, 1, 0x10), X(0x66, 1, 0x10), X(0xf3, 1, 0x10), X(0xf2, 1, 0x10),
    X(0, 1, 0x11), X(0x66, 1, 0x11), X(0xf3, 1, 0x11), X(0xf2, 1, 0x11),
    X(0, 1, 0x12), XM(0x66, 1, 0x12), XM(0, 1, 0x13), XM(0x66, 1, 0x13),
    X(0, 1, 0x16), XM(0x66, 1, 0x16), XM(0, 1, 0x17), XM(0x66, 1, 0x17),
    X(0, 1, 0x28), X(0x66, 1, 0x28), X(0, 1, 0x29), X(0x66, 1, 0x29),
    XM(0, 1, 0x2b), XM(0x66, 1, 0x2b), X(0xf3, 1, 0x7e), X(0x66, 1, 0x6f),
    X(0xf3, 1, 0x6f), X(0x66, 1, 0x7f), X(0xf3, 1, 0x7f), X(0x66, 1, 0xd6),
    XM(0x66, 1, 0xe7), XM(0xf2, 1, 0xf0), XM(0x66, 2, 0x2a),
    { 0x66, 1, 0x6e, T_XG, 0 }, { 0x66, 1, 0x7e, T_XG, 0 },
    { 0x66, 1, 0xd7, T_GXR, 0 }, { 0, 1, 0x50, T_GXR, 0 },
    { 0x66, 1, 0x50, T_GXR, 0 }, { 0x66, 1, 0xc4, T_XG, 1 },
    { 0x66, 1, 0xc5, T_GXR, 1 },
};

static const struct tmpl fp[] = {
    X(0, 1, 0x51), X(0x66, 1, 0x51), X(0xf3, 1, 0x51), X(0xf2, 1, 0x51),
    X(0, 1, 0x58), X(0x66, 1, 0x58), X(0xf3, 1, 0x58), X(0xf2, 1, 0x58),
    X(0, 1, 0x59), X(0x66, 1, 0x59), X(0xf3, 1, 0x59), X(0xf2, 1, 0x59),
    X(0, 1, 0x5c), X(0x66, 1, 0x5c), X(0xf3, 1, 0x5c), X(0xf2, 1, 0x5c),
    X(0, 1, 0x5d), X(0x66, 1, 0x5d), X(0xf3, 1, 0x5d), X(0xf2, 1, 0x5d),
    X(0, 1, 0x5e), X(0x66, 1, 0x5e), X(0xf3, 1, 0x5e), X(0xf2, 1, 0x5e),
    X(0, 1, 0x5f), X(0x66, 1, 0x5f), X(0xf3, 1, 0x5f), X(0xf2, 1, 0x5f),
    X(0, 1, 0x5a), X(0x66, 1, 0x5a), X(0xf3, 1, 0x5a), X(0xf2, 1, 0x5a),
    X(0, 1, 0x5b), X(0x66, 1, 0x5b), X(0xf3, 1, 0x5b), X(0x66, 1, 0xe6),
    X(0xf3, 1, 0xe6), X(0xf2, 1, 0xe6), X(0, 1, 0x52), X(0xf3, 1, 0x53),
    X(0x66, 1, 0x7c), X(0xf2, 1, 0x7d), X(0x66, 1, 0xd0), X(0xf2, 1, 0xd0),
    XI(0, 1, 0xc2), XI(0x66, 1, 0xc2), XI(0xf3, 1, 0xc2), XI(0xf2, 1, 0xc2),
    X(0, 1, 0x2e), X(0x66, 1, 0x2e), X(0, 1, 0x2f), X(0x66, 1, 0x2f),
    X(0, 1, 0x2e), X(0x66, 1, 0x2e), X(0, 1, 0x2f), X(0x66, 1, 0x2f),
    { 0xf3, 1, 0x2a, T_XG, 0 }, { 0xf2, 1, 0x2a, T_XG, 0 },
    { 0xf3, 1, 0x2c, T_GX, 0 }, { 0xf2, 1, 0x2c, T_GX, 0 },
    { 0xf3, 1, 0x2d, T_GX, 0 }, { 0xf2, 1, 0x2d, T_GX, 0 },
};

static const struct tmpl integer[] = {
    X(0, 1, 0x54), X(0x66, 1, 0x54), X(0, 1, 0x55), X(0x66, 1, 0x55),
    X(0, 1, 0x56), X(0x66, 1, 0x56), X(0, 1, 0x57), X(0x66, 1, 0x57),
    X(0, 1, 0x14), X(0x66, 1, 0x14), X(0, 1, 0x15), X(0x66, 1, 0x15),
    X(0xf2, 1, 0x12), X(0xf3, 1, 0x12), X(0xf3, 1, 0x16),
    XI(0x66, 1, 0x70), XI(0xf3, 1, 0x70), XI(0xf2, 1, 0x70),
    XI(0, 1, 0xc6), XI(0x66, 1, 0xc6),
    { 0x66, 1, 0x71, T_SHIFT, 1 }, { 0x66, 1, 0x72, T_SHIFT, 1 },
    { 0x66, 1, 0x73, T_SHIFT, 1 },
    XI(0x66, 3, 0x0c), XI(0x66, 3, 0x0d), XI(0x66, 3, 0x0e),
    XI(0x66, 3, 0x0f), XI(0x66, 3, 0x42), XI(0x66, 3, 0x60),
    XI(0x66, 3, 0x61), XI(0x66, 3, 0x62), XI(0x66, 3, 0x63),
    XI(0x66, 3, 0x63), XI(0x66, 3, 0x63), XI(0x66, 3, 0x0f),
};

/* 66 0F xx rows (the integer vector operations) and 66 0F38 xx rows */
static const uint8_t ops_0f[] = {
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b,
    0x6c, 0x6d, 0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd8, 0xd9,
    0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5,
    0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf1, 0xf2, 0xf3, 0xf4,
    0xf5, 0xf6, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
};
static const uint8_t ops_0f38[] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    0x10, 0x14, 0x15, 0x1c, 0x1d, 0x1e, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
    0x28, 0x29, 0x2b, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x38, 0x39,
    0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x17,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct tmpl pick_tmpl(void)
{
    switch (pick(8)) {
    case 0: case 1: case 2: return moves[pick(N(moves))];
    case 3: case 4: return fp[pick(N(fp))];
    case 5: return integer[pick(N(integer))];
    case 6: return (struct tmpl){ 0x66, 1, ops_0f[pick(N(ops_0f))], T_XX, 0 };
    default:
        return (struct tmpl){ 0x66, 2, ops_0f38[pick(N(ops_0f38))], T_XX, 0 };
    }
}

/* --- programs --- */

/* a GPR operand: never RSP (4) or RSI (6, the data pointer) */
static unsigned gpr(enum mode mode)
{
    static const uint8_t r64[] = { 0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13,
                                   14, 15 };
    static const uint8_t r32[] = { 0, 1, 2, 3, 5, 7 };
    return mode == M64 ? r64[pick(N(r64))] : r32[pick(N(r32))];
}

/* [rSI + disp32]: mostly 16-byte aligned, sometimes not, crossing a page,
 * or (64-bit) on the unmapped 6-8 MiB */
static uint32_t mem_disp(enum mode mode)
{
    unsigned r = pick(64);
    if (r == 0 && mode == M64)
        return 0x400000 + pick(16);
    if (r < 4)
        return 0xff0 + pick(16);
    uint32_t d = pick(0xf00);
    return r < 8 ? d : d & ~15u;
}

static void sse_insn(struct prog *p, const struct tmpl *tp)
{
    bool m64 = p->mode == M64;
    unsigned nx = m64 ? 16 : 8;
    unsigned reg, rm, kind = tp->kind;
    bool mem = kind == T_XM ||
               (kind != T_GXR && kind != T_SHIFT && pick(3) == 0);
    bool w = m64 && (kind == T_XG || kind == T_GX) && pick(2);
    if (kind == T_SHIFT) {
        reg = pick(8);
        rm = pick(nx);
    } else {
        reg = kind == T_GX || kind == T_GXR ? gpr(p->mode) : pick(nx);
        rm = kind == T_XG ? gpr(p->mode) : pick(nx);
    }
    if (tp->pfx)
        put(p, tp->pfx);
    unsigned rex = (w ? 8 : 0) | (reg & 8 ? 4 : 0) | (!mem && (rm & 8) ? 1 : 0);
    if (m64 && (rex || pick(8) == 0))
        put(p, (uint8_t)(0x40 | rex));
    put(p, 0x0f);
    if (tp->map == 2)
        put(p, 0x38);
    else if (tp->map == 3)
        put(p, 0x3a);
    put(p, tp->opc);
    if (mem) {
        put(p, (uint8_t)(0x86 | (reg & 7) << 3));   /* [rsi + disp32] */
        put32(p, mem_disp(p->mode));
    } else {
        put(p, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
    }
    if (tp->imm) {
        static const uint8_t edge[] = { 0, 1, 7, 8, 15, 16, 17, 31, 32, 0xff };
        put(p, pick(2) ? edge[pick(N(edge))] : (uint8_t)rnd());
    }
}

/* something that reads or replaces the flags */
static void flag_user(struct prog *p)
{
    switch (pick(6)) {
    case 0: /* SETcc r8 (AL..BL) */
        put(p, 0x0f);
        put(p, (uint8_t)(0x90 | pick(16)));
        put(p, (uint8_t)(0xc0 | pick(4)));
        break;
    case 1: /* PUSHF; POP rAX */
        put(p, 0x9c);
        put(p, 0x58);
        break;
    case 2: /* Jcc over a NOP */
        put(p, (uint8_t)(0x70 | pick(16)));
        put(p, 1);
        put(p, 0x90);
        break;
    case 3: /* ADC EAX, EBX */
        put(p, 0x11);
        put(p, 0xd8);
        break;
    case 4: /* CMP EAX, EBX */
        put(p, 0x39);
        put(p, 0xd8);
        break;
    default: /* INC ECX (keeps CF) */
        put(p, 0xff);
        put(p, 0xc1);
        break;
    }
}

/* PREFETCHh/PREFETCHW (never fault, the unmapped page included) and the
 * fences: no-ops */
static void hint(struct prog *p)
{
    unsigned k = pick(5);
    put(p, 0x0f);
    if (k >= 3) {
        put(p, 0xae);
        put(p, (uint8_t)(0xe8 + 8 * k - 24));   /* LFENCE, MFENCE */
        return;
    }
    put(p, k == 2 ? 0x0d : 0x18);
    put(p, (uint8_t)(0x86 | (k == 2 ? 1 : pick(4)) << 3));
    put32(p, mem_disp(p->mode));
}

static void random_sse_program(struct prog *p, unsigned n)
{
    p->n = 0;
    for (unsigned i = 0; i < n; i++) {
        if (pick(16) == 0)
            hint(p);
        struct tmpl tp = pick_tmpl();
        sse_insn(p, &tp);
        bool flags = (tp.map == 1 && (tp.opc == 0x2e || tp.opc == 0x2f)) ||
                     (tp.map == 2 && tp.opc == 0x17) ||
                     (tp.map == 3 && tp.opc >= 0x60);
        if (flags || pick(4) == 0)
            flag_user(p);
    }
    put(p, 0xf4);
}

/* --- machine state --- */

static uint64_t fp_value(bool dbl)
{
    static const uint64_t d[] = {
        0, 0x8000000000000000ull, 0x7ff0000000000000ull,
        0xfff0000000000000ull, 0x7ff8000000000000ull,
        0x7ff4000000000001ull, 0x0000000000000001ull,
        0x800fffffffffffffull, 0x3ff0000000000000ull,
        0xc000000000000000ull, 0x7fefffffffffffffull,
        0x0010000000000000ull, 0x43e0000000000000ull,
        0xc1e0000000000000ull, 0x4059000000000000ull,
    };
    static const uint32_t f[] = {
        0, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7fa00001u,
        1, 0x807fffffu, 0x3f800000u, 0xc0000000u, 0x7f7fffffu, 0x00800000u,
        0x5f000000u, 0xcf000000u, 0x42c80000u,
    };
    if (pick(3) == 0)
        return dbl ? rnd() : (uint32_t)rnd();
    if (pick(3) == 0) {   /* a small number, near an integer */
        double v = (double)((int)pick(2000) - 1000) / (1 + pick(8));
        if (dbl) {
            uint64_t b;
            memcpy(&b, &v, 8);
            return b;
        }
        float fv = (float)v;
        uint32_t b;
        memcpy(&b, &fv, 4);
        return b;
    }
    return dbl ? d[pick(N(d))] : f[pick(N(f))];
}

static void random_xmm(uint8_t *x)
{
    switch (pick(3)) {
    case 0:
        for (int i = 0; i < 16; i++)
            x[i] = (uint8_t)(pick(4) ? rnd() : pick(3) ? 0 : 0xff);
        break;
    case 1:
        for (int i = 0; i < 2; i++) {
            uint64_t v = fp_value(true);
            memcpy(x + 8 * i, &v, 8);
        }
        break;
    default:
        for (int i = 0; i < 4; i++) {
            uint32_t v = (uint32_t)fp_value(false);
            memcpy(x + 4 * i, &v, 4);
        }
        break;
    }
}

static void idt_gates(struct vm *vm, enum mode mode)
{
    for (int v = 0; v < 32; v++) {
        if (mode == M64) {
            uint64_t lo = (HANDLER & 0xffff) | (0x08ull << 16) |
                          (0x8eull << 40) | ((HANDLER >> 16) & 0xffff) << 48;
            put64(vm, IDT + 16 * v, lo);
            put64(vm, IDT + 16 * v + 8, 0);
        } else {
            uint64_t g = (HANDLER & 0xffff) | (0x08ull << 16) |
                         (0x8eull << 40) | ((HANDLER >> 16) & 0xffffull) << 48;
            put64(vm, IDT + 8 * v, g);
        }
    }
}

/* Load code on both machines with the same random SSE state; cr0_set and
 * cr4_clear for the runs where SSE may not run */
static void load_sse(const struct prog *p, uint32_t cr0_set,
                     uint32_t cr4_clear)
{
    uint64_t g[16];
    uint8_t xmm[16][16];
    uint32_t mx = random_mxcsr(8);
    for (int r = 0; r < 16; r++) {
        g[r] = pick(4) ? rnd() : pick(2) ? (uint32_t)rnd() : pick(64);
        random_xmm(xmm[r]);
    }
    g[R_SI] = DATA;
    load_both(p->mode, p->b, p->n, g);
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        struct vm *vm = vms[k];
        struct cpu *cpu = vm->cpu;
        for (unsigned i = 0; i < 0x2000; i++)
            vm->ram[DATA + i] = (uint8_t)rnd();
        if (p->mode == M64)
            put64(vm, PML4 + 0x2000 + 8 * 3, 0);   /* 6-8 MiB unmapped */
        idt_gates(vm, p->mode);
        memcpy(cpu->s.xsave + FX_XMM, xmm, sizeof(xmm));
        memcpy(cpu->s.xsave + FX_MXCSR, &mx, 4);
        cpu->s.cr0 |= cr0_set;
        cpu->s.cr4 = (cpu->s.cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT) & ~cr4_clear;
        interp_mode_changed(cpu);
        mmu_flush(cpu, true);
    }
    /* the same random bytes on both */
    memcpy(vj.ram + DATA, vi.ram + DATA, 0x2000);
}

static void run_random(enum mode mode, unsigned programs, unsigned len)
{
    static struct prog p;
    p.mode = mode;
    for (unsigned i = 0; i < programs; i++) {
        random_sse_program(&p, len);
        uint32_t cr0 = pick(40) == 0 ? CR0_TS : 0;
        uint32_t cr4 = pick(40) == 0 ? CR4_OSFXSR : 0;
        load_sse(&p, cr0, cr4);
        char what[64];
        snprintf(what, sizeof(what), "sse program %u (mode %d)", i, mode);
        run_both(what);
    }
}

static void test_random64(void **state)
{
    run_random(M64, 900, 24);
}

static void test_random32(void **state)
{
    run_random(M32, 500, 24);
}

/* --- a hot loop runs natively --- */

/*
 * bits 64
 *     mov r9d, 1000
 * l:  movdqa xmm0, [rsi]
 *     movdqu xmm1, [rsi+3]
 *     pxor xmm0, xmm1
 *     pcmpeqb xmm1, xmm0
 *     pmovmskb eax, xmm1
 *     movdqa [rsi+0x40], xmm0
 *     movsd xmm2, [rsi+8]
 *     cvtsi2sd xmm3, r9d
 *     addsd xmm2, xmm3
 *     ucomisd xmm2, xmm3
 *     ja .s
 *     inc ebx
 * .s: cvttsd2si edx, xmm2
 *     movd xmm4, edx
 *     movsd [rsi+0x70], xmm2
 *     pcmpistri xmm0, xmm1, 0x1a
 *     dec r9d
 *     jnz l
 *     hlt
 */
static const uint8_t prog_hot[] = {
    0x41, 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x66, 0x0f, 0x6f, 0x06, 0xf3, 0x0f,
    0x6f, 0x4e, 0x03, 0x66, 0x0f, 0xef, 0xc1, 0x66, 0x0f, 0x74, 0xc8, 0x66,
    0x0f, 0xd7, 0xc1, 0x66, 0x0f, 0x7f, 0x46, 0x40, 0xf2, 0x0f, 0x10, 0x56,
    0x08, 0xf2, 0x41, 0x0f, 0x2a, 0xd9, 0xf2, 0x0f, 0x58, 0xd3, 0x66, 0x0f,
    0x2e, 0xd3, 0x77, 0x02, 0xff, 0xc3, 0xf2, 0x0f, 0x2c, 0xd2, 0x66, 0x0f,
    0x6e, 0xe2, 0xf2, 0x0f, 0x11, 0x56, 0x70, 0x66, 0x0f, 0x3a, 0x63, 0xc1,
    0x1a, 0x41, 0xff, 0xc9, 0x75, 0xb8, 0xf4
};

static void test_hot_loop_native(void **state)
{
    static struct prog p;
    if (!jit_native)
        skip();
    memcpy(p.b, prog_hot, sizeof(prog_hot));
    p.n = sizeof(prog_hot);
    p.mode = M64;
    unsigned long before[I_COUNT + 1];
    for (unsigned i = 0; i <= I_COUNT; i++)
        before[i] = jit_stats_fallback[i][0];
    load_sse(&p, 0, 0);
    uint32_t mx = 0x1f80;
    memcpy(vi.cpu->s.xsave + FX_MXCSR, &mx, 4);
    memcpy(vj.cpu->s.xsave + FX_MXCSR, &mx, 4);
    run_both("hot loop");
    assert_int_equal(vj.cpu->s.gpr[R_R9], 0);
    /* the first accesses miss the TLB: a few fallbacks, not one a round */
    unsigned long total = 0;
    for (unsigned i = 0; i <= I_COUNT; i++)
        total += jit_stats_fallback[i][0] - before[i];
    if (total > 10)
        fail_msg("%lu fallbacks in the hot loop", total);
}

/* the compares' flags, consumed natively (host flags) and from the record */
/*
 * bits 64
 *     ucomisd xmm0, xmm1
 *     setb al
 *     seta bl
 *     setp cl
 *     jbe .a
 *     inc edx
 * .a: comiss xmm2, xmm3
 *     sete dil
 *     jnp .b
 *     add edx, 2
 * .b: pushfq
 *     pop r8
 *     ucomiss xmm3, xmm2
 *     adc edx, 0
 *     comisd xmm1, xmm0
 *     setae r9b
 *     hlt
 */
static const uint8_t prog_comi[] = {
    0x66, 0x0f, 0x2e, 0xc1, 0x0f, 0x92, 0xc0, 0x0f, 0x97, 0xc3, 0x0f, 0x9a,
    0xc1, 0x76, 0x02, 0xff, 0xc2, 0x0f, 0x2f, 0xd3, 0x40, 0x0f, 0x94, 0xc7,
    0x7b, 0x03, 0x83, 0xc2, 0x02, 0x9c, 0x41, 0x58, 0x0f, 0x2e, 0xda, 0x83,
    0xd2, 0x00, 0x66, 0x0f, 0x2f, 0xc8, 0x41, 0x0f, 0x93, 0xc1, 0xf4
};

static void test_comi_flags(void **state)
{
    static struct prog p;
    memcpy(p.b, prog_comi, sizeof(prog_comi));
    p.n = sizeof(prog_comi);
    p.mode = M64;
    unsigned lt = 0;
    for (int i = 0; i < 150; i++) {
        load_sse(&p, 0, 0);
        uint32_t mx = 0x1f80;
        if (i >= 100)   /* an unmasked IE or DE */
            mx &= ~(pick(2) ? 0x80u : 0x100u);
        memcpy(vi.cpu->s.xsave + FX_MXCSR, &mx, 4);
        memcpy(vj.cpu->s.xsave + FX_MXCSR, &mx, 4);
        run_both("comis flags");
        lt += vj.cpu->s.rip == CODE + p.n && (vj.cpu->s.gpr[R_AX] & 1);
    }
    assert_true(lt > 10);   /* the "below" outcome was seen */
}

/* #XM with an unmasked exception, and the flags of the masked run */
/*
 * bits 64
 *     divsd xmm0, xmm1        ; 1 / 0
 *     hlt
 */
static void test_unmasked(void **state)
{
    static struct prog p;
    static const uint8_t code[] = { 0xf2, 0x0f, 0x5e, 0xc1, 0xf4 };
    memcpy(p.b, code, sizeof(code));
    p.n = sizeof(code);
    p.mode = M64;
    for (int unmask = 0; unmask < 2; unmask++) {
        load_sse(&p, 0, 0);
        struct vm *vms[2] = { &vi, &vj };
        for (int k = 0; k < 2; k++) {
            uint8_t *x = vms[k]->cpu->s.xsave;
            uint64_t one = 0x3ff0000000000000ull, zero = 0;
            uint32_t mx = unmask ? 0x1f80 & ~0x200u : 0x1f80;   /* ZM */
            memcpy(x + FX_XMM, &one, 8);
            memcpy(x + FX_XMM + 16, &zero, 8);
            memcpy(x + FX_MXCSR, &mx, 4);
        }
        run_both(unmask ? "divsd, ZE unmasked" : "divsd, ZE masked");
        uint32_t mx;
        memcpy(&mx, vj.cpu->s.xsave + FX_MXCSR, 4);
        assert_true(mx & 4);   /* ZE */
        assert_int_equal(vj.cpu->s.rip, unmask ? HANDLER + 1 : CODE + 5);
    }
}

/* LDMXCSR unmasks ZE in the middle of a block: the DIVSD after it raises
 * #XM (the check is made at run time, not when translating) */
/*
 * bits 64
 *     divsd xmm0, xmm1        ; masked: ZE set, result inf
 *     ldmxcsr [rsi]           ; ZM clear
 *     divsd xmm2, xmm1        ; #XM
 *     hlt
 */
static void test_ldmxcsr_in_block(void **state)
{
    static struct prog p;
    static const uint8_t code[] = { 0xf2, 0x0f, 0x5e, 0xc1, 0x0f, 0xae, 0x16,
                                    0xf2, 0x0f, 0x5e, 0xd1, 0xf4 };
    memcpy(p.b, code, sizeof(code));
    p.n = sizeof(code);
    p.mode = M64;
    load_sse(&p, 0, 0);
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        uint8_t *x = vms[k]->cpu->s.xsave;
        uint64_t one = 0x3ff0000000000000ull, zero = 0;
        uint32_t mx = 0x1f80, unmasked = 0x1f80 & ~0x200u;
        memcpy(x + FX_XMM, &one, 8);
        memcpy(x + FX_XMM + 16, &zero, 8);
        memcpy(x + FX_XMM + 32, &one, 8);
        memcpy(x + FX_MXCSR, &mx, 4);
        memcpy(vms[k]->ram + DATA, &unmasked, 4);
    }
    run_both("ldmxcsr in the block");
    assert_int_equal(vj.cpu->s.rip, HANDLER + 1);
    uint64_t sp = vj.cpu->s.gpr[R_SP], rip;
    memcpy(&rip, vj.ram + sp, 8);
    assert_int_equal(rip, CODE + 7);   /* the second DIVSD */
}

/* --- the encoder against Capstone --- */

static void expect(void (*gen)(struct emit *e), const char *text)
{
    uint8_t buf[32];
    struct emit e;
    emit_init(&e, buf, sizeof(buf));
    gen(&e);
    csh cs;
    assert_int_equal(cs_open(CS_ARCH_X86, CS_MODE_64, &cs), CS_ERR_OK);
    cs_insn *insn;
    size_t n = cs_disasm(cs, buf, e.pos, 0, 0, &insn);
    char got[256] = "";
    if (n == 1)
        snprintf(got, sizeof(got), "%s %s", insn->mnemonic, insn->op_str);
    bool whole = n == 1 && insn->size == e.pos;
    if (n)
        cs_free(insn, n);
    cs_close(&cs);
    if (!whole || strcmp(got, text) != 0)
        fail_msg("expected \"%s\", got \"%s\" (%zu instructions)", text, got,
                 n);
}

static void e1(struct emit *e) { emit_movdqa_load(e, 9, emit_m(HR_R12, 0x10)); }
static void e2(struct emit *e)
{
    emit_movdqu_store(e, emit_mi(HR_RDX, HR_RSI, 1, 0), 1);
}
static void e3(struct emit *e) { emit_movq_xr(e, 2, HR_RAX); }
static void e4(struct emit *e) { emit_movq_rx(e, HR_R14, 15); }
static void e5(struct emit *e) { emit_ldmxcsr(e, emit_m(HR_RSP, -16)); }
static void e6(struct emit *e) { emit_stmxcsr(e, emit_m(HR_RBX, 0x3a8)); }
static void e7(struct emit *e) { emit_sse_rr(e, sse_enc(0x66, 2, 0), false, 1, 2); }
static void e8(struct emit *e)
{
    emit_sse_rm(e, sse_enc(0xf2, 1, 0x58), false, 1, emit_m(HR_R13, 0));
}
static void e9(struct emit *e)
{
    emit_sse_rr(e, sse_enc(0x66, 3, 0x63), false, 1, 10);
    emit_byte(e, 0x1a);
}
static void e10(struct emit *e) { emit_sse_rr(e, sse_enc(0xf2, 1, 0x2a), true, 1, HR_RAX); }
static void e11(struct emit *e) { emit_sse_rr(e, sse_enc(0x66, 1, 0xd7), false, HR_RAX, 9); }
static void e12(struct emit *e) { emit_movdqa_store(e, emit_m(HR_RBX, 0x1a0), 0); }
static void e13(struct emit *e) { emit_movdqu_load(e, 2, emit_mi(HR_RDX, HR_RSI, 1, 0)); }

static void test_encodings(void **state)
{
    expect(e1, "movdqa xmm9, xmmword ptr [r12 + 0x10]");
    expect(e2, "movdqu xmmword ptr [rdx + rsi], xmm1");
    expect(e3, "movq xmm2, rax");
    expect(e4, "movq r14, xmm15");
    expect(e5, "ldmxcsr dword ptr [rsp - 0x10]");
    expect(e6, "stmxcsr dword ptr [rbx + 0x3a8]");
    expect(e7, "pshufb xmm1, xmm2");
    expect(e8, "addsd xmm1, qword ptr [r13]");
    expect(e9, "pcmpistri xmm1, xmm10, 0x1a");
    expect(e10, "cvtsi2sd xmm1, rax");
    expect(e11, "pmovmskb eax, xmm9");
    expect(e12, "movdqa xmmword ptr [rbx + 0x1a0], xmm0");
    expect(e13, "movdqu xmm2, xmmword ptr [rdx + rsi]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encodings),
        cmocka_unit_test_setup_teardown(test_hot_loop_native, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmasked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comi_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ldmxcsr_in_block, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_random64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random32, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
