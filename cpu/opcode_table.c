/* The x86 opcode table (see cpu/opcode_table.h): the rows in the SDM's
 * notation, the per-mnemonic facts (flags read and written, faults, block
 * ends), and the one-time parse of the operand strings into the index the
 * decoder uses. A malformed row is a bug of ours and aborts at start-up. */
#include "cpu/opcode_table.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/x86_state.h"

#define ROW(mp, opc, px, rg, md, r_m, m, sp, at, ft, ex)                        \
    { .mnemonic = #m, .id = I_##m, .map = (mp), .opcode = (opc), .pfx = (px), \
      .reg = (rg), .mod = (md), .rm = (r_m), .spec = (sp), .attr = (at),      \
      .feature = (ft), .exec = (ex) }

/* one-byte map: plain row, group row (modrm.reg), group row with mod key */
#define O1(opc, m, sp, at) ROW(MAP_ONE, opc, PFX_ANY, -1, MOD_ANY, -1, m, sp, at, FEAT_NONE, EXEC_INT)
#define G1(opc, r, m, sp, at) ROW(MAP_ONE, opc, PFX_ANY, r, MOD_ANY, -1, m, sp, at, FEAT_NONE, EXEC_INT)
#define GM1(opc, r, md, r_m, m, sp, at) ROW(MAP_ONE, opc, PFX_ANY, r, md, r_m, m, sp, at, FEAT_NONE, EXEC_INT)
/* 0F map, integer */
#define O2(opc, m, sp, at, ft) ROW(MAP_0F, opc, PFX_ANY, -1, MOD_ANY, -1, m, sp, at, ft, EXEC_INT)
#define P2(opc, px, m, sp, at, ft) ROW(MAP_0F, opc, px, -1, MOD_ANY, -1, m, sp, at, ft, EXEC_INT)
#define G2(opc, r, md, r_m, m, sp, at, ft) ROW(MAP_0F, opc, PFX_ANY, r, md, r_m, m, sp, at, ft, EXEC_INT)
#define GP2(opc, px, r, md, r_m, m, sp, at, ft) ROW(MAP_0F, opc, px, r, md, r_m, m, sp, at, ft, EXEC_INT)
/* SSE/MMX rows in the three maps */
#define S2(opc, px, m, sp, ft) ROW(MAP_0F, opc, px, -1, MOD_ANY, -1, m, sp, 0, ft, EXEC_SSE)
#define SM2(opc, px, md, m, sp, ft) ROW(MAP_0F, opc, px, -1, md, -1, m, sp, 0, ft, EXEC_SSE)
#define SG2(opc, px, r, m, sp, ft) ROW(MAP_0F, opc, px, r, MOD_REG, -1, m, sp, 0, ft, EXEC_SSE)
#define S38(opc, px, m, sp, ft) ROW(MAP_0F38, opc, px, -1, MOD_ANY, -1, m, sp, 0, ft, EXEC_SSE)
#define S3A(opc, px, m, sp, ft) ROW(MAP_0F3A, opc, px, -1, MOD_ANY, -1, m, sp, 0, ft, EXEC_SSE)
/* an MMX row and its SSE2 twin on XMM registers (66) */
#define MX(opc, m) S2(opc, PFX_NP, m, "Pq,Qq", FEAT_MMX), S2(opc, PFX_66, m, "Vx,Wx", FEAT_SSE2)
#define MXD(opc, m) S2(opc, PFX_NP, m, "Pq,Qd", FEAT_MMX), S2(opc, PFX_66, m, "Vx,Wx", FEAT_SSE2)
/* SSSE3 in 0F38/0F3A: MMX and XMM forms */
#define MX38(opc, m) S38(opc, PFX_NP, m, "Pq,Qq", FEAT_SSSE3), S38(opc, PFX_66, m, "Vx,Wx", FEAT_SSSE3)
/* packed single/double (NP/66) and scalar (F3/F2) float rows */
#define PSD(opc, ps, pd) S2(opc, PFX_NP, ps, "Vps,Wps", FEAT_SSE), S2(opc, PFX_66, pd, "Vpd,Wpd", FEAT_SSE2)
#define PSSD(opc, ps, pd, ss, sd) PSD(opc, ps, pd), S2(opc, PFX_F3, ss, "Vss,Wss", FEAT_SSE), \
    S2(opc, PFX_F2, sd, "Vsd,Wsd", FEAT_SSE2)
/* the six classic ALU forms 00-05, 08-0D, ... */
#define ALU6(b, m, lk) O1(b, m, "Eb,Gb", lk), O1(b + 1, m, "Ev,Gv", lk), O1(b + 2, m, "Gb,Eb", 0), \
    O1(b + 3, m, "Gv,Ev", 0), O1(b + 4, m, "AL,Ib", 0), O1(b + 5, m, "rAX,Iz", 0)
/* eight rows with the register in the opcode */
#define Z8(b, m, sp, at) O1(b, m, sp, at), O1(b + 1, m, sp, at), O1(b + 2, m, sp, at), \
    O1(b + 3, m, sp, at), O1(b + 4, m, sp, at), O1(b + 5, m, sp, at), O1(b + 6, m, sp, at), \
    O1(b + 7, m, sp, at)
#define Z8_2(b, m, sp, at) O2(b, m, sp, at, FEAT_NONE), O2(b + 1, m, sp, at, FEAT_NONE), \
    O2(b + 2, m, sp, at, FEAT_NONE), O2(b + 3, m, sp, at, FEAT_NONE), O2(b + 4, m, sp, at, FEAT_NONE), \
    O2(b + 5, m, sp, at, FEAT_NONE), O2(b + 6, m, sp, at, FEAT_NONE), O2(b + 7, m, sp, at, FEAT_NONE)
/* sixteen condition-code rows */
#define CC16_1(b, m, sp, at) Z8(b, m, sp, at), Z8(b + 8, m, sp, at)
#define CC16_2(b, m, sp, at, ft) O2(b, m, sp, at, ft), O2(b + 1, m, sp, at, ft), O2(b + 2, m, sp, at, ft), \
    O2(b + 3, m, sp, at, ft), O2(b + 4, m, sp, at, ft), O2(b + 5, m, sp, at, ft), O2(b + 6, m, sp, at, ft), \
    O2(b + 7, m, sp, at, ft), O2(b + 8, m, sp, at, ft), O2(b + 9, m, sp, at, ft), O2(b + 10, m, sp, at, ft), \
    O2(b + 11, m, sp, at, ft), O2(b + 12, m, sp, at, ft), O2(b + 13, m, sp, at, ft), \
    O2(b + 14, m, sp, at, ft), O2(b + 15, m, sp, at, ft)
/* a group of eight mnemonics selected by modrm.reg */
#define GRP8(opc, sp, at, m0, m1, m2, m3, m4, m5, m6, m7) G1(opc, 0, m0, sp, at), G1(opc, 1, m1, sp, at), \
    G1(opc, 2, m2, sp, at), G1(opc, 3, m3, sp, at), G1(opc, 4, m4, sp, at), G1(opc, 5, m5, sp, at), \
    G1(opc, 6, m6, sp, at), G1(opc, 7, m7, sp, at)
#define GRP1(opc, sp, at) G1(opc, 0, ADD, sp, OPA_LOCK | (at)), G1(opc, 1, OR, sp, OPA_LOCK | (at)), \
    G1(opc, 2, ADC, sp, OPA_LOCK | (at)), G1(opc, 3, SBB, sp, OPA_LOCK | (at)), \
    G1(opc, 4, AND, sp, OPA_LOCK | (at)), G1(opc, 5, SUB, sp, OPA_LOCK | (at)), \
    G1(opc, 6, XOR, sp, OPA_LOCK | (at)), G1(opc, 7, CMP, sp, at)
#define GRP2(opc, sp, at) GRP8(opc, sp, at, ROL, ROR, RCL, RCR, SHL, SHR, SHL, SAR)

#define L OPA_LOCK
#define I64 OPA_I64
#define O64 OPA_O64
#define D64 OPA_D64
#define F64 OPA_F64

