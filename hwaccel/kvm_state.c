/* struct x86_state to and from a KVM vCPU: REGS, SREGS (segments: KVM's
 * unpacked fields <-> the VMX access-rights layout x86_state uses), MSRS,
 * XSAVE (x86_state.xsave is KVM's layout), XCRS, VCPU_EVENTS (pending
 * exception, NMI, interrupt shadow, injected IRQ), DEBUGREGS. The halted
 * and wait-for-SIPI states are the backend's own (KVM tracks neither
 * without its irqchip). The
 * guest TSC is mirrored into the vcpu_link for the LAPIC's TSC-deadline
 * timer, and CR8 goes to the LAPIC's TPR. */
#include "hwaccel/kvm_int.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include "vm/clock.h"

enum {
    MSR_TSC = 0x10,
    MSR_APIC_BASE = 0x1b,
    MSR_SYSENTER_CS = 0x174,
    MSR_SYSENTER_ESP = 0x175,
    MSR_SYSENTER_EIP = 0x176,
    MSR_MISC_ENABLE = 0x1a0,
    MSR_MTRR_VAR = 0x200,
    MSR_MTRR_FIX64K = 0x250,
    MSR_MTRR_FIX16K = 0x258,   /* 0x258, 0x259 */
    MSR_MTRR_FIX4K = 0x268,    /* 0x268..0x26f */
    MSR_PAT = 0x277,
    MSR_MTRR_DEF_TYPE = 0x2ff,
    MSR_STAR = 0xc0000081u,
    MSR_LSTAR = 0xc0000082u,
    MSR_CSTAR = 0xc0000083u,
    MSR_SFMASK = 0xc0000084u,
    MSR_KERNEL_GS_BASE = 0xc0000102u,
    MSR_TSC_AUX = 0xc0000103u,
};

/* --- segments --- */

static void seg_from_kvm(struct x86_segment *d, const struct kvm_segment *k)
{
    d->base = k->base;
    d->limit = k->limit;
    d->selector = k->selector;
    d->attr = (k->type & 0xf) | (k->s ? SEG_ATTR_S : 0) |
              ((uint32_t)(k->dpl & 3) << 5) | (k->present ? SEG_ATTR_P : 0) |
              (k->avl ? SEG_ATTR_AVL : 0) | (k->l ? SEG_ATTR_L : 0) |
              (k->db ? SEG_ATTR_DB : 0) | (k->g ? SEG_ATTR_G : 0) |
              (k->unusable ? SEG_ATTR_UNUSABLE : 0);
}

static void seg_to_kvm(struct kvm_segment *k, const struct x86_segment *s)
{
    uint32_t a = s->attr;
    *k = (struct kvm_segment){
        .base = s->base,
        .limit = s->limit,
        .selector = s->selector,
        .type = SEG_ATTR_TYPE(a),
        .present = !!(a & SEG_ATTR_P),
        .dpl = SEG_ATTR_DPL(a),
        .db = !!(a & SEG_ATTR_DB),
        .s = !!(a & SEG_ATTR_S),
        .l = !!(a & SEG_ATTR_L),
        .g = !!(a & SEG_ATTR_G),
        .avl = !!(a & SEG_ATTR_AVL),
        .unusable = !!(a & SEG_ATTR_UNUSABLE),
    };
}

/* --- MSRs: the x86_state fields and their numbers --- */

struct msr_slot {
    uint32_t index;
    size_t offset; /* of the uint64_t in struct x86_state */
};

