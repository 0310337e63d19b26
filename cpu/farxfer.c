/* Far control transfers: JMP/CALL far (direct, through call gates with the
 * inner-ring stack switch and parameter copy, 64-bit call gates, task gates
 * and TSSs), RET far and IRET in every mode (real, V86, protected with the
 * return to an outer ring or to V86, NT task return, IA-32e). All are
 * called with cpu->s.rip at the next instruction, the return address; the
 * checks come before the state changes they guard. */
#include <string.h>
#include "cpu/sys_internal.h"

static noreturn void gp(struct cpu *cpu, uint32_t err)
{
    cpu_raise(cpu, EXC_GP, err);
}

static uint64_t smask(unsigned size)
{
    return size == 8 ? ~0ull : size == 4 ? 0xffffffffull : 0xffffull;
}

/* read the stack at RSP + off without moving RSP */
static uint64_t stack_peek(struct cpu *cpu, uint64_t off, unsigned size)
{
    uint64_t mask = smask(cpu->stack_size);
    return cpu_read(cpu, S_SS, (cpu->s.gpr[R_SP] + off) & mask, size);
}

static void stack_add(struct cpu *cpu, uint64_t n)
{
    uint64_t mask = smask(cpu->stack_size), rsp = cpu->s.gpr[R_SP];
    cpu->s.gpr[R_SP] = (rsp & ~mask) | ((rsp + n) & mask);
}

static bool is_64bit_code(const struct cpu *cpu, uint64_t lo)
{
    return cpu_long_mode(cpu) && (DESC_ATTR(lo) & SEG_ATTR_L);
}

/* the target offset must be inside the new CS (canonical in 64-bit code) */
static void check_target(struct cpu *cpu, uint64_t lo, uint64_t off)
{
    struct x86_segment sc;
    cpu_desc_to_seg(lo, 0, 0, &sc);
    if (is_64bit_code(cpu, lo) ? !is_canonical(off) : off > sc.limit)
        gp(cpu, 0);
}

static void commit_cs(struct cpu *cpu, uint16_t sel, uint64_t lo, int cpl,
                      uint64_t off)
{
    seg_set_accessed(cpu, sel, lo);
    seg_load_desc(cpu, S_CS, (uint16_t)((sel & ~3u) | (unsigned)cpl), lo, 0);
    cpu->s.rip = off;
}

/* a code segment reached directly by JMP/CALL: privilege stays */
static void check_direct_code(struct cpu *cpu, uint16_t sel, uint64_t lo)
{
    unsigned dpl = DESC_DPL(lo);
    if (DESC_TYPE(lo) & TYPE_C) {
        if ((int)dpl > cpu->cpl)
            gp(cpu, SEL_ERR(sel, 0));
    } else if ((int)(sel & 3) > cpu->cpl || (int)dpl != cpu->cpl) {
        gp(cpu, SEL_ERR(sel, 0));
    }
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_NP, SEL_ERR(sel, 0));
}

/* the code segment named by a call gate; returns its descriptor */
static uint64_t gate_code(struct cpu *cpu, uint16_t sel, bool want64)
{
    uint64_t lo;
    if ((sel & ~3u) == 0)
        gp(cpu, 0);
    seg_fetch_desc(cpu, sel, &lo, NULL, EXC_GP, false);
    if (!DESC_S(lo) || !(DESC_TYPE(lo) & TYPE_CODE) ||
        (int)DESC_DPL(lo) > cpu->cpl ||
        (want64 && (!(DESC_ATTR(lo) & SEG_ATTR_L) ||
                    (DESC_ATTR(lo) & SEG_ATTR_DB))))
        gp(cpu, SEL_ERR(sel, 0));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_NP, SEL_ERR(sel, 0));
    return lo;
}

struct gate {
    unsigned type;
    uint16_t sel;        /* target selector */
    uint64_t off;
    unsigned params;     /* call gate parameter count */
    unsigned width;      /* push width: 2, 4 or 8 */
};

/* Check a system descriptor reached by JMP/CALL: gate DPL and presence;
 * returns false for a TSS (a task switch to sel itself) */
