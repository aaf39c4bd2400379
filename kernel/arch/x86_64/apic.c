/* PICs, local APIC, APIC timer (see apic.h). */
#include "kernel/arch/x86_64/apic.h"

#include <stddef.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/interrupts.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/cpu_local.h"
#include "kernel/log.h"
#include "kernel/memory.h"
#include "kernel/panic.h"

/* Local APIC registers (byte offsets). */
#define APIC_REG_ID            0x020
#define APIC_REG_TPR           0x080
#define APIC_REG_EOI           0x0b0
#define APIC_REG_SPURIOUS      0x0f0
#define APIC_REG_ERROR_STATUS  0x280
#define APIC_REG_IRR           0x200 /* eight registers 0x10 apart, 32 vectors each */
#define APIC_REG_ICR_LOW       0x300
#define APIC_REG_ICR_HIGH      0x310
#define APIC_REG_LVT_TIMER     0x320
#define APIC_REG_LVT_LINT0     0x350
#define APIC_REG_LVT_LINT1     0x360
#define APIC_REG_LVT_ERROR     0x370
#define APIC_REG_TIMER_INITIAL 0x380
#define APIC_REG_TIMER_CURRENT 0x390
#define APIC_REG_TIMER_DIVIDE  0x3e0

#define APIC_BASE_MSR_ENABLE    (1u << 11)
#define APIC_SPURIOUS_ENABLE    (1u << 8)
#define APIC_LVT_MASKED         (1u << 16)
#define APIC_TIMER_PERIODIC     (1u << 17)
#define APIC_TIMER_DIVIDE_BY_16 0x3
#define APIC_ICR_NMI            0x00000400u
#define APIC_ICR_INIT           0x00000500u
#define APIC_ICR_STARTUP        0x00000600u
#define APIC_ICR_LEVEL_ASSERT   0x00004000u
#define APIC_ICR_PENDING        (1u << 12)

/* Legacy PICs and PIT. */
#define PIC1_COMMAND 0x20
#define PIC1_DATA    0x21
#define PIC2_COMMAND 0xa0
#define PIC2_DATA    0xa1
#define PIT_CHANNEL0 0x40
#define PIT_COMMAND  0x43
#define PIT_HZ       1193182u
/* Calibration window: long enough that TCG's jitter of a few PIT reads stays under 1%. */
#define CALIBRATION_PIT_TICKS (PIT_HZ / 50) /* 20 ms */
/* How long calibration waits for the PIT to count CALIBRATION_PIT_TICKS, in TSC ticks: a PIT that
 * is absent or stopped never gets there. 2^32 is over 1 s at 3 GHz, 200 times the 20 ms that
 * counting takes with a 1 GHz TSC; the unit is the TSC because no other clock is known yet. */
#define CALIBRATION_TSC_BOUND_LOG2 32u

static struct apic_calibration calibration;
static void (*timer_tick)(void);
/* APIC_ICR_PENDING once apic_hold_ipis_pending_for_test has run: read into every ICR poll. */
static volatile uint32_t held_pending_for_test;

static volatile uint32_t *apic_register(uint32_t offset) {
    return (volatile uint32_t *)(uintptr_t)(APIC_MMIO_VIRT + offset);
}

static uint32_t apic_read(uint32_t offset) {
    return *apic_register(offset);
}

static void apic_write(uint32_t offset, uint32_t value) {
    *apic_register(offset) = value;
}

/* ICW1..ICW4 move the PICs' vectors to PIC_VECTOR_BASE (off the exception vectors, where their
 * power-on defaults sit), then every line is masked: the local APIC delivers what the kernel uses.
 */
static void pic_remap_and_mask(void) {
    cpu_outb(PIC1_COMMAND, 0x11); /* ICW1: initialise, ICW4 follows */
    cpu_outb(PIC2_COMMAND, 0x11);
    cpu_outb(PIC1_DATA, PIC_VECTOR_BASE);
    cpu_outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
    cpu_outb(PIC1_DATA, 0x04); /* ICW3: the secondary PIC on IRQ 2 */
    cpu_outb(PIC2_DATA, 0x02);
    cpu_outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
    cpu_outb(PIC2_DATA, 0x01);
    cpu_outb(PIC1_DATA, 0xff);
    cpu_outb(PIC2_DATA, 0xff);
}

