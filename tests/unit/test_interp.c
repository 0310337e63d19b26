/* Interpreter tests: small programs (assembled with nasm; the source is
 * beside each) run by interp_step on a struct cpu over a real memory map
 * and port bus, checking registers, flags and memory afterwards: string
 * instructions with REP and DF, CMPXCHG8B, ENTER nesting, #DE through the
 * real-mode IVT, IN/OUT to a fake device, RIP-relative addressing in
 * 64-bit mode, self-modifying code against the decoded-instruction cache,
 * an interruptible REP STOSB, flags, LOOP/CALL/PUSHA in 16-bit mode, an
 * external interrupt through the vCPU link with the STI shadow, and a
 * read-modify-write that faults at its write leaving the flags alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include "cpu_env.h"
#include "cpu/boot_state.h"
#include "cpu/interp.h"
#include "vm/accel.h"
#include "vm/port_bus.h"
#include "vm/vcpu_link.h"

#define CODE 0x1000

/*
 * bits 32
 *     mov esi, 0x2000
 *     mov edi, 0x3000
 *     mov ecx, 10
 *     cld
 *     rep movsb
 *     mov esi, 0x2009
 *     mov edi, 0x4009
 *     mov ecx, 10
 *     std
 *     rep movsb
 *     cld
 *     hlt
 */
static const uint8_t prog_movsb[] = {
    0xbe, 0x00, 0x20, 0x00, 0x00, 0xbf, 0x00, 0x30, 0x00, 0x00, 0xb9, 0x0a,
    0x00, 0x00, 0x00, 0xfc, 0xf3, 0xa4, 0xbe, 0x09, 0x20, 0x00, 0x00, 0xbf,
    0x09, 0x40, 0x00, 0x00, 0xb9, 0x0a, 0x00, 0x00, 0x00, 0xfd, 0xf3, 0xa4,
    0xfc, 0xf4
};
/*
 * bits 32
 *     mov eax, 0x11111111
 *     mov edx, 0x22222222
 *     mov ebx, 0x33333333
 *     mov ecx, 0x44444444
 *     lock cmpxchg8b [0x2000]
 *     setz [0x2100]
 *     mov eax, 0
 *     mov edx, 0
 *     cmpxchg8b [0x2000]
 *     setz [0x2101]
 *     hlt
 */
static const uint8_t prog_cx8[] = {
    0xb8, 0x11, 0x11, 0x11, 0x11, 0xba, 0x22, 0x22, 0x22, 0x22, 0xbb, 0x33,
    0x33, 0x33, 0x33, 0xb9, 0x44, 0x44, 0x44, 0x44, 0xf0, 0x0f, 0xc7, 0x0d,
    0x00, 0x20, 0x00, 0x00, 0x0f, 0x94, 0x05, 0x00, 0x21, 0x00, 0x00, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0xba, 0x00, 0x00, 0x00, 0x00, 0x0f, 0xc7, 0x0d,
    0x00, 0x20, 0x00, 0x00, 0x0f, 0x94, 0x05, 0x01, 0x21, 0x00, 0x00, 0xf4
};
/*
 * bits 32
 *     mov esp, 0x8000
 *     mov ebp, 0x9000
 *     enter 16, 3
 *     mov [0x2000], ebp
 *     mov [0x2004], esp
 *     leave
 *     mov [0x2008], ebp
 *     mov [0x200c], esp
 *     hlt
 */
static const uint8_t prog_enter[] = {
    0xbc, 0x00, 0x80, 0x00, 0x00, 0xbd, 0x00, 0x90, 0x00, 0x00, 0xc8, 0x10,
    0x00, 0x03, 0x89, 0x2d, 0x00, 0x20, 0x00, 0x00, 0x89, 0x25, 0x04, 0x20,
    0x00, 0x00, 0xc9, 0x89, 0x2d, 0x08, 0x20, 0x00, 0x00, 0x89, 0x25, 0x0c,
    0x20, 0x00, 0x00, 0xf4
};
/*
 * bits 16
 *     mov word [0], handler
 *     mov word [2], 0
 *     mov ax, 100
 *     xor bl, bl
 *     div bl
 *     mov word [0x2002], 0xbad
 *     hlt
 * handler:
 *     mov word [0x2000], 0x600d
 *     pop ax
 *     mov [0x2004], ax
 *     hlt
 */
