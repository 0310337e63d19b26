/* QEMU's isa-debug-exit: a write of V to any port of its range leaves the
 * emulator with status (V << 1) | 1, so test guests report pass or fail.
 * QEMU's default range is 0x501 size 2; test setups usually give
 * iobase=0xf4,iosize=4. Reads return 0. */
#ifndef DEVICES_DEBUG_EXIT_H
#define DEVICES_DEBUG_EXIT_H

#include <stdint.h>
#include "vm/port_bus.h"

#define DEBUG_EXIT_DEFAULT_BASE 0x501
#define DEBUG_EXIT_DEFAULT_SIZE 2

/* Claim [iobase, iobase + iosize). 0 or -errno (-EINVAL for size 0 or a
 * range past 0xffff, -EBUSY if taken). */
int debug_exit_init(struct port_bus *io, uint16_t iobase, uint16_t iosize);

#endif
