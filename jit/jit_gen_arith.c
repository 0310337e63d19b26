/* Native code for exchange and compare (XCHG, XADD, CMPXCHG, CMPXCHG8B/16B,
 * their LOCK forms included: every vCPU runs on one host thread, so a
 * plain read-modify-write is atomic to the guest), the one-operand MUL, IMUL,
 * DIV and IDIV, the flag instructions (CLC STC CMC CLD STD LAHF SAHF
 * PUSHF), LEAVE and PAUSE. Each does what its interpreter handler does
 * (cpu/interp_alu.c, interp_bits.c, interp_mov.c, interp_stack.c,
 * interp_system.c) in the same order: memory reads, the flags record,
 * then the writes. Flags that merge into the earlier ones (MUL/DIV, CLC,
 * SAHF ...) go through small C helpers below, only when live. DIV and
 * IDIV run the host instruction only when the quotient surely fits;
 * anything else (a zero divisor, a possible overflow: #DE) takes the
 * helper, which does the whole instruction as the interpreter does. */
#include "cpu/alu.h"
#include "jit/jit_gen.h"

/* --- helpers called by the generated code --- */

/* DIV/IDIV: CF OF kept, SF ZF PF = 0, AF = 1 (cpu/alu.c) */
static void arith_div_flags(struct jit_vcpu *v)
{
    cc_update(&v->cpu.cc, FL_SF | FL_ZF | FL_AF | FL_PF, FL_AF);
}

/* the whole DIV/IDIV: how = size | signed << 8 */
static void arith_divide(struct jit_vcpu *v, uint64_t divisor, uint32_t how,
                         uint64_t rip)
{
    struct cpu *cpu = &v->cpu;
    unsigned size = how & 0xff;
    uint64_t lo, hi, q, r;
    if (size == 1) {
        lo = cpu->s.gpr[R_AX] & 0xff;
        hi = (cpu->s.gpr[R_AX] >> 8) & 0xff;
    } else {
        lo = gpr_get(cpu, R_AX, size);
        hi = gpr_get(cpu, R_DX, size);
    }
    int rc = (how >> 8) ? alu_idiv(&cpu->cc, lo, hi, divisor, size, &q, &r)
                        : alu_div(&cpu->cc, lo, hi, divisor, size, &q, &r);
    if (rc < 0) {
        cpu->insn_rip = rip;
        cpu->insn_rsp = cpu->s.gpr[R_SP];
        cpu_raise_noerr(cpu, EXC_DE);
    }
    if (size == 1) {
        gpr_set(cpu, R_AX, 2, (r << 8) | q);
    } else {
        gpr_set(cpu, R_AX, size, q);
        gpr_set(cpu, R_DX, size, r);
    }
}

/* CLC (0), STC (1), CMC (2) */
static void arith_set_cf(struct jit_vcpu *v, uint32_t how)
{
    struct cpu_cc *cc = &v->cpu.cc;
    bool cf = how == 2 ? !cc_cf(cc) : how == 1;
    cc_update(cc, FL_CF, cf ? FL_CF : 0);
}

static void arith_sahf(struct jit_vcpu *v, uint64_t ah)
{
    cc_update(&v->cpu.cc, FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF, ah);
}

static void arith_lahf(struct jit_vcpu *v)
{
    struct cpu *cpu = &v->cpu;
    uint64_t f = (cc_flags(&cpu->cc) & 0xd5) | FL_FIXED1;
    cpu->s.gpr[R_AX] = (cpu->s.gpr[R_AX] & ~0xff00ull) | (f << 8);
}

/* what PUSHF pushes */
static uint64_t arith_pushf_value(struct jit_vcpu *v)
{
    return cpu_get_rflags(&v->cpu) & ~(uint64_t)(FL_VM | FL_RF);
}

/* --- classification --- */

