/* Unit tests for the MC146818 RTC/CMOS through ports 0x70/0x71 with a
 * manual virtual clock: BCD/binary and 12/24 hour time at a fixed start,
 * rollover, setting the time with SET, periodic/alarm/update interrupts,
 * the UIP window, register C, the divider reset, NMI mask and the BIOS
 * fields written by rtc_cmos_fill. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "devices/rtc.h"

#define MS (NS_PER_SEC / 1000)
#define US (NS_PER_SEC / 1000000)
#define T_2024_03_15_134530 1710510330 /* a Friday */
#define T_2023_12_31_235959 1704067199 /* a Sunday */
#define T_2024_02_28_235959 1709164799

struct fixture {
    struct port_bus *bus;
    struct vclock *clock;
    struct rtc rtc;
    int level, rises;
};

static void irq_handler(void *opaque, int pin, int level)
{
    struct fixture *f = opaque;
    if (level && !f->level)
        f->rises++;
    f->level = level;
}

static struct fixture *make(int64_t start)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->bus = port_bus_new();
    f->clock = vclock_new(VCLOCK_MANUAL);
    struct irq_line line = {irq_handler, f, 8};
    assert_int_equal(rtc_init(&f->rtc, f->bus, f->clock, line, start), 0);
    return f;
}

static int setup(void **state)
{
    *state = make(T_2024_03_15_134530);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vtimer_del(&f->rtc.timer);
    port_bus_free(f->bus);
    vclock_free(f->clock);
    free(f);
    return 0;
}

static uint8_t rd(struct fixture *f, uint8_t index)
{
    port_write(f->bus, 0x70, index, 1);
    return (uint8_t)port_read(f->bus, 0x71, 1);
}

static void wr(struct fixture *f, uint8_t index, uint8_t v)
{
    port_write(f->bus, 0x70, index, 1);
    port_write(f->bus, 0x71, v, 1);
}

static void run_to(struct fixture *f, int64_t t)
{
    vclock_set(f->clock, t);
    vclock_run_timers(f->clock);
}

static void test_bcd_time_at_fixed_start(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(rd(f, 0x0a), 0x26);
    assert_int_equal(rd(f, 0x0b), 0x02);
    assert_int_equal(rd(f, 0x0d), 0x80);
    assert_int_equal(rd(f, 0x00), 0x30);
    assert_int_equal(rd(f, 0x02), 0x45);
    assert_int_equal(rd(f, 0x04), 0x13);
    assert_int_equal(rd(f, 0x06), 6); /* Friday, Sunday = 1 */
    assert_int_equal(rd(f, 0x07), 0x15);
    assert_int_equal(rd(f, 0x08), 0x03);
    assert_int_equal(rd(f, 0x09), 0x24);
    assert_int_equal(rd(f, 0x32), 0x20);
    run_to(f, 999 * MS);
    assert_int_equal(rd(f, 0x00), 0x30);
    run_to(f, 1000 * MS);
    assert_int_equal(rd(f, 0x00), 0x31);
    run_to(f, 90 * NS_PER_SEC);
    assert_int_equal(rd(f, 0x00), 0x00);
    assert_int_equal(rd(f, 0x02), 0x47);
}

static void test_binary_and_12_hour(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x0b, 0x06); /* binary, 24 h */
    assert_int_equal(rd(f, 0x00), 30);
    assert_int_equal(rd(f, 0x02), 45);
    assert_int_equal(rd(f, 0x04), 13);
    assert_int_equal(rd(f, 0x09), 24);
    assert_int_equal(rd(f, 0x32), 20);
    wr(f, 0x0b, 0x04); /* binary, 12 h: 1 PM */
    assert_int_equal(rd(f, 0x04), 0x81);
    wr(f, 0x0b, 0x00); /* BCD, 12 h */
    assert_int_equal(rd(f, 0x04), 0x81);
    run_to(f, 11 * 3600 * NS_PER_SEC); /* 00:45:30 next day: 12 AM */
    assert_int_equal(rd(f, 0x04), 0x12);
    assert_int_equal(rd(f, 0x07), 0x16);
    assert_int_equal(rd(f, 0x06), 7);
    run_to(f, 23 * 3600 * NS_PER_SEC); /* 12:45:30: 12 PM */
    assert_int_equal(rd(f, 0x04), 0x92);
    wr(f, 0x0b, 0x02);
    assert_int_equal(rd(f, 0x04), 0x12);
}

