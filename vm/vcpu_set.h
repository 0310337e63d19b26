/* The machine's vCPUs under one backend, and the operations that need all
 * of them stopped: creating and re-creating them (reset), moving them to
 * another backend while the guest runs (get_state from each, new vCPUs,
 * set_state), and saving or loading a snapshot. Everything runs on the main
 * loop's thread between runs of the backend, so no vCPU is executing. */
#ifndef VM_VCPU_SET_H
#define VM_VCPU_SET_H

#include "vm/accel.h"
#include "vm/machine.h"
#include "vm/snapshot.h"

struct vcpu_set {
    struct machine *m;
    const struct cpu_backend_ops *ops; /* the current backend */
    void *vcpu[MACHINE_MAX_CPUS];
};

/* Create every vCPU with ops. 0, or -1 after an error_report line. */
int vcpu_set_create(struct vcpu_set *vs, struct machine *m,
                    const struct cpu_backend_ops *ops);
void vcpu_set_destroy(struct vcpu_set *vs);
/* Power-on vCPUs (after board_reset). 0 or -1 after an error line. */
int vcpu_set_reset(struct vcpu_set *vs);
/* Kick every vCPU (async-signal-safe) */
void vcpu_set_kick_all(void *vs);

/* vCPU i's state into buf (accel_cpu_state_size bytes, 64-aligned) */
void vcpu_set_get_state(struct vcpu_set *vs, int i, void *buf);
/* Move the running machine to ops. 0, or -errno with the reason in err
 * (then the machine stays on the old backend, unchanged). */
int vcpu_set_switch(struct vcpu_set *vs, const struct cpu_backend_ops *ops,
                    char err[SNAPSHOT_ERR_LEN]);
/* Save the machine to path / load it from path. 0, or -errno with the
 * reason in err; a refused snapshot changes nothing. */
int vcpu_set_save(struct vcpu_set *vs, const char *path,
                  char err[SNAPSHOT_ERR_LEN]);
int vcpu_set_load(struct vcpu_set *vs, const char *path,
                  char err[SNAPSHOT_ERR_LEN]);

#endif
