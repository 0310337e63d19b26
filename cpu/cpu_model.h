/* The CPU model tandem presents to the guest: the numbers that CPUID, the
 * reset state and the MSRs must agree on (cpu/system.c, cpu/x86_state.c,
 * cpu/mmu.c). */
#ifndef CPU_CPU_MODEL_H
#define CPU_CPU_MODEL_H

/* family 6, model 3Ah, stepping 9 (CPUID.1:EAX and EDX after RESET) */
#define CPU_SIGNATURE 0x000306a9u
#define CPU_PHYS_BITS 40           /* MAXPHYADDR */
#define CPU_VIRT_BITS 48
#define CPU_PHYS_MASK ((1ull << CPU_PHYS_BITS) - 1)

/* IA32_MISC_ENABLE: fast strings, BTS and PEBS unavailable */
#define MISC_ENABLE_RESET ((1ull << 0) | (1ull << 11) | (1ull << 12))

/* IA32_ARCH_CAPABILITIES: an emulated CPU does not speculate, so none of
 * the speculative-execution issues apply: RDCL_NO, SKIP_L1DFL_VMENTRY,
 * SSB_NO, MDS_NO, PSCHANGE_MC_NO, TAA_NO, SBDR_SSDP_NO, FBSDP_NO, PSDP_NO,
 * GDS_NO, RFDS_NO */
#define ARCH_CAPABILITIES_VALUE                                                \
    ((1ull << 0) | (1ull << 3) | (1ull << 4) | (1ull << 5) | (1ull << 6) |    \
     (1ull << 8) | (1ull << 13) | (1ull << 14) | (1ull << 15) | (1ull << 26) | \
     (1ull << 27))

#endif
