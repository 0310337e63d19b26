/* Unit tests of the KVM backend on a minimal machine (RAM, a fake port
 * device, a fake MMIO device, a fake LAPIC on the vCPU link): real-mode
 * programs doing arithmetic, port and string I/O, MMIO and HLT; an external
 * interrupt acknowledged through the link reaching an IVT handler; the APIC
 * MSRs reaching the link; A20 and read-only ROM slots; the state round trip.
 * The programs stay in real mode: a software /dev/kvm runs ring-0 protected
 * mode very slowly. Skipped where /dev/kvm is unusable. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu/boot_state.h"
#include "cpu/x86_state.h"
#include "vm/accel.h"
#include "vm/machine.h"

#define RAM_SIZE (4u << 20)
#define CODE 0x1000
#define PORT 0x300
#define MMIO_BASE 0xd0000
#define ROM_BASE 0xe0000

static const struct cpu_backend_ops *ops;
static const char *skip_why;
static struct machine m;
static void *vcpu;

/* fake devices and LAPIC */
static uint8_t port_log[64];
static int port_writes;
static uint64_t mmio_last_off, mmio_last_val;
static int mmio_writes;
static int acks, ack_vector;
static uint32_t msr_written;
static uint64_t msr_written_val;
static uint8_t cr8_val;
static uint8_t *rom;

static uint64_t port_rd(void *o, uint64_t off, unsigned size)
{
    return 0x5a;
}

static void port_wr(void *o, uint64_t off, uint64_t val, unsigned size)
{
    if (port_writes < (int)sizeof(port_log))
        port_log[port_writes] = (uint8_t)val;
    port_writes++;
}

static const struct io_ops port_ops = {port_rd, port_wr};

static uint64_t mmio_rd(void *o, uint64_t off, unsigned size)
{
    return off == 0x20 ? 0xbeef : 0;
}

static void mmio_wr(void *o, uint64_t off, uint64_t val, unsigned size)
{
    mmio_last_off = off;
    mmio_last_val = val;
    mmio_writes++;
}

static const struct io_ops mmio_ops = {mmio_rd, mmio_wr};

static int fake_ack(void *ic)
{
    acks++;
    vcpu_link_set_intr(&m.cpu_link[0], false);
    return ack_vector;
}

static int fake_msr_read(void *ic, uint32_t msr, uint64_t *value)
{
    if (msr == 0x1b) {
        *value = 0xfee00900;
        return 0;
    }
    if (msr == 0x6e0) {
        *value = 0x99;
        return 0;
    }
    return -1;
}

static int fake_msr_write(void *ic, uint32_t msr, uint64_t value)
{
    msr_written = msr;
    msr_written_val = value;
    return 0;
}

static uint8_t fake_get_cr8(void *ic) { return cr8_val; }
static void fake_set_cr8(void *ic, uint8_t v) { cr8_val = v; }

static int setup(void **state)
{
    ops = accel_find("kvm");
    skip_why = "the kvm backend is not in this build";
    if (ops && ops->probe(&skip_why) != 0)
        ops = NULL;
    if (!ops)
        return 0;
    struct machine_config cfg = {.ram_size = RAM_SIZE, .ncpus = 1,
                                 .clock_mode = VCLOCK_MANUAL};
    assert_int_equal(machine_init(&m, &cfg), 0);
    assert_int_equal(port_bus_register(m.io, PORT, 1, "fake", &port_ops, NULL), 0);
    assert_non_null(mem_map_add_mmio(m.mem, "fake-mmio", MMIO_BASE, 0x1000,
                                     &mmio_ops, NULL, 1));
    struct vcpu_link *l = &m.cpu_link[0];
    l->intr_ack = fake_ack;
    l->msr_read = fake_msr_read;
    l->msr_write = fake_msr_write;
    l->get_cr8 = fake_get_cr8;
    l->set_cr8 = fake_set_cr8;
    port_writes = mmio_writes = acks = 0;
    msr_written = 0;
    cr8_val = 0;
    rom = NULL;
    vcpu = ops->init(&m, 0);
    assert_non_null(vcpu);
    return 0;
}

static int teardown(void **state)
{
    if (!ops)
        return 0;
    ops->destroy(vcpu);
    machine_destroy(&m);
    free(rom);
    return 0;
}

#define NEED_KVM()                                                             \
    do {                                                                       \
        if (!ops) {                                                            \
            print_message("skipped: %s\n", skip_why);                          \
            skip();                                                            \
        }                                                                      \
    } while (0)

