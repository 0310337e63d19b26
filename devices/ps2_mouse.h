/* A PS/2 mouse on the i8042's aux port: the standard command set (reset,
 * identify, sample rate, resolution, scaling, stream/remote/wrap modes,
 * status, enable/disable) and 3-byte movement packets, or 4-byte packets
 * with a wheel once the host has knocked with sample rates 200, 100, 80
 * (IntelliMouse, ID 3). The UI reports motion in screen directions. */
#ifndef DEVICES_PS2_MOUSE_H
#define DEVICES_PS2_MOUSE_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/ps2_queue.h"

#define PS2_MOUSE_LEFT 0x01
#define PS2_MOUSE_RIGHT 0x02
#define PS2_MOUSE_MIDDLE 0x04

/* Everything the host can change; plain data for snapshots */
struct ps2_mouse_state {
    struct ps2_queue queue;
    uint8_t param_cmd;       /* command waiting for its parameter, or 0 */
    uint8_t rate, resolution;
    bool scaling_2to1, reporting, remote, wrap;
    uint8_t id;              /* 0, or 3 with the wheel */
    uint8_t rate_knock[3];   /* the last three sample rates set */
    uint8_t buttons;         /* PS2_MOUSE_* */
    bool changed;            /* something to report */
    int32_t dx, dy, dz;      /* not yet reported; PS/2 axes, y up */
    uint8_t last_sent;
};

struct ps2_mouse {
    struct ps2_mouse_state s;
    void (*notify)(void *opaque); /* bytes were queued */
    void *opaque;
};

void ps2_mouse_init(struct ps2_mouse *m, void (*notify)(void *opaque),
                    void *opaque);
/* Power-on state: ID 0, stream mode, reporting off, 100 samples/s */
void ps2_mouse_reset(struct ps2_mouse *m);

/* A byte from the host (the controller's 0xD4 command) */
void ps2_mouse_write(struct ps2_mouse *m, uint8_t v);
/* Take the next byte for the host, -1 when none */
int ps2_mouse_read(struct ps2_mouse *m);

/* Motion and buttons from the UI: dx > 0 right, dy > 0 down the screen,
 * dz > 0 wheel turned towards the user (scrolling down); buttons is the
 * set of PS2_MOUSE_* held now. */
void ps2_mouse_event(struct ps2_mouse *m, int dx, int dy, int dz,
                     unsigned buttons);

#endif
