/* The JIT against the interpreter: the same guest code from the same
 * initial state on two machines, one run by interp_run(), one by
 * jit_run(); registers, RIP, RFLAGS and guest memory must come out equal.
 * Random instruction sequences (generated with the JIT's own encoder,
 * whose output is valid 64-bit and, restricted, 32-bit guest code) in
 * 64-bit, 32-bit and 16-bit code, then targeted cases: code that rewrites
 * the next instruction, a later block, or a whole page; DMA over code; a
 * page fault in the middle of a block; an interrupt raised by a device
 * inside a long loop; a CR3 switch between address spaces that map
 * different code at the same linear address; and a CPU-bound loop that
 * measures the speed of both (TANDEM_JIT_BENCH=1 prints it). */
#include <time.h>
#include "jit/emit_x86.h"
#include "tests/unit/jit_diff.h"
#include "tests/unit/jit_intr.h"
#include "vm/vcpu_link.h"

/* a destination register: never RSP (4) or RSI (6, the data pointer) */
static int dst_reg(enum mode mode)
{
    static const int r64[] = { 0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14,
                               15 };
    static const int r32[] = { 0, 1, 2, 3, 5, 7 };
    return mode == M64 ? r64[pick(14)] : r32[pick(6)];
}

static unsigned op_size(enum mode mode, int reg_a, int reg_b)
{
    static const unsigned s64[] = { 1, 2, 4, 8, 8, 4 };
    unsigned s = mode == M64 ? s64[pick(6)] : pick(3) == 0 ? 2 : 4;
    if (mode != M64 && s == 4 && pick(4) == 0 && reg_a < 4 && reg_b < 4)
        s = 1;   /* AL..BL only: no REX in legacy modes */
    return s;
}

static struct emit_mem data_mem(void)
{
    return emit_m(HR_RSI, (int32_t)(pick(0xf00) & ~(pick(2) ? 0 : 7)));
}

/* One random instruction (or a short group) */
static void random_insn(struct emit *e, enum mode mode)
{
    int d = dst_reg(mode), s = mode == M64 ? (int)pick(16) : (int)pick(8);
    unsigned sz = op_size(mode, d, s);
    int32_t imm = (int32_t)rnd();
    if (sz == 1)
        imm = (int8_t)imm;
    else if (sz == 2 || pick(2))
        imm = (int16_t)imm;
    switch (pick(24)) {
    case 0: emit_mov_ri(e, sz, d, (uint64_t)(int64_t)imm); break;
    case 1: case 2: emit_alu_rr(e, pick(8), sz, d, s); break;
    case 3: emit_alu_ri(e, pick(8), sz, d, imm); break;
    case 4: emit_alu_rm(e, pick(8), sz, d, data_mem()); break;
    case 5: emit_alu_mr(e, pick(8), sz, data_mem(), s); break;
    case 6: emit_test_rr(e, sz, d, s); break;
    case 7: if (pick(2)) emit_inc(e, sz, d); else emit_dec(e, sz, d); break;
    case 8: if (pick(2)) emit_neg(e, sz, d); else emit_not(e, sz, d); break;
    case 9:
        emit_lea(e, sz == 1 ? 4 : sz, d,
                 emit_mi(s, mode == M64 ? (int)pick(16) | 0 : (int)pick(8),
                         1u << pick(4), imm));
        break;
    case 10:
        if (mode != M64 && s >= 4)
            s -= 4;
        if (pick(2))
            emit_movzx_rr(e, 1 + pick(2), d, s);
        else
            emit_movsx_rr(e, sz < 2 ? 4 : sz, 1 + (sz > 2 ? pick(2) : 0), d,
                          s);
        break;
    case 11:
        emit_setcc(e, pick(16), mode == M64 ? d : (int)pick(4));
        break;
    case 12: emit_cmov(e, pick(16), sz < 2 ? 4 : sz, d, s); break;
    case 13:
        emit_push(e, s);
        emit_pop(e, d);
        break;
    case 14: emit_shift_ri(e, pick(8) == 6 ? ES_SHL : pick(8), sz, d,
                           (uint8_t)pick(40)); break;
    case 15:
        if (sz == 1)
            break;
        if (pick(2)) {
            emit_imul_rr(e, sz, d, s);
            break;
        }
        /* IMUL r, r/m, imm8 or IMUL r, [rsi+disp8] (registers 0-7) */
        static const int low[] = { 0, 1, 2, 3, 5, 7 };
        d = low[pick(6)];
        if (sz == 2)
            emit_byte(e, 0x66);
        if (sz == 8)
            emit_byte(e, 0x48);
        if (pick(2)) {
            emit_byte(e, 0x6b);
            emit_byte(e, (uint8_t)(0xc0 | (d & 7) << 3 | (s & 7)));
            emit_byte(e, (uint8_t)imm);
        } else {
            emit_byte(e, 0x0f);
            emit_byte(e, 0xaf);
            emit_byte(e, (uint8_t)(0x46 | (d & 7) << 3));
            emit_byte(e, (uint8_t)pick(120));
        }
        break;
    case 16: emit_load(e, sz < 4 ? 4 : sz, d, data_mem()); break;
    case 17: emit_store(e, sz, data_mem(), s); break;
    case 18: emit_store_imm(e, sz, data_mem(), imm); break;
    case 19: {
        /* Jcc over the next instruction */
        size_t at = emit_jcc(e, pick(16), NULL);
        size_t before = e->pos;
        emit_alu_ri(e, pick(8), sz, d, imm);
        int32_t rel = (int32_t)(e->pos - before);
        memcpy(e->buf + at, &rel, 4);
        break;
    }
    case 20: emit_xchg_rr(e, sz, d, dst_reg(mode)); break;
    case 21: if (sz >= 4) emit_bswap(e, sz, d); break;
    case 22:
        emit_pushfq(e);   /* PUSHF; POP: the flags, materialized */
        emit_pop(e, d);
        break;
    default:
        emit_alu_mi(e, pick(8), sz, data_mem(), imm);
        break;
    }
}

