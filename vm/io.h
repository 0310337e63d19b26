/* The one handler shape shared by the port bus and the memory map: every
 * device register block, port or MMIO, is a read and a write callback on an
 * opaque pointer, addressed by the offset from the start of its range. */
#ifndef VM_IO_H
#define VM_IO_H

#include <stdint.h>

struct io_ops {
    /* size is 1, 2, 4 or 8 bytes; return the value zero-extended */
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
};

#endif
