/* The interpreter's run loop: fetch through a decoded-instruction cache
 * keyed by guest-physical address, dispatch to the handler chosen when the
 * instruction was decoded, fault recovery (setjmp: RIP and RSP back to the
 * instruction start, then delivery), and the events between instructions:
 * external interrupts and NMI from the vCPU link, INIT/SIPI, HLT, the
 * single-step trap, the interrupt shadow, the exit request and the
 * deadline on the virtual clock.
 *
 * Self-modifying code: every guest-physical page that holds cached code has
 * a stamp with a "has code" bit. The MMU sends writes to such pages through
 * its slow path and reports them (cpu->on_code_write); the write bumps the
 * stamp, so every cached instruction of that page misses from then on. A
 * change of the memory map drops the whole cache. The stamps are shared by
 * all vCPUs (they run on one thread). */
#include "cpu/interp.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/disasm.h"
#include "cpu/sys_internal.h"
#include "vm/accel.h"
#include "vm/clock.h"
#include "vm/log.h"
#include "vm/machine.h"
#include "vm/vcpu_link.h"

#define ICACHE_BITS 15
#define ICACHE_SIZE (1u << ICACHE_BITS)
#define CHECK_INTERVAL 2048  /* instructions between clock reads */
#define NO_PAGE 1ull         /* a fetch_lin that matches no page */

struct icache_entry {
    uint64_t gpa;       /* of the first byte; ~0 when empty */
    uint32_t stamp;     /* page stamp when decoded */
    uint32_t key;       /* code size and cache epoch */
    interp_fn fn;
    bool sync;          /* may change the mode, CPL, paging, a segment or
                           the interrupt state: resynchronise after it */
    struct icache_entry *next; /* the instruction after it in the same page,
                                  when last seen (checked before use) */
    struct x86_insn insn;
};

struct interp_cpu {
    struct interp_fast fast;      /* first: cpu->interp is also this */
    struct cpu *cpu;
    struct icache_entry *cache;
    struct icache_entry scratch;  /* instructions that are not cached */
    /* the code page RIP is in: linear page -> guest-physical page, valid
     * while the TLB slot still holds the same translation */
    uint64_t fetch_lin, fetch_gpa, fetch_tag;
    unsigned fetch_slot;
    uint32_t fetch_key;          /* code size and cache epoch */
    const uint32_t *fetch_stamp; /* the page's stamp */
    bool wait_sipi;            /* an AP after INIT */
    bool attention;            /* look at the state before the next insn */
    bool careful;              /* TF, an interrupt shadow, tracing or the
                                  debugger: take the path for them */
    /* the debugger (gdb stub): single-step and breakpoints at linear
     * addresses; bp_resume lets the instruction at a breakpoint run once */
    bool single_step, bp_resume;
    unsigned nbp;
    uint64_t bp[INTERP_MAX_BREAKPOINTS];
    bool chain_ok;             /* no memory-map change since the fetch page
                                  was mapped: next links may be followed */
    uint64_t icount_reported;  /* for the instruction-count clock */
    uint32_t features;         /* 1 << FEAT_* present in CPUID */
    _Atomic unsigned no_events;
    struct interp_cpu *next;
};

static interp_fn handlers[I_COUNT];
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

/* code-page stamps (bit 0: page holds cached code) and the cache epoch */
static uint32_t *page_stamps;
static uint64_t stamp_pages;
static uint32_t cache_epoch;

static void register_handlers(void)
{
    interp_alu_register(handlers);
    interp_bits_register(handlers);
    interp_mov_register(handlers);
    interp_stack_register(handlers);
    interp_string_register(handlers);
    interp_ctrl_register(handlers);
    interp_system_register(handlers);
    interp_desc_register(handlers);
    interp_io_register(handlers);
}

void interp_ud(struct cpu *cpu, const struct x86_insn *insn)
{
    raise_ud(cpu);
}

static void interp_too_long(struct cpu *cpu, const struct x86_insn *insn)
{
    raise_gp0(cpu);
}

static void exec_fpu(struct cpu *cpu, const struct x86_insn *insn)
{
    fpu_exec(cpu, insn);
}

static void exec_sse(struct cpu *cpu, const struct x86_insn *insn)
{
    sse_exec(cpu, insn);
}

/* --- CPUID features --- */

