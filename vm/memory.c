/* The guest physical memory map. Regions are kept in a list; every change
 * rebuilds the flat view (sorted, non-overlapping sections, highest priority
 * on top, aliases resolved) and tells the listeners. Lookups binary-search
 * the flat view. */
#include "vm/memory.h"

#include <stdlib.h>
#include <string.h>
#include "vm/log.h"

#define MAX_LISTENERS 16

struct mem_map {
    struct mem_region **regions;
    size_t nregions, cap_regions;
    struct mem_section *sections;
    size_t nsections;
    struct mem_listener listeners[MAX_LISTENERS];
    size_t nlisteners;
    bool a20;
};

struct mem_map *mem_map_new(void)
{
    struct mem_map *map = calloc(1, sizeof(*map));
    if (map)
        map->a20 = true;
    return map;
}

void mem_map_free(struct mem_map *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->nregions; i++)
        free(map->regions[i]);
    free(map->regions);
    free(map->sections);
    free(map);
}

static void notify_changed(struct mem_map *map, uint64_t base, uint64_t size)
{
    for (size_t i = 0; i < map->nlisteners; i++)
        if (map->listeners[i].changed)
            map->listeners[i].changed(map->listeners[i].opaque, base, size);
}

/* Follow aliases to the region that really holds the bytes */
static const struct mem_region *resolve(const struct mem_region *r,
                                        uint64_t *offset)
{
    for (int depth = 0; r && r->kind == MEM_ALIAS && depth < 8; depth++) {
        *offset += r->alias_offset;
        r = r->alias_of;
    }
    return (r && r->kind != MEM_ALIAS) ? r : NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The region visible over [start, ...): highest priority, latest added */
static const struct mem_region *top_region(struct mem_map *map, uint64_t start)
{
    const struct mem_region *best = NULL;
    for (size_t i = 0; i < map->nregions; i++) {
        const struct mem_region *r = map->regions[i];
        if (!r->enabled || start < r->base || start - r->base >= r->size)
            continue;
        if (!best || r->priority >= best->priority)
            best = r;
    }
    return best;
}

static void rebuild(struct mem_map *map)
{
    size_t nb = 0;
    uint64_t *bounds = malloc(sizeof(uint64_t) * (2 * map->nregions + 1));
    struct mem_section *secs =
        malloc(sizeof(*secs) * (2 * map->nregions + 1));
    if (!bounds || !secs)
        abort(); /* out of host memory while building our own tables */
    for (size_t i = 0; i < map->nregions; i++) {
        const struct mem_region *r = map->regions[i];
        if (!r->enabled)
            continue;
        bounds[nb++] = r->base;
        bounds[nb++] = r->base + r->size; /* may wrap to 0 at 2^64 */
    }
    qsort(bounds, nb, sizeof(uint64_t), cmp_u64);
    size_t ns = 0;
    for (size_t i = 0; i + 1 < nb; i++) {
        uint64_t start = bounds[i], end = bounds[i + 1];
        if (start == end)
            continue;
        const struct mem_region *top = top_region(map, start);
        if (!top)
            continue;
        uint64_t offset = start - top->base;
        const struct mem_region *real = resolve(top, &offset);
        if (!real)
            continue;
        struct mem_section *prev = ns ? &secs[ns - 1] : NULL;
        if (prev && prev->region == real && prev->base + prev->size == start &&
            prev->offset + prev->size == offset) {
            prev->size += end - start;
            continue;
        }
        secs[ns++] = (struct mem_section){start, end - start, real, offset};
    }
    free(bounds);
    free(map->sections);
    map->sections = secs;
    map->nsections = ns;
}

static struct mem_region *add_region(struct mem_map *map,
                                     const struct mem_region *tmpl)
{
    if (map->nregions == map->cap_regions) {
        size_t cap = map->cap_regions ? map->cap_regions * 2 : 16;
        struct mem_region **n = realloc(map->regions, cap * sizeof(*n));
        if (!n)
            return NULL;
        map->regions = n;
        map->cap_regions = cap;
    }
    struct mem_region *r = malloc(sizeof(*r));
    if (!r)
        return NULL;
    *r = *tmpl;
    r->enabled = true;
    map->regions[map->nregions++] = r;
    rebuild(map);
    notify_changed(map, r->base, r->size);
    return r;
}

struct mem_region *mem_map_add_ram(struct mem_map *map, const char *name,
                                   uint64_t base, uint64_t size, uint8_t *host,
                                   int priority)
{
    return add_region(map, &(struct mem_region){
        .name = name, .base = base, .size = size, .kind = MEM_RAM,
        .priority = priority, .host = host});
}

struct mem_region *mem_map_add_rom(struct mem_map *map, const char *name,
                                   uint64_t base, uint64_t size, uint8_t *host,
                                   int priority)
{
    return add_region(map, &(struct mem_region){
        .name = name, .base = base, .size = size, .kind = MEM_ROM,
        .priority = priority, .host = host});
}

struct mem_region *mem_map_add_mmio(struct mem_map *map, const char *name,
                                    uint64_t base, uint64_t size,
                                    const struct io_ops *ops, void *opaque,
                                    int priority)
{
    return add_region(map, &(struct mem_region){
        .name = name, .base = base, .size = size, .kind = MEM_MMIO,
        .priority = priority, .ops = ops, .opaque = opaque});
}

struct mem_region *mem_map_add_alias(struct mem_map *map, const char *name,
                                     uint64_t base, uint64_t size,
                                     struct mem_region *target,
                                     uint64_t target_offset, int priority)
{
    return add_region(map, &(struct mem_region){
        .name = name, .base = base, .size = size, .kind = MEM_ALIAS,
        .priority = priority, .alias_of = target,
        .alias_offset = target_offset});
}

/* Something about r changed: rebuild and tell listeners about the range it
 * covered before and covers now. */
static void region_changed(struct mem_map *map, struct mem_region *r,
                           uint64_t old_base)
{
    rebuild(map);
    notify_changed(map, old_base, r->size);
    if (old_base != r->base)
        notify_changed(map, r->base, r->size);
}

void mem_map_move(struct mem_map *map, struct mem_region *r, uint64_t new_base)
{
    uint64_t old = r->base;
    if (old == new_base)
        return;
    r->base = new_base;
    region_changed(map, r, old);
}

void mem_map_set_enabled(struct mem_map *map, struct mem_region *r, bool on)
{
    if (r->enabled == on)
        return;
    r->enabled = on;
    region_changed(map, r, r->base);
}

void mem_map_set_kind(struct mem_map *map, struct mem_region *r,
                      enum mem_kind kind)
{
    if (r->kind == kind || (kind != MEM_RAM && kind != MEM_ROM) ||
        (r->kind != MEM_RAM && r->kind != MEM_ROM))
        return;
    r->kind = kind;
    region_changed(map, r, r->base);
    /* regions aliasing r changed too */
    for (size_t i = 0; i < map->nregions; i++)
        if (map->regions[i]->alias_of == r)
            notify_changed(map, map->regions[i]->base, map->regions[i]->size);
}

void mem_map_remove(struct mem_map *map, struct mem_region *r)
{
    for (size_t i = 0; i < map->nregions; i++) {
        if (map->regions[i] != r)
            continue;
        memmove(&map->regions[i], &map->regions[i + 1],
                (map->nregions - i - 1) * sizeof(*map->regions));
        map->nregions--;
        rebuild(map);
        notify_changed(map, r->base, r->size);
        free(r);
        return;
    }
}

void mem_map_add_listener(struct mem_map *map, const struct mem_listener *l)
{
    if (map->nlisteners == MAX_LISTENERS)
        abort(); /* our own wiring added too many */
    map->listeners[map->nlisteners++] = *l;
}

void mem_map_remove_listener(struct mem_map *map,
                             const struct mem_listener *l)
{
    for (size_t i = 0; i < map->nlisteners; i++) {
        struct mem_listener *x = &map->listeners[i];
        if (x->changed == l->changed && x->ram_written == l->ram_written &&
            x->opaque == l->opaque) {
            memmove(x, x + 1, (map->nlisteners - i - 1) * sizeof(*x));
            map->nlisteners--;
            return;
        }
    }
}

const struct mem_section *mem_map_sections(struct mem_map *map, size_t *count)
{
    *count = map->nsections;
    return map->sections;
}

const struct mem_section *mem_map_find(struct mem_map *map, uint64_t gpa)
{
    size_t lo = 0, hi = map->nsections;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct mem_section *s = &map->sections[mid];
        if (gpa < s->base)
            hi = mid;
        else if (gpa - s->base >= s->size)
            lo = mid + 1;
        else
            return s;
    }
    return NULL;
}

