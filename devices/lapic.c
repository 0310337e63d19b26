/* The local APIC in xAPIC mode (Intel SDM vol. 3, chapter 10): registers,
 * priorities and the acknowledge/EOI cycle, the ICR, the LVT inputs, the
 * IA32_APIC_BASE MSR and the wire to the vCPU. The timer lives in
 * lapic_timer.c, message routing in apic_bus.c. */
#include "devices/lapic.h"

#include <errno.h>
#include "devices/lapic_timer.h"
#include "vm/log.h"

/* Writable bits of each LVT register */
static const uint32_t lvt_writable[LAPIC_LVT_COUNT] = {
    [LAPIC_LVT_TIMER] = 0x000700FF,   /* vector, mask, timer mode */
    [LAPIC_LVT_THERMAL] = 0x000107FF, /* vector, delivery mode, mask */
    [LAPIC_LVT_PERF] = 0x000107FF,
    [LAPIC_LVT_LINT0] = 0x0001A7FF,   /* + polarity, trigger mode */
    [LAPIC_LVT_LINT1] = 0x0001A7FF,
    [LAPIC_LVT_ERROR] = 0x000100FF,
};
#define ICR_LO_WRITABLE 0x000CCFFFu

static void lapic_update(struct lapic *s);
static void lapic_set_error(struct lapic *s, uint32_t bit);
static void lapic_lint_service(struct lapic *s, int pin, bool was_asserted);

/* --- bitmaps and priorities --- */

static int vec_highest(const uint32_t *bits)
{
    for (int i = 7; i >= 0; i--)
        if (bits[i])
            return i * 32 + 31 - __builtin_clz(bits[i]);
    return -1;
}

static bool vec_test(const uint32_t *bits, unsigned v)
{
    return (bits[v >> 5] >> (v & 31)) & 1;
}

static void vec_set(uint32_t *bits, unsigned v)
{
    bits[v >> 5] |= 1u << (v & 31);
}

static void vec_clear(uint32_t *bits, unsigned v)
{
    bits[v >> 5] &= ~(1u << (v & 31));
}

bool lapic_hw_enabled(const struct lapic *s)
{
    return (s->st.apic_base & APIC_BASE_ENABLE) != 0;
}

static bool sw_enabled(const struct lapic *s)
{
    return (s->st.svr & APIC_SVR_ENABLE) != 0;
}

static uint64_t apic_base_addr(const struct lapic *s)
{
    return s->st.apic_base & APIC_BASE_ADDR_MASK;
}

static unsigned lvt_mode(uint32_t lvt)
{
    return (lvt >> APIC_LVT_DELIVERY_SHIFT) & 7;
}

