/* Unit tests of the local APIC: registers through a real memory map, two
 * APICs on one APIC bus, priorities and the acknowledge/EOI cycle, IPIs,
 * INIT/SIPI/NMI on the vCPU link, the timer on a manual clock, the base MSR,
 * ExtINT from a fake 8259 and the spurious vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/apic_bus.h"
#include "devices/lapic.h"
#include "devices/pic.h"
#include "vm/clock.h"
#include "vm/memory.h"
#include "vm/port_bus.h"
#include "vm/vcpu_link.h"

#define BASE LAPIC_DEFAULT_BASE

static struct mem_map *map;
static struct vclock *clk;
static struct apic_bus bus;
static struct vcpu_link link[2];
static struct lapic apic[2];

/* the fake 8259 */
static int pic_acks;
static int pic_vector;

static int fake_pic_ack(void *opaque)
{
    (void)opaque;
    pic_acks++;
    return pic_vector;
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
    }
    pic_acks = 0;
    pic_vector = 0x20;
    vcpu_link_current = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vcpu_link_current = NULL;
    for (int i = 0; i < 2; i++)
        vtimer_del(&apic[i].timer);
    mem_map_free(map);
    vclock_free(clk);
    return 0;
}

/* register access as vCPU `cpu` */
static uint32_t rd(int cpu, uint32_t reg)
{
    vcpu_link_current = &link[cpu];
    uint32_t v = (uint32_t)mem_read(map, BASE + reg, 4);
    vcpu_link_current = NULL;
    return v;
}

static uint32_t rd_at(int cpu, uint64_t gpa)
{
    vcpu_link_current = &link[cpu];
    uint32_t v = (uint32_t)mem_read(map, gpa, 4);
    vcpu_link_current = NULL;
    return v;
}

static void wr(int cpu, uint32_t reg, uint32_t val)
{
    vcpu_link_current = &link[cpu];
    mem_write(map, BASE + reg, val, 4);
    vcpu_link_current = NULL;
}

static bool intr(int cpu)
{
    return (vcpu_link_pending(&link[cpu]) & VCPU_EV_INTR) != 0;
}

static int ack(int cpu) { return link[cpu].intr_ack(link[cpu].ic); }

static bool bit(int cpu, uint32_t reg, unsigned v)
{
    return (rd(cpu, reg + 0x10 * (v / 32)) >> (v % 32)) & 1;
}

static void enable(int cpu) { wr(cpu, APIC_REG_SVR, 0x1FF); }

static void self_ipi(int cpu, uint8_t vector)
{
    wr(cpu, APIC_REG_ICR_LO,
       (APIC_SH_SELF << APIC_ICR_SHORTHAND_SHIFT) | vector);
}

static void ipi(int from, uint8_t dest, uint32_t lo)
{
    wr(from, APIC_REG_ICR_HI, (uint32_t)dest << 24);
    wr(from, APIC_REG_ICR_LO, lo);
}

static uint64_t msr_get(int cpu, uint32_t msr)
{
    uint64_t v = 0xDEAD;
    assert_int_equal(link[cpu].msr_read(link[cpu].ic, msr, &v), 0);
    return v;
}

static int msr_set(int cpu, uint32_t msr, uint64_t v)
{
    return link[cpu].msr_write(link[cpu].ic, msr, v);
}

static void advance(int64_t ns)
{
    vclock_advance(clk, ns);
    vclock_run_timers(clk);
}

static void test_reset_values(void **state)
{
    (void)state;
    assert_int_equal(rd(0, APIC_REG_ID), 0);
    assert_int_equal(rd(1, APIC_REG_ID), 0x01000000);
    assert_int_equal(rd(0, APIC_REG_VERSION), 0x00050014);
    assert_int_equal(rd(0, APIC_REG_SVR), 0xFF);
    assert_int_equal(rd(0, APIC_REG_DFR), 0xFFFFFFFF);
    assert_int_equal(rd(0, APIC_REG_TPR), 0);
    /* the BSP's LINT0 is ExtINT (virtual wire), everything else masked */
    assert_int_equal(rd(0, APIC_REG_LVT + 0x30), 0x700);
    assert_int_equal(rd(1, APIC_REG_LVT + 0x30), APIC_LVT_MASKED);
    for (int i = 0; i < LAPIC_LVT_COUNT; i++)
        if (i != LAPIC_LVT_LINT0)
            assert_int_equal(rd(0, APIC_REG_LVT + 0x10 * i), APIC_LVT_MASKED);
    assert_int_equal(msr_get(0, MSR_IA32_APIC_BASE), 0xFEE00900);
    assert_int_equal(msr_get(1, MSR_IA32_APIC_BASE), 0xFEE00800);
    /* narrow read sees the register's bytes, the rest of a slot reads 0 */
    assert_int_equal(mem_read(map, BASE + APIC_REG_VERSION + 2, 1), 0x05);
    assert_int_equal(mem_read(map, BASE + APIC_REG_VERSION + 4, 4), 0);
    assert_false(intr(0));
}

