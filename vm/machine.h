/* The machine: guest RAM (one host mapping), the memory map, the port bus,
 * the virtual clock and the vCPU links, plus the options the command line
 * set. The PC board (devices/pc_board.c) fills it with the chipset; the
 * main loop (vm/main_loop.c) runs the chosen backend on it. */
#ifndef VM_MACHINE_H
#define VM_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include "vm/boot.h"
#include "vm/clock.h"
#include "vm/memory.h"
#include "vm/port_bus.h"
#include "vm/vcpu_link.h"

struct vmstate; /* vm/vmstate.h */

#define MACHINE_MAX_CPUS 16

struct machine_config {
    uint64_t ram_size;           /* -m, bytes */
    int ncpus;                   /* -smp */
    const char *kernel, *initrd, *append; /* -kernel -initrd -append */
    const char *bios;            /* -bios; NULL: SeaBIOS from the cache or
                                    the built-in minimal BIOS */
    const char *serial;          /* "stdio", "file:PATH", "none" */
    bool no_reboot, no_shutdown;
    bool debug_exit;             /* -device isa-debug-exit */
    uint16_t debug_exit_base, debug_exit_size;
    const char *accel;           /* "auto", "interp", "jit", "kvm" */
    const char *display;         /* "none", "sdl" */
    enum vclock_mode clock_mode;
    int icount_shift;            /* -icount shift=N */
    int64_t rtc_base;            /* seconds since the epoch; -1: host time */
    const char *monitor;         /* -monitor stdio|unix:PATH,server,nowait */
    const char *loadvm;          /* -loadvm FILE: resume from a snapshot */
    int accel_switch_ms;         /* -accel-switch-every MS; 0: off */
};

struct machine {
    struct machine_config cfg;
    uint8_t *ram;       /* guest RAM, one host mapping of cfg.ram_size */
    uint64_t ram_size;
    uint64_t ram_below_4g, ram_above_4g;
    struct mem_map *mem;
    struct port_bus *io;
    struct vclock *clock;
    struct vmstate *vmstate; /* the devices' state sections (snapshots) */
    int ncpus;
    struct vcpu_link cpu_link[MACHINE_MAX_CPUS];
    void *board;        /* the board's private state (devices/pc_board.c) */
    struct boot_cpu boot; /* how vCPU 0 starts (set by a loader) */
};

/* Allocate RAM (anonymous mmap) and the buses. Returns 0 or -errno. */
int machine_init(struct machine *m, const struct machine_config *cfg);
void machine_destroy(struct machine *m);

#endif
