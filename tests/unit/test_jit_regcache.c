/* The JIT's register cache (jit/jit_regcache.c) against the interpreter
 * (tests/unit/jit_diff.h): long random blocks that keep twelve to
 * fourteen guest registers busy at once, so that the six host registers
 * are given way and refilled all the time, with every operand size (AH..BH
 * too) and every kind that uses the cache (MOV, the ALU group, LEA with
 * any base, index and address size, MOVZX/MOVSX/MOVSXD, INC/DEC, NOT/NEG,
 * shifts and rotates, IMUL, CMOVcc, SETcc, PUSH/POP/PUSHF, BT*, bit
 * scans, POPCNT, BSWAP, CBW/CWD, XCHG, XADD, MUL/DIV, CALL, RET, JMP r),
 * others between them that empty it (CMPXCHG, RCL/RCR, LAHF/SAHF,
 * CLC..., Jcc), memory operands that miss the TLB or fault on an
 * unmapped page in the middle of a block and divide errors (the fault
 * must find every register as the instruction started), and the flags
 * read at the end. test_narrow: the same with byte and word forms on
 * every register (SPL..DIL, R8B..R15B, AH..BH, SP and SI too), worked on
 * in the host register that caches them, and flags read between them. */
#include "tests/unit/jit_diff.h"

#define HANDLER (CODE + 0x8000ull)   /* a HLT of the filler */
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* any register but rSP and rSI (the data pointer) */
static unsigned reg(const struct prog *p)
{
    static const uint8_t r[] = { 0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13,
                                 14, 15 };
    return r[pick(p->mode == M64 ? N(r) : 6)];
}

static unsigned osize(const struct prog *p)
{
    static const unsigned s[] = { 4, 4, 1, 2, 8, 8 };
    return s[pick(p->mode == M64 ? 6 : 4)];
}

/* [66] [REX] op...: REX.W for size 8, REX.R/X/B from r, x, rm; size 1
 * without REX now and then (AH..BH) */
static void prefix(struct prog *p, unsigned size, unsigned r, unsigned x,
                   unsigned rm)
{
    if (size == 2)
        put(p, 0x66);
    unsigned rex = (size == 8 ? 8 : 0) | (r & 8 ? 4 : 0) | (x & 8 ? 2 : 0) |
                   (rm & 8 ? 1 : 0);
    if (p->mode == M64 && (rex || (size == 1 && pick(2))))
        put(p, (uint8_t)(0x40 | rex));
}

/* modrm of a register form, or [rSI + disp32] over four pages (each
 * missing the TLB at first), one in 30 (64-bit) on the unmapped 6-8 MiB */
static void modrm(struct prog *p, unsigned r, unsigned rm, bool mem)
{
    if (!mem) {
        put(p, (uint8_t)(0xc0 | (r & 7) << 3 | (rm & 7)));
        return;
    }
    uint32_t d = (uint32_t)pick(0x3ff0) & ~7u;
    if (p->mode == M64 && pick(30) == 0)
        d = 0x400000;
    put(p, (uint8_t)(0x86 | (r & 7) << 3));
    put32(p, d);
}

/* op (size 1: op8) reg, rm or memory */
static void rr(struct prog *p, unsigned size, uint8_t op, uint8_t op8,
               unsigned r, unsigned rm, bool mem)
{
    prefix(p, size, r, 0, mem ? 0 : rm);
    put(p, size == 1 ? op8 : op);
    modrm(p, r, rm, mem);
}

static void imm(struct prog *p, unsigned size)
{
    if (size == 1) {
        put(p, (uint8_t)rnd());
    } else if (size == 2) {
        put(p, (uint8_t)rnd());
        put(p, (uint8_t)rnd());
    } else {
        put32(p, (uint32_t)(pick(2) ? rnd() : pick(4)));
    }
}

/* LEA r, [base + index * scale + disp] with any registers, or (64-bit)
 * [rIP + disp], and (64-bit) address size: the result wraps as the
 * address and operand sizes say */
