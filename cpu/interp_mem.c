/* Interpreter: the slow path of data access behind data_read/data_write
 * (cpu/interp.h): the full segmentation and paging checks of cpu_read and
 * cpu_write, after which the page is entered into the interpreter's own
 * read or write cache when that is safe (RAM, no cached code on it for
 * writes). interp_fast_reset() starts a new generation whenever the CPL,
 * paging, the mode or a segment register may have changed. */
#include <string.h>
#include "cpu/interp.h"
#include "cpu/sys_internal.h"
#include "vm/memory.h"

static void dtlb_fill(struct cpu *cpu, struct interp_fast *f,
                      struct interp_dtlb_entry *tab, uint64_t lin,
                      bool write)
{
    unsigned slot = (lin >> 12) & (CPU_TLB_SIZE - 1);
    const struct cpu_tlb_entry *t = &cpu->tlb[slot];
    uint64_t page = lin & ~0xfffull;
    if ((t->tag & ~0xfffull) != page || !(t->tag & 1) || !t->host)
        return;
    if (write && (!mem_map_host_ptr(cpu->mem, t->gpa, 4096, true) ||
                  (cpu->code_page && cpu->code_page(cpu, t->gpa))))
        return;
    struct interp_dtlb_entry *e = &tab[(lin >> 12) & (DTLB_SIZE - 1)];
    e->lin_page = page;
    e->host = t->host;
    e->tag = t->tag;
    e->gpa = t->gpa;
    e->slot = slot;
    e->gen = f->gen;
}

/* the linear address the slow path used, for the fill */
static bool slow_lin(const struct cpu *cpu, int seg, uint64_t off,
                     uint64_t *lin)
{
    const struct x86_segment *s = &cpu->s.seg[seg];
    if (cpu->mode == MODE_LONG64) {
        *lin = off + (seg >= S_FS ? s->base : 0);
        return true;
    }
    *lin = (uint32_t)(s->base + off);
    return true;
}

uint64_t interp_read_slow(struct cpu *cpu, int seg, uint64_t off,
                          unsigned size)
{
    uint64_t v = cpu_read(cpu, seg, off, size);
    struct interp_fast *f = cpu->interp;
    uint64_t lin;
    if (!f->slow_only && slow_lin(cpu, seg, off, &lin) &&
        (lin & 0xfff) + size <= 4096)
        dtlb_fill(cpu, f, f->rd, lin, false);
    return v;
}

void interp_write_slow(struct cpu *cpu, int seg, uint64_t off, uint64_t v,
                       unsigned size)
{
    cpu_write(cpu, seg, off, v, size);
    struct interp_fast *f = cpu->interp;
    uint64_t lin;
    if (!f->slow_only && slow_lin(cpu, seg, off, &lin) &&
        (lin & 0xfff) + size <= 4096)
        dtlb_fill(cpu, f, f->wr, lin, true);
}

void interp_fast_reset(struct cpu *cpu)
{
    struct interp_fast *f = cpu->interp;
    f->gen++;
    if (f->gen == 0) {   /* wrapped: forget every entry for real */
        memset(f->rd, 0, sizeof(f->rd));
        memset(f->wr, 0, sizeof(f->wr));
        f->gen = 1;
    }
    f->mode64 = cpu->mode == MODE_LONG64;
    f->ip_mask = size_mask(cpu->code_size);
    f->slow_only = cpu->cpl == 3 && (cpu->s.cr0 & CR0_AM) &&
                   (cpu->s.rflags & FL_AC);
    for (int i = 0; i < 6; i++) {
        const struct x86_segment *s = &cpu->s.seg[i];
        unsigned type = SEG_ATTR_TYPE(s->attr);
        uint8_t ok = 0;
        if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86) {
            ok = SEG_OK_READ | SEG_OK_WRITE;
        } else if (!(s->attr & SEG_ATTR_UNUSABLE) && (s->attr & SEG_ATTR_S)) {
            bool code = type & TYPE_CODE;
            if (code ? (type & TYPE_R) != 0 : !(type & TYPE_E))
                ok |= SEG_OK_READ;
            if (!code && (type & TYPE_W) && !(type & TYPE_E))
                ok |= SEG_OK_WRITE;
        }
        f->seg_ok[i] = ok;
    }
}
