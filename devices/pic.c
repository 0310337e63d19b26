/* The 8259A pair as the Intel datasheet describes it: initialization words
 * ICW1-ICW4, mask (OCW1), EOI and rotation commands (OCW2), register reads,
 * poll and special mask mode (OCW3), edge or level inputs (ICW1 LTIM or the
 * PIIX ELCR), fully nested priority with rotation, special fully nested mode
 * for the cascade, automatic EOI and the spurious IRQ 7 / IRQ 15 vectors.
 * The slave's INT output drives the master's IR2 like any other input, so a
 * slave request that goes away before INTA gives the slave's IR7 vector with
 * the master's IR2 still in service, as on real hardware. */
#include "devices/pic.h"

#include <string.h>
#include "devices/byte_io.h"
#include "vm/log.h"

enum { MASTER, SLAVE };

/* ELCR bits that exist: IRQ 0, 1, 2, 8 and 13 are always edge-triggered */
static const uint8_t elcr_writable[2] = {0xf8, 0xde};

static uint8_t level_mask(const struct pic_chip_state *c)
{
    return c->ltim ? 0xff : c->elcr;
}

/* An input changed: an edge input latches a rising edge in IRR, a level
 * input's IRR bit follows the line */
static void chip_set_pin(struct pic_chip_state *c, int pin, bool level)
{
    uint8_t bit = 1u << pin;
    if (level) {
        if (!(c->pins & bit) || (level_mask(c) & bit))
            c->irr |= bit;
        c->pins |= bit;
    } else {
        c->pins &= ~bit;
        if (level_mask(c) & bit)
            c->irr &= ~bit;
    }
}

static bool cascade_on(const struct pic *p)
{
    const struct pic_chip_state *m = &p->s.chip[MASTER];
    return !m->single && (m->icw3 & (1u << PIC_CASCADE_IRQ));
}

/* In special fully nested mode the master's cascade input is not locked out
 * by its own in-service bit, so higher slave requests get through. */
static bool sfnm_cascade(const struct pic *p, int idx)
{
    return idx == MASTER && p->s.chip[MASTER].sfnm && cascade_on(p);
}

/* The input the chip would interrupt for now, or -1 */
static int chip_resolve(const struct pic_chip_state *c, bool sfnm_cascade)
{
    if (c->init_step)
        return -1;
    uint8_t pending = c->irr & ~c->imr;
    for (int i = 0; i < 8; i++) {
        int irq = (c->prio + i) & 7;
        uint8_t bit = 1u << irq;
        bool in_service = c->isr & bit;
        if (c->special_mask) {
            /* every unmasked level not itself in service may interrupt */
            if ((pending & bit) && !in_service)
                return irq;
            continue;
        }
        if (in_service && !(sfnm_cascade && irq == PIC_CASCADE_IRQ))
            return -1;
        if (pending & bit)
            return irq;
        if (in_service)
            return -1;
    }
    return -1;
}

static int chip_highest_isr(const struct pic_chip_state *c)
{
    for (int i = 0; i < 8; i++) {
        int irq = (c->prio + i) & 7;
        if (c->isr & (1u << irq))
            return irq;
    }
    return -1;
}

static void pic_update(struct pic *p)
{
    struct pic_chip_state *m = &p->s.chip[MASTER];
    chip_set_pin(m, PIC_CASCADE_IRQ,
                 chip_resolve(&p->s.chip[SLAVE], false) >= 0);
    int level = chip_resolve(m, sfnm_cascade(p, MASTER)) >= 0;
    if (level != p->intr_level) {
        p->intr_level = level;
        irq_set(&p->intr_out, level);
    }
}

/* Acknowledge input irq of chip idx (INTA or poll): in service unless AEOI,
 * and an edge request is consumed. */
static void pic_take(struct pic *p, int idx, int irq)
{
    struct pic_chip_state *c = &p->s.chip[idx];
    uint8_t bit = 1u << irq;
    if (c->aeoi) {
        if (c->rotate_aeoi)
            c->prio = (irq + 1) & 7;
    } else {
        c->isr |= bit;
    }
    if (!(level_mask(c) & bit))
        c->irr &= ~bit;
}

