/* Interpreter: descriptor-table instructions: SGDT/SIDT/LGDT/LIDT,
 * SLDT/STR/LLDT/LTR, and the descriptor queries VERR/VERW/LAR/LSL plus
 * ARPL. Descriptors are read with cpu_read_descriptor() (16 bytes for
 * system descriptors in long mode). */
#include "cpu/interp.h"
#include "cpu/sys_internal.h"

static void need_protected(struct cpu *cpu)
{
    if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86)
        raise_ud(cpu);
}

static void check_umip(struct cpu *cpu)
{
    if ((cpu->s.cr4 & CR4_UMIP) && cpu->cpl != 0)
        raise_gp0(cpu);
}

/* --- GDTR/IDTR --- */

static void store_dtable(struct cpu *cpu, const struct x86_insn *insn,
                         const struct x86_dtable *t)
{
    check_umip(cpu);
    uint64_t ea = insn_ea(cpu, insn);
    unsigned bsize = cpu->mode == MODE_LONG64 ? 8 : 4;
    data_write(cpu, insn->mem_seg, ea, t->limit, 2);
    data_write(cpu, insn->mem_seg, (ea + 2) & addr_mask(insn->addrsize),
              t->base, bsize);
}

static void load_dtable(struct cpu *cpu, const struct x86_insn *insn,
                        struct x86_dtable *t)
{
    if (cpu->cpl != 0)
        raise_gp0(cpu);
    uint64_t ea = insn_ea(cpu, insn);
    unsigned bsize = cpu->mode == MODE_LONG64 ? 8 : 4;
    uint16_t limit = (uint16_t)data_read(cpu, insn->mem_seg, ea, 2);
    uint64_t base = data_read(cpu, insn->mem_seg,
                             (ea + 2) & addr_mask(insn->addrsize), bsize);
    if (bsize == 8 && !is_canonical(base))
        raise_gp0(cpu);
    if (bsize == 4 && insn->opsize == 2)
        base &= 0xffffff;
    t->limit = limit;
    t->base = base;
}

static void op_sgdt(struct cpu *cpu, const struct x86_insn *insn)
{
    store_dtable(cpu, insn, &cpu->s.gdt);
}

static void op_sidt(struct cpu *cpu, const struct x86_insn *insn)
{
    store_dtable(cpu, insn, &cpu->s.idt);
}

static void op_lgdt(struct cpu *cpu, const struct x86_insn *insn)
{
    load_dtable(cpu, insn, &cpu->s.gdt);
}

static void op_lidt(struct cpu *cpu, const struct x86_insn *insn)
{
    load_dtable(cpu, insn, &cpu->s.idt);
}

/* --- LDTR and TR --- */

static void store_selector(struct cpu *cpu, const struct x86_insn *insn,
                           uint16_t sel)
{
    need_protected(cpu);
    check_umip(cpu);
    if (insn->mod == 3)
        gpr_set(cpu, insn->rm, insn->opsize, sel);
    else
        rm_set(cpu, insn, 2, sel);
}

static void op_sldt(struct cpu *cpu, const struct x86_insn *insn)
{
    store_selector(cpu, insn, cpu->s.ldt.selector);
}

static void op_str(struct cpu *cpu, const struct x86_insn *insn)
{
    store_selector(cpu, insn, cpu->s.tr.selector);
}

/* the GDT descriptor of a system segment for LLDT/LTR, checked */
static void system_descriptor(struct cpu *cpu, uint16_t sel, uint64_t *lo,
                              uint64_t *hi)
{
    if (sel & 4)
        cpu_raise(cpu, EXC_GP, SEL_ERR(sel, false));
    if (!cpu_read_descriptor(cpu, sel, lo, hi))
        cpu_raise(cpu, EXC_GP, SEL_ERR(sel, false));
}

static void op_lldt(struct cpu *cpu, const struct x86_insn *insn)
{
    need_protected(cpu);
    if (cpu->cpl != 0)
        raise_gp0(cpu);
    uint16_t sel = (uint16_t)rm_get(cpu, insn, 2);
    if (!(sel & 0xfffc)) {
        cpu->s.ldt.selector = sel;
        cpu->s.ldt.attr = SEG_ATTR_UNUSABLE;
        return;
    }
    uint64_t lo, hi = 0;
    system_descriptor(cpu, sel, &lo, &hi);
    if (DESC_S(lo) || DESC_TYPE(lo) != SYS_LDT)
        cpu_raise(cpu, EXC_GP, SEL_ERR(sel, false));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_NP, SEL_ERR(sel, false));
    if (cpu_long_mode(cpu) && !is_canonical(
                                  (lo >> 16 & 0xffffff) |
                                  ((lo >> 56) << 24) | (hi << 32)))
        cpu_raise(cpu, EXC_GP, SEL_ERR(sel, false));
    cpu_desc_to_seg(lo, cpu_long_mode(cpu) ? hi : 0, sel, &cpu->s.ldt);
}

