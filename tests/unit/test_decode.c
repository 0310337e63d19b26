/* Decoder tests: hand-picked encodings with their decoded fields, then the
 * instruction lengths of cpu/decode.c against Capstone on random byte
 * strings in 16-, 32- and 64-bit mode (fixed seed; TANDEM_DECODE_ITERATIONS
 * sets how many per mode, default 200000).
 *
 * Every remaining disagreement falls into one of these classes, each
 * recognised explicitly below; anything else fails the test:
 *  - feature: Capstone decodes instructions of features tandem's CPU does
 *    not expose (VEX/EVEX/XOP at C4/C5/62/8F, 3DNow!, VMX/SVM, SMX GETSEC, SGX, SHA, AES,
 *    PCLMUL, SSE4a, TSX, ADX, SMAP, MONITOR/MWAIT, XSAVES/XSAVEC, RSM ...);
 *    the CPU raises #UD for them.
 *  - lock: Capstone accepts LOCK on instructions or forms that do not allow
 *    it (register destination, non-lockable opcodes); the CPU raises #UD.
 *  - prefix: Capstone ignores a 66/F2/F3 prefix that selects no form of an
 *    MMX/SSE opcode (e.g. F3 0F FC); tandem raises #UD, as QEMU does.
 *  - sysreg: MOV to/from a control, debug or segment register that does not
 *    exist (CR1, CR5-7, CR9+, DR8+, Sreg 6/7, MOV CS,r/m): #UD on the CPU,
 *    Capstone accepts them.
 *  - syscall: SYSCALL/SYSRET/SWAPGS outside 64-bit mode are #UD on Intel;
 *    Capstone decodes them (AMD allows SYSCALL in legacy mode).
 *  - ud01: Capstone 4 decodes UD0 (0F FF) and UD1 (0F B9) without a modrm
 *    byte; the SDM gives both a modrm operand.
 *  - branch66: in 64-bit mode Intel CPUs ignore 66 on near branches and
 *    returns (rel32 stays); Capstone uses AMD's 16-bit reading, and takes
 *    67 for 66 there too.
 *  - bnd66: Capstone drops the 66 of a branch or push that also carries
 *    F2/F3 (BND); the CPU uses the 16-bit operand size.
 *  - pfxorder: Capstone wants the mandatory prefix (66/F2/F3) right before
 *    the opcode; the CPU accepts legacy prefixes in any order (and uses
 *    only the last REX).
 *  - cs67: Capstone sometimes takes 67 as the mandatory prefix 66 (e.g.
 *    67 0F D0 as ADDSUBPD).
 *  - ignoredrep: Capstone rejects F2/F3 on instructions where the CPU
 *    ignores them (MOV moffs, MOV Sreg, ...).
 *  - fence: LFENCE/MFENCE/SFENCE ignore modrm.rm (SDM); Capstone takes
 *    only rm = 0.
 *  - hintnop: 0F 19-1F are reserved/hint NOPs with a modrm operand in every
 *    form; Capstone rejects many of them (register forms, reg != 0).
 *  - x87: Capstone rejects reserved x87 encodings (e.g. DD /5 memory);
 *    tandem routes all of D8-DF to the x87 unit, which raises #UD for them.
 *  - cs16sse: Capstone 4 in 16-bit mode does not decode several 66-prefixed
 *    SSE forms (PTEST, PMOVZX, ADDSUBPD ...) that the CPU executes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define x86_insn cs_x86_insn /* Capstone's enum has the same tag */
#include <capstone/capstone.h>
#undef x86_insn

#include "cpu/decode.h"
#include "cpu/opcode_table.h"
#include "cpu/x86_state.h"

static int decode(struct x86_insn *in, const char *hex, unsigned mode)
{
    uint8_t b[32];
    unsigned n = 0;
    for (const char *p = hex; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        unsigned v;
        sscanf(p, "%2x", &v);
        b[n++] = v;
        p += 2;
    }
    return x86_decode(in, b, n, mode);
}

