/* Unit tests of the system registers (cpu/system.c, cpu/cpuid.c,
 * cpu/msr.c, cpu/x86_state.c): the RESET state, CR0/CR3/CR4 checks and
 * entering and leaving IA-32e mode, DR4/DR5 aliasing and DR6/DR7 fixed
 * bits, CPUID leaves, MSR validity and the TSC on the virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/cpu_env.h"

#define MSR_EFER 0xc0000080u

static void test_reset_state(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    uint32_t r[4];
    assert_int_equal(cpu->s.cr0, 0x60000010);
    assert_int_equal(cpu->s.seg[S_CS].selector, 0xf000);
    assert_int_equal(cpu->s.seg[S_CS].base, 0xffff0000);
    assert_int_equal(cpu->s.rip, 0xfff0);
    assert_int_equal(cpu_get_rflags(cpu), 2);
    assert_int_equal(cpu->s.dr[6], 0xffff0ff0);
    assert_int_equal(cpu->s.dr[7], 0x400);
    assert_int_equal(cpu->code_size, 2);
    cpu_cpuid(cpu, 1, 0, r);
    assert_int_equal(cpu->s.gpr[R_DX], r[0]);
    assert_int_equal(cpu->mode, MODE_REAL);
}

static void test_cr0_cr4(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    /* PG without PE, NW without CD, reserved bits */
    assert_int_equal(CATCH(cpu_write_cr(cpu, 0, CR0_PG)), EXC_GP);
    assert_int_equal(CATCH(cpu_write_cr(cpu, 0, CR0_NW)), EXC_GP);
    assert_int_equal(CATCH(cpu_write_cr(cpu, 0, 1u << 8)), EXC_GP);
    cpu_write_cr(cpu, 0, CR0_PE);
    assert_int_equal(cpu_read_cr(cpu, 0), CR0_PE | CR0_ET);  /* ET fixed */
    assert_int_equal(cpu->mode, MODE_PROT);
    assert_int_equal(CATCH(cpu_write_cr(cpu, 4, CR4_VME)), EXC_GP);
    assert_int_equal(CATCH(cpu_write_cr(cpu, 4, CR4_SMAP)), EXC_GP);
    cpu_write_cr(cpu, 4, CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_FSGSBASE);
    assert_int_equal(cpu->s.cr4,
                     CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_FSGSBASE);
    /* CPL 3 may not touch control registers */
    env.cpu.s.seg[S_SS].attr |= 3u << 5;
    cpu_update_mode(cpu);
    assert_int_equal(CATCH(cpu_read_cr(cpu, 0)), EXC_GP);
    env.cpu.s.seg[S_SS].attr &= ~(3u << 5);
    cpu_update_mode(cpu);
    assert_int_equal(CATCH(cpu_write_cr(cpu, 5, 0)), EXC_UD);
}

static void test_long_mode_entry(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    env_prot(0);
    poke64(0x10000, 0x11000 | 3);
    cpu_write_cr(cpu, 3, 0x10000);
    assert_int_equal(cpu_wrmsr(cpu, MSR_EFER, EFER_LME), 0);
    /* LME without PAE: enabling paging #GPs */
    assert_int_equal(CATCH(cpu_write_cr(cpu, 0, CR0_PE | CR0_PG)), EXC_GP);
    cpu_write_cr(cpu, 4, CR4_PAE);
    cpu_write_cr(cpu, 0, CR0_PE | CR0_PG);
    assert_true(cpu->s.efer & EFER_LMA);
    assert_int_equal(cpu->mode, MODE_LONG_COMPAT);
    /* LME is frozen while paging is on; PAE may not be cleared */
    assert_int_equal(cpu_wrmsr(cpu, MSR_EFER, 0), -1);
    assert_int_equal(CATCH(cpu_write_cr(cpu, 4, 0)), EXC_GP);
    env_seg(S_CS, SEL_CODE64_0);
    cpu_update_mode(cpu);
    assert_int_equal(cpu->mode, MODE_LONG64);
    /* in 64-bit mode: CR3 reserved bits, CR8, no leaving long mode */
    assert_int_equal(CATCH(cpu_write_cr(cpu, 3, 1ull << 52)), EXC_GP);
    assert_int_equal(CATCH(cpu_write_cr(cpu, 8, 16)), EXC_GP);
    cpu_write_cr(cpu, 8, 5);
    assert_int_equal(cpu_read_cr(cpu, 8), 5);
    assert_int_equal(CATCH(cpu_write_cr(cpu, 0, CR0_PE)), EXC_GP);
    assert_int_equal(CATCH(cpu_write_cr(cpu, 0, (1ull << 32) | CR0_PE |
                                                 CR0_PG)), EXC_GP);
    /* from compatibility mode paging can be turned off: LMA clears */
    env_seg(S_CS, SEL_CODE0);
    cpu_update_mode(cpu);
    cpu_write_cr(cpu, 0, CR0_PE);
    assert_false(cpu->s.efer & EFER_LMA);
    assert_int_equal(cpu->mode, MODE_PROT);
}

