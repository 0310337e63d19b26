/* The PIIX4 power management function (PCI 8086:7113 at 00:01.3), as QEMU's
 * PC has it: the PMBA register 0x40 (I/O base, decoded while bit 0 of 0x80 is
 * set) places the ACPI PM1a event and control blocks and the 24-bit PM timer
 * (3.579545 MHz, from the virtual clock); a GPE0 block at 0xAFE0; the APM
 * command port 0xB2 through which the OS asks for ACPI mode (SCI_EN). The SCI
 * is one IRQ line (ISA IRQ 9). Writing SLP_TYP S5 with SLP_EN powers off.
 * The SMBus base and host configuration registers are plain storage. The
 * constants below are what the ACPI table builder puts in the FADT/DSDT. */
#ifndef DEVICES_ACPI_PM_H
#define DEVICES_ACPI_PM_H

#include <stdint.h>
#include "devices/pci.h"
#include "vm/clock.h"
#include "vm/irq.h"
#include "vm/port_bus.h"

#define ACPI_PM_VENDOR 0x8086
#define ACPI_PM_DEVICE 0x7113
#define ACPI_PM_DEVFN PCI_DEVFN(1, 3)

/* Where firmware (SeaBIOS: PMBASE 0x600, SMBus 0x700) puts the blocks */
#define ACPI_PM_BASE 0x600
#define ACPI_PM_IO_SIZE 64
#define ACPI_PM1A_EVT_BLK (ACPI_PM_BASE + 0) /* 4 bytes: status, enable */
#define ACPI_PM1A_CNT_BLK (ACPI_PM_BASE + 4) /* 2 bytes */
#define ACPI_PM_TMR_BLK (ACPI_PM_BASE + 8)   /* 4 bytes */
#define ACPI_GPE0_BLK 0xafe0
#define ACPI_GPE0_BLK_LEN 4
#define ACPI_SCI_IRQ 9
#define ACPI_SMI_CMD 0xb2
#define ACPI_ENABLE_CMD 0xf1
#define ACPI_DISABLE_CMD 0xf0
#define ACPI_SMB_BASE 0x700
#define ACPI_PM_TIMER_HZ 3579545
/* SLP_TYP values of QEMU's DSDT for PIIX4 (_S3, _S4, _S5) */
#define ACPI_SLP_TYP_S3 1
#define ACPI_SLP_TYP_S4 2
#define ACPI_SLP_TYP_S5 0

/* PCI configuration registers */
#define ACPI_PM_PMBA 0x40
#define ACPI_PM_DEVACTB 0x58
#define ACPI_PM_PMREGMISC 0x80
#define ACPI_PM_SMBBA 0x90
#define ACPI_PM_SMBHSTCFG 0xd2

/* PM1 status/enable bits */
#define ACPI_PM1_TMR 0x0001
#define ACPI_PM1_BM 0x0010
#define ACPI_PM1_GBL 0x0020
#define ACPI_PM1_PWRBTN 0x0100
#define ACPI_PM1_RTC 0x0400
#define ACPI_PM1_WAK 0x8000
/* PM1 control bits */
#define ACPI_PM1_SCI_EN 0x0001
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_EN 0x2000

/* Mutable state besides the configuration space: plain data */
struct acpi_pm_state {
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint16_t gpe0_sts, gpe0_en;
    uint8_t apmc, apms;
    uint8_t sci_level;
    int64_t tmr_periods; /* bit-23 half periods of the timer seen so far */
};

struct acpi_pm {
    struct pci_device pci;
    struct acpi_pm_state s;
    struct port_bus *io;
    struct vclock *clock;
    const struct irq_line *sci;
    struct vtimer tmr_timer;  /* next timer overflow while TMR_EN is set */
    bool io_mapped;           /* the PM block is on the port bus at */
    uint16_t io_base;         /* io_base */
};

/* Put the function at 00:01.3 and claim the fixed ports (GPE0, APM). sci
 * must outlive pm. 0 or -errno. */
int acpi_pm_init(struct acpi_pm *pm, struct pci_bus *bus, struct port_bus *io,
                 struct vclock *clock, const struct irq_line *sci);
void acpi_pm_reset(struct acpi_pm *pm);
/* The power button was pressed (sets PWRBTN_STS, SCI if enabled) */
void acpi_pm_power_button(struct acpi_pm *pm);
/* Re-derive the port mapping, the timer and the SCI level from the state
 * (after a snapshot restore) */
void acpi_pm_update(struct acpi_pm *pm);
/* The PM timer's current 24-bit value */
uint32_t acpi_pm_timer(struct acpi_pm *pm);

#endif
