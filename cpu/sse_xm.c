/* Exact MXCSR flags for an SSE operation that meets an unmasked overflow or
 * underflow. The hardware then delivers no result and reports, for each
 * lane whose overflow/underflow is unmasked, PE for the rounding with an
 * unbounded exponent rather than for the masked response (the value
 * cpu/sse_host.c computed). Each result lane is re-run alone (the other
 * lanes hold 1.0, which raises nothing) for its own flags, and the
 * unbounded rounding is done on the host x87 with the lane's precision. */
#include "cpu/fpu_internal.h"

enum lane_op { L_ADD, L_SUB, L_MUL, L_DIV, L_CVT };

struct layout {
    enum lane_op op;
    bool horizontal, addsub;
};

static bool row_layout(const struct sse_host_row *row, struct layout *l)
{
    *l = (struct layout){ L_ADD, false, false };
    switch (row - sse_host_rows) {
    case SH_addps: case SH_addpd: case SH_addss: case SH_addsd: break;
    case SH_subps: case SH_subpd: case SH_subss: case SH_subsd:
        l->op = L_SUB; break;
    case SH_mulps: case SH_mulpd: case SH_mulss: case SH_mulsd:
        l->op = L_MUL; break;
    case SH_divps: case SH_divpd: case SH_divss: case SH_divsd:
        l->op = L_DIV; break;
    case SH_cvtpd2ps: case SH_cvtsd2ss: l->op = L_CVT; break;
    case SH_haddps: case SH_haddpd: l->horizontal = true; break;
    case SH_hsubps: case SH_hsubpd: l->op = L_SUB; l->horizontal = true; break;
    case SH_addsubps: case SH_addsubpd: l->addsub = true; break;
    default: return false;
    }
    return true;
}

static void put_one(uint8_t *p, unsigned w)
{
    static const uint32_t one32 = 0x3f800000u;
    static const uint64_t one64 = 0x3ff0000000000000ull;
    memcpy(p, w == 4 ? (const void *)&one32 : (const void *)&one64, w);
}

static bool is_denormal(const uint8_t *p, unsigned w)
{
    uint64_t v = 0;
    memcpy(&v, p, w);
    return w == 4 ? (v & 0x7f800000u) == 0 && (v & 0x7fffffu)
                  : (v & 0x7ff0000000000000ull) == 0 &&
                    (v & 0xfffffffffffffull);
}

/* an SSE value as an 80-bit one (exact; DAZ makes denormals zero) */
static struct fx80 widen(const uint8_t *p, unsigned w, bool daz)
{
    struct fpu_host_io io = { .fcw = 0x037f };
    memcpy(io.mem, p, w);
    if (daz && is_denormal(p, w))
        memset(io.mem, 0, w - 1), io.mem[w - 1] &= 0x80;
    fpu_host_run(w == 4 ? FH_FLD_M32 : FH_FLD_M64, &io);
    return io.out[0];
}

/* x op y rounded to the lane's precision with an unbounded exponent */
static bool unbounded_inexact(enum lane_op op, const uint8_t *x,
                              const uint8_t *y, unsigned w_src,
                              unsigned w_res, uint32_t mxcsr)
{
    static const enum fpu_host_op ops[] = {
        [L_ADD] = FH_ADDP, [L_SUB] = FH_SUBP, [L_MUL] = FH_MULP,
        [L_DIV] = FH_DIVP, [L_CVT] = FH_MULP,
    };
    bool daz = mxcsr & 0x40;
    struct fpu_host_io io = {
        .fcw = (uint16_t)(0x3f | (w_res == 4 ? 0 : 0x200) |
                          ((mxcsr >> 13) & 3) << 10),
    };
    io.in1 = widen(x, w_src, daz);
    if (op == L_CVT) {
        uint8_t one[8];
        put_one(one, 8);
        io.in0 = widen(one, 8, false);
    } else {
        io.in0 = widen(y, w_src, daz);
    }
    fpu_host_run(ops[op], &io);
    return io.fsw & FSW_PE;
}

uint32_t sse_xm_flags(const struct sse_host_row *row, const struct sse_io *in,
                      uint32_t mxcsr, uint32_t flags)
{
    struct layout l;
    if (!row_layout(row, &l))
        return flags;
    unsigned w_res = row->flags & SF_F32 ? 4 : 8;
    unsigned w_src = l.op == L_CVT ? 8 : w_res;
    unsigned lanes = row->flags & SF_SCALAR ? 1
                   : row->flags & SF_LOW64 ? 2 : 16 / w_res;
    uint32_t unmasked = ~(mxcsr >> 7) & MXCSR_EXC;
    uint32_t total = 0;
    for (unsigned k = 0; k < lanes; k++) {
        struct sse_io t = { .mxcsr = (mxcsr & ~(MXCSR_EXC | MXCSR_FTZ)) |
                                     0x1f80 };
        for (unsigned i = 0; i < 16; i += w_src) {
            put_one(t.a + i, w_src);
            put_one(t.b + i, w_src);
        }
        if (l.op == L_CVT)
            for (unsigned i = 0; i < 16; i += 4)
                put_one(t.a + i, 4);
        const uint8_t *x, *y;
        uint8_t *tx, *ty;
        if (l.horizontal) {
            unsigned half = lanes / 2, j = 2 * (k % half) * w_src;
            const uint8_t *src = k < half ? in->a : in->b;
            uint8_t *dst = k < half ? t.a : t.b;
            x = src + j, y = src + j + w_src;
            tx = dst + j, ty = dst + j + w_src;
        } else if (l.op == L_CVT) {
            x = in->b + k * w_src, y = NULL, tx = t.b + k * w_src, ty = NULL;
        } else {
            x = in->a + k * w_src, y = in->b + k * w_src;
            tx = t.a + k * w_src, ty = t.b + k * w_src;
        }
        memcpy(tx, x, w_src);
        if (ty)
            memcpy(ty, y, w_src);
        row->fn(&t);
        uint32_t f = t.mxcsr & MXCSR_EXC;
        if (is_denormal(t.a + k * w_res, w_res))
            f |= MXCSR_UE;
        if (f & unmasked & (MXCSR_UE | 0x08)) {
            enum lane_op op = l.addsub ? (k % 2 ? L_ADD : L_SUB) : l.op;
            f &= ~0x20u;
            if (unbounded_inexact(op, x, y, w_src, w_res, mxcsr))
                f |= 0x20u;
        }
        total |= f;
    }
    return total;
}
