/* Interpreter: control transfers: Jcc, JMP, CALL and RET near and far,
 * LOOP/LOOPE/LOOPNE/JCXZ, INT n/INT3/INTO/INT1, IRET and the UD
 * instructions. Far transfers, IRET and interrupt delivery are the system
 * code's (cpu/farxfer.c, cpu/exception.c); near ones are checked here
 * against the CS limit (or canonical form in 64-bit mode). */
#include "cpu/interp.h"

static uint64_t near_target(struct cpu *cpu, uint64_t target, unsigned opsize)
{
    target &= size_mask(opsize);
    if (cpu->mode == MODE_LONG64) {
        if ((uint64_t)(((int64_t)target << 16) >> 16) != target)
            raise_gp0(cpu);
    } else if (target > cpu->s.seg[S_CS].limit) {
        raise_gp0(cpu);
    }
    return target;
}

void interp_jump(struct cpu *cpu, uint64_t target, unsigned opsize)
{
    cpu->s.rip = near_target(cpu, target, opsize);
}

static void op_jcc(struct cpu *cpu, const struct x86_insn *insn)
{
    if (cc_cond(&cpu->cc, insn->opcode & 15))
        interp_jump(cpu, cpu->s.rip + (uint64_t)insn->imm, insn->opsize);
}

static void op_jmp(struct cpu *cpu, const struct x86_insn *insn)
{
    if (insn->op->opnd[0].method == OM_J)
        interp_jump(cpu, cpu->s.rip + (uint64_t)insn->imm, insn->opsize);
    else
        interp_jump(cpu, rm_get(cpu, insn, insn->opsize), insn->opsize);
}

static void op_call(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    uint64_t target = insn->op->opnd[0].method == OM_J
                          ? cpu->s.rip + (uint64_t)insn->imm
                          : rm_get(cpu, insn, size);
    target = near_target(cpu, target, size);
    stack_push(cpu, cpu->s.rip, size);
    cpu->s.rip = target;
}

static void op_ret(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    uint64_t target = near_target(cpu, stack_pop(cpu, size), size);
    if (insn->op->nopnd) {
        uint64_t mask = size_mask(cpu->stack_size), sp = cpu->s.gpr[R_SP];
        cpu->s.gpr[R_SP] = (sp & ~mask) | ((sp + (uint16_t)insn->imm) & mask);
    }
    cpu->s.rip = target;
}

/* the far pointer of JMPF/CALLF: immediate or memory (offset, selector) */
static void far_pointer(struct cpu *cpu, const struct x86_insn *insn,
                        uint16_t *sel, uint64_t *off)
{
    if (insn->op->opnd[0].method == OM_A) {
        *sel = (uint16_t)insn->imm2;
        *off = (uint64_t)insn->imm & size_mask(insn->opsize);
        return;
    }
    uint64_t ea = insn_ea(cpu, insn);
    *off = data_read(cpu, insn->mem_seg, ea, insn->opsize);
    *sel = (uint16_t)data_read(cpu, insn->mem_seg,
                              (ea + insn->opsize) & addr_mask(insn->addrsize),
                              2);
}

static void op_jmpf(struct cpu *cpu, const struct x86_insn *insn)
{
    uint16_t sel;
    uint64_t off;
    far_pointer(cpu, insn, &sel, &off);
    cpu_far_jmp(cpu, sel, off);
}

static void op_callf(struct cpu *cpu, const struct x86_insn *insn)
{
    uint16_t sel;
    uint64_t off;
    far_pointer(cpu, insn, &sel, &off);
    cpu_far_call(cpu, sel, off, insn->opsize);
}

static void op_retf(struct cpu *cpu, const struct x86_insn *insn)
{
    cpu_far_ret(cpu, insn->opsize,
                insn->op->nopnd ? (uint16_t)insn->imm : 0);
}

static void op_iret(struct cpu *cpu, const struct x86_insn *insn)
{
    cpu_iret(cpu, insn->opsize);
}

/* LOOP family: the count register is sized by the address size */
static void loop_op(struct cpu *cpu, const struct x86_insn *insn, int kind)
{
    unsigned as = insn->addrsize;
    uint64_t cx = (cpu->s.gpr[R_CX] - 1) & addr_mask(as);
    bool take = cx != 0;
    if (kind == 1)
        take = take && cc_zf(&cpu->cc);
    else if (kind == 2)
        take = take && !cc_zf(&cpu->cc);
    if (take)
        interp_jump(cpu, cpu->s.rip + (uint64_t)insn->imm, insn->opsize);
    gpr_set(cpu, R_CX, as, cx);
}

static void op_loop(struct cpu *cpu, const struct x86_insn *insn)
{
    loop_op(cpu, insn, 0);
}

static void op_loope(struct cpu *cpu, const struct x86_insn *insn)
{
    loop_op(cpu, insn, 1);
}

static void op_loopne(struct cpu *cpu, const struct x86_insn *insn)
{
    loop_op(cpu, insn, 2);
}

static void op_jcxz(struct cpu *cpu, const struct x86_insn *insn)
{
    if (!(cpu->s.gpr[R_CX] & addr_mask(insn->addrsize)))
        interp_jump(cpu, cpu->s.rip + (uint64_t)insn->imm, insn->opsize);
}

/* --- software interrupts --- */

static void op_int(struct cpu *cpu, const struct x86_insn *insn)
{
    /* V86 without VME: INT n is IOPL-sensitive */
    if (cpu->mode == MODE_V86 && cpu_iopl(cpu) < 3)
        raise_gp0(cpu);
    cpu_deliver_event(cpu, (uint8_t)insn->imm, EV_SOFTINT, false, 0,
                      cpu->s.rip);
}

static void op_int3(struct cpu *cpu, const struct x86_insn *insn)
{
    cpu_deliver_event(cpu, EXC_BP, EV_INT3, false, 0, cpu->s.rip);
}

static void op_into(struct cpu *cpu, const struct x86_insn *insn)
{
    if (cc_of(&cpu->cc))
        cpu_deliver_event(cpu, EXC_OF, EV_INTO, false, 0, cpu->s.rip);
}

static void op_int1(struct cpu *cpu, const struct x86_insn *insn)
{
    cpu_deliver_event(cpu, EXC_DB, EV_ICEBP, false, 0, cpu->s.rip);
}

void interp_ctrl_register(interp_fn *t)
{
    t[I_JCC] = op_jcc;
    t[I_JMP] = op_jmp;
    t[I_CALL] = op_call;
    t[I_RET] = op_ret;
    t[I_JMPF] = op_jmpf;
    t[I_CALLF] = op_callf;
    t[I_RETF] = op_retf;
    t[I_IRET] = op_iret;
    t[I_LOOP] = op_loop;
    t[I_LOOPE] = op_loope;
    t[I_LOOPNE] = op_loopne;
    t[I_JCXZ] = op_jcxz;
    t[I_INT] = op_int;
    t[I_INT3] = op_int3;
    t[I_INTO] = op_into;
    t[I_INT1] = op_int1;
    t[I_UD0] = interp_ud;
    t[I_UD1] = interp_ud;
    t[I_UD2] = interp_ud;
}
