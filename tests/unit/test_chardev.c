/* Unit tests for the host character backends: spec parsing, file output,
 * "none", stdio input from a pipe and from a pseudo-terminal (raw mode,
 * Ctrl-A escapes, terminal restored on close) and frontend flow control. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include "vm/chardev.h"
#include "vm/runstate.h"

static void test_bad_specs(void **state)
{
    struct chardev *cd = (struct chardev *)1;
    assert_int_equal(chardev_open(&cd, "bogus"), -EINVAL);
    assert_null(cd);
    assert_int_equal(chardev_open(&cd, "file:"), -EINVAL);
    assert_int_equal(chardev_open(&cd, "file:/nonexistent-dir/x/y"), -ENOENT);
    assert_null(cd);
}

static void test_file_output(void **state)
{
    char path[] = "/tmp/tandem-chardev-XXXXXX";
    char spec[64], buf[64];
    struct chardev *cd;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    snprintf(spec, sizeof(spec), "file:%s", path);
    assert_int_equal(chardev_open(&cd, spec), 0);
    chardev_write(cd, (const uint8_t *)"hello\n", 6);
    chardev_write(cd, (const uint8_t *)"\x00z", 2);
    assert_int_equal(chardev_read(cd, (uint8_t *)buf, sizeof(buf)), 0);
    chardev_close(cd);

    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof(buf)), 8);
    assert_memory_equal(buf, "hello\n\x00z", 8);
    close(fd);
    unlink(path);
}

static void test_none(void **state)
{
    struct chardev *cd;
    uint8_t b;
    assert_int_equal(chardev_open(&cd, "none"), 0);
    chardev_write(cd, (const uint8_t *)"x", 1);
    assert_int_equal(chardev_read(cd, &b, 1), 0);
    chardev_close(cd);
}

/* Put fd in place of stdin (and stdout when out >= 0); returns the saved fds */
static void swap_stdio(int in, int out, int saved[2])
{
    saved[0] = dup(STDIN_FILENO);
    saved[1] = dup(STDOUT_FILENO);
    dup2(in, STDIN_FILENO);
    if (out >= 0)
        dup2(out, STDOUT_FILENO);
}

static void restore_stdio(int saved[2])
{
    dup2(saved[0], STDIN_FILENO);
    dup2(saved[1], STDOUT_FILENO);
    close(saved[0]);
    close(saved[1]);
}

struct fe_log {
    size_t room;
    uint8_t got[64];
    size_t n;
    int breaks;
};

static size_t fe_can_receive(void *opaque)
{
    struct fe_log *l = opaque;
    return l->room;
}

static void fe_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct fe_log *l = opaque;
    assert_true(len <= l->room);
    memcpy(l->got + l->n, buf, len);
    l->n += len;
    l->room -= len;
}

static void fe_break(void *opaque)
{
    ((struct fe_log *)opaque)->breaks++;
}

static void test_stdio_pipe_flow_control(void **state)
{
    int p[2], saved[2];
    struct chardev *cd, *second;
    struct fe_log log = {.room = 3};
    struct chardev_frontend fe = {fe_can_receive, fe_receive, fe_break, &log};

    assert_int_equal(pipe(p), 0);
    swap_stdio(p[0], -1, saved);
    assert_int_equal(chardev_open(&cd, "stdio"), 0);
    assert_int_equal(chardev_open(&second, "stdio"), -EBUSY);
    chardev_set_frontend(cd, &fe);

    chardev_poll(cd); /* nothing there: must not block */
    assert_int_equal(log.n, 0);
    /* no tty: Ctrl-A is plain data */
    assert_int_equal(write(p[1], "ab\x01xyz", 6), 6);
    chardev_poll(cd);
    assert_int_equal(log.n, 3);
    assert_memory_equal(log.got, "ab\x01", 3);
    chardev_poll(cd); /* frontend full: input waits */
    assert_int_equal(log.n, 3);
    log.room = 10;
    chardev_poll(cd);
    assert_int_equal(log.n, 6);
    assert_memory_equal(log.got, "ab\x01xyz", 6);
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);
    assert_int_equal(log.breaks, 0);

    close(p[1]); /* end of input is not an error */
    chardev_poll(cd);
    chardev_close(cd);
    restore_stdio(saved);
    close(p[0]);
}

static void test_stdio_tty_raw_and_escapes(void **state)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    int slave, saved[2];
    struct termios t;
    struct chardev *cd;
    struct fe_log log = {.room = 64};
    struct chardev_frontend fe = {fe_can_receive, fe_receive, fe_break, &log};
    uint8_t buf[32];
    struct pollfd pf;
    ssize_t n;

    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    swap_stdio(slave, slave, saved);

    assert_int_equal(chardev_open(&cd, "stdio"), 0);
    assert_int_equal(tcgetattr(STDIN_FILENO, &t), 0);
    assert_int_equal(t.c_lflag & (ICANON | ECHO), 0);
    assert_int_equal(t.c_iflag & ICRNL, 0);
    chardev_set_frontend(cd, &fe);

    /* Ctrl-A Ctrl-A is one Ctrl-A, Ctrl-A b a break, CR arrives as CR */
    assert_int_equal(write(master, "a\x01\x01" "b\r\x01" "b", 7), 7);
    usleep(20000);
    chardev_poll(cd);
    assert_int_equal(log.n, 4);
    assert_memory_equal(log.got, "a\x01" "b\r", 4);
    assert_int_equal(log.breaks, 1);
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);

    /* Ctrl-A x asks to quit with status 0 */
    assert_int_equal(write(master, "\x01x", 2), 2);
    usleep(20000);
    chardev_poll(cd);
    assert_int_equal(log.n, 4);
    assert_int_equal(vm_pending_request(), VM_REQ_EXIT);
    assert_int_equal(vm_exit_status(), 0);
    vm_clear_request();

    /* output reaches the terminal */
    chardev_write(cd, (const uint8_t *)"ok", 2);
    pf = (struct pollfd){.fd = master, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 1000), 1);
    n = read(master, buf, sizeof(buf));
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "ok", 2);

    chardev_close(cd);
    assert_int_equal(tcgetattr(STDIN_FILENO, &t), 0);
    assert_int_not_equal(t.c_lflag & ICANON, 0);
    restore_stdio(saved);
    close(slave);
    close(master);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_specs),
        cmocka_unit_test(test_file_output),
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_stdio_pipe_flow_control),
        cmocka_unit_test(test_stdio_tty_raw_and_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
