/* The monitor: a line-oriented command interpreter on a chardev, as
 * QEMU's human monitor: help, info registers|status|accel, stop, cont,
 * savevm FILE, loadvm FILE, accel kvm|jit|interp, system_reset,
 * system_powerdown, quit. It runs on the main loop's thread between runs
 * of the backend, so commands see every vCPU stopped. */
#ifndef VM_MONITOR_H
#define VM_MONITOR_H

#include "vm/vcpu_set.h"

struct monitor;

/* "stdio" (sharing the terminal with a serial console on stdio through
 * Ctrl-A C) or "unix:PATH,server[,nowait]". 0, or -errno after an
 * error_report line. */
int monitor_open(struct monitor **out, const char *spec, struct vcpu_set *vs);
/* Take host input and run the complete command lines; NULL is fine */
void monitor_poll(struct monitor *mon);
void monitor_close(struct monitor *mon);
/* Run one command line (without its newline), output to the chardev */
void monitor_command(struct monitor *mon, const char *line);

#endif
