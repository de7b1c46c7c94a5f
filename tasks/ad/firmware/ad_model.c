/*
 * ad01 on the DUT: one `db` window is frames x mel bins of float32 LE (5 x 128 = 2560 bytes for the
 * reference front end). th_load_tensor maps it onto the accelerator's integer input exactly as
 * tasks/ad/input_map.py does (offset on the integer grid, power-of-two scale, round half to even,
 * saturate), th_results prints the anomaly score: the mean squared error between the float input
 * and the de-normalised reconstruction (the reference's score). The rest is the firmware every task
 * shares around its accelerator (tasks/firmware/accelerated_task.h).
 *
 * With AD_INT8 (model=reference: the official int8 autoencoder, tasks/reference_int8.py) the input is
 * quantized as TF Lite's Quantize does it, q = clip(round(x / scale) + zero point) (float32 division,
 * halves away from zero), the accelerator takes q - zero point, and its float output is requantized
 * to the reference's int8 output and dequantized before the squared error.
 */
#include <math.h>
#include <string.h>

#include "../../firmware/accelerated_task.h" /* accel_in, accel_out, th_model_id, th_final_initialize, th_infer */
#include "task_model.h" /* generated from task.yaml and training: TASK_*, AD_INPUT_OFFSET, AD_INPUT_SCALE_LOG2
                           or AD_INT8 with AD_INPUT_/AD_OUTPUT_SCALE and _ZERO_POINT */

#if TASK_INPUT_BYTES != TASK_INPUT_VALUES * 4
#error "an ad01 window is float32: TASK_INPUT_BYTES must be 4 x TASK_INPUT_VALUES"
#endif
#if ACCEL_N_IN != TASK_INPUT_VALUES || ACCEL_N_OUT != TASK_INPUT_VALUES
#error "the ad01 firmware expects an autoencoder with as many outputs as window values"
#endif

static float window[TASK_INPUT_VALUES];

static float le_float(const uint8_t *p) {
    uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#ifdef AD_INT8
static void map_input(void) {
    for (int i = 0; i < TASK_INPUT_VALUES; ++i) {
        float q = roundf(window[i] / AD_INPUT_SCALE) + (float)AD_INPUT_ZERO_POINT;
        q = q < -128.0f ? -128.0f : q > 127.0f ? 127.0f : q;
        accel_in[i] = (int32_t)q - AD_INPUT_ZERO_POINT;
    }
}

static double reconstruction(int i) {
    double q = nearbyint(ldexp((double)accel_out[i], -ACCEL_OUT_FRAC) / (double)AD_OUTPUT_SCALE) + AD_OUTPUT_ZERO_POINT;
    q = q < -128.0 ? -128.0 : q > 127.0 ? 127.0 : q;
    return (q - AD_OUTPUT_ZERO_POINT) * (double)AD_OUTPUT_SCALE;
}
#else
static void map_input(void) {
    const int shift = ACCEL_IN_FRAC + AD_INPUT_SCALE_LOG2;
    const double offset = ldexp((double)AD_INPUT_OFFSET, shift);
    const double lo = -ldexp(1.0, ACCEL_IN_WIDTH - 1), hi = ldexp(1.0, ACCEL_IN_WIDTH - 1) - 1.0;
    for (int i = 0; i < TASK_INPUT_VALUES; ++i) {
        /* x * 2^shift is exact in double; nearbyint rounds half to even like numpy's rint. */
        double q = nearbyint(ldexp((double)window[i], shift)) - offset;
        accel_in[i] = (int32_t)(q < lo ? lo : q > hi ? hi : q);
    }
}

static double reconstruction(int i) {
    return ldexp((double)accel_out[i], -(ACCEL_OUT_FRAC + AD_INPUT_SCALE_LOG2)) + AD_INPUT_OFFSET;
}
#endif

int th_load_tensor(void) {
    static uint8_t bytes[TASK_INPUT_BYTES];
    if (ee_get_input(bytes, sizeof bytes) != 0) return -1;
    for (int i = 0; i < TASK_INPUT_VALUES; ++i) {
        window[i] = le_float(bytes + 4 * i);
        /* NaN or infinity has no integer input (the cast below would be undefined behaviour). */
        if (!isfinite(window[i])) {
            th_printf("e-[%s input value %d is not a finite number]\r\n", TASK_MODEL_ID, i);
            return -1;
        }
    }
    map_input();
    return 0;
}

void th_results(void) {
    double sum = 0.0;
    for (int i = 0; i < TASK_INPUT_VALUES; ++i) {
        double d = reconstruction(i) - (double)window[i];
        sum += d * d;
    }
    th_printf("m-results-[%.4f]\r\n", sum / TASK_INPUT_VALUES);
}
