/* The `jit` CPU backend (-accel jit): the interpreter's vCPU (struct cpu,
 * its state, exceptions and event delivery) with translated blocks doing
 * most of the executing. The run loop services events through the
 * interpreter, finds or translates the block at CS:RIP (keyed by its
 * guest-physical address, RIP and the mode), chains the exit it came
 * from, and enters generated code; whatever cannot start a block (single
 * step, an interrupt shadow, code in MMIO or across a page end) is one
 * interp_step(). A fault anywhere unwinds to the setjmp here, which
 * delivers it as the interpreter does.
 *
 * Kicks zero the block budget, so generated code is back in the loop
 * within one block; the budget also bounds the time between clock reads.
 * Writes to pages holding translated code reach jit_code_changed() through
 * the MMU's code-write hooks (chained with the interpreter's own), DMA
 * through the memory map's ram_written listener. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/boot_state.h"
#include "cpu/interp.h"
#include "cpu/sys_internal.h"
#include "jit/jit.h"
#include "vm/accel.h"
#include "vm/clock.h"
#include "vm/machine.h"
#include "vm/vcpu_link.h"

#define BUDGET 4096          /* block entries between clock reads */
#define LOOP_CHECKS 256      /* loop iterations between clock reads */
#define RESTART (-2)         /* interp_step() replaced the setjmp */

/* --- memory-map listeners, one per map --- */

struct map_ref {
    struct mem_map *map;
    int users;
};
static struct map_ref maps[8];

static void map_changed(void *opaque, uint64_t base, uint64_t size)
{
    jit_code_changed(base, size);
}

static void ram_written(void *opaque, uint64_t gpa, uint64_t len)
{
    jit_code_changed(gpa, len);
}

static struct mem_listener listener_for(struct mem_map *map)
{
    return (struct mem_listener){ .changed = map_changed,
                                  .ram_written = ram_written, .opaque = map };
}

/* count a user of map; returns its slot (blocks of different machines in
 * one process are told apart by it), or -1 when all slots are taken */
static int map_ref(struct mem_map *map, int delta)
{
    int free_slot = -1;
    for (int i = 0; i < (int)(sizeof(maps) / sizeof(maps[0])); i++) {
        if (maps[i].map == map && maps[i].users) {
            maps[i].users += delta;
            if (!maps[i].users) {
                struct mem_listener l = listener_for(map);
                mem_map_remove_listener(map, &l);
            }
            return i;
        }
        if (!maps[i].users && free_slot < 0)
            free_slot = i;
    }
    if (delta > 0 && free_slot >= 0) {
        struct mem_listener l = listener_for(map);
        mem_map_add_listener(map, &l);
        maps[free_slot] = (struct map_ref){ map, 1 };
    }
    return free_slot;
}

/* --- code-write hooks (struct cpu), chained with the interpreter's --- */

static bool code_page(struct cpu *cpu, uint64_t gpa_page)
{
    struct jit_vcpu *v = jit_vcpu_of(cpu);
    return jit_page_has_code(gpa_page) ||
           (v->interp_code_page && v->interp_code_page(cpu, gpa_page));
}

static void code_write(struct cpu *cpu, uint64_t gpa, uint64_t len)
{
    struct jit_vcpu *v = jit_vcpu_of(cpu);
    jit_code_changed(gpa, len);
    if (v->interp_code_write)
        v->interp_code_write(cpu, gpa, len);
}

/* --- the backend --- */

static int jit_probe(const char **why)
{
    if (!jit_cache_init()) {
        *why = "cannot map executable memory for generated code";
        return -ENOMEM;
    }
    return 0;
}

static void link_kick(void *vcpu)
{
    struct jit_vcpu *v = vcpu;
    __atomic_store_n(&v->budget, 0, __ATOMIC_RELAXED);
}

static void jit_kick(void *vcpu)
{
    struct jit_vcpu *v = vcpu;
    if (v->cpu.link)
        atomic_fetch_or(&v->cpu.link->events, VCPU_EV_EXIT);
    link_kick(v);
}

/* Wire a vCPU to the JIT; cpu_init() has run. Used by tests too. */
bool jit_vcpu_setup(struct jit_vcpu *v)
{
    struct cpu *cpu = &v->cpu;
    if (!jit_cache_init())
        return false;
    interp_set_wait_sipi(cpu, cpu->index != 0);
    v->interp_code_page = cpu->code_page;
    v->interp_code_write = cpu->on_code_write;
    cpu->code_page = code_page;
    cpu->on_code_write = code_write;
    if (cpu->mem) {
        int slot = map_ref(cpu->mem, 1);
        if (slot < 0)
            return false;
        v->map_slot = (unsigned)slot;
    }
    jit_cache_add_cpu(cpu);
    if (cpu->link) {
        cpu->link->backend = v;
        cpu->link->kick = link_kick;
    }
    return true;
}

