/* Turning a loader's boot description (vm/boot.h) into x86 register state,
 * for every backend: applied on top of the reset state of vCPU 0. */
#ifndef CPU_BOOT_STATE_H
#define CPU_BOOT_STATE_H

#include "cpu/x86_state.h"
#include "vm/boot.h"

void x86_state_apply_boot(struct x86_state *s, const struct boot_cpu *boot);

#endif
