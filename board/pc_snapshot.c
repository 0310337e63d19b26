/* Every device's guest-visible state in struct pc_board as a vmstate
 * section (see vm/vmstate.h), with the post-load hook that re-derives what
 * lives outside it. Restores copy all sections first and then run the hooks
 * in the order registered here: the receivers of IRQ lines (ISA sources,
 * PIC and IOAPIC pins, LAPIC LINT levels) come back with the senders, so a
 * hook re-driving a line changes nothing that was consistent when saved;
 * PCI configuration comes back before the mappings it decides. The A20
 * gate and the clock are the machine's and travel in the snapshot header;
 * fw_cfg items, the BIOS ROM and the serial backend are rebuilt from the
 * command line, which must match. */
#include "board/pc_snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "vm/log.h"
#include "vm/vmstate.h"

#define PC_SECTION_VERSION 1

static void post_lapic(void *opaque) { lapic_post_load(opaque); }
static void post_pic(void *opaque) { pic_post_load(opaque); }
static void post_pit(void *opaque) { pit_post_load(opaque); }
static void post_rtc(void *opaque) { rtc_post_load(opaque); }
static void post_uart(void *opaque) { uart_post_load(opaque); }
static void post_pci(void *opaque) { pci_update_mappings(opaque); }
static void post_host(void *opaque)
{
    struct i440fx *h = opaque;
    pci_update_mappings(&h->pci);
    i440fx_update_pam(h);
}
static void post_piix3(void *opaque) { piix3_update_irqs(opaque); }
static void post_pm(void *opaque) { acpi_pm_update(opaque); }

struct reg_ctx {
    struct vmstate *vs;
    int err;
    const char *failed;
};

static void reg(struct reg_ctx *c, const char *name, void *data, size_t size,
                void (*post_load)(void *), void *opaque)
{
    if (c->err)
        return;
    c->err = vmstate_register(c->vs, name, PC_SECTION_VERSION, data, size,
                              post_load, opaque);
    if (c->err)
        c->failed = name;
}

#define REG(c, name, field, post, opaque)                                      \
    reg(c, name, &(field), sizeof(field), post, opaque)

int pc_snapshot_register(struct machine *m, struct pc_board *b)
{
    struct reg_ctx c = {.vs = m->vmstate};
    char name[VMSTATE_NAME_MAX];
    REG(&c, "isa-irq-sources", b->isa_sources, NULL, NULL);
    for (int i = 0; i < m->ncpus; i++) {
        snprintf(name, sizeof(name), "lapic.%d", i);
        REG(&c, name, b->lapic[i].st, post_lapic, &b->lapic[i]);
    }
    REG(&c, "ioapic", b->ioapic.st, NULL, NULL);
    REG(&c, "pic", b->pic.s, post_pic, &b->pic);
    REG(&c, "pci-bus", b->pci.s, NULL, NULL);
    REG(&c, "i440fx.pci", b->host.pci.s, post_host, &b->host);
    REG(&c, "piix3.pci", b->isa.pci.s, post_pci, &b->isa.pci);
    REG(&c, "piix3", b->isa.s, post_piix3, &b->isa);
    REG(&c, "acpi-pm.pci", b->pm.pci.s, post_pci, &b->pm.pci);
    REG(&c, "acpi-pm", b->pm.s, post_pm, &b->pm);
    REG(&c, "pit", b->pit.s, post_pit, &b->pit);
    REG(&c, "port61", b->port61.ctl, NULL, NULL);
    REG(&c, "port92", b->port92.reg, NULL, NULL);
    REG(&c, "port80", b->port80.last, NULL, NULL);
    REG(&c, "rtc", b->rtc.s, post_rtc, &b->rtc);
    REG(&c, "i8042", b->kbc.s, NULL, NULL);
    REG(&c, "ps2-kbd", b->kbc.kbd.s, NULL, NULL);
    REG(&c, "ps2-mouse", b->kbc.mouse.s, NULL, NULL);
    REG(&c, "fw-cfg", b->fw_cfg.s, NULL, NULL);
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "uart.%d", i);
        REG(&c, name, b->uart[i].s, post_uart, &b->uart[i]);
    }
    if (c.err)
        error_report("cannot register the snapshot section %s: %s", c.failed,
                     strerror(-c.err));
    return c.err;
}
