/* The less frequent ALU operations of cpu/alu.h: shifts and rotates,
 * multiply and divide, BCD adjustment and bit operations. Each function
 * computes CF/OF/AF (and the rest where they are not plain functions of the
 * result) eagerly and records them with CC_OP_RES, or for the ones that
 * keep some flags, merges into the current flags with cc_update().
 * Undefined flags are chosen to match AMD Zen; each function says how. */
#include "cpu/alu.h"

static uint64_t msb(uint64_t v, unsigned size)
{
    return (v >> (alu_bits(size) - 1)) & 1;
}

static int64_t sext(uint64_t v, unsigned size)
{
    unsigned sh = 64 - alu_bits(size);
    return (int64_t)(v << sh) >> sh;
}

/* ZF SF PF from res, CF OF AF given */
static uint64_t record_res(struct cpu_cc *cc, uint64_t res, unsigned size,
                           bool cf, bool of, bool af)
{
    cc->op = CC_OP_RES;
    cc->size = size;
    cc->res = res;
    cc->flags = (cf ? FL_CF : 0) | (of ? FL_OF : 0) | (af ? FL_AF : 0);
    return res;
}

static unsigned shift_count(unsigned count, unsigned size)
{
    return count & (size == 8 ? 0x3f : 0x1f);
}

/* --- shifts: AF = 1; OF for counts above 1 as Zen: the count-1 formula
 * applied to the last one-bit step (SHL: MSB(res) ^ CF; SHR: 0; SAR: 0). */

uint64_t alu_shl(struct cpu_cc *cc, uint64_t a, unsigned count, unsigned size)
{
    unsigned c = shift_count(count, size), bits = alu_bits(size);
    uint64_t m = alu_mask(size), res;
    bool cf;
    if (!c)
        return a & m;
    a &= m;
    res = (a << c) & m;
    cf = c <= bits ? (a >> (bits - c)) & 1 : 0;
    return record_res(cc, res, size, cf, msb(res, size) ^ cf, true);
}

uint64_t alu_shr(struct cpu_cc *cc, uint64_t a, unsigned count, unsigned size)
{
    unsigned c = shift_count(count, size);
    uint64_t m = alu_mask(size), res;
    if (!c)
        return a & m;
    a &= m;
    res = a >> c;
    return record_res(cc, res, size, (a >> (c - 1)) & 1,
                      c == 1 && msb(a, size), true);
}

uint64_t alu_sar(struct cpu_cc *cc, uint64_t a, unsigned count, unsigned size)
{
    unsigned c = shift_count(count, size);
    uint64_t m = alu_mask(size);
    int64_t sa = sext(a, size);
    if (!c)
        return a & m;
    return record_res(cc, (uint64_t)(sa >> c) & m, size, (sa >> (c - 1)) & 1,
                      false, true);
}

/* --- rotates: only CF and OF change; OF by the count-1 formula on the
 * final result for every count. */

static uint64_t rotate_flags(struct cpu_cc *cc, uint64_t res, bool cf, bool of)
{
    cc_update(cc, FL_CF | FL_OF, (cf ? FL_CF : 0) | (of ? FL_OF : 0));
    return res;
}

uint64_t alu_rol(struct cpu_cc *cc, uint64_t a, unsigned count, unsigned size)
{
    unsigned c = shift_count(count, size), bits = alu_bits(size);
    uint64_t m = alu_mask(size), res;
    a &= m;
    if (!c)
        return a;
    c %= bits;
    res = c ? ((a << c) | (a >> (bits - c))) & m : a;
    return rotate_flags(cc, res, res & 1, msb(res, size) ^ (res & 1));
}

uint64_t alu_ror(struct cpu_cc *cc, uint64_t a, unsigned count, unsigned size)
{
    unsigned c = shift_count(count, size), bits = alu_bits(size);
    uint64_t m = alu_mask(size), res;
    a &= m;
    if (!c)
        return a;
    c %= bits;
    res = c ? ((a >> c) | (a << (bits - c))) & m : a;
    return rotate_flags(cc, res, msb(res, size),
                        msb(res, size) ^ ((res >> (bits - 2)) & 1));
}

