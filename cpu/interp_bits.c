/* Interpreter: bit and condition instructions: BT/BTS/BTR/BTC (with the
 * bit-string addressing of a register offset into memory), BSF/BSR,
 * TZCNT/LZCNT/POPCNT, SETcc, CMOVcc, XADD, CMPXCHG, CMPXCHG8B/16B, BSWAP,
 * CRC32 and RDRAND/RDSEED. */
#include "cpu/interp.h"

#include <time.h>

/* --- BT family --- */

enum { BIT_TEST, BIT_SET, BIT_RESET, BIT_COMPLEMENT };

static uint64_t bit_apply(struct cpu_cc *cc, int kind, uint64_t v,
                          uint64_t bit, unsigned size)
{
    switch (kind) {
    case BIT_SET: return alu_bts(cc, v, bit, size);
    case BIT_RESET: return alu_btr(cc, v, bit, size);
    case BIT_COMPLEMENT: return alu_btc(cc, v, bit, size);
    default:
        alu_bt(cc, v, bit, size);
        return v;
    }
}

static void bit_op(struct cpu *cpu, const struct x86_insn *insn, int kind)
{
    unsigned size = insn->opsize, bits = size * 8;
    bool reg_offset = insn->op->opnd[1].method == OM_G;
    uint64_t off = reg_offset ? reg_get(cpu, insn, insn->reg, size)
                              : (uint64_t)insn->imm & 0xff;
    if (insn->mod == 3) {
        uint64_t v = reg_get(cpu, insn, insn->rm, size);
        uint64_t r = bit_apply(&cpu->cc, kind, v, off & (bits - 1), size);
        if (kind != BIT_TEST)
            reg_set(cpu, insn, insn->rm, size, r);
        return;
    }
    uint64_t ea = insn_ea(cpu, insn);
    if (reg_offset) {
        /* the register offset is signed and may address any word */
        int64_t soff = (int64_t)(off << (64 - bits)) >> (64 - bits);
        int64_t word = soff >> (size == 2 ? 4 : size == 4 ? 5 : 6);
        ea = (ea + (uint64_t)word * size) & addr_mask(insn->addrsize);
    }
    uint64_t v = data_read(cpu, insn->mem_seg, ea, size);
    struct cpu_cc cc = cpu->cc;   /* committed after the write */
    uint64_t r = bit_apply(&cc, kind, v, off & (bits - 1), size);
    if (kind != BIT_TEST)
        data_write(cpu, insn->mem_seg, ea, r, size);
    cpu->cc = cc;
}

static void op_bt(struct cpu *cpu, const struct x86_insn *insn)
{
    bit_op(cpu, insn, BIT_TEST);
}

static void op_bts(struct cpu *cpu, const struct x86_insn *insn)
{
    bit_op(cpu, insn, BIT_SET);
}

static void op_btr(struct cpu *cpu, const struct x86_insn *insn)
{
    bit_op(cpu, insn, BIT_RESET);
}

static void op_btc(struct cpu *cpu, const struct x86_insn *insn)
{
    bit_op(cpu, insn, BIT_COMPLEMENT);
}

/* --- scans and counts: Gv,Ev --- */

static void op_bsf(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    uint64_t src = rm_get(cpu, insn, size);
    uint64_t old = reg_get(cpu, insn, insn->reg, size);
    uint64_t r = alu_bsf(&cpu->cc, src, old, size);
    if (src & size_mask(size))
        reg_set(cpu, insn, insn->reg, size, r);
}

static void op_bsr(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    uint64_t src = rm_get(cpu, insn, size);
    uint64_t old = reg_get(cpu, insn, insn->reg, size);
    uint64_t r = alu_bsr(&cpu->cc, src, old, size);
    if (src & size_mask(size))
        reg_set(cpu, insn, insn->reg, size, r);
}

#define COUNT_OP(name, fn)                                                     \
    static void op_##name(struct cpu *cpu, const struct x86_insn *insn)       \
    {                                                                          \
        unsigned size = insn->opsize;                                          \
        uint64_t src = rm_get(cpu, insn, size);                                \
        reg_set(cpu, insn, insn->reg, size, fn(&cpu->cc, src, size));          \
    }

COUNT_OP(tzcnt, alu_tzcnt)
COUNT_OP(lzcnt, alu_lzcnt)
COUNT_OP(popcnt, alu_popcnt)

/* --- conditions --- */

static void op_setcc(struct cpu *cpu, const struct x86_insn *insn)
{
    rm_set(cpu, insn, 1, cc_cond(&cpu->cc, insn->opcode & 15));
}

static void op_cmovcc(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    uint64_t src = rm_get(cpu, insn, size);  /* read (and fault) always */
    if (cc_cond(&cpu->cc, insn->opcode & 15))
        reg_set(cpu, insn, insn->reg, size, src);
    else if (size == 4)
        gpr_set(cpu, insn->reg, 4, cpu->s.gpr[insn->reg]);
}

/* --- exchange and compare --- */

static void op_xadd(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn_size(insn);
    uint64_t dst = rm_get(cpu, insn, size);
    uint64_t src = reg_get(cpu, insn, insn->reg, size);
    struct cpu_cc cc = cpu->cc;   /* committed after a memory write */
    rm_set(cpu, insn, size, alu_add(&cc, dst, src, size));
    cpu->cc = cc;
    reg_set(cpu, insn, insn->reg, size, dst);
}

