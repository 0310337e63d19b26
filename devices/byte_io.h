/* Byte-wide register blocks (8-bit ISA devices such as the PIC and PIT)
 * under the bus's any-size handler shape: a 16- or 32-bit access is split
 * into byte accesses at consecutive offsets, as the ISA bus does. Bytes that
 * fall past the device's block read as all ones and their writes are
 * dropped. */
#ifndef DEVICES_BYTE_IO_H
#define DEVICES_BYTE_IO_H

#include <stdint.h>

typedef uint8_t (*byte_read_fn)(void *opaque, unsigned offset);
typedef void (*byte_write_fn)(void *opaque, unsigned offset, uint8_t value);

static inline uint64_t byte_io_read(byte_read_fn rd, void *opaque,
                                    uint64_t offset, unsigned size,
                                    unsigned len)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t b = offset + i < len ? rd(opaque, (unsigned)offset + i) : 0xff;
        v |= b << (8 * i);
    }
    return v;
}

static inline void byte_io_write(byte_write_fn wr, void *opaque,
                                 uint64_t offset, uint64_t value,
                                 unsigned size, unsigned len)
{
    for (unsigned i = 0; i < size && offset + i < len; i++)
        wr(opaque, (unsigned)offset + i, (uint8_t)(value >> (8 * i)));
}

#endif
