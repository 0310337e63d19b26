/* PCI bus 0: configuration mechanism #1, configuration space masks, BAR
 * mapping and INTx routing (see pci.h). */
#include "devices/pci.h"

#include <errno.h>
#include <string.h>
#include "vm/log.h"

#define CONFIG_ADDRESS_MASK 0x80fffffcu /* reserved bits 30:24, 1:0 read 0 */
#define BAR_UNMAPPED UINT64_MAX

static const uint32_t size_ones[5] = {0, 0xff, 0xffff, 0xffffff, 0xffffffff};

/* ---- configuration space ---- */

static unsigned bar_reg(int n)
{
    return n == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * n;
}

static bool overlaps(unsigned addr, unsigned size, unsigned start,
                     unsigned end)
{
    return addr < end && addr + size > start;
}

uint32_t pci_config_read(struct pci_device *d, unsigned addr, unsigned size)
{
    uint32_t v = 0;
    if (size == 0 || size > 4 || addr + size > PCI_CONFIG_SPACE_SIZE)
        return size_ones[size <= 4 ? size : 4];
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)d->s.config[addr + i] << (8 * i);
    return v;
}

static uint16_t command(const struct pci_device *d)
{
    return pci_get_word(&d->s.config[PCI_COMMAND]);
}

static void update_intx(struct pci_device *d)
{
    uint8_t pin = d->s.config[PCI_INTERRUPT_PIN];
    uint8_t level = d->s.irq_level && pin >= 1 && pin <= 4 &&
                    !(command(d) & PCI_COMMAND_INTX_DISABLE);
    if (level == d->s.intx_routed)
        return;
    d->s.intx_routed = level;
    if (d->bus && d->bus->router)
        d->bus->router(d->bus->router_opaque, d->devfn, pin - 1, level);
}

void pci_config_write(struct pci_device *d, unsigned addr, uint32_t value,
                      unsigned size)
{
    if (size == 0 || size > 4 || addr + size > PCI_CONFIG_SPACE_SIZE)
        return;
    uint32_t old = pci_config_read(d, addr, size);
    for (unsigned i = 0; i < size; i++) {
        unsigned a = addr + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        uint8_t *c = &d->s.config[a];
        *c = (uint8_t)((*c & ~d->wmask[a]) | (b & d->wmask[a]));
        *c &= (uint8_t)~(b & d->w1cmask[a]);
    }
    if (overlaps(addr, size, PCI_COMMAND, PCI_COMMAND + 2) ||
        overlaps(addr, size, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_0 + 24) ||
        overlaps(addr, size, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS + 4))
        pci_update_mappings(d);
    if (overlaps(addr, size, PCI_COMMAND, PCI_COMMAND + 2))
        update_intx(d);
    if (d->config_written)
        d->config_written(d, addr, size, old);
}

/* ---- BARs ---- */

/* Where BAR n should be mapped now, or BAR_UNMAPPED */
static uint64_t bar_target(const struct pci_device *d, int n)
{
    const struct pci_bar *b = &d->bar[n];
    uint16_t cmd = command(d);
    uint32_t lo = pci_get_long(&d->s.config[bar_reg(n)]);
    uint64_t addr, last;

    switch (b->type) {
    case PCI_BAR_IO:
        if (!(cmd & PCI_COMMAND_IO))
            return BAR_UNMAPPED;
        addr = lo & ~(uint32_t)3;
        if (addr == 0 || addr + b->size > 0x10000)
            return BAR_UNMAPPED;
        return addr;
    case PCI_BAR_MEM32:
    case PCI_BAR_ROM:
        if (!(cmd & PCI_COMMAND_MEMORY))
            return BAR_UNMAPPED;
        if (b->type == PCI_BAR_ROM && !(lo & PCI_ROM_ADDRESS_ENABLE))
            return BAR_UNMAPPED;
        addr = lo & (b->type == PCI_BAR_ROM ? ~(uint32_t)0x7ff : ~(uint32_t)0xf);
        /* the top of 4 GiB is where sizing leaves a BAR: never map there */
        if (addr == 0 || addr + b->size - 1 >= UINT32_MAX)
            return BAR_UNMAPPED;
        return addr;
    case PCI_BAR_MEM64:
        if (!(cmd & PCI_COMMAND_MEMORY))
            return BAR_UNMAPPED;
        addr = (lo & ~(uint64_t)0xf) |
               (uint64_t)pci_get_long(&d->s.config[bar_reg(n + 1)]) << 32;
        last = addr + b->size - 1;
        if (addr == 0 || last < addr || last == UINT64_MAX)
            return BAR_UNMAPPED;
        return addr;
    default:
        return BAR_UNMAPPED;
    }
}

