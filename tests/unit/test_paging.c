/* Unit tests of the page walk and the TLB (cpu/mmu.c): 32-bit paging with
 * 4 KiB and 4 MiB (PSE-36) pages, PAE with PDPTE checks and NX, 4-level
 * with 2 MiB and 1 GiB pages, U/S, R/W with CR0.WP, reserved bits, A/D
 * updates, #PF error codes and CR2, global pages across CR3 writes,
 * INVLPG of large pages, page
 * crossing accesses, MMIO through the TLB and the A20 gate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/cpu_env.h"

#define P 1u
#define RW 2u
#define US 4u
#define A 0x20u
#define D 0x40u
#define PS 0x80u
#define G 0x100u

#define PF_P 1u
#define PF_W 2u
#define PF_U 4u
#define PF_RSVD 8u
#define PF_ID 16u

static void set_cpl(int cpl)
{
    env.cpu.s.seg[S_SS].attr = (env.cpu.s.seg[S_SS].attr & ~0x60u) |
                               ((unsigned)cpl << 5);
    cpu_update_mode(&env.cpu);
}

static int xlate(uint64_t lin, unsigned acc, uint64_t *gpa, uint32_t *err)
{
    *err = 0xdead;
    return mmu_translate(&env.cpu, lin, acc, gpa, err, true);
}

/* 32-bit paging: PD at 0x1000, PT at 0x2000 for 0x00400000-0x007fffff */
static void paging32_on(void)
{
    struct cpu *cpu = &env.cpu;
    poke32(0x1000 + 1 * 4, 0x2000 | P | RW | US);
    cpu_write_cr(cpu, 0, CR0_PE);
    cpu_write_cr(cpu, 3, 0x1000);
    cpu_write_cr(cpu, 0, CR0_PE | CR0_PG);
}

