/* The JIT's x86-64 host-code emitter: encodes the host instructions the
 * translator (jit/translate.c) uses into a byte buffer, one function per
 * instruction form. Operand sizes are 1, 2, 4 or 8 bytes; memory operands
 * are [base + index*scale + disp32] (struct emit_mem). When the buffer is
 * full, further bytes are dropped and `overflow` is set: the caller checks it
 * once per block and retries after flushing the code cache.
 * tests/unit/test_jit_emit.c checks every form against Capstone. */
#ifndef JIT_EMIT_X86_H
#define JIT_EMIT_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum host_reg {
    HR_RAX, HR_RCX, HR_RDX, HR_RBX, HR_RSP, HR_RBP, HR_RSI, HR_RDI,
    HR_R8, HR_R9, HR_R10, HR_R11, HR_R12, HR_R13, HR_R14, HR_R15,
    HR_NONE = -1,
};

/* the ALU group (opcode /digit order) */
enum emit_alu {
    EA_ADD, EA_OR, EA_ADC, EA_SBB, EA_AND, EA_SUB, EA_XOR, EA_CMP,
};

/* the shift group (/digit); 6 is not used */
enum emit_shift {
    ES_ROL, ES_ROR, ES_RCL, ES_RCR, ES_SHL, ES_SHR, ES_SAR = 7,
};

/* condition codes: the low nibble of Jcc/SETcc/CMOVcc */
enum emit_cc {
    CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A,
    CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G,
};

struct emit {
    uint8_t *buf;
    size_t size;
    size_t pos;
    bool overflow;
};

struct emit_mem {
    int8_t base;    /* enum host_reg or HR_NONE */
    int8_t index;   /* enum host_reg (not RSP) or HR_NONE */
    uint8_t scale;  /* 1, 2, 4, 8 */
    int32_t disp;
};

static inline struct emit_mem emit_m(int base, int32_t disp)
{
    return (struct emit_mem){ (int8_t)base, HR_NONE, 1, disp };
}

static inline struct emit_mem emit_mi(int base, int index, unsigned scale,
                                      int32_t disp)
{
    return (struct emit_mem){ (int8_t)base, (int8_t)index, (uint8_t)scale,
                              disp };
}

void emit_init(struct emit *e, uint8_t *buf, size_t size);
static inline uint8_t *emit_ptr(const struct emit *e)
{
    return e->buf + e->pos;
}
void emit_byte(struct emit *e, uint8_t b);
void emit_u32(struct emit *e, uint32_t v);

/* any other form (jit/emit_x86_sse.c): a legacy prefix pfx (0: none),
 * REX.W, the opcode bytes, then ModRM with reg (a register or /digit) and
 * register rm, or memory m when rm is HR_NONE */
void emit_op_modrm(struct emit *e, uint8_t pfx, bool rex_w, const uint8_t *op,
                   unsigned oplen, int reg, int rm, struct emit_mem m);

/* moves */
void emit_mov_rr(struct emit *e, unsigned size, int dst, int src);
void emit_mov_ri(struct emit *e, unsigned size, int dst, uint64_t imm);
/* loads of size 1 and 2 zero-extend into the 32-bit register */
void emit_load(struct emit *e, unsigned size, int dst, struct emit_mem m);
/* a plain MOV from memory: 1 and 2 bytes merge into dst, 4 zero-extend */
void emit_load_into(struct emit *e, unsigned size, int dst, struct emit_mem m);
void emit_load_sx(struct emit *e, unsigned dst_size, unsigned src_size,
                  int dst, struct emit_mem m);
void emit_store(struct emit *e, unsigned size, struct emit_mem m, int src);
void emit_store_imm(struct emit *e, unsigned size, struct emit_mem m,
                    int32_t imm);
/* src_size 4 and 8: a plain move (a 32-bit one zero-extends) */
void emit_movzx_rr(struct emit *e, unsigned src_size, int dst, int src);
void emit_movsx_rr(struct emit *e, unsigned dst_size, unsigned src_size,
                   int dst, int src);
void emit_lea(struct emit *e, unsigned size, int dst, struct emit_mem m);
void emit_xchg_rr(struct emit *e, unsigned size, int a, int b);

