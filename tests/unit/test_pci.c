/* Unit tests of the PCI bus (devices/pci.c): configuration mechanism #1 on
 * real ports, absent functions, read-only and write-1-to-clear bits, BAR
 * sizing, mapping and moving under the command register, and INTx delivery
 * to the router. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/pci.h"

struct fake {
    struct pci_device pci;
    uint64_t last_offset, last_value;
    unsigned last_size;
    int writes;
    uint8_t ram[1 << 20];
    uint8_t rom[4096];
};

struct ctx {
    struct port_bus *io;
    struct mem_map *mem;
    struct pci_bus bus;
    struct fake *dev;
    int routed_devfn, routed_intx, routed_level, routed_calls;
};

static uint64_t fake_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    return 0xab00 + offset * 16 + size;
}

static void fake_write(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size)
{
    struct fake *f = opaque;
    f->last_offset = offset;
    f->last_value = value;
    f->last_size = size;
    f->writes++;
}

static const struct io_ops fake_ops = {fake_read, fake_write};

static void router(void *opaque, uint8_t devfn, int intx, int level)
{
    struct ctx *c = opaque;
    c->routed_devfn = devfn;
    c->routed_intx = intx;
    c->routed_level = level;
    c->routed_calls++;
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    c->io = port_bus_new();
    c->mem = mem_map_new();
    assert_int_equal(pci_bus_init(&c->bus, c->io, c->mem), 0);
    pci_bus_set_router(&c->bus, router, c);
    c->dev = calloc(1, sizeof(*c->dev));
    struct pci_device *d = &c->dev->pci;
    pci_device_init(d, "fake", 0x1234, 0x5678, 0x05, 0x020000, 0);
    d->s.config[PCI_INTERRUPT_PIN] = 2; /* INTB# */
    pci_set_word(&d->s.config[PCI_STATUS], PCI_STATUS_DEVSEL_MEDIUM);
    pci_register_bar(d, 0, PCI_BAR_IO, 16, &fake_ops, c->dev, NULL);
    pci_register_bar(d, 1, PCI_BAR_MEM32, 4096, &fake_ops, c->dev, NULL);
    pci_register_bar(d, 2, PCI_BAR_MEM64, 1 << 20, NULL, NULL, c->dev->ram);
    pci_register_bar(d, PCI_ROM_SLOT, PCI_BAR_ROM, 4096, NULL, NULL,
                     c->dev->rom);
    assert_int_equal(pci_bus_add(&c->bus, d, PCI_DEVFN(3, 0)), 0);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    mem_map_free(c->mem);
    port_bus_free(c->io);
    free(c->dev);
    free(c);
    return 0;
}

/* Configuration access through the ports, as a guest makes it */
static uint32_t cfg_read(struct ctx *c, int slot, int fn, unsigned reg,
                         unsigned size)
{
    port_write(c->io, 0xcf8,
               0x80000000u | slot << 11 | fn << 8 | (reg & 0xfc), 4);
    return port_read(c->io, 0xcfc + (reg & 3), size);
}

static void cfg_write(struct ctx *c, int slot, int fn, unsigned reg,
                      uint32_t v, unsigned size)
{
    port_write(c->io, 0xcf8,
               0x80000000u | slot << 11 | fn << 8 | (reg & 0xfc), 4);
    port_write(c->io, 0xcfc + (reg & 3), v, size);
}

static void test_mechanism1(void **state)
{
    struct ctx *c = *state;
    /* Linux's type-1 probe: a dword written to 0xCF8 reads back */
    port_write(c->io, 0xcfb, 0x01, 1);
    port_write(c->io, 0xcf8, 0x80000000u, 4);
    assert_int_equal(port_read(c->io, 0xcf8, 4), 0x80000000u);
    /* reserved bits read 0, byte accesses do not touch the register */
    port_write(c->io, 0xcf8, 0xffffffffu, 4);
    assert_int_equal(port_read(c->io, 0xcf8, 4), 0x80fffffcu);
    port_write(c->io, 0xcf8, 0x12, 1);
    assert_int_equal(port_read(c->io, 0xcf8, 4), 0x80fffffcu);
    assert_int_equal(port_read(c->io, 0xcf8, 1), 0xff);
    /* 0xCF9 is left for the ISA bridge */
    assert_null(port_bus_owner(c->io, 0xcf9));
}