static struct x86_opcode opcode_rows[] = {
    /* ---------------- one-byte map ---------------- */
    ALU6(0x00, ADD, L), O1(0x06, PUSH, "ES", I64), O1(0x07, POP, "ES", I64),
    ALU6(0x08, OR, L), O1(0x0e, PUSH, "CS", I64),
    ALU6(0x10, ADC, L), O1(0x16, PUSH, "SS", I64), O1(0x17, POP, "SS", I64 | OPA_END),
    ALU6(0x18, SBB, L), O1(0x1e, PUSH, "DS", I64), O1(0x1f, POP, "DS", I64),
    ALU6(0x20, AND, L), O1(0x27, DAA, "", I64),
    ALU6(0x28, SUB, L), O1(0x2f, DAS, "", I64),
    ALU6(0x30, XOR, L), O1(0x37, AAA, "", I64),
    ALU6(0x38, CMP, 0), O1(0x3f, AAS, "", I64),
    Z8(0x40, INC, "Zv", I64), Z8(0x48, DEC, "Zv", I64),
    Z8(0x50, PUSH, "Zv", D64), Z8(0x58, POP, "Zv", D64),
    O1(0x60, PUSHA, "", I64), O1(0x61, POPA, "", I64),
    O1(0x62, BOUND, "Gv,Ma", I64),
    O1(0x63, ARPL, "Ew,Gw", I64), O1(0x63, MOVSXD, "Gv,Ed", O64),
    O1(0x68, PUSH, "Iz", D64), O1(0x69, IMUL, "Gv,Ev,Iz", 0),
    O1(0x6a, PUSH, "Ibs", D64), O1(0x6b, IMUL, "Gv,Ev,Ibs", 0),
    O1(0x6c, INS, "Yb,DX", 0), O1(0x6d, INS, "Yz,DX", 0),
    O1(0x6e, OUTS, "DX,Xb", 0), O1(0x6f, OUTS, "DX,Xz", 0),
    CC16_1(0x70, JCC, "Jb", F64 | OPA_COND),
    GRP1(0x80, "Eb,Ib", 0), GRP1(0x81, "Ev,Iz", 0),
    GRP1(0x82, "Eb,Ib", I64), GRP1(0x83, "Ev,Ibs", 0),
    O1(0x84, TEST, "Eb,Gb", 0), O1(0x85, TEST, "Ev,Gv", 0),
    O1(0x86, XCHG, "Eb,Gb", L), O1(0x87, XCHG, "Ev,Gv", L),
    O1(0x88, MOV, "Eb,Gb", 0), O1(0x89, MOV, "Ev,Gv", 0),
    O1(0x8a, MOV, "Gb,Eb", 0), O1(0x8b, MOV, "Gv,Ev", 0),
    O1(0x8c, MOVFROMSEG, "Ev,Sw", 0), O1(0x8d, LEA, "Gv,M", 0),
    O1(0x8e, MOVSEG, "Sw,Ew", 0), G1(0x8f, 0, POP, "Ev", D64),
    ROW(MAP_ONE, 0x90, PFX_F3, -1, MOD_ANY, -1, PAUSE, "", 0, FEAT_NONE, EXEC_INT),
    Z8(0x90, XCHG, "Zv,rAX", 0),
    O1(0x98, CBW, "", 0), O1(0x99, CWD, "", 0), O1(0x9a, CALLF, "Ap", I64),
    ROW(MAP_ONE, 0x9b, PFX_ANY, -1, MOD_ANY, -1, FWAIT, "", 0, FEAT_NONE, EXEC_FPU),
    O1(0x9c, PUSHF, "", D64), O1(0x9d, POPF, "", D64),
    O1(0x9e, SAHF, "", 0), O1(0x9f, LAHF, "", 0),
    O1(0xa0, MOV, "AL,Ob", 0), O1(0xa1, MOV, "rAX,Ov", 0),
    O1(0xa2, MOV, "Ob,AL", 0), O1(0xa3, MOV, "Ov,rAX", 0),
    O1(0xa4, MOVS, "Yb,Xb", 0), O1(0xa5, MOVS, "Yv,Xv", 0),
    O1(0xa6, CMPS, "Xb,Yb", 0), O1(0xa7, CMPS, "Xv,Yv", 0),
    O1(0xa8, TEST, "AL,Ib", 0), O1(0xa9, TEST, "rAX,Iz", 0),
    O1(0xaa, STOS, "Yb,AL", 0), O1(0xab, STOS, "Yv,rAX", 0),
    O1(0xac, LODS, "AL,Xb", 0), O1(0xad, LODS, "rAX,Xv", 0),
    O1(0xae, SCAS, "AL,Yb", 0), O1(0xaf, SCAS, "rAX,Yv", 0),
    Z8(0xb0, MOV, "Zb,Ib", 0), Z8(0xb8, MOV, "Zv,Iv", 0),
    GRP2(0xc0, "Eb,Ib", 0), GRP2(0xc1, "Ev,Ib", 0),
    O1(0xc2, RET, "Iw", F64), O1(0xc3, RET, "", F64),
    O1(0xc4, LES, "Gz,Mp", I64), O1(0xc5, LDS, "Gz,Mp", I64),
    G1(0xc6, 0, MOV, "Eb,Ib", 0), G1(0xc7, 0, MOV, "Ev,Iz", 0),
    O1(0xc8, ENTER, "Iw,Ib", D64), O1(0xc9, LEAVE, "", D64),
    O1(0xca, RETF, "Iw", 0), O1(0xcb, RETF, "", 0),
    O1(0xcc, INT3, "", 0), O1(0xcd, INT, "Ib", 0), O1(0xce, INTO, "", I64),
    O1(0xcf, IRET, "", 0),
    GRP2(0xd0, "Eb,1", 0), GRP2(0xd1, "Ev,1", 0),
    GRP2(0xd2, "Eb,CL", 0), GRP2(0xd3, "Ev,CL", 0),
    O1(0xd4, AAM, "Ib", I64), O1(0xd5, AAD, "Ib", I64), O1(0xd6, SALC, "", I64),
    O1(0xd7, XLAT, "", 0),
    ROW(MAP_ONE, 0xd8, PFX_ANY, -1, MOD_ANY, -1, X87, "F", 0, FEAT_X87, EXEC_FPU),
    ROW(MAP_ONE, 0xd9, PFX_ANY, -1, MOD_ANY, -1, X87, "F", 0, FEAT_X87, EXEC_FPU),
    ROW(MAP_ONE, 0xda, PFX_ANY, -1, MOD_ANY, -1, X87, "F", 0, FEAT_X87, EXEC_FPU),
    ROW(MAP_ONE, 0xdb, PFX_ANY, -1, MOD_ANY, -1, X87, "F", 0, FEAT_X87, EXEC_FPU),
    ROW(MAP_ONE, 0xdc, PFX_ANY, -1, MOD_ANY, -1, X87, "F", 0, FEAT_X87, EXEC_FPU),
    ROW(MAP_ONE, 0xdd, PFX_ANY, -1, MOD_ANY, -1, X87, "F", 0, FEAT_X87, EXEC_FPU),
    ROW(MAP_ONE, 0xde, PFX_ANY, -1, MOD_ANY, -1, X87, "F", 0, FEAT_X87, EXEC_FPU),
    ROW(MAP_ONE, 0xdf, PFX_ANY, -1, MOD_ANY, -1, X87, "F", 0, FEAT_X87, EXEC_FPU),
    O1(0xe0, LOOPNE, "Jb", F64), O1(0xe1, LOOPE, "Jb", F64), O1(0xe2, LOOP, "Jb", F64),
    O1(0xe3, JCXZ, "Jb", F64),
    O1(0xe4, IN, "AL,Ib", 0), O1(0xe5, IN, "eAX,Ib", 0),
    O1(0xe6, OUT, "Ib,AL", 0), O1(0xe7, OUT, "Ib,eAX", 0),
    O1(0xe8, CALL, "Jz", F64), O1(0xe9, JMP, "Jz", F64), O1(0xea, JMPF, "Ap", I64),
    O1(0xeb, JMP, "Jb", F64),
    O1(0xec, IN, "AL,DX", 0), O1(0xed, IN, "eAX,DX", 0),
    O1(0xee, OUT, "DX,AL", 0), O1(0xef, OUT, "DX,eAX", 0),
    O1(0xf1, INT1, "", 0), O1(0xf4, HLT, "", 0), O1(0xf5, CMC, "", 0),
    G1(0xf6, 0, TEST, "Eb,Ib", 0), G1(0xf6, 1, TEST, "Eb,Ib", 0), G1(0xf6, 2, NOT, "Eb", L),
    G1(0xf6, 3, NEG, "Eb", L), G1(0xf6, 4, MUL, "Eb", 0), G1(0xf6, 5, IMUL, "Eb", 0),
    G1(0xf6, 6, DIV, "Eb", 0), G1(0xf6, 7, IDIV, "Eb", 0),
    G1(0xf7, 0, TEST, "Ev,Iz", 0), G1(0xf7, 1, TEST, "Ev,Iz", 0), G1(0xf7, 2, NOT, "Ev", L),
    G1(0xf7, 3, NEG, "Ev", L), G1(0xf7, 4, MUL, "Ev", 0), G1(0xf7, 5, IMUL, "Ev", 0),
    G1(0xf7, 6, DIV, "Ev", 0), G1(0xf7, 7, IDIV, "Ev", 0),
    O1(0xf8, CLC, "", 0), O1(0xf9, STC, "", 0), O1(0xfa, CLI, "", 0), O1(0xfb, STI, "", 0),
    O1(0xfc, CLD, "", 0), O1(0xfd, STD, "", 0),
    G1(0xfe, 0, INC, "Eb", L), G1(0xfe, 1, DEC, "Eb", L),
    G1(0xff, 0, INC, "Ev", L), G1(0xff, 1, DEC, "Ev", L), G1(0xff, 2, CALL, "Ev", F64),
    G1(0xff, 3, CALLF, "Mp", 0), G1(0xff, 4, JMP, "Ev", F64), G1(0xff, 5, JMPF, "Mp", 0),
    G1(0xff, 6, PUSH, "Ev", D64),

