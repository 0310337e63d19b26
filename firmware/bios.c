/* BIOS image loading (see bios.h). */
#include "firmware/bios.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vm/log.h"

#define BIOS_MAX_SIZE (16u << 20)
#define ISA_BIOS_MAX (128u << 10)
#define PC_4G 0x100000000ull

int bios_load(struct machine *m, const char *path, struct bios_rom *rom)
{
    memset(rom, 0, sizeof(*rom));
    FILE *f = fopen(path, "rb");
    if (!f) {
        int err = errno;
        error_report("-bios %s: %s", path, strerror(err));
        return -err;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (len <= 0 || len > (long)BIOS_MAX_SIZE) {
        fclose(f);
        error_report("-bios %s: size %ld is not between 1 byte and 16 MiB", path, len);
        return -EINVAL;
    }
    uint64_t size = ((uint64_t)len + 0xfff) & ~0xfffull;
    /* page-aligned, so that KVM can map it as a memslot */
    rom->image = aligned_alloc(4096, size);
    if (rom->image)
        memset(rom->image, 0, size);
    if (!rom->image) {
        fclose(f);
        return -ENOMEM;
    }
    size_t got = fread(rom->image + (size - (uint64_t)len), 1, (size_t)len, f);
    fclose(f);
    if (got != (size_t)len) {
        error_report("-bios %s: short read", path);
        free(rom->image);
        rom->image = NULL;
        return -EIO;
    }
    rom->size = size;
    rom->high = mem_map_add_rom(m->mem, "bios", PC_4G - size, size, rom->image, 0);
    uint64_t low = size < ISA_BIOS_MAX ? size : ISA_BIOS_MAX;
    rom->low = mem_map_add_alias(m->mem, "isa-bios", 0x100000 - low, low,
                                 rom->high, size - low, 1);
    return 0;
}

const char *bios_default_path(void)
{
    static char path[4096];
    const char *cache = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (cache && *cache)
        snprintf(path, sizeof(path), "%s/tandem/seabios/bios-256k.bin", cache);
    else if (home)
        snprintf(path, sizeof(path), "%s/.cache/tandem/seabios/bios-256k.bin", home);
    else
        path[0] = 0;
    if (path[0] && access(path, R_OK) == 0)
        return path;
    if (access("/usr/share/seabios/bios-256k.bin", R_OK) == 0)
        return "/usr/share/seabios/bios-256k.bin";
    return NULL;
}
