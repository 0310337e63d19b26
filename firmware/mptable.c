/* MP table builder (see mptable.h). */
#include "firmware/mptable.h"

#include "firmware/le_bytes.h"
#include <errno.h>
#include <string.h>

enum { MP_PROC = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IOINT = 3, MP_LINT = 4 };
enum { INT_VECTORED = 0, INT_NMI = 1, INT_EXTINT = 3 };
#define BUS_PCI 0
#define BUS_ISA 1


static uint8_t checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    while (len--)
        sum += *p++;
    return (uint8_t)-sum;
}

static uint8_t *interrupt(uint8_t *p, uint8_t type, uint8_t entry_type,
                          uint8_t bus, uint8_t irq, uint8_t dest, uint8_t pin)
{
    p[0] = type;
    p[1] = entry_type;
    le16_put(p + 2, 0); /* conforms to the bus */
    p[4] = bus;
    p[5] = irq;
    p[6] = dest;
    p[7] = pin;
    return p + 8;
}

long mptable_build(uint8_t *buf, size_t cap, uint64_t gpa,
                   const struct mptable_config *cfg)
{
    size_t need = 16 + 44 + 20 * cfg->ncpus + 2 * 8 + 8 + 16 * 8 + 2 * 8;
    if (need > cap)
        return -ENOSPC;
    memset(buf, 0, need);
    uint8_t *fp = buf, *ct = buf + 16, *p = ct + 44;
    int entries = 0;

    for (int i = 0; i < cfg->ncpus; i++, p += 20, entries++) {
        p[0] = MP_PROC;
        p[1] = (uint8_t)i;        /* LAPIC ID */
        p[2] = 0x14;              /* LAPIC version */
        p[3] = 1 | (i == 0 ? 2 : 0); /* enabled, bootstrap processor */
        le32_put(p + 4, cfg->cpu_signature);
        le32_put(p + 8, cfg->cpu_features);
    }
    p[0] = MP_BUS; p[1] = BUS_PCI; memcpy(p + 2, "PCI   ", 6); p += 8;
    p[0] = MP_BUS; p[1] = BUS_ISA; memcpy(p + 2, "ISA   ", 6); p += 8;
    entries += 2;
    p[0] = MP_IOAPIC; p[1] = cfg->ioapic_id; p[2] = 0x11; p[3] = 1;
    le32_put(p + 4, cfg->ioapic_addr);
    p += 8;
    entries++;
    /* the 8259 cascade on pin 0, then ISA IRQs on their pins (IRQ0 on 2) */
    p = interrupt(p, MP_IOINT, INT_EXTINT, BUS_ISA, 0, cfg->ioapic_id, 0);
    entries++;
    for (int irq = 0; irq < 16; irq++) {
        if (irq == 2)
            continue;
        p = interrupt(p, MP_IOINT, INT_VECTORED, BUS_ISA, (uint8_t)irq,
                      cfg->ioapic_id, irq == 0 ? 2 : (uint8_t)irq);
        entries++;
    }
    p = interrupt(p, MP_LINT, INT_EXTINT, BUS_ISA, 0, 0xff, 0);
    p = interrupt(p, MP_LINT, INT_NMI, BUS_ISA, 0, 0xff, 1);
    entries += 2;

    size_t table_len = (size_t)(p - ct);
    memcpy(ct, "PCMP", 4);
    le16_put(ct + 4, (uint16_t)table_len);
    ct[6] = 4; /* spec 1.4 */
    memcpy(ct + 8, "TANDEM  ", 8);
    memcpy(ct + 16, "PC          ", 12);
    le16_put(ct + 34, (uint16_t)entries);
    le32_put(ct + 36, cfg->lapic_addr);
    ct[7] = checksum(ct, table_len);

    memcpy(fp, "_MP_", 4);
    le32_put(fp + 4, (uint32_t)(gpa + 16));
    fp[8] = 1;  /* length in paragraphs */
    fp[9] = 4;  /* spec 1.4 */
    fp[10] = checksum(fp, 16);
    return (long)(p - buf);
}
