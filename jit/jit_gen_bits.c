/* Native code for the shift, rotate and bit instructions: SHL/SHR/SAR and
 * ROL/ROR by 1, imm8 or CL, SHLD/SHRD, BT/BTS/BTR/BTC (register and
 * memory, with the bit-string addressing of a register offset),
 * BSF/BSR/TZCNT/LZCNT/POPCNT, and the flagless BSWAP, CBW/CWD and
 * MOV r/m,Sreg. jit/jit_translate.c asks gen_bits_kind() which kind an
 * instruction is; gen_native() (jit/jit_gen.c) hands those kinds to
 * gen_bits().
 *
 * Each does what its interpreter handler does (cpu/interp_alu.c,
 * interp_bits.c, interp_mov.c with cpu/alu.c), in the same order: memory
 * reads, the flags record, then the write. Results are computed in 64-bit
 * host registers, so no host "undefined" flag is ever used: a shift of a
 * zero-extended (SAR: sign-extended) operand by a count below 64 leaves
 * the last bit out in the host CF, and the rest is derived in software
 * (registers shifted in the host register that caches them: a count
 * below the width leaves it there too).
 *
 * Flags: shifts by a nonzero constant replace the record (CC_OP_RES).
 * The others change some flags and keep the rest (rotates: CF OF; BT*:
 * CF; BSF/BSR: ZF; TZCNT/LZCNT: all but OF), or none when a CL count is 0
 * at run time; liveness treats them like INC (the record carries flags
 * from before). When their record is live, merge_flags() merges the new
 * bits: inline when the record holding the old flags keeps them as bits
 * (EAGER, RES, LOGIC and INC/DEC for CF), else through cc_update(). */
#include <stddef.h>
#include "cpu/alu.h"
#include "jit/jit_gen.h"

#define CC_FIELD(f) ((int32_t)offsetof(struct jit_vcpu, cpu.cc.f))

static unsigned count_mask(unsigned size)
{
    return size == 8 ? 63 : 31;
}

/* the count operand (the last one) */
static const struct x86_operand *count_opnd(const struct x86_insn *insn)
{
    return &insn->op->opnd[insn->op->nopnd - 1];
}

/* a constant count (1 or imm8), masked as the CPU does; false for CL */
bool gen_const_count(const struct x86_insn *insn, unsigned size,
                     unsigned *c)
{
    unsigned m = count_opnd(insn)->method;
    if (m != OM_ONE && m != OM_I)
        return false;
    *c = (m == OM_ONE ? 1u : (unsigned)insn->imm) & count_mask(size);
    return true;
}

/* F3 0F BC/BD are TZCNT/LZCNT only when CPUID has them, else the
 * interpreter runs them as BSF/BSR (cpu/interp.c) */
static bool has_count_insn(struct cpu *cpu, unsigned id)
{
    uint32_t r[4];
    if (id == I_LZCNT) {
        cpu_cpuid(cpu, 0x80000001u, 0, r);
        return r[2] & (1u << 5);
    }
    cpu_cpuid(cpu, 0, 0, r);
    if (r[0] < 7)
        return false;
    cpu_cpuid(cpu, 7, 0, r);
    return r[1] & (1u << 3);   /* BMI1 */
}

int gen_bits_kind(const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    unsigned id = insn->op->id, c;
    switch (id) {
    case I_SHLD: case I_SHRD:
        /* 16-bit counts above 15 are Zen's odd cases: the interpreter's */
        if (insn->opsize == 2 &&
            !(gen_const_count(insn, 2, &c) && c < 16))
            return K_FALLBACK;
        /* fall through */
    case I_SHL: case I_SHR: case I_SAR:
        if (gen_const_count(insn, gen_opnd_bytes(insn, insn->op->opnd[0].size),
                        &c) && c)
            return K_SHIFT;
        return K_SHIFTV;
    case I_ROL: case I_ROR:
        return K_ROT;
    case I_BT: case I_BTS: case I_BTR: case I_BTC:
        return K_BT;
    case I_TZCNT: case I_LZCNT: case I_BSF: case I_BSR:
        return K_BSCAN;
    case I_POPCNT:
        return __builtin_cpu_supports("popcnt") ? K_POPCNT : K_FALLBACK;
    case I_BSWAP: case I_CBW: case I_CWD: case I_MOVFROMSEG:
        return K_XREG;
    default:
        return -1;
    }
}

