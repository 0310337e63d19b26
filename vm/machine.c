/* Creating the machine's RAM and buses. The PC layout of RAM (what lies
 * below and above the 4 GiB hole) is decided here; the board adds the rest. */
#include "vm/machine.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "vm/log.h"
#include "vm/vmstate.h"

/* RAM above this goes above 4 GiB, leaving room for PCI MMIO, the IOAPIC,
 * the LAPIC and the BIOS ROM (as the i440FX board does it). */
#define PC_LOW_RAM_MAX 0xB0000000ull
#define PC_4G 0x100000000ull

int machine_init(struct machine *m, const struct machine_config *cfg)
{
    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    m->ncpus = cfg->ncpus > 0 ? cfg->ncpus : 1;
    if (m->ncpus > MACHINE_MAX_CPUS) {
        error_report("-smp %d: at most %d CPUs", m->ncpus, MACHINE_MAX_CPUS);
        return -EINVAL;
    }
    m->ram_size = cfg->ram_size;
    m->ram = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m->ram == MAP_FAILED) {
        int err = errno;
        m->ram = NULL;
        error_report("cannot allocate %llu MiB of guest RAM: %s",
                     (unsigned long long)(m->ram_size >> 20), strerror(err));
        return -err;
    }
    m->ram_below_4g = m->ram_size < PC_LOW_RAM_MAX ? m->ram_size : PC_LOW_RAM_MAX;
    m->ram_above_4g = m->ram_size - m->ram_below_4g;
    m->mem = mem_map_new();
    m->io = port_bus_new();
    m->clock = vclock_new(cfg->clock_mode);
    m->vmstate = vmstate_new();
    if (!m->mem || !m->io || !m->clock || !m->vmstate) {
        error_report("out of memory creating the machine");
        machine_destroy(m);
        return -ENOMEM;
    }
    mem_map_add_ram(m->mem, "ram-below-4g", 0, m->ram_below_4g, m->ram, 0);
    if (m->ram_above_4g)
        mem_map_add_ram(m->mem, "ram-above-4g", PC_4G, m->ram_above_4g,
                        m->ram + m->ram_below_4g, 0);
    for (int i = 0; i < m->ncpus; i++)
        m->cpu_link[i].index = i;
    return 0;
}

void machine_destroy(struct machine *m)
{
    if (m->ram)
        munmap(m->ram, m->ram_size);
    mem_map_free(m->mem);
    port_bus_free(m->io);
    vclock_free(m->clock);
    vmstate_free(m->vmstate);
    m->ram = NULL;
    m->mem = NULL;
    m->io = NULL;
    m->clock = NULL;
    m->vmstate = NULL;
}