static void bar_unmap(struct pci_device *d, struct pci_bar *b)
{
    if (!b->mapped)
        return;
    if (b->type == PCI_BAR_IO)
        port_bus_unregister(d->bus->io, (uint16_t)b->addr);
    else
        mem_map_set_enabled(d->bus->mem, b->region, false);
    b->mapped = false;
}

static void bar_map(struct pci_device *d, struct pci_bar *b, uint64_t addr)
{
    struct mem_map *mem = d->bus->mem;
    if (b->type == PCI_BAR_IO) {
        if (port_bus_register(d->bus->io, (uint16_t)addr, (uint32_t)b->size,
                              d->name, b->ops, b->opaque) < 0) {
            log_msg_rl(LOG_GUEST_ERRORS,
                       "pci %s: I/O BAR at 0x%llx overlaps another device\n",
                       d->name, (unsigned long long)addr);
            return;
        }
    } else if (b->region) {
        mem_map_move(mem, b->region, addr);
        mem_map_set_enabled(mem, b->region, true);
    } else if (b->type == PCI_BAR_ROM) {
        b->region = mem_map_add_rom(mem, d->name, addr, b->size, b->host,
                                    PCI_BAR_MEM_PRIORITY);
    } else if (b->ops) {
        b->region = mem_map_add_mmio(mem, d->name, addr, b->size, b->ops,
                                     b->opaque, PCI_BAR_MEM_PRIORITY);
    } else {
        b->region = mem_map_add_ram(mem, d->name, addr, b->size, b->host,
                                    PCI_BAR_MEM_PRIORITY);
    }
    if (b->type != PCI_BAR_IO && !b->region)
        return; /* out of host memory: the BAR stays a hole */
    b->mapped = true;
    b->addr = addr;
}

void pci_update_mappings(struct pci_device *d)
{
    if (!d->bus)
        return;
    for (int n = 0; n <= PCI_ROM_SLOT; n++) {
        struct pci_bar *b = &d->bar[n];
        if (b->type == PCI_BAR_NONE)
            continue;
        uint64_t target = bar_target(d, n);
        if (b->mapped && b->addr == target)
            continue;
        bar_unmap(d, b);
        if (target != BAR_UNMAPPED)
            bar_map(d, b, target);
    }
}

uint64_t pci_bar_address(const struct pci_device *d, int n)
{
    if (n < 0 || n > PCI_ROM_SLOT || !d->bar[n].mapped)
        return BAR_UNMAPPED;
    return d->bar[n].addr;
}

void pci_register_bar(struct pci_device *d, int n, enum pci_bar_type type,
                      uint64_t size, const struct io_ops *ops, void *opaque,
                      uint8_t *host)
{
    struct pci_bar *b = &d->bar[n];
    unsigned reg = bar_reg(n);
    uint64_t mask = ~(size - 1);
    uint32_t flags = 0;

    *b = (struct pci_bar){.type = type, .size = size, .ops = ops,
                          .opaque = opaque, .host = host};
    switch (type) {
    case PCI_BAR_IO:
        flags = PCI_BAR_SPACE_IO;
        pci_set_long(&d->wmask[reg], (uint32_t)mask & ~(uint32_t)3);
        break;
    case PCI_BAR_ROM:
        pci_set_long(&d->wmask[reg], ((uint32_t)mask & ~(uint32_t)0x7ff) |
                                         PCI_ROM_ADDRESS_ENABLE);
        break;
    case PCI_BAR_MEM64:
        flags = PCI_BAR_MEM_TYPE_64;
        pci_set_long(&d->wmask[reg + 4], (uint32_t)(mask >> 32));
        pci_set_long(&d->s.config[reg + 4], 0);
        pci_set_long(&d->wmask[reg], (uint32_t)mask & ~(uint32_t)0xf);
        break;
    default:
        pci_set_long(&d->wmask[reg], (uint32_t)mask & ~(uint32_t)0xf);
        break;
    }
    pci_set_long(&d->s.config[reg], flags);
}

/* ---- devices ---- */

