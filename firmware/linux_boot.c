/* Linux boot protocol loader (see linux_boot.h). Offsets are those of
 * struct boot_params / struct setup_header in the boot protocol. */
#include "firmware/linux_boot.h"

#include "firmware/le_bytes.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "firmware/guest_load.h"
#include "vm/log.h"

#define HDR_SETUP_SECTS 0x1f1
#define HDR_VID_MODE 0x1fa
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_INIT_SIZE 0x260
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01

/* 16-bit entry: setup code and boot_params at 0x10000, its stack and heap
 * below 0x20000 where the command line starts */
#define REAL_MODE_ADDR 0x10000
#define REAL_MODE_STACK 0xfe00
#define KERNEL_MAX_SIZE (512u << 20)
#define INITRD_MAX_SIZE (2048u << 20)


bool linux_is_bzimage(const uint8_t *img, size_t len)
{
    return len >= 0x300 && memcmp(img + HDR_MAGIC, "HdrS", 4) == 0;
}

/* Checks an image's setup header; returns the setup size or -errno */
static long check_header(const char *path, const uint8_t *img, size_t len)
{
    if (!linux_is_bzimage(img, len) || le16_get(img + HDR_BOOT_FLAG) != 0xaa55) {
        error_report("-kernel %s: not a Linux bzImage", path);
        return -EINVAL;
    }
    uint16_t version = le16_get(img + HDR_VERSION);
    if (version < 0x206) {
        error_report("-kernel %s: boot protocol %u.%02x is too old (2.06 or later needed)",
                     path, version >> 8, version & 0xff);
        return -EINVAL;
    }
    if (!(img[HDR_LOADFLAGS] & LOADED_HIGH)) {
        error_report("-kernel %s: a zImage (loaded low) is not supported", path);
        return -EINVAL;
    }
    unsigned sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
    long setup = (long)(sects + 1) * 512;
    if ((size_t)setup >= len || 0x202 + img[HDR_JUMP + 1] > setup) {
        error_report("-kernel %s: truncated image (setup size %ld, file %zu bytes)",
                     path, setup, len);
        return -EINVAL;
    }
    return setup;
}

/* Place the initrd as high as allowed; returns 0 or -errno */
static int load_initrd(struct machine *m, const struct linux_boot_opts *o,
                       const uint8_t *hdr, uint64_t kernel_end,
                       struct linux_boot_info *info)
{
    uint8_t *data;
    size_t len;
    int err = load_file("-initrd", o->initrd_path, INITRD_MAX_SIZE, &data, &len);
    if (err)
        return err;
    uint64_t limit = (uint64_t)le32_get(hdr + HDR_INITRD_ADDR_MAX) + 1;
    if (limit > m->ram_below_4g)
        limit = m->ram_below_4g;
    uint64_t addr = limit >= len ? ((limit - len) & ~0xfffull) : 0;
    if (addr < kernel_end) {
        error_report("-initrd %s: %zu bytes do not fit between the kernel and %#llx (use more -m)",
                     o->initrd_path, len, (unsigned long long)limit);
        free(data);
        return -ENOSPC;
    }
    err = guest_write(m, addr, data, len);
    free(data);
    info->initrd_addr = addr;
    info->initrd_size = len;
    return err;
}

int linux_boot_load(struct machine *m, const struct linux_boot_opts *o,
                    struct boot_cpu *boot, struct linux_boot_info *info)
{
    uint8_t *img;
    size_t len;
    int err = load_file("-kernel", o->kernel_path, KERNEL_MAX_SIZE, &img, &len);
    if (err)
        return err;
    memset(info, 0, sizeof(*info));
    long setup = check_header(o->kernel_path, img, len);
    if (setup < 0) {
        free(img);
        return (int)setup;
    }
    info->protocol = le16_get(img + HDR_VERSION);
    bool has64 = info->protocol >= 0x20c && (le16_get(img + HDR_XLOADFLAGS) & XLF_KERNEL_64);
    enum linux_entry entry = o->entry ? o->entry : has64 ? LINUX_ENTRY_64 : LINUX_ENTRY_32;
    if (entry == LINUX_ENTRY_64 && !has64) {
        error_report("-kernel %s: this kernel has no 64-bit entry point", o->kernel_path);
        free(img);
        return -EINVAL;
    }
    info->entry = entry;

