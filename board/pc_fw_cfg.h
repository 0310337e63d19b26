/* Publishing the PC board's fw_cfg items (see pc_fw_cfg.c). */
#ifndef BOARD_PC_FW_CFG_H
#define BOARD_PC_FW_CFG_H

#include "board/pc_board.h"

int pc_fw_cfg_publish(struct machine *m, struct pc_board *b);

#endif
