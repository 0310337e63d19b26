/* The Linux x86 boot protocol (Documentation/arch/x86/boot.rst), version
 * 2.06 and later: loads a bzImage and its initrd, fills boot_params (setup
 * header, command line, initrd, e820 map, RSDP address) and sets up the CPU
 * for the 16-bit setup entry, the 32-bit entry or the 64-bit entry. */
#ifndef FIRMWARE_LINUX_BOOT_H
#define FIRMWARE_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "firmware/e820.h"
#include "vm/boot.h"
#include "vm/machine.h"

enum linux_entry {
    LINUX_ENTRY_AUTO = 0, /* 64-bit if the kernel has it, else 32-bit */
    LINUX_ENTRY_16 = 16,  /* real-mode setup code (needs a BIOS) */
    LINUX_ENTRY_32 = 32,
    LINUX_ENTRY_64 = 64,
};

struct linux_boot_opts {
    const char *kernel_path;
    const char *initrd_path; /* or NULL */
    const char *cmdline;     /* or NULL */
    enum linux_entry entry;
    const struct e820_map *e820;
    uint64_t rsdp_gpa;       /* 0 if none */
};

/* Where things went, for tests and the monitor */
struct linux_boot_info {
    uint16_t protocol;
    uint64_t zero_page, kernel_addr, kernel_size;
    uint64_t initrd_addr, initrd_size, cmdline_addr;
    enum linux_entry entry;
};

/* Does this look like a bzImage ("HdrS" at 0x202)? */
bool linux_is_bzimage(const uint8_t *img, size_t len);
/* 0 or -errno after one error_report line */
int linux_boot_load(struct machine *m, const struct linux_boot_opts *o,
                    struct boot_cpu *boot, struct linux_boot_info *info);

#endif