static const uint8_t prog_divde[] = {
    0xc7, 0x06, 0x00, 0x00, 0x1a, 0x10, 0xc7, 0x06, 0x02, 0x00, 0x00, 0x00,
    0xb8, 0x64, 0x00, 0x30, 0xdb, 0xf6, 0xf3, 0xc7, 0x06, 0x02, 0x20, 0xad,
    0x0b, 0xf4, 0xc7, 0x06, 0x00, 0x20, 0x0d, 0x60, 0x58, 0xa3, 0x04, 0x20,
    0xf4
};
/*
 * bits 32
 *     mov dx, 0x1234
 *     mov eax, 0xdeadbeef
 *     out dx, eax
 *     mov al, 0x5a
 *     out 0x80, al
 *     in eax, dx
 *     mov [0x2000], eax
 *     in al, 0x81
 *     mov [0x2004], al
 *     hlt
 */
static const uint8_t prog_io[] = {
    0x66, 0xba, 0x34, 0x12, 0xb8, 0xef, 0xbe, 0xad, 0xde, 0xef, 0xb0, 0x5a,
    0xe6, 0x80, 0xed, 0xa3, 0x00, 0x20, 0x00, 0x00, 0xe4, 0x81, 0xa2, 0x04,
    0x20, 0x00, 0x00, 0xf4
};
/*
 * bits 64
 *     mov rax, [rel data]
 *     lea rbx, [rel data]
 *     mov rcx, 0x123456789
 *     push rcx
 *     pop rdx
 *     add rdx, rax
 *     hlt
 * data: dq 0x1122334455667788
 */
static const uint8_t prog_riprel[] = {
    0x48, 0x8b, 0x05, 0x17, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x1d, 0x10, 0x00,
    0x00, 0x00, 0x48, 0xb9, 0x89, 0x67, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00,
    0x51, 0x5a, 0x48, 0x01, 0xc2, 0xf4, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33,
    0x22, 0x11
};
/*
 * bits 32
 *     mov ecx, 3
 * again:
 *     mov byte [patch + 1], 0x42
 * patch:
 *     mov al, 0x11
 *     mov [0x2000], al
 *     mov byte [patch2 + 1], 0x77
 *     jmp patch2
 * patch2:
 *     mov bl, 0x11
 *     hlt
 */
static const uint8_t prog_smc[] = {
    0xb9, 0x03, 0x00, 0x00, 0x00, 0xc6, 0x05, 0x0d, 0x10, 0x00, 0x00, 0x42,
    0xb0, 0x11, 0xa2, 0x00, 0x20, 0x00, 0x00, 0xc6, 0x05, 0x1d, 0x10, 0x00,
    0x00, 0x77, 0xeb, 0x00, 0xb3, 0x11, 0xf4
};
/*
 * bits 32
 *     mov edi, 0x10000
 *     mov ecx, 200000
 *     mov al, 0xab
 *     rep stosb
 *     hlt
 */
static const uint8_t prog_stos[] = {
    0xbf, 0x00, 0x00, 0x01, 0x00, 0xb9, 0x40, 0x0d, 0x03, 0x00, 0xb0, 0xab,
    0xf3, 0xaa, 0xf4
};
/*
 * bits 32
 *     mov eax, 0xffffffff
 *     add eax, 1
 *     adc ebx, 0
 *     lahf
 *     mov [0x2000], ah
 *     mov ecx, 5
 *     cmp ecx, 7
 *     jl less
 *     mov byte [0x2001], 1
 * less:
 *     setb [0x2002]
 *     mov dl, 0x7f
 *     inc dl
 *     seto [0x2003]
 *     pushfd
 *     pop eax
 *     mov [0x2004], eax
 *     hlt
 */
