/* SSE conversions that involve GPRs or MMX registers (CVTSI2SS/SD,
 * CVT(T)SS2SI/SD2SI, CVTPI2PS/PD, CVT(T)PS2PI/PD2PI) and the scalar compares
 * that set EFLAGS (COMISS/SD, UCOMISS/SD), executed on the host with the
 * guest MXCSR (rounding, DAZ, the 0x80000000 integer indefinite, flags). */
#include "cpu/fpu_internal.h"

static bool mem(const struct sse_ctx *c) { return c->insn->mod != 3; }

static uint32_t host_mxcsr(struct cpu *cpu)
{
    return (fx_get32(cpu, FX_MXCSR) & ~MXCSR_EXC) | 0x1f80;
}

#define HOST_ASM(body, ...)                                                   \
    do {                                                                      \
        uint32_t saved_;                                                      \
        __asm__ volatile("stmxcsr %[saved_]\n\t"                              \
                         "ldmxcsr %[mx]\n\t" body "\n\t"                      \
                         "stmxcsr %[mx]\n\t"                                  \
                         "ldmxcsr %[saved_]"                                  \
                         : [saved_] "=m"(saved_), [mx] "+m"(mx), __VA_ARGS__  \
                         : "xmm1", "xmm2");                                   \
    } while (0)

/* CVTSI2SS/SD xmm, r/m32/64 */
static void cvtsi2s(struct sse_ctx *c)
{
    struct cpu *cpu = c->cpu;
    bool q = c->insn->rex & 8, dbl = c->pfx == 0xf2;
    sse_check_sse(cpu);
    uint64_t v = sse_gpr_rm(c, q ? 8 : 4);
    uint8_t x[16];
    memcpy(x, sse_xmm(cpu, c->insn->reg), 16);
    uint32_t mx = host_mxcsr(cpu);
    if (dbl && q)
        HOST_ASM("movdqu %[x], %%xmm1\n\tcvtsi2sdq %[v], %%xmm1\n\t"
                 "movdqu %%xmm1, %[x]", [x] "+m"(x) : [v] "r"(v));
    else if (dbl)
        HOST_ASM("movdqu %[x], %%xmm1\n\tcvtsi2sdl %k[v], %%xmm1\n\t"
                 "movdqu %%xmm1, %[x]", [x] "+m"(x) : [v] "r"(v));
    else if (q)
        HOST_ASM("movdqu %[x], %%xmm1\n\tcvtsi2ssq %[v], %%xmm1\n\t"
                 "movdqu %%xmm1, %[x]", [x] "+m"(x) : [v] "r"(v));
    else
        HOST_ASM("movdqu %[x], %%xmm1\n\tcvtsi2ssl %k[v], %%xmm1\n\t"
                 "movdqu %%xmm1, %[x]", [x] "+m"(x) : [v] "r"(v));
    sse_mxcsr_raise(cpu, mx);
    memcpy(sse_xmm(cpu, c->insn->reg), x, 16);
}

/* CVT(T)SS2SI / CVT(T)SD2SI r32/64, xmm/m32/64 */
static void cvts2si(struct sse_ctx *c, bool trunc)
{
    struct cpu *cpu = c->cpu;
    bool q = c->insn->rex & 8, dbl = c->pfx == 0xf2;
    uint8_t x[16];
    uint64_t r = 0;
    sse_check_sse(cpu);
    sse_read_rm(c, false, x, dbl ? 8 : 4, false);
    uint32_t mx = host_mxcsr(cpu);
    unsigned sel = (unsigned)dbl << 2 | (unsigned)q << 1 | trunc;
    switch (sel) {
#define CVT(n, insn_, reg)                                                    \
    case n:                                                                   \
        HOST_ASM("movdqu %[x], %%xmm2\n\t" insn_ " %%xmm2, %" reg "[r]",      \
                 [r] "=r"(r) : [x] "m"(x));                                  \
        break;
    CVT(0, "cvtss2si", "k") CVT(1, "cvttss2si", "k")
    CVT(2, "cvtss2si", "q") CVT(3, "cvttss2si", "q")
    CVT(4, "cvtsd2si", "k") CVT(5, "cvttsd2si", "k")
    CVT(6, "cvtsd2si", "q") CVT(7, "cvttsd2si", "q")
#undef CVT
    }
    sse_mxcsr_raise(cpu, mx);
    sse_set_gpr(cpu, c->insn->reg, r, q ? 8 : 4);
}

