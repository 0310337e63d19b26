/* Lazy-flags records that only a fault or an exit could see. Liveness
 * (jit/jit_translate.c) keeps a producer's record when a reader, a
 * possible fault or the block end may see it before the next producer.
 * When nothing but a fault or an exit can (the instructions up to the
 * next producer only move data: MOV, MOVZX/MOVSX, LEA, PUSH/POP, NOP, and
 * leave the producer's registers alone), the block's code leaves the
 * record out and the block keeps how to rebuild it from those registers
 * (struct jit_defer). The run loop rebuilds it when a fault stops the
 * block in that stretch, and the store helper when the block leaves
 * after a store there, so the guest sees the flags of one instruction at
 * a time. Producers: ADD SUB CMP AND OR XOR TEST of a register with a
 * register or an immediate, INC DEC NEG of a register, SHL SHR SAR of a
 * 4- or 8-byte register by a constant. The next producer may also be one
 * that reads CF (INC DEC ADC SBB): the left-out producer then keeps its
 * CF in jit_vcpu.defer_cf (one SETC), as a shift always does. */
#include "cpu/alu.h"
#include "jit/jit_gen.h"

/* bit g: the guest register g operand 0 writes (AH..BH: their full
 * register); 0 for memory */
static uint32_t opnd0_bit(const struct x86_insn *insn)
{
    int r = gen_opnd_reg(insn, 0);
    unsigned size = gen_opnd_bytes(insn, insn->op->opnd[0].size);
    return r < 0 ? 0 : 1u << (gen_high_byte(insn, r, size) ? r - 4 : r);
}

/* the guest registers an instruction that only moves data writes; every
 * bit for the other kinds */
static uint32_t moves_write(const struct jit_ir *ir)
{
    switch (ir->kind) {
    case K_NOP:
        return 0;
    case K_MOV: case K_MOVX: case K_LEA:
        return opnd0_bit(&ir->insn);
    case K_PUSH:
        return 1u << R_SP;
    case K_POP:
        return 1u << R_SP | opnd0_bit(&ir->insn);
    default:
        return ~0u;
    }
}

/* the register operand i names, or -1 (an immediate, AH..BH) */
static int plain_reg(const struct x86_insn *insn, int i, unsigned size)
{
    int r = gen_opnd_reg(insn, i);
    return gen_high_byte(insn, r, size) ? -1 : r;
}

/* how to rebuild ir's record from the registers after it, if it can be */
static bool describe(const struct jit_ir *ir, struct jit_defer *d)
{
    const struct x86_insn *insn = &ir->insn;
    if (insn->has_mem || insn->lock)
        return false;
    unsigned id = insn->op->id;
    switch (ir->kind) {
    case K_ALU:
        if (id == I_ADC || id == I_SBB)
            return false;
        break;
    case K_INCDEC: case K_NEG:
        break;
    case K_SHIFT:   /* by 1..width-1, CF in jit_vcpu.defer_cf */
        if (id != I_SHL && id != I_SHR && id != I_SAR)
            return false;
        break;
    default:
        return false;
    }
    unsigned size = gen_opnd_bytes(insn, insn->op->opnd[0].size), c = 0;
    int r = plain_reg(insn, 0, size), s = -1;
    if (r < 0)
        return false;
    if (ir->kind == K_SHIFT &&
        (size < 4 || !gen_const_count(insn, size, &c) || c == 0))
        return false;
    if (ir->kind == K_ALU) {
        unsigned m = insn->op->opnd[1].method;
        if (m != OM_I && m != OM_IS) {
            s = plain_reg(insn, 1, size);
            if (s < 0 || (s == r && id == I_ADD))   /* ADD r, r: src lost */
                return false;
        }
    }
    *d = (struct jit_defer){ .size = (uint8_t)size, .r = (int8_t)r,
                             .s = (int8_t)s, .id = (uint16_t)id,
                             .imm = ir->kind == K_SHIFT ? c
                                                        : (uint64_t)insn->imm };
    return true;
}