/* --- operands --- */

/* the r/m operand into host register h, zero-extended (R15 = address) */
static void rm_load(struct tctx *t, const struct x86_insn *insn,
                    unsigned size, int h)
{
    if (insn->mod == 3) {
        gen_load_reg(t, h, gen_reg_off(insn, insn->rm, size), size);
        return;
    }
    gen_mem_load_zx(t, insn->mem_seg, size, h);
}

/* R14 into the r/m operand; a 4-byte value is zero-extended already (it
 * came from a 32-bit load or host operation, or was truncated) */
static void rm_store(struct tctx *t, const struct x86_insn *insn,
                     unsigned size)
{
    store_result(t, insn, size, HR_R14);
}

/* RCX = CL masked as the count */
static void load_cl(struct tctx *t, unsigned size)
{
    gen_load_reg(t, HR_RCX, gen_gpr_off(R_CX), 1);
    emit_alu_ri(&t->e, EA_AND, 4, HR_RCX, (int32_t)count_mask(size));
}

/* --- flags --- */

static void patch_here(struct tctx *t, size_t site)
{
    if (site != (size_t)-1 && !t->e.overflow)
        emit_patch_rel32(t->e.buf + site, emit_ptr(&t->e));
}

/* the record updates of a CL count, jumped over when it is 0: the patch
 * site ((size_t)-1 for a constant count) and what cc.op/cc.size held */
struct zero_skip {
    size_t site;
    int op;
    unsigned size;
};

static struct zero_skip skip_if_zero_count(struct tctx *t, bool var)
{
    struct zero_skip z = { (size_t)-1, t->rec_op, t->rec_size };
    if (var) {
        emit_test_rr(&t->e, 4, HR_RCX, HR_RCX);
        z.site = emit_jcc(&t->e, CC_E, NULL);
    }
    return z;
}

/* the end of the skipped code: cc.op/cc.size known only when both ways
 * leave the same */
static void skip_end(struct tctx *t, const struct zero_skip *z)
{
    patch_here(t, z->site);
    if (z->site != (size_t)-1 &&
        (z->op != t->rec_op || z->size != t->rec_size))
        forget_record(t);
}

static void merge_cc(struct jit_vcpu *v, uint64_t mask, uint64_t val)
{
    cc_update(&v->cpu.cc, mask, val);
}

/* cc.flags = (cc.flags & ~mask) | RDX */
static void patch_flags(struct tctx *t, uint32_t mask)
{
    struct emit *e = &t->e;
    struct emit_mem fl = emit_m(HR_RBX, CC_FIELD(flags));
    emit_load(e, 8, HR_RAX, fl);
    emit_alu_ri(e, EA_AND, 8, HR_RAX, (int32_t)~mask);
    emit_alu_rr(e, EA_OR, 8, HR_RAX, HR_RDX);
    emit_store(e, 8, fl, HR_RAX);
}

/* Replace the flags in mask by those in RDX (FL_ bits within mask),
 * keeping the others. Records that hold the flags in mask as bits are
 * patched in place: EAGER always, RES for CF OF AF, INC/DEC for CF;
 * LOGIC (CF OF AF all 0) becomes RES. The rest go through cc_update().
 * What the translator knows of the record picks the way up front, else
 * the code looks at cc.op. Clobbers the caller-saved registers. */
