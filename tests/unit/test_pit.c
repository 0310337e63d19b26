/* Unit tests of the 8254 PIT (devices/pit.c) and port 0x61
 * (devices/port61.c) on a manual virtual clock: the IRQ 0 edges of modes 0,
 * 2, 3 and 4 at the exact PIT pulses, counter latch and read-back (status
 * with null count), access modes, BCD, gate triggers of modes 1 and 5 and
 * gate suspension through port 0x61, the refresh toggle, and that only the
 * next OUT change has a timer; and IRQ 0 through the 8259A as Linux runs
 * it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/pic.h"
#include "devices/pit.h"
#include "devices/port61.h"
#include "vm/clock.h"
#include "vm/port_bus.h"

#define MAX_EDGES 4096

struct rig {
    struct port_bus *io;
    struct vclock *clock;
    struct pit pit;
    struct port61 p61;
    int level;
    int nedges;
    int64_t edge_tick[MAX_EDGES]; /* PIT pulse of each IRQ 0 change */
    int edge_level[MAX_EDGES];
};

static void irq0_handler(void *opaque, int pin, int level)
{
    struct rig *r = opaque;
    assert_int_not_equal(level, r->level); /* only real edges */
    r->level = level;
    if (r->nedges < MAX_EDGES) {
        r->edge_tick[r->nedges] =
            clock_ns_to_ticks(vclock_now(r->clock), PIT_HZ);
        r->edge_level[r->nedges] = level;
    }
    r->nedges++;
}

static struct rig *rig_new(void)
{
    struct rig *r = test_calloc(1, sizeof(*r));
    r->io = port_bus_new();
    r->clock = vclock_new(VCLOCK_MANUAL);
    assert_int_equal(pit_init(&r->pit, r->io, r->clock,
                              (struct irq_line){irq0_handler, r, 0}), 0);
    assert_int_equal(port61_init(&r->p61, r->io, &r->pit), 0);
    return r;
}

static void rig_free(struct rig *r)
{
    vtimer_del(&r->pit.timer);
    port_bus_free(r->io);
    vclock_free(r->clock);
    test_free(r);
}

static int64_t tick_ns(int64_t tick)
{
    int64_t ns = clock_ticks_to_ns(tick, PIT_HZ);
    return clock_ns_to_ticks(ns, PIT_HZ) < tick ? ns + 1 : ns;
}

static int64_t now_tick(struct rig *r)
{
    return clock_ns_to_ticks(vclock_now(r->clock), PIT_HZ);
}

/* What the main loop does: run to each deadline in turn, then to ns */
static void run_to_ns(struct rig *r, int64_t ns)
{
    int64_t d;
    while ((d = vclock_next_deadline(r->clock)) <= ns) {
        assert_true(d >= vclock_now(r->clock));
        vclock_set(r->clock, d);
        vclock_run_timers(r->clock);
    }
    vclock_set(r->clock, ns);
    vclock_run_timers(r->clock);
}

static void run_to_tick(struct rig *r, int64_t tick)
{
    run_to_ns(r, tick_ns(tick));
}

static void out8(struct rig *r, uint16_t port, uint8_t v)
{
    port_write(r->io, port, v, 1);
}

static uint8_t in8(struct rig *r, uint16_t port)
{
    return (uint8_t)port_read(r->io, port, 1);
}

/* Control word, then an LSB/MSB count */
static void program(struct rig *r, int ch, uint8_t cw, uint16_t count)
{
    out8(r, 0x43, (uint8_t)(ch << 6 | cw));
    out8(r, 0x40 + ch, count & 0xff);
    out8(r, 0x40 + ch, count >> 8);
}

static uint16_t read16(struct rig *r, int ch)
{
    uint16_t lo = in8(r, 0x40 + ch);
    return (uint16_t)(lo | in8(r, 0x40 + ch) << 8);
}

static uint16_t latch16(struct rig *r, int ch)
{
    out8(r, 0x43, (uint8_t)(ch << 6));
    return read16(r, ch);
}

static int rises(struct rig *r)
{
    int n = 0;
    for (int i = 0; i < r->nedges && i < MAX_EDGES; i++)
        n += r->edge_level[i];
    return n;
}

