/* Unit tests of the PIIX4 ACPI PM function (devices/acpi_pm.c) on real ports
 * with a manual clock: the PMBA register and where the PM block appears, the
 * PM timer's rate and wrap, TMR_STS and the SCI it raises through the timer,
 * write-1-to-clear status, ACPI enable through port 0xB2, the power button,
 * S5 power-off, the GPE0 stub and the SMBus storage registers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/acpi_pm.h"
#include "vm/runstate.h"

#define PM ACPI_PM_BASE

struct ctx {
    struct port_bus *io;
    struct mem_map *mem;
    struct vclock *clock;
    struct pci_bus bus;
    struct acpi_pm pm;
    struct irq_line sci;
    int sci_level, sci_raises;
};

static void sci_handler(void *opaque, int pin, int level)
{
    struct ctx *c = opaque;
    if (level && !c->sci_level)
        c->sci_raises++;
    c->sci_level = level;
}

static uint32_t cfg_read(struct ctx *c, unsigned reg, unsigned size)
{
    port_write(c->io, 0xcf8, 0x80000000u | 1 << 11 | 3 << 8 | (reg & 0xfc), 4);
    return port_read(c->io, 0xcfc + (reg & 3), size);
}

static void cfg_write(struct ctx *c, unsigned reg, uint32_t v, unsigned size)
{
    port_write(c->io, 0xcf8, 0x80000000u | 1 << 11 | 3 << 8 | (reg & 0xfc), 4);
    port_write(c->io, 0xcfc + (reg & 3), v, size);
}

/* What SeaBIOS does: PMBASE 0x600, enable the PM I/O space */
static void enable_pm(struct ctx *c)
{
    cfg_write(c, ACPI_PM_PMBA, PM | 1, 4);
    cfg_write(c, ACPI_PM_PMREGMISC, 1, 1);
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    c->io = port_bus_new();
    c->mem = mem_map_new();
    c->clock = vclock_new(VCLOCK_MANUAL);
    vclock_set(c->clock, 1000);
    c->sci = (struct irq_line){sci_handler, c, ACPI_SCI_IRQ};
    assert_int_equal(pci_bus_init(&c->bus, c->io, c->mem), 0);
    assert_int_equal(acpi_pm_init(&c->pm, &c->bus, c->io, c->clock, &c->sci), 0);
    vm_clear_request();
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    vtimer_del(&c->pm.tmr_timer);
    vclock_free(c->clock);
    mem_map_free(c->mem);
    port_bus_free(c->io);
    free(c);
    vm_clear_request();
    return 0;
}

static void test_config(void **state)
{
    struct ctx *c = *state;
    assert_int_equal(cfg_read(c, 0, 4), 0x71138086);
    assert_int_equal(cfg_read(c, 8, 4), 0x06800003);
    assert_int_equal(cfg_read(c, PCI_INTERRUPT_PIN, 1), 1);
    assert_int_equal(cfg_read(c, ACPI_PM_PMBA, 4), 1);
    cfg_write(c, ACPI_PM_PMBA, 0xffffffffu, 4);
    assert_int_equal(cfg_read(c, ACPI_PM_PMBA, 4), 0xffc1);
    cfg_write(c, ACPI_PM_PMREGMISC, 0xff, 1);
    assert_int_equal(cfg_read(c, ACPI_PM_PMREGMISC, 1), 1);
    /* SMBus registers are storage with their fixed bits */
    cfg_write(c, ACPI_PM_SMBBA, ACPI_SMB_BASE | 1, 4);
    assert_int_equal(cfg_read(c, ACPI_PM_SMBBA, 4), ACPI_SMB_BASE | 1);
    cfg_write(c, ACPI_PM_SMBBA, 0xffffffffu, 4);
    assert_int_equal(cfg_read(c, ACPI_PM_SMBBA, 4), 0xfff1);
    cfg_write(c, ACPI_PM_SMBHSTCFG, 0x09, 1);
    assert_int_equal(cfg_read(c, ACPI_PM_SMBHSTCFG, 1), 0x09);
    /* SMM "already set up" for SeaBIOS */
    assert_int_equal(cfg_read(c, ACPI_PM_DEVACTB + 3, 1), 0x02);
}

static void test_pmba_mapping(void **state)
{
    struct ctx *c = *state;
    cfg_write(c, ACPI_PM_PMBA, PM | 1, 4);
    assert_null(port_bus_owner(c->io, PM));
    cfg_write(c, ACPI_PM_PMREGMISC, 1, 1);
    assert_string_equal(port_bus_owner(c->io, PM), "acpi-pm");
    assert_string_equal(port_bus_owner(c->io, PM + 63), "acpi-pm");
    assert_null(port_bus_owner(c->io, PM + 64));
    cfg_write(c, ACPI_PM_PMBA, 0xb001, 4); /* move */
    assert_null(port_bus_owner(c->io, PM));
    assert_string_equal(port_bus_owner(c->io, 0xb000), "acpi-pm");
    cfg_write(c, ACPI_PM_PMREGMISC, 0, 1);
    assert_null(port_bus_owner(c->io, 0xb000));
    /* fixed blocks */
    assert_string_equal(port_bus_owner(c->io, ACPI_GPE0_BLK), "acpi-gpe0");
    assert_string_equal(port_bus_owner(c->io, ACPI_SMI_CMD), "apm");
}

