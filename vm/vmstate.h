/* The registry of a machine's state sections: every device registers the
 * plain-data struct that holds its guest-visible state (no pointers) under
 * a unique name with a version, plus an optional post_load callback that
 * re-derives what lives outside the struct (armed timers, memory and port
 * mappings, the levels driven on IRQ lines) once every section is back.
 * Snapshots (vm/snapshot.c) save and restore exactly these bytes. */
#ifndef VM_VMSTATE_H
#define VM_VMSTATE_H

#include <stddef.h>
#include <stdint.h>

#define VMSTATE_NAME_MAX 32 /* including the terminating NUL */

struct vmstate_section {
    char name[VMSTATE_NAME_MAX];
    uint32_t version;
    void *data;
    uint32_t size;
    void (*post_load)(void *opaque); /* may be NULL */
    void *opaque;
};

struct vmstate;

struct vmstate *vmstate_new(void);
void vmstate_free(struct vmstate *vs);

/* Add a section. 0, or -EINVAL (empty or too long name, size 0 or over
 * 16 MiB), -EEXIST (the name is taken), -ENOMEM. Restores run the
 * post_load callbacks in registration order, after all data is back. */
int vmstate_register(struct vmstate *vs, const char *name, uint32_t version,
                     void *data, size_t size, void (*post_load)(void *opaque),
                     void *opaque);

size_t vmstate_count(const struct vmstate *vs);
const struct vmstate_section *vmstate_at(const struct vmstate *vs, size_t i);
/* The section called name, or NULL */
const struct vmstate_section *vmstate_find(const struct vmstate *vs,
                                           const char *name);
/* Index of the section called name, or -1 */
int vmstate_index(const struct vmstate *vs, const char *name, size_t len);

#endif
