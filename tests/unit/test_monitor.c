/* Unit tests of the monitor (vm/monitor.c) over the Unix socket chardev,
 * the vCPU set's backend switching and snapshot commands (vm/vcpu_set.c)
 * with fake backends, the socket backend itself (clients come and go,
 * output without a client is dropped), the Ctrl-A C mux of a stdio
 * terminal shared by a console and the monitor, and the command-line
 * options -monitor, -loadvm and -accel-switch-every. */
#define _GNU_SOURCE /* posix_openpt, ptsname */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include "cpu/x86_state.h"
#include "vm/accel.h"
#include "vm/accel_switch.h"
#include "vm/chardev.h"
#include "vm/cmdline.h"
#include "vm/monitor.h"
#include "vm/runstate.h"
#include "vm/vcpu_set.h"
#include "vm/vmstate.h"

/* --- fake backends: a vCPU is one register, RAX --- */
struct fake_vcpu {
    uint64_t rax;
    const char *backend;
};
static int fake_live; /* vCPUs alive */

static void *fake_init_common(const char *name)
{
    struct fake_vcpu *v = calloc(1, sizeof(*v));
    v->backend = name;
    fake_live++;
    return v;
}
static void *fake_a_init(struct machine *m, int i) { return fake_init_common("fake-a"); }
static void *fake_b_init(struct machine *m, int i) { return fake_init_common("fake-b"); }
static void *fake_broken_init(struct machine *m, int i) { return NULL; }
static void fake_destroy(void *v)
{
    fake_live--;
    free(v);
}
static void fake_get_state(void *v, struct x86_state *s)
{
    x86_state_reset(s);
    s->gpr[R_AX] = ((struct fake_vcpu *)v)->rax;
    s->rip = 0x1234;
}
static void fake_set_state(void *v, const struct x86_state *s)
{
    ((struct fake_vcpu *)v)->rax = s->gpr[R_AX];
}
static void fake_kick(void *v) {}
static uint64_t fake_invalidated; /* bytes */
static void fake_invalidate(void *v, uint64_t gpa, uint64_t len)
{
    fake_invalidated += len;
}

#define FAKE_OPS(var, nm, initfn)                                              \
    static const struct cpu_backend_ops var = {                                \
        .name = nm, .summary = "test", .init = initfn,                         \
        .destroy = fake_destroy, .get_state = fake_get_state,                  \
        .set_state = fake_set_state, .kick = fake_kick,                        \
        .invalidate_code = fake_invalidate};                                   \
    ACCEL_REGISTER(var)
FAKE_OPS(fake_a, "fake-a", fake_a_init)
FAKE_OPS(fake_b, "fake-b", fake_b_init)
FAKE_OPS(fake_broken, "fake-broken", fake_broken_init)

/* --- a machine with the fake backend, a monitor and a socket client --- */
struct rig {
    struct machine m;
    struct vcpu_set vs;
    struct monitor *mon;
    uint32_t dev;       /* a state section */
    int client;
    char sock[64];
};

