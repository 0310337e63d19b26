/* Paging and linear/physical memory access for the interpreter: the page
 * walk in every format (none, 32-bit with PSE/PSE-36, PAE, 4-level with NX
 * and 1 GiB pages), accessed/dirty updates, #PF error codes and CR2, and a
 * direct-mapped TLB from linear pages to host pointers into guest RAM, with
 * the JIT's per-privilege view of it (cpu->tlb_fast) kept in step. MMIO,
 * ROM and pages holding cached code take the slow path through the memory
 * map. Segmentation sits above this (cpu/segment.c). */
#include <stdlib.h>
#include <string.h>
#include "cpu/cpu_model.h"
#include "cpu/sys_internal.h"
#include "vm/memory.h"

/* TLB entry tag and perm bits (cpu/cpu.h) */
#define TLB_VALID CPU_TLB_VALID
#define TLB_USER CPU_TLB_USER
#define TLB_WRITE CPU_TLB_WRITE
#define TLB_NX CPU_TLB_NX
#define TLB_DIRTY CPU_TLB_DIRTY
#define TLB_GLOBAL CPU_TLB_GLOBAL
#define TLB_LARGE CPU_TLB_LARGE
#define TLB_ROM CPU_TLB_ROM
#define TLB_CODE CPU_TLB_CODE

/* paging-structure entry bits */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)

/* #PF error code bits */
#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_ID (1u << 4)

#define PAGE_MASK (~0xfffull)
#define MAX_BUF_PAGES 4

struct walk {
    uint64_t gpa;      /* physical address of the byte at lin */
    uint32_t perm;     /* TLB_* bits */
};

static inline bool acc_is_user(const struct cpu *cpu, unsigned acc)
{
    return (acc & ACC_USER) || (!(acc & ACC_SUPER) && cpu->cpl == 3);
}

static inline uint64_t lin_mask(const struct cpu *cpu, uint64_t lin)
{
    return cpu_long_mode(cpu) ? lin : (uint32_t)lin;
}

/* --- physical access --- */

/* 1-, 2-, 4- or 8-byte little-endian host access (constant-size copies) */
static inline uint64_t load_le(const uint8_t *p, unsigned size)
{
    uint8_t b;
    uint16_t w;
    uint32_t d;
    uint64_t q;
    switch (size) {
    case 1: memcpy(&b, p, 1); return b;
    case 2: memcpy(&w, p, 2); return w;
    case 4: memcpy(&d, p, 4); return d;
    default: memcpy(&q, p, 8); return q;
    }
}

static inline void store_le(uint8_t *p, uint64_t v, unsigned size)
{
    uint8_t b = (uint8_t)v;
    uint16_t w = (uint16_t)v;
    uint32_t d = (uint32_t)v;
    switch (size) {
    case 1: memcpy(p, &b, 1); break;
    case 2: memcpy(p, &w, 2); break;
    case 4: memcpy(p, &d, 4); break;
    default: memcpy(p, &v, 8); break;
    }
}

uint64_t cpu_phys_read(struct cpu *cpu, uint64_t gpa, unsigned size)
{
    gpa &= cpu->a20_mask;
    uint8_t *p = mem_map_host_ptr(cpu->mem, gpa, size, false);
    return p ? load_le(p, size) : mem_read(cpu->mem, gpa, size);
}

void cpu_phys_write(struct cpu *cpu, uint64_t gpa, uint64_t value,
                    unsigned size)
{
    gpa &= cpu->a20_mask;
    uint8_t *p = mem_map_host_ptr(cpu->mem, gpa, size, true);
    if (p)
        store_le(p, value, size);
    else
        mem_write(cpu->mem, gpa, value, size);
    if (cpu->on_code_write && cpu->code_page &&
        cpu->code_page(cpu, gpa & PAGE_MASK))
        cpu->on_code_write(cpu, gpa, size);
}

/* Set A/D bits in a paging-structure entry the way a locked OR would */
static void pte_set_bits(struct cpu *cpu, uint64_t gpa, uint32_t bits)
{
    gpa &= cpu->a20_mask;
    uint8_t *p = mem_map_host_ptr(cpu->mem, gpa, 4, true);
    if (p) {
        __atomic_fetch_or((uint32_t *)(void *)p, bits, __ATOMIC_SEQ_CST);
    } else {
        uint64_t v = mem_read(cpu->mem, gpa, 4);
        mem_write(cpu->mem, gpa, v | bits, 4);
    }
}

