/* The interpreter's vCPU and the internal API the parts of cpu/ share:
 * lazy flags (cpu/flags.c, cpu/alu.c), memory access through segmentation and
 * paging (cpu/mmu.c, cpu/segment.c), exceptions and event delivery
 * (cpu/exception.c), the instruction semantics (cpu/interp*.c, cpu/fpu.c,
 * cpu/sse.c) and the run loop (cpu/interp_backend.c).
 *
 * Faults: any helper that detects a fault calls cpu_raise(), which longjmps
 * to the run loop; the loop restores RIP/RSP to the start of the instruction
 * and delivers the exception. So an instruction must check what can fault
 * before it changes architectural state it cannot undo. */
#ifndef CPU_CPU_H
#define CPU_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>
#include "cpu/decode.h"
#include "cpu/x86_state.h"
#include "vm/memory.h"

struct machine;
struct mem_map;
struct port_bus;
struct vclock;
struct vcpu_link;

/* Lazy flags: the last flag-setting operation is kept as (op, size, src,
 * dst, res) and the six arithmetic flags are computed when read. The
 * operations and the meaning of each op are in cpu/alu.h. */
enum cc_op {
    CC_OP_EAGER,  /* flags are in cc.flags already */
    CC_OP_ADD, CC_OP_ADC, CC_OP_SUB, CC_OP_SBB, CC_OP_LOGIC, CC_OP_INC,
    CC_OP_DEC,
    CC_OP_RES,    /* ZF SF PF from res; CF OF AF in cc.flags */
    CC_OP_COUNT
};

struct cpu_cc {
    uint16_t op;      /* enum cc_op */
    uint16_t size;    /* operand size in bytes (next to op: the JIT
                         writes both with one 32-bit store) */
    uint64_t src, dst, res; /* truncated to size */
    uint64_t flags;   /* CC_OP_EAGER: the arithmetic flags; otherwise the
                         flags an op does not derive from src/dst/res (INC/DEC
                         keep CF here, RES its CF OF AF) */
};

/* access kinds for the MMU */
enum {
    ACC_READ = 0,
    ACC_WRITE = 1 << 0,
    ACC_EXEC = 1 << 1,
    ACC_SUPER = 1 << 2,   /* implicit supervisor access (GDT, IDT, TSS) */
    ACC_USER = 1 << 3,    /* force a user-mode access check */
};

enum cpu_mode { MODE_REAL, MODE_V86, MODE_PROT, MODE_LONG_COMPAT, MODE_LONG64 };

#define CPU_TLB_SIZE 4096

struct cpu_tlb_entry {
    uint64_t tag;         /* linear page | valid bit; see cpu/mmu.c */
    uint8_t *host;        /* host address of the page, NULL for MMIO */
    uint64_t gpa;         /* guest physical address of the page */
    uint32_t perm;        /* CPU_TLB_* permission bits */
    uint32_t listed;      /* in cpu->tlb_used */
};

/* tag = linear page | CPU_TLB_VALID; perm bits (the JIT's inlined
 * lookups of code addresses test them too) */
#define CPU_TLB_VALID 1ull
#define CPU_TLB_USER (1u << 0)   /* U/S set at every level */
#define CPU_TLB_WRITE (1u << 1)  /* R/W set at every level */
#define CPU_TLB_NX (1u << 2)     /* execute-disable */
#define CPU_TLB_DIRTY (1u << 3)  /* D is set: writes need no walk */
#define CPU_TLB_GLOBAL (1u << 4) /* kept by CR3 writes */
#define CPU_TLB_LARGE (1u << 5)  /* a 4 KiB slice of a larger page */
#define CPU_TLB_ROM (1u << 6)    /* host pointer is read-only */
#define CPU_TLB_CODE (1u << 7)   /* page holds cached code: writes are
                                    reported */

/* The same entries as translated code tests them (cpu/mmu.c keeps
 * tlb_fast[p][i] in step with tlb[i]): for privilege p (0 = CPL 0-2,
 * 1 = CPL 3), an access whose first and last byte lie in linear page
 * `read` (or `write`) may go straight to host address addend + linear
 * address; RAM only, with every check the access needs already passed
 * (U/S, R/W with the CR0.WP of the fill, D set, no ROM, no cached code).
 * `exec` is the linear page XOR its guest-physical page when code there
 * may run at p (not NX; a user page at CPL 3; below, any page but a user
 * one under the CR4.SMEP of the fill),
 * so that linear address XOR a block's guest-physical address equals it
 * exactly when the page maps to the block. A page that needs the slow
 * path has CPU_TLB_FAST_NONE, which no page address equals. 32 bytes:
 * the probe indexes by shifting. */
struct cpu_tlb_fast {
    uint64_t read;
    uint64_t write;
    uint64_t addend;
    uint64_t exec;
};

#define CPU_TLB_FAST_NONE (~0ull)

struct cpu {
    struct x86_state s;   /* RFLAGS arithmetic bits are stale: use
                             cpu_get_rflags(); all else is current */
    struct cpu_cc cc;

