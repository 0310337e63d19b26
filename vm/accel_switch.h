/* -accel-switch-every MS: a torture mode that moves the running machine
 * back and forth between two backends every MS milliseconds of host time.
 * The pair is KVM and the JIT where both work here, else the chosen backend
 * and the interpreter (or the JIT or KVM when the interpreter was chosen). */
#ifndef VM_ACCEL_SWITCH_H
#define VM_ACCEL_SWITCH_H

#include <stdbool.h>
#include <stdint.h>
#include "vm/vcpu_set.h"

struct accel_switch {
    int64_t period_ns;  /* 0: off */
    int64_t next_ns;    /* host CLOCK_MONOTONIC time of the next switch */
    const struct cpu_backend_ops *pair[2];
    unsigned switches;
};

/* Pick the pair for the backend ops (KVM only if allow_kvm: not with
 * -icount). 0, or -ENODEV after an error_report line when no second
 * backend is usable here. */
int accel_switch_init(struct accel_switch *sw,
                      const struct cpu_backend_ops *ops, int period_ms,
                      bool allow_kvm);
/* Switch when the period is over (call between runs) */
void accel_switch_poll(struct accel_switch *sw, struct vcpu_set *vs);

#endif
