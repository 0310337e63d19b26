/* The PC board: creates the chipset on the machine's buses, wires the IRQ
 * lines the way an i440FX/PIIX3 PC wires them, and loads the firmware or the
 * kernel. It implements vm/board.h and is the one place (board/) that
 * includes both devices/ and firmware/.
 *
 * Interrupt wiring: each ISA IRQ line fans out to the 8259 input and to the
 * IOAPIC pin of the same number (IRQ0 to pin 2, as the MADT override says);
 * the 8259's INT output drives LINT0 of the boot CPU's local APIC (ExtINT),
 * LINT1 is the NMI input; PCI INTx lines go through the PIIX3 PIRQ router. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "board/pc_firmware.h"
#include "board/pc_board.h"
#include "board/pc_snapshot.h"
#include "vm/board.h"
#include "vm/log.h"

static const uint16_t uart_base[4] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
static const int uart_irq[4] = {4, 3, 4, 3};

/* An ISA IRQ line is shared: its level is the OR of every source driving it
 * (two UARTs on IRQ 4, a PCI PIRQ routed onto an ISA device's IRQ). Each
 * source gets its own irq_line whose pin encodes (source << 4) | irq. */
static void isa_irq_set(void *opaque, int pin, int level)
{
    struct pc_board *b = opaque;
    int irq = pin & 15, src = pin >> 4;
    uint32_t old = b->isa_sources[irq];
    if (level)
        b->isa_sources[irq] |= 1u << src;
    else
        b->isa_sources[irq] &= ~(1u << src);
    int now = b->isa_sources[irq] != 0;
    if (now == (old != 0))
        return;
    irq_set(&b->pic_in[irq], now);
    irq_set(ioapic_pin(&b->ioapic, irq == 0 ? 2 : irq), now);
}

/* A new source for ISA IRQ irq */
static struct irq_line isa_irq_source(struct pc_board *b, int irq)
{
    int src = b->isa_nsources[irq]++;
    if (src >= 32)
        abort(); /* the board wires fewer than 32 sources per IRQ */
    return (struct irq_line){isa_irq_set, b, (src << 4) | irq};
}

static int pic_ack_cb(void *opaque)
{
    return pic_ack(opaque);
}

static int create_chipset(struct machine *m, struct pc_board *b)
{
    int err;
    for (int i = 0; i < 16; i++)
        b->pirq_out[i] = isa_irq_source(b, i);

    /* interrupt controllers */
    apic_bus_init(&b->apic_bus);
    for (int i = 0; i < m->ncpus; i++) {
        err = lapic_init(&b->lapic[i], &m->cpu_link[i], &b->apic_bus, m->mem,
                         m->clock);
        if (err)
            return err;
    }
    err = ioapic_init(&b->ioapic, &b->apic_bus, m->mem, IOAPIC_DEFAULT_BASE,
                      (uint8_t)m->ncpus);
    if (err)
        return err;
    err = pic_init(&b->pic, m->io, *lapic_lint(&b->lapic[0], 0));
    if (err)
        return err;
    for (int i = 0; i < 16; i++)
        b->pic_in[i] = pic_irq(&b->pic, i);
    lapic_set_extint(&b->lapic[0], pic_ack_cb, &b->pic);

    b->sci = isa_irq_source(b, ACPI_SCI_IRQ);
    /* PCI: host bridge, ISA bridge, power management */
    if ((err = pci_bus_init(&b->pci, m->io, m->mem)) ||
        (err = i440fx_init(&b->host, &b->pci, m->mem, m->ram, m->ram_below_4g)) ||
        (err = piix3_init(&b->isa, &b->pci, m->io, b->pirq_out)) ||
        (err = acpi_pm_init(&b->pm, &b->pci, m->io, m->clock, &b->sci)))
        return err;

    /* ISA devices */
    if ((err = pit_init(&b->pit, m->io, m->clock, isa_irq_source(b, 0))) ||
        (err = port61_init(&b->port61, m->io, &b->pit)) ||
        (err = fw_cfg_init(&b->fw_cfg, m->io, m->mem)) ||
        (err = port92_init(&b->port92, m->io, m->mem)) ||
        (err = port80_init(&b->port80, m->io)) ||
        (err = debugcon_init(&b->debugcon, m->io, 0xe9, debugcon_put_file, stderr)))
        return err;
    if (m->cfg.debug_exit &&
        (err = debug_exit_init(m->io, m->cfg.debug_exit_base, m->cfg.debug_exit_size)))
        return err;
    err = i8042_init(&b->kbc, m->io, m->mem, isa_irq_source(b, 1),
                     isa_irq_source(b, 12));
    if (err)
        return err;
    err = rtc_init(&b->rtc, m->io, m->clock, isa_irq_source(b, 8), m->cfg.rtc_base);
    if (err)
        return err;
    for (int i = 0; i < 4; i++) {
        err = uart_init(&b->uart[i], m->io, uart_base[i], isa_irq_source(b, uart_irq[i]),
                        m->clock, i == 0 ? b->serial : NULL);
        if (err)
            return err;
        b->uart[i].instant_tx = true;
    }
    return 0;
}

int board_init(struct machine *m)
{
    struct pc_board *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    m->board = b;
    int err = chardev_open(&b->serial, m->cfg.serial);
    if (err)
        return err;
    err = create_chipset(m, b);
    if (err) {
        error_report("cannot create the PC chipset: %s", strerror(-err));
        return err;
    }
    err = pc_snapshot_register(m, b);
    if (err)
        return err;
    return pc_firmware_load(m, b);
}

void board_reset(struct machine *m)
{
    struct pc_board *b = m->board;
    for (int i = 0; i < m->ncpus; i++)
        lapic_reset(&b->lapic[i]);
    ioapic_reset(&b->ioapic);
    pic_reset(&b->pic);
    pit_reset(&b->pit);
    port61_reset(&b->port61);
    port92_reset(&b->port92);
    fw_cfg_reset(&b->fw_cfg);
    i440fx_reset(&b->host);
    piix3_reset(&b->isa);
    acpi_pm_reset(&b->pm);
    rtc_reset(&b->rtc);
    i8042_reset(&b->kbc);
    for (int i = 0; i < 4; i++)
        uart_reset(&b->uart[i]);
    mem_map_set_a20(m->mem, true);
    pc_firmware_reset(m, b);
}

void board_power_button(struct machine *m)
{
    struct pc_board *b = m->board;
    acpi_pm_power_button(&b->pm);
}

void board_poll(struct machine *m)
{
    struct pc_board *b = m->board;
    if (b->serial)
        chardev_poll(b->serial);
}
