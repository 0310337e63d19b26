/* Native code for the hot SSE instructions (cpu/sse_*.c are the
 * reference): the moves between XMM registers, memory and GPRs, the
 * element-wise operations the interpreter runs on the host's vector unit
 * (the rows of cpu/sse_host_ops.h, found with sse_host_find()), the
 * shuffles and shifts by an immediate, the scalar conversions and
 * compares, and PCMPxSTRx. Guest XMM registers live in cpu->s.xsave (the
 * FXSAVE layout, 16-byte aligned in the vCPU), so the host instruction
 * takes a guest register as an aligned memory operand at RBX+offset; host
 * XMM0-XMM2 are scratch within one instruction.
 *
 * Checks: a block is translated with these only when CR0.EM/TS and
 * CR4.OSFXSR let SSE run (a bit of jit_mode_key()). Floating-point forms
 * run natively only while the guest MXCSR masks every exception, with the
 * guest's MXCSR loaded on the host (its rounding, DAZ, FTZ; the sticky
 * flags raised land in the guest MXCSR) from the first of them on while
 * the instructions that follow allow it, else the interpreter's handler
 * runs the instruction (#XM, #UD). A 16-byte memory
 * operand takes the inlined TLB path or, for anything else (a miss, a
 * page crossing, a misaligned operand of an aligned form), the
 * interpreter's handler; smaller operands go through the usual load and
 * store helpers. */
#include <stddef.h>
#include "cpu/fpu_internal.h"
#include "jit/emit_x86_sse.h"
#include "jit/jit_gen.h"

#define XS_OFF(off) ((int32_t)(offsetof(struct jit_vcpu, cpu.s.xsave) + (off)))
#define XMM_OFF(i) XS_OFF(FX_XMM + 16 * (unsigned)(i))
#define CC_OFF(f) ((int32_t)offsetof(struct jit_vcpu, cpu.cc.f))

_Static_assert(offsetof(struct jit_vcpu, cpu.s.xsave) % 16 == 0,
               "guest XMM registers 16-byte aligned for host operands");

/* host registers: destination and source */
enum { XD = 1, XSRC = 2 };

enum sse_form {
    F_OP,         /* V = V op W on the host (the imm8 when imm) */
    F_LOAD,       /* V = W: 16 bytes, or msize bytes of memory zero-extended;
                     merge: the register form moves msize bytes only */
    F_STORE,      /* W = msize bytes of V at voff; zext: a register
                     destination's upper quadword cleared */
    F_LOAD_HALF,  /* 8 bytes of W (at soff) into V at voff */
    F_SHIFT_IMM,  /* U = U shifted by imm (71-73 groups) */
    F_GPR_TO_X,   /* MOVD/MOVQ xmm, r/m32/64 */
    F_X_TO_GPR,   /* MOVD/MOVQ r/m32/64, xmm */
    F_TO_GPR32,   /* PMOVMSKB, MOVMSKPS/PD, PEXTRW: host op r32, xmm */
    F_PINSRW,     /* PINSRW xmm, r32/m16, imm */
    F_CVT_TO_X,   /* CVTSI2SS/SD */
    F_CVT_TO_GPR, /* CVT(T)SS2SI, CVT(T)SD2SI */
    F_COMI,       /* (U)COMISS/SD, PTEST: RFLAGS */
    F_PCMPSTR,    /* PCMPESTRI/M, PCMPISTRI/M */
};

struct sse_plan {
    uint8_t form;
    struct sse_enc enc;  /* the host instruction */
    uint8_t msize;       /* bytes of the memory operand */
    uint8_t voff, soff;
    bool align;          /* #GP(0) unless 16-byte aligned */
    bool fp;             /* floating point: MXCSR applies */
    bool imm, merge, zext, wide;
    bool xmm0;           /* reads XMM0 (BLENDV) */
    struct emit_mem mem; /* a 16-byte memory operand on the fast path */
};

