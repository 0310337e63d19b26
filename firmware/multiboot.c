/* Multiboot v1 loader (see multiboot.h). */
#include "firmware/multiboot.h"

#include "firmware/le_bytes.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "firmware/guest_load.h"
#include "vm/log.h"

#define MB_SEARCH 8192
#define MB_PAGE_ALIGN (1u << 0)
#define MB_MEMORY_INFO (1u << 1)
#define MB_VIDEO_MODE (1u << 2)
#define MB_AOUT_KLUDGE (1u << 16)
#define MB_SUPPORTED_REQUIRED (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE)

/* info flags */
#define MBI_MEMORY (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MEM_MAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

#define KERNEL_MAX_SIZE (256u << 20)
#define MODULE_MAX_SIZE (1024u << 20)
#define MAX_MODULES 32


long multiboot_find_header(const uint8_t *img, size_t len)
{
    size_t end = len < MB_SEARCH ? len : MB_SEARCH;
    for (size_t off = 0; off + 12 <= end; off += 4) {
        uint32_t magic = le32_get(img + off), flags = le32_get(img + off + 4);
        if (magic == MULTIBOOT_HEADER_MAGIC &&
            (uint32_t)(magic + flags + le32_get(img + off + 8)) == 0)
            return (long)off;
    }
    return -1;
}

/* The a.out kludge: the header says where the file goes */
static int load_aout(struct machine *m, const char *path, const uint8_t *img,
                     size_t len, long hoff, uint32_t *entry, uint64_t *end)
{
    if ((size_t)hoff + 32 > len) {
        error_report("-kernel %s: truncated Multiboot header", path);
        return -EINVAL;
    }
    const uint8_t *h = img + hoff;
    uint32_t header_addr = le32_get(h + 12), load_addr = le32_get(h + 16);
    uint32_t load_end = le32_get(h + 20), bss_end = le32_get(h + 24);
    *entry = le32_get(h + 28);
    if (load_addr > header_addr || header_addr - load_addr > (uint32_t)hoff) {
        error_report("-kernel %s: Multiboot load_addr is after header_addr", path);
        return -EINVAL;
    }
    size_t file_off = (size_t)hoff - (header_addr - load_addr);
    size_t size = load_end ? (size_t)(load_end - load_addr) : len - file_off;
    if (load_end && load_end < load_addr) {
        error_report("-kernel %s: Multiboot load_end_addr before load_addr", path);
        return -EINVAL;
    }
    if (size > len - file_off) {
        error_report("-kernel %s: Multiboot load range is past the end of the file", path);
        return -EINVAL;
    }
    int err = guest_write(m, load_addr, img + file_off, size);
    *end = (uint64_t)load_addr + size;
    if (!err && bss_end > *end) {
        err = guest_zero(m, *end, bss_end - *end);
        *end = bss_end;
    }
    return err;
}

static int load_elf32(struct machine *m, const char *path, const uint8_t *img,
                      size_t len, uint32_t *entry, uint64_t *end)
{
    if (len < 52 || memcmp(img, "\x7f" "ELF", 4) != 0) {
        error_report("-kernel %s: Multiboot kernel is neither ELF nor a.out-kludge", path);
        return -EINVAL;
    }
    if (img[4] != 1 || img[5] != 1 || le16_get(img + 18) != 3) {
        error_report("-kernel %s: a Multiboot ELF kernel must be 32-bit little-endian i386", path);
        return -EINVAL;
    }
    *entry = le32_get(img + 24);
    uint32_t phoff = le32_get(img + 28);
    uint16_t phentsize = le16_get(img + 42), phnum = le16_get(img + 44);
    if (phentsize < 32 || phoff > len || (uint64_t)phnum * phentsize > len - phoff) {
        error_report("-kernel %s: bad ELF program headers", path);
        return -EINVAL;
    }
    *end = 0;
    int loaded = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + (size_t)i * phentsize;
        if (le32_get(ph) != 1) /* PT_LOAD */
            continue;
        uint32_t off = le32_get(ph + 4), paddr = le32_get(ph + 12);
        uint32_t filesz = le32_get(ph + 16), memsz = le32_get(ph + 20);
        if (off > len || filesz > len - off || filesz > memsz) {
            error_report("-kernel %s: ELF segment %u lies outside the file", path, i);
            return -EINVAL;
        }
        int err = guest_write(m, paddr, img + off, filesz);
        if (!err)
            err = guest_zero(m, (uint64_t)paddr + filesz, memsz - filesz);
        if (err)
            return err;
        if ((uint64_t)paddr + memsz > *end)
            *end = (uint64_t)paddr + memsz;
        loaded++;
    }
    if (!loaded) {
        error_report("-kernel %s: ELF file has no loadable segment", path);
        return -EINVAL;
    }
    return 0;
}

/* A bump allocator over the info area */
struct info_area {
    uint8_t buf[BOOT_INFO_SIZE];
    uint32_t used;
};

static long info_alloc(struct info_area *a, size_t len)
{
    uint32_t off = (a->used + 3) & ~3u;
    if (off + len > sizeof(a->buf))
        return -1;
    a->used = off + (uint32_t)len;
    return off;
}

static long info_string(struct info_area *a, const char *s, size_t n)
{
    long off = info_alloc(a, n + 1);
    if (off >= 0) {
        memcpy(a->buf + off, s, n);
        a->buf[off + n] = 0;
    }
    return off;
}

