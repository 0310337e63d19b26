/* The PIIX4 ACPI power management function (see acpi_pm.h). Registers are
 * 16 bits wide; any access is split into the bytes of each register it
 * touches, so byte, word and dword accesses all behave. */
#include "devices/acpi_pm.h"

#include <string.h>
#include "vm/log.h"
#include "vm/runstate.h"

#define PM1_STS_W1C (ACPI_PM1_TMR | ACPI_PM1_BM | ACPI_PM1_GBL | \
                     ACPI_PM1_PWRBTN | ACPI_PM1_RTC | 0x0800 | ACPI_PM1_WAK)
#define PM1_EN_MASK (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | \
                     ACPI_PM1_RTC)
#define PM1_CNT_MASK (ACPI_PM1_SCI_EN | 0x0002 | (7 << ACPI_PM1_SLP_TYP_SHIFT))
#define TMR_PERIOD_SHIFT 23 /* TMR_STS: bit 23 of the timer changed */

#define PMBA_IO 0x01     /* read-only "I/O space" bit of PMBA and SMBBA */
#define PMIOSE 0x01      /* PMREGMISC: PM I/O space enable */
#define APMC_EN 0x02     /* DEVACTB byte 3: SMI on APMC writes */

typedef void reg16_write(struct acpi_pm *pm, unsigned reg, uint16_t val,
                         uint16_t mask);

/* Hand each 16-bit register touched by a write its bytes and their mask */
static void split_write(struct acpi_pm *pm, uint64_t off, uint64_t value,
                        unsigned size, reg16_write *fn)
{
    for (unsigned reg = (unsigned)off & ~1u; reg < off + size; reg += 2) {
        uint16_t mask = 0, val = 0;
        for (unsigned i = 0; i < 2; i++) {
            unsigned a = reg + i;
            if (a < off || a >= off + size)
                continue;
            mask |= (uint16_t)(0xff << (8 * i));
            val |= (uint16_t)(((value >> (8 * (a - off))) & 0xff) << (8 * i));
        }
        fn(pm, reg, val, mask);
    }
}

/* ---- timer ---- */

static int64_t timer_ticks(struct acpi_pm *pm)
{
    return clock_ns_to_ticks(vclock_now(pm->clock), ACPI_PM_TIMER_HZ);
}

uint32_t acpi_pm_timer(struct acpi_pm *pm)
{
    return (uint32_t)(timer_ticks(pm) & 0xffffff);
}

/* Latch TMR_STS if bit 23 changed since we last looked */
static void update_tmr_sts(struct acpi_pm *pm)
{
    int64_t periods = timer_ticks(pm) >> TMR_PERIOD_SHIFT;
    if (periods != pm->s.tmr_periods) {
        pm->s.tmr_periods = periods;
        pm->s.pm1_sts |= ACPI_PM1_TMR;
    }
}

static void update_sci(struct acpi_pm *pm)
{
    update_tmr_sts(pm);
    uint8_t level = (pm->s.pm1_cnt & ACPI_PM1_SCI_EN) &&
                    ((pm->s.pm1_sts & pm->s.pm1_en & PM1_EN_MASK) ||
                     (pm->s.gpe0_sts & pm->s.gpe0_en));
    if (level != pm->s.sci_level) {
        pm->s.sci_level = level;
        irq_set(pm->sci, level);
    }
}

/* While TMR_EN is set, wake up at the next change of bit 23 */
static void arm_timer(struct acpi_pm *pm)
{
    if (!(pm->s.pm1_en & ACPI_PM1_TMR)) {
        vtimer_del(&pm->tmr_timer);
        return;
    }
    int64_t next = (pm->s.tmr_periods + 1) << TMR_PERIOD_SHIFT;
    vtimer_mod(&pm->tmr_timer, clock_ticks_to_ns(next, ACPI_PM_TIMER_HZ) + 1);
}

static void timer_expired(void *opaque)
{
    struct acpi_pm *pm = opaque;
    update_sci(pm);
    arm_timer(pm);
}

/* ---- PM1 block at PMBA ---- */

static void sleep_request(struct acpi_pm *pm)
{
    switch ((pm->s.pm1_cnt >> ACPI_PM1_SLP_TYP_SHIFT) & 7) {
    case ACPI_SLP_TYP_S5:
        vm_request(VM_REQ_POWEROFF, "ACPI S5");
        break;
    case ACPI_SLP_TYP_S4:
        vm_request(VM_REQ_POWEROFF, "ACPI S4");
        break;
    default:
        log_msg_rl(LOG_UNIMP, "acpi: sleep type %u not supported\n",
                   (pm->s.pm1_cnt >> ACPI_PM1_SLP_TYP_SHIFT) & 7);
        break;
    }
}

