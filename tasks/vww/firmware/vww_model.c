/*
 * vww01 on the DUT: one `db` input is a 96 x 96 RGB image, 27 648 uint8 bytes in HWC order. The
 * accelerator gets each pixel p as the model sees it, exactly:
 *   (p - VWW_INPUT_OFFSET) / 2^VWW_INPUT_SHIFT
 * - the trained QKeras MobileNet and the reference Keras MobileNet: p / 256 (shift 8, offset 0; the
 *   reference's own p / 255 is folded into its first convolution, reference.py), ufixed<8,0>;
 * - the trained Brevitas MobileNet: the pixel integer p (shift 0, offset 0);
 * - the int8 reference for FINN: the integer q - zero_point with q = p - 128, the int8 the reference DUT
 *   makes of a pixel (submitter_implemented.cpp); with the model's zero point -128 that is p again.
 * The train stage records which (input.json). The rest is the shared classifier firmware
 * (tasks/firmware/classifier.h): the softmax of the 2 logits.
 */
#include <stdint.h>

#include "accel.h"
#include "task_model.h" /* generated: VWW_INPUT_SHIFT, VWW_INPUT_OFFSET */

#if VWW_INPUT_OFFSET == 0
/* p / 2^shift must be on the input type's grid, and 255 / 2^shift inside its range */
#if ACCEL_IN_FRAC < VWW_INPUT_SHIFT || ACCEL_IN_WIDTH - ACCEL_IN_FRAC < 8 - VWW_INPUT_SHIFT
#error "the accelerator input type cannot hold pixel / 2^VWW_INPUT_SHIFT exactly"
#endif
#else
/* signed integers p - offset: the integer part (sign included) must hold -offset .. 255 - offset */
#define VWW_IN_LIMIT (1L << (ACCEL_IN_WIDTH - ACCEL_IN_FRAC - 1))
#if VWW_INPUT_SHIFT != 0 || -VWW_INPUT_OFFSET < -VWW_IN_LIMIT || 255 - VWW_INPUT_OFFSET > VWW_IN_LIMIT - 1
#error "the accelerator input type cannot hold the integers pixel - VWW_INPUT_OFFSET"
#endif
#endif

#define TASK_INPUT(pixel) (((int32_t)(pixel) - VWW_INPUT_OFFSET) * ((int32_t)1 << (ACCEL_IN_FRAC - VWW_INPUT_SHIFT)))

#include "../../firmware/classifier.h"