void jit_vcpu_teardown(struct jit_vcpu *v)
{
    struct cpu *cpu = &v->cpu;
    if (cpu->link && cpu->link->backend == v) {
        cpu->link->kick = NULL;
        cpu->link->backend = NULL;
    }
    if (cpu->mem)
        map_ref(cpu->mem, -1);
    jit_cache_remove_cpu(cpu);
    cpu->code_page = v->interp_code_page;
    cpu->on_code_write = v->interp_code_write;
    interp_free(cpu);
}

static void *jit_init(struct machine *m, int index)
{
    size_t size = (sizeof(struct jit_vcpu) + 63) & ~(size_t)63;
    struct jit_vcpu *v = aligned_alloc(64, size);
    if (!v)
        return NULL;
    memset(v, 0, sizeof(*v));
    struct cpu *cpu = &v->cpu;
    cpu_init(cpu, m, index);
    if (index == 0 && m->boot.mode != BOOT_RESET) {
        struct x86_state *s = malloc(sizeof(*s));
        if (!s) {
            cpu_destroy(cpu);
            free(v);
            return NULL;
        }
        cpu_get_state(cpu, s);
        x86_state_apply_boot(s, &m->boot);
        cpu_set_state(cpu, s);
        free(s);
    }
    if (!jit_vcpu_setup(v)) {
        cpu_destroy(cpu);
        free(v);
        return NULL;
    }
    return v;
}

static void jit_destroy(void *vcpu)
{
    struct jit_vcpu *v = vcpu;
    if (!v)
        return;
    jit_vcpu_teardown(v);
    cpu_destroy(&v->cpu);
    free(v);
}

static void jit_get_state(void *vcpu, struct x86_state *s)
{
    cpu_get_state(vcpu, s);
    s->wait_sipi = interp_wait_sipi(vcpu);
}

static void jit_set_state(void *vcpu, const struct x86_state *s)
{
    cpu_set_state(vcpu, s);
    interp_set_wait_sipi(vcpu, s->wait_sipi);
    interp_mode_changed(vcpu);
}

static void account_icount(struct jit_vcpu *v)
{
    struct cpu *cpu = &v->cpu;
    if (cpu->clock && vclock_mode(cpu->clock) == VCLOCK_ICOUNT)
        vclock_icount_add(cpu->clock, cpu->icount - v->icount_reported);
    v->icount_reported = cpu->icount;
}

static bool tlb_exec_ok(const struct cpu *cpu, const struct cpu_tlb_entry *t,
                        uint64_t lin)
{
    bool user_page = (t->perm & CPU_TLB_USER) != 0;
    return t->tag == ((lin & ~0xfffull) | CPU_TLB_VALID) && t->host &&
           !(t->perm & CPU_TLB_NX) &&
           (cpu->cpl == 3 ? user_page
                          : !user_page || !(cpu->s.cr4 & CR4_SMEP));
}

/* The block at CS:RIP, translated if needed; NULL when the interpreter
 * must run this instruction. May raise #PF (instruction fetch). */
static struct jit_block *find_block(struct jit_vcpu *v)
{
    struct cpu *cpu = &v->cpu;
    uint64_t rip = cpu->s.rip, lin;
    if (cpu->mode == MODE_LONG64) {
        if (!is_canonical(rip))
            return NULL;
        lin = rip;
    } else {
        const struct x86_segment *cs = &cpu->s.seg[S_CS];
        if (rip > cs->limit)
            return NULL;
        lin = (uint32_t)(cs->base + rip);
    }
    cpu->insn_rip = rip;
    cpu->insn_rsp = cpu->s.gpr[R_SP];
    const struct cpu_tlb_entry *t = &cpu->tlb[(lin >> 12) &
                                              (CPU_TLB_SIZE - 1)];
    if (!tlb_exec_ok(cpu, t, lin)) {
        uint8_t byte;
        cpu_fetch_code(cpu, rip, &byte, 1);   /* fills the TLB or faults */
        if (!tlb_exec_ok(cpu, t, lin))
            return NULL;
    }
    uint64_t gpa = t->gpa | (lin & 0xfff);
    struct jit_block *b = jit_block_find(gpa, rip, jit_mode_key(v));
    return b ? b : jit_translate(v, gpa);
}

/* the jump cache refers to blocks of this cache generation only */
static struct jit_block no_block;

