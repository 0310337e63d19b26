/* Unit tests for the i8042 controller with the PS/2 keyboard and mouse
 * through ports 0x60/0x64: status and command byte, self-tests, A20 and
 * reset through the output port, keyboard commands, scan code sets and the
 * set 2 to set 1 translation, mouse commands and packets, the output queues
 * and the IRQ1/IRQ12 lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/i8042.h"
#include "vm/runstate.h"

enum { KEY_ESC = 1, KEY_A = 30, KEY_SYSRQ = 99, KEY_LEFT = 105,
       KEY_PAUSE = 119, KEY_F7 = 65 };

struct fixture {
    struct port_bus *bus;
    struct mem_map *mem;
    struct i8042 c;
    int level[16], rises[16];
};

static void irq_handler(void *opaque, int pin, int level)
{
    struct fixture *f = opaque;
    if (level && !f->level[pin])
        f->rises[pin]++;
    f->level[pin] = level;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->bus = port_bus_new();
    f->mem = mem_map_new();
    struct irq_line irq1 = {irq_handler, f, 1}, irq12 = {irq_handler, f, 12};
    assert_int_equal(i8042_init(&f->c, f->bus, f->mem, irq1, irq12), 0);
    vm_clear_request();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    port_bus_free(f->bus);
    mem_map_free(f->mem);
    free(f);
    vm_clear_request();
    return 0;
}

static uint8_t status(struct fixture *f)
{
    return (uint8_t)port_read(f->bus, 0x64, 1);
}

static void command(struct fixture *f, uint8_t cmd)
{
    port_write(f->bus, 0x64, cmd, 1);
}

static void data_out(struct fixture *f, uint8_t v)
{
    port_write(f->bus, 0x60, v, 1);
}

/* Read the next output byte, asserting that there is one */
static uint8_t next(struct fixture *f)
{
    assert_true(status(f) & 0x01);
    return (uint8_t)port_read(f->bus, 0x60, 1);
}

static void assert_empty(struct fixture *f)
{
    assert_int_equal(status(f) & 0x01, 0);
}

static uint8_t read_cmd_byte(struct fixture *f)
{
    command(f, 0x20);
    return next(f);
}

static void write_cmd_byte(struct fixture *f, uint8_t v)
{
    command(f, 0x60);
    data_out(f, v);
}

static void test_power_on_state(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(status(f), 0x14); /* unlocked, system flag */
    assert_true(mem_map_a20(f->mem));
    command(f, 0x20);
    assert_int_equal(status(f), 0x1d); /* + OBF, last write a command */
    assert_int_equal(f->level[1], 1);
    assert_int_equal(port_read(f->bus, 0x60, 2), 0xff45); /* 0x61 not ours */
    assert_int_equal(f->level[1], 0);
    assert_empty(f);
}

static void test_self_tests(void **state)
{
    struct fixture *f = *state;
    write_cmd_byte(f, 0x00);
    assert_int_equal(status(f) & 0x04, 0); /* SYS follows the command byte */
    command(f, 0xaa);
    assert_int_equal(next(f), 0x55);
    assert_int_equal(status(f) & 0x04, 0x04); /* set by the self-test */
    command(f, 0xab);
    assert_int_equal(next(f), 0x00);
    command(f, 0xa9);
    assert_int_equal(next(f), 0x00);
    assert_int_equal(f->rises[1], 0); /* KBD_INT was off */
}

static void test_command_byte_and_ram(void **state)
{
    struct fixture *f = *state;
    write_cmd_byte(f, 0x00);
    assert_int_equal(status(f) & 0x08, 0); /* last write was data */
    assert_int_equal(read_cmd_byte(f), 0x00);
    write_cmd_byte(f, 0x47);
    assert_int_equal(read_cmd_byte(f), 0x47);
    command(f, 0x65); /* RAM byte 5 */
    data_out(f, 0x99);
    command(f, 0x25);
    assert_int_equal(next(f), 0x99);
    command(f, 0xa7);
    assert_int_equal(read_cmd_byte(f) & 0x20, 0x20);
    command(f, 0xa8);
    assert_int_equal(read_cmd_byte(f) & 0x20, 0x00);
    command(f, 0xad);
    assert_int_equal(read_cmd_byte(f) & 0x10, 0x10);
    command(f, 0xae);
    assert_int_equal(read_cmd_byte(f) & 0x10, 0x00);
}

