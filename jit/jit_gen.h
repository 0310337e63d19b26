/* The translator's working state, shared by jit/jit_translate.c (decode,
 * classification, flag liveness, the block driver), jit/jit_gen.c (native
 * code for each instruction kind) and jit/jit_gen_mem.c (guest registers,
 * memory operands through the inlined TLB probe, helper calls).
 *
 * The IR is the block's decoded instructions, each with its kind (native
 * form or interpreter fallback) and the flag facts liveness needs: whether
 * it reads the lazy-flags record, whether it may leave the block (fault or
 * helper), and whether it replaces the record entirely. */
#ifndef JIT_JIT_GEN_H
#define JIT_JIT_GEN_H

#include <stddef.h>
#include "cpu/interp.h"
#include "jit/emit_x86.h"
#include "jit/jit.h"

#define JIT_MAX_INSNS 64
#define JIT_MAX_COLD (4 * JIT_MAX_INSNS)

/* offsets from RBX */
#define TLB_OFF ((int32_t)offsetof(struct jit_vcpu, cpu.tlb))
#define TLB_FIELD(f) (TLB_OFF + (int32_t)offsetof(struct cpu_tlb_entry, f))
#define FAST_OFF(user) ((int32_t)offsetof(struct jit_vcpu, cpu.tlb_fast[user]))
#define FAST_FIELD(f) ((int32_t)offsetof(struct cpu_tlb_fast, f))
#define SEG_FIELD(sr, f)                                                      \
    ((int32_t)(offsetof(struct jit_vcpu, cpu.s.seg) +                         \
               (size_t)(sr) * sizeof(struct x86_segment) +                    \
               offsetof(struct x86_segment, f)))
#define VCPU_FIELD(f) ((int32_t)offsetof(struct jit_vcpu, f))
#define CC_FIELD(f) ((int32_t)offsetof(struct jit_vcpu, cpu.cc.f))

enum jit_kind {
    K_FALLBACK, K_NOP, K_MOV, K_ALU, K_INCDEC, K_LEA, K_MOVX, K_JCC, K_JMP,
    K_JMP_IND, K_CALL, K_RET, K_PUSH, K_POP, K_SETCC, K_CMOV, K_SHIFT,
    K_NOT, K_NEG, K_IMUL,
    /* jit/jit_gen_bits.c */
    K_SHIFTV, K_ROT, K_BT, K_BSCAN, K_POPCNT, K_XREG,
    /* jit/jit_gen_arith.c, jit/jit_gen_string.c */
    K_XCHG, K_XADD, K_CMPXCHG, K_CMPXCHG8B, K_MULDIV, K_FLAGOP, K_PUSHF,
    K_LEAVE, K_STRING, K_REPSTR,
    K_SSE,   /* jit/jit_gen_sse.c */
    K_SYS,   /* jit/jit_gen_sys.c */
};

/* a fallback instruction: what jit_helper_exec needs */
struct jit_insn {
    struct x86_insn insn;
    interp_fn fn;
    uint64_t rip, next_rip;
    bool end;
};

struct jit_ir {
    struct x86_insn insn;
    uint64_t rip, next;
    uint8_t kind;        /* enum jit_kind */
    bool may_exit;       /* may fault or leave the block */
    bool reads_cc;       /* reads the lazy-flags record */
    bool writes_cc;      /* replaces the record without reading it */
    bool keep_cc;        /* liveness: its record must be written */
    bool host_cc;        /* liveness: the next instruction reads its flags
                            from the host's: leave them there */
    bool cc_in_host;     /* liveness: reads the flags only from the host's,
                            as the instruction before left them */
    bool save_cf;        /* defer_plan: its record is left out, its CF
                            goes to jit_vcpu.defer_cf (a shift; the next
                            producer reads CF) */
    uint32_t gprs;       /* bit g: names guest register g; RC_LIVES:
                            the register cache lives across it */
    interp_fn fn;        /* the interpreter's handler (fallback) */
};

/* what is known of the flags while emitting */
struct flag_state {
    int op;              /* CC_OP_* of the last record written, -1 unknown */
    unsigned size;
    bool host;           /* host EFLAGS hold that producer's flags */
    uint32_t in_flags;   /* FL_ bits the record keeps in cc.flags, any op */
    bool cf_saved;       /* its CF is in jit_vcpu.defer_cf (save_cf) */
};

/* guest registers cached in host registers (jit/jit_regcache.c) */
#define RC_SLOTS 6
#define RC_LIVES (1u << 16)
struct regcache {
    int8_t slot_of[16];       /* guest register -> slot, or -1 */
    int8_t reg_of[RC_SLOTS];  /* slot -> guest register, or -1 */
    uint8_t dirty;            /* slots memory does not have yet */
};