/* Put a program at 0:CODE and point the vCPU at it (real mode, SS:SP 0:8000) */
static void load(const uint8_t *code, size_t len, struct x86_state *s)
{
    memcpy(m.ram + CODE, code, len);
    ops->get_state(vcpu, s);
    s->seg[S_CS].selector = 0;
    s->seg[S_CS].base = 0;
    s->rip = CODE;
    s->gpr[R_SP] = 0x8000;
    s->halted = 0;
    ops->set_state(vcpu, s);
}

/* Run until HLT; the state after it */
static void run_to_halt(struct x86_state *s)
{
    enum run_exit why = RUN_DEADLINE;
    for (int i = 0; i < 1000 && why == RUN_DEADLINE; i++)
        why = ops->run(vcpu, 10 * NS_PER_SEC);
    assert_int_equal(why, RUN_HALT);
    ops->get_state(vcpu, s);
}

static void test_program(void **state)
{
    NEED_KVM();
    static const uint8_t prog[] = {
        0xb8, 0x05, 0x00,             /* mov ax, 5 */
        0x05, 0x07, 0x00,             /* add ax, 7 */
        0x89, 0xc3,                   /* mov bx, ax */
        0xba, 0x00, 0x03,             /* mov dx, 0x300 */
        0xee,                         /* out dx, al */
        0xec,                         /* in al, dx */
        0x89, 0xc1,                   /* mov cx, ax */
        0xb8, 0x00, 0xd0,             /* mov ax, 0xd000 */
        0x8e, 0xc0,                   /* mov es, ax */
        0x26, 0xc7, 0x06, 0x10, 0x00, 0x34, 0x12, /* mov word [es:0x10], 0x1234 */
        0x26, 0x8b, 0x3e, 0x20, 0x00, /* mov di, [es:0x20] */
        0xbe, 0x00, 0x20,             /* mov si, 0x2000 */
        0x51,                         /* push cx */
        0xb9, 0x04, 0x00,             /* mov cx, 4 */
        0xf3, 0x6e,                   /* rep outsb */
        0x59,                         /* pop cx */
        0xf4,                         /* hlt */
    };
    struct x86_state s;
    memcpy(m.ram + 0x2000, "ABCD", 4);
    load(prog, sizeof(prog), &s);
    run_to_halt(&s);
    assert_int_equal(s.rip, CODE + sizeof(prog));
    assert_int_equal(s.gpr[R_AX] & 0xffff, 0xd000);
    assert_int_equal(s.gpr[R_BX] & 0xffff, 12);
    assert_int_equal(s.gpr[R_CX] & 0xffff, 0x5a);
    assert_int_equal(s.gpr[R_DI] & 0xffff, 0xbeef);
    assert_int_equal(s.gpr[R_SI] & 0xffff, 0x2004);
    assert_int_equal(s.gpr[R_SP] & 0xffff, 0x8000);
    assert_int_equal(s.seg[S_ES].selector, 0xd000);
    assert_int_equal(s.seg[S_ES].base, 0xd0000);
    assert_int_equal(port_writes, 5);
    assert_memory_equal(port_log, "\x0c" "ABCD", 5);
    assert_int_equal(mmio_writes, 1);
    assert_int_equal(mmio_last_off, 0x10);
    assert_int_equal(mmio_last_val, 0x1234);
    assert_true(s.halted);
}

static void test_interrupt(void **state)
{
    NEED_KVM();
    static const uint8_t prog[] = {
        0xfb,                         /* sti */
        0xf4,                         /* hlt */
        0xbb, 0x55, 0x00,             /* mov bx, 0x55 */
        0xf4,                         /* hlt */
    };
    static const uint8_t handler[] = {
        0xb0, 0x77,                   /* mov al, 0x77 */
        0xba, 0x00, 0x03,             /* mov dx, 0x300 */
        0xee,                         /* out dx, al */
        0xcf,                         /* iret */
    };
    memcpy(m.ram + 0x3000, handler, sizeof(handler));
    static const uint8_t ivt_entry[4] = {0x00, 0x30, 0x00, 0x00}; /* 0:3000 */
    memcpy(m.ram + 0x30 * 4, ivt_entry, 4);
    struct x86_state s;
    load(prog, sizeof(prog), &s);
    run_to_halt(&s);
    assert_int_equal(s.rip, CODE + 2);
    assert_int_equal(acks, 0);
    assert_int_equal(port_writes, 0);

    ack_vector = 0x30;
    vcpu_link_set_intr(&m.cpu_link[0], true);
    run_to_halt(&s);
    assert_int_equal(acks, 1);
    assert_int_equal(port_writes, 1);
    assert_int_equal(port_log[0], 0x77);
    assert_int_equal(s.gpr[R_BX] & 0xffff, 0x55);
    assert_int_equal(s.rip, CODE + sizeof(prog));
}

