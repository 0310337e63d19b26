/* Runs one x87 instruction on the host FPU (x86-64 hosts have one) with the
 * guest's control word, so precision and rounding control, masked default
 * results, unmasked-exception behaviour and the exception flags are exactly
 * the hardware's. The sequence is FNINIT, load two operands, FLDCW guest,
 * the instruction, FNSAVE: FNSAVE does not wait, so an unmasked exception
 * never traps on the host, and it reinitialises the host FPU afterwards. */
#include "cpu/fpu_internal.h"

void fpu_host_run(enum fpu_host_op op, struct fpu_host_io *io)
{
    uint8_t save[108];

    switch (op) {
#define FPU_HOST_OP(name, bytes)                                              \
    case FH_##name:                                                           \
        __asm__ volatile("fninit\n\t"                                         \
                         "fldt %1\n\t"                                        \
                         "fldt %2\n\t"                                        \
                         "fldcw %3\n\t" bytes "\n\t"                          \
                         "fnsave %0"                                          \
                         : "=m"(save)                                         \
                         : "m"(io->in1), "m"(io->in0), "m"(io->fcw),          \
                           "d"(io->mem)                                       \
                         : "memory", "st", "st(1)", "st(2)", "st(3)",         \
                           "st(4)", "st(5)", "st(6)", "st(7)");               \
        break;
#include "cpu/fpu_host_ops.h"
#undef FPU_HOST_OP
    default:
        return;
    }
    memcpy(&io->fsw, save + 4, 2);
    unsigned d = (((io->fsw >> 11) & 7) - 6) & 7;
    io->pops = d <= 2 ? (int)d : (int)d - 8;
    for (int i = 0; i < 4; i++) {
        memcpy(&io->out[i].mant, save + 28 + 10 * i, 8);
        memcpy(&io->out[i].se, save + 36 + 10 * i, 2);
    }
}