/* a piece of code out of the hot path (jit/jit_gen_mem.c): the slow path
 * of a memory access, or an exit to the run loop */
enum cold_kind { COLD_LOAD, COLD_STORE, COLD_EXIT, COLD_LEAVE, COLD_GP };
struct cold_path {
    uint8_t kind;         /* enum cold_kind */
    bool rmw;             /* accesses: of a read-modify-write (gen_mem) */
    bool check_write;     /* COLD_LOAD: of a read-modify-write: its write's
                             checks too (jit_helper_load_rmw) */
    uint32_t seg_size;    /* accesses: segment | size << 8 */
    int8_t reg;           /* accesses: the host register loaded or stored */
    uint64_t rip;         /* accesses, #GP: the instruction; COLD_EXIT:
                             target */
    int32_t count;        /* exits: instructions of the block that ran;
                             COLD_STORE: the same when it leaves to `next`
                             after a write that changed code (0: never) */
    uint64_t next;
    bool mx_guest;        /* the guest MXCSR is on the host at the jumps */
    int nsites;
    size_t sites[8];      /* the jumps that lead here */
    size_t resume;        /* accesses: where the hot path goes on */
    struct regcache rc;   /* the guest registers cached where it branches */
};

struct tctx {
    struct jit_vcpu *v;
    struct cpu *cpu;
    struct emit e;
    struct jit_block *b;
    uint32_t key;
    bool long64, real;   /* 64-bit mode; real or V86 (no attribute checks) */
    bool slow_mem;       /* every access through the helpers (#AC possible) */
    bool user, wp;
    bool no_host_cc;     /* liveness may not count on host flags (a retry) */
    unsigned stack_size;
    struct jit_ir ir[JIT_MAX_INSNS];
    int n;
    struct flag_state fl;
    struct jit_defer defer[JIT_MAX_INSNS];   /* records left out */
    int ndefer;
    int rec_op;          /* what cc.op holds in memory here, -1 unknown */
    unsigned rec_size;   /* and cc.size, 0 unknown */
    bool mx_guest;       /* the guest MXCSR is on the host (jit_gen_sse.c) */
    const struct jit_ir *cur;
    struct cold_path cold[JIT_MAX_COLD];
    int ncold;
    int stores;          /* slow paths of stores of this instruction */
    const struct jit_ir *rmw;   /* its load left R15 for its store */
    bool in_cold;        /* emitting the out-of-line code */
    struct regcache rc;
    bool rc_on;          /* this instruction may use the cache */
    uint8_t rc_pinned;   /* slots it has taken (not given way) */
};

/* jit_defer.c: after liveness, leave out the records only a fault or an
 * exit could see (their keep_cc cleared, t->defer says how to rebuild
 * them) */
void defer_plan(struct tctx *t);

/* jit_regcache.c: at the start of a block (after classify) */
void rc_begin(struct tctx *t);
/* before instruction ir: the cache on, or written back and off */
void rc_before(struct tctx *t, const struct jit_ir *ir);
/* write every dirty register back and empty the cache */
void rc_drop(struct tctx *t);
/* emit the write-back of rc's dirty registers / the reload of all */
void rc_spill(struct tctx *t, const struct regcache *rc);
void rc_reload(struct tctx *t, const struct regcache *rc);
/* the register access at guest-register offset off through the cache;
 * false when the caller must use memory */
bool rc_load(struct tctx *t, int host, int32_t off, unsigned size);
bool rc_store(struct tctx *t, int32_t off, unsigned size, int host);
/* for code that works on the cached register itself: the host register
 * of the whole guest register at off (its slot filled, from memory when
 * `load`), or -1 when the cache is off or off is AH..BH. A slot filled
 * without loading holds nothing yet: the caller writes it at once, after
 * every read and memory access of the instruction. rc_written: the
 * guest register in host register h was changed (before anything that
 * may spill it, such as a helper call) */
int rc_reg(struct tctx *t, int32_t off, bool load);
void rc_written(struct tctx *t, int h);
/* memory is about to be written at guest-register offset off directly */
void rc_forget(struct tctx *t, int32_t off);

