/* Shared harness of the CPU system-architecture unit tests: one struct cpu
 * on a real memory map with RAM at 0, a manual clock, helpers to poke guest
 * memory and build descriptors, and CATCH() to run code that may raise an
 * exception (it yields the vector, or -1 when nothing was raised). */
#ifndef TESTS_UNIT_CPU_ENV_H
#define TESTS_UNIT_CPU_ENV_H

#include <stdlib.h>
#include <string.h>
#include "cpu/cpu.h"
#include "vm/clock.h"
#include "vm/machine.h"
#include "vm/memory.h"
#include "vm/port_bus.h"

#define ENV_RAM_SIZE (8u << 20)

struct cpu_env {
    struct machine m;
    struct cpu cpu;
    uint8_t *ram;
};

static struct cpu_env env;

static inline void env_init(void)
{
    memset(&env.m, 0, sizeof(env.m));
    env.m.mem = mem_map_new();
    env.m.io = port_bus_new();
    env.m.clock = vclock_new(VCLOCK_MANUAL);
    env.m.ncpus = 1;
    env.ram = calloc(1, ENV_RAM_SIZE);
    mem_map_add_ram(env.m.mem, "ram", 0, ENV_RAM_SIZE, env.ram, 0);
    cpu_init(&env.cpu, &env.m, 0);
}

static inline void env_free(void)
{
    cpu_destroy(&env.cpu);
    mem_map_free(env.m.mem);
    port_bus_free(env.m.io);
    vclock_free(env.m.clock);
    free(env.ram);
}

/* cmocka group setup/teardown around env_init()/env_free() */
static inline int env_setup(void **state)
{
    (void)state;
    env_init();
    return 0;
}

static inline int env_teardown(void **state)
{
    (void)state;
    env_free();
    return 0;
}

static inline void poke32(uint64_t gpa, uint32_t v) { memcpy(env.ram + gpa, &v, 4); }
static inline void poke64(uint64_t gpa, uint64_t v) { memcpy(env.ram + gpa, &v, 8); }
static inline void poke16(uint64_t gpa, uint16_t v) { memcpy(env.ram + gpa, &v, 2); }
static inline uint32_t peek32(uint64_t gpa)
{
    uint32_t v;
    memcpy(&v, env.ram + gpa, 4);
    return v;
}
static inline uint64_t peek64(uint64_t gpa)
{
    uint64_t v;
    memcpy(&v, env.ram + gpa, 8);
    return v;
}
static inline uint16_t peek16(uint64_t gpa)
{
    uint16_t v;
    memcpy(&v, env.ram + gpa, 2);
    return v;
}

/* a code/data/system descriptor: access byte (P, DPL, S, type) and the
 * flags nibble (G, D/B, L, AVL) */
static inline uint64_t mkdesc(uint32_t base, uint32_t limit, unsigned access,
                              unsigned flags)
{
    return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) |
           ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
           ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

/* a 32-bit (or 16-bit) gate: type 4-7, 12-15 */
static inline uint64_t mkgate(uint16_t sel, uint32_t off, unsigned type,
                              unsigned dpl)
{
    return (off & 0xffff) | ((uint64_t)sel << 16) |
           ((uint64_t)(0x80 | (dpl << 5) | type) << 40) |
           ((uint64_t)(off >> 16) << 48);
}

/* The standard descriptor tables: GDT at 0x1000, IDT at 0x2000, TSSs at
 * 0x3000 (32-bit), 0x3100 (32-bit), 0x3200 (64-bit) */
#define GDT_BASE 0x1000
#define IDT_BASE 0x2000
#define TSS_A 0x3000
#define TSS_B 0x3100
#define TSS_64 0x3200
enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x1b, SEL_DATA3 = 0x23,
    SEL_CODE64_0 = 0x28, SEL_CODE64_3 = 0x33, SEL_TSS_A = 0x38,
    SEL_TSS_B = 0x40, SEL_TSS_64 = 0x48, SEL_CODE16 = 0x58,
    SEL_DATA_NP = 0x60, SEL_DATA_RO = 0x68, SEL_CODE_XO = 0x70,
    SEL_DATA_DOWN = 0x78, SEL_DATA_SMALL = 0x80, SEL_CALL_GATE = 0x8b,
    SEL_TASK_GATE = 0x90,
};