static void test_config_reads(void **state)
{
    struct ctx *c = *state;
    assert_int_equal(cfg_read(c, 3, 0, 0, 4), 0x56781234);
    assert_int_equal(cfg_read(c, 3, 0, 2, 2), 0x5678);
    assert_int_equal(cfg_read(c, 3, 0, 1, 1), 0x12);
    assert_int_equal(cfg_read(c, 3, 0, 3, 1), 0x56);
    assert_int_equal(cfg_read(c, 3, 0, 8, 4), 0x02000005);
    assert_int_equal(cfg_read(c, 3, 0, 0x0b, 1), 0x02);
    /* absent functions, other buses, enable bit clear: all ones */
    assert_int_equal(cfg_read(c, 4, 0, 0, 4), 0xffffffffu);
    assert_int_equal(cfg_read(c, 3, 1, 0, 2), 0xffff);
    port_write(c->io, 0xcf8, 0x80010000u | 3 << 11, 4);
    assert_int_equal(port_read(c->io, 0xcfc, 4), 0xffffffffu);
    port_write(c->io, 0xcf8, 3 << 11, 4);
    assert_int_equal(port_read(c->io, 0xcfc, 4), 0xffffffffu);
    port_write(c->io, 0xcfc, 0, 4); /* dropped */
    assert_int_equal(cfg_read(c, 3, 0, 0, 4), 0x56781234);
}

static void test_masks(void **state)
{
    struct ctx *c = *state;
    /* IDs, class, header type are read-only */
    cfg_write(c, 3, 0, 0, 0, 4);
    cfg_write(c, 3, 0, 8, 0xffffffffu, 4);
    assert_int_equal(cfg_read(c, 3, 0, 0, 4), 0x56781234);
    assert_int_equal(cfg_read(c, 3, 0, 8, 4), 0x02000005);
    /* interrupt line is writable, pin is not; sub-dword write lands at
     * the right byte */
    cfg_write(c, 3, 0, 0x3c, 0xff0b, 2);
    assert_int_equal(cfg_read(c, 3, 0, 0x3c, 2), 0x020b);
    cfg_write(c, 3, 0, 0x3f, 0x77, 1);
    assert_int_equal(cfg_read(c, 3, 0, 0x3c, 4), 0x0000020b);
    /* device-specific area is plain storage */
    cfg_write(c, 3, 0, 0x42, 0xbeef, 2);
    assert_int_equal(cfg_read(c, 3, 0, 0x40, 4), 0xbeef0000u);
    /* command: only the defined bits stick */
    cfg_write(c, 3, 0, PCI_COMMAND, 0xffff, 2);
    assert_int_equal(cfg_read(c, 3, 0, PCI_COMMAND, 2), 0x0547);
}

static void test_status_w1c(void **state)
{
    struct ctx *c = *state;
    struct pci_device *d = &c->dev->pci;
    /* the device signalled a master abort and a target abort */
    d->s.config[PCI_STATUS + 1] |= 0x30;
    assert_int_equal(cfg_read(c, 3, 0, PCI_STATUS, 2), 0x3200);
    cfg_write(c, 3, 0, PCI_STATUS, 0, 2); /* writing 0 keeps them */
    assert_int_equal(cfg_read(c, 3, 0, PCI_STATUS, 2), 0x3200);
    cfg_write(c, 3, 0, PCI_STATUS, 0x2000 | 0x0200, 2); /* clear one */
    assert_int_equal(cfg_read(c, 3, 0, PCI_STATUS, 2), 0x1200);
    /* a dword write of command keeps status when its upper half is 0 */
    cfg_write(c, 3, 0, PCI_COMMAND, 0x0000ffffu, 4);
    assert_int_equal(cfg_read(c, 3, 0, PCI_STATUS, 2), 0x1200);
    cfg_write(c, 3, 0, PCI_COMMAND, 0xffff0000u, 4);
    assert_int_equal(cfg_read(c, 3, 0, PCI_STATUS, 2), 0x0200);
    assert_int_equal(cfg_read(c, 3, 0, PCI_COMMAND, 2), 0);
}

