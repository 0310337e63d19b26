/* ACPI tables for the PC board: RSDP, RSDT, XSDT, FADT (PM timer, PM1
 * blocks, S5, the 0xCF9 reset register), FACS, MADT (local APICs, IOAPIC,
 * ISA overrides, LINT1 NMI) and a DSDT holding \_S5. Built once with
 * table-relative pointers, then either placed at fixed guest addresses (direct
 * kernel boot) or handed to SeaBIOS as fw_cfg files with QEMU's table-loader
 * script, which patches the pointers itself. */
#ifndef FIRMWARE_ACPI_TABLES_H
#define FIRMWARE_ACPI_TABLES_H

#include <stddef.h>
#include <stdint.h>

struct acpi_config {
    int ncpus;
    uint32_t lapic_addr, ioapic_addr;
    uint8_t ioapic_id;
    uint16_t pm_base;      /* PM1a_EVT at +0, PM1a_CNT at +4, PM_TMR at +8 */
    uint16_t gpe0_base;    /* 4 bytes */
    uint8_t sci_irq;
    uint16_t smi_cmd;      /* APM control port (0xB2) */
    uint8_t acpi_enable, acpi_disable;
};

#define ACPI_RSDP_SIZE 36
#define ACPI_MAX_FIXUPS 32

/* A pointer field holding an offset into the tables blob */
struct acpi_fixup {
    uint32_t offset;  /* of the field, in its blob */
    uint8_t size;     /* 4 or 8 bytes */
    uint8_t in_rsdp;  /* the field is in the RSDP, else in the tables */
};

/* A checksum byte over [start, start+len) of one blob */
struct acpi_checksum {
    uint32_t offset, start, len;
    uint8_t in_rsdp;
};

struct acpi_blob {
    uint8_t *tables;
    size_t len;
    uint8_t rsdp[ACPI_RSDP_SIZE];
    struct acpi_fixup fixup[ACPI_MAX_FIXUPS];
    int nfixups;
    struct acpi_checksum cksum[ACPI_MAX_FIXUPS];
    int nchecksums;
};

/* 0 or -ENOMEM */
int acpi_build(struct acpi_blob *blob, const struct acpi_config *cfg);
void acpi_blob_free(struct acpi_blob *blob);
/* Patch the pointers for tables at tables_gpa and fix every checksum */
void acpi_place(struct acpi_blob *blob, uint64_t tables_gpa);
/* QEMU's "etc/table-loader" commands for files "etc/acpi/rsdp" and
 * "etc/acpi/tables" (unpatched blob). Returns a malloc'd script. */
uint8_t *acpi_loader_script(const struct acpi_blob *blob, size_t *len);

#endif
