/* Unit tests of the I/O APIC: its registers through IOREGSEL/IOWIN on a real
 * memory map, edge and level pins delivered over the APIC bus to two local
 * APICs, remote IRR and the EOI broadcast, masking, polarity and the other
 * delivery modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/apic_bus.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "vm/clock.h"
#include "vm/memory.h"
#include "vm/vcpu_link.h"

#define IO IOAPIC_DEFAULT_BASE

static struct mem_map *map;
static struct vclock *clk;
static struct apic_bus bus;
static struct vcpu_link link[2];
static struct lapic apic[2];
static struct ioapic io;
static int pic_acks;

static int fake_pic_ack(void *opaque)
{
    (void)opaque;
    pic_acks++;
    return 0x08;
}

static uint32_t lapic_rd(int cpu, uint32_t reg)
{
    vcpu_link_current = &link[cpu];
    uint32_t v = (uint32_t)mem_read(map, LAPIC_DEFAULT_BASE + reg, 4);
    vcpu_link_current = NULL;
    return v;
}

static void lapic_wr(int cpu, uint32_t reg, uint32_t val)
{
    vcpu_link_current = &link[cpu];
    mem_write(map, LAPIC_DEFAULT_BASE + reg, val, 4);
    vcpu_link_current = NULL;
}

static int setup(void **state)
{
    (void)state;
    map = mem_map_new();
    clk = vclock_new(VCLOCK_MANUAL);
    apic_bus_init(&bus);
    for (int i = 0; i < 2; i++) {
        memset(&link[i], 0, sizeof(link[i]));
        link[i].index = i;
        assert_int_equal(lapic_init(&apic[i], &link[i], &bus, map, clk), 0);
        lapic_wr(i, APIC_REG_SVR, 0x1FF);
    }
    assert_int_equal(ioapic_init(&io, &bus, map, IO, 2), 0);
    pic_acks = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mem_map_free(map);
    vclock_free(clk);
    return 0;
}

static uint32_t io_rd(uint8_t reg)
{
    mem_write(map, IO + IOAPIC_REGSEL, reg, 1);
    return (uint32_t)mem_read(map, IO + IOAPIC_WINDOW, 4);
}

static void io_wr(uint8_t reg, uint32_t val)
{
    mem_write(map, IO + IOAPIC_REGSEL, reg, 1);
    mem_write(map, IO + IOAPIC_WINDOW, val, 4);
}

static void set_rte(int pin, uint32_t lo, uint8_t dest)
{
    io_wr(IOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)dest << 24);
    io_wr(IOAPIC_REG_REDIR + 2 * pin, lo);
}

static uint32_t rte_lo(int pin) { return io_rd(IOAPIC_REG_REDIR + 2 * pin); }

static bool irr(int cpu, unsigned v)
{
    return (lapic_rd(cpu, APIC_REG_IRR + 0x10 * (v / 32)) >> (v % 32)) & 1;
}

static bool tmr(int cpu, unsigned v)
{
    return (lapic_rd(cpu, APIC_REG_TMR + 0x10 * (v / 32)) >> (v % 32)) & 1;
}

static int ack(int cpu) { return link[cpu].intr_ack(link[cpu].ic); }
static void eoi(int cpu) { lapic_wr(cpu, APIC_REG_EOI, 0); }
static void pin(int n, int level) { irq_set(ioapic_pin(&io, n), level); }

static void test_registers(void **state)
{
    (void)state;
    assert_int_equal(io_rd(IOAPIC_REG_ID), 0x02000000);
    assert_int_equal(io_rd(IOAPIC_REG_VERSION), 0x00170020);
    assert_int_equal(io_rd(IOAPIC_REG_ARB), 0x02000000);
    io_wr(IOAPIC_REG_ID, 0xFFFFFFFF);
    assert_int_equal(io_rd(IOAPIC_REG_ID), 0x0F000000);
    io_wr(IOAPIC_REG_VERSION, 0);
    assert_int_equal(io_rd(IOAPIC_REG_VERSION), 0x00170020);
    /* IOREGSEL reads back; byte reads of the window see its bytes */
    mem_write(map, IO + IOAPIC_REGSEL, IOAPIC_REG_VERSION, 4);
    assert_int_equal(mem_read(map, IO + IOAPIC_REGSEL, 4), IOAPIC_REG_VERSION);
    assert_int_equal(mem_read(map, IO + IOAPIC_WINDOW + 2, 1), 0x17);
    /* every entry masked after reset */
    for (int n = 0; n < IOAPIC_NUM_PINS; n++) {
        assert_int_equal(rte_lo(n), 0x00010000);
        assert_int_equal(io_rd(IOAPIC_REG_REDIR + 2 * n + 1), 0);
    }
    /* read-only bits (delivery status, remote IRR) cannot be written */
    set_rte(5, 0xFFFFFFFF, 0xFF);
    assert_int_equal(rte_lo(5), 0x0001AFFF);
    io_wr(IOAPIC_REG_REDIR + 2 * 5 + 1, 0xFFFFFFFF);
    assert_int_equal(io_rd(IOAPIC_REG_REDIR + 2 * 5 + 1), 0xFF000000);
    /* registers past the table */
    assert_int_equal(io_rd(IOAPIC_REG_REDIR + 2 * IOAPIC_NUM_PINS), 0);
    assert_null(ioapic_pin(&io, IOAPIC_NUM_PINS));
}