/* --- the page walk --- */

struct walk_ctx {
    struct cpu *cpu;
    bool user, write, exec;
    uint32_t us, rw, nx;   /* accumulated rights */
    uint64_t pte_gpa[5];   /* entries used, for the A/D update */
    uint64_t pte_val[5];
    int npte;
};

static bool nx_enabled(const struct cpu *cpu)
{
    return (cpu->s.efer & EFER_NXE) != 0;
}

static uint32_t pf_error(const struct walk_ctx *c, uint32_t bits)
{
    uint32_t e = bits;
    if (c->write)
        e |= PF_W;
    if (c->user)
        e |= PF_U;
    const struct x86_state *st = &c->cpu->s;
    if (c->exec && ((nx_enabled(c->cpu) && (st->cr4 & CR4_PAE)) ||
                    (st->cr4 & CR4_SMEP)))
        e |= PF_ID;
    return e;
}

static void use_entry(struct walk_ctx *c, uint64_t gpa, uint64_t e)
{
    c->us &= (e & PTE_US) != 0;
    c->rw &= (e & PTE_RW) != 0;
    if (nx_enabled(c->cpu))
        c->nx |= (e & PTE_NX) != 0;
    c->pte_gpa[c->npte] = gpa;
    c->pte_val[c->npte++] = e;
}

/* Rights check and A/D update once the leaf is known; 0 or -1 */
static int walk_finish(struct walk_ctx *c, uint64_t leaf, uint32_t *err,
                       bool set_ad, struct walk *w)
{
    struct cpu *cpu = c->cpu;
    bool wp = (cpu->s.cr0 & CR0_WP) != 0;
    bool smep = c->exec && !c->user && c->us && (cpu->s.cr4 & CR4_SMEP);
    if ((c->user && !c->us) || (c->write && !c->rw && (c->user || wp)) ||
        (c->exec && c->nx) || smep) {
        *err = pf_error(c, PF_P);
        return -1;
    }
    if (set_ad) {
        for (int i = 0; i < c->npte - 1; i++)
            if (!(c->pte_val[i] & PTE_A))
                pte_set_bits(cpu, c->pte_gpa[i], PTE_A);
        if (!(leaf & PTE_A) || (c->write && !(leaf & PTE_D)))
            pte_set_bits(cpu, c->pte_gpa[c->npte - 1],
                         PTE_A | (c->write ? PTE_D : 0));
    }
    w->perm = (c->us ? TLB_USER : 0) | (c->rw ? TLB_WRITE : 0) |
              (c->nx ? TLB_NX : 0);
    if ((leaf & PTE_D) || (c->write && set_ad))
        w->perm |= TLB_DIRTY;
    if ((leaf & PTE_G) && (cpu->s.cr4 & CR4_PGE))
        w->perm |= TLB_GLOBAL;
    return 0;
}

static int walk_32bit(struct walk_ctx *c, uint64_t lin, struct walk *w,
                      uint32_t *err, bool set_ad)
{
    struct cpu *cpu = c->cpu;
    uint64_t pde_gpa = (cpu->s.cr3 & 0xfffff000u) | ((lin >> 20) & 0xffc);
    uint64_t pde = cpu_phys_read(cpu, pde_gpa, 4);
    if (!(pde & PTE_P)) {
        *err = pf_error(c, 0);
        return -1;
    }
    use_entry(c, pde_gpa, pde);
    if ((pde & PTE_PS) && (cpu->s.cr4 & CR4_PSE)) {
        /* 4 MiB page; PSE-36: bits 20:13 are physical bits 39:32, bit 21
         * is reserved with a 40-bit physical address */
        if (pde & (1u << 21)) {
            *err = pf_error(c, PF_P | PF_RSVD);
            return -1;
        }
        w->gpa = (pde & 0xffc00000u) | (((pde >> 13) & 0xff) << 32) |
                 (lin & 0x3fffff);
        int r = walk_finish(c, pde, err, set_ad, w);
        w->perm |= TLB_LARGE;
        return r;
    }
    uint64_t pte_gpa = (pde & 0xfffff000u) | ((lin >> 10) & 0xffc);
    uint64_t pte = cpu_phys_read(cpu, pte_gpa, 4);
    if (!(pte & PTE_P)) {
        *err = pf_error(c, 0);
        return -1;
    }
    use_entry(c, pte_gpa, pte);
    w->gpa = (pte & 0xfffff000u) | (lin & 0xfff);
    return walk_finish(c, pte, err, set_ad, w);
}

