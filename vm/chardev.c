/* Host character backends (stdio, file, Unix socket server, none) for the
 * serial ports and the monitor: output written straight to the host fd,
 * input read without blocking into a small buffer that chardev_poll hands
 * to the active frontend. The stdio backend owns the
 * terminal settings: raw mode while tandem runs, restored at exit, on close
 * and on the fatal signals. */
#include "vm/chardev.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <fcntl.h>
#include "vm/log.h"
#include "vm/runstate.h"

#define CHARDEV_INBUF 256
#define CHARDEV_ESCAPE 0x01 /* Ctrl-A */

enum chardev_kind { CHARDEV_NONE, CHARDEV_STDIO, CHARDEV_FILE, CHARDEV_SOCKET };

struct chardev {
    enum chardev_kind kind;
    int in_fd, out_fd;          /* -1 when the backend has no such side */
    bool escapes;               /* Ctrl-A commands (stdio on a tty) */
    bool escape_seen;
    bool break_pending;
    bool out_failed;
    uint8_t in[CHARDEV_INBUF];  /* host input not yet taken */
    size_t in_head, in_count;
    struct chardev_frontend fe[2]; /* [1]: the mux's second frontend */
    int nfe, active;
    void (*mux_focus)(void *opaque); /* input switched to fe[1] */
    int listen_fd;              /* socket: the listening socket */
    char *sock_path;            /* socket: unlinked on close */
};

static struct chardev *stdio_chardev;

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

/* "PATH,server[=on][,nowait|,wait=off]": listen on PATH */
static int socket_open(struct chardev *cd, const char *spec)
{
    size_t plen = strcspn(spec, ",");
    bool server = false, wait = true;
    for (const char *p = spec + plen; *p == ',';) {
        p++;
        size_t n = strcspn(p, ",");
        if ((n == 6 && !strncmp(p, "server", 6)) || (n == 9 && !strncmp(p, "server=on", 9)))
            server = true;
        else if ((n == 6 && !strncmp(p, "nowait", 6)) || (n == 8 && !strncmp(p, "wait=off", 8)))
            wait = false;
        else {
            error_report("unix:%s: unknown option '%.*s' (server, nowait)", spec, (int)n, p);
            return -EINVAL;
        }
        p += n;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (plen == 0 || plen >= sizeof(sa.sun_path) || !server) {
        error_report("unix:%s: expected unix:PATH,server[,nowait] with a path "
                     "of 1 to %zu bytes", spec, sizeof(sa.sun_path) - 1);
        return -EINVAL;
    }
    memcpy(sa.sun_path, spec, plen);
    struct stat st;
    if (stat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(sa.sun_path); /* a stale socket of an earlier run */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fd, 1) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        error_report("unix:%s: cannot listen: %s", sa.sun_path, strerror(err));
        return -err;
    }
    cd->listen_fd = fd;
    cd->sock_path = strdup(sa.sun_path);
    if (wait) {
        fprintf(stderr, "tandem: waiting for a connection on %s\n", sa.sun_path);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (poll(&p, 1, -1) < 0 && errno == EINTR)
            ;
    }
    return 0;
}

/* Socket: take a waiting client if there is none */
static void socket_accept(struct chardev *cd)
{
    if (cd->in_fd >= 0)
        return;
    int fd = accept(cd->listen_fd, NULL, NULL);
    if (fd < 0)
        return;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    cd->in_fd = cd->out_fd = fd;
}

static void socket_drop_client(struct chardev *cd)
{
    if (cd->in_fd >= 0)
        close(cd->in_fd);
    cd->in_fd = cd->out_fd = -1;
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
    } else if (strncmp(spec, "unix:", 5) == 0) {
        kind = CHARDEV_SOCKET;
    } else {
        error_report("chardev: unknown backend '%s' (use stdio, file:PATH, "
                     "unix:PATH,server,nowait or none)", spec);
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
    cd->listen_fd = -1;
    if (kind == CHARDEV_SOCKET) {
        int err = socket_open(cd, spec + 5);
        if (err) {
            free(cd);
            return err;
        }
    }
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
        stdio_chardev = cd;
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
        stdio_chardev = NULL;
    } else if (cd->kind == CHARDEV_FILE) {
        close(cd->out_fd);
    } else if (cd->kind == CHARDEV_SOCKET) {
        socket_drop_client(cd);
        close(cd->listen_fd);
        unlink(cd->sock_path);
        free(cd->sock_path);
    }
    free(cd);
}

