/* The KVM backend's internal interface, shared by the hwaccel/kvm_*.c files:
 * the host's /dev/kvm (kvm_dev.c), one KVM VM per machine with its memslots
 * and MSR filter (kvm_vm.c), the vCPU's CPUID (kvm_cpuid.c), the state
 * conversion (kvm_state.c), the run loop with its exits (kvm_run.c), guest
 * debugging (kvm_debug.c) and the cpu_backend_ops that ties them together
 * (kvm_backend.c). KVM runs without its in-kernel irqchip and PIT: tandem's
 * own PIC/IOAPIC/LAPIC deliver vectors through the vcpu_link. */
#ifndef HWACCEL_KVM_INT_H
#define HWACCEL_KVM_INT_H

#include <linux/kvm.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "cpu/x86_state.h"
#include "vm/accel.h"
#include "vm/machine.h"

/* --- the host (kvm_dev.c) --- */
/* The /dev/kvm fd, opened once and checked (API version, capabilities);
 * negative errno with *why when KVM cannot be used */
int kvm_dev_fd(const char **why);
/* 0 if the host CPU has VMX or SVM, else -ENODEV with *why */
int kvm_dev_hw_virt(const char **why);
/* size of the kvm_run mapping */
size_t kvm_dev_run_size(void);

/* --- one memslot as KVM has it --- */
struct kvm_slot {
    uint64_t gpa, size;
    uint8_t *host;
    uint32_t flags;   /* KVM_MEM_READONLY */
    uint32_t id;
};

#define KVM_MAX_HW_BPS 4
#define KVM_MAX_SLOTS 512

struct kvm_vcpu {
    struct kvm_vm *vm;
    int index;
    int fd;
    struct kvm_run *run;
    struct vcpu_link *link;
    bool in_use;          /* between init and destroy */

    /* run state kept here because KVM keeps none without its irqchip */
    bool halted;          /* after HLT until an interrupt or NMI */
    bool wait_sipi;       /* AP after RESET/INIT until a SIPI */
    bool if_flag;         /* RFLAGS.IF as of the last exit or set_state */
    uint8_t cr8;          /* last CR8 handed to KVM */

    /* stopping a run: kick() and the deadline timer (kvm_run.c) */
    _Atomic bool kicked;
    _Atomic bool in_kvm_run;
    pid_t tid;            /* thread that runs this vCPU */
    timer_t timer;
    bool timer_ok;

    /* guest debugging (kvm_debug.c) */
    bool single_step;
    int sw_breaks;
    struct { bool used; uint64_t addr; unsigned kind, len; }
        hw[KVM_MAX_HW_BPS];
};

struct kvm_vm {
    struct machine *m;
    int fd;
    int users;            /* vCPUs in use */
    struct kvm_vcpu *vcpu[MACHINE_MAX_CPUS];
    struct kvm_slot *slots;
    size_t nslots;
    bool slot_id_used[KVM_MAX_SLOTS];
    uint32_t max_slots;   /* what this KVM allows, at most KVM_MAX_SLOTS */
    bool msr_filter;      /* APIC MSRs reach tandem's LAPIC */
    struct mem_listener listener;
    struct kvm_vm *next;
};

/* --- VM (kvm_vm.c) --- */
/* The VM of machine m, created on first use; NULL after an error line */
struct kvm_vm *kvm_vm_get(struct machine *m);
/* Drop one user; the last one closes the VM and its vCPUs */
void kvm_vm_put(struct kvm_vm *vm);
/* Bring the memslots in line with the memory map's flat view */
int kvm_vm_sync_slots(struct kvm_vm *vm);

/* --- CPUID (kvm_cpuid.c) --- */
int kvm_cpuid_setup(struct kvm_vcpu *v);

/* --- state (kvm_state.c) --- */
int kvm_state_get(struct kvm_vcpu *v, struct x86_state *s);
int kvm_state_set(struct kvm_vcpu *v, const struct x86_state *s);
/* single MSR access from the host side; 0 or -1 */
int kvm_msr_get(struct kvm_vcpu *v, uint32_t index, uint64_t *value);
int kvm_msr_set(struct kvm_vcpu *v, uint32_t index, uint64_t value);
/* link->tsc_offset from KVM's guest TSC now */
void kvm_state_sync_tsc(struct kvm_vcpu *v);

/* --- running (kvm_run.c) --- */
enum run_exit kvm_run_vcpu(struct kvm_vcpu *v, int64_t deadline_ns);
void kvm_kick(void *vcpu);
void kvm_run_cleanup(struct kvm_vcpu *v);

/* --- debugging (kvm_debug.c) --- */
int kvm_debug_apply(struct kvm_vcpu *v);
int kvm_debug_insert(struct kvm_vcpu *v, enum debug_kind kind, uint64_t addr,
                     uint64_t len);
int kvm_debug_remove(struct kvm_vcpu *v, enum debug_kind kind, uint64_t addr,
                     uint64_t len);

#endif
