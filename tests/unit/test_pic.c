/* Unit tests of the 8259A pair (devices/pic.c) through the port bus:
 * Linux and SeaBIOS initialization, priority and rotation, EOI forms, AEOI,
 * poll, special mask and special fully nested modes, edge and level inputs
 * (ELCR and LTIM), and the spurious IRQ 7 / IRQ 15 vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/pic.h"
#include "vm/port_bus.h"

struct rig {
    struct port_bus *io;
    struct pic pic;
    int intr;   /* level of the master's INT as seen by the CPU */
    int rises;  /* rising edges of INT */
    struct irq_line line[16];
};

static void intr_handler(void *opaque, int pin, int level)
{
    struct rig *r = opaque;
    if (level && !r->intr)
        r->rises++;
    r->intr = level;
}

static struct rig *rig_new(void)
{
    struct rig *r = test_calloc(1, sizeof(*r));
    r->io = port_bus_new();
    assert_int_equal(pic_init(&r->pic, r->io,
                              (struct irq_line){intr_handler, r, 0}), 0);
    for (int i = 0; i < 16; i++)
        r->line[i] = pic_irq(&r->pic, i);
    return r;
}

static void rig_free(struct rig *r)
{
    port_bus_free(r->io);
    test_free(r);
}

static void out8(struct rig *r, uint16_t port, uint8_t v)
{
    port_write(r->io, port, v, 1);
}

static uint8_t in8(struct rig *r, uint16_t port)
{
    return (uint8_t)port_read(r->io, port, 1);
}

/* ICW1..ICW4 of one chip */
static void init_chip(struct rig *r, uint16_t base, uint8_t vec, uint8_t icw3,
                      uint8_t icw4)
{
    out8(r, base, 0x11);
    out8(r, base + 1, vec);
    out8(r, base + 1, icw3);
    out8(r, base + 1, icw4);
}

/* SeaBIOS's pic_setup: vectors 0x08 and 0x70, all unmasked but the cascade
 * is what it leaves; the tests unmask everything. */
static struct rig *rig_bios(uint8_t master_icw4, uint8_t slave_icw4)
{
    struct rig *r = rig_new();
    init_chip(r, 0x20, 0x08, 0x04, master_icw4);
    init_chip(r, 0xa0, 0x70, 0x02, slave_icw4);
    out8(r, 0x21, 0x00);
    out8(r, 0xa1, 0x00);
    return r;
}

static uint8_t read_isr(struct rig *r, uint16_t base)
{
    out8(r, base, 0x0b);
    return in8(r, base);
}

static uint8_t read_irr(struct rig *r, uint16_t base)
{
    out8(r, base, 0x0a);
    return in8(r, base);
}

static void pulse(struct rig *r, int irq)
{
    irq_pulse(&r->line[irq]);
}

static void eoi_master(struct rig *r) { out8(r, 0x20, 0x20); }
static void eoi_slave(struct rig *r) { out8(r, 0xa0, 0x20); }

static void test_linux_init(void **state)
{
    struct rig *r = rig_new();
    /* init_8259A(): mask all, then the ICWs, then restore masks */
    out8(r, 0x21, 0xff);
    out8(r, 0xa1, 0xff);
    init_chip(r, 0x20, 0x30, 1 << 2, 0x01);
    init_chip(r, 0xa0, 0x38, 2, 0x01);
    assert_int_equal(in8(r, 0x21), 0x00); /* ICW1 clears the mask */
    out8(r, 0x21, 0xfb);
    out8(r, 0xa1, 0xff);
    assert_int_equal(in8(r, 0x21), 0xfb);
    assert_int_equal(in8(r, 0xa1), 0xff);

    pulse(r, 0);
    assert_int_equal(r->intr, 0); /* masked */
    assert_int_equal(read_irr(r, 0x20), 0x01);
    out8(r, 0x21, 0xfa);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic_ack(&r->pic), 0x30);
    assert_int_equal(r->intr, 0);
    assert_int_equal(read_isr(r, 0x20), 0x01);
    assert_int_equal(read_irr(r, 0x20), 0x00);
    eoi_master(r);
    assert_int_equal(read_isr(r, 0x20), 0x00);

    /* slave input: vector from the slave, both in service */
    out8(r, 0xa1, 0xef);
    pulse(r, 12);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic_ack(&r->pic), 0x38 + 4);
    assert_int_equal(read_isr(r, 0x20), 0x04);
    assert_int_equal(read_isr(r, 0xa0), 0x10);
    eoi_slave(r);
    eoi_master(r);
    assert_int_equal(read_isr(r, 0x20), 0x00);
    assert_int_equal(read_isr(r, 0xa0), 0x00);
    rig_free(r);
}