    /* ---------------- 0F map: integer and system ---------------- */
    G2(0x00, 0, MOD_ANY, -1, SLDT, "Ev", 0, FEAT_NONE), G2(0x00, 1, MOD_ANY, -1, STR, "Ev", 0, FEAT_NONE),
    G2(0x00, 2, MOD_ANY, -1, LLDT, "Ew", 0, FEAT_NONE), G2(0x00, 3, MOD_ANY, -1, LTR, "Ew", 0, FEAT_NONE),
    G2(0x00, 4, MOD_ANY, -1, VERR, "Ew", 0, FEAT_NONE), G2(0x00, 5, MOD_ANY, -1, VERW, "Ew", 0, FEAT_NONE),
    G2(0x01, 0, MOD_MEM, -1, SGDT, "Ms", 0, FEAT_NONE), G2(0x01, 1, MOD_MEM, -1, SIDT, "Ms", 0, FEAT_NONE),
    G2(0x01, 2, MOD_MEM, -1, LGDT, "Ms", 0, FEAT_NONE), G2(0x01, 3, MOD_MEM, -1, LIDT, "Ms", 0, FEAT_NONE),
    ROW(MAP_0F, 0x01, PFX_NP, 2, MOD_REG, 0, XGETBV, "", 0, FEAT_XSAVE, EXEC_SSE),
    ROW(MAP_0F, 0x01, PFX_NP, 2, MOD_REG, 1, XSETBV, "", 0, FEAT_XSAVE, EXEC_SSE),
    G2(0x01, 4, MOD_ANY, -1, SMSW, "Ev", 0, FEAT_NONE), G2(0x01, 6, MOD_ANY, -1, LMSW, "Ew", 0, FEAT_NONE),
    G2(0x01, 7, MOD_MEM, -1, INVLPG, "Mb", 0, FEAT_NONE),
    G2(0x01, 7, MOD_REG, 0, SWAPGS, "", O64, FEAT_NONE),
    G2(0x01, 7, MOD_REG, 1, RDTSCP, "", 0, FEAT_RDTSCP),
    O2(0x02, LAR, "Gv,Ew", 0, FEAT_NONE), O2(0x03, LSL, "Gv,Ew", 0, FEAT_NONE),
    O2(0x05, SYSCALL, "", O64, FEAT_SYSCALL), O2(0x06, CLTS, "", 0, FEAT_NONE),
    O2(0x07, SYSRET, "", O64, FEAT_SYSCALL), O2(0x08, INVD, "", 0, FEAT_NONE),
    O2(0x09, WBINVD, "", 0, FEAT_NONE), O2(0x0b, UD2, "", 0, FEAT_NONE),
    G2(0x0d, 1, MOD_MEM, -1, PREFETCHW, "Mb", 0, FEAT_NONE),
    G2(0x18, 0, MOD_MEM, -1, PREFETCH, "Mb", 0, FEAT_SSE), G2(0x18, 1, MOD_MEM, -1, PREFETCH, "Mb", 0, FEAT_SSE),
    G2(0x18, 2, MOD_MEM, -1, PREFETCH, "Mb", 0, FEAT_SSE), G2(0x18, 3, MOD_MEM, -1, PREFETCH, "Mb", 0, FEAT_SSE),
    O2(0x18, NOP, "Ev", 0, FEAT_NONE), O2(0x19, NOP, "Ev", 0, FEAT_NONE),
    O2(0x1a, NOP, "Ev", 0, FEAT_NONE), O2(0x1b, NOP, "Ev", 0, FEAT_NONE),
    O2(0x1c, NOP, "Ev", 0, FEAT_NONE), O2(0x1d, NOP, "Ev", 0, FEAT_NONE),
    O2(0x1e, NOP, "Ev", 0, FEAT_NONE), O2(0x1f, NOP, "Ev", 0, FEAT_NONE),
    O2(0x20, MOVCR, "Ry,Cy", F64 | OPA_MODIGN, FEAT_NONE),
    O2(0x21, MOVDR, "Ry,Dy", F64 | OPA_MODIGN, FEAT_NONE),
    O2(0x22, MOVCR, "Cy,Ry", F64 | OPA_MODIGN, FEAT_NONE),
    O2(0x23, MOVDR, "Dy,Ry", F64 | OPA_MODIGN, FEAT_NONE),
    O2(0x30, WRMSR, "", 0, FEAT_NONE), O2(0x31, RDTSC, "", 0, FEAT_NONE),
    O2(0x32, RDMSR, "", 0, FEAT_NONE), O2(0x33, RDPMC, "", 0, FEAT_NONE),
    O2(0x34, SYSENTER, "", 0, FEAT_SEP), O2(0x35, SYSEXIT, "", 0, FEAT_SEP),
    CC16_2(0x40, CMOVCC, "Gv,Ev", OPA_COND, FEAT_CMOV),
    CC16_2(0x80, JCC, "Jz", F64 | OPA_COND, FEAT_NONE),
    CC16_2(0x90, SETCC, "Eb", OPA_COND, FEAT_NONE),
    O2(0xa0, PUSH, "FS", D64, FEAT_NONE), O2(0xa1, POP, "FS", D64, FEAT_NONE),
    O2(0xa2, CPUID, "", 0, FEAT_NONE), O2(0xa3, BT, "Ev,Gv", 0, FEAT_NONE),
    O2(0xa4, SHLD, "Ev,Gv,Ib", 0, FEAT_NONE), O2(0xa5, SHLD, "Ev,Gv,CL", 0, FEAT_NONE),
    O2(0xa8, PUSH, "GS", D64, FEAT_NONE), O2(0xa9, POP, "GS", D64, FEAT_NONE),
    O2(0xab, BTS, "Ev,Gv", L, FEAT_NONE),
    O2(0xac, SHRD, "Ev,Gv,Ib", 0, FEAT_NONE), O2(0xad, SHRD, "Ev,Gv,CL", 0, FEAT_NONE),
    ROW(MAP_0F, 0xae, PFX_NP, 0, MOD_MEM, -1, FXSAVE, "M", 0, FEAT_FXSR, EXEC_FPU),
    ROW(MAP_0F, 0xae, PFX_NP, 1, MOD_MEM, -1, FXRSTOR, "M", 0, FEAT_FXSR, EXEC_FPU),
    ROW(MAP_0F, 0xae, PFX_NP, 2, MOD_MEM, -1, LDMXCSR, "Md", 0, FEAT_SSE, EXEC_SSE),
    ROW(MAP_0F, 0xae, PFX_NP, 3, MOD_MEM, -1, STMXCSR, "Md", 0, FEAT_SSE, EXEC_SSE),
    ROW(MAP_0F, 0xae, PFX_NP, 4, MOD_MEM, -1, XSAVE, "M", 0, FEAT_XSAVE, EXEC_FPU),
    ROW(MAP_0F, 0xae, PFX_NP, 5, MOD_MEM, -1, XRSTOR, "M", 0, FEAT_XSAVE, EXEC_FPU),
    ROW(MAP_0F, 0xae, PFX_NP, 6, MOD_MEM, -1, XSAVEOPT, "M", 0, FEAT_XSAVE, EXEC_FPU),
    GP2(0xae, PFX_NP, 7, MOD_MEM, -1, CLFLUSH, "Mb", 0, FEAT_CLFLUSH),
    GP2(0xae, PFX_NP, 5, MOD_REG, -1, LFENCE, "", 0, FEAT_SSE2),
    GP2(0xae, PFX_NP, 6, MOD_REG, -1, MFENCE, "", 0, FEAT_SSE2),
    GP2(0xae, PFX_NP, 7, MOD_REG, -1, SFENCE, "", 0, FEAT_SSE),
    GP2(0xae, PFX_F3, 0, MOD_REG, -1, RDFSBASE, "Ry", O64, FEAT_FSGSBASE),
    GP2(0xae, PFX_F3, 1, MOD_REG, -1, RDGSBASE, "Ry", O64, FEAT_FSGSBASE),
    GP2(0xae, PFX_F3, 2, MOD_REG, -1, WRFSBASE, "Ry", O64, FEAT_FSGSBASE),
    GP2(0xae, PFX_F3, 3, MOD_REG, -1, WRGSBASE, "Ry", O64, FEAT_FSGSBASE),
    O2(0xaf, IMUL, "Gv,Ev", 0, FEAT_NONE),
    O2(0xb0, CMPXCHG, "Eb,Gb", L, FEAT_NONE), O2(0xb1, CMPXCHG, "Ev,Gv", L, FEAT_NONE),
    O2(0xb2, LSS, "Gv,Mp", 0, FEAT_NONE), O2(0xb3, BTR, "Ev,Gv", L, FEAT_NONE),
    O2(0xb4, LFS, "Gv,Mp", 0, FEAT_NONE), O2(0xb5, LGS, "Gv,Mp", 0, FEAT_NONE),
    O2(0xb6, MOVZX, "Gv,Eb", 0, FEAT_NONE), O2(0xb7, MOVZX, "Gv,Ew", 0, FEAT_NONE),
    P2(0xb8, PFX_F3, POPCNT, "Gv,Ev", 0, FEAT_POPCNT),
    O2(0xb9, UD1, "Gv,Ev", 0, FEAT_NONE),
    G2(0xba, 4, MOD_ANY, -1, BT, "Ev,Ib", 0, FEAT_NONE), G2(0xba, 5, MOD_ANY, -1, BTS, "Ev,Ib", L, FEAT_NONE),
    G2(0xba, 6, MOD_ANY, -1, BTR, "Ev,Ib", L, FEAT_NONE), G2(0xba, 7, MOD_ANY, -1, BTC, "Ev,Ib", L, FEAT_NONE),
    O2(0xbb, BTC, "Ev,Gv", L, FEAT_NONE),
    P2(0xbc, PFX_F3, TZCNT, "Gv,Ev", 0, FEAT_BMI1), O2(0xbc, BSF, "Gv,Ev", 0, FEAT_NONE),
    P2(0xbd, PFX_F3, LZCNT, "Gv,Ev", 0, FEAT_LZCNT), O2(0xbd, BSR, "Gv,Ev", 0, FEAT_NONE),
    O2(0xbe, MOVSX, "Gv,Eb", 0, FEAT_NONE), O2(0xbf, MOVSX, "Gv,Ew", 0, FEAT_NONE),
    O2(0xc0, XADD, "Eb,Gb", L, FEAT_NONE), O2(0xc1, XADD, "Ev,Gv", L, FEAT_NONE),
    GP2(0xc3, PFX_NP, -1, MOD_MEM, -1, MOVNTI, "My,Gy", 0, FEAT_SSE2),
    G2(0xc7, 1, MOD_MEM, -1, CMPXCHG8B, "Mq", L | OPA_REX_W8, FEAT_CX8),
    G2(0xc7, 6, MOD_REG, -1, RDRAND, "Rv", 0, FEAT_RDRAND),
    G2(0xc7, 7, MOD_REG, -1, RDSEED, "Rv", 0, FEAT_RDSEED),
    Z8_2(0xc8, BSWAP, "Zy", 0),
    O2(0xff, UD0, "Gv,Ev", 0, FEAT_NONE),

