/* Boot state (see boot_state.h): real mode at a segment, or flat protected
 * or long mode as the Linux boot protocol and Multiboot prescribe. */
#include "cpu/boot_state.h"

#include "cpu/cpu_model.h"

#include <stdbool.h>
#include <string.h>

/* attr of a flat, accessed, present, 4 GiB segment */
#define ATTR_CODE32 (0xb | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G)
#define ATTR_CODE64 (0xb | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L | SEG_ATTR_G)
#define ATTR_DATA (0x3 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G)
#define ATTR_REAL_CODE (0xb | SEG_ATTR_S | SEG_ATTR_P)
#define ATTR_REAL_DATA (0x3 | SEG_ATTR_S | SEG_ATTR_P)

static void set_seg(struct x86_segment *seg, uint16_t sel, uint64_t base,
                    uint32_t limit, uint32_t attr)
{
    seg->selector = sel;
    seg->base = base;
    seg->limit = limit;
    seg->attr = attr;
}

/* What firmware leaves in the MTRRs: write-back by default, the PCI hole
 * [0xB0000000, 4 GiB) uncacheable through two variable ranges */
static void set_firmware_mtrrs(struct x86_state *s)
{
    const uint64_t valid = 1u << 11;
    s->mtrr_def_type = (1u << 11) | 6;              /* enabled, WB */
    s->mtrr_var[0] = 0xc0000000ull;                 /* UC */
    s->mtrr_var[1] = (~(0x40000000ull - 1) & CPU_PHYS_MASK) | valid;
    s->mtrr_var[2] = 0xb0000000ull;                 /* UC */
    s->mtrr_var[3] = (~(0x10000000ull - 1) & CPU_PHYS_MASK) | valid;
}

void x86_state_apply_boot(struct x86_state *s, const struct boot_cpu *b)
{
    if (b->mode == BOOT_RESET)
        return;
    set_firmware_mtrrs(s);
    memcpy(s->gpr, b->gpr, sizeof(s->gpr));
    s->rip = b->rip;
    s->rflags = FL_FIXED1;
    if (b->mode == BOOT_REAL) {
        set_seg(&s->seg[S_CS], b->real_cs, (uint64_t)b->real_cs << 4, 0xffff,
                ATTR_REAL_CODE);
        for (int i = 0; i < 6; i++)
            if (i != S_CS)
                set_seg(&s->seg[i], b->real_data_seg,
                        (uint64_t)b->real_data_seg << 4, 0xffff, ATTR_REAL_DATA);
        return;
    }
    bool lm = b->mode == BOOT_LONG64;
    set_seg(&s->seg[S_CS], b->code_sel, 0, 0xffffffff,
            lm ? ATTR_CODE64 : ATTR_CODE32);
    for (int i = 0; i < 6; i++)
        if (i != S_CS)
            set_seg(&s->seg[i], b->data_sel, 0, 0xffffffff, ATTR_DATA);
    s->gdt.base = b->gdt_base;
    s->gdt.limit = b->gdt_limit;
    s->cr0 |= CR0_PE;
    /* a task register that is usable, as after LTR, so that a kernel that
     * never loads one still has a valid TR */
    s->tr.attr = 0xb | SEG_ATTR_P;
    if (lm) {
        s->cr3 = b->cr3;
        s->cr4 |= CR4_PAE;
        s->efer |= EFER_LME | EFER_LMA;
        s->cr0 |= CR0_PG;
    }
}
