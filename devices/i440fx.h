/* The i440FX host bridge (PCI 8086:1237 at 00:00.0): its configuration space
 * and the PAM registers 0x59-0x5F that decide, for each segment of
 * 0xC0000-0xFFFFF, whether reads and writes go to DRAM or to the PCI/ISA side
 * (the BIOS ROM window the board maps there). This is how SeaBIOS copies
 * itself into RAM ("shadowing") and then write-protects it. The SMRAM
 * register 0x72 is stored (no SMM). */
#ifndef DEVICES_I440FX_H
#define DEVICES_I440FX_H

#include <stdint.h>
#include "devices/pci.h"
#include "vm/memory.h"

#define I440FX_VENDOR 0x8086
#define I440FX_DEVICE 0x1237
#define I440FX_PAM0 0x59
#define I440FX_SMRAM 0x72
#define I440FX_SMRAM_D_OPEN 0x40
#define I440FX_SMRAM_D_CLS 0x20
#define I440FX_SMRAM_D_LCK 0x10
#define I440FX_SMRAM_DEFAULT 0x02 /* C_BASE_SEG: 0xA0000 */

/* Shadow RAM windows sit above RAM (0) and the board's ROM windows (1) */
#define I440FX_PAM_PRIORITY 2
#define I440FX_PAM_SEGMENTS 13 /* 0xF0000 (64 KiB), then 12 x 16 KiB */

/* The attribute of one segment: bit 0 reads from DRAM, bit 1 writes to it */
enum pam_mode { PAM_PCI = 0, PAM_READ = 1, PAM_WRITE = 2, PAM_RW = 3 };

struct i440fx_pam {
    enum pam_mode mode;           /* what is mapped now */
    struct mem_region *region;    /* NULL in PAM_PCI */
    const uint8_t *pci_view;      /* PAM_WRITE: what reads see, or NULL */
    uint8_t *dram;                /* the segment's RAM */
};

struct i440fx {
    struct pci_device pci;        /* all guest-visible state is in here */
    struct mem_map *mem;
    uint8_t *ram;                 /* guest RAM, must cover the first MiB */
    uint64_t ram_size;
    struct i440fx_pam pam[I440FX_PAM_SEGMENTS];
};

/* Put the bridge at 00:00.0 of bus; ram/ram_size is guest RAM (host
 * mapping). 0 or -errno. */
int i440fx_init(struct i440fx *h, struct pci_bus *bus, struct mem_map *mem,
                uint8_t *ram, uint64_t ram_size);
void i440fx_reset(struct i440fx *h);
/* Re-apply the PAM registers to the memory map (after a snapshot restore) */
void i440fx_update_pam(struct i440fx *h);

#endif