static void test_seabios_init_and_priority(void **state)
{
    struct rig *r = rig_bios(0x01, 0x01);
    pulse(r, 5);
    pulse(r, 3);
    pulse(r, 1);
    pulse(r, 12);
    pulse(r, 8);
    assert_int_equal(read_irr(r, 0x20), 0x2e);
    assert_int_equal(read_irr(r, 0xa0), 0x11);
    /* fully nested: 1, then the slave (on IR2) before 3 and 5 */
    assert_int_equal(pic_ack(&r->pic), 0x09);
    assert_int_equal(r->intr, 0); /* lower levels wait for the EOI */
    eoi_master(r);
    assert_int_equal(pic_ack(&r->pic), 0x70);
    eoi_slave(r);
    eoi_master(r);
    assert_int_equal(pic_ack(&r->pic), 0x74);
    eoi_slave(r);
    eoi_master(r);
    assert_int_equal(pic_ack(&r->pic), 0x0b);
    /* a higher level interrupts a lower one in service */
    pulse(r, 0);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic_ack(&r->pic), 0x08);
    assert_int_equal(read_isr(r, 0x20), 0x09);
    eoi_master(r); /* non-specific: clears the highest, IR0 */
    assert_int_equal(read_isr(r, 0x20), 0x08);
    assert_int_equal(r->intr, 0); /* 5 still waits behind 3 */
    eoi_master(r);
    assert_int_equal(pic_ack(&r->pic), 0x0d);
    eoi_master(r);
    assert_int_equal(r->intr, 0);
    assert_int_equal(pic_ack(&r->pic), 0x0f); /* nothing: spurious */
    assert_int_equal(read_isr(r, 0x20), 0x00);
    rig_free(r);
}

static void test_rotation(void **state)
{
    struct rig *r = rig_bios(0x01, 0x01);
    out8(r, 0xa1, 0xff);
    /* rotate on non-specific EOI: equal-priority round robin */
    for (int i = 0; i < 8; i++)
        if (i != 2)
            pulse(r, i);
    assert_int_equal(pic_ack(&r->pic), 0x08);
    out8(r, 0x20, 0xa0); /* IR0 becomes the lowest */
    pulse(r, 0);
    static const int order[] = {1, 3, 4, 5, 6, 7, 0};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(pic_ack(&r->pic), 0x08 + order[i]);
        out8(r, 0x20, 0xa0);
    }
    assert_int_equal(r->intr, 0);

    /* set priority: IR4 lowest, so IR5 highest */
    out8(r, 0x20, 0xc4);
    pulse(r, 1);
    pulse(r, 6);
    pulse(r, 4);
    assert_int_equal(pic_ack(&r->pic), 0x0e);
    /* rotate on specific EOI of 6: 7 highest, so 1 before 4 */
    out8(r, 0x20, 0xe6);
    assert_int_equal(pic_ack(&r->pic), 0x09);
    assert_int_equal(read_isr(r, 0x20), 0x02);
    /* specific EOI of a level that is not the highest in service */
    pulse(r, 0);
    assert_int_equal(pic_ack(&r->pic), 0x08);
    out8(r, 0x20, 0x61); /* specific EOI IR1 */
    assert_int_equal(read_isr(r, 0x20), 0x01);
    out8(r, 0x20, 0x40); /* no operation */
    assert_int_equal(read_isr(r, 0x20), 0x01);
    rig_free(r);
}