static void random_program(enum mode mode, unsigned n, uint8_t *buf,
                           size_t *len)
{
    struct emit e;
    emit_init(&e, buf, 4000);
    emit_mov_ri(&e, 4, HR_RSI, DATA);
    for (unsigned i = 0; i < n; i++)
        random_insn(&e, mode);
    emit_byte(&e, 0xf4);   /* HLT */
    assert_false(e.overflow);
    *len = e.pos;
}

static void test_random(void **state, enum mode mode, unsigned programs)
{
    uint8_t code[4096];
    uint64_t g[16];
    for (unsigned p = 0; p < programs; p++) {
        size_t len;
        random_program(mode, 40, code, &len);
        random_gprs(g, NULL);
        load_both(mode, code, len, g);
        char what[64];
        snprintf(what, sizeof(what), "random program %u (mode %d)", p, mode);
        run_both(what);
        if (vj.cpu->s.rip != CODE + len) {
            uint64_t o = vj.cpu->s.rip - CODE - 1;
            fail_msg("%s: stopped at +%llx: %02x %02x %02x %02x %02x %02x",
                     what, (unsigned long long)o, code[o], code[o + 1],
                     code[o + 2], code[o + 3], code[o + 4], code[o + 5]);
        }
    }
}

static void test_random64(void **state)
{
    test_random(state, M64, 400);
}

static void test_random32(void **state)
{
    test_random(state, M32, 300);
}

/* --- small programs, assembled with nasm (source beside each) --- */

/*
 * bits 32            ; a loop with calls, memory and flag consumers
 *     mov esi, 0x200000
 *     mov ecx, 1000
 *     xor eax, eax
 * l:  call f
 *     add [esi], eax
 *     cmp ecx, 500
 *     setb dl
 *     movzx edx, dl
 *     add ebx, edx
 *     adc edi, 0
 *     dec ecx
 *     jnz l
 *     hlt
 * f:  lea eax, [eax+ecx*2+1]
 *     ret
 */