    /* the machine around this vCPU */
    struct machine *machine;
    struct mem_map *mem;
    struct port_bus *io;
    struct vclock *clock;
    struct vcpu_link *link;
    int index;

    /* mode cache, kept by cpu_update_mode() */
    enum cpu_mode mode;
    int cpl;
    unsigned code_size;   /* 2, 4 or 8 */
    unsigned stack_size;  /* 2, 4 or 8 */
    uint64_t a20_mask;

    /* the instruction being executed */
    uint64_t insn_rip;    /* RIP at its start */
    uint64_t insn_rsp;    /* RSP at its start (restored on a fault) */
    struct x86_insn insn;

    /* fault handling */
    jmp_buf fault_jmp;
    int exc_depth;        /* nesting while delivering: DF / triple fault */
    int exc_first;        /* first vector of a nested chain (for messages) */
    int exc_second;
    int exc_third;        /* the fault that made it a triple fault */
    bool shutdown;        /* triple fault happened */

    /* TLB (cpu/mmu.c) */
    struct cpu_tlb_entry tlb[CPU_TLB_SIZE];
    struct cpu_tlb_fast tlb_fast[2][CPU_TLB_SIZE];
    uint16_t tlb_used[CPU_TLB_SIZE]; /* the slots filled since they were
                                        last dropped: what flushes visit */
    unsigned tlb_nused;
    uint64_t pdpte[4];    /* PAE PDPTE registers, loaded with CR3 */
    struct cpu *tlb_next; /* the vCPUs whose TLBs the map listener flushes */

    /* Code-write detection for the decoded-instruction cache: when
     * code_page() says a guest-physical page holds cached code, the TLB
     * sends every write to it through the slow path, which calls
     * on_code_write() after the write. Call mmu_flush_phys_page() when a page
     * starts holding code. Both hooks may be NULL. */
    bool (*code_page)(struct cpu *cpu, uint64_t gpa_page);
    void (*on_code_write)(struct cpu *cpu, uint64_t gpa, uint64_t len);

    /* time */
    uint64_t icount;      /* instructions retired */
    int64_t tsc_offset;   /* guest TSC = host-clock ticks + offset */
    uint64_t tsc_hz;

    bool exit_request;

    /* the interpreter's private per-vCPU state (cpu/interp.c: decoded-
     * instruction cache, fetch cache, wait-for-SIPI); NULL until it runs */
    void *interp;
};

/* --- state and mode (cpu/cpu_state.c) --- */
void cpu_init(struct cpu *cpu, struct machine *m, int index);
void cpu_destroy(struct cpu *cpu);             /* undo cpu_init */
void cpu_reset(struct cpu *cpu);               /* power-on/INIT state */
void cpu_update_mode(struct cpu *cpu);         /* after CR0/EFER/CS/VM change */
void cpu_get_state(struct cpu *cpu, struct x86_state *out);
void cpu_set_state(struct cpu *cpu, const struct x86_state *in);

/* --- flags (cpu/flags.c) --- */
uint64_t cpu_get_rflags(struct cpu *cpu);
void cpu_set_rflags(struct cpu *cpu, uint64_t value); /* writes all bits */
bool cpu_cond(struct cpu *cpu, unsigned cc);   /* Jcc/SETcc/CMOVcc 0..15 */

/* --- exceptions (cpu/exception.c) --- */
noreturn void cpu_raise(struct cpu *cpu, int vector, uint32_t error_code);
noreturn void cpu_raise_noerr(struct cpu *cpu, int vector);
/* kinds of events for delivery */
enum event_kind { EV_EXCEPTION, EV_EXTINT, EV_NMI, EV_SOFTINT, EV_INT3, EV_INTO,
                  EV_ICEBP };
/* Deliver through IVT/IDT (real, protected, long mode, V86); handles #DF
 * and triple fault (sets cpu->shutdown). next_rip is the return address. */
void cpu_deliver_event(struct cpu *cpu, int vector, enum event_kind kind,
                       bool has_error, uint32_t error_code, uint64_t next_rip);

/* --- memory (cpu/mmu.c) --- */
/* Linear-address access with paging; raises #PF (and #AC) on failure. A
 * read with ACC_WRITE checks (and marks dirty) as for a write: the read
 * half of a read-modify-write. */
uint64_t cpu_read_lin(struct cpu *cpu, uint64_t lin, unsigned size,
                      unsigned acc);
void cpu_write_lin(struct cpu *cpu, uint64_t lin, uint64_t value,
                   unsigned size, unsigned acc);
void cpu_read_lin_buf(struct cpu *cpu, uint64_t lin, void *buf, unsigned len,
                      unsigned acc);
void cpu_write_lin_buf(struct cpu *cpu, uint64_t lin, const void *buf,
                       unsigned len, unsigned acc);
/* Segmented access: limit/type/canonical checks (#GP/#SS), then paging */
uint64_t cpu_seg_to_lin(struct cpu *cpu, int seg, uint64_t offset,
                        unsigned size, unsigned acc);
