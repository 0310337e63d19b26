/* PS/2 mouse: command handling and movement packets. Motion accumulates
 * until there is room in the queue for a whole packet; large motions go out
 * as several packets rather than with the overflow bits. */
#include "devices/ps2_mouse.h"

#include "vm/log.h"

#define MOUSE_ACK 0xfa
#define MOUSE_RESEND 0xfe
#define MOUSE_BAT_OK 0xaa

static void mouse_push(struct ps2_mouse *m, uint8_t v)
{
    ps2_queue_push(&m->s.queue, v);
}

static void mouse_notify(struct ps2_mouse *m)
{
    if (m->notify)
        m->notify(m->opaque);
}

static void mouse_defaults(struct ps2_mouse *m)
{
    m->s.rate = 100;
    m->s.resolution = 2; /* 4 counts/mm */
    m->s.scaling_2to1 = false;
    m->s.reporting = false;
    m->s.remote = false;
    m->s.wrap = false;
}

static void mouse_clear_motion(struct ps2_mouse *m)
{
    m->s.dx = m->s.dy = m->s.dz = 0;
    m->s.changed = false;
}

void ps2_mouse_reset(struct ps2_mouse *m)
{
    m->s = (struct ps2_mouse_state){0};
    mouse_defaults(m);
}

void ps2_mouse_init(struct ps2_mouse *m, void (*notify)(void *), void *opaque)
{
    m->notify = notify;
    m->opaque = opaque;
    ps2_mouse_reset(m);
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling as the mouse applies it in stream mode */
static int mouse_scale(int v)
{
    static const int small[6] = {0, 1, 1, 3, 6, 9};
    int a = v < 0 ? -v : v;
    int s = a < 6 ? small[a] : 2 * a;
    return v < 0 ? -s : s;
}

static unsigned mouse_packet_size(const struct ps2_mouse *m)
{
    return m->s.id == 3 ? 4 : 3;
}

static void mouse_push_packet(struct ps2_mouse *m, bool scaled)
{
    struct ps2_mouse_state *s = &m->s;
    int dx = clamp(s->dx, -255, 255), dy = clamp(s->dy, -255, 255);
    int dz = clamp(s->dz, -8, 7);
    s->dx -= dx;
    s->dy -= dy;
    s->dz -= dz;
    if (scaled) {
        dx = clamp(mouse_scale(dx), -255, 255);
        dy = clamp(mouse_scale(dy), -255, 255);
    }
    mouse_push(m, (uint8_t)(0x08 | (s->buttons & 7) | (dx < 0 ? 0x10 : 0) |
                            (dy < 0 ? 0x20 : 0)));
    mouse_push(m, (uint8_t)dx);
    mouse_push(m, (uint8_t)dy);
    if (s->id == 3)
        mouse_push(m, (uint8_t)dz);
    s->changed = s->dx || s->dy || s->dz;
}

/* Stream mode: report while there is something and room for it */
static void mouse_stream(struct ps2_mouse *m)
{
    struct ps2_mouse_state *s = &m->s;
    while (s->changed && s->reporting && !s->remote && !s->wrap &&
           ps2_queue_room(&s->queue) >= mouse_packet_size(m))
        mouse_push_packet(m, s->scaling_2to1);
}

int ps2_mouse_read(struct ps2_mouse *m)
{
    int v = ps2_queue_pop(&m->s.queue);
    if (v < 0)
        return -1;
    m->s.last_sent = (uint8_t)v;
    mouse_stream(m); /* room for motion that was waiting */
    return v;
}

void ps2_mouse_event(struct ps2_mouse *m, int dx, int dy, int dz,
                     unsigned buttons)
{
    struct ps2_mouse_state *s = &m->s;
    /* keep the sums bounded whatever the UI sends */
    s->dx = clamp(s->dx + clamp(dx, -65536, 65536), -65536, 65536);
    s->dy = clamp(s->dy - clamp(dy, -65536, 65536), -65536, 65536);
    if (s->id != 3)
        dz = 0; /* the wheel counts only in IntelliMouse mode */
    s->dz = clamp(s->dz + clamp(dz, -256, 256), -256, 256);
    if ((buttons & 7) != s->buttons || dx || dy || dz)
        s->changed = true;
    s->buttons = buttons & 7;
    unsigned before = s->queue.count;
    mouse_stream(m);
    if (s->queue.count != before)
        mouse_notify(m);
}

/* The IntelliMouse knock: sample rates 200, 100, 80 in a row */
static void mouse_set_rate(struct ps2_mouse *m, uint8_t rate)
{
    struct ps2_mouse_state *s = &m->s;
    s->rate = rate;
    s->rate_knock[0] = s->rate_knock[1];
    s->rate_knock[1] = s->rate_knock[2];
    s->rate_knock[2] = rate;
    if (s->rate_knock[0] == 200 && s->rate_knock[1] == 100 &&
        s->rate_knock[2] == 80)
        s->id = 3;
}

static void mouse_command(struct ps2_mouse *m, uint8_t v)
{
    struct ps2_mouse_state *s = &m->s;
    /* every command but these starts the movement counters afresh */
    if (v != 0xfe && v != 0xe9 && v != 0xeb)
        mouse_clear_motion(m);
    switch (v) {
    case 0xe6: /* scaling 1:1 */
    case 0xe7: /* scaling 2:1 */
        s->scaling_2to1 = v == 0xe7;
        mouse_push(m, MOUSE_ACK);
        break;
    case 0xe8: /* set resolution */
    case 0xf3: /* set sample rate */
        s->param_cmd = v;
        mouse_push(m, MOUSE_ACK);
        break;
    case 0xe9: /* status request */
        mouse_push(m, MOUSE_ACK);
        mouse_push(m, (uint8_t)((s->remote ? 0x40 : 0) |
                                (s->reporting ? 0x20 : 0) |
                                (s->scaling_2to1 ? 0x10 : 0) |
                                ((s->buttons & PS2_MOUSE_LEFT) ? 0x04 : 0) |
                                ((s->buttons & PS2_MOUSE_MIDDLE) ? 0x02 : 0) |
                                ((s->buttons & PS2_MOUSE_RIGHT) ? 0x01 : 0)));
        mouse_push(m, s->resolution);
        mouse_push(m, s->rate);
        break;
    case 0xea: /* stream mode */
    case 0xf0: /* remote mode */
        s->remote = v == 0xf0;
        mouse_push(m, MOUSE_ACK);
        break;
    case 0xeb: /* read data: one packet, whatever there is */
        mouse_push(m, MOUSE_ACK);
        mouse_push_packet(m, false);
        mouse_clear_motion(m);
        break;
    case 0xec: /* reset wrap mode (not in wrap mode: nothing to do) */
        mouse_push(m, MOUSE_ACK);
        break;
    case 0xee: /* wrap (echo) mode */
        s->wrap = true;
        mouse_push(m, MOUSE_ACK);
        break;
    case 0xf2: /* identify */
        mouse_push(m, MOUSE_ACK);
        mouse_push(m, s->id);
        break;
    case 0xf4:
    case 0xf5:
        s->reporting = v == 0xf4;
        mouse_push(m, MOUSE_ACK);
        break;
    case 0xf6:
        mouse_defaults(m);
        mouse_push(m, MOUSE_ACK);
        break;
    case 0xfe:
        mouse_push(m, s->last_sent);
        break;
    case 0xff:
        s->queue.count = 0;
        mouse_defaults(m);
        s->id = 0;
        mouse_push(m, MOUSE_ACK);
        mouse_push(m, MOUSE_BAT_OK);
        mouse_push(m, 0x00); /* device ID after the self-test */
        break;
    default:
        log_msg_rl(LOG_UNIMP, "ps2 mouse: unknown command 0x%02x\n", v);
        mouse_push(m, MOUSE_RESEND);
        break;
    }
}

void ps2_mouse_write(struct ps2_mouse *m, uint8_t v)
{
    struct ps2_mouse_state *s = &m->s;
    uint8_t param_cmd = s->param_cmd;
    s->param_cmd = 0;
    if (param_cmd == 0xf3) {
        mouse_set_rate(m, v);
        mouse_push(m, MOUSE_ACK);
    } else if (param_cmd == 0xe8) {
        s->resolution = v & 3;
        mouse_push(m, MOUSE_ACK);
    } else if (s->wrap && v != 0xec && v != 0xff) {
        mouse_push(m, v); /* wrap mode echoes */
    } else {
        if (v == 0xec)
            s->wrap = false;
        mouse_command(m, v);
    }
    mouse_notify(m);
}
