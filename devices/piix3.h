/* The PIIX3 PCI-to-ISA bridge (PCI 8086:7000 at 00:01.0, function 0 of a
 * multifunction device): its configuration space, the PIRQ route control
 * registers 0x60-0x63 that steer PCI INTA#-INTD# to ISA IRQs, and the reset
 * control register at port 0xCF9. PCI functions raise INTx through the PCI
 * bus's router, which lands here: the pin of slot S is swizzled onto PIRQ
 * (S + pin - 1) & 3 (pin 0 = INTA#) as on QEMU's i440FX board, and each ISA
 * IRQ output is the OR of every asserted source routed to it. The board
 * gives the 16 ISA IRQ lines (which fan out to the PIC and the IOAPIC). */
#ifndef DEVICES_PIIX3_H
#define DEVICES_PIIX3_H

#include <stdint.h>
#include "devices/pci.h"
#include "vm/irq.h"
#include "vm/port_bus.h"

#define PIIX3_VENDOR 0x8086
#define PIIX3_DEVICE 0x7000
#define PIIX3_PIRQRC 0x60 /* PIRQA..PIRQD route control, 0x60-0x63 */
#define PIIX3_PIRQ_DISABLE 0x80
#define PIIX3_RCR_PORT 0xcf9
#define PIIX3_NUM_PIRQ 4
#define PIIX3_ISA_IRQS 16

/* Mutable state besides the configuration space: plain data */
struct piix3_state {
    uint32_t pirq_src[PIIX3_NUM_PIRQ][8]; /* bit devfn: that function
                                             asserts this PIRQ */
    uint16_t isa_level;                   /* ISA IRQs we drive high now */
    uint8_t rcr;                          /* reset control, bit 1 SRST */
};

struct piix3 {
    struct pci_device pci;
    struct piix3_state s;
    const struct irq_line *isa_irq;       /* [PIIX3_ISA_IRQS], the board's */
};

/* Put the bridge at 00:01.0, install it as bus's INTx router and claim
 * port 0xCF9. isa_irq must hold 16 lines and outlive p. 0 or -errno. */
int piix3_init(struct piix3 *p, struct pci_bus *bus, struct port_bus *io,
               const struct irq_line *isa_irq);
void piix3_reset(struct piix3 *p);
/* The PIRQ (0-3) that INTx pin intx (0 = INTA#) of devfn's slot uses */
int piix3_pirq_of(uint8_t devfn, int intx);
/* Re-drive the ISA IRQ outputs from the state (after a snapshot restore) */
void piix3_update_irqs(struct piix3 *p);

#endif