static void merge_flags(struct tctx *t, uint32_t mask)
{
    struct emit *e = &t->e;
    struct emit_mem op = emit_m(HR_RBX, CC_FIELD(op));
    struct emit_mem fl = emit_m(HR_RBX, CC_FIELD(flags));
    bool bits_only = !(mask & (FL_ZF | FL_SF | FL_PF));
    size_t fast[3], done[2];
    int nf = 0, nd = 0;
    if ((t->fl.in_flags & mask) == mask ||
        (mask == FL_CF && (t->fl.op == CC_OP_INC || t->fl.op == CC_OP_DEC))) {
        patch_flags(t, mask);
        return;
    }
    if (bits_only && t->fl.op == CC_OP_LOGIC) {
        store_record(t, CC_OP_RES, 0);
        emit_store(e, 8, fl, HR_RDX);
        return;
    }
    emit_load(e, 2, HR_RAX, op);
    if (bits_only) {
        emit_alu_ri(e, EA_CMP, 4, HR_RAX, CC_OP_LOGIC);
        size_t not_logic = emit_jcc(e, CC_NE, NULL);
        store_record(t, CC_OP_RES, 0);   /* on this path only: */
        emit_store(e, 8, fl, HR_RDX);
        done[nd++] = emit_jmp(e, NULL);
        patch_here(t, not_logic);
        emit_alu_ri(e, EA_CMP, 4, HR_RAX, CC_OP_RES);
        fast[nf++] = emit_jcc(e, CC_E, NULL);
    }
    emit_alu_ri(e, EA_CMP, 4, HR_RAX, CC_OP_EAGER);
    fast[nf++] = emit_jcc(e, CC_E, NULL);
    if (mask == FL_CF) {
        emit_alu_ri(e, EA_SUB, 4, HR_RAX, CC_OP_INC);
        emit_alu_ri(e, EA_CMP, 4, HR_RAX, CC_OP_DEC - CC_OP_INC);
        fast[nf++] = emit_jcc(e, CC_BE, NULL);
    }
    emit_mov_ri(e, 4, HR_RSI, mask);
    gen_call(t, (const void *)merge_cc);   /* forgets the record */
    done[nd++] = emit_jmp(e, NULL);
    for (int i = 0; i < nf; i++)
        patch_here(t, fast[i]);
    patch_flags(t, mask);
    for (int i = 0; i < nd; i++)
        patch_here(t, done[i]);
}

/* host register h = FL_CF when the host CF is set, else 0 */
static void cf_bit(struct tctx *t, int h)
{
    emit_setcc(&t->e, CC_B, h);
    emit_movzx_rr(&t->e, 1, h, h);
}

/* RDX |= FL_OF when bit `bit` of `a` differs from bit `bit2` of `b`;
 * clobbers RAX */
static void of_from_bits(struct tctx *t, int a, unsigned bit, int b,
                         unsigned bit2)
{
    struct emit *e = &t->e;
    emit_mov_rr(e, 8, HR_RAX, a);
    if (b == a && bit2 == bit - 1) {
        /* two adjacent bits of one value */
        emit_shift_ri(e, ES_SHR, 8, HR_RAX, (uint8_t)bit2);
        emit_mov_rr(e, 4, HR_RSI, HR_RAX);
        emit_shift_ri(e, ES_SHR, 4, HR_RSI, 1);
        emit_alu_rr(e, EA_XOR, 4, HR_RAX, HR_RSI);
    } else {
        emit_shift_ri(e, ES_SHR, 8, HR_RAX, (uint8_t)bit);
        if (bit2) {
            emit_mov_rr(e, 8, HR_RSI, b);
            emit_shift_ri(e, ES_SHR, 8, HR_RSI, (uint8_t)bit2);
            b = HR_RSI;
        }
        emit_alu_rr(e, EA_XOR, 4, HR_RAX, b);
    }
    emit_alu_ri(e, EA_AND, 4, HR_RAX, 1);
    emit_shift_ri(e, ES_SHL, 4, HR_RAX, 11);   /* FL_OF */
    emit_alu_rr(e, EA_OR, 4, HR_RDX, HR_RAX);
}

/* the CC_OP_RES record of a shift: res, CF OF AF in RDX; with a
 * CL count, jumped over when it is 0 (the record stays as it was) */
static void store_res_record(struct tctx *t, unsigned size, bool var,
                             int res)
{
    struct emit *e = &t->e;
    struct zero_skip skip = skip_if_zero_count(t, var);
    emit_alu_ri(e, EA_OR, 4, HR_RDX, FL_AF);
    store_record(t, CC_OP_RES, size);
    emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(res)), res);
    emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(flags)), HR_RDX);
    skip_end(t, &skip);
}

/* --- shifts and rotates --- */

/* SHL/SHR/SAR as cpu/alu.c: CF the last bit out, OF MSB(res)^CF (SHL),
 * the old MSB for SHR by one, else 0; AF = 1. A register (not AH..BH)
 * shifted by a constant is shifted in the host register that caches it
 * (a count of 1 to width - 1: the host CF is the last bit out); else in
 * R14, 64 bits wide when the flags are wanted. */