    /* ---------------- 0F map: MMX and SSE ---------------- */
    S2(0x10, PFX_NP, MOVUPS, "Vps,Wps", FEAT_SSE), S2(0x10, PFX_66, MOVUPD, "Vpd,Wpd", FEAT_SSE2),
    S2(0x10, PFX_F3, MOVSS, "Vx,Wss", FEAT_SSE), S2(0x10, PFX_F2, MOVSD, "Vx,Wsd", FEAT_SSE2),
    S2(0x11, PFX_NP, MOVUPS, "Wps,Vps", FEAT_SSE), S2(0x11, PFX_66, MOVUPD, "Wpd,Vpd", FEAT_SSE2),
    S2(0x11, PFX_F3, MOVSS, "Wss,Vss", FEAT_SSE), S2(0x11, PFX_F2, MOVSD, "Wsd,Vsd", FEAT_SSE2),
    SM2(0x12, PFX_NP, MOD_MEM, MOVLPS, "Vq,Mq", FEAT_SSE), SM2(0x12, PFX_NP, MOD_REG, MOVHLPS, "Vq,Uq", FEAT_SSE),
    SM2(0x12, PFX_66, MOD_MEM, MOVLPD, "Vq,Mq", FEAT_SSE2),
    S2(0x12, PFX_F3, MOVSLDUP, "Vx,Wx", FEAT_SSE3), S2(0x12, PFX_F2, MOVDDUP, "Vx,Wsd", FEAT_SSE3),
    SM2(0x13, PFX_NP, MOD_MEM, MOVLPS, "Mq,Vq", FEAT_SSE), SM2(0x13, PFX_66, MOD_MEM, MOVLPD, "Mq,Vq", FEAT_SSE2),
    PSD(0x14, UNPCKLPS, UNPCKLPD), PSD(0x15, UNPCKHPS, UNPCKHPD),
    SM2(0x16, PFX_NP, MOD_MEM, MOVHPS, "Vdq,Mq", FEAT_SSE), SM2(0x16, PFX_NP, MOD_REG, MOVLHPS, "Vdq,Uq", FEAT_SSE),
    SM2(0x16, PFX_66, MOD_MEM, MOVHPD, "Vdq,Mq", FEAT_SSE2), S2(0x16, PFX_F3, MOVSHDUP, "Vx,Wx", FEAT_SSE3),
    SM2(0x17, PFX_NP, MOD_MEM, MOVHPS, "Mq,Vq", FEAT_SSE), SM2(0x17, PFX_66, MOD_MEM, MOVHPD, "Mq,Vq", FEAT_SSE2),
    PSD(0x28, MOVAPS, MOVAPD),
    S2(0x29, PFX_NP, MOVAPS, "Wps,Vps", FEAT_SSE), S2(0x29, PFX_66, MOVAPD, "Wpd,Vpd", FEAT_SSE2),
    S2(0x2a, PFX_NP, CVTPI2PS, "Vps,Qq", FEAT_SSE), S2(0x2a, PFX_66, CVTPI2PD, "Vpd,Qq", FEAT_SSE2),
    S2(0x2a, PFX_F3, CVTSI2SS, "Vss,Ey", FEAT_SSE), S2(0x2a, PFX_F2, CVTSI2SD, "Vsd,Ey", FEAT_SSE2),
    SM2(0x2b, PFX_NP, MOD_MEM, MOVNTPS, "Mps,Vps", FEAT_SSE), SM2(0x2b, PFX_66, MOD_MEM, MOVNTPD, "Mpd,Vpd", FEAT_SSE2),
    S2(0x2c, PFX_NP, CVTTPS2PI, "Pq,Wq", FEAT_SSE), S2(0x2c, PFX_66, CVTTPD2PI, "Pq,Wpd", FEAT_SSE2),
    S2(0x2c, PFX_F3, CVTTSS2SI, "Gy,Wss", FEAT_SSE), S2(0x2c, PFX_F2, CVTTSD2SI, "Gy,Wsd", FEAT_SSE2),
    S2(0x2d, PFX_NP, CVTPS2PI, "Pq,Wq", FEAT_SSE), S2(0x2d, PFX_66, CVTPD2PI, "Pq,Wpd", FEAT_SSE2),
    S2(0x2d, PFX_F3, CVTSS2SI, "Gy,Wss", FEAT_SSE), S2(0x2d, PFX_F2, CVTSD2SI, "Gy,Wsd", FEAT_SSE2),
    S2(0x2e, PFX_NP, UCOMISS, "Vss,Wss", FEAT_SSE), S2(0x2e, PFX_66, UCOMISD, "Vsd,Wsd", FEAT_SSE2),
    S2(0x2f, PFX_NP, COMISS, "Vss,Wss", FEAT_SSE), S2(0x2f, PFX_66, COMISD, "Vsd,Wsd", FEAT_SSE2),
    SM2(0x50, PFX_NP, MOD_REG, MOVMSKPS, "Gy,Ups", FEAT_SSE), SM2(0x50, PFX_66, MOD_REG, MOVMSKPD, "Gy,Upd", FEAT_SSE2),
    PSSD(0x51, SQRTPS, SQRTPD, SQRTSS, SQRTSD),
    S2(0x52, PFX_NP, RSQRTPS, "Vps,Wps", FEAT_SSE), S2(0x52, PFX_F3, RSQRTSS, "Vss,Wss", FEAT_SSE),
    S2(0x53, PFX_NP, RCPPS, "Vps,Wps", FEAT_SSE), S2(0x53, PFX_F3, RCPSS, "Vss,Wss", FEAT_SSE),
    PSD(0x54, ANDPS, ANDPD), PSD(0x55, ANDNPS, ANDNPD), PSD(0x56, ORPS, ORPD), PSD(0x57, XORPS, XORPD),
    PSSD(0x58, ADDPS, ADDPD, ADDSS, ADDSD), PSSD(0x59, MULPS, MULPD, MULSS, MULSD),
    S2(0x5a, PFX_NP, CVTPS2PD, "Vpd,Wq", FEAT_SSE2), S2(0x5a, PFX_66, CVTPD2PS, "Vps,Wpd", FEAT_SSE2),
    S2(0x5a, PFX_F3, CVTSS2SD, "Vsd,Wss", FEAT_SSE2), S2(0x5a, PFX_F2, CVTSD2SS, "Vss,Wsd", FEAT_SSE2),
    S2(0x5b, PFX_NP, CVTDQ2PS, "Vps,Wdq", FEAT_SSE2), S2(0x5b, PFX_66, CVTPS2DQ, "Vdq,Wps", FEAT_SSE2),
    S2(0x5b, PFX_F3, CVTTPS2DQ, "Vdq,Wps", FEAT_SSE2),
    PSSD(0x5c, SUBPS, SUBPD, SUBSS, SUBSD), PSSD(0x5d, MINPS, MINPD, MINSS, MINSD),
    PSSD(0x5e, DIVPS, DIVPD, DIVSS, DIVSD), PSSD(0x5f, MAXPS, MAXPD, MAXSS, MAXSD),
    MXD(0x60, PUNPCKLBW), MXD(0x61, PUNPCKLWD), MXD(0x62, PUNPCKLDQ), MX(0x63, PACKSSWB),
    MX(0x64, PCMPGTB), MX(0x65, PCMPGTW), MX(0x66, PCMPGTD), MX(0x67, PACKUSWB),
    MX(0x68, PUNPCKHBW), MX(0x69, PUNPCKHWD), MX(0x6a, PUNPCKHDQ), MX(0x6b, PACKSSDW),
    S2(0x6c, PFX_66, PUNPCKLQDQ, "Vx,Wx", FEAT_SSE2), S2(0x6d, PFX_66, PUNPCKHQDQ, "Vx,Wx", FEAT_SSE2),
    S2(0x6e, PFX_NP, MOVD, "Pq,Ey", FEAT_MMX), S2(0x6e, PFX_66, MOVD, "Vx,Ey", FEAT_SSE2),
    S2(0x6f, PFX_NP, MOVQ, "Pq,Qq", FEAT_MMX), S2(0x6f, PFX_66, MOVDQA, "Vx,Wx", FEAT_SSE2),
    S2(0x6f, PFX_F3, MOVDQU, "Vx,Wx", FEAT_SSE2),
    S2(0x70, PFX_NP, PSHUFW, "Pq,Qq,Ib", FEAT_SSE), S2(0x70, PFX_66, PSHUFD, "Vx,Wx,Ib", FEAT_SSE2),
    S2(0x70, PFX_F3, PSHUFHW, "Vx,Wx,Ib", FEAT_SSE2), S2(0x70, PFX_F2, PSHUFLW, "Vx,Wx,Ib", FEAT_SSE2),
    SG2(0x71, PFX_NP, 2, PSRLW, "Nq,Ib", FEAT_MMX), SG2(0x71, PFX_66, 2, PSRLW, "Ux,Ib", FEAT_SSE2),
    SG2(0x71, PFX_NP, 4, PSRAW, "Nq,Ib", FEAT_MMX), SG2(0x71, PFX_66, 4, PSRAW, "Ux,Ib", FEAT_SSE2),
    SG2(0x71, PFX_NP, 6, PSLLW, "Nq,Ib", FEAT_MMX), SG2(0x71, PFX_66, 6, PSLLW, "Ux,Ib", FEAT_SSE2),
    SG2(0x72, PFX_NP, 2, PSRLD, "Nq,Ib", FEAT_MMX), SG2(0x72, PFX_66, 2, PSRLD, "Ux,Ib", FEAT_SSE2),
    SG2(0x72, PFX_NP, 4, PSRAD, "Nq,Ib", FEAT_MMX), SG2(0x72, PFX_66, 4, PSRAD, "Ux,Ib", FEAT_SSE2),
    SG2(0x72, PFX_NP, 6, PSLLD, "Nq,Ib", FEAT_MMX), SG2(0x72, PFX_66, 6, PSLLD, "Ux,Ib", FEAT_SSE2),
    SG2(0x73, PFX_NP, 2, PSRLQ, "Nq,Ib", FEAT_MMX), SG2(0x73, PFX_66, 2, PSRLQ, "Ux,Ib", FEAT_SSE2),
    SG2(0x73, PFX_66, 3, PSRLDQ, "Ux,Ib", FEAT_SSE2),
    SG2(0x73, PFX_NP, 6, PSLLQ, "Nq,Ib", FEAT_MMX), SG2(0x73, PFX_66, 6, PSLLQ, "Ux,Ib", FEAT_SSE2),
    SG2(0x73, PFX_66, 7, PSLLDQ, "Ux,Ib", FEAT_SSE2),
    MX(0x74, PCMPEQB), MX(0x75, PCMPEQW), MX(0x76, PCMPEQD),
    S2(0x77, PFX_NP, EMMS, "", FEAT_MMX),
    S2(0x7c, PFX_66, HADDPD, "Vpd,Wpd", FEAT_SSE3), S2(0x7c, PFX_F2, HADDPS, "Vps,Wps", FEAT_SSE3),
    S2(0x7d, PFX_66, HSUBPD, "Vpd,Wpd", FEAT_SSE3), S2(0x7d, PFX_F2, HSUBPS, "Vps,Wps", FEAT_SSE3),
    S2(0x7e, PFX_NP, MOVD, "Ey,Pq", FEAT_MMX), S2(0x7e, PFX_66, MOVD, "Ey,Vx", FEAT_SSE2),
    S2(0x7e, PFX_F3, MOVQ, "Vx,Wq", FEAT_SSE2),
    S2(0x7f, PFX_NP, MOVQ, "Qq,Pq", FEAT_MMX), S2(0x7f, PFX_66, MOVDQA, "Wx,Vx", FEAT_SSE2),
    S2(0x7f, PFX_F3, MOVDQU, "Wx,Vx", FEAT_SSE2),
    S2(0xc2, PFX_NP, CMPPS, "Vps,Wps,Ib", FEAT_SSE), S2(0xc2, PFX_66, CMPPD, "Vpd,Wpd,Ib", FEAT_SSE2),
    S2(0xc2, PFX_F3, CMPSS, "Vss,Wss,Ib", FEAT_SSE), S2(0xc2, PFX_F2, CMPSD, "Vsd,Wsd,Ib", FEAT_SSE2),
    S2(0xc4, PFX_NP, PINSRW, "Pq,Ew,Ib", FEAT_SSE), S2(0xc4, PFX_66, PINSRW, "Vx,Ew,Ib", FEAT_SSE2),
    SM2(0xc5, PFX_NP, MOD_REG, PEXTRW, "Gy,Nq,Ib", FEAT_SSE),
    SM2(0xc5, PFX_66, MOD_REG, PEXTRW, "Gy,Ux,Ib", FEAT_SSE2),
    S2(0xc6, PFX_NP, SHUFPS, "Vps,Wps,Ib", FEAT_SSE), S2(0xc6, PFX_66, SHUFPD, "Vpd,Wpd,Ib", FEAT_SSE2),
    S2(0xd0, PFX_66, ADDSUBPD, "Vpd,Wpd", FEAT_SSE3), S2(0xd0, PFX_F2, ADDSUBPS, "Vps,Wps", FEAT_SSE3),
    MX(0xd1, PSRLW), MX(0xd2, PSRLD), MX(0xd3, PSRLQ), MX(0xd4, PADDQ), MX(0xd5, PMULLW),
    S2(0xd6, PFX_66, MOVQ, "Wq,Vq", FEAT_SSE2),
    SM2(0xd6, PFX_F3, MOD_REG, MOVQ2DQ, "Vx,Nq", FEAT_SSE2),
    SM2(0xd6, PFX_F2, MOD_REG, MOVDQ2Q, "Pq,Uq", FEAT_SSE2),
    SM2(0xd7, PFX_NP, MOD_REG, PMOVMSKB, "Gy,Nq", FEAT_SSE),
    SM2(0xd7, PFX_66, MOD_REG, PMOVMSKB, "Gy,Ux", FEAT_SSE2),
    MX(0xd8, PSUBUSB), MX(0xd9, PSUBUSW), MX(0xda, PMINUB), MX(0xdb, PAND),
    MX(0xdc, PADDUSB), MX(0xdd, PADDUSW), MX(0xde, PMAXUB), MX(0xdf, PANDN),
    MX(0xe0, PAVGB), MX(0xe1, PSRAW), MX(0xe2, PSRAD), MX(0xe3, PAVGW),
    MX(0xe4, PMULHUW), MX(0xe5, PMULHW),
    S2(0xe6, PFX_66, CVTTPD2DQ, "Vx,Wpd", FEAT_SSE2), S2(0xe6, PFX_F3, CVTDQ2PD, "Vx,Wq", FEAT_SSE2),
    S2(0xe6, PFX_F2, CVTPD2DQ, "Vx,Wpd", FEAT_SSE2),
    SM2(0xe7, PFX_NP, MOD_MEM, MOVNTQ, "Mq,Pq", FEAT_SSE), SM2(0xe7, PFX_66, MOD_MEM, MOVNTDQ, "Mx,Vx", FEAT_SSE2),
    MX(0xe8, PSUBSB), MX(0xe9, PSUBSW), MX(0xea, PMINSW), MX(0xeb, POR),
    MX(0xec, PADDSB), MX(0xed, PADDSW), MX(0xee, PMAXSW), MX(0xef, PXOR),
    SM2(0xf0, PFX_F2, MOD_MEM, LDDQU, "Vx,Mx", FEAT_SSE3),
    MX(0xf1, PSLLW), MX(0xf2, PSLLD), MX(0xf3, PSLLQ), MX(0xf4, PMULUDQ), MX(0xf5, PMADDWD),
    MX(0xf6, PSADBW),
    SM2(0xf7, PFX_NP, MOD_REG, MASKMOVQ, "Pq,Nq", FEAT_SSE),
    SM2(0xf7, PFX_66, MOD_REG, MASKMOVDQU, "Vx,Ux", FEAT_SSE2),
    MX(0xf8, PSUBB), MX(0xf9, PSUBW), MX(0xfa, PSUBD), MX(0xfb, PSUBQ),
    MX(0xfc, PADDB), MX(0xfd, PADDW), MX(0xfe, PADDD),

