/* Runs an SSE/MMX operation on the host's vector unit (an x86-64 host has
 * SSE4.2 on every machine tandem targets): the rows of cpu/sse_host_ops.h,
 * each one instruction executed on xmm1/xmm2/xmm0 with the guest MXCSR
 * loaded, all exceptions masked on the host, and the flags read back. */
#include <pthread.h>
#include "cpu/fpu_internal.h"

#define SSE_HOST_OP(name, map, op, pfx, size, flags, mn)                      \
    static void sse_h_##name(struct sse_io *io)                               \
    {                                                                         \
        uint32_t host;                                                        \
        __asm__ volatile("stmxcsr %[host]\n\t"                                \
                         "ldmxcsr %[mx]\n\t"                                  \
                         "movdqu %[a], %%xmm1\n\t"                            \
                         "movdqu %[b], %%xmm2\n\t"                            \
                         "movdqu %[c], %%xmm0\n\t" mn " %%xmm2, %%xmm1\n\t"   \
                         "movdqu %%xmm1, %[a]\n\t"                            \
                         "stmxcsr %[mx]\n\t"                                  \
                         "ldmxcsr %[host]"                                    \
                         : [a] "+m"(io->a), [mx] "+m"(io->mxcsr),             \
                           [host] "=m"(host)                                  \
                         : [b] "m"(io->b), [c] "m"(io->c)                     \
                         : "xmm0", "xmm1", "xmm2");                           \
    }
#include "cpu/sse_host_ops.h"
#undef SSE_HOST_OP

const struct sse_host_row sse_host_rows[SH_COUNT] = {
#define SSE_HOST_OP(name, map, op, pfx, size, flags, mn)                      \
    [SH_##name] = { map, op, pfx, size, flags, sse_h_##name },
#include "cpu/sse_host_ops.h"
#undef SSE_HOST_OP
};

static unsigned pfx_index(unsigned pfx)
{
    return pfx == 0x66 ? 1 : pfx == 0xf3 ? 2 : pfx == 0xf2 ? 3 : 0;
}

/* first row of each (map, opcode, prefix); rows sharing one are adjacent
 * in the list */
static int16_t first[4][256][4];
static pthread_once_t first_once = PTHREAD_ONCE_INIT;

static void build_first(void)
{
    memset(first, 0xff, sizeof(first));
    for (int i = SH_COUNT - 1; i >= 0; i--) {
        const struct sse_host_row *r = &sse_host_rows[i];
        first[r->map & 3][r->opcode][pfx_index(r->pfx)] = (int16_t)i;
    }
}

const struct sse_host_row *sse_host_find(unsigned map, unsigned opcode,
                                         unsigned pfx, unsigned imm)
{
    pthread_once(&first_once, build_first);
    int i = first[map & 3][opcode & 0xff][pfx_index(pfx)];
    if (i < 0)
        return NULL;
    for (; i < SH_COUNT; i++) {
        const struct sse_host_row *r = &sse_host_rows[i];
        if (r->map != map || r->opcode != opcode || r->pfx != pfx)
            return NULL;
        if (!(r->flags & SF_HASIMM) || (r->flags >> 8) == imm)
            return r;
    }
    return NULL;
}

/* any result lane a denormal (a tiny result, exact when UE is not set) */
static bool denormal_result(const struct sse_host_row *row, const uint8_t *r)
{
    unsigned w = row->flags & SF_F32 ? 4 : 8;
    unsigned n = row->flags & SF_SCALAR ? w : row->flags & SF_LOW64 ? 8 : 16;
    for (unsigned i = 0; i < n; i += w) {
        uint64_t v = 0;
        memcpy(&v, r + i, w);
        bool den = w == 4 ? (v & 0x7f800000u) == 0 && (v & 0x7fffffu)
                          : (v & 0x7ff0000000000000ull) == 0 &&
                            (v & 0xfffffffffffffull);
        if (den)
            return true;
    }
    return false;
}

void sse_host_call(struct cpu *cpu, const struct sse_host_row *row,
                   struct sse_io *io)
{
    uint32_t guest = io->mxcsr;
    struct sse_io in = *io;
    bool ue_unmasked = !(guest & (MXCSR_UE << 7));
    /* FTZ applies only while UE is masked */
    io->mxcsr = (guest & ~(MXCSR_EXC | (ue_unmasked ? MXCSR_FTZ : 0))) |
                0x1f80;
    row->fn(io);
    if (!(row->flags & SF_MXCSR))
        return;
    uint32_t flags = io->mxcsr & MXCSR_EXC;
    /* with UE unmasked every tiny result underflows, exact ones too (the
     * masked run flags only inexact ones): an exact tiny result is a
     * denormal */
    if ((row->flags & (SF_F32 | SF_F64)) && ue_unmasked &&
        !(flags & MXCSR_UE) && denormal_result(row, io->a))
        flags |= MXCSR_UE;
    uint32_t unmasked = flags & ~(guest >> 7) & MXCSR_EXC;
    if ((unmasked & (MXCSR_UE | 0x08)) && !(unmasked & 7))
        flags = sse_xm_flags(row, &in, guest, flags);
    sse_mxcsr_raise(cpu, flags);
}
