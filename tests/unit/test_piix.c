/* Unit tests of the i440FX host bridge and the PIIX3 ISA bridge through real
 * configuration cycles: PIRQ routing of PCI INTx (swizzle, OR of sources,
 * re-routing, disabled and reserved routes), the reset control register, PAM
 * shadowing as SeaBIOS does it (copy the BIOS into RAM, then write-protect)
 * and the write-only mode, and the SMRAM lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/i440fx.h"
#include "devices/piix3.h"
#include "vm/runstate.h"

#define RAM_SIZE (2u << 20)
#define ROM_SIZE (128u << 10)

struct ctx {
    struct port_bus *io;
    struct mem_map *mem;
    struct pci_bus bus;
    struct i440fx host;
    struct piix3 isa;
    struct irq_line lines[16];
    int level[16];
    int edges[16];
    struct pci_device dev[3];
    uint8_t *ram;
    uint8_t rom[ROM_SIZE];
};

static void line_handler(void *opaque, int pin, int level)
{
    struct ctx *c = opaque;
    if (c->level[pin] != level)
        c->edges[pin]++;
    c->level[pin] = level;
}

static void add_fake(struct ctx *c, int i, int slot, int pin)
{
    struct pci_device *d = &c->dev[i];
    pci_device_init(d, "fake", 0x1af4, 0x1000 + i, 0, 0x020000, 0);
    d->s.config[PCI_INTERRUPT_PIN] = (uint8_t)pin;
    assert_int_equal(pci_bus_add(&c->bus, d, PCI_DEVFN(slot, 0)), 0);
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    c->io = port_bus_new();
    c->mem = mem_map_new();
    c->ram = calloc(1, RAM_SIZE);
    for (uint32_t i = 0; i < ROM_SIZE; i++)
        c->rom[i] = (uint8_t)(i * 7 + 3);
    for (uint32_t i = 0; i < RAM_SIZE; i++)
        c->ram[i] = 0xcc;
    /* as the board maps them: RAM, the BIOS below 4 GiB and its isa-bios
     * window at the top of the first megabyte */
    mem_map_add_ram(c->mem, "ram", 0, RAM_SIZE, c->ram, 0);
    struct mem_region *high = mem_map_add_rom(
        c->mem, "bios", 0x100000000ull - ROM_SIZE, ROM_SIZE, c->rom, 0);
    mem_map_add_alias(c->mem, "isa-bios", 0x100000 - ROM_SIZE, ROM_SIZE, high,
                      0, 1);
    for (int i = 0; i < 16; i++)
        c->lines[i] = (struct irq_line){line_handler, c, i};
    assert_int_equal(pci_bus_init(&c->bus, c->io, c->mem), 0);
    assert_int_equal(i440fx_init(&c->host, &c->bus, c->mem, c->ram, RAM_SIZE), 0);
    assert_int_equal(piix3_init(&c->isa, &c->bus, c->io, c->lines), 0);
    vm_clear_request();
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    mem_map_free(c->mem);
    port_bus_free(c->io);
    free(c->ram);
    free(c);
    return 0;
}

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

static void test_ids(void **state)
{
    struct ctx *c = *state;
    assert_int_equal(cfg_read(c, 0, 0, 0, 4), 0x12378086);
    assert_int_equal(cfg_read(c, 0, 0, 8, 4), 0x06000002);
    assert_int_equal(cfg_read(c, 1, 0, 0, 4), 0x70008086);
    assert_int_equal(cfg_read(c, 1, 0, 0x0a, 2), 0x0601);
    assert_int_equal(cfg_read(c, 1, 0, PCI_HEADER_TYPE, 1), 0x80);
    assert_int_equal(cfg_read(c, 1, 0, 0x60, 4), 0x80808080u);
    assert_int_equal(cfg_read(c, 0, 0, I440FX_SMRAM, 1), 0x02);
}