static const uint8_t prog_loop32[] = {
    0xbe, 0x00, 0x00, 0x20, 0x00, 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x31, 0xc0,
    0xe8, 0x17, 0x00, 0x00, 0x00, 0x01, 0x06, 0x81, 0xf9, 0xf4, 0x01, 0x00,
    0x00, 0x0f, 0x92, 0xc2, 0x0f, 0xb6, 0xd2, 0x01, 0xd3, 0x83, 0xd7, 0x00,
    0x49, 0x75, 0xe5, 0xf4, 0x8d, 0x44, 0x48, 0x01, 0xc3
};

static void test_loop32(void **state)
{
    load_both(M32, prog_loop32, sizeof(prog_loop32), NULL);
    run_both("loop32");
    assert_int_equal(vj.cpu->s.gpr[R_CX], 0);
    assert_int_equal(vj.cpu->s.gpr[R_BX], 499);
}

/* 16-bit real-mode flavour: the same kind of loop with a stack */
/*
 * bits 16
 *     mov si, 0x1000
 *     mov cx, 300
 * l:  push cx
 *     mov ax, cx
 *     and ax, 7
 *     add [si], ax
 *     pop bx
 *     inc byte [si+2]
 *     loop l
 *     hlt
 */
static const uint8_t prog_loop16[] = {
    0xbe, 0x00, 0x10, 0xb9, 0x2c, 0x01, 0x51, 0x89, 0xc8, 0x83, 0xe0, 0x07,
    0x01, 0x04, 0x5b, 0xfe, 0x44, 0x02, 0xe2, 0xf2, 0xf4
};

static void set_real_mode(struct vm *vm)
{
    struct x86_state *s = malloc(sizeof(*s));
    cpu_get_state(vm->cpu, s);
    s->cr0 = 0x10;
    for (int i = 0; i < 6; i++) {
        s->seg[i].selector = i == S_CS ? 0x1000 : 0x2000;
        s->seg[i].base = i == S_CS ? 0x10000 : 0x20000;
        s->seg[i].limit = 0xffff;
        s->seg[i].attr = i == S_CS ? 0x9b : 0x93;
    }
    s->rip = 0;
    s->gpr[R_SP] = 0x8000;
    cpu_set_state(vm->cpu, s);
    free(s);
}

static void test_real_mode(void **state)
{
    struct vm *vms[2] = { &vi, &vj };
    load_both(M32, prog_loop16, 0, NULL);
    for (int k = 0; k < 2; k++) {
        memcpy(vms[k]->ram + 0x10000, prog_loop16, sizeof(prog_loop16));
        set_real_mode(vms[k]);
    }
    run_both("real mode loop");
    assert_int_equal(vj.cpu->s.gpr[R_CX] & 0xffff, 0);
    assert_int_equal(vj.ram[0x21002], (uint8_t)300);
}

/* a code cache that fills up all the time: flushed and refilled while
 * the loop (calls, returns, chained jumps) runs */
static void test_cache_full(void **state)
{
    if (!jit_native)
        skip();   /* the fallback-only blocks are sized differently */
    unsigned gen = jit_cache_generation;
    jit_cache_set_limit(900);
    load_both(M32, prog_loop32, sizeof(prog_loop32), NULL);
    run_both("loop32, small code cache");
    assert_int_equal(vj.cpu->s.gpr[R_BX], 499);
    assert_true(jit_cache_generation > gen + 10);   /* it was full */
    jit_cache_set_limit(0);
}

/* --- self-modifying code --- */

/*
 * bits 32
 *     mov eax, 1
 *     mov byte [next+1], 42     ; rewrite the immediate of the next insn
 * next: mov ebx, 7
 *     mov ecx, 3
 * l:  mov byte [later+1], cl    ; a later block, rewritten every round
 *     jmp later
 * later: mov edx, 0
 *     add edi, edx
 *     dec ecx
 *     jnz l
 *     hlt
 */
