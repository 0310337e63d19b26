/* The x87 control instructions with memory operands: FLDCW, FNSTCW, FNSTSW
 * m16, FLDENV/FNSTENV and FRSTOR/FNSAVE in the four environment layouts
 * (16- or 32-bit operand size, real/V86 or protected mode). The FCS and FDS
 * selectors are not kept (the XSAVE image holds 64-bit pointers), so they
 * are stored as 0, as on processors that deprecate them. */
#include "cpu/fpu_internal.h"

static bool real_format(struct cpu *cpu)
{
    return cpu->mode == MODE_REAL || cpu->mode == MODE_V86;
}

static void put(uint8_t *buf, unsigned idx, bool wide, uint32_t v)
{
    if (wide)
        memcpy(buf + 4 * idx, &v, 4);
    else
        memcpy(buf + 2 * idx, &v, 2);
}

static uint32_t get(const uint8_t *buf, unsigned idx, bool wide)
{
    uint32_t v = 0;
    if (wide)
        memcpy(&v, buf + 4 * idx, 4);
    else
        memcpy(&v, buf + 2 * idx, 2);
    return v;
}

static void store_env(struct cpu *cpu, const struct x86_insn *insn,
                      uint8_t *buf)
{
    bool wide = insn->opsize != 2;
    uint32_t hi = wide ? 0xffff0000u : 0;
    uint32_t fip = (uint32_t)fx_get64(cpu, FX_FIP);
    uint32_t fdp = (uint32_t)fx_get64(cpu, FX_FDP);
    uint32_t fop = fx_get16(cpu, FX_FOP) & 0x7ff;
    put(buf, 0, wide, hi | fpu_fcw(cpu));
    put(buf, 1, wide, hi | fpu_fsw(cpu));
    put(buf, 2, wide, hi | fpu_full_tag_word(cpu));
    if (real_format(cpu)) {
        put(buf, 3, wide, hi | (fip & 0xffff));
        put(buf, 4, wide, ((fip >> 16) << 12 & (wide ? 0x0ffff000u : 0xf000)) |
                          fop);
        put(buf, 5, wide, hi | (fdp & 0xffff));
        put(buf, 6, wide, (fdp >> 16) << 12 & (wide ? 0x0ffff000u : 0xf000));
    } else {
        put(buf, 3, wide, wide ? fip : fip & 0xffff);
        put(buf, 4, wide, wide ? fop << 16 : 0); /* FCS not kept */
        put(buf, 5, wide, wide ? fdp : fdp & 0xffff);
        put(buf, 6, wide, hi);                   /* FDS not kept */
    }
}

static void load_env(struct cpu *cpu, const struct x86_insn *insn,
                     const uint8_t *buf)
{
    bool wide = insn->opsize != 2;
    uint64_t fip, fdp;
    uint16_t fop = 0;
    fx_set16(cpu, FX_FCW, FCW_FIX(get(buf, 0, wide)));
    fpu_load_full_tag_word(cpu, (uint16_t)get(buf, 2, wide));
    if (real_format(cpu)) {
        uint32_t w4 = get(buf, 4, wide), w6 = get(buf, 6, wide);
        fip = (get(buf, 3, wide) & 0xffff) | (uint64_t)(w4 >> 12) << 16;
        fdp = (get(buf, 5, wide) & 0xffff) | (uint64_t)(w6 >> 12) << 16;
        fop = w4 & 0x7ff;
    } else {
        fip = get(buf, 3, wide);
        fdp = get(buf, 5, wide);
        if (wide)
            fop = (get(buf, 4, wide) >> 16) & 0x7ff;
    }
    fx_set64(cpu, FX_FIP, fip);
    fx_set64(cpu, FX_FDP, fdp);
    fx_set16(cpu, FX_FOP, fop);
    uint16_t fsw = (uint16_t)get(buf, 1, wide);
    fpu_move_top(cpu, (fsw >> 11) & 7);
    fpu_set_fsw(cpu, fsw);
}

void fpu_exec_env(struct cpu *cpu, const struct x86_insn *insn, uint64_t ea)
{
    uint8_t buf[28 + 80];
    unsigned env = insn->opsize == 2 ? 14 : 28;
    unsigned reg = insn->reg & 7;
    uint16_t w;

    if (insn->opcode == 0xd9) {
        switch (reg) {
        case 4: /* FLDENV */
            vec_read(cpu, insn, ea, buf, env);
            load_env(cpu, insn, buf);
            return;
        case 5: /* FLDCW */
            vec_read(cpu, insn, ea, &w, 2);
            fx_set16(cpu, FX_FCW, FCW_FIX(w));
            fpu_set_fsw(cpu, fpu_fsw(cpu));
            return;
        case 6: /* FNSTENV, then mask all exceptions */
            store_env(cpu, insn, buf);
            vec_write(cpu, insn, ea, buf, env);
            fx_set16(cpu, FX_FCW, fpu_fcw(cpu) | FSW_EXC);
            fpu_set_fsw(cpu, fpu_fsw(cpu));
            return;
        case 7: /* FNSTCW */
            w = fpu_fcw(cpu);
            vec_write(cpu, insn, ea, &w, 2);
            return;
        }
    } else { /* DD */
        switch (reg) {
        case 4: /* FRSTOR */
            vec_read(cpu, insn, ea, buf, env + 80);
            load_env(cpu, insn, buf);
            for (unsigned i = 0; i < 8; i++) {
                uint8_t *slot = fx_ptr(cpu, FX_ST + 16 * i);
                memcpy(slot, buf + env + 10 * i, 10);
                memset(slot + 10, 0, 6);
            }
            return;
        case 6: /* FNSAVE, then FNINIT */
            store_env(cpu, insn, buf);
            for (unsigned i = 0; i < 8; i++)
                memcpy(buf + env + 10 * i, fx_ptr(cpu, FX_ST + 16 * i), 10);
            vec_write(cpu, insn, ea, buf, env + 80);
            fpu_reset(cpu);
            return;
        case 7: /* FNSTSW m16 */
            w = fpu_fsw(cpu);
            vec_write(cpu, insn, ea, &w, 2);
            return;
        }
    }
    cpu_raise_noerr(cpu, EXC_UD);
}
