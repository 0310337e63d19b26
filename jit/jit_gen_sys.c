/* Native code for the system instructions a kernel runs often: CLI/STI
 * (the IOPL check, and STI's one-instruction interrupt shadow), SWAPGS,
 * RD/WRFSBASE and RD/WRGSBASE, RDTSC/RDTSCP, CPUID and MOV from
 * CR0/CR2/CR3/CR4, each as
 * cpu/interp_system.c does it, without the interpreter's handler and,
 * for STI, without leaving the block.
 *
 * STI: the interpreter takes an interrupt that STI unmasks only after the
 * instruction that follows it (SHADOW_STI). Only when an event waits
 * does STI set the shadow as the interpreter does and leave the block
 * (the loop runs the next instruction in the interpreter, then takes the
 * event); else the block goes on: an event that comes later, from that
 * next instruction (a helper that leaves when an event waits) or from
 * another thread, is taken as any other. */
#include <stddef.h>
#include "cpu/sys_internal.h"
#include "jit/jit_gen.h"
#include "vm/vcpu_link.h"

#define RFLAGS_OFF VCPU_FIELD(cpu.s.rflags)

static uint64_t sys_rdtsc(struct jit_vcpu *v)
{
    return cpu_rdtsc(&v->cpu);
}

static void sys_cpuid(struct jit_vcpu *v)
{
    struct cpu *cpu = &v->cpu;
    uint32_t r[4];
    cpu_cpuid(cpu, (uint32_t)cpu->s.gpr[R_AX], (uint32_t)cpu->s.gpr[R_CX], r);
    cpu->s.gpr[R_AX] = r[0];
    cpu->s.gpr[R_BX] = r[1];
    cpu->s.gpr[R_CX] = r[2];
    cpu->s.gpr[R_DX] = r[3];
}

/* #UD for the instruction at rip (RD/WRFSBASE without CR4.FSGSBASE) */
static void sys_raise_ud(struct jit_vcpu *v, uint64_t rip)
{
    struct cpu *cpu = &v->cpu;
    cpu->insn_rip = rip;
    cpu->insn_rsp = cpu->s.gpr[R_SP];
    cpu_raise_noerr(cpu, EXC_UD);
}

/* MOV r, CRn: the control registers a plain load reads */
static bool plain_cr(unsigned cr)
{
    return cr == 0 || cr == 2 || cr == 3 || cr == 4;
}

int gen_sys_kind(const struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    switch (insn->op->id) {
    case I_CLI: case I_STI: case I_RDTSC: case I_RDTSCP: case I_CPUID:
    case I_RDFSBASE: case I_RDGSBASE: case I_WRFSBASE: case I_WRGSBASE:
        return K_SYS;
    case I_SWAPGS:   /* only in 64-bit mode (else #UD); CPL 0 else #GP */
        return t->cpu->cpl == 0 ? K_SYS : K_FALLBACK;
    case I_MOVCR:    /* reads: CPL 0 else #GP */
        if (insn->op->opnd[0].method == OM_C || t->cpu->cpl != 0 ||
            !plain_cr(insn->reg))
            return K_FALLBACK;
        return K_SYS;
    default:
        return -1;
    }
}

/* may CLI/STI raise #GP here (CPL > IOPL outside real mode)? */
static bool iopl_matters(const struct tctx *t)
{
    return t->cpu->mode != MODE_REAL && t->cpu->cpl != 0;
}

bool gen_sys_facts(const struct tctx *t, struct jit_ir *ir)
{
    if (ir->kind != K_SYS)
        return false;
    ir->reads_cc = false;
    switch (ir->insn.op->id) {
    case I_CLI:
        ir->may_exit = iopl_matters(t);
        break;
    case I_RDTSC: case I_RDTSCP:   /* CR4.TSD: #GP above CPL 0 */
        ir->may_exit = t->cpu->cpl != 0;
        break;
    case I_STI:   /* #GP, or leaves the block */
    case I_RDFSBASE: case I_RDGSBASE:   /* #UD */
    case I_WRFSBASE: case I_WRGSBASE:   /* #UD, #GP */
        break;
    default:      /* SWAPGS, MOV from CRn, CPUID */
        ir->may_exit = false;
        break;
    }
    return true;
}

/* #GP(0) when CPL > IOPL (CLI, STI) */
static void gen_iopl_check(struct tctx *t)
{
    struct emit *e = &t->e;
    if (!iopl_matters(t))
        return;
    emit_load(e, 4, HR_RAX, emit_m(HR_RBX, RFLAGS_OFF));
    emit_shift_ri(e, ES_SHR, 4, HR_RAX, 12);
    emit_alu_ri(e, EA_AND, 4, HR_RAX, 3);
    emit_alu_ri(e, EA_CMP, 4, HR_RAX, t->cpu->cpl);
    gen_gp_if(t, CC_B);
}

/* STI: IF set already: nothing (no shadow either). Else IF set, and
 * when an event waits, the shadow too and out to the loop */
static void gen_sti(struct tctx *t, const struct jit_ir *ir)
{
    struct emit *e = &t->e;
    gen_iopl_check(t);
    emit_test_mi(e, 4, emit_m(HR_RBX, RFLAGS_OFF), FL_IF);
    size_t set = emit_jcc(e, CC_NE, NULL);
    emit_alu_mi(e, EA_OR, 4, emit_m(HR_RBX, RFLAGS_OFF), FL_IF);
    emit_load(e, 8, HR_RAX, emit_m(HR_RBX, VCPU_FIELD(cpu.link)));
    emit_test_rr(e, 8, HR_RAX, HR_RAX);
    size_t no_link = emit_jcc(e, CC_E, NULL);
    emit_alu_mi(e, EA_CMP, 4,
                emit_m(HR_RAX, (int32_t)offsetof(struct vcpu_link, events)),
                0);
    size_t none = emit_jcc(e, CC_E, NULL);
    emit_alu_mi(e, EA_OR, 1,
                emit_m(HR_RBX, VCPU_FIELD(cpu.s.interrupt_shadow)),
                SHADOW_STI);
    /* the OR leaves ZF clear: always taken */
    gen_exit_if(t, CC_NE, false, ir->next, (int32_t)(t->cur - t->ir + 1));
    if (!e->overflow) {
        emit_patch_rel32(e->buf + set, emit_ptr(e));
        emit_patch_rel32(e->buf + no_link, emit_ptr(e));
        emit_patch_rel32(e->buf + none, emit_ptr(e));
    }
}

