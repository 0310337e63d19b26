/* Interpreter: the string instructions MOVS, CMPS, STOS, LODS, SCAS, INS
 * and OUTS, with REP/REPE/REPNE. The source is DS:rSI (segment override
 * allowed), the destination ES:rDI; the address size picks SI/ESI/RSI and
 * CX/ECX/RCX. Each iteration commits rSI/rDI/rCX, so a fault leaves the
 * registers where the next iteration starts; a long REP gives the run loop
 * a chance to take interrupts by ending early with RIP still at the
 * instruction, which resumes it. */
#include <string.h>
#include "cpu/interp.h"
#include "vm/port_bus.h"

#define REP_BUDGET 4096  /* iterations before the run loop looks at events */

enum str_kind { STR_MOVS, STR_CMPS, STR_STOS, STR_LODS, STR_SCAS, STR_INS,
                STR_OUTS };

struct str_ctx {
    unsigned size, as;
    int64_t step;
};

static uint64_t areg(const struct cpu *cpu, const struct str_ctx *c, int r)
{
    return cpu->s.gpr[r] & addr_mask(c->as);
}

static void areg_advance(struct cpu *cpu, const struct str_ctx *c, int r)
{
    gpr_set(cpu, r, c->as, cpu->s.gpr[r] + (uint64_t)c->step);
}

/* One iteration; returns the flags-compare result for CMPS/SCAS (true when
 * the operands were equal) */
static bool str_once(struct cpu *cpu, const struct x86_insn *insn,
                     const struct str_ctx *c, enum str_kind kind)
{
    unsigned size = c->size;
    int src_seg = insn->mem_seg;
    switch (kind) {
    case STR_MOVS: {
        uint64_t v = data_read(cpu, src_seg, areg(cpu, c, R_SI), size);
        data_write(cpu, S_ES, areg(cpu, c, R_DI), v, size);
        areg_advance(cpu, c, R_SI);
        areg_advance(cpu, c, R_DI);
        return true;
    }
    case STR_CMPS: {
        uint64_t a = data_read(cpu, src_seg, areg(cpu, c, R_SI), size);
        uint64_t b = data_read(cpu, S_ES, areg(cpu, c, R_DI), size);
        alu_cmp(&cpu->cc, a, b, size);
        areg_advance(cpu, c, R_SI);
        areg_advance(cpu, c, R_DI);
        return a == b;
    }
    case STR_STOS:
        data_write(cpu, S_ES, areg(cpu, c, R_DI), cpu->s.gpr[R_AX], size);
        areg_advance(cpu, c, R_DI);
        return true;
    case STR_LODS:
        gpr_set(cpu, R_AX, size,
                data_read(cpu, src_seg, areg(cpu, c, R_SI), size));
        areg_advance(cpu, c, R_SI);
        return true;
    case STR_SCAS: {
        uint64_t a = gpr_get(cpu, R_AX, size);
        uint64_t b = data_read(cpu, S_ES, areg(cpu, c, R_DI), size);
        alu_cmp(&cpu->cc, a, b, size);
        areg_advance(cpu, c, R_DI);
        return a == b;
    }
    case STR_INS: {
        uint16_t port = (uint16_t)cpu->s.gpr[R_DX];
        cpu_check_io(cpu, port, size);
        uint64_t di = areg(cpu, c, R_DI);
        cpu_seg_to_lin(cpu, S_ES, di, size, ACC_WRITE);
        uint32_t v = port_read(cpu->io, port, size);
        data_write(cpu, S_ES, di, v, size);
        areg_advance(cpu, c, R_DI);
        return true;
    }
    case STR_OUTS: {
        uint16_t port = (uint16_t)cpu->s.gpr[R_DX];
        cpu_check_io(cpu, port, size);
        uint64_t v = data_read(cpu, src_seg, areg(cpu, c, R_SI), size);
        port_write(cpu->io, port, (uint32_t)v, size);
        areg_advance(cpu, c, R_SI);
        return true;
    }
    }
    return true;
}

/* How many elements from off on, in the direction of the step, stay
 * inside the segment limit, the address-size wrap and the page of lin
 * (the first element is inside all three) */
static uint64_t span_elems(const struct cpu *cpu, const struct str_ctx *c,
                           int seg, uint64_t off, uint64_t lin)
{
    if (c->step < 0) {   /* downwards: an expand-up limit bounds the top */
        uint64_t n = (lin & 0xfff) / c->size + 1, wrap = off / c->size + 1;
        return wrap < n ? wrap : n;
    }
    uint64_t n = (4096 - (lin & 0xfff)) / c->size;
    uint64_t wrap = (addr_mask(c->as) - off) / c->size + 1;
    if (wrap < n)
        n = wrap;
    if (cpu->mode != MODE_LONG64) {
        uint64_t limit = cpu->s.seg[seg].limit;
        uint64_t lim = off > limit ? 0 : (limit - off + 1) / c->size;
        if (lim < n)
            n = lim;
    }
    return n;
}

/* The host address of `size` bytes at lin when the MMU's TLB holds the
 * page with the rights this access needs, in RAM that may be written
 * directly (not ROM, no cached code now: the TLB's code bit may have
 * outlived the code); NULL when cpu_read/cpu_write must decide (a miss,
 * MMIO, a fault, code to invalidate) */