static void test_a20_through_output_port(void **state)
{
    struct fixture *f = *state;
    command(f, 0xd0);
    assert_int_equal(next(f) & 0x03, 0x03);
    command(f, 0xd1);
    data_out(f, 0x01); /* A20 off, reset line high */
    assert_false(mem_map_a20(f->mem));
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);
    command(f, 0xd0);
    assert_int_equal(next(f), 0x01);
    command(f, 0xd1);
    data_out(f, 0xdf);
    assert_true(mem_map_a20(f->mem));
    command(f, 0xdd);
    assert_false(mem_map_a20(f->mem));
    command(f, 0xdf);
    assert_true(mem_map_a20(f->mem));
    /* the output port shows a full buffer in bit 4 */
    command(f, 0xd2);
    data_out(f, 0x12);
    command(f, 0xd0);
    assert_int_equal(next(f) & 0x30, 0x10); /* D0's reply replaced it */
    assert_empty(f);
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);
}

static void test_reset_through_output_port_and_pulse(void **state)
{
    struct fixture *f = *state;
    command(f, 0xff); /* pulse nothing */
    command(f, 0xf1);
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);
    command(f, 0xfe);
    assert_int_equal(vm_pending_request(), VM_REQ_RESET);
    vm_clear_request();
    command(f, 0xd1);
    data_out(f, 0x02);
    assert_int_equal(vm_pending_request(), VM_REQ_RESET);
}

static void test_keyboard_reset_and_identify(void **state)
{
    struct fixture *f = *state;
    data_out(f, 0xff);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(f->level[1], 1); /* the next byte follows at once */
    assert_int_equal(next(f), 0xaa);
    assert_int_equal(f->rises[1], 2);
    assert_empty(f);
    data_out(f, 0xf2);
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(next(f), 0xab);
    assert_int_equal(next(f), 0x41); /* 0x83 as translated */
    write_cmd_byte(f, 0x01);          /* translation off */
    data_out(f, 0xf2);
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(next(f), 0xab);
    assert_int_equal(next(f), 0x83);
    assert_empty(f);
}

static void test_translated_keypress(void **state)
{
    struct fixture *f = *state;
    ps2_kbd_key(&f->c.kbd, KEY_A, true);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(next(f), 0x1e);
    ps2_kbd_key(&f->c.kbd, KEY_A, false);
    assert_int_equal(next(f), 0x9e); /* F0 1C */
    ps2_kbd_key(&f->c.kbd, KEY_LEFT, true);
    assert_int_equal(next(f), 0xe0);
    assert_int_equal(next(f), 0x4b);
    ps2_kbd_key(&f->c.kbd, KEY_LEFT, false);
    assert_int_equal(next(f), 0xe0);
    assert_int_equal(next(f), 0xcb);
    ps2_kbd_key(&f->c.kbd, KEY_F7, true);
    assert_int_equal(next(f), 0x41);
    assert_empty(f);
}

static void test_untranslated_set2(void **state)
{
    struct fixture *f = *state;
    write_cmd_byte(f, 0x01);
    ps2_kbd_key(&f->c.kbd, KEY_A, true);
    ps2_kbd_key(&f->c.kbd, KEY_A, false);
    ps2_kbd_key(&f->c.kbd, KEY_SYSRQ, true);
    ps2_kbd_key(&f->c.kbd, KEY_SYSRQ, false);
    static const uint8_t want[] = {0x1c, 0xf0, 0x1c, 0xe0, 0x12, 0xe0, 0x7c,
                                   0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12};
    for (size_t i = 0; i < sizeof(want); i++)
        assert_int_equal(next(f), want[i]);
    assert_empty(f);
}

static void test_every_plain_key_translates_to_its_code(void **state)
{
    struct fixture *f = *state;
    /* Linux KEY_* numbers 1-88 are the set 1 codes of those keys */
    for (unsigned k = 1; k <= 88; k++) {
        if (k == 84 || k == 85)
            continue;
        ps2_kbd_key(&f->c.kbd, k, true);
        assert_int_equal(next(f), k);
        ps2_kbd_key(&f->c.kbd, k, false);
        assert_int_equal(next(f), k | 0x80);
    }
    assert_empty(f);
}

