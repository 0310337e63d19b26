/* Unit tests of the PC board's snapshot sections (board/pc_snapshot.c) and
 * the devices' post-load hooks: machine A programs the PIC, PIT, RTC,
 * UART, LAPIC timer and ACPI PM timer through their ports and runs a while;
 * its snapshot is loaded into machine B, which had run elsewhere on its own
 * clock. From then on both run on the same clock and must agree on every
 * section's bytes, on every armed timer and on the interrupt lines; a
 * damaged snapshot leaves B as it was. And the power button. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "board/pc_board.h"
#include "cpu/x86_state.h"
#include "vm/accel.h"
#include "vm/board.h"
#include "vm/snapshot.h"
#include "vm/vmstate.h"

static char bios_path[] = "/tmp/tandem-bios-XXXXXX";

static int make_bios(void **state)
{
    (void)state;
    int fd = mkstemp(bios_path);
    uint8_t rom[4096];
    memset(rom, 0xf4, sizeof(rom)); /* HLT */
    if (fd < 0 || write(fd, rom, sizeof(rom)) != (ssize_t)sizeof(rom))
        return -1;
    close(fd);
    return 0;
}

static int remove_bios(void **state)
{
    (void)state;
    unlink(bios_path);
    return 0;
}

static struct machine *pc_new(void)
{
    struct machine *m = calloc(1, sizeof(*m));
    struct machine_config cfg = {.ram_size = 8u << 20, .ncpus = 1,
                                 .clock_mode = VCLOCK_MANUAL,
                                 .serial = "none", .bios = bios_path,
                                 .rtc_base = 1000000000};
    assert_int_equal(machine_init(m, &cfg), 0);
    assert_int_equal(board_init(m), 0);
    /* COM1 at its baud rate, so that a transmit timer is running to save */
    ((struct pc_board *)m->board)->uart[0].instant_tx = false;
    return m;
}

static void pc_free(struct machine *m)
{
    /* the board's devices stay allocated; drop their timers */
    struct pc_board *b = m->board;
    board_reset(m);
    vtimer_del(&b->lapic[0].timer);
    vtimer_del(&b->pm.tmr_timer);
    free(b);
    machine_destroy(m);
    free(m);
}

static void run_to(struct machine *m, int64_t ns)
{
    int64_t d;
    while ((d = vclock_next_deadline(m->clock)) <= ns) {
        vclock_set(m->clock, d);
        vclock_run_timers(m->clock);
    }
    vclock_set(m->clock, ns);
    vclock_run_timers(m->clock);
}

static void out8(struct machine *m, uint16_t port, uint8_t v)
{
    port_write(m->io, port, v, 1);
}

static void lapic_write(struct machine *m, uint32_t reg, uint32_t v)
{
    vcpu_link_current = &m->cpu_link[0];
    mem_write(m->mem, 0xfee00000u + reg, v, 4);
    vcpu_link_current = NULL;
}

/* What a guest kernel sets up: PIC, 1 kHz PIT, RTC periodic interrupt,
 * UART output in progress, LAPIC periodic timer, ACPI PM timer overflow */
static void program(struct machine *m)
{
    static const uint8_t pic_init[2][4] = {{0x11, 0x20, 0x04, 0x01},
                                           {0x11, 0x28, 0x02, 0x01}};
    for (int i = 0; i < 2; i++) {
        uint16_t base = i ? 0xa0 : 0x20;
        out8(m, base, pic_init[i][0]);
        for (int k = 1; k < 4; k++)
            out8(m, base + 1, pic_init[i][k]);
    }
    out8(m, 0x21, 0xf8);
    out8(m, 0xa1, 0xfe);
    out8(m, 0x43, 0x34); /* counter 0, mode 2 */
    out8(m, 0x40, 1193 & 0xff);
    out8(m, 0x40, 1193 >> 8);
    out8(m, 0x70, 0x0b); /* RTC: periodic interrupt on */
    out8(m, 0x71, 0x42);
    out8(m, 0x3fb, 0x83); /* UART: 300 baud 8N1, FIFO, THRE interrupt */
    out8(m, 0x3f8, 0x80);
    out8(m, 0x3f9, 0x01);
    out8(m, 0x3fb, 0x03);
    out8(m, 0x3fa, 0x07);
    out8(m, 0x3fc, 0x08);
    out8(m, 0x3f9, 0x02);
    for (const char *p = "snapshot!"; *p; p++)
        out8(m, 0x3f8, (uint8_t)*p);
    /* ACPI PM: I/O at 0x600, PM timer overflow events on */
    port_write(m->io, 0xcf8, 0x80000000u | 0x0b << 8 | 0x40, 4);
    port_write(m->io, 0xcfc, 0x601, 4);
    port_write(m->io, 0xcf8, 0x80000000u | 0x0b << 8 | 0x80, 4);
    port_write(m->io, 0xcfc, 0x01, 1);
    port_write(m->io, 0x602, 0x0001, 2);
    lapic_write(m, 0xf0, 0x1ff);
    lapic_write(m, 0x3e0, 0x0b);
    lapic_write(m, 0x320, 0x20030);
    lapic_write(m, 0x380, 250000);
}