static void test_register_masks(void **state)
{
    (void)state;
    enable(0);
    wr(0, APIC_REG_ID, 0xFFFFFFFF);
    assert_int_equal(rd(0, APIC_REG_ID), 0xFF000000);
    wr(0, APIC_REG_LDR, 0xFFFFFFFF);
    assert_int_equal(rd(0, APIC_REG_LDR), 0xFF000000);
    wr(0, APIC_REG_DFR, 0);
    assert_int_equal(rd(0, APIC_REG_DFR), 0x0FFFFFFF);
    wr(0, APIC_REG_TPR, 0xFFFFFFFF);
    assert_int_equal(rd(0, APIC_REG_TPR), 0xFF);
    wr(0, APIC_REG_SVR, 0xFFFFFFFF);
    assert_int_equal(rd(0, APIC_REG_SVR), 0x3FF);
    wr(0, APIC_REG_VERSION, 0);
    assert_int_equal(rd(0, APIC_REG_VERSION), 0x00050014);
    wr(0, APIC_REG_LVT + 0x00, 0xFFFFFFFF); /* timer */
    assert_int_equal(rd(0, APIC_REG_LVT + 0x00), 0x000700FF);
    wr(0, APIC_REG_LVT + 0x30, 0xFFFFFFFF); /* LINT0 */
    assert_int_equal(rd(0, APIC_REG_LVT + 0x30), 0x0001A7FF);
    wr(0, APIC_REG_LVT + 0x50, 0xFFFFFFFF); /* error */
    assert_int_equal(rd(0, APIC_REG_LVT + 0x50), 0x000100FF);
    wr(0, APIC_REG_TIMER_DIV, 0xFFFFFFFF);
    assert_int_equal(rd(0, APIC_REG_TIMER_DIV), 0xB);
    wr(0, APIC_REG_ICR_HI, 0xFFFFFFFF);
    assert_int_equal(rd(0, APIC_REG_ICR_HI), 0xFF000000);
    /* software disable masks every LVT and keeps them masked */
    wr(0, APIC_REG_LVT + 0x40, 0x400);
    assert_int_equal(rd(0, APIC_REG_LVT + 0x40), 0x400);
    wr(0, APIC_REG_SVR, 0xFF);
    assert_int_equal(rd(0, APIC_REG_LVT + 0x40), 0x10400);
    wr(0, APIC_REG_LVT + 0x40, 0x400);
    assert_int_equal(rd(0, APIC_REG_LVT + 0x40), 0x10400);
}

static void test_priority_and_nesting(void **state)
{
    (void)state;
    enable(0);
    self_ipi(0, 0x31);
    self_ipi(0, 0x45);
    assert_true(bit(0, APIC_REG_IRR, 0x31));
    assert_true(bit(0, APIC_REG_IRR, 0x45));
    assert_true(intr(0));
    assert_int_equal(ack(0), 0x45);
    assert_false(bit(0, APIC_REG_IRR, 0x45));
    assert_true(bit(0, APIC_REG_ISR, 0x45));
    assert_false(bit(0, APIC_REG_TMR, 0x45)); /* edge */
    assert_int_equal(rd(0, APIC_REG_PPR), 0x40);
    /* 0x31 is below the in-service class; same class also waits */
    assert_false(intr(0));
    self_ipi(0, 0x4A);
    assert_false(intr(0));
    /* a higher class nests */
    self_ipi(0, 0x61);
    assert_true(intr(0));
    assert_int_equal(ack(0), 0x61);
    assert_int_equal(rd(0, APIC_REG_PPR), 0x60);
    assert_false(intr(0));
    /* EOI retires the highest in service first */
    wr(0, APIC_REG_EOI, 0);
    assert_false(bit(0, APIC_REG_ISR, 0x61));
    assert_true(bit(0, APIC_REG_ISR, 0x45));
    assert_false(intr(0));
    wr(0, APIC_REG_EOI, 0);
    assert_int_equal(rd(0, APIC_REG_ISR + 0x20), 0);
    assert_int_equal(rd(0, APIC_REG_PPR), 0);
    assert_true(intr(0));
    assert_int_equal(ack(0), 0x4A);
    wr(0, APIC_REG_EOI, 0);
    assert_int_equal(ack(0), 0x31);
    wr(0, APIC_REG_EOI, 0);
    assert_false(intr(0));
    /* EOI with nothing in service does nothing */
    wr(0, APIC_REG_EOI, 0);
    assert_int_equal(rd(0, APIC_REG_PPR), 0);
}

