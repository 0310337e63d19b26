/* Logging categories (-d), the log file (-D), rate limiting and the
 * one-line user error reporter. */
#include "vm/log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

unsigned log_mask;
static FILE *log_file;

static const struct {
    const char *name;
    unsigned bit;
    const char *help;
} categories[] = {
    {"guest_errors", LOG_GUEST_ERRORS, "invalid guest actions (bad MSRs, bad descriptors...)"},
    {"unimp", LOG_UNIMP, "unclaimed ports and MMIO, unimplemented features"},
    {"int", LOG_INT, "interrupts and exceptions"},
    {"io", LOG_IO, "every port and MMIO access"},
    {"cpu", LOG_CPU, "CPU registers before each instruction or block"},
    {"exec", LOG_EXEC, "executed guest addresses"},
};
#define N_CATEGORIES (sizeof(categories) / sizeof(categories[0]))

void log_print_categories(FILE *out)
{
    fprintf(out, "Log categories for -d (comma separated):\n");
    for (size_t i = 0; i < N_CATEGORIES; i++)
        fprintf(out, "  %-13s %s\n", categories[i].name, categories[i].help);
}

int log_parse_mask(const char *list)
{
    unsigned mask = 0;
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        size_t i;
        for (i = 0; i < N_CATEGORIES; i++) {
            if (strlen(categories[i].name) == len &&
                strncmp(categories[i].name, p, len) == 0)
                break;
        }
        if (i == N_CATEGORIES) {
            error_report("unknown log category '%.*s' (-d help lists them)",
                         (int)len, p);
            return -EINVAL;
        }
        mask |= categories[i].bit;
        p += len;
        if (*p == ',')
            p++;
    }
    log_mask = mask;
    return 0;
}

int log_set_file(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    setvbuf(f, NULL, _IOLBF, 0);
    if (log_file)
        fclose(log_file);
    log_file = f;
    return 0;
}

void log_write(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log_file ? log_file : stderr, fmt, ap);
    va_end(ap);
}

#define RATELIMIT_BURST 10

bool log_ratelimit_pass(struct log_ratelimit *rl)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = ts.tv_sec * 1000000000LL + ts.tv_nsec;
    if (now - rl->window_start_ns >= 1000000000LL) {
        if (rl->suppressed)
            log_write("(%u similar messages suppressed)\n", rl->suppressed);
        rl->window_start_ns = now;
        rl->count = 0;
        rl->suppressed = 0;
    }
    if (rl->count < RATELIMIT_BURST) {
        rl->count++;
        return true;
    }
    rl->suppressed++;
    return false;
}

void error_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tandem: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