/* With IF=0 a pending interrupt waits: HLT stays halted, nothing acked */
static void test_interrupt_masked(void **state)
{
    NEED_KVM();
    static const uint8_t prog[] = {0xfa, 0xf4}; /* cli; hlt */
    struct x86_state s;
    load(prog, sizeof(prog), &s);
    ack_vector = 0x30;
    vcpu_link_set_intr(&m.cpu_link[0], true);
    run_to_halt(&s);
    assert_int_equal(ops->run(vcpu, 10 * NS_PER_SEC), RUN_HALT);
    assert_int_equal(acks, 0);
    assert_int_equal(s.rip, CODE + 2);
}

static void test_apic_msrs(void **state)
{
    NEED_KVM();
    static const uint8_t prog[] = {
        0x66, 0xb9, 0x1b, 0x00, 0x00, 0x00, /* mov ecx, 0x1b */
        0x0f, 0x32,                         /* rdmsr */
        0x66, 0x89, 0xc6,                   /* mov esi, eax */
        0x66, 0xb9, 0xe0, 0x06, 0x00, 0x00, /* mov ecx, 0x6e0 */
        0x66, 0xb8, 0x44, 0x33, 0x22, 0x11, /* mov eax, 0x11223344 */
        0x66, 0x31, 0xd2,                   /* xor edx, edx */
        0x0f, 0x30,                         /* wrmsr */
        0xf4,                               /* hlt */
    };
    struct x86_state s;
    load(prog, sizeof(prog), &s);
    run_to_halt(&s);
    assert_int_equal(s.rip, CODE + sizeof(prog));
    assert_int_equal(s.gpr[R_SI] & 0xffffffff, 0xfee00900);
    assert_int_equal(msr_written, 0x6e0);
    assert_int_equal(msr_written_val, 0x11223344);
}

/* mov byte [FFFF:0510], imm8 reaches 0x100500, or 0x500 with A20 off */
static void test_a20(void **state)
{
    NEED_KVM();
    uint8_t prog[] = {
        0xb8, 0xff, 0xff,                         /* mov ax, 0xffff */
        0x8e, 0xc0,                               /* mov es, ax */
        0x26, 0xc6, 0x06, 0x10, 0x05, 0xab,       /* mov byte [es:0x510], 0xab */
        0xf4,                                     /* hlt */
    };
    struct x86_state s;
    mem_map_set_a20(m.mem, false);
    load(prog, sizeof(prog), &s);
    run_to_halt(&s);
    assert_int_equal(m.ram[0x500], 0xab);
    assert_int_equal(m.ram[0x100500], 0);

    mem_map_set_a20(m.mem, true);
    prog[10] = 0xcd;
    load(prog, sizeof(prog), &s);
    run_to_halt(&s);
    assert_int_equal(m.ram[0x100500], 0xcd);
    assert_int_equal(m.ram[0x500], 0xab);
}

/* A ROM region is a read-only slot: reads see it, writes are dropped */
static void test_rom(void **state)
{
    NEED_KVM();
    rom = aligned_alloc(4096, 4096);
    assert_non_null(rom);
    memset(rom, 0x11, 4096);
    assert_non_null(mem_map_add_rom(m.mem, "rom", ROM_BASE, 4096, rom, 1));
    static const uint8_t prog[] = {
        0xb8, 0x00, 0xe0,                   /* mov ax, 0xe000 */
        0x8e, 0xc0,                         /* mov es, ax */
        0x26, 0xc6, 0x06, 0x00, 0x00, 0x99, /* mov byte [es:0], 0x99 */
        0x26, 0x8a, 0x1e, 0x00, 0x00,       /* mov bl, [es:0] */
        0xf4,                               /* hlt */
    };
    struct x86_state s;
    load(prog, sizeof(prog), &s);
    run_to_halt(&s);
    assert_int_equal(s.gpr[R_BX] & 0xff, 0x11);
    assert_int_equal(rom[0], 0x11);
    assert_int_equal(m.ram[ROM_BASE], 0);
}

static void test_string_in(void **state)
{
    NEED_KVM();
    static const uint8_t prog[] = {
        0xba, 0x00, 0x03,             /* mov dx, 0x300 */
        0xbf, 0x00, 0x21,             /* mov di, 0x2100 */
        0xb9, 0x03, 0x00,             /* mov cx, 3 */
        0xf3, 0x6c,                   /* rep insb */
        0xf4,                         /* hlt */
    };
    struct x86_state s;
    load(prog, sizeof(prog), &s);
    run_to_halt(&s);
    assert_memory_equal(m.ram + 0x2100, "\x5a\x5a\x5a\x00", 4);
    assert_int_equal(s.gpr[R_DI] & 0xffff, 0x2103);
    assert_int_equal(s.gpr[R_CX] & 0xffff, 0);
}

