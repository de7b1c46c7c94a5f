/*
 * Pynq-Z2 under PYNQ Linux (the image most Pynq-Z2 owners run): the same protocol core with a
 * Linux HAL.
 *   UART   a tty through termios, raw at EE_BAUD (--uart /dev/ttyPS0: stop the serial getty on it
 *          first), or a new pseudo-terminal (--pty: it prints "serial: <path>", for tests)
 *   timer  CLOCK_MONOTONIC
 *   GPIO   the energy-mode timestamp pin through the GPIO character device (--gpio CHIP:LINE,
 *          e.g. /dev/gpiochip0:12); without it pulses are only logged on stderr
 *   DMA    hal_dma.h for the accelerator drivers (the build for the board): the IP's registers
 *          and a physically contiguous, uncached buffer (--dma PHYS:BYTES, which run_dut.py takes
 *          with pynq.allocate) mapped through /dev/mem; the data movers see memory directly, so
 *          the cache maintenance has nothing to do. Tests under qemu-arm user mode link the
 *          software model instead and need neither.
 * run_dut.py loads the bitstream first.
 *
 *   dut_pynq_linux (--uart DEVICE | --pty) [--gpio CHIP:LINE] [--dma PHYS:BYTES]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ee_core.h"
#include "hal_dma.h"
#include "th_api.h"

static int uart_fd = -1;
static int pin_fd = -1; /* a GPIO line handle, or -1 */
static uint64_t boot_us;

static uint64_t monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t th_time_us(void) { return monotonic_us() - boot_us; }

static void pin(int high) {
    if (pin_fd < 0) {
        if (!high) fprintf(stderr, "gpio: timestamp falling edge at %llu us\n", (unsigned long long)th_time_us());
        return;
    }
    struct gpiohandle_data data = {.values = {(uint8_t)high}};
    ioctl(pin_fd, GPIOHANDLE_SET_LINE_VALUES_IOCTL, &data);
}

void th_timestamp_pin_idle(void) { pin(1); }

void th_timestamp_pulse(void) {
    pin(0);
    struct timespec hold = {0, TIMESTAMP_HOLD_US * 1000L};
    nanosleep(&hold, NULL);
    pin(1);
}

const char *th_vendor_name(void) { return TH_VENDOR_NAME_STRING; }

/* ---- hal_dma.h: /dev/mem ------------------------------------------------------------------- */
#define REG_WINDOW 0x10000u /* the largest AXI-lite aperture our designs give an IP */
static int mem_fd = -1;
static uint8_t *dma_base; /* the --dma buffer, mapped */
static uint32_t dma_phys, dma_bytes, dma_used;

static int open_mem(void) {
    if (mem_fd < 0) mem_fd = open("/dev/mem", O_RDWR | O_SYNC); /* O_SYNC: an uncached mapping */
    if (mem_fd < 0) fprintf(stderr, "dut_pynq_linux: cannot open /dev/mem (run as root): %s\n", strerror(errno));
    return mem_fd;
}

volatile uint32_t *hal_regs(uintptr_t base) {
    static struct { uintptr_t base; volatile uint32_t *map; } maps[8];
    static int n;
    for (int i = 0; i < n; ++i)
        if (maps[i].base == base) return maps[i].map;
    void *m = n < 8 && open_mem() >= 0 ? mmap(NULL, REG_WINDOW, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, (off_t)base)
                                       : MAP_FAILED;
    if (m == MAP_FAILED) {
        fprintf(stderr, "dut_pynq_linux: cannot map the registers at 0x%08lx: %s\n", (unsigned long)base, strerror(errno));
        exit(3);
    }
    maps[n].base = base;
    maps[n].map = m;
    return maps[n++].map;
}

void *hal_dma_buffer(uint32_t len) {
    uint32_t size = HAL_DMA_BYTES(len);
    if (dma_base == NULL || size > dma_bytes - dma_used) return NULL;
    void *p = dma_base + dma_used;
    dma_used += size;
    return p;
}

uint32_t hal_bus_address(const void *p) { return dma_phys + (uint32_t)((const uint8_t *)p - dma_base); }
void hal_dcache_flush(const void *p, uint32_t len) { (void)p, (void)len; }
void hal_dcache_invalidate(void *p, uint32_t len) { (void)p, (void)len; }

static void map_dma(const char *spec) {
    unsigned long phys, bytes;
    if (sscanf(spec, "%lx:%lu", &phys, &bytes) != 2 || phys % 4096 || bytes == 0) {
        fprintf(stderr, "dut_pynq_linux: --dma needs PHYS:BYTES (hex page-aligned address, decimal size), got '%s'\n", spec);
        exit(2);
    }
    void *m = open_mem() >= 0 ? mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, (off_t)phys) : MAP_FAILED;
    if (m == MAP_FAILED) {
        fprintf(stderr, "dut_pynq_linux: cannot map the DMA buffer at 0x%08lx: %s\n", phys, strerror(errno));
        exit(3);
    }
    dma_base = m, dma_phys = (uint32_t)phys, dma_bytes = (uint32_t)bytes;
}

