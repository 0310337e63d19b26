/* Internals shared by the x87, MMX and SSE units (cpu/fpu*.c, cpu/sse*.c):
 * the x87/SSE state as it lives in cpu->s.xsave (FXSAVE/XSAVE layout, ST
 * registers in stack order at a 16-byte stride, the abridged tag word by
 * physical register), the memory-operand helpers, and the host x87 runner
 * that executes the arithmetic with the guest's control word for exact
 * 80-bit results and exception flags. */
#ifndef CPU_FPU_INTERNAL_H
#define CPU_FPU_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "cpu/cpu.h"

/* legacy-region offsets in the FXSAVE/XSAVE image */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4      /* abridged: one bit per physical register, 1 = valid */
#define FX_FOP 6
#define FX_FIP 8      /* 64-bit instruction pointer offset */
#define FX_FDP 16     /* 64-bit data pointer offset */
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_ST 32      /* ST0..ST7, 16 bytes each */
#define FX_XMM 160    /* XMM0..XMM15, 16 bytes each */
#define XS_HEADER 512 /* XSAVE header: XSTATE_BV at +0, XCOMP_BV at +8 */

#define MXCSR_MASK_VALUE 0xffffu /* DAZ supported */
#define MXCSR_DEFAULT 0x1f80u

/* FSW bits */
#define FSW_IE 0x0001
#define FSW_DE 0x0002
#define FSW_ZE 0x0004
#define FSW_OE 0x0008
#define FSW_UE 0x0010
#define FSW_PE 0x0020
#define FSW_SF 0x0040
#define FSW_ES 0x0080
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_C3 0x4000
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)
#define FSW_B 0x8000
#define FSW_EXC 0x003f
/* FCW as loaded: bits 7 and 13-15 read as 0, bit 6 as 1 */
#define FCW_FIX(v) ((uint16_t)(((v) & 0x1f3f) | 0x40))

/* an 80-bit extended value as stored: 64-bit significand, sign+exponent */
struct fx80 {
    uint64_t mant;
    uint16_t se;
};

extern const struct fx80 fx80_indefinite; /* the QNaN indefinite */

static inline uint8_t *fx_ptr(struct cpu *cpu, unsigned off)
{
    return cpu->s.xsave + off;
}
static inline uint16_t fx_get16(struct cpu *cpu, unsigned off)
{
    uint16_t v;
    memcpy(&v, cpu->s.xsave + off, 2);
    return v;
}
static inline void fx_set16(struct cpu *cpu, unsigned off, uint16_t v)
{
    memcpy(cpu->s.xsave + off, &v, 2);
}
static inline uint32_t fx_get32(struct cpu *cpu, unsigned off)
{
    uint32_t v;
    memcpy(&v, cpu->s.xsave + off, 4);
    return v;
}
static inline void fx_set32(struct cpu *cpu, unsigned off, uint32_t v)
{
    memcpy(cpu->s.xsave + off, &v, 4);
}
static inline uint64_t fx_get64(struct cpu *cpu, unsigned off)
{
    uint64_t v;
    memcpy(&v, cpu->s.xsave + off, 8);
    return v;
}
static inline void fx_set64(struct cpu *cpu, unsigned off, uint64_t v)
{
    memcpy(cpu->s.xsave + off, &v, 8);
}