static void test_mode2_rate(void **state)
{
    struct rig *r = rig_new();
    const int64_t n = 1193; /* about 1 kHz, as Linux programs it */
    run_to_tick(r, 100);
    program(r, 0, 0x34, (uint16_t)n);
    const int64_t load = 101; /* the pulse after the write */
    assert_int_equal(r->level, 1); /* mode 2: OUT high */
    run_to_ns(r, 100 * 1000 * 1000);
    int64_t end = now_tick(r);
    /* OUT low for the one pulse at count 1, rising at each reload */
    int expected = (int)((end - load) / n);
    assert_int_equal(rises(r), 1 + expected); /* the control word's, too */
    assert_int_equal(r->nedges, 2 * expected + 1);
    for (int k = 1; k <= expected; k++) {
        assert_int_equal(r->edge_tick[2 * k - 1], load + k * n - 1);
        assert_int_equal(r->edge_level[2 * k - 1], 0);
        assert_int_equal(r->edge_tick[2 * k], load + k * n);
    }
    /* only the next change has a timer */
    int64_t p = (end - load) % n;
    int64_t next = p < n - 1 ? end - p + n - 1 : end - p + n;
    assert_int_equal(vclock_next_deadline(r->clock), tick_ns(next));
    rig_free(r);
}

static void test_mode3_square(void **state)
{
    struct rig *r = rig_new();
    program(r, 0, 0x36, 1000);
    const int64_t load = 1;
    run_to_tick(r, load + 10);
    assert_int_equal(latch16(r, 0), 1000 - 20); /* counts by two */
    run_to_tick(r, load + 10 * 1000 + 3);
    assert_int_equal(rises(r), 1 + 10);
    for (int k = 1; k <= 10; k++) {
        assert_int_equal(r->edge_tick[2 * k - 1], load + (k - 1) * 1000 + 500);
        assert_int_equal(r->edge_level[2 * k - 1], 0);
        assert_int_equal(r->edge_tick[2 * k], load + k * 1000);
    }
    rig_free(r);

    /* odd count: high (n+1)/2, low (n-1)/2 */
    r = rig_new();
    program(r, 0, 0x36, 1001);
    run_to_tick(r, 1 + 3 * 1001);
    assert_int_equal(r->nedges, 1 + 6);
    assert_int_equal(r->edge_tick[1], 1 + 501);
    assert_int_equal(r->edge_tick[2], 1 + 1001);
    assert_int_equal(r->edge_tick[3], 1 + 1001 + 501);
    rig_free(r);

    /* count 0 is 65536: about 18.2 Hz */
    r = rig_new();
    program(r, 0, 0x36, 0);
    run_to_ns(r, NS_PER_SEC);
    assert_int_equal(rises(r), 1 + (PIT_HZ - 1) / 65536);
    rig_free(r);
}

static void test_new_count_waits_for_period(void **state)
{
    struct rig *r = rig_new();
    program(r, 0, 0x34, 1000);
    run_to_tick(r, 1 + 300);
    out8(r, 0x40, 500 & 0xff);
    out8(r, 0x40, 500 >> 8);
    assert_int_equal(latch16(r, 0), 700); /* the old period goes on */
    run_to_tick(r, 1 + 1000 + 3 * 500);
    assert_int_equal(r->edge_tick[2], 1 + 1000);
    assert_int_equal(r->edge_tick[4], 1 + 1500);
    assert_int_equal(r->edge_tick[6], 1 + 2000);
    rig_free(r);

    /* mode 3: at the end of the current half-cycle */
    r = rig_new();
    program(r, 0, 0x36, 1000);
    run_to_tick(r, 1 + 100);
    out8(r, 0x40, 200 & 0xff);
    out8(r, 0x40, 200 >> 8);
    run_to_tick(r, 1 + 1000);
    /* high half of 500 ends, then 100 low and 100 high of the new count */
    assert_int_equal(r->edge_tick[1], 1 + 500);
    assert_int_equal(r->edge_tick[2], 1 + 600);
    assert_int_equal(r->edge_tick[3], 1 + 700);
    rig_free(r);
}