static uint32_t lapic_ppr(const struct lapic *s)
{
    int isrv = vec_highest(s->st.isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    if ((s->st.tpr & 0xF0) >= isr_class)
        return s->st.tpr & 0xFF;
    return isr_class;
}

uint8_t lapic_arb_priority(const struct lapic *s)
{
    int isrv = vec_highest(s->st.isr), irrv = vec_highest(s->st.irr);
    uint32_t tpr = s->st.tpr & 0xF0;
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    uint32_t irr_class = irrv < 0 ? 0 : (uint32_t)irrv & 0xF0;
    if (tpr >= irr_class && tpr > isr_class)
        return s->st.tpr & 0xFF;
    uint32_t apr = tpr;
    if (isr_class > apr)
        apr = isr_class;
    if (irr_class > apr)
        apr = irr_class;
    return apr;
}

bool lapic_is_focus(const struct lapic *s, uint8_t vector)
{
    if (s->st.svr & APIC_SVR_FOCUS_OFF)
        return false;
    return vec_test(s->st.irr, vector) || vec_test(s->st.isr, vector);
}

/* The fixed interrupt the CPU would take now, or -1 */
static int fixed_pending(const struct lapic *s)
{
    if (!lapic_hw_enabled(s) || !sw_enabled(s))
        return -1;
    int v = vec_highest(s->st.irr);
    if (v < 0 || ((uint32_t)v & 0xF0) <= (lapic_ppr(s) & 0xF0))
        return -1;
    return v;
}

/* The 8259's INTR reaches the CPU: directly while the APIC is off, through
 * LINT0 in ExtINT mode while it is on */
static bool extint_path(const struct lapic *s)
{
    uint32_t lvt = s->st.lvt[LAPIC_LVT_LINT0];
    if (!lapic_hw_enabled(s))
        return true;
    return !(lvt & APIC_LVT_MASKED) && lvt_mode(lvt) == APIC_DM_EXTINT;
}

static bool extint_pending(const struct lapic *s)
{
    return s->st.extint_msg || (extint_path(s) && s->st.lint_level[0]);
}

static void lapic_update(struct lapic *s)
{
    vcpu_link_set_intr(s->link, fixed_pending(s) >= 0 || extint_pending(s));
}

/* --- accepting interrupts --- */

static void accept_fixed(struct lapic *s, uint8_t vector, bool level)
{
    if (vector < 16) {
        lapic_set_error(s, APIC_ESR_RECV_ILLEGAL);
        return;
    }
    if (!sw_enabled(s))
        return;
    vec_set(s->st.irr, vector);
    if (level)
        vec_set(s->st.tmr, vector);
    else
        vec_clear(s->st.tmr, vector);
    lapic_update(s);
}

/* INIT: back to the wait-for-SIPI state (SDM 10.4.7.3); the ID, the base
 * MSR and the input wires keep their values */
static void lapic_init_reset(struct lapic *s)
{
    struct lapic_state *st = &s->st;
    for (int i = 0; i < 8; i++)
        st->isr[i] = st->tmr[i] = st->irr[i] = 0;
    st->tpr = st->ldr = 0;
    st->dfr = 0xFFFFFFFF;
    st->svr = 0xFF;
    st->esr = st->esr_pending = 0;
    st->icr_lo = st->icr_hi = 0;
    for (int i = 0; i < LAPIC_LVT_COUNT; i++)
        st->lvt[i] = APIC_LVT_MASKED;
    st->extint_msg = false;
    lapic_timer_stop(s);
}

void lapic_deliver(struct lapic *s, const struct apic_msg *m)
{
    bool deassert = m->level && !m->assert;
    switch (m->delivery) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        if (!deassert)
            accept_fixed(s, m->vector, m->level);
        break;
    case APIC_DM_SMI:
        vcpu_link_raise(s->link, VCPU_EV_SMI);
        break;
    case APIC_DM_NMI:
        vcpu_link_raise(s->link, VCPU_EV_NMI);
        break;
    case APIC_DM_INIT:
        if (deassert) /* INIT level de-assert: only syncs arbitration IDs */
            break;
        lapic_init_reset(s);
        lapic_update(s);
        vcpu_link_raise(s->link, VCPU_EV_INIT);
        break;
    case APIC_DM_STARTUP:
        s->link->sipi_vector = m->vector;
        vcpu_link_raise(s->link, VCPU_EV_SIPI);
        break;
    case APIC_DM_EXTINT:
        s->st.extint_msg = true;
        lapic_update(s);
        break;
    default: /* reserved mode 3: ignored */
        break;
    }
}

void lapic_local_interrupt(struct lapic *s, enum lapic_lvt which)
{
    uint32_t lvt = s->st.lvt[which];
    if (lvt & APIC_LVT_MASKED)
        return;
    unsigned mode = lvt_mode(lvt);
    if (which == LAPIC_LVT_TIMER || which == LAPIC_LVT_ERROR)
        mode = APIC_DM_FIXED;
    /* ExtINT is the level-sensitive INTR path (extint_pending); lowest
     * priority and startup are reserved in an LVT */
    if (mode != APIC_DM_FIXED && mode != APIC_DM_SMI && mode != APIC_DM_NMI &&
        mode != APIC_DM_INIT)
        return;
    struct apic_msg m = {
        .vector = lvt & 0xFF,
        .delivery = mode,
        .level = mode == APIC_DM_FIXED && (which == LAPIC_LVT_LINT0 ||
                                           which == LAPIC_LVT_LINT1) &&
                 (lvt & APIC_LVT_LEVEL),
        .assert = true,
    };
    lapic_deliver(s, &m);
}