static void test_tpr_masking_and_cr8(void **state)
{
    (void)state;
    enable(0);
    wr(0, APIC_REG_TPR, 0x50);
    assert_int_equal(rd(0, APIC_REG_PPR), 0x50);
    assert_int_equal(link[0].get_cr8(link[0].ic), 5);
    self_ipi(0, 0x45);
    assert_false(intr(0));
    self_ipi(0, 0x5F);
    assert_false(intr(0)); /* same class as TPR: blocked */
    link[0].set_cr8(link[0].ic, 4);
    assert_int_equal(rd(0, APIC_REG_TPR), 0x40);
    assert_true(intr(0));
    assert_int_equal(ack(0), 0x5F);
    /* PPR is the in-service class when above TPR */
    assert_int_equal(rd(0, APIC_REG_PPR), 0x50);
    wr(0, APIC_REG_TPR, 0x3F);
    assert_int_equal(rd(0, APIC_REG_PPR), 0x50);
    wr(0, APIC_REG_EOI, 0);
    assert_int_equal(rd(0, APIC_REG_PPR), 0x3F);
    assert_true(intr(0));
    link[0].set_cr8(link[0].ic, 0xF);
    assert_false(intr(0));
    /* APR: the TPR when above everything, else the highest class */
    assert_int_equal(rd(0, APIC_REG_APR), 0xF0);
    link[0].set_cr8(link[0].ic, 0);
    assert_int_equal(rd(0, APIC_REG_APR), 0x40);
}

static void test_spurious(void **state)
{
    (void)state;
    wr(0, APIC_REG_SVR, 0x1E7);
    self_ipi(0, 0x80);
    assert_true(intr(0));
    wr(0, APIC_REG_TPR, 0xF0); /* the interrupt goes away before the ack */
    assert_false(intr(0));
    assert_int_equal(ack(0), 0xE7);
    assert_int_equal(rd(0, APIC_REG_ISR + 0x40), 0);
    assert_true(bit(0, APIC_REG_IRR, 0x80));
}

static void test_sw_disabled_drops_fixed(void **state)
{
    (void)state;
    self_ipi(1, 0x40); /* APIC 1 software-disabled after reset */
    assert_false(bit(1, APIC_REG_IRR, 0x40));
    assert_false(intr(1));
    /* NMI still gets through */
    ipi(0, 1, APIC_DM_NMI << 8);
    assert_true(vcpu_link_take(&link[1], VCPU_EV_NMI));
}

static void test_esr(void **state)
{
    (void)state;
    enable(0);
    self_ipi(0, 5); /* illegal vector: not sent */
    assert_false(bit(0, APIC_REG_IRR, 5));
    assert_int_equal(rd(0, APIC_REG_ESR), 0); /* not latched yet */
    wr(0, APIC_REG_ESR, 0);
    assert_int_equal(rd(0, APIC_REG_ESR), APIC_ESR_SEND_ILLEGAL);
    wr(0, APIC_REG_ESR, 0);
    assert_int_equal(rd(0, APIC_REG_ESR), 0);
    /* receive side: a message with an illegal vector is refused */
    struct apic_msg m = {.vector = 9, .delivery = APIC_DM_FIXED};
    apic_bus_send(&bus, &m, NULL);
    rd(0, 0x3F0); /* reserved register */
    wr(0, APIC_REG_ESR, 0);
    assert_int_equal(rd(0, APIC_REG_ESR),
                     APIC_ESR_RECV_ILLEGAL | APIC_ESR_ILLEGAL_REG);
    /* errors raise the LVT error interrupt */
    wr(0, APIC_REG_LVT + 0x50, 0xEE);
    self_ipi(0, 1);
    assert_true(bit(0, APIC_REG_IRR, 0xEE));
    assert_int_equal(ack(0), 0xEE);
}

