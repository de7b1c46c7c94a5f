/*
 * ic01 on the DUT: one `db` input is a 32 x 32 RGB image, 3072 uint8 bytes in HWC order.
 * th_load_tensor gives the accelerator each pixel as the model sees it, pixel / 2^IC_INPUT_SHIFT
 * (8 for the trained ResNet: ufixed<8,0>; 0 for the MLPerf reference: raw pixels), exactly;
 * th_results prints the softmax of the accelerator's 10 logits.
 */
#include <stdint.h>

#include "accel.h"
#include "ee_core.h"
#include "task_model.h" /* generated: TASK_MODEL_ID, TASK_INPUT_BYTES, TASK_CLASSES, IC_INPUT_SHIFT */
#include "th_api.h"

#if ACCEL_N_IN != TASK_INPUT_BYTES || ACCEL_N_OUT != TASK_CLASSES
#error "the ic01 firmware expects one accelerator input per pixel byte and one output per class"
#endif
/* pixel / 2^IC_INPUT_SHIFT must be on the input type's grid, and 255 / 2^IC_INPUT_SHIFT inside its range */
#if ACCEL_IN_FRAC < IC_INPUT_SHIFT || ACCEL_IN_WIDTH - ACCEL_IN_FRAC < 8 - IC_INPUT_SHIFT
#error "the accelerator input type cannot hold pixel / 2^IC_INPUT_SHIFT exactly"
#endif

static int32_t accel_in[ACCEL_N_IN];
static int64_t accel_out[ACCEL_N_OUT];

const char *th_model_id(void) { return TASK_MODEL_ID; }

void th_final_initialize(void) { accel_init(); }

int th_load_tensor(void) {
    static uint8_t pixels[TASK_INPUT_BYTES];
    if (ee_get_input(pixels, sizeof pixels) != 0) return -1;
    for (int i = 0; i < TASK_INPUT_BYTES; ++i) accel_in[i] = (int32_t)pixels[i] << (ACCEL_IN_FRAC - IC_INPUT_SHIFT);
    return 0;
}

void th_pre(void) {}

void th_infer(void) { accel_run(accel_in, accel_out); }

void th_post(void) {}

void th_results(void) { ee_results_softmax(accel_out, TASK_CLASSES, ACCEL_OUT_FRAC); }