static void lapic_set_error(struct lapic *s, uint32_t bit)
{
    if (s->st.esr_pending & bit)
        return;
    s->st.esr_pending |= bit;
    lapic_local_interrupt(s, LAPIC_LVT_ERROR);
}

/* --- the vCPU's side: acknowledge, CR8 --- */

static int lapic_intr_ack(void *ic)
{
    struct lapic *s = ic;
    int v = fixed_pending(s);
    if (v >= 0) {
        vec_clear(s->st.irr, v);
        vec_set(s->st.isr, v);
        lapic_update(s);
        return v;
    }
    if (extint_pending(s)) {
        s->st.extint_msg = false;
        v = s->extint_ack ? s->extint_ack(s->extint_opaque) : -1;
        lapic_update(s);
        return v;
    }
    if (!lapic_hw_enabled(s))
        return -1;
    return s->st.svr & 0xFF; /* the interrupt went away: spurious */
}

static uint8_t lapic_get_cr8(void *ic)
{
    struct lapic *s = ic;
    return (s->st.tpr >> 4) & 0xF;
}

static void lapic_set_cr8(void *ic, uint8_t cr8)
{
    struct lapic *s = ic;
    s->st.tpr = (uint32_t)(cr8 & 0xF) << 4;
    lapic_update(s);
}

/* --- EOI and the LINT inputs --- */

static void lapic_eoi(struct lapic *s)
{
    int v = vec_highest(s->st.isr);
    if (v < 0)
        return;
    vec_clear(s->st.isr, v);
    if (vec_test(s->st.tmr, v)) {
        for (int pin = 0; pin < 2; pin++) {
            uint32_t *lvt = &s->st.lvt[LAPIC_LVT_LINT0 + pin];
            if ((*lvt & APIC_LVT_REMOTE_IRR) && (*lvt & 0xFF) == (uint32_t)v) {
                *lvt &= ~APIC_LVT_REMOTE_IRR;
                lapic_lint_service(s, pin, true);
            }
        }
        apic_bus_eoi(s->bus, v);
    }
    lapic_update(s);
}

static bool lint_asserted(const struct lapic *s, int pin)
{
    uint32_t lvt = s->st.lvt[LAPIC_LVT_LINT0 + pin];
    return (s->st.lint_level[pin] != 0) != ((lvt & APIC_LVT_LOW_ACTIVE) != 0);
}

/* Act on LINT pin's state: level-triggered fixed inputs deliver while
 * asserted with remote IRR clear, the others on an asserting edge */
static void lapic_lint_service(struct lapic *s, int pin, bool was_asserted)
{
    enum lapic_lvt which = LAPIC_LVT_LINT0 + pin;
    uint32_t *lvt = &s->st.lvt[which];
    bool now = lint_asserted(s, pin);
    if (*lvt & APIC_LVT_MASKED)
        return;
    if (lvt_mode(*lvt) == APIC_DM_FIXED && (*lvt & APIC_LVT_LEVEL)) {
        if (now && !(*lvt & APIC_LVT_REMOTE_IRR)) {
            *lvt |= APIC_LVT_REMOTE_IRR;
            lapic_local_interrupt(s, which);
        }
    } else if (now && !was_asserted) {
        lapic_local_interrupt(s, which);
    }
}

static void lapic_lint_input(void *opaque, int pin, int level)
{
    struct lapic *s = opaque;
    if (pin < 0 || pin > 1)
        return;
    bool old_level = s->st.lint_level[pin];
    bool was = lint_asserted(s, pin);
    s->st.lint_level[pin] = level != 0;
    if (!lapic_hw_enabled(s)) {
        /* no APIC: LINT0 is INTR, LINT1 is NMI */
        if (pin == 1 && level && !old_level)
            vcpu_link_raise(s->link, VCPU_EV_NMI);
    } else {
        lapic_lint_service(s, pin, was);
    }
    lapic_update(s);
}

/* --- the ICR --- */

