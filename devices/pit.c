/* The 8254 as its datasheet describes it. A counter's state is a cycle
 * origin (the clock pulse at which the counting element was loaded) and a
 * cycle length; its count and OUT at any pulse follow from the mode's
 * formula, so reads compute them from the virtual clock and nothing ticks.
 * Gate changes, count writes and commands re-base that state at the current
 * pulse. A new count in modes 2 and 3 waits for the end of the current
 * period or half-period. Counter 0's vtimer is armed for the next pulse at
 * which OUT may change, and the callback drives IRQ 0 with the level at that
 * pulse, so every edge reaches the PIC even when the timer runs late. */
#include "devices/pit.h"

#include <string.h>
#include "devices/byte_io.h"
#include "vm/log.h"

#define NEVER INT64_MAX
/* edges delivered per catch-up before jumping to the present */
#define PIT_CATCH_UP 4

static int64_t pit_now(struct pit *pit)
{
    return clock_ns_to_ticks(vclock_now(pit->clock), PIT_HZ);
}

/* The first nanosecond at which pulse `tick` has happened */
static int64_t pit_tick_ns(int64_t tick)
{
    int64_t ns = clock_ticks_to_ns(tick, PIT_HZ);
    if (clock_ns_to_ticks(ns, PIT_HZ) < tick)
        ns++;
    return ns;
}

static uint32_t modulus(const struct pit_channel_state *c)
{
    return c->bcd ? 10000 : 65536;
}

/* Cycle length of the count register; 0 is the largest count */
static uint32_t cr_count(const struct pit_channel_state *c)
{
    uint32_t n = c->cr;
    if (c->bcd) /* digits above 9 count by their weight, as no BCD */
        n = ((c->cr >> 12) & 15) * 1000 + ((c->cr >> 8) & 15) * 100 +
            ((c->cr >> 4) & 15) * 10 + (c->cr & 15);
    return n ? n : modulus(c);
}

/* OUT while the counting element is stopped or not yet loaded */
static bool idle_out(const struct pit_channel_state *c)
{
    return c->mode != 0 || c->tc_done;
}

/* Binary CE value and OUT at pulse t */
static void pit_eval(const struct pit_channel_state *c, int64_t t,
                     uint32_t *ce, bool *out)
{
    int64_t p = t - c->load_tick;
    if (!c->running || p < 0) {
        *ce = c->hold;
        *out = idle_out(c);
        return;
    }
    int64_t n = c->count, m = modulus(c), r, h;
    switch (c->mode) {
    case 2: /* OUT low while the count is 1, then reload */
        r = p % n;
        *ce = (uint32_t)((n - r) % m);
        *out = r != n - 1;
        break;
    case 3: /* count by two; high half (n+1)/2, low half n/2 */
        h = (n + 1) / 2;
        r = p % n;
        *out = r < h;
        *ce = (uint32_t)(((n & ~1) - 2 * (r < h ? r : r - h)) % m);
        break;
    default: /* 0, 1, 4, 5: count down through zero, wrapping */
        r = (n - p) % m;
        *ce = (uint32_t)(r < 0 ? r + m : r);
        if (c->mode == 0)
            *out = c->tc_done || p >= n;
        else if (c->mode == 1)
            *out = p >= n;
        else
            *out = (c->mode == 4 && c->tc_done) || p != n;
        break;
    }
}

/* The first pulse after t at which OUT may change (or a pending count
 * starts), NEVER if none */
static int64_t pit_next_event(const struct pit_channel_state *c, int64_t t)
{
    int64_t next = c->pending ? c->pending_tick : NEVER;
    if (!c->running)
        return next;
    int64_t p = t - c->load_tick, n = c->count, k, r, h;
    if (p < 0) {
        k = c->load_tick;
    } else {
        switch (c->mode) {
        case 0:
        case 1:
            k = p < n && !c->tc_done ? c->load_tick + n : NEVER;
            break;
        case 2:
            r = p % n;
            k = n == 1 ? NEVER : t - r + (r < n - 1 ? n - 1 : n);
            break;
        case 3:
            h = (n + 1) / 2;
            r = p % n;
            k = n == 1 ? NEVER : t - r + (r < h ? h : n);
            break;
        default: /* 4, 5: one pulse low at terminal count */
            k = c->tc_done ? NEVER
                : p < n    ? c->load_tick + n
                : p == n   ? c->load_tick + n + 1
                           : NEVER;
            break;
        }
    }
    return k < next ? k : next;
}

