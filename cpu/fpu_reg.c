/* x87 register-form instructions other than the arithmetic and compares:
 * the D9 group (FLD/FXCH ST(i), FCHS, FABS, constants, transcendentals,
 * FPREM, FSCALE, FXTRACT, FINCSTP/FDECSTP ...), FCMOVcc, FFREE(P),
 * FST(P) ST(i), FNSTSW AX, FNCLEX/FNINIT and the undocumented aliases
 * (FSTP1, FXCH4, FXCH7, FSTP8, FSTP9). */
#include "cpu/fpu_internal.h"

static void fld_st(struct cpu *cpu, unsigned i)
{
    bool empty = fpu_st_empty(cpu, i);
    struct fx80 v = fpu_st(cpu, i);
    if (!fpu_st_empty(cpu, 7)) {
        if (fpu_stack_overflow(cpu))
            fpu_push(cpu, fx80_indefinite);
    } else if (empty) {
        if (fpu_stack_underflow(cpu))
            fpu_push(cpu, fx80_indefinite);
    } else {
        fpu_set_cc(cpu, FSW_C1, 0);
        fpu_push(cpu, v);
    }
}

static void fxch(struct cpu *cpu, unsigned i)
{
    struct fx80 a = fpu_st(cpu, 0), b = fpu_st(cpu, i);
    if (fpu_st_empty(cpu, 0) || fpu_st_empty(cpu, i)) {
        if (!fpu_stack_underflow(cpu))
            return;
        if (fpu_st_empty(cpu, 0))
            a = fx80_indefinite;
        if (fpu_st_empty(cpu, i))
            b = fx80_indefinite;
    } else {
        fpu_set_cc(cpu, FSW_C1, 0);
    }
    fpu_set_st(cpu, 0, b);
    fpu_set_st(cpu, i, a);
}

static void fst_st(struct cpu *cpu, unsigned i, bool pop)
{
    if (fpu_st_empty(cpu, 0)) {
        if (!fpu_stack_underflow(cpu))
            return;
        fpu_set_st(cpu, i, fx80_indefinite);
    } else {
        fpu_set_cc(cpu, FSW_C1, 0);
        fpu_set_st(cpu, i, fpu_st(cpu, 0));
    }
    if (pop)
        fpu_pop(cpu);
}

/* D9 D8+i (FSTP1): as FSTP, but an empty ST0 is just popped (no stack
 * fault), as the hardware does */
static void fstp1(struct cpu *cpu, unsigned i)
{
    if (fpu_st_empty(cpu, 0))
        fpu_pop(cpu);
    else
        fst_st(cpu, i, true);
}

static void sign_op(struct cpu *cpu, bool chs)
{
    if (fpu_st_empty(cpu, 0)) {
        if (fpu_stack_underflow(cpu))
            fpu_set_st(cpu, 0, fx80_indefinite);
        return;
    }
    struct fx80 v = fpu_st(cpu, 0);
    v.se = chs ? v.se ^ 0x8000 : v.se & 0x7fff;
    fpu_set_cc(cpu, FSW_C1, 0);
    fpu_set_st(cpu, 0, v);
}

static void push_const(struct cpu *cpu, enum fpu_host_op op)
{
    if (!fpu_st_empty(cpu, 7)) {
        if (fpu_stack_overflow(cpu))
            fpu_push(cpu, fx80_indefinite);
        return;
    }
    struct fpu_host_io io = { .fcw = fpu_fcw(cpu) };
    fpu_host_run(op, &io);
    fpu_merge_host(cpu, &io, FSW_C1);
    fpu_push(cpu, io.out[0]);
}

/* ST0 = f(ST0) (pushes: FSINCOS/FPTAN/FXTRACT push a second result) */
static void unary(struct cpu *cpu, enum fpu_host_op op, bool pushes,
                  uint16_t cc)
{
    if (fpu_st_empty(cpu, 0)) {
        if (fpu_stack_underflow(cpu)) {
            fpu_set_st(cpu, 0, fx80_indefinite);
            if (pushes)
                fpu_push(cpu, fx80_indefinite);
        }
        return;
    }
    if (pushes && !fpu_st_empty(cpu, 7)) {
        if (fpu_stack_overflow(cpu)) {
            fpu_set_st(cpu, 0, fx80_indefinite);
            fpu_push(cpu, fx80_indefinite);
        }
        return;
    }
    struct fpu_host_io io = { .in0 = fpu_st(cpu, 0), .fcw = fpu_fcw(cpu) };
    io.in1 = io.in0;
    fpu_host_run(op, &io);
    fpu_merge_host(cpu, &io, cc);
    if (io.pops == -1) {
        fpu_set_st(cpu, 0, io.out[1]);
        fpu_push(cpu, io.out[0]);
    } else {
        fpu_set_st(cpu, 0, io.out[0]);
    }
}

/* on ST0 and ST1: FSCALE/FPREM/FPREM1 write ST0; FPATAN/FYL2X/FYL2XP1
 * write ST1 and pop */
