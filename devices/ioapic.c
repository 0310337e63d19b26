/* The I/O APIC: IOREGSEL/IOWIN register access, the redirection table and
 * pin handling (82093AA datasheet; version 0x20 adds the EOI register).
 * Edge-triggered pins send on the asserting edge; level-triggered pins send
 * while asserted with remote IRR clear, set remote IRR on acceptance and
 * clear it on the EOI of their vector, sending again if still asserted. */
#include "devices/ioapic.h"

#include <errno.h>
#include "vm/log.h"

/* vector, delivery and destination mode, polarity, trigger mode, mask */
#define RTE_LOW_WRITABLE 0x1AFFFULL
#define RTE_HIGH_WRITABLE 0xFF000000ULL

static bool pin_asserted(const struct ioapic *s, int n)
{
    bool level = (s->st.pin_level >> n) & 1;
    return level != ((s->st.redir[n] & IOAPIC_RTE_LOW_ACTIVE) != 0);
}

static unsigned rte_mode(uint64_t rte) { return (rte >> 8) & 7; }

/* Level-triggered handling applies to fixed and lowest-priority entries;
 * SMI, NMI, INIT and ExtINT are edge-triggered whatever the trigger bit */
static bool rte_is_level(uint64_t rte)
{
    return (rte & IOAPIC_RTE_LEVEL) && rte_mode(rte) <= APIC_DM_LOWEST;
}

static int send_rte(struct ioapic *s, uint64_t rte)
{
    struct apic_msg m = {
        .vector = rte & 0xFF,
        .delivery = rte_mode(rte),
        .dest = rte >> IOAPIC_RTE_DEST_SHIFT,
        .logical = (rte & IOAPIC_RTE_DEST_LOGICAL) != 0,
        .level = rte_is_level(rte),
        .assert = true,
    };
    return apic_bus_send(s->bus, &m, NULL);
}

/* A level-triggered pin: send if asserted, unmasked and not in service */
static void service_level(struct ioapic *s, int n)
{
    uint64_t *rte = &s->st.redir[n];
    if (!rte_is_level(*rte) || !pin_asserted(s, n) ||
        (*rte & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)))
        return;
    if (send_rte(s, *rte) > 0)
        *rte |= IOAPIC_RTE_REMOTE_IRR;
}

static void ioapic_set_pin(void *opaque, int n, int level)
{
    struct ioapic *s = opaque;
    if (n < 0 || n >= IOAPIC_NUM_PINS)
        return;
    bool was = pin_asserted(s, n);
    if (level)
        s->st.pin_level |= 1u << n;
    else
        s->st.pin_level &= ~(1u << n);
    uint64_t rte = s->st.redir[n];
    if (rte_is_level(rte))
        service_level(s, n);
    else if (pin_asserted(s, n) && !was && !(rte & IOAPIC_RTE_MASKED))
        send_rte(s, rte); /* edges arriving while masked are lost */
}

static void ioapic_eoi(void *opaque, uint8_t vector)
{
    struct ioapic *s = opaque;
    for (int n = 0; n < IOAPIC_NUM_PINS; n++) {
        uint64_t *rte = &s->st.redir[n];
        if ((*rte & IOAPIC_RTE_REMOTE_IRR) && (*rte & 0xFF) == vector) {
            *rte &= ~IOAPIC_RTE_REMOTE_IRR;
            service_level(s, n);
        }
    }
}

static uint32_t ioapic_read_reg(struct ioapic *s, uint8_t reg)
{
    if (reg >= IOAPIC_REG_REDIR &&
        reg < IOAPIC_REG_REDIR + 2 * IOAPIC_NUM_PINS) {
        uint64_t rte = s->st.redir[(reg - IOAPIC_REG_REDIR) >> 1];
        return (reg & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
    }
    switch (reg) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARB:
        return (uint32_t)(s->st.id & 0xF) << 24;
    case IOAPIC_REG_VERSION:
        return (uint32_t)(IOAPIC_NUM_PINS - 1) << 16 | IOAPIC_VERSION;
    }
    log_msg_rl(LOG_GUEST_ERRORS, "ioapic: read of register %#x\n", reg);
    return 0;
}

