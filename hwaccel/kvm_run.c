/* Running a KVM vCPU: KVM_RUN until the deadline on the virtual clock, a
 * kick, or an exit the main loop must see. A per-thread POSIX timer sends
 * KVM_KICK_SIGNAL at the deadline; kick() sends the same signal to the
 * thread while it is inside KVM_RUN. Both set kvm_run->immediate_exit, so a
 * signal that lands just before the ioctl still stops it.
 *
 * Without an in-kernel irqchip the backend delivers interrupts itself: before
 * each entry, a pending INTR on the vcpu_link is acknowledged at the LAPIC
 * (intr_ack) and injected with KVM_INTERRUPT when KVM says the guest can take
 * it; otherwise KVM is asked to exit when the interrupt window opens. NMIs go
 * in with KVM_NMI; INIT and SIPI are done by setting the state. HLT, which
 * KVM hands to user space here, is tracked in the vCPU.
 *
 * Exits: port I/O to port_read/port_write, MMIO to mem_read/mem_write, the
 * APIC MSRs (routed out by the MSR filter) to the LAPIC through the link.
 * An instruction KVM cannot emulate runs on tandem's interpreter
 * (interp_step). */
#define _GNU_SOURCE
#include "hwaccel/kvm_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cpu/cpu.h"
#include "cpu/interp.h"
#include "vm/log.h"
#include "vm/runstate.h"

#define KVM_KICK_SIGNAL (SIGRTMIN + 3)
#ifndef sigev_notify_thread_id /* glibc before 2.37 names it only this way */
#define sigev_notify_thread_id _sigev_un._tid
#endif
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0

static _Thread_local struct kvm_run *volatile thread_run;

static void kick_signal(int sig)
{
    struct kvm_run *run = thread_run;
    if (run)
        run->immediate_exit = 1;
}

