/* i8042 keyboard controller: the status register, the command byte and
 * controller RAM, the controller commands a PC BIOS and OS use, the output
 * port (A20, reset), and the output buffer fed from the keyboard's queue
 * (with the set 2 to set 1 translation) and the mouse's. */
#include "devices/i8042.h"

#include "devices/byte_io.h"
#include "vm/log.h"
#include "vm/runstate.h"

#define ST_OBF 0x01      /* output buffer full */
#define ST_SYS 0x04      /* system flag, from the command byte */
#define ST_CMD 0x08      /* last write was to port 0x64 */
#define ST_UNLOCKED 0x10 /* keyboard not inhibited by the key lock */
#define ST_AUX_OBF 0x20  /* output buffer holds an aux byte */

#define CB_KBD_INT 0x01
#define CB_AUX_INT 0x02
#define CB_SYS 0x04
#define CB_KBD_DISABLE 0x10
#define CB_AUX_DISABLE 0x20
#define CB_XLATE 0x40

#define OP_RESET 0x01    /* active low */
#define OP_A20 0x02
#define OP_KBD_OBF 0x10
#define OP_AUX_OBF 0x20

static uint8_t *i8042_cmd_byte(struct i8042 *c)
{
    return &c->s.ram[0];
}

static void i8042_update_irq(struct i8042 *c)
{
    uint8_t st = c->s.status, cb = *i8042_cmd_byte(c);
    bool kbd = (st & ST_OBF) && !(st & ST_AUX_OBF) && (cb & CB_KBD_INT);
    bool aux = (st & ST_OBF) && (st & ST_AUX_OBF) && (cb & CB_AUX_INT);
    if (kbd != c->s.irq_kbd_level) {
        c->s.irq_kbd_level = kbd;
        irq_set(&c->irq_kbd, kbd);
    }
    if (aux != c->s.irq_aux_level) {
        c->s.irq_aux_level = aux;
        irq_set(&c->irq_aux, aux);
    }
}

/* Controller replies overwrite whatever the buffer held */
static void i8042_put_out(struct i8042 *c, uint8_t v, bool aux)
{
    c->s.out = v;
    c->s.status &= ~ST_AUX_OBF;
    c->s.status |= ST_OBF | (aux ? ST_AUX_OBF : 0);
    i8042_update_irq(c);
}

/* Move the next byte from the keyboard, else the mouse, into an empty
 * output buffer, as far as their ports are enabled */
static void i8042_refill(struct i8042 *c)
{
    uint8_t cb = *i8042_cmd_byte(c);
    int b;
    if (c->s.status & ST_OBF)
        return;
    while (!(cb & CB_KBD_DISABLE) && (b = ps2_kbd_read(&c->kbd)) >= 0) {
        if (cb & CB_XLATE) {
            if (b == 0xf0) { /* folded into the next byte as bit 7 */
                c->s.xlat_release = true;
                continue;
            }
            b = ps2_translate((uint8_t)b) | (c->s.xlat_release ? 0x80 : 0);
            c->s.xlat_release = false;
        }
        i8042_put_out(c, (uint8_t)b, false);
        return;
    }
    if (!(cb & CB_AUX_DISABLE) && (b = ps2_mouse_read(&c->mouse)) >= 0)
        i8042_put_out(c, (uint8_t)b, true);
}

static void i8042_dev_notify(void *opaque)
{
    i8042_refill(opaque);
}

static void i8042_write_outport(struct i8042 *c, uint8_t v)
{
    c->s.outport = v;
    if (c->mem)
        mem_map_set_a20(c->mem, (v & OP_A20) != 0);
    if (!(v & OP_RESET))
        vm_request(VM_REQ_RESET, "keyboard controller reset");
}

static uint8_t i8042_read_outport(const struct i8042 *c)
{
    uint8_t v = c->s.outport & ~(OP_KBD_OBF | OP_AUX_OBF);
    if (c->s.status & ST_OBF)
        v |= (c->s.status & ST_AUX_OBF) ? OP_AUX_OBF : OP_KBD_OBF;
    return v;
}

static void i8042_command(struct i8042 *c, uint8_t cmd)
{
    uint8_t *cb = i8042_cmd_byte(c);

    if (cmd >= 0x20 && cmd <= 0x3f) { /* read controller RAM */
        i8042_put_out(c, c->s.ram[cmd & 0x1f], false);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
        c->s.pending_cmd = cmd; /* the data byte follows on port 0x60 */
        return;
    }
    if (cmd >= 0xf0) { /* pulse output port bits 0-3 low where cmd is 0 */
        if (!(cmd & OP_RESET))
            vm_request(VM_REQ_RESET, "keyboard controller reset pulse");
        return;
    }
    switch (cmd) {
    case 0xa7: /* disable aux port */
        *cb |= CB_AUX_DISABLE;
        break;
    case 0xa8: /* enable aux port */
        *cb &= ~CB_AUX_DISABLE;
        break;
    case 0xa9: /* aux interface test: lines fine */
        i8042_put_out(c, 0x00, false);
        break;
    case 0xaa: /* controller self-test passed; sets the system flag */
        *cb |= CB_SYS;
        i8042_put_out(c, 0x55, false);
        break;
    case 0xab: /* keyboard interface test: lines fine */
        i8042_put_out(c, 0x00, false);
        break;
    case 0xad: /* disable keyboard port */
        *cb |= CB_KBD_DISABLE;
        break;
    case 0xae: /* enable keyboard port */
        *cb &= ~CB_KBD_DISABLE;
        break;
    case 0xd0: /* read output port */
        i8042_put_out(c, i8042_read_outport(c), false);
        break;
    case 0xdd: /* A20 off (fast A20 on some controllers) */
        i8042_write_outport(c, c->s.outport & ~OP_A20);
        break;
    case 0xdf: /* A20 on */
        i8042_write_outport(c, c->s.outport | OP_A20);
        break;
    default:
        log_msg_rl(LOG_UNIMP, "i8042: unknown command 0x%02x\n", cmd);
        break;
    }
}

