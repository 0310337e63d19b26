/* Interpreter: system instructions that are not about descriptors:
 * PUSHF/POPF with the IOPL and VM rules, CLI/STI (with the interrupt
 * shadow), HLT, CPUID, RDTSC/RDTSCP/RDPMC, RDMSR/WRMSR, MOV to and from
 * control and debug registers, CLTS, LMSW/SMSW, INVLPG, INVD/WBINVD,
 * SWAPGS, RD/WRFSBASE/GSBASE, and the fast system calls SYSCALL/SYSRET and
 * SYSENTER/SYSEXIT. */
#include "cpu/interp.h"
#include "cpu/sys_internal.h"

static void need_cpl0(struct cpu *cpu)
{
    if (cpu->cpl != 0)
        raise_gp0(cpu);
}

/* --- flags --- */

static void op_pushf(struct cpu *cpu, const struct x86_insn *insn)
{
    if (cpu->mode == MODE_V86 && cpu_iopl(cpu) < 3)
        raise_gp0(cpu);
    uint64_t f = cpu_get_rflags(cpu) & ~(uint64_t)(FL_VM | FL_RF);
    stack_push(cpu, f, insn->opsize);
}

static void op_popf(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = insn->opsize;
    if (cpu->mode == MODE_V86 && cpu_iopl(cpu) < 3)
        raise_gp0(cpu);
    uint64_t v = stack_pop(cpu, size);
    uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT;
    if (size != 2)
        mask |= FL_AC | FL_ID;
    if (cpu->cpl == 0 && cpu->mode != MODE_V86)
        mask |= FL_IOPL | FL_IF;
    else if ((unsigned)cpu->cpl <= cpu_iopl(cpu))
        mask |= FL_IF;
    if (size == 2)
        mask &= 0xffff;
    uint64_t old = cpu_get_rflags(cpu);
    cpu_set_rflags(cpu, ((old & ~mask) | (v & mask)) & ~(uint64_t)FL_RF);
}

static void op_cli(struct cpu *cpu, const struct x86_insn *insn)
{
    if (cpu->mode != MODE_REAL && (unsigned)cpu->cpl > cpu_iopl(cpu))
        raise_gp0(cpu);
    cpu->s.rflags &= ~(uint64_t)FL_IF;
}

static void op_sti(struct cpu *cpu, const struct x86_insn *insn)
{
    if (cpu->mode != MODE_REAL && (unsigned)cpu->cpl > cpu_iopl(cpu))
        raise_gp0(cpu);
    if (!(cpu->s.rflags & FL_IF)) {
        cpu->s.rflags |= FL_IF;
        cpu->s.interrupt_shadow |= SHADOW_STI;
    }
}

static void op_hlt(struct cpu *cpu, const struct x86_insn *insn)
{
    need_cpl0(cpu);
    interp_halt(cpu);
}

/* --- identification, time, MSRs --- */

static void set_edx_eax(struct cpu *cpu, uint64_t v)
{
    gpr_set(cpu, R_AX, 4, v);
    gpr_set(cpu, R_DX, 4, v >> 32);
}

static void op_cpuid(struct cpu *cpu, const struct x86_insn *insn)
{
    uint32_t r[4];
    cpu_cpuid(cpu, (uint32_t)cpu->s.gpr[R_AX], (uint32_t)cpu->s.gpr[R_CX], r);
    gpr_set(cpu, R_AX, 4, r[0]);
    gpr_set(cpu, R_BX, 4, r[1]);
    gpr_set(cpu, R_CX, 4, r[2]);
    gpr_set(cpu, R_DX, 4, r[3]);
}

static void check_tsc(struct cpu *cpu)
{
    if ((cpu->s.cr4 & CR4_TSD) && cpu->cpl != 0)
        raise_gp0(cpu);
}

static void op_rdtsc(struct cpu *cpu, const struct x86_insn *insn)
{
    check_tsc(cpu);
    set_edx_eax(cpu, cpu_rdtsc(cpu));
}

