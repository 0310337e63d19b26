/* Generated code for guest state and memory: guest registers are read and
 * written in cpu->s.gpr or, within a block, in the host registers that
 * cache them (jit/jit_regcache.c); a memory operand becomes its effective
 * address (R15), the segment checks the interpreter would make (limit,
 * type, or nothing in 64-bit mode), then an inlined probe of the vCPU's TLB
 * as cpu->tlb_fast presents it (one tag compare for the CPL's read or
 * write rights, then the host address from the entry's addend; one probe
 * for both accesses of a read-modify-write, see gen_rmw_insn). Anything
 * the fast path does not cover (a TLB miss, a page crossing, MMIO, ROM, a
 * page holding translated code, a permission the entry lacks, an unusual
 * segment) calls the helper, which goes through cpu_read()/cpu_write()
 * with cpu->insn_rip set, so faults are precise. */
#include <stddef.h>
#include <string.h>
#include "jit/jit_gen.h"

_Static_assert(sizeof(struct cpu_tlb_entry) == 32, "TLB entry of 32 bytes");
_Static_assert(offsetof(struct jit_vcpu, cpu) == 0, "cpu first");

int32_t gen_gpr_off(unsigned r)
{
    return (int32_t)(offsetof(struct jit_vcpu, cpu.s.gpr) + 8 * r);
}

bool gen_high_byte(const struct x86_insn *insn, int r, unsigned size)
{
    return size == 1 && r >= 4 && r < 8 && !insn->rex;
}

int32_t gen_reg_off(const struct x86_insn *insn, unsigned r, unsigned size)
{
    if (gen_high_byte(insn, (int)r, size))
        return gen_gpr_off(r - 4) + 1;
    return gen_gpr_off(r);
}

void gen_load_reg(struct tctx *t, int host, int32_t off, unsigned size)
{
    if (!rc_load(t, host, off, size))
        emit_load(&t->e, size, host, emit_m(HR_RBX, off));
}

/* a 32-bit write zero-extends to 64 bits; 8- and 16-bit writes merge */
void gen_store_reg(struct tctx *t, int32_t off, unsigned size, int host)
{
    if (rc_store(t, off, size, host))
        return;
    if (size == 4) {
        emit_mov_rr(&t->e, 4, host, host);
        size = 8;
    }
    emit_store(&t->e, size, emit_m(HR_RBX, off), host);
}

/* guest register r in the host register caching it, or in tmp */
static int ea_reg(struct tctx *t, int r, int tmp)
{
    int h = rc_reg(t, gen_gpr_off((unsigned)r), true);
    if (h >= 0)
        return h;
    emit_load(&t->e, 8, tmp, emit_m(HR_RBX, gen_gpr_off((unsigned)r)));
    return tmp;
}

struct emit_mem gen_ea_operand(struct tctx *t, const struct x86_insn *insn)
{
    int base = insn->base >= 0 ? ea_reg(t, insn->base, HR_R15) : HR_NONE;
    int index = insn->index >= 0 ? ea_reg(t, insn->index, HR_RAX) : HR_NONE;
    return emit_mi(base, index, insn->scale, (int32_t)insn->disp);
}

void gen_ea(struct tctx *t, const struct x86_insn *insn)
{
    struct emit *e = &t->e;
    uint64_t mask = insn->addrsize == 8   ? ~0ull
                    : insn->addrsize == 4 ? 0xffffffffull
                                          : 0xffffull;
    if (insn->rip_relative) {
        emit_mov_ri(e, 8, HR_R15,
                    (t->cur->next + (uint64_t)insn->disp) & mask);
        return;
    }
    if (insn->base < 0 && insn->index < 0) {
        emit_mov_ri(e, 8, HR_R15, (uint64_t)(int64_t)insn->disp & mask);
        return;
    }
    struct emit_mem m = gen_ea_operand(t, insn);
    if (m.index == HR_NONE && m.disp == 0 && insn->addrsize == 8) {
        if (m.base != HR_R15)
            emit_mov_rr(e, 8, HR_R15, m.base);
        return;
    }
    /* a 32-bit address is the low half of the 64-bit sum */
    emit_lea(e, insn->addrsize == 4 ? 4 : 8, HR_R15, m);
    if (insn->addrsize == 2)
        emit_movzx_rr(e, 2, HR_R15, HR_R15);
}

