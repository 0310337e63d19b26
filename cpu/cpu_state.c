/* The interpreter vCPU's life cycle and mode cache: wiring to the machine,
 * RESET, and the conversion to and from the plain struct x86_state that the
 * other backends and snapshots use. */
#include <string.h>
#include "cpu/sys_internal.h"
#include "vm/machine.h"

void cpu_init(struct cpu *cpu, struct machine *m, int index)
{
    mmu_forget(cpu);  /* initialised again without cpu_destroy */
    memset(cpu, 0, sizeof(*cpu));
    cpu->machine = m;
    cpu->mem = m->mem;
    cpu->io = m->io;
    cpu->clock = m->clock;
    cpu->link = &m->cpu_link[index];
    cpu->index = index;
    cpu->tsc_hz = VCLOCK_TSC_HZ;
    mmu_init(cpu);
    cpu_reset(cpu);
}

void cpu_destroy(struct cpu *cpu)
{
    mmu_fini(cpu);
}

void cpu_reset(struct cpu *cpu)
{
    x86_state_reset(&cpu->s);
    cpu_set_rflags(cpu, cpu->s.rflags);
    cpu_set_tsc(cpu, 0);
    cpu->exc_depth = 0;
    cpu->shutdown = false;
    cpu->exit_request = false;
    memset(cpu->pdpte, 0, sizeof(cpu->pdpte));
    cpu_update_mode(cpu);
    mmu_flush(cpu, true);
}

void cpu_update_mode(struct cpu *cpu)
{
    const struct x86_state *s = &cpu->s;
    uint32_t cs = s->seg[S_CS].attr, ss = s->seg[S_SS].attr;

    if (!(s->cr0 & CR0_PE)) {
        cpu->mode = MODE_REAL;
        cpu->cpl = 0;
    } else if (s->efer & EFER_LMA) {
        cpu->mode = (cs & SEG_ATTR_L) ? MODE_LONG64 : MODE_LONG_COMPAT;
        cpu->cpl = SEG_ATTR_DPL(ss);
    } else if (s->rflags & FL_VM) {
        cpu->mode = MODE_V86;
        cpu->cpl = 3;
    } else {
        cpu->mode = MODE_PROT;
        /* SS.DPL is always the CPL (CS.DPL is not, for conforming code) */
        cpu->cpl = SEG_ATTR_DPL(ss);
    }
    if (cpu->mode == MODE_LONG64) {
        cpu->code_size = cpu->stack_size = 8;
    } else if (cpu->mode == MODE_V86) {
        cpu->code_size = cpu->stack_size = 2;
    } else {
        cpu->code_size = (cs & SEG_ATTR_DB) ? 4 : 2;
        cpu->stack_size = (ss & SEG_ATTR_DB) ? 4 : 2;
    }
    uint64_t a20 = cpu->mem ? mem_map_a20_mask(cpu->mem) : ~0ull;
    if (a20 != cpu->a20_mask) {
        cpu->a20_mask = a20;
        mmu_flush(cpu, true);
    }
}

void cpu_get_state(struct cpu *cpu, struct x86_state *out)
{
    *out = cpu->s;
    out->rflags = cpu_get_rflags(cpu);
    out->tsc = cpu_rdtsc(cpu);
    if (cpu->link && cpu->link->get_cr8)
        out->cr8 = cpu->link->get_cr8(cpu->link->ic);
}

void cpu_set_state(struct cpu *cpu, const struct x86_state *in)
{
    cpu->s = *in;
    cpu->s.version = X86_STATE_VERSION;
    cpu->s.size = sizeof(cpu->s);
    cpu_set_rflags(cpu, in->rflags);
    cpu_set_tsc(cpu, in->tsc);
    if (cpu->link && cpu->link->set_cr8)
        cpu->link->set_cr8(cpu->link->ic, (uint8_t)in->cr8);
    cpu->shutdown = false;
    cpu->exc_depth = 0;
    cpu_update_mode(cpu);
    /* the PDPTE registers are not part of the state: reload them */
    if ((cpu->s.cr0 & CR0_PG) && (cpu->s.cr4 & CR4_PAE) && !cpu_long_mode(cpu))
        mmu_load_pdptes(cpu, cpu->s.cr3);
    mmu_flush(cpu, true);
}
