/* The MMX/SSE entry point: the decoder routes every MMX/SSE row here. It
 * works out the mandatory prefix, checks CR0.EM/TS and CR4.OSFXSR, and runs
 * the instruction: moves, shuffles with immediates, conversions with GPRs,
 * state save/restore and the string instructions have their own files; the
 * element-wise arithmetic runs on the host vector unit (cpu/sse_host.c).
 * Also the operand helpers the sse_*.c files share. */
#include "cpu/fpu_internal.h"
#include "cpu/interp.h"

uint64_t sse_mm(struct cpu *cpu, unsigned i)
{
    return fx_get64(cpu, FX_ST + 16 * (i & 7));
}

void sse_set_mm(struct cpu *cpu, unsigned i, uint64_t v)
{
    fx_set64(cpu, FX_ST + 16 * (i & 7), v);
    fx_set16(cpu, FX_ST + 16 * (i & 7) + 8, 0xffff);
}

void sse_check_sse(struct cpu *cpu)
{
    if ((cpu->s.cr0 & CR0_EM) || !(cpu->s.cr4 & CR4_OSFXSR))
        cpu_raise_noerr(cpu, EXC_UD);
    if (cpu->s.cr0 & CR0_TS)
        cpu_raise_noerr(cpu, EXC_NM);
}

void sse_check_mmx(struct cpu *cpu)
{
    if (cpu->s.cr0 & CR0_EM)
        cpu_raise_noerr(cpu, EXC_UD);
    if (cpu->s.cr0 & CR0_TS)
        cpu_raise_noerr(cpu, EXC_NM);
    fpu_check_mf(cpu);
    /* the MMX registers are the physical x87 registers: TOP becomes 0 and
     * every tag valid */
    fpu_rotate_to_physical(cpu);
    cpu->s.xsave[FX_FTW] = 0xff;
}

void sse_mxcsr_raise(struct cpu *cpu, uint32_t flags)
{
    uint32_t mx = fx_get32(cpu, FX_MXCSR);
    flags &= MXCSR_EXC;
    uint32_t unmasked = flags & ~(mx >> 7) & MXCSR_EXC;
    if (unmasked) {
        /* an unmasked pre-computation exception (IE, DE, ZE) stops the
         * operation before the others could be detected */
        if (unmasked & 7)
            flags &= 7;
        fx_set32(cpu, FX_MXCSR, mx | flags);
        cpu_raise_noerr(cpu, (cpu->s.cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD);
    }
    fx_set32(cpu, FX_MXCSR, mx | flags);
}

static void check_align(struct sse_ctx *c, bool align)
{
    if (align && (vec_lin(c->cpu, c->insn, c->ea) & 15))
        cpu_raise(c->cpu, EXC_GP, 0);
}

void sse_read_rm(struct sse_ctx *c, bool mmx, void *buf, unsigned size,
                 bool align)
{
    memset(buf, 0, 16);
    if (c->insn->mod == 3) {
        if (mmx) {
            uint64_t v = sse_mm(c->cpu, c->insn->rm);
            memcpy(buf, &v, 8);
        } else {
            memcpy(buf, sse_xmm(c->cpu, c->insn->rm), 16);
        }
        return;
    }
    check_align(c, align && size == 16);
    vec_read(c->cpu, c->insn, c->ea, buf, size);
}

void sse_write_mem(struct sse_ctx *c, const void *buf, unsigned size,
                   bool align)
{
    check_align(c, align && size == 16);
    vec_write(c->cpu, c->insn, c->ea, buf, size);
}

uint64_t sse_gpr_rm(struct sse_ctx *c, unsigned size)
{
    uint64_t v = 0;
    if (c->insn->mod == 3)
        v = c->cpu->s.gpr[c->insn->rm & 15];
    else
        vec_read(c->cpu, c->insn, c->ea, &v, size);
    return size == 8 ? v : v & 0xffffffffull;
}

void sse_set_gpr(struct cpu *cpu, unsigned reg, uint64_t v, unsigned size)
{
    cpu->s.gpr[reg & 15] = size == 8 ? v : v & 0xffffffffull;
}

/* element-wise operations on the host; false if no row matches */
static bool exec_host(struct sse_ctx *c)
{
    const struct x86_insn *insn = c->insn;
    struct cpu *cpu = c->cpu;
    unsigned imm = 0;
    uint32_t mxcsr = fx_get32(cpu, FX_MXCSR);
    if (insn->map == MAP_0F && insn->opcode == 0xc2) {
        imm = insn->imm & 7;
    } else if (insn->map == MAP_0F3A) { /* ROUNDPS/PD/SS/SD */
        imm = insn->imm & 8 ? 12 : 4;
        if (!(insn->imm & 4))
            mxcsr = (mxcsr & ~0x6000u) | (uint32_t)(insn->imm & 3) << 13;
    }
    const struct sse_host_row *row = sse_host_find(insn->map, insn->opcode,
                                                   c->pfx, imm);
    if (!row)
        return false;
    bool mmx = row->flags & SF_MMX;
    if (mmx)
        sse_check_mmx(cpu);
    else
        sse_check_sse(cpu);

    struct sse_io io = { .mxcsr = mxcsr };
    sse_read_rm(c, mmx, io.b, row->size, true);
    if (mmx) {
        uint64_t d = sse_mm(cpu, insn->reg), s;
        memcpy(&s, io.b, 8);
        memset(io.b, 0, 16);
        if (row->flags & SF_COMBINE) {
            memcpy(io.a, &d, 8);
            memcpy(io.a + 8, &s, 8);
            memcpy(io.b, io.a, 16);
        } else if (row->flags & SF_HIGH) {
            memcpy(io.a + 8, &d, 8);
            memcpy(io.b + 8, &s, 8);
        } else {
            memcpy(io.a, &d, 8);
            memcpy(io.b, &s, 8);
        }
    } else {
        memcpy(io.a, sse_xmm(cpu, insn->reg), 16);
        memcpy(io.c, sse_xmm(cpu, 0), 16);
    }
    sse_host_call(cpu, row, &io);
    if (mmx) {
        uint64_t r;
        memcpy(&r, io.a + (row->flags & SF_HIGH ? 8 : 0), 8);
        sse_set_mm(cpu, insn->reg, r);
    } else {
        memcpy(sse_xmm(cpu, insn->reg), io.a, 16);
    }
    return true;
}

void sse_exec(struct cpu *cpu, const struct x86_insn *insn)
{
    struct sse_ctx c = {
        .cpu = cpu,
        .insn = insn,
        .pfx = insn->rep ? insn->rep : insn->opsize_prefix ? 0x66 : 0,
    };
    if (insn->lock)
        cpu_raise_noerr(cpu, EXC_UD);
    fpu_mark_in_use(cpu);
    if (insn->mod != 3 && insn->has_mem)
        c.ea = insn_ea(cpu, insn);
    if (sse_exec_state(&c) || sse_exec_move(&c) || sse_exec_shuffle(&c) ||
        sse_exec_convert(&c) || sse_exec_string(&c) || exec_host(&c))
        return;
    cpu_raise_noerr(cpu, EXC_UD);
}