#define MS(i, f) {i, offsetof(struct x86_state, f)}
static const struct msr_slot msr_slots[] = {
    MS(MSR_STAR, star), MS(MSR_LSTAR, lstar), MS(MSR_CSTAR, cstar),
    MS(MSR_SFMASK, sfmask), MS(MSR_KERNEL_GS_BASE, kernel_gs_base),
    MS(MSR_SYSENTER_CS, sysenter_cs), MS(MSR_SYSENTER_ESP, sysenter_esp),
    MS(MSR_SYSENTER_EIP, sysenter_eip), MS(MSR_PAT, pat),
    MS(MSR_TSC_AUX, tsc_aux), MS(MSR_MISC_ENABLE, misc_enable),
    MS(MSR_TSC, tsc), MS(MSR_MTRR_DEF_TYPE, mtrr_def_type),
    MS(MSR_MTRR_FIX64K, mtrr_fixed[0]),
    MS(MSR_MTRR_FIX16K, mtrr_fixed[1]), MS(MSR_MTRR_FIX16K + 1, mtrr_fixed[2]),
    MS(MSR_MTRR_FIX4K, mtrr_fixed[3]), MS(MSR_MTRR_FIX4K + 1, mtrr_fixed[4]),
    MS(MSR_MTRR_FIX4K + 2, mtrr_fixed[5]), MS(MSR_MTRR_FIX4K + 3, mtrr_fixed[6]),
    MS(MSR_MTRR_FIX4K + 4, mtrr_fixed[7]), MS(MSR_MTRR_FIX4K + 5, mtrr_fixed[8]),
    MS(MSR_MTRR_FIX4K + 6, mtrr_fixed[9]), MS(MSR_MTRR_FIX4K + 7, mtrr_fixed[10]),
    MS(MSR_MTRR_VAR + 0, mtrr_var[0]), MS(MSR_MTRR_VAR + 1, mtrr_var[1]),
    MS(MSR_MTRR_VAR + 2, mtrr_var[2]), MS(MSR_MTRR_VAR + 3, mtrr_var[3]),
    MS(MSR_MTRR_VAR + 4, mtrr_var[4]), MS(MSR_MTRR_VAR + 5, mtrr_var[5]),
    MS(MSR_MTRR_VAR + 6, mtrr_var[6]), MS(MSR_MTRR_VAR + 7, mtrr_var[7]),
    MS(MSR_MTRR_VAR + 8, mtrr_var[8]), MS(MSR_MTRR_VAR + 9, mtrr_var[9]),
    MS(MSR_MTRR_VAR + 10, mtrr_var[10]), MS(MSR_MTRR_VAR + 11, mtrr_var[11]),
    MS(MSR_MTRR_VAR + 12, mtrr_var[12]), MS(MSR_MTRR_VAR + 13, mtrr_var[13]),
    MS(MSR_MTRR_VAR + 14, mtrr_var[14]), MS(MSR_MTRR_VAR + 15, mtrr_var[15]),
};
#define NMSRS (sizeof(msr_slots) / sizeof(msr_slots[0]))

/* struct kvm_msrs ends in a flexible array: room for n entries after it */
#define MSR_AREA(n)                                                            \
    union {                                                                    \
        struct kvm_msrs m;                                                     \
        uint8_t bytes[sizeof(struct kvm_msrs) +                                \
                      (n) * sizeof(struct kvm_msr_entry)];                     \
    }

/* KVM_GET/SET_MSRS stop at the first MSR the host refuses: go on past it,
 * so that one missing MSR (say TSC_AUX without RDTSCP) loses only itself.
 * Reads into `into` when it is set, else writes from `from`. */
static void msrs_xfer(struct kvm_vcpu *v, struct x86_state *into,
                      const struct x86_state *from)
{
    MSR_AREA(NMSRS) b;
    for (size_t first = 0; first < NMSRS;) {
        memset(&b, 0, sizeof(b));
        b.m.nmsrs = (uint32_t)(NMSRS - first);
        for (size_t i = first; i < NMSRS; i++) {
            b.m.entries[i - first].index = msr_slots[i].index;
            if (from)
                memcpy(&b.m.entries[i - first].data,
                       (const uint8_t *)from + msr_slots[i].offset, 8);
        }
        int n = ioctl(v->fd, into ? KVM_GET_MSRS : KVM_SET_MSRS, &b);
        if (n < 0)
            return;
        for (int i = 0; into && i < n; i++)
            memcpy((uint8_t *)into + msr_slots[first + i].offset,
                   &b.m.entries[i].data, 8);
        first += (size_t)n + 1; /* skip the refused one */
    }
}

int kvm_msr_get(struct kvm_vcpu *v, uint32_t index, uint64_t *value)
{
    MSR_AREA(1) b = {.m.nmsrs = 1};
    b.m.entries[0].index = index;
    if (ioctl(v->fd, KVM_GET_MSRS, &b) != 1)
        return -1;
    *value = b.m.entries[0].data;
    return 0;
}

int kvm_msr_set(struct kvm_vcpu *v, uint32_t index, uint64_t value)
{
    MSR_AREA(1) b = {.m.nmsrs = 1};
    b.m.entries[0].index = index;
    b.m.entries[0].data = value;
    return ioctl(v->fd, KVM_SET_MSRS, &b) == 1 ? 0 : -1;
}

