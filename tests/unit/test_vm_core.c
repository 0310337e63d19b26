/* Unit tests of the machine core: port bus dispatch and unclaimed ports,
 * the memory map's priorities, aliases and listeners, A20, the virtual
 * clock's timers, and runstate requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vm/clock.h"
#include "vm/memory.h"
#include "vm/port_bus.h"
#include "vm/runstate.h"

struct fake_dev {
    uint64_t last_offset, last_value;
    unsigned last_size;
    int writes;
};

static uint64_t fake_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    return 0x1000 + offset + size;
}

static void fake_write(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size)
{
    struct fake_dev *d = opaque;
    d->last_offset = offset;
    d->last_value = value;
    d->last_size = size;
    d->writes++;
}

static const struct io_ops fake_ops = {fake_read, fake_write};

static void test_port_bus(void **state)
{
    (void)state;
    struct port_bus *bus = port_bus_new();
    struct fake_dev d = {0};
    assert_int_equal(port_bus_register(bus, 0x3f8, 8, "uart", &fake_ops, &d), 0);
    assert_int_equal(port_bus_register(bus, 0x3fc, 2, "clash", &fake_ops, &d),
                     -16 /* EBUSY */);
    assert_int_equal(port_read(bus, 0x3fa, 1), (0x1000 + 2 + 1) & 0xff);
    assert_int_equal(port_read(bus, 0x3f8, 2), 0x1000 + 0 + 2);
    port_write(bus, 0x3fb, 0x1ff, 1);
    assert_int_equal(d.last_offset, 3);
    assert_int_equal(d.last_value, 0xff);
    /* unclaimed: all ones, writes dropped */
    assert_int_equal(port_read(bus, 0x1234, 1), 0xff);
    assert_int_equal(port_read(bus, 0x1234, 2), 0xffff);
    assert_int_equal(port_read(bus, 0x1234, 4), 0xffffffffu);
    port_write(bus, 0x1234, 5, 1);
    assert_int_equal(d.writes, 1);
    assert_string_equal(port_bus_owner(bus, 0x3ff), "uart");
    port_bus_unregister(bus, 0x3f8);
    assert_null(port_bus_owner(bus, 0x3ff));
    assert_int_equal(port_read(bus, 0x3f8, 1), 0xff);
    port_bus_free(bus);
}

struct change_log {
    int changes;
    uint64_t base, size;
    int written;
};

static void on_change(void *opaque, uint64_t base, uint64_t size)
{
    struct change_log *c = opaque;
    c->changes++;
    c->base = base;
    c->size = size;
}

static void on_written(void *opaque, uint64_t gpa, uint64_t len)
{
    struct change_log *c = opaque;
    (void)gpa;
    c->written += (int)len;
}

static void test_memory_map(void **state)
{
    (void)state;
    static uint8_t ram[0x200000], rom[0x10000];
    struct mem_map *map = mem_map_new();
    struct change_log log = {0};
    struct fake_dev d = {0};
    mem_map_add_listener(map, &(struct mem_listener){on_change, on_written, &log});

    mem_map_add_ram(map, "ram", 0, sizeof(ram), ram, 0);
    assert_int_equal(log.changes, 1);
    memset(rom, 0xab, sizeof(rom));
    struct mem_region *r = mem_map_add_rom(map, "bios", 0xffff0000, sizeof(rom), rom, 0);
    mem_map_add_alias(map, "bios-low", 0xf0000, 0x10000, r, 0, 1);
    struct mem_region *vga = mem_map_add_mmio(map, "vga", 0xa0000, 0x20000, &fake_ops, &d, 1);

    /* RAM little-endian, ROM through the alias above RAM, MMIO above RAM */
    mem_write(map, 0x1000, 0x1122334455667788ull, 8);
    assert_int_equal(mem_read(map, 0x1004, 4), 0x11223344);
    assert_int_equal(ram[0x1000], 0x88);
    assert_int_equal(mem_read(map, 0xf0010, 1), 0xab);
    mem_write(map, 0xf0010, 0x55, 1);               /* ROM: dropped */
    assert_int_equal(mem_read(map, 0xf0010, 1), 0xab);
    assert_int_equal(ram[0xf0010], 0);
    assert_int_equal(mem_read(map, 0xa0004, 2), 0x1000 + 4 + 2);
    mem_write(map, 0xa0008, 0x77, 4);
    assert_int_equal(d.last_offset, 8);
    assert_int_equal(d.last_size, 4);
    /* holes: all ones */
    assert_int_equal(mem_read(map, 0x80000000ull, 4), 0xffffffffu);
    assert_true(mem_read(map, 0x80000000ull, 8) == ~0ull);

    /* the flat view: ram, vga, ram, bios alias, ram, bios */
    size_t n;
    const struct mem_section *s = mem_map_sections(map, &n);
    assert_int_equal(n, 6);
    assert_int_equal(s[1].base, 0xa0000);
    assert_string_equal(s[3].region->name, "bios");
    assert_int_equal(s[3].base, 0xf0000);
    assert_int_equal(s[4].base, 0x100000);
    assert_int_equal(s[5].base, 0xffff0000);

    /* host pointers only for plain RAM, ROM read-only */
    assert_ptr_equal(mem_map_host_ptr(map, 0x2000, 16, true), ram + 0x2000);
    assert_null(mem_map_host_ptr(map, 0xa0000, 1, false));
    assert_non_null(mem_map_host_ptr(map, 0xf0000, 16, false));
    assert_null(mem_map_host_ptr(map, 0xf0000, 16, true));
    assert_null(mem_map_host_ptr(map, 0x9fff0, 0x20, false));

    /* shadowing: the ROM turns into RAM and accepts writes */
    mem_map_set_kind(map, r, MEM_RAM);
    mem_write(map, 0xffff0010, 0x5a, 1);
    assert_int_equal(mem_read(map, 0xf0010, 1), 0x5a);

    /* disabling the MMIO region uncovers RAM; listeners hear it */
    int before = log.changes;
    mem_map_set_enabled(map, vga, false);
    assert_true(log.changes > before);
    assert_int_equal(log.base, 0xa0000);
    assert_int_equal(mem_read(map, 0xa0000, 1), 0);

    /* bulk DMA writes notify ram_written and cross sections */
    uint8_t buf[0x20];
    memset(buf, 0x42, sizeof(buf));
    mem_rw(map, 0x9fff0, buf, sizeof(buf), true);
    assert_int_equal(log.written, 0x20);
    memset(buf, 0, sizeof(buf));
    mem_rw(map, 0x9fff0, buf, sizeof(buf), false);
    assert_int_equal(buf[0x1f], 0x42);

    /* A20 */
    assert_true(mem_map_a20_mask(map) == ~0ull);
    before = log.changes;
    mem_map_set_a20(map, false);
    assert_int_equal(mem_map_a20_mask(map) & 0x100000, 0);
    assert_true(log.changes > before);
    mem_map_free(map);
}

