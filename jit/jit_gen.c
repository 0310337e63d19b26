/* Native code for the hot instruction kinds (MOV, LEA, MOVZX/MOVSX, the
 * ALU group and TEST, INC/DEC, Jcc/JMP/CALL/RET, PUSH/POP, SETcc, CMOVcc)
 * and the interpreter fallback for everything else. Each native form does
 * what the interpreter's handler does: memory reads (for a memory
 * destination, with the checks of its write: gen_rmw_insn), the flags
 * record, then the write, which cannot fault any more, so a fault leaves
 * the state the interpreter's leaves (nothing changed, the record
 * included).
 * A register operand (not AH..BH) is worked on in the host register that
 * caches it where the form allows (in_place, jit/jit_regcache.c; a byte
 * or word operation leaves the rest of it, as the guest's does), else
 * through temporaries (R12-R14); a record field that needs a byte or
 * word zero-extended gets a copy (gen_record_value).
 *
 * Flags: a producer writes the interpreter's lazy record (struct cpu_cc)
 * unless liveness found it dead; a consumer uses the host flags when the
 * producer just ran, else re-derives them from the record for a known
 * producer, else asks the C helper (cc_cond). */
#include <stddef.h>
#include "cpu/alu.h"
#include "jit/jit_gen.h"

#define CS_LIMIT                                                              \
    ((int32_t)(offsetof(struct jit_vcpu, cpu.s.seg) +                         \
               S_CS * sizeof(struct x86_segment) +                            \
               offsetof(struct x86_segment, limit)))

static uint64_t mask_of(unsigned size)
{
    return ~0ull >> (64 - 8 * size);
}

unsigned gen_opnd_bytes(const struct x86_insn *insn, unsigned size_kind)
{
    switch (size_kind) {
    case OS_b: return 1;
    case OS_w: return 2;
    case OS_d: return 4;
    case OS_q: return 8;
    case OS_z: return insn->opsize == 2 ? 2 : 4;
    case OS_y: return insn->opsize == 8 ? 8 : 4;
    default: return insn->opsize;
    }
}

static unsigned opnd_size(const struct x86_insn *insn, int i)
{
    return gen_opnd_bytes(insn, insn->op->opnd[i].size);
}

static bool is_rm(unsigned method)
{
    return method == OM_E || method == OM_M || method == OM_R;
}

/* operand i into host register h (zero-extended), as opnd_get() */
void load_opnd(struct tctx *t, const struct x86_insn *insn, int i,
               unsigned size, int h)
{
    const struct x86_operand *o = &insn->op->opnd[i];
    switch (o->method) {
    case OM_E: case OM_M: case OM_R:
        if (insn->mod == 3) {
            gen_load_reg(t, h, gen_reg_off(insn, insn->rm, size), size);
        } else {
            gen_mem_load_zx(t, insn->mem_seg, size, h);
        }
        break;
    case OM_G:
        gen_load_reg(t, h, gen_reg_off(insn, insn->reg, size), size);
        break;
    case OM_Z:
        gen_load_reg(t, h, gen_reg_off(insn, insn->rm, size), size);
        break;
    case OM_REG:
        gen_load_reg(t, h, gen_gpr_off(o->reg), size);
        break;
    default: /* OM_I, OM_IS */
        emit_mov_ri(&t->e, size == 8 ? 8 : 4, h,
                    (uint64_t)insn->imm & mask_of(size));
        break;
    }
}

/* host register h into operand i, as opnd_set() */
void store_opnd(struct tctx *t, const struct x86_insn *insn, int i,
                unsigned size, int h)
{
    const struct x86_operand *o = &insn->op->opnd[i];
    switch (o->method) {
    case OM_E: case OM_M: case OM_R:
        if (insn->mod == 3) {
            gen_store_reg(t, gen_reg_off(insn, insn->rm, size), size, h);
        } else {
            if (h != HR_R14)
                emit_mov_rr(&t->e, 8, HR_R14, h);
            gen_mem_store(t, insn->mem_seg, size);
        }
        break;
    case OM_G:
        gen_store_reg(t, gen_reg_off(insn, insn->reg, size), size, h);
        break;
    case OM_Z:
        gen_store_reg(t, gen_reg_off(insn, insn->rm, size), size, h);
        break;
    default: /* OM_REG */
        gen_store_reg(t, gen_gpr_off(o->reg), size, h);
        break;
    }
}

int gen_opnd_reg(const struct x86_insn *insn, int i)
{
    const struct x86_operand *o = &insn->op->opnd[i];
    if (o->method == OM_REG)
        return o->reg;
    if (o->method == OM_G)
        return insn->reg;
    if (o->method == OM_Z || (is_rm(o->method) && insn->mod == 3))
        return insn->rm;
    return -1;
}

/* a register destination of a 4-byte result takes all 8 bytes at once */
void store_result(struct tctx *t, const struct x86_insn *insn,
                  unsigned size, int h)
{
    int r = gen_opnd_reg(insn, 0);
    if (size != 4 || r < 0)
        store_opnd(t, insn, 0, size, h);
    else
        gen_store_reg(t, gen_gpr_off((unsigned)r), 8, h);
}

/* does the instruction name AH..BH? (the cache does not hold them, and
 * reading one writes back and forgets the register around it) */
