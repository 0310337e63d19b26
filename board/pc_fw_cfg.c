/* The fw_cfg items of the PC board: what SeaBIOS reads to size RAM and CPUs,
 * QEMU's "etc/e820", the ACPI tables with their table-loader script, and,
 * when firmware is to load the kernel (-bios with -kernel), the kernel,
 * setup, initrd and command line items. */
#include "board/pc_fw_cfg.h"

#include <stdlib.h>
#include <string.h>
#include "board/pc_firmware.h"
#include "firmware/acpi_tables.h"
#include "firmware/guest_load.h"
#include "vm/log.h"

#define PC_4G 0x100000000ull
#define KERNEL_MAX (512u << 20)
#define INITRD_MAX (2048u << 20)

/* QEMU's etc/e820: RAM only; the firmware reserves its own areas */
static int publish_e820(struct machine *m, struct fw_cfg *f)
{
    uint8_t e[2][20];
    int n = 0;
    uint64_t ranges[2][2] = {{0, m->ram_below_4g}, {PC_4G, m->ram_above_4g}};
    for (int i = 0; i < 2; i++) {
        if (!ranges[i][1])
            continue;
        for (int k = 0; k < 8; k++) {
            e[n][k] = (uint8_t)(ranges[i][0] >> (8 * k));
            e[n][8 + k] = (uint8_t)(ranges[i][1] >> (8 * k));
        }
        e[n][16] = 1;
        e[n][17] = e[n][18] = e[n][19] = 0;
        n++;
    }
    return fw_cfg_add_file(f, "etc/e820", e, sizeof(e[0]) * n);
}

static int publish_acpi(struct machine *m, struct fw_cfg *f)
{
    struct acpi_config ac;
    pc_acpi_config(m, &ac);
    struct acpi_blob blob;
    int err = acpi_build(&blob, &ac);
    if (err)
        return err;
    size_t len;
    uint8_t *script = acpi_loader_script(&blob, &len);
    if (!script)
        err = -12;
    if (!err)
        err = fw_cfg_add_file(f, "etc/acpi/tables", blob.tables, blob.len);
    if (!err)
        err = fw_cfg_add_file(f, "etc/acpi/rsdp", blob.rsdp, ACPI_RSDP_SIZE);
    if (!err)
        err = fw_cfg_add_file(f, "etc/table-loader", script, len);
    free(script);
    acpi_blob_free(&blob);
    return err;
}

/* Setup code and protected-mode kernel as separate items, as QEMU does */
static int publish_kernel(struct machine *m, struct fw_cfg *f)
{
    uint8_t *img;
    size_t len;
    int err = load_file("-kernel", m->cfg.kernel, KERNEL_MAX, &img, &len);
    if (err)
        return err;
    size_t setup = len >= 0x300 ? ((img[0x1f1] ? img[0x1f1] : 4) + 1) * 512u : 0;
    if (setup > len)
        setup = 0;
    err = fw_cfg_add_i32(f, FW_CFG_SETUP_SIZE, (uint32_t)setup);
    if (!err)
        err = fw_cfg_add_bytes(f, FW_CFG_SETUP_DATA, img, setup);
    if (!err)
        err = fw_cfg_add_i32(f, FW_CFG_KERNEL_SIZE, (uint32_t)(len - setup));
    if (!err)
        err = fw_cfg_add_bytes(f, FW_CFG_KERNEL_DATA, img + setup, len - setup);
    free(img);
    const char *cmdline = m->cfg.append ? m->cfg.append : "";
    if (!err)
        err = fw_cfg_add_i32(f, FW_CFG_CMDLINE_SIZE, (uint32_t)strlen(cmdline) + 1);
    if (!err)
        err = fw_cfg_add_bytes(f, FW_CFG_CMDLINE_DATA, cmdline, strlen(cmdline) + 1);
    if (!err && m->cfg.initrd) {
        err = load_file("-initrd", m->cfg.initrd, INITRD_MAX, &img, &len);
        if (err)
            return err;
        err = fw_cfg_add_i32(f, FW_CFG_INITRD_SIZE, (uint32_t)len);
        if (!err)
            err = fw_cfg_add_bytes(f, FW_CFG_INITRD_DATA, img, len);
        free(img);
    }
    return err;
}

int pc_fw_cfg_publish(struct machine *m, struct pc_board *b)
{
    struct fw_cfg *f = &b->fw_cfg;
    int err = fw_cfg_add_i64(f, FW_CFG_RAM_SIZE, m->ram_size);
    if (!err)
        err = fw_cfg_add_i16(f, FW_CFG_NB_CPUS, (uint16_t)m->ncpus);
    if (!err)
        err = fw_cfg_add_i16(f, FW_CFG_MAX_CPUS, (uint16_t)m->ncpus);
    if (!err)
        err = fw_cfg_add_i32(f, FW_CFG_IRQ0_OVERRIDE, 1);
    if (!err)
        err = fw_cfg_add_i16(f, FW_CFG_BOOT_MENU, 0);
    if (!err)
        err = publish_e820(m, f);
    if (!err)
        err = publish_acpi(m, f);
    if (!err && m->cfg.kernel && m->cfg.bios)
        err = publish_kernel(m, f);
    if (err)
        error_report("cannot publish the fw_cfg items: %s", strerror(-err));
    return err;
}