static void test_mode0_one_shot(void **state)
{
    struct rig *r = rig_new();
    run_to_tick(r, 50);
    program(r, 0, 0x30, 100);
    assert_int_equal(r->level, 0);
    run_to_tick(r, 50 + 100);
    assert_int_equal(r->level, 0);
    assert_int_equal(latch16(r, 0), 1);
    run_to_tick(r, 50 + 101);
    assert_int_equal(r->level, 1); /* N+1 pulses after the write */
    assert_int_equal(r->edge_tick[0], 151);
    run_to_tick(r, 50 + 106);
    assert_int_equal(latch16(r, 0), 0xfffb); /* it keeps counting */
    run_to_tick(r, 50 + 200000);
    assert_int_equal(r->nedges, 1); /* and fires once */
    assert_int_equal(vclock_next_deadline(r->clock), VCLOCK_NEVER);

    /* a new count restarts it, OUT low at once */
    out8(r, 0x40, 10);
    assert_int_equal(r->level, 0);
    uint16_t frozen = latch16(r, 0);
    run_to_tick(r, now_tick(r) + 20);
    assert_int_equal(latch16(r, 0), frozen);
    int64_t t = now_tick(r);
    out8(r, 0x40, 0);
    run_to_tick(r, t + 5);
    /* the first byte stopped the count; it runs from the second byte */
    assert_int_equal(latch16(r, 0), 10 - 4);
    run_to_tick(r, t + 11);
    assert_int_equal(r->level, 1);
    assert_int_equal(r->edge_tick[2], t + 11);
    rig_free(r);
}

static void test_mode4_strobe(void **state)
{
    struct rig *r = rig_new();
    program(r, 0, 0x38, 20);
    assert_int_equal(r->level, 1);
    run_to_tick(r, 100000);
    assert_int_equal(r->nedges, 3);
    assert_int_equal(r->edge_tick[1], 1 + 20);
    assert_int_equal(r->edge_level[1], 0);
    assert_int_equal(r->edge_tick[2], 1 + 21);
    rig_free(r);
}

static void test_latch_and_access_modes(void **state)
{
    struct rig *r = rig_new();
    program(r, 1, 0x74, 5000); /* counter 1, mode 2 */
    run_to_tick(r, 1 + 250);
    out8(r, 0x43, 0x40); /* latch counter 1 */
    run_to_tick(r, 1 + 1250);
    out8(r, 0x43, 0x40); /* ignored: the first latch is unread */
    assert_int_equal(in8(r, 0x41), (5000 - 250) & 0xff);
    assert_int_equal(in8(r, 0x41), (5000 - 250) >> 8);
    assert_int_equal(read16(r, 1), 5000 - 1250); /* unlatched read */

    /* LSB only */
    out8(r, 0x43, 0x54);
    out8(r, 0x41, 0x80);
    run_to_tick(r, now_tick(r) + 1 + 16);
    assert_int_equal(in8(r, 0x41), 0x80 - 16);
    assert_int_equal(in8(r, 0x41), 0x80 - 16);
    /* MSB only */
    out8(r, 0x43, 0x64);
    out8(r, 0x41, 0x12);
    run_to_tick(r, now_tick(r) + 1 + 0x100);
    assert_int_equal(in8(r, 0x41), 0x11);
    out8(r, 0x43, 0x40);
    assert_int_equal(in8(r, 0x41), 0x11);
    /* the control word register reads as open bus */
    assert_int_equal(in8(r, 0x43), 0xff);
    /* a 16-bit access splits into bytes; past the PIT is open bus */
    assert_int_equal(port_read(r->io, 0x43, 2), 0xffff);
    rig_free(r);
}

