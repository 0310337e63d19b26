/* The 0xE9 debug console. */
#include "devices/debugcon.h"

#include "devices/byte_io.h"

static uint8_t debugcon_read_byte(void *opaque, unsigned offset)
{
    return DEBUGCON_PORT; /* Bochs's and QEMU's readback value */
}

static void debugcon_write_byte(void *opaque, unsigned offset, uint8_t v)
{
    struct debugcon *d = opaque;
    d->put(d->opaque, v);
}

static uint64_t debugcon_read(void *opaque, uint64_t offset, unsigned size)
{
    return byte_io_read(debugcon_read_byte, opaque, offset, size, 1);
}

static void debugcon_write(void *opaque, uint64_t offset, uint64_t value,
                           unsigned size)
{
    byte_io_write(debugcon_write_byte, opaque, offset, value, size, 1);
}

static const struct io_ops debugcon_ops = {debugcon_read, debugcon_write};

void debugcon_put_file(void *file, uint8_t c)
{
    fputc(c, file);
    fflush(file); /* the guest may stop at any moment */
}

int debugcon_init(struct debugcon *d, struct port_bus *io, uint16_t port,
                  void (*put)(void *opaque, uint8_t c), void *opaque)
{
    d->put = put;
    d->opaque = opaque;
    return port_bus_register(io, port, 1, "debugcon", &debugcon_ops, d);
}
