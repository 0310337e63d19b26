/* 16550A UART (the PC's COM ports): eight byte registers at a base port, 16
 * byte receive and transmit FIFOs, interrupts on one IRQ line gated by MCR
 * OUT2 as a PC wires it, characters sent at the programmed baud rate on the
 * virtual clock to a host chardev. Host input comes in through
 * uart_receive (the UART also installs itself as its chardev's frontend, so
 * the board only needs to call chardev_poll). */
#ifndef DEVICES_UART_H
#define DEVICES_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vm/chardev.h"
#include "vm/clock.h"
#include "vm/irq.h"
#include "vm/port_bus.h"

#define UART_FIFO_SIZE 16

/* Everything the guest can change; plain data for snapshots */
struct uart_state {
    uint8_t rx[UART_FIFO_SIZE];     /* receive FIFO; one slot in 16450 mode */
    uint8_t rx_err[UART_FIFO_SIZE]; /* per character LSR PE/FE/BI bits */
    uint8_t rx_head, rx_count;
    uint8_t rbr;                    /* last character read (empty reads) */
    uint8_t tx[UART_FIFO_SIZE];     /* transmit FIFO; one slot = THR */
    uint8_t tx_head, tx_count;
    uint8_t tsr;                    /* character being shifted out */
    bool tsr_busy;
    int64_t tsr_done_ns;            /* when tsr has left the wire */
    int64_t rx_timeout_ns;          /* character timeout, VCLOCK_NEVER off */
    uint16_t divisor;
    uint8_t ier, fcr, lcr, mcr, msr, scr;
    uint8_t lsr_err;                /* LSR OE/PE/FE/BI latched until read */
    bool thr_ipending;              /* THR empty interrupt not yet taken */
    bool timeout_ipending;
    bool irq_level;
};

struct uart {
    struct uart_state s;
    struct vclock *clock;
    struct vtimer tx_timer, rx_timer;
    struct irq_line irq;
    struct chardev *chr; /* NULL: output dropped */
    bool instant_tx;     /* characters leave at once instead of at the baud
                            rate (as QEMU's UART does): a guest that polls
                            LSR per character does not spin for 87 us each */
};

/* Claim the 8 ports at base. Returns 0 or -errno. */
int uart_init(struct uart *u, struct port_bus *bus, uint16_t base,
              struct irq_line irq, struct vclock *clock, struct chardev *chr);
/* Master reset: registers to their reset values, FIFOs empty; the divisor
 * latch and scratch register keep their contents. */
void uart_reset(struct uart *u);

/* After u->s was restored from a snapshot: drive the IRQ line from the
 * state and re-arm the transmit and receive-timeout timers */
void uart_post_load(struct uart *u);

/* How many characters uart_receive can take now without an overrun (0 in
 * loopback mode, where the receiver is cut off from the line). */
size_t uart_can_receive(struct uart *u);
/* Characters arriving on the line; beyond uart_can_receive they overrun
 * (LSR OE) as on the real chip. Dropped in loopback mode. */
void uart_receive(struct uart *u, const uint8_t *buf, size_t len);
/* A break condition on the line: a NUL with LSR BI */
void uart_receive_break(struct uart *u);

#endif
