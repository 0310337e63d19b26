/* Shared harness of the JIT's differential tests: two machines with the
 * same RAM layout, one run by the interpreter (vi) and one by the JIT (vj);
 * load_both() puts the same code, data and registers on both in 64-bit or
 * 32-bit protected mode, run_both() runs them to HLT and compare() fails
 * on any difference in registers, RIP, RFLAGS, CR2, the x87/SSE state or
 * guest memory. rnd()/pick() are the random source of the generators,
 * random_gprs()/random_mxcsr() their starting states, struct prog and
 * put()/put32() the programs they write. */
#ifndef TESTS_UNIT_JIT_DIFF_H
#define TESTS_UNIT_JIT_DIFF_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/interp.h"
#include "jit/jit.h"
#include "vm/clock.h"
#include "vm/machine.h"
#include "vm/memory.h"
#include "vm/port_bus.h"

#define RAM_SIZE (8u << 20)
#define PML4 0x10000
#define CODE 0x100000
#define DATA 0x200000
#define STACK_TOP 0x300000
#define IDT 0x20000
#define GDT 0x21000

struct vm {
    struct machine m;
    uint8_t *ram;
    struct cpu *cpu;
    struct jit_vcpu *jv;   /* NULL: the interpreter runs cpu */
};

static struct vm vi, vj;   /* interpreter, JIT */

static void vm_init(struct vm *vm, bool jit)
{
    memset(&vm->m, 0, sizeof(vm->m));
    vm->m.mem = mem_map_new();
    vm->m.io = port_bus_new();
    vm->m.clock = vclock_new(VCLOCK_MANUAL);
    vm->m.ncpus = 1;
    vm->ram = calloc(1, RAM_SIZE);
    mem_map_add_ram(vm->m.mem, "ram", 0, RAM_SIZE, vm->ram, 0);
    if (jit) {
        vm->jv = aligned_alloc(64, (sizeof(struct jit_vcpu) + 63) & ~63ul);
        memset(vm->jv, 0, sizeof(*vm->jv));
        vm->cpu = &vm->jv->cpu;
        cpu_init(vm->cpu, &vm->m, 0);
        assert_true(jit_vcpu_setup(vm->jv));
    } else {
        vm->jv = NULL;
        vm->cpu = aligned_alloc(64, (sizeof(struct cpu) + 63) & ~63ul);
        memset(vm->cpu, 0, sizeof(*vm->cpu));
        cpu_init(vm->cpu, &vm->m, 0);
        interp_set_wait_sipi(vm->cpu, false);
    }
}

static void vm_free(struct vm *vm)
{
    if (vm->jv)
        jit_vcpu_teardown(vm->jv);
    else
        interp_free(vm->cpu);
    cpu_destroy(vm->cpu);
    free(vm->jv ? (void *)vm->jv : (void *)vm->cpu);
    mem_map_free(vm->m.mem);
    port_bus_free(vm->m.io);
    vclock_free(vm->m.clock);
    free(vm->ram);
}

static int setup(void **state)
{
    vm_init(&vi, false);
    vm_init(&vj, true);
    return 0;
}

static int teardown(void **state)
{
    vm_free(&vi);
    vm_free(&vj);
    return 0;
}

static enum run_exit vm_run(struct vm *vm)
{
    if (vm->jv)
        return jit_run(vm->jv, INT64_MAX);
    return (enum run_exit)interp_run(vm->cpu, INT64_MAX);
}

/* --- machine states --- */

enum mode { M64, M32 };

static void put64(struct vm *vm, uint64_t gpa, uint64_t v)
{
    memcpy(vm->ram + gpa, &v, 8);
}

