/*
 * th_printf for bare-metal boards: format into a line (full newlib: %llu and %f work, which
 * newlib-nano's printf does not) and send it character by character through the board HAL's
 * polled UART (hal_uart_putc).
 */
#include <stdarg.h>
#include <stdio.h>

#include "th_api.h"

void hal_uart_putc(char c);

void th_printf(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (int i = 0; i < n && i < (int)sizeof line - 1; ++i) hal_uart_putc(line[i]);
}
