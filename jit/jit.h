/* The JIT's internal interface, shared by the files of jit/: the per-vCPU state that
 * generated code reaches through RBX (struct jit_vcpu, which starts with
 * the interpreter's struct cpu), translated blocks and their chainable
 * exits, the code cache (jit/jit_cache.c), the translator
 * (jit/jit_translate.c, jit/jit_gen*.c) and the helpers generated code calls
 * (jit/jit_helpers.c). The backend (jit/jit_backend.c) runs blocks and
 * falls back to the interpreter for everything else.
 *
 * Host register convention inside generated code:
 *   RBX      struct jit_vcpu * (also struct cpu *)
 *   R12-R15  values that must survive helper calls (operands, address)
 *   R8-R11, RDI, RBP  guest registers cached within a block: touched only
 *            through gen_load_reg/gen_store_reg and rc_reg
 *            (jit/jit_regcache.c)
 *   others   scratch; RSP is 16-byte aligned at every helper call. */
#ifndef JIT_JIT_H
#define JIT_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cpu/cpu.h"
#include "vm/accel.h"

/* why generated code returned to the run loop (EAX) */
enum jit_exit_code {
    JIT_EXIT_NORMAL,  /* cpu->s.rip is where to go on */
    JIT_EXIT_CHAIN,   /* like NORMAL, through a chainable exit (last_exit) */
};

struct jit_block;

/* a direct jump at the end of a block: patched to jump straight into the
 * target block once that exists (same mode). A jump to another page is
 * guarded: it goes through only while the TLB still maps the target to
 * to_gpa with execute rights (jit/jit_gen_jump.c). */
struct jit_exit {
    uint8_t *site;            /* the rel32 of the jump */
    uint8_t *stub;            /* its unchained target: back to the loop */
    uint64_t target_rip;
    uint64_t to_gpa;          /* cross-page: where the guard expects it */
    bool cross_page;
    struct jit_block *from;
    struct jit_block *to;     /* chained to, or NULL */
    struct jit_exit *in_next; /* in to->incoming */
};

#define JIT_MAX_EXITS 2

/* a lazy-flags record the block's code leaves out because only a fault
 * or an exit could see it (jit/jit_defer.c): the record of the producer
 * right before instruction `first` (its id and size, a register operand r
 * and a register s or an immediate or shift count), rebuilt from the
 * guest registers when the block stops right before one of the
 * instructions first..last */
struct jit_defer {
    uint8_t first, last;
    uint8_t size;
    int8_t r, s;              /* guest registers; s -1: imm */
    uint16_t id;              /* I_ADD ... */
    uint64_t imm;
};

struct jit_block {
    uint64_t gpa;             /* guest-physical address of the first byte */
    uint64_t rip;             /* RIP at entry (CS base may differ) */
    uint32_t key;             /* mode bits, see jit_mode_key() */
    uint16_t guest_len;       /* guest bytes [gpa, gpa + guest_len) */
    uint16_t ninsn;
    uint8_t *code;            /* host entry point */
    uint16_t *insn_off;       /* RIP of each instruction - rip */
    struct jit_defer *defer;  /* records left out, ndefer of them */
    uint8_t ndefer;
    bool valid;
    struct jit_block *hash_next;
    struct jit_block *page_next;  /* blocks starting in the same page */
    struct jit_exit exits[JIT_MAX_EXITS];
    int nexits;
    struct jit_exit *incoming;
};

/* the jump cache: RIP -> block, for the targets of indirect jumps and
 * returns, which generated code looks up itself (jit/jit_gen_jump.c) */
#define JIT_JC_SIZE 4096
struct jit_jc_entry {
    uint64_t rip;
    struct jit_block *b;
};

struct jit_vcpu {
    struct cpu cpu;           /* first: RBX points at both */
    int32_t budget;           /* block entries left; kick sets 0 */
    uint8_t exit_now;         /* leave the block after this instruction */
    uint8_t defer_cf;         /* CF of a shift whose record is left out */
    struct jit_exit *last_exit;
    struct jit_block *current; /* the block of the last helper call */
    unsigned chain_generation; /* of the cache when last_exit was set */
    unsigned map_slot;        /* which machine's memory (jit_mode_key) */
    uint64_t icount_reported;
    unsigned jc_generation;   /* of the cache when jc was filled */
    uint64_t rmw_ea;          /* a read-modify-write's address while its
                                 load took the slow path (jit_gen_mem.c) */
    struct jit_jc_entry jc[JIT_JC_SIZE];
    /* the interpreter's code-write hooks, called after the JIT's */
    bool (*interp_code_page)(struct cpu *cpu, uint64_t gpa_page);
    void (*interp_code_write)(struct cpu *cpu, uint64_t gpa, uint64_t len);
};

static inline struct jit_vcpu *jit_vcpu_of(struct cpu *cpu)
{
    return (struct jit_vcpu *)cpu;
}

