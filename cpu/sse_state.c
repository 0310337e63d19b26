/* Saving and restoring the x87/SSE state: FXSAVE/FXRSTOR (32-bit and REX.W
 * 64-bit pointer formats), LDMXCSR/STMXCSR, XSAVE/XSAVEOPT/XRSTOR for the
 * x87 and SSE components (XCR0 bits 0 and 1, standard format) and
 * XGETBV/XSETBV. */
#include "cpu/fpu_internal.h"

#define XCR0_SUPPORTED 3ull

static bool long64(struct cpu *cpu) { return cpu->mode == MODE_LONG64; }

static void check_align(struct sse_ctx *c, unsigned align)
{
    if (vec_lin(c->cpu, c->insn, c->ea) & (align - 1))
        cpu_raise(c->cpu, EXC_GP, 0);
}

/* the legacy region image of component 0 (x87) and/or 1 (SSE) */
static void legacy_image(struct cpu *cpu, bool rexw, uint8_t *img,
                         bool x87, bool sse)
{
    uint8_t *fx = cpu->s.xsave;
    if (x87) {
        memcpy(img, fx, 32);
        img[5] = 0;
        if (!rexw) { /* FCS/FDS not kept: stored as 0 */
            memset(img + 12, 0, 4);
            memset(img + 20, 0, 4);
        }
        for (unsigned i = 0; i < 8; i++) {
            memcpy(img + FX_ST + 16 * i, fx + FX_ST + 16 * i, 10);
            memset(img + FX_ST + 16 * i + 10, 0, 6);
        }
    }
    if (sse) {
        memcpy(img + FX_MXCSR, fx + FX_MXCSR, 4);
        uint32_t mask = MXCSR_MASK_VALUE;
        memcpy(img + FX_MXCSR_MASK, &mask, 4);
        memcpy(img + FX_XMM, fx + FX_XMM, long64(cpu) ? 256 : 128);
    }
}

static void check_mxcsr(struct cpu *cpu, uint32_t mx)
{
    if (mx & ~MXCSR_MASK_VALUE)
        cpu_raise(cpu, EXC_GP, 0);
}

static void load_x87(struct cpu *cpu, bool rexw, const uint8_t *img)
{
    uint8_t *fx = cpu->s.xsave;
    memcpy(fx, img, 4);       /* FCW, FSW */
    fx[FX_FTW] = img[4];
    fx[5] = 0;
    memcpy(fx + FX_FOP, img + 6, 2);
    fx_set16(cpu, FX_FOP, fx_get16(cpu, FX_FOP) & 0x7ff);
    uint64_t fip, fdp;
    memcpy(&fip, img + 8, 8);
    memcpy(&fdp, img + 16, 8);
    if (!rexw) {
        fip &= 0xffffffffull;
        fdp &= 0xffffffffull;
    }
    fx_set64(cpu, FX_FIP, fip);
    fx_set64(cpu, FX_FDP, fdp);
    for (unsigned i = 0; i < 8; i++) {
        memcpy(fx + FX_ST + 16 * i, img + FX_ST + 16 * i, 10);
        memset(fx + FX_ST + 16 * i + 10, 0, 6);
    }
    fpu_set_fsw(cpu, fpu_fsw(cpu));
}

static void load_sse(struct cpu *cpu, const uint8_t *img)
{
    memcpy(cpu->s.xsave + FX_XMM, img + FX_XMM, long64(cpu) ? 256 : 128);
}

static void init_x87(struct cpu *cpu)
{
    fpu_reset(cpu);
    memset(cpu->s.xsave + FX_ST, 0, 128);
}

static void fxsave(struct sse_ctx *c)
{
    uint8_t img[512] = { 0 };
    bool rexw = c->insn->rex & 8;
    check_align(c, 16);
    legacy_image(c->cpu, rexw, img, true, true);
    vec_write(c->cpu, c->insn, c->ea, img, long64(c->cpu) ? 416 : 288);
}

static void fxrstor(struct sse_ctx *c)
{
    uint8_t img[512] = { 0 };
    uint32_t mx;
    check_align(c, 16);
    vec_read(c->cpu, c->insn, c->ea, img, long64(c->cpu) ? 416 : 288);
    memcpy(&mx, img + FX_MXCSR, 4);
    check_mxcsr(c->cpu, mx);
    load_x87(c->cpu, c->insn->rex & 8, img);
    fx_set32(c->cpu, FX_MXCSR, mx);
    load_sse(c->cpu, img);
}

static uint64_t rfbm(struct cpu *cpu)
{
    uint64_t mask = (cpu->s.gpr[R_DX] & 0xffffffffull) << 32 |
                    (cpu->s.gpr[R_AX] & 0xffffffffull);
    return mask & cpu->s.xcr0;
}

