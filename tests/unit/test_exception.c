/* Unit tests of event delivery and task switching (cpu/exception.c,
 * cpu/task.c): the stack frames of real mode, protected mode with a ring
 * change, V86 to ring 0, long mode with IST; soft-INT gate DPL checks;
 * double fault and triple fault; NMI masking; a task switch by CALL to a
 * TSS and back by IRET with busy bits and the back link; the #DB of a TSS
 * with the T bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/cpu_env.h"

static void idt32(int vec, uint16_t sel, uint32_t off, unsigned type,
                  unsigned dpl)
{
    poke64(IDT_BASE + vec * 8, mkgate(sel, off, type, dpl));
}

static void idt64(int vec, uint16_t sel, uint64_t off, unsigned type,
                  unsigned dpl, unsigned ist)
{
    poke64(IDT_BASE + vec * 16, mkgate(sel, (uint32_t)off, type, dpl) |
                                    ((uint64_t)ist << 32));
    poke64(IDT_BASE + vec * 16 + 8, off >> 32);
}

static void test_real_mode_int(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    poke32(0x21 * 4, 0x12345678);
    cpu_load_seg_real(cpu, S_CS, 0x0100);
    cpu_load_seg_real(cpu, S_SS, 0);
    cpu->s.gpr[R_SP] = 0x1000;
    cpu_set_rflags(cpu, FL_FIXED1 | FL_IF | FL_TF | FL_CF);
    cpu_deliver_event(cpu, 0x21, EV_SOFTINT, false, 0, 0x105);
    assert_int_equal(cpu->s.seg[S_CS].selector, 0x1234);
    assert_int_equal(cpu->s.seg[S_CS].base, 0x12340);
    assert_int_equal(cpu->s.rip, 0x5678);
    assert_int_equal(cpu->s.gpr[R_SP], 0xffa);
    assert_int_equal(peek16(0xffa), 0x105);
    assert_int_equal(peek16(0xffc), 0x0100);
    assert_int_equal(peek16(0xffe), FL_FIXED1 | FL_IF | FL_TF | FL_CF);
    assert_int_equal(cpu_get_rflags(cpu), FL_FIXED1 | FL_CF);
}

static void test_prot_ring_change(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(3);
    idt32(EXC_GP, SEL_CODE0, 0x10000, 14, 0);
    poke32(TSS_A + 4, 0x9000);
    poke16(TSS_A + 8, SEL_DATA0);
    cpu->s.gpr[R_SP] = 0x7000;
    cpu_set_rflags(cpu, FL_FIXED1 | FL_IF | FL_ZF);
    cpu_deliver_event(cpu, EXC_GP, EV_EXCEPTION, true, 0x1234, 0x401000);
    assert_int_equal(cpu->cpl, 0);
    assert_int_equal(cpu->s.seg[S_CS].selector, SEL_CODE0);
    assert_int_equal(cpu->s.seg[S_SS].selector, SEL_DATA0);
    assert_int_equal(cpu->s.rip, 0x10000);
    assert_int_equal(cpu->s.gpr[R_SP], 0x9000 - 24);
    assert_int_equal(peek32(0x9000 - 24), 0x1234);
    assert_int_equal(peek32(0x9000 - 20), 0x401000);
    assert_int_equal(peek32(0x9000 - 16), SEL_CODE3);
    assert_int_equal(peek32(0x9000 - 12), FL_FIXED1 | FL_IF | FL_ZF);
    assert_int_equal(peek32(0x9000 - 8), 0x7000);
    assert_int_equal(peek32(0x9000 - 4), SEL_DATA3);
    assert_int_equal(cpu_get_rflags(cpu), FL_FIXED1 | FL_ZF);
    /* and back with IRET */
    cpu->s.gpr[R_SP] += 4;
    cpu_iret(cpu, 4);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->s.rip, 0x401000);
    assert_int_equal(cpu->s.gpr[R_SP], 0x7000);
    assert_int_equal(cpu_get_rflags(cpu), FL_FIXED1 | FL_IF | FL_ZF);
}