static void ioapic_write_redir(struct ioapic *s, uint8_t reg, uint32_t val)
{
    int n = (reg - IOAPIC_REG_REDIR) >> 1;
    uint64_t *rte = &s->st.redir[n];
    if (reg & 1) {
        *rte = (*rte & ~(RTE_HIGH_WRITABLE << 32)) |
               ((uint64_t)(val & RTE_HIGH_WRITABLE) << 32);
        return;
    }
    *rte = (*rte & ~RTE_LOW_WRITABLE) | (val & RTE_LOW_WRITABLE);
    /* an edge-triggered entry has no remote IRR (guests switch to edge and
     * back to clear a stuck one) */
    if (!(*rte & IOAPIC_RTE_LEVEL))
        *rte &= ~IOAPIC_RTE_REMOTE_IRR;
    service_level(s, n);
}

static void ioapic_write_reg(struct ioapic *s, uint8_t reg, uint32_t val)
{
    if (reg >= IOAPIC_REG_REDIR &&
        reg < IOAPIC_REG_REDIR + 2 * IOAPIC_NUM_PINS)
        ioapic_write_redir(s, reg, val);
    else if (reg == IOAPIC_REG_ID)
        s->st.id = (val >> 24) & 0xF;
    else if (reg != IOAPIC_REG_VERSION && reg != IOAPIC_REG_ARB)
        log_msg_rl(LOG_GUEST_ERRORS, "ioapic: write of register %#x\n", reg);
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    struct ioapic *s = opaque;
    uint32_t val;
    if (offset == IOAPIC_REGSEL)
        val = s->st.regsel;
    else if ((offset & ~3ULL) == IOAPIC_WINDOW)
        val = ioapic_read_reg(s, s->st.regsel) >> ((offset & 3) * 8);
    else
        return 0;
    return size >= 4 ? val : val & ((1u << (size * 8)) - 1);
}

static void ioapic_mmio_write(void *opaque, uint64_t offset, uint64_t value,
                              unsigned size)
{
    struct ioapic *s = opaque;
    if (offset == IOAPIC_REGSEL)
        s->st.regsel = value & 0xFF;
    else if (offset == IOAPIC_WINDOW && size >= 4)
        ioapic_write_reg(s, s->st.regsel, (uint32_t)value);
    else if (offset == IOAPIC_EOI)
        ioapic_eoi(s, value & 0xFF);
    else
        log_msg_rl(LOG_GUEST_ERRORS, "ioapic: write at %#llx size %u\n",
                   (unsigned long long)offset, size);
}

static const struct io_ops ioapic_mmio_ops = {
    .read = ioapic_mmio_read,
    .write = ioapic_mmio_write,
};

void ioapic_reset(struct ioapic *s)
{
    s->st.regsel = 0;
    for (int n = 0; n < IOAPIC_NUM_PINS; n++)
        s->st.redir[n] = IOAPIC_RTE_MASKED;
}

int ioapic_init(struct ioapic *s, struct apic_bus *bus, struct mem_map *mem,
                uint64_t base, uint8_t id)
{
    *s = (struct ioapic){ .bus = bus };
    s->st.id = id & 0xF;
    s->mmio = mem_map_add_mmio(mem, "ioapic", base, IOAPIC_MMIO_SIZE,
                               &ioapic_mmio_ops, s, IOAPIC_MMIO_PRIORITY);
    if (!s->mmio)
        return -ENOMEM;
    int err = apic_bus_add_eoi_listener(bus, ioapic_eoi, s);
    if (err < 0)
        return err;
    for (int n = 0; n < IOAPIC_NUM_PINS; n++)
        s->pin[n] = (struct irq_line){ ioapic_set_pin, s, n };
    ioapic_reset(s);
    return 0;
}

const struct irq_line *ioapic_pin(struct ioapic *s, int n)
{
    if (n < 0 || n >= IOAPIC_NUM_PINS)
        return NULL;
    return &s->pin[n];
}