int gen_arith_kind(const struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    const struct x86_opcode *op = insn->op;
    switch (op->id) {
    case I_PAUSE:
        return K_NOP;
    case I_XCHG:   /* 90 is NOP, even with a 32-bit operand size */
        if (op->opnd[0].method == OM_Z && insn->rm == R_AX)
            return K_NOP;
        return K_XCHG;
    case I_XADD:
        return K_XADD;
    case I_CMPXCHG:
        return K_CMPXCHG;
    case I_CMPXCHG8B: {   /* CMPXCHG16B (REX.W) only with CPUID.CX16 */
        uint32_t r[4];
        cpu_cpuid(t->cpu, 1, 0, r);
        return !(insn->rex & 8) || (r[2] & (1u << 13)) ? K_CMPXCHG8B
                                                       : K_FALLBACK;
    }
    case I_MUL: case I_DIV: case I_IDIV:
        return K_MULDIV;
    case I_IMUL:
        return op->nopnd == 1 ? K_MULDIV : K_FALLBACK;
    case I_CLC: case I_STC: case I_CMC: case I_CLD: case I_STD:
    case I_LAHF: case I_SAHF:
        return K_FLAGOP;
    case I_PUSHF:   /* V86 checks IOPL */
        return t->cpu->mode == MODE_V86 ? K_FALLBACK : K_PUSHF;
    case I_LEAVE:
        return K_LEAVE;
    default:
        return gen_string_kind(t, ir);
    }
}

bool gen_arith_facts(struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    unsigned id = insn->op->id;
    switch (ir->kind) {
    case K_XCHG:
        ir->reads_cc = false;
        ir->may_exit = insn->has_mem;
        return true;
    case K_XADD: case K_CMPXCHG:
        ir->reads_cc = false;
        ir->writes_cc = true;
        ir->may_exit = insn->has_mem;
        return true;
    case K_CMPXCHG8B:   /* merges ZF */
        ir->reads_cc = false;
        return true;
    case K_MULDIV:   /* merges (see gen_arith_merges); DIV may raise #DE */
        ir->reads_cc = false;
        ir->may_exit = insn->has_mem || id == I_DIV || id == I_IDIV;
        return true;
    case K_FLAGOP:
        ir->reads_cc = id == I_LAHF;
        ir->may_exit = false;
        return true;
    case K_PUSHF:
        return true;   /* reads the flags, may fault */
    case K_LEAVE:
        ir->reads_cc = false;
        return true;
    default:
        return false;
    }
}

bool gen_arith_merges(const struct jit_ir *ir)
{
    unsigned id = ir->insn.op ? ir->insn.op->id : 0;
    return ir->kind == K_MULDIV || ir->kind == K_CMPXCHG8B ||
           (ir->kind == K_FLAGOP &&
            (id == I_CLC || id == I_STC || id == I_CMC || id == I_SAHF));
}

/* --- exchange and compare --- */

static void gen_xchg(struct tctx *t, const struct x86_insn *insn)
{
    unsigned size = gen_opnd_bytes(insn, insn->op->opnd[0].size);
    if (insn->has_mem)
        gen_ea(t, insn);
    load_opnd(t, insn, 0, size, HR_R12);
    load_opnd(t, insn, 1, size, HR_R13);
    store_opnd(t, insn, 0, size, HR_R13);   /* memory first: it may fault */
    store_opnd(t, insn, 1, size, HR_R12);
}

/* XADD: the destination gets the sum (flags of ADD), the source register
 * the old destination */
static void gen_xadd(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    unsigned size = gen_opnd_bytes(insn, insn->op->opnd[0].size);
    if (insn->has_mem)
        gen_ea(t, insn);
    load_opnd(t, insn, 0, size, HR_R12);
    load_opnd(t, insn, 1, size, HR_R13);
    gen_add_sub(t, ir, true, size, HR_R12, HR_R13);
    store_opnd(t, insn, 0, size, HR_R14);
    store_opnd(t, insn, 1, size, HR_R12);
}

/* CMPXCHG: flags of CMP rAX, dst; equal: dst = src, else rAX = dst (and a
 * memory destination is written back unchanged: a locked access always
 * writes) */
