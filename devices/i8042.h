/* The i8042 keyboard controller at ports 0x60 (data) and 0x64 (status and
 * command) with a PS/2 keyboard on its first port and a PS/2 mouse on the
 * auxiliary port. The output port drives A20 (through the memory map) and
 * the system reset line. IRQ1 and IRQ12 follow the output buffer as on a
 * PC. */
#ifndef DEVICES_I8042_H
#define DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/ps2_kbd.h"
#include "devices/ps2_mouse.h"
#include "vm/irq.h"
#include "vm/memory.h"
#include "vm/port_bus.h"

/* Everything the guest can change; plain data for snapshots */
struct i8042_state {
    uint8_t ram[32];     /* controller RAM; byte 0 is the command byte */
    uint8_t status;      /* status register without the SYS bit */
    uint8_t out;         /* output buffer */
    uint8_t pending_cmd; /* command waiting for its data byte, or 0 */
    uint8_t outport;
    bool xlat_release;   /* translation swallowed an F0 prefix */
    bool irq_kbd_level, irq_aux_level;
};

struct i8042 {
    struct i8042_state s;
    struct ps2_kbd kbd;  /* the UI calls ps2_kbd_key(&c->kbd, ...) */
    struct ps2_mouse mouse; /* and ps2_mouse_event(&c->mouse, ...) */
    struct irq_line irq_kbd, irq_aux;
    struct mem_map *mem;
};

/* Claim ports 0x60 and 0x64. Returns 0 or -errno. */
int i8042_init(struct i8042 *c, struct port_bus *bus, struct mem_map *mem,
               struct irq_line irq_kbd, struct irq_line irq_aux);
/* Controller and keyboard to their power-on state, A20 enabled */
void i8042_reset(struct i8042 *c);

#endif