static void gen_shift(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    unsigned size = gen_opnd_bytes(insn, insn->op->opnd[0].size);
    unsigned id = insn->op->id, bits = 8 * size, c = 0;
    bool var = !gen_const_count(insn, size, &c);
    enum emit_shift op = id == I_SHL ? ES_SHL : id == I_SHR ? ES_SHR : ES_SAR;
    int w = !var && c && c < bits ? in_place(t, insn, size, true) : -1;
    bool cached = w >= 0;
    if (cached) {
        if (ir->keep_cc && id == I_SHR && c == 1)
            emit_movzx_rr(e, size, HR_R12, w);   /* the old MSB: OF */
        emit_shift_ri(e, op, size, w, (uint8_t)c);
        rc_written(t, w);
    } else {
        if (insn->has_mem)
            gen_ea(t, insn);
        rm_load(t, insn, size, HR_R12);
        if (var)
            load_cl(t, size);
        w = HR_R14;
        if (!var && !c) {
            emit_mov_rr(e, 8, HR_R14, HR_R12);
            rm_store(t, insn, size);   /* a zero count still writes */
            return;
        }
        /* no flags wanted: a 32-bit shift zero-extends its result */
        unsigned hsize = size == 4 && !ir->keep_cc ? 4 : 8;
        if (id == I_SAR && size < hsize)
            emit_movsx_rr(e, 8, size, HR_R14, HR_R12);
        else
            emit_mov_rr(e, 8, HR_R14, HR_R12);
        if (var)
            emit_shift_rcl(e, op, hsize, HR_R14);
        else
            emit_shift_ri(e, op, hsize, HR_R14, (uint8_t)c);
        if (ir->keep_cc && id == I_SHL && size < 8)
            emit_bt_ri(e, EB_BT, 8, HR_R14, (uint8_t)bits);
        if (ir->keep_cc && size < 8)
            emit_movzx_rr(e, size, HR_R14, HR_R14);   /* flags kept */
    }
    if (ir->keep_cc) {
        cf_bit(t, HR_RDX);
        if (id == I_SHL) {
            of_from_bits(t, w, bits - 1, HR_RDX, 0);
        } else if (id == I_SHR && (var || c == 1)) {
            /* OF = the old MSB, for a count of one */
            emit_mov_rr(e, 8, HR_RAX, HR_R12);
            emit_shift_ri(e, ES_SHR, 8, HR_RAX, (uint8_t)(bits - 1));
            if (var) {
                emit_alu_ri(e, EA_CMP, 4, HR_RCX, 1);
                emit_setcc(e, CC_E, HR_RSI);
                emit_movzx_rr(e, 1, HR_RSI, HR_RSI);
                emit_alu_rr(e, EA_AND, 4, HR_RAX, HR_RSI);
            }
            emit_shift_ri(e, ES_SHL, 4, HR_RAX, 11);
            emit_alu_rr(e, EA_OR, 4, HR_RDX, HR_RAX);
        }
        store_res_record(t, size, var, gen_record_value(t, size, w));
    }
    if (!cached)
        rm_store(t, insn, size);
}

/* ROL/ROR: CF = LSB(res) (ROL) or MSB(res) (ROR); OF = MSB(res) ^ CF
 * (ROL) or MSB(res) ^ MSB-1(res) (ROR); the rest stay. A register
 * (not AH..BH) rotated by a constant is rotated in the host register
 * that caches it. */