static bool decode_system(struct cpu *cpu, uint16_t sel, uint64_t lo,
                          uint64_t hi, struct gate *g)
{
    unsigned type = DESC_TYPE(lo), dpl = DESC_DPL(lo);
    bool lm = cpu_long_mode(cpu);
    bool ok = lm ? type == SYS_CALL32
                 : (type == SYS_CALL16 || type == SYS_CALL32 ||
                    type == SYS_TASK_GATE || type == SYS_TSS16_AVAIL ||
                    type == SYS_TSS32_AVAIL);
    if (!ok || (int)dpl < cpu->cpl || dpl < (sel & 3u))
        gp(cpu, SEL_ERR(sel, 0));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_NP, SEL_ERR(sel, 0));
    g->type = type;
    if (type == SYS_TSS16_AVAIL || type == SYS_TSS32_AVAIL)
        return false;
    g->sel = (uint16_t)(lo >> 16);
    g->params = (lo >> 32) & 0x1f;
    if (lm) {
        g->off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | (hi << 32);
        g->width = 8;
    } else if (type == SYS_CALL32) {
        g->off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000);
        g->width = 4;
    } else {
        g->off = lo & 0xffff;
        g->width = 2;
    }
    return true;
}

static void task_through(struct cpu *cpu, uint16_t sel, const struct gate *g,
                         int reason)
{
    if (g->type != SYS_TASK_GATE) {
        cpu_task_switch(cpu, sel, reason, false, 0);
        return;
    }
    cpu_task_switch(cpu, g->sel, reason, false, 0);
}

void cpu_far_jmp(struct cpu *cpu, uint16_t sel, uint64_t offset)
{
    uint64_t lo, hi;
    if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86) {
        if (offset > cpu->s.seg[S_CS].limit)
            gp(cpu, 0);
        cpu_load_seg_real(cpu, S_CS, sel);
        cpu->s.rip = offset;
        return;
    }
    if ((sel & ~3u) == 0)
        gp(cpu, 0);
    seg_fetch_desc(cpu, sel, &lo, &hi, EXC_GP, false);
    if (DESC_S(lo)) {
        if (!(DESC_TYPE(lo) & TYPE_CODE))
            gp(cpu, SEL_ERR(sel, 0));
        check_direct_code(cpu, sel, lo);
        check_target(cpu, lo, offset);
        commit_cs(cpu, sel, lo, cpu->cpl, offset);
        return;
    }
    struct gate g;
    if (!decode_system(cpu, sel, lo, hi, &g) || g.type == SYS_TASK_GATE) {
        task_through(cpu, sel, &g, TASK_JMP);
        return;
    }
    uint64_t clo = gate_code(cpu, g.sel, cpu_long_mode(cpu));
    /* JMP through a call gate never changes privilege */
    if (!(DESC_TYPE(clo) & TYPE_C) && (int)DESC_DPL(clo) != cpu->cpl)
        gp(cpu, SEL_ERR(g.sel, 0));
    check_target(cpu, clo, g.off);
    commit_cs(cpu, g.sel, clo, cpu->cpl, g.off);
}