static void test_aeoi(void **state)
{
    struct rig *r = rig_bios(0x03, 0x03);
    pulse(r, 3);
    pulse(r, 6);
    assert_int_equal(pic_ack(&r->pic), 0x0b);
    assert_int_equal(read_isr(r, 0x20), 0x00);
    assert_int_equal(r->intr, 1); /* no EOI needed for the next one */
    assert_int_equal(pic_ack(&r->pic), 0x0e);
    assert_int_equal(r->intr, 0);

    /* rotate in AEOI mode */
    out8(r, 0x20, 0x80);
    pulse(r, 1);
    pulse(r, 5);
    pulse(r, 3);
    assert_int_equal(pic_ack(&r->pic), 0x09); /* 2 is now highest */
    pulse(r, 1);
    assert_int_equal(pic_ack(&r->pic), 0x0b);
    assert_int_equal(pic_ack(&r->pic), 0x0d);
    assert_int_equal(pic_ack(&r->pic), 0x09);
    out8(r, 0x20, 0x00); /* clear rotate in AEOI */
    pulse(r, 5);
    pulse(r, 6);
    assert_int_equal(pic_ack(&r->pic), 0x0d); /* 2 is highest */
    pulse(r, 5);
    assert_int_equal(pic_ack(&r->pic), 0x0d); /* 5 did not rotate */
    assert_int_equal(pic_ack(&r->pic), 0x0e);

    /* slave in AEOI with two requests: the second reaches the CPU too */
    pulse(r, 9);
    pulse(r, 12);
    assert_int_equal(pic_ack(&r->pic), 0x71);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic_ack(&r->pic), 0x74);
    assert_int_equal(r->intr, 0);
    assert_int_equal(read_isr(r, 0xa0), 0);
    rig_free(r);
}

static void test_poll(void **state)
{
    struct rig *r = rig_bios(0x01, 0x01);
    out8(r, 0x20, 0x0c);
    assert_int_equal(in8(r, 0x20), 0x00); /* nothing pending */
    pulse(r, 4);
    pulse(r, 6);
    out8(r, 0x20, 0x0c);
    assert_int_equal(in8(r, 0x21), 0x84); /* either address */
    assert_int_equal(read_isr(r, 0x20), 0x10);
    assert_int_equal(read_irr(r, 0x20), 0x40);
    assert_int_equal(in8(r, 0x21), 0x00); /* poll was one-shot: IMR */
    eoi_master(r);
    out8(r, 0x20, 0x0c);
    assert_int_equal(in8(r, 0x20), 0x86);
    eoi_master(r);
    /* polling the slave after the master said IR2 */
    pulse(r, 11);
    out8(r, 0x20, 0x0c);
    assert_int_equal(in8(r, 0x20), 0x82);
    out8(r, 0xa0, 0x0c);
    assert_int_equal(in8(r, 0xa0), 0x83);
    assert_int_equal(read_isr(r, 0xa0), 0x08);
    assert_int_equal(r->intr, 0);
    rig_free(r);
}

static void test_special_mask(void **state)
{
    struct rig *r = rig_bios(0x01, 0x01);
    pulse(r, 3);
    assert_int_equal(pic_ack(&r->pic), 0x0b);
    pulse(r, 5);
    assert_int_equal(r->intr, 0); /* below 3 in service */
    out8(r, 0x21, 0x08);          /* mask 3 ... */
    assert_int_equal(r->intr, 0);
    out8(r, 0x20, 0x68);          /* ... and enter special mask mode */
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic_ack(&r->pic), 0x0d);
    assert_int_equal(read_isr(r, 0x20), 0x28);
    pulse(r, 5);
    assert_int_equal(r->intr, 0); /* 5 itself is in service */
    out8(r, 0x20, 0x65);          /* specific EOI 5 */
    assert_int_equal(r->intr, 1);
    out8(r, 0x20, 0x48);          /* leave special mask mode */
    assert_int_equal(r->intr, 0);
    out8(r, 0x20, 0x63);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic_ack(&r->pic), 0x0d);
    rig_free(r);
}

