/* The I/O port bus: a table of 64 Ki slots pointing at the registered
 * ranges, so dispatch is one array load. */
#include "vm/port_bus.h"

#include <errno.h>
#include <stdlib.h>
#include "vm/log.h"

struct port_range {
    uint16_t base;
    uint32_t len;
    const char *name;
    const struct io_ops *ops;
    void *opaque;
};

struct port_bus {
    struct port_range *slot[65536];
};

struct port_bus *port_bus_new(void)
{
    return calloc(1, sizeof(struct port_bus));
}

void port_bus_free(struct port_bus *bus)
{
    if (!bus)
        return;
    for (uint32_t p = 0; p < 65536; p++) {
        struct port_range *r = bus->slot[p];
        if (r && r->base == p) {
            p += r->len - 1; /* its other slots point at it too */
            free(r);
        }
    }
    free(bus);
}

int port_bus_register(struct port_bus *bus, uint16_t base, uint32_t len,
                      const char *name, const struct io_ops *ops, void *opaque)
{
    if (len == 0 || base + len > 65536)
        return -EINVAL;
    for (uint32_t p = base; p < base + len; p++)
        if (bus->slot[p])
            return -EBUSY;
    struct port_range *r = malloc(sizeof(*r));
    if (!r)
        return -ENOMEM;
    *r = (struct port_range){base, len, name, ops, opaque};
    for (uint32_t p = base; p < base + len; p++)
        bus->slot[p] = r;
    return 0;
}

void port_bus_unregister(struct port_bus *bus, uint16_t base)
{
    struct port_range *r = bus->slot[base];
    if (!r || r->base != base)
        return;
    for (uint32_t p = base; p < base + r->len; p++)
        bus->slot[p] = NULL;
    free(r);
}

const char *port_bus_owner(struct port_bus *bus, uint16_t port)
{
    return bus->slot[port] ? bus->slot[port]->name : NULL;
}

static const uint32_t size_mask[5] = {0, 0xff, 0xffff, 0xffffff, 0xffffffff};

uint32_t port_read(struct port_bus *bus, uint16_t port, unsigned size)
{
    struct port_range *r = bus->slot[port];
    uint32_t v;
    if (!r || !r->ops->read) {
        log_msg_rl(LOG_UNIMP, "unclaimed port read 0x%04x size %u\n", port,
                   size);
        v = size_mask[size];
    } else {
        v = (uint32_t)r->ops->read(r->opaque, port - r->base, size) &
            size_mask[size];
    }
    log_msg(LOG_IO, "in  0x%04x/%u -> 0x%x (%s)\n", port, size, v,
            r ? r->name : "none");
    return v;
}

void port_write(struct port_bus *bus, uint16_t port, uint32_t value,
                unsigned size)
{
    struct port_range *r = bus->slot[port];
    value &= size_mask[size];
    log_msg(LOG_IO, "out 0x%04x/%u <- 0x%x (%s)\n", port, size, value,
            r ? r->name : "none");
    if (!r || !r->ops->write) {
        log_msg_rl(LOG_UNIMP, "unclaimed port write 0x%04x size %u value 0x%x\n",
                   port, size, value);
        return;
    }
    r->ops->write(r->opaque, port - r->base, value, size);
}
