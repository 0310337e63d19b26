/* Helpers shared by the system-architecture files of cpu/ (mmu.c,
 * segment.c, exception.c, farxfer.c, task.c, system.c, cpu_state.c); not
 * part of the interface cpu/cpu.h gives the rest of the CPU. */
#ifndef CPU_SYS_INTERNAL_H
#define CPU_SYS_INTERNAL_H

#include "cpu/cpu.h"

/* the selector error code of #GP/#TS/#NP/#SS: index, TI, EXT */
#define SEL_ERR(sel, ext) (((sel) & 0xfffcu) | ((ext) ? 1u : 0u))
/* the IDT error code for a vector */
#define IDT_ERR(vec, ext) ((((uint32_t)(vec)) << 3) | 2u | ((ext) ? 1u : 0u))

/* descriptor fields of the low 8 bytes */
#define DESC_ATTR(lo) ((uint32_t)((lo) >> 40) & 0xf0ffu)
#define DESC_TYPE(lo) ((unsigned)((lo) >> 40) & 0xfu)
#define DESC_S(lo) (((lo) >> 44) & 1)
#define DESC_DPL(lo) ((unsigned)((lo) >> 45) & 3u)
#define DESC_P(lo) (((lo) >> 47) & 1)
/* code/data type bits (with S set) */
#define TYPE_ACCESSED 1u
#define TYPE_W 2u       /* data: writable */
#define TYPE_R 2u       /* code: readable */
#define TYPE_E 4u       /* data: expand-down */
#define TYPE_C 4u       /* code: conforming */
#define TYPE_CODE 8u
/* system descriptor types */
enum {
    SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALL16 = 4,
    SYS_TASK_GATE = 5, SYS_INT16 = 6, SYS_TRAP16 = 7, SYS_TSS32_AVAIL = 9,
    SYS_TSS32_BUSY = 11, SYS_CALL32 = 12, SYS_INT32 = 14, SYS_TRAP32 = 15,
};

/* task switch reasons (cpu_task_switch) */
enum { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };

static inline bool cpu_long_mode(const struct cpu *cpu)
{
    return (cpu->s.efer & EFER_LMA) != 0;
}

static inline bool is_canonical(uint64_t a)
{
    return (uint64_t)(((int64_t)a << 16) >> 16) == a;
}

/* exceptions whose delivery pushes an error code */
bool exc_has_error_code(int vector);

/* mmu.c: load the four PAE PDPTEs from CR3; false if one has reserved
 * bits set (the CR write must #GP) */
bool mmu_load_pdptes(struct cpu *cpu, uint64_t cr3);
/* mmu.c: join/leave the vCPUs whose TLBs the memory-map listener flushes
 * (mmu_forget: drop a stale entry without touching its map) */
void mmu_init(struct cpu *cpu);
void mmu_fini(struct cpu *cpu);
void mmu_forget(struct cpu *cpu);

/* segment.c */
/* descriptor address check + fetch; on failure raise vector(SEL_ERR) */
void seg_fetch_desc(struct cpu *cpu, uint16_t sel, uint64_t *lo, uint64_t *hi,
                    int vector, bool ext);
/* set the accessed bit of a code/data descriptor in memory */
void seg_set_accessed(struct cpu *cpu, uint16_t sel, uint64_t lo);
/* load a validated descriptor into a segment register (no checks) */
void seg_load_desc(struct cpu *cpu, int seg, uint16_t sel, uint64_t lo,
                   uint64_t hi);
/* mark a data segment register unusable (null selector) */
void seg_load_null(struct cpu *cpu, int seg, uint16_t sel);
/* load SS with every check (vector: #GP for MOV/POP, #TS for task switch) */
void seg_load_ss_checked(struct cpu *cpu, uint16_t sel, int cpl, int vector,
                         bool ext);
/* load DS/ES/FS/GS with every check (#GP for MOV, #TS for task switch) */
void seg_load_data_checked(struct cpu *cpu, int seg, uint16_t sel, int vector,
                           bool ext);
/* the null SS of 64-bit mode at a given privilege level */
void seg_load_null_ss(struct cpu *cpu, uint16_t sel, int cpl);
/* after a return to an outer ring: null DS/ES/FS/GS that the new CPL may
 * not use */
void seg_null_invalid_data(struct cpu *cpu);
/* read/write through an explicit segment cache (used to build stack frames
 * on a stack that is not loaded yet); size 2, 4 or 8 */
uint64_t seg_lin_checked(struct cpu *cpu, const struct x86_segment *sc,
                         bool is_ss, uint64_t offset, unsigned size,
                         unsigned acc, uint32_t err);

/* msr.c: set the guest TSC (adjusts the offset, here and in the link) */
void cpu_set_tsc(struct cpu *cpu, uint64_t tsc);

/* exception.c: write a stack frame of len bytes at lin, its highest slot
 * (w bytes) first as the pushes of the hardware would, so that a #PF
 * reports the address a push faulted on */
void frame_write(struct cpu *cpu, uint64_t lin, const void *frame,
                 unsigned len, unsigned w);

/* exception.c: read the inner stack pointer of ring dpl from the TSS */
void tss_inner_stack(struct cpu *cpu, unsigned dpl, bool ext, uint16_t *ss,
                     uint64_t *sp);

#endif
