/* Unit tests of firmware/: the e820 map, ACPI tables (checksums, pointers,
 * FADT and MADT fields, the table-loader script), the MP table, the Linux
 * boot protocol loader on Debian's own kernels (from the test-guest cache;
 * skipped with a reason when absent) and the Multiboot loader on ELF32 and
 * a.out-kludge images made here. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cpu/boot_state.h"
#include "firmware/acpi_tables.h"
#include "firmware/e820.h"
#include "firmware/linux_boot.h"
#include "firmware/mptable.h"
#include "firmware/multiboot.h"
#include "vm/machine.h"

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static uint16_t rd16(const uint8_t *p) { return p[0] | p[1] << 8; }

static uint8_t sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    while (len--)
        s += *p++;
    return s;
}

static void new_machine(struct machine *m, uint64_t ram)
{
    struct machine_config cfg = {.ram_size = ram, .ncpus = 1};
    assert_int_equal(machine_init(m, &cfg), 0);
}

static void test_e820(void **state)
{
    (void)state;
    struct machine m;
    struct e820_map map;
    new_machine(&m, 128 << 20);
    e820_build_pc(&map, &m);
    assert_int_equal(map.e[0].addr, 0);
    assert_int_equal(map.e[0].size, 0x9fc00);
    assert_int_equal(map.e[0].type, E820_RAM);
    int found_high = 0;
    for (int i = 0; i < map.n; i++) {
        /* nothing usable in the VGA/ROM hole or the APIC pages */
        if (map.e[i].type == E820_RAM) {
            assert_false(map.e[i].addr < 0x100000 && map.e[i].addr + map.e[i].size > 0xa0000);
        }
        if (map.e[i].addr == 0x100000) {
            assert_int_equal(map.e[i].size, (128 << 20) - 0x100000);
            found_high = 1;
        }
    }
    assert_true(found_high);
    assert_int_equal(e820_mem_lower_kb(&map), 639);
    assert_int_equal(e820_mem_upper_kb(&map), 127 * 1024);
    machine_destroy(&m);

    /* more than fits below the PCI hole goes above 4 GiB */
    new_machine(&m, 4ull << 30);
    e820_build_pc(&map, &m);
    assert_int_equal(map.e[map.n - 1].addr, 0x100000000ull);
    assert_int_equal(map.e[map.n - 1].size, (4ull << 30) - 0xb0000000ull);
    machine_destroy(&m);
}

static const struct acpi_config acpi_cfg = {
    .ncpus = 2, .lapic_addr = 0xfee00000, .ioapic_addr = 0xfec00000,
    .ioapic_id = 2, .pm_base = 0x600, .gpe0_base = 0xafe0, .sci_irq = 9,
    .smi_cmd = 0xb2, .acpi_enable = 0xf1, .acpi_disable = 0xf0,
};