/* the rotation count of RCL/RCR: over size*8 + 1 bits */
static unsigned rc_count(unsigned count, unsigned size)
{
    unsigned c = shift_count(count, size);
    if (size == 1)
        return c % 9;
    if (size == 2)
        return c % 17;
    return c;
}

uint64_t alu_rcl(struct cpu_cc *cc, uint64_t a, unsigned count, unsigned size)
{
    unsigned c = rc_count(count, size), bits = alu_bits(size);
    uint64_t m = alu_mask(size), res, cf = cc_cf(cc);
    a &= m;
    if (!shift_count(count, size))
        return a;
    if (c) {
        res = (a << c) | (cf << (c - 1));
        if (c > 1)
            res |= a >> (bits + 1 - c);
        res &= m;
        cf = (a >> (bits - c)) & 1;
    } else {
        res = a;
    }
    return rotate_flags(cc, res, cf, msb(res, size) ^ cf);
}

uint64_t alu_rcr(struct cpu_cc *cc, uint64_t a, unsigned count, unsigned size)
{
    unsigned c = rc_count(count, size), bits = alu_bits(size);
    uint64_t m = alu_mask(size), res, cf = cc_cf(cc);
    a &= m;
    if (!shift_count(count, size))
        return a;
    if (c) {
        res = (a >> c) | (cf << (bits - c));
        if (c > 1)
            res |= a << (bits + 1 - c);
        res &= m;
        cf = (a >> (c - 1)) & 1;
    } else {
        res = a;
    }
    return rotate_flags(cc, res, cf,
                        msb(res, size) ^ ((res >> (bits - 2)) & 1));
}

/* --- double shifts, as Zen does for the undefined cases: AF = 1; OF for
 * every count is the count-1 formula on the last one-bit step: SHLD
 * MSB(res) ^ CF, SHRD MSB(res) ^ MSB-1(res). 16-bit counts 16..31: SHLD by
 * 16 gives OF = CF; above 16 Zen rotates b alone by count-16 (SHLD left,
 * SHRD right) with CF = 0, and SHLD also OF = 0. */

uint64_t alu_shld(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned count,
                  unsigned size)
{
    unsigned c = shift_count(count, size), bits = alu_bits(size);
    uint64_t m = alu_mask(size), res;
    bool cf;
    a &= m;
    b &= m;
    if (!c)
        return a;
    if (c > bits) {
        c -= bits;
        res = ((b << c) | (b >> (bits - c))) & m;
        return record_res(cc, res, size, false, false, true);
    }
    res = ((a << c) | (b >> (bits - c))) & m;
    cf = (a >> (bits - c)) & 1;
    return record_res(cc, res, size, cf, size == 2 && c == 16 ? cf
                                                  : msb(res, size) ^ cf,
                      true);
}

uint64_t alu_shrd(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned count,
                  unsigned size)
{
    unsigned c = shift_count(count, size), bits = alu_bits(size);
    uint64_t m = alu_mask(size), res;
    bool cf;
    a &= m;
    b &= m;
    if (!c)
        return a;
    if (c > bits) {
        c -= bits;
        res = ((b >> c) | (b << (bits - c))) & m;
        cf = false;
    } else {
        res = ((a >> c) | (b << (bits - c))) & m;
        cf = (a >> (c - 1)) & 1;
    }
    return record_res(cc, res, size, cf,
                      msb(res, size) ^ ((res >> (bits - 2)) & 1), true);
}

/* --- multiply: SF ZF AF PF are left as they were, as Zen does. */

static uint64_t mul_flags(struct cpu_cc *cc, uint64_t lo, bool ov)
{
    cc_update(cc, FL_CF | FL_OF, ov ? FL_CF | FL_OF : 0);
    return lo;
}

uint64_t alu_mul(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned size,
                 uint64_t *hi)
{
    uint64_t m = alu_mask(size);
    unsigned __int128 p = (unsigned __int128)(a & m) * (b & m);
    uint64_t lo = (uint64_t)p & m, h = (uint64_t)(p >> alu_bits(size)) & m;
    if (hi)
        *hi = h;
    return mul_flags(cc, lo, h != 0);
}

