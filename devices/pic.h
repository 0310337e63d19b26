/* The PC's pair of 8259A programmable interrupt controllers: the master at
 * ports 0x20-0x21, the slave at 0xA0-0xA1 cascaded into the master's IR2,
 * and the PIIX edge/level control registers (ELCR) at 0x4D0-0x4D1. Devices
 * drive the sixteen inputs through pic_irq() lines; the master's INT output
 * is an irq_line to the CPU side (the LAPIC's LINT0 or the vCPU link), which
 * runs the INTA cycle with pic_ack(). All mutable state is plain data in
 * struct pic_state so that snapshots can save it. */
#ifndef DEVICES_PIC_H
#define DEVICES_PIC_H

#include <stdbool.h>
#include <stdint.h>
#include "vm/irq.h"
#include "vm/port_bus.h"

#define PIC_CASCADE_IRQ 2

/* One 8259A */
struct pic_chip_state {
    uint8_t irr, isr, imr;
    uint8_t pins;        /* input levels as last driven */
    uint8_t elcr;        /* level-triggered inputs (ELCR) */
    uint8_t vector_base; /* ICW2 & 0xf8 */
    uint8_t icw3;        /* master: inputs with slaves; slave: its ID */
    uint8_t init_step;   /* 0 ready; else the ICW (2, 3 or 4) awaited */
    uint8_t prio;        /* the input with the highest priority */
    bool icw4_needed, single, ltim;
    bool upm;            /* ICW4 bit 0: 8086 mode */
    bool aeoi, sfnm, rotate_aeoi;
    bool special_mask;
    bool read_isr;       /* OCW3 RR/RIS: port A0=0 reads ISR, else IRR */
    bool poll;           /* the next read is a poll */
};

struct pic_state {
    struct pic_chip_state chip[2]; /* [0] master, [1] slave */
};

struct pic;
struct pic_port { /* the opaque of one chip's port range */
    struct pic *pic;
    int idx;
};

struct pic {
    struct pic_state s;
    struct irq_line intr_out;
    int intr_level; /* level last driven on intr_out */
    struct pic_port port[2];
};

/* Claim the ports and start in the reset state. 0 or -errno. */
int pic_init(struct pic *p, struct port_bus *io, struct irq_line intr_out);
/* Power-on state: not initialized, nothing pending or in service */
void pic_reset(struct pic *p);
/* After p->s was restored from a snapshot: drive INT from the state */
void pic_post_load(struct pic *p);
/* Input line for IRQ 0..15. IRQ 2 is the cascade and ignores its line (ISA
 * IRQ2 is wired to IRQ 9 on the PC). Other numbers give a dead line. */
struct irq_line pic_irq(struct pic *p, int irq);
/* The INTA cycle: the vector of the highest-priority request, with cascade,
 * AEOI and spurious IRQ 7/15 handled as the 8259A does. */
int pic_ack(struct pic *p);
/* The master's INT output: a request the CPU should take */
bool pic_intr_pending(const struct pic *p);

#endif
