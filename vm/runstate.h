/* Machine-wide requests that any part may raise: reset (port 0x92, the
 * keyboard controller, triple fault), power off (ACPI S5), exit with a status
 * (isa-debug-exit, fatal errors). The main loop acts on them between runs of
 * the backend. */
#ifndef VM_RUNSTATE_H
#define VM_RUNSTATE_H

#include <stdbool.h>

enum vm_request {
    VM_REQ_NONE = 0,
    VM_REQ_RESET,     /* system reset (or exit with -no-reboot) */
    VM_REQ_POWEROFF,  /* guest powered off (or stays with -no-shutdown) */
    VM_REQ_EXIT,      /* leave tandem with vm_exit_status() */
    VM_REQ_PAUSE,     /* debugger/monitor stop */
};

/* Raise a request; kicks every vCPU so that the main loop sees it soon.
 * A stronger request is not replaced by a weaker one (EXIT > POWEROFF >
 * RESET > PAUSE). reason is a short static string for the user message. */
void vm_request(enum vm_request req, const char *reason);
void vm_request_exit(int status, const char *reason);
enum vm_request vm_pending_request(void);
const char *vm_request_reason(void);
int vm_exit_status(void);
void vm_clear_request(void);

/* The main loop registers how to kick every vCPU */
void vm_set_kick_all(void (*kick_all)(void *opaque), void *opaque);

#endif