static unsigned mand_prefix(const struct x86_insn *insn)
{
    return insn->rep ? insn->rep : insn->opsize_prefix ? 0x66 : 0;
}

/* the element-wise rows the interpreter runs on the host (sse_exec.c
 * exec_host), except the MMX ones and ROUNDxx (rounding from imm) */
static bool plan_host(const struct x86_insn *insn, unsigned pf,
                      struct sse_plan *p)
{
    bool cmp = insn->map == MAP_0F && insn->opcode == 0xc2;
    if (insn->map == MAP_0F3A)
        return false;
    const struct sse_host_row *row =
        sse_host_find(insn->map, insn->opcode, pf, cmp ? insn->imm & 7 : 0);
    if (!row || (row->flags & SF_MMX))
        return false;
    p->form = F_OP;
    p->msize = row->size;
    p->align = row->size == 16;
    p->fp = row->flags & SF_MXCSR;
    p->imm = cmp;
    p->xmm0 = insn->map == MAP_0F38 &&
              (insn->opcode == 0x10 || insn->opcode == 0x14 ||
               insn->opcode == 0x15);
    return true;
}

static void set(struct sse_plan *p, enum sse_form form, unsigned msize,
                bool align)
{
    p->form = (uint8_t)form;
    p->msize = (uint8_t)msize;
    p->align = align;
}

/* the 0F map: what cpu/sse_move.c, sse_shuffle.c and sse_convert.c run
 * (anything they do not claim goes to the host rows) */
static bool plan_0f(const struct x86_insn *insn, unsigned pf, bool mem,
                    struct sse_plan *p)
{
    unsigned opc = insn->opcode, r = insn->reg & 7;
    switch (opc) {
    case 0x10:
        set(p, F_LOAD, pf == 0xf3 ? 4 : pf == 0xf2 ? 8 : 16, false);
        p->merge = pf >= 0xf2;
        return true;
    case 0x11:
        set(p, F_STORE, pf == 0xf3 ? 4 : pf == 0xf2 ? 8 : 16, false);
        return true;
    case 0x12: case 0x16:
        if (pf >= 0xf2)
            return plan_host(insn, pf, p);
        if (pf == 0x66 && !mem)
            return false;
        set(p, F_LOAD_HALF, 8, false);
        p->voff = opc == 0x16 ? 8 : 0;
        p->soff = !mem && opc == 0x12 ? 8 : 0;   /* MOVHLPS */
        return true;
    case 0x13: case 0x17:
        if (pf > 0x66 || !mem)
            return false;
        set(p, F_STORE, 8, false);
        p->voff = opc == 0x17 ? 8 : 0;
        return true;
    case 0x28:
        if (pf > 0x66)
            return false;
        set(p, F_LOAD, 16, true);
        return true;
    case 0x29: case 0x2b:
        if (pf > 0x66 || (opc == 0x2b && !mem))
            return false;
        set(p, F_STORE, 16, true);
        return true;
    case 0x2a:
        if (pf < 0xf2)
            return false;
        set(p, F_CVT_TO_X, p->wide ? 8 : 4, false);
        p->fp = true;
        return true;
    case 0x2c: case 0x2d:
        if (pf < 0xf2)
            return false;
        set(p, F_CVT_TO_GPR, pf == 0xf3 ? 4 : 8, false);
        p->fp = true;
        return true;
    case 0x2e: case 0x2f:
        if (pf > 0x66)
            return false;
        set(p, F_COMI, pf ? 8 : 4, false);
        p->fp = true;
        return true;
    case 0x50:
        if (pf > 0x66 || mem)
            return false;
        set(p, F_TO_GPR32, 0, false);
        return true;
    case 0x6e:
        if (pf != 0x66)
            return false;
        set(p, F_GPR_TO_X, p->wide ? 8 : 4, false);
        return true;
    case 0x7e:
        if (pf == 0xf3) {   /* MOVQ xmm, xmm/m64: the host's own form */
            set(p, F_OP, 8, false);
            return true;
        }
        if (pf != 0x66)
            return false;
        set(p, F_X_TO_GPR, p->wide ? 8 : 4, false);
        return true;
    case 0x6f:
        if (pf != 0x66 && pf != 0xf3)
            return false;
        set(p, F_LOAD, 16, pf == 0x66);
        return true;
    case 0x7f:
        if (pf != 0x66 && pf != 0xf3)
            return false;
        set(p, F_STORE, 16, pf == 0x66);
        return true;
    case 0x70:
        if (!pf)
            return false;
        set(p, F_OP, 16, true);
        p->imm = true;
        return true;
    case 0x71: case 0x72: case 0x73: {
        /* the valid /digits of sse_shuffle.c shift_imm (66 forms) */
        static const uint8_t ok[3] = { 0x54, 0x54, 0xcc };
        if (pf != 0x66 || mem || !(ok[opc - 0x71] & (1u << r)))
            return false;
        set(p, F_SHIFT_IMM, 0, false);
        return true;
    }
    case 0xc4:
        if (pf != 0x66)
            return false;
        set(p, F_PINSRW, 2, false);
        return true;
    case 0xc5:
        if (pf != 0x66 || mem)
            return false;
        set(p, F_TO_GPR32, 0, false);
        p->imm = true;
        return true;
    case 0xc6:
        if (pf > 0x66)
            return false;
        set(p, F_OP, 16, true);
        p->imm = true;
        return true;
    case 0xd6:
        if (pf != 0x66)
            return false;
        set(p, F_STORE, 8, false);
        p->zext = true;
        return true;
    case 0xd7:
        if (pf != 0x66 || mem)
            return false;
        set(p, F_TO_GPR32, 0, false);
        return true;
    case 0xe7:
        if (pf != 0x66 || !mem)
            return false;
        set(p, F_STORE, 16, true);
        return true;
    case 0xf0:
        if (pf != 0xf2 || !mem)
            return false;
        set(p, F_LOAD, 16, false);
        return true;
    case 0x77: case 0xf7:   /* EMMS, MASKMOVDQU */
        return false;
    default:
        return plan_host(insn, pf, p);
    }
}