static int thread_setup(struct kvm_vcpu *v)
{
    static bool handler_set;
    if (!handler_set) {
        struct sigaction sa = {.sa_handler = kick_signal, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        if (sigaction(KVM_KICK_SIGNAL, &sa, NULL) < 0)
            return -errno;
        handler_set = true;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, KVM_KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    pid_t tid = gettid();
    if (v->timer_ok && v->tid == tid)
        return 0;
    if (v->timer_ok)
        timer_delete(v->timer);
    v->timer_ok = false;
    v->tid = tid;
    struct sigevent sev = {
        .sigev_notify = SIGEV_THREAD_ID,
        .sigev_signo = KVM_KICK_SIGNAL,
    };
    sev.sigev_notify_thread_id = tid;
    if (timer_create(CLOCK_MONOTONIC, &sev, &v->timer) < 0)
        return -errno;
    v->timer_ok = true;
    return 0;
}

static void timer_arm(struct kvm_vcpu *v, int64_t ns)
{
    if (ns < 1000)
        ns = 1000;
    struct itimerspec its = {
        .it_value = {ns / NS_PER_SEC, ns % NS_PER_SEC},
    };
    timer_settime(v->timer, 0, &its, NULL);
}

static void timer_disarm(struct kvm_vcpu *v)
{
    struct itimerspec its = {{0, 0}, {0, 0}};
    timer_settime(v->timer, 0, &its, NULL);
}

void kvm_run_cleanup(struct kvm_vcpu *v)
{
    if (v->timer_ok)
        timer_delete(v->timer);
    v->timer_ok = false;
    if (v->run)
        munmap(v->run, kvm_dev_run_size());
    v->run = NULL;
}

void kvm_kick(void *vcpu)
{
    struct kvm_vcpu *v = vcpu;
    atomic_store(&v->kicked, true);
    if (atomic_load(&v->in_kvm_run)) {
        v->run->immediate_exit = 1;
        tgkill(getpid(), v->tid, KVM_KICK_SIGNAL);
    }
}

/* --- INIT, SIPI, NMI --- */

static bool is_bsp(struct kvm_vcpu *v)
{
    uint64_t base;
    if (v->link->msr_read && v->link->msr_read(v->link->ic, MSR_APIC_BASE,
                                               &base) == 0)
        return (base >> 8) & 1;
    return v->index == 0;
}

/* INIT: the RESET state except x87/SSE, MTRRs, PAT and the TSC (SDM Vol. 3
 * "Processor State Following Power-up, Reset, or INIT"); APs then wait for
 * a SIPI, the BSP starts at the reset vector */
static void do_init(struct kvm_vcpu *v)
{
    struct x86_state *old = malloc(sizeof(*old));
    struct x86_state *s = malloc(sizeof(*s));
    if (old && s && kvm_state_get(v, old) == 0) {
        x86_state_reset(s);
        memcpy(s->xsave, old->xsave, sizeof(s->xsave));
        s->mtrr_def_type = old->mtrr_def_type;
        memcpy(s->mtrr_fixed, old->mtrr_fixed, sizeof(s->mtrr_fixed));
        memcpy(s->mtrr_var, old->mtrr_var, sizeof(s->mtrr_var));
        s->pat = old->pat;
        s->tsc = old->tsc;
        kvm_state_set(v, s);
    }
    free(old);
    free(s);
    v->halted = false;
    v->wait_sipi = !is_bsp(v);
}

static void do_sipi(struct kvm_vcpu *v)
{
    if (!v->wait_sipi)
        return;
    struct x86_state *s = malloc(sizeof(*s));
    if (s && kvm_state_get(v, s) == 0) {
        uint8_t vec = v->link->sipi_vector;
        s->seg[S_CS].selector = (uint16_t)(vec << 8);
        s->seg[S_CS].base = (uint64_t)vec << 12;
        s->rip = 0;
        s->wait_sipi = 0;
        kvm_state_set(v, s);
    }
    free(s);
}

/* Latched events of the link; true with *why when run must return */
static bool take_events(struct kvm_vcpu *v, enum run_exit *why)
{
    unsigned ev = vcpu_link_take(v->link, VCPU_EV_INIT | VCPU_EV_SIPI |
                                 VCPU_EV_NMI | VCPU_EV_SMI | VCPU_EV_EXIT);
    if (!ev)
        return false;
    if (ev & VCPU_EV_INIT)
        do_init(v);
    if (ev & VCPU_EV_SIPI)
        do_sipi(v);
    if ((ev & VCPU_EV_NMI) && !v->wait_sipi &&
        ioctl(v->fd, KVM_NMI) == 0)
        v->halted = false;
    if (ev & VCPU_EV_SMI)
        log_msg_rl(LOG_UNIMP, "kvm: vCPU %d: SMI dropped (no SMM)\n", v->index);
    if (ev & VCPU_EV_EXIT) {
        *why = RUN_DEADLINE;
        return true;
    }
    return false;
}

/* Inject a pending external interrupt or ask for the window */
static void inject_interrupt(struct kvm_vcpu *v)
{
    struct kvm_run *run = v->run;
    run->request_interrupt_window = 0;
    if (!(vcpu_link_pending(v->link) & VCPU_EV_INTR))
        return;
    if (run->ready_for_interrupt_injection && v->if_flag && v->link->intr_ack) {
        int vec = v->link->intr_ack(v->link->ic);
        if (vec >= 0) {
            struct kvm_interrupt irq = {.irq = (uint32_t)vec};
            if (ioctl(v->fd, KVM_INTERRUPT, &irq) == 0)
                run->ready_for_interrupt_injection = 0;
        }
        /* another one behind it: exit as soon as it can go in */
        if (vcpu_link_pending(v->link) & VCPU_EV_INTR)
            run->request_interrupt_window = 1;
        return;
    }
    run->request_interrupt_window = 1;
}

/* --- exits --- */

static uint64_t load_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, p, size);
    return v;
}

