/* x87 arithmetic and compares: FADD/FMUL/FSUB(R)/FDIV(R) with register,
 * float and integer memory operands and their popping forms, FCOM/FUCOM/
 * FCOMI/FUCOMI (and popping forms), FTST and FXAM. Operands are checked for
 * stack underflow here; the arithmetic itself runs on the host FPU
 * (cpu/fpu_host.c). */
#include "cpu/fpu_internal.h"

#define FSW_UNORDERED (FSW_C0 | FSW_C2 | FSW_C3)

/* kind: the D8 reg field (0 add, 1 mul, 2 com, 3 comp, 4 sub, 5 subr,
 * 6 div, 7 divr) with respect to dst op src */
static void arith_reg(struct cpu *cpu, unsigned kind, unsigned dst,
                      unsigned src, bool pop)
{
    static const enum fpu_host_op ops[8] = {
        FH_ADDP, FH_MULP, FH_ADDP, FH_ADDP,
        FH_SUBP, FH_SUBRP, FH_DIVP, FH_DIVRP,
    };
    if (fpu_st_empty(cpu, dst) || fpu_st_empty(cpu, src)) {
        if (fpu_stack_underflow(cpu)) {
            fpu_set_st(cpu, dst, fx80_indefinite);
            if (pop)
                fpu_pop(cpu);
        }
        return;
    }
    struct fpu_host_io io = { .in0 = fpu_st(cpu, src), .in1 = fpu_st(cpu, dst),
                              .fcw = fpu_fcw(cpu) };
    fpu_host_run(ops[kind], &io);
    fpu_merge_host(cpu, &io, FSW_C1);
    fpu_set_st(cpu, dst, io.out[io.pops == 1 ? 0 : 1]);
    if (pop && io.pops == 1)
        fpu_pop(cpu);
}

static void set_compare_eflags(struct cpu *cpu, uint16_t fsw)
{
    uint64_t fl = cpu_get_rflags(cpu) & ~(uint64_t)FL_ARITH;
    if (fsw & FSW_C3)
        fl |= FL_ZF;
    if (fsw & FSW_C2)
        fl |= FL_PF;
    if (fsw & FSW_C0)
        fl |= FL_CF;
    cpu_set_rflags(cpu, fl);
}

/* FCOM/FUCOM ST(i) popping npop times; eflags: FCOMI/FUCOMI */
static void compare_reg(struct cpu *cpu, unsigned i, bool unordered,
                        int npop, bool eflags)
{
    bool done;
    uint16_t result;
    if (fpu_st_empty(cpu, 0) || fpu_st_empty(cpu, i)) {
        done = fpu_stack_underflow(cpu);
        result = FSW_UNORDERED;
        if (!eflags)
            fpu_set_cc(cpu, FSW_UNORDERED, result);
    } else {
        struct fpu_host_io io = { .in0 = fpu_st(cpu, 0), .in1 = fpu_st(cpu, i),
                                  .fcw = fpu_fcw(cpu) };
        fpu_host_run(unordered ? FH_FUCOMP : FH_FCOMP, &io);
        fpu_merge_host(cpu, &io, eflags ? FSW_C1 : FSW_CC);
        done = io.pops == 1;
        result = io.fsw;
    }
    if (!done)
        return;
    if (eflags)
        set_compare_eflags(cpu, result);
    while (npop-- > 0)
        fpu_pop(cpu);
}

static enum fpu_host_op mem_op(uint8_t opcode, unsigned reg)
{
    switch (opcode) {
    case 0xd8: return FH_M32FP_0 + reg;
    case 0xda: return FH_M32INT_0 + reg;
    case 0xdc: return FH_M64FP_0 + reg;
    default: return FH_M16INT_0 + reg;
    }
}