static void gen_rdtsc(struct tctx *t, const struct x86_insn *insn)
{
    struct emit *e = &t->e;
    if (t->cpu->cpl != 0) {
        emit_test_mi(e, 4, emit_m(HR_RBX, VCPU_FIELD(cpu.s.cr4)), CR4_TSD);
        gen_gp_if(t, CC_NE);
    }
    gen_call(t, (const void *)sys_rdtsc);
    emit_mov_rr(e, 8, HR_R12, HR_RAX);
    gen_store_reg(t, gen_gpr_off(R_AX), 4, HR_RAX);
    emit_shift_ri(e, ES_SHR, 8, HR_R12, 32);
    gen_store_reg(t, gen_gpr_off(R_DX), 4, HR_R12);
    if (insn->op->id == I_RDTSCP) {
        emit_load(e, 4, HR_R12, emit_m(HR_RBX, VCPU_FIELD(cpu.s.tsc_aux)));
        gen_store_reg(t, gen_gpr_off(R_CX), 4, HR_R12);
    }
}

static void gen_swapgs(struct tctx *t)
{
    struct emit *e = &t->e;
    int32_t gs = SEG_FIELD(S_GS, base);
    int32_t kgs = VCPU_FIELD(cpu.s.kernel_gs_base);
    emit_load(e, 8, HR_RAX, emit_m(HR_RBX, gs));
    emit_load(e, 8, HR_RCX, emit_m(HR_RBX, kgs));
    emit_store(e, 8, emit_m(HR_RBX, gs), HR_RCX);
    emit_store(e, 8, emit_m(HR_RBX, kgs), HR_RAX);
}

/* RD/WRFSBASE, RD/WRGSBASE (64-bit mode only): #UD without
 * CR4.FSGSBASE; a write of a non-canonical base is #GP(0) */
static void gen_fsgsbase(struct tctx *t, const struct x86_insn *insn)
{
    struct emit *e = &t->e;
    unsigned id = insn->op->id, size = insn->opsize == 8 ? 8 : 4;
    int seg = id == I_RDFSBASE || id == I_WRFSBASE ? S_FS : S_GS;
    int32_t base = SEG_FIELD(seg, base), reg = gen_gpr_off(insn->rm);
    emit_test_mi(e, 4, emit_m(HR_RBX, VCPU_FIELD(cpu.s.cr4)), CR4_FSGSBASE);
    size_t ok = emit_jcc(e, CC_NE, NULL);
    emit_mov_ri(e, 8, HR_RSI, t->cur->rip);
    gen_call(t, (const void *)sys_raise_ud);   /* does not return */
    if (!e->overflow)
        emit_patch_rel32(e->buf + ok, emit_ptr(e));
    if (id == I_RDFSBASE || id == I_RDGSBASE) {
        emit_load(e, 8, HR_RAX, emit_m(HR_RBX, base));
        gen_store_reg(t, reg, size, HR_RAX);
        return;
    }
    gen_load_reg(t, HR_R12, reg, size);
    if (size == 8) {
        emit_mov_rr(e, 8, HR_RAX, HR_R12);
        emit_shift_ri(e, ES_SHL, 8, HR_RAX, 16);
        emit_shift_ri(e, ES_SAR, 8, HR_RAX, 16);
        emit_alu_rr(e, EA_CMP, 8, HR_RAX, HR_R12);
        gen_gp_if(t, CC_NE);
    }
    emit_store(e, 8, emit_m(HR_RBX, base), HR_R12);
}

static void gen_read_cr(struct tctx *t, const struct x86_insn *insn)
{
    static const int32_t off[5] = {
        VCPU_FIELD(cpu.s.cr0), 0, VCPU_FIELD(cpu.s.cr2),
        VCPU_FIELD(cpu.s.cr3), VCPU_FIELD(cpu.s.cr4),
    };
    unsigned size = t->long64 ? 8 : 4;
    emit_load(&t->e, size, HR_RAX, emit_m(HR_RBX, off[insn->reg]));
    gen_store_reg(t, gen_gpr_off(insn->rm), size, HR_RAX);
}

bool gen_sys(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    if (ir->kind != K_SYS)
        return false;
    switch (insn->op->id) {
    case I_CLI:
        gen_iopl_check(t);
        emit_alu_mi(&t->e, EA_AND, 4, emit_m(HR_RBX, RFLAGS_OFF),
                    (int32_t)~FL_IF);
        break;
    case I_STI:
        gen_sti(t, ir);
        break;
    case I_RDTSC: case I_RDTSCP:
        gen_rdtsc(t, insn);
        break;
    case I_CPUID:
        gen_call(t, (const void *)sys_cpuid);
        break;
    case I_SWAPGS:
        gen_swapgs(t);
        break;
    case I_RDFSBASE: case I_RDGSBASE: case I_WRFSBASE: case I_WRGSBASE:
        gen_fsgsbase(t, insn);
        break;
    default:   /* I_MOVCR */
        gen_read_cr(t, insn);
        break;
    }
    t->fl.host = false;
    return true;
}
