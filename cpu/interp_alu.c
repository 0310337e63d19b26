/* Interpreter: the arithmetic and logic instructions: ADD..CMP and TEST,
 * INC/DEC/NOT/NEG, MUL/IMUL/DIV/IDIV (#DE), the shifts and rotates with
 * SHLD/SHRD, the BCD adjustments, and the carry/direction flag
 * instructions. The arithmetic itself is cpu/alu.c's. */
#include "cpu/interp.h"

/* --- two-operand ALU: dst (operand 0) op src (operand 1) ---
 * RMW: operand 0 := fn(record, operand 0, operand 1 of bsize bytes); a
 * memory destination gets its record committed after the write
 * (opnd_is_mem) */

#define RMW(name, fn, btype, bsize)                                            \
    static void op_##name(struct cpu *cpu, const struct x86_insn *insn)       \
    {                                                                          \
        unsigned size = insn_size(insn);                                       \
        uint64_t a = opnd_get(cpu, insn, 0, size);                             \
        btype b = (btype)opnd_get(cpu, insn, 1, bsize);                        \
        if (!opnd_is_mem(insn, 0)) {                                           \
            opnd_set(cpu, insn, 0, size, fn(&cpu->cc, a, b, size));            \
            return;                                                            \
        }                                                                      \
        struct cpu_cc cc = cpu->cc;                                            \
        opnd_set(cpu, insn, 0, size, fn(&cc, a, b, size));                     \
        cpu->cc = cc;                                                          \
    }

#define ALU2(name, fn) RMW(name, fn, uint64_t, size)

ALU2(add, alu_add)
ALU2(or, alu_or)
ALU2(adc, alu_adc)
ALU2(sbb, alu_sbb)
ALU2(and, alu_and)
ALU2(sub, alu_sub)
ALU2(xor, alu_xor)

static void op_cmp(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn_size(insn);
    uint64_t a = opnd_get(cpu, insn, 0, size);
    alu_cmp(&cpu->cc, a, opnd_get(cpu, insn, 1, size), size);
}

static void op_test(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn_size(insn);
    uint64_t a = opnd_get(cpu, insn, 0, size);
    alu_test(&cpu->cc, a, opnd_get(cpu, insn, 1, size), size);
}

/* --- one-operand ALU --- */

#define UNARY(name, fn)                                                        \
    static void op_##name(struct cpu *cpu, const struct x86_insn *insn)       \
    {                                                                          \
        unsigned size = insn_size(insn);                                       \
        uint64_t a = opnd_get(cpu, insn, 0, size);                             \
        if (!opnd_is_mem(insn, 0)) {                                           \
            opnd_set(cpu, insn, 0, size, fn(&cpu->cc, a, size));               \
            return;                                                            \
        }                                                                      \
        struct cpu_cc cc = cpu->cc;                                            \
        opnd_set(cpu, insn, 0, size, fn(&cc, a, size));                        \
        cpu->cc = cc;                                                          \
    }

UNARY(inc, alu_inc)
UNARY(dec, alu_dec)
UNARY(neg, alu_neg)

static void op_not(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn_size(insn);
    opnd_set(cpu, insn, 0, size, ~opnd_get(cpu, insn, 0, size));
}

/* --- multiply and divide --- */

/* the double-size accumulator: AX for bytes, rDX:rAX otherwise */
static void acc_store(struct cpu *cpu, unsigned size, uint64_t lo,
                      uint64_t hi)
{
    if (size == 1) {
        gpr_set(cpu, R_AX, 2, (hi << 8) | (lo & 0xff));
    } else {
        gpr_set(cpu, R_AX, size, lo);
        gpr_set(cpu, R_DX, size, hi);
    }
}

static void op_mul(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn_size(insn);
    uint64_t src = rm_get(cpu, insn, size), hi;
    uint64_t lo = alu_mul(&cpu->cc, gpr_get(cpu, R_AX, size), src, size, &hi);
    acc_store(cpu, size, lo, hi);
}

static void op_imul(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn_size(insn);
    if (insn->op->nopnd == 1) {
        uint64_t src = rm_get(cpu, insn, size), hi;
        uint64_t lo = alu_imul(&cpu->cc, gpr_get(cpu, R_AX, size), src, size,
                               &hi);
        acc_store(cpu, size, lo, hi);
        return;
    }
    /* Gv,Ev and Gv,Ev,imm */
    uint64_t a = rm_get(cpu, insn, size);
    uint64_t b = insn->op->nopnd == 3 ? (uint64_t)insn->imm
                                      : reg_get(cpu, insn, insn->reg, size);
    reg_set(cpu, insn, insn->reg, size,
            alu_imul(&cpu->cc, a, b, size, NULL));
}

static void divide(struct cpu *cpu, const struct x86_insn *insn, bool sign)
{
    unsigned size = insn_size(insn);
    uint64_t divisor = rm_get(cpu, insn, size), lo, hi, q, r;
    if (size == 1) {
        lo = gpr_get(cpu, R_AX, 1);
        hi = (cpu->s.gpr[R_AX] >> 8) & 0xff;
    } else {
        lo = gpr_get(cpu, R_AX, size);
        hi = gpr_get(cpu, R_DX, size);
    }
    int rc = sign ? alu_idiv(&cpu->cc, lo, hi, divisor, size, &q, &r)
                  : alu_div(&cpu->cc, lo, hi, divisor, size, &q, &r);
    if (rc < 0)
        cpu_raise_noerr(cpu, EXC_DE);
    acc_store(cpu, size, q, r);
}

