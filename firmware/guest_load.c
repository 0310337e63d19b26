/* Loader helpers (see guest_load.h). */
#include "firmware/guest_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "vm/log.h"

int load_file(const char *what, const char *path, size_t max, uint8_t **buf,
              size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int err = errno;
        error_report("%s %s: %s", what, path, strerror(err));
        return -err;
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        error_report("%s %s: not a regular file", what, path);
        return -EINVAL;
    }
    if ((uint64_t)st.st_size > max) {
        fclose(f);
        error_report("%s %s: file too large (%lld bytes, at most %zu)", what,
                     path, (long long)st.st_size, max);
        return -EFBIG;
    }
    *len = (size_t)st.st_size;
    *buf = malloc(*len ? *len : 1);
    if (!*buf) {
        fclose(f);
        return -ENOMEM;
    }
    if (fread(*buf, 1, *len, f) != *len) {
        fclose(f);
        free(*buf);
        error_report("%s %s: read error", what, path);
        return -EIO;
    }
    fclose(f);
    return 0;
}

/* Through the memory map, so that listeners (the JIT's code tracking) hear
 * of the write: a kernel reloaded after a reset replaces translated code */
int guest_write(struct machine *m, uint64_t gpa, const void *data, size_t len)
{
    if (gpa > m->ram_below_4g || len > m->ram_below_4g - gpa)
        return -ERANGE;
    return mem_rw(m->mem, gpa, (void *)data, len, true);
}

int guest_zero(struct machine *m, uint64_t gpa, size_t len)
{
    static const uint8_t zeros[4096];
    while (len) {
        size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
        int err = guest_write(m, gpa, zeros, n);
        if (err)
            return err;
        gpa += n;
        len -= n;
    }
    return 0;
}

int boot_setup_flat(struct machine *m, struct boot_cpu *boot, bool long_mode)
{
    /* null, null, flat code at 0x10, flat data at 0x18 */
    uint64_t gdt[4] = {
        0, 0,
        long_mode ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull,
        0x00cf93000000ffffull,
    };
    int err = guest_write(m, BOOT_GDT_ADDR, gdt, sizeof(gdt));
    if (err)
        return err;
    boot->gdt_base = BOOT_GDT_ADDR;
    boot->gdt_limit = sizeof(gdt) - 1;
    boot->code_sel = 0x10;
    boot->data_sel = 0x18;
    if (!long_mode)
        return 0;
    /* PML4[0] -> PDPT, PDPT[0..3] -> 4 page directories of 2 MiB pages */
    uint64_t table[512];
    memset(table, 0, sizeof(table));
    table[0] = (BOOT_PML4_ADDR + 0x1000) | 0x3;
    err = guest_write(m, BOOT_PML4_ADDR, table, sizeof(table));
    memset(table, 0, sizeof(table));
    for (int i = 0; i < 4; i++)
        table[i] = (BOOT_PML4_ADDR + 0x2000 + 0x1000 * i) | 0x3;
    err = err ? err : guest_write(m, BOOT_PML4_ADDR + 0x1000, table, sizeof(table));
    for (int d = 0; d < 4 && !err; d++) {
        for (int i = 0; i < 512; i++)
            table[i] = ((uint64_t)(d * 512 + i) << 21) | 0x83; /* P RW PS */
        err = guest_write(m, BOOT_PML4_ADDR + 0x2000 + 0x1000 * d, table,
                          sizeof(table));
    }
    boot->cr3 = BOOT_PML4_ADDR;
    return err;
}
