/* The main loop: picks the backend, creates the vCPUs, runs them up to the
 * next timer deadline, runs the timers, polls host input, and acts on reset,
 * power-off and exit requests. */
#ifndef VM_MAIN_LOOP_H
#define VM_MAIN_LOOP_H

#include "vm/accel.h"
#include "vm/machine.h"

/* -accel NAME or auto: the backend to use, or NULL after an error line */
const struct cpu_backend_ops *main_loop_pick_accel(const char *name);
/* Run the machine until it exits; returns tandem's exit status */
int main_loop_run(struct machine *m, const struct cpu_backend_ops *ops);

#endif
