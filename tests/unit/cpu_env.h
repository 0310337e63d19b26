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
    mem_map_free(env.m.mem);
    port_bus_free(env.m.io);
    vclock_free(env.m.clock);
    free(env.ram);
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