static void test_edge(void **state)
{
    (void)state;
    set_rte(2, 0x30, 0); /* ISA IRQ0: fixed, physical, edge, vector 0x30 */
    pin(2, 1);
    assert_true(irr(0, 0x30));
    assert_false(irr(1, 0x30));
    assert_false(tmr(0, 0x30));
    assert_int_equal(ack(0), 0x30);
    eoi(0);
    /* held high: no new edge, nothing more */
    pin(2, 1);
    assert_false(irr(0, 0x30));
    assert_false(rte_lo(2) & IOAPIC_RTE_REMOTE_IRR);
    pin(2, 0);
    assert_false(irr(0, 0x30));
    pin(2, 1);
    assert_true(irr(0, 0x30));
    /* to the second CPU */
    set_rte(3, 0x31, 1);
    irq_pulse(ioapic_pin(&io, 3));
    assert_true(irr(1, 0x31));
    assert_false(irr(0, 0x31));
    /* active low: the falling wire is the asserting edge */
    pin(4, 1);
    set_rte(4, IOAPIC_RTE_LOW_ACTIVE | 0x32, 0);
    assert_false(irr(0, 0x32));
    pin(4, 0);
    assert_true(irr(0, 0x32));
}

static void test_masked(void **state)
{
    (void)state;
    set_rte(6, IOAPIC_RTE_MASKED | 0x36, 0);
    irq_pulse(ioapic_pin(&io, 6));
    pin(6, 1);
    assert_false(irr(0, 0x36));
    /* an edge that came while masked is lost */
    set_rte(6, 0x36, 0);
    assert_false(irr(0, 0x36));
    /* a level held while masked is delivered on unmask */
    set_rte(7, IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | 0x37, 0);
    pin(7, 1);
    assert_false(irr(0, 0x37));
    assert_false(rte_lo(7) & IOAPIC_RTE_REMOTE_IRR);
    set_rte(7, IOAPIC_RTE_LEVEL | 0x37, 0);
    assert_true(irr(0, 0x37));
    assert_true(rte_lo(7) & IOAPIC_RTE_REMOTE_IRR);
}

static void test_level_eoi(void **state)
{
    (void)state;
    set_rte(9, IOAPIC_RTE_LEVEL | 0x41, 0);
    pin(9, 1);
    assert_true(irr(0, 0x41));
    assert_true(tmr(0, 0x41));
    assert_true(rte_lo(9) & IOAPIC_RTE_REMOTE_IRR);
    assert_int_equal(ack(0), 0x41);
    /* no repeat while remote IRR is set */
    pin(9, 1);
    assert_false(irr(0, 0x41));
    /* EOI with the line still asserted: remote IRR cleared, sent again */
    eoi(0);
    assert_true(irr(0, 0x41));
    assert_true(rte_lo(9) & IOAPIC_RTE_REMOTE_IRR);
    assert_int_equal(ack(0), 0x41);
    pin(9, 0);
    eoi(0);
    assert_false(irr(0, 0x41));
    assert_false(rte_lo(9) & IOAPIC_RTE_REMOTE_IRR);
    assert_false(vcpu_link_pending(&link[0]) & VCPU_EV_INTR);
    /* an EOI of an edge vector leaves remote IRR alone */
    set_rte(10, IOAPIC_RTE_LEVEL | 0x42, 0);
    set_rte(11, 0x43, 0);
    pin(10, 1);
    pin(11, 1);
    assert_int_equal(ack(0), 0x43);
    eoi(0);
    assert_true(rte_lo(10) & IOAPIC_RTE_REMOTE_IRR);
    /* the version 0x20 EOI register clears it too */
    assert_int_equal(ack(0), 0x42);
    pin(10, 0);
    mem_write(map, IO + IOAPIC_EOI, 0x42, 4);
    assert_false(rte_lo(10) & IOAPIC_RTE_REMOTE_IRR);
    /* switching an entry to edge drops a stuck remote IRR */
    set_rte(12, IOAPIC_RTE_LEVEL | 0x44, 1);
    pin(12, 1);
    assert_true(rte_lo(12) & IOAPIC_RTE_REMOTE_IRR);
    set_rte(12, 0x44, 1);
    assert_false(rte_lo(12) & IOAPIC_RTE_REMOTE_IRR);
}

