/* The JIT's code cache: one RWX buffer for generated code (the entry/exit
 * trampoline at its start, then blocks), an arena for block records and
 * their side data, the block hash keyed by (guest-physical address, RIP,
 * mode key), chaining and unchaining of block exits, and the per-page code
 * tracking that self-modifying code needs: for every guest-physical page
 * holding translated code, the blocks in it and a bitmap of the 64-byte
 * chunks they cover, so that a write invalidates exactly the blocks it
 * overlaps. When the buffer is full everything is dropped at once.
 * All vCPUs run on one thread, so the cache is shared and unlocked. */
#include "jit/jit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "jit/emit_x86.h"

#define CODE_SIZE (32u << 20)
#define HASH_BITS 15
#define PAGE_HASH_BITS 12
#define ARENA_CHUNK (1u << 20)
#define CHUNK_SHIFT 6          /* 64-byte granules of the code bitmap */

struct jit_page {
    uint64_t pfn;
    uint64_t chunks;           /* granules covered by live blocks */
    struct jit_block *blocks;
    struct jit_page *next;
};

struct arena_chunk {
    struct arena_chunk *next;
    size_t used;
    _Alignas(16) uint8_t data[];
};

static uint8_t *code_buf;
static size_t code_used, code_start, code_limit = CODE_SIZE;
static uint8_t *exit_path;
static int (*enter_fn)(struct jit_vcpu *v, const uint8_t *code);
static struct jit_block *hash[1u << HASH_BITS];
static struct jit_page *pages[1u << PAGE_HASH_BITS];
static struct arena_chunk *arena;
unsigned jit_cache_generation;

#define MAX_CPUS 64
static struct cpu *cpus[MAX_CPUS];
static int ncpus;

/* --- the trampoline --- */

static const int saved_regs[] = { HR_RBX, HR_RBP, HR_R12, HR_R13, HR_R14,
                                  HR_R15 };
#define NSAVED (int)(sizeof(saved_regs) / sizeof(saved_regs[0]))

/* jit_enter(v, code): save the callee-saved registers, align the stack,
 * RBX = v, jump to code; the exit path undoes it and returns EAX */
static void emit_trampoline(struct emit *e)
{
    for (int i = 0; i < NSAVED; i++)
        emit_push(e, saved_regs[i]);
    emit_alu_ri(e, EA_SUB, 8, HR_RSP, 8);
    emit_mov_rr(e, 8, HR_RBX, HR_RDI);
    emit_jmp_r(e, HR_RSI);
    exit_path = emit_ptr(e);
    emit_alu_ri(e, EA_ADD, 8, HR_RSP, 8);
    for (int i = NSAVED - 1; i >= 0; i--)
        emit_pop(e, saved_regs[i]);
    emit_ret(e);
}

bool jit_cache_init(void)
{
    if (code_buf)
        return true;
    jit_stats_init();
    void *p = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    code_buf = p;
    struct emit e;
    emit_init(&e, code_buf, CODE_SIZE);
    enter_fn = (int (*)(struct jit_vcpu *, const uint8_t *))(void *)code_buf;
    emit_trampoline(&e);
    code_start = code_used = (e.pos + 63) & ~(size_t)63;
    return true;
}

int jit_enter(struct jit_vcpu *v, const uint8_t *code)
{
    return enter_fn(v, code);
}

const uint8_t *jit_exit_path(void)
{
    return exit_path;
}

uint8_t *jit_code_begin(size_t *avail)
{
    *avail = code_limit > code_used ? code_limit - code_used : 0;
    return code_buf + code_used;
}

void jit_cache_set_limit(size_t bytes)
{
    code_limit = bytes && bytes < CODE_SIZE ? bytes : CODE_SIZE;
    jit_cache_flush();
}

void jit_code_commit(size_t used)
{
    code_used = (code_used + used + 15) & ~(size_t)15;
}

/* --- the arena --- */

