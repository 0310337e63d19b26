/* The interpreter's internals shared by cpu/interp*.c: the handler type,
 * the per-group handler registration, and inline operand access (registers
 * with the byte-register and 32-bit zero-extension rules, effective
 * addresses, r/m operands) on top of cpu/cpu.h and the ALU of cpu/alu.h.
 *
 * Conventions for handlers: when a handler runs, cpu->s.rip already holds
 * the address of the next instruction and cpu->insn_rip the start of this
 * one; a fault (cpu_raise) rolls RIP and RSP back, so a handler checks
 * everything that can fault before it changes other state. */
#ifndef CPU_INTERP_H
#define CPU_INTERP_H

#include "cpu/alu.h"
#include "cpu/cpu.h"
#include "cpu/opcode_table.h"

typedef void (*interp_fn)(struct cpu *cpu, const struct x86_insn *insn);

/* Each group file fills its handlers into the table (indexed by I_*) */
void interp_alu_register(interp_fn *table);
void interp_bits_register(interp_fn *table);
void interp_mov_register(interp_fn *table);
void interp_stack_register(interp_fn *table);
void interp_string_register(interp_fn *table);
void interp_ctrl_register(interp_fn *table);
void interp_system_register(interp_fn *table);
void interp_desc_register(interp_fn *table);
void interp_io_register(interp_fn *table);

/* The handler for a decoded instruction (its row's id, the x87/SSE units,
 * or #UD when the row's CPUID feature is absent); interp.c */
interp_fn interp_handler(struct cpu *cpu, const struct x86_insn *insn);
/* A specialised handler for a frequent form, or NULL (interp_fast.c) */
interp_fn interp_fast_handler(const struct x86_insn *insn);
/* Raise #UD: the handler of invalid instructions */
void interp_ud(struct cpu *cpu, const struct x86_insn *insn);
/* Release the interpreter's per-vCPU state (cpu->interp) */
void interp_free(struct cpu *cpu);
/* The instruction changed paging, the mode or CPL: drop the fetch cache */
void interp_mode_changed(struct cpu *cpu);
/* HLT: stop the run loop with the vCPU halted */
void interp_halt(struct cpu *cpu);
/* An AP after power-on or INIT waits for a SIPI (interp_backend.c) */
void interp_set_wait_sipi(struct cpu *cpu, bool wait);
bool interp_wait_sipi(struct cpu *cpu);
/* The debugger: stop (RUN_DEBUG) after every instruction, or before one at
 * a linear address; interp_breakpoint returns 0 or -ENOSPC/-ENOENT */
#define INTERP_MAX_BREAKPOINTS 32
void interp_set_single_step(struct cpu *cpu, bool on);
int interp_breakpoint(struct cpu *cpu, uint64_t lin, bool insert);
/* Guest code in [gpa, gpa+len) changed behind the MMU's back */
void interp_invalidate_code(uint64_t gpa, uint64_t len);
/* For a backend that runs most instructions itself (the JIT) between
 * calls to the interpreter: interp_service() handles the events between
 * instructions (interrupts, NMI, INIT/SIPI, halt, exit requests) when any
 * are pending and returns a run_exit reason to stop or -1 to go on;
 * interp_fault_recover() is what follows cpu_raise() unwinding to the
 * caller's setjmp: RIP and RSP back to the instruction start, then the
 * exception delivered. */
int interp_service(struct cpu *cpu);
void interp_fault_recover(struct cpu *cpu);

/* --- registers --- */

static inline uint64_t size_mask(unsigned size)
{
    return ~0ull >> (64 - 8 * size);
}

static inline uint64_t gpr_get(const struct cpu *cpu, unsigned r,
                               unsigned size)
{
    return cpu->s.gpr[r] & size_mask(size);
}