static uint32_t read_features(struct cpu *cpu)
{
    uint32_t r[4], f = 1u << FEAT_NONE;
    static const struct { uint8_t feat, reg, bit; } leaf1[] = {
        { FEAT_X87, 3, 0 }, { FEAT_CX8, 3, 8 }, { FEAT_SEP, 3, 11 },
        { FEAT_CMOV, 3, 15 }, { FEAT_CLFLUSH, 3, 19 }, { FEAT_MMX, 3, 23 },
        { FEAT_FXSR, 3, 24 }, { FEAT_SSE, 3, 25 }, { FEAT_SSE2, 3, 26 },
        { FEAT_SSE3, 2, 0 }, { FEAT_SSSE3, 2, 9 }, { FEAT_CX16, 2, 13 },
        { FEAT_SSE41, 2, 19 }, { FEAT_SSE42, 2, 20 }, { FEAT_MOVBE, 2, 22 },
        { FEAT_POPCNT, 2, 23 }, { FEAT_XSAVE, 2, 26 }, { FEAT_RDRAND, 2, 30 },
    };
    cpu_cpuid(cpu, 0, 0, r);
    uint32_t max = r[0];
    cpu_cpuid(cpu, 1, 0, r);
    for (unsigned i = 0; i < sizeof(leaf1) / sizeof(leaf1[0]); i++)
        if (r[leaf1[i].reg] & (1u << leaf1[i].bit))
            f |= 1u << leaf1[i].feat;
    if (max >= 7) {
        cpu_cpuid(cpu, 7, 0, r);
        if (r[1] & (1u << 0))
            f |= 1u << FEAT_FSGSBASE;
        if (r[1] & (1u << 3))
            f |= 1u << FEAT_BMI1;
        if (r[1] & (1u << 18))
            f |= 1u << FEAT_RDSEED;
    }
    cpu_cpuid(cpu, 0x80000001u, 0, r);
    if (r[2] & (1u << 5))
        f |= 1u << FEAT_LZCNT;
    if (r[3] & (1u << 11))
        f |= 1u << FEAT_SYSCALL;
    if (r[3] & (1u << 27))
        f |= 1u << FEAT_RDTSCP;
    return f;
}

interp_fn interp_handler(struct cpu *cpu, const struct x86_insn *insn)
{
    const struct x86_opcode *op = insn->op;
    struct interp_cpu *ic = cpu->interp;
    if (!op)
        return interp_ud;
    if (ic && !(ic->features & (1u << op->feature))) {
        /* without BMI1/ABM, F3 0F BC/BD are BSF/BSR with a stray prefix */
        if (op->id == I_TZCNT)
            return handlers[I_BSF];
        if (op->id == I_LZCNT)
            return handlers[I_BSR];
        return interp_ud;
    }
    interp_fn fast = interp_fast_handler(insn);
    if (fast)
        return fast;
    if (op->exec == EXEC_FPU)
        return exec_fpu;
    if (op->exec == EXEC_SSE)
        return exec_sse;
    return handlers[op->id] ? handlers[op->id] : interp_ud;
}

/* --- code-page stamps --- */

static bool code_page(struct cpu *cpu, uint64_t gpa_page)
{
    uint64_t pfn = gpa_page >> 12;
    return pfn < stamp_pages && (page_stamps[pfn] & 1);
}

static void code_written(uint64_t gpa, uint64_t len)
{
    uint64_t first = gpa >> 12, last = (gpa + (len ? len : 1) - 1) >> 12;
    for (uint64_t p = first; p <= last && p < stamp_pages; p++)
        if (page_stamps[p] & 1)
            page_stamps[p]++;   /* clears the code bit: a new generation */
}

static void on_code_write(struct cpu *cpu, uint64_t gpa, uint64_t len)
{
    code_written(gpa, len);
}

static struct interp_cpu *all_cpus;

static void map_changed(void *opaque, uint64_t base, uint64_t size)
{
    cache_epoch++;
    for (struct interp_cpu *c = all_cpus; c; c = c->next)
        c->chain_ok = false;
}

static void ram_written(void *opaque, uint64_t gpa, uint64_t len)
{
    code_written(gpa, len);   /* DMA and loaders */
}

/* one listener per memory map, while an interpreted vCPU uses the map */
static struct mem_listener cache_listener(struct mem_map *map)
{
    return (struct mem_listener){ .changed = map_changed,
                                  .ram_written = ram_written,
                                  .opaque = map };
}