/* PAE and 4-level: the walk from a table base down to the leaf */
static int walk_wide(struct walk_ctx *c, uint64_t lin, uint64_t table,
                     int level, bool long_mode, struct walk *w, uint32_t *err,
                     bool set_ad)
{
    struct cpu *cpu = c->cpu;
    /* reserved physical-address bits: 51:M in 4-level, 62:M in PAE */
    uint64_t rsvd = (long_mode ? ((1ull << 52) - 1) : ((1ull << 63) - 1)) &
                    ~CPU_PHYS_MASK;
    if (!nx_enabled(cpu))
        rsvd |= PTE_NX;
    for (;; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        uint64_t gpa = table | (((lin >> shift) & 0x1ff) << 3);
        uint64_t e = cpu_phys_read(cpu, gpa, 8);
        if (!(e & PTE_P)) {
            *err = pf_error(c, 0);
            return -1;
        }
        uint64_t r = rsvd;
        bool leaf = level == 1 || (level <= 3 && (e & PTE_PS));
        if (level == 4)
            r |= PTE_PS;                   /* PML4E: PS is reserved */
        else if (leaf && level > 1)        /* 2 MiB: 20:13, 1 GiB: 29:13 */
            r |= ((1ull << shift) - 1) & ~0x1fffull;
        if (e & r) {
            *err = pf_error(c, PF_P | PF_RSVD);
            return -1;
        }
        use_entry(c, gpa, e);
        if (leaf) {
            uint64_t size_mask = (1ull << shift) - 1;
            w->gpa = (e & CPU_PHYS_MASK & ~size_mask) | (lin & size_mask);
            int ret = walk_finish(c, e, err, set_ad, w);
            if (level > 1)
                w->perm |= TLB_LARGE;
            return ret;
        }
        table = e & CPU_PHYS_MASK & PAGE_MASK;
    }
}

static int walk(struct cpu *cpu, uint64_t lin, unsigned acc, struct walk *w,
                uint32_t *err, bool set_ad)
{
    const struct x86_state *s = &cpu->s;
    if (!(s->cr0 & CR0_PG)) {
        w->gpa = lin_mask(cpu, lin);
        w->perm = TLB_USER | TLB_WRITE | TLB_DIRTY;
        return 0;
    }
    struct walk_ctx c = {
        .cpu = cpu, .user = acc_is_user(cpu, acc),
        .write = (acc & ACC_WRITE) != 0, .exec = (acc & ACC_EXEC) != 0,
        .us = 1, .rw = 1,
    };
    if (!(s->cr4 & CR4_PAE))
        return walk_32bit(&c, (uint32_t)lin, w, err, set_ad);
    if (cpu_long_mode(cpu))
        return walk_wide(&c, lin, s->cr3 & CPU_PHYS_MASK & PAGE_MASK, 4, true,
                         w, err, set_ad);
    /* PAE: the PDPTE registers loaded with CR3 */
    uint64_t pdpte = cpu->pdpte[(lin >> 30) & 3];
    if (!(pdpte & PTE_P)) {
        *err = pf_error(&c, 0);
        return -1;
    }
    return walk_wide(&c, (uint32_t)lin, pdpte & CPU_PHYS_MASK & PAGE_MASK, 2,
                     false, w, err, set_ad);
}

int mmu_translate(struct cpu *cpu, uint64_t lin, unsigned acc, uint64_t *gpa,
                  uint32_t *pf_error, bool set_ad)
{
    struct walk w;
    uint32_t err = 0;
    if (walk(cpu, lin, acc, &w, &err, set_ad) < 0) {
        *pf_error = err;
        return -1;
    }
    *gpa = w.gpa & cpu->a20_mask;
    return 0;
}