void gen_call(struct tctx *t, const void *fn)
{
    /* a helper may fault: the run loop then counts the block's
     * instructions that ran (jit_vcpu.current) */
    emit_mov_ri(&t->e, 8, HR_RAX, (uint64_t)(uintptr_t)t->b);
    emit_store(&t->e, 8, emit_m(HR_RBX, VCPU_FIELD(current)), HR_RAX);
    /* the helper sees the guest registers in memory and clobbers the
     * host registers that cache them (out of line: see emit_cold) */
    if (!t->in_cold)
        rc_spill(t, &t->rc);
    /* C code runs under the host's MXCSR (out of line: see emit_cold) */
    bool mx = t->mx_guest && !t->in_cold;
    if (mx)
        gen_mxcsr_switch(&t->e, false);
    emit_mov_rr(&t->e, 8, HR_RDI, HR_RBX);
    emit_call_abs(&t->e, fn);
    if (mx)
        gen_mxcsr_switch(&t->e, true);
    if (!t->in_cold)
        rc_reload(t, &t->rc);
    forget_record(t);   /* it may have changed the flags record */
}

void gen_exit_to(struct tctx *t, uint64_t rip)
{
    struct emit *e = &t->e;
    emit_mov_ri(e, 8, HR_RAX, rip);
    emit_store(e, 8, emit_m(HR_RBX, offsetof(struct jit_vcpu, cpu.s.rip)),
               HR_RAX);
    if (t->cur)   /* the instructions up to this one have run */
        emit_alu_mi(e, EA_ADD, 8,
                    emit_m(HR_RBX, offsetof(struct jit_vcpu, cpu.icount)),
                    (int32_t)(t->cur - t->ir + 1));
    emit_mov_ri(e, 4, HR_RAX, JIT_EXIT_NORMAL);
    emit_jmp(e, jit_exit_path());
}

/* --- code out of the hot path --- */

/* the slow paths and exits of a block, emitted after its last
 * instruction so that the code that runs stays dense */
static void emit_cold_body(struct tctx *t, const struct cold_path *c)
{
    struct emit *e = &t->e;
    if (c->mx_guest)   /* the host's MXCSR for the helper or the loop */
        gen_mxcsr_switch(e, false);
    switch (c->kind) {
    case COLD_LOAD:   /* helper(v, ea, seg | size << 8, rip) */
        emit_mov_rr(e, 8, HR_RSI, HR_R15);
        emit_mov_ri(e, 4, HR_RDX, c->seg_size);
        emit_mov_ri(e, 8, HR_RCX, c->rip);
        gen_call(t, c->check_write ? (const void *)jit_helper_load_rmw
                                   : (const void *)jit_helper_load);
        if (c->rmw) {   /* no host address: the store's slow path */
            emit_store(e, 8, emit_m(HR_RBX, VCPU_FIELD(rmw_ea)), HR_R15);
            emit_alu_rr(e, EA_XOR, 4, HR_R15, HR_R15);
        }
        break;
    case COLD_STORE:  /* helper(v, ea, value, seg | size << 8, rip) */
        if (c->rmw)
            emit_load(e, 8, HR_R15, emit_m(HR_RBX, VCPU_FIELD(rmw_ea)));
        emit_mov_rr(e, 8, HR_RSI, HR_R15);
        emit_mov_rr(e, 8, HR_RDX, c->reg);
        emit_mov_ri(e, 4, HR_RCX, c->seg_size);
        emit_mov_ri(e, 8, HR_R8, c->rip);
        gen_call(t, (const void *)jit_helper_store);
        break;
    case COLD_GP:     /* helper(v, rip): does not return */
        emit_mov_ri(e, 8, HR_RSI, c->rip);
        gen_call(t, (const void *)jit_helper_raise_gp);
        return;
    case COLD_EXIT:   /* to the loop at c->rip */
        emit_mov_ri(e, 8, HR_RAX, c->rip);
        emit_store(e, 8, emit_m(HR_RBX, VCPU_FIELD(cpu.s.rip)), HR_RAX);
        /* fall through */
    default:          /* COLD_LEAVE: RIP is already set */
        if (c->count)
            emit_alu_mi(e, EA_ADD, 8, emit_m(HR_RBX, VCPU_FIELD(cpu.icount)),
                        c->count);
        emit_mov_ri(e, 4, HR_RAX, JIT_EXIT_NORMAL);
        emit_jmp(e, jit_exit_path());
        return;
    }
    if (c->mx_guest)   /* back to the hot path */
        gen_mxcsr_switch(e, true);
}

