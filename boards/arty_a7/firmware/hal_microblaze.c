/*
 * Arty A7-100T HAL (MicroBlaze, bare metal): registers written here, no Xilinx BSP.
 *   UART   AXI UART Lite (the USB-UART; the energy design's is fixed at 9600 baud in hardware)
 *   timer  AXI Timer: a 64-bit up-counter at TIMER_HZ, its two counters cascaded; where cascading
 *          is not available (TIMER_CASCADE 0: QEMU's xps-timer) one 32-bit counter, widened in
 *          software, which needs a read at least once per wrap (51 s at 83 MHz, 69 s at 62 MHz)
 *   GPIO   AXI GPIO channel 1 bit 0, the energy-mode timestamp pin, idle high
 *   DMA    hal_dma.h for the accelerator drivers: 1:1 addresses; data-cache maintenance (wdc)
 *          where the MicroBlaze has a data cache (MB_DCACHE_LINE_BYTES: our design has, as the published one)
 * Addresses and clocks come from the build (boards/arty_a7/board.yaml, firmware.defines), so the
 * same file builds for the board and for QEMU's petalogix-s3adsp1800 machine.
 */
#include <stdint.h>

#include "hal_dma.h"

#include "ee_core.h"
#include "th_api.h"

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* AXI UART Lite (PG142) */
#define UART_RX (MB_UART_BASE + 0x0)
#define UART_TX (MB_UART_BASE + 0x4)
#define UART_STAT (MB_UART_BASE + 0x8)
#define UART_CTRL (MB_UART_BASE + 0xC)
#define UART_RX_VALID 0x01u
#define UART_TX_FULL 0x08u

/* AXI Timer (PG079) */
#define TCSR0 (MB_TIMER_BASE + 0x00)
#define TLR0 (MB_TIMER_BASE + 0x04)
#define TCR0 (MB_TIMER_BASE + 0x08)
#define TCSR1 (MB_TIMER_BASE + 0x10)
#define TLR1 (MB_TIMER_BASE + 0x14)
#define TCR1 (MB_TIMER_BASE + 0x18)
#define TCSR_ARHT 0x010u
#define TCSR_LOAD 0x020u
#define TCSR_ENT 0x080u
#define TCSR_CASC 0x800u

/* AXI GPIO (PG144) */
#define GPIO_DATA (MB_GPIO_BASE + 0x0)
#define GPIO_TRI (MB_GPIO_BASE + 0x4)
#define PIN_MASK 0x1u

void th_serialport_initialize(void) { REG(UART_CTRL) = 0x3; /* empty both FIFOs */ }

static void uart_putc(char c) {
    while (REG(UART_STAT) & UART_TX_FULL) {}
    REG(UART_TX) = (uint8_t)c;
}

void hal_uart_write(const char *data, size_t n) { /* th_printf: boards/common/firmware/uart_printf.c */
    for (size_t i = 0; i < n; ++i) uart_putc(data[i]);
}

int th_getchar(void) {
    while (!(REG(UART_STAT) & UART_RX_VALID)) {}
    return (int)(REG(UART_RX) & 0xFF);
}


static void timer_start(void) {
    REG(TLR0) = 0;
    REG(TCSR0) = TCSR_LOAD;
#if TIMER_CASCADE
    REG(TLR1) = 0;
    REG(TCSR1) = TCSR_LOAD;
    REG(TCSR0) = TCSR_CASC | TCSR_ARHT | TCSR_ENT;
#else
    REG(TCSR0) = TCSR_ARHT | TCSR_ENT;
#endif
}

static uint64_t ticks(void) {
#if TIMER_CASCADE
    uint32_t hi, lo;
    do {
        hi = REG(TCR1);
        lo = REG(TCR0);
    } while (REG(TCR1) != hi);
    return ((uint64_t)hi << 32) | lo;
#else
    static uint32_t last, wraps;
    uint32_t now = REG(TCR0);
    if (now < last) ++wraps;
    last = now;
    return ((uint64_t)wraps << 32) | now;
#endif
}

uint64_t th_time_us(void) { /* exact for clocks that are not whole MHz (83.33 MHz), and no overflow */
    uint64_t t = ticks();
    return t / TIMER_HZ * 1000000u + t % TIMER_HZ * 1000000u / TIMER_HZ;
}

void th_timestamp_pin_idle(void) {
    REG(GPIO_DATA) |= PIN_MASK;
    REG(GPIO_TRI) &= ~PIN_MASK;
}

void th_timestamp_pulse(void) {
    REG(GPIO_DATA) &= ~PIN_MASK;
    uint64_t until = th_time_us() + TIMESTAMP_HOLD_US;
    while (th_time_us() < until) {}
    REG(GPIO_DATA) |= PIN_MASK;
}

const char *th_vendor_name(void) { return TH_VENDOR_NAME_STRING; }

/* ---- hal_dma.h ------------------------------------------------------------------------------ */
volatile uint32_t *hal_regs(uintptr_t base) { return (volatile uint32_t *)base; }

uint32_t hal_bus_address(const void *p) { return (uint32_t)(uintptr_t)p; }

#ifdef MB_DCACHE_LINE_BYTES /* a write-back data cache: wdc.flush writes a line back, wdc.clear drops it */
void hal_dcache_flush(const void *p, uint32_t len) {
    for (uintptr_t a = (uintptr_t)p & ~(uintptr_t)(MB_DCACHE_LINE_BYTES - 1); a < (uintptr_t)p + len; a += MB_DCACHE_LINE_BYTES)
        __asm__ volatile("wdc.flush %0, r0" ::"r"(a) : "memory");
}

void hal_dcache_invalidate(void *p, uint32_t len) {
    for (uintptr_t a = (uintptr_t)p & ~(uintptr_t)(MB_DCACHE_LINE_BYTES - 1); a < (uintptr_t)p + len; a += MB_DCACHE_LINE_BYTES)
        __asm__ volatile("wdc.clear %0, r0" ::"r"(a) : "memory");
}
#else /* no data cache: memory is what the data movers see */
void hal_dcache_flush(const void *p, uint32_t len) { (void)p, (void)len; }
void hal_dcache_invalidate(void *p, uint32_t len) { (void)p, (void)len; }
#endif

/* newlib's libgloss on MicroBlaze reaches the console through these (normally the Xilinx BSP's) */
void outbyte(char c) { uart_putc(c); }
char inbyte(void) { return (char)th_getchar(); }

int main(void) {
    timer_start();
    ee_benchmark_initialize(); /* UART and timestamp pin set-up, then the boot banner */
    for (;;) ee_serial_callback((char)th_getchar());
}