/* Which native form runs the instruction; false: the interpreter's */
static bool plan(const struct x86_insn *insn, struct sse_plan *p)
{
    unsigned pf = mand_prefix(insn), opc = insn->opcode;
    bool mem = insn->mod != 3;
    *p = (struct sse_plan){ .enc = sse_enc(pf, insn->map, opc),
                            .wide = (insn->rex & 8) != 0 };
    if (!insn->has_modrm || (mem && !insn->has_mem))
        return false;
    switch (insn->map) {
    case MAP_0F:
        return plan_0f(insn, pf, mem, p);
    case MAP_0F38:
        if (opc == 0x2a) {   /* MOVNTDQA */
            if (pf != 0x66 || !mem)
                return false;
            set(p, F_LOAD, 16, true);
            return true;
        }
        if (opc == 0x17) {   /* PTEST: ZF and CF, like a compare */
            set(p, F_COMI, 16, true);
            return pf == 0x66;
        }
        return pf == 0x66 && plan_host(insn, pf, p);
    case MAP_0F3A:
        if (pf != 0x66)
            return false;
        if (opc >= 0x60 && opc <= 0x63) {
            set(p, F_PCMPSTR, 16, false);
            p->imm = true;
            return true;
        }
        /* BLENDPS/PD, PBLENDW, PALIGNR, MPSADBW */
        if ((opc >= 0x0c && opc <= 0x0f) || opc == 0x42) {
            set(p, F_OP, 16, true);
            p->imm = true;
            return true;
        }
        return false;
    default:
        return false;
    }
}