static uint16_t pit_read_channel0(void) {
    cpu_outb(PIT_COMMAND, 0x00); /* latch channel 0 */
    uint8_t low = cpu_inb(PIT_CHANNEL0);
    uint8_t high = cpu_inb(PIT_CHANNEL0);
    return (uint16_t)(low | (high << 8));
}

/* Lets PIT channel 0 count down from 65536 over and over (mode 2; its IRQ is masked) and counts
 * the APIC timer and TSC ticks that pass while it counts CALIBRATION_PIT_TICKS. False, with no
 * calibration, when it has not counted them within the TSC bound. */
static bool calibrate(void) {
    cpu_outb(PIT_COMMAND, 0x34); /* channel 0, low then high byte, mode 2, binary */
    cpu_outb(PIT_CHANNEL0, 0);
    cpu_outb(PIT_CHANNEL0, 0);

    apic_write(APIC_REG_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_16);
    apic_write(APIC_REG_LVT_TIMER, APIC_LVT_MASKED | APIC_TIMER_VECTOR);
    uint16_t previous = pit_read_channel0();
    apic_write(APIC_REG_TIMER_INITIAL, 0xffffffffu);
    uint64_t tsc_start = cpu_rdtsc();
    uint32_t elapsed = 0;
    while (elapsed < CALIBRATION_PIT_TICKS) {
        if (cpu_rdtsc() - tsc_start > (1ull << CALIBRATION_TSC_BOUND_LOG2)) {
            apic_write(APIC_REG_TIMER_INITIAL, 0);
            return false;
        }
        uint16_t now = pit_read_channel0();
        elapsed += (uint16_t)(previous - now); /* counts down, wrapping at 65536 */
        previous = now;
    }
    uint32_t apic_elapsed = 0xffffffffu - apic_read(APIC_REG_TIMER_CURRENT);
    uint64_t tsc_elapsed = cpu_rdtsc() - tsc_start;
    apic_write(APIC_REG_TIMER_INITIAL, 0);

    calibration.apic_ticks_per_second = (uint64_t)apic_elapsed * PIT_HZ / elapsed;
    calibration.tsc_ticks_per_second = tsc_elapsed * PIT_HZ / elapsed;
    return true;
}

static void handle_timer(struct interrupt_frame *frame) {
    (void)frame;
    apic_eoi();
    if (timer_tick != NULL) {
        timer_tick();
    }
}

static void handle_spurious(struct interrupt_frame *frame) {
    (void)frame; /* a spurious interrupt takes no end of interrupt */
}

static void handle_error(struct interrupt_frame *frame) {
    (void)frame;
    apic_write(APIC_REG_ERROR_STATUS, 0); /* the write latches the errors into the register */
    uint32_t status = apic_read(APIC_REG_ERROR_STATUS);
    apic_eoi();
    log_error("apic: error interrupt on APIC %u, error status %x", apic_id(), status);
}

static void handle_wakeup(struct interrupt_frame *frame) {
    (void)frame; /* the wake-up is the point: the halted CPU looks at its lock again */
    __atomic_fetch_add(&cpu_this()->wakeups, 1, __ATOMIC_RELAXED);
    apic_eoi();
}

static void handle_pic_spurious(struct interrupt_frame *frame) {
    (void)frame; /* IRQ 7 or 15 of a masked PIC: nothing happened, nothing to acknowledge */
}

static void enable_local_apic(void) {
    uint64_t base = cpu_read_msr(CPU_MSR_APIC_BASE);
    cpu_write_msr(CPU_MSR_APIC_BASE, base | APIC_BASE_MSR_ENABLE);
    apic_write(APIC_REG_TPR, 0);
    apic_write(APIC_REG_LVT_LINT0, APIC_LVT_MASKED);
    apic_write(APIC_REG_LVT_LINT1, APIC_LVT_MASKED);
    apic_write(APIC_REG_LVT_ERROR, APIC_ERROR_VECTOR);
    apic_write(APIC_REG_ERROR_STATUS, 0);
    apic_write(APIC_REG_ERROR_STATUS, 0);
    apic_write(APIC_REG_SPURIOUS, APIC_SPURIOUS_ENABLE | APIC_SPURIOUS_VECTOR);
}