static void test_year_rollover(void **state)
{
    struct fixture *f = make(T_2023_12_31_235959);
    assert_int_equal(rd(f, 0x09), 0x23);
    assert_int_equal(rd(f, 0x06), 1);
    run_to(f, NS_PER_SEC);
    assert_int_equal(rd(f, 0x00), 0x00);
    assert_int_equal(rd(f, 0x04), 0x00);
    assert_int_equal(rd(f, 0x07), 0x01);
    assert_int_equal(rd(f, 0x08), 0x01);
    assert_int_equal(rd(f, 0x09), 0x24);
    assert_int_equal(rd(f, 0x06), 2);
    teardown((void **)&f);

    f = make(T_2024_02_28_235959); /* leap year */
    run_to(f, NS_PER_SEC);
    assert_int_equal(rd(f, 0x07), 0x29);
    assert_int_equal(rd(f, 0x08), 0x02);
    teardown((void **)&f);
}

static void test_set_time_with_set_bit(void **state)
{
    struct fixture *f = *state;
    run_to(f, 300 * MS);
    wr(f, 0x0b, 0x82 | 0x10); /* SET (and UIE, which SET clears) */
    assert_int_equal(rd(f, 0x0b), 0x82);
    wr(f, 0x04, 0x08);
    wr(f, 0x02, 0x00);
    wr(f, 0x00, 0x00);
    wr(f, 0x07, 0x31);
    wr(f, 0x08, 0x12);
    wr(f, 0x09, 0x99);
    wr(f, 0x32, 0x19);
    wr(f, 0x06, 3);
    run_to(f, 5300 * MS); /* held while SET */
    assert_int_equal(rd(f, 0x00), 0x00);
    assert_int_equal(rd(f, 0x04), 0x08);
    assert_int_equal(rd(f, 0x0a) & 0x80, 0); /* no UIP while SET */
    run_to(f, 5600 * MS);
    wr(f, 0x0b, 0x02);
    /* the divider chain kept its phase: the next update is at 6.0 s */
    run_to(f, 5999 * MS);
    assert_int_equal(rd(f, 0x00), 0x00);
    run_to(f, 6000 * MS);
    assert_int_equal(rd(f, 0x00), 0x01);
    assert_int_equal(rd(f, 0x07), 0x31);
    assert_int_equal(rd(f, 0x09), 0x99);
    assert_int_equal(rd(f, 0x32), 0x19);
    assert_int_equal(rd(f, 0x06), 3);
    /* the day of week counts on from what was written */
    run_to(f, 6000 * MS + 16 * 3600 * NS_PER_SEC);
    assert_int_equal(rd(f, 0x04), 0x00);
    assert_int_equal(rd(f, 0x07), 0x01);
    assert_int_equal(rd(f, 0x08), 0x01);
    assert_int_equal(rd(f, 0x09), 0x00);
    assert_int_equal(rd(f, 0x32), 0x20);
    assert_int_equal(rd(f, 0x06), 4);
}

static void test_write_while_running(void **state)
{
    struct fixture *f = *state;
    run_to(f, 500 * MS);
    wr(f, 0x02, 0x10); /* minutes, without SET */
    assert_int_equal(rd(f, 0x02), 0x10);
    assert_int_equal(rd(f, 0x00), 0x30);
    run_to(f, 1000 * MS);
    assert_int_equal(rd(f, 0x00), 0x31);
    assert_int_equal(rd(f, 0x04), 0x13);
}

static int count_periodic(struct fixture *f, int64_t from, int64_t to,
                          int64_t step)
{
    int n = 0;
    for (int64_t t = from + step; t <= to; t += step) {
        run_to(f, t);
        if (f->level) {
            n++;
            assert_int_equal(rd(f, 0x0c) & 0xc0, 0xc0);
            assert_int_equal(f->level, 0);
        }
    }
    return n;
}

static void test_periodic_interrupt_count(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x0b, 0x42); /* PIE */
    assert_int_equal(count_periodic(f, 0, NS_PER_SEC, 50 * US), 1024);
    wr(f, 0x0a, 0x2f); /* 2 Hz */
    assert_int_equal(count_periodic(f, NS_PER_SEC, 3 * NS_PER_SEC, MS), 4);
    wr(f, 0x0a, 0x23); /* 8192 Hz */
    assert_int_equal(count_periodic(f, 3 * NS_PER_SEC,
                                    3 * NS_PER_SEC + 10 * MS, 10 * US), 81);
    run_to(f, 4 * NS_PER_SEC);
    assert_int_equal(f->level, 1);
    assert_int_equal(rd(f, 0x0c) & 0xc0, 0xc0);
    wr(f, 0x0a, 0x21); /* rate 1 repeats rate 8: 256 Hz */
    assert_int_equal(count_periodic(f, 4 * NS_PER_SEC, 5 * NS_PER_SEC,
                                    100 * US), 256);
    wr(f, 0x0a, 0x20); /* rate 0: none */
    assert_int_equal(count_periodic(f, 5 * NS_PER_SEC, 6 * NS_PER_SEC, MS), 0);
}