static void jc_check(struct jit_vcpu *v)
{
    if (v->jc_generation == jit_cache_generation && v->jc[0].b)
        return;
    for (unsigned i = 0; i < JIT_JC_SIZE; i++)
        v->jc[i] = (struct jit_jc_entry){ ~0ull, &no_block };
    v->jc_generation = jit_cache_generation;
}

/* chain the exit generated code just left through to block b */
static void chain_from_last(struct jit_vcpu *v, struct jit_block *b)
{
    struct jit_exit *e = v->last_exit;
    v->last_exit = NULL;
    if (!e || v->chain_generation != jit_cache_generation)
        return;
    const struct jit_block *from = e->from;
    if (!from->valid || e->target_rip != b->rip || from->key != b->key)
        return;
    /* within the page the mapping is the one the block came from; across
     * pages the exit's guard checks it at every crossing */
    if (e->cross_page || ((from->gpa >> 12) == (b->gpa >> 12) &&
                          b->rip - from->rip == b->gpa - from->gpa))
        jit_chain(e, b);
}

static int run_loop(struct jit_vcpu *v, int64_t deadline)
{
    struct cpu *cpu = &v->cpu;
    unsigned checks = 0;
    for (;;) {
        int r = interp_service(cpu);
        if (r >= 0)
            return r;
        if (++checks >= LOOP_CHECKS || v->budget <= 0) {
            checks = 0;
            account_icount(v);
            if (!cpu->clock || vclock_now(cpu->clock) >= deadline)
                return RUN_DEADLINE;
        }
        struct jit_block *b = NULL;
        if (!(cpu->s.rflags & FL_TF) && !cpu->s.interrupt_shadow)
            b = find_block(v);
        if (!b) {
            v->last_exit = NULL;
            interp_step(cpu);
            return RESTART;
        }
        jit_stats.loop_entries++;
        chain_from_last(v, b);
        jc_check(v);
        v->jc[b->rip & (JIT_JC_SIZE - 1)] = (struct jit_jc_entry){ b->rip, b };
        v->budget = BUDGET;
        v->exit_now = 0;
        int why = jit_enter(v, b->code);
        v->current = NULL;
        if (why == JIT_EXIT_CHAIN)
            v->chain_generation = jit_cache_generation;
        else
            v->last_exit = NULL;
    }
}

/* A fault unwound out of block b: count the instructions of b that ran
 * before the faulting one (the exits count the others), and write the
 * flags record the block may have left out */
static void stop_faulted(struct jit_vcpu *v)
{
    struct jit_block *b = v->current;
    v->current = NULL;
    int i = b ? jit_block_insn(b, v->cpu.insn_rip) : -1;
    if (i < 0)
        return;
    v->cpu.icount += (unsigned)i;
    /* no store faults after its instruction's record: a read-modify-write
     * checks its write with its read (jit_helper_load_rmw) */
    jit_defer_rebuild(&v->cpu, b, (unsigned)i);
}

enum run_exit jit_run(void *vcpu, int64_t deadline_ns)
{
    struct jit_vcpu *v = vcpu;
    struct cpu *cpu = &v->cpu;
    int r;
    do {
        if (setjmp(cpu->fault_jmp) != 0) {
            v->last_exit = NULL;
            stop_faulted(v);
            interp_fault_recover(cpu);
            if (cpu->shutdown) {
                account_icount(v);
                return RUN_SHUTDOWN;
            }
        }
        r = run_loop(v, deadline_ns);
    } while (r == RESTART);
    account_icount(v);
    return (enum run_exit)r;
}

static int jit_set_debug(void *vcpu, bool single_step)
{
    return -ENOTSUP;
}

static int jit_debug_point(void *vcpu, enum debug_kind kind, uint64_t addr,
                           uint64_t len)
{
    return -ENOTSUP;
}

static void jit_invalidate_code(void *vcpu, uint64_t gpa, uint64_t len)
{
    jit_code_changed(gpa, len);
    interp_invalidate_code(gpa, len);
}

static const struct cpu_backend_ops jit_ops = {
    .name = "jit",
    .summary = "x86-64 translator (the default without KVM)",
    .probe = jit_probe,
    .init = jit_init,
    .destroy = jit_destroy,
    .get_state = jit_get_state,
    .set_state = jit_set_state,
    .run = jit_run,
    .kick = jit_kick,
    .set_debug = jit_set_debug,
    .insert_debug = jit_debug_point,
    .remove_debug = jit_debug_point,
    .invalidate_code = jit_invalidate_code,
    .priority = 50,
};

ACCEL_REGISTER(jit_ops)
