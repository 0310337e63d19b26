/* The JIT's native exchange/compare, multiply/divide and flag
 * instructions against the interpreter (tests/unit/jit_diff.h): random
 * sequences of XCHG, XADD, CMPXCHG, CMPXCHG8B/16B (with and without LOCK),
 * MUL, IMUL, DIV, IDIV, CLC/STC/CMC/CLD/STD, LAHF/SAHF, PUSHF, LEAVE and
 * PAUSE in
 * every operand size, register and memory forms, byte registers AH..BH,
 * mixed with flag producers and consumers (Jcc, SETcc, ADC, PUSHF), in
 * 64-bit and 32-bit mode; a DIV that raises #DE goes to a handler that
 * halts, so the fault is compared too. Then targeted cases: #DE for a zero
 * divisor and for a quotient overflow at the right RIP, and CMPXCHG's
 * both outcomes with the flags consumed in the next block. */
#include "jit/emit_x86.h"
#include "tests/unit/jit_diff.h"

#define HANDLER (CODE + 0xf000)   /* HLT (load_both fills with it) */

static void install_idt(enum mode mode)
{
    idt_all_to(mode, HANDLER);
}

/* --- encoding --- */

struct ops {
    enum mode mode;
    unsigned size;
    bool rex;        /* byte forms: REX present (SPL..DIL, R8B..) */
};

/* a register for an operand of this instruction: never RSP or RSI (the
 * data pointer) as a full register; AH..BH when bytes go without REX */
static unsigned pick_reg(const struct ops *o)
{
    static const unsigned full[] = { 0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12,
                                     13, 14, 15 };
    if (o->size == 1 && !o->rex)
        return pick(8);
    return o->mode == M64 ? full[pick(14)] : full[pick(6)];
}

static struct ops pick_ops(enum mode mode, bool bytes)
{
    static const unsigned s64[] = { 1, 2, 4, 8, 8, 4 };
    static const unsigned s32[] = { 1, 2, 4, 4 };
    struct ops o = { .mode = mode };
    o.size = mode == M64 ? s64[pick(6)] : s32[pick(4)];
    if (!bytes && o.size == 1)
        o.size = 4;
    o.rex = mode == M64 && o.size == 1 && pick(2);
    return o;
}

static uint8_t disp8(void)
{
    return (uint8_t)(pick(0x70) & (pick(2) ? ~0u : ~7u));
}

/* [lock] [66] [REX] [0F] opc modrm: reg, r/m (rm < 0: [rSI + d]) */
static void modrm_insn(struct emit *e, const struct ops *o, bool lock,
                       bool two_byte, uint8_t opc, unsigned reg, int rm,
                       uint8_t d)
{
    if (lock)
        emit_byte(e, 0xf0);
    if (o->size == 2)
        emit_byte(e, 0x66);
    if (o->mode == M64) {
        unsigned rex = (o->size == 8 ? 8u : 0) | (reg & 8 ? 4u : 0) |
                       (rm >= 8 ? 1u : 0);
        if (rex || o->rex)
            emit_byte(e, (uint8_t)(0x40 | rex));
    }
    if (two_byte)
        emit_byte(e, 0x0f);
    emit_byte(e, opc);
    if (rm < 0) {
        emit_byte(e, (uint8_t)(0x46 | (reg & 7) << 3));
        emit_byte(e, d);
    } else {
        emit_byte(e, (uint8_t)(0xc0 | (reg & 7) << 3 | ((unsigned)rm & 7)));
    }
}

static uint8_t wide(const struct ops *o, uint8_t byte_form)
{
    return o->size == 1 ? byte_form : (uint8_t)(byte_form + 1);
}

/* a divisor that is not 0 (mostly), and a dividend that fits (mostly) */
static void div_prep(struct emit *e, const struct ops *o, int rm, uint8_t d,
                     bool sign)
{
    if (pick(4)) {   /* OR r/m, 1 */
        modrm_insn(e, o, false, false, o->size == 1 ? 0x80 : 0x83, 1, rm, d);
        emit_byte(e, 1);
    }
    if (!pick(4))
        return;
    if (o->size == 1) {
        if (sign) {
            emit_byte(e, 0x66);   /* CBW */
            emit_byte(e, 0x98);
        } else {
            emit_byte(e, 0x30);   /* XOR AH, AH */
            emit_byte(e, 0xe4);
        }
    } else if (sign) {            /* CWD/CDQ/CQO */
        if (o->size == 2)
            emit_byte(e, 0x66);
        if (o->size == 8)
            emit_byte(e, 0x48);
        emit_byte(e, 0x99);
    } else {
        emit_byte(e, 0x31);       /* XOR EDX, EDX */
        emit_byte(e, 0xd2);
    }
}

