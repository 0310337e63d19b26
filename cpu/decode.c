/* The x86 instruction decoder: legacy prefixes, REX, the opcode maps through
 * the opcode table (cpu/opcode_table.c), modrm/SIB/displacement for 16-,
 * 32- and 64-bit addressing, and the immediates. It produces the struct
 * x86_insn of cpu/decode.h that the interpreter, the JIT front end and the
 * disassembly views share. Pure: no CPU state, no memory access. */
#include "cpu/decode.h"

#include <string.h>
#include "cpu/opcode_table.h"
#include "cpu/x86_state.h"

#define MAX_LEN 15

struct cursor {
    const uint8_t *code;
    unsigned avail, pos;
};

/* 1 when n more bytes are there, 0 when more are needed, -2 past 15 */
static int have(const struct cursor *c, unsigned n)
{
    if (c->pos + n > MAX_LEN)
        return -2;
    if (c->pos + n > c->avail)
        return 0;
    return 1;
}

static uint64_t take(struct cursor *c, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)c->code[c->pos + i] << (8 * i);
    c->pos += n;
    return v;
}

static int64_t sign_extend(uint64_t v, unsigned bytes)
{
    unsigned sh = 64 - 8 * bytes;
    return (int64_t)(v << sh) >> sh;
}

/* Pick the row for the decoded opcode/modrm: an exact mandatory-prefix
 * match wins over a prefix-independent (PFX_ANY) row. */
static const struct x86_opcode *select_row(const struct x86_opcode_slot *slot,
                                           const struct x86_insn *insn,
                                           unsigned mp, unsigned modrm,
                                           bool mode64)
{
    const struct x86_opcode *fallback = NULL;
    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    for (unsigned i = 0; i < slot->count; i++) {
        const struct x86_opcode *row = &slot->first[i];
        if ((row->attr & OPA_I64) && mode64)
            continue;
        if ((row->attr & OPA_O64) && !mode64)
            continue;
        if (row->reg >= 0 && (unsigned)row->reg != reg)
            continue;
        if (row->mod == MOD_MEM && mod == 3)
            continue;
        if (row->mod == MOD_REG &&
            (mod != 3 || (row->rm >= 0 && (unsigned)row->rm != rm)))
            continue;
        if (row->pfx == mp)
            return row;
        if (row->pfx == PFX_ANY && !fallback)
            fallback = row;
    }
    (void)insn;
    return fallback;
}

/* modrm operand kinds that require a register or a memory form */
static bool operands_fit(const struct x86_opcode *row, unsigned mod,
                         const struct x86_insn *insn)
{
    for (unsigned i = 0; i < row->nopnd; i++) {
        const struct x86_operand *o = &row->opnd[i];
        switch (o->method) {
        case OM_M:
            if (mod == 3)
                return false;
            break;
        case OM_N: case OM_R: case OM_U:
            if (mod != 3 && !(row->attr & OPA_MODIGN))
                return false;
            break;
        case OM_S:
            if (insn->reg > 5 || (row->id == I_MOVSEG && insn->reg == S_CS))
                return false;
            break;
        case OM_C:
            if (insn->reg != 0 && insn->reg != 2 && insn->reg != 3 &&
                insn->reg != 4 && insn->reg != 8)
                return false;
            break;
        case OM_D:
            if (insn->reg > 7)
                return false;
            break;
        default:
            break;
        }
    }
    return true;
}