static uint8_t rtc_reg_c(struct machine *m)
{
    out8(m, 0x70, 0x0c);
    return (uint8_t)port_read(m->io, 0x71, 1);
}

static void read_isr_irr(struct machine *m, uint8_t *out)
{
    out8(m, 0x20, 0x0a);
    out[0] = (uint8_t)port_read(m->io, 0x20, 1);
    out8(m, 0x20, 0x0b);
    out[1] = (uint8_t)port_read(m->io, 0x20, 1);
}

/* Both machines agree on every section, timer and line */
static void expect_same(struct machine *a, struct machine *b)
{
    struct pc_board *ba = a->board, *bb = b->board;
    assert_int_equal(vclock_now(a->clock), vclock_now(b->clock));
    for (size_t i = 0; i < vmstate_count(a->vmstate); i++) {
        const struct vmstate_section *sa = vmstate_at(a->vmstate, i);
        const struct vmstate_section *sb = vmstate_at(b->vmstate, i);
        assert_string_equal(sa->name, sb->name);
        if (memcmp(sa->data, sb->data, sa->size))
            fail_msg("section %s differs", sa->name);
    }
    const struct vtimer *ta[] = {&ba->pit.timer, &ba->rtc.timer,
                                 &ba->uart[0].tx_timer, &ba->uart[0].rx_timer,
                                 &ba->lapic[0].timer, &ba->pm.tmr_timer};
    const struct vtimer *tb[] = {&bb->pit.timer, &bb->rtc.timer,
                                 &bb->uart[0].tx_timer, &bb->uart[0].rx_timer,
                                 &bb->lapic[0].timer, &bb->pm.tmr_timer};
    for (size_t i = 0; i < sizeof(ta) / sizeof(ta[0]); i++) {
        assert_int_equal(ta[i]->armed, tb[i]->armed);
        if (ta[i]->armed)
            assert_int_equal(ta[i]->expire, tb[i]->expire);
    }
    assert_int_equal(vclock_next_deadline(a->clock),
                     vclock_next_deadline(b->clock));
    assert_int_equal(ba->pic.intr_level, bb->pic.intr_level);
    assert_int_equal(vcpu_link_pending(&a->cpu_link[0]) & VCPU_EV_INTR,
                     vcpu_link_pending(&b->cpu_link[0]) & VCPU_EV_INTR);
    assert_int_equal(mem_map_a20(a->mem), mem_map_a20(b->mem));
}

static void *cpu_state(void)
{
    void *s = aligned_alloc(64, (accel_cpu_state_size + 63) & ~63u);
    x86_state_reset(s);
    return s;
}