static void test_readback(void **state)
{
    struct rig *r = rig_new();
    run_to_tick(r, 10);
    out8(r, 0x43, 0x34);
    /* status: OUT high, null count, LSB/MSB, mode 2, binary */
    out8(r, 0x43, 0xe2);
    assert_int_equal(in8(r, 0x40), 0xf4);
    out8(r, 0x40, 0x00);
    out8(r, 0x40, 0x10);
    out8(r, 0x43, 0xe2);
    assert_int_equal(in8(r, 0x40), 0xf4); /* not yet loaded */
    run_to_tick(r, 11);
    out8(r, 0x43, 0xe2);
    assert_int_equal(in8(r, 0x40), 0xb4); /* loaded: null count clear */

    /* status and count together: status first; a second status latch
     * before reading is ignored */
    run_to_tick(r, 11 + 0x100);
    out8(r, 0x43, 0xc2);
    run_to_tick(r, 11 + 0x200);
    out8(r, 0x43, 0xe2);
    assert_int_equal(in8(r, 0x40), 0xb4);
    assert_int_equal(read16(r, 0), 0x1000 - 0x100);

    /* several counters at once; counter 2 in mode 0 with OUT low, BCD */
    out8(r, 0x43, 0xb1);
    out8(r, 0x42, 0x99);
    out8(r, 0x42, 0x00);
    out8(r, 0x43, 0xcc); /* counters 1 and 2, count and status */
    assert_int_equal(in8(r, 0x42), 0x71); /* OUT 0, null 1, rw 3, mode 0, BCD */
    assert_int_equal(read16(r, 2), 0x0099);
    /* counter 1 never programmed: mode 0, OUT low, null count */
    assert_int_equal(in8(r, 0x41), 0x70);
    assert_int_equal(read16(r, 1), 0);

    /* a new count in mode 2 keeps null count until the reload */
    out8(r, 0x40, 0x00);
    out8(r, 0x40, 0x08);
    out8(r, 0x43, 0xe2);
    assert_int_equal(in8(r, 0x40) & 0x40, 0x40);
    run_to_tick(r, 11 + 0x1000);
    out8(r, 0x43, 0xe2);
    assert_int_equal(in8(r, 0x40) & 0x40, 0x00);
    assert_int_equal(latch16(r, 0), 0x800);
    rig_free(r);
}

static void test_bcd(void **state)
{
    struct rig *r = rig_new();
    out8(r, 0x61, 0x01); /* gate counter 2 */
    program(r, 2, 0x35, 0x0100); /* mode 2, BCD 100 */
    run_to_tick(r, 1 + 37);
    assert_int_equal(latch16(r, 2), 0x0063);
    run_to_tick(r, 1 + 100 + 1);
    assert_int_equal(latch16(r, 2), 0x0099);
    rig_free(r);

    /* BCD 0 is 10000 pulses; mode 0 wraps to 9999 */
    r = rig_new();
    program(r, 0, 0x31, 0x0000);
    run_to_tick(r, 1 + 9999);
    assert_int_equal(r->level, 0);
    assert_int_equal(latch16(r, 0), 0x0001);
    run_to_tick(r, 1 + 10000);
    assert_int_equal(r->level, 1);
    run_to_tick(r, 1 + 10003);
    assert_int_equal(latch16(r, 0), 0x9997);
    rig_free(r);
}