static int fired[4];
static void timer_cb(void *opaque)
{
    fired[(intptr_t)opaque]++;
}

static void test_clock(void **state)
{
    (void)state;
    struct vclock *c = vclock_new(VCLOCK_MANUAL);
    struct vtimer a, b;
    vtimer_init(&a, c, timer_cb, (void *)0);
    vtimer_init(&b, c, timer_cb, (void *)1);
    assert_true(vclock_next_deadline(c) == VCLOCK_NEVER);
    vtimer_mod(&a, 1000);
    vtimer_mod(&b, 500);
    assert_int_equal(vclock_next_deadline(c), 500);
    vclock_advance(c, 499);
    assert_int_equal(vclock_run_timers(c), 0);
    vclock_advance(c, 1);
    assert_int_equal(vclock_run_timers(c), 1);
    assert_int_equal(fired[1], 1);
    assert_false(vtimer_armed(&b));
    vtimer_mod(&a, 2000); /* re-arm moves it */
    vclock_set(c, 1500);
    assert_int_equal(vclock_run_timers(c), 0);
    vtimer_del(&a);
    assert_true(vclock_next_deadline(c) == VCLOCK_NEVER);
    assert_int_equal(clock_ns_to_ticks(NS_PER_SEC, 1193182), 1193182);
    assert_int_equal(clock_ticks_to_ns(3579545, 3579545), NS_PER_SEC);
    vclock_free(c);

    /* icount mode advances with retired instructions */
    c = vclock_new(VCLOCK_ICOUNT);
    vclock_set_icount_shift(c, 2);
    vclock_icount_add(c, 100);
    assert_int_equal(vclock_now(c), 400);
    vclock_free(c);

    /* host mode is monotonic and stops while paused */
    c = vclock_new(VCLOCK_HOST);
    int64_t t0 = vclock_now(c);
    vclock_stop(c);
    int64_t t1 = vclock_now(c);
    assert_true(t1 >= t0);
    assert_int_equal(vclock_now(c), t1);
    vclock_start(c);
    assert_true(vclock_now(c) >= t1);
    vclock_free(c);
}

static void test_runstate(void **state)
{
    (void)state;
    vm_clear_request();
    vm_request(VM_REQ_RESET, "test reset");
    assert_int_equal(vm_pending_request(), VM_REQ_RESET);
    vm_request_exit(7, "debug exit");
    vm_request(VM_REQ_RESET, "weaker");
    assert_int_equal(vm_pending_request(), VM_REQ_EXIT);
    assert_int_equal(vm_exit_status(), 7);
    assert_string_equal(vm_request_reason(), "debug exit");
    vm_clear_request();
    assert_int_equal(vm_pending_request(), VM_REQ_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_bus),
        cmocka_unit_test(test_memory_map),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_runstate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