void th_serialport_initialize(void) {} /* opened and configured in main, before the banner */

void hal_uart_write(const char *data, size_t n) { /* th_printf: boards/common/firmware/uart_printf.c */
    for (const char *p = data, *end = data + n; p < end;) {
        ssize_t w = write(uart_fd, p, (size_t)(end - p));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
    }
}

int th_getchar(void) {
    unsigned char c;
    for (;;) {
        ssize_t r = read(uart_fd, &c, 1);
        if (r == 1) return c;
        if (r < 0 && errno == EINTR) continue;
        return -1;
    }
}

static void raw_tty(int fd, speed_t speed, const char *what) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        fprintf(stderr, "dut_pynq_linux: %s is not a terminal: %s\n", what, strerror(errno));
        exit(2);
    }
    cfmakeraw(&t);
    cfsetispeed(&t, speed);
    cfsetospeed(&t, speed);
    tcsetattr(fd, TCSANOW, &t);
}

static speed_t baud_constant(unsigned baud) {
    switch (baud) {
    case 9600: return B9600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 921600: return B921600;
    default: fprintf(stderr, "dut_pynq_linux: no termios speed for %u baud\n", baud); exit(2);
    }
}

static int open_pty(void) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        perror("dut_pynq_linux: cannot open a pseudo-terminal");
        exit(2);
    }
    const char *slave = ptsname(master);
    int keep = open(slave, O_RDWR | O_NOCTTY); /* held open: reads never fail while hosts come and go */
    raw_tty(keep, baud_constant(EE_BAUD), slave);
    printf("serial: %s\n", slave);
    fflush(stdout);
    return master;
}

static int open_gpio(const char *spec) {
    char chip[256];
    unsigned line;
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || colon - spec >= (long)sizeof chip || sscanf(colon + 1, "%u", &line) != 1) {
        fprintf(stderr, "dut_pynq_linux: --gpio needs CHIP:LINE (e.g. /dev/gpiochip0:12), got '%s'\n", spec);
        exit(2);
    }
    memcpy(chip, spec, (size_t)(colon - spec));
    chip[colon - spec] = '\0';
    int fd = open(chip, O_RDONLY);
    struct gpiohandle_request req = {.lineoffsets = {line}, .flags = GPIOHANDLE_REQUEST_OUTPUT,
                                     .default_values = {1}, .lines = 1};
    strcpy(req.consumer_label, "mlperf-tiny timestamp");
    if (fd < 0 || ioctl(fd, GPIO_GET_LINEHANDLE_IOCTL, &req) != 0) {
        fprintf(stderr, "dut_pynq_linux: cannot drive %s line %u: %s\n", chip, line, strerror(errno));
        exit(2);
    }
    close(fd);
    return req.fd;
}

int main(int argc, char **argv) {
    const char *uart = NULL, *gpio = NULL, *dma = NULL;
    int pty = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--pty") == 0) pty = 1;
        else if (strcmp(argv[i], "--uart") == 0 && i + 1 < argc) uart = argv[++i];
        else if (strcmp(argv[i], "--gpio") == 0 && i + 1 < argc) gpio = argv[++i];
        else if (strcmp(argv[i], "--dma") == 0 && i + 1 < argc) dma = argv[++i];
        else {
            fprintf(stderr, "usage: dut_pynq_linux (--uart DEVICE | --pty) [--gpio CHIP:LINE] [--dma PHYS:BYTES]\n");
            return 2;
        }
    }
    if (pty == (uart != NULL)) {
        fprintf(stderr, "dut_pynq_linux: give exactly one of --uart DEVICE and --pty\n");
        return 2;
    }
    boot_us = monotonic_us();
    if (gpio) pin_fd = open_gpio(gpio);
    if (dma) map_dma(dma);
    if (pty) {
        uart_fd = open_pty();
    } else {
        uart_fd = open(uart, O_RDWR | O_NOCTTY);
        if (uart_fd < 0) {
            fprintf(stderr, "dut_pynq_linux: cannot open %s: %s\n", uart, strerror(errno));
            return 2;
        }
        raw_tty(uart_fd, baud_constant(EE_BAUD), uart);
    }
    ee_benchmark_initialize();
    for (int c; (c = th_getchar()) >= 0;) ee_serial_callback((char)c);
    return 0;
}