static void test_gate_modes(void **state)
{
    struct rig *r = rig_new();
    /* mode 1 on counter 2: nothing until the gate rises */
    program(r, 2, 0x32, 50);
    run_to_tick(r, 100);
    assert_int_equal(in8(r, 0x61) & 0x20, 0x20);
    assert_int_equal(latch16(r, 2), 0); /* never loaded */
    out8(r, 0x61, 0x01);
    int64_t t = now_tick(r);
    assert_int_equal(in8(r, 0x61) & 0x20, 0x20); /* low on the next pulse */
    run_to_tick(r, t + 1);
    assert_int_equal(in8(r, 0x61) & 0x20, 0x00);
    run_to_tick(r, t + 30);
    /* retrigger: 50 more pulses from the next one, OUT stays low */
    out8(r, 0x61, 0x00);
    out8(r, 0x61, 0x01);
    run_to_tick(r, t + 31);
    assert_int_equal(in8(r, 0x61) & 0x20, 0x00);
    assert_int_equal(latch16(r, 2), 50);
    run_to_tick(r, t + 30 + 50);
    assert_int_equal(in8(r, 0x61) & 0x20, 0x00);
    run_to_tick(r, t + 31 + 50);
    assert_int_equal(in8(r, 0x61) & 0x20, 0x20);
    rig_free(r);

    /* mode 5: one low pulse N pulses after the trigger */
    r = rig_new();
    program(r, 2, 0x3a, 40);
    out8(r, 0x61, 0x01);
    assert_true(pit_out(&r->pit, 2));
    run_to_tick(r, 1 + 39);
    assert_true(pit_out(&r->pit, 2));
    run_to_tick(r, 1 + 40);
    assert_false(pit_out(&r->pit, 2));
    run_to_tick(r, 1 + 41);
    assert_true(pit_out(&r->pit, 2));
    run_to_tick(r, 1 + 41 + 65536);
    assert_true(pit_out(&r->pit, 2));
    rig_free(r);

    /* mode 0: a low gate suspends the count */
    r = rig_new();
    out8(r, 0x61, 0x01);
    program(r, 2, 0xb0, 100);
    run_to_tick(r, 1 + 40);
    out8(r, 0x61, 0x00);
    run_to_tick(r, 1 + 1000);
    assert_int_equal(latch16(r, 2), 60);
    out8(r, 0x61, 0x01);
    run_to_tick(r, 1 + 1000 + 59);
    assert_false(pit_out(&r->pit, 2));
    run_to_tick(r, 1 + 1000 + 60);
    assert_true(pit_out(&r->pit, 2));
    /* after the terminal count a pause does not re-arm OUT */
    run_to_tick(r, 1 + 1000 + 100);
    out8(r, 0x61, 0x00);
    assert_true(pit_out(&r->pit, 2));
    out8(r, 0x61, 0x01);
    run_to_tick(r, 1 + 1000 + 100 + 70000);
    assert_true(pit_out(&r->pit, 2));
    rig_free(r);

    /* mode 2: a low gate forces OUT high and stops; rising reloads */
    r = rig_new();
    out8(r, 0x61, 0x01);
    program(r, 2, 0xb4, 10);
    run_to_tick(r, 1 + 9);
    assert_false(pit_out(&r->pit, 2));
    out8(r, 0x61, 0x00);
    assert_true(pit_out(&r->pit, 2));
    run_to_tick(r, 500);
    assert_int_equal(latch16(r, 2), 1);
    out8(r, 0x61, 0x01);
    run_to_tick(r, 501);
    assert_int_equal(latch16(r, 2), 10);
    run_to_tick(r, 501 + 9);
    assert_false(pit_out(&r->pit, 2));
    rig_free(r);
}

static void test_port61(void **state)
{
    struct rig *r = rig_new();
    assert_int_equal(in8(r, 0x61), 0x00);
    /* OUT2 follows a mode 3 square wave while gated */
    out8(r, 0x61, 0x03);
    program(r, 2, 0x36, 100);
    vclock_set(r->clock, tick_ns(1 + 49));
    assert_int_equal(in8(r, 0x61) & 0x23, 0x23);
    vclock_set(r->clock, tick_ns(1 + 50));
    assert_int_equal(in8(r, 0x61) & 0x23, 0x03);
    vclock_set(r->clock, tick_ns(1 + 100));
    assert_int_equal(in8(r, 0x61) & 0x20, 0x20);
    /* counter 2 has no IRQ: no timer */
    assert_int_equal(vclock_next_deadline(r->clock), VCLOCK_NEVER);

    /* bits 0-3 read back, 4-7 are read-only */
    out8(r, 0x61, 0xfc);
    assert_int_equal(in8(r, 0x61) & 0x0f, 0x0c);
    /* the refresh toggle flips every 15 us */
    int64_t base = 100 * 15000;
    vclock_set(r->clock, base + 14999);
    assert_int_equal(in8(r, 0x61) & 0x10, 0x00);
    vclock_set(r->clock, base + 15000);
    assert_int_equal(in8(r, 0x61) & 0x10, 0x10);
    vclock_set(r->clock, base + 29999);
    assert_int_equal(in8(r, 0x61) & 0x10, 0x10);
    vclock_set(r->clock, base + 30000);
    assert_int_equal(in8(r, 0x61) & 0x10, 0x00);
    /* gate off: mode 3 stops with OUT high */
    assert_int_equal(in8(r, 0x61) & 0x20, 0x20);
    port61_reset(&r->p61);
    assert_int_equal(in8(r, 0x61) & 0x0f, 0x00);
    rig_free(r);
}