uint8_t *mem_map_host_ptr(struct mem_map *map, uint64_t gpa, uint64_t len,
                          bool for_write)
{
    const struct mem_section *s = mem_map_find(map, gpa);
    if (!s || len > s->size - (gpa - s->base))
        return NULL;
    if (s->region->kind == MEM_RAM ||
        (s->region->kind == MEM_ROM && !for_write))
        return s->region->host + s->offset + (gpa - s->base);
    return NULL;
}

static uint64_t read_bytes_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, p, size);
    return v;
}

/* An access inside one section */
static bool access_in_section(const struct mem_section *s, uint64_t gpa,
                              unsigned size)
{
    return s && size <= s->size - (gpa - s->base);
}

uint64_t mem_read(struct mem_map *map, uint64_t gpa, unsigned size)
{
    const struct mem_section *s = mem_map_find(map, gpa);
    if (!access_in_section(s, gpa, size)) {
        if (s || mem_map_find(map, gpa + size - 1)) {
            uint64_t v = 0; /* straddles sections: byte by byte */
            for (unsigned i = 0; i < size; i++)
                v |= mem_read(map, gpa + i, 1) << (8 * i);
            return v;
        }
        log_msg_rl(LOG_UNIMP, "unassigned memory read 0x%llx size %u\n",
                   (unsigned long long)gpa, size);
        return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
    }
    uint64_t off = s->offset + (gpa - s->base);
    const struct mem_region *r = s->region;
    if (r->kind == MEM_MMIO) {
        uint64_t v = r->ops->read ? r->ops->read(r->opaque, off, size) : ~0ull;
        log_msg(LOG_IO, "mmio read  0x%llx/%u -> 0x%llx (%s)\n",
                (unsigned long long)gpa, size, (unsigned long long)v, r->name);
        return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
    }
    return read_bytes_le(r->host + off, size);
}