static void test_basic_forms(void **state)
{
    struct x86_insn in;
    (void)state;
    /* add [rbx+rcx*4+0x10], eax */
    assert_int_equal(decode(&in, "01 44 8b 10", 8), 4);
    assert_int_equal(in.op->id, I_ADD);
    assert_int_equal(in.base, R_BX);
    assert_int_equal(in.index, R_CX);
    assert_int_equal(in.scale, 4);
    assert_int_equal(in.disp, 0x10);
    assert_int_equal(in.opsize, 4);
    assert_int_equal(in.mem_seg, S_DS);
    /* mov rax, [rip+0x100] */
    assert_int_equal(decode(&in, "48 8b 05 00 01 00 00", 8), 7);
    assert_true(in.rip_relative);
    assert_int_equal(in.opsize, 8);
    assert_int_equal(in.disp, 0x100);
    /* 32-bit mode: mod 0 rm 5 is absolute */
    assert_int_equal(decode(&in, "8b 05 00 01 00 00", 4), 6);
    assert_false(in.rip_relative);
    assert_int_equal(in.base, -1);
    /* mov ax, [bp+di-2] in 16-bit mode: SS default */
    assert_int_equal(decode(&in, "8b 43 fe", 2), 3);
    assert_int_equal(in.base, R_BP);
    assert_int_equal(in.index, R_DI);
    assert_int_equal(in.mem_seg, S_SS);
    assert_int_equal(in.disp, -2);
    /* [esp+8] and [ebp] default to SS, [r12]/[r13] do not */
    assert_int_equal(decode(&in, "8b 44 24 08", 4), 4);
    assert_int_equal(in.mem_seg, S_SS);
    assert_int_equal(decode(&in, "41 8b 45 00", 8), 4);
    assert_int_equal(in.base, R_R13);
    assert_int_equal(in.mem_seg, S_DS);
    /* segment override; ignored for DS/ES/SS/CS in 64-bit mode */
    assert_int_equal(decode(&in, "26 8b 44 24 08", 4), 5);
    assert_int_equal(in.mem_seg, S_ES);
    assert_int_equal(decode(&in, "26 8b 44 24 08", 8), 5);
    assert_int_equal(in.mem_seg, S_SS);
    assert_int_equal(decode(&in, "65 8b 04 25 28 00 00 00", 8), 8);
    assert_int_equal(in.mem_seg, S_GS);
    assert_int_equal(in.base, -1);
    assert_int_equal(in.index, -1);
    /* moffs: 8 bytes in 64-bit mode, 4 with 67 */
    assert_int_equal(decode(&in, "a1 88 77 66 55 44 33 22 11", 8), 9);
    assert_int_equal((uint64_t)in.disp, 0x1122334455667788ull);
    assert_int_equal(decode(&in, "67 a1 88 77 66 55", 8), 6);
    /* mov r64, imm64 and REX.B */
    assert_int_equal(decode(&in, "49 b8 01 02 03 04 05 06 07 08", 8), 10);
    assert_int_equal(in.rm, R_R8);
    assert_int_equal(in.imm, 0x0807060504030201ll);
    /* REX followed by a legacy prefix is ignored */
    assert_int_equal(decode(&in, "48 66 89 c0", 8), 4);
    assert_int_equal(in.rex, 0);
    assert_int_equal(in.opsize, 2);
    /* push defaults to 64-bit, 66 makes it 16 */
    assert_int_equal(decode(&in, "50", 8), 1);
    assert_int_equal(in.opsize, 8);
    assert_int_equal(decode(&in, "66 50", 8), 2);
    assert_int_equal(in.opsize, 2);
    /* 83 /0 sign-extends its byte; enter Iw,Ib */
    assert_int_equal(decode(&in, "83 c0 ff", 4), 3);
    assert_int_equal(in.imm, -1);
    assert_int_equal(decode(&in, "c8 10 00 02", 4), 4);
    assert_int_equal(in.imm, 0x10);
    assert_int_equal(in.imm2, 2);
    /* far jmp ptr16:32 */
    assert_int_equal(decode(&in, "ea 78 56 34 12 08 00", 4), 7);
    assert_int_equal(in.imm, 0x12345678);
    assert_int_equal(in.imm2, 8);
}

