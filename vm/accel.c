/* The registry of CPU backends; each backend file registers itself. */
#include "vm/accel.h"

#include <string.h>

#define MAX_ACCELS 8

static const struct cpu_backend_ops *accels[MAX_ACCELS];
static int naccels;

void accel_register(const struct cpu_backend_ops *ops)
{
    if (naccels < MAX_ACCELS)
        accels[naccels++] = ops;
}

const struct cpu_backend_ops *accel_find(const char *name)
{
    for (int i = 0; i < naccels; i++)
        if (strcmp(accels[i]->name, name) == 0)
            return accels[i];
    return NULL;
}

const struct cpu_backend_ops *accel_at(int i)
{
    return i >= 0 && i < naccels ? accels[i] : NULL;
}