static void test_timer_rate(void **state)
{
    struct ctx *c = *state;
    enable_pm(c);
    vclock_set(c->clock, 0);
    assert_int_equal(port_read(c->io, PM + 8, 4), 0);
    vclock_set(c->clock, NS_PER_SEC);
    assert_int_equal(port_read(c->io, PM + 8, 4), 3579545);
    vclock_set(c->clock, NS_PER_SEC / 1000); /* 1 ms: 3579.545 ticks */
    assert_int_equal(port_read(c->io, PM + 8, 4), 3579);
    /* 24 bits: wraps after 2^24 ticks (about 4.687 s) */
    int64_t wrap = clock_ticks_to_ns(1 << 24, ACPI_PM_TIMER_HZ) + 1;
    vclock_set(c->clock, wrap + NS_PER_SEC);
    assert_int_equal(port_read(c->io, PM + 8, 4), 3579545);
    /* word and byte reads see the same value */
    assert_int_equal(port_read(c->io, PM + 8, 2), 3579545 & 0xffff);
    assert_int_equal(port_read(c->io, PM + 10, 1), 3579545 >> 16);
    assert_int_equal(port_read(c->io, PM + 11, 1), 0);
    /* read-only */
    port_write(c->io, PM + 8, 0, 4);
    assert_int_equal(port_read(c->io, PM + 8, 4), 3579545);
    /* rate over manual time: 10 s later, 35795450 ticks more mod 2^24 */
    uint32_t t0 = port_read(c->io, PM + 8, 4);
    vclock_advance(c->clock, 10 * NS_PER_SEC);
    uint32_t t1 = port_read(c->io, PM + 8, 4);
    assert_int_equal((t1 - t0) & 0xffffff, 35795450 & 0xffffff);
}

static void test_timer_overflow_sci(void **state)
{
    struct ctx *c = *state;
    enable_pm(c);
    vclock_set(c->clock, 0);
    acpi_pm_reset(&c->pm);
    enable_pm(c);
    assert_int_equal(port_read(c->io, PM, 2), 0);
    /* bit 23 flips after 2^23 ticks: TMR_STS latches, no SCI yet */
    int64_t half = clock_ticks_to_ns(1 << 23, ACPI_PM_TIMER_HZ);
    vclock_set(c->clock, half - 1000);
    assert_int_equal(port_read(c->io, PM, 2) & ACPI_PM1_TMR, 0);
    vclock_set(c->clock, half + 1000);
    assert_int_equal(port_read(c->io, PM, 2), ACPI_PM1_TMR);
    port_write(c->io, PM, 0, 2); /* writing 0 keeps it */
    assert_int_equal(port_read(c->io, PM, 2), ACPI_PM1_TMR);
    port_write(c->io, PM, ACPI_PM1_TMR, 2);
    assert_int_equal(port_read(c->io, PM, 2), 0);
    assert_int_equal(c->sci_level, 0);

    /* ACPI mode through the SMI command port, then TMR_EN */
    port_write(c->io, ACPI_SMI_CMD, ACPI_ENABLE_CMD, 1);
    assert_int_equal(port_read(c->io, PM + 4, 2) & ACPI_PM1_SCI_EN, 1);
    assert_int_equal(port_read(c->io, ACPI_SMI_CMD, 1), ACPI_ENABLE_CMD);
    port_write(c->io, PM + 2, ACPI_PM1_TMR, 2);
    assert_int_equal(port_read(c->io, PM + 2, 2), ACPI_PM1_TMR);
    /* the timer fires at the next flip of bit 23 */
    int64_t next = vclock_next_deadline(c->clock);
    assert_true(next > half && next <= 2 * half + 2);
    vclock_set(c->clock, next - 2);
    vclock_run_timers(c->clock);
    assert_int_equal(c->sci_level, 0);
    vclock_set(c->clock, next);
    assert_true(vclock_run_timers(c->clock) >= 1);
    assert_int_equal(c->sci_level, 1);
    assert_int_equal(c->sci_raises, 1);
    /* the OS acknowledges: SCI drops; the timer is armed again */
    port_write(c->io, PM, ACPI_PM1_TMR, 1);
    assert_int_equal(c->sci_level, 0);
    assert_true(vclock_next_deadline(c->clock) > next);
    /* TMR_EN off: no timer, and ACPI disable gates the SCI */
    port_write(c->io, PM + 2, 0, 2);
    assert_true(vclock_next_deadline(c->clock) == VCLOCK_NEVER);
}