    /* ---------------- 0F38 map ---------------- */
    MX38(0x00, PSHUFB), MX38(0x01, PHADDW), MX38(0x02, PHADDD), MX38(0x03, PHADDSW),
    MX38(0x04, PMADDUBSW), MX38(0x05, PHSUBW), MX38(0x06, PHSUBD), MX38(0x07, PHSUBSW),
    MX38(0x08, PSIGNB), MX38(0x09, PSIGNW), MX38(0x0a, PSIGND), MX38(0x0b, PMULHRSW),
    S38(0x10, PFX_66, PBLENDVB, "Vx,Wx", FEAT_SSE41), S38(0x14, PFX_66, BLENDVPS, "Vx,Wx", FEAT_SSE41),
    S38(0x15, PFX_66, BLENDVPD, "Vx,Wx", FEAT_SSE41), S38(0x17, PFX_66, PTEST, "Vx,Wx", FEAT_SSE41),
    MX38(0x1c, PABSB), MX38(0x1d, PABSW), MX38(0x1e, PABSD),
    S38(0x20, PFX_66, PMOVSXBW, "Vx,Wq", FEAT_SSE41), S38(0x21, PFX_66, PMOVSXBD, "Vx,Wd", FEAT_SSE41),
    S38(0x22, PFX_66, PMOVSXBQ, "Vx,Ww", FEAT_SSE41), S38(0x23, PFX_66, PMOVSXWD, "Vx,Wq", FEAT_SSE41),
    S38(0x24, PFX_66, PMOVSXWQ, "Vx,Wd", FEAT_SSE41), S38(0x25, PFX_66, PMOVSXDQ, "Vx,Wq", FEAT_SSE41),
    S38(0x28, PFX_66, PMULDQ, "Vx,Wx", FEAT_SSE41), S38(0x29, PFX_66, PCMPEQQ, "Vx,Wx", FEAT_SSE41),
    ROW(MAP_0F38, 0x2a, PFX_66, -1, MOD_MEM, -1, MOVNTDQA, "Vx,Mx", 0, FEAT_SSE41, EXEC_SSE),
    S38(0x2b, PFX_66, PACKUSDW, "Vx,Wx", FEAT_SSE41),
    S38(0x30, PFX_66, PMOVZXBW, "Vx,Wq", FEAT_SSE41), S38(0x31, PFX_66, PMOVZXBD, "Vx,Wd", FEAT_SSE41),
    S38(0x32, PFX_66, PMOVZXBQ, "Vx,Ww", FEAT_SSE41), S38(0x33, PFX_66, PMOVZXWD, "Vx,Wq", FEAT_SSE41),
    S38(0x34, PFX_66, PMOVZXWQ, "Vx,Wd", FEAT_SSE41), S38(0x35, PFX_66, PMOVZXDQ, "Vx,Wq", FEAT_SSE41),
    S38(0x37, PFX_66, PCMPGTQ, "Vx,Wx", FEAT_SSE42),
    S38(0x38, PFX_66, PMINSB, "Vx,Wx", FEAT_SSE41), S38(0x39, PFX_66, PMINSD, "Vx,Wx", FEAT_SSE41),
    S38(0x3a, PFX_66, PMINUW, "Vx,Wx", FEAT_SSE41), S38(0x3b, PFX_66, PMINUD, "Vx,Wx", FEAT_SSE41),
    S38(0x3c, PFX_66, PMAXSB, "Vx,Wx", FEAT_SSE41), S38(0x3d, PFX_66, PMAXSD, "Vx,Wx", FEAT_SSE41),
    S38(0x3e, PFX_66, PMAXUW, "Vx,Wx", FEAT_SSE41), S38(0x3f, PFX_66, PMAXUD, "Vx,Wx", FEAT_SSE41),
    S38(0x40, PFX_66, PMULLD, "Vx,Wx", FEAT_SSE41), S38(0x41, PFX_66, PHMINPOSUW, "Vx,Wx", FEAT_SSE41),
    ROW(MAP_0F38, 0xf0, PFX_F2, -1, MOD_ANY, -1, CRC32, "Gy,Eb", 0, FEAT_SSE42, EXEC_INT),
    ROW(MAP_0F38, 0xf0, PFX_NP, -1, MOD_MEM, -1, MOVBE, "Gv,Mv", 0, FEAT_MOVBE, EXEC_INT),
    ROW(MAP_0F38, 0xf0, PFX_66, -1, MOD_MEM, -1, MOVBE, "Gv,Mv", 0, FEAT_MOVBE, EXEC_INT),
    ROW(MAP_0F38, 0xf1, PFX_F2, -1, MOD_ANY, -1, CRC32, "Gy,Ev", 0, FEAT_SSE42, EXEC_INT),
    ROW(MAP_0F38, 0xf1, PFX_NP, -1, MOD_MEM, -1, MOVBE, "Mv,Gv", 0, FEAT_MOVBE, EXEC_INT),
    ROW(MAP_0F38, 0xf1, PFX_66, -1, MOD_MEM, -1, MOVBE, "Mv,Gv", 0, FEAT_MOVBE, EXEC_INT),

