/* The PIIX3 ISA bridge: PIRQ routing and the reset control register (see
 * piix3.h). */
#include "devices/piix3.h"

#include <string.h>
#include "vm/runstate.h"

#define RCR_SRST 0x02
#define RCR_RCPU 0x04

int piix3_pirq_of(uint8_t devfn, int intx)
{
    return (PCI_SLOT(devfn) + intx - 1) & 3;
}

/* ISA IRQs a PIRQ route control register may name (others are reserved) */
static bool routable(unsigned irq)
{
    return irq >= 3 && irq != 8 && irq != 13 && irq < PIIX3_ISA_IRQS;
}

static bool pirq_asserted(const struct piix3 *p, int pirq)
{
    for (int i = 0; i < 8; i++)
        if (p->s.pirq_src[pirq][i])
            return true;
    return false;
}

/* Drive every ISA IRQ from the PIRQ levels and the route registers, telling
 * the lines only about changes. With force, tell all 16. */
static void drive(struct piix3 *p, bool force)
{
    uint16_t level = 0;
    for (int pirq = 0; pirq < PIIX3_NUM_PIRQ; pirq++) {
        uint8_t route = p->pci.s.config[PIIX3_PIRQRC + pirq];
        if (!(route & PIIX3_PIRQ_DISABLE) && routable(route & 0x0f) &&
            pirq_asserted(p, pirq))
            level |= (uint16_t)(1u << (route & 0x0f));
    }
    uint16_t changed = force ? 0xffff : level ^ p->s.isa_level;
    p->s.isa_level = level;
    for (int irq = 0; irq < PIIX3_ISA_IRQS; irq++)
        if (changed & (1u << irq))
            irq_set(&p->isa_irq[irq], (level >> irq) & 1);
}

void piix3_update_irqs(struct piix3 *p)
{
    drive(p, true);
}

static void route_intx(void *opaque, uint8_t devfn, int intx, int level)
{
    struct piix3 *p = opaque;
    uint32_t *word = &p->s.pirq_src[piix3_pirq_of(devfn, intx)][devfn / 32];
    if (level)
        *word |= 1u << (devfn % 32);
    else
        *word &= ~(1u << (devfn % 32));
    drive(p, false);
}

static void config_written(struct pci_device *d, unsigned addr, unsigned size,
                           uint32_t old)
{
    if (addr < PIIX3_PIRQRC + PIIX3_NUM_PIRQ && addr + size > PIIX3_PIRQRC)
        drive(d->opaque, false);
}

static uint64_t rcr_read(void *opaque, uint64_t offset, unsigned size)
{
    struct piix3 *p = opaque;
    return size == 1 ? p->s.rcr : ~0ull;
}

static void rcr_write(void *opaque, uint64_t offset, uint64_t value,
                      unsigned size)
{
    struct piix3 *p = opaque;
    if (size != 1)
        return;
    if (value & RCR_RCPU) {
        vm_request(VM_REQ_RESET, "reset through port 0xCF9");
        return;
    }
    p->s.rcr = value & RCR_SRST;
}

static const struct io_ops rcr_ops = {rcr_read, rcr_write};

int piix3_init(struct piix3 *p, struct pci_bus *bus, struct port_bus *io,
               const struct irq_line *isa_irq)
{
    memset(p, 0, sizeof(*p));
    p->isa_irq = isa_irq;
    struct pci_device *d = &p->pci;
    pci_device_init(d, "piix3", PIIX3_VENDOR, PIIX3_DEVICE, 0x00, 0x060100,
                    PCI_HEADER_TYPE_MULTI);
    d->opaque = p;
    d->config_written = config_written;
    for (int i = 0; i < PIIX3_NUM_PIRQ; i++)
        d->wmask[PIIX3_PIRQRC + i] = PIIX3_PIRQ_DISABLE | 0x0f;
    piix3_reset(p);
    int r = pci_bus_add(bus, d, PCI_DEVFN(1, 0));
    if (r < 0)
        return r;
    pci_bus_set_router(bus, route_intx, p);
    return port_bus_register(io, PIIX3_RCR_PORT, 1, "piix3-rcr", &rcr_ops, p);
}

/* Power-on values of the function 0 registers (82371SB datasheet) */
static const struct {
    uint8_t reg, value;
} defaults[] = {
    {0x4c, 0x4d}, {0x4e, 0x03}, {0x60, 0x80}, {0x61, 0x80}, {0x62, 0x80},
    {0x63, 0x80}, {0x69, 0x02}, {0x70, 0x80}, {0x76, 0x0c}, {0x77, 0x0c},
    {0x78, 0x02}, {0xa0, 0x08}, {0xa8, 0x0f},
};

void piix3_reset(struct piix3 *p)
{
    uint8_t *c = p->pci.s.config;
    pci_device_reset(&p->pci);
    memset(&c[PCI_CONFIG_HEADER_SIZE], 0,
           PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        c[defaults[i].reg] = defaults[i].value;
    pci_set_word(&c[PCI_COMMAND],
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(&c[PCI_STATUS], PCI_STATUS_DEVSEL_MEDIUM);
    p->s.rcr = 0;
    drive(p, false);
}