/* An NMI gets in with IF=0 and wakes the halted vCPU */
static void test_nmi(void **state)
{
    NEED_KVM();
    static const uint8_t prog[] = {
        0xfa,                         /* cli */
        0xf4,                         /* hlt */
        0xbb, 0x55, 0x00,             /* mov bx, 0x55 */
        0xf4,                         /* hlt */
    };
    static const uint8_t handler[] = {
        0xb0, 0x66,                   /* mov al, 0x66 */
        0xba, 0x00, 0x03,             /* mov dx, 0x300 */
        0xee,                         /* out dx, al */
        0xcf,                         /* iret */
    };
    memcpy(m.ram + 0x3000, handler, sizeof(handler));
    static const uint8_t ivt_entry[4] = {0x00, 0x30, 0x00, 0x00};
    memcpy(m.ram + 2 * 4, ivt_entry, 4);
    struct x86_state s;
    load(prog, sizeof(prog), &s);
    run_to_halt(&s);
    assert_int_equal(port_writes, 0);
    vcpu_link_raise(&m.cpu_link[0], VCPU_EV_NMI);
    run_to_halt(&s);
    assert_int_equal(port_writes, 1);
    assert_int_equal(port_log[0], 0x66);
    assert_int_equal(s.gpr[R_BX] & 0xffff, 0x55);
}

/* An AP waits for a SIPI, starts at vector << 12, and INIT sends it back */
static void test_init_sipi(void **state)
{
    NEED_KVM();
    static const uint8_t prog[] = {
        0xb8, 0x34, 0x12,             /* mov ax, 0x1234 */
        0xf4,                         /* hlt */
    };
    memcpy(m.ram + 0x5000, prog, sizeof(prog));
    struct vcpu_link *l = &m.cpu_link[1];
    void *ap = ops->init(&m, 1);
    assert_non_null(ap);
    struct x86_state *s = malloc(sizeof(*s));
    assert_non_null(s);
    assert_int_equal(ops->run(ap, 10 * NS_PER_SEC), RUN_HALT);
    ops->get_state(ap, s);
    assert_int_equal(s->rip, 0xfff0);
    assert_true(s->wait_sipi);
    /* the waiting survives a state round trip (snapshots, backend switch) */
    ops->set_state(ap, s);
    assert_int_equal(ops->run(ap, 10 * NS_PER_SEC), RUN_HALT);

    l->sipi_vector = 5;
    vcpu_link_raise(l, VCPU_EV_SIPI);
    assert_int_equal(ops->run(ap, 10 * NS_PER_SEC), RUN_HALT);
    ops->get_state(ap, s);
    assert_int_equal(s->gpr[R_AX] & 0xffff, 0x1234);
    assert_int_equal(s->seg[S_CS].selector, 0x0500);
    assert_int_equal(s->seg[S_CS].base, 0x5000);
    assert_int_equal(s->rip, sizeof(prog));
    assert_int_equal(s->halted, 1);
    assert_false(s->wait_sipi);

    vcpu_link_raise(l, VCPU_EV_INIT);
    assert_int_equal(ops->run(ap, 10 * NS_PER_SEC), RUN_HALT);
    ops->get_state(ap, s);
    assert_int_equal(s->rip, 0xfff0);
    assert_int_equal(s->seg[S_CS].selector, 0xf000);
    assert_true(s->wait_sipi);
    /* the next SIPI starts it again; one while it runs is ignored */
    vcpu_link_raise(l, VCPU_EV_SIPI);
    assert_int_equal(ops->run(ap, 10 * NS_PER_SEC), RUN_HALT);
    vcpu_link_raise(l, VCPU_EV_SIPI);
    assert_int_equal(ops->run(ap, 10 * NS_PER_SEC), RUN_HALT);
    ops->get_state(ap, s);
    assert_int_equal(s->seg[S_CS].selector, 0x0500);
    assert_int_equal(s->rip, sizeof(prog));
    assert_int_equal(s->halted, 1);
    assert_false(s->wait_sipi);
    free(s);
    ops->destroy(ap);
}