bool mmu_load_pdptes(struct cpu *cpu, uint64_t cr3)
{
    uint64_t e[4];
    /* reserved when present: 2:1, 8:5, 63:MAXPHYADDR */
    uint64_t rsvd = ~CPU_PHYS_MASK | 0x1e6;
    for (int i = 0; i < 4; i++) {
        e[i] = cpu_phys_read(cpu, (cr3 & 0xffffffe0u) + i * 8, 8);
        if ((e[i] & PTE_P) && (e[i] & rsvd))
            return false;
    }
    memcpy(cpu->pdpte, e, sizeof(e));
    return true;
}

/* --- the TLB --- */

static inline struct cpu_tlb_entry *tlb_slot(struct cpu *cpu, uint64_t lin)
{
    return &cpu->tlb[(lin >> 12) & (CPU_TLB_SIZE - 1)];
}

static inline bool tlb_allows(const struct cpu *cpu,
                              const struct cpu_tlb_entry *e, unsigned acc)
{
    uint32_t p = e->perm;
    if (!(acc & (ACC_WRITE | ACC_EXEC)) && (p & TLB_USER))
        return true;  /* the common case: a read of a user-readable page */
    bool user = acc_is_user(cpu, acc);
    if (user && !(p & TLB_USER))
        return false;
    if (acc & ACC_WRITE) {
        if (!(p & TLB_DIRTY))
            return false;
        if (!(p & TLB_WRITE) && (user || (cpu->s.cr0 & CR0_WP)))
            return false;
    }
    if (acc & ACC_EXEC) {
        if (p & TLB_NX)
            return false;
        if (!user && (p & TLB_USER) && (cpu->s.cr4 & CR4_SMEP))
            return false;
    }
    return true;
}

/* tlb_fast[*][i] from tlb[i] (cpu/cpu.h) */
static void tlb_fast_fill(struct cpu *cpu, const struct cpu_tlb_entry *e)
{
    size_t i = (size_t)(e - cpu->tlb);
    uint64_t page = e->tag & PAGE_MASK;
    uint32_t p = e->perm;
    bool ram = e->host && (e->tag & TLB_VALID);
    bool writable = ram && (p & TLB_DIRTY) && !(p & (TLB_ROM | TLB_CODE));
    for (int user = 0; user < 2; user++) {
        struct cpu_tlb_fast *f = &cpu->tlb_fast[user][i];
        bool seen = !user || (p & TLB_USER);
        bool rw = (p & TLB_WRITE) || (!user && !(cpu->s.cr0 & CR0_WP));
        /* CPL 3 runs user pages only; CPL 0-2 any page but, under
         * CR4.SMEP, a user one */
        bool smep = (cpu->s.cr4 & CR4_SMEP) != 0;
        bool runs = ram && !(p & TLB_NX) &&
                    (user ? (p & TLB_USER) != 0
                          : !((p & TLB_USER) && smep));
        f->read = ram && seen ? page : CPU_TLB_FAST_NONE;
        f->write = writable && seen && rw ? page : CPU_TLB_FAST_NONE;
        f->addend = ram ? (uint64_t)(uintptr_t)e->host - page : 0;
        f->exec = runs ? page ^ e->gpa : CPU_TLB_FAST_NONE;
    }
}

static void tlb_drop(struct cpu *cpu, struct cpu_tlb_entry *e)
{
    size_t i = (size_t)(e - cpu->tlb);
    e->tag = 0;
    for (int user = 0; user < 2; user++) {
        struct cpu_tlb_fast *f = &cpu->tlb_fast[user][i];
        f->read = f->write = f->exec = CPU_TLB_FAST_NONE;
    }
}

/* Walk and fill the slot of lin; NULL with *err on a page fault */
static __attribute__((noinline)) struct cpu_tlb_entry *
tlb_fill(struct cpu *cpu, uint64_t lin, unsigned acc, uint32_t *err)
{
    uint64_t page = lin & PAGE_MASK;
    struct cpu_tlb_entry *e = tlb_slot(cpu, lin);
    struct walk w;
    if (walk(cpu, lin, acc, &w, err, true) < 0)
        return NULL;
    uint64_t gpa = w.gpa & PAGE_MASK & cpu->a20_mask;
    e->tag = page | TLB_VALID;
    e->gpa = gpa;
    e->perm = w.perm;
    e->host = mem_map_host_ptr(cpu->mem, gpa, 4096, false);
    if (e->host && !mem_map_host_ptr(cpu->mem, gpa, 4096, true))
        e->perm |= TLB_ROM;
    if (cpu->code_page && cpu->code_page(cpu, gpa))
        e->perm |= TLB_CODE;
    tlb_fast_fill(cpu, e);
    if (!e->listed) {
        e->listed = 1;
        cpu->tlb_used[cpu->tlb_nused++] = (uint16_t)(e - cpu->tlb);
    }
    return e;
}

