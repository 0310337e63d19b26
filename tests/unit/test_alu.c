/* Unit tests of cpu/alu.c, cpu/alu.h and cpu/flags.c: every ALU operation
 * at every operand size is compared with the host CPU executing the same
 * instruction on the same inputs and flags, on edge values and on random
 * ones from a fixed seed (TANDEM_ALU_ITERS=N raises the count). The host
 * instruction is assembled into an executable page at run time. BCD
 * instructions, invalid in 64-bit mode, run on the host in 32-bit
 * compatibility mode through a far call to the user 32-bit code segment;
 * where the host kernel lacks it those checks are skipped. On an AMD host
 * all six arithmetic flags are compared, undefined ones included (the
 * model matches Zen); on other hosts only the flags and results the SDM
 * defines. Each result is also checked with the 16 conditions of
 * cc_cond. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "cpu/alu.h"

#if defined(__x86_64__)

/* ---- running one instruction on the host ------------------------------ */

struct host_regs {
    uint64_t rax, rcx, rdx, flags;   /* offsets used by the code below */
};

#define PAGE_RUN64 0x000   /* mov regs in, popf, insn, pushf, mov regs out */
#define PAGE_GATE64 0x200  /* 64-bit side of the far call to 32-bit code */
#define PAGE_CODE32 0x400  /* the 32-bit body */
#define PAGE_SLOT32 14   /* where in it the instruction goes */
#define PAGE_EAX 0x800
#define PAGE_FLAGS 0x804
#define PAGE_SAVE_RSP 0x808
#define PAGE_FARPTR 0x810
#define STACK32_SIZE 0x10000

static uint8_t *page;      /* below 2 GiB, read/write/execute */
static uint8_t *stack32;
static sigjmp_buf trap_jmp;
static volatile sig_atomic_t trap_sig, in_host;
static unsigned iters = 2000;
static bool host_zen;      /* compare undefined flags too */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static int mismatches;

/* #DE (and, for the 32-bit gate, #GP when the host has no 32-bit code
 * segment) while the host runs an instruction; anything else is a crash */
static void on_trap(int sig)
{
    if (!in_host) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    in_host = 0;
    trap_sig = sig;
    siglongjmp(trap_jmp, 1);
}

/* append bytes / a 32-bit value to code being built; return the end */
static uint8_t *emit(uint8_t *p, const char *bytes, unsigned n)
{
    memcpy(p, bytes, n);
    return p + n;
}

static uint8_t *emit32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
    return p + 4;
}

