/* The JIT's x86-64 encoder (jit/emit_x86.c) against Capstone: every
 * instruction form over every host register, operand size and memory-operand
 * shape (base, index, scale, disp8/disp32, RSP/R12/RBP/R13 special cases,
 * no base), checking the length, the mnemonic and each operand Capstone
 * reads back; plus known bytes for branches and patching. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#define x86_insn cs_x86_insn
#include <capstone/capstone.h>
#undef x86_insn

#include "jit/emit_x86.h"

static csh cs;

static const char *const reg_names[4][16] = {
    { "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b",
      "r10b", "r11b", "r12b", "r13b", "r14b", "r15b" },
    { "ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w",
      "r11w", "r12w", "r13w", "r14w", "r15w" },
    { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d",
      "r10d", "r11d", "r12d", "r13d", "r14d", "r15d" },
    { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9",
      "r10", "r11", "r12", "r13", "r14", "r15" },
};

static const char *rname(unsigned size, int r)
{
    unsigned i = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    return reg_names[i][r];
}

/* expected operands */
enum { OP_R, OP_M, OP_I };
struct xop {
    int kind;
    unsigned size;
    int reg;
    struct emit_mem m;
    int64_t imm;
};

static struct xop R(unsigned size, int r)
{
    return (struct xop){ .kind = OP_R, .size = size, .reg = r };
}

static struct xop M(unsigned size, struct emit_mem m)
{
    return (struct xop){ .kind = OP_M, .size = size, .m = m };
}

static struct xop I(unsigned size, int64_t v)
{
    return (struct xop){ .kind = OP_I, .size = size, .imm = v };
}

static unsigned checked;

static void check_op(const cs_x86_op *o, const struct xop *x, const char *ctx)
{
    switch (x->kind) {
    case OP_R:
        if (o->type != X86_OP_REG ||
            strcmp(cs_reg_name(cs, o->reg), rname(x->size, x->reg)) != 0)
            fail_msg("%s: want register %s", ctx, rname(x->size, x->reg));
        break;
    case OP_M: {
        if (o->type != X86_OP_MEM)
            fail_msg("%s: want memory", ctx);
        const char *b = o->mem.base ? cs_reg_name(cs, o->mem.base) : "-";
        const char *i = o->mem.index ? cs_reg_name(cs, o->mem.index) : "-";
        const char *wb = x->m.base == HR_NONE ? "-" : rname(8, x->m.base);
        const char *wi = x->m.index == HR_NONE ? "-" : rname(8, x->m.index);
        if (strcmp(b, wb) || strcmp(i, wi) || o->mem.disp != x->m.disp ||
            (x->m.index != HR_NONE && o->mem.scale != x->m.scale) ||
            (x->size && o->size != x->size))
            fail_msg("%s: memory [%s+%s*%d%+lld] size %u, want [%s+%s*%u%+d]"
                     " size %u", ctx, b, i, o->mem.scale,
                     (long long)o->mem.disp, o->size, wb, wi, x->m.scale,
                     x->m.disp, x->size);
        break;
    }
    case OP_I: {
        uint64_t mask = x->size == 8 ? ~0ull : (1ull << (8 * x->size)) - 1;
        if (o->type != X86_OP_IMM ||
            (((uint64_t)o->imm ^ (uint64_t)x->imm) & mask))
            fail_msg("%s: immediate %llx, want %llx", ctx,
                     (unsigned long long)o->imm, (unsigned long long)x->imm);
        break;
    }
    }
}

