/* ACPI table builder (see acpi_tables.h). Table layouts follow the ACPI
 * specification, revision 3.0 for the FADT. */
#include "firmware/acpi_tables.h"

#include "firmware/le_bytes.h"
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define HDR 36

struct builder {
    struct acpi_blob *blob;
    size_t cap;
};


/* Reserve len zeroed bytes aligned to align; returns the offset or -1 */
static long reserve(struct builder *b, size_t len, size_t align)
{
    struct acpi_blob *blob = b->blob;
    size_t off = (blob->len + align - 1) & ~(align - 1);
    if (off + len > b->cap) {
        size_t cap = (off + len) * 2;
        uint8_t *n = realloc(blob->tables, cap);
        if (!n)
            return -1;
        memset(n + b->cap, 0, cap - b->cap);
        blob->tables = n;
        b->cap = cap;
    }
    blob->len = off + len;
    return (long)off;
}

static void add_fixup(struct acpi_blob *blob, uint32_t offset, uint8_t size,
                      bool in_rsdp)
{
    if (blob->nfixups < ACPI_MAX_FIXUPS)
        blob->fixup[blob->nfixups++] = (struct acpi_fixup){offset, size, in_rsdp};
}

static void add_checksum(struct acpi_blob *blob, uint32_t offset,
                         uint32_t start, uint32_t len, bool in_rsdp)
{
    if (blob->nchecksums < ACPI_MAX_FIXUPS)
        blob->cksum[blob->nchecksums++] =
            (struct acpi_checksum){offset, start, len, in_rsdp};
}

static void header(struct builder *b, long off, const char *sig, uint32_t len,
                   uint8_t rev)
{
    uint8_t *h = b->blob->tables + off;
    memcpy(h, sig, 4);
    le32_put(h + 4, len);
    h[8] = rev;
    memcpy(h + 10, "TANDEM", 6);
    memcpy(h + 16, "TANDEMPC", 8);
    le32_put(h + 24, 1);
    memcpy(h + 28, "TNDM", 4);
    le32_put(h + 32, 1);
    add_checksum(b->blob, (uint32_t)off + 9, (uint32_t)off, len, false);
}

/* A generic address structure for an I/O port block */
static void gas_io(uint8_t *p, uint16_t port, uint8_t bits)
{
    p[0] = 1; /* system I/O */
    p[1] = bits;
    p[2] = 0;
    p[3] = bits <= 8 ? 1 : bits <= 16 ? 2 : 3; /* access size */
    le64_put(p + 4, port);
}

/* Name (_S5, Package (4) {0, 0, 0, 0}): SLP_TYP 0 is soft-off on PIIX4 */
static const uint8_t dsdt_aml[] = {
    0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
};

static long build_dsdt(struct builder *b)
{
    uint32_t len = HDR + sizeof(dsdt_aml);
    long off = reserve(b, len, 16);
    if (off < 0)
        return -1;
    header(b, off, "DSDT", len, 2);
    memcpy(b->blob->tables + off + HDR, dsdt_aml, sizeof(dsdt_aml));
    return off;
}

static long build_facs(struct builder *b)
{
    long off = reserve(b, 64, 64);
    if (off < 0)
        return -1;
    uint8_t *t = b->blob->tables + off;
    memcpy(t, "FACS", 4);
    le32_put(t + 4, 64);
    t[32] = 1; /* version */
    return off;
}