static void flag_consumer(struct emit *e, enum mode mode)
{
    switch (pick(4)) {
    case 0:   /* Jcc over an ADD */
        emit_byte(e, (uint8_t)(0x70 | pick(16)));
        emit_byte(e, 3);
        emit_byte(e, 0x83);
        emit_byte(e, 0xc1);   /* add ecx, imm8 */
        emit_byte(e, 0x11);
        break;
    case 1:   /* SETcc bl */
        emit_byte(e, 0x0f);
        emit_byte(e, (uint8_t)(0x90 | pick(16)));
        emit_byte(e, 0xc3);
        break;
    case 2:   /* ADC edi, ebx */
        emit_byte(e, 0x11);
        emit_byte(e, 0xdf);
        break;
    default:  /* PUSHF; POP rbp */
        emit_byte(e, 0x9c);
        emit_byte(e, 0x5d);
        break;
    }
    (void)mode;
}

static void random_insn(struct emit *e, enum mode mode)
{
    struct ops o = pick_ops(mode, true);
    unsigned reg = pick_reg(&o);
    int rm = pick(2) ? (int)pick_reg(&o) : -1;
    uint8_t d = disp8();
    bool lock = rm < 0 && pick(2);
    switch (pick(16)) {
    case 0: case 1:
        modrm_insn(e, &o, lock, false, wide(&o, 0x86), reg, rm, d); /* XCHG */
        break;
    case 2:
        o = pick_ops(mode, false);
        reg = pick_reg(&o);
        if (o.size == 2)
            emit_byte(e, 0x66);
        if (mode == M64 && (o.size == 8 || reg >= 8))
            emit_byte(e, (uint8_t)(0x40 | (o.size == 8 ? 8 : 0) |
                                   (reg >= 8 ? 1 : 0)));
        emit_byte(e, (uint8_t)(0x90 | (reg & 7)));   /* XCHG rAX, r */
        break;
    case 3: case 4:
        modrm_insn(e, &o, lock, true, wide(&o, 0xc0), reg, rm, d);  /* XADD */
        break;
    case 5: case 6:
        if (pick(2))   /* MOV rAX, the destination: the equal case */
            modrm_insn(e, &o, false, false, wide(&o, 0x8a), 0, rm, d);
        modrm_insn(e, &o, lock, true, wide(&o, 0xb0), reg, rm, d); /* CMPXCHG */
        break;
    case 7: case 8: {
        unsigned digit = 4 + pick(4);   /* MUL IMUL DIV IDIV */
        if (digit >= 6)
            div_prep(e, &o, rm, d, digit == 7);
        modrm_insn(e, &o, false, false, wide(&o, 0xf6), digit, rm, d);
        break;
    }
    case 9: {
        static const uint8_t fl[] = { 0xf8, 0xf9, 0xf5, 0xfc, 0xfd, 0x9f,
                                      0x9e };
        emit_byte(e, fl[pick(7)]);
        break;
    }
    case 10:   /* PUSHF; POP r */
        if (pick(4) == 0)
            emit_byte(e, 0x66);
        emit_byte(e, 0x9c);
        if (pick(4) == 0)
            emit_byte(e, 0x66);
        emit_byte(e, 0x5d);
        break;
    case 11:   /* PUSH rbx; MOV rbp, rsp; LEAVE */
        emit_byte(e, 0x53);
        if (mode == M64)
            emit_byte(e, 0x48);
        emit_byte(e, 0x89);
        emit_byte(e, 0xe5);
        emit_byte(e, 0xc9);
        break;
    case 12:
        if (pick(2)) {   /* PAUSE */
            emit_byte(e, 0xf3);
            emit_byte(e, 0x90);
            break;
        }
        bool x16 = mode == M64 && pick(2);   /* CMPXCHG16B */
        struct ops q = { .mode = mode, .size = x16 ? 8 : 4 };
        if (x16 && pick(4))
            d &= 0xf0;   /* aligned; else #GP */
        if (pick(2)) {   /* rDX:rAX = the operand: the equal case */
            modrm_insn(e, &q, false, false, 0x8b, 0, -1, d);
            modrm_insn(e, &q, false, false, 0x8b, 2, -1,
                       (uint8_t)(d + q.size));
        }
        if (lock)
            emit_byte(e, 0xf0);
        if (x16)
            emit_byte(e, 0x48);
        emit_byte(e, 0x0f);   /* CMPXCHG8B/16B [rsi + d] */
        emit_byte(e, 0xc7);
        emit_byte(e, 0x4e);
        emit_byte(e, d);
        break;
    case 13: case 14:
        flag_consumer(e, mode);
        break;
    default:   /* a flag producer: ALU r, r */
        modrm_insn(e, &o, false, false,
                   (uint8_t)(pick(8) << 3 | (o.size == 1 ? 0 : 1)), reg,
                   (int)pick_reg(&o), 0);
        break;
    }
}

/* small values: divisors and shift counts near their edges */
static uint64_t small_value(void)
{
    return rnd() & 0x3;
}