static void test_scancode_set_1(void **state)
{
    struct fixture *f = *state;
    write_cmd_byte(f, 0x01);
    data_out(f, 0xf0);
    assert_int_equal(next(f), 0xfa);
    data_out(f, 0x00);
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(next(f), 0x02);
    data_out(f, 0xf0);
    data_out(f, 0x01);
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(next(f), 0xfa);
    ps2_kbd_key(&f->c.kbd, KEY_ESC, true);
    ps2_kbd_key(&f->c.kbd, KEY_ESC, false);
    ps2_kbd_key(&f->c.kbd, KEY_PAUSE, true);
    ps2_kbd_key(&f->c.kbd, KEY_PAUSE, false); /* Pause has no break */
    static const uint8_t want[] = {0x01, 0x81, 0xe1, 0x1d, 0x45,
                                   0xe1, 0x9d, 0xc5};
    for (size_t i = 0; i < sizeof(want); i++)
        assert_int_equal(next(f), want[i]);
    assert_empty(f);
    data_out(f, 0xf0);
    data_out(f, 0x03); /* set 3 is refused */
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(next(f), 0xfe);
    data_out(f, 0xf0);
    data_out(f, 0x00);
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(next(f), 0x01);
}

static void test_leds_typematic_echo_resend(void **state)
{
    struct fixture *f = *state;
    data_out(f, 0xed);
    assert_int_equal(next(f), 0xfa);
    data_out(f, 0x07);
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(f->c.kbd.s.leds, 7);
    data_out(f, 0xf3);
    data_out(f, 0x20);
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(f->c.kbd.s.typematic, 0x20);
    data_out(f, 0xee);
    assert_int_equal(next(f), 0xee);
    data_out(f, 0xfe);
    assert_int_equal(next(f), 0xee);
    /* a command instead of the LED byte is taken as a command */
    data_out(f, 0xed);
    data_out(f, 0xee);
    assert_int_equal(next(f), 0xfa);
    assert_int_equal(next(f), 0xee);
    assert_int_equal(f->c.kbd.s.leds, 7);
    data_out(f, 0xab); /* unknown */
    assert_int_equal(next(f), 0xfe);
}

static void test_scanning_enable_disable(void **state)
{
    struct fixture *f = *state;
    data_out(f, 0xf5);
    assert_int_equal(next(f), 0xfa);
    ps2_kbd_key(&f->c.kbd, KEY_A, true);
    assert_empty(f);
    data_out(f, 0xf4);
    assert_int_equal(next(f), 0xfa);
    ps2_kbd_key(&f->c.kbd, KEY_A, true);
    assert_int_equal(next(f), 0x1e);
}

static void test_controller_disables_keyboard_port(void **state)
{
    struct fixture *f = *state;
    command(f, 0xad);
    ps2_kbd_key(&f->c.kbd, KEY_A, true);
    assert_empty(f);
    assert_int_equal(f->level[1], 0);
    command(f, 0xae);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(next(f), 0x1e);
    /* sending to the keyboard enables its port again */
    command(f, 0xad);
    data_out(f, 0xee);
    assert_int_equal(next(f), 0xee);
}

static void test_output_buffer_writes_and_aux(void **state)
{
    struct fixture *f = *state;
    write_cmd_byte(f, 0x47); /* both interrupts on */
    command(f, 0xd2);
    data_out(f, 0x1c);
    assert_int_equal(status(f) & 0x21, 0x01);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(next(f), 0x1c); /* not translated */
    command(f, 0xd3);
    data_out(f, 0x5a);
    assert_int_equal(status(f) & 0x21, 0x21);
    assert_int_equal(f->level[1], 0);
    assert_int_equal(f->level[12], 1);
    assert_int_equal(next(f), 0x5a);
    assert_int_equal(f->level[12], 0);
}

/* Send a byte to the mouse and expect the ACK from the aux port */
static void mouse_cmd(struct fixture *f, uint8_t v)
{
    command(f, 0xd4);
    data_out(f, v);
    assert_int_equal(status(f) & 0x21, 0x21);
    assert_int_equal(next(f), 0xfa);
}

static uint8_t next_aux(struct fixture *f)
{
    assert_int_equal(status(f) & 0x21, 0x21);
    return (uint8_t)port_read(f->bus, 0x60, 1);
}

