/* PCI bus 0 behind configuration mechanism #1 (ports 0xCF8 and 0xCFC-0xCFF):
 * up to 32 devices x 8 functions, each with a 256-byte configuration space,
 * per-byte write masks and write-1-to-clear masks, a generic BAR model that
 * maps I/O BARs on the port bus and memory BARs on the memory map while the
 * command register enables them, and INTx delivery through a router that the
 * ISA bridge (devices/piix3.c) installs. Devices embed a struct pci_device and
 * fill it with pci_device_init() and pci_register_bar(). */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include "vm/io.h"
#include "vm/memory.h"
#include "vm/port_bus.h"

#define PCI_CONFIG_ADDR_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT 0xcfc
#define PCI_CONFIG_ENABLE 0x80000000u

#define PCI_SLOTS 32
#define PCI_FUNCS 8
#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot) << 3) | (fn)))
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn) & 7)

/* Configuration header offsets and bits */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_PARITY 0x0040
#define PCI_COMMAND_SERR 0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS 0x06
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_DEVSEL_MEDIUM 0x0200
#define PCI_STATUS_W1C 0xf900 /* parity, SERR, aborts, data parity */
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_MULTI 0x80
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_ROM_ADDRESS_ENABLE 0x1
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CONFIG_HEADER_SIZE 0x40
#define PCI_CONFIG_SPACE_SIZE 0x100

#define PCI_BAR_SPACE_IO 0x1
#define PCI_BAR_MEM_TYPE_64 0x4
#define PCI_BAR_MEM_PREFETCH 0x8

#define PCI_NUM_BARS 6
#define PCI_ROM_SLOT 6 /* the expansion ROM BAR at 0x30 as bar[6] */

/* Memory BARs sit below RAM where they overlap it, as on QEMU's PC */
#define PCI_BAR_MEM_PRIORITY (-1)

enum pci_bar_type {
    PCI_BAR_NONE = 0,
    PCI_BAR_IO,
    PCI_BAR_MEM32,
    PCI_BAR_MEM64, /* uses this BAR slot and the next one */
    PCI_BAR_ROM,   /* only in PCI_ROM_SLOT */
};

/* One BAR's fixed description (set by the device) and where it is mapped
 * now (derived from the configuration space by pci_update_mappings()). */
struct pci_bar {
    enum pci_bar_type type;
    uint64_t size;             /* power of two */
    const struct io_ops *ops;  /* I/O and MMIO BARs */
    void *opaque;
    uint8_t *host;             /* RAM-backed memory BARs and ROM BARs */
    bool mapped;
    uint64_t addr;             /* valid while mapped */
    struct mem_region *region; /* memory BARs once first mapped */
};

/* Mutable state of a function: plain data, what a snapshot saves */
struct pci_device_state {
    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    uint8_t irq_level;    /* INTx level the function drives */
    uint8_t intx_routed;  /* level last passed to the router */
};

struct pci_bus;

struct pci_device {
    struct pci_device_state s;
    uint8_t wmask[PCI_CONFIG_SPACE_SIZE];  /* 1 = guest-writable bit */
    uint8_t w1cmask[PCI_CONFIG_SPACE_SIZE]; /* 1 = write-1-to-clear bit */
    struct pci_bar bar[PCI_NUM_BARS + 1];
    const char *name;
    struct pci_bus *bus;
    uint8_t devfn;
    /* Optional: called after a guest write of size bytes at addr landed in
     * s.config; old holds the previous value of those bytes. */
    void (*config_written)(struct pci_device *d, unsigned addr, unsigned size,
                           uint32_t old);
    void *opaque; /* for the owning device */
};

/* Receives every change of a function's routed INTx level; intx is 0 for
 * INTA# .. 3 for INTD#. */
typedef void pci_intx_router(void *opaque, uint8_t devfn, int intx,
                             int level);

/* Mutable state of the bus: plain data, what a snapshot saves */
struct pci_bus_state {
    uint32_t config_address;
};

struct pci_bus {
    struct pci_bus_state s;
    struct pci_device *dev[PCI_SLOTS * PCI_FUNCS];
    struct port_bus *io;
    struct mem_map *mem;
    pci_intx_router *router;
    void *router_opaque;
};

/* Claims 0xCF8 (dword) and 0xCFC-0xCFF on io. 0 or -errno. */
int pci_bus_init(struct pci_bus *bus, struct port_bus *io, struct mem_map *mem);
void pci_bus_set_router(struct pci_bus *bus, pci_intx_router *router,
                        void *opaque);
/* Power-on state of the bus's own register (functions reset themselves) */
void pci_bus_reset(struct pci_bus *bus);

/* Fill d's header with the IDs and the default masks (command, cache line,
 * latency, interrupt line and the device-specific area 0x40-0xFF writable).
 * header_type gets PCI_HEADER_TYPE_MULTI for function 0 of a multifunction
 * device. */
void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor,
                     uint16_t device, uint8_t revision, uint32_t class_code,
                     uint8_t header_type);
/* Power-on state of the generic header: decoding off (BARs unmapped), BARs,
 * ROM address, interrupt line, cache line, latency and error bits cleared,
 * INTx deasserted. The device then resets its own registers. */
void pci_device_reset(struct pci_device *d);
/* Put d at devfn; 0, or -EBUSY if taken */
int pci_bus_add(struct pci_bus *bus, struct pci_device *d, uint8_t devfn);

/* Describe BAR n. I/O and MMIO BARs dispatch to ops/opaque with offsets from
 * the BAR's start; host (ops NULL) maps RAM for memory BARs, ROM for the
 * expansion ROM slot. size must be a power of two (at least 4 for I/O, 16
 * for memory, 2 KiB for the ROM). A prefetchable memory BAR: OR
 * PCI_BAR_MEM_PREFETCH into the BAR register afterwards (a read-only bit). */
void pci_register_bar(struct pci_device *d, int n, enum pci_bar_type type,
                      uint64_t size, const struct io_ops *ops, void *opaque,
                      uint8_t *host);

/* Configuration access as the guest makes it (masks, W1C, side effects).
 * addr + size must stay inside the 256 bytes. */
uint32_t pci_config_read(struct pci_device *d, unsigned addr, unsigned size);
void pci_config_write(struct pci_device *d, unsigned addr, uint32_t value,
                      unsigned size);

/* Map or unmap every BAR to match the command register and BAR values (also
 * used after a snapshot restore) */
void pci_update_mappings(struct pci_device *d);
/* Current address of BAR n, or UINT64_MAX when it is not mapped */
uint64_t pci_bar_address(const struct pci_device *d, int n);

/* The function drives its INTx# pin (the one in PCI_INTERRUPT_PIN) */
void pci_set_irq(struct pci_device *d, int level);

/* Little-endian helpers on a config array */
static inline void pci_set_word(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void pci_set_long(uint8_t *p, uint32_t v)
{
    pci_set_word(p, (uint16_t)v);
    pci_set_word(p + 2, (uint16_t)(v >> 16));
}
static inline uint16_t pci_get_word(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t pci_get_long(const uint8_t *p)
{
    return pci_get_word(p) | (uint32_t)pci_get_word(p + 2) << 16;
}

#endif