static void gen_cmpxchg(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    unsigned size = gen_opnd_bytes(insn, insn->op->opnd[0].size);
    int32_t ax = gen_gpr_off(R_AX);
    if (insn->has_mem)
        gen_ea(t, insn);
    load_opnd(t, insn, 0, size, HR_R12);
    gen_load_reg(t, HR_R13, ax, size);
    gen_add_sub(t, ir, false, size, HR_R13, HR_R12);
    if (insn->has_mem) {
        /* one store of (equal ? src : dst); R13 = not equal */
        load_opnd(t, insn, 1, size, HR_R13);
        emit_mov_rr(e, 8, HR_R14, HR_R12);
        emit_cmov(e, CC_E, 8, HR_R14, HR_R13);
        emit_setcc(e, CC_NE, HR_R13);
        emit_movzx_rr(e, 1, HR_R13, HR_R13);
        store_opnd(t, insn, 0, size, HR_R14);
        emit_test_rr(e, 4, HR_R13, HR_R13);
        size_t eq = emit_jcc(e, CC_E, NULL);
        gen_store_reg(t, ax, size, HR_R12);
        if (!e->overflow)
            emit_patch_rel32(e->buf + eq, emit_ptr(e));
    } else {
        size_t ne = emit_jcc(e, CC_NE, NULL);
        load_opnd(t, insn, 1, size, HR_R14);
        store_opnd(t, insn, 0, size, HR_R14);
        size_t end = emit_jmp(e, NULL);
        if (!e->overflow)
            emit_patch_rel32(e->buf + ne, emit_ptr(e));
        gen_store_reg(t, ax, size, HR_R12);
        if (!e->overflow)
            emit_patch_rel32(e->buf + end, emit_ptr(e));
    }
    t->fl.host = ir->keep_cc && !insn->has_mem;
}

static void arith_set_zf(struct jit_vcpu *v, uint32_t zf)
{
    cc_update(&v->cpu.cc, FL_ZF, zf ? FL_ZF : 0);
}

/* CMPXCHG8B/16B: ZF = host register zf (0 or 1), the other flags as they
 * were, when liveness keeps the record */
static void gen_set_zf(struct tctx *t, const struct jit_ir *ir, int zf)
{
    if (ir->keep_cc) {
        emit_mov_rr(&t->e, 4, HR_RSI, zf);
        gen_call(t, (const void *)arith_set_zf);
    }
}

/* host register h = the 64-bit value of guest registers hi:lo (32 each) */
static void gen_pair(struct tctx *t, int h, unsigned hi, unsigned lo)
{
    gen_load_reg(t, h, gen_gpr_off(hi), 4);
    emit_shift_ri(&t->e, ES_SHL, 8, h, 32);
    gen_load_reg(t, HR_RCX, gen_gpr_off(lo), 4);
    emit_alu_rr(&t->e, EA_OR, 8, h, HR_RCX);
}

/* CMPXCHG8B: EDX:EAX against the qword; equal: it becomes ECX:EBX, else
 * EDX:EAX the qword (written back unchanged); ZF = equal */
static void gen_cmpxchg8b(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    gen_ea(t, insn);
    gen_mem_load(t, insn->mem_seg, 8);
    emit_mov_rr(e, 8, HR_R12, HR_RAX);
    gen_pair(t, HR_R13, R_DX, R_AX);
    gen_pair(t, HR_R14, R_CX, R_BX);
    emit_alu_rr(e, EA_CMP, 8, HR_R12, HR_R13);
    emit_cmov(e, CC_NE, 8, HR_R14, HR_R12);
    emit_setcc(e, CC_E, HR_R13);
    emit_movzx_rr(e, 1, HR_R13, HR_R13);
    gen_mem_store(t, insn->mem_seg, 8);
    emit_test_rr(e, 4, HR_R13, HR_R13);
    size_t eq = emit_jcc(e, CC_NE, NULL);
    emit_mov_rr(e, 8, HR_RAX, HR_R12);
    gen_store_reg(t, gen_gpr_off(R_AX), 4, HR_RAX);   /* zero-extends RAX */
    emit_shift_ri(e, ES_SHR, 8, HR_R12, 32);
    gen_store_reg(t, gen_gpr_off(R_DX), 4, HR_R12);
    if (!e->overflow)
        emit_patch_rel32(e->buf + eq, emit_ptr(e));
    gen_set_zf(t, ir, HR_R13);
    t->fl = (struct flag_state){ .op = -1 };
}

