/* The encoder of jit/emit_x86_sse.h: a mandatory prefix before REX, the
 * 0F / 0F38 / 0F3A escape, the opcode, then ModRM through emit_op_modrm()
 * of jit/emit_x86.c. tests/unit/test_jit_sse.c checks the forms against
 * Capstone. */
#include "jit/emit_x86_sse.h"

static void sse_encode(struct emit *e, struct sse_enc op, bool rex_w,
                       int reg, int rm, struct emit_mem m)
{
    uint8_t bytes[3] = { 0x0f, 0, 0 };
    unsigned n = 1;
    if (op.map == 2)
        bytes[n++] = 0x38;
    else if (op.map == 3)
        bytes[n++] = 0x3a;
    bytes[n++] = op.opcode;
    emit_op_modrm(e, op.pfx, rex_w, bytes, n, reg, rm, m);
}

void emit_sse_rr(struct emit *e, struct sse_enc op, bool rex_w, int reg,
                 int rm)
{
    sse_encode(e, op, rex_w, reg, rm, emit_m(HR_NONE, 0));
}

void emit_sse_rm(struct emit *e, struct sse_enc op, bool rex_w, int reg,
                 struct emit_mem m)
{
    sse_encode(e, op, rex_w, reg, HR_NONE, m);
}

void emit_movdqa_load(struct emit *e, int x, struct emit_mem m)
{
    emit_sse_rm(e, sse_enc(0x66, 1, 0x6f), false, x, m);
}

void emit_movdqa_store(struct emit *e, struct emit_mem m, int x)
{
    emit_sse_rm(e, sse_enc(0x66, 1, 0x7f), false, x, m);
}

void emit_movdqu_load(struct emit *e, int x, struct emit_mem m)
{
    emit_sse_rm(e, sse_enc(0xf3, 1, 0x6f), false, x, m);
}

void emit_movdqu_store(struct emit *e, struct emit_mem m, int x)
{
    emit_sse_rm(e, sse_enc(0xf3, 1, 0x7f), false, x, m);
}

void emit_movq_xr(struct emit *e, int x, int r)
{
    emit_sse_rr(e, sse_enc(0x66, 1, 0x6e), true, x, r);
}

void emit_movq_rx(struct emit *e, int r, int x)
{
    emit_sse_rr(e, sse_enc(0x66, 1, 0x7e), true, x, r);
}

void emit_ldmxcsr(struct emit *e, struct emit_mem m)
{
    emit_sse_rm(e, sse_enc(0, 1, 0xae), false, 2, m);
}

void emit_stmxcsr(struct emit *e, struct emit_mem m)
{
    emit_sse_rm(e, sse_enc(0, 1, 0xae), false, 3, m);
}
