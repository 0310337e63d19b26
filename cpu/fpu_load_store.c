/* x87 loads and stores with memory: FLD/FST(P) of float32/64/80, FILD/
 * FIST(P)/FISTTP of int16/32/64, FBLD/FBSTP packed BCD. Stack overflow on
 * loads and underflow on stores are handled here (masked: the QNaN or
 * integer indefinite); conversions run on the host FPU. */
#include "cpu/fpu_internal.h"

struct mem_fmt {
    uint8_t size;
    int8_t host_op;      /* enum fpu_host_op, -1: the 80-bit format */
    uint8_t pop;         /* stores: the guest form pops */
};

/* indexed by (opcode - 0xd8) / 2 * 8 + reg for D9, DB, DD, DF; size 0 for
 * what is not a load or store */
static const struct mem_fmt fmts[4][8] = {
    [0] = { /* D9 */
        [0] = { 4, FH_FLD_M32, 0 }, [2] = { 4, FH_FSTP_M32, 0 },
        [3] = { 4, FH_FSTP_M32, 1 },
    },
    [1] = { /* DB */
        [0] = { 4, FH_FILD_M32, 0 }, [1] = { 4, FH_FISTTP_M32, 1 },
        [2] = { 4, FH_FISTP_M32, 0 }, [3] = { 4, FH_FISTP_M32, 1 },
        [5] = { 10, -1, 0 }, [7] = { 10, -1, 1 },
    },
    [2] = { /* DD */
        [0] = { 8, FH_FLD_M64, 0 }, [1] = { 8, FH_FISTTP_M64, 1 },
        [2] = { 8, FH_FSTP_M64, 0 }, [3] = { 8, FH_FSTP_M64, 1 },
    },
    [3] = { /* DF */
        [0] = { 2, FH_FILD_M16, 0 }, [1] = { 2, FH_FISTTP_M16, 1 },
        [2] = { 2, FH_FISTP_M16, 0 }, [3] = { 2, FH_FISTP_M16, 1 },
        [4] = { 10, FH_FBLD, 0 }, [5] = { 8, FH_FILD_M64, 0 },
        [6] = { 10, FH_FBSTP, 1 }, [7] = { 8, FH_FISTP_M64, 1 },
    },
};

static bool is_load(uint8_t opcode, unsigned reg)
{
    return reg == 0 || (opcode == 0xdb && reg == 5) ||
           (opcode == 0xdf && (reg == 4 || reg == 5));
}

static bool is_int_store(uint8_t opcode, unsigned reg)
{
    return opcode == 0xdb || opcode == 0xdf ||
           (opcode == 0xdd && reg == 1); /* FISTTP m64 */
}

/* the masked-underflow value a store writes */
static void indefinite(uint8_t *buf, unsigned size, bool integer, bool bcd)
{
    memset(buf, 0, size);
    if (bcd) {
        buf[7] = 0xc0;
        buf[8] = buf[9] = 0xff;
    } else if (size == 10) {
        memcpy(buf, &fx80_indefinite.mant, 8);
        memcpy(buf + 8, &fx80_indefinite.se, 2);
    } else if (integer) {
        buf[size - 1] = 0x80;
    } else if (size == 4) {
        buf[2] = 0xc0;
        buf[3] = 0xff;
    } else {
        buf[6] = 0xf8;
        buf[7] = 0xff;
    }
}

static void load(struct cpu *cpu, const struct x86_insn *insn, uint64_t ea,
                 const struct mem_fmt *f)
{
    struct fpu_host_io io = { .fcw = fpu_fcw(cpu) };
    vec_read(cpu, insn, ea, io.mem, f->size);
    if (!fpu_st_empty(cpu, 7)) {
        if (fpu_stack_overflow(cpu))
            fpu_push(cpu, fx80_indefinite);
        return;
    }
    if (f->host_op < 0) {
        struct fx80 v;
        memcpy(&v.mant, io.mem, 8);
        memcpy(&v.se, io.mem + 8, 2);
        fpu_set_cc(cpu, FSW_C1, 0);
        fpu_push(cpu, v);
        return;
    }
    fpu_host_run(f->host_op, &io);
    fpu_merge_host(cpu, &io, FSW_C1);
    if (io.pops == -1)
        fpu_push(cpu, io.out[0]);
}

static void store(struct cpu *cpu, const struct x86_insn *insn, uint64_t ea,
                  const struct mem_fmt *f)
{
    uint8_t buf[10];
    if (fpu_st_empty(cpu, 0)) {
        fpu_set_cc(cpu, FSW_C1, 0);
        if (fpu_unmasked(cpu, FSW_IE)) {
            fpu_stack_underflow(cpu);
            return;
        }
        bool bcd = f->host_op == FH_FBSTP;
        bool integer = is_int_store(insn->opcode, insn->reg & 7) && !bcd &&
                       f->size != 10;
        indefinite(buf, f->size, integer, bcd);
        vec_write(cpu, insn, ea, buf, f->size);
        fpu_stack_underflow(cpu);
    } else if (f->host_op < 0) {
        struct fx80 v = fpu_st(cpu, 0);
        memcpy(buf, &v.mant, 8);
        memcpy(buf + 8, &v.se, 2);
        vec_write(cpu, insn, ea, buf, 10);
        fpu_set_cc(cpu, FSW_C1, 0);
    } else {
        struct fpu_host_io io = { .in0 = fpu_st(cpu, 0), .fcw = fpu_fcw(cpu) };
        io.in1 = io.in0;
        fpu_host_run(f->host_op, &io);
        if (io.pops == 1)
            vec_write(cpu, insn, ea, io.mem, f->size);
        fpu_merge_host(cpu, &io, FSW_C1);
        if (io.pops != 1)
            return;
    }
    if (f->pop)
        fpu_pop(cpu);
}

void fpu_exec_load_store(struct cpu *cpu, const struct x86_insn *insn,
                         uint64_t ea)
{
    unsigned reg = insn->reg & 7;
    const struct mem_fmt *f = &fmts[(insn->opcode - 0xd9) >> 1][reg];
    if (!f->size)
        cpu_raise_noerr(cpu, EXC_UD);
    if (is_load(insn->opcode, reg))
        load(cpu, insn, ea, f);
    else
        store(cpu, insn, ea, f);
}