/* CMPXCHG16B of a misaligned operand: the interpreter's checks, in its
 * order (the segment's, then #GP(0)) */
static void arith_misaligned16(struct jit_vcpu *v, uint64_t ea, uint32_t seg,
                               uint64_t rip)
{
    struct cpu *cpu = &v->cpu;
    cpu->insn_rip = rip;
    cpu->insn_rsp = cpu->s.gpr[R_SP];
    cpu_seg_to_lin(cpu, (int)seg, ea, 16, ACC_WRITE);
    cpu_raise(cpu, EXC_GP, 0);
}

/* R15 += delta at the address size */
static void gen_ea_add(struct tctx *t, const struct x86_insn *insn,
                       int32_t delta)
{
    emit_lea(&t->e, 8, HR_R15, emit_m(HR_R15, delta));
    if (insn->addrsize == 4)
        emit_mov_rr(&t->e, 4, HR_R15, HR_R15);
}

/* CMPXCHG16B (64-bit mode): a 16-byte aligned operand (else #GP), RDX:RAX
 * against it; both halves written (lo first), RDX:RAX the old value when
 * unequal; ZF = equal */
static void gen_cmpxchg16b(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    int seg = insn->mem_seg;
    gen_ea(t, insn);
    emit_mov_rr(e, 8, HR_RAX, HR_R15);
    if (seg == S_FS || seg == S_GS)
        emit_alu_rm(e, EA_ADD, 8, HR_RAX,
                    emit_m(HR_RBX, SEG_FIELD(seg, base)));
    emit_test_ri(e, 4, HR_RAX, 15);
    size_t misaligned = emit_jcc(e, CC_NE, NULL);
    gen_mem_load(t, seg, 8);
    emit_mov_rr(e, 8, HR_R12, HR_RAX);
    gen_ea_add(t, insn, 8);
    gen_mem_load(t, seg, 8);
    emit_mov_rr(e, 8, HR_R13, HR_RAX);
    /* ZF = equal; R14:R13 = what to write (the old value when unequal) */
    gen_load_reg(t, HR_RAX, gen_gpr_off(R_AX), 8);
    gen_load_reg(t, HR_RDX, gen_gpr_off(R_DX), 8);
    emit_alu_rr(e, EA_XOR, 8, HR_RAX, HR_R12);
    emit_alu_rr(e, EA_XOR, 8, HR_RDX, HR_R13);
    emit_mov_rr(e, 8, HR_R14, HR_R12);
    gen_load_reg(t, HR_RSI, gen_gpr_off(R_BX), 8);
    gen_load_reg(t, HR_RDI, gen_gpr_off(R_CX), 8);
    emit_alu_rr(e, EA_OR, 8, HR_RAX, HR_RDX);
    emit_cmov(e, CC_E, 8, HR_R14, HR_RSI);
    emit_cmov(e, CC_E, 8, HR_R13, HR_RDI);
    emit_setcc(e, CC_E, HR_R12);
    emit_movzx_rr(e, 1, HR_R12, HR_R12);
    gen_ea_add(t, insn, -8);
    gen_mem_store(t, seg, 8);
    gen_ea_add(t, insn, 8);
    emit_xchg_rr(e, 8, HR_R14, HR_R13);   /* R13 = low half */
    gen_mem_store(t, seg, 8);
    emit_test_rr(e, 4, HR_R12, HR_R12);
    size_t eq = emit_jcc(e, CC_NE, NULL);
    gen_store_reg(t, gen_gpr_off(R_AX), 8, HR_R13);
    gen_store_reg(t, gen_gpr_off(R_DX), 8, HR_R14);
    if (!e->overflow)
        emit_patch_rel32(e->buf + eq, emit_ptr(e));
    gen_set_zf(t, ir, HR_R12);
    size_t done = emit_jmp(e, NULL);
    if (!e->overflow)
        emit_patch_rel32(e->buf + misaligned, emit_ptr(e));
    emit_mov_rr(e, 8, HR_RSI, HR_R15);
    emit_mov_ri(e, 4, HR_RDX, (uint32_t)seg);
    emit_mov_ri(e, 8, HR_RCX, t->cur->rip);
    gen_call(t, (const void *)arith_misaligned16);
    if (!e->overflow)
        emit_patch_rel32(e->buf + done, emit_ptr(e));
    t->fl = (struct flag_state){ .op = -1 };
}