static const uint8_t prog_smc[] = {
    0xb8, 0x01, 0x00, 0x00, 0x00, 0xc6, 0x05, 0x0d, 0x00, 0x10, 0x00, 0x2a,
    0xbb, 0x07, 0x00, 0x00, 0x00, 0xb9, 0x03, 0x00, 0x00, 0x00, 0x88, 0x0d,
    0x1f, 0x00, 0x10, 0x00, 0xeb, 0x00, 0xba, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xd7, 0x49, 0x75, 0xee, 0xf4
};

static void test_smc(void **state)
{
    /* checked against the architecture, not the interpreter: since its
     * data-page cache (8572eb3) the interpreter misses the later rewrites */
    load_both(M32, prog_smc, sizeof(prog_smc), NULL);
    assert_int_equal(vm_run(&vj), RUN_HALT);
    assert_int_equal(vj.cpu->s.gpr[R_BX], 42);
    assert_int_equal(vj.cpu->s.gpr[R_DX], 1);
    assert_int_equal(vj.cpu->s.gpr[R_DI], 3 + 2 + 1);
}

/* Run a block, overwrite a whole page of code with other code (REP
 * STOSD of NOPs + a new tail), and run it again */
/*
 * bits 32
 *     call 0x101000           ; page 2: mov eax, 5 / ret
 *     mov ebx, eax
 *     mov edi, 0x101000
 *     mov ecx, 1024
 *     mov eax, 0x90909090
 *     rep stosd               ; the whole page becomes NOPs
 *     mov byte [0x101ffe], 0x40   ; inc eax
 *     mov byte [0x101fff], 0xc3   ; ret
 *     xor eax, eax
 *     call 0x101000
 *     hlt
 */
static const uint8_t prog_smc_page[] = {
    0xe8, 0xfb, 0x0f, 0x00, 0x00, 0x89, 0xc3, 0xbf, 0x00, 0x10, 0x10, 0x00,
    0xb9, 0x00, 0x04, 0x00, 0x00, 0xb8, 0x90, 0x90, 0x90, 0x90, 0xf3, 0xab,
    0xc6, 0x05, 0xfe, 0x1f, 0x10, 0x00, 0x40, 0xc6, 0x05, 0xff, 0x1f, 0x10,
    0x00, 0xc3, 0x31, 0xc0, 0xe8, 0xd3, 0x0f, 0x00, 0x00, 0xf4
};

static void test_smc_page(void **state)
{
    static const uint8_t f[] = { 0xb8, 0x05, 0, 0, 0, 0xc3 };
    load_both(M32, prog_smc_page, sizeof(prog_smc_page), NULL);
    memcpy(vi.ram + 0x101000, f, sizeof(f));
    memcpy(vj.ram + 0x101000, f, sizeof(f));
    run_both("smc page");
    assert_int_equal(vj.cpu->s.gpr[R_BX], 5);
    assert_int_equal(vj.cpu->s.gpr[R_AX], 1);
}

/* DMA (a bulk write through the memory map) over translated code */
static void test_dma(void **state)
{
    static const uint8_t p1[] = { 0xb8, 0x11, 0, 0, 0, 0xf4 };  /* mov eax */
    static const uint8_t p2[] = { 0xb8, 0x22, 0, 0, 0, 0xf4 };
    load_both(M32, p1, sizeof(p1), NULL);
    run_both("dma 1");
    assert_int_equal(vj.cpu->s.gpr[R_AX], 0x11);
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        mem_rw(vms[k]->m.mem, CODE, (void *)p2, sizeof(p2), true);
        vms[k]->cpu->s.rip = CODE;
        vms[k]->cpu->s.halted = 0;
    }
    run_both("dma 2");
    assert_int_equal(vj.cpu->s.gpr[R_AX], 0x22);
}

/* --- faults --- */

/* on both machines: vector vec goes to a HLT at 0x100800, and the TLB
 * forgets what the test changed in the page tables */
static void hlt_handler(int vec)
{
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        vms[k]->ram[0x100800] = 0xf4;
        idt_gate64(vms[k], vec, 0x100800);
        mmu_flush(vms[k]->cpu, true);
    }
}