void gen_sse_classify(const struct tctx *t, struct jit_ir *ir)
{
    struct sse_plan p;
    const struct x86_insn *insn = &ir->insn;
    if (!(t->key & JIT_KEY_SSE) || !plan(insn, &p) ||
        (insn->has_mem && t->slow_mem))
        return;
    ir->kind = K_SSE;
    ir->reads_cc = false;
    ir->writes_cc = p.form == F_COMI || p.form == F_PCMPSTR;
    ir->may_exit = insn->has_mem || p.fp;
}

/* --- pieces --- */

static struct emit_mem xmm_m(unsigned i, unsigned off)
{
    return emit_m(HR_RBX, XMM_OFF(i) + (int32_t)off);
}

/* an earlier instruction of the block already marked the state in use
 * (XSTATE_BV, fpu_mark_in_use()) and nothing in between could clear it */
static bool marked_before(const struct tctx *t)
{
    for (const struct jit_ir *ir = t->cur - 1; ir >= t->ir; ir--) {
        if (ir->kind == K_SSE)
            return true;
        if (ir->kind == K_FALLBACK)
            return false;
    }
    return false;
}

static int mem_seg(const struct x86_insn *insn)
{
    return insn->mem_seg >= 0 ? insn->mem_seg : S_DS;
}

/* the jumps to the slow path: struct cold_path's list (gen_mem_fast() adds
 * at most five) */
static void to_slow(struct tctx *t, struct cold_path *s, enum emit_cc cc)
{
    s->sites[s->nsites++] = emit_jcc(&t->e, cc, NULL);
}

/* the interpreter unless the guest MXCSR masks all six exceptions */
static void check_mxcsr(struct tctx *t, struct cold_path *s)
{
    struct emit *e = &t->e;
    emit_load(e, 4, HR_RAX, emit_m(HR_RBX, XS_OFF(FX_MXCSR)));
    emit_not(e, 4, HR_RAX);
    emit_test_ri(e, 4, HR_RAX, 0x1f80);
    to_slow(t, s, CC_NE);
}

/* The guest MXCSR is put on the host by the first floating-point
 * operation of a block and stays there (t->mx_guest) across the
 * instructions gen_mxcsr_keeps() allows: the host's goes back, and the
 * flags the operations raised to the guest MXCSR, before any other
 * instruction, around each helper call (gen_call(), the cold paths) and
 * before each exit (the cold exits; gen_mxcsr_host() before jumps and at
 * the block end). The host's is kept in the red zone, which only calls
 * overwrite: each call is preceded by the switch back, and the switch to
 * the guest's after it saves the host's again. */
void gen_mxcsr_switch(struct emit *e, bool to_guest)
{
    struct emit_mem host = emit_m(HR_RSP, -16);
    struct emit_mem guest = emit_m(HR_RBX, XS_OFF(FX_MXCSR));
    emit_stmxcsr(e, to_guest ? host : guest);
    emit_ldmxcsr(e, to_guest ? guest : host);
}

static void mxcsr_set(struct tctx *t, bool guest)
{
    if (t->mx_guest != guest)
        gen_mxcsr_switch(&t->e, guest);
    t->mx_guest = guest;
}

void gen_mxcsr_host(struct tctx *t)
{
    mxcsr_set(t, false);
}

/* the kinds whose code runs no host floating point, calls helpers only
 * through gen_call() and leaves the block only through the cold paths */
bool gen_mxcsr_keeps(const struct jit_ir *ir)
{
    switch (ir->kind) {
    case K_SSE: case K_NOP: case K_MOV: case K_ALU: case K_INCDEC:
    case K_LEA: case K_MOVX: case K_SETCC: case K_CMOV: case K_SHIFT:
    case K_SHIFTV: case K_ROT: case K_BT: case K_BSCAN: case K_POPCNT:
    case K_NOT: case K_NEG: case K_IMUL: case K_PUSH: case K_POP:
    case K_XREG: case K_XCHG:
        return true;
    default:
        return false;
    }
}

