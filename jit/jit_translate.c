/* The translator's driver: decode a block of guest code from one guest-
 * physical page (x86_decode, up to an instruction that ends blocks, a
 * page end or JIT_MAX_INSNS), classify each instruction as a native kind
 * or an interpreter fallback, run the flag liveness pass backwards over
 * the block, then emit: the entry check (the budget that kicks and the
 * deadline zero), each instruction, and the exits. */
#include <stddef.h>
#include <string.h>
#include "cpu/sys_internal.h"
#include "jit/jit_gen.h"

bool jit_native = true;

uint32_t jit_mode_key(const struct jit_vcpu *v)
{
    const struct cpu *cpu = &v->cpu;
    /* alignment checks: only then must every access take the helpers */
    bool am = cpu->cpl == 3 && (cpu->s.cr0 & CR0_AM) &&
              (cpu->s.rflags & FL_AC);
    /* SSE instructions may run natively (jit/jit_gen_sse.c) */
    bool sse = !(cpu->s.cr0 & (CR0_EM | CR0_TS)) && (cpu->s.cr4 & CR4_OSFXSR);
    return cpu->code_size | cpu->stack_size << 4 | (uint32_t)cpu->cpl << 8 |
           (uint32_t)cpu->mode << 10 | ((cpu->s.cr0 & CR0_WP) ? 1u : 0) << 13 |
           (am ? 1u : 0) << 14 | (sse ? JIT_KEY_SSE : 0) | v->map_slot << 16;
}

static bool m_in(unsigned method, unsigned a, unsigned b, unsigned c,
                 unsigned d)
{
    return method == a || method == b || method == c || method == d;
}

static uint64_t ip_mask(unsigned code_size)
{
    return code_size == 8 ? ~0ull : code_size == 4 ? 0xffffffffull : 0xffffull;
}

/* the native kind of an instruction, or K_FALLBACK */
static int native_kind(const struct tctx *t, const struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    const struct x86_opcode *op = insn->op;
    unsigned m0 = op->nopnd > 0 ? op->opnd[0].method : OM_NONE;
    unsigned m1 = op->nopnd > 1 ? op->opnd[1].method : OM_NONE;
    if (op->id == I_IMUL && op->nopnd >= 2 && insn->opsize >= 2)
        return K_IMUL;   /* Gv,Ev and Gv,Ev,imm */
    int bits = gen_bits_kind(ir);
    if (bits >= 0)
        return bits;
    int sys = gen_sys_kind(t, ir);
    if (sys >= 0)
        return sys;
    if (op->nopnd > 2)
        return K_FALLBACK;
    switch (op->id) {
    case I_NOP:
    case I_PREFETCH: case I_PREFETCHW:   /* SSE hints: the interpreter's */
    case I_LFENCE: case I_MFENCE: case I_SFENCE:   /* handlers do nothing */
        return K_NOP;
    case I_MOV:
        if (m_in(m0, OM_E, OM_G, OM_Z, OM_E) &&
            m_in(m1, OM_E, OM_G, OM_I, OM_IS))
            return K_MOV;
        return K_FALLBACK;
    case I_ADD: case I_OR: case I_AND: case I_SUB: case I_XOR: case I_CMP:
    case I_TEST: case I_ADC: case I_SBB:
        if (m_in(m0, OM_E, OM_G, OM_REG, OM_E) &&
            m_in(m1, OM_E, OM_G, OM_I, OM_IS))
            return K_ALU;
        return K_FALLBACK;
    case I_INC: case I_DEC:
        return m_in(m0, OM_E, OM_Z, OM_E, OM_E) ? K_INCDEC : K_FALLBACK;
    case I_NOT: case I_NEG:
        if (!m_in(m0, OM_E, OM_E, OM_E, OM_E))
            return K_FALLBACK;
        return op->id == I_NOT ? K_NOT : K_NEG;
    case I_LEA:
        return insn->has_mem ? K_LEA : K_FALLBACK;
    case I_MOVZX: case I_MOVSX: case I_MOVSXD:
        return K_MOVX;
    case I_SETCC:
        return K_SETCC;
    case I_CMOVCC:
        return K_CMOV;
    case I_JCC: case I_JMP: case I_CALL: {
        if (m0 != OM_J)
            return op->id == I_JCC ? K_FALLBACK
                   : op->id == I_JMP ? K_JMP_IND : K_CALL;
        uint64_t target = (ir->next + (uint64_t)insn->imm) &
                          ip_mask(insn->opsize);
        if (t->long64 && !is_canonical(target))
            return K_FALLBACK;
        return op->id == I_JCC ? K_JCC : op->id == I_JMP ? K_JMP : K_CALL;
    }
    case I_RET:
        return K_RET;
    case I_PUSH:
        return m_in(m0, OM_Z, OM_I, OM_IS, OM_E) ? K_PUSH : K_FALLBACK;
    case I_POP:
        return m0 == OM_Z ? K_POP : K_FALLBACK;
    default:
        return gen_arith_kind(t, ir);
    }
}

