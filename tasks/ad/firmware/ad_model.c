/*
 * ad01 on the DUT: one `db` window is 5 log-mel frames x 128 bins of float32 LE (2560 bytes).
 * th_load_tensor maps it onto the accelerator's integer input exactly as tasks/ad/input_map.py
 * does (offset on the integer grid, power-of-two scale, round half to even, saturate), th_infer
 * runs the accelerator, th_results prints the anomaly score: the mean squared error between the
 * float input and the de-normalised reconstruction (the reference's score).
 */
#include <math.h>
#include <string.h>

#include "accel.h"
#include "ad_params.h" /* generated: AD_INPUT_OFFSET, AD_INPUT_SCALE_LOG2 */
#include "ee_core.h"
#include "th_api.h"

#define AD_WINDOW_VALUES 640
#define AD_WINDOW_BYTES (AD_WINDOW_VALUES * 4)

#if ACCEL_N_IN != AD_WINDOW_VALUES || ACCEL_N_OUT != AD_WINDOW_VALUES
#error "the ad01 firmware expects a 640-in, 640-out autoencoder"
#endif

static float window[AD_WINDOW_VALUES];
static int32_t accel_in[ACCEL_N_IN];
static int64_t accel_out[ACCEL_N_OUT];

const char *th_model_id(void) { return "ad01"; }

void th_final_initialize(void) { accel_init(); }

static float le_float(const uint8_t *p) {
    uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

int th_load_tensor(void) {
    static uint8_t bytes[AD_WINDOW_BYTES];
    size_t n = ee_get_buffer(bytes, sizeof bytes);
    if (n != AD_WINDOW_BYTES) {
        th_printf("e-[ad01 needs %u input bytes, %u loaded]\r\n", (unsigned)AD_WINDOW_BYTES, (unsigned)n);
        return -1;
    }
    const int shift = ACCEL_IN_FRAC + AD_INPUT_SCALE_LOG2;
    const double offset = ldexp((double)AD_INPUT_OFFSET, shift);
    const double lo = -ldexp(1.0, ACCEL_IN_WIDTH - 1), hi = ldexp(1.0, ACCEL_IN_WIDTH - 1) - 1.0;
    for (int i = 0; i < AD_WINDOW_VALUES; ++i) {
        window[i] = le_float(bytes + 4 * i);
        /* x * 2^shift is exact in double; nearbyint rounds half to even like numpy's rint. */
        double q = nearbyint(ldexp((double)window[i], shift)) - offset;
        accel_in[i] = (int32_t)(q < lo ? lo : q > hi ? hi : q);
    }
    return 0;
}

void th_pre(void) {}

void th_infer(void) { accel_run(accel_in, accel_out); }

void th_post(void) {}

void th_results(void) {
    double sum = 0.0;
    for (int i = 0; i < AD_WINDOW_VALUES; ++i) {
        double y = ldexp((double)accel_out[i], -(ACCEL_OUT_FRAC + AD_INPUT_SCALE_LOG2)) + AD_INPUT_OFFSET;
        double d = y - (double)window[i];
        sum += d * d;
    }
    th_printf("m-results-[%.4f]\r\n", sum / AD_WINDOW_VALUES);
}