uint64_t alu_imul(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned size,
                  uint64_t *hi)
{
    uint64_t m = alu_mask(size);
    __int128 p = (__int128)sext(a, size) * sext(b, size);
    uint64_t lo = (uint64_t)p & m;
    uint64_t h = (uint64_t)(p >> alu_bits(size)) & m;
    bool ov = (__int128)sext(lo, size) != p;
    if (hi)
        *hi = h;
    return mul_flags(cc, lo, ov);
}

/* --- divide: the undefined flags as Zen leaves them: CF and OF kept,
 * SF ZF PF cleared, AF set. */

static void div_flags(struct cpu_cc *cc)
{
    cc_update(cc, FL_SF | FL_ZF | FL_AF | FL_PF, FL_AF);
}

int alu_div(struct cpu_cc *cc, uint64_t lo, uint64_t hi, uint64_t divisor,
            unsigned size, uint64_t *quot, uint64_t *rem)
{
    uint64_t m = alu_mask(size);
    unsigned __int128 n = ((unsigned __int128)(hi & m) << alu_bits(size)) |
                          (lo & m);
    unsigned __int128 q;
    divisor &= m;
    if (!divisor)
        return -1;
    q = n / divisor;
    if (q > m)
        return -1;
    *quot = (uint64_t)q;
    *rem = (uint64_t)(n % divisor);
    div_flags(cc);
    return 0;
}

int alu_idiv(struct cpu_cc *cc, uint64_t lo, uint64_t hi, uint64_t divisor,
             unsigned size, uint64_t *quot, uint64_t *rem)
{
    uint64_t m = alu_mask(size);
    unsigned bits = alu_bits(size);
    /* the dividend as a 2*bits signed number; for size 8 that is the whole
     * __int128 */
    unsigned __int128 un = ((unsigned __int128)(hi & m) << bits) | (lo & m);
    __int128 n, q, d = sext(divisor, size);
    if (size < 8)
        n = (__int128)((int64_t)(uint64_t)(un << (64 - 2 * bits)) >>
                       (64 - 2 * bits));
    else
        n = (__int128)un;
    if (!d)
        return -1;
    if (size == 8 && d == -1 && hi == (1ULL << 63) && lo == 0)
        return -1;               /* -2^127 / -1 overflows __int128 too */
    q = n / d;
    if (q != (__int128)sext((uint64_t)q & m, size))
        return -1;
    *quot = (uint64_t)q & m;
    *rem = (uint64_t)(n % d) & m;
    div_flags(cc);
    return 0;
}

/* --- BCD. SF ZF PF from AL. DAA/DAS: OF (undefined) as Zen: the signed
 * overflow of AL plus (minus) the whole adjustment. */

uint8_t alu_daa(struct cpu_cc *cc, uint8_t al)
{
    bool cf = cc_cf(cc), af = cc_af(cc);
    uint8_t old = al;
    if ((al & 0xf) > 9 || af) {
        cf = cf || al > 0xf9;
        al += 6;
        af = true;
    }
    if (old > 0x99 || cc_cf(cc)) {
        al += 0x60;
        cf = true;
    } else {
        cf = false;
    }
    record_res(cc, al, 1, cf, ~old & al & 0x80, af);
    return al;
}

uint8_t alu_das(struct cpu_cc *cc, uint8_t al)
{
    bool cf = false, old_cf = cc_cf(cc), af = cc_af(cc);
    uint8_t old = al;
    if ((al & 0xf) > 9 || af) {
        cf = old_cf || al < 6;
        al -= 6;
        af = true;
    }
    if (old > 0x99 || old_cf) {
        al -= 0x60;
        cf = true;
    }
    record_res(cc, al, 1, cf, old & ~al & 0x80, af);
    return al;
}

/* AAA/AAS: the undefined OF SF ZF PF as Zen: those of the 16-bit
 * AX +/- 0x106 (or of AX when there is no adjustment), before AL is masked
 * to its low nibble. */