/* --- multiply and divide: rDX:rAX (AX for bytes) --- */

/* the accumulator pair from host RAX (and RDX) */
static void store_acc(struct tctx *t, unsigned size)
{
    if (size == 1) {
        gen_store_reg(t, gen_gpr_off(R_AX), 2, HR_RAX);
        return;
    }
    gen_store_reg(t, gen_gpr_off(R_AX), size, HR_RAX);
    gen_store_reg(t, gen_gpr_off(R_DX), size, HR_RDX);
}

static void gen_mul(struct tctx *t, const struct jit_ir *ir, unsigned size)
{
    struct emit *e = &t->e;
    bool sign = ir->insn.op->id == I_IMUL;
    gen_load_reg(t, HR_RAX, gen_gpr_off(R_AX), size);
    emit_muldiv(e, sign ? EM_IMUL : EM_MUL, size, HR_R12);
    store_acc(t, size);   /* moves: the host CF/OF stay */
    if (ir->keep_cc) {
        emit_setcc(e, CC_O, HR_RSI);
        emit_movzx_rr(e, 1, HR_RSI, HR_RSI);
        gen_call(t, (const void *)jit_helper_mul_flags);
    }
}

/* Host DIV/IDIV when the quotient surely fits, else arith_divide() */
static void gen_div(struct tctx *t, const struct jit_ir *ir, unsigned size)
{
    struct emit *e = &t->e;
    bool sign = ir->insn.op->id == I_IDIV;
    size_t slow[3];
    int nslow = 0;
    if (size == 1) {
        gen_load_reg(t, HR_RAX, gen_gpr_off(R_AX), 2);
        if (sign) {   /* AX is AL sign-extended */
            emit_movsx_rr(e, 4, 1, HR_RCX, HR_RAX);
            emit_alu_rr(e, EA_CMP, 2, HR_RCX, HR_RAX);
        } else {      /* AH < divisor */
            emit_mov_rr(e, 4, HR_RCX, HR_RAX);
            emit_shift_ri(e, ES_SHR, 4, HR_RCX, 8);
            emit_alu_rr(e, EA_CMP, 4, HR_RCX, HR_R12);
        }
    } else {
        gen_load_reg(t, HR_RAX, gen_gpr_off(R_AX), size);
        gen_load_reg(t, HR_RDX, gen_gpr_off(R_DX), size);
        if (sign) {   /* rDX is the sign of rAX */
            emit_mov_rr(e, 8, HR_RCX, HR_RAX);
            emit_shift_ri(e, ES_SAR, size, HR_RCX, (uint8_t)(8 * size - 1));
            emit_alu_rr(e, EA_CMP, size, HR_RCX, HR_RDX);
        } else {      /* rDX < divisor */
            emit_alu_rr(e, EA_CMP, size, HR_RDX, HR_R12);
        }
    }
    slow[nslow++] = emit_jcc(e, sign ? CC_NE : CC_AE, NULL);
    if (sign) {       /* neither 0 nor -1 */
        emit_test_rr(e, size, HR_R12, HR_R12);
        slow[nslow++] = emit_jcc(e, CC_E, NULL);
        emit_alu_ri(e, EA_CMP, size, HR_R12, -1);
        slow[nslow++] = emit_jcc(e, CC_E, NULL);
    }
    emit_muldiv(e, sign ? EM_IDIV : EM_DIV, size, HR_R12);
    store_acc(t, size);
    if (ir->keep_cc)
        gen_call(t, (const void *)arith_div_flags);
    size_t done = emit_jmp(e, NULL);
    if (!e->overflow)
        for (int i = 0; i < nslow; i++)
            emit_patch_rel32(e->buf + slow[i], emit_ptr(e));
    emit_mov_rr(e, 8, HR_RSI, HR_R12);
    emit_mov_ri(e, 4, HR_RDX, size | (sign ? 1u << 8 : 0));
    emit_mov_ri(e, 8, HR_RCX, t->cur->rip);
    gen_call(t, (const void *)arith_divide);
    if (!e->overflow)
        emit_patch_rel32(e->buf + done, emit_ptr(e));
}

