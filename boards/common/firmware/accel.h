/*
 * The accelerator as the firmware sees it: raw fixed-point words in, raw fixed-point words out,
 * as they cross the AXI stream on a board. accel_model.h is generated per model by the toolchain
 * (sizes and binary points of the model's input and output types).
 *   board:    the HAL's AXI/DMA driver implements accel_run;
 *   emulated: toolchains/hls4ml/accel_hls4ml.cpp calls the bit-accurate hls4ml C++ model,
 *             toolchains/finn/accel_finn.c the C generated from the streamlined FINN graph.
 */
#ifndef ACCEL_H
#define ACCEL_H

#include <stdint.h>

#include "accel_model.h" /* ACCEL_N_IN, ACCEL_N_OUT, ACCEL_IN_WIDTH, ACCEL_IN_FRAC, ACCEL_OUT_FRAC */

#ifdef __cplusplus
extern "C" {
#endif

void accel_init(void);
/* One inference: in[i] = round(x_i * 2^ACCEL_IN_FRAC), out[i] = y_i * 2^ACCEL_OUT_FRAC. */
void accel_run(const int32_t *in, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif
