/* The x86 opcode table: one row per instruction form of the one-byte, 0F,
 * 0F38 and 0F3A maps, written in the SDM's opcode-map notation (operand
 * kinds such as "Ev,Gv" or "Vx,Wx,Ib"), with the mandatory prefix and the
 * modrm.reg/mod/rm keys of group and prefix-selected forms. The decoder
 * (cpu/decode.c) picks a row for every instruction and puts it in
 * struct x86_insn.op; the interpreter dispatches on row->id, the x87 and
 * SSE units (cpu/fpu.c, cpu/sse.c) read row->id and the operand kinds. */
#ifndef CPU_OPCODE_TABLE_H
#define CPU_OPCODE_TABLE_H

#include <stdint.h>
#include "cpu/decode.h"

/* Every mnemonic of the table (one id may have several rows/forms). */
#define X86_MNEMONICS(X)                                                      \
    /* integer */                                                             \
    X(ADD) X(OR) X(ADC) X(SBB) X(AND) X(SUB) X(XOR) X(CMP) X(TEST)           \
    X(INC) X(DEC) X(NOT) X(NEG) X(MUL) X(IMUL) X(DIV) X(IDIV)               \
    X(ROL) X(ROR) X(RCL) X(RCR) X(SHL) X(SHR) X(SAR) X(SHLD) X(SHRD)         \
    X(DAA) X(DAS) X(AAA) X(AAS) X(AAM) X(AAD) X(SALC)                        \
    X(PUSH) X(POP) X(PUSHA) X(POPA) X(PUSHF) X(POPF) X(ENTER) X(LEAVE)      \
    X(MOV) X(MOVSXD) X(MOVZX) X(MOVSX) X(LEA) X(XCHG) X(NOP) X(PAUSE)       \
    X(CBW) X(CWD) X(LAHF) X(SAHF) X(XLAT) X(BOUND) X(ARPL)                  \
    X(LES) X(LDS) X(LSS) X(LFS) X(LGS) X(MOVSEG) X(MOVFROMSEG)              \
    X(MOVS) X(CMPS) X(STOS) X(LODS) X(SCAS) X(INS) X(OUTS) X(IN) X(OUT)     \
    X(JCC) X(JMP) X(JMPF) X(CALL) X(CALLF) X(RET) X(RETF) X(LOOPNE)         \
    X(LOOPE) X(LOOP) X(JCXZ) X(INT3) X(INT) X(INTO) X(INT1) X(IRET)        \
    X(HLT) X(CMC) X(CLC) X(STC) X(CLI) X(STI) X(CLD) X(STD)                  \
    X(SETCC) X(CMOVCC) X(BT) X(BTS) X(BTR) X(BTC) X(BSF) X(BSR) X(TZCNT)    \
    X(LZCNT) X(POPCNT) X(BSWAP) X(XADD) X(CMPXCHG) X(CMPXCHG8B)            \
    X(MOVBE) X(CRC32) X(RDRAND) X(RDSEED) X(MOVNTI) X(UD0) X(UD1) X(UD2)    \
    /* system */                                                              \
    X(SLDT) X(STR) X(LLDT) X(LTR) X(VERR) X(VERW) X(SGDT) X(SIDT) X(LGDT)   \
    X(LIDT) X(SMSW) X(LMSW) X(INVLPG) X(SWAPGS) X(RDTSCP) X(LAR) X(LSL)     \
    X(SYSCALL) X(SYSRET) X(SYSENTER) X(SYSEXIT) X(CLTS) X(INVD) X(WBINVD)   \
    X(MOVCR) X(MOVDR) X(WRMSR) X(RDTSC) X(RDMSR) X(RDPMC) X(CPUID)          \
    X(RDFSBASE) X(RDGSBASE) X(WRFSBASE) X(WRGSBASE)                          \
    X(PREFETCH) X(PREFETCHW) X(CLFLUSH) X(LFENCE) X(MFENCE) X(SFENCE)      \
    /* x87 (D8-DF) and its state instructions */                             \
    X(X87) X(FWAIT) X(FXSAVE) X(FXRSTOR) X(XSAVE) X(XRSTOR) X(XSAVEOPT)     \
    X(XGETBV) X(XSETBV)                                                       \
    X(LDMXCSR) X(STMXCSR)                                                     \
    /* MMX, SSE .. SSE4.2 */                                                  \
    X(MOVUPS) X(MOVUPD) X(MOVSS) X(MOVSD) X(MOVLPS) X(MOVHLPS) X(MOVLPD)    \
    X(MOVSLDUP) X(MOVDDUP) X(UNPCKLPS) X(UNPCKLPD) X(UNPCKHPS) X(UNPCKHPD)  \
    X(MOVHPS) X(MOVLHPS) X(MOVHPD) X(MOVSHDUP) X(MOVAPS) X(MOVAPD)          \
    X(CVTPI2PS) X(CVTPI2PD) X(CVTSI2SS) X(CVTSI2SD) X(MOVNTPS) X(MOVNTPD)   \
    X(CVTTPS2PI) X(CVTTPD2PI) X(CVTTSS2SI) X(CVTTSD2SI) X(CVTPS2PI)         \
    X(CVTPD2PI) X(CVTSS2SI) X(CVTSD2SI) X(UCOMISS) X(UCOMISD) X(COMISS)     \
    X(COMISD) X(MOVMSKPS) X(MOVMSKPD) X(SQRTPS) X(SQRTPD) X(SQRTSS)         \
    X(SQRTSD) X(RSQRTPS) X(RSQRTSS) X(RCPPS) X(RCPSS) X(ANDPS) X(ANDPD)     \
    X(ANDNPS) X(ANDNPD) X(ORPS) X(ORPD) X(XORPS) X(XORPD) X(ADDPS)          \
    X(ADDPD) X(ADDSS) X(ADDSD) X(MULPS) X(MULPD) X(MULSS) X(MULSD)          \
    X(CVTPS2PD) X(CVTPD2PS) X(CVTSS2SD) X(CVTSD2SS) X(CVTDQ2PS)             \
    X(CVTPS2DQ) X(CVTTPS2DQ) X(SUBPS) X(SUBPD) X(SUBSS) X(SUBSD) X(MINPS)   \
    X(MINPD) X(MINSS) X(MINSD) X(DIVPS) X(DIVPD) X(DIVSS) X(DIVSD)          \
    X(MAXPS) X(MAXPD) X(MAXSS) X(MAXSD) X(PUNPCKLBW) X(PUNPCKLWD)           \
    X(PUNPCKLDQ) X(PACKSSWB) X(PCMPGTB) X(PCMPGTW) X(PCMPGTD) X(PACKUSWB)   \
    X(PUNPCKHBW) X(PUNPCKHWD) X(PUNPCKHDQ) X(PACKSSDW) X(PUNPCKLQDQ)        \
    X(PUNPCKHQDQ) X(MOVD) X(MOVQ) X(MOVDQA) X(MOVDQU) X(PSHUFW) X(PSHUFD)   \
    X(PSHUFHW) X(PSHUFLW) X(PSRLW) X(PSRAW) X(PSLLW) X(PSRLD) X(PSRAD)      \
    X(PSLLD) X(PSRLQ) X(PSRLDQ) X(PSLLQ) X(PSLLDQ) X(PCMPEQB) X(PCMPEQW)    \
    X(PCMPEQD) X(EMMS) X(HADDPD) X(HADDPS) X(HSUBPD) X(HSUBPS) X(CMPPS)     \
    X(CMPPD) X(CMPSS) X(CMPSD) X(PINSRW) X(PEXTRW) X(SHUFPS) X(SHUFPD)      \
    X(ADDSUBPD) X(ADDSUBPS) X(PADDQ) X(PMULLW) X(MOVQ2DQ) X(MOVDQ2Q)        \
    X(PMOVMSKB) X(PSUBUSB) X(PSUBUSW) X(PMINUB) X(PAND) X(PADDUSB)          \
    X(PADDUSW) X(PMAXUB) X(PANDN) X(PAVGB) X(PAVGW) X(PMULHUW) X(PMULHW)    \
    X(CVTTPD2DQ) X(CVTDQ2PD) X(CVTPD2DQ) X(MOVNTQ) X(MOVNTDQ) X(PSUBSB)     \
    X(PSUBSW) X(PMINSW) X(POR) X(PADDSB) X(PADDSW) X(PMAXSW) X(PXOR)        \
    X(LDDQU) X(PMULUDQ) X(PMADDWD) X(PSADBW) X(MASKMOVQ) X(MASKMOVDQU)      \
    X(PSUBB) X(PSUBW) X(PSUBD) X(PSUBQ) X(PADDB) X(PADDW) X(PADDD)          \
    /* 0F38 */                                                                \
    X(PSHUFB) X(PHADDW) X(PHADDD) X(PHADDSW) X(PMADDUBSW) X(PHSUBW)         \
    X(PHSUBD) X(PHSUBSW) X(PSIGNB) X(PSIGNW) X(PSIGND) X(PMULHRSW)          \
    X(PBLENDVB) X(BLENDVPS) X(BLENDVPD) X(PTEST) X(PABSB) X(PABSW)          \
    X(PABSD) X(PMOVSXBW) X(PMOVSXBD) X(PMOVSXBQ) X(PMOVSXWD) X(PMOVSXWQ)    \
    X(PMOVSXDQ) X(PMULDQ) X(PCMPEQQ) X(MOVNTDQA) X(PACKUSDW) X(PMOVZXBW)    \
    X(PMOVZXBD) X(PMOVZXBQ) X(PMOVZXWD) X(PMOVZXWQ) X(PMOVZXDQ) X(PCMPGTQ)  \
    X(PMINSB) X(PMINSD) X(PMINUW) X(PMINUD) X(PMAXSB) X(PMAXSD) X(PMAXUW)   \
    X(PMAXUD) X(PMULLD) X(PHMINPOSUW)                                         \
    /* 0F3A */                                                                \
    X(ROUNDPS) X(ROUNDPD) X(ROUNDSS) X(ROUNDSD) X(BLENDPS) X(BLENDPD)       \
    X(PBLENDW) X(PALIGNR) X(PEXTRB) X(PEXTRD) X(EXTRACTPS) X(PINSRB)        \
    X(INSERTPS) X(PINSRD) X(DPPS) X(DPPD) X(MPSADBW) X(PCMPESTRM)           \
    X(PCMPESTRI) X(PCMPISTRM) X(PCMPISTRI)

