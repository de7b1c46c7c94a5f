/*
 * kws01 on the DUT: one `db` input is 49 x 10 int8 MFCCs in the kws01 encoding (scale, zero point:
 * task.yaml input). The accelerator gets the exact integers q - zero_point (the models fold the
 * input scale into their first layer); the rest is the shared classifier firmware
 * (tasks/firmware/classifier.h): the softmax of the 12 logits.
 */
#include <stdint.h>

#include "accel.h"
#include "task_model.h" /* generated from task.yaml: KWS_INPUT_ZERO_POINT */

/* the accelerator input's integer part (sign included) must hold every int8 - zero point */
#define KWS_IN_LIMIT (1L << (ACCEL_IN_WIDTH - ACCEL_IN_FRAC - 1))
#if -128 - KWS_INPUT_ZERO_POINT < -KWS_IN_LIMIT || 127 - KWS_INPUT_ZERO_POINT > KWS_IN_LIMIT - 1
#error "the accelerator input type cannot hold the integers int8 - zero point"
#endif

#define TASK_INPUT(byte) (((int32_t)(int8_t)(byte) - KWS_INPUT_ZERO_POINT) * ((int32_t)1 << ACCEL_IN_FRAC))

#include "../../firmware/classifier.h"
