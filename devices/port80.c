/* Port 0x80: the POST code sink. */
#include "devices/port80.h"

#include "devices/byte_io.h"
#include "vm/log.h"

static uint8_t port80_read_byte(void *opaque, unsigned offset)
{
    struct port80 *d = opaque;
    return d->last;
}

static void port80_write_byte(void *opaque, unsigned offset, uint8_t v)
{
    struct port80 *d = opaque;
    d->last = v;
    log_msg(LOG_IO, "POST code 0x%02x\n", v);
}

static uint64_t port80_read(void *opaque, uint64_t offset, unsigned size)
{
    return byte_io_read(port80_read_byte, opaque, offset, size, 1);
}

static void port80_write(void *opaque, uint64_t offset, uint64_t value,
                         unsigned size)
{
    byte_io_write(port80_write_byte, opaque, offset, value, size, 1);
}

static const struct io_ops port80_ops = {port80_read, port80_write};

int port80_init(struct port80 *d, struct port_bus *io)
{
    d->last = 0;
    return port_bus_register(io, 0x80, 1, "post", &port80_ops, d);
}
