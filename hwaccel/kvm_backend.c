/* The `kvm` CPU backend (struct cpu_backend_ops): vCPU creation on the
 * machine's KVM VM, its CPUID and first state (RESET, or the loader's boot
 * state on vCPU 0), and the glue to kvm_state.c, kvm_run.c and kvm_debug.c.
 * -accel kvm works wherever /dev/kvm does; -accel auto takes KVM only when
 * the host CPU has VMX or SVM, because a software /dev/kvm runs ring-0 code
 * far slower than tandem's own engines. */
#include "hwaccel/kvm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cpu/boot_state.h"
#include "vm/log.h"

static int kvm_probe(const char **why)
{
    int fd = kvm_dev_fd(why);
    return fd < 0 ? fd : 0;
}

/* Ask for the guest TSC rate the LAPIC assumes; a host without TSC scaling
 * keeps its own rate (then TSC-deadline timers run off by the ratio) */
static void set_tsc_rate(struct kvm_vcpu *v)
{
    static bool warned;
    int host_khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
    if (ioctl(v->fd, KVM_SET_TSC_KHZ, (unsigned long)(VCLOCK_TSC_HZ / 1000)) == 0 ||
        warned)
        return;
    warned = true;
    log_msg(LOG_UNIMP, "kvm: no TSC scaling: the guest TSC runs at %d kHz, not "
            "%lld kHz\n", host_khz, VCLOCK_TSC_HZ / 1000);
}

static struct kvm_vcpu *vcpu_create(struct kvm_vm *vm, int index)
{
    struct kvm_vcpu *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->vm = vm;
    v->index = index;
    v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)index);
    if (v->fd < 0) {
        error_report("kvm: cannot create vCPU %d: %s", index, strerror(errno));
        free(v);
        return NULL;
    }
    v->run = mmap(NULL, kvm_dev_run_size(), PROT_READ | PROT_WRITE, MAP_SHARED,
                  v->fd, 0);
    if (v->run == MAP_FAILED) {
        error_report("kvm: cannot map vCPU %d's run area: %s", index,
                     strerror(errno));
        close(v->fd);
        free(v);
        return NULL;
    }
    return v;
}

/* CPUID, TSC rate and the first state; a vCPU kept over a reset gets
 * them again */
static int vcpu_start(struct kvm_vcpu *v, bool fresh)
{
    struct machine *m = v->vm->m;
    int err = kvm_cpuid_setup(v);
    /* KVM refuses a changed CPUID after the first KVM_RUN; a vCPU kept over
     * a reset keeps the one it has */
    if (err && fresh) {
        error_report("kvm: cannot set vCPU %d's CPUID: %s", v->index,
                     strerror(-err));
        return err;
    }
    set_tsc_rate(v);
    struct x86_state *s = malloc(sizeof(*s));
    if (!s)
        return -ENOMEM;
    x86_state_reset(s);
    if (v->index == 0)
        x86_state_apply_boot(s, &m->boot);
    else
        s->wait_sipi = 1;
    err = kvm_state_set(v, s);
    free(s);
    if (err) {
        error_report("kvm: cannot set vCPU %d's initial state: %s", v->index,
                     strerror(-err));
        return err;
    }
    v->single_step = false;
    v->sw_breaks = 0;
    memset(v->hw, 0, sizeof(v->hw));
    atomic_store(&v->kicked, false);
    return kvm_debug_apply(v);
}

static void *kvm_init(struct machine *m, int index)
{
    if (index < 0 || index >= MACHINE_MAX_CPUS)
        return NULL;
    struct kvm_vm *vm = kvm_vm_get(m);
    if (!vm)
        return NULL;
    struct kvm_vcpu *v = vm->vcpu[index];
    bool fresh = !v;
    if (fresh) {
        v = vcpu_create(vm, index);
        if (!v) {
            kvm_vm_put(vm);
            return NULL;
        }
        vm->vcpu[index] = v;
    } else if (v->in_use) {
        error_report("kvm: vCPU %d created twice", index);
        kvm_vm_put(vm);
        return NULL;
    }
    v->in_use = true;
    v->link = &m->cpu_link[index];
    if (vcpu_start(v, fresh) < 0) {
        v->in_use = false;
        kvm_vm_put(vm);
        return NULL;
    }
    v->link->backend = v;
    v->link->kick = kvm_kick;
    return v;
}

static void kvm_destroy(void *vcpu)
{
    struct kvm_vcpu *v = vcpu;
    if (!v)
        return;
    v->link->kick = NULL;
    v->link->backend = NULL;
    v->in_use = false;
    kvm_vm_put(v->vm);
}

static void kvm_get_state(void *vcpu, struct x86_state *s)
{
    struct kvm_vcpu *v = vcpu;
    int err = kvm_state_get(v, s);
    if (err)
        error_report("kvm: cannot read vCPU %d's state: %s", v->index,
                     strerror(-err));
}

static void kvm_set_state(void *vcpu, const struct x86_state *s)
{
    struct kvm_vcpu *v = vcpu;
    int err = kvm_state_set(v, s);
    if (err)
        error_report("kvm: cannot write vCPU %d's state: %s", v->index,
                     strerror(-err));
}

static enum run_exit kvm_run(void *vcpu, int64_t deadline_ns)
{
    return kvm_run_vcpu(vcpu, deadline_ns);
}

static int kvm_set_debug(void *vcpu, bool single_step)
{
    struct kvm_vcpu *v = vcpu;
    v->single_step = single_step;
    return kvm_debug_apply(v);
}

static int kvm_insert_debug(void *vcpu, enum debug_kind kind, uint64_t addr,
                            uint64_t len)
{
    return kvm_debug_insert(vcpu, kind, addr, len);
}

static int kvm_remove_debug(void *vcpu, enum debug_kind kind, uint64_t addr,
                            uint64_t len)
{
    return kvm_debug_remove(vcpu, kind, addr, len);
}

/* KVM runs guest code from RAM directly: nothing is cached to drop */
static void kvm_invalidate_code(void *vcpu, uint64_t gpa, uint64_t len)
{
}

static const struct cpu_backend_ops kvm_ops = {
    .name = "kvm",
    .summary = "Linux KVM: guest code runs on the host CPU",
    .probe = kvm_probe,
    .probe_auto = kvm_dev_hw_virt,
    .init = kvm_init,
    .destroy = kvm_destroy,
    .get_state = kvm_get_state,
    .set_state = kvm_set_state,
    .run = kvm_run,
    .kick = kvm_kick,
    .set_debug = kvm_set_debug,
    .insert_debug = kvm_insert_debug,
    .remove_debug = kvm_remove_debug,
    .invalidate_code = kvm_invalidate_code,
    .priority = 100,
};

ACCEL_REGISTER(kvm_ops)
