/* The arithmetic heart of the interpreter: every integer ALU operation of
 * x86 on a lazy-flags record (struct cpu_cc, cpu/cpu.h). Each function
 * computes its result and records just enough in *cc to produce the six
 * arithmetic flags later (cpu/flags.c merges them into RFLAGS). The hot
 * operations (add/sub/cmp/logic/inc/dec/neg and the condition test) are
 * static inline here; the rest live in cpu/alu.c.
 *
 * Conventions for every function:
 * - size is the operand size in bytes: 1, 2, 4 or 8.
 * - Inputs may carry garbage above `size`; they are truncated first.
 * - Results are returned truncated to `size` (zero-extended to 64 bits).
 *   Writing them back is the caller's job, including the 64-bit mode rule
 *   that a 32-bit destination register is zero-extended to 64 bits.
 * - Nothing here raises an exception: divide and AAM return -1 where the
 *   CPU raises #DE and leave *cc and the outputs untouched, so the caller
 *   raises before any state changes.
 * - Flags the SDM calls "undefined" are set the way this project's
 *   reference host (AMD EPYC, Zen) sets them; tests/unit/test_alu.c checks
 *   all six flags against the host, undefined ones included:
 *     AND OR XOR TEST     AF = 0
 *     SHL SHR SAR         AF = 1; OF for counts > 1: SHL MSB(res)^CF,
 *                         SHR and SAR 0; CF for byte/word counts beyond
 *                         the width: 0
 *     ROL ROR RCL RCR     OF for every count: ROL/RCL MSB(res)^CF,
 *                         ROR/RCR MSB(res)^MSB-1(res); a byte/word ROL/ROR
 *                         by a multiple of the width still sets CF and OF
 *     SHLD SHRD           AF = 1; OF as for SHL/ROR; 16-bit counts > 16 see
 *                         cpu/alu.c
 *     MUL IMUL            SF ZF AF PF unchanged
 *     DIV IDIV            CF OF unchanged, SF ZF PF = 0, AF = 1
 *     DAA DAS             OF = signed overflow of AL +/- the adjustment
 *     AAA AAS             OF SF ZF PF of the 16-bit AX +/- 0x106
 *     AAM                 CF OF AF = 0;  AAD: flags of AL + AH*imm (byte)
 *     BT BTS BTR BTC      OF SF AF PF unchanged (ZF unchanged by the SDM)
 *     BSF BSR             CF OF SF AF PF unchanged
 *     LZCNT TZCNT         OF unchanged, SF AF PF = 0
 *     ANDN BZHI BLS*      AF = 0, PF from the result; BEXTR SF = 0, AF = 1
 * - Register write-back facts measured on the host, for the caller: a
 *   32-bit shift/rotate by a masked count of 0 still zero-extends the
 *   64-bit register; a 32-bit BSF/BSR with a zero source leaves all 64
 *   bits unchanged; a 16-bit BSWAP clears the low 16 bits only.
 *
 * Lazy-flags scheme (enum cc_op): cc->res is always the truncated result;
 * cc->dst and cc->src the truncated first and second operands.
 *   ADD/SUB        a+b / a-b;   ADC/SBB: the same with carry/borrow in = 1
 *                  (a carry in of 0 records ADD/SUB)
 *   INC/DEC        like ADD/SUB with src = 1; CF kept in cc->flags
 *   LOGIC          CF = OF = AF = 0; ZF, SF, PF from res
 *   RES            ZF, SF, PF from res; CF, OF, AF as FL_ bits in flags
 *   EAGER          all six as FL_ bits in cc->flags
 */
#ifndef CPU_ALU_H
#define CPU_ALU_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/cpu.h"

static inline uint64_t alu_mask(unsigned size)
{
    return ~0ULL >> (64 - 8 * size);
}

static inline unsigned alu_bits(unsigned size)
{
    return size * 8;
}

/* --- reading the lazy flags (one flag at a time, no full materialising) */

