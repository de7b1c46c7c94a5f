/*
 * th_printf for every board: format into a line (full newlib on the bare-metal boards: %llu and
 * %f work, which newlib-nano's printf does not) and hand it to the HAL's UART (hal_uart_write).
 */
#include <stdarg.h>
#include <stdio.h>

#include "th_api.h"

void hal_uart_write(const char *data, size_t n);

void th_printf(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0) hal_uart_write(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}