static void test_flags_without_enables(void **state)
{
    struct fixture *f = *state;
    run_to(f, 10 * MS);
    assert_int_equal(rd(f, 0x0c), 0x40); /* PF without PIE: no IRQF */
    assert_int_equal(rd(f, 0x0c), 0x00); /* cleared by the read */
    run_to(f, 1500 * MS);
    assert_int_equal(rd(f, 0x0c), 0x50); /* PF and UF */
    assert_int_equal(f->rises, 0);
    /* enabling with a flag already set interrupts at once */
    run_to(f, 1510 * MS);
    wr(f, 0x0b, 0x42);
    assert_int_equal(f->level, 1);
    assert_int_equal(rd(f, 0x0c), 0xc0);
    assert_int_equal(f->level, 0);
}

static void test_update_interrupt(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x0b, 0x12); /* UIE */
    run_to(f, 999 * MS);
    assert_int_equal(f->level, 0);
    run_to(f, 1000 * MS);
    assert_int_equal(f->level, 1);
    assert_int_equal(rd(f, 0x00), 0x31); /* already updated */
    assert_int_equal(rd(f, 0x0c) & 0xf0, 0xd0); /* IRQF PF UF */
    assert_int_equal(f->level, 0);
    run_to(f, 1999 * MS);
    assert_int_equal(f->level, 0);
    run_to(f, 2000 * MS);
    assert_int_equal(f->level, 1);
    assert_int_equal(f->rises, 2);
}

static void test_alarm(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x01, 0x35);
    wr(f, 0x03, 0x45);
    wr(f, 0x05, 0x13);
    wr(f, 0x0b, 0x22); /* AIE */
    run_to(f, 4999 * MS);
    assert_int_equal(f->level, 0);
    run_to(f, 5000 * MS);
    assert_int_equal(f->level, 1);
    assert_int_equal(rd(f, 0x0c), 0xf0); /* IRQF PF AF UF */
    run_to(f, 6000 * MS);
    assert_int_equal(f->level, 0); /* 13:45:36 does not match */
    assert_int_equal(rd(f, 0x0c) & 0x20, 0);

    /* don't-care hour (0xC0-0xFF): 13:46:00 */
    wr(f, 0x01, 0x00);
    wr(f, 0x03, 0x46);
    wr(f, 0x05, 0xc0);
    run_to(f, 29 * NS_PER_SEC);
    assert_int_equal(f->level, 0);
    run_to(f, 30 * NS_PER_SEC);
    assert_int_equal(f->level, 1);
    assert_int_equal(rd(f, 0x0c) & 0xa0, 0xa0);

    /* all don't care: every second */
    wr(f, 0x01, 0xff);
    wr(f, 0x03, 0xff);
    wr(f, 0x05, 0xff);
    run_to(f, 31 * NS_PER_SEC);
    assert_int_equal(f->level, 1);
    assert_int_equal(rd(f, 0x0c) & 0xa0, 0xa0);
    assert_int_equal(f->rises, 3);
}

static void test_alarm_flag_found_lazily(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x01, 0x00);
    wr(f, 0x03, 0x00);
    wr(f, 0x05, 0x15); /* 15:00:00, 4470 s after the start */
    assert_int_equal(rd(f, 0x0c), 0x00);
    run_to(f, 4000 * NS_PER_SEC);
    assert_int_equal(rd(f, 0x0c) & 0x20, 0x00);
    run_to(f, 5000 * NS_PER_SEC);
    assert_int_equal(rd(f, 0x0c) & 0x20, 0x20);
}

