/* The C functions generated code calls: one instruction through the
 * interpreter's handler (the fallback that keeps the JIT identical to the
 * interpreter), the slow path of memory accesses, conditions of a
 * lazy-flags record the translator could not see, and #GP for a bad jump
 * target. Each one that may fault first records the instruction start
 * (cpu->insn_rip/insn_rsp): cpu_raise() then unwinds to the run loop with
 * the state as if the block had stopped right before that instruction. */
#include <stdatomic.h>
#include "cpu/alu.h"
#include "jit/jit_gen.h"
#include "vm/vcpu_link.h"

/* an event is pending (a device the instruction touched raised one):
 * leave the block so the loop takes it at this instruction boundary, as
 * the interpreter would */
bool jit_events_pending(const struct cpu *cpu)
{
    return cpu->link && atomic_load_explicit(&cpu->link->events,
                                             memory_order_relaxed);
}

static void at_insn(struct cpu *cpu, uint64_t rip)
{
    cpu->insn_rip = rip;
    cpu->insn_rsp = cpu->s.gpr[R_SP];
}

/* Returns nonzero when the block must be left after the instruction: it
 * ends blocks, moved RIP elsewhere (REP interrupted), or wrote code. */
int jit_helper_exec(struct jit_vcpu *v, const struct jit_insn *ji)
{
    struct cpu *cpu = &v->cpu;
    at_insn(cpu, ji->rip);
    if (jit_stats_on)
        jit_stats_count_fallback(&ji->insn);
    cpu->s.rip = ji->next_rip;
    ji->fn(cpu, &ji->insn);
    if (ji->end) {
        interp_mode_changed(cpu);
        return 1;
    }
    return v->exit_now || cpu->s.rip != ji->next_rip ||
           jit_events_pending(cpu);
}

uint64_t jit_helper_load(struct jit_vcpu *v, uint64_t ea, uint32_t seg_size,
                         uint64_t rip)
{
    struct cpu *cpu = &v->cpu;
    at_insn(cpu, rip);
    jit_stats.slow_loads++;
    return cpu_read(cpu, (int)(seg_size & 0xff), ea, seg_size >> 8);
}

/* The load of a read-modify-write that the fast path did not take: the
 * read, then every check of its write, so that the write cannot fault
 * once the instruction has written its flags record (a fault leaves the
 * record as it was before the instruction, as on the CPU) */
uint64_t jit_helper_load_rmw(struct jit_vcpu *v, uint64_t ea,
                             uint32_t seg_size, uint64_t rip)
{
    uint64_t value = jit_helper_load(v, ea, seg_size, rip);
    cpu_write_check(&v->cpu, (int)(seg_size & 0xff), ea, seg_size >> 8);
    return value;
}

int jit_helper_store(struct jit_vcpu *v, uint64_t ea, uint64_t value,
                     uint32_t seg_size, uint64_t rip)
{
    struct cpu *cpu = &v->cpu;
    at_insn(cpu, rip);
    jit_stats.slow_stores++;
    cpu_write(cpu, (int)(seg_size & 0xff), ea, value, seg_size >> 8);
    if (jit_events_pending(cpu))
        v->exit_now = 1;
    if (v->exit_now) {   /* the block stops after this instruction */
        int i = jit_block_insn(v->current, rip);
        if (i >= 0)
            jit_defer_rebuild(cpu, v->current, (unsigned)i + 1);
    }
    return v->exit_now;
}

int jit_helper_cond(struct jit_vcpu *v, uint32_t cond)
{
    jit_stats.helper_conds++;
    return cc_cond(&v->cpu.cc, cond);
}

/* IMUL: CF = OF = overflow, the other flags kept (cpu/alu.c) */
void jit_helper_mul_flags(struct jit_vcpu *v, uint32_t overflow)
{
    cc_update(&v->cpu.cc, FL_CF | FL_OF, overflow ? FL_CF | FL_OF : 0);
}

void jit_helper_raise_gp(struct jit_vcpu *v, uint64_t rip)
{
    at_insn(&v->cpu, rip);
    cpu_raise(&v->cpu, EXC_GP, 0);
}
