/* Command-line parsing for tandem (see cmdline.h and tandem --help). */
#include "vm/cmdline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "vm/accel.h"
#include "vm/log.h"

static void print_help(void)
{
    printf(
"Usage: tandem [options]\n"
"A full-system x86 PC emulator: KVM where the host has VT-x/AMD-V, its own\n"
"JIT or interpreter elsewhere, one PC chipset under both.\n"
"\n"
"Machine:\n"
"  -m SIZE             guest RAM, in MiB or with a K/M/G suffix (default 128M)\n"
"  -smp N              number of vCPUs (default 1, at most %d)\n"
"  -accel NAME         CPU backend: auto (default), kvm, jit, interp;\n"
"                      -accel help lists what this build has\n"
"Boot:\n"
"  -kernel FILE        boot a Linux bzImage or a Multiboot kernel directly\n"
"  -initrd FILE[,FILE] initial ramdisk (Linux), or modules (Multiboot)\n"
"  -append CMDLINE     kernel command line\n"
"  -bios FILE          firmware image mapped below 4 GiB (SeaBIOS, or a raw\n"
"                      program entered at the reset vector F000:FFF0)\n"
"Devices and output:\n"
"  -serial stdio|file:PATH|none   where COM1 goes (default: stdio with\n"
"                      -nographic, otherwise stdio as well)\n"
"  -nographic          no window; COM1 on the terminal (Ctrl-A X quits)\n"
"  -display none|sdl   the display backend\n"
"  -device isa-debug-exit[,iobase=PORT][,iosize=N]\n"
"                      writing V to PORT ends tandem with status (V<<1)|1\n"
"  -rtc base=utc|YYYY-MM-DDTHH:MM:SS   start time of the RTC\n"
"  -icount shift=N     deterministic clock: 2^N ns per instruction\n"
"Run control:\n"
"  -no-reboot          exit instead of resetting when the guest reboots\n"
"  -no-shutdown        stay (paused) instead of exiting on guest power-off\n"
"  -monitor stdio|unix:PATH,server[,nowait]\n"
"                      the monitor (help lists its commands); with -serial\n"
"                      stdio on a terminal too, Ctrl-A C switches between the\n"
"                      console and the monitor\n"
"  -loadvm FILE        resume the snapshot FILE (made by savevm) at start\n"
"  -accel-switch-every MS  torture: move the running machine between two\n"
"                      backends (kvm/jit, else the chosen one and interp)\n"
"                      every MS milliseconds of host time\n"
"Debugging:\n"
"  -d CAT[,CAT...]     log categories (-d help lists them)\n"
"  -D FILE             write the log to FILE instead of stderr\n"
"  -h, --help          this text\n"
"  --version           version\n",
        MACHINE_MAX_CPUS);
}

static void print_accels(void)
{
    printf("Accelerators in this build:\n");
    printf("  %-8s %s\n", "auto", "KVM if the host runs it at hardware speed, else the best software engine");
    for (int i = 0; accel_at(i); i++) {
        const struct cpu_backend_ops *a = accel_at(i);
        const char *why = NULL;
        int usable = a->probe ? a->probe(&why) : 0;
        if (usable == 0 && a->probe_auto && a->probe_auto(&why) != 0)
            printf("  %-8s %s (only if named: auto passes it over: %s)\n",
                   a->name, a->summary, why ? why : "unknown reason");
        else if (usable == 0)
            printf("  %-8s %s\n", a->name, a->summary);
        else
            printf("  %-8s %s (not usable here: %s)\n", a->name, a->summary,
                   why ? why : "unknown reason");
    }
}

long long cmdline_parse_size(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *s == '-')
        return -1;
    unsigned long long mul = 1ull << 20;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mul = 1ull << 10; break;
        case 'm': case 'M': mul = 1ull << 20; break;
        case 'g': case 'G': mul = 1ull << 30; break;
        case 'b': case 'B': mul = 1; break;
        default: return -1;
        }
        if (end[1] && !(end[1] == 'B' && !end[2]) && !(end[1] == 'i' && end[2] == 'B' && !end[3]))
            return -1;
    }
    if (v > (1ull << 46) / mul)
        return -1;
    return (long long)(v * mul);
}

