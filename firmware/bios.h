/* Loading a firmware image (SeaBIOS or a raw test program) as the PC's BIOS
 * ROM: the whole image just below 4 GiB, its last 128 KiB also at the top of
 * the first megabyte, where the reset vector F000:FFF0 finds it. */
#ifndef FIRMWARE_BIOS_H
#define FIRMWARE_BIOS_H

#include "vm/machine.h"

struct bios_rom {
    uint8_t *image;
    uint64_t size;
    struct mem_region *high;  /* at 4 GiB - size */
    struct mem_region *low;   /* the isa-bios window below 1 MiB */
};

/* Read path (at most 16 MiB; padded at the front to whole pages so that it
 * ends at 4 GiB) and map it. 0 or -errno after an error_report line. */
int bios_load(struct machine *m, const char *path, struct bios_rom *rom);
/* The default firmware: SeaBIOS from the cache or the seabios package;
 * NULL if neither is there. */
const char *bios_default_path(void);

#endif