static inline bool cc_cf(const struct cpu_cc *cc)
{
    switch (cc->op) {
    case CC_OP_ADD: return cc->res < cc->dst;
    case CC_OP_ADC: return cc->res <= cc->dst;
    case CC_OP_SUB: return cc->dst < cc->src;
    case CC_OP_SBB: return cc->dst <= cc->src;
    case CC_OP_LOGIC: return false;
    default: return cc->flags & FL_CF;   /* INC, DEC, RES, EAGER */
    }
}

static inline bool cc_zf(const struct cpu_cc *cc)
{
    if (cc->op == CC_OP_EAGER)
        return cc->flags & FL_ZF;
    return cc->res == 0;
}

static inline bool cc_sf(const struct cpu_cc *cc)
{
    if (cc->op == CC_OP_EAGER)
        return cc->flags & FL_SF;
    return (cc->res >> (alu_bits(cc->size) - 1)) & 1;
}

static inline bool cc_pf(const struct cpu_cc *cc)
{
    if (cc->op == CC_OP_EAGER)
        return cc->flags & FL_PF;
    return !__builtin_parity((unsigned)(cc->res & 0xff));
}

static inline bool cc_of(const struct cpu_cc *cc)
{
    unsigned sh = alu_bits(cc->size) - 1;
    switch (cc->op) {
    case CC_OP_ADD: case CC_OP_ADC: case CC_OP_INC:
        return (((cc->dst ^ cc->res) & (cc->src ^ cc->res)) >> sh) & 1;
    case CC_OP_SUB: case CC_OP_SBB: case CC_OP_DEC:
        return (((cc->dst ^ cc->src) & (cc->dst ^ cc->res)) >> sh) & 1;
    case CC_OP_LOGIC: return false;
    default: return cc->flags & FL_OF;   /* RES, EAGER */
    }
}

static inline bool cc_af(const struct cpu_cc *cc)
{
    switch (cc->op) {
    case CC_OP_ADD: case CC_OP_ADC: case CC_OP_INC:
    case CC_OP_SUB: case CC_OP_SBB: case CC_OP_DEC:
        return (cc->dst ^ cc->src ^ cc->res) & 0x10;
    case CC_OP_LOGIC: return false;
    default: return cc->flags & FL_AF;   /* RES, EAGER */
    }
}

/* All six arithmetic flags as FL_ bits (cpu/flags.c). */
uint64_t cc_flags(const struct cpu_cc *cc);

/* Make the flags eager: afterwards cc->op == CC_OP_EAGER. */
static inline void cc_set_eager(struct cpu_cc *cc, uint64_t flags)
{
    cc->op = CC_OP_EAGER;
    cc->flags = flags & FL_ARITH;
}

/* Replace some flags (mask of FL_ bits) and keep the others. */
static inline void cc_update(struct cpu_cc *cc, uint64_t mask, uint64_t val)
{
    cc_set_eager(cc, (cc_flags(cc) & ~mask) | (val & mask));
}

/* The 16 conditions of Jcc/SETcc/CMOVcc (cond 0..15, the low nibble of
 * the opcode). A CMP followed by a branch takes the direct route. */
static inline bool cc_cond(const struct cpu_cc *cc, unsigned cond)
{
    bool r;
    unsigned sh = 64 - alu_bits(cc->size);
    switch ((cond >> 1) & 7) {
    case 0: r = cc_of(cc); break;
    case 1: r = cc_cf(cc); break;
    case 2: r = cc_zf(cc); break;
    case 3:
        if (cc->op == CC_OP_SUB)
            r = cc->dst <= cc->src;
        else
            r = cc_cf(cc) || cc_zf(cc);
        break;
    case 4: r = cc_sf(cc); break;
    case 5: r = cc_pf(cc); break;
    case 6:
        if (cc->op == CC_OP_SUB)
            r = (int64_t)(cc->dst << sh) < (int64_t)(cc->src << sh);
        else
            r = cc_sf(cc) != cc_of(cc);
        break;
    default:
        if (cc->op == CC_OP_SUB)
            r = (int64_t)(cc->dst << sh) <= (int64_t)(cc->src << sh);
        else
            r = cc_zf(cc) || cc_sf(cc) != cc_of(cc);
        break;
    }
    return r ^ (cond & 1);
}