uint64_t cpu_read(struct cpu *cpu, int seg, uint64_t offset, unsigned size);
void cpu_write(struct cpu *cpu, int seg, uint64_t offset, uint64_t value,
               unsigned size);
/* Every check of cpu_write (segment, alignment, paging; sets the dirty
 * bits) without the write: what a read-modify-write does after its read
 * when it must know that its write cannot fault (the JIT) */
void cpu_write_check(struct cpu *cpu, int seg, uint64_t offset,
                     unsigned size);
/* Instruction fetch: up to 15 bytes at CS:RIP into buf; returns how many
 * bytes could be read before a fault boundary (faults only if 0). */
unsigned cpu_fetch_code(struct cpu *cpu, uint64_t rip, uint8_t *buf,
                        unsigned want);
/* Page walk without side effects on the TLB; 0 or -1 with *pf_error.
 * set_ad: update accessed/dirty bits as the hardware would. */
int mmu_translate(struct cpu *cpu, uint64_t lin, unsigned acc, uint64_t *gpa,
                  uint32_t *pf_error, bool set_ad);
void mmu_flush(struct cpu *cpu, bool include_global);
void mmu_invlpg(struct cpu *cpu, uint64_t lin);
/* drop the TLB entries that map the guest-physical page holding gpa */
void mmu_flush_phys_page(struct cpu *cpu, uint64_t gpa);
/* physical access (A20 applied) */
uint64_t cpu_phys_read(struct cpu *cpu, uint64_t gpa, unsigned size);
void cpu_phys_write(struct cpu *cpu, uint64_t gpa, uint64_t value,
                    unsigned size);

/* stack helpers (cpu/mmu.c): use SS and the stack size */
void cpu_push(struct cpu *cpu, uint64_t value, unsigned size);
uint64_t cpu_pop(struct cpu *cpu, unsigned size);

/* --- segmentation (cpu/segment.c) --- */
/* MOV/POP to a segment register, LDS..., with every check of the SDM */
void cpu_load_seg(struct cpu *cpu, int seg, uint16_t selector);
/* load a segment in real/V86 fashion (base = sel << 4) */
void cpu_load_seg_real(struct cpu *cpu, int seg, uint16_t selector);
/* read the 8-byte (or 16-byte system, in long mode) descriptor */
bool cpu_read_descriptor(struct cpu *cpu, uint16_t selector, uint64_t *lo,
                         uint64_t *hi);
void cpu_desc_to_seg(uint64_t lo, uint64_t hi, uint16_t selector,
                     struct x86_segment *out);

/* --- control transfers and system (cpu/farxfer.c, cpu/task.c,
 *     cpu/system.c, cpu/cpuid.c, cpu/msr.c) --- */
/* Far transfers and task switches are called with cpu->s.rip already at
 * the next instruction: that is the return address they push or save.
 * cpu_task_switch reasons: 0 JMP, 1 CALL, 2 IRET, 3 interrupt/exception. */
void cpu_far_jmp(struct cpu *cpu, uint16_t sel, uint64_t offset);
void cpu_far_call(struct cpu *cpu, uint16_t sel, uint64_t offset,
                  unsigned opsize);
void cpu_far_ret(struct cpu *cpu, unsigned opsize, uint16_t pop_bytes);
void cpu_iret(struct cpu *cpu, unsigned opsize);
void cpu_task_switch(struct cpu *cpu, uint16_t tss_sel, int reason,
                     bool has_error, uint32_t error_code);
void cpu_write_cr(struct cpu *cpu, int cr, uint64_t value);  /* #GP checks */
uint64_t cpu_read_cr(struct cpu *cpu, int cr);
void cpu_write_dr(struct cpu *cpu, int dr, uint64_t value);
uint64_t cpu_read_dr(struct cpu *cpu, int dr);
void cpu_cpuid(struct cpu *cpu, uint32_t leaf, uint32_t subleaf,
               uint32_t out[4]);
int cpu_rdmsr(struct cpu *cpu, uint32_t msr, uint64_t *value); /* -1: #GP */
int cpu_wrmsr(struct cpu *cpu, uint32_t msr, uint64_t value);
uint64_t cpu_rdtsc(struct cpu *cpu);
/* I/O permission: IOPL and the TSS bitmap; raises #GP when denied */
void cpu_check_io(struct cpu *cpu, uint16_t port, unsigned size);

/* --- x87 / MMX / SSE (cpu/fpu.c, cpu/sse.c) --- */
/* Execute an x87 (D8-DF) or SSE/MMX instruction; the decoder routes them */
void fpu_exec(struct cpu *cpu, const struct x86_insn *insn);
void sse_exec(struct cpu *cpu, const struct x86_insn *insn);
void fpu_reset(struct cpu *cpu);  /* FNINIT state */

/* --- interpreter (cpu/interp.c) --- */
/* Execute one instruction at CS:RIP (faults are delivered inside). */
void interp_step(struct cpu *cpu);
/* Run until deadline (ns on the virtual clock), a halt or a request */
int interp_run(struct cpu *cpu, int64_t deadline_ns);

#endif