/* Disassemble what e holds and compare with mnemonic and operands */
static void expect(struct emit *e, const char *mnem, int n, ...)
{
    cs_insn *insn;
    assert_false(e->overflow);
    size_t count = cs_disasm(cs, e->buf, e->pos, 0x1000, 1, &insn);
    char ctx[160];
    snprintf(ctx, sizeof(ctx), "%s (%zu bytes:", mnem, e->pos);
    for (size_t i = 0; i < e->pos && i < 15; i++)
        snprintf(ctx + strlen(ctx), sizeof(ctx) - strlen(ctx), " %02x",
                 e->buf[i]);
    strncat(ctx, ")", sizeof(ctx) - strlen(ctx) - 1);
    if (count != 1)
        fail_msg("%s: Capstone cannot decode it", ctx);
    if (insn->size != e->pos)
        fail_msg("%s: Capstone reads %u bytes (%s %s)", ctx, insn->size,
                 insn->mnemonic, insn->op_str);
    if (strcmp(insn->mnemonic, mnem) != 0)
        fail_msg("%s: Capstone says %s %s", ctx, insn->mnemonic,
                 insn->op_str);
    const cs_x86 *x = &insn->detail->x86;
    if (x->op_count != n)
        fail_msg("%s: %d operands (%s), want %d", ctx, x->op_count,
                 insn->op_str, n);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        struct xop want = va_arg(ap, struct xop);
        check_op(&x->operands[i], &want, ctx);
    }
    va_end(ap);
    cs_free(insn, count);
    e->pos = 0;
    checked++;
}

static uint8_t buf[64];

static struct emit fresh(void)
{
    struct emit e;
    emit_init(&e, buf, sizeof(buf));
    return e;
}

static const unsigned sizes[] = { 1, 2, 4, 8 };

/* a spread of memory operands that covers every ModRM/SIB special case */
static struct emit_mem mem_case(int i)
{
    static const int32_t disps[] = { 0, 8, -128, 127, 128, -129, 0x12345678,
                                     -0x1000 };
    static const unsigned scales[] = { 1, 2, 4, 8 };
    int kind = i % 4;
    int base = (i / 4) % 16;
    int32_t disp = disps[(i / 64) % 8];
    if (kind == 0 || kind == 1)
        return emit_m(base, disp);
    int index = (base * 7 + i / 16) % 16;
    if (index == HR_RSP)
        index = HR_R12;
    if (kind == 2)
        return emit_mi(base, index, scales[(i / 8) % 4], disp);
    return emit_mi(HR_NONE, index, scales[(i / 8) % 4], disp);
}

#define NMEM 512