static void host_setup(void)
{
    static const uint8_t run_pro[] = {
        0x48, 0x8b, 0x07, 0x48, 0x8b, 0x4f, 0x08, 0x48, 0x8b, 0x57, 0x10,
        0xff, 0x77, 0x18, 0x9d,
    };
    uint32_t base;
    uint8_t *g, *c;
    struct sigaction sa;
    const char *env = getenv("TANDEM_ALU_ITERS");
    unsigned eax, ebx, ecx, edx;

    if (env && atoi(env) > 0)
        iters = (unsigned)atoi(env);
    host_zen = __get_cpuid(0, &eax, &ebx, &ecx, &edx) &&
               ebx == 0x68747541;                        /* "Auth"enticAMD */
    /* cmocka installs its own handlers for each test */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_trap;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    if (page)
        return;
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    stack32 = mmap(NULL, STACK32_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    assert_true(page != MAP_FAILED && stack32 != MAP_FAILED);
    base = (uint32_t)(uintptr_t)page;
    memcpy(page + PAGE_RUN64, run_pro, sizeof(run_pro));

    /* gate: save callee-saved registers and RSP, switch to the low stack,
     * call far 0x23:code32, come back, restore */
    g = page + PAGE_GATE64;
    g = emit(g, "\x53\x55\x41\x54\x41\x55\x41\x56\x41\x57", 10);
    g = emit32(emit(g, "\x48\x89\x24\x25", 4), base + PAGE_SAVE_RSP);
    g = emit32(emit(g, "\xbc", 1),                      /* mov esp, imm */
               (uint32_t)(uintptr_t)stack32 + STACK32_SIZE - 64);
    g = emit32(emit(g, "\xff\x1c\x25", 3), base + PAGE_FARPTR); /* lcall */
    g = emit32(emit(g, "\x48\x8b\x24\x25", 4), base + PAGE_SAVE_RSP);
    g = emit(g, "\x31\xc0\x8e\xd8", 4);                /* DS = 0 again */
    emit(g, "\x41\x5f\x41\x5e\x41\x5d\x41\x5c\x5d\x5b\xc3", 11);

    /* 32-bit body: DS = SS, EAX and EFLAGS in, insn, out, RETF */
    c = emit(page + PAGE_CODE32, "\x16\x1f", 2);
    c = emit32(emit(c, "\xa1", 1), base + PAGE_EAX);
    c = emit32(emit(c, "\xff\x35", 2), base + PAGE_FLAGS);
    c = emit(c, "\x9d\x90\x90\x9c", 4);     /* popf, 2-byte slot, pushf */
    c = emit32(emit(c, "\x8f\x05", 2), base + PAGE_FLAGS);
    c = emit32(emit(c, "\xa3", 1), base + PAGE_EAX);
    emit(c, "\xcb", 1);
    emit32(page + PAGE_FARPTR, base + PAGE_CODE32);
    emit(page + PAGE_FARPTR + 4, "\x23\x00", 2);
}

/* Put one instruction between the runner's prologue and epilogue. */
static void host_load_bytes(const uint8_t *insn, unsigned len)
{
    static const uint8_t run_epi[] = {
        0x9c, 0x8f, 0x47, 0x18, 0x48, 0x89, 0x07, 0x48, 0x89, 0x4f, 0x08,
        0x48, 0x89, 0x57, 0x10, 0xc3,
    };
    memcpy(page + PAGE_RUN64 + 15, insn, len);
    memcpy(page + PAGE_RUN64 + 15 + len, run_epi, sizeof(run_epi));
}

/* Assemble [66] [F3] [REX.W] opcode modrm. */
static void host_load(unsigned size, bool f3, const uint8_t *op,
                      unsigned oplen, uint8_t modrm)
{
    uint8_t b[15], *p = b;
    if (size == 2)
        *p++ = 0x66;
    if (f3)
        *p++ = 0xf3;
    if (size == 8)
        *p++ = 0x48;
    memcpy(p, op, oplen);
    p += oplen;
    *p++ = modrm;
    host_load_bytes(b, (unsigned)(p - b));
}

/* Returns 0, or -1 when the instruction raised #DE (SIGFPE). */
static int host_exec(struct host_regs *r)
{
    r->flags = (r->flags & FL_ARITH) | 0x202;
    if (sigsetjmp(trap_jmp, 1))
        return -1;
    in_host = 1;
    ((void (*)(struct host_regs *))(void *)(page + PAGE_RUN64))(r);
    in_host = 0;
    r->flags &= FL_ARITH;
    return 0;
}

/* One BCD instruction (2 bytes) in 32-bit mode: AX and flags in and out.
 * Returns 0, -1 for #DE, -2 when the host cannot run 32-bit code. */
static int host_exec32(const uint8_t insn[2], uint16_t *ax, uint64_t *flags)
{
    static int usable = 1;
    uint32_t v;
    if (!usable)
        return -2;
    memcpy(page + PAGE_CODE32 + PAGE_SLOT32, insn, 2);
    v = *ax;
    memcpy(page + PAGE_EAX, &v, 4);
    v = (uint32_t)((*flags & FL_ARITH) | 0x202);
    memcpy(page + PAGE_FLAGS, &v, 4);
    if (sigsetjmp(trap_jmp, 1)) {
        if (trap_sig == SIGFPE)
            return -1;
        usable = 0;
        return -2;
    }
    in_host = 1;
    ((void (*)(void))(void *)(page + PAGE_GATE64))();
    in_host = 0;
    memcpy(&v, page + PAGE_EAX, 4);
    *ax = (uint16_t)v;
    memcpy(&v, page + PAGE_FLAGS, 4);
    *flags = v & FL_ARITH;
    return 0;
}

/* ---- inputs ------------------------------------------------------------ */

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* edge values and random ones, for an operand of `size` bytes */
static uint64_t operand(unsigned size)
{
    unsigned bits = size * 8;
    uint64_t sign = 1ULL << (bits - 1);
    switch (rnd() % 12) {
    case 0: return 0;
    case 1: return 1;
    case 2: return alu_mask(size);
    case 3: return sign;
    case 4: return sign - 1;
    case 5: return sign + 1;
    case 6: return rnd() % 32;
    case 7: return alu_mask(size) - rnd() % 32;
    case 8: return 1ULL << (rnd() % bits);
    default: return rnd();
    }
}

/* the flags before the instruction: eager, or left lazily by an earlier
 * operation of the model (so CF in, INC's kept CF etc. come from every
 * kind of record) */
static void flags_in(struct cpu_cc *cc)
{
    unsigned size = 1u << (rnd() % 4);
    uint64_t a = operand(size), b = operand(size);
    cc_set_eager(cc, rnd());
    switch (rnd() % 9) {
    case 0: alu_add(cc, a, b, size); break;
    case 1: alu_sub(cc, a, b, size); break;
    case 2: alu_xor(cc, a, b, size); break;
    case 3: alu_inc(cc, a, size); break;
    case 4: alu_dec(cc, a, size); break;
    case 5: alu_adc(cc, a, b, size); break;
    case 6: alu_sbb(cc, a, b, size); break;
    case 7: alu_shl(cc, a, (unsigned)b, size); break;
    default: break;
    }
}

static const char *flag_str(uint64_t f)
{
    static char s[8][16];
    static int i;
    char *p = s[i++ & 7];
    snprintf(p, 16, "%c%c%c%c%c%c", f & FL_OF ? 'O' : '-',
             f & FL_SF ? 'S' : '-', f & FL_ZF ? 'Z' : '-',
             f & FL_AF ? 'A' : '-', f & FL_PF ? 'P' : '-',
             f & FL_CF ? 'C' : '-');
    return p;
}

/* compare one result; report the first few mismatches of a run */
static bool check(const char *name, unsigned size, uint64_t a, uint64_t b,
                  uint64_t fin, uint64_t exp_res, uint64_t exp_fl,
                  uint64_t res, const struct cpu_cc *cc, uint64_t undef)
{
    uint64_t fl = cc_flags(cc), m = FL_ARITH & ~(host_zen ? 0 : undef);
    unsigned cond;
    bool bad = res != exp_res || (fl & m) != (exp_fl & m);
    for (cond = 0; cond < 16; cond++) {
        struct cpu_cc eager;
        cc_set_eager(&eager, fl);
        if (cc_cond(cc, cond) != cc_cond(&eager, cond))
            bad = true;
    }
    if (bad && ++mismatches <= 5)
        printf("%s/%u a=%#llx b=%#llx fl=%s: host %#llx %s, model %#llx %s\n",
               name, size, (unsigned long long)a, (unsigned long long)b,
               flag_str(fin), (unsigned long long)exp_res, flag_str(exp_fl),
               (unsigned long long)res, flag_str(fl));
    return bad;
}

static void end_run(const char *what)
{
    if (mismatches)
        fail_msg("%s: %d mismatches with the host", what, mismatches);
}

/* ---- two-operand forms: rax = op(rax, rcx) ---------------------------- */

typedef uint64_t (*alu_fn2)(struct cpu_cc *, uint64_t, uint64_t, unsigned);

struct op2 {
    const char *name;
    uint8_t op8[2], op[2];  /* opcode bytes for size 1 / sizes 2, 4, 8 */
    uint8_t oplen;
    uint8_t modrm;
    uint8_t sizes;          /* bit n: size 1 << n is valid */
    bool f3;
    alu_fn2 fn;
    uint64_t undef;         /* flags the SDM leaves undefined */
    bool count;             /* b is a shift count (CL) */
};

static uint64_t w_cmp(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned s)
{
    alu_cmp(cc, a, b, s);
    return a & alu_mask(s);
}

static uint64_t w_test(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned s)
{
    alu_test(cc, a, b, s);
    return a & alu_mask(s);
}

static uint64_t w_bt(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned s)
{
    alu_bt(cc, a, b, s);
    return a & alu_mask(s);
}

static uint64_t w_imul2(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned s)
{
    return alu_imul(cc, a, b, s, NULL);
}

static uint64_t w_bsf(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned s)
{
    return alu_bsf(cc, b, a, s);
}

static uint64_t w_bsr(struct cpu_cc *cc, uint64_t a, uint64_t b, unsigned s)
{
    return alu_bsr(cc, b, a, s);
}

#define W_UNARY_SRC(n) \
    static uint64_t w_##n(struct cpu_cc *cc, uint64_t a, uint64_t b, \
                          unsigned s) \
    { \
        return alu_##n(cc, b, s); \
    }
