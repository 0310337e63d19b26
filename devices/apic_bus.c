/* The APIC bus: routes an interrupt message to the local APICs its
 * destination names (shorthand, physical ID, logical flat/cluster), picks
 * one for lowest-priority delivery, and carries EOIs to the I/O APICs. */
#include "devices/apic_bus.h"

#include <errno.h>
#include "devices/lapic.h"

void apic_bus_init(struct apic_bus *b)
{
    *b = (struct apic_bus){ .ncpus = 0 };
}

int apic_bus_attach(struct apic_bus *b, struct lapic *l)
{
    if (b->ncpus >= APIC_BUS_MAX_CPUS)
        return -ENOSPC;
    b->cpu[b->ncpus++] = l;
    return 0;
}

int apic_bus_add_eoi_listener(struct apic_bus *b,
                              void (*eoi)(void *opaque, uint8_t vector),
                              void *opaque)
{
    if (b->neoi >= APIC_BUS_MAX_EOI)
        return -ENOSPC;
    b->eoi[b->neoi++] = (struct apic_bus_eoi_listener){ eoi, opaque };
    return 0;
}

static bool is_target(const struct apic_msg *m, const struct lapic *l,
                      const struct lapic *src)
{
    if (!lapic_hw_enabled(l))
        return false;
    switch (m->shorthand) {
    case APIC_SH_SELF: return l == src;
    case APIC_SH_ALL: return true;
    case APIC_SH_OTHERS: return l != src;
    default: return lapic_match_dest(l, m->dest, m->logical);
    }
}

/* Lowest priority: the focus processor if there is one, else the lowest
 * arbitration priority, ties to the first attached */
static struct lapic *pick_lowest(struct lapic **t, int n, uint8_t vector)
{
    struct lapic *best = t[0];
    for (int i = 0; i < n; i++)
        if (lapic_is_focus(t[i], vector))
            return t[i];
    for (int i = 1; i < n; i++)
        if (lapic_arb_priority(t[i]) < lapic_arb_priority(best))
            best = t[i];
    return best;
}

int apic_bus_send(struct apic_bus *b, const struct apic_msg *m,
                  struct lapic *src)
{
    struct lapic *t[APIC_BUS_MAX_CPUS];
    int n = 0;
    for (int i = 0; i < b->ncpus; i++)
        if (is_target(m, b->cpu[i], src))
            t[n++] = b->cpu[i];
    if (n > 1 && m->delivery == APIC_DM_LOWEST) {
        t[0] = pick_lowest(t, n, m->vector);
        n = 1;
    }
    for (int i = 0; i < n; i++)
        lapic_deliver(t[i], m);
    return n;
}

void apic_bus_eoi(struct apic_bus *b, uint8_t vector)
{
    for (int i = 0; i < b->neoi; i++)
        b->eoi[i].eoi(b->eoi[i].opaque, vector);
}