static void test_moves(void **state)
{
    struct emit e = fresh();
    for (unsigned s = 0; s < 4; s++) {
        unsigned sz = sizes[s];
        for (int d = 0; d < 16; d++) {
            for (int r = 0; r < 16; r++) {
                emit_mov_rr(&e, sz, d, r);
                expect(&e, "mov", 2, R(sz, d), R(sz, r));
            }
            /* a 64-bit constant that fits uses the zero-extending form */
            emit_mov_ri(&e, sz, d, 0x5a);
            expect(&e, "mov", 2, R(sz == 8 ? 4 : sz, d), I(sz, 0x5a));
            if (sz >= 4) {
                emit_mov_ri(&e, sz, d, 0x89abcdefu);
                expect(&e, "mov", 2, R(4, d), I(4, 0x89abcdef));
            }
        }
    }
    for (int d = 0; d < 16; d++) {
        emit_mov_ri(&e, 8, d, 0x123456789abcdef0ull);
        expect(&e, "movabs", 2, R(8, d), I(8, 0x123456789abcdef0ll));
        emit_mov_ri(&e, 8, d, (uint64_t)-5);
        expect(&e, "mov", 2, R(8, d), I(8, -5));
    }
    for (int i = 0; i < NMEM; i++) {
        struct emit_mem m = mem_case(i);
        int r = i % 16;
        for (unsigned s = 0; s < 4; s++) {
            unsigned sz = sizes[s];
            emit_store(&e, sz, m, r);
            expect(&e, "mov", 2, M(sz, m), R(sz, r));
            emit_store_imm(&e, sz, m, -2);
            expect(&e, "mov", 2, M(sz, m), I(sz, -2));
            emit_load(&e, sz, r, m);
            if (sz <= 2)
                expect(&e, "movzx", 2, R(4, r), M(sz, m));
            else
                expect(&e, "mov", 2, R(sz, r), M(sz, m));
            emit_load_into(&e, sz, r, m);
            expect(&e, "mov", 2, R(sz, r), M(sz, m));
        }
        emit_load_sx(&e, 8, 4, r, m);
        expect(&e, "movsxd", 2, R(8, r), M(4, m));
        emit_load_sx(&e, 4, 1, r, m);
        expect(&e, "movsx", 2, R(4, r), M(1, m));
        emit_load_sx(&e, 8, 2, r, m);
        expect(&e, "movsx", 2, R(8, r), M(2, m));
        emit_lea(&e, 8, r, m);
        expect(&e, "lea", 2, R(8, r), M(0, m));
        emit_lea(&e, 4, r, m);
        expect(&e, "lea", 2, R(4, r), M(0, m));
    }
    for (int d = 0; d < 16; d++) {
        for (int r = 0; r < 16; r++) {
            emit_movzx_rr(&e, 1, d, r);
            expect(&e, "movzx", 2, R(4, d), R(1, r));
            emit_movzx_rr(&e, 2, d, r);
            expect(&e, "movzx", 2, R(4, d), R(2, r));
            emit_movzx_rr(&e, 8, d, r);
            expect(&e, "mov", 2, R(8, d), R(8, r));
            emit_movsx_rr(&e, 4, 1, d, r);
            expect(&e, "movsx", 2, R(4, d), R(1, r));
            emit_movsx_rr(&e, 2, 1, d, r);
            expect(&e, "movsx", 2, R(2, d), R(1, r));
            emit_movsx_rr(&e, 8, 2, d, r);
            expect(&e, "movsx", 2, R(8, d), R(2, r));
            emit_movsx_rr(&e, 8, 4, d, r);
            expect(&e, "movsxd", 2, R(8, d), R(4, r));
            emit_xchg_rr(&e, 4, d, r);
            expect(&e, "xchg", 2, R(4, r), R(4, d));
        }
    }
}

static const char *const alu_names[8] = { "add", "or", "adc", "sbb", "and",
                                          "sub", "xor", "cmp" };

static void test_alu(void **state)
{
    struct emit e = fresh();
    for (int op = 0; op < 8; op++) {
        for (unsigned s = 0; s < 4; s++) {
            unsigned sz = sizes[s];
            for (int d = 0; d < 16; d++) {
                int r = (d * 5 + op) % 16;
                emit_alu_rr(&e, op, sz, d, r);
                expect(&e, alu_names[op], 2, R(sz, d), R(sz, r));
                emit_alu_ri(&e, op, sz, d, 3);
                expect(&e, alu_names[op], 2, R(sz, d), I(sz, 3));
                emit_alu_ri(&e, op, sz, d, sz == 1 ? 0x7f : -0x1234);
                expect(&e, alu_names[op], 2, R(sz, d),
                       I(sz, sz == 1 ? 0x7f : -0x1234));
            }
            for (int i = 0; i < NMEM; i += 3) {
                struct emit_mem m = mem_case(i);
                int r = i % 16;
                emit_alu_rm(&e, op, sz, r, m);
                expect(&e, alu_names[op], 2, R(sz, r), M(sz, m));
                emit_alu_mr(&e, op, sz, m, r);
                expect(&e, alu_names[op], 2, M(sz, m), R(sz, r));
                emit_alu_mi(&e, op, sz, m, -1);
                expect(&e, alu_names[op], 2, M(sz, m), I(sz, -1));
                emit_alu_mi(&e, op, sz, m, 0x40);
                expect(&e, alu_names[op], 2, M(sz, m), I(sz, 0x40));
            }
        }
    }
}

