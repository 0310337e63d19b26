/* Unit tests of the command line: QEMU's spellings, sizes, the
 * isa-debug-exit device string, and one clear error for bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vm/cmdline.h"
#include "vm/log.h"

static enum cmdline_result parse(struct machine_config *cfg, int argc,
                                 char **argv)
{
    return cmdline_parse(argc, argv, cfg);
}

#define ARGV(...) ((char *[]){"tandem", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"tandem", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(cfg, ...) parse(cfg, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void test_defaults(void **state)
{
    (void)state;
    struct machine_config cfg;
    char *argv[] = {"tandem", NULL};
    assert_int_equal(parse(&cfg, 1, argv), CMDLINE_RUN);
    assert_int_equal(cfg.ram_size, 128ull << 20);
    assert_int_equal(cfg.ncpus, 1);
    assert_string_equal(cfg.serial, "stdio");
    assert_string_equal(cfg.accel, "auto");
    assert_false(cfg.debug_exit);
    assert_int_equal(cfg.rtc_base, -1);
}

static void test_options(void **state)
{
    (void)state;
    struct machine_config cfg;
    assert_int_equal(PARSE(&cfg, "-m", "2G", "-smp", "2", "-kernel", "k",
                           "-initrd", "i", "-append", "console=ttyS0",
                           "-no-reboot", "-no-shutdown", "-serial", "file:/tmp/x",
                           "-nographic", "--device", "isa-debug-exit,iobase=0xf4,iosize=4",
                           "-rtc", "base=2020-01-02T03:04:05", "-icount", "shift=3"),
                     CMDLINE_RUN);
    assert_int_equal(cfg.ram_size, 2ull << 30);
    assert_int_equal(cfg.ncpus, 2);
    assert_string_equal(cfg.kernel, "k");
    assert_string_equal(cfg.initrd, "i");
    assert_string_equal(cfg.append, "console=ttyS0");
    assert_true(cfg.no_reboot && cfg.no_shutdown);
    assert_string_equal(cfg.serial, "file:/tmp/x");
    assert_true(cfg.debug_exit);
    assert_int_equal(cfg.debug_exit_base, 0xf4);
    assert_int_equal(cfg.debug_exit_size, 4);
    assert_int_equal(cfg.rtc_base, 1577934245);
    assert_int_equal(cfg.clock_mode, VCLOCK_ICOUNT);
    assert_int_equal(cfg.icount_shift, 3);
    /* QEMU's default debug-exit port */
    assert_int_equal(PARSE(&cfg, "-device", "isa-debug-exit"), CMDLINE_RUN);
    assert_int_equal(cfg.debug_exit_base, 0x501);
    assert_int_equal(PARSE(&cfg, "-m", "512"), CMDLINE_RUN);
    assert_int_equal(cfg.ram_size, 512ull << 20);
}

static void test_errors(void **state)
{
    (void)state;
    struct machine_config cfg;
    assert_int_equal(PARSE(&cfg, "-bogus"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-m"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-m", "12Q"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-m", "0"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-m", "-5"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-smp", "0"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-smp", "99"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-serial", "tcp:1"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-display", "gtk"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-device", "e1000"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-device", "isa-debug-exit,iobase=0x10000"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-device", "isa-debug-exit,size=2"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-accel", "warp"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-d", "nonsense"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-rtc", "base=2020-13-01T00:00:00"), CMDLINE_ERROR);
    assert_int_equal(PARSE(&cfg, "-icount", "shift=99"), CMDLINE_ERROR);
}

static void test_info(void **state)
{
    (void)state;
    struct machine_config cfg;
    assert_int_equal(PARSE(&cfg, "--version"), CMDLINE_EXIT_OK);
    assert_int_equal(PARSE(&cfg, "-accel", "help"), CMDLINE_EXIT_OK);
    assert_int_equal(PARSE(&cfg, "-d", "help"), CMDLINE_EXIT_OK);
    assert_int_equal(PARSE(&cfg, "-d", "int,unimp"), CMDLINE_RUN);
    assert_true(log_enabled(LOG_INT) && log_enabled(LOG_UNIMP));
    assert_false(log_enabled(LOG_IO));
    assert_int_equal(cmdline_parse_size("64K"), 65536);
    assert_int_equal(cmdline_parse_size("1GiB"), 1ll << 30);
    assert_int_equal(cmdline_parse_size("x"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
