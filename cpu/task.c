/* Hardware task switching (SDM "Task Management"): through a 32-bit or a
 * 16-bit TSS, for JMP, CALL, interrupts through task gates and IRET with
 * NT set. The new TSS is read and checked and the old state saved before
 * anything changes; faults after the switch commits (segment loads with
 * #TS/#NP/#SS, the EIP limit check) are delivered here, in the new task,
 * and the switch returns normally; so is the #DB trap of a TSS with its T
 * bit set. */
#include <string.h>
#include "cpu/sys_internal.h"

#define TSS_BUSY_BIT (1ull << 41)  /* type bit 1 of the descriptor */
#define DR6_BT (1u << 15)          /* debug trap from a task switch */

/* everything a TSS holds, in one form for both sizes */
struct tss_image {
    uint64_t cr3;
    uint32_t eip, eflags;
    uint32_t gpr[8];
    uint16_t seg[6];
    uint16_t ldt;
    uint16_t link;
    bool trap;          /* the T bit (32-bit TSS only) */
};

static bool tss_is32(unsigned type)
{
    return type == SYS_TSS32_AVAIL || type == SYS_TSS32_BUSY;
}

static uint32_t rd(struct cpu *cpu, uint64_t base, uint32_t off, unsigned size)
{
    return (uint32_t)cpu_read_lin(cpu, base + off, size, ACC_SUPER);
}

static void wr(struct cpu *cpu, uint64_t base, uint32_t off, uint32_t v,
               unsigned size)
{
    cpu_write_lin(cpu, base + off, v, size, ACC_SUPER);
}

static void tss_read_image(struct cpu *cpu, uint64_t base, bool is32,
                           struct tss_image *t)
{
    t->link = (uint16_t)rd(cpu, base, 0, 2);
    if (is32) {
        t->cr3 = rd(cpu, base, 0x1c, 4);
        t->eip = rd(cpu, base, 0x20, 4);
        t->eflags = rd(cpu, base, 0x24, 4);
        for (int i = 0; i < 8; i++)
            t->gpr[i] = rd(cpu, base, 0x28 + i * 4, 4);
        for (int i = 0; i < 6; i++)
            t->seg[i] = (uint16_t)rd(cpu, base, 0x48 + i * 4, 2);
        t->ldt = (uint16_t)rd(cpu, base, 0x60, 2);
        t->trap = rd(cpu, base, 0x64, 2) & 1;
    } else {
        t->cr3 = 0;
        t->eip = rd(cpu, base, 0x0e, 2);
        t->eflags = rd(cpu, base, 0x10, 2);
        for (int i = 0; i < 8; i++)
            t->gpr[i] = rd(cpu, base, 0x12 + i * 2, 2);
        for (int i = 0; i < 4; i++)
            t->seg[i] = (uint16_t)rd(cpu, base, 0x22 + i * 2, 2);
        t->seg[S_FS] = t->seg[S_GS] = 0;
        t->ldt = (uint16_t)rd(cpu, base, 0x2a, 2);
        t->trap = false;
    }
}

/* the dynamic fields of the outgoing task */
static void tss_save(struct cpu *cpu, uint64_t base, bool is32, uint32_t eip,
                     uint32_t eflags)
{
    const struct x86_state *s = &cpu->s;
    if (is32) {
        wr(cpu, base, 0x20, eip, 4);
        wr(cpu, base, 0x24, eflags, 4);
        for (int i = 0; i < 8; i++)
            wr(cpu, base, 0x28 + i * 4, (uint32_t)s->gpr[i], 4);
        for (int i = 0; i < 6; i++)
            wr(cpu, base, 0x48 + i * 4, s->seg[i].selector, 2);
    } else {
        wr(cpu, base, 0x0e, eip, 2);
        wr(cpu, base, 0x10, eflags, 2);
        for (int i = 0; i < 8; i++)
            wr(cpu, base, 0x12 + i * 2, (uint32_t)s->gpr[i], 2);
        for (int i = 0; i < 4; i++)
            wr(cpu, base, 0x22 + i * 2, s->seg[i].selector, 2);
    }
}

