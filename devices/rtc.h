/* MC146818 real-time clock and CMOS RAM at ports 0x70 (index, bit 7 masks
 * NMI) and 0x71 (data), interrupting on IRQ8. The time of day runs on the
 * virtual clock from a start time (the host's clock or a fixed value), and
 * every read computes the registers from the clock, so they are always
 * coherent. The board fills the BIOS fields of the CMOS RAM (memory sizes,
 * drives, boot order, checksum) with rtc_cmos_fill. */
#ifndef DEVICES_RTC_H
#define DEVICES_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include "vm/clock.h"
#include "vm/irq.h"
#include "vm/port_bus.h"

#define RTC_CMOS_SIZE 128

/* Everything the guest can change; plain data for snapshots */
struct rtc_state {
    uint8_t cmos[RTC_CMOS_SIZE]; /* registers A-D and RAM; the time bytes
                                    are authoritative only while frozen */
    uint8_t index;
    bool nmi_masked;          /* bit 7 of the last index write */
    bool frozen;              /* time held in cmos[] (SET, divider stopped) */
    int64_t time_sec;         /* running: seconds since the epoch... */
    int64_t time_ns;          /* ...at this vclock time, a second boundary
                                 of the divider chain */
    int64_t checked_ns;       /* interrupt flags are up to date until here */
    uint8_t wday_offset;      /* day-of-week register minus the real one */
    bool irq_level;
};

struct rtc {
    struct rtc_state s;
    struct vclock *clock;
    struct vtimer timer;
    struct irq_line irq;
};

/* Claim ports 0x70-0x71. start_time is the time of day at vclock time now,
 * in seconds since the epoch (UTC); negative: the host's current time.
 * Returns 0 or -errno. */
int rtc_init(struct rtc *r, struct port_bus *bus, struct vclock *clock,
             struct irq_line irq, int64_t start_time);
/* The chip's RESET pin: interrupt enables and flags cleared; time, rate and
 * RAM kept. */
void rtc_reset(struct rtc *r);
/* After r->s was restored from a snapshot: drive IRQ 8 from the state and
 * re-arm the timer */
void rtc_post_load(struct rtc *r);
/* NMI disabled through bit 7 of the index port */
bool rtc_nmi_masked(const struct rtc *r);

/* Floppy drive types of CMOS 0x10 */
enum rtc_floppy_type {
    RTC_FLOPPY_NONE = 0, RTC_FLOPPY_360K = 1, RTC_FLOPPY_1_2M = 2,
    RTC_FLOPPY_720K = 3, RTC_FLOPPY_1_44M = 4, RTC_FLOPPY_2_88M = 5,
};

struct rtc_disk_geometry {
    uint32_t cylinders; /* 0: no hard disk at this position */
    uint8_t heads, sectors;
};

struct rtc_cmos_config {
    uint64_t ram_below_4g, ram_above_4g; /* bytes */
    int ncpus;
    enum rtc_floppy_type floppy[2];
    /* IDE hard disks: primary master, primary slave, secondary master,
     * secondary slave (CD-ROMs are not listed here) */
    struct rtc_disk_geometry disk[4];
    const char *boot_order; /* QEMU's -boot letters: a floppy, c disk,
                               d CD-ROM, n network; NULL means "cad" */
    bool floppy_sig_check;  /* the BIOS checks the floppy boot signature */
    bool ps2_mouse;
};

/* Write the standard PC and SeaBIOS fields and the checksum at 0x2E/0x2F.
 * Returns 0, or -EINVAL after an error_report line for a bad boot order. */
int rtc_cmos_fill(struct rtc *r, const struct rtc_cmos_config *cfg);

#endif