static bool names_high_byte(const struct x86_insn *insn)
{
    for (int i = 0; i < insn->op->nopnd; i++)
        if (gen_high_byte(insn, gen_opnd_reg(insn, i), opnd_size(insn, i)))
            return true;
    return false;
}

/* a host 8- or 16-bit operation leaves the rest of the register as the
 * guest's does */
int in_place(struct tctx *t, const struct x86_insn *insn, unsigned size,
             bool load)
{
    int r = gen_opnd_reg(insn, 0);
    if (r < 0 || names_high_byte(insn))
        return -1;
    return rc_reg(t, gen_gpr_off((unsigned)r), load);
}

int gen_record_value(struct tctx *t, unsigned size, int h)
{
    if (size >= 4 || h == HR_R14)
        return h;
    emit_movzx_rr(&t->e, size, HR_R14, h);
    return HR_R14;
}

/* operand i in its register form, in the host register caching it
 * (filled from memory if need be), or -1 */
static int cached_opnd(struct tctx *t, const struct x86_insn *insn, int i,
                       unsigned size)
{
    const struct x86_operand *o = &insn->op->opnd[i];
    if (o->method == OM_G)
        return rc_reg(t, gen_reg_off(insn, insn->reg, size), true);
    if (is_rm(o->method) && insn->mod == 3)
        return rc_reg(t, gen_reg_off(insn, insn->rm, size), true);
    if (o->method == OM_REG)   /* AL, eAX, rAX */
        return rc_reg(t, gen_gpr_off(o->reg), true);
    return -1;
}

static bool is_imm(const struct x86_insn *insn, int i)
{
    return insn->op->opnd[i].method == OM_I ||
           insn->op->opnd[i].method == OM_IS;
}

/* a memory operand 0 that the instruction writes (CMP, TEST, BT, the
 * NOPs and indirect jumps only read theirs) */
static bool writes_memory(const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    unsigned id = insn->op->id;
    if (!insn->has_mem || !is_rm(insn->op->opnd[0].method))
        return false;
    return id != I_CMP && id != I_TEST && id != I_BT && ir->kind != K_NOP &&
           ir->kind != K_JMP_IND && ir->kind != K_CALL;
}

/* --- flags --- */

void store_record(struct tctx *t, uint32_t op, unsigned size)
{
    size = size ? size : t->rec_size;   /* 0: unknown, kept as it is */
    if (t->rec_op == (int)op && t->rec_size == size)
        return;
    if (size)   /* the two 16-bit fields at once */
        emit_store_imm(&t->e, 4, emit_m(HR_RBX, CC_FIELD(op)),
                       (int32_t)(op | size << 16));
    else
        emit_store_imm(&t->e, 2, emit_m(HR_RBX, CC_FIELD(op)), (int32_t)op);
    t->rec_op = (int)op;
    t->rec_size = size;
}

void forget_record(struct tctx *t)
{
    t->rec_op = -1;
    t->rec_size = 0;
}

/* Host flags for condition cond into the host EFLAGS; returns the host
 * condition to test. */
static enum emit_cc gen_cond(struct tctx *t, unsigned cond)
{
    struct emit *e = &t->e;
    struct flag_state *f = &t->fl;
    bool uses_cf = ((cond >> 1) & 7) == 1 || ((cond >> 1) & 7) == 3;
    bool incdec = f->op == CC_OP_INC || f->op == CC_OP_DEC;
    if (f->host && !(incdec && uses_cf))
        return (enum emit_cc)cond;
    if (t->cur->cc_in_host) {
        /* liveness counted on the host flags and left the record
         * unwritten: translate the block again without that */
        t->no_host_cc = true;
        e->overflow = true;
        return (enum emit_cc)cond;
    }
    static const uint32_t need[8] = { FL_OF, FL_CF, FL_ZF, FL_CF | FL_ZF,
                                      FL_SF, FL_PF, 0, 0 };
    uint32_t n = need[(cond >> 1) & 7];
    if (n && (f->in_flags & n) == n) {
        emit_test_mi(e, 4, emit_m(HR_RBX, CC_FIELD(flags)), (int32_t)n);
        return cond & 1 ? CC_E : CC_NE;
    }
    unsigned s = f->size;
    switch (f->op) {
    case CC_OP_ADD: case CC_OP_SUB:
        emit_load(e, 8, HR_RAX, emit_m(HR_RBX, CC_FIELD(dst)));
        emit_alu_rm(e, f->op == CC_OP_ADD ? EA_ADD : EA_CMP, s, HR_RAX,
                    emit_m(HR_RBX, CC_FIELD(src)));
        return (enum emit_cc)cond;
    case CC_OP_RES:   /* ZF SF PF from res as for LOGIC */
        if (n != FL_ZF && n != FL_SF && n != FL_PF)
            break;
        /* fall through */
    case CC_OP_LOGIC:
        emit_load(e, 8, HR_RAX, emit_m(HR_RBX, CC_FIELD(res)));
        emit_test_rr(e, s, HR_RAX, HR_RAX);
        return (enum emit_cc)cond;
    case CC_OP_INC: case CC_OP_DEC:
        if (uses_cf)
            break;
        emit_load(e, 8, HR_RAX, emit_m(HR_RBX, CC_FIELD(dst)));
        if (f->op == CC_OP_INC)
            emit_inc(e, s, HR_RAX);
        else
            emit_dec(e, s, HR_RAX);
        return (enum emit_cc)cond;
    default:
        break;
    }
    /* unknown here: B, Z and BE of a SUB record (a compare in an
     * earlier block) are tested in line, the rest by the helper */
    size_t other = 0, done = 0;
    bool sub_inline = f->op < 0 && (n == FL_CF || n == FL_ZF ||
                                    n == (FL_CF | FL_ZF));
    if (sub_inline) {
        emit_alu_mi(e, EA_CMP, 2, emit_m(HR_RBX, CC_FIELD(op)), CC_OP_SUB);
        other = emit_jcc(e, CC_NE, NULL);
        emit_load(e, 8, HR_RAX, emit_m(HR_RBX, CC_FIELD(dst)));
        emit_alu_rm(e, EA_CMP, 8, HR_RAX, emit_m(HR_RBX, CC_FIELD(src)));
        emit_setcc(e, (enum emit_cc)cond, HR_RAX);
        done = emit_jmp(e, NULL);
        if (!e->overflow)
            emit_patch_rel32(e->buf + other, emit_ptr(e));
    }
    emit_mov_ri(e, 4, HR_RSI, cond);
    gen_call(t, (const void *)jit_helper_cond);
    if (sub_inline && !e->overflow)
        emit_patch_rel32(e->buf + done, emit_ptr(e));
    emit_test_rr(e, 1, HR_RAX, HR_RAX);
    f->host = false;
    return CC_NE;
}