    /* ---------------- 0F3A map ---------------- */
    S3A(0x08, PFX_66, ROUNDPS, "Vx,Wx,Ib", FEAT_SSE41), S3A(0x09, PFX_66, ROUNDPD, "Vx,Wx,Ib", FEAT_SSE41),
    S3A(0x0a, PFX_66, ROUNDSS, "Vss,Wss,Ib", FEAT_SSE41), S3A(0x0b, PFX_66, ROUNDSD, "Vsd,Wsd,Ib", FEAT_SSE41),
    S3A(0x0c, PFX_66, BLENDPS, "Vx,Wx,Ib", FEAT_SSE41), S3A(0x0d, PFX_66, BLENDPD, "Vx,Wx,Ib", FEAT_SSE41),
    S3A(0x0e, PFX_66, PBLENDW, "Vx,Wx,Ib", FEAT_SSE41),
    S3A(0x0f, PFX_NP, PALIGNR, "Pq,Qq,Ib", FEAT_SSSE3), S3A(0x0f, PFX_66, PALIGNR, "Vx,Wx,Ib", FEAT_SSSE3),
    S3A(0x14, PFX_66, PEXTRB, "Eb,Vx,Ib", FEAT_SSE41), S3A(0x15, PFX_66, PEXTRW, "Ew,Vx,Ib", FEAT_SSE41),
    S3A(0x16, PFX_66, PEXTRD, "Ey,Vx,Ib", FEAT_SSE41), S3A(0x17, PFX_66, EXTRACTPS, "Ed,Vx,Ib", FEAT_SSE41),
    S3A(0x20, PFX_66, PINSRB, "Vx,Eb,Ib", FEAT_SSE41), S3A(0x21, PFX_66, INSERTPS, "Vx,Wd,Ib", FEAT_SSE41),
    S3A(0x22, PFX_66, PINSRD, "Vx,Ey,Ib", FEAT_SSE41),
    S3A(0x40, PFX_66, DPPS, "Vx,Wx,Ib", FEAT_SSE41), S3A(0x41, PFX_66, DPPD, "Vx,Wx,Ib", FEAT_SSE41),
    S3A(0x42, PFX_66, MPSADBW, "Vx,Wx,Ib", FEAT_SSE41),
    S3A(0x60, PFX_66, PCMPESTRM, "Vx,Wx,Ib", FEAT_SSE42), S3A(0x61, PFX_66, PCMPESTRI, "Vx,Wx,Ib", FEAT_SSE42),
    S3A(0x62, PFX_66, PCMPISTRM, "Vx,Wx,Ib", FEAT_SSE42), S3A(0x63, PFX_66, PCMPISTRI, "Vx,Wx,Ib", FEAT_SSE42),
};