static void test_soft_int_dpl(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(3);
    idt32(0x80, SEL_CODE0, 0x20000, 15, 0);   /* DPL 0 trap gate */
    idt32(EXC_GP, SEL_CODE0, 0x10000, 14, 0);
    poke32(TSS_A + 4, 0x9000);
    poke16(TSS_A + 8, SEL_DATA0);
    cpu->s.gpr[R_SP] = 0x7000;
    cpu->insn_rip = 0x401000;
    cpu_deliver_event(cpu, 0x80, EV_SOFTINT, false, 0, 0x401002);
    /* #GP(0x80 * 8 + 2) at the INT instruction itself */
    assert_int_equal(cpu->s.rip, 0x10000);
    assert_int_equal(peek32(0x9000 - 24), 0x80 * 8 + 2);
    assert_int_equal(peek32(0x9000 - 20), 0x401000);
    /* a DPL-3 trap gate works and keeps IF */
    env_prot(3);
    idt32(0x80, SEL_CODE0, 0x20000, 15, 3);
    cpu->s.gpr[R_SP] = 0x7000;
    cpu_set_rflags(cpu, FL_FIXED1 | FL_IF);
    cpu_deliver_event(cpu, 0x80, EV_SOFTINT, false, 0, 0x401002);
    assert_int_equal(cpu->s.rip, 0x20000);
    assert_int_equal(peek32(0x9000 - 20), 0x401002);
    assert_true(cpu_get_rflags(cpu) & FL_IF);
}

static void test_v86_to_ring0(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(0);
    idt32(0x0d, SEL_CODE0, 0x10000, 14, 0);
    poke32(TSS_A + 4, 0x9000);
    poke16(TSS_A + 8, SEL_DATA0);
    cpu_set_rflags(cpu, FL_FIXED1 | FL_VM);
    cpu_update_mode(cpu);
    cpu_load_seg_real(cpu, S_CS, 0x1000);
    cpu_load_seg_real(cpu, S_SS, 0x2000);
    cpu_load_seg_real(cpu, S_DS, 0x3000);
    cpu_load_seg_real(cpu, S_ES, 0x4000);
    cpu_load_seg_real(cpu, S_FS, 0x5000);
    cpu_load_seg_real(cpu, S_GS, 0x6000);
    cpu->s.gpr[R_SP] = 0x100;
    assert_int_equal(cpu->mode, MODE_V86);
    /* INT n with IOPL < 3 is #GP(0) */
    cpu->insn_rip = 0x20;
    cpu_deliver_event(cpu, 0x21, EV_SOFTINT, false, 0, 0x22);
    assert_int_equal(cpu->mode, MODE_PROT);
    assert_int_equal(cpu->cpl, 0);
    assert_int_equal(cpu->s.gpr[R_SP], 0x9000 - 40);
    uint32_t want[10] = { 0, 0x20, 0x1000, FL_FIXED1 | FL_VM, 0x100, 0x2000,
                          0x4000, 0x3000, 0x5000, 0x6000 };
    for (int i = 0; i < 10; i++)
        assert_int_equal(peek32(0x9000 - 40 + i * 4), want[i]);
    for (int s = S_ES; s <= S_GS; s++)
        if (s != S_CS && s != S_SS)
            assert_true(cpu->s.seg[s].attr & SEG_ATTR_UNUSABLE);
    /* IRET goes back to V86 */
    cpu->s.gpr[R_SP] += 4;
    cpu_iret(cpu, 4);
    assert_int_equal(cpu->mode, MODE_V86);
    assert_int_equal(cpu->s.seg[S_DS].base, 0x30000);
    assert_int_equal(cpu->s.rip, 0x20);
}

static void test_long_ist(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_long(3);
    idt64(EXC_NMI, SEL_CODE64_0, 0x0000123456789000ull, 14, 0, 1);
    poke64(TSS_64 + 4, 0x9000);         /* RSP0 */
    poke64(TSS_64 + 0x24, 0xa008);      /* IST1, aligned down to 0xa000 */
    cpu->s.gpr[R_SP] = 0x7004;
    cpu_set_rflags(cpu, FL_FIXED1 | FL_IF);
    cpu_deliver_event(cpu, EXC_NMI, EV_NMI, false, 0, 0x401000);
    assert_int_equal(cpu->cpl, 0);
    assert_int_equal(cpu->mode, MODE_LONG64);
    assert_int_equal(cpu->s.rip, 0x0000123456789000ull);
    assert_int_equal(cpu->s.gpr[R_SP], 0xa000 - 40);
    assert_int_equal(peek64(0xa000 - 40), 0x401000);
    assert_int_equal(peek64(0xa000 - 32), SEL_CODE64_3);
    assert_int_equal(peek64(0xa000 - 24), FL_FIXED1 | FL_IF);
    assert_int_equal(peek64(0xa000 - 16), 0x7004);
    assert_int_equal(peek64(0xa000 - 8), SEL_DATA3);
    assert_int_equal(cpu->s.seg[S_SS].selector, 0);
    assert_true(cpu->s.nmi_masked);
    assert_false(cpu_get_rflags(cpu) & FL_IF);
    /* IRETQ unmasks NMIs and returns to ring 3 */
    cpu_iret(cpu, 8);
    assert_false(cpu->s.nmi_masked);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->s.gpr[R_SP], 0x7004);
    /* without IST: RSP0, with an error code */
    idt64(EXC_PF, SEL_CODE64_0, 0x5000, 14, 0, 0);
    cpu_deliver_event(cpu, EXC_PF, EV_EXCEPTION, true, 6, 0x401000);
    assert_int_equal(cpu->s.gpr[R_SP], 0x9000 - 48);
    assert_int_equal(peek64(0x9000 - 48), 6);
    /* a gate to a non-64-bit segment is #GP(sel): with no #GP handler
     * that ends as a double fault, then a triple fault */
    idt64(0x40, SEL_CODE0, 0x5000, 14, 3, 0);
    cpu_deliver_event(cpu, 0x40, EV_SOFTINT, false, 0, 0x401000);
    assert_true(cpu->shutdown);
    assert_int_equal(cpu->exc_first, EXC_GP);
    assert_int_equal(cpu->exc_second, EXC_GP);
    assert_int_equal(cpu->exc_third, EXC_GP);
}

