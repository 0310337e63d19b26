/* 16550A UART after the National PC16550D datasheet: register file, FIFOs,
 * interrupt identification by priority, modem control/status with loopback,
 * and transmit timing at the programmed baud rate on the virtual clock.
 * Time-dependent state (the shift register, the character timeout) is
 * brought up to date on every register access and by two timers. */
#include "devices/uart.h"

#include "devices/byte_io.h"
#include "vm/log.h"

#define UART_CLOCK_HZ 1843200 /* the PC's crystal: divisor 1 = 115200 baud */

/* registers (offsets from base) */
enum { R_RBR_THR = 0, R_IER = 1, R_IIR_FCR = 2, R_LCR = 3, R_MCR = 4,
       R_LSR = 5, R_MSR = 6, R_SCR = 7 };

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* THR empty */
#define IER_ELSI  0x04 /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */

#define IIR_NONE    0x01
#define IIR_MSR     0x00
#define IIR_THRE    0x02
#define IIR_RDA     0x04
#define IIR_RLS     0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO    0xc0

#define FCR_ENABLE   0x01
#define FCR_RX_RESET 0x02
#define FCR_TX_RESET 0x04

#define LCR_STOP 0x04
#define LCR_PARITY 0x08
#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_PE   0x04
#define LSR_FE   0x08
#define LSR_BI   0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_FIFO_ERR 0x80
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80

static bool uart_fifo_on(const struct uart *u)
{
    return u->s.fcr & FCR_ENABLE;
}

static unsigned uart_fifo_cap(const struct uart *u)
{
    return uart_fifo_on(u) ? UART_FIFO_SIZE : 1;
}

/* Time one character takes on the wire with the current LCR and divisor:
 * start bit, 5-8 data bits, parity, 1, 1.5 or 2 stop bits. */
static int64_t uart_char_ns(const struct uart *u)
{
    uint8_t lcr = u->s.lcr;
    int64_t half_bits = 2 * (1 + 5 + (lcr & 3) + ((lcr & LCR_PARITY) ? 1 : 0));
    int64_t divisor = u->s.divisor ? u->s.divisor : 65536;
    if (!(lcr & LCR_STOP))
        half_bits += 2;
    else
        half_bits += (lcr & 3) == 0 ? 3 : 4;
    return half_bits * divisor * 16 * NS_PER_SEC / (2 * UART_CLOCK_HZ);
}

static uint8_t uart_rx_trigger(const struct uart *u)
{
    static const uint8_t level[4] = {1, 4, 8, 14};
    return level[u->s.fcr >> 6];
}

static uint8_t uart_iir_id(const struct uart *u)
{
    const struct uart_state *s = &u->s;
    if ((s->ier & IER_ELSI) && (s->lsr_err & LSR_ERRORS))
        return IIR_RLS;
    if (s->ier & IER_ERBFI) {
        if (uart_fifo_on(u)) {
            if (s->rx_count >= uart_rx_trigger(u))
                return IIR_RDA;
            if (s->timeout_ipending)
                return IIR_TIMEOUT;
        } else if (s->rx_count) {
            return IIR_RDA;
        }
    }
    if ((s->ier & IER_ETBEI) && s->thr_ipending)
        return IIR_THRE;
    if ((s->ier & IER_EDSSI) && (s->msr & 0x0f))
        return IIR_MSR;
    return IIR_NONE;
}

/* The chip's INTR pin reaches the PIC only through the OUT2-controlled
 * buffer of the PC serial card; loopback forces OUT2 inactive. */
