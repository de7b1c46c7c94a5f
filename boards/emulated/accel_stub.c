/*
 * A stand-in accelerator for the emulated board: out = in, word for word (an identity on the
 * input grid). With it the firmware builds in about a second and without a trained model, so the
 * protocol, the task's input conversion and the runner can be tested on their own. Never used for
 * a reported result: the build names it and the pipeline only links it for tests and `make dut
 * accel=stub`.
 */
#include "accel.h"

#if ACCEL_OUT_FRAC != ACCEL_IN_FRAC
#error "the stub accelerator copies words: its input and output must have the same binary point"
#endif

void accel_init(void) {}

void accel_run(const int32_t *in, int64_t *out) {
    for (int i = 0; i < ACCEL_N_OUT; ++i) out[i] = in[i % ACCEL_N_IN];
}