static void test_level_active_low_shared(void **state)
{
    (void)state;
    /* PCI style: active low level, two CPUs' worth of logical routing */
    lapic_wr(0, APIC_REG_LDR, 0x01000000);
    lapic_wr(1, APIC_REG_LDR, 0x02000000);
    pin(16, 1); /* idle: wire high */
    set_rte(16, IOAPIC_RTE_LOW_ACTIVE | IOAPIC_RTE_LEVEL |
                    IOAPIC_RTE_DEST_LOGICAL | 0x50, 0x02);
    assert_false(irr(1, 0x50));
    pin(16, 0);
    assert_true(irr(1, 0x50));
    assert_false(irr(0, 0x50));
    assert_int_equal(ack(1), 0x50);
    pin(16, 1);
    eoi(1);
    assert_false(irr(1, 0x50));
    assert_false(rte_lo(16) & IOAPIC_RTE_REMOTE_IRR);
    /* lowest priority over both CPUs: the one with the lower TPR */
    lapic_wr(0, APIC_REG_TPR, 0x90);
    set_rte(17, (APIC_DM_LOWEST << 8) | IOAPIC_RTE_DEST_LOGICAL | 0x51, 0x03);
    irq_pulse(ioapic_pin(&io, 17));
    assert_true(irr(1, 0x51));
    assert_false(irr(0, 0x51));
}

static void test_level_no_target(void **state)
{
    (void)state;
    /* nobody accepts: remote IRR stays clear, a later change retries */
    set_rte(13, IOAPIC_RTE_LEVEL | 0x45, 9);
    pin(13, 1);
    assert_false(rte_lo(13) & IOAPIC_RTE_REMOTE_IRR);
    set_rte(13, IOAPIC_RTE_LEVEL | 0x45, 0);
    assert_true(irr(0, 0x45));
    assert_true(rte_lo(13) & IOAPIC_RTE_REMOTE_IRR);
}

static void test_other_modes(void **state)
{
    (void)state;
    set_rte(14, APIC_DM_NMI << 8, 1);
    irq_pulse(ioapic_pin(&io, 14));
    assert_true(vcpu_link_take(&link[1], VCPU_EV_NMI));
    assert_false(vcpu_link_take(&link[0], VCPU_EV_NMI));
    /* NMI ignores the level bit: no remote IRR */
    set_rte(15, IOAPIC_RTE_LEVEL | (APIC_DM_NMI << 8), 0);
    pin(15, 1);
    assert_true(vcpu_link_take(&link[0], VCPU_EV_NMI));
    assert_false(rte_lo(15) & IOAPIC_RTE_REMOTE_IRR);
    set_rte(18, APIC_DM_SMI << 8, 0);
    irq_pulse(ioapic_pin(&io, 18));
    assert_true(vcpu_link_take(&link[0], VCPU_EV_SMI));
    /* ExtINT: the vector comes from the 8259 at the acknowledge */
    lapic_set_extint(&apic[1], fake_pic_ack, NULL);
    set_rte(0, APIC_DM_EXTINT << 8, 1);
    irq_pulse(ioapic_pin(&io, 0));
    assert_true(vcpu_link_pending(&link[1]) & VCPU_EV_INTR);
    assert_int_equal(ack(1), 0x08);
    assert_int_equal(pic_acks, 1);
    assert_false(vcpu_link_pending(&link[1]) & VCPU_EV_INTR);
    /* a pin number past the table is ignored */
    struct irq_line bad = io.pin[0];
    bad.pin = 40;
    irq_raise(&bad);
}

static void test_reset(void **state)
{
    (void)state;
    set_rte(9, IOAPIC_RTE_LEVEL | 0x41, 0);
    pin(9, 1);
    ioapic_reset(&io);
    assert_int_equal(rte_lo(9), 0x00010000);
    assert_int_equal(io_rd(IOAPIC_REG_ID), 0x02000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_registers),
        T(test_edge),
        T(test_masked),
        T(test_level_eoi),
        T(test_level_active_low_shared),
        T(test_level_no_target),
        T(test_other_modes),
        T(test_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
