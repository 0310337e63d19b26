/* The power-on (RESET) state of an x86 vCPU, as the Intel SDM's table
 * "IA-32 and Intel 64 Processor States Following Power-up, Reset, or INIT"
 * gives it. Every backend starts from this plain-data state. */
#include <string.h>
#include "cpu/cpu_model.h"
#include "cpu/x86_state.h"

static void seg_set(struct x86_segment *s, uint16_t sel, uint64_t base,
                    uint32_t attr)
{
    s->selector = sel;
    s->base = base;
    s->limit = 0xffff;
    s->attr = attr;
}

void x86_state_reset(struct x86_state *s)
{
    memset(s, 0, sizeof(*s));
    s->version = X86_STATE_VERSION;
    s->size = sizeof(*s);

    s->gpr[R_DX] = CPU_SIGNATURE;
    s->rip = 0xfff0;
    s->rflags = FL_FIXED1;

    /* present, accessed read/write data; CS: accessed execute/read code */
    for (int i = 0; i < 6; i++)
        seg_set(&s->seg[i], 0, 0, SEG_ATTR_P | SEG_ATTR_S | 0x3);
    seg_set(&s->seg[S_CS], 0xf000, 0xffff0000, SEG_ATTR_P | SEG_ATTR_S | 0xb);
    seg_set(&s->ldt, 0, 0, SEG_ATTR_P | 0x2);   /* LDT */
    seg_set(&s->tr, 0, 0, SEG_ATTR_P | 0xb);    /* busy 32-bit TSS */
    s->gdt.limit = 0xffff;
    s->idt.limit = 0xffff;

    s->cr0 = CR0_CD | CR0_NW | CR0_ET;
    s->xcr0 = 1;
    s->dr[6] = 0xffff0ff0;
    s->dr[7] = 0x400;
    s->pat = 0x0007040600070406ull;
    s->misc_enable = MISC_ENABLE_RESET;

    /* x87 control word 0040h after RESET (FINIT would give 037Fh); MXCSR */
    s->xsave[0] = 0x40;
    uint32_t mxcsr = 0x1f80, mxcsr_mask = 0xffff;
    memcpy(&s->xsave[24], &mxcsr, 4);
    memcpy(&s->xsave[28], &mxcsr_mask, 4);

    s->injected_irq = -1;
}