/* Single-step, an execution breakpoint and a write watchpoint */
static void test_debug(void **state)
{
    NEED_KVM();
    static const uint8_t prog[] = {
        0x40,                         /* inc ax */
        0x40,                         /* inc ax */
        0x40,                         /* inc ax */
        0xc7, 0x06, 0x00, 0x20, 0x34, 0x12, /* mov word [0x2000], 0x1234 */
        0x40,                         /* inc ax */
        0xf4,                         /* hlt */
    };
    struct x86_state s;
    load(prog, sizeof(prog), &s);
    s.gpr[R_AX] = 0;
    ops->set_state(vcpu, &s);
    assert_int_equal(ops->set_debug(vcpu, true), 0);
    assert_int_equal(ops->run(vcpu, 10 * NS_PER_SEC), RUN_DEBUG);
    ops->get_state(vcpu, &s);
    assert_int_equal(s.rip, CODE + 1);
    assert_int_equal(s.gpr[R_AX], 1);
    assert_int_equal(ops->set_debug(vcpu, false), 0);

    assert_int_equal(ops->insert_debug(vcpu, DBG_HW_BREAK, CODE + 2, 1), 0);
    assert_int_equal(ops->run(vcpu, 10 * NS_PER_SEC), RUN_DEBUG);
    ops->get_state(vcpu, &s);
    assert_int_equal(s.rip, CODE + 2);
    assert_int_equal(s.gpr[R_AX], 2);
    assert_int_equal(ops->remove_debug(vcpu, DBG_HW_BREAK, CODE + 2, 1), 0);

    /* a data breakpoint traps after the write; software KVMs that emulate
     * real mode may not check data breakpoints at all */
    assert_int_equal(ops->insert_debug(vcpu, DBG_WATCH_W, 0x2000, 2), 0);
    assert_int_equal(ops->insert_debug(vcpu, DBG_WATCH_W, 0x2001, 2), -EINVAL);
    enum run_exit why = ops->run(vcpu, 10 * NS_PER_SEC);
    ops->get_state(vcpu, &s);
    assert_int_equal(m.ram[0x2000], 0x34);
    if (why == RUN_HALT && s.rip == CODE + sizeof(prog)) {
        print_message("note: this host's KVM does not report data breakpoints\n");
    } else {
        assert_int_equal(why, RUN_DEBUG);
        assert_int_equal(s.rip, CODE + 9);
        run_to_halt(&s);
    }
    assert_int_equal(ops->remove_debug(vcpu, DBG_WATCH_W, 0x2000, 2), 0);
    assert_int_equal(ops->remove_debug(vcpu, DBG_WATCH_W, 0x2000, 2), -ENOENT);
    assert_int_equal(s.gpr[R_AX], 4);
}

/* The same real-mode program on KVM and on the interpreter ends in the same
 * registers, arithmetic flags and memory (KVM is the oracle) */
