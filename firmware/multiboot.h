/* Multiboot specification 0.6.96 (version 1) loader: ELF32 kernels and the
 * a.out kludge (header address fields), command line, memory map and
 * modules (-initrd "mod1 args,mod2"), entered in flat 32-bit protected mode
 * with EAX = 0x2BADB002 and EBX = the info structure. */
#ifndef FIRMWARE_MULTIBOOT_H
#define FIRMWARE_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "firmware/e820.h"
#include "vm/boot.h"
#include "vm/machine.h"

#define MULTIBOOT_HEADER_MAGIC 0x1badb002u
#define MULTIBOOT_BOOT_MAGIC 0x2badb002u

struct multiboot_opts {
    const char *kernel_path;
    const char *cmdline;  /* or NULL */
    const char *modules;  /* "file [args],file [args]" or NULL */
    const struct e820_map *e820;
};

/* Offset of a valid Multiboot header in the first 8 KiB, or -1 */
long multiboot_find_header(const uint8_t *img, size_t len);
/* 0 or -errno after one error_report line */
int multiboot_load(struct machine *m, const struct multiboot_opts *o,
                   struct boot_cpu *boot);

#endif
