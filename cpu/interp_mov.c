/* Interpreter: data movement: MOV in all its forms, MOVZX/MOVSX/MOVSXD,
 * LEA, XCHG (and the NOP at 90), CBW/CWD families, LAHF/SAHF, XLAT,
 * BOUND, the segment loads (MOV Sreg, LDS..LGS), MOVBE, MOVNTI, and the
 * instructions that do nothing an interpreter can see (NOP forms, PAUSE,
 * fences, prefetches, CLFLUSH's checks). */
#include "cpu/interp.h"

static void op_mov(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn_size(insn);
    opnd_set(cpu, insn, 0, size, opnd_get(cpu, insn, 1, size));
}

static int64_t sext(uint64_t v, unsigned size)
{
    unsigned sh = 64 - 8 * size;
    return (int64_t)(v << sh) >> sh;
}

static void op_movsxd(struct cpu *cpu, const struct x86_insn *insn)
{
    uint64_t v = (uint64_t)sext(rm_get(cpu, insn, 4), 4);
    reg_set(cpu, insn, insn->reg, insn->opsize, v);
}

static void op_movzx(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned from = opnd_bytes(insn, insn->op->opnd[1].size);
    reg_set(cpu, insn, insn->reg, insn->opsize, rm_get(cpu, insn, from));
}

static void op_movsx(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned from = opnd_bytes(insn, insn->op->opnd[1].size);
    uint64_t v = (uint64_t)sext(rm_get(cpu, insn, from), from);
    reg_set(cpu, insn, insn->reg, insn->opsize, v);
}

static void op_lea(struct cpu *cpu, const struct x86_insn *insn)
{
    reg_set(cpu, insn, insn->reg, insn->opsize, insn_ea(cpu, insn));
}

static void op_xchg(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn_size(insn);
    if (insn->op->opnd[0].method == OM_Z) {
        if (insn->rm == R_AX)  /* 90: NOP, even in 64-bit mode */
            return;
        uint64_t a = gpr_get(cpu, R_AX, size);
        gpr_set(cpu, R_AX, size, gpr_get(cpu, insn->rm, size));
        gpr_set(cpu, insn->rm, size, a);
        return;
    }
    uint64_t a = rm_get(cpu, insn, size);
    uint64_t b = reg_get(cpu, insn, insn->reg, size);
    rm_set(cpu, insn, size, b);     /* memory first: it may fault */
    reg_set(cpu, insn, insn->reg, size, a);
}

static void op_nop(struct cpu *cpu, const struct x86_insn *insn)
{
}

static void op_cbw(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    uint64_t v = (uint64_t)sext(cpu->s.gpr[R_AX], size / 2);
    gpr_set(cpu, R_AX, size, v);
}

static void op_cwd(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    bool neg = (cpu->s.gpr[R_AX] >> (size * 8 - 1)) & 1;
    gpr_set(cpu, R_DX, size, neg ? ~0ull : 0);
}

static void op_lahf(struct cpu *cpu, const struct x86_insn *insn)
{
    uint64_t f = (cpu_get_rflags(cpu) & 0xd5) | FL_FIXED1;
    cpu->s.gpr[R_AX] = (cpu->s.gpr[R_AX] & ~0xff00ull) | (f << 8);
}

static void op_sahf(struct cpu *cpu, const struct x86_insn *insn)
{
    uint64_t ah = (cpu->s.gpr[R_AX] >> 8) & 0xff;
    cc_update(&cpu->cc, FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF, ah);
}

static void op_xlat(struct cpu *cpu, const struct x86_insn *insn)
{
    uint64_t a = (cpu->s.gpr[R_BX] + (cpu->s.gpr[R_AX] & 0xff)) &
                 addr_mask(insn->addrsize);
    gpr_set(cpu, R_AX, 1, data_read(cpu, insn->mem_seg, a, 1));
}

static void op_bound(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    uint64_t ea = insn_ea(cpu, insn);
    int64_t idx = sext(reg_get(cpu, insn, insn->reg, size), size);
    int64_t lo = sext(data_read(cpu, insn->mem_seg, ea, size), size);
    int64_t hi = sext(data_read(cpu, insn->mem_seg,
                               (ea + size) & addr_mask(insn->addrsize), size),
                      size);
    if (idx < lo || idx > hi)
        cpu_raise_noerr(cpu, EXC_BR);
}

/* --- segment registers --- */