static void op_cmpxchg(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn_size(insn);
    uint64_t dst = rm_get(cpu, insn, size);
    uint64_t acc = gpr_get(cpu, R_AX, size);
    struct cpu_cc cc = cpu->cc;   /* committed after a memory write */
    bool equal = alu_cmpxchg(&cc, acc, dst, size);
    if (equal)
        rm_set(cpu, insn, size, reg_get(cpu, insn, insn->reg, size));
    else if (insn->mod != 3)   /* a locked access always writes */
        rm_set(cpu, insn, size, dst);
    cpu->cc = cc;
    if (!equal)
        gpr_set(cpu, R_AX, size, dst);
}

static void op_cmpxchg8b(struct cpu *cpu, const struct x86_insn *insn)
{
    uint64_t ea = insn_ea(cpu, insn);
    int seg = insn->mem_seg;
    if (insn->rex & 8) {  /* CMPXCHG16B */
        uint32_t r[4];
        cpu_cpuid(cpu, 1, 0, r);
        if (!(r[2] & (1u << 13)))
            raise_ud(cpu);
        uint64_t lin = cpu_seg_to_lin(cpu, seg, ea, 16, ACC_WRITE);
        if (lin & 15)
            raise_gp0(cpu);
        uint64_t lo = data_read(cpu, seg, ea, 8);
        uint64_t hi = data_read(cpu, seg, (ea + 8) & addr_mask(insn->addrsize),
                               8);
        bool eq = lo == cpu->s.gpr[R_AX] && hi == cpu->s.gpr[R_DX];
        uint64_t nlo = eq ? cpu->s.gpr[R_BX] : lo;
        uint64_t nhi = eq ? cpu->s.gpr[R_CX] : hi;
        data_write(cpu, seg, ea, nlo, 8);
        data_write(cpu, seg, (ea + 8) & addr_mask(insn->addrsize), nhi, 8);
        if (!eq) {
            cpu->s.gpr[R_AX] = lo;
            cpu->s.gpr[R_DX] = hi;
        }
        cc_update(&cpu->cc, FL_ZF, eq ? FL_ZF : 0);
        return;
    }
    uint64_t old = data_read(cpu, seg, ea, 8);
    uint64_t cmp = (uint32_t)cpu->s.gpr[R_AX] |
                   ((uint64_t)(uint32_t)cpu->s.gpr[R_DX] << 32);
    bool eq = old == cmp;
    uint64_t neu = (uint32_t)cpu->s.gpr[R_BX] |
                   ((uint64_t)(uint32_t)cpu->s.gpr[R_CX] << 32);
    data_write(cpu, seg, ea, eq ? neu : old, 8);
    if (!eq) {
        gpr_set(cpu, R_AX, 4, old);
        gpr_set(cpu, R_DX, 4, old >> 32);
    }
    cc_update(&cpu->cc, FL_ZF, eq ? FL_ZF : 0);
}

static void op_bswap(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    uint64_t v = alu_bswap(cpu->s.gpr[insn->rm], size);
    gpr_set(cpu, insn->rm, size, v);
}

/* CRC32 with the Castagnoli polynomial, bit-reflected (SSE4.2) */
static void op_crc32(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = opnd_bytes(insn, insn->op->opnd[1].size);
    uint64_t src = rm_get(cpu, insn, size);
    uint32_t crc = (uint32_t)cpu->s.gpr[insn->reg];
    for (unsigned i = 0; i < size; i++) {
        crc ^= (uint8_t)(src >> (8 * i));
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    }
    gpr_set(cpu, insn->reg, 4, crc);
}

/* RDRAND/RDSEED: a xorshift generator seeded from the host clock; the
 * guest only needs values that look random and CF = 1 */
static uint64_t rng_state;

static uint64_t next_random(void)
{
    if (!rng_state) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        rng_state = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^
                    0x9e3779b97f4a7c15ull;
    }
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void op_rdrand(struct cpu *cpu, const struct x86_insn *insn)
{
    gpr_set(cpu, insn->rm, insn->opsize, next_random());
    cc_set_eager(&cpu->cc, FL_CF);
}

void interp_bits_register(interp_fn *t)
{
    t[I_BT] = op_bt;
    t[I_BTS] = op_bts;
    t[I_BTR] = op_btr;
    t[I_BTC] = op_btc;
    t[I_BSF] = op_bsf;
    t[I_BSR] = op_bsr;
    t[I_TZCNT] = op_tzcnt;
    t[I_LZCNT] = op_lzcnt;
    t[I_POPCNT] = op_popcnt;
    t[I_SETCC] = op_setcc;
    t[I_CMOVCC] = op_cmovcc;
    t[I_XADD] = op_xadd;
    t[I_CMPXCHG] = op_cmpxchg;
    t[I_CMPXCHG8B] = op_cmpxchg8b;
    t[I_BSWAP] = op_bswap;
    t[I_CRC32] = op_crc32;
    t[I_RDRAND] = op_rdrand;
    t[I_RDSEED] = op_rdrand;
}