static void test_ipi_physical_logical(void **state)
{
    (void)state;
    enable(0);
    enable(1);
    ipi(0, 1, 0x50);
    assert_true(bit(1, APIC_REG_IRR, 0x50));
    assert_false(bit(0, APIC_REG_IRR, 0x50));
    assert_true(intr(1));
    assert_false(intr(0));
    assert_int_equal(ack(1), 0x50);
    wr(1, APIC_REG_EOI, 0);
    /* physical ID that nobody has */
    ipi(0, 7, 0x51);
    assert_false(bit(0, APIC_REG_IRR, 0x51) || bit(1, APIC_REG_IRR, 0x51));
    /* logical, flat model */
    wr(0, APIC_REG_LDR, 0x01000000);
    wr(1, APIC_REG_LDR, 0x02000000);
    ipi(0, 0x02, APIC_ICR_LOGICAL | 0x52);
    assert_false(bit(0, APIC_REG_IRR, 0x52));
    assert_true(bit(1, APIC_REG_IRR, 0x52));
    ipi(1, 0x03, APIC_ICR_LOGICAL | 0x53);
    assert_true(bit(0, APIC_REG_IRR, 0x53) && bit(1, APIC_REG_IRR, 0x53));
    /* any common bit selects (an LDR may have several) */
    wr(1, APIC_REG_LDR, 0x06000000);
    ipi(0, 0x0C, APIC_ICR_LOGICAL | 0x58);
    assert_true(bit(1, APIC_REG_IRR, 0x58));
    ipi(0, 0x08, APIC_ICR_LOGICAL | 0x59);
    assert_false(bit(1, APIC_REG_IRR, 0x59));
    /* cluster model */
    wr(0, APIC_REG_DFR, 0x0FFFFFFF);
    wr(1, APIC_REG_DFR, 0x0FFFFFFF);
    wr(0, APIC_REG_LDR, 0x11000000);
    wr(1, APIC_REG_LDR, 0x21000000);
    ipi(0, 0x21, APIC_ICR_LOGICAL | 0x54);
    assert_false(bit(0, APIC_REG_IRR, 0x54));
    assert_true(bit(1, APIC_REG_IRR, 0x54));
    ipi(0, 0x12, APIC_ICR_LOGICAL | 0x55); /* right cluster, wrong member */
    assert_false(bit(0, APIC_REG_IRR, 0x55));
    ipi(0, 0xF1, APIC_ICR_LOGICAL | 0x56); /* all clusters */
    assert_true(bit(0, APIC_REG_IRR, 0x56) && bit(1, APIC_REG_IRR, 0x56));
    /* physical broadcast */
    ipi(1, 0xFF, 0x57);
    assert_true(bit(0, APIC_REG_IRR, 0x57) && bit(1, APIC_REG_IRR, 0x57));
    /* the ICR keeps what was written, delivery status idle */
    assert_int_equal(rd(1, APIC_REG_ICR_LO), 0x57);
}

static void test_ipi_shorthands(void **state)
{
    (void)state;
    enable(0);
    enable(1);
    ipi(0, 1, (APIC_SH_SELF << APIC_ICR_SHORTHAND_SHIFT) | 0x60);
    assert_true(bit(0, APIC_REG_IRR, 0x60));
    assert_false(bit(1, APIC_REG_IRR, 0x60));
    ipi(0, 0, (APIC_SH_OTHERS << APIC_ICR_SHORTHAND_SHIFT) | 0x61);
    assert_false(bit(0, APIC_REG_IRR, 0x61));
    assert_true(bit(1, APIC_REG_IRR, 0x61));
    ipi(1, 0, (APIC_SH_ALL << APIC_ICR_SHORTHAND_SHIFT) | 0x62);
    assert_true(bit(0, APIC_REG_IRR, 0x62) && bit(1, APIC_REG_IRR, 0x62));
}

static void test_lowest_priority(void **state)
{
    (void)state;
    enable(0);
    enable(1);
    wr(0, APIC_REG_LDR, 0x01000000);
    wr(1, APIC_REG_LDR, 0x02000000);
    wr(0, APIC_REG_TPR, 0x80);
    wr(1, APIC_REG_TPR, 0x10);
    ipi(0, 0x03, APIC_ICR_LOGICAL | (APIC_DM_LOWEST << 8) | 0x90);
    assert_false(bit(0, APIC_REG_IRR, 0x90));
    assert_true(bit(1, APIC_REG_IRR, 0x90));
    wr(0, APIC_REG_TPR, 0x00);
    wr(1, APIC_REG_TPR, 0x20);
    ipi(0, 0x03, APIC_ICR_LOGICAL | (APIC_DM_LOWEST << 8) | 0x91);
    assert_true(bit(0, APIC_REG_IRR, 0x91));
    assert_false(bit(1, APIC_REG_IRR, 0x91));
    /* the focus processor (vector already pending there) wins */
    ipi(0, 0x03, APIC_ICR_LOGICAL | (APIC_DM_LOWEST << 8) | 0x90);
    assert_false(bit(0, APIC_REG_IRR, 0x90));
}