W_UNARY_SRC(popcnt)
W_UNARY_SRC(lzcnt)
W_UNARY_SRC(tzcnt)

#define W_UNARY_DST(n) \
    static uint64_t w_##n(struct cpu_cc *cc, uint64_t a, uint64_t b, \
                          unsigned s) \
    { \
        return alu_##n(cc, a, s); \
    }
W_UNARY_DST(inc)
W_UNARY_DST(dec)
W_UNARY_DST(neg)

#define W_SHIFT(n) \
    static uint64_t w_##n(struct cpu_cc *cc, uint64_t a, uint64_t b, \
                          unsigned s) \
    { \
        return alu_##n(cc, a, (unsigned)b & 0xff, s); \
    }
W_SHIFT(shl)
W_SHIFT(shr)
W_SHIFT(sar)
W_SHIFT(rol)
W_SHIFT(ror)
W_SHIFT(rcl)
W_SHIFT(rcr)

#define ALL 0xf
#define WIDE 0xe
#define U_SHIFT (FL_CF | FL_OF | FL_AF)
#define U_MUL (FL_SF | FL_ZF | FL_AF | FL_PF)
#define U_BT (FL_OF | FL_SF | FL_AF | FL_PF)
static const struct op2 ops2[] = {
    {"add", {0x00}, {0x01}, 1, 0xc8, ALL, false, alu_add, 0, false},
    {"or", {0x08}, {0x09}, 1, 0xc8, ALL, false, alu_or, FL_AF, false},
    {"adc", {0x10}, {0x11}, 1, 0xc8, ALL, false, alu_adc, 0, false},
    {"sbb", {0x18}, {0x19}, 1, 0xc8, ALL, false, alu_sbb, 0, false},
    {"and", {0x20}, {0x21}, 1, 0xc8, ALL, false, alu_and, FL_AF, false},
    {"sub", {0x28}, {0x29}, 1, 0xc8, ALL, false, alu_sub, 0, false},
    {"xor", {0x30}, {0x31}, 1, 0xc8, ALL, false, alu_xor, FL_AF, false},
    {"cmp", {0x38}, {0x39}, 1, 0xc8, ALL, false, w_cmp, 0, false},
    {"test", {0x84}, {0x85}, 1, 0xc8, ALL, false, w_test, FL_AF, false},
    {"xadd", {0x0f, 0xc0}, {0x0f, 0xc1}, 2, 0xc8, ALL, false, alu_add, 0,
     false},
    {"inc", {0xfe}, {0xff}, 1, 0xc0, ALL, false, w_inc, 0, false},
    {"dec", {0xfe}, {0xff}, 1, 0xc8, ALL, false, w_dec, 0, false},
    {"neg", {0xf6}, {0xf7}, 1, 0xd8, ALL, false, w_neg, 0, false},
    {"rol", {0xd2}, {0xd3}, 1, 0xc0, ALL, false, w_rol, FL_OF, true},
    {"ror", {0xd2}, {0xd3}, 1, 0xc8, ALL, false, w_ror, FL_OF, true},
    {"rcl", {0xd2}, {0xd3}, 1, 0xd0, ALL, false, w_rcl, FL_OF, true},
    {"rcr", {0xd2}, {0xd3}, 1, 0xd8, ALL, false, w_rcr, FL_OF, true},
    {"shl", {0xd2}, {0xd3}, 1, 0xe0, ALL, false, w_shl, U_SHIFT, true},
    {"shr", {0xd2}, {0xd3}, 1, 0xe8, ALL, false, w_shr, U_SHIFT, true},
    {"sar", {0xd2}, {0xd3}, 1, 0xf8, ALL, false, w_sar, U_SHIFT, true},
    {"sal", {0xd2}, {0xd3}, 1, 0xf0, ALL, false, w_shl, U_SHIFT, true},
    {"imul2", {0}, {0x0f, 0xaf}, 2, 0xc1, WIDE, false, w_imul2, U_MUL, false},
    {"bt", {0}, {0x0f, 0xa3}, 2, 0xc8, WIDE, false, w_bt, U_BT, false},
    {"bts", {0}, {0x0f, 0xab}, 2, 0xc8, WIDE, false, alu_bts, U_BT, false},
    {"btr", {0}, {0x0f, 0xb3}, 2, 0xc8, WIDE, false, alu_btr, U_BT, false},
    {"btc", {0}, {0x0f, 0xbb}, 2, 0xc8, WIDE, false, alu_btc, U_BT, false},
    {"bsf", {0}, {0x0f, 0xbc}, 2, 0xc1, WIDE, false, w_bsf, U_BT | FL_CF,
     false},
    {"bsr", {0}, {0x0f, 0xbd}, 2, 0xc1, WIDE, false, w_bsr, U_BT | FL_CF,
     false},
    {"popcnt", {0}, {0x0f, 0xb8}, 2, 0xc1, WIDE, true, w_popcnt, 0, false},
    {"lzcnt", {0}, {0x0f, 0xbd}, 2, 0xc1, WIDE, true, w_lzcnt, U_BT, false},
    {"tzcnt", {0}, {0x0f, 0xbc}, 2, 0xc1, WIDE, true, w_tzcnt, U_BT, false},
};