/* CF of an ADD/ADC record (res < dst, res <= dst with the carry in) or a
 * SUB/SBB record (dst < src, dst <= src) into host register h (0 or 1);
 * the values are zero-extended (cpu/alu.h) */
static void gen_carry_of(struct emit *e, int op, int h)
{
    bool add = op == CC_OP_ADD || op == CC_OP_ADC;
    bool carry_in = op == CC_OP_ADC || op == CC_OP_SBB;
    emit_load(e, 8, HR_RAX, emit_m(HR_RBX, add ? CC_FIELD(res)
                                               : CC_FIELD(dst)));
    emit_alu_rm(e, EA_CMP, 8, HR_RAX, emit_m(HR_RBX, add ? CC_FIELD(dst)
                                                         : CC_FIELD(src)));
    emit_setcc(e, carry_in ? CC_BE : CC_B, HR_RAX);
    emit_movzx_rr(e, 1, h, HR_RAX);
}

/* the carry flag of the current record into host register h (0 or 1) */
static void gen_carry(struct tctx *t, int h)
{
    struct emit *e = &t->e;
    if (t->fl.cf_saved) {
        emit_load(e, 1, h, emit_m(HR_RBX, VCPU_FIELD(defer_cf)));
        return;
    }
    if (t->fl.in_flags & FL_CF) {
        emit_load(e, 4, h, emit_m(HR_RBX, CC_FIELD(flags)));
        emit_alu_ri(e, EA_AND, 4, h, FL_CF);
        return;
    }
    switch (t->fl.op) {
    case CC_OP_LOGIC:
        emit_mov_ri(e, 4, h, 0);
        return;
    case CC_OP_ADD: case CC_OP_SUB:
        gen_carry_of(e, t->fl.op, h);
        return;
    case CC_OP_INC: case CC_OP_DEC:
        emit_load(e, 4, h, emit_m(HR_RBX, CC_FIELD(flags)));
        emit_alu_ri(e, EA_AND, 4, h, FL_CF);
        return;
    default:
        break;
    }
    /* unknown here (a record from an earlier block): dispatch on cc.op
     * at run time; every record's CF has an in-line form */
    static const uint8_t arith[4] = { CC_OP_SUB, CC_OP_ADD, CC_OP_ADC,
                                      CC_OP_SBB };
    size_t to[5], done[5];
    emit_load(e, 2, HR_RAX, emit_m(HR_RBX, CC_FIELD(op)));
    for (int i = 0; i < 4; i++) {
        emit_alu_ri(e, EA_CMP, 4, HR_RAX, arith[i]);
        to[i] = emit_jcc(e, CC_E, NULL);
    }
    emit_alu_ri(e, EA_CMP, 4, HR_RAX, CC_OP_LOGIC);
    to[4] = emit_jcc(e, CC_E, NULL);
    /* EAGER, INC, DEC, RES: CF is kept in cc.flags */
    emit_load(e, 4, h, emit_m(HR_RBX, CC_FIELD(flags)));
    emit_alu_ri(e, EA_AND, 4, h, FL_CF);
    for (int i = 0; i < 5; i++) {
        done[i] = emit_jmp(e, NULL);
        if (!e->overflow)
            emit_patch_rel32(e->buf + to[i], emit_ptr(e));
        if (i < 4)
            gen_carry_of(e, arith[i], h);
        else
            emit_mov_ri(e, 4, h, 0);   /* LOGIC */
    }
    if (!e->overflow)
        for (int i = 0; i < 5; i++)
            emit_patch_rel32(e->buf + done[i], emit_ptr(e));
}

/* R14 = a + b or a - b (host registers, size bytes), with the ADD or SUB
 * record when liveness keeps it */
void gen_add_sub(struct tctx *t, const struct jit_ir *ir, bool add,
                 unsigned size, int a, int b)
{
    struct emit *e = &t->e;
    uint32_t op = add ? CC_OP_ADD : CC_OP_SUB;
    emit_mov_rr(e, 8, HR_R14, a);
    emit_alu_rr(e, add ? EA_ADD : EA_SUB, size, HR_R14, b);
    if (ir->keep_cc) {
        store_record(t, op, size);
        emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(dst)), a);
        emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(src)), b);
        emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(res)), HR_R14);
    }
    t->fl = (struct flag_state){ .op = ir->keep_cc ? (int)op : -1,
                                 .size = size, .host = ir->keep_cc };
}