static void test_differential(void **state)
{
    NEED_KVM();
    const struct cpu_backend_ops *interp = accel_find("interp");
    if (!interp) {
        print_message("skipped: no interpreter in this build\n");
        skip();
    }
    static const uint8_t prog[] = { /* assembled from the list below */
        0x66, 0xb8, 0x78, 0x56, 0x34, 0x12, 0x66, 0xbb, 0xf0, 0xde, 0xbc, 0x9a,
        0x66, 0xb9, 0x0f, 0x0f, 0x0f, 0x0f, 0x66, 0xba, 0x01, 0x00, 0x00, 0x80,
        0x66, 0xbe, 0xff, 0xff, 0xff, 0x7f, 0x66, 0xbf, 0xef, 0xbe, 0xad, 0xde,
        0x66, 0x01, 0xd8, 0x66, 0x11, 0xc1, 0x66, 0x29, 0xc2, 0x66, 0x19, 0xde,
        0x66, 0x31, 0xc7, 0x66, 0x6b, 0xc3, 0x07, 0x66, 0x89, 0xc5, 0x66, 0xc1,
        0xc3, 0x05, 0x66, 0xc1, 0xd9, 0x03, 0x66, 0xd1, 0xe2, 0x66, 0xc1, 0xee,
        0x07, 0x66, 0xc1, 0xff, 0x03, 0x66, 0x0f, 0xcd, 0xb0, 0x99, 0x04, 0x27,
        0x27, 0x66, 0xf7, 0xd0, 0x66, 0xf7, 0xdb, 0x66, 0x0f, 0xc1, 0xd1, 0x66,
        0x0f, 0xbd, 0xd3, 0x66, 0xa3, 0x00, 0x20, 0x66, 0x89, 0x1e, 0x04, 0x20,
        0x66, 0x51, 0x8f, 0x06, 0x08, 0x20, 0x8f, 0x06, 0x0a, 0x20, 0x66, 0xf7,
        0xe1, 0x66, 0x89, 0xd6, 0x66, 0x31, 0xd2, 0x66, 0x83, 0xcb, 0x01, 0x66,
        0xf7, 0xf3, 0x66, 0x01, 0xc8, 0xf4,
    };
    /* mov eax/ebx/ecx/edx/esi/edi, imm32; add eax, ebx; adc ecx, eax;
     * sub edx, eax; sbb esi, ebx; xor edi, eax; imul eax, ebx, 7;
     * mov ebp, eax; rol ebx, 5; rcr ecx, 3; shl edx, 1; shr esi, 7;
     * sar edi, 3; bswap ebp; mov al, 0x99; add al, 0x27; daa; not eax;
     * neg ebx; xadd ecx, edx; bsr edx, ebx; mov [0x2000], eax;
     * mov [0x2004], ebx; push ecx; pop word [0x2008]; pop word [0x200a];
     * mul ecx; mov esi, edx; xor edx, edx; or ebx, 1; div ebx;
     * add eax, ecx; hlt */
    struct x86_state *start = malloc(sizeof(*start));
    struct x86_state *k = malloc(sizeof(*k)), *i = malloc(sizeof(*i));
    assert_non_null(start);
    assert_non_null(k);
    assert_non_null(i);
    load(prog, sizeof(prog), start);
    run_to_halt(k);
    assert_int_equal(k->gpr[R_AX], 0x9d9d9dc0);
    uint8_t kmem[16];
    memcpy(kmem, m.ram + 0x2000, sizeof(kmem));
    memset(m.ram + 0x2000, 0, sizeof(kmem));

    void *iv = interp->init(&m, 0);
    assert_non_null(iv);
    interp->set_state(iv, start);
    enum run_exit why = RUN_DEADLINE;
    for (int n = 0; n < 1000 && why == RUN_DEADLINE; n++)
        why = interp->run(iv, 10 * NS_PER_SEC);
    assert_int_equal(why, RUN_HALT);
    interp->get_state(iv, i);
    interp->destroy(iv);

    for (int r = 0; r < 8; r++)
        assert_int_equal(i->gpr[r], k->gpr[r]);
    assert_int_equal(i->rip, k->rip);
    assert_int_equal(i->rflags & FL_ARITH, k->rflags & FL_ARITH);
    assert_memory_equal(m.ram + 0x2000, kmem, sizeof(kmem));
    free(start);
    free(k);
    free(i);
}

/* Code KVM cannot fetch (a ROM that is not page-aligned on the host has no
 * memslot) runs one instruction at a time on the interpreter */
static void test_emulation_fallback(void **state)
{
    NEED_KVM();
    rom = aligned_alloc(4096, 8192);
    assert_non_null(rom);
    static const uint8_t rom_code[] = {
        0xb8, 0x21, 0x43,             /* mov ax, 0x4321 */
        0xba, 0x00, 0x03,             /* mov dx, 0x300 */
        0xee,                         /* out dx, al */
        0xf4,                         /* hlt */
    };
    memcpy(rom + 1, rom_code, sizeof(rom_code));
    assert_non_null(mem_map_add_rom(m.mem, "odd-rom", ROM_BASE, 4096, rom + 1, 1));
    static const uint8_t prog[] = {0xea, 0x00, 0x00, 0x00, 0xe0}; /* jmp e000:0 */
    struct x86_state s;
    load(prog, sizeof(prog), &s);
    run_to_halt(&s);
    assert_int_equal(s.gpr[R_AX] & 0xffff, 0x4321);
    assert_int_equal(s.seg[S_CS].selector, 0xe000);
    assert_int_equal(s.rip, sizeof(rom_code));
    assert_int_equal(port_writes, 1);
    assert_int_equal(port_log[0], 0x21);
}

/* An exception with no IDT in protected mode ends in a triple fault: KVM's
 * shutdown exit is RUN_SHUTDOWN */
static void test_triple_fault(void **state)
{
    NEED_KVM();
    static const uint64_t gdt[3] = {
        0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull, /* flat code, data */
    };
    memcpy(m.ram + 0x500, gdt, sizeof(gdt));
    m.ram[CODE] = 0xcc; /* int3 */
    struct boot_cpu boot = {
        .mode = BOOT_PROT32, .rip = CODE, .gdt_base = 0x500,
        .gdt_limit = sizeof(gdt) - 1, .code_sel = 0x08, .data_sel = 0x10,
    };
    boot.gpr[R_SP] = 0x8000;
    struct x86_state *s = malloc(sizeof(*s));
    assert_non_null(s);
    x86_state_reset(s);
    x86_state_apply_boot(s, &boot);
    s->idt.base = 0;
    s->idt.limit = 0;
    ops->set_state(vcpu, s);
    enum run_exit why = RUN_DEADLINE;
    for (int i = 0; i < 1000 && why == RUN_DEADLINE; i++)
        why = ops->run(vcpu, 10 * NS_PER_SEC);
    assert_int_equal(why, RUN_SHUTDOWN);
    free(s);
}

