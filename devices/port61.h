/* System control port B at 0x61 (PC/AT and PIIX): bit 0 gates PIT counter 2,
 * bit 1 enables the speaker data, bits 2-3 are NMI enables kept as written;
 * bit 4 reads the refresh toggle (flips every 15 us of virtual time), bit 5
 * reads counter 2's OUT, bits 6-7 (IOCHK, SERR) read 0 as no NMI source is
 * modelled. */
#ifndef DEVICES_PORT61_H
#define DEVICES_PORT61_H

#include <stdint.h>
#include "devices/pit.h"
#include "vm/port_bus.h"

struct port61 {
    struct pit *pit;
    uint8_t ctl; /* bits 0-3 as written */
};

/* Claim port 0x61. 0 or -errno. */
int port61_init(struct port61 *d, struct port_bus *io, struct pit *pit);
void port61_reset(struct port61 *d);

#endif