/* --- kinds --- */

/* operand 1 of a move into a cached register: the host register caching
 * it, RAX after loading the memory operand (R15 = address), or -1 (an
 * immediate, AH..BH) */
static int move_source(struct tctx *t, const struct x86_insn *insn,
                       unsigned size)
{
    if (insn->has_mem) {
        gen_mem_load(t, insn->mem_seg, size);
        return HR_RAX;
    }
    return is_imm(insn, 1) ? -1 : cached_opnd(t, insn, 1, size);
}

/* a load goes straight into the cached register (filled before it: a
 * slow path reloads it), a store straight from one */
static void gen_mov(struct tctx *t, const struct x86_insn *insn)
{
    unsigned size = opnd_size(insn, 0);
    bool to_reg = gen_opnd_reg(insn, 0) >= 0, cache = !names_high_byte(insn);
    if (insn->has_mem)
        gen_ea(t, insn);
    int src = !cache || (insn->has_mem && to_reg) || is_imm(insn, 1)
                  ? -1
                  : cached_opnd(t, insn, 1, size);
    if (t->rc_on && cache && to_reg) {
        int d = in_place(t, insn, size, size < 4);
        if (insn->has_mem)
            gen_mem_load_into(t, insn->mem_seg, size, d);
        else if (src >= 0)
            emit_mov_rr(&t->e, size, d, src);
        else
            emit_mov_ri(&t->e, size, d, (uint64_t)insn->imm & mask_of(size));
        rc_written(t, d);
        return;
    }
    if (src >= 0) {
        gen_mem_store_from(t, insn->mem_seg, size, src);
        return;
    }
    if (insn->has_mem && to_reg) {
        gen_mem_load(t, insn->mem_seg, size);
        store_result(t, insn, size, HR_RAX);
        return;
    }
    load_opnd(t, insn, 1, size, HR_R14);   /* R14: a memory store's */
    store_result(t, insn, size, HR_R14);
}

/* host register w op= operand 1 (op -1: TEST, flags only): the
 * immediate, the host register caching the guest register, the memory
 * operand as loaded (RAX), or the guest register through R13 */
static void gen_alu_source(struct tctx *t, const struct x86_insn *insn,
                           int op, unsigned size, int w)
{
    struct emit *e = &t->e;
    if (is_imm(insn, 1)) {
        int32_t imm = (int32_t)((uint64_t)insn->imm & mask_of(size));
        if (op < 0)
            emit_test_ri(e, size, w, imm);
        else
            emit_alu_ri(e, (enum emit_alu)op, size, w, imm);
        return;
    }
    int src = cached_opnd(t, insn, 1, size);
    if (src < 0 && insn->has_mem && is_rm(insn->op->opnd[1].method)) {
        gen_mem_load(t, insn->mem_seg, size);
        src = HR_RAX;
    } else if (src < 0) {
        src = HR_R13;
        load_opnd(t, insn, 1, size, src);
    }
    if (op < 0)
        emit_test_rr(e, size, w, src);
    else
        emit_alu_rr(e, (enum emit_alu)op, size, w, src);
}

