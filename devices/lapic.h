/* The local APIC (xAPIC mode), one per vCPU: its registers in the 4 KiB page
 * at IA32_APIC_BASE (relocatable, disabled by clearing the MSR's enable bit),
 * interrupt priority (IRR/ISR/TMR, TPR/PPR), the ICR's IPIs over the APIC
 * bus, the LVT inputs LINT0 (the 8259's INTR in ExtINT mode) and LINT1, and
 * the timer (one-shot, periodic, TSC-deadline). It drives its vCPU through
 * struct vcpu_link; everything a snapshot needs is in struct lapic_state. */
#ifndef DEVICES_LAPIC_H
#define DEVICES_LAPIC_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/apic_bus.h"
#include "vm/clock.h"
#include "vm/irq.h"
#include "vm/memory.h"
#include "vm/vcpu_link.h"

#define LAPIC_DEFAULT_BASE 0xFEE00000ULL
#define LAPIC_MMIO_SIZE 0x1000
#define LAPIC_MMIO_PRIORITY 10
/* The timer's input clock ahead of the divider */
#define LAPIC_BUS_HZ 1000000000LL
#define LAPIC_VERSION 0x00050014 /* version 0x14, 6 LVT entries */

#define MSR_IA32_APIC_BASE 0x1B
#define MSR_IA32_TSC_DEADLINE 0x6E0
#define APIC_BASE_BSP (1ULL << 8)
#define APIC_BASE_EXTD (1ULL << 10)
#define APIC_BASE_ENABLE (1ULL << 11)
#define APIC_BASE_ADDR_MASK 0x000FFFFFFFFFF000ULL

/* Register offsets in the APIC page */
enum lapic_reg {
    APIC_REG_ID = 0x20,
    APIC_REG_VERSION = 0x30,
    APIC_REG_TPR = 0x80,
    APIC_REG_APR = 0x90,
    APIC_REG_PPR = 0xA0,
    APIC_REG_EOI = 0xB0,
    APIC_REG_RRD = 0xC0,
    APIC_REG_LDR = 0xD0,
    APIC_REG_DFR = 0xE0,
    APIC_REG_SVR = 0xF0,
    APIC_REG_ISR = 0x100, /* 8 registers, 0x10 apart */
    APIC_REG_TMR = 0x180,
    APIC_REG_IRR = 0x200,
    APIC_REG_ESR = 0x280,
    APIC_REG_ICR_LO = 0x300,
    APIC_REG_ICR_HI = 0x310,
    APIC_REG_LVT = 0x320, /* timer, thermal, perfmon, LINT0, LINT1, error */
    APIC_REG_TIMER_INIT = 0x380,
    APIC_REG_TIMER_CUR = 0x390,
    APIC_REG_TIMER_DIV = 0x3E0,
};

enum lapic_lvt {
    LAPIC_LVT_TIMER,
    LAPIC_LVT_THERMAL,
    LAPIC_LVT_PERF,
    LAPIC_LVT_LINT0,
    LAPIC_LVT_LINT1,
    LAPIC_LVT_ERROR,
    LAPIC_LVT_COUNT,
};

/* LVT / ICR bits */
#define APIC_LVT_DELIVERY_SHIFT 8
#define APIC_LVT_PENDING (1u << 12)
#define APIC_LVT_LOW_ACTIVE (1u << 13)
#define APIC_LVT_REMOTE_IRR (1u << 14)
#define APIC_LVT_LEVEL (1u << 15)
#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_TIMER_SHIFT 17
enum lapic_timer_mode {
    APIC_TIMER_ONESHOT = 0,
    APIC_TIMER_PERIODIC = 1,
    APIC_TIMER_TSC_DEADLINE = 2,
};
#define APIC_ICR_LOGICAL (1u << 11)
#define APIC_ICR_ASSERT (1u << 14)
#define APIC_ICR_LEVEL (1u << 15)
#define APIC_ICR_SHORTHAND_SHIFT 18

#define APIC_SVR_ENABLE (1u << 8)
#define APIC_SVR_FOCUS_OFF (1u << 9)

/* ESR bits */
#define APIC_ESR_SEND_ILLEGAL (1u << 5)
#define APIC_ESR_RECV_ILLEGAL (1u << 6)
#define APIC_ESR_ILLEGAL_REG (1u << 7)

/* Everything that changes while the guest runs: plain data for snapshots */
struct lapic_state {
    uint64_t apic_base; /* IA32_APIC_BASE */
    uint32_t id, tpr, ldr, dfr, svr;
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t esr;         /* what ESR reads: latched by the last ESR write */
    uint32_t esr_pending; /* errors seen since that write */
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[LAPIC_LVT_COUNT];
    uint32_t timer_initial, timer_divide;
    int64_t timer_start;  /* ns when the count was last loaded */
    int64_t timer_next;   /* ns of the next expiry, VCLOCK_NEVER if stopped */
    uint64_t tsc_deadline;
    uint8_t lint_level[2]; /* the LINT0/LINT1 input wires */
    bool extint_msg;       /* an ExtINT message awaits the acknowledge */
};

struct lapic {
    struct lapic_state st;
    struct vcpu_link *link;
    struct apic_bus *bus;
    struct mem_map *mem;
    struct mem_region *mmio;
    struct vclock *clock;
    struct vtimer timer;
    struct irq_line lint[2];
    int (*extint_ack)(void *opaque); /* the 8259's acknowledge */
    void *extint_opaque;
};

/* Wire the local APIC of link's vCPU (APIC ID = link->index, BSP when 0) to
 * the bus, the memory map and the clock, and reset it. 0 or -errno. */
int lapic_init(struct lapic *s, struct vcpu_link *link, struct apic_bus *bus,
               struct mem_map *mem, struct vclock *clock);
void lapic_reset(struct lapic *s); /* power-on / RESET# */
/* Where an ExtINT interrupt's vector comes from (the 8259's acknowledge) */
void lapic_set_extint(struct lapic *s, int (*ack)(void *opaque),
                      void *opaque);
/* The LINT0 (pin 0) and LINT1 (pin 1) inputs */
const struct irq_line *lapic_lint(struct lapic *s, int pin);
/* After s->st was restored from a snapshot */
void lapic_post_load(struct lapic *s);

/* For the APIC bus */
bool lapic_hw_enabled(const struct lapic *s);
bool lapic_match_dest(const struct lapic *s, uint8_t dest, bool logical);
uint8_t lapic_arb_priority(const struct lapic *s);
/* Focus processor for a lowest-priority vector: it has it in IRR or ISR */
bool lapic_is_focus(const struct lapic *s, uint8_t vector);
void lapic_deliver(struct lapic *s, const struct apic_msg *m);

#endif
