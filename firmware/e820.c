/* The PC E820 map (see e820.h). */
#include "firmware/e820.h"

#define PC_4G 0x100000000ull

static void add(struct e820_map *map, uint64_t addr, uint64_t size,
                uint32_t type)
{
    if (size && map->n < E820_MAX)
        map->e[map->n++] = (struct e820_entry){addr, size, type};
}

void e820_build_pc(struct e820_map *map, const struct machine *m)
{
    map->n = 0;
    uint64_t low = m->ram_below_4g;
    add(map, 0, low < E820_EBDA_START ? low : E820_EBDA_START, E820_RAM);
    if (low > E820_EBDA_START)
        add(map, E820_EBDA_START, 0xa0000 - E820_EBDA_START, E820_RESERVED);
    add(map, E820_BIOS_AREA, 0x100000 - E820_BIOS_AREA, E820_RESERVED);
    if (low > 0x100000)
        add(map, 0x100000, low - 0x100000, E820_RAM);
    add(map, 0xfec00000, 0x1000, E820_RESERVED);   /* IOAPIC */
    add(map, 0xfee00000, 0x1000, E820_RESERVED);   /* local APIC */
    add(map, 0xfffc0000, 0x40000, E820_RESERVED);  /* BIOS flash */
    if (m->ram_above_4g)
        add(map, PC_4G, m->ram_above_4g, E820_RAM);
}

uint32_t e820_mem_lower_kb(const struct e820_map *map)
{
    for (int i = 0; i < map->n; i++)
        if (map->e[i].addr == 0 && map->e[i].type == E820_RAM)
            return (uint32_t)(map->e[i].size >> 10);
    return 0;
}

uint32_t e820_mem_upper_kb(const struct e820_map *map)
{
    for (int i = 0; i < map->n; i++)
        if (map->e[i].addr == 0x100000 && map->e[i].type == E820_RAM)
            return (uint32_t)(map->e[i].size >> 10);
    return 0;
}