static const uint8_t prog_flags[] = {
    0xb8, 0xff, 0xff, 0xff, 0xff, 0x83, 0xc0, 0x01, 0x83, 0xd3, 0x00, 0x9f,
    0x88, 0x25, 0x00, 0x20, 0x00, 0x00, 0xb9, 0x05, 0x00, 0x00, 0x00, 0x83,
    0xf9, 0x07, 0x7c, 0x07, 0xc6, 0x05, 0x01, 0x20, 0x00, 0x00, 0x01, 0x0f,
    0x92, 0x05, 0x02, 0x20, 0x00, 0x00, 0xb2, 0x7f, 0xfe, 0xc2, 0x0f, 0x90,
    0x05, 0x03, 0x20, 0x00, 0x00, 0x9c, 0x58, 0xa3, 0x04, 0x20, 0x00, 0x00,
    0xf4
};
/*
 * bits 32
 *     mov esi, 0x2000
 *     mov edi, 0x2100
 *     mov ecx, 8
 *     repe cmpsb
 *     mov [0x2200], ecx
 *     mov [0x2204], esi
 *     mov al, 'x'
 *     mov edi, 0x2000
 *     mov ecx, 100
 *     repne scasb
 *     mov [0x2208], edi
 *     hlt
 */
static const uint8_t prog_cmps[] = {
    0xbe, 0x00, 0x20, 0x00, 0x00, 0xbf, 0x00, 0x21, 0x00, 0x00, 0xb9, 0x08,
    0x00, 0x00, 0x00, 0xf3, 0xa6, 0x89, 0x0d, 0x00, 0x22, 0x00, 0x00, 0x89,
    0x35, 0x04, 0x22, 0x00, 0x00, 0xb0, 0x78, 0xbf, 0x00, 0x20, 0x00, 0x00,
    0xb9, 0x64, 0x00, 0x00, 0x00, 0xf2, 0xae, 0x89, 0x3d, 0x08, 0x22, 0x00,
    0x00, 0xf4
};
/*
 * bits 16
 *     mov cx, 1000
 *     xor ax, ax
 * l1: add ax, cx
 *     loop l1
 *     mov [0x2000], ax
 *     pusha
 *     popa
 *     call sub1
 *     mov [0x2002], bx
 *     hlt
 * sub1:
 *     mov bx, 0x55aa
 *     ret
 */
static const uint8_t prog_loop16[] = {
    0xb9, 0xe8, 0x03, 0x31, 0xc0, 0x01, 0xc8, 0xe2, 0xfc, 0xa3, 0x00, 0x20,
    0x60, 0x61, 0xe8, 0x05, 0x00, 0x89, 0x1e, 0x02, 0x20, 0xf4, 0xbb, 0xaa,
    0x55, 0xc3
};


static void load(const uint8_t *code, size_t len)
{
    memcpy(env.ram + CODE, code, len);
}

static int setup_env(void **state)
{
    env_init();
    return 0;
}

static int teardown_env(void **state)
{
    interp_free(&env.cpu);
    cpu_destroy(&env.cpu);
    env_free();
    return 0;
}

static void start_real(void)
{
    struct boot_cpu b = { .mode = BOOT_REAL, .rip = CODE };
    b.gpr[R_SP] = 0x8000;
    struct x86_state s;
    cpu_get_state(&env.cpu, &s);
    x86_state_apply_boot(&s, &b);
    cpu_set_state(&env.cpu, &s);
}

static void start_flat(enum boot_mode mode)
{
    struct boot_cpu b = { .mode = mode, .rip = CODE, .code_sel = 8,
                          .data_sel = 16, .cr3 = 0x80000 };
    b.gpr[R_SP] = 0x8000;
    if (mode == BOOT_LONG64) {
        /* identity map of the first 2 MiB with one large page */
        poke64(0x80000, 0x81000 | 3);
        poke64(0x81000, 0x82000 | 3);
        poke64(0x82000, 0x83);
    }
    struct x86_state s;
    cpu_get_state(&env.cpu, &s);
    x86_state_apply_boot(&s, &b);
    cpu_set_state(&env.cpu, &s);
}

/* step until HLT; returns how many instructions ran */
static unsigned run(unsigned max)
{
    unsigned n = 0;
    while (!env.cpu.s.halted && n < max) {
        interp_step(&env.cpu);
        n++;
    }
    assert_true(env.cpu.s.halted);
    return n;
}

static void test_rep_movsb(void **state)
{
    start_flat(BOOT_PROT32);
    load(prog_movsb, sizeof(prog_movsb));
    for (int i = 0; i < 16; i++)
        env.ram[0x2000 + i] = (uint8_t)(0x40 + i);
    run(100);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(env.ram[0x3000 + i], 0x40 + i);
        assert_int_equal(env.ram[0x4000 + i], 0x40 + i);
    }
    assert_int_equal(env.ram[0x300a], 0);
    assert_int_equal(env.cpu.s.gpr[R_SI], 0x1fff);
    assert_int_equal(env.cpu.s.gpr[R_DI], 0x3fff);
    assert_int_equal(env.cpu.s.gpr[R_CX], 0);
}