/* arithmetic */
void emit_alu_rr(struct emit *e, enum emit_alu op, unsigned size, int dst,
                 int src);
void emit_alu_ri(struct emit *e, enum emit_alu op, unsigned size, int dst,
                 int32_t imm);
void emit_alu_rm(struct emit *e, enum emit_alu op, unsigned size, int dst,
                 struct emit_mem m);
void emit_alu_mr(struct emit *e, enum emit_alu op, unsigned size,
                 struct emit_mem m, int src);
void emit_alu_mi(struct emit *e, enum emit_alu op, unsigned size,
                 struct emit_mem m, int32_t imm);
void emit_test_rr(struct emit *e, unsigned size, int a, int b);
void emit_test_ri(struct emit *e, unsigned size, int r, int32_t imm);
void emit_test_mi(struct emit *e, unsigned size, struct emit_mem m,
                  int32_t imm);
void emit_inc(struct emit *e, unsigned size, int r);
void emit_dec(struct emit *e, unsigned size, int r);
void emit_neg(struct emit *e, unsigned size, int r);
void emit_not(struct emit *e, unsigned size, int r);
void emit_imul_rr(struct emit *e, unsigned size, int dst, int src);
/* the one-operand group 3 forms on rDX:rAX (AX for bytes) */
enum emit_muldiv { EM_MUL = 4, EM_IMUL, EM_DIV, EM_IDIV };
void emit_muldiv(struct emit *e, enum emit_muldiv op, unsigned size, int r);
void emit_shift_ri(struct emit *e, enum emit_shift op, unsigned size, int r,
                   uint8_t count);
void emit_shift_rcl(struct emit *e, enum emit_shift op, unsigned size, int r);
/* RORX dst, src, count (BMI2; size 4 or 8): rotate into another register,
 * flags untouched */
void emit_rorx(struct emit *e, unsigned size, int dst, int src,
               uint8_t count);
void emit_bswap(struct emit *e, unsigned size, int r);

/* bit instructions (size 2, 4 or 8): BT r,imm8 / r,r (the /digit of
 * 0F BA), BSF/BSR/POPCNT dst,src, SHLD/SHRD dst,src by imm8 or CL */
enum emit_bt { EB_BT = 4, EB_BTS, EB_BTR, EB_BTC };
void emit_bt_ri(struct emit *e, enum emit_bt op, unsigned size, int r,
                uint8_t bit);
void emit_bt_rr(struct emit *e, enum emit_bt op, unsigned size, int r,
                int bit);
void emit_bsf(struct emit *e, unsigned size, int dst, int src);
void emit_bsr(struct emit *e, unsigned size, int dst, int src);
void emit_popcnt(struct emit *e, unsigned size, int dst, int src);
void emit_shxd_ri(struct emit *e, bool left, unsigned size, int dst, int src,
                  uint8_t count);
void emit_shxd_rcl(struct emit *e, bool left, unsigned size, int dst,
                   int src);

/* flags and conditions */
void emit_setcc(struct emit *e, enum emit_cc cc, int r);  /* 8-bit r */
void emit_setcc_m(struct emit *e, enum emit_cc cc, struct emit_mem m);
void emit_cmov(struct emit *e, enum emit_cc cc, unsigned size, int dst,
               int src);
void emit_pushfq(struct emit *e);
void emit_popfq(struct emit *e);

/* stack and control */
void emit_push(struct emit *e, int r);
void emit_pop(struct emit *e, int r);
void emit_ret(struct emit *e);
void emit_call_r(struct emit *e, int r);
void emit_jmp_r(struct emit *e, int r);
/* absolute call through RAX (clobbered) */
void emit_call_abs(struct emit *e, const void *fn);
/* rel32 jumps: return the offset of the rel32 field for emit_patch_rel32,
 * aimed at `target` when known (NULL: the caller patches later) */
size_t emit_jmp(struct emit *e, const uint8_t *target);
size_t emit_jcc(struct emit *e, enum emit_cc cc, const uint8_t *target);
/* aim the rel32 field at `at` (an address in the buffer) to target */
void emit_patch_rel32(uint8_t *at, const uint8_t *target);

#endif