static void lapic_send_ipi(struct lapic *s)
{
    uint32_t lo = s->st.icr_lo;
    struct apic_msg m = {
        .vector = lo & 0xFF,
        .delivery = (lo >> 8) & 7,
        .dest = s->st.icr_hi >> 24,
        .shorthand = (lo >> APIC_ICR_SHORTHAND_SHIFT) & 3,
        .logical = (lo & APIC_ICR_LOGICAL) != 0,
        .level = (lo & APIC_ICR_LEVEL) != 0,
        .assert = (lo & APIC_ICR_ASSERT) != 0,
    };
    if ((m.delivery == APIC_DM_FIXED || m.delivery == APIC_DM_LOWEST) &&
        m.vector < 16) {
        lapic_set_error(s, APIC_ESR_SEND_ILLEGAL);
        return;
    }
    apic_bus_send(s->bus, &m, s);
}

bool lapic_match_dest(const struct lapic *s, uint8_t dest, bool logical)
{
    if (dest == 0xFF)
        return true;
    if (!logical)
        return dest == (s->st.id >> 24);
    uint8_t ldr = s->st.ldr >> 24;
    if ((s->st.dfr >> 28) == 0xF) /* flat */
        return (dest & ldr) != 0;
    /* cluster: cluster ID in the high nibble, members in the low one */
    return ((dest >> 4) == (ldr >> 4) || (dest >> 4) == 0xF) &&
           (dest & ldr & 0xF) != 0;
}

/* --- register access --- */

static uint32_t lapic_read_reg(struct lapic *s, uint32_t reg)
{
    struct lapic_state *st = &s->st;
    if (reg >= APIC_REG_ISR && reg < APIC_REG_ISR + 0x80)
        return st->isr[(reg - APIC_REG_ISR) >> 4];
    if (reg >= APIC_REG_TMR && reg < APIC_REG_TMR + 0x80)
        return st->tmr[(reg - APIC_REG_TMR) >> 4];
    if (reg >= APIC_REG_IRR && reg < APIC_REG_IRR + 0x80)
        return st->irr[(reg - APIC_REG_IRR) >> 4];
    if (reg >= APIC_REG_LVT && reg < APIC_REG_LVT + 0x10 * LAPIC_LVT_COUNT)
        return st->lvt[(reg - APIC_REG_LVT) >> 4];
    switch (reg) {
    case APIC_REG_ID: return st->id;
    case APIC_REG_VERSION: return LAPIC_VERSION;
    case APIC_REG_TPR: return st->tpr;
    case APIC_REG_APR: return lapic_arb_priority(s);
    case APIC_REG_PPR: return lapic_ppr(s);
    case APIC_REG_EOI: return 0; /* write-only */
    case APIC_REG_RRD: return 0;
    case APIC_REG_LDR: return st->ldr;
    case APIC_REG_DFR: return st->dfr;
    case APIC_REG_SVR: return st->svr;
    case APIC_REG_ESR: return st->esr;
    case APIC_REG_ICR_LO: return st->icr_lo;
    case APIC_REG_ICR_HI: return st->icr_hi;
    case APIC_REG_TIMER_INIT: return st->timer_initial;
    case APIC_REG_TIMER_CUR: return lapic_timer_current(s);
    case APIC_REG_TIMER_DIV: return st->timer_divide;
    }
    log_msg_rl(LOG_GUEST_ERRORS, "lapic: read of reserved register %#x\n",
               reg);
    lapic_set_error(s, APIC_ESR_ILLEGAL_REG);
    return 0;
}

static void lapic_write_lvt(struct lapic *s, enum lapic_lvt which,
                            uint32_t val)
{
    uint32_t old = s->st.lvt[which];
    val &= lvt_writable[which];
    if (!sw_enabled(s))
        val |= APIC_LVT_MASKED;
    /* delivery status is always idle: delivery is immediate */
    s->st.lvt[which] = val | (old & APIC_LVT_REMOTE_IRR);
    if (which == LAPIC_LVT_TIMER) {
        lapic_timer_lvt_changed(s, old);
    } else if (which == LAPIC_LVT_LINT0 || which == LAPIC_LVT_LINT1) {
        int pin = which - LAPIC_LVT_LINT0;
        if (!(val & APIC_LVT_LEVEL) || lvt_mode(val) != APIC_DM_FIXED)
            s->st.lvt[which] &= ~APIC_LVT_REMOTE_IRR;
        /* a level-triggered input held asserted delivers when unmasked */
        lapic_lint_service(s, pin, true);
    }
}

