/* The x86-64 encoder behind jit/emit_x86.h: prefixes (0x66, REX), ModRM and
 * SIB with the RSP/R12 and RBP/R13 special cases, immediates, and rel32
 * branches. Every public function is one host instruction. */
#include "jit/emit_x86.h"

#include <string.h>

void emit_init(struct emit *e, uint8_t *buf, size_t size)
{
    e->buf = buf;
    e->size = size;
    e->pos = 0;
    e->overflow = false;
}

void emit_byte(struct emit *e, uint8_t b)
{
    if (e->pos < e->size)
        e->buf[e->pos++] = b;
    else
        e->overflow = true;
}

void emit_u32(struct emit *e, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        emit_byte(e, (uint8_t)(v >> (8 * i)));
}

static void emit_imm(struct emit *e, unsigned size, int64_t v)
{
    for (unsigned i = 0; i < size; i++)
        emit_byte(e, (uint8_t)((uint64_t)v >> (8 * i)));
}

/* An operand of the ModRM r/m field: a register or memory */
struct rm {
    bool is_mem;
    int reg;
    struct emit_mem m;
};

static struct rm rm_reg(int r)
{
    return (struct rm){ .is_mem = false, .reg = r };
}

static struct rm rm_mem(struct emit_mem m)
{
    return (struct rm){ .is_mem = true, .m = m };
}

/* A byte register 4..7 needs a REX prefix to mean SPL..DIL, not AH..BH */
static bool needs_rex_byte(unsigned size, int r)
{
    return size == 1 && r >= 4 && r <= 7;
}

/* Prefixes, opcode, ModRM/SIB/displacement. `reg` is the ModRM.reg value
 * (a register or a /digit); byte_reg says whether reg names a byte
 * register. */
static void encode(struct emit *e, unsigned size, bool rex_w,
                   const uint8_t *op, unsigned oplen, int reg, bool byte_reg,
                   struct rm rm)
{
    if (size == 2)
        emit_byte(e, 0x66);
    unsigned rex = 0;
    if (rex_w)
        rex |= 8;
    if (reg & 8)
        rex |= 4;
    if (rm.is_mem) {
        if (rm.m.index != HR_NONE && (rm.m.index & 8))
            rex |= 2;
        if (rm.m.base != HR_NONE && (rm.m.base & 8))
            rex |= 1;
    } else {
        if (rm.reg & 8)
            rex |= 1;
    }
    bool force = (byte_reg && needs_rex_byte(1, reg)) ||
                 (size == 1 && !rm.is_mem && needs_rex_byte(1, rm.reg));
    if (rex || force)
        emit_byte(e, (uint8_t)(0x40 | rex));
    for (unsigned i = 0; i < oplen; i++)
        emit_byte(e, op[i]);
    unsigned r = (unsigned)reg & 7;
    if (!rm.is_mem) {
        emit_byte(e, (uint8_t)(0xc0 | (r << 3) | (rm.reg & 7)));
        return;
    }
    const struct emit_mem *m = &rm.m;
    static const uint8_t scale_bits[9] = { 0, 0, 1, 0, 2, 0, 0, 0, 3 };
    unsigned ss = scale_bits[m->scale & 15];
    if (m->base == HR_NONE) {
        /* [index*scale + disp32] or [disp32] via a SIB with no base */
        unsigned idx = m->index == HR_NONE ? 4 : (unsigned)m->index & 7;
        emit_byte(e, (uint8_t)(0x04 | (r << 3)));
        emit_byte(e, (uint8_t)((ss << 6) | (idx << 3) | 5));
        emit_u32(e, (uint32_t)m->disp);
        return;
    }
    unsigned b = (unsigned)m->base & 7;
    unsigned mod;
    if (m->disp == 0 && b != 5)
        mod = 0;
    else if (m->disp >= -128 && m->disp <= 127)
        mod = 1;
    else
        mod = 2;
    if (m->index != HR_NONE || b == 4) {
        unsigned idx = m->index == HR_NONE ? 4 : (unsigned)m->index & 7;
        emit_byte(e, (uint8_t)((mod << 6) | (r << 3) | 4));
        emit_byte(e, (uint8_t)((ss << 6) | (idx << 3) | b));
    } else {
        emit_byte(e, (uint8_t)((mod << 6) | (r << 3) | b));
    }
    if (mod == 1)
        emit_byte(e, (uint8_t)m->disp);
    else if (mod == 2)
        emit_u32(e, (uint32_t)m->disp);
}

