/*
 * ic01 on the DUT: one `db` input is a 32 x 32 RGB image, 3072 uint8 bytes in HWC order. The
 * accelerator gets each pixel as the model sees it, pixel / 2^IC_INPUT_SHIFT (8 for the trained
 * ResNet: ufixed<8,0>; 0 for the MLPerf reference: raw pixels), exactly; the rest is the shared
 * classifier firmware (tasks/firmware/classifier.h): the softmax of the 10 logits.
 */
#include <stdint.h>

#include "accel.h"
#include "task_model.h" /* generated: IC_INPUT_SHIFT */

/* pixel / 2^IC_INPUT_SHIFT must be on the input type's grid, and 255 / 2^IC_INPUT_SHIFT inside its range */
#if ACCEL_IN_FRAC < IC_INPUT_SHIFT || ACCEL_IN_WIDTH - ACCEL_IN_FRAC < 8 - IC_INPUT_SHIFT
#error "the accelerator input type cannot hold pixel / 2^IC_INPUT_SHIFT exactly"
#endif

#define TASK_INPUT(pixel) ((int32_t)(pixel) << (ACCEL_IN_FRAC - IC_INPUT_SHIFT))

#include "../../firmware/classifier.h"