/* --- add, subtract, logic: the hot path ------------------------------- */

static inline uint64_t alu_record(struct cpu_cc *cc, uint32_t op,
                                  unsigned size, uint64_t dst, uint64_t src,
                                  uint64_t res)
{
    cc->op = op;
    cc->size = size;
    cc->dst = dst;
    cc->src = src;
    cc->res = res;
    return res;
}

/* ADD, XADD (the caller swaps): CF OF AF SF ZF PF as the SDM says. */
static inline uint64_t alu_add(struct cpu_cc *cc, uint64_t a, uint64_t b,
                               unsigned size)
{
    uint64_t m = alu_mask(size);
    a &= m;
    b &= m;
    return alu_record(cc, CC_OP_ADD, size, a, b, (a + b) & m);
}

/* ADC: the carry in is CF of *cc. */
static inline uint64_t alu_adc(struct cpu_cc *cc, uint64_t a, uint64_t b,
                               unsigned size)
{
    uint64_t m = alu_mask(size);
    unsigned c = cc_cf(cc);
    a &= m;
    b &= m;
    return alu_record(cc, c ? CC_OP_ADC : CC_OP_ADD, size, a, b,
                      (a + b + c) & m);
}

static inline uint64_t alu_sub(struct cpu_cc *cc, uint64_t a, uint64_t b,
                               unsigned size)
{
    uint64_t m = alu_mask(size);
    a &= m;
    b &= m;
    return alu_record(cc, CC_OP_SUB, size, a, b, (a - b) & m);
}

/* SBB: the borrow in is CF of *cc. */
static inline uint64_t alu_sbb(struct cpu_cc *cc, uint64_t a, uint64_t b,
                               unsigned size)
{
    uint64_t m = alu_mask(size);
    unsigned c = cc_cf(cc);
    a &= m;
    b &= m;
    return alu_record(cc, c ? CC_OP_SBB : CC_OP_SUB, size, a, b,
                      (a - b - c) & m);
}

/* CMP, and SCAS/CMPS: flags of a - b, nothing written. */
static inline void alu_cmp(struct cpu_cc *cc, uint64_t a, uint64_t b,
                           unsigned size)
{
    alu_sub(cc, a, b, size);
}

/* NEG: flags of 0 - a (CF = a != 0). */
static inline uint64_t alu_neg(struct cpu_cc *cc, uint64_t a, unsigned size)
{
    return alu_sub(cc, 0, a, size);
}

/* INC/DEC: as ADD/SUB of 1, CF unchanged. */
static inline uint64_t alu_inc(struct cpu_cc *cc, uint64_t a, unsigned size)
{
    uint64_t m = alu_mask(size);
    cc->flags = cc_cf(cc) ? FL_CF : 0;
    a &= m;
    return alu_record(cc, CC_OP_INC, size, a, 1, (a + 1) & m);
}

static inline uint64_t alu_dec(struct cpu_cc *cc, uint64_t a, unsigned size)
{
    uint64_t m = alu_mask(size);
    cc->flags = cc_cf(cc) ? FL_CF : 0;
    a &= m;
    return alu_record(cc, CC_OP_DEC, size, a, 1, (a - 1) & m);
}

/* AND/OR/XOR/TEST: CF = OF = 0; AF (undefined) = 0 as on Zen. */
static inline uint64_t alu_logic(struct cpu_cc *cc, uint64_t res,
                                 unsigned size)
{
    cc->op = CC_OP_LOGIC;
    cc->size = size;
    cc->res = res & alu_mask(size);
    return cc->res;
}

static inline uint64_t alu_and(struct cpu_cc *cc, uint64_t a, uint64_t b,
                               unsigned size)
{
    return alu_logic(cc, a & b, size);
}