static void fill_state(struct x86_state *s)
{
    x86_state_reset(s);
    for (int i = 0; i < 16; i++)
        s->gpr[i] = 0x0101010101010101ull * (uint64_t)(i + 1);
    s->rip = 0x1234;
    s->rflags = FL_FIXED1 | FL_IF | FL_CF | FL_ZF | FL_DF;
    for (int i = 0; i < 6; i++) {
        s->seg[i].selector = (uint16_t)(0x100 * (i + 1));
        s->seg[i].base = (uint64_t)s->seg[i].selector << 4;
    }
    s->ldt = (struct x86_segment){.base = 0x5000, .limit = 0x7f,
                                  .selector = 0x28, .attr = SEG_ATTR_P | 0x2};
    s->tr = (struct x86_segment){.base = 0x6000, .limit = 0x67,
                                 .selector = 0x30, .attr = SEG_ATTR_P | 0xb};
    s->gdt = (struct x86_dtable){.base = 0x7000, .limit = 0x3f};
    s->idt = (struct x86_dtable){.base = 0x7800, .limit = 0x3ff};
    s->cr0 = CR0_ET | CR0_NE;
    s->cr2 = 0xdead000;
    s->cr3 = 0x9000;
    s->cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
    s->cr8 = 5;
    s->dr[0] = 0x1000;
    s->dr[1] = 0x2000;
    s->dr[2] = 0x3000;
    s->dr[3] = 0x4000;
    s->dr[6] = 0xffff0ff1;
    s->dr[7] = 0x400 | 0x2;
    s->efer = EFER_SCE;
    s->star = 0x0023001000000000ull;
    s->lstar = 0xffffffff81000000ull;
    s->cstar = 0xffffffff81000100ull;
    s->sfmask = 0x47700;
    s->kernel_gs_base = 0xffff888000001000ull;
    s->sysenter_cs = 0x10;
    s->sysenter_esp = 0xc0001000;
    s->sysenter_eip = 0xc0002000;
    s->pat = 0x0007010600070106ull;
    s->tsc_aux = 3;
    s->tsc = 1ull << 40;
    s->mtrr_def_type = 0xc06;
    s->mtrr_fixed[0] = 0x0606060606060606ull;
    s->mtrr_fixed[10] = 0x0505050505050505ull;
    s->mtrr_var[0] = 0x80000006;
    s->mtrr_var[1] = 0xff80000800ull;
    /* x87 control word, MXCSR, XMM0; XSTATE_BV says x87 and SSE are live */
    uint16_t fcw = 0x37f;
    uint32_t mxcsr = 0x1fa0;
    memcpy(&s->xsave[0], &fcw, 2);
    memcpy(&s->xsave[24], &mxcsr, 4);
    for (int i = 0; i < 16; i++)
        s->xsave[160 + i] = (uint8_t)(0xa0 + i);
    s->xsave[512] = 3;
    s->xcr0 = 1;
    s->nmi_masked = 1;
    s->interrupt_shadow = SHADOW_STI;
    s->injected_irq = 0x41;
    s->halted = 1;
}

static void check_seg(const struct x86_segment *a, const struct x86_segment *b)
{
    assert_int_equal(a->base, b->base);
    assert_int_equal(a->limit, b->limit);
    assert_int_equal(a->selector, b->selector);
    assert_int_equal(a->attr, b->attr);
}

