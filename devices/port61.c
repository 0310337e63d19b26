/* Port 0x61: the gate and readback of PIT counter 2 and the refresh toggle
 * that old delay loops count. */
#include "devices/port61.h"

#include "devices/byte_io.h"
#include "vm/clock.h"

#define REFRESH_NS 15000

static uint8_t port61_read_byte(void *opaque, unsigned offset)
{
    struct port61 *d = opaque;
    int64_t now = vclock_now(d->pit->clock);
    uint8_t v = d->ctl;
    if ((now / REFRESH_NS) & 1)
        v |= 0x10;
    if (pit_out(d->pit, 2))
        v |= 0x20;
    return v;
}

static void port61_write_byte(void *opaque, unsigned offset, uint8_t v)
{
    struct port61 *d = opaque;
    d->ctl = v & 0x0f;
    pit_set_gate(d->pit, 2, v & 1);
}

static uint64_t port61_read(void *opaque, uint64_t offset, unsigned size)
{
    return byte_io_read(port61_read_byte, opaque, offset, size, 1);
}

static void port61_write(void *opaque, uint64_t offset, uint64_t value,
                         unsigned size)
{
    byte_io_write(port61_write_byte, opaque, offset, value, size, 1);
}

static const struct io_ops port61_ops = {port61_read, port61_write};

void port61_reset(struct port61 *d)
{
    d->ctl = 0;
    pit_set_gate(d->pit, 2, false);
}

int port61_init(struct port61 *d, struct port_bus *io, struct pit *pit)
{
    d->pit = pit;
    int r = port_bus_register(io, 0x61, 1, "port61", &port61_ops, d);
    if (r)
        return r;
    port61_reset(d);
    return 0;
}
