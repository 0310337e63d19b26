/* SSE4.2 string instructions: PCMPESTRI/PCMPESTRM/PCMPISTRI/
 * PCMPISTRM (explicit or implicit lengths, the four aggregations, polarity,
 * index or mask output, CF/ZF/SF/OF). */
#include "cpu/fpu_internal.h"

static int elem(const uint8_t *v, unsigned i, unsigned fmt)
{
    switch (fmt) {
    case 0: return v[i];
    case 1: return v[2 * i] | v[2 * i + 1] << 8;
    case 2: return (int8_t)v[i];
    default: return (int16_t)(v[2 * i] | v[2 * i + 1] << 8);
    }
}

static unsigned explicit_len(struct cpu *cpu, int reg, bool wide, unsigned n)
{
    int64_t v = wide ? (int64_t)cpu->s.gpr[reg] : (int32_t)cpu->s.gpr[reg];
    uint64_t a = v < 0 ? -(uint64_t)v : (uint64_t)v;
    return a > n ? n : (unsigned)a;
}

static unsigned implicit_len(const uint8_t *v, unsigned fmt, unsigned n)
{
    unsigned i = 0;
    while (i < n && elem(v, i, fmt) != 0)
        i++;
    return i;
}

static void pcmpstr(struct sse_ctx *c)
{
    struct cpu *cpu = c->cpu;
    const struct x86_insn *insn = c->insn;
    unsigned imm = insn->imm & 0xff, fmt = imm & 3, agg = (imm >> 2) & 3;
    unsigned n = (fmt & 1) ? 8 : 16;
    bool explicit_ = !(insn->opcode & 2), index = insn->opcode & 1;
    uint8_t b[16];
    const uint8_t *a = sse_xmm(cpu, insn->reg);
    sse_check_sse(cpu);
    sse_read_rm(c, false, b, 16, false);

    unsigned la, lb;
    if (explicit_) {
        la = explicit_len(cpu, R_AX, insn->rex & 8, n);
        lb = explicit_len(cpu, R_DX, insn->rex & 8, n);
    } else {
        la = implicit_len(a, fmt, n);
        lb = implicit_len(b, fmt, n);
    }

    unsigned res1 = 0;
    for (unsigned j = 0; j < n; j++) {
        bool r = false;
        switch (agg) {
        case 0: /* equal any */
            for (unsigned i = 0; i < la && j < lb && !r; i++)
                r = elem(a, i, fmt) == elem(b, j, fmt);
            break;
        case 1: /* ranges */
            for (unsigned i = 0; i + 1 < la && j < lb && !r; i += 2)
                r = elem(b, j, fmt) >= elem(a, i, fmt) &&
                    elem(b, j, fmt) <= elem(a, i + 1, fmt);
            break;
        case 2: /* equal each */
            if (j >= la && j >= lb)
                r = true;
            else if (j < la && j < lb)
                r = elem(a, j, fmt) == elem(b, j, fmt);
            break;
        case 3: /* equal ordered */
            r = true;
            for (unsigned k = 0; k < n - j && r; k++) {
                if (k >= la)
                    break;
                if (j + k >= lb)
                    r = false;
                else
                    r = elem(a, k, fmt) == elem(b, j + k, fmt);
            }
            break;
        }
        if (r)
            res1 |= 1u << j;
    }

    unsigned all = (1u << n) - 1, valid_b = (1u << lb) - 1, res2 = res1;
    switch ((imm >> 4) & 3) {
    case 1: res2 = ~res1 & all; break;
    case 3: res2 = (res1 ^ valid_b) & all; break;
    }

    if (index) {
        unsigned idx = n;
        if (res2)
            idx = imm & 0x40 ? 31 - (unsigned)__builtin_clz(res2)
                             : (unsigned)__builtin_ctz(res2);
        cpu->s.gpr[R_CX] = idx;
    } else {
        uint8_t m[16] = { 0 };
        if (imm & 0x40) {
            unsigned w = 16 / n;
            for (unsigned i = 0; i < n; i++)
                if (res2 & (1u << i))
                    memset(m + w * i, 0xff, w);
        } else {
            m[0] = (uint8_t)res2;
            m[1] = (uint8_t)(res2 >> 8);
        }
        memcpy(sse_xmm(cpu, 0), m, 16);
    }
    uint64_t fl = cpu_get_rflags(cpu) & ~(uint64_t)FL_ARITH;
    if (res2)
        fl |= FL_CF;
    if (lb < n)
        fl |= FL_ZF;
    if (la < n)
        fl |= FL_SF;
    if (res2 & 1)
        fl |= FL_OF;
    cpu_set_rflags(cpu, fl);
}

bool sse_exec_string(struct sse_ctx *c)
{
    const struct x86_insn *insn = c->insn;
    if (insn->map == MAP_0F3A && c->pfx == 0x66 && insn->opcode >= 0x60 &&
        insn->opcode <= 0x63) {
        pcmpstr(c);
        return true;
    }
    return false;
}