    /* the protected-mode kernel at 1 MiB, with room to decompress */
    info->kernel_addr = BOOT_KERNEL_ADDR;
    info->kernel_size = len - (size_t)setup;
    uint64_t init_size = le32_get(img + HDR_INIT_SIZE);
    uint64_t kernel_end = BOOT_KERNEL_ADDR +
        (init_size > info->kernel_size ? init_size : info->kernel_size);
    if (kernel_end > m->ram_below_4g) {
        error_report("-kernel %s: needs %llu MiB of RAM to decompress (use more -m)",
                     o->kernel_path, (unsigned long long)(kernel_end >> 20) + 1);
        free(img);
        return -ENOSPC;
    }
    err = guest_write(m, BOOT_KERNEL_ADDR, img + setup, info->kernel_size);

    /* boot_params: a zero page with the image's setup header copied in,
     * or for the 16-bit entry the setup code itself */
    uint8_t zp[4096];
    memset(zp, 0, sizeof(zp));
    size_t hdr_end = 0x202 + img[HDR_JUMP + 1];
    memcpy(zp + HDR_SETUP_SECTS, img + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
    zp[HDR_TYPE_OF_LOADER] = 0xff; /* no assigned loader ID */
    info->zero_page = entry == LINUX_ENTRY_16 ? REAL_MODE_ADDR : BOOT_ZERO_PAGE_ADDR;

    /* command line */
    const char *cmdline = o->cmdline ? o->cmdline : "";
    size_t cmdline_max = info->protocol >= 0x206 ? le32_get(img + HDR_CMDLINE_SIZE) : 255;
    size_t cmdline_len = strlen(cmdline);
    if (cmdline_len > cmdline_max || cmdline_len >= BOOT_CMDLINE_MAX) {
        error_report("-append: %zu characters, this kernel takes at most %zu",
                     cmdline_len, cmdline_max);
        free(img);
        return -E2BIG;
    }
    info->cmdline_addr = BOOT_CMDLINE_ADDR;
    if (!err)
        err = guest_write(m, BOOT_CMDLINE_ADDR, cmdline, cmdline_len + 1);
    le32_put(zp + HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);

    if (!err && o->initrd_path) {
        err = load_initrd(m, o, img, kernel_end, info);
        le32_put(zp + HDR_RAMDISK_IMAGE, (uint32_t)info->initrd_addr);
        le32_put(zp + HDR_RAMDISK_SIZE, (uint32_t)info->initrd_size);
    }

    /* the memory map and the RSDP */
    int n = o->e820->n < BP_E820_MAX ? o->e820->n : BP_E820_MAX;
    zp[BP_E820_ENTRIES] = (uint8_t)n;
    for (int i = 0; i < n; i++) {
        uint8_t *e = zp + BP_E820_TABLE + 20 * i;
        le64_put(e, o->e820->e[i].addr);
        le64_put(e + 8, o->e820->e[i].size);
        le32_put(e + 16, o->e820->e[i].type);
    }
    if (info->protocol >= 0x20e && o->rsdp_gpa)
        le64_put(zp + BP_ACPI_RSDP_ADDR, o->rsdp_gpa);

    memset(boot, 0, sizeof(*boot));
    if (entry == LINUX_ENTRY_16) {
        /* the setup code asks the BIOS for the memory map itself */
        zp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
        le16_put(zp + HDR_HEAP_END_PTR, REAL_MODE_STACK - 0x200);
        le16_put(zp + HDR_VID_MODE, 0xffff); /* "normal" */
        if (!err)
            err = guest_write(m, REAL_MODE_ADDR, img, (size_t)setup);
        if (!err) /* setup code first, then the filled-in header over it */
            err = guest_write(m, REAL_MODE_ADDR + HDR_SETUP_SECTS,
                              zp + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
        boot->mode = BOOT_REAL;
        boot->real_cs = (REAL_MODE_ADDR >> 4) + 0x20;
        boot->real_data_seg = REAL_MODE_ADDR >> 4;
        boot->rip = 0;
        boot->gpr[4] = REAL_MODE_STACK; /* SP */
    } else {
        if (!err)
            err = guest_write(m, BOOT_ZERO_PAGE_ADDR, zp, sizeof(zp));
        if (!err)
            err = boot_setup_flat(m, boot, entry == LINUX_ENTRY_64);
        boot->mode = entry == LINUX_ENTRY_64 ? BOOT_LONG64 : BOOT_PROT32;
        boot->rip = entry == LINUX_ENTRY_64 ? BOOT_KERNEL_ADDR + 0x200
                                            : le32_get(img + HDR_CODE32_START);
        boot->gpr[6] = BOOT_ZERO_PAGE_ADDR; /* RSI: boot_params */
    }
    free(img);
    if (err == -ERANGE)
        error_report("-kernel %s: does not fit in guest RAM (use more -m)", o->kernel_path);
    return err;
}
