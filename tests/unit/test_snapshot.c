/* Unit tests of the state-section registry (vm/vmstate.c) and the snapshot
 * format (vm/snapshot.c) on a small machine with fake sections: a round
 * trip restores RAM, clock, A20, sections and vCPU states and runs every
 * post_load after all data is back; zero pages take no room; and every kind
 * of damage (truncation at any offset, flipped bytes, padding, wrong format,
 * state or section versions and sizes, unknown and missing sections, another
 * RAM size or vCPU count) is refused with a message and changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cpu/x86_state.h"
#include "vm/accel.h"
#include "vm/machine.h"
#include "vm/snapshot.h"
#include "vm/vmstate.h"

#define RAM (256u << 10)

struct dev_a {
    uint32_t regs[8];
    int64_t when;
};
struct dev_b {
    uint8_t bytes[100];
};

struct rig {
    struct machine m;
    struct dev_a a;
    struct dev_b b;
    void *cpu[2];
    int post_a, post_b;
    int order;              /* post_load call order */
    int a_at, b_at;
    uint8_t b_seen_by_a;    /* b's data when a's post_load ran */
};

static void post_a(void *opaque)
{
    struct rig *r = opaque;
    r->post_a++;
    r->a_at = ++r->order;
    r->b_seen_by_a = r->b.bytes[7];
}

static void post_b(void *opaque)
{
    struct rig *r = opaque;
    r->post_b++;
    r->b_at = ++r->order;
}

static struct rig *rig_new(uint64_t ram, int ncpus, bool extra_section)
{
    struct rig *r = calloc(1, sizeof(*r));
    struct machine_config cfg = {.ram_size = ram, .ncpus = ncpus,
                                 .clock_mode = VCLOCK_MANUAL};
    assert_int_equal(machine_init(&r->m, &cfg), 0);
    assert_int_equal(vmstate_register(r->m.vmstate, "dev.a", 3, &r->a,
                                      sizeof(r->a), post_a, r), 0);
    assert_int_equal(vmstate_register(r->m.vmstate, "dev.b", 1, &r->b,
                                      sizeof(r->b), post_b, r), 0);
    if (extra_section)
        assert_int_equal(vmstate_register(r->m.vmstate, "dev.c", 1, &r->a,
                                          4, NULL, NULL), 0);
    for (int i = 0; i < ncpus; i++) {
        r->cpu[i] = aligned_alloc(64, (accel_cpu_state_size + 63) & ~63u);
        x86_state_reset(r->cpu[i]);
    }
    return r;
}

static void rig_free(struct rig *r)
{
    for (int i = 0; i < 2; i++)
        free(r->cpu[i]);
    machine_destroy(&r->m);
    free(r);
}

/* Some guest-looking content */
static void rig_fill(struct rig *r)
{
    for (int i = 0; i < 8; i++)
        r->a.regs[i] = 0x1000u * (unsigned)i + 7;
    r->a.when = 123456789;
    for (int i = 0; i < 100; i++)
        r->b.bytes[i] = (uint8_t)(i * 3 + 1);
    memset(r->m.ram + 0x1000, 0xaa, 4096);
    strcpy((char *)r->m.ram + 0x7c00, "boot sector");
    r->m.ram[RAM - 1] = 0x55;
    vclock_set(r->m.clock, 5000000000LL);
    mem_map_set_a20(r->m.mem, false);
    struct x86_state *s = r->cpu[0];
    s->rip = 0xfff0;
    s->gpr[R_AX] = 0x1234;
    s->xsave[100] = 9;
    ((struct x86_state *)r->cpu[1])->gpr[R_SP] = 0x7000;
}

/* A copy of everything the snapshot covers, to compare with */
struct image {
    uint8_t *ram;
    struct dev_a a;
    struct dev_b b;
    int64_t now;
    bool a20;
};

static void image_take(struct image *im, struct rig *r)
{
    im->ram = malloc(RAM);
    memcpy(im->ram, r->m.ram, RAM);
    im->a = r->a;
    im->b = r->b;
    im->now = vclock_now(r->m.clock);
    im->a20 = mem_map_a20(r->m.mem);
}