void *jit_data_alloc(size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (!arena || arena->used + size > ARENA_CHUNK) {
        size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
        struct arena_chunk *c = malloc(sizeof(*c) + cap);
        if (!c)
            abort();
        c->next = arena;
        c->used = 0;
        arena = c;
    }
    void *p = arena->data + arena->used;
    arena->used += size;
    memset(p, 0, size);
    return p;
}

struct jit_block *jit_block_new(void)
{
    return jit_data_alloc(sizeof(struct jit_block));
}

int jit_block_insn(const struct jit_block *b, uint64_t rip)
{
    for (unsigned i = 0; i < b->ninsn; i++)
        if (b->rip + b->insn_off[i] == rip)
            return (int)i;
    return -1;
}

void jit_cache_flush(void)
{
    while (arena) {
        struct arena_chunk *next = arena->next;
        free(arena);
        arena = next;
    }
    memset(hash, 0, sizeof(hash));
    memset(pages, 0, sizeof(pages));
    code_used = code_start;
    jit_cache_generation++;
    jit_stats.flushes++;
}

/* --- the block hash --- */

static unsigned hash_of(uint64_t gpa, uint64_t rip, uint32_t key)
{
    uint64_t h = gpa * 0x9e3779b97f4a7c15ull ^ rip * 0xc2b2ae3d27d4eb4full ^
                 key;
    return (unsigned)(h >> (64 - HASH_BITS));
}

struct jit_block *jit_block_find(uint64_t gpa, uint64_t rip, uint32_t key)
{
    for (struct jit_block *b = hash[hash_of(gpa, rip, key)]; b;
         b = b->hash_next)
        if (b->gpa == gpa && b->rip == rip && b->key == key)
            return b;
    return NULL;
}

/* --- code pages --- */

static struct jit_page **page_slot(uint64_t pfn)
{
    return &pages[(pfn * 0x9e3779b97f4a7c15ull) >> (64 - PAGE_HASH_BITS)];
}

static struct jit_page *page_find(uint64_t pfn)
{
    for (struct jit_page *p = *page_slot(pfn); p; p = p->next)
        if (p->pfn == pfn)
            return p;
    return NULL;
}

bool jit_page_has_code(uint64_t gpa_page)
{
    struct jit_page *p = page_find(gpa_page >> 12);
    return p && p->blocks;
}

static uint64_t chunk_mask(uint64_t start, uint64_t len)
{
    /* granules of [start, start+len) within one page, len > 0 */
    unsigned first = (unsigned)(start & 0xfff) >> CHUNK_SHIFT;
    unsigned last = (unsigned)((start & 0xfff) + len - 1) >> CHUNK_SHIFT;
    if (last > 63)
        last = 63;
    uint64_t hi = last == 63 ? ~0ull : (1ull << (last + 1)) - 1;
    return hi & ~((1ull << first) - 1);
}

void jit_cache_add_cpu(struct cpu *cpu)
{
    if (ncpus < MAX_CPUS)
        cpus[ncpus++] = cpu;
}

void jit_cache_remove_cpu(struct cpu *cpu)
{
    for (int i = 0; i < ncpus; i++) {
        if (cpus[i] == cpu) {
            cpus[i] = cpus[--ncpus];
            return;
        }
    }
}

void jit_block_add(struct jit_block *b)
{
    unsigned h = hash_of(b->gpa, b->rip, b->key);
    b->hash_next = hash[h];
    hash[h] = b;
    b->valid = true;
    uint64_t pfn = b->gpa >> 12;
    struct jit_page *p = page_find(pfn);
    if (!p) {
        p = jit_data_alloc(sizeof(*p));
        p->pfn = pfn;
        p->next = *page_slot(pfn);
        *page_slot(pfn) = p;
    }
    bool was_code = p->blocks != NULL;
    b->page_next = p->blocks;
    p->blocks = b;
    p->chunks |= chunk_mask(b->gpa, b->guest_len ? b->guest_len : 1);
    if (!was_code) {
        /* writes to the page must now take the TLB's slow path */
        for (int i = 0; i < ncpus; i++)
            mmu_flush_phys_page(cpus[i], pfn << 12);
    }
}