enum x86_mnem {
#define X86_MNEM_ENUM(m) I_##m,
    X86_MNEMONICS(X86_MNEM_ENUM)
#undef X86_MNEM_ENUM
    I_COUNT
};

/* Operand addressing methods (the SDM's capital letters) */
enum x86_opnd_method {
    OM_NONE,
    OM_A,    /* far pointer in the instruction: imm = offset, imm2 = sel */
    OM_C,    /* control register in modrm.reg */
    OM_D,    /* debug register in modrm.reg */
    OM_E,    /* modrm r/m: general register or memory */
    OM_G,    /* modrm reg: general register */
    OM_I,    /* immediate (zero-extended; imm2 for the second one) */
    OM_IS,   /* immediate byte sign-extended to the operand size ("Ibs") */
    OM_J,    /* relative offset, sign-extended */
    OM_M,    /* modrm r/m, memory only */
    OM_N,    /* modrm r/m, MMX register only */
    OM_O,    /* moffs: address-size offset in the instruction (disp) */
    OM_P,    /* modrm reg: MMX register */
    OM_Q,    /* modrm r/m: MMX register or memory */
    OM_R,    /* modrm r/m, general register only */
    OM_S,    /* modrm reg: segment register */
    OM_U,    /* modrm r/m, XMM register only */
    OM_V,    /* modrm reg: XMM register */
    OM_W,    /* modrm r/m: XMM register or memory */
    OM_X,    /* string source DS:rSI (segment may be overridden) */
    OM_Y,    /* string destination ES:rDI */
    OM_Z,    /* register in opcode bits 2:0 (+REX.B), in insn->rm */
    OM_F,    /* x87 modrm: memory or ST(i) */
    OM_REG,  /* fixed general register (reg field), size as given */
    OM_SEG,  /* fixed segment register (reg field) */
    OM_ONE,  /* the constant 1 (shift by one) */
};

