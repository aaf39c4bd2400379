/* Interrupt hardware: the legacy 8259 PICs (remapped out of the way and masked), each CPU's local
 * APIC (xAPIC, its registers mapped through //paging), its timer calibrated against the PIT and
 * ticking periodically, the spurious and error vectors, end of interrupt, the INIT and start-up
 * IPIs that wake the other CPUs, and the IPIs of the lock wake-up and the TLB shootdown. */
#ifndef KERNEL_ARCH_X86_64_APIC_H
#define KERNEL_ARCH_X86_64_APIC_H

#include <stdbool.h>
#include <stdint.h>

#include "paging/mapper.h"

#define APIC_TIMER_VECTOR         0x20
#define APIC_WAKEUP_VECTOR        0xf0 /* wakes a CPU halted on a spinlock; nothing else to do */
#define APIC_TLB_SHOOTDOWN_VECTOR 0xf1 /* flush as another CPU asks (kernel/memory.c) */
#define APIC_ERROR_VECTOR         0xfe
#define APIC_SPURIOUS_VECTOR      0xff
/* The masked PICs can still raise their spurious IRQ 7 and 15: at PIC_VECTOR_BASE + 7 and + 15. */
#define PIC_VECTOR_BASE 0xe0

/* Timer interrupts per second on every CPU. */
#define APIC_TIMER_HZ 100

struct apic_calibration {
    uint64_t apic_ticks_per_second; /* local APIC timer ticks, divide by 16 */
    uint64_t tsc_ticks_per_second;
};

/* Boot CPU: remaps and masks the PICs, maps the local APIC's registers (physical base from the
 * APIC base MSR) through mapper, enables it with its spurious and error vectors, and calibrates
 * its timer and the TSC against PIT channel 0. Returns false, after an ERROR line, when the
 * registers cannot be mapped or the PIT does not count (no timer can be started). Interrupts stay
 * off. */
bool apic_init_boot(struct paging_mapper *mapper);

/* Any other CPU: enables its local APIC (the registers are at the same address on every CPU). */
void apic_init_cpu(void);

/* Starts this CPU's periodic timer at APIC_TIMER_HZ; each tick calls tick() with interrupts off,
 * after the end of interrupt has been sent. */
void apic_timer_start(void (*tick)(void));

struct apic_calibration apic_calibration(void);
uint32_t apic_id(void);
void apic_eoi(void);

/* TSC ticks in the given time, by the calibration. */
uint64_t apic_tsc_ticks_for_us(uint64_t microseconds);

/* Busy-waits for at least the given time, by the calibrated TSC. */
void apic_delay_us(uint64_t microseconds);

/* A fixed interrupt at APIC_WAKEUP_VECTOR to the CPU with that APIC id. */
void apic_send_wakeup(uint32_t target_apic_id);
/* The same with a wait of gap_us between the two writes an IPI takes, for the check that an
 * interrupt arriving between them cannot send it elsewhere (apic_test=icr_gap). */
void apic_send_wakeup_with_gap(uint32_t target_apic_id, uint64_t gap_us);

/* A fixed interrupt at APIC_TLB_SHOOTDOWN_VECTOR to the CPU with that APIC id. */
void apic_send_tlb_shootdown(uint32_t target_apic_id);

/* A wake-up has reached this CPU's local APIC and waits to be taken (interrupts are off). */
bool apic_wakeup_pending(void);

/* An NMI to the CPU with that APIC id (a panic stops the other CPUs so). Unlike the IPIs above it
 * never panics: it returns false when the local APIC has not taken it within
 * APIC_NMI_DELIVERY_TIMEOUT_US, as a panic in progress must not start another. */
bool apic_send_nmi(uint32_t target_apic_id);
#define APIC_NMI_DELIVERY_TIMEOUT_US 10000

/* INIT, then start-up IPI with the page number of the real-mode entry point. */
void apic_send_init(uint32_t target_apic_id);
void apic_send_startup(uint32_t target_apic_id, uint8_t vector_page);

/* How many distinct APIC ids apic_send_init and apic_send_startup have sent an INIT and a start-up
 * IPI to since boot: the CPUs that were reset and let run the start-up code, which the log gives
 * for the tests to check against the CPUs that were meant to be (xAPIC ids, below 256). */
uint32_t apic_init_targets(void);
uint32_t apic_startup_targets(void);

/* How long each of the above waits for the local APIC to take its IPI (the ICR's delivery status
 * to leave "pending"; microseconds on hardware) before it panics with the reason. */
#define APIC_IPI_DELIVERY_TIMEOUT_US 100000

/* From now on every IPI reads as still pending (for the test of that bound: fault=ipi_stuck). */
void apic_hold_ipis_pending_for_test(void);

#endif
