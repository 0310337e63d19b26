/* MC146818 RTC after the Motorola datasheet. While the clock counts, the
 * time is kept as seconds since the epoch at a second boundary of the
 * divider chain, and the registers are formatted (BCD or binary, 12 or 24
 * hours) when read. While SET is on or the divider is held in reset the time
 * bytes live in CMOS as written, like the chip's own registers. Interrupt
 * flags are brought up to date lazily on each access; a timer runs only when
 * an enabled interrupt has to reach the IRQ line. */
#include "devices/rtc.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include "devices/byte_io.h"
#include "vm/log.h"

enum {
    R_SEC = 0, R_SEC_ALARM = 1, R_MIN = 2, R_MIN_ALARM = 3, R_HOUR = 4,
    R_HOUR_ALARM = 5, R_WDAY = 6, R_MDAY = 7, R_MONTH = 8, R_YEAR = 9,
    R_A = 10, R_B = 11, R_C = 12, R_D = 13, R_CENTURY = 0x32,
};

#define A_UIP 0x80
#define A_DV 0x70
#define A_RS 0x0f
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define D_VRT 0x80

#define RTC_HZ 32768
#define RTC_UIP_TICKS 8 /* UIP rises 244 us (8 cycles) before the update */
#define DAY_SECS 86400

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* 32.768 kHz cycles of the divider chain in ns, rounding down, and the
 * first ns at which a cycle count is reached */
static int64_t ns_to_ticks(int64_t ns)
{
    int64_t sec = floor_div(ns, NS_PER_SEC);
    return sec * RTC_HZ + (ns - sec * NS_PER_SEC) * RTC_HZ / NS_PER_SEC;
}

static int64_t ticks_to_ns(int64_t ticks)
{
    int64_t sec = floor_div(ticks, RTC_HZ);
    int64_t rem = ticks - sec * RTC_HZ;
    return sec * NS_PER_SEC + (rem * NS_PER_SEC + RTC_HZ - 1) / RTC_HZ;
}

/* Days since 1970-01-01 of a proleptic Gregorian date and back (the
 * era-based civil calendar algorithms); out-of-range days just carry. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y += floor_div(m - 1, 12);
    m -= 12 * floor_div(m - 1, 12);
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct rtc_time {
    int64_t year;
    int sec, min, hour, mday, mon, wday; /* wday 1-7, Sunday = 1 */
};

static void civil_from_days(int64_t z, struct rtc_time *t)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    t->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    t->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    t->year = yoe + era * 400 + (t->mon <= 2);
}

static void rtc_time_from_epoch(int64_t secs, uint8_t wday_offset,
                                struct rtc_time *t)
{
    int64_t days = floor_div(secs, DAY_SECS);
    int64_t sod = secs - days * DAY_SECS;
    civil_from_days(days, t);
    t->hour = (int)(sod / 3600);
    t->min = (int)(sod / 60 % 60);
    t->sec = (int)(sod % 60);
    t->wday = (int)((days + 4 + wday_offset) % 7 + 7) % 7 + 1;
}

static int64_t rtc_time_to_epoch(const struct rtc_time *t)
{
    return days_from_civil(t->year, t->mon, t->mday) * DAY_SECS +
           t->hour * 3600 + t->min * 60 + t->sec;
}

/* The weekday register counts on its own; keep its distance from the date */
static uint8_t rtc_wday_offset(const struct rtc_time *t)
{
    struct rtc_time real;
    rtc_time_from_epoch(rtc_time_to_epoch(t), 0, &real);
    return (uint8_t)(((t->wday - real.wday) % 7 + 7) % 7);
}

static uint8_t rtc_encode(uint8_t b, int v)
{
    if (b & B_DM_BINARY)
        return (uint8_t)v;
    return (uint8_t)(((v / 10 % 10) << 4) | (v % 10));
}

