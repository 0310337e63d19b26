/* x87 unit tests: every valid D8-DF encoding (register forms and memory
 * forms on [rdx]) runs through fpu_exec() and on the host FPU from the same
 * FRSTOR image with random operands (normals, zeros, infinities, NaNs,
 * denormals, unnormals), random precision/rounding/exception masks and a
 * random stack depth (so stack overflow and underflow happen); the FNSAVE
 * images and the memory operand must match. Plus FSAVE/FRSTOR, FSTENV and
 * FXSAVE/FXRSTOR round trips, #NM/#MF, FNSTSW AX and the pointer fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "cpu/fpu_internal.h"
#include "tests/unit/cpu_env.h"

#define GMEM 0x1000   /* guest memory operand */
#define GIMG 0x2000   /* guest FRSTOR/FNSAVE image */

static uint64_t rng_state = 0x1234567887654321ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static struct fx80 rnd_fx80(void)
{
    struct fx80 v = { rnd(), (uint16_t)rnd() };
    unsigned sign = v.se & 0x8000;
    switch (rnd() % 12) {
    case 0: v.se = sign; v.mant = 0; break;                      /* zero */
    case 1: v.se = sign | 0x7fff; v.mant = 1ull << 63; break;    /* inf */
    case 2: v.se = sign | 0x7fff; v.mant |= 3ull << 62; break;   /* QNaN */
    case 3: v.se = sign | 0x7fff; v.mant = (v.mant | 1) & ~(1ull << 62);
            v.mant |= 1ull << 63; break;                         /* SNaN */
    case 4: v.se = sign; v.mant &= ~(1ull << 63); break;          /* denormal */
    case 5: v.se = sign | (0x3fff + rnd() % 64); v.mant &= ~(1ull << 63);
            break;                                               /* unnormal */
    case 6: v.se = sign | (0x3fff + rnd() % 70); v.mant = (1ull << 63) |
            (v.mant & ~((1ull << (rnd() % 64)) - 1)); break;     /* integral */
    case 7: v.se = sign | (rnd() % 2 ? 0x43fe : 0x0001); v.mant |= 1ull << 63;
            break;                                               /* extreme */
    default: v.se = sign | (0x3fff - 40 + rnd() % 80); v.mant |= 1ull << 63;
    }
    return v;
}

static void rnd_mem(uint8_t *m)
{
    for (int i = 0; i < 16; i++)
        m[i] = (uint8_t)rnd();
    switch (rnd() % 6) {
    case 0: memset(m, 0, 8); break;
    case 1: m[3] = 0x7f; m[2] |= 0x80; break;          /* f32 inf/NaN exp */
    case 2: m[7] = 0x7f; m[6] |= 0xf0; break;          /* f64 inf/NaN exp */
    case 3: m[3] &= 0x80; m[2] &= 0x7f; break;         /* f32 denormal */
    case 4: { struct fx80 v = rnd_fx80(); memcpy(m, &v.mant, 8);
              memcpy(m + 8, &v.se, 2); break; }
    }
}

static const uint16_t cws[] = {
    0x037f, 0x027f, 0x007f, 0x077f, 0x0b7f, 0x0f7f, 0x0360, 0x037e, 0x0372,
    0x0377, 0x0b60, 0x0040,
};