static void set_mode(struct vm *vm, enum mode mode)
{
    struct x86_state *s = malloc(sizeof(*s));
    cpu_get_state(vm->cpu, s);
    uint32_t code = mode == M64 ? 0xa09b : 0xc09b;
    uint32_t data = 0xc093;
    for (int i = 0; i < 6; i++) {
        s->seg[i].base = 0;
        s->seg[i].limit = 0xffffffff;
        s->seg[i].selector = i == S_CS ? 0x08 : 0x10;
        s->seg[i].attr = i == S_CS ? code : data;
    }
    s->cr0 = 0x11;   /* PE, ET */
    s->cr4 = 0;
    s->efer = 0;
    s->rflags = 2;
    if (mode == M64) {
        /* identity map of the first 8 MiB with 2 MiB pages */
        put64(vm, PML4, (PML4 + 0x1000) | 7);
        put64(vm, PML4 + 0x1000, (PML4 + 0x2000) | 7);
        for (int i = 0; i < 4; i++)
            put64(vm, PML4 + 0x2000 + 8 * i, ((uint64_t)i << 21) | 0x87);
        s->cr3 = PML4;
        s->cr0 |= 0x80010000u;                    /* PG, WP */
        s->cr4 = 0x20;                            /* PAE */
        s->efer = 0x500;                          /* LME, LMA */
    }
    /* GDT: 0x08 code (of this mode), 0x10 data */
    put64(vm, GDT + 8, mode == M64 ? 0x00af9b000000ffffull
                                   : 0x00cf9b000000ffffull);
    put64(vm, GDT + 16, 0x00cf93000000ffffull);
    s->gdt.base = GDT;
    s->gdt.limit = 0x2f;
    s->idt.base = IDT;
    s->idt.limit = 0xfff;
    s->gpr[R_SP] = STACK_TOP;
    s->rip = CODE;
    s->halted = 0;
    cpu_set_state(vm->cpu, s);
    free(s);
    interp_mode_changed(vm->cpu);
}

/* the same state and memory on both machines */
static void load_both(enum mode mode, const uint8_t *code, size_t len,
                      const uint64_t *gpr)
{
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        struct vm *vm = vms[k];
        memset(vm->ram, 0, RAM_SIZE);
        for (unsigned i = 0; i < 0x1000; i++)
            vm->ram[DATA + i] = (uint8_t)(i * 37 + 11);
        /* HLT after the code: stray execution stops */
        memset(vm->ram + CODE, 0xf4, 0x10000);
        memcpy(vm->ram + CODE, code, len);
        set_mode(vm, mode);
        for (int r = 0; r < 16; r++)
            if (r != R_SP)
                vm->cpu->s.gpr[r] = gpr ? gpr[r] : 0;
        mem_map_set_a20(vm->m.mem, true);
        vm->cpu->icount = 0;
        jit_cache_flush();
        interp_invalidate_code(0, RAM_SIZE);
        mmu_flush(vm->cpu, true);
    }
}

static void compare(const char *what)
{
    struct cpu *a = vi.cpu, *b = vj.cpu;
    char msg[256];
    for (int r = 0; r < 16; r++) {
        if (a->s.gpr[r] != b->s.gpr[r]) {
            snprintf(msg, sizeof(msg), "%s: gpr %d interp %llx jit %llx",
                     what, r, (unsigned long long)a->s.gpr[r],
                     (unsigned long long)b->s.gpr[r]);
            fail_msg("%s", msg);
        }
    }
    if (a->s.rip != b->s.rip)
        fail_msg("%s: rip interp %llx jit %llx", what,
                 (unsigned long long)a->s.rip, (unsigned long long)b->s.rip);
    if (cpu_get_rflags(a) != cpu_get_rflags(b))
        printf("cc interp op %u size %u src %llx dst %llx res %llx fl %llx; "
               "jit op %u size %u src %llx dst %llx res %llx fl %llx\n",
               a->cc.op, a->cc.size, (unsigned long long)a->cc.src,
               (unsigned long long)a->cc.dst, (unsigned long long)a->cc.res,
               (unsigned long long)a->cc.flags, b->cc.op, b->cc.size,
               (unsigned long long)b->cc.src, (unsigned long long)b->cc.dst,
               (unsigned long long)b->cc.res,
               (unsigned long long)b->cc.flags);
    if (cpu_get_rflags(a) != cpu_get_rflags(b))
        fail_msg("%s: rflags interp %llx jit %llx", what,
                 (unsigned long long)cpu_get_rflags(a),
                 (unsigned long long)cpu_get_rflags(b));
    if (a->s.cr2 != b->s.cr2)
        fail_msg("%s: cr2 differs", what);
    for (unsigned i = 0; i < 512; i++)
        if (a->s.xsave[i] != b->s.xsave[i])
            fail_msg("%s: x87/SSE state byte %u: interp %02x jit %02x", what,
                     i, a->s.xsave[i], b->s.xsave[i]);
    if (memcmp(vi.ram, vj.ram, RAM_SIZE) != 0) {
        for (unsigned i = 0; i < RAM_SIZE; i++)
            if (vi.ram[i] != vj.ram[i])
                fail_msg("%s: memory at %x: interp %02x jit %02x", what, i,
                         vi.ram[i], vj.ram[i]);
    }
}