static void gen_alu(struct tctx *t, const struct jit_ir *ir)
{
    static const int8_t ops[I_COUNT] = {
        [I_ADD] = EA_ADD, [I_OR] = EA_OR, [I_AND] = EA_AND, [I_SUB] = EA_SUB,
        [I_XOR] = EA_XOR, [I_CMP] = EA_SUB, [I_TEST] = EA_AND,
        [I_ADC] = EA_ADC, [I_SBB] = EA_SBB,
    };
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    unsigned id = insn->op->id, size = opnd_size(insn, 0);
    bool carry = id == I_ADC || id == I_SBB;
    bool arith = id == I_ADD || id == I_SUB || id == I_CMP || carry;
    if (insn->has_mem)
        gen_ea(t, insn);
    int w = HR_R14, a = -1, b = -1;   /* result, record's operands */
    int64_t imm = (int64_t)((uint64_t)insn->imm & mask_of(size));
    bool imm_src = false;             /* b is the immediate imm */
    if (!carry && !(arith && ir->keep_cc)) {
        /* the record needs the result only: operate in place, on the
         * cached register or on R14; CMP, and TEST without a record,
         * only read it */
        bool reads = id == I_CMP || id == I_TEST;
        int hop = reads && !ir->keep_cc ? (id == I_CMP ? EA_CMP : -1)
                                        : ops[id];
        int d = !reads ? in_place(t, insn, size, true)
                : ir->keep_cc || names_high_byte(insn)
                    ? -1
                    : cached_opnd(t, insn, 0, size);
        if (d < 0)
            load_opnd(t, insn, 0, size, HR_R14);
        else
            w = d;
        gen_alu_source(t, insn, hop, size, w);
        if (d >= 0 && !reads)
            rc_written(t, d);
    } else {
        /* the record takes the operands as they were, zero-extended: an
         * 8-byte register as the host register caching it, an immediate
         * that a sign-extended imm32 gives as it is, the rest copied
         * into R12 and R13; CMP and TEST compute their result too (it
         * goes into the record) */
        int d = id == I_CMP || id == I_TEST ? -1 : in_place(t, insn, size,
                                                              true);
        a = d < 0 && size == 8 ? cached_opnd(t, insn, 0, 8) : -1;
        b = size == 8 ? cached_opnd(t, insn, 1, 8) : -1;
        if (a < 0) {
            a = HR_R12;
            load_opnd(t, insn, 0, size, a);
        }
        imm_src = is_imm(insn, 1) && imm == (int32_t)imm;
        if ((b < 0 || b == d) && !imm_src) {
            b = HR_R13;
            load_opnd(t, insn, 1, size, b);
        }
        if (carry)
            gen_carry(t, HR_RDX);   /* 0 or 1, kept to the record */
        if (d < 0)
            emit_mov_rr(e, 8, HR_R14, a);
        else
            w = d;
        if (carry) {
            emit_mov_rr(e, 4, HR_RAX, HR_RDX);
            emit_neg(e, 4, HR_RAX);   /* host CF = carry in */
        }
        if (imm_src)
            emit_alu_ri(e, (enum emit_alu)ops[id], size, w, (int32_t)imm);
        else
            emit_alu_rr(e, (enum emit_alu)ops[id], size, w, b);
        if (d >= 0)
            rc_written(t, d);
    }
    uint32_t op = id == I_ADD || id == I_ADC ? CC_OP_ADD
                  : arith                    ? CC_OP_SUB
                                             : CC_OP_LOGIC;
    if (ir->keep_cc) {
        store_record(t, op, size);
        if (carry) {
            /* ADC/SBB record as such only with a carry in (cpu/alu.h) */
            emit_lea(e, 4, HR_RAX, emit_m(HR_RDX, (int32_t)op));
            emit_store(e, 2, emit_m(HR_RBX, CC_FIELD(op)), HR_RAX);
            t->rec_op = -1;
        }
        if (arith) {
            emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(dst)), a);
            if (imm_src)
                emit_store_imm(e, 8, emit_m(HR_RBX, CC_FIELD(src)),
                               (int32_t)imm);
            else
                emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(src)), b);
        }
        emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(res)),
                   gen_record_value(t, size, w));
    }
    t->fl = (struct flag_state){ .op = ir->keep_cc && !carry ? (int)op : -1,
                                 .size = size, .host = true };
    if (id != I_CMP && id != I_TEST && w == HR_R14)
        store_result(t, insn, size, HR_R14);
    if (!ir->keep_cc && !ir->host_cc)
        t->fl.host = false;   /* nothing may read them: keep it simple */
}

/* the operand of INC/DEC/NEG: the cached register itself (returned),
 * else R14; R12 = its value when the record needs it or it is not
 * cached */
static int unary_opnd(struct tctx *t, const struct jit_ir *ir,
                      unsigned size)
{
    const struct x86_insn *insn = &ir->insn;
    if (insn->has_mem)
        gen_ea(t, insn);
    int d = in_place(t, insn, size, true);
    if (ir->keep_cc || d < 0)
        load_opnd(t, insn, 0, size, HR_R12);
    if (d >= 0)
        return d;
    emit_mov_rr(&t->e, 8, HR_R14, HR_R12);
    return HR_R14;
}

/* the result of INC/DEC/NEG in w (unary_opnd) written */
static void unary_result(struct tctx *t, const struct x86_insn *insn,
                         unsigned size, int w)
{
    if (w == HR_R14)
        store_result(t, insn, size, HR_R14);
    else
        rc_written(t, w);
}

static void gen_incdec(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    bool inc = insn->op->id == I_INC;
    unsigned size = opnd_size(insn, 0);
    if (ir->keep_cc)
        gen_carry(t, HR_R13);
    int w = unary_opnd(t, ir, size);
    if (inc)
        emit_inc(e, size, w);
    else
        emit_dec(e, size, w);
    uint32_t op = inc ? CC_OP_INC : CC_OP_DEC;
    if (ir->keep_cc) {
        store_record(t, op, size);
        emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(dst)), HR_R12);
        emit_store_imm(e, 8, emit_m(HR_RBX, CC_FIELD(src)), 1);
        emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(res)),
                   gen_record_value(t, size, w));
        emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(flags)), HR_R13);
    }
    t->fl = (struct flag_state){ .op = ir->keep_cc ? (int)op : -1,
                                 .size = size, .host = ir->keep_cc };
    unary_result(t, insn, size, w);
}

static void gen_not(struct tctx *t, const struct x86_insn *insn)
{
    unsigned size = opnd_size(insn, 0);
    int d = in_place(t, insn, size, true);
    if (d >= 0) {   /* NOT leaves the flags alone */
        emit_not(&t->e, size, d);
        rc_written(t, d);
        return;
    }
    if (insn->has_mem)
        gen_ea(t, insn);
    load_opnd(t, insn, 0, size, HR_R14);
    emit_not(&t->e, size, HR_R14);
    store_result(t, insn, size, HR_R14);
}

