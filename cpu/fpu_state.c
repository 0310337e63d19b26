/* The x87 register stack kept in place in cpu->s.xsave: ST(i) in stack order
 * at 16-byte stride (as FXSAVE stores them), the abridged tag bit of each
 * physical register, TOP in the FSW. Pushes and pops rotate the eight slots
 * as a ring, so registers keep their contents when tagged empty, as on the
 * hardware. The full two-bit tags are derived from the contents whenever an
 * FSTENV/FSAVE image needs them. */
#include "cpu/fpu_internal.h"

const struct fx80 fx80_indefinite = { 0xc000000000000000ull, 0xffff };

void fpu_set_fsw(struct cpu *cpu, uint16_t fsw)
{
    fsw &= ~(FSW_ES | FSW_B);
    if (fsw & ~fpu_fcw(cpu) & FSW_EXC)
        fsw |= FSW_ES | FSW_B;
    fx_set16(cpu, FX_FSW, fsw);
}

void fpu_set_top(struct cpu *cpu, unsigned top)
{
    uint16_t fsw = fpu_fsw(cpu);
    fx_set16(cpu, FX_FSW, (fsw & ~0x3800) | ((top & 7) << 11));
}

void fpu_set_exceptions(struct cpu *cpu, uint16_t exc)
{
    fpu_set_fsw(cpu, fpu_fsw(cpu) | (exc & (FSW_EXC | FSW_SF)));
}

void fpu_set_cc(struct cpu *cpu, uint16_t mask, uint16_t bits)
{
    uint16_t fsw = fpu_fsw(cpu);
    fx_set16(cpu, FX_FSW, (fsw & ~mask) | (bits & mask));
}

static unsigned phys(struct cpu *cpu, unsigned i)
{
    return (fpu_top(cpu) + i) & 7;
}

bool fpu_st_empty(struct cpu *cpu, unsigned i)
{
    return !(cpu->s.xsave[FX_FTW] & (1u << phys(cpu, i)));
}

struct fx80 fpu_st(struct cpu *cpu, unsigned i)
{
    struct fx80 v;
    memcpy(&v.mant, fx_ptr(cpu, FX_ST + 16 * (i & 7)), 8);
    memcpy(&v.se, fx_ptr(cpu, FX_ST + 16 * (i & 7) + 8), 2);
    return v;
}

void fpu_set_st(struct cpu *cpu, unsigned i, struct fx80 v)
{
    uint8_t *p = fx_ptr(cpu, FX_ST + 16 * (i & 7));
    memcpy(p, &v.mant, 8);
    memcpy(p + 8, &v.se, 2);
    memset(p + 10, 0, 6);
    cpu->s.xsave[FX_FTW] |= 1u << phys(cpu, i);
}

void fpu_set_tag_empty(struct cpu *cpu, unsigned i)
{
    cpu->s.xsave[FX_FTW] &= ~(1u << phys(cpu, i));
}

/* rotate the slots so that slot i shows ST(i) after TOP moves by delta */
static void rotate(struct cpu *cpu, int delta)
{
    uint8_t tmp[128];
    uint8_t *st = fx_ptr(cpu, FX_ST);
    for (unsigned i = 0; i < 8; i++)
        memcpy(tmp + 16 * i, st + 16 * ((i + delta) & 7), 16);
    memcpy(st, tmp, sizeof(tmp));
    fpu_set_top(cpu, fpu_top(cpu) + delta);
}

void fpu_push(struct cpu *cpu, struct fx80 v)
{
    rotate(cpu, -1);
    fpu_set_st(cpu, 0, v);
}

void fpu_pop(struct cpu *cpu)
{
    fpu_set_tag_empty(cpu, 0);
    rotate(cpu, 1);
}

void fpu_incstp(struct cpu *cpu) { rotate(cpu, 1); }
void fpu_decstp(struct cpu *cpu) { rotate(cpu, -1); }

void fpu_move_top(struct cpu *cpu, unsigned top)
{
    unsigned old = fpu_top(cpu);
    if (old != (top & 7))
        rotate(cpu, (int)((top - old) & 7));
}

void fpu_rotate_to_physical(struct cpu *cpu)
{
    fpu_move_top(cpu, 0);
}

/* 0 valid, 1 zero, 2 special, 3 empty */
static unsigned full_tag(struct cpu *cpu, unsigned p)
{
    if (!(cpu->s.xsave[FX_FTW] & (1u << p)))
        return 3;
    struct fx80 v = fpu_st(cpu, (p - fpu_top(cpu)) & 7);
    unsigned exp = v.se & 0x7fff;
    if (exp == 0x7fff)
        return 2;
    if (exp == 0)
        return v.mant ? 2 : 1;
    return (v.mant >> 63) ? 0 : 2;
}

uint16_t fpu_full_tag_word(struct cpu *cpu)
{
    uint16_t ftw = 0;
    for (unsigned p = 0; p < 8; p++)
        ftw |= full_tag(cpu, p) << (2 * p);
    return ftw;
}

void fpu_load_full_tag_word(struct cpu *cpu, uint16_t ftw)
{
    uint8_t abridged = 0;
    for (unsigned p = 0; p < 8; p++)
        if (((ftw >> (2 * p)) & 3) != 3)
            abridged |= 1u << p;
    cpu->s.xsave[FX_FTW] = abridged;
}

void fpu_mark_in_use(struct cpu *cpu)
{
    cpu->s.xsave[XS_HEADER] |= 3;
}

void fpu_reset(struct cpu *cpu)
{
    fpu_move_top(cpu, 0);
    fx_set16(cpu, FX_FCW, 0x037f);
    fx_set16(cpu, FX_FSW, 0);
    cpu->s.xsave[FX_FTW] = 0;
    fx_set16(cpu, FX_FOP, 0);
    fx_set64(cpu, FX_FIP, 0);
    fx_set64(cpu, FX_FDP, 0);
}

bool fpu_stack_underflow(struct cpu *cpu)
{
    fpu_set_cc(cpu, FSW_C1, 0);
    fpu_set_exceptions(cpu, FSW_IE | FSW_SF);
    return !fpu_unmasked(cpu, FSW_IE);
}

bool fpu_stack_overflow(struct cpu *cpu)
{
    fpu_set_cc(cpu, FSW_C1, FSW_C1);
    fpu_set_exceptions(cpu, FSW_IE | FSW_SF);
    return !fpu_unmasked(cpu, FSW_IE);
}

void fpu_merge_host(struct cpu *cpu, const struct fpu_host_io *io,
                    uint16_t cc_mask)
{
    fpu_set_cc(cpu, cc_mask, io->fsw);
    fpu_set_exceptions(cpu, io->fsw & FSW_EXC);
}