static void test_init_sipi_nmi_smi(void **state)
{
    (void)state;
    enable(1);
    wr(1, APIC_REG_TPR, 0x30);
    self_ipi(1, 0x40);
    /* INIT level de-assert does nothing */
    ipi(0, 1, APIC_ICR_LEVEL | (APIC_DM_INIT << 8));
    assert_false(vcpu_link_pending(&link[1]) & VCPU_EV_INIT);
    assert_int_equal(rd(1, APIC_REG_TPR), 0x30);
    ipi(0, 1, APIC_ICR_LEVEL | APIC_ICR_ASSERT | (APIC_DM_INIT << 8));
    assert_true(vcpu_link_take(&link[1], VCPU_EV_INIT));
    assert_false(vcpu_link_pending(&link[0]) & VCPU_EV_INIT);
    /* INIT resets the APIC but for its ID */
    assert_int_equal(rd(1, APIC_REG_TPR), 0);
    assert_int_equal(rd(1, APIC_REG_SVR), 0xFF);
    assert_false(bit(1, APIC_REG_IRR, 0x40));
    assert_int_equal(rd(1, APIC_REG_ID), 0x01000000);
    assert_false(intr(1));
    ipi(0, 1, (APIC_DM_STARTUP << 8) | 0x9A);
    assert_true(vcpu_link_take(&link[1], VCPU_EV_SIPI));
    assert_int_equal(link[1].sipi_vector, 0x9A);
    ipi(1, 0, APIC_DM_NMI << 8);
    assert_true(vcpu_link_take(&link[0], VCPU_EV_NMI));
    assert_false(vcpu_link_pending(&link[1]) & VCPU_EV_NMI);
    ipi(1, 0, APIC_DM_SMI << 8);
    assert_true(vcpu_link_take(&link[0], VCPU_EV_SMI));
    /* INIT to all excluding self: the BSP sends, the AP gets it */
    wr(0, APIC_REG_ICR_LO, (APIC_SH_OTHERS << APIC_ICR_SHORTHAND_SHIFT) |
                           APIC_ICR_ASSERT | (APIC_DM_INIT << 8));
    assert_true(vcpu_link_take(&link[1], VCPU_EV_INIT));
    assert_false(vcpu_link_pending(&link[0]) & VCPU_EV_INIT);
}

static void test_timer_oneshot(void **state)
{
    (void)state;
    enable(0);
    wr(0, APIC_REG_TIMER_DIV, 0x3); /* divide by 16 */
    wr(0, APIC_REG_LVT, 0x41);      /* one-shot, vector 0x41 */
    wr(0, APIC_REG_TIMER_INIT, 1000);
    assert_int_equal(rd(0, APIC_REG_TIMER_INIT), 1000);
    assert_int_equal(rd(0, APIC_REG_TIMER_CUR), 1000);
    advance(16 * 400);
    assert_int_equal(rd(0, APIC_REG_TIMER_CUR), 600);
    advance(16 * 600 - 1);
    assert_int_equal(rd(0, APIC_REG_TIMER_CUR), 1);
    assert_false(intr(0));
    advance(1);
    assert_true(bit(0, APIC_REG_IRR, 0x41));
    assert_int_equal(rd(0, APIC_REG_TIMER_CUR), 0);
    assert_int_equal(ack(0), 0x41);
    wr(0, APIC_REG_EOI, 0);
    advance(100000);
    assert_false(bit(0, APIC_REG_IRR, 0x41)); /* once only */
    assert_int_equal(rd(0, APIC_REG_TIMER_CUR), 0);
    /* a new initial count restarts it; 0 stops it */
    wr(0, APIC_REG_TIMER_INIT, 10);
    wr(0, APIC_REG_TIMER_INIT, 0);
    advance(1000);
    assert_false(bit(0, APIC_REG_IRR, 0x41));
    /* masked: counts but raises nothing */
    wr(0, APIC_REG_LVT, APIC_LVT_MASKED | 0x41);
    wr(0, APIC_REG_TIMER_INIT, 10);
    advance(160);
    assert_int_equal(rd(0, APIC_REG_TIMER_CUR), 0);
    assert_false(bit(0, APIC_REG_IRR, 0x41));
}

static void test_timer_divide(void **state)
{
    (void)state;
    static const struct { uint32_t dcr, div; } t[] = {
        {0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16},
        {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1},
    };
    enable(0);
    wr(0, APIC_REG_LVT, 0x42);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        wr(0, APIC_REG_TIMER_DIV, t[i].dcr);
        wr(0, APIC_REG_TIMER_INIT, 100);
        advance(100 * t[i].div - 1);
        assert_false(bit(0, APIC_REG_IRR, 0x42));
        advance(1);
        assert_true(bit(0, APIC_REG_IRR, 0x42));
        assert_int_equal(ack(0), 0x42);
        wr(0, APIC_REG_EOI, 0);
    }
    /* changing the divider mid-count: the count goes on at the new rate */
    wr(0, APIC_REG_TIMER_DIV, 0xB);
    wr(0, APIC_REG_TIMER_INIT, 100);
    advance(40);
    assert_int_equal(rd(0, APIC_REG_TIMER_CUR), 60);
    wr(0, APIC_REG_TIMER_DIV, 0x0); /* /2: 60 counts left take 120 ns */
    assert_int_equal(rd(0, APIC_REG_TIMER_CUR), 60);
    advance(119);
    assert_false(bit(0, APIC_REG_IRR, 0x42));
    advance(1);
    assert_true(bit(0, APIC_REG_IRR, 0x42));
}

