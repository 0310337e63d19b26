/* The `interp` CPU backend (-accel interp): the reference interpreter of
 * cpu/interp*.c behind struct cpu_backend_ops. Each vCPU is a struct cpu
 * wired to the machine; vCPU 0 starts as the loader asked (vm/boot.h), the
 * others wait for a SIPI. Kicks only raise the link's EXIT event, which the
 * run loop polls between instructions. Debugging: single-step and
 * breakpoints (no watchpoints yet). */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/boot_state.h"
#include "cpu/interp.h"
#include "vm/accel.h"
#include "vm/machine.h"
#include "vm/vcpu_link.h"

static int interp_probe(const char **why)
{
    return 0;
}

static void *interp_init(struct machine *m, int index)
{
    size_t size = (sizeof(struct cpu) + 63) & ~(size_t)63;
    struct cpu *cpu = aligned_alloc(64, size);
    if (!cpu)
        return NULL;
    cpu_init(cpu, m, index);
    if (index == 0 && m->boot.mode != BOOT_RESET) {
        struct x86_state *s = malloc(sizeof(*s));
        if (!s) {
            free(cpu);
            return NULL;
        }
        cpu_get_state(cpu, s);
        x86_state_apply_boot(s, &m->boot);
        cpu_set_state(cpu, s);
        free(s);
    }
    interp_set_wait_sipi(cpu, index != 0);
    cpu->link->backend = cpu;
    return cpu;
}

static void interp_destroy(void *vcpu)
{
    struct cpu *cpu = vcpu;
    if (!cpu)
        return;
    if (cpu->link && cpu->link->backend == cpu)
        cpu->link->backend = NULL;
    interp_free(cpu);
    cpu_destroy(cpu);
    free(cpu);
}

static void interp_get_state(void *vcpu, struct x86_state *s)
{
    cpu_get_state(vcpu, s);
    s->wait_sipi = interp_wait_sipi(vcpu);
}

static void interp_set_state(void *vcpu, const struct x86_state *s)
{
    cpu_set_state(vcpu, s);
    interp_set_wait_sipi(vcpu, s->wait_sipi);
    interp_mode_changed(vcpu);
}

static enum run_exit interp_backend_run(void *vcpu, int64_t deadline_ns)
{
    return (enum run_exit)interp_run(vcpu, deadline_ns);
}

static void interp_kick(void *vcpu)
{
    struct cpu *cpu = vcpu;
    if (cpu->link)
        atomic_fetch_or(&cpu->link->events, VCPU_EV_EXIT);
}

static int interp_set_debug(void *vcpu, bool single_step)
{
    interp_set_single_step(vcpu, single_step);
    return 0;
}

/* breakpoints only; watchpoints are not implemented */
static int debug_point(void *vcpu, enum debug_kind kind, uint64_t addr,
                       bool insert)
{
    if (kind != DBG_SW_BREAK && kind != DBG_HW_BREAK)
        return -ENOTSUP;
    return interp_breakpoint(vcpu, addr, insert);
}

static int interp_insert_debug(void *vcpu, enum debug_kind kind,
                               uint64_t addr, uint64_t len)
{
    return debug_point(vcpu, kind, addr, true);
}

static int interp_remove_debug(void *vcpu, enum debug_kind kind,
                               uint64_t addr, uint64_t len)
{
    return debug_point(vcpu, kind, addr, false);
}

static void interp_invalidate(void *vcpu, uint64_t gpa, uint64_t len)
{
    interp_invalidate_code(gpa, len);
}

static const struct cpu_backend_ops interp_ops = {
    .name = "interp",
    .summary = "the reference interpreter (portable, slowest)",
    .probe = interp_probe,
    .init = interp_init,
    .destroy = interp_destroy,
    .get_state = interp_get_state,
    .set_state = interp_set_state,
    .run = interp_backend_run,
    .kick = interp_kick,
    .set_debug = interp_set_debug,
    .insert_debug = interp_insert_debug,
    .remove_debug = interp_remove_debug,
    .invalidate_code = interp_invalidate,
    .priority = 0,
};

ACCEL_REGISTER(interp_ops)
