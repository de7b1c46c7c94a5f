/*
 * libFuzzer target for the EEMBC protocol core (boards/common/firmware/ee_core.c) with the ad01
 * task code and the stub accelerator behind it, built with AddressSanitizer and
 * UndefinedBehaviorSanitizer. The bytes are fed as if received on the UART.
 *
 * Besides the sanitizers, one protocol property is checked on every input: each '%' received
 * produces exactly one "m-ready\r\n", and every byte sent is inside a "\r\n"-terminated line.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ee_core.h"
#include "th_api.h"

static size_t ready_lines;
static int line_open; /* bytes printed since the last "\r\n" */
static char previous;
static uint64_t fake_us;

void th_serialport_initialize(void) {}
uint64_t th_time_us(void) { return fake_us += 7; }
void th_timestamp_pulse(void) {}
void th_timestamp_pin_idle(void) {}
const char *th_vendor_name(void) { return "fuzz"; }

void th_printf(const char *fmt, ...) {
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof text) abort(); /* a reply longer than any HAL buffer */
    if (strcmp(text, "m-ready\r\n") == 0) ready_lines++;
    for (int i = 0; i < n; ++i) {
        line_open = !(previous == '\r' && text[i] == '\n');
        previous = text[i];
    }
}

int th_getchar(void) { return -1; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int booted;
    if (!booted) {
        ee_benchmark_initialize();
        booted = 1;
    }
    ready_lines = 0;
    size_t terminators = 1;
    ee_serial_callback('%'); /* flush what the previous input left half-sent */
    for (size_t i = 0; i < size; ++i) {
        ee_serial_callback((char)data[i]);
        terminators += data[i] == '%';
    }
    if (ready_lines != terminators || line_open) abort();
    return 0;
}