/* the host side: FRSTOR img, the instruction, FNSAVE img */
static void host_exec(unsigned code, uint8_t *img, uint8_t *mem,
                      uint8_t flags)
{
    uint64_t ax = (uint64_t)flags << 8;
    switch (code) {
#define X(op, m)                                                              \
    case (op) << 8 | (m):                                                     \
        __asm__ volatile("sahf\n\tfrstor (%1)\n\t.byte " #op "," #m       \
                         "\n\tfnsave (%1)"                                   \
                         : "+a"(ax) : "c"(img), "d"(mem)                      \
                         : "memory", "cc", "st", "st(1)",                     \
                           "st(2)", "st(3)", "st(4)", "st(5)", "st(6)",       \
                           "st(7)");                                          \
        break;
#define X8(op, m) X(op, m) X(op, m + 1) X(op, m + 2) X(op, m + 3) X(op, m + 4) \
                  X(op, m + 5) X(op, m + 6) X(op, m + 7)
#define X64(op) X8(op, 0xc0) X8(op, 0xc8) X8(op, 0xd0) X8(op, 0xd8)           \
                X8(op, 0xe0) X8(op, 0xe8) X8(op, 0xf0) X8(op, 0xf8)
#define XMEM(op) X(op, 0x02) X(op, 0x0a) X(op, 0x12) X(op, 0x1a) X(op, 0x22)  \
                 X(op, 0x2a) X(op, 0x32) X(op, 0x3a)
    X64(0xd8) X64(0xd9) X64(0xda) X64(0xdb) X64(0xdc) X64(0xdd) X64(0xde)
    X64(0xdf)
    XMEM(0xd8) XMEM(0xd9) XMEM(0xda) XMEM(0xdb) XMEM(0xdc) XMEM(0xdd)
    XMEM(0xde) XMEM(0xdf)
#undef X
    }
}

static bool host_valid(unsigned op, unsigned m)
{
    if (m < 0xc0) {
        unsigned reg = (m >> 3) & 7;
        switch (op) {
        case 0xd9: return reg == 0 || reg == 2 || reg == 3 || reg == 5 ||
                          reg == 7;
        case 0xdb: return reg != 4 && reg != 6;
        case 0xdd: return reg <= 3 || reg == 7;
        default: return true;
        }
    }
    switch (op) {
    case 0xd9: return !(m >= 0xd1 && m <= 0xd7) && m != 0xe2 && m != 0xe3 &&
                      m != 0xe6 && m != 0xe7 && m != 0xef;
    case 0xda: return m < 0xe0 || m == 0xe9;
    case 0xdb: return !(m >= 0xe5 && m <= 0xe7) && m < 0xf8;
    case 0xdd: return m < 0xf0;
    case 0xde: return m < 0xd8 || m == 0xd9 || m >= 0xe0;
    case 0xdf: return m != 0xe0 && !(m >= 0xe1 && m <= 0xe7) && m < 0xf8;
    }
    return true;
}

static struct x86_insn make_insn(unsigned op, unsigned modrm, unsigned opsize)
{
    struct x86_insn in = { 0 };
    in.len = 2;
    in.map = MAP_ONE;
    in.opcode = (uint8_t)op;
    in.has_modrm = 1;
    in.mod = modrm >> 6;
    in.reg = (modrm >> 3) & 7;
    in.rm = modrm & 7;
    in.opsize = (uint8_t)opsize;
    in.addrsize = 2;
    in.seg_override = S_NONE;
    in.mem_seg = S_DS;
    in.base = in.index = -1;
    in.scale = 1;
    in.bytes[0] = (uint8_t)op;
    in.bytes[1] = (uint8_t)modrm;
    return in;
}

/* run one guest instruction through the decoder (64-bit decoding, so a
 * memory form's modrm 02+ is [rdx]); returns the vector raised or -1 */
static int guest(unsigned op, unsigned modrm, uint64_t addr)
{
    uint8_t code[15] = { (uint8_t)op, (uint8_t)modrm };
    struct x86_insn in;
    if (modrm < 0xc0)
        code[1] = (uint8_t)((modrm & 0x38) | 2);
    assert_int_equal(x86_decode(&in, code, sizeof(code), 8), 2);
    env.cpu.s.gpr[R_DX] = addr;
    return CATCH(fpu_exec(&env.cpu, &in));
}

static void build_image(uint8_t *img, uint16_t cw, unsigned depth,
                        const struct fx80 *v)
{
    memset(img, 0, 108);
    unsigned top = (8 - depth) & 7;
    uint16_t sw = (uint16_t)(top << 11), tw = 0xffff;
    memcpy(img, &cw, 2);
    memcpy(img + 4, &sw, 2);
    for (unsigned i = 0; i < 8; i++) {
        memcpy(img + 28 + 10 * i, &v[i].mant, 8);
        memcpy(img + 36 + 10 * i, &v[i].se, 2);
        if (i < depth)
            tw &= ~(3u << (2 * ((top + i) & 7))); /* "valid": recomputed */
    }
    memcpy(img + 8, &tw, 2);
}