static inline void env_gdt(void)
{
    uint64_t g = GDT_BASE;
    poke64(g + 0x08, mkdesc(0, 0xfffff, 0x9a, 0xc));
    poke64(g + 0x10, mkdesc(0, 0xfffff, 0x92, 0xc));
    poke64(g + 0x18, mkdesc(0, 0xfffff, 0xfa, 0xc));
    poke64(g + 0x20, mkdesc(0, 0xfffff, 0xf2, 0xc));
    poke64(g + 0x28, mkdesc(0, 0xfffff, 0x9a, 0xa));
    poke64(g + 0x30, mkdesc(0, 0xfffff, 0xfa, 0xa));
    poke64(g + 0x38, mkdesc(TSS_A, 0x67, 0x89, 0));
    poke64(g + 0x40, mkdesc(TSS_B, 0x67, 0x89, 0));
    poke64(g + 0x48, mkdesc(TSS_64, 0x67, 0x89, 0));
    poke64(g + 0x50, 0);
    poke64(g + 0x58, mkdesc(0, 0xffff, 0x9a, 0));
    poke64(g + 0x60, mkdesc(0, 0xfffff, 0x12, 0xc));
    poke64(g + 0x68, mkdesc(0, 0xfffff, 0x90, 0xc));
    poke64(g + 0x70, mkdesc(0, 0xfffff, 0x98, 0xc));
    poke64(g + 0x78, mkdesc(0x10000, 0xfff, 0x96, 0));
    poke64(g + 0x80, mkdesc(0x20000, 0xff, 0x92, 0x4));
    poke64(g + 0x88, mkgate(SEL_CODE0, 0x5000, 12, 3) | (2ull << 32));
    poke64(g + 0x90, mkgate(SEL_TSS_B, 0, 5, 0));
    env.cpu.s.gdt.base = GDT_BASE;
    env.cpu.s.gdt.limit = 0xff;
    env.cpu.s.idt.base = IDT_BASE;
    env.cpu.s.idt.limit = 0x7ff;
}

/* Put a segment register in the state a load of sel would give */
static inline void env_seg(int seg, uint16_t sel)
{
    uint64_t lo = peek64(GDT_BASE + (sel & ~7u)) | (1ull << 40);
    uint64_t hi = 0;
    if (!(lo & (1ull << 44)))
        hi = peek64(GDT_BASE + (sel & ~7u) + 8);
    cpu_desc_to_seg(lo, hi, sel, &env.cpu.s.seg[seg]);
}

/* protected mode at ring cpl with flat segments, TR = TSS A */
static inline void env_prot(int cpl)
{
    struct cpu *cpu = &env.cpu;
    env_gdt();
    cpu->s.cr0 |= CR0_PE;
    env_seg(S_CS, cpl ? SEL_CODE3 : SEL_CODE0);
    env_seg(S_SS, cpl ? SEL_DATA3 : SEL_DATA0);
    env_seg(S_DS, cpl ? SEL_DATA3 : SEL_DATA0);
    env_seg(S_ES, cpl ? SEL_DATA3 : SEL_DATA0);
    cpu->s.tr.selector = SEL_TSS_A;
    cpu->s.tr.base = TSS_A;
    cpu->s.tr.limit = 0x67;
    cpu->s.tr.attr = SEG_ATTR_P | 11;
    poke64(GDT_BASE + 0x38, mkdesc(TSS_A, 0x67, 0x8b, 0));
    cpu_update_mode(cpu);
}

/* 64-bit mode at ring cpl (no paging needed for these tests' checks: the
 * state is set directly), TR = the 64-bit TSS */
static inline void env_long(int cpl)
{
    struct cpu *cpu = &env.cpu;
    env_gdt();
    cpu->s.cr0 |= CR0_PE;
    cpu->s.efer |= EFER_LME | EFER_LMA;
    env_seg(S_CS, cpl ? SEL_CODE64_3 : SEL_CODE64_0);
    env_seg(S_SS, cpl ? SEL_DATA3 : SEL_DATA0);
    env_seg(S_DS, cpl ? SEL_DATA3 : SEL_DATA0);
    cpu->s.tr.selector = SEL_TSS_64;
    cpu->s.tr.base = TSS_64;
    cpu->s.tr.limit = 0x67;
    cpu->s.tr.attr = SEG_ATTR_P | 11;
    cpu->s.idt.limit = 0xfff;
    cpu_update_mode(cpu);
}

#define CATCH(stmt)                                                            \
    ({                                                                         \
        volatile int v_ = -1;                                                           \
        if (setjmp(env.cpu.fault_jmp) == 0) {                                  \
            stmt;                                                              \
        } else {                                                               \
            v_ = env.cpu.s.exception_vector;                                   \
        }                                                                      \
        v_;                                                                    \
    })

#endif
