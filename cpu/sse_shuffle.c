/* MMX/SSE instructions steered by an immediate or moving single elements:
 * PSHUFW/D/HW/LW, SHUFPS/PD, the shift-by-immediate groups (71-73, incl.
 * PSRLDQ/PSLLDQ), PINSRW/B/D/Q, PEXTRW/B/D/Q, EXTRACTPS, INSERTPS,
 * BLENDPS/PD, PBLENDW, PALIGNR, MPSADBW, DPPS/DPPD, the MMX PSHUFB and
 * PTEST. The dot products run step by step on the host (cpu/sse_host.c). */
#include "cpu/fpu_internal.h"

static bool mem(const struct sse_ctx *c) { return c->insn->mod != 3; }

static void pshuf(struct sse_ctx *c)
{
    struct cpu *cpu = c->cpu;
    unsigned imm = c->insn->imm & 0xff;
    uint16_t s[8], d[8];
    if (c->pfx == 0) {
        sse_check_mmx(cpu);
        sse_read_rm(c, true, s, 8, false);
        for (unsigned i = 0; i < 4; i++)
            d[i] = s[(imm >> (2 * i)) & 3];
        uint64_t v;
        memcpy(&v, d, 8);
        sse_set_mm(cpu, c->insn->reg, v);
        return;
    }
    sse_check_sse(cpu);
    sse_read_rm(c, false, s, 16, true);
    memcpy(d, s, 16);
    if (c->pfx == 0x66) {
        uint32_t s32[4], d32[4];
        memcpy(s32, s, 16);
        for (unsigned i = 0; i < 4; i++)
            d32[i] = s32[(imm >> (2 * i)) & 3];
        memcpy(d, d32, 16);
    } else {
        unsigned base = c->pfx == 0xf3 ? 4 : 0;
        for (unsigned i = 0; i < 4; i++)
            d[base + i] = s[base + ((imm >> (2 * i)) & 3)];
    }
    memcpy(sse_xmm(cpu, c->insn->reg), d, 16);
}

static void byte_shift(struct sse_ctx *c, bool left)
{
    uint8_t *r = sse_xmm(c->cpu, c->insn->rm), t[16] = { 0 };
    unsigned n = c->insn->imm & 0xff;
    if (n > 16)
        n = 16;
    if (left)
        memcpy(t + n, r, 16 - n);
    else
        memcpy(t, r + n, 16 - n);
    memcpy(r, t, 16);
}

/* 71/72/73 groups: the count goes to the shift-by-register row */
static bool shift_imm(struct sse_ctx *c)
{
    static const uint8_t reg_op[3][8] = {
        [0] = { [2] = 0xd1, [4] = 0xe1, [6] = 0xf1 },
        [1] = { [2] = 0xd2, [4] = 0xe2, [6] = 0xf2 },
        [2] = { [2] = 0xd3, [6] = 0xf3 },
    };
    const struct x86_insn *insn = c->insn;
    unsigned r = insn->reg & 7;
    if (!mem(c) && (c->pfx == 0 || c->pfx == 0x66)) {
        if (insn->opcode == 0x73 && c->pfx == 0x66 && (r == 3 || r == 7)) {
            sse_check_sse(c->cpu);
            byte_shift(c, r == 7);
            return true;
        }
        unsigned op = reg_op[insn->opcode - 0x71][r];
        if (!op)
            return false;
        const struct sse_host_row *row = sse_host_find(MAP_0F, op, c->pfx, 0);
        struct sse_io io = { .mxcsr = 0 };
        io.b[0] = (uint8_t)insn->imm;
        if (c->pfx == 0) {
            sse_check_mmx(c->cpu);
            uint64_t v = sse_mm(c->cpu, insn->rm);
            memcpy(io.a, &v, 8);
            sse_host_call(c->cpu, row, &io);
            memcpy(&v, io.a, 8);
            sse_set_mm(c->cpu, insn->rm, v);
        } else {
            sse_check_sse(c->cpu);
            memcpy(io.a, sse_xmm(c->cpu, insn->rm), 16);
            sse_host_call(c->cpu, row, &io);
            memcpy(sse_xmm(c->cpu, insn->rm), io.a, 16);
        }
        return true;
    }
    return false;
}

