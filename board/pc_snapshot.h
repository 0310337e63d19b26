/* The PC board's part in snapshots: it registers the state struct of every
 * device of struct pc_board with the machine's vmstate registry. */
#ifndef BOARD_PC_SNAPSHOT_H
#define BOARD_PC_SNAPSHOT_H

#include "board/pc_board.h"

/* Register every section (once, after the chipset exists). 0 or -errno
 * after an error_report line. */
int pc_snapshot_register(struct machine *m, struct pc_board *b);

#endif
