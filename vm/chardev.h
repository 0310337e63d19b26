/* Host character backends for the guest's serial ports and the monitor:
 * "stdio" (the terminal, put in raw mode when it is a tty), "file:PATH"
 * (output only), "unix:PATH,server[,nowait]" (a listening Unix socket, one
 * client at a time; without nowait, opening waits for the first client;
 * output without a client is dropped) and "none". A device writes guest output with chardev_write; host input either
 * reaches the device's frontend callbacks when the main loop calls
 * chardev_poll, or is pulled with chardev_read. Everything is non-blocking on
 * the input side and runs on the main thread.
 *
 * On a tty, stdio understands QEMU's escape key Ctrl-A: Ctrl-A X quits
 * tandem (vm_request_exit(0)), Ctrl-A B sends a break, Ctrl-A Ctrl-A sends a
 * literal Ctrl-A, Ctrl-A H prints the list. When a second frontend (the
 * monitor) shares it, Ctrl-A C switches input between the two, as QEMU's
 * mux does. */
#ifndef VM_CHARDEV_H
#define VM_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

struct chardev;

/* The device side, told about host input by chardev_poll */
struct chardev_frontend {
    size_t (*can_receive)(void *opaque);  /* bytes it can take now */
    void (*receive)(void *opaque, const uint8_t *buf, size_t len);
    void (*receive_break)(void *opaque);  /* may be NULL */
    void *opaque;
};

/* Open a backend from its spec. Returns 0 or -errno after one error_report
 * line (unknown spec, empty path, file that cannot be created, stdio twice). */
int chardev_open(struct chardev **out, const char *spec);
/* Close; restores the terminal for stdio */
void chardev_close(struct chardev *cd);

/* Write all of buf (blocking on the host side); bytes are dropped for
 * "none" and after a host write error. */
void chardev_write(struct chardev *cd, const uint8_t *buf, size_t len);
/* Take up to len bytes of pending host input without blocking; returns the
 * count (0 when none). */
size_t chardev_read(struct chardev *cd, uint8_t *buf, size_t len);

void chardev_set_frontend(struct chardev *cd, const struct chardev_frontend *fe);
/* A second frontend on the same backend (the monitor beside a serial port):
 * input goes to the first until Ctrl-A C switches; focus(fe->opaque), if
 * not NULL, is called each time input switches to it. 0, or -EBUSY if there
 * is one already. */
int chardev_add_mux_frontend(struct chardev *cd,
                             const struct chardev_frontend *fe,
                             void (*focus)(void *opaque));
/* The open "stdio" backend, or NULL (so the monitor can share it) */
struct chardev *chardev_stdio(void);
/* Read what the host has and hand as much as the frontend can take to it;
 * the rest waits for the next call. */
void chardev_poll(struct chardev *cd);

#endif