static void exit_io(struct kvm_vcpu *v)
{
    struct kvm_run *run = v->run;
    struct port_bus *io = v->vm->m->io;
    uint8_t *p = (uint8_t *)run + run->io.data_offset;
    unsigned size = run->io.size;
    if (size != 1 && size != 2 && size != 4)
        return;
    for (uint32_t i = 0; i < run->io.count; i++, p += size) {
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            port_write(io, run->io.port, (uint32_t)load_le(p, size), size);
        } else {
            uint32_t val = port_read(io, run->io.port, size);
            memcpy(p, &val, size);
        }
    }
}

static void exit_mmio(struct kvm_vcpu *v)
{
    struct kvm_run *run = v->run;
    struct mem_map *mem = v->vm->m->mem;
    uint64_t gpa = run->mmio.phys_addr & mem_map_a20_mask(mem);
    unsigned len = run->mmio.len;
    if (len > 8)
        len = 8;
    bool whole = len == 1 || len == 2 || len == 4 || len == 8;
    if (run->mmio.is_write) {
        if (whole)
            mem_write(mem, gpa, load_le(run->mmio.data, len), len);
        else
            for (unsigned i = 0; i < len; i++)
                mem_write(mem, gpa + i, run->mmio.data[i], 1);
    } else if (whole) {
        uint64_t val = mem_read(mem, gpa, len);
        memcpy(run->mmio.data, &val, len);
    } else {
        for (unsigned i = 0; i < len; i++)
            run->mmio.data[i] = (uint8_t)mem_read(mem, gpa + i, 1);
    }
}

static void exit_rdmsr(struct kvm_vcpu *v)
{
    struct kvm_run *run = v->run;
    uint64_t val = 0;
    int r = v->link->msr_read ? v->link->msr_read(v->link->ic, run->msr.index,
                                                  &val) : -1;
    run->msr.error = r != 0;
    run->msr.data = r ? 0 : val;
}

static void exit_wrmsr(struct kvm_vcpu *v)
{
    struct kvm_run *run = v->run;
    uint32_t index = run->msr.index;
    if (index == MSR_TSC_DEADLINE)
        kvm_state_sync_tsc(v); /* the deadline is in the guest's TSC now */
    int r = v->link->msr_write ? v->link->msr_write(v->link->ic, index,
                                                    run->msr.data) : -1;
    run->msr.error = r != 0;
    /* KVM shows CPUID.1:EDX.APIC by its own copy of APIC_BASE */
    if (r == 0 && index == MSR_APIC_BASE)
        kvm_msr_set(v, MSR_APIC_BASE, run->msr.data);
}

/* An instruction KVM could not emulate (code in MMIO, say): one step of
 * tandem's interpreter on the same state. A fresh interpreter vCPU each
 * time, so that no decoded code outlives writes KVM made to guest RAM. Not
 * with an event KVM still has to deliver: the interpreter would run the
 * instruction first. */
static int emulate_one(struct kvm_vcpu *v, enum run_exit *why)
{
    size_t size = (sizeof(struct cpu) + 63) & ~(size_t)63;
    struct cpu *cpu = aligned_alloc(64, size);
    struct x86_state *s = malloc(sizeof(*s));
    int err = -1;
    if (cpu && s && kvm_state_get(v, s) == 0 && !s->exception_pending &&
        s->injected_irq < 0) {
        cpu_init(cpu, v->vm->m, v->index);
        cpu_set_state(cpu, s);
        interp_step(cpu);
        cpu_get_state(cpu, s);
        if (cpu->shutdown)
            *why = RUN_SHUTDOWN;
        interp_free(cpu);
        cpu_destroy(cpu);
        err = kvm_state_set(v, s);
    }
    free(cpu);
    free(s);
    return err;
}

static const char *internal_reason(uint32_t sub)
{
    switch (sub) {
    case KVM_INTERNAL_ERROR_EMULATION: return "instruction emulation failed";
    case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
    case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failed";
    default: return "internal error";
    }
}