/* Operand sizes (the SDM's lower-case suffixes) */
enum x86_opnd_size {
    OS_NONE,
    OS_b, OS_w, OS_d, OS_q,
    OS_v,   /* operand size: 2, 4 or 8 */
    OS_z,   /* 2 for 16-bit operand size, else 4 */
    OS_y,   /* 4, or 8 with 64-bit operand size */
    OS_p,   /* far pointer: 16:16, 16:32 or 16:64 */
    OS_s,   /* 6- or 10-byte pseudo-descriptor */
    OS_a,   /* two operand-size words in memory (BOUND) */
    OS_dq,  /* 16 bytes */
    OS_x,   /* 16 bytes (a VEX.L 256 form is not supported) */
    OS_ps, OS_pd, OS_ss, OS_sd,
};

struct x86_operand {
    uint8_t method; /* enum x86_opnd_method */
    uint8_t size;   /* enum x86_opnd_size */
    uint8_t reg;    /* OM_REG/OM_SEG: the register */
};

/* Mandatory prefix selecting a row */
enum { PFX_ANY, PFX_NP, PFX_66, PFX_F3, PFX_F2 };
/* modrm.mod key */
enum { MOD_ANY, MOD_MEM, MOD_REG };
/* Execution unit a row is routed to */
enum { EXEC_INT, EXEC_FPU, EXEC_SSE };