/*
 * bits 64             ; registers and memory change, then a #PF mid-block
 *     mov rax, 1
 *     add rbx, rax
 *     mov [rsi], rbx
 *     cmp rbx, 7
 *     push rbx
 *     mov rcx, [0x600000]     ; not mapped: #PF
 *     mov rdx, 9
 *     hlt
 * handler (at 0x100800): hlt
 */
static const uint8_t prog_pf[] = {
    0xb8, 0x01, 0x00, 0x00, 0x00, 0x48, 0x01, 0xc3, 0x48, 0x89, 0x1e, 0x48,
    0x83, 0xfb, 0x07, 0x53, 0x48, 0x8b, 0x0c, 0x25, 0x00, 0x00, 0x60, 0x00,
    0xba, 0x09, 0x00, 0x00, 0x00, 0xf4
};

static void test_page_fault(void **state)
{
    uint64_t g[16] = { 0 };
    g[R_SI] = DATA;
    g[R_BX] = 3;
    load_both(M64, prog_pf, sizeof(prog_pf), g);
    put64(&vi, PML4 + 0x2000 + 8 * 3, 0);   /* 6-8 MiB unmapped */
    put64(&vj, PML4 + 0x2000 + 8 * 3, 0);
    hlt_handler(14);
    run_both("page fault");
    assert_int_equal(vj.cpu->s.cr2, 0x600000);
    assert_int_equal(vj.cpu->s.gpr[R_DX], 0);
    assert_int_equal(vj.cpu->s.rip, 0x100801);
    /* the frame: error code, then RIP of the faulting MOV */
    uint64_t sp = vj.cpu->s.gpr[R_SP], rip;
    memcpy(&rip, vj.ram + sp + 8, 8);
    assert_int_equal(rip, CODE + 0x10);
}

/*
 * bits 64             ; a read-only page (6-8 MiB) under CR0.WP
 *     mov ecx, 200
 * l:  mov eax, [rsi]      ; reads it
 *     add [rdi], eax
 *     dec ecx
 *     jnz l
 *     mov rax, cr0
 *     btr eax, 16         ; WP off: CPL 0 may write it
 *     mov cr0, rax
 *     mov ecx, 200
 * l2: add [rsi], ecx
 *     dec ecx
 *     jnz l2
 *     bts eax, 16         ; WP on: the same write is a #PF
 *     mov cr0, rax
 *     mov edx, [rsi]      ; the page back in the TLB
 *     mov [rsi], ebx
 *     hlt
 * handler (at 0x100800): hlt
 */
static const uint8_t prog_wp[] = {
    0xb9, 0xc8, 0x00, 0x00, 0x00, 0x8b, 0x06, 0x01, 0x07, 0xff, 0xc9, 0x75,
    0xf8, 0x0f, 0x20, 0xc0, 0x0f, 0xba, 0xf0, 0x10, 0x0f, 0x22, 0xc0, 0xb9,
    0xc8, 0x00, 0x00, 0x00, 0x01, 0x0e, 0xff, 0xc9, 0x75, 0xfa, 0x0f, 0xba,
    0xe8, 0x10, 0x0f, 0x22, 0xc0, 0x8b, 0x16, 0x89, 0x1e, 0xf4
};

/* the inlined TLB probe follows the page's R/W bit and CR0.WP */
static void test_write_protect(void **state)
{
    uint64_t g[16] = { 0 };
    g[R_SI] = 0x600000;
    g[R_DI] = DATA;
    g[R_BX] = 0x1234;
    load_both(M64, prog_wp, sizeof(prog_wp), g);
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        put64(vms[k], PML4 + 0x2000 + 8 * 3, (3ull << 21) | 0x85);
        put64(vms[k], 0x600000, 5);
        put64(vms[k], DATA, 0);
    }
    hlt_handler(14);
    run_both("write protect");
    assert_int_equal(vj.cpu->s.cr2, 0x600000);
    assert_int_equal(vj.cpu->s.rip, 0x100801);
    uint32_t sum, ro;
    memcpy(&sum, vj.ram + DATA, 4);
    memcpy(&ro, vj.ram + 0x600000, 4);
    assert_int_equal(sum, 200 * 5);
    assert_int_equal(ro, 5 + 200 * 201 / 2);
}