static void image_check(struct image *im, struct rig *r)
{
    assert_memory_equal(im->ram, r->m.ram, RAM);
    assert_memory_equal(&im->a, &r->a, sizeof(r->a));
    assert_memory_equal(&im->b, &r->b, sizeof(r->b));
    assert_int_equal(im->now, vclock_now(r->m.clock));
    assert_int_equal(im->a20, mem_map_a20(r->m.mem));
}

/* Scribble over everything so that a restore has work to do */
static void rig_scribble(struct rig *r)
{
    memset(r->m.ram, 0x11, RAM);
    memset(&r->a, 0xee, sizeof(r->a));
    memset(&r->b, 0xdd, sizeof(r->b));
    vclock_set(r->m.clock, 42);
    mem_map_set_a20(r->m.mem, true);
}

static uint8_t *dup_buf(const uint8_t *buf, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    memcpy(p, buf, len);
    return p;
}

/* Decode a copy of buf: must fail with a message containing want, leaving
 * the machine as im says */
static void expect_refused(struct rig *r, const uint8_t *buf, size_t len,
                           const char *want, struct image *im)
{
    struct snapshot *s = (struct snapshot *)1;
    char err[SNAPSHOT_ERR_LEN] = "";
    int rc = snapshot_decode(&s, &r->m, dup_buf(buf, len), len, err);
    if (rc == 0)
        fail_msg("accepted a damaged snapshot (len %zu, want '%s')", len, want);
    assert_null(s);
    assert_true(err[0] != 0);
    if (want && !strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
    image_check(im, r);
}

/* Rewrite the checksum after editing the body */
static void reseal(uint8_t *buf, size_t len)
{
    uint64_t h = snapshot_checksum(buf, len - 8);
    memcpy(buf + len - 8, &h, 8);
}

static void test_registry(void **state)
{
    (void)state;
    struct vmstate *vs = vmstate_new();
    int x, y;
    assert_int_equal(vmstate_register(vs, "x", 1, &x, sizeof(x), NULL, NULL), 0);
    assert_int_equal(vmstate_register(vs, "x", 1, &y, sizeof(y), NULL, NULL),
                     -17 /* EEXIST */);
    assert_int_equal(vmstate_register(vs, "", 1, &y, sizeof(y), NULL, NULL),
                     -22 /* EINVAL */);
    assert_int_equal(vmstate_register(vs, "y", 1, &y, 0, NULL, NULL), -22);
    assert_int_equal(vmstate_register(vs, "a-name-that-is-far-too-long-xxxxx",
                                      1, &y, sizeof(y), NULL, NULL), -22);
    for (int i = 0; i < 100; i++) { /* grows */
        char name[16];
        snprintf(name, sizeof(name), "s%d", i);
        assert_int_equal(vmstate_register(vs, name, 2, &y, sizeof(y), NULL,
                                          NULL), 0);
    }
    assert_int_equal(vmstate_count(vs), 101);
    assert_ptr_equal(vmstate_find(vs, "s57")->data, &y);
    assert_int_equal(vmstate_find(vs, "s57")->version, 2);
    assert_null(vmstate_find(vs, "s100"));
    assert_string_equal(vmstate_at(vs, 0)->name, "x");
    vmstate_free(vs);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct rig *r = rig_new(RAM, 2, false);
    rig_fill(r);
    struct image im;
    image_take(&im, r);
    uint8_t *buf;
    size_t len;
    assert_int_equal(snapshot_encode(&r->m, r->cpu, &buf, &len), 0);
    /* zero pages are left out: 3 non-zero pages of 512 */
    assert_true(len < 4 * 4096 + 2 * accel_cpu_state_size + 1024);

    rig_scribble(r);
    struct snapshot *s;
    char err[SNAPSHOT_ERR_LEN] = "";
    assert_int_equal(snapshot_decode(&s, &r->m, buf, len, err), 0);
    assert_int_equal(r->post_a + r->post_b, 0); /* decoding changes nothing */
    snapshot_apply(s, &r->m);
    image_check(&im, r);
    assert_int_equal(r->post_a, 1);
    assert_int_equal(r->post_b, 1);
    assert_true(r->a_at < r->b_at);           /* registration order */
    assert_int_equal(r->b_seen_by_a, 7 * 3 + 1); /* after all data */
    assert_memory_equal(snapshot_cpu(s, 0), r->cpu[0], accel_cpu_state_size);
    assert_memory_equal(snapshot_cpu(s, 1), r->cpu[1], accel_cpu_state_size);
    assert_int_equal((uintptr_t)snapshot_cpu(s, 1) % 64, 0);
    assert_null(snapshot_cpu(s, 2));
    const struct x86_state *c0 = snapshot_cpu(s, 0);
    assert_int_equal(c0->rip, 0xfff0);
    assert_int_equal(c0->gpr[R_AX], 0x1234);
    snapshot_free(s);
    free(im.ram);
    rig_free(r);
}

static void test_file_round_trip(void **state)
{
    (void)state;
    struct rig *r = rig_new(RAM, 2, false);
    rig_fill(r);
    struct image im;
    image_take(&im, r);
    char path[] = "/tmp/tandem-snap-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[SNAPSHOT_ERR_LEN] = "";
    assert_int_equal(snapshot_save(&r->m, r->cpu, path, err), 0);
    rig_scribble(r);
    struct snapshot *s;
    assert_int_equal(snapshot_read(&s, &r->m, path, err), 0);
    snapshot_apply(s, &r->m);
    snapshot_free(s);
    image_check(&im, r);
    unlink(path);
    /* a missing file and a directory that cannot be written */
    assert_true(snapshot_read(&s, &r->m, path, err) < 0);
    assert_non_null(strstr(err, path));
    assert_true(snapshot_save(&r->m, r->cpu, "/nonexistent-dir/x", err) < 0);
    assert_non_null(strstr(err, "/nonexistent-dir/x"));
    free(im.ram);
    rig_free(r);
}

static void test_truncated_and_flipped(void **state)
{
    (void)state;
    struct rig *r = rig_new(RAM, 2, false);
    rig_fill(r);
    uint8_t *buf;
    size_t len;
    assert_int_equal(snapshot_encode(&r->m, r->cpu, &buf, &len), 0);
    rig_scribble(r); /* a different machine state that must survive */
    struct image im;
    image_take(&im, r);
    /* every length up to the RAM part, then a stride, and len - 1 */
    for (size_t cut = 0; cut < len; cut += cut < 700 ? 1 : 13)
        expect_refused(r, buf, cut, NULL, &im);
    expect_refused(r, buf, len - 1, NULL, &im);
    /* one flipped byte anywhere: the checksum catches it */
    uint8_t *copy = dup_buf(buf, len);
    for (size_t off = 0; off < len; off += off < 700 ? 1 : 11) {
        copy[off] ^= 0x20;
        expect_refused(r, copy, len, NULL, &im);
        copy[off] ^= 0x20;
    }
    copy[len / 2] ^= 1;
    expect_refused(r, copy, len, "checksum", &im);
    copy[len / 2] ^= 1;
    /* padding */
    uint8_t *longer = malloc(len + 16);
    memcpy(longer, buf, len);
    memset(longer + len, 0, 16);
    expect_refused(r, longer, len + 16, "damaged", &im);
    free(longer);
    memcpy(copy, "NOTASNAP", 8);
    expect_refused(r, copy, len, "not a tandem snapshot", &im);
    free(copy);
    free(buf);
    free(im.ram);
    rig_free(r);
}

/* Offsets of the first section record's fields */
static size_t first_section(void)
{
    return SNAPSHOT_HEADER_SIZE + 2 * (4 + accel_cpu_state_size);
}

static void test_wrong_versions(void **state)
{
    (void)state;
    struct rig *r = rig_new(RAM, 2, false);
    rig_fill(r);
    uint8_t *buf;
    size_t len;
    assert_int_equal(snapshot_encode(&r->m, r->cpu, &buf, &len), 0);
    rig_scribble(r);
    struct image im;
    image_take(&im, r);
    uint8_t *c = dup_buf(buf, len);
    struct { size_t off; uint32_t value; const char *want; } cases[] = {
        {8, 2, "format version 2"},
        {12, 72, "header size"},
        {SNAPSHOT_HEADER_SIZE, accel_cpu_state_size + 8, "vCPU 0"},
        {SNAPSHOT_HEADER_SIZE + 4, X86_STATE_VERSION + 1, "vCPU 0: state version"},
        {SNAPSHOT_HEADER_SIZE + 8, 12, "vCPU 0: state of"},
        {SNAPSHOT_HEADER_SIZE + 4 + accel_cpu_state_size + 4, 0, "vCPU 1"},
        {first_section() + 1 + 5, 4, "'dev.a' has version 4"},
        {first_section() + 1 + 5 + 4, 8, "'dev.a' has 8 bytes"},
        {36, 3, "section 2"},
        {36, 1, "'dev.b' is missing"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(c, buf, len);
        uint8_t v[4] = {(uint8_t)cases[i].value, (uint8_t)(cases[i].value >> 8),
                        (uint8_t)(cases[i].value >> 16),
                        (uint8_t)(cases[i].value >> 24)};
        memcpy(c + cases[i].off, v, 4);
        reseal(c, len);
        expect_refused(r, c, len, cases[i].want, &im);
    }
    /* an unknown section name, a duplicate, reserved bits, A20 */
    memcpy(c, buf, len);
    c[first_section() + 1 + 4] = 'x'; /* dev.a -> dev.x */
    reseal(c, len);
    expect_refused(r, c, len, "unknown section 'dev.x'", &im);
    memcpy(c, buf, len);
    c[first_section() + 1 + 4] = 'b'; /* dev.a -> dev.b: the size differs */
    reseal(c, len);
    expect_refused(r, c, len, "'dev.b' has version 3", &im);
    memcpy(c, buf, len);
    c[60] = 1;
    reseal(c, len);
    expect_refused(r, c, len, "reserved", &im);
    memcpy(c, buf, len);
    c[48] = 2;
    reseal(c, len);
    expect_refused(r, c, len, "A20", &im);
    /* a RAM page map bit past the end of RAM is refused too */
    memcpy(c, buf, len);
    c[first_section() + 1 + 5 + 8 + sizeof(struct dev_a) + 1 + 5 + 8 +
      sizeof(struct dev_b)] ^= 0x04; /* page 2: mark it present */
    reseal(c, len);
    expect_refused(r, c, len, "RAM", &im);
    free(c);
    free(buf);
    free(im.ram);
    rig_free(r);
}

static void test_config_mismatch(void **state)
{
    (void)state;
    struct rig *r = rig_new(RAM, 2, false);
    rig_fill(r);
    uint8_t *buf;
    size_t len;
    assert_int_equal(snapshot_encode(&r->m, r->cpu, &buf, &len), 0);

    struct rig *more_ram = rig_new(2 * RAM, 2, false);
    struct image im;
    image_take(&im, more_ram);
    struct snapshot *s;
    char err[SNAPSHOT_ERR_LEN];
    assert_int_equal(snapshot_decode(&s, &more_ram->m, dup_buf(buf, len), len,
                                     err), -22);
    assert_non_null(strstr(err, "-m"));
    free(im.ram);
    rig_free(more_ram);

    struct rig *one_cpu = rig_new(RAM, 1, false);
    assert_int_equal(snapshot_decode(&s, &one_cpu->m, dup_buf(buf, len), len,
                                     err), -22);
    assert_non_null(strstr(err, "-smp"));
    rig_free(one_cpu);

    /* a machine with a section this snapshot lacks, and the other way */
    struct rig *extra = rig_new(RAM, 2, true);
    image_take(&im, extra);
    expect_refused(extra, buf, len, "'dev.c' is missing", &im);
    uint8_t *buf2;
    size_t len2;
    assert_int_equal(snapshot_encode(&extra->m, extra->cpu, &buf2, &len2), 0);
    free(im.ram);
    image_take(&im, r);
    expect_refused(r, buf2, len2, "unknown section 'dev.c'", &im);
    free(buf2);
    free(im.ram);
    rig_free(extra);
    free(buf);
    rig_free(r);
}

static void test_checksum(void **state)
{
    (void)state;
    uint8_t b[100] = {0};
    uint64_t h0 = snapshot_checksum(b, 100);
    assert_int_not_equal(h0, snapshot_checksum(b, 99));
    /* two identical flips in the same word lane do not cancel */
    b[0] ^= 0x80;
    b[32] ^= 0x80;
    assert_int_not_equal(h0, snapshot_checksum(b, 100));
    b[0] = b[32] = 0;
    b[7] = 0x80;
    b[39] = 0x80;
    assert_int_not_equal(h0, snapshot_checksum(b, 100));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_truncated_and_flipped),
        cmocka_unit_test(test_wrong_versions),
        cmocka_unit_test(test_config_mismatch),
        cmocka_unit_test(test_checksum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