void emit_op_modrm(struct emit *e, uint8_t pfx, bool rex_w, const uint8_t *op,
                   unsigned oplen, int reg, int rm, struct emit_mem m)
{
    if (pfx)
        emit_byte(e, pfx);
    encode(e, 4, rex_w, op, oplen, reg, false, rm >= 0 ? rm_reg(rm) : rm_mem(m));
}

/* one-byte opcode with the byte form at op and the wide form at op+1 */
static void encode_bw(struct emit *e, unsigned size, uint8_t op, int reg,
                      bool byte_reg, struct rm rm)
{
    uint8_t o = size == 1 ? op : (uint8_t)(op + 1);
    encode(e, size, size == 8, &o, 1, reg, byte_reg && size == 1, rm);
}

/* --- moves --- */

void emit_mov_rr(struct emit *e, unsigned size, int dst, int src)
{
    encode_bw(e, size, 0x88, src, true, rm_reg(dst));
}

void emit_mov_ri(struct emit *e, unsigned size, int dst, uint64_t imm)
{
    if (size == 8 && imm <= 0xffffffffull)
        size = 4;   /* a 32-bit move zero-extends */
    if (size == 8 && (int64_t)imm == (int32_t)imm) {
        uint8_t op = 0xc7;
        encode(e, 8, true, &op, 1, 0, false, rm_reg(dst));
        emit_imm(e, 4, (int64_t)imm);
        return;
    }
    if (size == 2)
        emit_byte(e, 0x66);
    unsigned rex = (size == 8 ? 8 : 0) | (dst & 8 ? 1 : 0);
    if (rex || needs_rex_byte(size, dst))
        emit_byte(e, (uint8_t)(0x40 | rex));
    emit_byte(e, (uint8_t)((size == 1 ? 0xb0 : 0xb8) | (dst & 7)));
    emit_imm(e, size, (int64_t)imm);
}

void emit_load(struct emit *e, unsigned size, int dst, struct emit_mem m)
{
    if (size <= 2) {
        uint8_t op[2] = { 0x0f, size == 1 ? 0xb6 : 0xb7 };
        encode(e, 4, false, op, 2, dst, false, rm_mem(m));
        return;
    }
    uint8_t op = 0x8b;
    encode(e, size, size == 8, &op, 1, dst, false, rm_mem(m));
}

void emit_load_into(struct emit *e, unsigned size, int dst, struct emit_mem m)
{
    encode_bw(e, size, 0x8a, dst, true, rm_mem(m));
}

void emit_load_sx(struct emit *e, unsigned dst_size, unsigned src_size,
                  int dst, struct emit_mem m)
{
    if (src_size == 4) {
        uint8_t op = 0x63;   /* MOVSXD */
        encode(e, 8, true, &op, 1, dst, false, rm_mem(m));
        return;
    }
    uint8_t op[2] = { 0x0f, src_size == 1 ? 0xbe : 0xbf };
    encode(e, dst_size, dst_size == 8, op, 2, dst, false, rm_mem(m));
}

void emit_store(struct emit *e, unsigned size, struct emit_mem m, int src)
{
    encode_bw(e, size, 0x88, src, true, rm_mem(m));
}

void emit_store_imm(struct emit *e, unsigned size, struct emit_mem m,
                    int32_t imm)
{
    encode_bw(e, size, 0xc6, 0, false, rm_mem(m));
    emit_imm(e, size == 8 ? 4 : size, imm);
}