static void pm1_write(struct acpi_pm *pm, unsigned reg, uint16_t val,
                      uint16_t mask)
{
    switch (reg) {
    case 0: /* PM1a_STS */
        update_tmr_sts(pm);
        pm->s.pm1_sts &= (uint16_t)~(val & mask & PM1_STS_W1C);
        break;
    case 2: /* PM1a_EN */
        pm->s.pm1_en = (uint16_t)((pm->s.pm1_en & ~mask) |
                                  (val & mask & PM1_EN_MASK));
        update_tmr_sts(pm);
        arm_timer(pm);
        break;
    case 4: /* PM1a_CNT; SLP_EN and GBL_RLS are write-only */
        pm->s.pm1_cnt = (uint16_t)((pm->s.pm1_cnt & ~(mask & PM1_CNT_MASK)) |
                                   (val & mask & PM1_CNT_MASK));
        if (val & mask & ACPI_PM1_SLP_EN)
            sleep_request(pm);
        break;
    default: /* the timer is read-only; the rest is not implemented */
        break;
    }
    update_sci(pm);
}

static uint16_t pm1_reg(struct acpi_pm *pm, unsigned reg, uint32_t tmr)
{
    switch (reg) {
    case 0: return pm->s.pm1_sts;
    case 2: return pm->s.pm1_en;
    case 4: return pm->s.pm1_cnt;
    case 8: return (uint16_t)tmr;
    case 10: return (uint16_t)(tmr >> 16);
    default: return 0;
    }
}