/* CPUID features a row needs */
enum x86_feature {
    FEAT_NONE, FEAT_MMX, FEAT_SSE, FEAT_SSE2, FEAT_SSE3, FEAT_SSSE3,
    FEAT_SSE41, FEAT_SSE42, FEAT_POPCNT, FEAT_LZCNT, FEAT_BMI1, FEAT_MOVBE,
    FEAT_RDRAND, FEAT_RDSEED, FEAT_CMOV, FEAT_CX8, FEAT_CX16, FEAT_FXSR,
    FEAT_SEP, FEAT_SYSCALL, FEAT_RDTSCP, FEAT_CLFLUSH, FEAT_FSGSBASE,
    FEAT_XSAVE, FEAT_X87, FEAT_COUNT
};

/* Row attributes */
#define OPA_LOCK (1u << 0)     /* LOCK allowed (with a memory destination) */
#define OPA_I64 (1u << 1)      /* invalid in 64-bit mode */
#define OPA_O64 (1u << 2)      /* valid only in 64-bit mode */
#define OPA_D64 (1u << 3)      /* 64-bit default operand size in 64-bit mode */
#define OPA_F64 (1u << 4)      /* 64-bit operand size forced in 64-bit mode */
#define OPA_FAULT (1u << 5)    /* may fault even without a memory operand */
#define OPA_END (1u << 6)      /* ends a block: control transfer, mode or
                                  paging change, interrupt shadow */
#define OPA_MODIGN (1u << 7)   /* modrm.mod ignored, r/m is a register
                                  (MOV CR/DR) */
#define OPA_REX_W8 (1u << 8)   /* REX.W selects the 16-byte form (CX16) */
#define OPA_PRIV (1u << 9)     /* CPL 0 only (or IOPL/CR4 rule) */
#define OPA_COND (1u << 10)    /* reads the condition in opcode bits 3:0 */

struct x86_opcode {
    const char *mnemonic;
    uint16_t id;            /* enum x86_mnem */
    uint8_t map;            /* enum x86_map */
    uint8_t opcode;
    uint8_t pfx;            /* PFX_* */
    int8_t reg;             /* modrm.reg key (group row), -1 any */
    uint8_t mod;            /* MOD_* key */
    int8_t rm;              /* modrm.rm key with MOD_REG, -1 any */
    const char *spec;       /* operands in SDM notation, "" for none */
    uint32_t attr;          /* OPA_* */
    uint8_t feature;        /* enum x86_feature */
    uint8_t exec;           /* EXEC_* */
    /* filled from spec and the mnemonic at start-up */
    uint8_t nopnd;
    struct x86_operand opnd[4];
    uint16_t flags_read;    /* FL_ arithmetic bits (and DF) it reads */
    uint16_t flags_written; /* ... and writes */
};

/* The rows of one opcode byte of one map, in table order */
struct x86_opcode_slot {
    const struct x86_opcode *first;
    uint16_t count;
    uint8_t has_modrm;
};

/* Parse the table once (thread-safe); the decoder calls it. */
void x86_opcode_table_init(void);
const struct x86_opcode_slot *x86_opcode_slot(unsigned map, unsigned opcode);
const char *x86_mnemonic_name(unsigned id);
/* Size in bytes of an operand for the decoded instruction (0 if none or
 * variable like OS_p/OS_s, where the handler knows better). */
unsigned x86_operand_bytes(const struct x86_insn *insn,
                           const struct x86_operand *o);

#endif
