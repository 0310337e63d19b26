/* Snapshot files (see snapshot.h): encoding the machine into one buffer,
 * and decoding a buffer into a validated struct snapshot that points into
 * it, so that applying needs no further checks. */
#include "vm/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vm/accel.h"
#include "vm/machine.h"
#include "vm/vmstate.h"

struct snapshot {
    uint8_t *buf;
    size_t len;
    int ncpus;
    void *cpu[MACHINE_MAX_CPUS];    /* aligned copies of the vCPU states */
    const uint8_t **sec_data;       /* per registered section, into buf */
    size_t nsec;
    int64_t clock_ns;
    bool a20;
    uint64_t ram_size;
    const uint8_t *bitmap, *pages;  /* into buf */
};

/* --- checksum: four lanes of multiply-rotate rounds over 64-bit words.
 * Each round is a bijection of the lane for a fixed word and of the word
 * for a fixed lane, so any change confined to one word always shows. */
#define H_P1 0x9E3779B185EBCA87ull
#define H_P2 0xC2B2AE3D27D4EB4Full
#define H_P3 0x165667B19E3779F9ull

static uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t hash_round(uint64_t acc, uint64_t w)
{
    acc += w * H_P2;
    return rotl64(acc, 31) * H_P1;
}

uint64_t snapshot_checksum(const uint8_t *buf, size_t len)
{
    uint64_t lane[4] = {H_P1 + H_P2, H_P2, 0, -H_P1};
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        uint64_t w[4];
        memcpy(w, buf + i, 32); /* little-endian host (x86-64) */
        for (int k = 0; k < 4; k++)
            lane[k] = hash_round(lane[k], w[k]);
    }
    uint64_t h = rotl64(lane[0], 1) + rotl64(lane[1], 7) +
                 rotl64(lane[2], 12) + rotl64(lane[3], 18);
    for (int k = 0; k < 4; k++)
        h = (h ^ hash_round(0, lane[k])) * H_P1 + H_P3;
    h += len;
    for (; i + 8 <= len; i += 8)
        h = rotl64(h ^ hash_round(0, get_u64(buf + i)), 27) * H_P1 + H_P3;
    for (; i < len; i++)
        h = rotl64(h ^ (buf[i] * H_P3), 11) * H_P1;
    h ^= h >> 33;
    h *= H_P2;
    h ^= h >> 29;
    h *= H_P3;
    return h ^ (h >> 32);
}

/* --- encoding --- */