static struct rig *rig_new(void)
{
    struct rig *r = calloc(1, sizeof(*r));
    struct machine_config cfg = {.ram_size = 1 << 20, .ncpus = 2,
                                 .clock_mode = VCLOCK_MANUAL};
    assert_int_equal(machine_init(&r->m, &cfg), 0);
    assert_int_equal(vmstate_register(r->m.vmstate, "dev", 1, &r->dev,
                                      sizeof(r->dev), NULL, NULL), 0);
    assert_int_equal(vcpu_set_create(&r->vs, &r->m, &fake_a), 0);
    snprintf(r->sock, sizeof(r->sock), "/tmp/tandem-mon-%d.sock", getpid());
    char spec[96];
    snprintf(spec, sizeof(spec), "unix:%s,server,nowait", r->sock);
    assert_int_equal(monitor_open(&r->mon, spec, &r->vs), 0);
    r->client = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, r->sock);
    assert_int_equal(connect(r->client, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return r;
}

static void rig_free(struct rig *r)
{
    close(r->client);
    monitor_close(r->mon);
    assert_int_equal(access(r->sock, F_OK), -1); /* the socket is removed */
    vcpu_set_destroy(&r->vs);
    machine_destroy(&r->m);
    vm_clear_request();
    free(r);
}

/* Send text, poll the monitor, return what came back up to the prompt */
static const char *talk(struct rig *r, const char *text)
{
    static char reply[8192];
    size_t n = 0;
    assert_int_equal(write(r->client, text, strlen(text)), (ssize_t)strlen(text));
    for (int tries = 0; tries < 200; tries++) {
        monitor_poll(r->mon);
        struct pollfd p = {.fd = r->client, .events = POLLIN};
        while (poll(&p, 1, 5) == 1 && n < sizeof(reply) - 1) {
            ssize_t k = read(r->client, reply + n, sizeof(reply) - 1 - n);
            if (k <= 0)
                break;
            n += (size_t)k;
        }
        reply[n] = 0;
        if (n >= 9 && !strcmp(reply + n - 9, "(tandem) ")) {
            reply[n - 9] = 0;
            return reply;
        }
    }
    fail_msg("no prompt after '%s' (got '%s')", text, reply);
    return NULL;
}

static struct fake_vcpu *vcpu(struct rig *r, int i)
{
    return r->vs.vcpu[i];
}

static void test_commands(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    assert_non_null(strstr(talk(r, "help\n"), "savevm FILE"));
    assert_string_equal(talk(r, "info accel\n"), "fake-a\n");
    assert_string_equal(talk(r, "info status\n"), "VM status: running\n");
    assert_string_equal(talk(r, "stop\n"), "");
    assert_int_equal(vm_pending_request(), VM_REQ_PAUSE);
    assert_string_equal(talk(r, "info status\n"), "VM status: paused\n");
    assert_string_equal(talk(r, "cont\n"), "");
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);
    vcpu(r, 1)->rax = 0xbeef;
    const char *regs = talk(r, "info registers\n");
    assert_non_null(strstr(regs, "CPU#0\n"));
    assert_non_null(strstr(regs, "CPU#1\nRAX=000000000000beef"));
    assert_non_null(strstr(regs, "RIP=0000000000001234"));
    assert_non_null(strstr(talk(r, "info bogus\n"), "expected registers"));
    assert_string_equal(talk(r, "frobnicate now\n"),
                        "unknown command: 'frobnicate' (help lists them)\n");
    /* line editing: CR LF is one end, backspace, blank lines */
    assert_string_equal(talk(r, "info acx\x7f" "cel\r\n"), "fake-a\n");
    assert_string_equal(talk(r, "   \n"), "");
    char longline[700];
    memset(longline, 'x', sizeof(longline) - 2);
    longline[sizeof(longline) - 2] = '\n';
    longline[sizeof(longline) - 1] = 0;
    assert_string_equal(talk(r, longline), "Error: line too long\n");
    assert_string_equal(talk(r, "system_reset\n"), "");
    assert_int_equal(vm_pending_request(), VM_REQ_RESET);
    vm_clear_request();
    assert_string_equal(talk(r, "quit\n"), "");
    assert_int_equal(vm_pending_request(), VM_REQ_EXIT);
    assert_int_equal(vm_exit_status(), 0);
    vm_clear_request();
    rig_free(r);
}

static void test_accel_switch(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    vcpu(r, 0)->rax = 111;
    vcpu(r, 1)->rax = 222;
    assert_int_equal(fake_live, 2);
    fake_invalidated = 0;
    assert_string_equal(talk(r, "accel fake-b\n"), "");
    assert_ptr_equal(r->vs.ops, &fake_b);
    /* the new backend forgets what it knew of RAM: each vCPU, all of it */
    assert_int_equal(fake_invalidated, 2 * r->m.ram_size);
    assert_string_equal(vcpu(r, 0)->backend, "fake-b");
    assert_int_equal(vcpu(r, 0)->rax, 111);
    assert_int_equal(vcpu(r, 1)->rax, 222);
    assert_int_equal(fake_live, 2); /* the old vCPUs are gone */
    assert_string_equal(talk(r, "accel\n"), "fake-b\n");
    /* a backend that cannot create vCPUs: stay, state intact */
    assert_string_equal(talk(r, "accel fake-broken\n"),
                        "Error: cannot create vCPU 0 with fake-broken; "
                        "staying on fake-b\n");
    assert_ptr_equal(r->vs.ops, &fake_b);
    assert_int_equal(vcpu(r, 1)->rax, 222);
    assert_int_equal(fake_live, 2);
    assert_string_equal(talk(r, "accel nosuch\n"),
                        "Error: unknown accelerator 'nosuch'\n");
    assert_string_equal(talk(r, "accel fake-a\n"), "");
    assert_int_equal(vcpu(r, 0)->rax, 111);
    rig_free(r);
}