/* NEG: the flags of 0 - a */
static void gen_neg(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    unsigned size = opnd_size(insn, 0);
    int w = unary_opnd(t, ir, size);
    emit_neg(e, size, w);
    if (ir->keep_cc) {
        store_record(t, CC_OP_SUB, size);
        emit_store_imm(e, 8, emit_m(HR_RBX, CC_FIELD(dst)), 0);
        emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(src)), HR_R12);
        emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(res)),
                   gen_record_value(t, size, w));
    }
    t->fl = (struct flag_state){ .op = ir->keep_cc ? CC_OP_SUB : -1,
                                 .size = size, .host = ir->keep_cc };
    unary_result(t, insn, size, w);
}

/* IMUL Gv,Ev[,imm]: the low half; CF = OF = signed overflow merged into
 * the flags by the helper only when someone may see them */
static void gen_imul(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    unsigned size = insn->opsize;
    if (insn->has_mem)
        gen_ea(t, insn);
    load_opnd(t, insn, 1, size, HR_R12);
    if (insn->op->nopnd == 3)
        load_opnd(t, insn, 2, size, HR_R13);
    else
        gen_load_reg(t, HR_R13, gen_gpr_off(insn->reg), size);
    emit_mov_rr(e, 8, HR_R14, HR_R13);
    emit_imul_rr(e, size, HR_R14, HR_R12);
    if (ir->keep_cc) {
        emit_setcc(e, CC_O, HR_RAX);
        emit_movzx_rr(e, 1, HR_RSI, HR_RAX);
        gen_call(t, (const void *)jit_helper_mul_flags);
    }
    t->fl = (struct flag_state){ .op = -1 };
    store_result(t, insn, size, HR_R14);   /* IMUL r32 zero-extends */
}

static void gen_lea(struct tctx *t, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    if (t->rc_on && size >= 4 && insn->rip_relative) {
        int d = in_place(t, insn, size, false);   /* a constant */
        emit_mov_ri(&t->e, 8, d, (insn->disp + t->cur->next) &
                                     mask_of(insn->addrsize < size
                                                 ? insn->addrsize : size));
        rc_written(t, d);
        return;
    }
    if (t->rc_on && size >= 4 && insn->addrsize >= 4 &&
        (insn->base >= 0 || insn->index >= 0)) {
        /* one host LEA into the cached register; a 32-bit address or
         * result is the low half of the 64-bit sum */
        struct emit_mem m = gen_ea_operand(t, insn);
        int d = in_place(t, insn, size, false);
        emit_lea(&t->e, insn->addrsize == 4 ? 4 : size, d, m);
        rc_written(t, d);
        return;
    }
    gen_ea(t, insn);
    gen_store_reg(t, gen_reg_off(insn, insn->reg, insn->opsize),
                  insn->opsize, HR_R15);
}

static void gen_movx(struct tctx *t, const struct x86_insn *insn)
{
    unsigned dsize = insn->opsize, ssize = opnd_size(insn, 1);
    bool sx = insn->op->id != I_MOVZX && ssize < dsize;
    if (insn->has_mem)
        gen_ea(t, insn);
    int src = t->rc_on && dsize >= 4 ? move_source(t, insn, ssize) : -1;
    if (src >= 0) {   /* straight into the cached register */
        int d = in_place(t, insn, dsize, false);
        if (sx)
            emit_movsx_rr(&t->e, dsize, ssize, d, src);
        else
            emit_movzx_rr(&t->e, ssize, d, src);
        rc_written(t, d);
        return;
    }
    load_opnd(t, insn, 1, ssize, HR_R12);
    if (sx)
        emit_movsx_rr(&t->e, dsize == 2 ? 4 : dsize, ssize, HR_R12, HR_R12);
    /* zero-extending loads, and MOVSX to 32 bits zero-extends */
    store_result(t, insn, dsize, HR_R12);
}

static void gen_setcc(struct tctx *t, const struct x86_insn *insn)
{
    if (insn->has_mem)
        gen_ea(t, insn);
    int d = in_place(t, insn, 1, true);   /* survives gen_cond's helper */
    enum emit_cc cc = gen_cond(t, insn->opcode & 15);
    if (d >= 0) {
        emit_setcc(&t->e, cc, d);
        rc_written(t, d);
        return;
    }
    emit_setcc(&t->e, cc, HR_RAX);
    emit_movzx_rr(&t->e, 1, HR_R12, HR_RAX);
    store_opnd(t, insn, 0, 1, HR_R12);
}

static void gen_cmov(struct tctx *t, const struct x86_insn *insn)
{
    struct emit *e = &t->e;
    unsigned size = insn->opsize;
    int32_t off = gen_gpr_off(insn->reg);
    if (insn->has_mem)
        gen_ea(t, insn);
    /* the source is read (and faults) always; a host register that
     * caches it survives gen_cond's helper call (reloaded) */
    int src = insn->has_mem ? -1 : cached_opnd(t, insn, 1, size);
    if (src < 0) {
        src = HR_R13;
        load_opnd(t, insn, 1, size, src);
    }
    int d = in_place(t, insn, size, true);
    if (d < 0)
        gen_load_reg(t, HR_R12, off, 8);
    enum emit_cc cc = gen_cond(t, insn->opcode & 15);
    /* a 32-bit CMOV zero-extends even when the condition is false, on
     * the host too */
    if (d >= 0) {
        emit_cmov(e, cc, size, d, src);
        rc_written(t, d);
    } else {
        emit_cmov(e, cc, 8, HR_R12, src);
        gen_store_reg(t, off, size, HR_R12);
    }
}

/* --- control transfers --- */

/* #GP(0) unless target (in host register h) is within the CS limit, or
 * canonical in 64-bit mode */