static void uart_update_irq(struct uart *u)
{
    bool level = uart_iir_id(u) != IIR_NONE &&
                 (u->s.mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
    if (level != u->s.irq_level) {
        u->s.irq_level = level;
        irq_set(&u->irq, level);
    }
}

static void uart_arm_rx_timeout(struct uart *u, int64_t now)
{
    struct uart_state *s = &u->s;
    if (uart_fifo_on(u) && s->rx_count > 0) {
        s->rx_timeout_ns = now + 4 * uart_char_ns(u);
        vtimer_mod(&u->rx_timer, s->rx_timeout_ns);
    } else {
        s->rx_timeout_ns = VCLOCK_NEVER;
        vtimer_del(&u->rx_timer);
    }
}

/* A character completes in the receiver (from the line or looped back) */
static void uart_rx_char(struct uart *u, uint8_t c, uint8_t err, int64_t now)
{
    struct uart_state *s = &u->s;
    if (s->rx_count >= uart_fifo_cap(u)) {
        s->lsr_err |= LSR_OE;
        if (!uart_fifo_on(u)) { /* 16450: the new character replaces RBR */
            s->rx[s->rx_head] = c;
            s->rx_err[s->rx_head] = err;
            s->lsr_err |= err;
        }
    } else {
        unsigned slot = (s->rx_head + s->rx_count) % UART_FIFO_SIZE;
        s->rx[slot] = c;
        s->rx_err[slot] = err;
        if (s->rx_count++ == 0)
            s->lsr_err |= err; /* at the top: visible in LSR at once */
    }
    uart_arm_rx_timeout(u, now);
}

static void uart_load_tsr(struct uart *u, int64_t start)
{
    struct uart_state *s = &u->s;
    s->tsr = s->tx[s->tx_head];
    s->tx_head = (s->tx_head + 1) % UART_FIFO_SIZE;
    s->tsr_busy = true;
    /* to a host backend at host speed if asked: no guest waits per char */
    bool instant = u->instant_tx && !(s->mcr & MCR_LOOP);
    s->tsr_done_ns = start + (instant ? 0 : uart_char_ns(u));
    if (--s->tx_count == 0)
        s->thr_ipending = true;
}

/* Shift out every character whose time has come, then arm the timer for
 * the one on the wire. */
static void uart_tx_advance(struct uart *u, int64_t now)
{
    struct uart_state *s = &u->s;
    uint8_t out[UART_FIFO_SIZE + 1]; /* at most the FIFO and the TSR */
    size_t n = 0;

    while (s->tsr_busy && now >= s->tsr_done_ns) {
        int64_t done = s->tsr_done_ns;
        s->tsr_busy = false;
        if (s->mcr & MCR_LOOP)
            uart_rx_char(u, s->tsr, 0, done);
        else
            out[n++] = s->tsr;
        if (s->tx_count > 0)
            uart_load_tsr(u, done);
    }
    if (n && u->chr)
        chardev_write(u->chr, out, n);
    if (s->tsr_busy)
        vtimer_mod(&u->tx_timer, s->tsr_done_ns);
    else
        vtimer_del(&u->tx_timer);
}

/* Bring the time-dependent state up to now */
static void uart_sync(struct uart *u)
{
    int64_t now = vclock_now(u->clock);
    uart_tx_advance(u, now);
    if (now >= u->s.rx_timeout_ns) {
        u->s.rx_timeout_ns = VCLOCK_NEVER;
        vtimer_del(&u->rx_timer);
        if (uart_fifo_on(u) && u->s.rx_count > 0)
            u->s.timeout_ipending = true;
    }
    uart_update_irq(u);
}

static void uart_timer_cb(void *opaque)
{
    uart_sync(opaque);
}

static uint8_t uart_modem_inputs(const struct uart *u)
{
    uint8_t mcr = u->s.mcr;
    if (!(mcr & MCR_LOOP))
        return MSR_CTS | MSR_DSR | MSR_DCD; /* a host that is always ready */
    return ((mcr & MCR_DTR) ? MSR_DSR : 0) | ((mcr & MCR_RTS) ? MSR_CTS : 0) |
           ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0);
}

static void uart_update_msr(struct uart *u)
{
    uint8_t old = u->s.msr, in = uart_modem_inputs(u);
    uint8_t delta = old & 0x0f, changed = (old ^ in) & 0xf0;
    if (changed & MSR_CTS)
        delta |= MSR_DCTS;
    if (changed & MSR_DSR)
        delta |= MSR_DDSR;
    if ((old & MSR_RI) && !(in & MSR_RI))
        delta |= MSR_TERI;
    if (changed & MSR_DCD)
        delta |= MSR_DDCD;
    u->s.msr = in | delta;
}

static void uart_clear_rx(struct uart *u)
{
    u->s.rx_count = 0;
    u->s.timeout_ipending = false;
    u->s.rx_timeout_ns = VCLOCK_NEVER;
    vtimer_del(&u->rx_timer);
}

static void uart_clear_tx(struct uart *u)
{
    if (u->s.tx_count)
        u->s.thr_ipending = true; /* THR just became empty */
    u->s.tx_count = 0;
}