static void test_double_fault(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(0);
    idt32(EXC_DF, SEL_CODE0, 0x8000, 14, 0);
    /* the #NP handler's gate is not present: #NP(11*8+2+1) -> #DF */
    poke64(IDT_BASE + EXC_NP * 8, mkgate(SEL_CODE0, 0x6000, 14, 0) &
                                      ~(1ull << 47));
    cpu->s.gpr[R_SP] = 0x7000;
    cpu_deliver_event(cpu, EXC_NP, EV_EXCEPTION, true, 0x28, 0x1000);
    assert_false(cpu->shutdown);
    assert_int_equal(cpu->s.rip, 0x8000);
    assert_int_equal(cpu->s.gpr[R_SP], 0x7000 - 16);
    assert_int_equal(peek32(0x7000 - 16), 0);        /* #DF error code */
    assert_int_equal(peek32(0x7000 - 12), 0x1000);
    /* #UD's gate is empty: its #GP(IDT) is delivered instead (benign
     * first); #GP's gate is empty too: two contributory faults, #DF */
    cpu->s.gpr[R_SP] = 0x7000;
    cpu_deliver_event(cpu, EXC_UD, EV_EXCEPTION, false, 0, 0x1000);
    assert_int_equal(cpu->s.rip, 0x8000);
    /* a #PF while delivering a #PF is a #DF as well */
    poke64(IDT_BASE + EXC_PF * 8, mkgate(SEL_CODE0, 0x6000, 14, 0));
    poke32(0x10000, 0x11000 | 3);               /* PD: 0-4M -> PT 0x11000 */
    for (int i = 0; i < 1024; i++)
        poke32(0x11000 + i * 4, (i * 0x1000) | 3);
    poke32(0x11000 + 6 * 4, 0);                 /* 0x6000 .. not present */
    poke32(0x11000 + 7 * 4, 0);                 /* stack page 0x7000 too */
    cpu->s.cr3 = 0x10000;
    cpu_write_cr(cpu, 0, cpu->s.cr0 | CR0_PG);
    cpu->s.gpr[R_SP] = 0x7800;
    cpu_deliver_event(cpu, EXC_PF, EV_EXCEPTION, true, 2, 0x1000);
    /* the push of the #PF frame faults (#PF), then the #DF push too:
     * triple fault */
    assert_true(cpu->shutdown);
    assert_int_equal(cpu->exc_first, EXC_PF);
    assert_int_equal(cpu->exc_second, EXC_PF);
    assert_int_equal(cpu->exc_third, EXC_PF);
    assert_int_equal(cpu->s.cr2, 0x77fc);   /* the first push */
}