static void test_late_timer_and_reset(void **state)
{
    struct rig *r = rig_new();
    program(r, 0, 0x34, 100);
    /* the timer runs 10 periods late: the PIC still sees a rising edge */
    vclock_set(r->clock, tick_ns(1 + 1000 + 50));
    vclock_run_timers(r->clock);
    assert_true(r->nedges >= 3); /* a fall and a rise after the first */
    assert_int_equal(r->level, 1);
    assert_int_equal(vclock_next_deadline(r->clock), tick_ns(1 + 1099));
    run_to_tick(r, 1 + 1100);
    assert_int_equal(r->edge_tick[r->nedges - 1], 1 + 1100);

    pit_reset(&r->pit);
    assert_int_equal(r->level, 0);
    assert_int_equal(vclock_next_deadline(r->clock), VCLOCK_NEVER);
    rig_free(r);
}

/* Linux's quick_pit_calibrate: counter 2 in mode 0 gated by port 0x61,
 * its MSB read without latching, then OUT2 polled in port 0x61 bit 5 */
static void test_linux_tsc_calibration(void **state)
{
    struct rig *r = rig_new();
    run_to_tick(r, 1000);
    out8(r, 0x61, (in8(r, 0x61) & ~0x02) | 0x01);
    out8(r, 0x43, 0xb0);
    out8(r, 0x42, 0xff);
    out8(r, 0x42, 0xff);
    int64_t load = now_tick(r) + 1;
    in8(r, 0x42);
    in8(r, 0x42);
    for (int k = 1; k < 200; k++) {
        run_to_tick(r, load + k * 256 + 7);
        in8(r, 0x42);
        assert_int_equal(in8(r, 0x42), 0xff - k);
        assert_int_equal(in8(r, 0x61) & 0x20, 0);
    }
    run_to_tick(r, load + 0xffff - 1);
    assert_int_equal(in8(r, 0x61) & 0x20, 0);
    run_to_tick(r, load + 0xffff);
    assert_int_equal(in8(r, 0x61) & 0x20, 0x20);
    assert_int_equal(r->nedges, 0); /* counter 0 untouched */
    rig_free(r);
}

static void cpu_intr(void *opaque, int pin, int level)
{
    *(int *)opaque = level;
}

static void test_irq0_through_pic(void **state)
{
    struct port_bus *io = port_bus_new();
    struct vclock *clock = vclock_new(VCLOCK_MANUAL);
    struct pic pic;
    struct pit pit;
    int intr = 0, taken = 0;
    assert_int_equal(pic_init(&pic, io, (struct irq_line){cpu_intr, &intr, 0}),
                     0);
    assert_int_equal(pit_init(&pit, io, clock, pic_irq(&pic, 0)), 0);
    static const uint8_t setup[][2] = {
        {0x20, 0x11}, {0x21, 0x30}, {0x21, 0x04}, {0x21, 0x01},
        {0xa0, 0x11}, {0xa1, 0x38}, {0xa1, 0x02}, {0xa1, 0x01},
        {0x21, 0xfa}, {0xa1, 0xff},
        {0x43, 0x34}, {0x40, 1193 & 0xff}, {0x40, 1193 >> 8},
    };
    for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
        port_write(io, setup[i][0], setup[i][1], 1);
    /* the main loop: run to each deadline, take the interrupt, EOI */
    int64_t end = 50 * 1000 * 1000, d;
    while ((d = vclock_next_deadline(clock)) <= end) {
        vclock_set(clock, d);
        vclock_run_timers(clock);
        if (intr) {
            assert_int_equal(pic_ack(&pic), 0x30);
            port_write(io, 0x20, 0x20, 1);
            taken++;
        }
    }
    /* one per period, plus the control word raising OUT from reset low */
    assert_int_equal(taken,
                     1 + (int)((clock_ns_to_ticks(end, PIT_HZ) - 1) / 1193));
    vtimer_del(&pit.timer);
    port_bus_free(io);
    vclock_free(clock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode2_rate),
        cmocka_unit_test(test_mode3_square),
        cmocka_unit_test(test_new_count_waits_for_period),
        cmocka_unit_test(test_mode0_one_shot),
        cmocka_unit_test(test_mode4_strobe),
        cmocka_unit_test(test_latch_and_access_modes),
        cmocka_unit_test(test_readback),
        cmocka_unit_test(test_bcd),
        cmocka_unit_test(test_gate_modes),
        cmocka_unit_test(test_port61),
        cmocka_unit_test(test_late_timer_and_reset),
        cmocka_unit_test(test_linux_tsc_calibration),
        cmocka_unit_test(test_irq0_through_pic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