static int decode_modrm_mem(struct x86_insn *insn, struct cursor *c,
                            unsigned modrm, bool mode64)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    unsigned disp_size = 0;
    int r;
    insn->has_mem = 1;
    insn->scale = 1;
    insn->mem_seg = S_DS;
    if (insn->addrsize == 2) {
        static const int8_t base16[8] = { R_BX, R_BX, R_BP, R_BP, R_SI, R_DI,
                                          R_BP, R_BX };
        static const int8_t index16[8] = { R_SI, R_DI, R_SI, R_DI, -1, -1, -1,
                                           -1 };
        insn->base = base16[rm];
        insn->index = index16[rm];
        if (mod == 0 && rm == 6) {
            insn->base = -1;
            disp_size = 2;
        } else {
            disp_size = mod == 1 ? 1 : mod == 2 ? 2 : 0;
        }
        if (insn->base == R_BP)
            insn->mem_seg = S_SS;
    } else {
        unsigned base = rm;
        if (rm == 4) {
            if ((r = have(c, 1)) <= 0)
                return r;
            unsigned sib = take(c, 1);
            unsigned index = ((sib >> 3) & 7) | ((insn->rex & 2) << 2);
            insn->scale = 1u << (sib >> 6);
            insn->index = index == 4 ? -1 : (int8_t)index;
            base = sib & 7;
            if (base == 5 && mod == 0) {
                insn->base = -1;
                disp_size = 4;
            } else {
                insn->base = base | ((insn->rex & 1) << 3);
            }
        } else if (rm == 5 && mod == 0) {
            insn->base = -1;
            disp_size = 4;
            insn->rip_relative = mode64;
        } else {
            insn->base = rm | ((insn->rex & 1) << 3);
        }
        if (mod == 1)
            disp_size = 1;
        else if (mod == 2)
            disp_size = 4;
        if (insn->base == R_SP || insn->base == R_BP)
            insn->mem_seg = S_SS;
    }
    if (disp_size) {
        if ((r = have(c, disp_size)) <= 0)
            return r;
        insn->disp = sign_extend(take(c, disp_size), disp_size);
    }
    return 1;
}

static int decode_immediates(struct x86_insn *insn, struct cursor *c)
{
    const struct x86_opcode *row = insn->op;
    bool first = true;
    int r;
    for (unsigned i = 0; i < row->nopnd; i++) {
        const struct x86_operand *o = &row->opnd[i];
        unsigned n;
        bool sext = false;
        switch (o->method) {
        case OM_I: case OM_IS:
            n = o->size == OS_v ? insn->opsize : x86_operand_bytes(insn, o);
            sext = o->method == OM_IS || o->size == OS_z || o->size == OS_v;
            break;
        case OM_J:
            n = o->size == OS_b ? 1 : insn->opsize == 2 ? 2 : 4;
            sext = true;
            break;
        case OM_A:
            n = insn->opsize == 2 ? 2 : 4;
            if ((r = have(c, n + 2)) <= 0)
                return r;
            insn->imm_size = n;
            insn->imm = take(c, n);
            insn->imm2 = take(c, 2);
            continue;
        case OM_O:
            n = insn->addrsize;
            if ((r = have(c, n)) <= 0)
                return r;
            insn->has_mem = 1;
            insn->base = insn->index = -1;
            insn->scale = 1;
            insn->disp = take(c, n);
            continue;
        default:
            continue;
        }
        if ((r = have(c, n)) <= 0)
            return r;
        uint64_t v = take(c, n);
        int64_t val = sext ? sign_extend(v, n) : (int64_t)v;
        if (first) {
            insn->imm_size = n;
            insn->imm = val;
            first = false;
        } else {
            insn->imm2 = val;
        }
    }
    return 1;
}

static void set_sizes(struct x86_insn *insn, unsigned code_size)
{
    uint32_t attr = insn->op ? insn->op->attr : 0;
    if (code_size == 8) {
        if (insn->rex & 8)
            insn->opsize = 8;
        else if (attr & OPA_F64)
            insn->opsize = 8;
        else if (attr & OPA_D64)
            insn->opsize = insn->opsize_prefix ? 2 : 8;
        else
            insn->opsize = insn->opsize_prefix ? 2 : 4;
        insn->addrsize = insn->addrsize_prefix ? 4 : 8;
    } else {
        unsigned other = code_size == 4 ? 2 : 4;
        insn->opsize = insn->opsize_prefix ? other : code_size;
        insn->addrsize = insn->addrsize_prefix ? other : code_size;
    }
}

static int fail(struct x86_insn *insn, const struct cursor *c, int r)
{
    insn->len = c->pos;
    insn->op = NULL;
    memcpy(insn->bytes, c->code, c->pos < c->avail ? c->pos : c->avail);
    return r;
}