static void test_state_round_trip(void **state)
{
    NEED_KVM();
    struct x86_state *in = malloc(sizeof(*in)), *out = malloc(sizeof(*out));
    assert_non_null(in);
    assert_non_null(out);
    fill_state(in);
    ops->set_state(vcpu, in);
    ops->get_state(vcpu, out);
    assert_int_equal(out->version, X86_STATE_VERSION);
    assert_int_equal(out->size, sizeof(*out));
    assert_memory_equal(out->gpr, in->gpr, sizeof(in->gpr));
    assert_int_equal(out->rip, in->rip);
    assert_int_equal(out->rflags, in->rflags);
    for (int i = 0; i < 6; i++)
        check_seg(&out->seg[i], &in->seg[i]);
    check_seg(&out->ldt, &in->ldt);
    check_seg(&out->tr, &in->tr);
    assert_int_equal(out->gdt.base, in->gdt.base);
    assert_int_equal(out->gdt.limit, in->gdt.limit);
    assert_int_equal(out->idt.base, in->idt.base);
    assert_int_equal(out->idt.limit, in->idt.limit);
    assert_int_equal(out->cr0, in->cr0);
    assert_int_equal(out->cr2, in->cr2);
    assert_int_equal(out->cr3, in->cr3);
    assert_int_equal(out->cr4, in->cr4);
    assert_int_equal(out->cr8, in->cr8);
    assert_int_equal(cr8_val, 5);
    assert_int_equal(out->xcr0, in->xcr0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(out->dr[i], in->dr[i]);
    assert_int_equal(out->dr[6], in->dr[6]);
    assert_int_equal(out->dr[7], in->dr[7]);
    assert_int_equal(out->efer, in->efer);
    assert_int_equal(out->star, in->star);
    assert_int_equal(out->lstar, in->lstar);
    assert_int_equal(out->cstar, in->cstar);
    assert_int_equal(out->sfmask, in->sfmask);
    assert_int_equal(out->kernel_gs_base, in->kernel_gs_base);
    assert_int_equal(out->sysenter_cs, in->sysenter_cs);
    assert_int_equal(out->sysenter_esp, in->sysenter_esp);
    assert_int_equal(out->sysenter_eip, in->sysenter_eip);
    assert_int_equal(out->pat, in->pat);
    assert_int_equal(out->tsc_aux, in->tsc_aux);
    assert_int_equal(out->misc_enable, in->misc_enable);
    /* the LAPIC sees the same guest TSC (the manual clock stands at 0) */
    assert_int_equal((uint64_t)m.cpu_link[0].tsc_offset, out->tsc);
    /* the TSC kept running between set and get: well under a second; some
     * software KVMs pass the host TSC through and ignore the write */
    if (out->tsc - in->tsc >= 4000000000ull)
        print_message("note: this host's KVM ignores guest TSC writes\n");
    assert_int_equal(out->mtrr_def_type, in->mtrr_def_type);
    assert_memory_equal(out->mtrr_fixed, in->mtrr_fixed, sizeof(in->mtrr_fixed));
    assert_memory_equal(out->mtrr_var, in->mtrr_var, sizeof(in->mtrr_var));
    assert_memory_equal(out->xsave, in->xsave, 2);          /* FCW */
    assert_memory_equal(out->xsave + 24, in->xsave + 24, 4); /* MXCSR */
    assert_memory_equal(out->xsave + 160, in->xsave + 160, 16); /* XMM0 */
    assert_int_equal(out->nmi_masked, 1);
    assert_int_equal(out->interrupt_shadow, SHADOW_STI);
    assert_int_equal(out->injected_irq, 0x41);
    assert_int_equal(out->exception_pending, 0);
    assert_int_equal(out->halted, 1);

    /* a pending exception with its error code, the NMI latch, MOV SS shadow */
    in->injected_irq = -1;
    in->exception_pending = 1;
    in->exception_vector = EXC_GP;
    in->exception_has_error = 1;
    in->exception_error = 0x18;
    in->nmi_pending = 1;
    in->nmi_masked = 0;
    in->interrupt_shadow = SHADOW_MOV_SS;
    in->halted = 0;
    ops->set_state(vcpu, in);
    ops->get_state(vcpu, out);
    assert_int_equal(out->exception_pending, 1);
    assert_int_equal(out->exception_vector, EXC_GP);
    assert_int_equal(out->exception_has_error, 1);
    assert_int_equal(out->exception_error, 0x18);
    assert_int_equal(out->nmi_pending, 1);
    assert_int_equal(out->nmi_masked, 0);
    assert_int_equal(out->interrupt_shadow, SHADOW_MOV_SS);
    assert_int_equal(out->injected_irq, -1);
    assert_int_equal(out->halted, 0);
    free(in);
    free(out);
}

/* A reset destroys and re-creates the vCPUs: the new one starts at the
 * reset vector again */
static void test_recreate(void **state)
{
    NEED_KVM();
    ops->destroy(vcpu);
    vcpu = ops->init(&m, 0);
    assert_non_null(vcpu);
    struct x86_state *s = malloc(sizeof(*s));
    assert_non_null(s);
    ops->get_state(vcpu, s);
    assert_int_equal(s->rip, 0xfff0);
    assert_int_equal(s->seg[S_CS].selector, 0xf000);
    assert_int_equal(s->seg[S_CS].base, 0xffff0000);
    assert_int_equal(s->cr0, CR0_CD | CR0_NW | CR0_ET);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupt_masked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apic_msrs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a20, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nmi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_sipi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debug, setup, teardown),
        cmocka_unit_test_setup_teardown(test_triple_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emulation_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_differential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recreate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