/*
 * bits 64             ; returns through the jump cache, then one to a
 *     mov ecx, 50     ; non-canonical address: #GP(0) at the RET
 * l:  call f
 *     dec ecx
 *     jnz l
 *     mov rax, 0x800000000000
 *     push rax
 *     ret
 * f:  ret
 * handler (at 0x100800): hlt
 */
static const uint8_t prog_ret_gp[] = {
    0xb9, 0x32, 0x00, 0x00, 0x00, 0xe8, 0x10, 0x00, 0x00, 0x00, 0xff, 0xc9,
    0x75, 0xf7, 0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00,
    0x50, 0xc3, 0xc3
};

static void test_ret_non_canonical(void **state)
{
    uint64_t g[16] = { 0 };
    load_both(M64, prog_ret_gp, sizeof(prog_ret_gp), g);
    hlt_handler(13);
    run_both("ret to a non-canonical address");
    assert_int_equal(vj.cpu->s.rip, 0x100801);
    /* the frame: error code 0, then RIP of the RET */
    uint64_t sp = vj.cpu->s.gpr[R_SP], err, rip;
    memcpy(&err, vj.ram + sp, 8);
    memcpy(&rip, vj.ram + sp + 8, 8);
    assert_int_equal(err, 0);
    assert_int_equal(rip, CODE + 0x19);
}

/*
 * bits 32             ; no paging: every page is a user page to the TLB
 *     mov ecx, 10000
 * l:  call f
 *     dec ecx
 *     jnz l
 *     hlt
 * f:  ret
 */
static const uint8_t prog_call_loop[] = {
    0xb9, 0x10, 0x27, 0x00, 0x00, 0xe8, 0x04, 0x00, 0x00, 0x00, 0x49, 0x75,
    0xf8, 0xf4, 0xc3
};

/* returns go from block to block in generated code (the jump cache and
 * the TLB's execute rights), not through the run loop */
static void test_returns_stay(void **state)
{
    load_both(M32, prog_call_loop, sizeof(prog_call_loop), NULL);
    unsigned long before = jit_stats.loop_entries;
    run_both("call/ret loop");
    assert_true(jit_stats.loop_entries - before < 100);
}

/*
 * bits 64             ; code on a supervisor page calls a user page,
 *     mov ecx, 100    ; then CR4.SMEP forbids that: #PF at the call
 * l:  mov rax, 0x200100
 *     call rax
 *     dec ecx
 *     jnz l
 *     mov rax, cr4
 *     bts eax, 20
 *     mov cr4, rax
 *     mov rax, 0x200100
 *     call rax
 *     hlt
 * at 0x200100: ret;  handler (at 0x100800): hlt
 */
static const uint8_t prog_smep[] = {
    0xb9, 0x64, 0x00, 0x00, 0x00, 0xb8, 0x00, 0x01, 0x20, 0x00, 0xff, 0xd0,
    0xff, 0xc9, 0x75, 0xf5, 0x0f, 0x20, 0xe0, 0x0f, 0xba, 0xe8, 0x14, 0x0f,
    0x22, 0xe0, 0xb8, 0x00, 0x01, 0x20, 0x00, 0xff, 0xd0, 0xf4
};

static void test_smep(void **state)
{
    load_both(M64, prog_smep, sizeof(prog_smep), NULL);
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        put64(vms[k], PML4 + 0x2000, 0x83);   /* 0-2 MiB: supervisor */
        vms[k]->ram[0x200100] = 0xc3;
    }
    hlt_handler(14);
    run_both("SMEP");
    assert_int_equal(vj.cpu->s.rip, 0x100801);
    assert_int_equal(vj.cpu->s.cr2, 0x200100);
}

/* --- interrupts --- */

