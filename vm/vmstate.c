/* The state-section registry (see vmstate.h): a growing array of sections
 * kept in registration order. */
#include "vm/vmstate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VMSTATE_MAX_SIZE (16u << 20)

struct vmstate {
    struct vmstate_section *sec;
    size_t count, cap;
};

struct vmstate *vmstate_new(void)
{
    return calloc(1, sizeof(struct vmstate));
}

void vmstate_free(struct vmstate *vs)
{
    if (!vs)
        return;
    free(vs->sec);
    free(vs);
}

int vmstate_index(const struct vmstate *vs, const char *name, size_t len)
{
    for (size_t i = 0; i < vs->count; i++)
        if (strlen(vs->sec[i].name) == len &&
            memcmp(vs->sec[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

int vmstate_register(struct vmstate *vs, const char *name, uint32_t version,
                     void *data, size_t size, void (*post_load)(void *opaque),
                     void *opaque)
{
    size_t len = strlen(name);
    if (len == 0 || len >= VMSTATE_NAME_MAX || size == 0 ||
        size > VMSTATE_MAX_SIZE || !data)
        return -EINVAL;
    if (vmstate_index(vs, name, len) >= 0)
        return -EEXIST;
    if (vs->count == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 32;
        struct vmstate_section *n = realloc(vs->sec, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        vs->sec = n;
        vs->cap = cap;
    }
    struct vmstate_section *s = &vs->sec[vs->count++];
    memset(s, 0, sizeof(*s));
    memcpy(s->name, name, len);
    s->version = version;
    s->data = data;
    s->size = (uint32_t)size;
    s->post_load = post_load;
    s->opaque = opaque;
    return 0;
}

size_t vmstate_count(const struct vmstate *vs)
{
    return vs->count;
}

const struct vmstate_section *vmstate_at(const struct vmstate *vs, size_t i)
{
    return i < vs->count ? &vs->sec[i] : NULL;
}

const struct vmstate_section *vmstate_find(const struct vmstate *vs,
                                           const char *name)
{
    int i = vmstate_index(vs, name, strlen(name));
    return i < 0 ? NULL : &vs->sec[i];
}