static bool map_has_interp(const struct mem_map *map)
{
    for (struct interp_cpu *c = all_cpus; c; c = c->next)
        if (c->cpu->mem == map)
            return true;
    return false;
}

static void stamps_init(struct machine *m)
{
    if (page_stamps)
        return;
    uint64_t top = (4ull << 30) + (m ? m->ram_above_4g : 0);
    stamp_pages = top >> 12;
    page_stamps = calloc(stamp_pages, sizeof(page_stamps[0]));
    if (!page_stamps)
        stamp_pages = 0;
}

static void mark_code_page(uint64_t pfn)
{
    page_stamps[pfn] |= 1;
    for (struct interp_cpu *c = all_cpus; c; c = c->next)
        mmu_flush_phys_page(c->cpu, pfn << 12);
}

/* --- per-vCPU state --- */

static struct interp_cpu *interp_get(struct cpu *cpu)
{
    if (cpu->interp)
        return cpu->interp;
    pthread_once(&handlers_once, register_handlers);
    stamps_init(cpu->machine);
    struct interp_cpu *ic = calloc(1, sizeof(*ic));
    if (!ic)
        abort();
    ic->cache = malloc(ICACHE_SIZE * sizeof(ic->cache[0]));
    if (!ic->cache)
        abort();
    for (unsigned i = 0; i < ICACHE_SIZE; i++)
        ic->cache[i].gpa = ~0ull;
    ic->cpu = cpu;
    ic->fetch_lin = NO_PAGE;
    ic->scratch.gpa = ~0ull;
    cpu->interp = ic;
    ic->features = read_features(cpu);
    ic->attention = true;
    interp_fast_reset(cpu);
    if (cpu->mem && !map_has_interp(cpu->mem)) {
        struct mem_listener l = cache_listener(cpu->mem);
        mem_map_add_listener(cpu->mem, &l);
    }
    ic->next = all_cpus;
    all_cpus = ic;
    cpu->code_page = code_page;
    cpu->on_code_write = on_code_write;
    return ic;
}

void interp_free(struct cpu *cpu)
{
    struct interp_cpu *ic = cpu->interp;
    if (!ic)
        return;
    for (struct interp_cpu **p = &all_cpus; *p; p = &(*p)->next) {
        if (*p == ic) {
            *p = ic->next;
            break;
        }
    }
    if (cpu->mem && !map_has_interp(cpu->mem)) {
        struct mem_listener l = cache_listener(cpu->mem);
        mem_map_remove_listener(cpu->mem, &l);
    }
    cpu->code_page = NULL;
    cpu->on_code_write = NULL;
    free(ic->cache);
    free(ic);
    cpu->interp = NULL;
}

void interp_mode_changed(struct cpu *cpu)
{
    struct interp_cpu *ic = cpu->interp;
    if (ic) {
        ic->fetch_lin = NO_PAGE;
        ic->attention = true;
        ic->careful = true;   /* service_events() decides again */
        interp_fast_reset(cpu);
    }
}

void interp_halt(struct cpu *cpu)
{
    cpu->s.halted = 1;
    interp_mode_changed(cpu);
}

bool interp_wait_sipi(struct cpu *cpu)
{
    return interp_get(cpu)->wait_sipi;
}

void interp_set_wait_sipi(struct cpu *cpu, bool wait)
{
    struct interp_cpu *ic = interp_get(cpu);
    ic->wait_sipi = wait;
    ic->attention = true;
}

void interp_invalidate_code(uint64_t gpa, uint64_t len)
{
    code_written(gpa, len);
}

/* --- fetch and decode --- */

static uint64_t ip_mask(const struct cpu *cpu)
{
    return cpu->code_size == 8 ? ~0ull
           : cpu->code_size == 4 ? 0xffffffffull : 0xffffull;
}

/* Instructions after which the run loop drops its fetch and data caches
 * and looks at events: those that end a block, except near branches */
static bool needs_sync(const struct x86_opcode *op)
{
    switch (op->id) {
    case I_JCC: case I_JMP: case I_CALL: case I_RET: case I_LOOP:
    case I_LOOPE: case I_LOOPNE: case I_JCXZ:
        return false;
    case I_POP:
        return op->opnd[0].method == OM_SEG;
    case I_LES: case I_LDS: case I_LSS: case I_LFS: case I_LGS:
        return true;
    default:
        return (op->attr & OPA_END) != 0;
    }
}