static void binary(struct cpu *cpu, enum fpu_host_op op, bool pop,
                   uint16_t cc)
{
    if (fpu_st_empty(cpu, 0) || fpu_st_empty(cpu, 1)) {
        if (fpu_stack_underflow(cpu)) {
            fpu_set_st(cpu, pop ? 1 : 0, fx80_indefinite);
            if (pop)
                fpu_pop(cpu);
        }
        return;
    }
    struct fpu_host_io io = { .in0 = fpu_st(cpu, 0), .in1 = fpu_st(cpu, 1),
                              .fcw = fpu_fcw(cpu) };
    fpu_host_run(op, &io);
    fpu_merge_host(cpu, &io, cc);
    if (!pop) {
        fpu_set_st(cpu, 0, io.out[0]);
        return;
    }
    fpu_set_st(cpu, 1, io.out[io.pops == 1 ? 0 : 1]);
    if (io.pops == 1)
        fpu_pop(cpu);
}

void fpu_exec_d9_reg(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned reg = insn->reg & 7, i = insn->rm & 7;
    static const enum fpu_host_op consts[7] = {
        FH_FLD1, FH_FLDL2T, FH_FLDL2E, FH_FLDPI, FH_FLDLG2, FH_FLDLN2, FH_FLDZ,
    };
    switch (reg) {
    case 0: fld_st(cpu, i); return;
    case 1: fxch(cpu, i); return;
    case 2:
        if (i != 0)
            cpu_raise_noerr(cpu, EXC_UD);
        return; /* FNOP */
    case 3: fstp1(cpu, i); return;
    case 4:
        switch (i) {
        case 0: sign_op(cpu, true); return;
        case 1: sign_op(cpu, false); return;
        case 4: fpu_ftst(cpu); return;
        case 5: fpu_fxam(cpu); return;
        }
        break;
    case 5:
        if (i < 7) {
            push_const(cpu, consts[i]);
            return;
        }
        break;
    case 6:
        switch (i) {
        case 0: unary(cpu, FH_F2XM1, false, FSW_C1); return;
        case 1: binary(cpu, FH_FYL2X, true, FSW_C1); return;
        case 2: unary(cpu, FH_FPTAN, true, FSW_C1 | FSW_C2); return;
        case 3: binary(cpu, FH_FPATAN, true, FSW_C1); return;
        case 4: unary(cpu, FH_FXTRACT, true, FSW_C1); return;
        case 5: binary(cpu, FH_FPREM1, false, FSW_CC); return;
        case 6: fpu_set_cc(cpu, FSW_C1, 0); fpu_decstp(cpu); return;
        case 7: fpu_set_cc(cpu, FSW_C1, 0); fpu_incstp(cpu); return;
        }
        break;
    case 7:
        switch (i) {
        case 0: binary(cpu, FH_FPREM, false, FSW_CC); return;
        case 1: binary(cpu, FH_FYL2XP1, true, FSW_C1); return;
        case 2: unary(cpu, FH_FSQRT, false, FSW_C1); return;
        case 3: unary(cpu, FH_FSINCOS, true, FSW_C1 | FSW_C2); return;
        case 4: unary(cpu, FH_FRNDINT, false, FSW_C1); return;
        case 5: binary(cpu, FH_FSCALE, false, FSW_C1); return;
        case 6: unary(cpu, FH_FSIN, false, FSW_C1 | FSW_C2); return;
        case 7: unary(cpu, FH_FCOS, false, FSW_C1 | FSW_C2); return;
        }
        break;
    }
    cpu_raise_noerr(cpu, EXC_UD);
}

static void fcmov(struct cpu *cpu, unsigned i, unsigned cond)
{
    if (fpu_st_empty(cpu, 0) || fpu_st_empty(cpu, i)) {
        if (fpu_stack_underflow(cpu))
            fpu_set_st(cpu, 0, fx80_indefinite);
        return;
    }
    if (cpu_cond(cpu, cond))
        fpu_set_st(cpu, 0, fpu_st(cpu, i));
}

void fpu_exec_misc_reg(struct cpu *cpu, const struct x86_insn *insn)
{
    static const uint8_t fcmov_cc[4] = { 0x2, 0x4, 0x6, 0xa }; /* B E BE U */
    unsigned reg = insn->reg & 7, i = insn->rm & 7;
    switch (insn->opcode) {
    case 0xda:
        if (reg < 4) {
            fcmov(cpu, i, fcmov_cc[reg]);
            return;
        }
        break;
    case 0xdb:
        if (reg < 4) {
            fcmov(cpu, i, fcmov_cc[reg] | 1);
            return;
        }
        if (reg == 4) {
            if (i == 2)       /* FNCLEX */
                fx_set16(cpu, FX_FSW, fpu_fsw(cpu) &
                         ~(FSW_EXC | FSW_SF | FSW_ES | FSW_B));
            else if (i == 3)  /* FNINIT */
                fpu_reset(cpu);
            else if (i > 4)
                break;
            return;           /* FENI, FDISI, FSETPM: no-ops */
        }
        break;
    case 0xdd:
        switch (reg) {
        case 0: fpu_set_tag_empty(cpu, i); return; /* FFREE */
        case 1: fxch(cpu, i); return;
        case 2: fst_st(cpu, i, false); return;
        case 3: fst_st(cpu, i, true); return;
        }
        break;
    case 0xdf:
        switch (reg) {
        case 0: fpu_set_tag_empty(cpu, i); fpu_pop(cpu); return; /* FFREEP */
        case 1: fxch(cpu, i); return;
        case 2: case 3: fst_st(cpu, i, true); return;
        case 4:
            if (i == 0) { /* FNSTSW AX */
                cpu->s.gpr[R_AX] = (cpu->s.gpr[R_AX] & ~0xffffull) |
                                   fpu_fsw(cpu);
                return;
            }
            break;
        }
        break;
    }
    cpu_raise_noerr(cpu, EXC_UD);
}