static void test_bad_inner_stack(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(3);
    /* a conforming ring-0 code segment: its handler runs at CPL 3 */
    poke64(GDT_BASE + 0x98, mkdesc(0, 0xfffff, 0x9e, 0xc));
    idt32(0x20, SEL_CODE0, 0x10000, 14, 0);
    idt32(EXC_TS, 0x98, 0x11000, 14, 0);
    poke32(TSS_A + 4, 0x9000);
    poke16(TSS_A + 8, SEL_DATA3);   /* RPL 3 for ring 0: #TS(sel | EXT) */
    cpu->s.gpr[R_SP] = 0x7000;
    cpu_deliver_event(cpu, 0x20, EV_EXTINT, false, 0, 0x401000);
    assert_int_equal(cpu->cpl, 3);
    assert_int_equal(cpu->s.seg[S_CS].selector, 0x9b);
    assert_int_equal(cpu->s.rip, 0x11000);
    assert_int_equal(cpu->s.gpr[R_SP], 0x7000 - 16);
    assert_int_equal(peek32(0x7000 - 16), SEL_DATA3 - 3 + 1);
    assert_int_equal(peek32(0x7000 - 12), 0x401000);
    /* a not-present stack segment: #SS(sel | EXT) */
    env_prot(3);
    cpu->s.gpr[R_SP] = 0x7000;
    idt32(EXC_SS, 0x98, 0x12000, 14, 0);
    poke64(GDT_BASE + 0xa0, mkdesc(0, 0xfffff, 0x12, 0xc));
    poke16(TSS_A + 8, 0xa0);
    cpu_deliver_event(cpu, 0x20, EV_EXTINT, false, 0, 0x401000);
    assert_int_equal(cpu->s.rip, 0x12000);
    assert_int_equal(peek32(0x7000 - 16), 0xa1);
    /* a software INT gets no EXT bit */
    env_prot(3);
    cpu->s.gpr[R_SP] = 0x7000;
    idt32(0x20, SEL_CODE0, 0x10000, 14, 3);
    cpu->insn_rip = 0x400ffe;
    cpu_deliver_event(cpu, 0x20, EV_SOFTINT, false, 0, 0x401000);
    assert_int_equal(cpu->s.rip, 0x12000);
    assert_int_equal(peek32(0x7000 - 16), 0xa0);
    assert_int_equal(peek32(0x7000 - 12), 0x400ffe);
}

static void fill_tss32(uint32_t base, uint32_t eip, uint32_t esp, uint16_t cs,
                       uint16_t ds)
{
    memset(env.ram + base, 0, 0x68);
    poke32(base + 0x1c, 0);         /* CR3 */
    poke32(base + 0x20, eip);
    poke32(base + 0x24, FL_FIXED1 | FL_CF);
    poke32(base + 0x28, 0xaaaa);    /* EAX */
    poke32(base + 0x38, esp);
    poke16(base + 0x48, ds);        /* ES */
    poke16(base + 0x4c, cs);
    poke16(base + 0x50, ds);        /* SS */
    poke16(base + 0x54, ds);        /* DS */
}

static void test_task_switch(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(0);
    fill_tss32(TSS_B, 0x7777, 0x6000, SEL_CODE0, SEL_DATA0);
    cpu->s.gpr[R_AX] = 0x1111;
    cpu->s.gpr[R_SP] = 0x5000;
    cpu->s.rip = 0x4321;
    cpu_far_call(cpu, SEL_TSS_B, 0, 4);
    assert_int_equal(cpu->s.tr.selector, SEL_TSS_B);
    assert_int_equal(cpu->s.rip, 0x7777);
    assert_int_equal(cpu->s.gpr[R_AX], 0xaaaa);
    assert_int_equal(cpu->s.gpr[R_SP], 0x6000);
    assert_true(cpu_get_rflags(cpu) & FL_NT);
    assert_true(cpu_get_rflags(cpu) & FL_CF);
    assert_true(cpu->s.cr0 & CR0_TS);
    assert_int_equal(peek16(TSS_B), SEL_TSS_A);            /* back link */
    assert_int_equal(env.ram[GDT_BASE + 0x40 + 5] & 0xf, 11);  /* busy */
    assert_int_equal(env.ram[GDT_BASE + 0x38 + 5] & 0xf, 11);  /* still */
    assert_int_equal(peek32(TSS_A + 0x20), 0x4321);         /* saved EIP */
    assert_int_equal(peek32(TSS_A + 0x28), 0x1111);         /* saved EAX */
    assert_int_equal(peek32(TSS_A + 0x38), 0x5000);
    /* a CALL to a busy TSS is #GP(sel) */
    env_seg(S_CS, SEL_CODE0);
    assert_int_equal(CATCH(cpu_far_call(cpu, SEL_TSS_B, 0, 4)), EXC_GP);
    assert_int_equal(cpu->s.exception_error, SEL_TSS_B);
    /* IRET with NT returns to task A */
    cpu_iret(cpu, 4);
    assert_int_equal(cpu->s.tr.selector, SEL_TSS_A);
    assert_int_equal(cpu->s.rip, 0x4321);
    assert_int_equal(cpu->s.gpr[R_AX], 0x1111);
    assert_int_equal(cpu->s.gpr[R_SP], 0x5000);
    assert_int_equal(env.ram[GDT_BASE + 0x40 + 5] & 0xf, 9);   /* free */
    assert_false(peek32(TSS_B + 0x24) & FL_NT);
    /* an interrupt through a task gate with an error code */
    idt32(EXC_GP, SEL_TSS_B, 0, 5, 0);
    fill_tss32(TSS_B, 0x7777, 0x6000, SEL_CODE0, SEL_DATA0);
    cpu_deliver_event(cpu, EXC_GP, EV_EXCEPTION, true, 0x44, 0x4321);
    assert_int_equal(cpu->s.tr.selector, SEL_TSS_B);
    assert_int_equal(cpu->s.gpr[R_SP], 0x6000 - 4);
    assert_int_equal(peek32(0x6000 - 4), 0x44);
    /* a TSS whose CS is bad: #TS(sel) delivered in the new task (whose
     * CS/SS from the TSS are ring-0 flat for the handler to run) */
    idt32(EXC_TS, SEL_CODE0, 0x3333, 14, 0);
    fill_tss32(TSS_A, 0x1000, 0x6000, SEL_DATA0, SEL_DATA0);
    poke64(GDT_BASE + 0x38, mkdesc(TSS_A, 0x67, 0x89, 0));
    assert_int_equal(CATCH(cpu_far_jmp(cpu, SEL_TSS_A, 0)), -1);
    assert_int_equal(cpu->s.tr.selector, SEL_TSS_A);
    assert_int_equal(cpu->s.rip, 0x3333);
    assert_int_equal(cpu->s.gpr[R_SP], 0x6000 - 16);
    assert_int_equal(peek32(0x6000 - 16), SEL_DATA0);    /* error code */
    assert_int_equal(peek32(0x6000 - 12), 0x1000);       /* the new EIP */
}

