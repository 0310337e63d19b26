/* Native code for the string instructions without REP: MOVS, STOS, LODS,
 * CMPS and SCAS of every size, with the direction flag and the address
 * size (SI/ESI/RSI, DI/EDI/RDI) as cpu/interp_string.c has them: the
 * source at mem_seg:rSI (overridable), the destination at ES:rDI, the
 * reads, then the flags record (CMPS/SCAS), the write, then the index
 * registers, so a fault leaves them unchanged. REP MOVS and REP STOS go
 * to the interpreter's handler through string_rep() (no fallback
 * bookkeeping): it moves whole runs inside a page at a time through the
 * TLB's host pointer and gives the run loop a chance to take events
 * between runs, leaving RIP at the instruction. */
#include "cpu/alu.h"
#include "jit/jit_gen.h"

static int string_rep(struct jit_vcpu *v, const struct jit_insn *ji)
{
    struct cpu *cpu = &v->cpu;
    cpu->insn_rip = ji->rip;
    cpu->insn_rsp = cpu->s.gpr[R_SP];
    cpu->s.rip = ji->next_rip;
    ji->fn(cpu, &ji->insn);
    return v->exit_now || cpu->s.rip != ji->next_rip ||
           jit_events_pending(cpu);
}

int gen_string_kind(const struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    switch (insn->op->id) {
    case I_MOVS: case I_STOS:
        return insn->rep ? K_REPSTR : K_STRING;
    case I_LODS: case I_CMPS: case I_SCAS:
        return insn->rep ? K_FALLBACK : K_STRING;
    default:
        return K_FALLBACK;
    }
}

bool gen_string_facts(struct jit_ir *ir)
{
    unsigned id = ir->insn.op->id;
    if (ir->kind != K_STRING && ir->kind != K_REPSTR)
        return false;
    ir->reads_cc = false;
    ir->writes_cc = ir->kind == K_STRING && (id == I_CMPS || id == I_SCAS);
    ir->may_exit = true;
    return true;
}

/* R13 = the step: -size when RFLAGS.DF is set, else size */
static void gen_step(struct tctx *t, unsigned size)
{
    struct emit *e = &t->e;
    emit_load(e, 4, HR_RAX, emit_m(HR_RBX, VCPU_FIELD(cpu.s.rflags)));
    emit_shift_ri(e, ES_SHR, 4, HR_RAX, 10);
    emit_alu_ri(e, EA_AND, 4, HR_RAX, 1);
    emit_neg(e, 8, HR_RAX);                 /* 0 or -1 */
    emit_mov_ri(e, 8, HR_R13, size);
    emit_alu_rr(e, EA_XOR, 8, HR_R13, HR_RAX);
    emit_alu_rr(e, EA_SUB, 8, HR_R13, HR_RAX);
}

/* R15 = the index register r at the address size */
static void gen_index(struct tctx *t, const struct x86_insn *insn, int r)
{
    gen_load_reg(t, HR_R15, gen_gpr_off((unsigned)r), insn->addrsize);
}

/* r += step at the address size (LEA: the host flags stay) */
static void gen_advance(struct tctx *t, const struct x86_insn *insn, int r)
{
    struct emit *e = &t->e;
    int32_t off = gen_gpr_off((unsigned)r);
    gen_load_reg(t, HR_RAX, off, 8);
    emit_lea(e, 8, HR_RAX, emit_mi(HR_RAX, HR_R13, 1, 0));
    gen_store_reg(t, off, insn->addrsize, HR_RAX);
}

static void gen_string_once(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    unsigned id = insn->op->id;
    unsigned size = insn->op->opnd[0].size == OS_b ? 1 : insn->opsize;
    int src = insn->mem_seg;
    t->fl = (struct flag_state){ .op = -1 };
    gen_step(t, size);
    switch (id) {
    case I_MOVS:
        gen_index(t, insn, R_SI);
        gen_mem_load(t, src, size);
        emit_mov_rr(&t->e, 8, HR_R14, HR_RAX);
        gen_index(t, insn, R_DI);
        gen_mem_store(t, S_ES, size);
        gen_advance(t, insn, R_SI);
        gen_advance(t, insn, R_DI);
        break;
    case I_STOS:
        gen_load_reg(t, HR_R14, gen_gpr_off(R_AX), 8);
        gen_index(t, insn, R_DI);
        gen_mem_store(t, S_ES, size);
        gen_advance(t, insn, R_DI);
        break;
    case I_LODS:
        gen_index(t, insn, R_SI);
        gen_mem_load(t, src, size);
        gen_store_reg(t, gen_gpr_off(R_AX), size, HR_RAX);
        gen_advance(t, insn, R_SI);
        break;
    case I_CMPS:
        gen_index(t, insn, R_SI);
        gen_mem_load(t, src, size);
        emit_mov_rr(&t->e, 8, HR_R12, HR_RAX);
        gen_index(t, insn, R_DI);
        gen_mem_load(t, S_ES, size);
        gen_add_sub(t, ir, false, size, HR_R12, HR_RAX);   /* the flags */
        gen_advance(t, insn, R_SI);
        gen_advance(t, insn, R_DI);
        break;
    default: /* SCAS */
        gen_load_reg(t, HR_R12, gen_gpr_off(R_AX), size);
        gen_index(t, insn, R_DI);
        gen_mem_load(t, S_ES, size);
        gen_add_sub(t, ir, false, size, HR_R12, HR_RAX);   /* the flags */
        gen_advance(t, insn, R_DI);
        break;
    }
    if (id == I_MOVS || id == I_STOS)
        gen_check_exit(t, ir->next);
}

bool gen_string(struct tctx *t, const struct jit_ir *ir)
{
    switch (ir->kind) {
    case K_STRING:
        gen_string_once(t, ir);
        return true;
    case K_REPSTR:
        gen_helper_insn(t, ir, (const void *)string_rep);
        return true;
    default:
        return false;
    }
}