#undef L

/* What each mnemonic does to RFLAGS and whether it ends a block or may
 * fault without a memory operand. Mnemonics not listed touch no flags. */
#define FA FL_ARITH
struct mnem_info {
    uint16_t id, read, written;
    uint32_t attr;
};
static const struct mnem_info mnem_infos[] = {
    { I_ADD, 0, FA, 0 }, { I_OR, 0, FA, 0 }, { I_ADC, FL_CF, FA, 0 },
    { I_SBB, FL_CF, FA, 0 }, { I_AND, 0, FA, 0 }, { I_SUB, 0, FA, 0 },
    { I_XOR, 0, FA, 0 }, { I_CMP, 0, FA, 0 }, { I_TEST, 0, FA, 0 },
    { I_INC, 0, FA & ~FL_CF, 0 }, { I_DEC, 0, FA & ~FL_CF, 0 },
    { I_NEG, 0, FA, 0 }, { I_MUL, 0, FA, 0 }, { I_IMUL, 0, FA, 0 },
    { I_DIV, 0, FA, OPA_FAULT }, { I_IDIV, 0, FA, OPA_FAULT },
    { I_ROL, FA, FA, 0 }, { I_ROR, FA, FA, 0 }, { I_RCL, FA, FA, 0 },
    { I_RCR, FA, FA, 0 }, { I_SHL, FA, FA, 0 }, { I_SHR, FA, FA, 0 },
    { I_SAR, FA, FA, 0 }, { I_SHLD, FA, FA, 0 }, { I_SHRD, FA, FA, 0 },
    { I_DAA, FL_CF | FL_AF, FA, 0 }, { I_DAS, FL_CF | FL_AF, FA, 0 },
    { I_AAA, FL_AF, FA, 0 }, { I_AAS, FL_AF, FA, 0 },
    { I_AAM, 0, FA, OPA_FAULT }, { I_AAD, 0, FA, 0 }, { I_SALC, FL_CF, 0, 0 },
    { I_PUSH, 0, 0, OPA_FAULT }, { I_POP, 0, 0, OPA_FAULT },
    { I_PUSHA, 0, 0, OPA_FAULT }, { I_POPA, 0, 0, OPA_FAULT },
    { I_PUSHF, FA | FL_DF, 0, OPA_FAULT },
    { I_POPF, 0, FA | FL_DF, OPA_FAULT | OPA_END },
    { I_ENTER, 0, 0, OPA_FAULT }, { I_LEAVE, 0, 0, OPA_FAULT },
    { I_LAHF, FA, 0, 0 }, { I_SAHF, 0, FA & ~FL_OF, 0 },
    { I_BOUND, 0, 0, OPA_FAULT }, { I_ARPL, 0, FL_ZF, OPA_FAULT },
    { I_LES, 0, 0, OPA_FAULT }, { I_LDS, 0, 0, OPA_FAULT },
    { I_LSS, 0, 0, OPA_FAULT }, { I_LFS, 0, 0, OPA_FAULT },
    { I_LGS, 0, 0, OPA_FAULT }, { I_MOVSEG, 0, 0, OPA_FAULT | OPA_END },
    { I_MOVS, FL_DF, 0, OPA_FAULT }, { I_CMPS, FL_DF, FA, OPA_FAULT },
    { I_STOS, FL_DF, 0, OPA_FAULT }, { I_LODS, FL_DF, 0, OPA_FAULT },
    { I_SCAS, FL_DF, FA, OPA_FAULT }, { I_INS, FL_DF, 0, OPA_FAULT },
    { I_OUTS, FL_DF, 0, OPA_FAULT }, { I_IN, 0, 0, OPA_FAULT },
    { I_OUT, 0, 0, OPA_FAULT },
    { I_JCC, 0, 0, OPA_END }, { I_JMP, 0, 0, OPA_END | OPA_FAULT },
    { I_JMPF, 0, FA | FL_DF, OPA_END | OPA_FAULT },
    { I_CALL, 0, 0, OPA_END | OPA_FAULT },
    { I_CALLF, FA | FL_DF, FA | FL_DF, OPA_END | OPA_FAULT },
    { I_RET, 0, 0, OPA_END | OPA_FAULT },
    { I_RETF, 0, FA | FL_DF, OPA_END | OPA_FAULT },
    { I_LOOPNE, FL_ZF, 0, OPA_END | OPA_FAULT },
    { I_LOOPE, FL_ZF, 0, OPA_END | OPA_FAULT },
    { I_LOOP, 0, 0, OPA_END | OPA_FAULT }, { I_JCXZ, 0, 0, OPA_END | OPA_FAULT },
    { I_INT3, FA | FL_DF, FA | FL_DF, OPA_END | OPA_FAULT },
    { I_INT, FA | FL_DF, FA | FL_DF, OPA_END | OPA_FAULT },
    { I_INTO, FA | FL_DF, FA | FL_DF, OPA_END | OPA_FAULT },
    { I_INT1, FA | FL_DF, FA | FL_DF, OPA_END | OPA_FAULT },
    { I_IRET, 0, FA | FL_DF, OPA_END | OPA_FAULT },
    { I_HLT, 0, 0, OPA_END | OPA_FAULT | OPA_PRIV },
    { I_CMC, FL_CF, FL_CF, 0 }, { I_CLC, 0, FL_CF, 0 }, { I_STC, 0, FL_CF, 0 },
    { I_CLI, 0, 0, OPA_FAULT }, { I_STI, 0, 0, OPA_FAULT | OPA_END },
    { I_CLD, 0, FL_DF, 0 }, { I_STD, 0, FL_DF, 0 },
    { I_BT, 0, FA, 0 }, { I_BTS, 0, FA, 0 }, { I_BTR, 0, FA, 0 },
    { I_BTC, 0, FA, 0 }, { I_BSF, 0, FA, 0 }, { I_BSR, 0, FA, 0 },
    { I_TZCNT, 0, FA, 0 }, { I_LZCNT, 0, FA, 0 }, { I_POPCNT, 0, FA, 0 },
    { I_XADD, 0, FA, 0 }, { I_CMPXCHG, 0, FA, 0 },
    { I_CMPXCHG8B, 0, FL_ZF, 0 }, { I_RDRAND, 0, FA, 0 },
    { I_RDSEED, 0, FA, 0 },
    { I_UD0, 0, 0, OPA_FAULT | OPA_END }, { I_UD1, 0, 0, OPA_FAULT | OPA_END },
    { I_UD2, 0, 0, OPA_FAULT | OPA_END },
    { I_SLDT, 0, 0, OPA_FAULT }, { I_STR, 0, 0, OPA_FAULT },
    { I_LLDT, 0, 0, OPA_FAULT | OPA_PRIV }, { I_LTR, 0, 0, OPA_FAULT | OPA_PRIV },
    { I_VERR, 0, FL_ZF, OPA_FAULT }, { I_VERW, 0, FL_ZF, OPA_FAULT },
    { I_SGDT, 0, 0, OPA_FAULT }, { I_SIDT, 0, 0, OPA_FAULT },
    { I_LGDT, 0, 0, OPA_FAULT | OPA_PRIV }, { I_LIDT, 0, 0, OPA_FAULT | OPA_PRIV },
    { I_SMSW, 0, 0, OPA_FAULT }, { I_LMSW, 0, 0, OPA_FAULT | OPA_PRIV | OPA_END },
    { I_INVLPG, 0, 0, OPA_FAULT | OPA_PRIV | OPA_END },
    { I_SWAPGS, 0, 0, OPA_FAULT | OPA_PRIV }, { I_RDTSCP, 0, 0, OPA_FAULT },
    { I_LAR, 0, FL_ZF, OPA_FAULT }, { I_LSL, 0, FL_ZF, OPA_FAULT },
    { I_SYSCALL, FA | FL_DF, FA | FL_DF, OPA_FAULT | OPA_END },
    { I_SYSRET, 0, FA | FL_DF, OPA_FAULT | OPA_END | OPA_PRIV },
    { I_SYSENTER, 0, 0, OPA_FAULT | OPA_END },
    { I_SYSEXIT, 0, 0, OPA_FAULT | OPA_END | OPA_PRIV },
    { I_CLTS, 0, 0, OPA_FAULT | OPA_PRIV }, { I_INVD, 0, 0, OPA_FAULT | OPA_PRIV },
    { I_WBINVD, 0, 0, OPA_FAULT | OPA_PRIV },
    { I_MOVCR, 0, FA, OPA_FAULT | OPA_PRIV | OPA_END },
    { I_MOVDR, 0, FA, OPA_FAULT | OPA_PRIV | OPA_END },
    { I_WRMSR, 0, 0, OPA_FAULT | OPA_PRIV | OPA_END },
    { I_RDMSR, 0, 0, OPA_FAULT | OPA_PRIV }, { I_RDTSC, 0, 0, OPA_FAULT },
    { I_RDPMC, 0, 0, OPA_FAULT }, { I_CPUID, 0, 0, 0 },
    { I_RDFSBASE, 0, 0, OPA_FAULT }, { I_RDGSBASE, 0, 0, OPA_FAULT },
    { I_WRFSBASE, 0, 0, OPA_FAULT }, { I_WRGSBASE, 0, 0, OPA_FAULT },
    { I_X87, FA, FA, OPA_FAULT }, { I_FWAIT, 0, 0, OPA_FAULT },
    { I_UCOMISS, 0, FA, 0 }, { I_UCOMISD, 0, FA, 0 }, { I_COMISS, 0, FA, 0 },
    { I_COMISD, 0, FA, 0 }, { I_PTEST, 0, FA, 0 }, { I_PCMPESTRM, 0, FA, 0 },
    { I_PCMPESTRI, 0, FA, 0 }, { I_PCMPISTRM, 0, FA, 0 },
    { I_PCMPISTRI, 0, FA, 0 },
};
#undef FA

