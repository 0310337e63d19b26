/* tandem's entry point: parse the command line, build the machine and the
 * PC board, pick the CPU backend and run the main loop. */
#include <stdio.h>
#include "vm/board.h"
#include "vm/cmdline.h"
#include "vm/log.h"
#include "vm/main_loop.h"

int main(int argc, char **argv)
{
    struct machine_config cfg;
    switch (cmdline_parse(argc, argv, &cfg)) {
    case CMDLINE_EXIT_OK:
        return 0;
    case CMDLINE_ERROR:
        return 1;
    case CMDLINE_RUN:
        break;
    }
    const struct cpu_backend_ops *ops = main_loop_pick_accel(cfg.accel);
    if (!ops)
        return 1;
    struct machine m;
    if (machine_init(&m, &cfg) < 0)
        return 1;
    if (cfg.clock_mode == VCLOCK_ICOUNT)
        vclock_set_icount_shift(m.clock, (unsigned)cfg.icount_shift);
    if (board_init(&m) < 0) {
        machine_destroy(&m);
        return 1;
    }
    int status = main_loop_run(&m, ops);
    fflush(stdout);
    machine_destroy(&m);
    return status;
}
