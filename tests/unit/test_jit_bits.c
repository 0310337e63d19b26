/* The JIT's shift, rotate and bit instructions (jit/jit_gen_bits.c)
 * against the interpreter: random programs of SHL/SHR/SAR/ROL/ROR by 1,
 * imm8 and CL, SHLD/SHRD, BT/BTS/BTR/BTC (register and memory, the
 * bit-string form with negative and far offsets, LOCK), BSF/BSR/TZCNT/
 * LZCNT/POPCNT, BSWAP, CBW/CWD and MOV r/m,Sreg, all operand sizes, mixed
 * with flag producers of every record kind and consumers (Jcc, which ends
 * the block, SETcc, ADC, CMOVcc, PUSHF) in 64-bit and 32-bit mode (there
 * also with 16-bit addresses, which wrap the bit strings); then
 * faults in the middle of a block (a rotate and a bit-string BTS on an
 * unmapped page). Registers, RIP, RFLAGS and memory must come out equal. */
#include "tests/unit/jit_diff.h"


#define MEM (-1)   /* the r/m operand is [rSI + disp8] or [SI + disp8] */

/* one instruction: [66] [prefix] [REX] opcode modrm [disp8] [imm8]; rm is
 * a register or MEM; size 1 uses the byte opcode given */
static void enc(struct prog *p, unsigned size, uint8_t pfx, const uint8_t *op,
                unsigned oplen, unsigned reg, int rm, int imm)
{
    if (size == 2)
        put(p, 0x66);
    if (rm == MEM && p->a16)
        put(p, 0x67);   /* 16-bit addressing: offsets wrap at 64 KiB */
    if (pfx)
        put(p, pfx);
    unsigned rex = (size == 8 ? 8 : 0) | (reg & 8 ? 4 : 0) |
                   (rm != MEM && (rm & 8) ? 1 : 0);
    if (rex)
        put(p, (uint8_t)(0x40 | rex));
    for (unsigned i = 0; i < oplen; i++)
        put(p, op[i]);
    if (rm == MEM) {
        put(p, (uint8_t)((p->a16 ? 0x44 : 0x46) | (reg & 7) << 3));
        put(p, (uint8_t)(pick(0x70) & ~7u));
    } else {
        put(p, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
    }
    if (imm >= 0)
        put(p, (uint8_t)imm);
}

/* a register to write: never rSP or rSI (the data pointer) */
static int dst(const struct prog *p)
{
    static const int r64[] = { 0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14,
                               15 };
    static const int r32[] = { 0, 1, 2, 3, 5, 7 };
    return p->mode == M64 ? r64[pick(14)] : r32[pick(6)];
}

static int src(const struct prog *p)
{
    return (int)pick(p->mode == M64 ? 16 : 8);
}

static unsigned vsize(const struct prog *p)
{
    static const unsigned s[] = { 2, 4, 8 };
    return s[pick(p->mode == M64 ? 3 : 2)];
}

static int rm_or_mem(const struct prog *p)
{
    return pick(3) == 0 ? MEM : dst(p);
}

/* counts that matter: 0, 1, width-1, width, beyond, above the mask */
static uint8_t count(void)
{
    static const uint8_t c[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32,
                                 33, 63, 64, 65, 0xff };
    return pick(3) ? c[pick(sizeof(c))] : (uint8_t)rnd();
}

/* MOV r, imm32 (sign-extended with REX.W) */
static void mov_imm(struct prog *p, int r, int32_t v)
{
    unsigned rex = (p->mode == M64 ? 8 : 0) | (r & 8 ? 1 : 0);
    if (rex)
        put(p, (uint8_t)(0x40 | rex));
    put(p, 0xc7);
    put(p, (uint8_t)(0xc0 | (r & 7)));
    for (int i = 0; i < 4; i++)
        put(p, (uint8_t)((uint32_t)v >> (8 * i)));
}

static void shift_insn(struct prog *p)
{
    static const unsigned ops[] = { 0, 1, 4, 5, 6, 7, 0, 1 };
    unsigned digit = ops[pick(8)];
    unsigned size = pick(4) == 0 ? 1 : vsize(p);
    int rm = rm_or_mem(p);
    uint8_t w = size == 1 ? 0 : 1, op;
    switch (pick(3)) {
    case 0: op = (uint8_t)(0xd0 | w); enc(p, size, 0, &op, 1, digit, rm, -1);
        break;
    case 1: op = (uint8_t)(0xc0 | w);
        enc(p, size, 0, &op, 1, digit, rm, count());
        break;
    default:
        put(p, 0xb1);   /* MOV CL, imm8 */
        put(p, count());
        op = (uint8_t)(0xd2 | w);
        enc(p, size, 0, &op, 1, digit, rm, -1);
        break;
    }
}

static void shxd_insn(struct prog *p)
{
    bool cl = pick(2);
    uint8_t op[2] = { 0x0f, (uint8_t)((pick(2) ? 0xa4 : 0xac) + cl) };
    if (cl) {
        put(p, 0xb1);
        put(p, count());
    }
    enc(p, vsize(p), 0, op, 2, (unsigned)src(p), rm_or_mem(p),
        cl ? -1 : count());
}

static void bt_insn(struct prog *p)
{
    static const uint8_t reg_ops[4] = { 0xa3, 0xab, 0xb3, 0xbb };
    unsigned kind = pick(4), size = vsize(p);
    int rm = rm_or_mem(p);
    uint8_t pfx = rm == MEM && kind && pick(2) ? 0xf0 : 0;   /* LOCK */
    if (pick(2)) {
        uint8_t op[2] = { 0x0f, 0xba };
        enc(p, size, pfx, op, 2, 4 + kind, rm, pick(2) ? (int)pick(256)
                                                       : (int)count());
        return;
    }
    int off = dst(p);
    if (rm == MEM) {
        /* a bit offset reaching words before and after the operand */
        mov_imm(p, off, (int32_t)pick(4000) - 1500);
    }
    uint8_t op[2] = { 0x0f, reg_ops[kind] };
    enc(p, size, pfx, op, 2, (unsigned)off, rm, -1);
}

static void scan_insn(struct prog *p)
{
    static const uint8_t ops[5] = { 0xbc, 0xbd, 0xbc, 0xbd, 0xb8 };
    unsigned k = pick(5);
    uint8_t op[2] = { 0x0f, ops[k] };
    int rm = rm_or_mem(p);
    if (rm != MEM && pick(3) == 0)
        mov_imm(p, rm, 0);   /* a zero source */
    enc(p, vsize(p), k >= 2 ? 0xf3 : 0, op, 2, (unsigned)dst(p), rm, -1);
}

static void misc_insn(struct prog *p)
{
    uint8_t op;
    switch (pick(4)) {
    case 0: {   /* BSWAP */
        int r = dst(p);
        unsigned size = pick(5) == 0 ? 2 : vsize(p);
        if (size == 2)
            put(p, 0x66);
        if (size == 8 || (r & 8))
            put(p, (uint8_t)(0x40 | (size == 8 ? 8 : 0) | (r & 8 ? 1 : 0)));
        put(p, 0x0f);
        put(p, (uint8_t)(0xc8 | (r & 7)));
        break;
    }
    case 1:
        op = pick(2) ? 0x98 : 0x99;   /* CBW family, CWD family */
        if (vsize(p) == 2)
            put(p, 0x66);
        else if (p->mode == M64 && pick(2))
            put(p, 0x48);
        put(p, op);
        break;
    default:   /* MOV r/m, Sreg */
        op = 0x8c;
        enc(p, pick(3) == 0 ? 2 : vsize(p), 0, &op, 1, pick(6), rm_or_mem(p),
            -1);
        break;
    }
}

/* flag producers of each record kind, and consumers */
static void flags_insn(struct prog *p)
{
    static const uint8_t alu[] = { 0x01, 0x29, 0x39, 0x85, 0x21, 0x11, 0x19 };
    uint8_t op;
    switch (pick(9)) {
    case 0: case 1:
        op = alu[pick(sizeof(alu))];
        enc(p, vsize(p), 0, &op, 1, (unsigned)src(p), dst(p), -1);
        break;
    case 2:
        op = 0xff;   /* INC/DEC */
        enc(p, vsize(p), 0, &op, 1, pick(2), dst(p), -1);
        break;
    case 3: put(p, pick(2) ? 0xf9 : 0xf8); break;   /* STC, CLC */
    case 4: {   /* Jcc over the next instruction: ends the block */
        put(p, (uint8_t)(0x70 | pick(16)));
        size_t at = p->n;
        put(p, 0);
        shift_insn(p);
        p->b[at] = (uint8_t)(p->n - at - 1);
        break;
    }
    case 5: {   /* SETcc */
        uint8_t o[2] = { 0x0f, (uint8_t)(0x90 | pick(16)) };
        enc(p, 1, 0, o, 2, 0, pick(4), -1);
        break;
    }
    case 6: {   /* CMOVcc */
        uint8_t o[2] = { 0x0f, (uint8_t)(0x40 | pick(16)) };
        enc(p, vsize(p), 0, o, 2, (unsigned)dst(p), src(p), -1);
        break;
    }
    case 7:
        put_pushf_pop(p, (unsigned)dst(p));
        break;
    default:
        put(p, 0xb1);
        put(p, count());
        break;
    }
}

static void random_program(struct prog *p, enum mode mode, unsigned n)
{
    p->n = 0;
    p->mode = mode;
    put(p, 0xbe);   /* MOV ESI, DATA */
    for (int i = 0; i < 4; i++)
        put(p, (uint8_t)(DATA >> (8 * i)));
    for (unsigned i = 0; i < n; i++) {
        p->a16 = mode == M32 && pick(5) == 0;
        switch (pick(12)) {
        case 0: case 1: case 2: shift_insn(p); break;
        case 3: shxd_insn(p); break;
        case 4: case 5: bt_insn(p); break;
        case 6: scan_insn(p); break;
        case 7: misc_insn(p); break;
        default: flags_insn(p); break;
        }
    }
    put(p, 0xf4);   /* HLT */
}

/* one bit set: bit offsets and scans at every position */
static uint64_t single_bit(void)
{
    return 1ull << pick(64);
}

static void test_random(enum mode mode, unsigned programs)
{
    static struct prog p;
    uint64_t g[16];
    for (unsigned i = 0; i < programs; i++) {
        random_program(&p, mode, 40);
        random_gprs(g, single_bit);
        load_both(mode, p.b, p.n, g);
        char what[64];
        snprintf(what, sizeof(what), "bits program %u (mode %d)", i, mode);
        run_both(what);
        if (vj.cpu->s.rip != CODE + p.n)
            fail_msg("%s: stopped at +%llx", what,
                     (unsigned long long)(vj.cpu->s.rip - CODE));
    }
}

static void test_random64(void **state)
{
    test_random(M64, 600);
}

static void test_random32(void **state)
{
    test_random(M32, 400);
}

/* --- faults in the middle of a block --- */

static void run_fault(const uint8_t *code, size_t len, uint64_t *g,
                      const char *what, uint64_t fault_rip, uint64_t cr2)
{
    load_both(M64, code, len, g);
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        put64(vms[k], PML4 + 0x2000 + 8 * 3, 0);   /* 6-8 MiB unmapped */
        vms[k]->ram[0x100800] = 0xf4;
        idt_gate64(vms[k], 14, 0x100800);
        mmu_flush(vms[k]->cpu, true);
    }
    run_both(what);
    assert_int_equal(vj.cpu->s.cr2, cr2);
    assert_int_equal(vj.cpu->s.rip, 0x100801);
    uint64_t sp = vj.cpu->s.gpr[R_SP], rip;
    memcpy(&rip, vj.ram + sp + 8, 8);
    assert_int_equal(rip, fault_rip);
}