static void host_op(struct tctx *t, const struct sse_plan *p, bool rex_w,
                    int reg, int rm, const struct emit_mem *m)
{
    if (p->fp)
        mxcsr_set(t, true);
    if (m)
        emit_sse_rm(&t->e, p->enc, rex_w, reg, *m);
    else
        emit_sse_rr(&t->e, p->enc, rex_w, reg, rm);
    if (p->imm)
        emit_byte(&t->e, (uint8_t)(t->cur->insn.imm &
                                   (p->enc.map == MAP_0F &&
                                    p->enc.opcode == 0xc2 ? 7 : 0xff)));
}

/* The source operand W of a host operation: the guest register as an
 * aligned memory operand, or XSRC holding the memory operand (16 bytes at
 * p->mem, or the loaded RAX) */
static struct emit_mem src_operand(struct tctx *t, const struct sse_plan *p,
                                   bool *in_reg)
{
    const struct x86_insn *insn = &t->cur->insn;
    *in_reg = insn->mod != 3;
    if (insn->mod == 3)
        return xmm_m(insn->rm, 0);
    if (p->msize == 16)
        emit_movdqu_load(&t->e, XSRC, p->mem);
    else
        emit_movq_xr(&t->e, XSRC, HR_RAX);
    return emit_m(HR_NONE, 0);
}

/* the flags of COMIS/PTEST/PCMPxSTR now in the host RFLAGS: the EAGER
 * record, as cpu_set_rflags() leaves it */
static void record_host_flags(struct tctx *t)
{
    struct emit *e = &t->e;
    emit_pushfq(e);
    emit_pop(e, HR_RAX);
    emit_alu_ri(e, EA_AND, 4, HR_RAX, FL_ARITH);
    emit_store(e, 8, emit_m(HR_RBX, CC_OFF(flags)), HR_RAX);
    store_record(t, CC_OP_EAGER, 0);
}

/* --- the forms --- */

static void gen_op(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    bool in_reg;
    struct emit_mem m = src_operand(t, p, &in_reg);
    emit_movdqa_load(&t->e, XD, xmm_m(insn->reg, 0));
    if (p->xmm0)
        emit_movdqa_load(&t->e, 0, xmm_m(0, 0));
    host_op(t, p, false, XD, XSRC, in_reg ? NULL : &m);
    emit_movdqa_store(&t->e, xmm_m(insn->reg, 0), XD);
}

static void gen_load(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    struct emit *e = &t->e;
    struct emit_mem d = xmm_m(insn->reg, 0);
    if (insn->mod == 3 && p->merge) {
        emit_load(e, p->msize, HR_RAX, xmm_m(insn->rm, 0));
        emit_store(e, p->msize, d, HR_RAX);
    } else if (insn->mod == 3 || p->msize == 16) {
        if (insn->mod == 3)
            emit_movdqa_load(e, XD, xmm_m(insn->rm, 0));
        else
            emit_movdqu_load(e, XD, p->mem);
        emit_movdqa_store(e, d, XD);
    } else {
        emit_store(e, 8, d, HR_RAX);   /* zero-extended by the load */
        emit_store_imm(e, 8, xmm_m(insn->reg, 8), 0);
    }
}

static void gen_store(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    struct emit *e = &t->e;
    struct emit_mem s = xmm_m(insn->reg, p->voff);
    if (p->msize == 16) {
        emit_movdqa_load(e, XD, s);
        if (insn->mod == 3)
            emit_movdqa_store(e, xmm_m(insn->rm, 0), XD);
        else
            emit_movdqu_store(e, p->mem, XD);
        return;
    }
    if (insn->mod == 3) {
        emit_load(e, p->msize, HR_RAX, s);
        emit_store(e, p->msize, xmm_m(insn->rm, 0), HR_RAX);
        if (p->zext)
            emit_store_imm(e, 8, xmm_m(insn->rm, 8), 0);
        return;
    }
    emit_load(e, p->msize, HR_R14, s);
    gen_mem_store(t, mem_seg(insn), p->msize);
    gen_check_exit(t, t->cur->next);
}

