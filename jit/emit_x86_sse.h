/* The host SSE instructions the JIT emits for guest SSE code
 * (jit/jit_gen_sse.c): any legacy-encoded SSE instruction by its
 * mandatory prefix, map and opcode (the guest's own encoding, run on the
 * host's vector unit), the moves between XMM registers, memory and GPRs,
 * and LDMXCSR/STMXCSR. XMM registers are numbered 0..15; memory operands
 * are struct emit_mem as for jit/emit_x86.h. */
#ifndef JIT_EMIT_X86_SSE_H
#define JIT_EMIT_X86_SSE_H

#include "jit/emit_x86.h"

/* mandatory prefix (0, 0x66, 0xF2, 0xF3), map (1: 0F, 2: 0F38, 3: 0F3A),
 * opcode */
struct sse_enc {
    uint8_t pfx, map, opcode;
};

static inline struct sse_enc sse_enc(unsigned pfx, unsigned map,
                                     unsigned opcode)
{
    return (struct sse_enc){ (uint8_t)pfx, (uint8_t)map, (uint8_t)opcode };
}

/* op reg, rm (rm a register of the kind the instruction takes) */
void emit_sse_rr(struct emit *e, struct sse_enc op, bool rex_w, int reg,
                 int rm);
/* op reg, [m] */
void emit_sse_rm(struct emit *e, struct sse_enc op, bool rex_w, int reg,
                 struct emit_mem m);

/* 16-byte moves: aligned (MOVDQA) and unaligned (MOVDQU) */
void emit_movdqa_load(struct emit *e, int x, struct emit_mem m);
void emit_movdqa_store(struct emit *e, struct emit_mem m, int x);
void emit_movdqu_load(struct emit *e, int x, struct emit_mem m);
void emit_movdqu_store(struct emit *e, struct emit_mem m, int x);
/* MOVQ xmm, r64 (the upper quadword cleared) and MOVQ r64, xmm */
void emit_movq_xr(struct emit *e, int x, int r);
void emit_movq_rx(struct emit *e, int r, int x);
void emit_ldmxcsr(struct emit *e, struct emit_mem m);
void emit_stmxcsr(struct emit *e, struct emit_mem m);

#endif