/* Decode the instruction at CS:RIP from guest memory into e; faults
 * (#PF, #GP for the CS limit) raise. */
static void decode_at(struct cpu *cpu, struct icache_entry *e, uint64_t rip)
{
    uint8_t buf[16];
    unsigned n = cpu_fetch_code(cpu, rip, buf, 15);
    int r;
    while ((r = x86_decode(&e->insn, buf, n, cpu->code_size)) == 0)
        n += cpu_fetch_code(cpu, (rip + n) & ip_mask(cpu), buf + n, 15 - n);
    if (r == -2)
        e->fn = interp_too_long;
    else if (r < 0)
        e->fn = interp_ud;
    else
        e->fn = interp_handler(cpu, &e->insn);
    e->sync = r < 0 || needs_sync(e->insn.op);
    e->next = NULL; /* the cache is malloc'd: never follow what was there */
}

/* Make the page of lin the fetch page; false when it cannot be cached */
static bool map_fetch_page(struct cpu *cpu, struct interp_cpu *ic,
                           uint64_t rip, uint64_t lin)
{
    uint8_t b;
    ic->fetch_lin = NO_PAGE;
    cpu_fetch_code(cpu, rip, &b, 1);   /* fills the TLB or faults */
    unsigned slot = (lin >> 12) & (CPU_TLB_SIZE - 1);
    const struct cpu_tlb_entry *t = &cpu->tlb[slot];
    uint64_t page = lin & ~0xfffull;
    if ((t->tag & ~0xfffull) != page || !(t->tag & 1) || !t->host ||
        (t->gpa >> 12) >= stamp_pages)
        return false;
    ic->fetch_lin = page;
    ic->fetch_gpa = t->gpa;
    ic->fetch_tag = t->tag;
    ic->fetch_slot = slot;
    ic->fetch_key = cpu->code_size | (cache_epoch << 4);
    ic->fetch_stamp = &page_stamps[t->gpa >> 12];
    ic->chain_ok = true;
    return true;
}

static uint64_t fetch_linear(const struct cpu *cpu, uint64_t rip)
{
    if (cpu->mode == MODE_LONG64)
        return rip;
    return (uint32_t)(cpu->s.seg[S_CS].base + rip);
}

/* The decoded instruction at CS:RIP: the cache's, after decoding it if
 * needed, or a one-off decode (page-crossing, MMIO, near the CS limit) */
static struct icache_entry *fetch_slow(struct cpu *cpu,
                                             struct interp_cpu *ic,
                                             uint64_t rip)
{
    const struct x86_segment *cs = &cpu->s.seg[S_CS];
    if (cpu->mode != MODE_LONG64 && rip > cs->limit)
        goto uncached;
    uint64_t lin = fetch_linear(cpu, rip);
    if (!map_fetch_page(cpu, ic, rip, lin))
        goto uncached;
    uint64_t gpa = ic->fetch_gpa | (lin & 0xfff);
    struct icache_entry *e = &ic->cache[(gpa ^ (gpa >> ICACHE_BITS)) &
                                        (ICACHE_SIZE - 1)];
    if (e->gpa != gpa || e->key != ic->fetch_key ||
        e->stamp != *ic->fetch_stamp) {
        e->gpa = ~0ull;
        decode_at(cpu, e, rip);
        if ((lin & 0xfff) + e->insn.len > 4096)
            return e;    /* crosses a page: used once, not kept */
        if (!(*ic->fetch_stamp & 1))
            mark_code_page(ic->fetch_gpa >> 12);
        e->gpa = gpa;
        e->key = ic->fetch_key;
        e->stamp = *ic->fetch_stamp;
    }
    if (cpu->mode == MODE_LONG64 || rip + e->insn.len - 1 <= cs->limit)
        return e;
uncached:
    decode_at(cpu, &ic->scratch, rip);
    return &ic->scratch;
}