static void op_rdtscp(struct cpu *cpu, const struct x86_insn *insn)
{
    check_tsc(cpu);
    set_edx_eax(cpu, cpu_rdtsc(cpu));
    gpr_set(cpu, R_CX, 4, cpu->s.tsc_aux);
}

static void op_rdpmc(struct cpu *cpu, const struct x86_insn *insn)
{
    if (!(cpu->s.cr4 & CR4_PCE) && cpu->cpl != 0)
        raise_gp0(cpu);
    if ((uint32_t)cpu->s.gpr[R_CX] > 3)  /* four counters that stay 0 */
        raise_gp0(cpu);
    set_edx_eax(cpu, 0);
}

static void op_rdmsr(struct cpu *cpu, const struct x86_insn *insn)
{
    uint64_t v;
    need_cpl0(cpu);
    if (cpu_rdmsr(cpu, (uint32_t)cpu->s.gpr[R_CX], &v) < 0)
        raise_gp0(cpu);
    set_edx_eax(cpu, v);
}

static void op_wrmsr(struct cpu *cpu, const struct x86_insn *insn)
{
    need_cpl0(cpu);
    uint64_t v = (uint32_t)cpu->s.gpr[R_AX] |
                 ((uint64_t)(uint32_t)cpu->s.gpr[R_DX] << 32);
    if (cpu_wrmsr(cpu, (uint32_t)cpu->s.gpr[R_CX], v) < 0)
        raise_gp0(cpu);
}

/* --- control and debug registers --- */

static void op_movcr(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = cpu->mode == MODE_LONG64 ? 8 : 4;
    if (insn->op->opnd[0].method == OM_C)
        cpu_write_cr(cpu, insn->reg, gpr_get(cpu, insn->rm, size));
    else
        gpr_set(cpu, insn->rm, size, cpu_read_cr(cpu, insn->reg));
}

static void op_movdr(struct cpu *cpu, const struct x86_insn *insn)
{
    unsigned size = cpu->mode == MODE_LONG64 ? 8 : 4;
    if (insn->op->opnd[0].method == OM_D)
        cpu_write_dr(cpu, insn->reg, gpr_get(cpu, insn->rm, size));
    else
        gpr_set(cpu, insn->rm, size, cpu_read_dr(cpu, insn->reg));
}

static void op_clts(struct cpu *cpu, const struct x86_insn *insn)
{
    need_cpl0(cpu);
    cpu_write_cr(cpu, 0, cpu->s.cr0 & ~(uint64_t)CR0_TS);
}

static void op_lmsw(struct cpu *cpu, const struct x86_insn *insn)
{
    need_cpl0(cpu);
    uint64_t src = rm_get(cpu, insn, 2) & 0xf;
    uint64_t cr0 = cpu->s.cr0;
    /* LMSW sets PE but never clears it */
    cr0 = (cr0 & ~0xeull) | (src & 0xe) | ((cr0 | src) & CR0_PE);
    cpu_write_cr(cpu, 0, cr0);
}

static void op_smsw(struct cpu *cpu, const struct x86_insn *insn)
{
    if ((cpu->s.cr4 & CR4_UMIP) && cpu->cpl != 0)
        raise_gp0(cpu);
    if (insn->mod == 3)
        gpr_set(cpu, insn->rm, insn->opsize, cpu->s.cr0);
    else
        rm_set(cpu, insn, 2, cpu->s.cr0);
}

static void op_invlpg(struct cpu *cpu, const struct x86_insn *insn)
{
    need_cpl0(cpu);
    const struct x86_segment *s = &cpu->s.seg[insn->mem_seg];
    uint64_t off = insn_ea(cpu, insn);
    uint64_t lin = cpu->mode == MODE_LONG64
                       ? ((insn->mem_seg >= S_FS ? s->base : 0) + off)
                       : (uint32_t)(s->base + off);
    mmu_invlpg(cpu, lin);
}