static inline uint64_t alu_or(struct cpu_cc *cc, uint64_t a, uint64_t b,
                              unsigned size)
{
    return alu_logic(cc, a | b, size);
}

static inline uint64_t alu_xor(struct cpu_cc *cc, uint64_t a, uint64_t b,
                               unsigned size)
{
    return alu_logic(cc, a ^ b, size);
}

static inline void alu_test(struct cpu_cc *cc, uint64_t a, uint64_t b,
                            unsigned size)
{
    alu_logic(cc, a & b, size);
}

/* CMPXCHG: flags of CMP acc, dst; true when equal (then dst := src). */
static inline bool alu_cmpxchg(struct cpu_cc *cc, uint64_t acc, uint64_t dst,
                               unsigned size)
{
    alu_sub(cc, acc, dst, size);
    return cc->res == 0;
}

/* CMPXCHG8B/16B (ZF only), CLC/STC/CMC and SAHF go through cc_update(),
 * e.g. cc_update(cc, FL_ZF, equal ? FL_ZF : 0) or, for SAHF,
 * cc_update(cc, FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF, ah); LAHF reads
 * cc_flags(cc) (bit 1 set). */

/* --- shifts and rotates (cpu/alu.c) ------------------------------------
 * `count` is the raw count operand (CL or imm8). It is masked to 5 bits,
 * or 6 bits when size == 8. A masked count of 0 changes no flag. */
uint64_t alu_shl(struct cpu_cc *cc, uint64_t a, unsigned count,
                 unsigned size);
uint64_t alu_shr(struct cpu_cc *cc, uint64_t a, unsigned count,
                 unsigned size);
uint64_t alu_sar(struct cpu_cc *cc, uint64_t a, unsigned count,
                 unsigned size);
/* ROL/ROR change CF and OF only; the rest of the flags stay. */
uint64_t alu_rol(struct cpu_cc *cc, uint64_t a, unsigned count,
                 unsigned size);
uint64_t alu_ror(struct cpu_cc *cc, uint64_t a, unsigned count,
                 unsigned size);
/* RCL/RCR rotate through CF of *cc (size+1 bits: count mod 9 for bytes,
 * mod 17 for words after masking); change CF and OF only. */
uint64_t alu_rcl(struct cpu_cc *cc, uint64_t a, unsigned count,
                 unsigned size);
uint64_t alu_rcr(struct cpu_cc *cc, uint64_t a, unsigned count,
                 unsigned size);
/* SHLD/SHRD: shift `a`, filling from `b`. size 2, 4 or 8. A 16-bit count
 * above 16 (undefined) gives what Zen gives: `b` rotated by count - 16. */
uint64_t alu_shld(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned count,
                  unsigned size);
uint64_t alu_shrd(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned count,
                  unsigned size);

/* --- multiply and divide (cpu/alu.c) ---------------------------------
 * MUL/IMUL: the full product of two size-byte operands; returns the low
 * half and stores the high half in *hi (hi may be NULL: the 2- and
 * 3-operand IMUL keep only the low half). For size 1 the caller forms
 * AX = hi << 8 | lo. CF = OF = (the high half is not just the extension of
 * the low one); SF ZF AF PF unchanged. */
uint64_t alu_mul(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned size,
                 uint64_t *hi);
uint64_t alu_imul(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned size,
                  uint64_t *hi);

/* DIV/IDIV of the double-size dividend hi:lo by `divisor` (for size 1:
 * hi = AH, lo = AL). Returns 0 with *quot and *rem set, or -1 for #DE
 * (divisor 0, or quotient does not fit, including IDIV of the most
 * negative dividend by -1); on -1 nothing is changed. */
int alu_div(struct cpu_cc *cc, uint64_t lo, uint64_t hi, uint64_t divisor,
            unsigned size, uint64_t *quot, uint64_t *rem);
int alu_idiv(struct cpu_cc *cc, uint64_t lo, uint64_t hi, uint64_t divisor,
             unsigned size, uint64_t *quot, uint64_t *rem);

