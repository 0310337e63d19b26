/* Machine-wide requests (reset, power off, exit) raised by devices and CPU
 * backends and acted on by the main loop. */
#include "vm/runstate.h"

#include <signal.h>
#include <stddef.h>

static volatile sig_atomic_t pending;
static int exit_status;
static const char *reason;
static void (*kick_all_fn)(void *);
static void *kick_all_opaque;

static int strength(enum vm_request r)
{
    switch (r) {
    case VM_REQ_EXIT: return 4;
    case VM_REQ_POWEROFF: return 3;
    case VM_REQ_RESET: return 2;
    case VM_REQ_PAUSE: return 1;
    default: return 0;
    }
}

void vm_request(enum vm_request req, const char *why)
{
    if (strength(req) > strength(pending)) {
        pending = req;
        reason = why;
    }
    if (kick_all_fn)
        kick_all_fn(kick_all_opaque);
}

void vm_request_exit(int status, const char *why)
{
    if (strength(VM_REQ_EXIT) > strength(pending))
        exit_status = status;
    vm_request(VM_REQ_EXIT, why);
}

enum vm_request vm_pending_request(void)
{
    return pending;
}

const char *vm_request_reason(void)
{
    return reason ? reason : "";
}

int vm_exit_status(void)
{
    return exit_status;
}

void vm_clear_request(void)
{
    pending = VM_REQ_NONE;
    reason = NULL;
}

void vm_set_kick_all(void (*kick_all)(void *opaque), void *opaque)
{
    kick_all_fn = kick_all;
    kick_all_opaque = opaque;
}