static void test_restore_agrees(void **state)
{
    (void)state;
    struct machine *a = pc_new(), *b = pc_new();
    program(a);
    run_to(a, 3500000);           /* 3.5 ms: IRQs pending, UART busy */
    assert_int_not_equal(rtc_reg_c(a), 0); /* and the RTC timer re-armed */
    out8(a, 0x92, 0x00);          /* A20 off */
    out8(a, 0x80, 0x42);
    port_write(a->io, 0xcf8, 0x80000058u, 4); /* PAM0: F0000 read/write DRAM */
    port_write(a->io, 0xcfd, 0x30, 1);
    mem_write(a->mem, 0xff000, 0x12345678, 4);
    run_to(b, 77000000);          /* B lives elsewhere in time */
    out8(b, 0x43, 0x30);
    void *cpu = cpu_state();
    uint8_t *buf;
    size_t len;
    assert_int_equal(snapshot_encode(a, &cpu, &buf, &len), 0);
    assert_true(len < (1u << 20)); /* 8 MiB of mostly zero RAM */
    struct snapshot *s;
    char err[SNAPSHOT_ERR_LEN];
    assert_int_equal(snapshot_decode(&s, b, buf, len, err), 0);
    snapshot_apply(s, b);
    snapshot_free(s);
    expect_same(a, b);
    struct pc_board *bb = b->board;
    assert_true(bb->pit.timer.armed);
    assert_true(bb->uart[0].tx_timer.armed);
    assert_true(bb->lapic[0].timer.armed);
    assert_true(bb->rtc.timer.armed);
    assert_true(bb->pm.tmr_timer.armed);
    assert_int_equal(bb->port80.last, 0x42);
    assert_false(mem_map_a20(b->mem));
    assert_int_equal(mem_read(b->mem, 0xff000, 4), 0x12345678);
    /* both go on to the same future */
    for (int64_t t = 3600000; t < 40000000; t += 1700000) {
        run_to(a, t);
        run_to(b, t);
        uint8_t ra[2], rb[2];
        read_isr_irr(a, ra);
        read_isr_irr(b, rb);
        assert_memory_equal(ra, rb, 2);
        assert_int_equal(port_read(a->io, 0x40, 1), port_read(b->io, 0x40, 1));
        assert_int_equal(port_read(a->io, 0x608, 4), port_read(b->io, 0x608, 4));
        if (t % 2 == 0)
            assert_int_equal(rtc_reg_c(a), rtc_reg_c(b));
        assert_int_equal(port_read(a->io, 0x3fd, 1), port_read(b->io, 0x3fd, 1));
        if (t % 3 == 0) { /* acknowledge as the CPU would */
            assert_int_equal(pic_ack(&((struct pc_board *)a->board)->pic),
                             pic_ack(&bb->pic));
            out8(a, 0x20, 0x20);
            out8(b, 0x20, 0x20);
        }
        expect_same(a, b);
    }
    free(cpu);
    pc_free(a);
    pc_free(b);
}

static void test_damaged_leaves_machine(void **state)
{
    (void)state;
    struct machine *a = pc_new(), *b = pc_new();
    program(a);
    run_to(a, 2000000);
    program(b);
    run_to(b, 5000000);
    void *cpu = cpu_state();
    uint8_t *buf;
    size_t len;
    assert_int_equal(snapshot_encode(a, &cpu, &buf, &len), 0);
    /* a reference copy of B */
    struct machine *ref = pc_new();
    program(ref);
    run_to(ref, 5000000);
    expect_same(b, ref);
    for (size_t off = 0; off < len; off += 1 + len / 300) {
        uint8_t *c = malloc(len);
        memcpy(c, buf, len);
        c[off] ^= 0x01;
        struct snapshot *s;
        char err[SNAPSHOT_ERR_LEN];
        assert_int_not_equal(snapshot_decode(&s, b, c, len, err), 0);
        if (off >= 24) /* past magic, version, sizes */
            assert_non_null(strstr(err, "checksum"));
    }
    expect_same(b, ref);
    free(buf);
    free(cpu);
    pc_free(a);
    pc_free(b);
    pc_free(ref);
}

/* The monitor's system_powerdown presses the ACPI power button */
static void test_power_button(void **state)
{
    (void)state;
    struct machine *m = pc_new();
    struct pc_board *b = m->board;
    assert_int_equal(b->pm.s.pm1_sts & ACPI_PM1_PWRBTN, 0);
    board_power_button(m);
    assert_int_equal(b->pm.s.pm1_sts & ACPI_PM1_PWRBTN, ACPI_PM1_PWRBTN);
    pc_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restore_agrees),
        cmocka_unit_test(test_damaged_leaves_machine),
        cmocka_unit_test(test_power_button),
    };
    return cmocka_run_group_tests(tests, make_bios, remove_bios);
}
