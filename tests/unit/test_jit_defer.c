/* Lazy-flags records the JIT leaves out (jit/jit_defer.c) against the
 * interpreter (tests/unit/jit_diff.h): a flag producer on registers, then
 * instructions that only move data, then the next producer. The block's
 * code writes no record for the first producer; when the block stops in
 * between, the record must be there all the same:
 * - a load or a store on an unmapped page, a fault in the next producer's
 *   own load: the exception handler (a HLT) finds the producer's flags in
 *   RFLAGS and in the frame on the stack;
 * - a store that rewrites the next instruction (a NOP into PUSHF): the
 *   block is left after the store and the new PUSHF pushes the flags.
 * The next producer replaces the record or takes its CF (INC, ADC, SBB,
 * DEC of memory, which faults too); PUSHF shows its flags at the end,
 * also when nothing stops the block.
 * Every producer kind and size the JIT leaves out, and some it does not
 * (AH, ADC, ADD r,r), each with random register values. */
#include "tests/unit/jit_diff.h"

#define HANDLER (CODE + 0x8000ull)   /* a HLT of the filler */
#define UNMAPPED 0x600000ull         /* 6-8 MiB: not present */
#define N(a) (sizeof(a) / sizeof((a)[0]))

struct bytes {
    uint8_t n;
    uint8_t b[12];
};

/* the first producer; operands among RAX RCX RDX RBX R8 */
static const struct bytes producers[] = {
    { 2, { 0x01, 0xc8 } },                          /* add eax, ecx */
    { 3, { 0x48, 0x01, 0xc8 } },                    /* add rax, rcx */
    { 3, { 0x66, 0x01, 0xc8 } },                    /* add ax, cx */
    { 2, { 0x00, 0xc8 } },                          /* add al, cl */
    { 7, { 0x41, 0x81, 0xc0, 0xff, 0xff, 0xff, 0x7f } }, /* add r8d, imm */
    { 4, { 0x48, 0x83, 0xc0, 0xff } },              /* add rax, -1 */
    { 2, { 0x29, 0xda } },                          /* sub edx, ebx */
    { 3, { 0x48, 0x29, 0xd2 } },                    /* sub rdx, rdx */
    { 2, { 0x39, 0xd1 } },                          /* cmp ecx, edx */
    { 2, { 0x3c, 0x80 } },                          /* cmp al, 0x80 */
    { 4, { 0x48, 0x83, 0xfb, 0x05 } },              /* cmp rbx, 5 */
    { 5, { 0x25, 0xff, 0x7f, 0x00, 0x00 } },        /* and eax, 0x7fff */
    { 3, { 0x66, 0x09, 0xd1 } },                    /* or cx, dx */
    { 3, { 0x49, 0x31, 0xc0 } },                    /* xor r8, rax */
    { 2, { 0x31, 0xc0 } },                          /* xor eax, eax */
    { 2, { 0x85, 0xca } },                          /* test edx, ecx */
    { 2, { 0xa8, 0x01 } },                          /* test al, 1 */
    { 3, { 0x48, 0x85, 0xdb } },                    /* test rbx, rbx */
    { 2, { 0xff, 0xc0 } },                          /* inc eax */
    { 3, { 0x48, 0xff, 0xc1 } },                    /* inc rcx */
    { 3, { 0x66, 0xff, 0xca } },                    /* dec dx */
    { 2, { 0xfe, 0xcb } },                          /* dec bl */
    { 3, { 0x41, 0xff, 0xc0 } },                    /* inc r8d */
    { 2, { 0xf7, 0xd8 } },                          /* neg eax */
    { 3, { 0x48, 0xf7, 0xdb } },                    /* neg rbx */
    { 2, { 0xf6, 0xd9 } },                          /* neg cl */
    { 4, { 0x41, 0xc1, 0xe0, 0x05 } },              /* shl r8d, 5 */
    { 2, { 0xd1, 0xe0 } },                          /* shl eax, 1 */
    { 4, { 0x48, 0xc1, 0xe0, 0x3f } },              /* shl rax, 63 */
    { 3, { 0xc1, 0xe8, 0x08 } },                    /* shr eax, 8 */
    { 3, { 0x48, 0xd1, 0xe9 } },                    /* shr rcx, 1 */
    { 3, { 0xc1, 0xfa, 0x1f } },                    /* sar edx, 31 */
    { 4, { 0x48, 0xc1, 0xfb, 0x07 } },              /* sar rbx, 7 */
    { 3, { 0xc0, 0xe1, 0x03 } },                    /* shl cl, 3 */
    { 2, { 0x00, 0xcc } },                          /* add ah, cl */
    { 2, { 0x11, 0xc8 } },                          /* adc eax, ecx */
    { 2, { 0x01, 0xc0 } },                          /* add eax, eax */
};

