/*
 * The two interfaces below the EEMBC protocol core (ee_core.c):
 *   - the board HAL (UART, microsecond timer, timestamp GPIO), one implementation per board;
 *   - the task model (input conversion, inference, result printing), one per task, which in turn
 *     drives the accelerator through accel.h.
 * The names follow the EEMBC test-harness API (th_*) so that a reader of the reference can map them;
 * the implementation is ours.
 */
#ifndef TH_API_H
#define TH_API_H

#include <stddef.h>
#include <stdint.h>

/* ---- board HAL ---------------------------------------------------------------------------------- */
void th_serialport_initialize(void);
void th_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Blocking read of one received character. Returns -1 when the link is closed for good. */
int th_getchar(void);
/* Free-running microsecond counter since boot; 64-bit so it never wraps during a run. */
uint64_t th_time_us(void);
/* Energy mode: drive the timestamp pin low for at least the hold time, then release it high. */
void th_timestamp_pulse(void);
void th_timestamp_pin_idle(void);
/* Vendor string reported by `name` (m-name-dut-[<vendor>]). */
const char *th_vendor_name(void);

/* ---- task model --------------------------------------------------------------------------------- */
/* Model id reported by `profile` (m-model-[<id>]), e.g. "ad01". */
const char *th_model_id(void);
void th_final_initialize(void);
/* Convert the bytes received with `db` into the accelerator input. Untimed. Prints an e-[...] line
 * and returns non-zero when the buffer does not hold a valid input. */
int th_load_tensor(void);
void th_pre(void);
void th_infer(void);
void th_post(void);
/* Print m-results-[...] for the last inference. */
void th_results(void);

#endif