static void lapic_write_svr(struct lapic *s, uint32_t val)
{
    s->st.svr = val & 0x3FF;
    if (!sw_enabled(s))
        for (int i = 0; i < LAPIC_LVT_COUNT; i++)
            s->st.lvt[i] |= APIC_LVT_MASKED;
}

static void lapic_write_reg(struct lapic *s, uint32_t reg, uint32_t val)
{
    struct lapic_state *st = &s->st;
    if (reg >= APIC_REG_LVT && reg < APIC_REG_LVT + 0x10 * LAPIC_LVT_COUNT) {
        lapic_write_lvt(s, (reg - APIC_REG_LVT) >> 4, val);
    } else if (reg >= APIC_REG_ISR && reg < APIC_REG_IRR + 0x80) {
        /* ISR, TMR, IRR: read-only */
    } else {
        switch (reg) {
        case APIC_REG_ID: st->id = val & 0xFF000000; break;
        case APIC_REG_VERSION:
        case APIC_REG_APR:
        case APIC_REG_PPR:
        case APIC_REG_RRD:
        case APIC_REG_TIMER_CUR:
            break; /* read-only */
        case APIC_REG_TPR: st->tpr = val & 0xFF; break;
        case APIC_REG_EOI: lapic_eoi(s); break;
        case APIC_REG_LDR: st->ldr = val & 0xFF000000; break;
        case APIC_REG_DFR: st->dfr = val | 0x0FFFFFFF; break;
        case APIC_REG_SVR: lapic_write_svr(s, val); break;
        case APIC_REG_ESR:
            st->esr = st->esr_pending;
            st->esr_pending = 0;
            break;
        case APIC_REG_ICR_LO:
            st->icr_lo = val & ICR_LO_WRITABLE;
            lapic_send_ipi(s);
            break;
        case APIC_REG_ICR_HI: st->icr_hi = val & 0xFF000000; break;
        case APIC_REG_TIMER_INIT: lapic_timer_write_initial(s, val); break;
        case APIC_REG_TIMER_DIV: lapic_timer_write_divide(s, val); break;
        default:
            log_msg_rl(LOG_GUEST_ERRORS,
                       "lapic: write of reserved register %#x\n", reg);
            lapic_set_error(s, APIC_ESR_ILLEGAL_REG);
            break;
        }
    }
    lapic_update(s);
}

/* The page is shared by every vCPU's APIC at the same base: an access
 * reaches the APIC of the vCPU making it. NULL: that vCPU's APIC is off or
 * elsewhere, so nothing answers. */
static struct lapic *lapic_for_access(struct lapic *owner)
{
    struct vcpu_link *cur = vcpu_link_current;
    if (!cur || cur == owner->link || !cur->ic)
        return owner;
    struct lapic *s = cur->ic;
    if (!lapic_hw_enabled(s) || apic_base_addr(s) != apic_base_addr(owner))
        return NULL;
    return s;
}

/* Registers are 32 bits wide at 16-byte steps; narrower reads see their
 * bytes, the rest of each 16-byte slot reads as zero */
static uint64_t lapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    struct lapic *s = lapic_for_access(opaque);
    if (!s)
        return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
    unsigned byte = offset & 0xF;
    if (byte >= 4)
        return 0;
    uint64_t val = lapic_read_reg(s, offset & 0xFF0) >> (byte * 8);
    return size >= 8 ? val : val & ((1ULL << (size * 8)) - 1);
}

static void lapic_mmio_write(void *opaque, uint64_t offset, uint64_t value,
                             unsigned size)
{
    struct lapic *s = lapic_for_access(opaque);
    if (!s)
        return;
    if ((offset & 0xF) || size < 4) {
        log_msg_rl(LOG_GUEST_ERRORS,
                   "lapic: unaligned or narrow write at %#llx size %u\n",
                   (unsigned long long)offset, size);
        return;
    }
    lapic_write_reg(s, offset & 0xFF0, (uint32_t)value);
}

static const struct io_ops lapic_mmio_ops = {
    .read = lapic_mmio_read,
    .write = lapic_mmio_write,
};

