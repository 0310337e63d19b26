/* Segmentation: descriptor fetch from the GDT/LDT, segment register loads
 * in every mode with the SDM's checks, and segmented addresses (limit,
 * type and canonical checks) on top of the linear access of cpu/mmu.c,
 * including the stack helpers. */
#include "cpu/sys_internal.h"

static noreturn void seg_fault(struct cpu *cpu, bool is_ss, uint32_t err)
{
    cpu_raise(cpu, is_ss ? EXC_SS : EXC_GP, err);
}

bool cpu_read_descriptor(struct cpu *cpu, uint16_t selector, uint64_t *lo,
                         uint64_t *hi)
{
    uint64_t base;
    uint32_t limit, off = selector & ~7u;
    if (selector & 4) {
        if (cpu->s.ldt.attr & SEG_ATTR_UNUSABLE)
            return false;
        base = cpu->s.ldt.base;
        limit = cpu->s.ldt.limit;
    } else {
        base = cpu->s.gdt.base;
        limit = cpu->s.gdt.limit;
    }
    if (off + 7 > limit)
        return false;
    *lo = cpu_read_lin(cpu, base + off, 8, ACC_SUPER);
    if (hi) {
        *hi = 0;
        /* system descriptors are 16 bytes in long mode */
        if (cpu_long_mode(cpu) && !DESC_S(*lo)) {
            if (off + 15 > limit)
                return false;
            *hi = cpu_read_lin(cpu, base + off + 8, 8, ACC_SUPER);
        }
    }
    return true;
}

void cpu_desc_to_seg(uint64_t lo, uint64_t hi, uint16_t selector,
                     struct x86_segment *out)
{
    uint32_t limit = (uint32_t)(lo & 0xffff) | (uint32_t)((lo >> 32) & 0xf0000);
    out->selector = selector;
    out->base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) |
                ((hi & 0xffffffff) << 32);
    out->attr = DESC_ATTR(lo);
    out->limit = (out->attr & SEG_ATTR_G) ? (limit << 12) | 0xfff : limit;
}

void seg_fetch_desc(struct cpu *cpu, uint16_t sel, uint64_t *lo, uint64_t *hi,
                    int vector, bool ext)
{
    if (!cpu_read_descriptor(cpu, sel, lo, hi))
        cpu_raise(cpu, vector, SEL_ERR(sel, ext));
}

void seg_set_accessed(struct cpu *cpu, uint16_t sel, uint64_t lo)
{
    if (!DESC_S(lo) || (DESC_TYPE(lo) & TYPE_ACCESSED))
        return;
    uint64_t base = (sel & 4) ? cpu->s.ldt.base : cpu->s.gdt.base;
    cpu_write_lin(cpu, base + (sel & ~7u) + 5,
                  ((lo >> 40) & 0xff) | TYPE_ACCESSED, 1, ACC_SUPER);
}

void seg_load_desc(struct cpu *cpu, int seg, uint16_t sel, uint64_t lo,
                   uint64_t hi)
{
    if (DESC_S(lo))
        lo |= (uint64_t)TYPE_ACCESSED << 40;
    cpu_desc_to_seg(lo, hi, sel, &cpu->s.seg[seg]);
    if (seg == S_CS || seg == S_SS)
        cpu_update_mode(cpu);
}

void seg_load_null(struct cpu *cpu, int seg, uint16_t sel)
{
    struct x86_segment *s = &cpu->s.seg[seg];
    s->selector = sel;
    s->base = 0;
    s->limit = 0;
    s->attr = SEG_ATTR_UNUSABLE;
}

void seg_load_null_ss(struct cpu *cpu, uint16_t sel, int cpl)
{
    struct x86_segment *s = &cpu->s.seg[S_SS];
    s->selector = sel;
    s->base = 0;
    s->limit = 0;
    /* SS.DPL stays the CPL even while SS is unusable */
    s->attr = SEG_ATTR_UNUSABLE | SEG_ATTR_S | 0x3 | ((uint32_t)cpl << 5);
    cpu_update_mode(cpu);
}