static void test_uip_window(void **state)
{
    struct fixture *f = *state;
    run_to(f, NS_PER_SEC - 250 * US);
    assert_int_equal(rd(f, 0x0a), 0x26);
    run_to(f, NS_PER_SEC - 240 * US);
    assert_int_equal(rd(f, 0x0a), 0xa6);
    assert_int_equal(rd(f, 0x00), 0x30); /* not yet updated */
    run_to(f, NS_PER_SEC);
    assert_int_equal(rd(f, 0x0a), 0x26);
    assert_int_equal(rd(f, 0x00), 0x31);
    wr(f, 0x0a, 0xa6); /* UIP is read-only */
    assert_int_equal(rd(f, 0x0a), 0x26);
}

static void test_divider_reset(void **state)
{
    struct fixture *f = *state;
    run_to(f, 200 * MS);
    assert_int_equal(rd(f, 0x0c), 0x40);
    wr(f, 0x0a, 0x76); /* hold the divider chain in reset */
    run_to(f, 10 * NS_PER_SEC);
    assert_int_equal(rd(f, 0x00), 0x30);
    assert_int_equal(rd(f, 0x0c), 0x00); /* no periodic flags either */
    wr(f, 0x0a, 0x26); /* first update 500 ms later */
    run_to(f, 10499 * MS);
    assert_int_equal(rd(f, 0x00), 0x30);
    run_to(f, 10500 * MS);
    assert_int_equal(rd(f, 0x00), 0x31);
}

static void test_register_c_d_and_ram(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x0c, 0xff);
    wr(f, 0x0d, 0x00);
    assert_int_equal(rd(f, 0x0c), 0x00);
    assert_int_equal(rd(f, 0x0d), 0x80);
    wr(f, 0x40, 0xa5);
    wr(f, 0x7f, 0x5a);
    assert_int_equal(rd(f, 0x40), 0xa5);
    assert_int_equal(rd(f, 0x7f), 0x5a);
    wr(f, 0x01, 0x12); /* alarm bytes are plain storage */
    assert_int_equal(rd(f, 0x01), 0x12);
    rtc_reset(&f->rtc);
    assert_int_equal(rd(f, 0x40), 0xa5);
    assert_int_equal(rd(f, 0x00), 0x30);
}

static void test_nmi_mask_and_index(void **state)
{
    struct fixture *f = *state;
    assert_false(rtc_nmi_masked(&f->rtc));
    port_write(f->bus, 0x70, 0x80 | 0x40, 1);
    assert_true(rtc_nmi_masked(&f->rtc));
    port_write(f->bus, 0x71, 0x77, 1);
    assert_int_equal(rd(f, 0x40), 0x77); /* bit 7 is not part of the index */
    assert_false(rtc_nmi_masked(&f->rtc));
    assert_int_equal(port_read(f->bus, 0x70, 1), 0xff);
}

static void test_word_access(void **state)
{
    struct fixture *f = *state;
    port_write(f->bus, 0x70, 0x060b, 2); /* index 0x0B, then data 0x06 */
    assert_int_equal(rd(f, 0x0b), 0x06);
    port_write(f->bus, 0x70, 0x00, 1);
    assert_int_equal(port_read(f->bus, 0x70, 2), 0x1eff); /* 30 s, binary */
}

static void test_reset_pin(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x0b, 0x7a);
    run_to(f, NS_PER_SEC);
    assert_int_equal(f->level, 1);
    rtc_reset(&f->rtc);
    assert_int_equal(f->level, 0);
    assert_int_equal(rd(f, 0x0b), 0x02);
    assert_int_equal(rd(f, 0x0c), 0x00);
}