/* Load each module page-aligned from *next on; fill the module list */
static int load_modules(struct machine *m, const char *list,
                        struct info_area *a, uint8_t *mbi, uint64_t *next)
{
    const char *p = list;
    uint32_t count = 0;
    long mods = info_alloc(a, 16 * MAX_MODULES);
    if (mods < 0)
        return -ENOSPC;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t name_len = strcspn(p, " ,");
        char path[4096];
        if (count == MAX_MODULES || name_len >= sizeof(path)) {
            error_report("-initrd: at most %d modules with paths under 4096 characters", MAX_MODULES);
            return -E2BIG;
        }
        memcpy(path, p, name_len);
        path[name_len] = 0;
        uint8_t *data;
        size_t len;
        int err = load_file("-initrd", path, MODULE_MAX_SIZE, &data, &len);
        if (err)
            return err;
        uint64_t addr = (*next + 0xfff) & ~0xfffull;
        err = guest_write(m, addr, data, len);
        free(data);
        if (err) {
            error_report("-initrd %s: does not fit in guest RAM (use more -m)", path);
            return err;
        }
        long str = info_string(a, p, n);
        if (str < 0)
            return -ENOSPC;
        uint8_t *e = a->buf + mods + 16 * count;
        le32_put(e, (uint32_t)addr);
        le32_put(e + 4, (uint32_t)(addr + len));
        le32_put(e + 8, BOOT_INFO_ADDR + (uint32_t)str);
        *next = addr + len;
        count++;
        p += n;
        if (*p == ',')
            p++;
    }
    le32_put(mbi + 20, count);
    le32_put(mbi + 24, BOOT_INFO_ADDR + (uint32_t)mods);
    return 0;
}

int multiboot_load(struct machine *m, const struct multiboot_opts *o,
                   struct boot_cpu *boot)
{
    uint8_t *img;
    size_t len;
    int err = load_file("-kernel", o->kernel_path, KERNEL_MAX_SIZE, &img, &len);
    if (err)
        return err;
    long hoff = multiboot_find_header(img, len);
    if (hoff < 0) {
        error_report("-kernel %s: no Multiboot header in the first 8 KiB", o->kernel_path);
        free(img);
        return -EINVAL;
    }
    uint32_t flags = le32_get(img + hoff + 4);
    if ((flags & 0xffff) & ~MB_SUPPORTED_REQUIRED) {
        error_report("-kernel %s: Multiboot header requires features 0x%x that tandem lacks",
                     o->kernel_path, (flags & 0xffff) & ~MB_SUPPORTED_REQUIRED);
        free(img);
        return -ENOTSUP;
    }
    uint32_t entry;
    uint64_t end;
    if (flags & MB_AOUT_KLUDGE)
        err = load_aout(m, o->kernel_path, img, len, hoff, &entry, &end);
    else
        err = load_elf32(m, o->kernel_path, img, len, &entry, &end);
    free(img);
    if (err) {
        if (err == -ERANGE)
            error_report("-kernel %s: loads outside guest RAM", o->kernel_path);
        return err;
    }

    static struct info_area area;
    memset(&area, 0, sizeof(area));
    long mbi_off = info_alloc(&area, 88);
    uint8_t *mbi = area.buf + mbi_off;
    uint32_t mbi_flags = MBI_MEMORY | MBI_MEM_MAP | MBI_LOADER_NAME | MBI_CMDLINE;
    le32_put(mbi + 4, e820_mem_lower_kb(o->e820));
    le32_put(mbi + 8, e820_mem_upper_kb(o->e820));
    const char *cmdline = o->cmdline ? o->cmdline : "";
    long str = info_string(&area, cmdline, strlen(cmdline));
    long name = info_string(&area, "tandem", 6);
    long mmap = info_alloc(&area, 24 * (size_t)o->e820->n);
    if (str < 0 || name < 0 || mmap < 0) {
        error_report("-append: command line too long for the Multiboot info area");
        return -E2BIG;
    }
    le32_put(mbi + 16, BOOT_INFO_ADDR + (uint32_t)str);
    le32_put(mbi + 64, BOOT_INFO_ADDR + (uint32_t)name);
    for (int i = 0; i < o->e820->n; i++) {
        uint8_t *e = area.buf + mmap + 24 * i;
        le32_put(e, 20);
        le32_put(e + 4, (uint32_t)o->e820->e[i].addr);
        le32_put(e + 8, (uint32_t)(o->e820->e[i].addr >> 32));
        le32_put(e + 12, (uint32_t)o->e820->e[i].size);
        le32_put(e + 16, (uint32_t)(o->e820->e[i].size >> 32));
        le32_put(e + 20, o->e820->e[i].type);
    }
    le32_put(mbi + 44, 24 * (uint32_t)o->e820->n);
    le32_put(mbi + 48, BOOT_INFO_ADDR + (uint32_t)mmap);
    if (o->modules && *o->modules) {
        err = load_modules(m, o->modules, &area, mbi, &end);
        if (err)
            return err;
        mbi_flags |= MBI_MODS;
    }
    le32_put(mbi, mbi_flags);
    err = guest_write(m, BOOT_INFO_ADDR, area.buf, area.used);
    memset(boot, 0, sizeof(*boot));
    if (!err)
        err = boot_setup_flat(m, boot, false);
    boot->mode = BOOT_PROT32;
    boot->rip = entry;
    boot->gpr[0] = MULTIBOOT_BOOT_MAGIC;             /* EAX */
    boot->gpr[3] = BOOT_INFO_ADDR + (uint32_t)mbi_off; /* EBX */
    return err;
}
