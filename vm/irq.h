/* IRQ lines: all a device knows of interrupts. A line is a callback into the
 * receiver (an interrupt controller input or a router fanning out to several)
 * with a pin number; devices call irq_set() with the new level. */
#ifndef VM_IRQ_H
#define VM_IRQ_H

#include <stddef.h>

struct irq_line {
    void (*handler)(void *opaque, int pin, int level);
    void *opaque;
    int pin;
};

static inline void irq_set(const struct irq_line *line, int level)
{
    if (line && line->handler)
        line->handler(line->opaque, line->pin, level);
}

static inline void irq_raise(const struct irq_line *line) { irq_set(line, 1); }
static inline void irq_lower(const struct irq_line *line) { irq_set(line, 0); }
/* An edge: raise then lower */
static inline void irq_pulse(const struct irq_line *line)
{
    irq_set(line, 1);
    irq_set(line, 0);
}

#endif
