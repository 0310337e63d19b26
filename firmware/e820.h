/* The PC's physical memory map as the BIOS reports it (INT 15h E820): usable
 * RAM with the real PC holes (EBDA, VGA and ROM area, the APICs, the BIOS
 * flash), for the Linux and Multiboot loaders and for fw_cfg "etc/e820". */
#ifndef FIRMWARE_E820_H
#define FIRMWARE_E820_H

#include <stdint.h>
#include "vm/machine.h"

enum e820_type {
    E820_RAM = 1,
    E820_RESERVED = 2,
    E820_ACPI = 3,
    E820_NVS = 4,
};

#define E820_MAX 32

struct e820_entry {
    uint64_t addr, size;
    uint32_t type;
};

struct e820_map {
    struct e820_entry e[E820_MAX];
    int n;
};

/* Where the low memory ends (the EBDA starts): 639 KiB */
#define E820_EBDA_START 0x9fc00ull
/* The BIOS area kept reserved for ACPI/MP tables and firmware */
#define E820_BIOS_AREA 0xe0000ull

void e820_build_pc(struct e820_map *map, const struct machine *m);
/* The sum of usable RAM below 1 MiB / between 1 MiB and the first hole, in
 * KiB (Multiboot mem_lower / mem_upper) */
uint32_t e820_mem_lower_kb(const struct e820_map *map);
uint32_t e820_mem_upper_kb(const struct e820_map *map);

#endif