static void test_invalid_and_limits(void **state)
{
    struct x86_insn in;
    (void)state;
    assert_int_equal(decode(&in, "06", 8), -1);          /* push es */
    assert_int_equal(decode(&in, "27", 8), -1);          /* daa */
    assert_int_equal(decode(&in, "06", 4), 1);
    assert_int_equal(decode(&in, "63 c8", 8), 2);        /* movsxd */
    assert_int_equal(in.op->id, I_MOVSXD);
    assert_int_equal(decode(&in, "63 c8", 4), 2);        /* arpl */
    assert_int_equal(in.op->id, I_ARPL);
    assert_int_equal(decode(&in, "8d c0", 4), -1);       /* lea reg,reg */
    assert_int_equal(decode(&in, "f0 01 c0", 4), -1);    /* lock, reg dest */
    assert_int_equal(decode(&in, "f0 01 00", 4), 3);
    assert_int_equal(decode(&in, "f0 90", 4), -1);
    assert_int_equal(decode(&in, "0f 20 c8", 4), -1);    /* mov eax, cr1 */
    assert_int_equal(decode(&in, "0f 20 00", 4), 3);     /* mod ignored */
    assert_int_equal(in.op->id, I_MOVCR);
    assert_int_equal(decode(&in, "44 0f 20 c0", 8), 4);  /* cr8 */
    assert_int_equal(in.reg, 8);
    assert_int_equal(decode(&in, "8e c8", 4), -1);       /* mov cs, ax */
    /* 15 bytes is fine, 16 is #GP */
    assert_int_equal(decode(&in, "66 66 66 66 66 66 66 66 66 66 05 01 02", 4),
                     13);
    assert_int_equal(decode(&in,
                            "26 26 26 26 26 26 26 26 26 26 26 05 01 02 03 04",
                            4), -2);
    /* truncated input asks for more */
    assert_int_equal(decode(&in, "05 01 02", 4), 0);
    assert_int_equal(decode(&in, "0f", 4), 0);
}