/* a write of `size` bytes: 4 zero-extends to 64 bits, 1 and 2 merge */
static inline void gpr_set(struct cpu *cpu, unsigned r, unsigned size,
                           uint64_t v)
{
    uint64_t *g = &cpu->s.gpr[r];
    switch (size) {
    case 1: *g = (*g & ~0xffull) | (v & 0xff); break;
    case 2: *g = (*g & ~0xffffull) | (v & 0xffff); break;
    case 4: *g = (uint32_t)v; break;
    default: *g = v; break;
    }
}

/* register operand by encoding: without REX, byte registers 4-7 are
 * AH, CH, DH, BH */
static inline uint64_t reg_get(const struct cpu *cpu,
                               const struct x86_insn *insn, unsigned r,
                               unsigned size)
{
    if (size == 1 && r >= 4 && r < 8 && !insn->rex)
        return (cpu->s.gpr[r - 4] >> 8) & 0xff;
    return gpr_get(cpu, r, size);
}

static inline void reg_set(struct cpu *cpu, const struct x86_insn *insn,
                           unsigned r, unsigned size, uint64_t v)
{
    if (size == 1 && r >= 4 && r < 8 && !insn->rex) {
        uint64_t *g = &cpu->s.gpr[r - 4];
        *g = (*g & ~0xff00ull) | ((v & 0xff) << 8);
        return;
    }
    gpr_set(cpu, r, size, v);
}

/* --- memory: the fast path ---
 * The interpreter keeps its own small direct-mapped caches of linear pages
 * it has read or written before, each validated against the MMU's TLB slot
 * (same tag and physical page) and against a generation that changes with
 * the CPL, paging or mode (interp_mode_changed). A hit needs no segment
 * type check (the segment was usable when the generation began), only the
 * limit; everything else goes through cpu_read()/cpu_write(). */

#define DTLB_SIZE 64

struct interp_dtlb_entry {
    uint64_t lin_page;
    uint8_t *host;
    uint64_t tag, gpa;
    uint32_t gen;
    uint32_t slot;
};

struct interp_fast {
    uint32_t gen;
    uint64_t ip_mask;        /* RIP wraps at the code size */
    bool mode64;
    bool slow_only;          /* alignment checks on: no fast path */
    uint8_t seg_ok[6];       /* SEG_OK_* while this generation lasts */
    struct interp_dtlb_entry rd[DTLB_SIZE], wr[DTLB_SIZE];
};

#define SEG_OK_READ 1u
#define SEG_OK_WRITE 2u

/* a new generation of the fast path (interp_mem.c) */
void interp_fast_reset(struct cpu *cpu);
uint64_t interp_read_slow(struct cpu *cpu, int seg, uint64_t off,
                          unsigned size);
void interp_write_slow(struct cpu *cpu, int seg, uint64_t off, uint64_t v,
                       unsigned size);

/* the linear address for a fast access, false when the slow path must
 * decide (limit, type, non-flat 64-bit cases) */
static inline bool fast_lin(const struct cpu *cpu,
                            const struct interp_fast *f, int seg,
                            uint64_t off, unsigned size, unsigned need,
                            uint64_t *lin)
{
    const struct x86_segment *s = &cpu->s.seg[seg];
    if (f->mode64) {
        *lin = off + (seg >= S_FS ? s->base : 0);
        return true;
    }
    if (!(f->seg_ok[seg] & need) || off + size - 1 > s->limit)
        return false;
    *lin = (uint32_t)(s->base + off);
    return true;
}

static inline uint8_t *dtlb_host(const struct cpu *cpu,
                                 const struct interp_fast *f,
                                 const struct interp_dtlb_entry *tab,
                                 uint64_t lin, unsigned size)
{
    const struct interp_dtlb_entry *e = &tab[(lin >> 12) & (DTLB_SIZE - 1)];
    if (e->lin_page != (lin & ~0xfffull) || e->gen != f->gen ||
        (lin & 0xfff) + size > 4096)
        return NULL;
    const struct cpu_tlb_entry *t = &cpu->tlb[e->slot];
    if (t->tag != e->tag || t->gpa != e->gpa)
        return NULL;
    return e->host + (lin & 0xfff);
}