/* --- chaining --- */

/* take exit e out of its target's incoming list */
static void exit_unlink(struct jit_exit *e)
{
    for (struct jit_exit **pp = &e->to->incoming; *pp; pp = &(*pp)->in_next) {
        if (*pp == e) {
            *pp = e->in_next;
            break;
        }
    }
    e->to = NULL;
}

void jit_chain(struct jit_exit *e, struct jit_block *to)
{
    if (e->to == to || !e->from->valid || !to->valid)
        return;
    if (e->to)
        exit_unlink(e);   /* a cross-page target now mapped elsewhere */
    e->to_gpa = to->gpa;
    emit_patch_rel32(e->site, to->code);
    e->to = to;
    e->in_next = to->incoming;
    to->incoming = e;
}

static void unchain_incoming(struct jit_block *b)
{
    for (struct jit_exit *e = b->incoming; e; e = e->in_next) {
        emit_patch_rel32(e->site, e->stub);
        e->to = NULL;
    }
    b->incoming = NULL;
}

static void unchain_outgoing(struct jit_block *b)
{
    for (int i = 0; i < b->nexits; i++) {
        struct jit_exit *e = &b->exits[i];
        if (e->to)
            exit_unlink(e);
    }
}

/* Drop a block: nothing jumps into it afterwards, and the loop never
 * finds it. Its code stays until the next flush (it may be running). */
static void block_kill(struct jit_block *b)
{
    b->valid = false;
    unchain_incoming(b);
    unchain_outgoing(b);
    struct jit_block **pp = &hash[hash_of(b->gpa, b->rip, b->key)];
    for (; *pp; pp = &(*pp)->hash_next) {
        if (*pp == b) {
            *pp = b->hash_next;
            break;
        }
    }
}

/* drop the blocks of page p that overlap [gpa, end) */
static bool page_invalidate(struct jit_page *p, uint64_t gpa, uint64_t end)
{
    uint64_t page = p->pfn << 12;
    uint64_t s = gpa > page ? gpa : page;
    uint64_t e = end < page + 4096 ? end : page + 4096;
    if (!p->blocks || s >= e || !(p->chunks & chunk_mask(s, e - s)))
        return false;
    bool dropped = false;
    uint64_t chunks = 0;
    for (struct jit_block **bp = &p->blocks; *bp;) {
        struct jit_block *b = *bp;
        if (b->gpa < e && b->gpa + b->guest_len > s) {
            *bp = b->page_next;
            block_kill(b);
            dropped = true;
        } else {
            chunks |= chunk_mask(b->gpa, b->guest_len ? b->guest_len : 1);
            bp = &b->page_next;
        }
    }
    p->chunks = chunks;
    return dropped;
}

bool jit_invalidate(uint64_t gpa, uint64_t len)
{
    bool dropped = false;
    if (!len)
        return false;
    uint64_t end = gpa + len < gpa ? ~0ull : gpa + len;
    if (len > (64u << 12)) {
        /* a large range (a memory-map change): visit the code pages */
        for (unsigned i = 0; i < (1u << PAGE_HASH_BITS); i++)
            for (struct jit_page *p = pages[i]; p; p = p->next)
                dropped |= page_invalidate(p, gpa, end);
        return dropped;
    }
    for (uint64_t page = gpa & ~0xfffull; page < end; page += 4096) {
        struct jit_page *p = page_find(page >> 12);
        if (p)
            dropped |= page_invalidate(p, gpa, end);
    }
    return dropped;
}

void jit_code_changed(uint64_t gpa, uint64_t len)
{
    if (!jit_invalidate(gpa, len))
        return;
    for (int i = 0; i < ncpus; i++)
        jit_vcpu_of(cpus[i])->exit_now = 1;
}