/* the end of a store's slow path that leaves when the write changed
 * code (the registers are in memory: emit_cold wrote them back) */
static void emit_leave_if_code_changed(struct tctx *t,
                                       const struct cold_path *c)
{
    struct cold_path leave = { .kind = COLD_EXIT, .rip = c->next,
                               .count = c->count };
    struct emit *e = &t->e;
    emit_alu_mi(e, EA_CMP, 1, emit_m(HR_RBX, VCPU_FIELD(exit_now)), 0);
    size_t stay = emit_jcc(e, CC_E, NULL);
    emit_cold_body(t, &leave);
    if (!e->overflow)
        emit_patch_rel32(e->buf + stay, emit_ptr(e));
}

static void emit_cold(struct tctx *t, const struct cold_path *c)
{
    struct emit *e = &t->e;
    if (!e->overflow)
        for (int i = 0; i < c->nsites; i++)
            emit_patch_rel32(e->buf + c->sites[i], emit_ptr(e));
    bool was_cold = t->in_cold;
    t->in_cold = true;
    rc_spill(t, &c->rc);
    emit_cold_body(t, c);
    if (c->kind == COLD_STORE && c->count)
        emit_leave_if_code_changed(t, c);
    t->in_cold = was_cold;
    if (c->kind == COLD_LOAD || c->kind == COLD_STORE) {
        rc_reload(t, &c->rc);
        if (c->kind == COLD_LOAD && c->reg != HR_RAX)
            emit_mov_rr(e, c->seg_size >> 8, c->reg, HR_RAX);
        size_t back = emit_jmp(e, NULL);
        if (!e->overflow)
            emit_patch_rel32(e->buf + back, e->buf + c->resume);
    }
}

/* c's jumps are recorded; the hot path goes on here */
static void cold_defer(struct tctx *t, struct cold_path *c)
{
    struct emit *e = &t->e;
    c->resume = e->pos;
    c->rc = t->rc;
    c->mx_guest = t->mx_guest;
    if (t->ncold < JIT_MAX_COLD) {
        t->cold[t->ncold++] = *c;
        t->stores += c->kind == COLD_STORE;
        return;
    }
    t->stores = -1;   /* its check stays in line */
    size_t over = emit_jmp(e, NULL);   /* no room: in line, jumped over */
    emit_cold(t, c);
    if (!e->overflow)
        emit_patch_rel32(e->buf + over, emit_ptr(e));
}

void gen_cold_paths(struct tctx *t)
{
    for (int i = 0; i < t->ncold; i++)
        emit_cold(t, &t->cold[i]);
    t->ncold = 0;
    t->rmw = NULL;
}

void gen_exit_if(struct tctx *t, enum emit_cc cc, bool rip_set, uint64_t rip,
                 int32_t count)
{
    struct cold_path c = { .kind = rip_set ? COLD_LEAVE : COLD_EXIT,
                           .rip = rip, .count = count, .nsites = 1 };
    c.sites[0] = emit_jcc(&t->e, cc, NULL);
    cold_defer(t, &c);
}

void gen_gp_if(struct tctx *t, enum emit_cc cc)
{
    struct cold_path c = { .kind = COLD_GP, .rip = t->cur->rip, .nsites = 1 };
    c.sites[0] = emit_jcc(&t->e, cc, NULL);
    cold_defer(t, &c);
}

void gen_check_exit_after_store(struct tctx *t, uint64_t next)
{
    struct cold_path *c = t->ncold ? &t->cold[t->ncold - 1] : NULL;
    bool last = t->stores == 1 && c && c->kind == COLD_STORE &&
                c->resume == t->e.pos && c->mx_guest == t->mx_guest &&
                !memcmp(&c->rc, &t->rc, sizeof(t->rc));
    if (!last) {
        gen_check_exit(t, next);
        return;
    }
    c->count = (int32_t)(t->cur - t->ir + 1);
    c->next = next;
}

void gen_check_exit(struct tctx *t, uint64_t next)
{
    emit_alu_mi(&t->e, EA_CMP, 1, emit_m(HR_RBX, VCPU_FIELD(exit_now)), 0);
    gen_exit_if(t, CC_NE, false, next, (int32_t)(t->cur - t->ir + 1));
    t->fl.host = false;
}