static void test_sfnm(void **state)
{
    /* without SFNM, the slave is locked out while IR2 is in service */
    struct rig *r = rig_bios(0x01, 0x01);
    pulse(r, 12);
    assert_int_equal(pic_ack(&r->pic), 0x74);
    pulse(r, 9);
    assert_int_equal(r->intr, 0);
    rig_free(r);

    r = rig_bios(0x11, 0x01);
    pulse(r, 12);
    assert_int_equal(pic_ack(&r->pic), 0x74);
    pulse(r, 9);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic_ack(&r->pic), 0x71);
    pulse(r, 3);
    assert_int_equal(r->intr, 0); /* IR2 in service still blocks IR3 */
    eoi_slave(r);
    assert_int_equal(read_isr(r, 0xa0), 0x10);
    /* a lower slave request stays locked out by the slave's own ISR */
    pulse(r, 13);
    assert_int_equal(r->intr, 0);
    rig_free(r);
}

static void test_edge_and_level(void **state)
{
    struct rig *r = rig_bios(0x01, 0x01);
    out8(r, 0x4d0, 0xff);
    out8(r, 0x4d1, 0xff);
    assert_int_equal(in8(r, 0x4d0), 0xf8);
    assert_int_equal(in8(r, 0x4d1), 0xde);
    assert_int_equal(port_read(r->io, 0x4d0, 2), 0xdef8);
    out8(r, 0x4d0, 0x00);
    out8(r, 0x4d1, 0x04); /* IRQ 10 level, IRQ 11 edge */

    /* level: re-requests after the EOI while the line stays high */
    irq_raise(&r->line[10]);
    assert_int_equal(pic_ack(&r->pic), 0x72);
    assert_int_equal(read_irr(r, 0xa0), 0x04);
    assert_int_equal(r->intr, 0);
    eoi_slave(r);
    eoi_master(r);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic_ack(&r->pic), 0x72);
    irq_lower(&r->line[10]);
    eoi_slave(r);
    eoi_master(r);
    assert_int_equal(r->intr, 0);

    /* edge: one request per rising edge, a held line does not repeat */
    irq_raise(&r->line[11]);
    assert_int_equal(pic_ack(&r->pic), 0x73);
    eoi_slave(r);
    eoi_master(r);
    assert_int_equal(r->intr, 0);
    irq_raise(&r->line[11]);
    assert_int_equal(r->intr, 0);
    irq_lower(&r->line[11]);
    irq_raise(&r->line[11]);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic_ack(&r->pic), 0x73);
    irq_lower(&r->line[11]);
    eoi_slave(r);
    eoi_master(r);

    /* an edge latched while masked is delivered on unmask */
    out8(r, 0x21, 0x10);
    pulse(r, 4);
    assert_int_equal(r->intr, 0);
    out8(r, 0x21, 0x00);
    assert_int_equal(pic_ack(&r->pic), 0x0c);
    eoi_master(r);

    /* ICW1 LTIM: every input level-triggered */
    out8(r, 0x20, 0x19);
    out8(r, 0x21, 0x08);
    out8(r, 0x21, 0x04);
    out8(r, 0x21, 0x01);
    irq_raise(&r->line[6]);
    assert_int_equal(pic_ack(&r->pic), 0x0e);
    eoi_master(r);
    assert_int_equal(pic_ack(&r->pic), 0x0e);
    irq_lower(&r->line[6]);
    eoi_master(r);
    assert_int_equal(r->intr, 0);
    rig_free(r);
}

static void test_icw1_edge_reset(void **state)
{
    struct rig *r = rig_bios(0x01, 0x01);
    irq_raise(&r->line[3]);
    assert_int_equal(r->intr, 1);
    /* re-initialization: the held line needs a new edge */
    out8(r, 0x20, 0x11);
    assert_int_equal(r->intr, 0);
    out8(r, 0x21, 0x20);
    out8(r, 0x21, 0x04);
    assert_int_equal(r->intr, 0); /* not ready until ICW4 */
    out8(r, 0x21, 0x01);
    assert_int_equal(r->intr, 0);
    assert_int_equal(read_irr(r, 0x20), 0x00);
    irq_lower(&r->line[3]);
    irq_raise(&r->line[3]);
    assert_int_equal(pic_ack(&r->pic), 0x23);
    rig_free(r);
}

