/* Logging: QEMU-style categories chosen with -d, written to stderr or the
 * file given with -D, and the one-line user-facing error reporter. */
#ifndef VM_LOG_H
#define VM_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_category {
    LOG_GUEST_ERRORS = 1u << 0, /* the guest did something invalid */
    LOG_UNIMP = 1u << 1,        /* unclaimed ports/MMIO, unimplemented features */
    LOG_INT = 1u << 2,          /* interrupts and exceptions */
    LOG_IO = 1u << 3,           /* every port and MMIO access */
    LOG_CPU = 1u << 4,          /* CPU state at each block/instruction */
    LOG_EXEC = 1u << 5,         /* executed guest addresses */
};

extern unsigned log_mask;

/* Parse a -d list ("guest_errors,unimp" or "help"); returns 0 or -EINVAL
 * after printing a one-line error naming the bad category. */
int log_parse_mask(const char *list);
void log_print_categories(FILE *out);
/* -D FILE; returns 0 or -errno */
int log_set_file(const char *path);

static inline bool log_enabled(unsigned cat) { return (log_mask & cat) != 0; }

/* Unconditional write to the log stream (stderr unless -D) */
void log_write(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_msg(cat, ...)                                                      \
    do {                                                                       \
        if (log_enabled(cat))                                                  \
            log_write(__VA_ARGS__);                                            \
    } while (0)

/* Rate-limited variant: at most a burst per second per call site. */
struct log_ratelimit {
    long long window_start_ns;
    unsigned count;
    unsigned suppressed;
};
bool log_ratelimit_pass(struct log_ratelimit *rl);
#define log_msg_rl(cat, ...)                                                   \
    do {                                                                       \
        static struct log_ratelimit rl_;                                       \
        if (log_enabled(cat) && log_ratelimit_pass(&rl_))                      \
            log_write(__VA_ARGS__);                                            \
    } while (0)

/* One clear line to stderr, prefixed "tandem: " */
void error_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