static void run_op2(const struct op2 *o, unsigned size)
{
    unsigned i;
    int before = mismatches;
    host_load(size, o->f3, size == 1 ? o->op8 : o->op, o->oplen, o->modrm);
    for (i = 0; i < iters; i++) {
        struct cpu_cc cc;
        struct host_regs r;
        uint64_t a = operand(size), b = operand(size), fin, res;
        if (o->count)
            b = rnd() % 4 ? rnd() % 72 : rnd();
        flags_in(&cc);
        fin = cc_flags(&cc);
        r = (struct host_regs){a, b, rnd(), fin};
        host_exec(&r);
        res = o->fn(&cc, a, b, size);
        check(o->name, size, a, b, fin, r.rax & alu_mask(size), r.flags,
              res, &cc, o->undef);
    }
    if (mismatches != before)
        printf("%s/%u: %d mismatches\n", o->name, size, mismatches - before);
}

static void test_two_operand(void **state)
{
    size_t k;
    unsigned size;
    host_setup();
    mismatches = 0;
    for (k = 0; k < sizeof(ops2) / sizeof(ops2[0]); k++)
        for (size = 1; size <= 8; size *= 2)
            if (ops2[k].sizes & size)
                run_op2(&ops2[k], size);
    end_run("two-operand ops");
}

