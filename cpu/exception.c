/* Exceptions and interrupt delivery: cpu_raise() unwinds to the run loop;
 * cpu_deliver_event() takes an event through the IVT (real mode) or the IDT
 * (protected mode, V86, long mode) with the privilege change and stack
 * switch of the SDM, and applies the double-fault rules when delivery
 * itself faults: a fault while delivering #DF is a triple fault, which sets
 * cpu->shutdown. Registers change only once a frame is fully written, so a
 * fault during delivery leaves the state as it was. */
#include <string.h>
#include <stdio.h>
#include "cpu/sys_internal.h"
#include "vm/log.h"
#include "vm/runstate.h"

bool exc_has_error_code(int v)
{
    return v == EXC_DF || (v >= EXC_TS && v <= EXC_PF) || v == EXC_AC ||
           v == 21;
}

static noreturn void raise_event(struct cpu *cpu, int vector, bool has_error,
                                 uint32_t error)
{
    cpu->s.exception_pending = 1;
    cpu->s.exception_vector = (uint8_t)vector;
    cpu->s.exception_has_error = has_error;
    cpu->s.exception_error = has_error ? error : 0;
    longjmp(cpu->fault_jmp, 1);
}

noreturn void cpu_raise(struct cpu *cpu, int vector, uint32_t error_code)
{
    raise_event(cpu, vector, exc_has_error_code(vector), error_code);
}

noreturn void cpu_raise_noerr(struct cpu *cpu, int vector)
{
    raise_event(cpu, vector, false, 0);
}

/* classes for the double-fault rules (SDM table "Conditions for
 * Generating a Double Fault") */
enum { CLASS_BENIGN, CLASS_CONTRIB, CLASS_PF, CLASS_DF };

static int exc_class(int vector, enum event_kind kind)
{
    if (kind != EV_EXCEPTION)
        return CLASS_BENIGN;
    switch (vector) {
    case EXC_DE: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP:
        return CLASS_CONTRIB;
    case EXC_PF:
        return CLASS_PF;
    case EXC_DF:
        return CLASS_DF;
    default:
        return CLASS_BENIGN;
    }
}

static bool is_soft(enum event_kind kind)
{
    return kind == EV_SOFTINT || kind == EV_INT3 || kind == EV_INTO;
}

struct event {
    int vector;
    enum event_kind kind;
    bool has_error;
    uint32_t error;
    uint64_t rip;     /* return address */
    bool ext;         /* EXT bit of error codes raised while delivering */
};

/* --- TSS stack pointers --- */

static uint64_t tss_read(struct cpu *cpu, uint32_t off, unsigned size,
                         bool ext)
{
    const struct x86_segment *tr = &cpu->s.tr;
    if ((tr->attr & SEG_ATTR_UNUSABLE) || off + size - 1 > tr->limit)
        cpu_raise(cpu, EXC_TS, SEL_ERR(tr->selector, ext));
    return cpu_read_lin(cpu, tr->base + off, size, ACC_SUPER);
}

void tss_inner_stack(struct cpu *cpu, unsigned dpl, bool ext, uint16_t *ss,
                     uint64_t *sp)
{
    unsigned type = SEG_ATTR_TYPE(cpu->s.tr.attr);
    if (type == SYS_TSS32_AVAIL || type == SYS_TSS32_BUSY) {
        *sp = tss_read(cpu, 4 + dpl * 8, 4, ext);
        *ss = (uint16_t)tss_read(cpu, 8 + dpl * 8, 2, ext);
    } else {
        *sp = tss_read(cpu, 2 + dpl * 4, 2, ext);
        *ss = (uint16_t)tss_read(cpu, 4 + dpl * 4, 2, ext);
    }
}

void frame_write(struct cpu *cpu, uint64_t lin, const void *frame,
                 unsigned len, unsigned w)
{
    const uint8_t *p = frame;
    cpu_write_lin_buf(cpu, lin + len - w, p + len - w, w,
                      ACC_WRITE | ACC_SUPER);
    cpu_write_lin_buf(cpu, lin, p, len - w, ACC_WRITE | ACC_SUPER);
}

/* --- real mode --- */

