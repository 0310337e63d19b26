/* isa-debug-exit: turns a guest port write into an exit request. */
#include "devices/debug_exit.h"

#include <stddef.h>
#include "vm/runstate.h"

static uint64_t debug_exit_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0;
}

static void debug_exit_write(void *opaque, uint64_t offset, uint64_t value,
                             unsigned size)
{
    vm_request_exit((int)(((uint32_t)value << 1) | 1), "isa-debug-exit");
}

static const struct io_ops debug_exit_ops = {debug_exit_read,
                                             debug_exit_write};

int debug_exit_init(struct port_bus *io, uint16_t iobase, uint16_t iosize)
{
    return port_bus_register(io, iobase, iosize, "isa-debug-exit",
                             &debug_exit_ops, NULL);
}
