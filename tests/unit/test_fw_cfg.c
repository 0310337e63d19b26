/* Unit tests of fw_cfg (devices/fw_cfg.c) on real ports and a real memory
 * map: the signature and ID over the data port, keyed and arch items, the
 * file directory as SeaBIOS parses it, DMA reads of a file into RAM (select,
 * continue, past the end, skip), and DMA errors for bad guest descriptors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/fw_cfg.h"

#define RAM_SIZE (1u << 20)
#define DESC 0x1000
#define BUF 0x2000
#define ROM_BASE 0xfff00000u

struct ctx {
    struct port_bus *io;
    struct mem_map *mem;
    struct fw_cfg fw;
    uint8_t *ram;
    uint8_t rom[4096];
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    c->io = port_bus_new();
    c->mem = mem_map_new();
    c->ram = malloc(RAM_SIZE);
    memset(c->ram, 0xcc, RAM_SIZE);
    mem_map_add_ram(c->mem, "ram", 0, RAM_SIZE, c->ram, 0);
    mem_map_add_rom(c->mem, "rom", ROM_BASE, sizeof(c->rom), c->rom, 0);
    assert_int_equal(fw_cfg_init(&c->fw, c->io, c->mem), 0);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    fw_cfg_free(&c->fw);
    mem_map_free(c->mem);
    port_bus_free(c->io);
    free(c->ram);
    free(c);
    return 0;
}

static void select_key(struct ctx *c, uint16_t key)
{
    port_write(c->io, FW_CFG_PORT_SEL, key, 2);
}

static void read_data(struct ctx *c, void *buf, size_t len)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)port_read(c->io, FW_CFG_PORT_DATA, 1);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint32_t bswap(uint32_t v)
{
    return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}

/* Write a FWCfgDmaAccess at gpa (big-endian) and start it the way SeaBIOS
 * and Linux do: the high half of its address, then the low half */
static void dma(struct ctx *c, uint64_t desc, uint32_t control, uint32_t len,
                uint64_t addr)
{
    uint8_t d[16];
    for (int i = 0; i < 4; i++) {
        d[i] = (uint8_t)(control >> (24 - 8 * i));
        d[4 + i] = (uint8_t)(len >> (24 - 8 * i));
    }
    for (int i = 0; i < 8; i++)
        d[8 + i] = (uint8_t)(addr >> (56 - 8 * i));
    mem_rw(c->mem, desc, d, sizeof(d), true);
    port_write(c->io, FW_CFG_PORT_DMA, bswap((uint32_t)(desc >> 32)), 4);
    port_write(c->io, FW_CFG_PORT_DMA + 4, bswap((uint32_t)desc), 4);
}

static uint32_t dma_control(struct ctx *c, uint64_t desc)
{
    uint8_t d[4];
    mem_rw(c->mem, desc, d, 4, false);
    return be32(d);
}

static void test_signature(void **state)
{
    struct ctx *c = *state;
    char sig[6];
    select_key(c, FW_CFG_SIGNATURE);
    read_data(c, sig, 5);
    assert_memory_equal(sig, "QEMU\0", 5);
    /* byte reads of the selector port read data too; a reselect rewinds */
    select_key(c, FW_CFG_SIGNATURE);
    assert_int_equal(port_read(c->io, FW_CFG_PORT_SEL, 1), 'Q');
    assert_int_equal(port_read(c->io, FW_CFG_PORT_DATA, 1), 'E');
    /* the write-channel bit does not change which item is selected */
    select_key(c, FW_CFG_WRITE_CHANNEL | FW_CFG_SIGNATURE);
    assert_int_equal(port_read(c->io, FW_CFG_PORT_DATA, 1), 'Q');
    /* ID: traditional and DMA interfaces */
    uint8_t id[4];
    select_key(c, FW_CFG_ID);
    read_data(c, id, 4);
    assert_int_equal(id[0], 3);
    assert_int_equal(id[1] | id[2] | id[3], 0);
    /* the DMA register reads back "QEMU CFG" */
    assert_int_equal(port_read(c->io, FW_CFG_PORT_DMA, 4), 0x554d4551);
    assert_int_equal(port_read(c->io, FW_CFG_PORT_DMA + 4, 4), 0x47464320);
    /* absent items read 0; data writes are ignored */
    select_key(c, FW_CFG_KERNEL_SIZE);
    port_write(c->io, FW_CFG_PORT_DATA, 0x55, 1);
    assert_int_equal(port_read(c->io, FW_CFG_PORT_DATA, 1), 0);
}

