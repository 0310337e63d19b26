/* A PS/2 keyboard as the i8042 sees it: bytes from the host are commands
 * (reset, identify, LEDs, scan code set, typematic, enable/disable, echo,
 * resend), bytes to the host wait in a 16-byte queue. The UI reports keys
 * with Linux input event codes (KEY_A = 30, KEY_ENTER = 28, KEY_LEFT = 105
 * ..., as in <linux/input-event-codes.h>); the keyboard sends them in scan
 * code set 2, or set 1 when the host selected it. Typematic repeat is left to
 * the UI, which repeats key presses itself. */
#ifndef DEVICES_PS2_KBD_H
#define DEVICES_PS2_KBD_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/ps2_queue.h"

/* Everything the host can change; plain data for snapshots */
struct ps2_kbd_state {
    struct ps2_queue queue;
    uint8_t param_cmd;    /* command waiting for its parameter byte, or 0 */
    uint8_t scancode_set; /* 1 or 2 */
    uint8_t leds, typematic;
    bool scanning;
    bool overrun;         /* an overrun code is queued */
    uint8_t last_sent;    /* for the resend command */
};

struct ps2_kbd {
    struct ps2_kbd_state s;
    void (*notify)(void *opaque); /* bytes were queued */
    void *opaque;
};

void ps2_kbd_init(struct ps2_kbd *k, void (*notify)(void *opaque),
                  void *opaque);
/* Power-on state: set 2, scanning, queue empty */
void ps2_kbd_reset(struct ps2_kbd *k);

/* A byte from the host (controller) */
void ps2_kbd_write(struct ps2_kbd *k, uint8_t v);
/* Take the next byte for the host, -1 when the queue is empty */
int ps2_kbd_read(struct ps2_kbd *k);

/* A key went down or up; keycode is a Linux KEY_* number. Unknown codes
 * and keys while scanning is disabled are dropped. */
void ps2_kbd_key(struct ps2_kbd *k, unsigned keycode, bool pressed);

/* The i8042's set 2 to set 1 translation of one byte (0xF0 aside) */
uint8_t ps2_translate(uint8_t set2);

#endif