static void deliver_real(struct cpu *cpu, const struct event *ev)
{
    const struct x86_dtable *idt = &cpu->s.idt;
    if ((uint32_t)ev->vector * 4 + 3 > idt->limit)
        cpu_raise(cpu, EXC_GP, 0);
    uint32_t ent = (uint32_t)cpu_read_lin(cpu, idt->base + ev->vector * 4, 4,
                                          ACC_SUPER);
    cpu_push(cpu, cpu_get_rflags(cpu) & 0xffff, 2);
    cpu_push(cpu, cpu->s.seg[S_CS].selector, 2);
    cpu_push(cpu, ev->rip & 0xffff, 2);
    cpu->s.rflags &= ~(uint64_t)(FL_IF | FL_TF | FL_AC | FL_RF);
    cpu_load_seg_real(cpu, S_CS, ent >> 16);
    cpu->s.rip = ent & 0xffff;
}

/* --- protected mode and V86 --- */

/* Check the code segment a gate points to; returns its descriptor */
static uint64_t gate_target(struct cpu *cpu, uint16_t sel, bool ext,
                            bool want_64)
{
    uint64_t lo;
    if ((sel & ~3u) == 0)
        cpu_raise(cpu, EXC_GP, SEL_ERR(0, ext));
    seg_fetch_desc(cpu, sel, &lo, NULL, EXC_GP, ext);
    if (!DESC_S(lo) || !(DESC_TYPE(lo) & TYPE_CODE) ||
        (int)DESC_DPL(lo) > cpu->cpl ||
        (want_64 && (!(DESC_ATTR(lo) & SEG_ATTR_L) ||
                     (DESC_ATTR(lo) & SEG_ATTR_DB))))
        cpu_raise(cpu, EXC_GP, SEL_ERR(sel, ext));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_NP, SEL_ERR(sel, ext));
    return lo;
}

/* Validate the inner-ring SS from the TSS; returns its descriptor */
static uint64_t check_inner_ss(struct cpu *cpu, uint16_t ss, unsigned dpl,
                               bool ext)
{
    uint64_t lo;
    if ((ss & ~3u) == 0)
        cpu_raise(cpu, EXC_TS, SEL_ERR(0, ext));
    seg_fetch_desc(cpu, ss, &lo, NULL, EXC_TS, ext);
    unsigned type = DESC_TYPE(lo);
    if ((ss & 3u) != dpl || DESC_DPL(lo) != dpl || !DESC_S(lo) ||
        (type & TYPE_CODE) || !(type & TYPE_W))
        cpu_raise(cpu, EXC_TS, SEL_ERR(ss, ext));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_SS, SEL_ERR(ss, ext));
    return lo;
}

static void put_slot(uint8_t *frame, unsigned i, unsigned w, uint64_t v)
{
    memcpy(frame + i * w, &v, w);
}