static void shufp(struct sse_ctx *c)
{
    unsigned imm = c->insn->imm & 0xff;
    uint8_t *d = sse_xmm(c->cpu, c->insn->reg), s[16], r[16];
    sse_check_sse(c->cpu);
    sse_read_rm(c, false, s, 16, true);
    if (c->pfx == 0) {
        for (unsigned i = 0; i < 4; i++)
            memcpy(r + 4 * i, (i < 2 ? d : s) + 4 * ((imm >> (2 * i)) & 3), 4);
    } else {
        memcpy(r, d + 8 * (imm & 1), 8);
        memcpy(r + 8, s + 8 * ((imm >> 1) & 1), 8);
    }
    memcpy(d, r, 16);
}

static void pinsrw(struct sse_ctx *c)
{
    struct cpu *cpu = c->cpu;
    uint16_t v = (uint16_t)sse_gpr_rm(c, 2);
    if (c->pfx == 0) {
        sse_check_mmx(cpu);
        uint64_t m = sse_mm(cpu, c->insn->reg);
        unsigned sh = 16 * (c->insn->imm & 3);
        m = (m & ~(0xffffull << sh)) | (uint64_t)v << sh;
        sse_set_mm(cpu, c->insn->reg, m);
    } else {
        sse_check_sse(cpu);
        memcpy(sse_xmm(cpu, c->insn->reg) + 2 * (c->insn->imm & 7), &v, 2);
    }
}

static void pextrw(struct sse_ctx *c)
{
    struct cpu *cpu = c->cpu;
    uint16_t v;
    if (c->pfx == 0) {
        sse_check_mmx(cpu);
        v = (uint16_t)(sse_mm(cpu, c->insn->rm) >> (16 * (c->insn->imm & 3)));
    } else {
        sse_check_sse(cpu);
        memcpy(&v, sse_xmm(cpu, c->insn->rm) + 2 * (c->insn->imm & 7), 2);
    }
    sse_set_gpr(cpu, c->insn->reg, v, 4);
}

static void palignr(struct sse_ctx *c)
{
    unsigned n = c->insn->imm & 0xff;
    uint8_t cat[64] = { 0 }, s[16];
    unsigned w = c->pfx ? 16 : 8;
    if (c->pfx)
        sse_check_sse(c->cpu);
    else
        sse_check_mmx(c->cpu);
    sse_read_rm(c, !c->pfx, s, w, true);
    memcpy(cat, s, w);
    if (c->pfx) {
        memcpy(cat + 16, sse_xmm(c->cpu, c->insn->reg), 16);
        memcpy(sse_xmm(c->cpu, c->insn->reg), n < 32 ? cat + n : cat + 32, 16);
    } else {
        uint64_t d = sse_mm(c->cpu, c->insn->reg), r;
        memcpy(cat + 8, &d, 8);
        memcpy(&r, n < 16 ? cat + n : cat + 16, 8);
        sse_set_mm(c->cpu, c->insn->reg, r);
    }
}

static void pshufb_mmx(struct sse_ctx *c)
{
    uint8_t s[16], d[8], r[8];
    sse_check_mmx(c->cpu);
    sse_read_rm(c, true, s, 8, false);
    uint64_t v = sse_mm(c->cpu, c->insn->reg);
    memcpy(d, &v, 8);
    for (unsigned i = 0; i < 8; i++)
        r[i] = s[i] & 0x80 ? 0 : d[s[i] & 7];
    memcpy(&v, r, 8);
    sse_set_mm(c->cpu, c->insn->reg, v);
}

