/* The PC board's devices, shared by the board files (pc_board.c wires
 * them, pc_firmware.c loads firmware and kernels onto them). */
#ifndef BOARD_PC_BOARD_H
#define BOARD_PC_BOARD_H

#include "devices/acpi_pm.h"
#include "devices/apic_bus.h"
#include "devices/debug_exit.h"
#include "devices/debugcon.h"
#include "devices/fw_cfg.h"
#include "devices/i440fx.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pci.h"
#include "devices/pic.h"
#include "devices/piix3.h"
#include "devices/pit.h"
#include "devices/port61.h"
#include "devices/port80.h"
#include "devices/port92.h"
#include "devices/rtc.h"
#include "devices/uart.h"
#include "firmware/bios.h"
#include "vm/chardev.h"
#include "vm/machine.h"

struct pc_board {
    uint32_t isa_sources[16];     /* per ISA IRQ: which sources drive it */
    int isa_nsources[16];
    struct irq_line pirq_out[16]; /* the PIIX3's source on each ISA IRQ */
    struct irq_line sci;          /* the ACPI PM's source on IRQ 9 */
    struct irq_line pic_in[16];
    struct apic_bus apic_bus;
    struct lapic lapic[MACHINE_MAX_CPUS];
    struct ioapic ioapic;
    struct pic pic;
    struct pci_bus pci;
    struct i440fx host;
    struct piix3 isa;
    struct acpi_pm pm;
    struct pit pit;
    struct port61 port61;
    struct port92 port92;
    struct port80 port80;
    struct debugcon debugcon;
    struct rtc rtc;
    struct i8042 kbc;
    struct fw_cfg fw_cfg;
    struct uart uart[4];
    struct chardev *serial;
    struct bios_rom bios;
};

#endif