/* CALL through a call gate to a more privileged nonconforming segment */
static void call_gate_inner(struct cpu *cpu, const struct gate *g,
                            uint64_t clo)
{
    unsigned dpl = DESC_DPL(clo), w = g->width;
    uint64_t old_ss = cpu->s.seg[S_SS].selector, old_sp = cpu->s.gpr[R_SP];
    uint64_t old_cs = cpu->s.seg[S_CS].selector, ret = cpu->s.rip;
    uint8_t frame[(4 + 31) * 8];
    unsigned n = 0;

    check_target(cpu, clo, g->off);
    if (w == 8) {
        /* 64-bit call gate: null SS, RSP from the TSS, no parameters */
        const struct x86_segment *tr = &cpu->s.tr;
        if (4 + dpl * 8 + 7 > tr->limit)
            cpu_raise(cpu, EXC_TS, SEL_ERR(tr->selector, 0));
        uint64_t rsp = cpu_read_lin(cpu, tr->base + 4 + dpl * 8, 8, ACC_SUPER);
        uint64_t slots[4] = { ret, old_cs, old_sp, old_ss };
        uint64_t new_rsp = rsp - sizeof(slots);
        if (!is_canonical(rsp) || !is_canonical(new_rsp))
            cpu_raise(cpu, EXC_SS, 0);
        frame_write(cpu, new_rsp, slots, sizeof(slots), 8);
        seg_load_null_ss(cpu, (uint16_t)dpl, dpl);
        cpu->s.gpr[R_SP] = new_rsp;
        commit_cs(cpu, g->sel, clo, dpl, g->off);
        return;
    }

    uint16_t ss;
    uint64_t sp, slo;
    tss_inner_stack(cpu, dpl, false, &ss, &sp);
    if ((ss & ~3u) == 0)
        cpu_raise(cpu, EXC_TS, 0);
    seg_fetch_desc(cpu, ss, &slo, NULL, EXC_TS, false);
    unsigned st = DESC_TYPE(slo);
    if ((ss & 3u) != dpl || DESC_DPL(slo) != dpl || !DESC_S(slo) ||
        (st & TYPE_CODE) || !(st & TYPE_W))
        cpu_raise(cpu, EXC_TS, SEL_ERR(ss, 0));
    if (!DESC_P(slo))
        cpu_raise(cpu, EXC_SS, SEL_ERR(ss, 0));

    /* frame, lowest address first: EIP, CS, params..., ESP, SS */
    memcpy(frame + n++ * w, &ret, w);
    memcpy(frame + n++ * w, &old_cs, w);
    for (unsigned i = 0; i < g->params; i++) {
        uint64_t v = stack_peek(cpu, (uint64_t)i * w, w);
        memcpy(frame + n++ * w, &v, w);
    }
    memcpy(frame + n++ * w, &old_sp, w);
    memcpy(frame + n++ * w, &old_ss, w);

    struct x86_segment ssc;
    cpu_desc_to_seg(slo, 0, ss, &ssc);
    uint64_t mask = (ssc.attr & SEG_ATTR_DB) ? 0xffffffffu : 0xffffu;
    uint64_t new_sp = (sp - n * w) & mask;
    uint64_t lin = seg_lin_checked(cpu, &ssc, true, new_sp, n * w, ACC_WRITE,
                                   SEL_ERR(ss, 0));
    frame_write(cpu, lin, frame, n * w, w);
    seg_set_accessed(cpu, ss, slo);
    seg_load_desc(cpu, S_SS, ss, slo, 0);
    cpu->s.gpr[R_SP] = (sp & ~mask) | new_sp;
    commit_cs(cpu, g->sel, clo, dpl, g->off);
}

static void push_return(struct cpu *cpu, unsigned w)
{
    uint64_t cs = cpu->s.seg[S_CS].selector, ret = cpu->s.rip;
    cpu_push(cpu, cs, w);
    cpu_push(cpu, ret, w);
}

void cpu_far_call(struct cpu *cpu, uint16_t sel, uint64_t offset,
                  unsigned opsize)
{
    uint64_t lo, hi;
    if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86) {
        if (offset > cpu->s.seg[S_CS].limit)
            gp(cpu, 0);
        push_return(cpu, opsize);
        cpu_load_seg_real(cpu, S_CS, sel);
        cpu->s.rip = offset;
        return;
    }
    if ((sel & ~3u) == 0)
        gp(cpu, 0);
    seg_fetch_desc(cpu, sel, &lo, &hi, EXC_GP, false);
    if (DESC_S(lo)) {
        if (!(DESC_TYPE(lo) & TYPE_CODE))
            gp(cpu, SEL_ERR(sel, 0));
        check_direct_code(cpu, sel, lo);
        check_target(cpu, lo, offset);
        push_return(cpu, opsize);
        commit_cs(cpu, sel, lo, cpu->cpl, offset);
        return;
    }
    struct gate g;
    if (!decode_system(cpu, sel, lo, hi, &g) || g.type == SYS_TASK_GATE) {
        task_through(cpu, sel, &g, TASK_CALL);
        return;
    }
    uint64_t clo = gate_code(cpu, g.sel, cpu_long_mode(cpu));
    if (!(DESC_TYPE(clo) & TYPE_C) && (int)DESC_DPL(clo) < cpu->cpl) {
        call_gate_inner(cpu, &g, clo);
        return;
    }
    check_target(cpu, clo, g.off);
    push_return(cpu, g.width);
    commit_cs(cpu, g.sel, clo, cpu->cpl, g.off);
}

/* the CS a RET/IRET returns to; returns its descriptor */
static uint64_t return_code(struct cpu *cpu, uint16_t sel)
{
    uint64_t lo;
    if ((sel & ~3u) == 0)
        gp(cpu, 0);
    seg_fetch_desc(cpu, sel, &lo, NULL, EXC_GP, false);
    unsigned rpl = sel & 3u, dpl = DESC_DPL(lo);
    if (!DESC_S(lo) || !(DESC_TYPE(lo) & TYPE_CODE) || (int)rpl < cpu->cpl ||
        ((DESC_TYPE(lo) & TYPE_C) ? dpl > rpl : dpl != rpl))
        gp(cpu, SEL_ERR(sel, 0));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_NP, SEL_ERR(sel, 0));
    return lo;
}

