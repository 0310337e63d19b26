/* System control port A at 0x92 (PS/2, PIIX): bit 1 is the fast A20 gate,
 * applied to the memory map; a rising edge of bit 0 resets the system. The
 * other bits (security lock, disk LEDs) are kept as written. */
#ifndef DEVICES_PORT92_H
#define DEVICES_PORT92_H

#include <stdint.h>
#include "vm/memory.h"
#include "vm/port_bus.h"

struct port92 {
    struct mem_map *mem;
    uint8_t reg;
};

/* Claim port 0x92. 0 or -errno. */
int port92_init(struct port92 *d, struct port_bus *io, struct mem_map *mem);
/* Bit 0 clear; bit 1 shows the memory map's A20 as it is */
void port92_reset(struct port92 *d);

#endif