static void xsave(struct sse_ctx *c)
{
    struct cpu *cpu = c->cpu;
    uint8_t img[512] = { 0 };
    uint64_t m = rfbm(cpu), bv;
    bool rexw = c->insn->rex & 8;
    check_align(c, 64);
    vec_read(cpu, c->insn, vec_ea_add(c->insn, c->ea, 512), &bv, 8);
    if (m & 1) {
        legacy_image(cpu, rexw, img, true, false);
        vec_write(cpu, c->insn, c->ea, img, FX_MXCSR);
        vec_write(cpu, c->insn, vec_ea_add(c->insn, c->ea, FX_ST),
                  img + FX_ST, 128);
    }
    if (m & 2) {
        legacy_image(cpu, rexw, img, false, true);
        vec_write(cpu, c->insn, vec_ea_add(c->insn, c->ea, FX_MXCSR),
                  img + FX_MXCSR, 8);
        vec_write(cpu, c->insn, vec_ea_add(c->insn, c->ea, FX_XMM),
                  img + FX_XMM, long64(cpu) ? 256 : 128);
    }
    bv = (bv & ~m) | (m & XCR0_SUPPORTED);
    vec_write(cpu, c->insn, vec_ea_add(c->insn, c->ea, 512), &bv, 8);
}

static void xrstor(struct sse_ctx *c)
{
    struct cpu *cpu = c->cpu;
    uint8_t img[512], hdr[64];
    uint64_t m = rfbm(cpu), bv, comp;
    uint32_t mx;
    check_align(c, 64);
    vec_read(cpu, c->insn, vec_ea_add(c->insn, c->ea, 512), hdr, 64);
    memcpy(&bv, hdr, 8);
    memcpy(&comp, hdr + 8, 8);
    if (comp || (bv & ~cpu->s.xcr0))
        cpu_raise(cpu, EXC_GP, 0);
    for (unsigned i = 16; i < 64; i++)
        if (hdr[i])
            cpu_raise(cpu, EXC_GP, 0);
    vec_read(cpu, c->insn, c->ea, img, long64(cpu) ? 416 : 288);
    memcpy(&mx, img + FX_MXCSR, 4);
    if (m & 2)
        check_mxcsr(cpu, mx);
    if (m & 1) {
        if (bv & 1)
            load_x87(cpu, c->insn->rex & 8, img);
        else
            init_x87(cpu);
    }
    if (m & 2) {
        fx_set32(cpu, FX_MXCSR, mx);
        if (bv & 2)
            load_sse(cpu, img);
        else
            memset(cpu->s.xsave + FX_XMM, 0, 256);
    }
}

static void xsetbv(struct cpu *cpu)
{
    uint64_t v = (cpu->s.gpr[R_DX] & 0xffffffffull) << 32 |
                 (cpu->s.gpr[R_AX] & 0xffffffffull);
    if (cpu->cpl != 0 || cpu->mode == MODE_V86 ||
        (cpu->s.gpr[R_CX] & 0xffffffffull) != 0 || !(v & 1) ||
        (v & ~XCR0_SUPPORTED))
        cpu_raise(cpu, EXC_GP, 0);
    cpu->s.xcr0 = v;
}

static void xgetbv(struct cpu *cpu)
{
    uint32_t ecx = (uint32_t)cpu->s.gpr[R_CX];
    uint64_t v;
    if (ecx == 0)
        v = cpu->s.xcr0;
    else if (ecx == 1) /* XINUSE: reported as in use */
        v = cpu->s.xcr0 & XCR0_SUPPORTED;
    else
        cpu_raise(cpu, EXC_GP, 0);
    cpu->s.gpr[R_AX] = v & 0xffffffffull;
    cpu->s.gpr[R_DX] = v >> 32;
}

static void check_xsave(struct cpu *cpu)
{
    if (!(cpu->s.cr4 & CR4_OSXSAVE))
        cpu_raise_noerr(cpu, EXC_UD);
}

bool sse_exec_state(struct sse_ctx *c)
{
    const struct x86_insn *insn = c->insn;
    struct cpu *cpu = c->cpu;
    unsigned reg = insn->reg & 7;
    if (insn->map != MAP_0F)
        return false;
    if (insn->opcode == 0x01 && insn->mod == 3 && reg == 2 &&
        (insn->rm & 7) <= 1) {
        check_xsave(cpu);
        if (insn->rm & 1)
            xsetbv(cpu);
        else
            xgetbv(cpu);
        return true;
    }
    if (insn->opcode != 0xae)
        return false;
    if (insn->mod == 3 || c->pfx != 0)
        return false;
    switch (reg) {
    case 0: case 1: /* FXSAVE, FXRSTOR */
        if (cpu->s.cr0 & CR0_EM)
            cpu_raise_noerr(cpu, EXC_UD);
        if (cpu->s.cr0 & CR0_TS)
            cpu_raise_noerr(cpu, EXC_NM);
        if (reg == 0)
            fxsave(c);
        else
            fxrstor(c);
        return true;
    case 2: { /* LDMXCSR */
        uint32_t mx;
        sse_check_sse(cpu);
        vec_read(cpu, insn, c->ea, &mx, 4);
        check_mxcsr(cpu, mx);
        fx_set32(cpu, FX_MXCSR, mx);
        return true;
    }
    case 3: { /* STMXCSR */
        sse_check_sse(cpu);
        uint32_t mx = fx_get32(cpu, FX_MXCSR);
        vec_write(cpu, insn, c->ea, &mx, 4);
        return true;
    }
    case 4: case 5: case 6: /* XSAVE, XRSTOR, XSAVEOPT */
        check_xsave(cpu);
        if (cpu->s.cr0 & CR0_TS)
            cpu_raise_noerr(cpu, EXC_NM);
        if (reg == 5)
            xrstor(c);
        else
            xsave(c);
        return true;
    }
    return false;
}