static void ptest(struct sse_ctx *c)
{
    uint64_t s[2], d[2];
    sse_check_sse(c->cpu);
    sse_read_rm(c, false, s, 16, true);
    memcpy(d, sse_xmm(c->cpu, c->insn->reg), 16);
    uint64_t fl = cpu_get_rflags(c->cpu) & ~(uint64_t)FL_ARITH;
    if (!((s[0] & d[0]) | (s[1] & d[1])))
        fl |= FL_ZF;
    if (!((s[0] & ~d[0]) | (s[1] & ~d[1])))
        fl |= FL_CF;
    cpu_set_rflags(c->cpu, fl);
}

static void blend(struct sse_ctx *c, unsigned w)
{
    uint8_t s[16], *d = sse_xmm(c->cpu, c->insn->reg);
    unsigned imm = c->insn->imm & 0xff;
    sse_check_sse(c->cpu);
    sse_read_rm(c, false, s, 16, true);
    for (unsigned i = 0; i < 16 / w; i++)
        if (imm & (1u << i))
            memcpy(d + w * i, s + w * i, w);
}

/* PEXTRB/W/D/Q, EXTRACTPS: to a GPR (zero-extended) or memory */
static void pextr(struct sse_ctx *c, unsigned size)
{
    const struct x86_insn *insn = c->insn;
    unsigned lanes = 16 / size;
    uint64_t v = 0;
    sse_check_sse(c->cpu);
    memcpy(&v, sse_xmm(c->cpu, insn->reg) + size * (insn->imm & (lanes - 1)),
           size);
    if (mem(c))
        vec_write(c->cpu, insn, c->ea, &v, size);
    else
        sse_set_gpr(c->cpu, insn->rm, v, size == 8 ? 8 : 4);
}

static void pinsr(struct sse_ctx *c, unsigned size)
{
    const struct x86_insn *insn = c->insn;
    unsigned lanes = 16 / size;
    uint64_t v;
    sse_check_sse(c->cpu);
    if (mem(c)) {
        v = 0;
        vec_read(c->cpu, insn, c->ea, &v, size);
    } else {
        v = c->cpu->s.gpr[insn->rm & 15];
    }
    memcpy(sse_xmm(c->cpu, insn->reg) + size * (insn->imm & (lanes - 1)), &v,
           size);
}

static void insertps(struct sse_ctx *c)
{
    unsigned imm = c->insn->imm & 0xff;
    uint8_t *d = sse_xmm(c->cpu, c->insn->reg);
    uint32_t v, r[4];
    sse_check_sse(c->cpu);
    if (mem(c)) {
        vec_read(c->cpu, c->insn, c->ea, &v, 4);
    } else {
        memcpy(&v, sse_xmm(c->cpu, c->insn->rm) + 4 * (imm >> 6), 4);
    }
    memcpy(r, d, 16);
    r[(imm >> 4) & 3] = v;
    for (unsigned i = 0; i < 4; i++)
        if (imm & (1u << i))
            r[i] = 0;
    memcpy(d, r, 16);
}

static void mpsadbw(struct sse_ctx *c)
{
    unsigned imm = c->insn->imm & 0xff;
    uint8_t s[16], *d = sse_xmm(c->cpu, c->insn->reg);
    uint16_t r[8];
    sse_check_sse(c->cpu);
    sse_read_rm(c, false, s, 16, true);
    unsigned so = 4 * (imm & 3), dof = 4 * ((imm >> 2) & 1);
    for (unsigned i = 0; i < 8; i++) {
        unsigned sum = 0;
        for (unsigned j = 0; j < 4; j++) {
            int x = d[dof + i + j] - s[so + j];
            sum += (unsigned)(x < 0 ? -x : x);
        }
        r[i] = (uint16_t)sum;
    }
    memcpy(d, r, 16);
}

/* DPPS/DPPD: multiply the selected lanes, add in the SDM's order, broadcast
 * to the selected lanes. Each step is one host operation with the guest
 * MXCSR; an unmasked exception in a step ends the instruction there. */