static void test_unary_and_shifts(void **state)
{
    static const char *const sh_names[8] = { "rol", "ror", "rcl", "rcr",
                                             "shl", "shr", "", "sar" };
    struct emit e = fresh();
    for (unsigned s = 0; s < 4; s++) {
        unsigned sz = sizes[s];
        for (int r = 0; r < 16; r++) {
            emit_inc(&e, sz, r);
            expect(&e, "inc", 1, R(sz, r));
            emit_dec(&e, sz, r);
            expect(&e, "dec", 1, R(sz, r));
            emit_neg(&e, sz, r);
            expect(&e, "neg", 1, R(sz, r));
            emit_not(&e, sz, r);
            expect(&e, "not", 1, R(sz, r));
            static const char *const md[4] = { "mul", "imul", "div", "idiv" };
            for (unsigned k = 0; k < 4; k++) {
                emit_muldiv(&e, (enum emit_muldiv)(EM_MUL + k), sz, r);
                expect(&e, md[k], 1, R(sz, r));
            }
            emit_test_rr(&e, sz, r, 15 - r);
            expect(&e, "test", 2, R(sz, r), R(sz, 15 - r));
            emit_test_ri(&e, sz, r, 0x41);
            expect(&e, "test", 2, R(sz, r), I(sz, 0x41));
            emit_test_mi(&e, sz, mem_case(r * 5), 0x41);
            expect(&e, "test", 2, M(sz, mem_case(r * 5)), I(sz, 0x41));
            if (sz > 1) {
                emit_imul_rr(&e, sz, r, 15 - r);
                expect(&e, "imul", 2, R(sz, r), R(sz, 15 - r));
                emit_cmov(&e, r, sz, r, 15 - r);
                char name[8];
                static const char *const ccs[16] = {
                    "o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns",
                    "p", "np", "l", "ge", "le", "g" };
                snprintf(name, sizeof(name), "cmov%s", ccs[r]);
                expect(&e, name, 2, R(sz, r), R(sz, 15 - r));
            }
            if (sz >= 4) {
                emit_bswap(&e, sz, r);
                expect(&e, "bswap", 1, R(sz, r));
                emit_rorx(&e, sz, r, 15 - r, 7);
                expect(&e, "rorx", 3, R(sz, r), R(sz, 15 - r), I(1, 7));
            }
            for (int op = 0; op < 8; op++) {
                if (op == 6)
                    continue;
                emit_shift_ri(&e, op, sz, r, 5);
                expect(&e, sh_names[op], 2, R(sz, r), I(1, 5));
                emit_shift_rcl(&e, op, sz, r);
                expect(&e, sh_names[op], 2, R(sz, r), R(1, HR_RCX));
                emit_shift_ri(&e, op, sz, r, 1);
                /* Capstone 4 shows the implicit 1 as an operand */
                cs_insn *insn;
                size_t n = cs_disasm(cs, e.buf, e.pos, 0, 1, &insn);
                assert_int_equal(n, 1);
                assert_int_equal(insn->size, e.pos);
                assert_string_equal(insn->mnemonic, sh_names[op]);
                cs_free(insn, n);
                e.pos = 0;
            }
        }
    }
    static const char *const setcc[16] = {
        "seto", "setno", "setb", "setae", "sete", "setne", "setbe", "seta",
        "sets", "setns", "setp", "setnp", "setl", "setge", "setle", "setg" };
    for (int cc = 0; cc < 16; cc++) {
        for (int r = 0; r < 16; r++) {
            emit_setcc(&e, cc, r);
            expect(&e, setcc[cc], 1, R(1, r));
        }
    }
}