static void lea(struct prog *p)
{
    unsigned size = pick(3) ? (p->mode == M64 && pick(2) ? 8 : 4) : 2;
    unsigned r = reg(p), b = pick(p->mode == M64 ? 16 : 8);
    unsigned x = pick(p->mode == M64 ? 16 : 8);
    if (x == 4)
        x = 5;   /* no index encoding: keep one */
    if (p->mode == M64 && pick(3) == 0)
        put(p, 0x67);
    prefix(p, size, r, x, b);
    put(p, 0x8d);
    if (p->mode == M64 && pick(5) == 0) {   /* [rIP + disp32] */
        put(p, (uint8_t)(0x05 | (r & 7) << 3));
        put32(p, (uint32_t)rnd());
        return;
    }
    bool d32 = pick(2);
    put(p, (uint8_t)((d32 ? 0x84 : 0x44) | (r & 7) << 3));
    put(p, (uint8_t)(pick(4) << 6 | (x & 7) << 3 | (b & 7)));
    if (d32)
        put32(p, (uint32_t)rnd());
    else
        put(p, (uint8_t)rnd());
}

static void put_cl(struct prog *p)
{
    static const uint8_t c[] = { 0, 1, 3, 7, 31, 32, 63, 64 };
    put(p, 0xb1);   /* MOV CL, imm8 */
    put(p, c[pick(N(c))]);
}

/* 0F op (F3 first when rep) on reg, rm or memory, size 2, 4 or 8 */
static void op0f(struct prog *p, unsigned size, bool rep, uint8_t op,
                 unsigned r, unsigned rm, bool mem)
{
    if (size == 1)
        size = 4;
    if (rep)
        put(p, 0xf3);
    prefix(p, size, r, 0, mem ? 0 : rm);
    put(p, 0x0f);
    put(p, op);
    modrm(p, r, rm, mem);
}