static void test_32bit_4k(void **state)
{
    (void)state;
    uint64_t gpa;
    uint32_t err;
    paging32_on();
    poke32(0x2000 + 1 * 4, 0x5000 | P | RW | US);
    assert_int_equal(xlate(0x00401234, ACC_READ, &gpa, &err), 0);
    assert_int_equal(gpa, 0x5234);
    /* A set on both levels, D not on a read */
    assert_int_equal(peek32(0x1004) & (A | D), A);
    assert_int_equal(peek32(0x2004) & (A | D), A);
    assert_int_equal(xlate(0x00401234, ACC_WRITE, &gpa, &err), 0);
    assert_int_equal(peek32(0x2004) & (A | D), A | D);
    assert_int_equal(peek32(0x1004) & D, 0);

    /* not present: error code W/U bits, P clear */
    assert_int_equal(xlate(0x00402000, ACC_WRITE | ACC_USER, &gpa, &err), -1);
    assert_int_equal(err, PF_W | PF_U);
    assert_int_equal(xlate(0x00800000, ACC_READ, &gpa, &err), -1);
    assert_int_equal(err, 0);

    /* supervisor-only page */
    poke32(0x2000 + 2 * 4, 0x6000 | P | RW);
    assert_int_equal(xlate(0x00402000, ACC_READ | ACC_USER, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_U);
    set_cpl(3);
    assert_int_equal(xlate(0x00402000, ACC_READ, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_U);
    /* implicit supervisor accesses ignore CPL */
    assert_int_equal(xlate(0x00402000, ACC_SUPER, &gpa, &err), 0);
    set_cpl(0);

    /* read-only page: supervisor writes depend on CR0.WP */
    poke32(0x2000 + 3 * 4, 0x7000 | P | US);
    assert_int_equal(xlate(0x00403000, ACC_WRITE, &gpa, &err), 0);
    assert_int_equal(xlate(0x00403000, ACC_WRITE | ACC_USER, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_W | PF_U);
    cpu_write_cr(&env.cpu, 0, CR0_PE | CR0_PG | CR0_WP);
    assert_int_equal(xlate(0x00403000, ACC_WRITE, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_W);
    /* R/W of the PDE counts too */
    poke32(0x2000 + 3 * 4, 0x7000 | P | US | RW);
    poke32(0x1004, 0x2000 | P | US);
    assert_int_equal(xlate(0x00403000, ACC_WRITE, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_W);
}

static void test_smep(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    uint64_t gpa;
    uint32_t err;
    paging32_on();
    cpu->s.seg[S_CS].base = 0;                      /* flat 32-bit code */
    cpu->s.seg[S_CS].limit = 0xffffffff;
    cpu->s.seg[S_CS].attr |= SEG_ATTR_DB;
    cpu_update_mode(cpu);
    poke32(0x2000 + 1 * 4, 0x5000 | P | RW | US);   /* user page */
    poke32(0x2000 + 2 * 4, 0x6000 | P | RW);        /* supervisor page */
    assert_int_equal(xlate(0x00401000, ACC_EXEC, &gpa, &err), 0);
    /* fill the TLB, then turn SMEP on: the cached entry must not allow */
    uint8_t b[4];
    assert_int_equal(cpu_fetch_code(cpu, 0x00401000, b, 4), 4);
    cpu_write_cr(cpu, 4, CR4_SMEP);
    assert_int_equal(CATCH(cpu_fetch_code(cpu, 0x00401000, b, 4)), EXC_PF);
    assert_int_equal(cpu->s.exception_error, PF_P | PF_ID);
    assert_int_equal(xlate(0x00401000, ACC_EXEC, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_ID);
    /* user fetches and supervisor data reads still work */
    assert_int_equal(xlate(0x00401000, ACC_EXEC | ACC_USER, &gpa, &err), 0);
    assert_int_equal(xlate(0x00401000, ACC_READ, &gpa, &err), 0);
    assert_int_equal(xlate(0x00402000, ACC_EXEC, &gpa, &err), 0);
}

static void test_32bit_4m_pse36(void **state)
{
    (void)state;
    uint64_t gpa;
    uint32_t err;
    paging32_on();
    /* without CR4.PSE the PS bit is ignored: the PDE points to a table */
    poke32(0x1000 + 2 * 4, 0x00400000 | (0x12u << 13) | P | RW | PS);
    assert_int_equal(xlate(0x00812345, ACC_READ, &gpa, &err), -1);
    cpu_write_cr(&env.cpu, 4, CR4_PSE);
    assert_int_equal(xlate(0x00812345, ACC_READ, &gpa, &err), 0);
    assert_int_equal(gpa, 0x1200412345ull);
    assert_int_equal(peek32(0x1008) & A, A);
    /* bit 21 is reserved with 40 physical address bits */
    poke32(0x1000 + 2 * 4, 0x00c00000 | (1u << 21) | P | RW | PS);
    assert_int_equal(xlate(0x00812345, ACC_WRITE, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_W | PF_RSVD);
}

/* PAE: PDPT at 0x3000, PD at 0x4000, PT at 0x5000 */
static void paging_pae_on(void)
{
    struct cpu *cpu = &env.cpu;
    poke64(0x3000, 0x4000 | P);
    poke64(0x4000 + 2 * 8, 0x5000 | P | RW | US);  /* 0x00400000 */
    cpu_write_cr(cpu, 0, CR0_PE);
    cpu_write_cr(cpu, 4, CR4_PAE);
    cpu_write_cr(cpu, 3, 0x3000);
    cpu_write_cr(cpu, 0, CR0_PE | CR0_PG);
}

static void test_pae(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    uint64_t gpa;
    uint32_t err;
    paging_pae_on();
    poke64(0x5000 + 1 * 8, 0x00000012345000ull | P | RW | US);
    assert_int_equal(xlate(0x00401abc, ACC_READ, &gpa, &err), 0);
    assert_int_equal(gpa, 0x12345abcull);
    /* 2 MiB page */
    poke64(0x4000 + 3 * 8, 0x00000000e00000ull | P | RW | PS);
    assert_int_equal(xlate(0x00654321, ACC_WRITE, &gpa, &err), 0);
    assert_int_equal(gpa, 0xe54321ull);
    assert_int_equal(peek64(0x4018) & (A | D), A | D);
    /* reserved bits of a 2 MiB PDE (20:13) and high address bits */
    poke64(0x4000 + 3 * 8, 0x00000000e00000ull | (1u << 13) | P | RW | PS);
    assert_int_equal(xlate(0x00654321, ACC_READ, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_RSVD);
    poke64(0x5000 + 1 * 8, (1ull << 45) | 0x1000 | P | RW);
    assert_int_equal(xlate(0x00401abc, ACC_READ, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_RSVD);
    /* XD: reserved without EFER.NXE, enforced with it */
    poke64(0x5000 + 1 * 8, (1ull << 63) | 0x1000 | P | RW);
    assert_int_equal(xlate(0x00401abc, ACC_EXEC, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_RSVD);
    assert_int_equal(cpu_wrmsr(cpu, 0xc0000080, EFER_NXE), 0);
    assert_int_equal(xlate(0x00401abc, ACC_READ, &gpa, &err), 0);
    assert_int_equal(xlate(0x00401abc, ACC_EXEC, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_ID);
    /* PDPTE not present; PDPTE reserved bits make the CR3 load #GP */
    assert_int_equal(xlate(0x40000000, ACC_READ, &gpa, &err), -1);
    assert_int_equal(err, 0);
    poke64(0x3008, 0x6000 | P | RW);
    assert_int_equal(CATCH(cpu_write_cr(cpu, 3, 0x3000)), EXC_GP);
    assert_int_equal(cpu->s.cr3, 0x3000);
    /* the registers keep the old PDPTEs until CR3 is loaded again */
    assert_int_equal(xlate(0x40000000, ACC_READ, &gpa, &err), -1);
    poke64(0x3008, 0x6000 | P);
    poke64(0x6000, 0x200000 | P | PS);
    assert_int_equal(xlate(0x40000000, ACC_READ, &gpa, &err), -1);
    cpu_write_cr(cpu, 3, 0x3000);
    assert_int_equal(xlate(0x40000123, ACC_READ, &gpa, &err), 0);
    assert_int_equal(gpa, 0x200123);
}

/* 4-level: PML4 0x10000, PDPT 0x11000, PD 0x12000, PT 0x13000 */
static void paging_long_on(void)
{
    struct cpu *cpu = &env.cpu;
    poke64(0x10000 + 1 * 8, 0x11000 | P | RW | US);       /* 512 GiB.. */
    poke64(0x11000 + 0 * 8, 0x12000 | P | RW | US);
    poke64(0x12000 + 0 * 8, 0x13000 | P | RW | US);
    cpu_write_cr(cpu, 0, CR0_PE);
    cpu_write_cr(cpu, 4, CR4_PAE);
    cpu_write_cr(cpu, 3, 0x10000);
    assert_int_equal(cpu_wrmsr(cpu, 0xc0000080, EFER_LME | EFER_NXE), 0);
    cpu_write_cr(cpu, 0, CR0_PE | CR0_PG);
    assert_true(cpu->s.efer & EFER_LMA);
    assert_int_equal(cpu->mode, MODE_LONG_COMPAT);
}

static void test_long(void **state)
{
    (void)state;
    uint64_t gpa;
    uint32_t err;
    uint64_t base = 1ull << 39;
    paging_long_on();
    poke64(0x13000 + 5 * 8, 0x7000 | P | RW | US | (1ull << 63));
    assert_int_equal(xlate(base + 0x5123, ACC_READ, &gpa, &err), 0);
    assert_int_equal(gpa, 0x7123);
    assert_int_equal(peek64(0x10008) & A, A);
    assert_int_equal(peek64(0x11000) & A, A);
    assert_int_equal(xlate(base + 0x5123, ACC_EXEC | ACC_USER, &gpa, &err),
                     -1);
    assert_int_equal(err, PF_P | PF_U | PF_ID);
    /* 2 MiB and 1 GiB pages */
    poke64(0x12000 + 1 * 8, 0x600000 | P | RW | PS);
    assert_int_equal(xlate(base + 0x2fedcb, ACC_READ, &gpa, &err), 0);
    assert_int_equal(gpa, 0x6fedcb);
    poke64(0x11000 + 2 * 8, 0x40000000ull | P | RW | PS);
    assert_int_equal(xlate(base + 0x80000000ull + 0x3456789, ACC_WRITE, &gpa,
                           &err), 0);
    assert_int_equal(gpa, 0x43456789ull);
    assert_int_equal(peek64(0x11010) & (A | D), A | D);
    /* 1 GiB: bits 29:13 reserved; PML4E: PS reserved */
    poke64(0x11000 + 2 * 8, 0x40000000ull | (1u << 20) | P | RW | PS);
    assert_int_equal(xlate(base + 0x80000000ull, ACC_READ, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_RSVD);
    poke64(0x10000 + 2 * 8, 0x11000 | P | RW | PS);
    assert_int_equal(xlate(2 * base, ACC_READ, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_RSVD);
    /* bits 62:52 are ignored in 4-level paging, 51:40 reserved */
    poke64(0x13000 + 6 * 8, 0x7000 | P | (0x7ffull << 52));
    assert_int_equal(xlate(base + 0x6000, ACC_READ, &gpa, &err), 0);
    poke64(0x13000 + 6 * 8, 0x7000 | P | (1ull << 40));
    assert_int_equal(xlate(base + 0x6000, ACC_READ, &gpa, &err), -1);
    assert_int_equal(err, PF_P | PF_RSVD);
}

static void test_global_pages(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    paging32_on();
    cpu_write_cr(cpu, 4, CR4_PGE);
    poke32(0x2000 + 1 * 4, 0x5000 | P | RW | G);   /* global */
    poke32(0x2000 + 2 * 4, 0x6000 | P | RW);       /* not global */
    poke32(0x5000, 0x11111111);
    poke32(0x6000, 0x22222222);
    poke32(0x7000, 0x33333333);
    assert_int_equal(cpu_read_lin(cpu, 0x401000, 4, 0), 0x11111111);
    assert_int_equal(cpu_read_lin(cpu, 0x402000, 4, 0), 0x22222222);
    /* remap both to 0x7000: only a CR3 write drops the non-global one */
    poke32(0x2000 + 1 * 4, 0x7000 | P | RW | G);
    poke32(0x2000 + 2 * 4, 0x7000 | P | RW);
    assert_int_equal(cpu_read_lin(cpu, 0x402000, 4, 0), 0x22222222);
    cpu_write_cr(cpu, 3, 0x1000);
    assert_int_equal(cpu_read_lin(cpu, 0x401000, 4, 0), 0x11111111);
    assert_int_equal(cpu_read_lin(cpu, 0x402000, 4, 0), 0x33333333);
    mmu_invlpg(cpu, 0x401000);
    assert_int_equal(cpu_read_lin(cpu, 0x401000, 4, 0), 0x33333333);
    /* toggling CR4.PGE flushes globals too */
    poke32(0x2000 + 1 * 4, 0x5000 | P | RW | G);
    cpu_write_cr(cpu, 3, 0x1000);
    assert_int_equal(cpu_read_lin(cpu, 0x401000, 4, 0), 0x33333333);
    cpu_write_cr(cpu, 4, 0);
    assert_int_equal(cpu_read_lin(cpu, 0x401000, 4, 0), 0x11111111);
}

/* INVLPG of any address in a large page drops all of its slices; large
 * pages in another 1 GiB stay (kernel text across user INVLPGs) */
static void test_invlpg_large(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    paging32_on();
    cpu_write_cr(cpu, 4, CR4_PSE);
    poke32(0x1000 + 2 * 4, 0x00400000 | P | RW | PS);     /* 0x00800000 */
    poke32(0x1000 + 256 * 4, 0x00400000 | P | RW | PS);   /* 0x40000000 */
    poke32(0x405000, 0x55555555);
    poke32(0x407000, 0x77777777);
    poke32(0x5000, 0xaaaaaaaa);
    poke32(0x7000, 0xbbbbbbbb);
    assert_int_equal(cpu_read_lin(cpu, 0x805000, 4, 0), 0x55555555);
    assert_int_equal(cpu_read_lin(cpu, 0x807000, 4, 0), 0x77777777);
    assert_int_equal(cpu_read_lin(cpu, 0x40007000, 4, 0), 0x77777777);
    /* both now map physical 0: the TLB keeps the old slices until... */
    poke32(0x1000 + 2 * 4, P | RW | PS);
    poke32(0x1000 + 256 * 4, P | RW | PS);
    assert_int_equal(cpu_read_lin(cpu, 0x805000, 4, 0), 0x55555555);
    /* ...an INVLPG anywhere in the large page */
    mmu_invlpg(cpu, 0x80f000);
    assert_int_equal(cpu_read_lin(cpu, 0x805000, 4, 0), 0xaaaaaaaa);
    assert_int_equal(cpu_read_lin(cpu, 0x807000, 4, 0), 0xbbbbbbbb);
    assert_int_equal(cpu_read_lin(cpu, 0x40007000, 4, 0), 0x77777777);
    mmu_invlpg(cpu, 0x40000000);
    assert_int_equal(cpu_read_lin(cpu, 0x40007000, 4, 0), 0xbbbbbbbb);
}

static void test_dirty_through_tlb(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    paging32_on();
    poke32(0x2000 + 1 * 4, 0x5000 | P | RW);
    assert_int_equal(cpu_read_lin(cpu, 0x401010, 4, 0), 0);
    assert_int_equal(peek32(0x2004) & D, 0);
    cpu_write_lin(cpu, 0x401010, 0xabcd, 4, 0);
    assert_int_equal(peek32(0x2004) & D, D);
    assert_int_equal(peek32(0x5010), 0xabcd);
}

static void test_page_crossing(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    paging32_on();
    poke32(0x2000 + 1 * 4, 0x5000 | P | RW);
    poke32(0x2000 + 2 * 4, 0x9000 | P);            /* read-only */
    poke32(0x5ffc, 0xaaaaaaaa);
    poke32(0x9000, 0xbbbbbbbb);
    cpu_write_cr(cpu, 0, CR0_PE | CR0_PG | CR0_WP);
    assert_int_equal(cpu_read_lin(cpu, 0x401ffe, 4, 0), 0xbbbbaaaa);
    /* the write faults on the second page and changes nothing */
    assert_int_equal(CATCH(cpu_write_lin(cpu, 0x401ffe, 0x12345678, 4, 0)),
                     EXC_PF);
    assert_int_equal(cpu->s.exception_error, PF_P | PF_W);
    assert_int_equal(cpu->s.cr2, 0x402000);
    assert_int_equal(peek32(0x5ffc), 0xaaaaaaaa);
    poke32(0x2000 + 2 * 4, 0x9000 | P | RW);
    cpu_write_lin(cpu, 0x401ffe, 0x12345678, 4, 0);
    assert_int_equal(peek32(0x5ffc), 0x5678aaaa);
    assert_int_equal(peek16(0x9000), 0x1234);
    /* a read from a missing page: #PF with CR2 and P=0 */
    assert_int_equal(CATCH(cpu_read_lin(cpu, 0x403004, 4, ACC_USER)), EXC_PF);
    assert_int_equal(cpu->s.exception_error, PF_U);
    assert_int_equal(cpu->s.cr2, 0x403004);
}

static uint64_t mmio_last_addr, mmio_last_val;

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    (void)opaque;
    return 0x1000 + off + size;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    (void)opaque;
    (void)size;
    mmio_last_addr = off;
    mmio_last_val = v;
}

static const struct io_ops mmio_ops = { mmio_read, mmio_write };

static void test_mmio_and_a20(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    mem_map_add_mmio(env.m.mem, "dev", 0xfee00000, 0x1000, &mmio_ops, NULL, 1);
    assert_int_equal(cpu_read_lin(cpu, 0xfee00020, 4, 0), 0x1024);
    cpu_write_lin(cpu, 0xfee00030, 0x77, 4, 0);
    assert_int_equal(mmio_last_addr, 0x30);
    assert_int_equal(mmio_last_val, 0x77);

    poke32(0x100010, 0x12345678);
    poke32(0x000010, 0x9abcdef0);
    assert_int_equal(cpu_read_lin(cpu, 0x100010, 4, 0), 0x12345678);
    mem_map_set_a20(env.m.mem, false);
    assert_int_equal(cpu_read_lin(cpu, 0x100010, 4, 0), 0x9abcdef0);
    assert_int_equal(cpu_phys_read(cpu, 0x100010, 4), 0x9abcdef0);
    mem_map_set_a20(env.m.mem, true);
    assert_int_equal(cpu_read_lin(cpu, 0x100010, 4, 0), 0x12345678);
}

static void test_alignment_check(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    cpu_write_cr(cpu, 0, CR0_PE | CR0_AM);
    set_cpl(3);
    cpu_read_lin(cpu, 0x1001, 4, 0);          /* AC clear: no check */
    cpu_set_rflags(cpu, FL_FIXED1 | FL_AC);
    assert_int_equal(CATCH(cpu_read_lin(cpu, 0x1001, 4, 0)), EXC_AC);
    assert_int_equal(cpu->s.exception_error, 0);
    assert_int_equal(CATCH(cpu_write_lin(cpu, 0x1002, 0, 4, 0)), EXC_AC);
    cpu_read_lin(cpu, 0x1004, 4, 0);
    cpu_read_lin(cpu, 0x1001, 1, 0);
    cpu_read_lin(cpu, 0x1001, 4, ACC_SUPER);  /* implicit: never checked */
    set_cpl(0);
    cpu_read_lin(cpu, 0x1001, 4, 0);          /* ring 0: never checked */
}

static bool code_page_5000(struct cpu *cpu, uint64_t gpa_page)
{
    (void)cpu;
    return gpa_page == 0x5000;
}

static uint64_t code_write_gpa;

static void code_written(struct cpu *cpu, uint64_t gpa, uint64_t len)
{
    (void)cpu;
    (void)len;
    code_write_gpa = gpa;
}

static void test_code_write_hook(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    cpu->code_page = code_page_5000;
    cpu->on_code_write = code_written;
    mmu_flush_phys_page(cpu, 0x5000);
    cpu_write_lin(cpu, 0x5008, 0x90, 1, 0);
    assert_int_equal(code_write_gpa, 0x5008);
    assert_int_equal(env.ram[0x5008], 0x90);
    code_write_gpa = 0;
    cpu_write_lin(cpu, 0x6008, 0x90, 1, 0);
    assert_int_equal(code_write_gpa, 0);
}

static struct cpu cpu2;
static uint8_t overlay[4096];

static void test_map_change_flushes_all(void **state)
{
    (void)state;
    struct cpu *cpu = &env.cpu;
    cpu_init(&cpu2, &env.m, 1);
    poke32(0x8000, 0x11111111);
    memset(overlay, 0x22, sizeof(overlay));
    assert_int_equal(cpu_read_lin(cpu, 0x8000, 4, 0), 0x11111111);
    assert_int_equal(cpu_read_lin(&cpu2, 0x8000, 4, 0), 0x11111111);
    /* a RAM region on top: both TLBs must drop their old host pointer */
    struct mem_region *r = mem_map_add_ram(env.m.mem, "overlay", 0x8000,
                                           0x1000, overlay, 5);
    assert_int_equal(cpu_read_lin(cpu, 0x8000, 4, 0), 0x22222222);
    assert_int_equal(cpu_read_lin(&cpu2, 0x8000, 4, 0), 0x22222222);
    cpu_destroy(&cpu2);
    mem_map_remove(env.m.mem, r);
    assert_int_equal(cpu_read_lin(cpu, 0x8000, 4, 0), 0x11111111);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_32bit_4k, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_32bit_4m_pse36, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_invlpg_large, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_smep, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_pae, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_long, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_global_pages, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_dirty_through_tlb, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_page_crossing, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_mmio_and_a20, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_alignment_check, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_code_write_hook, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_map_change_flushes_all, env_setup,
                                        env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