/*
 * bits 64
 *     add eax, ebx            ; a record the fault must keep
 *     ror dword [rsi], 3
 *     rol rdx, cl
 *     shl word [rsi+8], cl
 *     ror qword [rdi], 5      ; rdi = 0x600000: #PF
 *     mov edx, 9
 *     hlt
 */
static const uint8_t prog_rot_pf[] = {
    0x01, 0xd8, 0xc1, 0x0e, 0x03, 0x48, 0xd3, 0xc2, 0x66, 0xd3, 0x66, 0x08,
    0x48, 0xc1, 0x0f, 0x05, 0xba, 0x09, 0x00, 0x00, 0x00, 0xf4
};

/*
 * bits 64
 *     sub eax, ebx
 *     bts dword [rsi], ecx     ; ecx = 100: the word at rsi + 12
 *     lock btc qword [rsi], rdx ; rdx: a bit offset 4 MiB up: #PF
 *     mov edx, 9
 *     hlt
 */
static const uint8_t prog_bt_pf[] = {
    0x29, 0xd8, 0x0f, 0xab, 0x0e, 0xf0, 0x48, 0x0f, 0xbb, 0x16, 0xba, 0x09,
    0x00, 0x00, 0x00, 0xf4
};

static void test_faults(void **state)
{
    uint64_t g[16] = { 0 };
    g[R_SI] = DATA;
    g[R_AX] = 0x7fffffff;
    g[R_BX] = 0x7fffffff;
    g[R_CX] = 0x33;
    g[R_DX] = 0x8000000000000001ull;
    g[R_DI] = 0x600000;
    run_fault(prog_rot_pf, sizeof(prog_rot_pf), g, "rotate #PF", CODE + 12,
              0x600000);
    /* ROL by 0x33 ran before the fault */
    assert_int_equal(vj.cpu->s.gpr[R_DX], 0x000c000000000000ull);
    g[R_CX] = 100;
    g[R_DX] = (0x600000ull - DATA) * 8 + 5;
    run_fault(prog_bt_pf, sizeof(prog_bt_pf), g, "bit string #PF", CODE + 5,
              0x600000);
    /* bit 100 of the string: bit 4 of the dword at +12 (was clear) */
    assert_int_equal(vj.ram[DATA + 12], (uint8_t)(12 * 37 + 11) | 0x10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random64),
        cmocka_unit_test(test_random32),
        cmocka_unit_test(test_faults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