static void pit_apply_pending(struct pit_channel_state *c, int64_t t)
{
    if (c->pending && t >= c->pending_tick) {
        c->pending = false;
        c->load_tick = c->pending_load_tick;
        c->count = c->pending_count;
    }
}

static void pit_drive(struct pit *pit, int i, int64_t t)
{
    struct pit_channel_state *c = &pit->s.ch[i];
    uint32_t ce;
    bool out;
    pit_apply_pending(c, t);
    pit_eval(c, t, &ce, &out);
    c->synced_tick = t;
    if (out != c->out) {
        c->out = out;
        if (i == 0)
            irq_set(&pit->irq0, out);
    }
}

/* Bring counter i to the present: deliver the OUT changes since the last
 * sync in order (a few at most), then arm counter 0's timer. Whatever
 * follows acts at synced_tick, one instant even on the host clock. */
static void pit_sync(struct pit *pit, int i)
{
    struct pit_channel_state *c = &pit->s.ch[i];
    int64_t now = pit_now(pit);
    for (int n = 0; n < PIT_CATCH_UP; n++) {
        int64_t k = pit_next_event(c, c->synced_tick);
        if (k > now)
            break;
        pit_drive(pit, i, k);
    }
    pit_drive(pit, i, now);
    if (i == 0 && pit->irq0.handler) {
        int64_t k = pit_next_event(c, now);
        if (k == NEVER)
            vtimer_del(&pit->timer);
        else
            vtimer_mod(&pit->timer, pit_tick_ns(k));
    }
}

static void pit_timer_cb(void *opaque)
{
    pit_sync(opaque, 0);
}

/* Start a cycle of n pulses loaded into the counting element at pulse L */
static void pit_start(struct pit_channel_state *c, int64_t load, uint32_t n)
{
    bool out;
    pit_eval(c, load - 1, &c->hold, &out); /* the CE until the load */
    c->running = true;
    c->load_tick = load;
    c->count = n;
    c->pending = false;
    c->null_clear_tick = load;
}

/* Stop counting, keeping the CE value; modes 0/4 note a passed terminal
 * count */
static void pit_stop(struct pit_channel_state *c, int64_t t)
{
    bool out;
    if ((c->mode == 0 || c->mode == 4) && c->running &&
        t >= c->load_tick && t - c->load_tick >= c->count)
        c->tc_done = true;
    pit_eval(c, t, &c->hold, &out);
    if (c->running && t < c->load_tick)
        c->hold = c->count % modulus(c);
    c->running = false;
    c->pending = false;
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 |
                      (v / 10 % 10) << 4 | v % 10);
}

static uint16_t pit_read_ce(struct pit *pit, int i)
{
    struct pit_channel_state *c = &pit->s.ch[i];
    uint32_t ce;
    bool out;
    pit_eval(c, c->synced_tick, &ce, &out);
    return c->bcd ? to_bcd(ce) : (uint16_t)ce;
}