static void op_wbinvd(struct cpu *cpu, const struct x86_insn *insn)
{
    need_cpl0(cpu);
}

/* --- 64-bit segment bases --- */

static void op_swapgs(struct cpu *cpu, const struct x86_insn *insn)
{
    need_cpl0(cpu);
    uint64_t t = cpu->s.seg[S_GS].base;
    cpu->s.seg[S_GS].base = cpu->s.kernel_gs_base;
    cpu->s.kernel_gs_base = t;
}

static void fsgsbase(struct cpu *cpu, const struct x86_insn *insn, int seg,
                     bool write)
{
    if (!(cpu->s.cr4 & CR4_FSGSBASE))
        raise_ud(cpu);
    unsigned size = insn->opsize == 8 ? 8 : 4;
    if (!write) {
        gpr_set(cpu, insn->rm, size, cpu->s.seg[seg].base);
        return;
    }
    uint64_t v = gpr_get(cpu, insn->rm, size);
    if (!is_canonical(v))
        raise_gp0(cpu);
    cpu->s.seg[seg].base = v;
}

static void op_rdfsbase(struct cpu *cpu, const struct x86_insn *insn)
{
    fsgsbase(cpu, insn, S_FS, false);
}

static void op_rdgsbase(struct cpu *cpu, const struct x86_insn *insn)
{
    fsgsbase(cpu, insn, S_GS, false);
}

static void op_wrfsbase(struct cpu *cpu, const struct x86_insn *insn)
{
    fsgsbase(cpu, insn, S_FS, true);
}

static void op_wrgsbase(struct cpu *cpu, const struct x86_insn *insn)
{
    fsgsbase(cpu, insn, S_GS, true);
}

/* --- fast system calls --- */

/* a flat 4 GiB segment as SYSCALL/SYSENTER load it */
static void flat_seg(struct x86_segment *s, uint16_t sel, bool code,
                     unsigned dpl, bool long_code)
{
    s->selector = sel;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->attr = (code ? 0xb : 0x3) | SEG_ATTR_S | (dpl << 5) | SEG_ATTR_P |
              SEG_ATTR_G | (long_code ? SEG_ATTR_L : SEG_ATTR_DB);
}

static void op_syscall(struct cpu *cpu, const struct x86_insn *insn)
{
    if (!(cpu->s.efer & EFER_SCE))
        raise_ud(cpu);
    uint16_t sel = (uint16_t)(cpu->s.star >> 32) & 0xfffc;
    cpu->s.gpr[R_CX] = cpu->s.rip;
    cpu->s.gpr[R_R11] = cpu_get_rflags(cpu) & ~(uint64_t)FL_RF;
    flat_seg(&cpu->s.seg[S_CS], sel, true, 0, true);
    flat_seg(&cpu->s.seg[S_SS], (uint16_t)(sel + 8), false, 0, false);
    cpu_set_rflags(cpu, cpu_get_rflags(cpu) &
                            ~(cpu->s.sfmask | FL_RF));
    cpu->s.rip = cpu->s.lstar;
    cpu_update_mode(cpu);
}

static void op_sysret(struct cpu *cpu, const struct x86_insn *insn)
{
    if (!(cpu->s.efer & EFER_SCE))
        raise_ud(cpu);
    need_cpl0(cpu);
    uint16_t sel = (uint16_t)(cpu->s.star >> 48);
    bool to64 = insn->opsize == 8;
    uint64_t rip = to64 ? cpu->s.gpr[R_CX] : (uint32_t)cpu->s.gpr[R_CX];
    if (!is_canonical(rip))
        raise_gp0(cpu);
    cpu_set_rflags(cpu, (cpu->s.gpr[R_R11] & 0x3c7fd7) | FL_FIXED1);
    flat_seg(&cpu->s.seg[S_CS], (uint16_t)((to64 ? sel + 16 : sel) | 3),
             true, 3, to64);
    /* SYSRET leaves SS's hidden base/limit flat with DPL 3 */
    flat_seg(&cpu->s.seg[S_SS], (uint16_t)((sel + 8) | 3), false, 3, false);
    cpu->s.rip = rip;
    cpu_update_mode(cpu);
}