static void test_single_mode_no_icw4(void **state)
{
    struct rig *r = rig_new();
    out8(r, 0x20, 0x12 | 0x01); /* single, ICW4 */
    out8(r, 0x21, 0x40);
    out8(r, 0x21, 0x01);        /* ICW4 right after ICW2 */
    out8(r, 0x21, 0x5a);        /* OCW1 */
    assert_int_equal(in8(r, 0x21), 0x5a);
    out8(r, 0x21, 0x00);
    /* single mode: IR2 is a plain input with the master's own vector */
    pulse(r, 9);
    assert_int_equal(pic_ack(&r->pic), 0x42);
    rig_free(r);

    r = rig_new();
    out8(r, 0xa0, 0x12); /* single, no ICW4: ready after ICW2 */
    out8(r, 0xa1, 0x50);
    out8(r, 0xa1, 0xf0);
    assert_int_equal(in8(r, 0xa1), 0xf0);
    rig_free(r);
}

static void test_spurious(void **state)
{
    struct rig *r = rig_bios(0x01, 0x01);
    out8(r, 0x4d0, 0x20); /* IRQ 5 level */
    out8(r, 0x4d1, 0x04); /* IRQ 10 level */

    /* master: the request went away before INTA */
    irq_raise(&r->line[5]);
    assert_int_equal(r->intr, 1);
    irq_lower(&r->line[5]);
    assert_int_equal(pic_ack(&r->pic), 0x0f);
    assert_int_equal(read_isr(r, 0x20), 0x00);

    /* masked after the CPU saw INT */
    pulse(r, 4);
    out8(r, 0x21, 0x10);
    assert_int_equal(pic_ack(&r->pic), 0x0f);
    assert_int_equal(read_isr(r, 0x20), 0x00);
    out8(r, 0x21, 0x00);
    assert_int_equal(pic_ack(&r->pic), 0x0c); /* still pending: real one */
    eoi_master(r);

    /* slave: vector of IR15, the master's IR2 is in service */
    irq_raise(&r->line[10]);
    assert_int_equal(r->intr, 1);
    irq_lower(&r->line[10]);
    assert_int_equal(r->intr, 1); /* the master latched the slave's edge */
    assert_int_equal(pic_ack(&r->pic), 0x77);
    assert_int_equal(read_isr(r, 0x20), 0x04);
    assert_int_equal(read_isr(r, 0xa0), 0x00);
    eoi_master(r);
    assert_int_equal(read_isr(r, 0x20), 0x00);
    assert_int_equal(r->intr, 0);
    rig_free(r);
}

static void test_reset_and_bad_lines(void **state)
{
    struct rig *r = rig_bios(0x01, 0x01);
    pulse(r, 3);
    assert_int_equal(r->intr, 1);
    assert_int_equal(r->line[2].handler, NULL);
    struct irq_line bad = pic_irq(&r->pic, 16);
    irq_raise(&bad);
    irq_raise(&r->line[2]);
    pic_reset(&r->pic);
    assert_int_equal(r->intr, 0);
    assert_int_equal(in8(r, 0x21), 0x00);
    assert_int_equal(read_irr(r, 0x20), 0x00);
    /* a 16-bit read of the byte-wide pair */
    out8(r, 0x21, 0xa5);
    out8(r, 0x20, 0x0a);
    assert_int_equal(port_read(r->io, 0x20, 2), 0xa500);
    assert_string_equal(port_bus_owner(r->io, 0xa1), "pic-slave");
    assert_string_equal(port_bus_owner(r->io, 0x4d1), "elcr");
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_init),
        cmocka_unit_test(test_seabios_init_and_priority),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_aeoi),
        cmocka_unit_test(test_poll),
        cmocka_unit_test(test_special_mask),
        cmocka_unit_test(test_sfnm),
        cmocka_unit_test(test_edge_and_level),
        cmocka_unit_test(test_icw1_edge_reset),
        cmocka_unit_test(test_single_mode_no_icw4),
        cmocka_unit_test(test_spurious),
        cmocka_unit_test(test_reset_and_bad_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