static void gen_muldiv(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    unsigned size = gen_opnd_bytes(insn, insn->op->opnd[0].size);
    if (insn->has_mem)
        gen_ea(t, insn);
    load_opnd(t, insn, 0, size, HR_R12);
    if (insn->op->id == I_MUL || insn->op->id == I_IMUL)
        gen_mul(t, ir, size);
    else
        gen_div(t, ir, size);
    t->fl = (struct flag_state){ .op = -1 };
}

/* --- flags, PUSHF, LEAVE --- */

static void gen_flagop(struct tctx *t, const struct jit_ir *ir)
{
    struct emit *e = &t->e;
    struct emit_mem rflags = emit_m(HR_RBX, VCPU_FIELD(cpu.s.rflags));
    unsigned id = ir->insn.op->id;
    t->fl = (struct flag_state){ .op = -1 };
    switch (id) {
    case I_CLD:   /* DF lives in RFLAGS itself */
        emit_alu_mi(e, EA_AND, 8, rflags, ~(int32_t)FL_DF);
        break;
    case I_STD:
        emit_alu_mi(e, EA_OR, 8, rflags, (int32_t)FL_DF);
        break;
    case I_LAHF:
        gen_call(t, (const void *)arith_lahf);
        break;
    case I_SAHF:
        if (!ir->keep_cc)
            break;
        emit_load(e, 1, HR_RSI, emit_m(HR_RBX, gen_gpr_off(R_AX) + 1));
        gen_call(t, (const void *)arith_sahf);
        break;
    default:   /* CLC, STC, CMC */
        if (!ir->keep_cc)
            break;
        emit_mov_ri(e, 4, HR_RSI, id == I_CLC ? 0 : id == I_STC ? 1 : 2);
        gen_call(t, (const void *)arith_set_cf);
        break;
    }
}

static void gen_pushf(struct tctx *t, const struct jit_ir *ir)
{
    gen_call(t, (const void *)arith_pushf_value);
    emit_mov_rr(&t->e, 8, HR_R14, HR_RAX);
    gen_push_r14(t, ir->insn.opsize);
    t->fl = (struct flag_state){ .op = -1 };
}

/* LEAVE: RSP = RBP, then POP rBP; RSP changes only after the read (a
 * fault sees the old one) */
static void gen_leave(struct tctx *t, const struct jit_ir *ir)
{
    struct emit *e = &t->e;
    unsigned size = ir->insn.opsize;
    gen_load_reg(t, HR_R15, gen_gpr_off(R_BP), t->stack_size);
    gen_mem_load(t, S_SS, size);
    emit_mov_rr(e, 8, HR_R12, HR_RAX);
    emit_lea(e, 8, HR_R15, emit_m(HR_R15, (int32_t)size));
    emit_store(e, t->stack_size, emit_m(HR_RBX, gen_gpr_off(R_SP)), HR_R15);
    gen_store_reg(t, gen_gpr_off(R_BP), size, HR_R12);
}

bool gen_arith(struct tctx *t, const struct jit_ir *ir)
{
    switch (ir->kind) {
    case K_XCHG: gen_xchg(t, &ir->insn); return true;
    case K_XADD: gen_xadd(t, ir); return true;
    case K_CMPXCHG: gen_cmpxchg(t, ir); return true;
    case K_CMPXCHG8B:
        if (ir->insn.rex & 8)
            gen_cmpxchg16b(t, ir);
        else
            gen_cmpxchg8b(t, ir);
        return true;
    case K_MULDIV: gen_muldiv(t, ir); return true;
    case K_FLAGOP: gen_flagop(t, ir); return true;
    case K_PUSHF: gen_pushf(t, ir); break;
    case K_LEAVE: gen_leave(t, ir); return true;
    default: return false;
    }
    gen_check_exit(t, ir->next);   /* PUSHF wrote memory */
    return true;
}
