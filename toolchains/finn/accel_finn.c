/*
 * The emulated board's accelerator for a FINN model: the C generated from the streamlined graph
 * (finn_model.c, bit-exact with qonnx's execute_onnx). The graph's input is the integers the
 * firmware puts in the words (the model units times 2^ACCEL_IN_FRAC: FINN gets an integer input);
 * its float32 outputs go back at 2^-ACCEL_OUT_FRAC (exact for every output of magnitude >= 2^-9;
 * smaller ones are off by less than 2^-33).
 */
#include <math.h>

#include "accel.h"
#include "finn_model.h"

#if ACCEL_N_IN != FINN_N_IN || ACCEL_N_OUT != FINN_N_OUT
#error "accel_model.h and finn_model.h disagree on the model's sizes"
#endif

void accel_init(void) {}

void accel_run(const int32_t *in, int64_t *out) {
    float x[FINN_N_IN], y[FINN_N_OUT];
    for (int i = 0; i < FINN_N_IN; ++i) x[i] = (float)in[i];
    finn_model(x, y);
    for (int i = 0; i < FINN_N_OUT; ++i) out[i] = llround(ldexp((double)y[i], ACCEL_OUT_FRAC));
}
