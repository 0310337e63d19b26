/* The I/O port bus: 64 Ki ports, each range claimed by one named handler.
 * Every backend (interpreter, JIT slow path, KVM exit) calls port_read and
 * port_write. Unclaimed reads give all ones; unclaimed writes are dropped and
 * logged under "unimp". */
#ifndef VM_PORT_BUS_H
#define VM_PORT_BUS_H

#include <stdint.h>
#include "vm/io.h"

struct port_bus;

struct port_bus *port_bus_new(void);
void port_bus_free(struct port_bus *bus);

/* Claim [base, base+len). Returns 0, or -EBUSY if any port is taken. */
int port_bus_register(struct port_bus *bus, uint16_t base, uint32_t len,
                      const char *name, const struct io_ops *ops, void *opaque);
/* Release the range that starts at base (for relocatable BARs). */
void port_bus_unregister(struct port_bus *bus, uint16_t base);

uint32_t port_read(struct port_bus *bus, uint16_t port, unsigned size);
void port_write(struct port_bus *bus, uint16_t port, uint32_t value,
                unsigned size);

/* Name of the handler owning a port, or NULL (for the monitor and tests) */
const char *port_bus_owner(struct port_bus *bus, uint16_t port);

#endif
