/* What the kernel loaders share: reading an input file with a size cap,
 * writing into guest RAM with bounds checks, and the flat GDT (plus identity
 * page tables for 64-bit entry) a loader leaves for the kernel. */
#ifndef FIRMWARE_GUEST_LOAD_H
#define FIRMWARE_GUEST_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vm/boot.h"
#include "vm/machine.h"

/* Fixed low-memory layout used by the loaders */
#define BOOT_GDT_ADDR 0x500
#define BOOT_PML4_ADDR 0x1000     /* PML4, PDPT, 4 PDs: 0x1000-0x6fff */
#define BOOT_ZERO_PAGE_ADDR 0x7000 /* Linux boot_params */
#define BOOT_INFO_ADDR 0x8000      /* Multiboot info area, 16 KiB */
#define BOOT_INFO_SIZE 0x4000
#define BOOT_CMDLINE_ADDR 0x20000
#define BOOT_CMDLINE_MAX 0x10000
#define BOOT_KERNEL_ADDR 0x100000

/* Read all of path (at most max bytes). 0 or -errno after an error line
 * naming what (e.g. "-kernel") and the file. */
int load_file(const char *what, const char *path, size_t max, uint8_t **buf,
              size_t *len);
/* Copy into guest RAM below 4 GiB; -ERANGE if [gpa, gpa+len) is not RAM */
int guest_write(struct machine *m, uint64_t gpa, const void *data, size_t len);
int guest_zero(struct machine *m, uint64_t gpa, size_t len);
/* Write the flat GDT (code 0x10, data 0x18) and, for long mode, page tables
 * identity-mapping 4 GiB; fill the matching fields of boot. */
int boot_setup_flat(struct machine *m, struct boot_cpu *boot, bool long_mode);

#endif
