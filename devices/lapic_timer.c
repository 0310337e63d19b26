/* The local APIC timer (SDM 10.5.4): a 32-bit count down at LAPIC_BUS_HZ
 * divided by the divide configuration, one-shot or periodic, or the
 * TSC-deadline mode armed by MSR 0x6E0. The current count is computed from
 * the virtual clock when read; one vtimer fires the expiries. */
#include "devices/lapic_timer.h"

static unsigned timer_mode(const struct lapic *s)
{
    return (s->st.lvt[LAPIC_LVT_TIMER] >> APIC_LVT_TIMER_SHIFT) & 3;
}

/* divide configuration bits 3,1,0: 000 = /2 ... 110 = /128, 111 = /1 */
static unsigned div_shift(uint32_t dcr)
{
    unsigned v = (dcr & 3) | ((dcr >> 1) & 4);
    return (v + 1) & 7;
}

/* Nanoseconds that `counts` decrements take */
static int64_t counts_to_ns(const struct lapic *s, uint64_t counts)
{
    return clock_ticks_to_ns((int64_t)(counts << div_shift(s->st.timer_divide)),
                             LAPIC_BUS_HZ);
}

static void timer_arm(struct lapic *s, int64_t next)
{
    s->st.timer_next = next;
    if (next == VCLOCK_NEVER)
        vtimer_del(&s->timer);
    else
        vtimer_mod(&s->timer, next);
}

/* The count left in `mode`, from the clock */
static uint32_t count_left(struct lapic *s, unsigned mode)
{
    struct lapic_state *st = &s->st;
    if (mode == APIC_TIMER_TSC_DEADLINE || st->timer_initial == 0 ||
        st->timer_next == VCLOCK_NEVER)
        return 0;
    int64_t elapsed = vclock_now(s->clock) - st->timer_start;
    uint64_t ticks = (uint64_t)clock_ns_to_ticks(elapsed, LAPIC_BUS_HZ) >>
                     div_shift(st->timer_divide);
    if (mode == APIC_TIMER_PERIODIC)
        return st->timer_initial - (uint32_t)(ticks % st->timer_initial);
    return ticks >= st->timer_initial ? 0 : st->timer_initial - (uint32_t)ticks;
}

/* Arm the next count expiry after timer_start (periodic: the first one
 * after now) */
static void schedule_count(struct lapic *s)
{
    struct lapic_state *st = &s->st;
    if (st->timer_initial == 0) {
        timer_arm(s, VCLOCK_NEVER);
        return;
    }
    int64_t period = counts_to_ns(s, st->timer_initial);
    if (period < 1)
        period = 1;
    int64_t next = st->timer_start + period;
    if (timer_mode(s) == APIC_TIMER_PERIODIC) {
        int64_t elapsed = vclock_now(s->clock) - st->timer_start;
        next = st->timer_start + (elapsed / period + 1) * period;
    }
    timer_arm(s, next);
}

static uint64_t guest_tsc(struct lapic *s)
{
    return (uint64_t)clock_ns_to_ticks(vclock_now(s->clock), VCLOCK_TSC_HZ) +
           (uint64_t)s->link->tsc_offset;
}

static void schedule_deadline(struct lapic *s)
{
    uint64_t deadline = s->st.tsc_deadline;
    if (deadline == 0) {
        timer_arm(s, VCLOCK_NEVER);
        return;
    }
    int64_t diff = (int64_t)(deadline - guest_tsc(s));
    if (diff <= 0) { /* already passed: fire now */
        s->st.tsc_deadline = 0;
        timer_arm(s, VCLOCK_NEVER);
        lapic_local_interrupt(s, LAPIC_LVT_TIMER);
        return;
    }
    if (diff > INT64_MAX / 4) { /* centuries away */
        timer_arm(s, VCLOCK_NEVER);
        return;
    }
    /* round up so that the TSC has reached the deadline at expiry */
    int64_t ns = clock_ticks_to_ns(diff, VCLOCK_TSC_HZ);
    while (clock_ns_to_ticks(ns, VCLOCK_TSC_HZ) < diff)
        ns++;
    timer_arm(s, vclock_now(s->clock) + ns);
}

static void lapic_timer_expired(void *opaque)
{
    struct lapic *s = opaque;
    switch (timer_mode(s)) {
    case APIC_TIMER_TSC_DEADLINE:
        s->st.tsc_deadline = 0;
        s->st.timer_next = VCLOCK_NEVER;
        break;
    case APIC_TIMER_PERIODIC:
        schedule_count(s);
        break;
    default:
        s->st.timer_next = VCLOCK_NEVER;
        break;
    }
    lapic_local_interrupt(s, LAPIC_LVT_TIMER);
}

void lapic_timer_init(struct lapic *s)
{
    vtimer_init(&s->timer, s->clock, lapic_timer_expired, s);
    s->st.timer_next = VCLOCK_NEVER;
}

void lapic_timer_stop(struct lapic *s)
{
    s->st.timer_initial = s->st.timer_divide = 0;
    s->st.timer_start = 0;
    s->st.tsc_deadline = 0;
    timer_arm(s, VCLOCK_NEVER);
}

void lapic_timer_post_load(struct lapic *s)
{
    timer_arm(s, s->st.timer_next);
}

uint32_t lapic_timer_current(struct lapic *s)
{
    return count_left(s, timer_mode(s));
}

void lapic_timer_write_initial(struct lapic *s, uint32_t count)
{
    if (timer_mode(s) == APIC_TIMER_TSC_DEADLINE)
        return;
    s->st.timer_initial = count;
    s->st.timer_start = vclock_now(s->clock);
    schedule_count(s);
}

/* A running count goes on from where it is at the new rate/mode */
static void rebase(struct lapic *s, uint32_t left)
{
    s->st.timer_start = vclock_now(s->clock) -
                        counts_to_ns(s, s->st.timer_initial - left);
    schedule_count(s);
}

void lapic_timer_write_divide(struct lapic *s, uint32_t dcr)
{
    bool running = s->st.timer_next != VCLOCK_NEVER &&
                   timer_mode(s) != APIC_TIMER_TSC_DEADLINE;
    uint32_t left = count_left(s, timer_mode(s));
    s->st.timer_divide = dcr & 0xB;
    if (running)
        rebase(s, left);
}

void lapic_timer_lvt_changed(struct lapic *s, uint32_t old)
{
    unsigned old_mode = (old >> APIC_LVT_TIMER_SHIFT) & 3;
    unsigned mode = timer_mode(s);
    if (old_mode == mode)
        return;
    if (old_mode == APIC_TIMER_TSC_DEADLINE ||
        mode == APIC_TIMER_TSC_DEADLINE) {
        /* entering or leaving TSC-deadline mode disarms the timer */
        s->st.timer_initial = 0;
        s->st.tsc_deadline = 0;
        timer_arm(s, VCLOCK_NEVER);
        return;
    }
    if (s->st.timer_next != VCLOCK_NEVER)
        rebase(s, count_left(s, old_mode));
}

uint64_t lapic_timer_read_deadline(struct lapic *s)
{
    return timer_mode(s) == APIC_TIMER_TSC_DEADLINE ? s->st.tsc_deadline : 0;
}

void lapic_timer_write_deadline(struct lapic *s, uint64_t tsc)
{
    if (timer_mode(s) != APIC_TIMER_TSC_DEADLINE)
        return;
    s->st.tsc_deadline = tsc;
    schedule_deadline(s);
}