static inline struct icache_entry *fetch_insn(struct cpu *cpu,
                                             struct interp_cpu *ic,
                                             uint64_t rip)
{
    uint64_t lin;
    if (ic->fast.mode64) {
        lin = rip;
    } else {
        const struct x86_segment *cs = &cpu->s.seg[S_CS];
        if (rip + 15 > cs->limit)
            return fetch_slow(cpu, ic, rip);
        lin = (uint32_t)(cs->base + rip);
    }
    const struct cpu_tlb_entry *t = &cpu->tlb[ic->fetch_slot];
    if ((lin & ~0xfffull) != ic->fetch_lin || t->tag != ic->fetch_tag ||
        t->gpa != ic->fetch_gpa)
        return fetch_slow(cpu, ic, rip);
    uint64_t gpa = ic->fetch_gpa | (lin & 0xfff);
    struct icache_entry *e = &ic->cache[(gpa ^ (gpa >> ICACHE_BITS)) &
                                        (ICACHE_SIZE - 1)];
    if (e->gpa != gpa || e->key != ic->fetch_key ||
        e->stamp != *ic->fetch_stamp)
        return fetch_slow(cpu, ic, rip);
    return e;
}

/* --- events between instructions --- */

static void do_init(struct cpu *cpu, struct interp_cpu *ic)
{
    /* INIT: like RESET, but the x87/SSE state, the MTRRs, PAT and the
     * TSC stay; APs then wait for a SIPI */
    struct x86_state *keep = malloc(sizeof(*keep));
    if (!keep)
        abort();
    *keep = cpu->s;
    uint64_t tsc = cpu_rdtsc(cpu);
    cpu_reset(cpu);
    memcpy(cpu->s.xsave, keep->xsave, sizeof(keep->xsave));
    memcpy(cpu->s.mtrr_fixed, keep->mtrr_fixed, sizeof(keep->mtrr_fixed));
    memcpy(cpu->s.mtrr_var, keep->mtrr_var, sizeof(keep->mtrr_var));
    cpu->s.mtrr_def_type = keep->mtrr_def_type;
    cpu->s.pat = keep->pat;
    cpu->s.misc_enable = keep->misc_enable;
    free(keep);
    cpu_set_tsc(cpu, tsc);
    ic->wait_sipi = cpu->index != 0;
    interp_mode_changed(cpu);
}

static void do_sipi(struct cpu *cpu, struct interp_cpu *ic)
{
    uint8_t v = cpu->link->sipi_vector;
    struct x86_segment *cs = &cpu->s.seg[S_CS];
    cs->selector = (uint16_t)(v << 8);
    cs->base = (uint64_t)v << 12;
    cpu->s.rip = 0;
    cpu->s.halted = 0;
    ic->wait_sipi = false;
    cpu_update_mode(cpu);
    interp_mode_changed(cpu);
}

/* Returns a run_exit reason to stop, or -1 to go on */
static int service_events(struct cpu *cpu, struct interp_cpu *ic,
                          _Atomic unsigned *events)
{
    struct vcpu_link *link = cpu->link;
    unsigned ev = atomic_load_explicit(events, memory_order_relaxed);
    ic->attention = false;
    if (cpu->shutdown)
        return RUN_SHUTDOWN;
    if (ev & VCPU_EV_EXIT) {
        atomic_fetch_and(events, ~(unsigned)VCPU_EV_EXIT);
        ic->attention = true;
        return RUN_DEADLINE;
    }
    if (cpu->exit_request) {
        cpu->exit_request = false;
        return RUN_DEADLINE;
    }
    if (ev & VCPU_EV_INIT) {
        atomic_fetch_and(events, ~(unsigned)VCPU_EV_INIT);
        do_init(cpu, ic);
    }
    if (ev & VCPU_EV_SIPI) {
        atomic_fetch_and(events, ~(unsigned)VCPU_EV_SIPI);
        if (ic->wait_sipi)
            do_sipi(cpu, ic);
    }
    if (ev & VCPU_EV_SMI)  /* no SMM: an SMI is dropped */
        atomic_fetch_and(events, ~(unsigned)VCPU_EV_SMI);
    if (ic->wait_sipi) {
        ic->attention = true;
        return RUN_HALT;
    }
    uint8_t shadow = cpu->s.interrupt_shadow;
    cpu->insn_rip = cpu->s.rip;
    cpu->insn_rsp = cpu->s.gpr[R_SP];
    if ((ev & VCPU_EV_NMI) && !cpu->s.nmi_masked &&
        !(shadow & SHADOW_MOV_SS)) {
        atomic_fetch_and(events, ~(unsigned)VCPU_EV_NMI);
        cpu->s.halted = 0;
        cpu_deliver_event(cpu, EXC_NMI, EV_NMI, false, 0, cpu->s.rip);
        interp_mode_changed(cpu);
    } else if ((ev & VCPU_EV_INTR) && (cpu->s.rflags & FL_IF) && !shadow &&
               link && link->intr_ack) {
        int vector = link->intr_ack(link->ic);
        if (vector >= 0) {
            cpu->s.halted = 0;
            cpu_deliver_event(cpu, vector, EV_EXTINT, false, 0, cpu->s.rip);
            interp_mode_changed(cpu);
        }
    }
    if (cpu->shutdown)
        return RUN_SHUTDOWN;
    if (cpu->s.halted) {
        ic->attention = true;
        return RUN_HALT;
    }
    if (cpu->s.interrupt_shadow)
        ic->attention = true;
    ic->careful = cpu->s.interrupt_shadow || (cpu->s.rflags & FL_TF) ||
                  (log_mask & LOG_EXEC) || ic->single_step || ic->nbp;
    return -1;
}