static void op_movseg(struct cpu *cpu, const struct x86_insn *insn)
{
    uint16_t sel = (uint16_t)rm_get(cpu, insn, 2);
    cpu_load_seg(cpu, insn->reg, sel);
    if (insn->reg == S_SS)
        cpu->s.interrupt_shadow |= SHADOW_MOV_SS;
}

static void op_movfromseg(struct cpu *cpu, const struct x86_insn *insn)
{
    uint16_t sel = cpu->s.seg[insn->reg].selector;
    if (insn->mod == 3)
        gpr_set(cpu, insn->rm, insn->opsize, sel);
    else
        rm_set(cpu, insn, 2, sel);
}

/* LDS/LES/LSS/LFS/LGS: offset and selector from memory */
static void load_far_pointer(struct cpu *cpu, const struct x86_insn *insn,
                             int seg)
{
    unsigned size = insn->opsize;
    uint64_t ea = insn_ea(cpu, insn);
    uint64_t off = data_read(cpu, insn->mem_seg, ea, size);
    uint16_t sel = (uint16_t)data_read(cpu, insn->mem_seg,
                                      (ea + size) & addr_mask(insn->addrsize),
                                      2);
    cpu_load_seg(cpu, seg, sel);
    reg_set(cpu, insn, insn->reg, size, off);
}

static void op_les(struct cpu *cpu, const struct x86_insn *insn)
{
    load_far_pointer(cpu, insn, S_ES);
}

static void op_lds(struct cpu *cpu, const struct x86_insn *insn)
{
    load_far_pointer(cpu, insn, S_DS);
}

static void op_lss(struct cpu *cpu, const struct x86_insn *insn)
{
    load_far_pointer(cpu, insn, S_SS);
}

static void op_lfs(struct cpu *cpu, const struct x86_insn *insn)
{
    load_far_pointer(cpu, insn, S_FS);
}

static void op_lgs(struct cpu *cpu, const struct x86_insn *insn)
{
    load_far_pointer(cpu, insn, S_GS);
}

/* --- MOVBE, MOVNTI, CLFLUSH --- */

static void op_movbe(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    if (insn->op->opnd[0].method == OM_G) {
        uint64_t v = rm_get(cpu, insn, size);
        reg_set(cpu, insn, insn->reg, size,
                size == 2 ? (uint64_t)__builtin_bswap16((uint16_t)v)
                          : alu_bswap(v, size));
    } else {
        uint64_t v = reg_get(cpu, insn, insn->reg, size);
        rm_set(cpu, insn, size,
               size == 2 ? (uint64_t)__builtin_bswap16((uint16_t)v)
                         : alu_bswap(v, size));
    }
}

static void op_movnti(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize == 8 ? 8 : 4;
    rm_set(cpu, insn, size, reg_get(cpu, insn, insn->reg, size));
}

static void op_clflush(struct cpu *cpu, const struct x86_insn *insn)
{
    /* no caches to flush; the segment checks still apply */
    cpu_seg_to_lin(cpu, insn->mem_seg, insn_ea(cpu, insn), 1, ACC_READ);
}

void interp_mov_register(interp_fn *t)
{
    t[I_MOV] = op_mov;
    t[I_MOVSXD] = op_movsxd;
    t[I_MOVZX] = op_movzx;
    t[I_MOVSX] = op_movsx;
    t[I_LEA] = op_lea;
    t[I_XCHG] = op_xchg;
    t[I_NOP] = op_nop;
    t[I_PAUSE] = op_nop;
    t[I_PREFETCH] = op_nop;
    t[I_PREFETCHW] = op_nop;
    t[I_LFENCE] = op_nop;
    t[I_MFENCE] = op_nop;
    t[I_SFENCE] = op_nop;
    t[I_CLFLUSH] = op_clflush;
    t[I_CBW] = op_cbw;
    t[I_CWD] = op_cwd;
    t[I_LAHF] = op_lahf;
    t[I_SAHF] = op_sahf;
    t[I_XLAT] = op_xlat;
    t[I_BOUND] = op_bound;
    t[I_MOVSEG] = op_movseg;
    t[I_MOVFROMSEG] = op_movfromseg;
    t[I_LES] = op_les;
    t[I_LDS] = op_lds;
    t[I_LSS] = op_lss;
    t[I_LFS] = op_lfs;
    t[I_LGS] = op_lgs;
    t[I_MOVBE] = op_movbe;
    t[I_MOVNTI] = op_movnti;
}