static void test_random(enum mode mode, unsigned programs)
{
    uint8_t code[4096];
    uint64_t g[16];
    for (unsigned p = 0; p < programs; p++) {
        struct emit e;
        emit_init(&e, code, 4000);
        emit_mov_ri(&e, 4, HR_RSI, DATA);
        for (unsigned i = 0; i < 40; i++)
            random_insn(&e, mode);
        emit_byte(&e, 0xf4);
        assert_false(e.overflow);
        random_gprs(g, small_value);
        load_both(mode, code, e.pos, g);
        install_idt(mode);
        char what[64];
        snprintf(what, sizeof(what), "arith program %u (mode %d)", p, mode);
        run_both(what);
    }
}

static void test_random64(void **state)
{
    test_random(M64, 500);
}

static void test_random32(void **state)
{
    test_random(M32, 400);
}

/* the RIP in the exception frame on the stack */
static uint64_t frame_rip(enum mode mode)
{
    uint64_t sp = vj.cpu->s.gpr[R_SP], rip = 0;
    memcpy(&rip, vj.ram + sp, mode == M64 ? 8 : 4);
    return rip;
}

/*
 *     mov eax, 5 ; add eax, 1 ; xor ecx, ecx ; div ecx ; mov ebx, 7 ; hlt
 */
static const uint8_t prog_div0[] = {
    0xb8, 0x05, 0x00, 0x00, 0x00, 0x83, 0xc0, 0x01, 0x31, 0xc9,
    0xf7, 0xf1, 0xbb, 0x07, 0x00, 0x00, 0x00, 0xf4
};

/*
 *     mov edx, 3 ; mov eax, 1 ; mov ecx, 2 ; div ecx (quotient > 32 bits)
 *     mov ebx, 7 ; hlt
 */
static const uint8_t prog_div_overflow[] = {
    0xba, 0x03, 0x00, 0x00, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xb9,
    0x02, 0x00, 0x00, 0x00, 0xf7, 0xf1, 0xbb, 0x07, 0x00, 0x00, 0x00, 0xf4
};

/*
 *     mov ax, 0x8000 ; mov cl, 0xff ; idiv cl (-32768 / -1) ; hlt
 */
static const uint8_t prog_idiv_overflow[] = {
    0x66, 0xb8, 0x00, 0x80, 0xb1, 0xff, 0xf6, 0xf9, 0xf4
};

static void de_case(enum mode mode, const uint8_t *code, size_t len,
                    uint64_t div_at, const char *what)
{
    load_both(mode, code, len, NULL);
    install_idt(mode);
    run_both(what);
    assert_int_equal(vj.cpu->s.rip, HANDLER + 1);
    assert_int_equal(frame_rip(mode), CODE + div_at);
    assert_int_equal(vj.cpu->s.gpr[R_BX], 0);
}

static void test_divide_error(void **state)
{
    for (int m = 0; m < 2; m++) {
        enum mode mode = m ? M32 : M64;
        de_case(mode, prog_div0, sizeof(prog_div0), 10, "div by 0");
        assert_int_equal(vj.cpu->s.gpr[R_AX], 6);
        de_case(mode, prog_div_overflow, sizeof(prog_div_overflow), 15,
                "div overflow");
        de_case(mode, prog_idiv_overflow, sizeof(prog_idiv_overflow), 6,
                "idiv overflow");
    }
}

/*
 *     mov esi, DATA ; mov dword [rsi], 5 ; mov eax, 5 ; mov ecx, 9
 *     lock cmpxchg [rsi], ecx   ; equal: [rsi] = 9, ZF = 1
 *     jmp n1 ; n1: setz bl
 *     lock cmpxchg [rsi], ecx   ; eax 5 != 9: eax = 9, ZF = 0
 *     jmp n2 ; n2: setz bh ; lock xadd [rsi], eax ; pushf ; hlt
 */
static const uint8_t prog_cmpxchg[] = {
    0xbe, 0x00, 0x00, 0x20, 0x00, 0xc7, 0x06, 0x05, 0x00, 0x00, 0x00,
    0xb8, 0x05, 0x00, 0x00, 0x00, 0xb9, 0x09, 0x00, 0x00, 0x00,
    0xf0, 0x0f, 0xb1, 0x0e, 0xeb, 0x00, 0x0f, 0x94, 0xc3,
    0xf0, 0x0f, 0xb1, 0x0e, 0xeb, 0x00, 0x0f, 0x94, 0xc7,
    0xf0, 0x0f, 0xc1, 0x06, 0x9c, 0xf4
};

static void test_cmpxchg(void **state)
{
    for (int m = 0; m < 2; m++) {
        load_both(m ? M32 : M64, prog_cmpxchg, sizeof(prog_cmpxchg), NULL);
        run_both("cmpxchg");
        assert_int_equal(vj.cpu->s.gpr[R_BX] & 0xffff, 0x0001);
        assert_int_equal(vj.cpu->s.gpr[R_AX], 9);
        uint32_t mem;
        memcpy(&mem, vj.ram + DATA, 4);
        assert_int_equal(mem, 18);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random64),
        cmocka_unit_test(test_random32),
        cmocka_unit_test(test_divide_error),
        cmocka_unit_test(test_cmpxchg),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