/* --- the backend (jit/jit_backend.c) --- */
/* wire a vCPU (after cpu_init) to the JIT, and undo it */
bool jit_vcpu_setup(struct jit_vcpu *v);
void jit_vcpu_teardown(struct jit_vcpu *v);
/* run until the deadline (virtual-clock ns), a halt or a request */
enum run_exit jit_run(void *vcpu, int64_t deadline_ns);

/* --- records left out (jit/jit_defer.c) --- */
/* the guest stops right before instruction i of b (a fault there, or an
 * exit after instruction i - 1): write the lazy-flags record a deferred
 * producer left out, if i is in its stretch */
void jit_defer_rebuild(struct cpu *cpu, const struct jit_block *b,
                       unsigned i);
/* --- mode key (jit/jit_translate.c) --- */
/* Everything a translation depends on besides the code bytes and RIP,
 * including which machine's memory the code is in */
uint32_t jit_mode_key(const struct jit_vcpu *v);

/* --- code cache (jit/jit_cache.c) --- */
/* the code buffer: allocate at start-up; false when out of memory */
bool jit_cache_init(void);
/* enter generated code at `code` with RBX = v; returns enum jit_exit_code */
int jit_enter(struct jit_vcpu *v, const uint8_t *code);
/* the shared exit path: generated code jumps here with EAX set */
const uint8_t *jit_exit_path(void);
/* space for one block's code; NULL when full (then jit_cache_flush) */
uint8_t *jit_code_begin(size_t *avail);
void jit_code_commit(size_t used);
/* per-block side data (decoded instructions for helpers) */
void *jit_data_alloc(size_t size);
/* drop every block (and all side data) */
void jit_cache_flush(void);
/* use at most `bytes` of the code buffer (0: all of it); flushes */
void jit_cache_set_limit(size_t bytes);
struct jit_block *jit_block_new(void);
/* the index of the instruction of b at rip, or -1 */
int jit_block_insn(const struct jit_block *b, uint64_t rip);
struct jit_block *jit_block_find(uint64_t gpa, uint64_t rip, uint32_t key);
/* publish a translated block: hash, page list, code-page marking */
void jit_block_add(struct jit_block *b);
/* chain exit e (of a live block) to block to */
void jit_chain(struct jit_exit *e, struct jit_block *to);
/* guest-physical code tracking */
bool jit_page_has_code(uint64_t gpa_page);
/* a write to [gpa, gpa+len): invalidate the blocks it overlaps; true if
 * any block was dropped */
bool jit_invalidate(uint64_t gpa, uint64_t len);
/* vCPUs whose TLBs must forget a page that starts holding code, and
 * which leave their block when code they may be running changes */
void jit_cache_add_cpu(struct cpu *cpu);
void jit_cache_remove_cpu(struct cpu *cpu);
/* guest code in [gpa, gpa+len) changed: invalidate, and make every vCPU
 * leave its block after the current instruction if anything was dropped */
void jit_code_changed(uint64_t gpa, uint64_t len);
/* set by a flush or invalidation; the loop re-reads cpu state */
extern unsigned jit_cache_generation;

/* --- translation (jit/jit_translate.c) --- */
/* false: every instruction goes through the interpreter's handler (the
 * fallback-only JIT; tests compare both) */
extern bool jit_native;
/* Translate the block at the current CS:RIP (gpa from the fetch); NULL
 * when the first instruction cannot start a block (the caller runs it in
 * the interpreter). May raise (#PF on fetch). */
struct jit_block *jit_translate(struct jit_vcpu *v, uint64_t gpa);

/* --- helpers called by generated code (jit/jit_helpers.c) --- */
struct jit_insn;
int jit_helper_exec(struct jit_vcpu *v, const struct jit_insn *ji);
uint64_t jit_helper_load(struct jit_vcpu *v, uint64_t ea, uint32_t seg_size,
                         uint64_t rip);
uint64_t jit_helper_load_rmw(struct jit_vcpu *v, uint64_t ea,
                             uint32_t seg_size, uint64_t rip);
int jit_helper_store(struct jit_vcpu *v, uint64_t ea, uint64_t value,
                     uint32_t seg_size, uint64_t rip);
int jit_helper_cond(struct jit_vcpu *v, uint32_t cond);
void jit_helper_mul_flags(struct jit_vcpu *v, uint32_t overflow);
void jit_helper_raise_gp(struct jit_vcpu *v, uint64_t rip);
/* a device raised an event: leave the block at the next boundary */
bool jit_events_pending(const struct cpu *cpu);

/* --- statistics (jit/jit_stats.c): TANDEM_JIT_STATS=FILE --- */
struct jit_stats {
    unsigned long loop_entries, translations, flushes;
    unsigned long slow_loads, slow_stores, helper_conds;
};
extern struct jit_stats jit_stats;
extern bool jit_stats_on;   /* TANDEM_JIT_STATS is set */
void jit_stats_init(void);
struct x86_insn;
void jit_stats_count_fallback(const struct x86_insn *insn);
/* a block was translated from guest bytes at `guest` */
void jit_stats_block(const struct jit_block *b, const uint8_t *guest,
                     unsigned code_size, size_t host_len);

#endif