static uint8_t uart_lsr(const struct uart *u)
{
    const struct uart_state *s = &u->s;
    uint8_t v = s->lsr_err;
    if (s->rx_count)
        v |= LSR_DR;
    if (s->tx_count == 0)
        v |= LSR_THRE | (s->tsr_busy ? 0 : LSR_TEMT);
    if (uart_fifo_on(u)) {
        for (unsigned i = 0; i < s->rx_count; i++)
            if (s->rx_err[(s->rx_head + i) % UART_FIFO_SIZE])
                v |= LSR_FIFO_ERR;
    }
    return v;
}

static uint8_t uart_read_rbr(struct uart *u)
{
    struct uart_state *s = &u->s;
    if (s->rx_count == 0)
        return s->rbr;
    s->rbr = s->rx[s->rx_head];
    s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
    if (--s->rx_count)
        s->lsr_err |= s->rx_err[s->rx_head];
    s->timeout_ipending = false;
    uart_arm_rx_timeout(u, vclock_now(u->clock));
    return s->rbr;
}

static uint8_t uart_read_byte(void *opaque, unsigned offset)
{
    struct uart *u = opaque;
    struct uart_state *s = &u->s;
    uint8_t v = 0xff;

    uart_sync(u);
    switch (offset) {
    case R_RBR_THR:
        v = (s->lcr & LCR_DLAB) ? (uint8_t)s->divisor : uart_read_rbr(u);
        break;
    case R_IER:
        v = (s->lcr & LCR_DLAB) ? (uint8_t)(s->divisor >> 8) : s->ier;
        break;
    case R_IIR_FCR:
        v = uart_iir_id(u);
        if (v == IIR_THRE)
            s->thr_ipending = false; /* reading IIR takes the THRE source */
        if (uart_fifo_on(u))
            v |= IIR_FIFO;
        break;
    case R_LCR:
        v = s->lcr;
        break;
    case R_MCR:
        v = s->mcr;
        break;
    case R_LSR:
        v = uart_lsr(u);
        s->lsr_err = 0;
        if (s->rx_count) /* the top character's errors have been reported */
            s->rx_err[s->rx_head] = 0;
        break;
    case R_MSR:
        v = s->msr;
        s->msr &= 0xf0;
        break;
    case R_SCR:
        v = s->scr;
        break;
    }
    uart_update_irq(u);
    return v;
}

static void uart_write_thr(struct uart *u, uint8_t v)
{
    struct uart_state *s = &u->s;
    if (s->tx_count < uart_fifo_cap(u))
        s->tx[(s->tx_head + s->tx_count++) % UART_FIFO_SIZE] = v;
    else if (!uart_fifo_on(u))
        s->tx[s->tx_head] = v; /* 16450: THR overwritten */
    else
        log_msg_rl(LOG_GUEST_ERRORS, "uart: transmit FIFO overflow\n");
    s->thr_ipending = false;
    if (!s->tsr_busy) {
        uart_load_tsr(u, vclock_now(u->clock));
        vtimer_mod(&u->tx_timer, s->tsr_done_ns);
    }
}

static void uart_write_fcr(struct uart *u, uint8_t v)
{
    struct uart_state *s = &u->s;
    if ((v ^ s->fcr) & FCR_ENABLE) { /* mode change empties both FIFOs */
        uart_clear_rx(u);
        uart_clear_tx(u);
    }
    if (!(v & FCR_ENABLE)) { /* the other bits need FCR0 set to stick */
        s->fcr = 0;
        return;
    }
    if (v & FCR_RX_RESET)
        uart_clear_rx(u);
    if (v & FCR_TX_RESET)
        uart_clear_tx(u);
    s->fcr = v & 0xc9; /* enable, DMA mode, trigger level */
}