void mem_write(struct mem_map *map, uint64_t gpa, uint64_t value,
               unsigned size)
{
    const struct mem_section *s = mem_map_find(map, gpa);
    if (!access_in_section(s, gpa, size)) {
        if (s || mem_map_find(map, gpa + size - 1)) {
            for (unsigned i = 0; i < size; i++)
                mem_write(map, gpa + i, value >> (8 * i), 1);
            return;
        }
        log_msg_rl(LOG_UNIMP, "unassigned memory write 0x%llx size %u\n",
                   (unsigned long long)gpa, size);
        return;
    }
    uint64_t off = s->offset + (gpa - s->base);
    const struct mem_region *r = s->region;
    switch (r->kind) {
    case MEM_MMIO:
        log_msg(LOG_IO, "mmio write 0x%llx/%u <- 0x%llx (%s)\n",
                (unsigned long long)gpa, size, (unsigned long long)value,
                r->name);
        if (r->ops->write)
            r->ops->write(r->opaque, off, value, size);
        break;
    case MEM_RAM:
        memcpy(r->host + off, &value, size);
        break;
    default: /* ROM: writes are dropped */
        break;
    }
}

int mem_rw(struct mem_map *map, uint64_t gpa, void *buf, uint64_t len,
           bool is_write)
{
    uint8_t *p = buf;
    while (len) {
        const struct mem_section *s = mem_map_find(map, gpa);
        uint64_t chunk = 1;
        if (s) {
            uint64_t off = s->offset + (gpa - s->base);
            const struct mem_region *r = s->region;
            chunk = s->size - (gpa - s->base);
            if (chunk > len)
                chunk = len;
            if (r->kind == MEM_RAM || r->kind == MEM_ROM) {
                if (!is_write) {
                    memcpy(p, r->host + off, chunk);
                } else if (r->kind == MEM_RAM) {
                    memcpy(r->host + off, p, chunk);
                    for (size_t i = 0; i < map->nlisteners; i++)
                        if (map->listeners[i].ram_written)
                            map->listeners[i].ram_written(
                                map->listeners[i].opaque, gpa, chunk);
                }
            } else {
                chunk = 1;
                if (is_write)
                    mem_write(map, gpa, *p, 1);
                else
                    *p = (uint8_t)mem_read(map, gpa, 1);
            }
        } else if (is_write) {
            mem_write(map, gpa, *p, 1);
        } else {
            *p = 0xff;
        }
        p += chunk;
        gpa += chunk;
        len -= chunk;
    }
    return 0;
}

void mem_map_set_a20(struct mem_map *map, bool enabled)
{
    if (map->a20 == enabled)
        return;
    map->a20 = enabled;
    notify_changed(map, 0, UINT64_MAX);
}

bool mem_map_a20(struct mem_map *map)
{
    return map->a20;
}

uint64_t mem_map_a20_mask(struct mem_map *map)
{
    return map->a20 ? ~0ull : ~(1ull << 20);
}
