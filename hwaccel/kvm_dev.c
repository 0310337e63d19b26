/* The host side of the KVM backend: /dev/kvm, opened once and checked for
 * the API version and every capability the backend relies on, and the test
 * for hardware virtualization that decides whether -accel auto may pick KVM
 * (a /dev/kvm without VMX/SVM underneath is a software KVM: it runs real
 * mode and ring 3 well but ring 0 very slowly). */
#include "hwaccel/kvm_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int dev_fd = -1;
static int dev_err;
static const char *dev_why;
static size_t run_size;

static const struct {
    int cap;
    const char *name;
} needed_caps[] = {
    {KVM_CAP_USER_MEMORY, "user memory"},
    {KVM_CAP_SET_TSS_ADDR, "TSS address"},
    {KVM_CAP_EXT_CPUID, "CPUID2"},
    {KVM_CAP_IMMEDIATE_EXIT, "immediate exit"},
    {KVM_CAP_READONLY_MEM, "read-only memslots"},
    {KVM_CAP_XSAVE, "XSAVE state"},
    {KVM_CAP_XCRS, "XCRs"},
    {KVM_CAP_VCPU_EVENTS, "vCPU events"},
    {KVM_CAP_DEBUGREGS, "debug registers"},
    {KVM_CAP_SET_GUEST_DEBUG, "guest debug"},
};

static int dev_open(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        dev_why = err == ENOENT ? "/dev/kvm does not exist"
                  : err == EACCES ? "no permission to open /dev/kvm"
                                  : "cannot open /dev/kvm";
        return -err;
    }
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        static char msg[64];
        snprintf(msg, sizeof(msg), "/dev/kvm has API version %d, not %d",
                 version, KVM_API_VERSION);
        dev_why = version < 0 ? "/dev/kvm is not a KVM device" : msg;
        close(fd);
        return -ENODEV;
    }
    for (size_t i = 0; i < sizeof(needed_caps) / sizeof(needed_caps[0]); i++) {
        if (ioctl(fd, KVM_CHECK_EXTENSION, needed_caps[i].cap) <= 0) {
            static char msg[96];
            snprintf(msg, sizeof(msg), "this KVM lacks the %s capability",
                     needed_caps[i].name);
            dev_why = msg;
            close(fd);
            return -ENODEV;
        }
    }
    int sz = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz < (int)sizeof(struct kvm_run)) {
        close(fd);
        dev_why = "KVM_GET_VCPU_MMAP_SIZE failed";
        return -ENODEV;
    }
    run_size = (size_t)sz;
    dev_fd = fd;
    return 0;
}

int kvm_dev_fd(const char **why)
{
    if (dev_fd < 0 && dev_err == 0)
        dev_err = dev_open();
    if (dev_err < 0) {
        if (why)
            *why = dev_why;
        return dev_err;
    }
    return dev_fd;
}

size_t kvm_dev_run_size(void)
{
    return run_size;
}

static bool cpuinfo_has_vmx_or_svm(void)
{
    bool found = false;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return false;
    char line[8192];
    while (!found && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        for (char *t = strtok(line, " \t\n"); t; t = strtok(NULL, " \t\n"))
            if (!strcmp(t, "vmx") || !strcmp(t, "svm"))
                found = true;
        break;
    }
    fclose(f);
    return found;
}

int kvm_dev_hw_virt(const char **why)
{
    static int result = 1; /* 1: not looked yet */
    if (result == 1)
        result = cpuinfo_has_vmx_or_svm() ? 0 : -ENODEV;
    if (result < 0 && why)
        *why = "host CPU has no vmx/svm: /dev/kvm is software-emulated here";
    return result;
}
