/* The I/O APIC (82093AA style, version 0x20 with the EOI register): 24
 * input pins, each with a redirection entry that turns an edge or a level on
 * the pin into a message on the APIC bus. The board fans ISA and PCI IRQs
 * into the pins (ISA IRQ0 on pin 2, as the MADT override says). Guest state
 * is in struct ioapic_state for snapshots. */
#ifndef DEVICES_IOAPIC_H
#define DEVICES_IOAPIC_H

#include <stdint.h>
#include "devices/apic_bus.h"
#include "vm/irq.h"
#include "vm/memory.h"

#define IOAPIC_DEFAULT_BASE 0xFEC00000ULL
#define IOAPIC_MMIO_SIZE 0x1000
#define IOAPIC_MMIO_PRIORITY 10
#define IOAPIC_NUM_PINS 24
#define IOAPIC_VERSION 0x20

/* MMIO offsets */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_EOI 0x40

/* Indirect registers */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDIR 0x10 /* pin n: low 0x10 + 2n, high 0x11 + 2n */

/* Redirection entry bits */
#define IOAPIC_RTE_DEST_LOGICAL (1ULL << 11)
#define IOAPIC_RTE_PENDING (1ULL << 12)
#define IOAPIC_RTE_LOW_ACTIVE (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ULL << 14)
#define IOAPIC_RTE_LEVEL (1ULL << 15)
#define IOAPIC_RTE_MASKED (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT 56

struct ioapic_state {
    uint8_t id;     /* bits 27:24 of the ID register */
    uint8_t regsel; /* IOREGSEL */
    uint32_t pin_level; /* the input wires, one bit per pin */
    uint64_t redir[IOAPIC_NUM_PINS];
};

struct ioapic {
    struct ioapic_state st;
    struct apic_bus *bus;
    struct mem_region *mmio;
    struct irq_line pin[IOAPIC_NUM_PINS];
};

/* Map it at base with APIC ID id, listen for EOIs on bus. 0 or -errno. */
int ioapic_init(struct ioapic *s, struct apic_bus *bus, struct mem_map *mem,
                uint64_t base, uint8_t id);
void ioapic_reset(struct ioapic *s);
/* Input pin n (0..23) */
const struct irq_line *ioapic_pin(struct ioapic *s, int n);

#endif