/* REP MOVSB onto itself one byte further: a pattern fill, element by
 * element, also when the run loop copies in bulk */
static void test_rep_movsb_overlap(void **state)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x20, 0x00, 0x00,   /* mov esi, 0x2000 */
        0xbf, 0x01, 0x20, 0x00, 0x00,   /* mov edi, 0x2001 */
        0xb9, 0x00, 0x03, 0x00, 0x00,   /* mov ecx, 0x300 */
        0xfc, 0xf3, 0xa4,               /* cld; rep movsb */
        0xf4,                           /* hlt */
    };
    start_flat(BOOT_PROT32);
    load(code, sizeof(code));
    env.ram[0x2000] = 0x5a;
    env.ram[0x2002] = 0x11;
    run(100);
    for (int i = 0; i <= 0x300; i++)
        assert_int_equal(env.ram[0x2000 + i], 0x5a);
    assert_int_equal(env.ram[0x2301], 0);
    assert_int_equal(env.cpu.s.gpr[R_DI], 0x2301);
}

static void test_cmpxchg8b(void **state)
{
    start_flat(BOOT_PROT32);
    load(prog_cx8, sizeof(prog_cx8));
    poke64(0x2000, 0x2222222211111111ull);
    run(100);
    assert_int_equal(env.ram[0x2100], 1);   /* first compare succeeded */
    assert_int_equal(env.ram[0x2101], 0);   /* second failed */
    assert_int_equal(peek64(0x2000), 0x4444444433333333ull);
    assert_int_equal(env.cpu.s.gpr[R_AX], 0x33333333);
    assert_int_equal(env.cpu.s.gpr[R_DX], 0x44444444);
}

static void test_enter_nesting(void **state)
{
    start_flat(BOOT_PROT32);
    load(prog_enter, sizeof(prog_enter));
    poke32(0x9000 - 4, 0xaaaa0001);
    poke32(0x9000 - 8, 0xaaaa0002);
    run(100);
    /* push ebp, two copied frame pointers, the new frame, 16 bytes */
    assert_int_equal(peek32(0x2000), 0x7ffc);          /* EBP = frame */
    assert_int_equal(peek32(0x2004), 0x7ffc - 12 - 16);
    assert_int_equal(peek32(0x7ffc), 0x9000);
    assert_int_equal(peek32(0x7ff8), 0xaaaa0001);
    assert_int_equal(peek32(0x7ff4), 0xaaaa0002);
    assert_int_equal(peek32(0x7ff0), 0x7ffc);
    assert_int_equal(peek32(0x2008), 0x9000);          /* after LEAVE */
    assert_int_equal(peek32(0x200c), 0x8000);
}

static void test_div_by_zero_real_mode(void **state)
{
    start_real();
    load(prog_divde, sizeof(prog_divde));
    run(100);
    assert_int_equal(peek16(0x2000), 0x600d);
    assert_int_equal(peek16(0x2002), 0);
    /* the pushed return address is the DIV itself (a fault) */
    assert_int_equal(peek16(0x2004), CODE + 0x11);
    assert_int_equal(env.cpu.s.gpr[R_AX] & 0xffff, CODE + 0x11);
}

struct fake_dev {
    uint32_t last_port_value, byte_80;
    unsigned writes;
};

static uint64_t fake_read(void *opaque, uint64_t off, unsigned size)
{
    struct fake_dev *d = opaque;
    return off == 0 ? d->last_port_value ^ 0xffffffffu : 0x99;
}

static void fake_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    struct fake_dev *d = opaque;
    d->writes++;
    if (off == 0)
        d->last_port_value = (uint32_t)v;
}

static uint64_t post_read(void *opaque, uint64_t off, unsigned size)
{
    return 0x99;
}

static void post_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    struct fake_dev *d = opaque;
    d->byte_80 = (uint32_t)v;
}

