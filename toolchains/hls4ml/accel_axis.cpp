// The hls4ml accelerator as the boards' block designs take it: an AXI-stream top of our own around
// hls4ml's top function (the Vitis backend's project, the very one the convert stage checked with
// hls4ml's C simulation and the emulator), synthesised and exported as IP by Vitis HLS
// (accel_axis.tcl). One 32-bit word per value each way, carrying the value's raw fixed-point bits
// (sign-extended for a signed type), so every value crosses the bus exactly: the static_asserts
// below refuse, at compile time, a type that does not fit its word. The output stream has no
// TLAST: the block design marks every ACCEL_N_OUT-th word (boards/common/vivado/axis_last_after.v).
// accel_axis.h (written by board_project.py) gives the sizes, widths, signedness and top's name.
#include "ap_int.h"
#include "hls_stream.h"

#include "accel_axis.h"
#include "firmware/myproject.h"

typedef ap_uint<32> accel_word_t;

#if ACCEL_IO_STREAM
typedef input_t::value_type accel_in_t; // io_stream: packets (nnet::array) of input_t::size values
typedef result_t::value_type accel_out_t;
#else
typedef input_t accel_in_t; // io_parallel: one array of values each way
typedef result_t accel_out_t;
#endif

static_assert(accel_in_t::width == ACCEL_IN_WIDTH && accel_in_t::width <= 32,
              "the accelerator's input type does not fit a 32-bit word");
static_assert(accel_out_t::width == ACCEL_OUT_WIDTH && accel_out_t::width + (ACCEL_OUT_SIGNED ? 0 : 1) <= 32,
              "the accelerator's output type does not fit a signed 32-bit word");

static accel_in_t from_word(accel_word_t word) {
    accel_in_t value;
    value.range(accel_in_t::width - 1, 0) = word.range(accel_in_t::width - 1, 0);
    return value;
}

static accel_word_t to_word(const accel_out_t &value) {
#if ACCEL_OUT_SIGNED
    ap_int<accel_out_t::width> raw;
#else
    ap_uint<accel_out_t::width> raw;
#endif
    raw.range(accel_out_t::width - 1, 0) = value.range(accel_out_t::width - 1, 0);
    ap_int<32> wide = raw; // sign- or zero-extended
    return (accel_word_t)wide;
}

#if ACCEL_IO_STREAM
static void read_input(hls::stream<accel_word_t> &in, hls::stream<input_t> &x) {
    for (int i = 0; i < ACCEL_N_IN / (int)input_t::size; ++i) {
#pragma HLS PIPELINE II = input_t::size
        input_t packet;
        for (unsigned j = 0; j < input_t::size; ++j) packet[j] = from_word(in.read());
        x.write(packet);
    }
}

static void write_output(hls::stream<result_t> &y, hls::stream<accel_word_t> &out) {
    for (int i = 0; i < ACCEL_N_OUT / (int)result_t::size; ++i) {
#pragma HLS PIPELINE II = result_t::size
        result_t packet = y.read();
        for (unsigned j = 0; j < result_t::size; ++j) out.write(to_word(packet[j]));
    }
}
#else
static void read_input(hls::stream<accel_word_t> &in, input_t x[ACCEL_N_IN]) {
    for (int i = 0; i < ACCEL_N_IN; ++i) {
#pragma HLS PIPELINE II = 1
        x[i] = from_word(in.read());
    }
}

static void write_output(result_t y[ACCEL_N_OUT], hls::stream<accel_word_t> &out) {
    for (int i = 0; i < ACCEL_N_OUT; ++i) {
#pragma HLS PIPELINE II = 1
        out.write(to_word(y[i]));
    }
}
#endif

void accel_axis(hls::stream<accel_word_t> &in, hls::stream<accel_word_t> &out) {
#pragma HLS INTERFACE axis port = in
#pragma HLS INTERFACE axis port = out
#pragma HLS INTERFACE ap_ctrl_none port = return
#pragma HLS DATAFLOW
#if ACCEL_IO_STREAM
    hls::stream<input_t> x("accel_x");
    hls::stream<result_t> y("accel_y");
#else
    input_t x[ACCEL_N_IN];
    result_t y[ACCEL_N_OUT];
#pragma HLS ARRAY_PARTITION variable = x complete
#pragma HLS ARRAY_PARTITION variable = y complete
#endif
    read_input(in, x);
    ACCEL_TOP(x, y);
    write_output(y, out);
}