void emit_movzx_rr(struct emit *e, unsigned src_size, int dst, int src)
{
    if (src_size >= 4) {
        emit_mov_rr(e, src_size, dst, src);
        return;
    }
    uint8_t op[2] = { 0x0f, src_size == 1 ? 0xb6 : 0xb7 };
    bool force = src_size == 1 && needs_rex_byte(1, src);
    /* encode() forces REX for byte r/m registers only when size == 1 */
    if (force && !(dst & 8) && !(src & 8))
        emit_byte(e, 0x40);
    encode(e, 4, false, op, 2, dst, false, rm_reg(src));
}

void emit_movsx_rr(struct emit *e, unsigned dst_size, unsigned src_size,
                   int dst, int src)
{
    if (src_size == 4) {
        uint8_t op = 0x63;
        encode(e, 8, true, &op, 1, dst, false, rm_reg(src));
        return;
    }
    uint8_t op[2] = { 0x0f, src_size == 1 ? 0xbe : 0xbf };
    bool force = src_size == 1 && needs_rex_byte(1, src) && dst_size != 8 &&
                 !(dst & 8) && !(src & 8);
    if (dst_size == 2)
        emit_byte(e, 0x66);
    if (force)
        emit_byte(e, 0x40);
    encode(e, dst_size == 2 ? 4 : dst_size, dst_size == 8, op, 2, dst, false,
           rm_reg(src));
}

void emit_lea(struct emit *e, unsigned size, int dst, struct emit_mem m)
{
    uint8_t op = 0x8d;
    encode(e, size, size == 8, &op, 1, dst, false, rm_mem(m));
}

void emit_xchg_rr(struct emit *e, unsigned size, int a, int b)
{
    encode_bw(e, size, 0x86, a, true, rm_reg(b));
}

/* --- arithmetic --- */

void emit_alu_rr(struct emit *e, enum emit_alu op, unsigned size, int dst,
                 int src)
{
    encode_bw(e, size, (uint8_t)(op << 3), src, true, rm_reg(dst));
}

static void alu_imm(struct emit *e, enum emit_alu op, unsigned size,
                    struct rm rm, int32_t imm)
{
    if (size != 1 && imm >= -128 && imm <= 127) {
        uint8_t o = 0x83;
        encode(e, size, size == 8, &o, 1, op, false, rm);
        emit_imm(e, 1, imm);
        return;
    }
    encode_bw(e, size, 0x80, op, false, rm);
    emit_imm(e, size == 8 ? 4 : size, imm);
}

void emit_alu_ri(struct emit *e, enum emit_alu op, unsigned size, int dst,
                 int32_t imm)
{
    alu_imm(e, op, size, rm_reg(dst), imm);
}

void emit_alu_rm(struct emit *e, enum emit_alu op, unsigned size, int dst,
                 struct emit_mem m)
{
    encode_bw(e, size, (uint8_t)((op << 3) | 2), dst, true, rm_mem(m));
}

void emit_alu_mr(struct emit *e, enum emit_alu op, unsigned size,
                 struct emit_mem m, int src)
{
    encode_bw(e, size, (uint8_t)(op << 3), src, true, rm_mem(m));
}

void emit_alu_mi(struct emit *e, enum emit_alu op, unsigned size,
                 struct emit_mem m, int32_t imm)
{
    alu_imm(e, op, size, rm_mem(m), imm);
}

void emit_test_rr(struct emit *e, unsigned size, int a, int b)
{
    encode_bw(e, size, 0x84, b, true, rm_reg(a));
}

void emit_test_ri(struct emit *e, unsigned size, int r, int32_t imm)
{
    encode_bw(e, size, 0xf6, 0, false, rm_reg(r));
    emit_imm(e, size == 8 ? 4 : size, imm);
}

void emit_test_mi(struct emit *e, unsigned size, struct emit_mem m,
                  int32_t imm)
{
    encode_bw(e, size, 0xf6, 0, false, rm_mem(m));
    emit_imm(e, size == 8 ? 4 : size, imm);
}