static void set_busy(struct cpu *cpu, uint16_t sel, uint64_t lo, bool busy)
{
    lo = busy ? (lo | TSS_BUSY_BIT) : (lo & ~TSS_BUSY_BIT);
    cpu_write_lin(cpu, cpu->s.gdt.base + (sel & ~7u) + 5, (lo >> 40) & 0xff,
                  1, ACC_SUPER);
}

static void load_ldt(struct cpu *cpu, uint16_t sel, bool ext)
{
    uint64_t lo, hi;
    if ((sel & ~3u) == 0) {
        cpu->s.ldt.selector = sel;
        cpu->s.ldt.base = 0;
        cpu->s.ldt.limit = 0;
        cpu->s.ldt.attr = SEG_ATTR_UNUSABLE;
        return;
    }
    if (sel & 4)
        cpu_raise(cpu, EXC_TS, SEL_ERR(sel, ext));
    seg_fetch_desc(cpu, sel, &lo, &hi, EXC_TS, ext);
    if (DESC_S(lo) || DESC_TYPE(lo) != SYS_LDT)
        cpu_raise(cpu, EXC_TS, SEL_ERR(sel, ext));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_TS, SEL_ERR(sel, ext));
    cpu_desc_to_seg(lo, hi, sel, &cpu->s.ldt);
}

static void load_task_cs(struct cpu *cpu, uint16_t sel, bool ext)
{
    uint64_t lo;
    if ((sel & ~3u) == 0)
        cpu_raise(cpu, EXC_TS, SEL_ERR(sel, ext));
    seg_fetch_desc(cpu, sel, &lo, NULL, EXC_TS, ext);
    unsigned type = DESC_TYPE(lo), dpl = DESC_DPL(lo), rpl = sel & 3u;
    if (!DESC_S(lo) || !(type & TYPE_CODE) ||
        ((type & TYPE_C) ? dpl > rpl : dpl != rpl))
        cpu_raise(cpu, EXC_TS, SEL_ERR(sel, ext));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_NP, SEL_ERR(sel, ext));
    seg_set_accessed(cpu, sel, lo);
    seg_load_desc(cpu, S_CS, sel, lo, 0);
}

/* the segment registers of the new task; its selectors are in place */
static void load_task_segments(struct cpu *cpu, const struct tss_image *t,
                               bool ext)
{
    if (t->eflags & FL_VM) {
        for (int i = 0; i < 6; i++)
            cpu_load_seg_real(cpu, i, t->seg[i]);
        return;
    }
    int cpl = t->seg[S_CS] & 3;
    seg_load_ss_checked(cpu, t->seg[S_SS], cpl, EXC_TS, ext);
    load_task_cs(cpu, t->seg[S_CS], ext);
    static const int data[] = { S_ES, S_DS, S_FS, S_GS };
    for (int i = 0; i < 4; i++)
        seg_load_data_checked(cpu, data[i], t->seg[data[i]], EXC_TS, ext);
}

/* The part of a switch after the commit point: PDPTEs, LDT, segments, the
 * error code and the EIP check; faults here belong to the new task */
static void task_finish(struct cpu *cpu, const struct tss_image *t,
                        bool new32, bool ext, bool has_error,
                        uint32_t error_code)
{
    struct x86_state *s = &cpu->s;
    if (new32 && (s->cr0 & CR0_PG) && (s->cr4 & CR4_PAE) &&
        !mmu_load_pdptes(cpu, t->cr3))
        cpu_raise(cpu, EXC_GP, 0);
    load_ldt(cpu, t->ldt, ext);
    load_task_segments(cpu, t, ext);
    if (has_error)
        cpu_push(cpu, error_code, new32 ? 4 : 2);
    if (s->rip > s->seg[S_CS].limit)
        cpu_raise(cpu, EXC_GP, SEL_ERR(0, ext));
}