/* A complete count was written to the count register */
static void pit_load(struct pit *pit, int i)
{
    struct pit_channel_state *c = &pit->s.ch[i];
    int64_t t = c->synced_tick;
    uint32_t n = cr_count(c);
    int64_t r, h;
    c->cr_valid = true;
    c->null_clear_tick = NEVER;
    switch (c->mode) {
    case 0:
    case 4: /* loaded on the next pulse, counting while the gate is high */
        c->armed = true;
        c->tc_done = false;
        pit_start(c, t + 1, n);
        if (!c->gate) {
            c->running = false;
            c->hold = n % modulus(c);
        }
        break;
    case 2:
    case 3:
        if (!c->gate)
            break; /* the gate's rising edge loads it */
        if (!c->running) {
            pit_start(c, t + 1, n);
        } else if (t < c->load_tick) {
            c->count = n;
            c->null_clear_tick = c->load_tick;
        } else {
            /* wait for the end of the period (mode 2) or half-period */
            int64_t old = c->count;
            r = (t - c->load_tick) % old;
            h = c->mode == 3 ? (old + 1) / 2 : old;
            c->pending = true;
            c->pending_count = n;
            if (r < h) {
                c->pending_tick = t - r + h;
                /* mode 3: the new count begins with its low half */
                c->pending_load_tick =
                    c->pending_tick - (c->mode == 3 ? (n + 1) / 2 : 0);
            } else {
                c->pending_tick = c->pending_load_tick = t - r + old;
            }
            c->null_clear_tick = c->pending_tick;
        }
        break;
    default: /* 1, 5: the count waits for a gate trigger */
        break;
    }
}

static void pit_write_count(struct pit *pit, int i, uint8_t v)
{
    struct pit_channel_state *c = &pit->s.ch[i];
    switch (c->rw) {
    case 1:
        c->cr = v;
        break;
    case 2:
        c->cr = (uint16_t)(v << 8);
        break;
    default:
        if (!c->write_msb) {
            c->lsb = v;
            c->write_msb = true;
            if (c->mode == 0) { /* the first byte stops the count, OUT low */
                pit_stop(c, c->synced_tick);
                c->armed = false;
                c->tc_done = false;
            }
            return;
        }
        c->cr = (uint16_t)(c->lsb | v << 8);
        c->write_msb = false;
        break;
    }
    pit_load(pit, i);
}

static void pit_latch_count(struct pit *pit, int i)
{
    struct pit_channel_state *c = &pit->s.ch[i];
    if (c->count_latched)
        return; /* the first latch holds until it is read */
    c->latch = pit_read_ce(pit, i);
    c->count_latched = true;
    c->latch_msb = c->rw == 2;
}

static void pit_latch_status(struct pit *pit, int i)
{
    struct pit_channel_state *c = &pit->s.ch[i];
    if (c->status_latched)
        return;
    bool null_count = c->synced_tick < c->null_clear_tick;
    c->status = (uint8_t)(c->out << 7 | null_count << 6 | c->rw << 4 |
                          c->mode << 1 | c->bcd);
    c->status_latched = true;
}

static void pit_control(struct pit *pit, uint8_t v)
{
    int i = v >> 6;
    if (i == 3) { /* read-back: bit 5 low latches counts, bit 4 status */
        for (i = 0; i < 3; i++) {
            if (!(v & (2 << i)))
                continue;
            pit_sync(pit, i);
            if (!(v & 0x20))
                pit_latch_count(pit, i);
            if (!(v & 0x10))
                pit_latch_status(pit, i);
        }
        return;
    }
    struct pit_channel_state *c = &pit->s.ch[i];
    pit_sync(pit, i);
    int rw = (v >> 4) & 3;
    if (rw == 0) {
        pit_latch_count(pit, i);
        return;
    }
    pit_stop(c, c->synced_tick);
    int mode = (v >> 1) & 7;
    c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode);
    c->rw = (uint8_t)rw;
    c->bcd = v & 1;
    c->write_msb = c->read_msb = false;
    c->cr_valid = c->armed = c->tc_done = false;
    c->count_latched = c->status_latched = false;
    c->null_clear_tick = NEVER;
    pit_sync(pit, i);
}

static uint8_t pit_read_byte(void *opaque, unsigned offset)
{
    struct pit *pit = opaque;
    if (offset == 3)
        return 0xff; /* the control word register is write-only */
    struct pit_channel_state *c = &pit->s.ch[offset];
    pit_sync(pit, offset);
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v;
    bool msb;
    if (c->count_latched) {
        v = c->latch;
        msb = c->latch_msb;
        if (c->rw == 3 && !msb)
            c->latch_msb = true;
        else
            c->count_latched = false;
    } else {
        v = pit_read_ce(pit, offset);
        msb = c->rw == 2 || (c->rw == 3 && c->read_msb);
        if (c->rw == 3)
            c->read_msb = !c->read_msb;
    }
    return msb ? v >> 8 : v & 0xff;
}

