/* MMX/SSE data movement: MOVUPS/UPD/APS/APD/SS/SD, MOVLPS/HPS/LPD/HPD,
 * MOVHLPS/LHPS, MOVD/MOVQ (with GPRs, MMX and XMM), MOVDQA/DQU, LDDQU,
 * MOVQ2DQ/MOVDQ2Q, the non-temporal moves (MOVNTPS/PD/DQ/Q, MOVNTDQA),
 * MASKMOVQ/MASKMOVDQU, MOVMSKPS/PD, PMOVMSKB and EMMS.
 * Aligned forms raise #GP(0) on a misaligned 16-byte memory operand. */
#include "cpu/fpu_internal.h"
#include "cpu/interp.h"

static bool mem(const struct sse_ctx *c) { return c->insn->mod != 3; }

/* xmm[reg] = r/m (size bytes; for memory the rest is zeroed when zext) */
static void load_xmm(struct sse_ctx *c, unsigned size, bool align, bool zext)
{
    uint8_t buf[16];
    sse_check_sse(c->cpu);
    sse_read_rm(c, false, buf, mem(c) ? size : 16, align);
    uint8_t *d = sse_xmm(c->cpu, c->insn->reg);
    if (mem(c) && zext)
        memcpy(d, buf, 16);
    else
        memcpy(d, buf, size);
}

/* r/m = xmm[reg] (size bytes) */
static void store_xmm(struct sse_ctx *c, unsigned size, bool align,
                      unsigned offset)
{
    sse_check_sse(c->cpu);
    const uint8_t *s = sse_xmm(c->cpu, c->insn->reg) + offset;
    if (mem(c))
        sse_write_mem(c, s, size, align);
    else
        memmove(sse_xmm(c->cpu, c->insn->rm), s, size);
}

static void maskmov(struct sse_ctx *c, bool mmx)
{
    struct cpu *cpu = c->cpu;
    const struct x86_insn *insn = c->insn;
    uint8_t data[16], mask[16];
    unsigned n = mmx ? 8 : 16;
    if (mmx) {
        sse_check_mmx(cpu);
        uint64_t d = sse_mm(cpu, insn->reg), m = sse_mm(cpu, insn->rm);
        memcpy(data, &d, 8);
        memcpy(mask, &m, 8);
    } else {
        sse_check_sse(cpu);
        memcpy(data, sse_xmm(cpu, insn->reg), 16);
        memcpy(mask, sse_xmm(cpu, insn->rm), 16);
    }
    /* DS:rDI (segment override allowed), address-size masked */
    struct x86_insn at = *insn;
    at.base = R_DI;
    at.index = -1;
    at.disp = 0;
    at.rip_relative = 0;
    if (at.seg_override < 0)
        at.mem_seg = S_DS;
    else
        at.mem_seg = at.seg_override;
    uint64_t ea = insn_ea(cpu, &at);
    for (unsigned i = 0; i < n; i++)
        if (mask[i] & 0x80)
            vec_write(cpu, &at, vec_ea_add(&at, ea, i), &data[i], 1);
}

