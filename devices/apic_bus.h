/* The APIC bus: the interrupt messages the I/O APIC and the local APICs' ICRs
 * send, delivered to every local APIC whose destination matches. Each vCPU's
 * local APIC attaches here; I/O APICs listen for the EOI broadcast of
 * level-triggered vectors. The bus holds only wiring, no guest state. */
#ifndef DEVICES_APIC_BUS_H
#define DEVICES_APIC_BUS_H

#include <stdbool.h>
#include <stdint.h>

#define APIC_BUS_MAX_CPUS 32
#define APIC_BUS_MAX_EOI 4

struct lapic;

/* Delivery modes, as encoded in the ICR, the LVT and redirection entries */
enum apic_delivery {
    APIC_DM_FIXED = 0,
    APIC_DM_LOWEST = 1,
    APIC_DM_SMI = 2,
    APIC_DM_NMI = 4,
    APIC_DM_INIT = 5,
    APIC_DM_STARTUP = 6,
    APIC_DM_EXTINT = 7,
};

/* ICR destination shorthands */
enum apic_shorthand {
    APIC_SH_NONE = 0,
    APIC_SH_SELF = 1,
    APIC_SH_ALL = 2,    /* all including self */
    APIC_SH_OTHERS = 3, /* all excluding self */
};

struct apic_msg {
    uint8_t vector;
    uint8_t delivery;  /* enum apic_delivery */
    uint8_t dest;      /* physical APIC ID or logical MDA; 0xFF broadcast */
    uint8_t shorthand; /* enum apic_shorthand */
    bool logical;      /* destination mode */
    bool level;        /* trigger mode: level */
    bool assert;       /* level: assert (INIT de-assert has it clear) */
};

struct apic_bus_eoi_listener {
    void (*eoi)(void *opaque, uint8_t vector);
    void *opaque;
};

struct apic_bus {
    struct lapic *cpu[APIC_BUS_MAX_CPUS];
    int ncpus;
    struct apic_bus_eoi_listener eoi[APIC_BUS_MAX_EOI];
    int neoi;
};

void apic_bus_init(struct apic_bus *b);
/* 0, or -ENOSPC when the bus is full */
int apic_bus_attach(struct apic_bus *b, struct lapic *l);
int apic_bus_add_eoi_listener(struct apic_bus *b,
                              void (*eoi)(void *opaque, uint8_t vector),
                              void *opaque);

/* Deliver a message from src (the sending local APIC, NULL for an I/O APIC,
 * which uses no shorthand). Returns how many local APICs it reached. */
int apic_bus_send(struct apic_bus *b, const struct apic_msg *m,
                  struct lapic *src);
/* A local APIC's EOI for a level-triggered vector, to every I/O APIC */
void apic_bus_eoi(struct apic_bus *b, uint8_t vector);

#endif
