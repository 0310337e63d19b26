/* The 8254 programmable interval timer at ports 0x40-0x43: three counters
 * on a 1.193182 MHz clock derived from the virtual clock. Counter 0's OUT
 * drives IRQ 0, counter 1 is the DRAM refresh timer (no output wired),
 * counter 2 feeds the speaker and is gated and read back through port 0x61
 * (devices/port61.c). Counts are computed from the clock when read; a vtimer
 * is armed only for counter 0's next OUT change. All mutable state is plain
 * data in struct pit_state (ticks are absolute PIT clock pulses since the
 * virtual clock's zero) so that snapshots can save it. */
#ifndef DEVICES_PIT_H
#define DEVICES_PIT_H

#include <stdbool.h>
#include <stdint.h>
#include "vm/clock.h"
#include "vm/irq.h"
#include "vm/port_bus.h"

#define PIT_HZ 1193182

struct pit_channel_state {
    uint8_t mode;       /* 0-5 */
    uint8_t rw;         /* 1 LSB only, 2 MSB only, 3 LSB then MSB */
    bool bcd;
    bool write_msb;     /* rw 3: the next count byte written is the MSB */
    bool read_msb;      /* rw 3: the next count byte read is the MSB */
    uint8_t lsb;        /* rw 3: the LSB written, waiting for the MSB */
    uint16_t cr;        /* count register */
    bool cr_valid;      /* a count was written since the control word */
    bool gate;
    bool count_latched, latch_msb;
    uint16_t latch;
    bool status_latched;
    uint8_t status;
    int64_t null_clear_tick; /* null count reads 1 before this pulse */
    /* The counting element: while running, at pulse t it has counted
     * p = t - load_tick pulses of a cycle of `count` pulses. */
    bool armed;         /* modes 0/4: a count is loaded (gate may hold it) */
    bool running;
    int64_t load_tick;
    uint32_t count;     /* 1..65536, or BCD 1..10000 */
    uint32_t hold;      /* binary CE value while not running or before load */
    bool tc_done;       /* modes 0/4: terminal count already reached */
    bool pending;       /* modes 2/3: a new count starts at pending_tick */
    int64_t pending_tick, pending_load_tick;
    uint32_t pending_count;
    int64_t synced_tick; /* `out` is the OUT level at this pulse */
    bool out;
};

struct pit_state {
    struct pit_channel_state ch[3];
};

struct pit {
    struct pit_state s;
    struct vclock *clock;
    struct irq_line irq0;
    struct vtimer timer; /* counter 0's next OUT change */
};

/* Claim ports 0x40-0x43; irq0 receives counter 0's OUT. 0 or -errno. */
int pit_init(struct pit *pit, struct port_bus *io, struct vclock *clock,
             struct irq_line irq0);
/* Power-on state: no counter programmed, every OUT low */
void pit_reset(struct pit *pit);
/* After pit->s was restored from a snapshot: re-drive IRQ 0 with counter
 * 0's OUT and re-arm its timer */
void pit_post_load(struct pit *pit);
/* Gate input of counter ch (counters 0 and 1 are tied high on the PC) */
void pit_set_gate(struct pit *pit, int ch, bool level);
/* OUT level of counter ch now */
bool pit_out(struct pit *pit, int ch);

#endif