static void gen_rotate(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    unsigned size = gen_opnd_bytes(insn, insn->op->opnd[0].size);
    unsigned bits = 8 * size, c = 0;
    bool var = !gen_const_count(insn, size, &c), rol = insn->op->id == I_ROL;
    int w = c % bits ? in_place(t, insn, size, true) : -1;
    bool cached = w >= 0;
    if (!cached) {
        if (insn->has_mem)
            gen_ea(t, insn);
        w = HR_R14;
        rm_load(t, insn, size, w);
    }
    enum emit_shift op = rol ? ES_ROL : ES_ROR;
    if (var) {
        load_cl(t, size);
        emit_shift_rcl(e, op, size, w);
    } else if (c % bits) {
        emit_shift_ri(e, op, size, w, (uint8_t)(c % bits));
    }
    if (cached)   /* before merge_flags() may spill it for a helper */
        rc_written(t, w);
    if (ir->keep_cc && (var || c)) {
        struct zero_skip skip = skip_if_zero_count(t, var);
        if (rol) {
            emit_mov_rr(e, 4, HR_RDX, w);
            emit_alu_ri(e, EA_AND, 4, HR_RDX, 1);
            of_from_bits(t, w, bits - 1, HR_RDX, 0);
        } else {
            emit_movzx_rr(e, size, HR_RDX, w);
            emit_shift_ri(e, ES_SHR, 8, HR_RDX, (uint8_t)(bits - 1));
            of_from_bits(t, w, bits - 1, w, bits - 2);
        }
        merge_flags(t, FL_CF | FL_OF);
        skip_end(t, &skip);
    }
    if (!cached)
        rm_store(t, insn, size);
}

/* SHLD/SHRD (16-bit counts below 16 only): the host instruction gives
 * the result and CF; OF = MSB(res) ^ CF (SHLD) or MSB(res) ^ MSB-1(res)
 * (SHRD); AF = 1 */
static void gen_shift_double(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    unsigned size = insn->opsize, bits = 8 * size, c = 0;
    bool var = !gen_const_count(insn, size, &c), left = insn->op->id == I_SHLD;
    if (insn->has_mem)
        gen_ea(t, insn);
    rm_load(t, insn, size, HR_R14);
    if (!var && !c) {
        rm_store(t, insn, size);   /* a zero count still writes */
        return;
    }
    gen_load_reg(t, HR_R13, gen_reg_off(insn, insn->reg, size), size);
    if (var) {
        load_cl(t, size);
        emit_shxd_rcl(e, left, size, HR_R14, HR_R13);
    } else {
        emit_shxd_ri(e, left, size, HR_R14, HR_R13, (uint8_t)c);
    }
    if (ir->keep_cc) {
        cf_bit(t, HR_RDX);
        if (left)
            of_from_bits(t, HR_R14, bits - 1, HR_RDX, 0);
        else
            of_from_bits(t, HR_R14, bits - 1, HR_R14, bits - 2);
        store_res_record(t, size, var, HR_R14);
    }
    rm_store(t, insn, size);
}

/* --- BT family --- */

/* CF = the bit; BTS/BTR/BTC write the changed value. A register offset
 * into memory addresses a bit string: the operand-size word at
 * EA + (sign-extended offset >> log2(bits)) * bytes. */
static void gen_bt(struct tctx *t, const struct jit_ir *ir)
{
    static const uint8_t ops[I_COUNT] = {
        [I_BT] = EB_BT, [I_BTS] = EB_BTS, [I_BTR] = EB_BTR, [I_BTC] = EB_BTC,
    };
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    unsigned size = insn->opsize, bits = 8 * size, id = insn->op->id;
    bool reg_offset = insn->op->opnd[1].method == OM_G;
    enum emit_bt op = (enum emit_bt)ops[id];
    if (reg_offset)
        gen_load_reg(t, HR_R13, gen_reg_off(insn, insn->reg, size), size);
    if (insn->has_mem) {
        gen_ea(t, insn);
        if (reg_offset) {
            if (size < 8)
                emit_movsx_rr(e, 8, size, HR_RAX, HR_R13);
            else
                emit_mov_rr(e, 8, HR_RAX, HR_R13);
            emit_shift_ri(e, ES_SAR, 8, HR_RAX,
                          (uint8_t)(size == 2 ? 4 : size == 4 ? 5 : 6));
            emit_lea(e, 8, HR_R15, emit_mi(HR_R15, HR_RAX, size, 0));
            if (insn->addrsize == 4)
                emit_mov_rr(e, 4, HR_R15, HR_R15);
            else if (insn->addrsize == 2)
                emit_movzx_rr(e, 2, HR_R15, HR_R15);
        }
    }
    rm_load(t, insn, size, HR_R14);
    if (reg_offset)
        emit_bt_rr(e, op, size, HR_R14, HR_R13);
    else
        emit_bt_ri(e, op, size, HR_R14,
                   (uint8_t)((unsigned)insn->imm & (bits - 1)));
    if (ir->keep_cc) {
        cf_bit(t, HR_RDX);
        merge_flags(t, FL_CF);
    }
    if (id != I_BT)
        rm_store(t, insn, size);
}

