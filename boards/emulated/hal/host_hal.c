/*
 * Host HAL: the emulated board. The "UART" is a pseudo-terminal (default) or a TCP socket on
 * 127.0.0.1, the timer is CLOCK_MONOTONIC, and the timestamp GPIO is a line on stderr. The
 * serial path is printed on stdout as "serial: <path>" so that any EEMBC host tool can connect.
 *
 *   dut_host [--pty [--link PATH]] | [--tcp PORT] [--pace BAUD]
 *
 * --pace BAUD makes the link as slow as a UART at that rate (10 bits per byte, each direction on
 * its own wire): a byte is not read, and written bytes are not sent, before the time the bytes so
 * far would take on the wire. The runner's overhead over the link bound is then measurable.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ee_core.h"
#include "th_api.h"

#ifndef TH_VENDOR_NAME_STRING
#define TH_VENDOR_NAME_STRING "emulated"
#endif

static int link_fd = -1;   /* what we read from and write to */
static int listen_fd = -1; /* TCP mode: accept a new client when one leaves */
static int keep_slave_fd = -1;
static uint64_t boot_us;

static uint64_t monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t th_time_us(void) { return monotonic_us() - boot_us; }

static double pace_us_per_byte; /* 0: not paced */

/* Wait until `bytes` bytes since the direction's first byte would have crossed the wire. A line
 * idle for longer than `slack_us` starts over (the DUT's own processing between two lines of one
 * reply, a few µs, is not idle time). */
static void pace(uint64_t *start_us, uint64_t *bytes, size_t n, uint64_t slack_us) {
    if (pace_us_per_byte <= 0) return;
    uint64_t now = monotonic_us();
    if (*bytes == 0 || now > *start_us + (uint64_t)(*bytes * pace_us_per_byte) + slack_us) { /* idle: start over */
        *start_us = now;
        *bytes = 0;
    }
    *bytes += n;
    uint64_t due = *start_us + (uint64_t)(*bytes * pace_us_per_byte);
    if (due > now + 200) { /* sleep most of the wait; a sleep overshoots by tens of µs ... */
        uint64_t wait = due - now - 200;
        struct timespec ts = {(time_t)(wait / 1000000u), (long)(wait % 1000000u) * 1000L};
        nanosleep(&ts, NULL);
    }
    while (monotonic_us() < due) {} /* ... which a UART does not: spin the rest */
}
static uint64_t tx_start, tx_bytes, rx_start, rx_bytes;

/* The pin is a line on stderr, at the DUT's time (the modeled clock with timing=modeled): what a
 * power monitor's event input sees (runner/monitors/simulated.py reads it). */
void th_timestamp_pulse(void) {
    fprintf(stderr, "gpio: timestamp falling edge at %llu us\n", (unsigned long long)ee_now_us());
    fflush(stderr);
}

void th_timestamp_pin_idle(void) {}

const char *th_vendor_name(void) { return TH_VENDOR_NAME_STRING; }

void th_serialport_initialize(void) {}

static void write_all(const char *p, size_t n) {
    pace(&tx_start, &tx_bytes, n, 50); /* the bytes reach the host when they would have crossed the wire */
    while (n > 0 && link_fd >= 0) {
        ssize_t w = write(link_fd, p, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return; /* peer gone: drop output, like a UART with nobody listening */
        }
        p += w;
        n -= (size_t)w;
    }
}

void hal_uart_write(const char *data, size_t n) { write_all(data, n); } /* th_printf: common/firmware/uart_printf.c */

static int accept_client(void) {
    int fd = accept(listen_fd, NULL, NULL);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* no Nagle delay per reply */
    }
    return fd;
}

int th_getchar(void) {
    static char buf[4096];
    static ssize_t len, pos;
    while (pos >= len) {
        len = read(link_fd, buf, sizeof buf);
        pos = 0;
        if (len > 0) break;
        if (len < 0 && errno == EINTR) continue;
        if (listen_fd < 0) return -1;
        close(link_fd); /* TCP client left: wait for the next one */
        link_fd = accept_client();
        if (link_fd < 0) return -1;
        ee_serial_discard(); /* what the client that left had half-sent is not the new client's command */
        len = 0;
    }
    pace(&rx_start, &rx_bytes, 1, 0);
    return (unsigned char)buf[pos++];
}

static void open_pty(const char *link_path) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        perror("dut_host: cannot open a pseudo-terminal");
        exit(2);
    }
    const char *slave = ptsname(master);
    /* Hold the slave open ourselves: reads on the master then never fail while hosts come and go,
     * and the line discipline can be set to raw before any host opens it. */
    keep_slave_fd = open(slave, O_RDWR | O_NOCTTY);
    struct termios t;
    if (keep_slave_fd < 0 || tcgetattr(keep_slave_fd, &t) != 0) {
        perror("dut_host: cannot configure the pseudo-terminal");
        exit(2);
    }
    cfmakeraw(&t);
    tcsetattr(keep_slave_fd, TCSANOW, &t);
    link_fd = master;
    if (link_path != NULL) {
        unlink(link_path);
        if (symlink(slave, link_path) != 0) {
            perror("dut_host: cannot create the --link symlink");
            exit(2);
        }
        printf("serial: %s\n", link_path);
    } else {
        printf("serial: %s\n", slave);
    }
}

static void open_tcp(int port) {
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listen_fd, 1) != 0 ||
        getsockname(listen_fd, (struct sockaddr *)&addr, &alen) != 0) {
        perror("dut_host: cannot listen on 127.0.0.1");
        exit(2);
    }
    printf("serial: socket://127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    link_fd = accept_client();
    if (link_fd < 0) {
        perror("dut_host: accept");
        exit(2);
    }
}

static void usage(void) {
    fprintf(stderr, "usage: dut_host [--pty [--link PATH]] | [--tcp PORT (0 = any free port)] [--pace BAUD]\n");
    exit(2);
}

/* A TCP port: decimal digits only, 0..65535 (atoi would turn 99999 into 34463 and "abc" into 0). */
static int parse_port(const char *text) {
    char *end;
    errno = 0;
    long port = strtol(text, &end, 10);
    if (*text < '0' || *text > '9' || *end != '\0' || errno != 0 || port > 65535) {
        fprintf(stderr, "dut_host: --tcp needs a port number from 0 to 65535, got '%s'\n", text);
        exit(2);
    }
    return (int)port;
}

int main(int argc, char **argv) {
    const char *link_path = NULL;
    int tcp_port = -1;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--pty") == 0) continue;
        if (strcmp(argv[i], "--link") == 0 && i + 1 < argc) link_path = argv[++i];
        else if (strcmp(argv[i], "--tcp") == 0 && i + 1 < argc) tcp_port = parse_port(argv[++i]);
        else if (strcmp(argv[i], "--pace") == 0 && i + 1 < argc) pace_us_per_byte = 1e7 / atof(argv[++i]);
        else usage();
    }
    signal(SIGPIPE, SIG_IGN);
    boot_us = monotonic_us();
    if (tcp_port >= 0)
        open_tcp(tcp_port);
    else
        open_pty(link_path);
    fflush(stdout);
    ee_benchmark_initialize();
    for (int c; (c = th_getchar()) >= 0;) ee_serial_callback((char)c);
    return 0;
}