/* The TLB entry for lin allowing acc, walking and filling on a miss;
 * NULL with *err on a page fault. */
static inline struct cpu_tlb_entry *tlb_get(struct cpu *cpu, uint64_t lin,
                                            unsigned acc, uint32_t *err)
{
    struct cpu_tlb_entry *e = tlb_slot(cpu, lin);
    if (e->tag == ((lin & PAGE_MASK) | TLB_VALID) && tlb_allows(cpu, e, acc))
        return e;
    return tlb_fill(cpu, lin, acc, err);
}

static noreturn void raise_pf(struct cpu *cpu, uint64_t lin, uint32_t err)
{
    cpu->s.cr2 = lin;
    cpu_raise(cpu, EXC_PF, err);
}

static struct cpu_tlb_entry *tlb_get_or_fault(struct cpu *cpu, uint64_t lin,
                                              unsigned acc)
{
    uint32_t err = 0;
    struct cpu_tlb_entry *e = tlb_get(cpu, lin, acc, &err);
    if (!e)
        raise_pf(cpu, lin, err);
    return e;
}

/* Drop the filled entries that `what` selects (arg: its operand); the
 * others stay listed. Flushes cost what the TLB holds, not its size. */
enum tlb_select { SEL_ALL, SEL_NON_GLOBAL, SEL_LARGE, SEL_GPA };

static bool tlb_selected(const struct cpu_tlb_entry *e, enum tlb_select what,
                         uint64_t arg)
{
    switch (what) {
    case SEL_ALL: return true;
    case SEL_NON_GLOBAL: return !(e->perm & TLB_GLOBAL);
    case SEL_LARGE:   /* the slices of large pages in arg's 1 GiB */
        return (e->perm & TLB_LARGE) && !((e->tag ^ arg) >> 30);
    default: return e->gpa == arg;
    }
}

static void tlb_drop_selected(struct cpu *cpu, enum tlb_select what,
                              uint64_t arg)
{
    unsigned kept = 0;
    for (unsigned k = 0; k < cpu->tlb_nused; k++) {
        struct cpu_tlb_entry *e = &cpu->tlb[cpu->tlb_used[k]];
        if (e->tag && tlb_selected(e, what, arg))
            tlb_drop(cpu, e);
        if (e->tag)
            cpu->tlb_used[kept++] = cpu->tlb_used[k];
        else
            e->listed = 0;
    }
    cpu->tlb_nused = kept;
}

void mmu_flush(struct cpu *cpu, bool include_global)
{
    tlb_drop_selected(cpu, include_global ? SEL_ALL : SEL_NON_GLOBAL, 0);
}

void mmu_invlpg(struct cpu *cpu, uint64_t lin)
{
    struct cpu_tlb_entry *e = tlb_slot(cpu, lin);
    if (e->tag == ((lin & PAGE_MASK) | TLB_VALID))
        tlb_drop(cpu, e);
    /* slices of a large page may sit in other slots: drop those of any
     * large page that may hold lin (all lie in its aligned 1 GiB) */
    tlb_drop_selected(cpu, SEL_LARGE, lin);
}

void mmu_flush_phys_page(struct cpu *cpu, uint64_t gpa)
{
    tlb_drop_selected(cpu, SEL_GPA, gpa & PAGE_MASK);
}

/* One listener per memory map flushes the TLBs of every vCPU on it */
static struct cpu *tlb_cpus;

static void mmu_map_changed(void *opaque, uint64_t base, uint64_t size)
{
    for (struct cpu *c = tlb_cpus; c; c = c->tlb_next) {
        if (c->mem == opaque) {
            c->a20_mask = mem_map_a20_mask(c->mem);
            mmu_flush(c, true);
        }
    }
}

static struct mem_listener map_listener(struct mem_map *map)
{
    return (struct mem_listener){ .changed = mmu_map_changed, .opaque = map };
}

