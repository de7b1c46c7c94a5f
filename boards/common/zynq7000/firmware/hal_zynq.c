/*
 * Zynq-7000 PS HAL (bare metal, Cortex-A9): registers written here, no Xilinx BSP. Shared by the
 * Zynq boards (board.yaml firmware.folder: common/zynq7000/firmware).
 *   UART   the Cadence PS UART at ZYNQ_UART_BASE (UART0 or UART1: the board's USB-UART), polled
 *   timer  the A9 global timer, a 64-bit counter at GTIMER_HZ (CPU clock / 2 on the board)
 *   GPIO   the energy-mode timestamp pin, a PS GPIO MIO pin of bank 0 (MIO 0..31), idle high
 *   DMA    hal_dma.h for the accelerator drivers: 1:1 addresses, and data-cache maintenance by
 *          address, L1 (CP15) then the PL310 L2 to flush, the other way round to drop
 * Addresses, pins and clocks come from the build (the board's board.yaml, firmware.defines), so the
 * same file builds for every Zynq board with 512 MB of DDR at 0x0 (the MMU map below, zynq.ld) and
 * for QEMU's xilinx-zynq-a9 machine. main() turns the MMU on
 * with a flat map (DDR cacheable, everything else strongly ordered) and the L1 caches with it; the
 * PL310 L2 is left as it is found (off after reset; its maintenance by address is harmless then).
 */
#include <stdint.h>

#include "hal_dma.h"

#include "ee_core.h"
#include "th_api.h"

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* Cadence UART (Zynq TRM, appendix B.33) */
#define UART_CR (ZYNQ_UART_BASE + 0x00)
#define UART_MR (ZYNQ_UART_BASE + 0x04)
#define UART_BAUDGEN (ZYNQ_UART_BASE + 0x18)
#define UART_SR (ZYNQ_UART_BASE + 0x2C)
#define UART_FIFO (ZYNQ_UART_BASE + 0x30)
#define UART_BAUDDIV (ZYNQ_UART_BASE + 0x34)
#define UART_SR_RXEMPTY 0x02u
#define UART_SR_TXFULL 0x10u
#define UART_BDIV 6u

/* A9 global timer (Cortex-A9 MPCore TRM 4.3) */
#define GTIMER_LO (ZYNQ_GTIMER_BASE + 0x00)
#define GTIMER_HI (ZYNQ_GTIMER_BASE + 0x04)
#define GTIMER_CTRL (ZYNQ_GTIMER_BASE + 0x08)

/* PS GPIO bank 0 (MIO 0..31) (Zynq TRM, appendix B.19) */
#define GPIO_DATA0 (ZYNQ_GPIO_BASE + 0x040)
#define GPIO_DIRM0 (ZYNQ_GPIO_BASE + 0x204)
#define GPIO_OEN0 (ZYNQ_GPIO_BASE + 0x208)
#define PIN_MASK (1u << TIMESTAMP_MIO_PIN)
#if TIMESTAMP_MIO_PIN < 0 || TIMESTAMP_MIO_PIN > 31
#error "TIMESTAMP_MIO_PIN: the HAL drives MIO 0..31 (GPIO bank 0)"
#endif

void th_serialport_initialize(void) {
    REG(UART_CR) = 0x03;  /* reset the RX and TX paths */
    REG(UART_MR) = 0x20;  /* 8 data bits, no parity, 1 stop bit */
    REG(UART_BAUDGEN) = UART_REF_HZ / (EE_BAUD * (UART_BDIV + 1));
    REG(UART_BAUDDIV) = UART_BDIV;
    REG(UART_CR) = 0x14;  /* RX and TX enabled (reset value 0x128 has both disabled) */
}

static void uart_putc(char c) {
    while (REG(UART_SR) & UART_SR_TXFULL) {}
    REG(UART_FIFO) = (uint8_t)c;
}

void hal_uart_write(const char *data, size_t n) { /* th_printf: boards/common/firmware/uart_printf.c */
    for (size_t i = 0; i < n; ++i) uart_putc(data[i]);
}

int th_getchar(void) {
    while (REG(UART_SR) & UART_SR_RXEMPTY) {}
    return (int)(REG(UART_FIFO) & 0xFF);
}


static uint64_t ticks(void) {
    uint32_t hi, lo;
    do { /* the high word must not change while the low word is read */
        hi = REG(GTIMER_HI);
        lo = REG(GTIMER_LO);
    } while (REG(GTIMER_HI) != hi);
    return ((uint64_t)hi << 32) | lo;
}

uint64_t th_time_us(void) { /* exact for clocks that are not whole MHz (83.33 MHz), and no overflow */
    uint64_t t = ticks();
    return t / GTIMER_HZ * 1000000u + t % GTIMER_HZ * 1000000u / GTIMER_HZ;
}

static void pin(int high) {
    uint32_t v = REG(GPIO_DATA0);
    REG(GPIO_DATA0) = high ? (v | PIN_MASK) : (v & ~PIN_MASK);
}

void th_timestamp_pin_idle(void) {
    pin(1);
    REG(GPIO_DIRM0) |= PIN_MASK;
    REG(GPIO_OEN0) |= PIN_MASK;
}