int x86_decode(struct x86_insn *insn, const uint8_t *code, unsigned avail,
               unsigned code_size)
{
    struct cursor c = { code, avail, 0 };
    bool mode64 = code_size == 8;
    int r;

    x86_opcode_table_init();
    memset(insn, 0, sizeof(*insn));
    insn->seg_override = S_NONE;
    insn->mem_seg = S_NONE;
    insn->base = insn->index = -1;

    /* legacy prefixes and REX (a REX counts only right before the opcode) */
    for (;;) {
        if ((r = have(&c, 1)) <= 0)
            return fail(insn, &c, r);
        uint8_t b = code[c.pos];
        if (mode64 && (b & 0xf0) == 0x40) {
            insn->rex = b;
            c.pos++;
            continue;
        }
        switch (b) {
        case 0xf0: insn->lock = 1; break;
        case 0xf2: case 0xf3: insn->rep = b; break;
        case 0x26: insn->seg_override = S_ES; break;
        case 0x2e: insn->seg_override = S_CS; break;
        case 0x36: insn->seg_override = S_SS; break;
        case 0x3e: insn->seg_override = S_DS; break;
        case 0x64: insn->seg_override = S_FS; break;
        case 0x65: insn->seg_override = S_GS; break;
        case 0x66: insn->opsize_prefix = 1; break;
        case 0x67: insn->addrsize_prefix = 1; break;
        default: goto opcode;
        }
        insn->rex = 0;
        c.pos++;
    }

opcode:
    insn->map = MAP_ONE;
    insn->opcode = take(&c, 1);
    if (insn->opcode == 0x0f) {
        if ((r = have(&c, 1)) <= 0)
            return fail(insn, &c, r);
        insn->map = MAP_0F;
        insn->opcode = take(&c, 1);
        if (insn->opcode == 0x38 || insn->opcode == 0x3a) {
            if ((r = have(&c, 1)) <= 0)
                return fail(insn, &c, r);
            insn->map = insn->opcode == 0x38 ? MAP_0F38 : MAP_0F3A;
            insn->opcode = take(&c, 1);
        }
    }
    const struct x86_opcode_slot *slot = x86_opcode_slot(insn->map,
                                                         insn->opcode);
    if (!slot->count)
        return fail(insn, &c, -1);

    unsigned modrm = 0;
    if (slot->has_modrm) {
        if ((r = have(&c, 1)) <= 0)
            return fail(insn, &c, r);
        modrm = take(&c, 1);
        insn->has_modrm = 1;
        insn->mod = modrm >> 6;
        insn->reg = ((modrm >> 3) & 7) | ((insn->rex & 4) << 1);
        insn->rm = (modrm & 7) | ((insn->rex & 1) << 3);
    } else {
        insn->rm = (insn->opcode & 7) | ((insn->rex & 1) << 3);
    }

    unsigned mp = insn->rep == 0xf3 ? PFX_F3 : insn->rep == 0xf2 ? PFX_F2 :
                  insn->opsize_prefix ? PFX_66 : PFX_NP;
    insn->op = select_row(slot, insn, mp, modrm, mode64);
    set_sizes(insn, code_size);
    if (!insn->op || !operands_fit(insn->op, insn->mod, insn))
        return fail(insn, &c, -1);

    if (insn->has_modrm && insn->mod != 3 && !(insn->op->attr & OPA_MODIGN)) {
        if ((r = decode_modrm_mem(insn, &c, modrm, mode64)) <= 0)
            return fail(insn, &c, r);
    }
    if ((r = decode_immediates(insn, &c)) <= 0)
        return fail(insn, &c, r);

    /* the segment of the memory operand, moffs and string source */
    if (insn->mem_seg == S_NONE)
        insn->mem_seg = S_DS;
    if (insn->seg_override != S_NONE &&
        (!mode64 || insn->seg_override >= S_FS))
        insn->mem_seg = insn->seg_override;

    if (insn->lock && (!(insn->op->attr & OPA_LOCK) || !insn->has_mem))
        return fail(insn, &c, -1);

    insn->len = c.pos;
    memcpy(insn->bytes, code, c.pos);
    return c.pos;
}