static void test_mouse_reset_identify_and_wheel_knock(void **state)
{
    struct fixture *f = *state;
    write_cmd_byte(f, 0x47);
    mouse_cmd(f, 0xff);
    assert_int_equal(f->level[12], 1);
    assert_int_equal(next_aux(f), 0xaa);
    assert_int_equal(next_aux(f), 0x00);
    assert_empty(f);
    assert_int_equal(f->rises[1], 0);
    mouse_cmd(f, 0xf2);
    assert_int_equal(next_aux(f), 0x00);
    static const uint8_t knock[3] = {200, 100, 80};
    for (int i = 0; i < 3; i++) {
        mouse_cmd(f, 0xf3);
        mouse_cmd(f, knock[i]);
    }
    mouse_cmd(f, 0xf2);
    assert_int_equal(next_aux(f), 0x03);
    mouse_cmd(f, 0xe9); /* status: stream, disabled, 1:1; res 2; rate 80 */
    assert_int_equal(next_aux(f), 0x00);
    assert_int_equal(next_aux(f), 0x02);
    assert_int_equal(next_aux(f), 80);
    command(f, 0xd4);
    data_out(f, 0x42); /* not a command */
    assert_int_equal(next_aux(f), 0xfe);
    assert_empty(f);
}

static void test_mouse_stream_packets(void **state)
{
    struct fixture *f = *state;
    ps2_mouse_event(&f->c.mouse, 5, 5, 0, 0);
    assert_empty(f); /* reporting is off after power-on */
    mouse_cmd(f, 0xf4);
    ps2_mouse_event(&f->c.mouse, 5, -3, 0, PS2_MOUSE_LEFT);
    assert_int_equal(next_aux(f), 0x09);
    assert_int_equal(next_aux(f), 0x05);
    assert_int_equal(next_aux(f), 0x03); /* up the screen is +y */
    ps2_mouse_event(&f->c.mouse, -1, 2, 0, PS2_MOUSE_LEFT | PS2_MOUSE_RIGHT);
    assert_int_equal(next_aux(f), 0x3b);
    assert_int_equal(next_aux(f), 0xff);
    assert_int_equal(next_aux(f), 0xfe);
    ps2_mouse_event(&f->c.mouse, 300, 0, 0, 0); /* split in two packets */
    assert_int_equal(next_aux(f), 0x08);
    assert_int_equal(next_aux(f), 0xff);
    assert_int_equal(next_aux(f), 0x00);
    assert_int_equal(next_aux(f), 0x08);
    assert_int_equal(next_aux(f), 45);
    assert_int_equal(next_aux(f), 0x00);
    ps2_mouse_event(&f->c.mouse, 0, 0, 1, 0); /* no wheel with ID 0 */
    assert_empty(f);
    mouse_cmd(f, 0xe7); /* 2:1 scaling */
    ps2_mouse_event(&f->c.mouse, 4, 0, 0, 0);
    assert_int_equal(next_aux(f), 0x08);
    assert_int_equal(next_aux(f), 6);
    assert_int_equal(next_aux(f), 0);
    mouse_cmd(f, 0xf5);
    ps2_mouse_event(&f->c.mouse, 4, 0, 0, 0);
    assert_empty(f);
}

static void test_mouse_wheel_packet(void **state)
{
    struct fixture *f = *state;
    static const uint8_t knock[3] = {200, 100, 80};
    for (int i = 0; i < 3; i++) {
        mouse_cmd(f, 0xf3);
        mouse_cmd(f, knock[i]);
    }
    mouse_cmd(f, 0xf4);
    ps2_mouse_event(&f->c.mouse, 0, 0, -2, PS2_MOUSE_MIDDLE);
    assert_int_equal(next_aux(f), 0x0c);
    assert_int_equal(next_aux(f), 0x00);
    assert_int_equal(next_aux(f), 0x00);
    assert_int_equal(next_aux(f), 0xfe);
    assert_empty(f);
}

static void test_mouse_remote_wrap_and_no_lost_motion(void **state)
{
    struct fixture *f = *state;
    mouse_cmd(f, 0xf0); /* remote mode: only on request */
    mouse_cmd(f, 0xf4);
    ps2_mouse_event(&f->c.mouse, 7, 0, 0, 0);
    assert_empty(f);
    mouse_cmd(f, 0xeb);
    assert_int_equal(next_aux(f), 0x08);
    assert_int_equal(next_aux(f), 0x07);
    assert_int_equal(next_aux(f), 0x00);
    mouse_cmd(f, 0xee); /* wrap: echo */
    command(f, 0xd4);
    data_out(f, 0x42);
    assert_int_equal(next_aux(f), 0x42);
    mouse_cmd(f, 0xec);
    mouse_cmd(f, 0xea); /* stream */

    /* 20 events while the guest does not read: motion waits, not lost */
    for (int i = 0; i < 20; i++)
        ps2_mouse_event(&f->c.mouse, 1, 0, 0, 0);
    int sum = 0;
    while (status(f) & 0x01) {
        assert_int_equal(next_aux(f) & 0x08, 0x08);
        sum += (int8_t)next_aux(f);
        assert_int_equal(next_aux(f), 0);
    }
    assert_int_equal(sum, 20);
}

