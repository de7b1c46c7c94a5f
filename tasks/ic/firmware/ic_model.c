/*
 * ic01 on the DUT: one `db` input is a 32 x 32 RGB image, 3072 uint8 bytes in HWC order. The
 * accelerator gets each pixel p as the model sees it, exactly: (p - IC_INPUT_OFFSET) / 2^IC_INPUT_SHIFT
 * - the trained ResNet: p / 256 (shift 8, offset 0), ufixed<8,0>;
 * - the MLPerf Keras reference: raw pixels (shift 0, offset 0);
 * - the int8 reference for FINN: the integer q - zero_point with q = p - 128, the int8 the reference DUT
 *   makes of a pixel; with the model's zero point -128 that is p again (offset 0).
 * The train stage records which (input.json). The rest is the shared classifier firmware
 * (tasks/firmware/classifier.h): the softmax of the 10 logits.
 */
#include <stdint.h>

#include "accel.h"
#include "task_model.h" /* generated: IC_INPUT_SHIFT, IC_INPUT_OFFSET */

#if IC_INPUT_OFFSET == 0
/* pixel / 2^IC_INPUT_SHIFT must be on the input type's grid, and 255 / 2^IC_INPUT_SHIFT inside its range */
#if ACCEL_IN_FRAC < IC_INPUT_SHIFT || ACCEL_IN_WIDTH - ACCEL_IN_FRAC < 8 - IC_INPUT_SHIFT
#error "the accelerator input type cannot hold pixel / 2^IC_INPUT_SHIFT exactly"
#endif
#else
/* signed integers p - offset: the integer part (sign included) must hold -offset .. 255 - offset */
#define IC_IN_LIMIT (1L << (ACCEL_IN_WIDTH - ACCEL_IN_FRAC - 1))
#if IC_INPUT_SHIFT != 0 || -IC_INPUT_OFFSET < -IC_IN_LIMIT || 255 - IC_INPUT_OFFSET > IC_IN_LIMIT - 1
#error "the accelerator input type cannot hold the integers pixel - IC_INPUT_OFFSET"
#endif
#endif

#define TASK_INPUT(pixel) (((int32_t)(pixel) - IC_INPUT_OFFSET) * ((int32_t)1 << (ACCEL_IN_FRAC - IC_INPUT_SHIFT)))

#include "../../firmware/classifier.h"