/* --- executing --- */

static bool is_int_insn(const struct x86_insn *insn)
{
    unsigned id = insn->op ? insn->op->id : I_UD2;
    return id == I_INT || id == I_INT3 || id == I_INTO || id == I_INT1;
}

/* -d exec: every instruction with its address and disassembly */
static void trace_insn(struct cpu *cpu, const struct x86_insn *insn)
{
    char text[96];
    disasm_one(insn->bytes, insn->len, cpu->insn_rip, cpu->code_size, text,
               sizeof(text));
    log_write("exec: %04x:%08llx %s\n", cpu->s.seg[S_CS].selector,
              (unsigned long long)cpu->insn_rip, text);
}

static void exec_one(struct cpu *cpu, struct interp_cpu *ic)
{
    uint64_t rip = cpu->s.rip;
    cpu->insn_rip = rip;
    cpu->insn_rsp = cpu->s.gpr[R_SP];
    const struct icache_entry *e = fetch_insn(cpu, ic, rip);
    if (__builtin_expect(log_mask & LOG_EXEC, 0))
        trace_insn(cpu, &e->insn);
    uint64_t tf = cpu->s.rflags & FL_TF;
    cpu->s.rip = (rip + e->insn.len) & ic->fast.ip_mask;
    if (cpu->s.interrupt_shadow)
        cpu->s.interrupt_shadow = 0;
    e->fn(cpu, &e->insn);
    cpu->icount++;
    ic->attention = true;     /* decide again whether to stay careful */
    if (__builtin_expect(e->sync || tf, 0)) {
        interp_mode_changed(cpu);
        if (tf && !is_int_insn(&e->insn) && !cpu->shutdown) {
            /* single-step trap after the instruction */
            cpu->s.dr[6] |= 1u << 14;
            cpu_deliver_event(cpu, EXC_DB, EV_EXCEPTION, false, 0,
                              cpu->s.rip);
        }
    }
}

static void deliver_fault(struct cpu *cpu, struct interp_cpu *ic)
{
    cpu->s.rip = cpu->insn_rip;
    cpu->s.gpr[R_SP] = cpu->insn_rsp;
    if (cpu->s.exception_pending) {
        cpu_deliver_event(cpu, cpu->s.exception_vector, EV_EXCEPTION,
                          cpu->s.exception_has_error,
                          cpu->s.exception_error, cpu->insn_rip);
    }
    interp_mode_changed(cpu);
}

static void account_icount(struct cpu *cpu, struct interp_cpu *ic)
{
    if (cpu->clock && vclock_mode(cpu->clock) == VCLOCK_ICOUNT)
        vclock_icount_add(cpu->clock, cpu->icount - ic->icount_reported);
    ic->icount_reported = cpu->icount;
}

static bool at_breakpoint(const struct cpu *cpu, const struct interp_cpu *ic)
{
    uint64_t lin = fetch_linear(cpu, cpu->s.rip);
    for (unsigned i = 0; i < ic->nbp; i++)
        if (ic->bp[i] == lin)
            return true;
    return false;
}

void interp_set_single_step(struct cpu *cpu, bool on)
{
    struct interp_cpu *ic = interp_get(cpu);
    ic->single_step = on;
    ic->attention = true;
}

int interp_breakpoint(struct cpu *cpu, uint64_t lin, bool insert)
{
    struct interp_cpu *ic = interp_get(cpu);
    unsigned i = 0;
    while (i < ic->nbp && ic->bp[i] != lin)
        i++;
    if (insert) {
        if (i < ic->nbp)
            return 0;
        if (ic->nbp == INTERP_MAX_BREAKPOINTS)
            return -ENOSPC;
        ic->bp[ic->nbp++] = lin;
    } else {
        if (i == ic->nbp)
            return -ENOENT;
        ic->bp[i] = ic->bp[--ic->nbp];
    }
    ic->attention = true;
    return 0;
}

