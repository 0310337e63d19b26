/* The i440FX host bridge: configuration defaults, PAM shadowing through the
 * memory map, SMRAM register locking (see i440fx.h).
 *
 * Each PAM segment gets at most one region above the board's ROM window:
 * none when reads and writes go to PCI (the ROM window or RAM below shows),
 * a ROM region over the segment's RAM when only reads go to DRAM (writes are
 * dropped as they would be on the PCI side), a RAM region for read/write,
 * and an MMIO region for the write-only mode, whose reads come from whatever
 * was below when the mode was set. */
#include "devices/i440fx.h"

#include <string.h>

static uint64_t seg_base(int i)
{
    return i == 0 ? 0xf0000 : 0xc0000 + (uint64_t)(i - 1) * 0x4000;
}

static uint64_t seg_size(int i)
{
    return i == 0 ? 0x10000 : 0x4000;
}

static enum pam_mode seg_mode(const struct i440fx *h, int i)
{
    if (i == 0)
        return (enum pam_mode)((h->pci.s.config[I440FX_PAM0] >> 4) & 3);
    uint8_t reg = h->pci.s.config[I440FX_PAM0 + 1 + (i - 1) / 2];
    return (enum pam_mode)((reg >> ((i - 1) & 1 ? 4 : 0)) & 3);
}

/* PAM_WRITE: reads see the PCI side, writes land in DRAM */
static uint64_t wo_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct i440fx_pam *p = opaque;
    uint64_t v = 0;
    if (!p->pci_view)
        return ~0ull;
    memcpy(&v, p->pci_view + offset, size);
    return v;
}

static void wo_write(void *opaque, uint64_t offset, uint64_t value,
                     unsigned size)
{
    struct i440fx_pam *p = opaque;
    memcpy(p->dram + offset, &value, size);
}

static const struct io_ops wo_ops = {wo_read, wo_write};

/* The host bytes that back the segment's range when no PAM region covers it:
 * a RAM or ROM section spanning the whole segment, else NULL (reads as
 * all ones) */
static const uint8_t *below(struct mem_map *mem, uint64_t base, uint64_t size)
{
    const struct mem_section *s = mem_map_find(mem, base);
    if (!s || s->size - (base - s->base) < size ||
        (s->region->kind != MEM_RAM && s->region->kind != MEM_ROM))
        return NULL;
    return s->region->host + s->offset + (base - s->base);
}

static void apply_segment(struct i440fx *h, int i)
{
    struct i440fx_pam *p = &h->pam[i];
    enum pam_mode mode = seg_mode(h, i);
    uint64_t base = seg_base(i), size = seg_size(i);

    if (base + size > h->ram_size)
        mode = PAM_PCI; /* no DRAM behind this segment */
    if (mode == p->mode)
        return;
    if (p->region)
        mem_map_remove(h->mem, p->region);
    p->region = NULL;
    p->mode = mode;
    p->dram = h->ram + base;
    switch (mode) {
    case PAM_PCI:
        break;
    case PAM_READ:
        p->region = mem_map_add_rom(h->mem, "pam-ro", base, size, p->dram,
                                    I440FX_PAM_PRIORITY);
        break;
    case PAM_WRITE:
        p->pci_view = below(h->mem, base, size);
        p->region = mem_map_add_mmio(h->mem, "pam-wo", base, size, &wo_ops,
                                     p, I440FX_PAM_PRIORITY);
        break;
    case PAM_RW:
        p->region = mem_map_add_ram(h->mem, "pam-rw", base, size, p->dram,
                                    I440FX_PAM_PRIORITY);
        break;
    }
    if (mode != PAM_PCI && !p->region)
        p->mode = PAM_PCI; /* out of host memory: stays on the PCI side */
}

void i440fx_update_pam(struct i440fx *h)
{
    for (int i = 0; i < I440FX_PAM_SEGMENTS; i++)
        apply_segment(h, i);
}

static void config_written(struct pci_device *d, unsigned addr, unsigned size,
                           uint32_t old)
{
    struct i440fx *h = d->opaque;
    uint8_t *smram = &d->s.config[I440FX_SMRAM];

    if (addr <= I440FX_SMRAM && addr + size > I440FX_SMRAM) {
        uint8_t was = (uint8_t)(old >> (8 * (I440FX_SMRAM - addr)));
        /* once D_LCK is set only D_CLS stays writable until reset */
        if (was & I440FX_SMRAM_D_LCK)
            *smram = (uint8_t)((was & ~I440FX_SMRAM_D_CLS) |
                               (*smram & I440FX_SMRAM_D_CLS));
        if (*smram & I440FX_SMRAM_D_LCK)
            *smram &= (uint8_t)~I440FX_SMRAM_D_OPEN;
    }
    if (addr < I440FX_PAM0 + 7 && addr + size > I440FX_PAM0)
        i440fx_update_pam(h);
}

int i440fx_init(struct i440fx *h, struct pci_bus *bus, struct mem_map *mem,
                uint8_t *ram, uint64_t ram_size)
{
    memset(h, 0, sizeof(*h));
    h->mem = mem;
    h->ram = ram;
    h->ram_size = ram_size;
    struct pci_device *d = &h->pci;
    pci_device_init(d, "i440fx", I440FX_VENDOR, I440FX_DEVICE, 0x02,
                    0x060000, 0);
    d->opaque = h;
    d->config_written = config_written;
    /* PAM: reserved bits read 0; PAM0 has only the 0xF0000 attribute */
    d->wmask[I440FX_PAM0] = 0x30;
    memset(&d->wmask[I440FX_PAM0 + 1], 0x33, 6);
    d->wmask[I440FX_SMRAM] = 0x78; /* C_BASE_SEG is fixed */
    i440fx_reset(h);
    return pci_bus_add(bus, d, PCI_DEVFN(0, 0));
}

void i440fx_reset(struct i440fx *h)
{
    uint8_t *c = h->pci.s.config;
    pci_device_reset(&h->pci);
    memset(&c[PCI_CONFIG_HEADER_SIZE], 0,
           PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    pci_set_word(&c[PCI_COMMAND], PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(&c[PCI_STATUS], 0x0080 | PCI_STATUS_DEVSEL_MEDIUM);
    c[I440FX_SMRAM] = I440FX_SMRAM_DEFAULT;
    i440fx_update_pam(h);
}