static void test_timer_periodic(void **state)
{
    (void)state;
    enable(0);
    wr(0, APIC_REG_TIMER_DIV, 0x0); /* by 2: 500 counts = 1000 ns */
    wr(0, APIC_REG_LVT, (APIC_TIMER_PERIODIC << APIC_LVT_TIMER_SHIFT) | 0x43);
    wr(0, APIC_REG_TIMER_INIT, 500);
    for (int period = 1; period <= 3; period++) {
        advance(999);
        assert_false(bit(0, APIC_REG_IRR, 0x43));
        assert_int_equal(rd(0, APIC_REG_TIMER_CUR), 1);
        advance(1);
        assert_true(bit(0, APIC_REG_IRR, 0x43));
        assert_int_equal(ack(0), 0x43);
        wr(0, APIC_REG_EOI, 0);
    }
    advance(500);
    assert_int_equal(rd(0, APIC_REG_TIMER_CUR), 250);
    /* fire times stay on the original grid */
    assert_int_equal(vclock_next_deadline(clk), 4000);
    /* periodic to one-shot: ends at this period's end */
    wr(0, APIC_REG_LVT, 0x43);
    advance(500);
    assert_true(bit(0, APIC_REG_IRR, 0x43));
    assert_int_equal(ack(0), 0x43);
    advance(5000);
    assert_false(bit(0, APIC_REG_IRR, 0x43));
}

static void test_timer_tsc_deadline(void **state)
{
    (void)state;
    enable(0);
    /* not in TSC-deadline mode: MSR writes ignored, reads 0 */
    assert_int_equal(msr_set(0, MSR_IA32_TSC_DEADLINE, 1000), 0);
    assert_int_equal(msr_get(0, MSR_IA32_TSC_DEADLINE), 0);
    wr(0, APIC_REG_LVT,
       (APIC_TIMER_TSC_DEADLINE << APIC_LVT_TIMER_SHIFT) | 0x44);
    vclock_set(clk, 1000000);
    link[0].tsc_offset = 12345;
    uint64_t tsc = clock_ns_to_ticks(1000000, VCLOCK_TSC_HZ) + 12345;
    /* the initial count is ignored in this mode */
    wr(0, APIC_REG_TIMER_INIT, 5);
    assert_int_equal(rd(0, APIC_REG_TIMER_INIT), 0);
    assert_int_equal(msr_set(0, MSR_IA32_TSC_DEADLINE, tsc + 2001), 0);
    assert_int_equal(msr_get(0, MSR_IA32_TSC_DEADLINE), tsc + 2001);
    advance(1000); /* 2000 TSC ticks at 2 GHz: not there yet */
    assert_false(bit(0, APIC_REG_IRR, 0x44));
    advance(1);
    assert_true(bit(0, APIC_REG_IRR, 0x44));
    assert_int_equal(msr_get(0, MSR_IA32_TSC_DEADLINE), 0); /* disarmed */
    assert_int_equal(ack(0), 0x44);
    wr(0, APIC_REG_EOI, 0);
    /* a deadline already passed fires at once */
    assert_int_equal(msr_set(0, MSR_IA32_TSC_DEADLINE, 1), 0);
    assert_true(bit(0, APIC_REG_IRR, 0x44));
    assert_int_equal(ack(0), 0x44);
    wr(0, APIC_REG_EOI, 0);
    /* writing 0 disarms; leaving the mode disarms too */
    tsc = clock_ns_to_ticks(vclock_now(clk), VCLOCK_TSC_HZ) + 12345;
    msr_set(0, MSR_IA32_TSC_DEADLINE, tsc + 100);
    msr_set(0, MSR_IA32_TSC_DEADLINE, 0);
    advance(1000);
    assert_false(bit(0, APIC_REG_IRR, 0x44));
    msr_set(0, MSR_IA32_TSC_DEADLINE, tsc + 10000);
    wr(0, APIC_REG_LVT, 0x44);
    advance(100000);
    assert_false(bit(0, APIC_REG_IRR, 0x44));
}