static void test_sse_rows(void **state)
{
    struct x86_insn in;
    (void)state;
    assert_int_equal(decode(&in, "f3 0f 58 c1", 4), 4);
    assert_int_equal(in.op->id, I_ADDSS);
    assert_int_equal(in.op->exec, EXEC_SSE);
    assert_int_equal(decode(&in, "66 f3 0f 58 c1", 4), 5); /* F3 wins */
    assert_int_equal(in.op->id, I_ADDSS);
    assert_int_equal(decode(&in, "66 0f 38 00 c1", 4), 5);
    assert_int_equal(in.op->id, I_PSHUFB);
    assert_int_equal(decode(&in, "0f 38 00 c1", 4), 4);
    assert_int_equal(in.op->opnd[0].method, OM_P);
    assert_int_equal(decode(&in, "66 0f 3a 0f c1 05", 4), 6);
    assert_int_equal(in.op->id, I_PALIGNR);
    assert_int_equal(in.imm, 5);
    assert_int_equal(decode(&in, "66 0f 3a 61 c1 0c", 4), 6);
    assert_int_equal(in.op->id, I_PCMPESTRI);
    assert_int_equal(decode(&in, "66 48 0f 3a 16 c0 01", 8), 7);
    assert_int_equal(in.op->id, I_PEXTRD);
    assert_int_equal(in.opsize, 8);
    assert_int_equal(decode(&in, "f2 0f 38 f1 c1", 4), 5);
    assert_int_equal(in.op->id, I_CRC32);
    assert_int_equal(in.op->exec, EXEC_INT);
    assert_int_equal(decode(&in, "0f 38 f0 01", 4), 4);
    assert_int_equal(in.op->id, I_MOVBE);
    assert_int_equal(decode(&in, "f3 0f b8 c1", 4), 4);
    assert_int_equal(in.op->id, I_POPCNT);
    assert_int_equal(decode(&in, "0f bc c1", 4), 3);
    assert_int_equal(in.op->id, I_BSF);
    assert_int_equal(decode(&in, "f3 0f bc c1", 4), 4);
    assert_int_equal(in.op->id, I_TZCNT);
    assert_int_equal(decode(&in, "f3 0f bd c1", 4), 4);
    assert_int_equal(in.op->id, I_LZCNT);
    assert_int_equal(decode(&in, "0f 01 d0", 4), 3);
    assert_int_equal(in.op->id, I_XGETBV);
    assert_int_equal(in.op->exec, EXEC_SSE);
    assert_int_equal(decode(&in, "0f 01 d1", 8), 3);
    assert_int_equal(in.op->id, I_XSETBV);
    assert_int_equal(decode(&in, "66 0f 01 d1", 4), -1);
    assert_int_equal(decode(&in, "d9 c0", 4), 2);
    assert_int_equal(in.op->exec, EXEC_FPU);
    assert_int_equal(decode(&in, "f3 0f fc c1", 4), -1);
}

/* ---- random comparison with Capstone ---- */

enum { C_FEATURE, C_LOCK, C_PREFIX, C_SYSREG, C_SYSCALL, C_UD01, C_BRANCH66,
       C_HINTNOP, C_X87, C_CS16SSE, C_PFXORDER, C_CS67, C_IGNOREDREP, C_FENCE, C_BND66,
       C_COUNT };
static const char *const class_names[C_COUNT] = {
    "feature", "lock", "prefix", "sysreg", "syscall", "ud01", "branch66",
    "hintnop", "x87", "cs16sse", "pfxorder", "cs67",
    "ignoredrep", "fence", "bnd66",
};
static csh cs_handle;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static unsigned rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state >> 11);
}

static void random_insn(uint8_t *b, unsigned mode)
{
    static const uint8_t pfx[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x36,
                                   0x26, 0x64, 0x65, 0x3e, 0x40, 0x48, 0x41,
                                   0x44, 0x4c };
    unsigned p = 0, np = rng() % 4;
    for (unsigned i = 0; i < 16; i++)
        b[i] = rng();
    for (unsigned i = 0; i < np; i++) {
        uint8_t x = pfx[rng() % sizeof(pfx)];
        if (mode != 8 && (x & 0xf0) == 0x40)
            continue;
        b[p++] = x;
    }
    switch (rng() % 4) {
    case 1: b[p++] = 0x0f; break;
    case 2: b[p++] = 0x0f; b[p++] = 0x38; break;
    case 3: b[p++] = 0x0f; b[p++] = 0x3a; break;
    }
}

static bool is_legacy_prefix(uint8_t b)
{
    return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 ||
           b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 ||
           b == 0x65;
}

static bool is_prefix(uint8_t b, unsigned mode)
{
    return is_legacy_prefix(b) || (mode == 8 && (b & 0xf0) == 0x40);
}

/* Decode again without the prefix bytes in `drop`; true when that gives a
 * valid instruction exactly as many bytes shorter than Capstone's as were
 * removed. */
static bool valid_without(const uint8_t *b, unsigned mode, const char *drop,
                          int cs_len)
{
    uint8_t c[16];
    unsigned n = 0, i = 0, removed = 0;
    for (; i < 15 && is_prefix(b[i], mode); i++) {
        if (is_legacy_prefix(b[i]) && strchr(drop, b[i]))
            removed++;
        else
            c[n++] = b[i];
    }
    for (; i < 16; i++)
        c[n++] = b[i];
    struct x86_insn in;
    int r = x86_decode(&in, c, 15, mode);
    return removed && r > 0 && (cs_len < 0 || r + (int)removed == cs_len);
}

