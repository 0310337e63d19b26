/* Snapshot files: the whole machine (every vCPU's state, every registered
 * state section, the virtual clock, A20 and guest RAM) in one file that any
 * backend can resume from. Loading is two steps: snapshot_read/decode parse
 * and validate EVERYTHING (length, checksum, configuration, each CPU state's
 * version and size, each section's name, version and size, RAM) without
 * touching the machine; only a snapshot that passed is applied, and
 * applying cannot fail.
 *
 * Layout (little-endian; the checksum is the last 8 bytes, over all before):
 *   header  "TANDEMVM", u32 format version, u32 header size (64),
 *           u64 file size, u64 RAM size, u32 vCPUs, u32 sections,
 *           i64 clock (ns), u8 A20, 15 reserved zero bytes
 *   vCPUs   per vCPU: u32 size, then the struct x86_state bytes
 *   sections per section: u8 name length, name, u32 version, u32 size, data
 *   RAM     a bitmap of the 4 KiB pages that are not all zero, then those
 *           pages in order
 *   u64 checksum */
#ifndef VM_SNAPSHOT_H
#define VM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

struct machine;
struct snapshot;

#define SNAPSHOT_MAGIC "TANDEMVM"
#define SNAPSHOT_FORMAT_VERSION 1
#define SNAPSHOT_HEADER_SIZE 64
#define SNAPSHOT_PAGE_SIZE 4096
#define SNAPSHOT_ERR_LEN 256

/* The snapshot of m as a malloc'd buffer. cpu[i] is vCPU i's state
 * (accel_cpu_state_size bytes, from get_state). 0 or -ENOMEM. */
int snapshot_encode(struct machine *m, void *const *cpu, uint8_t **buf,
                    size_t *len);
/* Encode and write to path (through a temporary file renamed into place).
 * 0 or -errno with the reason in err. */
int snapshot_save(struct machine *m, void *const *cpu, const char *path,
                  char err[SNAPSHOT_ERR_LEN]);

/* Validate buf (len bytes, malloc'd; the snapshot takes it over, also on
 * failure) against machine m. 0 and *out, or -EINVAL with one line in err;
 * nothing of m changes either way. */
int snapshot_decode(struct snapshot **out, struct machine *m, uint8_t *buf,
                    size_t len, char err[SNAPSHOT_ERR_LEN]);
/* Read path and decode it. 0 or -errno with the reason in err. */
int snapshot_read(struct snapshot **out, struct machine *m, const char *path,
                  char err[SNAPSHOT_ERR_LEN]);
/* vCPU i's state in a validated snapshot (for the backend's set_state) */
const void *snapshot_cpu(const struct snapshot *s, int i);
/* Put the clock, A20, RAM and every section back, then run the post_load
 * callbacks. The vCPUs are the caller's: set_state with snapshot_cpu()
 * afterwards (the clock is then current, so the TSC comes out right). */
void snapshot_apply(const struct snapshot *s, struct machine *m);
void snapshot_free(struct snapshot *s);

/* The checksum the format uses over len bytes (for tests) */
uint64_t snapshot_checksum(const uint8_t *buf, size_t len);

#endif