static void test_items(void **state)
{
    struct ctx *c = *state;
    uint8_t b[8];
    assert_int_equal(fw_cfg_add_i16(&c->fw, FW_CFG_NB_CPUS, 4), 0);
    assert_int_equal(fw_cfg_add_i32(&c->fw, FW_CFG_KERNEL_SIZE, 0x12345678), 0);
    assert_int_equal(fw_cfg_add_i64(&c->fw, FW_CFG_RAM_SIZE, 0x1122334455667788ull), 0);
    assert_int_equal(fw_cfg_add_bytes(&c->fw, FW_CFG_E820_TABLE, "\x01\x02", 2), 0);
    select_key(c, FW_CFG_NB_CPUS);
    read_data(c, b, 3);
    assert_memory_equal(b, "\x04\x00\x00", 3);
    select_key(c, FW_CFG_KERNEL_SIZE);
    read_data(c, b, 4);
    assert_memory_equal(b, "\x78\x56\x34\x12", 4);
    select_key(c, FW_CFG_RAM_SIZE);
    read_data(c, b, 8);
    assert_memory_equal(b, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
    select_key(c, FW_CFG_E820_TABLE);
    read_data(c, b, 3);
    assert_memory_equal(b, "\x01\x02\x00", 3);
    /* arch bit matters: 0x0003 is RAM_SIZE, 0x8003 the e820 table */
    select_key(c, 0x0003);
    assert_int_equal(port_read(c->io, FW_CFG_PORT_DATA, 1), 0x88);
    /* replacing an item */
    assert_int_equal(fw_cfg_add_i16(&c->fw, FW_CFG_NB_CPUS, 2), 0);
    select_key(c, FW_CFG_NB_CPUS);
    assert_int_equal(port_read(c->io, FW_CFG_PORT_DATA, 1), 2);
    /* file keys and the directory are not for add_bytes */
    assert_int_equal(fw_cfg_add_bytes(&c->fw, 0x20, "x", 1), -22);
    assert_int_equal(fw_cfg_add_bytes(&c->fw, FW_CFG_FILE_DIR, "x", 1), -22);
}

struct dir_entry {
    uint32_t size;
    uint16_t select;
    char name[56];
};

/* Parse FILE_DIR over the data port as SeaBIOS does */
static int read_dir(struct ctx *c, struct dir_entry *out, int max)
{
    uint8_t b[64];
    select_key(c, FW_CFG_FILE_DIR);
    read_data(c, b, 4);
    int n = (int)be32(b);
    for (int i = 0; i < n && i < max; i++) {
        read_data(c, b, 64);
        out[i].size = be32(b);
        out[i].select = (uint16_t)(b[4] << 8 | b[5]);
        assert_int_equal(b[6] | b[7], 0);
        memcpy(out[i].name, b + 8, 56);
    }
    return n;
}

static void test_file_dir(void **state)
{
    struct ctx *c = *state;
    struct dir_entry e[8];
    assert_int_equal(read_dir(c, e, 8), 0);
    assert_int_equal(fw_cfg_add_file(&c->fw, "etc/e820", "E820DATA", 8), 0);
    assert_int_equal(fw_cfg_add_file(&c->fw, "bootorder", "/pci@i0cf8/\n", 12), 0);
    assert_int_equal(fw_cfg_add_file(&c->fw, "genroms/linuxboot.bin", "ROM", 3), 0);
    assert_int_equal(fw_cfg_add_file(&c->fw, "etc/acpi/tables", "", 0), 0);
    assert_int_equal(read_dir(c, e, 8), 4);
    const char *names[] = {"bootorder", "etc/acpi/tables", "etc/e820",
                           "genroms/linuxboot.bin"};
    const uint32_t sizes[] = {12, 0, 8, 3};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(e[i].name, names[i]);
        assert_int_equal(e[i].size, sizes[i]);
        assert_int_equal(e[i].select, 0x20 + i);
    }
    char buf[16];
    select_key(c, e[2].select);
    read_data(c, buf, 9);
    assert_memory_equal(buf, "E820DATA\0", 9);
    select_key(c, e[0].select);
    read_data(c, buf, 12);
    assert_memory_equal(buf, "/pci@i0cf8/\n", 12);
    /* replacing a file keeps its place, updates its size */
    assert_int_equal(fw_cfg_add_file(&c->fw, "etc/e820", "0123456789ab", 12), 0);
    assert_int_equal(read_dir(c, e, 8), 4);
    assert_int_equal(e[2].size, 12);
    select_key(c, e[2].select);
    read_data(c, buf, 12);
    assert_memory_equal(buf, "0123456789ab", 12);
    /* names must fit in 55 characters */
    char longname[80];
    memset(longname, 'a', sizeof(longname));
    longname[56] = 0;
    assert_int_equal(fw_cfg_add_file(&c->fw, longname, "", 0), -36);
    longname[55] = 0;
    assert_int_equal(fw_cfg_add_file(&c->fw, longname, "", 0), 0);
    /* a key past the last file is empty */
    select_key(c, 0x20 + 5);
    assert_int_equal(port_read(c->io, FW_CFG_PORT_DATA, 1), 0);
}