void chardev_write(struct chardev *cd, const uint8_t *buf, size_t len)
{
    if (cd->kind == CHARDEV_SOCKET)
        socket_accept(cd);
    if (cd->out_fd < 0 || cd->out_failed)
        return;
    while (len > 0) {
        ssize_t n = cd->kind == CHARDEV_SOCKET
                        ? send(cd->out_fd, buf, len, MSG_NOSIGNAL)
                        : write(cd->out_fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = {.fd = cd->out_fd, .events = POLLOUT};
                poll(&p, 1, -1);
                continue;
            }
            if (cd->kind == CHARDEV_SOCKET) { /* the client went away */
                socket_drop_client(cd);
                return;
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
    static const char mux_help[] =
        "C-a c    switch between console and monitor\r\n";
    chardev_write(cd, (const uint8_t *)help, sizeof(help) - 1);
    if (cd->nfe == 2)
        chardev_write(cd, (const uint8_t *)mux_help, sizeof(mux_help) - 1);
}

/* Take up to len buffered bytes (no host read) */
static size_t chardev_take(struct chardev *cd, uint8_t *buf, size_t len)
{
    size_t n = 0;
    while (n < len && cd->in_count > 0) {
        buf[n++] = cd->in[cd->in_head];
        cd->in_head = (cd->in_head + 1) % CHARDEV_INBUF;
        cd->in_count--;
    }
    return n;
}

/* Hand buffered bytes to the active frontend as far as it takes them */
static void chardev_deliver(struct chardev *cd)
{
    const struct chardev_frontend *fe = &cd->fe[cd->active];
    if (cd->nfe == 0)
        return;
    while (cd->in_count > 0) {
        uint8_t buf[CHARDEV_INBUF];
        size_t room = fe->can_receive(fe->opaque);
        size_t n = chardev_take(cd, buf, room < sizeof(buf) ? room : sizeof(buf));
        if (n == 0)
            break;
        fe->receive(fe->opaque, buf, n);
    }
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
    case 'c': case 'C':
        if (cd->nfe == 2) {
            /* what was typed before goes to the old side (or is lost
             * there, as an overrun), what follows to the other */
            chardev_deliver(cd);
            cd->in_count = 0;
            cd->active ^= 1;
            if (cd->active == 1 && cd->mux_focus)
                cd->mux_focus(cd->fe[1].opaque);
        }
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

    if (cd->kind == CHARDEV_SOCKET)
        socket_accept(cd);
    if (cd->in_fd < 0 || room == 0)
        return;
    if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
        return;
    n = read(cd->in_fd, tmp, room);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        if (cd->kind == CHARDEV_SOCKET)
            socket_drop_client(cd); /* listen for the next client */
        else
            cd->in_fd = -1; /* end of input: stop watching it */
        return;
    }
    if (n < 0)
        return;
    for (ssize_t i = 0; i < n; i++)
        chardev_input_byte(cd, tmp[i]);
}

size_t chardev_read(struct chardev *cd, uint8_t *buf, size_t len)
{
    chardev_fill(cd);
    return chardev_take(cd, buf, len);
}

void chardev_set_frontend(struct chardev *cd, const struct chardev_frontend *fe)
{
    cd->fe[0] = *fe;
    if (cd->nfe == 0)
        cd->nfe = 1;
}

int chardev_add_mux_frontend(struct chardev *cd,
                             const struct chardev_frontend *fe,
                             void (*focus)(void *opaque))
{
    if (cd->nfe != 1)
        return -EBUSY;
    cd->fe[cd->nfe++] = *fe;
    cd->mux_focus = focus;
    return 0;
}

struct chardev *chardev_stdio(void)
{
    return stdio_chardev;
}

void chardev_poll(struct chardev *cd)
{
    if (cd->nfe == 0)
        return;
    chardev_fill(cd);
    const struct chardev_frontend *fe = &cd->fe[cd->active];
    if (cd->break_pending) {
        cd->break_pending = false;
        if (fe->receive_break)
            fe->receive_break(fe->opaque);
    }
    chardev_deliver(cd);
}