/* ---- SHLD/SHRD: rax = op(rax, rdx, cl) -------------------------------- */

static void test_double_shift(void **state)
{
    static const uint8_t shld[] = {0x0f, 0xa5}, shrd[] = {0x0f, 0xad};
    unsigned size, i, k;
    host_setup();
    mismatches = 0;
    for (k = 0; k < 2; k++)
        for (size = 2; size <= 8; size *= 2) {
            host_load(size, false, k ? shrd : shld, 2, 0xd0);
            for (i = 0; i < iters; i++) {
                struct cpu_cc cc;
                uint64_t a = operand(size), b = operand(size), fin, res;
                unsigned count = rnd() % 4 ? rnd() % 72 : rnd() & 0xff;
                struct host_regs r;
                if (!host_zen && size == 2 && (count & 31) > 16)
                    continue;              /* undefined result */
                flags_in(&cc);
                fin = cc_flags(&cc);
                r = (struct host_regs){a, count, b, fin};
                host_exec(&r);
                res = k ? alu_shrd(&cc, a, b, count, size)
                        : alu_shld(&cc, a, b, count, size);
                if (check(k ? "shrd" : "shld", size, a, b, fin,
                          r.rax & alu_mask(size), r.flags, res, &cc,
                          FL_OF | FL_AF) &&
                    mismatches <= 3)
                    printf("  count %u\n", count);
            }
        }
    end_run("shld/shrd");
}

/* ---- MUL/IMUL/DIV/IDIV with rcx: F6/F7 /4../7 ------------------------- */

/* a dividend hi:lo and a divisor: random, or small enough to fit */
static void div_inputs(unsigned size, unsigned i,
                       uint64_t *lo, uint64_t *hi, uint64_t *d)
{
    uint64_t m = alu_mask(size), sign = 1ULL << (size * 8 - 1);
    *lo = operand(size);
    *d = operand(size);
    switch (i % 4) {
    case 0: *hi = operand(size); break;
    case 1: *hi = *d & m ? rnd() % (*d & m) : 0; break;
    default: *hi = *lo & sign ? m : 0; break;     /* sign-extended */
    }
    if (i < 6) {          /* the edges, as (hi, lo, divisor) */
        const uint64_t e[6][3] = {
            {m, sign, m},      /* IDIV: most negative single / -1: #DE */
            {sign, 0, m},      /* most negative double / -1: #DE */
            {m - 1, sign, m},  /* DIV: largest quotient that fits */
            {m, m, m},         /* DIV: quotient overflow */
            {0, 0, 0},         /* divide by 0 */
            {m, 1, 1},
        };
        *hi = e[i][0];
        *lo = e[i][1];
        *d = e[i][2];
    }
}

static void test_mul_div(void **state)
{
    static const char *names[] = {"mul", "imul", "div", "idiv"};
    unsigned size, i, k;
    host_setup();
    mismatches = 0;
    for (k = 0; k < 4; k++)
        for (size = 1; size <= 8; size *= 2) {
            uint64_t m = alu_mask(size);
            uint8_t op = size == 1 ? 0xf6 : 0xf7;
            host_load(size, false, &op, 1, (uint8_t)(0xe1 + 8 * k));
            for (i = 0; i < iters; i++) {
                struct cpu_cc cc;
                struct host_regs r;
                uint64_t lo, hi, b, fin, rlo, rhi, mlo, mhi = 0;
                int herr, merr = 0;
                if (k < 2) {
                    lo = operand(size);
                    b = operand(size);
                    hi = rnd();
                } else {
                    div_inputs(size, i, &lo, &hi, &b);
                }
                flags_in(&cc);
                fin = cc_flags(&cc);
                r = (struct host_regs){lo, b, hi, fin};
                if (size == 1)
                    r.rax = (lo & 0xff) | (hi & 0xff) << 8;
                herr = host_exec(&r);
                rlo = size == 1 ? r.rax & 0xff : r.rax & m;
                rhi = size == 1 ? (r.rax >> 8) & 0xff : r.rdx & m;
                if (k == 0)
                    mlo = alu_mul(&cc, lo, b, size, &mhi);
                else if (k == 1)
                    mlo = alu_imul(&cc, lo, b, size, &mhi);
                else if (k == 2)
                    merr = alu_div(&cc, lo, hi, b, size, &mlo, &mhi);
                else
                    merr = alu_idiv(&cc, lo, hi, b, size, &mlo, &mhi);
                if (herr || merr) {
                    if (herr != merr && ++mismatches <= 3)
                        printf("%s/%u %#llx:%#llx / %#llx: #DE host %d "
                               "model %d\n", names[k], size,
                               (unsigned long long)hi, (unsigned long long)lo,
                               (unsigned long long)b, herr, merr);
                    continue;
                }
                check(names[k], size, lo, b, fin, rlo, r.flags, mlo, &cc,
                      k < 2 ? U_MUL : FL_ARITH);
                if (rhi != mhi && ++mismatches <= 3)
                    printf("%s/%u high half: host %#llx model %#llx\n",
                           names[k], size, (unsigned long long)rhi,
                           (unsigned long long)mhi);
            }
        }
    end_run("mul/div");
}