uint16_t alu_aaa(struct cpu_cc *cc, uint16_t ax)
{
    bool adj = (ax & 0xf) > 9 || cc_af(cc);
    uint16_t t = adj ? ax + 0x106 : ax;
    record_res(cc, t, 2, adj, ~ax & t & 0x8000, adj);
    return t & 0xff0f;
}

uint16_t alu_aas(struct cpu_cc *cc, uint16_t ax)
{
    bool adj = (ax & 0xf) > 9 || cc_af(cc);
    uint16_t t = adj ? ax - 0x106 : ax;
    record_res(cc, t, 2, adj, ax & ~t & 0x8000, adj);
    return t & 0xff0f;
}

/* AAM: CF OF AF (undefined) cleared, as Zen. */
int alu_aam(struct cpu_cc *cc, uint8_t al, uint8_t base, uint16_t *ax)
{
    if (!base)
        return -1;
    *ax = (uint16_t)((al / base) << 8 | (al % base));
    record_res(cc, al % base, 1, false, false, false);
    return 0;
}

/* AAD: the undefined CF OF AF as Zen: those of the byte addition
 * AL + AH * base. */
uint16_t alu_aad(struct cpu_cc *cc, uint16_t ax, uint8_t base)
{
    return (uint16_t)alu_add(cc, ax & 0xff, (ax >> 8) * base, 1);
}

/* --- bit operations */

bool alu_bt(struct cpu_cc *cc, uint64_t a, uint64_t bit, unsigned size)
{
    bool cf = (a >> (bit & (alu_bits(size) - 1))) & 1;
    cc_update(cc, FL_CF, cf ? FL_CF : 0);
    return cf;
}

uint64_t alu_bts(struct cpu_cc *cc, uint64_t a, uint64_t bit, unsigned size)
{
    alu_bt(cc, a, bit, size);
    return (a | 1ULL << (bit & (alu_bits(size) - 1))) & alu_mask(size);
}

uint64_t alu_btr(struct cpu_cc *cc, uint64_t a, uint64_t bit, unsigned size)
{
    alu_bt(cc, a, bit, size);
    return (a & ~(1ULL << (bit & (alu_bits(size) - 1)))) & alu_mask(size);
}

uint64_t alu_btc(struct cpu_cc *cc, uint64_t a, uint64_t bit, unsigned size)
{
    alu_bt(cc, a, bit, size);
    return (a ^ 1ULL << (bit & (alu_bits(size) - 1))) & alu_mask(size);
}

uint64_t alu_bsf(struct cpu_cc *cc, uint64_t src, uint64_t old, unsigned size)
{
    src &= alu_mask(size);
    cc_update(cc, FL_ZF, src ? 0 : FL_ZF);
    return src ? (uint64_t)__builtin_ctzll(src) : old & alu_mask(size);
}

uint64_t alu_bsr(struct cpu_cc *cc, uint64_t src, uint64_t old, unsigned size)
{
    src &= alu_mask(size);
    cc_update(cc, FL_ZF, src ? 0 : FL_ZF);
    return src ? (uint64_t)(63 - __builtin_clzll(src)) : old & alu_mask(size);
}

uint64_t alu_popcnt(struct cpu_cc *cc, uint64_t src, unsigned size)
{
    src &= alu_mask(size);
    cc_set_eager(cc, src ? 0 : FL_ZF);
    return (uint64_t)__builtin_popcountll(src);
}

/* LZCNT/TZCNT: SF AF PF cleared and OF kept, as Zen does */
static uint64_t count_flags(struct cpu_cc *cc, uint64_t src, uint64_t n)
{
    cc_update(cc, FL_CF | FL_ZF | FL_SF | FL_AF | FL_PF,
              (src ? 0 : FL_CF) | (n ? 0 : FL_ZF));
    return n;
}

uint64_t alu_lzcnt(struct cpu_cc *cc, uint64_t src, unsigned size)
{
    unsigned bits = alu_bits(size);
    uint64_t n;
    src &= alu_mask(size);
    n = src ? (uint64_t)(__builtin_clzll(src) - (64 - bits)) : bits;
    return count_flags(cc, src, n);
}