void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor,
                     uint16_t device, uint8_t revision, uint32_t class_code,
                     uint8_t header_type)
{
    memset(d, 0, sizeof(*d));
    d->name = name;
    uint8_t *c = d->s.config;
    pci_set_word(&c[PCI_VENDOR_ID], vendor);
    pci_set_word(&c[PCI_DEVICE_ID], device);
    c[PCI_REVISION_ID] = revision;
    c[PCI_CLASS_PROG] = (uint8_t)class_code;
    pci_set_word(&c[PCI_CLASS_DEVICE], (uint16_t)(class_code >> 8));
    c[PCI_HEADER_TYPE] = header_type;
    pci_set_word(&d->wmask[PCI_COMMAND],
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                     PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
                     PCI_COMMAND_INTX_DISABLE);
    pci_set_word(&d->w1cmask[PCI_STATUS], PCI_STATUS_W1C);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_LATENCY_TIMER] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    memset(&d->wmask[PCI_CONFIG_HEADER_SIZE], 0xff,
           PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
}

void pci_device_reset(struct pci_device *d)
{
    uint8_t *c = d->s.config;
    d->s.irq_level = 0;
    pci_set_word(&c[PCI_COMMAND], 0);
    pci_set_word(&c[PCI_STATUS],
                 pci_get_word(&c[PCI_STATUS]) & ~(PCI_STATUS_W1C |
                                                  PCI_STATUS_INTERRUPT));
    c[PCI_CACHE_LINE_SIZE] = 0;
    c[PCI_LATENCY_TIMER] = 0;
    c[PCI_INTERRUPT_LINE] = 0;
    for (int n = 0; n <= PCI_ROM_SLOT; n++) {
        unsigned reg = bar_reg(n);
        uint32_t keep = ~pci_get_long(&d->wmask[reg]);
        pci_set_long(&c[reg], pci_get_long(&c[reg]) & keep);
    }
    update_intx(d);
    pci_update_mappings(d);
}

void pci_set_irq(struct pci_device *d, int level)
{
    uint8_t *status = &d->s.config[PCI_STATUS];
    d->s.irq_level = level != 0;
    if (level)
        *status |= PCI_STATUS_INTERRUPT;
    else
        *status &= (uint8_t)~PCI_STATUS_INTERRUPT;
    update_intx(d);
}

/* ---- the bus and mechanism #1 ---- */

static struct pci_device *addressed(struct pci_bus *bus)
{
    uint32_t a = bus->s.config_address;
    if (!(a & PCI_CONFIG_ENABLE) || ((a >> 16) & 0xff) != 0)
        return NULL;
    return bus->dev[(a >> 8) & 0xff];
}

static uint64_t addr_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_bus *bus = opaque;
    /* only dword accesses reach CONFIG_ADDRESS; others are plain I/O */
    return size == 4 ? bus->s.config_address : size_ones[size];
}

static void addr_write(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size)
{
    struct pci_bus *bus = opaque;
    if (size == 4)
        bus->s.config_address = (uint32_t)value & CONFIG_ADDRESS_MASK;
}

static uint64_t data_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_bus *bus = opaque;
    struct pci_device *d = addressed(bus);
    if (!d || offset + size > 4)
        return size_ones[size];
    return pci_config_read(d, (bus->s.config_address & 0xfc) + offset, size);
}

static void data_write(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size)
{
    struct pci_bus *bus = opaque;
    struct pci_device *d = addressed(bus);
    if (!d || offset + size > 4)
        return;
    pci_config_write(d, (bus->s.config_address & 0xfc) + offset,
                     (uint32_t)value, size);
}

static const struct io_ops addr_ops = {addr_read, addr_write};
static const struct io_ops data_ops = {data_read, data_write};

int pci_bus_init(struct pci_bus *bus, struct port_bus *io, struct mem_map *mem)
{
    memset(bus, 0, sizeof(*bus));
    bus->io = io;
    bus->mem = mem;
    /* 0xCF8 alone: byte 0xCF9 is the ISA bridge's reset control register */
    int r = port_bus_register(io, PCI_CONFIG_ADDR_PORT, 1, "pci-conf-addr",
                              &addr_ops, bus);
    if (r < 0)
        return r;
    return port_bus_register(io, PCI_CONFIG_DATA_PORT, 4, "pci-conf-data",
                             &data_ops, bus);
}

void pci_bus_set_router(struct pci_bus *bus, pci_intx_router *router,
                        void *opaque)
{
    bus->router = router;
    bus->router_opaque = opaque;
}

void pci_bus_reset(struct pci_bus *bus)
{
    bus->s.config_address = 0;
}

int pci_bus_add(struct pci_bus *bus, struct pci_device *d, uint8_t devfn)
{
    if (bus->dev[devfn])
        return -EBUSY;
    bus->dev[devfn] = d;
    d->bus = bus;
    d->devfn = devfn;
    pci_update_mappings(d);
    return 0;
}