static void test_cmos_fill(void **state)
{
    struct fixture *f = *state;
    struct rtc_cmos_config cfg = {
        .ram_below_4g = 0xe0000000ULL,
        .ram_above_4g = 1ULL << 30,
        .ncpus = 2,
        .floppy = {RTC_FLOPPY_1_44M, RTC_FLOPPY_NONE},
        .disk = {{16383, 16, 63}, {4096, 16, 63}, {0, 0, 0}, {512, 16, 63}},
        .boot_order = "dc",
        .floppy_sig_check = false,
    };
    unsigned sum = 0;
    assert_int_equal(rtc_cmos_fill(&f->rtc, &cfg), 0);
    assert_int_equal(rd(f, 0x15) | rd(f, 0x16) << 8, 640);
    assert_int_equal(rd(f, 0x17) | rd(f, 0x18) << 8, 0xffff);
    assert_int_equal(rd(f, 0x30) | rd(f, 0x31) << 8, 0xffff);
    assert_int_equal(rd(f, 0x34) | rd(f, 0x35) << 8, 0xdf00);
    assert_int_equal(rd(f, 0x5b), 0x00);
    assert_int_equal(rd(f, 0x5c), 0x40);
    assert_int_equal(rd(f, 0x5d), 0x00);
    assert_int_equal(rd(f, 0x5f), 1);
    assert_int_equal(rd(f, 0x10), 0x40);
    assert_int_equal(rd(f, 0x14), 0x03);
    assert_int_equal(rd(f, 0x12), 0xff);
    assert_int_equal(rd(f, 0x19), 47);
    assert_int_equal(rd(f, 0x1b) | rd(f, 0x1c) << 8, 16383);
    assert_int_equal(rd(f, 0x1d), 16);
    assert_int_equal(rd(f, 0x23), 63);
    assert_int_equal(rd(f, 0x24) | rd(f, 0x25) << 8, 4096);
    assert_int_equal(rd(f, 0x39), 0x05); /* LBA, LBA, -, none */
    assert_int_equal(rd(f, 0x3d), 0x23); /* CD-ROM, then disk */
    assert_int_equal(rd(f, 0x38), 0x01); /* no floppy signature check */
    for (int i = 0x10; i <= 0x2d; i++)
        sum += rd(f, (uint8_t)i);
    assert_int_equal(rd(f, 0x2e) << 8 | rd(f, 0x2f), sum & 0xffff);

    cfg.ram_below_4g = 32 << 20;
    cfg.ram_above_4g = 0;
    cfg.boot_order = NULL;
    cfg.floppy[1] = RTC_FLOPPY_720K;
    cfg.floppy_sig_check = true;
    cfg.ps2_mouse = true;
    assert_int_equal(rtc_cmos_fill(&f->rtc, &cfg), 0);
    assert_int_equal(rd(f, 0x17) | rd(f, 0x18) << 8, 31 * 1024);
    assert_int_equal(rd(f, 0x34) | rd(f, 0x35) << 8, 0x100);
    assert_int_equal(rd(f, 0x5c), 0x00);
    assert_int_equal(rd(f, 0x10), 0x43);
    assert_int_equal(rd(f, 0x14), 0x47);
    assert_int_equal(rd(f, 0x3d), 0x12); /* "cad": disk, floppy, CD */
    assert_int_equal(rd(f, 0x38), 0x30);

    cfg.boot_order = "cx";
    assert_int_equal(rtc_cmos_fill(&f->rtc, &cfg), -EINVAL);
    cfg.boot_order = "cadn";
    assert_int_equal(rtc_cmos_fill(&f->rtc, &cfg), -EINVAL);
}

static void test_garbage_time_does_not_crash(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x0b, 0x82);
    for (uint8_t i = 0; i <= 9; i++)
        wr(f, i, 0xff);
    wr(f, 0x32, 0xff);
    wr(f, 0x0b, 0x02);
    run_to(f, 5 * NS_PER_SEC);
    for (uint8_t i = 0; i <= 9; i++)
        (void)rd(f, i);
    wr(f, 0x0b, 0x06);
    (void)rd(f, 0x04);
}

static uint32_t lcg_next(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* Whatever a guest writes, in any order and at any time, nothing breaks */
static void test_random_accesses(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 7;
    int64_t t = 0;
    for (int i = 0; i < 50000; i++) {
        uint32_t r = lcg_next(&seed);
        switch (r & 7) {
        case 0: case 1: case 2:
            wr(f, (uint8_t)(r >> 8), (uint8_t)(r >> 16));
            break;
        case 3:
            t += (r & 0x100) && (r & 0x3ff000) == 0 ? 3 * 86400 * NS_PER_SEC
                                                     : (int64_t)(r >> 12) * 100;
            run_to(f, t);
            break;
        default:
            (void)rd(f, (uint8_t)(r >> 8));
            break;
        }
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_bcd_time_at_fixed_start),
        T(test_binary_and_12_hour),
        cmocka_unit_test(test_year_rollover),
        T(test_set_time_with_set_bit),
        T(test_write_while_running),
        T(test_periodic_interrupt_count),
        T(test_flags_without_enables),
        T(test_update_interrupt),
        T(test_alarm),
        T(test_alarm_flag_found_lazily),
        T(test_uip_window),
        T(test_divider_reset),
        T(test_register_c_d_and_ram),
        T(test_nmi_mask_and_index),
        T(test_word_access),
        T(test_reset_pin),
        T(test_cmos_fill),
        T(test_garbage_time_does_not_crash),
        T(test_random_accesses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
