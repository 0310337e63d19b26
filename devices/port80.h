/* The POST code port 0x80: firmware writes progress codes here (and Linux
 * writes it as an I/O delay). The last byte is kept, shown under -d io and
 * read back, as a POST card does. */
#ifndef DEVICES_PORT80_H
#define DEVICES_PORT80_H

#include <stdint.h>
#include "vm/port_bus.h"

struct port80 {
    uint8_t last;
};

/* Claim port 0x80. 0 or -errno. */
int port80_init(struct port80 *d, struct port_bus *io);

#endif