static void pit_write_byte(void *opaque, unsigned offset, uint8_t v)
{
    struct pit *pit = opaque;
    if (offset == 3) {
        pit_control(pit, v);
        return;
    }
    pit_sync(pit, offset);
    pit_write_count(pit, offset, v);
    pit_sync(pit, offset);
}

static uint64_t pit_io_read(void *opaque, uint64_t offset, unsigned size)
{
    return byte_io_read(pit_read_byte, opaque, offset, size, 4);
}

static void pit_io_write(void *opaque, uint64_t offset, uint64_t value,
                         unsigned size)
{
    byte_io_write(pit_write_byte, opaque, offset, value, size, 4);
}

static const struct io_ops pit_ops = {pit_io_read, pit_io_write};

void pit_set_gate(struct pit *pit, int i, bool level)
{
    if (i < 0 || i > 2)
        return;
    struct pit_channel_state *c = &pit->s.ch[i];
    pit_sync(pit, i);
    int64_t t = c->synced_tick;
    bool rising = level && !c->gate, falling = !level && c->gate;
    c->gate = level;
    switch (c->mode) {
    case 0:
    case 4: /* the gate suspends counting */
        if (falling && c->running) {
            pit_stop(c, t);
        } else if (rising && c->armed && !c->running) {
            uint32_t n = c->hold ? c->hold : modulus(c);
            bool done = c->tc_done;
            pit_start(c, t, n);
            c->null_clear_tick = 0;
            c->tc_done = done;
        }
        break;
    case 1:
    case 5: /* a rising edge (re)triggers on the next pulse */
        if (rising && c->cr_valid && !c->running) {
            pit_start(c, t + 1, cr_count(c));
        } else if (rising && c->cr_valid) {
            c->pending = true;
            c->pending_tick = c->pending_load_tick = t + 1;
            c->pending_count = cr_count(c);
            c->null_clear_tick = t + 1;
        }
        break;
    default: /* 2, 3: low stops with OUT high, a rising edge reloads */
        if (falling) {
            if (c->pending)
                c->null_clear_tick = NEVER;
            pit_stop(c, t);
        } else if (rising && c->cr_valid) {
            pit_start(c, t + 1, cr_count(c));
        }
        break;
    }
    pit_sync(pit, i);
}

bool pit_out(struct pit *pit, int i)
{
    if (i < 0 || i > 2)
        return false;
    pit_sync(pit, i);
    return pit->s.ch[i].out;
}

void pit_reset(struct pit *pit)
{
    int64_t t = pit_now(pit);
    if (pit->s.ch[0].out)
        irq_lower(&pit->irq0);
    for (int i = 0; i < 3; i++) {
        struct pit_channel_state *c = &pit->s.ch[i];
        memset(c, 0, sizeof(*c));
        c->rw = 3;
        c->gate = i != 2; /* counter 2's gate comes from port 0x61 */
        c->null_clear_tick = NEVER;
        c->synced_tick = t;
    }
    vtimer_del(&pit->timer);
}

void pit_post_load(struct pit *pit)
{
    /* the timer as the last pit_sync left it: for the next event after the
     * synced pulse (a late one catches up when it runs) */
    int64_t k = pit_next_event(&pit->s.ch[0], pit->s.ch[0].synced_tick);
    irq_set(&pit->irq0, pit->s.ch[0].out);
    if (k == NEVER || !pit->irq0.handler)
        vtimer_del(&pit->timer);
    else
        vtimer_mod(&pit->timer, pit_tick_ns(k));
}

int pit_init(struct pit *pit, struct port_bus *io, struct vclock *clock,
             struct irq_line irq0)
{
    memset(pit, 0, sizeof(*pit));
    pit->clock = clock;
    pit->irq0 = irq0;
    vtimer_init(&pit->timer, clock, pit_timer_cb, pit);
    int r = port_bus_register(io, 0x40, 4, "pit", &pit_ops, pit);
    if (r)
        return r;
    pit_reset(pit);
    return 0;
}
