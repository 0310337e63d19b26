/* QEMU's fw_cfg device (see fw_cfg.h). DMA touches guest memory only after
 * checking that the whole range is RAM (ROM too when only read); anything
 * else ends the transfer with the error bit, never with a crash. */
#include "devices/fw_cfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vm/log.h"

#define ENTRY_MASK 0x3fff
static const char dma_signature[8] = "QEMU CFG";

/* ---- items ---- */

static uint16_t lookup_key(uint16_t key)
{
    return key & (uint16_t)~FW_CFG_WRITE_CHANNEL;
}

static bool is_file_key(uint16_t key)
{
    return !(key & FW_CFG_ARCH_LOCAL) && (key & ENTRY_MASK) >= FW_CFG_FILE_FIRST;
}

/* The bytes of the item key, or NULL when there is none */
static const uint8_t *item_data(const struct fw_cfg *f, uint16_t key,
                                uint32_t *len)
{
    key = lookup_key(key);
    if (is_file_key(key)) {
        size_t i = (key & ENTRY_MASK) - FW_CFG_FILE_FIRST;
        if (i >= f->nfiles)
            return NULL;
        *len = f->files[i].len;
        return f->files[i].data;
    }
    for (size_t i = 0; i < f->nitems; i++) {
        if (f->items[i].key == key) {
            *len = f->items[i].len;
            return f->items[i].data;
        }
    }
    return NULL;
}

static uint8_t *dup_bytes(const void *data, uint32_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p && len)
        memcpy(p, data, len);
    return p;
}

static int set_item(struct fw_cfg *f, uint16_t key, const void *data,
                    uint32_t len)
{
    uint8_t *copy = dup_bytes(data, len);
    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; i < f->nitems; i++) {
        if (f->items[i].key == key) {
            free(f->items[i].data);
            f->items[i].data = copy;
            f->items[i].len = len;
            return 0;
        }
    }
    struct fw_cfg_item *n = realloc(f->items, (f->nitems + 1) * sizeof(*n));
    if (!n) {
        free(copy);
        return -ENOMEM;
    }
    f->items = n;
    f->items[f->nitems++] = (struct fw_cfg_item){key, len, copy};
    return 0;
}

int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data,
                     uint32_t len)
{
    key = lookup_key(key);
    if (is_file_key(key) || key == FW_CFG_FILE_DIR)
        return -EINVAL;
    return set_item(f, key, data, len);
}

int fw_cfg_add_i16(struct fw_cfg *f, uint16_t key, uint16_t value)
{
    uint8_t b[2] = {(uint8_t)value, (uint8_t)(value >> 8)};
    return fw_cfg_add_bytes(f, key, b, sizeof(b));
}

int fw_cfg_add_i32(struct fw_cfg *f, uint16_t key, uint32_t value)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(value >> (8 * i));
    return fw_cfg_add_bytes(f, key, b, sizeof(b));
}