static void i8042_data(struct i8042 *c, uint8_t v)
{
    uint8_t cmd = c->s.pending_cmd;
    c->s.pending_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
        c->s.ram[cmd & 0x1f] = v;
        return;
    }
    switch (cmd) {
    case 0xd1:
        i8042_write_outport(c, v);
        break;
    case 0xd2: /* as if the keyboard had sent it (untranslated) */
        i8042_put_out(c, v, false);
        break;
    case 0xd3: /* as if the aux device had sent it */
        i8042_put_out(c, v, true);
        break;
    case 0xd4: /* to the mouse, which also enables its port */
        *i8042_cmd_byte(c) &= ~CB_AUX_DISABLE;
        ps2_mouse_write(&c->mouse, v);
        break;
    default: /* to the keyboard, which also enables its port */
        *i8042_cmd_byte(c) &= ~CB_KBD_DISABLE;
        ps2_kbd_write(&c->kbd, v);
        break;
    }
}

static uint8_t i8042_data_read_byte(void *opaque, unsigned offset)
{
    struct i8042 *c = opaque;
    uint8_t v = c->s.out;
    c->s.status &= ~(ST_OBF | ST_AUX_OBF);
    i8042_update_irq(c);
    i8042_refill(c);
    return v;
}

static void i8042_data_write_byte(void *opaque, unsigned offset, uint8_t v)
{
    struct i8042 *c = opaque;
    c->s.status &= ~ST_CMD;
    i8042_data(c, v);
    i8042_refill(c);
    i8042_update_irq(c);
}

static uint8_t i8042_status_read_byte(void *opaque, unsigned offset)
{
    struct i8042 *c = opaque;
    return c->s.status | (*i8042_cmd_byte(c) & CB_SYS ? ST_SYS : 0);
}

static void i8042_command_write_byte(void *opaque, unsigned offset, uint8_t v)
{
    struct i8042 *c = opaque;
    c->s.status |= ST_CMD;
    c->s.pending_cmd = 0;
    i8042_command(c, v);
    i8042_refill(c);
    i8042_update_irq(c);
}

/* Each port is one byte wide; wider accesses reach only their first byte */
static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned size)
{
    return byte_io_read(i8042_data_read_byte, opaque, offset, size, 1);
}

static void i8042_data_write(void *opaque, uint64_t offset, uint64_t value,
                             unsigned size)
{
    byte_io_write(i8042_data_write_byte, opaque, offset, value, size, 1);
}

static uint64_t i8042_status_read(void *opaque, uint64_t offset, unsigned size)
{
    return byte_io_read(i8042_status_read_byte, opaque, offset, size, 1);
}

static void i8042_command_write(void *opaque, uint64_t offset, uint64_t value,
                                unsigned size)
{
    byte_io_write(i8042_command_write_byte, opaque, offset, value, size, 1);
}

static const struct io_ops i8042_data_ops = {
    .read = i8042_data_read,
    .write = i8042_data_write,
};

static const struct io_ops i8042_status_ops = {
    .read = i8042_status_read,
    .write = i8042_command_write,
};

void i8042_reset(struct i8042 *c)
{
    c->s = (struct i8042_state){0};
    /* as a BIOS leaves it: keyboard interrupt, system flag, translation */
    c->s.ram[0] = CB_KBD_INT | CB_SYS | CB_XLATE;
    c->s.status = ST_UNLOCKED;
    c->s.outport = 0xc0 | OP_A20 | OP_RESET; /* clock and data lines high */
    if (c->mem)
        mem_map_set_a20(c->mem, true);
    ps2_kbd_reset(&c->kbd);
    ps2_mouse_reset(&c->mouse);
    irq_set(&c->irq_kbd, 0);
    irq_set(&c->irq_aux, 0);
}

int i8042_init(struct i8042 *c, struct port_bus *bus, struct mem_map *mem,
               struct irq_line irq_kbd, struct irq_line irq_aux)
{
    int err = port_bus_register(bus, 0x60, 1, "i8042-data", &i8042_data_ops, c);
    if (err)
        return err;
    err = port_bus_register(bus, 0x64, 1, "i8042-cmd", &i8042_status_ops, c);
    if (err) {
        port_bus_unregister(bus, 0x60);
        return err;
    }
    c->mem = mem;
    c->irq_kbd = irq_kbd;
    c->irq_aux = irq_aux;
    ps2_kbd_init(&c->kbd, i8042_dev_notify, c);
    ps2_mouse_init(&c->mouse, i8042_dev_notify, c);
    i8042_reset(c);
    return 0;
}