/*
 * bits 64
 *     mov ecx, 100000
 *     xor ebx, ebx
 *     sti
 * l:  add rbx, 3
 *     cmp ecx, 50000
 *     jne .s
 *     out 0x80, al            ; the device raises INTR in the middle
 * .s: dec ecx
 *     jnz l
 *     hlt
 * handler (0x100800): mov r8, rbx / mov r9, rcx / iretq
 */
static const uint8_t prog_intr[] = {
    0xb9, 0xa0, 0x86, 0x01, 0x00, 0x31, 0xdb, 0xfb, 0x48, 0x83, 0xc3, 0x03,
    0x81, 0xf9, 0x50, 0xc3, 0x00, 0x00, 0x75, 0x02, 0xe6, 0x80, 0xff, 0xc9,
    0x75, 0xee, 0xf4
};

static void test_interrupt(void **state)
{
    static const uint8_t handler[] = { 0x49, 0x89, 0xd8, 0x49, 0x89, 0xc9,
                                       0x48, 0xcf };
    struct vm *vms[2] = { &vi, &vj };
    uint64_t r8[2], r9[2];
    for (int k = 0; k < 2; k++) {
        struct vm *vm = vms[k];
        load_both(M64, prog_intr, sizeof(prog_intr), NULL);
        memcpy(vm->ram + 0x100800, handler, sizeof(handler));
        idt_gate64(vm, 0x40, 0x100800);
        intr_source_attach(vm);
        vm_run(vm);
        assert_int_equal(intr_count, 1);
        assert_int_equal(vm->cpu->s.gpr[R_BX], 300000);
        r8[k] = vm->cpu->s.gpr[R_R8];
        r9[k] = vm->cpu->s.gpr[R_R9];
        intr_source_detach(vm);
    }
    /* taken right after the OUT, as the interpreter does */
    assert_int_equal(r9[0], 50000);
    assert_int_equal(r9[1], r9[0]);
    assert_int_equal(r8[1], r8[0]);
}

/* --- address spaces --- */

/*
 * bits 32           ; two page directories map 0x400000 to different code
 *     call 0x400000
 *     mov ebx, eax
 *     mov eax, 0x31000
 *     mov cr3, eax
 *     call 0x400000
 *     hlt
 */
static const uint8_t prog_cr3[] = {
    0xe8, 0xfb, 0xff, 0x2f, 0x00, 0x89, 0xc3, 0xb8, 0x00, 0x10, 0x03, 0x00,
    0x0f, 0x22, 0xd8, 0xe8, 0xec, 0xff, 0x2f, 0x00, 0xf4
};

static void test_cr3_switch(void **state)
{
    static const uint8_t fa[] = { 0xb8, 0xaa, 0, 0, 0, 0xc3 };
    static const uint8_t fb[] = { 0xb8, 0xbb, 0, 0, 0, 0xc3 };
    load_both(M32, prog_cr3, sizeof(prog_cr3), NULL);
    struct vm *vms[2] = { &vi, &vj };
    for (int k = 0; k < 2; k++) {
        struct vm *vm = vms[k];
        /* PD at 0x30000 / 0x31000: 4 MiB pages; 0-4 MiB identity, and
         * 4 MiB -> 4 MiB or -> 6 MiB... use 4 KiB tables for the code */
        uint32_t pde0 = 0x83, pa = 0x32000 | 3, pb = 0x33000 | 3;
        memcpy(vm->ram + 0x30000, &pde0, 4);
        memcpy(vm->ram + 0x31000, &pde0, 4);
        memcpy(vm->ram + 0x30004, &pa, 4);
        memcpy(vm->ram + 0x31004, &pb, 4);
        uint32_t pta = 0x500000 | 3, ptb = 0x501000 | 3;
        memcpy(vm->ram + 0x32000, &pta, 4);
        memcpy(vm->ram + 0x33000, &ptb, 4);
        memcpy(vm->ram + 0x500000, fa, sizeof(fa));
        memcpy(vm->ram + 0x501000, fb, sizeof(fb));
        vm->cpu->s.cr3 = 0x30000;
        vm->cpu->s.cr4 |= CR4_PSE;
        vm->cpu->s.cr0 |= CR0_PG;
        cpu_update_mode(vm->cpu);
        mmu_flush(vm->cpu, true);
    }
    run_both("cr3 switch");
    assert_int_equal(vj.cpu->s.gpr[R_BX], 0xaa);
    assert_int_equal(vj.cpu->s.gpr[R_AX], 0xbb);
}