/* --- the fast path --- */

static void to_slow(struct tctx *t, struct cold_path *c, enum emit_cc cc)
{
    c->sites[c->nsites++] = emit_jcc(&t->e, cc, NULL);
}

/* the linear address of seg:R15 in a host register (returned), or a jump
 * to the slow path when the segment checks are not the plain ones */
static int gen_lin(struct tctx *t, int seg, unsigned size, bool write,
                   struct cold_path *c)
{
    struct emit *e = &t->e;
    if (t->long64) {
        if (seg != S_FS && seg != S_GS)
            return HR_R15;
        emit_load(e, 8, HR_RSI, emit_m(HR_RBX, SEG_FIELD(seg, base)));
        emit_alu_rr(e, EA_ADD, 8, HR_RSI, HR_R15);
        return HR_RSI;
    }
    if (t->real) {
        /* no attribute checks; expand-down data takes the slow path */
        emit_test_mi(e, 1, emit_m(HR_RBX, SEG_FIELD(seg, attr)), 0x0c);
        to_slow(t, c, CC_NE);
    } else {
        /* a usable data segment, expand-up, writable for writes */
        uint32_t mask = SEG_ATTR_UNUSABLE | SEG_ATTR_S | 0x0c | (write ? 2 : 0);
        uint32_t want = SEG_ATTR_S | (write ? 2 : 0);
        emit_load(e, 4, HR_RAX, emit_m(HR_RBX, SEG_FIELD(seg, attr)));
        emit_alu_ri(e, EA_AND, 4, HR_RAX, (int32_t)mask);
        emit_alu_ri(e, EA_CMP, 4, HR_RAX, (int32_t)want);
        to_slow(t, c, CC_NE);
    }
    /* offset + size - 1 <= limit (R15 has at most 32 significant bits) */
    emit_lea(e, 8, HR_RAX, emit_m(HR_R15, (int32_t)size - 1));
    emit_load(e, 4, HR_RCX, emit_m(HR_RBX, SEG_FIELD(seg, limit)));
    emit_alu_rr(e, EA_CMP, 8, HR_RAX, HR_RCX);
    to_slow(t, c, CC_A);
    emit_load(e, 4, HR_RSI, emit_m(HR_RBX, SEG_FIELD(seg, base)));
    emit_alu_rr(e, EA_ADD, 4, HR_RSI, HR_R15);
    return HR_RSI;
}

void gen_tlb_index(struct tctx *t, int lin)
{
    struct emit *e = &t->e;
    if (__builtin_cpu_supports("bmi2")) {
        emit_rorx(e, 4, HR_RCX, lin, 12 - 5);
    } else {
        emit_mov_rr(e, 4, HR_RCX, lin);
        emit_shift_ri(e, ES_SHR, 4, HR_RCX, 12 - 5);
    }
    emit_alu_ri(e, EA_AND, 4, HR_RCX, (CPU_TLB_SIZE - 1) << 5);
}

/* the host address of linear address `lin` as [RAX + lin] (in_r15: as
 * [R15]), or slow: the entry of lin's page in the TLB as translated code
 * sees it (struct cpu_tlb_fast) must hold the page of the access's last
 * byte, so an access that crosses a page misses */
static struct emit_mem gen_tlb_probe(struct tctx *t, int lin, unsigned size,
                                     bool write, struct cold_path *c,
                                     bool in_r15)
{
    struct emit *e = &t->e;
    int32_t entry = FAST_OFF(t->user);
    gen_tlb_index(t, lin);
    emit_lea(e, 8, HR_RAX, emit_m(lin, (int32_t)size - 1));
    emit_alu_ri(e, EA_AND, 8, HR_RAX, -4096);
    int32_t tag = write ? FAST_FIELD(write) : FAST_FIELD(read);
    emit_alu_rm(e, EA_CMP, 8, HR_RAX, emit_mi(HR_RBX, HR_RCX, 1, entry + tag));
    to_slow(t, c, CC_NE);
    struct emit_mem addend = emit_mi(HR_RBX, HR_RCX, 1,
                                     entry + FAST_FIELD(addend));
    if (!in_r15) {
        emit_load(e, 8, HR_RAX, addend);
        return emit_mi(HR_RAX, lin, 1, 0);
    }
    if (lin != HR_R15)
        emit_mov_rr(e, 8, HR_R15, lin);
    emit_alu_rm(e, EA_ADD, 8, HR_R15, addend);
    return emit_m(HR_R15, 0);
}

