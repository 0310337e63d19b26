/* Jumps whose target block may not be what it was at translation time.
 * Indirect jumps, indirect calls and returns: the target is only known at
 * run time, so generated code looks it up in the vCPU's jump cache (RIP ->
 * block, filled by the run loop) and enters the block directly when the
 * block is still valid, was translated for this mode, and the TLB still
 * maps the target's linear address to the block's guest-physical address
 * with execute rights; anything else returns to the loop with RIP set.
 * Direct jumps to another page are chained behind a guard that makes the
 * same TLB check against the chained block's address. */
#include "jit/jit_gen.h"

#define JC_FIELD(f) (VCPU_FIELD(jc) + (int32_t)offsetof(struct jit_jc_entry, f))
#define BLOCK_FIELD(f) ((int32_t)offsetof(struct jit_block, f))

_Static_assert(sizeof(struct jit_jc_entry) == 16, "jump cache entry");

/* a jump recorded in miss[] unless the TLB maps the linear address of
 * CS:h, with execute rights for this block's mode, to the page of the
 * guest-physical address at gpa (a block's, whose offset in the page
 * must be h's too); see struct cpu_tlb_fast */
static void gen_exec_check(struct tctx *t, int h, struct emit_mem gpa,
                           size_t *miss, int *np)
{
    struct emit *e = &t->e;
    int lin = h;
    if (!t->long64) {
        emit_load(e, 4, HR_RSI, emit_m(HR_RBX, SEG_FIELD(S_CS, base)));
        emit_alu_rr(e, EA_ADD, 4, HR_RSI, h);
        lin = HR_RSI;
    }
    gen_tlb_index(t, lin);
    emit_mov_rr(e, 8, HR_RAX, lin);
    emit_alu_rm(e, EA_XOR, 8, HR_RAX, gpa);
    emit_alu_rm(e, EA_CMP, 8, HR_RAX,
                emit_mi(HR_RBX, HR_RCX, 1,
                        FAST_OFF(t->user) + FAST_FIELD(exec)));
    miss[(*np)++] = emit_jcc(e, CC_NE, NULL);
}

void gen_jump_reg(struct tctx *t, int h, int32_t count)
{
    struct emit *e = &t->e;
    size_t miss[8];
    int n = 0;
    emit_alu_mi(e, EA_ADD, 8, emit_m(HR_RBX, VCPU_FIELD(cpu.icount)), count);
    /* the entry: RIP and a live block of this mode */
    emit_mov_rr(e, 4, HR_RAX, h);
    emit_alu_ri(e, EA_AND, 4, HR_RAX, JIT_JC_SIZE - 1);
    emit_shift_ri(e, ES_SHL, 4, HR_RAX, 4);
    emit_alu_rm(e, EA_CMP, 8, h, emit_mi(HR_RBX, HR_RAX, 1, JC_FIELD(rip)));
    miss[n++] = emit_jcc(e, CC_NE, NULL);
    emit_load(e, 8, HR_RDX, emit_mi(HR_RBX, HR_RAX, 1, JC_FIELD(b)));
    emit_alu_mi(e, EA_CMP, 1, emit_m(HR_RDX, BLOCK_FIELD(valid)), 0);
    miss[n++] = emit_jcc(e, CC_E, NULL);
    emit_alu_mi(e, EA_CMP, 4, emit_m(HR_RDX, BLOCK_FIELD(key)),
                (int32_t)t->key);
    miss[n++] = emit_jcc(e, CC_NE, NULL);
    gen_exec_check(t, h, emit_m(HR_RDX, BLOCK_FIELD(gpa)), miss, &n);
    emit_load(e, 8, HR_RAX, emit_m(HR_RDX, BLOCK_FIELD(code)));
    emit_jmp_r(e, HR_RAX);
    /* miss: the loop finds (and caches) the block */
    if (!e->overflow)
        for (int i = 0; i < n; i++)
            emit_patch_rel32(e->buf + miss[i], emit_ptr(e));
    emit_store(e, 8, emit_m(HR_RBX, VCPU_FIELD(cpu.s.rip)), h);
    emit_mov_ri(e, 4, HR_RAX, JIT_EXIT_NORMAL);
    emit_jmp(e, jit_exit_path());
}

void gen_cross_page_guard(struct tctx *t, int h, const struct jit_exit *x,
                          size_t *miss, int *n)
{
    struct emit *e = &t->e;
    emit_mov_ri(e, 8, HR_RDX, (uint64_t)(uintptr_t)&x->to_gpa);
    gen_exec_check(t, h, emit_m(HR_RDX, 0), miss, n);
}
