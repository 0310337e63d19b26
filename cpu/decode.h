/* The decoded x86 instruction: what the decoder produces from the opcode
 * table (cpu/opcode_table.c) and what the interpreter, the JIT front end and
 * the disassembly views consume. One struct for 16-, 32- and 64-bit code. */
#ifndef CPU_DECODE_H
#define CPU_DECODE_H

#include <stdbool.h>
#include <stdint.h>

enum x86_map { MAP_ONE = 0, MAP_0F = 1, MAP_0F38 = 2, MAP_0F3A = 3 };

struct x86_opcode; /* a row of the opcode table (cpu/opcode_table.h) */

struct x86_insn {
    uint8_t len;          /* total length in bytes, 1..15 */
    uint8_t map;          /* enum x86_map */
    uint8_t opcode;       /* the opcode byte within its map */
    uint8_t has_modrm;
    uint8_t mod;          /* modrm.mod */
    uint8_t reg;          /* modrm.reg extended by REX.R (0..15) */
    uint8_t rm;           /* modrm.rm extended by REX.B (register form) */
    uint8_t rex;          /* the REX byte, 0 if none */
    uint8_t rep;          /* 0, 0xF2 or 0xF3 (last one seen) */
    uint8_t lock;
    uint8_t opsize_prefix; /* 0x66 seen */
    uint8_t addrsize_prefix; /* 0x67 seen */
    int8_t seg_override;  /* enum x86_seg or S_NONE */
    uint8_t opsize;       /* effective operand size: 2, 4 or 8 */
    uint8_t addrsize;     /* effective address size: 2, 4 or 8 */

    /* memory operand (has_mem): seg:[base + index*scale + disp] */
    uint8_t has_mem;
    int8_t mem_seg;       /* default or overridden segment */
    int8_t base;          /* GPR number or -1 */
    int8_t index;         /* GPR number or -1 */
    uint8_t scale;        /* 1, 2, 4, 8 */
    uint8_t rip_relative; /* disp is relative to the next instruction */
    int64_t disp;

    uint8_t imm_size;     /* bytes of the first immediate */
    int64_t imm;          /* sign- or zero-extended as the operand wants */
    int64_t imm2;         /* ENTER's second, far pointer's selector */

    const struct x86_opcode *op; /* table row; NULL when invalid (#UD) */
    uint8_t bytes[15];
};

/* Decode at most `avail` bytes of `code` for a CPU in the given mode
 * (code_size 2, 4 or 8: the CS default size; 8 means 64-bit mode).
 * Returns the length (>0), 0 when more bytes are needed than available,
 * or -1 when the bytes are not a valid instruction (the caller raises #UD;
 * insn->len then still says how many bytes were consumed up to the error,
 * and -2 means longer than 15 bytes (#GP). */
int x86_decode(struct x86_insn *insn, const uint8_t *code, unsigned avail,
               unsigned code_size);

#endif