static void test_in_out(void **state)
{
    static const struct io_ops dev_ops = { fake_read, fake_write };
    static const struct io_ops post_ops = { post_read, post_write };
    struct fake_dev d = { 0 };
    assert_int_equal(port_bus_register(env.m.io, 0x1234, 4, "fake", &dev_ops,
                                       &d), 0);
    assert_int_equal(port_bus_register(env.m.io, 0x80, 2, "post", &post_ops,
                                       &d), 0);
    start_flat(BOOT_PROT32);
    load(prog_io, sizeof(prog_io));
    run(100);
    assert_int_equal(d.last_port_value, 0xdeadbeef);
    assert_int_equal(d.byte_80, 0x5a);
    assert_int_equal(peek32(0x2000), 0x21524110);
    assert_int_equal(env.ram[0x2004], 0x99);
}

static void test_rip_relative_64(void **state)
{
    start_flat(BOOT_LONG64);
    assert_int_equal(env.cpu.mode, MODE_LONG64);
    load(prog_riprel, sizeof(prog_riprel));
    run(100);
    assert_int_equal(env.cpu.s.gpr[R_AX], 0x1122334455667788ull);
    assert_int_equal(env.cpu.s.gpr[R_BX], CODE + 0x1e);
    assert_int_equal(env.cpu.s.gpr[R_DX],
                     0x1122334455667788ull + 0x123456789ull);
    assert_int_equal(env.cpu.s.gpr[R_SP], 0x8000);
}

static void test_self_modifying_code(void **state)
{
    start_flat(BOOT_PROT32);
    load(prog_smc, sizeof(prog_smc));
    /* run it once from cache-cold, then again with the old bytes back:
     * the second run must see the patched bytes each time too */
    run(100);
    assert_int_equal(env.ram[0x2000], 0x42);
    assert_int_equal(env.cpu.s.gpr[R_BX] & 0xff, 0x77);
    load(prog_smc, sizeof(prog_smc));   /* a DMA-like write: not the CPU */
    interp_invalidate_code(CODE, sizeof(prog_smc));
    env.cpu.s.halted = 0;
    env.cpu.s.rip = CODE;
    env.ram[0x2000] = 0;
    env.cpu.s.gpr[R_BX] = 0;
    run(100);
    assert_int_equal(env.ram[0x2000], 0x42);
    assert_int_equal(env.cpu.s.gpr[R_BX] & 0xff, 0x77);
}

static void test_rep_stos_is_interruptible(void **state)
{
    start_flat(BOOT_PROT32);
    load(prog_stos, sizeof(prog_stos));
    for (int i = 0; i < 3; i++)
        interp_step(&env.cpu);       /* mov, mov, mov */
    interp_step(&env.cpu);           /* part of the REP STOSB */
    assert_int_equal(env.cpu.s.rip, CODE + 12);
    assert_true(env.cpu.s.gpr[R_CX] > 0 && env.cpu.s.gpr[R_CX] < 200000);
    run(100);
    assert_int_equal(env.cpu.s.gpr[R_CX], 0);
    assert_int_equal(env.cpu.s.gpr[R_DI], 0x10000 + 200000);
    assert_int_equal(env.ram[0x10000], 0xab);
    assert_int_equal(env.ram[0x10000 + 199999], 0xab);
    assert_int_equal(env.ram[0x10000 + 200000], 0);
}

static void test_flags(void **state)
{
    start_flat(BOOT_PROT32);
    load(prog_flags, sizeof(prog_flags));
    run(100);
    /* LAHF after ADD 0xffffffff+1, ADC: ZF PF CF clear after adc 0+carry */
    assert_int_equal(env.cpu.s.gpr[R_BX], 1);
    assert_int_equal(env.ram[0x2000], FL_FIXED1);   /* adc ebx: 1: no flags */
    assert_int_equal(env.ram[0x2001], 0);           /* jl taken */
    assert_int_equal(env.ram[0x2002], 1);           /* CF from cmp 5,7 */
    assert_int_equal(env.ram[0x2003], 1);           /* OF from inc 0x7f */
    uint32_t f = peek32(0x2004);
    /* INC keeps the CF of the CMP before it */
    assert_int_equal(f & (FL_OF | FL_SF | FL_ZF | FL_CF),
                     FL_OF | FL_SF | FL_CF);
    assert_true(f & FL_AF);
}