/* How an instruction ends a stretch, changing no guest register before
 * its last possible fault: REPLACES the record without reading it, or
 * READS_CF of it only (INC DEC ADC SBB: the producer then keeps its CF in
 * jit_vcpu.defer_cf, gen_carry takes it from there) */
enum { CONTINUES, REPLACES, READS_CF };

static int stretch_end(const struct jit_ir *ir)
{
    unsigned id = ir->insn.op->id;
    if (ir->kind == K_INCDEC || (ir->kind == K_ALU && (id == I_ADC ||
                                                       id == I_SBB)))
        return READS_CF;
    if (!ir->writes_cc || ir->reads_cc)
        return CONTINUES;
    return !ir->insn.has_mem || ir->kind == K_ALU || ir->kind == K_NEG ||
                   ir->kind == K_SHIFT || ir->kind == K_POPCNT
               ? REPLACES
               : CONTINUES;
}

void defer_plan(struct tctx *t)
{
    t->ndefer = 0;
    for (int j = 0; j < t->n; j++)
        t->ir[j].save_cf = false;
    int cf_reader = -1;   /* takes its CF from defer_cf: not left out */
    for (int j = 0; j < t->n; j++) {
        struct jit_ir *ir = &t->ir[j];
        struct jit_defer d;
        if (!ir->keep_cc || j == cf_reader || !describe(ir, &d))
            continue;
        uint32_t regs = 1u << d.r | (d.s >= 0 ? 1u << d.s : 0);
        int m = j + 1;
        while (m < t->n && stretch_end(&t->ir[m]) == CONTINUES &&
               !(moves_write(&t->ir[m]) & regs))
            m++;
        int end = m < t->n ? stretch_end(&t->ir[m]) : CONTINUES;
        /* INC/DEC take CF from the record before them, not the host's */
        if (end == CONTINUES || (end == READS_CF && ir->kind == K_INCDEC))
            continue;   /* a reader, the block end, a register changed */
        ir->keep_cc = false;
        ir->save_cf = ir->kind == K_SHIFT || end == READS_CF;
        if (end == READS_CF)
            cf_reader = m;
        d.first = (uint8_t)(j + 1);
        d.last = (uint8_t)m;
        t->defer[t->ndefer++] = d;
    }
}

void jit_defer_rebuild(struct cpu *cpu, const struct jit_block *b,
                       unsigned i)
{
    const struct jit_defer *d = b->defer;
    while (d < b->defer + b->ndefer && !(d->first <= i && i <= d->last))
        d++;
    if (d == b->defer + b->ndefer)
        return;
    unsigned size = d->size;
    uint64_t m = alu_mask(size), r = cpu->s.gpr[d->r] & m;
    uint64_t s = (d->s >= 0 ? cpu->s.gpr[d->s] : d->imm) & m;
    struct cpu_cc *cc = &cpu->cc;
    /* a shift's operand: the bits that give its result and CF */
    unsigned c = (unsigned)d->imm, bits = 8 * size;
    uint64_t cf = jit_vcpu_of(cpu)->defer_cf & 1;
    switch (d->id) {
    case I_SHL: alu_shl(cc, r >> c | cf << (bits - c), c, size); break;
    case I_SHR: alu_shr(cc, r << c | cf << (c - 1), c, size); break;
    case I_SAR: alu_sar(cc, r << c | cf << (c - 1), c, size); break;
    case I_ADD: alu_add(cc, r - s, s, size); break;
    case I_SUB: alu_sub(cc, r + s, s, size); break;
    case I_CMP: alu_sub(cc, r, s, size); break;
    case I_TEST: alu_logic(cc, r & s, size); break;
    case I_INC: alu_inc(cc, r - 1, size); break;
    case I_DEC: alu_dec(cc, r + 1, size); break;
    case I_NEG: alu_neg(cc, -r, size); break;
    default: alu_logic(cc, r, size); break;   /* AND OR XOR */
    }
}