/* --- BCD (legacy modes only; the decoder gives #UD in 64-bit mode) ---- */
uint8_t alu_daa(struct cpu_cc *cc, uint8_t al);
uint8_t alu_das(struct cpu_cc *cc, uint8_t al);
uint16_t alu_aaa(struct cpu_cc *cc, uint16_t ax);
uint16_t alu_aas(struct cpu_cc *cc, uint16_t ax);
/* AAM imm8: returns -1 for #DE when base is 0, else 0 with *ax set. */
int alu_aam(struct cpu_cc *cc, uint8_t al, uint8_t base, uint16_t *ax);
uint16_t alu_aad(struct cpu_cc *cc, uint16_t ax, uint8_t base);

/* --- bit operations (cpu/alu.c) ---------------------------------------
 * BT/BTS/BTR/BTC: `bit` is taken modulo the operand width (for a memory
 * operand the caller first moves the address by the bit offset's upper
 * part). CF = the old bit; the other flags unchanged.
 * alu_bt returns the tested bit; the others return the new value. */
bool alu_bt(struct cpu_cc *cc, uint64_t a, uint64_t bit, unsigned size);
uint64_t alu_bts(struct cpu_cc *cc, uint64_t a, uint64_t bit, unsigned size);
uint64_t alu_btr(struct cpu_cc *cc, uint64_t a, uint64_t bit, unsigned size);
uint64_t alu_btc(struct cpu_cc *cc, uint64_t a, uint64_t bit, unsigned size);
/* BSF/BSR: ZF = (src == 0); then the destination keeps `old` (as AMD
 * documents and Intel does; the caller then writes nothing at all).
 * Returns the new destination value. */
uint64_t alu_bsf(struct cpu_cc *cc, uint64_t src, uint64_t old,
                 unsigned size);
uint64_t alu_bsr(struct cpu_cc *cc, uint64_t src, uint64_t old,
                 unsigned size);
/* POPCNT: ZF = (src == 0), CF OF SF AF PF = 0. */
uint64_t alu_popcnt(struct cpu_cc *cc, uint64_t src, unsigned size);
/* LZCNT/TZCNT: the count (size*8 for 0); CF = (src == 0), ZF = (count ==
 * 0). The caller decodes F3 0F BD/BC as BSR/BSF when CPUID lacks them. */
uint64_t alu_lzcnt(struct cpu_cc *cc, uint64_t src, unsigned size);
uint64_t alu_tzcnt(struct cpu_cc *cc, uint64_t src, unsigned size);
/* --- BMI1/BMI2/ADX (cpu/alu.c); the caller checks CPUID. size 4 or 8.
 * Defined flags per the SDM, undefined ones as Zen (see cpu/alu.c).
 * SHLX/SHRX/SARX/RORX/MULX touch no flags and need no helper. */
uint64_t alu_andn(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned size);
uint64_t alu_bextr(struct cpu_cc *cc, uint64_t src, uint64_t ctl,
                   unsigned size);
uint64_t alu_bzhi(struct cpu_cc *cc, uint64_t src, uint64_t index,
                  unsigned size);
uint64_t alu_blsi(struct cpu_cc *cc, uint64_t src, unsigned size);
uint64_t alu_blsmsk(struct cpu_cc *cc, uint64_t src, unsigned size);
uint64_t alu_blsr(struct cpu_cc *cc, uint64_t src, unsigned size);
uint64_t alu_pdep(uint64_t src, uint64_t mask, unsigned size);
uint64_t alu_pext(uint64_t src, uint64_t mask, unsigned size);
/* ADCX: a + b + CF, only CF changes; ADOX: the same through OF. */
uint64_t alu_adcx(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned size);
uint64_t alu_adox(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned size);

/* BSWAP (no flags). size 4 or 8; size 2 (undefined) gives what the host
 * gives: 0 in the low 16 bits. */
uint64_t alu_bswap(uint64_t a, unsigned size);

#endif
