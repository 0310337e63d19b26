/* PS/2 keyboard: the command set of an MF II keyboard, Linux KEY_* codes to
 * scan code set 2, and the set 2 to set 1 translation shared with the
 * i8042 (which applies it when its translation bit is on). */
#include "devices/ps2_kbd.h"

#include "vm/log.h"

#define KBD_ACK 0xfa
#define KBD_RESEND 0xfe
#define KBD_BAT_OK 0xaa
#define KBD_ECHO 0xee
#define KBD_TYPEMATIC_DEFAULT 0x2b /* 10.9 characters/s after 500 ms */

#define E0 0x100 /* the code has an 0xE0 prefix */
enum { KEY_SYSRQ = 99, KEY_PAUSE = 119 };

/* Set 2 make codes by Linux KEY_* number; 0 = no such key */
static const uint16_t kbd_set2[] = {
    [1] = 0x76,                                                /* Esc */
    [2] = 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36, 0x3d, 0x3e, 0x46, 0x45,
    [12] = 0x4e, 0x55, 0x66, 0x0d,                  /* - = Backspace Tab */
    [16] = 0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43, 0x44, 0x4d,
    [26] = 0x54, 0x5b, 0x5a, 0x14,                  /* [ ] Enter LCtrl */
    [30] = 0x1c, 0x1b, 0x23, 0x2b, 0x34, 0x33, 0x3b, 0x42, 0x4b,
    [39] = 0x4c, 0x52, 0x0e, 0x12, 0x5d,            /* ; ' ` LShift \ */
    [44] = 0x1a, 0x22, 0x21, 0x2a, 0x32, 0x31, 0x3a,
    [51] = 0x41, 0x49, 0x4a, 0x59, 0x7c, 0x11, 0x29, 0x58, /* , . / RShift
                                           KP* LAlt Space CapsLock */
    [59] = 0x05, 0x06, 0x04, 0x0c, 0x03, 0x0b, 0x83, 0x0a, 0x01, 0x09,
    [69] = 0x77, 0x7e,                              /* NumLock ScrollLock */
    [71] = 0x6c, 0x75, 0x7d, 0x7b, 0x6b, 0x73, 0x74, 0x79, /* keypad */
    [79] = 0x69, 0x72, 0x7a, 0x70, 0x71,
    [86] = 0x61, 0x78, 0x07,                        /* 102nd F11 F12 */
    [89] = 0x51,                                    /* RO */
    [92] = 0x64, 0x13, 0x67,          /* Henkan KatakanaHiragana Muhenkan */
    [96] = E0 | 0x5a, E0 | 0x14, E0 | 0x4a,     /* KPEnter RCtrl KP/ */
    [100] = E0 | 0x11,                              /* RAlt */
    [102] = E0 | 0x6c, E0 | 0x75, E0 | 0x7d, E0 | 0x6b, /* Home Up PgUp Left */
    [106] = E0 | 0x74, E0 | 0x69, E0 | 0x72, E0 | 0x7a, /* Right End Down PgDn */
    [110] = E0 | 0x70, E0 | 0x71,                   /* Insert Delete */
    [113] = E0 | 0x23, E0 | 0x21, E0 | 0x32, E0 | 0x37, /* Mute Vol- Vol+ Power */
    [124] = 0x6a,                                   /* Yen */
    [125] = E0 | 0x1f, E0 | 0x27, E0 | 0x2f,        /* LMeta RMeta Menu */
    [142] = E0 | 0x3f, E0 | 0x5e,                   /* Sleep WakeUp */
};