/* an instruction of the kinds that use the register cache */
static void cached(struct prog *p)
{
    static const uint8_t alu[] = { 0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31,
                                   0x39, 0x85 };
    unsigned size = osize(p), r = reg(p), rm = reg(p);
    bool mem = pick(8) == 0, w = size != 1;
    switch (pick(21)) {
    case 0: case 1: case 2: {   /* ALU r/m, r or r, r/m */
        uint8_t op = alu[pick(N(alu))];
        if (op != 0x85 && pick(2))
            op = (uint8_t)(op + 2);
        rr(p, size, op, (uint8_t)(op - 1), r, rm, mem);
        break;
    }
    case 3: case 4: {   /* ALU r/m, imm */
        bool i8 = size != 1 && pick(2);
        rr(p, size, i8 ? 0x83 : 0x81, 0x80, pick(8), rm, mem);
        imm(p, i8 ? 1 : size);
        break;
    }
    case 5: case 6:   /* MOV r, r/m or r/m, r */
        rr(p, size, pick(2) ? 0x89 : 0x8b, pick(2) ? 0x88 : 0x8a, r, rm, mem);
        break;
    case 7:   /* MOV r, imm */
        prefix(p, size, 0, 0, rm);
        put(p, (uint8_t)((w ? 0xb8 : 0xb0) | (rm & 7)));
        if (size == 8 && pick(2)) {
            put32(p, (uint32_t)rnd());
            put32(p, (uint32_t)rnd());
        } else if (size == 8) {   /* C7: sign-extended imm32 */
            p->b[p->n - 1] = 0xc7;
            put(p, (uint8_t)(0xc0 | (rm & 7)));
            put32(p, (uint32_t)rnd());
        } else {
            imm(p, size);
        }
        break;
    case 8:   /* INC, DEC, NOT, NEG */
        prefix(p, size, 0, 0, mem ? 0 : rm);
        if (pick(2)) {
            put(p, w ? 0xff : 0xfe);
            modrm(p, pick(2), rm, mem);
        } else {
            put(p, w ? 0xf7 : 0xf6);
            modrm(p, 2 + pick(2), rm, mem);
        }
        break;
    case 9:   /* shift or rotate by 1, imm8 or CL (RCL/RCR: the
               * interpreter's) */
        if (pick(3) == 0)
            put_cl(p);
        prefix(p, size, 0, 0, mem ? 0 : rm);
        switch (pick(3)) {
        case 0:
            put(p, w ? 0xd1 : 0xd0);
            modrm(p, pick(8), rm, mem);
            break;
        case 1:
            put(p, w ? 0xd3 : 0xd2);
            modrm(p, pick(8), rm, mem);
            break;
        default:
            put(p, w ? 0xc1 : 0xc0);
            modrm(p, pick(8), rm, mem);
            put(p, (uint8_t)pick(70));
            break;
        }
        break;
    case 10:   /* MOVZX/MOVSX r, r/m8 or r/m16; MOVSXD */
        if (size < 4)
            size = 4;
        if (p->mode == M64 && size == 8 && pick(3) == 0) {
            rr(p, 8, 0x63, 0x63, r, rm, mem);
            break;
        }
        op0f(p, size, false, (uint8_t)(0xb6 + 8 * pick(2) + pick(2)), r, rm,
             mem);
        break;
    case 11:
        lea(p);
        break;
    case 12:   /* IMUL r, r/m [, imm8] */
        if (pick(2)) {
            op0f(p, size, false, 0xaf, r, rm, mem);
            break;
        }
        prefix(p, size == 1 ? 4 : size, r, 0, mem ? 0 : rm);
        put(p, 0x6b);
        modrm(p, r, rm, mem);
        put(p, (uint8_t)rnd());
        break;
    case 13:   /* CMOVcc r, r/m; SETcc r/m8 */
        if (pick(2)) {
            op0f(p, size, false, (uint8_t)(0x40 | pick(16)), r, rm, mem);
            break;
        }
        prefix(p, 1, 0, 0, mem ? 0 : rm);
        put(p, 0x0f);
        put(p, (uint8_t)(0x90 | pick(16)));
        modrm(p, r, rm, mem);
        break;
    case 14:   /* PUSH r or PUSHF ... POP r (perhaps another) */
        if (pick(3) == 0) {
            put(p, 0x9c);
        } else {
            if (rm & 8)
                put(p, 0x41);
            put(p, (uint8_t)(0x50 | (rm & 7)));
        }
        cached(p);
        if (r & 8)
            put(p, 0x41);
        put(p, (uint8_t)(0x58 | (r & 7)));
        break;
    case 15:   /* BT/BTS/BTR/BTC r/m, r or imm8 */
        if (pick(2)) {
            op0f(p, size, false, (uint8_t)(0xa3 + 8 * pick(4)), r, rm, mem);
        } else {
            op0f(p, size, false, 0xba, 4 + pick(4), rm, mem);
            put(p, (uint8_t)pick(70));
        }
        break;
    case 16:   /* BSF, BSR, TZCNT, LZCNT, POPCNT */
        op0f(p, size, pick(2), (uint8_t[]){ 0xbc, 0xbd, 0xb8 }[pick(3)], r,
             rm, mem);
        break;
    case 17:   /* BSWAP, CBW/CWDE/CDQE, CWD/CDQ/CQO */
        if (pick(2)) {
            prefix(p, size == 1 ? 4 : size, 0, 0, rm);
            put(p, 0x0f);
            put(p, (uint8_t)(0xc8 | (rm & 7)));
        } else {
            prefix(p, size == 1 ? 4 : size, 0, 0, 0);
            put(p, (uint8_t)(0x98 + pick(2)));
        }
        break;
    case 18:   /* XCHG, XADD */
        if (pick(2))
            rr(p, size, 0x87, 0x86, r, rm, mem);
        else
            op0f(p, size, false, (uint8_t)(w ? 0xc1 : 0xc0), r, rm, mem);
        break;
    case 19: {   /* CALL the next instruction, POP r, ADD r to point
                  * past the JMP r or PUSH r; RET that follows */
        bool ret = pick(2);
        unsigned lpop = r & 8 ? 2 : 1, ladd = p->mode == M64 ? 4 : 3;
        put(p, 0xe8);
        put32(p, 0);
        if (r & 8)
            put(p, 0x41);
        put(p, (uint8_t)(0x58 | (r & 7)));
        prefix(p, p->mode == M64 ? 8 : 4, 0, 0, r);
        put(p, 0x83);
        put(p, (uint8_t)(0xc0 | (r & 7)));
        put(p, (uint8_t)(lpop + ladd + lpop + 1));
        if (r & 8)
            put(p, 0x41);
        if (ret) {
            put(p, (uint8_t)(0x50 | (r & 7)));
            put(p, 0xc3);
        } else {
            put(p, 0xff);
            put(p, (uint8_t)(0xe0 | (r & 7)));
        }
        break;
    }
    default:   /* MUL, IMUL, DIV, IDIV (#DE now and then) */
        prefix(p, size, 0, 0, mem ? 0 : rm);
        put(p, w ? 0xf7 : 0xf6);
        modrm(p, 4 + pick(pick(3) ? 2 : 4), rm, mem);
        break;
    }
}

