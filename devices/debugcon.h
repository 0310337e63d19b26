/* The Bochs/QEMU debug console: each byte the guest writes to its port
 * (0xE9 by default) goes to a host sink; reading the port returns 0xE9 so
 * that guests can detect it. Tiny test guests print through it. */
#ifndef DEVICES_DEBUGCON_H
#define DEVICES_DEBUGCON_H

#include <stdint.h>
#include <stdio.h>
#include "vm/port_bus.h"

#define DEBUGCON_PORT 0xe9

struct debugcon {
    void (*put)(void *opaque, uint8_t c);
    void *opaque;
};

/* Claim `port`; every byte written is passed to put(opaque, byte).
 * 0 or -errno. */
int debugcon_init(struct debugcon *d, struct port_bus *io, uint16_t port,
                  void (*put)(void *opaque, uint8_t c), void *opaque);
/* A put for a host stdio stream: pass the FILE * as opaque */
void debugcon_put_file(void *file, uint8_t c);

#endif
