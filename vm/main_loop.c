/* The main loop (see main_loop.h). One host thread runs every vCPU in turn,
 * each up to the next timer deadline or a time slice, so device emulation
 * needs no locks. Between runs it polls the monitor and the backend
 * switcher, which act on the vCPU set (vm/vcpu_set.c) while nothing runs. */
#include "vm/main_loop.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "vm/accel_switch.h"
#include "vm/board.h"
#include "vm/log.h"
#include "vm/monitor.h"
#include "vm/runstate.h"
#include "vm/vcpu_set.h"

/* Host input is polled and vCPUs rotate at least this often */
#define SLICE_NS 1000000LL

const struct cpu_backend_ops *main_loop_pick_accel(const char *name)
{
    const char *why = NULL;
    if (strcmp(name, "auto") != 0) {
        const struct cpu_backend_ops *ops = accel_find(name);
        if (!ops) {
            error_report("-accel %s: unknown accelerator (-accel help lists them)", name);
            return NULL;
        }
        if (ops->probe && ops->probe(&why) != 0) {
            error_report("-accel %s: not usable on this host: %s", name,
                         why ? why : "unknown reason");
            return NULL;
        }
        return ops;
    }
    /* auto: the highest-priority backend that works here */
    const struct cpu_backend_ops *best = NULL, *skipped = NULL;
    const char *skipped_why = NULL;
    for (int i = 0; accel_at(i); i++) {
        const struct cpu_backend_ops *ops = accel_at(i);
        if (best && ops->priority <= best->priority)
            continue;
        why = NULL;
        if ((ops->probe && ops->probe(&why) != 0) ||
            (ops->probe_auto && ops->probe_auto(&why) != 0)) {
            if (!skipped || ops->priority > skipped->priority) {
                skipped = ops;
                skipped_why = why;
            }
            continue;
        }
        best = ops;
    }
    if (!best) {
        error_report("no CPU backend is usable on this host");
        return NULL;
    }
    if (skipped && skipped->priority > best->priority)
        fprintf(stderr, "tandem: using %s: %s is not usable (%s)\n", best->name,
                skipped->name, skipped_why ? skipped_why : "unknown reason");
    return best;
}

/* Wait for host input or until the virtual clock reaches deadline */
static void idle_until(struct machine *m, int64_t deadline)
{
    int64_t wait = deadline - vclock_now(m->clock);
    if (wait <= 0)
        return;
    if (wait > SLICE_NS)
        wait = SLICE_NS;
    if (vclock_mode(m->clock) == VCLOCK_HOST) {
        struct timespec ts = {0, (long)wait};
        nanosleep(&ts, NULL);
    } else {
        /* no instructions retire while every vCPU sleeps: jump ahead */
        vclock_set(m->clock, deadline);
    }
}

/* Returns -1 to go on, or the exit status */
static int handle_request(struct vcpu_set *vs)
{
    struct machine *m = vs->m;
    enum vm_request req = vm_pending_request();
    const char *why = vm_request_reason();
    switch (req) {
    case VM_REQ_NONE:
        return -1;
    case VM_REQ_EXIT:
        return vm_exit_status();
    case VM_REQ_POWEROFF:
        if (!m->cfg.no_shutdown)
            return 0;
        fprintf(stderr, "tandem: guest powered off (%s); staying paused (-no-shutdown)\n", why);
        vm_clear_request();
        vm_request(VM_REQ_PAUSE, "powered off");
        return -1;
    case VM_REQ_RESET:
        if (m->cfg.no_reboot) {
            fprintf(stderr, "tandem: guest reset (%s); exiting because of -no-reboot\n", why);
            return 0;
        }
        vm_clear_request();
        board_reset(m);
        return vcpu_set_reset(vs) ? 1 : -1;
    case VM_REQ_PAUSE:
        return -1;
    }
    return -1;
}

/* Everything the loop runs besides the vCPUs: -loadvm, the monitor and
 * -accel-switch-every. 0 or -1 after an error line. */
static int start_extras(struct vcpu_set *vs, struct monitor **mon,
                        struct accel_switch *sw)
{
    const struct machine_config *cfg = &vs->m->cfg;
    char err[SNAPSHOT_ERR_LEN];
    if (cfg->loadvm && vcpu_set_load(vs, cfg->loadvm, err)) {
        error_report("-loadvm %s", err);
        return -1;
    }
    if (cfg->monitor && monitor_open(mon, cfg->monitor, vs) < 0)
        return -1;
    memset(sw, 0, sizeof(*sw));
    if (cfg->accel_switch_ms &&
        accel_switch_init(sw, vs->ops, cfg->accel_switch_ms,
                          vclock_mode(vs->m->clock) != VCLOCK_ICOUNT) < 0)
        return -1;
    return 0;
}

int main_loop_run(struct machine *m, const struct cpu_backend_ops *ops)
{
    struct vcpu_set vs;
    struct monitor *mon = NULL;
    struct accel_switch sw;
    if (vcpu_set_create(&vs, m, ops) < 0)
        return 1;
    if (start_extras(&vs, &mon, &sw) < 0) {
        monitor_close(mon);
        vcpu_set_destroy(&vs);
        return 1;
    }
    vm_set_kick_all(vcpu_set_kick_all, &vs);
    int status;
    for (;;) {
        monitor_poll(mon);
        status = handle_request(&vs);
        if (status >= 0)
            break;
        if (vm_pending_request() == VM_REQ_PAUSE) {
            board_poll(m);
            struct timespec ts = {0, SLICE_NS};
            nanosleep(&ts, NULL);
            continue;
        }
        accel_switch_poll(&sw, &vs);
        vclock_run_timers(m->clock);
        board_poll(m);
        bool all_halted = true;
        for (int i = 0; i < m->ncpus && vm_pending_request() == VM_REQ_NONE; i++) {
            int64_t now = vclock_now(m->clock);
            int64_t deadline = vclock_next_deadline(m->clock);
            if (deadline > now + SLICE_NS)
                deadline = now + SLICE_NS;
            vcpu_link_current = &m->cpu_link[i]; /* for per-CPU MMIO */
            enum run_exit why = vs.ops->run(vs.vcpu[i], deadline);
            vcpu_link_current = NULL;
            if (why != RUN_HALT)
                all_halted = false;
            if (why == RUN_SHUTDOWN)
                vm_request(VM_REQ_RESET, "triple fault");
            else if (why == RUN_ERROR)
                vm_request_exit(1, "CPU backend error");
            vclock_run_timers(m->clock);
        }
        if (all_halted && vm_pending_request() == VM_REQ_NONE) {
            int64_t deadline = vclock_next_deadline(m->clock);
            int64_t now = vclock_now(m->clock);
            idle_until(m, deadline < now + SLICE_NS ? deadline : now + SLICE_NS);
        }
    }
    vm_set_kick_all(NULL, NULL);
    if (sw.period_ns || sw.switches)
        fprintf(stderr, "tandem: -accel-switch-every: %u switches between %s "
                "and %s\n", sw.switches, sw.pair[0]->name, sw.pair[1]->name);
    monitor_close(mon);
    vcpu_set_destroy(&vs);
    return status;
}