static inline uint64_t load_host(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return *p;
    case 2: { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
    default: { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
    }
}

static inline void store_host(uint8_t *p, uint64_t v, unsigned size)
{
    switch (size) {
    case 1: *p = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; __builtin_memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; __builtin_memcpy(p, &x, 4); break; }
    default: __builtin_memcpy(p, &v, 8); break;
    }
}

/* segmented data access: seg:off, size 1, 2, 4 or 8 */
static inline uint64_t data_read(struct cpu *cpu, int seg, uint64_t off,
                                unsigned size)
{
    const struct interp_fast *f = cpu->interp;
    uint64_t lin;
    if (fast_lin(cpu, f, seg, off, size, SEG_OK_READ, &lin)) {
        const uint8_t *p = dtlb_host(cpu, f, f->rd, lin, size);
        if (p)
            return load_host(p, size);
    }
    return interp_read_slow(cpu, seg, off, size);
}

static inline void data_write(struct cpu *cpu, int seg, uint64_t off,
                             uint64_t v, unsigned size)
{
    const struct interp_fast *f = cpu->interp;
    uint64_t lin;
    if (fast_lin(cpu, f, seg, off, size, SEG_OK_WRITE, &lin)) {
        uint8_t *p = dtlb_host(cpu, f, f->wr, lin, size);
        if (p) {
            store_host(p, v, size);
            return;
        }
    }
    interp_write_slow(cpu, seg, off, v, size);
}

/* the stack: PUSH/POP with the stack size, like cpu_push/cpu_pop */
static inline void stack_push(struct cpu *cpu, uint64_t v, unsigned size)
{
    uint64_t mask = cpu->stack_size == 8 ? ~0ull
                    : cpu->stack_size == 4 ? 0xffffffffull : 0xffffull;
    uint64_t rsp = cpu->s.gpr[R_SP], sp = (rsp - size) & mask;
    data_write(cpu, S_SS, sp, v, size);
    cpu->s.gpr[R_SP] = (rsp & ~mask) | sp;
}

static inline uint64_t stack_pop(struct cpu *cpu, unsigned size)
{
    uint64_t mask = cpu->stack_size == 8 ? ~0ull
                    : cpu->stack_size == 4 ? 0xffffffffull : 0xffffull;
    uint64_t rsp = cpu->s.gpr[R_SP];
    uint64_t v = data_read(cpu, S_SS, rsp & mask, size);
    cpu->s.gpr[R_SP] = (rsp & ~mask) | ((rsp + size) & mask);
    return v;
}

/* --- memory operands --- */

static inline uint64_t addr_mask(unsigned addrsize)
{
    return addrsize == 8 ? ~0ull : addrsize == 4 ? 0xffffffffull : 0xffffull;
}

/* the effective address (offset in mem_seg) of the modrm memory operand */
static inline uint64_t insn_ea(const struct cpu *cpu,
                               const struct x86_insn *insn)
{
    uint64_t a = (uint64_t)insn->disp;
    if (insn->base >= 0)
        a += cpu->s.gpr[insn->base];
    if (insn->index >= 0)
        a += cpu->s.gpr[insn->index] * insn->scale;
    if (insn->rip_relative)
        a += cpu->insn_rip + insn->len;
    return a & addr_mask(insn->addrsize);
}

static inline uint64_t rm_get(struct cpu *cpu, const struct x86_insn *insn,
                              unsigned size)
{
    if (insn->mod == 3)
        return reg_get(cpu, insn, insn->rm, size);
    return data_read(cpu, insn->mem_seg, insn_ea(cpu, insn), size);
}

static inline void rm_set(struct cpu *cpu, const struct x86_insn *insn,
                          unsigned size, uint64_t v)
{
    if (insn->mod == 3)
        reg_set(cpu, insn, insn->rm, size, v);
    else
        data_write(cpu, insn->mem_seg, insn_ea(cpu, insn), v, size);
}