static void gen_check_target(struct tctx *t, int h)
{
    struct emit *e = &t->e;
    if (t->long64) {
        emit_mov_rr(e, 8, HR_RAX, h);
        emit_shift_ri(e, ES_SHL, 8, HR_RAX, 16);
        emit_shift_ri(e, ES_SAR, 8, HR_RAX, 16);
        emit_alu_rr(e, EA_CMP, 8, HR_RAX, h);
        gen_gp_if(t, CC_NE);
    } else {
        emit_load(e, 4, HR_RAX, emit_m(HR_RBX, CS_LIMIT));
        emit_alu_rr(e, EA_CMP, 8, h, HR_RAX);
        gen_gp_if(t, CC_A);
    }
    t->fl.host = false;
}

static uint64_t rel_target(const struct jit_ir *ir)
{
    return (ir->next + (uint64_t)ir->insn.imm) & mask_of(ir->insn.opsize);
}

/* a constant target: checked at run time against CS.limit (which a far
 * transfer may have changed) or here for the canonical form */
static void gen_check_const(struct tctx *t, uint64_t target)
{
    if (t->long64)
        return;   /* classify() only lets canonical targets through */
    emit_mov_ri(&t->e, 4, HR_R12, target);
    gen_check_target(t, HR_R12);
}

static void gen_jcc(struct tctx *t, const struct jit_ir *ir)
{
    struct emit *e = &t->e;
    enum emit_cc cc = gen_cond(t, ir->insn.opcode & 15);
    size_t taken = emit_jcc(e, cc, NULL);
    gen_chain_exit(t, ir->next);
    if (!e->overflow)
        emit_patch_rel32(e->buf + taken, emit_ptr(e));
    uint64_t target = rel_target(ir);
    gen_check_const(t, target);
    gen_chain_exit(t, target);
}

static void gen_jmp(struct tctx *t, const struct jit_ir *ir)
{
    uint64_t target = rel_target(ir);
    gen_check_const(t, target);
    gen_chain_exit(t, target);
}

static int32_t insns_so_far(const struct tctx *t)
{
    return (int32_t)(t->cur - t->ir + 1);
}

static void gen_jmp_ind(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    if (insn->has_mem)
        gen_ea(t, insn);
    load_opnd(t, insn, 0, insn->opsize, HR_R12);
    gen_check_target(t, HR_R12);
    rc_drop(t);
    gen_jump_reg(t, HR_R12, insns_so_far(t));
}

/* R15 = (RSP + delta) masked to the stack size */
static void gen_stack_addr(struct tctx *t, int32_t delta)
{
    int sp = rc_reg(t, gen_gpr_off(R_SP), true);
    if (sp < 0) {
        sp = HR_R15;
        emit_load(&t->e, 8, sp, emit_m(HR_RBX, gen_gpr_off(R_SP)));
    }
    if (delta || sp != HR_R15)
        emit_lea(&t->e, 8, HR_R15, emit_m(sp, delta));
    if (t->stack_size == 4)
        emit_mov_rr(&t->e, 4, HR_R15, HR_R15);
    else if (t->stack_size == 2)
        emit_movzx_rr(&t->e, 2, HR_R15, HR_R15);
}

/* RSP's low stack-size bits from host register h (the rest kept) */
static void gen_set_sp(struct tctx *t, int h)
{
    int32_t sp = gen_gpr_off(R_SP);
    if (t->stack_size == 8) {
        gen_store_reg(t, sp, 8, h);
        return;
    }
    rc_forget(t, sp);   /* the upper bits of RSP are kept */
    emit_store(&t->e, t->stack_size, emit_m(HR_RBX, sp), h);
}

void gen_push_r14(struct tctx *t, unsigned size)
{
    gen_stack_addr(t, -(int32_t)size);
    gen_mem_store(t, S_SS, size);
    gen_set_sp(t, HR_R15);
}

static void gen_push(struct tctx *t, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    if (insn->has_mem)
        gen_ea(t, insn);
    load_opnd(t, insn, 0, size, HR_R14);
    gen_push_r14(t, size);
}

static void gen_pop(struct tctx *t, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    gen_stack_addr(t, 0);
    gen_mem_load(t, S_SS, size);
    emit_lea(&t->e, 8, HR_R15, emit_m(HR_R15, (int32_t)size));
    gen_set_sp(t, HR_R15);
    store_opnd(t, insn, 0, size, HR_RAX);
}

static void gen_call_insn(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    unsigned size = insn->opsize;
    bool direct = insn->op->opnd[0].method == OM_J;
    uint64_t target = rel_target(ir);
    if (direct) {
        gen_check_const(t, target);
    } else {
        if (insn->has_mem)
            gen_ea(t, insn);
        load_opnd(t, insn, 0, size, HR_R12);
        emit_mov_rr(&t->e, 8, HR_R13, HR_R12);
        gen_check_target(t, HR_R13);
    }
    emit_mov_ri(&t->e, 8, HR_R14, ir->next & mask_of(size));
    gen_push_r14(t, size);
    rc_drop(t);
    if (direct)
        gen_chain_exit(t, target);
    else
        gen_jump_reg(t, HR_R13, insns_so_far(t));
}