void seg_load_ss_checked(struct cpu *cpu, uint16_t sel, int cpl, int vector,
                         bool ext)
{
    uint64_t lo;
    if ((sel & ~3u) == 0) {
        if (cpu->mode == MODE_LONG64 && cpl != 3 && (int)(sel & 3) == cpl) {
            seg_load_null_ss(cpu, sel, cpl);
            return;
        }
        cpu_raise(cpu, vector, SEL_ERR(0, ext));
    }
    seg_fetch_desc(cpu, sel, &lo, NULL, vector, ext);
    unsigned type = DESC_TYPE(lo);
    if ((int)(sel & 3) != cpl || !DESC_S(lo) || (type & TYPE_CODE) ||
        !(type & TYPE_W) || (int)DESC_DPL(lo) != cpl)
        cpu_raise(cpu, vector, SEL_ERR(sel, ext));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_SS, SEL_ERR(sel, ext));
    seg_set_accessed(cpu, sel, lo);
    seg_load_desc(cpu, S_SS, sel, lo, 0);
}

void seg_load_data_checked(struct cpu *cpu, int seg, uint16_t sel, int vector,
                           bool ext)
{
    uint64_t lo;
    if ((sel & ~3u) == 0) {
        seg_load_null(cpu, seg, sel);
        return;
    }
    seg_fetch_desc(cpu, sel, &lo, NULL, vector, ext);
    unsigned type = DESC_TYPE(lo), dpl = DESC_DPL(lo);
    bool code = (type & TYPE_CODE) != 0;
    if (!DESC_S(lo) || (code && !(type & TYPE_R)))
        cpu_raise(cpu, vector, SEL_ERR(sel, ext));
    if ((!code || !(type & TYPE_C)) &&
        ((sel & 3u) > dpl || (unsigned)cpu->cpl > dpl))
        cpu_raise(cpu, vector, SEL_ERR(sel, ext));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_NP, SEL_ERR(sel, ext));
    seg_set_accessed(cpu, sel, lo);
    seg_load_desc(cpu, seg, sel, lo, 0);
}

void cpu_load_seg(struct cpu *cpu, int seg, uint16_t selector)
{
    if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86)
        cpu_load_seg_real(cpu, seg, selector);
    else if (seg == S_SS)
        seg_load_ss_checked(cpu, selector, cpu->cpl, EXC_GP, false);
    else if (seg == S_CS)
        cpu_raise(cpu, EXC_UD, 0);  /* CS changes only by far transfers */
    else
        seg_load_data_checked(cpu, seg, selector, EXC_GP, false);
}

void cpu_load_seg_real(struct cpu *cpu, int seg, uint16_t selector)
{
    struct x86_segment *s = &cpu->s.seg[seg];
    s->selector = selector;
    s->base = (uint64_t)selector << 4;
    if (cpu->s.rflags & FL_VM) {
        s->limit = 0xffff;
        s->attr = SEG_ATTR_P | SEG_ATTR_S | (3u << 5) | 0x3;
    } else {
        /* real mode keeps the limit and attributes (unreal mode) */
        s->attr = (s->attr & ~SEG_ATTR_UNUSABLE) | SEG_ATTR_P | SEG_ATTR_S;
    }
    if (seg == S_CS || seg == S_SS)
        cpu_update_mode(cpu);
}

void seg_null_invalid_data(struct cpu *cpu)
{
    static const int segs[] = { S_ES, S_DS, S_FS, S_GS };
    for (unsigned i = 0; i < 4; i++) {
        struct x86_segment *s = &cpu->s.seg[segs[i]];
        unsigned type = SEG_ATTR_TYPE(s->attr);
        bool conforming_code = (type & TYPE_CODE) && (type & TYPE_C);
        if (!(s->attr & SEG_ATTR_UNUSABLE) && !conforming_code &&
            (int)SEG_ATTR_DPL(s->attr) < cpu->cpl)
            seg_load_null(cpu, segs[i], 0);
    }
}