static struct emit_mem mem_fast(struct tctx *t, int seg, unsigned size,
                                bool write, struct cold_path *c, bool in_r15)
{
    int lin = gen_lin(t, seg, size, write, c);
    return gen_tlb_probe(t, lin, size, write, c, in_r15);
}

struct emit_mem gen_mem_fast(struct tctx *t, int seg, unsigned size,
                             bool write, struct cold_path *c)
{
    return mem_fast(t, seg, size, write, c, false);
}

/* Read-modify-write: the generators of these kinds load their memory
 * operand 0 once and store it back once (or not at all) at the same R15
 * with the same size. Their load probes for write access (a write tag
 * implies the read one: cpu/mmu.c) and keeps the host address in R15 for
 * the store; when it misses, the load takes its helper (the fault a read
 * gives, then the checks of the write: the fault a write gives, before
 * the instruction writes its flags record), R15 becomes 0 with the
 * address kept in the vCPU, and the store takes its own slow path (a
 * read-only page, code, MMIO), which cannot fault. So a fault leaves the
 * record as it was before the instruction, as on the CPU. */
bool gen_rmw_insn(const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    unsigned id = insn->op->id;
    if (!insn->has_mem || (insn->op->opnd[0].method != OM_E &&
                           insn->op->opnd[0].method != OM_M))
        return false;
    switch (ir->kind) {
    case K_ALU: return id != I_CMP && id != I_TEST;
    case K_BT: return id != I_BT;
    case K_INCDEC: case K_NOT: case K_NEG: case K_SHIFT: case K_SHIFTV:
    case K_ROT: case K_XCHG: case K_XADD: case K_CMPXCHG:
        return true;
    default:
        return false;
    }
}

static void gen_mem(struct tctx *t, int seg, unsigned size, bool write,
                    int h)
{
    struct emit *e = &t->e;
    bool rmw = !t->slow_mem &&
               (write ? t->rmw == t->cur : gen_rmw_insn(t->cur));
    struct cold_path c = { .kind = write ? COLD_STORE : COLD_LOAD,
                           .seg_size = (uint32_t)seg | size << 8,
                           .reg = (int8_t)h, .rip = t->cur->rip,
                           .rmw = rmw,
                           .check_write = !write && gen_rmw_insn(t->cur) };
    if (t->slow_mem) {
        emit_cold_body(t, &c);   /* every access through the helper (the
                                    cache is off: see rc_before) */
        if (!write && h != HR_RAX)
            emit_mov_rr(e, size, h, HR_RAX);
    } else if (rmw && write) {   /* where the load found it, or slow */
        emit_test_rr(e, 8, HR_R15, HR_R15);
        to_slow(t, &c, CC_E);
        emit_store(e, size, emit_m(HR_R15, 0), h);
        cold_defer(t, &c);
    } else {
        struct emit_mem m = mem_fast(t, seg, size, write || rmw, &c, rmw);
        if (write)
            emit_store(e, size, m, h);
        else if (h == HR_RAX)
            emit_load(e, size, HR_RAX, m);
        else
            emit_load_into(e, size, h, m);
        cold_defer(t, &c);
    }
    t->rmw = rmw && !write ? t->cur : NULL;
    t->fl.host = false;
}

void gen_mem_load(struct tctx *t, int seg, unsigned size)
{
    gen_mem(t, seg, size, false, HR_RAX);
}

void gen_mem_store(struct tctx *t, int seg, unsigned size)
{
    gen_mem(t, seg, size, true, HR_R14);
}

void gen_mem_load_into(struct tctx *t, int seg, unsigned size, int h)
{
    gen_mem(t, seg, size, false, h);
}

void gen_mem_load_zx(struct tctx *t, int seg, unsigned size, int h)
{
    if (size >= 4) {   /* a 4-byte load into h zero-extends */
        gen_mem(t, seg, size, false, h);
        return;
    }
    gen_mem(t, seg, size, false, HR_RAX);
    emit_mov_rr(&t->e, 8, h, HR_RAX);
}

void gen_mem_store_from(struct tctx *t, int seg, unsigned size, int h)
{
    gen_mem(t, seg, size, true, h);
}
