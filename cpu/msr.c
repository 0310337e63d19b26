/* Model-specific registers and the time-stamp counter. The TSC runs at
 * cpu->tsc_hz on the virtual clock plus an offset that TSC writes adjust.
 * The offset is mirrored in the vCPU link for the local APIC's TSC-deadline
 * timer. The APIC's MSRs (APIC_BASE, TSC_DEADLINE, x2APIC) go through the vCPU
 * link to the local APIC in devices/. Anything else the model does not have
 * raises #GP (logged under guest_errors). */
#include "cpu/cpu_model.h"
#include "cpu/sys_internal.h"
#include "vm/clock.h"
#include "vm/log.h"
#include "vm/vcpu_link.h"

enum {
    MSR_TSC = 0x10,
    MSR_PLATFORM_ID = 0x17,
    MSR_APIC_BASE = 0x1b,
    MSR_FEATURE_CONTROL = 0x3a,
    MSR_BIOS_SIGN_ID = 0x8b,
    MSR_ARCH_CAPABILITIES = 0x10a,
    MSR_MTRRCAP = 0xfe,
    MSR_SYSENTER_CS = 0x174,
    MSR_SYSENTER_ESP = 0x175,
    MSR_SYSENTER_EIP = 0x176,
    MSR_MCG_CAP = 0x179,
    MSR_MCG_STATUS = 0x17a,
    MSR_MISC_ENABLE = 0x1a0,
    MSR_DEBUGCTL = 0x1d9,
    MSR_MTRR_VAR_FIRST = 0x200,
    MSR_MTRR_VAR_LAST = 0x20f,
    MSR_MTRR_FIX64K = 0x250,
    MSR_MTRR_FIX16K_80000 = 0x258,
    MSR_MTRR_FIX16K_A0000 = 0x259,
    MSR_MTRR_FIX4K_FIRST = 0x268,
    MSR_MTRR_FIX4K_LAST = 0x26f,
    MSR_PAT = 0x277,
    MSR_MTRR_DEF_TYPE = 0x2ff,
    MSR_TSC_DEADLINE = 0x6e0,
    MSR_X2APIC_FIRST = 0x800,
    MSR_X2APIC_LAST = 0x8ff,
    MSR_EFER = 0xc0000080u,
    MSR_STAR = 0xc0000081u,
    MSR_LSTAR = 0xc0000082u,
    MSR_CSTAR = 0xc0000083u,
    MSR_SFMASK = 0xc0000084u,
    MSR_FS_BASE = 0xc0000100u,
    MSR_GS_BASE = 0xc0000101u,
    MSR_KERNEL_GS_BASE = 0xc0000102u,
    MSR_TSC_AUX = 0xc0000103u,
};

/* MTRRcap: 8 variable ranges, fixed ranges, write-combining */
#define MTRRCAP_VALUE (8u | (1u << 8) | (1u << 10))

uint64_t cpu_rdtsc(struct cpu *cpu)
{
    int64_t ns = cpu->clock ? vclock_now(cpu->clock) : 0;
    return (uint64_t)clock_ns_to_ticks(ns, (int64_t)cpu->tsc_hz) +
           (uint64_t)cpu->tsc_offset;
}

void cpu_set_tsc(struct cpu *cpu, uint64_t tsc)
{
    cpu->tsc_offset += (int64_t)(tsc - cpu_rdtsc(cpu));
    if (cpu->link)
        cpu->link->tsc_offset = cpu->tsc_offset;
}

/* index into mtrr_fixed[] of a fixed-range MTRR, or -1 */
static int mtrr_fixed_index(uint32_t msr)
{
    if (msr == MSR_MTRR_FIX64K)
        return 0;
    if (msr == MSR_MTRR_FIX16K_80000 || msr == MSR_MTRR_FIX16K_A0000)
        return 1 + (int)(msr - MSR_MTRR_FIX16K_80000);
    if (msr >= MSR_MTRR_FIX4K_FIRST && msr <= MSR_MTRR_FIX4K_LAST)
        return 3 + (int)(msr - MSR_MTRR_FIX4K_FIRST);
    return -1;
}

static bool mem_type_valid(unsigned t)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool apic_msr(uint32_t msr)
{
    return msr == MSR_APIC_BASE || msr == MSR_TSC_DEADLINE ||
           (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST);
}

