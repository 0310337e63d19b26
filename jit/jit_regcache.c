/* Guest general registers cached in host registers within a block. A
 * guest register read or written by the instructions whose generators
 * are known to reach registers only through gen_load_reg/gen_store_reg,
 * or rc_reg for the simple forms that work on the cached register itself
 * (MOV, the ALU group, LEA, MOVZX/MOVSX, INC/DEC, NOT/NEG, IMUL, SETcc,
 * CMOVcc, PUSH/POP, PUSHF, shifts and rotates, BT*, bit scans, POPCNT,
 * BSWAP, CBW/CWD, XCHG, XADD, MUL/DIV, the system instructions of
 * jit/jit_gen_sys.c, and the indirect jumps, calls
 * and returns, which empty the cache before they leave) is kept in one
 * of six host registers the rest of the generated code leaves alone; a
 * write only marks it dirty. When all six are taken, the register the
 * block names again the farthest ahead (or not at all before the cache
 * is next emptied) gives way, a clean one first among equals (Belady's
 * choice, from what each instruction names: rc_begin). Memory
 * (cpu->s.gpr) is brought up to date before anything else looks at it:
 * before any other instruction (which then runs with the cache off),
 * before each helper call (which clobbers the host registers: they are
 * reloaded after it), in the slow paths and exits out of line (from the
 * state recorded where they branch off), and before the block's exits.
 * A fault therefore always finds the guest registers in memory as the
 * instruction started.
 *
 * Translation-time rule: a slot is filled or dropped only where every
 * path goes (never inside an instruction's internal branches), which
 * the instructions above respect. */
#include "jit/jit_gen.h"

static const int slot_host[RC_SLOTS] = { HR_R8, HR_R9, HR_R10, HR_R11,
                                         HR_RDI, HR_RBP };

static int reg_of_off(int32_t off)
{
    int32_t rel = off - gen_gpr_off(0);
    return rel >= 0 && rel < 16 * 8 && rel % 8 == 0 ? rel / 8 : -1;
}

static bool cacheable(const struct tctx *t, const struct jit_ir *ir)
{
    if (t->slow_mem)
        return false;
    switch (ir->kind) {
    case K_NOP: case K_MOV: case K_ALU: case K_INCDEC: case K_LEA:
    case K_MOVX: case K_NOT: case K_NEG: case K_SETCC: case K_CMOV:
    case K_IMUL: case K_PUSH: case K_POP: case K_SHIFT: case K_SHIFTV:
    case K_ROT: case K_BT: case K_BSCAN: case K_POPCNT: case K_XREG:
    case K_XCHG: case K_XADD: case K_MULDIV: case K_PUSHF: case K_JMP_IND:
    case K_SYS:
    case K_CALL: case K_RET:   /* these empty it themselves before leaving */
        return true;
    default:
        return false;
    }
}

/* the guest registers an instruction names (a superset: the modrm reg
 * field also when it extends the opcode), with RC_LIVES */
static uint32_t named_gprs(const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    uint32_t m = RC_LIVES;
    if (insn->has_modrm) {
        m |= 1u << insn->reg;
        if (insn->mod == 3)
            m |= 1u << insn->rm;
    }
    if (insn->has_mem && insn->base >= 0)
        m |= 1u << insn->base;
    if (insn->has_mem && insn->index >= 0)
        m |= 1u << insn->index;
    for (int i = 0; i < insn->op->nopnd; i++) {
        const struct x86_operand *o = &insn->op->opnd[i];
        if (o->method == OM_Z)
            m |= 1u << insn->rm;
        else if (o->method == OM_REG)
            m |= 1u << (o->reg & 15);
    }
    /* implicit ones */
    unsigned id = insn->op->id;
    if (ir->kind == K_PUSH || ir->kind == K_POP || ir->kind == K_PUSHF ||
        ir->kind == K_CALL || ir->kind == K_RET)
        m |= 1u << R_SP;
    if (ir->kind == K_MULDIV || id == I_CBW || id == I_CWD)
        m |= 1u << R_AX | 1u << R_DX;
    return m;
}

/* the cache empty, nothing written back */
static void reset(struct tctx *t)
{
    struct regcache *rc = &t->rc;
    for (int g = 0; g < 16; g++)
        rc->slot_of[g] = -1;
    for (int s = 0; s < RC_SLOTS; s++)
        rc->reg_of[s] = -1;
    rc->dirty = 0;
    t->rc_on = false;
}

void rc_begin(struct tctx *t)
{
    for (int i = 0; i < t->n; i++)
        t->ir[i].gprs = cacheable(t, &t->ir[i]) ? named_gprs(&t->ir[i]) : 0;
    reset(t);
}

void rc_spill(struct tctx *t, const struct regcache *rc)
{
    for (int s = 0; s < RC_SLOTS; s++)
        if (rc->dirty & (1u << s))
            emit_store(&t->e, 8, emit_m(HR_RBX, gen_gpr_off(
                                            (unsigned)rc->reg_of[s])),
                       slot_host[s]);
}