/* The 8042's translation of set 2 codes 0x00-0x7F to set 1 */
static const uint8_t kbd_xlat_low[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58,
    0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a,
    0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c,
    0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e,
    0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60,
    0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e,
    0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b,
    0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,
    0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

uint8_t ps2_translate(uint8_t set2)
{
    if (set2 < 0x80)
        return kbd_xlat_low[set2];
    if (set2 == 0x83) /* F7, the one set 2 key code above 0x7F */
        return 0x41;
    if (set2 == 0x84) /* Alt+SysRq */
        return 0x54;
    return set2; /* prefixes and replies pass unchanged */
}

static unsigned kbd_room(const struct ps2_kbd *k)
{
    return ps2_queue_room(&k->s.queue);
}

static void kbd_push(struct ps2_kbd *k, uint8_t v)
{
    ps2_queue_push(&k->s.queue, v);
}

static void kbd_clear(struct ps2_kbd *k)
{
    k->s.queue.count = 0;
    k->s.overrun = false;
}

static void kbd_notify(struct ps2_kbd *k)
{
    if (k->notify)
        k->notify(k->opaque);
}

static void kbd_defaults(struct ps2_kbd *k)
{
    k->s.scancode_set = 2;
    k->s.typematic = KBD_TYPEMATIC_DEFAULT;
}

void ps2_kbd_reset(struct ps2_kbd *k)
{
    k->s = (struct ps2_kbd_state){.scanning = true};
    kbd_defaults(k);
}

void ps2_kbd_init(struct ps2_kbd *k, void (*notify)(void *), void *opaque)
{
    k->notify = notify;
    k->opaque = opaque;
    ps2_kbd_reset(k);
}

int ps2_kbd_read(struct ps2_kbd *k)
{
    int v = ps2_queue_pop(&k->s.queue);
    if (v < 0)
        return -1;
    if (k->s.queue.count == 0)
        k->s.overrun = false;
    k->s.last_sent = (uint8_t)v;
    return v;
}

/* Bytes waiting for a parameter: ED LEDs, F3 typematic, F0 scan code set */
static void kbd_parameter(struct ps2_kbd *k, uint8_t cmd, uint8_t v)
{
    switch (cmd) {
    case 0xed:
        k->s.leds = v & 7;
        kbd_push(k, KBD_ACK);
        break;
    case 0xf3:
        k->s.typematic = v & 0x7f;
        kbd_push(k, KBD_ACK);
        break;
    case 0xf0:
        if (v == 0) {
            kbd_push(k, KBD_ACK);
            kbd_push(k, k->s.scancode_set);
        } else if (v == 1 || v == 2) {
            k->s.scancode_set = v;
            kbd_push(k, KBD_ACK);
        } else { /* set 3 is not offered */
            kbd_push(k, KBD_RESEND);
        }
        break;
    }
}

void ps2_kbd_write(struct ps2_kbd *k, uint8_t v)
{
    uint8_t param_cmd = k->s.param_cmd;
    k->s.param_cmd = 0;
    /* a parameter that looks like a command is taken as one */
    if (param_cmd && v < 0xed) {
        kbd_parameter(k, param_cmd, v);
        kbd_notify(k);
        return;
    }
    switch (v) {
    case 0xed: /* set LEDs */
    case 0xf0: /* get/set scan code set */
    case 0xf3: /* set typematic rate and delay */
        k->s.param_cmd = v;
        kbd_push(k, KBD_ACK);
        break;
    case 0xee:
        kbd_push(k, KBD_ECHO);
        break;
    case 0xf2: /* identify: an MF II keyboard */
        kbd_push(k, KBD_ACK);
        kbd_push(k, 0xab);
        kbd_push(k, 0x83);
        break;
    case 0xf4: /* enable scanning */
        kbd_clear(k);
        k->s.scanning = true;
        kbd_push(k, KBD_ACK);
        break;
    case 0xf5: /* disable scanning, restore defaults */
    case 0xf6: /* restore defaults */
        kbd_clear(k);
        kbd_defaults(k);
        k->s.scanning = v == 0xf6;
        kbd_push(k, KBD_ACK);
        break;
    case 0xfe: /* resend the last byte */
        kbd_push(k, k->s.last_sent);
        break;
    case 0xff: /* reset and self-test */
        kbd_clear(k);
        kbd_defaults(k);
        k->s.leds = 0;
        k->s.scanning = true;
        kbd_push(k, KBD_ACK);
        kbd_push(k, KBD_BAT_OK);
        break;
    default:
        log_msg_rl(LOG_UNIMP, "ps2 keyboard: unknown command 0x%02x\n", v);
        kbd_push(k, KBD_RESEND);
        break;
    }
    kbd_notify(k);
}

/* The set 2 bytes of one key event; returns the count */
static unsigned kbd_sequence(unsigned keycode, bool pressed, uint8_t *seq)
{
    static const uint8_t pause[8] = {0xe1, 0x14, 0x77, 0xe1,
                                     0xf0, 0x14, 0xf0, 0x77};
    static const uint8_t sysrq_make[4] = {0xe0, 0x12, 0xe0, 0x7c};
    static const uint8_t sysrq_break[6] = {0xe0, 0xf0, 0x7c,
                                           0xe0, 0xf0, 0x12};
    unsigned n = 0;

    if (keycode == KEY_PAUSE) { /* make only, no break code */
        if (!pressed)
            return 0;
        for (; n < sizeof(pause); n++)
            seq[n] = pause[n];
        return n;
    }
    if (keycode == KEY_SYSRQ) {
        const uint8_t *src = pressed ? sysrq_make : sysrq_break;
        unsigned len = pressed ? sizeof(sysrq_make) : sizeof(sysrq_break);
        for (; n < len; n++)
            seq[n] = src[n];
        return n;
    }
    if (keycode >= sizeof(kbd_set2) / sizeof(kbd_set2[0]) ||
        !kbd_set2[keycode])
        return 0;
    uint16_t code = kbd_set2[keycode];
    if (code & E0)
        seq[n++] = 0xe0;
    if (!pressed)
        seq[n++] = 0xf0;
    seq[n++] = (uint8_t)code;
    return n;
}

/* Set 1 is the translation of set 2, with F0 x becoming x | 0x80 */
static unsigned kbd_to_set1(uint8_t *seq, unsigned n)
{
    unsigned out = 0;
    bool release = false;
    for (unsigned i = 0; i < n; i++) {
        if (seq[i] == 0xf0) {
            release = true;
            continue;
        }
        seq[out++] = ps2_translate(seq[i]) | (release ? 0x80 : 0);
        release = false;
    }
    return out;
}

void ps2_kbd_key(struct ps2_kbd *k, unsigned keycode, bool pressed)
{
    uint8_t seq[8];
    unsigned n;

    if (!k->s.scanning)
        return;
    n = kbd_sequence(keycode, pressed, seq);
    if (n == 0) {
        log_msg_rl(LOG_UNIMP, "ps2 keyboard: no scan code for key %u\n",
                   keycode);
        return;
    }
    if (k->s.scancode_set == 1)
        n = kbd_to_set1(seq, n);
    if (kbd_room(k) < n) {
        /* buffer full: one overrun code, the key is lost */
        if (!k->s.overrun && kbd_room(k) > 0) {
            kbd_push(k, k->s.scancode_set == 1 ? 0xff : 0x00);
            k->s.overrun = true;
        }
    } else {
        for (unsigned i = 0; i < n; i++)
            kbd_push(k, seq[i]);
    }
    kbd_notify(k);
}
