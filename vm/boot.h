/* How the boot vCPU starts when a loader (firmware/) prepared the guest
 * instead of the BIOS reset vector: the register values the Linux boot
 * protocol or Multiboot prescribe, in a form that needs no cpu/ header.
 * Backends turn it into their state with x86_state_apply_boot(). */
#ifndef VM_BOOT_H
#define VM_BOOT_H

#include <stdint.h>

enum boot_mode {
    BOOT_RESET = 0, /* the reset vector (BIOS) */
    BOOT_REAL,      /* real mode at cs:ip, data segments = data_seg */
    BOOT_PROT32,    /* flat 4 GiB 32-bit protected mode, paging off */
    BOOT_LONG64,    /* 64-bit mode, flat, paging by the tables at cr3 */
};

struct boot_cpu {
    enum boot_mode mode;
    uint64_t rip;
    uint64_t gpr[16];  /* RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15 */
    uint16_t real_cs;  /* BOOT_REAL */
    uint16_t real_data_seg;
    /* BOOT_PROT32/BOOT_LONG64: the loader's GDT in guest RAM, with a flat
     * code segment at code_sel and a flat data segment at data_sel */
    uint64_t gdt_base;
    uint16_t gdt_limit;
    uint16_t code_sel, data_sel;
    uint64_t cr3;      /* BOOT_LONG64 */
};

#endif