static void test_apic_base_msr(void **state)
{
    (void)state;
    enable(0);
    /* reserved bits and x2APIC mode #GP, other MSRs are not ours */
    assert_int_equal(
        msr_set(0, MSR_IA32_APIC_BASE, 0xFEE00900 | APIC_BASE_EXTD), -1);
    assert_int_equal(msr_set(0, MSR_IA32_APIC_BASE, 0xFEE00901), -1);
    uint64_t v;
    assert_int_equal(link[0].msr_read(link[0].ic, 0x802, &v), -1);
    assert_int_equal(msr_set(0, 0x808, 0), -1);
    /* relocate both APICs */
    assert_int_equal(msr_set(0, MSR_IA32_APIC_BASE, 0xFED00900), 0);
    assert_int_equal(msr_set(1, MSR_IA32_APIC_BASE, 0xFED00800), 0);
    assert_int_equal(rd_at(0, BASE + APIC_REG_VERSION), 0xFFFFFFFF);
    assert_int_equal(rd_at(0, 0xFED00000 + APIC_REG_VERSION), 0x00050014);
    assert_int_equal(rd_at(0, 0xFED00000 + APIC_REG_SVR), 0x1FF);
    assert_int_equal(rd_at(1, 0xFED00000 + APIC_REG_SVR), 0xFF);
    assert_int_equal(msr_get(0, MSR_IA32_APIC_BASE), 0xFED00900);
    /* a vCPU whose APIC sits elsewhere does not see this one */
    assert_int_equal(msr_set(1, MSR_IA32_APIC_BASE, 0xFEE00800), 0);
    assert_int_equal(rd_at(1, 0xFED00000 + APIC_REG_ID), 0xFFFFFFFF);
    assert_int_equal(rd_at(1, BASE + APIC_REG_ID), 0x01000000);
    assert_int_equal(rd_at(0, 0xFED00000 + APIC_REG_ID), 0);
    /* hardware disable: the page goes away and the state is lost */
    vcpu_link_current = &link[0];
    mem_write(map, 0xFED00000 + APIC_REG_ICR_LO,
              (APIC_SH_SELF << APIC_ICR_SHORTHAND_SHIFT) | 0x70, 4);
    vcpu_link_current = NULL;
    assert_true(intr(0));
    assert_int_equal(msr_set(0, MSR_IA32_APIC_BASE, 0xFED00100), 0);
    assert_false(intr(0));
    assert_int_equal(rd_at(0, 0xFED00000 + APIC_REG_VERSION), 0xFFFFFFFF);
    /* a disabled APIC takes no IPIs */
    ipi(1, 0, 0x71);
    assert_int_equal(msr_set(0, MSR_IA32_APIC_BASE, 0xFEE00900), 0);
    assert_int_equal(rd(0, APIC_REG_SVR), 0xFF);
    assert_false(bit(0, APIC_REG_IRR, 0x70));
    assert_false(bit(0, APIC_REG_IRR, 0x71));
}

static void test_extint(void **state)
{
    (void)state;
    lapic_set_extint(&apic[0], fake_pic_ack, NULL);
    /* power-on: LINT0 ExtINT, the PIC's INTR gets through */
    irq_raise(lapic_lint(&apic[0], 0));
    assert_true(intr(0));
    assert_int_equal(ack(0), 0x20);
    assert_int_equal(pic_acks, 1);
    irq_lower(lapic_lint(&apic[0], 0));
    assert_false(intr(0));
    /* masking LINT0 blocks it */
    irq_raise(lapic_lint(&apic[0], 0));
    enable(0);
    wr(0, APIC_REG_LVT + 0x30, APIC_LVT_MASKED | 0x700);
    assert_false(intr(0));
    wr(0, APIC_REG_LVT + 0x30, 0x700);
    assert_true(intr(0));
    /* APIC fixed interrupts come before the PIC's */
    self_ipi(0, 0x50);
    assert_int_equal(ack(0), 0x50);
    assert_int_equal(pic_acks, 1);
    assert_true(intr(0));
    pic_vector = 0x28;
    assert_int_equal(ack(0), 0x28);
    assert_int_equal(pic_acks, 2);
    /* hardware-disabled APIC: INTR straight through */
    wr(0, APIC_REG_LVT + 0x30, APIC_LVT_MASKED);
    assert_false(intr(0));
    assert_int_equal(msr_set(0, MSR_IA32_APIC_BASE, 0xFEE00100), 0);
    assert_true(intr(0));
    assert_int_equal(ack(0), 0x28);
    irq_lower(lapic_lint(&apic[0], 0));
    assert_false(intr(0));
    assert_int_equal(ack(0), -1);
    /* ... and LINT1 is the NMI pin */
    irq_raise(lapic_lint(&apic[0], 1));
    assert_true(vcpu_link_take(&link[0], VCPU_EV_NMI));
    irq_raise(lapic_lint(&apic[0], 1));
    assert_false(vcpu_link_take(&link[0], VCPU_EV_NMI)); /* edge only */
}

static int pic_ack_cb(void *opaque) { return pic_ack(opaque); }