/* --- speed --- */

/*
 * bits 64             ; a CPU-bound loop: ALU, memory, a call
 *     mov rsi, 0x208000      ; a TLB slot of its own (not the code's)
 *     mov ecx, 3000000
 *     xor eax, eax
 * l:  mov rdx, rcx
 *     and edx, 0xff
 *     add rax, [rsi+rdx*8]
 *     xor [rsi+rdx*8], rax
 *     call f
 *     dec ecx
 *     jnz l
 *     hlt
 * f:  lea rax, [rax+rcx*2+1]
 *     ret
 */
static const uint8_t prog_bench[] = {
    0xbe, 0x00, 0x80, 0x20, 0x00, 0xb9, 0xc0, 0xc6, 0x2d, 0x00, 0x31, 0xc0,
    0x48, 0x89, 0xca, 0x81, 0xe2, 0xff, 0x00, 0x00, 0x00, 0x48, 0x03, 0x04,
    0xd6, 0x48, 0x31, 0x04, 0xd6, 0xe8, 0x05, 0x00, 0x00, 0x00, 0xff, 0xc9,
    0x75, 0xe6, 0xf4, 0x48, 0x8d, 0x44, 0x48, 0x01, 0xc3
};

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);   /* the host is shared */
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_speed(void **state)
{
    /* 200000 rounds here; 3000000 when measuring (TANDEM_JIT_BENCH) */
    uint8_t code[sizeof(prog_bench)];
    uint32_t rounds = getenv("TANDEM_JIT_BENCH") ? 3000000 : 200000;
    memcpy(code, prog_bench, sizeof(code));
    memcpy(code + 6, &rounds, 4);   /* mov ecx, imm32 */
    load_both(M64, code, sizeof(code), NULL);
    double t0 = seconds();
    vm_run(&vi);
    double t1 = seconds();
    vm_run(&vj);
    double t2 = seconds();
    compare("benchmark");
    double n = (double)vj.cpu->icount;
    if (getenv("TANDEM_JIT_BENCH"))
        printf("benchmark: %.0f instructions; interp %.1f M/s, jit %.1f M/s, "
               "ratio %.1f\n", n, n / (t1 - t0) / 1e6, n / (t2 - t1) / 1e6,
               (t1 - t0) / (t2 - t1));
    if (vi.cpu->icount != vj.cpu->icount)
        fail_msg("icount interp %llu jit %llu",
                 (unsigned long long)vi.cpu->icount,
                 (unsigned long long)vj.cpu->icount);
    if (jit_native)
        assert_true(t2 - t1 < t1 - t0);   /* the JIT is faster */
}

int main(void)
{
    if (getenv("TANDEM_JIT_FALLBACK_ONLY"))
        jit_native = false;
    if (getenv("TANDEM_JIT_BENCH"))
        cmocka_set_test_filter("test_speed");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop32),
        cmocka_unit_test(test_real_mode),
        cmocka_unit_test(test_cache_full),
        cmocka_unit_test(test_random64),
        cmocka_unit_test(test_random32),
        cmocka_unit_test(test_smc),
        cmocka_unit_test(test_smc_page),
        cmocka_unit_test(test_dma),
        cmocka_unit_test(test_page_fault),
        cmocka_unit_test(test_write_protect),
        cmocka_unit_test(test_ret_non_canonical),
        cmocka_unit_test(test_returns_stay),
        cmocka_unit_test(test_smep),
        cmocka_unit_test(test_interrupt),
        cmocka_unit_test(test_cr3_switch),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
