/* The monitor (see monitor.h): collects input bytes into a line, splits
 * it into a command and an argument and runs it against the vCPU set, the
 * run state and the board. */
#include "vm/monitor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vm/board.h"
#include "vm/chardev.h"
#include "vm/log.h"
#include "vm/runstate.h"

#define MONITOR_LINE 512
#define MONITOR_PROMPT "(tandem) "

struct monitor {
    struct chardev *cd;
    bool own_cd;        /* false: a mux frontend on the serial's stdio */
    struct vcpu_set *vs;
    char line[MONITOR_LINE];
    size_t len;
    bool overlong;      /* the line outgrew the buffer: drop it */
    bool last_cr;
};

static void mon_printf(struct monitor *mon, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void mon_printf(struct monitor *mon, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        chardev_write(mon->cd, (const uint8_t *)buf,
                      (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void cmd_help(struct monitor *mon)
{
    mon_printf(mon,
        "help                 this list\n"
        "info registers       the vCPUs' registers\n"
        "info status          running or paused\n"
        "info accel           the backend running the vCPUs\n"
        "stop                 pause the machine (the clock stops)\n"
        "cont                 resume it\n"
        "savevm FILE          save the whole machine to FILE\n"
        "loadvm FILE          resume the machine saved in FILE\n"
        "accel kvm|jit|interp move the running machine to that backend\n"
        "system_reset         reset the machine\n"
        "system_powerdown     press the ACPI power button\n"
        "quit                 leave tandem\n");
}

static void cmd_info(struct monitor *mon, const char *what)
{
    struct vcpu_set *vs = mon->vs;
    if (!strcmp(what, "registers")) {
        void *st = aligned_alloc(ACCEL_CPU_STATE_ALIGN,
                                 (accel_cpu_state_size + 63) & ~(size_t)63);
        char *text = malloc(4096);
        for (int i = 0; st && text && i < vs->m->ncpus; i++) {
            vcpu_set_get_state(vs, i, st);
            accel_cpu_state_format(st, text, 4096);
            mon_printf(mon, "CPU#%d\n", i);
            chardev_write(mon->cd, (const uint8_t *)text, strlen(text));
        }
        free(text);
        free(st);
    } else if (!strcmp(what, "status")) {
        mon_printf(mon, "VM status: %s\n",
                   vm_pending_request() == VM_REQ_PAUSE ? "paused" : "running");
    } else if (!strcmp(what, "accel")) {
        mon_printf(mon, "%s\n", vs->ops->name);
    } else {
        mon_printf(mon, "info: expected registers, status or accel\n");
    }
}

static void cmd_stop(struct monitor *mon)
{
    if (vm_pending_request() == VM_REQ_NONE)
        vm_request(VM_REQ_PAUSE, "stop from the monitor");
    vclock_stop(mon->vs->m->clock);
}

static void cmd_cont(struct monitor *mon)
{
    if (vm_pending_request() == VM_REQ_PAUSE)
        vm_clear_request();
    vclock_start(mon->vs->m->clock);
}

static void cmd_accel(struct monitor *mon, const char *name)
{
    const struct cpu_backend_ops *ops = accel_find(name);
    char err[SNAPSHOT_ERR_LEN];
    if (!*name) {
        mon_printf(mon, "%s\n", mon->vs->ops->name);
    } else if (!ops) {
        mon_printf(mon, "Error: unknown accelerator '%s'\n", name);
    } else if (ops != mon->vs->ops && vcpu_set_switch(mon->vs, ops, err)) {
        mon_printf(mon, "Error: %s\n", err);
    }
}

void monitor_command(struct monitor *mon, const char *line)
{
    char cmd[MONITOR_LINE], arg[MONITOR_LINE] = "";
    char err[SNAPSHOT_ERR_LEN];
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strcspn(line, " \t");
    memcpy(cmd, line, n);
    cmd[n] = 0;
    line += n;
    while (*line == ' ' || *line == '\t')
        line++;
    snprintf(arg, sizeof(arg), "%s", line);
    for (size_t k = strlen(arg); k > 0 && (arg[k - 1] == ' ' || arg[k - 1] == '\t');)
        arg[--k] = 0;

    if (!*cmd) {
        /* an empty line: just the prompt again */
    } else if (!strcmp(cmd, "help") || !strcmp(cmd, "?")) {
        cmd_help(mon);
    } else if (!strcmp(cmd, "info")) {
        cmd_info(mon, arg);
    } else if (!strcmp(cmd, "stop")) {
        cmd_stop(mon);
    } else if (!strcmp(cmd, "cont") || !strcmp(cmd, "c")) {
        cmd_cont(mon);
    } else if ((!strcmp(cmd, "savevm") || !strcmp(cmd, "loadvm")) && !*arg) {
        mon_printf(mon, "Error: %s needs a file name\n", cmd);
    } else if (!strcmp(cmd, "savevm")) {
        if (vcpu_set_save(mon->vs, arg, err))
            mon_printf(mon, "Error: %s\n", err);
    } else if (!strcmp(cmd, "loadvm")) {
        if (vcpu_set_load(mon->vs, arg, err))
            mon_printf(mon, "Error: %s\n", err);
    } else if (!strcmp(cmd, "accel")) {
        cmd_accel(mon, arg);
    } else if (!strcmp(cmd, "system_reset")) {
        vm_request(VM_REQ_RESET, "system_reset from the monitor");
    } else if (!strcmp(cmd, "system_powerdown")) {
        board_power_button(mon->vs->m);
    } else if (!strcmp(cmd, "quit") || !strcmp(cmd, "q")) {
        vm_request_exit(0, "quit from the monitor");
    } else {
        mon_printf(mon, "unknown command: '%s' (help lists them)\n", cmd);
    }
}

static size_t mon_can_receive(void *opaque)
{
    return MONITOR_LINE;
}

static void mon_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct monitor *mon = opaque;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        bool crlf = c == '\n' && mon->last_cr; /* one line end */
        mon->last_cr = c == '\r';
        if (crlf)
            continue;
        if (c == '\n' || c == '\r') {
            mon->line[mon->len] = 0;
            if (mon->overlong)
                mon_printf(mon, "Error: line too long\n");
            else
                monitor_command(mon, mon->line);
            mon_printf(mon, MONITOR_PROMPT);
            mon->len = 0;
            mon->overlong = false;
        } else if ((c == 0x7f || c == 0x08) && mon->len) {
            mon->len--;
        } else if (c >= 0x20 && c != 0x7f) {
            if (mon->len + 1 < MONITOR_LINE)
                mon->line[mon->len++] = (char)c;
            else
                mon->overlong = true;
        }
    }
}

/* Ctrl-A C switched the shared terminal to the monitor */
static void mon_focus(void *opaque)
{
    mon_printf(opaque, "\n" MONITOR_PROMPT);
}

int monitor_open(struct monitor **out, const char *spec, struct vcpu_set *vs)
{
    struct monitor *mon = calloc(1, sizeof(*mon));
    if (!mon)
        return -ENOMEM;
    mon->vs = vs;
    struct chardev_frontend fe = {mon_can_receive, mon_receive, NULL, mon};
    struct chardev *shared = strcmp(spec, "stdio") ? NULL : chardev_stdio();
    if (shared) {
        if (chardev_add_mux_frontend(shared, &fe, mon_focus)) {
            error_report("-monitor stdio: the terminal is taken twice already");
            free(mon);
            return -EBUSY;
        }
        mon->cd = shared;
    } else {
        int err = chardev_open(&mon->cd, spec);
        if (err) {
            free(mon);
            return err;
        }
        mon->own_cd = true;
        chardev_set_frontend(mon->cd, &fe);
        if (!strcmp(spec, "stdio")) /* a socket client sees replies only */
            mon_printf(mon, "tandem monitor - type 'help' for the commands\n"
                       MONITOR_PROMPT);
    }
    *out = mon;
    return 0;
}

void monitor_poll(struct monitor *mon)
{
    if (mon && mon->own_cd)
        chardev_poll(mon->cd);
}

void monitor_close(struct monitor *mon)
{
    if (!mon)
        return;
    if (mon->own_cd)
        chardev_close(mon->cd);
    free(mon);
}