static void deliver_prot(struct cpu *cpu, const struct event *ev)
{
    const struct x86_dtable *idt = &cpu->s.idt;
    bool ext = ev->ext, v86 = (cpu->s.rflags & FL_VM) != 0;
    uint32_t idt_err = IDT_ERR(ev->vector, ext);

    if (v86 && ev->kind == EV_SOFTINT &&
        (cpu->s.rflags & FL_IOPL) != FL_IOPL)
        cpu_raise(cpu, EXC_GP, 0);
    if ((uint32_t)ev->vector * 8 + 7 > idt->limit)
        cpu_raise(cpu, EXC_GP, idt_err);
    uint64_t g = cpu_read_lin(cpu, idt->base + ev->vector * 8, 8, ACC_SUPER);
    unsigned type = DESC_TYPE(g);
    if (DESC_S(g) || !(type == SYS_TASK_GATE || type == SYS_INT16 ||
                       type == SYS_TRAP16 || type == SYS_INT32 ||
                       type == SYS_TRAP32))
        cpu_raise(cpu, EXC_GP, idt_err);
    if (is_soft(ev->kind) && (int)DESC_DPL(g) < cpu->cpl)
        cpu_raise(cpu, EXC_GP, IDT_ERR(ev->vector, 0));
    if (!DESC_P(g))
        cpu_raise(cpu, EXC_NP, idt_err);

    uint16_t sel = (uint16_t)(g >> 16);
    if (type == SYS_TASK_GATE) {
        cpu->s.rip = ev->rip;
        cpu_task_switch(cpu, sel, TASK_INT, ev->has_error, ev->error);
        return;
    }

    bool gate32 = type >= SYS_INT32;
    unsigned w = gate32 ? 4 : 2;
    uint64_t target = gate32 ? ((g & 0xffff) | ((g >> 32) & 0xffff0000))
                             : (g & 0xffff);
    uint64_t cs_lo = gate_target(cpu, sel, ext, false);
    unsigned dpl = DESC_DPL(cs_lo);
    bool conforming = (DESC_TYPE(cs_lo) & TYPE_C) != 0;
    int new_cpl;

    uint8_t frame[10 * 4];
    unsigned n = 0;
    uint64_t rflags = cpu_get_rflags(cpu);
    if (ev->has_error)
        put_slot(frame, n++, w, ev->error);
    put_slot(frame, n++, w, ev->rip);
    put_slot(frame, n++, w, cpu->s.seg[S_CS].selector);
    put_slot(frame, n++, w, rflags);

    struct x86_segment ssc;
    uint64_t ss_lo = 0, sp;
    uint16_t ss_sel;
    if (!conforming && (int)dpl < cpu->cpl) {
        if (v86 && dpl != 0)
            cpu_raise(cpu, EXC_GP, SEL_ERR(sel, ext));
        new_cpl = dpl;
        tss_inner_stack(cpu, dpl, ext, &ss_sel, &sp);
        ss_lo = check_inner_ss(cpu, ss_sel, dpl, ext);
        cpu_desc_to_seg(ss_lo, 0, ss_sel, &ssc);
        put_slot(frame, n++, w, cpu->s.gpr[R_SP]);
        put_slot(frame, n++, w, cpu->s.seg[S_SS].selector);
        if (v86) {
            put_slot(frame, n++, w, cpu->s.seg[S_ES].selector);
            put_slot(frame, n++, w, cpu->s.seg[S_DS].selector);
            put_slot(frame, n++, w, cpu->s.seg[S_FS].selector);
            put_slot(frame, n++, w, cpu->s.seg[S_GS].selector);
        }
    } else if (conforming || (int)dpl == cpu->cpl) {
        if (v86)
            cpu_raise(cpu, EXC_GP, SEL_ERR(sel, ext));
        new_cpl = cpu->cpl;
        ssc = cpu->s.seg[S_SS];
        ss_sel = ssc.selector;
        sp = cpu->s.gpr[R_SP];
    } else {
        cpu_raise(cpu, EXC_GP, SEL_ERR(sel, ext));
    }

    /* the new CS limit, then the frame: all checks before any change */
    struct x86_segment csc;
    cpu_desc_to_seg(cs_lo, 0, sel, &csc);
    if (target > csc.limit)
        cpu_raise(cpu, EXC_GP, SEL_ERR(0, ext));
    uint64_t mask = (ssc.attr & SEG_ATTR_DB) ? 0xffffffffu : 0xffffu;
    uint64_t new_sp = (sp - n * w) & mask;
    bool ss_switch = ss_lo != 0;
    uint64_t lin = seg_lin_checked(cpu, &ssc, true, new_sp, n * w, ACC_WRITE,
                                   ss_switch ? SEL_ERR(ss_sel, ext)
                                             : SEL_ERR(0, ext));
    frame_write(cpu, lin, frame, n * w, w);
    if (ss_switch)
        seg_set_accessed(cpu, ss_sel, ss_lo);
    seg_set_accessed(cpu, sel, cs_lo);

    /* commit */
    cpu->s.rflags &= ~(uint64_t)(FL_TF | FL_NT | FL_RF | FL_VM);
    if (type == SYS_INT16 || type == SYS_INT32)
        cpu->s.rflags &= ~(uint64_t)FL_IF;
    if (v86) {
        seg_load_null(cpu, S_ES, 0);
        seg_load_null(cpu, S_DS, 0);
        seg_load_null(cpu, S_FS, 0);
        seg_load_null(cpu, S_GS, 0);
    }
    if (ss_switch)
        seg_load_desc(cpu, S_SS, ss_sel, ss_lo, 0);
    cpu->s.gpr[R_SP] = (sp & ~mask) | new_sp;
    seg_load_desc(cpu, S_CS, (sel & ~3u) | new_cpl, cs_lo, 0);
    cpu->s.rip = target;
}

