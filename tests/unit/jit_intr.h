/* A fake interrupt source for the JIT's differential tests (with
 * tests/unit/jit_diff.h): attached to a machine, an OUT to port 0x80
 * raises the vCPU's INTR line, and the acknowledge lowers it, counts it in
 * intr_count and gives vector 0x40, so a test can check that the
 * interpreter and the JIT take the interrupt at the same instruction. */
#ifndef TESTS_UNIT_JIT_INTR_H
#define TESTS_UNIT_JIT_INTR_H

#include "tests/unit/jit_diff.h"

static int intr_count;
static struct vcpu_link *intr_link;

static int intr_ack(void *ic)
{
    vcpu_link_set_intr(intr_link, false);
    intr_count++;
    return 0x40;
}

static uint64_t intr_port_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void intr_port_write(void *opaque, uint64_t off, uint64_t v,
                            unsigned size)
{
    vcpu_link_set_intr(intr_link, true);
}

static void intr_source_attach(struct vm *vm)
{
    static const struct io_ops ops = { .read = intr_port_read,
                                       .write = intr_port_write };
    intr_link = vm->cpu->link;
    intr_link->ic = vm;
    intr_link->intr_ack = intr_ack;
    port_bus_register(vm->m.io, 0x80, 1, "test", &ops, vm);
    intr_count = 0;
}

static void intr_source_detach(struct vm *vm)
{
    intr_link->intr_ack = NULL;
    port_bus_unregister(vm->m.io, 0x80);
}

#endif