void emit_inc(struct emit *e, unsigned size, int r)
{
    encode_bw(e, size, 0xfe, 0, false, rm_reg(r));
}

void emit_dec(struct emit *e, unsigned size, int r)
{
    encode_bw(e, size, 0xfe, 1, false, rm_reg(r));
}

void emit_not(struct emit *e, unsigned size, int r)
{
    encode_bw(e, size, 0xf6, 2, false, rm_reg(r));
}

void emit_neg(struct emit *e, unsigned size, int r)
{
    encode_bw(e, size, 0xf6, 3, false, rm_reg(r));
}

void emit_muldiv(struct emit *e, enum emit_muldiv op, unsigned size, int r)
{
    encode_bw(e, size, 0xf6, (int)op, false, rm_reg(r));
}

void emit_imul_rr(struct emit *e, unsigned size, int dst, int src)
{
    uint8_t op[2] = { 0x0f, 0xaf };
    encode(e, size, size == 8, op, 2, dst, false, rm_reg(src));
}

void emit_shift_ri(struct emit *e, enum emit_shift op, unsigned size, int r,
                   uint8_t count)
{
    if (count == 1) {
        encode_bw(e, size, 0xd0, op, false, rm_reg(r));
        return;
    }
    encode_bw(e, size, 0xc0, op, false, rm_reg(r));
    emit_byte(e, count);
}

void emit_rorx(struct emit *e, unsigned size, int dst, int src,
               uint8_t count)
{
    /* VEX.LZ.F2.0F3A.W0/W1 F0 /r ib: the three-byte VEX form, R and B
     * inverted, no vvvv operand */
    emit_byte(e, 0xc4);
    emit_byte(e, (uint8_t)((dst & 8 ? 0 : 0x80) | 0x40 |
                           (src & 8 ? 0 : 0x20) | 0x03));
    emit_byte(e, (uint8_t)((size == 8 ? 0x80 : 0) | 0x78 | 0x03));
    emit_byte(e, 0xf0);
    emit_byte(e, (uint8_t)(0xc0 | (dst & 7) << 3 | (src & 7)));
    emit_byte(e, count);
}

void emit_shift_rcl(struct emit *e, enum emit_shift op, unsigned size, int r)
{
    encode_bw(e, size, 0xd2, op, false, rm_reg(r));
}

void emit_bswap(struct emit *e, unsigned size, int r)
{
    unsigned rex = (size == 8 ? 8 : 0) | (r & 8 ? 1 : 0);
    if (rex)
        emit_byte(e, (uint8_t)(0x40 | rex));
    emit_byte(e, 0x0f);
    emit_byte(e, (uint8_t)(0xc8 | (r & 7)));
}

/* BT/BTS/BTR/BTC (op 4..7, the 0F BA /digit), BSF/BSR, POPCNT and
 * SHLD/SHRD on registers; size 2, 4 or 8 */
void emit_bt_ri(struct emit *e, enum emit_bt op, unsigned size, int r,
                uint8_t bit)
{
    uint8_t o[2] = { 0x0f, 0xba };
    encode(e, size, size == 8, o, 2, op, false, rm_reg(r));
    emit_byte(e, bit);
}

void emit_bt_rr(struct emit *e, enum emit_bt op, unsigned size, int r,
                int bit)
{
    uint8_t o[2] = { 0x0f, (uint8_t)(0xa3 + 8 * (op - EB_BT)) };
    encode(e, size, size == 8, o, 2, bit, false, rm_reg(r));
}

void emit_bsf(struct emit *e, unsigned size, int dst, int src)
{
    uint8_t o[2] = { 0x0f, 0xbc };
    encode(e, size, size == 8, o, 2, dst, false, rm_reg(src));
}

void emit_bsr(struct emit *e, unsigned size, int dst, int src)
{
    uint8_t o[2] = { 0x0f, 0xbd };
    encode(e, size, size == 8, o, 2, dst, false, rm_reg(src));
}

