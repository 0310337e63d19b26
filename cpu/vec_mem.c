/* Memory operands of the x87, MMX and SSE instructions (their effective
 * address is insn_ea() of cpu/interp.h): offsets within the address size,
 * and block reads and writes through segmentation and paging (cpu_seg_to_lin
 * + the linear buffer accessors), so a multi-byte operand is checked as a
 * whole before anything is written. */
#include "cpu/fpu_internal.h"
#include "cpu/interp.h"

uint64_t vec_ea_add(const struct x86_insn *insn, uint64_t ea, uint64_t add)
{
    return (ea + add) & addr_mask(insn->addrsize);
}

static int mem_seg(const struct x86_insn *insn)
{
    return insn->mem_seg >= 0 ? insn->mem_seg : S_DS;
}

uint64_t vec_lin(struct cpu *cpu, const struct x86_insn *insn, uint64_t ea)
{
    return cpu_seg_to_lin(cpu, mem_seg(insn), ea, 1, ACC_READ);
}

void vec_read(struct cpu *cpu, const struct x86_insn *insn, uint64_t ea,
              void *buf, unsigned len)
{
    uint64_t lin = cpu_seg_to_lin(cpu, mem_seg(insn), ea, len, ACC_READ);
    cpu_read_lin_buf(cpu, lin, buf, len, ACC_READ);
}

void vec_write(struct cpu *cpu, const struct x86_insn *insn, uint64_t ea,
               const void *buf, unsigned len)
{
    uint64_t lin = cpu_seg_to_lin(cpu, mem_seg(insn), ea, len, ACC_WRITE);
    cpu_write_lin_buf(cpu, lin, buf, len, ACC_WRITE);
}