static void uart_write_byte(void *opaque, unsigned offset, uint8_t v)
{
    struct uart *u = opaque;
    struct uart_state *s = &u->s;

    uart_sync(u);
    switch (offset) {
    case R_RBR_THR:
        if (s->lcr & LCR_DLAB)
            s->divisor = (s->divisor & 0xff00) | v;
        else
            uart_write_thr(u, v);
        break;
    case R_IER:
        if (s->lcr & LCR_DLAB) {
            s->divisor = (uint16_t)((s->divisor & 0x00ff) | (v << 8));
        } else {
            /* enabling ETBEI while THR is empty raises THRE at once */
            if ((v & IER_ETBEI) && !(s->ier & IER_ETBEI) && s->tx_count == 0)
                s->thr_ipending = true;
            s->ier = v & 0x0f;
        }
        break;
    case R_IIR_FCR:
        uart_write_fcr(u, v);
        break;
    case R_LCR:
        s->lcr = v;
        break;
    case R_MCR:
        s->mcr = v & 0x1f;
        uart_update_msr(u);
        break;
    case R_SCR:
        s->scr = v;
        break;
    default: /* LSR/MSR writes are factory test modes */
        log_msg_rl(LOG_GUEST_ERRORS, "uart: write 0x%02x to read-only "
                   "register %u\n", v, offset);
        break;
    }
    uart_update_irq(u);
}

static uint64_t uart_read(void *opaque, uint64_t offset, unsigned size)
{
    return byte_io_read(uart_read_byte, opaque, offset, size, 8);
}

static void uart_write(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size)
{
    byte_io_write(uart_write_byte, opaque, offset, value, size, 8);
}

static const struct io_ops uart_ops = {
    .read = uart_read,
    .write = uart_write,
};

size_t uart_can_receive(struct uart *u)
{
    if (u->s.mcr & MCR_LOOP)
        return 0;
    return uart_fifo_cap(u) - u->s.rx_count;
}

void uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
    int64_t now = vclock_now(u->clock);
    if (u->s.mcr & MCR_LOOP)
        return;
    uart_sync(u);
    for (size_t i = 0; i < len; i++)
        uart_rx_char(u, buf[i], 0, now);
    uart_update_irq(u);
}

void uart_receive_break(struct uart *u)
{
    if (u->s.mcr & MCR_LOOP)
        return;
    uart_sync(u);
    uart_rx_char(u, 0, LSR_BI, vclock_now(u->clock));
    uart_update_irq(u);
}

static size_t uart_fe_can_receive(void *opaque)
{
    return uart_can_receive(opaque);
}

static void uart_fe_receive(void *opaque, const uint8_t *buf, size_t len)
{
    uart_receive(opaque, buf, len);
}

static void uart_fe_break(void *opaque)
{
    uart_receive_break(opaque);
}

void uart_reset(struct uart *u)
{
    struct uart_state *s = &u->s;
    uint16_t divisor = s->divisor;
    uint8_t scr = s->scr;
    bool was_high = s->irq_level;

    vtimer_del(&u->tx_timer);
    vtimer_del(&u->rx_timer);
    *s = (struct uart_state){0};
    s->divisor = divisor;
    s->scr = scr;
    s->rx_timeout_ns = VCLOCK_NEVER;
    s->msr = uart_modem_inputs(u);
    /* only ever drive the line on a change: COM1/COM3 and COM2/COM4 share
     * their IRQs, and an idle UART must not pull its partner's level down */
    if (was_high)
        irq_set(&u->irq, 0);
}

void uart_post_load(struct uart *u)
{
    irq_set(&u->irq, u->s.irq_level);
    if (u->s.tsr_busy)
        vtimer_mod(&u->tx_timer, u->s.tsr_done_ns);
    else
        vtimer_del(&u->tx_timer);
    if (u->s.rx_timeout_ns != VCLOCK_NEVER)
        vtimer_mod(&u->rx_timer, u->s.rx_timeout_ns);
    else
        vtimer_del(&u->rx_timer);
}

int uart_init(struct uart *u, struct port_bus *bus, uint16_t base,
              struct irq_line irq, struct vclock *clock, struct chardev *chr)
{
    int err = port_bus_register(bus, base, 8, "serial", &uart_ops, u);
    if (err)
        return err;
    u->clock = clock;
    u->irq = irq;
    u->chr = chr;
    vtimer_init(&u->tx_timer, clock, uart_timer_cb, u);
    vtimer_init(&u->rx_timer, clock, uart_timer_cb, u);
    u->s = (struct uart_state){.divisor = 12}; /* 9600 baud until set */
    uart_reset(u);
    if (chr) {
        struct chardev_frontend fe = {uart_fe_can_receive, uart_fe_receive,
                                      uart_fe_break, u};
        chardev_set_frontend(chr, &fe);
    }
    return 0;
}