/* LOCK (decoded only on memory forms of the lockable rows): all vCPUs
 * run on one host thread, so a native read-modify-write is atomic */
static bool lock_ok(int kind)
{
    switch (kind) {
    case K_ALU: case K_INCDEC: case K_NOT: case K_NEG: case K_XCHG:
    case K_XADD: case K_CMPXCHG: case K_CMPXCHG8B: case K_BT:
        return true;
    default:
        return false;
    }
}

static void classify(struct tctx *t, struct jit_ir *ir)
{
    const struct x86_insn *insn = &ir->insn;
    ir->fn = interp_handler(t->cpu, insn);
    ir->kind = K_FALLBACK;
    ir->may_exit = true;
    ir->reads_cc = true;
    ir->writes_cc = false;
    if (!jit_native || !insn->op || ir->fn == interp_ud)
        return;
    if (insn->op->exec == EXEC_SSE && !insn->lock)
        gen_sse_classify(t, ir);
    if (insn->op->exec != EXEC_INT)
        return;
    ir->kind = (uint8_t)native_kind(t, ir);
    if (insn->lock && !lock_ok(ir->kind))
        ir->kind = K_FALLBACK;
    if (gen_arith_facts(ir) || gen_string_facts(ir) || gen_sys_facts(t, ir))
        return;
    switch (ir->kind) {
    case K_FALLBACK:
        return;
    case K_ALU: case K_NEG: case K_SHIFT: case K_POPCNT:
        ir->writes_cc = true;
        ir->reads_cc = insn->op->id == I_ADC || insn->op->id == I_SBB;
        ir->may_exit = insn->has_mem;
        return;
    case K_NOT: case K_IMUL:
        ir->reads_cc = false;   /* IMUL: its record merges, see liveness */
        ir->may_exit = insn->has_mem;
        return;
    case K_INCDEC: case K_SHIFTV: case K_ROT: case K_BT: case K_BSCAN:
        ir->reads_cc = false;   /* CF: handled by liveness directly */
        ir->may_exit = insn->has_mem;
        return;
    case K_SETCC: case K_CMOV:
        ir->may_exit = insn->has_mem;
        return;
    case K_JCC:
        return;
    case K_NOP: case K_LEA:
        ir->reads_cc = ir->may_exit = false;
        return;
    case K_MOV: case K_MOVX: case K_XREG:
        ir->reads_cc = false;
        ir->may_exit = insn->has_mem;
        return;
    default: /* jumps, calls, stack: may fault or leave */
        ir->reads_cc = false;
        return;
    }
}

/* Does instruction i read its flags straight after the ALU instruction
 * that made them, so that they are still in the host's (gen_cond)? SETcc
 * and CMOVcc of registers after ADD/SUB/CMP/AND/OR/XOR/TEST of registers
 * or an immediate. */