static void test_dma_read_file(void **state)
{
    struct ctx *c = *state;
    uint8_t file[300];
    for (int i = 0; i < 300; i++)
        file[i] = (uint8_t)(i * 13 + 1);
    assert_int_equal(fw_cfg_add_file(&c->fw, "etc/acpi/rsdp", "RSD PTR ", 8), 0);
    assert_int_equal(fw_cfg_add_file(&c->fw, "etc/table-loader", file, 300), 0);
    uint16_t key = 0x21; /* etc/table-loader sorts after etc/acpi/rsdp */
    dma(c, DESC, (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
        100, BUF);
    assert_int_equal(dma_control(c, DESC), 0);
    assert_memory_equal(c->ram + BUF, file, 100);
    assert_int_equal(c->ram[BUF + 100], 0xcc);
    /* no select: continues where it stopped; past the end reads zeros */
    dma(c, DESC, FW_CFG_DMA_CTL_READ, 250, BUF + 100);
    assert_int_equal(dma_control(c, DESC), 0);
    assert_memory_equal(c->ram + BUF, file, 300);
    for (int i = 300; i < 350; i++)
        assert_int_equal(c->ram[BUF + i], 0);
    assert_int_equal(c->ram[BUF + 350], 0xcc);
    /* skip, then the data port continues */
    dma(c, DESC, (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP,
        7, 0xdead0000);
    assert_int_equal(dma_control(c, DESC), 0);
    assert_int_equal(port_read(c->io, FW_CFG_PORT_DATA, 1), file[7]);
    /* select alone (no read/skip) just selects */
    dma(c, DESC, 0x20u << 16 | FW_CFG_DMA_CTL_SELECT, 99, 0);
    assert_int_equal(dma_control(c, DESC), 0);
    assert_int_equal(port_read(c->io, FW_CFG_PORT_DATA, 1), 'R');
    /* the descriptor may sit anywhere in RAM, even right at its end */
    dma(c, RAM_SIZE - 16, 0x20u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
        8, BUF);
    assert_int_equal(dma_control(c, RAM_SIZE - 16), 0);
    assert_memory_equal(c->ram + BUF, "RSD PTR ", 8);
    /* the address register was consumed: a lone low write uses high 0 */
    assert_int_equal(c->fw.s.dma_addr, 0);
}

static void test_dma_errors(void **state)
{
    struct ctx *c = *state;
    assert_int_equal(fw_cfg_add_file(&c->fw, "bootorder", "abcdefgh", 8), 0);
    uint32_t rd = 0x20u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
    /* into a hole */
    dma(c, DESC, rd, 8, 0x80000000u);
    assert_int_equal(dma_control(c, DESC), FW_CFG_DMA_CTL_ERROR);
    /* running off the end of RAM */
    dma(c, DESC, rd, 64, RAM_SIZE - 32);
    assert_int_equal(dma_control(c, DESC), FW_CFG_DMA_CTL_ERROR);
    assert_int_equal(c->ram[RAM_SIZE - 32], 0xcc);
    /* a huge length */
    dma(c, DESC, rd, 0xffffffffu, BUF);
    assert_int_equal(dma_control(c, DESC), FW_CFG_DMA_CTL_ERROR);
    assert_int_equal(c->ram[BUF], 0xcc);
    /* an address that wraps around 2^64 */
    dma(c, DESC, rd, 0x100, 0xffffffffffffff80ull);
    assert_int_equal(dma_control(c, DESC), FW_CFG_DMA_CTL_ERROR);
    /* into ROM */
    dma(c, DESC, rd, 8, ROM_BASE);
    assert_int_equal(dma_control(c, DESC), FW_CFG_DMA_CTL_ERROR);
    assert_int_equal(c->rom[0], 0);
    /* writes: nothing is writable */
    dma(c, DESC, 0x20u << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 8, BUF);
    assert_int_equal(dma_control(c, DESC), FW_CFG_DMA_CTL_ERROR);
    select_key(c, 0x20);
    assert_int_equal(port_read(c->io, FW_CFG_PORT_DATA, 1), 'a');
    /* descriptors outside RAM (a hole, ROM, across the end of RAM, at the
     * top of the address space) are ignored without a crash */
    c->rom[0] = FW_CFG_DMA_CTL_READ >> 0; /* garbage descriptor in ROM */
    port_write(c->io, FW_CFG_PORT_DMA, 0, 4);
    port_write(c->io, FW_CFG_PORT_DMA + 4, bswap(0x90000000u), 4);
    port_write(c->io, FW_CFG_PORT_DMA + 4, bswap(ROM_BASE), 4);
    port_write(c->io, FW_CFG_PORT_DMA + 4, bswap(RAM_SIZE - 8), 4);
    port_write(c->io, FW_CFG_PORT_DMA, 0xffffffffu, 4);
    port_write(c->io, FW_CFG_PORT_DMA + 4, 0xf8ffffffu, 4);
    /* odd-sized writes to the DMA register do nothing */
    port_write(c->io, FW_CFG_PORT_DMA + 4, 0x10, 2);
    port_write(c->io, FW_CFG_PORT_DMA + 2, 0x10, 4);
    /* and the device still works */
    dma(c, DESC, rd, 8, BUF);
    assert_int_equal(dma_control(c, DESC), 0);
    assert_memory_equal(c->ram + BUF, "abcdefgh", 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_read_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