static int parse_int(const char *opt, const char *s, long min, long max,
                     long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 0);
    if (errno || end == s || *end || v < min || v > max) {
        error_report("%s: '%s' is not a number from %ld to %ld", opt, s, min,
                     max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_debug_exit(const char *spec, struct machine_config *cfg)
{
    const char *p = spec + strlen("isa-debug-exit");
    cfg->debug_exit = true;
    cfg->debug_exit_base = 0x501;
    cfg->debug_exit_size = 2;
    while (*p == ',') {
        p++;
        size_t len = strcspn(p, ",");
        char key[32], val[32];
        const char *eq = memchr(p, '=', len);
        if (!eq || (size_t)(eq - p) >= sizeof(key) ||
            len - (size_t)(eq - p) - 1 >= sizeof(val)) {
            error_report("-device %s: expected key=value after ','", spec);
            return -1;
        }
        memcpy(key, p, eq - p);
        key[eq - p] = 0;
        memcpy(val, eq + 1, len - (eq - p) - 1);
        val[len - (eq - p) - 1] = 0;
        long v;
        if (strcmp(key, "iobase") == 0) {
            if (parse_int("-device isa-debug-exit,iobase", val, 0, 0xffff, &v))
                return -1;
            cfg->debug_exit_base = (uint16_t)v;
        } else if (strcmp(key, "iosize") == 0) {
            if (parse_int("-device isa-debug-exit,iosize", val, 1, 4, &v))
                return -1;
            cfg->debug_exit_size = (uint16_t)v;
        } else {
            error_report("-device isa-debug-exit: unknown property '%s' (iobase, iosize)", key);
            return -1;
        }
        p += len;
    }
    if (*p) {
        error_report("-device %s: unexpected text after the device name", spec);
        return -1;
    }
    return 0;
}

static int parse_rtc(const char *spec, struct machine_config *cfg)
{
    if (strncmp(spec, "base=", 5) != 0) {
        error_report("-rtc %s: expected base=utc or base=YYYY-MM-DDTHH:MM:SS", spec);
        return -1;
    }
    const char *v = spec + 5;
    if (strcmp(v, "utc") == 0 || strcmp(v, "localtime") == 0) {
        cfg->rtc_base = -1;
        return 0;
    }
    struct tm tm = {0};
    int n = 0;
    if (sscanf(v, "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || v[n] ||
        tm.tm_year < 1970 || tm.tm_year > 2099 || tm.tm_mon < 1 ||
        tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59) {
        error_report("-rtc %s: expected base=utc or base=YYYY-MM-DDTHH:MM:SS", spec);
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    cfg->rtc_base = (int64_t)timegm(&tm);
    return 0;
}

enum cmdline_result cmdline_parse(int argc, char **argv,
                                  struct machine_config *cfg)
{
    *cfg = (struct machine_config){
        .ram_size = 128ull << 20, .ncpus = 1, .serial = "stdio",
        .accel = "auto", .display = "none", .clock_mode = VCLOCK_HOST,
        .rtc_base = -1,
    };
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        /* QEMU accepts --opt for -opt */
        if (opt[0] == '-' && opt[1] == '-' && opt[2])
            opt++;
#define ARG()                                                                  \
    ({                                                                         \
        if (i + 1 >= argc) {                                                   \
            error_report("option %s needs a value (see --help)", argv[i]);   \
            return CMDLINE_ERROR;                                              \
        }                                                                      \
        argv[++i];                                                             \
    })
        if (!strcmp(opt, "-h") || !strcmp(opt, "-help")) {
            print_help();
            return CMDLINE_EXIT_OK;
        } else if (!strcmp(opt, "-version")) {
            printf("tandem %s\n", TANDEM_VERSION);
            return CMDLINE_EXIT_OK;
        } else if (!strcmp(opt, "-m")) {
            const char *v = ARG();
            if (!strncmp(v, "size=", 5))
                v += 5;
            long long sz = cmdline_parse_size(v);
            if (sz < (1 << 20) || sz > (64ll << 30)) {
                error_report("-m %s: expected a size from 1M to 64G", v);
                return CMDLINE_ERROR;
            }
            cfg->ram_size = (uint64_t)sz & ~0xfffull;
        } else if (!strcmp(opt, "-smp")) {
            const char *v = ARG();
            if (!strncmp(v, "cpus=", 5))
                v += 5;
            long n;
            if (parse_int("-smp", v, 1, MACHINE_MAX_CPUS, &n))
                return CMDLINE_ERROR;
            cfg->ncpus = (int)n;
        } else if (!strcmp(opt, "-kernel")) {
            cfg->kernel = ARG();
        } else if (!strcmp(opt, "-initrd")) {
            cfg->initrd = ARG();
        } else if (!strcmp(opt, "-append")) {
            cfg->append = ARG();
        } else if (!strcmp(opt, "-bios")) {
            cfg->bios = ARG();
        } else if (!strcmp(opt, "-serial")) {
            const char *v = ARG();
            if (strcmp(v, "stdio") && strcmp(v, "none") && strcmp(v, "null") &&
                strncmp(v, "file:", 5)) {
                error_report("-serial %s: expected stdio, file:PATH or none", v);
                return CMDLINE_ERROR;
            }
            cfg->serial = strcmp(v, "null") ? v : "none";
        } else if (!strcmp(opt, "-nographic")) {
            cfg->display = "none";
        } else if (!strcmp(opt, "-display")) {
            const char *v = ARG();
            if (strcmp(v, "none") && strcmp(v, "sdl")) {
                error_report("-display %s: expected none or sdl", v);
                return CMDLINE_ERROR;
            }
#ifndef CONFIG_SDL
            if (!strcmp(v, "sdl")) {
                error_report("-display sdl: this build has no SDL2 (configure without --disable-sdl)");
                return CMDLINE_ERROR;
            }
#endif
            cfg->display = v;
        } else if (!strcmp(opt, "-no-reboot")) {
            cfg->no_reboot = true;
        } else if (!strcmp(opt, "-no-shutdown")) {
            cfg->no_shutdown = true;
        } else if (!strcmp(opt, "-monitor")) {
            const char *v = ARG();
            if (strcmp(v, "stdio") && strcmp(v, "none") && strncmp(v, "unix:", 5)) {
                error_report("-monitor %s: expected stdio, unix:PATH,server[,nowait] or none", v);
                return CMDLINE_ERROR;
            }
            cfg->monitor = strcmp(v, "none") ? v : NULL;
        } else if (!strcmp(opt, "-loadvm")) {
            cfg->loadvm = ARG();
        } else if (!strcmp(opt, "-accel-switch-every")) {
            long ms;
            if (parse_int("-accel-switch-every", ARG(), 1, 3600000, &ms))
                return CMDLINE_ERROR;
            cfg->accel_switch_ms = (int)ms;
        } else if (!strcmp(opt, "-device")) {
            const char *v = ARG();
            if (!strcmp(v, "help")) {
                printf("Devices for -device:\n  isa-debug-exit  iobase=PORT (default 0x501), iosize=1..4 (default 2)\n");
                return CMDLINE_EXIT_OK;
            }
            if (strncmp(v, "isa-debug-exit", 14) || (v[14] && v[14] != ',')) {
                error_report("-device %s: unknown device (-device help lists them)", v);
                return CMDLINE_ERROR;
            }
            if (parse_debug_exit(v, cfg))
                return CMDLINE_ERROR;
        } else if (!strcmp(opt, "-accel")) {
            const char *v = ARG();
            if (!strcmp(v, "help")) {
                print_accels();
                return CMDLINE_EXIT_OK;
            }
            if (strcmp(v, "auto") && !accel_find(v)) {
                error_report("-accel %s: unknown accelerator (-accel help lists them)", v);
                return CMDLINE_ERROR;
            }
            cfg->accel = v;
        } else if (!strcmp(opt, "-rtc")) {
            if (parse_rtc(ARG(), cfg))
                return CMDLINE_ERROR;
        } else if (!strcmp(opt, "-icount")) {
            const char *v = ARG();
            long shift;
            if (!strncmp(v, "shift=", 6))
                v += 6;
            if (parse_int("-icount shift", v, 0, 10, &shift))
                return CMDLINE_ERROR;
            cfg->clock_mode = VCLOCK_ICOUNT;
            cfg->icount_shift = (int)shift;
        } else if (!strcmp(opt, "-d")) {
            const char *v = ARG();
            if (!strcmp(v, "help")) {
                log_print_categories(stdout);
                return CMDLINE_EXIT_OK;
            }
            if (log_parse_mask(v))
                return CMDLINE_ERROR;
        } else if (!strcmp(opt, "-D")) {
            const char *v = ARG();
            int err = log_set_file(v);
            if (err) {
                error_report("-D %s: %s", v, strerror(-err));
                return CMDLINE_ERROR;
            }
        } else {
            error_report("unknown option '%s' (see --help)", argv[i]);
            return CMDLINE_ERROR;
        }
#undef ARG
    }
    return CMDLINE_RUN;
}