static void op_div(struct cpu *cpu, const struct x86_insn *insn)
{
    divide(cpu, insn, false);
}

static void op_idiv(struct cpu *cpu, const struct x86_insn *insn)
{
    divide(cpu, insn, true);
}

/* --- shifts and rotates: operand 0 by the count in operand 1 --- */

/* the count (operand 1) is CL, an immediate or 1 */
#define SHIFT(name, fn) RMW(name, fn, unsigned, 1)

SHIFT(rol, alu_rol)
SHIFT(ror, alu_ror)
SHIFT(rcl, alu_rcl)
SHIFT(rcr, alu_rcr)
SHIFT(shl, alu_shl)
SHIFT(shr, alu_shr)
SHIFT(sar, alu_sar)

/* SHLD/SHRD: the r/m operand shifted, filled from the register */
static void shift_double(struct cpu *cpu, const struct x86_insn *insn,
                         uint64_t (*fn)(struct cpu_cc *, uint64_t, uint64_t,
                                        unsigned, unsigned))
{
    unsigned size = insn->opsize;
    unsigned count = (unsigned)opnd_get(cpu, insn, 2, 1);
    uint64_t a = rm_get(cpu, insn, size);
    uint64_t b = reg_get(cpu, insn, insn->reg, size);
    struct cpu_cc cc = cpu->cc;   /* committed after a memory write */
    rm_set(cpu, insn, size, fn(&cc, a, b, count, size));
    cpu->cc = cc;
}

static void op_shld(struct cpu *cpu, const struct x86_insn *insn)
{
    shift_double(cpu, insn, alu_shld);
}

static void op_shrd(struct cpu *cpu, const struct x86_insn *insn)
{
    shift_double(cpu, insn, alu_shrd);
}

/* --- BCD --- */

static void op_daa(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, R_AX, 1, alu_daa(&cpu->cc, (uint8_t)cpu->s.gpr[R_AX]));
}

static void op_das(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, R_AX, 1, alu_das(&cpu->cc, (uint8_t)cpu->s.gpr[R_AX]));
}

static void op_aaa(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, R_AX, 2, alu_aaa(&cpu->cc, (uint16_t)cpu->s.gpr[R_AX]));
}

static void op_aas(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, R_AX, 2, alu_aas(&cpu->cc, (uint16_t)cpu->s.gpr[R_AX]));
}

static void op_aam(struct cpu *cpu, const struct x86_insn *insn)
{
    uint16_t ax;
    if (alu_aam(&cpu->cc, (uint8_t)cpu->s.gpr[R_AX], (uint8_t)insn->imm,
                &ax) < 0)
        cpu_raise_noerr(cpu, EXC_DE);
    gpr_set(cpu, R_AX, 2, ax);
}

static void op_aad(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, R_AX, 2, alu_aad(&cpu->cc, (uint16_t)cpu->s.gpr[R_AX],
                                  (uint8_t)insn->imm));
}

static void op_salc(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, R_AX, 1, cc_cf(&cpu->cc) ? 0xff : 0);
}

/* --- flag instructions --- */

static void op_cmc(struct cpu *cpu, const struct x86_insn *insn)
{
    cc_update(&cpu->cc, FL_CF, cc_cf(&cpu->cc) ? 0 : FL_CF);
}

static void op_clc(struct cpu *cpu, const struct x86_insn *insn)
{
    cc_update(&cpu->cc, FL_CF, 0);
}

static void op_stc(struct cpu *cpu, const struct x86_insn *insn)
{
    cc_update(&cpu->cc, FL_CF, FL_CF);
}

static void op_cld(struct cpu *cpu, const struct x86_insn *insn)
{
    cpu->s.rflags &= ~(uint64_t)FL_DF;
}

static void op_std(struct cpu *cpu, const struct x86_insn *insn)
{
    cpu->s.rflags |= FL_DF;
}

void interp_alu_register(interp_fn *t)
{
    t[I_ADD] = op_add;
    t[I_OR] = op_or;
    t[I_ADC] = op_adc;
    t[I_SBB] = op_sbb;
    t[I_AND] = op_and;
    t[I_SUB] = op_sub;
    t[I_XOR] = op_xor;
    t[I_CMP] = op_cmp;
    t[I_TEST] = op_test;
    t[I_INC] = op_inc;
    t[I_DEC] = op_dec;
    t[I_NOT] = op_not;
    t[I_NEG] = op_neg;
    t[I_MUL] = op_mul;
    t[I_IMUL] = op_imul;
    t[I_DIV] = op_div;
    t[I_IDIV] = op_idiv;
    t[I_ROL] = op_rol;
    t[I_ROR] = op_ror;
    t[I_RCL] = op_rcl;
    t[I_RCR] = op_rcr;
    t[I_SHL] = op_shl;
    t[I_SHR] = op_shr;
    t[I_SAR] = op_sar;
    t[I_SHLD] = op_shld;
    t[I_SHRD] = op_shrd;
    t[I_DAA] = op_daa;
    t[I_DAS] = op_das;
    t[I_AAA] = op_aaa;
    t[I_AAS] = op_aas;
    t[I_AAM] = op_aam;
    t[I_AAD] = op_aad;
    t[I_SALC] = op_salc;
    t[I_CMC] = op_cmc;
    t[I_CLC] = op_clc;
    t[I_STC] = op_stc;
    t[I_CLD] = op_cld;
    t[I_STD] = op_std;
}
