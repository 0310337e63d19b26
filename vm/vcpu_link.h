/* The wire between one vCPU and the chipset. The local APIC (devices/) sets
 * the event bits and provides the acknowledge and APIC-MSR callbacks; the CPU
 * backend running this vCPU reads the bits at instruction/block boundaries,
 * calls intr_ack() when it takes an external interrupt, and installs kick()
 * so that a new event stops a running guest promptly. Neither side includes
 * the other's headers. */
#ifndef VM_VCPU_LINK_H
#define VM_VCPU_LINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum vcpu_event {
    VCPU_EV_INTR = 1u << 0, /* maskable interrupt pending (level) */
    VCPU_EV_NMI = 1u << 1,
    VCPU_EV_INIT = 1u << 2,
    VCPU_EV_SIPI = 1u << 3,
    VCPU_EV_SMI = 1u << 4,
    VCPU_EV_EXIT = 1u << 5, /* the main loop wants the backend to return */
};

struct vcpu_link {
    int index;
    _Atomic unsigned events;
    uint8_t sipi_vector;

    /* interrupt controller side (set by the LAPIC) */
    void *ic;
    int (*intr_ack)(void *ic); /* vector of the interrupt taken, or -1 */
    /* APIC MSRs (0x1B APIC_BASE, 0x6E0 TSC_DEADLINE, 0x800-0x8FF x2APIC):
     * return 0, or -1 when the access must #GP */
    int (*msr_read)(void *ic, uint32_t msr, uint64_t *value);
    int (*msr_write)(void *ic, uint32_t msr, uint64_t value);
    /* CR8 <-> TPR[7:4] */
    uint8_t (*get_cr8)(void *ic);
    void (*set_cr8)(void *ic, uint8_t cr8);
    /* guest TSC = clock_ns_to_ticks(vclock_now, VCLOCK_TSC_HZ) + tsc_offset;
     * the backend keeps it current, the LAPIC's TSC-deadline timer reads it */
    int64_t tsc_offset;

    /* backend side */
    void *backend;
    void (*kick)(void *backend); /* async-signal-safe */
};

/* The vCPU executing on this thread: the main loop sets it around run(), a
 * backend running vCPUs on threads of its own sets it there (NULL outside).
 * Per-CPU MMIO, the local APIC page, picks its instance by it. */
extern _Thread_local struct vcpu_link *vcpu_link_current;

static inline void vcpu_link_kick(struct vcpu_link *l)
{
    if (l->kick)
        l->kick(l->backend);
}

/* Set or clear the INTR level (kicks on a rising level) */
static inline void vcpu_link_set_intr(struct vcpu_link *l, bool level)
{
    if (level) {
        unsigned old = atomic_fetch_or(&l->events, VCPU_EV_INTR);
        if (!(old & VCPU_EV_INTR))
            vcpu_link_kick(l);
    } else {
        atomic_fetch_and(&l->events, ~(unsigned)VCPU_EV_INTR);
    }
}

/* Latch an edge event (NMI, INIT, SIPI, SMI, EXIT) and kick */
static inline void vcpu_link_raise(struct vcpu_link *l, unsigned ev)
{
    atomic_fetch_or(&l->events, ev);
    vcpu_link_kick(l);
}

/* Take and clear edge events; returns which were set */
static inline unsigned vcpu_link_take(struct vcpu_link *l, unsigned ev)
{
    return atomic_fetch_and(&l->events, ~ev) & ev;
}

static inline unsigned vcpu_link_pending(struct vcpu_link *l)
{
    return atomic_load(&l->events);
}

#endif