/* a TSS with the T bit: #DB in the new task before its first instruction,
 * DR6.BT set, the frame on the new task's stack */
static void test_task_switch_trap(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(0);
    idt32(EXC_DB, SEL_CODE0, 0x2222, 14, 0);
    fill_tss32(TSS_B, 0x7777, 0x6000, SEL_CODE0, SEL_DATA0);
    poke16(TSS_B + 0x64, 1);
    cpu->s.rip = 0x4321;
    cpu_far_jmp(cpu, SEL_TSS_B, 0);
    assert_int_equal(cpu->s.tr.selector, SEL_TSS_B);
    assert_int_equal(cpu->s.rip, 0x2222);
    assert_true(cpu->s.dr[6] & (1u << 15));
    assert_int_equal(cpu->s.gpr[R_SP], 0x6000 - 12);
    assert_int_equal(peek32(0x6000 - 12), 0x7777);      /* the new EIP */
    assert_int_equal(peek32(TSS_A + 0x20), 0x4321);     /* old task saved */
    /* without the T bit: no trap */
    fill_tss32(TSS_A, 0x5555, 0x5000, SEL_CODE0, SEL_DATA0);
    cpu->s.dr[6] = 0xffff0ff0;
    cpu_far_jmp(cpu, SEL_TSS_A, 0);
    assert_int_equal(cpu->s.rip, 0x5555);
    assert_false(cpu->s.dr[6] & (1u << 15));
}

static void test_io_bitmap(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(3);
    poke16(TSS_A + 0x66, 0x68);     /* bitmap right after the TSS */
    cpu->s.tr.limit = 0x68 + 0x80;  /* ports 0-0x3ff */
    memset(env.ram + TSS_A + 0x68, 0xff, 0x80);
    env.ram[TSS_A + 0x68 + 0x60 / 8] = 0x01;   /* 0x61-0x67 allowed */
    assert_int_equal(CATCH(cpu_check_io(cpu, 0x60, 1)), EXC_GP);
    assert_int_equal(CATCH(cpu_check_io(cpu, 0x61, 1)), -1);
    assert_int_equal(CATCH(cpu_check_io(cpu, 0x61, 4)), -1);
    assert_int_equal(CATCH(cpu_check_io(cpu, 0x65, 4)), EXC_GP);
    assert_int_equal(CATCH(cpu_check_io(cpu, 0x400, 1)), EXC_GP);
    cpu_set_rflags(cpu, FL_FIXED1 | FL_IOPL);
    assert_int_equal(CATCH(cpu_check_io(cpu, 0x400, 1)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_real_mode_int, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_prot_ring_change, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_soft_int_dpl, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_v86_to_ring0, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_long_ist, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_double_fault, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_bad_inner_stack, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_task_switch, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_task_switch_trap, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_io_bitmap, env_setup, env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