static void gen_load_half(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    if (insn->mod == 3)
        emit_load(&t->e, 8, HR_RAX, xmm_m(insn->rm, p->soff));
    emit_store(&t->e, 8, xmm_m(insn->reg, p->voff), HR_RAX);
}

static void gen_shift_imm(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    emit_movdqa_load(&t->e, XD, xmm_m(insn->rm, 0));
    emit_sse_rr(&t->e, p->enc, false, insn->reg & 7, XD);
    emit_byte(&t->e, (uint8_t)insn->imm);
    emit_movdqa_store(&t->e, xmm_m(insn->rm, 0), XD);
}

/* RAX = the r/m GPR operand (size bytes, zero-extended) unless memory
 * (loaded already) */
static void gpr_source(struct tctx *t, unsigned size)
{
    const struct x86_insn *insn = &t->cur->insn;
    if (insn->mod == 3)
        emit_load(&t->e, size, HR_RAX, emit_m(HR_RBX, gen_gpr_off(insn->rm)));
}

static void gen_gpr_to_x(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    gpr_source(t, p->msize);
    emit_store(&t->e, 8, xmm_m(insn->reg, 0), HR_RAX);
    emit_store_imm(&t->e, 8, xmm_m(insn->reg, 8), 0);
}

static void gen_x_to_gpr(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    if (insn->mod == 3) {
        emit_load(&t->e, p->msize, HR_RAX, xmm_m(insn->reg, 0));
        gen_store_reg(t, gen_gpr_off(insn->rm), p->msize, HR_RAX);
        return;
    }
    emit_load(&t->e, p->msize, HR_R14, xmm_m(insn->reg, 0));
    gen_mem_store(t, mem_seg(insn), p->msize);
    gen_check_exit(t, t->cur->next);
}

static void gen_to_gpr32(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    emit_movdqa_load(&t->e, XD, xmm_m(insn->rm, 0));
    host_op(t, p, false, HR_RAX, XD, NULL);
    store_result(t, insn, 4, HR_RAX);   /* r32: zero-extended */
}

static void gen_pinsrw(struct tctx *t)
{
    const struct x86_insn *insn = &t->cur->insn;
    gpr_source(t, 2);
    emit_store(&t->e, 2, xmm_m(insn->reg, 2 * ((unsigned)insn->imm & 7)),
               HR_RAX);
}

static void gen_cvt_to_x(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    gpr_source(t, p->msize);
    emit_movdqa_load(&t->e, XD, xmm_m(insn->reg, 0));
    host_op(t, p, p->wide, XD, HR_RAX, NULL);
    emit_movdqa_store(&t->e, xmm_m(insn->reg, 0), XD);
}

static void gen_cvt_to_gpr(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    bool in_reg;
    struct emit_mem m = src_operand(t, p, &in_reg);
    host_op(t, p, p->wide, HR_RAX, XSRC, in_reg ? NULL : &m);
    store_result(t, insn, p->wide ? 8 : 4, HR_RAX);   /* r32 zero-extended */
}

static void gen_comi(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    bool in_reg;
    struct emit_mem m = src_operand(t, p, &in_reg);
    emit_movdqa_load(&t->e, XD, xmm_m(insn->reg, 0));
    host_op(t, p, false, XD, XSRC, in_reg ? NULL : &m);
    if (t->cur->keep_cc)
        record_host_flags(t);
}