static bool within_limit(const struct x86_segment *sc, uint64_t off,
                         unsigned size)
{
    uint64_t last = off + size - 1;
    unsigned type = SEG_ATTR_TYPE(sc->attr);
    if (!(type & TYPE_CODE) && (type & TYPE_E)) {
        uint64_t upper = (sc->attr & SEG_ATTR_DB) ? 0xffffffffu : 0xffffu;
        return off > sc->limit && last <= upper && last >= off;
    }
    return last <= sc->limit && last >= off;
}

uint64_t seg_lin_checked(struct cpu *cpu, const struct x86_segment *sc,
                         bool is_ss, uint64_t offset, unsigned size,
                         unsigned acc, uint32_t err)
{
    if (cpu->mode == MODE_LONG64) {
        bool fsgs = sc == &cpu->s.seg[S_FS] || sc == &cpu->s.seg[S_GS];
        uint64_t lin = (fsgs ? sc->base : 0) + offset;
        if (!is_canonical(lin) || !is_canonical(lin + size - 1))
            seg_fault(cpu, is_ss, err);
        return lin;
    }
    if (cpu->mode != MODE_REAL && cpu->mode != MODE_V86) {
        unsigned type = SEG_ATTR_TYPE(sc->attr);
        bool code = (type & TYPE_CODE) != 0;
        if (sc->attr & SEG_ATTR_UNUSABLE)
            seg_fault(cpu, is_ss, err);
        if ((acc & ACC_WRITE) ? (code || !(type & TYPE_W))
                              : (code && !(type & TYPE_R) &&
                                 !(acc & ACC_EXEC)))
            seg_fault(cpu, false, err);
    }
    if (!within_limit(sc, offset, size))
        seg_fault(cpu, is_ss, err);
    return (uint32_t)(sc->base + offset);
}

uint64_t cpu_seg_to_lin(struct cpu *cpu, int seg, uint64_t offset,
                        unsigned size, unsigned acc)
{
    return seg_lin_checked(cpu, &cpu->s.seg[seg], seg == S_SS, offset, size,
                           acc, 0);
}

uint64_t cpu_read(struct cpu *cpu, int seg, uint64_t offset, unsigned size)
{
    uint64_t lin = cpu_seg_to_lin(cpu, seg, offset, size, ACC_READ);
    return cpu_read_lin(cpu, lin, size, ACC_READ);
}

void cpu_write(struct cpu *cpu, int seg, uint64_t offset, uint64_t value,
               unsigned size)
{
    uint64_t lin = cpu_seg_to_lin(cpu, seg, offset, size, ACC_WRITE);
    cpu_write_lin(cpu, lin, value, size, ACC_WRITE);
}

static uint64_t stack_mask(const struct cpu *cpu)
{
    return cpu->stack_size == 8 ? ~0ull
           : cpu->stack_size == 4 ? 0xffffffffull : 0xffffull;
}

void cpu_push(struct cpu *cpu, uint64_t value, unsigned size)
{
    uint64_t mask = stack_mask(cpu), rsp = cpu->s.gpr[R_SP];
    uint64_t sp = (rsp - size) & mask;
    cpu_write(cpu, S_SS, sp, value, size);
    cpu->s.gpr[R_SP] = (rsp & ~mask) | sp;
}

uint64_t cpu_pop(struct cpu *cpu, unsigned size)
{
    uint64_t mask = stack_mask(cpu), rsp = cpu->s.gpr[R_SP];
    uint64_t v = cpu_read(cpu, S_SS, rsp & mask, size);
    cpu->s.gpr[R_SP] = (rsp & ~mask) | ((rsp + size) & mask);
    return v;
}