static uint8_t *tlb_host(struct cpu *cpu, uint64_t lin, unsigned size,
                         bool write)
{
    const struct cpu_tlb_entry *t = &cpu->tlb[(lin >> 12) &
                                              (CPU_TLB_SIZE - 1)];
    if (t->tag != ((lin & ~0xfffull) | CPU_TLB_VALID) || !t->host ||
        (lin & 0xfff) + size > 4096)
        return NULL;
    bool user = cpu->cpl == 3;
    uint32_t want = user ? CPU_TLB_USER : 0;
    if (write) {
        want |= CPU_TLB_DIRTY;
        if (user || (cpu->s.cr0 & CR0_WP))
            want |= CPU_TLB_WRITE;
        if (t->perm & CPU_TLB_ROM)
            return NULL;
        if ((t->perm & CPU_TLB_CODE) && cpu->code_page &&
            cpu->code_page(cpu, t->gpa))
            return NULL;
    }
    if ((t->perm & want) != want)
        return NULL;
    return t->host + (lin & 0xfff);
}

/* REP STOS/MOVS inside pages the TLB already maps: host memory operations
 * on as many elements as fit, in either direction; returns how many, 0
 * when the element-by-element path must do (the first) one */
static uint64_t bulk(struct cpu *cpu, const struct x86_insn *insn,
                     const struct str_ctx *c, enum str_kind kind)
{
    const struct interp_fast *f = cpu->interp;
    if ((kind != STR_MOVS && kind != STR_STOS) || f->slow_only)
        return 0;
    uint64_t count = areg(cpu, c, R_CX), n = count;
    uint64_t si = areg(cpu, c, R_SI), di = areg(cpu, c, R_DI), lin;
    const uint8_t *src = NULL;
    if (kind == STR_MOVS) {   /* the source first: its faults come first */
        if (!fast_lin(cpu, f, insn->mem_seg, si, c->size, SEG_OK_READ, &lin) ||
            !(src = tlb_host(cpu, lin, c->size, false)))
            return 0;
        n = span_elems(cpu, c, insn->mem_seg, si, lin);
    }
    if (!fast_lin(cpu, f, S_ES, di, c->size, SEG_OK_WRITE, &lin))
        return 0;
    uint8_t *d = tlb_host(cpu, lin, c->size, true);
    if (!d)
        return 0;
    uint64_t m = span_elems(cpu, c, S_ES, di, lin);
    n = m < n ? m : n;
    n = count < n ? count : n;
    if (n == 0)
        return 0;
    size_t bytes = n * c->size;
    if (c->step < 0) {   /* the run's lowest addresses */
        d -= bytes - c->size;
        if (src)
            src -= bytes - c->size;
    }
    if (kind == STR_STOS) {
        uint64_t v = cpu->s.gpr[R_AX];
        if (c->size == 1)
            memset(d, (int)(v & 0xff), bytes);
        else
            for (uint64_t i = 0; i < n; i++)
                store_host(d + i * c->size, v, c->size);
    } else if (d >= src + bytes || src >= d + bytes) {
        memcpy(d, src, bytes);
    } else {
        /* overlapping: element order matters (pattern fills) */
        for (uint64_t k = 0; k < n; k++) {
            uint64_t i = c->step < 0 ? n - 1 - k : k;
            store_host(d + i * c->size, load_host(src + i * c->size,
                                                   c->size), c->size);
        }
    }
    uint64_t moved = (uint64_t)c->step * n;
    if (kind == STR_MOVS)
        gpr_set(cpu, R_SI, c->as, cpu->s.gpr[R_SI] + moved);
    gpr_set(cpu, R_DI, c->as, cpu->s.gpr[R_DI] + moved);
    gpr_set(cpu, R_CX, c->as, cpu->s.gpr[R_CX] - n);
    return n;
}

static void string_op(struct cpu *cpu, const struct x86_insn *insn,
                      enum str_kind kind)
{
    struct str_ctx c;
    c.size = insn->op->opnd[0].size == OS_b ? 1
             : kind == STR_INS || kind == STR_OUTS
                 ? (insn->opsize == 2 ? 2 : 4) : insn->opsize;
    c.as = insn->addrsize;
    c.step = (cpu->s.rflags & FL_DF) ? -(int64_t)c.size : (int64_t)c.size;
    if (!insn->rep) {
        str_once(cpu, insn, &c, kind);
        return;
    }
    bool cond = kind == STR_CMPS || kind == STR_SCAS;
    for (uint64_t n = 0;; n++) {
        if (!areg(cpu, &c, R_CX))
            return;
        if (n >= REP_BUDGET) {
            cpu->s.rip = cpu->insn_rip;   /* resume after the events */
            return;
        }
        uint64_t done = bulk(cpu, insn, &c, kind);
        if (done) {   /* budgeted as one iteration per 16 bytes */
            n += done * c.size / 16;
            continue;
        }
        bool equal = str_once(cpu, insn, &c, kind);
        gpr_set(cpu, R_CX, c.as, cpu->s.gpr[R_CX] - 1);
        if (cond && equal != (insn->rep == 0xf3))
            return;
    }
}

#define STRING_OP(name, kind)                                                  \
    static void op_##name(struct cpu *cpu, const struct x86_insn *insn)       \
    {                                                                          \
        string_op(cpu, insn, kind);                                            \
    }

STRING_OP(movs, STR_MOVS)
STRING_OP(cmps, STR_CMPS)
STRING_OP(stos, STR_STOS)
STRING_OP(lods, STR_LODS)
STRING_OP(scas, STR_SCAS)
STRING_OP(ins, STR_INS)
STRING_OP(outs, STR_OUTS)

void interp_string_register(interp_fn *t)
{
    t[I_MOVS] = op_movs;
    t[I_CMPS] = op_cmps;
    t[I_STOS] = op_stos;
    t[I_LODS] = op_lods;
    t[I_SCAS] = op_scas;
    t[I_INS] = op_ins;
    t[I_OUTS] = op_outs;
}