static void arith_mem(struct cpu *cpu, const struct x86_insn *insn,
                      uint64_t ea)
{
    static const uint8_t size[4] = { 4, 4, 8, 2 }; /* D8 DA DC DE */
    unsigned reg = insn->reg & 7;
    struct fpu_host_io io = { .fcw = fpu_fcw(cpu) };
    vec_read(cpu, insn, ea, io.mem, size[(insn->opcode - 0xd8) >> 1]);
    bool compare = reg == 2 || reg == 3;
    if (fpu_st_empty(cpu, 0)) {
        if (fpu_stack_underflow(cpu)) {
            if (!compare)
                fpu_set_st(cpu, 0, fx80_indefinite);
            else if (reg == 3)
                fpu_pop(cpu);
        }
        if (compare)
            fpu_set_cc(cpu, FSW_UNORDERED, FSW_UNORDERED);
        return;
    }
    io.in0 = fpu_st(cpu, 0);
    io.in1 = io.in0;
    fpu_host_run(mem_op(insn->opcode, reg), &io);
    fpu_merge_host(cpu, &io, compare ? FSW_CC : FSW_C1);
    if (!compare)
        fpu_set_st(cpu, 0, io.out[0]);
    else if (reg == 3 && io.pops == 1)
        fpu_pop(cpu);
}

void fpu_exec_arith(struct cpu *cpu, const struct x86_insn *insn,
                    uint64_t ea)
{
    unsigned reg = insn->reg & 7, i = insn->rm & 7;
    if (insn->mod != 3) {
        arith_mem(cpu, insn, ea);
        return;
    }
    switch (insn->opcode) {
    case 0xd8:
        if (reg == 2 || reg == 3)
            compare_reg(cpu, i, false, reg == 3, false);
        else
            arith_reg(cpu, reg, 0, i, false);
        return;
    case 0xdc: /* ST(i) op ST0; 2 and 3 are FCOM/FCOMP aliases */
        if (reg == 2 || reg == 3)
            compare_reg(cpu, i, false, reg == 3, false);
        else
            arith_reg(cpu, reg >= 4 ? reg ^ 1 : reg, i, 0, false);
        return;
    case 0xde:
        if (reg == 2)       /* FCOMP alias */
            compare_reg(cpu, i, false, 1, false);
        else if (reg == 3)  /* FCOMPP (DE D9 only: checked by the caller) */
            compare_reg(cpu, 1, false, 2, false);
        else
            arith_reg(cpu, reg >= 4 ? reg ^ 1 : reg, i, 0, true);
        return;
    case 0xda:  /* FUCOMPP */
        compare_reg(cpu, 1, true, 2, false);
        return;
    case 0xdb:  /* FUCOMI (reg 5), FCOMI (reg 6) */
        compare_reg(cpu, i, reg == 5, 0, true);
        return;
    case 0xdd:  /* FUCOM (reg 4), FUCOMP (reg 5) */
        compare_reg(cpu, i, true, reg == 5, false);
        return;
    case 0xdf:  /* FUCOMIP (reg 5), FCOMIP (reg 6) */
        compare_reg(cpu, i, reg == 5, 1, true);
        return;
    }
}

void fpu_ftst(struct cpu *cpu)
{
    if (fpu_st_empty(cpu, 0)) {
        fpu_stack_underflow(cpu);
        fpu_set_cc(cpu, FSW_UNORDERED, FSW_UNORDERED);
        return;
    }
    struct fpu_host_io io = { .in0 = fpu_st(cpu, 0), .fcw = fpu_fcw(cpu) };
    io.in1 = io.in0;
    fpu_host_run(FH_FTST, &io);
    fpu_merge_host(cpu, &io, FSW_CC);
}

void fpu_fxam(struct cpu *cpu)
{
    struct fx80 v = fpu_st(cpu, 0);
    unsigned exp = v.se & 0x7fff;
    bool integer = v.mant >> 63;
    uint16_t cc;
    if (fpu_st_empty(cpu, 0))
        cc = FSW_C3 | FSW_C0;
    else if (exp == 0x7fff)
        cc = !integer ? 0 : (v.mant << 1) ? FSW_C0 : FSW_C2 | FSW_C0;
    else if (exp == 0)
        cc = v.mant ? FSW_C3 | FSW_C2 : FSW_C3;
    else
        cc = integer ? FSW_C2 : 0;
    if (v.se & 0x8000)
        cc |= FSW_C1;
    fpu_set_cc(cpu, FSW_CC, cc);
}