bool apic_init_boot(struct paging_mapper *mapper) {
    pic_remap_and_mask();
    for (unsigned irq = 0; irq < 16; irq++) {
        interrupts_set_handler((uint8_t)(PIC_VECTOR_BASE + irq), handle_pic_spurious);
    }
    interrupts_set_handler(APIC_TIMER_VECTOR, handle_timer);
    interrupts_set_handler(APIC_ERROR_VECTOR, handle_error);
    interrupts_set_handler(APIC_WAKEUP_VECTOR, handle_wakeup);
    interrupts_set_handler(APIC_SPURIOUS_VECTOR, handle_spurious);

    uint64_t phys = cpu_read_msr(CPU_MSR_APIC_BASE) & ~0xfffull & ((1ull << 52) - 1);
    enum paging_error result = paging_map_page(
        mapper, APIC_MMIO_VIRT, phys,
        memory_data_page_flags() | PAGING_FLAG_CACHE_DISABLE | PAGING_FLAG_WRITE_THROUGH);
    if (result != PAGING_OK) {
        log_error("apic: mapping the local APIC registers at %p to %p: %s", (void *)APIC_MMIO_VIRT,
                  (void *)phys, paging_error_name(result));
        return false;
    }
    enable_local_apic();
    if (!calibrate()) {
        log_error("apic: PIT channel 0 did not count %u ticks within 2^%u TSC ticks; no clock to "
                  "calibrate the timer against",
                  CALIBRATION_PIT_TICKS, CALIBRATION_TSC_BOUND_LOG2);
        return false;
    }
    log_info("apic: PICs remapped to %x and masked; local APIC %u at %p (mapped at %p), timer "
             "%llu Hz (divide 16), TSC %llu kHz, calibrated against the PIT",
             PIC_VECTOR_BASE, apic_id(), (void *)phys, (void *)APIC_MMIO_VIRT,
             (unsigned long long)calibration.apic_ticks_per_second,
             (unsigned long long)(calibration.tsc_ticks_per_second / 1000));
    return true;
}

void apic_init_cpu(void) {
    enable_local_apic();
}

void apic_timer_start(void (*tick)(void)) {
    timer_tick = tick;
    apic_write(APIC_REG_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_16);
    apic_write(APIC_REG_TIMER_INITIAL,
               (uint32_t)(calibration.apic_ticks_per_second / APIC_TIMER_HZ));
    apic_write(APIC_REG_LVT_TIMER, APIC_TIMER_PERIODIC | APIC_TIMER_VECTOR);
}

struct apic_calibration apic_calibration(void) {
    return calibration;
}

uint32_t apic_id(void) {
    return apic_read(APIC_REG_ID) >> 24;
}

void apic_eoi(void) {
    apic_write(APIC_REG_EOI, 0);
}

uint64_t apic_tsc_ticks_for_us(uint64_t microseconds) {
    return calibration.tsc_ticks_per_second / 1000000 * microseconds;
}

void apic_delay_us(uint64_t microseconds) {
    uint64_t start = cpu_rdtsc();
    uint64_t ticks = apic_tsc_ticks_for_us(microseconds);
    while (cpu_rdtsc() - start < ticks) {
        cpu_pause();
    }
}

/* An IPI is two writes, the destination then the command that sends it, and interrupt handlers
 * send IPIs too (a lock released in one wakes a halted waiter): with interrupts on, one arriving
 * between the writes would overwrite the destination and the command would go to its target, an
 * INIT to a running CPU. So interrupts are off from the first write until the IPI has gone.
 * gap_us: a wait between the two writes, for the check of just that (0 for every real use).
 * Then waits until the local APIC has taken the IPI (the ICR may not be written again before):
 * returns whether it did within timeout_us. */
