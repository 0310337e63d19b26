/* The vCPU set (see vcpu_set.h): creation, backend switching and the vCPU
 * side of snapshots. State moves between backends as struct x86_state
 * bytes (accel_cpu_state_size); the devices stay where they are. */
#include "vm/vcpu_set.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vm/log.h"
#include "vm/runstate.h"

static void *state_alloc(void)
{
    size_t size = (accel_cpu_state_size + ACCEL_CPU_STATE_ALIGN - 1) &
                  ~(size_t)(ACCEL_CPU_STATE_ALIGN - 1);
    return aligned_alloc(ACCEL_CPU_STATE_ALIGN, size);
}

static void free_states(void **st, int n)
{
    for (int i = 0; i < n; i++)
        free(st[i]);
}

/* One buffer per vCPU, or -ENOMEM */
static int alloc_states(void **st, int n)
{
    memset(st, 0, sizeof(void *) * (size_t)n);
    for (int i = 0; i < n; i++) {
        st[i] = state_alloc();
        if (!st[i]) {
            free_states(st, i);
            return -ENOMEM;
        }
    }
    return 0;
}

static void destroy_vcpus(struct vcpu_set *vs)
{
    for (int i = 0; i < vs->m->ncpus; i++) {
        void *v = vs->vcpu[i];
        vs->vcpu[i] = NULL; /* a kick now finds nothing */
        if (v)
            vs->ops->destroy(v);
    }
}

/* Create every vCPU with ops; on failure none is left. 0 or the index
 * that failed + 1. */
static int create_vcpus(struct vcpu_set *vs, const struct cpu_backend_ops *ops)
{
    vs->ops = ops;
    for (int i = 0; i < vs->m->ncpus; i++) {
        vs->vcpu[i] = ops->init(vs->m, i);
        if (!vs->vcpu[i]) {
            destroy_vcpus(vs);
            return i + 1;
        }
    }
    return 0;
}

int vcpu_set_create(struct vcpu_set *vs, struct machine *m,
                    const struct cpu_backend_ops *ops)
{
    memset(vs, 0, sizeof(*vs));
    vs->m = m;
    int bad = create_vcpus(vs, ops);
    if (bad) {
        error_report("cannot create vCPU %d with %s", bad - 1, ops->name);
        return -1;
    }
    return 0;
}

void vcpu_set_destroy(struct vcpu_set *vs)
{
    destroy_vcpus(vs);
}

int vcpu_set_reset(struct vcpu_set *vs)
{
    destroy_vcpus(vs);
    return vcpu_set_create(vs, vs->m, vs->ops);
}

void vcpu_set_kick_all(void *opaque)
{
    struct vcpu_set *vs = opaque;
    for (int i = 0; i < vs->m->ncpus; i++) {
        void *v = vs->vcpu[i];
        if (v)
            vs->ops->kick(v);
    }
}

void vcpu_set_get_state(struct vcpu_set *vs, int i, void *buf)
{
    vs->ops->get_state(vs->vcpu[i], buf);
}

/* RAM changed behind the backend's back (another backend ran, or a
 * snapshot came in): translations and decoded code it kept are stale */
static void invalidate_ram(struct vcpu_set *vs)
{
    if (!vs->ops->invalidate_code)
        return;
    for (int i = 0; i < vs->m->ncpus; i++) {
        vs->ops->invalidate_code(vs->vcpu[i], 0, vs->m->ram_below_4g);
        if (vs->m->ram_above_4g)
            vs->ops->invalidate_code(vs->vcpu[i], 1ull << 32,
                                     vs->m->ram_above_4g);
    }
}

static void set_states(struct vcpu_set *vs, void *const *st)
{
    for (int i = 0; i < vs->m->ncpus; i++)
        vs->ops->set_state(vs->vcpu[i], st[i]);
}

int vcpu_set_switch(struct vcpu_set *vs, const struct cpu_backend_ops *ops,
                    char err[SNAPSHOT_ERR_LEN])
{
    const struct cpu_backend_ops *old = vs->ops;
    const char *why = NULL;
    if (ops->probe && ops->probe(&why) != 0) {
        snprintf(err, SNAPSHOT_ERR_LEN, "%s is not usable here: %s",
                 ops->name, why ? why : "unknown reason");
        return -ENODEV;
    }
    void *st[MACHINE_MAX_CPUS];
    if (alloc_states(st, vs->m->ncpus)) {
        snprintf(err, SNAPSHOT_ERR_LEN, "out of memory");
        return -ENOMEM;
    }
    for (int i = 0; i < vs->m->ncpus; i++)
        vs->ops->get_state(vs->vcpu[i], st[i]);
    destroy_vcpus(vs);
    int bad = create_vcpus(vs, ops), r = 0;
    if (bad) {
        snprintf(err, SNAPSHOT_ERR_LEN, "cannot create vCPU %d with %s; "
                 "staying on %s", bad - 1, ops->name, old->name);
        r = -EIO;
        if (create_vcpus(vs, old)) {
            free_states(st, vs->m->ncpus);
            error_report("cannot re-create the vCPUs with %s", old->name);
            vm_request_exit(1, "no backend left to run the vCPUs");
            return r;
        }
    }
    set_states(vs, st);
    invalidate_ram(vs);
    free_states(st, vs->m->ncpus);
    return r;
}

int vcpu_set_save(struct vcpu_set *vs, const char *path,
                  char err[SNAPSHOT_ERR_LEN])
{
    void *st[MACHINE_MAX_CPUS];
    if (alloc_states(st, vs->m->ncpus)) {
        snprintf(err, SNAPSHOT_ERR_LEN, "out of memory");
        return -ENOMEM;
    }
    for (int i = 0; i < vs->m->ncpus; i++)
        vs->ops->get_state(vs->vcpu[i], st[i]);
    int r = snapshot_save(vs->m, st, path, err);
    free_states(st, vs->m->ncpus);
    return r;
}

int vcpu_set_load(struct vcpu_set *vs, const char *path,
                  char err[SNAPSHOT_ERR_LEN])
{
    struct snapshot *s;
    int r = snapshot_read(&s, vs->m, path, err);
    if (r)
        return r;
    snapshot_apply(s, vs->m);
    for (int i = 0; i < vs->m->ncpus; i++)
        vs->ops->set_state(vs->vcpu[i], snapshot_cpu(s, i));
    invalidate_ram(vs);
    snapshot_free(s);
    return 0;
}
