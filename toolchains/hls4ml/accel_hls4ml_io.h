// accel_run for both builds of the hls4ml accelerator model (accel_hls4ml.cpp on the emulated board,
// accel_hls4ml_qemu.cpp in the board's firmware for QEMU): the hls4ml-generated HLS C++
// (bit-accurate ap_fixed model, the same source Vitis HLS synthesises) called with the raw
// fixed-point words a DMA would carry: one array (io_parallel) or a stream of packets of
// input_t::size words (io_stream, CNNs). Included once, after the model's top function is declared.
#ifndef ACCEL_HLS4ML_IO_H
#define ACCEL_HLS4ML_IO_H

#include <cmath>

#include "accel.h"

// Values are exact both ways: |raw| < 2^31 (2^53 out) and the binary point is a power of two.
#if ACCEL_IO_STREAM
extern "C" void accel_run(const int32_t *in, int64_t *out) {
    hls::stream<input_t> x("accel_in");
    hls::stream<result_t> y("accel_out");
    for (int i = 0; i < ACCEL_N_IN; i += input_t::size) {
        input_t packet;
        for (unsigned j = 0; j < input_t::size; ++j) packet[j] = std::ldexp((double)in[i + j], -ACCEL_IN_FRAC);
        x.write(packet);
    }
    ACCEL_TOP(x, y);
    for (int i = 0; i < ACCEL_N_OUT; i += result_t::size) {
        result_t packet = y.read();
        for (unsigned j = 0; j < result_t::size; ++j) out[i + j] = (int64_t)std::ldexp(packet[j].to_double(), ACCEL_OUT_FRAC);
    }
}
#else
extern "C" void accel_run(const int32_t *in, int64_t *out) {
    input_t x[ACCEL_N_IN];
    result_t y[ACCEL_N_OUT];
    for (int i = 0; i < ACCEL_N_IN; ++i) x[i] = std::ldexp((double)in[i], -ACCEL_IN_FRAC);
    ACCEL_TOP(x, y);
    for (int i = 0; i < ACCEL_N_OUT; ++i) out[i] = (int64_t)std::ldexp(y[i].to_double(), ACCEL_OUT_FRAC);
}
#endif

#endif