static long build_fadt(struct builder *b, const struct acpi_config *c,
                       long facs, long dsdt)
{
    const uint32_t len = 244;
    long off = reserve(b, len, 16);
    if (off < 0)
        return -1;
    header(b, off, "FACP", len, 3);
    uint8_t *t = b->blob->tables + off;
    le32_put(t + 36, (uint32_t)facs);
    add_fixup(b->blob, (uint32_t)off + 36, 4, false);
    le32_put(t + 40, (uint32_t)dsdt);
    add_fixup(b->blob, (uint32_t)off + 40, 4, false);
    t[45] = 0; /* unspecified PM profile */
    le16_put(t + 46, c->sci_irq);
    le32_put(t + 48, c->smi_cmd);
    t[52] = c->acpi_enable;
    t[53] = c->acpi_disable;
    le32_put(t + 56, c->pm_base);        /* PM1a_EVT_BLK */
    le32_put(t + 64, c->pm_base + 4);    /* PM1a_CNT_BLK */
    le32_put(t + 76, c->pm_base + 8);    /* PM_TMR_BLK */
    le32_put(t + 80, c->gpe0_base);      /* GPE0_BLK */
    t[88] = 4;                        /* PM1_EVT_LEN */
    t[89] = 2;                        /* PM1_CNT_LEN */
    t[91] = 4;                        /* PM_TMR_LEN */
    t[92] = 4;                        /* GPE0_BLK_LEN */
    le16_put(t + 96, 0xfff);             /* no C2 */
    le16_put(t + 98, 0xfff);             /* no C3 */
    t[108] = 0x32;                    /* RTC century register */
    le16_put(t + 109, 0x3);              /* legacy devices, 8042 */
    le32_put(t + 112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 10));
    /* WBINVD, PROC_C1, SLP_BUTTON (no sleep button), RESET_REG_SUP */
    gas_io(t + 116, 0xcf9, 8);        /* RESET_REG */
    t[128] = 0x06;                    /* RESET_VALUE: full reset */
    /* X_FIRMWARE_CTRL stays 0: the spec allows only one FACS pointer */
    le64_put(t + 140, (uint64_t)dsdt);   /* X_DSDT */
    add_fixup(b->blob, (uint32_t)off + 140, 8, false);
    gas_io(t + 148, c->pm_base, 32);      /* X_PM1a_EVT_BLK */
    gas_io(t + 172, c->pm_base + 4, 16);  /* X_PM1a_CNT_BLK */
    gas_io(t + 208, c->pm_base + 8, 32);  /* X_PM_TMR_BLK */
    gas_io(t + 220, c->gpe0_base, 32);    /* X_GPE0_BLK */
    return off;
}

/* ISA IRQ -> GSI overrides as on QEMU's PC: the timer on pin 2, the SCI and
 * the PCI interrupt lines level-triggered, active high */
static const struct { uint8_t irq, gsi; uint16_t flags; } madt_overrides[] = {
    {0, 2, 0x0000},
    {5, 5, 0x000d},
    {9, 9, 0x000d},
    {10, 10, 0x000d},
    {11, 11, 0x000d},
};
#define N_OVERRIDES (sizeof(madt_overrides) / sizeof(madt_overrides[0]))

static long build_madt(struct builder *b, const struct acpi_config *c)
{
    uint32_t len = HDR + 8 + 8 * c->ncpus + 12 + 10 * N_OVERRIDES + 6;
    long off = reserve(b, len, 16);
    if (off < 0)
        return -1;
    header(b, off, "APIC", len, 1);
    uint8_t *t = b->blob->tables + off;
    le32_put(t + 36, c->lapic_addr);
    le32_put(t + 40, 1); /* PCAT_COMPAT: dual 8259s present */
    uint8_t *p = t + 44;
    for (int i = 0; i < c->ncpus; i++, p += 8) {
        p[0] = 0; p[1] = 8; p[2] = (uint8_t)i; p[3] = (uint8_t)i;
        le32_put(p + 4, 1); /* enabled */
    }
    p[0] = 1; p[1] = 12; p[2] = c->ioapic_id; p[3] = 0;
    le32_put(p + 4, c->ioapic_addr);
    le32_put(p + 8, 0);
    p += 12;
    for (size_t i = 0; i < N_OVERRIDES; i++, p += 10) {
        p[0] = 2; p[1] = 10; p[2] = 0; p[3] = madt_overrides[i].irq;
        le32_put(p + 4, madt_overrides[i].gsi);
        le16_put(p + 8, madt_overrides[i].flags);
    }
    p[0] = 4; p[1] = 6; p[2] = 0xff; /* all processors */
    le16_put(p + 3, 0);
    p[5] = 1; /* LINT1 */
    return off;
}

/* RSDT (4-byte) or XSDT (8-byte) pointing at the given tables */
static long build_sdt(struct builder *b, const char *sig, unsigned ptr_size,
                      const long *tables, int n)
{
    uint32_t len = HDR + ptr_size * n;
    long off = reserve(b, len, 16);
    if (off < 0)
        return -1;
    header(b, off, sig, len, 1);
    for (int i = 0; i < n; i++) {
        uint8_t *p = b->blob->tables + off + HDR + ptr_size * i;
        if (ptr_size == 4)
            le32_put(p, (uint32_t)tables[i]);
        else
            le64_put(p, (uint64_t)tables[i]);
        add_fixup(b->blob, (uint32_t)(off + HDR + ptr_size * i), ptr_size, false);
    }
    return off;
}