int pic_ack(struct pic *p)
{
    struct pic_chip_state *m = &p->s.chip[MASTER], *s = &p->s.chip[SLAVE];
    int vector;
    int irq = chip_resolve(m, sfnm_cascade(p, MASTER));
    if (irq < 0) {
        vector = m->vector_base | 7;
        log_msg(LOG_INT, "pic: spurious IRQ 7\n");
    } else if (irq == PIC_CASCADE_IRQ && cascade_on(p)) {
        pic_take(p, MASTER, irq);
        /* the slave's INT, if still high after this INTA, is a new edge */
        m->pins &= ~(1u << PIC_CASCADE_IRQ);
        int sirq = chip_resolve(s, false);
        if (s->single || (s->icw3 & 7) != PIC_CASCADE_IRQ) {
            vector = 0xff; /* no slave answers on the cascade: open bus */
            log_msg(LOG_GUEST_ERRORS, "pic: no slave with ID 2\n");
        } else if (sirq < 0) {
            vector = s->vector_base | 7;
            log_msg(LOG_INT, "pic: spurious IRQ 15\n");
        } else {
            pic_take(p, SLAVE, sirq);
            vector = s->vector_base | sirq;
        }
    } else {
        pic_take(p, MASTER, irq);
        vector = m->vector_base | irq;
    }
    pic_update(p);
    return vector;
}

bool pic_intr_pending(const struct pic *p)
{
    return p->intr_level != 0;
}

static void chip_icw1(struct pic_chip_state *c, uint8_t v)
{
    c->icw4_needed = v & 0x01;
    c->single = v & 0x02;
    c->ltim = v & 0x08;
    /* edge sense reset: an edge input needs a new rising edge */
    c->irr = c->pins & level_mask(c);
    c->isr = 0;
    c->imr = 0;
    c->prio = 0; /* IR7 lowest */
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->rotate_aeoi = false;
    if (!c->icw4_needed) {
        c->upm = false;
        c->aeoi = false;
        c->sfnm = false;
    }
    c->init_step = 2;
}

static void chip_ocw2(struct pic_chip_state *c, uint8_t v)
{
    int level = v & 7;
    int irq;
    switch (v >> 5) {
    case 0: /* rotate in AEOI mode: clear */
        c->rotate_aeoi = false;
        break;
    case 4: /* rotate in AEOI mode: set */
        c->rotate_aeoi = true;
        break;
    case 1: /* non-specific EOI */
    case 5: /* rotate on non-specific EOI */
        irq = chip_highest_isr(c);
        if (irq >= 0) {
            c->isr &= ~(1u << irq);
            if (v >> 5 == 5)
                c->prio = (irq + 1) & 7;
        }
        break;
    case 3: /* specific EOI */
    case 7: /* rotate on specific EOI */
        c->isr &= ~(1u << level);
        if (v >> 5 == 7)
            c->prio = (level + 1) & 7;
        break;
    case 6: /* set priority: level becomes the lowest */
        c->prio = (level + 1) & 7;
        break;
    default: /* 2: no operation */
        break;
    }
}

static void chip_ocw3(struct pic_chip_state *c, uint8_t v)
{
    if (v & 0x04)
        c->poll = true;
    if (v & 0x02)
        c->read_isr = v & 0x01;
    if (v & 0x40)
        c->special_mask = v & 0x20;
}

static void chip_write_data(struct pic_chip_state *c, uint8_t v)
{
    switch (c->init_step) {
    case 2:
        c->vector_base = v & 0xf8;
        c->init_step = !c->single ? 3 : c->icw4_needed ? 4 : 0;
        break;
    case 3:
        c->icw3 = v;
        c->init_step = c->icw4_needed ? 4 : 0;
        break;
    case 4:
        c->upm = v & 0x01;
        c->aeoi = v & 0x02;
        c->sfnm = v & 0x10;
        c->init_step = 0;
        break;
    default:
        c->imr = v;
        return;
    }
    if (c->init_step == 0 && !c->upm)
        log_msg_rl(LOG_UNIMP, "pic: 8080 mode not supported, using 8086\n");
}

static uint8_t pic_poll(struct pic *p, int idx)
{
    int irq = chip_resolve(&p->s.chip[idx], sfnm_cascade(p, idx));
    if (irq < 0)
        return 0;
    pic_take(p, idx, irq);
    pic_update(p);
    return 0x80 | irq;
}