static void run_both(const char *what)
{
    enum run_exit ri = vm_run(&vi);
    enum run_exit rj = vm_run(&vj);
    if (ri != rj)
        fail_msg("%s: interp stops with %d, jit with %d", what, ri, rj);
    compare(what);
}

/* every exception vector (0-31) of both machines to an interrupt gate
 * to `handler` (e.g. a HLT, so a fault ends the run and is compared) */
/* IDT entry vec: a present ring-0 interrupt gate to 0x08:handler */
static inline uint64_t idt_gate_lo(uint64_t handler)
{
    return (handler & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
           ((handler >> 16) & 0xffff) << 48;
}

static inline void idt_gate64(struct vm *vm, int vec, uint64_t handler)
{
    put64(vm, IDT + 16 * vec, idt_gate_lo(handler));
    put64(vm, IDT + 16 * vec + 8, handler >> 32);
}

static inline void idt_all_to(enum mode mode, uint64_t handler)
{
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        for (int vec = 0; vec < 32; vec++) {
            if (mode == M64)
                idt_gate64(vms[k], vec, handler);
            else
                put64(vms[k], IDT + 8 * vec, idt_gate_lo(handler));
        }
    }
}

/* --- random programs --- */

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* a guest program being written byte by byte */
struct prog {
    uint8_t b[4096];
    size_t n;
    enum mode mode;
    bool a16;   /* the instruction's memory operand is [SI + disp8] */
};

static inline void put(struct prog *p, uint8_t v)
{
    p->b[p->n++] = v;
}

static inline void put32(struct prog *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put(p, (uint8_t)(v >> (8 * i)));
}

/* PUSHF; POP r: the flags into guest register r */
static inline void put_pushf_pop(struct prog *p, unsigned r)
{
    put(p, 0x9c);
    if (r & 8)
        put(p, 0x41);
    put(p, (uint8_t)(0x58 | (r & 7)));
}

/* random register values: a byte, a 32-bit value, a sign-extended byte
 * or all 64 bits; with `special`, one in five of the test's own kind */
static inline void random_gprs(uint64_t *g, uint64_t (*special)(void))
{
    for (int r = 0; r < 16; r++) {
        if (special && pick(5) == 0) {
            g[r] = special();
            continue;
        }
        uint64_t v = rnd();
        switch (pick(4)) {
        case 0: v &= 0xff; break;
        case 1: v = (uint32_t)v; break;
        case 2: v = (uint64_t)(int64_t)(int8_t)v; break;
        default: break;
        }
        g[r] = v;
    }
}

/* a random MXCSR: any rounding, DAZ, FTZ, sticky flags, and one in
 * `unmask_one_in` with some exceptions unmasked */
static inline uint32_t random_mxcsr(unsigned unmask_one_in)
{
    uint32_t mx = 0x1f80 | (uint32_t)pick(4) << 13;
    if (pick(3) == 0)
        mx |= 0x40;       /* DAZ */
    if (pick(3) == 0)
        mx |= 0x8000;     /* FTZ */
    if (pick(2))
        mx |= (uint32_t)pick(64);   /* sticky flags */
    if (pick(unmask_one_in) == 0)
        mx &= ~((uint32_t)pick(64) << 7);   /* unmasked exceptions */
    return mx;
}

#endif
