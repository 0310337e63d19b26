/* The backend ping-pong of -accel-switch-every (see accel_switch.h). */
#include "vm/accel_switch.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include "vm/clock.h"
#include "vm/log.h"
#include "vm/runstate.h"

static int64_t host_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static bool kvm_allowed;

static const struct cpu_backend_ops *usable(const char *name)
{
    const struct cpu_backend_ops *ops = accel_find(name);
    if (!kvm_allowed && !strcmp(name, "kvm"))
        return NULL;
    const char *why;
    if (!ops || (ops->probe && ops->probe(&why) != 0))
        return NULL;
    /* pair only with a backend that runs at full speed here: a software
     * /dev/kvm (no vmx/svm) is left to an explicit -accel kvm */
    if (ops->probe_auto && ops->probe_auto(&why) != 0)
        return NULL;
    return ops;
}

/* The other backend of the pair for ops, or NULL */
static const struct cpu_backend_ops *partner(const struct cpu_backend_ops *ops)
{
    static const char *const order[][3] = {
        {"kvm", "jit", "interp"},
        {"jit", "kvm", "interp"},
        {"interp", "jit", "kvm"},
    };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (strcmp(ops->name, order[i][0]))
            continue;
        for (int k = 1; k < 3; k++)
            if (usable(order[i][k]))
                return usable(order[i][k]);
    }
    return usable("interp") != ops ? usable("interp") : NULL;
}

int accel_switch_init(struct accel_switch *sw,
                      const struct cpu_backend_ops *ops, int period_ms,
                      bool allow_kvm)
{
    memset(sw, 0, sizeof(*sw));
    kvm_allowed = allow_kvm;
    sw->pair[0] = ops;
    sw->pair[1] = partner(ops);
    if (!sw->pair[1]) {
        error_report("-accel-switch-every: no second backend to switch with "
                     "%s is usable here", ops->name);
        return -ENODEV;
    }
    sw->period_ns = (int64_t)period_ms * 1000000;
    sw->next_ns = host_now_ns() + sw->period_ns;
    return 0;
}

void accel_switch_poll(struct accel_switch *sw, struct vcpu_set *vs)
{
    if (!sw->period_ns || host_now_ns() < sw->next_ns)
        return;
    const struct cpu_backend_ops *to =
        vs->ops == sw->pair[0] ? sw->pair[1] : sw->pair[0];
    char err[SNAPSHOT_ERR_LEN];
    if (vcpu_set_switch(vs, to, err)) {
        error_report("-accel-switch-every: %s; switching stops", err);
        sw->period_ns = 0;
        return;
    }
    sw->switches++;
    log_msg(LOG_CPU, "accel-switch: now on %s (%u switches)\n", to->name,
            sw->switches);
    sw->next_ns = host_now_ns() + sw->period_ns;
}