int cpu_rdmsr(struct cpu *cpu, uint32_t msr, uint64_t *value)
{
    const struct x86_state *s = &cpu->s;
    int fixed = mtrr_fixed_index(msr);
    if (fixed >= 0) {
        *value = s->mtrr_fixed[fixed];
        return 0;
    }
    if (msr >= MSR_MTRR_VAR_FIRST && msr <= MSR_MTRR_VAR_LAST) {
        *value = s->mtrr_var[msr - MSR_MTRR_VAR_FIRST];
        return 0;
    }
    if (apic_msr(msr)) {
        if (cpu->link && cpu->link->msr_read &&
            cpu->link->msr_read(cpu->link->ic, msr, value) == 0)
            return 0;
        goto bad;
    }
    switch (msr) {
    case MSR_TSC: *value = cpu_rdtsc(cpu); return 0;
    case MSR_PLATFORM_ID: *value = 0; return 0;
    case MSR_FEATURE_CONTROL: *value = 1; return 0;  /* locked, no VMX */
    case MSR_BIOS_SIGN_ID: *value = 0; return 0;
    case MSR_ARCH_CAPABILITIES: *value = ARCH_CAPABILITIES_VALUE; return 0;
    case MSR_MTRRCAP: *value = MTRRCAP_VALUE; return 0;
    case MSR_SYSENTER_CS: *value = s->sysenter_cs; return 0;
    case MSR_SYSENTER_ESP: *value = s->sysenter_esp; return 0;
    case MSR_SYSENTER_EIP: *value = s->sysenter_eip; return 0;
    case MSR_MCG_CAP: *value = 0; return 0;          /* no banks */
    case MSR_MCG_STATUS: *value = 0; return 0;
    case MSR_MISC_ENABLE: *value = s->misc_enable; return 0;
    case MSR_DEBUGCTL: *value = 0; return 0;
    case MSR_PAT: *value = s->pat; return 0;
    case MSR_MTRR_DEF_TYPE: *value = s->mtrr_def_type; return 0;
    case MSR_EFER: *value = s->efer; return 0;
    case MSR_STAR: *value = s->star; return 0;
    case MSR_LSTAR: *value = s->lstar; return 0;
    case MSR_CSTAR: *value = s->cstar; return 0;
    case MSR_SFMASK: *value = s->sfmask; return 0;
    case MSR_FS_BASE: *value = s->seg[S_FS].base; return 0;
    case MSR_GS_BASE: *value = s->seg[S_GS].base; return 0;
    case MSR_KERNEL_GS_BASE: *value = s->kernel_gs_base; return 0;
    case MSR_TSC_AUX: *value = s->tsc_aux; return 0;
    }
bad:
    log_msg_rl(LOG_GUEST_ERRORS, "rdmsr %#x: #GP\n", msr);
    return -1;
}

static int write_efer(struct cpu *cpu, uint64_t v)
{
    struct x86_state *s = &cpu->s;
    if (v & ~(uint64_t)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
        return -1;
    /* LMA is the processor's; LME may not change while paging is on */
    v = (v & ~(uint64_t)EFER_LMA) | (s->efer & EFER_LMA);
    if ((s->cr0 & CR0_PG) && ((v ^ s->efer) & EFER_LME))
        return -1;
    if ((v ^ s->efer) & EFER_NXE)
        mmu_flush(cpu, true);
    s->efer = v;
    return 0;
}

static bool pat_valid(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        unsigned t = (v >> (i * 8)) & 0xff;
        if (!mem_type_valid(t) && t != 7)
            return false;
    }
    return true;
}

static bool mtrr_var_valid(uint32_t msr, uint64_t v)
{
    if ((msr & 1) == 0)  /* PHYSBASE: type, base */
        return mem_type_valid(v & 0xff) && !(v & 0xf00) &&
               !(v & ~CPU_PHYS_MASK);
    return !(v & 0x7ff) && !(v & ~CPU_PHYS_MASK);  /* PHYSMASK: V, mask */
}

int cpu_wrmsr(struct cpu *cpu, uint32_t msr, uint64_t v)
{
    struct x86_state *s = &cpu->s;
    int fixed = mtrr_fixed_index(msr);
    if (fixed >= 0) {
        for (int i = 0; i < 8; i++)
            if (!mem_type_valid((v >> (i * 8)) & 0xff))
                goto bad;
        s->mtrr_fixed[fixed] = v;
        return 0;
    }
    if (msr >= MSR_MTRR_VAR_FIRST && msr <= MSR_MTRR_VAR_LAST) {
        if (!mtrr_var_valid(msr, v))
            goto bad;
        s->mtrr_var[msr - MSR_MTRR_VAR_FIRST] = v;
        return 0;
    }
    if (apic_msr(msr)) {
        if (cpu->link && cpu->link->msr_write &&
            cpu->link->msr_write(cpu->link->ic, msr, v) == 0)
            return 0;
        goto bad;
    }
    switch (msr) {
    case MSR_TSC:
        cpu_set_tsc(cpu, v);
        return 0;
    case MSR_BIOS_SIGN_ID:
    case MSR_MCG_STATUS:
        return 0;
    case MSR_DEBUGCTL:
        if (v)   /* LBR, BTF and the rest are not implemented */
            goto bad;
        return 0;
    case MSR_SYSENTER_CS: s->sysenter_cs = v & 0xffff; return 0;
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP:
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
        if (!is_canonical(v))
            goto bad;
        switch (msr) {
        case MSR_SYSENTER_ESP: s->sysenter_esp = v; break;
        case MSR_SYSENTER_EIP: s->sysenter_eip = v; break;
        case MSR_LSTAR: s->lstar = v; break;
        case MSR_CSTAR: s->cstar = v; break;
        case MSR_FS_BASE: s->seg[S_FS].base = v; break;
        case MSR_GS_BASE: s->seg[S_GS].base = v; break;
        default: s->kernel_gs_base = v; break;
        }
        return 0;
    case MSR_MISC_ENABLE:
        s->misc_enable = v;
        return 0;
    case MSR_PAT:
        if (!pat_valid(v))
            goto bad;
        s->pat = v;
        return 0;
    case MSR_MTRR_DEF_TYPE:
        if ((v & ~0xcffull) || !mem_type_valid(v & 0xff))
            goto bad;
        s->mtrr_def_type = v;
        return 0;
    case MSR_EFER:
        if (write_efer(cpu, v) < 0)
            goto bad;
        return 0;
    case MSR_STAR: s->star = v; return 0;
    case MSR_SFMASK: s->sfmask = v & 0xffffffff; return 0;
    case MSR_TSC_AUX:
        if (v >> 32)
            goto bad;
        s->tsc_aux = v;
        return 0;
    }
bad:
    log_msg_rl(LOG_GUEST_ERRORS, "wrmsr %#x value %#llx: #GP\n", msr,
               (unsigned long long)v);
    return -1;
}