/* the SS popped on a return to ring rpl (CS descriptor clo); returns its
 * descriptor, or 0 for a null SS that 64-bit mode allows */
static uint64_t return_ss(struct cpu *cpu, uint16_t ss, unsigned rpl,
                          uint64_t clo)
{
    uint64_t lo;
    if ((ss & ~3u) == 0) {
        if (cpu->mode == MODE_LONG64 && is_64bit_code(cpu, clo) && rpl != 3 &&
            (ss & 3u) == rpl)
            return 0;
        gp(cpu, 0);
    }
    seg_fetch_desc(cpu, ss, &lo, NULL, EXC_GP, false);
    unsigned t = DESC_TYPE(lo);
    if ((ss & 3u) != rpl || DESC_DPL(lo) != rpl || !DESC_S(lo) ||
        (t & TYPE_CODE) || !(t & TYPE_W))
        gp(cpu, SEL_ERR(ss, 0));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_SS, SEL_ERR(ss, 0));
    return lo;
}

static void commit_outer_stack(struct cpu *cpu, uint16_t ss, uint64_t slo,
                               unsigned rpl, uint64_t sp)
{
    if (slo) {
        seg_set_accessed(cpu, ss, slo);
        seg_load_desc(cpu, S_SS, ss, slo, 0);
    } else {
        seg_load_null_ss(cpu, ss, rpl);
    }
    /* IA-32e mode loads all of RSP; legacy mode keeps the bits above the
     * stack size */
    uint64_t mask = cpu_long_mode(cpu) ? ~0ull : smask(cpu->stack_size);
    cpu->s.gpr[R_SP] = (cpu->s.gpr[R_SP] & ~mask) | (sp & mask);
}

void cpu_far_ret(struct cpu *cpu, unsigned opsize, uint16_t pop_bytes)
{
    unsigned w = opsize;
    uint64_t off = stack_peek(cpu, 0, w);
    uint16_t sel = (uint16_t)stack_peek(cpu, w, w);
    if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86) {
        if (off > cpu->s.seg[S_CS].limit)
            gp(cpu, 0);
        stack_add(cpu, 2 * w + pop_bytes);
        cpu_load_seg_real(cpu, S_CS, sel);
        cpu->s.rip = off;
        return;
    }
    uint64_t clo = return_code(cpu, sel);
    unsigned rpl = sel & 3u;
    if ((int)rpl == cpu->cpl) {
        check_target(cpu, clo, off);
        stack_add(cpu, 2 * w + pop_bytes);
        commit_cs(cpu, sel, clo, rpl, off);
        return;
    }
    uint64_t sp = stack_peek(cpu, 2 * w + pop_bytes, w);
    uint16_t ss = (uint16_t)stack_peek(cpu, 3 * w + pop_bytes, w);
    uint64_t slo = return_ss(cpu, ss, rpl, clo);
    check_target(cpu, clo, off);
    commit_cs(cpu, sel, clo, rpl, off);
    commit_outer_stack(cpu, ss, slo, rpl, sp + pop_bytes);
    seg_null_invalid_data(cpu);
}

/* --- IRET --- */

static void iret_real(struct cpu *cpu, unsigned w)
{
    uint64_t off = stack_peek(cpu, 0, w);
    uint16_t sel = (uint16_t)stack_peek(cpu, w, w);
    uint64_t fl = stack_peek(cpu, 2 * w, w);
    uint64_t old = cpu_get_rflags(cpu);
    if (cpu->mode == MODE_V86) {
        if ((old & FL_IOPL) != FL_IOPL)
            gp(cpu, 0);
        /* IOPL stays; VM, VIF, VIP too */
        fl = (fl & ~(uint64_t)(FL_IOPL | FL_VM | FL_VIF | FL_VIP)) |
             (old & (FL_IOPL | FL_VM | FL_VIF | FL_VIP));
    } else {
        fl = (fl & 0x257fd5) | (old & 0x1a0000);
    }
    if (off > cpu->s.seg[S_CS].limit)
        gp(cpu, 0);
    if (w == 2)
        fl = (old & ~0xffffull) | (fl & 0xffff);
    stack_add(cpu, 3 * w);
    cpu_load_seg_real(cpu, S_CS, sel);
    cpu->s.rip = off;
    cpu_set_rflags(cpu, fl | FL_FIXED1);
    cpu_update_mode(cpu);
}