/* what comes between the producer and the next one (RSI = DATA, RDI =
 * UNMAPPED, R9-R11 free) */
static const struct bytes gaps[] = {
    { 3, { 0x4c, 0x8b, 0x0f } },                    /* mov r9, [rdi] */
    { 6, { 0x44, 0x8b, 0x0e, 0x44, 0x89, 0x0f } },  /* mov r9d, [rsi];
                                                       mov [rdi], r9d */
    { 10, { 0x4c, 0x8d, 0x14, 0x08,                /* lea r10, [rax+rcx] */
            0x41, 0x53,                            /* push r11 */
            0x44, 0x0f, 0xb6, 0x0f } },            /* movzx r9d, [rdi] */
    { 8, { 0xc6, 0x05, 0x00, 0x00, 0x00, 0x00, 0x9c, /* mov byte [rip], 0x9c */
           0x90 } },                                /* nop, made PUSHF */
    { 2, { 0x33, 0x3f } },                          /* xor edi, [rdi] (ends) */
    { 9, { 0x44, 0x8b, 0x0e,                        /* mov r9d, [rsi] */
           0x4c, 0x8d, 0x14, 0x08, 0x41, 0x53 } },  /* lea; push r11 */
};

/* the next producer: one that replaces the record, or reads its CF */
static const struct bytes ends[] = {
    { 2, { 0x31, 0xf6 } },                          /* xor esi, esi */
    { 2, { 0xff, 0xc6 } },                          /* inc esi */
    { 2, { 0x11, 0xce } },                          /* adc esi, ecx */
    { 3, { 0x48, 0x19, 0x0e } },                    /* sbb [rsi], rcx */
    { 2, { 0xff, 0x0f } },                          /* dec dword [rdi] */
};

static void test_left_out_records(void **state)
{
    (void)state;
    static uint8_t code[64];
    for (unsigned p = 0; p < N(producers); p++) {
        for (unsigned g = 0; g < N(gaps) * N(ends); g++) {
            const struct bytes *gap = &gaps[g % N(gaps)];
            const struct bytes *end = &ends[g / N(gaps)];
            for (unsigned k = 0; k < 2; k++) {
                size_t n = 0;
                memcpy(code + n, producers[p].b, producers[p].n);
                n += producers[p].n;
                memcpy(code + n, gap->b, gap->n);
                n += gap->n;
                memcpy(code + n, end->b, end->n);
                n += end->n;
                memcpy(code + n, (uint8_t[]){ 0x9c, 0xf4 }, 2);
                n += 2;   /* pushf; hlt */
                uint64_t gpr[16];
                random_gprs(gpr, NULL);
                gpr[R_SI] = DATA;
                gpr[R_DI] = UNMAPPED;
                load_both(M64, code, n, gpr);
                struct vm *vms[2] = { &vi, &vj };
                for (int v = 0; v < 2; v++) {
                    put64(vms[v], PML4 + 0x2000 + 8 * 3, 0);
                    mmu_flush(vms[v]->cpu, true);
                }
                idt_all_to(M64, HANDLER);
                char what[64];
                snprintf(what, sizeof(what), "producer %u gap %u end %u run %u",
                         p, g % (unsigned)N(gaps), g / (unsigned)N(gaps), k);
                run_both(what);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_left_out_records, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
