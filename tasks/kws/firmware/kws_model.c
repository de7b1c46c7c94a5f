/*
 * kws01 on the DUT: one `db` input is 49 x 10 int8 MFCCs in the kws01 encoding (scale, zero point:
 * task.yaml input). th_load_tensor feeds the accelerator the exact integers q - zero_point (the
 * models fold the input scale into their first layer); th_results prints the softmax of the
 * accelerator's 12 logits (ee_results_softmax; the host normalises and takes the argmax).
 */
#include <stdint.h>

#include "accel.h"
#include "ee_core.h"
#include "task_model.h" /* generated from task.yaml: TASK_MODEL_ID, TASK_INPUT_BYTES, TASK_CLASSES, KWS_INPUT_ZERO_POINT */
#include "th_api.h"

#if ACCEL_N_IN != TASK_INPUT_BYTES || ACCEL_N_OUT != TASK_CLASSES
#error "the kws01 firmware expects one accelerator input per byte and one output per class"
#endif
/* the accelerator input's integer part (sign included) must hold every int8 - zero point */
#define KWS_IN_LIMIT (1L << (ACCEL_IN_WIDTH - ACCEL_IN_FRAC - 1))
#if -128 - KWS_INPUT_ZERO_POINT < -KWS_IN_LIMIT || 127 - KWS_INPUT_ZERO_POINT > KWS_IN_LIMIT - 1
#error "the accelerator input type cannot hold the integers int8 - zero point"
#endif

static int32_t accel_in[ACCEL_N_IN];
static int64_t accel_out[ACCEL_N_OUT];

const char *th_model_id(void) { return TASK_MODEL_ID; }

void th_final_initialize(void) { accel_init(); }

int th_load_tensor(void) {
    static uint8_t bytes[TASK_INPUT_BYTES];
    if (ee_get_input(bytes, sizeof bytes) != 0) return -1;
    for (int i = 0; i < TASK_INPUT_BYTES; ++i) {
        int32_t q = (int8_t)bytes[i];
        accel_in[i] = (q - KWS_INPUT_ZERO_POINT) * ((int32_t)1 << ACCEL_IN_FRAC);
    }
    return 0;
}

void th_pre(void) {}

void th_infer(void) { accel_run(accel_in, accel_out); }

void th_post(void) {}

void th_results(void) { ee_results_softmax(accel_out, TASK_CLASSES, ACCEL_OUT_FRAC); }