static int rtc_decode(uint8_t b, uint8_t v)
{
    return (b & B_DM_BINARY) ? v : (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t rtc_encode_hour(uint8_t b, int hour)
{
    if (b & B_24H)
        return rtc_encode(b, hour);
    int h12 = hour % 12 ? hour % 12 : 12;
    return rtc_encode(b, h12) | (hour >= 12 ? 0x80 : 0);
}

static int rtc_decode_hour(uint8_t b, uint8_t v)
{
    if (b & B_24H)
        return rtc_decode(b, v);
    int h = rtc_decode(b, v & 0x7f);
    return (h == 12 ? 0 : h) + ((v & 0x80) ? 12 : 0);
}

/* The time bytes as the chip shows them, in the format of register b */
static void rtc_format(const struct rtc_time *t, uint8_t b, uint8_t *cmos)
{
    cmos[R_SEC] = rtc_encode(b, t->sec);
    cmos[R_MIN] = rtc_encode(b, t->min);
    cmos[R_HOUR] = rtc_encode_hour(b, t->hour);
    cmos[R_WDAY] = rtc_encode(b, t->wday);
    cmos[R_MDAY] = rtc_encode(b, t->mday);
    cmos[R_MONTH] = rtc_encode(b, t->mon);
    cmos[R_YEAR] = rtc_encode(b, (int)(t->year % 100));
    cmos[R_CENTURY] = rtc_encode(b, (int)(t->year / 100 % 100));
}

static void rtc_parse(const uint8_t *cmos, uint8_t b, struct rtc_time *t)
{
    t->sec = rtc_decode(b, cmos[R_SEC]);
    t->min = rtc_decode(b, cmos[R_MIN]);
    t->hour = rtc_decode_hour(b, cmos[R_HOUR]);
    t->wday = rtc_decode(b, cmos[R_WDAY]);
    t->mday = rtc_decode(b, cmos[R_MDAY]);
    t->mon = rtc_decode(b, cmos[R_MONTH]);
    t->year = rtc_decode(b, cmos[R_CENTURY]) * 100 +
              rtc_decode(b, cmos[R_YEAR]);
}

static bool rtc_is_time_reg(uint8_t index)
{
    return index == R_SEC || index == R_MIN || index == R_HOUR ||
           (index >= R_WDAY && index <= R_YEAR) || index == R_CENTURY;
}

/* The divider chain runs for the 32.768 kHz time base settings (DV 0-2) */
static bool rtc_chain_running(const struct rtc_state *s)
{
    return (s->cmos[R_A] & A_DV) <= 0x20;
}

static bool rtc_counting(const struct rtc_state *s)
{
    return rtc_chain_running(s) && !(s->cmos[R_B] & B_SET);
}

static int64_t rtc_now_sec(const struct rtc_state *s, int64_t now)
{
    return s->time_sec + floor_div(now - s->time_ns, NS_PER_SEC);
}

/* Periodic interrupt period in divider cycles, 0 when off */
static int64_t rtc_period_ticks(const struct rtc_state *s)
{
    unsigned rs = s->cmos[R_A] & A_RS;
    if (rs == 0)
        return 0;
    if (rs <= 2) /* 1 and 2 repeat the rates of 8 and 9 */
        rs += 7;
    return 1LL << (rs - 1);
}

static bool rtc_alarm_match(const struct rtc_state *s, int64_t secs)
{
    uint8_t b = s->cmos[R_B];
    int64_t sod = secs - floor_div(secs, DAY_SECS) * DAY_SECS;
    uint8_t now[3] = {rtc_encode(b, (int)(sod % 60)),
                      rtc_encode(b, (int)(sod / 60 % 60)),
                      rtc_encode_hour(b, (int)(sod / 3600))};
    static const uint8_t alarm_reg[3] = {R_SEC_ALARM, R_MIN_ALARM,
                                         R_HOUR_ALARM};
    for (int i = 0; i < 3; i++) {
        uint8_t a = s->cmos[alarm_reg[i]];
        if ((a & 0xc0) != 0xc0 && a != now[i]) /* 0xC0-0xFF: don't care */
            return false;
    }
    return true;
}

static void rtc_update_irq(struct rtc *r)
{
    uint8_t *c = &r->s.cmos[R_C], b = r->s.cmos[R_B];
    bool irqf = (*c & b & (C_PF | C_AF | C_UF)) != 0; /* enables line up */
    *c = (uint8_t)((*c & ~C_IRQF) | (irqf ? C_IRQF : 0));
    if (irqf != r->s.irq_level) {
        r->s.irq_level = irqf;
        irq_set(&r->irq, irqf);
    }
}

/* Set the flags for every periodic edge and update cycle in
 * (checked_ns, now]. Alarms repeat daily, so a day of seconds is enough. */
static void rtc_catch_up(struct rtc *r, int64_t now)
{
    struct rtc_state *s = &r->s;
    if (now <= s->checked_ns)
        return;
    if (rtc_chain_running(s)) {
        int64_t p = rtc_period_ticks(s);
        if (p && floor_div(ns_to_ticks(now - s->time_ns), p) >
                     floor_div(ns_to_ticks(s->checked_ns - s->time_ns), p))
            s->cmos[R_C] |= C_PF;
    }
    if (rtc_counting(s)) {
        int64_t k0 = floor_div(s->checked_ns - s->time_ns, NS_PER_SEC) + 1;
        int64_t k1 = floor_div(now - s->time_ns, NS_PER_SEC);
        if (k1 >= k0) {
            s->cmos[R_C] |= C_UF;
            if (k1 - k0 > DAY_SECS)
                k0 = k1 - DAY_SECS;
            for (int64_t k = k0; k <= k1; k++) {
                if (rtc_alarm_match(s, s->time_sec + k)) {
                    s->cmos[R_C] |= C_AF;
                    break;
                }
            }
        }
    }
    s->checked_ns = now;
    rtc_update_irq(r);
}

/* Wake up for the next event that can raise the IRQ line */
static void rtc_arm(struct rtc *r, int64_t now)
{
    struct rtc_state *s = &r->s;
    uint8_t b = s->cmos[R_B];
    int64_t next = VCLOCK_NEVER;

    if (!s->irq_level && rtc_chain_running(s)) {
        int64_t p = rtc_period_ticks(s);
        if ((b & B_PIE) && p) {
            int64_t edge = (floor_div(ns_to_ticks(now - s->time_ns), p) + 1) * p;
            next = s->time_ns + ticks_to_ns(edge);
        }
        if (rtc_counting(s) && (b & (B_UIE | B_AIE))) {
            int64_t k = floor_div(now - s->time_ns, NS_PER_SEC) + 1;
            int64_t upd = s->time_ns + k * NS_PER_SEC;
            if (upd < next)
                next = upd;
        }
    }
    if (next == VCLOCK_NEVER)
        vtimer_del(&r->timer);
    else
        vtimer_mod(&r->timer, next);
}

static void rtc_timer_cb(void *opaque)
{
    struct rtc *r = opaque;
    int64_t now = vclock_now(r->clock);
    rtc_catch_up(r, now);
    rtc_arm(r, now);
}

/* Stop counting: the time bytes take the current time */
static void rtc_freeze(struct rtc *r, int64_t now)
{
    struct rtc_time t;
    if (r->s.frozen)
        return;
    rtc_time_from_epoch(rtc_now_sec(&r->s, now), r->s.wday_offset, &t);
    rtc_format(&t, r->s.cmos[R_B], r->s.cmos);
    r->s.frozen = true;
}

/* Count again from the time bytes, keeping the divider chain's phase */
static void rtc_thaw(struct rtc *r, int64_t now)
{
    struct rtc_state *s = &r->s;
    struct rtc_time t;
    rtc_parse(s->cmos, s->cmos[R_B], &t);
    s->time_sec = rtc_time_to_epoch(&t);
    s->wday_offset = rtc_wday_offset(&t);
    s->time_ns += floor_div(now - s->time_ns, NS_PER_SEC) * NS_PER_SEC;
    s->frozen = false;
}

static uint8_t rtc_read_a(const struct rtc_state *s, int64_t now)
{
    uint8_t a = s->cmos[R_A] & ~A_UIP;
    if (rtc_counting(s)) {
        int64_t into = now - s->time_ns -
                       floor_div(now - s->time_ns, NS_PER_SEC) * NS_PER_SEC;
        if (into >= ticks_to_ns(RTC_HZ - RTC_UIP_TICKS))
            a |= A_UIP;
    }
    return a;
}

static uint8_t rtc_read_reg(struct rtc *r, uint8_t index, int64_t now)
{
    struct rtc_state *s = &r->s;
    uint8_t v;
    if (rtc_is_time_reg(index) && !s->frozen) {
        uint8_t regs[RTC_CMOS_SIZE];
        struct rtc_time t;
        rtc_time_from_epoch(rtc_now_sec(s, now), s->wday_offset, &t);
        rtc_format(&t, s->cmos[R_B], regs);
        return regs[index];
    }
    switch (index) {
    case R_A:
        return rtc_read_a(s, now);
    case R_C: /* reading C acknowledges every flag */
        v = s->cmos[R_C];
        s->cmos[R_C] = 0;
        rtc_update_irq(r);
        return v;
    case R_D:
        return D_VRT;
    default:
        return s->cmos[index];
    }
}

/* Counting stops or restarts when SET or the divider bits change */
static void rtc_set_control(struct rtc *r, uint8_t index, uint8_t v,
                            int64_t now)
{
    struct rtc_state *s = &r->s;
    bool was_running = rtc_chain_running(s), was_counting = rtc_counting(s);
    uint8_t old_b = s->cmos[R_B];

    if (was_counting)
        rtc_freeze(r, now); /* in the old format; thawed below if needed */
    if (index == R_A) {
        s->cmos[R_A] = v & ~A_UIP;
    } else {
        if (v & B_SET)
            v &= ~B_UIE; /* SET clears UIE */
        s->cmos[R_B] = v;
        if ((old_b ^ v) & (B_DM_BINARY | B_24H)) {
            struct rtc_time t; /* the held bytes change format */
            rtc_parse(s->cmos, old_b, &t);
            rtc_format(&t, v, s->cmos);
        }
    }
    if (!was_running && rtc_chain_running(s))
        s->time_ns = now - NS_PER_SEC / 2; /* first update 500 ms later */
    if (rtc_counting(s))
        rtc_thaw(r, now);
}

static void rtc_write_reg(struct rtc *r, uint8_t index, uint8_t v, int64_t now)
{
    struct rtc_state *s = &r->s;
    if (rtc_is_time_reg(index)) {
        bool counting = !s->frozen;
        rtc_freeze(r, now);
        s->cmos[index] = v;
        if (counting)
            rtc_thaw(r, now);
        return;
    }
    switch (index) {
    case R_A:
    case R_B:
        rtc_set_control(r, index, v, now);
        break;
    case R_C:
    case R_D:
        log_msg_rl(LOG_GUEST_ERRORS, "rtc: write 0x%02x to read-only "
                   "register %c\n", v, 'A' + index - R_A);
        break;
    default:
        s->cmos[index] = v;
        break;
    }
}

static uint8_t rtc_read_byte(void *opaque, unsigned offset)
{
    struct rtc *r = opaque;
    int64_t now = vclock_now(r->clock);
    uint8_t v;
    if (offset == 0)
        return 0xff; /* the index register is write-only */
    rtc_catch_up(r, now);
    v = rtc_read_reg(r, r->s.index, now);
    rtc_arm(r, now);
    return v;
}

static void rtc_write_byte(void *opaque, unsigned offset, uint8_t value)
{
    struct rtc *r = opaque;
    int64_t now = vclock_now(r->clock);
    if (offset == 0) {
        r->s.index = value & 0x7f;
        r->s.nmi_masked = (value & 0x80) != 0;
        return;
    }
    rtc_catch_up(r, now);
    rtc_write_reg(r, r->s.index, value, now);
    rtc_update_irq(r);
    rtc_arm(r, now);
}

/* "out 0x70, ax" writes the index and the data in one go */
static uint64_t rtc_io_read(void *opaque, uint64_t offset, unsigned size)
{
    return byte_io_read(rtc_read_byte, opaque, offset, size, 2);
}

static void rtc_io_write(void *opaque, uint64_t offset, uint64_t value,
                         unsigned size)
{
    byte_io_write(rtc_write_byte, opaque, offset, value, size, 2);
}

static const struct io_ops rtc_ops = {
    .read = rtc_io_read,
    .write = rtc_io_write,
};

bool rtc_nmi_masked(const struct rtc *r)
{
    return r->s.nmi_masked;
}

void rtc_reset(struct rtc *r)
{
    int64_t now = vclock_now(r->clock);
    rtc_catch_up(r, now);
    r->s.cmos[R_B] &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    r->s.cmos[R_C] = 0;
    rtc_update_irq(r);
    rtc_arm(r, now);
}

void rtc_post_load(struct rtc *r)
{
    irq_set(&r->irq, r->s.irq_level);
    rtc_arm(r, vclock_now(r->clock));
}

int rtc_init(struct rtc *r, struct port_bus *bus, struct vclock *clock,
             struct irq_line irq, int64_t start_time)
{
    int err = port_bus_register(bus, 0x70, 2, "rtc", &rtc_ops, r);
    if (err)
        return err;
    r->clock = clock;
    r->irq = irq;
    vtimer_init(&r->timer, clock, rtc_timer_cb, r);
    memset(&r->s, 0, sizeof(r->s));
    r->s.cmos[R_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
    r->s.cmos[R_B] = B_24H;
    r->s.time_sec = start_time >= 0 ? start_time : (int64_t)time(NULL);
    r->s.time_ns = r->s.checked_ns = vclock_now(clock);
    return 0;
}

/* --- the BIOS fields of CMOS RAM --- */

static void cmos_put16(struct rtc *r, uint8_t index, uint64_t v)
{
    if (v > 0xffff)
        v = 0xffff;
    r->s.cmos[index] = (uint8_t)v;
    r->s.cmos[index + 1] = (uint8_t)(v >> 8);
}

static void cmos_fill_memory(struct rtc *r, const struct rtc_cmos_config *c)
{
    uint64_t below = c->ram_below_4g;
    uint64_t ext_kb = below > (1 << 20) ? (below >> 10) - 1024 : 0;
    cmos_put16(r, 0x15, 640);          /* base memory, KiB */
    cmos_put16(r, 0x17, ext_kb);       /* above 1 MiB, KiB */
    cmos_put16(r, 0x30, ext_kb);
    cmos_put16(r, 0x34, below > (16 << 20) ? (below - (16 << 20)) >> 16 : 0);
    uint64_t high = c->ram_above_4g >> 16; /* above 4 GiB, 64 KiB units */
    r->s.cmos[0x5b] = (uint8_t)high;
    r->s.cmos[0x5c] = (uint8_t)(high >> 8);
    r->s.cmos[0x5d] = (uint8_t)(high >> 16);
    r->s.cmos[0x5f] = (uint8_t)(c->ncpus > 0 ? c->ncpus - 1 : 0);
}

static void cmos_fill_drives(struct rtc *r, const struct rtc_cmos_config *c)
{
    int nfloppy = (c->floppy[0] != RTC_FLOPPY_NONE) +
                  (c->floppy[1] != RTC_FLOPPY_NONE);
    uint8_t equip = 0x02; /* math coprocessor; display bits 00: EGA/VGA */
    if (nfloppy)
        equip |= 0x01 | (uint8_t)((nfloppy - 1) << 6);
    if (c->ps2_mouse)
        equip |= 0x04;
    r->s.cmos[0x10] = (uint8_t)((c->floppy[0] & 0x0f) << 4 |
                                (c->floppy[1] & 0x0f));
    r->s.cmos[0x14] = equip;

    uint8_t types = 0, xlat = 0;
    for (int i = 0; i < 4; i++) {
        const struct rtc_disk_geometry *g = &c->disk[i];
        if (!g->cylinders)
            continue;
        bool plain = g->cylinders <= 1024 && g->heads <= 16 && g->sectors <= 63;
        xlat |= (uint8_t)((plain ? 0 : 1) << (2 * i)); /* none or LBA */
        if (i >= 2)
            continue;
        /* AT drive type 47, user defined, for the first two */
        uint8_t base = (uint8_t)(i == 0 ? 0x1b : 0x24);
        uint32_t cyl = g->cylinders > 0xffff ? 0xffff : g->cylinders;
        types |= (uint8_t)(0xf0 >> (4 * i));
        r->s.cmos[0x19 + i] = 47;
        cmos_put16(r, base, cyl);
        r->s.cmos[base + 2] = g->heads;
        cmos_put16(r, base + 3, 0xffff);  /* no write precompensation */
        r->s.cmos[base + 5] = (uint8_t)(0xc0 | (g->heads > 8 ? 0x08 : 0));
        cmos_put16(r, base + 6, cyl);     /* landing zone */
        r->s.cmos[base + 8] = g->sectors;
    }
    r->s.cmos[0x12] = types;
    r->s.cmos[0x39] = xlat;
}

static int cmos_fill_boot_order(struct rtc *r, const char *order, bool sig)
{
    uint8_t code[3] = {0, 0, 0};
    size_t n = strlen(order);
    if (n > 3) {
        error_report("boot order '%s': at most 3 devices", order);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        switch (order[i]) {
        case 'a': code[i] = 1; break;
        case 'c': code[i] = 2; break;
        case 'd': code[i] = 3; break;
        case 'n': code[i] = 4; break;
        default:
            error_report("boot order '%s': '%c' is not one of a, c, d, n",
                         order, order[i]);
            return -EINVAL;
        }
    }
    r->s.cmos[0x3d] = (uint8_t)(code[1] << 4 | code[0]);
    r->s.cmos[0x38] = (uint8_t)(code[2] << 4 | (sig ? 0 : 1));
    return 0;
}

int rtc_cmos_fill(struct rtc *r, const struct rtc_cmos_config *cfg)
{
    int err = cmos_fill_boot_order(r, cfg->boot_order ? cfg->boot_order : "cad",
                                   cfg->floppy_sig_check);
    if (err)
        return err;
    cmos_fill_memory(r, cfg);
    cmos_fill_drives(r, cfg);
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2d; i++)
        sum += r->s.cmos[i];
    r->s.cmos[0x2e] = (uint8_t)(sum >> 8);
    r->s.cmos[0x2f] = (uint8_t)sum;
    return 0;
}