static int setup(void **state)
{
    env_init();
    env.cpu.s.cr0 |= CR0_NE;
    return 0;
}

static int teardown(void **state)
{
    cpu_destroy(&env.cpu);
    env_free();
    return 0;
}

static int mismatches;

/* prints the first mismatch of an encoding; true if there was one */
static bool compare_images(const uint8_t *g, const uint8_t *h, unsigned op,
                           unsigned m, int iter)
{
    uint16_t gsw, hsw, gcw, hcw, gtw, htw;
    memcpy(&gcw, g, 2); memcpy(&hcw, h, 2);
    memcpy(&gsw, g + 4, 2); memcpy(&hsw, h + 4, 2);
    memcpy(&gtw, g + 8, 2); memcpy(&htw, h + 8, 2);
    if (gcw != hcw || gsw != hsw || gtw != htw || memcmp(g + 28, h + 28, 80)) {
        print_error("%02x %02x iter %d: cw %04x/%04x sw %04x/%04x "
                    "tw %04x/%04x\n", op, m, iter, gcw, hcw, gsw, hsw, gtw,
                    htw);
        for (int i = 0; i < 8; i++)
            print_error("  st%d %04x:%016llx / %04x:%016llx\n", i,
                        *(uint16_t *)(g + 36 + 10 * i),
                        (unsigned long long)*(uint64_t *)(g + 28 + 10 * i),
                        *(uint16_t *)(h + 36 + 10 * i),
                        (unsigned long long)*(uint64_t *)(h + 28 + 10 * i));
        mismatches++;
        return true;
    }
    return false;
}

static void test_differential(void **state)
{
    uint8_t img[108], himg[108] __attribute__((aligned(16)));
    uint8_t hmem[16], gmem[16];
    env.cpu.s.cr0 |= CR0_NE;
    for (unsigned op = 0xd8; op <= 0xdf; op++) {
        for (unsigned m = 0x02; m <= 0xff; m++) {
            if ((m < 0xc0 && (m & 0xc7) != 0x02) || !host_valid(op, m))
                continue;
            for (int iter = 0; iter < 400; iter++) {
                struct fx80 v[8];
                for (int i = 0; i < 8; i++)
                    v[i] = rnd_fx80();
                static const unsigned depths[] = { 0, 1, 2, 3, 3, 3, 5, 7, 8 };
                unsigned depth = depths[rnd() % 9];
                uint16_t cw = cws[rnd() % (sizeof(cws) / 2)];
                build_image(img, cw, depth, v);
                rnd_mem(hmem);
                memcpy(gmem, hmem, 16);
                memcpy(env.ram + GMEM, gmem, 16);
                memcpy(env.ram + GIMG, img, 108);
                memcpy(himg, img, 108);
                uint8_t flags = (uint8_t)(rnd() & (FL_CF | FL_PF | FL_ZF));
                cpu_set_rflags(&env.cpu, FL_FIXED1 | flags);
                /* guest: FRSTOR, the instruction, FNSAVE */
                assert_int_equal(guest(0xdd, 0x20, GIMG), -1);
                int vec = guest(op, m, GMEM);
                assert_int_equal(vec, -1);
                assert_int_equal(guest(0xdd, 0x30, GIMG), -1);
                host_exec(op << 8 | m, himg, hmem, flags);
                bool bad = compare_images(env.ram + GIMG, himg, op, m, iter);
                if (!bad && memcmp(env.ram + GMEM, hmem, 16)) {
                    print_error("%02x %02x iter %d: memory differs\n", op, m,
                                iter);
                    mismatches++;
                    bad = true;
                }
                /* undo a pending unmasked exception for the next FRSTOR */
                fpu_reset(&env.cpu);
                if (bad)
                    break;
            }
        }
    }
    assert_int_equal(mismatches, 0);
}