/* --- x87 state (cpu/fpu_state.c) --- */
static inline uint16_t fpu_fcw(struct cpu *cpu)
{
    return fx_get16(cpu, FX_FCW);
}
static inline uint16_t fpu_fsw(struct cpu *cpu)
{
    return fx_get16(cpu, FX_FSW);
}
static inline unsigned fpu_top(struct cpu *cpu)
{
    return (fpu_fsw(cpu) >> 11) & 7;
}
void fpu_set_fsw(struct cpu *cpu, uint16_t fsw); /* keeps B equal to ES */
void fpu_set_top(struct cpu *cpu, unsigned top);
bool fpu_st_empty(struct cpu *cpu, unsigned i);   /* ST(i) tagged empty */
struct fx80 fpu_st(struct cpu *cpu, unsigned i);
void fpu_set_st(struct cpu *cpu, unsigned i, struct fx80 v); /* tags valid */
void fpu_set_tag_empty(struct cpu *cpu, unsigned i);
void fpu_push(struct cpu *cpu, struct fx80 v);
void fpu_pop(struct cpu *cpu);
void fpu_rotate_to_physical(struct cpu *cpu); /* make TOP 0 (for MMX) */
/* change TOP keeping each physical register's contents */
void fpu_move_top(struct cpu *cpu, unsigned top);
void fpu_incstp(struct cpu *cpu);
void fpu_decstp(struct cpu *cpu);
uint16_t fpu_full_tag_word(struct cpu *cpu);
void fpu_load_full_tag_word(struct cpu *cpu, uint16_t ftw);
/* Raise the flags in exc (FSW_IE.. plus FSW_SF) and recompute ES/B */
void fpu_set_exceptions(struct cpu *cpu, uint16_t exc);
static inline bool fpu_unmasked(struct cpu *cpu, uint16_t exc)
{
    return (exc & ~fpu_fcw(cpu) & FSW_EXC) != 0;
}
void fpu_set_cc(struct cpu *cpu, uint16_t mask, uint16_t bits);
/* mark the x87 and SSE components in use in the image's XSTATE_BV, so that
 * a backend restoring the image with XRSTOR (KVM_SET_XSAVE) loads them
 * instead of putting them in their init state */
void fpu_mark_in_use(struct cpu *cpu);

/* --- operand access (cpu/vec_mem.c) --- */
uint64_t vec_ea_add(const struct x86_insn *insn, uint64_t ea, uint64_t add);
void vec_read(struct cpu *cpu, const struct x86_insn *insn, uint64_t ea,
              void *buf, unsigned len);
void vec_write(struct cpu *cpu, const struct x86_insn *insn, uint64_t ea,
               const void *buf, unsigned len);
uint64_t vec_lin(struct cpu *cpu, const struct x86_insn *insn, uint64_t ea);

/* --- the host x87 runner (cpu/fpu_host.c) --- */
enum fpu_host_op {
#define FPU_HOST_OP(name, bytes) FH_##name,
#include "cpu/fpu_host_ops.h"
#undef FPU_HOST_OP
    FH_COUNT
};

struct fpu_host_io {
    struct fx80 in0, in1; /* host ST0 and ST1 before the operation */
    uint16_t fcw;         /* the guest control word */
    uint8_t mem[16];      /* the memory operand (rdx points here) */
    /* results */
    uint16_t fsw;         /* host status word after the operation */
    int pops;             /* entries popped (negative: pushed) */
    struct fx80 out[3];   /* host ST0.. after the operation */
};
void fpu_host_run(enum fpu_host_op op, struct fpu_host_io *io);

/* --- x87 instruction helpers shared by the fpu_*.c files --- */
/* Merge the host's exception flags and the condition bits in cc_mask into
 * the guest FSW. */
void fpu_merge_host(struct cpu *cpu, const struct fpu_host_io *io,
                    uint16_t cc_mask);
/* stack underflow/overflow: set IE|SF and C1; true if masked (the caller
 * then writes the default result) */
bool fpu_stack_underflow(struct cpu *cpu);
bool fpu_stack_overflow(struct cpu *cpu);

void fpu_exec_arith(struct cpu *cpu, const struct x86_insn *insn,
                    uint64_t ea);
void fpu_ftst(struct cpu *cpu);
void fpu_fxam(struct cpu *cpu);
void fpu_exec_load_store(struct cpu *cpu, const struct x86_insn *insn,
                         uint64_t ea);
void fpu_exec_d9_reg(struct cpu *cpu, const struct x86_insn *insn);
void fpu_exec_env(struct cpu *cpu, const struct x86_insn *insn, uint64_t ea);
void fpu_exec_misc_reg(struct cpu *cpu, const struct x86_insn *insn);

void fpu_check_mf(struct cpu *cpu); /* pending unmasked x87 exception */