/* an instruction that empties the cache */
static void other(struct prog *p)
{
    unsigned size = osize(p), r = reg(p), rm = reg(p);
    switch (pick(4)) {
    case 0:   /* CMPXCHG */
        op0f(p, size, false, size == 1 ? 0xb0 : 0xb1, r, rm, pick(4) == 0);
        break;
    case 1:   /* RCL, RCR */
        prefix(p, size, 0, 0, rm);
        put(p, size == 1 ? 0xd0 : 0xd1);
        modrm(p, 2 + pick(2), rm, false);
        break;
    case 2:   /* Jcc over a NOP: the block ends */
        put(p, (uint8_t)(0x70 | pick(16)));
        put(p, 1);
        put(p, 0x90);
        break;
    default:   /* LAHF, SAHF, CLC, STC, CMC */
        put(p, (uint8_t[]){ 0x9f, 0x9e, 0xf8, 0xf9, 0xf5 }[pick(5)]);
        break;
    }
}

/* an 8- or 16-bit instruction on any register (SPL..DIL and R8B..R15B
 * with REX, AH..BH without, SP and SI too: they stay near the stack and
 * the data), the forms worked on in place and others around them; flags
 * read by the next ones (ADC/SBB, SETcc, CMOVcc, Jcc, PUSHF) */
static void narrow(struct prog *p)
{
    unsigned size = 1 + pick(2), nregs = p->mode == M64 ? 16 : 8;
    unsigned r = pick(nregs), rm = pick(nregs), k = pick(8);
    bool mem = pick(6) == 0, w = size == 2;
    switch (pick(16)) {
    case 0: case 1: case 2:   /* ALU r/m, r or r, r/m; TEST */
        if (k == 7 && pick(2))
            rr(p, size, 0x85, 0x84, r, rm, mem);
        else
            rr(p, size, (uint8_t)(8 * k + 2 * pick(2) + 1),
               (uint8_t)(8 * k + 2 * pick(2)), r, rm, mem);
        break;
    case 3: {   /* ALU r/m, imm (83: a sign-extended imm8) */
        bool i8 = w && pick(2);
        rr(p, size, i8 ? 0x83 : 0x81, 0x80, k, rm, mem);
        imm(p, i8 ? 1 : size);
        break;
    }
    case 4:   /* ALU or TEST AL/AX/EAX/RAX, imm; TEST r/m, imm */
        if (pick(2)) {
            unsigned j = pick(9);
            if (pick(3) == 0)
                size = p->mode == M64 && pick(2) ? 8 : 4;
            unsigned wide = size > 1;
            prefix(p, size, 0, 0, 0);
            put(p, (uint8_t)(j == 8 ? 0xa8 + wide : 8 * j + 4 + wide));
        } else {
            rr(p, size, 0xf7, 0xf6, 0, rm, mem);
        }
        imm(p, size);
        break;
    case 5: case 6:   /* MOV r/m, r or r, r/m */
        rr(p, size, pick(2) ? 0x89 : 0x8b, pick(2) ? 0x88 : 0x8a, r, rm, mem);
        break;
    case 7:   /* MOV r, imm; MOV r/m, imm */
        if (pick(2)) {
            prefix(p, size, 0, 0, rm);
            put(p, (uint8_t)((w ? 0xb8 : 0xb0) | (rm & 7)));
        } else {
            rr(p, size, 0xc7, 0xc6, 0, rm, mem);
        }
        imm(p, size);
        break;
    case 8:   /* INC, DEC, NOT, NEG; 66 40+r / 48+r in 32-bit mode */
        if (p->mode == M32 && w && pick(3) == 0) {
            put(p, 0x66);
            put(p, (uint8_t)(0x40 + 8 * (k % 2) + rm));
        } else if (pick(2)) {
            rr(p, size, 0xff, 0xfe, k % 2, rm, mem);
        } else {
            rr(p, size, 0xf7, 0xf6, 2 + k % 2, rm, mem);
        }
        break;
    case 9: {   /* MOVZX/MOVSX r16/32/64, r/m8 or r/m16 */
        unsigned dsize = (unsigned[]){ 2, 4, 8 }[pick(p->mode == M64 ? 3 : 2)];
        if (dsize > 2)
            r = reg(p);   /* not all of rSP or rSI */
        prefix(p, dsize, r, 0, mem ? 0 : rm);
        if (p->mode == M64 && dsize != 8 && !(r & 8) && !(rm & 8) && pick(2))
            put(p, 0x40);   /* SPL..DIL */
        put(p, 0x0f);
        put(p, (uint8_t)(0xb6 + 8 * pick(2) + pick(2)));
        modrm(p, r, rm, mem);
        break;
    }
    case 10: {   /* CMOVcc r16, r/m16; SETcc r/m8 */
        bool cmov = pick(2);
        prefix(p, cmov ? 2 : 1, r, 0, mem ? 0 : rm);
        put(p, 0x0f);
        put(p, (uint8_t)((cmov ? 0x40 : 0x90) | pick(16)));
        modrm(p, r, rm, mem);
        break;
    }
    case 11:   /* shifts and rotates by 1, imm8 (to 40) or CL */
        if (k == 6)
            k = 4;
        if (pick(3) == 0) {
            put_cl(p);
            rr(p, size, 0xd3, 0xd2, k, rm, mem);
        } else if (pick(2)) {
            rr(p, size, 0xd1, 0xd0, k, rm, mem);
        } else {
            rr(p, size, 0xc1, 0xc0, k, rm, mem);
            put(p, (uint8_t)pick(41));
        }
        break;
    case 12:   /* MUL, IMUL, DIV, IDIV; a zero divisor now and then */
        if (pick(3) == 0) {   /* MOV r, 0 */
            prefix(p, size, 0, 0, rm);
            put(p, (uint8_t)((w ? 0xb8 : 0xb0) | (rm & 7)));
            put(p, 0);
            if (w)
                put(p, 0);
        }
        rr(p, size, 0xf7, 0xf6, 4 + k % 4, rm, mem);
        break;
    case 13:   /* XCHG, XADD */
        if (pick(2))
            rr(p, size, 0x87, 0x86, r, rm, mem);
        else
            op0f(p, size, false, (uint8_t)(w ? 0xc1 : 0xc0), r, rm, mem);
        break;
    case 14:   /* PUSHF, POP r */
        put(p, 0x9c);
        r = reg(p);
        if (r & 8)
            put(p, 0x41);
        put(p, (uint8_t)(0x58 | (r & 7)));
        break;
    default:   /* Jcc over a NOP (the block ends), CLC, STC, CMC */
        if (pick(2)) {
            put(p, (uint8_t)(0x70 | pick(16)));
            put(p, 1);
            put(p, 0x90);
        } else {
            put(p, (uint8_t[]){ 0xf8, 0xf9, 0xf5 }[pick(3)]);
        }
        break;
    }
}