void emit_popcnt(struct emit *e, unsigned size, int dst, int src)
{
    uint8_t o[2] = { 0x0f, 0xb8 };
    if (size == 2)
        emit_byte(e, 0x66);
    emit_byte(e, 0xf3);   /* the mandatory prefix last, before REX */
    encode(e, size == 2 ? 4 : size, size == 8, o, 2, dst, false, rm_reg(src));
}

void emit_shxd_ri(struct emit *e, bool left, unsigned size, int dst, int src,
                  uint8_t count)
{
    uint8_t o[2] = { 0x0f, left ? 0xa4 : 0xac };
    encode(e, size, size == 8, o, 2, src, false, rm_reg(dst));
    emit_byte(e, count);
}

void emit_shxd_rcl(struct emit *e, bool left, unsigned size, int dst, int src)
{
    uint8_t o[2] = { 0x0f, left ? 0xa5 : 0xad };
    encode(e, size, size == 8, o, 2, src, false, rm_reg(dst));
}

/* --- flags and conditions --- */

void emit_setcc(struct emit *e, enum emit_cc cc, int r)
{
    uint8_t op[2] = { 0x0f, (uint8_t)(0x90 | cc) };
    encode(e, 1, false, op, 2, 0, false, rm_reg(r));
}

void emit_setcc_m(struct emit *e, enum emit_cc cc, struct emit_mem m)
{
    uint8_t op[2] = { 0x0f, (uint8_t)(0x90 | cc) };
    encode(e, 1, false, op, 2, 0, false, rm_mem(m));
}

void emit_cmov(struct emit *e, enum emit_cc cc, unsigned size, int dst,
               int src)
{
    uint8_t op[2] = { 0x0f, (uint8_t)(0x40 | cc) };
    encode(e, size, size == 8, op, 2, dst, false, rm_reg(src));
}

void emit_pushfq(struct emit *e)
{
    emit_byte(e, 0x9c);
}

void emit_popfq(struct emit *e)
{
    emit_byte(e, 0x9d);
}

/* --- stack and control --- */

void emit_push(struct emit *e, int r)
{
    if (r & 8)
        emit_byte(e, 0x41);
    emit_byte(e, (uint8_t)(0x50 | (r & 7)));
}

void emit_pop(struct emit *e, int r)
{
    if (r & 8)
        emit_byte(e, 0x41);
    emit_byte(e, (uint8_t)(0x58 | (r & 7)));
}

void emit_ret(struct emit *e)
{
    emit_byte(e, 0xc3);
}

void emit_call_r(struct emit *e, int r)
{
    uint8_t op = 0xff;
    encode(e, 4, false, &op, 1, 2, false, rm_reg(r));
}

void emit_jmp_r(struct emit *e, int r)
{
    uint8_t op = 0xff;
    encode(e, 4, false, &op, 1, 4, false, rm_reg(r));
}

void emit_call_abs(struct emit *e, const void *fn)
{
    emit_mov_ri(e, 8, HR_RAX, (uint64_t)(uintptr_t)fn);
    emit_call_r(e, HR_RAX);
}

void emit_patch_rel32(uint8_t *at, const uint8_t *target)
{
    int32_t rel = (int32_t)(target - (at + 4));
    memcpy(at, &rel, 4);
}

static size_t emit_rel32(struct emit *e, const uint8_t *target)
{
    size_t at = e->pos;
    emit_u32(e, 0);
    if (target && !e->overflow)
        emit_patch_rel32(e->buf + at, target);
    return at;
}

size_t emit_jmp(struct emit *e, const uint8_t *target)
{
    emit_byte(e, 0xe9);
    return emit_rel32(e, target);
}

size_t emit_jcc(struct emit *e, enum emit_cc cc, const uint8_t *target)
{
    emit_byte(e, 0x0f);
    emit_byte(e, (uint8_t)(0x80 | cc));
    return emit_rel32(e, target);
}