/* --- IA32_APIC_BASE and the MSR callbacks --- */

static void lapic_sync_mmio(struct lapic *s)
{
    if (apic_base_addr(s) != s->mmio->base)
        mem_map_move(s->mem, s->mmio, apic_base_addr(s));
    if (lapic_hw_enabled(s) != s->mmio->enabled)
        mem_map_set_enabled(s->mem, s->mmio, lapic_hw_enabled(s));
}

static int lapic_write_base(struct lapic *s, uint64_t val)
{
    if (val & ~(APIC_BASE_ADDR_MASK | APIC_BASE_BSP | APIC_BASE_ENABLE))
        return -1; /* reserved bits, x2APIC (unsupported) */
    bool was_enabled = lapic_hw_enabled(s);
    s->st.apic_base = val;
    if (was_enabled && !lapic_hw_enabled(s))
        lapic_init_reset(s); /* the APIC's state is lost (SDM 10.4.3) */
    lapic_sync_mmio(s);
    lapic_update(s);
    return 0;
}

static int lapic_msr_read(void *ic, uint32_t msr, uint64_t *value)
{
    struct lapic *s = ic;
    switch (msr) {
    case MSR_IA32_APIC_BASE:
        *value = s->st.apic_base;
        return 0;
    case MSR_IA32_TSC_DEADLINE:
        *value = lapic_timer_read_deadline(s);
        return 0;
    }
    return -1;
}

static int lapic_msr_write(void *ic, uint32_t msr, uint64_t value)
{
    struct lapic *s = ic;
    switch (msr) {
    case MSR_IA32_APIC_BASE:
        return lapic_write_base(s, value);
    case MSR_IA32_TSC_DEADLINE:
        lapic_timer_write_deadline(s, value);
        return 0;
    }
    return -1;
}

/* --- setup --- */

void lapic_reset(struct lapic *s)
{
    bool bsp = s->link->index == 0;
    s->st.apic_base = LAPIC_DEFAULT_BASE | APIC_BASE_ENABLE |
                      (bsp ? APIC_BASE_BSP : 0);
    s->st.id = (uint32_t)s->link->index << 24;
    lapic_init_reset(s);
    /* as firmware leaves it (and QEMU/KVM reset it): the 8259 reaches the
     * BSP through LINT0 in ExtINT mode */
    if (bsp)
        s->st.lvt[LAPIC_LVT_LINT0] = APIC_DM_EXTINT << APIC_LVT_DELIVERY_SHIFT;
    lapic_sync_mmio(s);
    lapic_update(s);
}

int lapic_init(struct lapic *s, struct vcpu_link *link, struct apic_bus *bus,
               struct mem_map *mem, struct vclock *clock)
{
    *s = (struct lapic){
        .link = link, .bus = bus, .mem = mem, .clock = clock,
    };
    s->mmio = mem_map_add_mmio(mem, "lapic", LAPIC_DEFAULT_BASE,
                               LAPIC_MMIO_SIZE, &lapic_mmio_ops, s,
                               LAPIC_MMIO_PRIORITY);
    if (!s->mmio)
        return -ENOMEM;
    int err = apic_bus_attach(bus, s);
    if (err < 0)
        return err;
    for (int pin = 0; pin < 2; pin++)
        s->lint[pin] = (struct irq_line){ lapic_lint_input, s, pin };
    lapic_timer_init(s);
    link->ic = s;
    link->intr_ack = lapic_intr_ack;
    link->msr_read = lapic_msr_read;
    link->msr_write = lapic_msr_write;
    link->get_cr8 = lapic_get_cr8;
    link->set_cr8 = lapic_set_cr8;
    lapic_reset(s);
    return 0;
}

void lapic_set_extint(struct lapic *s, int (*ack)(void *opaque), void *opaque)
{
    s->extint_ack = ack;
    s->extint_opaque = opaque;
}

const struct irq_line *lapic_lint(struct lapic *s, int pin)
{
    return &s->lint[pin & 1];
}

void lapic_post_load(struct lapic *s)
{
    lapic_sync_mmio(s);
    lapic_timer_post_load(s);
    lapic_update(s);
}