/* return to V86 from ring 0 with a 32-bit IRET */
static void iret_to_v86(struct cpu *cpu, uint64_t eip, uint16_t cs,
                        uint64_t fl)
{
    uint64_t esp = stack_peek(cpu, 12, 4);
    uint16_t sel[4];
    uint16_t ss = (uint16_t)stack_peek(cpu, 16, 4);
    for (int i = 0; i < 4; i++)   /* ES, DS, FS, GS */
        sel[i] = (uint16_t)stack_peek(cpu, 20 + i * 4, 4);
    cpu_set_rflags(cpu, fl | FL_FIXED1);
    cpu_update_mode(cpu);
    cpu_load_seg_real(cpu, S_CS, cs);
    cpu_load_seg_real(cpu, S_SS, ss);
    cpu_load_seg_real(cpu, S_ES, sel[0]);
    cpu_load_seg_real(cpu, S_DS, sel[1]);
    cpu_load_seg_real(cpu, S_FS, sel[2]);
    cpu_load_seg_real(cpu, S_GS, sel[3]);
    cpu->s.gpr[R_SP] = (uint32_t)esp;
    cpu->s.rip = eip & 0xffff;
}

/* the RFLAGS an IRET leaves at privilege cpl (before the return) */
static uint64_t iret_flags(struct cpu *cpu, uint64_t fl, unsigned w)
{
    uint64_t old = cpu_get_rflags(cpu);
    uint64_t change = FL_ARITH | FL_TF | FL_DF | FL_NT;
    if (w >= 4)
        change |= FL_RF | FL_AC | FL_ID;
    if (cpu->cpl == 0)
        change |= FL_IOPL | (w >= 4 ? FL_VIF | FL_VIP : 0);
    if ((unsigned)cpu->cpl <= ((old & FL_IOPL) >> 12))
        change |= FL_IF;
    return ((old & ~change) | (fl & change) | FL_FIXED1) & ~(uint64_t)FL_VM;
}

void cpu_iret(struct cpu *cpu, unsigned opsize)
{
    unsigned w = opsize;
    if (cpu->mode == MODE_REAL || cpu->mode == MODE_V86) {
        iret_real(cpu, w);
        cpu->s.nmi_masked = 0;
        return;
    }
    if (cpu->s.rflags & FL_NT) {
        if (cpu_long_mode(cpu))
            gp(cpu, 0);
        /* return to the task in the back link of this TSS */
        uint16_t link = (uint16_t)cpu_read_lin(cpu, cpu->s.tr.base, 2,
                                               ACC_SUPER);
        cpu_task_switch(cpu, link, TASK_IRET, false, 0);
        cpu->s.nmi_masked = 0;
        return;
    }
    uint64_t off = stack_peek(cpu, 0, w);
    uint16_t sel = (uint16_t)stack_peek(cpu, w, w);
    uint64_t fl = stack_peek(cpu, 2 * w, w);
    if (w == 4 && (fl & FL_VM) && cpu->cpl == 0 && !cpu_long_mode(cpu)) {
        iret_to_v86(cpu, off, sel, fl);
        cpu->s.nmi_masked = 0;
        return;
    }
    uint64_t clo = return_code(cpu, sel);
    unsigned rpl = sel & 3u;
    uint64_t newfl = iret_flags(cpu, fl, w);
    if (w == 2)
        newfl = (cpu_get_rflags(cpu) & ~0xffffull) | (newfl & 0xffff);
    if ((int)rpl == cpu->cpl && cpu->mode != MODE_LONG64) {
        check_target(cpu, clo, off);
        stack_add(cpu, 3 * w);
        commit_cs(cpu, sel, clo, rpl, off);
        cpu_set_rflags(cpu, newfl);
    } else {
        uint64_t sp = stack_peek(cpu, 3 * w, w);
        uint16_t ss = (uint16_t)stack_peek(cpu, 4 * w, w);
        uint64_t slo = return_ss(cpu, ss, rpl, clo);
        check_target(cpu, clo, off);
        bool outer = (int)rpl > cpu->cpl;
        commit_cs(cpu, sel, clo, rpl, off);
        commit_outer_stack(cpu, ss, slo, rpl, sp);
        cpu_set_rflags(cpu, newfl);
        if (outer)
            seg_null_invalid_data(cpu);
    }
    cpu_update_mode(cpu);
    cpu->s.nmi_masked = 0;
}
