/* The Intel MultiProcessor Specification 1.4 tables: the floating pointer
 * structure and the configuration table (processors, buses, the IOAPIC, ISA
 * interrupt assignments, LINT0 ExtINT / LINT1 NMI), for guests that look for
 * "_MP_" instead of ACPI. */
#ifndef FIRMWARE_MPTABLE_H
#define FIRMWARE_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

struct mptable_config {
    int ncpus;
    uint32_t lapic_addr, ioapic_addr;
    uint8_t ioapic_id;
    uint32_t cpu_signature, cpu_features; /* CPUID 1 EAX and EDX */
};

/* Build the floating pointer followed by the configuration table into buf
 * for placement at gpa (16-byte aligned). Returns the size or -ENOSPC. */
long mptable_build(uint8_t *buf, size_t cap, uint64_t gpa,
                   const struct mptable_config *cfg);

#endif