static bool has_prefix(const uint8_t *b, unsigned mode, uint8_t p)
{
    for (unsigned i = 0; i < 15 && is_prefix(b[i], mode); i++)
        if (b[i] == p)
            return true;
    return false;
}

static bool cs_in_group(const cs_insn *ci, unsigned g)
{
    for (unsigned i = 0; i < ci->detail->groups_count; i++)
        if (ci->detail->groups[i] == g)
            return true;
    return false;
}

static bool unsupported_feature(const cs_insn *ci)
{
    static const unsigned groups[] = {
        X86_GRP_VM, X86_GRP_3DNOW, X86_GRP_AES, X86_GRP_ADX, X86_GRP_AVX,
        X86_GRP_AVX2, X86_GRP_AVX512, X86_GRP_BMI2, X86_GRP_F16C, X86_GRP_FMA,
        X86_GRP_FMA4, X86_GRP_RTM, X86_GRP_SHA, X86_GRP_SSE4A, X86_GRP_PCLMUL,
        X86_GRP_XOP, X86_GRP_TBM, X86_GRP_SGX, X86_GRP_SMAP, X86_GRP_CDI,
        X86_GRP_ERI, X86_GRP_DQI, X86_GRP_BWI, X86_GRP_PFI, X86_GRP_VLX,
    };
    static const char *const names[] = {
        "getsec", "rsm", "monitor", "mwait", "xsaves",
        "xrstors", "xsavec", "clflushopt", "clwb", "rdpid", "invpcid",
        "femms", "xend", "xtest", "xbegin", "xabort", "encls", "enclu",
        "vmfunc", "rdpkru", "wrpkru", "ptwrite", "andn", "bextr", "blsi",
        "blsmsk", "blsr", "monitorx", "mwaitx", "clzero", "skinit", "stgi",
        "clgi", "invlpga", "vmrun", "vmload", "vmsave", "vmmcall",
        "prefetchwt1", "stac", "clac", "xcryptecb", "xcryptcbc",
        "xcryptctr", "xcryptcfb", "xcryptofb", "xstorerng", "xsha1",
        "xsha256", "montmul", "xsavec64", "xsaves64", "xrstors64",
    };
    for (unsigned i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (cs_in_group(ci, groups[i]))
            return true;
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(ci->mnemonic, names[i]))
            return true;
    return false;
}

/* Capstone reads 67 as if it were a mandatory 66: true when our decode
 * with 67 replaced by 66 has Capstone's length. */
static bool same_with_67_as_66(const uint8_t *b, unsigned mode, int cs_len)
{
    uint8_t c[16];
    unsigned n = 0, i = 0, removed = 0;
    for (; i < 15 && is_prefix(b[i], mode); i++) {
        if (b[i] == 0xf2 || b[i] == 0xf3)
            removed++;
        else
            c[n++] = b[i] == 0x67 ? 0x66 : b[i];
    }
    for (; i < 16; i++)
        c[n++] = b[i];
    struct x86_insn in;
    if (x86_decode(&in, b, 15, mode) == cs_len)
        return false;
    int r = x86_decode(&in, c, 15, mode);
    if (r > 0 && r + (int)removed == cs_len)
        return true;
    memcpy(c, b, 16);
    for (i = 0; i < 15 && is_prefix(c[i], mode); i++)
        if (c[i] == 0x67)
            c[i] = 0x66;
    return x86_decode(&in, c, 15, mode) == cs_len;
}

/* Capstone wants the mandatory prefix (the last F2/F3, else 66) right
 * before the opcode: true when it accepts the bytes with that prefix moved
 * there and then agrees with our length. */