static bool reads_host_flags(const struct tctx *t, int i)
{
    if (t->no_host_cc || i <= 0 || i >= t->n)
        return false;
    const struct jit_ir *ir = &t->ir[i], *prev = &t->ir[i - 1];
    if (ir->insn.has_mem || (ir->kind != K_SETCC && ir->kind != K_CMOV))
        return false;
    unsigned id = prev->insn.op->id;
    return prev->kind == K_ALU && !prev->insn.has_mem && id != I_ADC &&
           id != I_SBB;
}

/* Which producers must write the lazy-flags record: those whose record
 * someone may see (a reader, a fault, a helper, the block end) before
 * the next producer replaces it. A reader of the host flags straight
 * after its producer does not count (host_cc, cc_in_host). */
static void liveness(struct tctx *t)
{
    bool live = true;
    for (int i = t->n - 1; i >= 0; i--) {
        struct jit_ir *ir = &t->ir[i];
        ir->keep_cc = false;
        ir->host_cc = reads_host_flags(t, i + 1);
        ir->cc_in_host = false;
        /* its store may leave the block right after it (a write to
         * translated code, a pending event): the guest sees its record
         * there (a fault at the store cannot come after the record: see
         * gen_rmw_insn) */
        live |= gen_rmw_insn(ir);
        if (ir->writes_cc) {
            ir->keep_cc = live;
            live = false;
        } else if (ir->kind == K_INCDEC || ir->kind == K_IMUL ||
                   ir->kind == K_SHIFTV || ir->kind == K_ROT ||
                   ir->kind == K_BT || ir->kind == K_BSCAN ||
                   gen_arith_merges(ir)) {
            /* its record carries flags from before it (CF; SF ZF AF PF;
             * those a rotate, BT, BSF, MUL, CLC... or a zero count
             * leaves) */
            ir->keep_cc = live;
        }
        if (reads_host_flags(t, i))
            ir->cc_in_host = true;
        else if (ir->reads_cc || ir->may_exit)
            live = true;
    }
    defer_plan(t);   /* then leave out those only a fault sees */
}

static bool is_terminal(const struct jit_ir *ir)
{
    switch (ir->kind) {
    case K_JCC: case K_JMP: case K_JMP_IND: case K_CALL: case K_RET:
        return true;
    case K_FALLBACK:
        return !ir->insn.op || (ir->insn.op->attr & OPA_END);
    default:
        return false;
    }
}

/* Decode from the page at `page` (host), starting at page offset off */
static void decode_block(struct tctx *t, const uint8_t *page, unsigned off)
{
    struct cpu *cpu = t->cpu;
    uint64_t rip = cpu->s.rip, mask = ip_mask(cpu->code_size);
    const struct x86_segment *cs = &cpu->s.seg[S_CS];
    t->n = 0;
    while (t->n < JIT_MAX_INSNS && off < 4096) {
        struct jit_ir *ir = &t->ir[t->n];
        unsigned avail = 4096 - off < 15 ? 4096 - off : 15;
        int r = x86_decode(&ir->insn, page + off, avail, cpu->code_size);
        if (r <= 0)
            break;   /* invalid, or crosses the page: the interpreter's */
        if (!t->long64 && rip + (unsigned)r - 1 > cs->limit)
            break;
        ir->rip = rip;
        ir->next = (rip + (unsigned)r) & mask;
        t->n++;
        classify(t, ir);
        if (is_terminal(ir))
            break;
        off += (unsigned)r;
        rip = ir->next;
    }
}