/* The real 8259 on the BSP's LINT0, as the board wires it */
static void test_extint_with_pic(void **state)
{
    (void)state;
    struct port_bus *io = port_bus_new();
    static struct pic pic;
    assert_int_equal(pic_init(&pic, io, *lapic_lint(&apic[0], 0)), 0);
    lapic_set_extint(&apic[0], pic_ack_cb, &pic);
    static const uint8_t icw[][2] = {
        {0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0x00},
        {0xA0, 0x11}, {0xA1, 0x70}, {0xA1, 0x02}, {0xA1, 0x01}, {0xA1, 0x00},
    };
    for (size_t i = 0; i < sizeof(icw) / sizeof(icw[0]); i++)
        port_write(io, icw[i][0], icw[i][1], 1);
    struct irq_line irq1 = pic_irq(&pic, 1), irq12 = pic_irq(&pic, 12);
    irq_raise(&irq12);
    assert_true(intr(0));
    assert_false(intr(1));
    assert_int_equal(ack(0), 0x74);
    irq_lower(&irq12);
    port_write(io, 0xA0, 0x20, 1);
    port_write(io, 0x20, 0x20, 1);
    assert_false(intr(0));
    irq_raise(&irq1);
    assert_true(intr(0));
    assert_int_equal(ack(0), 0x09);
    port_write(io, 0x20, 0x20, 1);
    port_bus_free(io);
}

static void test_lint_nmi_and_level(void **state)
{
    (void)state;
    enable(1);
    wr(1, APIC_REG_LVT + 0x40, APIC_DM_NMI << 8); /* LINT1: NMI */
    irq_pulse(lapic_lint(&apic[1], 1));
    assert_true(vcpu_link_take(&link[1], VCPU_EV_NMI));
    wr(1, APIC_REG_LVT + 0x40, APIC_LVT_MASKED | (APIC_DM_NMI << 8));
    irq_pulse(lapic_lint(&apic[1], 1));
    assert_false(vcpu_link_take(&link[1], VCPU_EV_NMI));
    /* LINT0 level-triggered fixed, active low */
    irq_raise(lapic_lint(&apic[1], 0));
    wr(1, APIC_REG_LVT + 0x30, APIC_LVT_LEVEL | APIC_LVT_LOW_ACTIVE | 0x33);
    assert_false(bit(1, APIC_REG_IRR, 0x33));
    irq_lower(lapic_lint(&apic[1], 0)); /* asserted */
    assert_true(bit(1, APIC_REG_IRR, 0x33));
    assert_true(bit(1, APIC_REG_TMR, 0x33));
    assert_true(rd(1, APIC_REG_LVT + 0x30) & APIC_LVT_REMOTE_IRR);
    assert_int_equal(ack(1), 0x33);
    /* still asserted: EOI clears remote IRR and it comes again */
    wr(1, APIC_REG_EOI, 0);
    assert_true(bit(1, APIC_REG_IRR, 0x33));
    assert_true(rd(1, APIC_REG_LVT + 0x30) & APIC_LVT_REMOTE_IRR);
    assert_int_equal(ack(1), 0x33);
    irq_raise(lapic_lint(&apic[1], 0)); /* de-asserted */
    wr(1, APIC_REG_EOI, 0);
    assert_false(bit(1, APIC_REG_IRR, 0x33));
    assert_false(rd(1, APIC_REG_LVT + 0x30) & APIC_LVT_REMOTE_IRR);
}

static void test_snapshot_state(void **state)
{
    (void)state;
    enable(0);
    wr(0, APIC_REG_TPR, 0x20);
    wr(0, APIC_REG_TIMER_DIV, 0xB);
    wr(0, APIC_REG_LVT, 0x45);
    wr(0, APIC_REG_TIMER_INIT, 1000);
    self_ipi(0, 0x66);
    advance(300);
    struct lapic_state saved = apic[0].st;
    /* the guest goes on and changes things; then the snapshot comes back */
    msr_set(0, MSR_IA32_APIC_BASE, 0xFED00900);
    mem_write(map, 0xFED00000 + APIC_REG_TIMER_INIT, 0, 4);
    apic[0].st = saved;
    lapic_post_load(&apic[0]);
    assert_int_equal(rd(0, APIC_REG_TPR), 0x20);
    assert_int_equal(rd(0, APIC_REG_TIMER_CUR), 700);
    assert_true(intr(0));
    assert_int_equal(ack(0), 0x66);
    advance(699);
    assert_false(bit(0, APIC_REG_IRR, 0x45));
    advance(1);
    assert_true(bit(0, APIC_REG_IRR, 0x45));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_reset_values),
        T(test_register_masks),
        T(test_priority_and_nesting),
        T(test_tpr_masking_and_cr8),
        T(test_spurious),
        T(test_sw_disabled_drops_fixed),
        T(test_esr),
        T(test_ipi_physical_logical),
        T(test_ipi_shorthands),
        T(test_lowest_priority),
        T(test_init_sipi_nmi_smi),
        T(test_timer_oneshot),
        T(test_timer_divide),
        T(test_timer_periodic),
        T(test_timer_tsc_deadline),
        T(test_apic_base_msr),
        T(test_extint),
        T(test_extint_with_pic),
        T(test_lint_nmi_and_level),
        T(test_snapshot_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
