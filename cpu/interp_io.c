/* Interpreter: IN and OUT with an immediate or DX port, after the I/O
 * permission check (IOPL, TSS bitmap); the port bus does the rest. INS and
 * OUTS are in cpu/interp_string.c. */
#include "cpu/interp.h"
#include "vm/port_bus.h"

static unsigned io_size(const struct x86_insn *insn)
{
    return insn->op->opnd[0].size == OS_b || insn->op->opnd[1].size == OS_b
               ? 1 : insn->opsize == 2 ? 2 : 4;
}

static void op_in(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = io_size(insn);
    uint16_t port = insn->op->opnd[1].method == OM_REG
                        ? (uint16_t)cpu->s.gpr[R_DX] : (uint8_t)insn->imm;
    cpu_check_io(cpu, port, size);
    gpr_set(cpu, R_AX, size, port_read(cpu->io, port, size));
}

static void op_out(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = io_size(insn);
    uint16_t port = insn->op->opnd[0].method == OM_REG
                        ? (uint16_t)cpu->s.gpr[R_DX] : (uint8_t)insn->imm;
    cpu_check_io(cpu, port, size);
    port_write(cpu->io, port, (uint32_t)gpr_get(cpu, R_AX, size), size);
}

void interp_io_register(interp_fn *t)
{
    t[I_IN] = op_in;
    t[I_OUT] = op_out;
}
