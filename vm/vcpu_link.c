/* The vCPU link's one piece of global state: which vCPU runs on this thread
 * (see vm/vcpu_link.h). */
#include "vm/vcpu_link.h"

_Thread_local struct vcpu_link *vcpu_link_current;