static uint64_t pm1_read(void *opaque, uint64_t offset, unsigned size)
{
    struct acpi_pm *pm = opaque;
    uint32_t tmr = acpi_pm_timer(pm);
    uint64_t v = 0;
    update_tmr_sts(pm);
    for (unsigned i = 0; i < size; i++) {
        unsigned a = (unsigned)offset + i;
        uint8_t b = a < ACPI_PM_IO_SIZE
                        ? (uint8_t)(pm1_reg(pm, a & ~1u, tmr) >> (8 * (a & 1)))
                        : 0xff;
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void pm1_port_write(void *opaque, uint64_t offset, uint64_t value,
                           unsigned size)
{
    split_write(opaque, offset, value, size, pm1_write);
}

static const struct io_ops pm1_ops = {pm1_read, pm1_port_write};

/* ---- GPE0 block: status (write 1 to clear) and enable ---- */

static void gpe_write(struct acpi_pm *pm, unsigned reg, uint16_t val,
                      uint16_t mask)
{
    if (reg == 0)
        pm->s.gpe0_sts &= (uint16_t)~(val & mask);
    else if (reg == 2)
        pm->s.gpe0_en = (uint16_t)((pm->s.gpe0_en & ~mask) | (val & mask));
    update_sci(pm);
}

static uint64_t gpe_read(void *opaque, uint64_t offset, unsigned size)
{
    struct acpi_pm *pm = opaque;
    uint32_t both = pm->s.gpe0_sts | (uint32_t)pm->s.gpe0_en << 16;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned a = (unsigned)offset + i;
        uint8_t b = a < ACPI_GPE0_BLK_LEN ? (uint8_t)(both >> (8 * a)) : 0xff;
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void gpe_port_write(void *opaque, uint64_t offset, uint64_t value,
                           unsigned size)
{
    split_write(opaque, offset, value, size, gpe_write);
}

static const struct io_ops gpe_ops = {gpe_read, gpe_port_write};

/* ---- APM control (0xB2) and status (0xB3) ---- */

static void apm_write(struct acpi_pm *pm, unsigned reg, uint16_t val,
                      uint16_t mask)
{
    if (mask & 0xff00)
        pm->s.apms = (uint8_t)(val >> 8);
    if (!(mask & 0x00ff))
        return;
    pm->s.apmc = (uint8_t)val;
    /* what the SMI handler does on QEMU's PC: switch ACPI mode */
    if (pm->s.apmc == ACPI_ENABLE_CMD)
        pm->s.pm1_cnt |= ACPI_PM1_SCI_EN;
    else if (pm->s.apmc == ACPI_DISABLE_CMD)
        pm->s.pm1_cnt &= (uint16_t)~ACPI_PM1_SCI_EN;
    update_sci(pm);
}

static uint64_t apm_read(void *opaque, uint64_t offset, unsigned size)
{
    struct acpi_pm *pm = opaque;
    uint16_t both = (uint16_t)(pm->s.apmc | pm->s.apms << 8);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned a = (unsigned)offset + i;
        uint8_t b = a < 2 ? (uint8_t)(both >> (8 * a)) : 0xff;
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void apm_port_write(void *opaque, uint64_t offset, uint64_t value,
                           unsigned size)
{
    split_write(opaque, offset, value, size, apm_write);
}

static const struct io_ops apm_ops = {apm_read, apm_port_write};

/* ---- PCI side ---- */

static void map_pm_io(struct acpi_pm *pm)
{
    const uint8_t *c = pm->pci.s.config;
    bool want = c[ACPI_PM_PMREGMISC] & PMIOSE;
    uint16_t base = pci_get_word(&c[ACPI_PM_PMBA]) & 0xffc0;
    if (pm->io_mapped && (!want || base != pm->io_base)) {
        port_bus_unregister(pm->io, pm->io_base);
        pm->io_mapped = false;
    }
    if (!want || pm->io_mapped)
        return;
    if (port_bus_register(pm->io, base, ACPI_PM_IO_SIZE, "acpi-pm", &pm1_ops,
                          pm) < 0) {
        log_msg_rl(LOG_GUEST_ERRORS,
                   "acpi: PM base 0x%x overlaps another device\n", base);
        return;
    }
    pm->io_mapped = true;
    pm->io_base = base;
}

static void config_written(struct pci_device *d, unsigned addr, unsigned size,
                           uint32_t old)
{
    if ((addr < ACPI_PM_PMBA + 4 && addr + size > ACPI_PM_PMBA) ||
        (addr <= ACPI_PM_PMREGMISC && addr + size > ACPI_PM_PMREGMISC))
        map_pm_io(d->opaque);
}

void acpi_pm_update(struct acpi_pm *pm)
{
    map_pm_io(pm);
    arm_timer(pm);
    irq_set(pm->sci, pm->s.sci_level);
    update_sci(pm);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
    pm->s.pm1_sts |= ACPI_PM1_PWRBTN;
    update_sci(pm);
}

int acpi_pm_init(struct acpi_pm *pm, struct pci_bus *bus, struct port_bus *io,
                 struct vclock *clock, const struct irq_line *sci)
{
    memset(pm, 0, sizeof(*pm));
    pm->io = io;
    pm->clock = clock;
    pm->sci = sci;
    vtimer_init(&pm->tmr_timer, clock, timer_expired, pm);
    struct pci_device *d = &pm->pci;
    pci_device_init(d, "piix4-pm", ACPI_PM_VENDOR, ACPI_PM_DEVICE, 0x03,
                    0x068000, 0);
    d->opaque = pm;
    d->config_written = config_written;
    pci_set_long(&d->wmask[ACPI_PM_PMBA], 0xffc0);
    d->wmask[ACPI_PM_PMREGMISC] = PMIOSE;
    pci_set_long(&d->wmask[ACPI_PM_SMBBA], 0xfff0);
    d->wmask[ACPI_PM_SMBHSTCFG] = 0x0f;
    acpi_pm_reset(pm);
    int r = pci_bus_add(bus, d, ACPI_PM_DEVFN);
    if (r < 0)
        return r;
    r = port_bus_register(io, ACPI_GPE0_BLK, ACPI_GPE0_BLK_LEN, "acpi-gpe0",
                          &gpe_ops, pm);
    if (r < 0)
        return r;
    return port_bus_register(io, ACPI_SMI_CMD, 2, "apm", &apm_ops, pm);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
    uint8_t *c = pm->pci.s.config;
    pci_device_reset(&pm->pci);
    memset(&c[PCI_CONFIG_HEADER_SIZE], 0,
           PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    pci_set_word(&c[PCI_STATUS], 0x0080 | PCI_STATUS_DEVSEL_MEDIUM);
    c[PCI_INTERRUPT_PIN] = 1;
    c[ACPI_PM_PMBA] = PMBA_IO;
    c[ACPI_PM_SMBBA] = PMBA_IO;
    /* no SMM here: tell SeaBIOS the SMI handler is already set up, as QEMU
     * does when SMM is off, so that it does not try to install one */
    c[ACPI_PM_DEVACTB + 3] = APMC_EN;
    memset(&pm->s, 0, sizeof(pm->s));
    pm->s.tmr_periods = timer_ticks(pm) >> TMR_PERIOD_SHIFT;
    irq_lower(pm->sci);
    map_pm_io(pm);
    arm_timer(pm);
}