static uint8_t pic_read_byte(void *opaque, unsigned offset)
{
    struct pic_port *port = opaque;
    struct pic_chip_state *c = &port->pic->s.chip[port->idx];
    if (c->poll) {
        c->poll = false;
        return pic_poll(port->pic, port->idx);
    }
    if (offset == 0)
        return c->read_isr ? c->isr : c->irr;
    return c->imr;
}

static void pic_write_byte(void *opaque, unsigned offset, uint8_t v)
{
    struct pic_port *port = opaque;
    struct pic_chip_state *c = &port->pic->s.chip[port->idx];
    if (offset == 1)
        chip_write_data(c, v);
    else if (v & 0x10)
        chip_icw1(c, v);
    else if (v & 0x08)
        chip_ocw3(c, v);
    else
        chip_ocw2(c, v);
    pic_update(port->pic);
}

static uint64_t pic_io_read(void *opaque, uint64_t offset, unsigned size)
{
    return byte_io_read(pic_read_byte, opaque, offset, size, 2);
}

static void pic_io_write(void *opaque, uint64_t offset, uint64_t value,
                         unsigned size)
{
    byte_io_write(pic_write_byte, opaque, offset, value, size, 2);
}

static const struct io_ops pic_ops = {pic_io_read, pic_io_write};

static uint8_t elcr_read_byte(void *opaque, unsigned offset)
{
    struct pic *p = opaque;
    return p->s.chip[offset].elcr;
}

static void elcr_write_byte(void *opaque, unsigned offset, uint8_t v)
{
    struct pic *p = opaque;
    struct pic_chip_state *c = &p->s.chip[offset];
    c->elcr = v & elcr_writable[offset];
    /* inputs now level-triggered request while their line is high */
    c->irr = (c->irr & ~level_mask(c)) | (c->pins & level_mask(c));
    pic_update(p);
}

static uint64_t elcr_io_read(void *opaque, uint64_t offset, unsigned size)
{
    return byte_io_read(elcr_read_byte, opaque, offset, size, 2);
}

static void elcr_io_write(void *opaque, uint64_t offset, uint64_t value,
                          unsigned size)
{
    byte_io_write(elcr_write_byte, opaque, offset, value, size, 2);
}

static const struct io_ops elcr_ops = {elcr_io_read, elcr_io_write};

static void pic_set_input(void *opaque, int irq, int level)
{
    struct pic *p = opaque;
    if (irq < 0 || irq > 15 || irq == PIC_CASCADE_IRQ)
        return;
    chip_set_pin(&p->s.chip[irq >> 3], irq & 7, level != 0);
    pic_update(p);
}

struct irq_line pic_irq(struct pic *p, int irq)
{
    if (irq < 0 || irq > 15 || irq == PIC_CASCADE_IRQ)
        return (struct irq_line){0};
    return (struct irq_line){pic_set_input, p, irq};
}

void pic_reset(struct pic *p)
{
    for (int i = 0; i < 2; i++) {
        uint8_t pins = p->s.chip[i].pins; /* the wires keep their levels */
        memset(&p->s.chip[i], 0, sizeof(p->s.chip[i]));
        p->s.chip[i].pins = pins & ~(i == MASTER ? 1u << PIC_CASCADE_IRQ : 0);
        p->s.chip[i].upm = true;
    }
    pic_update(p);
}

void pic_post_load(struct pic *p)
{
    int level = chip_resolve(&p->s.chip[MASTER],
                             sfnm_cascade(p, MASTER)) >= 0;
    p->intr_level = level;
    irq_set(&p->intr_out, level);
}

int pic_init(struct pic *p, struct port_bus *io, struct irq_line intr_out)
{
    memset(p, 0, sizeof(*p));
    p->intr_out = intr_out;
    p->port[MASTER] = (struct pic_port){p, MASTER};
    p->port[SLAVE] = (struct pic_port){p, SLAVE};
    int r = port_bus_register(io, 0x20, 2, "pic-master", &pic_ops,
                              &p->port[MASTER]);
    if (!r)
        r = port_bus_register(io, 0xa0, 2, "pic-slave", &pic_ops,
                              &p->port[SLAVE]);
    if (!r)
        r = port_bus_register(io, 0x4d0, 2, "elcr", &elcr_ops, p);
    if (r)
        return r;
    pic_reset(p);
    return 0;
}