static void test_swizzle(void **state)
{
    (void)state;
    /* QEMU's i440FX board: PIRQ = (slot + pin - 1) & 3, pin 0 = INTA# */
    assert_int_equal(piix3_pirq_of(PCI_DEVFN(1, 0), 0), 0);
    assert_int_equal(piix3_pirq_of(PCI_DEVFN(0, 0), 0), 3);
    assert_int_equal(piix3_pirq_of(PCI_DEVFN(2, 0), 0), 1);
    assert_int_equal(piix3_pirq_of(PCI_DEVFN(3, 5), 1), 3);
    assert_int_equal(piix3_pirq_of(PCI_DEVFN(4, 0), 3), 2);
    assert_int_equal(piix3_pirq_of(PCI_DEVFN(31, 0), 2), 0);
}

static void test_pirq_routing(void **state)
{
    struct ctx *c = *state;
    add_fake(c, 0, 3, 1); /* slot 3 INTA# -> PIRQC */
    add_fake(c, 1, 4, 4); /* slot 4 INTD# -> PIRQC */
    add_fake(c, 2, 2, 1); /* slot 2 INTA# -> PIRQB */

    /* unrouted (0x80): asserting changes nothing */
    pci_set_irq(&c->dev[0], 1);
    for (int i = 0; i < 16; i++)
        assert_int_equal(c->level[i], 0);
    /* route PIRQC to IRQ 11: the pending level shows at once */
    cfg_write(c, 1, 0, 0x62, 11, 1);
    assert_int_equal(cfg_read(c, 1, 0, 0x62, 1), 11);
    assert_int_equal(c->level[11], 1);
    /* a second source on the same PIRQ: OR */
    pci_set_irq(&c->dev[1], 1);
    pci_set_irq(&c->dev[0], 0);
    assert_int_equal(c->level[11], 1);
    pci_set_irq(&c->dev[1], 0);
    assert_int_equal(c->level[11], 0);
    /* two PIRQs on one IRQ: OR too */
    cfg_write(c, 1, 0, 0x61, 11, 1);
    pci_set_irq(&c->dev[2], 1);
    assert_int_equal(c->level[11], 1);
    pci_set_irq(&c->dev[0], 1);
    pci_set_irq(&c->dev[2], 0);
    assert_int_equal(c->level[11], 1);
    /* re-route PIRQC to IRQ 10: 11 drops, 10 rises */
    cfg_write(c, 1, 0, 0x62, 10, 1);
    assert_int_equal(c->level[11], 0);
    assert_int_equal(c->level[10], 1);
    /* disable bit and reserved IRQs route nowhere */
    cfg_write(c, 1, 0, 0x62, 0x8a, 1);
    assert_int_equal(c->level[10], 0);
    cfg_write(c, 1, 0, 0x62, 13, 1);
    assert_int_equal(c->level[13], 0);
    cfg_write(c, 1, 0, 0x62, 2, 1);
    assert_int_equal(c->level[2], 0);
    /* a dword write routes all four at once; reserved bits stay 0 */
    cfg_write(c, 1, 0, 0x60, 0x0b75ff09u, 4);
    assert_int_equal(cfg_read(c, 1, 0, 0x60, 4), 0x0b058f09u);
    assert_int_equal(c->level[5], 1); /* PIRQC = 0x75 & 0x8f = 0x05 */
    cfg_write(c, 1, 0, 0x62, 0x80, 1);
    assert_int_equal(c->level[5], 0);
    /* the device's INTx disable bit reaches the ISA line */
    cfg_write(c, 1, 0, 0x62, 9, 1);
    assert_int_equal(c->level[9], 1);
    cfg_write(c, 3, 0, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
    assert_int_equal(c->level[9], 0);
    /* reset unroutes */
    cfg_write(c, 3, 0, PCI_COMMAND, 0, 2);
    assert_int_equal(c->level[9], 1);
    piix3_reset(&c->isa);
    assert_int_equal(c->level[9], 0);
}

static void test_reset_control(void **state)
{
    struct ctx *c = *state;
    assert_string_equal(port_bus_owner(c->io, 0xcf9), "piix3-rcr");
    port_write(c->io, 0xcf9, 0x02, 1);
    assert_int_equal(port_read(c->io, 0xcf9, 1), 0x02);
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);
    port_write(c->io, 0xcf9, 0x06, 1);
    assert_int_equal(vm_pending_request(), VM_REQ_RESET);
    vm_clear_request();
    /* a dword at 0xCF8 still reaches CONFIG_ADDRESS */
    port_write(c->io, 0xcf8, 0x80000800u, 4);
    assert_int_equal(port_read(c->io, 0xcf8, 4), 0x80000800u);
}