static void test_power_button_and_sci_en(void **state)
{
    struct ctx *c = *state;
    enable_pm(c);
    port_write(c->io, PM + 2, ACPI_PM1_PWRBTN, 2);
    acpi_pm_power_button(&c->pm);
    assert_int_equal(port_read(c->io, PM + 1, 1), ACPI_PM1_PWRBTN >> 8);
    assert_int_equal(c->sci_level, 0); /* SCI_EN is clear: legacy mode */
    port_write(c->io, ACPI_SMI_CMD, ACPI_ENABLE_CMD, 1);
    assert_int_equal(c->sci_level, 1);
    port_write(c->io, ACPI_SMI_CMD, ACPI_DISABLE_CMD, 1);
    assert_int_equal(c->sci_level, 0);
    assert_int_equal(port_read(c->io, PM + 4, 2) & ACPI_PM1_SCI_EN, 0);
    /* the OS may also set SCI_EN directly */
    port_write(c->io, PM + 4, ACPI_PM1_SCI_EN, 2);
    assert_int_equal(c->sci_level, 1);
    /* dword write to status+enable: clears PWRBTN_STS, keeps the enable */
    port_write(c->io, PM, ACPI_PM1_PWRBTN | (uint32_t)ACPI_PM1_PWRBTN << 16, 4);
    assert_int_equal(c->sci_level, 0);
    assert_int_equal(port_read(c->io, PM, 4), (uint32_t)ACPI_PM1_PWRBTN << 16);
    /* reserved enable bits stay 0 */
    port_write(c->io, PM + 2, 0xffff, 2);
    assert_int_equal(port_read(c->io, PM + 2, 2), 0x0521);
}

static void test_sleep(void **state)
{
    struct ctx *c = *state;
    enable_pm(c);
    port_write(c->io, PM + 4, ACPI_PM1_SCI_EN, 2);
    /* S3 is not supported: nothing happens */
    port_write(c->io, PM + 4, ACPI_PM1_SCI_EN | 1 << 10 | ACPI_PM1_SLP_EN, 2);
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);
    /* SLP_EN is write-only, SLP_TYP sticks */
    assert_int_equal(port_read(c->io, PM + 4, 2), ACPI_PM1_SCI_EN | 1 << 10);
    /* SLP_TYP alone does not sleep */
    port_write(c->io, PM + 4, ACPI_PM1_SCI_EN, 2);
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);
    /* S5 with a byte write of the high half, as some OSes do */
    port_write(c->io, PM + 5, (ACPI_SLP_TYP_S5 << 2) | 0x20, 1);
    assert_int_equal(vm_pending_request(), VM_REQ_POWEROFF);
    assert_string_equal(vm_request_reason(), "ACPI S5");
    vm_clear_request();
    port_write(c->io, PM + 4, ACPI_PM1_SLP_EN | ACPI_SLP_TYP_S5 << 10, 2);
    assert_int_equal(vm_pending_request(), VM_REQ_POWEROFF);
}

static void test_gpe0(void **state)
{
    struct ctx *c = *state;
    port_write(c->io, ACPI_GPE0_BLK + 2, 0x0102, 2);
    assert_int_equal(port_read(c->io, ACPI_GPE0_BLK, 4), 0x01020000);
    c->pm.s.gpe0_sts = 0x0006; /* as a hotplug event would */
    port_write(c->io, ACPI_GPE0_BLK, 0x0004, 1);
    assert_int_equal(port_read(c->io, ACPI_GPE0_BLK, 2), 0x0002);
    port_write(c->io, ACPI_SMI_CMD, ACPI_ENABLE_CMD, 1);
    assert_int_equal(c->sci_level, 1); /* sts 2 & en 2 */
    port_write(c->io, ACPI_GPE0_BLK, 0x0002, 2);
    assert_int_equal(c->sci_level, 0);
    /* APM status is storage */
    port_write(c->io, ACPI_SMI_CMD + 1, 0x5a, 1);
    assert_int_equal(port_read(c->io, ACPI_SMI_CMD, 2), 0x5a00 | ACPI_ENABLE_CMD);
}

static void test_reset(void **state)
{
    struct ctx *c = *state;
    enable_pm(c);
    port_write(c->io, ACPI_SMI_CMD, ACPI_ENABLE_CMD, 1);
    port_write(c->io, PM + 2, ACPI_PM1_PWRBTN, 2);
    acpi_pm_power_button(&c->pm);
    assert_int_equal(c->sci_level, 1);
    acpi_pm_reset(&c->pm);
    assert_int_equal(c->sci_level, 0);
    assert_null(port_bus_owner(c->io, PM));
    enable_pm(c);
    assert_int_equal(port_read(c->io, PM, 4), 0);
    assert_int_equal(port_read(c->io, PM + 4, 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pmba_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_overflow_sci, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_button_and_sci_en, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sleep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gpe0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
