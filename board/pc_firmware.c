/* Firmware and kernel loading for the PC board (see pc_firmware.h).
 *
 * Direct kernel boot layout: ACPI tables at 0xE0000, the RSDP at 0xF0000
 * and the MP table right after it, all inside the e820-reserved BIOS area;
 * the loaders' own layout is in firmware/guest_load.h. */
#include "board/pc_firmware.h"

#include "board/pc_fw_cfg.h"

#include <errno.h>
#include <string.h>
#include "firmware/acpi_tables.h"
#include "firmware/e820.h"
#include "firmware/linux_boot.h"
#include "firmware/mptable.h"
#include "firmware/multiboot.h"
#include "firmware/guest_load.h"
#include "vm/log.h"
#include "vm/runstate.h"

#define ACPI_TABLES_ADDR 0xe0000
#define ACPI_TABLES_MAX 0x10000
#define RSDP_ADDR 0xf0000
#define MPTABLE_ADDR 0xf0040
#define MPTABLE_MAX 0x1000

/* CPUID.1 EAX/EDX as the MP table reports them (family 6 model 15) */
#define MP_CPU_SIGNATURE 0x000006f1
#define MP_CPU_FEATURES 0x0781abfd

static void fill_cmos(struct machine *m, struct pc_board *b)
{
    struct rtc_cmos_config c = {
        .ram_below_4g = m->ram_below_4g, .ram_above_4g = m->ram_above_4g,
        .ncpus = m->ncpus, .ps2_mouse = true,
    };
    rtc_cmos_fill(&b->rtc, &c);
}

void pc_acpi_config(const struct machine *m, struct acpi_config *ac)
{
    *ac = (struct acpi_config){
        .ncpus = m->ncpus, .lapic_addr = LAPIC_DEFAULT_BASE,
        .ioapic_addr = IOAPIC_DEFAULT_BASE, .ioapic_id = (uint8_t)m->ncpus,
        .pm_base = ACPI_PM_BASE, .gpe0_base = ACPI_GPE0_BLK,
        .sci_irq = ACPI_SCI_IRQ, .smi_cmd = ACPI_SMI_CMD,
        .acpi_enable = ACPI_ENABLE_CMD, .acpi_disable = ACPI_DISABLE_CMD,
    };
}

static int place_tables(struct machine *m)
{
    struct acpi_config ac;
    pc_acpi_config(m, &ac);
    struct acpi_blob blob;
    int err = acpi_build(&blob, &ac);
    if (err)
        return err;
    if (blob.len > ACPI_TABLES_MAX) {
        acpi_blob_free(&blob);
        return -E2BIG;
    }
    acpi_place(&blob, ACPI_TABLES_ADDR);
    err = guest_write(m, ACPI_TABLES_ADDR, blob.tables, blob.len);
    if (!err)
        err = guest_write(m, RSDP_ADDR, blob.rsdp, ACPI_RSDP_SIZE);
    acpi_blob_free(&blob);

    uint8_t mp[MPTABLE_MAX];
    struct mptable_config mc = {
        .ncpus = m->ncpus, .lapic_addr = LAPIC_DEFAULT_BASE,
        .ioapic_addr = IOAPIC_DEFAULT_BASE, .ioapic_id = (uint8_t)m->ncpus,
        .cpu_signature = MP_CPU_SIGNATURE, .cpu_features = MP_CPU_FEATURES,
    };
    long n = mptable_build(mp, sizeof(mp), MPTABLE_ADDR, &mc);
    if (n < 0)
        return (int)n;
    return err ? err : guest_write(m, MPTABLE_ADDR, mp, (size_t)n);
}

/* What SeaBIOS would have programmed: the PM I/O base, the PIRQ routes
 * and level triggering for the PCI interrupt lines */
static void program_chipset(struct pc_board *b)
{
    static const uint8_t pirq_irq[4] = {10, 10, 11, 11};
    pci_config_write(&b->pm.pci, ACPI_PM_PMBA, ACPI_PM_BASE | 1, 4);
    pci_config_write(&b->pm.pci, ACPI_PM_PMREGMISC, 1, 1);
    for (int i = 0; i < 4; i++)
        pci_config_write(&b->isa.pci, PIIX3_PIRQRC + i, pirq_irq[i], 1);
    /* ELCR: IRQ 9 (SCI), 10 and 11 level-triggered */
    port_write(b->isa.pci.bus->io, 0x4d1, 0x0e, 1);
}

static int load_kernel(struct machine *m, struct pc_board *b)
{
    struct e820_map map;
    e820_build_pc(&map, m);
    int err = place_tables(m);
    if (err) {
        error_report("cannot place the ACPI/MP tables: %s", strerror(-err));
        return err;
    }
    program_chipset(b);
    uint8_t head[0x300];
    FILE *f = fopen(m->cfg.kernel, "rb");
    size_t got = f ? fread(head, 1, sizeof(head), f) : 0;
    if (f)
        fclose(f);
    if (got == sizeof(head) && linux_is_bzimage(head, got)) {
        struct linux_boot_opts o = {
            .kernel_path = m->cfg.kernel, .initrd_path = m->cfg.initrd,
            .cmdline = m->cfg.append, .entry = LINUX_ENTRY_AUTO, .e820 = &map,
            .rsdp_gpa = RSDP_ADDR,
        };
        struct linux_boot_info info;
        return linux_boot_load(m, &o, &m->boot, &info);
    }
    struct multiboot_opts o = {
        .kernel_path = m->cfg.kernel, .cmdline = m->cfg.append,
        .modules = m->cfg.initrd, .e820 = &map,
    };
    return multiboot_load(m, &o, &m->boot);
}

int pc_firmware_load(struct machine *m, struct pc_board *b)
{
    fill_cmos(m, b);
    int err = pc_fw_cfg_publish(m, b);
    if (err)
        return err;
    const char *bios = m->cfg.bios;
    if (!bios && !m->cfg.kernel) {
        bios = bios_default_path();
        if (!bios) {
            error_report("no firmware: give -bios FILE or -kernel FILE, or fetch SeaBIOS with scripts/fetch-guests.sh seabios");
            return -ENOENT;
        }
    }
    if (bios) {
        err = bios_load(m, bios, &b->bios);
        if (err)
            return err;
    }
    return m->cfg.kernel ? load_kernel(m, b) : 0;
}

void pc_firmware_reset(struct machine *m, struct pc_board *b)
{
    fill_cmos(m, b);
    memset(&m->boot, 0, sizeof(m->boot));
    if (m->cfg.kernel && load_kernel(m, b) < 0)
        vm_request_exit(1, "cannot reload the kernel after reset");
}
