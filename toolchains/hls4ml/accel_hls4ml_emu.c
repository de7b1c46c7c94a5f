/*
 * The emulated board's accelerator for an hls4ml design: the C generated from hls4ml's ModelGraph
 * (hls4ml_model.c, toolchains/hls4ml/emulator.py), checked bit for bit against hls4ml's C simulation
 * on every test input by the convert stage. The words cross as the firmware gives them: the input
 * type's integers in (value * 2^ACCEL_IN_FRAC), the output type's out (value * 2^ACCEL_OUT_FRAC).
 */
#include "accel.h"
#include "hls4ml_model.h"

#if ACCEL_N_IN != HLS4ML_N_IN || ACCEL_N_OUT != HLS4ML_N_OUT || ACCEL_IN_FRAC != HLS4ML_IN_FRAC || \
    ACCEL_OUT_FRAC != HLS4ML_OUT_FRAC
#error "accel_model.h and hls4ml_model.h disagree on the model's words"
#endif

void accel_init(void) {}

void accel_run(const int32_t *in, int64_t *out) { hls4ml_model_raw(in, out); }