static bool exec_0f(struct sse_ctx *c)
{
    struct cpu *cpu = c->cpu;
    const struct x86_insn *insn = c->insn;
    unsigned p = c->pfx;
    uint8_t buf[16];
    switch (insn->opcode) {
    case 0x10:
        if (p == 0xf3 || p == 0xf2)
            load_xmm(c, p == 0xf3 ? 4 : 8, false, true);
        else
            load_xmm(c, 16, false, false);
        return true;
    case 0x11:
        store_xmm(c, p == 0xf3 ? 4 : p == 0xf2 ? 8 : 16, false, 0);
        return true;
    case 0x12: case 0x16:
        if (p == 0xf3 || p == 0xf2)
            return false; /* MOVSLDUP/MOVSHDUP/MOVDDUP: host rows */
        if (p == 0x66 && !mem(c))
            return false;
        sse_check_sse(cpu);
        if (!mem(c)) { /* MOVHLPS / MOVLHPS */
            uint8_t *d = sse_xmm(cpu, insn->reg), *s = sse_xmm(cpu, insn->rm);
            if (insn->opcode == 0x12)
                memmove(d, s + 8, 8);
            else
                memmove(d + 8, s, 8);
        } else {
            vec_read(cpu, insn, c->ea, buf, 8);
            memcpy(sse_xmm(cpu, insn->reg) + (insn->opcode == 0x16 ? 8 : 0),
                   buf, 8);
        }
        return true;
    case 0x13: case 0x17:
        if (p > 0x66 || !mem(c))
            return false;
        store_xmm(c, 8, false, insn->opcode == 0x17 ? 8 : 0);
        return true;
    case 0x28:
        if (p > 0x66)
            return false;
        load_xmm(c, 16, true, false);
        return true;
    case 0x29: case 0x2b:
        if (p > 0x66 || (insn->opcode == 0x2b && !mem(c)))
            return false;
        store_xmm(c, 16, true, 0);
        return true;
    case 0x50: /* MOVMSKPS/PD */
        if (p > 0x66 || mem(c))
            return false;
        sse_check_sse(cpu);
        {
            const uint8_t *s = sse_xmm(cpu, insn->rm);
            unsigned m = 0, lanes = p ? 2 : 4, w = 16 / lanes;
            for (unsigned i = 0; i < lanes; i++)
                m |= (unsigned)(s[w * i + w - 1] >> 7) << i;
            sse_set_gpr(cpu, insn->reg, m, 4);
        }
        return true;
    case 0x6e: { /* MOVD/MOVQ mm/xmm, r/m32/64 */
        if (p == 0xf3 || p == 0xf2)
            return false;
        unsigned size = insn->rex & 8 ? 8 : 4;
        if (p == 0x66)
            sse_check_sse(cpu);
        else
            sse_check_mmx(cpu);
        uint64_t v = sse_gpr_rm(c, size);
        if (p == 0x66) {
            memset(sse_xmm(cpu, insn->reg), 0, 16);
            memcpy(sse_xmm(cpu, insn->reg), &v, 8);
        } else {
            sse_set_mm(cpu, insn->reg, v);
        }
        return true;
    }
    case 0x7e: {
        if (p == 0xf3) { /* MOVQ xmm, xmm/m64 */
            load_xmm(c, 8, false, true);
            if (!mem(c))
                memset(sse_xmm(cpu, insn->reg) + 8, 0, 8);
            return true;
        }
        if (p == 0xf2)
            return false;
        unsigned size = insn->rex & 8 ? 8 : 4;
        uint64_t v;
        if (p == 0x66) {
            sse_check_sse(cpu);
            memcpy(&v, sse_xmm(cpu, insn->reg), 8);
        } else {
            sse_check_mmx(cpu);
            v = sse_mm(cpu, insn->reg);
        }
        if (mem(c))
            vec_write(cpu, insn, c->ea, &v, size);
        else
            sse_set_gpr(cpu, insn->rm, v, size);
        return true;
    }
    case 0x6f: case 0x7f:
        if (p == 0xf2)
            return false;
        if (p == 0) { /* MOVQ mm, mm/m64 and back */
            sse_check_mmx(cpu);
            uint64_t v;
            if (insn->opcode == 0x6f) {
                if (mem(c))
                    vec_read(cpu, insn, c->ea, &v, 8);
                else
                    v = sse_mm(cpu, insn->rm);
                sse_set_mm(cpu, insn->reg, v);
            } else {
                v = sse_mm(cpu, insn->reg);
                if (mem(c))
                    vec_write(cpu, insn, c->ea, &v, 8);
                else
                    sse_set_mm(cpu, insn->rm, v);
            }
        } else if (insn->opcode == 0x6f) {
            load_xmm(c, 16, p == 0x66, false);
        } else {
            store_xmm(c, 16, p == 0x66, 0);
        }
        return true;
    case 0x77: /* EMMS */
        if (p)
            return false;
        if (cpu->s.cr0 & CR0_EM)
            cpu_raise_noerr(cpu, EXC_UD);
        if (cpu->s.cr0 & CR0_TS)
            cpu_raise_noerr(cpu, EXC_NM);
        fpu_check_mf(cpu);
        cpu->s.xsave[FX_FTW] = 0;
        return true;
    case 0xd6:
        if (p == 0x66) { /* MOVQ xmm/m64, xmm */
            sse_check_sse(cpu);
            if (mem(c)) {
                vec_write(cpu, insn, c->ea, sse_xmm(cpu, insn->reg), 8);
            } else {
                uint8_t *d = sse_xmm(cpu, insn->rm);
                memmove(d, sse_xmm(cpu, insn->reg), 8);
                memset(d + 8, 0, 8);
            }
            return true;
        }
        if ((p != 0xf3 && p != 0xf2) || mem(c))
            return false;
        sse_check_sse(cpu);
        sse_check_mmx(cpu);
        if (p == 0xf3) { /* MOVQ2DQ xmm, mm */
            uint64_t v = sse_mm(cpu, insn->rm);
            memset(sse_xmm(cpu, insn->reg), 0, 16);
            memcpy(sse_xmm(cpu, insn->reg), &v, 8);
        } else {         /* MOVDQ2Q mm, xmm */
            uint64_t v;
            memcpy(&v, sse_xmm(cpu, insn->rm), 8);
            sse_set_mm(cpu, insn->reg, v);
        }
        return true;
    case 0xd7: { /* PMOVMSKB r32, mm/xmm */
        if (p > 0x66 || !(!mem(c)))
            return false;
        unsigned n = p ? 16 : 8, m = 0;
        if (p)
            sse_check_sse(cpu);
        else
            sse_check_mmx(cpu);
        sse_read_rm(c, !p, buf, n, false);
        for (unsigned i = 0; i < n; i++)
            m |= (unsigned)(buf[i] >> 7) << i;
        sse_set_gpr(cpu, insn->reg, m, 4);
        return true;
    }
    case 0xe7: /* MOVNTQ / MOVNTDQ */
        if (p > 0x66 || !mem(c))
            return false;
        if (p) {
            store_xmm(c, 16, true, 0);
        } else {
            sse_check_mmx(cpu);
            uint64_t v = sse_mm(cpu, insn->reg);
            vec_write(cpu, insn, c->ea, &v, 8);
        }
        return true;
    case 0xf0: /* LDDQU */
        if (p != 0xf2 || !mem(c))
            return false;
        load_xmm(c, 16, false, false);
        return true;
    case 0xf7: /* MASKMOVQ / MASKMOVDQU */
        if (p > 0x66 || mem(c))
            return false;
        maskmov(c, !p);
        return true;
    }
    return false;
}

bool sse_exec_move(struct sse_ctx *c)
{
    if (c->insn->map == MAP_0F)
        return exec_0f(c);
    if (c->insn->map == MAP_0F38 && c->insn->opcode == 0x2a) {
        if (c->pfx != 0x66 || !mem(c)) /* MOVNTDQA */
            return false;
        load_xmm(c, 16, true, false);
        return true;
    }
    return false;
}