static int run_loop(struct cpu *cpu, struct interp_cpu *ic, int64_t deadline)
{
    _Atomic unsigned *events = cpu->link ? &cpu->link->events
                                         : &ic->no_events;
    unsigned budget = CHECK_INTERVAL;
    struct icache_entry *prev = NULL;
    uint64_t fall = 0;
    for (;;) {
        if (__builtin_expect(ic->attention ||
                             atomic_load_explicit(events,
                                                  memory_order_relaxed), 0)) {
            prev = NULL;
            int r = service_events(cpu, ic, events);
            if (r >= 0) {
                account_icount(cpu, ic);
                return r;
            }
        }
        if (__builtin_expect(--budget == 0, 0)) {
            budget = CHECK_INTERVAL;
            account_icount(cpu, ic);
            if (!cpu->clock || vclock_now(cpu->clock) >= deadline)
                return RUN_DEADLINE;
        }
        if (__builtin_expect(ic->careful, 0)) {
            if (ic->nbp && !ic->bp_resume && at_breakpoint(cpu, ic)) {
                ic->bp_resume = true;
                account_icount(cpu, ic);
                return RUN_DEBUG;
            }
            ic->bp_resume = false;
            exec_one(cpu, ic);
            prev = NULL;
            if (ic->single_step) {
                account_icount(cpu, ic);
                return RUN_DEBUG;
            }
            continue;
        }
        /* the common case: no TF, no shadow, no tracing; an instruction
         * that follows the previous one in the same page is found through
         * its link instead of the cache lookup */
        uint64_t rip = cpu->s.rip;
        cpu->insn_rip = rip;
        cpu->insn_rsp = cpu->s.gpr[R_SP];
        struct icache_entry *e;
        if (prev && rip == fall && (e = prev->next) != NULL &&
            e->gpa == prev->gpa + prev->insn.len &&
            e->stamp == *ic->fetch_stamp && ic->chain_ok &&
            (ic->fast.mode64 || rip + 15 <= cpu->s.seg[S_CS].limit)) {
            /* linked */
        } else {
            e = fetch_insn(cpu, ic, rip);
            if (prev && rip == fall && e->gpa == prev->gpa + prev->insn.len &&
                ((prev->gpa ^ e->gpa) & ~0xfffull) == 0)
                prev->next = e;
        }
        fall = (rip + e->insn.len) & ic->fast.ip_mask;
        cpu->s.rip = fall;
        e->fn(cpu, &e->insn);
        cpu->icount++;
        prev = e->gpa != ~0ull ? e : NULL;
        if (__builtin_expect(e->sync, 0)) {
            interp_mode_changed(cpu);
            prev = NULL;
        }
    }
}

int interp_run(struct cpu *cpu, int64_t deadline_ns)
{
    struct interp_cpu *ic = interp_get(cpu);
    if (setjmp(cpu->fault_jmp) != 0) {
        deliver_fault(cpu, ic);
        if (cpu->shutdown) {
            account_icount(cpu, ic);
            return RUN_SHUTDOWN;
        }
    }
    return run_loop(cpu, ic, deadline_ns);
}

void interp_step(struct cpu *cpu)
{
    struct interp_cpu *ic = interp_get(cpu);
    if (setjmp(cpu->fault_jmp) != 0) {
        deliver_fault(cpu, ic);
        return;
    }
    _Atomic unsigned *events = cpu->link ? &cpu->link->events
                                         : &ic->no_events;
    if (ic->attention || atomic_load_explicit(events, memory_order_relaxed))
        if (service_events(cpu, ic, events) >= 0)
            return;
    exec_one(cpu, ic);
}

int interp_service(struct cpu *cpu)
{
    struct interp_cpu *ic = interp_get(cpu);
    _Atomic unsigned *events = cpu->link ? &cpu->link->events
                                         : &ic->no_events;
    if (!ic->attention && !atomic_load_explicit(events, memory_order_relaxed))
        return -1;
    return service_events(cpu, ic, events);
}

void interp_fault_recover(struct cpu *cpu)
{
    deliver_fault(cpu, interp_get(cpu));
}