static const char *const mnem_names[I_COUNT] = {
#define X86_MNEM_NAME(m) #m,
    X86_MNEMONICS(X86_MNEM_NAME)
#undef X86_MNEM_NAME
};

#define NROWS (sizeof(opcode_rows) / sizeof(opcode_rows[0]))

static struct x86_opcode *sorted_rows[NROWS];
static struct x86_opcode_slot slots[4][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static noreturn void table_bug(const struct x86_opcode *row, const char *why)
{
    fprintf(stderr, "tandem: opcode table row %s (map %u opcode %02x): %s\n",
            row->mnemonic, row->map, row->opcode, why);
    abort();
}

static const struct {
    const char *name;
    uint8_t method, size, reg;
} fixed_operands[] = {
    { "AL", OM_REG, OS_b, R_AX }, { "CL", OM_REG, OS_b, R_CX },
    { "DX", OM_REG, OS_w, R_DX }, { "eAX", OM_REG, OS_z, R_AX },
    { "rAX", OM_REG, OS_v, R_AX }, { "ES", OM_SEG, OS_w, S_ES },
    { "CS", OM_SEG, OS_w, S_CS }, { "SS", OM_SEG, OS_w, S_SS },
    { "DS", OM_SEG, OS_w, S_DS }, { "FS", OM_SEG, OS_w, S_FS },
    { "GS", OM_SEG, OS_w, S_GS }, { "1", OM_ONE, OS_b, 0 },
    { "Ibs", OM_IS, OS_b, 0 }, { "F", OM_F, OS_NONE, 0 },
    { "M", OM_M, OS_NONE, 0 },
};

static const char methods[] = "ACDEGIJMNOPQRSUVWXYZ";
static const uint8_t method_of[] = {
    OM_A, OM_C, OM_D, OM_E, OM_G, OM_I, OM_J, OM_M, OM_N, OM_O, OM_P,
    OM_Q, OM_R, OM_S, OM_U, OM_V, OM_W, OM_X, OM_Y, OM_Z,
};
static const char *const size_names[] = {
    [OS_b] = "b", [OS_w] = "w", [OS_d] = "d", [OS_q] = "q", [OS_v] = "v",
    [OS_z] = "z", [OS_y] = "y", [OS_p] = "p", [OS_s] = "s", [OS_a] = "a",
    [OS_dq] = "dq", [OS_x] = "x", [OS_ps] = "ps", [OS_pd] = "pd",
    [OS_ss] = "ss", [OS_sd] = "sd",
};

static void parse_operand(struct x86_opcode *row, const char *tok, size_t n,
                          struct x86_operand *o)
{
    for (size_t i = 0; i < sizeof(fixed_operands) / sizeof(fixed_operands[0]);
         i++) {
        if (strlen(fixed_operands[i].name) == n &&
            !memcmp(fixed_operands[i].name, tok, n)) {
            o->method = fixed_operands[i].method;
            o->size = fixed_operands[i].size;
            o->reg = fixed_operands[i].reg;
            return;
        }
    }
    const char *m = n ? strchr(methods, tok[0]) : NULL;
    if (!m)
        table_bug(row, "unknown operand method");
    o->method = method_of[m - methods];
    o->reg = 0;
    for (size_t s = 1; s < sizeof(size_names) / sizeof(size_names[0]); s++) {
        if (strlen(size_names[s]) == n - 1 && !memcmp(size_names[s], tok + 1,
                                                      n - 1)) {
            o->size = s;
            return;
        }
    }
    table_bug(row, "unknown operand size");
}

static bool method_uses_modrm(unsigned m)
{
    switch (m) {
    case OM_C: case OM_D: case OM_E: case OM_G: case OM_M: case OM_N:
    case OM_P: case OM_Q: case OM_R: case OM_S: case OM_U: case OM_V:
    case OM_W: case OM_F:
        return true;
    default:
        return false;
    }
}

static void parse_row(struct x86_opcode *row)
{
    const char *p = row->spec;
    row->nopnd = 0;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (row->nopnd == 4)
            table_bug(row, "too many operands");
        parse_operand(row, p, n, &row->opnd[row->nopnd++]);
        p += n + (end ? 1 : 0);
    }
    for (size_t i = 0; i < sizeof(mnem_infos) / sizeof(mnem_infos[0]); i++) {
        if (mnem_infos[i].id == row->id) {
            row->flags_read = mnem_infos[i].read;
            row->flags_written = mnem_infos[i].written;
            row->attr |= mnem_infos[i].attr;
        }
    }
    if (row->attr & OPA_COND) {
        static const uint16_t cond_flags[8] = {
            FL_OF, FL_CF, FL_ZF, FL_CF | FL_ZF, FL_SF, FL_PF, FL_SF | FL_OF,
            FL_ZF | FL_SF | FL_OF,
        };
        row->flags_read |= cond_flags[(row->opcode >> 1) & 7];
    }
    if (row->exec != EXEC_INT)
        row->attr |= OPA_FAULT;
}

static bool row_needs_modrm(const struct x86_opcode *row)
{
    if (row->reg >= 0 || row->mod != MOD_ANY)
        return true;
    for (unsigned i = 0; i < row->nopnd; i++)
        if (method_uses_modrm(row->opnd[i].method))
            return true;
    return false;
}

static int row_order(const void *a, const void *b)
{
    const struct x86_opcode *x = *(struct x86_opcode *const *)a;
    const struct x86_opcode *y = *(struct x86_opcode *const *)b;
    int kx = x->map * 256 + x->opcode, ky = y->map * 256 + y->opcode;
    if (kx != ky)
        return kx - ky;
    return x < y ? -1 : x > y; /* table order within one opcode */
}

static void table_build(void)
{
    static struct x86_opcode ordered[NROWS];
    for (size_t i = 0; i < NROWS; i++) {
        parse_row(&opcode_rows[i]);
        sorted_rows[i] = &opcode_rows[i];
    }
    qsort(sorted_rows, NROWS, sizeof(sorted_rows[0]), row_order);
    for (size_t i = 0; i < NROWS; i++)
        ordered[i] = *sorted_rows[i];
    for (size_t i = 0; i < NROWS; i++) {
        struct x86_opcode_slot *s = &slots[ordered[i].map][ordered[i].opcode];
        bool modrm = row_needs_modrm(&ordered[i]);
        if (!s->count) {
            s->first = &ordered[i];
            s->has_modrm = modrm;
        } else if (s->has_modrm != modrm) {
            table_bug(&ordered[i], "rows of one opcode disagree on modrm");
        }
        s->count++;
    }
}

void x86_opcode_table_init(void)
{
    pthread_once(&table_once, table_build);
}

const struct x86_opcode_slot *x86_opcode_slot(unsigned map, unsigned opcode)
{
    return &slots[map & 3][opcode & 0xff];
}

const char *x86_mnemonic_name(unsigned id)
{
    return id < I_COUNT ? mnem_names[id] : "?";
}

unsigned x86_operand_bytes(const struct x86_insn *insn,
                           const struct x86_operand *o)
{
    switch (o->size) {
    case OS_b: return 1;
    case OS_w: return 2;
    case OS_d: case OS_ss: return 4;
    case OS_q: case OS_sd: return 8;
    case OS_v: return insn->opsize;
    case OS_z: return insn->opsize == 2 ? 2 : 4;
    case OS_y: return insn->opsize == 8 ? 8 : 4;
    case OS_dq: case OS_x: case OS_ps: case OS_pd: return 16;
    default: return 0;
    }
}