static void test_bits(void **state)
{
    static const char *const bt_names[4] = { "bt", "bts", "btr", "btc" };
    struct emit e = fresh();
    for (unsigned s = 1; s < 4; s++) {
        unsigned sz = sizes[s];
        for (int r = 0; r < 16; r++) {
            for (int op = EB_BT; op <= EB_BTC; op++) {
                emit_bt_ri(&e, op, sz, r, 13);
                expect(&e, bt_names[op - EB_BT], 2, R(sz, r), I(1, 13));
                emit_bt_rr(&e, op, sz, r, 15 - r);
                expect(&e, bt_names[op - EB_BT], 2, R(sz, r), R(sz, 15 - r));
            }
            emit_bsf(&e, sz, r, 15 - r);
            expect(&e, "bsf", 2, R(sz, r), R(sz, 15 - r));
            emit_bsr(&e, sz, r, 15 - r);
            expect(&e, "bsr", 2, R(sz, r), R(sz, 15 - r));
            emit_popcnt(&e, sz, r, 15 - r);
            expect(&e, "popcnt", 2, R(sz, r), R(sz, 15 - r));
            emit_shxd_ri(&e, true, sz, r, 15 - r, 7);
            expect(&e, "shld", 3, R(sz, r), R(sz, 15 - r), I(1, 7));
            emit_shxd_ri(&e, false, sz, r, 15 - r, 7);
            expect(&e, "shrd", 3, R(sz, r), R(sz, 15 - r), I(1, 7));
            emit_shxd_rcl(&e, true, sz, r, 15 - r);
            expect(&e, "shld", 3, R(sz, r), R(sz, 15 - r), R(1, HR_RCX));
            emit_shxd_rcl(&e, false, sz, r, 15 - r);
            expect(&e, "shrd", 3, R(sz, r), R(sz, 15 - r), R(1, HR_RCX));
        }
    }
}

static void test_stack_and_control(void **state)
{
    struct emit e = fresh();
    for (int r = 0; r < 16; r++) {
        emit_push(&e, r);
        expect(&e, "push", 1, R(8, r));
        emit_pop(&e, r);
        expect(&e, "pop", 1, R(8, r));
        emit_call_r(&e, r);
        expect(&e, "call", 1, R(8, r));
        emit_jmp_r(&e, r);
        expect(&e, "jmp", 1, R(8, r));
    }
    emit_ret(&e);
    expect(&e, "ret", 0);
    emit_pushfq(&e);
    expect(&e, "pushfq", 0);
    emit_popfq(&e);
    expect(&e, "popfq", 0);

    /* known bytes: jmp/jcc rel32 and patching */
    uint8_t code[32];
    emit_init(&e, code, sizeof(code));
    size_t j = emit_jmp(&e, code);         /* jump to itself: rel -5 */
    static const uint8_t want_jmp[] = { 0xe9, 0xfb, 0xff, 0xff, 0xff };
    assert_memory_equal(code, want_jmp, 5);
    size_t c = emit_jcc(&e, CC_NE, NULL);
    static const uint8_t want_jcc[] = { 0x0f, 0x85, 0, 0, 0, 0 };
    assert_memory_equal(code + 5, want_jcc, 6);
    emit_patch_rel32(code + c, code + 20);
    assert_int_equal(code[7], 20 - 11);
    emit_patch_rel32(code + j, code + 5);
    assert_int_equal(code[1], 0);

    emit_init(&e, code, sizeof(code));
    emit_call_abs(&e, (void *)(uintptr_t)0x1122334455667788ull);
    static const uint8_t want_call[] = { 0x48, 0xb8, 0x88, 0x77, 0x66, 0x55,
                                         0x44, 0x33, 0x22, 0x11, 0xff, 0xd0 };
    assert_int_equal(e.pos, sizeof(want_call));
    assert_memory_equal(code, want_call, sizeof(want_call));

    /* overflow is sticky and writes nothing past the end */
    uint8_t tiny[4] = { 0xaa, 0xaa, 0xaa, 0xaa };
    emit_init(&e, tiny, 3);
    emit_mov_ri(&e, 4, HR_RAX, 1);
    assert_true(e.overflow);
    assert_int_equal(tiny[3], 0xaa);
}

static void test_count(void **state)
{
    /* sanity: the loops above really compared instructions */
    assert_true(checked > 20000);
}

static int setup(void **state)
{
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
        return -1;
    cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
    return 0;
}

static int teardown(void **state)
{
    cs_close(&cs);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moves),
        cmocka_unit_test(test_alu),
        cmocka_unit_test(test_unary_and_shifts),
        cmocka_unit_test(test_bits),
        cmocka_unit_test(test_stack_and_control),
        cmocka_unit_test(test_count),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
