/* Runs one x87 instruction on the host FPU (x86-64 hosts have one) with the
 * guest's control word, so precision and rounding control, masked default
 * results, unmasked-exception behaviour and the exception flags are exactly
 * the hardware's.
 *
 * With every exception masked (the usual case) nothing can be left pending:
 * FNCLEX if flags are set, load the two operands, FLDCW guest, the
 * instruction, FNSTSW, store the entries left on the stack (their count
 * from TOP), restore the control word. With an unmasked exception the
 * sequence is FNINIT, load, FLDCW, the instruction, FNSAVE: FNSAVE does not
 * wait, so a pending exception never traps on the host, and it
 * reinitialises the host FPU afterwards. */
#include "cpu/fpu_internal.h"

#define X87_CLOBBERS "memory", "cc", "st", "st(1)", "st(2)", "st(3)", "st(4)", \
                     "st(5)", "st(6)", "st(7)"

static const uint16_t host_fcw = 0x037f;

static void run_masked(enum fpu_host_op op, struct fpu_host_io *io,
                       uint8_t out[3][10])
{
    switch (op) {
#define FPU_HOST_OP(name, bytes)                                              \
    case FH_##name:                                                           \
        __asm__ volatile("fnstsw %%ax\n\t"                                    \
                         "test $0x3f, %%al\n\t"                               \
                         "jz 1f\n\t"                                          \
                         "fnclex\n"                                           \
                         "1:\n\t"                                             \
                         "fldt %[in1]\n\t"                                    \
                         "fldt %[in0]\n\t"                                    \
                         "fldcw %[fcw]\n\t" bytes "\n\t"                      \
                         "fnstsw %[fsw]\n\t"                                  \
                         "movzwl %[fsw], %%eax\n\t"                           \
                         "shr $11, %%eax\n\t"                                 \
                         "and $7, %%eax\n\t"                                  \
                         "cmp $5, %%eax\n\t"                                  \
                         "je 3f\n\t"                                          \
                         "cmp $6, %%eax\n\t"                                  \
                         "je 2f\n\t"                                          \
                         "cmp $7, %%eax\n\t"                                  \
                         "jne 9f\n\t"                                         \
                         "fstpt %[o0]\n\t"                                    \
                         "jmp 9f\n"                                           \
                         "2:\n\t"                                             \
                         "fstpt %[o0]\n\t"                                    \
                         "fstpt %[o1]\n\t"                                    \
                         "jmp 9f\n"                                           \
                         "3:\n\t"                                             \
                         "fstpt %[o0]\n\t"                                    \
                         "fstpt %[o1]\n\t"                                    \
                         "fstpt %[o2]\n"                                      \
                         "9:\n\t"                                             \
                         "fldcw %[hfcw]"                                      \
                         : [fsw] "=m"(io->fsw), [o0] "=m"(out[0]),            \
                           [o1] "=m"(out[1]), [o2] "=m"(out[2])               \
                         : [in1] "m"(io->in1), [in0] "m"(io->in0),            \
                           [fcw] "m"(io->fcw), [hfcw] "m"(host_fcw),          \
                           "d"(io->mem)                                       \
                         : "rax", X87_CLOBBERS);                              \
        break;
#include "cpu/fpu_host_ops.h"
#undef FPU_HOST_OP
    default:
        break;
    }
}

static void run_unmasked(enum fpu_host_op op, struct fpu_host_io *io,
                         uint8_t save[108])
{
    switch (op) {
#define FPU_HOST_OP(name, bytes)                                              \
    case FH_##name:                                                           \
        __asm__ volatile("fninit\n\t"                                         \
                         "fldt %1\n\t"                                        \
                         "fldt %2\n\t"                                        \
                         "fldcw %3\n\t" bytes "\n\t"                          \
                         "fnsave %0\n\t"                                      \
                         "fldcw %4"                                           \
                         : "=m"(*(uint8_t(*)[108])save)                       \
                         : "m"(io->in1), "m"(io->in0), "m"(io->fcw),          \
                           "m"(host_fcw), "d"(io->mem)                        \
                         : X87_CLOBBERS);                                     \
        break;
#include "cpu/fpu_host_ops.h"
#undef FPU_HOST_OP
    default:
        break;
    }
}

void fpu_host_run(enum fpu_host_op op, struct fpu_host_io *io)
{
    uint8_t regs[3][10];
    if ((io->fcw & FSW_EXC) == FSW_EXC) {
        run_masked(op, io, regs);
    } else {
        uint8_t save[108];
        run_unmasked(op, io, save);
        memcpy(&io->fsw, save + 4, 2);
        memcpy(regs, save + 28, sizeof(regs));
    }
    unsigned d = (((io->fsw >> 11) & 7) - 6) & 7;
    io->pops = d <= 2 ? (int)d : (int)d - 8;
    for (int i = 0; i < 3; i++) {
        memcpy(&io->out[i].mant, regs[i], 8);
        memcpy(&io->out[i].se, regs[i] + 8, 2);
    }
}