static void emit_block(struct tctx *t)
{
    struct emit *e = &t->e;
    t->cur = NULL;
    t->ncold = 0;
    t->mx_guest = false;
    forget_record(t);
    /* entry: leave when the budget is spent (kick, deadline) */
    emit_alu_mi(e, EA_SUB, 4,
                emit_m(HR_RBX, offsetof(struct jit_vcpu, budget)), 1);
    gen_exit_if(t, CC_S, false, t->b->rip, 0);
    t->fl = (struct flag_state){ .op = -1 };
    rc_begin(t);
    for (int i = 0; i < t->n; i++) {
        t->cur = &t->ir[i];
        t->stores = 0;
        if (!gen_mxcsr_keeps(t->cur))
            gen_mxcsr_host(t);
        rc_before(t, t->cur);
        if (!gen_native(t, t->cur))
            gen_fallback(t, t->cur);
        if (t->cur->save_cf) {   /* its generator left the host CF */
            emit_setcc_m(e, CC_B, emit_m(HR_RBX, VCPU_FIELD(defer_cf)));
            t->fl.cf_saved = true;
        }
    }
    gen_mxcsr_host(t);
    if (!is_terminal(t->cur)) {
        rc_drop(t);
        gen_chain_exit(t, t->cur->next);
    }
    gen_cold_paths(t);
}

/* one attempt; NULL when the code buffer overflowed */
static struct jit_block *translate_once(struct tctx *t, uint64_t gpa,
                                        const uint8_t *guest)
{
    size_t avail;
    uint8_t *code = jit_code_begin(&avail);
    struct jit_block *b = jit_block_new();
    b->gpa = gpa;
    b->rip = t->cpu->s.rip;
    b->key = t->key;
    b->ninsn = (uint16_t)t->n;
    b->code = code;
    uint64_t last = t->ir[t->n - 1].rip + t->ir[t->n - 1].insn.len;
    b->guest_len = (uint16_t)(last - t->ir[0].rip);
    b->insn_off = jit_data_alloc(sizeof(uint16_t) * (size_t)t->n);
    for (int i = 0; i < t->n; i++)
        b->insn_off[i] = (uint16_t)(t->ir[i].rip - t->ir[0].rip);
    size_t dsize = sizeof(struct jit_defer) * (size_t)t->ndefer;
    b->defer = t->ndefer ? memcpy(jit_data_alloc(dsize), t->defer, dsize)
                         : NULL;
    b->ndefer = (uint8_t)t->ndefer;
    t->b = b;
    emit_init(&t->e, code, avail);
    emit_block(t);
    if (t->e.overflow)
        return NULL;
    jit_code_commit(t->e.pos);
    jit_stats_block(b, guest, t->cpu->code_size, t->e.pos);
    jit_block_add(b);
    return b;
}

struct jit_block *jit_translate(struct jit_vcpu *v, uint64_t gpa)
{
    struct cpu *cpu = &v->cpu;
    const uint8_t *page = mem_map_host_ptr(cpu->mem, gpa & ~0xfffull, 4096,
                                           false);
    if (!page)
        return NULL;   /* code in MMIO: the interpreter runs it */
    static struct tctx t;   /* large; one thread translates */
    t.v = v;
    t.cpu = cpu;
    t.key = jit_mode_key(v);
    t.long64 = cpu->mode == MODE_LONG64;
    t.real = cpu->mode == MODE_REAL || cpu->mode == MODE_V86;
    t.slow_mem = (t.key >> 14) & 1;
    t.user = cpu->cpl == 3;
    t.wp = (cpu->s.cr0 & CR0_WP) != 0;
    t.stack_size = cpu->stack_size;
    decode_block(&t, page, (unsigned)(gpa & 0xfff));
    if (t.n == 0)
        return NULL;
    t.no_host_cc = false;
    liveness(&t);
    jit_stats.translations++;
    const uint8_t *guest = page + (gpa & 0xfff);
    struct jit_block *b = translate_once(&t, gpa, guest);
    if (!b && t.no_host_cc) {   /* gen_cond found no host flags */
        liveness(&t);
        b = translate_once(&t, gpa, guest);
    }
    if (!b) {
        jit_cache_flush();
        b = translate_once(&t, gpa, guest);
    }
    return b;
}