static void test_acpi(void **state)
{
    (void)state;
    struct acpi_blob blob;
    const uint64_t base = 0xe0000;
    assert_int_equal(acpi_build(&blob, &acpi_cfg), 0);
    acpi_place(&blob, base);
    const uint8_t *r = blob.rsdp;
    assert_memory_equal(r, "RSD PTR ", 8);
    assert_int_equal(sum(r, 20), 0);
    assert_int_equal(sum(r, 36), 0);
    assert_int_equal(r[15], 2);
    const uint8_t *t = blob.tables;
    const uint8_t *rsdt = t + (rd32(r + 16) - base);
    const uint8_t *xsdt = t + (rd64(r + 24) - base);
    assert_memory_equal(rsdt, "RSDT", 4);
    assert_memory_equal(xsdt, "XSDT", 4);
    assert_int_equal(sum(rsdt, rd32(rsdt + 4)), 0);
    assert_int_equal(sum(xsdt, rd32(xsdt + 4)), 0);
    assert_int_equal(rd32(xsdt + 4), 36 + 16);
    const uint8_t *fadt = t + (rd64(xsdt + 36) - base);
    const uint8_t *madt = t + (rd64(xsdt + 44) - base);
    assert_int_equal(rd32(rsdt + 36), rd64(xsdt + 36));
    assert_memory_equal(fadt, "FACP", 4);
    assert_int_equal(sum(fadt, rd32(fadt + 4)), 0);
    assert_int_equal(rd16(fadt + 46), 9);         /* SCI */
    assert_int_equal(rd32(fadt + 76), 0x608);     /* PM_TMR_BLK */
    assert_int_equal(rd32(fadt + 64), 0x604);     /* PM1a_CNT_BLK */
    assert_int_equal(fadt[91], 4);
    assert_int_equal(rd64(fadt + 208 + 4), 0x608); /* X_PM_TMR_BLK */
    const uint8_t *dsdt = t + (rd64(fadt + 140) - base);
    assert_int_equal(rd32(fadt + 40), rd64(fadt + 140));
    assert_memory_equal(dsdt, "DSDT", 4);
    assert_int_equal(sum(dsdt, rd32(dsdt + 4)), 0);
    assert_non_null(memmem(dsdt, rd32(dsdt + 4), "_S5_", 4));
    const uint8_t *facs = t + (rd32(fadt + 36) - base);
    assert_memory_equal(facs, "FACS", 4);
    assert_int_equal((rd32(fadt + 36)) % 64, 0);
    /* MADT: 2 LAPICs, the IOAPIC, IRQ0 -> GSI 2, the SCI level/high */
    assert_memory_equal(madt, "APIC", 4);
    assert_int_equal(sum(madt, rd32(madt + 4)), 0);
    assert_int_equal(rd32(madt + 36), 0xfee00000);
    int lapics = 0, ioapics = 0, irq0 = 0, sci = 0;
    for (uint32_t off = 44; off < rd32(madt + 4); off += madt[off + 1]) {
        const uint8_t *e = madt + off;
        assert_true(e[1] > 0);
        if (e[0] == 0) lapics++;
        if (e[0] == 1) { ioapics++; assert_int_equal(rd32(e + 4), 0xfec00000); }
        if (e[0] == 2 && e[3] == 0) { irq0 = 1; assert_int_equal(rd32(e + 4), 2); }
        if (e[0] == 2 && e[3] == 9) { sci = 1; assert_int_equal(rd16(e + 8), 0xd); }
    }
    assert_int_equal(lapics, 2);
    assert_int_equal(ioapics, 1);
    assert_true(irq0 && sci);
    acpi_blob_free(&blob);

    /* the loader script: allocate rsdp (FSEG) and tables, then commands */
    assert_int_equal(acpi_build(&blob, &acpi_cfg), 0);
    size_t len;
    uint8_t *s = acpi_loader_script(&blob, &len);
    assert_non_null(s);
    assert_int_equal(len % 128, 0);
    assert_int_equal(rd32(s), 1);
    assert_string_equal((char *)s + 4, "etc/acpi/rsdp");
    assert_int_equal(s[8 + 56], 2);
    assert_int_equal(rd32(s + 128), 1);
    assert_string_equal((char *)s + 128 + 4, "etc/acpi/tables");
    assert_int_equal(rd32(s + 256), 2);
    assert_int_equal(rd32(s + len - 128), 3);
    free(s);
    acpi_blob_free(&blob);
}

static void test_mptable(void **state)
{
    (void)state;
    uint8_t buf[1024];
    struct mptable_config c = {2, 0xfee00000, 0xfec00000, 2, 0x663, 0x0781abfd};
    long n = mptable_build(buf, sizeof(buf), 0xf5000, &c);
    assert_true(n > 16 + 44);
    assert_memory_equal(buf, "_MP_", 4);
    assert_int_equal(sum(buf, 16), 0);
    assert_int_equal(rd32(buf + 4), 0xf5010);
    const uint8_t *ct = buf + 16;
    assert_memory_equal(ct, "PCMP", 4);
    assert_int_equal(sum(ct, rd16(ct + 4)), 0);
    /* 2 CPUs + 2 buses + IOAPIC + 16 I/O interrupts + 2 local */
    assert_int_equal(rd16(ct + 34), 2 + 2 + 1 + 16 + 2);
    assert_int_equal(ct[44], 0);
    assert_int_equal(ct[44 + 3], 3); /* BSP enabled */
    assert_int_equal(mptable_build(buf, 32, 0xf5000, &c), -28 /* ENOSPC */);
}