static void test_debug_regs(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    cpu_write_dr(cpu, 0, 0x1234);
    assert_int_equal(cpu_read_dr(cpu, 0), 0x1234);
    cpu_write_dr(cpu, 6, 0);
    assert_int_equal(cpu_read_dr(cpu, 6), 0xffff0ff0);
    assert_int_equal(cpu_read_dr(cpu, 4), 0xffff0ff0);   /* DR4 = DR6 */
    cpu_write_dr(cpu, 5, 0x3);
    assert_int_equal(cpu_read_dr(cpu, 7), 0x403);
    cpu_write_cr(cpu, 4, CR4_DE);
    assert_int_equal(CATCH(cpu_read_dr(cpu, 4)), EXC_UD);
    /* general detect: the next access is #DB with DR6.BD */
    cpu_write_dr(cpu, 7, 1u << 13);
    assert_int_equal(CATCH(cpu_read_dr(cpu, 0)), EXC_DB);
    assert_true(cpu->s.dr[6] & (1u << 13));
    assert_int_equal(cpu_read_dr(cpu, 0), 0x1234);
}

static void test_cpuid(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    uint32_t r[4];
    char vendor[13] = { 0 };
    cpu_cpuid(cpu, 0, 0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    assert_string_equal(vendor, "GenuineIntel");
    uint32_t max = r[0];
    cpu_cpuid(cpu, 1, 0, r);
    assert_int_equal((r[0] >> 8) & 0xf, 6);            /* family */
    assert_true(r[3] & (1u << 0));                       /* fpu */
    assert_true(r[3] & (1u << 26));                      /* sse2 */
    assert_false(r[3] & (1u << 1));                      /* no vme */
    assert_false(r[2] & (1u << 27));                     /* osxsave off */
    assert_true(r[2] & (1u << 31));                      /* hypervisor */
    cpu_write_cr(cpu, 4, CR4_OSXSAVE);
    cpu_cpuid(cpu, 1, 0, r);
    assert_true(r[2] & (1u << 27));
    /* past the maximum: the highest basic leaf */
    uint32_t hi[4];
    cpu_cpuid(cpu, max, 0, r);
    cpu_cpuid(cpu, max + 1, 0, hi);
    assert_memory_equal(r, hi, sizeof(r));
    cpu_cpuid(cpu, 7, 0, r);
    assert_int_equal(r[1], (1u << 0) | (1u << 7) | (1u << 18));
    /* fsgsbase smep rdseed */
    assert_int_equal(r[2], 1u << 2);                     /* umip */
    assert_true(r[3] & (1u << 29));                      /* arch_capabilities */
    cpu_cpuid(cpu, 0xd, 0, r);
    assert_int_equal(r[0], 3);
    assert_int_equal(r[2], 576);
    cpu_cpuid(cpu, 0x80000000u, 0, r);
    assert_true(r[0] >= 0x80000008u);
    cpu_cpuid(cpu, 0x80000001u, 0, r);
    assert_true(r[3] & (1u << 29));                      /* lm */
    assert_true(r[3] & (1u << 20));                      /* nx */
    cpu_cpuid(cpu, 0x80000007u, 0, r);
    assert_int_equal(r[3], 1u << 8);                     /* invariant TSC */
    cpu_cpuid(cpu, 0x80000008u, 0, r);
    assert_int_equal(r[0] & 0xff, 40);
    assert_int_equal((r[0] >> 8) & 0xff, 48);
    char brand[49] = { 0 };
    for (uint32_t l = 0; l < 3; l++) {
        cpu_cpuid(cpu, 0x80000002u + l, 0, r);
        memcpy(brand + l * 16, r, 16);
    }
    assert_string_equal(brand, "tandem virtual CPU");
    /* topology with 4 CPUs: 2 bits of core ID, 4 logical processors */
    env.m.ncpus = 4;
    cpu_cpuid(cpu, 0xb, 1, r);
    assert_int_equal(r[0], 2);
    assert_int_equal(r[1], 4);
    cpu_cpuid(cpu, 4, 0, r);
    assert_int_equal(r[0] >> 26, 3);
    cpu_cpuid(cpu, 1, 0, r);
    assert_true(r[3] & (1u << 28));
}

static void test_msrs(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    uint64_t v;
    assert_int_equal(cpu_rdmsr(cpu, 0x12345, &v), -1);
    assert_int_equal(cpu_wrmsr(cpu, 0x12345, 0), -1);
    assert_int_equal(cpu_wrmsr(cpu, MSR_EFER, 1u << 2), -1);
    assert_int_equal(cpu_wrmsr(cpu, MSR_EFER, EFER_SCE | EFER_NXE), 0);
    assert_int_equal(cpu_rdmsr(cpu, MSR_EFER, &v), 0);
    assert_int_equal(v, EFER_SCE | EFER_NXE);
    /* canonical addresses */
    assert_int_equal(cpu_wrmsr(cpu, 0xc0000082u, 0x0000800000000000ull), -1);
    assert_int_equal(cpu_wrmsr(cpu, 0xc0000082u, 0xffff800000000000ull), 0);
    assert_int_equal(cpu_wrmsr(cpu, 0xc0000100u, 0x1000), 0);
    assert_int_equal(cpu->s.seg[S_FS].base, 0x1000);
    /* PAT and MTRR memory types */
    assert_int_equal(cpu_rdmsr(cpu, 0x277, &v), 0);
    assert_int_equal(v, 0x0007040600070406ull);
    assert_int_equal(cpu_wrmsr(cpu, 0x277, 0x0000000000000002ull), -1);
    assert_int_equal(cpu_wrmsr(cpu, 0x277, 0x0000000000000007ull), 0);
    assert_int_equal(cpu_rdmsr(cpu, 0xfe, &v), 0);
    assert_int_equal(v & 0xff, 8);
    assert_int_equal(cpu_wrmsr(cpu, 0x2ff, 0xc06), 0);
    assert_int_equal(cpu_wrmsr(cpu, 0x2ff, 0x1006), -1);
    assert_int_equal(cpu_wrmsr(cpu, 0x250, 0x0606060606060606ull), 0);
    assert_int_equal(cpu_wrmsr(cpu, 0x259, 0x0606060606060603ull), -1);
    assert_int_equal(cpu_wrmsr(cpu, 0x201, 0xfff0000800ull), 0);
    assert_int_equal(cpu_wrmsr(cpu, 0x201, 0xfff0000801ull), -1);
    assert_int_equal(cpu_rdmsr(cpu, 0x201, &v), 0);
    assert_int_equal(v, 0xfff0000800ull);
    /* read-only ARCH_CAPABILITIES: RDCL_NO */
    assert_int_equal(cpu_rdmsr(cpu, 0x10a, &v), 0);
    assert_true(v & 1);
    assert_int_equal(cpu_wrmsr(cpu, 0x10a, 0), -1);
    /* no APIC on the link: its MSRs #GP */
    assert_int_equal(cpu_rdmsr(cpu, 0x1b, &v), -1);
    assert_int_equal(cpu_wrmsr(cpu, 0xc0000103u, 1ull << 32), -1);
}

static void test_tsc(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    uint64_t t0 = cpu_rdtsc(cpu);
    vclock_advance(env.m.clock, 1000);
    assert_int_equal(cpu_rdtsc(cpu) - t0, 1000 * VCLOCK_TSC_HZ / NS_PER_SEC);
    assert_int_equal(cpu_wrmsr(cpu, 0x10, 1000000), 0);
    assert_int_equal(cpu_rdtsc(cpu), 1000000);
    assert_int_equal(env.m.cpu_link[0].tsc_offset, cpu->tsc_offset);
    vclock_advance(env.m.clock, 500);
    assert_int_equal(cpu_rdtsc(cpu), 1000000 + 500 * VCLOCK_TSC_HZ / NS_PER_SEC);
    /* the state carries the TSC */
    struct x86_state s;
    cpu_get_state(cpu, &s);
    vclock_advance(env.m.clock, 100000);
    cpu_set_state(cpu, &s);
    assert_int_equal(cpu_rdtsc(cpu), s.tsc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_state, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_cr0_cr4, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_long_mode_entry, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_debug_regs, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_cpuid, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_msrs, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_tsc, env_setup, env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