/* --- scans and counts: Gv,Ev --- */

/* BSF/BSR: ZF = (src == 0); the destination is written only for a
 * nonzero source. TZCNT/LZCNT: the count (bits for 0), CF = (src == 0),
 * ZF = (count == 0), SF AF PF = 0, OF kept. */
static void gen_bitscan(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    unsigned size = insn->opsize, bits = 8 * size, id = insn->op->id;
    if ((id == I_TZCNT || id == I_LZCNT) && !has_count_insn(t->cpu, id))
        id = id == I_TZCNT ? I_BSF : I_BSR;
    if (insn->has_mem)
        gen_ea(t, insn);
    rm_load(t, insn, size, HR_R12);
    if (id == I_BSF || id == I_BSR) {
        /* the destination's slot filled where both ways go */
        rc_reg(t, gen_gpr_off(insn->reg), true);
        emit_test_rr(e, 8, HR_R12, HR_R12);
        emit_setcc(e, CC_E, HR_R13);
        size_t zero = emit_jcc(e, CC_E, NULL);
        if (id == I_BSF)
            emit_bsf(e, 8, HR_R14, HR_R12);
        else
            emit_bsr(e, 8, HR_R14, HR_R12);
        store_result(t, insn, size, HR_R14);   /* below 64 */
        patch_here(t, zero);
        if (ir->keep_cc) {
            emit_movzx_rr(e, 1, HR_RDX, HR_R13);
            emit_shift_ri(e, ES_SHL, 4, HR_RDX, 6);   /* FL_ZF */
            merge_flags(t, FL_ZF);
        }
        return;
    }
    if (id == I_TZCNT) {
        emit_mov_ri(e, 4, HR_R14, bits);
        emit_bsf(e, 8, HR_RAX, HR_R12);
        emit_cmov(e, CC_NE, 4, HR_R14, HR_RAX);
    } else {
        /* bits - 1 - bsr(src), with bsr(0) taken as -1 */
        emit_mov_ri(e, 4, HR_RCX, 0xffffffffu);
        emit_bsr(e, 8, HR_RAX, HR_R12);
        emit_cmov(e, CC_NE, 4, HR_RCX, HR_RAX);
        emit_mov_ri(e, 4, HR_R14, bits - 1);
        emit_alu_rr(e, EA_SUB, 4, HR_R14, HR_RCX);
    }
    store_result(t, insn, size, HR_R14);   /* 32-bit operations */
    if (ir->keep_cc) {
        /* RDX = (src == 0 ? FL_CF : 0) | (count == 0 ? FL_ZF : 0) */
        emit_test_rr(e, 8, HR_R12, HR_R12);
        emit_setcc(e, CC_E, HR_RDX);
        emit_movzx_rr(e, 1, HR_RDX, HR_RDX);
        emit_test_rr(e, 4, HR_R14, HR_R14);
        emit_setcc(e, CC_E, HR_RAX);
        emit_movzx_rr(e, 1, HR_RAX, HR_RAX);
        emit_shift_ri(e, ES_SHL, 4, HR_RAX, 6);
        emit_alu_rr(e, EA_OR, 4, HR_RDX, HR_RAX);
        merge_flags(t, FL_CF | FL_ZF | FL_SF | FL_AF | FL_PF);
    }
}

/* POPCNT: ZF = (src == 0), the other five 0: an eager record */
static void gen_popcnt(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    unsigned size = insn->opsize;
    if (insn->has_mem)
        gen_ea(t, insn);
    rm_load(t, insn, size, HR_R12);
    emit_popcnt(e, 8, HR_R14, HR_R12);
    if (ir->keep_cc) {
        emit_test_rr(e, 8, HR_R12, HR_R12);
        emit_setcc(e, CC_E, HR_RAX);
        emit_movzx_rr(e, 1, HR_RAX, HR_RAX);
        emit_shift_ri(e, ES_SHL, 4, HR_RAX, 6);
        store_record(t, CC_OP_EAGER, 0);
        emit_store(e, 8, emit_m(HR_RBX, CC_FIELD(flags)), HR_RAX);
    }
    store_result(t, insn, size, HR_R14);   /* at most 64 */
}