static bool page_is_zero(const uint8_t *p, size_t n)
{
    const uint64_t *w = (const uint64_t *)p; /* pages are 8-byte aligned */
    for (size_t i = 0; i < n / 8; i++)
        if (w[i])
            return false;
    for (size_t i = n & ~(size_t)7; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static uint64_t ram_pages(uint64_t ram_size)
{
    return (ram_size + SNAPSHOT_PAGE_SIZE - 1) / SNAPSHOT_PAGE_SIZE;
}

static size_t page_len(uint64_t ram_size, uint64_t page)
{
    uint64_t left = ram_size - page * SNAPSHOT_PAGE_SIZE;
    return left < SNAPSHOT_PAGE_SIZE ? (size_t)left : SNAPSHOT_PAGE_SIZE;
}

int snapshot_encode(struct machine *m, void *const *cpu, uint8_t **out,
                    size_t *out_len)
{
    struct vmstate *vs = m->vmstate;
    uint64_t npages = ram_pages(m->ram_size);
    size_t bitmap_len = (size_t)((npages + 7) / 8);
    uint8_t *bitmap = calloc(1, bitmap_len ? bitmap_len : 1);
    if (!bitmap)
        return -ENOMEM;
    size_t len = SNAPSHOT_HEADER_SIZE + bitmap_len + 8;
    len += (size_t)m->ncpus * (4 + accel_cpu_state_size);
    for (size_t i = 0; i < vmstate_count(vs); i++)
        len += 1 + strlen(vmstate_at(vs, i)->name) + 8 +
               vmstate_at(vs, i)->size;
    for (uint64_t pg = 0; pg < npages; pg++) {
        if (!page_is_zero(m->ram + pg * SNAPSHOT_PAGE_SIZE,
                          page_len(m->ram_size, pg))) {
            bitmap[pg / 8] |= (uint8_t)(1u << (pg % 8));
            len += page_len(m->ram_size, pg);
        }
    }
    uint8_t *buf = malloc(len), *p = buf;
    if (!buf) {
        free(bitmap);
        return -ENOMEM;
    }
    memset(p, 0, SNAPSHOT_HEADER_SIZE);
    memcpy(p, SNAPSHOT_MAGIC, 8);
    put_u32(p + 8, SNAPSHOT_FORMAT_VERSION);
    put_u32(p + 12, SNAPSHOT_HEADER_SIZE);
    put_u64(p + 16, len);
    put_u64(p + 24, m->ram_size);
    put_u32(p + 32, (uint32_t)m->ncpus);
    put_u32(p + 36, (uint32_t)vmstate_count(vs));
    put_u64(p + 40, (uint64_t)vclock_now(m->clock));
    p[48] = mem_map_a20(m->mem);
    p += SNAPSHOT_HEADER_SIZE;
    for (int i = 0; i < m->ncpus; i++) {
        put_u32(p, accel_cpu_state_size);
        memcpy(p + 4, cpu[i], accel_cpu_state_size);
        p += 4 + accel_cpu_state_size;
    }
    for (size_t i = 0; i < vmstate_count(vs); i++) {
        const struct vmstate_section *s = vmstate_at(vs, i);
        size_t n = strlen(s->name);
        *p++ = (uint8_t)n;
        memcpy(p, s->name, n);
        put_u32(p + n, s->version);
        put_u32(p + n + 4, s->size);
        memcpy(p + n + 8, s->data, s->size);
        p += n + 8 + s->size;
    }
    memcpy(p, bitmap, bitmap_len);
    p += bitmap_len;
    for (uint64_t pg = 0; pg < npages; pg++) {
        if (bitmap[pg / 8] & (1u << (pg % 8))) {
            size_t n = page_len(m->ram_size, pg);
            memcpy(p, m->ram + pg * SNAPSHOT_PAGE_SIZE, n);
            p += n;
        }
    }
    free(bitmap);
    put_u64(p, snapshot_checksum(buf, len - 8));
    *out = buf;
    *out_len = len;
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int snapshot_save(struct machine *m, void *const *cpu, const char *path,
                  char err[SNAPSHOT_ERR_LEN])
{
    uint8_t *buf;
    size_t len;
    int r = snapshot_encode(m, cpu, &buf, &len);
    if (r) {
        snprintf(err, SNAPSHOT_ERR_LEN, "out of memory");
        return r;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    if (!tmp) {
        free(buf);
        snprintf(err, SNAPSHOT_ERR_LEN, "out of memory");
        return -ENOMEM;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".XXXXXX", 8);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        r = -errno;
    } else {
        r = write_all(fd, buf, len);
        if (close(fd) != 0 && !r)
            r = -errno;
        if (!r && chmod(tmp, 0644) != 0)
            r = -errno;
        if (!r && rename(tmp, path) != 0)
            r = -errno;
        if (r)
            unlink(tmp);
    }
    if (r)
        snprintf(err, SNAPSHOT_ERR_LEN, "cannot write %s: %s", path,
                 strerror(-r));
    free(tmp);
    free(buf);
    return r;
}

/* --- decoding and validation --- */

struct cursor {
    const uint8_t *p, *end;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return NULL;
    const uint8_t *r = c->p;
    c->p += n;
    return r;
}

static int fail(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, SNAPSHOT_ERR_LEN, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int check_header(struct snapshot *s, struct machine *m, char *err)
{
    const uint8_t *h = s->buf;
    if (s->len < SNAPSHOT_HEADER_SIZE + 8 || memcmp(h, SNAPSHOT_MAGIC, 8))
        return s->len >= 8 && !memcmp(h, SNAPSHOT_MAGIC, 8)
                   ? fail(err, "truncated (%zu bytes)", s->len)
                   : fail(err, "not a tandem snapshot");
    if (get_u32(h + 8) != SNAPSHOT_FORMAT_VERSION)
        return fail(err, "snapshot format version %u, this tandem reads %u",
                    get_u32(h + 8), SNAPSHOT_FORMAT_VERSION);
    if (get_u64(h + 16) != s->len)
        return fail(err, "truncated or damaged: %zu bytes, the header says "
                    "%llu", s->len, (unsigned long long)get_u64(h + 16));
    if (get_u64(s->buf + s->len - 8) != snapshot_checksum(s->buf, s->len - 8))
        return fail(err, "checksum mismatch: the file is damaged");
    if (get_u32(h + 12) != SNAPSHOT_HEADER_SIZE)
        return fail(err, "bad header size %u", get_u32(h + 12));
    for (int i = 49; i < SNAPSHOT_HEADER_SIZE; i++)
        if (h[i])
            return fail(err, "reserved header byte %d is set", i);
    if (h[48] > 1)
        return fail(err, "bad A20 value %u", h[48]);
    s->ram_size = get_u64(h + 24);
    if (s->ram_size != m->ram_size)
        return fail(err, "taken with %llu KiB of RAM, this machine has %llu "
                    "KiB (-m)", (unsigned long long)(s->ram_size >> 10),
                    (unsigned long long)(m->ram_size >> 10));
    if (get_u32(h + 32) != (uint32_t)m->ncpus)
        return fail(err, "taken with %u vCPUs, this machine has %d (-smp)",
                    get_u32(h + 32), m->ncpus);
    s->ncpus = m->ncpus;
    s->clock_ns = (int64_t)get_u64(h + 40);
    if (s->clock_ns < 0)
        return fail(err, "negative clock value");
    s->a20 = h[48];
    return 0;
}

static int check_cpus(struct snapshot *s, struct cursor *c, char *err)
{
    for (int i = 0; i < s->ncpus; i++) {
        const uint8_t *p = take(c, 4);
        if (!p)
            return fail(err, "truncated in vCPU %d", i);
        uint32_t size = get_u32(p);
        p = take(c, size);
        if (!p)
            return fail(err, "truncated in vCPU %d", i);
        if (size != accel_cpu_state_size || size < 8 ||
            get_u32(p + 4) != accel_cpu_state_size)
            return fail(err, "vCPU %d: state of %u bytes, this tandem's has "
                        "%u", i, size, accel_cpu_state_size);
        if (get_u32(p) != accel_cpu_state_version)
            return fail(err, "vCPU %d: state version %u, this tandem's is %u",
                        i, get_u32(p), accel_cpu_state_version);
        size_t alloc = (size + ACCEL_CPU_STATE_ALIGN - 1) &
                       ~(size_t)(ACCEL_CPU_STATE_ALIGN - 1);
        s->cpu[i] = aligned_alloc(ACCEL_CPU_STATE_ALIGN, alloc);
        if (!s->cpu[i])
            return fail(err, "out of memory");
        memcpy(s->cpu[i], p, size);
    }
    return 0;
}

static int check_sections(struct snapshot *s, struct cursor *c,
                          const struct vmstate *vs, char *err)
{
    uint32_t n = get_u32(s->buf + 36);
    for (uint32_t k = 0; k < n; k++) {
        const uint8_t *p = take(c, 1);
        size_t nlen = p ? *p : 0;
        const uint8_t *name = p ? take(c, nlen) : NULL;
        const uint8_t *hdr = name ? take(c, 8) : NULL;
        if (!hdr)
            return fail(err, "truncated in section %u", k);
        if (nlen == 0 || nlen >= VMSTATE_NAME_MAX ||
            memchr(name, 0, nlen))
            return fail(err, "section %u has a bad name", k);
        int i = vmstate_index(vs, (const char *)name, nlen);
        if (i < 0)
            return fail(err, "unknown section '%.*s' (another machine "
                        "configuration or tandem version)", (int)nlen, name);
        const struct vmstate_section *sec = vmstate_at(vs, (size_t)i);
        if (s->sec_data[i])
            return fail(err, "section '%s' appears twice", sec->name);
        if (get_u32(hdr) != sec->version)
            return fail(err, "section '%s' has version %u, this tandem's is "
                        "%u", sec->name, get_u32(hdr), sec->version);
        if (get_u32(hdr + 4) != sec->size)
            return fail(err, "section '%s' has %u bytes, this tandem's has %u",
                        sec->name, get_u32(hdr + 4), sec->size);
        s->sec_data[i] = take(c, sec->size);
        if (!s->sec_data[i])
            return fail(err, "truncated in section '%s'", sec->name);
    }
    for (size_t i = 0; i < s->nsec; i++)
        if (!s->sec_data[i])
            return fail(err, "section '%s' is missing",
                        vmstate_at(vs, i)->name);
    return 0;
}

static int check_ram(struct snapshot *s, struct cursor *c, char *err)
{
    uint64_t npages = ram_pages(s->ram_size);
    s->bitmap = take(c, (size_t)((npages + 7) / 8));
    if (!s->bitmap)
        return fail(err, "truncated in the RAM page map");
    uint64_t bytes = 0;
    for (uint64_t pg = 0; pg < (npages + 7) / 8 * 8; pg++) {
        if (!(s->bitmap[pg / 8] & (1u << (pg % 8))))
            continue;
        if (pg >= npages)
            return fail(err, "RAM page map names pages past the end of RAM");
        bytes += page_len(s->ram_size, pg);
    }
    s->pages = c->p;
    if ((uint64_t)(c->end - c->p) != bytes + 8)
        return fail(err, "RAM: %llu bytes of pages expected, %llu present",
                    (unsigned long long)bytes,
                    (unsigned long long)(c->end - c->p - 8));
    return 0;
}

int snapshot_decode(struct snapshot **out, struct machine *m, uint8_t *buf,
                    size_t len, char err[SNAPSHOT_ERR_LEN])
{
    *out = NULL;
    struct snapshot *s = calloc(1, sizeof(*s));
    size_t nsec = vmstate_count(m->vmstate);
    const uint8_t **sec = calloc(nsec ? nsec : 1, sizeof(*sec));
    if (!s || !sec) {
        free(s);
        free(sec);
        free(buf);
        return fail(err, "out of memory");
    }
    s->buf = buf;
    s->len = len;
    s->sec_data = sec;
    s->nsec = nsec;
    struct cursor c = {buf + SNAPSHOT_HEADER_SIZE, buf + len};
    int r = check_header(s, m, err);
    if (!r)
        r = check_cpus(s, &c, err);
    if (!r)
        r = check_sections(s, &c, m->vmstate, err);
    if (!r)
        r = check_ram(s, &c, err);
    if (r) {
        snapshot_free(s);
        return r;
    }
    *out = s;
    return 0;
}

int snapshot_read(struct snapshot **out, struct machine *m, const char *path,
                  char err[SNAPSHOT_ERR_LEN])
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        fail(err, "cannot open %s: %s", path, strerror(e));
        return -e;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        close(fd);
        return fail(err, "%s: out of memory for %zu bytes", path, len);
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            free(buf);
            fail(err, "cannot read %s: %s", path, strerror(e));
            return -e;
        }
        got += (size_t)n;
    }
    close(fd);
    int r = snapshot_decode(out, m, buf, len, err);
    if (r) {
        char why[SNAPSHOT_ERR_LEN];
        memcpy(why, err, SNAPSHOT_ERR_LEN);
        snprintf(err, SNAPSHOT_ERR_LEN, "%s: %.200s", path, why);
    }
    return r;
}

const void *snapshot_cpu(const struct snapshot *s, int i)
{
    return i >= 0 && i < s->ncpus ? s->cpu[i] : NULL;
}

void snapshot_apply(const struct snapshot *s, struct machine *m)
{
    vclock_set(m->clock, s->clock_ns);
    mem_map_set_a20(m->mem, s->a20);
    const uint8_t *src = s->pages;
    for (uint64_t pg = 0; pg < ram_pages(s->ram_size); pg++) {
        uint8_t *dst = m->ram + pg * SNAPSHOT_PAGE_SIZE;
        size_t n = page_len(s->ram_size, pg);
        if (s->bitmap[pg / 8] & (1u << (pg % 8))) {
            memcpy(dst, src, n);
            src += n;
        } else if (!page_is_zero(dst, n)) {
            memset(dst, 0, n);
        }
    }
    for (size_t i = 0; i < s->nsec; i++) {
        const struct vmstate_section *sec = vmstate_at(m->vmstate, i);
        memcpy(sec->data, s->sec_data[i], sec->size);
    }
    /* events in flight to the vCPUs are not saved (the interrupt
     * controllers' state is): the post_load hooks raise them again */
    for (int i = 0; i < m->ncpus; i++)
        atomic_store(&m->cpu_link[i].events, 0);
    for (size_t i = 0; i < s->nsec; i++) {
        const struct vmstate_section *sec = vmstate_at(m->vmstate, i);
        if (sec->post_load)
            sec->post_load(sec->opaque);
    }
}

void snapshot_free(struct snapshot *s)
{
    if (!s)
        return;
    for (int i = 0; i < MACHINE_MAX_CPUS; i++)
        free(s->cpu[i]);
    free(s->sec_data);
    free(s->buf);
    free(s);
}