static void test_repe_cmps_repne_scas(void **state)
{
    start_flat(BOOT_PROT32);
    load(prog_cmps, sizeof(prog_cmps));
    memcpy(env.ram + 0x2000, "abcdefgh", 8);
    memcpy(env.ram + 0x2100, "abcdXfgh", 8);
    env.ram[0x2040] = 'x';
    run(100);
    assert_int_equal(peek32(0x2200), 3);       /* stopped after 'e' vs 'X' */
    assert_int_equal(peek32(0x2204), 0x2005);
    assert_int_equal(peek32(0x2208), 0x2041);  /* one past the 'x' */
}

static void test_real_mode_loop_call(void **state)
{
    start_real();
    load(prog_loop16, sizeof(prog_loop16));
    run(5000);
    assert_int_equal(peek16(0x2000), (uint16_t)(1000 * 1001 / 2));
    assert_int_equal(peek16(0x2002), 0x55aa);
    assert_int_equal(env.cpu.s.gpr[R_SP] & 0xffff, 0x8000);
}

/*
 * bits 16                     ; single-step: one #DB after each instruction
 *     mov word [4], handler   ; that starts with TF set
 *     mov word [6], 0
 *     pushf
 *     pop ax
 *     or ax, 0x100
 *     push ax
 *     popf                    ; TF on: the trap comes after the next one
 *     nop
 *     nop
 *     pushf
 *     pop ax
 *     and ax, 0xfeff
 *     push ax
 *     popf                    ; TF off, but it started with TF: a trap
 *     hlt
 * handler:
 *     inc word [0x2000]
 *     iret
 */
static const uint8_t prog_tf[] = {
    0xc7, 0x06, 0x04, 0x00, 0x1d, 0x10, 0xc7, 0x06, 0x06, 0x00, 0x00, 0x00,
    0x9c, 0x58, 0x0d, 0x00, 0x01, 0x50, 0x9d, 0x90, 0x90, 0x9c, 0x58, 0x25,
    0xff, 0xfe, 0x50, 0x9d, 0xf4, 0xff, 0x06, 0x00, 0x20, 0xcf,
};

static void test_single_step_trap(void **state)
{
    start_real();
    load(prog_tf, sizeof(prog_tf));
    run(200);
    /* nop, nop, pushf, pop, and, push, popf ran with TF set */
    assert_int_equal(peek16(0x2000), 7);
    assert_int_equal(env.cpu.s.rip, CODE + 0x1d);
    assert_false(env.cpu.s.rflags & FL_TF);
}

/* the same single-step run through interp_run (the fast loop) */
static void test_single_step_trap_run(void **state)
{
    start_real();
    load(prog_tf, sizeof(prog_tf));
    assert_int_equal(interp_run(&env.cpu, INT64_MAX), RUN_HALT);
    assert_int_equal(peek16(0x2000), 7);
}

/*
 * bits 32                     ; a #PF in the middle of REP STOSB: the handler
 *     mov eax, 0x80000        ; maps the page, IRET resumes the REP where it
 *     mov cr3, eax            ; stopped
 *     mov eax, cr0
 *     or eax, 0x80000000
 *     mov cr0, eax
 *     mov edi, 0x1f000
 *     mov ecx, 0x2000
 *     mov al, 0xcd
 *     rep stosb
 *     mov eax, cr2
 *     mov [0x3004], eax
 *     hlt
 * pf_handler:                 ; at 0x102a
 *     inc dword [0x3000]
 *     or dword [0x81000 + 0x20 * 4], 1
 *     add esp, 4
 *     iret
 */
static const uint8_t prog_pfrep[] = {
    0xb8, 0x00, 0x00, 0x08, 0x00, 0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xc0, 0x0d,
    0x00, 0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0xbf, 0x00, 0xf0, 0x01, 0x00,
    0xb9, 0x00, 0x20, 0x00, 0x00, 0xb0, 0xcd, 0xf3, 0xaa, 0x0f, 0x20, 0xd0,
    0xa3, 0x04, 0x30, 0x00, 0x00, 0xf4, 0xff, 0x05, 0x00, 0x30, 0x00, 0x00,
    0x83, 0x0d, 0x80, 0x10, 0x08, 0x00, 0x01, 0x83, 0xc4, 0x04, 0xcf,
};

/* 32-bit protected mode: GDT flat code 0x08 and data 0x10, IDT #PF to
 * pf_handler, a page directory at 0x80000 mapping the first 4 MiB to
 * themselves (page table at 0x81000), page 0x20000 with PTE bits page20
 * (the program turns paging on) */
