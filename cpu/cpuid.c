/* CPUID: the model tandem presents (cpu/cpu_model.h). It reports exactly
 * what the interpreter implements; OSXSAVE and APIC follow CR4 and the
 * APIC_BASE MSR, and the topology leaves follow -smp (one core per vCPU,
 * one package). */
#include <string.h>
#include "cpu/cpu_model.h"
#include "cpu/sys_internal.h"
#include "vm/machine.h"
#include "vm/vcpu_link.h"

/* leaf 1 ECX */
#define F1C_SSE3 (1u << 0)
#define F1C_SSSE3 (1u << 9)
#define F1C_CX16 (1u << 13)
#define F1C_SSE41 (1u << 19)
#define F1C_SSE42 (1u << 20)
#define F1C_MOVBE (1u << 22)
#define F1C_POPCNT (1u << 23)
#define F1C_TSC_DEADLINE (1u << 24)
#define F1C_XSAVE (1u << 26)
#define F1C_OSXSAVE (1u << 27)
#define F1C_RDRAND (1u << 30)
#define F1C_HYPERVISOR (1u << 31)
/* leaf 1 EDX: fpu de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat
 * pse36 clflush mmx fxsr sse sse2 (no VME: V86 runs without its extensions) */
#define F1D_APIC (1u << 9)
#define F1D_HTT (1u << 28)
#define F1D_BASE 0x078bfbfdu
/* leaf 7 */
#define F7B_FSGSBASE (1u << 0)
#define F7B_SMEP (1u << 7)
#define F7B_RDSEED (1u << 18)
#define F7C_UMIP (1u << 2)
#define F7D_ARCH_CAPABILITIES (1u << 29)
/* leaf 80000001h */
#define F81C_LAHF_LM (1u << 0)
#define F81C_ABM (1u << 5)
#define F81D_SYSCALL (1u << 11)
#define F81D_NX (1u << 20)
#define F81D_PDPE1GB (1u << 26)
#define F81D_RDTSCP (1u << 27)
#define F81D_LM (1u << 29)
/* leaf 80000007h: the TSC runs at one rate on the virtual clock, always */
#define F87D_INVARIANT_TSC (1u << 8)

#define CPUID_MAX_BASIC 0xd
#define CPUID_MAX_EXT 0x80000008u

static const char cpuid_vendor[12] = "GenuineIntel";
static const char cpuid_brand[48] = "tandem virtual CPU";

static unsigned cpu_count(const struct cpu *cpu)
{
    return cpu->machine && cpu->machine->ncpus > 0 ? cpu->machine->ncpus : 1;
}

/* bits needed to number the cores of the package */
static unsigned core_bits(const struct cpu *cpu)
{
    unsigned n = cpu_count(cpu), b = 0;
    while ((1u << b) < n)
        b++;
    return b;
}

static void put_str(uint32_t out[4], const char *s, const int order[4])
{
    for (int i = 0; i < 4; i++)
        if (order[i] >= 0)
            memcpy(&out[order[i]], s + 4 * i, 4);
}

static bool apic_enabled(struct cpu *cpu)
{
    uint64_t base;
    if (!cpu->link || !cpu->link->msr_read)
        return false;
    return cpu->link->msr_read(cpu->link->ic, 0x1b, &base) == 0 &&
           (base & (1u << 11));
}

void cpu_cpuid(struct cpu *cpu, uint32_t leaf, uint32_t subleaf,
               uint32_t out[4])
{
    enum { A, B, C, D };
    out[A] = out[B] = out[C] = out[D] = 0;
    /* past the maximum, Intel parts answer as for the highest basic leaf */
    if ((leaf > CPUID_MAX_BASIC && leaf < 0x40000000u) ||
        (leaf > 0x40000000u && leaf < 0x80000000u) || leaf > CPUID_MAX_EXT)
        leaf = CPUID_MAX_BASIC;
    switch (leaf) {
    case 0: {
        static const int ord[4] = { B, D, C, -1 };
        out[A] = CPUID_MAX_BASIC;
        put_str(out, cpuid_vendor, ord);
        break;
    }
    case 1:
        out[A] = CPU_SIGNATURE;
        out[B] = (8u << 8) | ((uint32_t)cpu->index << 24) |
                 ((1u << core_bits(cpu)) << 16);
        out[C] = F1C_SSE3 | F1C_SSSE3 | F1C_CX16 | F1C_SSE41 | F1C_SSE42 |
                 F1C_MOVBE | F1C_POPCNT | F1C_TSC_DEADLINE | F1C_XSAVE |
                 F1C_RDRAND | F1C_HYPERVISOR;
        if (cpu->s.cr4 & CR4_OSXSAVE)
            out[C] |= F1C_OSXSAVE;
        out[D] = F1D_BASE | (cpu_count(cpu) > 1 ? F1D_HTT : 0);
        if (!apic_enabled(cpu))
            out[D] &= ~F1D_APIC;
        break;
    case 4:
        /* one L1 data cache per core, shared by nothing; the core count
         * of the package in EAX[31:26] */
        if (subleaf == 0) {
            out[A] = 1 | (1u << 5) | (1u << 8) |
                     (((1u << core_bits(cpu)) - 1) << 26);
            out[B] = 63 | (7u << 22);  /* 64-byte lines, 8 ways */
            out[C] = 63;               /* 64 sets: 32 KiB */
        }
        break;
    case 7:
        if (subleaf == 0) {
            out[B] = F7B_FSGSBASE | F7B_SMEP | F7B_RDSEED;
            out[C] = F7C_UMIP;
            out[D] = F7D_ARCH_CAPABILITIES;
        }
        break;
    case 0xb:
        /* x2APIC topology: level 0 SMT (one thread), level 1 core */
        if (subleaf == 0) {
            out[A] = 0;
            out[B] = 1;
            out[C] = 0x100;
        } else if (subleaf == 1) {
            out[A] = core_bits(cpu);
            out[B] = cpu_count(cpu);
            out[C] = 0x200 | 1;
        } else {
            out[C] = subleaf & 0xff;
        }
        out[D] = (uint32_t)cpu->index;
        break;
    case 0xd:
        /* XSAVE: x87 and SSE state only */
        if (subleaf == 0) {
            out[A] = 3;
            out[B] = 576;
            out[C] = 576;
        } else if (subleaf == 1) {
            out[A] = 1;  /* XSAVEOPT (as XSAVE); no XSAVEC/XGETBV1/XSAVES */
        }
        break;
    case 0x40000000u: {
        static const int ord[4] = { B, C, D, -1 };
        out[A] = 0x40000000u;
        put_str(out, "TandemTandem", ord);
        break;
    }
    case 0x80000000u:
        out[A] = CPUID_MAX_EXT;
        break;
    case 0x80000001u:
        out[C] = F81C_LAHF_LM | F81C_ABM;
        out[D] = F81D_SYSCALL | F81D_NX | F81D_PDPE1GB | F81D_RDTSCP | F81D_LM;
        break;
    case 0x80000002u: case 0x80000003u: case 0x80000004u: {
        static const int ord[4] = { A, B, C, D };
        put_str(out, cpuid_brand + (leaf - 0x80000002u) * 16, ord);
        break;
    }
    case 0x80000007u:
        out[D] = F87D_INVARIANT_TSC;
        break;
    case 0x80000008u:
        out[A] = CPU_PHYS_BITS | (CPU_VIRT_BITS << 8);
        break;
    default:
        break;
    }
}