static void test_savevm_loadvm(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    char path[80], cmd[128];
    snprintf(path, sizeof(path), "/tmp/tandem-mon-%d.snap", getpid());
    vcpu(r, 0)->rax = 42;
    r->dev = 0xabcd;
    r->m.ram[0x1000] = 7;
    vclock_set(r->m.clock, 1000);
    snprintf(cmd, sizeof(cmd), "savevm %s\n", path);
    assert_string_equal(talk(r, cmd), "");
    vcpu(r, 0)->rax = 0;
    r->dev = 0;
    r->m.ram[0x1000] = 0;
    vclock_set(r->m.clock, 5000);
    /* a load under another backend */
    assert_string_equal(talk(r, "accel fake-b\n"), "");
    snprintf(cmd, sizeof(cmd), "loadvm %s\n", path);
    assert_string_equal(talk(r, cmd), "");
    assert_int_equal(vcpu(r, 0)->rax, 42);
    assert_int_equal(r->dev, 0xabcd);
    assert_int_equal(r->m.ram[0x1000], 7);
    assert_int_equal(vclock_now(r->m.clock), 1000);
    /* a damaged file changes nothing */
    FILE *f = fopen(path, "r+b");
    fseek(f, 200, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    vcpu(r, 0)->rax = 9;
    assert_non_null(strstr(talk(r, cmd), "Error: "));
    assert_int_equal(vcpu(r, 0)->rax, 9);
    assert_int_equal(vclock_now(r->m.clock), 1000);
    unlink(path);
    assert_non_null(strstr(talk(r, cmd), "No such file"));
    assert_string_equal(talk(r, "savevm\n"), "Error: savevm needs a file name\n");
    assert_non_null(strstr(talk(r, "savevm /nonexistent-dir/x\n"),
                           "Error: cannot write /nonexistent-dir/x"));
    rig_free(r);
}

static void test_socket_clients(void **state)
{
    (void)state;
    char path[64], spec[96];
    snprintf(path, sizeof(path), "/tmp/tandem-sock-%d", getpid());
    snprintf(spec, sizeof(spec), "unix:%s,server,nowait", path);
    struct chardev *cd;
    assert_int_equal(chardev_open(&cd, spec), 0);
    chardev_write(cd, (const uint8_t *)"lost", 4); /* nobody listens */
    for (int round = 0; round < 2; round++) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strcpy(sa.sun_path, path);
        assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(write(c, "hi", 2), 2);
        uint8_t buf[8];
        size_t n = 0;
        for (int t = 0; t < 100 && n < 2; t++) {
            n += chardev_read(cd, buf + n, sizeof(buf) - n);
            usleep(1000);
        }
        assert_int_equal(n, 2);
        assert_memory_equal(buf, "hi", 2);
        chardev_write(cd, (const uint8_t *)"yo", 2);
        assert_int_equal(read(c, buf, sizeof(buf)), 2); /* not "lost" */
        assert_memory_equal(buf, "yo", 2);
        close(c);
        /* the server notices, and a write to the gone client is harmless */
        for (int t = 0; t < 20; t++) {
            chardev_read(cd, buf, sizeof(buf));
            usleep(1000);
        }
        chardev_write(cd, (const uint8_t *)"gone", 4);
    }
    chardev_close(cd);
    assert_int_equal(access(path, F_OK), -1);
    /* bad specs */
    assert_int_equal(chardev_open(&cd, "unix:"), -EINVAL);
    assert_int_equal(chardev_open(&cd, "unix:/tmp/x"), -EINVAL); /* no server */
    assert_int_equal(chardev_open(&cd, "unix:/tmp/x,server,bogus"), -EINVAL);
    assert_int_equal(chardev_open(&cd, "unix:/nonexistent-dir/s,server,nowait"),
                     -ENOENT);
}

struct fe_log {
    char got[64];
    size_t n;
    int focus;
};
static void log_focus(void *o) { ((struct fe_log *)o)->focus++; }
static size_t log_room(void *o) { return 64 - ((struct fe_log *)o)->n; }
static void log_recv(void *o, const uint8_t *buf, size_t len)
{
    struct fe_log *l = o;
    memcpy(l->got + l->n, buf, len);
    l->n += len;
}

static void test_stdio_mux(void **state)
{
    (void)state;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    int saved_in = dup(STDIN_FILENO), saved_out = dup(STDOUT_FILENO);
    dup2(slave, STDIN_FILENO);
    dup2(slave, STDOUT_FILENO);
    struct chardev *cd;
    assert_int_equal(chardev_open(&cd, "stdio"), 0);
    assert_ptr_equal(chardev_stdio(), cd);
    struct fe_log console = {0}, mon = {0};
    struct chardev_frontend a = {log_room, log_recv, NULL, &console};
    struct chardev_frontend b = {log_room, log_recv, NULL, &mon};
    chardev_set_frontend(cd, &a);
    assert_int_equal(chardev_add_mux_frontend(cd, &b, log_focus), 0);
    assert_int_equal(chardev_add_mux_frontend(cd, &b, log_focus), -EBUSY);
    assert_int_equal(write(master, "ab\x01" "cinfo\x01" "cz", 11), 11);
    usleep(20000);
    chardev_poll(cd);
    assert_int_equal(console.n, 3);
    assert_memory_equal(console.got, "abz", 3);
    assert_int_equal(mon.n, 4);
    assert_memory_equal(mon.got, "info", 4);
    assert_int_equal(mon.focus, 1); /* only the monitor hears of it */
    assert_int_equal(console.focus, 0);
    chardev_close(cd);
    assert_null(chardev_stdio());
    dup2(saved_in, STDIN_FILENO);
    dup2(saved_out, STDOUT_FILENO);
    close(saved_in);
    close(saved_out);
    close(slave);
    close(master);
}

