/* Human-readable disassembly of one instruction through Capstone, for trace
 * output, the debugger and the monitor. Not on the execution path: the
 * emulator itself decodes with cpu/decode.c. */
#ifndef CPU_DISASM_H
#define CPU_DISASM_H

#include <stddef.h>
#include <stdint.h>

/* Disassemble the instruction at `code` (at most `len` bytes) located at
 * guest address `addr`, for code_size 2, 4 or 8. Writes "mnemonic operands"
 * to buf (always NUL-terminated) and returns the length, or 0 when Capstone
 * cannot decode it (buf then says "(bad)"). */
unsigned disasm_one(const uint8_t *code, size_t len, uint64_t addr,
                    unsigned code_size, char *buf, size_t bufsize);

#endif