/* --- MMX/SSE --- */
#define MXCSR_EXC 0x3fu

/* the host vector unit (cpu/sse_host.c, cpu/sse_host_ops.h) */
#define SF_MXCSR 1u    /* a floating-point operation: MXCSR applies */
#define SF_MMX 2u
#define SF_COMBINE 4u
#define SF_HIGH 8u
#define SF_HASIMM 16u
#define SF_IMM(n) (SF_HASIMM | ((unsigned)(n) << 8))
#define SF_F32 32u     /* float results that can underflow */
#define SF_F64 64u     /* double results that can underflow */
#define SF_SCALAR 128u /* only lane 0 is a result */
#define SF_LOW64 (1u << 16) /* only the low quadword holds results */
#define MXCSR_UE 0x10u
#define MXCSR_FTZ 0x8000u

struct sse_io {
    uint8_t a[16], b[16], c[16]; /* xmm1 (dst), xmm2 (src), xmm0 */
    uint32_t mxcsr;
};

struct sse_host_row {
    uint8_t map, opcode, pfx, size;
    uint32_t flags;
    void (*fn)(struct sse_io *io);
};

enum sse_host_id {
#define SSE_HOST_OP(name, map, op, pfx, size, flags, mn) SH_##name,
#include "cpu/sse_host_ops.h"
#undef SSE_HOST_OP
    SH_COUNT
};

extern const struct sse_host_row sse_host_rows[SH_COUNT];
/* the row for (map, opcode, prefix) and, for rows with an immediate, imm */
const struct sse_host_row *sse_host_find(unsigned map, unsigned opcode,
                                         unsigned pfx, unsigned imm);
/* run a row on io with the guest MXCSR (all exceptions masked on the host) */
void sse_host_call(struct cpu *cpu, const struct sse_host_row *row,
                   struct sse_io *io);

/* the flags of an operation whose overflow or underflow is unmasked
 * (cpu/sse_xm.c): in = the operands, flags = those of the masked run */
uint32_t sse_xm_flags(const struct sse_host_row *row, const struct sse_io *in,
                      uint32_t mxcsr, uint32_t flags);

/* operand access and checks (cpu/sse_exec.c) */
struct sse_ctx {
    struct cpu *cpu;
    const struct x86_insn *insn;
    unsigned pfx;   /* mandatory prefix: 0, 0x66, 0xf3, 0xf2 */
    uint64_t ea;    /* memory operand offset when insn->mod != 3 */
};

static inline uint8_t *sse_xmm(struct cpu *cpu, unsigned i)
{
    return cpu->s.xsave + FX_XMM + 16 * (i & 15);
}
uint64_t sse_mm(struct cpu *cpu, unsigned i);
void sse_set_mm(struct cpu *cpu, unsigned i, uint64_t v);
void sse_check_sse(struct cpu *cpu);  /* #UD / #NM for SSE instructions */
void sse_check_mmx(struct cpu *cpu);  /* #UD / #NM / #MF, then MMX state */
/* fold the exception flags an operation raised into MXCSR; an unmasked one
 * raises #XM (or #UD without CR4.OSXMMEXCPT) before any result is written */
void sse_mxcsr_raise(struct cpu *cpu, uint32_t flags);
/* the r/m operand: an XMM (or MMX) register or size bytes of memory
 * (zero-extended to 16); align: #GP(0) unless 16-byte aligned */
void sse_read_rm(struct sse_ctx *c, bool mmx, void *buf, unsigned size,
                 bool align);
void sse_write_mem(struct sse_ctx *c, const void *buf, unsigned size,
                   bool align);
uint64_t sse_gpr_rm(struct sse_ctx *c, unsigned size); /* r/m32/64 */
void sse_set_gpr(struct cpu *cpu, unsigned reg, uint64_t v, unsigned size);

bool sse_exec_move(struct sse_ctx *c);
bool sse_exec_shuffle(struct sse_ctx *c);
bool sse_exec_convert(struct sse_ctx *c);
bool sse_exec_state(struct sse_ctx *c);
bool sse_exec_string(struct sse_ctx *c);

#endif