static void load_prog(const struct prog *p)
{
    uint64_t g[16];
    random_gprs(g, NULL);
    g[R_SI] = DATA;
    load_both(p->mode, p->b, p->n, g);
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        for (unsigned i = 0; i < 0x4000; i++)
            vms[k]->ram[DATA + i] = (uint8_t)(i * 131 + (i >> 8) * 7);
        if (p->mode == M64)
            put64(vms[k], PML4 + 0x2000 + 8 * 3, 0);   /* 6-8 MiB unmapped */
        mmu_flush(vms[k]->cpu, true);
    }
    idt_all_to(p->mode, HANDLER);
}

static void test_busy_registers(void **state)
{
    static struct prog p;
    for (unsigned i = 0; i < 1500; i++) {
        p.mode = i % 3 == 2 ? M32 : M64;
        p.n = 0;
        for (unsigned k = 0, n = 20 + pick(60); k < n && p.n < 3900; k++) {
            if (pick(12) == 0)
                other(&p);
            else
                cached(&p);
        }
        put(&p, 0x9c);   /* PUSHF: the last flags */
        put(&p, 0xf4);
        load_prog(&p);
        char what[64];
        snprintf(what, sizeof(what), "program %u (mode %d)", i, p.mode);
        run_both(what);
    }
}

static void test_narrow(void **state)
{
    static struct prog p;
    for (unsigned i = 0; i < 1500; i++) {
        p.mode = i % 3 == 2 ? M32 : M64;
        p.n = 0;
        for (unsigned k = 0, n = 20 + pick(60); k < n && p.n < 3900; k++)
            narrow(&p);
        put(&p, 0x9c);   /* PUSHF: the last flags */
        put(&p, 0xf4);
        load_prog(&p);
        char what[64];
        snprintf(what, sizeof(what), "narrow program %u (mode %d)", i,
                 p.mode);
        run_both(what);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_busy_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