static void op_sysenter(struct cpu *cpu, const struct x86_insn *insn)
{
    uint16_t sel = (uint16_t)cpu->s.sysenter_cs;
    if (cpu->mode == MODE_REAL || !(sel & 0xfffc))
        raise_gp0(cpu);
    bool lm = cpu_long_mode(cpu);
    cpu->s.rflags &= ~(uint64_t)(FL_VM | FL_IF | FL_RF);
    flat_seg(&cpu->s.seg[S_CS], sel & 0xfffc, true, 0, lm);
    flat_seg(&cpu->s.seg[S_SS], (uint16_t)((sel & 0xfffc) + 8), false, 0,
             false);
    cpu->s.gpr[R_SP] = lm ? cpu->s.sysenter_esp
                          : (uint32_t)cpu->s.sysenter_esp;
    cpu->s.rip = lm ? cpu->s.sysenter_eip : (uint32_t)cpu->s.sysenter_eip;
    cpu_update_mode(cpu);
}

static void op_sysexit(struct cpu *cpu, const struct x86_insn *insn)
{
    uint16_t sel = (uint16_t)cpu->s.sysenter_cs;
    if (cpu->mode == MODE_REAL || !(sel & 0xfffc))
        raise_gp0(cpu);
    need_cpl0(cpu);
    bool to64 = insn->opsize == 8;
    uint64_t rip = to64 ? cpu->s.gpr[R_DX] : (uint32_t)cpu->s.gpr[R_DX];
    uint64_t rsp = to64 ? cpu->s.gpr[R_CX] : (uint32_t)cpu->s.gpr[R_CX];
    if (to64 && (!is_canonical(rip) || !is_canonical(rsp)))
        raise_gp0(cpu);
    flat_seg(&cpu->s.seg[S_CS], (uint16_t)(((sel & 0xfffc) +
                                            (to64 ? 32 : 16)) | 3),
             true, 3, to64);
    flat_seg(&cpu->s.seg[S_SS], (uint16_t)(((sel & 0xfffc) +
                                            (to64 ? 40 : 24)) | 3),
             false, 3, false);
    cpu->s.gpr[R_SP] = rsp;
    cpu->s.rip = rip;
    cpu_update_mode(cpu);
}

void interp_system_register(interp_fn *t)
{
    t[I_PUSHF] = op_pushf;
    t[I_POPF] = op_popf;
    t[I_CLI] = op_cli;
    t[I_STI] = op_sti;
    t[I_HLT] = op_hlt;
    t[I_CPUID] = op_cpuid;
    t[I_RDTSC] = op_rdtsc;
    t[I_RDTSCP] = op_rdtscp;
    t[I_RDPMC] = op_rdpmc;
    t[I_RDMSR] = op_rdmsr;
    t[I_WRMSR] = op_wrmsr;
    t[I_MOVCR] = op_movcr;
    t[I_MOVDR] = op_movdr;
    t[I_CLTS] = op_clts;
    t[I_LMSW] = op_lmsw;
    t[I_SMSW] = op_smsw;
    t[I_INVLPG] = op_invlpg;
    t[I_INVD] = op_wbinvd;
    t[I_WBINVD] = op_wbinvd;
    t[I_SWAPGS] = op_swapgs;
    t[I_RDFSBASE] = op_rdfsbase;
    t[I_RDGSBASE] = op_rdgsbase;
    t[I_WRFSBASE] = op_wrfsbase;
    t[I_WRGSBASE] = op_wrgsbase;
    t[I_SYSCALL] = op_syscall;
    t[I_SYSRET] = op_sysret;
    t[I_SYSENTER] = op_sysenter;
    t[I_SYSEXIT] = op_sysexit;
}
