/* What vm/ needs to know of struct x86_state to carry it between backends
 * and into snapshots without including cpu/ headers (see vm/accel.h). */
#include <stddef.h>
#include "cpu/x86_state.h"
#include "vm/accel.h"

_Static_assert(offsetof(struct x86_state, version) == 0 &&
                   offsetof(struct x86_state, size) == 4,
               "vm/ reads the version and size words first");

const uint32_t accel_cpu_state_size = sizeof(struct x86_state);
const uint32_t accel_cpu_state_version = X86_STATE_VERSION;