void rc_reload(struct tctx *t, const struct regcache *rc)
{
    for (int s = 0; s < RC_SLOTS; s++)
        if (rc->reg_of[s] >= 0)
            emit_load(&t->e, 8, slot_host[s],
                      emit_m(HR_RBX, gen_gpr_off((unsigned)rc->reg_of[s])));
}

void rc_drop(struct tctx *t)
{
    rc_spill(t, &t->rc);
    reset(t);
}

void rc_before(struct tctx *t, const struct jit_ir *ir)
{
    if (!(ir->gprs & RC_LIVES)) {
        rc_drop(t);   /* the instruction sees and changes memory only */
        return;
    }
    t->rc_on = true;
    t->rc_pinned = 0;
}

/* forget guest register g (its value written back if dirty) */
static void forget(struct tctx *t, int g)
{
    struct regcache *rc = &t->rc;
    int s = g >= 0 ? rc->slot_of[g] : -1;
    if (s < 0)
        return;
    if (rc->dirty & (1u << s))
        emit_store(&t->e, 8, emit_m(HR_RBX, gen_gpr_off((unsigned)g)),
                   slot_host[s]);
    rc->dirty &= (uint8_t)~(1u << s);
    rc->slot_of[g] = -1;
    rc->reg_of[s] = -1;
}

/* how many instructions ahead of the current one (which counts as 0)
 * guest register g is named next while the cache lives, or
 * JIT_MAX_INSNS */
static int next_use(const struct tctx *t, int g)
{
    for (const struct jit_ir *ir = t->cur; ir < t->ir + t->n; ir++) {
        if (!ir->gprs)
            break;   /* not cacheable: the cache is emptied there */
        if (ir->gprs & (1u << g))
            return (int)(ir - t->cur);
    }
    return JIT_MAX_INSNS;
}

/* the slot that gives way: the farthest next use, clean before dirty;
 * never one the current instruction has taken */
static int victim(const struct tctx *t)
{
    int best = 0, best_score = -1;
    for (int s = 0; s < RC_SLOTS; s++) {
        if (t->rc_pinned & (1u << s))
            continue;
        int score = 2 * next_use(t, t->rc.reg_of[s]) +
                    !(t->rc.dirty & (1u << s));
        if (score > best_score) {
            best = s;
            best_score = score;
        }
    }
    return best;
}

/* a slot for guest register g, loaded from memory when `load` */
static int slot_for(struct tctx *t, int g, bool load)
{
    struct regcache *rc = &t->rc;
    int s = rc->slot_of[g];
    if (s >= 0) {
        t->rc_pinned |= (uint8_t)(1u << s);
        return s;
    }
    for (int i = 0; i < RC_SLOTS && s < 0; i++)
        if (rc->reg_of[i] < 0)
            s = i;
    if (s < 0) {
        s = victim(t);
        forget(t, rc->reg_of[s]);
    }
    rc->slot_of[g] = (int8_t)s;
    rc->reg_of[s] = (int8_t)g;
    t->rc_pinned |= (uint8_t)(1u << s);
    if (load)
        emit_load(&t->e, 8, slot_host[s],
                  emit_m(HR_RBX, gen_gpr_off((unsigned)g)));
    return s;
}

int rc_reg(struct tctx *t, int32_t off, bool load)
{
    int g = reg_of_off(off);
    if (!t->rc_on || g < 0)
        return -1;
    return slot_host[slot_for(t, g, load)];
}

void rc_written(struct tctx *t, int host)
{
    for (int s = 0; s < RC_SLOTS; s++)
        if (slot_host[s] == host)
            t->rc.dirty |= (uint8_t)(1u << s);
}

/* the guest register at offset off when the cache may hold it, else -1
 * (AH..BH: the register around it is written back and forgotten, as
 * memory is read or written) */
static int cached_gpr(struct tctx *t, int32_t off)
{
    if (!t->rc_on)
        return -1;
    int g = reg_of_off(off);
    if (g < 0)
        forget(t, reg_of_off(off - 1));
    return g;
}

bool rc_load(struct tctx *t, int host, int32_t off, unsigned size)
{
    int g = cached_gpr(t, off);
    if (g < 0)
        return false;
    int h = slot_host[slot_for(t, g, true)];
    if (size >= 4)
        emit_mov_rr(&t->e, size, host, h);
    else
        emit_movzx_rr(&t->e, size, host, h);
    return true;
}

bool rc_store(struct tctx *t, int32_t off, unsigned size, int host)
{
    int g = cached_gpr(t, off);
    if (g < 0)
        return false;
    int s = slot_for(t, g, size < 4);
    /* 32-bit writes zero-extend; 8- and 16-bit writes merge */
    emit_mov_rr(&t->e, size, slot_host[s], host);
    t->rc.dirty |= (uint8_t)(1u << s);
    return true;
}

void rc_forget(struct tctx *t, int32_t off)
{
    int g = reg_of_off(off);
    if (t->rc_on && g >= 0)
        forget(t, g);
}
