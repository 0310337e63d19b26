/* What vm/ needs to know of struct x86_state to carry it between backends
 * and into snapshots, and to show it in the monitor, without including
 * cpu/ headers (see vm/accel.h). */
#include <stddef.h>
#include <stdio.h>
#include "cpu/x86_state.h"
#include "vm/accel.h"

_Static_assert(offsetof(struct x86_state, version) == 0 &&
                   offsetof(struct x86_state, size) == 4,
               "vm/ reads the version and size words first");

const uint32_t accel_cpu_state_size = sizeof(struct x86_state);
const uint32_t accel_cpu_state_version = X86_STATE_VERSION;

size_t accel_cpu_state_format(const void *state, char *buf, size_t len)
{
    static const char *const gpr[16] = {"RAX", "RCX", "RDX", "RBX", "RSP",
                                        "RBP", "RSI", "RDI", "R8", "R9",
                                        "R10", "R11", "R12", "R13", "R14",
                                        "R15"};
    static const char *const seg[6] = {"ES", "CS", "SS", "DS", "FS", "GS"};
    const struct x86_state *s = state;
    size_t n = 0;
#define PUT(...)                                                               \
    do {                                                                       \
        int w_ = snprintf(buf + n, len - n, __VA_ARGS__);                      \
        if (w_ > 0)                                                            \
            n = n + (size_t)w_ < len ? n + (size_t)w_ : len - 1;              \
    } while (0)
    if (len == 0)
        return 0;
    buf[0] = 0;
    for (int i = 0; i < 16; i++)
        PUT("%-3s=%016llx%s", gpr[i], (unsigned long long)s->gpr[i],
            i % 4 == 3 ? "\n" : " ");
    PUT("RIP=%016llx RFL=%08llx [%c%c%c%c%c%c%c] HLT=%u\n",
        (unsigned long long)s->rip, (unsigned long long)s->rflags,
        s->rflags & FL_DF ? 'D' : '-', s->rflags & FL_OF ? 'O' : '-',
        s->rflags & FL_SF ? 'S' : '-', s->rflags & FL_ZF ? 'Z' : '-',
        s->rflags & FL_AF ? 'A' : '-', s->rflags & FL_PF ? 'P' : '-',
        s->rflags & FL_CF ? 'C' : '-', s->halted);
    for (int i = 0; i < 6; i++)
        PUT("%s =%04x %016llx %08x %05x\n", seg[i], s->seg[i].selector,
            (unsigned long long)s->seg[i].base, s->seg[i].limit,
            s->seg[i].attr);
    PUT("LDT=%04x %016llx %08x %05x\n", s->ldt.selector,
        (unsigned long long)s->ldt.base, s->ldt.limit, s->ldt.attr);
    PUT("TR =%04x %016llx %08x %05x\n", s->tr.selector,
        (unsigned long long)s->tr.base, s->tr.limit, s->tr.attr);
    PUT("GDT=     %016llx %08x\nIDT=     %016llx %08x\n",
        (unsigned long long)s->gdt.base, s->gdt.limit,
        (unsigned long long)s->idt.base, s->idt.limit);
    PUT("CR0=%08llx CR2=%016llx CR3=%016llx CR4=%08llx\n",
        (unsigned long long)s->cr0, (unsigned long long)s->cr2,
        (unsigned long long)s->cr3, (unsigned long long)s->cr4);
    PUT("EFER=%016llx TSC=%016llx\n", (unsigned long long)s->efer,
        (unsigned long long)s->tsc);
#undef PUT
    return n;
}