static bool map_has_cpus(const struct mem_map *map)
{
    for (struct cpu *c = tlb_cpus; c; c = c->tlb_next)
        if (c->mem == map)
            return true;
    return false;
}

/* take cpu off the list; true if it was there */
static bool tlb_cpus_unlink(struct cpu *cpu)
{
    for (struct cpu **p = &tlb_cpus; *p; p = &(*p)->tlb_next) {
        if (*p == cpu) {
            *p = cpu->tlb_next;
            return true;
        }
    }
    return false;
}

void mmu_forget(struct cpu *cpu)
{
    tlb_cpus_unlink(cpu);
}

void mmu_init(struct cpu *cpu)
{
    if (!map_has_cpus(cpu->mem)) {
        struct mem_listener l = map_listener(cpu->mem);
        mem_map_add_listener(cpu->mem, &l);
    }
    cpu->tlb_next = tlb_cpus;
    tlb_cpus = cpu;
    cpu->a20_mask = mem_map_a20_mask(cpu->mem);
    for (int i = 0; i < CPU_TLB_SIZE; i++) {
        tlb_drop(cpu, &cpu->tlb[i]);
        cpu->tlb[i].listed = 0;
    }
    cpu->tlb_nused = 0;
}

void mmu_fini(struct cpu *cpu)
{
    if (tlb_cpus_unlink(cpu) && !map_has_cpus(cpu->mem)) {
        struct mem_listener l = map_listener(cpu->mem);
        mem_map_remove_listener(cpu->mem, &l);
    }
}

/* --- linear access --- */

static void check_alignment(struct cpu *cpu, uint64_t lin, unsigned size,
                            unsigned acc)
{
    if ((lin & (size - 1)) && cpu->cpl == 3 && (cpu->s.cr0 & CR0_AM) &&
        (cpu->s.rflags & FL_AC) && !(acc & (ACC_SUPER | ACC_EXEC)))
        cpu_raise(cpu, EXC_AC, 0);
}

/* Translate every page of [lin, lin+len) before any byte moves */
struct span {
    int n;
    uint64_t lin[MAX_BUF_PAGES];
    unsigned len[MAX_BUF_PAGES];
    struct cpu_tlb_entry ent[MAX_BUF_PAGES]; /* copies: slots may be reused */
};

static void span_translate(struct cpu *cpu, uint64_t lin, unsigned len,
                           unsigned acc, struct span *sp)
{
    sp->n = 0;
    while (len) {
        if (sp->n == MAX_BUF_PAGES)
            abort();  /* callers never pass more than 12 KiB */
        uint64_t l = lin_mask(cpu, lin);
        unsigned chunk = 4096 - (l & 0xfff);
        if (chunk > len)
            chunk = len;
        sp->ent[sp->n] = *tlb_get_or_fault(cpu, l, acc);
        sp->lin[sp->n] = l;
        sp->len[sp->n] = chunk;
        sp->n++;
        lin += chunk;
        len -= chunk;
    }
}

static void chunk_read(struct cpu *cpu, const struct cpu_tlb_entry *e,
                       uint64_t lin, uint8_t *buf, unsigned len)
{
    unsigned off = lin & 0xfff;
    if (e->host) {
        memcpy(buf, e->host + off, len);
        return;
    }
    for (unsigned i = 0; i < len;) {
        unsigned n = len - i >= 8 ? 8 : len - i >= 4 ? 4 : len - i >= 2 ? 2 : 1;
        uint64_t v = cpu_phys_read(cpu, e->gpa + off + i, n);
        memcpy(buf + i, &v, n);
        i += n;
    }
}

static void chunk_write(struct cpu *cpu, const struct cpu_tlb_entry *e,
                        uint64_t lin, const uint8_t *buf, unsigned len)
{
    unsigned off = lin & 0xfff;
    if (e->host && !(e->perm & (TLB_ROM | TLB_CODE))) {
        memcpy(e->host + off, buf, len);
        return;
    }
    for (unsigned i = 0; i < len;) {
        unsigned n = len - i >= 8 ? 8 : len - i >= 4 ? 4 : len - i >= 2 ? 2 : 1;
        uint64_t v = 0;
        memcpy(&v, buf + i, n);
        cpu_phys_write(cpu, e->gpa + off + i, v, n);
        i += n;
    }
}