static void dpp(struct sse_ctx *c, bool dbl)
{
    struct cpu *cpu = c->cpu;
    unsigned imm = c->insn->imm & 0xff, lanes = dbl ? 2 : 4, w = 16 / lanes;
    uint8_t s[16], *d = sse_xmm(cpu, c->insn->reg);
    uint32_t mx = fx_get32(cpu, FX_MXCSR);
    sse_check_sse(cpu);
    sse_read_rm(c, false, s, 16, true);

    struct sse_io mul = { .mxcsr = mx };
    for (unsigned i = 0; i < lanes; i++)
        if (imm & (0x10u << i)) {
            memcpy(mul.a + w * i, d + w * i, w);
            memcpy(mul.b + w * i, s + w * i, w);
        }
    sse_host_call(cpu, &sse_host_rows[dbl ? SH_mulpd : SH_mulps], &mul);
    struct sse_io add = { .mxcsr = mx };
    if (dbl) {
        memcpy(add.a, mul.a, 8);
        memcpy(add.b, mul.a + 8, 8);
        sse_host_call(cpu, &sse_host_rows[SH_addsd], &add);
    } else {
        /* (p0 + p1) and (p2 + p3) side by side, then their sum */
        memcpy(add.a, mul.a, 4);
        memcpy(add.b, mul.a + 4, 4);
        memcpy(add.a + 4, mul.a + 8, 4);
        memcpy(add.b + 4, mul.a + 12, 4);
        sse_host_call(cpu, &sse_host_rows[SH_addps], &add);
        memcpy(add.b, add.a + 4, 4);
        memset(add.a + 4, 0, 12);
        memset(add.b + 4, 0, 12);
        add.mxcsr = mx;
        sse_host_call(cpu, &sse_host_rows[SH_addss], &add);
    }
    uint8_t r[16] = { 0 };
    for (unsigned i = 0; i < lanes; i++)
        if (imm & (1u << i))
            memcpy(r + w * i, add.a, w);
    memcpy(d, r, 16);
}

bool sse_exec_shuffle(struct sse_ctx *c)
{
    const struct x86_insn *insn = c->insn;
    unsigned p = c->pfx;
    if (insn->map == MAP_0F) {
        switch (insn->opcode) {
        case 0x70: pshuf(c); return true;
        case 0x71: case 0x72: case 0x73: return shift_imm(c);
        case 0xc4:
            if (p > 0x66)
                return false;
            pinsrw(c);
            return true;
        case 0xc5:
            if (p > 0x66 || mem(c))
                return false;
            pextrw(c);
            return true;
        case 0xc6:
            if (p > 0x66)
                return false;
            shufp(c);
            return true;
        }
        return false;
    }
    if (insn->map == MAP_0F38) {
        if (insn->opcode == 0x00 && p == 0) {
            pshufb_mmx(c);
            return true;
        }
        if (insn->opcode == 0x17 && p == 0x66) {
            ptest(c);
            return true;
        }
        return false;
    }
    if (insn->map != MAP_0F3A)
        return false;
    if (insn->opcode == 0x0f && p <= 0x66) {
        palignr(c);
        return true;
    }
    if (p != 0x66)
        return false;
    switch (insn->opcode) {
    case 0x0c: blend(c, 4); return true;
    case 0x0d: blend(c, 8); return true;
    case 0x0e: blend(c, 2); return true;
    case 0x14: pextr(c, 1); return true;
    case 0x15: pextr(c, 2); return true;
    case 0x16: pextr(c, insn->rex & 8 ? 8 : 4); return true;
    case 0x17: pextr(c, 4); return true;
    case 0x20: pinsr(c, 1); return true;
    case 0x21: insertps(c); return true;
    case 0x22: pinsr(c, insn->rex & 8 ? 8 : 4); return true;
    case 0x40: dpp(c, false); return true;
    case 0x41: dpp(c, true); return true;
    case 0x42: mpsadbw(c); return true;
    }
    return false;
}
