/* Port 0x92: fast A20 and fast reset. Every write sets A20 from bit 1, so
 * that a read-modify-write after the keyboard controller moved A20 still
 * means what the guest wrote. */
#include "devices/port92.h"

#include "devices/byte_io.h"
#include "vm/runstate.h"

static uint8_t port92_read_byte(void *opaque, unsigned offset)
{
    struct port92 *d = opaque;
    return d->reg;
}

static void port92_write_byte(void *opaque, unsigned offset, uint8_t v)
{
    struct port92 *d = opaque;
    uint8_t old = d->reg;
    d->reg = v;
    mem_map_set_a20(d->mem, v & 0x02);
    if ((v & 0x01) && !(old & 0x01))
        vm_request(VM_REQ_RESET, "port 0x92 fast reset");
}

static uint64_t port92_read(void *opaque, uint64_t offset, unsigned size)
{
    return byte_io_read(port92_read_byte, opaque, offset, size, 1);
}

static void port92_write(void *opaque, uint64_t offset, uint64_t value,
                         unsigned size)
{
    byte_io_write(port92_write_byte, opaque, offset, value, size, 1);
}

static const struct io_ops port92_ops = {port92_read, port92_write};

void port92_reset(struct port92 *d)
{
    d->reg = mem_map_a20(d->mem) ? 0x02 : 0x00;
}

int port92_init(struct port92 *d, struct port_bus *io, struct mem_map *mem)
{
    d->mem = mem;
    port92_reset(d);
    return port_bus_register(io, 0x92, 1, "port92", &port92_ops, d);
}
