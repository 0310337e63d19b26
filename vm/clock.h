/* The virtual clock and its timers. Time is in nanoseconds since the machine
 * started, taken from the host's monotonic clock (default), from the count of
 * retired guest instructions (deterministic), or set by hand (unit tests).
 * The main loop runs a backend until vclock_next_deadline() and then calls
 * vclock_run_timers(). Everything runs on one thread. */
#ifndef VM_CLOCK_H
#define VM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000LL
#define VCLOCK_NEVER INT64_MAX
/* The guest TSC's fixed frequency: guest TSC = clock_ns_to_ticks(now,
 * VCLOCK_TSC_HZ) + the vCPU's offset (vcpu_link.tsc_offset). Shared by the
 * CPU backends (RDTSC) and the local APIC (TSC-deadline timer). */
#define VCLOCK_TSC_HZ 2000000000LL

enum vclock_mode {
    VCLOCK_HOST,   /* host CLOCK_MONOTONIC, stopped while the VM is paused */
    VCLOCK_ICOUNT, /* advanced by vclock_icount_add() */
    VCLOCK_MANUAL, /* advanced by vclock_set()/vclock_advance(): tests */
};

struct vclock;

struct vtimer {
    struct vclock *clock;
    int64_t expire;             /* absolute ns; valid while armed */
    bool armed;
    void (*cb)(void *opaque);
    void *opaque;
    struct vtimer *next;        /* in the clock's sorted list */
};

struct vclock *vclock_new(enum vclock_mode mode);
void vclock_free(struct vclock *c);
enum vclock_mode vclock_mode(struct vclock *c);

int64_t vclock_now(struct vclock *c);
/* pause/resume (debugger stop, monitor stop): host time stops counting */
void vclock_stop(struct vclock *c);
void vclock_start(struct vclock *c);

/* VCLOCK_MANUAL: set/advance time; timers run only in vclock_run_timers() */
void vclock_set(struct vclock *c, int64_t now_ns);
void vclock_advance(struct vclock *c, int64_t delta_ns);
/* VCLOCK_ICOUNT: add retired instructions; 2^shift ns per instruction */
void vclock_icount_add(struct vclock *c, uint64_t insns);
void vclock_set_icount_shift(struct vclock *c, unsigned shift);

void vtimer_init(struct vtimer *t, struct vclock *c, void (*cb)(void *),
                 void *opaque);
void vtimer_mod(struct vtimer *t, int64_t expire_ns); /* (re)arm */
void vtimer_del(struct vtimer *t);
static inline bool vtimer_armed(const struct vtimer *t) { return t->armed; }

/* Earliest armed expiry, VCLOCK_NEVER if none */
int64_t vclock_next_deadline(struct vclock *c);
/* Run every timer whose expiry is <= now (callbacks may re-arm). Returns how
 * many ran. */
int vclock_run_timers(struct vclock *c);

/* Convert between a frequency's ticks and ns without overflow */
int64_t clock_ticks_to_ns(int64_t ticks, int64_t hz);
int64_t clock_ns_to_ticks(int64_t ns, int64_t hz);

#endif
