// The hls4ml accelerator model in the board's bare-metal firmware (for its QEMU machine): the same
// hls4ml-generated C++ and the same weights as the emulated board (accel_hls4ml.cpp), built with
// the cross g++ without the compiled libstdc++ (no exceptions, no RTTI; the standard library's
// headers only; boards/firmware.py build_cross).
//
// Weights. hls4ml's myproject.cpp loads them from text files at its first call (nnet_helpers.h
// load_weights_from_txt: std::ifstream, std::string, istringstream), unless __SYNTHESIS__ is
// defined; there is no file system here. So its text files are compiled in instead: the convert
// stage writes accel_weights_qemu.h, which #includes each firmware/weights/<name>.txt (one line of
// comma-separated decimals: the bytes the emulated board reads) as the initialiser of a constant
// double table, and accel_init converts each value into the model's weight array the way
// load_weights_from_txt does (ap_fixed: operator>> reads a double and assigns ap_fixed_base(double);
// ap_int: the value is an integer). hls4ml's weight headers are not used: their initialised
// definitions (its __SYNTHESIS__ branch) construct every ap_fixed weight in a start-up function
// that g++ takes minutes to compile (78 s for the kws01 DS-CNN's 48,000-weight dense layer with
// arm-none-eabi-g++ -O2), where a table of doubles takes a tenth of a second.
//
// myproject.cpp is compiled here, with __SYNTHESIS__ defined for its own text only: every header it
// includes has been read before (as C simulation, include guards), so what the define changes is
// that myproject() skips its text-file loading block (convert.py checks that this block is the only
// __SYNTHESIS__ in the file). Its streams are baremetal/hls_stream.h (see there) and <iostream> is
// baremetal/iostream.
#include <stddef.h>
#include <stdlib.h>

#include "accel.h"
#include "firmware/myproject.h"
#include "firmware/parameters.h" // hls4ml's layers and its weight arrays, declared as for C simulation

#ifdef __SYNTHESIS__
#error "__SYNTHESIS__ must not be defined for the model's headers"
#endif
#define __SYNTHESIS__
#include "firmware/myproject.cpp"
#undef __SYNTHESIS__

// One weight from its text, as load_weights_from_txt would have read it.
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
static void accel_weight_from_text(ap_fixed_base<W, I, S, Q, O, N> &w, double text) {
    w = ap_fixed_base<W, I, S, Q, O, N>(text); // ap_fixed's operator>>: `double d; in >> d; x = ap_fixed_base(d);`
}
template <int W, bool S> static void accel_weight_from_text(ap_int_base<W, S> &w, double text) {
    static_assert(W <= 53, "an integer weight wider than a double's mantissa");
    w = ap_int_base<W, S>((long long)text); // hls4ml writes integer weights as integers ('{:.0f}')
}

template <class T, size_t N> static void accel_weights_from_text(T (&weights)[N], const double (&text)[N]) {
    for (size_t i = 0; i < N; ++i) accel_weight_from_text(weights[i], text[i]);
}

#include "accel_weights_qemu.h" // generated: accel_load_weights(), the text files compiled in

extern "C" void accel_init(void) { accel_load_weights(); }

#include "accel_hls4ml_io.h"

// ap_shift_reg (Xilinx's ap_types, hls4ml's convolution line buffers) has a virtual destructor, so
// its vtable names the deleting destructor, which calls operator delete: nothing here deletes one
// (the line buffers are static), but the link needs the function. These are the C++ standard's
// replaceable global deallocation functions, here onto newlib's free (what libsupc++'s do).
void operator delete(void *p) noexcept { free(p); }
void operator delete(void *p, size_t) noexcept { free(p); }
