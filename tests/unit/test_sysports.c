/* Unit tests of the small system ports through the port bus: 0x92 (fast A20
 * on the memory map, fast reset request), the 0x80 POST sink and its log
 * line, the 0xE9 debug console (callback and FILE sinks, readback) and
 * isa-debug-exit (exit status (V << 1) | 1 at any port of its range). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/debug_exit.h"
#include "devices/debugcon.h"
#include "devices/port80.h"
#include "devices/port92.h"
#include "vm/log.h"
#include "vm/memory.h"
#include "vm/port_bus.h"
#include "vm/runstate.h"

static void test_port92(void **state)
{
    struct port_bus *io = port_bus_new();
    struct mem_map *mem = mem_map_new();
    struct port92 d;
    vm_clear_request();
    assert_int_equal(port92_init(&d, io, mem), 0);
    assert_int_equal(port_read(io, 0x92, 1), 0x02); /* A20 starts on */

    port_write(io, 0x92, 0x00, 1);
    assert_false(mem_map_a20(mem));
    assert_int_equal(mem_map_a20_mask(mem), ~(1ull << 20));
    assert_int_equal(port_read(io, 0x92, 1), 0x00);
    port_write(io, 0x92, port_read(io, 0x92, 1) | 0x02, 1);
    assert_true(mem_map_a20(mem));
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);

    /* bits other than 0 and 1 are kept */
    port_write(io, 0x92, 0xc2, 1);
    assert_int_equal(port_read(io, 0x92, 1), 0xc2);

    /* fast reset on the rising edge of bit 0 only */
    port_write(io, 0x92, 0x03, 1);
    assert_int_equal(vm_pending_request(), VM_REQ_RESET);
    assert_true(mem_map_a20(mem));
    vm_clear_request();
    port_write(io, 0x92, 0x03, 1);
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);
    port_write(io, 0x92, 0x02, 1);
    port_write(io, 0x92, 0x01, 1);
    assert_int_equal(vm_pending_request(), VM_REQ_RESET);
    assert_false(mem_map_a20(mem));
    vm_clear_request();

    /* reset clears bit 0 and shows the A20 state as it is */
    port92_reset(&d);
    assert_int_equal(port_read(io, 0x92, 1), 0x00);
    port_write(io, 0x92, 0x01, 1);
    assert_int_equal(vm_pending_request(), VM_REQ_RESET);
    vm_clear_request();

    port_bus_free(io);
    mem_map_free(mem);
}

static void test_port80(void **state)
{
    struct port_bus *io = port_bus_new();
    struct port80 d;
    char path[] = "/tmp/tandem-test-port80-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(log_set_file(path), 0);
    unsigned saved = log_mask;
    log_mask = LOG_IO;

    assert_int_equal(port80_init(&d, io), 0);
    assert_string_equal(port_bus_owner(io, 0x80), "post");
    port_write(io, 0x80, 0x5a, 1);
    assert_int_equal(port_read(io, 0x80, 1), 0x5a);
    assert_int_equal(d.last, 0x5a);
    port_write(io, 0x80, 0x1234, 2); /* a word write: its low byte */
    assert_int_equal(d.last, 0x34);
    assert_int_equal(port_read(io, 0x80, 2), 0xff34);

    log_mask = saved;
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    assert_non_null(strstr(buf, "POST code 0x5a"));
    assert_non_null(strstr(buf, "POST code 0x34"));
    port_bus_free(io);
}

struct sink {
    char buf[64];
    size_t len;
};

static void sink_put(void *opaque, uint8_t c)
{
    struct sink *s = opaque;
    if (s->len < sizeof(s->buf) - 1)
        s->buf[s->len++] = (char)c;
}

static void test_debugcon(void **state)
{
    struct port_bus *io = port_bus_new();
    struct debugcon d;
    struct sink s = {0};
    assert_int_equal(debugcon_init(&d, io, DEBUGCON_PORT, sink_put, &s), 0);
    const char *msg = "hello, 0xE9\n";
    for (const char *p = msg; *p; p++)
        port_write(io, 0xe9, (uint8_t)*p, 1);
    assert_string_equal(s.buf, msg);
    assert_int_equal(port_read(io, 0xe9, 1), 0xe9);
    port_write(io, 0xe9, 0x4241, 2); /* only the byte at 0xE9 */
    assert_int_equal(s.len, strlen(msg) + 1);
    assert_int_equal(s.buf[s.len - 1], 'A');
    port_bus_free(io);

    /* a host FILE * sink on another port */
    io = port_bus_new();
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(debugcon_init(&d, io, 0x402, debugcon_put_file, f), 0);
    port_write(io, 0x402, 'o', 1);
    port_write(io, 0x402, 'k', 1);
    rewind(f);
    char buf[8] = {0};
    assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 2);
    assert_string_equal(buf, "ok");
    fclose(f);
    port_bus_free(io);
}

static void test_debug_exit(void **state)
{
    struct port_bus *io = port_bus_new();
    vm_clear_request();
    assert_int_equal(debug_exit_init(io, 0xf4, 4), 0);
    assert_int_equal(port_read(io, 0xf7, 1), 0);
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);

    port_write(io, 0xf4, 0x10, 4);
    assert_int_equal(vm_pending_request(), VM_REQ_EXIT);
    assert_int_equal(vm_exit_status(), 0x21);
    assert_string_equal(vm_request_reason(), "isa-debug-exit");
    vm_clear_request();

    port_write(io, 0xf6, 0x00, 1); /* any port of the range */
    assert_int_equal(vm_pending_request(), VM_REQ_EXIT);
    assert_int_equal(vm_exit_status(), 1);
    vm_clear_request();
    assert_null(port_bus_owner(io, 0xf8));

    /* QEMU's default place, and bad ranges */
    assert_int_equal(debug_exit_init(io, DEBUG_EXIT_DEFAULT_BASE,
                                     DEBUG_EXIT_DEFAULT_SIZE), 0);
    port_write(io, 0x502, 0x7f, 1);
    assert_int_equal(vm_exit_status(), 0xff);
    vm_clear_request();
    assert_int_equal(debug_exit_init(io, 0x500, 2), -16 /* EBUSY */);
    assert_int_equal(debug_exit_init(io, 0x600, 0), -22 /* EINVAL */);
    assert_int_equal(debug_exit_init(io, 0xfffe, 4), -22 /* EINVAL */);
    port_bus_free(io);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port92),
        cmocka_unit_test(test_port80),
        cmocka_unit_test(test_debugcon),
        cmocka_unit_test(test_debug_exit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
