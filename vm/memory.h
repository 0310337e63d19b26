/* The guest physical memory map: RAM, ROM and MMIO regions plus aliases,
 * overlapping by priority, flattened into a sorted list of sections that every
 * backend reads (KVM builds memslots from it, the CPU cores' TLBs point into
 * the RAM it names). Listeners hear about every change. The A20 gate lives
 * here too: CPU accesses mask their physical address with mem_map_a20_mask(). */
#ifndef VM_MEMORY_H
#define VM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vm/io.h"

enum mem_kind { MEM_RAM, MEM_ROM, MEM_MMIO, MEM_ALIAS };

struct mem_region {
    const char *name;
    uint64_t base, size;
    enum mem_kind kind;
    int priority;     /* higher wins where regions overlap */
    bool enabled;
    uint8_t *host;    /* RAM/ROM: host address of byte 0 of the region */
    const struct io_ops *ops; /* MMIO */
    void *opaque;
    struct mem_region *alias_of; /* ALIAS: the target and the offset in it */
    uint64_t alias_offset;
};

/* One piece of the flattened view: [base, base+size) shows region at
 * region_offset. Alias regions are resolved to their target. */
struct mem_section {
    uint64_t base, size;
    const struct mem_region *region;
    uint64_t offset;
};

struct mem_listener {
    /* the flat view changed over [base, base+size): drop cached translations */
    void (*changed)(void *opaque, uint64_t base, uint64_t size);
    /* RAM was written by something other than the CPU (DMA, loaders) */
    void (*ram_written)(void *opaque, uint64_t gpa, uint64_t len);
    void *opaque;
};

struct mem_map;

struct mem_map *mem_map_new(void);
void mem_map_free(struct mem_map *map);

struct mem_region *mem_map_add_ram(struct mem_map *map, const char *name,
                                   uint64_t base, uint64_t size, uint8_t *host,
                                   int priority);
struct mem_region *mem_map_add_rom(struct mem_map *map, const char *name,
                                   uint64_t base, uint64_t size, uint8_t *host,
                                   int priority);
struct mem_region *mem_map_add_mmio(struct mem_map *map, const char *name,
                                    uint64_t base, uint64_t size,
                                    const struct io_ops *ops, void *opaque,
                                    int priority);
struct mem_region *mem_map_add_alias(struct mem_map *map, const char *name,
                                     uint64_t base, uint64_t size,
                                     struct mem_region *target,
                                     uint64_t target_offset, int priority);
void mem_map_move(struct mem_map *map, struct mem_region *r, uint64_t new_base);
void mem_map_set_enabled(struct mem_map *map, struct mem_region *r, bool on);
/* Turn a ROM region into RAM or back (PAM shadowing); contents unchanged */
void mem_map_set_kind(struct mem_map *map, struct mem_region *r,
                      enum mem_kind kind);
void mem_map_remove(struct mem_map *map, struct mem_region *r);

void mem_map_add_listener(struct mem_map *map, const struct mem_listener *l);
/* Remove the listener added with the same callbacks and opaque */
void mem_map_remove_listener(struct mem_map *map,
                             const struct mem_listener *l);

/* The flat view, sorted by base, holes left out */
const struct mem_section *mem_map_sections(struct mem_map *map, size_t *count);
/* The section covering gpa, or NULL for a hole */
const struct mem_section *mem_map_find(struct mem_map *map, uint64_t gpa);

/* Host pointer for [gpa, gpa+len) when all of it is RAM (or ROM when
 * !for_write) inside one section; NULL otherwise. */
uint8_t *mem_map_host_ptr(struct mem_map *map, uint64_t gpa, uint64_t len,
                          bool for_write);

/* Single access of 1/2/4/8 bytes: RAM, ROM (writes dropped) or MMIO dispatch.
 * Holes read as all ones; writes to holes are dropped and logged. */
uint64_t mem_read(struct mem_map *map, uint64_t gpa, unsigned size);
void mem_write(struct mem_map *map, uint64_t gpa, uint64_t value,
               unsigned size);

/* Bulk copy crossing sections (DMA, loaders, debugger). Writes to RAM tell
 * the ram_written listeners. Returns 0. */
int mem_rw(struct mem_map *map, uint64_t gpa, void *buf, uint64_t len,
           bool is_write);

/* A20: when off, CPU physical addresses have bit 20 cleared. */
void mem_map_set_a20(struct mem_map *map, bool enabled);
bool mem_map_a20(struct mem_map *map);
uint64_t mem_map_a20_mask(struct mem_map *map);

#endif