static void gen_ret(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    unsigned size = insn->opsize;
    gen_stack_addr(t, 0);
    gen_mem_load(t, S_SS, size);
    emit_mov_rr(&t->e, 8, HR_R12, HR_RAX);
    gen_check_target(t, HR_R12);
    int32_t pop = (int32_t)size + (insn->op->nopnd ? (uint16_t)insn->imm : 0);
    emit_lea(&t->e, 8, HR_R15, emit_m(HR_R15, pop));
    gen_set_sp(t, HR_R15);
    rc_drop(t);
    gen_jump_reg(t, HR_R12, insns_so_far(t));
}

bool gen_native(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    switch (ir->kind) {
    case K_NOP: break;
    case K_MOV: gen_mov(t, insn); break;
    case K_ALU: gen_alu(t, ir); break;
    case K_INCDEC: gen_incdec(t, ir); break;
    case K_LEA: gen_lea(t, insn); break;
    case K_NOT: gen_not(t, insn); break;
    case K_NEG: gen_neg(t, ir); break;
    case K_IMUL: gen_imul(t, ir); break;
    case K_MOVX: gen_movx(t, insn); break;
    case K_SETCC: gen_setcc(t, insn); break;
    case K_CMOV: gen_cmov(t, insn); break;
    case K_JCC: gen_jcc(t, ir); break;
    case K_JMP: gen_jmp(t, ir); break;
    case K_JMP_IND: gen_jmp_ind(t, ir); break;
    case K_CALL: gen_call_insn(t, ir); break;
    case K_RET: gen_ret(t, ir); break;
    case K_PUSH: gen_push(t, insn); break;
    case K_POP: gen_pop(t, insn); break;
    case K_SSE: gen_sse(t, ir); return true;
    default:
        if (!gen_bits(t, ir) && !gen_arith(t, ir) && !gen_string(t, ir) &&
            !gen_sys(t, ir))
            return false;
        break;
    }
    if (writes_memory(ir) || ir->kind == K_PUSH)
        gen_check_exit_after_store(t, ir->next);
    return true;
}

void gen_fallback(struct tctx *t, const struct jit_ir *ir)
{
    gen_helper_insn(t, ir, (const void *)jit_helper_exec);
}

void gen_helper_insn(struct tctx *t, const struct jit_ir *ir,
                     const void *helper)
{
    struct emit *e = &t->e;
    struct jit_insn *ji = jit_data_alloc(sizeof(*ji));
    ji->insn = ir->insn;
    ji->fn = ir->fn;
    ji->rip = ir->rip;
    ji->next_rip = ir->next;
    ji->end = !ir->insn.op || (ir->insn.op->attr & OPA_END);
    emit_mov_ri(e, 8, HR_RSI, (uint64_t)(uintptr_t)ji);
    gen_call(t, helper);
    t->fl = (struct flag_state){ .op = -1 };
    /* leave with RIP where the handler left it */
    int32_t count = (int32_t)(t->cur - t->ir + 1);
    if (ji->end) {
        emit_alu_mi(e, EA_ADD, 8, emit_m(HR_RBX, VCPU_FIELD(cpu.icount)),
                    count);
        emit_mov_ri(e, 4, HR_RAX, JIT_EXIT_NORMAL);
        emit_jmp(e, jit_exit_path());
        return;
    }
    emit_test_rr(e, 4, HR_RAX, HR_RAX);
    gen_exit_if(t, CC_NE, true, 0, count);
}

/* does rip lie in the guest page the block starts in? */
static bool same_page(const struct jit_block *b, uint64_t rip)
{
    uint64_t off = (b->gpa & 0xfff) + (rip - b->rip);
    return off < 4096;
}

void gen_chain_exit(struct tctx *t, uint64_t rip)
{
    struct emit *e = &t->e;
    struct jit_block *b = t->b;
    if (b->nexits == JIT_MAX_EXITS) {
        gen_exit_to(t, rip);   /* not expected: the kinds have at most 2 */
        return;
    }
    emit_alu_mi(e, EA_ADD, 8,
                emit_m(HR_RBX, offsetof(struct jit_vcpu, cpu.icount)),
                insns_so_far(t));
    struct jit_exit *x = &b->exits[b->nexits++];
    x->from = b;
    x->target_rip = rip;
    x->cross_page = !same_page(b, rip);
    size_t miss[8];
    int nmiss = 0;
    if (x->cross_page) {
        emit_mov_ri(e, 8, HR_R12, rip);
        gen_cross_page_guard(t, HR_R12, x, miss, &nmiss);
    }
    size_t site = emit_jmp(e, NULL);
    /* the stub: RIP, which exit, back to the loop */
    uint8_t *stub = emit_ptr(e);
    emit_mov_ri(e, 8, HR_RAX, rip);
    emit_store(e, 8, emit_m(HR_RBX, offsetof(struct jit_vcpu, cpu.s.rip)),
               HR_RAX);
    emit_mov_ri(e, 8, HR_RAX, (uint64_t)(uintptr_t)x);
    emit_store(e, 8, emit_m(HR_RBX, offsetof(struct jit_vcpu, last_exit)),
               HR_RAX);
    emit_mov_ri(e, 4, HR_RAX, JIT_EXIT_CHAIN);
    emit_jmp(e, jit_exit_path());
    if (!e->overflow) {
        x->site = e->buf + site;
        x->stub = stub;
        emit_patch_rel32(x->site, stub);
        for (int i = 0; i < nmiss; i++)
            emit_patch_rel32(e->buf + miss[i], stub);
    }
}
