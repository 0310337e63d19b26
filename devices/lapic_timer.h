/* The local APIC timer (devices/lapic_timer.c), split from lapic.c: the
 * count registers, the divider, one-shot/periodic/TSC-deadline expiry on a
 * vtimer. Only lapic.c calls these. */
#ifndef DEVICES_LAPIC_TIMER_H
#define DEVICES_LAPIC_TIMER_H

#include <stdint.h>
#include "devices/lapic.h"

void lapic_timer_init(struct lapic *s);
void lapic_timer_stop(struct lapic *s);     /* reset: everything to zero */
void lapic_timer_post_load(struct lapic *s); /* re-arm from s->st */
uint32_t lapic_timer_current(struct lapic *s);
void lapic_timer_write_initial(struct lapic *s, uint32_t count);
void lapic_timer_write_divide(struct lapic *s, uint32_t dcr);
/* The LVT timer register changes from old to s->st.lvt[LAPIC_LVT_TIMER] */
void lapic_timer_lvt_changed(struct lapic *s, uint32_t old);
uint64_t lapic_timer_read_deadline(struct lapic *s);
void lapic_timer_write_deadline(struct lapic *s, uint64_t tsc);

/* Provided by lapic.c: raise the interrupt an LVT entry describes */
void lapic_local_interrupt(struct lapic *s, enum lapic_lvt which);

#endif