static void start_paged32(uint32_t pf_handler, uint32_t page20)
{
    start_flat(BOOT_PROT32);
    poke64(0x508, mkdesc(0, 0xfffff, 0x9b, 0xc));
    poke64(0x510, mkdesc(0, 0xfffff, 0x93, 0xc));
    env.cpu.s.gdt.base = 0x500;
    env.cpu.s.gdt.limit = 23;
    poke64(0x600 + EXC_PF * 8, mkgate(8, pf_handler, 14, 0));
    env.cpu.s.idt.base = 0x600;
    env.cpu.s.idt.limit = 0x7ff;
    poke32(0x80000, 0x81000 | 3);
    for (uint32_t i = 0; i < 1024; i++)
        poke32(0x81000 + i * 4, (i << 12) | (i == 0x20 ? page20 : 3));
}

static void test_page_fault_resumes_rep(void **state)
{
    start_paged32(0x102a, 2);   /* page 0x20000 not present */
    load(prog_pfrep, sizeof(prog_pfrep));
    run(100000);
    assert_int_equal(peek32(0x3000), 1);        /* one fault */
    assert_int_equal(peek32(0x3004), 0x20000);  /* CR2 */
    assert_int_equal(env.cpu.s.gpr[R_CX], 0);
    assert_int_equal(env.cpu.s.gpr[R_DI], 0x21000);
    for (uint32_t a = 0x1f000; a < 0x21000; a += 0x3ff)
        assert_int_equal(env.ram[a], 0xcd);
    assert_int_equal(env.ram[0x21000], 0);
    assert_int_equal(env.cpu.s.gpr[R_SP], 0x8000);
}

/*
 * bits 32                     ; a read-modify-write faults at its write (a
 *     mov eax, 0x80000        ; read-only page with CR0.WP): the flags in
 *     mov cr3, eax            ; the #PF frame are those from before it, and
 *     mov eax, cr0            ; the ADC run again after the handler made
 *     or eax, 0x80010000      ; the page writable adds the original carry
 *     mov cr0, eax
 *     xor eax, eax            ; ZF PF, then CF
 *     stc
 *     adc dword [0x20000], 1
 *     pushfd
 *     pop dword [0x3008]
 *     hlt
 *     times 0x40-($-$$) db 0x90
 * pf_handler:                 ; at 0x1040
 *     inc dword [0x3000]
 *     mov eax, [esp+12]       ; the pushed EFLAGS
 *     mov [0x3004], eax
 *     or dword [0x81000 + 0x20 * 4], 2
 *     invlpg [0x20000]
 *     add esp, 4
 *     iret
 */
static const uint8_t prog_rmw_fault[] = {
    0xb8, 0x00, 0x00, 0x08, 0x00, 0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xc0, 0x0d,
    0x00, 0x00, 0x01, 0x80, 0x0f, 0x22, 0xc0, 0x31, 0xc0, 0xf9, 0x83, 0x15,
    0x00, 0x00, 0x02, 0x00, 0x01, 0x9c, 0x8f, 0x05, 0x08, 0x30, 0x00, 0x00,
    0xf4, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
    0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
    0x90, 0x90, 0x90, 0x90, 0xff, 0x05, 0x00, 0x30, 0x00, 0x00, 0x8b, 0x44,
    0x24, 0x0c, 0xa3, 0x04, 0x30, 0x00, 0x00, 0x83, 0x0d, 0x80, 0x10, 0x08,
    0x00, 0x02, 0x0f, 0x01, 0x3d, 0x00, 0x00, 0x02, 0x00, 0x83, 0xc4, 0x04,
    0xcf
};

static void test_rmw_fault_keeps_flags(void **state)
{
    start_paged32(0x1040, 1);   /* page 0x20000 read-only */
    poke32(0x20000, 0x7ffffffe);
    load(prog_rmw_fault, sizeof(prog_rmw_fault));
    run(1000);
    assert_int_equal(peek32(0x3000), 1);   /* one fault */
    /* the frame: the flags of XOR and STC, not those of the ADC */
    uint32_t frame = peek32(0x3004);
    uint32_t arith = FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF;
    assert_int_equal(frame & arith, FL_CF | FL_PF | FL_ZF);
    /* re-run with the carry in: 0x7ffffffe + 1 + 1 */
    assert_int_equal(peek32(0x20000), 0x80000000);
    assert_int_equal(peek32(0x3008) & arith,
                     FL_PF | FL_AF | FL_SF | FL_OF);
}

