/* Unit tests of segmentation and far transfers (cpu/segment.c,
 * cpu/farxfer.c): descriptor loads with their #GP/#NP/#SS error codes, the
 * accessed bit, null selectors, limit and type checks (expand-down,
 * read-only, execute-only), canonical checks in 64-bit mode, real-mode
 * stack wrap, far JMP/CALL/RET through a call gate with parameter copy,
 * and RET/IRET to an outer ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/cpu_env.h"

static void test_data_loads(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(0);
    cpu_load_seg(cpu, S_DS, SEL_DATA0);
    assert_int_equal(cpu->s.seg[S_DS].selector, SEL_DATA0);
    assert_int_equal(cpu->s.seg[S_DS].limit, 0xffffffff);
    assert_int_equal(cpu->s.seg[S_DS].attr, 0xc093);
    assert_int_equal(env.ram[GDT_BASE + 0x10 + 5], 0x93);  /* accessed */
    /* not present, outside the GDT, execute-only, RPL above DPL */
    assert_int_equal(CATCH(cpu_load_seg(cpu, S_DS, SEL_DATA_NP)), EXC_NP);
    assert_int_equal(cpu->s.exception_error, SEL_DATA_NP);
    assert_int_equal(CATCH(cpu_load_seg(cpu, S_ES, 0x107)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, 0x104);
    assert_int_equal(CATCH(cpu_load_seg(cpu, S_ES, SEL_CODE_XO)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, SEL_CODE_XO);
    assert_int_equal(CATCH(cpu_load_seg(cpu, S_FS, SEL_DATA0 | 3)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, SEL_DATA0);
    /* a readable code segment is fine for DS; not for writes */
    cpu_load_seg(cpu, S_FS, SEL_CODE0);
    cpu_read(cpu, S_FS, 0x100, 4);
    assert_int_equal(CATCH(cpu_write(cpu, S_FS, 0x100, 1, 4)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, 0);
    /* null: loads, then faults on use */
    cpu_load_seg(cpu, S_GS, 0);
    assert_true(cpu->s.seg[S_GS].attr & SEG_ATTR_UNUSABLE);
    assert_int_equal(CATCH(cpu_read(cpu, S_GS, 0, 1)), EXC_GP);
    /* a ring-3 program may not load a ring-0 data segment */
    env_prot(3);
    assert_int_equal(CATCH(cpu_load_seg(cpu, S_DS, SEL_DATA0)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, SEL_DATA0);
    cpu_load_seg(cpu, S_DS, SEL_DATA3);
    /* CS is never a MOV target */
    assert_int_equal(CATCH(cpu_load_seg(cpu, S_CS, SEL_CODE3)), EXC_UD);
}

static void test_ss_loads(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(0);
    assert_int_equal(CATCH(cpu_load_seg(cpu, S_SS, 0)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, 0);
    assert_int_equal(CATCH(cpu_load_seg(cpu, S_SS, SEL_DATA_RO)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, SEL_DATA_RO);
    assert_int_equal(CATCH(cpu_load_seg(cpu, S_SS, SEL_DATA3)), EXC_GP);
    assert_int_equal(CATCH(cpu_load_seg(cpu, S_SS, SEL_DATA_NP)), EXC_SS);
    assert_int_equal(cpu->s.exception_error, SEL_DATA_NP);
    cpu_load_seg(cpu, S_SS, SEL_DATA_SMALL);
    assert_int_equal(cpu->stack_size, 4);
    assert_int_equal(cpu->s.seg[S_SS].base, 0x20000);
    /* stack limit: #SS(0) */
    cpu->s.gpr[R_SP] = 0x102;
    assert_int_equal(CATCH(cpu_push(cpu, 1, 4)), EXC_SS);
    assert_int_equal(cpu->s.exception_error, 0);
    cpu->s.gpr[R_SP] = 0x100;
    cpu_push(cpu, 0xdeadbeef, 4);
    assert_int_equal(peek32(0x200fc), 0xdeadbeef);
    assert_int_equal(cpu_pop(cpu, 4), 0xdeadbeef);
    assert_int_equal(cpu->s.gpr[R_SP], 0x100);
}

static void test_limits(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(0);
    /* expand-down, 16-bit: valid offsets are limit+1 .. 0xffff */
    cpu_load_seg(cpu, S_ES, SEL_DATA_DOWN);
    assert_int_equal(CATCH(cpu_read(cpu, S_ES, 0xfff, 1)), EXC_GP);
    assert_int_equal(CATCH(cpu_read(cpu, S_ES, 0xfffe, 4)), EXC_GP);
    cpu_write(cpu, S_ES, 0x1000, 0x55, 1);
    assert_int_equal(env.ram[0x11000], 0x55);
    assert_int_equal(cpu_read(cpu, S_ES, 0xfffc, 4), 0);
    /* read-only data */
    cpu_load_seg(cpu, S_DS, SEL_DATA_RO);
    assert_int_equal(cpu_read(cpu, S_DS, 0x11000, 1), 0x55);
    assert_int_equal(CATCH(cpu_write(cpu, S_DS, 0, 0, 1)), EXC_GP);
    /* byte-granular limit 0xff */
    cpu_load_seg(cpu, S_DS, SEL_DATA_SMALL);
    cpu_read(cpu, S_DS, 0xfc, 4);
    assert_int_equal(CATCH(cpu_read(cpu, S_DS, 0xfd, 4)), EXC_GP);
    /* instruction fetch past the CS limit */
    env_seg(S_CS, SEL_CODE16);
    cpu_update_mode(cpu);
    uint8_t buf[15];
    assert_int_equal(cpu_fetch_code(cpu, 0xfffa, buf, 15), 6);
    assert_int_equal(CATCH(cpu_fetch_code(cpu, 0x10000, buf, 15)), EXC_GP);
}

static void test_long_canonical(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_long(0);
    assert_int_equal(cpu->mode, MODE_LONG64);
    assert_int_equal(CATCH(cpu_seg_to_lin(cpu, S_DS, 0x0000800000000000ull,
                                          1, ACC_READ)), EXC_GP);
    assert_int_equal(CATCH(cpu_seg_to_lin(cpu, S_SS, 0xffff7fffffffffffull,
                                          1, ACC_READ)), EXC_SS);
    assert_int_equal(CATCH(cpu_seg_to_lin(cpu, S_DS, 0x00007ffffffffffeull,
                                          4, ACC_READ)), EXC_GP);
    /* no limits, DS base ignored, FS base used */
    cpu->s.seg[S_DS].base = 0x1000;
    cpu->s.seg[S_FS].base = 0x2000;
    assert_int_equal(cpu_seg_to_lin(cpu, S_DS, 0x123456789ull, 1, 0),
                     0x123456789ull);
    assert_int_equal(cpu_seg_to_lin(cpu, S_FS, 0x10, 1, 0), 0x2010);
    /* a null SS is allowed at ring 0 in 64-bit mode */
    cpu_load_seg(cpu, S_SS, 0);
    assert_true(cpu->s.seg[S_SS].attr & SEG_ATTR_UNUSABLE);
    assert_int_equal(cpu->cpl, 0);
    cpu->s.gpr[R_SP] = 0x8000;
    cpu_push(cpu, 0x1122334455667788ull, 8);
    assert_int_equal(peek64(0x7ff8), 0x1122334455667788ull);
}

static void test_real_mode(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    assert_int_equal(cpu->mode, MODE_REAL);
    assert_int_equal(cpu->s.seg[S_CS].base, 0xffff0000);
    assert_int_equal(cpu->s.rip, 0xfff0);
    cpu_load_seg(cpu, S_SS, 0x1000);
    cpu->s.gpr[R_SP] = 0x12340000;
    cpu_push(cpu, 0xabcd, 2);
    assert_int_equal(cpu->s.gpr[R_SP], 0x1234fffe);
    assert_int_equal(peek16(0x1fffe), 0xabcd);
    /* a word at offset 0xffff crosses the limit */
    assert_int_equal(CATCH(cpu_read(cpu, S_DS, 0xffff, 2)), EXC_GP);
    /* far call/ret in real mode */
    cpu->s.rip = 0x105;
    cpu_far_call(cpu, 0x2000, 0x10, 2);
    assert_int_equal(cpu->s.seg[S_CS].base, 0x20000);
    assert_int_equal(cpu->s.rip, 0x10);
    cpu_far_ret(cpu, 2, 0);
    assert_int_equal(cpu->s.seg[S_CS].selector, 0xf000);
    assert_int_equal(cpu->s.rip, 0x105);
    assert_int_equal(cpu->s.gpr[R_SP], 0x1234fffe);
}

static void test_call_gate(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(3);
    poke32(TSS_A + 4, 0x9000);      /* ESP0 */
    poke16(TSS_A + 8, SEL_DATA0);   /* SS0 */
    cpu->s.gpr[R_SP] = 0x7000;
    poke32(0x7000, 0x1111);         /* the two parameters */
    poke32(0x7004, 0x2222);
    cpu->s.rip = 0x401234;
    cpu_far_call(cpu, SEL_CALL_GATE, 0, 4);
    assert_int_equal(cpu->cpl, 0);
    assert_int_equal(cpu->s.seg[S_CS].selector, SEL_CODE0);
    assert_int_equal(cpu->s.seg[S_SS].selector, SEL_DATA0);
    assert_int_equal(cpu->s.rip, 0x5000);
    assert_int_equal(cpu->s.gpr[R_SP], 0x9000 - 6 * 4);
    assert_int_equal(peek32(0x9000 - 4), SEL_DATA3);   /* old SS */
    assert_int_equal(peek32(0x9000 - 8), 0x7000);      /* old ESP */
    assert_int_equal(peek32(0x9000 - 12), 0x2222);
    assert_int_equal(peek32(0x9000 - 16), 0x1111);
    assert_int_equal(peek32(0x9000 - 20), SEL_CODE3);
    assert_int_equal(peek32(0x9000 - 24), 0x401234);
    /* a ring-0 DS, then RET 8 to ring 3: DS is nulled, params popped */
    cpu_load_seg(cpu, S_DS, SEL_DATA0);
    cpu_far_ret(cpu, 4, 8);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->s.rip, 0x401234);
    assert_int_equal(cpu->s.gpr[R_SP], 0x7008);
    assert_int_equal(cpu->s.seg[S_SS].selector, SEL_DATA3);
    assert_true(cpu->s.seg[S_DS].attr & SEG_ATTR_UNUSABLE);
    assert_false(cpu->s.seg[S_ES].attr & SEG_ATTR_UNUSABLE);
    /* the gate's DPL is 3; a direct far call to ring-0 code is refused */
    assert_int_equal(CATCH(cpu_far_call(cpu, SEL_CODE0, 0x5000, 4)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, SEL_CODE0);
    assert_int_equal(CATCH(cpu_far_jmp(cpu, SEL_CALL_GATE, 0)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, SEL_CODE0);
}

static void test_iret_outer(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(0);
    cpu_set_rflags(cpu, FL_FIXED1 | FL_IOPL);
    cpu->s.gpr[R_SP] = 0x8000;
    uint32_t frame[5] = { 0x400000, SEL_CODE3, FL_FIXED1 | FL_IF | FL_CF | FL_IOPL,
                          0x6000, SEL_DATA3 };
    memcpy(env.ram + 0x8000, frame, sizeof(frame));
    cpu_iret(cpu, 4);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->s.rip, 0x400000);
    assert_int_equal(cpu->s.gpr[R_SP], 0x6000);
    assert_int_equal(cpu_get_rflags(cpu), FL_FIXED1 | FL_IF | FL_CF | FL_IOPL);
    assert_true(cpu->s.seg[S_DS].attr & SEG_ATTR_UNUSABLE);
    /* at ring 3 with IOPL 0 IRET may change neither IF nor IOPL */
    cpu_set_rflags(cpu, FL_FIXED1);
    cpu->s.gpr[R_SP] = 0x6000;
    uint32_t f2[3] = { 0x400100, SEL_CODE3, FL_FIXED1 | FL_IF | FL_IOPL | FL_ZF };
    memcpy(env.ram + 0x6000, f2, sizeof(f2));
    cpu_iret(cpu, 4);
    assert_int_equal(cpu_get_rflags(cpu), FL_FIXED1 | FL_ZF);
    /* returning to a more privileged ring is refused */
    cpu->s.gpr[R_SP] = 0x6000;
    uint32_t f3[3] = { 0x5000, SEL_CODE0, FL_FIXED1 };
    memcpy(env.ram + 0x6000, f3, sizeof(f3));
    assert_int_equal(CATCH(cpu_iret(cpu, 4)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, SEL_CODE0);
}

static void test_iret_to_v86(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(0);
    cpu->s.gpr[R_SP] = 0x8000;
    uint32_t frame[9] = { 0x100, 0x2000, FL_FIXED1 | FL_VM | FL_IF, 0xfffe,
                          0x3000, 0x4000, 0x5000, 0x6000, 0x7000 };
    memcpy(env.ram + 0x8000, frame, sizeof(frame));
    cpu_iret(cpu, 4);
    assert_int_equal(cpu->mode, MODE_V86);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->s.seg[S_CS].base, 0x20000);
    assert_int_equal(cpu->s.seg[S_SS].base, 0x30000);
    assert_int_equal(cpu->s.seg[S_ES].selector, 0x4000);
    assert_int_equal(cpu->s.seg[S_GS].base, 0x70000);
    assert_int_equal(cpu->s.gpr[R_SP], 0xfffe);
    assert_int_equal(cpu->s.rip, 0x100);
}

static void test_long_iretq(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_long(0);
    cpu->s.gpr[R_SP] = 0x8000;
    uint64_t frame[5] = { 0x7fff00001000ull, SEL_CODE64_3, FL_FIXED1 | FL_IF,
                          0x7fff00002000ull, SEL_DATA3 };
    memcpy(env.ram + 0x8000, frame, sizeof(frame));
    cpu_iret(cpu, 8);
    assert_int_equal(cpu->mode, MODE_LONG64);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->s.rip, 0x7fff00001000ull);
    assert_int_equal(cpu->s.gpr[R_SP], 0x7fff00002000ull);
    /* same ring in 64-bit mode still pops SS:RSP; non-canonical RIP #GP */
    env_long(0);
    cpu->s.gpr[R_SP] = 0x8000;
    uint64_t f2[5] = { 0x800000000000ull, SEL_CODE64_0, FL_FIXED1, 0x9000, 0 };
    memcpy(env.ram + 0x8000, f2, sizeof(f2));
    assert_int_equal(CATCH(cpu_iret(cpu, 8)), EXC_GP);
    f2[0] = 0x1000;
    memcpy(env.ram + 0x8000, f2, sizeof(f2));
    cpu_iret(cpu, 8);
    assert_int_equal(cpu->s.gpr[R_SP], 0x9000);
    assert_true(cpu->s.seg[S_SS].attr & SEG_ATTR_UNUSABLE);
    assert_int_equal(cpu->cpl, 0);
}

static void test_long_call_gate(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_long(3);
    /* a 64-bit call gate (16 bytes) at 0xa0, DPL 3, to ring-0 64-bit code */
    uint64_t target = 0x0000123400005000ull;
    poke64(GDT_BASE + 0xa0, mkgate(SEL_CODE64_0, (uint32_t)target, 12, 3));
    poke64(GDT_BASE + 0xa8, target >> 32);
    poke64(TSS_64 + 4, 0x9000);   /* RSP0 */
    cpu->s.gpr[R_SP] = 0x7008;
    cpu->s.rip = 0x401000;
    cpu_far_call(cpu, 0xa3, 0, 8);
    assert_int_equal(cpu->cpl, 0);
    assert_int_equal(cpu->mode, MODE_LONG64);
    assert_int_equal(cpu->s.rip, target);
    assert_int_equal(cpu->s.gpr[R_SP], 0x9000 - 32);
    assert_int_equal(peek64(0x9000 - 32), 0x401000);
    assert_int_equal(peek64(0x9000 - 24), SEL_CODE64_3);
    assert_int_equal(peek64(0x9000 - 16), 0x7008);
    assert_int_equal(peek64(0x9000 - 8), SEL_DATA3);
    assert_int_equal(cpu->s.seg[S_SS].selector, 0);
    /* RETF (REX.W) back to ring 3 */
    cpu_far_ret(cpu, 8, 0);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->s.rip, 0x401000);
    assert_int_equal(cpu->s.gpr[R_SP], 0x7008);
    /* a 32-bit code target is refused for a 64-bit gate */
    poke64(GDT_BASE + 0xa0, mkgate(SEL_CODE0, 0x5000, 12, 3));
    assert_int_equal(CATCH(cpu_far_call(cpu, 0xa3, 0, 8)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, SEL_CODE0);
    /* task gates do not exist in long mode */
    assert_int_equal(CATCH(cpu_far_jmp(cpu, SEL_TASK_GATE, 0)), EXC_GP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_data_loads, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_ss_loads, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_limits, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_long_canonical, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_real_mode, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_call_gate, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_iret_outer, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_iret_to_v86, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_long_iretq, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_long_call_gate, env_setup, env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
