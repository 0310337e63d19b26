/* One KVM VM per machine: created when the first vCPU of the machine is,
 * closed with the last. It has no in-kernel irqchip and no in-kernel PIT
 * (tandem's devices serve KVM too). Its memslots follow the memory map's flat
 * view: RAM sections become read-write slots, ROM sections read-only slots
 * (writes exit as MMIO and are dropped by mem_write), MMIO and holes stay
 * unmapped so that accesses exit to mem_read/mem_write. A mem_listener keeps
 * the slots in step with the map.
 *
 * A20: KVM cannot mask address bit 20 per access. While the gate is off the
 * second MiB [1 MiB, 2 MiB) is mapped to what the first MiB shows (as
 * KVM-based PC emulators do), which covers everything real-mode code can
 * reach through the wrap-around at FFFF:0010; higher odd MiBs are not
 * aliased. MMIO exits apply the A20 mask to their address.
 *
 * The APIC MSRs (APIC_BASE, TSC_DEADLINE, the x2APIC range) are routed to
 * tandem's LAPIC with an MSR filter where the host supports it. */
#include "hwaccel/kvm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "vm/log.h"

#define PAGE 4096ull
#define MIB (1ull << 20)
/* Intel's real-mode helpers: three pages for the TSS, one for the identity
 * page table, just below a 256 KiB BIOS (the addresses QEMU uses) */
#define KVM_TSS_ADDR 0xfffbd000u
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000ull

static struct kvm_vm *vms;

struct slot_list {
    struct kvm_slot *v;
    size_t n, cap;
};

static int push(struct slot_list *l, uint64_t gpa, uint64_t size,
                uint8_t *host, uint32_t flags)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        struct kvm_slot *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (struct kvm_slot){gpa, size, host, flags, 0};
    return 0;
}

/* A RAM/ROM section as a slot: whole pages only; the partial pages at the
 * ends stay unmapped and are served through MMIO exits */
static int push_section(struct slot_list *l, const struct mem_section *s)
{
    uint64_t start = (s->base + PAGE - 1) & ~(PAGE - 1);
    uint64_t end = (s->base + s->size) & ~(PAGE - 1);
    if (s->base + s->size < s->base) /* ends at 2^64 */
        end = ~(PAGE - 1);
    if (end <= start)
        return 0;
    uint8_t *host = s->region->host + s->offset + (start - s->base);
    if ((uintptr_t)host & (PAGE - 1)) {
        log_msg_rl(LOG_UNIMP, "kvm: %s at 0x%llx is not page-aligned in host "
                   "memory: accessed through exits\n", s->region->name,
                   (unsigned long long)s->base);
        return 0;
    }
    return push(l, start, end - start, host,
                s->region->kind == MEM_ROM ? KVM_MEM_READONLY : 0);
}

/* Append the part of slot x inside [lo, hi), moved by shift */
static int push_clip(struct slot_list *l, const struct kvm_slot *x,
                     uint64_t lo, uint64_t hi, uint64_t shift)
{
    uint64_t a = x->gpa > lo ? x->gpa : lo;
    uint64_t b = x->gpa + x->size < hi ? x->gpa + x->size : hi;
    if (a >= b)
        return 0;
    return push(l, a + shift, b - a, x->host + (a - x->gpa), x->flags);
}

static int wanted_slots(struct mem_map *map, struct slot_list *out)
{
    struct slot_list flat = {0};
    size_t n;
    const struct mem_section *sec = mem_map_sections(map, &n);
    int err = 0;
    for (size_t i = 0; i < n && !err; i++)
        if (sec[i].region->kind == MEM_RAM || sec[i].region->kind == MEM_ROM)
            err = push_section(&flat, &sec[i]);
    if (err || mem_map_a20(map)) {
        *out = flat;
        return err;
    }
    /* A20 off: the second MiB shows the first */
    for (size_t i = 0; i < flat.n && !err; i++) {
        err = push_clip(out, &flat.v[i], 0, MIB, 0);
        if (!err)
            err = push_clip(out, &flat.v[i], 2 * MIB, UINT64_MAX, 0);
    }
    for (size_t i = 0; i < flat.n && !err; i++)
        err = push_clip(out, &flat.v[i], 0, MIB, MIB);
    free(flat.v);
    return err;
}

static bool same_slot(const struct kvm_slot *a, const struct kvm_slot *b)
{
    return a->gpa == b->gpa && a->size == b->size && a->host == b->host &&
           a->flags == b->flags;
}

static int set_region(struct kvm_vm *vm, const struct kvm_slot *s, bool del)
{
    struct kvm_userspace_memory_region r = {
        .slot = s->id,
        .flags = s->flags,
        .guest_phys_addr = s->gpa,
        .memory_size = del ? 0 : s->size,
        .userspace_addr = (uintptr_t)s->host,
    };
    if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        return -errno;
    return 0;
}

