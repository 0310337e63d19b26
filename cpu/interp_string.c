/* Interpreter: the string instructions MOVS, CMPS, STOS, LODS, SCAS, INS
 * and OUTS, with REP/REPE/REPNE. The source is DS:rSI (segment override
 * allowed), the destination ES:rDI; the address size picks SI/ESI/RSI and
 * CX/ECX/RCX. Each iteration commits rSI/rDI/rCX, so a fault leaves the
 * registers where the next iteration starts; a long REP gives the run loop
 * a chance to take interrupts by ending early with RIP still at the
 * instruction, which resumes it. */
#include "cpu/interp.h"
#include "vm/port_bus.h"

#define REP_BUDGET 4096  /* iterations before the run loop looks at events */

enum str_kind { STR_MOVS, STR_CMPS, STR_STOS, STR_LODS, STR_SCAS, STR_INS,
                STR_OUTS };

struct str_ctx {
    unsigned size, as;
    int64_t step;
};

static uint64_t areg(const struct cpu *cpu, const struct str_ctx *c, int r)
{
    return cpu->s.gpr[r] & addr_mask(c->as);
}

static void areg_advance(struct cpu *cpu, const struct str_ctx *c, int r)
{
    gpr_set(cpu, r, c->as, cpu->s.gpr[r] + (uint64_t)c->step);
}

/* One iteration; returns the flags-compare result for CMPS/SCAS (true when
 * the operands were equal) */
static bool str_once(struct cpu *cpu, const struct x86_insn *insn,
                     const struct str_ctx *c, enum str_kind kind)
{
    unsigned size = c->size;
    int src_seg = insn->mem_seg;
    switch (kind) {
    case STR_MOVS: {
        uint64_t v = data_read(cpu, src_seg, areg(cpu, c, R_SI), size);
        data_write(cpu, S_ES, areg(cpu, c, R_DI), v, size);
        areg_advance(cpu, c, R_SI);
        areg_advance(cpu, c, R_DI);
        return true;
    }
    case STR_CMPS: {
        uint64_t a = data_read(cpu, src_seg, areg(cpu, c, R_SI), size);
        uint64_t b = data_read(cpu, S_ES, areg(cpu, c, R_DI), size);
        alu_cmp(&cpu->cc, a, b, size);
        areg_advance(cpu, c, R_SI);
        areg_advance(cpu, c, R_DI);
        return a == b;
    }
    case STR_STOS:
        data_write(cpu, S_ES, areg(cpu, c, R_DI), cpu->s.gpr[R_AX], size);
        areg_advance(cpu, c, R_DI);
        return true;
    case STR_LODS:
        gpr_set(cpu, R_AX, size,
                data_read(cpu, src_seg, areg(cpu, c, R_SI), size));
        areg_advance(cpu, c, R_SI);
        return true;
    case STR_SCAS: {
        uint64_t a = gpr_get(cpu, R_AX, size);
        uint64_t b = data_read(cpu, S_ES, areg(cpu, c, R_DI), size);
        alu_cmp(&cpu->cc, a, b, size);
        areg_advance(cpu, c, R_DI);
        return a == b;
    }
    case STR_INS: {
        uint16_t port = (uint16_t)cpu->s.gpr[R_DX];
        cpu_check_io(cpu, port, size);
        uint64_t di = areg(cpu, c, R_DI);
        cpu_seg_to_lin(cpu, S_ES, di, size, ACC_WRITE);
        uint32_t v = port_read(cpu->io, port, size);
        data_write(cpu, S_ES, di, v, size);
        areg_advance(cpu, c, R_DI);
        return true;
    }
    case STR_OUTS: {
        uint16_t port = (uint16_t)cpu->s.gpr[R_DX];
        cpu_check_io(cpu, port, size);
        uint64_t v = data_read(cpu, src_seg, areg(cpu, c, R_SI), size);
        port_write(cpu->io, port, (uint32_t)v, size);
        areg_advance(cpu, c, R_SI);
        return true;
    }
    }
    return true;
}

static void string_op(struct cpu *cpu, const struct x86_insn *insn,
                      enum str_kind kind)
{
    struct str_ctx c;
    c.size = insn->op->opnd[0].size == OS_b ? 1
             : kind == STR_INS || kind == STR_OUTS
                 ? (insn->opsize == 2 ? 2 : 4) : insn->opsize;
    c.as = insn->addrsize;
    c.step = (cpu->s.rflags & FL_DF) ? -(int64_t)c.size : (int64_t)c.size;
    if (!insn->rep) {
        str_once(cpu, insn, &c, kind);
        return;
    }
    bool cond = kind == STR_CMPS || kind == STR_SCAS;
    for (unsigned n = 0;; n++) {
        if (!areg(cpu, &c, R_CX))
            return;
        if (n == REP_BUDGET) {
            cpu->s.rip = cpu->insn_rip;   /* resume after the events */
            return;
        }
        bool equal = str_once(cpu, insn, &c, kind);
        gpr_set(cpu, R_CX, c.as, cpu->s.gpr[R_CX] - 1);
        if (cond && equal != (insn->rep == 0xf3))
            return;
    }
}

#define STRING_OP(name, kind)                                                  \
    static void op_##name(struct cpu *cpu, const struct x86_insn *insn)       \
    {                                                                          \
        string_op(cpu, insn, kind);                                            \
    }

STRING_OP(movs, STR_MOVS)
STRING_OP(cmps, STR_CMPS)
STRING_OP(stos, STR_STOS)
STRING_OP(lods, STR_LODS)
STRING_OP(scas, STR_SCAS)
STRING_OP(ins, STR_INS)
STRING_OP(outs, STR_OUTS)

void interp_string_register(interp_fn *t)
{
    t[I_MOVS] = op_movs;
    t[I_CMPS] = op_cmps;
    t[I_STOS] = op_stos;
    t[I_LODS] = op_lods;
    t[I_SCAS] = op_scas;
    t[I_INS] = op_ins;
    t[I_OUTS] = op_outs;
}
