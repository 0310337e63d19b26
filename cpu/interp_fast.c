/* Interpreter: specialised handlers for the most frequent instruction forms
 * (register-register and register-immediate ALU operations, MOV between
 * registers and memory, INC/DEC/PUSH/POP of a register), chosen once when
 * an instruction is decoded so that the hot path skips the generic operand
 * decoding of the group handlers. Each computes exactly what the generic
 * handler would; byte forms (AH..BH) stay generic. */
#include "cpu/interp.h"

#define ALU_FORMS(name, expr, store)                                           \
    static void name##_eg(struct cpu *cpu, const struct x86_insn *insn)       \
    {                                                                          \
        unsigned size = insn->opsize;                                          \
        uint64_t a = gpr_get(cpu, insn->rm, size);                             \
        uint64_t b = gpr_get(cpu, insn->reg, size);                            \
        uint64_t r = expr;                                                     \
        if (store)                                                             \
            gpr_set(cpu, insn->rm, size, r);                                   \
    }                                                                          \
    static void name##_ge(struct cpu *cpu, const struct x86_insn *insn)       \
    {                                                                          \
        unsigned size = insn->opsize;                                          \
        uint64_t a = gpr_get(cpu, insn->reg, size);                            \
        uint64_t b = gpr_get(cpu, insn->rm, size);                             \
        uint64_t r = expr;                                                     \
        if (store)                                                             \
            gpr_set(cpu, insn->reg, size, r);                                  \
    }                                                                          \
    static void name##_ei(struct cpu *cpu, const struct x86_insn *insn)       \
    {                                                                          \
        unsigned size = insn->opsize;                                          \
        uint64_t a = gpr_get(cpu, insn->rm, size);                             \
        uint64_t b = (uint64_t)insn->imm & size_mask(size);                    \
        uint64_t r = expr;                                                     \
        if (store)                                                             \
            gpr_set(cpu, insn->rm, size, r);                                   \
    }                                                                          \
    static void name##_ai(struct cpu *cpu, const struct x86_insn *insn)       \
    {                                                                          \
        unsigned size = insn->opsize;                                          \
        uint64_t a = gpr_get(cpu, R_AX, size);                                 \
        uint64_t b = (uint64_t)insn->imm & size_mask(size);                    \
        uint64_t r = expr;                                                     \
        if (store)                                                             \
            gpr_set(cpu, R_AX, size, r);                                       \
    }

ALU_FORMS(add, alu_add(&cpu->cc, a, b, size), 1)
ALU_FORMS(or, alu_or(&cpu->cc, a, b, size), 1)
ALU_FORMS(adc, alu_adc(&cpu->cc, a, b, size), 1)
ALU_FORMS(sbb, alu_sbb(&cpu->cc, a, b, size), 1)
ALU_FORMS(and, alu_and(&cpu->cc, a, b, size), 1)
ALU_FORMS(sub, alu_sub(&cpu->cc, a, b, size), 1)
ALU_FORMS(xor, alu_xor(&cpu->cc, a, b, size), 1)
ALU_FORMS(cmp, (alu_cmp(&cpu->cc, a, b, size), 0), 0)
ALU_FORMS(test, (alu_test(&cpu->cc, a, b, size), 0), 0)

struct alu_fast {
    interp_fn eg, ge, ei, ai;
};

#define ALU_ENTRY(id, name) [id] = { name##_eg, name##_ge, name##_ei, name##_ai }
static const struct alu_fast alu_fast[I_COUNT] = {
    ALU_ENTRY(I_ADD, add), ALU_ENTRY(I_OR, or), ALU_ENTRY(I_ADC, adc),
    ALU_ENTRY(I_SBB, sbb), ALU_ENTRY(I_AND, and), ALU_ENTRY(I_SUB, sub),
    ALU_ENTRY(I_XOR, xor), ALU_ENTRY(I_CMP, cmp), ALU_ENTRY(I_TEST, test),
};

/* --- MOV --- */

static void mov_eg(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, insn->rm, insn->opsize, gpr_get(cpu, insn->reg,
                                                 insn->opsize));
}

static void mov_ge(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, insn->reg, insn->opsize, gpr_get(cpu, insn->rm,
                                                  insn->opsize));
}

static void mov_load(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, insn->reg, insn->opsize,
            data_read(cpu, insn->mem_seg, insn_ea(cpu, insn), insn->opsize));
}

static void mov_store(struct cpu *cpu, const struct x86_insn *insn)
{
    data_write(cpu, insn->mem_seg, insn_ea(cpu, insn),
               gpr_get(cpu, insn->reg, insn->opsize), insn->opsize);
}

static void mov_zi(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, insn->rm, insn->opsize, (uint64_t)insn->imm);
}

static void mov_ei(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, insn->rm, insn->opsize, (uint64_t)insn->imm);
}

/* --- INC/DEC/PUSH/POP of a register (in insn->rm) --- */

static void inc_r(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    gpr_set(cpu, insn->rm, size,
            alu_inc(&cpu->cc, gpr_get(cpu, insn->rm, size), size));
}

static void dec_r(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    gpr_set(cpu, insn->rm, size,
            alu_dec(&cpu->cc, gpr_get(cpu, insn->rm, size), size));
}

static void push_r(struct cpu *cpu, const struct x86_insn *insn)
{
    stack_push(cpu, cpu->s.gpr[insn->rm], insn->opsize);
}

static void pop_r(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, insn->rm, insn->opsize, stack_pop(cpu, insn->opsize));
}

static void lea_r(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, insn->reg, insn->opsize, insn_ea(cpu, insn));
}

interp_fn interp_fast_handler(const struct x86_insn *insn)
{
    const struct x86_opcode *op = insn->op;
    unsigned id = op->id;
    if (op->exec != EXEC_INT || op->nopnd == 0 || op->opnd[0].size != OS_v)
        return NULL;
    unsigned m0 = op->opnd[0].method;
    unsigned m1 = op->nopnd > 1 ? op->opnd[1].method : OM_NONE;
    bool reg_form = insn->has_modrm && insn->mod == 3;
    if (alu_fast[id].eg && op->nopnd == 2) {
        if (m0 == OM_E && m1 == OM_G && reg_form)
            return alu_fast[id].eg;
        if (m0 == OM_G && m1 == OM_E && reg_form)
            return alu_fast[id].ge;
        if (m0 == OM_E && (m1 == OM_I || m1 == OM_IS) && reg_form)
            return alu_fast[id].ei;
        if (m0 == OM_REG && m1 == OM_I)
            return alu_fast[id].ai;
        return NULL;
    }
    switch (id) {
    case I_MOV:
        if (m0 == OM_E && m1 == OM_G)
            return reg_form ? mov_eg : mov_store;
        if (m0 == OM_G && m1 == OM_E)
            return reg_form ? mov_ge : mov_load;
        if (m0 == OM_Z && m1 == OM_I)
            return mov_zi;
        if (m0 == OM_E && m1 == OM_I && reg_form)
            return mov_ei;
        return NULL;
    case I_INC:
        return m0 == OM_Z || reg_form ? inc_r : NULL;
    case I_DEC:
        return m0 == OM_Z || reg_form ? dec_r : NULL;
    case I_PUSH:
        return m0 == OM_Z ? push_r : NULL;
    case I_POP:
        return m0 == OM_Z ? pop_r : NULL;
    case I_LEA:
        return lea_r;
    default:
        return NULL;
    }
}