/* 32-bit and 16-bit real and protected formats restore what they saved */
static void fsave_frstor_format(unsigned fmt)
{
    {
        env.cpu.mode = fmt & 2 ? MODE_PROT : MODE_REAL;
        unsigned opsize = fmt & 1 ? 2 : 4;
        struct fx80 v[8];
        for (int i = 0; i < 8; i++)
            v[i] = rnd_fx80();
        uint8_t img[108];
        build_image(img, 0x0b72, 5, v);
        memcpy(env.ram + GIMG, img, 108);
        assert_int_equal(guest(0xdd, 0x20, GIMG), -1);
        uint8_t before[512];
        memcpy(before, env.cpu.s.xsave, 512);
        struct x86_insn in = make_insn(0xdd, 0x36, opsize);
        in.has_mem = 1;
        in.disp = 0x3000;
        assert_int_equal(CATCH(fpu_exec(&env.cpu, &in)), -1);
        /* FNSAVE reinitialised the FPU */
        assert_int_equal(fpu_fcw(&env.cpu), 0x037f);
        assert_int_equal(env.cpu.s.xsave[FX_FTW], 0);
        in = make_insn(0xdd, 0x26, opsize);
        in.has_mem = 1;
        in.disp = 0x3000;
        assert_int_equal(CATCH(fpu_exec(&env.cpu, &in)), -1);
        assert_memory_equal(env.cpu.s.xsave, before, 4);
        assert_int_equal(env.cpu.s.xsave[FX_FTW], before[FX_FTW]);
        assert_memory_equal(env.cpu.s.xsave + FX_ST, before + FX_ST, 128);
        /* FNSTENV masks all exceptions afterwards */
        in = make_insn(0xd9, 0x36, opsize);
        in.has_mem = 1;
        in.disp = 0x3000;
        assert_int_equal(CATCH(fpu_exec(&env.cpu, &in)), -1);
        assert_int_equal(fpu_fcw(&env.cpu), 0x0b72 | 0x3f);
        uint16_t tw = opsize == 4 ? peek16(0x3008) : peek16(0x3004);
        assert_int_equal(tw, fpu_full_tag_word(&env.cpu));
    }
    env.cpu.mode = MODE_REAL;
}

static void test_fsave_frstor_roundtrip(void **state)
{
    for (unsigned fmt = 0; fmt < 4; fmt++)
        fsave_frstor_format(fmt);
}

static void test_fxsave_roundtrip(void **state)
{
    struct fx80 v[8];
    for (int i = 0; i < 8; i++)
        v[i] = rnd_fx80();
    uint8_t img[108];
    build_image(img, 0x0372, 6, v);
    memcpy(env.ram + GIMG, img, 108);
    assert_int_equal(guest(0xdd, 0x20, GIMG), -1);
    for (int i = 0; i < 16 * 16; i++)
        env.cpu.s.xsave[FX_XMM + i] = (uint8_t)rnd();
    fx_set32(&env.cpu, FX_MXCSR, 0x1f80 | 0x6000 | 0x3);
    env.cpu.s.cr4 |= CR4_OSFXSR;
    uint8_t before[X86_XSAVE_SIZE];
    memcpy(before, env.cpu.s.xsave, sizeof(before));

    struct x86_insn in = { 0 };
    in.map = MAP_0F; in.opcode = 0xae; in.has_modrm = 1; in.mod = 0;
    in.reg = 0; in.has_mem = 1; in.disp = 0x3000; in.base = in.index = -1;
    in.mem_seg = S_DS; in.seg_override = S_NONE; in.addrsize = 2;
    in.opsize = 4; in.scale = 1;
    assert_int_equal(CATCH(fpu_exec(&env.cpu, &in)), -1);
    /* the host's FXSAVE of the same state: same legacy image */
    uint8_t hbuf[512] __attribute__((aligned(16)));
    memcpy(hbuf, env.ram + 0x3000, 512);
    assert_int_equal(peek32(0x3000 + FX_MXCSR), 0x7f83);
    assert_int_equal(peek16(0x3000), 0x0372);
    assert_int_equal(env.ram[0x3000 + FX_FTW], before[FX_FTW]);
    assert_memory_equal(env.ram + 0x3000 + FX_ST, before + FX_ST, 128 + 128);
    /* scramble, FXRSTOR, compare */
    memset(env.cpu.s.xsave, 0x5a, 512);
    in.reg = 1;
    assert_int_equal(CATCH(fpu_exec(&env.cpu, &in)), -1);
    assert_memory_equal(env.cpu.s.xsave, before, 4);
    assert_memory_equal(env.cpu.s.xsave + FX_MXCSR, before + FX_MXCSR, 4);
    assert_memory_equal(env.cpu.s.xsave + FX_ST, before + FX_ST, 128 + 128);
    /* misaligned: #GP; reserved MXCSR bits: #GP */
    in.disp = 0x3008;
    assert_int_equal(CATCH(fpu_exec(&env.cpu, &in)), EXC_GP);
    in.disp = 0x3000;
    poke32(0x3000 + FX_MXCSR, 0x10000);
    assert_int_equal(CATCH(fpu_exec(&env.cpu, &in)), EXC_GP);
}