/* --- no flags: BSWAP, CBW/CWDE/CDQE, CWD/CDQ/CQO, MOV r/m,Sreg --- */

static void gen_xreg(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    unsigned size = insn->opsize;
    switch (insn->op->id) {
    case I_BSWAP:
        if (size == 2) {
            /* what the host does: the low 16 bits cleared */
            emit_mov_ri(e, 4, HR_R14, 0);
            gen_store_reg(t, gen_gpr_off(insn->rm), 2, HR_R14);
            return;
        }
        gen_load_reg(t, HR_R14, gen_gpr_off(insn->rm), size);
        emit_bswap(e, size, HR_R14);
        store_result(t, insn, size, HR_R14);
        return;
    case I_CBW:
        gen_load_reg(t, HR_R14, gen_gpr_off(R_AX), size / 2);
        emit_movsx_rr(e, 8, size / 2, HR_R14, HR_R14);
        gen_store_reg(t, gen_gpr_off(R_AX), size, HR_R14);
        return;
    case I_CWD:
        gen_load_reg(t, HR_R14, gen_gpr_off(R_AX), size);
        if (size < 8)
            emit_movsx_rr(e, 8, size, HR_R14, HR_R14);
        emit_shift_ri(e, ES_SAR, 8, HR_R14, 63);
        gen_store_reg(t, gen_gpr_off(R_DX), size, HR_R14);
        return;
    default: /* MOVFROMSEG */
        if (insn->has_mem)
            gen_ea(t, insn);
        emit_load(e, 2, HR_R14, emit_m(HR_RBX, SEG_FIELD(insn->reg,
                                                         selector)));
        if (insn->mod == 3)
            store_result(t, insn, size, HR_R14);   /* 16 bits */
        else
            gen_mem_store(t, insn->mem_seg, 2);
        return;
    }
}

/* what the record is known to hold after an instruction of these kinds */
static struct flag_state flags_after(const struct tctx *t,
                                     const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    unsigned c;
    if (!ir->keep_cc)
        return (struct flag_state){ .op = -1 };
    switch (ir->kind) {
    case K_SHIFT:
        return (struct flag_state){ .op = CC_OP_RES,
            .size = gen_opnd_bytes(insn, insn->op->opnd[0].size),
            .in_flags = FL_CF | FL_OF | FL_AF };
    case K_ROT:   /* merged into RES or EAGER, unless the count is 0 */
        if (!gen_const_count(insn, gen_opnd_bytes(insn, insn->op->opnd[0].size),
                         &c) || !c)
            return (struct flag_state){ .op = -1 };
        return (struct flag_state){ .op = -1, .in_flags = FL_CF | FL_OF };
    case K_BT:    /* RES, EAGER, INC or DEC */
        return (struct flag_state){ .op = -1, .in_flags = FL_CF };
    case K_BSCAN: case K_POPCNT:
        return (struct flag_state){ .op = CC_OP_EAGER, .in_flags = FL_ARITH };
    case K_XREG:  /* no flags */
        return (struct flag_state){ .op = t->fl.op, .size = t->fl.size,
                                    .in_flags = t->fl.in_flags };
    default:
        return (struct flag_state){ .op = -1 };
    }
}

bool gen_bits(struct tctx *t, const struct jit_ir *ir)
{
    unsigned id = ir->insn.op->id;
    switch (ir->kind) {
    case K_SHIFT: case K_SHIFTV:
        if (id == I_SHLD || id == I_SHRD)
            gen_shift_double(t, ir);
        else
            gen_shift(t, ir);
        break;
    case K_ROT: gen_rotate(t, ir); break;
    case K_BT: gen_bt(t, ir); break;
    case K_BSCAN: gen_bitscan(t, ir); break;
    case K_POPCNT: gen_popcnt(t, ir); break;
    case K_XREG: gen_xreg(t, ir); break;
    default: return false;
    }
    /* the host flags hold nothing a consumer could use */
    t->fl = flags_after(t, ir);
    return true;
}