void cpu_read_lin_buf(struct cpu *cpu, uint64_t lin, void *buf, unsigned len,
                      unsigned acc)
{
    struct span sp;
    span_translate(cpu, lin, len, acc, &sp);
    uint8_t *p = buf;
    for (int i = 0; i < sp.n; i++) {
        chunk_read(cpu, &sp.ent[i], sp.lin[i], p, sp.len[i]);
        p += sp.len[i];
    }
}

void cpu_write_lin_buf(struct cpu *cpu, uint64_t lin, const void *buf,
                       unsigned len, unsigned acc)
{
    struct span sp;
    span_translate(cpu, lin, len, acc | ACC_WRITE, &sp);
    const uint8_t *p = buf;
    for (int i = 0; i < sp.n; i++) {
        chunk_write(cpu, &sp.ent[i], sp.lin[i], p, sp.len[i]);
        p += sp.len[i];
    }
}

uint64_t cpu_read_lin(struct cpu *cpu, uint64_t lin, unsigned size,
                      unsigned acc)
{
    lin = lin_mask(cpu, lin);
    check_alignment(cpu, lin, size, acc);
    if ((lin & 0xfff) + size <= 4096) {
        struct cpu_tlb_entry *e = tlb_get_or_fault(cpu, lin, acc);
        if (e->host)
            return load_le(e->host + (lin & 0xfff), size);
        return cpu_phys_read(cpu, e->gpa | (lin & 0xfff), size);
    }
    uint64_t v = 0;
    cpu_read_lin_buf(cpu, lin, &v, size, acc);
    return v;
}

void cpu_write_lin(struct cpu *cpu, uint64_t lin, uint64_t value,
                   unsigned size, unsigned acc)
{
    lin = lin_mask(cpu, lin);
    check_alignment(cpu, lin, size, acc);
    if ((lin & 0xfff) + size <= 4096) {
        struct cpu_tlb_entry *e = tlb_get_or_fault(cpu, lin, acc | ACC_WRITE);
        if (e->host && !(e->perm & (TLB_ROM | TLB_CODE)))
            store_le(e->host + (lin & 0xfff), value, size);
        else
            cpu_phys_write(cpu, e->gpa | (lin & 0xfff), value, size);
        return;
    }
    cpu_write_lin_buf(cpu, lin, &value, size, acc);
}

void cpu_write_check(struct cpu *cpu, int seg, uint64_t offset,
                     unsigned size)
{
    uint64_t lin = cpu_seg_to_lin(cpu, seg, offset, size, ACC_WRITE);
    struct span sp;
    lin = lin_mask(cpu, lin);
    check_alignment(cpu, lin, size, ACC_WRITE);
    span_translate(cpu, lin, size, ACC_WRITE, &sp);
}

unsigned cpu_fetch_code(struct cpu *cpu, uint64_t rip, uint8_t *buf,
                        unsigned want)
{
    const struct x86_segment *cs = &cpu->s.seg[S_CS];
    uint64_t lin, avail = want;
    if (cpu->mode == MODE_LONG64) {
        if (!is_canonical(rip))
            cpu_raise(cpu, EXC_GP, 0);
        lin = rip;
        /* stop where the addresses leave the canonical lower half */
        if (!(rip >> 63) && (1ull << 47) - rip < avail)
            avail = (1ull << 47) - rip;
    } else {
        if (rip > cs->limit)
            cpu_raise(cpu, EXC_GP, 0);
        if (cs->limit - rip + 1 < avail)
            avail = cs->limit - rip + 1;
        lin = (uint32_t)(cs->base + rip);
    }
    unsigned n = 0;
    while (n < avail) {
        uint64_t l = lin_mask(cpu, lin + n);
        unsigned chunk = 4096 - (l & 0xfff);
        if (chunk > avail - n)
            chunk = avail - n;
        uint32_t err = 0;
        struct cpu_tlb_entry *e = tlb_get(cpu, l, ACC_EXEC, &err);
        if (!e) {
            if (n == 0)
                raise_pf(cpu, l, err);
            break;
        }
        chunk_read(cpu, e, l, buf + n, chunk);
        n += chunk;
    }
    return n;
}
