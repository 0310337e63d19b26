/* The architectural state of one x86 vCPU as plain data: no pointers, fixed
 * layout, versioned. It is what KVM can get and set, what the interpreter and
 * the JIT run on, and what a snapshot stores. Segment attributes use the VMX
 * access-rights layout so that conversion to and from KVM is a bit shuffle. */
#ifndef CPU_X86_STATE_H
#define CPU_X86_STATE_H

#include <stdint.h>

#define X86_STATE_VERSION 1

enum x86_gpr {
    R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI,
    R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
};

enum x86_seg { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NONE = -1 };

/* seg attr bits (VMX access-rights format) */
#define SEG_ATTR_TYPE(a) ((a) & 0xf)
#define SEG_ATTR_S (1u << 4)        /* code/data (1) or system (0) */
#define SEG_ATTR_DPL(a) (((a) >> 5) & 3)
#define SEG_ATTR_P (1u << 7)
#define SEG_ATTR_AVL (1u << 12)
#define SEG_ATTR_L (1u << 13)
#define SEG_ATTR_DB (1u << 14)
#define SEG_ATTR_G (1u << 15)
#define SEG_ATTR_UNUSABLE (1u << 16)

struct x86_segment {
    uint64_t base;
    uint32_t limit;    /* byte-granular, already scaled by G */
    uint16_t selector;
    uint16_t pad;
    uint32_t attr;
    uint32_t pad2;
};

struct x86_dtable {
    uint64_t base;
    uint16_t limit;
    uint16_t pad[3];
};

/* RFLAGS bits */
#define FL_CF (1u << 0)
#define FL_FIXED1 (1u << 1)
#define FL_PF (1u << 2)
#define FL_AF (1u << 4)
#define FL_ZF (1u << 6)
#define FL_SF (1u << 7)
#define FL_TF (1u << 8)
#define FL_IF (1u << 9)
#define FL_DF (1u << 10)
#define FL_OF (1u << 11)
#define FL_IOPL (3u << 12)
#define FL_NT (1u << 14)
#define FL_RF (1u << 16)
#define FL_VM (1u << 17)
#define FL_AC (1u << 18)
#define FL_VIF (1u << 19)
#define FL_VIP (1u << 20)
#define FL_ID (1u << 21)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* CR0 */
#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PG (1u << 31)
/* CR4 */
#define CR4_VME (1u << 0)
#define CR4_PVI (1u << 1)
#define CR4_TSD (1u << 2)
#define CR4_DE (1u << 3)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_MCE (1u << 6)
#define CR4_PGE (1u << 7)
#define CR4_PCE (1u << 8)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_UMIP (1u << 11)
#define CR4_FSGSBASE (1u << 16)
#define CR4_PCIDE (1u << 17)
#define CR4_OSXSAVE (1u << 18)
#define CR4_SMEP (1u << 20)
#define CR4_SMAP (1u << 21)
/* EFER */
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

/* exception vectors */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
    EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18,
    EXC_XM = 19,
};

/* interrupt shadow bits */
#define SHADOW_STI 1u
#define SHADOW_MOV_SS 2u

#define X86_XSAVE_SIZE 4096 /* KVM_GET_XSAVE's region; x87+SSE use 576 */

struct x86_state {
    uint32_t version;
    uint32_t size; /* sizeof(struct x86_state) */

    uint64_t gpr[16];
    uint64_t rip;
    uint64_t rflags;

    struct x86_segment seg[6]; /* indexed by enum x86_seg */
    struct x86_segment ldt, tr;
    struct x86_dtable gdt, idt;

    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t xcr0;
    uint64_t dr[8]; /* DR0-3, DR6 at [6], DR7 at [7] */
    uint64_t efer;

    /* MSRs */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat, tsc_aux, misc_enable;
    uint64_t tsc; /* the guest TSC at the moment the state was taken */
    uint64_t mtrr_def_type;
    uint64_t mtrr_fixed[11];
    uint64_t mtrr_var[16]; /* base/mask pairs for 8 variable ranges */

    /* x87, MMX, SSE: the XSAVE layout (legacy region, header, extensions) */
    _Alignas(64) uint8_t xsave[X86_XSAVE_SIZE];

    /* event state */
    uint8_t exception_pending; /* an exception to deliver before anything */
    uint8_t exception_vector;
    uint8_t exception_has_error;
    uint8_t nmi_pending;
    uint32_t exception_error;
    uint8_t nmi_masked;        /* between NMI delivery and IRET */
    uint8_t interrupt_shadow;  /* SHADOW_* bits */
    uint8_t halted;
    uint8_t wait_sipi;         /* an AP after INIT, waiting for a SIPI */
    int32_t injected_irq;      /* acknowledged external vector not yet
                                  delivered, or -1 */
};

void x86_state_reset(struct x86_state *s); /* the power-on/RESET state */

#endif