static void gen_pcmpstr(struct tctx *t, const struct sse_plan *p)
{
    const struct x86_insn *insn = &t->cur->insn;
    struct emit *e = &t->e;
    bool in_reg;
    struct emit_mem m = src_operand(t, p, &in_reg);
    if (!(insn->opcode & 2)) {   /* explicit lengths in rAX, rDX */
        emit_load(e, 8, HR_RAX, emit_m(HR_RBX, gen_gpr_off(R_AX)));
        emit_load(e, 8, HR_RDX, emit_m(HR_RBX, gen_gpr_off(R_DX)));
    }
    emit_movdqa_load(e, XD, xmm_m(insn->reg, 0));
    host_op(t, p, p->wide, XD, XSRC, in_reg ? NULL : &m);
    if (insn->opcode & 1)   /* index in ECX */
        emit_store(e, 8, emit_m(HR_RBX, gen_gpr_off(R_CX)), HR_RCX);
    else                    /* mask in XMM0 */
        emit_movdqa_store(e, xmm_m(0, 0), 0);
    if (t->cur->keep_cc)
        record_host_flags(t);
}

static void gen_body(struct tctx *t, const struct sse_plan *p)
{
    switch (p->form) {
    case F_OP: gen_op(t, p); break;
    case F_LOAD: gen_load(t, p); break;
    case F_STORE: gen_store(t, p); break;
    case F_LOAD_HALF: gen_load_half(t, p); break;
    case F_SHIFT_IMM: gen_shift_imm(t, p); break;
    case F_GPR_TO_X: gen_gpr_to_x(t, p); break;
    case F_X_TO_GPR: gen_x_to_gpr(t, p); break;
    case F_TO_GPR32: gen_to_gpr32(t, p); break;
    case F_PINSRW: gen_pinsrw(t); break;
    case F_CVT_TO_X: gen_cvt_to_x(t, p); break;
    case F_CVT_TO_GPR: gen_cvt_to_gpr(t, p); break;
    case F_COMI: gen_comi(t, p); break;
    default: gen_pcmpstr(t, p); break;
    }
}

static bool reads_memory(const struct sse_plan *p)
{
    return p->form != F_STORE && p->form != F_X_TO_GPR;
}

void gen_sse(struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    struct emit *e = &t->e;
    struct sse_plan p;
    struct cold_path slow = { .nsites = 0 };
    struct flag_state fl = t->fl;
    bool mx_before = t->mx_guest;
    plan(insn, &p);
    bool flags = p.form == F_COMI || p.form == F_PCMPSTR;
    if (!marked_before(t))
        emit_alu_mi(e, EA_OR, 1, emit_m(HR_RBX, XS_OFF(XS_HEADER)), 3);
    if (p.fp)
        check_mxcsr(t, &slow);
    if (insn->mod != 3) {
        gen_ea(t, insn);
        if (p.msize == 16) {
            p.mem = gen_mem_fast(t, mem_seg(insn), 16, !reads_memory(&p),
                                 &slow);
            if (p.align) {   /* the linear address, the operand's index */
                emit_test_ri(e, 4, p.mem.index, 15);
                to_slow(t, &slow, CC_NE);
            }
        } else if (reads_memory(&p)) {
            gen_mem_load(t, mem_seg(insn), p.msize);
        }
    }
    gen_body(t, &p);
    if (slow.nsites) {   /* the interpreter's handler, jumped over */
        bool mx_after = t->mx_guest;
        size_t done = emit_jmp(e, NULL);
        for (int i = 0; i < slow.nsites && !e->overflow; i++)
            emit_patch_rel32(e->buf + slow.sites[i], emit_ptr(e));
        t->mx_guest = mx_before;   /* as at the jumps */
        gen_fallback(t, ir);       /* switches around the call */
        mxcsr_set(t, mx_after);    /* as on the fast path */
        if (!e->overflow)
            emit_patch_rel32(e->buf + done, emit_ptr(e));
    }
    if (flags && ir->keep_cc)   /* EAGER on both paths */
        t->fl = (struct flag_state){ .op = CC_OP_EAGER,
                                     .in_flags = FL_ARITH };
    else if (flags)
        t->fl = (struct flag_state){ .op = -1 };
    else   /* the record is as before; the host flags are gone */
        t->fl = (struct flag_state){ .op = fl.op, .size = fl.size,
                                     .in_flags = fl.in_flags };
}
