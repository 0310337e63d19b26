/* The virtual clock: host monotonic time minus paused intervals, an
 * instruction count, or a hand-set value; and a sorted list of timers. */
#include "vm/clock.h"

#include <stdlib.h>
#include <time.h>

struct vclock {
    enum vclock_mode mode;
    int64_t offset;      /* HOST: vclock = host_ns + offset */
    int64_t stopped_at;  /* HOST: value while stopped, -1 when running */
    int64_t manual_now;  /* MANUAL and ICOUNT */
    unsigned icount_shift;
    struct vtimer *timers; /* sorted by expire */
};

static int64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

struct vclock *vclock_new(enum vclock_mode mode)
{
    struct vclock *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->mode = mode;
    c->offset = -host_ns();
    c->stopped_at = -1;
    c->icount_shift = 3;
    return c;
}

void vclock_free(struct vclock *c)
{
    free(c);
}

enum vclock_mode vclock_mode(struct vclock *c)
{
    return c->mode;
}

int64_t vclock_now(struct vclock *c)
{
    if (c->mode != VCLOCK_HOST)
        return c->manual_now;
    if (c->stopped_at >= 0)
        return c->stopped_at;
    return host_ns() + c->offset;
}

void vclock_stop(struct vclock *c)
{
    if (c->mode == VCLOCK_HOST && c->stopped_at < 0)
        c->stopped_at = vclock_now(c);
}

void vclock_start(struct vclock *c)
{
    if (c->mode == VCLOCK_HOST && c->stopped_at >= 0) {
        c->offset = c->stopped_at - host_ns();
        c->stopped_at = -1;
    }
}

void vclock_set(struct vclock *c, int64_t now_ns)
{
    if (c->mode == VCLOCK_HOST) {
        c->offset = now_ns - host_ns();
        if (c->stopped_at >= 0)
            c->stopped_at = now_ns;
    } else {
        c->manual_now = now_ns;
    }
}

void vclock_advance(struct vclock *c, int64_t delta_ns)
{
    vclock_set(c, vclock_now(c) + delta_ns);
}

void vclock_icount_add(struct vclock *c, uint64_t insns)
{
    if (c->mode == VCLOCK_ICOUNT)
        c->manual_now += (int64_t)(insns << c->icount_shift);
}

void vclock_set_icount_shift(struct vclock *c, unsigned shift)
{
    c->icount_shift = shift > 20 ? 20 : shift;
}

void vtimer_init(struct vtimer *t, struct vclock *c, void (*cb)(void *),
                 void *opaque)
{
    *t = (struct vtimer){.clock = c, .cb = cb, .opaque = opaque};
}

static void unlink_timer(struct vtimer *t)
{
    struct vtimer **pp = &t->clock->timers;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp)
        *pp = t->next;
    t->next = NULL;
    t->armed = false;
}

void vtimer_mod(struct vtimer *t, int64_t expire_ns)
{
    if (t->armed)
        unlink_timer(t);
    t->expire = expire_ns;
    t->armed = true;
    struct vtimer **pp = &t->clock->timers;
    while (*pp && (*pp)->expire <= expire_ns)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
}

void vtimer_del(struct vtimer *t)
{
    if (t->armed)
        unlink_timer(t);
}

int64_t vclock_next_deadline(struct vclock *c)
{
    return c->timers ? c->timers->expire : VCLOCK_NEVER;
}

int vclock_run_timers(struct vclock *c)
{
    int ran = 0;
    int64_t now = vclock_now(c);
    /* bounded, so that a timer re-armed in the past cannot spin forever */
    while (c->timers && c->timers->expire <= now && ran < 10000) {
        struct vtimer *t = c->timers;
        unlink_timer(t);
        t->cb(t->opaque);
        ran++;
    }
    return ran;
}

int64_t clock_ticks_to_ns(int64_t ticks, int64_t hz)
{
    return (int64_t)((__int128)ticks * NS_PER_SEC / hz);
}

int64_t clock_ns_to_ticks(int64_t ns, int64_t hz)
{
    return (int64_t)((__int128)ns * hz / NS_PER_SEC);
}
