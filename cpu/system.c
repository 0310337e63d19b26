/* Control and debug registers: MOV to/from CR0-CR4/CR8 and DR0-DR7 with
 * the SDM's #GP/#UD checks and their effects on the TLB, the PAE PDPTEs and
 * the mode (entering and leaving IA-32e mode), plus the I/O permission
 * check of IN/OUT/INS/OUTS. CPUID is in cpu/cpuid.c, MSRs in cpu/msr.c. */
#include "cpu/cpu_model.h"
#include "cpu/sys_internal.h"
#include "vm/vcpu_link.h"

/* --- control registers --- */

#define CR0_VALID (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | \
                   CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG)
/* what CPUID reports: no VME/PVI, PCID, SMAP */
#define CR4_VALID (CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | \
                   CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP |     \
                   CR4_FSGSBASE | CR4_OSXSAVE | CR4_SMEP)

static noreturn void gp0(struct cpu *cpu)
{
    cpu_raise(cpu, EXC_GP, 0);
}

static bool pae_paging(const struct cpu *cpu, uint64_t cr0, uint64_t cr4)
{
    return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(cpu->s.efer & EFER_LME);
}

static void write_cr0(struct cpu *cpu, uint64_t v)
{
    struct x86_state *s = &cpu->s;
    v |= CR0_ET;
    if ((v & ~(uint64_t)CR0_VALID) || ((v & CR0_PG) && !(v & CR0_PE)) ||
        ((v & CR0_NW) && !(v & CR0_CD)))
        gp0(cpu);
    bool pg_on = (v & CR0_PG) && !(s->cr0 & CR0_PG);
    bool pg_off = !(v & CR0_PG) && (s->cr0 & CR0_PG);
    uint64_t efer = s->efer;
    if (pg_on && (efer & EFER_LME)) {
        /* activating IA-32e mode needs PAE and a non-64-bit CS */
        if (!(s->cr4 & CR4_PAE) || (s->seg[S_CS].attr & SEG_ATTR_L))
            gp0(cpu);
        efer |= EFER_LMA;
    } else if (pg_off && (efer & EFER_LMA)) {
        if (cpu->mode == MODE_LONG64)
            gp0(cpu);
        efer &= ~(uint64_t)EFER_LMA;
    }
    if (pg_on && pae_paging(cpu, v, s->cr4) &&
        !mmu_load_pdptes(cpu, s->cr3))
        gp0(cpu);
    if ((v ^ s->cr0) & (CR0_PG | CR0_PE | CR0_WP))
        mmu_flush(cpu, true);
    s->cr0 = v;
    s->efer = efer;
    cpu_update_mode(cpu);
}

static void write_cr3(struct cpu *cpu, uint64_t v)
{
    struct x86_state *s = &cpu->s;
    if (cpu_long_mode(cpu)) {
        if (v & ~CPU_PHYS_MASK)
            gp0(cpu);
    } else {
        v = (uint32_t)v;
    }
    if (pae_paging(cpu, s->cr0, s->cr4) && !mmu_load_pdptes(cpu, v))
        gp0(cpu);
    s->cr3 = v;
    mmu_flush(cpu, false);
}

static void write_cr4(struct cpu *cpu, uint64_t v)
{
    struct x86_state *s = &cpu->s;
    if ((v & ~(uint64_t)CR4_VALID) ||
        (cpu_long_mode(cpu) && !(v & CR4_PAE)))
        gp0(cpu);
    uint64_t changed = v ^ s->cr4;
    if ((changed & (CR4_PAE | CR4_PSE | CR4_PGE)) &&
        pae_paging(cpu, s->cr0, v) && !mmu_load_pdptes(cpu, s->cr3))
        gp0(cpu);
    s->cr4 = v;
    /* the TLB holds execute rights under SMEP too (cpu_tlb_fast.exec) */
    if (changed & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP))
        mmu_flush(cpu, true);
}