int fw_cfg_add_i64(struct fw_cfg *f, uint16_t key, uint64_t value)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(value >> (8 * i));
    return fw_cfg_add_bytes(f, key, b, sizeof(b));
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* FILE_DIR: be32 count, then {be32 size, be16 select, be16 0, name[56]} */
static int rebuild_dir(struct fw_cfg *f)
{
    uint32_t len = 4 + (uint32_t)f->nfiles * FW_CFG_DIR_ENTRY_SIZE;
    uint8_t *dir = calloc(1, len);
    if (!dir)
        return -ENOMEM;
    put_be32(dir, (uint32_t)f->nfiles);
    for (size_t i = 0; i < f->nfiles; i++) {
        uint8_t *e = dir + 4 + i * FW_CFG_DIR_ENTRY_SIZE;
        uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + i);
        put_be32(e, f->files[i].len);
        e[4] = (uint8_t)(key >> 8);
        e[5] = (uint8_t)key;
        memcpy(e + 8, f->files[i].name, FW_CFG_MAX_FILE_NAME);
    }
    int r = set_item(f, FW_CFG_FILE_DIR, dir, len);
    free(dir);
    return r;
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data,
                    uint32_t len)
{
    if (strlen(name) >= FW_CFG_MAX_FILE_NAME)
        return -ENAMETOOLONG;
    uint8_t *copy = dup_bytes(data, len);
    if (!copy)
        return -ENOMEM;
    size_t i = 0;
    while (i < f->nfiles && strcmp(f->files[i].name, name) < 0)
        i++;
    if (i < f->nfiles && strcmp(f->files[i].name, name) == 0) {
        free(f->files[i].data);
        f->files[i].data = copy;
        f->files[i].len = len;
        return rebuild_dir(f);
    }
    struct fw_cfg_file *n = NULL;
    if (f->nfiles < FW_CFG_MAX_FILES)
        n = realloc(f->files, (f->nfiles + 1) * sizeof(*n));
    if (!n) {
        free(copy);
        return f->nfiles < FW_CFG_MAX_FILES ? -ENOMEM : -ENOSPC;
    }
    f->files = n;
    memmove(&n[i + 1], &n[i], (f->nfiles - i) * sizeof(*n));
    memset(&n[i], 0, sizeof(*n));
    strcpy(n[i].name, name);
    n[i].data = copy;
    n[i].len = len;
    f->nfiles++;
    return rebuild_dir(f);
}

/* ---- the traditional interface ---- */

static void select_key(struct fw_cfg *f, uint16_t key)
{
    f->s.cur_key = key;
    f->s.cur_offset = 0;
}

static uint8_t read_byte(struct fw_cfg *f)
{
    uint32_t len = 0;
    const uint8_t *data = item_data(f, f->s.cur_key, &len);
    if (!data || f->s.cur_offset >= len)
        return 0;
    return data[f->s.cur_offset++];
}

static uint64_t ctl_read(void *opaque, uint64_t offset, unsigned size)
{
    /* only byte reads, which return data at either port */
    return size == 1 ? read_byte(opaque) : ~0ull;
}

static void ctl_write(void *opaque, uint64_t offset, uint64_t value,
                      unsigned size)
{
    if (offset == 0 && size == 2)
        select_key(opaque, (uint16_t)value);
    /* data port writes are not supported, as in QEMU since 2.4 */
}

static const struct io_ops ctl_ops = {ctl_read, ctl_write};

/* ---- DMA ---- */

/* [gpa, gpa+len) is all RAM (or ROM, when only read) */
static bool dma_ok(struct mem_map *mem, uint64_t gpa, uint64_t len,
                   bool to_guest)
{
    if (len == 0)
        return true;
    if (gpa + len < gpa)
        return false;
    while (len) {
        const struct mem_section *s = mem_map_find(mem, gpa);
        if (!s || !(s->region->kind == MEM_RAM ||
                    (s->region->kind == MEM_ROM && !to_guest)))
            return false;
        uint64_t span = s->size - (gpa - s->base);
        if (span >= len)
            return true;
        gpa += span;
        len -= span;
    }
    return true;
}

static void fill_zero(struct mem_map *mem, uint64_t gpa, uint64_t len)
{
    static const uint8_t zero[4096];
    while (len) {
        uint64_t n = len < sizeof(zero) ? len : sizeof(zero);
        mem_rw(mem, gpa, (void *)zero, n, true);
        gpa += n;
        len -= n;
    }
}

