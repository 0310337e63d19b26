/* What the PC board puts in memory before the first instruction: the BIOS
 * ROM and CMOS contents, or for a direct kernel boot the kernel, its initrd,
 * the ACPI and MP tables and the chipset programming that firmware would
 * have done. */
#ifndef BOARD_PC_FIRMWARE_H
#define BOARD_PC_FIRMWARE_H

#include "board/pc_board.h"
#include "firmware/acpi_tables.h"

/* At board creation: map the BIOS, fill CMOS, load the kernel. 0 or -errno */
int pc_firmware_load(struct machine *m, struct pc_board *b);
/* After a system reset: the same again on the reset chipset */
void pc_firmware_reset(struct machine *m, struct pc_board *b);

/* The ACPI table parameters of this board (APIC addresses, PM ports, SCI) */
void pc_acpi_config(const struct machine *m, struct acpi_config *ac);

#endif