static void test_exceptions(void **state)
{
    struct fx80 v[8] = { { 1ull << 63, 0x3fff }, { 0, 0 } };
    uint8_t img[108];
    /* divide by zero with ZE unmasked: ES set, #MF on the next FP insn */
    build_image(img, 0x037b, 2, v);
    memcpy(env.ram + GIMG, img, 108);
    assert_int_equal(guest(0xdd, 0x20, GIMG), -1);
    assert_int_equal(guest(0xd8, 0xf1, 0), -1);     /* FDIV ST0, ST1 */
    assert_true(fpu_fsw(&env.cpu) & FSW_ES);
    assert_true(fpu_fsw(&env.cpu) & FSW_B);
    assert_int_equal(guest(0xd9, 0xe8, 0), EXC_MF); /* FLD1 waits */
    struct x86_insn wait = make_insn(0x9b, 0, 4);
    wait.has_modrm = 0;
    assert_int_equal(CATCH(fpu_exec(&env.cpu, &wait)), EXC_MF);
    /* FNSTSW AX does not wait */
    env.cpu.s.gpr[R_AX] = 0xdead0000;
    assert_int_equal(guest(0xdf, 0xe0, 0), -1);
    assert_int_equal(env.cpu.s.gpr[R_AX], 0xdead0000 | fpu_fsw(&env.cpu));
    assert_int_equal(guest(0xdb, 0xe2, 0), -1);     /* FNCLEX */
    assert_false(fpu_fsw(&env.cpu) & (FSW_ES | FSW_ZE | FSW_B));
    assert_int_equal(guest(0xd9, 0xe8, 0), -1);
    /* #NM for EM and TS; WAIT only with MP+TS */
    env.cpu.s.cr0 |= CR0_TS;
    assert_int_equal(guest(0xd9, 0xe8, 0), EXC_NM);
    assert_int_equal(CATCH(fpu_exec(&env.cpu, &wait)), -1);
    env.cpu.s.cr0 |= CR0_MP;
    assert_int_equal(CATCH(fpu_exec(&env.cpu, &wait)), EXC_NM);
    env.cpu.s.cr0 &= ~(CR0_TS | CR0_MP);
    env.cpu.s.cr0 |= CR0_EM;
    assert_int_equal(guest(0xd9, 0xe8, 0), EXC_NM);
    env.cpu.s.cr0 &= ~CR0_EM;
    /* reserved encodings */
    assert_int_equal(guest(0xd9, 0xd1, 0), EXC_UD);
    assert_int_equal(guest(0xdd, 0x2e, 0x100), EXC_UD);
}