static bool write_icr(uint32_t target_apic_id, uint32_t command, uint64_t gap_us,
                      uint64_t timeout_us) {
    irq_save();
    apic_write(APIC_REG_ICR_HIGH, target_apic_id << 24);
    if (gap_us > 0) {
        apic_delay_us(gap_us);
    }
    apic_write(APIC_REG_ICR_LOW, command);
    uint64_t start = cpu_rdtsc();
    uint64_t bound = apic_tsc_ticks_for_us(timeout_us);
    bool taken = true;
    while ((apic_read(APIC_REG_ICR_LOW) | held_pending_for_test) & APIC_ICR_PENDING) {
        if (cpu_rdtsc() - start >= bound) {
            taken = false;
            break;
        }
        cpu_pause();
    }
    irq_restore();
    return taken;
}

/* An IPI the local APIC never takes cannot send the wake-ups the locks rely on: the kernel stops
 * with the reason rather than spin for ever (or go on sending IPIs the APIC drops). */
static void send_ipi(uint32_t target_apic_id, uint32_t command, uint64_t gap_us) {
    if (!write_icr(target_apic_id, command, gap_us, APIC_IPI_DELIVERY_TIMEOUT_US)) {
        panic("send_ipi: IPI 0x%x to APIC id %u still pending after %u us: the local APIC does "
              "not deliver",
              command, target_apic_id, (unsigned)APIC_IPI_DELIVERY_TIMEOUT_US);
    }
}

void apic_hold_ipis_pending_for_test(void) {
    held_pending_for_test = APIC_ICR_PENDING;
}

void apic_send_wakeup(uint32_t target_apic_id) {
    send_ipi(target_apic_id, APIC_WAKEUP_VECTOR, 0);
}

void apic_send_wakeup_with_gap(uint32_t target_apic_id, uint64_t gap_us) {
    send_ipi(target_apic_id, APIC_WAKEUP_VECTOR, gap_us);
}

void apic_send_tlb_shootdown(uint32_t target_apic_id) {
    send_ipi(target_apic_id, APIC_TLB_SHOOTDOWN_VECTOR, 0);
}

bool apic_wakeup_pending(void) {
    uint32_t irr = apic_read(APIC_REG_IRR + 0x10 * (APIC_WAKEUP_VECTOR / 32));
    return ((irr >> (APIC_WAKEUP_VECTOR % 32)) & 1) != 0;
}

bool apic_send_nmi(uint32_t target_apic_id) {
    return write_icr(target_apic_id, APIC_ICR_NMI | APIC_ICR_LEVEL_ASSERT, 0,
                     APIC_NMI_DELIVERY_TIMEOUT_US);
}

/* The APIC ids sent an INIT and a start-up IPI, one bit each; only the boot CPU sends them, one at
 * a time. */
static uint64_t init_targets[256 / 64];
static uint64_t startup_targets[256 / 64];

static void note_target(uint64_t *targets, uint32_t target_apic_id) {
    if (target_apic_id < 256) {
        targets[target_apic_id / 64] |= UINT64_C(1) << (target_apic_id % 64);
    }
}

static uint32_t count_targets(const uint64_t *targets) {
    uint32_t count = 0;
    for (size_t i = 0; i < 256 / 64; i++) {
        for (uint64_t w = targets[i]; w != 0; w &= w - 1) {
            count++; /* a bit a turn: no popcnt on every CPU this kernel runs on */
        }
    }
    return count;
}

void apic_send_init(uint32_t target_apic_id) {
    note_target(init_targets, target_apic_id);
    send_ipi(target_apic_id, APIC_ICR_INIT | APIC_ICR_LEVEL_ASSERT, 0);
}

void apic_send_startup(uint32_t target_apic_id, uint8_t vector_page) {
    note_target(startup_targets, target_apic_id);
    send_ipi(target_apic_id, APIC_ICR_STARTUP | APIC_ICR_LEVEL_ASSERT | vector_page, 0);
}

uint32_t apic_init_targets(void) {
    return count_targets(init_targets);
}

uint32_t apic_startup_targets(void) {
    return count_targets(startup_targets);
}
