/* Unit tests for the 16550A UART, driven through the port bus with a manual
 * virtual clock: reset values, divisor latch, loopback, transmit timing and
 * output, IIR priorities, FIFO trigger levels and character timeout, THRE
 * re-arming, OUT2 gating, line status errors and modem status deltas. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/uart.h"

#define BASE 0x3f8
#define THR BASE
#define RBR BASE
#define DLL BASE
#define IER (BASE + 1)
#define DLM (BASE + 1)
#define IIR (BASE + 2)
#define FCR (BASE + 2)
#define LCR (BASE + 3)
#define MCR (BASE + 4)
#define LSR (BASE + 5)
#define MSR (BASE + 6)
#define SCR (BASE + 7)

/* divisor 1, 8N1: 10 bits at 115200 baud */
#define CHAR_NS (10LL * 16 * NS_PER_SEC / 1843200)

struct fixture {
    struct port_bus *bus;
    struct vclock *clock;
    struct uart uart;
    struct chardev *chr;
    char path[64];
    int level, rises;
};

static void irq_handler(void *opaque, int pin, int level)
{
    struct fixture *f = opaque;
    if (level && !f->level)
        f->rises++;
    f->level = level;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char spec[80];
    int fd;
    f->bus = port_bus_new();
    f->clock = vclock_new(VCLOCK_MANUAL);
    strcpy(f->path, "/tmp/tandem-uart-XXXXXX");
    fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    snprintf(spec, sizeof(spec), "file:%s", f->path);
    assert_int_equal(chardev_open(&f->chr, spec), 0);
    struct irq_line line = {irq_handler, f, 4};
    assert_int_equal(uart_init(&f->uart, f->bus, BASE, line, f->clock, f->chr),
                     0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vtimer_del(&f->uart.tx_timer);
    vtimer_del(&f->uart.rx_timer);
    chardev_close(f->chr);
    unlink(f->path);
    port_bus_free(f->bus);
    vclock_free(f->clock);
    free(f);
    return 0;
}

static uint8_t in(struct fixture *f, uint16_t port)
{
    return (uint8_t)port_read(f->bus, port, 1);
}

static void out(struct fixture *f, uint16_t port, uint8_t v)
{
    port_write(f->bus, port, v, 1);
}

static void advance(struct fixture *f, int64_t ns)
{
    vclock_advance(f->clock, ns);
    vclock_run_timers(f->clock);
}

/* 115200 8N1 */
static void set_115200(struct fixture *f)
{
    out(f, LCR, 0x80);
    out(f, DLL, 1);
    out(f, DLM, 0);
    out(f, LCR, 0x03);
}

static size_t output_so_far(struct fixture *f, char *buf, size_t len)
{
    int fd = open(f->path, O_RDONLY);
    ssize_t n = read(fd, buf, len);
    close(fd);
    return n < 0 ? 0 : (size_t)n;
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(in(f, IER), 0x00);
    assert_int_equal(in(f, IIR), 0x01);
    assert_int_equal(in(f, LCR), 0x00);
    assert_int_equal(in(f, MCR), 0x00);
    assert_int_equal(in(f, LSR), 0x60);
    assert_int_equal(in(f, MSR), 0xb0); /* CTS, DSR, DCD from the host */
    out(f, LCR, 0x80);
    assert_int_equal(in(f, DLL), 12);
    assert_int_equal(in(f, DLM), 0);
    assert_int_equal(f->level, 0);
}

static void test_divisor_latch_and_scratch(void **state)
{
    struct fixture *f = *state;
    out(f, LCR, 0x83);
    out(f, DLL, 0x34);
    out(f, DLM, 0x12);
    assert_int_equal(in(f, DLL), 0x34);
    assert_int_equal(in(f, DLM), 0x12);
    assert_int_equal(in(f, IER), 0x12); /* offset 1 is DLM while DLAB */
    out(f, LCR, 0x03);
    assert_int_equal(in(f, LCR), 0x03);
    out(f, IER, 0xff);
    assert_int_equal(in(f, IER), 0x0f); /* IER bits 4-7 are always 0 */
    out(f, LCR, 0x83);
    assert_int_equal(in(f, DLL), 0x34); /* IER write did not touch DLM/DLL */
    assert_int_equal(in(f, DLM), 0x12);
    out(f, SCR, 0x5a);
    assert_int_equal(in(f, SCR), 0x5a);
    /* a word access covers two registers, as on the ISA bus */
    assert_int_equal(port_read(f->bus, LSR, 2), 0xb060);
    assert_int_equal(port_read(f->bus, SCR, 2), 0xff5a);
    uart_reset(&f->uart);
    assert_int_equal(in(f, SCR), 0x5a);
    assert_int_equal(in(f, LCR), 0x00);
}

static void test_loopback_round_trip(void **state)
{
    struct fixture *f = *state;
    char buf[8];
    set_115200(f);
    out(f, MCR, 0x1b); /* LOOP | OUT2 | RTS | DTR */
    assert_int_equal(in(f, MSR) & 0xf0, 0x90 | 0x20); /* DCD CTS DSR */
    out(f, THR, 'A');
    /* moved to the shift register at once: THR empty, transmitter busy */
    assert_int_equal(in(f, LSR), 0x20);
    advance(f, CHAR_NS - 1);
    assert_int_equal(in(f, LSR) & 0x01, 0);
    advance(f, 1);
    assert_int_equal(in(f, LSR), 0x61);
    assert_int_equal(in(f, RBR), 'A');
    assert_int_equal(in(f, LSR), 0x60);
    assert_int_equal(output_so_far(f, buf, sizeof(buf)), 0); /* not on wire */
    assert_int_equal(uart_can_receive(&f->uart), 0);
}

static void test_transmit_timing_and_output(void **state)
{
    struct fixture *f = *state;
    char buf[16];
    set_115200(f);
    out(f, FCR, 0x07);
    for (const char *p = "hello"; *p; p++)
        out(f, THR, (uint8_t)*p);
    assert_int_equal(in(f, LSR) & 0x60, 0); /* 4 left in the FIFO */
    assert_int_equal(output_so_far(f, buf, sizeof(buf)), 0);
    advance(f, 2 * CHAR_NS);
    assert_int_equal(output_so_far(f, buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "he", 2);
    advance(f, 2 * CHAR_NS);
    assert_int_equal(in(f, LSR) & 0x60, 0x20); /* 'o' on the wire */
    advance(f, CHAR_NS);
    assert_int_equal(in(f, LSR) & 0x60, 0x60);
    assert_int_equal(output_so_far(f, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "hello", 5);
}

/* instant_tx: every character leaves when written; loopback keeps time */
static void test_instant_transmit(void **state)
{
    struct fixture *f = *state;
    char buf[16];
    f->uart.instant_tx = true;
    set_115200(f);
    out(f, FCR, 0x07);
    for (const char *p = "hello"; *p; p++)
        out(f, THR, (uint8_t)*p);
    assert_int_equal(in(f, LSR) & 0x60, 0x60);
    assert_int_equal(output_so_far(f, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "hello", 5);
    out(f, MCR, 0x10);                      /* loopback: the wire again */
    out(f, THR, 'x');
    assert_int_equal(in(f, LSR) & 0x61, 0x20); /* on the wire */
    advance(f, CHAR_NS);
    assert_int_equal(in(f, LSR) & 0x61, 0x61);
}

static void test_lsr_read_catches_up_without_timers(void **state)
{
    struct fixture *f = *state;
    char buf[4];
    set_115200(f);
    out(f, THR, 'x');
    out(f, THR, 'y');
    assert_int_equal(in(f, LSR) & 0x60, 0x00);
    vclock_advance(f->clock, 2 * CHAR_NS); /* no vclock_run_timers */
    assert_int_equal(in(f, LSR) & 0x60, 0x60);
    assert_int_equal(output_so_far(f, buf, sizeof(buf)), 2);
}

static void test_thre_interrupt_and_rearm(void **state)
{
    struct fixture *f = *state;
    set_115200(f);
    out(f, FCR, 0x01);
    out(f, MCR, 0x08); /* OUT2 */
    out(f, IER, 0x02);
    /* enabling ETBEI with THR empty interrupts at once */
    assert_int_equal(f->level, 1);
    assert_int_equal(in(f, IIR), 0xc2);
    assert_int_equal(f->level, 0); /* IIR read took the THRE source */
    assert_int_equal(in(f, IIR), 0xc1);

    out(f, THR, '1');
    out(f, THR, '2');
    out(f, THR, '3');
    assert_int_equal(f->level, 0);
    advance(f, CHAR_NS);
    assert_int_equal(f->level, 0); /* '2' on the wire, '3' still queued */
    advance(f, CHAR_NS);
    assert_int_equal(f->level, 1); /* FIFO emptied into the shift register */
    assert_int_equal(in(f, LSR) & 0x60, 0x20);
    /* a THR write also clears it */
    out(f, THR, '4');
    assert_int_equal(f->level, 0);
    assert_int_equal(in(f, IIR), 0xc1);
    advance(f, 2 * CHAR_NS);
    assert_int_equal(f->level, 1);
    assert_int_equal(in(f, IIR), 0xc2);
    assert_int_equal(in(f, IIR), 0xc1);
    /* re-enabling ETBEI re-arms it */
    out(f, IER, 0x00);
    out(f, IER, 0x02);
    assert_int_equal(in(f, IIR), 0xc2);
}

static void test_iir_priority_order(void **state)
{
    struct fixture *f = *state;
    set_115200(f);
    out(f, MCR, 0x18); /* LOOP | OUT2, 16450 mode */
    (void)in(f, MSR);
    out(f, THR, 'a');
    advance(f, CHAR_NS);
    out(f, THR, 'b'); /* overruns 'a' */
    advance(f, CHAR_NS);
    out(f, MCR, 0x19); /* DTR: DSR changes, DDSR */
    out(f, IER, 0x0f);

    assert_int_equal(in(f, IIR), 0x06); /* line status */
    assert_int_equal(in(f, LSR), 0x63); /* DR | OE | THRE | TEMT */
    assert_int_equal(in(f, IIR), 0x04); /* received data */
    assert_int_equal(in(f, RBR), 'b');
    assert_int_equal(in(f, IIR), 0x02); /* THR empty */
    assert_int_equal(in(f, IIR), 0x00); /* modem status */
    assert_int_equal(in(f, MSR), 0xa2); /* DCD, DSR | DDSR */
    assert_int_equal(in(f, IIR), 0x01);
    /* in loopback the IRQ pin stays quiet whatever is pending */
    assert_int_equal(f->rises, 0);
}

static void test_out2_gates_irq(void **state)
{
    struct fixture *f = *state;
    const uint8_t c = 'z';
    out(f, IER, 0x01);
    uart_receive(&f->uart, &c, 1);
    assert_int_equal(in(f, IIR), 0x04);
    assert_int_equal(f->level, 0);
    out(f, MCR, 0x08);
    assert_int_equal(f->level, 1);
    out(f, MCR, 0x00);
    assert_int_equal(f->level, 0);
    out(f, MCR, 0x08);
    assert_int_equal(in(f, RBR), 'z');
    assert_int_equal(f->level, 0);
    assert_int_equal(f->rises, 2);
}

static void test_idle_uart_leaves_shared_line_alone(void **state)
{
    struct fixture *f = *state;
    struct uart com3;
    const uint8_t c = 'z';
    struct irq_line line = {irq_handler, f, 4};
    assert_int_equal(uart_init(&com3, f->bus, 0x3e8, line, f->clock, NULL), 0);
    assert_int_equal(uart_init(&com3, f->bus, 0x3e8, line, f->clock, NULL),
                     -EBUSY);
    out(f, MCR, 0x08);
    out(f, IER, 0x01);
    uart_receive(&f->uart, &c, 1);
    assert_int_equal(f->level, 1);
    uart_reset(&com3);
    port_write(f->bus, 0x3e8 + 4, 0x08, 1); /* OUT2 on COM3, nothing pending */
    port_write(f->bus, 0x3e8 + 4, 0x00, 1);
    assert_int_equal(f->level, 1);
}

static void test_fifo_trigger_levels(void **state)
{
    struct fixture *f = *state;
    static const uint8_t fcr[4] = {0x01, 0x41, 0x81, 0xc1};
    static const unsigned level[4] = {1, 4, 8, 14};
    uint8_t data[16];
    for (int i = 0; i < 16; i++)
        data[i] = (uint8_t)(0x40 + i);
    out(f, MCR, 0x08);
    out(f, IER, 0x01);
    for (int t = 0; t < 4; t++) {
        out(f, FCR, fcr[t] | 0x02);
        assert_int_equal(uart_can_receive(&f->uart), 16);
        uart_receive(&f->uart, data, level[t] - 1);
        assert_int_equal(f->level, 0);
        assert_int_equal(in(f, IIR), 0xc1);
        uart_receive(&f->uart, data + level[t] - 1, 1);
        assert_int_equal(f->level, 1);
        assert_int_equal(in(f, IIR), 0xc4);
        assert_int_equal(uart_can_receive(&f->uart), 16 - level[t]);
        assert_int_equal(in(f, RBR), 0x40);
        assert_int_equal(f->level, 0); /* below the trigger again */
    }
    out(f, FCR, 0x07);
    assert_int_equal(in(f, LSR) & 0x01, 0); /* RX reset emptied it */
}

static void test_character_timeout(void **state)
{
    struct fixture *f = *state;
    const uint8_t data[3] = {1, 2, 3};
    set_115200(f);
    out(f, FCR, 0x81); /* trigger 8 */
    out(f, MCR, 0x08);
    out(f, IER, 0x01);
    uart_receive(&f->uart, data, 3);
    advance(f, 4 * CHAR_NS - 1);
    assert_int_equal(in(f, IIR), 0xc1);
    advance(f, 1);
    assert_int_equal(f->level, 1);
    assert_int_equal(in(f, IIR), 0xcc);
    /* reading a character clears it and restarts the timer */
    assert_int_equal(in(f, RBR), 1);
    assert_int_equal(f->level, 0);
    assert_int_equal(in(f, IIR), 0xc1);
    advance(f, 4 * CHAR_NS);
    assert_int_equal(in(f, IIR), 0xcc);
    assert_int_equal(in(f, RBR), 2);
    assert_int_equal(in(f, RBR), 3);
    advance(f, 8 * CHAR_NS);
    assert_int_equal(in(f, IIR), 0xc1); /* nothing left: no timeout */
    assert_int_equal(f->level, 0);
}

static void test_overrun_in_fifo_mode(void **state)
{
    struct fixture *f = *state;
    uint8_t data[17];
    for (int i = 0; i < 17; i++)
        data[i] = (uint8_t)i;
    out(f, FCR, 0x01);
    uart_receive(&f->uart, data, 17);
    assert_int_equal(uart_can_receive(&f->uart), 0);
    assert_int_equal(in(f, LSR) & 0x03, 0x03);
    assert_int_equal(in(f, LSR) & 0x03, 0x01); /* OE cleared by the read */
    for (int i = 0; i < 16; i++)
        assert_int_equal(in(f, RBR), i); /* the 17th was lost */
    assert_int_equal(in(f, LSR) & 0x01, 0);
}

static void test_break_and_fifo_error(void **state)
{
    struct fixture *f = *state;
    const uint8_t c = 'k';
    out(f, FCR, 0x01);
    out(f, MCR, 0x08);
    out(f, IER, 0x05);
    uart_receive(&f->uart, &c, 1);
    uart_receive_break(&f->uart);
    assert_int_equal(in(f, IIR), 0xc4); /* the break is not at the top yet */
    assert_int_equal(in(f, LSR), 0xe1); /* but the FIFO holds an error */
    assert_int_equal(in(f, RBR), 'k');
    assert_int_equal(in(f, IIR), 0xc6);
    assert_int_equal(in(f, LSR), 0xf1); /* BI, FIFO error */
    assert_int_equal(in(f, LSR), 0x61);
    assert_int_equal(in(f, IIR), 0xc4);
    assert_int_equal(in(f, RBR), 0x00);
    assert_int_equal(f->level, 0);
}

static void test_modem_status_deltas(void **state)
{
    struct fixture *f = *state;
    out(f, MCR, 0x10); /* loopback, every output off */
    assert_int_equal(in(f, MSR), 0x0b); /* CTS, DSR, DCD dropped */
    assert_int_equal(in(f, MSR), 0x00);
    out(f, MCR, 0x14); /* OUT1 -> RI rises: no TERI */
    assert_int_equal(in(f, MSR), 0x40);
    out(f, MCR, 0x10); /* RI falls: TERI */
    assert_int_equal(in(f, MSR), 0x04);
    out(f, MCR, 0x1a); /* RTS -> CTS, OUT2 -> DCD */
    assert_int_equal(in(f, MSR), 0x99);
    out(f, MCR, 0x00);
    assert_int_equal(in(f, MSR), 0xb2); /* back to the host's lines */
}

static void test_slow_baud_timing(void **state)
{
    struct fixture *f = *state;
    /* 7E2 at the reset divisor 12 (9600 baud): 1+7+1+2 = 11 bits */
    const int64_t char_ns = 11LL * 12 * 16 * NS_PER_SEC / 1843200;
    out(f, LCR, 0x1e);
    out(f, THR, 'q');
    advance(f, char_ns - 1);
    assert_int_equal(in(f, LSR) & 0x40, 0);
    advance(f, 1);
    assert_int_equal(in(f, LSR) & 0x40, 0x40);
}

static uint32_t lcg_next(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* Whatever a guest writes, in any order and at any time, nothing breaks */
static void test_random_accesses(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 1;
    for (int i = 0; i < 50000; i++) {
        uint32_t r = lcg_next(&seed);
        uint16_t port = (uint16_t)(BASE + (r & 7));
        switch ((r >> 3) & 7) {
        case 0: case 1: case 2:
            out(f, port, (uint8_t)(r >> 8));
            break;
        case 3:
            advance(f, (int64_t)(r >> 12) * 1000);
            break;
        case 4:
            uart_receive(&f->uart, (const uint8_t *)&r, 1 + (r >> 20) % 4);
            break;
        default:
            (void)port_read(f->bus, port, 1 + (r >> 20) % 4);
            break;
        }
        assert_true(f->uart.s.rx_count <= UART_FIFO_SIZE);
        assert_true(f->uart.s.tx_count <= UART_FIFO_SIZE);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_reset_values),
        T(test_divisor_latch_and_scratch),
        T(test_loopback_round_trip),
        T(test_transmit_timing_and_output),
        T(test_instant_transmit),
        T(test_lsr_read_catches_up_without_timers),
        T(test_thre_interrupt_and_rearm),
        T(test_iir_priority_order),
        T(test_out2_gates_irq),
        T(test_idle_uart_leaves_shared_line_alone),
        T(test_fifo_trigger_levels),
        T(test_character_timeout),
        T(test_overrun_in_fifo_mode),
        T(test_break_and_fifo_error),
        T(test_modem_status_deltas),
        T(test_slow_baud_timing),
        T(test_random_accesses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
