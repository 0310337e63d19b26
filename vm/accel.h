/* CPU backends (interpreter, JIT, KVM) and how the machine drives them.
 * Each backend fills a struct cpu_backend_ops and registers it from its own
 * file with ACCEL_REGISTER; vm/ never includes a backend's headers. While a
 * vCPU runs, its backend owns the registers; anyone else asks get_state. */
#ifndef VM_ACCEL_H
#define VM_ACCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct x86_state; /* cpu/x86_state.h */
struct machine;

enum run_exit {
    RUN_DEADLINE, /* reached the deadline or was kicked: run timers, come back */
    RUN_HALT,     /* HLT with nothing pending: sleep until the next event */
    RUN_SHUTDOWN, /* triple fault */
    RUN_DEBUG,    /* breakpoint, watchpoint or single step */
    RUN_ERROR,    /* the backend cannot go on; it has reported why */
};

enum debug_kind { DBG_SW_BREAK, DBG_HW_BREAK, DBG_WATCH_W, DBG_WATCH_RW };

struct cpu_backend_ops {
    const char *name;     /* -accel NAME */
    const char *summary;  /* one line for -accel help */
    /* 0 if this backend can run here; else -errno and *why set to a reason */
    int (*probe)(const char **why);
    /* -accel auto only, after probe passed: 0 if auto may pick this backend
     * (KVM: only where it runs guests at hardware speed); else -errno and
     * *why. NULL: auto uses probe alone. */
    int (*probe_auto)(const char **why);
    /* create vCPU `index` of machine m; returns the backend's vCPU or NULL */
    void *(*init)(struct machine *m, int index);
    void (*destroy)(void *vcpu);
    void (*get_state)(void *vcpu, struct x86_state *s);
    void (*set_state)(void *vcpu, const struct x86_state *s);
    /* run until the virtual clock reaches deadline_ns, a kick, or an exit */
    enum run_exit (*run)(void *vcpu, int64_t deadline_ns);
    void (*kick)(void *vcpu); /* async-signal-safe */
    /* breakpoints/watchpoints; single-step */
    int (*set_debug)(void *vcpu, bool single_step);
    int (*insert_debug)(void *vcpu, enum debug_kind kind, uint64_t addr,
                        uint64_t len);
    int (*remove_debug)(void *vcpu, enum debug_kind kind, uint64_t addr,
                        uint64_t len);
    /* guest code in [gpa, gpa+len) changed behind the backend's back */
    void (*invalidate_code)(void *vcpu, uint64_t gpa, uint64_t len);
    int priority; /* -accel auto tries higher first */
};

/* get_state/set_state move a struct x86_state (cpu/x86_state.h); vm/ carries
 * it as opaque bytes of this size, aligned to 64, whose first two 32-bit
 * words are its version and size (defined in cpu/, which owns the struct) */
extern const uint32_t accel_cpu_state_size, accel_cpu_state_version;
#define ACCEL_CPU_STATE_ALIGN 64
/* The registers of such a state as text, QEMU "info registers" style;
 * returns the length written (truncated to fit len) */
size_t accel_cpu_state_format(const void *state, char *buf, size_t len);

void accel_register(const struct cpu_backend_ops *ops);
const struct cpu_backend_ops *accel_find(const char *name);
/* iterate: returns NULL past the end */
const struct cpu_backend_ops *accel_at(int i);

#define ACCEL_REGISTER(ops)                                                    \
    static void __attribute__((constructor)) accel_register_##ops(void)       \
    {                                                                          \
        accel_register(&ops);                                                  \
    }

#endif