static void tsc_to_link(struct kvm_vcpu *v, uint64_t tsc)
{
    int64_t ticks = clock_ns_to_ticks(vclock_now(v->vm->m->clock), VCLOCK_TSC_HZ);
    v->link->tsc_offset = (int64_t)(tsc - (uint64_t)ticks);
}

void kvm_state_sync_tsc(struct kvm_vcpu *v)
{
    uint64_t tsc;
    if (kvm_msr_get(v, MSR_TSC, &tsc) == 0)
        tsc_to_link(v, tsc);
}

/* --- events --- */

/* KVM's shadow bits are the other way round from x86_state's */
static uint8_t shadow_from_kvm(uint8_t k)
{
    return ((k & KVM_X86_SHADOW_INT_STI) ? SHADOW_STI : 0) |
           ((k & KVM_X86_SHADOW_INT_MOV_SS) ? SHADOW_MOV_SS : 0);
}

static uint8_t shadow_to_kvm(uint8_t s)
{
    return ((s & SHADOW_STI) ? KVM_X86_SHADOW_INT_STI : 0) |
           ((s & SHADOW_MOV_SS) ? KVM_X86_SHADOW_INT_MOV_SS : 0);
}

static void events_from_kvm(struct x86_state *s, const struct kvm_vcpu_events *e)
{
    s->exception_pending = e->exception.injected || e->exception.pending;
    s->exception_vector = s->exception_pending ? e->exception.nr : 0;
    s->exception_has_error = s->exception_pending && e->exception.has_error_code;
    s->exception_error = s->exception_has_error ? e->exception.error_code : 0;
    s->nmi_pending = e->nmi.pending || e->nmi.injected;
    s->nmi_masked = e->nmi.masked;
    s->interrupt_shadow = shadow_from_kvm(e->interrupt.shadow);
    s->injected_irq = e->interrupt.injected && !e->interrupt.soft
                          ? e->interrupt.nr : -1;
}

static void events_to_kvm(struct kvm_vcpu_events *e, const struct x86_state *s)
{
    memset(e, 0, sizeof(*e));
    e->exception.injected = s->exception_pending;
    e->exception.nr = s->exception_vector;
    e->exception.has_error_code = s->exception_has_error;
    e->exception.error_code = s->exception_error;
    e->nmi.pending = s->nmi_pending;
    e->nmi.masked = s->nmi_masked;
    e->interrupt.shadow = shadow_to_kvm(s->interrupt_shadow);
    if (s->injected_irq >= 0 && s->injected_irq < 256) {
        e->interrupt.injected = 1;
        e->interrupt.nr = (uint8_t)s->injected_irq;
    }
    e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
}

/* --- the whole state --- */

static const int kvm_gpr_order[16] = {
    /* kvm_regs: rax rbx rcx rdx rsi rdi rsp rbp r8..r15 */
    R_AX, R_BX, R_CX, R_DX, R_SI, R_DI, R_SP, R_BP,
    R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
};

static struct kvm_segment *sregs_seg(struct kvm_sregs *sr, int i)
{
    switch (i) {
    case S_ES: return &sr->es;
    case S_CS: return &sr->cs;
    case S_SS: return &sr->ss;
    case S_DS: return &sr->ds;
    case S_FS: return &sr->fs;
    default: return &sr->gs;
    }
}