static void op_ltr(struct cpu *cpu, const struct x86_insn *insn)
{
    need_protected(cpu);
    if (cpu->cpl != 0)
        raise_gp0(cpu);
    uint16_t sel = (uint16_t)rm_get(cpu, insn, 2);
    if (!(sel & 0xfffc))
        cpu_raise(cpu, EXC_GP, 0);
    uint64_t lo, hi = 0;
    system_descriptor(cpu, sel, &lo, &hi);
    unsigned type = DESC_TYPE(lo);
    bool ok = cpu_long_mode(cpu) ? type == SYS_TSS32_AVAIL
                                 : (type == SYS_TSS32_AVAIL ||
                                    type == SYS_TSS16_AVAIL);
    if (DESC_S(lo) || !ok)
        cpu_raise(cpu, EXC_GP, SEL_ERR(sel, false));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_NP, SEL_ERR(sel, false));
    /* mark it busy in the GDT */
    uint64_t addr = cpu->s.gdt.base + (sel & ~7u);
    uint64_t busy = lo | (2ull << 40);
    cpu_write_lin(cpu, addr, busy, 8, ACC_WRITE | ACC_SUPER);
    cpu_desc_to_seg(busy, cpu_long_mode(cpu) ? hi : 0, sel, &cpu->s.tr);
}

/* --- descriptor queries --- */

/* Read the descriptor of sel for LAR/LSL/VERR/VERW; false (ZF = 0) when
 * it does not exist or the privilege rules hide it */
static bool visible_descriptor(struct cpu *cpu, uint16_t sel, uint64_t *lo,
                               uint64_t *hi)
{
    if (!(sel & 0xfffc) || !cpu_read_descriptor(cpu, sel, lo, hi))
        return false;
    unsigned type = DESC_TYPE(*lo), dpl = DESC_DPL(*lo);
    bool conforming = DESC_S(*lo) && (type & TYPE_CODE) && (type & TYPE_C);
    if (!conforming && (dpl < (unsigned)cpu->cpl || dpl < (sel & 3u)))
        return false;
    return true;
}

static bool system_type_ok(struct cpu *cpu, unsigned type, bool for_lar)
{
    if (cpu_long_mode(cpu))
        return type == SYS_LDT || type == SYS_TSS32_AVAIL ||
               type == SYS_TSS32_BUSY || (for_lar && type == SYS_CALL32);
    switch (type) {
    case SYS_TSS16_AVAIL: case SYS_LDT: case SYS_TSS16_BUSY:
    case SYS_TSS32_AVAIL: case SYS_TSS32_BUSY:
        return true;
    case SYS_CALL16: case SYS_TASK_GATE: case SYS_CALL32:
        return for_lar;
    default:
        return false;
    }
}

static void set_zf(struct cpu *cpu, bool z)
{
    cc_update(&cpu->cc, FL_ZF, z ? FL_ZF : 0);
}

static void op_lar(struct cpu *cpu, const struct x86_insn *insn)
{
    need_protected(cpu);
    uint16_t sel = (uint16_t)rm_get(cpu, insn, 2);
    uint64_t lo, hi;
    bool ok = visible_descriptor(cpu, sel, &lo, &hi) &&
              (DESC_S(lo) || system_type_ok(cpu, DESC_TYPE(lo), true));
    set_zf(cpu, ok);
    if (ok)
        reg_set(cpu, insn, insn->reg, insn->opsize,
                (lo >> 32) & 0x00f0ff00u);
}

static void op_lsl(struct cpu *cpu, const struct x86_insn *insn)
{
    need_protected(cpu);
    uint16_t sel = (uint16_t)rm_get(cpu, insn, 2);
    uint64_t lo, hi;
    bool ok = visible_descriptor(cpu, sel, &lo, &hi) &&
              (DESC_S(lo) || system_type_ok(cpu, DESC_TYPE(lo), false));
    set_zf(cpu, ok);
    if (ok) {
        struct x86_segment s;
        cpu_desc_to_seg(lo, 0, sel, &s);
        reg_set(cpu, insn, insn->reg, insn->opsize, s.limit);
    }
}

static void verify(struct cpu *cpu, const struct x86_insn *insn, bool write)
{
    need_protected(cpu);
    uint16_t sel = (uint16_t)rm_get(cpu, insn, 2);
    uint64_t lo, hi;
    bool ok = visible_descriptor(cpu, sel, &lo, &hi) && DESC_S(lo);
    if (ok) {
        unsigned type = DESC_TYPE(lo);
        if (write)
            ok = !(type & TYPE_CODE) && (type & TYPE_W);
        else
            ok = !(type & TYPE_CODE) || (type & TYPE_R);
    }
    set_zf(cpu, ok);
}

static void op_verr(struct cpu *cpu, const struct x86_insn *insn)
{
    verify(cpu, insn, false);
}

static void op_verw(struct cpu *cpu, const struct x86_insn *insn)
{
    verify(cpu, insn, true);
}

static void op_arpl(struct cpu *cpu, const struct x86_insn *insn)
{
    need_protected(cpu);
    uint16_t dst = (uint16_t)rm_get(cpu, insn, 2);
    uint16_t src = (uint16_t)reg_get(cpu, insn, insn->reg, 2);
    if ((dst & 3) < (src & 3)) {
        rm_set(cpu, insn, 2, (dst & ~3u) | (src & 3));
        set_zf(cpu, true);
    } else {
        set_zf(cpu, false);
    }
}

void interp_desc_register(interp_fn *t)
{
    t[I_SGDT] = op_sgdt;
    t[I_SIDT] = op_sidt;
    t[I_LGDT] = op_lgdt;
    t[I_LIDT] = op_lidt;
    t[I_SLDT] = op_sldt;
    t[I_STR] = op_str;
    t[I_LLDT] = op_lldt;
    t[I_LTR] = op_ltr;
    t[I_LAR] = op_lar;
    t[I_LSL] = op_lsl;
    t[I_VERR] = op_verr;
    t[I_VERW] = op_verw;
    t[I_ARPL] = op_arpl;
}