static const char *cache_file(const char *rel, char *buf, size_t len)
{
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (x && *x)
        snprintf(buf, len, "%s/tandem/%s", x, rel);
    else
        snprintf(buf, len, "%s/.cache/tandem/%s", home ? home : "", rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

static void check_linux(const char *kernel_rel, enum linux_entry want_entry,
                        uint64_t want_rip)
{
    char kpath[4096], ipath[4096];
    const char *kernel = cache_file(kernel_rel, kpath, sizeof(kpath));
    const char *initrd = cache_file("initrd-amd64.cpio.gz", ipath, sizeof(ipath));
    if (!kernel || !initrd) {
        printf("skipped: %s or the initrd is not in the cache (scripts/fetch-guests.sh)\n", kernel_rel);
        skip();
    }
    struct machine m;
    new_machine(&m, 256 << 20);
    struct e820_map map;
    e820_build_pc(&map, &m);
    struct linux_boot_opts o = {kernel, initrd, "console=ttyS0 quiet", LINUX_ENTRY_AUTO, &map, 0xe0000};
    struct boot_cpu boot;
    struct linux_boot_info info;
    assert_int_equal(linux_boot_load(&m, &o, &boot, &info), 0);
    assert_int_equal(info.entry, want_entry);
    assert_int_equal(boot.rip, want_rip);
    assert_int_equal(boot.gpr[6], 0x7000);
    const uint8_t *zp = m.ram + 0x7000;
    assert_memory_equal(zp + 0x202, "HdrS", 4);
    assert_true(rd16(zp + 0x206) >= 0x206);
    assert_int_equal(zp[0x210], 0xff);                 /* type_of_loader */
    assert_string_equal((char *)m.ram + rd32(zp + 0x228), "console=ttyS0 quiet");
    uint32_t rd_addr = rd32(zp + 0x218), rd_size = rd32(zp + 0x21c);
    assert_int_equal(rd_addr % 4096, 0);
    assert_true(rd_addr + (uint64_t)rd_size <= (uint64_t)rd32(zp + 0x22c) + 1);
    assert_true(rd_addr + (uint64_t)rd_size <= (256 << 20));
    assert_true(rd_addr >= 0x100000 + rd32(zp + 0x260)); /* above init_size */
    assert_int_equal(rd_size, info.initrd_size);
    assert_memory_equal(m.ram + rd_addr, "\x1f\x8b", 2); /* the gzip'd cpio */
    assert_int_equal(zp[0x1e8], map.n);
    assert_int_equal(rd64(zp + 0x2d0 + 8), 0x9fc00);  /* e820[0].size */
    assert_int_equal(rd64(zp + 0x070), 0xe0000);      /* acpi_rsdp_addr */
    /* the protected-mode kernel at 1 MiB is the file after the setup */
    FILE *f = fopen(kernel, "rb");
    uint8_t head[0x300], body[256];
    assert_int_equal(fread(head, 1, sizeof(head), f), sizeof(head));
    unsigned setup = ((head[0x1f1] ? head[0x1f1] : 4) + 1) * 512;
    fseek(f, setup, SEEK_SET);
    assert_int_equal(fread(body, 1, sizeof(body), f), sizeof(body));
    fclose(f);
    assert_memory_equal(m.ram + 0x100000, body, sizeof(body));
    /* the CPU state a backend will start from */
    struct x86_state s;
    memset(&s, 0, sizeof(s));
    x86_state_apply_boot(&s, &boot);
    assert_true(s.cr0 & CR0_PE);
    assert_int_equal(s.seg[S_CS].selector, 0x10);
    assert_int_equal(s.seg[S_DS].selector, 0x18);
    assert_int_equal(s.gdt.base, 0x500);
    assert_int_equal(s.mtrr_def_type, 0x806);      /* MTRRs on, WB */
    assert_int_equal(s.mtrr_var[2], 0xb0000000);   /* the PCI hole UC */
    if (want_entry == LINUX_ENTRY_64) {
        assert_true(s.efer & EFER_LMA);
        assert_true(s.seg[S_CS].attr & SEG_ATTR_L);
        assert_int_equal(rd64(m.ram + s.cr3) & ~0xfffull, s.cr3 + 0x1000);
    }

    /* the 16-bit entry: setup code at 0x10000, entered at 1020:0000 */
    o.entry = LINUX_ENTRY_16;
    assert_int_equal(linux_boot_load(&m, &o, &boot, &info), 0);
    assert_int_equal(boot.mode, BOOT_REAL);
    assert_int_equal(boot.real_cs, 0x1020);
    assert_int_equal(boot.real_data_seg, 0x1000);
    assert_memory_equal(m.ram + 0x10000 + 0x202, "HdrS", 4);
    assert_int_equal(m.ram[0x10000 + 0x211] & 0x80, 0x80); /* CAN_USE_HEAP */
    assert_memory_equal(m.ram + 0x10000 + 0x200, head + 0x200, 2); /* jump */
    machine_destroy(&m);

    /* too little RAM to decompress: a clear error, not a crash */
    new_machine(&m, 8 << 20);
    e820_build_pc(&map, &m);
    o.entry = LINUX_ENTRY_AUTO;
    assert_true(linux_boot_load(&m, &o, &boot, &info) < 0);
    machine_destroy(&m);
}

static void test_linux_amd64(void **state)
{
    (void)state;
    check_linux("linux-amd64/vmlinuz", LINUX_ENTRY_64, 0x100200);
}

static void test_linux_686(void **state)
{
    (void)state;
    check_linux("linux-686/vmlinuz", LINUX_ENTRY_32, 0x100000);
}

static char *write_tmp(const void *data, size_t len)
{
    char *path = strdup("/tmp/tandem-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_linux_bad_images(void **state)
{
    (void)state;
    struct machine m;
    new_machine(&m, 64 << 20);
    struct e820_map map;
    e820_build_pc(&map, &m);
    struct boot_cpu boot;
    struct linux_boot_info info;
    uint8_t img[0x1000];
    memset(img, 0, sizeof(img));
    char *p = write_tmp(img, sizeof(img));
    struct linux_boot_opts o = {p, NULL, NULL, LINUX_ENTRY_AUTO, &map, 0};
    assert_int_equal(linux_boot_load(&m, &o, &boot, &info), -22);
    /* a header claiming more setup sectors than the file has */
    memcpy(img + 0x202, "HdrS", 4);
    img[0x1fe] = 0x55; img[0x1ff] = 0xaa;
    img[0x206] = 0x0f; img[0x207] = 0x02;
    img[0x211] = 1;
    img[0x1f1] = 200;
    unlink(p); free(p);
    p = write_tmp(img, sizeof(img));
    o.kernel_path = p;
    assert_int_equal(linux_boot_load(&m, &o, &boot, &info), -22);
    /* an old protocol */
    img[0x1f1] = 4; img[0x206] = 0x04;
    unlink(p); free(p);
    p = write_tmp(img, sizeof(img));
    o.kernel_path = p;
    assert_int_equal(linux_boot_load(&m, &o, &boot, &info), -22);
    unlink(p); free(p);
    o.kernel_path = "/nonexistent/vmlinuz";
    assert_int_equal(linux_boot_load(&m, &o, &boot, &info), -2);
    machine_destroy(&m);
}

static void put32(uint8_t *p, uint32_t v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }
static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }

/* An ELF32 image with one PT_LOAD at 0x200000: a Multiboot header and code */
static size_t make_elf(uint8_t *img)
{
    memset(img, 0, 0x1100);
    memcpy(img, "\x7f" "ELF", 4);
    img[4] = 1; img[5] = 1; img[6] = 1;
    put16(img + 16, 2); put16(img + 18, 3); put32(img + 20, 1);
    put32(img + 24, 0x200010);           /* entry */
    put32(img + 28, 52);                 /* phoff */
    put16(img + 40, 52); put16(img + 42, 32); put16(img + 44, 1);
    uint8_t *ph = img + 52;
    put32(ph, 1); put32(ph + 4, 0x1000); put32(ph + 8, 0x200000);
    put32(ph + 12, 0x200000); put32(ph + 16, 0x100); put32(ph + 20, 0x2000);
    uint8_t *h = img + 0x1000;
    put32(h, MULTIBOOT_HEADER_MAGIC); put32(h + 4, 3); put32(h + 8, -(MULTIBOOT_HEADER_MAGIC + 3));
    h[0x10] = 0xf4; /* hlt */
    memset(h + 0x20, 0xcc, 0xe0);
    return 0x1100;
}

static void test_multiboot(void **state)
{
    (void)state;
    struct machine m;
    new_machine(&m, 64 << 20);
    struct e820_map map;
    e820_build_pc(&map, &m);
    uint8_t img[0x1100];
    size_t len = make_elf(img);
    char *kernel = write_tmp(img, len);
    const char mod1[] = "module one", mod2[] = "second module data";
    char *m1 = write_tmp(mod1, sizeof(mod1)), *m2 = write_tmp(mod2, sizeof(mod2));
    char mods[256];
    snprintf(mods, sizeof(mods), "%s arg1 arg2,%s", m1, m2);
    assert_true(multiboot_find_header(img, len) == 0x1000);
    struct multiboot_opts o = {kernel, "root=x", mods, &map};
    struct boot_cpu boot;
    assert_int_equal(multiboot_load(&m, &o, &boot), 0);
    assert_int_equal(boot.mode, BOOT_PROT32);
    assert_int_equal(boot.rip, 0x200010);
    assert_int_equal(boot.gpr[0], MULTIBOOT_BOOT_MAGIC);
    assert_int_equal(m.ram[0x200010], 0xf4);
    assert_int_equal(m.ram[0x200100], 0);   /* bss zeroed */
    const uint8_t *mbi = m.ram + boot.gpr[3];
    uint32_t flags = rd32(mbi);
    assert_int_equal(flags & 0x24d, 0x24d);
    assert_int_equal(rd32(mbi + 4), 639);
    assert_int_equal(rd32(mbi + 8), 63 * 1024);
    assert_string_equal((char *)m.ram + rd32(mbi + 16), "root=x");
    assert_string_equal((char *)m.ram + rd32(mbi + 64), "tandem");
    assert_int_equal(rd32(mbi + 20), 2);
    const uint8_t *mod = m.ram + rd32(mbi + 24);
    assert_int_equal(rd32(mod) % 4096, 0);
    assert_true(rd32(mod) >= 0x202000);
    assert_int_equal(rd32(mod + 4) - rd32(mod), sizeof(mod1));
    assert_string_equal((char *)m.ram + rd32(mod), "module one");
    char want[300];
    snprintf(want, sizeof(want), "%s arg1 arg2", m1);
    assert_string_equal((char *)m.ram + rd32(mod + 8), want);
    assert_string_equal((char *)m.ram + rd32(mod + 16), "second module data");
    assert_int_equal(rd32(mbi + 44), 24 * map.n);
    const uint8_t *mm = m.ram + rd32(mbi + 48);
    assert_int_equal(rd32(mm), 20);
    assert_int_equal(rd32(mm + 12), 0x9fc00);

    /* the a.out kludge: load the file at 0x300000, bss up to 0x310000 */
    uint8_t aout[0x200];
    memset(aout, 0x90, sizeof(aout));
    uint8_t *h = aout + 0x40;
    uint32_t fl = 0x10002;
    put32(h, MULTIBOOT_HEADER_MAGIC); put32(h + 4, fl); put32(h + 8, -(MULTIBOOT_HEADER_MAGIC + fl));
    put32(h + 12, 0x300040); put32(h + 16, 0x300000); put32(h + 20, 0x300200);
    put32(h + 24, 0x310000); put32(h + 28, 0x300100);
    m.ram[0x300300] = 0x77;
    char *k2 = write_tmp(aout, sizeof(aout));
    o.kernel_path = k2;
    o.modules = NULL;
    assert_int_equal(multiboot_load(&m, &o, &boot), 0);
    assert_int_equal(boot.rip, 0x300100);
    assert_int_equal(m.ram[0x300000], 0x90);
    assert_int_equal(m.ram[0x300300], 0);
    assert_int_equal(rd32(m.ram + boot.gpr[3]) & 0x8, 0); /* no modules */

    /* a header that asks for a feature we lack; a segment past the file */
    fl = 0x10;
    put32(h + 4, fl); put32(h + 8, -(MULTIBOOT_HEADER_MAGIC + fl));
    unlink(k2); free(k2);
    k2 = write_tmp(aout, sizeof(aout));
    o.kernel_path = k2;
    assert_true(multiboot_load(&m, &o, &boot) < 0);
    put32(img + 52 + 16, 0x100000);
    unlink(kernel); free(kernel);
    kernel = write_tmp(img, len);
    o.kernel_path = kernel;
    assert_true(multiboot_load(&m, &o, &boot) < 0);
    unlink(k2); unlink(kernel); unlink(m1); unlink(m2);
    free(k2); free(kernel); free(m1); free(m2);
    machine_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e820),
        cmocka_unit_test(test_acpi),
        cmocka_unit_test(test_mptable),
        cmocka_unit_test(test_linux_amd64),
        cmocka_unit_test(test_linux_686),
        cmocka_unit_test(test_linux_bad_images),
        cmocka_unit_test(test_multiboot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