uint64_t alu_tzcnt(struct cpu_cc *cc, uint64_t src, unsigned size)
{
    uint64_t n;
    src &= alu_mask(size);
    n = src ? (uint64_t)__builtin_ctzll(src) : alu_bits(size);
    return count_flags(cc, src, n);
}

/* --- BMI1, BMI2, ADX. The SDM's undefined flags as Zen: ANDN, BZHI,
 * BLS*: AF = 0, PF (and BZHI's SF) from the result; BEXTR: PF from the
 * result, SF = 0, AF = 1. */

static uint64_t bmi_flags(struct cpu_cc *cc, uint64_t res, unsigned size,
                          bool cf)
{
    return record_res(cc, res, size, cf, false, false);
}

uint64_t alu_andn(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned size)
{
    return bmi_flags(cc, ~a & b & alu_mask(size), size, false);
}

uint64_t alu_bextr(struct cpu_cc *cc, uint64_t src, uint64_t ctl,
                   unsigned size)
{
    unsigned start = ctl & 0xff, len = (ctl >> 8) & 0xff;
    uint64_t res = 0;
    src &= alu_mask(size);
    if (start < 64)
        res = src >> start;
    if (len < 64)
        res &= (1ULL << len) - 1;
    /* Zen: SF = 0, AF = 1 */
    cc_set_eager(cc, (res ? 0 : FL_ZF) | FL_AF |
                     (__builtin_parity((unsigned)(res & 0xff)) ? 0 : FL_PF));
    return res;
}

uint64_t alu_bzhi(struct cpu_cc *cc, uint64_t src, uint64_t index,
                  unsigned size)
{
    unsigned n = index & 0xff;
    src &= alu_mask(size);
    if (n < alu_bits(size))
        src &= (1ULL << n) - 1;
    return bmi_flags(cc, src, size, n > alu_bits(size) - 1);
}

uint64_t alu_blsi(struct cpu_cc *cc, uint64_t src, unsigned size)
{
    src &= alu_mask(size);
    return bmi_flags(cc, src & -src, size, src != 0);
}

uint64_t alu_blsmsk(struct cpu_cc *cc, uint64_t src, unsigned size)
{
    src &= alu_mask(size);
    return bmi_flags(cc, (src ^ (src - 1)) & alu_mask(size), size, src == 0);
}

uint64_t alu_blsr(struct cpu_cc *cc, uint64_t src, unsigned size)
{
    src &= alu_mask(size);
    return bmi_flags(cc, src & (src - 1), size, src == 0);
}

uint64_t alu_pdep(uint64_t src, uint64_t mask, unsigned size)
{
    uint64_t res = 0, bit = 1;
    for (mask &= alu_mask(size); mask; mask &= mask - 1, bit <<= 1)
        if (src & bit)
            res |= mask & -mask;
    return res;
}

uint64_t alu_pext(uint64_t src, uint64_t mask, unsigned size)
{
    uint64_t res = 0, bit = 1;
    for (mask &= alu_mask(size); mask; mask &= mask - 1, bit <<= 1)
        if (src & mask & -mask)
            res |= bit;
    return res;
}

static uint64_t add_carry(uint64_t a, uint64_t b, bool cin, unsigned size,
                          bool *cout)
{
    uint64_t m = alu_mask(size), res;
    a &= m;
    b &= m;
    res = (a + b + cin) & m;
    *cout = cin ? res <= a : res < a;
    return res;
}

uint64_t alu_adcx(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned size)
{
    bool c;
    uint64_t res = add_carry(a, b, cc_cf(cc), size, &c);
    cc_update(cc, FL_CF, c ? FL_CF : 0);
    return res;
}

uint64_t alu_adox(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned size)
{
    bool c;
    uint64_t res = add_carry(a, b, cc_of(cc), size, &c);
    cc_update(cc, FL_OF, c ? FL_OF : 0);
    return res;
}

uint64_t alu_bswap(uint64_t a, unsigned size)
{
    if (size == 8)
        return __builtin_bswap64(a);
    if (size == 4)
        return __builtin_bswap32((uint32_t)a);
    return 0;
}