/* jit_gen_mem.c: guest registers live in cpu->s.gpr */
int32_t gen_gpr_off(unsigned r);
/* is register r (by encoding) of a size-byte operand AH..BH? */
bool gen_high_byte(const struct x86_insn *insn, int r, unsigned size);
/* a register operand by encoding (AH..BH without REX) */
int32_t gen_reg_off(const struct x86_insn *insn, unsigned r, unsigned size);
void gen_load_reg(struct tctx *t, int host, int32_t off, unsigned size);
void gen_store_reg(struct tctx *t, int32_t off, unsigned size, int host);
/* effective address of the modrm memory operand into R15 */
void gen_ea(struct tctx *t, const struct x86_insn *insn);
/* [base + index * scale + disp] (64-bit sum) with the host registers that
 * cache the base and index, or R15 and RAX loaded with them (not for RIP-
 * relative or absolute operands) */
struct emit_mem gen_ea_operand(struct tctx *t, const struct x86_insn *insn);
/* load/store `size` bytes at seg:R15 (R15 kept); loads end in RAX,
 * zero-extended; stores take the value from R14. In a read-modify-write
 * instruction (gen_rmw_insn: it loads memory operand 0, then may store
 * it, after its flags record) the load probes for write access and the
 * store goes through the host address the load found: R15 holds that
 * one from the load to the end of the store */
void gen_mem_load(struct tctx *t, int seg, unsigned size);
void gen_mem_store(struct tctx *t, int seg, unsigned size);
/* the same with host register h (not RAX RCX RSI R15), a load into it as
 * a MOV does (1 and 2 bytes merge, 4 zero-extend) */
void gen_mem_load_into(struct tctx *t, int seg, unsigned size, int h);
void gen_mem_store_from(struct tctx *t, int seg, unsigned size, int h);
/* a load into h (not RAX RCX RSI R15) zero-extended, as gen_mem_load */
void gen_mem_load_zx(struct tctx *t, int seg, unsigned size, int h);
bool gen_rmw_insn(const struct jit_ir *ir);
/* RCX = the offset of the entry of linear address `lin` (a host register)
 * in a table of 32-byte TLB entries */
void gen_tlb_index(struct tctx *t, int lin);
/* the inlined fast path alone: the host address of the size bytes at
 * seg:R15 (RAX + the linear address's register, the operand's index),
 * else a jump recorded in c->sites (the caller's slow path patches them) */
struct emit_mem gen_mem_fast(struct tctx *t, int seg, unsigned size, bool write,
                  struct cold_path *c);
/* call fn(v, ...) with RDI = v; other arguments set by the caller */
void gen_call(struct tctx *t, const void *fn);
/* leave the block to the loop with cpu->s.rip = rip */
void gen_exit_to(struct tctx *t, uint64_t rip);
/* after a helper that may ask to leave: exit to `next` if exit_now */
void gen_check_exit(struct tctx *t, uint64_t next);
/* after an instruction that wrote memory: the same check, made only on
 * the slow path of its store when that store ended the instruction (the
 * fast path never writes to a page holding code) */
void gen_check_exit_after_store(struct tctx *t, uint64_t next);
/* #GP(0) for the instruction being translated when host condition cc
 * holds (out of line) */
void gen_gp_if(struct tctx *t, enum emit_cc cc);
/* leave the block when host condition cc holds: to rip, or (rip_set)
 * with RIP as a helper left it; count = instructions of the block run */
void gen_exit_if(struct tctx *t, enum emit_cc cc, bool rip_set, uint64_t rip,
                 int32_t count);
/* emit the deferred slow paths and exits (after the block's last
 * instruction) */
void gen_cold_paths(struct tctx *t);

/* jit_gen_jump.c: jump to the address in host register h (checked),
 * straight into its block when the jump cache has it, else by the loop;
 * count = instructions of the block run so far */
void gen_jump_reg(struct tctx *t, int h, int32_t count);
/* the guard of a cross-page exit x: RIP x->target_rip (in host register h)
 * still maps to x->to_gpa executable, else a jump recorded in miss[] */
void gen_cross_page_guard(struct tctx *t, int h, const struct jit_exit *x,
                          size_t *miss, int *n);

/* jit_gen_bits.c: shifts, rotates, bit instructions: the kind of an
 * instruction (-1: not one of them) and its code (false: not its kind) */
int gen_bits_kind(const struct jit_ir *ir);
bool gen_bits(struct tctx *t, const struct jit_ir *ir);
/* a shift's constant count (1 or imm8) masked as the CPU does; false
 * for CL */
bool gen_const_count(const struct x86_insn *insn, unsigned size,
                     unsigned *c);

/* jit_gen_sse.c: the SSE instructions it translates (only in blocks
 * whose key has JIT_KEY_SSE: CR0.EM/TS clear, CR4.OSFXSR set) */