static void test_aux_port_disable_holds_mouse_bytes(void **state)
{
    struct fixture *f = *state;
    mouse_cmd(f, 0xf4);
    command(f, 0xa7);
    ps2_mouse_event(&f->c.mouse, 1, 0, 0, 0);
    assert_empty(f);
    ps2_kbd_key(&f->c.kbd, KEY_A, true); /* the keyboard still works */
    assert_int_equal(status(f) & 0x21, 0x01);
    assert_int_equal(next(f), 0x1e);
    command(f, 0xa8);
    assert_int_equal(next_aux(f), 0x08);
    assert_int_equal(next_aux(f), 0x01);
    assert_int_equal(next_aux(f), 0x00);
}

static void test_queue_overrun(void **state)
{
    struct fixture *f = *state;
    write_cmd_byte(f, 0x05); /* translation off */
    for (int i = 0; i < 20; i++)
        ps2_kbd_key(&f->c.kbd, KEY_A, (i & 1) == 0);
    /* one byte in the output buffer, 16 queued: 1C F0 1C ... then 00 */
    int n = 0, zeros = 0;
    while (status(f) & 0x01) {
        uint8_t b = (uint8_t)port_read(f->bus, 0x60, 1);
        zeros += b == 0x00;
        n++;
    }
    assert_int_equal(zeros, 1);
    assert_int_equal(n, 17);
}

static void test_reset_restores_power_on(void **state)
{
    struct fixture *f = *state;
    write_cmd_byte(f, 0x00);
    command(f, 0xdd);
    data_out(f, 0xf5);
    i8042_reset(&f->c);
    assert_true(mem_map_a20(f->mem));
    assert_int_equal(read_cmd_byte(f), 0x45);
    ps2_kbd_key(&f->c.kbd, KEY_A, true);
    assert_int_equal(next(f), 0x1e);
}

static uint32_t lcg_next(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* Whatever a guest writes, in any order, nothing breaks */
static void test_random_accesses(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 3;
    for (int i = 0; i < 50000; i++) {
        uint32_t r = lcg_next(&seed);
        uint8_t v = (uint8_t)(r >> 8);
        if (v == 0xd1 || (v >= 0xf0 && !(v & 1)))
            v = 0xad; /* keep clear of the reset line */
        switch (r & 7) {
        case 0:
            command(f, v);
            break;
        case 1: case 2:
            data_out(f, v);
            break;
        case 3:
            ps2_kbd_key(&f->c.kbd, v, r & 0x10000);
            break;
        case 4:
            ps2_mouse_event(&f->c.mouse, (int8_t)v, (int8_t)(r >> 16), 1,
                            r >> 24);
            break;
        default:
            (void)port_read(f->bus, (r & 0x10) ? 0x60 : 0x64, 1);
            break;
        }
        assert_true(f->c.kbd.s.queue.count <= PS2_QUEUE_SIZE);
        assert_true(f->c.mouse.s.queue.count <= PS2_QUEUE_SIZE);
    }
    vm_clear_request();
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_power_on_state),
        T(test_self_tests),
        T(test_command_byte_and_ram),
        T(test_a20_through_output_port),
        T(test_reset_through_output_port_and_pulse),
        T(test_keyboard_reset_and_identify),
        T(test_translated_keypress),
        T(test_untranslated_set2),
        T(test_every_plain_key_translates_to_its_code),
        T(test_scancode_set_1),
        T(test_leds_typematic_echo_resend),
        T(test_scanning_enable_disable),
        T(test_controller_disables_keyboard_port),
        T(test_output_buffer_writes_and_aux),
        T(test_mouse_reset_identify_and_wheel_knock),
        T(test_mouse_stream_packets),
        T(test_mouse_wheel_packet),
        T(test_mouse_remote_wrap_and_no_lost_motion),
        T(test_aux_port_disable_holds_mouse_bytes),
        T(test_queue_overrun),
        T(test_reset_restores_power_on),
        T(test_random_accesses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
