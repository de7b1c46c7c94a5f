/*
 * EEMBC "ULPMark for tinyML" test-harness protocol core, shared by every board.
 * Wire format: docs/mlperf-tiny.md section 2 (commands end with '%', replies are
 * "\r\n"-terminated lines, every command ends with "m-ready").
 */
#ifndef EE_CORE_H
#define EE_CORE_H

#include <stddef.h>
#include <stdint.h>

#define EE_FW_VERSION "ULPMark for tinyML Firmware V0.0.1"
#define EE_DEVICE_NAME "dut"
#define EE_CMD_SIZE 80
#define EE_CMD_TERMINATOR '%'
#define EE_CMD_DELIMITER " "
/* ASCII CAN: discards the partial command received so far, silently (no reply). A link that knows a
 * new host has connected sends it (the QEMU link, runner/qemu.py), so that the new host's first
 * command is not appended to what the previous host left half-sent. Not part of the reference. */
#define EE_CMD_CANCEL '\x18'

/* What `profile` reports after the reference's two lines (docs/mlperf-tiny.md 2.3). The MLC runner
 * reads only the lines matching m-(model|profile)-[...] (device_under_test.py) and skips the others;
 * to any runner they are m- messages (2.1) (unverified with the closed-source EEMBC runner):
 *   m-build-[<key>]       EE_BUILD_KEY: the build stage's key of this build (64 hex digits);
 *   m-platform-[<what>]   EE_PLATFORM: what this DUT is, as its build knows it: host-emulation, qemu or board;
 *   m-timing-[<clock>]    modeled (EE_TIMING_MODELED) or clock (the HAL's own timer).
 * The harness's builds set EE_PLATFORM, and EE_BUILD_KEY when the build stage made them
 * (boards/firmware.py); without a define its line is left out. */

#ifndef EE_CFG_ENERGY_MODE
#define EE_CFG_ENERGY_MODE 0
#endif

/* Upper bound of `infer` N and W: 10^7 covers a 30 s window at over 300 000 inferences/s. */
#ifndef EE_MAX_ITERATIONS
#define EE_MAX_ITERATIONS 10000000L
#endif

/* Modeled board timing (timing=modeled): m-lap-us is a clock that only inferences advance, by the
 * modeled time per inference on the board (EE_MODELED_INFER_NS: the accelerator's modeled latency
 * plus the board's firmware overhead per call), so the runner's throughput is the modeled board's. */
#ifndef EE_TIMING_MODELED
#define EE_TIMING_MODELED 0
#endif

/* Size of the `db` input buffer; the build sets it to the task's input size (ad01: one 2560-byte window). */
#ifndef EE_DB_BUFFER_SIZE
#define EE_DB_BUFFER_SIZE 27648
#endif

/* Boot: serial port, timestamp mode banner, model init, then "m-init-done" and "m-ready". */
void ee_benchmark_initialize(void);
/* Feed one received character; runs the command when the terminator arrives. */
void ee_serial_callback(char c);
/* Forget the partial command received so far (a HAL calls it when a new host connects). */
void ee_serial_discard(void);
/* Copy up to `max` of the bytes received by `db` into `dst`; returns how many were copied. */
size_t ee_get_buffer(uint8_t *dst, size_t max);
/* Copy exactly `size` received bytes into `dst` and return 0; when `db` held another number of
 * bytes, print e-[<model> needs <size> input bytes, <n> loaded] and return -1. */
int ee_get_input(uint8_t *dst, size_t size);
/* Print m-results-[p0,...,pn-1]: the softmax of n logits given as fixed-point integers with `frac`
 * fraction bits (a classifier's accelerator returns logits; the softmax is computed here in double). */
void ee_results_softmax(const int64_t *logits, int n, int frac);
/* Timestamp: performance mode prints m-lap-us-<us>, energy mode pulses the timestamp pin. */
void ee_timestamp(void);
/* The DUT's time in µs: the HAL's timer, or with EE_TIMING_MODELED the modeled board's clock. */
uint64_t ee_now_us(void);

#endif