static void test_bar_sizing(void **state)
{
    struct ctx *c = *state;
    for (unsigned reg = 0x10; reg <= 0x24; reg += 4)
        cfg_write(c, 3, 0, reg, 0xffffffffu, 4);
    cfg_write(c, 3, 0, 0x30, 0xffffffffu, 4);
    assert_int_equal(cfg_read(c, 3, 0, 0x10, 4), 0xfffffff1u); /* I/O 16 */
    assert_int_equal(cfg_read(c, 3, 0, 0x14, 4), 0xfffff000u); /* mem 4K */
    assert_int_equal(cfg_read(c, 3, 0, 0x18, 4), 0xfff00004u); /* 64-bit 1M */
    assert_int_equal(cfg_read(c, 3, 0, 0x1c, 4), 0xffffffffu);
    assert_int_equal(cfg_read(c, 3, 0, 0x20, 4), 0);           /* unused */
    assert_int_equal(cfg_read(c, 3, 0, 0x24, 4), 0);
    assert_int_equal(cfg_read(c, 3, 0, 0x30, 4), 0xfffff001u); /* ROM 4K */
    /* sizing with decoding on must not map anything at the sizing value */
    cfg_write(c, 3, 0, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    for (int n = 0; n <= PCI_ROM_SLOT; n++)
        assert_true(pci_bar_address(&c->dev->pci, n) == UINT64_MAX);
    /* low bits below the size are read-only */
    cfg_write(c, 3, 0, 0x10, 0xc00f, 4);
    assert_int_equal(cfg_read(c, 3, 0, 0x10, 4), 0xc001);
}

static void test_io_bar_mapping(void **state)
{
    struct ctx *c = *state;
    cfg_write(c, 3, 0, 0x10, 0xc000, 4);
    assert_null(port_bus_owner(c->io, 0xc000));
    assert_int_equal(port_read(c->io, 0xc004, 2), 0xffff);
    cfg_write(c, 3, 0, PCI_COMMAND, PCI_COMMAND_IO, 2);
    assert_string_equal(port_bus_owner(c->io, 0xc00f), "fake");
    assert_null(port_bus_owner(c->io, 0xc010));
    assert_int_equal(port_read(c->io, 0xc004, 2), 0xab00 + 4 * 16 + 2);
    port_write(c->io, 0xc003, 0x5a, 1);
    assert_int_equal(c->dev->last_offset, 3);
    assert_int_equal(c->dev->last_value, 0x5a);
    /* moved while enabled */
    cfg_write(c, 3, 0, 0x10, 0xc100, 4);
    assert_null(port_bus_owner(c->io, 0xc000));
    assert_string_equal(port_bus_owner(c->io, 0xc100), "fake");
    assert_int_equal(pci_bar_address(&c->dev->pci, 0), 0xc100);
    /* decoding off */
    cfg_write(c, 3, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    assert_null(port_bus_owner(c->io, 0xc100));
    /* a BAR over another device's ports stays unmapped, no crash */
    struct port_bus *io = c->io;
    static const struct io_ops none = {NULL, NULL};
    assert_int_equal(port_bus_register(io, 0xc208, 1, "other", &none, NULL), 0);
    cfg_write(c, 3, 0, 0x10, 0xc200, 4);
    cfg_write(c, 3, 0, PCI_COMMAND, PCI_COMMAND_IO, 2);
    assert_true(pci_bar_address(&c->dev->pci, 0) == UINT64_MAX);
    assert_string_equal(port_bus_owner(io, 0xc208), "other");
    /* the last 16 ports are fine, beyond 64 KiB is not decoded */
    cfg_write(c, 3, 0, 0x10, 0xfff0, 4);
    assert_int_equal(pci_bar_address(&c->dev->pci, 0), 0xfff0);
    cfg_write(c, 3, 0, 0x10, 0x1fff0, 4);
    assert_true(pci_bar_address(&c->dev->pci, 0) == UINT64_MAX);
}

static void test_mem_bar_mapping(void **state)
{
    struct ctx *c = *state;
    cfg_write(c, 3, 0, 0x14, 0xfeb00000u, 4);
    assert_int_equal(mem_read(c->mem, 0xfeb00010u, 4), 0xffffffffu);
    cfg_write(c, 3, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    assert_int_equal(mem_read(c->mem, 0xfeb00010u, 4), 0xab00 + 0x10 * 16 + 4);
    mem_write(c->mem, 0xfeb00ffcu, 0x11223344, 4);
    assert_int_equal(c->dev->last_offset, 0xffc);
    assert_int_equal(c->dev->last_value, 0x11223344);
    /* moved */
    cfg_write(c, 3, 0, 0x14, 0xfeb01000u, 4);
    assert_int_equal(mem_read(c->mem, 0xfeb00010u, 4), 0xffffffffu);
    assert_int_equal(mem_read(c->mem, 0xfeb01010u, 1), (0xab00 + 0x10 * 16 + 1) & 0xff);
    /* 64-bit RAM BAR above 4 GiB */
    c->dev->ram[0x100] = 0x42;
    cfg_write(c, 3, 0, 0x18, 0x00000000u, 4);
    cfg_write(c, 3, 0, 0x1c, 0x1, 4);
    assert_int_equal(mem_read(c->mem, 0x100000100ull, 1), 0x42);
    mem_write(c->mem, 0x100000200ull, 0x99, 1);
    assert_int_equal(c->dev->ram[0x200], 0x99);
    assert_true(pci_bar_address(&c->dev->pci, 2) == 0x100000000ull);
    /* ROM BAR needs its enable bit too, and is read-only */
    c->dev->rom[0] = 0x55;
    c->dev->rom[1] = 0xaa;
    cfg_write(c, 3, 0, 0x30, 0xfebc0000u, 4);
    assert_int_equal(mem_read(c->mem, 0xfebc0000u, 2), 0xffff);
    cfg_write(c, 3, 0, 0x30, 0xfebc0001u, 4);
    assert_int_equal(mem_read(c->mem, 0xfebc0000u, 2), 0xaa55);
    mem_write(c->mem, 0xfebc0000u, 0, 2);
    assert_int_equal(mem_read(c->mem, 0xfebc0000u, 2), 0xaa55);
    /* memory decoding off unmaps all three */
    cfg_write(c, 3, 0, PCI_COMMAND, 0, 2);
    assert_int_equal(mem_read(c->mem, 0xfeb01010u, 4), 0xffffffffu);
    assert_int_equal(mem_read(c->mem, 0x100000100ull, 1), 0xff);
    assert_int_equal(mem_read(c->mem, 0xfebc0000u, 2), 0xffff);
    /* and a reset clears the BARs */
    cfg_write(c, 3, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    assert_int_equal(mem_read(c->mem, 0xfeb01010u, 1), (0xab00 + 0x10 * 16 + 1) & 0xff);
    pci_device_reset(&c->dev->pci);
    assert_int_equal(mem_read(c->mem, 0xfeb01010u, 1), 0xff);
    assert_int_equal(cfg_read(c, 3, 0, 0x14, 4), 0);
    assert_int_equal(cfg_read(c, 3, 0, 0x18, 4), 4);
}

static void test_intx(void **state)
{
    struct ctx *c = *state;
    struct pci_device *d = &c->dev->pci;
    pci_set_irq(d, 1);
    assert_int_equal(c->routed_calls, 1);
    assert_int_equal(c->routed_devfn, PCI_DEVFN(3, 0));
    assert_int_equal(c->routed_intx, 1); /* INTB# */
    assert_int_equal(c->routed_level, 1);
    assert_int_equal(cfg_read(c, 3, 0, PCI_STATUS, 1) & 0x08, 0x08);
    pci_set_irq(d, 1); /* no change, no call */
    assert_int_equal(c->routed_calls, 1);
    /* INTx disable masks the pin, not the status bit */
    cfg_write(c, 3, 0, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
    assert_int_equal(c->routed_level, 0);
    assert_int_equal(cfg_read(c, 3, 0, PCI_STATUS, 1) & 0x08, 0x08);
    cfg_write(c, 3, 0, PCI_COMMAND, 0, 2);
    assert_int_equal(c->routed_level, 1);
    pci_set_irq(d, 0);
    assert_int_equal(c->routed_level, 0);
    assert_int_equal(cfg_read(c, 3, 0, PCI_STATUS, 1) & 0x08, 0);
    assert_int_equal(c->routed_calls, 4);
}

/* The state struct is all a snapshot needs: copy it back, re-derive */
static void test_state_restore(void **state)
{
    struct ctx *c = *state;
    struct pci_device *d = &c->dev->pci;
    cfg_write(c, 3, 0, 0x10, 0xc000, 4);
    cfg_write(c, 3, 0, 0x14, 0xfeb00000u, 4);
    cfg_write(c, 3, 0, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    struct pci_device_state saved = d->s;
    struct pci_bus_state bus_saved = c->bus.s;
    pci_device_reset(d);
    pci_bus_reset(&c->bus);
    assert_null(port_bus_owner(c->io, 0xc000));
    d->s = saved;
    c->bus.s = bus_saved;
    pci_update_mappings(d);
    assert_string_equal(port_bus_owner(c->io, 0xc000), "fake");
    assert_int_equal(mem_read(c->mem, 0xfeb00010u, 4), 0xab00 + 0x10 * 16 + 4);
    assert_int_equal(port_read(c->io, 0xcf8, 4), bus_saved.config_address);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mechanism1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_masks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_w1c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_bar_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mem_bar_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_restore, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