/* the MMX conversions run the packed XMM rows on zero-padded operands */
static void cvt_mmx(struct sse_ctx *c, enum sse_host_id id, bool to_mm,
                    unsigned src_size)
{
    struct cpu *cpu = c->cpu;
    struct sse_io io = { .mxcsr = fx_get32(cpu, FX_MXCSR) };
    bool mm_src = !to_mm && !mem(c);
    sse_check_sse(cpu);
    if (to_mm || mm_src)
        sse_check_mmx(cpu);
    sse_read_rm(c, mm_src, io.b, src_size, src_size == 16);
    if (src_size == 8)
        memset(io.b + 8, 0, 8);
    sse_host_call(cpu, &sse_host_rows[id], &io);
    if (to_mm) {
        uint64_t v;
        memcpy(&v, io.a, 8);
        sse_set_mm(cpu, c->insn->reg, v);
    } else {
        memcpy(sse_xmm(cpu, c->insn->reg), io.a, id == SH_cvtdq2pd ? 16 : 8);
    }
}

static void comis(struct sse_ctx *c)
{
    struct cpu *cpu = c->cpu;
    bool dbl = c->pfx == 0x66, ordered = c->insn->opcode == 0x2f;
    uint8_t a[16], b[16];
    uint8_t z = 0, p = 0, cf = 0;
    sse_check_sse(cpu);
    sse_read_rm(c, false, b, dbl ? 8 : 4, false);
    memcpy(a, sse_xmm(cpu, c->insn->reg), 16);
    uint32_t mx = host_mxcsr(cpu);
    switch ((unsigned)dbl << 1 | ordered) {
#define CMP(n, insn_)                                                         \
    case n:                                                                   \
        HOST_ASM("movdqu %[a], %%xmm1\n\tmovdqu %[b], %%xmm2\n\t" insn_       \
                 " %%xmm2, %%xmm1\n\tsetz %[z]\n\tsetp %[p]\n\tsetc %[cf]",   \
                 [z] "=r"(z), [p] "=r"(p), [cf] "=r"(cf)                      \
                 : [a] "m"(a), [b] "m"(b));                                   \
        break;
    CMP(0, "ucomiss") CMP(1, "comiss") CMP(2, "ucomisd") CMP(3, "comisd")
#undef CMP
    }
    sse_mxcsr_raise(cpu, mx);
    uint64_t fl = cpu_get_rflags(cpu) & ~(uint64_t)FL_ARITH;
    fl |= (z ? FL_ZF : 0) | (p ? FL_PF : 0) | (cf ? FL_CF : 0);
    cpu_set_rflags(cpu, fl);
}

bool sse_exec_convert(struct sse_ctx *c)
{
    if (c->insn->map != MAP_0F)
        return false;
    unsigned p = c->pfx;
    switch (c->insn->opcode) {
    case 0x2a:
        if (p == 0xf3 || p == 0xf2)
            cvtsi2s(c);
        else if (p == 0)
            cvt_mmx(c, SH_cvtdq2ps, false, 8);
        else
            cvt_mmx(c, SH_cvtdq2pd, false, 8);
        return true;
    case 0x2c: case 0x2d: {
        bool trunc = c->insn->opcode == 0x2c;
        if (p == 0xf3 || p == 0xf2)
            cvts2si(c, trunc);
        else if (p == 0)
            cvt_mmx(c, trunc ? SH_cvttps2dq : SH_cvtps2dq, true, 8);
        else
            cvt_mmx(c, trunc ? SH_cvttpd2dq : SH_cvtpd2dq, true, 16);
        return true;
    }
    case 0x2e: case 0x2f:
        if (p > 0x66)
            return false;
        comis(c);
        return true;
    }
    return false;
}