#define JIT_KEY_SSE (1u << 15)
void gen_sse_classify(const struct tctx *t, struct jit_ir *ir);
void gen_sse(struct tctx *t, const struct jit_ir *ir);
/* the host's MXCSR back on the host if the guest's is there (before an
 * instruction gen_mxcsr_keeps() does not allow, and at the block end);
 * gen_mxcsr_switch: the code of the switch, for helper calls and the
 * cold paths (jit_gen_mem.c) */
void gen_mxcsr_host(struct tctx *t);
bool gen_mxcsr_keeps(const struct jit_ir *ir);
void gen_mxcsr_switch(struct emit *e, bool to_guest);

/* jit_gen.c */
unsigned gen_opnd_bytes(const struct x86_insn *insn, unsigned size_kind);
/* the guest register operand i names in its register form (4-7 of a
 * byte operand without REX: AH..BH), or -1 */
int gen_opnd_reg(const struct x86_insn *insn, int i);
/* operand i (E, G, Z, a fixed register or an immediate) into or from
 * host register h; for memory, R15 holds the address (gen_ea) */
void load_opnd(struct tctx *t, const struct x86_insn *insn, int i,
               unsigned size, int h);
void store_opnd(struct tctx *t, const struct x86_insn *insn, int i,
                unsigned size, int h);
/* the op and size (0: cc.size as it is) of the lazy-flags record; only
 * the fields that do not already hold them are stored (t->rec_op,
 * t->rec_size: what the code so far surely left there) */
/* R14 = a + b (add) or a - b, with the ADD/SUB record if it is live */
void gen_add_sub(struct tctx *t, const struct jit_ir *ir, bool add,
                 unsigned size, int a, int b);
void store_record(struct tctx *t, uint32_t op, unsigned size);
/* cc.op and cc.size no longer known (a helper, a store on one path only) */
void forget_record(struct tctx *t);
/* host register h into operand 0 when a 4-byte value in h is already
 * zero-extended (from a 32-bit load or host operation) */
void store_result(struct tctx *t, const struct x86_insn *insn,
                  unsigned size, int h);
/* operand 0, a guest register, changed in place in the host register
 * caching it (filled, from memory when `load`; see rc_reg): that host
 * register, or -1 (a memory operand, an instruction naming AH..BH, the
 * cache off) */
int in_place(struct tctx *t, const struct x86_insn *insn, unsigned size,
             bool load);
/* the value of host register h as a record field holds it (zero-
 * extended, cpu/alu.h): h, or R14 holding it when h is a 1- or 2-byte
 * result in a cached register (see in_place) */
int gen_record_value(struct tctx *t, unsigned size, int h);
/* push R14 (size bytes) */
void gen_push_r14(struct tctx *t, unsigned size);
bool gen_native(struct tctx *t, const struct jit_ir *ir);
void gen_fallback(struct tctx *t, const struct jit_ir *ir);
/* the instruction through helper(v, struct jit_insn *), which returns
 * nonzero when the block must be left (RIP as the helper left it) */
void gen_helper_insn(struct tctx *t, const struct jit_ir *ir,
                     const void *helper);

/* jit_gen_arith.c: exchange/compare, MUL/DIV, flag instructions, LEAVE;
 * jit_gen_string.c: MOVS..SCAS and REP MOVS/STOS. *_kind: the kind or
 * K_FALLBACK; *_facts: set the flag facts of one of their kinds (false
 * when not theirs); gen_arith_merges: the kind keeps flags from before it
 * (its record is live when the one after is); gen_*: emit it (false when
 * not theirs) */
int gen_arith_kind(const struct tctx *t, const struct jit_ir *ir);
bool gen_arith_facts(struct jit_ir *ir);
bool gen_arith_merges(const struct jit_ir *ir);
bool gen_arith(struct tctx *t, const struct jit_ir *ir);
int gen_string_kind(const struct tctx *t, const struct jit_ir *ir);
bool gen_string_facts(struct jit_ir *ir);
bool gen_string(struct tctx *t, const struct jit_ir *ir);
/* jit_gen_sys.c: CLI/STI, SWAPGS, RD/WR[FG]SBASE, RDTSC(P), CPUID,
 * MOV from CRn: the kind (-1: not one of them), the flag facts (false:
 * not K_SYS), the code (false: not K_SYS) */
int gen_sys_kind(const struct tctx *t, const struct jit_ir *ir);
bool gen_sys_facts(const struct tctx *t, struct jit_ir *ir);
bool gen_sys(struct tctx *t, const struct jit_ir *ir);
/* Jcc/JMP/CALL targets: a chainable exit to rip */
void gen_chain_exit(struct tctx *t, uint64_t rip);

#endif