static bool capstone_takes_reordered(const uint8_t *b, unsigned mode, int ours)
{
    uint8_t c[16];
    unsigned n = 0, end = 0, mand = 0;
    int at = -1;
    while (end < 15 && is_prefix(b[end], mode))
        end++;
    for (unsigned i = 0; i < end; i++)
        if (b[i] == 0xf2 || b[i] == 0xf3)
            at = i;
    if (at < 0)
        for (unsigned i = 0; i < end; i++)
            if (b[i] == 0x66)
                at = i;
    if (at < 0)
        return false;
    mand = b[at];
    for (unsigned i = 0; i < end; i++)
        if (b[i] != mand && !(mode == 8 && (b[i] & 0xf0) == 0x40))
            c[n++] = b[i];
    c[n++] = mand;
    if (end && mode == 8 && (b[end - 1] & 0xf0) == 0x40)
        c[n++] = b[end - 1];
    unsigned removed = end - n;
    for (unsigned i = end; i < 16 && n < 16; i++)
        c[n++] = b[i];
    cs_insn *ci = NULL;
    bool ok = cs_disasm(cs_handle, c, 15, 0, 1, &ci) == 1 &&
              (int)(ci->size + removed) == ours;
    if (ci)
        cs_free(ci, 1);
    return ok;
}

/* Capstone rejects a prefix the CPU ignores: true when it accepts the
 * bytes without the prefixes in `drop` and then agrees with our length. */
static bool capstone_takes_without(const uint8_t *b, unsigned mode,
                                   const char *drop, int ours)
{
    uint8_t c[16];
    unsigned n = 0, i = 0, removed = 0;
    for (; i < 15 && is_prefix(b[i], mode); i++) {
        if (is_legacy_prefix(b[i]) && strchr(drop, b[i]))
            removed++;
        else
            c[n++] = b[i];
    }
    for (; i < 16; i++)
        c[n++] = b[i];
    cs_insn *ci = NULL;
    bool ok = removed && cs_disasm(cs_handle, c, 15, 0, 1, &ci) == 1 &&
              (int)(ci->size + removed) == ours;
    if (ci)
        cs_free(ci, 1);
    return ok;
}

/* Which known class explains the disagreement, or -1 */
static int classify(const uint8_t *b, unsigned mode, const struct x86_insn *in,
                    int ours, const cs_insn *ci)
{
    int cs_len = ci ? ci->size : -1;
    unsigned map = in->map, opc = in->opcode;
    if (map == MAP_0F && (opc == 0xff || opc == 0xb9))
        return C_UD01;
    if (ours < 0 && ci) {
        if (unsupported_feature(ci) ||
            (map == MAP_ONE && (opc == 0xc4 || opc == 0xc5 || opc == 0x62 ||
                                opc == 0x8f)))
            return C_FEATURE;
        /* any valid decode without LOCK: its length is compared on the
         * strings without F0 */
        if (has_prefix(b, mode, 0xf0) &&
            (valid_without(b, mode, "\xf0", cs_len) ||
             valid_without(b, mode, "\xf0\xf2\xf3", cs_len) ||
             valid_without(b, mode, "\xf0\x66\xf2\xf3", cs_len) ||
             valid_without(b, mode, "\xf0", -1)))
            return C_LOCK;
        if (valid_without(b, mode, "\x66\xf2\xf3", cs_len) ||
            valid_without(b, mode, "\xf2\xf3", cs_len))
            return C_PREFIX;
        if ((map == MAP_0F && opc >= 0x20 && opc <= 0x23) ||
            (map == MAP_ONE && (opc == 0x8c || opc == 0x8e)))
            return C_SYSREG;
        if (mode != 8 && map == MAP_0F &&
            (opc == 0x05 || opc == 0x07 || (opc == 0x01 && in->mod == 3)))
            return C_SYSCALL;
    }
    if (ci && has_prefix(b, mode, 0x67) && same_with_67_as_66(b, mode, cs_len))
        return C_CS67;
    if (ours > 0 && !ci) {
        if (map == MAP_0F && opc >= 0x18 && opc <= 0x1f)
            return C_HINTNOP;
        if (map == MAP_ONE && opc >= 0xd8 && opc <= 0xdf)
            return C_X87;
        if (capstone_takes_reordered(b, mode, ours))
            return C_PFXORDER;
        if (capstone_takes_without(b, mode, "\xf2\xf3", ours))
            return C_IGNOREDREP;
        if (map == MAP_0F && opc == 0xae && in->mod == 3)
            return C_FENCE;
        if (mode == 2 && in->op->pfx != PFX_ANY && in->op->pfx != PFX_NP)
            return C_CS16SSE;
    }
    if (ours > 0 && ci && in->rep && in->opsize_prefix &&
        in->op->attr & (OPA_END | OPA_D64 | OPA_F64))
        return C_BND66;
    if (ours > 0 && ci && mode == 8 &&
        (in->opsize_prefix || in->addrsize_prefix) &&
        ((map == MAP_ONE && (opc == 0xe8 || opc == 0xe9 || opc == 0xc2)) ||
         (map == MAP_0F && opc >= 0x80 && opc <= 0x8f)))
        return C_BRANCH66;
    return -1;
}