/* ---- CMPXCHG rcx, rdx (accumulator rax) and BSWAP ----------------------- */

static void test_cmpxchg_bswap(void **state)
{
    static const uint8_t cx8[] = {0x0f, 0xb0}, cx[] = {0x0f, 0xb1};
    static const uint8_t bswap[] = {0x0f};
    unsigned size, i;
    host_setup();
    mismatches = 0;
    for (size = 1; size <= 8; size *= 2) {
        uint64_t m = alu_mask(size);
        host_load(size, false, size == 1 ? cx8 : cx, 2, 0xd1);
        for (i = 0; i < iters; i++) {
            struct cpu_cc cc;
            uint64_t acc = operand(size), dst = i & 1 ? acc : operand(size);
            uint64_t src = rnd(), fin;
            struct host_regs r;
            bool eq;
            flags_in(&cc);
            fin = cc_flags(&cc);
            r = (struct host_regs){acc, dst, src, fin};
            host_exec(&r);
            eq = alu_cmpxchg(&cc, acc, dst, size);
            check("cmpxchg", size, acc, dst, fin, (r.rax & m) ^ (r.rcx & m),
                  r.flags, (eq ? acc & m : dst & m) ^ (eq ? src & m : dst & m),
                  &cc, 0);
        }
    }
    for (size = host_zen ? 2 : 4; size <= 8; size *= 2) {
        host_load(size, false, bswap, 1, 0xc8);
        for (i = 0; i < iters; i++) {
            struct cpu_cc cc;
            uint64_t a = operand(size), fin;
            struct host_regs r;
            flags_in(&cc);
            fin = cc_flags(&cc);
            r = (struct host_regs){a, 0, 0, fin};
            host_exec(&r);
            check("bswap", size, a, 0, fin, r.rax & alu_mask(size), r.flags,
                  alu_bswap(a, size), &cc, 0);
        }
    }
    end_run("cmpxchg/bswap");
}

/* ---- BMI1, BMI2, ADX: rax = op(rax, rcx, rdx) -------------------------- */

typedef uint64_t (*alu_fn3)(struct cpu_cc *, uint64_t, uint64_t, uint64_t,
                            unsigned);

struct op3 {
    const char *name;
    uint8_t prefix;       /* VEX: 0; else the legacy prefix (66, F3) */
    uint8_t pp, vvvv;     /* VEX.pp and the VEX.vvvv register */
    uint8_t opcode, modrm;
    alu_fn3 fn;
    uint64_t undef;
};

static uint64_t w_andn(struct cpu_cc *cc, uint64_t x0, uint64_t x1,
                       uint64_t x2, unsigned s)
{
    return alu_andn(cc, x1, x2, s);
}

static uint64_t w_bextr(struct cpu_cc *cc, uint64_t x0, uint64_t x1,
                        uint64_t x2, unsigned s)
{
    return alu_bextr(cc, x2, x1, s);
}

static uint64_t w_bzhi(struct cpu_cc *cc, uint64_t x0, uint64_t x1,
                       uint64_t x2, unsigned s)
{
    return alu_bzhi(cc, x2, x1, s);
}

static uint64_t w_pdep(struct cpu_cc *cc, uint64_t x0, uint64_t x1,
                       uint64_t x2, unsigned s)
{
    return alu_pdep(x1, x2, s);
}

static uint64_t w_pext(struct cpu_cc *cc, uint64_t x0, uint64_t x1,
                       uint64_t x2, unsigned s)
{
    return alu_pext(x1, x2, s);
}

