// The emulated board's accelerator: the hls4ml-generated HLS C++ (bit-accurate ap_fixed model,
// the same source Vitis HLS synthesises) called with the raw fixed-point words a DMA would carry.
#include <cmath>

#include "accel.h"
#include "firmware/myproject.h" // from the hls4ml project written by the convert stage

extern "C" void accel_init(void) {}

extern "C" void accel_run(const int32_t *in, int64_t *out) {
    input_t x[ACCEL_N_IN];
    result_t y[ACCEL_N_OUT];
    // Values are exact: |raw| < 2^31 and the binary point is a power of two.
    for (int i = 0; i < ACCEL_N_IN; ++i) x[i] = std::ldexp((double)in[i], -ACCEL_IN_FRAC);
    ACCEL_TOP(x, y);
    for (int i = 0; i < ACCEL_N_OUT; ++i) out[i] = (int64_t)std::ldexp(y[i].to_double(), ACCEL_OUT_FRAC);
}