int kvm_vm_sync_slots(struct kvm_vm *vm)
{
    struct slot_list want = {0};
    int err = wanted_slots(vm->m->mem, &want);
    if (err) {
        free(want.v);
        return err;
    }
    int failed = 0;
    /* remove what is gone first: new slots may overlap old ones */
    for (size_t i = 0; i < vm->nslots; i++) {
        bool keep = false;
        for (size_t j = 0; j < want.n && !keep; j++)
            keep = same_slot(&vm->slots[i], &want.v[j]);
        if (!keep) {
            set_region(vm, &vm->slots[i], true);
            vm->slot_id_used[vm->slots[i].id] = false;
        }
    }
    for (size_t j = 0; j < want.n; j++) {
        bool kept = false;
        for (size_t i = 0; i < vm->nslots && !kept; i++) {
            if (same_slot(&vm->slots[i], &want.v[j])) {
                want.v[j].id = vm->slots[i].id;
                kept = true;
            }
        }
        if (kept)
            continue;
        uint32_t id = 0;
        while (id < vm->max_slots && vm->slot_id_used[id])
            id++;
        if (id == vm->max_slots) {
            err = -ENOSPC;
        } else {
            want.v[j].id = id;
            err = set_region(vm, &want.v[j], false);
        }
        if (err) {
            failed = err;
            error_report("kvm: cannot map guest memory at 0x%llx (%llu KiB): %s",
                         (unsigned long long)want.v[j].gpa,
                         (unsigned long long)(want.v[j].size >> 10),
                         strerror(-err));
            /* keep only the slots that are really in KVM */
            memmove(&want.v[j], &want.v[j + 1],
                    (want.n - j - 1) * sizeof(want.v[0]));
            want.n--;
            j--;
            continue;
        }
        vm->slot_id_used[id] = true;
    }
    free(vm->slots);
    vm->slots = want.v;
    vm->nslots = want.n;
    return failed;
}

static void map_changed(void *opaque, uint64_t base, uint64_t size)
{
    kvm_vm_sync_slots(opaque);
}

/* Route the APIC MSRs to user space (link->msr_read/msr_write) */
static bool setup_msr_filter(int fd)
{
    struct kvm_enable_cap cap = {
        .cap = KVM_CAP_X86_USER_SPACE_MSR,
        .args = {KVM_MSR_EXIT_REASON_FILTER},
    };
    if (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) <= 0 ||
        ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) <= 0 ||
        ioctl(fd, KVM_ENABLE_CAP, &cap) < 0)
        return false;
    static uint8_t deny[256 / 8]; /* all bits clear: every MSR exits */
    struct kvm_msr_filter f = {
        .flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
        .ranges = {
            {KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, 1, 0x1b, deny},
            {KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, 1, 0x6e0, deny},
            {KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, 256, 0x800, deny},
        },
    };
    return ioctl(fd, KVM_X86_SET_MSR_FILTER, &f) == 0;
}

static struct kvm_vm *vm_create(struct machine *m)
{
    const char *why = NULL;
    int dev = kvm_dev_fd(&why);
    if (dev < 0) {
        error_report("kvm: %s", why);
        return NULL;
    }
    if (vclock_mode(m->clock) == VCLOCK_ICOUNT) {
        error_report("kvm: -icount needs a software CPU (-accel interp or jit)");
        return NULL;
    }
    int fd = ioctl(dev, KVM_CREATE_VM, 0);
    if (fd < 0) {
        error_report("kvm: KVM_CREATE_VM failed: %s", strerror(errno));
        return NULL;
    }
    uint64_t ident = KVM_IDENTITY_MAP_ADDR;
    if (ioctl(fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0 ||
        (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
         ioctl(fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)) {
        error_report("kvm: cannot place the real-mode TSS: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    struct kvm_vm *vm = calloc(1, sizeof(*vm));
    if (!vm) {
        close(fd);
        return NULL;
    }
    vm->m = m;
    vm->fd = fd;
    int nslots = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    vm->max_slots = nslots > 0 && nslots < KVM_MAX_SLOTS ? (uint32_t)nslots
                                                         : KVM_MAX_SLOTS;
    vm->msr_filter = setup_msr_filter(fd);
    if (!vm->msr_filter)
        log_msg(LOG_UNIMP, "kvm: no MSR filter on this host: KVM answers the "
                "APIC MSRs itself and the TSC-deadline timer is hidden\n");
    if (kvm_vm_sync_slots(vm) < 0) {
        free(vm->slots);
        free(vm);
        close(fd);
        return NULL;
    }
    vm->listener = (struct mem_listener){.changed = map_changed, .opaque = vm};
    mem_map_add_listener(m->mem, &vm->listener);
    vm->next = vms;
    vms = vm;
    return vm;
}

struct kvm_vm *kvm_vm_get(struct machine *m)
{
    struct kvm_vm *vm = vms;
    while (vm && vm->m != m)
        vm = vm->next;
    if (!vm)
        vm = vm_create(m);
    if (vm)
        vm->users++;
    return vm;
}

void kvm_vm_put(struct kvm_vm *vm)
{
    if (--vm->users > 0)
        return;
    for (struct kvm_vm **p = &vms; *p; p = &(*p)->next) {
        if (*p == vm) {
            *p = vm->next;
            break;
        }
    }
    mem_map_remove_listener(vm->m->mem, &vm->listener);
    for (int i = 0; i < MACHINE_MAX_CPUS; i++) {
        struct kvm_vcpu *v = vm->vcpu[i];
        if (!v)
            continue;
        kvm_run_cleanup(v);
        close(v->fd);
        free(v);
    }
    close(vm->fd);
    free(vm->slots);
    free(vm);
}