/* the size in bytes of operand kind `size` (OS_*) for this instruction */
static inline unsigned opnd_bytes(const struct x86_insn *insn, unsigned size)
{
    switch (size) {
    case OS_b: return 1;
    case OS_w: return 2;
    case OS_d: return 4;
    case OS_q: return 8;
    case OS_z: return insn->opsize == 2 ? 2 : 4;
    case OS_y: return insn->opsize == 8 ? 8 : 4;
    default: return insn->opsize;
    }
}

/* Generic operand access for the integer forms: E, G, Z, fixed register,
 * immediates, moffs, the constant 1. */
static inline uint64_t opnd_get(struct cpu *cpu, const struct x86_insn *insn,
                                unsigned i, unsigned size)
{
    const struct x86_operand *o = &insn->op->opnd[i];
    switch (o->method) {
    case OM_E: case OM_M: case OM_R:
        return rm_get(cpu, insn, size);
    case OM_G:
        return reg_get(cpu, insn, insn->reg, size);
    case OM_Z:
        return reg_get(cpu, insn, insn->rm, size);
    case OM_REG:
        return gpr_get(cpu, o->reg, size);
    case OM_O:
        return data_read(cpu, insn->mem_seg,
                        (uint64_t)insn->disp & addr_mask(insn->addrsize),
                        size);
    case OM_ONE:
        return 1;
    default: /* OM_I, OM_IS: integer rows have one immediate (ENTER's
                two are read by its handler) */
        return (uint64_t)insn->imm & size_mask(size);
    }
}

static inline void opnd_set(struct cpu *cpu, const struct x86_insn *insn,
                            unsigned i, unsigned size, uint64_t v)
{
    const struct x86_operand *o = &insn->op->opnd[i];
    switch (o->method) {
    case OM_E: case OM_M: case OM_R:
        rm_set(cpu, insn, size, v);
        break;
    case OM_G:
        reg_set(cpu, insn, insn->reg, size, v);
        break;
    case OM_Z:
        reg_set(cpu, insn, insn->rm, size, v);
        break;
    case OM_REG:
        gpr_set(cpu, o->reg, size, v);
        break;
    case OM_O:
        data_write(cpu, insn->mem_seg,
                  (uint64_t)insn->disp & addr_mask(insn->addrsize), v, size);
        break;
    default:
        break;
    }
}

/* Is operand i in memory? A read-modify-write with a memory destination
 * computes its flags record into a copy and commits it after the write:
 * when the write faults, the instruction has changed nothing, the flags
 * included (faults are precise; an ADC/SBB/RCL/RCR re-run after the
 * handler takes its carry from before). */
static inline bool opnd_is_mem(const struct x86_insn *insn, unsigned i)
{
    unsigned m = insn->op->opnd[i].method;
    return m == OM_O || ((m == OM_E || m == OM_M) && insn->mod != 3);
}

/* the size of the first operand, the usual operation size */
static inline unsigned insn_size(const struct x86_insn *insn)
{
    return opnd_bytes(insn, insn->op->opnd[0].size);
}

/* --- control transfer helpers (interp_ctrl.c) --- */

/* Near jump to target (truncated to the operand size); #GP(0) beyond the
 * CS limit or when not canonical. */
void interp_jump(struct cpu *cpu, uint64_t target, unsigned opsize);

/* --- misc --- */

static inline bool cpu_in_64bit(const struct cpu *cpu)
{
    return cpu->mode == MODE_LONG64;
}

static inline unsigned cpu_iopl(const struct cpu *cpu)
{
    return (unsigned)(cpu->s.rflags >> 12) & 3;
}

static inline noreturn void raise_gp0(struct cpu *cpu)
{
    cpu_raise(cpu, EXC_GP, 0);
}

static inline noreturn void raise_ud(struct cpu *cpu)
{
    cpu_raise_noerr(cpu, EXC_UD);
}

#endif
