/* Guest debugging on KVM (for the gdb stub): single-step, software
 * breakpoints (the stub writes INT3; KVM then exits on #BP instead of
 * delivering it) and up to four hardware breakpoints/watchpoints in the
 * debug registers, all through KVM_SET_GUEST_DEBUG. */
#include "hwaccel/kvm_int.h"

#include <errno.h>
#include <sys/ioctl.h>

/* DR7 R/W field: execute, write, read/write */
static const unsigned dr7_rw[] = {
    [DBG_HW_BREAK] = 0, [DBG_WATCH_W] = 1, [DBG_WATCH_RW] = 3,
};

/* DR7 LEN field for 1, 2, 4, 8 bytes */
static int dr7_len(uint64_t len)
{
    switch (len) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 3;
    case 8: return 2;
    default: return -1;
    }
}

int kvm_debug_apply(struct kvm_vcpu *v)
{
    struct kvm_guest_debug dbg = {0};
    uint64_t dr7 = 0;
    bool hw = false;
    for (int i = 0; i < KVM_MAX_HW_BPS; i++) {
        if (!v->hw[i].used)
            continue;
        hw = true;
        dbg.arch.debugreg[i] = v->hw[i].addr;
        unsigned len = v->hw[i].kind == DBG_HW_BREAK ? 0
                                                     : (unsigned)dr7_len(v->hw[i].len);
        dr7 |= (2ull << (2 * i)) | ((uint64_t)dr7_rw[v->hw[i].kind] << (16 + 4 * i)) |
               ((uint64_t)len << (18 + 4 * i));
    }
    dbg.arch.debugreg[7] = dr7;
    if (v->single_step)
        dbg.control |= KVM_GUESTDBG_SINGLESTEP;
    if (v->sw_breaks > 0)
        dbg.control |= KVM_GUESTDBG_USE_SW_BP;
    if (hw)
        dbg.control |= KVM_GUESTDBG_USE_HW_BP;
    if (dbg.control)
        dbg.control |= KVM_GUESTDBG_ENABLE;
    return ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0 ? -errno : 0;
}

int kvm_debug_insert(struct kvm_vcpu *v, enum debug_kind kind, uint64_t addr,
                     uint64_t len)
{
    if (kind == DBG_SW_BREAK) {
        v->sw_breaks++;
        return kvm_debug_apply(v);
    }
    if (kind != DBG_HW_BREAK && (dr7_len(len) < 0 || (addr & (len - 1))))
        return -EINVAL;
    for (int i = 0; i < KVM_MAX_HW_BPS; i++) {
        if (v->hw[i].used)
            continue;
        v->hw[i].used = true;
        v->hw[i].addr = addr;
        v->hw[i].kind = kind;
        v->hw[i].len = (unsigned)len;
        return kvm_debug_apply(v);
    }
    return -ENOSPC;
}

int kvm_debug_remove(struct kvm_vcpu *v, enum debug_kind kind, uint64_t addr,
                     uint64_t len)
{
    if (kind == DBG_SW_BREAK) {
        if (v->sw_breaks == 0)
            return -ENOENT;
        v->sw_breaks--;
        return kvm_debug_apply(v);
    }
    for (int i = 0; i < KVM_MAX_HW_BPS; i++) {
        if (v->hw[i].used && v->hw[i].kind == kind && v->hw[i].addr == addr &&
            (kind == DBG_HW_BREAK || v->hw[i].len == len)) {
            v->hw[i].used = false;
            return kvm_debug_apply(v);
        }
    }
    return -ENOENT;
}
