/* Interpreter: the stack instructions: PUSH/POP of registers, memory,
 * immediates and segment registers, PUSHA/POPA, ENTER (with nesting) and
 * LEAVE. The stack (SS, its size and checks) is stack_push/stack_pop;
 * a fault rolls RSP back, so these may move it freely before. */
#include "cpu/interp.h"

static uint64_t stack_mask(const struct cpu *cpu)
{
    return size_mask(cpu->stack_size);
}

static void op_push(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    const struct x86_operand *o = &insn->op->opnd[0];
    uint64_t v;
    if (o->method == OM_SEG)
        v = cpu->s.seg[o->reg].selector;
    else
        v = opnd_get(cpu, insn, 0, size);
    stack_push(cpu, v, size);
}

static void op_pop(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    const struct x86_operand *o = &insn->op->opnd[0];
    uint64_t v = stack_pop(cpu, size);
    if (o->method == OM_SEG) {
        cpu_load_seg(cpu, o->reg, (uint16_t)v);
        if (o->reg == S_SS)
            cpu->s.interrupt_shadow |= SHADOW_MOV_SS;
        return;
    }
    /* POP r/m computes a memory address with the incremented RSP */
    opnd_set(cpu, insn, 0, size, v);
}

static void op_pusha(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    uint64_t sp = cpu->s.gpr[R_SP];
    for (int r = R_AX; r <= R_DI; r++)
        stack_push(cpu, r == R_SP ? sp : cpu->s.gpr[r], size);
}

static void op_popa(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    uint64_t v[8];
    for (int r = R_DI; r >= R_AX; r--)
        v[r] = stack_pop(cpu, size);
    for (int r = R_AX; r <= R_DI; r++)
        if (r != R_SP)
            gpr_set(cpu, r, size, v[r]);
}

static void op_enter(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    uint64_t mask = stack_mask(cpu);
    unsigned alloc = (uint16_t)insn->imm, level = (uint8_t)insn->imm2 & 31;
    uint64_t bp = cpu->s.gpr[R_BP];
    stack_push(cpu, bp, size);
    uint64_t frame = cpu->s.gpr[R_SP] & mask;
    if (level) {
        for (unsigned i = 1; i < level; i++) {
            bp = (bp & ~mask) | ((bp - size) & mask);
            stack_push(cpu, data_read(cpu, S_SS, bp & mask, size), size);
        }
        stack_push(cpu, frame, size);
    }
    uint64_t sp = cpu->s.gpr[R_SP];
    uint64_t nsp = (sp & ~mask) | ((sp - alloc) & mask);
    /* the final stack position must be writable (#SS/#PF before commit) */
    if (alloc)
        cpu_seg_to_lin(cpu, S_SS, nsp & mask, size, ACC_WRITE);
    gpr_set(cpu, R_BP, cpu->stack_size == 2 ? 2 : cpu->stack_size, frame);
    cpu->s.gpr[R_SP] = nsp;
}

static void op_leave(struct cpu *cpu, const struct x86_insn *insn)
{
    uint64_t mask = stack_mask(cpu);
    cpu->s.gpr[R_SP] = (cpu->s.gpr[R_SP] & ~mask) | (cpu->s.gpr[R_BP] & mask);
    gpr_set(cpu, R_BP, insn->opsize, stack_pop(cpu, insn->opsize));
}

void interp_stack_register(interp_fn *t)
{
    t[I_PUSH] = op_push;
    t[I_POP] = op_pop;
    t[I_PUSHA] = op_pusha;
    t[I_POPA] = op_popa;
    t[I_ENTER] = op_enter;
    t[I_LEAVE] = op_leave;
}
