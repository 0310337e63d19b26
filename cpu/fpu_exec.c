/* The x87 entry point: the decoder routes D8-DF, WAIT (9B) and the state
 * saves of 0F AE (passed on to cpu/sse_state.c) here. It
 * raises #NM for CR0.EM/TS, delivers a pending unmasked x87 exception as #MF
 * before a waiting instruction, dispatches by opcode and records the last
 * instruction and data pointers and the opcode (FIP, FDP, FOP) for every
 * non-control instruction. */
#include "cpu/fpu_internal.h"
#include "cpu/interp.h"

void fpu_check_mf(struct cpu *cpu)
{
    /* With CR0.NE clear the FERR# line (IRQ 13) would report it; that line
     * is not wired, so the exception stays pending in the FSW. */
    if ((fpu_fsw(cpu) & FSW_ES) && (cpu->s.cr0 & CR0_NE))
        cpu_raise_noerr(cpu, EXC_MF);
}

/* FNINIT, FNCLEX, FNSTCW, FNSTSW, FNSTENV, FNSAVE and the 8087 leftovers
 * FNENI/FNDISI/FNSETPM do not wait for pending exceptions */
static bool no_wait(const struct x86_insn *insn)
{
    unsigned reg = insn->reg & 7;
    if (insn->mod != 3)
        return (insn->opcode == 0xd9 && (reg == 6 || reg == 7)) ||
               (insn->opcode == 0xdd && (reg == 6 || reg == 7));
    return (insn->opcode == 0xdb && reg == 4) ||
           (insn->opcode == 0xdf && reg == 4);
}

/* control instructions leave FIP/FDP/FOP alone */
static bool is_control(const struct x86_insn *insn)
{
    unsigned reg = insn->reg & 7;
    if (no_wait(insn))
        return true;
    return insn->mod != 3 && (insn->opcode == 0xd9 || insn->opcode == 0xdd) &&
           (reg == 4 || reg == 5);
}

static uint8_t modrm_byte(const struct x86_insn *insn)
{
    for (unsigned i = 0; i + 1 < insn->len && i + 1 < sizeof(insn->bytes); i++)
        if (insn->bytes[i] >= 0xd8 && insn->bytes[i] <= 0xdf)
            return insn->bytes[i + 1];
    return (uint8_t)(insn->mod << 6 | (insn->reg & 7) << 3 | (insn->rm & 7));
}

static void record_pointers(struct cpu *cpu, const struct x86_insn *insn,
                            uint64_t ea)
{
    bool real = cpu->mode == MODE_REAL || cpu->mode == MODE_V86;
    uint64_t fip = cpu->insn_rip;
    if (real)
        fip = (cpu->s.seg[S_CS].base + fip) & 0xfffff;
    fx_set64(cpu, FX_FIP, fip);
    fx_set16(cpu, FX_FOP, (uint16_t)((insn->opcode & 7) << 8 |
                                     modrm_byte(insn)));
    if (insn->mod != 3) {
        if (real)
            ea = (cpu->s.seg[insn->mem_seg >= 0 ? insn->mem_seg : S_DS].base +
                  ea) & 0xfffff;
        fx_set64(cpu, FX_FDP, ea);
    }
}

static bool reg_form_invalid(const struct x86_insn *insn)
{
    unsigned reg = insn->reg & 7, rm = insn->rm & 7;
    switch (insn->opcode) {
    case 0xda: return reg >= 4 && !(reg == 5 && rm == 1);
    case 0xdb: return reg == 7 || (reg == 4 && rm > 4);
    case 0xdd: return reg >= 6;
    case 0xde: return reg == 3 && rm != 1;
    case 0xdf: return reg == 7 || (reg == 4 && rm != 0);
    default: return false;
    }
}

void fpu_exec(struct cpu *cpu, const struct x86_insn *insn)
{
    if (insn->lock)
        cpu_raise_noerr(cpu, EXC_UD);
    fpu_mark_in_use(cpu);
    if (insn->map == MAP_ONE && insn->opcode == 0x9b) { /* WAIT */
        if ((cpu->s.cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
            cpu_raise_noerr(cpu, EXC_NM);
        fpu_check_mf(cpu);
        return;
    }
    if (insn->map == MAP_0F) { /* FXSAVE/FXRSTOR/XSAVE... (0F AE) */
        sse_exec(cpu, insn);
        return;
    }
    if (insn->map != MAP_ONE || insn->opcode < 0xd8 || insn->opcode > 0xdf ||
        (insn->mod == 3 && reg_form_invalid(insn)))
        cpu_raise_noerr(cpu, EXC_UD);
    if (cpu->s.cr0 & (CR0_EM | CR0_TS))
        cpu_raise_noerr(cpu, EXC_NM);
    if (!no_wait(insn))
        fpu_check_mf(cpu);

    unsigned reg = insn->reg & 7;
    uint64_t ea = insn->mod != 3 ? insn_ea(cpu, insn) : 0;
    switch (insn->opcode) {
    case 0xd8: case 0xdc:
        fpu_exec_arith(cpu, insn, ea);
        break;
    case 0xda: case 0xde:
        if (insn->mod != 3 || insn->opcode == 0xde || reg == 5)
            fpu_exec_arith(cpu, insn, ea);
        else
            fpu_exec_misc_reg(cpu, insn);
        break;
    case 0xd9:
        if (insn->mod == 3)
            fpu_exec_d9_reg(cpu, insn);
        else if (reg >= 4)
            fpu_exec_env(cpu, insn, ea);
        else
            fpu_exec_load_store(cpu, insn, ea);
        break;
    case 0xdb:
        if (insn->mod == 3 && (reg == 5 || reg == 6))
            fpu_exec_arith(cpu, insn, ea);
        else if (insn->mod == 3)
            fpu_exec_misc_reg(cpu, insn);
        else
            fpu_exec_load_store(cpu, insn, ea);
        break;
    case 0xdd:
        if (insn->mod == 3 && (reg == 4 || reg == 5))
            fpu_exec_arith(cpu, insn, ea);
        else if (insn->mod == 3)
            fpu_exec_misc_reg(cpu, insn);
        else if (reg >= 4)
            fpu_exec_env(cpu, insn, ea);
        else
            fpu_exec_load_store(cpu, insn, ea);
        break;
    case 0xdf:
        if (insn->mod == 3 && (reg == 5 || reg == 6))
            fpu_exec_arith(cpu, insn, ea);
        else if (insn->mod == 3)
            fpu_exec_misc_reg(cpu, insn);
        else
            fpu_exec_load_store(cpu, insn, ea);
        break;
    }
    if (!is_control(insn))
        record_pointers(cpu, insn, ea);
}