static void compare_mode(unsigned mode, cs_mode csm)
{
    csh h;
    long iterations = 200000;
    const char *env = getenv("TANDEM_DECODE_ITERATIONS");
    if (env && atol(env) > 0)
        iterations = atol(env);
    assert_int_equal(cs_open(CS_ARCH_X86, csm, &h), CS_ERR_OK);
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    cs_handle = h;
    long classes[C_COUNT] = { 0 }, agree = 0, unexplained = 0;
    cs_insn *ci = cs_malloc(h);
    for (long it = 0; it < iterations; it++) {
        uint8_t b[16];
        struct x86_insn in;
        random_insn(b, mode);
        int ours = x86_decode(&in, b, 15, mode);
        const uint8_t *code = b;
        size_t size = 15;
        uint64_t addr = 0;
        bool ok = cs_disasm_iter(h, &code, &size, &addr, ci);
        int theirs = ok ? ci->size : -1;
        if (ours < 0)
            ours = -1;
        if (ours == theirs) {
            agree++;
            continue;
        }
        int c = classify(b, mode, &in, ours, ok ? ci : NULL);
        if (c >= 0) {
            classes[c]++;
            continue;
        }
        if (unexplained++ < 20) {
            printf("mode %u: ours %d, capstone %d (%s %s):", mode * 8, ours,
                   theirs, ok ? ci->mnemonic : "-", ok ? ci->op_str : "");
            for (int i = 0; i < 15; i++)
                printf(" %02x", b[i]);
            printf("\n");
        }
    }
    printf("mode %u: %ld agree", mode * 8, agree);
    for (int c = 0; c < C_COUNT; c++)
        if (classes[c])
            printf(", %s %ld", class_names[c], classes[c]);
    printf(", unexplained %ld\n", unexplained);
    cs_free(ci, 1);
    cs_close(&h);
    assert_int_equal(unexplained, 0);
}

static void test_capstone_16(void **state) { (void)state; compare_mode(2, CS_MODE_16); }
static void test_capstone_32(void **state) { (void)state; compare_mode(4, CS_MODE_32); }
static void test_capstone_64(void **state) { (void)state; compare_mode(8, CS_MODE_64); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_forms),
        cmocka_unit_test(test_invalid_and_limits),
        cmocka_unit_test(test_sse_rows),
        cmocka_unit_test(test_capstone_16),
        cmocka_unit_test(test_capstone_32),
        cmocka_unit_test(test_capstone_64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