void cpu_task_switch(struct cpu *cpu, uint16_t tss_sel, int reason,
                     bool has_error, uint32_t error_code)
{
    struct x86_state *s = &cpu->s;
    bool ext = reason == TASK_INT;
    int err_vec = reason == TASK_IRET ? EXC_TS : EXC_GP;
    uint64_t lo, hi;

    /* the new TSS descriptor: in the GDT, available (busy for IRET) */
    if (tss_sel & 4)
        cpu_raise(cpu, err_vec, SEL_ERR(tss_sel, ext));
    seg_fetch_desc(cpu, tss_sel, &lo, &hi, err_vec, ext);
    unsigned type = DESC_TYPE(lo);
    bool want_busy = reason == TASK_IRET;
    if (DESC_S(lo) || (type & 7) != (want_busy ? 3u : 1u))
        cpu_raise(cpu, err_vec, SEL_ERR(tss_sel, ext));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_NP, SEL_ERR(tss_sel, ext));
    struct x86_segment ntr;
    cpu_desc_to_seg(lo, hi, tss_sel, &ntr);
    bool new32 = tss_is32(type);
    if (ntr.limit < (new32 ? 0x67u : 0x2bu))
        cpu_raise(cpu, EXC_TS, SEL_ERR(tss_sel, ext));

    /* the old TSS must hold its dynamic fields */
    bool old32 = tss_is32(SEG_ATTR_TYPE(s->tr.attr));
    if (s->tr.limit < (old32 ? 0x5fu : 0x29u))
        cpu_raise(cpu, EXC_TS, SEL_ERR(s->tr.selector, ext));

    struct tss_image t;
    tss_read_image(cpu, ntr.base, new32, &t);

    uint32_t eflags = (uint32_t)cpu_get_rflags(cpu);
    if (reason == TASK_IRET)
        eflags &= ~FL_NT;
    uint64_t old_lo;
    if (!cpu_read_descriptor(cpu, s->tr.selector, &old_lo, NULL))
        cpu_raise(cpu, EXC_TS, SEL_ERR(s->tr.selector, ext));
    tss_save(cpu, s->tr.base, old32, (uint32_t)s->rip, eflags);
    if (reason == TASK_JMP || reason == TASK_IRET)
        set_busy(cpu, s->tr.selector, old_lo, false);
    if (reason == TASK_CALL || reason == TASK_INT) {
        wr(cpu, ntr.base, 0, s->tr.selector, 2);
        t.eflags |= FL_NT;
    }
    if (reason != TASK_IRET)
        set_busy(cpu, tss_sel, lo, true);

    /* commit: from here faults belong to the new task */
    ntr.attr |= 2;  /* busy */
    s->tr = ntr;
    s->cr0 |= CR0_TS;
    if (new32 && (s->cr0 & CR0_PG)) {
        s->cr3 = t.cr3;
        mmu_flush(cpu, false);
    }
    s->rip = t.eip;
    for (int i = 0; i < 8; i++)
        s->gpr[i] = new32 ? t.gpr[i]
                          : (s->gpr[i] & ~0xffffull) | (t.gpr[i] & 0xffff);
    cpu_set_rflags(cpu, new32 ? (t.eflags | FL_FIXED1)
                              : ((eflags & ~0xffffu) | (t.eflags & 0xffff) |
                                 FL_FIXED1));
    s->dr[7] &= ~0x155ull;  /* local breakpoint enables */
    for (int i = 0; i < 6; i++)
        s->seg[i].selector = t.seg[i];
    cpu_update_mode(cpu);

    /* a fault in what follows is delivered here, in the new task, and
     * does not unwind the instruction that switched */
    jmp_buf outer;
    memcpy(outer, cpu->fault_jmp, sizeof(outer));
    if (setjmp(cpu->fault_jmp) == 0) {
        task_finish(cpu, &t, new32, ext, has_error, error_code);
        memcpy(cpu->fault_jmp, outer, sizeof(outer));
        if (t.trap) {
            /* the T bit: a debug trap before the new task's first
             * instruction, reported by DR6.BT */
            s->dr[6] |= DR6_BT;
            cpu_deliver_event(cpu, EXC_DB, EV_EXCEPTION, false, 0, s->rip);
        }
        return;
    }
    memcpy(cpu->fault_jmp, outer, sizeof(outer));
    cpu->s.exception_pending = 0;
    cpu_deliver_event(cpu, cpu->s.exception_vector, EV_EXCEPTION,
                      cpu->s.exception_has_error, cpu->s.exception_error,
                      cpu->s.rip);
}