#define W_BLS(n) \
    static uint64_t w_##n(struct cpu_cc *cc, uint64_t x0, uint64_t x1, \
                          uint64_t x2, unsigned s) \
    { \
        return alu_##n(cc, x2, s); \
    }
W_BLS(blsi)
W_BLS(blsmsk)
W_BLS(blsr)

static uint64_t w_adcx(struct cpu_cc *cc, uint64_t x0, uint64_t x1,
                       uint64_t x2, unsigned s)
{
    return alu_adcx(cc, x0, x1, s);
}

static uint64_t w_adox(struct cpu_cc *cc, uint64_t x0, uint64_t x1,
                       uint64_t x2, unsigned s)
{
    return alu_adox(cc, x0, x1, s);
}

static const struct op3 ops3[] = {
    {"andn", 0, 0, 1, 0xf2, 0xc2, w_andn, FL_AF | FL_PF},
    {"bextr", 0, 0, 1, 0xf7, 0xc2, w_bextr, FL_AF | FL_SF | FL_PF},
    {"bzhi", 0, 0, 1, 0xf5, 0xc2, w_bzhi, FL_AF | FL_PF},
    {"pdep", 0, 3, 1, 0xf5, 0xc2, w_pdep, 0},
    {"pext", 0, 2, 1, 0xf5, 0xc2, w_pext, 0},
    {"blsi", 0, 0, 0, 0xf3, 0xda, w_blsi, FL_AF | FL_PF},
    {"blsmsk", 0, 0, 0, 0xf3, 0xd2, w_blsmsk, FL_AF | FL_PF},
    {"blsr", 0, 0, 0, 0xf3, 0xca, w_blsr, FL_AF | FL_PF},
    {"adcx", 0x66, 0, 0, 0xf6, 0xc1, w_adcx, 0},
    {"adox", 0xf3, 0, 0, 0xf6, 0xc1, w_adox, 0},
};

static void test_bmi_adx(void **state)
{
    size_t k;
    unsigned size, i;
    host_setup();
    mismatches = 0;
    for (k = 0; k < sizeof(ops3) / sizeof(ops3[0]); k++)
        for (size = 4; size <= 8; size *= 2) {
            const struct op3 *o = &ops3[k];
            uint8_t b[8], *p = b;
            if (o->prefix) {                  /* [66|F3] [REX.W] 0F 38 op */
                *p++ = o->prefix;
                if (size == 8)
                    *p++ = 0x48;
                *p++ = 0x0f;
                *p++ = 0x38;
            } else {                          /* VEX3, map 0F38 */
                *p++ = 0xc4;
                *p++ = 0xe2;
                *p++ = (uint8_t)((size == 8) << 7 | (~o->vvvv & 15) << 3 |
                                 o->pp);
            }
            *p++ = o->opcode;
            *p++ = o->modrm;
            host_load_bytes(b, (unsigned)(p - b));
            for (i = 0; i < iters; i++) {
                struct cpu_cc cc;
                struct host_regs r;
                uint64_t x0 = operand(size), x1 = operand(size);
                uint64_t x2 = operand(size), fin, res;
                if (i & 1)     /* in-range BEXTR/BZHI controls */
                    x1 = rnd() % 72 | (rnd() % 72) << 8;
                flags_in(&cc);
                fin = cc_flags(&cc);
                r = (struct host_regs){x0, x1, x2, fin};
                host_exec(&r);
                res = o->fn(&cc, x0, x1, x2, size);
                check(o->name, size, x1, x2, fin, r.rax & alu_mask(size),
                      r.flags, res, &cc, o->undef);
            }
        }
    end_run("bmi/adx");
}

/* ---- BCD, on the host in 32-bit mode ------------------------------------ */

/* one BCD instruction on AX with the given flags, against the host */
static void bcd_one(const uint8_t insn[2], uint16_t ax, uint64_t fin)
{
    struct cpu_cc cc;
    uint16_t hax = ax, max = ax;
    uint64_t hfl = fin;
    int herr = host_exec32(insn, &hax, &hfl), merr = 0;
    if (herr == -2)
        return;
    cc_set_eager(&cc, fin);
    switch (insn[0]) {
    case 0x27: max = (ax & 0xff00) | alu_daa(&cc, (uint8_t)ax); break;
    case 0x2f: max = (ax & 0xff00) | alu_das(&cc, (uint8_t)ax); break;
    case 0x37: max = alu_aaa(&cc, ax); break;
    case 0x3f: max = alu_aas(&cc, ax); break;
    case 0xd4: merr = alu_aam(&cc, (uint8_t)ax, insn[1], &max); break;
    default: max = alu_aad(&cc, ax, insn[1]); break;
    }
    if (herr || merr) {
        if (herr != merr && ++mismatches <= 3)
            printf("%02x %02x ax=%#x: #DE host %d model %d\n", insn[0],
                   insn[1], ax, herr, merr);
        return;
    }
    check(insn[0] == 0x27 ? "daa" : insn[0] == 0x2f ? "das" :
          insn[0] == 0x37 ? "aaa" : insn[0] == 0x3f ? "aas" :
          insn[0] == 0xd4 ? "aam" : "aad", 2, ax, insn[1], fin, hax, hfl,
          max, &cc, insn[0] < 0x30 ? FL_OF :
                    insn[0] < 0x40 ? FL_OF | FL_SF | FL_ZF | FL_PF :
                    FL_CF | FL_OF | FL_AF);
}

