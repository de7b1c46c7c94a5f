/*
 * The firmware of every classification task (kws01, ic01, vww01): th_load_tensor maps each byte of
 * the `db` input to one accelerator input word, th_results prints the softmax of the accelerator's
 * logits (ee_results_softmax; the host normalises and takes the argmax; an int8 reference's logits
 * requantized first, TASK_OUTPUT_SCALE); the rest is accelerated_task.h.
 *
 * A task's own file (tasks/<task>/firmware/<task>_model.c) defines only its input mapping,
 *     #define TASK_INPUT(byte)  the accelerator's input word (ACCEL_IN_FRAC fraction bits) for one byte
 * with the compile-time checks that the mapping is exact, and then includes this file.
 */
#ifndef TASKS_CLASSIFIER_H
#define TASKS_CLASSIFIER_H

#include "accelerated_task.h" /* accel_in, accel_out, th_model_id, th_final_initialize, th_infer */

#ifndef TASK_INPUT
#error "define TASK_INPUT(byte), the accelerator input word for one input byte, before including classifier.h"
#endif
#if ACCEL_N_IN != TASK_INPUT_BYTES || ACCEL_N_OUT != TASK_CLASSES
#error "a classifier's firmware expects one accelerator input per input byte and one output per class"
#endif

int th_load_tensor(void) {
    static uint8_t bytes[TASK_INPUT_BYTES];
    if (ee_get_input(bytes, sizeof bytes) != 0) return -1;
    for (int i = 0; i < TASK_INPUT_BYTES; ++i) accel_in[i] = TASK_INPUT(bytes[i]);
    return 0;
}

#ifdef TASK_OUTPUT_SCALE
#include <math.h>
/* An int8 TF Lite reference (task_model.h from tasks/base.py): its graph ends at the float logits; TF
 * Lite's are those requantized, q = round(y / scale) + zero point (half to even, nearbyint, as the
 * harness's own Requantization; clamped to int8). Their softmax is what the interpreter's model gives,
 * classes tied in int8 included, which the host then breaks as it does for the interpreter. */
void th_results(void) {
    static int64_t logits[TASK_CLASSES];
    for (int i = 0; i < TASK_CLASSES; ++i) {
        double q = nearbyint(ldexp((double)accel_out[i], -ACCEL_OUT_FRAC) / (double)TASK_OUTPUT_SCALE) + TASK_OUTPUT_ZERO_POINT;
        q = q < -128 ? -128 : q > 127 ? 127 : q;
        logits[i] = llround(ldexp((q - TASK_OUTPUT_ZERO_POINT) * (double)TASK_OUTPUT_SCALE, ACCEL_OUT_FRAC));
    }
    ee_results_softmax(logits, TASK_CLASSES, ACCEL_OUT_FRAC);
}
#else
void th_results(void) { ee_results_softmax(accel_out, TASK_CLASSES, ACCEL_OUT_FRAC); }
#endif

#endif
