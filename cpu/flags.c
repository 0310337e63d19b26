/* RFLAGS on top of the lazy-flags record: the six arithmetic flags are
 * computed from cpu->cc (see cpu/alu.h) only when read; every other bit
 * lives in cpu->s.rflags. Interrupt delivery, PUSHF, LAHF, the snapshot and
 * the backends' get_state use cpu_get_rflags(); POPF, SAHF, IRET and
 * set_state use cpu_set_rflags(). */
#include "cpu/alu.h"

/* bits that always read as 0 (3, 5, 15, 22..63) and as 1 (bit 1) */
#define FL_RESERVED0 (~0x3f7fd7ULL)

uint64_t cc_flags(const struct cpu_cc *cc)
{
    if (cc->op == CC_OP_EAGER)
        return cc->flags;
    return (cc_cf(cc) ? FL_CF : 0) | (cc_pf(cc) ? FL_PF : 0) |
           (cc_af(cc) ? FL_AF : 0) | (cc_zf(cc) ? FL_ZF : 0) |
           (cc_sf(cc) ? FL_SF : 0) | (cc_of(cc) ? FL_OF : 0);
}

uint64_t cpu_get_rflags(struct cpu *cpu)
{
    return (cpu->s.rflags & ~(uint64_t)FL_ARITH) | cc_flags(&cpu->cc);
}

/* Stores every bit as given (the caller decides which bits an instruction
 * may change), except that the reserved bits keep their fixed values. */
void cpu_set_rflags(struct cpu *cpu, uint64_t value)
{
    value = (value & ~FL_RESERVED0) | FL_FIXED1;
    cpu->s.rflags = value;
    cc_set_eager(&cpu->cc, value);
}

bool cpu_cond(struct cpu *cpu, unsigned cc)
{
    return cc_cond(&cpu->cc, cc);
}