static void test_pointers(void **state)
{
    fpu_reset(&env.cpu);
    env.cpu.insn_rip = 0x1234;
    env.cpu.s.seg[S_CS].base = 0x10000;
    poke32(GMEM, 0x3f800000);
    assert_int_equal(guest(0xd9, 0x06, GMEM), -1); /* FLD dword [GMEM] */
    assert_int_equal(fx_get16(&env.cpu, FX_FOP), 0x102);
    assert_int_equal(fx_get64(&env.cpu, FX_FIP), 0x11234);
    assert_int_equal(fx_get64(&env.cpu, FX_FDP), GMEM);
    /* control instructions leave them alone */
    env.cpu.insn_rip = 0x2000;
    assert_int_equal(guest(0xd9, 0x3e, GMEM + 4), -1); /* FNSTCW */
    assert_int_equal(fx_get64(&env.cpu, FX_FIP), 0x11234);
    /* MMX-style state: FXAM of an empty register */
    assert_int_equal(guest(0xdd, 0xc0, 0), -1);        /* FFREE ST0 */
    assert_int_equal(guest(0xd9, 0xe5, 0), -1);        /* FXAM */
    assert_int_equal(fpu_fsw(&env.cpu) & (FSW_C3 | FSW_C2 | FSW_C0),
                     FSW_C3 | FSW_C0);
}

/* FNSTENV in the 32-bit protected-mode layout matches the host's (which
 * runs in that layout) except for the pointer and selector fields */
static void test_fnstenv_layout(void **state)
{
    env.cpu.mode = MODE_PROT;
    for (int iter = 0; iter < 50; iter++) {
        struct fx80 v[8];
        for (int i = 0; i < 8; i++)
            v[i] = rnd_fx80();
        uint8_t img[108], himg[108], henv[28];
        build_image(img, cws[rnd() % (sizeof(cws) / 2)], rnd() % 9, v);
        memcpy(himg, img, 108);
        memcpy(env.ram + GIMG, img, 108);
        assert_int_equal(guest(0xdd, 0x20, GIMG), -1);   /* FRSTOR */
        assert_int_equal(guest(0xd9, 0xc9, 0), -1);      /* FXCH ST1 */
        assert_int_equal(guest(0xd9, 0x30, GMEM), -1);   /* FNSTENV */
        __asm__ volatile("frstor %1\n\tfxch %%st(1)\n\tfnstenv %0\n\tfninit"
                         : "=m"(henv) : "m"(himg)
                         : "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)",
                           "st(6)", "st(7)");
        assert_memory_equal(env.ram + GMEM, henv, 12);      /* CW SW TW */
        assert_int_equal(peek16(GMEM + 18), henv[18] | henv[19] << 8); /* FOP */
        assert_int_equal(peek16(GMEM + 26), henv[26] | henv[27] << 8);
        fpu_reset(&env.cpu);
    }
    env.cpu.mode = MODE_REAL;
}

/* FXSAVE's x87 part (control, status, abridged tags, registers in stack
 * order) matches the host's FXSAVE of the same FRSTOR image */
static void test_fxsave_vs_host(void **state)
{
    env.cpu.s.cr4 |= CR4_OSFXSR;
    for (int iter = 0; iter < 100; iter++) {
        struct fx80 v[8];
        for (int i = 0; i < 8; i++)
            v[i] = rnd_fx80();
        uint8_t img[108];
        uint8_t hfx[512] __attribute__((aligned(16)));
        build_image(img, cws[rnd() % (sizeof(cws) / 2)], rnd() % 9, v);
        memcpy(env.ram + GIMG, img, 108);
        assert_int_equal(guest(0xdd, 0x20, GIMG), -1);    /* FRSTOR */
        struct x86_insn in = make_insn(0x0f, 0x00, 4);
        in.map = MAP_0F;
        in.opcode = 0xae;
        in.has_mem = 1;
        in.disp = 0x3000;
        assert_int_equal(CATCH(fpu_exec(&env.cpu, &in)), -1);
        __asm__ volatile("frstor %1\n\tfxsave %0\n\tfninit"
                         : "=m"(hfx) : "m"(img)
                         : "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)",
                           "st(6)", "st(7)");
        assert_memory_equal(env.ram + 0x3000, hfx, 5);
        for (int i = 0; i < 8; i++)
            assert_memory_equal(env.ram + 0x3000 + FX_ST + 16 * i,
                                hfx + FX_ST + 16 * i, 10);
        fpu_reset(&env.cpu);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_differential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsave_frstor_roundtrip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fxsave_roundtrip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exceptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pointers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fnstenv_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fxsave_vs_host, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