static void test_breakpoint_and_single_step(void **state)
{
    start_real();
    load(prog_loop16, sizeof(prog_loop16));
    /* a breakpoint at "add ax, cx" (CODE + 5) stops before it each round */
    assert_int_equal(interp_breakpoint(&env.cpu, CODE + 5, true), 0);
    assert_int_equal(interp_run(&env.cpu, INT64_MAX), RUN_DEBUG);
    assert_int_equal(env.cpu.s.rip, CODE + 5);
    assert_int_equal(env.cpu.s.gpr[R_AX] & 0xffff, 0);
    assert_int_equal(interp_run(&env.cpu, INT64_MAX), RUN_DEBUG);
    assert_int_equal(env.cpu.s.rip, CODE + 5);
    assert_int_equal(env.cpu.s.gpr[R_AX] & 0xffff, 1000);
    assert_int_equal(interp_breakpoint(&env.cpu, CODE + 5, false), 0);
    assert_int_equal(interp_breakpoint(&env.cpu, CODE + 5, false), -ENOENT);
    /* single-step: one instruction per run */
    interp_set_single_step(&env.cpu, true);
    assert_int_equal(interp_run(&env.cpu, INT64_MAX), RUN_DEBUG);
    assert_int_equal(env.cpu.s.rip, CODE + 7);
    assert_int_equal(env.cpu.s.gpr[R_AX] & 0xffff, 1000 + 999);
    interp_set_single_step(&env.cpu, false);
    assert_int_equal(interp_run(&env.cpu, INT64_MAX), RUN_HALT);
    assert_int_equal(peek16(0x2000), (uint16_t)(1000 * 1001 / 2));
}

/* --- an external interrupt through the vCPU link --- */

static int ack_vector;
static int fake_ack(void *ic)
{
    atomic_fetch_and(&env.m.cpu_link[0].events, ~(unsigned)VCPU_EV_INTR);
    return ack_vector;
}

static void test_external_interrupt_after_sti(void **state)
{
    /* real mode: IVT[0x20] -> handler at 0x1100 writing a marker */
    static const uint8_t main_code[] = {
        0xfb,                   /* sti */
        0x90,                   /* nop (in the STI shadow) */
        0xf4,                   /* hlt */
    };
    static const uint8_t handler[] = {
        0xc6, 0x06, 0x00, 0x20, 0x01,  /* mov byte [0x2000], 1 */
        0xcf,                          /* iret */
    };
    start_real();
    load(main_code, sizeof(main_code));
    memcpy(env.ram + 0x1100, handler, sizeof(handler));
    poke16(0x20 * 4, 0x1100);
    poke16(0x20 * 4 + 2, 0);
    struct vcpu_link *l = &env.m.cpu_link[0];
    l->intr_ack = fake_ack;
    ack_vector = 0x20;
    interp_step(&env.cpu);                          /* sti */
    vcpu_link_set_intr(l, true);
    interp_step(&env.cpu);                          /* nop: shadow */
    assert_int_equal(env.cpu.s.rip, CODE + 2);
    assert_int_equal(env.ram[0x2000], 0);
    /* the interrupt is taken, then the handler's first instruction runs */
    interp_step(&env.cpu);
    assert_int_equal(env.cpu.s.rip, 0x1105);
    assert_int_equal(env.ram[0x2000], 1);
    assert_int_equal(peek16(0x8000 - 6), CODE + 2); /* return to the HLT */
    run(10);                                        /* iret, hlt */
    assert_int_equal(env.cpu.s.rip, CODE + 3);
    l->intr_ack = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rep_movsb, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_rep_movsb_overlap, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_cmpxchg8b, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_enter_nesting, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_div_by_zero_real_mode, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_in_out, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_rip_relative_64, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_self_modifying_code, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_rep_stos_is_interruptible, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_flags, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_repe_cmps_repne_scas, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_real_mode_loop_call, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_external_interrupt_after_sti, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_single_step_trap, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_single_step_trap_run, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_page_fault_resumes_rep, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_rmw_fault_keeps_flags, setup_env, teardown_env),
        cmocka_unit_test_setup_teardown(test_breakpoint_and_single_step, setup_env, teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
