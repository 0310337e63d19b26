/* Host character backends (stdio, file, none) for the serial ports: output
 * written straight to the host fd, input read without blocking into a small
 * buffer that chardev_poll hands to the device. The stdio backend owns the
 * terminal settings: raw mode while tandem runs, restored at exit, on close
 * and on the fatal signals. */
#include "vm/chardev.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <fcntl.h>
#include "vm/log.h"
#include "vm/runstate.h"

#define CHARDEV_INBUF 256
#define CHARDEV_ESCAPE 0x01 /* Ctrl-A */

enum chardev_kind { CHARDEV_NONE, CHARDEV_STDIO, CHARDEV_FILE };

struct chardev {
    enum chardev_kind kind;
    int in_fd, out_fd;          /* -1 when the backend has no such side */
    bool escapes;               /* Ctrl-A commands (stdio on a tty) */
    bool escape_seen;
    bool break_pending;
    bool out_failed;
    uint8_t in[CHARDEV_INBUF];  /* host input not yet taken */
    size_t in_head, in_count;
    struct chardev_frontend fe;
    bool has_fe;
};

/* The terminal state belongs to the process, so it is kept here, not in the
 * chardev: the signal handler and atexit need to reach it. */
static struct termios stdio_saved_tty;
static volatile sig_atomic_t stdio_tty_raw;
static bool stdio_in_use;
static const int stdio_fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_FATAL (sizeof(stdio_fatal_signals) / sizeof(stdio_fatal_signals[0]))
static struct sigaction stdio_old_action[N_FATAL];
static bool stdio_handler_installed[N_FATAL];

static void stdio_restore_tty(void)
{
    if (stdio_tty_raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &stdio_saved_tty);
        stdio_tty_raw = 0;
    }
}

/* Restore the terminal, then die of the signal as we would have */
static void stdio_fatal_signal(int sig)
{
    stdio_restore_tty();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void stdio_install_signal_handlers(void)
{
    for (size_t i = 0; i < N_FATAL; i++) {
        struct sigaction old, sa;
        if (sigaction(stdio_fatal_signals[i], NULL, &old) != 0 ||
            old.sa_handler != SIG_DFL)
            continue; /* someone else handles it; leave theirs alone */
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = stdio_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(stdio_fatal_signals[i], &sa, NULL);
        stdio_old_action[i] = old;
        stdio_handler_installed[i] = true;
    }
}

static void stdio_remove_signal_handlers(void)
{
    for (size_t i = 0; i < N_FATAL; i++) {
        if (stdio_handler_installed[i])
            sigaction(stdio_fatal_signals[i], &stdio_old_action[i], NULL);
        stdio_handler_installed[i] = false;
    }
}

/* Raw input like QEMU's stdio: no line editing, echo or CR translation;
 * output post-processing and signal keys (Ctrl-C) stay. */
static int stdio_make_raw(void)
{
    static bool atexit_done;
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &stdio_saved_tty) != 0)
        return -errno;
    t = stdio_saved_tty;
    t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL |
                   IXON);
    t.c_oflag |= OPOST;
    t.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
    t.c_cflag &= ~(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (!atexit_done) {
        atexit(stdio_restore_tty);
        atexit_done = true;
    }
    stdio_install_signal_handlers();
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) != 0) {
        stdio_remove_signal_handlers();
        return -errno;
    }
    stdio_tty_raw = 1;
    return 0;
}

int chardev_open(struct chardev **out, const char *spec)
{
    struct chardev *cd;
    int fd = -1;
    enum chardev_kind kind;

    *out = NULL;
    if (!spec)
        spec = "none";
    if (strcmp(spec, "none") == 0 || strcmp(spec, "null") == 0) {
        kind = CHARDEV_NONE;
    } else if (strcmp(spec, "stdio") == 0) {
        if (stdio_in_use) {
            error_report("serial: 'stdio' can be used only once");
            return -EBUSY;
        }
        kind = CHARDEV_STDIO;
    } else if (strncmp(spec, "file:", 5) == 0) {
        if (spec[5] == '\0') {
            error_report("serial: 'file:' needs a path, as in file:serial.log");
            return -EINVAL;
        }
        fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            int err = errno;
            error_report("serial: cannot open '%s': %s", spec + 5,
                         strerror(err));
            return -err;
        }
        kind = CHARDEV_FILE;
    } else {
        error_report("serial: unknown backend '%s' (use stdio, file:PATH or "
                     "none)", spec);
        return -EINVAL;
    }

    cd = calloc(1, sizeof(*cd));
    if (!cd) {
        if (fd >= 0)
            close(fd);
        error_report("serial: out of memory");
        return -ENOMEM;
    }
    cd->kind = kind;
    cd->in_fd = -1;
    cd->out_fd = fd;
    if (kind == CHARDEV_STDIO) {
        cd->in_fd = STDIN_FILENO;
        cd->out_fd = STDOUT_FILENO;
        if (isatty(STDIN_FILENO)) {
            int err = stdio_make_raw();
            if (err < 0) {
                error_report("serial: cannot set up the terminal: %s",
                             strerror(-err));
                free(cd);
                return err;
            }
            cd->escapes = true;
        }
        stdio_in_use = true;
    }
    *out = cd;
    return 0;
}