static void test_bcd(void **state)
{
    static const uint8_t adj[4][2] = {
        {0x27, 0x90}, {0x2f, 0x90}, {0x37, 0x90}, {0x3f, 0x90},
    };
    uint16_t ax = 0;
    uint64_t fl = 0;
    unsigned k, v, f;
    host_setup();
    mismatches = 0;
    if (host_exec32(adj[0], &ax, &fl) == -2)
        skip();
    for (k = 0; k < 4; k++)          /* every AL, CF, AF; AH random */
        for (v = 0; v < 256; v++)
            for (f = 0; f < 4; f++)
                bcd_one(adj[k], (uint16_t)(v | (rnd() & 0xff00)),
                        (rnd() & FL_ARITH & ~(FL_CF | FL_AF)) |
                        (f & 1 ? FL_CF : 0) | (f & 2 ? FL_AF : 0));
    for (v = 0; v < 0x10000; v += 1 + rnd() % 8) {   /* AAM, AAD */
        uint8_t aam[2] = {0xd4, (uint8_t)(v >> 8)};
        uint8_t aad[2] = {0xd5, (uint8_t)(v % 5 ? rnd() : 10)};
        bcd_one(aam, (uint16_t)(v & 0xff), rnd() & FL_ARITH);
        bcd_one(aad, (uint16_t)v, rnd() & FL_ARITH);
    }
    end_run("bcd");
}

#else

static void test_host_missing(void **state)
{
    skip();
}
#define test_two_operand test_host_missing
#define test_double_shift test_host_missing
#define test_mul_div test_host_missing
#define test_cmpxchg_bswap test_host_missing
#define test_bcd test_host_missing
#define test_bmi_adx test_host_missing

#endif

/* ---- RFLAGS merge and the conditions (cpu/flags.c) --------------------- */

static void test_rflags(void **state)
{
    static struct cpu cpu;
    static const uint64_t want_after_add = FL_FIXED1 | FL_IF | FL_DF | FL_CF |
                                           FL_AF | FL_ZF | FL_PF;
    unsigned cond;

    cpu_set_rflags(&cpu, FL_IF | FL_DF | FL_ARITH);
    alu_add(&cpu.cc, 0xff, 1, 1);          /* stale bits must not leak */
    assert_int_equal(cpu_get_rflags(&cpu), want_after_add);
    alu_sub(&cpu.cc, 0x80000000, 1, 4);    /* OF, no CF */
    assert_int_equal(cpu_get_rflags(&cpu),
                     FL_FIXED1 | FL_IF | FL_DF | FL_OF | FL_AF | FL_PF);
    assert_true(cpu_cond(&cpu, 0x0));      /* O */
    assert_false(cpu_cond(&cpu, 0x2));     /* B */
    assert_true(cpu_cond(&cpu, 0xc));      /* L: SF != OF */
    assert_false(cpu_cond(&cpu, 0xf));     /* G */

    /* reserved bits keep their fixed values */
    cpu_set_rflags(&cpu, ~0ULL);
    assert_int_equal(cpu_get_rflags(&cpu), 0x3f7fd7);
    cpu_set_rflags(&cpu, 0);
    assert_int_equal(cpu_get_rflags(&cpu), FL_FIXED1);
    for (cond = 0; cond < 16; cond++)      /* all flags clear */
        assert_int_equal(cpu_cond(&cpu, cond), cond & 1);

    /* INC keeps CF; LAHF-style read after it */
    cpu_set_rflags(&cpu, FL_CF);
    alu_inc(&cpu.cc, 0x7fff, 2);
    assert_int_equal(cpu_get_rflags(&cpu) & FL_ARITH,
                     FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rflags),
        cmocka_unit_test(test_two_operand),
        cmocka_unit_test(test_double_shift),
        cmocka_unit_test(test_mul_div),
        cmocka_unit_test(test_cmpxchg_bswap),
        cmocka_unit_test(test_bmi_adx),
        cmocka_unit_test(test_bcd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