/* --- long mode --- */

static void deliver_long(struct cpu *cpu, const struct event *ev)
{
    const struct x86_dtable *idt = &cpu->s.idt;
    bool ext = ev->ext;
    uint32_t idt_err = IDT_ERR(ev->vector, ext);

    if ((uint32_t)ev->vector * 16 + 15 > idt->limit)
        cpu_raise(cpu, EXC_GP, idt_err);
    uint64_t lo = cpu_read_lin(cpu, idt->base + ev->vector * 16, 8, ACC_SUPER);
    uint64_t hi = cpu_read_lin(cpu, idt->base + ev->vector * 16 + 8, 8,
                               ACC_SUPER);
    unsigned type = DESC_TYPE(lo);
    if (DESC_S(lo) || (type != SYS_INT32 && type != SYS_TRAP32))
        cpu_raise(cpu, EXC_GP, idt_err);
    if (is_soft(ev->kind) && (int)DESC_DPL(lo) < cpu->cpl)
        cpu_raise(cpu, EXC_GP, IDT_ERR(ev->vector, 0));
    if (!DESC_P(lo))
        cpu_raise(cpu, EXC_NP, idt_err);

    uint16_t sel = (uint16_t)(lo >> 16);
    uint64_t target = (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | (hi << 32);
    unsigned ist = (lo >> 32) & 7;
    uint64_t cs_lo = gate_target(cpu, sel, ext, true);
    unsigned dpl = DESC_DPL(cs_lo);
    bool conforming = (DESC_TYPE(cs_lo) & TYPE_C) != 0;
    int new_cpl = cpu->cpl;
    if (!conforming && (int)dpl < cpu->cpl)
        new_cpl = dpl;
    else if (!conforming && (int)dpl != cpu->cpl)
        cpu_raise(cpu, EXC_GP, SEL_ERR(sel, ext));

    uint64_t rsp = cpu->s.gpr[R_SP];
    if (cpu->mode != MODE_LONG64)
        rsp &= cpu->stack_size == 4 ? 0xffffffffull : 0xffffull;
    if (ist)
        rsp = tss_read(cpu, 0x24 + (ist - 1) * 8, 8, ext);
    else if (new_cpl != cpu->cpl)
        rsp = tss_read(cpu, 4 + new_cpl * 8, 8, ext);
    rsp &= ~15ull;

    uint64_t frame[6];
    unsigned n = 0;
    if (ev->has_error)
        frame[n++] = ev->error;
    frame[n++] = ev->rip;
    frame[n++] = cpu->s.seg[S_CS].selector;
    frame[n++] = cpu_get_rflags(cpu);
    frame[n++] = cpu->s.gpr[R_SP];
    frame[n++] = cpu->s.seg[S_SS].selector;
    uint64_t new_rsp = rsp - n * 8;
    if (!is_canonical(new_rsp) || !is_canonical(rsp - 1))
        cpu_raise(cpu, EXC_SS, SEL_ERR(0, ext));
    if (!is_canonical(target))
        cpu_raise(cpu, EXC_GP, SEL_ERR(0, ext));
    frame_write(cpu, new_rsp, frame, n * 8, 8);
    seg_set_accessed(cpu, sel, cs_lo);

    cpu->s.rflags &= ~(uint64_t)(FL_TF | FL_NT | FL_RF | FL_VM);
    if (type == SYS_INT32)
        cpu->s.rflags &= ~(uint64_t)FL_IF;
    if (new_cpl != cpu->cpl)
        seg_load_null_ss(cpu, (uint16_t)new_cpl, new_cpl);
    cpu->s.gpr[R_SP] = new_rsp;
    seg_load_desc(cpu, S_CS, (sel & ~3u) | new_cpl, cs_lo, 0);
    cpu->s.rip = target;
}

/* The user-visible reason of a triple fault names the three exceptions
 * (first: being delivered, second: raised meanwhile, so #DF; third: raised
 * while delivering #DF);
 * the main loop prints it when it resets or exits (-no-reboot). */
static void report_triple_fault(int first, int second, int third)
{
    static const char *const names[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09",
        "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",
        "#VE", "#CP",
    };
    static char reason[96];
    const char *n[3];
    int v[3] = {first, second, third};
    for (int i = 0; i < 3; i++)
        n[i] = v[i] >= 0 && v[i] < 32 && names[v[i]] ? names[v[i]] : "vector";
    snprintf(reason, sizeof(reason),
             "triple fault: %s while delivering %s, then %s while delivering #DF",
             n[1], n[0], n[2]);
    log_msg(LOG_INT | LOG_GUEST_ERRORS, "%s\n", reason);
    vm_request(VM_REQ_RESET, reason);
}

static void deliver_one(struct cpu *cpu, const struct event *ev)
{
    if (cpu->mode == MODE_REAL)
        deliver_real(cpu, ev);
    else if (cpu_long_mode(cpu))
        deliver_long(cpu, ev);
    else
        deliver_prot(cpu, ev);
}

void cpu_deliver_event(struct cpu *cpu, int vector, enum event_kind kind,
                       bool has_error, uint32_t error_code, uint64_t next_rip)
{
    jmp_buf outer;
    memcpy(outer, cpu->fault_jmp, sizeof(outer));
    volatile struct event ev = {
        .vector = vector, .kind = kind, .has_error = has_error,
        .error = error_code, .rip = next_rip, .ext = !is_soft(kind),
    };
    uint64_t rsp = cpu->s.gpr[R_SP];
    cpu->s.exception_pending = 0;
    cpu->exc_depth = 0;
    cpu->exc_first = vector;
    cpu->exc_second = cpu->exc_third = -1;

    for (;;) {
        log_msg(LOG_INT, "int: vector %#x kind %d err %#x at %04x:%#llx\n",
                ev.vector, (int)ev.kind, ev.has_error ? ev.error : 0,
                cpu->s.seg[S_CS].selector, (unsigned long long)ev.rip);
        if (setjmp(cpu->fault_jmp) == 0) {
            struct event e = ev;
            deliver_one(cpu, &e);
            break;
        }
        /* delivery faulted: nothing was committed but RSP (real mode) */
        cpu->s.gpr[R_SP] = rsp;
        cpu->s.exception_pending = 0;
        cpu->exc_depth++;
        int nv = cpu->s.exception_vector;
        int c1 = exc_class(ev.vector, ev.kind), c2 = exc_class(nv, EV_EXCEPTION);
        if (c1 == CLASS_DF && (c2 == CLASS_CONTRIB || c2 == CLASS_PF)) {
            cpu->exc_third = nv;
            cpu->shutdown = true;
            report_triple_fault(cpu->exc_first, cpu->exc_second, nv);
            break;
        }
        /* software interrupts return to their own instruction on a fault */
        if (is_soft(ev.kind))
            ev.rip = cpu->insn_rip;
        if ((c1 == CLASS_CONTRIB && c2 == CLASS_CONTRIB) ||
            (c1 == CLASS_PF && (c2 == CLASS_CONTRIB || c2 == CLASS_PF))) {
            cpu->exc_first = ev.vector;
            cpu->exc_second = nv;
            ev.vector = EXC_DF;
            ev.has_error = true;
            ev.error = 0;
        } else {
            ev.vector = nv;
            ev.has_error = cpu->s.exception_has_error;
            ev.error = cpu->s.exception_error;
        }
        ev.kind = EV_EXCEPTION;
        ev.ext = true;
    }
    memcpy(cpu->fault_jmp, outer, sizeof(outer));
    if (!cpu->shutdown) {
        if (ev.kind == EV_NMI)
            cpu->s.nmi_masked = 1;
        cpu->s.interrupt_shadow = 0;
        cpu->s.halted = 0;
    }
}