int acpi_build(struct acpi_blob *blob, const struct acpi_config *cfg)
{
    memset(blob, 0, sizeof(*blob));
    struct builder b = {blob, 0};
    long dsdt = build_dsdt(&b);
    long facs = build_facs(&b);
    long fadt = build_fadt(&b, cfg, facs, dsdt);
    long madt = build_madt(&b, cfg);
    long list[2] = {fadt, madt};
    long rsdt = build_sdt(&b, "RSDT", 4, list, 2);
    long xsdt = build_sdt(&b, "XSDT", 8, list, 2);
    if (dsdt < 0 || facs < 0 || fadt < 0 || madt < 0 || rsdt < 0 || xsdt < 0) {
        acpi_blob_free(blob);
        return -ENOMEM;
    }
    uint8_t *r = blob->rsdp;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "TANDEM", 6);
    r[15] = 2; /* ACPI 2.0+ */
    le32_put(r + 16, (uint32_t)rsdt);
    add_fixup(blob, 16, 4, true);
    le32_put(r + 20, ACPI_RSDP_SIZE);
    le64_put(r + 24, (uint64_t)xsdt);
    add_fixup(blob, 24, 8, true);
    add_checksum(blob, 8, 0, 20, true);
    add_checksum(blob, 32, 0, ACPI_RSDP_SIZE, true);
    return 0;
}

void acpi_blob_free(struct acpi_blob *blob)
{
    free(blob->tables);
    blob->tables = NULL;
    blob->len = 0;
}

void acpi_place(struct acpi_blob *blob, uint64_t tables_gpa)
{
    for (int i = 0; i < blob->nfixups; i++) {
        const struct acpi_fixup *f = &blob->fixup[i];
        uint8_t *p = (f->in_rsdp ? blob->rsdp : blob->tables) + f->offset;
        uint64_t v = (f->size == 4 ? le32_get(p) : le64_get(p)) + tables_gpa;
        if (f->size == 4)
            le32_put(p, (uint32_t)v);
        else
            le64_put(p, v);
    }
    /* in the order recorded: each table, then the RSDP's 20-byte checksum
     * before the extended one that covers it */
    for (int i = 0; i < blob->nchecksums; i++) {
        const struct acpi_checksum *c = &blob->cksum[i];
        uint8_t *base = c->in_rsdp ? blob->rsdp : blob->tables;
        uint8_t sum = 0;
        base[c->offset] = 0;
        for (uint32_t k = 0; k < c->len; k++)
            sum += base[c->start + k];
        base[c->offset] = (uint8_t)-sum;
    }
}

/* bios-linker-loader commands: 128-byte entries */
enum { LOADER_ALLOCATE = 1, LOADER_ADD_POINTER = 2, LOADER_ADD_CHECKSUM = 3 };
#define LOADER_ENTRY 128
#define LOADER_FILE 56
#define ZONE_HIGH 1
#define ZONE_FSEG 2
static const char rsdp_file[] = "etc/acpi/rsdp";
static const char tables_file[] = "etc/acpi/tables";

uint8_t *acpi_loader_script(const struct acpi_blob *blob, size_t *len)
{
    int n = 2 + blob->nfixups + blob->nchecksums;
    uint8_t *s = calloc(n, LOADER_ENTRY);
    if (!s)
        return NULL;
    uint8_t *e = s;
    le32_put(e, LOADER_ALLOCATE);
    strcpy((char *)e + 4, rsdp_file);
    le32_put(e + 4 + LOADER_FILE, 16);
    e[8 + LOADER_FILE] = ZONE_FSEG;
    e += LOADER_ENTRY;
    le32_put(e, LOADER_ALLOCATE);
    strcpy((char *)e + 4, tables_file);
    le32_put(e + 4 + LOADER_FILE, 64);
    e[8 + LOADER_FILE] = ZONE_HIGH;
    e += LOADER_ENTRY;
    for (int i = 0; i < blob->nfixups; i++, e += LOADER_ENTRY) {
        const struct acpi_fixup *f = &blob->fixup[i];
        le32_put(e, LOADER_ADD_POINTER);
        strcpy((char *)e + 4, f->in_rsdp ? rsdp_file : tables_file);
        strcpy((char *)e + 4 + LOADER_FILE, tables_file);
        le32_put(e + 4 + 2 * LOADER_FILE, f->offset);
        e[8 + 2 * LOADER_FILE] = f->size;
    }
    for (int i = 0; i < blob->nchecksums; i++, e += LOADER_ENTRY) {
        const struct acpi_checksum *c = &blob->cksum[i];
        le32_put(e, LOADER_ADD_CHECKSUM);
        strcpy((char *)e + 4, c->in_rsdp ? rsdp_file : tables_file);
        le32_put(e + 4 + LOADER_FILE, c->offset);
        le32_put(e + 8 + LOADER_FILE, c->start);
        le32_put(e + 12 + LOADER_FILE, c->len);
    }
    *len = (size_t)n * LOADER_ENTRY;
    return s;
}