int kvm_state_get(struct kvm_vcpu *v, struct x86_state *s)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_xcrs xcrs;
    struct kvm_vcpu_events ev;
    struct kvm_debugregs dbg;
    memset(s, 0, sizeof(*s));
    s->version = X86_STATE_VERSION;
    s->size = sizeof(*s);
    if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 ||
        ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0 ||
        ioctl(v->fd, KVM_GET_XSAVE, (struct kvm_xsave *)s->xsave) < 0 ||
        ioctl(v->fd, KVM_GET_XCRS, &xcrs) < 0 ||
        ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0 ||
        ioctl(v->fd, KVM_GET_DEBUGREGS, &dbg) < 0)
        return -errno;

    const __u64 *r = &regs.rax;
    for (int i = 0; i < 16; i++)
        s->gpr[kvm_gpr_order[i]] = r[i];
    s->rip = regs.rip;
    s->rflags = regs.rflags;

    for (int i = 0; i < 6; i++)
        seg_from_kvm(&s->seg[i], sregs_seg(&sregs, i));
    seg_from_kvm(&s->ldt, &sregs.ldt);
    seg_from_kvm(&s->tr, &sregs.tr);
    s->gdt.base = sregs.gdt.base;
    s->gdt.limit = sregs.gdt.limit;
    s->idt.base = sregs.idt.base;
    s->idt.limit = sregs.idt.limit;
    s->cr0 = sregs.cr0;
    s->cr2 = sregs.cr2;
    s->cr3 = sregs.cr3;
    s->cr4 = sregs.cr4;
    s->cr8 = sregs.cr8;
    s->efer = sregs.efer;

    s->xcr0 = 1;
    for (uint32_t i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++)
        if (xcrs.xcrs[i].xcr == 0)
            s->xcr0 = xcrs.xcrs[i].value;

    memcpy(s->dr, dbg.db, sizeof(dbg.db));
    s->dr[4] = s->dr[5] = 0;
    s->dr[6] = dbg.dr6;
    s->dr[7] = dbg.dr7;

    msrs_xfer(v, s, NULL);
    tsc_to_link(v, s->tsc);
    events_from_kvm(s, &ev);
    s->halted = v->halted;
    s->wait_sipi = v->wait_sipi;
    return 0;
}

int kvm_state_set(struct kvm_vcpu *v, const struct x86_state *s)
{
    struct kvm_regs regs = {0};
    __u64 *r = &regs.rax;
    for (int i = 0; i < 16; i++)
        r[i] = s->gpr[kvm_gpr_order[i]];
    regs.rip = s->rip;
    regs.rflags = s->rflags | FL_FIXED1;

    struct kvm_sregs sregs = {0};
    for (int i = 0; i < 6; i++)
        seg_to_kvm(sregs_seg(&sregs, i), &s->seg[i]);
    seg_to_kvm(&sregs.ldt, &s->ldt);
    seg_to_kvm(&sregs.tr, &s->tr);
    sregs.gdt.base = s->gdt.base;
    sregs.gdt.limit = s->gdt.limit;
    sregs.idt.base = s->idt.base;
    sregs.idt.limit = s->idt.limit;
    sregs.cr0 = s->cr0;
    sregs.cr2 = s->cr2;
    sregs.cr3 = s->cr3;
    sregs.cr4 = s->cr4;
    sregs.cr8 = s->cr8;
    sregs.efer = s->efer;
    uint64_t apic_base = 0;
    if (v->link->msr_read && v->link->msr_read(v->link->ic, MSR_APIC_BASE,
                                               &apic_base) == 0)
        sregs.apic_base = apic_base;
    else if (kvm_msr_get(v, MSR_APIC_BASE, &apic_base) == 0)
        sregs.apic_base = apic_base;

    struct kvm_xcrs xcrs = {.nr_xcrs = 1};
    xcrs.xcrs[0].xcr = 0;
    xcrs.xcrs[0].value = s->xcr0 ? s->xcr0 : 1;

    struct kvm_debugregs dbg = {0};
    memcpy(dbg.db, s->dr, sizeof(dbg.db));
    dbg.dr6 = s->dr[6];
    dbg.dr7 = s->dr[7];

    struct kvm_vcpu_events ev;
    events_to_kvm(&ev, s);

    /* XCR0 before XSAVE (the XSAVE image may use what XCR0 enables); SREGS
     * before the events (SREGS could queue an IRQ from its bitmap) */
    if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0 ||
        ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 ||
        ioctl(v->fd, KVM_SET_XCRS, &xcrs) < 0 ||
        ioctl(v->fd, KVM_SET_XSAVE, (const struct kvm_xsave *)s->xsave) < 0 ||
        ioctl(v->fd, KVM_SET_DEBUGREGS, &dbg) < 0 ||
        ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
        return -errno;
    msrs_xfer(v, NULL, s);
    tsc_to_link(v, s->tsc);
    if (v->link->set_cr8)
        v->link->set_cr8(v->link->ic, (uint8_t)(s->cr8 & 0xf));
    v->cr8 = (uint8_t)(s->cr8 & 0xf);
    v->run->cr8 = v->cr8;
    v->run->ready_for_interrupt_injection = 0; /* stale for this state */
    v->halted = s->halted;
    v->wait_sipi = s->wait_sipi;
    v->if_flag = (s->rflags & FL_IF) != 0;
    return 0;
}
