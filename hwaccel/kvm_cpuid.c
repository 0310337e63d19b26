/* The CPUID a KVM vCPU shows: tandem's CPU model (cpu_cpuid in cpu/cpuid.c,
 * the same leaves the interpreter answers) with every feature bit ANDed with
 * what KVM_GET_SUPPORTED_CPUID says this host can run. Identification,
 * topology and cache leaves are the model's. TSC-deadline is tandem's LAPIC's
 * to give, so it stays when the APIC MSRs reach that LAPIC (the MSR filter);
 * the hypervisor bit is the model's; x2APIC is never shown (tandem's LAPIC
 * has no x2APIC MSRs). KVM itself keeps OSXSAVE and APIC in step with CR4
 * and the APIC_BASE MSR. */
#include "hwaccel/kvm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "cpu/cpu.h"
#include "vm/log.h"

#define F1C_X2APIC (1u << 21)
#define F1C_TSC_DEADLINE (1u << 24)
#define F1C_HYPERVISOR (1u << 31)
#define MAX_ENTRIES 256

static struct kvm_cpuid2 *supported;

static int load_supported(void)
{
    if (supported)
        return 0;
    int dev = kvm_dev_fd(NULL);
    if (dev < 0)
        return dev;
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c =
            calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
        if (!c)
            return -ENOMEM;
        c->nent = n;
        if (ioctl(dev, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            supported = c;
            return 0;
        }
        int err = errno;
        free(c);
        if (err != E2BIG)
            return -err;
    }
    return -E2BIG;
}

static const struct kvm_cpuid_entry2 *find_supported(uint32_t fn, uint32_t idx)
{
    for (uint32_t i = 0; i < supported->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &supported->entries[i];
        if (e->function == fn &&
            (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == idx))
            return e;
    }
    return NULL;
}

/* Subleaves the model defines for an indexed leaf (0: not indexed) */
static unsigned subleaves(uint32_t fn)
{
    switch (fn) {
    case 4: return 4;    /* cache levels, the last one the null terminator */
    case 7: return 1;
    case 0xb: return 3;  /* SMT, core, terminator */
    case 0xd: return 2;  /* x87/SSE sizes, XSAVE extensions */
    default: return 0;
    }
}

/* AND the feature registers of a leaf with what KVM supports */
static void filter(struct kvm_cpuid_entry2 *e, bool tsc_deadline)
{
    const struct kvm_cpuid_entry2 *s = find_supported(e->function, e->index);
    struct kvm_cpuid_entry2 none = {0};
    if (!s)
        s = &none;
    switch (e->function) {
    case 1: {
        uint32_t keep = e->ecx & (F1C_HYPERVISOR |
                                  (tsc_deadline ? F1C_TSC_DEADLINE : 0));
        e->ecx = ((e->ecx & s->ecx) | keep) & ~F1C_X2APIC;
        e->edx &= s->edx;
        break;
    }
    case 7:
        if (e->index == 0) {
            e->ebx &= s->ebx;
            e->ecx &= s->ecx;
            e->edx &= s->edx;
        }
        break;
    case 0xd:
        if (e->index == 0) {
            e->eax &= s->eax;
            e->edx &= s->edx;
        } else if (e->index == 1) {
            e->eax &= s->eax;
        }
        break;
    case 0x80000001u:
        e->ecx &= s->ecx;
        e->edx &= s->edx;
        break;
    default:
        break;
    }
}

static void add_leaf(struct kvm_cpuid2 *c, struct cpu *model, uint32_t fn,
                     bool tsc_deadline)
{
    unsigned nsub = subleaves(fn);
    for (unsigned idx = 0; idx < (nsub ? nsub : 1); idx++) {
        if (c->nent == MAX_ENTRIES)
            return;
        uint32_t r[4];
        cpu_cpuid(model, fn, idx, r);
        struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];
        *e = (struct kvm_cpuid_entry2){
            .function = fn,
            .index = idx,
            .flags = nsub ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
            .eax = r[0], .ebx = r[1], .ecx = r[2], .edx = r[3],
        };
        filter(e, tsc_deadline);
    }
}

int kvm_cpuid_setup(struct kvm_vcpu *v)
{
    int err = load_supported();
    if (err)
        return err;
    struct cpu *model = calloc(1, sizeof(*model));
    struct kvm_cpuid2 *c =
        calloc(1, sizeof(*c) + MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
    if (!model || !c) {
        free(model);
        free(c);
        return -ENOMEM;
    }
    /* the model's answers depend on the machine, the vCPU and its LAPIC */
    model->machine = v->vm->m;
    model->link = v->link;
    model->index = v->index;
    bool tsc_deadline = v->vm->msr_filter;
    const uint32_t ranges[] = {0, 0x40000000u, 0x80000000u};
    for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
        uint32_t out[4];
        cpu_cpuid(model, ranges[r], 0, out);
        if (out[0] < ranges[r] || out[0] - ranges[r] > 64)
            continue;
        for (uint32_t fn = ranges[r]; fn <= out[0]; fn++)
            add_leaf(c, model, fn, tsc_deadline);
    }
    err = ioctl(v->fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
    free(c);
    free(model);
    return err;
}
