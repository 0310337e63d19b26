/* QEMU's firmware configuration device (fw_cfg) as the PC has it: selector
 * port 0x510 (16-bit write), data port 0x511 (byte reads advance through the
 * selected item), and the DMA interface at 0x514 (the big-endian guest
 * address of a FWCfgDmaAccess descriptor, written high half then low half;
 * the low write starts the transfer). Items use QEMU's key numbers; named
 * files ("etc/e820", "bootorder", "etc/acpi/tables", "genroms/...") get
 * keys from 0x20 in name order and are listed in the FILE_DIR item. The
 * board and firmware/ code publish items; SeaBIOS and Linux read them. */
#ifndef DEVICES_FW_CFG_H
#define DEVICES_FW_CFG_H

#include <stddef.h>
#include <stdint.h>
#include "vm/memory.h"
#include "vm/port_bus.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA 0x514

enum fw_cfg_key {
    FW_CFG_SIGNATURE = 0x00,     /* "QEMU" */
    FW_CFG_ID = 0x01,            /* le32 feature bits below */
    FW_CFG_UUID = 0x02,
    FW_CFG_RAM_SIZE = 0x03,      /* le64 */
    FW_CFG_NOGRAPHIC = 0x04,
    FW_CFG_NB_CPUS = 0x05,       /* le16 */
    FW_CFG_MACHINE_ID = 0x06,
    FW_CFG_KERNEL_ADDR = 0x07,
    FW_CFG_KERNEL_SIZE = 0x08,
    FW_CFG_KERNEL_CMDLINE = 0x09,
    FW_CFG_INITRD_ADDR = 0x0a,
    FW_CFG_INITRD_SIZE = 0x0b,
    FW_CFG_BOOT_DEVICE = 0x0c,
    FW_CFG_NUMA = 0x0d,
    FW_CFG_BOOT_MENU = 0x0e,
    FW_CFG_MAX_CPUS = 0x0f,
    FW_CFG_KERNEL_ENTRY = 0x10,
    FW_CFG_KERNEL_DATA = 0x11,
    FW_CFG_INITRD_DATA = 0x12,
    FW_CFG_CMDLINE_ADDR = 0x13,
    FW_CFG_CMDLINE_SIZE = 0x14,
    FW_CFG_CMDLINE_DATA = 0x15,
    FW_CFG_SETUP_ADDR = 0x16,
    FW_CFG_SETUP_SIZE = 0x17,
    FW_CFG_SETUP_DATA = 0x18,
    FW_CFG_FILE_DIR = 0x19,
    FW_CFG_FILE_FIRST = 0x20,
    FW_CFG_WRITE_CHANNEL = 0x4000, /* selector bit, ignored for lookup */
    FW_CFG_ARCH_LOCAL = 0x8000,
    /* x86 items (QEMU hw/i386/fw_cfg.h) */
    FW_CFG_ACPI_TABLES = FW_CFG_ARCH_LOCAL + 0,
    FW_CFG_SMBIOS_ENTRIES = FW_CFG_ARCH_LOCAL + 1,
    FW_CFG_IRQ0_OVERRIDE = FW_CFG_ARCH_LOCAL + 2,
    FW_CFG_E820_TABLE = FW_CFG_ARCH_LOCAL + 3,
    FW_CFG_HPET = FW_CFG_ARCH_LOCAL + 4,
};

#define FW_CFG_VERSION 0x01     /* FW_CFG_ID: traditional interface */
#define FW_CFG_VERSION_DMA 0x02 /* FW_CFG_ID: DMA interface */

/* FWCfgDmaAccess.control bits */
#define FW_CFG_DMA_CTL_ERROR 0x01
#define FW_CFG_DMA_CTL_READ 0x02
#define FW_CFG_DMA_CTL_SKIP 0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE 0x10

#define FW_CFG_MAX_FILE_NAME 56 /* including the terminating NUL */
#define FW_CFG_MAX_FILES 1024
#define FW_CFG_DIR_ENTRY_SIZE 64

/* Mutable state: plain data, what a snapshot saves (the items are rebuilt
 * by the board) */
struct fw_cfg_state {
    uint16_t cur_key;
    uint32_t cur_offset;
    uint64_t dma_addr;
};

struct fw_cfg_item {
    uint16_t key;
    uint32_t len;
    uint8_t *data;
};

struct fw_cfg_file {
    char name[FW_CFG_MAX_FILE_NAME];
    uint32_t len;
    uint8_t *data;
};

struct fw_cfg {
    struct fw_cfg_state s;
    struct mem_map *mem;
    struct fw_cfg_item *items;  /* keyed items, unsorted */
    size_t nitems;
    struct fw_cfg_file *files;  /* sorted by name; key FILE_FIRST + index */
    size_t nfiles;
};

/* Claim the ports and publish SIGNATURE and ID. 0 or -errno. */
int fw_cfg_init(struct fw_cfg *f, struct port_bus *io, struct mem_map *mem);
void fw_cfg_free(struct fw_cfg *f);
/* Selector, offset and DMA address back to power-on (the items stay) */
void fw_cfg_reset(struct fw_cfg *f);

/* Publish (or replace) a keyed item; the device keeps its own copy of data.
 * Keys in the file range are refused (-EINVAL). 0 or -errno. */
int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data,
                     uint32_t len);
int fw_cfg_add_i16(struct fw_cfg *f, uint16_t key, uint16_t value); /* le */
int fw_cfg_add_i32(struct fw_cfg *f, uint16_t key, uint32_t value);
int fw_cfg_add_i64(struct fw_cfg *f, uint16_t key, uint64_t value);
/* Publish (or replace the contents of) a named file. 0 or -errno
 * (-ENAMETOOLONG, -ENOSPC, -ENOMEM). */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data,
                    uint32_t len);

#endif
