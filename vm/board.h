/* The board interface: vm/ declares it, the PC board in devices/pc_board.c
 * implements it, so that the main loop can build and reset a machine without
 * including device headers. */
#ifndef VM_BOARD_H
#define VM_BOARD_H

struct machine;

/* Create and wire every device, load firmware/kernel. 0 or -errno (after an
 * error_report line). */
int board_init(struct machine *m);
/* System reset: every device back to its power-on state, firmware reloaded */
void board_reset(struct machine *m);
/* Called by the main loop about every millisecond to poll host input */
void board_poll(struct machine *m);
/* The ACPI power button was pressed (monitor system_powerdown) */
void board_power_button(struct machine *m);

#endif