/* Run one descriptor; returns the control word to write back */
static uint32_t dma_run(struct fw_cfg *f, uint32_t control, uint32_t length,
                        uint64_t address)
{
    if (control & FW_CFG_DMA_CTL_SELECT)
        select_key(f, (uint16_t)(control >> 16));
    bool read = control & FW_CFG_DMA_CTL_READ;
    if (!read && (control & FW_CFG_DMA_CTL_WRITE))
        return length ? FW_CFG_DMA_CTL_ERROR : 0; /* no writable items */
    if (!read && !(control & FW_CFG_DMA_CTL_SKIP))
        return 0;

    uint32_t len = 0;
    const uint8_t *data = item_data(f, f->s.cur_key, &len);
    uint32_t avail = data && f->s.cur_offset < len ? len - f->s.cur_offset : 0;
    uint32_t n = length < avail ? length : avail;
    if (read) {
        if (!dma_ok(f->mem, address, length, true)) {
            log_msg_rl(LOG_GUEST_ERRORS,
                       "fw_cfg: DMA to 0x%llx+0x%x is not RAM\n",
                       (unsigned long long)address, length);
            return FW_CFG_DMA_CTL_ERROR;
        }
        if (n)
            mem_rw(f->mem, address, (void *)(data + f->s.cur_offset), n,
                   true);
        fill_zero(f->mem, address + n, length - n); /* past the end */
    }
    f->s.cur_offset += n;
    return 0;
}

static void dma_transfer(struct fw_cfg *f)
{
    uint64_t desc = f->s.dma_addr;
    uint8_t raw[16];
    f->s.dma_addr = 0;
    if (!dma_ok(f->mem, desc, sizeof(raw), false)) {
        log_msg_rl(LOG_GUEST_ERRORS, "fw_cfg: DMA descriptor at 0x%llx is not RAM\n",
                   (unsigned long long)desc);
        return;
    }
    mem_rw(f->mem, desc, raw, sizeof(raw), false);
    uint64_t address = (uint64_t)get_be32(raw + 8) << 32 | get_be32(raw + 12);
    uint32_t control = dma_run(f, get_be32(raw), get_be32(raw + 4), address);
    uint8_t reply[4];
    put_be32(reply, control);
    if (dma_ok(f->mem, desc, sizeof(reply), true))
        mem_rw(f->mem, desc, reply, sizeof(reply), true);
}

static uint32_t bswap32(uint32_t v)
{
    return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}

static uint64_t dma_read(void *opaque, uint64_t offset, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = offset + i;
        uint8_t b = a < 8 ? (uint8_t)dma_signature[a] : 0xff;
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

/* The guest writes the address big-endian: outl(cpu_to_be32(half)) */
static void dma_write(void *opaque, uint64_t offset, uint64_t value,
                      unsigned size)
{
    struct fw_cfg *f = opaque;
    if (size != 4)
        return;
    uint32_t half = bswap32((uint32_t)value);
    if (offset == 0) {
        f->s.dma_addr = (uint64_t)half << 32;
    } else if (offset == 4) {
        f->s.dma_addr |= half;
        dma_transfer(f);
    }
}

static const struct io_ops dma_ops = {dma_read, dma_write};

/* ---- setup ---- */

int fw_cfg_init(struct fw_cfg *f, struct port_bus *io, struct mem_map *mem)
{
    memset(f, 0, sizeof(*f));
    f->mem = mem;
    int r = fw_cfg_add_bytes(f, FW_CFG_SIGNATURE, "QEMU", 4);
    if (!r)
        r = fw_cfg_add_i32(f, FW_CFG_ID, FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    if (!r)
        r = rebuild_dir(f);
    if (!r)
        r = port_bus_register(io, FW_CFG_PORT_SEL, 2, "fw_cfg", &ctl_ops, f);
    if (!r)
        r = port_bus_register(io, FW_CFG_PORT_DMA, 8, "fw_cfg-dma", &dma_ops,
                              f);
    return r;
}

void fw_cfg_free(struct fw_cfg *f)
{
    for (size_t i = 0; i < f->nitems; i++)
        free(f->items[i].data);
    for (size_t i = 0; i < f->nfiles; i++)
        free(f->files[i].data);
    free(f->items);
    free(f->files);
    f->items = NULL;
    f->files = NULL;
    f->nitems = f->nfiles = 0;
}

void fw_cfg_reset(struct fw_cfg *f)
{
    memset(&f->s, 0, sizeof(f->s));
}