static uint64_t cur_rip(struct kvm_vcpu *v)
{
    struct kvm_regs regs;
    return ioctl(v->fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
}

/* -1: keep running; else why run() returns */
static int handle_exit(struct kvm_vcpu *v)
{
    struct kvm_run *run = v->run;
    enum run_exit why = RUN_DEADLINE;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        exit_io(v);
        return -1;
    case KVM_EXIT_MMIO:
        exit_mmio(v);
        return -1;
    case KVM_EXIT_X86_RDMSR:
        exit_rdmsr(v);
        return -1;
    case KVM_EXIT_X86_WRMSR:
        exit_wrmsr(v);
        return -1;
    case KVM_EXIT_HLT:
        v->halted = true;
        return -1;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
    case KVM_EXIT_INTR:
        return -1;
    case KVM_EXIT_SHUTDOWN:
        return RUN_SHUTDOWN;
    case KVM_EXIT_DEBUG:
        return RUN_DEBUG;
    case KVM_EXIT_SYSTEM_EVENT:
        if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
            vm_request(VM_REQ_RESET, "KVM system reset");
        else
            vm_request(VM_REQ_POWEROFF, "KVM system event");
        return RUN_DEADLINE;
    case KVM_EXIT_FAIL_ENTRY:
        error_report("kvm: vCPU %d: VM entry failed (hardware reason 0x%llx) "
                     "at rip 0x%llx", v->index,
                     (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
                     (unsigned long long)cur_rip(v));
        return RUN_ERROR;
    case KVM_EXIT_INTERNAL_ERROR:
        if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
            emulate_one(v, &why) == 0)
            return why == RUN_SHUTDOWN ? RUN_SHUTDOWN : -1;
        error_report("kvm: vCPU %d: %s (suberror %u) at rip 0x%llx", v->index,
                     internal_reason(run->internal.suberror),
                     run->internal.suberror, (unsigned long long)cur_rip(v));
        return RUN_ERROR;
    default:
        error_report("kvm: vCPU %d: unexpected exit reason %u", v->index,
                     run->exit_reason);
        return RUN_ERROR;
    }
}

enum run_exit kvm_run_vcpu(struct kvm_vcpu *v, int64_t deadline_ns)
{
    struct kvm_run *run = v->run;
    struct vclock *clock = v->vm->m->clock;
    int err = thread_setup(v);
    if (err) {
        error_report("kvm: cannot set up the vCPU timer: %s", strerror(-err));
        return RUN_ERROR;
    }
    thread_run = run;
    enum run_exit why = RUN_DEADLINE;
    for (;;) {
        run->immediate_exit = 0;
        if (take_events(v, &why))
            break;
        if (atomic_exchange(&v->kicked, false) &&
            vm_pending_request() != VM_REQ_NONE)
            break;
        if (v->wait_sipi) {
            why = RUN_HALT;
            break;
        }
        if (v->halted) {
            if (!(v->if_flag && (vcpu_link_pending(v->link) & VCPU_EV_INTR))) {
                why = RUN_HALT;
                break;
            }
            v->halted = false;
        }
        int64_t left = deadline_ns - vclock_now(clock);
        if (left <= 0)
            break;
        inject_interrupt(v);
        if (v->link->get_cr8) {
            v->cr8 = v->link->get_cr8(v->link->ic) & 0xf;
            run->cr8 = v->cr8;
        }
        timer_arm(v, left);
        atomic_store(&v->in_kvm_run, true);
        if (atomic_load(&v->kicked))
            run->immediate_exit = 1;
        int r = ioctl(v->fd, KVM_RUN, 0);
        int run_errno = errno;
        atomic_store(&v->in_kvm_run, false);
        timer_disarm(v);
        v->if_flag = run->if_flag;
        if (v->link->set_cr8 && (run->cr8 & 0xf) != v->cr8)
            v->link->set_cr8(v->link->ic, run->cr8 & 0xf);
        if (r < 0) {
            if (run_errno == EINTR || run_errno == EAGAIN)
                continue;
            error_report("kvm: vCPU %d: KVM_RUN failed: %s", v->index,
                         strerror(run_errno));
            why = RUN_ERROR;
            break;
        }
        int ex = handle_exit(v);
        if (ex >= 0) {
            why = (enum run_exit)ex;
            break;
        }
    }
    thread_run = NULL;
    return why;
}