void chardev_close(struct chardev *cd)
{
    if (!cd)
        return;
    if (cd->kind == CHARDEV_STDIO) {
        stdio_restore_tty();
        stdio_remove_signal_handlers();
        stdio_in_use = false;
    } else if (cd->kind == CHARDEV_FILE) {
        close(cd->out_fd);
    }
    free(cd);
}

void chardev_write(struct chardev *cd, const uint8_t *buf, size_t len)
{
    if (cd->out_fd < 0 || cd->out_failed)
        return;
    while (len > 0) {
        ssize_t n = write(cd->out_fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = {.fd = cd->out_fd, .events = POLLOUT};
                poll(&p, 1, -1);
                continue;
            }
            error_report("serial: host write failed: %s; dropping output",
                         strerror(errno));
            cd->out_failed = true;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void chardev_push(struct chardev *cd, uint8_t c)
{
    if (cd->in_count < CHARDEV_INBUF)
        cd->in[(cd->in_head + cd->in_count++) % CHARDEV_INBUF] = c;
}

static void chardev_escape_help(struct chardev *cd)
{
    static const char help[] =
        "\r\nC-a h    print this help\r\n"
        "C-a x    exit tandem\r\n"
        "C-a b    send break\r\n"
        "C-a C-a  send C-a\r\n";
    chardev_write(cd, (const uint8_t *)help, sizeof(help) - 1);
}

/* One byte typed on the terminal: Ctrl-A commands or plain input */
static void chardev_input_byte(struct chardev *cd, uint8_t c)
{
    if (!cd->escapes) {
        chardev_push(cd, c);
        return;
    }
    if (!cd->escape_seen) {
        if (c == CHARDEV_ESCAPE)
            cd->escape_seen = true;
        else
            chardev_push(cd, c);
        return;
    }
    cd->escape_seen = false;
    switch (c) {
    case CHARDEV_ESCAPE:
        chardev_push(cd, c);
        break;
    case 'x': case 'X':
        vm_request_exit(0, "Ctrl-A X typed on the console");
        break;
    case 'b': case 'B':
        cd->break_pending = true;
        break;
    case 'h': case 'H': case '?':
        chardev_escape_help(cd);
        break;
    default:
        break; /* unknown escape: both keys are dropped */
    }
}

/* Read what the host has without blocking, as far as the buffer has room */
static void chardev_fill(struct chardev *cd)
{
    uint8_t tmp[CHARDEV_INBUF];
    size_t room = CHARDEV_INBUF - cd->in_count;
    struct pollfd p = {.fd = cd->in_fd, .events = POLLIN};
    ssize_t n;

    if (cd->in_fd < 0 || room == 0)
        return;
    if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
        return;
    n = read(cd->in_fd, tmp, room);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        cd->in_fd = -1; /* end of input: stop watching it */
        return;
    }
    for (ssize_t i = 0; i < n; i++)
        chardev_input_byte(cd, tmp[i]);
}

size_t chardev_read(struct chardev *cd, uint8_t *buf, size_t len)
{
    size_t n = 0;
    chardev_fill(cd);
    while (n < len && cd->in_count > 0) {
        buf[n++] = cd->in[cd->in_head];
        cd->in_head = (cd->in_head + 1) % CHARDEV_INBUF;
        cd->in_count--;
    }
    return n;
}

void chardev_set_frontend(struct chardev *cd, const struct chardev_frontend *fe)
{
    cd->fe = *fe;
    cd->has_fe = true;
}

void chardev_poll(struct chardev *cd)
{
    if (!cd->has_fe)
        return;
    chardev_fill(cd);
    if (cd->break_pending) {
        cd->break_pending = false;
        if (cd->fe.receive_break)
            cd->fe.receive_break(cd->fe.opaque);
    }
    while (cd->in_count > 0) {
        uint8_t buf[CHARDEV_INBUF];
        size_t room = cd->fe.can_receive(cd->fe.opaque);
        size_t n;
        if (room == 0)
            break;
        n = chardev_read(cd, buf, room < sizeof(buf) ? room : sizeof(buf));
        if (n == 0)
            break;
        cd->fe.receive(cd->fe.opaque, buf, n);
    }
}