static void test_pam_shadow(void **state)
{
    struct ctx *c = *state;
    /* power on: 0xF0000 shows the ROM, writes are dropped */
    assert_int_equal(mem_read(c->mem, 0xffff0, 1), c->rom[ROM_SIZE - 16]);
    mem_write(c->mem, 0xf0000, 0x12345678, 4);
    assert_int_equal(c->ram[0xf0000], 0xcc);
    assert_int_equal(mem_read(c->mem, 0xf0000, 1), c->rom[0x10000]);

    /* SeaBIOS: make 0xC0000-0xFFFFF read/write DRAM, copy from 4 GiB */
    for (int i = 1; i <= 6; i++)
        cfg_write(c, 0, 0, I440FX_PAM0 + i, 0x33, 1);
    assert_int_equal(cfg_read(c, 0, 0, I440FX_PAM0, 1) & 0x10, 0);
    cfg_write(c, 0, 0, I440FX_PAM0, 0x30, 1);
    assert_int_equal(mem_read(c->mem, 0xf0000, 1), 0xcc); /* RAM now */
    uint8_t *buf = malloc(ROM_SIZE);
    mem_rw(c->mem, 0x100000000ull - ROM_SIZE, buf, ROM_SIZE, false);
    mem_rw(c->mem, 0xe0000, buf, ROM_SIZE, true);
    free(buf);
    assert_memory_equal(c->ram + 0xe0000, c->rom, ROM_SIZE);
    /* writable while shadowed */
    mem_write(c->mem, 0xc8000, 0xab, 1);
    assert_int_equal(c->ram[0xc8000], 0xab);

    /* then write-protect: reads stay on the RAM copy, writes dropped */
    for (int i = 1; i <= 6; i++)
        cfg_write(c, 0, 0, I440FX_PAM0 + i, 0x11, 1);
    cfg_write(c, 0, 0, I440FX_PAM0, 0x10, 1);
    c->rom[0xfff0] ^= 0xff; /* the ROM changes: the copy does not */
    assert_int_equal(mem_read(c->mem, 0xefff0, 1), c->ram[0xefff0]);
    assert_int_equal(mem_read(c->mem, 0xefff0, 1), c->rom[0xfff0] ^ 0xff);
    mem_write(c->mem, 0xf1000, 0xdeadbeef, 4);
    mem_write(c->mem, 0xc8000, 0x00, 1);
    assert_int_equal(c->ram[0xf1000], c->rom[0x11000]);
    assert_int_equal(c->ram[0xc8000], 0xab);
    assert_int_equal(mem_read(c->mem, 0xc8000, 1), 0xab);
    /* the memory below 0xC0000 and above 1 MiB is untouched by PAM */
    mem_write(c->mem, 0xbfffc, 0x11, 1);
    mem_write(c->mem, 0x100000, 0x22, 1);
    assert_int_equal(c->ram[0xbfffc], 0x11);
    assert_int_equal(c->ram[0x100000], 0x22);

    /* reset: back to the ROM */
    i440fx_reset(&c->host);
    assert_int_equal(mem_read(c->mem, 0xf1000, 1), c->rom[0x11000]);
    assert_int_equal(cfg_read(c, 0, 0, 0x58, 4) & 0xffffff00u, 0);
    assert_int_equal(cfg_read(c, 0, 0, 0x5c, 4), 0);
}