void cpu_write_cr(struct cpu *cpu, int cr, uint64_t value)
{
    if (cpu->cpl != 0)
        gp0(cpu);
    if (cpu->mode != MODE_LONG64)
        value = (uint32_t)value;
    switch (cr) {
    case 0:
        write_cr0(cpu, value);
        break;
    case 2:
        cpu->s.cr2 = value;
        break;
    case 3:
        write_cr3(cpu, value);
        break;
    case 4:
        write_cr4(cpu, value);
        break;
    case 8:
        if (value & ~0xfull)
            gp0(cpu);
        cpu->s.cr8 = value;
        if (cpu->link && cpu->link->set_cr8)
            cpu->link->set_cr8(cpu->link->ic, (uint8_t)value);
        break;
    default:
        cpu_raise(cpu, EXC_UD, 0);
    }
}

uint64_t cpu_read_cr(struct cpu *cpu, int cr)
{
    if (cpu->cpl != 0)
        gp0(cpu);
    switch (cr) {
    case 0: return cpu->s.cr0;
    case 2: return cpu->s.cr2;
    case 3: return cpu->s.cr3;
    case 4: return cpu->s.cr4;
    case 8:
        if (cpu->link && cpu->link->get_cr8)
            cpu->s.cr8 = cpu->link->get_cr8(cpu->link->ic);
        return cpu->s.cr8;
    default:
        cpu_raise(cpu, EXC_UD, 0);
    }
}

/* --- debug registers --- */

#define DR6_FIXED 0xffff0ff0ull
#define DR7_FIXED 0x400ull
#define DR7_GD (1u << 13)
#define DR6_BD (1u << 13)

static int dr_index(struct cpu *cpu, int dr)
{
    if (dr == 4 || dr == 5) {
        if (cpu->s.cr4 & CR4_DE)
            cpu_raise(cpu, EXC_UD, 0);
        dr += 2;
    }
    if (cpu->cpl != 0)
        gp0(cpu);
    if (cpu->s.dr[7] & DR7_GD) {
        /* general detect: #DB before the access, GD cleared */
        cpu->s.dr[6] |= DR6_BD;
        cpu->s.dr[7] &= ~(uint64_t)DR7_GD;
        cpu_raise(cpu, EXC_DB, 0);
    }
    return dr;
}

void cpu_write_dr(struct cpu *cpu, int dr, uint64_t value)
{
    dr = dr_index(cpu, dr);
    if (cpu->mode != MODE_LONG64)
        value = (uint32_t)value;
    if (dr < 4) {
        cpu->s.dr[dr] = value;
    } else if (dr == 6) {
        if (value >> 32)
            gp0(cpu);
        cpu->s.dr[6] = (value & 0xe00f) | DR6_FIXED;
    } else if (dr == 7) {
        if (value >> 32)
            gp0(cpu);
        cpu->s.dr[7] = (value & 0xffff2bff) | DR7_FIXED;
    }
}

uint64_t cpu_read_dr(struct cpu *cpu, int dr)
{
    dr = dr_index(cpu, dr);
    return cpu->s.dr[dr];
}

/* --- I/O permission --- */

void cpu_check_io(struct cpu *cpu, uint16_t port, unsigned size)
{
    if (cpu->mode == MODE_REAL ||
        (cpu->mode != MODE_V86 &&
         (unsigned)cpu->cpl <= ((cpu->s.rflags & FL_IOPL) >> 12)))
        return;
    /* the I/O permission bitmap of a 32-bit or 64-bit TSS */
    const struct x86_segment *tr = &cpu->s.tr;
    unsigned type = SEG_ATTR_TYPE(tr->attr);
    if ((tr->attr & SEG_ATTR_UNUSABLE) ||
        (type != SYS_TSS32_AVAIL && type != SYS_TSS32_BUSY) || tr->limit < 0x67)
        gp0(cpu);
    uint32_t base = (uint32_t)cpu_read_lin(cpu, tr->base + 0x66, 2, ACC_SUPER);
    uint32_t off = base + port / 8;
    if (off + 1 > tr->limit)
        gp0(cpu);
    uint32_t bits = (uint32_t)cpu_read_lin(cpu, tr->base + off, 2, ACC_SUPER);
    if ((bits >> (port & 7)) & ((1u << size) - 1))
        gp0(cpu);
}