static void test_cmdline_options(void **state)
{
    (void)state;
    struct machine_config cfg;
    char *ok[] = {"tandem", "-monitor", "unix:/tmp/m,server,nowait", "-loadvm",
                  "vm.snap", "-accel-switch-every", "25", NULL};
    assert_int_equal(cmdline_parse(7, ok, &cfg), CMDLINE_RUN);
    assert_string_equal(cfg.monitor, "unix:/tmp/m,server,nowait");
    assert_string_equal(cfg.loadvm, "vm.snap");
    assert_int_equal(cfg.accel_switch_ms, 25);
    char *none[] = {"tandem", "-monitor", "none", NULL};
    assert_int_equal(cmdline_parse(3, none, &cfg), CMDLINE_RUN);
    assert_null(cfg.monitor);
    assert_int_equal(cfg.accel_switch_ms, 0);
    char *bad1[] = {"tandem", "-monitor", "tcp:1234", NULL};
    assert_int_equal(cmdline_parse(3, bad1, &cfg), CMDLINE_ERROR);
    char *bad2[] = {"tandem", "-accel-switch-every", "0", NULL};
    assert_int_equal(cmdline_parse(3, bad2, &cfg), CMDLINE_ERROR);
    char *bad3[] = {"tandem", "-loadvm", NULL};
    assert_int_equal(cmdline_parse(2, bad3, &cfg), CMDLINE_ERROR);
}

/* The real software backends: an AP waiting for its SIPI still waits after
 * moving between them, and one that was started does not wait again */
static void test_real_backends_keep_wait_sipi(void **state)
{
    (void)state;
    const struct cpu_backend_ops *interp = accel_find("interp");
    const struct cpu_backend_ops *jit = accel_find("jit");
    if (!interp || !jit)
        skip();
    struct machine m;
    struct machine_config cfg = {.ram_size = 1 << 20, .ncpus = 2,
                                 .clock_mode = VCLOCK_MANUAL};
    assert_int_equal(machine_init(&m, &cfg), 0);
    struct vcpu_set vs;
    char err[SNAPSHOT_ERR_LEN];
    struct x86_state *st = aligned_alloc(64, sizeof(*st));
    assert_int_equal(vcpu_set_create(&vs, &m, interp), 0);
    vcpu_set_get_state(&vs, 0, st);
    assert_int_equal(st->wait_sipi, 0);
    vcpu_set_get_state(&vs, 1, st);
    assert_int_equal(st->wait_sipi, 1);
    assert_int_equal(vcpu_set_switch(&vs, jit, err), 0);
    vcpu_set_get_state(&vs, 1, st);
    assert_int_equal(st->wait_sipi, 1);
    /* started (as a SIPI would): stays started across switches */
    st->wait_sipi = 0;
    st->rip = 0x1000;
    vs.ops->set_state(vs.vcpu[1], st);
    assert_int_equal(vcpu_set_switch(&vs, interp, err), 0);
    assert_int_equal(vcpu_set_switch(&vs, jit, err), 0);
    vcpu_set_get_state(&vs, 1, st);
    assert_int_equal(st->wait_sipi, 0);
    assert_int_equal(st->rip, 0x1000);
    free(st);
    vcpu_set_destroy(&vs);
    machine_destroy(&m);
}

static void test_switch_pair(void **state)
{
    (void)state;
    struct accel_switch sw;
    /* the interpreter pairs with the JIT or KVM, or another with it */
    const struct cpu_backend_ops *interp = accel_find("interp");
    if (interp && accel_switch_init(&sw, interp, 10, true) == 0)
        assert_true(sw.pair[1] != interp);
    assert_int_equal(accel_switch_init(&sw, &fake_a, 10, true), interp ? 0 : -ENODEV);
    if (interp)
        assert_ptr_equal(sw.pair[1], interp);
    assert_int_equal(sw.period_ns, 10000000);
    /* with -icount KVM is no partner */
    const struct cpu_backend_ops *jit = accel_find("jit");
    if (jit && accel_switch_init(&sw, jit, 10, false) == 0)
        assert_string_equal(sw.pair[1]->name, "interp");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_accel_switch),
        cmocka_unit_test(test_savevm_loadvm),
        cmocka_unit_test(test_socket_clients),
        cmocka_unit_test(test_stdio_mux),
        cmocka_unit_test(test_cmdline_options),
        cmocka_unit_test(test_switch_pair),
        cmocka_unit_test(test_real_backends_keep_wait_sipi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