static void test_pam_write_only(void **state)
{
    struct ctx *c = *state;
    /* 0xEC000: high nibble of PAM6 (0x5F); the classic copy-in-place:
     * reads from the ROM, writes into DRAM */
    cfg_write(c, 0, 0, 0x5f, 0x20, 1);
    uint32_t off = 0xec000 - (0x100000 - ROM_SIZE);
    assert_int_equal(mem_read(c->mem, 0xec010, 4),
                     c->rom[off + 0x10] | c->rom[off + 0x11] << 8 |
                         c->rom[off + 0x12] << 16 |
                         (uint32_t)c->rom[off + 0x13] << 24);
    for (uint32_t a = 0xec000; a < 0xf0000; a += 4)
        mem_write(c->mem, a, mem_read(c->mem, a, 4), 4);
    assert_memory_equal(c->ram + 0xec000, c->rom + off, 0x4000);
    assert_int_equal(c->ram[0xe8000], 0xcc); /* low nibble: still PCI */
    cfg_write(c, 0, 0, 0x5f, 0x10, 1);       /* read-only now */
    c->ram[0xec020] = 0x5a;
    assert_int_equal(mem_read(c->mem, 0xec020, 1), 0x5a);
    /* reserved PAM bits read 0 */
    cfg_write(c, 0, 0, I440FX_PAM0, 0xff, 1);
    cfg_write(c, 0, 0, 0x5a, 0xff, 1);
    assert_int_equal(cfg_read(c, 0, 0, I440FX_PAM0, 2), 0x3330);
}

static void test_small_ram(void **state)
{
    struct ctx *c = *state;
    /* a bridge whose RAM ends below 0xC0000 never maps shadow RAM */
    struct pci_bus bus2;
    struct port_bus *io = port_bus_new();
    assert_int_equal(pci_bus_init(&bus2, io, c->mem), 0);
    struct i440fx *h = calloc(1, sizeof(*h));
    assert_int_equal(i440fx_init(h, &bus2, c->mem, c->ram, 0xa0000), 0);
    pci_config_write(&h->pci, I440FX_PAM0, 0x33333330u, 4);
    assert_int_equal(mem_read(c->mem, 0xffff0, 1), c->rom[ROM_SIZE - 16]);
    free(h);
    port_bus_free(io);
}

static void test_smram(void **state)
{
    struct ctx *c = *state;
    cfg_write(c, 0, 0, I440FX_SMRAM, 0x48, 1); /* D_OPEN, G_SMRAME */
    assert_int_equal(cfg_read(c, 0, 0, I440FX_SMRAM, 1), 0x4a);
    cfg_write(c, 0, 0, I440FX_SMRAM, 0x10 | 0x40 | 0x08, 1);
    assert_int_equal(cfg_read(c, 0, 0, I440FX_SMRAM, 1), 0x1a); /* D_LCK drops D_OPEN */
    /* locked: only D_CLS moves */
    cfg_write(c, 0, 0, I440FX_SMRAM, 0x60, 1);
    assert_int_equal(cfg_read(c, 0, 0, I440FX_SMRAM, 1), 0x3a);
    cfg_write(c, 0, 0, I440FX_SMRAM, 0x00, 1);
    assert_int_equal(cfg_read(c, 0, 0, I440FX_SMRAM, 1), 0x1a);
    i440fx_reset(&c->host);
    assert_int_equal(cfg_read(c, 0, 0, I440FX_SMRAM, 1), 0x02);
    cfg_write(c, 0, 0, I440FX_SMRAM, 0xff, 1); /* C_BASE_SEG is fixed */
    assert_int_equal(cfg_read(c, 0, 0, I440FX_SMRAM, 1), 0x3a);
    i440fx_reset(&c->host);
    assert_int_equal(cfg_read(c, 0, 0, I440FX_SMRAM, 1), 0x02);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ids, setup, teardown),
        cmocka_unit_test(test_swizzle),
        cmocka_unit_test_setup_teardown(test_pirq_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam_shadow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam_write_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smram, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