void th_timestamp_pulse(void) {
    pin(0);
    uint64_t until = th_time_us() + TIMESTAMP_HOLD_US;
    while (th_time_us() < until) {}
    pin(1);
}

const char *th_vendor_name(void) { return TH_VENDOR_NAME_STRING; }

/* ---- hal_dma.h ------------------------------------------------------------------------------ */
#define CACHE_LINE 32u /* Cortex-A9 L1 and the PL310 */
#define L2_SYNC (ZYNQ_L2CC_BASE + 0x730)
#define L2_INV_PA (ZYNQ_L2CC_BASE + 0x770)
#define L2_CLEAN_PA (ZYNQ_L2CC_BASE + 0x7B0)

volatile uint32_t *hal_regs(uintptr_t base) { return (volatile uint32_t *)base; }

uint32_t hal_bus_address(const void *p) { return (uint32_t)(uintptr_t)p; }

void hal_dcache_flush(const void *p, uint32_t len) {
    uintptr_t a, end = (uintptr_t)p + len;
    for (a = (uintptr_t)p & ~(uintptr_t)(CACHE_LINE - 1); a < end; a += CACHE_LINE)
        __asm__ volatile("mcr p15, 0, %0, c7, c10, 1" ::"r"(a) : "memory"); /* DCCMVAC: clean L1 to the point of coherency */
    __asm__ volatile("dsb" ::: "memory");
    for (a = (uintptr_t)p & ~(uintptr_t)(CACHE_LINE - 1); a < end; a += CACHE_LINE) REG(L2_CLEAN_PA) = (uint32_t)a;
    REG(L2_SYNC) = 0;
}

void hal_dcache_invalidate(void *p, uint32_t len) {
    uintptr_t a, end = (uintptr_t)p + len;
    for (a = (uintptr_t)p & ~(uintptr_t)(CACHE_LINE - 1); a < end; a += CACHE_LINE) REG(L2_INV_PA) = (uint32_t)a;
    REG(L2_SYNC) = 0;
    for (a = (uintptr_t)p & ~(uintptr_t)(CACHE_LINE - 1); a < end; a += CACHE_LINE)
        __asm__ volatile("mcr p15, 0, %0, c7, c6, 1" ::"r"(a) : "memory"); /* DCIMVAC: invalidate L1 */
    __asm__ volatile("dsb" ::: "memory");
}

/* ---- MMU and L1 caches -------------------------------------------------------------------- */
/* One 1 MB section per entry: the 512 MB of DDR normal memory, write-back write-allocate; the rest
 * (OCM, the PL's AXI ports, the PS peripherals) strongly ordered and never executed. */
static uint32_t translation_table[4096] __attribute__((aligned(16384)));
#define SECTION 0x2u
#define AP_FULL (3u << 10)
#define NORMAL_WBWA ((1u << 12) | (1u << 3) | (1u << 2)) /* TEX 001, C, B */
#define EXECUTE_NEVER (1u << 4)
#define DDR_SECTIONS 512u

static void caches_on(void) {
    for (uint32_t i = 0; i < 4096; ++i)
        translation_table[i] = (i << 20) | SECTION | AP_FULL | (i < DDR_SECTIONS ? NORMAL_WBWA : EXECUTE_NEVER);
    /* L1 data cache contents are undefined out of reset: invalidate by set/way (32 KB: 4 ways x 256 sets x 32 bytes) */
    for (uint32_t way = 0; way < 4; ++way)
        for (uint32_t set = 0; set < 256; ++set) __asm__ volatile("mcr p15, 0, %0, c7, c6, 2" ::"r"((way << 30) | (set << 5)));
    __asm__ volatile("mcr p15, 0, %0, c7, c5, 0\n" /* ICIALLU */
                     "mcr p15, 0, %0, c7, c5, 6\n" /* BPIALL */
                     "mcr p15, 0, %0, c8, c7, 0\n" /* TLBIALL */
                     "dsb\n isb" ::"r"(0) : "memory");
    __asm__ volatile("mcr p15, 0, %0, c3, c0, 0" ::"r"(0x55555555u)); /* DACR: every domain client, AP bits checked */
    __asm__ volatile("mcr p15, 0, %0, c2, c0, 2" ::"r"(0u));          /* TTBCR: TTBR0 for all addresses */
    __asm__ volatile("mcr p15, 0, %0, c2, c0, 0\n dsb\n isb" ::"r"((uint32_t)(uintptr_t)translation_table) : "memory");
    uint32_t sctlr;
    __asm__ volatile("mrc p15, 0, %0, c1, c0, 0" : "=r"(sctlr));
    sctlr |= (1u << 0) | (1u << 2) | (1u << 11) | (1u << 12); /* MMU, D-cache, branch prediction, I-cache */
    __asm__ volatile("mcr p15, 0, %0, c1, c0, 0\n isb" ::"r"(sctlr) : "memory");
}

int main(void) {
    caches_on();
    REG(GTIMER_CTRL) = 0x1; /* enable, prescaler 0 */
    ee_benchmark_initialize(); /* UART and timestamp pin set-up, then the boot banner */
    for (;;) ee_serial_callback((char)th_getchar());
}
